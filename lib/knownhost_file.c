/*
 * knownhost_file.c - known_hosts lines and files for the libssh2_knownhost
 * API: libssh2_knownhost_readline/readfile and writeline/writefile.  The
 * format is in knownhost.h; the collection and the checks in knownhost.c.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>

#include "libssh2.h"

#include "knownhost.h"
#include "session.h"

/*
 * The key types with a typemask bit of their own.  "ssh-dss" is not one:
 * libssh2 1.11.1 knows DSA only when built with LIBSSH2_DSA_ENABLE, which
 * its default build is not, and this library has no DSA at all.  So an
 * ssh-dss line reads as LIBSSH2_KNOWNHOST_KEY_UNKNOWN keeping its type
 * name (and is written back so), and an entry added through the API as
 * LIBSSH2_KNOWNHOST_KEY_SSHDSS has no type word to write, as there.
 */
static const struct {
	const char *name;
	int type;
} kh_types[] = {
	{"ssh-rsa", LIBSSH2_KNOWNHOST_KEY_SSHRSA},
	{"ecdsa-sha2-nistp256", LIBSSH2_KNOWNHOST_KEY_ECDSA_256},
	{"ecdsa-sha2-nistp384", LIBSSH2_KNOWNHOST_KEY_ECDSA_384},
	{"ecdsa-sha2-nistp521", LIBSSH2_KNOWNHOST_KEY_ECDSA_521},
	{"ssh-ed25519", LIBSSH2_KNOWNHOST_KEY_ED25519},
};
#define KH_NTYPES (sizeof(kh_types) / sizeof(kh_types[0]))

static const char *const kh_markers[] = {"", "@cert-authority ", "@revoked "};

/* ---- reading lines ------------------------------------------------------ */

struct kh_cur {
	const char *p;
	size_t n;
};

static void kh_skip_blank(struct kh_cur *c)
{
	while (c->n && (*c->p == ' ' || *c->p == '\t')) {
		c->p++;
		c->n--;
	}
}

/* The next run of non-blank characters; its length, 0 at the end. */
static size_t kh_field(struct kh_cur *c, const char **f)
{
	size_t i = 0;

	kh_skip_blank(c);
	while (i < c->n && c->p[i] != ' ' && c->p[i] != '\t')
		i++;
	*f = c->p;
	c->p += i;
	c->n -= i;
	return i;
}

static int kh_parse_marker(LIBSSH2_KNOWNHOSTS *h, struct kh_cur *c,
			   struct kh_spec *sp)
{
	const char *f;
	size_t n;

	if (*c->p != '@')
		return 0;
	n = kh_field(c, &f);
	if (n == 15 && !memcmp(f, "@cert-authority", 15))
		sp->marker = KH_MARK_CA;
	else if (n == 8 && !memcmp(f, "@revoked", 8))
		sp->marker = KH_MARK_REVOKED;
	else
		return kh_bad(h, sp, "unknown marker");
	return 0;
}

/* "keytype base64 [comment]", or SSH-1's "bits e n" kept whole. */
static int kh_parse_key(LIBSSH2_KNOWNHOSTS *h, struct kh_cur *c,
			struct kh_spec *sp)
{
	const char *t;
	size_t tn, i;

	kh_skip_blank(c);
	if (!c->n)
		return kh_bad(h, sp, "no key");
	if (c->n < KH_KEY_MIN)
		return kh_bad(h, sp, "key too short");
	if (*c->p >= '0' && *c->p <= '9') {
		sp->key = c->p;
		sp->key_len = c->n;
		sp->typemask = LIBSSH2_KNOWNHOST_KEY_RSA1;
		return 0;
	}
	tn = kh_field(c, &t);
	if (!(sp->key_len = kh_field(c, &sp->key)))
		return kh_bad(h, sp, "no key");
	sp->typemask = LIBSSH2_KNOWNHOST_KEY_UNKNOWN;
	for (i = 0; i < KH_NTYPES; i++)
		if (strlen(kh_types[i].name) == tn &&
		    !memcmp(kh_types[i].name, t, tn))
			sp->typemask = kh_types[i].type;
	if (sp->typemask == LIBSSH2_KNOWNHOST_KEY_UNKNOWN) {
		sp->type_name = t; /* written back as it was read */
		sp->type_name_len = tn;
	}
	kh_skip_blank(c);
	if (c->n) {
		sp->comment = c->p;
		sp->comment_len = c->n;
	}
	return 0;
}

/* Every name of a list has 1..KH_NAME_MAX characters ('!' aside). */
static int kh_list_ok(const char *p, size_t n)
{
	size_t i, j, neg;

	for (i = 0; i <= n; i = j + 1) {
		for (j = i; j < n && p[j] != ','; j++)
			;
		neg = j > i && p[i] == '!';
		if (j - i - neg == 0 || j - i - neg > KH_NAME_MAX)
			return 0;
	}
	return 1;
}

/* "|1|salt|hash": libssh2 ignores a line without the second '|'. */
static int kh_add_hashed(LIBSSH2_KNOWNHOSTS *h, const char *p, size_t n,
			 struct kh_spec *sp)
{
	const char *bar = memchr(p + 3, '|', n - 3);
	struct kh_node *node;

	if (!bar)
		return 0;
	sp->salt = p + 3;
	sp->salt_len = (size_t)(bar - sp->salt);
	sp->name = bar + 1;
	sp->name_len = n - (size_t)(bar + 1 - p);
	sp->typemask |= LIBSSH2_KNOWNHOST_TYPE_SHA1;
	return kh_insert(h, sp, &node);
}

/* Plain names become one entry each, last first (as libssh2 adds them);
 * a list with patterns stays one entry.  All or nothing. */
static int kh_add_names(LIBSSH2_KNOWNHOSTS *h, const char *p, size_t n,
			struct kh_spec *sp)
{
	struct kh_node *mark = h->tail, *node;
	size_t end, start;
	int rc = 0;

	if (n >= 3 && !memcmp(p, "|1|", 3))
		return kh_add_hashed(h, p, n, sp);
	if (*p == '|')
		return kh_bad(h, sp, "unsupported hashed host name");
	if (!kh_list_ok(p, n))
		return kh_bad(h, sp, "empty or overlong host name");
	sp->typemask |= LIBSSH2_KNOWNHOST_TYPE_PLAIN;
	if (memchr(p, '*', n) || memchr(p, '?', n) || memchr(p, '!', n)) {
		sp->name = p;
		sp->name_len = n;
		return kh_insert(h, sp, &node);
	}
	for (end = n; end > 0 && !rc; end = start ? start - 1 : 0) {
		for (start = end; start > 0 && p[start - 1] != ','; start--)
			;
		sp->name = p + start;
		sp->name_len = end - start;
		rc = kh_insert(h, sp, &node);
	}
	if (rc)
		kh_truncate(h, mark);
	return rc;
}

/*
 * One line of a known_hosts file.  It ends at a NUL or newline; trailing
 * blanks and CR are dropped.  Comments and blank lines add nothing.
 */
LIBSSH2_API int libssh2_knownhost_readline(LIBSSH2_KNOWNHOSTS *hosts,
					   const char *line, size_t len,
					   int type)
{
	struct kh_spec sp = {.strict = 1};
	struct kh_cur c = {line, 0};
	const char *names, *end;
	size_t nn;
	int rc;

	if (!hosts)
		return LIBSSH2_ERROR_INVAL;
	if (type != LIBSSH2_KNOWNHOST_FILE_OPENSSH)
		return sess_err(hosts->s, LIBSSH2_ERROR_METHOD_NOT_SUPPORTED,
				"known-hosts file type %d is not supported",
				type);
	if (!line)
		return len ? kh_bad(hosts, &sp, "no line") : 0;
	c.n = strnlen(line, len);
	if ((end = memchr(line, '\n', c.n)))
		c.n = (size_t)(end - line);
	while (c.n && (c.p[c.n - 1] == ' ' || c.p[c.n - 1] == '\t' ||
		       c.p[c.n - 1] == '\r'))
		c.n--;
	if (c.n > KH_LINE_MAX)
		return kh_bad(hosts, &sp, "line too long");
	kh_skip_blank(&c);
	if (!c.n || *c.p == '#')
		return 0;
	if ((rc = kh_parse_marker(hosts, &c, &sp)))
		return rc;
	if (!(nn = kh_field(&c, &names)))
		return kh_bad(hosts, &sp, "no host names");
	if ((rc = kh_parse_key(hosts, &c, &sp)))
		return rc;
	sp.typemask |= LIBSSH2_KNOWNHOST_KEYENC_BASE64;
	return kh_add_names(hosts, names, nn, &sp);
}

/* The next line of f into buf (at most cap - 1 characters, newline
 * dropped): 1, 0 at the end of the file, -1 for a longer line. */
static int kh_getline(FILE *f, char *buf, size_t cap, size_t *len)
{
	size_t n = 0;
	int ch;

	while ((ch = getc(f)) != EOF && ch != '\n') {
		if (n == cap - 1)
			return -1;
		buf[n++] = (char)ch;
	}
	buf[n] = '\0';
	*len = n;
	return ch != EOF || n > 0;
}

/*
 * As libssh2: the number of lines read (comments and blank lines count),
 * or an error; a bad line stops the reading with LIBSSH2_ERROR_KNOWN_HOSTS
 * and the entries of the lines before it stay in the collection.
 */
LIBSSH2_API int libssh2_knownhost_readfile(LIBSSH2_KNOWNHOSTS *hosts,
					   const char *filename, int type)
{
	char *buf, why[SSH_ERRMSG_MAX];
	size_t len;
	FILE *f;
	int num = 0, r;

	if (!hosts)
		return LIBSSH2_ERROR_INVAL;
	if (type != LIBSSH2_KNOWNHOST_FILE_OPENSSH)
		return sess_err(hosts->s, LIBSSH2_ERROR_METHOD_NOT_SUPPORTED,
				"known-hosts file type %d is not supported",
				type);
	if (!filename || !(f = fopen(filename, "r")))
		return sess_err(hosts->s, LIBSSH2_ERROR_FILE,
				"cannot open known-hosts file %.128s: %s",
				filename ? filename : "(null)",
				strerror(errno));
	if (!(buf = la_alloc(&hosts->s->a, KH_LINE_MAX + 2))) {
		fclose(f);
		return sess_err(hosts->s, LIBSSH2_ERROR_ALLOC,
				"unable to allocate a line buffer");
	}
	while ((r = kh_getline(f, buf, KH_LINE_MAX + 2, &len)) > 0) {
		if (libssh2_knownhost_readline(hosts, buf, len, type)) {
			r = -2;
			break;
		}
		if (++num == INT_MAX)
			break;
	}
	if (r == -1)
		num = sess_err(hosts->s, LIBSSH2_ERROR_KNOWN_HOSTS,
			       "known-hosts file, line %d: longer than %d "
			       "characters",
			       num + 1, KH_LINE_MAX);
	else if (r == -2) {
		snprintf(why, sizeof(why), "%s", hosts->s->errmsg);
		num = sess_err(hosts->s, LIBSSH2_ERROR_KNOWN_HOSTS,
			       "known-hosts file, line %d: %s", num + 1, why);
	} else if (ferror(f))
		num = sess_err(hosts->s, LIBSSH2_ERROR_FILE,
			       "error reading known-hosts file %.128s",
			       filename);
	la_free(&hosts->s->a, buf);
	fclose(f);
	return num;
}

/* ---- writing lines ------------------------------------------------------ */

/* Where a line goes: counted only, into a buffer, or to a file. */
struct kh_out {
	char *p;
	FILE *f;
	size_t len;
	int err;
};

static void kh_put(struct kh_out *o, const char *s, size_t n)
{
	if (o->p)
		memcpy(o->p + o->len, s, n);
	if (o->f && fwrite(s, 1, n, o->f) != n)
		o->err = 1;
	o->len += n;
}

static void kh_puts(struct kh_out *o, const char *s)
{
	kh_put(o, s, strlen(s));
}

/* The key type word of an entry (NULL for SSH-1 RSA, which has none);
 * -1 for a type libssh2 cannot write either. */
static int kh_type_word(const struct kh_node *n, const char **word)
{
	size_t i;

	*word = NULL;
	if (kh_key(n->typemask) == LIBSSH2_KNOWNHOST_KEY_RSA1)
		return 0;
	if (kh_key(n->typemask) == LIBSSH2_KNOWNHOST_KEY_UNKNOWN) {
		*word = n->type_name;
		return n->type_name ? 0 : -1;
	}
	for (i = 0; i < KH_NTYPES; i++)
		if (kh_key(n->typemask) == kh_types[i].type)
			*word = kh_types[i].name;
	return *word ? 0 : -1;
}

/* Why n cannot be written as a line that reads back as n, or NULL.  A
 * plain name read from a list ("a,#x") may begin with what starts a
 * comment, a hashed name or a marker on a line of its own. */
static const char *kh_unwritable(const struct kh_node *n)
{
	const char *word;

	if (kh_type_word(n, &word))
		return "known-host entry of a key type without a name to write";
	if (kh_type(n->typemask) != LIBSSH2_KNOWNHOST_TYPE_SHA1 &&
	    (n->name_len == 0 || n->name[0] == '#' || n->name[0] == '|' ||
	     n->name[0] == '@'))
		return "known-host name that a known_hosts line cannot start "
		       "with";
	return NULL;
}

/* [marker ]names [type ]key[ comment]\n */
static void kh_format(const struct kh_node *n, const char *word,
		      struct kh_out *o)
{
	char b64[kh_b64_enclen(KH_SALT_MAX) + 1];

	kh_puts(o, kh_markers[n->marker]);
	if (kh_type(n->typemask) == LIBSSH2_KNOWNHOST_TYPE_SHA1) {
		kh_puts(o, "|1|");
		kh_put(o, b64, kh_b64_encode(n->salt, n->salt_len, b64));
		kh_puts(o, "|");
		kh_put(o, b64,
		       kh_b64_encode((const uint8_t *)n->name, n->name_len,
				     b64));
	} else {
		kh_put(o, n->name, n->name_len);
	}
	if (word) {
		kh_puts(o, " ");
		kh_puts(o, word);
	}
	kh_puts(o, " ");
	kh_puts(o, n->key);
	if (n->comment) {
		kh_puts(o, " ");
		kh_puts(o, n->comment);
	}
	kh_puts(o, "\n");
}

/*
 * As libssh2: *outlen is the line's length (newline included, NUL not)
 * also when the buffer is too small, and nothing is written then.
 */
LIBSSH2_API int libssh2_knownhost_writeline(LIBSSH2_KNOWNHOSTS *hosts,
					    struct libssh2_knownhost *known,
					    char *buffer, size_t buflen,
					    size_t *outlen, int type)
{
	struct kh_out o = {0};
	struct kh_node *n;
	const char *word, *why;

	if (!hosts)
		return LIBSSH2_ERROR_INVAL;
	if (!(n = kh_from_ext(hosts, known)) || !outlen)
		return sess_err(hosts->s, LIBSSH2_ERROR_INVAL,
				"not an entry of this known-hosts collection");
	if (type != LIBSSH2_KNOWNHOST_FILE_OPENSSH)
		return sess_err(hosts->s, LIBSSH2_ERROR_METHOD_NOT_SUPPORTED,
				"known-hosts file type %d is not supported",
				type);
	if ((why = kh_unwritable(n)))
		return sess_err(hosts->s, LIBSSH2_ERROR_METHOD_NOT_SUPPORTED,
				"%s", why);
	kh_type_word(n, &word);
	kh_format(n, word, &o);
	*outlen = o.len;
	if (!buffer || o.len >= buflen)
		return sess_err(hosts->s, LIBSSH2_ERROR_BUFFER_TOO_SMALL,
				"known-host line needs %zu bytes, buffer has "
				"%zu",
				o.len + 1, buflen);
	o = (struct kh_out){.p = buffer};
	kh_format(n, word, &o);
	buffer[o.len] = '\0';
	return 0;
}

/* Every entry, in collection order; the file is replaced.  An entry that
 * cannot be written fails the call before the file is touched. */
LIBSSH2_API int libssh2_knownhost_writefile(LIBSSH2_KNOWNHOSTS *hosts,
					    const char *filename, int type)
{
	struct kh_out o = {0};
	struct kh_node *n;
	const char *word, *why;

	if (!hosts)
		return LIBSSH2_ERROR_INVAL;
	if (type != LIBSSH2_KNOWNHOST_FILE_OPENSSH)
		return sess_err(hosts->s, LIBSSH2_ERROR_METHOD_NOT_SUPPORTED,
				"known-hosts file type %d is not supported",
				type);
	for (n = hosts->head; n; n = n->next)
		if ((why = kh_unwritable(n)))
			return sess_err(hosts->s,
					LIBSSH2_ERROR_METHOD_NOT_SUPPORTED,
					"%s", why);
	if (!filename || !(o.f = fopen(filename, "w")))
		return sess_err(hosts->s, LIBSSH2_ERROR_FILE,
				"cannot create known-hosts file %.128s: %s",
				filename ? filename : "(null)",
				strerror(errno));
	for (n = hosts->head; n && !o.err; n = n->next) {
		kh_type_word(n, &word);
		kh_format(n, word, &o);
	}
	if (fclose(o.f) || o.err)
		return sess_err(hosts->s, LIBSSH2_ERROR_FILE,
				"error writing known-hosts file %.128s",
				filename);
	return 0;
}
