/*
 * ed25519.c - PureEdDSA Ed25519 of RFC 8032 §5.1.
 *
 * The curve is -x^2 + y^2 = 1 + d x^2 y^2 over GF(2^255 - 19), points in
 * the extended coordinates of RFC 8032 §5.1.4 with its complete addition
 * and doubling formulas, so no input needs a special case.
 *
 * Scalar multiplication writes the scalar in signed radix 16, digits in
 * [-8, 8], and looks up |digit| * P by reading all eight table entries
 * through masks, then negates by mask: no branch and no memory index
 * depends on the scalar.  For the base point B the table holds
 * j 256^i B for all 32 rows i, so [a]B needs 64 additions and 4 doublings:
 * sum of the odd digits' terms, times 16, plus the even digits' terms.
 *
 * Scalars mod L use Barrett reduction on 64-bit words (HAC Algorithm
 * 14.42, b = 2^64, k = 4) with the final subtractions done by mask.
 */
#include "ed25519.h"

#include <pthread.h>
#include <string.h>

#include "crypto.h"
#include "fe25519.h"

__extension__ typedef unsigned __int128 u128;

/* d = -121665/121666, 2d, and sqrt(-1) = 2^((p-1)/4) (RFC 8032 §5.1,
 * §5.1.3), as fe25519.h limbs. */
static const fe ed_d = { {
	0x34dca135978a3, 0x1a8283b156ebd, 0x5e7a26001c029,
	0x739c663a03cbb, 0x52036cee2b6ff,
} };
static const fe ed_d2 = { {
	0x69b9426b2f159, 0x35050762add7a, 0x3cf44c0038052,
	0x6738cc7407977, 0x2406d9dc56dff,
} };
static const fe ed_sqrtm1 = { {
	0x61b274a0ea0b0, 0x0d5a5fc8f189d, 0x7ef5e9cbd0c60,
	0x78595a6804c9e, 0x2b8324804fc1d,
} };

/* The encoding of B: y = 4/5 mod p, x non-negative (RFC 8032 §5.1). */
static const uint8_t ed_base_enc[32] = {
	0x58, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66,
	0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66,
	0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66,
	0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66,
};

/* L = 2^252 + 27742317777372353535851937790883648493 (RFC 8032 §5.1) and
 * mu = floor(2^512 / L), little-endian 64-bit words. */
static const uint64_t sc_L[5] = {
	0x5812631a5cf5d3ed, 0x14def9dea2f79cd6, 0, 0x1000000000000000, 0,
};
static const uint64_t sc_mu[5] = {
	0xed9ce5a30a2c131b, 0x2106215d086329a7, 0xffffffffffffffeb,
	0xffffffffffffffff, 0xf,
};

/* ---- points -------------------------------------------------------------- */

/* Extended coordinates: x = X/Z, y = Y/Z, x y = T/Z. */
struct ge {
	fe X, Y, Z, T;
};

/* The second operand of an addition: Y + X, Y - X, Z, 2 d T. */
struct ge_cached {
	fe ypx, ymx, z, t2d;
};

#define BASE_ROWS 32
#define WINDOW 8

/* base_tab[i][j] = (j + 1) 256^i B, filled once (about 0.1 ms). */
static struct ge_cached base_tab[BASE_ROWS][WINDOW];
static pthread_once_t base_once = PTHREAD_ONCE_INIT;

static void ge_identity(struct ge *p)
{
	fe_0(&p->X);
	fe_1(&p->Y);
	fe_1(&p->Z);
	fe_0(&p->T);
}

static void ge_to_cached(struct ge_cached *c, const struct ge *p)
{
	fe_add(&c->ypx, &p->Y, &p->X);
	fe_sub(&c->ymx, &p->Y, &p->X);
	c->z = p->Z;
	fe_mul(&c->t2d, &p->T, &ed_d2);
}

/* r = p + q, RFC 8032 §5.1.4 addition; r may be p. */
static void ge_add(struct ge *r, const struct ge *p, const struct ge_cached *q)
{
	fe a, b, c, d, e, f, g, h;

	fe_sub(&a, &p->Y, &p->X);
	fe_mul(&a, &a, &q->ymx);
	fe_add(&b, &p->Y, &p->X);
	fe_mul(&b, &b, &q->ypx);
	fe_mul(&c, &p->T, &q->t2d);
	fe_mul(&d, &p->Z, &q->z);
	fe_add(&d, &d, &d);
	fe_sub(&e, &b, &a);
	fe_sub(&f, &d, &c);
	fe_add(&g, &d, &c);
	fe_add(&h, &b, &a);
	fe_mul(&r->X, &e, &f);
	fe_mul(&r->Y, &g, &h);
	fe_mul(&r->T, &e, &h);
	fe_mul(&r->Z, &f, &g);
}

/* r = 2 p, RFC 8032 §5.1.4 doubling; r may be p. */
static void ge_dbl(struct ge *r, const struct ge *p)
{
	fe a, b, c, e, f, g, h;

	fe_sq(&a, &p->X);
	fe_sq(&b, &p->Y);
	fe_sq(&c, &p->Z);
	fe_add(&c, &c, &c);
	fe_add(&h, &a, &b);
	fe_add(&e, &p->X, &p->Y);
	fe_sq(&e, &e);
	fe_sub(&e, &h, &e);
	fe_sub(&g, &a, &b);
	fe_add(&f, &c, &g);
	fe_mul(&r->X, &e, &f);
	fe_mul(&r->Y, &g, &h);
	fe_mul(&r->T, &e, &h);
	fe_mul(&r->Z, &f, &g);
}

/* RFC 8032 §5.1.2: y little-endian, bit 255 = low bit of x. */
static void ge_encode(uint8_t s[32], const struct ge *p)
{
	fe zinv, x, y;

	fe_invert(&zinv, &p->Z);
	fe_mul(&x, &p->X, &zinv);
	fe_mul(&y, &p->Y, &zinv);
	fe_tobytes(s, &y);
	s[31] |= (uint8_t)(fe_isnegative(&x) << 7);
}

/* x = u v^3 (u v^7)^((p-5)/8), a square root of u/v if one exists
 * (RFC 8032 §5.1.3 step 2); returns 0 if v x^2 = +-u, fixing the sign. */
static int ge_recover_x(fe *x, const fe *u, const fe *v)
{
	fe v3, t, vxx;

	fe_sq(&v3, v);
	fe_mul(&v3, &v3, v);
	fe_sq(&t, &v3);
	fe_mul(&t, &t, v);
	fe_mul(&t, &t, u);
	fe_pow22523(&t, &t);
	fe_mul(&t, &t, &v3);
	fe_mul(x, &t, u);

	/* Step 3: v x^2 = u, or = -u and x times sqrt(-1) is the root. */
	fe_sq(&vxx, x);
	fe_mul(&vxx, &vxx, v);
	fe_sub(&t, &vxx, u);
	if (fe_iszero(&t))
		return 0;
	fe_add(&t, &vxx, u);
	if (!fe_iszero(&t))
		return -1;
	fe_mul(x, x, &ed_sqrtm1);
	return 0;
}

/* RFC 8032 §5.1.3.  Public data only: branches freely.  0 or -1. */
static int ge_decode(struct ge *p, const uint8_t s[32])
{
	unsigned sign = s[31] >> 7;
	uint8_t canon[32];
	fe u, v;

	/* Step 1: y < p, checked by re-encoding. */
	fe_frombytes(&p->Y, s);
	fe_tobytes(canon, &p->Y);
	canon[31] |= (uint8_t)(sign << 7);
	if (memcmp(canon, s, 32) != 0)
		return -1;

	fe_1(&p->Z);
	fe_sq(&u, &p->Y);
	fe_mul(&v, &u, &ed_d);
	fe_sub(&u, &u, &p->Z);		/* u = y^2 - 1 */
	fe_add(&v, &v, &p->Z);		/* v = d y^2 + 1 */
	if (ge_recover_x(&p->X, &u, &v))
		return -1;

	/* Step 4: x = 0 has no negative twin; else pick x by its low bit. */
	if (fe_iszero(&p->X) && sign)
		return -1;
	if (fe_isnegative(&p->X) != sign)
		fe_neg(&p->X, &p->X);
	fe_mul(&p->T, &p->X, &p->Y);
	return 0;
}

/* ---- constant-time scalar multiplication --------------------------------- */

/*
 * a = sum e[i] 16^i with e[i] in [-8, 7], e[63] in [0, 8]; a < 2^255.
 * A nibble plus the incoming carry is in [0, 16]; 8 and above borrow 16
 * from the next digit.  Arithmetic only, no branch on the digits.
 */
static void scalar_digits(int8_t e[64], const uint8_t a[32])
{
	int i, v, carry = 0;

	for (i = 0; i < 32; i++) {
		e[2 * i] = (int8_t)(a[i] & 15);
		e[2 * i + 1] = (int8_t)(a[i] >> 4);
	}
	for (i = 0; i < 63; i++) {
		v = e[i] + carry;
		carry = (v + 8) >> 4;
		e[i] = (int8_t)(v - (carry << 4));
	}
	e[63] = (int8_t)(e[63] + carry);
}

/* 1 if a == b, else 0, for a, b < 2^31. */
static unsigned ct_eq(unsigned a, unsigned b)
{
	return ((a ^ b) - 1) >> 31;
}

/* t = e P from tab[j] = (j + 1) P, |e| <= 8, touching every entry. */
static void select_cached(struct ge_cached *t, const struct ge_cached tab[8],
			  int8_t e)
{
	unsigned neg = (unsigned)(int)e >> 31;
	unsigned mag = (((unsigned)(int)e) ^ (0u - neg)) + neg;
	unsigned hit;
	fe minus;
	int j;

	fe_1(&t->ypx);
	fe_1(&t->ymx);
	fe_1(&t->z);
	fe_0(&t->t2d);
	for (j = 0; j < WINDOW; j++) {
		hit = ct_eq(mag, (unsigned)j + 1);
		fe_cmov(&t->ypx, &tab[j].ypx, hit);
		fe_cmov(&t->ymx, &tab[j].ymx, hit);
		fe_cmov(&t->z, &tab[j].z, hit);
		fe_cmov(&t->t2d, &tab[j].t2d, hit);
	}
	/* -(X : Y : Z : T) = (-X : Y : Z : -T): swap Y+X and Y-X, negate. */
	fe_cswap(&t->ypx, &t->ymx, neg);
	fe_neg(&minus, &t->t2d);
	fe_cmov(&t->t2d, &minus, neg);
}

/* tab[j] = (j + 1) p. */
static void ge_window(struct ge_cached tab[WINDOW], const struct ge *p)
{
	struct ge q = *p;
	int j;

	ge_to_cached(&tab[0], p);
	for (j = 1; j < WINDOW; j++) {
		ge_add(&q, &q, &tab[0]);
		ge_to_cached(&tab[j], &q);
	}
}

static void base_init(void)
{
	struct ge row;
	int i, k;

	/* A constant: it decodes. */
	(void)ge_decode(&row, ed_base_enc);
	for (i = 0; i < BASE_ROWS; i++) {
		ge_window(base_tab[i], &row);
		for (k = 0; k < 8; k++)
			ge_dbl(&row, &row);
	}
}

/* r = [a]B, a < 2^255. */
static void ge_scalarmult_base(struct ge *r, const uint8_t a[32])
{
	struct ge_cached t;
	int8_t e[64];
	int i;

	(void)pthread_once(&base_once, base_init);
	scalar_digits(e, a);
	ge_identity(r);
	for (i = 1; i < 64; i += 2) {
		select_cached(&t, base_tab[i / 2], e[i]);
		ge_add(r, r, &t);
	}
	for (i = 0; i < 4; i++)
		ge_dbl(r, r);
	for (i = 0; i < 64; i += 2) {
		select_cached(&t, base_tab[i / 2], e[i]);
		ge_add(r, r, &t);
	}
	crypto_wipe(e, sizeof(e));
	crypto_wipe(&t, sizeof(t));
}

/* r = [a]p, a < 2^255: four doublings and one addition per digit. */
static void ge_scalarmult(struct ge *r, const uint8_t a[32], const struct ge *p)
{
	struct ge_cached tab[WINDOW], t;
	int8_t e[64];
	int i, k;

	ge_window(tab, p);
	scalar_digits(e, a);
	ge_identity(r);
	for (i = 63; i >= 0; i--) {
		for (k = 0; k < 4; k++)
			ge_dbl(r, r);
		select_cached(&t, tab, e[i]);
		ge_add(r, r, &t);
	}
	crypto_wipe(e, sizeof(e));
	crypto_wipe(tab, sizeof(tab));
	crypto_wipe(&t, sizeof(t));
}

/* ---- scalars mod L ------------------------------------------------------- */

static void words_load(uint64_t *w, const uint8_t *s, int n)
{
	int i, j;

	for (i = 0; i < n; i++) {
		w[i] = 0;
		for (j = 7; j >= 0; j--)
			w[i] = (w[i] << 8) | s[8 * i + j];
	}
}

static void words_store(uint8_t *s, const uint64_t *w, int n)
{
	int i, j;

	for (i = 0; i < n; i++)
		for (j = 0; j < 8; j++)
			s[8 * i + j] = (uint8_t)(w[i] >> (8 * j));
}

/* out[0 .. na + nb - 1] = a b, schoolbook; the same steps for any value. */
static void mp_mul(uint64_t *out, const uint64_t *a, int na,
		   const uint64_t *b, int nb)
{
	uint64_t carry;
	u128 t;
	int i, j;

	memset(out, 0, sizeof(*out) * (size_t)(na + nb));
	for (i = 0; i < na; i++) {
		carry = 0;
		for (j = 0; j < nb; j++) {
			t = (u128)a[i] * b[j] + out[i + j] + carry;
			out[i + j] = (uint64_t)t;
			carry = (uint64_t)(t >> 64);
		}
		out[i + nb] = carry;
	}
}

/* t = t - L if t >= L, else t; chosen by mask. */
static void sc_csub(uint64_t t[5])
{
	uint64_t s[5], borrow = 0, keep;
	u128 d;
	int i;

	for (i = 0; i < 5; i++) {
		d = (u128)t[i] - sc_L[i] - borrow;
		s[i] = (uint64_t)d;
		borrow = (uint64_t)(d >> 64) & 1;
	}
	keep = borrow - 1;	/* all ones when there was no borrow */
	for (i = 0; i < 5; i++)
		t[i] = (s[i] & keep) | (t[i] & ~keep);
}

/*
 * r = x mod L for x < 2^512 (HAC 14.42): q = floor(floor(x / b^3) mu / b^5)
 * is at most 2 below floor(x / L), so x - q L, computed mod b^5, lies in
 * [0, 3L) and two conditional subtractions finish.
 */
static void sc_reduce_words(uint64_t r[4], const uint64_t x[8])
{
	uint64_t q2[10], q3l[10], t[5], borrow = 0;
	u128 d;
	int i;

	mp_mul(q2, x + 3, 5, sc_mu, 5);
	mp_mul(q3l, q2 + 5, 5, sc_L, 5);
	for (i = 0; i < 5; i++) {
		d = (u128)x[i] - q3l[i] - borrow;
		t[i] = (uint64_t)d;
		borrow = (uint64_t)(d >> 64) & 1;
	}
	sc_csub(t);
	sc_csub(t);
	memcpy(r, t, 4 * sizeof(*r));
	crypto_wipe(q2, sizeof(q2));
	crypto_wipe(q3l, sizeof(q3l));
	crypto_wipe(t, sizeof(t));
}

/* out = in mod L, in a 64-byte little-endian number (a SHA-512 digest). */
static void sc_reduce(uint8_t out[32], const uint8_t in[64])
{
	uint64_t x[8], r[4];

	words_load(x, in, 8);
	sc_reduce_words(r, x);
	words_store(out, r, 4);
	crypto_wipe(x, sizeof(x));
	crypto_wipe(r, sizeof(r));
}

/* out = (a b + c) mod L; a, b, c any 32-byte numbers (a b + c < 2^512). */
static void sc_muladd(uint8_t out[32], const uint8_t a[32],
		      const uint8_t b[32], const uint8_t c[32])
{
	uint64_t aw[4], bw[4], cw[4], x[8], r[4], carry = 0;
	u128 t;
	int i;

	words_load(aw, a, 4);
	words_load(bw, b, 4);
	words_load(cw, c, 4);
	mp_mul(x, aw, 4, bw, 4);
	for (i = 0; i < 8; i++) {
		t = (u128)x[i] + (i < 4 ? cw[i] : 0) + carry;
		x[i] = (uint64_t)t;
		carry = (uint64_t)(t >> 64);
	}
	sc_reduce_words(r, x);
	words_store(out, r, 4);
	crypto_wipe(aw, sizeof(aw));
	crypto_wipe(bw, sizeof(bw));
	crypto_wipe(cw, sizeof(cw));
	crypto_wipe(x, sizeof(x));
	crypto_wipe(r, sizeof(r));
}

/* 1 if s < L (RFC 8032 §5.1.7 step 1).  Public data. */
static int sc_is_canonical(const uint8_t s[32])
{
	uint64_t w[4];
	int i;

	words_load(w, s, 4);
	for (i = 3; i >= 0; i--) {
		if (w[i] != sc_L[i])
			return w[i] < sc_L[i];
	}
	return 0;
}

/* ---- EdDSA --------------------------------------------------------------- */

/* SHA-512(a || b || c); 0 or -1. */
static int sha512_3(uint8_t out[64], const void *a, size_t alen,
		    const void *b, size_t blen, const void *c, size_t clen)
{
	struct crypto_hash h;

	if (crypto_hash_init(&h, CRYPTO_SHA512))
		return -1;
	crypto_hash_update(&h, a, alen);
	crypto_hash_update(&h, b, blen);
	crypto_hash_update(&h, c, clen);
	crypto_hash_final(&h, out);
	return 0;
}

/* RFC 8032 §5.1.5: az = SHA-512(seed); the scalar s is az[0..31] with
 * bits 0-2 and 255 cleared and bit 254 set; az[32..63] is the prefix. */
static int expand(uint8_t az[64], const uint8_t seed[32])
{
	if (crypto_hash(CRYPTO_SHA512, seed, 32, az))
		return -1;
	az[0] &= 248;
	az[31] &= 127;
	az[31] |= 64;
	return 0;
}

int ed25519_pubkey(uint8_t pk[32], const uint8_t seed[32])
{
	uint8_t az[64];
	struct ge a;

	if (expand(az, seed))
		return -1;
	ge_scalarmult_base(&a, az);
	ge_encode(pk, &a);
	crypto_wipe(az, sizeof(az));
	crypto_wipe(&a, sizeof(a));
	return 0;
}

/* RFC 8032 §5.1.6, with the step numbers of the RFC. */
int ed25519_sign(uint8_t sig[64], const uint8_t *m, size_t mlen,
		 const uint8_t seed[32], const uint8_t pk[32])
{
	uint8_t az[64], nonce[64], hram[64], r[32], k[32], out[64];
	struct ge rp;
	int ret = -1;

	/* 1, 2: r = SHA-512(prefix || M) mod L. */
	if (expand(az, seed) || sha512_3(nonce, az + 32, 32, m, mlen, NULL, 0))
		goto out;
	sc_reduce(r, nonce);
	/* 3: R = [r]B. */
	ge_scalarmult_base(&rp, r);
	ge_encode(out, &rp);
	/* 4: k = SHA-512(R || A || M) mod L. */
	if (sha512_3(hram, out, 32, pk, 32, m, mlen))
		goto out;
	sc_reduce(k, hram);
	/* 5: S = (r + k s) mod L. */
	sc_muladd(out + 32, k, az, r);
	memcpy(sig, out, 64);
	ret = 0;
out:
	crypto_wipe(az, sizeof(az));
	crypto_wipe(nonce, sizeof(nonce));
	crypto_wipe(r, sizeof(r));
	crypto_wipe(&rp, sizeof(rp));
	return ret;
}

/*
 * RFC 8032 §5.1.7.  Step 3 allows checking [S]B = R + [k]A instead of the
 * cofactored equation; we compute R' = [S]B + [k](-A) and compare its
 * encoding with R, as the reference code in OpenSSH does.  R was decoded,
 * hence canonical, so equal encodings mean equal points.  Public keys of
 * small order are not refused: RFC 8032 does not ask for it.
 */
int ed25519_verify(const uint8_t sig[64], const uint8_t *m, size_t mlen,
		   const uint8_t pk[32])
{
	uint8_t hram[64], k[32], rcheck[32];
	struct ge a, r, ka, sb;
	struct ge_cached c;

	if (!sc_is_canonical(sig + 32))
		return -1;
	if (ge_decode(&a, pk) || ge_decode(&r, sig))
		return -1;
	if (sha512_3(hram, sig, 32, pk, 32, m, mlen))
		return -1;
	sc_reduce(k, hram);

	fe_neg(&a.X, &a.X);
	fe_neg(&a.T, &a.T);
	ge_scalarmult(&ka, k, &a);
	ge_scalarmult_base(&sb, sig + 32);
	ge_to_cached(&c, &ka);
	ge_add(&sb, &sb, &c);
	ge_encode(rcheck, &sb);
	return memcmp(rcheck, sig, 32) == 0 ? 0 : -1;
}
