/*
 * ed25519.h - PureEdDSA Ed25519 (RFC 8032 §5.1), for ssh-ed25519 host and
 * user keys (RFC 8709).
 *
 * Keys are the 32-byte seed ("private key" of RFC 8032 §5.1.5) and the
 * 32-byte encoded public key; a signature is R || S, 64 bytes.
 * Key derivation and signing run in constant time in the seed and the
 * per-signature nonce; verification handles public data only.
 */
#ifndef SFTPMNT_ED25519_H
#define SFTPMNT_ED25519_H

#include <stddef.h>
#include <stdint.h>

#define ED25519_SEED_LEN 32
#define ED25519_PK_LEN 32
#define ED25519_SIG_LEN 64

/* pk = the public key of seed (RFC 8032 §5.1.5).  0, or -1 if SHA-512 is
 * unavailable; pk is written only on success. */
int ed25519_pubkey(uint8_t pk[32], const uint8_t seed[32])
	__attribute__((warn_unused_result));

/*
 * Sign m (RFC 8032 §5.1.6).  pk must be ed25519_pubkey(seed): it is hashed
 * as given, not recomputed (that would double the cost), and signing one
 * message under two different pk values for the same seed reveals the
 * secret scalar.  Check the pair once when a key is loaded.  sig may
 * overlap m; it is written only on success.  0 or -1.
 */
int ed25519_sign(uint8_t sig[64], const uint8_t *m, size_t mlen,
		 const uint8_t seed[32], const uint8_t pk[32])
	__attribute__((warn_unused_result));

/*
 * 0 if sig is a valid signature of m under pk, -1 otherwise (RFC 8032
 * §5.1.7).  Rejects S >= L and a pk or R that does not decode; checks the
 * cofactorless equation [S]B = R + [k]A, as OpenSSH does.
 */
int ed25519_verify(const uint8_t sig[64], const uint8_t *m, size_t mlen,
		   const uint8_t pk[32]) __attribute__((warn_unused_result));

#endif
