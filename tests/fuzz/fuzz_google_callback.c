/* Fuzzes google_callback_verify (src/crypto/google_callback.c) with bodies as Google would POST
 * them, against a fixed keys document, and b64_decode (src/crypto/b64.c) with the same bytes.
 *
 * The seeds in corpus/google_callback/ were signed once by tests/fakes/google_callback_sign.js
 * with the root key whose public half is ROOT_SPKI below (its private half was not kept), valid
 * until 2100 and checked at a fixed NOW_MS, so good seeds stay good and mutations of them reach the
 * checks after each signature.
 *
 * Properties:
 * - the answer is LOY_OK, LOY_EUNAUTH, LOY_EINVALID or LOY_ENOMEM, never anything else;
 * - on LOY_OK every field is what the header promises: ids of [A-Za-z0-9._-], eventType save or
 *   del, a printable nonce, an expiry after NOW_MS;
 * - on any error *out is all zeroes and *why a sentence;
 * - b64_decode accepts a string only in the one canonical form: decoding then re-encoding gives
 *   back the input (without its padding, in the standard alphabet). */
#include <string.h>

#include "crypto/b64.h"
#include "crypto/google_callback.h"
#include "fuzz.h"

#define NOW_MS 1780000000000LL
#define ISSUER "3388000000022212345"
#define ROOT_SPKI                                                                          \
	"MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEFU47jspxyn8Lsp0kcqIQI1WPT96yy58+7aadke1vkNyA" \
	"PHoTzChZ/xHVAHpq5IXdkfDhqgr1q7QVwJs+S2++bQ=="

static const char keys[] = "{\"keys\":[{\"keyValue\":\"" ROOT_SPKI "\",\"protocolVersion\":"
			   "\"ECv2SigningOnly\",\"keyExpiration\":\"4102444800000\"}]}";

static bool all_of(const char *s, const char *allowed)
{
	return *s && strspn(s, allowed) == strlen(s);
}

static void check_verify(const uint8_t *data, size_t size)
{
	struct google_callback cb;
	const char *why = NULL;
	enum loy_err err =
		google_callback_verify((const char *)data, size, keys, ISSUER, NOW_MS, &cb, &why);

	FUZZ_CHECK(err == LOY_OK || err == LOY_EUNAUTH || err == LOY_EINVALID || err == LOY_ENOMEM,
		   "an answer the header does not promise");
	if (err != LOY_OK) {
		FUZZ_CHECK(why && *why, "an error without a reason");
		for (size_t i = 0; i < sizeof(cb); i++)
			FUZZ_CHECK(((unsigned char *)&cb)[i] == 0, "a half-filled callback");
		return;
	}
	FUZZ_CHECK(all_of(cb.class_id, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
				       "0123456789._-"),
		   "classId");
	FUZZ_CHECK(all_of(cb.object_id, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
					"0123456789._-"),
		   "objectId");
	FUZZ_CHECK(strcmp(cb.event_type, "save") == 0 || strcmp(cb.event_type, "del") == 0,
		   "eventType");
	FUZZ_CHECK(cb.nonce[0] != '\0', "nonce");
	for (const char *p = cb.nonce; *p; p++)
		FUZZ_CHECK(*p > 0x20 && *p < 0x7f, "nonce not printable");
	FUZZ_CHECK(cb.exp_ms > NOW_MS, "expired");
}

static void check_b64(const uint8_t *data, size_t size)
{
	unsigned char out[1024 / 4 * 3 + 1];
	char again[1024 + 4];
	size_t n = 0, m, in_len = size;

	if (size > 1024 || !b64_decode((const char *)data, size, out, &n))
		return;
	FUZZ_CHECK(n <= size * 3 / 4, "decoded more than fits");
	m = b64url_encode(out, n, again);
	for (size_t i = 0; i < m; i++)
		again[i] = again[i] == '-' ? '+' : again[i] == '_' ? '/' : again[i];
	while (in_len > 0 && data[in_len - 1] == '=')
		in_len--;
	FUZZ_CHECK(m == in_len && memcmp(again, data, m) == 0, "a non-canonical encoding accepted");
	FUZZ_CHECK(size - in_len == 0 || size % 4 == 0, "padding on a length not a multiple of 4");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	check_verify(data, size);
	check_b64(data, size);
	return 0;
}
