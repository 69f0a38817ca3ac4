/*
 * knownhost.c - the known-hosts collection of the libssh2 API: its
 * entries, and the check of a server's host key against them.  Reading
 * and writing OpenSSH known_hosts lines (format in knownhost.h) is in
 * knownhost_file.c; base64 and OpenSSH's patterns are here.
 *
 * Behaviour is libssh2 1.11.1's where libssh2 defines it (return codes,
 * the order of the checks, how lists of names become entries), and
 * OpenSSH's file format where libssh2 does not handle a feature:
 *  - a list of plain names is split into one entry per name, the last
 *    name first, as libssh2 does; a list with a wildcard ('*', '?') or a
 *    negation ('!') is kept whole in one entry and matched by OpenSSH's
 *    rules, so that a negation still applies to the rest of its line;
 *  - plain names and patterns match ASCII case-insensitively (OpenSSH
 *    lower-cases the host name it looks up; libssh2 compares exactly);
 *  - "@cert-authority" lines are kept and written back, but never match:
 *    host certificates are not supported;
 *  - a key on a "@revoked" line whose names match the host is refused
 *    whatever else the collection says: the check returns
 *    LIBSSH2_KNOWNHOST_CHECK_MISMATCH (the key must not be trusted for
 *    this host) with the revoked entry, and records why in the session.
 */
#include <stdio.h>
#include <string.h>

#include "libssh2.h"

#include "crypto/crypto.h"
#include "knownhost.h"
#include "session.h"

/* ---- base64 (RFC 4648 §4) ----------------------------------------------- */

static const char kh_b64[] =
	"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

size_t kh_b64_encode(const uint8_t *in, size_t n, char *out)
{
	size_t i, o = 0;
	uint32_t v;

	for (i = 0; n - i >= 3; i += 3) {
		v = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8 |
		    in[i + 2];
		out[o++] = kh_b64[v >> 18];
		out[o++] = kh_b64[v >> 12 & 63];
		out[o++] = kh_b64[v >> 6 & 63];
		out[o++] = kh_b64[v & 63];
	}
	if (i < n) {
		v = (uint32_t)in[i] << 16;
		if (n - i > 1)
			v |= (uint32_t)in[i + 1] << 8;
		out[o++] = kh_b64[v >> 18];
		out[o++] = kh_b64[v >> 12 & 63];
		out[o++] = n - i > 1 ? kh_b64[v >> 6 & 63] : '=';
		out[o++] = '=';
	}
	out[o] = '\0';
	return o;
}

static int kh_b64_value(unsigned char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+')
		return 62;
	return c == '/' ? 63 : -1;
}

int kh_b64_decode(const char *in, size_t n, uint8_t *out, size_t *outlen,
		  int strict)
{
	uint32_t acc = 0;
	size_t i, o = 0, cnt = 0, pad = 0;
	int v;

	for (i = 0; i < n; i++) {
		if (strict && in[i] == '=') {
			pad++;
			continue;
		}
		if ((v = kh_b64_value((unsigned char)in[i])) < 0) {
			if (strict)
				return -1;
			continue;
		}
		if (pad)
			return -1; /* data after the padding */
		acc = acc << 6 | (uint32_t)v;
		if (++cnt % 4 == 0 && out) {
			out[o++] = (uint8_t)(acc >> 16);
			out[o++] = (uint8_t)(acc >> 8);
			out[o++] = (uint8_t)acc;
		}
	}
	if (cnt % 4 == 1 || pad > 2 || (pad && (cnt + pad) % 4))
		return -1;
	if (!out) {
		/* only checking */
	} else if (cnt % 4 == 2) {
		out[o++] = (uint8_t)(acc >> 4);
	} else if (cnt % 4 == 3) {
		out[o++] = (uint8_t)(acc >> 10);
		out[o++] = (uint8_t)(acc >> 2);
	}
	*outlen = o;
	return 0;
}

/*
 * libssh2's deprecated public decoder: lenient like libssh2's (characters
 * outside the alphabet are skipped), the result allocated with the
 * session's allocator (free with libssh2_free).
 */
LIBSSH2_API int libssh2_base64_decode(LIBSSH2_SESSION *session, char **dest,
				      unsigned int *dest_len, const char *src,
				      unsigned int src_len)
{
	uint8_t *out;
	size_t n;

	if (!session)
		return LIBSSH2_ERROR_INVAL;
	if (!dest || (!src && src_len))
		return sess_err(session, LIBSSH2_ERROR_INVAL,
				"base64 decode: no source or destination");
	out = la_alloc(&session->a, (size_t)src_len / 4 * 3 + 3);
	if (!out)
		return sess_err(
			session, LIBSSH2_ERROR_ALLOC,
			"unable to allocate memory for base64 decoding");
	if (kh_b64_decode(src, src_len, out, &n, 0)) {
		la_free(&session->a, out);
		return sess_err(session, LIBSSH2_ERROR_INVAL, "invalid base64");
	}
	*dest = (char *)out;
	if (dest_len)
		*dest_len = (unsigned int)n;
	return 0;
}

/* ---- OpenSSH patterns --------------------------------------------------- */

static unsigned char kh_lower(char c)
{
	return c >= 'A' && c <= 'Z' ? (unsigned char)(c + 'a' - 'A')
				    : (unsigned char)c;
}

/* Greedy matching with one backtrack point: quadratic at worst, no
 * recursion for a hostile pattern to exhaust. */
int kh_glob(const char *s, size_t sn, const char *p, size_t pn)
{
	size_t si = 0, pi = 0, star = 0, mark = 0;
	int have_star = 0;

	while (si < sn) {
		if (pi < pn && p[pi] == '*') {
			have_star = 1;
			star = ++pi;
			mark = si;
		} else if (pi < pn && (p[pi] == '?' ||
				       kh_lower(p[pi]) == kh_lower(s[si]))) {
			pi++;
			si++;
		} else if (have_star) {
			pi = star;
			si = ++mark;
		} else {
			return 0;
		}
	}
	while (pi < pn && p[pi] == '*')
		pi++;
	return pi == pn;
}

int kh_match_list(const char *s, const char *list, size_t n)
{
	size_t i, j, sn = strlen(s);
	int found = 0, neg;

	for (i = 0; i <= n; i = j + 1) {
		for (j = i; j < n && list[j] != ','; j++)
			;
		neg = j > i && list[i] == '!';
		if (kh_glob(s, sn, list + i + neg, j - i - (size_t)neg)) {
			if (neg)
				return -1; /* sshd(8): not by this line */
			found = 1;
		}
	}
	return found;
}

/* ---- entries ------------------------------------------------------------ */

static struct libssh2_knownhost *kh_external(struct kh_node *n)
{
	n->ext.magic = KH_MAGIC;
	n->ext.node = n;
	n->ext.name = kh_type(n->typemask) == LIBSSH2_KNOWNHOST_TYPE_PLAIN
			      ? n->name
			      : NULL;
	n->ext.key = n->key;
	n->ext.typemask = n->typemask;
	return &n->ext;
}

/* The entry behind a handle from get/check, or NULL if it is not one of
 * this collection's. */
struct kh_node *kh_from_ext(LIBSSH2_KNOWNHOSTS *h, struct libssh2_knownhost *e)
{
	struct kh_node *n = (struct kh_node *)e;

	if (!e || e->magic != KH_MAGIC || e->node != n || n->owner != h)
		return NULL;
	return n;
}

static void kh_node_free(LIBSSH2_KNOWNHOSTS *h, struct kh_node *n)
{
	const struct lalloc *a = &h->s->a;

	la_free(a, n->name);
	la_free(a, n->salt);
	la_free(a, n->key);
	la_free(a, n->type_name);
	la_free(a, n->comment);
	memset(n, 0, sizeof(*n)); /* a stale handle fails the magic check */
	la_free(a, n);
}

static void kh_append(LIBSSH2_KNOWNHOSTS *h, struct kh_node *n)
{
	n->prev = h->tail;
	n->next = NULL;
	if (h->tail)
		h->tail->next = n;
	else
		h->head = n;
	h->tail = n;
}

static void kh_unlink(LIBSSH2_KNOWNHOSTS *h, struct kh_node *n)
{
	if (n->prev)
		n->prev->next = n->next;
	else
		h->head = n->next;
	if (n->next)
		n->next->prev = n->prev;
	else
		h->tail = n->prev;
}

/* Drop the entries added after mark (NULL: all): undoes a half-added
 * line. */
void kh_truncate(LIBSSH2_KNOWNHOSTS *h, struct kh_node *mark)
{
	struct kh_node *n;

	while ((n = h->tail) && n != mark) {
		kh_unlink(h, n);
		kh_node_free(h, n);
	}
}

/* A bad field: a parse error (libssh2's code for those) from a file, an
 * invalid argument from the API. */
int kh_bad(LIBSSH2_KNOWNHOSTS *h, const struct kh_spec *sp, const char *what)
{
	if (sp->strict)
		return sess_err(h->s, LIBSSH2_ERROR_METHOD_NOT_SUPPORTED,
				"bad known_hosts line: %s", what);
	return sess_err(h->s, LIBSSH2_ERROR_INVAL, "known host: %s", what);
}

/* One field of a line: no blank, control character or DEL. */
static int kh_is_field(const char *p, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if ((unsigned char)p[i] <= ' ' || p[i] == 0x7f)
			return 0;
	return n > 0;
}

/* Text to the end of the line: no NUL or line break. */
static int kh_is_text(const char *p, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (p[i] == '\0' || p[i] == '\n' || p[i] == '\r')
			return 0;
	return 1;
}

/* Decode a base64 salt or hash into a fresh buffer of 1..KH_SALT_MAX. */
static int kh_decode(LIBSSH2_KNOWNHOSTS *h, const struct kh_spec *sp,
		     const char *p, size_t n, uint8_t **out, size_t *len)
{
	uint8_t *b;

	if (n > KH_LINE_MAX)
		return kh_bad(h, sp, "hashed name too long");
	if (!(b = la_alloc(&h->s->a, n / 4 * 3 + 3)))
		return sess_err(h->s, LIBSSH2_ERROR_ALLOC,
				"unable to allocate a hashed host name");
	if (kh_b64_decode(p, n, b, len, sp->strict) || !*len) {
		la_free(&h->s->a, b);
		return sess_err(h->s, LIBSSH2_ERROR_INVAL,
				"invalid base64 in a hashed host name");
	}
	if (*len > KH_SALT_MAX) {
		la_free(&h->s->a, b);
		return kh_bad(h, sp, "hashed name too long");
	}
	*out = b;
	return 0;
}

static int kh_set_name(LIBSSH2_KNOWNHOSTS *h, struct kh_node *n,
		       const struct kh_spec *sp)
{
	uint8_t *hash;
	int rc;

	switch (kh_type(sp->typemask)) {
	case LIBSSH2_KNOWNHOST_TYPE_PLAIN:
	case LIBSSH2_KNOWNHOST_TYPE_CUSTOM:
		if (!kh_is_field(sp->name, sp->name_len) ||
		    sp->name_len > KH_LINE_MAX)
			return kh_bad(h, sp, "invalid host name");
		n->name = la_strndup(&h->s->a, sp->name, sp->name_len);
		n->name_len = sp->name_len;
		return n->name ? 0 : LIBSSH2_ERROR_ALLOC;
	case LIBSSH2_KNOWNHOST_TYPE_SHA1:
		if (!sp->salt)
			return sess_err(h->s, LIBSSH2_ERROR_INVAL,
					"a hashed host name needs its salt");
		if ((rc = kh_decode(h, sp, sp->name, sp->name_len, &hash,
				    &n->name_len)))
			return rc;
		n->name = (char *)hash;
		if ((rc = kh_decode(h, sp, sp->salt, sp->salt_len, &n->salt,
				    &n->salt_len)))
			return rc;
		if (sp->strict && n->name_len != KH_HASH_LEN)
			return kh_bad(h, sp, "hash of unexpected length");
		return 0;
	}
	return sess_err(h->s, LIBSSH2_ERROR_METHOD_NOT_SUPPORTED,
			"unknown host name type %d", kh_type(sp->typemask));
}

static int kh_set_key(LIBSSH2_KNOWNHOSTS *h, struct kh_node *n,
		      const struct kh_spec *sp)
{
	size_t len = sp->key_len, dummy;
	int rsa1 = kh_key(sp->typemask) == LIBSSH2_KNOWNHOST_KEY_RSA1;

	if (!(sp->typemask & LIBSSH2_KNOWNHOST_KEYENC_BASE64)) {
		/* raw blob: kept base64-encoded, as libssh2 does */
		if (!len || len > KH_LINE_MAX / 4 * 3)
			return kh_bad(h, sp, "invalid key length");
		if (!(n->key = la_alloc(&h->s->a, kh_b64_enclen(len) + 1)))
			return LIBSSH2_ERROR_ALLOC;
		kh_b64_encode((const uint8_t *)sp->key, len, n->key);
		return 0;
	}
	if (!len)
		len = strlen(sp->key);
	/* SSH-1 RSA keys are "bits exponent modulus", blanks included */
	if (len > KH_LINE_MAX || !(rsa1 ? len && kh_is_text(sp->key, len)
					: kh_is_field(sp->key, len)))
		return kh_bad(h, sp, "invalid key");
	if (sp->strict && !rsa1 && kh_b64_decode(sp->key, len, NULL, &dummy, 1))
		return kh_bad(h, sp, "key is not base64");
	n->key = la_strndup(&h->s->a, sp->key, len);
	return n->key ? 0 : LIBSSH2_ERROR_ALLOC;
}

static int kh_set_extras(LIBSSH2_KNOWNHOSTS *h, struct kh_node *n,
			 const struct kh_spec *sp)
{
	const struct lalloc *a = &h->s->a;

	if (sp->type_name &&
	    kh_key(sp->typemask) == LIBSSH2_KNOWNHOST_KEY_UNKNOWN) {
		if (!kh_is_field(sp->type_name, sp->type_name_len) ||
		    sp->type_name_len > KH_TYPE_NAME_MAX)
			return kh_bad(h, sp, "invalid key type");
		n->type_name = la_strndup(a, sp->type_name, sp->type_name_len);
		if (!n->type_name)
			return LIBSSH2_ERROR_ALLOC;
	}
	if (sp->comment) {
		if (sp->comment_len > KH_LINE_MAX ||
		    !kh_is_text(sp->comment, sp->comment_len))
			return kh_bad(h, sp, "invalid comment");
		n->comment = la_strndup(a, sp->comment, sp->comment_len);
		if (!n->comment)
			return LIBSSH2_ERROR_ALLOC;
	}
	return 0;
}

/* Add one entry at the end of the collection (libssh2 appends too). */
int kh_insert(LIBSSH2_KNOWNHOSTS *h, const struct kh_spec *sp,
	      struct kh_node **out)
{
	struct kh_node *n;
	int rc;

	if (!kh_key(sp->typemask))
		return sess_err(h->s, LIBSSH2_ERROR_INVAL,
				"known host: the typemask names no key type");
	if (!(n = la_calloc(&h->s->a, sizeof(*n))))
		return sess_err(h->s, LIBSSH2_ERROR_ALLOC,
				"unable to allocate a known host entry");
	n->owner = h;
	n->marker = sp->marker;
	/* the key is kept base64 whatever it came as: say so */
	n->typemask = (sp->typemask & ~LIBSSH2_KNOWNHOST_KEYENC_MASK) |
		      LIBSSH2_KNOWNHOST_KEYENC_BASE64;
	if ((rc = kh_set_name(h, n, sp)) || (rc = kh_set_key(h, n, sp)) ||
	    (rc = kh_set_extras(h, n, sp))) {
		if (rc == LIBSSH2_ERROR_ALLOC)
			sess_err(h->s, rc, "unable to allocate a known host");
		kh_node_free(h, n);
		return rc;
	}
	kh_append(h, n);
	*out = n;
	return 0;
}

/* ---- the collection ----------------------------------------------------- */

LIBSSH2_API LIBSSH2_KNOWNHOSTS *libssh2_knownhost_init(LIBSSH2_SESSION *session)
{
	LIBSSH2_KNOWNHOSTS *h;

	if (!session)
		return NULL;
	if (!(h = la_calloc(&session->a, sizeof(*h)))) {
		sess_err(session, LIBSSH2_ERROR_ALLOC,
			 "unable to allocate a known-hosts collection");
		return NULL;
	}
	h->s = session;
	return h;
}

LIBSSH2_API void libssh2_knownhost_free(LIBSSH2_KNOWNHOSTS *hosts)
{
	if (!hosts)
		return;
	kh_truncate(hosts, NULL);
	la_free(&hosts->s->a, hosts);
}

LIBSSH2_API int libssh2_knownhost_addc(LIBSSH2_KNOWNHOSTS *hosts,
				       const char *host, const char *salt,
				       const char *key, size_t keylen,
				       const char *comment, size_t commentlen,
				       int typemask,
				       struct libssh2_knownhost **store)
{
	struct kh_spec sp = {0};
	struct kh_node *n;
	int rc;

	if (!hosts)
		return LIBSSH2_ERROR_INVAL;
	if (!host || !key)
		return sess_err(hosts->s, LIBSSH2_ERROR_INVAL,
				"known host: no host name or key");
	sp.name = host;
	sp.name_len = strlen(host);
	sp.salt = salt;
	sp.salt_len = salt ? strlen(salt) : 0;
	sp.key = key;
	sp.key_len = keylen;
	sp.comment = comment;
	sp.comment_len = comment ? commentlen : 0;
	sp.typemask = typemask;
	if ((rc = kh_insert(hosts, &sp, &n)))
		return rc;
	if (store)
		*store = kh_external(n);
	return 0;
}

LIBSSH2_API int libssh2_knownhost_add(LIBSSH2_KNOWNHOSTS *hosts,
				      const char *host, const char *salt,
				      const char *key, size_t keylen,
				      int typemask,
				      struct libssh2_knownhost **store)
{
	return libssh2_knownhost_addc(hosts, host, salt, key, keylen, NULL, 0,
				      typemask, store);
}

LIBSSH2_API int libssh2_knownhost_del(LIBSSH2_KNOWNHOSTS *hosts,
				      struct libssh2_knownhost *entry)
{
	struct kh_node *n;

	if (!hosts)
		return LIBSSH2_ERROR_INVAL;
	if (!(n = kh_from_ext(hosts, entry)))
		return sess_err(hosts->s, LIBSSH2_ERROR_INVAL,
				"not an entry of this known-hosts collection");
	kh_unlink(hosts, n);
	kh_node_free(hosts, n);
	return 0;
}

/* 0 with the next entry after prev (NULL: the first), 1 at the end. */
LIBSSH2_API int libssh2_knownhost_get(LIBSSH2_KNOWNHOSTS *hosts,
				      struct libssh2_knownhost **store,
				      struct libssh2_knownhost *prev)
{
	struct kh_node *n;

	if (!hosts)
		return LIBSSH2_ERROR_INVAL;
	if (!store)
		return sess_err(hosts->s, LIBSSH2_ERROR_INVAL,
				"known host: no place to store the entry");
	if (prev && prev->node) {
		if (!(n = kh_from_ext(hosts, prev)))
			return sess_err(
				hosts->s, LIBSSH2_ERROR_INVAL,
				"not an entry of this known-hosts collection");
		n = n->next;
	} else {
		n = hosts->head;
	}
	if (!n)
		return 1;
	*store = kh_external(n);
	return 0;
}

/* ---- checking a host key ------------------------------------------------ */

static int kh_hash_once(const struct kh_node *n, const char *host, size_t len)
{
	uint8_t mac[CRYPTO_HASH_MAX_LEN];

	if (n->name_len != KH_HASH_LEN ||
	    crypto_hmac(CRYPTO_SHA1, n->salt, n->salt_len, host, len, mac))
		return 0;
	return !memcmp(mac, n->name, KH_HASH_LEN);
}

/* OpenSSH hashes the lower-cased name: try that too. */
static int kh_hash_match(const struct kh_node *n, const char *host)
{
	char low[KH_NAME_MAX + 16];
	size_t i, len = strlen(host);
	int differs = 0;

	if (kh_hash_once(n, host, len))
		return 1;
	if (len >= sizeof(low))
		return 0;
	for (i = 0; i < len; i++) {
		low[i] = (char)kh_lower(host[i]);
		differs |= low[i] != host[i];
	}
	return differs && kh_hash_once(n, low, len);
}

/* Does entry n name host, given in the caller's format type? */
static int kh_name_match(const struct kh_node *n, int type, const char *host)
{
	switch (kh_type(n->typemask)) {
	case LIBSSH2_KNOWNHOST_TYPE_PLAIN:
		return type == LIBSSH2_KNOWNHOST_TYPE_PLAIN &&
		       kh_match_list(host, n->name, n->name_len) == 1;
	case LIBSSH2_KNOWNHOST_TYPE_CUSTOM:
		return type == LIBSSH2_KNOWNHOST_TYPE_CUSTOM &&
		       !strcmp(host, n->name);
	case LIBSSH2_KNOWNHOST_TYPE_SHA1:
		return type == LIBSSH2_KNOWNHOST_TYPE_PLAIN &&
		       kh_hash_match(n, host);
	}
	return 0;
}

/* libssh2: never for a key type the caller calls unknown, any type when
 * the caller gives none, else the same type. */
static int kh_type_ok(int typemask, const struct kh_node *n)
{
	int want = kh_key(typemask);

	return want != LIBSSH2_KNOWNHOST_KEY_UNKNOWN &&
	       (!want || want == kh_key(n->typemask));
}

static struct kh_node *kh_revoked(LIBSSH2_KNOWNHOSTS *h,
				  const char *const *names, int nn, int type,
				  const char *key)
{
	struct kh_node *n;
	int i;

	for (i = 0; i < nn; i++)
		for (n = h->head; n; n = n->next)
			if (n->marker == KH_MARK_REVOKED &&
			    !strcmp(key, n->key) &&
			    kh_name_match(n, type, names[i]))
				return n;
	return NULL;
}

/*
 * libssh2's order: each name in turn ("[host]:port" before "host"), each
 * entry in collection order; the first entry with the key is a MATCH,
 * else the first with the name and another key makes a MISMATCH.
 */
static int kh_find(LIBSSH2_KNOWNHOSTS *h, const char *const *names, int nn,
		   const char *key, int typemask, struct kh_node **hit)
{
	struct kh_node *n, *bad = NULL;
	int i, type = kh_type(typemask);

	if ((*hit = kh_revoked(h, names, nn, type, key))) {
		sess_err(h->s, LIBSSH2_ERROR_KNOWN_HOSTS,
			 "the host key of %s is marked @revoked",
			 names[nn - 1]);
		return LIBSSH2_KNOWNHOST_CHECK_MISMATCH;
	}
	for (i = 0; i < nn; i++) {
		for (n = h->head; n; n = n->next) {
			if (n->marker != KH_MARK_NONE ||
			    !kh_name_match(n, type, names[i]) ||
			    !kh_type_ok(typemask, n))
				continue;
			if (!strcmp(key, n->key)) {
				*hit = n;
				return LIBSSH2_KNOWNHOST_CHECK_MATCH;
			}
			if (!bad)
				bad = n;
		}
	}
	*hit = bad;
	return bad ? LIBSSH2_KNOWNHOST_CHECK_MISMATCH
		   : LIBSSH2_KNOWNHOST_CHECK_NOTFOUND;
}

static int kh_check(LIBSSH2_KNOWNHOSTS *h, const char *host, int port,
		    const char *key, size_t keylen, int typemask,
		    struct libssh2_knownhost **ext)
{
	char buf[KH_NAME_MAX + 16];
	const char *names[2];
	struct kh_node *hit;
	char *enc = NULL;
	int nn = 0, rc, len;

	if (!h)
		return LIBSSH2_KNOWNHOST_CHECK_FAILURE;
	if (!host || !key) {
		sess_err(h->s, LIBSSH2_ERROR_INVAL, "no host name or key");
		return LIBSSH2_KNOWNHOST_CHECK_FAILURE;
	}
	/* libssh2: a hash cannot be looked up, it is no match */
	if (kh_type(typemask) == LIBSSH2_KNOWNHOST_TYPE_SHA1)
		return LIBSSH2_KNOWNHOST_CHECK_MISMATCH;
	if (port >= 0) {
		len = snprintf(buf, sizeof(buf), "[%s]:%d", host, port);
		if (len < 0 || (size_t)len >= sizeof(buf)) {
			sess_err(h->s, LIBSSH2_ERROR_BUFFER_TOO_SMALL,
				 "host name too long");
			return LIBSSH2_KNOWNHOST_CHECK_FAILURE;
		}
		names[nn++] = buf;
	}
	names[nn++] = host;
	if (!(typemask & LIBSSH2_KNOWNHOST_KEYENC_BASE64)) {
		/* libssh2 1.11.1 cannot encode an empty key and fails too */
		if (!keylen) {
			sess_err(h->s, LIBSSH2_ERROR_INVAL, "empty host key");
			return LIBSSH2_KNOWNHOST_CHECK_FAILURE;
		}
		if (keylen > KH_LINE_MAX / 4 * 3 ||
		    !(enc = la_alloc(&h->s->a, kh_b64_enclen(keylen) + 1))) {
			sess_err(h->s, LIBSSH2_ERROR_ALLOC,
				 "unable to encode the host key");
			return LIBSSH2_KNOWNHOST_CHECK_FAILURE;
		}
		kh_b64_encode((const uint8_t *)key, keylen, enc);
		key = enc;
	}
	rc = kh_find(h, names, nn, key, typemask, &hit);
	if (hit && ext)
		*ext = kh_external(hit);
	la_free(&h->s->a, enc);
	return rc;
}

LIBSSH2_API int libssh2_knownhost_checkp(LIBSSH2_KNOWNHOSTS *hosts,
					 const char *host, int port,
					 const char *key, size_t keylen,
					 int typemask,
					 struct libssh2_knownhost **knownhost)
{
	return kh_check(hosts, host, port, key, keylen, typemask, knownhost);
}

LIBSSH2_API int libssh2_knownhost_check(LIBSSH2_KNOWNHOSTS *hosts,
					const char *host, const char *key,
					size_t keylen, int typemask,
					struct libssh2_knownhost **knownhost)
{
	return kh_check(hosts, host, -1, key, keylen, typemask, knownhost);
}
