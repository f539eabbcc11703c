/* Card-template images (see store.h): the PNGs a template's Apple Wallet passes carry in place of
 * the drawn defaults. The driver has no blob type, so the bytes travel as padded base64 text
 * (libsodium's codec; nothing else of libsodium is used here), with their size and SHA-1 beside
 * them so that listings never decode. Every change moves the template's updated_at strictly
 * forward, even twice in one millisecond: cached builds are keyed on it. */
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#include "store/db.h"
#include "store/store.h"

#define B64 sodium_base64_VARIANT_ORIGINAL
#define SHA1_HEX 40

/* The image's columns; png last so that listings can leave it out. */
#define IMAGE_COLS "i.name, i.bytes, i.sha1, i.updated_at"
#define IMAGE_FROM                                                               \
	" FROM template_images i JOIN card_templates t ON t.id = i.template_id " \
	"WHERE t.business_id = $1 AND i.template_id = $2"

static const char sql_touch[] =
	"UPDATE card_templates SET updated_at = CASE WHEN updated_at < $3 THEN $3 "
	"ELSE updated_at + 1 END WHERE business_id = $1 AND id = $2";
static const char sql_upsert[] =
	"INSERT INTO template_images (template_id, name, png, bytes, sha1, updated_at) "
	"VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (template_id, name) DO UPDATE SET "
	"png = excluded.png, bytes = excluded.bytes, sha1 = excluded.sha1, "
	"updated_at = excluded.updated_at";
static const char sql_delete[] =
	"DELETE FROM template_images WHERE template_id = $2 AND name = $3 AND EXISTS "
	"(SELECT 1 FROM card_templates WHERE business_id = $1 AND id = $2)";
static const char sql_all[] = "SELECT " IMAGE_COLS ", i.png" IMAGE_FROM;
static const char sql_meta[] = "SELECT " IMAGE_COLS IMAGE_FROM;
static const char sql_one[] = "SELECT " IMAGE_COLS ", i.png" IMAGE_FROM " AND i.name = $3";

static enum loy_err touch_template(struct store_tx *tx, int64_t business_id, int64_t template_id)
{
	struct db_param p[] = { P_INT(business_id), P_INT(template_id), P_INT(tx->now) };
	struct db_rows r;
	enum loy_err err = db_exec(tx->c, tx->a, sql_touch, p, 3, &r);
	if (err == LOY_OK && r.affected == 0)
		err = LOY_ENOTFOUND;
	return err;
}

enum loy_err store_template_image_put(struct store_tx *tx, int64_t business_id,
				      const struct template_image *img)
{
	size_t b64len = sodium_base64_encoded_len(img->len, B64);
	char *b64;
	enum loy_err err;

	if (!img->name || !img->png || img->len == 0 || !img->sha1 || strlen(img->sha1) != SHA1_HEX)
		return LOY_EINVALID;
	b64 = arena_alloc(tx->a, b64len);
	if (!b64)
		return LOY_ENOMEM;
	sodium_bin2base64(b64, b64len, img->png, img->len, B64);
	err = touch_template(tx, business_id, img->template_id);
	if (err != LOY_OK)
		return err;
	struct db_param p[] = { P_INT(img->template_id),  P_TEXT(img->name),
				P_TEXTN(b64, b64len - 1), P_INT((int64_t)img->len),
				P_TEXT(img->sha1),	  P_INT(tx->now) };
	return db_exec(tx->c, tx->a, sql_upsert, p, 6, NULL);
}

enum loy_err store_template_image_delete(struct store_tx *tx, int64_t business_id,
					 int64_t template_id, const char *name)
{
	struct db_param p[] = { P_INT(business_id), P_INT(template_id), P_TEXT(name) };
	struct db_rows r;
	enum loy_err err = db_exec(tx->c, tx->a, sql_delete, p, 3, &r);

	if (err == LOY_OK && r.affected == 0)
		err = LOY_ENOTFOUND;
	return err == LOY_OK ? touch_template(tx, business_id, template_id) : err;
}

/* Reads row i into out; with_png: the fifth column is the base64, decoded into the arena. */
static enum loy_err read_row(struct store_tx *tx, const struct db_rows *r, int i,
			     int64_t template_id, bool with_png, struct template_image *out)
{
	const char *b64 = with_png ? db_cell(r, i, 4) : NULL;
	int64_t bytes = db_int(r, i, 1);
	unsigned char *bin;
	size_t got = 0;

	*out = (struct template_image){ .template_id = template_id,
					.name = db_cell(r, i, 0),
					.len = (size_t)bytes,
					.sha1 = db_cell(r, i, 2),
					.updated_at = db_int(r, i, 3) };
	if (!with_png)
		return LOY_OK;
	if (!b64 || bytes <= 0)
		return LOY_EIO;
	bin = arena_alloc(tx->a, (size_t)bytes);
	if (!bin)
		return LOY_ENOMEM;
	if (sodium_base642bin(bin, (size_t)bytes, b64, strlen(b64), NULL, &got, NULL, B64) != 0 ||
	    got != (size_t)bytes)
		return LOY_EIO;
	out->png = bin;
	return LOY_OK;
}

static int by_name(const void *a, const void *b)
{
	return strcmp(((const struct template_image *)a)->name,
		      ((const struct template_image *)b)->name);
}

/* Rows of the template, sorted by name in C: the databases' collations may differ on '@'. */
static enum loy_err read_all(struct store_tx *tx, int64_t business_id, int64_t template_id,
			     bool with_png, struct template_image **rows, int *n)
{
	struct db_param p[] = { P_INT(business_id), P_INT(template_id) };
	struct db_rows r;
	enum loy_err err = db_exec(tx->c, tx->a, with_png ? sql_all : sql_meta, p, 2, &r);

	if (err != LOY_OK)
		return err;
	*rows = arena_alloc(tx->a, sizeof(**rows) * (size_t)(r.nrows ? r.nrows : 1));
	if (!*rows)
		return LOY_ENOMEM;
	for (int i = 0; i < r.nrows; i++) {
		err = read_row(tx, &r, i, template_id, with_png, &(*rows)[i]);
		if (err != LOY_OK)
			return err;
	}
	qsort(*rows, (size_t)r.nrows, sizeof(**rows), by_name);
	*n = r.nrows;
	return LOY_OK;
}

enum loy_err store_template_images(struct store_tx *tx, int64_t business_id, int64_t template_id,
				   struct template_image **rows, int *n)
{
	return read_all(tx, business_id, template_id, true, rows, n);
}

enum loy_err store_template_image_list(struct store_tx *tx, int64_t business_id,
				       int64_t template_id, struct template_image **rows, int *n)
{
	return read_all(tx, business_id, template_id, false, rows, n);
}

enum loy_err store_template_image_get(struct store_tx *tx, int64_t business_id, int64_t template_id,
				      const char *name, struct template_image *out)
{
	struct db_param p[] = { P_INT(business_id), P_INT(template_id), P_TEXT(name) };
	struct db_rows r;
	enum loy_err err = db_exec(tx->c, tx->a, sql_one, p, 3, &r);

	if (err != LOY_OK)
		return err;
	if (r.nrows == 0)
		return LOY_ENOTFOUND;
	return read_row(tx, &r, 0, template_id, true, out);
}
