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
#include "wallet/business_dirs.h"
#include "wallet/google/gid.h"
#include "wallet/google/gwallet_impl.h"

/* Google's callback root keys change rarely; Google asks to cache them (spec §2.8). */
#define KEYS_TTL_MS (60 * 60 * 1000)
#define KEYS_MAX (256 * 1024)
#define POINTS_LABEL "Баллы"

/* The first line of a small file ("" when missing). */
static void read_line(const char *path, char *out, size_t cap)
{
	FILE *f = fopen(path, "r");

	out[0] = '\0';
	if (!f)
		return;
	if (!fgets(out, (int)cap, f))
		out[0] = '\0';
	fclose(f);
	out[strcspn(out, "\r\n ")] = '\0';
}

struct businesses_ctx {
	struct gwallet *g;
	const struct gapi_config *api;
	const char **problem;
};

/* LOY_GOOGLE_DIR/<slug>/: issuer_id (the issuer's number) and key.json (its service account). */
static enum loy_err open_business(const char *dir, const char *slug, int64_t business_id, void *arg)
{
	struct businesses_ctx *x = arg;
	struct gwallet *g = x->g;
	char issuer[64], path[CONF_STR_MAX + 320], key[CONF_STR_MAX + 320];
	struct gid *id, **grown;
	enum loy_err err;

	(void)slug;
	snprintf(path, sizeof(path), "%s/issuer_id", dir);
	read_line(path, issuer, sizeof(issuer));
	snprintf(key, sizeof(key), "%s/key.json", dir);
	err = gid_open(issuer, key, x->api, dir, &id, x->problem);
	if (err != LOY_OK)
		return err;
	id->business_id = business_id;
	grown = realloc(g->own, sizeof(*grown) * (g->nown + 1));
	if (!grown) {
		gid_close(id);
		return LOY_ENOMEM;
	}
	g->own = grown;
	g->own[g->nown++] = id;
	return LOY_OK;
}

static enum loy_err open_businesses(struct gwallet *g, const struct conf *c,
				    const struct gapi_config *api, const char **problem)
{
	static char why[CONF_STR_MAX + 400]; /* kept for the process: the admin's status shows it */
	struct businesses_ctx x = { .g = g, .api = api, .problem = problem };
	enum loy_err err =
		business_dirs_each(g->st, c->google_dir, open_business, &x, why, sizeof(why));
	if (err == LOY_EINVALID && !*problem)
		*problem = why;
	return err;
}

enum loy_err gwallet_open(const struct conf *c, struct store *st, struct gwallet **out,
			  const char **problem)
{
	struct gwallet *g;
	size_t base_len = strlen(c->base_url);
	struct gapi_config api = { .api_url = c->google_api_url,
				   .ca_file = c->google_ca_file[0] ? c->google_ca_file : NULL,
				   .rate_per_s = (int)c->google_rate };
	enum loy_err err = LOY_OK;

	*out = NULL;
	*problem = NULL;
	if (!c->google_issuer_id[0] && !c->google_dir[0])
		return LOY_OK;
	g = calloc(1, sizeof(*g));
	if (!g)
		return LOY_ENOMEM;
	g->st = st;
	pthread_mutex_init(&g->keys_lock, NULL);
	snprintf(g->keys_url, sizeof(g->keys_url), "%s", c->google_keys_url);
	while (base_len > 0 && c->base_url[base_len - 1] == '/')
		base_len--;
	snprintf(g->base_url, sizeof(g->base_url), "%.*s", (int)base_len, c->base_url);
	if (c->google_issuer_id[0])
		err = gid_open(c->google_issuer_id, c->google_key_file, &api,
			       "LOY_GOOGLE_ISSUER_ID", &g->def, problem);
	if (err == LOY_OK && c->google_dir[0])
		err = open_businesses(g, c, &api, problem);
	if (err == LOY_OK) {
		struct http_client_options ho = { .ca_file = api.ca_file,
						  .max_response = KEYS_MAX };
		err = http_client_open(&ho, &g->keys_client);
	}
	if (err != LOY_OK) {
		gwallet_close(g);
		return err == LOY_ENOMEM ? err : LOY_EINVALID;
	}
	*out = g;
	return LOY_OK;
}

void gwallet_close(struct gwallet *g)
{
	if (!g)
		return;
	gid_close(g->def);
	for (size_t i = 0; i < g->nown; i++)
		gid_close(g->own[i]);
	free(g->own);
	http_client_close(g->keys_client);
	free(g->keys_json);
	pthread_mutex_destroy(&g->keys_lock);
	free(g);
}

struct gid *gwallet_id(const struct gwallet *g, int64_t business_id)
{
	for (size_t i = 0; i < g->nown; i++)
		if (g->own[i]->business_id == business_id)
			return g->own[i];
	return g->def;
}

const char *gwallet_issuer_id(const struct gwallet *g, int64_t business_id)
{
	const struct gid *id = gwallet_id(g, business_id);
	return id ? id->issuer_id : NULL;
}

const char *gwallet_account(const struct gwallet *g, int64_t business_id)
{
	const struct gid *id = gwallet_id(g, business_id);
	return id ? google_sa_email(id->sa) : NULL;
}

/* The part of an id after "<issuer>.". */
static const char *suffix_of(const struct gid *id, const char *full)
{
	size_t n = strlen(id->issuer_id);
	return strncmp(full, id->issuer_id, n) == 0 && full[n] == '.' ? full + n + 1 : full;
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
		.issuer_id = k->id->issuer_id,
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
	err = store_google_class_ensure(tx, b.id, k->template_id, k->id->issuer_id, &k->cls);
	if (err == LOY_OK)
		k->class_in.class_suffix = suffix_of(k->id, k->cls.class_id);
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
	k->id = gwallet_id(x->g, x->business_id);
	if (!k->id)
		return LOY_ENOTFOUND; /* the business has no issuer (any more) */
	err = read_class(tx, x);
	if (err != LOY_OK || !x->with_object)
		return err;
	k->obj_in = (struct gw_object_input){
		.issuer_id = k->id->issuer_id,
		.object_suffix = suffix_of(k->id, k->obj.object_id),
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
	err = google_sa_save_jwt(card.id->sa, time_now_ms() / 1000, card.obj.object_id,
				 card.cls.class_id, NULL, 0, &jwt);
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

/* The callback is signed for one issuer (the recipient id): each of ours is tried. */
static enum loy_err verify_any(struct gwallet *g, const char *body, size_t len, const char *keys,
			       struct google_callback *cb, const char **why)
{
	enum loy_err err = LOY_EUNAUTH;

	if (g->def)
		err = google_callback_verify(body, len, keys, g->def->issuer_id, time_now_ms(), cb,
					     why);
	for (size_t i = 0; i < g->nown && err == LOY_EUNAUTH; i++)
		err = google_callback_verify(body, len, keys, g->own[i]->issuer_id, time_now_ms(),
					     cb, why);
	return err;
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
	err = verify_any(g, body, len, keys, &cb, why);
	free(keys);
	if (err == LOY_EUNAUTH && root_keys(g, true, &keys) == LOY_OK) {
		err = verify_any(g, body, len, keys, &cb, why);
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
