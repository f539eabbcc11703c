/* Fuzz driver for card_number_valid (src/core/card.h), the check on card numbers typed at the till
 * or scanned from a pass. Properties:
 *   - any bytes: no crash, no read outside the view; only 9 ASCII digits can be valid;
 *   - of the ten numbers that end an 8-digit payload (taken from the input), exactly one is valid;
 *   - a valid number stays valid (checked again from another buffer), and changing any one of its
 *     digits to any other digit makes it invalid;
 *   - swapping two different neighbouring digits makes it invalid, except a 0 next to a 9: that
 *     one transposition is invisible to Luhn, whatever card.h's comment promises. */
#include <string.h>

#include "core/card.h"
#include "fuzz.h"

static bool valid(const char *s, size_t n)
{
	return card_number_valid((struct str){ s, n });
}

static void check_valid_number(const char num[CARD_NUMBER_LEN])
{
	char copy[CARD_NUMBER_LEN];

	memcpy(copy, num, sizeof(copy));
	FUZZ_CHECK(valid(copy, sizeof(copy)), "a valid number is not valid from another buffer");
	for (int i = 0; i < CARD_NUMBER_LEN; i++) {
		for (char d = '0'; d <= '9'; d++) {
			if (d == num[i])
				continue;
			copy[i] = d;
			FUZZ_CHECK(!valid(copy, sizeof(copy)), "changing one digit keeps it valid");
		}
		copy[i] = num[i];
	}
	for (int i = 0; i + 1 < CARD_NUMBER_LEN; i++) {
		char a = num[i], b = num[i + 1];
		if (a == b || (a == '0' && b == '9') || (a == '9' && b == '0'))
			continue;
		copy[i] = b;
		copy[i + 1] = a;
		FUZZ_CHECK(!valid(copy, sizeof(copy)), "swapping two neighbours keeps it valid");
		copy[i] = a;
		copy[i + 1] = b;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char num[CARD_NUMBER_LEN];
	int nvalid = 0;
	char found = 0;

	/* The raw input as typed. */
	if (valid((const char *)data, size)) {
		FUZZ_CHECK(size == CARD_NUMBER_LEN, "a valid number does not have 9 characters");
		for (size_t i = 0; i < size; i++)
			FUZZ_CHECK(data[i] >= '0' && data[i] <= '9',
				   "a valid number has a non-digit");
		check_valid_number((const char *)data);
	}

	/* A payload made of the input's first 8 bytes, so that valid numbers are common. */
	for (int i = 0; i < CARD_NUMBER_LEN - 1; i++)
		num[i] = (char)('0' + ((size_t)i < size ? data[i] % 10 : 0));
	for (char d = '0'; d <= '9'; d++) {
		num[CARD_NUMBER_LEN - 1] = d;
		if (valid(num, sizeof(num))) {
			nvalid++;
			found = d;
		}
	}
	FUZZ_CHECK(nvalid == 1, "a payload does not have exactly one check digit");
	num[CARD_NUMBER_LEN - 1] = found;
	check_valid_number(num);
	return 0;
}
