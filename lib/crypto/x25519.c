/*
 * x25519.c - the Montgomery ladder of RFC 7748 §5 on Curve25519.
 *
 * Every scalar bit costs the same: one conditional swap by mask, one
 * differential addition and one doubling, whatever the bit's value.
 */
#include "x25519.h"

#include <string.h>

#include "crypto.h"
#include "fe25519.h"

/* (A - 2) / 4 for Curve25519's A = 486662 (RFC 7748 §4.1, §5). */
#define X25519_A24 121665

/* The ladder state: (x2 : z2) = k' u and (x3 : z3) = (k' + 1) u for the
 * scalar prefix k' processed so far, up to the pending swap. */
struct ladder {
	fe x1, x2, z2, x3, z3;
	fe a, aa, b, bb, e, c, d, da, cb;
};

/* One step of RFC 7748 §5: a differential addition into (x3 : z3) and a
 * doubling of (x2 : z2), with the formulas and names of the RFC. */
static void ladder_step(struct ladder *s)
{
	fe_add(&s->a, &s->x2, &s->z2);
	fe_sq(&s->aa, &s->a);
	fe_sub(&s->b, &s->x2, &s->z2);
	fe_sq(&s->bb, &s->b);
	fe_sub(&s->e, &s->aa, &s->bb);
	fe_add(&s->c, &s->x3, &s->z3);
	fe_sub(&s->d, &s->x3, &s->z3);
	fe_mul(&s->da, &s->d, &s->a);
	fe_mul(&s->cb, &s->c, &s->b);

	fe_add(&s->x3, &s->da, &s->cb);
	fe_sq(&s->x3, &s->x3);
	fe_sub(&s->z3, &s->da, &s->cb);
	fe_sq(&s->z3, &s->z3);
	fe_mul(&s->z3, &s->z3, &s->x1);
	fe_mul(&s->x2, &s->aa, &s->bb);
	fe_mul_small(&s->z2, &s->e, X25519_A24);
	fe_add(&s->z2, &s->z2, &s->aa);
	fe_mul(&s->z2, &s->z2, &s->e);
}

/* decodeScalar25519 of RFC 7748 §5: clear the cofactor bits, set bit 254. */
static void clamp(uint8_t k[32], const uint8_t scalar[32])
{
	memcpy(k, scalar, 32);
	k[0] &= 248;
	k[31] &= 127;
	k[31] |= 64;
}

int x25519(uint8_t out[32], const uint8_t scalar[32], const uint8_t point[32])
{
	struct ladder s;
	uint8_t k[32];
	unsigned swap = 0, bit, d = 0;
	int t, i;

	clamp(k, scalar);
	fe_frombytes(&s.x1, point);
	fe_1(&s.x2);
	fe_0(&s.z2);
	s.x3 = s.x1;
	fe_1(&s.z3);

	for (t = 254; t >= 0; t--) {
		bit = (k[t >> 3] >> (t & 7)) & 1;
		swap ^= bit;
		fe_cswap(&s.x2, &s.x3, swap);
		fe_cswap(&s.z2, &s.z3, swap);
		swap = bit;
		ladder_step(&s);
	}
	fe_cswap(&s.x2, &s.x3, swap);
	fe_cswap(&s.z2, &s.z3, swap);

	/* z2 = 0 (point of small order) inverts to 0: the output is 0. */
	fe_invert(&s.z2, &s.z2);
	fe_mul(&s.x2, &s.x2, &s.z2);
	fe_tobytes(out, &s.x2);

	crypto_wipe(&s, sizeof(s));
	crypto_wipe(k, sizeof(k));

	/* RFC 7748 §6.1: all-zero output means the peer sent a point of
	 * small order.  Decided without a branch on the secret result; the
	 * caller's branch on it is fine, since it aborts the exchange. */
	for (i = 0; i < 32; i++)
		d |= out[i];
	return -(int)(((d - 1) >> 8) & 1);
}

int x25519_base(uint8_t out[32], const uint8_t scalar[32])
{
	static const uint8_t nine[32] = { 9 };

	return x25519(out, scalar, nine);
}
