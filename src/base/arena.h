/* A per-request memory pool: allocations are never freed one by one; everything dies with
 * arena_reset() or arena_free(). Handlers therefore never call free(). An arena has a hard cap so a
 * hostile request cannot make one request eat the machine. */
#ifndef LOY_BASE_ARENA_H
#define LOY_BASE_ARENA_H

#include <stdarg.h>
#include <stddef.h>

#include "base/str.h"

struct arena_chunk;

struct arena {
	struct arena_chunk *head;
	size_t used_total; /* bytes handed out since the last reset */
	size_t cap;	   /* allocations past this fail with NULL */
};

void arena_init(struct arena *a, size_t cap);
/* Frees every chunk but the first, which is kept for reuse. */
void arena_reset(struct arena *a);
/* Frees everything; the arena may be initialised again. */
void arena_free(struct arena *a);

/* Returns 16-byte aligned memory or NULL past the cap / out of memory. */
void *arena_alloc(struct arena *a, size_t n);
void *arena_zalloc(struct arena *a, size_t n);
/* NUL-terminated copies; NULL on failure. */
char *arena_strndup(struct arena *a, const char *s, size_t n);
char *arena_strdup(struct arena *a, const char *s);
char *arena_printf(struct arena *a, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
