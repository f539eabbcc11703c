/* Loyalty arithmetic (see loyalty.h). */
#include "core/loyalty.h"

#include <string.h>

static const char *const type_names[] = {
	[LEDGER_CREDIT] = "credit",	    [LEDGER_DEBIT] = "debit",
	[LEDGER_ADJUSTMENT] = "adjustment", [LEDGER_WELCOME] = "welcome",
	[LEDGER_REVERSAL] = "reversal",	    [LEDGER_EXPIRY] = "expiry",
};

const char *ledger_type_name(enum ledger_type t)
{
	return type_names[t];
}

enum loy_err ledger_type_parse(const char *name, int client_only, enum ledger_type *out)
{
	int n = client_only ? LEDGER_ADJUSTMENT + 1
			    : (int)(sizeof(type_names) / sizeof(*type_names));
	for (int i = 0; i < n; i++) {
		if (strcmp(name, type_names[i]) == 0) {
			*out = (enum ledger_type)i;
			return LOY_OK;
		}
	}
	return LOY_EINVALID;
}

enum loy_err ledger_delta(enum ledger_type t, int64_t amount, int64_t *delta)
{
	if (amount > LOYALTY_AMOUNT_MAX || amount < -LOYALTY_AMOUNT_MAX)
		return LOY_EINVALID;
	switch (t) {
	case LEDGER_CREDIT:
	case LEDGER_WELCOME:
		if (amount <= 0)
			return LOY_EINVALID;
		*delta = amount;
		return LOY_OK;
	case LEDGER_DEBIT:
	case LEDGER_EXPIRY:
		if (amount <= 0)
			return LOY_EINVALID;
		*delta = -amount;
		return LOY_OK;
	case LEDGER_ADJUSTMENT:
	case LEDGER_REVERSAL:
		if (amount == 0)
			return LOY_EINVALID;
		*delta = amount;
		return LOY_OK;
	}
	return LOY_EINVALID;
}

enum loy_err ledger_check(int64_t balance, int64_t delta)
{
	if (delta < 0 && balance + delta < 0)
		return LOY_EBALANCE;
	if (delta > 0 && balance > INT64_MAX - delta)
		return LOY_ERULE;
	return LOY_OK;
}

int64_t loyalty_points_for(int64_t paid_kopecks, int64_t points_per_ruble_bp)
{
	/* paid ≤ 1e11 and bp ≤ 1e4: the product stays far below INT64_MAX. */
	return paid_kopecks * points_per_ruble_bp / (LOYALTY_BP_MAX * LOYALTY_KOPECKS_PER_POINT);
}

enum loy_err loyalty_plan_purchase(const struct loyalty_settings *s, int64_t balance,
				   int64_t purchase_kopecks, int64_t redeem,
				   struct purchase_plan *out)
{
	if (purchase_kopecks <= 0 || purchase_kopecks > LOYALTY_PURCHASE_MAX || redeem < 0)
		return LOY_EINVALID;
	if (redeem > 0) {
		if (redeem > balance)
			return LOY_EBALANCE;
		if (redeem < s->minimum_redemption)
			return LOY_ERULE;
		if (redeem > purchase_kopecks / LOYALTY_KOPECKS_PER_POINT)
			return LOY_ERULE;
	}
	out->redeem = redeem;
	out->paid = purchase_kopecks - redeem * LOYALTY_KOPECKS_PER_POINT;
	out->earn = loyalty_points_for(out->paid, s->points_per_ruble_bp);
	return LOY_OK;
}
