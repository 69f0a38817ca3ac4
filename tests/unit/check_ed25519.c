/*
 * check_ed25519.c - known answers and tamper tests for fe25519, x25519 and
 * ed25519 (RFC 8032 §7.1, RFC 7748 §5.2 and §6.1).
 *
 * SFTPMNT_LONG_TESTS=1 adds the 1,000,000-step X25519 iteration of RFC
 * 7748 §5.2 (a few minutes).
 */
#include <check.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "crypto.h"
#include "ed25519.h"
#include "fe25519.h"
#include "x25519.h"

static void unhex(uint8_t *out, size_t n, const char *hex)
{
	size_t i;
	unsigned v;

	ck_assert_uint_eq(strlen(hex), 2 * n);
	for (i = 0; i < n; i++) {
		ck_assert_int_eq(sscanf(hex + 2 * i, "%2x", &v), 1);
		out[i] = (uint8_t)v;
	}
}

/* Reproducible test data (splitmix64). */
static uint64_t rng_state = 0x5f74d0c1a2b3e4f5;

static void rng_fill(uint8_t *p, size_t n)
{
	uint64_t z;
	size_t i;

	for (i = 0; i < n; i++) {
		z = (rng_state += 0x9e3779b97f4a7c15);
		z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9;
		z = (z ^ (z >> 27)) * 0x94d049bb133111eb;
		p[i] = (uint8_t)(z ^ (z >> 31));
	}
}

/* ---- RFC 8032 §7.1 ------------------------------------------------------ */

struct ed_vector {
	const char *name, *seed, *pk, *msg, *sig;
};

static const char msg1024[] =
	"08b8b2b733424243760fe426a4b54908632110a66c2f6591eabd3345e3e4eb98"
	"fa6e264bf09efe12ee50f8f54e9f77b1e355f6c50544e23fb1433ddf73be84d8"
	"79de7c0046dc4996d9e773f4bc9efe5738829adb26c81b37c93a1b270b20329d"
	"658675fc6ea534e0810a4432826bf58c941efb65d57a338bbd2e26640f89ffbc"
	"1a858efcb8550ee3a5e1998bd177e93a7363c344fe6b199ee5d02e82d522c4fe"
	"ba15452f80288a821a579116ec6dad2b3b310da903401aa62100ab5d1a36553e"
	"06203b33890cc9b832f79ef80560ccb9a39ce767967ed628c6ad573cb116dbef"
	"efd75499da96bd68a8a97b928a8bbc103b6621fcde2beca1231d206be6cd9ec7"
	"aff6f6c94fcd7204ed3455c68c83f4a41da4af2b74ef5c53f1d8ac70bdcb7ed1"
	"85ce81bd84359d44254d95629e9855a94a7c1958d1f8ada5d0532ed8a5aa3fb2"
	"d17ba70eb6248e594e1a2297acbbb39d502f1a8c6eb6f1ce22b3de1a1f40cc24"
	"554119a831a9aad6079cad88425de6bde1a9187ebb6092cf67bf2b13fd65f270"
	"88d78b7e883c8759d2c4f5c65adb7553878ad575f9fad878e80a0c9ba63bcbcc"
	"2732e69485bbc9c90bfbd62481d9089beccf80cfe2df16a2cf65bd92dd597b07"
	"07e0917af48bbb75fed413d238f5555a7a569d80c3414a8d0859dc65a46128ba"
	"b27af87a71314f318c782b23ebfe808b82b0ce26401d2e22f04d83d1255dc51a"
	"ddd3b75a2b1ae0784504df543af8969be3ea7082ff7fc9888c144da2af58429e"
	"c96031dbcad3dad9af0dcbaaaf268cb8fcffead94f3c7ca495e056a9b47acdb7"
	"51fb73e666c6c655ade8297297d07ad1ba5e43f1bca32301651339e22904cc8c"
	"42f58c30c04aafdb038dda0847dd988dcda6f3bfd15c4b4c4525004aa06eeff8"
	"ca61783aacec57fb3d1f92b0fe2fd1a85f6724517b65e614ad6808d6f6ee34df"
	"f7310fdc82aebfd904b01e1dc54b2927094b2db68d6f903b68401adebf5a7e08"
	"d78ff4ef5d63653a65040cf9bfd4aca7984a74d37145986780fc0b16ac451649"
	"de6188a7dbdf191f64b5fc5e2ab47b57f7f7276cd419c17a3ca8e1b939ae49e4"
	"88acba6b965610b5480109c8b17b80e1b7b750dfc7598d5d5011fd2dcc5600a3"
	"2ef5b52a1ecc820e308aa342721aac0943bf6686b64b2579376504ccc493d97e"
	"6aed3fb0f9cd71a43dd497f01f17c0e2cb3797aa2a2f256656168e6c496afc5f"
	"b93246f6b1116398a346f1a641f3b041e989f7914f90cc2c7fff357876e506b5"
	"0d334ba77c225bc307ba537152f3f1610e4eafe595f6d9d90d11faa933a15ef1"
	"369546868a7f3a45a96768d40fd9d03412c091c6315cf4fde7cb68606937380d"
	"b2eaaa707b4c4185c32eddcdd306705e4dc1ffc872eeee475a64dfac86aba41c"
	"0618983f8741c5ef68d3a101e8a3b8cac60c905c15fc910840b94c00a0b9d0";

static const struct ed_vector ed_vectors[] = {
	{ "TEST 1",
	  "9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60",
	  "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a",
	  "",
	  "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e06522490155"
	  "5fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b" },
	{ "TEST 2",
	  "4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb",
	  "3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c",
	  "72",
	  "92a009a9f0d4cab8720e820b5f642540a2b27b5416503f8fb3762223ebdb69da"
	  "085ac1e43e15996e458f3613d0f11d8c387b2eaeb4302aeeb00d291612bb0c00" },
	{ "TEST 3",
	  "c5aa8df43f9f837bedb7442f31dcb7b166d38535076f094b85ce3a2e0b4458f7",
	  "fc51cd8e6218a1a38da47ed00230f0580816ed13ba3303ac5deb911548908025",
	  "af82",
	  "6291d657deec24024827e69c3abe01a30ce548a284743a445e3680d7db5ac3ac"
	  "18ff9b538d16f290ae67f760984dc6594a7c15e9716ed28dc027beceea1ec40a" },
	{ "TEST 1024",
	  "f5e5767cf153319517630f226876b86c8160cc583bc013744c6bf255f5cc0ee5",
	  "278117fc144c72340f67d0f2316e8386ceffbf2b2428c9c51fef7c597f1d426e",
	  msg1024,
	  "0aab4c900501b3e24d7cdf4663326a3a87df5e4843b2cbdb67cbf6e460fec350"
	  "aa5371b1508f9f4528ecea23c436d94b5e8fcd4f681e30a6ac00a9704a188a03" },
	{ "TEST SHA(abc)",
	  "833fe62409237b9d62ec77587520911e9a759cec1d19755b7da901b96dca3d42",
	  "ec172b93ad5e563bf4932c70e1245034c35467ef2efd4d64ebf819683467e2bf",
	  "ddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9eeee64b55d39a"
	  "2192992a274fc1a836ba3c23a3feebbd454d4423643ce80e2a9ac94fa54ca49f",
	  "dc2a4459e7369633a52b1bf277839a00201009a3efbf3ecb69bea2186c26b589"
	  "09351fc9ac90b3ecfdfbc7c66431e0303dca179c138ac17ad9bef1177331a704" },
};

#define N_ED_VECTORS ((int)(sizeof(ed_vectors) / sizeof(ed_vectors[0])))

/* L = 2^252 + 27742317777372353535851937790883648493, little-endian. */
static const uint8_t order_l[32] = {
	0xed, 0xd3, 0xf5, 0x5c, 0x1a, 0x63, 0x12, 0x58,
	0xd6, 0x9c, 0xf7, 0xa2, 0xde, 0xf9, 0xde, 0x14,
	0, 0, 0, 0, 0, 0, 0, 0,
	0, 0, 0, 0, 0, 0, 0, 0x10,
};

struct ed_case {
	uint8_t seed[32], pk[32], sig[64];
	uint8_t *msg;
	size_t mlen;
};

static void ed_case_load(struct ed_case *c, int i)
{
	const struct ed_vector *v = &ed_vectors[i];

	unhex(c->seed, 32, v->seed);
	unhex(c->pk, 32, v->pk);
	unhex(c->sig, 64, v->sig);
	c->mlen = strlen(v->msg) / 2;
	c->msg = malloc(c->mlen + 1);
	ck_assert_ptr_nonnull(c->msg);
	unhex(c->msg, c->mlen, v->msg);
	c->msg[c->mlen] = 0;	/* read by the one-byte-longer test */
}

START_TEST(test_rfc8032_vector)
{
	struct ed_case c;
	uint8_t pk[32], sig[64];

	ed_case_load(&c, _i);
	ck_assert_int_eq(ed25519_pubkey(pk, c.seed), 0);
	ck_assert_mem_eq(pk, c.pk, 32);
	ck_assert_int_eq(ed25519_sign(sig, c.msg, c.mlen, c.seed, c.pk), 0);
	ck_assert_mem_eq(sig, c.sig, 64);
	ck_assert_int_eq(ed25519_verify(c.sig, c.msg, c.mlen, c.pk), 0);
	free(c.msg);
}
END_TEST

START_TEST(test_sha_abc_message)
{
	const struct ed_vector *v = &ed_vectors[N_ED_VECTORS - 1];
	uint8_t want[64], got[64];

	/* The last vector's message is SHA-512("abc"), as its name says. */
	unhex(want, 64, v->msg);
	ck_assert_int_eq(crypto_hash(CRYPTO_SHA512, "abc", 3, got), 0);
	ck_assert_mem_eq(got, want, 64);
}
END_TEST

START_TEST(test_flip_signature)
{
	struct ed_case c;
	int bit;

	ed_case_load(&c, _i);
	for (bit = 0; bit < 512; bit++) {
		c.sig[bit / 8] ^= (uint8_t)(1u << (bit % 8));
		ck_assert_msg(ed25519_verify(c.sig, c.msg, c.mlen, c.pk) == -1,
			      "%s: signature bit %d", ed_vectors[_i].name, bit);
		c.sig[bit / 8] ^= (uint8_t)(1u << (bit % 8));
	}
	ck_assert_int_eq(ed25519_verify(c.sig, c.msg, c.mlen, c.pk), 0);
	free(c.msg);
}
END_TEST

START_TEST(test_flip_pubkey)
{
	struct ed_case c;
	int bit;

	ed_case_load(&c, _i);
	for (bit = 0; bit < 256; bit++) {
		c.pk[bit / 8] ^= (uint8_t)(1u << (bit % 8));
		ck_assert_msg(ed25519_verify(c.sig, c.msg, c.mlen, c.pk) == -1,
			      "%s: key bit %d", ed_vectors[_i].name, bit);
		c.pk[bit / 8] ^= (uint8_t)(1u << (bit % 8));
	}
	free(c.msg);
}
END_TEST

START_TEST(test_flip_message)
{
	struct ed_case c;
	size_t bit;

	ed_case_load(&c, _i);
	if (c.mlen > 64) {
		free(c.msg);
		return;
	}
	for (bit = 0; bit < 8 * c.mlen; bit++) {
		c.msg[bit / 8] ^= (uint8_t)(1u << (bit % 8));
		ck_assert_msg(ed25519_verify(c.sig, c.msg, c.mlen, c.pk) == -1,
			      "%s: message bit %zu", ed_vectors[_i].name, bit);
		c.msg[bit / 8] ^= (uint8_t)(1u << (bit % 8));
	}
	/* One byte more or less is another message too. */
	if (c.mlen > 0)
		ck_assert_int_eq(
			ed25519_verify(c.sig, c.msg, c.mlen - 1, c.pk), -1);
	ck_assert_int_eq(ed25519_verify(c.sig, c.msg, c.mlen + 1, c.pk), -1);
	free(c.msg);
}
END_TEST

/* sig[32..63] += n L: the same point [S]B, only canonicality rejects it. */
static void add_l(uint8_t sig[64], int n)
{
	unsigned carry;
	int i, k;

	for (k = 0; k < n; k++) {
		carry = 0;
		for (i = 0; i < 32; i++) {
			carry += sig[32 + i] + order_l[i];
			sig[32 + i] = (uint8_t)carry;
			carry >>= 8;
		}
		ck_assert_uint_eq(carry, 0);
	}
}

START_TEST(test_noncanonical_s)
{
	struct ed_case c;
	uint8_t sig[64];

	ed_case_load(&c, _i);
	memcpy(sig, c.sig, 64);
	add_l(sig, 1);
	ck_assert_int_eq(ed25519_verify(sig, c.msg, c.mlen, c.pk), -1);
	memcpy(sig, c.sig, 64);
	add_l(sig, 15);
	ck_assert_int_eq(ed25519_verify(sig, c.msg, c.mlen, c.pk), -1);
	/* S = L exactly and S = 2^256 - 1. */
	memcpy(sig + 32, order_l, 32);
	ck_assert_int_eq(ed25519_verify(sig, c.msg, c.mlen, c.pk), -1);
	memset(sig + 32, 0xff, 32);
	ck_assert_int_eq(ed25519_verify(sig, c.msg, c.mlen, c.pk), -1);
	free(c.msg);
}
END_TEST

/*
 * Encodings that do not decode (RFC 8032 §5.1.3): y = 2 has no x, y = p
 * and y = p + 1 are not reduced, x = 0 (y = 1) with the sign bit set.
 */
static const char *const bad_points[] = {
	"0200000000000000000000000000000000000000000000000000000000000000",
	"edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
	"eeffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
	"0100000000000000000000000000000000000000000000000000000000000080",
};

START_TEST(test_undecodable_points)
{
	struct ed_case c;
	uint8_t bad[32], sig[64];
	size_t i;

	ed_case_load(&c, 0);
	for (i = 0; i < sizeof(bad_points) / sizeof(bad_points[0]); i++) {
		unhex(bad, 32, bad_points[i]);
		ck_assert_int_eq(ed25519_verify(c.sig, c.msg, c.mlen, bad), -1);
		memcpy(sig, c.sig, 64);
		memcpy(sig, bad, 32);
		ck_assert_int_eq(ed25519_verify(sig, c.msg, c.mlen, c.pk), -1);
	}
	free(c.msg);
}
END_TEST

/* s -= L while s >= L; little-endian, s < 2^256. */
static void reduce_l(uint8_t s[32])
{
	uint8_t t[32];
	int i, borrow;

	for (;;) {
		borrow = 0;
		for (i = 0; i < 32; i++) {
			borrow = s[i] - order_l[i] - borrow;
			t[i] = (uint8_t)borrow;
			borrow = borrow < 0;
		}
		if (borrow)
			return;
		memcpy(s, t, 32);
	}
}

/*
 * With A the identity, [k]A vanishes and (R, S) = ([s]B, s mod L) verifies
 * for any message: the cofactorless check of RFC 8032 §5.1.7 accepts it,
 * as OpenSSH does.  So the same signature under another encoding of the
 * identity fails only because decoding rejects the encoding: y = p + 1 is
 * not reduced, and x = 0 has no sign bit (§5.1.3 steps 1 and 4).
 */
START_TEST(test_noncanonical_pk)
{
	static const char *const identity[] = {
		"01000000000000000000000000000000"
		"00000000000000000000000000000000",
		"eeffffffffffffffffffffffffffffff"
		"ffffffffffffffffffffffffffffff7f",
		"01000000000000000000000000000000"
		"00000000000000000000000000000080",
	};
	static const uint8_t msg[] = "any message";
	uint8_t seed[32], az[64], pk[32], sig[64];
	int i, want;

	rng_fill(seed, 32);
	ck_assert_int_eq(ed25519_pubkey(sig, seed), 0);
	ck_assert_int_eq(crypto_hash(CRYPTO_SHA512, seed, 32, az), 0);
	az[0] &= 248;
	az[31] = (uint8_t)((az[31] & 127) | 64);
	reduce_l(az);
	memcpy(sig + 32, az, 32);
	for (i = 0; i < 3; i++) {
		want = i == 0 ? 0 : -1;
		unhex(pk, 32, identity[i]);
		ck_assert_int_eq(ed25519_verify(sig, msg, sizeof(msg), pk),
				 want);
	}
}
END_TEST

START_TEST(test_roundtrip)
{
	uint8_t seed[32], pk[32], sig[64], msg[200], buf[64];
	size_t mlen;
	int i;

	for (i = 0; i < 32; i++) {
		rng_fill(seed, 32);
		rng_fill(msg, sizeof(msg));
		mlen = (size_t)i * 6;
		ck_assert_int_eq(ed25519_pubkey(pk, seed), 0);
		ck_assert_int_eq(ed25519_sign(sig, msg, mlen, seed, pk), 0);
		ck_assert_int_eq(ed25519_verify(sig, msg, mlen, pk), 0);
		msg[mlen] ^= 1;
		ck_assert_int_eq(ed25519_verify(sig, msg, mlen + 1, pk), -1);

		/* The signature may be written over the message. */
		memcpy(buf, msg, sizeof(buf));
		ck_assert_int_eq(ed25519_sign(buf, buf, 64, seed, pk), 0);
		ck_assert_int_eq(ed25519_verify(buf, msg, 64, pk), 0);
	}
}
END_TEST

/*
 * Ed25519 and X25519 use birationally equivalent curves (RFC 7748 §4.1):
 * u = (1 + y) / (1 - y).  The X25519 public key of the clamped Ed25519
 * scalar must be the image of the Ed25519 public key, which ties the two
 * scalar multiplications together.
 */
START_TEST(test_ed_x_birational)
{
	struct ed_case c;
	uint8_t az[64], u[32], want[32];
	fe y, one, num, den;

	ed_case_load(&c, _i);
	ck_assert_int_eq(crypto_hash(CRYPTO_SHA512, c.seed, 32, az), 0);
	ck_assert_int_eq(x25519_base(u, az), 0);
	fe_frombytes(&y, c.pk);
	fe_1(&one);
	fe_add(&num, &one, &y);
	fe_sub(&den, &one, &y);
	fe_invert(&den, &den);
	fe_mul(&num, &num, &den);
	fe_tobytes(want, &num);
	ck_assert_mem_eq(u, want, 32);
	free(c.msg);
}
END_TEST

/* ---- fe25519 ------------------------------------------------------------ */

START_TEST(test_fe_canonical)
{
	uint8_t s[32], out[32];
	fe f;
	int k;

	/* p + k encodes as k, for every k that still fits in 255 bits. */
	for (k = 0; k < 19; k++) {
		memset(s, 0xff, 32);
		s[31] = 0x7f;
		s[0] = (uint8_t)(0xed + k);
		fe_frombytes(&f, s);
		fe_tobytes(out, &f);
		memset(s, 0, 32);
		s[0] = (uint8_t)k;
		ck_assert_mem_eq(out, s, 32);
		ck_assert_uint_eq(fe_iszero(&f), k == 0);
	}
	/* Bit 255 is ignored. */
	memset(s, 0, 32);
	s[0] = 5;
	s[31] = 0x80;
	fe_frombytes(&f, s);
	fe_tobytes(out, &f);
	s[31] = 0;
	ck_assert_mem_eq(out, s, 32);
}
END_TEST

START_TEST(test_fe_field)
{
	uint8_t s[32], out[32], one_enc[32] = { 1 };
	fe a, b, c, d;
	int i;

	for (i = 0; i < 64; i++) {
		rng_fill(s, 32);
		fe_frombytes(&a, s);
		rng_fill(s, 32);
		fe_frombytes(&b, s);
		/* a * (1/a) = 1 */
		fe_invert(&c, &a);
		fe_mul(&c, &c, &a);
		fe_tobytes(out, &c);
		ck_assert_mem_eq(out, one_enc, 32);
		/* (a + b)(a - b) = a^2 - b^2 */
		fe_add(&c, &a, &b);
		fe_sub(&d, &a, &b);
		fe_mul(&c, &c, &d);
		fe_sq(&a, &a);
		fe_sq(&b, &b);
		fe_sub(&d, &a, &b);
		fe_sub(&c, &c, &d);
		ck_assert_uint_eq(fe_iszero(&c), 1);
		/* -a + a = 0 */
		fe_neg(&c, &a);
		fe_add(&c, &c, &a);
		ck_assert_uint_eq(fe_iszero(&c), 1);
		/* fe_mul_small agrees with fe_mul by 121665 = 0x01db41 */
		fe_mul_small(&c, &a, 121665);
		memset(s, 0, 32);
		s[0] = 0x41;
		s[1] = 0xdb;
		s[2] = 0x01;
		fe_frombytes(&d, s);
		fe_mul(&d, &d, &a);
		fe_sub(&c, &c, &d);
		ck_assert_uint_eq(fe_iszero(&c), 1);
	}
	fe_0(&a);
	fe_invert(&a, &a);
	ck_assert_uint_eq(fe_iszero(&a), 1);
}
END_TEST

/* ---- RFC 7748 ----------------------------------------------------------- */

START_TEST(test_x25519_vectors)
{
	static const char *const v[2][3] = {
		{ "a546e36bf0527c9d3b16154b82465edd"
		  "62144c0ac1fc5a18506a2244ba449ac4",
		  "e6db6867583030db3594c1a424b15f7c"
		  "726624ec26b3353b10a903a6d0ab1c4c",
		  "c3da55379de9c6908e94ea4df28d084f"
		  "32eccf03491c71f754b4075577a28552" },
		{ "4b66e9d4d1b4673c5ad22691957d6af5"
		  "c11b6421e0ea01d42ca4169e7918ba0d",
		  "e5210f12786811d3f4b7959d0538ae2c"
		  "31dbe7106fc03c3efc4cd549c715a493",
		  "95cbde9476e8907d7aade45cb4b873f8"
		  "8b595a68799fa152e6f8f7647aac7957" },
	};
	uint8_t k[32], u[32], want[32], out[32];
	int i;

	for (i = 0; i < 2; i++) {
		unhex(k, 32, v[i][0]);
		unhex(u, 32, v[i][1]);
		unhex(want, 32, v[i][2]);
		ck_assert_int_eq(x25519(out, k, u), 0);
		ck_assert_mem_eq(out, want, 32);
		/* Bit 255 of u is ignored (§5). */
		u[31] ^= 0x80;
		ck_assert_int_eq(x25519(out, k, u), 0);
		ck_assert_mem_eq(out, want, 32);
	}
}
END_TEST

/* §5.2: k = u = 9, then n times r = X25519(k, u), u = k, k = r. */
static void x25519_iterate(uint8_t k[32], long n)
{
	uint8_t u[32], r[32];
	long i;

	memset(k, 0, 32);
	k[0] = 9;
	memcpy(u, k, 32);
	for (i = 0; i < n; i++) {
		ck_assert_int_eq(x25519(r, k, u), 0);
		memcpy(u, k, 32);
		memcpy(k, r, 32);
	}
}

START_TEST(test_x25519_iterated)
{
	uint8_t k[32], want[32];

	x25519_iterate(k, 1);
	unhex(want, 32,
	      "422c8e7a6227d7bca1350b3e2bb7279f"
	      "7897b87bb6854b783c60e80311ae3079");
	ck_assert_mem_eq(k, want, 32);
	x25519_iterate(k, 1000);
	unhex(want, 32,
	      "684cf59ba83309552800ef566f2f4d3c"
	      "1c3887c49360e3875f2eb94d99532c51");
	ck_assert_mem_eq(k, want, 32);
}
END_TEST

START_TEST(test_x25519_iterated_long)
{
	uint8_t k[32], want[32];

	x25519_iterate(k, 1000000);
	unhex(want, 32,
	      "7c3911e0ab2586fd864497297e575e6f"
	      "3bc601c0883c30df5f4dd2d24f665424");
	ck_assert_mem_eq(k, want, 32);
}
END_TEST

START_TEST(test_x25519_dh)
{
	uint8_t a[32], b[32], apub[32], bpub[32], want[32], ka[32], kb[32];

	unhex(a, 32,
	      "77076d0a7318a57d3c16c17251b26645"
	      "df4c2f87ebc0992ab177fba51db92c2a");
	unhex(b, 32,
	      "5dab087e624a8a4b79e17f8b83800ee6"
	      "6f3bb1292618b6fd1c2f8b27ff88e0eb");
	ck_assert_int_eq(x25519_base(apub, a), 0);
	unhex(want, 32,
	      "8520f0098930a754748b7ddcb43ef75a"
	      "0dbf3a0d26381af4eba4a98eaa9b4e6a");
	ck_assert_mem_eq(apub, want, 32);
	ck_assert_int_eq(x25519_base(bpub, b), 0);
	unhex(want, 32,
	      "de9edb7d7b7dc1b4d35b61c2ece43537"
	      "3f8343c85b78674dadfc7e146f882b4f");
	ck_assert_mem_eq(bpub, want, 32);
	ck_assert_int_eq(x25519(ka, a, bpub), 0);
	ck_assert_int_eq(x25519(kb, b, apub), 0);
	unhex(want, 32,
	      "4a5d9d5ba4ce2de1728e3bf480350f25"
	      "e07e21c947d19e3376f09b3c1e161742");
	ck_assert_mem_eq(ka, want, 32);
	ck_assert_mem_eq(kb, want, 32);
}
END_TEST

START_TEST(test_x25519_random_dh)
{
	uint8_t a[32], b[32], apub[32], bpub[32], ka[32], kb[32];
	int i;

	for (i = 0; i < 32; i++) {
		rng_fill(a, 32);
		rng_fill(b, 32);
		ck_assert_int_eq(x25519_base(apub, a), 0);
		ck_assert_int_eq(x25519_base(bpub, b), 0);
		ck_assert_int_eq(x25519(ka, a, bpub), 0);
		ck_assert_int_eq(x25519(kb, b, apub), 0);
		ck_assert_mem_eq(ka, kb, 32);
	}
}
END_TEST

/* u-coordinates of small order (0, 1, order 8, p - 1) and the unreduced
 * p and p + 1: every clamped scalar maps them to 0 (RFC 7748 §6.1). */
static const char *const low_order[] = {
	"0000000000000000000000000000000000000000000000000000000000000000",
	"0100000000000000000000000000000000000000000000000000000000000000",
	"e0eb7a7c3b41b8ae1656e3faf19fc46ada098deb9c32b1fd866205165f49b800",
	"ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
	"edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
	"eeffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
};

START_TEST(test_x25519_low_order)
{
	uint8_t k[32], u[32], out[32], zero[32] = { 0 };
	size_t i;

	rng_fill(k, 32);
	for (i = 0; i < sizeof(low_order) / sizeof(low_order[0]); i++) {
		unhex(u, 32, low_order[i]);
		memset(out, 0xaa, 32);
		ck_assert_int_eq(x25519(out, k, u), -1);
		ck_assert_mem_eq(out, zero, 32);
	}
}
END_TEST

static Suite *ed25519_suite(void)
{
	Suite *s = suite_create("ed25519");
	TCase *tc;

	tc = tcase_create("fe25519");
	tcase_add_test(tc, test_fe_canonical);
	tcase_add_test(tc, test_fe_field);
	suite_add_tcase(s, tc);

	tc = tcase_create("rfc8032");
	tcase_add_loop_test(tc, test_rfc8032_vector, 0, N_ED_VECTORS);
	tcase_add_test(tc, test_sha_abc_message);
	tcase_add_loop_test(tc, test_noncanonical_s, 0, N_ED_VECTORS);
	tcase_add_test(tc, test_undecodable_points);
	tcase_add_test(tc, test_noncanonical_pk);
	tcase_add_test(tc, test_roundtrip);
	tcase_add_loop_test(tc, test_ed_x_birational, 0, N_ED_VECTORS);
	suite_add_tcase(s, tc);

	tc = tcase_create("tamper");
	tcase_set_timeout(tc, 120);
	tcase_add_loop_test(tc, test_flip_signature, 0, N_ED_VECTORS);
	tcase_add_loop_test(tc, test_flip_pubkey, 0, N_ED_VECTORS);
	tcase_add_loop_test(tc, test_flip_message, 0, N_ED_VECTORS);
	suite_add_tcase(s, tc);

	tc = tcase_create("rfc7748");
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_x25519_vectors);
	tcase_add_test(tc, test_x25519_iterated);
	tcase_add_test(tc, test_x25519_dh);
	tcase_add_test(tc, test_x25519_random_dh);
	tcase_add_test(tc, test_x25519_low_order);
	suite_add_tcase(s, tc);

	if (getenv("SFTPMNT_LONG_TESTS")) {
		tc = tcase_create("rfc7748-long");
		tcase_set_timeout(tc, 3600);
		tcase_add_test(tc, test_x25519_iterated_long);
		suite_add_tcase(s, tc);
	}
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(ed25519_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
