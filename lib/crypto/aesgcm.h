/*
 * aesgcm.h - AES-128/256-GCM for aes{128,256}-gcm@openssh.com.
 *
 * RFC 5647 §7.1: the 12-byte nonce is a 4-byte fixed field followed by an
 * 8-byte big-endian invocation counter; the caller derives it from the
 * key exchange and increments the counter after every packet.  §7.3: the
 * 4-byte packet length is the additional authenticated data and travels
 * in the clear; the tag is 16 bytes.  Wire layout of one packet:
 *
 *	uint32    packet_length     AAD, not encrypted
 *	byte[n]   padding_length || payload || padding     encrypted
 *	byte[16]  tag
 *
 * Two implementations sit behind this interface: AES-NI with PCLMULQDQ
 * (aesgcm_ni.c, eight blocks in flight, GHASH aggregated over eight
 * blocks with one reduction) and mbedTLS's GCM when the CPU lacks those
 * instructions.  The choice is made once, at the first aesgcm_init();
 * SFTPMNT_CRYPTO_PORTABLE=1 in the environment forces mbedTLS.  There is
 * deliberately no table-driven AES of our own: its lookups would be
 * indexed by secret data.
 */
#ifndef SFTPMNT_AESGCM_H
#define SFTPMNT_AESGCM_H

#include <stddef.h>
#include <stdint.h>

#define AESGCM_IV_LEN	  12
#define AESGCM_TAG_LEN	  16
#define AESGCM_BLOCK	  16
#define AESGCM_MAX_ROUNDS 14  /* AES-256, FIPS-197 §5 */
#define AESGCM_HPOWERS	  8   /* blocks folded per GHASH reduction */
#define AESGCM_MBED_SIZE  768 /* >= sizeof(mbedtls_gcm_context), checked */

enum aesgcm_impl_id {
	AESGCM_IMPL_NONE = 0,
	AESGCM_IMPL_NI,	  /* "aesni-pclmul" */
	AESGCM_IMPL_MBED, /* "mbedtls" */
};

/*
 * One key, one direction.  Fixed size and stack- or struct-allocatable;
 * aesgcm_free() wipes it.  The mbedTLS fallback keeps its context in
 * mbed[] (mbedTLS 2.28 still allocates the AES context it points to).
 */
struct aesgcm_ctx {
	union {
		struct {
			/* encryption round keys, FIPS-197 §5.2 */
			_Alignas(16) uint8_t rk[(AESGCM_MAX_ROUNDS + 1) * 16];
			/* H^1..H^8, byte-reversed and shifted for the
			 * Montgomery-style reduction (aesgcm_ni.c) */
			_Alignas(16) uint8_t hpow[AESGCM_HPOWERS * 16];
		} ni;
		_Alignas(16) unsigned char mbed[AESGCM_MBED_SIZE];
	} u;
	int rounds;
	int impl; /* enum aesgcm_impl_id this key was set up for */
};

/* keylen is 16 or 32.  0 or -1 (bad length, allocation failure). */
int aesgcm_init(struct aesgcm_ctx *c, const uint8_t *key, size_t keylen)
	__attribute__((warn_unused_result));

/* Encrypt buf in place and write the tag.  NIST SP 800-38D §7.1. */
void aesgcm_seal(struct aesgcm_ctx *c, const uint8_t iv[AESGCM_IV_LEN],
		 const uint8_t *aad, size_t aadlen, uint8_t *buf, size_t len,
		 uint8_t tag[AESGCM_TAG_LEN]);

/*
 * Check the tag in constant time first; only if it matches decrypt buf in
 * place.  0, or -1 with buf untouched.  NIST SP 800-38D §7.2.
 */
int aesgcm_open(struct aesgcm_ctx *c, const uint8_t iv[AESGCM_IV_LEN],
		const uint8_t *aad, size_t aadlen, uint8_t *buf, size_t len,
		const uint8_t tag[AESGCM_TAG_LEN])
	__attribute__((warn_unused_result));

/* Wipe the key material; a zeroed or already freed ctx is fine. */
void aesgcm_free(struct aesgcm_ctx *c);

/* "aesni-pclmul" or "mbedtls": what the next aesgcm_init() will use. */
const char *aesgcm_impl(void);

/*
 * For tests and benchmarks: pin the implementation used by later
 * aesgcm_init() calls ("aesni-pclmul" or "mbedtls"), or NULL to go back
 * to automatic selection.  -1 for an unknown name or one this CPU cannot
 * run.  Contexts already set up keep the implementation they were set up
 * with.
 */
int aesgcm_set_impl(const char *name);

/* ---- internal to lib/crypto: the AES-NI/PCLMULQDQ back end ------------ */

/* 1 when the CPU has AES-NI and PCLMULQDQ (and SSE4.1). */
int aesgcm_ni_supported(void);
/* Expand the key and precompute the GHASH powers; sets c->rounds. */
void aesgcm_ni_init(struct aesgcm_ctx *c, const uint8_t *key, size_t keylen);
void aesgcm_ni_seal(const struct aesgcm_ctx *c, const uint8_t iv[12],
		    const uint8_t *aad, size_t aadlen, uint8_t *buf, size_t len,
		    uint8_t tag[16]);
int aesgcm_ni_open(const struct aesgcm_ctx *c, const uint8_t iv[12],
		   const uint8_t *aad, size_t aadlen, uint8_t *buf, size_t len,
		   const uint8_t tag[16]);

#endif
