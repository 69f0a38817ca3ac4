/*
 * x25519.h - the X25519 function of RFC 7748 §5 (Curve25519 Diffie-Hellman
 * for curve25519-sha256 key exchange, RFC 8731).
 *
 * Both functions run in constant time in the scalar.
 */
#ifndef SFTPMNT_X25519_H
#define SFTPMNT_X25519_H

#include <stdint.h>

#define X25519_KEY_LEN 32

/*
 * out = scalar * point, u-coordinates encoded as in RFC 7748 §5.  The
 * scalar is clamped here; the top bit of point is ignored and
 * non-canonical point values are accepted, as §5 requires.
 *
 * Returns 0, or -1 when the result is all zero because point has small
 * order: RFC 7748 §6.1 says to abort then, and RFC 8731 §3 requires
 * the check for SSH.  out is written either way.
 */
int x25519(uint8_t out[32], const uint8_t scalar[32], const uint8_t point[32])
	__attribute__((warn_unused_result));

/* out = scalar * 9, the public key for a private scalar; 0 or -1. */
int x25519_base(uint8_t out[32], const uint8_t scalar[32])
	__attribute__((warn_unused_result));

#endif
