/*
 * check_aead.c - AES-GCM and chacha20-poly1305@openssh.com.
 *
 * Known answers: McGrew & Viega's GCM test cases 1-4 and 13-16 (the ones
 * NIST SP 800-38D's validation carried over), RFC 8439 §2.3.2, §2.4.2,
 * §2.5.2 and Appendix A.3 (Poly1305 reduction corner cases).  The OpenSSH
 * construction has no published vectors; ours were computed with an
 * independent implementation (OpenSSL's ChaCha20 and Poly1305 driven by
 * PROTOCOL.chacha20poly1305), and every length is also checked against
 * the construction rebuilt naively from mbedTLS's ChaCha20 and Poly1305.
 * Each test runs once per implementation, pinned with *_set_impl().
 */
#include "aesgcm.h"
#include "chachapoly.h"
#include "crypto.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <mbedtls/chacha20.h>
#include <mbedtls/gcm.h>
#include <mbedtls/poly1305.h>

#define BIG1	  (32 * 1024)
#define BIG2	  (256 * 1024)
#define MAXBUF	  (BIG2 + 64)
#define SHORT_MAX 2048

static const char *const gcm_impls[] = {"aesni-pclmul", "mbedtls"};
static const char *const cp_impls[] = {"avx2", "sse2", "portable"};

/* ---- helpers ---------------------------------------------------------- */

static size_t unhex(uint8_t *out, const char *s)
{
	size_t n = 0;
	unsigned int v;

	for (; *s != '\0'; s += 2) {
		while (*s == ' ')
			s++;
		if (*s == '\0' || sscanf(s, "%2x", &v) != 1)
			break;
		out[n++] = (uint8_t)v;
	}
	return n;
}

/* Deterministic data (xorshift64*), seeded once from the kernel. */
static uint64_t rng_state;

static void rng_seed(void)
{
	const char *e = getenv("CHECK_AEAD_SEED");

	if (e != NULL)
		rng_state = strtoull(e, NULL, 0);
	else
		ck_assert_int_eq(crypto_random(&rng_state, sizeof(rng_state)),
				 0);
	rng_state |= 1;
}

static void rng_fill(uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		rng_state ^= rng_state >> 12;
		rng_state ^= rng_state << 25;
		rng_state ^= rng_state >> 27;
		p[i] = (uint8_t)((rng_state * 0x2545f4914f6cdd1dULL) >> 56);
	}
}

/* Lengths for the differential tests: every one to 2048, then two big. */
static size_t diff_len(size_t i)
{
	return i <= SHORT_MAX ? i : i == SHORT_MAX + 1 ? BIG1 : BIG2;
}
#define DIFF_COUNT (SHORT_MAX + 3)

/* Three big buffers: data, our result, the reference result. */
static uint8_t *buf_a, *buf_b, *buf_c;

static void bufs_setup(void)
{
	buf_a = malloc(MAXBUF);
	buf_b = malloc(MAXBUF);
	buf_c = malloc(MAXBUF);
	ck_assert(buf_a != NULL && buf_b != NULL && buf_c != NULL);
}

static void bufs_teardown(void)
{
	free(buf_a);
	free(buf_b);
	free(buf_c);
}

/* ---- AES-GCM known answers -------------------------------------------- */

struct gcm_kat {
	int tc; /* McGrew & Viega's test case number */
	const char *key, *iv, *pt, *aad, *ct, *tag;
};

#define GCM_P                                                                  \
	"d9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a318a72"     \
	"1c3c0c95956809532fcf0e2449a6b525b16aedf5aa0de657ba637b39"
#define GCM_A  "feedfacedeadbeeffeedfacedeadbeefabaddad2"
#define GCM_K  "feffe9928665731c6d6a8f9467308308"
#define GCM_IV "cafebabefacedbaddecaf888"
#define Z16    "00000000000000000000000000000000"

static const struct gcm_kat gcm_kats[] = {
	{1, Z16, "000000000000000000000000", "", "", "",
	 "58e2fccefa7e3061367f1d57a4e7455a"},
	{2, Z16, "000000000000000000000000", Z16, "",
	 "0388dace60b6a392f328c2b971b2fe78",
	 "ab6e47d42cec13bdf53a67b21257bddf"},
	{3, GCM_K, GCM_IV, GCM_P "1aafd255", "",
	 "42831ec2217774244b7221b784d0d49ce3aa212f2c02a4e035c17e23"
	 "29aca12e21d514b25466931c7d8f6a5aac84aa051ba30b396a0aac97"
	 "3d58e091473f5985",
	 "4d5c2af327cd64a62cf35abd2ba6fab4"},
	{4, GCM_K, GCM_IV, GCM_P, GCM_A,
	 "42831ec2217774244b7221b784d0d49ce3aa212f2c02a4e035c17e23"
	 "29aca12e21d514b25466931c7d8f6a5aac84aa051ba30b396a0aac97"
	 "3d58e091",
	 "5bc94fbc3221a5db94fae95ae7121a47"},
	{13, Z16 Z16, "000000000000000000000000", "", "", "",
	 "530f8afbc74536b9a963b4f1c4cb738b"},
	{14, Z16 Z16, "000000000000000000000000", Z16, "",
	 "cea7403d4d606b6e074ec5d3baf39d18",
	 "d0d1c8a799996bf0265b98b5d48ab919"},
	{15, GCM_K GCM_K, GCM_IV, GCM_P "1aafd255", "",
	 "522dc1f099567d07f47f37a32a84427d643a8cdcbfe5c0c97598a2bd"
	 "2555d1aa8cb08e48590dbb3da7b08b1056828838c5f61e6393ba7a0a"
	 "bcc9f662898015ad",
	 "b094dac5d93471bdec1a502270e3cc6c"},
	{16, GCM_K GCM_K, GCM_IV, GCM_P, GCM_A,
	 "522dc1f099567d07f47f37a32a84427d643a8cdcbfe5c0c97598a2bd"
	 "2555d1aa8cb08e48590dbb3da7b08b1056828838c5f61e6393ba7a0a"
	 "bcc9f662",
	 "76fc6ece0f4e1768cddf8853bb2d551b"},
};

/* Pin implementation _i; false (and the test passes vacuously) if absent. */
static int use_gcm(int i)
{
	if (aesgcm_set_impl(gcm_impls[i]) != 0) {
		fprintf(stderr, "skipping %s: not supported here\n",
			gcm_impls[i]);
		return 0;
	}
	ck_assert_str_eq(aesgcm_impl(), gcm_impls[i]);
	return 1;
}

START_TEST(test_gcm_kat)
{
	uint8_t key[32], iv[12], pt[64], aad[20], ct[64], tag[16], b[64], t[16];
	size_t kl, pl, al, cl;
	struct aesgcm_ctx c;

	if (!use_gcm(_i))
		return;
	for (size_t v = 0; v < sizeof(gcm_kats) / sizeof(gcm_kats[0]); v++) {
		const struct gcm_kat *k = &gcm_kats[v];

		kl = unhex(key, k->key);
		ck_assert_uint_eq(unhex(iv, k->iv), 12);
		pl = unhex(pt, k->pt);
		al = unhex(aad, k->aad);
		cl = unhex(ct, k->ct);
		ck_assert_uint_eq(unhex(tag, k->tag), 16);
		ck_assert_uint_eq(pl, cl);
		ck_assert_int_eq(aesgcm_init(&c, key, kl), 0);
		memcpy(b, pt, pl);
		aesgcm_seal(&c, iv, aad, al, b, pl, t);
		ck_assert_msg(memcmp(b, ct, cl) == 0, "ciphertext, vector %zu",
			      v);
		ck_assert_msg(memcmp(t, tag, 16) == 0, "tag, test case %d",
			      k->tc);
		ck_assert_int_eq(aesgcm_open(&c, iv, aad, al, b, cl, tag), 0);
		ck_assert_msg(memcmp(b, pt, pl) == 0, "plaintext, vector %zu",
			      v);
		aesgcm_free(&c);
	}
}
END_TEST

START_TEST(test_gcm_bad_key)
{
	struct aesgcm_ctx c;
	uint8_t key[32] = {0};

	if (!use_gcm(_i))
		return;
	ck_assert_int_eq(aesgcm_init(&c, key, 24), -1);
	ck_assert_int_eq(aesgcm_init(&c, key, 0), -1);
	aesgcm_free(NULL);
}
END_TEST

/* ---- AES-GCM against mbedTLS ------------------------------------------ */

static void gcm_ref(const uint8_t *key, size_t kl, const uint8_t *iv,
		    const uint8_t *aad, size_t al, const uint8_t *in,
		    uint8_t *out, size_t len, uint8_t tag[16])
{
	mbedtls_gcm_context g;

	mbedtls_gcm_init(&g);
	ck_assert_int_eq(mbedtls_gcm_setkey(&g, MBEDTLS_CIPHER_ID_AES, key,
					    (unsigned int)kl * 8),
			 0);
	ck_assert_int_eq(mbedtls_gcm_crypt_and_tag(&g, MBEDTLS_GCM_ENCRYPT, len,
						   iv, 12, aad, al, in, out, 16,
						   tag),
			 0);
	mbedtls_gcm_free(&g);
}

/* One length: seal == mbedTLS, open gives the plaintext back. */
static void gcm_diff_one(size_t kl, size_t len)
{
	uint8_t key[32], iv[12], aad[300], tag[16], rtag[16];
	/* 0..40 bytes, 4 as in SSH among them; now and then several
	 * eight-block GHASH batches of it */
	size_t al = len % 5 == 0 ? 128 + len % 171 : len % 41;
	struct aesgcm_ctx c;

	rng_fill(key, kl);
	rng_fill(iv, sizeof(iv));
	rng_fill(aad, al);
	rng_fill(buf_a, len);
	memcpy(buf_b, buf_a, len);
	gcm_ref(key, kl, iv, aad, al, buf_a, buf_c, len, rtag);
	ck_assert_int_eq(aesgcm_init(&c, key, kl), 0);
	aesgcm_seal(&c, iv, aad, al, buf_b, len, tag);
	ck_assert_msg(memcmp(buf_b, buf_c, len) == 0,
		      "ct differs: keylen %zu len %zu seed %llu", kl, len,
		      (unsigned long long)rng_state);
	ck_assert_msg(memcmp(tag, rtag, 16) == 0,
		      "tag differs: keylen %zu len %zu", kl, len);
	ck_assert_int_eq(aesgcm_open(&c, iv, aad, al, buf_b, len, tag), 0);
	ck_assert_msg(memcmp(buf_b, buf_a, len) == 0,
		      "open differs: keylen %zu len %zu", kl, len);
	aesgcm_free(&c);
}

START_TEST(test_gcm_differential)
{
	if (!use_gcm(_i))
		return;
	rng_seed();
	for (size_t i = 0; i < DIFF_COUNT; i++) {
		gcm_diff_one(16, diff_len(i));
		gcm_diff_one(32, diff_len(i));
	}
}
END_TEST

/* Every tag bit, a spread of ciphertext and AAD bits: -1, buf unchanged. */
START_TEST(test_gcm_tamper)
{
	uint8_t key[16], iv[12], aad[4], tag[16], t2[16], a2[4];
	const size_t len = 300;
	struct aesgcm_ctx c;

	if (!use_gcm(_i))
		return;
	rng_seed();
	rng_fill(key, sizeof(key));
	rng_fill(iv, sizeof(iv));
	rng_fill(aad, sizeof(aad));
	rng_fill(buf_a, len);
	ck_assert_int_eq(aesgcm_init(&c, key, sizeof(key)), 0);
	aesgcm_seal(&c, iv, aad, sizeof(aad), buf_a, len, tag);
	for (int bit = 0; bit < 128; bit++) {
		memcpy(t2, tag, 16);
		t2[bit / 8] ^= (uint8_t)(1 << (bit % 8));
		memcpy(buf_b, buf_a, len);
		ck_assert_int_eq(
			aesgcm_open(&c, iv, aad, sizeof(aad), buf_b, len, t2),
			-1);
		ck_assert_msg(memcmp(buf_b, buf_a, len) == 0,
			      "buffer touched after a failed open");
	}
	for (size_t bit = 0; bit < len * 8; bit += 7) {
		memcpy(buf_b, buf_a, len);
		buf_b[bit / 8] ^= (uint8_t)(1 << (bit % 8));
		memcpy(buf_c, buf_b, len);
		ck_assert_int_eq(
			aesgcm_open(&c, iv, aad, sizeof(aad), buf_b, len, tag),
			-1);
		ck_assert(memcmp(buf_b, buf_c, len) == 0);
	}
	for (int bit = 0; bit < 32; bit++) {
		memcpy(a2, aad, 4);
		a2[bit / 8] ^= (uint8_t)(1 << (bit % 8));
		memcpy(buf_b, buf_a, len);
		ck_assert_int_eq(aesgcm_open(&c, iv, a2, 4, buf_b, len, tag),
				 -1);
		ck_assert(memcmp(buf_b, buf_a, len) == 0);
	}
	ck_assert_int_eq(aesgcm_open(&c, iv, aad, 4, buf_a, len, tag), 0);
	aesgcm_free(&c);
}
END_TEST

START_TEST(test_gcm_env_portable)
{
	setenv("SFTPMNT_CRYPTO_PORTABLE", "1", 1);
	ck_assert_int_eq(aesgcm_set_impl(NULL), 0);
	ck_assert_str_eq(aesgcm_impl(), "mbedtls");
	unsetenv("SFTPMNT_CRYPTO_PORTABLE");
	ck_assert_int_eq(aesgcm_set_impl(NULL), 0);
	if (aesgcm_ni_supported())
		ck_assert_str_eq(aesgcm_impl(), "aesni-pclmul");
	ck_assert_int_eq(aesgcm_set_impl("rot13"), -1);
}
END_TEST

/* ---- ChaCha20 and Poly1305 known answers ------------------------------ */

static int use_cp(int i)
{
	if (chachapoly_set_impl(cp_impls[i]) != 0) {
		fprintf(stderr, "skipping %s: not supported here\n",
			cp_impls[i]);
		return 0;
	}
	ck_assert_str_eq(chachapoly_impl(), cp_impls[i]);
	return 1;
}

/* RFC 8439 §2.3.2 */
START_TEST(test_chacha20_block)
{
	uint8_t key[32], in[16], out[64], want[64];

	for (int i = 0; i < 32; i++)
		key[i] = (uint8_t)i;
	unhex(in, "01000000 00000009 0000004a 00000000");
	unhex(want, "10f1e7e4d13b5915500fdd1fa32071c4c7d1f4c733c068030422aa9a"
		    "c3d46c4ed2826446079faa0914c2d705d98b02a2b5129cd1de164eb9"
		    "cbd083e8a2503c4e");
	chacha20_block(key, in, out);
	ck_assert(memcmp(out, want, 64) == 0);
}
END_TEST

typedef void (*xor_fn)(const uint32_t st[16], uint8_t *p, size_t n);

static xor_fn cp_xor(int i)
{
	static const xor_fn f[] = {chacha20_xor_avx2, chacha20_xor_sse2,
				   chacha20_xor_portable};
	return f[i];
}

/* RFC 8439 §2.4.2: 114 bytes from counter 1, through each back end. */
START_TEST(test_chacha20_rfc_xor)
{
	static const char pt[] =
		"Ladies and Gentlemen of the class of '99: If I could offer "
		"you only one tip for the future, sunscreen would be it.";
	uint32_t st[16] = {0x61707865, 0x3320646e, 0x79622d32, 0x6b206574};
	uint8_t b[114], want[114];

	if (!use_cp(_i))
		return;
	for (int w = 0; w < 8; w++)
		st[4 + w] = (uint32_t)(4 * w) | (uint32_t)(4 * w + 1) << 8 |
			    (uint32_t)(4 * w + 2) << 16 |
			    (uint32_t)(4 * w + 3) << 24;
	st[12] = 1, st[13] = 0, st[14] = 0x4a000000, st[15] = 0;
	ck_assert_uint_eq(sizeof(pt) - 1, sizeof(b));
	unhex(want,
	      "6e2e359a2568f98041ba0728dd0d6981e97e7aec1d4360c20a27afccfd9fae0b"
	      "f91b65c5524733ab8f593dabcd62b3571639d624e65152ab8f530c359f0861d8"
	      "07ca0dbf500d6a6156a38e088a22b65e52bc514d16ccf806818ce91ab7793736"
	      "5af90bbf74a35be6b40b8eedf2785e42874d");
	memcpy(b, pt, sizeof(b));
	cp_xor(_i)(st, b, sizeof(b));
	ck_assert(memcmp(b, want, sizeof(b)) == 0);
}
END_TEST

/* Every length through the back end against the portable reference. */
START_TEST(test_chacha20_backends)
{
	uint32_t st[16];

	if (!use_cp(_i))
		return;
	rng_seed();
	for (size_t i = 0; i < DIFF_COUNT; i++) {
		size_t len = diff_len(i);

		rng_fill((uint8_t *)st, sizeof(st));
		st[12] &= 0x0fffffff; /* no 2^32 wrap within BIG2 */
		rng_fill(buf_a, len);
		memcpy(buf_b, buf_a, len);
		chacha20_xor_portable(st, buf_a, len);
		cp_xor(_i)(st, buf_b, len);
		ck_assert_msg(memcmp(buf_a, buf_b, len) == 0, "len %zu", len);
	}
}
END_TEST

struct poly_kat {
	const char *key, *msg, *tag;
};

#define PK_R1 "01000000000000000000000000000000"
#define PK_R2 "02000000000000000000000000000000"
#define PK_R3 "01000000000000000400000000000000"
#define PK_M10                                                                 \
	"e33594d7505e43b900000000000000003394d7505e4379cd0100000000000000"     \
	"0000000000000000000000000000000001000000000000000000000000000000"

static const struct poly_kat poly_kats[] = {
	/* §2.5.2 */
	{"85d6be7857556d337f4452fe42d506a80103808afb0db2fd4abff6af4149f51b",
	 "43727970746f6772617068696320466f72756d2052657365617263682047726f7570",
	 "a8061dc1305136c6c22b8baf0c0127a9"},
	/* A.3 #1 */
	{Z16 Z16, Z16 Z16 Z16 Z16, Z16},
	/* A.3 #5-#11: the partial-reduction corner cases */
	{PK_R2 Z16, "ffffffffffffffffffffffffffffffff",
	 "03000000000000000000000000000000"},
	{PK_R2 "ffffffffffffffffffffffffffffffff",
	 "02000000000000000000000000000000",
	 "03000000000000000000000000000000"},
	{PK_R1 Z16,
	 "ffffffffffffffffffffffffffffffff"
	 "f0ffffffffffffffffffffffffffffff"
	 "11000000000000000000000000000000",
	 "05000000000000000000000000000000"},
	{PK_R1 Z16,
	 "ffffffffffffffffffffffffffffffff"
	 "fbfefefefefefefefefefefefefefefe"
	 "01010101010101010101010101010101",
	 Z16},
	{PK_R2 Z16, "fdffffffffffffffffffffffffffffff",
	 "faffffffffffffffffffffffffffffff"},
	{PK_R3 Z16, PK_M10, "14000000000000005500000000000000"},
	{PK_R3 Z16,
	 "e33594d7505e43b900000000000000003394d7505e4379cd"
	 "010000000000000000000000000000000000000000000000",
	 "13000000000000000000000000000000"},
};

START_TEST(test_poly1305_kat)
{
	uint8_t key[32], msg[80], tag[16], t[16];
	size_t n;

	if (!use_cp(_i))
		return;
	for (size_t v = 0; v < sizeof(poly_kats) / sizeof(poly_kats[0]); v++) {
		ck_assert_uint_eq(unhex(key, poly_kats[v].key), 32);
		n = unhex(msg, poly_kats[v].msg);
		unhex(tag, poly_kats[v].tag);
		poly1305_mac(key, msg, n, t);
		ck_assert_msg(memcmp(t, tag, 16) == 0, "vector %zu", v);
	}
}
END_TEST

/* Random and extreme keys and messages against mbedTLS. */
START_TEST(test_poly1305_differential)
{
	uint8_t key[32], t[16], ref[16];

	if (!use_cp(_i))
		return;
	rng_seed();
	for (size_t i = 0; i < DIFF_COUNT; i++) {
		size_t len = diff_len(i);

		rng_fill(key, sizeof(key));
		if (i % 3 == 0) /* all-ones: largest limbs and carries */
			memset(key, 0xff, sizeof(key));
		rng_fill(buf_a, len);
		if (i % 2 == 0)
			memset(buf_a, 0xff, len);
		poly1305_mac(key, buf_a, len, t);
		ck_assert_int_eq(mbedtls_poly1305_mac(key, buf_a, len, ref), 0);
		ck_assert_msg(memcmp(t, ref, 16) == 0, "len %zu", len);
	}
}
END_TEST

/* ---- chacha20-poly1305@openssh.com ------------------------------------ */

/* The construction again, from mbedTLS's RFC 8439 ChaCha20: the 96-bit
 * nonce is word 13 (the high counter word, 0) and the 64-bit sequence. */
static void cp_ref(const uint8_t key[64], uint32_t seq, const uint8_t *in,
		   uint8_t *out, size_t len, uint8_t tag[16])
{
	uint8_t nonce[12] = {0}, pk[32] = {0};

	nonce[8] = (uint8_t)(seq >> 24), nonce[9] = (uint8_t)(seq >> 16);
	nonce[10] = (uint8_t)(seq >> 8), nonce[11] = (uint8_t)seq;
	ck_assert_int_eq(mbedtls_chacha20_crypt(key + 32, nonce, 0, 4, in, out),
			 0);
	ck_assert_int_eq(
		mbedtls_chacha20_crypt(key, nonce, 1, len - 4, in + 4, out + 4),
		0);
	ck_assert_int_eq(mbedtls_chacha20_crypt(key, nonce, 0, 32, pk, pk), 0);
	ck_assert_int_eq(mbedtls_poly1305_mac(pk, out, len, tag), 0);
}

/* SSH_MSG_SERVICE_REQUEST "ssh-userauth", seqnr 7, key 00 01 .. 3f. */
START_TEST(test_openssh_kat)
{
	uint8_t key[64], pkt[28], want[28], tag[16], wtag[16], len[4], p0[28];
	struct chachapoly_ctx c;

	if (!use_cp(_i))
		return;
	for (int i = 0; i < 64; i++)
		key[i] = (uint8_t)i;
	unhex(p0,
	      "00000018 06 050000000c7373682d7573657261757468 000000000000");
	unhex(want, "a39afcb22e4315434e8f592d0440ce83b2fdb25940da30367ee33d83");
	unhex(wtag, "6a3430ef1d734e90b2e3b0e4717ba829");
	chachapoly_init(&c, key);
	memcpy(pkt, p0, sizeof(pkt));
	chachapoly_seal(&c, 7, pkt, sizeof(pkt), tag);
	ck_assert(memcmp(pkt, want, sizeof(pkt)) == 0);
	ck_assert(memcmp(tag, wtag, 16) == 0);
	chachapoly_length(&c, 7, pkt, len);
	ck_assert(memcmp(len, p0, 4) == 0);
	ck_assert_int_eq(chachapoly_open(&c, 6, pkt, sizeof(pkt), tag), -1);
	ck_assert_int_eq(chachapoly_open(&c, 7, pkt, sizeof(pkt), tag), 0);
	ck_assert(memcmp(pkt, p0, sizeof(pkt)) == 0);
	chachapoly_free(&c);
}
END_TEST

/* 600 bytes at seqnr 2^32 - 2: the big-endian nonce and the tail paths. */
START_TEST(test_openssh_kat_long)
{
	uint8_t key[64], tag[16], wtag[16], h[32], wh[32];
	const size_t len = 600;
	struct chachapoly_ctx c;

	if (!use_cp(_i))
		return;
	for (int i = 0; i < 64; i++)
		key[i] = (uint8_t)(i * 7 + 3);
	buf_a[0] = 0, buf_a[1] = 0, buf_a[2] = 0x02, buf_a[3] = 0x54;
	for (size_t i = 0; i < len - 4; i++)
		buf_a[4 + i] = (uint8_t)(i * 13 + 5);
	unhex(wh, "6bb4c920ccb65c25f95cd314ac4774caf4a826c2a0868c720a4040cd248f"
		  "576e");
	unhex(wtag, "d352979094a5f25dec35d10540d38698");
	chachapoly_init(&c, key);
	chachapoly_seal(&c, 0xfffffffe, buf_a, len, tag);
	ck_assert_int_eq(crypto_hash(CRYPTO_SHA256, buf_a, len, h), 0);
	ck_assert(memcmp(h, wh, 32) == 0);
	ck_assert(memcmp(tag, wtag, 16) == 0);
	chachapoly_free(&c);
}
END_TEST

static void cp_diff_one(size_t len)
{
	uint8_t key[64], tag[16], rtag[16], s[4];
	struct chachapoly_ctx c;
	uint32_t seq;

	rng_fill(key, sizeof(key));
	rng_fill(s, sizeof(s));
	seq = (uint32_t)s[0] << 24 | (uint32_t)s[1] << 16 | s[2] << 8 | s[3];
	rng_fill(buf_a, len);
	memcpy(buf_b, buf_a, len);
	cp_ref(key, seq, buf_a, buf_c, len, rtag);
	chachapoly_init(&c, key);
	chachapoly_seal(&c, seq, buf_b, len, tag);
	ck_assert_msg(memcmp(buf_b, buf_c, len) == 0, "ct differs, len %zu",
		      len);
	ck_assert_msg(memcmp(tag, rtag, 16) == 0, "tag differs, len %zu", len);
	ck_assert_int_eq(chachapoly_open(&c, seq, buf_b, len, tag), 0);
	ck_assert_msg(memcmp(buf_b, buf_a, len) == 0, "open differs, len %zu",
		      len);
	chachapoly_free(&c);
}

START_TEST(test_openssh_differential)
{
	if (!use_cp(_i))
		return;
	rng_seed();
	for (size_t i = 0; i < DIFF_COUNT; i++)
		cp_diff_one(diff_len(i) + 4);
}
END_TEST

START_TEST(test_openssh_tamper)
{
	uint8_t key[64], tag[16], t2[16];
	const size_t len = 4 + 300;
	struct chachapoly_ctx c;

	if (!use_cp(_i))
		return;
	rng_seed();
	rng_fill(key, sizeof(key));
	rng_fill(buf_a, len);
	chachapoly_init(&c, key);
	chachapoly_seal(&c, 3, buf_a, len, tag);
	for (int bit = 0; bit < 128; bit++) {
		memcpy(t2, tag, 16);
		t2[bit / 8] ^= (uint8_t)(1 << (bit % 8));
		memcpy(buf_b, buf_a, len);
		ck_assert_int_eq(chachapoly_open(&c, 3, buf_b, len, t2), -1);
		ck_assert_msg(memcmp(buf_b, buf_a, len) == 0,
			      "buffer touched after a failed open");
	}
	for (size_t bit = 0; bit < len * 8; bit += 5) { /* length too */
		memcpy(buf_b, buf_a, len);
		buf_b[bit / 8] ^= (uint8_t)(1 << (bit % 8));
		memcpy(buf_c, buf_b, len);
		ck_assert_int_eq(chachapoly_open(&c, 3, buf_b, len, tag), -1);
		ck_assert(memcmp(buf_b, buf_c, len) == 0);
	}
	ck_assert_int_eq(chachapoly_open(&c, 3, buf_a, len, tag), 0);
	chachapoly_free(&c);
}
END_TEST

START_TEST(test_cp_env_portable)
{
	setenv("SFTPMNT_CRYPTO_PORTABLE", "1", 1);
	ck_assert_int_eq(chachapoly_set_impl(NULL), 0);
	ck_assert_str_eq(chachapoly_impl(), "portable");
	unsetenv("SFTPMNT_CRYPTO_PORTABLE");
	ck_assert_int_eq(chachapoly_set_impl(NULL), 0);
	if (chacha20_avx2_supported())
		ck_assert_str_eq(chachapoly_impl(), "avx2");
	ck_assert_int_eq(chachapoly_set_impl("neon"), -1);
}
END_TEST

/* ---- suite ------------------------------------------------------------ */

static TCase *tcase(Suite *s, const char *name)
{
	TCase *tc = tcase_create(name);

	tcase_add_checked_fixture(tc, bufs_setup, bufs_teardown);
	tcase_set_timeout(tc, 120); /* sanitizers make the big ones slow */
	suite_add_tcase(s, tc);
	return tc;
}

static Suite *aead_suite(void)
{
	Suite *s = suite_create("aead");
	TCase *tc;
	const int ng = 2, nc = 3;

	tc = tcase(s, "aesgcm");
	tcase_add_loop_test(tc, test_gcm_kat, 0, ng);
	tcase_add_loop_test(tc, test_gcm_bad_key, 0, ng);
	tcase_add_loop_test(tc, test_gcm_differential, 0, ng);
	tcase_add_loop_test(tc, test_gcm_tamper, 0, ng);
	tcase_add_test(tc, test_gcm_env_portable);

	tc = tcase(s, "chacha20-poly1305");
	tcase_add_test(tc, test_chacha20_block);
	tcase_add_loop_test(tc, test_chacha20_rfc_xor, 0, nc);
	tcase_add_loop_test(tc, test_chacha20_backends, 0, nc);
	tcase_add_loop_test(tc, test_poly1305_kat, 0, nc);
	tcase_add_loop_test(tc, test_poly1305_differential, 0, nc);
	tcase_add_loop_test(tc, test_openssh_kat, 0, nc);
	tcase_add_loop_test(tc, test_openssh_kat_long, 0, nc);
	tcase_add_loop_test(tc, test_openssh_differential, 0, nc);
	tcase_add_loop_test(tc, test_openssh_tamper, 0, nc);
	tcase_add_test(tc, test_cp_env_portable);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(aead_suite());
	int failed;

	srunner_run_all(sr, CK_ENV);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
