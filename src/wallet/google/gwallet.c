/* Google Wallet at run time (see gwallet.h): opening, the card → class/object inputs, syncing a
 * class or an object with Google, the save link and the callbacks. The outbox handlers are in
 * gjobs.c. */
#include "wallet/google/gwallet.h"

#include <jansson.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "base/log.h"
#include "base/timeutil.h"
#include "crypto/google_callback.h"
#include "crypto/google_sa.h"
#include "net/http_client.h"
#include "wallet/google/gwallet_impl.h"

/* Google's callback root keys change rarely; Google asks to cache them (spec §2.8). */
#define KEYS_TTL_MS (60 * 60 * 1000)
#define KEYS_MAX (256 * 1024)
#define POINTS_LABEL "Баллы"

static bool digits(const char *s)
{
	if (!*s)
		return false;
	for (; *s; s++)
		if (*s < '0' || *s > '9')
			return false;
	return true;
}

/* One cheap call at start: a key Google refuses, or an issuer the service account may not use,
 * is found now and said plainly, instead of in every job later. Google being unreachable is not a
 * set-up error: the jobs wait for it. */
static enum loy_err probe(struct gwallet *g, const char **problem)
{
	static char why[GAPI_MESSAGE_MAX + 200];
	char path[64 + GW_ISSUER_ID_MAX];
	struct gapi_result r;
	char *resp = NULL;
	enum loy_err err;

	snprintf(path, sizeof(path), "/walletobjects/v1/loyaltyClass?issuerId=%s&maxResults=1",
		 g->issuer_id);
	err = gapi_call(g->api, "GET", path, NULL, &r, &resp);
	free(resp);
	if (err != LOY_OK)
		return err;
	if (r.status == GAPI_RETRY)
		log_warn("Google Wallet: Google cannot be reached now (%s); updates wait for it",
			 r.message);
	if (r.status != GAPI_FAILED)
		return LOY_OK;
	snprintf(why, sizeof(why),
		 "Google refused the set-up (HTTP %d: %s): check LOY_GOOGLE_ISSUER_ID and that the "
		 "service account is a user of that issuer in the Google Pay & Wallet Console",
		 r.http_status, r.message);
	*problem = why;
	return LOY_EINVALID;
}

enum loy_err gwallet_open(const struct conf *c, struct store *st, struct gwallet **out,
			  const char **problem)
{
	struct gwallet *g;
	size_t base_len = strlen(c->base_url);
	enum loy_err err;

	*out = NULL;
	*problem = NULL;
	if (!c->google_issuer_id[0])
		return LOY_OK;
	if (!digits(c->google_issuer_id) || strlen(c->google_issuer_id) > GW_ISSUER_ID_MAX) {
		*problem = "LOY_GOOGLE_ISSUER_ID must be the issuer id of the Google Pay & Wallet "
			   "Console: digits only";
		return LOY_EINVALID;
	}
	if (!c->google_key_file[0]) {
		*problem = "LOY_GOOGLE_KEY_FILE is not set: the service account's JSON key file is "
			   "required with LOY_GOOGLE_ISSUER_ID";
		return LOY_EINVALID;
	}
	g = calloc(1, sizeof(*g));
	if (!g)
		return LOY_ENOMEM;
	g->st = st;
	pthread_mutex_init(&g->keys_lock, NULL);
	memcpy(g->issuer_id, c->google_issuer_id, strlen(c->google_issuer_id) + 1); /* checked */
	snprintf(g->keys_url, sizeof(g->keys_url), "%s", c->google_keys_url);
	while (base_len > 0 && c->base_url[base_len - 1] == '/')
		base_len--;
	snprintf(g->base_url, sizeof(g->base_url), "%.*s", (int)base_len, c->base_url);
	err = google_sa_load(c->google_key_file, &g->sa, problem);
	if (err == LOY_OK) {
		struct gapi_config gc = { .api_url = c->google_api_url,
					  .ca_file = c->google_ca_file[0] ? c->google_ca_file
									  : NULL,
					  .rate_per_s = (int)c->google_rate };
		err = gapi_open(&gc, g->sa, &g->api);
		if (err != LOY_OK)
			*problem = "the Google Wallet API client could not be set up (see the log)";
	}
	if (err == LOY_OK) {
		struct http_client_options ho = { .ca_file = c->google_ca_file[0]
								     ? c->google_ca_file
								     : NULL,
						  .max_response = KEYS_MAX };
		err = http_client_open(&ho, &g->keys_client);
	}
	if (err == LOY_OK)
		err = probe(g, problem);
	if (err != LOY_OK) {
		gwallet_close(g);
		return err == LOY_ENOMEM ? err : LOY_EINVALID;
	}
	log_info("Google Wallet: issuer %s, service account %s, API %s", g->issuer_id,
		 google_sa_email(g->sa), c->google_api_url);
	*out = g;
	return LOY_OK;
}

void gwallet_close(struct gwallet *g)
{
	if (!g)
		return;
	gapi_close(g->api);
	google_sa_close(g->sa);
	http_client_close(g->keys_client);
	free(g->keys_json);
	pthread_mutex_destroy(&g->keys_lock);
	free(g);
}

const char *gwallet_issuer_id(const struct gwallet *g)
{
	return g->issuer_id;
}

const char *gwallet_account(const struct gwallet *g)
{
	return google_sa_email(g->sa);
}

/* The part of an id after "<issuer>.". */
static const char *suffix_of(const struct gwallet *g, const char *id)
{
	size_t n = strlen(g->issuer_id);
	return strncmp(id, g->issuer_id, n) == 0 && id[n] == '.' ? id + n + 1 : id;
}

static const char *member(struct arena *a, json_t *obj, const char *key)
{
	const char *s = json_string_value(json_object_get(obj, key));
	return s && *s ? arena_strdup(a, s) : NULL;
}

/* ---- reading a card ---- */

struct read_ctx {
	struct gwallet *g;
	int64_t customer_id, business_id;
	bool with_object;
	struct gcard *card;
};

static enum loy_err read_class(struct store_tx *tx, struct read_ctx *x)
{
	struct gcard *k = x->card;
	struct business b;
	struct card_template t;
	struct location *locs = NULL;
	int nlocs = 0;
	enum loy_err err = store_business_get(tx, x->business_id, &b);

	if (err != LOY_OK)
		return err;
	err = store_template_default(tx, b.id, &t);
	if (err != LOY_OK && err != LOY_ENOTFOUND)
		return err;
	k->template_id = err == LOY_OK ? t.id : 0;
	json_t *content = err == LOY_OK ? json_loads(t.content, 0, NULL) : NULL;
	json_t *design = err == LOY_OK ? json_loads(t.design, 0, NULL) : NULL;
	err = store_location_list(tx, b.id, &locs, &nlocs);
	if (err != LOY_OK) {
		json_decref(content);
		json_decref(design);
		return err;
	}
	for (int i = 0; i < nlocs && i < GW_LOCATIONS_MAX; i++)
		k->locations[i] = (struct gw_location){ locs[i].latitude_e6, locs[i].longitude_e6 };
	k->class_in = (struct gw_class_input){
		.issuer_id = x->g->issuer_id,
		.issuer_name = member(tx->a, content, "organizationName"),
		.program_name = member(tx->a, content, "programName"),
		.logo_uri = arena_printf(tx->a, "%s/wallet/logo/%lld.png", x->g->base_url,
					 (long long)b.id),
		.hex_background = member(tx->a, design, "backgroundColor"),
		.homepage_uri = b.contact_website,
		.phone = b.contact_phone,
		.email = b.contact_email,
		.terms_uri = member(tx->a, content, "termsUrl"),
		.terms_text = member(tx->a, content, "termsText"),
		.locations = k->locations,
		.nlocations = (size_t)(nlocs < GW_LOCATIONS_MAX ? nlocs : GW_LOCATIONS_MAX),
		.callback_url = strncmp(x->g->base_url, "https://", 8) == 0
					? arena_printf(tx->a, "%s/google/callback", x->g->base_url)
					: NULL,
		.country_code = "RU",
	};
	if (!k->class_in.issuer_name)
		k->class_in.issuer_name = b.name;
	if (!k->class_in.program_name)
		k->class_in.program_name = b.name;
	json_decref(content);
	json_decref(design);
	err = store_google_class_ensure(tx, b.id, k->template_id, x->g->issuer_id, &k->cls);
	if (err == LOY_OK)
		k->class_in.class_suffix = suffix_of(x->g, k->cls.class_id);
	return err;
}

static enum loy_err read_tx(struct store_tx *tx, void *arg)
{
	struct read_ctx *x = arg;
	struct gcard *k = x->card;
	struct customer c;
	enum loy_err err;

	if (x->with_object) {
		err = store_google_object_get(tx, x->customer_id, &k->obj);
		if (err == LOY_OK)
			err = store_customer_get(tx, k->obj.business_id, x->customer_id, &c);
		if (err != LOY_OK)
			return err;
		x->business_id = k->obj.business_id;
	}
	err = read_class(tx, x);
	if (err != LOY_OK || !x->with_object)
		return err;
	k->obj_in = (struct gw_object_input){
		.issuer_id = x->g->issuer_id,
		.object_suffix = suffix_of(x->g, k->obj.object_id),
		.class_suffix = k->class_in.class_suffix,
		.account_id = c.card_number,
		.account_name = c.name,
		.balance = c.balance,
		.points_label = POINTS_LABEL,
		.active = strcmp(c.status, "blocked") != 0,
	};
	return LOY_OK;
}

/* Reads a card (with_object) or only a business's class, in a write transaction because it makes
 * the class and object rows on first use. */
enum loy_err gcard_read(struct gwallet *g, struct arena *a, int64_t business_id,
			int64_t customer_id, bool with_object, struct gcard *card)
{
	struct read_ctx x = { .g = g,
			      .customer_id = customer_id,
			      .business_id = business_id,
			      .with_object = with_object,
			      .card = card };
	memset(card, 0, sizeof(*card));
	return store_write(g->st, a, read_tx, &x);
}

/* ---- the save link ---- */

enum loy_err gwallet_save_url(struct gwallet *g, struct arena *a, int64_t customer_id,
			      const char **url, const char **why)
{
	struct gcard card;
	char *jwt = NULL;
	enum loy_err err;

	err = gsync_object(g, a, customer_id, &card, why);
	if (err != LOY_OK)
		return err;
	err = google_sa_save_jwt(g->sa, time_now_ms() / 1000, card.obj.object_id, card.cls.class_id,
				 NULL, 0, &jwt);
	if (err != LOY_OK) {
		*why = "the save link could not be signed";
		return err;
	}
	*url = arena_printf(a, "%s%s", GOOGLE_SA_SAVE_URL_PREFIX, jwt);
	free(jwt);
	return *url ? LOY_OK : LOY_ENOMEM;
}

/* ---- callbacks ---- */

/* Google's root keys, fetched at most once an hour (and again when a signature does not verify
 * with the cached ones, in case Google rotated them). The returned copy is the caller's. */
static enum loy_err root_keys(struct gwallet *g, bool refresh, char **out)
{
	enum loy_err err = LOY_OK;
	int64_t now = time_now_ms();

	pthread_mutex_lock(&g->keys_lock);
	if (refresh || !g->keys_json || now - g->keys_at > KEYS_TTL_MS) {
		struct http_client_request rq = { .method = "GET", .url = g->keys_url };
		struct http_client_response rs = { 0 };
		err = http_client_request(g->keys_client, &rq, &rs);
		if (err == LOY_OK && rs.status == 200) {
			free(g->keys_json);
			g->keys_json = strdup(rs.body.p ? rs.body.p : "");
			g->keys_at = now;
		} else if (err == LOY_OK) {
			log_warn("Google callback keys: %s answered %d", g->keys_url, rs.status);
			err = LOY_EUNAVAILABLE;
		}
		http_client_response_cleanup(&rs);
	}
	*out = g->keys_json ? strdup(g->keys_json) : NULL;
	pthread_mutex_unlock(&g->keys_lock);
	if (!*out && err == LOY_OK)
		err = LOY_ENOMEM;
	return *out ? LOY_OK : err;
}

struct callback_ctx {
	const struct google_callback *cb;
	bool first, known;
};

static enum loy_err callback_tx(struct store_tx *tx, void *arg)
{
	struct callback_ctx *x = arg;
	enum loy_err err = store_google_callback_seen(tx, x->cb->nonce, x->cb->object_id,
						      x->cb->event_type, &x->first);
	if (err != LOY_OK || !x->first)
		return err;
	return store_google_object_saved(tx, x->cb->object_id,
					 strcmp(x->cb->event_type, "save") == 0, &x->known);
}

enum loy_err gwallet_callback(struct gwallet *g, struct arena *a, const char *body, size_t len,
			      const char **why)
{
	struct google_callback cb;
	struct callback_ctx x = { .cb = &cb };
	char *keys = NULL;
	enum loy_err err = root_keys(g, false, &keys);

	if (err != LOY_OK) {
		*why = "Google's callback keys could not be fetched";
		return LOY_EUNAVAILABLE;
	}
	err = google_callback_verify(body, len, keys, g->issuer_id, time_now_ms(), &cb, why);
	free(keys);
	if (err == LOY_EUNAUTH && root_keys(g, true, &keys) == LOY_OK) {
		err = google_callback_verify(body, len, keys, g->issuer_id, time_now_ms(), &cb,
					     why);
		free(keys);
	}
	if (err != LOY_OK)
		return err;
	err = store_write(g->st, a, callback_tx, &x);
	if (err == LOY_OK && x.first)
		log_info("Google Wallet: object %s %s%s", cb.object_id,
			 strcmp(cb.event_type, "save") == 0 ? "saved" : "deleted",
			 x.known ? "" : " (not one of ours)");
	return err;
}
