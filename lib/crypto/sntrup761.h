/*
 * sntrup761.h - the Streamlined NTRU Prime KEM sntrup761 (p = 761,
 * q = 4591, w = 286), as specified in the NTRU Prime round-3 submission
 * and draft-josefsson-ntruprime-streamlined, bit-exact with the SUPERCOP
 * and OpenSSH implementations (its keys and ciphertexts go on the wire in
 * sntrup761x25519-sha512@openssh.com, lib/kex_sntrup.c).
 *
 * Everything that touches secret data runs in constant time: no branch
 * and no memory index depends on a secret, no division instruction sees
 * one (the key generation loop only learns whether a discarded random g
 * was invertible).
 */
#ifndef SFTPMNT_SNTRUP761_H
#define SFTPMNT_SNTRUP761_H

#include <stddef.h>
#include <stdint.h>

#define SNTRUP761_P 761
#define SNTRUP761_Q 4591
#define SNTRUP761_W 286

#define SNTRUP761_PUBLICKEY_LEN	 1158 /* Encode(h) over R/q */
#define SNTRUP761_SECRETKEY_LEN	 1763 /* f, 1/g, pk, rho, Hash4(pk) */
#define SNTRUP761_CIPHERTEXT_LEN 1039 /* Encode(Round(hr)), confirm */
#define SNTRUP761_SHARED_LEN	 32
#define SNTRUP761_ROUNDED_LEN	 1007 /* the ciphertext without confirm */

/*
 * Where randomness comes from: fill buf with n bytes, 0 or -1.  NULL
 * means crypto_random().  The known-answer tests pass the NIST KAT
 * generator.  The draws are those of the reference code, in its order:
 * key generation takes 4p bytes per candidate g, 4p for f, then 191 for
 * rho; encapsulation takes 4p for r.
 */
typedef int (*sntrup761_rng)(void *ctx, void *buf, size_t n);

/* A key pair.  0, or -1 when the random source failed. */
int sntrup761_keypair(uint8_t pk[SNTRUP761_PUBLICKEY_LEN],
		      uint8_t sk[SNTRUP761_SECRETKEY_LEN], sntrup761_rng rng,
		      void *ctx) __attribute__((warn_unused_result));

/* A ciphertext and its shared key for pk.  0 or -1 (random source). */
int sntrup761_enc(uint8_t ct[SNTRUP761_CIPHERTEXT_LEN],
		  uint8_t k[SNTRUP761_SHARED_LEN],
		  const uint8_t pk[SNTRUP761_PUBLICKEY_LEN], sntrup761_rng rng,
		  void *ctx) __attribute__((warn_unused_result));

/*
 * The shared key of ct.  Any ct of the right length is accepted: one
 * that does not re-encrypt to itself yields a pseudo-random key derived
 * from the secret rho ("implicit rejection"), so the caller learns
 * nothing and the two sides simply end up with different keys.  0, or -1
 * only if SHA-512 is unavailable.
 */
int sntrup761_dec(uint8_t k[SNTRUP761_SHARED_LEN],
		  const uint8_t ct[SNTRUP761_CIPHERTEXT_LEN],
		  const uint8_t sk[SNTRUP761_SECRETKEY_LEN])
	__attribute__((warn_unused_result));

/* ---- internals, exported for the unit tests ------------------------------ */

/* Encode / Decode of the specification on R/q (coefficients in
 * [-(q-1)/2, (q-1)/2]) and on rounded elements (multiples of 3 in that
 * range).  Decode accepts any bytes and always yields coefficients in
 * range. */
void sntrup761_rq_encode(uint8_t out[SNTRUP761_PUBLICKEY_LEN],
			 const int16_t r[SNTRUP761_P]);
void sntrup761_rq_decode(int16_t r[SNTRUP761_P],
			 const uint8_t in[SNTRUP761_PUBLICKEY_LEN]);
void sntrup761_rounded_encode(uint8_t out[SNTRUP761_ROUNDED_LEN],
			      const int16_t r[SNTRUP761_P]);
void sntrup761_rounded_decode(int16_t r[SNTRUP761_P],
			      const uint8_t in[SNTRUP761_ROUNDED_LEN]);

/* Ascending sort of n words by a fixed comparator network. */
void sntrup761_sort_u32(uint32_t *x, size_t n);

/* x / m and x mod m for 1 <= m < 2^14, without dividing x. */
void sntrup761_divmod(uint32_t *quot, uint32_t *rem, uint32_t x, uint32_t m);

#endif
