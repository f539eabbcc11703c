/* The Apple Wallet outbox jobs (see wallet.h):
 *   apple.push {"customer":id}  bring the pass's version up to what the card now shows and push
 *                               every device registration not yet pushed that version;
 *   apple.refresh {"after":id}  queue apple.push for the business's passes after customer id, a
 *                               batch at a time, then itself for the next batch — so a template
 *                               change over 100 000 cards never holds one worker or one
 *                               transaction for long, and other jobs interleave.
 * Both are idempotent: a job run twice finds nothing left to do the second time. */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/log.h"
#include "wallet/apple/wallet_impl.h"

#define REFRESH_BATCH 200
/* APNs down for hours must not lose an update: 30 attempts, the wait doubling up to 15 minutes,
 * cover about 6 hours before a job is dead-lettered (and shown to the admin). */
#define PUSH_ATTEMPTS 30
#define PUSH_BACKOFF_BASE_MS 2000
#define PUSH_BACKOFF_MAX_MS (15 * 60 * 1000)

/* A member of the job's JSON payload as a positive id; false when the payload is not ours. */
static bool payload_id(const char *payload, const char *key, int64_t *out)
{
	json_t *j = json_loads(payload, 0, NULL);
	json_t *v = json_object_get(j, key);
	bool ok = json_is_integer(v) && json_integer_value(v) >= 0;

	if (ok)
		*out = json_integer_value(v);
	json_decref(j);
	return ok;
}

struct due_ctx {
	struct apple_card *card;
	bool update; /* the content hash changed: record it and move the version */
	int64_t version;
	struct apple_registration *rows;
	int n;
};

static enum loy_err due_tx(struct store_tx *tx, void *arg)
{
	struct due_ctx *x = arg;
	struct apple_pass p;
	bool changed;
	enum loy_err err = LOY_OK;

	if (x->update)
		err = store_apple_pass_content(tx, x->card->pass.customer_id, x->card->hash,
					       &changed);
	if (err == LOY_OK)
		err = store_apple_pass_get(tx, x->card->pass.customer_id, &p);
	if (err != LOY_OK)
		return err;
	x->version = p.modified_at;
	return store_apple_push_due(tx, p.serial, p.modified_at, &x->rows, &x->n);
}

/* One device's push: what to do with its registration (APNs' classes; an Android app's answers
 * map onto them) and the status name and reason recorded on it. */
struct outcome {
	const struct apple_registration *reg;
	enum apns_status action;
	const char *name;
	char reason[APNS_REASON_MAX];
	int64_t timestamp_ms; /* APNs 410: when the token stopped being valid */
};

struct record_ctx {
	const char *serial;
	int64_t version;
	struct outcome *out;
	int n;
};

static enum loy_err record_tx(struct store_tx *tx, void *arg)
{
	struct record_ctx *x = arg;
	enum loy_err err = LOY_OK;

	for (int i = 0; i < x->n && err == LOY_OK; i++) {
		const struct outcome *o = &x->out[i];
		int64_t device = o->reg->device_id;
		const char *status;

		if (o->action == APNS_UNREGISTERED || o->action == APNS_BAD_TOKEN) {
			int64_t since = o->timestamp_ms > 0 ? o->timestamp_ms : tx->now;
			err = store_apple_device_gone(tx, device, since);
			continue;
		}
		if (o->action == APNS_DONE)
			status = "done";
		else if (o->reason[0])
			status = arena_printf(tx->a, "%s: %s", o->name, o->reason);
		else
			status = o->name;
		if (!status)
			return LOY_ENOMEM;
		err = store_apple_pushed(tx, device, x->serial, x->version, status);
	}
	return err;
}

static void from_apns(struct outcome *o, const struct apns_result *r)
{
	o->action = r->status;
	o->name = apns_status_name(r->status);
	o->timestamp_ms = r->timestamp_ms;
	snprintf(o->reason, sizeof(o->reason), "%s", r->reason);
}

static void from_android(struct outcome *o, const struct android_push_result *r)
{
	static const enum apns_status action[] = {
		[ANDROID_PUSH_DONE] = APNS_DONE,
		[ANDROID_PUSH_UNREGISTERED] = APNS_UNREGISTERED,
		[ANDROID_PUSH_RETRY] = APNS_RETRY,
		[ANDROID_PUSH_AUTH_BROKEN] = APNS_CERT_BROKEN,
		[ANDROID_PUSH_FAILED] = APNS_FAILED,
	};
	o->action = action[r->status];
	o->name = android_push_status_name(r->status);
	o->timestamp_ms = 0;
	snprintf(o->reason, sizeof(o->reason), "%s", r->reason);
}

/* Pushes every device among out[0..n) of one kind ("apple": APNs; "android": the Android app's
 * push API) and fills their outcomes. */
static enum loy_err push_kind(struct apple_wallet *w, struct apple_identity *id,
			      const char *pass_type_id, struct arena *a, struct outcome *out, int n,
			      const char *kind)
{
	const char **tokens = arena_alloc(a, sizeof(*tokens) * (size_t)n);
	int *at = arena_alloc(a, sizeof(*at) * (size_t)n);
	bool apple = strcmp(kind, "apple") == 0;
	size_t m = 0;
	enum loy_err err;

	if (!tokens || !at)
		return LOY_ENOMEM;
	for (int i = 0; i < n; i++)
		if (strcmp(out[i].reg->kind, kind) == 0) {
			at[m] = i;
			tokens[m++] = out[i].reg->push_token;
		}
	if (m == 0)
		return LOY_OK;
	if (!apple && !w->android) {
		for (size_t j = 0; j < m; j++) {
			struct outcome *o = &out[at[j]];
			/* Not a failure to retry: without a key these devices poll, as they do */
			o->action = APNS_FAILED;
			o->name = "not_sent";
			snprintf(o->reason, sizeof(o->reason), "LOY_ANDROID_PUSH_KEY is not set");
		}
		return LOY_OK;
	}
	if (apple) {
		struct apns_result *res = arena_alloc(a, sizeof(*res) * m);
		if (!res)
			return LOY_ENOMEM;
		/* On LOY_ENOMEM/LOY_EINTERNAL every result is APNS_RETRY: recorded like any other. */
		err = apns_push(id->apns, tokens, m, res);
		if (err == LOY_EINVALID)
			return err;
		for (size_t j = 0; j < m; j++)
			from_apns(&out[at[j]], &res[j]);
	} else {
		struct android_push_result *res = arena_alloc(a, sizeof(*res) * m);
		if (!res)
			return LOY_ENOMEM;
		err = android_push_send(w->android, pass_type_id, tokens, m, res);
		if (err == LOY_EINVALID)
			return err;
		for (size_t j = 0; j < m; j++)
			from_android(&out[at[j]], &res[j]);
	}
	return LOY_OK;
}

static enum loy_err push_all(struct apple_wallet *w, struct apple_identity *id,
			     const char *pass_type_id, struct arena *a, struct outcome *out, int n)
{
	enum loy_err err = push_kind(w, id, pass_type_id, a, out, n, "apple");
	if (err == LOY_OK)
		err = push_kind(w, id, pass_type_id, a, out, n, "android");
	return err;
}

static enum job_result apple_push(const struct job *job, struct arena *a, void *ctx,
				  const char **error)
{
	struct apple_wallet *w = ctx;
	struct apple_identity *id;
	struct apple_card card;
	struct due_ctx due = { .card = &card };
	struct outcome *out;
	struct record_ctx rec;
	int64_t customer;
	int retry = 0;
	const char *why = NULL;
	enum loy_err err;

	if (!payload_id(job->payload, "customer", &customer)) {
		*error = "the payload names no customer";
		return JOB_FAIL;
	}
	id = wallet_identity(w, job->business_id);
	if (!id) {
		*error = "the business has no Apple Wallet certificate any more";
		return JOB_FAIL;
	}
	err = card_read(w->st, a, &id->src, customer, &card);
	if (err == LOY_ENOTFOUND)
		return JOB_DONE; /* erased, or never had a pass: nothing to tell a device */
	if (err != LOY_OK) {
		*error = arena_printf(a, "reading the card: %s", err_code(err));
		return err == LOY_EINVALID ? JOB_FAIL : JOB_RETRY;
	}
	due.update = !card.pass.content_hash || strcmp(card.pass.content_hash, card.hash) != 0;
	card_release(w->cache, &card);
	err = due.update ? store_write(w->st, a, due_tx, &due) : store_read(w->st, a, due_tx, &due);
	if (err != LOY_OK) {
		*error = arena_printf(a, "recording the new version: %s", err_code(err));
		return JOB_RETRY;
	}
	if (due.n == 0)
		return JOB_DONE;
	out = arena_zalloc(a, sizeof(*out) * (size_t)due.n);
	if (!out)
		return JOB_RETRY;
	for (int i = 0; i < due.n; i++)
		out[i].reg = &due.rows[i];
	err = push_all(w, id, card.pass.pass_type_id, a, out, due.n);
	if (err != LOY_OK) {
		*error = arena_printf(a, "pushing: %s", err_code(err));
		return JOB_RETRY;
	}
	rec = (struct record_ctx){
		.serial = card.pass.serial, .version = due.version, .out = out, .n = due.n
	};
	err = store_write(w->st, a, record_tx, &rec);
	if (err != LOY_OK) {
		*error = arena_printf(a, "recording the pushes: %s", err_code(err));
		return JOB_RETRY;
	}
	for (int i = 0; i < due.n; i++)
		if (out[i].action == APNS_RETRY || out[i].action == APNS_CERT_BROKEN) {
			retry++;
			why = out[i].reason;
		}
	if (retry == 0)
		return JOB_DONE;
	*error = arena_printf(a, "%d of %d devices to push again: %s", retry, due.n, why);
	return JOB_RETRY;
}

struct refresh_ctx {
	int64_t business_id, after;
	int64_t *ids;
	int n;
};

static enum loy_err refresh_read_tx(struct store_tx *tx, void *arg)
{
	struct refresh_ctx *x = arg;
	return store_apple_passes_after(tx, x->business_id, x->after, REFRESH_BATCH, &x->ids,
					&x->n);
}

static enum loy_err refresh_write_tx(struct store_tx *tx, void *arg)
{
	struct refresh_ctx *x = arg;
	enum loy_err err = LOY_OK;

	for (int i = 0; i < x->n && err == LOY_OK; i++)
		err = store_apple_enqueue_push(tx, x->business_id, x->ids[i]);
	if (err == LOY_OK && x->n == REFRESH_BATCH) {
		char next[40];
		snprintf(next, sizeof(next), "{\"after\":%lld}", (long long)x->ids[x->n - 1]);
		err = store_job_enqueue(tx, x->business_id, "apple.refresh", next);
	}
	return err;
}

static enum job_result apple_refresh(const struct job *job, struct arena *a, void *ctx,
				     const char **error)
{
	struct apple_wallet *w = ctx;
	struct refresh_ctx x = { .business_id = job->business_id };
	enum loy_err err;

	if (!payload_id(job->payload, "after", &x.after)) {
		*error = "the payload has no \"after\"";
		return JOB_FAIL;
	}
	err = store_read(w->st, a, refresh_read_tx, &x);
	if (err == LOY_OK && x.n > 0)
		err = store_write(w->st, a, refresh_write_tx, &x);
	if (err != LOY_OK) {
		*error = arena_printf(a, "queueing the passes' pushes: %s", err_code(err));
		return JOB_RETRY;
	}
	return JOB_DONE;
}

const struct job_kind apple_wallet_jobs[] = {
	{ "apple.push", apple_push, PUSH_ATTEMPTS, PUSH_BACKOFF_BASE_MS, PUSH_BACKOFF_MAX_MS,
	  NULL },
	{ "apple.refresh", apple_refresh, 10, 1000, 60000, NULL },
};
const size_t apple_wallet_njobs = sizeof(apple_wallet_jobs) / sizeof(apple_wallet_jobs[0]);
