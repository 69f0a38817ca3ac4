/*
 * auth.c - user authentication (RFC 4252, RFC 4256, RFC 8332 for RSA
 * signature algorithms): the libssh2_userauth_* API.
 *
 * Each call sends its request once (s->auth.pending remembers that it is
 * out, so a non-blocking caller that retries after EAGAIN does not send
 * it twice) and then waits for the reply through the session's pump.
 * Public keys are in auth_pk.c, host-based in auth_hostbased.c.
 */
#define _GNU_SOURCE
#include "auth.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

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
 * attack, not a login (libssh2 1.11.1 refuses more than 100 too). */
#define AUTH_MAX_PROMPTS 100
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
	/* as libssh2: *banner is set only when there is one; no session
	 * has none */
	if (!s)
		return LIBSSH2_ERROR_MISSING_USERAUTH_BANNER;
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

/*
 * One INFO_REQUEST (RFC 4256 3.2) to the caller's callback, and its
 * INFO_RESPONSE queued.  The callback sees what libssh2 1.11.1 gives it:
 * an empty name, instruction or prompt text as NULL with length 0 (the
 * others are not NUL-terminated), echo as 0 or 1, and with no prompts
 * NULL for both arrays.
 */
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
		prompts[i].text = tn ? (unsigned char *)t : NULL;
		prompts[i].length = tn;
		prompts[i].echo = (unsigned char)echo;
	}
	if (rb_done(&r))
		return sess_err(s, LIBSSH2_ERROR_PROTO,
				"malformed INFO_REQUEST");
	memset(resp, 0, sizeof(resp));
	a->cb(nn ? name : NULL, (int)nn, in ? instr : NULL, (int)in, (int)np,
	      np ? prompts : NULL, np ? resp : NULL, &s->abstract);
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

/* ---- key files, for auth_pk.c and auth_hostbased.c ----------------------- */

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

int auth_read_file(LIBSSH2_SESSION *s, const char *path, char **out,
		   size_t *len)
{
	return read_file(s, path, out, len);
}

int auth_reply_wait(LIBSSH2_SESSION *s, struct sess_pkt **p)
{
	return reply_wait(s, p);
}

int auth_on_failure(LIBSSH2_SESSION *s, struct sess_pkt *p)
{
	return on_failure(s, p);
}

void auth_on_success(LIBSSH2_SESSION *s)
{
	on_success(s);
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
