/* The loyalty rules: how a purchase earns points, how points are redeemed, how each kind of ledger
 * entry changes a balance. Pure integer arithmetic; no I/O.
 *
 * Units: money in kopecks, points whole, the accrual rate in basis points of a point per ruble
 * (500 = 0.05 points per ruble = 5 % back when a point is worth a ruble). One point redeems one
 * ruble (100 kopecks). Earned points round down: a customer is never credited a fraction. */
#ifndef LOY_CORE_LOYALTY_H
#define LOY_CORE_LOYALTY_H

#include <stdint.h>

#include "base/err.h"

#define LOYALTY_KOPECKS_PER_POINT 100
#define LOYALTY_BP_MAX 10000		    /* at most one point per ruble */
#define LOYALTY_AMOUNT_MAX 1000000000LL	    /* largest single ledger amount, points */
#define LOYALTY_PURCHASE_MAX 100000000000LL /* 1 000 000 000 ₽ in kopecks */

struct loyalty_settings {
	int64_t points_per_ruble_bp;
	int64_t minimum_redemption;
	int64_t expiration_days;
	int64_t welcome_bonus;
};

enum ledger_type {
	LEDGER_CREDIT,
	LEDGER_DEBIT,
	LEDGER_ADJUSTMENT,
	LEDGER_WELCOME,
	LEDGER_REVERSAL,
	LEDGER_EXPIRY,
};

const char *ledger_type_name(enum ledger_type t);
/* Parses a type name; only the ones a client may post when client_only is set. */
enum loy_err ledger_type_parse(const char *name, int client_only, enum ledger_type *out);

/* The signed change of a balance for an entry of this type and amount as a client sends it
 * (credit/debit: amount > 0; adjustment: amount != 0, signed). LOY_EINVALID if the amount does not
 * fit the type. */
enum loy_err ledger_delta(enum ledger_type t, int64_t amount, int64_t *delta);

/* Checks that applying delta to balance keeps it at or above zero and within int64:
 * LOY_EBALANCE if it would go negative. */
enum loy_err ledger_check(int64_t balance, int64_t delta);

struct purchase_plan {
	int64_t redeem; /* points debited */
	int64_t paid;	/* kopecks still to pay after the redemption */
	int64_t earn;	/* points credited on what is paid */
};

/* Plans a purchase of purchase_kopecks with a request to redeem `redeem` points against balance:
 * LOY_EBALANCE if redeem exceeds the balance, LOY_ERULE if it is below the minimum redemption or
 * worth more than the purchase, LOY_EINVALID for out-of-range inputs. */
enum loy_err loyalty_plan_purchase(const struct loyalty_settings *s, int64_t balance,
				   int64_t purchase_kopecks, int64_t redeem,
				   struct purchase_plan *out);

/* Points earned on paid_kopecks at the given rate, rounded down. */
int64_t loyalty_points_for(int64_t paid_kopecks, int64_t points_per_ruble_bp);

#endif
