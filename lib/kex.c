/*
 * kex.c - algorithm negotiation, exchange hash, key derivation, NEWKEYS
 * (RFC 4253 sections 7-9), strict KEX and ext-info (RFC 8308).
 */
#include "kex.h"

#include <string.h>

#include "comp.h"
#include "crypto/x25519.h"
#include "hostkey.h"
#include "session.h"

/* ---- what we support, per LIBSSH2_METHOD_* type --------------------------- */

static const struct kex_method *const kex_methods[] = {
	&kex_sntrup761x25519_sha512, /* post-quantum hybrid, OpenSSH's first */
	&kex_curve25519_sha256,
	&kex_curve25519_sha256_libssh,
	&kex_ecdh_sha2_nistp256,
	&kex_ecdh_sha2_nistp384,
	&kex_ecdh_sha2_nistp521,
	&kex_dh_gex_sha256,
	&kex_dh_group16_sha512,
	&kex_dh_group18_sha512,
	&kex_dh_group14_sha256,
	/* legacy: only with libssh2_session_method_pref */
	&kex_dh_group14_sha1,
	&kex_dh_group1_sha1,
	&kex_dh_gex_sha1,
	NULL,
};

struct alg_name {
	const char *name;
	int legacy;
};

static const struct alg_name hostkey_algs[] = {
	{ "ssh-ed25519", 0 },
	{ "ecdsa-sha2-nistp256", 0 },
	{ "ecdsa-sha2-nistp384", 0 },
	{ "ecdsa-sha2-nistp521", 0 },
	{ "rsa-sha2-512", 0 },
	{ "rsa-sha2-256", 0 },
	{ "ssh-rsa", 1 },
	{ NULL, 0 },
};

static const struct alg_name lang_algs[] = {
	{ NULL, 0 },
};

static const struct alg_name sign_algs[] = {
	{ "ssh-ed25519", 0 },
	{ "ecdsa-sha2-nistp256", 0 },
	{ "ecdsa-sha2-nistp384", 0 },
	{ "ecdsa-sha2-nistp521", 0 },
	{ "rsa-sha2-512", 0 },
	{ "rsa-sha2-256", 0 },
	{ "ssh-rsa", 1 },
	{ NULL, 0 },
};

/* The i-th supported name of a type (NULL past the end). */
static const char *supported_name(int type, size_t i, int *legacy)
{
	const struct alg_name *t = NULL;
	size_t n;

	*legacy = 0;
	switch (type) {
	case LIBSSH2_METHOD_KEX:
		if (!kex_methods[i])
			return NULL;
		*legacy = kex_methods[i]->legacy;
		return kex_methods[i]->name;
	case LIBSSH2_METHOD_CRYPT_CS:
	case LIBSSH2_METHOD_CRYPT_SC:
		if (!cipher_defs[i].name)
			return NULL;
		*legacy = cipher_defs[i].legacy;
		return cipher_defs[i].name;
	case LIBSSH2_METHOD_MAC_CS:
	case LIBSSH2_METHOD_MAC_SC:
		if (!mac_defs[i].name)
			return NULL;
		*legacy = mac_defs[i].legacy;
		return mac_defs[i].name;
	case LIBSSH2_METHOD_HOSTKEY:
		t = hostkey_algs;
		break;
	case LIBSSH2_METHOD_COMP_CS:
	case LIBSSH2_METHOD_COMP_SC:
		/* zlib only on request, as in libssh2 (comp.h) */
		if (!comp_defs[i].name)
			return NULL;
		*legacy = comp_defs[i].opt_in;
		return comp_defs[i].name;
	case LIBSSH2_METHOD_LANG_CS:
	case LIBSSH2_METHOD_LANG_SC:
		t = lang_algs;
		break;
	case LIBSSH2_METHOD_SIGN_ALGO:
		t = sign_algs;
		break;
	default:
		return NULL;
	}
	for (n = 0; n < i && t[n].name; n++)
		;
	if (!t[n].name)
		return NULL;
	*legacy = t[n].legacy;
	return t[n].name;
}

static int is_supported(int type, const char *name, size_t len)
{
	const char *s;
	size_t i;
	int legacy;

	for (i = 0; (s = supported_name(type, i, &legacy)); i++)
		if (strlen(s) == len && !memcmp(s, name, len))
			return 1;
	return 0;
}

/* Our own copy of a supported name (static storage), or NULL. */
static const char *static_name(int type, const char *name, size_t len)
{
	const char *s;
	size_t i;
	int legacy;

	if (len == 0)
		return "";
	for (i = 0; (s = supported_name(type, i, &legacy)); i++)
		if (strlen(s) == len && !memcmp(s, name, len))
			return s;
	return NULL;
}

/* Comma list of the non-legacy names of a type (all names with all),
 * into w. */
static int default_list(int type, int all, struct wbuf *w)
{
	const char *s;
	size_t i, first = 1;
	int legacy;

	for (i = 0; (s = supported_name(type, i, &legacy)); i++) {
		if (legacy && !all)
			continue;
		if ((!first && wb_u8(w, ',')) || wb_bytes(w, s, strlen(s)))
			return LIBSSH2_ERROR_ALLOC;
		first = 0;
	}
	return 0;
}

/*
 * libssh2_session_method_pref: names we do not know or support are
 * dropped (as libssh2 does); if none is left the call fails with
 * LIBSSH2_ERROR_METHOD_NOT_SUPPORTED.
 */
int kex_set_pref(LIBSSH2_SESSION *s, int type, const char *prefs)
{
	struct kex *k = &s->kex;
	struct wbuf w;
	const char *p = prefs, *e;
	char *copy;

	if (type < 0 || type >= KEX_NTYPES)
		return sess_err(s, LIBSSH2_ERROR_INVAL,
				"invalid method type %d", type);
	if (!prefs)
		return sess_err(s, LIBSSH2_ERROR_INVAL, "no preference list");
	wb_init(&w, &s->a, 64 * 1024);
	while (*p) {
		size_t n;

		e = strchr(p, ',');
		n = e ? (size_t)(e - p) : strlen(p);
		if (n && is_supported(type, p, n)) {
			if ((w.len && wb_u8(&w, ',')) || wb_bytes(&w, p, n)) {
				wb_free(&w);
				return sess_err(s, LIBSSH2_ERROR_ALLOC,
						"out of memory");
			}
		}
		p += n;
		if (*p == ',')
			p++;
	}
	if (w.len == 0) {
		wb_free(&w);
		return sess_err(s, LIBSSH2_ERROR_METHOD_NOT_SUPPORTED,
				"none of the requested methods is supported");
	}
	copy = la_strndup(&s->a, (const char *)w.p, w.len);
	wb_free(&w);
	if (!copy)
		return sess_err(s, LIBSSH2_ERROR_ALLOC, "out of memory");
	la_free(&s->a, k->pref[type]);
	k->pref[type] = copy;
	return 0;
}

int kex_supported(LIBSSH2_SESSION *s, int type, const char ***algs)
{
	const char **v;
	size_t i, n = 0;
	int legacy;

	/* libssh2 1.11.1's codes: no list of signature algorithms to give
	 * (INVAL, "no algorithm"), any other type unknown */
	if (!algs)
		return sess_err(s, LIBSSH2_ERROR_BAD_USE,
				"algs must not be NULL");
	if (type == LIBSSH2_METHOD_SIGN_ALGO)
		return sess_err(s, LIBSSH2_ERROR_INVAL,
				"no list of signature algorithms");
	if (type < 0 || type > LIBSSH2_METHOD_COMP_SC)
		return sess_err(s, LIBSSH2_ERROR_METHOD_NOT_SUPPORTED,
				"unknown method type %d", type);
	while (supported_name(type, n, &legacy))
		n++;
	if (n == 0)
		return sess_err(s, LIBSSH2_ERROR_METHOD_NONE,
				"no methods of type %d", type);
	v = la_alloc(&s->a, n * sizeof(*v));
	if (!v)
		return sess_err(s, LIBSSH2_ERROR_ALLOC, "out of memory");
	for (i = 0; i < n; i++)
		v[i] = supported_name(type, i, &legacy);
	*algs = v;
	return (int)n;
}

/* ---- KEXINIT ---------------------------------------------------------------- */

static int put_list(LIBSSH2_SESSION *s, struct wbuf *w, int type,
		    const char *extra)
{
	struct kex *k = &s->kex;
	size_t mark;
	/* libssh2_session_flag(LIBSSH2_FLAG_COMPRESS): offer
	 * "zlib@openssh.com,zlib,none" instead of "none". */
	int all = s->flag_compress && (type == LIBSSH2_METHOD_COMP_CS ||
				       type == LIBSSH2_METHOD_COMP_SC);

	if (wb_begin_len(w, &mark))
		return LIBSSH2_ERROR_ALLOC;
	if (k->pref[type]) {
		if (wb_bytes(w, k->pref[type], strlen(k->pref[type])))
			return LIBSSH2_ERROR_ALLOC;
	} else if (default_list(type, all, w)) {
		return LIBSSH2_ERROR_ALLOC;
	}
	if (extra && (wb_u8(w, ',') || wb_bytes(w, extra, strlen(extra))))
		return LIBSSH2_ERROR_ALLOC;
	wb_end_len(w, mark);
	return wb_ok(w) ? LIBSSH2_ERROR_ALLOC : 0;
}

int kex_start(LIBSSH2_SESSION *s)
{
	struct kex *k = &s->kex;
	struct wbuf *w = &k->i_c;
	uint8_t *cookie;
	int type, rc;

	if (k->ours_sent)
		return 0;
	wb_reset(w);
	if (wb_u8(w, SSH_MSG_KEXINIT) || wb_reserve(w, 16, &cookie))
		return sess_err(s, LIBSSH2_ERROR_ALLOC, "out of memory");
	if (crypto_random(cookie, 16))
		return sess_err(s, LIBSSH2_ERROR_RANDGEN, "no randomness");
	for (type = LIBSSH2_METHOD_KEX; type <= LIBSSH2_METHOD_LANG_SC;
	     type++) {
		/* The pseudo-algorithms ride on the first exchange only:
		 * ext-info-c (RFC 8308 2.1) and strict KEX (Terrapin). */
		const char *extra = NULL;

		if (type == LIBSSH2_METHOD_KEX && k->rounds == 0)
			extra = "ext-info-c,kex-strict-c-v00@openssh.com";
		if ((rc = put_list(s, w, type, extra)))
			return sess_err(s, rc, "out of memory");
	}
	/* first_kex_packet_follows = FALSE, reserved uint32 0 */
	if (wb_bool(w, 0) || wb_u32(w, 0))
		return sess_err(s, LIBSSH2_ERROR_ALLOC, "out of memory");
	if ((rc = tp_send(&s->tp, w->p, w->len)))
		return sess_err(s, rc, "unable to queue KEXINIT");
	k->ours_sent = 1;
	k->state = KEX_RUNNING;
	return 0;
}

/* Is `name` (n bytes) in the comma list l (ln bytes)? */
static int in_list(const char *l, size_t ln, const char *name, size_t n)
{
	while (ln > 0) {
		const char *e = memchr(l, ',', ln);
		size_t m = e ? (size_t)(e - l) : ln;

		if (m == n && !memcmp(l, name, n))
			return 1;
		if (!e)
			break;
		ln -= m + 1;
		l = e + 1;
	}
	return 0;
}

/* RFC 4253 7.1: the first algorithm on the client's list that is also on
 * the server's.  Returns its position in ours and length, or -1. */
static int choose(const char *ours, size_t on, const char *theirs, size_t tn,
		  const char **pick, size_t *plen)
{
	while (on > 0) {
		const char *e = memchr(ours, ',', on);
		size_t m = e ? (size_t)(e - ours) : on;

		if (m && in_list(theirs, tn, ours, m)) {
			*pick = ours;
			*plen = m;
			return 0;
		}
		if (!e)
			break;
		on -= m + 1;
		ours = e + 1;
	}
	return -1;
}

static const char *const type_names[] = {
	"key exchange",	     "host key",	 "cipher (client to server)",
	"cipher (server to client)", "MAC (client to server)",
	"MAC (server to client)",	 "compression (client to server)",
	"compression (server to client)", "language (client to server)",
	"language (server to client)",
};

/* Our list for a type, as a borrowed string (from i_c). */
static void our_list(struct kex *k, int type, const char **p, size_t *n)
{
	struct rbuf r;
	int i;

	rb_init(&r, k->i_c.p, k->i_c.len);
	/* type byte and cookie were written by us: cannot fail */
	if (rb_skip(&r, 17))
		return;
	for (i = 0; i <= type; i++)
		if (rb_text(&r, p, n, SSH_STRING_MAX))
			return;
}

static int negotiate(LIBSSH2_SESSION *s, const uint8_t *p, size_t n)
{
	struct kex *k = &s->kex;
	const char *lists[10], *pick, *ours;
	size_t lens[10], plen, olen;
	struct rbuf r;
	int type, follows;
	uint32_t reserved;

	rb_init(&r, p, n);
	if (rb_skip(&r, 17))
		goto bad;
	for (type = 0; type < 10; type++)
		if (rb_text(&r, &lists[type], &lens[type], SSH_STRING_MAX))
			goto bad;
	if (rb_bool(&r, &follows) || rb_u32(&r, &reserved) || rb_done(&r))
		goto bad;

	if (k->rounds == 0 &&
	    in_list(lists[0], lens[0], "kex-strict-s-v00@openssh.com", 28))
		k->strict = 1;

	for (type = 0; type < 10; type++) {
		our_list(k, type, &ours, &olen);
		if (type >= LIBSSH2_METHOD_LANG_CS && (olen == 0 || lens[type] == 0)) {
			pick = "";
			plen = 0;
		} else if (choose(ours, olen, lists[type], lens[type], &pick,
				  &plen)) {
			return sess_err(s, LIBSSH2_ERROR_KEX_FAILURE,
					"no matching %s algorithm: we offer "
					"%.*s, the server offers %.*s",
					type_names[type], (int)olen, ours,
					(int)lens[type], lists[type]);
		}
		/* Point at our static name: the result of
		 * libssh2_session_methods stays valid across rekeys. */
		k->agreed[type] = static_name(type, pick, plen);
		if (!k->agreed[type])
			return sess_err(s, LIBSSH2_ERROR_KEX_FAILURE,
					"negotiated an unknown algorithm");
	}
	k->meth = NULL;
	for (type = 0; kex_methods[type]; type++)
		if (!strcmp(kex_methods[type]->name, k->agreed[0]))
			k->meth = kex_methods[type];
	k->enc_cs = cipher_by_name(k->agreed[2], strlen(k->agreed[2]));
	k->enc_sc = cipher_by_name(k->agreed[3], strlen(k->agreed[3]));
	k->mac_cs = mac_by_name(k->agreed[4], strlen(k->agreed[4]));
	k->mac_sc = mac_by_name(k->agreed[5], strlen(k->agreed[5]));
	k->hostkey_alg = k->agreed[1];
	/* AEAD ciphers have no separate MAC (the MAC list still has to
	 * agree on something, RFC 5647 5.1 / PROTOCOL.chacha20poly1305). */
	if (!k->meth || !k->enc_cs || !k->enc_sc ||
	    (!k->enc_cs->authlen && !k->mac_cs) ||
	    (!k->enc_sc->authlen && !k->mac_sc))
		return sess_err(s, LIBSSH2_ERROR_KEX_FAILURE,
				"negotiated an algorithm we cannot use");
	/* RFC 4253 7: a guessed first packet is ignored unless the guess
	 * (first kex and host key names of both sides) was right. */
	if (follows) {
		const char *ok0, *ok1;
		size_t n0, n1;

		our_list(k, 0, &ok0, &n0);
		our_list(k, 1, &ok1, &n1);
		if (strncmp(lists[0], ok0, strcspn(ok0, ",")) ||
		    strncmp(lists[1], ok1, strcspn(ok1, ",")))
			k->ignore_guess = 1;
	}
	return 0;
bad:
	return sess_err(s, LIBSSH2_ERROR_PROTO, "malformed KEXINIT");
}

/* ---- exchange hash and keys ---------------------------------------------- */

void kex_hash_string(struct crypto_hash *h, const void *p, size_t n)
{
	uint8_t l[4];

	put_u32(l, (uint32_t)n);
	crypto_hash_update(h, l, 4);
	crypto_hash_update(h, p, n);
}

void kex_hash_mpint(struct crypto_hash *h, const uint8_t *p, size_t n)
{
	uint8_t l[5];

	while (n > 0 && p[0] == 0) {
		p++;
		n--;
	}
	if (n > 0 && (p[0] & 0x80)) {
		put_u32(l, (uint32_t)n + 1);
		l[4] = 0;
		crypto_hash_update(h, l, 5);
	} else {
		put_u32(l, (uint32_t)n);
		crypto_hash_update(h, l, 4);
	}
	crypto_hash_update(h, p, n);
}

int kex_hash_prefix(LIBSSH2_SESSION *s, struct kex *k, struct crypto_hash *h,
		    const uint8_t *ks, size_t kslen)
{
	const char *vc = s->local_banner ? s->local_banner
					 : LIBSSH2_SSH_DEFAULT_BANNER;

	if (crypto_hash_init(h, k->meth->hash))
		return LIBSSH2_ERROR_HASH_INIT;
	kex_hash_string(h, vc, strlen(vc));
	kex_hash_string(h, s->remote_banner, strlen(s->remote_banner));
	kex_hash_string(h, k->i_c.p, k->i_c.len);
	kex_hash_string(h, k->i_s.p, k->i_s.len);
	kex_hash_string(h, ks, kslen);
	return 0;
}

/* K as the method encodes it (RFC 4253 §7.2 mpint; string for hybrids) */
static void hash_K(struct crypto_hash *h, const struct kex *k)
{
	if (k->meth->k_string)
		kex_hash_string(h, k->K, k->Klen);
	else
		kex_hash_mpint(h, k->K, k->Klen);
}

void kex_hash_finish(struct kex *k, struct crypto_hash *h)
{
	hash_K(h, k);
	k->hlen = crypto_hash_len(k->meth->hash);
	crypto_hash_final(h, k->h);
	if (k->sidlen == 0) {
		memcpy(k->session_id, k->h, k->hlen);
		k->sidlen = k->hlen;
	}
}

int kex_check_hostkey(LIBSSH2_SESSION *s, struct kex *k, const uint8_t *ks,
		      size_t kslen, const uint8_t *sig, size_t siglen)
{
	int rc;

	rc = hostkey_verify(k->hostkey_alg, ks, kslen, sig, siglen, k->h,
			    k->hlen);
	if (rc)
		return sess_err(s, rc,
				"the server's host key signature (%s) does "
				"not verify",
				k->hostkey_alg);
	if (k->hostkey) {
		/* A rekey must not change the server's identity. */
		if (k->hostkey_len != kslen || memcmp(k->hostkey, ks, kslen))
			return sess_err(s, LIBSSH2_ERROR_HOSTKEY_SIGN,
					"the server's host key changed during "
					"a rekey");
		return 0;
	}
	k->hostkey = la_alloc(&s->a, kslen);
	if (!k->hostkey)
		return sess_err(s, LIBSSH2_ERROR_ALLOC, "out of memory");
	memcpy(k->hostkey, ks, kslen);
	k->hostkey_len = kslen;
	k->hostkey_type = hostkey_type(ks, kslen);
	if (crypto_hash(CRYPTO_MD5, ks, kslen, k->hk_md5) ||
	    crypto_hash(CRYPTO_SHA1, ks, kslen, k->hk_sha1) ||
	    crypto_hash(CRYPTO_SHA256, ks, kslen, k->hk_sha256))
		return sess_err(s, LIBSSH2_ERROR_HASH_CALC, "hash failed");
	return 0;
}

/* RFC 4253 7.2: HASH(K || H || letter || session_id), extended by
 * HASH(K || H || K1 || ... ) until `need` bytes. */
int kex_derive(const struct kex *k, char letter, uint8_t *out, size_t need)
{
	uint8_t block[CRYPTO_HASH_MAX_LEN];
	struct crypto_hash base, h;
	size_t have = 0, hl = crypto_hash_len(k->meth->hash);

	if (crypto_hash_init(&base, k->meth->hash))
		return LIBSSH2_ERROR_HASH_INIT;
	hash_K(&base, k);
	crypto_hash_update(&base, k->h, k->hlen);
	crypto_hash_clone(&h, &base);
	crypto_hash_update(&h, &letter, 1);
	crypto_hash_update(&h, k->session_id, k->sidlen);
	crypto_hash_final(&h, block);
	while (1) {
		size_t take = need - have < hl ? need - have : hl;

		memcpy(out + have, block, take);
		have += take;
		crypto_hash_update(&base, block, hl);
		if (have >= need)
			break;
		crypto_hash_clone(&h, &base);
		crypto_hash_final(&h, block);
	}
	crypto_wipe(&base, sizeof(base));
	crypto_wipe(block, sizeof(block));
	return 0;
}

/* 64-byte keys (chacha20-poly1305) are the largest we need. */
#define KEY_MAX 64

static int make_dir(struct kex *k, struct tp_dir *d, const struct cipher_def *c,
		    const struct mac_def *m, int encrypt, char iv_l, char key_l,
		    char mac_l)
{
	uint8_t iv[KEY_MAX], key[KEY_MAX], mkey[KEY_MAX];
	int rc = -1;

	if (c->authlen)
		m = NULL;
	if (kex_derive(k, iv_l, iv, c->ivlen ? c->ivlen : 1) ||
	    kex_derive(k, key_l, key, c->keylen) ||
	    (m && kex_derive(k, mac_l, mkey, m->keylen)))
		goto out;
	rc = tp_dir_init(d, c, m, encrypt, key, iv, mkey);
out:
	crypto_wipe(iv, sizeof(iv));
	crypto_wipe(key, sizeof(key));
	crypto_wipe(mkey, sizeof(mkey));
	return rc;
}

/* The method finished: send NEWKEYS, switch our direction, and prepare
 * the inbound keys for the server's NEWKEYS. */
static int keys_ready(LIBSSH2_SESSION *s, struct kex *k)
{
	uint8_t nk = SSH_MSG_NEWKEYS;
	int rc;
	const char *zcs = k->agreed[LIBSSH2_METHOD_COMP_CS],
		   *zsc = k->agreed[LIBSSH2_METHOD_COMP_SC];

	if (make_dir(k, tp_tx_next(&s->tp), k->enc_cs, k->mac_cs, 1, 'A', 'C',
		     'E') ||
	    make_dir(k, tp_rx_next(&s->tp), k->enc_sc, k->mac_sc, 0, 'B', 'D',
		     'F'))
		return sess_err(s, LIBSSH2_ERROR_KEX_FAILURE,
				"unable to set up the new keys");
	/* The compression of each direction goes with its keys. */
	tp_tx_next(&s->tp)->comp = comp_by_name(zcs, strlen(zcs));
	tp_rx_next(&s->tp)->comp = comp_by_name(zsc, strlen(zsc));
	if ((rc = tp_send(&s->tp, &nk, 1)))
		return sess_err(s, rc, "unable to queue NEWKEYS");
	tp_tx_rekey(&s->tp, k->strict);
	crypto_wipe(k->K, sizeof(k->K));
	k->Klen = 0;
	if (k->meth->cleanup)
		k->meth->cleanup(k);
	k->state = KEX_NEWKEYS;
	return 0;
}

int kex_handle(LIBSSH2_SESSION *s, const uint8_t *p, size_t n)
{
	struct kex *k = &s->kex;
	struct rbuf r;
	int rc;

	switch (p[0]) {
	case SSH_MSG_KEXINIT:
		if (k->theirs_recv)
			return sess_err(s, LIBSSH2_ERROR_PROTO,
					"second KEXINIT in one exchange");
		if (k->state == KEX_IDLE && (rc = kex_start(s)))
			return rc;
		wb_reset(&k->i_s);
		if (wb_bytes(&k->i_s, p, n))
			return sess_err(s, LIBSSH2_ERROR_ALLOC,
					"out of memory");
		k->theirs_recv = 1;
		if ((rc = negotiate(s, p, n)))
			return rc;
		return k->meth->start(s, k);
	case SSH_MSG_NEWKEYS:
		if (k->state != KEX_NEWKEYS || n != 1)
			return sess_err(s, LIBSSH2_ERROR_PROTO,
					"unexpected NEWKEYS");
		tp_rx_rekey(&s->tp, k->strict);
		k->state = KEX_IDLE;
		k->ours_sent = k->theirs_recv = 0;
		k->rounds++;
		k->started_ms = sess_now_ms();
		wb_free(&k->i_c);
		wb_free(&k->i_s);
		return 0;
	}
	if (k->ignore_guess) {
		k->ignore_guess = 0;
		return 0;
	}
	if (k->state != KEX_RUNNING || !k->theirs_recv)
		return sess_err(s, LIBSSH2_ERROR_PROTO,
				"key exchange message %u out of order", p[0]);
	rb_init(&r, p + 1, n - 1);
	rc = k->meth->recv(s, k, p[0], &r);
	if (rc <= 0)
		return rc;
	return keys_ready(s, k);
}

void kex_free(LIBSSH2_SESSION *s, struct kex *k)
{
	int i;

	if (k->meth && k->meth->cleanup)
		k->meth->cleanup(k);
	for (i = 0; i < KEX_NTYPES; i++)
		la_free(&s->a, k->pref[i]);
	wb_free(&k->i_c);
	wb_free(&k->i_s);
	la_free(&s->a, k->hostkey);
	la_free(&s->a, k->server_sig_algs);
	crypto_wipe(k, sizeof(*k));
}

/* ---- curve25519-sha256 (RFC 8731) ----------------------------------------- */

static int c25519_start(LIBSSH2_SESSION *s, struct kex *k)
{
	int rc;

	if (crypto_random(k->eph_priv, 32))
		return sess_err(s, LIBSSH2_ERROR_RANDGEN, "no randomness");
	if (x25519_base(k->eph_pub, k->eph_priv))
		return sess_err(s, LIBSSH2_ERROR_KEX_FAILURE, "x25519 failed");
	if ((rc = tp_pkt_begin(&s->tp, SSH_MSG_KEX_ECDH_INIT)))
		return sess_err(s, rc, "out of memory");
	if (wb_string(&s->tp.out, k->eph_pub, 32)) {
		tp_pkt_abort(&s->tp);
		return sess_err(s, LIBSSH2_ERROR_ALLOC, "out of memory");
	}
	if ((rc = tp_pkt_end(&s->tp)))
		return sess_err(s, rc, "unable to queue ECDH_INIT");
	return 0;
}

static int c25519_recv(LIBSSH2_SESSION *s, struct kex *k, uint8_t type,
		       struct rbuf *r)
{
	const uint8_t *ks, *qs, *sig;
	size_t kslen, qslen, siglen;
	struct crypto_hash h;
	int rc;

	if (type != SSH_MSG_KEX_ECDH_REPLY)
		return sess_err(s, LIBSSH2_ERROR_PROTO,
				"unexpected message %u in curve25519 exchange",
				type);
	if (rb_string(r, &ks, &kslen, SSH_STRING_MAX) ||
	    rb_string(r, &qs, &qslen, 32) ||
	    rb_string(r, &sig, &siglen, SSH_STRING_MAX) || rb_done(r) ||
	    qslen != 32)
		return sess_err(s, LIBSSH2_ERROR_PROTO,
				"malformed ECDH_REPLY");
	/* RFC 8731 3: an all-zero shared secret (low-order point) aborts. */
	if (x25519(k->K, k->eph_priv, qs))
		return sess_err(s, LIBSSH2_ERROR_KEX_FAILURE,
				"the server's curve25519 key is invalid");
	k->Klen = 32;
	if ((rc = kex_hash_prefix(s, k, &h, ks, kslen)))
		return sess_err(s, rc, "hash failed");
	kex_hash_string(&h, k->eph_pub, 32);
	kex_hash_string(&h, qs, 32);
	kex_hash_finish(k, &h);
	if ((rc = kex_check_hostkey(s, k, ks, kslen, sig, siglen)))
		return rc;
	return 1;
}

static void c25519_cleanup(struct kex *k)
{
	crypto_wipe(k->eph_priv, sizeof(k->eph_priv));
}

const struct kex_method kex_curve25519_sha256 = {
	"curve25519-sha256", CRYPTO_SHA256, c25519_start, c25519_recv,
	c25519_cleanup, 0, 0,
};

const struct kex_method kex_curve25519_sha256_libssh = {
	"curve25519-sha256@libssh.org", CRYPTO_SHA256, c25519_start,
	c25519_recv, c25519_cleanup, 0, 0,
};
