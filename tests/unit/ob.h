/*
 * ob.h - a growable byte string for the tests' own SSH encodings (the
 * test side of a protocol, written from the RFCs, not lib/buf.c): raw
 * bytes, byte, uint32, string, mpint (RFC 4251 5).  Include after
 * <check.h>; an allocation failure fails the test.
 */
#ifndef SFTPMNT_TEST_OB_H
#define SFTPMNT_TEST_OB_H

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

struct ob {
	uint8_t *p;
	size_t n, cap;
};

static inline void ob_bytes(struct ob *o, const void *p, size_t n)
{
	if (o->n + n > o->cap) {
		o->cap = (o->n + n) * 2 + 64;
		o->p = realloc(o->p, o->cap);
		ck_assert_ptr_nonnull(o->p);
	}
	if (n)
		memcpy(o->p + o->n, p, n);
	o->n += n;
}

static inline void ob_u8(struct ob *o, uint8_t v)
{
	ob_bytes(o, &v, 1);
}

static inline void ob_u32(struct ob *o, uint32_t v)
{
	uint8_t b[4] = {(uint8_t)(v >> 24), (uint8_t)(v >> 16),
			(uint8_t)(v >> 8), (uint8_t)v};

	ob_bytes(o, b, 4);
}

static inline void ob_string(struct ob *o, const void *p, size_t n)
{
	ob_u32(o, (uint32_t)n);
	ob_bytes(o, p, n);
}

static inline void ob_cstring(struct ob *o, const char *s)
{
	ob_string(o, s, strlen(s));
}

/* RFC 4251 5: mpint of an unsigned big-endian magnitude: no leading
 * zero bytes, one zero byte in front when the top bit is set. */
static inline void ob_mpint(struct ob *o, const uint8_t *mag, size_t n)
{
	size_t i = 0;

	while (i < n && mag[i] == 0)
		i++;
	if (i < n && (mag[i] & 0x80)) {
		ob_u32(o, (uint32_t)(n - i + 1));
		ob_u8(o, 0);
	} else {
		ob_u32(o, (uint32_t)(n - i));
	}
	ob_bytes(o, mag + i, n - i);
}

static inline void ob_free(struct ob *o)
{
	free(o->p);
	memset(o, 0, sizeof(*o));
}

#endif
