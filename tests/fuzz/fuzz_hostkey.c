/*
 * fuzz_hostkey.c - public key blobs and signature blobs (lib/hostkey.c):
 * hostkey_type and hostkey_verify on arbitrary blobs, for every host key
 * algorithm we negotiate.
 *
 * Input: byte 0 picks the algorithm (an unknown one too), then the key
 * blob and the signature blob as 16-bit-length pieces; the rest is the
 * signed data (the exchange hash H in a key exchange).  The seeds are
 * real ones from OpenSSH (tests/fuzz/capture.c), valid signatures over
 * their H, so mutations start from keys and signatures that verify.
 */
#include "fuzz.h"
#include "hostkey.h"
#include "libssh2.h"

static const char *const algs[] = {
	"ssh-ed25519",
	"ecdsa-sha2-nistp256",
	"ecdsa-sha2-nistp384",
	"ecdsa-sha2-nistp521",
	"rsa-sha2-256",
	"rsa-sha2-512",
	"ssh-rsa",
	"ssh-dss",
};

FUZZ_TARGET(hostkey)
{
	struct fz f = {data, size};
	const char *alg = algs[fz_u8(&f) % (sizeof(algs) / sizeof(algs[0]))];
	const uint8_t *blob, *sig, *msg;
	size_t bloblen, siglen, msglen;
	int rc, type;

	fuzz_reset();
	blob = fz_piece(&f, &bloblen);
	sig = fz_piece(&f, &siglen);
	msg = fz_take(&f, f.n, &msglen);
	type = hostkey_type(blob, bloblen);
	rc = hostkey_verify(alg, blob, bloblen, sig, siglen, msg, msglen);
	if (rc != 0 && rc != LIBSSH2_ERROR_HOSTKEY_SIGN &&
	    rc != LIBSSH2_ERROR_HOSTKEY_INIT &&
	    rc != LIBSSH2_ERROR_ALGO_UNSUPPORTED)
		__builtin_trap();
	/* a key that verified anything is of a type we know */
	if (rc == 0 && type == LIBSSH2_HOSTKEY_TYPE_UNKNOWN)
		__builtin_trap();
	return 0;
}
