/* A customer's cards in the wallets and the links to add them (walletLinks), made in one place
 * for every resource that shows them (see api.h). */
#include <stdio.h>
#include <string.h>

#include "api/api.h"
#include "api/passkit_input.h"
#include "wallet/apple/wallet.h"
#include "wallet/google/gwallet.h"

json_t *api_wallet_links(const struct app *app, const struct wallet_refs *w)
{
	const char *base = app->conf->base_url;
	size_t n = strlen(base);
	json_t *apple = json_null(), *google = json_null();

	while (n > 0 && base[n - 1] == '/')
		n--;
	if (app->apple && w->apple) {
		char url[CONF_STR_MAX + PASSKIT_LINK_MAX + 32];
		snprintf(url, sizeof(url), "%.*s/passes/%s.pkpass", (int)n, base,
			 w->apple->link_token);
		apple = json_string(url);
	}
	if (app->google && w->google) {
		char url[CONF_STR_MAX + PASSKIT_LINK_MAX + 32];
		snprintf(url, sizeof(url), "%.*s/google/save/%s", (int)n, base,
			 w->google->link_token);
		google = json_string(url);
	}
	return json_pack("{s:o,s:o}", "apple", apple, "google", google);
}

enum loy_err api_wallet_refs(struct store_tx *tx, const struct app *app, int64_t customer_id,
			     struct wallet_refs *w)
{
	enum loy_err err = LOY_OK;

	w->apple = NULL;
	w->google = NULL;
	if (app->apple) {
		err = store_apple_pass_get(tx, customer_id, &w->apple_buf);
		if (err == LOY_OK)
			w->apple = &w->apple_buf;
		else if (err != LOY_ENOTFOUND)
			return err;
	}
	if (app->google) {
		err = store_google_object_get(tx, customer_id, &w->google_buf);
		if (err == LOY_OK)
			w->google = &w->google_buf;
		else if (err != LOY_ENOTFOUND)
			return err;
	}
	return LOY_OK;
}

enum loy_err api_wallet_refs_ensure(struct store_tx *tx, const struct app *app, int64_t business_id,
				    int64_t customer_id, struct wallet_refs *w)
{
	const char *ptid = app->apple ? apple_wallet_pass_type_id(app->apple, business_id) : NULL;
	enum loy_err err = LOY_OK;

	w->apple = NULL;
	w->google = NULL;
	if (ptid) {
		err = store_apple_pass_ensure(tx, business_id, customer_id, ptid, &w->apple_buf);
		if (err != LOY_OK)
			return err;
		w->apple = &w->apple_buf;
	}
	const char *issuer = app->google ? gwallet_issuer_id(app->google, business_id) : NULL;
	if (issuer) {
		err = store_google_object_ensure(tx, business_id, customer_id, issuer,
						 &w->google_buf);
		if (err ==
		    LOY_OK) /* inserted at Google at once, before the customer taps the link */
			err = store_google_enqueue_object(tx, business_id, customer_id);
		if (err != LOY_OK)
			return err;
		w->google = &w->google_buf;
	}
	return LOY_OK;
}
