/*
 * knownhost.h - limits and internals of the known-hosts collection behind
 * the libssh2_knownhost_* API: the collection and the host key check in
 * knownhost.c, known_hosts lines and files in knownhost_file.c.  The
 * helpers are declared here also for the unit tests.
 *
 * The file format is OpenSSH's (sshd(8), "SSH_KNOWN_HOSTS FILE FORMAT"):
 *
 *	[@marker] hostnames keytype base64-key [comment]
 *
 * where hostnames is a comma-separated list of patterns ('*' and '?'
 * wildcards, '!' negation, "[host]:port" for a non-standard port) or one
 * hashed name "|1|base64(salt)|base64(HMAC-SHA1(salt, host))".
 */
#ifndef SFTPMNT_KNOWNHOST_H
#define SFTPMNT_KNOWNHOST_H

#include <stddef.h>
#include <stdint.h>

#include "libssh2.h"

/* Longest line readfile accepts, newline excluded.  A 16384-bit RSA key
 * is about 2,800 base64 characters; anything longer is refused. */
#define KH_LINE_MAX 16384
/* Longest single host name or pattern inside a hostnames list (DNS names
 * are at most 253 characters, "[...]:65535" adds 8). */
#define KH_NAME_MAX 1024
/* libssh2 refuses a line whose "keytype key [comment]" part is shorter. */
#define KH_KEY_MIN 20
/* Decoded salt and hash of a hashed name: OpenSSH uses 20 bytes each. */
#define KH_SALT_MAX 64
#define KH_HASH_LEN 20
/* Longest key type name (RFC 4251 §6 caps algorithm names at 64). */
#define KH_TYPE_NAME_MAX 64

/* Base64 (RFC 4648 §4) text length of n bytes, padding included. */
static inline size_t kh_b64_enclen(size_t n)
{
	return (n + 2) / 3 * 4;
}

/* Encode n bytes into out (kh_b64_enclen(n) + 1 bytes: NUL-terminated);
 * returns the text length. */
size_t kh_b64_encode(const uint8_t *in, size_t n, char *out);

/*
 * Decode n characters into out, which must hold n / 4 * 3 + 2 bytes.
 * Strict: only the alphabet, then at most two '=' making the length a
 * multiple of four.  Lenient (libssh2_base64_decode): characters outside
 * the alphabet, '=' included, are skipped.  Either way a last group of a
 * single character is refused.  0 with *outlen, or -1.
 */
int kh_b64_decode(const char *in, size_t n, uint8_t *out, size_t *outlen,
		  int strict);

/*
 * OpenSSH pattern matching, ASCII case-insensitive: '*' matches any run
 * of characters, '?' any one.  kh_glob: 1 when s matches the pattern.
 * kh_match_list: 1 when s matches a pattern of the comma-separated list
 * and no negated ("!pattern") one, -1 when a negated one matches, else 0.
 */
int kh_glob(const char *s, size_t sn, const char *pat, size_t pn);
int kh_match_list(const char *s, const char *list, size_t n);

/* ---- shared by knownhost.c and knownhost_file.c ------------------------- */

/* Stamped into every struct libssh2_knownhost we hand out. */
#define KH_MAGIC 0x6b686f73u

/* The host name format and the key type bits of a typemask. */
static inline int kh_type(int typemask)
{
	return typemask & LIBSSH2_KNOWNHOST_TYPE_MASK;
}

static inline int kh_key(int typemask)
{
	return typemask & LIBSSH2_KNOWNHOST_KEY_MASK;
}

enum kh_marker { KH_MARK_NONE, KH_MARK_CA, KH_MARK_REVOKED };

struct kh_node {
	struct libssh2_knownhost ext; /* first: get/check hand this out */
	struct kh_node *prev, *next;
	LIBSSH2_KNOWNHOSTS *owner;
	int typemask;
	enum kh_marker marker;
	char *name; /* PLAIN, CUSTOM: NUL-terminated; SHA1: hash bytes */
	size_t name_len;
	uint8_t *salt; /* SHA1 only */
	size_t salt_len;
	char *key;	 /* base64 (RSA1: "bits e n"), NUL-terminated */
	char *type_name; /* KEY_UNKNOWN from a file: its key type */
	char *comment;	 /* NULL: none */
};

struct _LIBSSH2_KNOWNHOSTS {
	LIBSSH2_SESSION *s;
	struct kh_node *head, *tail;
};

/* An entry to add, from the API or from a line of a file. */
struct kh_spec {
	const char *name; /* PLAIN/CUSTOM: text; SHA1: base64 hash */
	size_t name_len;
	const char *salt; /* SHA1: base64 */
	size_t salt_len;
	const char *key;
	size_t key_len;
	const char *type_name; /* KEY_UNKNOWN: the key type, or NULL */
	size_t type_name_len;
	const char *comment; /* NULL: none */
	size_t comment_len;
	int typemask;
	enum kh_marker marker;
	int strict; /* from a file: parse errors, clean base64 */
};

/* Add one entry at the end of the collection: 0 or an error (recorded). */
int kh_insert(LIBSSH2_KNOWNHOSTS *h, const struct kh_spec *sp,
	      struct kh_node **out);
/* Drop the entries added after mark (NULL: all). */
void kh_truncate(LIBSSH2_KNOWNHOSTS *h, struct kh_node *mark);
/* The entry behind a handle from get/check, or NULL if it is not one of
 * this collection's. */
struct kh_node *kh_from_ext(LIBSSH2_KNOWNHOSTS *h, struct libssh2_knownhost *e);
/* A bad field: LIBSSH2_ERROR_METHOD_NOT_SUPPORTED (libssh2's code for a
 * line it cannot parse) from a file, LIBSSH2_ERROR_INVAL from the API. */
int kh_bad(LIBSSH2_KNOWNHOSTS *h, const struct kh_spec *sp, const char *what);

#endif
