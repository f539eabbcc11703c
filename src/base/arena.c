/* Chunked bump allocator behind arena.h. Chunks grow geometrically up to ARENA_CHUNK_MAX so that a
 * typical request (a few KiB) costs one malloc, and the first chunk survives resets. */
#include "base/arena.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ARENA_CHUNK_MIN (8u * 1024u)
#define ARENA_CHUNK_MAX (1024u * 1024u)
#define ARENA_ALIGN 16u

struct arena_chunk {
	struct arena_chunk *next;
	size_t size;
	size_t used;
	_Alignas(16) unsigned char data[];
};

void arena_init(struct arena *a, size_t cap)
{
	a->head = NULL;
	a->used_total = 0;
	a->cap = cap;
}

static void free_chain(struct arena_chunk *c)
{
	while (c) {
		struct arena_chunk *next = c->next;
		free(c);
		c = next;
	}
}

void arena_reset(struct arena *a)
{
	struct arena_chunk *last = a->head;

	if (!last)
		return;
	/* Keep the oldest (last in the list) chunk: it is the one sized for the common case. */
	while (last->next && last->next->next)
		last = last->next;
	if (last->next) {
		struct arena_chunk *keep = last->next;
		last->next = NULL;
		free_chain(a->head);
		a->head = keep;
	}
	a->head->used = 0;
	a->head->next = NULL;
	a->used_total = 0;
}

void arena_free(struct arena *a)
{
	free_chain(a->head);
	a->head = NULL;
	a->used_total = 0;
}

void *arena_alloc(struct arena *a, size_t n)
{
	struct arena_chunk *c = a->head;
	size_t need = (n + ARENA_ALIGN - 1) & ~(size_t)(ARENA_ALIGN - 1);

	if (need < n || a->used_total + need > a->cap)
		return NULL;
	if (!c || c->size - c->used < need) {
		size_t size = c ? c->size * 2 : ARENA_CHUNK_MIN;
		if (size > ARENA_CHUNK_MAX)
			size = ARENA_CHUNK_MAX;
		if (size < need)
			size = need;
		c = malloc(sizeof(*c) + size);
		if (!c)
			return NULL;
		c->size = size;
		c->used = 0;
		c->next = a->head;
		a->head = c;
	}
	void *p = c->data + c->used;
	c->used += need;
	a->used_total += need;
	return p;
}

void *arena_zalloc(struct arena *a, size_t n)
{
	void *p = arena_alloc(a, n);
	if (p)
		memset(p, 0, n);
	return p;
}

char *arena_strndup(struct arena *a, const char *s, size_t n)
{
	char *p = arena_alloc(a, n + 1);
	if (!p)
		return NULL;
	if (n)
		memcpy(p, s, n);
	p[n] = '\0';
	return p;
}

char *arena_strdup(struct arena *a, const char *s)
{
	return arena_strndup(a, s, strlen(s));
}

char *arena_printf(struct arena *a, const char *fmt, ...)
{
	va_list ap, ap2;
	int n;
	char *p;

	va_start(ap, fmt);
	va_copy(ap2, ap);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0) {
		va_end(ap2);
		return NULL;
	}
	p = arena_alloc(a, (size_t)n + 1);
	if (p)
		vsnprintf(p, (size_t)n + 1, fmt, ap2);
	va_end(ap2);
	return p;
}
