/* Fuzz driver for api_bind (src/api/api.h, src/api/input.c), the binding of a JSON request body
 * into typed fields at the API edge. The input is the body; it is parsed as api_parse_body does
 * (jansson, JSON_REJECT_DUPLICATES, objects only) and bound against a table shaped like the
 * customer one. Properties, for any body:
 *   - no crash, no leak, no read outside the document;
 *   - on LOY_OK: every required field is set (and not null); every member is a known field and
 *     is reflected in its jval (set, null, value); every J_STR value is clean UTF-8 without \n \r
 *     or \t and every J_TEXT value clean UTF-8, both within their bounds counted in code points
 *     (by the reference counter in fuzz.h); every J_INT within its bounds;
 *   - api_bind says LOY_OK exactly when an independent model of the rules says the body is good;
 *   - on an error: a message, and a field name that is a table field or a member of the body. */
#include <stddef.h>
#include <string.h>

#include "api/api.h"
#include "core/loyalty.h"
#include "fuzz.h"

struct body {
	struct jval name, phone, email, tags, notes, amount, consent;
};

static const struct jfield fields[] = {
	{ "name", J_STR, J_REQUIRED, 1, API_NAME_MAX, offsetof(struct body, name) },
	{ "phone", J_STR, 0, 1, 32, offsetof(struct body, phone) },
	{ "email", J_STR, J_NULLABLE, 0, 254, offsetof(struct body, email) },
	{ "tags", J_ANY, 0, 0, 0, offsetof(struct body, tags) },
	{ "notes", J_TEXT, 0, 0, API_NOTES_MAX, offsetof(struct body, notes) },
	{ "amount", J_INT, 0, -LOYALTY_AMOUNT_MAX, LOYALTY_AMOUNT_MAX,
	  offsetof(struct body, amount) },
	{ "consent", J_BOOL, 0, 0, 0, offsetof(struct body, consent) },
};
#define NFIELDS (sizeof(fields) / sizeof(fields[0]))

static const struct jfield *field_named(const char *name)
{
	for (size_t i = 0; i < NFIELDS; i++)
		if (strcmp(fields[i].name, name) == 0)
			return &fields[i];
	return NULL;
}

static const struct jval *jval_of(const struct body *b, const struct jfield *f)
{
	return (const struct jval *)((const char *)b + f->off);
}

/* The model: may member v be bound to field f? (f == NULL: an unknown member.) */
static bool member_ok(const struct jfield *f, json_t *v)
{
	const unsigned char *s;
	size_t len, chars;

	if (!f)
		return false;
	if (json_is_null(v))
		return (f->flags & J_NULLABLE) != 0;
	switch (f->kind) {
	case J_STR:
	case J_TEXT:
		if (!json_is_string(v))
			return false;
		s = (const unsigned char *)json_string_value(v);
		len = json_string_length(v);
		if (!fuzz_utf8_clean(s, len, &chars))
			return false;
		if (f->kind == J_STR &&
		    (memchr(s, '\n', len) || memchr(s, '\r', len) || memchr(s, '\t', len)))
			return false;
		return (int64_t)chars >= f->min && (int64_t)chars <= f->max;
	case J_INT:
		return json_is_integer(v) && json_integer_value(v) >= f->min &&
		       json_integer_value(v) <= f->max;
	case J_BOOL:
		return json_is_boolean(v);
	case J_ANY:
		return true;
	}
	return false;
}

static bool model_ok(json_t *doc)
{
	const char *key;
	json_t *v;

	json_object_foreach(doc, key, v)
	{
		if (!member_ok(field_named(key), v))
			return false;
	}
	for (size_t i = 0; i < NFIELDS; i++)
		if ((fields[i].flags & J_REQUIRED) && !json_object_get(doc, fields[i].name))
			return false;
	return true;
}

/* After LOY_OK: each jval says what the document says, within the field's rules. */
static void check_bound(json_t *doc, const struct body *b)
{
	const char *key;
	json_t *v;

	json_object_foreach(doc, key, v)
	{
		FUZZ_CHECK(field_named(key) != NULL, "an unknown member was accepted");
	}
	for (size_t i = 0; i < NFIELDS; i++) {
		const struct jfield *f = &fields[i];
		const struct jval *jv = jval_of(b, f);
		json_t *m = json_object_get(doc, f->name);
		size_t chars;

		FUZZ_CHECK(jv->set == (m != NULL),
			   "set does not say whether the member is present");
		if (f->flags & J_REQUIRED)
			FUZZ_CHECK(jv->set && !jv->null, "a required field is missing or null");
		if (!m)
			continue;
		FUZZ_CHECK(jv->null == json_is_null(m),
			   "null does not say whether the member is null");
		if (jv->null) {
			FUZZ_CHECK(f->flags & J_NULLABLE,
				   "null accepted for a field that is not nullable");
			continue;
		}
		switch (f->kind) {
		case J_STR:
		case J_TEXT:
			FUZZ_CHECK(jv->s == json_string_value(m) &&
					   jv->len == json_string_length(m),
				   "a string field does not view the member's string");
			FUZZ_CHECK(fuzz_utf8_clean((const unsigned char *)jv->s, jv->len, &chars),
				   "a bound string is not clean UTF-8");
			if (f->kind == J_STR)
				FUZZ_CHECK(!memchr(jv->s, '\n', jv->len) &&
						   !memchr(jv->s, '\r', jv->len) &&
						   !memchr(jv->s, '\t', jv->len),
					   "a J_STR value holds \\n, \\r or \\t");
			FUZZ_CHECK((int64_t)chars >= f->min && (int64_t)chars <= f->max,
				   "a bound string is outside its bounds in code points");
			break;
		case J_INT:
			FUZZ_CHECK(json_is_integer(m) && jv->i == json_integer_value(m),
				   "an int field does not hold the member's integer");
			FUZZ_CHECK(jv->i >= f->min && jv->i <= f->max,
				   "a bound int is out of bounds");
			break;
		case J_BOOL:
			FUZZ_CHECK(json_is_boolean(m) && jv->b == json_is_true(m),
				   "a bool field does not hold the member's boolean");
			break;
		case J_ANY:
			FUZZ_CHECK(jv->j == m, "a J_ANY field does not hold the member");
			break;
		}
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	json_error_t jerr;
	json_t *doc = json_loadb((const char *)data, size, JSON_REJECT_DUPLICATES, &jerr);
	struct body b;
	const char *bad = NULL, *message = NULL;
	enum loy_err err;

	if (!doc)
		return 0;
	if (!json_is_object(doc))
		goto out; /* api_parse_body answers 400 before binding */
	memset(&b, 0, sizeof(b));
	err = api_bind(doc, fields, NFIELDS, &b, &bad, &message);
	FUZZ_CHECK((err == LOY_OK) == model_ok(doc), "api_bind disagrees with the model");
	if (err == LOY_OK) {
		check_bound(doc, &b);
	} else {
		FUZZ_CHECK(message && message[0], "an error without a message");
		FUZZ_CHECK(bad && (field_named(bad) || json_object_get(doc, bad)),
			   "an error does not name a field of the table or a member of the body");
	}
out:
	json_decref(doc);
	return 0;
}
