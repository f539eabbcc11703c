/* Idempotency for unsafe API requests: a retried request with the same Idempotency-Key gets the
 * first response (status and body) again, and changes nothing. The key is claimed in the same
 * transaction as the work, so the record and the effect commit together or not at all. */
#include <stdlib.h>
#include <string.h>

#include "api/api.h"
#include "base/buf.h"
#include "crypto/digest.h"

bool api_idem_prepare(struct http_request *req, struct http_response *res, struct api_idem *idem)
{
	const char *key = http_header(req, "Idempotency-Key");
	struct buf b;

	idem->key = NULL;
	if (key && (strlen(key) == 0 || strlen(key) > API_KEY_LEN_MAX ||
	    !str_is_visible_ascii(str_from(key)))) {
		api_error(res, LOY_EINVALID, "Idempotency-Key",
			  "Idempotency-Key must be 1 to 128 visible ASCII characters");
		return false;
	}
	idem->key = key;
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

enum loy_err api_idem_begin(struct store_tx *tx, struct http_request *req,
			    struct http_response *res, const struct api_idem *idem,
			    int64_t business_id, bool *replayed)
{
	struct idem_replay r;
	enum loy_err err;

	*replayed = false;
	if (!idem->key)
		return LOY_OK;
	err = store_idem_claim(tx, business_id, "key", idem->key, idem->hash, &r);
	if (err != LOY_OK || !r.replayed)
		return err;
	buf_clear(&res->body);
	if (buf_append_cstr(&res->body, r.body) != LOY_OK)
		return LOY_ENOMEM;
	res->status = r.status;
	res->content_type = "application/json";
	http_set_header(res, "Idempotent-Replayed", "true");
	*replayed = true;
	return LOY_OK;
}

enum loy_err api_idem_end(struct store_tx *tx, const struct api_idem *idem,
			  struct http_response *res, int64_t business_id)
{
	if (!idem->key)
		return LOY_OK;
	return store_idem_finish(tx, business_id, "key", idem->key, res->status,
				 res->body.p ? res->body.p : "");
}
