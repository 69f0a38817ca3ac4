/*
 * crypto.c - hashes, HMAC, randomness and wiping over mbedTLS.
 *
 * mbedTLS 2.28 names its returning hash calls *_ret(); 3.x dropped the
 * suffix.  The MBEDTLS_3 switch below is the only version difference
 * for this file.
 */
#include "crypto.h"

#include <errno.h>
#include <string.h>
#include <sys/random.h>

#include <mbedtls/aes.h>
#include <mbedtls/md5.h>
#include <mbedtls/sha1.h>
#include <mbedtls/sha256.h>
#include <mbedtls/sha512.h>
#include <mbedtls/version.h>

#if MBEDTLS_VERSION_NUMBER >= 0x03000000
#define HASH_RET(name) name
#else
#define HASH_RET(name) name##_ret
#endif

_Static_assert(sizeof(mbedtls_md5_context) <= sizeof(((struct crypto_hash *)0)->st),
	       "md5 state too large");
_Static_assert(sizeof(mbedtls_sha1_context) <= sizeof(((struct crypto_hash *)0)->st),
	       "sha1 state too large");
_Static_assert(sizeof(mbedtls_sha256_context) <= sizeof(((struct crypto_hash *)0)->st),
	       "sha256 state too large");
_Static_assert(sizeof(mbedtls_sha512_context) <= sizeof(((struct crypto_hash *)0)->st),
	       "sha512 state too large");

size_t crypto_hash_len(int alg)
{
	switch (alg) {
	case CRYPTO_MD5:
		return 16;
	case CRYPTO_SHA1:
		return 20;
	case CRYPTO_SHA256:
		return 32;
	case CRYPTO_SHA384:
		return 48;
	case CRYPTO_SHA512:
		return 64;
	}
	return 0;
}

size_t crypto_hash_block(int alg)
{
	switch (alg) {
	case CRYPTO_MD5:
	case CRYPTO_SHA1:
	case CRYPTO_SHA256:
		return 64;
	case CRYPTO_SHA384:
	case CRYPTO_SHA512:
		return 128;
	}
	return 0;
}

int crypto_hash_init(struct crypto_hash *h, int alg)
{
	void *st = h->st;

	h->alg = alg;
	switch (alg) {
	case CRYPTO_MD5:
		mbedtls_md5_init(st);
		return HASH_RET(mbedtls_md5_starts)(st) ? -1 : 0;
	case CRYPTO_SHA1:
		mbedtls_sha1_init(st);
		return HASH_RET(mbedtls_sha1_starts)(st) ? -1 : 0;
	case CRYPTO_SHA256:
		mbedtls_sha256_init(st);
		return HASH_RET(mbedtls_sha256_starts)(st, 0) ? -1 : 0;
	case CRYPTO_SHA384:
	case CRYPTO_SHA512:
		mbedtls_sha512_init(st);
		return HASH_RET(mbedtls_sha512_starts)(st, alg == CRYPTO_SHA384)
			       ? -1
			       : 0;
	}
	h->alg = 0;
	return -1;
}

void crypto_hash_update(struct crypto_hash *h, const void *p, size_t n)
{
	void *st = h->st;

	/* The software hashes cannot fail on update; the results are ignored
	 * on purpose (mbedTLS only fails for hardware accelerators). */
	switch (h->alg) {
	case CRYPTO_MD5:
		(void)HASH_RET(mbedtls_md5_update)(st, p, n);
		break;
	case CRYPTO_SHA1:
		(void)HASH_RET(mbedtls_sha1_update)(st, p, n);
		break;
	case CRYPTO_SHA256:
		(void)HASH_RET(mbedtls_sha256_update)(st, p, n);
		break;
	case CRYPTO_SHA384:
	case CRYPTO_SHA512:
		(void)HASH_RET(mbedtls_sha512_update)(st, p, n);
		break;
	}
}

void crypto_hash_final(struct crypto_hash *h, uint8_t *out)
{
	void *st = h->st;

	switch (h->alg) {
	case CRYPTO_MD5:
		(void)HASH_RET(mbedtls_md5_finish)(st, out);
		break;
	case CRYPTO_SHA1:
		(void)HASH_RET(mbedtls_sha1_finish)(st, out);
		break;
	case CRYPTO_SHA256:
		(void)HASH_RET(mbedtls_sha256_finish)(st, out);
		break;
	case CRYPTO_SHA384:
	case CRYPTO_SHA512:
		(void)HASH_RET(mbedtls_sha512_finish)(st, out);
		break;
	}
	crypto_wipe(h, sizeof(*h));
}

void crypto_hash_clone(struct crypto_hash *dst, const struct crypto_hash *src)
{
	/* mbedTLS contexts of the software hashes are plain data. */
	memcpy(dst, src, sizeof(*dst));
}

int crypto_hash(int alg, const void *p, size_t n, uint8_t *out)
{
	struct crypto_hash h;

	if (crypto_hash_init(&h, alg))
		return -1;
	crypto_hash_update(&h, p, n);
	crypto_hash_final(&h, out);
	return 0;
}

/* RFC 2104: H(K ^ opad, H(K ^ ipad, text)), keys longer than a block are
 * hashed first. */
int crypto_hmac_init(struct crypto_hmac *m, int alg, const uint8_t *key,
		     size_t keylen)
{
	uint8_t k[CRYPTO_HASH_MAX_BLOCK], pad[CRYPTO_HASH_MAX_BLOCK];
	size_t bs = crypto_hash_block(alg);
	size_t i;

	if (bs == 0)
		return -1;
	memset(k, 0, sizeof(k));
	if (keylen > bs) {
		if (crypto_hash(alg, key, keylen, k))
			return -1;
	} else if (keylen) {
		memcpy(k, key, keylen);
	}
	m->alg = alg;
	for (i = 0; i < bs; i++)
		pad[i] = k[i] ^ 0x36;
	if (crypto_hash_init(&m->inner, alg))
		return -1;
	crypto_hash_update(&m->inner, pad, bs);
	for (i = 0; i < bs; i++)
		pad[i] = k[i] ^ 0x5c;
	if (crypto_hash_init(&m->outer, alg))
		return -1;
	crypto_hash_update(&m->outer, pad, bs);
	crypto_wipe(k, sizeof(k));
	crypto_wipe(pad, sizeof(pad));
	return 0;
}

void crypto_hmac_start(const struct crypto_hmac *m, struct crypto_hash *run)
{
	crypto_hash_clone(run, &m->inner);
}

void crypto_hmac_finish(const struct crypto_hmac *m, struct crypto_hash *run,
			uint8_t *out)
{
	uint8_t ih[CRYPTO_HASH_MAX_LEN];
	struct crypto_hash o;

	crypto_hash_final(run, ih);
	crypto_hash_clone(&o, &m->outer);
	crypto_hash_update(&o, ih, crypto_hash_len(m->alg));
	crypto_hash_final(&o, out);
	crypto_wipe(ih, sizeof(ih));
}

void crypto_hmac_free(struct crypto_hmac *m)
{
	crypto_wipe(m, sizeof(*m));
}

int crypto_hmac(int alg, const uint8_t *key, size_t keylen, const void *p,
		size_t n, uint8_t *out)
{
	struct crypto_hmac m;
	struct crypto_hash run;

	if (crypto_hmac_init(&m, alg, key, keylen))
		return -1;
	crypto_hmac_start(&m, &run);
	crypto_hash_update(&run, p, n);
	crypto_hmac_finish(&m, &run, out);
	crypto_hmac_free(&m);
	return 0;
}

_Static_assert(sizeof(mbedtls_aes_context) <= sizeof(((struct crypto_aes *)0)->st),
	       "aes state too large");

int crypto_aes_init(struct crypto_aes *c, int mode, const uint8_t *key,
		    size_t keylen, const uint8_t iv[16])
{
	mbedtls_aes_context *a = (mbedtls_aes_context *)c->st;
	int rc;

	if (keylen != 16 && keylen != 24 && keylen != 32)
		return -1;
	memset(c, 0, sizeof(*c));
	c->mode = mode;
	memcpy(c->iv, iv, 16);
	mbedtls_aes_init(a);
	if (mode == CRYPTO_AES_CBC_DEC)
		rc = mbedtls_aes_setkey_dec(a, key, (unsigned)keylen * 8);
	else if (mode == CRYPTO_AES_CTR || mode == CRYPTO_AES_CBC_ENC)
		rc = mbedtls_aes_setkey_enc(a, key, (unsigned)keylen * 8);
	else
		rc = -1;
	return rc ? -1 : 0;
}

int crypto_aes_crypt(struct crypto_aes *c, uint8_t *buf, size_t n)
{
	mbedtls_aes_context *a = (mbedtls_aes_context *)c->st;

	switch (c->mode) {
	case CRYPTO_AES_CTR:
		return mbedtls_aes_crypt_ctr(a, n, &c->off, c->iv, c->stream,
					     buf, buf)
			       ? -1
			       : 0;
	case CRYPTO_AES_CBC_ENC:
	case CRYPTO_AES_CBC_DEC:
		if (n % 16)
			return -1;
		return mbedtls_aes_crypt_cbc(a,
					     c->mode == CRYPTO_AES_CBC_ENC
						     ? MBEDTLS_AES_ENCRYPT
						     : MBEDTLS_AES_DECRYPT,
					     n, c->iv, buf, buf)
			       ? -1
			       : 0;
	}
	return -1;
}

void crypto_aes_free(struct crypto_aes *c)
{
	mbedtls_aes_free((mbedtls_aes_context *)c->st);
	crypto_wipe(c, sizeof(*c));
}

int crypto_random(void *buf, size_t n)
{
	unsigned char *p = buf;

	while (n > 0) {
		ssize_t r = getrandom(p, n, 0);

		if (r < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		p += r;
		n -= (size_t)r;
	}
	return 0;
}

void crypto_wipe(void *p, size_t n)
{
	/* explicit_bzero is glibc >= 2.25; the barrier keeps it honest with
	 * other libcs too. */
	memset(p, 0, n);
	__asm__ __volatile__("" : : "r"(p) : "memory");
}

int crypto_memcmp_ct(const void *a, const void *b, size_t n)
{
	const volatile unsigned char *x = a, *y = b;
	unsigned char d = 0;
	size_t i;

	for (i = 0; i < n; i++)
		d |= x[i] ^ y[i];
	return d;
}
