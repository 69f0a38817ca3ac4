/*
 * alloc.h - the caller's allocator (libssh2_session_init_ex), carried to
 * every module that allocates on a session's behalf.
 */
#ifndef SFTPMNT_ALLOC_H
#define SFTPMNT_ALLOC_H

#include <stddef.h>

struct lalloc {
	void *(*alloc)(size_t count, void **abstract);
	void (*free)(void *ptr, void **abstract);
	void *(*realloc)(void *ptr, size_t count, void **abstract);
	void **abstract;
};

/* The system allocator, for code with no session (tests, helpers). */
extern const struct lalloc lalloc_system;

static inline void *la_alloc(const struct lalloc *a, size_t n)
{
	return a->alloc(n ? n : 1, a->abstract);
}

static inline void *la_realloc(const struct lalloc *a, void *p, size_t n)
{
	return a->realloc(p, n ? n : 1, a->abstract);
}

static inline void la_free(const struct lalloc *a, void *p)
{
	if (p)
		a->free(p, a->abstract);
}

void *la_calloc(const struct lalloc *a, size_t n);
char *la_strndup(const struct lalloc *a, const char *s, size_t n);
/* Wipe n bytes at p, then free it. */
void la_free_wipe(const struct lalloc *a, void *p, size_t n);

#endif
