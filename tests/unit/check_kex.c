/*
 * check_kex.c - the exchange hash and the key derivation against values
 * computed apart from lib/kex.c and lib/kex_dh.c.
 *
 *  - mpint (RFC 4251 5) as K enters the hashes (kex_hash_mpint): the
 *    RFC's own examples and the edge cases of a shared secret (zero,
 *    leading zero bytes, top bit set after them).
 *  - key derivation (RFC 4253 7.2, kex_derive): fixed vectors computed
 *    by Python's hashlib (tests/unit/kex_vectors.py, which prints them)
 *    for SHA-256, SHA-512 and SHA-1, extension included; then thousands
 *    of random inputs against ref_kdf below, a plain transcription of
 *    the RFC's formula, for every hash, every key, IV and MAC key size
 *    the ciphers use and K of every length up to 8192 bits.
 *  - exchange hash, fixed: curve25519-sha256 with fixed keys, banners and
 *    KEXINITs through kex_handle (c25519_recv), H from kex_vectors.py.
 *  - exchange hash of every method family, random: an in-memory session
 *    runs each key exchange method against a server half written here
 *    (curve25519, ECDH P-256/384/521, DH group 14 with SHA-256 and SHA-1,
 *    group exchange with SHA-256 and SHA-1: every field layout of RFC
 *    8731, RFC 5656 4, RFC 4253 8 and RFC 4419 3, every hash); the
 *    client's H must equal the one computed here (the server signs ours,
 *    so any difference fails the signature check too), and the keys it
 *    derives must protect a packet in each direction that a transport
 *    keyed here from ref_kdf opens.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "libssh2.h"

#include "cipher.h"
#include "crypto/crypto.h"
#include "crypto/ed25519.h"
#include "crypto/pk.h"
#include "crypto/x25519.h"
#include "kex.h"
#include "session.h"
#include "transport.h"
#include "ob.h"

/* ---- helpers ---------------------------------------------------------- */

static size_t unhex(const char *h, uint8_t *out, size_t cap)
{
	size_t n = strlen(h) / 2, i;

	ck_assert_uint_le(n, cap);
	for (i = 0; i < n; i++) {
		unsigned v;

		ck_assert_int_eq(sscanf(h + 2 * i, "%2x", &v), 1);
		out[i] = (uint8_t)v;
	}
	return n;
}

/* RFC 4253 7.2 as written: K1 = HASH(K || H || X || session_id),
 * Kn = HASH(K || H || K1 || ... || Kn-1), by concatenation. */
static void ref_kdf(int alg, const uint8_t *K, size_t Klen, const uint8_t *H,
		    size_t hlen, const uint8_t *sid, size_t sidlen, char x,
		    uint8_t *out, size_t need)
{
	struct ob first = {0}, ext = {0};
	uint8_t blk[CRYPTO_HASH_MAX_LEN];
	size_t hl = crypto_hash_len(alg), have = 0;

	ob_mpint(&first, K, Klen);
	ob_bytes(&first, H, hlen);
	ob_bytes(&ext, first.p, first.n);
	ob_bytes(&first, &x, 1);
	ob_bytes(&first, sid, sidlen);
	ck_assert_int_eq(crypto_hash(alg, first.p, first.n, blk), 0);
	for (;;) {
		size_t take = need - have < hl ? need - have : hl;

		memcpy(out + have, blk, take);
		have += take;
		if (have == need)
			break;
		ob_bytes(&ext, blk, hl);
		ck_assert_int_eq(crypto_hash(alg, ext.p, ext.n, blk), 0);
	}
	ob_free(&first);
	ob_free(&ext);
}

/* A kex_method for each hash, to give kex_derive its hash. */
static const struct kex_method *meth_of(int alg)
{
	switch (alg) {
	case CRYPTO_SHA1:
		return &kex_dh_group14_sha1;
	case CRYPTO_SHA256:
		return &kex_curve25519_sha256;
	case CRYPTO_SHA384:
		return &kex_ecdh_sha2_nistp384;
	default:
		return &kex_dh_group16_sha512;
	}
}

/* ---- mpint ------------------------------------------------------------- */

/* SHA-256 of kex_hash_mpint(magnitude) must be SHA-256 of the encoding. */
static void check_mpint(const char *mag_hex, const char *enc_hex)
{
	uint8_t mag[64], enc[80], a[32], b[32];
	size_t mn = unhex(mag_hex, mag, sizeof(mag));
	size_t en = unhex(enc_hex, enc, sizeof(enc));
	struct crypto_hash h;

	ck_assert_int_eq(crypto_hash_init(&h, CRYPTO_SHA256), 0);
	kex_hash_mpint(&h, mag, mn);
	crypto_hash_final(&h, a);
	ck_assert_int_eq(crypto_hash(CRYPTO_SHA256, enc, en, b), 0);
	ck_assert_msg(!memcmp(a, b, 32), "mpint of %s is not %s", mag_hex,
		      enc_hex);
}

START_TEST(mpint_rfc4251)
{
	/* RFC 4251 5, the examples for non-negative values */
	check_mpint("", "00000000");
	check_mpint("09a378f9b2e332a7", "0000000809a378f9b2e332a7");
	check_mpint("80", "000000020080");
	/* the same values with leading zero bytes (a fixed-length K) */
	check_mpint("00", "00000000");
	check_mpint("00000000", "00000000");
	check_mpint("000009a378f9b2e332a7", "0000000809a378f9b2e332a7");
	check_mpint("0080", "000000020080");
}
END_TEST

START_TEST(mpint_shared_secret)
{
	/* 32-byte K (curve25519): top bit set -> 33 bytes with a zero */
	check_mpint("a84dc7c3c8f058b1b2dc4cd1e9b5dc0a"
		    "7987f88b6a9564cde3391fc421159e77",
		    "00000021"
		    "00a84dc7c3c8f058b1b2dc4cd1e9b5dc0a"
		    "7987f88b6a9564cde3391fc421159e77");
	/* top bit clear: as it is */
	check_mpint("7f4dc7c3c8f058b1b2dc4cd1e9b5dc0a"
		    "7987f88b6a9564cde3391fc421159e77",
		    "00000020"
		    "7f4dc7c3c8f058b1b2dc4cd1e9b5dc0a"
		    "7987f88b6a9564cde3391fc421159e77");
	/* one leading zero byte, then top bit clear: 31 bytes */
	check_mpint("004dc7c3c8f058b1b2dc4cd1e9b5dc0a"
		    "7987f88b6a9564cde3391fc421159e77",
		    "0000001f"
		    "4dc7c3c8f058b1b2dc4cd1e9b5dc0a"
		    "7987f88b6a9564cde3391fc421159e77");
	/* one leading zero byte, then top bit set: 32 bytes again */
	check_mpint("00cdc7c3c8f058b1b2dc4cd1e9b5dc0a"
		    "7987f88b6a9564cde3391fc421159e77",
		    "00000020"
		    "00cdc7c3c8f058b1b2dc4cd1e9b5dc0a"
		    "7987f88b6a9564cde3391fc421159e77");
	/* two leading zero bytes */
	check_mpint("0000c7c3c8f058b1b2dc4cd1e9b5dc0a"
		    "7987f88b6a9564cde3391fc421159e77",
		    "0000001f"
		    "00c7c3c8f058b1b2dc4cd1e9b5dc0a"
		    "7987f88b6a9564cde3391fc421159e77");
	check_mpint("000047c3c8f058b1b2dc4cd1e9b5dc0a"
		    "7987f88b6a9564cde3391fc421159e77",
		    "0000001e"
		    "47c3c8f058b1b2dc4cd1e9b5dc0a"
		    "7987f88b6a9564cde3391fc421159e77");
	/* all zero (a low-order point, refused before it gets hashed,
	 * but the encoding is still zero) and the smallest values */
	check_mpint("0000000000000000000000000000000000000000000000000000000000"
		    "000000",
		    "00000000");
	check_mpint("0000000000000000000000000000000000000000000000000000000000"
		    "000001",
		    "0000000101");
	check_mpint("0000000000000000000000000000000000000000000000000000000000"
		    "0000ff",
		    "0000000200ff");
}
END_TEST

/* ---- key derivation: fixed vectors -------------------------------------- */

/* The K, H and session id of kex_vectors.py's curve25519 exchange. */
static const char *const kat_K =
	"a84dc7c3c8f058b1b2dc4cd1e9b5dc0a7987f88b6a9564cde3391fc421159e77";
static const char *const kat_H =
	"0c16fe4674af5e7455ea68e6399d13d366cb8ace472c5a1d1ccc46adb1c5ead1";

static void check_derive(struct kex *k, char x, size_t need,
			 const char *want_hex)
{
	uint8_t got[256], want[256];

	ck_assert_uint_eq(unhex(want_hex, want, sizeof(want)), need);
	memset(got, 0xa5, sizeof(got));
	ck_assert_int_eq(kex_derive(k, x, got, need), 0);
	ck_assert_msg(!memcmp(got, want, need), "key %c (%zu bytes) differs", x,
		      need);
	ck_assert_uint_eq(got[need], 0xa5); /* not a byte more */
}

START_TEST(kdf_fixed_sha256)
{
	struct kex k;

	memset(&k, 0, sizeof(k));
	k.meth = &kex_curve25519_sha256;
	k.Klen = unhex(kat_K, k.K, sizeof(k.K));
	k.hlen = unhex(kat_H, k.h, sizeof(k.h));
	k.sidlen = unhex(kat_H, k.session_id, sizeof(k.session_id));
	/* aes128 IV and key sizes, a 64-byte (two-block) key as
	 * chacha20-poly1305 needs, the MAC keys, the GCM IV */
	check_derive(&k, 'A', 16, "888eeae286aaf9c8af61d7a1b10ee238");
	check_derive(&k, 'C', 64,
		     "64c3f50fb201fa1e7c3964120543756b67d8779fedd19a39ae3de2c2"
		     "54ba7665a4d3ee23339e5f2783862109b078cba59ec69c927997acb5"
		     "15c8fab24d6b2257");
	check_derive(&k, 'E', 32,
		     "22e85780750860d04f7ec864b0a912de355fd504dfbc23295db1dcee"
		     "b55aead3");
	check_derive(&k, 'B', 12, "10cd44dd8ed576842e255e17");
	check_derive(&k, 'D', 24,
		     "d5264935f35f52d216ee526d8a6ada4ddea59f1380400941");
	check_derive(&k, 'F', 20, "be2f4d8dee682e5245c9e488a63cc53293b7f356");
}
END_TEST

START_TEST(kdf_fixed_sha512_sha1)
{
	struct kex k;
	size_t i;

	/* SHA-512: K = 00 8b ... (256 bytes), 130 bytes = three blocks */
	memset(&k, 0, sizeof(k));
	k.meth = &kex_dh_group16_sha512;
	k.K[0] = 0;
	for (i = 0; i < 255; i++)
		k.K[1 + i] =
			(uint8_t)((i * 37 + 11) % 256 | (i == 0 ? 0x80 : 0));
	k.Klen = 256;
	ck_assert_int_eq(crypto_hash(CRYPTO_SHA512, "exchange hash 2", 15, k.h),
			 0);
	k.hlen = 64;
	ck_assert_int_eq(
		crypto_hash(CRYPTO_SHA512, "session id 2", 12, k.session_id),
		0);
	k.sidlen = 64;
	check_derive(&k, 'C', 130,
		     "2dc13e119cf9fe912f812ee3248f887985c294fa9a2b82eb20be29ab"
		     "6967f037d5f244c2a4bcdd87da9cf8c11ebe3830aa5a3f800fff2809"
		     "dde7bc5e0bf5539272dcb37ed198c02ab64c5359277c9e40639a92a1"
		     "e606a05355d559d8cf20fd91aaa701714bfb0baa4f3ea79398ac0748"
		     "dc39f192de8c7dbbad73c31dcdc772676093");

	/* SHA-1: K = 7f 7e .. 6c, 45 bytes = three 20-byte blocks */
	memset(&k, 0, sizeof(k));
	k.meth = &kex_dh_group14_sha1;
	for (i = 0; i < 20; i++)
		k.K[i] = (uint8_t)(0x7f - i);
	k.Klen = 20;
	ck_assert_int_eq(crypto_hash(CRYPTO_SHA1, "exchange hash 3", 15, k.h),
			 0);
	k.hlen = 20;
	ck_assert_int_eq(
		crypto_hash(CRYPTO_SHA1, "session id 3", 12, k.session_id), 0);
	k.sidlen = 20;
	check_derive(&k, 'E', 45,
		     "bb2f2627e36e2198f1ef095a52f6cd4cac01544292092cab424618c7"
		     "9dc1bb65cf8eae0035095931a9ca4b301c");
}
END_TEST

/* ---- key derivation: random inputs ----------------------------------------
 */

/* Every hash; K from 1 to 1025 bytes with 0..3 leading zero bytes and
 * either top bit; the session id of another hash length (a rekey that
 * negotiated another method keeps the first one); every size the
 * ciphers and MACs ask for, and sizes around the hash block edges. */
START_TEST(kdf_random)
{
	static const int algs[] = {CRYPTO_SHA1, CRYPTO_SHA256, CRYPTO_SHA384,
				   CRYPTO_SHA512};
	static const size_t needs[] = {1,  12, 16,  19,	 20,  21,  24, 31,
				       32, 33, 40,  47,	 48,  49,  63, 64,
				       65, 96, 127, 128, 129, 192, 200};
	static const size_t sids[] = {20, 32, 48, 64};
	int alg = algs[_i];
	size_t hl = crypto_hash_len(alg), it;

	for (it = 0; it < 300; it++) {
		struct kex k;
		uint8_t got[256], want[256], r[4];
		size_t ni, lead;
		char x;

		memset(&k, 0, sizeof(k));
		k.meth = meth_of(alg);
		ck_assert_int_eq(crypto_random(r, sizeof(r)), 0);
		k.Klen = it < 20 ? it + 1
				 : 1 + (((size_t)r[0] << 8 | r[1]) %
					KEX_SECRET_MAX);
		ck_assert_int_eq(crypto_random(k.K, k.Klen), 0);
		lead = r[2] % 4 < k.Klen ? r[2] % 4 : 0;
		memset(k.K, 0, lead);
		if (lead < k.Klen)
			k.K[lead] = (r[3] & 1) ? (k.K[lead] | 0x80)
					       : (k.K[lead] & 0x7f);
		k.hlen = hl;
		ck_assert_int_eq(crypto_random(k.h, hl), 0);
		k.sidlen = it % 5 == 0 ? sids[it / 5 % 4] : hl;
		ck_assert_int_eq(crypto_random(k.session_id, k.sidlen), 0);
		x = (char)('A' + it % 6);
		for (ni = 0; ni < sizeof(needs) / sizeof(needs[0]); ni++) {
			size_t need = needs[ni];

			ref_kdf(alg, k.K, k.Klen, k.h, k.hlen, k.session_id,
				k.sidlen, x, want, need);
			memset(got, 0x5a, sizeof(got));
			ck_assert_int_eq(kex_derive(&k, x, got, need), 0);
			ck_assert_msg(!memcmp(got, want, need),
				      "hash %d, K %zu bytes (%zu zero), sid "
				      "%zu, %c, %zu bytes",
				      alg, k.Klen, lead, k.sidlen, x, need);
			ck_assert_uint_eq(got[need], 0x5a);
		}
	}
}
END_TEST

/* ---- exchange hash: a fixed curve25519 exchange ------------------------- */

static LIBSSH2_SESSION *session_new(void)
{
	LIBSSH2_SESSION *s = libssh2_session_init();

	ck_assert_ptr_nonnull(s);
	return s;
}

START_TEST(hash_fixed_curve25519)
{
	static const uint8_t seed[32] = {
		0x42, 0x42, 0x42, 0x42, 0x42, 0x42, 0x42, 0x42,
		0x42, 0x42, 0x42, 0x42, 0x42, 0x42, 0x42, 0x42,
		0x42, 0x42, 0x42, 0x42, 0x42, 0x42, 0x42, 0x42,
		0x42, 0x42, 0x42, 0x42, 0x42, 0x42, 0x42, 0x42,
	};
	uint8_t b[32], qs[32], pk[32], want[32], sig[64];
	LIBSSH2_SESSION *s = session_new();
	struct kex *k = &s->kex;
	struct ob ks = {0}, sigb = {0}, reply = {0};
	int i;

	/* kex_vectors.py's inputs */
	ck_assert_int_eq(libssh2_session_banner_set(s, "SSH-2.0-KatClient"), 0);
	strcpy(s->remote_banner, "SSH-2.0-KatServer");
	ck_assert_int_eq(wb_bytes(&k->i_c,
				  "\x14"
				  "client kexinit",
				  15),
			 0);
	ck_assert_int_eq(wb_bytes(&k->i_s,
				  "\x14"
				  "server kexinit",
				  15),
			 0);
	for (i = 0; i < 32; i++) {
		k->eph_priv[i] = (uint8_t)(1 + i);
		b[i] = (uint8_t)(33 + i);
	}
	ck_assert_int_eq(x25519_base(k->eph_pub, k->eph_priv), 0);
	ck_assert_int_eq(x25519_base(qs, b), 0);
	ck_assert_int_eq(ed25519_pubkey(pk, seed), 0);
	unhex(kat_H, want, sizeof(want));
	/* the public values are the ones Python computed */
	{
		uint8_t e[32];

		unhex("07a37cbc142093c8b755dc1b10e86cb426374ad16aa853ed0bdfc0b2"
		      "b86d1c7c",
		      e, 32);
		ck_assert_mem_eq(k->eph_pub, e, 32);
		unhex("5869aff450549732cbaaed5e5df9b30a6da31cb0e5742bad5ad4a1a7"
		      "68f1a67b",
		      e, 32);
		ck_assert_mem_eq(qs, e, 32);
		unhex("2152f8d19b791d24453242e15f2eab6cb7cffa7b6a5ed30097960e06"
		      "9881db12",
		      e, 32);
		ck_assert_mem_eq(pk, e, 32);
	}
	/* the state kex_handle has after both KEXINITs and our ECDH_INIT */
	k->meth = &kex_curve25519_sha256;
	k->hostkey_alg = "ssh-ed25519";
	k->enc_cs = k->enc_sc = cipher_by_name("aes128-ctr", 10);
	k->mac_cs = k->mac_sc = mac_by_name("hmac-sha2-256", 13);
	k->agreed[LIBSSH2_METHOD_COMP_CS] = "none";
	k->agreed[LIBSSH2_METHOD_COMP_SC] = "none";
	k->state = KEX_RUNNING;
	k->ours_sent = k->theirs_recv = 1;

	/* the server signs the H Python computed: only an equal H verifies */
	ck_assert_int_eq(ed25519_sign(sig, want, 32, seed, pk), 0);
	ob_string(&ks, "ssh-ed25519", 11);
	ob_string(&ks, pk, 32);
	ob_string(&sigb, "ssh-ed25519", 11);
	ob_string(&sigb, sig, 64);
	ob_bytes(&reply, "\x1f", 1); /* KEX_ECDH_REPLY */
	ob_string(&reply, ks.p, ks.n);
	ob_string(&reply, qs, 32);
	ob_string(&reply, sigb.p, sigb.n);
	ck_assert_int_eq(kex_handle(s, reply.p, reply.n), 0);
	ck_assert_uint_eq(k->hlen, 32);
	ck_assert_mem_eq(k->h, want, 32);
	ck_assert_uint_eq(k->sidlen, 32);
	ck_assert_mem_eq(k->session_id, want, 32);
	ck_assert_int_eq(k->state, KEX_NEWKEYS);
	ob_free(&ks);
	ob_free(&sigb);
	ob_free(&reply);
	libssh2_session_free(s);
}
END_TEST

/* ---- exchange hash and keys: every method family --------------------------
 */

/* RFC 3526 3, the 2048-bit MODP group (group 14), generator 2; from
 * `openssl genpkey -genparam -algorithm DH -pkeyopt group:modp_2048 |
 * openssl asn1parse`, not from lib/kex_dh.c. */
static const char *const modp2048 =
	"FFFFFFFFFFFFFFFFC90FDAA22168C234C4C6628B80DC1CD129024E088A67CC74"
	"020BBEA63B139B22514A08798E3404DDEF9519B3CD3A431B302B0A6DF25F1437"
	"4FE1356D6D51C245E485B576625E7EC6F44C42E9A637ED6B0BFF5CB6F406B7ED"
	"EE386BFB5A899FA5AE9F24117C4B1FE649286651ECE45B3DC2007CB8A163BF05"
	"98DA48361C55D39A69163FA8FD24CF5F83655D23DCA3AD961C62F356208552BB"
	"9ED529077096966D670C354E4ABC9804F1746C08CA18217C32905E462E36CE3B"
	"E39E772C180E86039B2783A2EC07A28FB5C55DF06F4C52C9DE2BCBF695581718"
	"3995497CEA956AE515D2261898FA051015728E5A8AACAA68FFFFFFFFFFFFFFFF";

enum family { FAM_C25519, FAM_ECDH, FAM_DH, FAM_GEX };

static const struct method_case {
	const char *name;
	enum family fam;
	int hash;  /* the RFC's hash for the method */
	int curve; /* ECDH */
} methods[] = {
	{"curve25519-sha256", FAM_C25519, CRYPTO_SHA256, 0},
	{"curve25519-sha256@libssh.org", FAM_C25519, CRYPTO_SHA256, 0},
	{"ecdh-sha2-nistp256", FAM_ECDH, CRYPTO_SHA256, CRYPTO_EC_NISTP256},
	{"ecdh-sha2-nistp384", FAM_ECDH, CRYPTO_SHA384, CRYPTO_EC_NISTP384},
	{"ecdh-sha2-nistp521", FAM_ECDH, CRYPTO_SHA512, CRYPTO_EC_NISTP521},
	{"diffie-hellman-group14-sha256", FAM_DH, CRYPTO_SHA256, 0},
	{"diffie-hellman-group14-sha1", FAM_DH, CRYPTO_SHA1, 0},
	{"diffie-hellman-group-exchange-sha256", FAM_GEX, CRYPTO_SHA256, 0},
	{"diffie-hellman-group-exchange-sha1", FAM_GEX, CRYPTO_SHA1, 0},
};
#define NMETHODS (int)(sizeof(methods) / sizeof(methods[0]))

/* Move what the client queued into the server's transport. */
static void pull(LIBSSH2_SESSION *s, struct tp *srv)
{
	size_t n = tp_out_len(&s->tp), avail;
	uint8_t *d = tp_in_space(srv, n, &avail);

	ck_assert_ptr_nonnull(d);
	memcpy(d, tp_out_data(&s->tp), n);
	tp_in_commit(srv, n);
	tp_out_consume(&s->tp, n);
}

/* The client's next packet, of type t, copied to *o. */
static void next_pkt(struct tp *srv, uint8_t t, struct ob *o)
{
	const uint8_t *p;
	const char *why = "";
	size_t n;
	int rc = tp_recv(srv, &p, &n, &why);

	ck_assert_msg(rc == TP_PKT, "no packet %u from the client: %d %s", t,
		      rc, why);
	ck_assert_uint_eq(p[0], t);
	o->n = 0;
	ob_bytes(o, p, n);
}

static void server_kexinit(struct ob *o, const char *kex)
{
	static const char *const rest[] = {"ssh-ed25519",
					   "aes256-ctr",
					   "aes256-ctr",
					   "hmac-sha2-512",
					   "hmac-sha2-512",
					   "none",
					   "none",
					   "",
					   ""};
	uint8_t cookie[16];
	size_t i;

	ck_assert_int_eq(crypto_random(cookie, 16), 0);
	ob_bytes(o, "\x14", 1);
	ob_bytes(o, cookie, 16);
	ob_string(o, kex, strlen(kex));
	for (i = 0; i < 9; i++)
		ob_string(o, rest[i], strlen(rest[i]));
	ob_bytes(o, "\0\0\0\0\0", 5);
}

START_TEST(hash_every_method)
{
	static const uint8_t seed[32] = {7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7,
					 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7,
					 7, 7, 7, 7, 7, 7, 7, 7, 7, 7};
	static const uint8_t two = 2;
	const struct method_case *mc = &methods[_i];
	LIBSSH2_SESSION *s = session_new();
	struct kex *k = &s->kex;
	struct tp srv, snd;
	struct ob i_s = {0}, pkt = {0}, hb = {0}, ks = {0}, sigb = {0},
		  reply = {0};
	uint8_t p[256], pk[32], sig[64], H[CRYPTO_HASH_MAX_LEN];
	uint8_t K[KEX_SECRET_MAX], pub[CRYPTO_DH_MAX_LEN];
	uint8_t iv[64], key[64], mkey[64];
	size_t plen = unhex(modp2048, p, sizeof(p)), klen = 0, publen = 0;
	size_t hl = crypto_hash_len(mc->hash);
	const struct cipher_def *c = cipher_by_name("aes256-ctr", 10);
	const struct mac_def *m = mac_by_name("hmac-sha2-512", 13);
	struct crypto_ecdh ec;
	struct crypto_dh dh;
	struct rbuf r;
	const uint8_t *e;
	size_t elen;
	const char *why = "";
	const uint8_t *got;
	size_t gotn;
	static const uint8_t ign[] = {
		SSH_MSG_IGNORE, 0, 0, 0, 4, 'k', 'e', 'y', 's'};

	memset(&ec, 0, sizeof(ec));
	memset(&dh, 0, sizeof(dh));
	tp_init(&srv, &lalloc_system);
	tp_init(&snd, &lalloc_system);
	ck_assert_int_eq(ed25519_pubkey(pk, seed), 0);
	ck_assert_int_eq(
		libssh2_session_method_pref(s, LIBSSH2_METHOD_KEX, mc->name),
		0);
	strcpy(s->remote_banner, "SSH-2.0-KexTest");
	ck_assert_int_eq(kex_start(s), 0);
	server_kexinit(&i_s, mc->name);
	ck_assert_int_eq(kex_handle(s, i_s.p, i_s.n), 0);
	pull(s, &srv);
	next_pkt(&srv, SSH_MSG_KEXINIT, &pkt);
	ck_assert_uint_eq(pkt.n, k->i_c.len);
	ck_assert_mem_eq(pkt.p, k->i_c.p, pkt.n);

	/* H = HASH(V_C || V_S || I_C || I_S || K_S || ...) */
	ob_string(&ks, "ssh-ed25519", 11);
	ob_string(&ks, pk, 32);
	ob_string(&hb, LIBSSH2_SSH_DEFAULT_BANNER,
		  strlen(LIBSSH2_SSH_DEFAULT_BANNER));
	ob_string(&hb, "SSH-2.0-KexTest", 15);
	ob_string(&hb, pkt.p, pkt.n);
	ob_string(&hb, i_s.p, i_s.n);
	ob_string(&hb, ks.p, ks.n);

	switch (mc->fam) {
	case FAM_C25519: {
		/* RFC 8731 3: ... string Q_C || string Q_S || mpint K */
		uint8_t b[32];

		next_pkt(&srv, SSH_MSG_KEX_ECDH_INIT, &pkt);
		rb_init(&r, pkt.p + 1, pkt.n - 1);
		ck_assert_int_eq(rb_string(&r, &e, &elen, 32), 0);
		ck_assert_uint_eq(elen, 32);
		ck_assert_int_eq(crypto_random(b, 32), 0);
		ck_assert_int_eq(x25519_base(pub, b), 0);
		ck_assert_int_eq(x25519(K, b, e), 0);
		klen = publen = 32;
		ob_string(&hb, e, 32);
		ob_string(&hb, pub, 32);
		break;
	}
	case FAM_ECDH:
		/* RFC 5656 4: ... string Q_C || string Q_S || mpint K */
		next_pkt(&srv, SSH_MSG_KEX_ECDH_INIT, &pkt);
		rb_init(&r, pkt.p + 1, pkt.n - 1);
		ck_assert_int_eq(rb_string(&r, &e, &elen, 200), 0);
		ck_assert_int_eq(crypto_ecdh_keygen(&ec, mc->curve, pub), 0);
		publen = crypto_ec_point_len(mc->curve);
		ck_assert_int_eq(crypto_ecdh_shared(&ec, e, elen, K), 0);
		klen = crypto_ec_field_len(mc->curve);
		ob_string(&hb, e, elen);
		ob_string(&hb, pub, publen);
		break;
	case FAM_DH:
		/* RFC 4253 8: ... mpint e || mpint f || mpint K */
		next_pkt(&srv, 30, &pkt); /* KEXDH_INIT */
		rb_init(&r, pkt.p + 1, pkt.n - 1);
		ck_assert_int_eq(rb_mpint(&r, &e, &elen, 300), 0);
		ck_assert_int_eq(
			crypto_dh_keygen(&dh, p, plen, &two, 1, 256, pub), 0);
		publen = crypto_dh_len(&dh);
		ck_assert_int_eq(crypto_dh_shared(&dh, e, elen, K), 0);
		klen = crypto_dh_len(&dh);
		ob_mpint(&hb, e, elen);
		ob_mpint(&hb, pub, publen);
		break;
	case FAM_GEX: {
		/* RFC 4419 3: ... uint32 min || uint32 n || uint32 max ||
		 * mpint p || mpint g || mpint e || mpint f || mpint K */
		uint32_t mn, n, mx;
		struct ob grp = {0};

		next_pkt(&srv, 34, &pkt); /* KEX_DH_GEX_REQUEST */
		rb_init(&r, pkt.p + 1, pkt.n - 1);
		ck_assert_int_eq(rb_u32(&r, &mn), 0);
		ck_assert_int_eq(rb_u32(&r, &n), 0);
		ck_assert_int_eq(rb_u32(&r, &mx), 0);
		ck_assert_int_eq(rb_done(&r), 0);
		ck_assert(mn <= 2048 && 2048 <= mx);
		ob_bytes(&grp, "\x1f", 1); /* KEX_DH_GEX_GROUP */
		ob_mpint(&grp, p, plen);
		ob_mpint(&grp, &two, 1);
		ck_assert_int_eq(kex_handle(s, grp.p, grp.n), 0);
		ob_free(&grp);
		pull(s, &srv);
		next_pkt(&srv, 32, &pkt); /* KEX_DH_GEX_INIT */
		rb_init(&r, pkt.p + 1, pkt.n - 1);
		ck_assert_int_eq(rb_mpint(&r, &e, &elen, 300), 0);
		ck_assert_int_eq(
			crypto_dh_keygen(&dh, p, plen, &two, 1, 256, pub), 0);
		publen = crypto_dh_len(&dh);
		ck_assert_int_eq(crypto_dh_shared(&dh, e, elen, K), 0);
		klen = crypto_dh_len(&dh);
		ob_u32(&hb, mn);
		ob_u32(&hb, n);
		ob_u32(&hb, mx);
		ob_mpint(&hb, p, plen);
		ob_mpint(&hb, &two, 1);
		ob_mpint(&hb, e, elen);
		ob_mpint(&hb, pub, publen);
		break;
	}
	}
	ob_mpint(&hb, K, klen);
	ck_assert_int_eq(crypto_hash(mc->hash, hb.p, hb.n, H), 0);

	/* the reply: string K_S, Q_S as a string or f as an mpint, sig */
	ck_assert_int_eq(ed25519_sign(sig, H, hl, seed, pk), 0);
	ob_string(&sigb, "ssh-ed25519", 11);
	ob_string(&sigb, sig, 64);
	ob_bytes(&reply, mc->fam == FAM_GEX ? "\x21" : "\x1f", 1);
	ob_string(&reply, ks.p, ks.n);
	if (mc->fam == FAM_DH || mc->fam == FAM_GEX)
		ob_mpint(&reply, pub, publen);
	else
		ob_string(&reply, pub, publen);
	ob_string(&reply, sigb.p, sigb.n);
	ck_assert_int_eq(kex_handle(s, reply.p, reply.n), 0);
	ck_assert_uint_eq(k->hlen, hl);
	ck_assert_msg(!memcmp(k->h, H, hl), "%s: exchange hash differs",
		      mc->name);
	ck_assert_mem_eq(k->session_id, H, hl);

	/* client to server: the client's NEWKEYS, then a packet under
	 * its new keys, which ours (A, C, E from ref_kdf) must open */
	ck_assert_int_eq(tp_send(&s->tp, ign, sizeof(ign)), 0);
	pull(s, &srv);
	next_pkt(&srv, SSH_MSG_NEWKEYS, &pkt);
	ref_kdf(mc->hash, K, klen, H, hl, H, hl, 'A', iv, c->ivlen);
	ref_kdf(mc->hash, K, klen, H, hl, H, hl, 'C', key, c->keylen);
	ref_kdf(mc->hash, K, klen, H, hl, H, hl, 'E', mkey, m->keylen);
	ck_assert_int_eq(tp_dir_init(tp_rx_next(&srv), c, m, 0, key, iv, mkey),
			 0);
	tp_rx_rekey(&srv, 0);
	ck_assert_int_eq(tp_recv(&srv, &got, &gotn, &why), TP_PKT);
	ck_assert_uint_eq(gotn, sizeof(ign));
	ck_assert_mem_eq(got, ign, sizeof(ign));

	/* server to client: keyed here with B, D, F, opened by the client
	 * after our NEWKEYS */
	ref_kdf(mc->hash, K, klen, H, hl, H, hl, 'B', iv, c->ivlen);
	ref_kdf(mc->hash, K, klen, H, hl, H, hl, 'D', key, c->keylen);
	ref_kdf(mc->hash, K, klen, H, hl, H, hl, 'F', mkey, m->keylen);
	ck_assert_int_eq(tp_dir_init(tp_tx_next(&snd), c, m, 1, key, iv, mkey),
			 0);
	tp_tx_rekey(&snd, 0);
	ck_assert_int_eq(tp_send(&snd, ign, sizeof(ign)), 0);
	ck_assert_int_eq(kex_handle(s, (const uint8_t *)"\x15", 1), 0);
	{
		size_t n = tp_out_len(&snd), avail;
		uint8_t *d = tp_in_space(&s->tp, n, &avail);

		ck_assert_ptr_nonnull(d);
		memcpy(d, tp_out_data(&snd), n);
		tp_in_commit(&s->tp, n);
	}
	ck_assert_int_eq(tp_recv(&s->tp, &got, &gotn, &why), TP_PKT);
	ck_assert_mem_eq(got, ign, sizeof(ign));
	ck_assert_int_eq(k->rounds, 1);

	crypto_ecdh_free(&ec);
	crypto_dh_free(&dh);
	tp_free(&srv);
	tp_free(&snd);
	ob_free(&i_s);
	ob_free(&pkt);
	ob_free(&hb);
	ob_free(&ks);
	ob_free(&sigb);
	ob_free(&reply);
	libssh2_session_free(s);
}
END_TEST

int main(void)
{
	Suite *su = suite_create("kex");
	TCase *tc = tcase_create("kex");
	SRunner *sr;
	int nf;

	tcase_set_timeout(tc, 300);
	tcase_add_test(tc, mpint_rfc4251);
	tcase_add_test(tc, mpint_shared_secret);
	tcase_add_test(tc, kdf_fixed_sha256);
	tcase_add_test(tc, kdf_fixed_sha512_sha1);
	tcase_add_loop_test(tc, kdf_random, 0, 4);
	tcase_add_test(tc, hash_fixed_curve25519);
	tcase_add_loop_test(tc, hash_every_method, 0, NMETHODS);
	suite_add_tcase(su, tc);
	sr = srunner_create(su);
	srunner_run_all(sr, CK_ENV);
	nf = srunner_ntests_failed(sr);
	srunner_free(sr);
	return nf == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
