/* The outbox against a real store: SQLite always (a fresh file), PostgreSQL when LOY_TEST_PG_URL
 * names a database. What must hold: a job runs once when it succeeds; a failing job is retried with
 * backoff and dead-lettered after its kind's last attempt with the reason kept; an unknown kind is
 * dead-lettered; a job whose worker died is claimed again when its lease expires; with several
 * workers no job runs twice at the same time, and every job runs. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/str.h"
#include "base/timeutil.h"
#include "jobs/outbox.h"
#include "store/bootstrap.h"
#include "store/store.h"

#define MANY 300
#define WAIT_MS 15000

static struct store *st;
static int64_t business_id;
static char dir[256];

/* Per-job bookkeeping by payload number. */
static atomic_int calls[MANY + 1];
static atomic_int running[MANY + 1];
static atomic_int overlaps;

static int payload_no(const struct job *job)
{
	int64_t v = 0;
	return str_to_i64(str_from(job->payload), &v) && v >= 0 && v <= MANY ? (int)v : 0;
}

static enum job_result ok_handler(const struct job *job, struct arena *a, void *ctx,
				  const char **error)
{
	int n = payload_no(job);
	if (atomic_fetch_add(&running[n], 1) != 0)
		atomic_fetch_add(&overlaps, 1);
	atomic_fetch_add(&calls[n], 1);
	usleep(200);
	atomic_fetch_sub(&running[n], 1);
	return JOB_DONE;
}

/* Fails the first two attempts. */
static enum job_result flaky_handler(const struct job *job, struct arena *a, void *ctx,
				     const char **error)
{
	atomic_fetch_add(&calls[payload_no(job)], 1);
	if (job->attempts < 3) {
		*error = "503 from the gateway";
		return JOB_RETRY;
	}
	return JOB_DONE;
}

static enum job_result down_handler(const struct job *job, struct arena *a, void *ctx,
				    const char **error)
{
	atomic_fetch_add(&calls[payload_no(job)], 1);
	*error = "connection refused";
	return JOB_RETRY;
}

static const struct job_kind kinds[] = {
	{ "test.ok", ok_handler, 5, 1, 4, NULL },
	{ "test.flaky", flaky_handler, 5, 1, 4, NULL },
	{ "test.down", down_handler, 3, 1, 4, NULL },
};

static struct outbox *start(int threads, int64_t lease_ms)
{
	struct outbox_options opt = { .kinds = kinds,
				      .nkinds = sizeof(kinds) / sizeof(kinds[0]),
				      .threads = threads,
				      .batch = 16,
				      .lease_ms = lease_ms,
				      .idle_ms = 20 };
	struct outbox *ob = NULL;
	assert_int_equal(outbox_start(st, &opt, &ob), LOY_OK);
	return ob;
}

struct enqueue_ctx {
	const char *kind;
	int from, to;
	int64_t first_id;
};

static enum loy_err enqueue_tx(struct store_tx *tx, void *arg)
{
	struct enqueue_ctx *e = arg;
	for (int i = e->from; i <= e->to; i++) {
		char payload[16];
		snprintf(payload, sizeof(payload), "%d", i);
		enum loy_err err = store_job_enqueue(tx, business_id, e->kind, payload);
		if (err != LOY_OK)
			return err;
	}
	return LOY_OK;
}

static void enqueue(const char *kind, int from, int to)
{
	struct arena a;
	struct enqueue_ctx e = { kind, from, to, 0 };
	arena_init(&a, 1 << 20);
	assert_int_equal(store_write(st, &a, enqueue_tx, &e), LOY_OK);
	arena_free(&a);
}

struct list_ctx {
	const char *state;
	int n;
	struct job_row *rows;
};

static enum loy_err list_tx(struct store_tx *tx, void *arg)
{
	struct list_ctx *l = arg;
	return store_job_list(tx, business_id, l->state, 1000, &l->rows, &l->n);
}

/* Waits until `count` jobs are in `state`; returns how many are. */
static int wait_state(const char *state, int count, struct arena *a)
{
	int64_t until = time_mono_ms() + WAIT_MS;
	struct list_ctx l = { .state = state };
	do {
		arena_reset(a);
		assert_int_equal(store_read(st, a, list_tx, &l), LOY_OK);
		if (l.n >= count)
			break;
		usleep(10000);
	} while (time_mono_ms() < until);
	return l.n;
}

struct claim_ctx {
	struct job_row *rows;
	int n;
};

static enum loy_err claim_tx(struct store_tx *tx, void *arg)
{
	struct claim_ctx *c = arg;
	return store_job_claim(tx, 100, 300, &c->rows, &c->n);
}

static const char *engine; /* the group being run */

static int group_setup(void **state)
{
	char url[512];
	int applied = 0;

	for (int i = 0; i <= MANY; i++) {
		atomic_store(&calls[i], 0);
		atomic_store(&running[i], 0);
	}
	atomic_store(&overlaps, 0);
	if (strcmp(engine, "postgres") == 0) {
		snprintf(url, sizeof(url), "%s", getenv("LOY_TEST_PG_URL"));
	} else {
		snprintf(dir, sizeof(dir), "/tmp/loy-outbox.XXXXXX");
		if (!mkdtemp(dir))
			return -1;
		snprintf(url, sizeof(url), "sqlite:%s/loy.db", dir);
	}
	if (store_open(url, NULL, &st) != LOY_OK || store_migrate(st, &applied) != LOY_OK ||
	    bootstrap_demo_business(st) != LOY_OK)
		return -1;
	business_id = 1;
	return 0;
}

static int group_teardown(void **state)
{
	char cmd[300];
	store_close(st);
	st = NULL;
	if (dir[0]) {
		snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
		if (system(cmd) != 0)
			return -1;
		dir[0] = '\0';
	}
	return 0;
}

static void test_success_runs_once(void **state)
{
	struct arena a;
	struct outbox *ob = start(1, 5000);
	arena_init(&a, 8 << 20);
	enqueue("test.ok", 1, 1);
	outbox_wake(ob);
	assert_int_equal(wait_state("done", 1, &a), 1);
	outbox_stop(ob);
	assert_int_equal(atomic_load(&calls[1]), 1);
	arena_free(&a);
}

static void test_retry_then_done(void **state)
{
	struct arena a;
	struct outbox *ob = start(1, 5000);
	struct list_ctx l = { .state = "done" };
	arena_init(&a, 8 << 20);
	enqueue("test.flaky", 2, 2);
	assert_int_equal(wait_state("done", 2, &a), 2);
	outbox_stop(ob);
	assert_int_equal(atomic_load(&calls[2]), 3);
	assert_int_equal(store_read(st, &a, list_tx, &l), LOY_OK);
	assert_int_equal(l.rows[0].attempts, 3);
	assert_null(l.rows[0].last_error); /* a job that got through carries no error */
	arena_free(&a);
}

static void test_dead_letter(void **state)
{
	struct arena a;
	struct outbox *ob = start(2, 5000);
	struct list_ctx l = { .state = "dead" };
	arena_init(&a, 8 << 20);
	enqueue("test.down", 3, 3);
	enqueue("test.nobody-handles-this", 4, 4);
	assert_int_equal(wait_state("dead", 2, &a), 2);
	outbox_stop(ob);
	assert_int_equal(atomic_load(&calls[3]), 3); /* max_attempts */
	assert_int_equal(atomic_load(&calls[4]), 0);
	assert_int_equal(store_read(st, &a, list_tx, &l), LOY_OK);
	assert_string_equal(l.rows[0].kind, "test.nobody-handles-this");
	assert_string_equal(l.rows[0].last_error, "no handler for this job kind");
	assert_string_equal(l.rows[1].last_error, "connection refused");
	arena_free(&a);
}

static void test_expired_lease_is_reclaimed(void **state)
{
	struct arena a;
	struct claim_ctx c = { 0 };
	struct outbox *ob;
	arena_init(&a, 8 << 20);
	enqueue("test.ok", 5, 5);
	/* A worker claims the job with a 300 ms lease and dies without settling it. */
	assert_int_equal(store_write(st, &a, claim_tx, &c), LOY_OK);
	assert_int_equal(c.n, 1);
	ob = start(1, 5000);
	assert_int_equal(wait_state("done", 3, &a), 3);
	outbox_stop(ob);
	assert_int_equal(atomic_load(&calls[5]), 1);
	arena_free(&a);
}

static void test_many_workers_each_job_once(void **state)
{
	struct arena a;
	struct outbox *ob;
	arena_init(&a, 8 << 20);
	enqueue("test.ok", 10, MANY);
	ob = start(4, 5000);
	outbox_wake(ob);
	assert_int_equal(wait_state("done", 3 + MANY - 9, &a), 3 + MANY - 9);
	outbox_stop(ob);
	for (int i = 10; i <= MANY; i++)
		assert_int_equal(atomic_load(&calls[i]), 1);
	assert_int_equal(atomic_load(&overlaps), 0);
	arena_free(&a);
}

static void test_backoff_is_bounded_and_jittered(void **state)
{
	const struct job_kind k = { "x", ok_handler, 10, 100, 1000, NULL };
	int64_t max_seen = 0;
	bool varied = false;
	for (int i = 0; i < 200; i++) {
		int64_t d1 = outbox_backoff_ms(&k, 1), d8 = outbox_backoff_ms(&k, 8);
		assert_true(d1 >= 0 && d1 <= 100);
		assert_true(d8 >= 0 && d8 <= 1000);
		if (d8 > max_seen)
			max_seen = d8;
		varied |= d1 != outbox_backoff_ms(&k, 1);
	}
	assert_true(max_seen > 500);
	assert_true(varied);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_success_runs_once),
		cmocka_unit_test(test_retry_then_done),
		cmocka_unit_test(test_dead_letter),
		cmocka_unit_test(test_expired_lease_is_reclaimed),
		cmocka_unit_test(test_many_workers_each_job_once),
		cmocka_unit_test(test_backoff_is_bounded_and_jittered),
	};
	int failed;

	engine = "sqlite";
	failed = cmocka_run_group_tests_name("outbox_sqlite", tests, group_setup, group_teardown);
	if (getenv("LOY_TEST_PG_URL")) {
		engine = "postgres";
		failed += cmocka_run_group_tests_name("outbox_postgres", tests, group_setup,
						      group_teardown);
	} else {
		printf("outbox: LOY_TEST_PG_URL not set, PostgreSQL group skipped\n");
	}
	return failed;
}
