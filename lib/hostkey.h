/*
 * hostkey.h - SSH public key blobs and signature blobs: ssh-ed25519
 * (RFC 8709), ecdsa-sha2-nistp256/384/521 (RFC 5656), rsa-sha2-256/512
 * (RFC 8332) and ssh-rsa (RFC 4253 §6.6).  DSA is not supported.
 */
#ifndef SFTPMNT_HOSTKEY_H
#define SFTPMNT_HOSTKEY_H

#include <stddef.h>
#include <stdint.h>

/*
 * Longest algorithm or curve name inside a blob.  The longest we know
 * is 19 bytes; RFC 4251 §6 caps algorithm names at 64 characters.
 */
#define HOSTKEY_NAME_MAX 64

/*
 * LIBSSH2_HOSTKEY_TYPE_* for the key type named at the start of a public
 * key blob (RFC 4253 §6.6); LIBSSH2_HOSTKEY_TYPE_UNKNOWN for a name we do
 * not support or a blob too short to hold one.  Only the name is looked
 * at: hostkey_verify checks the rest.
 */
int hostkey_type(const uint8_t *blob, size_t len);

/*
 * Verify the signature blob sig over data with the public key blob, for
 * the negotiated host key algorithm sigalg (e.g. the exchange hash H of
 * RFC 4253 §8).  The key's type must be of sigalg's family ("ssh-rsa"
 * keys for rsa-sha2-*), the signature blob must name sigalg itself, and
 * both blobs must be consumed exactly.
 *
 * Returns 0 for a valid signature, LIBSSH2_ERROR_HOSTKEY_SIGN for an
 * invalid or malformed signature, LIBSSH2_ERROR_HOSTKEY_INIT for a key
 * blob that is malformed, of another family, or a key we refuse (e.g. RSA
 * under 1024 bits, an ECDSA point off its curve), and
 * LIBSSH2_ERROR_ALGO_UNSUPPORTED for an unknown sigalg.
 */
int hostkey_verify(const char *sigalg, const uint8_t *blob, size_t bloblen,
		   const uint8_t *sig, size_t siglen, const uint8_t *data,
		   size_t datalen);

#endif
