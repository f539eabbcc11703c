/* Growable buffer with a hard maximum (see buf.h). */
#include "base/buf.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void buf_init(struct buf *b, size_t max)
{
	b->p = NULL;
	b->len = 0;
	b->cap = 0;
	b->max = max;
}

void buf_cleanup(struct buf *b)
{
	free(b->p);
	buf_init(b, b->max);
}

void buf_clear(struct buf *b)
{
	b->len = 0;
	if (b->p)
		b->p[0] = '\0';
}

static enum loy_err buf_reserve(struct buf *b, size_t extra)
{
	size_t need = b->len + extra + 1;
	size_t cap;
	char *p;

	if (extra > b->max || b->len + extra > b->max)
		return LOY_ETOOBIG;
	if (need <= b->cap)
		return LOY_OK;
	cap = b->cap ? b->cap : 256;
	while (cap < need)
		cap *= 2;
	if (cap > b->max + 1)
		cap = b->max + 1;
	p = realloc(b->p, cap);
	if (!p)
		return LOY_ENOMEM;
	b->p = p;
	b->cap = cap;
	return LOY_OK;
}

enum loy_err buf_append(struct buf *b, const void *data, size_t n)
{
	enum loy_err err = buf_reserve(b, n);
	if (err != LOY_OK)
		return err;
	if (n)
		memcpy(b->p + b->len, data, n);
	b->len += n;
	b->p[b->len] = '\0';
	return LOY_OK;
}

enum loy_err buf_append_cstr(struct buf *b, const char *s)
{
	return buf_append(b, s, strlen(s));
}

enum loy_err buf_printf(struct buf *b, const char *fmt, ...)
{
	va_list ap;
	int n;
	enum loy_err err;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0)
		return LOY_EINTERNAL;
	err = buf_reserve(b, (size_t)n);
	if (err != LOY_OK)
		return err;
	va_start(ap, fmt);
	vsnprintf(b->p + b->len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	b->len += (size_t)n;
	return LOY_OK;
}

char *buf_detach(struct buf *b, size_t *len)
{
	char *p = b->p;
	if (len)
		*len = b->len;
	buf_init(b, b->max);
	return p;
}
