/*
 * fe25519.h - arithmetic in GF(p), p = 2^255 - 19, for X25519 and Ed25519.
 *
 * An element is five unsigned 51-bit limbs, value = sum l[i] * 2^(51 i),
 * multiplied with unsigned __int128 products (x86_64, aarch64).  Limbs are
 * allowed to exceed 51 bits a little: every function accepts limbs below
 * 2^52 and returns limbs below 2^52, so any result may feed any function.
 * Only fe_tobytes() produces the unique (canonical) value below p.
 *
 * Everything here runs in constant time: no branch and no memory index
 * depends on the value of an element.  fe_iszero() and fe_isnegative()
 * return their answer as data; branching on it is the caller's decision.
 */
#ifndef SFTPMNT_FE25519_H
#define SFTPMNT_FE25519_H

#include <stdint.h>

typedef struct {
	uint64_t l[5];
} fe;

void fe_0(fe *h);
void fe_1(fe *h);
/* Little-endian 32 bytes, bit 255 ignored (RFC 7748 §5, RFC 8032 §5.1.3).
 * Values p .. 2^255-1 are accepted as they are; callers that must reject
 * non-canonical encodings compare fe_tobytes() of the result. */
void fe_frombytes(fe *h, const uint8_t s[32]);
/* The canonical encoding: the value reduced below p, little-endian. */
void fe_tobytes(uint8_t s[32], const fe *f);

void fe_add(fe *h, const fe *f, const fe *g);
void fe_sub(fe *h, const fe *f, const fe *g);
void fe_neg(fe *h, const fe *f);
void fe_mul(fe *h, const fe *f, const fe *g);
void fe_sq(fe *h, const fe *f);
/* h = f * n for a small constant n < 2^17 (RFC 7748's a24 = 121665). */
void fe_mul_small(fe *h, const fe *f, uint32_t n);
/* h = 1/f = f^(p-2); 1/0 gives 0. */
void fe_invert(fe *h, const fe *f);
/* h = f^((p-5)/8), the exponent of the square root in RFC 8032 §5.1.3. */
void fe_pow22523(fe *h, const fe *f);

/* Swap f and g when b is 1, leave them when b is 0, in constant time. */
void fe_cswap(fe *f, fe *g, unsigned b);
/* f = g when b is 1, unchanged when b is 0, in constant time. */
void fe_cmov(fe *f, const fe *g, unsigned b);

/* 1 when f = 0 (mod p), else 0. */
unsigned fe_iszero(const fe *f);
/* The low bit of the canonical encoding ("negative" in RFC 8032 §5.1.2). */
unsigned fe_isnegative(const fe *f);

#endif
