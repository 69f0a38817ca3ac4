/*
 * fuzz_common.c - deterministic randomness and capped KDFs for the fuzz
 * harnesses (see fuzz.h).  Linked into every harness and into
 * tests/unit/test_fuzz_regress; never into the library.
 */
#define _GNU_SOURCE
#include "fuzz.h"

#include <dlfcn.h>
#include <string.h>

/* ---- randomness: a splitmix64 stream, restarted for every input --------- */

static uint64_t rng_state;

void fuzz_reset(void)
{
	rng_state = 0x5f7a7a5f73667470ull; /* "_zz_sftp" */
}

/* Each call starts on a fresh 64-bit word: simple to copy exactly into
 * a capture build (tests/fuzz/README). */
void fuzz_random_fill(void *buf, size_t n)
{
	uint8_t *p = buf;

	while (n > 0) {
		uint64_t z = (rng_state += 0x9e3779b97f4a7c15ull);
		size_t i;

		z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
		z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
		z ^= z >> 31;
		for (i = 0; i < 8 && n > 0; i++, n--, z >>= 8)
			*p++ = (uint8_t)z;
	}
}

int __wrap_crypto_random(void *buf, size_t n);
int __wrap_crypto_random(void *buf, size_t n)
{
	fuzz_random_fill(buf, n);
	return 0;
}

/* ---- KDF rounds --------------------------------------------------------- */

int __real_bcrypt_pbkdf(const char *pass, size_t passlen, const uint8_t *salt,
			size_t saltlen, uint8_t *key, size_t keylen,
			unsigned rounds);
int __wrap_bcrypt_pbkdf(const char *pass, size_t passlen, const uint8_t *salt,
			size_t saltlen, uint8_t *key, size_t keylen,
			unsigned rounds);
int __wrap_bcrypt_pbkdf(const char *pass, size_t passlen, const uint8_t *salt,
			size_t saltlen, uint8_t *key, size_t keylen,
			unsigned rounds)
{
	if (rounds > FUZZ_KDF_ROUNDS)
		rounds = FUZZ_KDF_ROUNDS;
	return __real_bcrypt_pbkdf(pass, passlen, salt, saltlen, key, keylen,
				   rounds);
}

/*
 * mbedTLS's PBKDF2 and PKCS#12 derivations (encrypted PKCS#8 files, up
 * to PKEY_PBKDF2_MAX_ITER iterations) are capped by interposing them:
 * libmbedcrypto calls them through its PLT, so the executable's
 * definitions win, and these call the library's with fewer iterations.
 * The prototypes are mbedTLS 2.28's (pkcs5.h, pkcs12.h) with the
 * context and md type left opaque.
 */
typedef int (*pbkdf2_fn)(void *ctx, const unsigned char *pw, size_t pwlen,
			 const unsigned char *salt, size_t saltlen,
			 unsigned int iter, uint32_t keylen,
			 unsigned char *out);
typedef int (*pkcs12_fn)(unsigned char *data, size_t datalen,
			 const unsigned char *pwd, size_t pwdlen,
			 const unsigned char *salt, size_t saltlen, int md,
			 int id, int iterations);

int mbedtls_pkcs5_pbkdf2_hmac(void *ctx, const unsigned char *pw, size_t pwlen,
			      const unsigned char *salt, size_t saltlen,
			      unsigned int iter, uint32_t keylen,
			      unsigned char *out);
int mbedtls_pkcs5_pbkdf2_hmac(void *ctx, const unsigned char *pw, size_t pwlen,
			      const unsigned char *salt, size_t saltlen,
			      unsigned int iter, uint32_t keylen,
			      unsigned char *out)
{
	static pbkdf2_fn real;

	if (!real)
		*(void **)&real = dlsym(RTLD_NEXT, "mbedtls_pkcs5_pbkdf2_hmac");
	if (!real)
		return -1;
	if (iter > FUZZ_KDF_ROUNDS)
		iter = FUZZ_KDF_ROUNDS;
	return real(ctx, pw, pwlen, salt, saltlen, iter, keylen, out);
}

int mbedtls_pkcs12_derivation(unsigned char *data, size_t datalen,
			      const unsigned char *pwd, size_t pwdlen,
			      const unsigned char *salt, size_t saltlen, int md,
			      int id, int iterations);
int mbedtls_pkcs12_derivation(unsigned char *data, size_t datalen,
			      const unsigned char *pwd, size_t pwdlen,
			      const unsigned char *salt, size_t saltlen, int md,
			      int id, int iterations)
{
	static pkcs12_fn real;

	if (!real)
		*(void **)&real = dlsym(RTLD_NEXT, "mbedtls_pkcs12_derivation");
	if (!real)
		return -1;
	if (iterations > (int)FUZZ_KDF_ROUNDS)
		iterations = (int)FUZZ_KDF_ROUNDS;
	return real(data, datalen, pwd, pwdlen, salt, saltlen, md, id,
		    iterations);
}
