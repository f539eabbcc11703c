/* A growable byte buffer that always has a maximum: appending past `max` fails cleanly with
 * LOY_ETOOBIG and leaves the buffer as it was. The buffer owns `p` (malloc'd); buf_cleanup frees it.
 * Contents are kept NUL-terminated for convenience, the NUL not counted in len. */
#ifndef LOY_BASE_BUF_H
#define LOY_BASE_BUF_H

#include <stddef.h>

#include "base/err.h"

struct buf {
	char *p;
	size_t len;
	size_t cap;
	size_t max;
};

void buf_init(struct buf *b, size_t max);
void buf_cleanup(struct buf *b);
void buf_clear(struct buf *b);
enum loy_err buf_append(struct buf *b, const void *data, size_t n);
enum loy_err buf_append_cstr(struct buf *b, const char *s);
enum loy_err buf_printf(struct buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Hands the bytes to the caller (who frees them) and leaves the buffer empty. */
char *buf_detach(struct buf *b, size_t *len);

#endif
