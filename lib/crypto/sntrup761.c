/*
 * sntrup761.c - Streamlined NTRU Prime sntrup761 (NTRU Prime round-3
 * submission §§2-3, draft-josefsson-ntruprime-streamlined).
 *
 *   R   = Z[x]/(x^p - x - 1),  R/q and R/3 its reductions
 *   Short: small (coefficients -1, 0, 1) with exactly w non-zero
 *   KeyGen:  g small and invertible in R/3, f Short, h = g / (3f) in R/q
 *   Encrypt: r Short, c = Round(h r)  (each coefficient to a multiple of 3)
 *   Decrypt: e = 3 f c in R/q lifted to R/3, r = e / g in R/3, or the
 *            fixed vector (1,..,1,0,..,0) when r has not weight w
 *
 * and the KEM around it: Hash_b(x) = the first 32 bytes of
 * SHA-512(byte b || x);
 *
 *   pk = Encode(h)                                         1158 bytes
 *   sk = Small(f) || Small(1/g) || pk || rho || Hash4(pk)  1763 bytes
 *   ct = Encode(Round(h r)) || Hash2(Hash3(Small(r)) || Hash4(pk))
 *                                                          1039 bytes
 *   K  = Hash1(Hash3(Small(r)) || ct)      (valid ct)
 *      = Hash0(Hash3(rho) || ct)           (ct that does not re-encrypt)
 *
 * Constant time: the reductions mod q and mod 3 and every division are
 * multiplications by precomputed reciprocals with masked corrections;
 * the inverses are the fixed-length "divstep" iteration of Bernstein and
 * Yang (2p - 1 steps whatever the input, swaps by mask); the fixed-weight
 * vectors come from a sorting network (Batcher's merge exchange, Knuth
 * TAOCP vol. 3 §5.2.2 Algorithm M); the ciphertext comparison is a mask.
 */
#include "sntrup761.h"

#include <string.h>

#include "crypto.h"

#ifdef SNTRUP761_CTGRIND
/* tests/unit/ctgrind_sntrup761.c builds this file with this defined:
 * a value we deliberately make public (the invertibility of a rejected
 * candidate g) is then marked defined for valgrind. */
#include <valgrind/memcheck.h>
#define DECLASSIFY(p, n) VALGRIND_MAKE_MEM_DEFINED((p), (n))
#else
#define DECLASSIFY(p, n) ((void)(p), (void)(n))
#endif

#define P   SNTRUP761_P
#define Q   SNTRUP761_Q
#define W   SNTRUP761_W
#define Q12 ((Q - 1) / 2)

#define SMALL_BYTES   ((P + 3) / 4) /* 191: four coefficients a byte */
#define RQ_BYTES      SNTRUP761_PUBLICKEY_LEN
#define ROUNDED_BYTES SNTRUP761_ROUNDED_LEN
#define HASH_BYTES    32
#define CT_BYTES      SNTRUP761_CIPHERTEXT_LEN

/* The secret key's parts (see the layout above). */
#define SK_F	 0
#define SK_GINV	 SMALL_BYTES
#define SK_PK	 (2 * SMALL_BYTES)
#define SK_RHO	 (SK_PK + RQ_BYTES)
#define SK_CACHE (SK_RHO + SMALL_BYTES)

_Static_assert(SK_CACHE + HASH_BYTES == SNTRUP761_SECRETKEY_LEN,
	       "secret key layout");
_Static_assert(ROUNDED_BYTES + HASH_BYTES == CT_BYTES, "ciphertext layout");

/* Encode's radix: pairs are merged until the modulus drops below 2^14. */
#define ENC_LIMIT 16384

typedef int8_t small;
typedef int16_t fq; /* always in [-Q12, Q12] */

/* ---- constant-time integer helpers ------------------------------------ */

void sntrup761_divmod(uint32_t *quot, uint32_t *rem, uint32_t x, uint32_t m)
{
	/* v = floor(2^31 / m) under-estimates 1/m, so qt <= x / m and,
	 * for x < 2^32, qt > x / m - 3: the remainder is below 3m and two
	 * masked subtractions finish.  m is public (a constant or a radix
	 * of the encoding); x may be secret. */
	uint32_t v = 0x80000000u / m;
	uint32_t qt = (uint32_t)(((uint64_t)x * v) >> 31);
	uint32_t r = x - qt * m, mask;
	int i;

	for (i = 0; i < 2; i++) {
		/* r < 3m < 2^16: r - m wraps to the top half iff r < m */
		mask = ((r - m) >> 31) - 1; /* all ones iff r >= m */
		r -= m & mask;
		qt -= mask; /* + 1 iff r >= m */
	}
	*quot = qt;
	*rem = r;
}

/* x mod q in [-Q12, Q12], for |x| < 2^26. */
static inline fq fq_freeze(int32_t x)
{
	/* 14621 q > 2^26: the shifted value is non-negative */
	uint32_t qt, r;

	sntrup761_divmod(&qt, &r, (uint32_t)(x + Q12 + 14621 * Q), Q);
	return (fq)((int32_t)r - Q12);
}

/*
 * x mod 3 in {-1, 0, 1}, for |x| < 2^13 (every use here: at most
 * 2 in the divsteps, 3 * 761 in a product in R/3, q / 2 when rounding).
 * u = x + 1 + 3 * 8190 is in [16380, 32762], and (u * 21846) >> 16 is
 * u / 3 rounded down there: 21846 / 2^16 exceeds 1/3 by less than
 * 1 / (3 u).  (Checked for every x in range when written; the known
 * answers exercise it throughout.)
 */
static inline small f3_freeze(int32_t x)
{
	uint32_t u = (uint32_t)(x + 1 + 3 * 8190);

	u -= 3 * ((u * 21846) >> 16);
	return (small)((int32_t)u - 1);
}

/* -1 when x != 0, else 0 (|x| < 2^31). */
static inline int nonzero_mask(int32_t x)
{
	uint32_t u = (uint32_t)x;

	return -(int)((u | (0u - u)) >> 31);
}

/* -1 when x < 0, else 0. */
static inline int negative_mask(int32_t x)
{
	return -(int)((uint32_t)x >> 31);
}

/* ---- the sorting network ------------------------------------------------- */

static inline void minmax(uint32_t *a, uint32_t *b)
{
	/* borrow of b - a in 64 bits: b < a */
	uint64_t d = (uint64_t)*b - (uint64_t)*a;
	uint32_t mask = (uint32_t)0 - (uint32_t)(d >> 63);
	uint32_t t = (*a ^ *b) & mask;

	*a ^= t;
	*b ^= t;
}

/*
 * Batcher's merge exchange (Knuth Algorithm 5.2.2M), 0-based: the
 * comparisons depend on n only.  With t = ceil(lg n): for p = 2^(t-1),
 * ..., 1, and for q = 2^(t-1), ..., p with d = p first, then q - p for
 * each halved q, compare x[i] with x[i + d] for every i < n - d whose bit
 * p equals r (r = 0 on the first pass of a p, then p).
 */
void sntrup761_sort_u32(uint32_t *x, size_t n)
{
	size_t top = 1, p, q, r, d, i;

	if (n < 2)
		return;
	while (top < n)
		top <<= 1;
	for (p = top >> 1; p > 0; p >>= 1) {
		q = top >> 1;
		r = 0;
		d = p;
		for (;;) {
			for (i = 0; i + d < n; i++)
				if ((i & p) == r)
					minmax(&x[i], &x[i + d]);
			if (q == p)
				break;
			d = q - p;
			q >>= 1;
			r = p;
		}
	}
}

/* ---- small polynomials and R/3 ------------------------------------------- */

/* Four coefficients a byte, each as c + 1 in two bits, low bits first;
 * the last byte holds coefficient 760 alone. */
static void small_encode(uint8_t out[SMALL_BYTES], const small f[P])
{
	int i, j;

	for (i = 0; i < P / 4; i++) {
		uint8_t b = 0;

		for (j = 0; j < 4; j++)
			b |= (uint8_t)((f[4 * i + j] + 1) << (2 * j));
		out[i] = b;
	}
	out[P / 4] = (uint8_t)(f[P - 1] + 1);
}

static void small_decode(small f[P], const uint8_t in[SMALL_BYTES])
{
	int i, j;

	for (i = 0; i < P / 4; i++)
		for (j = 0; j < 4; j++)
			f[4 * i + j] = (small)(((in[i] >> (2 * j)) & 3) - 1);
	f[P - 1] = (small)((in[P / 4] & 3) - 1);
}

/*
 * The schoolbook product in Z[x] (|coefficients| <= 761 q / 2 for R/q
 * operands) followed by the reduction x^p = x + 1: the coefficient of
 * x^i, i >= p, moves to x^(i-p) and x^(i-p+1), both below p, so each
 * result coefficient at most triples (< 2^26).
 */
static void mult_reduce(int32_t out[P], const int16_t *a, const small *b)
{
	int32_t prod[2 * P - 1];
	int i, j;

	memset(prod, 0, sizeof(prod));
	for (i = 0; i < P; i++) {
		int32_t ai = a[i];

		for (j = 0; j < P; j++)
			prod[i + j] += ai * b[j];
	}
	for (i = 2 * P - 2; i >= P; i--) {
		prod[i - P] += prod[i];
		prod[i - P + 1] += prod[i];
	}
	memcpy(out, prod, P * sizeof(out[0]));
	crypto_wipe(prod, sizeof(prod));
}

/* h = f g in R/3 */
static void r3_mult(small h[P], const small f[P], const small g[P])
{
	int16_t f16[P];
	int32_t t[P];
	int i;

	for (i = 0; i < P; i++)
		f16[i] = f[i];
	mult_reduce(t, f16, g);
	for (i = 0; i < P; i++)
		h[i] = f3_freeze(t[i]);
	crypto_wipe(f16, sizeof(f16));
	crypto_wipe(t, sizeof(t));
}

/* h = f g in R/q, g small */
static void rq_mult_small(fq h[P], const fq f[P], const small g[P])
{
	int32_t t[P];
	int i;

	mult_reduce(t, f, g);
	for (i = 0; i < P; i++)
		h[i] = fq_freeze(t[i]);
	crypto_wipe(t, sizeof(t));
}

/* 1/a in Z/q as a^(q-2): a fixed sequence of multiplications. */
static fq fq_recip(fq a)
{
	int32_t r = a;
	int i;

	for (i = 1; i < Q - 2; i++)
		r = fq_freeze(a * r);
	return (fq)r;
}

/*
 * Inversion by divsteps (Bernstein-Yang, "Fast constant-time gcd
 * computation and modular inversion", §§3-5, as used in the NTRU Prime
 * submission).  The polynomials are kept reversed (index 0 holds the top
 * coefficient) so that "divide by x" is a shift:
 *
 *   f = reverse(x^p - x - 1), g = reverse(in), v = 0, r = r0, delta = 1
 *   2p - 1 times:
 *     v = x v
 *     if delta > 0 and g[0] != 0: swap (f, g), (v, r); delta = -delta
 *     delta += 1
 *     g = (f[0] g - g[0] f) / x,  r = f[0] r - g[0] v
 *
 * Afterwards in is invertible iff delta == 0, and then reverse(v) / f[0]
 * is r0 / in.  The swap is by mask, the step count is fixed.
 */
#define DIVSTEP(T, FREEZE)                                                     \
	do {                                                                   \
		int32_t f0, g0;                                                \
		int swap, k;                                                   \
		memmove(v + 1, v, P * sizeof(v[0]));                           \
		v[0] = 0;                                                      \
		swap = negative_mask(-delta) & nonzero_mask(g[0]);             \
		delta ^= swap & (delta ^ -delta);                              \
		delta += 1;                                                    \
		for (k = 0; k < P + 1; k++) {                                  \
			T t = (T)(swap & (f[k] ^ g[k]));                       \
			f[k] ^= t;                                             \
			g[k] ^= t;                                             \
			t = (T)(swap & (v[k] ^ r[k]));                         \
			v[k] ^= t;                                             \
			r[k] ^= t;                                             \
		}                                                              \
		f0 = f[0];                                                     \
		g0 = g[0];                                                     \
		for (k = 0; k < P + 1; k++)                                    \
			g[k] = FREEZE(f0 * g[k] - g0 * f[k]);                  \
		for (k = 0; k < P + 1; k++)                                    \
			r[k] = FREEZE(f0 * r[k] - g0 * v[k]);                  \
		memmove(g, g + 1, P * sizeof(g[0]));                           \
		g[P] = 0;                                                      \
	} while (0)

/* out = 1/in in R/3: 0, or -1 when in is not invertible. */
static int r3_recip(small out[P], const small in[P])
{
	small f[P + 1], g[P + 1], v[P + 1], r[P + 1];
	int i, loop, delta = 1;

	memset(v, 0, sizeof(v));
	memset(r, 0, sizeof(r));
	r[0] = 1;
	memset(f, 0, sizeof(f));
	f[0] = 1;
	f[P - 1] = f[P] = -1;
	for (i = 0; i < P; i++)
		g[P - 1 - i] = in[i];
	g[P] = 0;
	for (loop = 0; loop < 2 * P - 1; loop++)
		DIVSTEP(small, f3_freeze);
	/* 1/f[0] = f[0] in F3 (f[0] is never 0: only a non-zero g[0]
	 * is ever swapped into it) */
	for (i = 0; i < P; i++)
		out[i] = (small)(f[0] * v[P - 1 - i]);
	crypto_wipe(f, sizeof(f));
	crypto_wipe(g, sizeof(g));
	crypto_wipe(v, sizeof(v));
	crypto_wipe(r, sizeof(r));
	return nonzero_mask(delta);
}

/* out = 1/(3 in) in R/q, in Short (always invertible: q is prime and
 * x^p - x - 1 irreducible mod q). */
static void rq_recip3(fq out[P], const small in[P])
{
	fq f[P + 1], g[P + 1], v[P + 1], r[P + 1];
	int32_t scale;
	int i, loop, delta = 1;

	memset(v, 0, sizeof(v));
	memset(r, 0, sizeof(r));
	r[0] = fq_recip(3);
	memset(f, 0, sizeof(f));
	f[0] = 1;
	f[P - 1] = f[P] = -1;
	for (i = 0; i < P; i++)
		g[P - 1 - i] = in[i];
	g[P] = 0;
	for (loop = 0; loop < 2 * P - 1; loop++)
		DIVSTEP(fq, fq_freeze);
	scale = fq_recip(f[0]);
	for (i = 0; i < P; i++)
		out[i] = fq_freeze(scale * v[P - 1 - i]);
	crypto_wipe(f, sizeof(f));
	crypto_wipe(g, sizeof(g));
	crypto_wipe(v, sizeof(v));
	crypto_wipe(r, sizeof(r));
}

/* ---- Encode / Decode (round-3 specification §3.2) ------------------------ */

/*
 * Encode a list of residues R[i] mod M[i] (M[i] < 2^14): pairs are merged
 * into one residue mod M[i] M[i+1], from which low bytes are emitted while
 * the modulus is at least 2^14 (each byte divides it by 256, rounding
 * up); an odd last element is carried up unchanged; this repeats on the
 * half-length list, and the last residue is emitted in bytes until its
 * modulus is 1.  R and M are overwritten.  Returns the bytes written.
 * The work depends on M only.
 */
static size_t encode(uint8_t *out, uint16_t *R, uint16_t *M, size_t len)
{
	uint8_t *o = out;
	uint32_t r, m;
	size_t i;

	while (len > 1) {
		for (i = 0; i + 1 < len; i += 2) {
			m = (uint32_t)M[i] * M[i + 1];
			r = R[i] + (uint32_t)R[i + 1] * M[i];
			while (m >= ENC_LIMIT) {
				*o++ = (uint8_t)r;
				r >>= 8;
				m = (m + 255) >> 8;
			}
			R[i / 2] = (uint16_t)r;
			M[i / 2] = (uint16_t)m;
		}
		if (i < len) {
			R[i / 2] = R[i];
			M[i / 2] = M[i];
		}
		len = (len + 1) / 2;
	}
	r = R[0];
	m = M[0];
	while (m > 1) {
		*o++ = (uint8_t)r;
		r >>= 8;
		m = (m + 255) >> 8;
	}
	return (size_t)(o - out);
}

/* Levels of Encode for P elements: ceil(lg P) merges. */
#define DEC_LEVELS 12

/*
 * The inverse of encode for len <= P elements of moduli M.  The bytes
 * were written level by level, bottom first, so one pass down reads each
 * pair's low part (and records the moduli of every level), the top
 * residue comes last, and one pass up splits each merged residue r into
 * r mod M[i] and (r / M[i]) mod M[i+1].  The reductions make any input
 * decode to residues in range.  Reads exactly the bytes encode writes.
 */
static void decode(uint16_t *out, const uint8_t *s, const uint16_t *M0,
		   size_t len0)
{
	/* the moduli of all levels in a row: 761 + 381 + ... + 1 = 1525 */
	uint16_t mods[2 * P + DEC_LEVELS];
	uint32_t low[P], scale[P]; /* per pair: bytes read, their weight */
	size_t moff[DEC_LEVELS], poff[DEC_LEVELS], lens[DEC_LEVELS];
	size_t len = len0, mo = 0, po = 0, i, j;
	uint32_t r, t, m, qt, rem;
	int lev, nlev = 0;

	memcpy(mods, M0, len0 * sizeof(mods[0]));
	while (len > 1) {
		const uint16_t *M = mods + mo;
		uint16_t *M2 = mods + mo + len;

		moff[nlev] = mo;
		poff[nlev] = po;
		lens[nlev] = len;
		nlev++;
		for (i = 0; i + 1 < len; i += 2) {
			m = (uint32_t)M[i] * M[i + 1];
			r = 0;
			t = 1;
			while (m >= ENC_LIMIT) {
				r += (uint32_t)*s++ * t;
				t <<= 8;
				m = (m + 255) >> 8;
			}
			low[po + i / 2] = r;
			scale[po + i / 2] = t;
			M2[i / 2] = (uint16_t)m;
		}
		if (i < len)
			M2[i / 2] = M[i];
		mo += len;
		po += len / 2;
		len = (len + 1) / 2;
	}
	/* the top residue */
	m = mods[mo];
	r = 0;
	t = 1;
	while (m > 1) {
		r += (uint32_t)*s++ * t;
		t <<= 8;
		m = (m + 255) >> 8;
	}
	sntrup761_divmod(&qt, &rem, r, mods[mo]);
	out[0] = (uint16_t)rem;
	/* back down: out holds the residues of level lev + 1, in place
	 * (pair j of a level lands at 2j, 2j + 1 >= j: go from the top) */
	for (lev = nlev - 1; lev >= 0; lev--) {
		const uint16_t *M = mods + moff[lev];

		len = lens[lev];
		if (len & 1)
			out[len - 1] = out[len / 2];
		for (j = len / 2; j-- > 0;) {
			r = low[poff[lev] + j] + scale[poff[lev] + j] * out[j];
			sntrup761_divmod(&qt, &rem, r, M[2 * j]);
			out[2 * j] = (uint16_t)rem;
			/* only an invalid encoding leaves qt >= M[2j+1] */
			sntrup761_divmod(&qt, &rem, qt, M[2 * j + 1]);
			out[2 * j + 1] = (uint16_t)rem;
		}
	}
}

void sntrup761_rq_encode(uint8_t out[RQ_BYTES], const int16_t r[P])
{
	uint16_t R[P], M[P];
	int i;

	for (i = 0; i < P; i++) {
		R[i] = (uint16_t)(r[i] + Q12);
		M[i] = Q;
	}
	encode(out, R, M, P);
}

void sntrup761_rq_decode(int16_t r[P], const uint8_t in[RQ_BYTES])
{
	uint16_t R[P], M[P];
	int i;

	for (i = 0; i < P; i++)
		M[i] = Q;
	decode(R, in, M, P);
	for (i = 0; i < P; i++)
		r[i] = (int16_t)(R[i] - Q12);
}

/* Rounded coefficients are multiples of 3: their thirds are encoded,
 * with modulus (q + 2) / 3 = 1531.  (x * 10923) >> 15 is x / 3 for the
 * multiples of 3 below 4591 (3 * 10923 = 2^15 + 1). */
void sntrup761_rounded_encode(uint8_t out[ROUNDED_BYTES], const int16_t r[P])
{
	uint16_t R[P], M[P];
	int i;

	for (i = 0; i < P; i++) {
		R[i] = (uint16_t)(((uint32_t)(r[i] + Q12) * 10923) >> 15);
		M[i] = (Q + 2) / 3;
	}
	encode(out, R, M, P);
	crypto_wipe(R, sizeof(R));
}

void sntrup761_rounded_decode(int16_t r[P], const uint8_t in[ROUNDED_BYTES])
{
	uint16_t R[P], M[P];
	int i;

	for (i = 0; i < P; i++)
		M[i] = (Q + 2) / 3;
	decode(R, in, M, P);
	for (i = 0; i < P; i++)
		r[i] = (int16_t)(R[i] * 3 - Q12);
}

/* ---- hashing ------------------------------------------------------------ */

/* out = Hash_b(a || c): the first 32 bytes of SHA-512(b || a || c). */
static int hash_prefix(uint8_t out[HASH_BYTES], uint8_t b, const uint8_t *a,
		       size_t alen, const uint8_t *c, size_t clen)
{
	uint8_t full[64];
	struct crypto_hash h;

	if (crypto_hash_init(&h, CRYPTO_SHA512))
		return -1;
	crypto_hash_update(&h, &b, 1);
	crypto_hash_update(&h, a, alen);
	if (clen)
		crypto_hash_update(&h, c, clen);
	crypto_hash_final(&h, full);
	memcpy(out, full, HASH_BYTES);
	crypto_wipe(full, sizeof(full));
	return 0;
}

/* ---- randomness ---------------------------------------------------------- */

static int draw(sntrup761_rng rng, void *ctx, void *buf, size_t n)
{
	if (rng)
		return rng(ctx, buf, n) ? -1 : 0;
	return crypto_random(buf, n) ? -1 : 0;
}

/* p little-endian 32-bit words (the reference's draw for one vector). */
static int draw_words(sntrup761_rng rng, void *ctx, uint32_t L[P])
{
	uint8_t b[4 * P];
	int i;

	if (draw(rng, ctx, b, sizeof(b)))
		return -1;
	for (i = 0; i < P; i++)
		L[i] = (uint32_t)b[4 * i] | (uint32_t)b[4 * i + 1] << 8 |
		       (uint32_t)b[4 * i + 2] << 16 |
		       (uint32_t)b[4 * i + 3] << 24;
	crypto_wipe(b, sizeof(b));
	return 0;
}

/* A small vector: each word's top 30 bits times 3, over 2^30, minus 1. */
static int small_random(small out[P], sntrup761_rng rng, void *ctx)
{
	uint32_t L[P];
	int i;

	if (draw_words(rng, ctx, L))
		return -1;
	for (i = 0; i < P; i++)
		out[i] = (small)((((L[i] & 0x3fffffff) * 3) >> 30) - 1);
	crypto_wipe(L, sizeof(L));
	return 0;
}

/* A Short vector: the first w words get the low bits 00 or 10 (-1 or 1),
 * the rest 01 (0); sorting the words shuffles the positions. */
static int short_random(small out[P], sntrup761_rng rng, void *ctx)
{
	uint32_t L[P];
	int i;

	if (draw_words(rng, ctx, L))
		return -1;
	for (i = 0; i < W; i++)
		L[i] &= ~(uint32_t)1;
	for (i = W; i < P; i++)
		L[i] = (L[i] & ~(uint32_t)3) | 1;
	sntrup761_sort_u32(L, P);
	for (i = 0; i < P; i++)
		out[i] = (small)((L[i] & 3) - 1);
	crypto_wipe(L, sizeof(L));
	return 0;
}

/* ---- the KEM ------------------------------------------------------------ */

int sntrup761_keypair(uint8_t pk[RQ_BYTES], uint8_t sk[SNTRUP761_SECRETKEY_LEN],
		      sntrup761_rng rng, void *ctx)
{
	small g[P], ginv[P], f[P];
	fq finv[P], h[P];
	int rc = -1, bad;

	/* g small and invertible in R/3; whether a rejected candidate was
	 * invertible is all that leaves this loop */
	do {
		if (small_random(g, rng, ctx))
			goto out;
		bad = r3_recip(ginv, g);
		DECLASSIFY(&bad, sizeof(bad));
	} while (bad);
	if (short_random(f, rng, ctx))
		goto out;
	rq_recip3(finv, f);
	rq_mult_small(h, finv, g); /* h = g / (3f) */
	sntrup761_rq_encode(pk, h);

	small_encode(sk + SK_F, f);
	small_encode(sk + SK_GINV, ginv);
	memcpy(sk + SK_PK, pk, RQ_BYTES);
	if (draw(rng, ctx, sk + SK_RHO, SMALL_BYTES) ||
	    hash_prefix(sk + SK_CACHE, 4, pk, RQ_BYTES, NULL, 0))
		goto out;
	rc = 0;
out:
	if (rc)
		crypto_wipe(sk, SNTRUP761_SECRETKEY_LEN);
	crypto_wipe(g, sizeof(g));
	crypto_wipe(ginv, sizeof(ginv));
	crypto_wipe(f, sizeof(f));
	crypto_wipe(finv, sizeof(finv));
	return rc;
}

/*
 * Hide: ct = Encode(Round(h r)) || Hash2(Hash3(Small(r)) || cache), and
 * hr = Hash3(Small(r)) for the session key.  cache is Hash4(pk).
 */
static int hide(uint8_t ct[CT_BYTES], uint8_t hr[HASH_BYTES], const small r[P],
		const uint8_t pk[RQ_BYTES], const uint8_t cache[HASH_BYTES])
{
	uint8_t r_enc[SMALL_BYTES];
	fq h[P], c[P];
	int i, rc;

	small_encode(r_enc, r);
	sntrup761_rq_decode(h, pk);
	rq_mult_small(c, h, r);
	for (i = 0; i < P; i++)
		c[i] = (fq)(c[i] - f3_freeze(c[i])); /* Round */
	sntrup761_rounded_encode(ct, c);
	rc = hash_prefix(hr, 3, r_enc, SMALL_BYTES, NULL, 0) ||
	     hash_prefix(ct + ROUNDED_BYTES, 2, hr, HASH_BYTES, cache,
			 HASH_BYTES);
	crypto_wipe(r_enc, sizeof(r_enc));
	crypto_wipe(c, sizeof(c));
	return rc ? -1 : 0;
}

int sntrup761_enc(uint8_t ct[CT_BYTES], uint8_t k[SNTRUP761_SHARED_LEN],
		  const uint8_t pk[RQ_BYTES], sntrup761_rng rng, void *ctx)
{
	uint8_t cache[HASH_BYTES], hr[HASH_BYTES];
	small r[P];
	int rc = -1;

	if (hash_prefix(cache, 4, pk, RQ_BYTES, NULL, 0) ||
	    short_random(r, rng, ctx) || hide(ct, hr, r, pk, cache) ||
	    hash_prefix(k, 1, hr, HASH_BYTES, ct, CT_BYTES))
		goto out;
	rc = 0;
out:
	crypto_wipe(r, sizeof(r));
	crypto_wipe(hr, sizeof(hr));
	return rc;
}

/* r = e / g in R/3 if it has weight w, else (1, .., 1, 0, .., 0). */
static void decrypt(small r[P], const fq c[P], const small f[P],
		    const small ginv[P])
{
	small e[P], ev[P];
	fq cf[P];
	int i, weight = 0, mask;

	rq_mult_small(cf, c, f);
	for (i = 0; i < P; i++)
		e[i] = f3_freeze(fq_freeze(3 * cf[i]));
	r3_mult(ev, e, ginv);
	for (i = 0; i < P; i++)
		weight += ev[i] & 1;
	mask = nonzero_mask(weight - W);
	for (i = 0; i < W; i++)
		r[i] = (small)(((ev[i] ^ 1) & ~mask) ^ 1);
	for (i = W; i < P; i++)
		r[i] = (small)(ev[i] & ~mask);
	crypto_wipe(e, sizeof(e));
	crypto_wipe(ev, sizeof(ev));
	crypto_wipe(cf, sizeof(cf));
}

int sntrup761_dec(uint8_t k[SNTRUP761_SHARED_LEN], const uint8_t ct[CT_BYTES],
		  const uint8_t sk[SNTRUP761_SECRETKEY_LEN])
{
	const uint8_t *pk = sk + SK_PK, *rho = sk + SK_RHO;
	uint8_t cnew[CT_BYTES], hr[HASH_BYTES], hrho[HASH_BYTES];
	small f[P], ginv[P], r[P];
	fq c[P];
	uint32_t diff = 0;
	uint8_t mask; /* 0xff when ct does not re-encrypt */
	int i, rc = -1;

	small_decode(f, sk + SK_F);
	small_decode(ginv, sk + SK_GINV);
	sntrup761_rounded_decode(c, ct);
	decrypt(r, c, f, ginv);
	if (hide(cnew, hr, r, pk, sk + SK_CACHE) ||
	    hash_prefix(hrho, 3, rho, SMALL_BYTES, NULL, 0))
		goto out;
	for (i = 0; i < CT_BYTES; i++)
		diff |= (uint32_t)(ct[i] ^ cnew[i]);
	mask = (uint8_t)(0 - ((diff + 0xff) >> 8)); /* diff <= 0xff */
	/* implicit rejection: Hash0(Hash3(rho) || ct) instead of
	 * Hash1(Hash3(r) || ct) */
	for (i = 0; i < HASH_BYTES; i++)
		hr[i] ^= mask & (hr[i] ^ hrho[i]);
	if (hash_prefix(k, (uint8_t)(1 + (int8_t)mask), hr, HASH_BYTES, ct,
			CT_BYTES))
		goto out;
	rc = 0;
out:
	crypto_wipe(f, sizeof(f));
	crypto_wipe(ginv, sizeof(ginv));
	crypto_wipe(r, sizeof(r));
	crypto_wipe(c, sizeof(c));
	crypto_wipe(cnew, sizeof(cnew));
	crypto_wipe(hr, sizeof(hr));
	crypto_wipe(hrho, sizeof(hrho));
	return rc;
}
