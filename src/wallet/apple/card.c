/* A customer's pass read from the store (see card.h). */
#include "wallet/apple/card.h"

#include <jansson.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "base/log.h"
#include "base/timeutil.h"

/* Templates whose images are kept decoded; a business has a handful, an install a few hundred. */
#define CACHE_ENTRIES 256

#define DEFAULT_BACKGROUND "#1f2937"
#define DEFAULT_FOREGROUND "#ffffff"
#define DEFAULT_LABEL "#cbd5e1"

struct card_images {
	int64_t business_id, template_id, updated_at;
	char colors[3][8];
	struct pass_images im;
	unsigned char *uploaded; /* one block holding every uploaded image's bytes */
	int refs;		 /* the cache's own reference included while it is listed */
	int64_t used_at;
};

struct card_cache {
	pthread_mutex_t mu;
	struct card_images *e[CACHE_ENTRIES];
};

enum loy_err card_cache_new(struct card_cache **out)
{
	struct card_cache *cc = calloc(1, sizeof(*cc));
	if (!cc)
		return LOY_ENOMEM;
	pthread_mutex_init(&cc->mu, NULL);
	*out = cc;
	return LOY_OK;
}

static void images_free(struct card_images *ci)
{
	pass_png_release(&ci->im);
	free(ci->uploaded);
	free(ci);
}

/* Drops one reference; the caller holds cc->mu. */
static void images_unref(struct card_images *ci)
{
	if (--ci->refs == 0)
		images_free(ci);
}

void card_cache_free(struct card_cache *cc)
{
	if (!cc)
		return;
	for (int i = 0; i < CACHE_ENTRIES; i++)
		if (cc->e[i])
			images_unref(cc->e[i]);
	pthread_mutex_destroy(&cc->mu);
	free(cc);
}

static bool same_key(const struct card_images *ci, int64_t business_id,
		     const struct card_template *t, const char *const colors[3])
{
	if (ci->business_id != business_id || ci->template_id != (t ? t->id : 0) ||
	    ci->updated_at != (t ? t->updated_at : 0))
		return false;
	for (int i = 0; i < 3; i++)
		if (strcmp(ci->colors[i], colors[i]) != 0)
			return false;
	return true;
}

static struct card_images *cache_find(struct card_cache *cc, int64_t business_id,
				      const struct card_template *t, const char *const colors[3])
{
	struct card_images *found = NULL;

	pthread_mutex_lock(&cc->mu);
	for (int i = 0; i < CACHE_ENTRIES && !found; i++)
		if (cc->e[i] && same_key(cc->e[i], business_id, t, colors)) {
			found = cc->e[i];
			found->refs++;
			found->used_at = time_now_ms();
		}
	pthread_mutex_unlock(&cc->mu);
	return found;
}

/* Lists ci (taking a reference for the cache) in place of the least recently used entry, or of an
 * older version of the same template. */
static void cache_add(struct card_cache *cc, struct card_images *ci)
{
	int slot = 0;

	pthread_mutex_lock(&cc->mu);
	for (int i = 0; i < CACHE_ENTRIES; i++) {
		struct card_images *e = cc->e[i];
		if (!e ||
		    (e->business_id == ci->business_id && e->template_id == ci->template_id)) {
			slot = i;
			break;
		}
		if (e->used_at < cc->e[slot]->used_at)
			slot = i;
	}
	if (cc->e[slot])
		images_unref(cc->e[slot]);
	ci->refs++;
	cc->e[slot] = ci;
	pthread_mutex_unlock(&cc->mu);
}

static enum pass_png_slot slot_named(const char *name)
{
	for (int s = 0; s < PASS_PNG_SLOTS; s++) {
		const char *file = pass_png_spec((enum pass_png_slot)s)->file;
		size_t n = strlen(file) - 4; /* ".png" */
		if (strlen(name) == n && memcmp(file, name, n) == 0)
			return (enum pass_png_slot)s;
	}
	return PASS_PNG_SLOTS;
}

/* Builds a cache entry from the template's uploaded images (read in tx) and the default images
 * for the kinds it has none of. */
static enum loy_err images_load(struct store_tx *tx, int64_t business_id,
				const struct card_template *t, const char *const colors[3],
				struct card_images **out)
{
	struct template_image *rows = NULL;
	int n = 0;
	size_t total = 0, at = 0;
	struct pass_rgb rgb[3];
	enum loy_err err = LOY_OK;
	struct card_images *ci;

	if (t) {
		err = store_template_images(tx, business_id, t->id, &rows, &n);
		if (err != LOY_OK)
			return err;
	}
	ci = calloc(1, sizeof(*ci));
	if (!ci)
		return LOY_ENOMEM;
	ci->business_id = business_id;
	ci->template_id = t ? t->id : 0;
	ci->updated_at = t ? t->updated_at : 0;
	ci->refs = 1;
	ci->used_at = time_now_ms();
	for (int i = 0; i < 3; i++) {
		snprintf(ci->colors[i], sizeof(ci->colors[i]), "%s", colors[i]);
		pass_color_parse(colors[i], &rgb[i]);
	}
	for (int i = 0; i < n; i++)
		total += rows[i].len;
	ci->uploaded = malloc(total ? total : 1);
	if (!ci->uploaded) {
		free(ci);
		return LOY_ENOMEM;
	}
	for (int i = 0; i < n; i++) {
		enum pass_png_slot s = slot_named(rows[i].name);
		if (s == PASS_PNG_SLOTS)
			continue; /* a name this release does not use */
		memcpy(ci->uploaded + at, rows[i].png, rows[i].len);
		ci->im.png[s].data = ci->uploaded + at;
		ci->im.png[s].len = rows[i].len;
		at += rows[i].len;
	}
	pass_png_digest(&ci->im);
	err = pass_png_defaults(&ci->im, rgb[0], rgb[1], rgb[2]);
	if (err != LOY_OK) {
		images_free(ci);
		return err;
	}
	*out = ci;
	return LOY_OK;
}

/* A string member of a template's JSON object, copied to the arena; NULL when absent or empty. */
static const char *member(struct arena *a, json_t *obj, const char *key)
{
	const char *s = json_string_value(json_object_get(obj, key));
	return s && *s ? arena_strdup(a, s) : NULL;
}

static bool flag(json_t *obj, const char *key, bool def)
{
	json_t *v = json_object_get(obj, key);
	return json_is_boolean(v) ? json_is_true(v) : def;
}

static const char *color_or(struct arena *a, json_t *design, const char *key, const char *def)
{
	const char *c = member(a, design, key);
	struct pass_rgb rgb;
	return c && pass_color_parse(c, &rgb) ? c : def;
}

struct read_ctx {
	const struct card_source *src;
	int64_t customer_id;
	struct apple_card *card;
};

/* The template's texts, colours and settings; a business without a template gets a plain card in
 * its own name. */
static void apply_template(struct arena *a, const struct card_template *t, const struct business *b,
			   struct pass_input *in)
{
	json_t *design = t ? json_loads(t->design, 0, NULL) : NULL;
	json_t *content = t ? json_loads(t->content, 0, NULL) : NULL;
	json_t *settings = t ? json_loads(t->settings, 0, NULL) : NULL;
	const char *program = member(a, content, "programName");

	in->organization = member(a, content, "organizationName");
	if (!in->organization)
		in->organization = b->name;
	in->description = member(a, content, "description");
	if (!in->description)
		in->description = arena_printf(a, "Карта лояльности %s",
					       program ? program : in->organization);
	in->logo_text = member(a, content, "logoText");
	if (!in->logo_text)
		in->logo_text = in->organization;
	in->terms_url = member(a, content, "termsUrl");
	in->terms_text = member(a, content, "termsText");
	in->background_color = color_or(a, design, "backgroundColor", DEFAULT_BACKGROUND);
	in->foreground_color = color_or(a, design, "foregroundColor", DEFAULT_FOREGROUND);
	in->label_color = color_or(a, design, "labelColor", DEFAULT_LABEL);
	in->hide_balance = !flag(settings, "showBalance", true);
	in->hide_barcode = !flag(settings, "showQRCode", true);
	json_decref(design);
	json_decref(content);
	json_decref(settings);
}

static enum loy_err read_tx(struct store_tx *tx, void *arg)
{
	struct read_ctx *x = arg;
	struct apple_card *card = x->card;
	struct pass_input *in = &card->in;
	struct customer c;
	struct business b;
	struct card_template t;
	struct location *locs = NULL;
	int nlocs = 0;
	bool has_template;
	enum loy_err err = store_apple_pass_get(tx, x->customer_id, &card->pass);

	if (err == LOY_OK)
		err = store_customer_get(tx, card->pass.business_id, x->customer_id, &c);
	if (err == LOY_OK)
		err = store_business_get(tx, card->pass.business_id, &b);
	if (err != LOY_OK)
		return err;
	err = store_template_default(tx, b.id, &t);
	if (err != LOY_OK && err != LOY_ENOTFOUND)
		return err;
	has_template = err == LOY_OK;
	err = store_location_list(tx, b.id, &locs, &nlocs);
	if (err != LOY_OK)
		return err;

	*in = (struct pass_input){ .pass_type_id = x->src->pass_type_id,
				   .team_id = x->src->team_id,
				   .serial = card->pass.serial,
				   .auth_token = card->pass.auth_token,
				   .web_service_url = x->src->web_service_url,
				   .phone = b.contact_phone,
				   .email = b.contact_email,
				   .website = b.contact_website,
				   .address = b.contact_address,
				   .customer_name = c.name,
				   .card_number = c.card_number,
				   .balance = c.balance,
				   .voided = strcmp(c.status, "blocked") == 0,
				   .updated_at = tx->now };
	apply_template(tx->a, has_template ? &t : NULL, &b, in);
	for (int i = 0; i < nlocs && i < PASS_LOCATIONS_MAX; i++)
		card->locations[i] = (struct pass_location){
			.latitude_e6 = locs[i].latitude_e6,
			.longitude_e6 = locs[i].longitude_e6,
			.relevant_text = locs[i].relevant_text,
		};
	in->locations = card->locations;
	in->nlocations = (size_t)(nlocs < PASS_LOCATIONS_MAX ? nlocs : PASS_LOCATIONS_MAX);

	const char *colors[3] = { in->background_color, in->foreground_color, in->label_color };
	card->images = cache_find(x->src->cache, b.id, has_template ? &t : NULL, colors);
	if (!card->images) {
		err = images_load(tx, b.id, has_template ? &t : NULL, colors, &card->images);
		if (err != LOY_OK)
			return err;
		cache_add(x->src->cache, card->images);
	}
	in->images = &card->images->im;
	return LOY_OK;
}

enum loy_err card_read(struct store *st, struct arena *a, const struct card_source *src,
		       int64_t customer_id, struct apple_card *card)
{
	struct read_ctx x = { .src = src, .customer_id = customer_id, .card = card };
	enum loy_err err;

	memset(card, 0, sizeof(*card));
	err = store_read(st, a, read_tx, &x);
	if (err == LOY_OK)
		err = pass_content_hash(&card->in, card->hash);
	if (err != LOY_OK && card->images) {
		card_release(src->cache, card);
	}
	return err;
}

void card_release(struct card_cache *cc, struct apple_card *card)
{
	if (!card->images)
		return;
	pthread_mutex_lock(&cc->mu);
	images_unref(card->images);
	pthread_mutex_unlock(&cc->mu);
	card->images = NULL;
}
