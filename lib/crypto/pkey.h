/*
 * pkey.h - what loading private-key files needs from mbedTLS (and from the
 * primitives kept inside lib/crypto): the PEM/DER formats of OpenSSL,
 * key-pair consistency checks, and the key-file use of OpenSSH's
 * chacha20-poly1305.  lib/key.c is the only user.
 *
 * PEM keys are handed back in one form: the private-key encoding of
 * OpenSSH PROTOCOL.key §3 (the SSH agent's, draft-miller-ssh-agent §4.2.3),
 *
 *	ssh-ed25519:          string "ssh-ed25519", string pk[32],
 *	                      string seed[32] || pk[32]
 *	ecdsa-sha2-nistpXXX:  string type, string "nistpXXX", string Q,
 *	                      mpint d
 *	ssh-rsa:              string "ssh-rsa", mpint n, mpint e, mpint d,
 *	                      mpint iqmp, mpint p, mpint q
 *
 * so that key.c decodes and checks every key with the same code whatever
 * file it came from.
 */
#ifndef SFTPMNT_CRYPTO_PKEY_H
#define SFTPMNT_CRYPTO_PKEY_H

#include <stddef.h>
#include <stdint.h>

#include "../buf.h"
#include "pk.h"

/* Results of pkey_pem_decode, mapped to LIBSSH2_ERROR_* by key.c. */
enum pkey_err {
	PKEY_OK = 0,
	PKEY_EFORMAT = -1,   /* corrupt, truncated, not a key */
	PKEY_ENEEDPASS = -2, /* encrypted and no passphrase given */
	PKEY_EBADPASS = -3,  /* decryption failed: wrong passphrase */
	PKEY_EUNSUPP = -4,   /* key type, curve, cipher or KDF we lack */
	PKEY_ENOMEM = -5,
};

/*
 * Most PBKDF2 iterations we run for an encrypted PKCS#8 file (RFC 8018
 * §5.2; OpenSSL writes 2048): a bound on the work a file can demand.
 */
#define PKEY_PBKDF2_MAX_ITER (10u * 1000 * 1000)
/* Longest PEM file (text) we hand to mbedTLS: a 16384-bit RSA key in
 * encrypted PKCS#8 is under 13 KiB. */
#define PKEY_PEM_MAX (64u * 1024)

/*
 * Decode one PEM private key: pem[0..len) runs from "-----BEGIN " to the
 * end of its "-----END ...-----" line and need not be NUL-terminated.
 * Handled: "RSA PRIVATE KEY" (PKCS#1, RFC 8017 A.1.2), "EC PRIVATE KEY"
 * (SEC1 C.4, RFC 5915), "PRIVATE KEY" (PKCS#8, RFC 5958, including Ed25519
 * of RFC 8410 §7), the first two with OpenSSL's "Proc-Type: 4,ENCRYPTED"
 * headers (RFC 1421 §4.6), and "ENCRYPTED PRIVATE KEY" (PKCS#8
 * EncryptedPrivateKeyInfo with PBES2 of RFC 8018 §6.2, or PKCS#12 PBE).
 * pass may be NULL or "" for none.  On success the key is appended to
 * out in the form described at the top; on failure out may hold part of
 * it (the caller wipes out either way) and *why says what went wrong.
 */
int pkey_pem_decode(const char *pem, size_t len, const char *pass,
		    struct wbuf *out, const char **why)
	__attribute__((warn_unused_result));

/*
 * 0 if k (with iqmp = q^-1 mod p) is a consistent RSA private key: n = pq,
 * e d = 1 mod lcm(p - 1, q - 1), the CRT values agree (RFC 8017 §3.2).
 * Signing with an inconsistent key could yield faulty signatures that
 * reveal the factors.  -1 otherwise, or for a modulus mbedTLS cannot
 * handle (over 8192 bits).
 */
int pkey_rsa_check(const struct crypto_rsa_priv *k, const uint8_t *iqmp,
		   size_t iqmplen) __attribute__((warn_unused_result));

/*
 * 0 if 1 <= d < n and q (SEC1 §2.3.3 uncompressed) equals d G on curve
 * (SEC1 §3.2.1), -1 otherwise.
 */
int pkey_ec_check(int curve, const uint8_t *q, size_t qlen, const uint8_t *d,
		  size_t dlen) __attribute__((warn_unused_result));

#define PKEY_CHACHAPOLY_KEY_LEN 64
#define PKEY_CHACHAPOLY_TAG_LEN 16

/*
 * chacha20-poly1305@openssh.com as OpenSSH applies it to the private
 * section of a key file: sequence number 0 and no length field (no
 * additional data), so the tag is Poly1305 over the ciphertext alone and
 * the 64-byte key's second half is unused (PROTOCOL.chacha20poly1305
 * with aadlen 0).  Checks the tag in constant time, then decrypts buf in
 * place.  0, or -1 with buf untouched.
 */
int pkey_chachapoly_open(const uint8_t key[PKEY_CHACHAPOLY_KEY_LEN],
			 uint8_t *buf, size_t len,
			 const uint8_t tag[PKEY_CHACHAPOLY_TAG_LEN])
	__attribute__((warn_unused_result));

#endif
