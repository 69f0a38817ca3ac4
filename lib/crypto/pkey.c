/*
 * pkey.c - private-key files over mbedTLS (see pkey.h).
 *
 * mbedTLS's pk parser reads PKCS#1, SEC1 and PKCS#8, decrypts OpenSSL's
 * "Proc-Type: 4,ENCRYPTED" PEM (EVP_BytesToKey with MD5, then DES-EDE3,
 * AES-128/192/256 in CBC mode) and PKCS#8 under PBES2 with DES or under
 * PKCS#12 PBE.  What 2.28 lacks and this file adds: PBES2 with AES-CBC
 * (what OpenSSL and ssh-keygen -m PKCS8 write) and Ed25519 in PKCS#8
 * (RFC 8410).  DER is walked with mbedTLS's bounds-checked ASN.1 reader.
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

/* ---- writing the OpenSSH private-key encoding ------------------------- */

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

/* ---- mbedTLS's parser ------------------------------------------------- */

/*
 * Map a failure of mbedtls_pk_parse_key.  Once a passphrase has opened
 * an encrypted key, any malformation of what came out means the
 * passphrase was wrong (the decryption's padding check only catches
 * most wrong passphrases, not all).
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

/* Parse PEM (NUL-terminated, len counting the NUL) or DER with mbedTLS;
 * `encrypted`: whether pass will be used to decrypt. */
static int mbed_parse(const uint8_t *key, size_t len, const char *pass,
		      int encrypted, struct wbuf *w, const char **why)
{
	size_t passlen = pass ? strlen(pass) : 0;
	mbedtls_pk_context pk;
	int ret;

	mbedtls_pk_init(&pk);
#ifdef MBEDTLS_3
	ret = mbedtls_pk_parse_key(&pk, key, len, (const uint8_t *)pass,
				   passlen, pkey_rng, NULL);
#else
	ret = mbedtls_pk_parse_key(&pk, key, len, (const uint8_t *)pass,
				   passlen);
#endif
	if (ret)
		ret = mbed_error(ret, encrypted && passlen, why);
	else
		ret = put_pk(w, &pk, why);
	mbedtls_pk_free(&pk);
	return ret;
}

/* ---- PKCS#8: Ed25519 and PBES2 with AES ------------------------------ */

#define OID_ED25519 "\x2b\x65\x70" /* 1.3.101.112, RFC 8410 §3 */
/* aes128-CBC, aes192-CBC, aes256-CBC (NIST CSOR: aes 2, 22, 42) */
#define OID_AES128_CBC MBEDTLS_OID_AES "\x02"
#define OID_AES192_CBC MBEDTLS_OID_AES "\x16"
#define OID_AES256_CBC MBEDTLS_OID_AES "\x2a"
#define OID_IS(buf, oid)                                                 \
	((buf)->len == sizeof(oid) - 1 &&                                \
	 memcmp((buf)->p, (oid), sizeof(oid) - 1) == 0)

/* Not the format this parser handles: let mbedTLS try. */
#define PKEY_NOT_MINE 1

#define ASN1_SEQ (MBEDTLS_ASN1_CONSTRUCTED | MBEDTLS_ASN1_SEQUENCE)
#define ASN1_CTX0 (MBEDTLS_ASN1_CONTEXT_SPECIFIC | MBEDTLS_ASN1_CONSTRUCTED)
#define ASN1_CTX1 (MBEDTLS_ASN1_CONTEXT_SPECIFIC | 1)

/* An optional [1] publicKey BIT STRING (RFC 5958 §2): must match pk. */
static int ed_check_pub(uint8_t **p, const uint8_t *end, const uint8_t *pk)
{
	size_t n;

	if (mbedtls_asn1_get_tag(p, end, &n, ASN1_CTX1))
		return -1;
	if (n != 1 + ED25519_PK_LEN || (*p)[0] != 0 ||
	    crypto_memcmp_ct(*p + 1, pk, ED25519_PK_LEN))
		return -1;
	*p += n;
	return 0;
}

/*
 * OneAsymmetricKey (RFC 5958 §2) holding an Ed25519 key (RFC 8410 §7):
 *	SEQUENCE { INTEGER 0|1, SEQUENCE { OID 1.3.101.112 },
 *		   OCTET STRING { OCTET STRING seed[32] },
 *		   [0] attributes OPTIONAL, [1] publicKey OPTIONAL }
 * PKEY_NOT_MINE for another algorithm.
 */
static int ed25519_pkcs8(uint8_t *der, size_t len, struct wbuf *w)
{
	uint8_t *p = der, *end = der + len, *oct_end, *seed;
	uint8_t pk[ED25519_PK_LEN];
	mbedtls_asn1_buf oid, params;
	size_t n;
	int ver;

	if (mbedtls_asn1_get_tag(&p, end, &n, ASN1_SEQ) ||
	    n != (size_t)(end - p) || mbedtls_asn1_get_int(&p, end, &ver) ||
	    mbedtls_asn1_get_alg(&p, end, &oid, &params))
		return PKEY_NOT_MINE;
	if (!OID_IS(&oid, OID_ED25519))
		return PKEY_NOT_MINE;
	/* RFC 8410 §3: the parameters MUST be absent */
	if ((ver != 0 && ver != 1) || params.tag != 0 ||
	    mbedtls_asn1_get_tag(&p, end, &n, MBEDTLS_ASN1_OCTET_STRING))
		return PKEY_EFORMAT;
	oct_end = p + n;
	if (mbedtls_asn1_get_tag(&p, oct_end, &n, MBEDTLS_ASN1_OCTET_STRING) ||
	    n != ED25519_SEED_LEN || p + n != oct_end)
		return PKEY_EFORMAT;
	seed = p;
	p = oct_end;
	if (p < end && *p == ASN1_CTX0) {
		if (mbedtls_asn1_get_tag(&p, end, &n, ASN1_CTX0))
			return PKEY_EFORMAT;
		p += n; /* attributes: nothing we need */
	}
	if (ed25519_pubkey(pk, seed))
		return PKEY_EFORMAT;
	if (p < end && ed_check_pub(&p, end, pk))
		return PKEY_EFORMAT;
	if (p != end)
		return PKEY_EFORMAT;
	return put_ed25519(w, seed);
}

/* An unencrypted PKCS#8 key in DER. */
static int pkcs8_plain(uint8_t *der, size_t len, struct wbuf *w,
		       const char **why)
{
	int rc = ed25519_pkcs8(der, len, w);

	if (rc == PKEY_NOT_MINE)
		return mbed_parse(der, len, NULL, 0, w, why);
	if (rc == PKEY_EFORMAT)
		*why = "invalid Ed25519 PKCS#8 key";
	return rc;
}

/* The pieces of an EncryptedPrivateKeyInfo under PBES2 + PBKDF2 + AES. */
struct pbes2 {
	const uint8_t *salt, *iv;
	size_t saltlen, keylen;
	int iter;
	mbedtls_md_type_t prf;
	uint8_t *ct;
	size_t ctlen;
};

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

/*
 * PBKDF2-params (RFC 8018 A.2):
 *	SEQUENCE { salt OCTET STRING, iterationCount INTEGER,
 *		   keyLength INTEGER OPTIONAL,
 *		   prf AlgorithmIdentifier DEFAULT hmacWithSHA1 }
 */
static int pbkdf2_params(const mbedtls_asn1_buf *prm, struct pbes2 *pb)
{
	uint8_t *p = prm->p, *end = prm->p + prm->len;
	mbedtls_asn1_buf oid, params;
	size_t n;
	int klen;

	pb->prf = MBEDTLS_MD_SHA1;
	if (prm->tag != ASN1_SEQ ||
	    mbedtls_asn1_get_tag(&p, end, &n, MBEDTLS_ASN1_OCTET_STRING))
		return PKEY_EFORMAT;
	pb->salt = p;
	pb->saltlen = n;
	p += n;
	if (mbedtls_asn1_get_int(&p, end, &pb->iter) || pb->iter < 1)
		return PKEY_EFORMAT;
	if ((unsigned)pb->iter > PKEY_PBKDF2_MAX_ITER)
		return PKEY_EUNSUPP;
	if (p < end && *p == MBEDTLS_ASN1_INTEGER) {
		if (mbedtls_asn1_get_int(&p, end, &klen))
			return PKEY_EFORMAT;
		if (klen < 0 || (size_t)klen != pb->keylen)
			return PKEY_EUNSUPP;
	}
	if (p < end) {
		if (mbedtls_asn1_get_alg(&p, end, &oid, &params) ||
		    (params.tag != 0 && params.tag != MBEDTLS_ASN1_NULL))
			return PKEY_EFORMAT;
		pb->prf = pbes2_prf(&oid);
		if (pb->prf == MBEDTLS_MD_NONE)
			return PKEY_EUNSUPP;
	}
	return p == end ? PKEY_OK : PKEY_EFORMAT;
}

/*
 * EncryptedPrivateKeyInfo (RFC 5958 §3) with PBES2-params (RFC 8018 A.4):
 *	SEQUENCE { SEQUENCE { OID PBES2, SEQUENCE {
 *			SEQUENCE { OID PBKDF2, PBKDF2-params },
 *			SEQUENCE { OID aesNNN-CBC, OCTET STRING iv[16] } } },
 *		   OCTET STRING encryptedData }
 * PKEY_NOT_MINE for any other scheme (mbedTLS has a go at those).
 */
static int pbes2_parse(uint8_t *der, size_t len, struct pbes2 *pb)
{
	uint8_t *p = der, *end = der + len, *q, *qend;
	mbedtls_asn1_buf oid, prm, kdf, kdfprm, enc, iv;
	size_t n;

	if (mbedtls_asn1_get_tag(&p, end, &n, ASN1_SEQ) ||
	    n != (size_t)(end - p) || mbedtls_asn1_get_alg(&p, end, &oid, &prm))
		return PKEY_EFORMAT;
	if (!OID_IS(&oid, MBEDTLS_OID_PKCS5_PBES2) || prm.tag != ASN1_SEQ)
		return PKEY_NOT_MINE;
	q = prm.p;
	qend = prm.p + prm.len;
	if (mbedtls_asn1_get_alg(&q, qend, &kdf, &kdfprm) ||
	    mbedtls_asn1_get_alg(&q, qend, &enc, &iv) || q != qend)
		return PKEY_EFORMAT;
	if (OID_IS(&enc, OID_AES128_CBC))
		pb->keylen = 16;
	else if (OID_IS(&enc, OID_AES192_CBC))
		pb->keylen = 24;
	else if (OID_IS(&enc, OID_AES256_CBC))
		pb->keylen = 32;
	else
		return PKEY_NOT_MINE;
	if (!OID_IS(&kdf, MBEDTLS_OID_PKCS5_PBKDF2))
		return PKEY_NOT_MINE;
	if (iv.tag != MBEDTLS_ASN1_OCTET_STRING || iv.len != 16)
		return PKEY_EFORMAT;
	pb->iv = iv.p;
	if (mbedtls_asn1_get_tag(&p, end, &n, MBEDTLS_ASN1_OCTET_STRING) ||
	    p + n != end || n == 0 || n % 16)
		return PKEY_EFORMAT;
	pb->ct = p;
	pb->ctlen = n;
	return pbkdf2_params(&kdfprm, pb);
}

/* PBKDF2 (RFC 8018 §5.2) with pb->prf into key[pb->keylen]. */
static int pbes2_kdf(const struct pbes2 *pb, const char *pass, uint8_t *key)
{
	const mbedtls_md_info_t *md = mbedtls_md_info_from_type(pb->prf);
	mbedtls_md_context_t ctx;
	int rc = PKEY_EUNSUPP;

	mbedtls_md_init(&ctx);
	if (md && mbedtls_md_setup(&ctx, md, 1) == 0)
		rc = mbedtls_pkcs5_pbkdf2_hmac(&ctx, (const uint8_t *)pass,
					       strlen(pass), pb->salt,
					       pb->saltlen, (unsigned)pb->iter,
					       (uint32_t)pb->keylen, key)
			     ? PKEY_EFORMAT
			     : PKEY_OK;
	mbedtls_md_free(&ctx);
	return rc;
}

/*
 * Decrypt in place (PBES2 decryption, RFC 8018 §6.2.2) and strip the
 * padding of RFC 8018 §6.1.1 step 4.  *outlen gets the plaintext length.
 */
static int pbes2_decrypt(struct pbes2 *pb, const char *pass, size_t *outlen)
{
	uint8_t key[32];
	struct crypto_aes aes;
	size_t pad, i;
	int rc;

	rc = pbes2_kdf(pb, pass, key);
	if (rc == PKEY_OK) {
		if (crypto_aes_init(&aes, CRYPTO_AES_CBC_DEC, key, pb->keylen,
				    pb->iv) ||
		    crypto_aes_crypt(&aes, pb->ct, pb->ctlen))
			rc = PKEY_EFORMAT;
		crypto_aes_free(&aes);
	}
	crypto_wipe(key, sizeof(key));
	if (rc)
		return rc;
	pad = pb->ct[pb->ctlen - 1];
	if (pad < 1 || pad > 16)
		return PKEY_EBADPASS;
	for (i = 1; i <= pad; i++)
		if (pb->ct[pb->ctlen - i] != pad)
			return PKEY_EBADPASS;
	*outlen = pb->ctlen - pad;
	return PKEY_OK;
}

/* An "ENCRYPTED PRIVATE KEY" in DER (decrypted in place). */
static int pkcs8_encrypted(uint8_t *der, size_t len, const char *pass,
			   struct wbuf *w, const char **why)
{
	struct pbes2 pb;
	size_t plen;
	int rc;

	rc = pbes2_parse(der, len, &pb);
	if (rc == PKEY_NOT_MINE)
		return mbed_parse(der, len, pass, 1, w, why);
	if (rc == PKEY_OK)
		rc = pbes2_decrypt(&pb, pass, &plen);
	if (rc == PKEY_OK) {
		rc = pkcs8_plain(pb.ct, plen, w, why);
		crypto_wipe(pb.ct, pb.ctlen);
		if (rc == PKEY_EFORMAT)
			rc = PKEY_EBADPASS; /* garbage out of the decryption */
		if (rc != PKEY_EBADPASS)
			return rc;
	}
	if (rc == PKEY_EFORMAT)
		*why = "invalid encrypted PKCS#8 key";
	else if (rc == PKEY_EUNSUPP)
		*why = "unsupported PKCS#8 encryption";
	else if (rc == PKEY_EBADPASS)
		*why = "wrong passphrase";
	return rc;
}

/* ---- PEM ---------------------------------------------------------------- */

#define PEM_BEGIN "-----BEGIN "
#define PEM_DASHES "-----"

/* The PKCS#8 labels (RFC 7468 §10, §11), whose DER we look into. */
static int pem_pkcs8(const char *text, const char *label, const char *pass,
		     struct wbuf *w, const char **why)
{
	char hdr[64], ftr[64];
	mbedtls_pem_context pem;
	uint8_t *der;
	size_t use, len;
	int enc = label[0] == 'E', rc;

	if (enc && (!pass || !*pass)) {
		*why = "passphrase required";
		return PKEY_ENEEDPASS;
	}
	(void)snprintf(hdr, sizeof(hdr), "-----BEGIN %s-----", label);
	(void)snprintf(ftr, sizeof(ftr), "-----END %s-----", label);
	mbedtls_pem_init(&pem);
	rc = mbedtls_pem_read_buffer(&pem, hdr, ftr, (const uint8_t *)text,
				     NULL, 0, &use);
	if (rc) {
		rc = mbed_error(rc, 0, why);
		goto out;
	}
#ifdef MBEDTLS_3
	der = (uint8_t *)mbedtls_pem_get_buffer(&pem, &len);
#else
	der = pem.buf;
	len = pem.buflen;
#endif
	if (enc)
		rc = pkcs8_encrypted(der, len, pass, w, why);
	else
		rc = pkcs8_plain(der, len, w, why);
out:
	mbedtls_pem_free(&pem); /* wipes the DER */
	return rc;
}

int pkey_pem_decode(const char *pem, size_t len, const char *pass,
		    struct wbuf *out, const char **why)
{
	const char *label, *end;
	char *text;
	int rc;

	*why = "invalid private key file";
	if (len > PKEY_PEM_MAX || len < sizeof(PEM_BEGIN) - 1 ||
	    memcmp(pem, PEM_BEGIN, sizeof(PEM_BEGIN) - 1) != 0)
		return PKEY_EFORMAT;
	/* mbedTLS reads PEM as a C string */
	text = la_alloc(out->a, len + 1);
	if (!text) {
		*why = "out of memory";
		return PKEY_ENOMEM;
	}
	memcpy(text, pem, len);
	text[len] = '\0';
	label = text + sizeof(PEM_BEGIN) - 1;
	end = strstr(label, PEM_DASHES);
	rc = PKEY_EFORMAT;
	if (!end)
		goto out;
	if ((size_t)(end - label) == strlen("PRIVATE KEY") &&
	    !memcmp(label, "PRIVATE KEY", end - label))
		rc = pem_pkcs8(text, "PRIVATE KEY", pass, out, why);
	else if ((size_t)(end - label) == strlen("ENCRYPTED PRIVATE KEY") &&
		 !memcmp(label, "ENCRYPTED PRIVATE KEY", end - label))
		rc = pem_pkcs8(text, "ENCRYPTED PRIVATE KEY", pass, out, why);
	else
		/* PKCS#1, SEC1, maybe with RFC 1421 encryption headers */
		rc = mbed_parse((const uint8_t *)text, len + 1, pass,
				strstr(text, "Proc-Type: 4,ENCRYPTED") != NULL,
				out, why);
out:
	la_free_wipe(out->a, text, len + 1);
	return rc;
}

/* ---- consistency checks -------------------------------------------------- */

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

/* ---- chacha20-poly1305 of key files -------------------------------------- */

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
