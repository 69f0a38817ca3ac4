/*
 * key.c - private-key files, public-key files and signing (see key.h).
 *
 * Every private key, whatever file it came from, ends up as the private
 * key encoding of OpenSSH PROTOCOL.key §3 (OpenSSH files carry it; for
 * PEM files crypto/pkey.c writes it), and key_decode() below is the one
 * place that reads and checks it.  The struct key keeps a copy of that
 * encoding; the fields of the union point into the copy.
 */
#define _GNU_SOURCE /* memmem */
#include "key.h"

#include <string.h>

#include "libssh2.h"

#include "buf.h"
#include "crypto/aesgcm.h"
#include "crypto/bcrypt_pbkdf.h"
#include "crypto/crypto.h"
#include "crypto/ed25519.h"
#include "crypto/pk.h"
#include "crypto/pkey.h"

/* Longest key type, curve, cipher or KDF name (RFC 4251 §6: 64). */
#define KEY_NAME_MAX 64
/* Longest private key encoding: a 16384-bit RSA key has n and d of 2 KiB
 * and p, q, iqmp of 1 KiB, plus lengths. */
#define KEY_PRIV_MAX (8u * 1024 + 256)
/* Longest kdfoptions string: string salt, uint32 rounds. */
#define KEY_KDFOPT_MAX (4 + KEY_KDF_MAX_SALT + 4)
/* Largest RSA modulus we sign with (pk.h: mbedTLS's private operation
 * stops at 8192 bits). */
#define KEY_RSA_SIGN_MAX_LEN (8192 / 8)
/* Key and IV bytes of the largest key-file cipher (chacha20: 64 + 0). */
#define KEY_KEYIV_MAX 64

#define OPENSSH_MAGIC "openssh-key-v1" /* PROTOCOL.key §1, NUL included */
#define PEM_BEGIN     "-----BEGIN "
#define PEM_DASHES    "-----"
#define CERT_SUFFIX   "-cert-v01@openssh.com"

/* ---- key types ------------------------------------------------------- */

struct key_kind {
	const char *name;  /* key type and signature name */
	const char *curve; /* RFC 5656 §6.1 curve identifier */
	enum key_type type;
	int ec;	  /* CRYPTO_EC_* */
	int hash; /* RFC 5656 §6.2.1: SHA-2 sized to the curve */
};

static const struct key_kind key_kinds[] = {
	{"ssh-ed25519", NULL, KEY_ED25519, 0, 0},
	{"ecdsa-sha2-nistp256", "nistp256", KEY_ECDSA_P256, CRYPTO_EC_NISTP256,
	 CRYPTO_SHA256},
	{"ecdsa-sha2-nistp384", "nistp384", KEY_ECDSA_P384, CRYPTO_EC_NISTP384,
	 CRYPTO_SHA384},
	{"ecdsa-sha2-nistp521", "nistp521", KEY_ECDSA_P521, CRYPTO_EC_NISTP521,
	 CRYPTO_SHA512},
	{"ssh-rsa", NULL, KEY_RSA, 0, 0},
};

/* Security keys (OpenSSH PROTOCOL.u2f): the authenticator holds the
 * private key; a key file has the public key, the application, flags
 * and the authenticator's key handle.  key_load_sk only. */
static const struct key_kind sk_kinds[] = {
	{"sk-ssh-ed25519@openssh.com", NULL, KEY_SK_ED25519, 0, 0},
	{"sk-ecdsa-sha2-nistp256@openssh.com", "nistp256", KEY_SK_ECDSA_P256,
	 CRYPTO_EC_NISTP256, CRYPTO_SHA256},
};

struct key {
	const struct key_kind *kind;
	uint8_t *pub; /* public key blob, RFC 4253 §6.6 */
	size_t publen;
	char *comment;
	uint8_t *priv; /* the private key encoding, wiped on free */
	size_t privlen;
	union {
		struct {
			const uint8_t *seed, *pk;
		} ed;
		struct {
			const uint8_t *q, *d;
			size_t qlen, dlen;
		} ec;
		struct crypto_rsa_priv rsa;
	} u;
	/* security keys: application, flags, key handle (PROTOCOL.u2f) */
	const char *sk_app;
	const uint8_t *sk_handle;
	size_t sk_applen, sk_handlelen;
	uint8_t sk_flags;
};

static int name_is(const char *p, size_t n, const char *want)
{
	return n == strlen(want) && memcmp(p, want, n) == 0;
}

static const struct key_kind *kind_by_name(const char *p, size_t n)
{
	size_t i;

	for (i = 0; i < sizeof(key_kinds) / sizeof(key_kinds[0]); i++)
		if (name_is(p, n, key_kinds[i].name))
			return &key_kinds[i];
	return NULL;
}

static const struct key_kind *sk_kind_by_name(const char *p, size_t n)
{
	size_t i;

	for (i = 0; i < sizeof(sk_kinds) / sizeof(sk_kinds[0]); i++)
		if (name_is(p, n, sk_kinds[i].name))
			return &sk_kinds[i];
	return NULL;
}

static int is_sk(const struct key *k)
{
	return k->kind->type == KEY_SK_ED25519 ||
	       k->kind->type == KEY_SK_ECDSA_P256;
}

/* OpenSSH certificate types (PROTOCOL.certkeys) end in this. */
static int is_cert(const char *p, size_t n)
{
	size_t sl = strlen(CERT_SUFFIX);

	return n > sl && memcmp(p + n - sl, CERT_SUFFIX, sl) == 0;
}

/* Why a type we do not know is refused: METHOD_NOT_SUPPORTED either way,
 * but a clear word for the common ones. */
static const char *unknown_kind_why(const char *p, size_t n)
{
	if (name_is(p, n, "ssh-dss"))
		return "DSA keys are not supported";
	if (n > 3 && memcmp(p, "sk-", 3) == 0)
		return "security key (sk-*) keys are not supported";
	if (is_cert(p, n))
		return "certificates in private key files are not supported";
	return "unsupported key type";
}

/* ---- base64 (RFC 4648 §4) -------------------------------------------- */

/* All ones if lo <= c <= hi, else 0, without a branch on c. */
static int in_range(uint32_t c, uint32_t lo, uint32_t hi)
{
	return -(int)((((c - lo) | (hi - c)) >> 31) ^ 1);
}

/*
 * The 6-bit value of base64 character c, or -1.  Computed arithmetically
 * rather than by a table lookup or branches on c: the text of an
 * unencrypted key file is the secret key.
 */
static int b64_value(uint8_t c)
{
	int v = -1;

	v += in_range(c, 'A', 'Z') & (c - 'A' + 1);
	v += in_range(c, 'a', 'z') & (c - 'a' + 27);
	v += in_range(c, '0', '9') & (c - '0' + 53);
	v += in_range(c, '+', '+') & 63;
	v += in_range(c, '/', '/') & 64;
	return v;
}

static int b64_space(uint8_t c)
{
	return c == '\n' || c == '\r' || c == ' ' || c == '\t';
}

/*
 * Decode s[0..n) into out (cap bytes), skipping white space.  Padding is
 * required and the unused bits must be zero (one encoding per value).
 * 0 or -1.
 */
static int b64_decode(const char *s, size_t n, uint8_t *out, size_t cap,
		      size_t *outlen)
{
	uint32_t grp = 0;
	size_t i, o = 0, nb;
	int cnt = 0, pad = 0, v;

	for (i = 0; i < n; i++) {
		uint8_t c = (uint8_t)s[i];

		if (b64_space(c))
			continue;
		if (c == '=') {
			if (cnt < 2)
				return -1;
			pad++;
			v = 0;
		} else if (pad || (v = b64_value(c)) < 0) {
			return -1; /* data after padding, or not base64 */
		}
		grp = grp << 6 | (uint32_t)v;
		if (++cnt < 4)
			continue;
		nb = 3 - (size_t)pad;
		if (nb > cap - o || (grp & ((1u << (8 * pad)) - 1)))
			return -1;
		out[o++] = (uint8_t)(grp >> 16);
		if (nb > 1)
			out[o++] = (uint8_t)(grp >> 8);
		if (nb > 2)
			out[o++] = (uint8_t)grp;
		grp = 0;
		cnt = 0;
	}
	if (cnt != 0)
		return -1;
	*outlen = o;
	return 0;
}

/* Decode into a fresh buffer of a's (free with la_free_wipe, *cap). */
static int b64_alloc(const struct lalloc *a, const char *s, size_t n,
		     uint8_t **out, size_t *len, size_t *cap)
{
	size_t c = n / 4 * 3 + 3;
	uint8_t *p = la_alloc(a, c);

	if (!p)
		return LIBSSH2_ERROR_ALLOC;
	if (b64_decode(s, n, p, c, len)) {
		la_free_wipe(a, p, c);
		return LIBSSH2_ERROR_FILE;
	}
	*out = p;
	*cap = c;
	return 0;
}

/* ---- decoding a private key ------------------------------------------ */

/*
 * ssh-ed25519 (PROTOCOL.key; RFC 8709 §4 for the public part):
 *	string pk[32], string seed[32] || pk[32]
 * Both copies of pk must be what the seed gives.
 */
static int decode_ed25519(struct key *k, struct rbuf *r, const char **why)
{
	const uint8_t *pk, *sk;
	uint8_t derived[ED25519_PK_LEN];
	size_t pklen, sklen;
	int bad;

	if (rb_string(r, &pk, &pklen, ED25519_PK_LEN) ||
	    rb_string(r, &sk, &sklen, ED25519_SEED_LEN + ED25519_PK_LEN) ||
	    pklen != ED25519_PK_LEN ||
	    sklen != ED25519_SEED_LEN + ED25519_PK_LEN)
		return LIBSSH2_ERROR_FILE;
	if (ed25519_pubkey(derived, sk))
		return LIBSSH2_ERROR_FILE;
	bad = crypto_memcmp_ct(derived, pk, ED25519_PK_LEN) |
	      crypto_memcmp_ct(sk + ED25519_SEED_LEN, pk, ED25519_PK_LEN);
	crypto_wipe(derived, sizeof(derived));
	if (bad) {
		*why = "Ed25519 public key does not match private key";
		return LIBSSH2_ERROR_FILE;
	}
	k->u.ed.seed = sk;
	k->u.ed.pk = pk;
	return 0;
}

/*
 * ecdsa-sha2-* (PROTOCOL.key; RFC 5656 §3.1 for the public part):
 *	string curve, string Q (uncompressed point), mpint d
 * with Q = d G.
 */
static int decode_ecdsa(struct key *k, struct rbuf *r, const char **why)
{
	int ec = k->kind->ec;
	const char *curve;
	size_t n;

	if (rb_text(r, &curve, &n, KEY_NAME_MAX) ||
	    !name_is(curve, n, k->kind->curve) ||
	    rb_string(r, &k->u.ec.q, &k->u.ec.qlen, crypto_ec_point_len(ec)) ||
	    k->u.ec.qlen != crypto_ec_point_len(ec) ||
	    rb_mpint(r, &k->u.ec.d, &k->u.ec.dlen, crypto_ec_order_len(ec)))
		return LIBSSH2_ERROR_FILE;
	if (pkey_ec_check(ec, k->u.ec.q, k->u.ec.qlen, k->u.ec.d,
			  k->u.ec.dlen)) {
		*why = "ECDSA public key does not match private key";
		return LIBSSH2_ERROR_FILE;
	}
	return 0;
}

/*
 * ssh-rsa (PROTOCOL.key, the agent's order):
 *	mpint n, mpint e, mpint d, mpint iqmp, mpint p, mpint q
 */
static int decode_rsa(struct key *k, struct rbuf *r, const char **why)
{
	struct crypto_rsa_priv *rsa = &k->u.rsa;
	const uint8_t *iqmp;
	size_t iqmplen;

	if (rb_mpint(r, &rsa->n, &rsa->nlen, CRYPTO_RSA_MAX_LEN) ||
	    rb_mpint(r, &rsa->e, &rsa->elen, CRYPTO_RSA_MAX_LEN) ||
	    rb_mpint(r, &rsa->d, &rsa->dlen, CRYPTO_RSA_MAX_LEN) ||
	    rb_mpint(r, &iqmp, &iqmplen, CRYPTO_RSA_MAX_LEN) ||
	    rb_mpint(r, &rsa->p, &rsa->plen, CRYPTO_RSA_MAX_LEN) ||
	    rb_mpint(r, &rsa->q, &rsa->qlen, CRYPTO_RSA_MAX_LEN))
		return LIBSSH2_ERROR_FILE;
	if (crypto_rsa_check_pub(rsa->n, rsa->nlen, rsa->e, rsa->elen) ||
	    rsa->nlen > KEY_RSA_SIGN_MAX_LEN) {
		*why = "unsupported RSA key (size or exponent)";
		return LIBSSH2_ERROR_METHOD_NOT_SUPPORTED;
	}
	if (pkey_rsa_check(rsa, iqmp, iqmplen)) {
		*why = "inconsistent RSA private key";
		return LIBSSH2_ERROR_FILE;
	}
	return 0;
}

/*
 * sk-ssh-ed25519@openssh.com and sk-ecdsa-sha2-nistp256@openssh.com
 * (PROTOCOL.u2f):
 *	string pk[32]			or  string curve, string Q
 *	string application, uint8 flags, string key_handle, string reserved
 */
static int decode_sk(struct key *k, struct rbuf *r)
{
	const uint8_t *reserved;
	const char *curve;
	size_t n;
	int ec = k->kind->ec;

	if (k->kind->type == KEY_SK_ED25519) {
		if (rb_string(r, &k->u.ed.pk, &n, ED25519_PK_LEN) ||
		    n != ED25519_PK_LEN)
			return LIBSSH2_ERROR_FILE;
	} else if (rb_text(r, &curve, &n, KEY_NAME_MAX) ||
		   !name_is(curve, n, k->kind->curve) ||
		   rb_string(r, &k->u.ec.q, &k->u.ec.qlen,
			     crypto_ec_point_len(ec)) ||
		   crypto_ec_check_point(ec, k->u.ec.q, k->u.ec.qlen)) {
		return LIBSSH2_ERROR_FILE;
	}
	if (rb_text(r, &k->sk_app, &k->sk_applen, KEY_SK_APP_MAX) ||
	    rb_u8(r, &k->sk_flags) ||
	    rb_string(r, &k->sk_handle, &k->sk_handlelen, KEY_SK_HANDLE_MAX) ||
	    rb_string(r, &reserved, &n, KEY_SK_HANDLE_MAX) ||
	    k->sk_handlelen == 0)
		return LIBSSH2_ERROR_FILE;
	return 0;
}

/* The public key blob of a decoded key (RFC 4253 §6.6, RFC 5656 §3.1,
 * RFC 8709 §4, PROTOCOL.u2f for security keys). */
static int build_pub(const struct lalloc *a, struct key *k)
{
	struct wbuf w;
	int rc;

	wb_init(&w, a, KEY_BLOB_MAX);
	if (wb_cstring(&w, k->kind->name))
		goto out;
	if (k->kind->type == KEY_ED25519 || k->kind->type == KEY_SK_ED25519) {
		if (wb_string(&w, k->u.ed.pk, ED25519_PK_LEN))
			goto out;
	} else if (k->kind->type == KEY_RSA) {
		if (wb_mpint(&w, k->u.rsa.e, k->u.rsa.elen) ||
		    wb_mpint(&w, k->u.rsa.n, k->u.rsa.nlen))
			goto out;
	} else if (wb_cstring(&w, k->kind->curve) ||
		   wb_string(&w, k->u.ec.q, k->u.ec.qlen)) {
		goto out;
	}
	if (is_sk(k) && wb_string(&w, k->sk_app, k->sk_applen))
		goto out;
out:
	rc = wb_ok(&w);
	if (rc) {
		wb_free(&w);
		return rc == BUF_ENOMEM ? LIBSSH2_ERROR_ALLOC
					: LIBSSH2_ERROR_FILE;
	}
	k->pub = w.p;
	k->publen = w.len;
	return 0;
}

/*
 * Decode the private key encoding at r (string type, then the fields of
 * that type) into a new key and advance r past it.  The rest of r is
 * copied into the key first and decoded from the copy, so the pointers in
 * the key stay valid after the caller's buffer is wiped.
 */
static int key_decode(const struct lalloc *a, struct rbuf *r, struct key **out,
		      const char **why)
{
	struct key *k = la_calloc(a, sizeof(*k));
	struct rbuf kr;
	const char *type;
	size_t n;
	int rc = LIBSSH2_ERROR_FILE;

	if (!k || !(k->priv = la_alloc(a, rb_left(r)))) {
		rc = LIBSSH2_ERROR_ALLOC;
		goto fail;
	}
	k->privlen = rb_left(r);
	memcpy(k->priv, rb_cur(r), k->privlen);
	rb_init(&kr, k->priv, k->privlen);
	if (rb_text(&kr, &type, &n, KEY_NAME_MAX))
		goto fail;
	k->kind = kind_by_name(type, n);
	if (!k->kind)
		k->kind = sk_kind_by_name(type, n); /* refused but by key_load_sk */
	if (!k->kind) {
		*why = unknown_kind_why(type, n);
		rc = LIBSSH2_ERROR_METHOD_NOT_SUPPORTED;
		goto fail;
	}
	if (is_sk(k))
		rc = decode_sk(k, &kr);
	else if (k->kind->type == KEY_ED25519)
		rc = decode_ed25519(k, &kr, why);
	else if (k->kind->type == KEY_RSA)
		rc = decode_rsa(k, &kr, why);
	else
		rc = decode_ecdsa(k, &kr, why);
	if (rc || (rc = build_pub(a, k)))
		goto fail;
	if (rb_skip(r, kr.off))
		goto fail; /* cannot happen: kr is a copy of r's rest */
	*out = k;
	return 0;
fail:
	key_free(a, k);
	return rc;
}

/* ---- OpenSSH key files (PROTOCOL.key) -------------------------------- */

enum kf_mode { KF_NONE, KF_CTR, KF_CBC, KF_GCM, KF_CHACHA };

/* The ciphers ssh-keygen -Z offers, with OpenSSH's sizes for key files
 * (the IV of the non-AEAD ciphers is one block). */
struct kf_cipher {
	const char *name;
	enum kf_mode mode;
	size_t block, keylen, ivlen, taglen;
};

static const struct kf_cipher kf_ciphers[] = {
	{"none", KF_NONE, 8, 0, 0, 0},
	{"aes128-ctr", KF_CTR, 16, 16, 16, 0},
	{"aes192-ctr", KF_CTR, 16, 24, 16, 0},
	{"aes256-ctr", KF_CTR, 16, 32, 16, 0},
	{"aes128-cbc", KF_CBC, 16, 16, 16, 0},
	{"aes192-cbc", KF_CBC, 16, 24, 16, 0},
	{"aes256-cbc", KF_CBC, 16, 32, 16, 0},
	/* RFC 5647 §7.1 nonce; no additional data in a key file */
	{"aes128-gcm@openssh.com", KF_GCM, 16, 16, AESGCM_IV_LEN,
	 AESGCM_TAG_LEN},
	{"aes256-gcm@openssh.com", KF_GCM, 16, 32, AESGCM_IV_LEN,
	 AESGCM_TAG_LEN},
	{"chacha20-poly1305@openssh.com", KF_CHACHA, 8, PKEY_CHACHAPOLY_KEY_LEN,
	 0, PKEY_CHACHAPOLY_TAG_LEN},
};

static const struct kf_cipher *kf_cipher_by_name(const char *p, size_t n)
{
	size_t i;

	for (i = 0; i < sizeof(kf_ciphers) / sizeof(kf_ciphers[0]); i++)
		if (name_is(p, n, kf_ciphers[i].name))
			return &kf_ciphers[i];
	return NULL;
}

/* What the outer layer of the file says. */
struct kf_header {
	const struct kf_cipher *c;
	const uint8_t *salt, *pub, *tag;
	size_t saltlen, publen, enclen;
	uint32_t rounds;
	uint8_t *enc; /* the private section, decrypted in place */
};

/* kdfname and kdfoptions (PROTOCOL.key §2, §5). */
static int kf_parse_kdf(struct kf_header *h, const char *name, size_t n,
			struct rbuf *opt, const char **why)
{
	if (h->c->mode == KF_NONE)
		return name_is(name, n, "none") && rb_left(opt) == 0
			       ? 0
			       : LIBSSH2_ERROR_FILE;
	if (!name_is(name, n, "bcrypt")) {
		*why = "unsupported key file KDF";
		return LIBSSH2_ERROR_METHOD_NOT_SUPPORTED;
	}
	if (rb_string(opt, &h->salt, &h->saltlen, KEY_KDF_MAX_SALT) ||
	    rb_u32(opt, &h->rounds) || rb_done(opt) || h->saltlen == 0 ||
	    h->rounds == 0)
		return LIBSSH2_ERROR_FILE;
	if (h->rounds > KEY_KDF_MAX_ROUNDS) {
		*why = "too many KDF rounds in key file";
		return LIBSSH2_ERROR_METHOD_NOT_SUPPORTED;
	}
	return 0;
}

/*
 * PROTOCOL.key §1:
 *	byte[15] "openssh-key-v1\0", string ciphername, string kdfname,
 *	string kdfoptions, uint32 N (we take 1), string publickey,
 *	string encrypted private section
 * and after it the AEAD tag, which OpenSSH writes outside the string.
 */
static int kf_parse_header(uint8_t *bin, size_t len, struct kf_header *h,
			   const char **why)
{
	const char *cname, *kname;
	const uint8_t *magic, *enc;
	struct rbuf r, opt;
	size_t cn, kn;
	uint32_t nkeys;

	rb_init(&r, bin, len);
	if (rb_bytes(&r, sizeof(OPENSSH_MAGIC), &magic) ||
	    memcmp(magic, OPENSSH_MAGIC, sizeof(OPENSSH_MAGIC)) ||
	    rb_text(&r, &cname, &cn, KEY_NAME_MAX) ||
	    rb_text(&r, &kname, &kn, KEY_NAME_MAX) ||
	    rb_sub(&r, &opt, KEY_KDFOPT_MAX) || rb_u32(&r, &nkeys))
		return LIBSSH2_ERROR_FILE;
	if (nkeys != 1) {
		*why = "key files holding several keys are not supported";
		return LIBSSH2_ERROR_METHOD_NOT_SUPPORTED;
	}
	if (rb_string(&r, &h->pub, &h->publen, KEY_BLOB_MAX) ||
	    rb_string(&r, &enc, &h->enclen, KEY_FILE_MAX))
		return LIBSSH2_ERROR_FILE;
	h->c = kf_cipher_by_name(cname, cn);
	if (!h->c) {
		*why = "unsupported key file cipher";
		return LIBSSH2_ERROR_METHOD_NOT_SUPPORTED;
	}
	if (rb_bytes(&r, h->c->taglen, &h->tag) || rb_done(&r) ||
	    h->enclen < h->c->block || h->enclen % h->c->block)
		return LIBSSH2_ERROR_FILE;
	h->enc = bin + (enc - bin);
	return kf_parse_kdf(h, kname, kn, &opt, why);
}

/* Decrypt buf in place; AEAD tags are checked first.  0 or -1. */
static int kf_cipher_open(const struct kf_cipher *c, const uint8_t *key,
			  const uint8_t *iv, uint8_t *buf, size_t len,
			  const uint8_t *tag)
{
	struct crypto_aes aes;
	struct aesgcm_ctx gcm;
	int rc = -1;

	switch (c->mode) {
	case KF_NONE:
		return 0;
	case KF_CTR:
	case KF_CBC:
		memset(&aes, 0, sizeof(aes));
		if (crypto_aes_init(&aes,
				    c->mode == KF_CTR ? CRYPTO_AES_CTR
						      : CRYPTO_AES_CBC_DEC,
				    key, c->keylen, iv) == 0)
			rc = crypto_aes_crypt(&aes, buf, len);
		crypto_aes_free(&aes);
		break;
	case KF_GCM:
		memset(&gcm, 0, sizeof(gcm));
		if (aesgcm_init(&gcm, key, c->keylen) == 0)
			rc = aesgcm_open(&gcm, iv, NULL, 0, buf, len, tag);
		aesgcm_free(&gcm);
		break;
	case KF_CHACHA:
		rc = pkey_chachapoly_open(key, buf, len, tag);
		break;
	}
	return rc;
}

/* PROTOCOL.key §4: key || IV = bcrypt_pbkdf(passphrase, salt, rounds). */
static int kf_decrypt(const struct kf_header *h, const char *pass,
		      const char **why)
{
	const struct kf_cipher *c = h->c;
	uint8_t kiv[KEY_KEYIV_MAX];
	int rc = 0;

	if (c->mode == KF_NONE)
		return 0;
	if (!pass || !*pass) {
		*why = "passphrase required";
		return LIBSSH2_ERROR_KEYFILE_AUTH_FAILED;
	}
	_Static_assert(32 + 16 <= KEY_KEYIV_MAX, "key and IV buffer");
	if (bcrypt_pbkdf(pass, strlen(pass), h->salt, h->saltlen, kiv,
			 c->keylen + c->ivlen, h->rounds))
		rc = LIBSSH2_ERROR_FILE;
	else if (kf_cipher_open(c, kiv, kiv + c->keylen, h->enc, h->enclen,
				h->tag)) {
		*why = "wrong passphrase"; /* or a corrupt file: same tag */
		rc = LIBSSH2_ERROR_KEYFILE_AUTH_FAILED;
	}
	crypto_wipe(kiv, sizeof(kiv));
	return rc;
}

/* The padding of PROTOCOL.key §3: bytes 1, 2, 3, ..., fewer than 256. */
static int kf_padding(struct rbuf *r)
{
	uint8_t b;
	unsigned i;

	if (rb_left(r) > 255)
		return -1;
	for (i = 1; rb_left(r); i++)
		if (rb_u8(r, &b) || b != i)
			return -1;
	return 0;
}

/*
 * The decrypted private section (PROTOCOL.key §3):
 *	uint32 checkint, uint32 checkint, privatekey, string comment,
 *	padding
 * Equal check values are the passphrase test of non-AEAD ciphers.
 */
static int kf_private(const struct lalloc *a, const struct kf_header *h,
		      struct key **out, const char **why)
{
	struct key *k = NULL;
	const char *cmt;
	struct rbuf r;
	uint32_t c1, c2;
	size_t cn;
	int rc;

	rb_init(&r, h->enc, h->enclen);
	if (rb_u32(&r, &c1) || rb_u32(&r, &c2))
		return LIBSSH2_ERROR_FILE;
	if (c1 != c2 && h->c->mode != KF_NONE) {
		*why = "wrong passphrase";
		return LIBSSH2_ERROR_KEYFILE_AUTH_FAILED;
	}
	if (c1 != c2)
		return LIBSSH2_ERROR_FILE;
	if ((rc = key_decode(a, &r, &k, why)))
		return rc;
	rc = LIBSSH2_ERROR_FILE;
	if (rb_text(&r, &cmt, &cn, KEY_COMMENT_MAX) || kf_padding(&r))
		goto fail;
	if (h->publen != k->publen || memcmp(h->pub, k->pub, k->publen)) {
		*why = "public key does not match private key";
		goto fail;
	}
	if (!(k->comment = la_strndup(a, cmt, cn))) {
		rc = LIBSSH2_ERROR_ALLOC;
		goto fail;
	}
	*out = k;
	return 0;
fail:
	key_free(a, k);
	return rc;
}

/* The base64 text between the armour lines of an OpenSSH key file. */
static int load_openssh(const struct lalloc *a, const char *b64, size_t n,
			const char *pass, struct key **out, const char **why)
{
	struct kf_header h;
	uint8_t *bin;
	size_t len, cap;
	int rc;

	rc = b64_alloc(a, b64, n, &bin, &len, &cap);
	if (rc) {
		if (rc == LIBSSH2_ERROR_FILE)
			*why = "invalid base64 in key file";
		return rc;
	}
	rc = kf_parse_header(bin, len, &h, why);
	if (rc == 0)
		rc = kf_decrypt(&h, pass, why);
	if (rc == 0)
		rc = kf_private(a, &h, out, why);
	la_free_wipe(a, bin, cap);
	return rc;
}

/* ---- PEM key files (crypto/pkey.c) ----------------------------------- */

static int pkey_error(int rc)
{
	switch (rc) {
	case PKEY_ENEEDPASS:
	case PKEY_EBADPASS:
		return LIBSSH2_ERROR_KEYFILE_AUTH_FAILED;
	case PKEY_EUNSUPP:
		return LIBSSH2_ERROR_METHOD_NOT_SUPPORTED;
	case PKEY_ENOMEM:
		return LIBSSH2_ERROR_ALLOC;
	default:
		return LIBSSH2_ERROR_FILE;
	}
}

static int load_pem(const struct lalloc *a, const char *pem, size_t n,
		    const char *pass, struct key **out, const char **why)
{
	struct key *k = NULL;
	struct wbuf w;
	struct rbuf r;
	int rc;

	/* One allocation up front: a growing buffer would leave copies of
	 * the key behind in memory given back by realloc. */
	wb_init(&w, a, KEY_PRIV_MAX);
	if (wb_grow(&w, KEY_PRIV_MAX))
		return LIBSSH2_ERROR_ALLOC;
	rc = pkey_pem_decode(pem, n, pass, &w, why);
	if (rc) {
		rc = pkey_error(rc);
		goto out;
	}
	rb_init(&r, w.p, w.len);
	if ((rc = key_decode(a, &r, &k, why)))
		goto out;
	rc = LIBSSH2_ERROR_FILE;
	if (rb_done(&r))
		goto out;
	rc = LIBSSH2_ERROR_ALLOC;
	if (!(k->comment = la_strndup(a, "", 0)))
		goto out;
	*out = k;
	k = NULL;
	rc = 0;
out:
	key_free(a, k);
	wb_free_wipe(&w);
	return rc;
}

/* ---- loading: finding the armour ------------------------------------- */

/* The first "-----BEGIN " that starts a line, or NULL. */
static const char *pem_find(const char *data, size_t len)
{
	const char *p = data, *end = data + len;

	while (p < end) {
		if ((size_t)(end - p) >= strlen(PEM_BEGIN) &&
		    memcmp(p, PEM_BEGIN, strlen(PEM_BEGIN)) == 0)
			return p;
		p = memchr(p, '\n', (size_t)(end - p));
		if (!p)
			return NULL;
		p++;
	}
	return NULL;
}

/* Where the "-----END <label>-----" line after p ends, or NULL. */
static const char *pem_end(const char *p, const char *end, const char *label,
			   size_t labellen, const char **endline)
{
	const char *e = memmem(p, (size_t)(end - p), "-----END ", 9);

	if (!e || (size_t)(end - e) < 9 + labellen + 5 ||
	    memcmp(e + 9, label, labellen) ||
	    memcmp(e + 9 + labellen, "-----", 5))
		return NULL;
	*endline = e;
	return e + 9 + labellen + 5;
}

/* Dispatch on the PEM label (RFC 7468 §2) at begin. */
static int load_armoured(const struct lalloc *a, const char *begin,
			 const char *end, const char *pass, struct key **out,
			 const char **why)
{
	const char *label = begin + strlen(PEM_BEGIN), *lend, *tail, *eline;
	size_t n;

	lend = memmem(label, (size_t)(end - label), PEM_DASHES, 5);
	if (!lend)
		return LIBSSH2_ERROR_FILE;
	n = (size_t)(lend - label);
	tail = pem_end(lend + 5, end, label, n, &eline);
	if (!tail) {
		*why = "truncated key file (no END line)";
		return LIBSSH2_ERROR_FILE;
	}
	if (name_is(label, n, "OPENSSH PRIVATE KEY"))
		return load_openssh(a, lend + 5, (size_t)(eline - lend - 5),
				    pass, out, why);
	if (name_is(label, n, "RSA PRIVATE KEY") ||
	    name_is(label, n, "EC PRIVATE KEY") ||
	    name_is(label, n, "PRIVATE KEY") ||
	    name_is(label, n, "ENCRYPTED PRIVATE KEY"))
		return load_pem(a, begin, (size_t)(tail - begin), pass, out,
				why);
	if (name_is(label, n, "DSA PRIVATE KEY")) {
		*why = "DSA keys are not supported";
		return LIBSSH2_ERROR_METHOD_NOT_SUPPORTED;
	}
	if (n >= 11 && memcmp(label + n - 11, "PRIVATE KEY", 11) == 0) {
		*why = "unsupported private key file format";
		return LIBSSH2_ERROR_METHOD_NOT_SUPPORTED;
	}
	return LIBSSH2_ERROR_FILE;
}

static int key_load(const struct lalloc *a, const char *data, size_t len,
		    const char *passphrase, struct key **out, const char **why)
{
	static const char putty[] = "PuTTY-User-Key-File-";
	const char *dummy, *begin;
	struct key *k = NULL;
	int rc;

	if (!why)
		why = &dummy;
	*why = "not a private key file";
	if (len > KEY_FILE_MAX) {
		*why = "key file too large";
		return LIBSSH2_ERROR_FILE;
	}
	begin = pem_find(data, len);
	if (!begin) {
		if (len >= strlen(putty) &&
		    !memcmp(data, putty, strlen(putty))) {
			*why = "PuTTY key files are not supported";
			return LIBSSH2_ERROR_METHOD_NOT_SUPPORTED;
		}
		return LIBSSH2_ERROR_FILE;
	}
	*why = "corrupt private key file";
	rc = load_armoured(a, begin, data + len, passphrase, &k, why);
	if (rc == LIBSSH2_ERROR_ALLOC)
		*why = "out of memory";
	if (rc == 0)
		*out = k;
	return rc;
}

int key_load_private(const struct lalloc *a, const char *data, size_t len,
		     const char *passphrase, struct key **out, const char **why)
{
	const char *dummy;
	struct key *k = NULL;
	int rc;

	if (!why)
		why = &dummy;
	if ((rc = key_load(a, data, len, passphrase, &k, why)))
		return rc;
	if (is_sk(k)) {
		/* signing needs the authenticator: key_load_sk */
		key_free(a, k);
		*why = "security key (sk-*) keys are not supported";
		return LIBSSH2_ERROR_METHOD_NOT_SUPPORTED;
	}
	*out = k;
	return 0;
}

int key_load_sk(const struct lalloc *a, const char *data, size_t len,
		const char *passphrase, struct key **out, const char **why)
{
	const char *dummy;
	struct key *k = NULL;
	int rc;

	if (!why)
		why = &dummy;
	if ((rc = key_load(a, data, len, passphrase, &k, why)))
		return rc;
	if (!is_sk(k)) {
		key_free(a, k);
		*why = "not a security key (sk-*) file";
		return LIBSSH2_ERROR_FILE;
	}
	*out = k;
	return 0;
}

int key_is_openssh(const char *data, size_t len)
{
	static const char label[] = PEM_BEGIN "OPENSSH PRIVATE KEY" PEM_DASHES;
	const char *begin = data ? pem_find(data, len) : NULL;

	return begin && (size_t)(data + len - begin) >= strlen(label) &&
	       !memcmp(begin, label, strlen(label));
}

int key_sk_info(const struct key *k, const char **app, size_t *applen,
		uint8_t *flags, const uint8_t **handle, size_t *handlelen)
{
	if (!is_sk(k))
		return LIBSSH2_ERROR_BAD_USE;
	*app = k->sk_app;
	*applen = k->sk_applen;
	*flags = k->sk_flags;
	*handle = k->sk_handle;
	*handlelen = k->sk_handlelen;
	return 0;
}

/* ---- using a key ----------------------------------------------------- */

int key_public_blob(const struct key *k, const uint8_t **blob, size_t *len)
{
	*blob = k->pub;
	*len = k->publen;
	return 0;
}

/*
 * A public key file's blob names k if it is k's own blob, or an OpenSSH
 * certificate of k's type (PROTOCOL.certkeys) whose key is k's:
 *	string	"<type>-cert-v01@openssh.com"
 *	string	nonce
 *	...	the key's fields, as in its plain blob after the type
 *	...	serial, type, key id, principals, validity, options...
 */
int key_public_matches(const struct key *k, const uint8_t *blob, size_t len,
		       int *cert)
{
	struct rbuf r, p;
	const char *name;
	const uint8_t *nonce, *body;
	size_t n, tl = strlen(k->kind->name), nl;

	if (len == k->publen && !memcmp(blob, k->pub, len)) {
		*cert = 0;
		return 0;
	}
	/* k's fields: its blob after the type */
	rb_init(&p, k->pub, k->publen);
	if (rb_text(&p, &name, &n, KEY_NAME_MAX))
		return LIBSSH2_ERROR_PUBLICKEY_UNVERIFIED;
	/* the certificate's type is k's type with the suffix */
	rb_init(&r, blob, len);
	if (rb_text(&r, &name, &n, KEY_NAME_MAX) || !is_cert(name, n) ||
	    n - strlen(CERT_SUFFIX) != tl || memcmp(name, k->kind->name, tl) ||
	    rb_string(&r, &nonce, &nl, KEY_BLOB_MAX) ||
	    rb_bytes(&r, k->publen - p.off, &body) ||
	    memcmp(body, k->pub + p.off, k->publen - p.off))
		return LIBSSH2_ERROR_PUBLICKEY_UNVERIFIED;
	*cert = 1;
	return 0;
}

const char *key_type_name(const struct key *k)
{
	return k->kind->name;
}

enum key_type key_type(const struct key *k)
{
	return k->kind->type;
}

const char *key_comment(const struct key *k)
{
	return k->comment;
}

void key_free(const struct lalloc *a, struct key *k)
{
	if (!k)
		return;
	la_free_wipe(a, k->priv, k->privlen);
	la_free(a, k->pub);
	la_free(a, k->comment);
	crypto_wipe(k, sizeof(*k));
	la_free(a, k);
}

static int sig_buf_error(const struct wbuf *w)
{
	return wb_ok(w) == BUF_ENOMEM ? LIBSSH2_ERROR_ALLOC
				      : LIBSSH2_ERROR_HOSTKEY_SIGN;
}

/* RFC 8709 §6: string "ssh-ed25519", string R || S. */
static int sign_ed25519(const struct key *k, const char *alg,
			const uint8_t *data, size_t len, struct wbuf *w)
{
	uint8_t sig[ED25519_SIG_LEN];

	if (strcmp(alg, k->kind->name))
		return LIBSSH2_ERROR_METHOD_NOT_SUPPORTED;
	if (ed25519_sign(sig, data, len, k->u.ed.seed, k->u.ed.pk))
		return LIBSSH2_ERROR_HOSTKEY_SIGN;
	if (wb_cstring(w, alg) || wb_string(w, sig, sizeof(sig)))
		return sig_buf_error(w);
	return 0;
}

/* RFC 5656 §3.1.2: string alg, string (mpint r, mpint s), the hash of
 * §6.2.1 sized to the curve. */
static int sign_ecdsa(const struct key *k, const char *alg, const uint8_t *data,
		      size_t len, struct wbuf *w)
{
	uint8_t h[CRYPTO_HASH_MAX_LEN], r[CRYPTO_EC_MAX_LEN],
		s[CRYPTO_EC_MAX_LEN];
	size_t olen = crypto_ec_order_len(k->kind->ec), mark;

	if (strcmp(alg, k->kind->name))
		return LIBSSH2_ERROR_METHOD_NOT_SUPPORTED;
	if (crypto_hash(k->kind->hash, data, len, h) ||
	    crypto_ecdsa_sign(k->kind->ec, k->u.ec.d, k->u.ec.dlen, h,
			      crypto_hash_len(k->kind->hash), r, s))
		return LIBSSH2_ERROR_HOSTKEY_SIGN;
	if (wb_cstring(w, alg) || wb_begin_len(w, &mark) ||
	    wb_mpint(w, r, olen) || wb_mpint(w, s, olen))
		return sig_buf_error(w);
	wb_end_len(w, mark);
	return 0;
}

/* RFC 8332 §3 (and RFC 4253 §6.6 for ssh-rsa with SHA-1): string alg,
 * string S, S as long as the modulus. */
static int sign_rsa(const struct key *k, const char *alg, const uint8_t *data,
		    size_t len, struct wbuf *w)
{
	uint8_t h[CRYPTO_HASH_MAX_LEN], *sig;
	size_t slen = crypto_rsa_len(k->u.rsa.n, k->u.rsa.nlen);
	int halg;

	if (!strcmp(alg, "ssh-rsa"))
		halg = CRYPTO_SHA1;
	else if (!strcmp(alg, "rsa-sha2-256"))
		halg = CRYPTO_SHA256;
	else if (!strcmp(alg, "rsa-sha2-512"))
		halg = CRYPTO_SHA512;
	else
		return LIBSSH2_ERROR_METHOD_NOT_SUPPORTED;
	if (crypto_hash(halg, data, len, h))
		return LIBSSH2_ERROR_HOSTKEY_SIGN;
	if (wb_cstring(w, alg) || wb_u32(w, (uint32_t)slen) ||
	    wb_reserve(w, slen, &sig))
		return sig_buf_error(w);
	if (crypto_rsa_sign(&k->u.rsa, halg, h, crypto_hash_len(halg), sig))
		return LIBSSH2_ERROR_HOSTKEY_SIGN;
	return 0;
}

int key_sign(const struct key *k, const char *sigalg, const uint8_t *data,
	     size_t len, const struct lalloc *a, uint8_t **sig, size_t *siglen)
{
	const char *alg = sigalg ? sigalg : k->kind->name;
	struct wbuf w;
	int rc;

	wb_init(&w, a, KEY_SIG_MAX);
	if (is_sk(k))
		rc = LIBSSH2_ERROR_METHOD_NOT_SUPPORTED; /* the authenticator's */
	else if (k->kind->type == KEY_ED25519)
		rc = sign_ed25519(k, alg, data, len, &w);
	else if (k->kind->type == KEY_RSA)
		rc = sign_rsa(k, alg, data, len, &w);
	else
		rc = sign_ecdsa(k, alg, data, len, &w);
	if (rc) {
		wb_free(&w);
		return rc;
	}
	*sig = w.p;
	*siglen = w.len;
	return 0;
}

/* ---- public key files ------------------------------------------------ */

/* The fields after the type name of a blob we sign with, checked as
 * those of a private key's public half are. */
static int check_blob_body(const struct key_kind *kind, struct rbuf *r,
			   const char **why)
{
	const uint8_t *p, *q;
	const char *curve;
	size_t n, m;

	switch (kind->type) {
	case KEY_ED25519:
		if (rb_string(r, &p, &n, ED25519_PK_LEN) || n != ED25519_PK_LEN)
			return LIBSSH2_ERROR_FILE;
		break;
	case KEY_RSA:
		if (rb_mpint(r, &p, &n, CRYPTO_RSA_MAX_LEN) ||
		    rb_mpint(r, &q, &m, CRYPTO_RSA_MAX_LEN))
			return LIBSSH2_ERROR_FILE;
		if (crypto_rsa_check_pub(q, m, p, n)) {
			*why = "unsupported RSA key (size or exponent)";
			return LIBSSH2_ERROR_METHOD_NOT_SUPPORTED;
		}
		break;
	default:
		if (rb_text(r, &curve, &n, KEY_NAME_MAX) ||
		    !name_is(curve, n, kind->curve) ||
		    rb_string(r, &q, &m, CRYPTO_EC_MAX_POINT) ||
		    crypto_ec_check_point(kind->ec, q, m))
			return LIBSSH2_ERROR_FILE;
		break;
	}
	return rb_done(r) ? LIBSSH2_ERROR_FILE : 0;
}

/* The blob must name the type written before it on the line. */
static int check_blob(const uint8_t *blob, size_t len, const char *type,
		      size_t typelen, const char **why)
{
	const struct key_kind *kind;
	const char *name;
	struct rbuf r;
	size_t n;

	rb_init(&r, blob, len);
	if (rb_text(&r, &name, &n, KEY_NAME_MAX))
		return LIBSSH2_ERROR_FILE;
	if (n != typelen || memcmp(name, type, n)) {
		*why = "key type does not match the key data";
		return LIBSSH2_ERROR_FILE;
	}
	if (is_cert(name, n))
		return 0; /* for the server to check */
	kind = kind_by_name(name, n);
	if (!kind) {
		*why = unknown_kind_why(name, n);
		return LIBSSH2_ERROR_METHOD_NOT_SUPPORTED;
	}
	return check_blob_body(kind, &r, why);
}

static int pub_space(char c)
{
	return c == ' ' || c == '\t';
}

/* The first line that is neither blank nor a # comment: [*p, *eol). */
static int pub_line(const char *data, size_t len, const char **p,
		    const char **eol)
{
	const char *s = data, *end = data + len, *e;

	while (s < end) {
		e = memchr(s, '\n', (size_t)(end - s));
		if (!e)
			e = end;
		while (s < e && pub_space(*s))
			s++;
		if (s < e && *s != '#' && *s != '\r') {
			while (e > s && (e[-1] == '\r' || pub_space(e[-1])))
				e--;
			*p = s;
			*eol = e;
			return 0;
		}
		s = e + 1;
	}
	return -1;
}

/* Split "type base64 [comment]" into its three fields. */
static int pub_fields(const char *s, const char *eol, const char *f[3],
		      size_t fl[3])
{
	const char *e;
	int i;

	for (i = 0; i < 2; i++) {
		for (e = s; e < eol && !pub_space(*e); e++)
			;
		if (e == s)
			return -1;
		f[i] = s;
		fl[i] = (size_t)(e - s);
		for (s = e; s < eol && pub_space(*s); s++)
			;
	}
	f[2] = s;
	fl[2] = (size_t)(eol - s);
	return 0;
}

int key_parse_public(const struct lalloc *a, const char *data, size_t len,
		     uint8_t **blob, size_t *bloblen, char **comment,
		     const char **why)
{
	const char *dummy, *s, *eol, *f[3];
	uint8_t *b = NULL;
	size_t fl[3], blen, cap = 0;
	char *c = NULL;
	int rc = LIBSSH2_ERROR_FILE;

	if (!why)
		why = &dummy;
	*why = "not an OpenSSH public key";
	if (len > KEY_FILE_MAX || pub_line(data, len, &s, &eol) ||
	    pub_fields(s, eol, f, fl) || fl[0] > KEY_NAME_MAX ||
	    fl[1] > (KEY_BLOB_MAX + 2) / 3 * 4)
		return rc;
	if ((rc = b64_alloc(a, f[1], fl[1], &b, &blen, &cap)))
		goto fail;
	if ((rc = check_blob(b, blen, f[0], fl[0], why)))
		goto fail;
	if (comment && !(c = la_strndup(a, f[2], fl[2]))) {
		rc = LIBSSH2_ERROR_ALLOC;
		goto fail;
	}
	*blob = b;
	*bloblen = blen;
	if (comment)
		*comment = c;
	return 0;
fail:
	if (rc == LIBSSH2_ERROR_ALLOC)
		*why = "out of memory";
	la_free(a, b);
	return rc;
}
