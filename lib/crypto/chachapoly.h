/*
 * chachapoly.h - chacha20-poly1305@openssh.com, as OpenSSH's
 * PROTOCOL.chacha20poly1305 defines it.
 *
 * The 64-byte key from the key exchange is two ChaCha20 keys: the first 32
 * bytes are K_2 (payload and Poly1305 key), the last 32 are K_1 (packet
 * length only).  The nonce of both instances is the packet sequence
 * number as a 64-bit big-endian value; the block counter is 64 bits.
 *
 *	K_1, block 0, bytes 0..3      xor the uint32 packet_length
 *	K_2, block 0, bytes 0..31     the one-time Poly1305 key
 *	K_2, blocks 1...              xor padding_length || payload || padding
 *	tag = Poly1305(enc(packet_length) || enc(body))          16 bytes
 *
 * ChaCha20 runs eight blocks at a time with AVX2 or four with SSE2
 * (chachapoly_fast.c) and falls back to portable C (chachapoly.c), which
 * is also the reference the others are tested against.  Poly1305 uses
 * 44-bit limbs and 128-bit products in the fast paths and 26-bit limbs in
 * the portable one.  The choice is made once; SFTPMNT_CRYPTO_PORTABLE=1
 * in the environment forces the portable code.
 */
#ifndef SFTPMNT_CHACHAPOLY_H
#define SFTPMNT_CHACHAPOLY_H

#include <stddef.h>
#include <stdint.h>

#define CHACHAPOLY_KEY_LEN   64
#define CHACHAPOLY_TAG_LEN   16
#define CHACHAPOLY_LEN_BYTES 4 /* the encrypted packet_length field */
#define CHACHA20_BLOCK	     64

enum chachapoly_impl_id {
	CHACHAPOLY_IMPL_NONE = 0,
	CHACHAPOLY_IMPL_AVX2,	  /* "avx2" */
	CHACHAPOLY_IMPL_SSE2,	  /* "sse2" */
	CHACHAPOLY_IMPL_PORTABLE, /* "portable" */
};

/* Both keys as ChaCha20 key words (little-endian, RFC 8439 §2.3). */
struct chachapoly_ctx {
	uint32_t main_key[8];	/* K_2 */
	uint32_t header_key[8]; /* K_1 */
};

void chachapoly_init(struct chachapoly_ctx *c,
		     const uint8_t key[CHACHAPOLY_KEY_LEN]);

/* Decrypt only the packet_length field, so the caller can size a read. */
void chachapoly_length(const struct chachapoly_ctx *c, uint32_t seqnr,
		       const uint8_t enc[4], uint8_t out[4]);

/*
 * pkt is packet_length || body, len counts both (len >= 4); encrypted in
 * place, the tag is written to tag.
 */
void chachapoly_seal(const struct chachapoly_ctx *c, uint32_t seqnr,
		     uint8_t *pkt, size_t len, uint8_t tag[CHACHAPOLY_TAG_LEN]);

/*
 * Check the tag over the encrypted pkt in constant time first; on a match
 * decrypt length and body in place and return 0.  -1 leaves pkt as it
 * was.
 */
int chachapoly_open(const struct chachapoly_ctx *c, uint32_t seqnr,
		    uint8_t *pkt, size_t len,
		    const uint8_t tag[CHACHAPOLY_TAG_LEN])
	__attribute__((warn_unused_result));

void chachapoly_free(struct chachapoly_ctx *c);

/* "avx2", "sse2" or "portable": the implementation in use. */
const char *chachapoly_impl(void);

/*
 * For tests and benchmarks: pin the implementation by name, or NULL for
 * automatic selection.  -1 for an unknown name or one this CPU lacks.
 */
int chachapoly_set_impl(const char *name);

/* ---- internal to lib/crypto, exposed for the known-answer tests ------- */

/*
 * One ChaCha20 block (RFC 8439 §2.3).  in[] is the last four state words
 * as 16 little-endian bytes: for RFC 8439 the 32-bit counter and 96-bit
 * nonce, for OpenSSH the 64-bit counter and 64-bit nonce.
 */
void chacha20_block(const uint8_t key[32], const uint8_t in[16],
		    uint8_t out[CHACHA20_BLOCK]);

/* Poly1305 (RFC 8439 §2.5) with the implementation in use. */
void poly1305_mac(const uint8_t key[32], const uint8_t *m, size_t n,
		  uint8_t tag[16]);

/*
 * Back ends.  st[] is a full ChaCha20 input state; the keystream from
 * block st[12] on is xored into p[0..n).  The counter is word 12 alone
 * and wraps at 2^32 blocks (256 GiB), far beyond an SSH packet.
 */
void chacha20_xor_portable(const uint32_t st[16], uint8_t *p, size_t n);
void poly1305_mac_portable(const uint8_t key[32], const uint8_t *m, size_t n,
			   uint8_t tag[16]);

int chacha20_sse2_supported(void);
int chacha20_avx2_supported(void);
int poly1305_64_supported(void);
void chacha20_xor_sse2(const uint32_t st[16], uint8_t *p, size_t n);
void chacha20_xor_avx2(const uint32_t st[16], uint8_t *p, size_t n);
void poly1305_mac_64(const uint8_t key[32], const uint8_t *m, size_t n,
		     uint8_t tag[16]);

#endif
