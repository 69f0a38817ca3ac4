/*
 * buf.h - wire buffers: a borrowed, bounds-checked reader and a capped,
 * growable writer for the SSH binary encodings of RFC 4251 section 5.
 *
 * Reader rules: every length from the wire is checked by subtraction
 * against what is left (never off + n > len), every string returned is a
 * borrowed pointer into the buffer, and decoders end with rb_done() so a
 * message with trailing junk is refused.
 *
 * Writer rules: messages are built with puts; a length that precedes
 * data whose size is not known yet is reserved and poked afterwards
 * (wb_begin_len/wb_end_len), never summed by hand.  Byte order stays in
 * here.  A writer that hits its cap or fails to grow returns an error
 * from the put and keeps failing (sticky), so a sequence of puts can be
 * checked once at the end with wb_ok().
 */
#ifndef SFTPMNT_BUF_H
#define SFTPMNT_BUF_H

#include <stddef.h>
#include <stdint.h>

#include "alloc.h"

#define BUF_WUR __attribute__((warn_unused_result))

/* Errors of buf functions (negative, mapped to LIBSSH2_ERROR_* above). */
#define BUF_ESHORT (-1) /* reader: not enough bytes */
#define BUF_EBIG (-2)	/* writer: cap reached; reader: value too large */
#define BUF_ENOMEM (-3) /* writer: allocation failed */
#define BUF_EINVAL (-4) /* malformed (bad mpint, trailing bytes, NUL) */

/* ---- reader ------------------------------------------------------------- */

struct rbuf {
	const uint8_t *p;
	size_t len;
	size_t off;
};

static inline void rb_init(struct rbuf *r, const void *p, size_t len)
{
	r->p = p;
	r->len = len;
	r->off = 0;
}

static inline size_t rb_left(const struct rbuf *r)
{
	return r->len - r->off;
}

static inline const uint8_t *rb_cur(const struct rbuf *r)
{
	return r->p + r->off;
}

int rb_u8(struct rbuf *r, uint8_t *v) BUF_WUR;
int rb_bool(struct rbuf *r, int *v) BUF_WUR;
int rb_u32(struct rbuf *r, uint32_t *v) BUF_WUR;
int rb_u64(struct rbuf *r, uint64_t *v) BUF_WUR;
/* n raw bytes, borrowed. */
int rb_bytes(struct rbuf *r, size_t n, const uint8_t **p) BUF_WUR;
int rb_skip(struct rbuf *r, size_t n) BUF_WUR;
/* uint32 length + bytes, borrowed; lengths over max are BUF_EBIG. */
int rb_string(struct rbuf *r, const uint8_t **p, size_t *n,
	      size_t max) BUF_WUR;
/* A string that must not contain NUL (names, name-lists, paths). */
int rb_text(struct rbuf *r, const char **p, size_t *n, size_t max) BUF_WUR;
/* A string parsed as a nested reader. */
int rb_sub(struct rbuf *r, struct rbuf *sub, size_t max) BUF_WUR;
/*
 * mpint (RFC 4251 5): returns the magnitude without the sign byte, and
 * refuses negative numbers and non-minimal encodings.  Zero is n == 0.
 */
int rb_mpint(struct rbuf *r, const uint8_t **p, size_t *n,
	     size_t max) BUF_WUR;
/* 0 when every byte was consumed, BUF_EINVAL otherwise. */
int rb_done(const struct rbuf *r) BUF_WUR;

/* ---- writer ------------------------------------------------------------- */

struct wbuf {
	uint8_t *p;
	size_t len;
	size_t cap;
	size_t max;
	int err; /* first error, sticky */
	const struct lalloc *a;
};

/* An empty writer that may grow to max bytes (no allocation yet). */
void wb_init(struct wbuf *w, const struct lalloc *a, size_t max);
/* Frees the storage; wb_free_wipe also zeroes it first (secrets). */
void wb_free(struct wbuf *w);
void wb_free_wipe(struct wbuf *w);
/* Empties the writer but keeps its storage. */
void wb_reset(struct wbuf *w);
/* 0 or the first error of any put since init/reset. */
static inline int wb_ok(const struct wbuf *w)
{
	return w->err;
}
/* Make room for n more bytes; returns a pointer to them (len grows). */
int wb_reserve(struct wbuf *w, size_t n, uint8_t **p) BUF_WUR;
/* Ensure capacity for n more bytes without changing len. */
int wb_grow(struct wbuf *w, size_t n) BUF_WUR;

int wb_u8(struct wbuf *w, uint8_t v) BUF_WUR;
int wb_bool(struct wbuf *w, int v) BUF_WUR;
int wb_u32(struct wbuf *w, uint32_t v) BUF_WUR;
int wb_u64(struct wbuf *w, uint64_t v) BUF_WUR;
int wb_bytes(struct wbuf *w, const void *p, size_t n) BUF_WUR;
int wb_string(struct wbuf *w, const void *p, size_t n) BUF_WUR;
int wb_cstring(struct wbuf *w, const char *s) BUF_WUR;
/* mpint from an unsigned big-endian magnitude (leading zeros dropped,
 * a zero byte added when the top bit is set). */
int wb_mpint(struct wbuf *w, const uint8_t *p, size_t n) BUF_WUR;
/* Reserve a uint32 length; wb_end_len pokes the bytes written since. */
int wb_begin_len(struct wbuf *w, size_t *mark) BUF_WUR;
void wb_end_len(struct wbuf *w, size_t mark);
/* Overwrite 4 bytes at off (must be inside len). */
void wb_poke_u32(struct wbuf *w, size_t off, uint32_t v);

/* ---- byte order helpers ------------------------------------------------ */

static inline uint32_t get_u32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	       (uint32_t)p[2] << 8 | p[3];
}

static inline void put_u32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

static inline uint64_t get_u64(const uint8_t *p)
{
	return (uint64_t)get_u32(p) << 32 | get_u32(p + 4);
}

static inline void put_u64(uint8_t *p, uint64_t v)
{
	put_u32(p, (uint32_t)(v >> 32));
	put_u32(p + 4, (uint32_t)v);
}

#endif
