/* Customer field checks (see customer_input.h). */
#include "api/customer_input.h"

#include <string.h>

#include "base/timeutil.h"
#include "core/email.h"
#include "core/phone.h"
#include "core/search.h"

static bool fail(struct http_request *req, struct http_response *res, const char *field,
		 const char *msg)
{
	api_error(res, LOY_EINVALID, field, arena_printf(&req->arena, "%s %s", field, msg));
	return false;
}

static bool apply_tags(struct http_request *req, struct http_response *res, json_t *arr,
		       struct customer *c)
{
	struct buf b;
	size_t i;
	json_t *v;

	if (!json_is_array(arr))
		return fail(req, res, "tags", "must be an array of strings");
	if (json_array_size(arr) > API_TAGS_MAX)
		return fail(req, res, "tags", "has too many items (at most 20)");
	buf_init(&b, API_TAGS_MAX * (API_TAG_LEN_MAX * 4 + 1) + 2);
	json_array_foreach(arr, i, v)
	{
		struct str s;
		size_t n;
		char needle[API_TAG_LEN_MAX * 4 + 3];
		if (!json_is_string(v)) {
			buf_cleanup(&b);
			return fail(req, res, "tags", "must be an array of strings");
		}
		s = (struct str){ json_string_value(v), json_string_length(v) };
		n = str_utf8_len(s);
		if (n == 0 || n > API_TAG_LEN_MAX || !str_is_clean_utf8(s) ||
		    memchr(s.p, ',', s.len) || memchr(s.p, '%', s.len) || memchr(s.p, '_', s.len) ||
		    memchr(s.p, '!', s.len)) {
			buf_cleanup(&b);
			return fail(req, res, "tags",
				    "items must be 1 to 40 characters without , % _ or !");
		}
		snprintf(needle, sizeof(needle), ",%.*s,", (int)s.len, s.p);
		if (b.len && strstr(b.p, needle))
			continue; /* duplicates collapse */
		if ((b.len == 0 && buf_append(&b, ",", 1) != LOY_OK) ||
		    buf_append(&b, s.p, s.len) != LOY_OK || buf_append(&b, ",", 1) != LOY_OK) {
			buf_cleanup(&b);
			return fail(req, res, "tags", "are too long");
		}
	}
	c->tags = arena_strdup(&req->arena, b.p ? b.p : "");
	buf_cleanup(&b);
	return true;
}

static const char *trimmed(struct http_request *req, const struct jval *v)
{
	const char *s = v->s;
	size_t n = v->len;
	while (n && (*s == ' ' || *s == '\t' || *s == '\n' || *s == '\r'))
		s++, n--;
	while (n && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\n' || s[n - 1] == '\r'))
		n--;
	return arena_strndup(&req->arena, s, n);
}

bool customer_input_apply(struct http_request *req, struct http_response *res,
			  const struct customer_in *in, struct customer *c)
{
	if (in->name.set) {
		c->name = trimmed(req, &in->name);
		if (!c->name[0])
			return fail(req, res, "name", "must not be blank");
		if (strchr(c->name, '\n') || strchr(c->name, '\r') || strchr(c->name, '\t'))
			return fail(req, res, "name", "must be one line");
	}
	if (in->phone.set) {
		char e164[PHONE_E164_MAX];
		if (!phone_normalize((struct str){ in->phone.s, in->phone.len }, e164))
			return fail(req, res, "phone", "is not a valid phone number");
		c->phone = arena_strdup(&req->arena, e164);
	}
	if (in->email.set) {
		if (in->email.null) {
			c->email = NULL;
		} else {
			char *e = arena_strndup(&req->arena, in->email.s, in->email.len);
			if (!email_valid(str_from(e)))
				return fail(req, res, "email", "is not a valid e-mail address");
			for (char *p = e; *p; p++)
				if (*p >= 'A' && *p <= 'Z')
					*p = (char)(*p + 32);
			c->email = e;
		}
	}
	if (in->birthday.set) {
		int y, m, d;
		char today[32];
		if (in->birthday.null) {
			c->birthday = NULL;
		} else {
			if (!time_parse_date(in->birthday.s, in->birthday.len, &y, &m, &d))
				return fail(req, res, "birthday", "must be a date YYYY-MM-DD");
			time_format_iso(time_now_ms(), today, sizeof(today));
			if (memcmp(in->birthday.s, today, 10) > 0)
				return fail(req, res, "birthday", "must not be in the future");
			c->birthday = arena_strndup(&req->arena, in->birthday.s, 10);
		}
	}
	if (in->status.set) {
		const char *s = api_str(req, &in->status);
		if (strcmp(s, "active") && strcmp(s, "inactive") && strcmp(s, "blocked"))
			return fail(req, res, "status", "must be active, inactive or blocked");
		c->status = s;
	}
	if (in->tags.set && !apply_tags(req, res, in->tags.j, c))
		return false;
	if (in->notes.set)
		c->notes = api_str(req, &in->notes);
	return customer_search_text(&req->arena, c) ||
	       (api_error(res, LOY_ENOMEM, NULL, NULL), false);
}

bool customer_search_text(struct arena *a, struct customer *c)
{
	char folded[API_NAME_MAX * 4 + 1];
	char *s;

	search_fold(str_from(c->name ? c->name : ""), folded, sizeof(folded));
	s = arena_printf(a, "%s %s %s", folded, c->phone ? c->phone + 1 : "",
			 c->email ? c->email : "");
	c->search = s;
	return s != NULL;
}

const char *customer_search_pattern(struct arena *a, const char *query)
{
	char folded[API_QUERY_MAX * 4 + 1];
	char e164[PHONE_E164_MAX];
	struct str q = str_from(query);
	size_t digits = 0, phone_chars = 0;
	struct buf b;
	const char *out;

	for (size_t i = 0; i < q.len; i++) {
		if (q.p[i] >= '0' && q.p[i] <= '9')
			digits++;
		if (strchr("0123456789 +-()", q.p[i]))
			phone_chars++;
	}
	if (digits >= 3 && phone_chars == q.len) {
		/* A phone fragment: compare digits only; a whole number is normalised first. */
		size_t n = 0;
		if (phone_normalize(q, e164)) {
			memmove(e164, e164 + 1, strlen(e164));
		} else {
			for (size_t i = 0; i < q.len && n < sizeof(e164) - 1; i++)
				if (q.p[i] >= '0' && q.p[i] <= '9')
					e164[n++] = q.p[i];
			e164[n] = '\0';
		}
		q = str_from(e164);
	} else {
		search_fold(q, folded, sizeof(folded));
		q = str_from(folded);
	}
	buf_init(&b, q.len * 2 + 3);
	buf_append(&b, "%", 1);
	for (size_t i = 0; i < q.len; i++) {
		if (q.p[i] == '%' || q.p[i] == '_' || q.p[i] == '!')
			buf_append(&b, "!", 1);
		buf_append(&b, &q.p[i], 1);
	}
	buf_append(&b, "%", 1);
	out = arena_strdup(a, b.p);
	buf_cleanup(&b);
	return out;
}
