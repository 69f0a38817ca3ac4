/*
 * auth.c - user authentication (RFC 4252, RFC 4256, RFC 8332 for RSA
 * signature algorithms): the libssh2_userauth_* API.
 *
 * Each call sends its request once (s->auth.pending remembers that it is
 * out, so a non-blocking caller that retries after EAGAIN does not send
 * it twice) and then waits for the reply through the session's pump.
 * Public keys are signed right away, without the optional query round
 * trip: one RTT less per login.
 */
#define _GNU_SOURCE
#include "auth.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "key.h"
#include "session.h"
#include "trace.h"

#define SSH_MSG_USERAUTH_REQUEST 50
#define SSH_MSG_USERAUTH_FAILURE 51
/* SSH_MSG_USERAUTH_SUCCESS (52) is in transport.h, which starts delayed
 * compression on it. */
#define SSH_MSG_USERAUTH_BANNER 53
#define SSH_MSG_USERAUTH_60 60 /* PK_OK, PASSWD_CHANGEREQ, INFO_REQUEST */
#define SSH_MSG_USERAUTH_INFO_RESPONSE 61

/* Keyboard-interactive: more prompts than this in one request is an
 * attack, not a login. */
#define AUTH_MAX_PROMPTS 64
/* Private key files larger than this are not key files. */
#define AUTH_KEYFILE_MAX (1024 * 1024)

void auth_free(LIBSSH2_SESSION *s)
{
	la_free(&s->a, s->auth.list);
	la_free(&s->a, s->auth.banner);
	s->auth.list = s->auth.banner = NULL;
}

int auth_on_banner(LIBSSH2_SESSION *s, struct rbuf *r)
{
	const char *m;
	size_t n;
	char *b;

	if (rb_text(r, &m, &n, SSH_STRING_MAX))
		return sess_err(s, LIBSSH2_ERROR_PROTO,
				"malformed USERAUTH_BANNER");
	b = la_strndup(&s->a, m, n);
	if (!b)
		return sess_err(s, LIBSSH2_ERROR_ALLOC, "out of memory");
	la_free(&s->a, s->auth.banner);
	s->auth.banner = b;
	return 0;
}

/* RFC 4252 section 3 needs the ssh-userauth service first. */
static int auth_service(LIBSSH2_SESSION *s)
{
	struct sess_pkt *p;
	int rc;

	if (s->auth.service_ok)
		return 0;
	if (s->state != SESS_READY)
		return sess_err(s, LIBSSH2_ERROR_BAD_USE,
				"the session is not connected");
	if (!s->auth.service_sent) {
		if ((rc = tp_pkt_begin(&s->tp, SSH_MSG_SERVICE_REQUEST)))
			return sess_err(s, rc, "out of memory");
		if (wb_cstring(&s->tp.out, "ssh-userauth")) {
			tp_pkt_abort(&s->tp);
			return sess_err(s, LIBSSH2_ERROR_ALLOC, "out of memory");
		}
		if ((rc = tp_pkt_end(&s->tp)))
			return sess_err(s, rc, "unable to queue a request");
		s->auth.service_sent = 1;
	}
	while (!sess_take(s, SSH_MSG_SERVICE_ACCEPT, SSH_MSG_SERVICE_ACCEPT,
			  &p))
		if ((rc = sess_pump(s)))
			return rc;
	la_free(&s->a, p);
	s->auth.service_ok = 1;
	return 0;
}

/* Start a USERAUTH_REQUEST: user, service, method. */
static int request_begin(LIBSSH2_SESSION *s, const char *user, size_t ulen,
			 const char *method)
{
	struct wbuf *w = &s->tp.out;
	int rc;

	if ((rc = tp_pkt_begin(&s->tp, SSH_MSG_USERAUTH_REQUEST)))
		return sess_err(s, rc, "out of memory");
	if (wb_string(w, user, ulen) || wb_cstring(w, "ssh-connection") ||
	    wb_cstring(w, method)) {
		tp_pkt_abort(&s->tp);
		return sess_err(s, LIBSSH2_ERROR_ALLOC, "out of memory");
	}
	return 0;
}

static int request_end(LIBSSH2_SESSION *s)
{
	int rc;

	if (wb_ok(&s->tp.out)) {
		tp_pkt_abort(&s->tp);
		return sess_err(s, LIBSSH2_ERROR_ALLOC, "out of memory");
	}
	if ((rc = tp_pkt_end(&s->tp)))
		return sess_err(s, rc, "unable to queue a request");
	s->auth.pending = 1;
	return 0;
}

/* The next reply to our request (51, 52, 60, 61...). */
static int reply_wait(LIBSSH2_SESSION *s, struct sess_pkt **p)
{
	int rc;

	while (!sess_take(s, SSH_MSG_USERAUTH_FAILURE, 79, p))
		if ((rc = sess_pump(s)))
			return rc;
	return 0;
}

/* FAILURE carries the methods that may continue (RFC 4252 5.1). */
static int on_failure(LIBSSH2_SESSION *s, struct sess_pkt *p)
{
	struct rbuf r;
	const char *l;
	size_t n;
	int partial;
	char *list;

	rb_init(&r, p->data + 1, p->n - 1);
	if (rb_text(&r, &l, &n, SSH_STRING_MAX) || rb_bool(&r, &partial) ||
	    rb_done(&r))
		return sess_err(s, LIBSSH2_ERROR_PROTO,
				"malformed USERAUTH_FAILURE");
	list = la_strndup(&s->a, l, n);
	if (!list)
		return sess_err(s, LIBSSH2_ERROR_ALLOC, "out of memory");
	la_free(&s->a, s->auth.list);
	s->auth.list = list;
	TRACE(s, LIBSSH2_TRACE_AUTH, "failure%s; methods that can continue: %s",
	      partial ? " (partial success)" : "", list);
	return 0;
}

static void on_success(LIBSSH2_SESSION *s)
{
	s->auth.authenticated = 1;
	TRACE(s, LIBSSH2_TRACE_AUTH, "authenticated");
}

/* ---- none: the list of methods ----------------------------------------- */

static int list_step(LIBSSH2_SESSION *s, const char *user, size_t ulen)
{
	struct sess_pkt *p;
	int rc;

	if ((rc = auth_service(s)))
		return rc;
	if (!s->auth.pending) {
		if ((rc = request_begin(s, user, ulen, "none")) ||
		    (rc = request_end(s)))
			return rc;
	}
	if ((rc = reply_wait(s, &p)))
		return rc;
	s->auth.pending = 0;
	if (p->data[0] == SSH_MSG_USERAUTH_SUCCESS) {
		on_success(s);
		rc = 0;
	} else if (p->data[0] == SSH_MSG_USERAUTH_FAILURE) {
		rc = on_failure(s, p);
	} else {
		rc = sess_err(s, LIBSSH2_ERROR_PROTO,
			      "unexpected reply %u to a none request",
			      p->data[0]);
	}
	la_free(&s->a, p);
	return rc;
}

LIBSSH2_API char *libssh2_userauth_list(LIBSSH2_SESSION *s,
					const char *username,
					unsigned int username_len)
{
	int rc = SESS_BLOCK(s, list_step(s, username, username_len));

	if (rc || s->auth.authenticated)
		return NULL;
	return s->auth.list;
}

LIBSSH2_API int libssh2_userauth_authenticated(LIBSSH2_SESSION *s)
{
	return s->auth.authenticated;
}

LIBSSH2_API int libssh2_userauth_banner(LIBSSH2_SESSION *s, char **banner)
{
	/* as libssh2: *banner is set only when there is one */
	if (!s->auth.banner)
		return sess_err(s, LIBSSH2_ERROR_MISSING_USERAUTH_BANNER,
				"the server sent no banner");
	if (banner)
		*banner = s->auth.banner;
	return 0;
}

/* ---- password (RFC 4252 section 8) --------------------------------------- */

struct pw_args {
	const char *user;
	size_t ulen;
	const char *pw;
	size_t pwlen;
	LIBSSH2_PASSWD_CHANGEREQ_FUNC((*change));
};

static int password_step(LIBSSH2_SESSION *s, struct pw_args *a)
{
	struct sess_pkt *p;
	int rc;

	if ((rc = auth_service(s)))
		return rc;
	if (!s->auth.pending) {
		if ((rc = request_begin(s, a->user, a->ulen, "password")))
			return rc;
		if (wb_bool(&s->tp.out, 0) ||
		    wb_string(&s->tp.out, a->pw, a->pwlen)) {
			tp_pkt_abort(&s->tp);
			return sess_err(s, LIBSSH2_ERROR_ALLOC, "out of memory");
		}
		if ((rc = request_end(s)))
			return rc;
	}
	for (;;) {
		char *newpw = NULL;
		int newlen = 0;

		if ((rc = reply_wait(s, &p)))
			return rc;
		switch (p->data[0]) {
		case SSH_MSG_USERAUTH_SUCCESS:
			s->auth.pending = 0;
			la_free(&s->a, p);
			on_success(s);
			return 0;
		case SSH_MSG_USERAUTH_FAILURE:
			s->auth.pending = 0;
			rc = on_failure(s, p);
			la_free(&s->a, p);
			return rc ? rc
				  : sess_err(s,
					     LIBSSH2_ERROR_AUTHENTICATION_FAILED,
					     "authentication failed "
					     "(username/password)");
		case SSH_MSG_USERAUTH_60: /* PASSWD_CHANGEREQ */
			la_free(&s->a, p);
			if (!a->change) {
				s->auth.pending = 0;
				return sess_err(s,
						LIBSSH2_ERROR_PASSWORD_EXPIRED,
						"the password has expired");
			}
			a->change(s, &newpw, &newlen, &s->abstract);
			if (!newpw || newlen <= 0) {
				s->auth.pending = 0;
				la_free(&s->a, newpw);
				return sess_err(s,
						LIBSSH2_ERROR_PASSWORD_EXPIRED,
						"no new password given");
			}
			rc = request_begin(s, a->user, a->ulen, "password");
			if (!rc && (wb_bool(&s->tp.out, 1) ||
				    wb_string(&s->tp.out, a->pw, a->pwlen) ||
				    wb_string(&s->tp.out, newpw,
					      (size_t)newlen)))
				rc = LIBSSH2_ERROR_ALLOC;
			la_free_wipe(&s->a, newpw, (size_t)newlen);
			if (rc == LIBSSH2_ERROR_ALLOC) {
				tp_pkt_abort(&s->tp);
				return sess_err(s, rc, "out of memory");
			}
			if (rc || (rc = request_end(s)))
				return rc;
			continue;
		default:
			s->auth.pending = 0;
			la_free(&s->a, p);
			return sess_err(s, LIBSSH2_ERROR_PROTO,
					"unexpected reply to a password "
					"request");
		}
	}
}

LIBSSH2_API int
libssh2_userauth_password_ex(LIBSSH2_SESSION *s, const char *username,
			     unsigned int username_len, const char *password,
			     unsigned int password_len,
			     LIBSSH2_PASSWD_CHANGEREQ_FUNC((*passwd_change_cb)))
{
	struct pw_args a = { username, username_len, password, password_len,
			     passwd_change_cb };

	return SESS_BLOCK(s, password_step(s, &a));
}

/* ---- keyboard-interactive (RFC 4256) -------------------------------------- */

struct kbd_args {
	const char *user;
	size_t ulen;
	LIBSSH2_USERAUTH_KBDINT_RESPONSE_FUNC((*cb));
};

static int kbd_answer(LIBSSH2_SESSION *s, struct kbd_args *a,
		      struct sess_pkt *p)
{
	LIBSSH2_USERAUTH_KBDINT_PROMPT prompts[AUTH_MAX_PROMPTS];
	LIBSSH2_USERAUTH_KBDINT_RESPONSE resp[AUTH_MAX_PROMPTS];
	const char *name, *instr, *lang;
	size_t nn, in, ln;
	uint32_t np, i;
	struct rbuf r;
	int rc = 0;

	rb_init(&r, p->data + 1, p->n - 1);
	if (rb_text(&r, &name, &nn, SSH_STRING_MAX) ||
	    rb_text(&r, &instr, &in, SSH_STRING_MAX) ||
	    rb_text(&r, &lang, &ln, SSH_STRING_MAX) || rb_u32(&r, &np) ||
	    np > AUTH_MAX_PROMPTS)
		return sess_err(s, LIBSSH2_ERROR_PROTO,
				"malformed INFO_REQUEST");
	for (i = 0; i < np; i++) {
		const char *t;
		size_t tn;
		int echo;

		if (rb_text(&r, &t, &tn, SSH_STRING_MAX) ||
		    rb_bool(&r, &echo))
			return sess_err(s, LIBSSH2_ERROR_PROTO,
					"malformed INFO_REQUEST prompt");
		prompts[i].text = (unsigned char *)t;
		prompts[i].length = tn;
		prompts[i].echo = (unsigned char)echo;
	}
	if (rb_done(&r))
		return sess_err(s, LIBSSH2_ERROR_PROTO,
				"malformed INFO_REQUEST");
	memset(resp, 0, sizeof(resp));
	a->cb(name, (int)nn, instr, (int)in, (int)np, prompts, resp,
	      &s->abstract);
	rc = tp_pkt_begin(&s->tp, SSH_MSG_USERAUTH_INFO_RESPONSE);
	if (!rc && wb_u32(&s->tp.out, np))
		rc = LIBSSH2_ERROR_ALLOC;
	for (i = 0; !rc && i < np; i++)
		if (wb_string(&s->tp.out, resp[i].text ? resp[i].text : "",
			      resp[i].text ? resp[i].length : 0))
			rc = LIBSSH2_ERROR_ALLOC;
	for (i = 0; i < np; i++)
		if (resp[i].text)
			la_free_wipe(&s->a, resp[i].text, resp[i].length);
	if (rc) {
		tp_pkt_abort(&s->tp);
		return sess_err(s, rc, "out of memory");
	}
	return request_end(s);
}

static int kbd_step(LIBSSH2_SESSION *s, struct kbd_args *a)
{
	struct sess_pkt *p;
	int rc;

	if ((rc = auth_service(s)))
		return rc;
	if (!s->auth.pending) {
		if ((rc = request_begin(s, a->user, a->ulen,
					"keyboard-interactive")))
			return rc;
		/* language tag, submethods: both empty */
		if (wb_cstring(&s->tp.out, "") || wb_cstring(&s->tp.out, "")) {
			tp_pkt_abort(&s->tp);
			return sess_err(s, LIBSSH2_ERROR_ALLOC, "out of memory");
		}
		if ((rc = request_end(s)))
			return rc;
	}
	for (;;) {
		if ((rc = reply_wait(s, &p)))
			return rc;
		if (p->data[0] == SSH_MSG_USERAUTH_SUCCESS) {
			s->auth.pending = 0;
			la_free(&s->a, p);
			on_success(s);
			return 0;
		}
		if (p->data[0] == SSH_MSG_USERAUTH_FAILURE) {
			s->auth.pending = 0;
			rc = on_failure(s, p);
			la_free(&s->a, p);
			return rc ? rc
				  : sess_err(s,
					     LIBSSH2_ERROR_AUTHENTICATION_FAILED,
					     "keyboard-interactive "
					     "authentication failed");
		}
		if (p->data[0] != SSH_MSG_USERAUTH_60) {
			s->auth.pending = 0;
			la_free(&s->a, p);
			return sess_err(s, LIBSSH2_ERROR_PROTO,
					"unexpected reply to "
					"keyboard-interactive");
		}
		rc = kbd_answer(s, a, p);
		la_free(&s->a, p);
		if (rc) {
			s->auth.pending = 0;
			return rc;
		}
	}
}

LIBSSH2_API int libssh2_userauth_keyboard_interactive_ex(
	LIBSSH2_SESSION *s, const char *username, unsigned int username_len,
	LIBSSH2_USERAUTH_KBDINT_RESPONSE_FUNC((*response_callback)))
{
	struct kbd_args a = { username, username_len, response_callback };

	if (!response_callback)
		return sess_err(s, LIBSSH2_ERROR_INVAL, "no callback");
	return SESS_BLOCK(s, kbd_step(s, &a));
}

/* ---- publickey (RFC 4252 section 7) ------------------------------------- */

/* Is name one of the comma-separated list's items? */
static int name_in(const char *list, const char *name)
{
	size_t n = strlen(name);
	const char *p;

	for (p = list; p && (p = strstr(p, name)); p += n)
		if ((p == list || p[-1] == ',') && (p[n] == ',' || p[n] == '\0'))
			return 1;
	return 0;
}

/* OpenSSH certificate key types end in this (PROTOCOL.certkeys). */
#define CERT_SUFFIX "-cert-v01@openssh.com"

/*
 * The signature algorithm for a key of type keytype: keytype itself,
 * except for RSA keys, which sign as rsa-sha2-512 or rsa-sha2-256 (RFC
 * 8332) - the first of the caller's LIBSSH2_METHOD_SIGN_ALGO list, or of
 * ours, that the server's server-sig-algs (RFC 8308) accepts.  SHA-1
 * ssh-rsa only when the caller lists it.  An RSA certificate
 * (ssh-rsa-cert-v01@openssh.com) goes the same way under its
 * certificate names (rsa-sha2-512-cert-v01@openssh.com): server-sig-algs
 * names signatures, and a certificate signs as its plain key type
 * (OpenSSH lists no certificate names there), and the caller's list
 * (which takes no certificate names) by the plain names too.  NULL when
 * nothing fits (the caller fails with LIBSSH2_ERROR_METHOD_NONE,
 * sending nothing).
 */
static const char *sig_alg(LIBSSH2_SESSION *s, const char *keytype)
{
	static const char *const rsa[][2] = {
		{ "rsa-sha2-512", "rsa-sha2-512" CERT_SUFFIX },
		{ "rsa-sha2-256", "rsa-sha2-256" CERT_SUFFIX },
		{ "ssh-rsa", "ssh-rsa" CERT_SUFFIX },
	};
	const char *srv = s->kex.server_sig_algs;
	const char *pref = s->kex.pref[LIBSSH2_METHOD_SIGN_ALGO];
	const char *p, *e;
	char plain[64];
	size_t i, n = strlen(keytype), sl = strlen(CERT_SUFFIX);
	int cert;

	if (!strcmp(keytype, rsa[2][0]))
		cert = 0;
	else if (!strcmp(keytype, rsa[2][1]))
		cert = 1;
	else {
		/* ssh-ed25519-cert-v01@openssh.com signs as ssh-ed25519 */
		if (n > sl && !strcmp(keytype + n - sl, CERT_SUFFIX))
			n -= sl;
		snprintf(plain, sizeof(plain), "%.*s", (int)n, keytype);
		return !pref || name_in(pref, plain) ? keytype : NULL;
	}
	if (!pref) {
		for (i = 0; i < 2; i++)
			if (!srv || name_in(srv, rsa[i][0]))
				return rsa[i][cert];
		return NULL;
	}
	/* the caller's order */
	for (p = pref; *p; p = *e ? e + 1 : e) {
		e = strchrnul(p, ',');
		n = (size_t)(e - p);
		for (i = 0; i < 3; i++)
			if (n == strlen(rsa[i][0]) &&
			    !memcmp(p, rsa[i][0], n) &&
			    (!srv || name_in(srv, rsa[i][0])))
				return rsa[i][cert];
	}
	return NULL;
}

struct pk_args {
	const char *user;
	size_t ulen;
	const uint8_t *blob;
	size_t bloblen;
	const char *alg;
	/* the signature's algorithm when it is not alg: a certificate
	 * signs as its plain key type (PROTOCOL.certkeys) */
	const char *sigalg;
	/* exactly one of these signs */
	const struct key *key;
	LIBSSH2_USERAUTH_PUBLICKEY_SIGN_FUNC((*cb));
	void **abstract;
	/* cb returns the bare signature, which we wrap as (string alg,
	 * string sig) - libssh2's contract for its sign callbacks */
	int cb_raw;
};

/* RFC 4252 7: the signature covers session id and the request itself. */
static int pk_sign_and_send(LIBSSH2_SESSION *s, struct pk_args *a)
{
	struct wbuf data;
	uint8_t *sig = NULL;
	size_t siglen = 0;
	int rc;

	wb_init(&data, &s->a, SSH_PACKET_MAX);
	if (wb_string(&data, s->kex.session_id, s->kex.sidlen) ||
	    wb_u8(&data, SSH_MSG_USERAUTH_REQUEST) ||
	    wb_string(&data, a->user, a->ulen) ||
	    wb_cstring(&data, "ssh-connection") ||
	    wb_cstring(&data, "publickey") || wb_bool(&data, 1) ||
	    wb_cstring(&data, a->alg) ||
	    wb_string(&data, a->blob, a->bloblen)) {
		wb_free(&data);
		return sess_err(s, LIBSSH2_ERROR_ALLOC, "out of memory");
	}
	if (a->key) {
		rc = key_sign(a->key, a->sigalg ? a->sigalg : a->alg, data.p,
			      data.len, &s->a, &sig, &siglen);
	} else {
		unsigned char *cs = NULL;
		size_t cl = 0;

		rc = a->cb(s, &cs, &cl, data.p, data.len, a->abstract);
		sig = cs;
		siglen = cl;
		if (!rc && cs && a->cb_raw) {
			struct wbuf w;

			wb_init(&w, &s->a, SSH_PACKET_MAX);
			if (wb_cstring(&w, a->sigalg ? a->sigalg : a->alg) ||
			    wb_string(&w, cs, cl))
				rc = LIBSSH2_ERROR_ALLOC;
			la_free(&s->a, cs);
			sig = w.p;
			siglen = w.len;
			if (rc) {
				wb_free(&w);
				sig = NULL;
			}
		}
	}
	wb_free(&data);
	if (rc || !sig) {
		la_free(&s->a, sig);
		return sess_err(s, LIBSSH2_ERROR_PUBLICKEY_UNVERIFIED,
				"unable to sign with the key");
	}
	if (!(rc = request_begin(s, a->user, a->ulen, "publickey"))) {
		if (wb_bool(&s->tp.out, 1) || wb_cstring(&s->tp.out, a->alg) ||
		    wb_string(&s->tp.out, a->blob, a->bloblen) ||
		    wb_string(&s->tp.out, sig, siglen)) {
			tp_pkt_abort(&s->tp);
			rc = sess_err(s, LIBSSH2_ERROR_ALLOC, "out of memory");
		} else {
			rc = request_end(s);
		}
	}
	la_free(&s->a, sig);
	return rc;
}

static int pk_step(LIBSSH2_SESSION *s, struct pk_args *a)
{
	struct sess_pkt *p;
	int rc;

	if ((rc = auth_service(s)))
		return rc;
	if (!s->auth.pending && (rc = pk_sign_and_send(s, a)))
		return rc;
	if ((rc = reply_wait(s, &p)))
		return rc;
	s->auth.pending = 0;
	if (p->data[0] == SSH_MSG_USERAUTH_SUCCESS) {
		la_free(&s->a, p);
		on_success(s);
		return 0;
	}
	if (p->data[0] == SSH_MSG_USERAUTH_FAILURE) {
		rc = on_failure(s, p);
		la_free(&s->a, p);
		return rc ? rc
			  : sess_err(s, LIBSSH2_ERROR_PUBLICKEY_UNVERIFIED,
				     "the server refused the key (%s) for "
				     "this user",
				     a->alg);
	}
	la_free(&s->a, p);
	return sess_err(s, LIBSSH2_ERROR_PROTO,
			"unexpected reply to a publickey request");
}

static int publickey_cb(LIBSSH2_SESSION *s, const char *user, size_t ulen,
			const unsigned char *blob, size_t bloblen,
			const char **alg,
			LIBSSH2_USERAUTH_PUBLICKEY_SIGN_FUNC((*cb)),
			void **abstract, int cb_raw)
{
	struct pk_args a = { 0 };
	struct rbuf r;
	const char *type;
	size_t tn, n;
	char tname[64], plain[64];

	if (!user || !blob || !cb)
		return sess_err(s, LIBSSH2_ERROR_INVAL, "missing argument");
	rb_init(&r, blob, bloblen);
	if (rb_text(&r, &type, &tn, sizeof(tname) - 1))
		return sess_err(s, LIBSSH2_ERROR_PUBLICKEY_PROTOCOL,
				"malformed public key blob");
	memcpy(tname, type, tn);
	tname[tn] = 0;
	if (alg && !*alg) {
		/* server-sig-algs is in the EXT_INFO that follows NEWKEYS
		 * (RFC 8308 2.4), so it is known once the service is. */
		int rc = SESS_BLOCK(s, auth_service(s));

		const char *chosen;

		if (rc)
			return rc;
		chosen = sig_alg(s, tname);
		if (!chosen)
			return sess_err(s, LIBSSH2_ERROR_METHOD_NONE,
					"no signature algorithm for a %s key "
					"is acceptable to both sides",
					tname);
		if (chosen != tname)
			*alg = chosen;
	}
	a.user = user;
	a.ulen = ulen;
	a.blob = blob;
	a.bloblen = bloblen;
	a.alg = alg && *alg ? *alg : tname;
	/* a certificate signs as its plain algorithm (PROTOCOL.certkeys) */
	n = strlen(a.alg);
	if (n > strlen(CERT_SUFFIX) &&
	    !strcmp(a.alg + n - strlen(CERT_SUFFIX), CERT_SUFFIX)) {
		snprintf(plain, sizeof(plain), "%.*s",
			 (int)(n - strlen(CERT_SUFFIX)), a.alg);
		a.sigalg = plain;
	}
	a.cb = cb;
	a.abstract = abstract;
	a.cb_raw = cb_raw;
	return SESS_BLOCK(s, pk_step(s, &a));
}

int auth_publickey_alg(LIBSSH2_SESSION *s, const char *user, size_t ulen,
		       const unsigned char *blob, size_t bloblen,
		       const char **alg,
		       LIBSSH2_USERAUTH_PUBLICKEY_SIGN_FUNC((*cb)),
		       void **abstract)
{
	return publickey_cb(s, user, ulen, blob, bloblen, alg, cb, abstract,
			    0);
}

LIBSSH2_API int libssh2_userauth_publickey(
	LIBSSH2_SESSION *s, const char *username,
	const unsigned char *pubkeydata, size_t pubkeydata_len,
	LIBSSH2_USERAUTH_PUBLICKEY_SIGN_FUNC((*sign_callback)),
	void **abstract)
{
	const char *alg = NULL;

	/* As libssh2: an ssh-rsa key signs as rsa-sha2-512/256 when the
	 * server accepts them (the callback sees the algorithm in the data
	 * it signs) and returns the bare signature. */
	return publickey_cb(s, username, username ? strlen(username) : 0,
			    pubkeydata, pubkeydata_len, &alg, sign_callback,
			    abstract, 1);
}

static int read_file(LIBSSH2_SESSION *s, const char *path, char **out,
		     size_t *len)
{
	struct stat st;
	ssize_t r;
	size_t got = 0;
	char *buf;
	int fd;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return sess_err(s, LIBSSH2_ERROR_FILE, "unable to open %s: %s",
				path, strerror(errno));
	if (fstat(fd, &st) || !S_ISREG(st.st_mode) ||
	    st.st_size > AUTH_KEYFILE_MAX) {
		close(fd);
		return sess_err(s, LIBSSH2_ERROR_FILE,
				"%s is not a key file", path);
	}
	buf = la_alloc(&s->a, (size_t)st.st_size + 1);
	if (!buf) {
		close(fd);
		return sess_err(s, LIBSSH2_ERROR_ALLOC, "out of memory");
	}
	while (got < (size_t)st.st_size &&
	       (r = read(fd, buf + got, (size_t)st.st_size - got)) > 0)
		got += (size_t)r;
	close(fd);
	buf[got] = 0;
	*out = buf;
	*len = got;
	return 0;
}

/*
 * The public key to offer for k: k's own blob, or the one in the caller's
 * public key file when given (libssh2: "the passed public key takes
 * precedence"), which may be a certificate of k.  For a certificate the
 * request names the certificate's algorithm and the signature the plain
 * one; an RSA certificate follows its key to rsa-sha2-512/256 the same
 * way (rsa-sha2-512-cert-v01@openssh.com).
 */
static int pk_offer(LIBSSH2_SESSION *s, struct key *k, const char *pub,
		    size_t publen, uint8_t **own, struct pk_args *a,
		    char *certalg, size_t cap)
{
	const char *why = NULL;
	size_t n;
	int rc, cert = 0;

	if (pub) {
		rc = key_parse_public(&s->a, pub, publen, own, &a->bloblen,
				      NULL, &why);
		if (rc && rc != LIBSSH2_ERROR_ALLOC)
			rc = LIBSSH2_ERROR_FILE;
		if (rc)
			return sess_err(s, rc,
					"unable to use the public key: %s",
					why ? why : "invalid data");
		a->blob = *own;
		if (key_public_matches(k, a->blob, a->bloblen, &cert))
			return sess_err(s, LIBSSH2_ERROR_PUBLICKEY_UNVERIFIED,
					"the public key is not the private "
					"key's, nor a certificate of it");
	} else if (key_public_blob(k, &a->blob, &a->bloblen)) {
		return sess_err(s, LIBSSH2_ERROR_FILE, "no public key");
	}
	a->alg = sig_alg(s, key_type_name(k));
	if (!a->alg)
		return sess_err(s, LIBSSH2_ERROR_METHOD_NONE,
				"no signature algorithm for a %s key is "
				"acceptable to both sides",
				key_type_name(k));
	if (cert) {
		n = (size_t)snprintf(certalg, cap, "%s" CERT_SUFFIX, a->alg);
		if (n >= cap)
			return sess_err(s, LIBSSH2_ERROR_INVAL,
					"algorithm name too long");
		a->sigalg = a->alg;
		a->alg = certalg;
	}
	return 0;
}

/*
 * The code for a private key that key_load_private refused (rc), as
 * libssh2 1.11.1 built with OpenSSL returns it (its userauth.c,
 * openssl.c and pem.c):
 * - with a public key (file or data) given, libssh2 reads the private
 *   key only in its sign callback, after the server's PK_OK, and any
 *   failure there is LIBSSH2_ERROR_PUBLICKEY_UNVERIFIED ("Callback
 *   returned error");
 * - libssh2_userauth_publickey_fromfile_ex without one derives it from
 *   the private key file: LIBSSH2_ERROR_FILE whatever went wrong;
 * - libssh2_userauth_publickey_frommemory without one: the OpenSSH
 *   parser's code - LIBSSH2_ERROR_KEYFILE_AUTH_FAILED for an OpenSSH key
 *   with no, an empty or a wrong passphrase, LIBSSH2_ERROR_PROTO for the
 *   rest (a PEM key OpenSSL could not open falls through to that parser,
 *   which finds no OpenSSH header).
 * The message is ours in every case: "passphrase required" or "wrong
 * passphrase" where that is the reason, which libssh2's is not (fs/conn.c
 * asks for a passphrase on those words).  Key types and ciphers we do not
 * implement keep LIBSSH2_ERROR_METHOD_NOT_SUPPORTED.
 */
static int key_load_code(int rc, int frommem, int pub, int openssh)
{
	/* not measured against libssh2: left as key.c says */
	if (rc == LIBSSH2_ERROR_ALLOC ||
	    rc == LIBSSH2_ERROR_METHOD_NOT_SUPPORTED)
		return rc;
	if (pub)
		return LIBSSH2_ERROR_PUBLICKEY_UNVERIFIED;
	if (!frommem)
		return LIBSSH2_ERROR_FILE;
	if (rc == LIBSSH2_ERROR_KEYFILE_AUTH_FAILED && openssh)
		return rc;
	return LIBSSH2_ERROR_PROTO;
}

static int pk_with_key(LIBSSH2_SESSION *s, const char *user, size_t ulen,
		       const char *pub, size_t publen, const char *data,
		       size_t len, const char *pass, int frommem)
{
	struct pk_args a = { 0 };
	struct key *k = NULL;
	const char *why = NULL;
	uint8_t *own = NULL;
	char certalg[96];
	int rc;

	rc = key_load_private(&s->a, data, len, pass, &k, &why);
	if (rc)
		return sess_err(s,
				key_load_code(rc, frommem, pub != NULL,
					      key_is_openssh(data, len)),
				"unable to use the private key: %s",
				why ? why : "unknown error");
	/* server-sig-algs comes in the EXT_INFO after NEWKEYS (RFC 8308
	 * 2.4): it is known once the service is accepted */
	rc = SESS_BLOCK(s, auth_service(s));
	if (rc)
		goto out;
	a.user = user;
	a.ulen = ulen;
	a.key = k;
	rc = pk_offer(s, k, pub, publen, &own, &a, certalg, sizeof(certalg));
	if (!rc)
		rc = SESS_BLOCK(s, pk_step(s, &a));
out:
	la_free(&s->a, own);
	key_free(&s->a, k);
	return rc;
}

LIBSSH2_API int libssh2_userauth_publickey_fromfile_ex(
	LIBSSH2_SESSION *s, const char *username, unsigned int username_len,
	const char *publickey, const char *privatekey, const char *passphrase)
{
	char *data = NULL, *pub = NULL;
	size_t len = 0, publen = 0;
	int rc;

	if (!privatekey)
		return sess_err(s, LIBSSH2_ERROR_FILE, "no private key file");
	/* the public key file, when given, is the key offered (as
	 * libssh2); NULL: the private key's own */
	if (publickey && (rc = read_file(s, publickey, &pub, &publen)))
		return rc;
	if ((rc = read_file(s, privatekey, &data, &len))) {
		/* libssh2 opens the private key file only to sign, in a
		 * callback whose failure it reports so (key_load_code) */
		if (publickey && rc == LIBSSH2_ERROR_FILE)
			rc = s->last_errno = LIBSSH2_ERROR_PUBLICKEY_UNVERIFIED;
		goto out;
	}
	rc = pk_with_key(s, username, username_len, pub, publen, data, len,
			 passphrase, 0);
out:
	la_free_wipe(&s->a, data, len);
	la_free(&s->a, pub);
	return rc;
}

LIBSSH2_API int libssh2_userauth_publickey_frommemory(
	LIBSSH2_SESSION *s, const char *username, size_t username_len,
	const char *publickeyfiledata, size_t publickeyfiledata_len,
	const char *privatekeyfiledata, size_t privatekeyfiledata_len,
	const char *passphrase)
{
	if (!privatekeyfiledata)
		return sess_err(s, LIBSSH2_ERROR_FILE, "no private key data");
	/* as libssh2: the public key data counts when it has a length */
	if (!publickeyfiledata_len)
		publickeyfiledata = NULL;
	return pk_with_key(s, username, username_len, publickeyfiledata,
			   publickeyfiledata_len, privatekeyfiledata,
			   privatekeyfiledata_len, passphrase, 1);
}

/* ---- for the methods in other files (auth_hostbased.c) -------------------- */

int auth_service_step(LIBSSH2_SESSION *s)
{
	return auth_service(s);
}

int auth_request_begin(LIBSSH2_SESSION *s, const char *user, size_t ulen,
		       const char *method)
{
	return request_begin(s, user, ulen, method);
}

int auth_request_end(LIBSSH2_SESSION *s)
{
	return request_end(s);
}

const char *auth_sig_alg(LIBSSH2_SESSION *s, const char *keytype)
{
	return sig_alg(s, keytype);
}

int auth_read_file(LIBSSH2_SESSION *s, const char *path, char **out,
		   size_t *len)
{
	return read_file(s, path, out, len);
}

int auth_reply_step(LIBSSH2_SESSION *s, int fail_code, const char *what)
{
	struct sess_pkt *p;
	int rc;

	if ((rc = reply_wait(s, &p)))
		return rc;
	s->auth.pending = 0;
	if (p->data[0] == SSH_MSG_USERAUTH_SUCCESS) {
		la_free(&s->a, p);
		on_success(s);
		return 0;
	}
	if (p->data[0] == SSH_MSG_USERAUTH_FAILURE) {
		rc = on_failure(s, p);
		la_free(&s->a, p);
		return rc ? rc
			  : sess_err(s, fail_code, "the server refused %s",
				     what);
	}
	la_free(&s->a, p);
	return sess_err(s, LIBSSH2_ERROR_PROTO,
			"unexpected reply to a %s request", what);
}
