/*
 * pk.h - public-key primitives over mbedTLS: ECDSA and ECDH on the NIST
 * curves (RFC 5656), RSA PKCS#1 v1.5 signatures (RFC 8017 §8.2, RFC 8332)
 * and finite-field Diffie-Hellman (RFC 4253 §8).
 *
 * Every number crosses this interface as an unsigned big-endian magnitude
 * (the mpint of RFC 4251 §5 without its sign byte); leading zero bytes on
 * input are ignored.  Points are SEC1 §2.3.3 uncompressed octet strings,
 * 0x04 || X || Y, as carried in SSH key blobs and ECDH messages (RFC 5656
 * §3.1 and §4).  Outputs have a fixed length (given below); the caller
 * writes them with wb_mpint, which drops the leading zeros.
 *
 * Functions return 0 or -1.  The key-exchange contexts are plain structs
 * so they can live on the stack; their fields are private to pk.c, and
 * their secrets are wiped by the _free functions.
 */
#ifndef SFTPMNT_CRYPTO_PK_H
#define SFTPMNT_CRYPTO_PK_H

#include <stddef.h>
#include <stdint.h>

#define PK_WUR __attribute__((warn_unused_result))

/* ---- elliptic curves ---------------------------------------------------- */

enum crypto_ec_curve {
	CRYPTO_EC_NISTP256 = 1,
	CRYPTO_EC_NISTP384,
	CRYPTO_EC_NISTP521,
};

/* Bytes of a P-521 coordinate and group order, the largest we use. */
#define CRYPTO_EC_MAX_LEN 66
/* Bytes of an uncompressed P-521 point. */
#define CRYPTO_EC_MAX_POINT (1 + 2 * CRYPTO_EC_MAX_LEN)

/* Bytes of one coordinate (32, 48, 66); 0 for an unknown curve. */
size_t crypto_ec_field_len(int curve);
/* Bytes of the group order n (32, 48, 66); 0 for an unknown curve. */
size_t crypto_ec_order_len(int curve);
/* Bytes of an uncompressed point (65, 97, 133); 0 for an unknown curve. */
size_t crypto_ec_point_len(int curve);

/*
 * 0 if q is an uncompressed point on curve other than the point at
 * infinity, with both coordinates below p (SEC1 §3.2.2.1); -1 otherwise.
 */
int crypto_ec_check_point(int curve, const uint8_t *q, size_t qlen) PK_WUR;

/*
 * ECDSA verification (SEC1 §4.1.4) of hash under the public point q.
 * A hash longer than the group order is truncated to its leftmost bits,
 * as RFC 5656 §6.2.1 expects for SHA-512 on P-521.  0 valid, -1 not.
 */
int crypto_ecdsa_verify(int curve, const uint8_t *q, size_t qlen,
			const uint8_t *hash, size_t hashlen, const uint8_t *r,
			size_t rlen, const uint8_t *s, size_t slen) PK_WUR;

/*
 * ECDSA signature of hash with the private scalar d (1 <= d < n).  r and s
 * each receive crypto_ec_order_len(curve) bytes.  The nonce comes from
 * crypto_random.  0 or -1; r and s are written only on success.
 */
int crypto_ecdsa_sign(int curve, const uint8_t *d, size_t dlen,
		      const uint8_t *hash, size_t hashlen, uint8_t *r,
		      uint8_t *s) PK_WUR;

/* Ephemeral ECDH (RFC 5656 §4).  Private: use the functions below. */
struct crypto_ecdh {
	int curve;
	uint8_t d[CRYPTO_EC_MAX_LEN];
};

/*
 * New ephemeral key pair on curve; q receives the public point,
 * crypto_ec_point_len(curve) bytes.  0 or -1 (nothing to free on error).
 */
int crypto_ecdh_keygen(struct crypto_ecdh *ec, int curve, uint8_t *q) PK_WUR;

/*
 * Shared secret with the peer's public point: z receives the x-coordinate
 * of d * peer, crypto_ec_field_len(curve) bytes (RFC 5656 §4 encodes it as
 * an mpint).  A peer point that is malformed, off the curve or the point
 * at infinity is refused (RFC 5656 §4 requires the check).  0 or -1.
 */
int crypto_ecdh_shared(const struct crypto_ecdh *ec, const uint8_t *peer,
		       size_t peerlen, uint8_t *z) PK_WUR;

/* Wipes the private scalar.  Safe on a zeroed or freed context. */
void crypto_ecdh_free(struct crypto_ecdh *ec);

/* ---- RSA ---------------------------------------------------------------- */

/*
 * Modulus sizes accepted.  1024 bits is OpenSSH's floor; 16384 bits its
 * ceiling (the largest bignum its buffers carry).
 */
#define CRYPTO_RSA_MIN_BITS 1024
#define CRYPTO_RSA_MAX_BITS 16384
#define CRYPTO_RSA_MAX_LEN  (CRYPTO_RSA_MAX_BITS / 8)
/*
 * Above 8192 bits (mbedTLS's exponentiation limit) the public operation is
 * our own square-and-multiply, so the exponent is capped there, as
 * OpenSSL caps it for large moduli.
 */
#define CRYPTO_RSA_BIG_E_MAX_BITS 64

/*
 * 0 if (n, e) is a public key we accept: n odd, CRYPTO_RSA_MIN_BITS <=
 * bits(n) <= CRYPTO_RSA_MAX_BITS, e odd, 3 <= e < n.  -1 otherwise.
 */
int crypto_rsa_check_pub(const uint8_t *n, size_t nlen, const uint8_t *e,
			 size_t elen) PK_WUR;

/* Modulus length in bytes (leading zeros of n not counted). */
size_t crypto_rsa_len(const uint8_t *n, size_t nlen);

/*
 * RSASSA-PKCS1-v1_5 verification (RFC 8017 §8.2.2) of hash, made with
 * hash_alg (CRYPTO_SHA1, CRYPTO_SHA256 or CRYPTO_SHA512).  The encoded
 * message is rebuilt and compared, never parsed.  A signature shorter
 * than the modulus is taken as left-padded with zeros (RFC 8332 §3 lets
 * the verifier do so; OpenSSH does), a longer one is refused.  The key
 * must pass crypto_rsa_check_pub.  0 valid, -1 not.
 */
int crypto_rsa_verify(const uint8_t *n, size_t nlen, const uint8_t *e,
		      size_t elen, int hash_alg, const uint8_t *hash,
		      size_t hashlen, const uint8_t *sig, size_t siglen) PK_WUR;

/* An RSA private key, borrowed magnitudes (RFC 8017 §3.2, first form
 * plus the primes; the CRT values are derived). */
struct crypto_rsa_priv {
	const uint8_t *n, *e, *d, *p, *q;
	size_t nlen, elen, dlen, plen, qlen;
};

/*
 * RSASSA-PKCS1-v1_5 signature (RFC 8017 §8.2.1) of hash with hash_alg as
 * above.  sig receives crypto_rsa_len(k->n, k->nlen) bytes, the length
 * RFC 8332 §3 asks for.  mbedTLS's private operation is blinded (random
 * from crypto_random) and checks its own result.  Moduli over 8192 bits
 * cannot be signed with.  0 or -1.
 */
int crypto_rsa_sign(const struct crypto_rsa_priv *k, int hash_alg,
		    const uint8_t *hash, size_t hashlen, uint8_t *sig) PK_WUR;

/* ---- finite-field Diffie-Hellman ---------------------------------------- */

/* Modulus sizes: group1 (RFC 2409 §6.2, 1024 bits) up to group18 (RFC
 * 3526 §7) and the group-exchange range of RFC 4419 §3 (1024 to 8192). */
#define CRYPTO_DH_MIN_BITS 1024
#define CRYPTO_DH_MAX_BITS 8192
#define CRYPTO_DH_MAX_LEN  (CRYPTO_DH_MAX_BITS / 8)
/* Smallest private exponent we generate, whatever the caller asks. */
#define CRYPTO_DH_MIN_XBITS 256

/* Private: use the functions below. */
struct crypto_dh {
	size_t plen, xlen;
	uint8_t p[CRYPTO_DH_MAX_LEN];
	uint8_t x[CRYPTO_DH_MAX_LEN];
};

/*
 * Choose a random exponent x of xbits bits and compute e = g^x mod p
 * (RFC 4253 §8).  p (an odd prime of CRYPTO_DH_MIN_BITS to
 * CRYPTO_DH_MAX_BITS bits) is copied into dh; 1 < g < p - 1.  xbits is
 * twice the wanted security strength (RFC 3526 §8; OpenSSH uses twice
 * the longest cipher key or hash output in bits); it is raised to
 * CRYPTO_DH_MIN_XBITS and cut to bits(p) - 2 so that x < q for a safe
 * prime p = 2q + 1.  e receives crypto_dh_len(dh) bytes.  0 or -1.
 */
int crypto_dh_keygen(struct crypto_dh *dh, const uint8_t *p, size_t plen,
		     const uint8_t *g, size_t glen, unsigned xbits,
		     uint8_t *e) PK_WUR;

/* Bytes of p (and of e and K); valid after crypto_dh_keygen. */
size_t crypto_dh_len(const struct crypto_dh *dh);

/*
 * K = f^x mod p, crypto_dh_len(dh) bytes.  f must satisfy 1 < f < p - 1
 * (RFC 4253 §8 range, less the two values of order at most 2).  0 or -1.
 */
int crypto_dh_shared(const struct crypto_dh *dh, const uint8_t *f, size_t flen,
		     uint8_t *k) PK_WUR;

/* Wipes x (and p).  Safe on a zeroed or freed context. */
void crypto_dh_free(struct crypto_dh *dh);

#endif
