/*
 * fe25519.c - arithmetic in GF(2^255 - 19), radix 2^51.
 *
 * Reduction uses 2^255 = 19 (mod p): a product limb of weight 2^(51 k),
 * k >= 5, folds back into weight 2^(51 (k - 5)) multiplied by 19.
 *
 * Bounds (see fe25519.h): inputs have limbs < 2^52.  A product term is
 * then < 2^52 * 19 * 2^52 < 2^109, a column of five < 2^111, well inside
 * 128 bits; the carry out of the top column is < 2^56, and 19 times that
 * still fits a 64-bit limb.
 */
#include "fe25519.h"

#include <string.h>

__extension__ typedef unsigned __int128 u128;

#define MASK51 ((UINT64_C(1) << 51) - 1)

static uint64_t load64_le(const uint8_t *p)
{
	uint64_t v = 0;
	int i;

	for (i = 7; i >= 0; i--)
		v = (v << 8) | p[i];
	return v;
}

static void store64_le(uint8_t *p, uint64_t v)
{
	int i;

	for (i = 0; i < 8; i++, v >>= 8)
		p[i] = (uint8_t)v;
}

static u128 mul64(uint64_t a, uint64_t b)
{
	return (u128)a * b;
}

/* Bring limbs below 2^51 (limb 0 below 2^51 + 19 * 2^13), value kept. */
static void fe_carry(fe *h)
{
	uint64_t c;
	int i;

	for (i = 0; i < 4; i++) {
		c = h->l[i] >> 51;
		h->l[i] &= MASK51;
		h->l[i + 1] += c;
	}
	c = h->l[4] >> 51;
	h->l[4] &= MASK51;
	h->l[0] += 19 * c;
}

/* Carry five 128-bit columns into h (limbs < 2^52 afterwards). */
static void fe_carry_wide(fe *h, u128 r[5])
{
	uint64_t c;
	int i;

	for (i = 0; i < 4; i++) {
		r[i + 1] += (uint64_t)(r[i] >> 51);
		h->l[i] = (uint64_t)r[i] & MASK51;
	}
	c = (uint64_t)(r[4] >> 51);
	h->l[4] = (uint64_t)r[4] & MASK51;
	h->l[0] += 19 * c;
	h->l[1] += h->l[0] >> 51;
	h->l[0] &= MASK51;
}

void fe_0(fe *h)
{
	memset(h, 0, sizeof(*h));
}

void fe_1(fe *h)
{
	memset(h, 0, sizeof(*h));
	h->l[0] = 1;
}

void fe_frombytes(fe *h, const uint8_t s[32])
{
	uint64_t w0 = load64_le(s), w1 = load64_le(s + 8);
	uint64_t w2 = load64_le(s + 16), w3 = load64_le(s + 24);

	/* Bits 0-50, 51-101, 102-152, 153-203, 204-254; bit 255 dropped. */
	h->l[0] = w0 & MASK51;
	h->l[1] = ((w0 >> 51) | (w1 << 13)) & MASK51;
	h->l[2] = ((w1 >> 38) | (w2 << 26)) & MASK51;
	h->l[3] = ((w2 >> 25) | (w3 << 39)) & MASK51;
	h->l[4] = (w3 >> 12) & MASK51;
}

void fe_tobytes(uint8_t s[32], const fe *f)
{
	fe t = *f;
	uint64_t q, c;
	int i;

	/* After one carry the value is below 2^255 + 2^6 < 2p, so it is
	 * reduced by subtracting p at most once.  q = floor((t + 19) / 2^255)
	 * is 1 exactly when t >= p; adding 19 q and dropping bit 255 then
	 * subtracts q p without a branch. */
	fe_carry(&t);
	q = (t.l[0] + 19) >> 51;
	for (i = 1; i < 5; i++)
		q = (t.l[i] + q) >> 51;
	t.l[0] += 19 * q;
	for (i = 0; i < 4; i++) {
		c = t.l[i] >> 51;
		t.l[i] &= MASK51;
		t.l[i + 1] += c;
	}
	t.l[4] &= MASK51;

	store64_le(s, t.l[0] | (t.l[1] << 51));
	store64_le(s + 8, (t.l[1] >> 13) | (t.l[2] << 38));
	store64_le(s + 16, (t.l[2] >> 26) | (t.l[3] << 25));
	store64_le(s + 24, (t.l[3] >> 39) | (t.l[4] << 12));
}

void fe_add(fe *h, const fe *f, const fe *g)
{
	int i;

	for (i = 0; i < 5; i++)
		h->l[i] = f->l[i] + g->l[i];
	fe_carry(h);
}

/* h = f + 4p - g: the multiple of p keeps every limb non-negative for
 * limbs of g below 2^52 < 4 (2^51 - 19). */
void fe_sub(fe *h, const fe *f, const fe *g)
{
	static const uint64_t four_p[5] = {
		(UINT64_C(1) << 53) - 76, (UINT64_C(1) << 53) - 4,
		(UINT64_C(1) << 53) - 4,  (UINT64_C(1) << 53) - 4,
		(UINT64_C(1) << 53) - 4,
	};
	int i;

	for (i = 0; i < 5; i++)
		h->l[i] = f->l[i] + four_p[i] - g->l[i];
	fe_carry(h);
}

void fe_neg(fe *h, const fe *f)
{
	fe zero;

	fe_0(&zero);
	fe_sub(h, &zero, f);
}

/*
 * Schoolbook 5x5 product.  Column k collects f_i g_j with i + j = k and,
 * times 19, those with i + j = k + 5.
 */
void fe_mul(fe *h, const fe *f, const fe *g)
{
	const uint64_t *a = f->l, *b = g->l;
	uint64_t b1 = 19 * b[1], b2 = 19 * b[2], b3 = 19 * b[3];
	uint64_t b4 = 19 * b[4];
	u128 r[5];

	r[0] = mul64(a[0], b[0]) + mul64(a[1], b4) + mul64(a[2], b3) +
	       mul64(a[3], b2) + mul64(a[4], b1);
	r[1] = mul64(a[0], b[1]) + mul64(a[1], b[0]) + mul64(a[2], b4) +
	       mul64(a[3], b3) + mul64(a[4], b2);
	r[2] = mul64(a[0], b[2]) + mul64(a[1], b[1]) + mul64(a[2], b[0]) +
	       mul64(a[3], b4) + mul64(a[4], b3);
	r[3] = mul64(a[0], b[3]) + mul64(a[1], b[2]) + mul64(a[2], b[1]) +
	       mul64(a[3], b[0]) + mul64(a[4], b4);
	r[4] = mul64(a[0], b[4]) + mul64(a[1], b[3]) + mul64(a[2], b[2]) +
	       mul64(a[3], b[1]) + mul64(a[4], b[0]);
	fe_carry_wide(h, r);
}

/* As fe_mul(h, f, f) with the symmetric terms f_i f_j + f_j f_i merged. */
void fe_sq(fe *h, const fe *f)
{
	const uint64_t *a = f->l;
	uint64_t d0 = 2 * a[0], d1 = 2 * a[1], d2 = 2 * a[2], d3 = 2 * a[3];
	uint64_t a3_19 = 19 * a[3], a4_19 = 19 * a[4];
	u128 r[5];

	r[0] = mul64(a[0], a[0]) + mul64(d1, a4_19) + mul64(d2, a3_19);
	r[1] = mul64(d0, a[1]) + mul64(d2, a4_19) + mul64(a[3], a3_19);
	r[2] = mul64(d0, a[2]) + mul64(a[1], a[1]) + mul64(d3, a4_19);
	r[3] = mul64(d0, a[3]) + mul64(d1, a[2]) + mul64(a[4], a4_19);
	r[4] = mul64(d0, a[4]) + mul64(d1, a[3]) + mul64(a[2], a[2]);
	fe_carry_wide(h, r);
}

void fe_mul_small(fe *h, const fe *f, uint32_t n)
{
	u128 r[5];
	int i;

	for (i = 0; i < 5; i++)
		r[i] = mul64(f->l[i], n);
	fe_carry_wide(h, r);
}

/* h = f^(2^n); n >= 1. */
static void fe_sqn(fe *h, const fe *f, int n)
{
	int i;

	fe_sq(h, f);
	for (i = 1; i < n; i++)
		fe_sq(h, h);
}

/*
 * z^(2^250 - 1) and z^11, the common part of the two exponents below:
 * p - 2 = (2^250 - 1) 2^5 + 11 and (p - 5) / 8 = (2^250 - 1) 2^2 + 1.
 * Each step doubles the run of one bits: z^(2^2k - 1) is z^(2^k - 1)
 * squared k times times z^(2^k - 1).  254 squarings, 11 multiplications.
 */
static void fe_pow250(fe *t250, fe *z11, const fe *z)
{
	fe z2, z9, a, b, c;

	fe_sq(&z2, z);
	fe_sqn(&a, &z2, 2);
	fe_mul(&z9, &a, z);
	fe_mul(z11, &z9, &z2);
	fe_sq(&a, z11);
	fe_mul(&a, &a, &z9);		/* z^(2^5 - 1) */
	fe_sqn(&b, &a, 5);
	fe_mul(&b, &b, &a);		/* z^(2^10 - 1) */
	fe_sqn(&c, &b, 10);
	fe_mul(&c, &c, &b);		/* z^(2^20 - 1) */
	fe_sqn(&a, &c, 20);
	fe_mul(&a, &a, &c);		/* z^(2^40 - 1) */
	fe_sqn(&a, &a, 10);
	fe_mul(&b, &a, &b);		/* z^(2^50 - 1) */
	fe_sqn(&a, &b, 50);
	fe_mul(&a, &a, &b);		/* z^(2^100 - 1) */
	fe_sqn(&c, &a, 100);
	fe_mul(&c, &c, &a);		/* z^(2^200 - 1) */
	fe_sqn(&c, &c, 50);
	fe_mul(t250, &c, &b);		/* z^(2^250 - 1) */
}

/* Fermat: f^(p-2) = 1/f for f != 0 (RFC 7748 §5). */
void fe_invert(fe *h, const fe *f)
{
	fe t, z11;

	fe_pow250(&t, &z11, f);
	fe_sqn(&t, &t, 5);
	fe_mul(h, &t, &z11);
}

void fe_pow22523(fe *h, const fe *f)
{
	fe t, z11;

	fe_pow250(&t, &z11, f);
	fe_sqn(&t, &t, 2);
	fe_mul(h, &t, f);
}

void fe_cswap(fe *f, fe *g, unsigned b)
{
	uint64_t mask = 0 - (uint64_t)(b & 1), x;
	int i;

	for (i = 0; i < 5; i++) {
		x = mask & (f->l[i] ^ g->l[i]);
		f->l[i] ^= x;
		g->l[i] ^= x;
	}
}

void fe_cmov(fe *f, const fe *g, unsigned b)
{
	uint64_t mask = 0 - (uint64_t)(b & 1);
	int i;

	for (i = 0; i < 5; i++)
		f->l[i] ^= mask & (f->l[i] ^ g->l[i]);
}

unsigned fe_iszero(const fe *f)
{
	uint8_t s[32];
	unsigned d = 0;
	int i;

	fe_tobytes(s, f);
	for (i = 0; i < 32; i++)
		d |= s[i];
	/* d - 1 borrows into bit 8 only when d == 0. */
	return ((d - 1) >> 8) & 1;
}

unsigned fe_isnegative(const fe *f)
{
	uint8_t s[32];

	fe_tobytes(s, f);
	return s[0] & 1;
}
