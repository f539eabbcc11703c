/* Input at the edge: JSON bodies bound into typed fields with bounds, path and query parameters.
 * Handlers see only values that passed these checks. */
#include <string.h>
#include <strings.h>

#include "api/api.h"

static bool content_type_is_json(const char *ct)
{
	size_t n = strlen("application/json");
	if (!ct || strncasecmp(ct, "application/json", n) != 0)
		return false;
	ct += n;
	while (*ct == ' ')
		ct++;
	return *ct == '\0' || *ct == ';';
}

enum loy_err api_parse_body(struct http_request *req, json_t **out, const char **message)
{
	json_error_t jerr;
	json_t *doc;

	if (req->body_too_big) {
		*message = "request body too large";
		return LOY_ETOOBIG;
	}
	if (!content_type_is_json(http_header(req, "Content-Type"))) {
		*message = "Content-Type must be application/json";
		return LOY_EMEDIA;
	}
	doc = json_loadb(req->body.p ? req->body.p : "", req->body.len, JSON_REJECT_DUPLICATES,
			 &jerr);
	if (!doc) {
		*message = "the body is not valid JSON";
		return LOY_EMALFORMED;
	}
	if (!json_is_object(doc)) {
		json_decref(doc);
		*message = "the body must be a JSON object";
		return LOY_EMALFORMED;
	}
	*out = doc;
	return LOY_OK;
}

static const struct jfield *find_field(const struct jfield *fields, size_t n, const char *name)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(fields[i].name, name) == 0)
			return &fields[i];
	return NULL;
}

static enum loy_err bind_one(const struct jfield *f, json_t *v, struct jval *out,
			     const char **message)
{
	out->set = true;
	if (json_is_null(v)) {
		if (!(f->flags & J_NULLABLE)) {
			*message = "must not be null";
			return LOY_EINVALID;
		}
		out->null = true;
		return LOY_OK;
	}
	switch (f->kind) {
	case J_STR:
	case J_TEXT: {
		struct str s;
		size_t chars;
		if (!json_is_string(v)) {
			*message = "must be a string";
			return LOY_EINVALID;
		}
		s = (struct str){ json_string_value(v), json_string_length(v) };
		if (!str_is_clean_utf8(s) ||
		    (f->kind == J_STR && (memchr(s.p, '\n', s.len) || memchr(s.p, '\r', s.len) ||
					  memchr(s.p, '\t', s.len)))) {
			*message = f->kind == J_STR ? "must be one line without control characters"
						    : "must not contain control characters";
			return LOY_EINVALID;
		}
		chars = str_utf8_len(s);
		if ((int64_t)chars < f->min || (int64_t)chars > f->max) {
			*message = chars < (size_t)f->min ? "is too short" : "is too long";
			return LOY_EINVALID;
		}
		out->s = s.p;
		out->len = s.len;
		return LOY_OK;
	}
	case J_INT:
		if (!json_is_integer(v)) {
			*message = "must be an integer";
			return LOY_EINVALID;
		}
		out->i = json_integer_value(v);
		if (out->i < f->min || out->i > f->max) {
			*message = "is out of range";
			return LOY_EINVALID;
		}
		return LOY_OK;
	case J_BOOL:
		if (!json_is_boolean(v)) {
			*message = "must be a boolean";
			return LOY_EINVALID;
		}
		out->b = json_is_true(v);
		return LOY_OK;
	case J_ANY:
		out->j = v;
		return LOY_OK;
	}
	return LOY_EINTERNAL;
}

enum loy_err api_bind(json_t *obj, const struct jfield *fields, size_t n, void *out,
		      const char **bad, const char **message)
{
	const char *key;
	json_t *v;

	json_object_foreach(obj, key, v)
	{
		const struct jfield *f = find_field(fields, n, key);
		enum loy_err err;
		if (!f) {
			*bad = key;
			*message = "unknown field";
			return LOY_EINVALID;
		}
		err = bind_one(f, v, (struct jval *)((char *)out + f->off), message);
		if (err != LOY_OK) {
			*bad = f->name;
			return err;
		}
	}
	for (size_t i = 0; i < n; i++) {
		const struct jval *jv = (const struct jval *)((const char *)out + fields[i].off);
		if ((fields[i].flags & J_REQUIRED) && !jv->set) {
			*bad = fields[i].name;
			*message = "is required";
			return LOY_EINVALID;
		}
	}
	return LOY_OK;
}

bool api_read_body(struct http_request *req, struct http_response *res, const struct jfield *fields,
		   size_t n, void *out, json_t **doc)
{
	const char *message = NULL, *bad = NULL;
	bool required = false;
	enum loy_err err;

	for (size_t i = 0; i < n; i++)
		required |= (fields[i].flags & J_REQUIRED) != 0;
	/* A POST whose fields are all optional may come without a body at all. */
	if (!required && req->body.len == 0 && !req->body_too_big &&
	    !http_header(req, "Content-Type")) {
		*doc = json_object();
		return *doc != NULL || (api_error(res, LOY_ENOMEM, NULL, NULL), false);
	}
	err = api_parse_body(req, doc, &message);

	if (err == LOY_OK) {
		err = api_bind(*doc, fields, n, out, &bad, &message);
		if (err != LOY_OK) {
			/* The field name is part of the document: copy it before releasing it. */
			bad = bad ? arena_strdup(&req->arena, bad) : NULL;
			json_decref(*doc);
			*doc = NULL;
		}
	}
	if (err != LOY_OK) {
		char *full = bad && message ? arena_printf(&req->arena, "%s %s", bad, message)
					    : (char *)message;
		api_error(res, err, bad, full);
		return false;
	}
	return true;
}

bool api_param_id(struct http_request *req, struct http_response *res, int i, int64_t *out)
{
	int64_t v;
	if (i < req->nparams && str_to_i64(req->params[i], &v) && v > 0) {
		*out = v;
		return true;
	}
	api_error(res, LOY_ENOTFOUND, NULL, "no such resource");
	return false;
}

bool api_query_int(struct http_request *req, struct http_response *res, const char *name,
		   int64_t min, int64_t max, int64_t def, int64_t *out)
{
	const char *s = http_query(req, name);
	int64_t v;

	if (!s) {
		*out = def;
		return true;
	}
	if (!str_to_i64(str_from(s), &v) || v < min || v > max) {
		char *msg = arena_printf(&req->arena, "%s must be an integer from %lld to %lld",
					 name, (long long)min, (long long)max);
		api_error(res, LOY_EINVALID, name, msg);
		return false;
	}
	*out = v;
	return true;
}

bool api_query_only(struct http_request *req, struct http_response *res, const char *const *allowed)
{
	const char *bad = http_query_unknown(req, allowed);
	if (bad) {
		api_error(res, LOY_EINVALID, arena_strdup(&req->arena, bad),
			  "unknown query parameter");
		return false;
	}
	return true;
}

const char *api_str(struct http_request *req, const struct jval *v)
{
	if (!v->set || v->null)
		return NULL;
	return arena_strndup(&req->arena, v->s, v->len);
}
