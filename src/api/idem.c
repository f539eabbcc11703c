/* Idempotent writes. A request with an Idempotency-Key gets, on every retry, the first response
 * given for it (status and body) and changes nothing more: the key is claimed in the same
 * transaction as the work, and the work runs in a savepoint so that when it is refused (a 4xx) its
 * changes are undone while the refusal itself is kept as the key's response. */
#include <stdlib.h>
#include <string.h>

#include "api/api.h"
#include "base/buf.h"
#include "crypto/digest.h"

bool api_idem_prepare(struct http_request *req, struct http_response *res, struct api_idem *idem)
{
	const char *key = http_header(req, "Idempotency-Key");

	idem->key = NULL;
	if (key && (strlen(key) == 0 || strlen(key) > API_KEY_LEN_MAX ||
		    !str_is_visible_ascii(str_from(key)))) {
		api_error(res, LOY_EINVALID, "Idempotency-Key",
			  "Idempotency-Key must be 1 to 128 visible ASCII characters");
		return false;
	}
	idem->key = key;
	idem->hash[0] = '\0';
	return key ? api_idem_hash(req, res, idem) : true;
}

bool api_idem_hash(struct http_request *req, struct http_response *res, struct api_idem *idem)
{
	struct buf b;

	/* The hash covers what makes two requests "the same": method, path and body. */
	buf_init(&b, req->body.len + 1024);
	if (buf_printf(&b, "%s %.*s\n", req->method, (int)req->path.len, req->path.p) != LOY_OK ||
	    buf_append(&b, req->body.p ? req->body.p : "", req->body.len) != LOY_OK) {
		buf_cleanup(&b);
		api_error(res, LOY_ENOMEM, NULL, NULL);
		return false;
	}
	digest_sha256_hex(b.p, b.len, idem->hash);
	buf_cleanup(&b);
	return true;
}

enum loy_err api_idem_replay(struct http_response *res, const struct idem_replay *r)
{
	buf_clear(&res->body);
	if (buf_append_cstr(&res->body, r->body) != LOY_OK)
		return LOY_ENOMEM;
	res->status = r->status;
	res->content_type = "application/json";
	res->nheaders = 0;
	http_set_header(res, "Idempotent-Replayed", "true");
	return LOY_OK;
}

struct write_frame {
	struct http_request *req;
	struct http_response *res;
	struct api_write w;
	enum loy_err refused; /* the 4xx the operation ended with, stored as the response */
	bool key_conflict;    /* the Idempotency-Key was used for another request */
};

static bool is_refusal(enum loy_err err)
{
	int status = err_http_status(err);
	return status >= 400 && status < 500;
}

static enum loy_err store_response(struct store_tx *tx, const struct write_frame *f)
{
	const struct api_write *w = &f->w;
	if (!w->idem || !w->idem->key)
		return LOY_OK;
	return store_idem_finish(tx, w->business_id, "key", w->idem->key, f->res->status,
				 f->res->body.p ? f->res->body.p : "");
}

static enum loy_err write_tx(struct store_tx *tx, void *arg)
{
	struct write_frame *f = arg;
	const struct api_write *w = &f->w;
	enum loy_err err;

	f->refused = LOY_OK;
	f->key_conflict = false;
	/* Without a key there is no refusal to keep: failing the whole unit of work undoes the
	 * operation just as well, and saves the savepoint's round trips on the hottest writes. */
	if (!w->idem || !w->idem->key)
		return w->op(tx, w->ctx);
	if (w->idem && w->idem->key) {
		struct idem_replay r;
		err = store_idem_claim(tx, w->business_id, "key", w->idem->key, w->idem->hash, &r);
		f->key_conflict = err == LOY_EIDEMPOTENCY;
		if (err != LOY_OK)
			return err;
		if (r.replayed)
			return api_idem_replay(f->res, &r);
	}
	err = store_savepoint(tx, w->op, w->ctx);
	if (err == LOY_OK)
		return store_response(tx, f);
	if (!is_refusal(err))
		return err;
	f->refused = err;
	if (w->fail)
		w->fail(f->res, err, w->ctx);
	else
		api_error(f->res, err, NULL, NULL);
	return store_response(tx, f);
}

/* The transaction's outcome is known: make sure res answers it, then let the caller finish. */
static void write_finished(struct write_frame *f, enum loy_err err)
{
	const struct api_write *w = &f->w;

	if (err != LOY_OK) {
		f->res->nheaders = 0;
		if (f->key_conflict)
			api_error(f->res, err, "Idempotency-Key",
				  "this Idempotency-Key was used for another request");
		else if (is_refusal(err) && w->fail)
			w->fail(f->res, err, w->ctx);
		else
			api_error(f->res, err, NULL, NULL);
	} else {
		err = f->refused;
	}
	if (w->done)
		w->done(f->req, err, w->ctx);
	json_decref(w->doc);
}

static void write_committed(void *arg, enum loy_err err)
{
	struct write_frame *f = arg;
	write_finished(f, err);
	http_complete(f->req);
}

static void write_start(void *arg)
{
	struct write_frame *f = arg;
	enum loy_err err = store_write_async(api_app(f->req)->st, &f->req->arena, write_tx, f,
					     write_committed, f);
	if (err != LOY_OK)
		write_committed(f, err);
}

void api_write(struct http_request *req, struct http_response *res, const struct api_write *w)
{
	struct write_frame *f = arena_zalloc(&req->arena, sizeof(*f));

	if (!f) {
		struct write_frame local = { .req = req, .res = res, .w = *w };
		write_finished(&local, LOY_ENOMEM);
		return;
	}
	*f = (struct write_frame){ .req = req, .res = res, .w = *w };
	if (req->can_defer && store_can_write_async(api_app(req)->st)) {
		http_defer(req, write_start, f);
		return;
	}
	write_finished(f, store_write(api_app(req)->st, &req->arena, write_tx, f));
}
