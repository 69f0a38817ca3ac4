/*
 * cipher.c - cipher and MAC tables, per-direction keying.
 */
#include "cipher.h"

#include <string.h>

/* Default preference order: the two AEADs first (our fast paths), then
 * CTR with an EtM MAC.  CBC only on request (RFC 4344 section 4 and the
 * plaintext-recovery attacks on CBC in SSH). */
const struct cipher_def cipher_defs[] = {
	{ "chacha20-poly1305@openssh.com", CIPHER_CHACHAPOLY, 64, 0, 8, 16, 0 },
	{ "aes128-gcm@openssh.com", CIPHER_AESGCM, 16, 12, 16, 16, 0 },
	{ "aes256-gcm@openssh.com", CIPHER_AESGCM, 32, 12, 16, 16, 0 },
	{ "aes128-ctr", CIPHER_AESCTR, 16, 16, 16, 0, 0 },
	{ "aes192-ctr", CIPHER_AESCTR, 24, 16, 16, 0, 0 },
	{ "aes256-ctr", CIPHER_AESCTR, 32, 16, 16, 0, 0 },
	{ "aes128-cbc", CIPHER_AESCBC, 16, 16, 16, 0, 1 },
	{ "aes192-cbc", CIPHER_AESCBC, 24, 16, 16, 0, 1 },
	{ "aes256-cbc", CIPHER_AESCBC, 32, 16, 16, 0, 1 },
	{ NULL, CIPHER_NONE, 0, 0, 0, 0, 0 },
};

const struct mac_def mac_defs[] = {
	{ "hmac-sha2-256-etm@openssh.com", CRYPTO_SHA256, 32, 32, 1, 0 },
	{ "hmac-sha2-512-etm@openssh.com", CRYPTO_SHA512, 64, 64, 1, 0 },
	{ "hmac-sha2-256", CRYPTO_SHA256, 32, 32, 0, 0 },
	{ "hmac-sha2-512", CRYPTO_SHA512, 64, 64, 0, 0 },
	{ "hmac-sha1-etm@openssh.com", CRYPTO_SHA1, 20, 20, 1, 0 },
	{ "hmac-sha1", CRYPTO_SHA1, 20, 20, 0, 0 },
	{ NULL, 0, 0, 0, 0, 0 },
};

const struct cipher_def *cipher_by_name(const char *name, size_t n)
{
	const struct cipher_def *c;

	for (c = cipher_defs; c->name; c++)
		if (strlen(c->name) == n && !memcmp(c->name, name, n))
			return c;
	return NULL;
}

const struct mac_def *mac_by_name(const char *name, size_t n)
{
	const struct mac_def *m;

	for (m = mac_defs; m->name; m++)
		if (strlen(m->name) == n && !memcmp(m->name, name, n))
			return m;
	return NULL;
}

static size_t join(char *out, size_t cap, const char *name, size_t used)
{
	size_t n = strlen(name);

	if (used + (used ? 1 : 0) + n + 1 > cap)
		return used;
	if (used)
		out[used++] = ',';
	memcpy(out + used, name, n);
	used += n;
	out[used] = '\0';
	return used;
}

size_t cipher_default_list(char *out, size_t cap)
{
	const struct cipher_def *c;
	size_t used = 0;

	if (cap)
		out[0] = '\0';
	for (c = cipher_defs; c->name; c++)
		if (!c->legacy)
			used = join(out, cap, c->name, used);
	return used;
}

size_t mac_default_list(char *out, size_t cap)
{
	const struct mac_def *m;
	size_t used = 0;

	if (cap)
		out[0] = '\0';
	for (m = mac_defs; m->name; m++)
		if (!m->legacy)
			used = join(out, cap, m->name, used);
	return used;
}

int tp_dir_init(struct tp_dir *d, const struct cipher_def *c,
		const struct mac_def *m, int encrypt, const uint8_t *key,
		const uint8_t *iv, const uint8_t *mackey)
{
	tp_dir_free(d);
	d->encrypt = encrypt;
	switch (c->kind) {
	case CIPHER_CHACHAPOLY:
		chachapoly_init(&d->c.cp, key);
		m = NULL;
		break;
	case CIPHER_AESGCM:
		if (aesgcm_init(&d->c.gcm, key, c->keylen))
			return -1;
		memcpy(d->iv, iv, 12);
		m = NULL;
		break;
	case CIPHER_AESCTR:
		if (crypto_aes_init(&d->c.aes, CRYPTO_AES_CTR, key, c->keylen,
				    iv))
			return -1;
		break;
	case CIPHER_AESCBC:
		if (crypto_aes_init(&d->c.aes,
				    encrypt ? CRYPTO_AES_CBC_ENC
					    : CRYPTO_AES_CBC_DEC,
				    key, c->keylen, iv))
			return -1;
		break;
	default:
		return -1;
	}
	if (m && crypto_hmac_init(&d->hmac, m->hash, mackey, m->keylen)) {
		tp_dir_free(d);
		return -1;
	}
	d->cipher = c;
	d->mac = m;
	return 0;
}

void tp_dir_free(struct tp_dir *d)
{
	if (d->cipher) {
		switch (d->cipher->kind) {
		case CIPHER_CHACHAPOLY:
			chachapoly_free(&d->c.cp);
			break;
		case CIPHER_AESGCM:
			aesgcm_free(&d->c.gcm);
			break;
		case CIPHER_AESCTR:
		case CIPHER_AESCBC:
			crypto_aes_free(&d->c.aes);
			break;
		default:
			break;
		}
	}
	crypto_wipe(d, sizeof(*d));
}
