/* Card number generation and checking (see card.h). */
#include "core/card.h"

#include "base/rand.h"

static int luhn_check_digit(const char *digits, int n)
{
	int sum = 0;
	/* Doubling starts from the rightmost payload digit, since the check digit will follow it. */
	for (int i = n - 1, dbl = 1; i >= 0; i--, dbl = !dbl) {
		int d = digits[i] - '0';
		if (dbl) {
			d *= 2;
			if (d > 9)
				d -= 9;
		}
		sum += d;
	}
	return (10 - sum % 10) % 10;
}

void card_number_generate(char out[CARD_NUMBER_LEN + 1])
{
	out[0] = (char)('1' + rand_below(9));
	for (int i = 1; i < CARD_NUMBER_LEN - 1; i++)
		out[i] = (char)('0' + rand_below(10));
	out[CARD_NUMBER_LEN - 1] = (char)('0' + luhn_check_digit(out, CARD_NUMBER_LEN - 1));
	out[CARD_NUMBER_LEN] = '\0';
}

bool card_number_valid(struct str s)
{
	if (s.len != CARD_NUMBER_LEN)
		return false;
	for (size_t i = 0; i < s.len; i++)
		if (s.p[i] < '0' || s.p[i] > '9')
			return false;
	return luhn_check_digit(s.p, CARD_NUMBER_LEN - 1) == s.p[CARD_NUMBER_LEN - 1] - '0';
}
