/* Fuzz driver for phone_normalize (src/core/phone.h), which parses every phone number a customer
 * or a cashier types. Properties, for any bytes:
 *   - no crash, and no read outside the view (the input is not NUL-terminated);
 *   - when it accepts, the output is '+' followed by 8..15 digits, the first not 0, NUL-terminated
 *     inside PHONE_E164_MAX bytes;
 *   - idempotence: normalising that output again accepts it and gives the same output. */
#include <string.h>

#include "core/phone.h"
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char out[PHONE_E164_MAX], again[PHONE_E164_MAX];
	size_t n;

	memset(out, 'x', sizeof(out)); /* so a missing NUL shows */
	if (!phone_normalize((struct str){ (const char *)data, size }, out))
		return 0;
	n = strnlen(out, sizeof(out));
	FUZZ_CHECK(n < sizeof(out), "accepted output is not NUL-terminated within PHONE_E164_MAX");
	FUZZ_CHECK(out[0] == '+', "accepted output does not start with '+'");
	FUZZ_CHECK(n - 1 >= 8 && n - 1 <= 15, "accepted output does not have 8..15 digits");
	for (size_t i = 1; i < n; i++)
		FUZZ_CHECK(out[i] >= '0' && out[i] <= '9', "accepted output has a non-digit");
	FUZZ_CHECK(out[1] != '0', "country code starts with 0");

	memset(again, 'x', sizeof(again));
	FUZZ_CHECK(phone_normalize((struct str){ out, n }, again), "own output is rejected");
	FUZZ_CHECK(strcmp(out, again) == 0, "normalising twice changes the number");
	return 0;
}
