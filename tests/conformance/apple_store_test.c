/* The Apple Wallet part of the store against a real database: SQLite always, PostgreSQL when
 * LOY_TEST_PG_URL names one. What the PassKit web service will rely on: a customer's pass is
 * created once and keeps its serial and tokens; its update tag moves strictly forward on every
 * change of content (and not otherwise); a device registers once (201) then again (200), lists
 * the serials changed since a tag, unregisters (and disappears with its last pass); logs are kept. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/timeutil.h"
#include "store/bootstrap.h"
#include "store/store.h"

#define PTID "pass.dev.loy.demo"
#define DEVICE "a1b2c3d4e5f60718293a4b5c6d7e8f90"
#define TOKEN "aa00bb11cc22dd33ee44ff5566778899aa00bb11cc22dd33ee44ff5566778899"

static struct store *st;
static struct arena a;
static char dir[256];
static const char *engine;
static int64_t customer_ids[2];

static enum loy_err make_customers(struct store_tx *tx, void *arg)
{
	for (int i = 0; i < 2; i++) {
		struct customer c = { .business_id = 1,
				      .name = "Pass Holder",
				      .phone = i ? "+79990000002" : "+79990000001",
				      .status = "active",
				      .source = "api",
				      .tags = "",
				      .notes = "",
				      .search = "" };
		enum loy_err err = store_customer_insert(tx, &c);
		if (err != LOY_OK)
			return err;
		customer_ids[i] = c.id;
	}
	return LOY_OK;
}

static int group_setup(void **state)
{
	char url[512];
	int applied = 0;

	if (strcmp(engine, "postgres") == 0) {
		snprintf(url, sizeof(url), "%s", getenv("LOY_TEST_PG_URL"));
	} else {
		snprintf(dir, sizeof(dir), "/tmp/loy-apple.XXXXXX");
		if (!mkdtemp(dir))
			return -1;
		snprintf(url, sizeof(url), "sqlite:%s/loy.db", dir);
	}
	arena_init(&a, 8u << 20);
	if (store_open(url, NULL, &st) != LOY_OK || store_migrate(st, &applied) != LOY_OK ||
	    bootstrap_demo_business(st) != LOY_OK)
		return -1;
	return store_write(st, &a, make_customers, NULL) == LOY_OK ? 0 : -1;
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

struct pass_ctx {
	int64_t customer_id;
	struct apple_pass p;
};

static enum loy_err ensure_tx(struct store_tx *tx, void *arg)
{
	struct pass_ctx *x = arg;
	return store_apple_pass_ensure(tx, 1, x->customer_id, PTID, &x->p);
}

static void test_pass_created_once(void **state)
{
	struct pass_ctx one = { .customer_id = customer_ids[0] }, two = one;
	assert_int_equal(store_write(st, &a, ensure_tx, &one), LOY_OK);
	assert_int_equal(store_write(st, &a, ensure_tx, &two), LOY_OK);
	assert_string_equal(one.p.serial, two.p.serial);
	assert_string_equal(one.p.auth_token, two.p.auth_token);
	assert_string_equal(one.p.link_token, two.p.link_token);
	assert_true(strlen(one.p.auth_token) >= 16);
	assert_int_equal(strlen(one.p.serial), 32);
	assert_null(one.p.content_hash);
	assert_string_equal(one.p.pass_type_id, PTID);
}

struct find_ctx {
	const char *serial, *link;
	struct apple_pass p;
};

static enum loy_err find_tx(struct store_tx *tx, void *arg)
{
	struct find_ctx *f = arg;
	return f->serial ? store_apple_pass_by_serial(tx, PTID, f->serial, &f->p)
			 : store_apple_pass_by_link(tx, f->link, &f->p);
}

static void test_lookups(void **state)
{
	struct pass_ctx x = { .customer_id = customer_ids[0] };
	struct find_ctx by_serial = { 0 }, by_link = { 0 }, unknown = { .serial = "nope" };
	assert_int_equal(store_write(st, &a, ensure_tx, &x), LOY_OK);
	by_serial.serial = x.p.serial;
	by_link.link = x.p.link_token;
	assert_int_equal(store_read(st, &a, find_tx, &by_serial), LOY_OK);
	assert_int_equal(by_serial.p.customer_id, customer_ids[0]);
	assert_int_equal(store_read(st, &a, find_tx, &by_link), LOY_OK);
	assert_string_equal(by_link.p.serial, x.p.serial);
	assert_int_equal(store_read(st, &a, find_tx, &unknown), LOY_ENOTFOUND);
}

struct content_ctx {
	int64_t customer_id;
	const char *hash;
	bool changed;
	struct apple_pass p;
};

static enum loy_err content_tx(struct store_tx *tx, void *arg)
{
	struct content_ctx *c = arg;
	enum loy_err err = store_apple_pass_content(tx, c->customer_id, c->hash, &c->changed);
	if (err == LOY_OK)
		err = store_apple_pass_ensure(tx, 1, c->customer_id, PTID, &c->p);
	return err;
}

static void test_tag_moves_only_on_change(void **state)
{
	struct content_ctx c = { .customer_id = customer_ids[0], .hash = "h1" };
	int64_t tags[4];

	assert_int_equal(store_write(st, &a, content_tx, &c), LOY_OK);
	assert_true(c.changed);
	tags[0] = c.p.modified_at;
	assert_int_equal(store_write(st, &a, content_tx, &c), LOY_OK); /* same content */
	assert_false(c.changed);
	assert_int_equal(c.p.modified_at, tags[0]);
	for (int i = 1; i < 4; i++) { /* quick changes still move it, a second apart each */
		c.hash = i == 1 ? "h2" : i == 2 ? "h3" : "h4";
		assert_int_equal(store_write(st, &a, content_tx, &c), LOY_OK);
		assert_true(c.changed);
		tags[i] = c.p.modified_at;
		assert_true(tags[i] >= tags[i - 1] + 1000); /* another Last-Modified second */
	}
}

struct reg_ctx {
	const char *serial, *token;
	bool created;
};

static enum loy_err register_tx(struct store_tx *tx, void *arg)
{
	struct reg_ctx *r = arg;
	return store_apple_register(tx, DEVICE, r->token, "apple", r->serial, &r->created);
}

static enum loy_err unregister_tx(struct store_tx *tx, void *arg)
{
	struct reg_ctx *r = arg;
	return store_apple_unregister(tx, DEVICE, r->serial);
}

struct updated_ctx {
	int64_t since, last;
	const char **serials;
	int n;
};

static enum loy_err updated_tx(struct store_tx *tx, void *arg)
{
	struct updated_ctx *u = arg;
	return store_apple_updated(tx, DEVICE, PTID, u->since, &u->serials, &u->n, &u->last);
}

static void test_registrations(void **state)
{
	struct pass_ctx p0 = { .customer_id = customer_ids[0] },
			p1 = { .customer_id = customer_ids[1] };
	struct reg_ctx r0 = { 0 }, r1 = { 0 };
	struct updated_ctx u = { 0 };
	struct content_ctx c = { .customer_id = customer_ids[1], .hash = "other" };

	assert_int_equal(store_write(st, &a, ensure_tx, &p0), LOY_OK);
	assert_int_equal(store_write(st, &a, ensure_tx, &p1), LOY_OK);
	r0 = (struct reg_ctx){ .serial = p0.p.serial, .token = TOKEN };
	r1 = (struct reg_ctx){ .serial = p1.p.serial, .token = TOKEN };
	assert_int_equal(store_write(st, &a, register_tx, &r0), LOY_OK);
	assert_true(r0.created); /* 201 */
	assert_int_equal(store_write(st, &a, register_tx, &r0), LOY_OK);
	assert_false(r0.created); /* 200 */
	assert_int_equal(store_write(st, &a, register_tx, &r1), LOY_OK);
	assert_true(r1.created);

	/* Both passes since 0. They changed just now, so the tag stays behind them (a change
	 * committing around the call must not be missed) and they are listed again since it; the
	 * tag never goes back. A pass changed afterwards is newer than the tag. */
	assert_int_equal(store_read(st, &a, updated_tx, &u), LOY_OK);
	assert_int_equal(u.n, 2);
	assert_true(u.last < c.p.modified_at || u.last < time_now_ms());
	u.since = u.last;
	assert_int_equal(store_read(st, &a, updated_tx, &u), LOY_OK);
	assert_int_equal(u.n, 2);
	assert_true(u.last >= u.since);
	assert_int_equal(store_write(st, &a, content_tx, &c), LOY_OK);
	assert_true(c.p.modified_at > u.since);
	assert_int_equal(store_read(st, &a, updated_tx, &u), LOY_OK);
	assert_int_equal(u.n, 2);
	assert_true(u.serials[0] && u.serials[1]);
	/* Long after the changes, the tag is the newest version and nothing is listed since it. */
	assert_int_equal(store_write(st, &a, ensure_tx, &p0), LOY_OK);
	u.since = c.p.modified_at > p0.p.modified_at ? c.p.modified_at : p0.p.modified_at;
	assert_int_equal(store_read(st, &a, updated_tx, &u), LOY_OK);
	assert_int_equal(u.n, 0);

	/* Unregistering: once found, then gone; the device goes with its last pass. */
	assert_int_equal(store_write(st, &a, unregister_tx, &r0), LOY_OK);
	assert_int_equal(store_write(st, &a, unregister_tx, &r0), LOY_ENOTFOUND);
	assert_int_equal(store_write(st, &a, unregister_tx, &r1), LOY_OK);
	u.since = 0;
	assert_int_equal(store_read(st, &a, updated_tx, &u), LOY_OK);
	assert_int_equal(u.n, 0);
	/* A new registration re-creates the device (201 again). */
	assert_int_equal(store_write(st, &a, register_tx, &r0), LOY_OK);
	assert_true(r0.created);
}

static enum loy_err log_tx(struct store_tx *tx, void *arg)
{
	enum loy_err err = store_apple_log(tx, NULL, "Register task encountered error");
	if (err == LOY_OK)
		err = store_apple_log(tx, arg, "Server ignored the 'if-modified-since' header");
	return err;
}

static void test_log(void **state)
{
	struct pass_ctx p = { .customer_id = customer_ids[0] };
	assert_int_equal(store_write(st, &a, ensure_tx, &p), LOY_OK);
	assert_int_equal(store_write(st, &a, log_tx, (void *)p.p.serial), LOY_OK);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_pass_created_once),
		cmocka_unit_test(test_lookups),
		cmocka_unit_test(test_tag_moves_only_on_change),
		cmocka_unit_test(test_registrations),
		cmocka_unit_test(test_log),
	};
	int failed;

	engine = "sqlite";
	failed = cmocka_run_group_tests_name("apple_store_sqlite", tests, group_setup,
					     group_teardown);
	if (getenv("LOY_TEST_PG_URL")) {
		engine = "postgres";
		failed += cmocka_run_group_tests_name("apple_store_postgres", tests, group_setup,
						      group_teardown);
	} else {
		printf("apple_store: LOY_TEST_PG_URL not set, PostgreSQL group skipped\n");
	}
	return failed;
}
