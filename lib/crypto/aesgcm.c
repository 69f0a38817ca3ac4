/*
 * aesgcm.c - AES-GCM for SSH (RFC 5647): implementation choice and the
 * mbedTLS fallback.
 *
 * The fast path is aesgcm_ni.c.  Without AES-NI we use mbedTLS's GCM and
 * not an AES of our own: a portable AES is either table-driven (lookups
 * indexed by key and data, a cache-timing channel) or bitsliced and slow.
 *
 * mbedTLS 2.28 and 3.x share mbedtls_gcm_crypt_and_tag(), which is what
 * sealing uses.  Opening must check the tag before writing any plaintext
 * into the caller's buffer, and mbedtls_gcm_auth_decrypt() decrypts first
 * (then zeroes the output on failure), so the tag is computed with the
 * streaming calls, whose signatures changed in 3.0 -- the one version
 * switch here.  The price: the fallback runs AES twice over an opened
 * packet, once for the tag and once to decrypt.
 */
#include "aesgcm.h"
#include "crypto.h"

#include <stdlib.h>
#include <string.h>

#include <mbedtls/gcm.h>
#include <mbedtls/version.h>

_Static_assert(sizeof(mbedtls_gcm_context) <= AESGCM_MBED_SIZE,
	       "mbedtls_gcm_context does not fit struct aesgcm_ctx");
_Static_assert(_Alignof(mbedtls_gcm_context) <= 16,
	       "mbedtls_gcm_context needs more alignment");

#define MBED_SCRATCH 512 /* stack bytes for the tag-only decryption pass */

/* enum aesgcm_impl_id; NONE until the first use or after set_impl(NULL). */
static int impl_sel;

static const char *const impl_names[] = {
	[AESGCM_IMPL_NI] = "aesni-pclmul",
	[AESGCM_IMPL_MBED] = "mbedtls",
};

static int portable_forced(void)
{
	const char *e = getenv("SFTPMNT_CRYPTO_PORTABLE");

	return e != NULL && e[0] != '\0' && strcmp(e, "0") != 0;
}

/* Racing first callers compute the same answer, so relaxed is enough. */
static int impl_current(void)
{
	int s = __atomic_load_n(&impl_sel, __ATOMIC_RELAXED);

	if (s == AESGCM_IMPL_NONE) {
		s = !portable_forced() && aesgcm_ni_supported()
			    ? AESGCM_IMPL_NI
			    : AESGCM_IMPL_MBED;
		__atomic_store_n(&impl_sel, s, __ATOMIC_RELAXED);
	}
	return s;
}

const char *aesgcm_impl(void)
{
	return impl_names[impl_current()];
}

int aesgcm_set_impl(const char *name)
{
	int s;

	if (name == NULL)
		s = AESGCM_IMPL_NONE;
	else if (strcmp(name, impl_names[AESGCM_IMPL_MBED]) == 0)
		s = AESGCM_IMPL_MBED;
	else if (strcmp(name, impl_names[AESGCM_IMPL_NI]) == 0 &&
		 aesgcm_ni_supported())
		s = AESGCM_IMPL_NI;
	else
		return -1;
	__atomic_store_n(&impl_sel, s, __ATOMIC_RELAXED);
	return 0;
}

static mbedtls_gcm_context *mbed(struct aesgcm_ctx *c)
{
	return (mbedtls_gcm_context *)(void *)c->u.mbed;
}

int aesgcm_init(struct aesgcm_ctx *c, const uint8_t *key, size_t keylen)
{
	if (keylen != 16 && keylen != 32)
		return -1;
	memset(c, 0, sizeof(*c));
	c->impl = impl_current();
	if (c->impl == AESGCM_IMPL_NI) {
		aesgcm_ni_init(c, key, keylen);
		return 0;
	}
	mbedtls_gcm_init(mbed(c));
	if (mbedtls_gcm_setkey(mbed(c), MBEDTLS_CIPHER_ID_AES, key,
			       (unsigned int)keylen * 8) != 0) {
		mbedtls_gcm_free(mbed(c));
		crypto_wipe(c, sizeof(*c));
		return -1;
	}
	c->rounds = keylen == 16 ? 10 : 14;
	return 0;
}

void aesgcm_seal(struct aesgcm_ctx *c, const uint8_t iv[AESGCM_IV_LEN],
		 const uint8_t *aad, size_t aadlen, uint8_t *buf, size_t len,
		 uint8_t tag[AESGCM_TAG_LEN])
{
	if (c->impl == AESGCM_IMPL_NI) {
		aesgcm_ni_seal(c, iv, aad, aadlen, buf, len, tag);
		return;
	}
	/* mbedTLS fails only for lengths beyond SP 800-38D §5.2.1.1; never
	 * send the plaintext then, and let the peer reject the zero tag. */
	if (c->impl != AESGCM_IMPL_MBED ||
	    mbedtls_gcm_crypt_and_tag(mbed(c), MBEDTLS_GCM_ENCRYPT, len, iv,
				      AESGCM_IV_LEN, aad, aadlen, buf, buf,
				      AESGCM_TAG_LEN, tag) != 0) {
		crypto_wipe(buf, len);
		memset(tag, 0, AESGCM_TAG_LEN);
	}
}

/* The tag of ciphertext ct, decrypting into a scratch buffer we discard. */
static int mbed_tag(mbedtls_gcm_context *g, const uint8_t iv[AESGCM_IV_LEN],
		    const uint8_t *aad, size_t aadlen, const uint8_t *ct,
		    size_t len, uint8_t tag[AESGCM_TAG_LEN])
{
	uint8_t scratch[MBED_SCRATCH];
	size_t n;
	int ret;
#if MBEDTLS_VERSION_NUMBER >= 0x03000000
	size_t olen;

	ret = mbedtls_gcm_starts(g, MBEDTLS_GCM_DECRYPT, iv, AESGCM_IV_LEN);
	if (ret == 0)
		ret = mbedtls_gcm_update_ad(g, aad, aadlen);
	for (; ret == 0 && len > 0; ct += n, len -= n) {
		n = len < sizeof(scratch) ? len : sizeof(scratch);
		ret = mbedtls_gcm_update(g, ct, n, scratch, sizeof(scratch),
					 &olen);
	}
	if (ret == 0)
		ret = mbedtls_gcm_finish(g, scratch, sizeof(scratch), &olen,
					 tag, AESGCM_TAG_LEN);
#else
	ret = mbedtls_gcm_starts(g, MBEDTLS_GCM_DECRYPT, iv, AESGCM_IV_LEN, aad,
				 aadlen);
	/* every piece but the last a multiple of 16 bytes */
	for (; ret == 0 && len > 0; ct += n, len -= n) {
		n = len < sizeof(scratch) ? len : sizeof(scratch);
		ret = mbedtls_gcm_update(g, n, ct, scratch);
	}
	if (ret == 0)
		ret = mbedtls_gcm_finish(g, tag, AESGCM_TAG_LEN);
#endif
	crypto_wipe(scratch, sizeof(scratch));
	return ret;
}

static int mbed_open(struct aesgcm_ctx *c, const uint8_t iv[AESGCM_IV_LEN],
		     const uint8_t *aad, size_t aadlen, uint8_t *buf,
		     size_t len, const uint8_t tag[AESGCM_TAG_LEN])
{
	uint8_t want[AESGCM_TAG_LEN];
	int bad;

	if (mbed_tag(mbed(c), iv, aad, aadlen, buf, len, want) != 0)
		return -1; /* lengths beyond SP 800-38D §5.2.1.1 */
	bad = crypto_memcmp_ct(want, tag, sizeof(want));
	if (bad) {
		crypto_wipe(want, sizeof(want));
		return -1;
	}
	/*
	 * Authentic.  2.28 documents in-place operation for encryption
	 * only; GCTR is the same xor either way (§6.5), so "encrypt" the
	 * ciphertext and throw away the tag computed over the plaintext.
	 */
	if (mbedtls_gcm_crypt_and_tag(mbed(c), MBEDTLS_GCM_ENCRYPT, len, iv,
				      AESGCM_IV_LEN, NULL, 0, buf, buf,
				      sizeof(want), want) != 0)
		bad = 1; /* unreachable: the tag pass took the same lengths */
	crypto_wipe(want, sizeof(want));
	return bad ? -1 : 0;
}

int aesgcm_open(struct aesgcm_ctx *c, const uint8_t iv[AESGCM_IV_LEN],
		const uint8_t *aad, size_t aadlen, uint8_t *buf, size_t len,
		const uint8_t tag[AESGCM_TAG_LEN])
{
	if (c->impl == AESGCM_IMPL_NI)
		return aesgcm_ni_open(c, iv, aad, aadlen, buf, len, tag);
	if (c->impl == AESGCM_IMPL_MBED)
		return mbed_open(c, iv, aad, aadlen, buf, len, tag);
	return -1; /* never initialised */
}

void aesgcm_free(struct aesgcm_ctx *c)
{
	if (c == NULL)
		return;
	if (c->impl == AESGCM_IMPL_MBED)
		mbedtls_gcm_free(mbed(c));
	crypto_wipe(c, sizeof(*c));
}
