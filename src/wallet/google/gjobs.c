/* Syncing classes, objects and messages with Google, and the outbox handlers (see gwallet.h).
 *
 * Google's answers (spec §2.2, §2.5): insert of an existing id → 409, so the row is patched
 * instead; patch of a missing one → 404, so it is inserted; 429/5xx → retried by the outbox with
 * backoff and jitter; 400/403 → dead-lettered with Google's message kept for the admin. Every body
 * carries absolute values, so a retry never counts a change twice. addMessage is not idempotent:
 * before adding, the object is read and a message with our id already there counts as sent. */
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "base/log.h"
#include "base/timeutil.h"
#include "wallet/google/gwallet_impl.h"

#define PATH_CLASS "/walletobjects/v1/loyaltyClass"
#define PATH_OBJECT "/walletobjects/v1/loyaltyObject"
/* Google's budget: 3 notifying updates or messages per card per 24 h (spec §2.5, §2.6). */
#define NOTIFY_BUDGET 3
#define DAY_MS (24LL * 60 * 60 * 1000)
/* Google keeps at most 10 messages per object: the oldest go before an 11th is added. */
#define MESSAGES_MAX 10
#define MESSAGE_TTL_MS (30 * DAY_MS)

/* One call; the JSON answer (when wanted) is parsed into *answer. */
static enum gapi_status call(const struct gid *id, const char *method, const char *path,
			     const char *body, json_t **answer, const char **why, struct arena *a)
{
	struct gapi_result r;
	char *resp = NULL;
	enum loy_err err = gapi_call(id->api, method, path, body, &r, &resp);

	if (err != LOY_OK) {
		*why = arena_printf(a, "%s %s: %s", method, path, err_code(err));
		free(resp);
		return GAPI_RETRY;
	}
	if (r.status != GAPI_OK)
		*why = arena_printf(a, "%s %s: %d %s", method, path, r.http_status, r.message);
	if (answer)
		*answer = r.status == GAPI_OK && resp ? json_loads(resp, 0, NULL) : NULL;
	free(resp);
	return r.status;
}

static enum loy_err outcome(enum gapi_status s)
{
	return s == GAPI_OK ? LOY_OK : s == GAPI_FAILED ? LOY_EINVALID : LOY_EUNAVAILABLE;
}

/* Inserts or patches (insert_first: the row was never sent) a class or an object. */
static enum gapi_status put_resource(const struct gid *g, struct arena *a, const char *base,
				     const char *id, bool insert_first, const char *insert_body,
				     const char *patch_body, const char **why)
{
	const char *one = arena_printf(a, "%s/%s", base, id);
	enum gapi_status s;

	if (!one)
		return GAPI_RETRY;
	if (insert_first) {
		s = call(g, "POST", base, insert_body, NULL, why, a);
		if (s == GAPI_CONFLICT) /* inserted before (a retry, a lost answer): patch it */
			s = call(g, "PATCH", one, patch_body, NULL, why, a);
		return s;
	}
	s = call(g, "PATCH", one, patch_body, NULL, why, a);
	if (s == GAPI_NOT_FOUND) /* gone at Google (another install's cleanup): insert again */
		s = call(g, "POST", base, insert_body, NULL, why, a);
	return s;
}

struct class_done_ctx {
	const struct google_class *cls;
	const char *hash, *error;
};

static enum loy_err class_done_tx(struct store_tx *tx, void *arg)
{
	struct class_done_ctx *x = arg;
	return x->error ? store_google_class_error(tx, x->cls, x->error)
			: store_google_class_synced(tx, x->cls, x->hash);
}

static enum loy_err gsync_class(struct gwallet *g, struct arena *a, struct gcard *card,
				const char **why)
{
	char hash[GW_HASH_LEN + 1], *body = NULL;
	struct class_done_ctx done = { .cls = &card->cls, .hash = hash };
	enum gapi_status s;
	enum loy_err err = gw_class_hash(&card->class_in, hash);

	if (err != LOY_OK) {
		*why = "the card's class cannot be built";
		return err;
	}
	if (card->cls.content_hash && strcmp(card->cls.content_hash, hash) == 0)
		return LOY_OK;
	/* A client may only send UNDER_REVIEW (or DRAFT, which no object may use), spec §2.3. */
	err = gw_class_json(&card->class_in, "UNDER_REVIEW", &body, why);
	if (err != LOY_OK)
		return err;
	s = put_resource(card->id, a, PATH_CLASS, card->cls.class_id, !card->cls.content_hash, body,
			 body, why);
	free(body);
	if (s == GAPI_FAILED)
		done.error = *why;
	if (s == GAPI_OK || s == GAPI_FAILED) {
		err = store_write(g->st, a, class_done_tx, &done);
		if (err != LOY_OK)
			return err;
	}
	return outcome(s);
}

struct budget_ctx {
	int64_t customer_id, sent;
};

static enum loy_err budget_tx(struct store_tx *tx, void *arg)
{
	struct budget_ctx *x = arg;
	return store_google_notifications(tx, x->customer_id, tx->now - DAY_MS, &x->sent);
}

/* Whether the card may still notify today. */
static bool may_notify(struct gwallet *g, struct arena *a, int64_t customer_id)
{
	struct budget_ctx x = { .customer_id = customer_id };
	return store_read(g->st, a, budget_tx, &x) == LOY_OK && x.sent < NOTIFY_BUDGET;
}

struct object_done_ctx {
	const struct gcard *card;
	const char *hash, *error;
	bool notified;
};

static enum loy_err object_done_tx(struct store_tx *tx, void *arg)
{
	struct object_done_ctx *x = arg;
	const struct gcard *k = x->card;
	enum loy_err err;

	if (x->error)
		return store_google_object_error(tx, k->obj.customer_id, x->error);
	err = store_google_object_synced(tx, k->obj.customer_id, k->cls.class_id, x->hash,
					 k->obj_in.balance);
	if (err == LOY_OK && x->notified)
		err = store_google_notified(tx, k->obj.customer_id);
	return err;
}

enum loy_err gsync_object(struct gwallet *g, struct arena *a, int64_t customer_id,
			  struct gcard *card, const char **why)
{
	char hash[GW_HASH_LEN + 1], *insert = NULL, *patch = NULL;
	struct object_done_ctx done = { .card = card, .hash = hash };
	enum gapi_status s;
	enum loy_err err = gcard_read(g, a, 0, customer_id, true, card);

	if (err != LOY_OK) {
		*why = "the card cannot be read";
		return err;
	}
	err = gsync_class(g, a, card, why);
	if (err == LOY_OK)
		err = gw_object_hash(&card->obj_in, hash);
	if (err != LOY_OK)
		return err;
	if (card->obj.content_hash && strcmp(card->obj.content_hash, hash) == 0 &&
	    card->obj.class_id && strcmp(card->obj.class_id, card->cls.class_id) == 0)
		return LOY_OK;
	/* A balance change tells the phone while the card's daily budget lasts (spec §2.6). */
	done.notified = card->obj.has_balance_sent &&
			card->obj.balance_sent != card->obj_in.balance &&
			may_notify(g, a, customer_id);
	err = gw_object_json(&card->obj_in, &insert, why);
	if (err == LOY_OK)
		err = gw_object_patch_json(&card->obj_in, done.notified, &patch, why);
	if (err == LOY_OK) {
		s = put_resource(card->id, a, PATH_OBJECT, card->obj.object_id,
				 !card->obj.content_hash, insert, patch, why);
		if (s == GAPI_QUOTA &&
		    done.notified) { /* Google counted otherwise: update silently */
			free(patch);
			patch = NULL;
			done.notified = false;
			err = gw_object_patch_json(&card->obj_in, false, &patch, why);
			if (err == LOY_OK)
				s = put_resource(card->id, a, PATH_OBJECT, card->obj.object_id,
						 false, insert, patch, why);
		}
	}
	free(insert);
	free(patch);
	if (err != LOY_OK)
		return err;
	if (s == GAPI_FAILED)
		done.error = *why;
	if (s == GAPI_OK || s == GAPI_FAILED) {
		err = store_write(g->st, a, object_done_tx, &done);
		if (err != LOY_OK)
			return err;
	}
	return outcome(s);
}

/* ---- messages ---- */

struct message_ctx {
	int64_t id;
	struct google_message m;
	const char *state, *error;
	bool notified;
};

static enum loy_err message_read_tx(struct store_tx *tx, void *arg)
{
	struct message_ctx *x = arg;
	return store_google_message_get(tx, x->id, &x->m);
}

static enum loy_err message_done_tx(struct store_tx *tx, void *arg)
{
	struct message_ctx *x = arg;
	enum loy_err err = store_google_message_done(tx, x->id, x->state, x->notified, x->error);
	if (err == LOY_OK && x->notified)
		err = store_google_notified(tx, x->m.customer_id);
	return err;
}

/* Reads the object's messages at Google: whether ours is there, and makes room for one more. */
static enum gapi_status prepare_messages(const struct gid *g, struct arena *a,
					 const char *object_id, const char *message_id,
					 bool *present, const char **why)
{
	const char *one = arena_printf(a, "%s/%s", PATH_OBJECT, object_id);
	json_t *obj = NULL, *messages;
	enum gapi_status s = call(g, "GET", one, NULL, &obj, why, a);
	size_t n;

	*present = false;
	if (s != GAPI_OK)
		return s;
	messages = json_object_get(obj, "messages");
	n = json_array_size(messages);
	for (size_t i = 0; i < n; i++) {
		const char *id =
			json_string_value(json_object_get(json_array_get(messages, i), "id"));
		if (id && strcmp(id, message_id) == 0)
			*present = true;
	}
	if (!*present && n >= MESSAGES_MAX) {
		json_t *keep = json_array();
		for (size_t i = n - (MESSAGES_MAX - 1); i < n; i++)
			json_array_append(keep, json_array_get(messages, i));
		json_t *patch = json_pack("{s:o}", "messages", keep);
		char *body = patch ? json_dumps(patch, JSON_COMPACT) : NULL;
		s = body ? call(g, "PATCH", one, body, NULL, why, a) : GAPI_RETRY;
		free(body);
		json_decref(patch);
	}
	json_decref(obj);
	return s;
}

static enum job_result send_message(struct gwallet *g, struct arena *a, int64_t id,
				    const char **error)
{
	struct message_ctx x = { .id = id };
	struct gcard card;
	bool present;
	char *body = NULL;
	enum gapi_status s;
	enum loy_err err = store_read(g->st, a, message_read_tx, &x);

	if (err == LOY_ENOTFOUND || (err == LOY_OK && strcmp(x.m.state, "queued") != 0))
		return JOB_DONE;
	if (err != LOY_OK)
		return JOB_RETRY;
	err = gsync_object(g, a, x.m.customer_id, &card, error);
	if (err == LOY_ENOTFOUND)
		return JOB_DONE;
	if (err != LOY_OK)
		return err == LOY_EINVALID ? JOB_FAIL : JOB_RETRY;
	s = prepare_messages(card.id, a, card.obj.object_id, x.m.message_id, &present, error);
	if (s == GAPI_OK && !present) {
		const char *path =
			arena_printf(a, "%s/%s/addMessage", PATH_OBJECT, card.obj.object_id);
		int64_t now = time_now_ms();
		x.notified = may_notify(g, a, x.m.customer_id);
		err = gw_message_json(x.m.message_id, x.m.header, x.m.body, x.notified, now,
				      now + MESSAGE_TTL_MS, &body, error);
		if (err != LOY_OK)
			return JOB_FAIL;
		s = call(card.id, "POST", path, body, NULL, error, a);
		if (s == GAPI_QUOTA && x.notified) { /* the budget is spent: a silent TEXT */
			free(body);
			body = NULL;
			x.notified = false;
			err = gw_message_json(x.m.message_id, x.m.header, x.m.body, false, now,
					      now + MESSAGE_TTL_MS, &body, error);
			s = err == LOY_OK ? call(card.id, "POST", path, body, NULL, error, a)
					  : GAPI_FAILED;
		}
		free(body);
	}
	if (s != GAPI_OK && s != GAPI_FAILED)
		return JOB_RETRY;
	x.state = s == GAPI_OK ? "sent" : "failed";
	x.error = s == GAPI_OK ? NULL : *error;
	if (store_write(g->st, a, message_done_tx, &x) != LOY_OK)
		return JOB_RETRY;
	return s == GAPI_OK ? JOB_DONE : JOB_FAIL;
}

/* ---- handlers ---- */

static bool payload_id(const char *payload, const char *key, int64_t *out)
{
	json_t *j = json_loads(payload, 0, NULL);
	json_t *v = json_object_get(j, key);
	bool ok = json_is_integer(v) && json_integer_value(v) > 0;
	if (ok)
		*out = json_integer_value(v);
	json_decref(j);
	return ok;
}

static enum job_result result_of(enum loy_err err)
{
	return err == LOY_OK || err == LOY_ENOTFOUND ? JOB_DONE
	       : err == LOY_EINVALID		     ? JOB_FAIL
						     : JOB_RETRY;
}

static enum job_result google_object(const struct job *job, struct arena *a, void *ctx,
				     const char **error)
{
	struct gcard card;
	int64_t customer;

	if (!payload_id(job->payload, "customer", &customer)) {
		*error = "the payload names no customer";
		return JOB_FAIL;
	}
	return result_of(gsync_object(ctx, a, customer, &card, error));
}

static enum job_result google_class(const struct job *job, struct arena *a, void *ctx,
				    const char **error)
{
	struct gwallet *g = ctx;
	struct gcard card;
	enum loy_err err = gcard_read(g, a, job->business_id, 0, false, &card);

	if (err != LOY_OK) {
		*error = "the business cannot be read";
		return result_of(err);
	}
	return result_of(gsync_class(g, a, &card, error));
}

static enum job_result google_message(const struct job *job, struct arena *a, void *ctx,
				      const char **error)
{
	int64_t id;

	if (!payload_id(job->payload, "message", &id)) {
		*error = "the payload names no message";
		return JOB_FAIL;
	}
	return send_message(ctx, a, id, error);
}

/* Google down for hours must not lose an update: 30 attempts, the wait doubling up to 15
 * minutes, about 6 hours before a job is dead-lettered (and shown to the admin). */
const struct job_kind gwallet_jobs[] = {
	{ "google.object", google_object, 30, 2000, 15 * 60 * 1000, NULL },
	{ "google.class", google_class, 30, 2000, 15 * 60 * 1000, NULL },
	{ "google.message", google_message, 30, 2000, 15 * 60 * 1000, NULL },
};
const size_t gwallet_njobs = sizeof(gwallet_jobs) / sizeof(gwallet_jobs[0]);
