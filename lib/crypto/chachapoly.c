/*
 * chachapoly.c - chacha20-poly1305@openssh.com: the construction, the
 * implementation choice, and the portable ChaCha20 and Poly1305 that the
 * fast paths (chachapoly_fast.c) are tested against.
 *
 * Constant time throughout: ChaCha20 is add/rotate/xor, Poly1305 is
 * integer multiplies with carries done by shifts and masks, the final
 * reduction selects with a mask, and the tag comparison is
 * crypto_memcmp_ct().  No lookup or branch depends on key or data.
 */
#include "chachapoly.h"
#include "crypto.h"

#include <stdlib.h>
#include <string.h>

/* ---- little-endian access --------------------------------------------- */

static uint32_t le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	       (uint32_t)p[3] << 24;
}

static void put_le32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
	p[2] = (uint8_t)(v >> 16);
	p[3] = (uint8_t)(v >> 24);
}

/* ---- ChaCha20, RFC 8439 §2.1-2.4 -------------------------------------- */

#define ROTL32(v, n) ((uint32_t)((v) << (n)) | ((v) >> (32 - (n))))

#define QR(x, a, b, c, d)                                                      \
	do {                                                                   \
		x[a] += x[b], x[d] = ROTL32(x[d] ^ x[a], 16);                  \
		x[c] += x[d], x[b] = ROTL32(x[b] ^ x[c], 12);                  \
		x[a] += x[b], x[d] = ROTL32(x[d] ^ x[a], 8);                   \
		x[c] += x[d], x[b] = ROTL32(x[b] ^ x[c], 7);                   \
	} while (0)

/* "expand 32-byte k", RFC 8439 §2.3 */
static const uint32_t sigma[4] = {0x61707865, 0x3320646e, 0x79622d32,
				  0x6b206574};

/*
 * 20 rounds = 10 column + diagonal double rounds, then the feed-forward.
 * x[] is not wiped: taking its address would pin every round to memory;
 * it lives in registers, and the caller wipes the keystream it returns.
 */
static void chacha_core(uint32_t out[16], const uint32_t in[16])
{
	uint32_t x[16];
	int i;

	memcpy(x, in, sizeof(x));
	for (i = 0; i < 10; i++) {
		QR(x, 0, 4, 8, 12);
		QR(x, 1, 5, 9, 13);
		QR(x, 2, 6, 10, 14);
		QR(x, 3, 7, 11, 15);
		QR(x, 0, 5, 10, 15);
		QR(x, 1, 6, 11, 12);
		QR(x, 2, 7, 8, 13);
		QR(x, 3, 4, 9, 14);
	}
	for (i = 0; i < 16; i++)
		out[i] = x[i] + in[i];
}

void chacha20_xor_portable(const uint32_t st[16], uint8_t *p, size_t n)
{
	uint32_t in[16], ks[16];
	uint8_t b[CHACHA20_BLOCK];
	size_t i, k;

	memcpy(in, st, sizeof(in));
	for (; n > 0; p += k, n -= k) {
		chacha_core(ks, in);
		in[12]++;
		for (i = 0; i < 16; i++)
			put_le32(b + 4 * i, ks[i]);
		k = n < sizeof(b) ? n : sizeof(b);
		for (i = 0; i < k; i++)
			p[i] ^= b[i];
	}
	crypto_wipe(ks, sizeof(ks));
	crypto_wipe(b, sizeof(b));
	crypto_wipe(in, sizeof(in));
}

void chacha20_block(const uint8_t key[32], const uint8_t in[16],
		    uint8_t out[CHACHA20_BLOCK])
{
	uint32_t st[16];
	int i;

	memcpy(st, sigma, sizeof(sigma));
	for (i = 0; i < 8; i++)
		st[4 + i] = le32(key + 4 * i);
	for (i = 0; i < 4; i++)
		st[12 + i] = le32(in + 4 * i);
	memset(out, 0, CHACHA20_BLOCK);
	chacha20_xor_portable(st, out, CHACHA20_BLOCK);
	crypto_wipe(st, sizeof(st));
}

/* ---- Poly1305, RFC 8439 §2.5, 26-bit limbs ---------------------------- */

#define M26 0x3ffffffu

/* r &= 0x0ffffffc0ffffffc0ffffffc0fffffff (RFC 8439 §2.5.1) */
static void poly_clamp(uint8_t r[16], const uint8_t key[16])
{
	int i;

	memcpy(r, key, 16);
	for (i = 3; i < 16; i += 4) {
		r[i] &= 0x0f;
		if (i < 15)
			r[i + 1] &= 0xfc;
	}
}

/* 130 bits of a 16-byte block as five 26-bit limbs, plus hibit << 128. */
static void limbs26(uint32_t t[5], const uint8_t b[16], uint32_t hibit)
{
	t[0] = le32(b) & M26;
	t[1] = (le32(b + 3) >> 2) & M26;
	t[2] = (le32(b + 6) >> 4) & M26;
	t[3] = (le32(b + 9) >> 6) & M26;
	t[4] = (le32(b + 12) >> 8) | hibit << 24;
}

/*
 * h = (h + m) * r mod 2^130 - 5, partially reduced.  A limb product at
 * 2^(26(i+j)) with i + j >= 5 wraps to 5 * 2^(26(i+j-5)): s = 5r.
 * h + m < 2^27 and s < 2^29, so five products stay below 2^58.
 */
static inline void poly26_block(uint32_t h[5], const uint32_t r[5],
				const uint32_t s[5], const uint32_t m[5])
{
	uint64_t a0 = h[0] + m[0], a1 = h[1] + m[1], a2 = h[2] + m[2],
		 a3 = h[3] + m[3], a4 = h[4] + m[4], d0, d1, d2, d3, d4;

	d0 = a0 * r[0] + a1 * s[4] + a2 * s[3] + a3 * s[2] + a4 * s[1];
	d1 = a0 * r[1] + a1 * r[0] + a2 * s[4] + a3 * s[3] + a4 * s[2];
	d2 = a0 * r[2] + a1 * r[1] + a2 * r[0] + a3 * s[4] + a4 * s[3];
	d3 = a0 * r[3] + a1 * r[2] + a2 * r[1] + a3 * r[0] + a4 * s[4];
	d4 = a0 * r[4] + a1 * r[3] + a2 * r[2] + a3 * r[1] + a4 * r[0];
	d1 += d0 >> 26;
	d2 += d1 >> 26;
	d3 += d2 >> 26;
	d4 += d3 >> 26;
	d0 = (d0 & M26) + (d4 >> 26) * 5; /* d4 >> 26 < 2^32 */
	h[0] = (uint32_t)d0 & M26;
	h[1] = ((uint32_t)d1 & M26) + (uint32_t)(d0 >> 26);
	h[2] = (uint32_t)d2 & M26;
	h[3] = (uint32_t)d3 & M26;
	h[4] = (uint32_t)d4 & M26;
}

/*
 * Whole blocks.  The state is copied into locals so that it can stay in
 * registers: the message bytes may alias the caller's arrays, which are
 * wiped and so live in memory, but never these.
 */
static void poly26_blocks(uint32_t hp[5], const uint32_t rp[5],
			  const uint8_t *m, size_t n, uint32_t hibit)
{
	uint32_t h[5], r[5], s[5], t[5];
	int i;

	for (i = 0; i < 5; i++)
		h[i] = hp[i], r[i] = rp[i], s[i] = rp[i] * 5;
	for (; n >= 16; m += 16, n -= 16) {
		limbs26(t, m, hibit);
		poly26_block(h, r, s, t);
	}
	for (i = 0; i < 5; i++)
		hp[i] = h[i];
}

/* One carry pass over all limbs, the top carry wrapping as 5. */
static void carry26(uint32_t h[5])
{
	uint32_t c = 0;
	int i;

	for (i = 0; i < 5; i++) {
		h[i] += c;
		c = h[i] >> 26;
		h[i] &= M26;
	}
	h[0] += c * 5;
}

/* Fully reduce h mod 2^130 - 5 and add s mod 2^128 (§2.5.1). */
static void poly26_finish(uint32_t h[5], const uint8_t s[16], uint8_t tag[16])
{
	uint32_t g[5], c, mask, w[4];
	uint64_t f;
	int i;

	carry26(h); /* the second pass leaves every limb below 2^26 */
	carry26(h);
	/* g = h + 5 - 2^130; keep g when it did not go negative */
	for (c = 5, i = 0; i < 5; i++) {
		g[i] = h[i] + c;
		c = g[i] >> 26;
		g[i] &= M26;
	}
	mask = 0u - c; /* carry out of 2^130: h >= p */
	for (i = 0; i < 5; i++)
		h[i] = (h[i] & ~mask) | (g[i] & mask);
	w[0] = h[0] | h[1] << 26;
	w[1] = h[1] >> 6 | h[2] << 20;
	w[2] = h[2] >> 12 | h[3] << 14;
	w[3] = h[3] >> 18 | h[4] << 8;
	for (f = 0, i = 0; i < 4; i++) {
		f += (uint64_t)w[i] + le32(s + 4 * i);
		put_le32(tag + 4 * i, (uint32_t)f);
		f >>= 32;
	}
	crypto_wipe(g, sizeof(g));
	crypto_wipe(w, sizeof(w));
}

void poly1305_mac_portable(const uint8_t key[32], const uint8_t *m, size_t n,
			   uint8_t tag[16])
{
	uint32_t h[5] = {0}, r[5];
	uint8_t b[16];
	size_t full = n & ~(size_t)15;

	poly_clamp(b, key);
	limbs26(r, b, 0);
	poly26_blocks(h, r, m, full, 1);
	if (n > full) { /* §2.5.1: append 0x01, pad with zeros, no 2^128 */
		memset(b, 0, sizeof(b));
		memcpy(b, m + full, n - full);
		b[n - full] = 1;
		poly26_blocks(h, r, b, sizeof(b), 0);
	}
	poly26_finish(h, key + 16, tag);
	crypto_wipe(r, sizeof(r));
	crypto_wipe(b, sizeof(b));
	crypto_wipe(h, sizeof(h));
}

/* ---- implementation choice -------------------------------------------- */

static int impl_sel; /* enum chachapoly_impl_id, NONE = not chosen yet */

static const char *const impl_names[] = {
	[CHACHAPOLY_IMPL_AVX2] = "avx2",
	[CHACHAPOLY_IMPL_SSE2] = "sse2",
	[CHACHAPOLY_IMPL_PORTABLE] = "portable",
};

static int impl_usable(int s)
{
	switch (s) {
	case CHACHAPOLY_IMPL_AVX2:
		return chacha20_avx2_supported() && poly1305_64_supported();
	case CHACHAPOLY_IMPL_SSE2:
		return chacha20_sse2_supported() && poly1305_64_supported();
	case CHACHAPOLY_IMPL_PORTABLE:
		return 1;
	}
	return 0;
}

static int portable_forced(void)
{
	const char *e = getenv("SFTPMNT_CRYPTO_PORTABLE");

	return e != NULL && e[0] != '\0' && strcmp(e, "0") != 0;
}

/* Racing first callers compute the same answer, so relaxed is enough. */
static int impl_current(void)
{
	int s = __atomic_load_n(&impl_sel, __ATOMIC_RELAXED);

	if (s != CHACHAPOLY_IMPL_NONE)
		return s;
	s = CHACHAPOLY_IMPL_PORTABLE;
	if (!portable_forced()) {
		if (impl_usable(CHACHAPOLY_IMPL_AVX2))
			s = CHACHAPOLY_IMPL_AVX2;
		else if (impl_usable(CHACHAPOLY_IMPL_SSE2))
			s = CHACHAPOLY_IMPL_SSE2;
	}
	__atomic_store_n(&impl_sel, s, __ATOMIC_RELAXED);
	return s;
}

const char *chachapoly_impl(void)
{
	return impl_names[impl_current()];
}

int chachapoly_set_impl(const char *name)
{
	int s;

	if (name == NULL) {
		__atomic_store_n(&impl_sel, CHACHAPOLY_IMPL_NONE,
				 __ATOMIC_RELAXED);
		return 0;
	}
	for (s = CHACHAPOLY_IMPL_AVX2; s <= CHACHAPOLY_IMPL_PORTABLE; s++) {
		if (strcmp(name, impl_names[s]) == 0 && impl_usable(s)) {
			__atomic_store_n(&impl_sel, s, __ATOMIC_RELAXED);
			return 0;
		}
	}
	return -1;
}

static void chacha_xor(int impl, const uint32_t st[16], uint8_t *p, size_t n)
{
	if (impl == CHACHAPOLY_IMPL_AVX2)
		chacha20_xor_avx2(st, p, n);
	else if (impl == CHACHAPOLY_IMPL_SSE2)
		chacha20_xor_sse2(st, p, n);
	else
		chacha20_xor_portable(st, p, n);
}

static void poly_mac(int impl, const uint8_t key[32], const uint8_t *m,
		     size_t n, uint8_t tag[16])
{
	if (impl == CHACHAPOLY_IMPL_PORTABLE)
		poly1305_mac_portable(key, m, n, tag);
	else
		poly1305_mac_64(key, m, n, tag);
}

void poly1305_mac(const uint8_t key[32], const uint8_t *m, size_t n,
		  uint8_t tag[16])
{
	poly_mac(impl_current(), key, m, n, tag);
}

/* ---- the OpenSSH construction ----------------------------------------- */

void chachapoly_init(struct chachapoly_ctx *c,
		     const uint8_t key[CHACHAPOLY_KEY_LEN])
{
	int i;

	for (i = 0; i < 8; i++) {
		c->main_key[i] = le32(key + 4 * i);	   /* K_2 */
		c->header_key[i] = le32(key + 32 + 4 * i); /* K_1 */
	}
}

void chachapoly_free(struct chachapoly_ctx *c)
{
	if (c != NULL)
		crypto_wipe(c, sizeof(*c));
}

/*
 * Input state for one packet: 64-bit block counter in words 12-13, the
 * sequence number as a 64-bit big-endian nonce in words 14-15 (so word 14
 * holds its zero upper half).
 */
static void packet_state(uint32_t st[16], const uint32_t key[8],
			 uint32_t counter, uint32_t seqnr)
{
	uint8_t be[4] = {(uint8_t)(seqnr >> 24), (uint8_t)(seqnr >> 16),
			 (uint8_t)(seqnr >> 8), (uint8_t)seqnr};

	memcpy(st, sigma, 4 * sizeof(*st));
	memcpy(st + 4, key, 8 * sizeof(*st));
	st[12] = counter;
	st[13] = 0;
	st[14] = 0;
	st[15] = le32(be);
}

/* XOR n <= 64 bytes of block 0 of (key, seqnr) into p. */
static void block0_xor(const uint32_t key[8], uint32_t seqnr, uint8_t *p,
		       size_t n)
{
	uint32_t st[16];

	packet_state(st, key, 0, seqnr);
	chacha20_xor_portable(st, p, n);
	crypto_wipe(st, sizeof(st));
}

void chachapoly_length(const struct chachapoly_ctx *c, uint32_t seqnr,
		       const uint8_t enc[4], uint8_t out[4])
{
	memmove(out, enc, 4);
	block0_xor(c->header_key, seqnr, out, 4);
}

/* Poly1305 key: the first 32 bytes of K_2's block 0. */
static void poly_key(const struct chachapoly_ctx *c, uint32_t seqnr,
		     uint8_t pk[32])
{
	memset(pk, 0, 32);
	block0_xor(c->main_key, seqnr, pk, 32);
}

/* Encrypt or decrypt packet_length (K_1) and the body (K_2, block 1 on). */
static void packet_xor(int impl, const struct chachapoly_ctx *c, uint32_t seqnr,
		       uint8_t *pkt, size_t len)
{
	size_t hl = len < CHACHAPOLY_LEN_BYTES ? len : CHACHAPOLY_LEN_BYTES;
	uint32_t st[16];

	block0_xor(c->header_key, seqnr, pkt, hl);
	if (len > hl) {
		packet_state(st, c->main_key, 1, seqnr);
		chacha_xor(impl, st, pkt + hl, len - hl);
		crypto_wipe(st, sizeof(st));
	}
}

void chachapoly_seal(const struct chachapoly_ctx *c, uint32_t seqnr,
		     uint8_t *pkt, size_t len, uint8_t tag[CHACHAPOLY_TAG_LEN])
{
	int impl = impl_current();
	uint8_t pk[32];

	packet_xor(impl, c, seqnr, pkt, len);
	poly_key(c, seqnr, pk);
	poly_mac(impl, pk, pkt, len, tag);
	crypto_wipe(pk, sizeof(pk));
}

int chachapoly_open(const struct chachapoly_ctx *c, uint32_t seqnr,
		    uint8_t *pkt, size_t len,
		    const uint8_t tag[CHACHAPOLY_TAG_LEN])
{
	int impl = impl_current();
	uint8_t pk[32], want[CHACHAPOLY_TAG_LEN];
	int bad;

	poly_key(c, seqnr, pk);
	poly_mac(impl, pk, pkt, len, want);
	bad = crypto_memcmp_ct(want, tag, sizeof(want));
	crypto_wipe(pk, sizeof(pk));
	crypto_wipe(want, sizeof(want));
	if (bad)
		return -1;
	packet_xor(impl, c, seqnr, pkt, len);
	return 0;
}
