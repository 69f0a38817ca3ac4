/*
 * hostkey.c - SSH public key blobs and signature blobs (see hostkey.h).
 *
 * Wire layouts (RFC 4251 §5 types):
 *
 *   key  ssh-ed25519    string "ssh-ed25519", string A (32 bytes)
 *                       (RFC 8709 §4)
 *   sig  ssh-ed25519    string "ssh-ed25519", string R || S (64 bytes)
 *                       (RFC 8709 §6)
 *   key  ecdsa          string "ecdsa-sha2-[curve]", string [curve],
 *                       string Q (SEC1 point)            (RFC 5656 §3.1)
 *   sig  ecdsa          string "ecdsa-sha2-[curve]",
 *                       string { mpint r, mpint s }      (RFC 5656 §3.1.2)
 *   key  rsa            string "ssh-rsa", mpint e, mpint n (RFC 4253 §6.6)
 *   sig  rsa            string sigalg, string S          (RFC 8332 §3)
 *
 * The signed data is hashed here for ECDSA (SHA-2 by curve size, RFC
 * 5656 §6.2.1) and RSA (SHA-1, SHA-256 or SHA-512 by algorithm name);
 * Ed25519 signs the data itself.
 */
#include "hostkey.h"

#include <string.h>

#include "libssh2.h"

#include "buf.h"
#include "crypto/crypto.h"
#include "crypto/ed25519.h"
#include "crypto/pk.h"

enum hk_family { HK_ED25519, HK_ECDSA, HK_RSA };

/* One negotiable host key algorithm (RFC 4253 §6.6 names). */
struct hk_alg {
	const char *name;    /* sigalg, and the signature blob's name */
	const char *keyname; /* the key blob's name */
	const char *curve;   /* ECDSA: curve identifier in the key blob */
	int family;
	int hash; /* CRYPTO_SHA*, for ECDSA and RSA */
	int ec;	  /* CRYPTO_EC_*, for ECDSA */
	int type; /* LIBSSH2_HOSTKEY_TYPE_* */
};

static const struct hk_alg hk_algs[] = {
	{"ssh-ed25519", "ssh-ed25519", NULL, HK_ED25519, 0, 0,
	 LIBSSH2_HOSTKEY_TYPE_ED25519},
	{"ecdsa-sha2-nistp256", "ecdsa-sha2-nistp256", "nistp256", HK_ECDSA,
	 CRYPTO_SHA256, CRYPTO_EC_NISTP256, LIBSSH2_HOSTKEY_TYPE_ECDSA_256},
	{"ecdsa-sha2-nistp384", "ecdsa-sha2-nistp384", "nistp384", HK_ECDSA,
	 CRYPTO_SHA384, CRYPTO_EC_NISTP384, LIBSSH2_HOSTKEY_TYPE_ECDSA_384},
	{"ecdsa-sha2-nistp521", "ecdsa-sha2-nistp521", "nistp521", HK_ECDSA,
	 CRYPTO_SHA512, CRYPTO_EC_NISTP521, LIBSSH2_HOSTKEY_TYPE_ECDSA_521},
	{"rsa-sha2-256", "ssh-rsa", NULL, HK_RSA, CRYPTO_SHA256, 0,
	 LIBSSH2_HOSTKEY_TYPE_RSA},
	{"rsa-sha2-512", "ssh-rsa", NULL, HK_RSA, CRYPTO_SHA512, 0,
	 LIBSSH2_HOSTKEY_TYPE_RSA},
	/* Legacy SHA-1 signatures (RFC 4253 §6.6).  Whether ssh-rsa is
	 * offered at all is for the algorithm lists in kex to decide. */
	{"ssh-rsa", "ssh-rsa", NULL, HK_RSA, CRYPTO_SHA1, 0,
	 LIBSSH2_HOSTKEY_TYPE_RSA},
};

#define HK_NALGS (sizeof(hk_algs) / sizeof(hk_algs[0]))

/* The largest signature string: an RSA S of CRYPTO_RSA_MAX_BITS. */
#define HK_SIG_MAX CRYPTO_RSA_MAX_LEN

/* A parsed public key; pointers borrow from the key blob. */
struct hk_key {
	const uint8_t *pk; /* Ed25519 A, or the ECDSA point Q */
	const uint8_t *e, *n;
	size_t pklen, elen, nlen;
};

static int name_is(const char *p, size_t n, const char *want)
{
	return strlen(want) == n && memcmp(p, want, n) == 0;
}

static const struct hk_alg *alg_by_name(const char *sigalg)
{
	size_t i;

	for (i = 0; sigalg && i < HK_NALGS; i++)
		if (strcmp(hk_algs[i].name, sigalg) == 0)
			return &hk_algs[i];
	return NULL;
}

int hostkey_type(const uint8_t *blob, size_t len)
{
	struct rbuf r;
	const char *name;
	size_t n, i;

	rb_init(&r, blob, len);
	if (rb_text(&r, &name, &n, HOSTKEY_NAME_MAX))
		return LIBSSH2_HOSTKEY_TYPE_UNKNOWN;
	for (i = 0; i < HK_NALGS; i++)
		if (name_is(name, n, hk_algs[i].keyname))
			return hk_algs[i].type;
	return LIBSSH2_HOSTKEY_TYPE_UNKNOWN;
}

/* The fields after the key type name, by family; 0 or -1. */
static int parse_key_body(const struct hk_alg *alg, struct rbuf *r,
			  struct hk_key *k)
{
	const char *curve;
	size_t cn;

	switch (alg->family) {
	case HK_ED25519:
		if (rb_string(r, &k->pk, &k->pklen, ED25519_PK_LEN))
			return -1;
		return k->pklen == ED25519_PK_LEN ? 0 : -1;
	case HK_ECDSA:
		/* RFC 5656 §3.1: the curve named twice must agree. */
		if (rb_text(r, &curve, &cn, HOSTKEY_NAME_MAX) ||
		    !name_is(curve, cn, alg->curve))
			return -1;
		if (rb_string(r, &k->pk, &k->pklen, CRYPTO_EC_MAX_POINT))
			return -1;
		return 0;
	case HK_RSA:
		if (rb_mpint(r, &k->e, &k->elen, CRYPTO_RSA_MAX_LEN) ||
		    rb_mpint(r, &k->n, &k->nlen, CRYPTO_RSA_MAX_LEN))
			return -1;
		return 0;
	}
	return -1;
}

/* Parse and validate a key blob of alg's family; 0 or HOSTKEY_INIT. */
static int parse_key(const struct hk_alg *alg, const uint8_t *blob, size_t len,
		     struct hk_key *k)
{
	struct rbuf r;
	const char *name;
	size_t n;

	memset(k, 0, sizeof(*k));
	rb_init(&r, blob, len);
	if (rb_text(&r, &name, &n, HOSTKEY_NAME_MAX) ||
	    !name_is(name, n, alg->keyname) || parse_key_body(alg, &r, k) ||
	    rb_done(&r))
		return LIBSSH2_ERROR_HOSTKEY_INIT;
	/* Keys we would not trust whatever they signed. */
	if (alg->family == HK_ECDSA &&
	    crypto_ec_check_point(alg->ec, k->pk, k->pklen))
		return LIBSSH2_ERROR_HOSTKEY_INIT;
	if (alg->family == HK_RSA &&
	    crypto_rsa_check_pub(k->n, k->nlen, k->e, k->elen))
		return LIBSSH2_ERROR_HOSTKEY_INIT;
	return 0;
}

/* ECDSA signature body: string { mpint r, mpint s } (RFC 5656 §3.1.2). */
static int verify_ecdsa(const struct hk_alg *alg, const struct hk_key *k,
			const uint8_t *s, size_t slen, const uint8_t *data,
			size_t datalen)
{
	size_t olen = crypto_ec_order_len(alg->ec);
	uint8_t h[CRYPTO_HASH_MAX_LEN];
	const uint8_t *er, *es;
	size_t erlen, eslen;
	struct rbuf r;

	rb_init(&r, s, slen);
	if (rb_mpint(&r, &er, &erlen, olen) ||
	    rb_mpint(&r, &es, &eslen, olen) || rb_done(&r))
		return -1;
	if (crypto_hash(alg->hash, data, datalen, h))
		return -1;
	return crypto_ecdsa_verify(alg->ec, k->pk, k->pklen, h,
				   crypto_hash_len(alg->hash), er, erlen, es,
				   eslen);
}

static int verify_rsa(const struct hk_alg *alg, const struct hk_key *k,
		      const uint8_t *s, size_t slen, const uint8_t *data,
		      size_t datalen)
{
	uint8_t h[CRYPTO_HASH_MAX_LEN];

	if (crypto_hash(alg->hash, data, datalen, h))
		return -1;
	return crypto_rsa_verify(k->n, k->nlen, k->e, k->elen, alg->hash, h,
				 crypto_hash_len(alg->hash), s, slen);
}

/* Parse the signature blob and check it; 0 or HOSTKEY_SIGN. */
static int verify_sig(const struct hk_alg *alg, const struct hk_key *k,
		      const uint8_t *sig, size_t siglen, const uint8_t *data,
		      size_t datalen)
{
	const uint8_t *s;
	const char *name;
	size_t n, slen;
	struct rbuf r;
	int rc = -1;

	rb_init(&r, sig, siglen);
	/* RFC 8332 §3: the name is the negotiated algorithm, so an
	 * rsa-sha2-512 exchange never accepts an ssh-rsa (SHA-1) blob. */
	if (rb_text(&r, &name, &n, HOSTKEY_NAME_MAX) ||
	    !name_is(name, n, alg->name) ||
	    rb_string(&r, &s, &slen, HK_SIG_MAX) || rb_done(&r))
		return LIBSSH2_ERROR_HOSTKEY_SIGN;
	switch (alg->family) {
	case HK_ED25519:
		if (slen == ED25519_SIG_LEN)
			rc = ed25519_verify(s, data, datalen, k->pk);
		break;
	case HK_ECDSA:
		rc = verify_ecdsa(alg, k, s, slen, data, datalen);
		break;
	case HK_RSA:
		rc = verify_rsa(alg, k, s, slen, data, datalen);
		break;
	}
	return rc ? LIBSSH2_ERROR_HOSTKEY_SIGN : 0;
}

int hostkey_verify(const char *sigalg, const uint8_t *blob, size_t bloblen,
		   const uint8_t *sig, size_t siglen, const uint8_t *data,
		   size_t datalen)
{
	const struct hk_alg *alg = alg_by_name(sigalg);
	struct hk_key k;
	int rc;

	if (!alg)
		return LIBSSH2_ERROR_ALGO_UNSUPPORTED;
	if ((rc = parse_key(alg, blob, bloblen, &k)))
		return rc;
	return verify_sig(alg, &k, sig, siglen, data, datalen);
}
