/* E.164 normalisation (see phone.h). The national rules are Russia's (and Kazakhstan's, which shares
 * +7): a leading 8 is the trunk prefix, a bare 10-digit number starting with 9 is a mobile. */
#include "core/phone.h"

#include <string.h>

bool phone_normalize(struct str in, char out[PHONE_E164_MAX])
{
	char digits[32];
	size_t n = 0;
	bool plus = false;

	for (size_t i = 0; i < in.len; i++) {
		char ch = in.p[i];
		if (ch >= '0' && ch <= '9') {
			if (n >= sizeof(digits) - 1)
				return false;
			digits[n++] = ch;
		} else if (ch == '+' && n == 0 && !plus) {
			plus = true;
		} else if (ch != ' ' && ch != '(' && ch != ')' && ch != '-' && ch != '.') {
			return false;
		}
	}
	digits[n] = '\0';
	if (!plus) {
		if (n == 11 && (digits[0] == '8' || digits[0] == '7')) {
			digits[0] = '7';
		} else if (n == 10 && digits[0] == '9') {
			memmove(digits + 1, digits, n + 1);
			digits[0] = '7';
			n++;
		} else {
			return false;
		}
	}
	/* E.164: country code never starts with 0; 8..15 digits in all. */
	if (n < 8 || n > 15 || digits[0] == '0')
		return false;
	if (digits[0] == '7' && n != 11)
		return false;
	out[0] = '+';
	memcpy(out + 1, digits, n + 1);
	return true;
}
