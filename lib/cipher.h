/*
 * cipher.h - the encryption and MAC algorithms of the transport (RFC 4253
 * section 6.3/6.4, RFC 5647, RFC 4344, OpenSSH PROTOCOL and
 * PROTOCOL.chacha20poly1305): name tables and the per-direction state
 * that protects packets.
 */
#ifndef SFTPMNT_CIPHER_H
#define SFTPMNT_CIPHER_H

#include <stddef.h>
#include <stdint.h>

#include "crypto/aesgcm.h"
#include "crypto/chachapoly.h"
#include "crypto/crypto.h"

enum cipher_kind {
	CIPHER_NONE = 0,
	CIPHER_CHACHAPOLY, /* chacha20-poly1305@openssh.com */
	CIPHER_AESGCM,	   /* aes*-gcm@openssh.com (RFC 5647) */
	CIPHER_AESCTR,	   /* aes*-ctr (RFC 4344) */
	CIPHER_AESCBC,	   /* aes*-cbc (legacy) */
};

struct cipher_def {
	const char *name;
	enum cipher_kind kind;
	unsigned keylen;
	unsigned ivlen;
	unsigned blocksize;
	unsigned authlen; /* AEAD tag; 0 when a MAC is used */
	int legacy;	  /* only offered when asked for by method_pref */
};

struct mac_def {
	const char *name;
	int hash;	 /* CRYPTO_SHA* */
	unsigned keylen; /* = digest length for the HMACs */
	unsigned maclen;
	int etm;	 /* encrypt-then-MAC (OpenSSH PROTOCOL 1.5) */
	int legacy;
};

extern const struct cipher_def cipher_defs[];
extern const struct mac_def mac_defs[];

const struct cipher_def *cipher_by_name(const char *name, size_t n);
const struct mac_def *mac_by_name(const char *name, size_t n);

struct comp_def;

/* The protection state of one direction. */
struct tp_dir {
	const struct cipher_def *cipher; /* NULL: no encryption yet */
	const struct mac_def *mac;	 /* NULL: none or AEAD */
	const struct comp_def *comp;	 /* NULL: none (comp.h) */
	int encrypt;
	union {
		struct chachapoly_ctx cp;
		struct aesgcm_ctx gcm;
		struct crypto_aes aes;
	} c;
	uint8_t iv[12]; /* GCM: fixed field + invocation counter */
	struct crypto_hmac hmac;
};

/* Key a direction.  0 or -1. */
int tp_dir_init(struct tp_dir *d, const struct cipher_def *c,
		const struct mac_def *m, int encrypt, const uint8_t *key,
		const uint8_t *iv, const uint8_t *mackey);
void tp_dir_free(struct tp_dir *d);

/* Block size used for padding/alignment, 8 when unencrypted. */
static inline unsigned tp_dir_block(const struct tp_dir *d)
{
	return d->cipher && d->cipher->blocksize > 8 ? d->cipher->blocksize
						     : 8;
}

/* Bytes after the packet: AEAD tag or MAC. */
static inline unsigned tp_dir_taglen(const struct tp_dir *d)
{
	if (d->cipher && d->cipher->authlen)
		return d->cipher->authlen;
	return d->mac ? d->mac->maclen : 0;
}

/* The length field travels in clear (AES-GCM, EtM MACs) or is covered
 * by its own key (chacha20-poly1305): padding then aligns only what
 * follows the length. */
static inline int tp_dir_len_apart(const struct tp_dir *d)
{
	if (!d->cipher)
		return 0;
	return d->cipher->kind == CIPHER_AESGCM ||
	       d->cipher->kind == CIPHER_CHACHAPOLY || (d->mac && d->mac->etm);
}

/* The comma-separated default list of a table (non-legacy entries). */
size_t cipher_default_list(char *out, size_t cap);
size_t mac_default_list(char *out, size_t cap);

#endif
