/* The text customers are found by: name, phone digits, e-mail and card number, lower-cased (ASCII
 * and Cyrillic) so that one LIKE works the same on SQLite and PostgreSQL. */
#ifndef LOY_CORE_SEARCH_H
#define LOY_CORE_SEARCH_H

#include <stddef.h>

#include "base/str.h"

/* Lower-cases valid UTF-8 (A-Z, А-Я, Ё) from in into out (at most outsz-1 bytes, NUL-terminated,
 * never splitting a character). Returns the bytes written. */
size_t search_fold(struct str in, char *out, size_t outsz);

#endif
