/*
 * agent.c - ssh-agent client (draft-miller-ssh-agent): list the keys an
 * agent holds and have it sign with them, for libssh2_agent_userauth and
 * libssh2_agent_sign.
 *
 * Every message on the agent's socket, in both directions:
 *	uint32	length of what follows
 *	byte	message type
 *	byte[]	contents
 * Requests and replies strictly alternate.  A reply that does not come
 * in time, comes only in part or is longer than AGENT_MSG_MAX leaves no
 * known message boundary on the stream, so the connection is closed and
 * the caller has to connect again.  A reply that is well framed but
 * wrong (a FAILURE, a malformed body) leaves the stream in step and the
 * connection open.
 *
 * Blocking: the socket is non-blocking and each exchange waits in poll()
 * up to a deadline (the session timeout, or AGENT_TIMEOUT_MS without
 * one).  The agent is local, so its exchanges are completed within the
 * call even for a non-blocking session: only the SSH half of
 * libssh2_agent_userauth can return LIBSSH2_ERROR_EAGAIN, and a repeated
 * call then waits for the server's answer without asking the agent
 * again.
 */
#include "agent.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "auth.h"
#include "session.h"

/* draft-miller-ssh-agent, "Message numbers". */
#define SSH_AGENT_FAILURE	      5
#define SSH_AGENTC_REQUEST_IDENTITIES 11
#define SSH_AGENT_IDENTITIES_ANSWER   12
#define SSH_AGENTC_SIGN_REQUEST	      13
#define SSH_AGENT_SIGN_RESPONSE	      14
#define SSH_AGENT_EXTENSION_FAILURE   28
/* draft-miller-ssh-agent-14 3.6.1: signature flags for RSA keys. */
#define SSH_AGENT_RSA_SHA2_256 0x02
#define SSH_AGENT_RSA_SHA2_512 0x04

/* Marks the identities we hand out (the struct's private field). */
#define AGENT_ID_MAGIC 0x61676e74u
/* OpenSSH certificate key types end so; their signatures do not. */
#define CERT_SUFFIX "-cert-v01@openssh.com"

struct _LIBSSH2_AGENT {
	LIBSSH2_SESSION *s;
	int fd;	    /* -1: not connected */
	char *path; /* libssh2_agent_set_identity_path; NULL: SSH_AUTH_SOCK */
	/* The last IDENTITIES_ANSWER: one allocation, the array followed
	 * by the blobs and comments it points to. */
	struct libssh2_agent_publickey *ids;
	size_t nids;
};

/* ---- connection --------------------------------------------------------- */

static void agent_close(LIBSSH2_AGENT *a)
{
	if (a->fd >= 0)
		close(a->fd);
	a->fd = -1;
}

/* The session's timeout (capped: a deadline must not overflow) or ours. */
static long agent_timeout_ms(const LIBSSH2_AGENT *a)
{
	long t = a->s->timeout_ms;

	return t <= 0 ? AGENT_TIMEOUT_MS : t > INT32_MAX ? INT32_MAX : t;
}

/* Wait until the socket is ready for dir (POLLIN/POLLOUT) or the
 * deadline passes. */
static int agent_wait(LIBSSH2_AGENT *a, short dir, int64_t deadline)
{
	struct pollfd p = { .fd = a->fd, .events = dir };
	int64_t left = deadline - sess_now_ms();

	if (left <= 0)
		return sess_err(a->s, LIBSSH2_ERROR_TIMEOUT,
				"the agent did not answer within %ld ms",
				agent_timeout_ms(a));
	if (poll(&p, 1, left > 60000 ? 60000 : (int)left) < 0 && errno != EINTR)
		return sess_err(a->s, LIBSSH2_ERROR_SOCKET_RECV,
				"poll on the agent socket: %s",
				strerror(errno));
	return 0;
}

/* Move all n bytes to (out) or from the agent before the deadline. */
static int agent_io(LIBSSH2_AGENT *a, int out, void *buf, size_t n,
		    int64_t deadline)
{
	uint8_t *p = buf;
	size_t done = 0;
	ssize_t r;
	int rc;

	while (done < n) {
		if (out)
			r = send(a->fd, p + done, n - done, MSG_NOSIGNAL);
		else
			r = recv(a->fd, p + done, n - done, 0);
		if (r > 0) {
			done += (size_t)r;
			continue;
		}
		if (r == 0)
			return sess_err(a->s, LIBSSH2_ERROR_SOCKET_RECV,
					"the agent closed the connection");
		if (errno == EINTR)
			continue;
		if (errno != EAGAIN && errno != EWOULDBLOCK)
			return sess_err(a->s,
					out ? LIBSSH2_ERROR_SOCKET_SEND
					    : LIBSSH2_ERROR_SOCKET_RECV,
					"agent socket: %s", strerror(errno));
		if ((rc = agent_wait(a, out ? POLLOUT : POLLIN, deadline)))
			return rc;
	}
	return 0;
}

/* Start a request of the given type in w (wb_free it in any case); its
 * length is poked by agent_transact.  Non-zero on error: see req_fail. */
static int req_begin(LIBSSH2_AGENT *a, struct wbuf *w, size_t *mark,
		     uint8_t type)
{
	wb_init(w, &a->s->a, AGENT_MSG_MAX + 4);
	return wb_begin_len(w, mark) || wb_u8(w, type);
}

/* A request that could not be built. */
static int req_fail(LIBSSH2_AGENT *a, const struct wbuf *w)
{
	if (wb_ok(w) == BUF_EBIG)
		return sess_err(a->s, LIBSSH2_ERROR_OUT_OF_BOUNDARY,
				"agent request over %u bytes", AGENT_MSG_MAX);
	return sess_err(a->s, LIBSSH2_ERROR_ALLOC, "out of memory");
}

/*
 * Send the request in w (from req_begin) and read the reply into *reply
 * (type and contents, allocated with the session's allocator).  Any
 * failure here closes the connection (see the top).
 */
static int agent_transact(LIBSSH2_AGENT *a, struct wbuf *w, size_t mark,
			  uint8_t **reply, size_t *rlen)
{
	int64_t deadline = sess_now_ms() + agent_timeout_ms(a);
	uint8_t hdr[4], *body = NULL;
	uint32_t n;
	int rc;

	if (a->fd < 0)
		return sess_err(a->s, LIBSSH2_ERROR_BAD_USE,
				"not connected to an agent");
	wb_end_len(w, mark);
	if ((rc = agent_io(a, 1, w->p, w->len, deadline)) ||
	    (rc = agent_io(a, 0, hdr, sizeof(hdr), deadline)))
		goto out;
	n = get_u32(hdr);
	if (n == 0 || n > AGENT_MSG_MAX) {
		rc = sess_err(a->s, LIBSSH2_ERROR_AGENT_PROTOCOL,
			      "agent reply of %u bytes", n);
		goto out;
	}
	if (!(body = la_alloc(&a->s->a, n))) {
		rc = sess_err(a->s, LIBSSH2_ERROR_ALLOC, "out of memory");
		goto out;
	}
	if ((rc = agent_io(a, 0, body, n, deadline)))
		goto out;
	*reply = body;
	*rlen = n;
	return 0;
out:
	la_free(&a->s->a, body);
	agent_close(a);
	return rc;
}

/* A FAILURE (or anything but want) as the first byte of a reply. */
static int reply_type_err(LIBSSH2_AGENT *a, uint8_t type, const char *what)
{
	if (type == SSH_AGENT_FAILURE || type == SSH_AGENT_EXTENSION_FAILURE)
		return sess_err(a->s, LIBSSH2_ERROR_AGENT_PROTOCOL,
				"the agent refused to %s", what);
	return sess_err(a->s, LIBSSH2_ERROR_AGENT_PROTOCOL,
			"unexpected agent reply %u to a request to %s", type,
			what);
}

LIBSSH2_API LIBSSH2_AGENT *libssh2_agent_init(LIBSSH2_SESSION *session)
{
	LIBSSH2_AGENT *a;

	if (!session)
		return NULL;
	a = la_calloc(&session->a, sizeof(*a));
	if (!a) {
		sess_err(session, LIBSSH2_ERROR_ALLOC, "out of memory");
		return NULL;
	}
	a->s = session;
	a->fd = -1;
	return a;
}

LIBSSH2_API int libssh2_agent_connect(LIBSSH2_AGENT *a)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	const char *path;
	size_t n;
	int fd;

	if (!a)
		return LIBSSH2_ERROR_INVAL;
	path = a->path ? a->path : getenv("SSH_AUTH_SOCK");
	if (!path)
		return sess_err(a->s, LIBSSH2_ERROR_BAD_USE,
				"no agent: SSH_AUTH_SOCK is not set and no "
				"identity path was given");
	/* libssh2 1.11.1 tries an empty path and fails to connect; it is
	 * not tried here, since an all-zero sun_path would name a Linux
	 * abstract socket. */
	if (!*path)
		return sess_err(a->s, LIBSSH2_ERROR_AGENT_PROTOCOL,
				"the agent socket path is empty");
	n = strlen(path);
	if (n >= sizeof(sun.sun_path))
		return sess_err(a->s, LIBSSH2_ERROR_AGENT_PROTOCOL,
				"agent socket path too long: %s", path);
	memcpy(sun.sun_path, path, n);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return sess_err(a->s, LIBSSH2_ERROR_BAD_SOCKET,
				"unable to create a socket: %s",
				strerror(errno));
	/* A local connect does not wait: it succeeds, or fails (EAGAIN
	 * when the agent's backlog is full). */
	if (connect(fd, (struct sockaddr *)&sun, sizeof(sun))) {
		int e = errno;

		close(fd);
		return sess_err(a->s, LIBSSH2_ERROR_AGENT_PROTOCOL,
				"unable to connect to the agent at %s: %s",
				path, strerror(e));
	}
	agent_close(a);
	a->fd = fd;
	return 0;
}

LIBSSH2_API int libssh2_agent_disconnect(LIBSSH2_AGENT *a)
{
	if (a)
		agent_close(a);
	return 0;
}

/* ---- identities --------------------------------------------------------- */

static void ids_free(LIBSSH2_AGENT *a)
{
	la_free(&a->s->a, a->ids);
	a->ids = NULL;
	a->nids = 0;
}

/* A reader error as an API error: caps are OUT_OF_BOUNDARY, the rest a
 * malformed reply. */
static int rb_fail(LIBSSH2_AGENT *a, int rc, const char *what)
{
	return sess_err(a->s,
			rc == BUF_EBIG ? LIBSSH2_ERROR_OUT_OF_BOUNDARY
				       : LIBSSH2_ERROR_AGENT_PROTOCOL,
			"%s in the agent's %s",
			rc == BUF_EBIG ? "value over its limit"
				       : "malformed data",
			what);
}

/*
 * SSH_AGENT_IDENTITIES_ANSWER:
 *	uint32	nkeys
 *	nkeys * { string key blob, string comment }
 * Copied into one allocation: nkeys structs, then the blobs and the
 * NUL-terminated comments (at most len + nkeys bytes).
 */
static int ids_parse(LIBSSH2_AGENT *a, struct rbuf *r, size_t len)
{
	struct libssh2_agent_publickey *ids;
	uint8_t *arena;
	uint32_t n, i;
	int rc;

	if ((rc = rb_u32(r, &n)))
		return rb_fail(a, rc, "list of keys");
	if (n > AGENT_MAX_IDENTITIES)
		return sess_err(a->s, LIBSSH2_ERROR_OUT_OF_BOUNDARY,
				"the agent holds %u keys, more than %u", n,
				AGENT_MAX_IDENTITIES);
	if (n > rb_left(r) / 8) /* each entry is at least two lengths */
		return rb_fail(a, BUF_ESHORT, "list of keys");
	ids = la_alloc(&a->s->a, n * sizeof(*ids) + len + n);
	if (!ids)
		return sess_err(a->s, LIBSSH2_ERROR_ALLOC, "out of memory");
	arena = (uint8_t *)(ids + n);
	for (i = 0; i < n; i++) {
		const uint8_t *blob;
		const char *c;
		size_t bl, cl;

		if ((rc = rb_string(r, &blob, &bl, AGENT_BLOB_MAX)) ||
		    (rc = rb_text(r, &c, &cl, AGENT_COMMENT_MAX)))
			break;
		if (!bl) { /* not a key */
			rc = BUF_EINVAL;
			break;
		}
		ids[i].magic = AGENT_ID_MAGIC;
		ids[i].node = a;
		ids[i].blob = memcpy(arena, blob, bl);
		ids[i].blob_len = bl;
		arena += bl;
		ids[i].comment = memcpy(arena, c, cl);
		ids[i].comment[cl] = 0;
		arena += cl + 1;
	}
	if (rc || (rc = rb_done(r))) {
		la_free(&a->s->a, ids);
		return rb_fail(a, rc, "list of keys");
	}
	a->ids = ids;
	a->nids = n;
	return 0;
}

LIBSSH2_API int libssh2_agent_list_identities(LIBSSH2_AGENT *a)
{
	struct wbuf w;
	struct rbuf r;
	uint8_t *reply = NULL, type;
	size_t len = 0, mark = 0;
	int rc;

	if (!a)
		return LIBSSH2_ERROR_INVAL;
	/* The old list goes first, whatever happens (as with libssh2):
	 * pointers into it are invalid from here on. */
	ids_free(a);
	if (req_begin(a, &w, &mark, SSH_AGENTC_REQUEST_IDENTITIES))
		rc = req_fail(a, &w);
	else
		rc = agent_transact(a, &w, mark, &reply, &len);
	wb_free(&w);
	if (rc)
		return rc;
	rb_init(&r, reply, len);
	if (rb_u8(&r, &type) || type != SSH_AGENT_IDENTITIES_ANSWER)
		rc = reply_type_err(a, reply[0], "list its keys");
	else
		rc = ids_parse(a, &r, len);
	la_free(&a->s->a, reply);
	return rc;
}

LIBSSH2_API int
libssh2_agent_get_identity(LIBSSH2_AGENT *a,
			   struct libssh2_agent_publickey **store,
			   struct libssh2_agent_publickey *prev)
{
	size_t i = 0;

	if (!a)
		return LIBSSH2_ERROR_INVAL;
	if (!store)
		return sess_err(a->s, LIBSSH2_ERROR_INVAL, "no store pointer");
	if (prev) {
		/* Only an identity of the current list continues it; pointer
		 * equality is defined for any pointer, unlike ordering. */
		while (i < a->nids && &a->ids[i] != prev)
			i++;
		if (i == a->nids)
			return sess_err(a->s, LIBSSH2_ERROR_INVAL,
					"prev is not an identity of this "
					"agent's current list");
		i++;
	}
	if (i >= a->nids)
		return 1;
	*store = &a->ids[i];
	return 0;
}

/* ---- signing ------------------------------------------------------------ */

/* The name an algorithm's signatures carry: certificate types sign as
 * their plain key type ("ssh-ed25519-cert-v01@openssh.com" signs as
 * "ssh-ed25519"). */
static size_t plain_len(const char *alg, size_t n)
{
	size_t sl = strlen(CERT_SUFFIX);

	if (n > sl && !memcmp(alg + n - sl, CERT_SUFFIX, sl))
		return n - sl;
	return n;
}

/* draft-miller-ssh-agent-14 3.6.1: RSA keys sign with SHA-1 unless a
 * flag asks for SHA-2 (RFC 8332). */
static uint32_t sign_flags(const char *alg, size_t n)
{
	n = plain_len(alg, n);
	if (n == 12 && !memcmp(alg, "rsa-sha2-256", 12))
		return SSH_AGENT_RSA_SHA2_256;
	if (n == 12 && !memcmp(alg, "rsa-sha2-512", 12))
		return SSH_AGENT_RSA_SHA2_512;
	return 0;
}

struct agent_sig {
	const char *alg; /* the algorithm asked for */
	size_t alglen;
	uint8_t *reply;		   /* the agent's reply, owning the rest */
	const uint8_t *blob, *sig; /* string alg, string sig / sig only */
	size_t bloblen, siglen;
};

/*
 * SSH_AGENT_SIGN_RESPONSE:
 *	string	signature blob { string algorithm, string signature }
 * The algorithm must be the one asked for: a server would refuse
 * anything else, and an old agent that ignores the flags answers an
 * rsa-sha2 request with ssh-rsa.
 */
static int sig_parse(LIBSSH2_AGENT *a, struct agent_sig *g, size_t len)
{
	struct rbuf r, b;
	const char *an;
	size_t al, want = plain_len(g->alg, g->alglen);
	uint8_t type;
	int rc;

	rb_init(&r, g->reply, len);
	if (rb_u8(&r, &type) || type != SSH_AGENT_SIGN_RESPONSE)
		return reply_type_err(a, g->reply[0], "sign");
	if ((rc = rb_sub(&r, &b, AGENT_SIG_MAX)) || (rc = rb_done(&r)))
		return rb_fail(a, rc, "signature");
	g->blob = rb_cur(&b);
	g->bloblen = rb_left(&b);
	if ((rc = rb_text(&b, &an, &al, AGENT_ALG_MAX)) ||
	    (rc = rb_string(&b, &g->sig, &g->siglen, AGENT_SIG_MAX)) ||
	    (rc = rb_done(&b)))
		return rb_fail(a, rc, "signature");
	if (al != want || memcmp(an, g->alg, al))
		return sess_err(a->s, LIBSSH2_ERROR_ALGO_UNSUPPORTED,
				"the agent signed with %.*s, not %.*s", (int)al,
				an, (int)want, g->alg);
	return 0;
}

/*
 * SSH_AGENTC_SIGN_REQUEST (draft-miller-ssh-agent-14 3.6):
 *	string	key blob
 *	string	data
 *	uint32	flags
 * g->alg names the signature algorithm wanted (NULL: the key's type).
 * On success g->reply is to be freed by the caller.
 */
static int agent_sign(LIBSSH2_AGENT *a, const uint8_t *key, size_t keylen,
		      const uint8_t *data, size_t dlen, struct agent_sig *g)
{
	struct wbuf w;
	struct rbuf r;
	size_t len = 0, mark = 0;
	int rc;

	if (!g->alg) {
		rb_init(&r, key, keylen);
		if (rb_text(&r, &g->alg, &g->alglen, AGENT_ALG_MAX))
			return sess_err(a->s, LIBSSH2_ERROR_PUBLICKEY_PROTOCOL,
					"malformed public key blob");
	}
	if (req_begin(a, &w, &mark, SSH_AGENTC_SIGN_REQUEST) ||
	    wb_string(&w, key, keylen) || wb_string(&w, data, dlen) ||
	    wb_u32(&w, sign_flags(g->alg, g->alglen)))
		rc = req_fail(a, &w);
	else
		rc = agent_transact(a, &w, mark, &g->reply, &len);
	wb_free(&w);
	if (rc)
		return rc;
	if ((rc = sig_parse(a, g, len))) {
		la_free(&a->s->a, g->reply);
		g->reply = NULL;
	}
	return rc;
}

/* Copy n bytes into memory from the session's allocator. */
static int sig_copy(LIBSSH2_AGENT *a, const uint8_t *p, size_t n,
		    unsigned char **out, size_t *outlen)
{
	unsigned char *c = la_alloc(&a->s->a, n);

	if (!c)
		return sess_err(a->s, LIBSSH2_ERROR_ALLOC, "out of memory");
	memcpy(c, p, n);
	*out = c;
	*outlen = n;
	return 0;
}

LIBSSH2_API int libssh2_agent_sign(LIBSSH2_AGENT *a,
				   struct libssh2_agent_publickey *identity,
				   unsigned char **sig, size_t *s_len,
				   const unsigned char *data, size_t d_len,
				   const char *method, unsigned int method_len)
{
	struct agent_sig g = { 0 };
	int rc;

	if (!a)
		return LIBSSH2_ERROR_INVAL;
	if (!identity || !identity->blob || !sig || !s_len || (!data && d_len))
		return sess_err(a->s, LIBSSH2_ERROR_INVAL, "missing argument");
	/* As libssh2 1.11.1, before anything else: the blob must at least
	 * hold its key type (string). */
	if (identity->blob_len < 4 ||
	    identity->blob_len - 4 < get_u32(identity->blob))
		return sess_err(a->s, LIBSSH2_ERROR_BUFFER_TOO_SMALL,
				"key blob too short for its key type");
	if (method && method_len) {
		g.alg = method;
		g.alglen = method_len;
	}
	rc = agent_sign(a, identity->blob, identity->blob_len,
			data ? data : (const unsigned char *)"", d_len, &g);
	if (rc)
		return rc;
	/* As libssh2: the signature itself, without its algorithm name. */
	rc = sig_copy(a, g.sig, g.siglen, sig, s_len);
	la_free(&a->s->a, g.reply);
	return rc;
}

/* ---- user authentication ------------------------------------------------ */

/* What the signing callback of libssh2_agent_userauth works with. */
struct agent_auth {
	LIBSSH2_AGENT *a;
	const struct libssh2_agent_publickey *id;
	const char *alg; /* auth_publickey_alg's choice; NULL: key type */
	int rc;		 /* the agent's error, if it failed */
	char why[SSH_ERRMSG_MAX];
};

static int agent_auth_sign(LIBSSH2_SESSION *s, unsigned char **sig,
			   size_t *sig_len, const unsigned char *data,
			   size_t data_len, void **abstract)
{
	struct agent_auth *c = *abstract;
	struct agent_sig g = { .alg = c->alg };
	int rc;

	c->rc = 0;
	if (g.alg)
		g.alglen = strlen(g.alg);
	rc = agent_sign(c->a, c->id->blob, c->id->blob_len, data, data_len, &g);
	/* auth.c keeps the whole blob: string algorithm, string sig. */
	if (!rc) {
		rc = sig_copy(c->a, g.blob, g.bloblen, sig, sig_len);
		la_free(&s->a, g.reply);
	}
	if (rc) {
		/* auth.c reports its own message; keep ours for later. */
		c->rc = rc;
		snprintf(c->why, sizeof(c->why), "%s", s->errmsg);
	}
	return rc;
}

LIBSSH2_API int libssh2_agent_userauth(LIBSSH2_AGENT *a, const char *username,
				       struct libssh2_agent_publickey *identity)
{
	struct agent_auth c = { 0 };
	void *abstract = &c;
	int rc;

	if (!a)
		return LIBSSH2_ERROR_INVAL;
	if (!username || !identity || !identity->blob)
		return sess_err(a->s, LIBSSH2_ERROR_INVAL, "missing argument");
	c.a = a;
	c.id = identity;
	rc = auth_publickey_alg(a->s, username, strlen(username),
				identity->blob, identity->blob_len, &c.alg,
				agent_auth_sign, &abstract);
	/* the agent's own words when its signature was the failure (not
	 * when a retry after ALGO_UNSUPPORTED was refused) */
	if (rc == LIBSSH2_ERROR_PUBLICKEY_UNVERIFIED && c.rc)
		rc = sess_err(a->s, rc, "the agent could not sign: %s", c.why);
	return rc;
}

/* ---- the rest ----------------------------------------------------------- */

LIBSSH2_API void libssh2_agent_free(LIBSSH2_AGENT *a)
{
	if (!a)
		return;
	agent_close(a);
	ids_free(a);
	la_free(&a->s->a, a->path);
	la_free(&a->s->a, a);
}

LIBSSH2_API void libssh2_agent_set_identity_path(LIBSSH2_AGENT *a,
						 const char *path)
{
	if (!a)
		return;
	la_free(&a->s->a, a->path);
	a->path = NULL;
	if (path && !(a->path = la_strndup(&a->s->a, path, strlen(path))))
		sess_err(a->s, LIBSSH2_ERROR_ALLOC, "out of memory");
}

LIBSSH2_API const char *libssh2_agent_get_identity_path(LIBSSH2_AGENT *a)
{
	return a ? a->path : NULL;
}
