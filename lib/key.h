/*
 * key.h - private keys for user authentication, loaded from the contents
 * of a key file, and their public counterparts.
 *
 * Private-key files: OpenSSH's own format (PROTOCOL.key, "BEGIN OPENSSH
 * PRIVATE KEY"), plain or encrypted with bcrypt_pbkdf and aes128/192/
 * 256-ctr, aes128/192/256-cbc, aes128/256-gcm@openssh.com or
 * chacha20-poly1305@openssh.com; and OpenSSL's PEM files: PKCS#1 ("RSA
 * PRIVATE KEY"), SEC1 ("EC PRIVATE KEY"), PKCS#8 ("PRIVATE KEY",
 * "ENCRYPTED PRIVATE KEY"), including OpenSSL's encrypted PEM headers.
 * Key types: ssh-ed25519 (RFC 8709), ecdsa-sha2-nistp256/384/521 (RFC
 * 5656) and ssh-rsa (RFC 4253 §6.6; signing with rsa-sha2-256/512 of RFC
 * 8332 or SHA-1).  DSA and security-key (sk-*) keys are refused.
 *
 * Every key is checked when loaded: the private part must produce the
 * public part (an Ed25519 signature made with a wrong public key gives
 * the secret scalar away), and the public key stored in an OpenSSH file
 * must be the one the private part produces.
 *
 * Errors (negative LIBSSH2_ERROR_*, with *why saying more):
 *	LIBSSH2_ERROR_KEYFILE_AUTH_FAILED  wrong passphrase ("wrong
 *		passphrase"), or encrypted and none given ("passphrase
 *		required")
 *	LIBSSH2_ERROR_FILE                 corrupt, truncated or not a key
 *	LIBSSH2_ERROR_METHOD_NOT_SUPPORTED key type, curve, cipher or KDF
 *		we do not implement
 *	LIBSSH2_ERROR_ALLOC                out of memory
 */
#ifndef SFTPMNT_KEY_H
#define SFTPMNT_KEY_H

#include <stddef.h>
#include <stdint.h>

#include "alloc.h"

/* Largest key file we read (a 16384-bit RSA key is about 13 KiB). */
#define KEY_FILE_MAX (256u * 1024)
/*
 * Most bcrypt rounds we run for an OpenSSH key (ssh-keygen -a; the
 * default is 16).  About 4 ms each per 32 bytes of key and IV on a
 * current x86-64, so the cap is a few minutes of work, not hours.
 */
#define KEY_KDF_MAX_ROUNDS 20000u
/* Longest bcrypt salt in an OpenSSH key (ssh-keygen writes 16 bytes). */
#define KEY_KDF_MAX_SALT 1024u
/* Longest comment kept (OpenSSH's are a line of text). */
#define KEY_COMMENT_MAX 4096u
/* Longest public key blob (16384-bit RSA, RFC 4253 §6.6) and signature. */
#define KEY_BLOB_MAX 4096u
#define KEY_SIG_MAX  4096u

enum key_type {
	KEY_ED25519 = 1,
	KEY_ECDSA_P256,
	KEY_ECDSA_P384,
	KEY_ECDSA_P521,
	KEY_RSA,
	KEY_SK_ED25519,	   /* key_load_sk only */
	KEY_SK_ECDSA_P256, /* key_load_sk only */
};

/* Longest application string and key handle of a security key. */
#define KEY_SK_APP_MAX 1024u
#define KEY_SK_HANDLE_MAX 4096u

/* Opaque: type, public blob, comment and the private parts (wiped on
 * free). */
struct key;

/*
 * Load the private key in data[0..len), a key file's contents.
 * passphrase may be NULL or "" for none.  On success *out is the key (free
 * it with key_free); on failure *why (if why is not NULL) points to a
 * static message.  Never reads beyond len; data need not be terminated.
 */
int key_load_private(const struct lalloc *a, const char *data, size_t len,
		     const char *passphrase, struct key **out, const char **why)
	__attribute__((warn_unused_result));

/*
 * A security key file (OpenSSH PROTOCOL.u2f: sk-ssh-ed25519@openssh.com,
 * sk-ecdsa-sha2-nistp256@openssh.com), which key_load_private refuses:
 * the key's public blob, application, flags and key handle, for an
 * authenticator to sign with (key_sign cannot).  LIBSSH2_ERROR_FILE for
 * other key types.
 */
int key_load_sk(const struct lalloc *a, const char *data, size_t len,
		const char *passphrase, struct key **out, const char **why)
	__attribute__((warn_unused_result));
/* The application (app[0..applen), no NUL inside, not terminated),
 * flags and key handle of a key from key_load_sk, owned by k. */
int key_sk_info(const struct key *k, const char **app, size_t *applen,
		uint8_t *flags, const uint8_t **handle, size_t *handlelen);

/* Does the first armour in data[0..len) open an OpenSSH key file
 * ("-----BEGIN OPENSSH PRIVATE KEY-----")?  1 or 0; nothing is decoded. */
int key_is_openssh(const char *data, size_t len);

/* The public key blob (RFC 4253 §6.6 wire format), owned by k. */
int key_public_blob(const struct key *k, const uint8_t **blob, size_t *len);

/*
 * Sign data with k for the signature algorithm sigalg (NULL: the key's
 * own type name, "ssh-rsa" meaning SHA-1 for RSA keys).  *sig receives a
 * signature blob allocated with a (free with la_free):
 *	string sigalg, string signature
 * where the signature is R || S for ssh-ed25519 (RFC 8709 §6), mpint r,
 * mpint s for ecdsa-sha2-* (RFC 5656 §3.1.2) and the PKCS#1 v1.5
 * signature as long as the modulus for RSA (RFC 8332 §3).  sigalg must
 * suit the key (LIBSSH2_ERROR_METHOD_NOT_SUPPORTED otherwise).
 */
int key_sign(const struct key *k, const char *sigalg, const uint8_t *data,
	     size_t len, const struct lalloc *a, uint8_t **sig, size_t *siglen)
	__attribute__((warn_unused_result));

/*
 * Is blob (from key_parse_public) k's public blob (*cert = 0) or an
 * OpenSSH certificate of k's public key (*cert = 1)?  0 if so, else
 * LIBSSH2_ERROR_PUBLICKEY_UNVERIFIED.  Bounds-checked; the certificate's
 * other fields are left for the server to judge.
 */
int key_public_matches(const struct key *k, const uint8_t *blob, size_t len,
		       int *cert) __attribute__((warn_unused_result));

/* "ssh-ed25519", "ecdsa-sha2-nistp256" (384, 521) or "ssh-rsa". */
const char *key_type_name(const struct key *k);
enum key_type key_type(const struct key *k);
/* The comment stored with the key ("" if none; PEM files have none). */
const char *key_comment(const struct key *k);

/* Wipes the private parts and frees k; NULL is a no-op. */
void key_free(const struct lalloc *a, struct key *k);

/*
 * Parse a public key file ("ssh-ed25519 AAAA... comment", the first line
 * that is not empty or a # comment) into its blob, checked like the blob
 * of a private key file; the type before the base64 must be the one the
 * blob names.  *blob is allocated with a; *comment too, if comment is not
 * NULL ("" if the line has none).  OpenSSH certificates
 * (*-cert-v01@openssh.com) are returned with only their type checked.
 */
int key_parse_public(const struct lalloc *a, const char *data, size_t len,
		     uint8_t **blob, size_t *bloblen, char **comment,
		     const char **why) __attribute__((warn_unused_result));

#endif
