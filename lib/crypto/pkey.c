/*
 * pkey.c - private-key files over mbedTLS (see pkey.h).
 *
 * mbedTLS does the PEM armour (and OpenSSL's "Proc-Type: 4,ENCRYPTED":
 * EVP_BytesToKey with MD5, then DES-EDE3 or AES in CBC mode), the PBES2
 * schemes with DES and the PKCS#12 PBE schemes it knows, and the DER of
 * RSA and EC keys.  This file adds what 2.28 lacks: PBES2 with AES-CBC
 * (what OpenSSL and ssh-keygen -m PKCS8 write) and Ed25519 in PKCS#8
 * (RFC 8410); and it walks every DER structure strictly before mbedTLS
 * sees it (see "strict DER walks"), with mbedTLS's bounds-checked ASN.1
 * reader.
 *
 * mbedTLS 3.x made the structure members used here private and added an
 * RNG argument to mbedtls_pk_parse_key; the MBEDTLS_3 blocks are the only
 * version differences.
 */
#include "pkey.h"

#include <stdio.h>
#include <string.h>

#include <mbedtls/asn1.h>
#include <mbedtls/bignum.h>
#include <mbedtls/ecp.h>
#include <mbedtls/md.h>
#include <mbedtls/oid.h>
#include <mbedtls/pem.h>
#include <mbedtls/pkcs12.h>
#include <mbedtls/pk.h>
#include <mbedtls/pkcs5.h>
#include <mbedtls/rsa.h>
#include <mbedtls/version.h>

#include "chachapoly.h"
#include "crypto.h"
#include "ed25519.h"

#if MBEDTLS_VERSION_NUMBER >= 0x03000000
#define MBEDTLS_3 1
#endif

/* mbedTLS error codes add a low-level code (bits 0..6) to a high-level
 * one; only the high-level part says what went wrong. */
#define MBED_HIGH(ret) (-((-(ret)) & 0xff80))

/* Magnitudes written as mpints, at most mbedTLS's bignum limit. */
#define PKEY_MPI_MAX MBEDTLS_MPI_MAX_SIZE

static int pkey_rng(void *ctx, unsigned char *out, size_t n)
{
	(void)ctx;
	return crypto_random(out, n) ? -1 : 0;
}

/* ---- writing the OpenSSH private-key encoding ------------------------ */

static int put_mpi(struct wbuf *w, const mbedtls_mpi *x)
{
	uint8_t tmp[PKEY_MPI_MAX];
	size_t n = mbedtls_mpi_size(x);
	int rc = -1;

	if (n <= sizeof(tmp) && mbedtls_mpi_write_binary(x, tmp, n) == 0)
		rc = wb_mpint(w, tmp, n);
	crypto_wipe(tmp, n <= sizeof(tmp) ? n : sizeof(tmp));
	return rc;
}

/* string "ssh-rsa", mpint n, e, d, iqmp, p, q. */
static int put_rsa(struct wbuf *w, const mbedtls_rsa_context *rsa)
{
	mbedtls_mpi n, p, q, d, e, iqmp;
	int rc = PKEY_EFORMAT;

	mbedtls_mpi_init(&n);
	mbedtls_mpi_init(&p);
	mbedtls_mpi_init(&q);
	mbedtls_mpi_init(&d);
	mbedtls_mpi_init(&e);
	mbedtls_mpi_init(&iqmp);
	if (mbedtls_rsa_export(rsa, &n, &p, &q, &d, &e) ||
	    mbedtls_mpi_inv_mod(&iqmp, &q, &p))
		goto out;
	if (wb_cstring(w, "ssh-rsa") || put_mpi(w, &n) || put_mpi(w, &e) ||
	    put_mpi(w, &d) || put_mpi(w, &iqmp) || put_mpi(w, &p) ||
	    put_mpi(w, &q))
		rc = wb_ok(w) == BUF_ENOMEM ? PKEY_ENOMEM : PKEY_EFORMAT;
	else
		rc = PKEY_OK;
out:
	mbedtls_mpi_free(&n);
	mbedtls_mpi_free(&p);
	mbedtls_mpi_free(&q);
	mbedtls_mpi_free(&d);
	mbedtls_mpi_free(&e);
	mbedtls_mpi_free(&iqmp);
	return rc;
}

/* Read the group, scalar and point out of a parsed EC key. */
static int ec_export(mbedtls_ecp_keypair *kp, mbedtls_ecp_group *grp,
		     mbedtls_mpi *d, mbedtls_ecp_point *q)
{
#ifdef MBEDTLS_3
	return mbedtls_ecp_export(kp, grp, d, q);
#else
	return mbedtls_ecp_group_copy(grp, &kp->grp) ||
	       mbedtls_mpi_copy(d, &kp->d) || mbedtls_ecp_copy(q, &kp->Q);
#endif
}

/* OpenSSH's curve name for the three curves of RFC 5656 §10.1. */
static const char *ec_name(mbedtls_ecp_group_id id)
{
	switch (id) {
	case MBEDTLS_ECP_DP_SECP256R1:
		return "nistp256";
	case MBEDTLS_ECP_DP_SECP384R1:
		return "nistp384";
	case MBEDTLS_ECP_DP_SECP521R1:
		return "nistp521";
	default:
		return NULL;
	}
}

/* string "ecdsa-sha2-<curve>", string "<curve>", string Q, mpint d
 * (RFC 5656 §3.1). */
static int put_ec(struct wbuf *w, mbedtls_ecp_keypair *kp, const char **why)
{
	uint8_t q[CRYPTO_EC_MAX_POINT];
	char type[32];
	const char *curve;
	mbedtls_ecp_group grp;
	mbedtls_ecp_point pt;
	mbedtls_mpi d;
	size_t qlen;
	int rc = PKEY_EFORMAT;

	mbedtls_ecp_group_init(&grp);
	mbedtls_ecp_point_init(&pt);
	mbedtls_mpi_init(&d);
	if (ec_export(kp, &grp, &d, &pt))
		goto out;
	curve = ec_name(grp.id);
	if (!curve) {
		*why = "unsupported elliptic curve";
		rc = PKEY_EUNSUPP;
		goto out;
	}
	if (mbedtls_ecp_point_write_binary(&grp, &pt,
					   MBEDTLS_ECP_PF_UNCOMPRESSED, &qlen,
					   q, sizeof(q)))
		goto out;
	memcpy(type, "ecdsa-sha2-", 11);
	memcpy(type + 11, curve, strlen(curve) + 1);
	if (wb_cstring(w, type) || wb_cstring(w, curve) ||
	    wb_string(w, q, qlen) || put_mpi(w, &d))
		rc = wb_ok(w) == BUF_ENOMEM ? PKEY_ENOMEM : PKEY_EFORMAT;
	else
		rc = PKEY_OK;
out:
	mbedtls_ecp_group_free(&grp);
	mbedtls_ecp_point_free(&pt);
	mbedtls_mpi_free(&d);
	return rc;
}

/* string "ssh-ed25519", string pk, string seed || pk (PROTOCOL.key and
 * RFC 8709 §4 for the public key). */
static int put_ed25519(struct wbuf *w, const uint8_t seed[32])
{
	uint8_t pk[ED25519_PK_LEN];
	size_t mark;

	if (ed25519_pubkey(pk, seed))
		return PKEY_EFORMAT;
	if (wb_cstring(w, "ssh-ed25519") || wb_string(w, pk, sizeof(pk)) ||
	    wb_begin_len(w, &mark) || wb_bytes(w, seed, ED25519_SEED_LEN) ||
	    wb_bytes(w, pk, sizeof(pk)))
		return wb_ok(w) == BUF_ENOMEM ? PKEY_ENOMEM : PKEY_EFORMAT;
	wb_end_len(w, mark);
	return PKEY_OK;
}

static int put_pk(struct wbuf *w, mbedtls_pk_context *pk, const char **why)
{
	switch (mbedtls_pk_get_type(pk)) {
	case MBEDTLS_PK_RSA:
		return put_rsa(w, mbedtls_pk_rsa(*pk));
	case MBEDTLS_PK_ECKEY:
	case MBEDTLS_PK_ECKEY_DH:
	case MBEDTLS_PK_ECDSA:
		return put_ec(w, mbedtls_pk_ec(*pk), why);
	default:
		*why = "unsupported key type";
		return PKEY_EUNSUPP;
	}
}

/* ---- mbedTLS's parser ------------------------------------------------ */

/*
 * Map a failure of mbedTLS.  Once a passphrase has opened an encrypted
 * key, any malformation of what came out means the passphrase was wrong
 * (the padding check after CBC decryption only catches most wrong
 * passphrases, not all).
 */
static int mbed_error(int ret, int decrypted, const char **why)
{
	switch (MBED_HIGH(ret)) {
	case MBEDTLS_ERR_PK_PASSWORD_REQUIRED:
	case MBEDTLS_ERR_PEM_PASSWORD_REQUIRED:
		*why = "passphrase required";
		return PKEY_ENEEDPASS;
	case MBEDTLS_ERR_PK_PASSWORD_MISMATCH:
	case MBEDTLS_ERR_PEM_PASSWORD_MISMATCH:
	case MBEDTLS_ERR_PKCS5_PASSWORD_MISMATCH:
	case MBEDTLS_ERR_PKCS12_PASSWORD_MISMATCH:
		*why = "wrong passphrase";
		return PKEY_EBADPASS;
	case MBEDTLS_ERR_PK_UNKNOWN_PK_ALG:
		*why = "unsupported key type";
		return PKEY_EUNSUPP;
	case MBEDTLS_ERR_PK_UNKNOWN_NAMED_CURVE:
		*why = "unsupported elliptic curve";
		return PKEY_EUNSUPP;
	case MBEDTLS_ERR_PK_FEATURE_UNAVAILABLE:
	case MBEDTLS_ERR_PEM_FEATURE_UNAVAILABLE:
	case MBEDTLS_ERR_PEM_UNKNOWN_ENC_ALG:
	case MBEDTLS_ERR_PKCS5_FEATURE_UNAVAILABLE:
	case MBEDTLS_ERR_PKCS12_FEATURE_UNAVAILABLE:
		*why = "unsupported key file cipher";
		return PKEY_EUNSUPP;
	case MBEDTLS_ERR_PK_ALLOC_FAILED:
	case MBEDTLS_ERR_PEM_ALLOC_FAILED:
		*why = "out of memory";
		return PKEY_ENOMEM;
	}
	if (decrypted) {
		*why = "wrong passphrase";
		return PKEY_EBADPASS;
	}
	*why = "invalid private key file";
	return PKEY_EFORMAT;
}

/* Parse an unencrypted DER key (PKCS#1, SEC1 or PKCS#8) with mbedTLS;
 * `decrypted`: it came out of a decryption. */
static int mbed_parse(const uint8_t *der, size_t len, int decrypted,
		      struct wbuf *w, const char **why)
{
	mbedtls_pk_context pk;
	int ret;

	mbedtls_pk_init(&pk);
#ifdef MBEDTLS_3
	ret = mbedtls_pk_parse_key(&pk, der, len, NULL, 0, pkey_rng, NULL);
#else
	ret = mbedtls_pk_parse_key(&pk, der, len, NULL, 0);
#endif
	if (ret)
		ret = mbed_error(ret, decrypted, why);
	else
		ret = put_pk(w, &pk, why);
	mbedtls_pk_free(&pk);
	return ret;
}

/* ---- strict DER walks ------------------------------------------------ */

/*
 * mbedTLS's SEC1 reader skips what it does not recognise after the
 * private scalar, public key included, and then derives the public key
 * from the scalar: a damaged file could load as another, consistent key.
 * So the structures are walked here first, every byte accounted for.
 */

#define OID_ED25519 "\x2b\x65\x70" /* 1.3.101.112, RFC 8410 §3 */
/* aes128-CBC, aes192-CBC, aes256-CBC (NIST CSOR: aes 2, 22, 42) */
#define OID_AES128_CBC MBEDTLS_OID_AES "\x02"
#define OID_AES192_CBC MBEDTLS_OID_AES "\x16"
#define OID_AES256_CBC MBEDTLS_OID_AES "\x2a"
#define OID_IS(buf, oid)                                                       \
	((buf)->len == sizeof(oid) - 1 &&                                      \
	 memcmp((buf)->p, (oid), sizeof(oid) - 1) == 0)

#define ASN1_SEQ   (MBEDTLS_ASN1_CONSTRUCTED | MBEDTLS_ASN1_SEQUENCE)
#define ASN1_CTX0  (MBEDTLS_ASN1_CONTEXT_SPECIFIC | MBEDTLS_ASN1_CONSTRUCTED)
#define ASN1_CTX1C (ASN1_CTX0 | 1)
#define ASN1_CTX1  (MBEDTLS_ASN1_CONTEXT_SPECIFIC | 1)

/* The next element has tag `tag`: its contents are [*p, *p + *n). */
static int der_next(uint8_t **p, const uint8_t *end, int tag, size_t *n)
{
	return mbedtls_asn1_get_tag(p, end, n, tag);
}

/* An optional element: 1 if present (contents at *p, *n), 0 if not. */
static int der_opt(uint8_t **p, const uint8_t *end, int tag, size_t *n)
{
	return *p < end && **p == tag && der_next(p, end, tag, n) == 0;
}

/* A SEQUENCE that spans exactly [der, der + len). */
static int der_outer(uint8_t **p, uint8_t *der, size_t len)
{
	size_t n;

	*p = der;
	return der_next(p, der + len, ASN1_SEQ, &n) ||
	       n != (size_t)(der + len - *p);
}

/*
 * ECPrivateKey (RFC 5915 §3, SEC1 C.4):
 *	SEQUENCE { INTEGER 1, OCTET STRING d, [0] ECParameters OPTIONAL,
 *		   [1] BIT STRING publicKey OPTIONAL }
 * The public key, if there, must be an uncompressed point, which
 * mbedTLS then reads (and pkey_ec_check compares with d G).
 */
static int sec1_strict(uint8_t *der, size_t len)
{
	uint8_t *p, *end = der + len, *bs;
	size_t n, bn;
	int ver;

	if (der_outer(&p, der, len) || mbedtls_asn1_get_int(&p, end, &ver) ||
	    ver != 1 || der_next(&p, end, MBEDTLS_ASN1_OCTET_STRING, &n) ||
	    n == 0 || n > CRYPTO_EC_MAX_LEN)
		return -1;
	p += n;
	if (der_opt(&p, end, ASN1_CTX0, &n))
		p += n; /* mbedTLS checks it against the algorithm's curve */
	if (der_opt(&p, end, ASN1_CTX1C, &n)) {
		bs = p;
		if (der_next(&bs, p + n, MBEDTLS_ASN1_BIT_STRING, &bn) ||
		    bs + bn != p + n || bn < 2 || bs[0] != 0 || bs[1] != 0x04)
			return -1;
		p += n;
	}
	return p == end ? 0 : -1;
}

/* OneAsymmetricKey (RFC 5958 §2), the plain PKCS#8 key. */
struct p8key {
	mbedtls_asn1_buf alg, params;
	uint8_t *key; /* privateKey contents */
	size_t keylen;
	uint8_t *pub; /* [1] publicKey contents (a BIT STRING's), or NULL */
	size_t publen;
};

/*
 *	SEQUENCE { INTEGER 0|1, AlgorithmIdentifier, OCTET STRING privateKey,
 *		   [0] Attributes OPTIONAL,
 *		   [1] BIT STRING publicKey OPTIONAL }
 */
static int p8_walk(uint8_t *der, size_t len, struct p8key *k)
{
	uint8_t *p, *end = der + len;
	size_t n;
	int ver;

	if (der_outer(&p, der, len) || mbedtls_asn1_get_int(&p, end, &ver) ||
	    (ver != 0 && ver != 1) ||
	    mbedtls_asn1_get_alg(&p, end, &k->alg, &k->params) ||
	    der_next(&p, end, MBEDTLS_ASN1_OCTET_STRING, &k->keylen))
		return -1;
	k->key = p;
	p += k->keylen;
	if (der_opt(&p, end, ASN1_CTX0, &n))
		p += n; /* attributes: nothing we need */
	k->pub = NULL;
	if (der_opt(&p, end, ASN1_CTX1, &k->publen)) {
		k->pub = p;
		p += k->publen;
	}
	return p == end ? 0 : -1;
}

/*
 * Ed25519 (RFC 8410 §7): no parameters, privateKey holds
 * CurvePrivateKey ::= OCTET STRING (the 32-byte seed), a publicKey must
 * be the seed's.
 */
static int p8_ed25519(const struct p8key *k, struct wbuf *w)
{
	uint8_t *p = k->key, pk[ED25519_PK_LEN];
	size_t n;

	if (k->params.tag != 0 ||
	    der_next(&p, k->key + k->keylen, MBEDTLS_ASN1_OCTET_STRING, &n) ||
	    n != ED25519_SEED_LEN || p + n != k->key + k->keylen ||
	    ed25519_pubkey(pk, p))
		return PKEY_EFORMAT;
	if (k->pub && (k->publen != 1 + ED25519_PK_LEN || k->pub[0] != 0 ||
		       crypto_memcmp_ct(k->pub + 1, pk, ED25519_PK_LEN)))
		return PKEY_EFORMAT;
	return put_ed25519(w, p);
}

/* An unencrypted PKCS#8 key in DER. */
static int pkcs8_plain(uint8_t *der, size_t len, int decrypted, struct wbuf *w,
		       const char **why)
{
	static const char oid_ec[] = MBEDTLS_OID_EC_ALG_UNRESTRICTED;
	struct p8key k;
	int rc;

	if (p8_walk(der, len, &k))
		rc = PKEY_EFORMAT;
	else if (OID_IS(&k.alg, OID_ED25519))
		rc = p8_ed25519(&k, w);
	else if (OID_IS(&k.alg, oid_ec) && sec1_strict(k.key, k.keylen))
		rc = PKEY_EFORMAT;
	else
		return mbed_parse(der, len, decrypted, w, why);
	if (rc == PKEY_EFORMAT)
		return mbed_error(0, decrypted, why);
	return rc;
}

/* ---- encrypted PKCS#8 ------------------------------------------------ */

/*
 * EncryptedPrivateKeyInfo (RFC 5958 §3):
 *	SEQUENCE { AlgorithmIdentifier, OCTET STRING encryptedData }
 * with PBES2 (RFC 8018 A.4) or a PKCS#12 PBE scheme (RFC 7292 C).
 */
struct p8enc {
	mbedtls_asn1_buf alg, params;
	uint8_t *ct;
	size_t ctlen;
	/* PBES2 with AES-CBC, done here (mbedTLS 2.28 lacks the OIDs) */
	const uint8_t *salt, *iv;
	size_t saltlen, keylen; /* keylen 0: not AES, mbedTLS decrypts */
	int iter;
	mbedtls_md_type_t prf;
};

static int p8enc_walk(uint8_t *der, size_t len, struct p8enc *e)
{
	uint8_t *p, *end = der + len;

	if (der_outer(&p, der, len) ||
	    mbedtls_asn1_get_alg(&p, end, &e->alg, &e->params) ||
	    der_next(&p, end, MBEDTLS_ASN1_OCTET_STRING, &e->ctlen) ||
	    p + e->ctlen != end || e->ctlen == 0 || e->ctlen % 8)
		return PKEY_EFORMAT;
	e->ct = p;
	return PKEY_OK;
}

static mbedtls_md_type_t pbes2_prf(const mbedtls_asn1_buf *oid)
{
	if (OID_IS(oid, MBEDTLS_OID_HMAC_SHA1))
		return MBEDTLS_MD_SHA1;
	if (OID_IS(oid, MBEDTLS_OID_HMAC_SHA224))
		return MBEDTLS_MD_SHA224;
	if (OID_IS(oid, MBEDTLS_OID_HMAC_SHA256))
		return MBEDTLS_MD_SHA256;
	if (OID_IS(oid, MBEDTLS_OID_HMAC_SHA384))
		return MBEDTLS_MD_SHA384;
	if (OID_IS(oid, MBEDTLS_OID_HMAC_SHA512))
		return MBEDTLS_MD_SHA512;
	return MBEDTLS_MD_NONE;
}

/* The iteration count of a PBE: at most PKEY_PBKDF2_MAX_ITER. */
static int iter_ok(int iter)
{
	if (iter < 1)
		return PKEY_EFORMAT;
	return (unsigned)iter > PKEY_PBKDF2_MAX_ITER ? PKEY_EUNSUPP : PKEY_OK;
}

/*
 * PBKDF2-params (RFC 8018 A.2):
 *	SEQUENCE { salt OCTET STRING, iterationCount INTEGER,
 *		   keyLength INTEGER OPTIONAL,
 *		   prf AlgorithmIdentifier DEFAULT hmacWithSHA1 }
 */
static int pbkdf2_params(const mbedtls_asn1_buf *prm, struct p8enc *e)
{
	uint8_t *p = prm->p, *end = prm->p + prm->len;
	mbedtls_asn1_buf oid, params;
	int klen, rc;

	e->prf = MBEDTLS_MD_SHA1;
	if (prm->tag != ASN1_SEQ ||
	    der_next(&p, end, MBEDTLS_ASN1_OCTET_STRING, &e->saltlen))
		return PKEY_EFORMAT;
	e->salt = p;
	p += e->saltlen;
	if (mbedtls_asn1_get_int(&p, end, &e->iter))
		return PKEY_EFORMAT;
	if ((rc = iter_ok(e->iter)))
		return rc;
	if (p < end && *p == MBEDTLS_ASN1_INTEGER) {
		if (mbedtls_asn1_get_int(&p, end, &klen) || klen < 1)
			return PKEY_EFORMAT;
		if (e->keylen && (size_t)klen != e->keylen)
			return PKEY_EFORMAT;
	}
	if (p < end) {
		if (mbedtls_asn1_get_alg(&p, end, &oid, &params) ||
		    (params.tag != 0 && params.tag != MBEDTLS_ASN1_NULL))
			return PKEY_EFORMAT;
		e->prf = pbes2_prf(&oid);
		if (e->prf == MBEDTLS_MD_NONE)
			return PKEY_EUNSUPP;
	}
	return p == end ? PKEY_OK : PKEY_EFORMAT;
}

/*
 * PBES2-params (RFC 8018 A.4):
 *	SEQUENCE { SEQUENCE { OID PBKDF2, PBKDF2-params },
 *		   SEQUENCE { OID encryption scheme, its parameters } }
 * For aesNNN-CBC the parameter is the 16-byte IV (RFC 8018 B.2.5).
 */
static int pbes2_params(struct p8enc *e)
{
	uint8_t *p = e->params.p, *end = p + e->params.len;
	mbedtls_asn1_buf kdf, kdfprm, enc, iv;

	if (e->params.tag != ASN1_SEQ ||
	    mbedtls_asn1_get_alg(&p, end, &kdf, &kdfprm) ||
	    mbedtls_asn1_get_alg(&p, end, &enc, &iv) || p != end)
		return PKEY_EFORMAT;
	if (!OID_IS(&kdf, MBEDTLS_OID_PKCS5_PBKDF2))
		return PKEY_EUNSUPP;
	e->keylen = OID_IS(&enc, OID_AES128_CBC)   ? 16
		    : OID_IS(&enc, OID_AES192_CBC) ? 24
		    : OID_IS(&enc, OID_AES256_CBC) ? 32
						   : 0;
	if (e->keylen && (iv.tag != MBEDTLS_ASN1_OCTET_STRING || iv.len != 16))
		return PKEY_EFORMAT;
	e->iv = iv.p;
	return pbkdf2_params(&kdfprm, e);
}

/* PKCS#12 PBE parameters (RFC 7292 C): SEQUENCE { salt, iterations }. */
static int pkcs12_params(const struct p8enc *e)
{
	uint8_t *p = e->params.p, *end = p + e->params.len;
	size_t n;
	int iter;

	if (e->params.tag != ASN1_SEQ ||
	    der_next(&p, end, MBEDTLS_ASN1_OCTET_STRING, &n))
		return PKEY_EFORMAT;
	p += n;
	if (mbedtls_asn1_get_int(&p, end, &iter) || p != end)
		return PKEY_EFORMAT;
	return iter_ok(iter);
}

/* PBKDF2 (RFC 8018 §5.2) with e->prf, then AES-CBC into out. */
static int pbes2_aes(const struct p8enc *e, const char *pass, uint8_t *out)
{
	const mbedtls_md_info_t *md = mbedtls_md_info_from_type(e->prf);
	mbedtls_md_context_t ctx;
	struct crypto_aes aes;
	uint8_t key[32];
	int rc = PKEY_EUNSUPP;

	mbedtls_md_init(&ctx);
	if (md && mbedtls_md_setup(&ctx, md, 1) == 0)
		rc = mbedtls_pkcs5_pbkdf2_hmac(&ctx, (const uint8_t *)pass,
					       strlen(pass), e->salt,
					       e->saltlen, (unsigned)e->iter,
					       (uint32_t)e->keylen, key)
			     ? PKEY_EFORMAT
			     : PKEY_OK;
	mbedtls_md_free(&ctx);
	memset(&aes, 0, sizeof(aes));
	memcpy(out, e->ct, e->ctlen);
	if (rc == PKEY_OK &&
	    (crypto_aes_init(&aes, CRYPTO_AES_CBC_DEC, key, e->keylen, e->iv) ||
	     crypto_aes_crypt(&aes, out, e->ctlen)))
		rc = PKEY_EFORMAT;
	crypto_aes_free(&aes);
	crypto_wipe(key, sizeof(key));
	return rc;
}

/* Decrypt e->ct into out (e->ctlen bytes); mbedTLS strips the padding of
 * the schemes it runs, and checks it. */
static int p8_decrypt(struct p8enc *e, const char *pass, uint8_t *out,
		      const char **why)
{
	const uint8_t *pw = (const uint8_t *)pass;
	mbedtls_cipher_type_t cipher;
	mbedtls_md_type_t md;
	int rc;

	if (OID_IS(&e->alg, MBEDTLS_OID_PKCS5_PBES2)) {
		if ((rc = pbes2_params(e)))
			return rc;
		if (e->keylen)
			return pbes2_aes(e, pass, out);
		rc = mbedtls_pkcs5_pbes2(&e->params, MBEDTLS_PKCS5_DECRYPT, pw,
					 strlen(pass), e->ct, e->ctlen, out);
	} else if (mbedtls_oid_get_pkcs12_pbe_alg(&e->alg, &md, &cipher) == 0) {
		/* CBC ciphers only: the padding tells where the key ends */
		if (cipher != MBEDTLS_CIPHER_DES_EDE3_CBC &&
		    cipher != MBEDTLS_CIPHER_DES_EDE_CBC)
			return PKEY_EUNSUPP;
		if ((rc = pkcs12_params(e)))
			return rc;
		rc = mbedtls_pkcs12_pbe(&e->params, MBEDTLS_PKCS12_PBE_DECRYPT,
					cipher, md, pw, strlen(pass), e->ct,
					e->ctlen, out);
	} else {
		return PKEY_EUNSUPP;
	}
	return rc ? mbed_error(rc, 1, why) : PKEY_OK;
}

/*
 * How much of the decrypted out[0..len) is the key: the length of its
 * outer SEQUENCE, followed by 1..8 (DES) or 1..16 (AES) bytes of the
 * padding of RFC 8018 §6.1.1 (checked here for AES; mbedTLS checked it
 * and left junk in its place for the others).  0 when that fails.
 */
static size_t p8_plain_len(const struct p8enc *e, uint8_t *out, size_t len)
{
	size_t bs = e->keylen ? 16 : 8, n, i, pad;
	uint8_t *p = out;

	if (der_next(&p, out + len, ASN1_SEQ, &n))
		return 0;
	n += (size_t)(p - out);
	pad = len - n;
	if (pad < 1 || pad > bs)
		return 0;
	for (i = 0; e->keylen && i < pad; i++)
		if (out[n + i] != pad)
			return 0;
	return n;
}

static int pkcs8_encrypted(const struct lalloc *a, uint8_t *der, size_t len,
			   const char *pass, struct wbuf *w, const char **why)
{
	struct p8enc e;
	uint8_t *out;
	size_t n;
	int rc;

	if ((rc = p8enc_walk(der, len, &e)))
		return mbed_error(0, 0, why);
	if (!(out = la_calloc(a, e.ctlen)))
		return mbed_error(MBEDTLS_ERR_PK_ALLOC_FAILED, 0, why);
	rc = p8_decrypt(&e, pass, out, why);
	if (rc == PKEY_OK) {
		n = p8_plain_len(&e, out, e.ctlen);
		rc = n ? pkcs8_plain(out, n, 1, w, why) : mbed_error(0, 1, why);
	} else if (rc == PKEY_EFORMAT) {
		*why = "invalid encrypted PKCS#8 key";
	} else if (rc == PKEY_EUNSUPP) {
		*why = "unsupported PKCS#8 encryption";
	}
	la_free_wipe(a, out, e.ctlen);
	return rc;
}

/* ---- PEM ------------------------------------------------------------- */

#define PEM_BEGIN  "-----BEGIN "
#define PEM_DASHES "-----"

enum pem_kind { PEM_RSA, PEM_EC, PEM_PKCS8, PEM_PKCS8_ENC };

static const struct pem_label {
	const char *label;
	enum pem_kind kind;
} pem_labels[] = {
	{"RSA PRIVATE KEY", PEM_RSA},		  /* RFC 8017 A.1.2 */
	{"EC PRIVATE KEY", PEM_EC},		  /* RFC 5915 §4 */
	{"PRIVATE KEY", PEM_PKCS8},		  /* RFC 7468 §10 */
	{"ENCRYPTED PRIVATE KEY", PEM_PKCS8_ENC}, /* RFC 7468 §11 */
};

/* The DER inside text, which starts with "-----BEGIN <label>-----";
 * the RFC 1421 encryption of PKCS#1 and SEC1 keys is undone with pass. */
static int pem_der(mbedtls_pem_context *pem, const char *text,
		   const char *label, const char *pass, uint8_t **der,
		   size_t *len, const char **why)
{
	size_t passlen = pass ? strlen(pass) : 0, use;
	char hdr[64], ftr[64];
	int rc;

	(void)snprintf(hdr, sizeof(hdr), "-----BEGIN %s-----", label);
	(void)snprintf(ftr, sizeof(ftr), "-----END %s-----", label);
	rc = mbedtls_pem_read_buffer(pem, hdr, ftr, (const uint8_t *)text,
				     passlen ? (const uint8_t *)pass : NULL,
				     passlen, &use);
	if (rc)
		return mbed_error(rc, 0, why);
#ifdef MBEDTLS_3
	*der = (uint8_t *)mbedtls_pem_get_buffer(pem, len);
#else
	*der = pem->buf;
	*len = pem->buflen;
#endif
	return PKEY_OK;
}

/*
 * mbedTLS 2.28 leaves the CBC padding of an RFC 1421-encrypted key (1 to
 * 16 bytes, each the pad length, as RFC 8018 §6.1.1 step 4) after the
 * DER; check it and drop it.  A later mbedTLS that strips it leaves none.
 */
static int pem_unpad(uint8_t *der, size_t *len)
{
	uint8_t *p = der;
	size_t n, pad, i;

	if (der_next(&p, der + *len, ASN1_SEQ, &n))
		return -1;
	n += (size_t)(p - der);
	pad = *len - n;
	if (pad > 16)
		return -1;
	for (i = 0; i < pad; i++)
		if (der[n + i] != pad)
			return -1;
	*len = n;
	return 0;
}

static int pem_decode(const struct lalloc *a, const char *text,
		      const struct pem_label *l, const char *pass,
		      struct wbuf *w, const char **why)
{
	int enc = strstr(text, "Proc-Type: 4,ENCRYPTED") != NULL;
	mbedtls_pem_context pem;
	uint8_t *der = NULL;
	size_t len = 0;
	int rc;

	if (l->kind == PEM_PKCS8_ENC && (!pass || !*pass)) {
		*why = "passphrase required";
		return PKEY_ENEEDPASS;
	}
	mbedtls_pem_init(&pem);
	rc = pem_der(&pem, text, l->label, pass, &der, &len, why);
	if (rc)
		goto out;
	if (enc && pem_unpad(der, &len)) {
		rc = mbed_error(0, 1, why);
		goto out;
	}
	switch (l->kind) {
	case PEM_RSA:
		rc = mbed_parse(der, len, enc, w, why);
		break;
	case PEM_EC:
		rc = sec1_strict(der, len) ? mbed_error(0, enc, why)
					   : mbed_parse(der, len, enc, w, why);
		break;
	case PEM_PKCS8:
		rc = pkcs8_plain(der, len, 0, w, why);
		break;
	case PEM_PKCS8_ENC:
		rc = pkcs8_encrypted(a, der, len, pass, w, why);
		break;
	}
out:
	mbedtls_pem_free(&pem); /* wipes the DER */
	return rc;
}

int pkey_pem_decode(const char *pem, size_t len, const char *pass,
		    struct wbuf *out, const char **why)
{
	const struct pem_label *l = NULL;
	const char *label;
	char *text;
	size_t i, n;
	int rc;

	*why = "invalid private key file";
	if (len > PKEY_PEM_MAX || len < sizeof(PEM_BEGIN) - 1 ||
	    memcmp(pem, PEM_BEGIN, sizeof(PEM_BEGIN) - 1) != 0)
		return PKEY_EFORMAT;
	label = pem + sizeof(PEM_BEGIN) - 1;
	for (i = 0; i < sizeof(pem_labels) / sizeof(pem_labels[0]); i++) {
		n = strlen(pem_labels[i].label);
		if (n + 5 <= (size_t)(pem + len - label) &&
		    !memcmp(label, pem_labels[i].label, n) &&
		    !memcmp(label + n, PEM_DASHES, 5))
			l = &pem_labels[i];
	}
	if (!l) {
		*why = "unsupported private key file format";
		return PKEY_EUNSUPP;
	}
	/* mbedTLS reads PEM as a C string */
	text = la_alloc(out->a, len + 1);
	if (!text)
		return mbed_error(MBEDTLS_ERR_PK_ALLOC_FAILED, 0, why);
	memcpy(text, pem, len);
	text[len] = '\0';
	rc = pem_decode(out->a, text, l, pass, out, why);
	la_free_wipe(out->a, text, len + 1);
	return rc;
}

/* ---- consistency checks ---------------------------------------------- */

static void rsa_init(mbedtls_rsa_context *rsa)
{
#ifdef MBEDTLS_3
	mbedtls_rsa_init(rsa);
#else
	mbedtls_rsa_init(rsa, MBEDTLS_RSA_PKCS_V15, 0);
#endif
}

int pkey_rsa_check(const struct crypto_rsa_priv *k, const uint8_t *iqmp,
		   size_t iqmplen)
{
	mbedtls_rsa_context rsa;
	mbedtls_mpi dp, dq, qp, want;
	int rc = -1;

	if (!k->nlen || !k->elen || !k->dlen || !k->plen || !k->qlen ||
	    !iqmplen || k->nlen > PKEY_MPI_MAX)
		return -1;
	rsa_init(&rsa);
	mbedtls_mpi_init(&dp);
	mbedtls_mpi_init(&dq);
	mbedtls_mpi_init(&qp);
	mbedtls_mpi_init(&want);
	/* validates n = pq, de = 1 mod (p-1) and (q-1), and the CRT values
	 * derived from them (RFC 8017 §3.2) */
	if (mbedtls_rsa_import_raw(&rsa, k->n, k->nlen, k->p, k->plen, k->q,
				   k->qlen, k->d, k->dlen, k->e, k->elen) ||
	    mbedtls_rsa_complete(&rsa) || mbedtls_rsa_check_privkey(&rsa) ||
	    mbedtls_rsa_export_crt(&rsa, &dp, &dq, &qp) ||
	    mbedtls_mpi_read_binary(&want, iqmp, iqmplen))
		goto out;
	rc = mbedtls_mpi_cmp_mpi(&qp, &want) == 0 ? 0 : -1;
out:
	mbedtls_mpi_free(&dp);
	mbedtls_mpi_free(&dq);
	mbedtls_mpi_free(&qp);
	mbedtls_mpi_free(&want);
	mbedtls_rsa_free(&rsa);
	return rc;
}

static mbedtls_ecp_group_id ec_group(int curve)
{
	switch (curve) {
	case CRYPTO_EC_NISTP256:
		return MBEDTLS_ECP_DP_SECP256R1;
	case CRYPTO_EC_NISTP384:
		return MBEDTLS_ECP_DP_SECP384R1;
	case CRYPTO_EC_NISTP521:
		return MBEDTLS_ECP_DP_SECP521R1;
	}
	return MBEDTLS_ECP_DP_NONE;
}

int pkey_ec_check(int curve, const uint8_t *q, size_t qlen, const uint8_t *d,
		  size_t dlen)
{
	mbedtls_ecp_group grp;
	mbedtls_ecp_point want, got;
	mbedtls_mpi x;
	int rc = -1;

	mbedtls_ecp_group_init(&grp);
	mbedtls_ecp_point_init(&want);
	mbedtls_ecp_point_init(&got);
	mbedtls_mpi_init(&x);
	if (ec_group(curve) == MBEDTLS_ECP_DP_NONE ||
	    mbedtls_ecp_group_load(&grp, ec_group(curve)) ||
	    mbedtls_mpi_read_binary(&x, d, dlen) ||
	    mbedtls_ecp_check_privkey(&grp, &x) ||
	    mbedtls_ecp_point_read_binary(&grp, &want, q, qlen) ||
	    mbedtls_ecp_check_pubkey(&grp, &want) ||
	    mbedtls_ecp_mul(&grp, &got, &x, &grp.G, pkey_rng, NULL))
		goto out;
	rc = mbedtls_ecp_point_cmp(&got, &want) == 0 ? 0 : -1;
out:
	mbedtls_ecp_group_free(&grp);
	mbedtls_ecp_point_free(&want);
	mbedtls_ecp_point_free(&got);
	mbedtls_mpi_free(&x);
	return rc;
}

/* ---- chacha20-poly1305 of key files ---------------------------------- */

/* The ChaCha20 block input for OpenSSH's layout (chachapoly.h): 64-bit
 * little-endian block counter, then the 8-byte nonce, here the sequence
 * number 0. */
static void chacha_in(uint8_t in[16], uint64_t counter)
{
	int i;

	memset(in, 0, 16);
	for (i = 0; i < 8; i++)
		in[i] = (uint8_t)(counter >> (8 * i));
}

int pkey_chachapoly_open(const uint8_t key[PKEY_CHACHAPOLY_KEY_LEN],
			 uint8_t *buf, size_t len,
			 const uint8_t tag[PKEY_CHACHAPOLY_TAG_LEN])
{
	uint8_t in[16], ks[CHACHA20_BLOCK], t[PKEY_CHACHAPOLY_TAG_LEN];
	uint64_t ctr;
	size_t off, i, n;
	int rc;

	/* block 0 of the main key (K_2): the one-time Poly1305 key */
	chacha_in(in, 0);
	chacha20_block(key, in, ks);
	poly1305_mac(ks, buf, len, t);
	rc = crypto_memcmp_ct(t, tag, sizeof(t)) ? -1 : 0;
	for (off = 0, ctr = 1; rc == 0 && off < len; off += n, ctr++) {
		chacha_in(in, ctr);
		chacha20_block(key, in, ks);
		n = len - off < sizeof(ks) ? len - off : sizeof(ks);
		for (i = 0; i < n; i++)
			buf[off + i] ^= ks[i];
	}
	crypto_wipe(ks, sizeof(ks));
	crypto_wipe(t, sizeof(t));
	return rc;
}
