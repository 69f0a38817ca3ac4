/*
 * chachapoly_fast.c - the fast halves of chacha20-poly1305: ChaCha20 four
 * blocks at a time with SSE2 and eight with AVX2, and Poly1305 with 44-bit
 * limbs and 128-bit products, four blocks per reduction.
 *
 * The SIMD ChaCha20 keeps one state word of all blocks per register (word
 * j of block b in lane b), runs the RFC 8439 §2.3 rounds on whole
 * registers, and transposes at the end so every block's 64 bytes come out
 * contiguous.  Only these functions carry target attributes; chachapoly.c
 * calls them after the *_supported() checks.
 */
#include "chachapoly.h"
#include "crypto.h"

#include <string.h>

#if defined(__x86_64__) || defined(__i386__)
#define HAVE_X86 1
#include <immintrin.h>
#endif

#define SSE2_BLOCKS 4
#define AVX2_BLOCKS 8

/* ---- ChaCha20, SSE2 --------------------------------------------------- */

#ifdef HAVE_X86

#define SSE2 __attribute__((target("sse2")))
#define AVX2 __attribute__((target("avx2")))

int chacha20_sse2_supported(void)
{
	__builtin_cpu_init();
	return __builtin_cpu_supports("sse2");
}

int chacha20_avx2_supported(void)
{
	__builtin_cpu_init();
	return __builtin_cpu_supports("avx2");
}

#define S_ADD _mm_add_epi32
#define S_XOR _mm_xor_si128
#define S_ROTL(x, n)                                                           \
	_mm_or_si128(_mm_slli_epi32(x, n), _mm_srli_epi32(x, 32 - (n)))
/* rotate by 16: swap the 16-bit halves of every word */
#define S_ROT16(x) _mm_shufflehi_epi16(_mm_shufflelo_epi16(x, 0xb1), 0xb1)

#define S_QR(a, b, c, d)                                                       \
	do {                                                                   \
		a = S_ADD(a, b), d = S_ROT16(S_XOR(d, a));                     \
		c = S_ADD(c, d), b = S_ROTL(S_XOR(b, c), 12);                  \
		a = S_ADD(a, b), d = S_ROTL(S_XOR(d, a), 8);                   \
		c = S_ADD(c, d), b = S_ROTL(S_XOR(b, c), 7);                   \
	} while (0)

/* Four words of four blocks -> four 16-byte rows, one per block. */
#define S_TRANSPOSE(a, b, c, d)                                                \
	do {                                                                   \
		__m128i t0 = _mm_unpacklo_epi32(a, b);                         \
		__m128i t1 = _mm_unpackhi_epi32(a, b);                         \
		__m128i t2 = _mm_unpacklo_epi32(c, d);                         \
		__m128i t3 = _mm_unpackhi_epi32(c, d);                         \
		a = _mm_unpacklo_epi64(t0, t2);                                \
		b = _mm_unpackhi_epi64(t0, t2);                                \
		c = _mm_unpacklo_epi64(t1, t3);                                \
		d = _mm_unpackhi_epi64(t1, t3);                                \
	} while (0)

/* out = in ^ keystream of blocks ctr..ctr+3 (in == out is fine). */
SSE2 static void sse2_batch(const uint32_t st[16], uint32_t ctr,
			    const uint8_t *in, uint8_t *out)
{
	__m128i x[16], v[16];
	int i, g, b;

	for (i = 0; i < 16; i++)
		x[i] = _mm_set1_epi32((int)st[i]);
	x[12] = S_ADD(_mm_set1_epi32((int)ctr), _mm_set_epi32(3, 2, 1, 0));
	memcpy(v, x, sizeof(v));
	for (i = 0; i < 10; i++) {
		S_QR(v[0], v[4], v[8], v[12]);
		S_QR(v[1], v[5], v[9], v[13]);
		S_QR(v[2], v[6], v[10], v[14]);
		S_QR(v[3], v[7], v[11], v[15]);
		S_QR(v[0], v[5], v[10], v[15]);
		S_QR(v[1], v[6], v[11], v[12]);
		S_QR(v[2], v[7], v[8], v[13]);
		S_QR(v[3], v[4], v[9], v[14]);
	}
	for (i = 0; i < 16; i++)
		v[i] = S_ADD(v[i], x[i]);
	for (g = 0; g < 4; g++) {
		S_TRANSPOSE(v[4 * g], v[4 * g + 1], v[4 * g + 2], v[4 * g + 3]);
		for (b = 0; b < SSE2_BLOCKS; b++) {
			size_t o = 64 * (size_t)b + 16 * (size_t)g;
			__m128i m = _mm_loadu_si128((const void *)(in + o));

			_mm_storeu_si128((void *)(out + o),
					 S_XOR(m, v[4 * g + b]));
		}
	}
}

/* The last partial batch: run it on a copy, keep what was asked for. */
SSE2 void chacha20_xor_sse2(const uint32_t st[16], uint8_t *p, size_t n)
{
	const size_t batch = SSE2_BLOCKS * CHACHA20_BLOCK;
	uint32_t ctr = st[12], s[16];
	uint8_t tmp[SSE2_BLOCKS * CHACHA20_BLOCK];

	for (; n >= batch; p += batch, n -= batch, ctr += SSE2_BLOCKS)
		sse2_batch(st, ctr, p, p);
	if (n > CHACHA20_BLOCK) {
		memcpy(tmp, p, n);
		sse2_batch(st, ctr, tmp, tmp);
		memcpy(p, tmp, n);
		crypto_wipe(tmp, sizeof(tmp));
	} else if (n > 0) {
		memcpy(s, st, sizeof(s));
		s[12] = ctr;
		chacha20_xor_portable(s, p, n);
		crypto_wipe(s, sizeof(s));
	}
}

/* ---- ChaCha20, AVX2 --------------------------------------------------- */

#define V_ADD _mm256_add_epi32
#define V_XOR _mm256_xor_si256
#define V_ROTL(x, n)                                                           \
	_mm256_or_si256(_mm256_slli_epi32(x, n), _mm256_srli_epi32(x, 32 - (n)))

/* Rotations by 16 and 8 are byte moves: one shuffle instead of three ops. */
#define V_QR(a, b, c, d)                                                       \
	do {                                                                   \
		a = V_ADD(a, b), d = _mm256_shuffle_epi8(V_XOR(d, a), r16);    \
		c = V_ADD(c, d), b = V_ROTL(V_XOR(b, c), 12);                  \
		a = V_ADD(a, b), d = _mm256_shuffle_epi8(V_XOR(d, a), r8);     \
		c = V_ADD(c, d), b = V_ROTL(V_XOR(b, c), 7);                   \
	} while (0)

/* Within each 128-bit half: four words of four blocks -> four rows. */
#define V_TRANSPOSE(a, b, c, d)                                                \
	do {                                                                   \
		__m256i t0 = _mm256_unpacklo_epi32(a, b);                      \
		__m256i t1 = _mm256_unpackhi_epi32(a, b);                      \
		__m256i t2 = _mm256_unpacklo_epi32(c, d);                      \
		__m256i t3 = _mm256_unpackhi_epi32(c, d);                      \
		a = _mm256_unpacklo_epi64(t0, t2);                             \
		b = _mm256_unpackhi_epi64(t0, t2);                             \
		c = _mm256_unpacklo_epi64(t1, t3);                             \
		d = _mm256_unpackhi_epi64(t1, t3);                             \
	} while (0)

AVX2 static void avx2_rounds(__m256i v[16])
{
	const __m256i r16 = _mm256_setr_epi8(
		2, 3, 0, 1, 6, 7, 4, 5, 10, 11, 8, 9, 14, 15, 12, 13, 2, 3, 0,
		1, 6, 7, 4, 5, 10, 11, 8, 9, 14, 15, 12, 13);
	const __m256i r8 = _mm256_setr_epi8(
		3, 0, 1, 2, 7, 4, 5, 6, 11, 8, 9, 10, 15, 12, 13, 14, 3, 0, 1,
		2, 7, 4, 5, 6, 11, 8, 9, 10, 15, 12, 13, 14);

	for (int i = 0; i < 10; i++) {
		V_QR(v[0], v[4], v[8], v[12]);
		V_QR(v[1], v[5], v[9], v[13]);
		V_QR(v[2], v[6], v[10], v[14]);
		V_QR(v[3], v[7], v[11], v[15]);
		V_QR(v[0], v[5], v[10], v[15]);
		V_QR(v[1], v[6], v[11], v[12]);
		V_QR(v[2], v[7], v[8], v[13]);
		V_QR(v[3], v[4], v[9], v[14]);
	}
}

AVX2 static inline void xor32(const uint8_t *in, uint8_t *out, size_t o,
			      __m256i k)
{
	__m256i m = _mm256_loadu_si256((const void *)(in + o));

	_mm256_storeu_si256((void *)(out + o), V_XOR(m, k));
}

/*
 * out = in ^ keystream of blocks ctr..ctr+7 (in == out is fine).  After
 * V_TRANSPOSE, register 4g+b holds words 4g..4g+3 of block b in its low
 * half and of block b+4 in its high half, so registers b and 4+b make
 * words 0-7 of blocks b and b+4, registers 8+b and 12+b words 8-15.
 */
AVX2 static void avx2_batch(const uint32_t st[16], uint32_t ctr,
			    const uint8_t *in, uint8_t *out)
{
	__m256i x[16], v[16], p, q;
	int i, b, h;

	for (i = 0; i < 16; i++)
		x[i] = _mm256_set1_epi32((int)st[i]);
	x[12] = V_ADD(_mm256_set1_epi32((int)ctr),
		      _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
	memcpy(v, x, sizeof(v));
	avx2_rounds(v);
	for (i = 0; i < 16; i++)
		v[i] = V_ADD(v[i], x[i]);
	for (i = 0; i < 16; i += 4)
		V_TRANSPOSE(v[i], v[i + 1], v[i + 2], v[i + 3]);
	for (b = 0; b < 4; b++) {
		for (h = 0; h < 2; h++) {
			size_t o = 64 * (size_t)b + 32 * (size_t)h;

			p = v[8 * h + b];
			q = v[8 * h + 4 + b];
			xor32(in, out, o,
			      _mm256_permute2x128_si256(p, q, 0x20));
			xor32(in, out, o + 4 * CHACHA20_BLOCK,
			      _mm256_permute2x128_si256(p, q, 0x31));
		}
	}
}

AVX2 void chacha20_xor_avx2(const uint32_t st[16], uint8_t *p, size_t n)
{
	const size_t batch = AVX2_BLOCKS * CHACHA20_BLOCK;
	uint32_t ctr = st[12], s[16];
	uint8_t tmp[AVX2_BLOCKS * CHACHA20_BLOCK];

	for (; n >= batch; p += batch, n -= batch, ctr += AVX2_BLOCKS)
		avx2_batch(st, ctr, p, p);
	if (n > SSE2_BLOCKS * CHACHA20_BLOCK) {
		memcpy(tmp, p, n);
		avx2_batch(st, ctr, tmp, tmp);
		memcpy(p, tmp, n);
		crypto_wipe(tmp, sizeof(tmp));
	} else if (n > 0) {
		memcpy(s, st, sizeof(s));
		s[12] = ctr;
		chacha20_xor_sse2(s, p, n);
		crypto_wipe(s, sizeof(s));
	}
}

#else /* !HAVE_X86: never selected */

int chacha20_sse2_supported(void)
{
	return 0;
}

int chacha20_avx2_supported(void)
{
	return 0;
}

void chacha20_xor_sse2(const uint32_t st[16], uint8_t *p, size_t n)
{
	chacha20_xor_portable(st, p, n);
}

void chacha20_xor_avx2(const uint32_t st[16], uint8_t *p, size_t n)
{
	chacha20_xor_portable(st, p, n);
}

#endif

/* ---- Poly1305, 44-bit limbs (RFC 8439 §2.5) --------------------------- */

#ifdef __SIZEOF_INT128__

typedef unsigned __int128 u128;

#define M44	   ((UINT64_C(1) << 44) - 1)
#define M42	   ((UINT64_C(1) << 42) - 1)
#define P44_INLINE static inline __attribute__((always_inline))

int poly1305_64_supported(void)
{
	return 1;
}

/*
 * A multiplier in limbs at 2^0, 2^44, 2^88.  A product limb at 2^132 or
 * 2^176 wraps to 20 times as much at 2^0 or 2^44 (2^130 = 5 mod p), so
 * the upper two limbs are also kept times 20.
 */
struct p44 {
	uint64_t r0, r1, r2, s1, s2;
};

/* r^1..r^4 and the accumulator; wiped by the caller. */
struct p44_state {
	struct p44 k[4];
	uint64_t h[3];
};

P44_INLINE uint64_t le64(const uint8_t *p)
{
	uint64_t v;

	memcpy(&v, p, sizeof(v));
#if __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
	v = __builtin_bswap64(v);
#endif
	return v;
}

P44_INLINE void put_le64(uint8_t *p, uint64_t v)
{
#if __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
	v = __builtin_bswap64(v);
#endif
	memcpy(p, &v, sizeof(v));
}

P44_INLINE struct p44 p44_of(const uint64_t r[3])
{
	return (struct p44){r[0], r[1], r[2], r[1] * 20, r[2] * 20};
}

/* A 16-byte block as limbs, plus hibit at 2^128 (limb 2, bit 40). */
P44_INLINE void p44_load(uint64_t m[3], const uint8_t *b, uint64_t hibit)
{
	uint64_t t0 = le64(b), t1 = le64(b + 8);

	m[0] = t0 & M44;
	m[1] = (t0 >> 44 | t1 << 20) & M44;
	m[2] = t1 >> 24 | hibit << 40;
}

/*
 * d += a * k.  Limbs of a stay below 2^45 and of k below 2^49 (times 20),
 * so twelve products, four blocks' worth, sum to less than 2^98.
 */
P44_INLINE void p44_mac(u128 d[3], const uint64_t a[3], struct p44 k)
{
	d[0] += (u128)a[0] * k.r0 + (u128)a[1] * k.s2 + (u128)a[2] * k.s1;
	d[1] += (u128)a[0] * k.r1 + (u128)a[1] * k.r0 + (u128)a[2] * k.s2;
	d[2] += (u128)a[0] * k.r2 + (u128)a[1] * k.r1 + (u128)a[2] * k.r0;
}

/* Partial reduction: limbs below 2^44, 2^44 + 2^16, 2^42 afterwards. */
P44_INLINE void p44_carry(uint64_t h[3], const u128 d[3])
{
	u128 d1 = d[1] + (uint64_t)(d[0] >> 44);
	u128 d2 = d[2] + (uint64_t)(d1 >> 44);
	uint64_t c;

	h[0] = (uint64_t)d[0] & M44;
	h[1] = (uint64_t)d1 & M44;
	h[2] = (uint64_t)d2 & M42;
	c = h[0] + (uint64_t)(d2 >> 42) * 5;
	h[0] = c & M44;
	h[1] += c >> 44;
}

/* x = a * b, partially reduced. */
static void p44_mul(uint64_t x[3], const uint64_t a[3], const uint64_t b[3])
{
	u128 d[3] = {0};

	p44_mac(d, a, p44_of(b));
	p44_carry(x, d);
}

static void p44_powers(struct p44_state *ps, const uint64_t r[3])
{
	uint64_t r2[3], r3[3], r4[3];

	p44_mul(r2, r, r);
	p44_mul(r3, r2, r);
	p44_mul(r4, r2, r2);
	ps->k[0] = p44_of(r);
	ps->k[1] = p44_of(r2);
	ps->k[2] = p44_of(r3);
	ps->k[3] = p44_of(r4);
	crypto_wipe(r2, sizeof(r2));
	crypto_wipe(r3, sizeof(r3));
	crypto_wipe(r4, sizeof(r4));
}

/*
 * Whole blocks, four per carry chain: h' = (h + m1) r^4 + m2 r^3 +
 * m3 r^2 + m4 r, then one at a time.  The state is copied into locals so
 * the compiler can keep it in registers (the message bytes could alias
 * *ps, never a local).
 */
static void p44_blocks(struct p44_state *ps, const uint8_t *m, size_t n,
		       uint64_t hibit)
{
	const struct p44 k1 = ps->k[0], k2 = ps->k[1], k3 = ps->k[2],
			 k4 = ps->k[3];
	uint64_t h[3] = {ps->h[0], ps->h[1], ps->h[2]}, a[3], t[3];
	u128 d[3];

	for (; n >= 64; m += 64, n -= 64) {
		p44_load(a, m, hibit);
		a[0] += h[0], a[1] += h[1], a[2] += h[2];
		d[0] = d[1] = d[2] = 0;
		p44_mac(d, a, k4);
		p44_load(t, m + 16, hibit);
		p44_mac(d, t, k3);
		p44_load(t, m + 32, hibit);
		p44_mac(d, t, k2);
		p44_load(t, m + 48, hibit);
		p44_mac(d, t, k1);
		p44_carry(h, d);
	}
	for (; n >= 16; m += 16, n -= 16) {
		p44_load(a, m, hibit);
		a[0] += h[0], a[1] += h[1], a[2] += h[2];
		d[0] = d[1] = d[2] = 0;
		p44_mac(d, a, k1);
		p44_carry(h, d);
	}
	ps->h[0] = h[0], ps->h[1] = h[1], ps->h[2] = h[2];
}

static void carry44(uint64_t h[3])
{
	uint64_t c;

	c = h[0] >> 44, h[0] &= M44, h[1] += c;
	c = h[1] >> 44, h[1] &= M44, h[2] += c;
	c = h[2] >> 42, h[2] &= M42, h[0] += c * 5;
}

/* h mod 2^130 - 5, plus s, mod 2^128 (§2.5.1). */
static void p44_finish(uint64_t h[3], const uint8_t s[16], uint8_t tag[16])
{
	uint64_t g[3], c, mask, lo, hi;
	u128 f;

	carry44(h); /* the second pass leaves every limb normalised */
	carry44(h);
	g[0] = h[0] + 5, c = g[0] >> 44, g[0] &= M44;
	g[1] = h[1] + c, c = g[1] >> 44, g[1] &= M44;
	g[2] = h[2] + c, c = g[2] >> 42, g[2] &= M42;
	mask = 0 - c; /* all ones when h + 5 reached 2^130, i.e. h >= p */
	for (int i = 0; i < 3; i++)
		h[i] = (h[i] & ~mask) | (g[i] & mask);
	lo = h[0] | h[1] << 44;
	hi = h[1] >> 20 | h[2] << 24;
	f = (u128)lo + le64(s);
	put_le64(tag, (uint64_t)f);
	f = (f >> 64) + hi + le64(s + 8);
	put_le64(tag + 8, (uint64_t)f);
	crypto_wipe(g, sizeof(g));
}

void poly1305_mac_64(const uint8_t key[32], const uint8_t *m, size_t n,
		     uint8_t tag[16])
{
	struct p44_state ps = {.h = {0}};
	uint64_t r[3];
	uint8_t b[16];
	size_t full = n & ~(size_t)15;
	int i;

	memcpy(b, key, 16); /* clamp r (§2.5.1) */
	for (i = 3; i < 16; i += 4)
		b[i] &= 0x0f;
	for (i = 4; i < 16; i += 4)
		b[i] &= 0xfc;
	p44_load(r, b, 0);
	p44_powers(&ps, r);
	p44_blocks(&ps, m, full, 1);
	if (n > full) { /* append 0x01, zero-pad, no 2^128 */
		memset(b, 0, sizeof(b));
		memcpy(b, m + full, n - full);
		b[n - full] = 1;
		p44_blocks(&ps, b, sizeof(b), 0);
	}
	p44_finish(ps.h, key + 16, tag);
	crypto_wipe(&ps, sizeof(ps));
	crypto_wipe(r, sizeof(r));
	crypto_wipe(b, sizeof(b));
}

#else /* no 128-bit integers: the portable Poly1305 stands in */

int poly1305_64_supported(void)
{
	return 0;
}

void poly1305_mac_64(const uint8_t key[32], const uint8_t *m, size_t n,
		     uint8_t tag[16])
{
	poly1305_mac_portable(key, m, n, tag);
}

#endif
