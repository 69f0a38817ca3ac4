/*
 * check_sntrup761.c - lib/crypto/sntrup761.c: known answers, round trips,
 * implicit rejection, the encodings, the sorting network and the
 * constant-time division; prints the time of key generation,
 * encapsulation and decapsulation.
 *
 * Known answers: the first entry of the NIST-format KAT (count = 0) as
 * liboqs regenerates it (tests/kat_kem.c): the NIST AES-256 CTR_DRBG
 * seeded with bytes 0..47 draws the 48-byte seed, the DRBG is reseeded
 * with it, then keypair, enc and dec run on it.  liboqs publishes the
 * SHA-256 of that text in tests/KATs/kem/kats.json, entry "sntrup761",
 * "single"; the full KAT file (counts 0..99, as in the NTRU Prime
 * submission) hashes to its "all" value.  We print the same text and
 * compare hashes.
 */
#include <check.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "crypto.h"
#include "sntrup761.h"

#define P	  SNTRUP761_P
#define Q	  SNTRUP761_Q
#define Q12	  ((Q - 1) / 2)
#define PK_LEN	  SNTRUP761_PUBLICKEY_LEN
#define SK_LEN	  SNTRUP761_SECRETKEY_LEN
#define CT_LEN	  SNTRUP761_CIPHERTEXT_LEN
#define SS_LEN	  SNTRUP761_SHARED_LEN
#define RND_LEN	  SNTRUP761_ROUNDED_LEN
#define SMALL_LEN 191

/* liboqs tests/KATs/kem/kats.json, "sntrup761" */
#define KAT_SINGLE_SHA256                                                      \
	"afc42c3a5b10f4ef69654250097ebda9b9564570f4086744b24a6daf2bd1f89a"
#define KAT_ALL_SHA256                                                         \
	"36e1e53d4e6e295e8fb804449958ad9a3719aa350e91933c65791b9117382d57"

/* ---- the NIST KAT generator: AES-256 CTR_DRBG without derivation
 * function (SP 800-90A §10.2.1), as in the NIST PQC rng.c ------------- */

struct drbg {
	uint8_t key[32];
	uint8_t v[16];
};

static void aes256_block(const uint8_t key[32], const uint8_t in[16],
			 uint8_t out[16])
{
	static const uint8_t zero[16];
	struct crypto_aes a;

	/* one CBC block with a zero IV is the bare block cipher */
	ck_assert_int_eq(crypto_aes_init(&a, CRYPTO_AES_CBC_ENC, key, 32, zero),
			 0);
	memcpy(out, in, 16);
	ck_assert_int_eq(crypto_aes_crypt(&a, out, 16), 0);
	crypto_aes_free(&a);
}

static void v_increment(uint8_t v[16])
{
	int j;

	for (j = 15; j >= 0; j--)
		if (++v[j] != 0)
			break;
}

/* CTR_DRBG_Update: three blocks of E(K, ++V), xored with the provided
 * data, become the new K and V. */
static void drbg_update(struct drbg *d, const uint8_t *provided)
{
	uint8_t t[48];
	int i;

	for (i = 0; i < 3; i++) {
		v_increment(d->v);
		aes256_block(d->key, d->v, t + 16 * i);
	}
	if (provided)
		for (i = 0; i < 48; i++)
			t[i] ^= provided[i];
	memcpy(d->key, t, 32);
	memcpy(d->v, t + 32, 16);
}

static void drbg_init(struct drbg *d, const uint8_t seed[48])
{
	memset(d, 0, sizeof(*d));
	drbg_update(d, seed);
}

/* One generate call: whole blocks of E(K, ++V), the last one cut, then
 * an update with no data.  (So a call's length matters: the KEM's draws
 * must be made in the reference's sizes.) */
static int drbg_bytes(void *ctx, void *buf, size_t n)
{
	struct drbg *d = ctx;
	uint8_t *out = buf, block[16];

	while (n > 0) {
		size_t take = n < 16 ? n : 16;

		v_increment(d->v);
		aes256_block(d->key, d->v, block);
		memcpy(out, block, take);
		out += take;
		n -= take;
	}
	drbg_update(d, NULL);
	return 0;
}

/* ---- helpers ------------------------------------------------------------- */

static void hexcat(struct crypto_hash *h, const char *label, const uint8_t *p,
		   size_t n)
{
	char two[3];
	size_t i;

	crypto_hash_update(h, label, strlen(label));
	for (i = 0; i < n; i++) {
		snprintf(two, sizeof(two), "%02X", p[i]);
		crypto_hash_update(h, two, 2);
	}
	crypto_hash_update(h, "\n", 1);
}

static void tohex(char *out, const uint8_t *p, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		sprintf(out + 2 * i, "%02x", p[i]);
}

/* One KAT entry into the running text hash: count, seed, pk, sk, ct, ss. */
static void kat_entry(struct crypto_hash *h, int count, const uint8_t seed[48])
{
	static uint8_t pk[PK_LEN], sk[SK_LEN], ct[CT_LEN];
	uint8_t ss[SS_LEN], ss2[SS_LEN];
	struct drbg d;
	char line[32];

	snprintf(line, sizeof(line), "count = %d\n", count);
	crypto_hash_update(h, line, strlen(line));
	hexcat(h, "seed = ", seed, 48);
	drbg_init(&d, seed);
	ck_assert_int_eq(sntrup761_keypair(pk, sk, drbg_bytes, &d), 0);
	hexcat(h, "pk = ", pk, PK_LEN);
	hexcat(h, "sk = ", sk, SK_LEN);
	ck_assert_int_eq(sntrup761_enc(ct, ss, pk, drbg_bytes, &d), 0);
	hexcat(h, "ct = ", ct, CT_LEN);
	hexcat(h, "ss = ", ss, SS_LEN);
	ck_assert_int_eq(sntrup761_dec(ss2, ct, sk), 0);
	ck_assert_mem_eq(ss, ss2, SS_LEN);
}

static void kat_seed0(uint8_t seed[48], struct drbg *d)
{
	uint8_t entropy[48];
	int i;

	for (i = 0; i < 48; i++)
		entropy[i] = (uint8_t)i;
	drbg_init(d, entropy);
	drbg_bytes(d, seed, 48);
}

/* ---- known answers ------------------------------------------------------- */

START_TEST(kat_single)
{
	uint8_t seed[48], digest[32];
	char got[65];
	struct crypto_hash h;
	struct drbg d;

	kat_seed0(seed, &d);
	ck_assert_int_eq(crypto_hash_init(&h, CRYPTO_SHA256), 0);
	kat_entry(&h, 0, seed);
	crypto_hash_final(&h, digest);
	tohex(got, digest, 32);
	ck_assert_str_eq(got, KAT_SINGLE_SHA256);
}
END_TEST

/* All hundred entries, separated by blank lines (the text liboqs hashes
 * for "all"); seeds 0..99 are the successive 48-byte draws of the
 * generator seeded with 0..47. */
START_TEST(kat_all)
{
	uint8_t seeds[100][48], digest[32];
	char got[65];
	struct crypto_hash h;
	struct drbg d;
	int i;

	kat_seed0(seeds[0], &d);
	for (i = 1; i < 100; i++)
		drbg_bytes(&d, seeds[i], 48);
	ck_assert_int_eq(crypto_hash_init(&h, CRYPTO_SHA256), 0);
	for (i = 0; i < 100; i++) {
		if (i > 0)
			crypto_hash_update(&h, "\n", 1);
		kat_entry(&h, i, seeds[i]);
	}
	crypto_hash_final(&h, digest);
	tohex(got, digest, 32);
	ck_assert_str_eq(got, KAT_ALL_SHA256);
}
END_TEST

/* ---- properties ---------------------------------------------------------- */

/* Coefficient i of a Small encoding. */
static int small_coeff(const uint8_t *enc, int i)
{
	return ((enc[i / 4] >> (2 * (i % 4))) & 3) - 1;
}

static int rand_bytes(void *ctx, void *buf, size_t n)
{
	(void)ctx;
	return crypto_random(buf, n);
}

START_TEST(round_trips)
{
	static uint8_t pk[PK_LEN], sk[SK_LEN], ct[CT_LEN];
	uint8_t ss[SS_LEN], ss2[SS_LEN], cache[64];
	uint8_t prefixed[1 + PK_LEN];
	int n, i, weight, code;

	for (n = 0; n < 40; n++) {
		/* half through crypto_random directly, half by callback */
		ck_assert_int_eq(sntrup761_keypair(pk, sk,
						   n & 1 ? rand_bytes : NULL,
						   NULL),
				 0);
		/* the secret key's layout: Small(f) with weight w, Small(1/g),
		 * pk, rho, Hash4(pk) */
		for (i = weight = 0; i < P; i++) {
			code = (sk[i / 4] >> (2 * (i % 4))) & 3;
			ck_assert_int_ne(code, 3);
			weight += small_coeff(sk, i) != 0;
		}
		ck_assert_int_eq(weight, SNTRUP761_W);
		for (i = 0; i < P; i++)
			ck_assert_int_ne(
				(sk[SMALL_LEN + i / 4] >> (2 * (i % 4))) & 3,
				3);
		ck_assert_mem_eq(sk + 2 * SMALL_LEN, pk, PK_LEN);
		prefixed[0] = 4;
		memcpy(prefixed + 1, pk, PK_LEN);
		ck_assert_int_eq(crypto_hash(CRYPTO_SHA512, prefixed,
					     sizeof(prefixed), cache),
				 0);
		ck_assert_mem_eq(sk + SK_LEN - 32, cache, 32);

		ck_assert_int_eq(sntrup761_enc(ct, ss, pk,
					       n & 1 ? NULL : rand_bytes, NULL),
				 0);
		memset(ss2, 0, sizeof(ss2));
		ck_assert_int_eq(sntrup761_dec(ss2, ct, sk), 0);
		ck_assert_mem_eq(ss, ss2, SS_LEN);
	}
}
END_TEST

/* Hash0(Hash3(rho) || ct): the key a rejected ciphertext must give. */
static void rejection_key(uint8_t out[SS_LEN], const uint8_t *sk,
			  const uint8_t *ct)
{
	uint8_t buf[1 + 32 + CT_LEN], h[64];

	buf[0] = 3;
	memcpy(buf + 1, sk + 2 * SMALL_LEN + PK_LEN, SMALL_LEN);
	ck_assert_int_eq(crypto_hash(CRYPTO_SHA512, buf, 1 + SMALL_LEN, h), 0);
	buf[0] = 0;
	memcpy(buf + 1, h, 32);
	memcpy(buf + 33, ct, CT_LEN);
	ck_assert_int_eq(crypto_hash(CRYPTO_SHA512, buf, sizeof(buf), h), 0);
	memcpy(out, h, SS_LEN);
}

START_TEST(implicit_rejection)
{
	static uint8_t pk[PK_LEN], sk[SK_LEN], ct[CT_LEN], bad[CT_LEN];
	uint8_t ss[SS_LEN], got[SS_LEN], want[SS_LEN];
	uint32_t pos;
	int n;

	ck_assert_int_eq(sntrup761_keypair(pk, sk, NULL, NULL), 0);
	ck_assert_int_eq(sntrup761_enc(ct, ss, pk, NULL, NULL), 0);
	/* one flipped bit anywhere (the rounded part and the confirm hash),
	 * then whole random ciphertexts */
	for (n = 0; n < 120; n++) {
		memcpy(bad, ct, CT_LEN);
		if (n < 100) {
			ck_assert_int_eq(crypto_random(&pos, sizeof(pos)), 0);
			if (n == 0)
				pos = 0;
			else if (n == 1)
				pos = (CT_LEN - 1) * 8 + 7;
			else if (n == 2)
				pos = RND_LEN * 8; /* first confirm bit */
			pos %= CT_LEN * 8;
			bad[pos / 8] ^= (uint8_t)(1u << (pos % 8));
		} else {
			ck_assert_int_eq(crypto_random(bad, CT_LEN), 0);
		}
		ck_assert_int_eq(sntrup761_dec(got, bad, sk), 0);
		rejection_key(want, sk, bad);
		ck_assert_mem_ne(got, ss, SS_LEN);
		ck_assert_mem_eq(got, want, SS_LEN);
	}
	/* and the untouched ciphertext still gives the right key */
	ck_assert_int_eq(sntrup761_dec(got, ct, sk), 0);
	ck_assert_mem_eq(got, ss, SS_LEN);
	rejection_key(want, sk, ct);
	ck_assert_mem_ne(got, want, SS_LEN);
}
END_TEST

/* ---- encodings ----------------------------------------------------------- */

/* Test data (not key material): splitmix64, seeded from the kernel. */
static uint64_t mix_state;

static uint32_t rand32(void)
{
	uint64_t z;

	if (mix_state == 0)
		ck_assert_int_eq(crypto_random(&mix_state, sizeof(mix_state)),
				 0);
	z = (mix_state += 0x9e3779b97f4a7c15);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9;
	z = (z ^ (z >> 27)) * 0x94d049bb133111eb;
	return (uint32_t)((z ^ (z >> 31)) >> 32);
}

START_TEST(encode_rq)
{
	static uint8_t enc[PK_LEN + 8], enc2[PK_LEN + 8];
	int16_t r[P], back[P];
	int n, i;

	for (n = 0; n < 200; n++) {
		for (i = 0; i < P; i++) {
			if (n == 0)
				r[i] = -Q12;
			else if (n == 1)
				r[i] = Q12;
			else
				r[i] = (int16_t)((int)(rand32() % Q) - Q12);
		}
		memset(enc, 0xa5, sizeof(enc));
		sntrup761_rq_encode(enc, r);
		for (i = PK_LEN; i < PK_LEN + 8; i++)
			ck_assert_uint_eq(enc[i], 0xa5); /* no overrun */
		sntrup761_rq_decode(back, enc);
		ck_assert_mem_eq(back, r, sizeof(r));
		/* decoding reads exactly PK_LEN bytes: the trailer does not
		 * matter */
		memcpy(enc2, enc, PK_LEN);
		memset(enc2 + PK_LEN, 0x5a, 8);
		sntrup761_rq_decode(back, enc2);
		ck_assert_mem_eq(back, r, sizeof(r));
	}
	/* all-maximal coefficients use every byte: the top one is not 0 */
	for (i = 0; i < P; i++)
		r[i] = Q12;
	sntrup761_rq_encode(enc, r);
	ck_assert_uint_ne(enc[PK_LEN - 1], 0);
}
END_TEST

START_TEST(encode_rounded)
{
	static uint8_t enc[RND_LEN + 8];
	int16_t r[P], back[P];
	int n, i;

	for (n = 0; n < 200; n++) {
		for (i = 0; i < P; i++) {
			if (n == 0)
				r[i] = -Q12;
			else if (n == 1)
				r[i] = Q12;
			else
				r[i] = (int16_t)(3 * (int)(rand32() % 1531) -
						 Q12);
		}
		memset(enc, 0xa5, sizeof(enc));
		sntrup761_rounded_encode(enc, r);
		for (i = RND_LEN; i < RND_LEN + 8; i++)
			ck_assert_uint_eq(enc[i], 0xa5);
		sntrup761_rounded_decode(back, enc);
		ck_assert_mem_eq(back, r, sizeof(r));
	}
}
END_TEST

/* Any bytes decode to coefficients in range (a peer's ciphertext). */
START_TEST(decode_garbage)
{
	static uint8_t b[PK_LEN];
	int16_t r[P];
	int n, i;

	for (n = 0; n < 200; n++) {
		if (n < 2)
			memset(b, n ? 0xff : 0x00, sizeof(b));
		else
			ck_assert_int_eq(crypto_random(b, sizeof(b)), 0);
		sntrup761_rq_decode(r, b);
		for (i = 0; i < P; i++) {
			ck_assert_int_ge(r[i], -Q12);
			ck_assert_int_le(r[i], Q12);
		}
		sntrup761_rounded_decode(r, b);
		for (i = 0; i < P; i++) {
			ck_assert_int_ge(r[i], -Q12);
			ck_assert_int_le(r[i], Q12);
			ck_assert_int_eq((r[i] + Q12) % 3, 0);
		}
	}
}
END_TEST

/* ---- the sorting network and the division ------------------------------ */

static int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

START_TEST(sort_network)
{
	static uint32_t x[1100], y[1100];
	size_t n, i;
	int rep;

	for (n = 0; n <= 1100; n += (n < 80 ? 1 : 97)) {
		for (rep = 0; rep < 4; rep++) {
			for (i = 0; i < n; i++) {
				x[i] = rand32();
				if (rep == 1)
					x[i] &= 7; /* many equal keys */
				else if (rep == 2)
					x[i] = (uint32_t)(n - i); /* reversed */
				else if (rep == 3)
					x[i] |= 0xfffffff0u; /* near the top */
			}
			memcpy(y, x, n * sizeof(x[0]));
			qsort(y, n, sizeof(y[0]), cmp_u32);
			sntrup761_sort_u32(x, n);
			ck_assert_mem_eq(x, y, n * sizeof(x[0]));
		}
	}
	/* the size the KEM sorts */
	for (i = 0; i < P; i++)
		x[i] = rand32();
	memcpy(y, x, P * sizeof(x[0]));
	qsort(y, P, sizeof(y[0]), cmp_u32);
	sntrup761_sort_u32(x, P);
	ck_assert_mem_eq(x, y, P * sizeof(x[0]));
}
END_TEST

START_TEST(divmod)
{
	static const uint32_t edge[] = {
		0,    1,	   2,		3,	     255,
		256,  16383,	   16384,	4590,	     4591,
		4592, 0x7fffffffu, 0x80000000u, 0xfffffffeu, 0xffffffffu};
	uint32_t m, x, qt, r;
	unsigned long wrong = 0;
	size_t i;
	int n;

	/* (one assertion at the end: Check reports every ck_assert to its
	 * parent process, too slow for millions) */
	for (m = 1; m < 16384; m++) {
		for (i = 0; i < sizeof(edge) / sizeof(edge[0]); i++) {
			x = edge[i];
			sntrup761_divmod(&qt, &r, x, m);
			wrong += qt != x / m || r != x % m;
		}
		for (n = 0; n < 64; n++) {
			x = rand32();
			sntrup761_divmod(&qt, &r, x, m);
			wrong += qt != x / m || r != x % m;
		}
	}
	/* the modulus of the arithmetic, over the whole range it uses */
	for (x = 0; x < (1u << 28); x += 3) {
		sntrup761_divmod(&qt, &r, x, Q);
		wrong += qt != x / Q || r != x % Q;
	}
	ck_assert_uint_eq(wrong, 0);
}
END_TEST

/* ---- timing -------------------------------------------------------------- */

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

START_TEST(bench)
{
	static uint8_t pk[PK_LEN], sk[SK_LEN], ct[CT_LEN];
	uint8_t ss[SS_LEN], ss2[SS_LEN];
	double t0, kg = 0, en = 0, de = 0;
	int n, reps = 20;

	for (n = 0; n < reps; n++) {
		t0 = now_ms();
		ck_assert_int_eq(sntrup761_keypair(pk, sk, NULL, NULL), 0);
		kg += now_ms() - t0;
		t0 = now_ms();
		ck_assert_int_eq(sntrup761_enc(ct, ss, pk, NULL, NULL), 0);
		en += now_ms() - t0;
		t0 = now_ms();
		ck_assert_int_eq(sntrup761_dec(ss2, ct, sk), 0);
		de += now_ms() - t0;
		ck_assert_mem_eq(ss, ss2, SS_LEN);
	}
	fprintf(stderr,
		"sntrup761: keygen %.2f ms, encap %.2f ms, decap %.2f ms "
		"(mean of %d)\n",
		kg / reps, en / reps, de / reps, reps);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("sntrup761");
	TCase *tc;
	SRunner *sr;
	int failed;

	tc = tcase_create("kat");
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, kat_single);
	tcase_add_test(tc, kat_all);
	suite_add_tcase(s, tc);

	tc = tcase_create("kem");
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, round_trips);
	tcase_add_test(tc, implicit_rejection);
	tcase_add_test(tc, bench);
	suite_add_tcase(s, tc);

	tc = tcase_create("internals");
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, encode_rq);
	tcase_add_test(tc, encode_rounded);
	tcase_add_test(tc, decode_garbage);
	tcase_add_test(tc, sort_network);
	tcase_add_test(tc, divmod);
	suite_add_tcase(s, tc);

	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
