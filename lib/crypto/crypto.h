/*
 * crypto.h - the one seam between the library and mbedTLS.
 *
 * Only files under lib/crypto/ include <mbedtls/...>.  Everything else in
 * lib/ uses the functions declared here, so mbedTLS 2.28 (Debian 12) and
 * 3.x differ in one place only.  What mbedTLS lacks (Ed25519, X25519 with
 * a constant-time ladder of our own, OpenSSH's chacha20-poly1305, fast
 * AES-GCM) lives next to this file behind the same kind of interface.
 */
#ifndef SFTPMNT_CRYPTO_H
#define SFTPMNT_CRYPTO_H

#include <stddef.h>
#include <stdint.h>

/* ---- hashes ------------------------------------------------------------ */

enum crypto_hash_alg {
	CRYPTO_MD5 = 1,
	CRYPTO_SHA1,
	CRYPTO_SHA256,
	CRYPTO_SHA384,
	CRYPTO_SHA512,
};

#define CRYPTO_HASH_MAX_LEN 64
#define CRYPTO_HASH_MAX_BLOCK 128

/*
 * Opaque, stack-allocatable hash state (no allocation on the packet path).
 * crypto.c checks at compile time that every mbedTLS context fits.
 */
struct crypto_hash {
	int alg;
	_Alignas(16) unsigned char st[480];
};

/* Output length of alg in bytes; 0 for an unknown alg. */
size_t crypto_hash_len(int alg);
/* Internal block size of alg in bytes (for HMAC); 0 for an unknown alg. */
size_t crypto_hash_block(int alg);

/* 0 on success, -1 for an unknown alg. */
int crypto_hash_init(struct crypto_hash *h, int alg)
	__attribute__((warn_unused_result));
void crypto_hash_update(struct crypto_hash *h, const void *p, size_t n);
/* Writes crypto_hash_len(alg) bytes to out and wipes the state. */
void crypto_hash_final(struct crypto_hash *h, uint8_t *out);
/* Copy a running state (to finish a prefix hash twice). */
void crypto_hash_clone(struct crypto_hash *dst, const struct crypto_hash *src);
/* One-shot hash; 0 or -1 for an unknown alg. */
int crypto_hash(int alg, const void *p, size_t n, uint8_t *out);

/* ---- HMAC (RFC 2104) ---------------------------------------------------- */

/*
 * Keyed state kept per direction for the MAC algorithms: the inner and
 * outer pads are hashed once at key time, each packet clones them.
 */
struct crypto_hmac {
	int alg;
	struct crypto_hash inner, outer;
};

int crypto_hmac_init(struct crypto_hmac *m, int alg, const uint8_t *key,
		     size_t keylen) __attribute__((warn_unused_result));
/* Start one message: returns a running hash already fed with the ipad. */
void crypto_hmac_start(const struct crypto_hmac *m, struct crypto_hash *run);
/* Finish one message started with crypto_hmac_start. */
void crypto_hmac_finish(const struct crypto_hmac *m, struct crypto_hash *run,
			uint8_t *out);
void crypto_hmac_free(struct crypto_hmac *m);
/* One-shot HMAC; 0 or -1. */
int crypto_hmac(int alg, const uint8_t *key, size_t keylen, const void *p,
		size_t n, uint8_t *out);

/* ---- AES in CTR and CBC modes (aes*-ctr, legacy aes*-cbc) ------------- */

enum crypto_aes_mode {
	CRYPTO_AES_CTR = 1,
	CRYPTO_AES_CBC_ENC,
	CRYPTO_AES_CBC_DEC,
};

/* Opaque, fixed size; holds the mbedTLS context, counter/IV and the
 * unused part of the last keystream block, so CTR may be applied to a
 * stream in pieces of any length (the packet layer decrypts the first
 * block to learn the length, the rest later). */
struct crypto_aes {
	int mode;
	size_t off;
	uint8_t iv[16];
	uint8_t stream[16];
	_Alignas(16) unsigned char st[320];
};

int crypto_aes_init(struct crypto_aes *c, int mode, const uint8_t *key,
		    size_t keylen, const uint8_t iv[16])
	__attribute__((warn_unused_result));
/* In place.  CBC needs n to be a multiple of 16.  0 or -1. */
int crypto_aes_crypt(struct crypto_aes *c, uint8_t *buf, size_t n)
	__attribute__((warn_unused_result));
void crypto_aes_free(struct crypto_aes *c);

/* ---- randomness, wiping, comparisons ----------------------------------- */

/*
 * Fill buf with n bytes from the kernel CSPRNG (getrandom(2)).  0 or -1.
 * We use the kernel generator directly rather than a user-space DRBG: it
 * is thread-safe (the daemon has one session per I/O thread), reseeds
 * itself and survives fork.
 */
int crypto_random(void *buf, size_t n) __attribute__((warn_unused_result));

/* Zero memory in a way the compiler may not drop. */
void crypto_wipe(void *p, size_t n);

/* Constant-time comparison: 0 when equal, non-zero otherwise. */
int crypto_memcmp_ct(const void *a, const void *b, size_t n);

#endif
