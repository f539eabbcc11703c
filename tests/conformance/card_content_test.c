/* Template images and business locations against a real database: SQLite always, PostgreSQL when
 * LOY_TEST_PG_URL names one. What the pass builder and the API rely on: image bytes come back
 * exactly (NULs, high bytes, 2 MiB), in name order, listed without their bytes; every change moves
 * the template's updated_at strictly forward and a refused one leaves it alone; another business
 * reaches nothing; images go with their template; locations keep their micro-degrees, come oldest
 * first and stop at STORE_LOCATIONS_MAX. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/bootstrap.h"
#include "store/db.h"
#include "store/store.h"

#define SHA_A "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
#define SHA_B "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"
#define BIG (2u << 20)

static struct store *st;
static struct arena a;
static char dir[256];
static const char *engine;
static int64_t other_business;
static int64_t tpl_default, tpl_second, tpl_other;

static enum loy_err make_fixtures(struct store_tx *tx, void *arg)
{
	struct business b = { .slug = "other", .name = "Other" };
	struct card_template t = {
		.business_id = 1, .name = "Main", .design = "{}", .content = "{}", .settings = "{}"
	};
	enum loy_err err = store_business_insert(tx, &b);

	if (err == LOY_OK)
		err = store_template_insert(tx, &t);
	tpl_default = t.id;
	t.name = "Second";
	t.is_default = false; /* the insert set it on the first */
	if (err == LOY_OK)
		err = store_template_insert(tx, &t);
	tpl_second = t.id;
	t.business_id = other_business = b.id;
	t.name = "Theirs";
	if (err == LOY_OK)
		err = store_template_insert(tx, &t);
	tpl_other = t.id;
	return err;
}

static int group_setup(void **state)
{
	char url[512];
	int applied = 0;

	if (strcmp(engine, "postgres") == 0) {
		snprintf(url, sizeof(url), "%s", getenv("LOY_TEST_PG_URL"));
	} else {
		snprintf(dir, sizeof(dir), "/tmp/loy-content.XXXXXX");
		if (!mkdtemp(dir))
			return -1;
		snprintf(url, sizeof(url), "sqlite:%s/loy.db", dir);
	}
	arena_init(&a, 64u << 20);
	if (store_open(url, NULL, &st) != LOY_OK || store_migrate(st, &applied) != LOY_OK ||
	    bootstrap_demo_business(st) != LOY_OK)
		return -1;
	return store_write(st, &a, make_fixtures, NULL) == LOY_OK ? 0 : -1;
}

static int group_teardown(void **state)
{
	char cmd[300];
	store_close(st);
	arena_free(&a);
	if (dir[0]) {
		snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
		dir[0] = '\0';
		return system(cmd) == 0 ? 0 : -1;
	}
	return 0;
}

/* ---- images ---- */

struct img_ctx {
	int64_t business_id, template_id;
	const char *name;
	struct template_image img; /* put */
	struct template_image *rows;
	int n;
	int64_t updated_at; /* the template's, after the operation */
	int64_t first_put;  /* put_twice_tx: the template's after the first put */
};

static enum loy_err template_time(struct store_tx *tx, struct img_ctx *x)
{
	struct card_template t;
	enum loy_err err = store_template_get(tx, 1, tpl_default, &t);
	x->updated_at = t.updated_at;
	return err;
}

static enum loy_err put_tx(struct store_tx *tx, void *arg)
{
	struct img_ctx *x = arg;
	enum loy_err err = store_template_image_put(tx, x->business_id, &x->img);
	return err == LOY_OK ? template_time(tx, x) : err;
}

/* Two puts in one transaction: the same `now`, yet updated_at moves twice. */
static enum loy_err put_twice_tx(struct store_tx *tx, void *arg)
{
	struct img_ctx *x = arg;
	enum loy_err err = put_tx(tx, x);
	x->first_put = x->updated_at;
	return err == LOY_OK ? put_tx(tx, x) : err;
}

static enum loy_err delete_tx(struct store_tx *tx, void *arg)
{
	struct img_ctx *x = arg;
	return store_template_image_delete(tx, x->business_id, x->template_id, x->name);
}

static enum loy_err all_tx(struct store_tx *tx, void *arg)
{
	struct img_ctx *x = arg;
	enum loy_err err =
		store_template_images(tx, x->business_id, x->template_id, &x->rows, &x->n);
	return err == LOY_OK ? template_time(tx, x) : err;
}

static enum loy_err meta_tx(struct store_tx *tx, void *arg)
{
	struct img_ctx *x = arg;
	return store_template_image_list(tx, x->business_id, x->template_id, &x->rows, &x->n);
}

static enum loy_err one_tx(struct store_tx *tx, void *arg)
{
	struct img_ctx *x = arg;
	return store_template_image_get(tx, x->business_id, x->template_id, x->name, &x->img);
}

static struct img_ctx image(const char *name, const unsigned char *png, size_t len,
			    const char *sha1)
{
	return (struct img_ctx){ .business_id = 1,
				 .template_id = tpl_default,
				 .name = name,
				 .img = { .template_id = tpl_default,
					  .name = name,
					  .png = png,
					  .len = len,
					  .sha1 = sha1 } };
}

static void test_images_round_trip_in_name_order(void **state)
{
	static const unsigned char tricky[] = { 0x89, 'P', 0, 0xff, 0, '\n', '=', 0x80 };
	unsigned char *big = malloc(BIG);
	struct img_ctx all = image(NULL, NULL, 0, NULL), meta = all, one = all;
	const char *names[] = { "strip@3x", "icon@2x", "logo", "icon" };

	assert_non_null(big);
	for (size_t i = 0; i < BIG; i++)
		big[i] = (unsigned char)(i * 7 + (i >> 11));
	for (int i = 0; i < 4; i++) {
		struct img_ctx x =
			i == 0 ? image(names[i], big, BIG, SHA_A)
			       : image(names[i], tricky, sizeof(tricky) - (size_t)i, SHA_B);
		assert_int_equal(store_write(st, &a, put_tx, &x), LOY_OK);
	}
	assert_int_equal(store_read(st, &a, all_tx, &all), LOY_OK);
	assert_int_equal(all.n, 4);
	assert_string_equal(all.rows[0].name, "icon");
	assert_string_equal(all.rows[1].name, "icon@2x");
	assert_string_equal(all.rows[2].name, "logo");
	assert_string_equal(all.rows[3].name, "strip@3x");
	assert_int_equal(all.rows[0].len, sizeof(tricky) - 3);
	assert_memory_equal(all.rows[0].png, tricky, sizeof(tricky) - 3);
	assert_int_equal(all.rows[3].len, BIG);
	assert_memory_equal(all.rows[3].png, big, BIG);
	assert_string_equal(all.rows[3].sha1, SHA_A);
	assert_string_equal(all.rows[1].sha1, SHA_B);

	assert_int_equal(store_read(st, &a, meta_tx, &meta), LOY_OK);
	assert_int_equal(meta.n, 4);
	assert_null(meta.rows[3].png);
	assert_int_equal(meta.rows[3].len, BIG);
	assert_string_equal(meta.rows[3].name, "strip@3x");

	one.name = "icon@2x";
	assert_int_equal(store_read(st, &a, one_tx, &one), LOY_OK);
	assert_int_equal(one.img.len, sizeof(tricky) - 1);
	assert_memory_equal(one.img.png, tricky, sizeof(tricky) - 1);
	one.name = "logo@2x";
	assert_int_equal(store_read(st, &a, one_tx, &one), LOY_ENOTFOUND);
	free(big);
}

static void test_changes_move_template_time(void **state)
{
	static const unsigned char png[] = { 1, 2, 3 };
	struct img_ctx before = image(NULL, NULL, 0, NULL), x = image("logo@2x", png, 3, SHA_A);
	struct img_ctx after = before, del = x;

	assert_int_equal(store_read(st, &a, all_tx, &before), LOY_OK);
	assert_int_equal(store_write(st, &a, put_twice_tx, &x), LOY_OK);
	assert_true(x.first_put > before.updated_at);
	assert_true(x.updated_at > x.first_put);

	/* Replacing keeps one row with the new bytes. */
	x.img.len = 2;
	x.img.sha1 = SHA_B;
	assert_int_equal(store_write(st, &a, put_tx, &x), LOY_OK);
	after.name = "logo@2x";
	assert_int_equal(store_read(st, &a, one_tx, &after), LOY_OK);
	assert_int_equal(after.img.len, 2);
	assert_string_equal(after.img.sha1, SHA_B);

	assert_int_equal(store_write(st, &a, delete_tx, &del), LOY_OK);
	assert_int_equal(store_read(st, &a, all_tx, &after), LOY_OK);
	assert_true(after.updated_at > x.updated_at);
	for (int i = 0; i < after.n; i++)
		assert_string_not_equal(after.rows[i].name, "logo@2x");

	/* Deleting what is not there refuses and leaves the time alone. */
	assert_int_equal(store_write(st, &a, delete_tx, &del), LOY_ENOTFOUND);
	assert_int_equal(store_read(st, &a, all_tx, &before), LOY_OK);
	assert_int_equal(before.updated_at, after.updated_at);
}

static void test_other_business_reaches_nothing(void **state)
{
	static const unsigned char png[] = { 9, 9 };
	struct img_ctx before = image(NULL, NULL, 0, NULL), x = image("strip", png, 2, SHA_A);
	struct img_ctx after = before;

	assert_int_equal(store_read(st, &a, all_tx, &before), LOY_OK);
	x.business_id = other_business;
	assert_int_equal(store_write(st, &a, put_tx, &x), LOY_ENOTFOUND);
	x.name = "icon";
	assert_int_equal(store_write(st, &a, delete_tx, &x), LOY_ENOTFOUND);
	assert_int_equal(store_read(st, &a, one_tx, &x), LOY_ENOTFOUND);
	assert_int_equal(store_read(st, &a, meta_tx, &x), LOY_OK);
	assert_int_equal(x.n, 0);
	assert_int_equal(store_read(st, &a, all_tx, &after), LOY_OK);
	assert_int_equal(after.n, before.n);
	assert_int_equal(after.updated_at, before.updated_at);

	/* Their own template is theirs alone. */
	x.template_id = x.img.template_id = tpl_other;
	x.name = "icon";
	assert_int_equal(store_write(st, &a, put_tx, &x), LOY_OK);
	x.business_id = 1;
	assert_int_equal(store_read(st, &a, meta_tx, &x), LOY_OK);
	assert_int_equal(x.n, 0);
}

static enum loy_err drop_template_tx(struct store_tx *tx, void *arg)
{
	return store_template_delete(tx, 1, tpl_second);
}

static enum loy_err count_rows_tx(struct store_tx *tx, void *arg)
{
	static const char sql[] = "SELECT COUNT(*) FROM template_images WHERE template_id = $1";
	struct db_param p[] = { P_INT(tpl_second) };
	struct db_rows r;
	enum loy_err err = db_exec(tx->c, tx->a, sql, p, 1, &r);
	if (err == LOY_OK)
		*(int64_t *)arg = db_int(&r, 0, 0);
	return err;
}

static void test_images_go_with_their_template(void **state)
{
	static const unsigned char png[] = { 4, 5, 6 };
	struct img_ctx x = image("icon", png, 3, SHA_A);
	int64_t n = -1;

	x.template_id = x.img.template_id = tpl_second;
	assert_int_equal(store_write(st, &a, put_tx, &x), LOY_OK);
	assert_int_equal(store_read(st, &a, count_rows_tx, &n), LOY_OK);
	assert_int_equal(n, 1);
	assert_int_equal(store_write(st, &a, drop_template_tx, NULL), LOY_OK);
	assert_int_equal(store_read(st, &a, count_rows_tx, &n), LOY_OK);
	assert_int_equal(n, 0);
}

/* ---- locations ---- */

struct loc_ctx {
	struct location l;
	struct location *items;
	int n;
	int64_t id, business_id;
};

static enum loy_err loc_insert_tx(struct store_tx *tx, void *arg)
{
	return store_location_insert(tx, &((struct loc_ctx *)arg)->l);
}

static enum loy_err loc_update_tx(struct store_tx *tx, void *arg)
{
	return store_location_update(tx, &((struct loc_ctx *)arg)->l);
}

static enum loy_err loc_get_tx(struct store_tx *tx, void *arg)
{
	struct loc_ctx *x = arg;
	return store_location_get(tx, x->business_id, x->id, &x->l);
}

static enum loy_err loc_list_tx(struct store_tx *tx, void *arg)
{
	struct loc_ctx *x = arg;
	return store_location_list(tx, x->business_id, &x->items, &x->n);
}

static enum loy_err loc_delete_tx(struct store_tx *tx, void *arg)
{
	struct loc_ctx *x = arg;
	return store_location_delete(tx, x->business_id, x->id);
}

static void test_locations(void **state)
{
	struct loc_ctx one = { .l = { .business_id = 1,
				      .name = "Tverskaya",
				      .latitude_e6 = 55755826,
				      .longitude_e6 = 37617300,
				      .relevant_text = "Кофе рядом" } };
	struct loc_ctx two = { .l = { .business_id = 1,
				      .name = "South",
				      .latitude_e6 = -90000000,
				      .longitude_e6 = -180000000 } };
	struct loc_ctx got = { .business_id = 1 }, list = { .business_id = 1 };
	struct loc_ctx bad = two;

	assert_int_equal(store_write(st, &a, loc_insert_tx, &one), LOY_OK);
	assert_int_equal(store_write(st, &a, loc_insert_tx, &two), LOY_OK);
	assert_true(two.l.id > one.l.id);
	got.id = one.l.id;
	assert_int_equal(store_read(st, &a, loc_get_tx, &got), LOY_OK);
	assert_int_equal(got.l.latitude_e6, 55755826);
	assert_int_equal(got.l.longitude_e6, 37617300);
	assert_string_equal(got.l.relevant_text, "Кофе рядом");
	assert_int_equal(got.l.created_at, one.l.created_at);
	got.id = two.l.id;
	assert_int_equal(store_read(st, &a, loc_get_tx, &got), LOY_OK);
	assert_null(got.l.relevant_text);
	assert_int_equal(got.l.latitude_e6, -90000000);

	bad.l.latitude_e6 = 90000001;
	assert_int_equal(store_write(st, &a, loc_insert_tx, &bad), LOY_EINVALID);
	bad.l.latitude_e6 = 0;
	bad.l.longitude_e6 = -180000001;
	assert_int_equal(store_write(st, &a, loc_insert_tx, &bad), LOY_EINVALID);

	/* Another business sees, changes and deletes none of them. */
	got.business_id = list.business_id = other_business;
	assert_int_equal(store_read(st, &a, loc_get_tx, &got), LOY_ENOTFOUND);
	assert_int_equal(store_write(st, &a, loc_delete_tx, &got), LOY_ENOTFOUND);
	bad = one;
	bad.l.business_id = other_business;
	bad.l.name = "Hijacked";
	assert_int_equal(store_write(st, &a, loc_update_tx, &bad), LOY_ENOTFOUND);
	assert_int_equal(store_read(st, &a, loc_list_tx, &list), LOY_OK);
	assert_int_equal(list.n, 0);

	one.l.name = "Tverskaya 2";
	one.l.relevant_text = NULL;
	one.l.latitude_e6 = 1;
	assert_int_equal(store_write(st, &a, loc_update_tx, &one), LOY_OK);
	got = (struct loc_ctx){ .business_id = 1, .id = one.l.id };
	assert_int_equal(store_read(st, &a, loc_get_tx, &got), LOY_OK);
	assert_string_equal(got.l.name, "Tverskaya 2");
	assert_null(got.l.relevant_text);
	assert_int_equal(got.l.latitude_e6, 1);

	list.business_id = 1;
	assert_int_equal(store_read(st, &a, loc_list_tx, &list), LOY_OK);
	assert_int_equal(list.n, 2);
	assert_int_equal(list.items[0].id, one.l.id);
	assert_int_equal(list.items[1].id, two.l.id);

	got.business_id = 1;
	assert_int_equal(store_write(st, &a, loc_delete_tx, &got), LOY_OK);
	assert_int_equal(store_write(st, &a, loc_delete_tx, &got), LOY_ENOTFOUND);
	assert_int_equal(store_read(st, &a, loc_get_tx, &got), LOY_ENOTFOUND);
}

static void test_location_limit(void **state)
{
	struct loc_ctx list = { .business_id = other_business };
	struct loc_ctx x = { .l = { .business_id = other_business, .name = "Shop" } };

	for (int i = 0; i < STORE_LOCATIONS_MAX; i++)
		assert_int_equal(store_write(st, &a, loc_insert_tx, &x), LOY_OK);
	assert_int_equal(store_write(st, &a, loc_insert_tx, &x), LOY_ERULE);
	assert_int_equal(store_read(st, &a, loc_list_tx, &list), LOY_OK);
	assert_int_equal(list.n, STORE_LOCATIONS_MAX);
	list.id = list.items[0].id;
	assert_int_equal(store_write(st, &a, loc_delete_tx, &list), LOY_OK);
	assert_int_equal(store_write(st, &a, loc_insert_tx, &x), LOY_OK);
	x.l.business_id = 999999;
	assert_int_equal(store_write(st, &a, loc_insert_tx, &x), LOY_ENOTFOUND);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_images_round_trip_in_name_order),
		cmocka_unit_test(test_changes_move_template_time),
		cmocka_unit_test(test_other_business_reaches_nothing),
		cmocka_unit_test(test_images_go_with_their_template),
		cmocka_unit_test(test_locations),
		cmocka_unit_test(test_location_limit),
	};
	int failed;

	engine = "sqlite";
	failed = cmocka_run_group_tests_name("card_content_sqlite", tests, group_setup,
					     group_teardown);
	if (getenv("LOY_TEST_PG_URL")) {
		engine = "postgres";
		failed += cmocka_run_group_tests_name("card_content_postgres", tests, group_setup,
						      group_teardown);
	} else {
		printf("card_content: LOY_TEST_PG_URL not set, PostgreSQL group skipped\n");
	}
	return failed;
}
