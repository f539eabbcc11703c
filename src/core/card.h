/* Card numbers: 9 digits a cashier can read aloud and type, the last a Luhn check digit so that a
 * mistyped digit, or a swap of neighbours (except 0 and 9, which Luhn cannot see), is caught before
 * the database is asked. */
#ifndef LOY_CORE_CARD_H
#define LOY_CORE_CARD_H

#include <stdbool.h>

#include "base/str.h"

#define CARD_NUMBER_LEN 9

/* Writes a random card number (first digit 1..9) plus NUL into out. */
void card_number_generate(char out[CARD_NUMBER_LEN + 1]);
/* True if s is CARD_NUMBER_LEN digits with a valid check digit. */
bool card_number_valid(struct str s);

#endif
