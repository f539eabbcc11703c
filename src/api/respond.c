/* Answering: the one error shape, JSON bodies, and resource rendering shared by the handlers. */
#include <stdlib.h>
#include <string.h>

#include "api/api.h"
#include "base/log.h"
#include "base/timeutil.h"

void api_json(struct http_response *res, int status, json_t *j)
{
	char *text;

	buf_clear(&res->body);
	text = j ? json_dumps(j, JSON_COMPACT) : NULL;
	json_decref(j);
	if (!text || buf_append_cstr(&res->body, text) != LOY_OK) {
		free(text);
		buf_clear(&res->body);
		buf_append_cstr(
			&res->body,
			"{\"error\":{\"code\":\"internal\",\"message\":\"response too large\"}}");
		res->status = 500;
		res->content_type = "application/json";
		return;
	}
	free(text);
	res->status = status;
	res->content_type = "application/json";
}

void api_no_content(struct http_response *res)
{
	buf_clear(&res->body);
	res->status = 204;
	res->content_type = NULL;
}

static const char *default_message(enum loy_err err)
{
	switch (err) {
	case LOY_EMALFORMED:
		return "the body is not a JSON object";
	case LOY_EINVALID:
		return "invalid input";
	case LOY_EUNAUTH:
		return "authentication required";
	case LOY_EFORBIDDEN:
		return "not allowed for this role";
	case LOY_ENOTFOUND:
		return "not found";
	case LOY_EMETHOD:
		return "method not allowed";
	case LOY_ECONFLICT:
		return "conflicts with an existing resource";
	case LOY_EIDEMPOTENCY:
		return "this idempotency key was used with a different request";
	case LOY_ETOOBIG:
		return "request body too large";
	case LOY_EMEDIA:
		return "the body must be application/json";
	case LOY_EBALANCE:
		return "insufficient balance";
	case LOY_ERULE:
		return "the request breaks a business rule";
	case LOY_ERATE:
		return "too many requests";
	case LOY_EUNAVAILABLE:
		return "the service is temporarily unavailable";
	default:
		return "internal error";
	}
}

void api_error(struct http_response *res, enum loy_err err, const char *field, const char *message)
{
	json_t *e = json_object();

	if (err_http_status(err) >= 500 && err != LOY_EUNAVAILABLE)
		message = NULL; /* never leak internals; the log has them */
	json_object_set_new(e, "code", json_string(err_code(err)));
	json_object_set_new(e, "message", json_string(message ? message : default_message(err)));
	if (field)
		json_object_set_new(e, "field", json_string(field));
	api_json(res, err_http_status(err), json_pack("{s:o}", "error", e));
}

json_t *api_time(int64_t ms)
{
	char iso[32];
	if (ms <= 0)
		return json_null();
	time_format_iso(ms, iso, sizeof(iso));
	return json_string(iso);
}

json_t *api_str_or_null(const char *s)
{
	return s ? json_string(s) : json_null();
}

/* ",a,b," → ["a","b"] */
static json_t *render_tags(const char *tags)
{
	json_t *arr = json_array();
	const char *p = tags ? tags : "";

	while (*p) {
		const char *start = p + (*p == ',');
		const char *end = strchr(start, ',');
		if (!end)
			end = start + strlen(start);
		if (end > start)
			json_array_append_new(arr, json_stringn(start, (size_t)(end - start)));
		p = end;
		if (*p == ',' && p[1] == '\0')
			break;
	}
	return arr;
}

json_t *api_render_customer(const struct customer *c)
{
	json_t *consent = json_null();

	if (c->consent_version)
		consent = json_pack("{s:s,s:o,s:o}", "version", c->consent_version, "acceptedAt",
				    api_time(c->consent_at), "ip", api_str_or_null(c->consent_ip));
	return json_pack("{s:I,s:s,s:s,s:o,s:o,s:o,s:I,s:I,s:s,s:s,s:o,s:s,s:o,s:o,s:o}", "id",
			 (json_int_t)c->id, "cardNumber", c->card_number, "name", c->name, "phone",
			 api_str_or_null(c->phone), "email", api_str_or_null(c->email), "birthday",
			 api_str_or_null(c->birthday), "balance", (json_int_t)c->balance,
			 "totalSpent", (json_int_t)c->total_spent, "status", c->status, "source",
			 c->source, "tags", render_tags(c->tags), "notes", c->notes ? c->notes : "",
			 "consent", consent, "registrationDate", api_time(c->created_at),
			 "lastActivity", api_time(c->last_activity));
}

json_t *api_render_entry(const struct ledger_entry *e)
{
	return json_pack("{s:I,s:I,s:s,s:I,s:I,s:o,s:o,s:o,s:s,s:o,s:o,s:o}", "id",
			 (json_int_t)e->id, "customerId", (json_int_t)e->customer_id, "type",
			 ledger_type_name(e->type), "amount", (json_int_t)e->amount, "balanceAfter",
			 (json_int_t)e->balance_after, "description",
			 api_str_or_null(e->description), "orderId", api_str_or_null(e->order_id),
			 "operatorId", api_str_or_null(e->operator_id), "channel", e->channel,
			 "reversalOf", e->reversal_of ? json_integer(e->reversal_of) : json_null(),
			 "reversedBy", e->reversed_by ? json_integer(e->reversed_by) : json_null(),
			 "timestamp", api_time(e->created_at));
}

json_t *api_render_user(const struct user *u)
{
	return json_pack("{s:I,s:s,s:o,s:s,s:b,s:o,s:o}", "id", (json_int_t)u->id, "email",
			 u->email, "name", api_str_or_null(u->name), "role", role_name(u->role),
			 "disabled", u->disabled, "createdAt", api_time(u->created_at),
			 "lastLoginAt", api_time(u->last_login_at));
}

json_t *api_render_apikey(const struct api_key *k)
{
	return json_pack("{s:I,s:s,s:s,s:s,s:o,s:o,s:o}", "id", (json_int_t)k->id, "name", k->name,
			 "role", role_name(k->role), "prefix", k->prefix, "createdAt",
			 api_time(k->created_at), "lastUsedAt", api_time(k->last_used_at),
			 "revokedAt", api_time(k->revoked_at));
}

bool api_read(struct http_request *req, struct http_response *res, store_fn fn, void *ctx)
{
	enum loy_err err = store_read(api_app(req)->st, &req->arena, fn, ctx);
	if (err != LOY_OK)
		api_error(res, err, NULL, NULL);
	return err == LOY_OK;
}
