/*
 * pk.c - ECDSA, ECDH, RSA PKCS#1 v1.5 and finite-field DH over mbedTLS
 * (see pk.h for the interface).
 *
 * The mbedTLS calls used here (bignum, ecp, ecdsa, ecdh, and for RSA
 * only import_raw/complete/private) keep their shape from 2.28 to 3.x;
 * the one difference, mbedtls_rsa_init's arguments, is switched on
 * MBEDTLS_VERSION_NUMBER below.  No mbedTLS structure member is touched,
 * since 3.x makes most of them private.
 */
#include "pk.h"

#include <string.h>

#include <mbedtls/bignum.h>
#include <mbedtls/ecdh.h>
#include <mbedtls/ecdsa.h>
#include <mbedtls/ecp.h>
#include <mbedtls/rsa.h>
#include <mbedtls/version.h>

#include "crypto.h"

/* mbedTLS random callback on the kernel generator (crypto_random). */
static int pk_rng(void *ctx, unsigned char *out, size_t n)
{
	(void)ctx;
	return crypto_random(out, n) ? -1 : 0;
}

/* Drop leading zero bytes of a big-endian magnitude. */
static void strip(const uint8_t **p, size_t *n)
{
	while (*n > 0 && **p == 0) {
		(*p)++;
		(*n)--;
	}
}

/* Bits of a stripped magnitude. */
static size_t bitlen(const uint8_t *p, size_t n)
{
	size_t bits;
	uint8_t top;

	if (n == 0)
		return 0;
	bits = (n - 1) * 8;
	for (top = p[0]; top; top >>= 1)
		bits++;
	return bits;
}

/* ---- elliptic curves ---------------------------------------------------- */

/*
 * For the three NIST prime curves the order n has as many bytes as the
 * field prime p (both 256, 384 and 521 bits), so one length serves both.
 */
static int curve_info(int curve, mbedtls_ecp_group_id *id, size_t *len)
{
	switch (curve) {
	case CRYPTO_EC_NISTP256:
		*id = MBEDTLS_ECP_DP_SECP256R1;
		*len = 32;
		return 0;
	case CRYPTO_EC_NISTP384:
		*id = MBEDTLS_ECP_DP_SECP384R1;
		*len = 48;
		return 0;
	case CRYPTO_EC_NISTP521:
		*id = MBEDTLS_ECP_DP_SECP521R1;
		*len = 66;
		return 0;
	}
	return -1;
}

size_t crypto_ec_field_len(int curve)
{
	mbedtls_ecp_group_id id;
	size_t len;

	return curve_info(curve, &id, &len) ? 0 : len;
}

size_t crypto_ec_order_len(int curve)
{
	return crypto_ec_field_len(curve);
}

size_t crypto_ec_point_len(int curve)
{
	size_t len = crypto_ec_field_len(curve);

	return len ? 1 + 2 * len : 0;
}

/* grp must have been initialised; it is freed by the caller. */
static int ec_load(mbedtls_ecp_group *grp, int curve)
{
	mbedtls_ecp_group_id id;
	size_t len;

	if (curve_info(curve, &id, &len))
		return -1;
	return mbedtls_ecp_group_load(grp, id) ? -1 : 0;
}

/*
 * Decode and validate a public point.  Only the uncompressed form of SEC1
 * §2.3.3 is taken: it is what RFC 5656 §3.1 keys and OpenSSH carry.  The
 * check is SEC1 §3.2.2.1 (coordinates below p, on the curve, not the
 * point at infinity; the cofactor of these curves is 1).
 */
static int ec_read_point(mbedtls_ecp_group *grp, int curve,
			 mbedtls_ecp_point *pt, const uint8_t *q, size_t qlen)
{
	size_t want = crypto_ec_point_len(curve);

	if (!want || qlen != want || q[0] != 0x04)
		return -1;
	if (mbedtls_ecp_point_read_binary(grp, pt, q, qlen))
		return -1;
	return mbedtls_ecp_check_pubkey(grp, pt) ? -1 : 0;
}

int crypto_ec_check_point(int curve, const uint8_t *q, size_t qlen)
{
	mbedtls_ecp_group grp;
	mbedtls_ecp_point pt;
	int rc = -1;

	mbedtls_ecp_group_init(&grp);
	mbedtls_ecp_point_init(&pt);
	if (ec_load(&grp, curve) == 0 &&
	    ec_read_point(&grp, curve, &pt, q, qlen) == 0)
		rc = 0;
	mbedtls_ecp_point_free(&pt);
	mbedtls_ecp_group_free(&grp);
	return rc;
}

int crypto_ecdsa_verify(int curve, const uint8_t *q, size_t qlen,
			const uint8_t *hash, size_t hashlen, const uint8_t *r,
			size_t rlen, const uint8_t *s, size_t slen)
{
	size_t olen = crypto_ec_order_len(curve);
	mbedtls_ecp_group grp;
	mbedtls_ecp_point pt;
	mbedtls_mpi mr, ms;
	int rc = -1;

	mbedtls_ecp_group_init(&grp);
	mbedtls_ecp_point_init(&pt);
	mbedtls_mpi_init(&mr);
	mbedtls_mpi_init(&ms);
	strip(&r, &rlen);
	strip(&s, &slen);
	if (!olen || rlen > olen || slen > olen || hashlen == 0)
		goto out;
	if (ec_load(&grp, curve) || ec_read_point(&grp, curve, &pt, q, qlen))
		goto out;
	if (mbedtls_mpi_read_binary(&mr, r, rlen) ||
	    mbedtls_mpi_read_binary(&ms, s, slen))
		goto out;
	/* mbedTLS refuses r or s outside [1, n-1] (SEC1 §4.1.4 step 1) and
	 * truncates a long hash to the bit length of n (step 5). */
	if (mbedtls_ecdsa_verify(&grp, hash, hashlen, &pt, &mr, &ms) == 0)
		rc = 0;
out:
	mbedtls_mpi_free(&ms);
	mbedtls_mpi_free(&mr);
	mbedtls_ecp_point_free(&pt);
	mbedtls_ecp_group_free(&grp);
	return rc;
}

int crypto_ecdsa_sign(int curve, const uint8_t *d, size_t dlen,
		      const uint8_t *hash, size_t hashlen, uint8_t *r,
		      uint8_t *s)
{
	size_t olen = crypto_ec_order_len(curve);
	uint8_t tr[CRYPTO_EC_MAX_LEN], ts[CRYPTO_EC_MAX_LEN];
	mbedtls_ecp_group grp;
	mbedtls_mpi md, mr, ms;
	int rc = -1;

	mbedtls_ecp_group_init(&grp);
	mbedtls_mpi_init(&md);
	mbedtls_mpi_init(&mr);
	mbedtls_mpi_init(&ms);
	strip(&d, &dlen);
	if (!olen || dlen > olen || hashlen == 0 || ec_load(&grp, curve))
		goto out;
	if (mbedtls_mpi_read_binary(&md, d, dlen) ||
	    mbedtls_ecp_check_privkey(&grp, &md))
		goto out;
	if (mbedtls_ecdsa_sign(&grp, &mr, &ms, &md, hash, hashlen, pk_rng,
			       NULL))
		goto out;
	if (mbedtls_mpi_write_binary(&mr, tr, olen) ||
	    mbedtls_mpi_write_binary(&ms, ts, olen))
		goto out;
	memcpy(r, tr, olen);
	memcpy(s, ts, olen);
	rc = 0;
out:
	mbedtls_mpi_free(&ms); /* mbedtls_mpi_free zeroes the limbs */
	mbedtls_mpi_free(&mr);
	mbedtls_mpi_free(&md);
	mbedtls_ecp_group_free(&grp);
	return rc;
}

int crypto_ecdh_keygen(struct crypto_ecdh *ec, int curve, uint8_t *q)
{
	size_t len = crypto_ec_order_len(curve);
	size_t plen = crypto_ec_point_len(curve), qlen;
	uint8_t td[CRYPTO_EC_MAX_LEN], tq[CRYPTO_EC_MAX_POINT];
	mbedtls_ecp_group grp;
	mbedtls_ecp_point pt;
	mbedtls_mpi md;
	int rc = -1;

	mbedtls_ecp_group_init(&grp);
	mbedtls_ecp_point_init(&pt);
	mbedtls_mpi_init(&md);
	if (!len || ec_load(&grp, curve))
		goto out;
	if (mbedtls_ecdh_gen_public(&grp, &md, &pt, pk_rng, NULL))
		goto out;
	if (mbedtls_mpi_write_binary(&md, td, len) ||
	    mbedtls_ecp_point_write_binary(&grp, &pt,
					   MBEDTLS_ECP_PF_UNCOMPRESSED, &qlen,
					   tq, sizeof(tq)) ||
	    qlen != plen)
		goto out;
	ec->curve = curve;
	memcpy(ec->d, td, len);
	memcpy(q, tq, plen);
	rc = 0;
out:
	crypto_wipe(td, sizeof(td));
	mbedtls_mpi_free(&md);
	mbedtls_ecp_point_free(&pt);
	mbedtls_ecp_group_free(&grp);
	return rc;
}

int crypto_ecdh_shared(const struct crypto_ecdh *ec, const uint8_t *peer,
		       size_t peerlen, uint8_t *z)
{
	size_t len = crypto_ec_field_len(ec->curve);
	uint8_t tz[CRYPTO_EC_MAX_LEN];
	mbedtls_ecp_group grp;
	mbedtls_ecp_point pt;
	mbedtls_mpi md, mz;
	int rc = -1;

	mbedtls_ecp_group_init(&grp);
	mbedtls_ecp_point_init(&pt);
	mbedtls_mpi_init(&md);
	mbedtls_mpi_init(&mz);
	/* A freed context has curve 0 and stops here. */
	if (!len || ec_load(&grp, ec->curve))
		goto out;
	if (ec_read_point(&grp, ec->curve, &pt, peer, peerlen))
		goto out;
	/* Refuses a result at infinity; the multiplication is blinded. */
	if (mbedtls_mpi_read_binary(&md, ec->d, len) ||
	    mbedtls_ecdh_compute_shared(&grp, &mz, &pt, &md, pk_rng, NULL))
		goto out;
	if (mbedtls_mpi_write_binary(&mz, tz, len))
		goto out;
	memcpy(z, tz, len);
	rc = 0;
out:
	crypto_wipe(tz, sizeof(tz));
	mbedtls_mpi_free(&mz);
	mbedtls_mpi_free(&md);
	mbedtls_ecp_point_free(&pt);
	mbedtls_ecp_group_free(&grp);
	return rc;
}

void crypto_ecdh_free(struct crypto_ecdh *ec)
{
	if (ec)
		crypto_wipe(ec, sizeof(*ec));
}

/* ---- RSA ---------------------------------------------------------------- */

/*
 * DER of DigestInfo up to the digest itself, RFC 8017 §9.2 note 1:
 * SEQUENCE { SEQUENCE { OID, NULL }, OCTET STRING (hash length) }.
 */
static const uint8_t di_sha1[] = {0x30, 0x21, 0x30, 0x09, 0x06,
				  0x05, 0x2b, 0x0e, 0x03, 0x02,
				  0x1a, 0x05, 0x00, 0x04, 0x14};
static const uint8_t di_sha256[] = {0x30, 0x31, 0x30, 0x0d, 0x06, 0x09, 0x60,
				    0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02,
				    0x01, 0x05, 0x00, 0x04, 0x20};
static const uint8_t di_sha512[] = {0x30, 0x51, 0x30, 0x0d, 0x06, 0x09, 0x60,
				    0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02,
				    0x03, 0x05, 0x00, 0x04, 0x40};

/*
 * EMSA-PKCS1-v1_5 (RFC 8017 §9.2) into em, k bytes:
 *   0x00 0x01 | 0xff * (k - tlen - 3) | 0x00 | DigestInfo prefix | hash
 */
static int emsa_pkcs1(uint8_t *em, size_t k, int alg, const uint8_t *hash,
		      size_t hashlen)
{
	const uint8_t *pre;
	size_t prelen, tlen;

	switch (alg) {
	case CRYPTO_SHA1:
		pre = di_sha1;
		prelen = sizeof(di_sha1);
		break;
	case CRYPTO_SHA256:
		pre = di_sha256;
		prelen = sizeof(di_sha256);
		break;
	case CRYPTO_SHA512:
		pre = di_sha512;
		prelen = sizeof(di_sha512);
		break;
	default:
		return -1;
	}
	if (hashlen != crypto_hash_len(alg))
		return -1;
	tlen = prelen + hashlen;
	/* Step 3: at least eight bytes of 0xff padding. */
	if (k < tlen + 11)
		return -1;
	em[0] = 0x00;
	em[1] = 0x01;
	memset(em + 2, 0xff, k - tlen - 3);
	em[k - tlen - 1] = 0x00;
	memcpy(em + k - tlen, pre, prelen);
	memcpy(em + k - hashlen, hash, hashlen);
	return 0;
}

int crypto_rsa_check_pub(const uint8_t *n, size_t nlen, const uint8_t *e,
			 size_t elen)
{
	size_t nbits;

	strip(&n, &nlen);
	strip(&e, &elen);
	nbits = bitlen(n, nlen);
	if (nbits < CRYPTO_RSA_MIN_BITS || nbits > CRYPTO_RSA_MAX_BITS ||
	    !(n[nlen - 1] & 1))
		return -1;
	if (elen == 0 || !(e[elen - 1] & 1) || (elen == 1 && e[0] < 3))
		return -1;
	if (elen > nlen || (elen == nlen && memcmp(e, n, nlen) >= 0))
		return -1;
	if (nbits > MBEDTLS_MPI_MAX_BITS &&
	    bitlen(e, elen) > CRYPTO_RSA_BIG_E_MAX_BITS)
		return -1;
	return 0;
}

size_t crypto_rsa_len(const uint8_t *n, size_t nlen)
{
	strip(&n, &nlen);
	return nlen;
}

/*
 * m = s^e mod n (RSAVP1, RFC 8017 §5.2.2).  mbedTLS exponentiates moduli
 * up to MBEDTLS_MPI_MAX_BITS; larger ones (up to CRYPTO_RSA_MAX_BITS) get
 * left-to-right square-and-multiply, cheap for the short public e that
 * crypto_rsa_check_pub enforces there.  Everything here is public.
 */
static int rsa_public(mbedtls_mpi *m, const mbedtls_mpi *s,
		      const mbedtls_mpi *e, const mbedtls_mpi *n)
{
	mbedtls_mpi t;
	size_t i;
	int rc = -1;

	if (mbedtls_mpi_bitlen(n) <= MBEDTLS_MPI_MAX_BITS)
		return mbedtls_mpi_exp_mod(m, s, e, n, NULL) ? -1 : 0;
	mbedtls_mpi_init(&t);
	if (mbedtls_mpi_lset(m, 1))
		goto out;
	for (i = mbedtls_mpi_bitlen(e); i-- > 0;) {
		if (mbedtls_mpi_mul_mpi(&t, m, m) ||
		    mbedtls_mpi_mod_mpi(m, &t, n))
			goto out;
		if (mbedtls_mpi_get_bit(e, i) &&
		    (mbedtls_mpi_mul_mpi(&t, m, s) ||
		     mbedtls_mpi_mod_mpi(m, &t, n)))
			goto out;
	}
	rc = 0;
out:
	mbedtls_mpi_free(&t);
	return rc;
}

int crypto_rsa_verify(const uint8_t *n, size_t nlen, const uint8_t *e,
		      size_t elen, int hash_alg, const uint8_t *hash,
		      size_t hashlen, const uint8_t *sig, size_t siglen)
{
	uint8_t em[CRYPTO_RSA_MAX_LEN], got[CRYPTO_RSA_MAX_LEN];
	mbedtls_mpi mn, me, ms, mm;
	int rc = -1;

	if (crypto_rsa_check_pub(n, nlen, e, elen))
		return -1;
	strip(&n, &nlen);
	strip(&e, &elen);
	/* RFC 8332 §3: shorter is a left-padded S, longer is wrong. */
	if (siglen > nlen || emsa_pkcs1(em, nlen, hash_alg, hash, hashlen))
		return -1;
	mbedtls_mpi_init(&mn);
	mbedtls_mpi_init(&me);
	mbedtls_mpi_init(&ms);
	mbedtls_mpi_init(&mm);
	if (mbedtls_mpi_read_binary(&mn, n, nlen) ||
	    mbedtls_mpi_read_binary(&me, e, elen) ||
	    mbedtls_mpi_read_binary(&ms, sig, siglen))
		goto out;
	/* RFC 8017 §5.2.2 step 1: the representative must be below n. */
	if (mbedtls_mpi_cmp_mpi(&ms, &mn) >= 0)
		goto out;
	if (rsa_public(&mm, &ms, &me, &mn) ||
	    mbedtls_mpi_write_binary(&mm, got, nlen))
		goto out;
	/* RFC 8017 §8.2.2 step 4: compare encodings, parse nothing. */
	if (crypto_memcmp_ct(em, got, nlen) == 0)
		rc = 0;
out:
	mbedtls_mpi_free(&mm);
	mbedtls_mpi_free(&ms);
	mbedtls_mpi_free(&me);
	mbedtls_mpi_free(&mn);
	return rc;
}

static void rsa_ctx_init(mbedtls_rsa_context *rsa)
{
#if MBEDTLS_VERSION_NUMBER >= 0x03000000
	mbedtls_rsa_init(rsa);
#else
	mbedtls_rsa_init(rsa, MBEDTLS_RSA_PKCS_V15, 0);
#endif
}

int crypto_rsa_sign(const struct crypto_rsa_priv *k, int hash_alg,
		    const uint8_t *hash, size_t hashlen, uint8_t *sig)
{
	/* mbedTLS's private operation stops at MBEDTLS_MPI_MAX_SIZE. */
	uint8_t em[MBEDTLS_MPI_MAX_SIZE], out[MBEDTLS_MPI_MAX_SIZE];
	const uint8_t *n = k->n;
	size_t nlen = k->nlen;
	mbedtls_rsa_context rsa;
	int rc = -1;

	if (crypto_rsa_check_pub(k->n, k->nlen, k->e, k->elen))
		return -1;
	strip(&n, &nlen);
	if (nlen > sizeof(em) || emsa_pkcs1(em, nlen, hash_alg, hash, hashlen))
		return -1;
	rsa_ctx_init(&rsa);
	/* complete() derives the CRT values from n, p, q, d, e. */
	if (mbedtls_rsa_import_raw(&rsa, n, nlen, k->p, k->plen, k->q, k->qlen,
				   k->d, k->dlen, k->e, k->elen) ||
	    mbedtls_rsa_complete(&rsa))
		goto out;
	/* Blinded, and mbedTLS checks the result with the public key. */
	if (mbedtls_rsa_private(&rsa, pk_rng, NULL, em, out))
		goto out;
	memcpy(sig, out, nlen);
	rc = 0;
out:
	mbedtls_rsa_free(&rsa); /* zeroes the private values */
	return rc;
}

/* ---- finite-field Diffie-Hellman ---------------------------------------- */

/* 0 if 1 < v < p - 1 (RFC 4253 §8 range less 1 and p - 1). */
static int dh_in_range(const mbedtls_mpi *v, const mbedtls_mpi *p)
{
	mbedtls_mpi pm1;
	int rc = -1;

	mbedtls_mpi_init(&pm1);
	if (mbedtls_mpi_sub_int(&pm1, p, 1) == 0 &&
	    mbedtls_mpi_cmp_int(v, 1) > 0 && mbedtls_mpi_cmp_mpi(v, &pm1) < 0)
		rc = 0;
	mbedtls_mpi_free(&pm1);
	return rc;
}

/*
 * A random x of exactly xbits bits (top bit set, so x > 1); xbits is
 * already clamped to [CRYPTO_DH_MIN_XBITS, bits(p) - 2].
 */
static int dh_random_x(uint8_t *x, size_t *xlen, size_t xbits)
{
	size_t len = (xbits + 7) / 8, spare = len * 8 - xbits;

	if (crypto_random(x, len))
		return -1;
	x[0] &= (uint8_t)(0xff >> spare);
	x[0] |= (uint8_t)(0x80 >> spare);
	*xlen = len;
	return 0;
}

int crypto_dh_keygen(struct crypto_dh *dh, const uint8_t *p, size_t plen,
		     const uint8_t *g, size_t glen, unsigned xbits, uint8_t *e)
{
	uint8_t x[CRYPTO_DH_MAX_LEN];
	mbedtls_mpi mp, mg, mx, me;
	size_t pbits, xlen = 0, want = xbits;
	int rc = -1;

	strip(&p, &plen);
	strip(&g, &glen);
	pbits = bitlen(p, plen);
	if (pbits < CRYPTO_DH_MIN_BITS || pbits > CRYPTO_DH_MAX_BITS ||
	    !(p[plen - 1] & 1) || glen > plen)
		return -1;
	if (want < CRYPTO_DH_MIN_XBITS)
		want = CRYPTO_DH_MIN_XBITS;
	if (want > pbits - 2)
		want = pbits - 2;
	mbedtls_mpi_init(&mp);
	mbedtls_mpi_init(&mg);
	mbedtls_mpi_init(&mx);
	mbedtls_mpi_init(&me);
	if (dh_random_x(x, &xlen, want) ||
	    mbedtls_mpi_read_binary(&mp, p, plen) ||
	    mbedtls_mpi_read_binary(&mg, g, glen) ||
	    mbedtls_mpi_read_binary(&mx, x, xlen))
		goto out;
	if (dh_in_range(&mg, &mp) ||
	    mbedtls_mpi_exp_mod(&me, &mg, &mx, &mp, NULL) ||
	    dh_in_range(&me, &mp) || mbedtls_mpi_write_binary(&me, e, plen))
		goto out;
	dh->plen = plen;
	memcpy(dh->p, p, plen);
	dh->xlen = xlen;
	memcpy(dh->x, x, xlen);
	rc = 0;
out:
	crypto_wipe(x, sizeof(x));
	mbedtls_mpi_free(&me);
	mbedtls_mpi_free(&mx);
	mbedtls_mpi_free(&mg);
	mbedtls_mpi_free(&mp);
	return rc;
}

size_t crypto_dh_len(const struct crypto_dh *dh)
{
	return dh->plen;
}

int crypto_dh_shared(const struct crypto_dh *dh, const uint8_t *f, size_t flen,
		     uint8_t *k)
{
	mbedtls_mpi mp, mf, mx, mk;
	int rc = -1;

	strip(&f, &flen);
	/* A freed context has plen 0 and stops here. */
	if (dh->plen == 0 || flen > dh->plen)
		return -1;
	mbedtls_mpi_init(&mp);
	mbedtls_mpi_init(&mf);
	mbedtls_mpi_init(&mx);
	mbedtls_mpi_init(&mk);
	if (mbedtls_mpi_read_binary(&mp, dh->p, dh->plen) ||
	    mbedtls_mpi_read_binary(&mf, f, flen) ||
	    mbedtls_mpi_read_binary(&mx, dh->x, dh->xlen))
		goto out;
	if (dh_in_range(&mf, &mp) ||
	    mbedtls_mpi_exp_mod(&mk, &mf, &mx, &mp, NULL) ||
	    mbedtls_mpi_write_binary(&mk, k, dh->plen))
		goto out;
	rc = 0;
out:
	mbedtls_mpi_free(&mk);
	mbedtls_mpi_free(&mx);
	mbedtls_mpi_free(&mf);
	mbedtls_mpi_free(&mp);
	return rc;
}

void crypto_dh_free(struct crypto_dh *dh)
{
	if (dh)
		crypto_wipe(dh, sizeof(*dh));
}
