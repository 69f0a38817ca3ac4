/*
 * fuzz_keyfile.c - private key files (key_load_private: OpenSSH's format
 * plain and encrypted, PEM PKCS#1 / SEC1 / PKCS#8, OpenSSL's encrypted
 * PEM) and public key lines (key_parse_public) with arbitrary contents,
 * each private key with no passphrase and with "fuzzed" (the passphrase
 * of the encrypted seeds).
 *
 * A key that loads must sign, and its signature must verify with its own
 * public blob (hostkey_verify), for every signature algorithm of its
 * type: a loader that accepted a private part not matching the public
 * one would fail here.  The KDFs run at most FUZZ_KDF_ROUNDS rounds
 * (fuzz_common.c), so encrypted seeds are made with -a 1 / -iter 1.
 */
#include <string.h>

#include "fuzz.h"
#include "hostkey.h"
#include "key.h"
#include "libssh2.h"

static void sign_verify(const struct key *k, const char *alg)
{
	static const uint8_t msg[] = "exchange hash";
	const uint8_t *blob;
	uint8_t *sig = NULL;
	size_t bloblen, siglen = 0;

	if (key_public_blob(k, &blob, &bloblen) ||
	    hostkey_type(blob, bloblen) == LIBSSH2_HOSTKEY_TYPE_UNKNOWN)
		__builtin_trap();
	if (key_sign(k, alg, msg, sizeof(msg), &lalloc_system, &sig, &siglen))
		__builtin_trap();
	if (hostkey_verify(alg, blob, bloblen, sig, siglen, msg, sizeof(msg)))
		__builtin_trap();
	la_free(&lalloc_system, sig);
}

static void load(const uint8_t *data, size_t size, const char *pass)
{
	struct key *k = NULL;
	const char *why = NULL;
	int rc;

	rc = key_load_private(&lalloc_system, (const char *)data, size, pass,
			      &k, &why);
	if (rc) {
		if (!why || k ||
		    (rc != LIBSSH2_ERROR_FILE &&
		     rc != LIBSSH2_ERROR_KEYFILE_AUTH_FAILED &&
		     rc != LIBSSH2_ERROR_METHOD_NOT_SUPPORTED &&
		     rc != LIBSSH2_ERROR_ALLOC))
			__builtin_trap();
		return;
	}
	if (!key_comment(k) || !key_type_name(k))
		__builtin_trap();
	if (key_type(k) == KEY_RSA) {
		sign_verify(k, "rsa-sha2-256");
		sign_verify(k, "rsa-sha2-512");
		sign_verify(k, "ssh-rsa");
	} else {
		sign_verify(k, key_type_name(k));
	}
	key_free(&lalloc_system, k);
}

FUZZ_TARGET(keyfile)
{
	uint8_t *blob = NULL;
	char *comment = NULL;
	const char *why = NULL;
	size_t bloblen = 0;

	fuzz_reset();
	load(data, size, NULL);
	load(data, size, "fuzzed");
	if (key_parse_public(&lalloc_system, (const char *)data, size, &blob,
			     &bloblen, &comment, &why) == 0) {
		if (!blob || !comment)
			__builtin_trap();
		hostkey_type(blob, bloblen);
		la_free(&lalloc_system, blob);
		la_free(&lalloc_system, comment);
	} else if (!why || blob) {
		__builtin_trap();
	}
	return 0;
}
