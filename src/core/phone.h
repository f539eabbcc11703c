/* Phone numbers to E.164. Russia first: "8 (912) 345-67-89", "+7 912 345 67 89", "89123456789" and
 * "9123456789" all become "+79123456789"; other countries must be written with their "+" code. */
#ifndef LOY_CORE_PHONE_H
#define LOY_CORE_PHONE_H

#include <stdbool.h>

#include "base/str.h"

#define PHONE_E164_MAX 17 /* '+', up to 15 digits, NUL */

/* Writes the E.164 form into out (PHONE_E164_MAX bytes). False if the input is not a plausible
 * phone number: only digits, spaces, '(', ')', '-', '.', and one leading '+' are accepted. */
bool phone_normalize(struct str in, char out[PHONE_E164_MAX]);

#endif
