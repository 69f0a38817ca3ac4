/*
 * session.c - LIBSSH2_SESSION life cycle, errors, options and socket I/O.
 */
#define _GNU_SOURCE
#include "session.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "crypto/crypto.h"
#include "forward.h"
#include "scp.h"
#include "trace.h"

/* ---- allocation ----------------------------------------------------------- */

static LIBSSH2_ALLOC_FUNC(sys_alloc)
{
	(void)abstract;
	return malloc(count);
}

static LIBSSH2_REALLOC_FUNC(sys_realloc)
{
	(void)abstract;
	return realloc(ptr, count);
}

static LIBSSH2_FREE_FUNC(sys_free)
{
	(void)abstract;
	free(ptr);
}

static void *sys_abstract;
const struct lalloc lalloc_system = { sys_alloc, sys_free, sys_realloc,
				      &sys_abstract };

void *la_calloc(const struct lalloc *a, size_t n)
{
	void *p = la_alloc(a, n);

	if (p)
		memset(p, 0, n);
	return p;
}

char *la_strndup(const struct lalloc *a, const char *s, size_t n)
{
	char *p = la_alloc(a, n + 1);

	if (p) {
		memcpy(p, s, n);
		p[n] = '\0';
	}
	return p;
}

void la_free_wipe(const struct lalloc *a, void *p, size_t n)
{
	if (!p)
		return;
	crypto_wipe(p, n);
	la_free(a, p);
}

/* ---- default socket functions (LIBSSH2_CALLBACK_SEND/RECV) --------------- */

static LIBSSH2_SEND_FUNC(sock_send_default)
{
	ssize_t r = send(socket, buffer, length, flags);

	(void)abstract;
	return r < 0 ? -errno : r;
}

static LIBSSH2_RECV_FUNC(sock_recv_default)
{
	ssize_t r = recv(socket, buffer, length, flags);

	(void)abstract;
	return r < 0 ? -errno : r;
}

/* ---- library ------------------------------------------------------------- */

static int init_count;

LIBSSH2_API int libssh2_init(int flags)
{
	(void)flags; /* no global crypto state to set up */
	init_count++;
	return 0;
}

LIBSSH2_API void libssh2_exit(void)
{
	if (init_count > 0)
		init_count--;
}

LIBSSH2_API const char *libssh2_version(int req_version_num)
{
	if (req_version_num <= LIBSSH2_VERSION_NUM)
		return LIBSSH2_VERSION;
	return NULL;
}

LIBSSH2_API libssh2_crypto_engine_t libssh2_crypto_engine(void)
{
	return libssh2_mbedtls;
}

LIBSSH2_API void libssh2_free(LIBSSH2_SESSION *s, void *ptr)
{
	if (s)
		la_free(&s->a, ptr);
}

/* ---- session life cycle ------------------------------------------------- */

LIBSSH2_API LIBSSH2_SESSION *
libssh2_session_init_ex(LIBSSH2_ALLOC_FUNC((*my_alloc)),
			LIBSSH2_FREE_FUNC((*my_free)),
			LIBSSH2_REALLOC_FUNC((*my_realloc)), void *abstract)
{
	struct lalloc a = { sys_alloc, sys_free, sys_realloc, NULL };
	LIBSSH2_SESSION *s;

	/* As libssh2: each function given replaces the system one. */
	if (my_alloc)
		a.alloc = my_alloc;
	if (my_free)
		a.free = my_free;
	if (my_realloc)
		a.realloc = my_realloc;
	s = a.alloc(sizeof(*s), &abstract);
	if (!s)
		return NULL;
	memset(s, 0, sizeof(*s));
	s->abstract = abstract;
	s->a = a;
	s->a.abstract = &s->abstract;
	s->sock = LIBSSH2_INVALID_SOCKET;
	s->blocking = 1;
	s->read_timeout_s = 60;
	s->flag_sigpipe = 0;
	s->flag_quote_paths = 1; /* libssh2's default: SCP paths quoted */
	s->send = sock_send_default;
	s->recv = sock_recv_default;
	if (tp_init(&s->tp, &s->a)) {
		a.free(s, &abstract);
		return NULL;
	}
	s->rekey_bytes = SSH_REKEY_BYTES;
	s->rekey_ms = (int64_t)SSH_REKEY_SECONDS * 1000;
	s->chan_window_max = CHAN_WINDOW_MAX;
	wb_init(&s->kex.i_c, &s->a, SSH_PACKET_MAX);
	wb_init(&s->kex.i_s, &s->a, SSH_PACKET_MAX);
	s->q_tail = &s->q_head;
	s->trace_t0 = sess_now_ms();
	return s;
}

LIBSSH2_API int libssh2_session_free(LIBSSH2_SESSION *s)
{
	struct lalloc a;
	void *abstract;

	if (!s)
		return 0;
	a = s->a;
	while (s->q_head) {
		struct sess_pkt *p = s->q_head;

		s->q_head = p->next;
		la_free_wipe(&a, p, sizeof(*p) + p->n);
	}
	sftp_drop_opening(s);
	scp_drop(s);
	fwd_free_all(s);
	chan_free_all(s);
	auth_free(s);
	kex_free(s, &s->kex);
	tp_free(&s->tp);
	la_free(&a, s->local_banner);
	/* as libssh2: the socket goes back to blocking if it was */
	if (s->sock != LIBSSH2_INVALID_SOCKET && s->sock_was_blocking) {
		int fl = fcntl(s->sock, F_GETFL);

		if (fl >= 0)
			(void)fcntl(s->sock, F_SETFL, fl & ~O_NONBLOCK);
	}
	abstract = s->abstract;
	crypto_wipe(s, sizeof(*s));
	a.free(s, &abstract);
	return 0;
}

LIBSSH2_API void **libssh2_session_abstract(LIBSSH2_SESSION *s)
{
	return &s->abstract;
}

/* ---- errors --------------------------------------------------------------- */

int sess_err(LIBSSH2_SESSION *s, int code, const char *fmt, ...)
{
	va_list ap;

	s->last_errno = code;
	va_start(ap, fmt);
	vsnprintf(s->errmsg, sizeof(s->errmsg), fmt, ap);
	va_end(ap);
	if (code != LIBSSH2_ERROR_EAGAIN)
		TRACE(s, LIBSSH2_TRACE_ERROR, "error %d: %s", code, s->errmsg);
	return code;
}

LIBSSH2_API int libssh2_session_last_error(LIBSSH2_SESSION *s, char **errmsg,
					   int *errmsg_len, int want_buf)
{
	/* as libssh2: the length is that of the message handed out, so 0
	 * when errmsg is NULL */
	size_t n = s->last_errno && errmsg ? strlen(s->errmsg) : 0;

	if (errmsg) {
		if (want_buf) {
			char *p = la_alloc(&s->a, n + 1);

			if (p) {
				memcpy(p, s->errmsg, n);
				p[n] = '\0';
			} else {
				n = 0;
			}
			*errmsg = p;
		} else {
			*errmsg = n ? s->errmsg : (char *)"";
		}
	}
	if (errmsg_len)
		*errmsg_len = (int)n;
	return s->last_errno;
}

LIBSSH2_API int libssh2_session_last_errno(LIBSSH2_SESSION *s)
{
	return s->last_errno;
}

LIBSSH2_API int libssh2_session_set_last_error(LIBSSH2_SESSION *s,
					       int errcode,
					       const char *errmsg)
{
	return sess_err(s, errcode, "%s", errmsg ? errmsg : "");
}

/* ---- options -------------------------------------------------------------- */

LIBSSH2_API void libssh2_session_set_blocking(LIBSSH2_SESSION *s,
					      int blocking)
{
	/* kept as given: libssh2_session_get_blocking returns it (libssh2) */
	s->blocking = blocking;
}

LIBSSH2_API int libssh2_session_get_blocking(LIBSSH2_SESSION *s)
{
	return s->blocking;
}

LIBSSH2_API void libssh2_session_set_timeout(LIBSSH2_SESSION *s, long timeout)
{
	s->timeout_ms = timeout; /* 0 or less: no limit (sess_deadline) */
}

LIBSSH2_API long libssh2_session_get_timeout(LIBSSH2_SESSION *s)
{
	return s->timeout_ms;
}

LIBSSH2_API void libssh2_session_set_read_timeout(LIBSSH2_SESSION *s,
						  long timeout)
{
	s->read_timeout_s = timeout > 0 ? timeout : 60;
}

LIBSSH2_API long libssh2_session_get_read_timeout(LIBSSH2_SESSION *s)
{
	return s->read_timeout_s;
}

LIBSSH2_API int libssh2_session_block_directions(LIBSSH2_SESSION *s)
{
	return s->block_dirs;
}

LIBSSH2_API int libssh2_session_flag(LIBSSH2_SESSION *s, int flag, int value)
{
	switch (flag) {
	case LIBSSH2_FLAG_SIGPIPE:
		s->flag_sigpipe = value != 0;
		return 0;
	case LIBSSH2_FLAG_COMPRESS:
		s->flag_compress = value != 0;
		return 0;
	case LIBSSH2_FLAG_QUOTE_PATHS:
		s->flag_quote_paths = value != 0;
		return 0;
	}
	/* libssh2 1.11.1 records nothing for an unknown flag */
	return LIBSSH2_ERROR_INVAL;
}

static int banner_store(LIBSSH2_SESSION *s, const char *banner)
{
	size_t n = banner ? strlen(banner) : 0;
	char *p;

	/* A trailing CR LF given by the caller is ours to add. */
	while (n > 0 && (banner[n - 1] == '\n' || banner[n - 1] == '\r'))
		n--;
	if (n == 0) {
		la_free(&s->a, s->local_banner);
		s->local_banner = NULL;
		return 0;
	}
	if (n + 2 > SSH_BANNER_MAX)
		return sess_err(s, LIBSSH2_ERROR_INVAL,
				"banner longer than %d bytes",
				SSH_BANNER_MAX - 2);
	p = la_strndup(&s->a, banner, n);
	if (!p)
		return sess_err(s, LIBSSH2_ERROR_ALLOC,
				"unable to allocate the banner");
	la_free(&s->a, s->local_banner);
	s->local_banner = p;
	return 0;
}

LIBSSH2_API int libssh2_session_banner_set(LIBSSH2_SESSION *s,
					   const char *banner)
{
	return banner_store(s, banner);
}

LIBSSH2_API int libssh2_banner_set(LIBSSH2_SESSION *s, const char *banner)
{
	return banner_store(s, banner);
}

LIBSSH2_API const char *libssh2_session_banner_get(LIBSSH2_SESSION *s)
{
	if (!s || !s->remote_banner[0])
		return NULL;
	return s->remote_banner;
}

LIBSSH2_API libssh2_cb_generic *
libssh2_session_callback_set2(LIBSSH2_SESSION *s, int cbtype,
			      libssh2_cb_generic *cb)
{
	libssh2_cb_generic *old;

#define SWAP(field)                                                         \
	do {                                                                \
		old = (libssh2_cb_generic *)s->field;                       \
		s->field = (__typeof__(s->field))cb;                        \
	} while (0)
	switch (cbtype) {
	case LIBSSH2_CALLBACK_IGNORE:
		SWAP(cb_ignore);
		break;
	case LIBSSH2_CALLBACK_DEBUG:
		SWAP(cb_debug);
		break;
	case LIBSSH2_CALLBACK_DISCONNECT:
		SWAP(cb_disconnect);
		break;
	case LIBSSH2_CALLBACK_MACERROR:
		SWAP(cb_macerror);
		break;
	case LIBSSH2_CALLBACK_X11:
		SWAP(cb_x11);
		break;
	/* As libssh2, the first replacement of SEND or RECV returns the
	 * built-in function, which a wrapper may call; NULL brings it back
	 * (libssh2 would store NULL and crash on the next I/O). */
	case LIBSSH2_CALLBACK_SEND:
		SWAP(send);
		if (!s->send)
			s->send = sock_send_default;
		break;
	case LIBSSH2_CALLBACK_RECV:
		SWAP(recv);
		if (!s->recv)
			s->recv = sock_recv_default;
		break;
	case LIBSSH2_CALLBACK_AUTHAGENT:
		SWAP(cb_authagent);
		break;
	case LIBSSH2_CALLBACK_AUTHAGENT_IDENTITIES:
		SWAP(cb_addids);
		break;
	case LIBSSH2_CALLBACK_AUTHAGENT_SIGN:
		SWAP(cb_agentsign);
		break;
	default:
		return NULL;
	}
#undef SWAP
	return old;
}

LIBSSH2_API void *libssh2_session_callback_set(LIBSSH2_SESSION *s, int cbtype,
					       void *cb)
{
	return (void *)libssh2_session_callback_set2(
		s, cbtype, (libssh2_cb_generic *)cb);
}

/* ---- socket I/O ----------------------------------------------------------- */

int64_t sess_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static ssize_t sock_send(LIBSSH2_SESSION *s, const void *p, size_t n)
{
	int flags = s->flag_sigpipe ? 0 : MSG_NOSIGNAL;

	return s->send(s->sock, p, n, flags, &s->abstract);
}

static ssize_t sock_recv(LIBSSH2_SESSION *s, void *p, size_t n)
{
	return s->recv(s->sock, p, n, 0, &s->abstract);
}

void sess_mark_dead(LIBSSH2_SESSION *s, int err)
{
	/* the first fatal error is the one every later call reports (a
	 * later EAGAIN in last_errno must not make it look alive) */
	if (s->state != SESS_DEAD || !s->dead_err)
		s->dead_err = err && err != LIBSSH2_ERROR_EAGAIN
				      ? err
				      : LIBSSH2_ERROR_SOCKET_DISCONNECT;
	s->state = SESS_DEAD;
}

int sess_flush(LIBSSH2_SESSION *s)
{
	if (s->state == SESS_DEAD && s->dead_err)
		return s->dead_err;
	while (tp_out_len(&s->tp) > 0) {
		ssize_t r = sock_send(s, tp_out_data(&s->tp),
				      tp_out_len(&s->tp));

		if (r == -EINTR)
			continue;
		/* A send hook that moves nothing is treated as "full". */
		if (r == -EAGAIN || r == -EWOULDBLOCK || r == 0) {
			s->block_dirs |= LIBSSH2_SESSION_BLOCK_OUTBOUND;
			return LIBSSH2_ERROR_EAGAIN;
		}
		if (r < 0) {
			sess_mark_dead(s, LIBSSH2_ERROR_SOCKET_SEND);
			return sess_err(s, LIBSSH2_ERROR_SOCKET_SEND,
					"unable to send to the socket: %s",
					strerror((int)-r));
		}
		tp_out_consume(&s->tp, (size_t)r);
		s->last_send_ms = sess_now_ms();
		TRACE(s, LIBSSH2_TRACE_SOCKET, "sent %zd bytes", r);
	}
	return 0;
}

int sess_fill(LIBSSH2_SESSION *s)
{
	size_t avail;
	uint8_t *p;
	ssize_t r;

	p = tp_in_space(&s->tp, SSH_READ_CHUNK / 4, &avail);
	if (!p)
		return sess_err(s, LIBSSH2_ERROR_ALLOC,
				"unable to grow the input buffer");
	do
		r = sock_recv(s, p, avail);
	while (r == -EINTR);
	if (r == -EAGAIN || r == -EWOULDBLOCK) {
		s->block_dirs |= LIBSSH2_SESSION_BLOCK_INBOUND;
		return LIBSSH2_ERROR_EAGAIN;
	}
	if (r < 0) {
		sess_mark_dead(s, LIBSSH2_ERROR_SOCKET_RECV);
		return sess_err(s, LIBSSH2_ERROR_SOCKET_RECV,
				"unable to read from the socket: %s",
				strerror((int)-r));
	}
	if (r == 0) {
		sess_mark_dead(s, LIBSSH2_ERROR_SOCKET_DISCONNECT);
		return sess_err(s, LIBSSH2_ERROR_SOCKET_DISCONNECT,
				"the server closed the connection");
	}
	tp_in_commit(&s->tp, (size_t)r);
	s->last_recv_ms = sess_now_ms();
	TRACE(s, LIBSSH2_TRACE_SOCKET, "received %zd bytes", r);
	return (int)r;
}

int64_t sess_deadline(const LIBSSH2_SESSION *s)
{
	return s->timeout_ms > 0 ? sess_now_ms() + s->timeout_ms : 0;
}

int sess_wait(LIBSSH2_SESSION *s, int64_t deadline_ms)
{
	struct pollfd pfd = { .fd = s->sock };
	int timeout = -1, ka_next = 0, ka_wake = 0, r;

	/* As libssh2: a blocking call that waits sends the keepalives that
	 * fall due meanwhile, and wakes up for the next one. */
	if (s->ka_interval && (r = libssh2_keepalive_send(s, &ka_next)))
		return r;
	if (s->block_dirs & LIBSSH2_SESSION_BLOCK_INBOUND)
		pfd.events |= POLLIN;
	if (s->block_dirs & LIBSSH2_SESSION_BLOCK_OUTBOUND)
		pfd.events |= POLLOUT;
	if (!pfd.events)
		pfd.events = POLLIN;
	if (deadline_ms) {
		int64_t left = deadline_ms - sess_now_ms();

		if (left <= 0)
			return sess_err(s, LIBSSH2_ERROR_TIMEOUT,
					"timed out waiting for the server");
		timeout = left > 1000000000 ? 1000000000 : (int)left;
	}
	if (ka_next > 0 && (timeout < 0 || ka_next * 1000 < timeout)) {
		timeout = ka_next * 1000;
		ka_wake = 1;
	}
	do
		r = poll(&pfd, 1, timeout);
	while (r < 0 && errno == EINTR);
	if (r < 0)
		return sess_err(s, LIBSSH2_ERROR_SOCKET_RECV, "poll failed: %s",
				strerror(errno));
	if (r == 0 && !ka_wake)
		return sess_err(s, LIBSSH2_ERROR_TIMEOUT,
				"timed out waiting for the server");
	return 0; /* (a keepalive wake-up: the caller tries again) */
}

/* ---- identification exchange -------------------------------------------- */

int sess_banner_step(LIBSSH2_SESSION *s)
{
	const char *why = NULL;
	int rc;

	if (s->state == SESS_NEW) {
		rc = tp_banner_queue(&s->tp, s->local_banner
						     ? s->local_banner
						     : LIBSSH2_SSH_DEFAULT_BANNER);
		if (rc)
			return sess_err(s, rc, "unable to queue our banner");
		s->state = SESS_BANNER;
	}
	if (s->state != SESS_BANNER)
		return 0;
	rc = sess_flush(s);
	if (rc == LIBSSH2_ERROR_EAGAIN)
		return rc;
	if (rc)
		return sess_err(s, LIBSSH2_ERROR_BANNER_SEND,
				"unable to send our banner");
	for (;;) {
		rc = tp_banner_take(&s->tp, s->remote_banner,
				    sizeof(s->remote_banner), &why);
		if (rc == 1)
			break;
		if (rc < 0) {
			sess_mark_dead(s, rc);
			return sess_err(s, rc, "%s", why);
		}
		rc = sess_fill(s);
		if (rc == LIBSSH2_ERROR_EAGAIN)
			return rc;
		if (rc == LIBSSH2_ERROR_SOCKET_DISCONNECT)
			return sess_err(s, LIBSSH2_ERROR_BANNER_RECV,
					"the server closed the connection "
					"before sending its banner");
		if (rc < 0)
			return rc;
	}
	s->state = SESS_KEX;
	return 0;
}

int sess_attach_socket(LIBSSH2_SESSION *s, libssh2_socket_t sock)
{
	int fl;

	if (sock < 0)
		return sess_err(s, LIBSSH2_ERROR_BAD_SOCKET, "invalid socket");
	fl = fcntl(sock, F_GETFL);
	if (fl < 0 || fcntl(sock, F_SETFL, fl | O_NONBLOCK) < 0)
		return sess_err(s, LIBSSH2_ERROR_BAD_SOCKET,
				"unable to use the socket: %s",
				strerror(errno));
	s->sock = sock;
	s->sock_was_blocking = !(fl & O_NONBLOCK);
	return 0;
}

/* ---- the pump ------------------------------------------------------------ */

/* Upper-layer messages waiting to be taken, at most this many bytes. */
#define SESS_QUEUE_MAX (64u * 1024 * 1024)

static int queue_packet(LIBSSH2_SESSION *s, const uint8_t *p, size_t n)
{
	struct sess_pkt *q;

	size_t cost = n + sizeof(*q) + 32; /* count the allocator's share */

	if (cost > SESS_QUEUE_MAX - s->q_bytes)
		return sess_err(s, LIBSSH2_ERROR_OUT_OF_BOUNDARY,
				"too many unread messages from the server");
	q = la_alloc(&s->a, sizeof(*q) + n);
	if (!q)
		return sess_err(s, LIBSSH2_ERROR_ALLOC, "out of memory");
	q->next = NULL;
	q->n = n;
	memcpy(q->data, p, n);
	*s->q_tail = q;
	s->q_tail = &q->next;
	s->q_bytes += cost;
	return 0;
}

int sess_take(LIBSSH2_SESSION *s, uint8_t lo, uint8_t hi,
	      struct sess_pkt **out)
{
	struct sess_pkt **pp;

	for (pp = &s->q_head; *pp; pp = &(*pp)->next) {
		struct sess_pkt *q = *pp;

		if (q->data[0] < lo || q->data[0] > hi)
			continue;
		*pp = q->next;
		if (s->q_tail == &q->next)
			s->q_tail = pp;
		s->q_bytes -= q->n + sizeof(*q) + 32;
		*out = q;
		return 1;
	}
	return 0;
}

static int on_disconnect(LIBSSH2_SESSION *s, struct rbuf *r)
{
	const char *desc = "", *lang = "";
	size_t dn = 0, ln = 0;
	uint32_t reason = 0;

	/* Best effort: a malformed DISCONNECT still disconnects. */
	if (!rb_u32(r, &reason) && !rb_text(r, &desc, &dn, 1024) &&
	    rb_text(r, &lang, &ln, 256))
		lang = "";
	if (s->cb_disconnect)
		s->cb_disconnect(s, (int)reason, desc, (int)dn, lang, (int)ln,
				 &s->abstract);
	sess_mark_dead(s, LIBSSH2_ERROR_SOCKET_DISCONNECT);
	return sess_err(s, LIBSSH2_ERROR_SOCKET_DISCONNECT,
			"the server disconnected (reason %u): %.*s", reason,
			(int)(dn > 200 ? 200 : dn), desc);
}

/* RFC 8308 2.3: name/value pairs; we keep server-sig-algs. */
static int on_ext_info(LIBSSH2_SESSION *s, struct rbuf *r)
{
	uint32_t count, i;

	if (rb_u32(r, &count) || count > rb_left(r) / 8)
		goto bad;
	for (i = 0; i < count; i++) {
		const char *name;
		const uint8_t *val;
		size_t nn, vn;

		if (rb_text(r, &name, &nn, 256) ||
		    rb_string(r, &val, &vn, SSH_STRING_MAX))
			goto bad;
		if (nn == 15 && !memcmp(name, "server-sig-algs", 15)) {
			char *v = la_strndup(&s->a, (const char *)val, vn);

			if (!v)
				return sess_err(s, LIBSSH2_ERROR_ALLOC,
						"out of memory");
			la_free(&s->a, s->kex.server_sig_algs);
			s->kex.server_sig_algs = v;
		}
	}
	if (rb_done(r))
		goto bad;
	return 0;
bad:
	return sess_err(s, LIBSSH2_ERROR_PROTO, "malformed EXT_INFO");
}

/* RFC 4254 4: we accept no global requests from the server. */
static int on_global_request(LIBSSH2_SESSION *s, struct rbuf *r)
{
	const char *name;
	size_t nn;
	int want_reply;
	uint8_t fail = 82; /* SSH_MSG_REQUEST_FAILURE */
	int rc;

	if (rb_text(r, &name, &nn, 1024) || rb_bool(r, &want_reply))
		return sess_err(s, LIBSSH2_ERROR_PROTO,
				"malformed GLOBAL_REQUEST");
	if (!want_reply)
		return 0;
	if ((rc = tp_send(&s->tp, &fail, 1)))
		return sess_err(s, rc, "unable to queue REQUEST_FAILURE");
	return 0;
}

/*
 * RFC 4253 11.4: "An implementation MUST respond to all unrecognized
 * messages with an SSH_MSG_UNIMPLEMENTED message" quoting the rejected
 * packet's sequence number (which strict KEX restarts at NEWKEYS; the
 * transport counts it).  The reply leaves with the next flush; the
 * message itself is dropped.  Which transport numbers count as
 * unrecognised is transport_unrecognised()'s call.
 */
static int on_unrecognized(LIBSSH2_SESSION *s, uint8_t type)
{
	uint32_t seq = s->tp.rx_last_seq;
	int rc;

	TRACE(s, LIBSSH2_TRACE_TRANS,
	      "message %u not recognised (sequence number %u): "
	      "answering UNIMPLEMENTED",
	      type, seq);
	if ((rc = tp_pkt_begin(&s->tp, SSH_MSG_UNIMPLEMENTED)))
		return sess_err(s, rc, "out of memory");
	if (wb_u32(&s->tp.out, seq)) {
		tp_pkt_abort(&s->tp);
		return sess_err(s, LIBSSH2_ERROR_ALLOC, "out of memory");
	}
	if ((rc = tp_pkt_end(&s->tp)))
		return sess_err(s, rc, "unable to queue UNIMPLEMENTED");
	return 0;
}

/*
 * Is a transport message (1..49) one to answer UNIMPLEMENTED rather than
 * to refuse?  RFC 4253 7.1 lets a peer in a key exchange send generic
 * messages (1..19, but not SERVICE_REQUEST/ACCEPT) and negotiation ones
 * (20..29, but not a second KEXINIT), so an unassigned number there is
 * only unknown to us, not a broken exchange; OpenSSH answers them so too
 * (kex_protocol_error).  Unrecognised are:
 *   8..19, 22..29   unassigned (RFC 4250 4.1.2), at any time;
 *   NEWKEYS         with no exchange running, once the first is over
 *                   (OpenSSH: the same handler after kex_input_newkeys);
 *   30..49          once the first exchange is over, while no method is
 *                   waiting for its messages: they mean something only to
 *                   a running method (RFC 4253 12).
 * Never during strict KEX's initial exchange: there anything outside the
 * exchange ends the connection (OpenSSH PROTOCOL, "kex-strict").  During
 * a running exchange a method number or NEWKEYS out of its place stays
 * fatal (kex_handle): our state and the server's disagree.
 */
static int transport_unrecognised(const struct kex *k, uint8_t type)
{
	if (k->rounds == 0 && k->strict)
		return 0;
	if ((type > SSH_MSG_EXT_INFO && type < SSH_MSG_KEXINIT) ||
	    (type > SSH_MSG_NEWKEYS && type < SSH_MSG_KEX_ECDH_INIT))
		return 1;
	if (k->rounds == 0)
		return 0;
	if (type == SSH_MSG_NEWKEYS)
		return !kex_busy(k);
	if (type >= SSH_MSG_KEX_ECDH_INIT && type <= SSH_MSG_KEX_LAST)
		return !kex_method_msg_due(k);
	return 0;
}

/*
 * LIBSSH2_CALLBACK_MACERROR, as libssh2 1.11.1 (_libssh2_packet_add):
 * the application is shown a packet whose HMAC did not verify; if the
 * callback returns 0 the packet is processed as if it had, otherwise it
 * is dropped and the session ends with LIBSSH2_ERROR_INVALID_MAC (as it
 * does without a callback).  Only for HMACs: an AEAD tag failure never
 * gets here (transport.h).
 */
static int mac_error(LIBSSH2_SESSION *s, const uint8_t *p, size_t n)
{
	if (s->cb_macerror &&
	    s->cb_macerror(s, (const char *)p, (int)n, &s->abstract) == 0) {
		TRACE(s, LIBSSH2_TRACE_TRANS,
		      "packet type %u with a bad MAC accepted by the "
		      "application",
		      p[0]);
		return 0;
	}
	sess_mark_dead(s, LIBSSH2_ERROR_INVALID_MAC);
	return sess_err(s, LIBSSH2_ERROR_INVALID_MAC,
			"message authentication code mismatch (packet type "
			"%u, refused by the MAC error callback)",
			p[0]);
}

/* Trace lines for key exchange messages: the first KEXINIT of a round,
 * and the round's end with what was agreed. */
static void trace_kex(LIBSSH2_SESSION *s, uint8_t type, int before,
		      int rc)
{
	const struct kex *k = &s->kex;

	if (rc && rc != LIBSSH2_ERROR_EAGAIN) {
		TRACE(s, LIBSSH2_TRACE_KEX, "key exchange failed: %d", rc);
		return;
	}
	if (type == SSH_MSG_KEXINIT)
		TRACE(s, LIBSSH2_TRACE_KEX, "server KEXINIT (round %d)",
		      before + 1);
	if (k->rounds != before)
		TRACE(s, LIBSSH2_TRACE_KEX,
		      "key exchange %d done: %s, host key %s, %s / %s",
		      k->rounds, k->agreed[LIBSSH2_METHOD_KEX] ?: "?",
		      k->agreed[LIBSSH2_METHOD_HOSTKEY] ?: "?",
		      k->agreed[LIBSSH2_METHOD_CRYPT_CS] ?: "?",
		      k->agreed[LIBSSH2_METHOD_CRYPT_SC] ?: "?");
}

static int dispatch(LIBSSH2_SESSION *s, const uint8_t *p, size_t n)
{
	struct kex *k = &s->kex;
	uint8_t type = p[0];
	struct rbuf r;
	const char *m;
	size_t mn;
	int always;

	rb_init(&r, p + 1, n - 1);
	if (type == SSH_MSG_DISCONNECT)
		return on_disconnect(s, &r);
	if (type <= SSH_MSG_KEX_LAST && transport_unrecognised(k, type))
		return on_unrecognized(s, type);
	if (type >= SSH_MSG_KEXINIT && type <= SSH_MSG_KEX_LAST) {
		/* Strict KEX: the server's KEXINIT must be its very first
		 * packet (sequence number 0). */
		if (type == SSH_MSG_KEXINIT && k->rounds == 0 &&
		    s->tp.rx_seq != 1)
			k->first_not_kexinit = 1;
		int rounds = k->rounds;
		int rc = kex_handle(s, p, n);
		if (TRACE_ON(s, LIBSSH2_TRACE_KEX))
			trace_kex(s, type, rounds, rc);
		if (!rc && k->strict && k->first_not_kexinit)
			return sess_err(s, LIBSSH2_ERROR_PROTO,
					"strict KEX: the server's first "
					"packet was not KEXINIT");
		return rc;
	}
	/* Strict KEX (OpenSSH PROTOCOL "kex-strict"): nothing but key
	 * exchange messages until the first exchange is complete.  Without
	 * it, RFC 4253 7.1 still forbids the server SERVICE_ACCEPT, EXT_INFO
	 * (RFC 8308 2.4: after NEWKEYS) and everything above 49 before its
	 * NEWKEYS. */
	if (k->rounds == 0 && (k->strict || type > SSH_MSG_DEBUG))
		return sess_err(s, LIBSSH2_ERROR_PROTO,
				"unexpected message %u during the initial "
				"key exchange",
				type);
	switch (type) {
	case SSH_MSG_IGNORE: {
		/* The data is binary (OpenSSH sends random bytes). */
		const uint8_t *d;

		if (s->cb_ignore && !rb_string(&r, &d, &mn, SSH_STRING_MAX))
			s->cb_ignore(s, (const char *)d, (int)mn,
				     &s->abstract);
		return 0;
	}
	case SSH_MSG_UNIMPLEMENTED:
		return 0;
	case SSH_MSG_DEBUG:
		if (s->cb_debug && !rb_bool(&r, &always) &&
		    !rb_text(&r, &m, &mn, SSH_STRING_MAX)) {
			const char *l = "";
			size_t ln = 0;

			if (rb_text(&r, &l, &ln, 256))
				l = "";
			s->cb_debug(s, always, m, (int)mn, l, (int)ln,
				    &s->abstract);
		}
		return 0;
	case SSH_MSG_EXT_INFO:
		return on_ext_info(s, &r);
	case 53: /* SSH_MSG_USERAUTH_BANNER */
		return auth_on_banner(s, &r);
	case SSH_MSG_CHANNEL_OPEN:
		return chan_open_request(s, &r);
	case 80: /* SSH_MSG_GLOBAL_REQUEST */
		return on_global_request(s, &r);
	}
	if (type == SSH_MSG_REQUEST_SUCCESS ||
	    type == SSH_MSG_REQUEST_FAILURE) {
		/* an answer nothing was asked for is dropped */
		if (s->greq_done == s->greq_sent)
			return 0;
		return fwd_on_reply(s, s->greq_done++, p, n);
	}
	if (type >= SSH_MSG_CHANNEL_OPEN_CONFIRMATION &&
	    type <= SSH_MSG_CHANNEL_FAILURE) {
		/* the channel's life, not its data */
		if (TRACE_ON(s, LIBSSH2_TRACE_CONN) && n >= 5 &&
		    type != SSH_MSG_CHANNEL_DATA &&
		    type != SSH_MSG_CHANNEL_EXTENDED_DATA &&
		    type != SSH_MSG_CHANNEL_WINDOW_ADJUST)
			trace_emit(s, LIBSSH2_TRACE_CONN, "%s for channel %u",
				   trace_msg_name(type), get_u32(p + 1));
		return chan_dispatch(s, p, n);
	}
	/* What the upper layers take from the queue: SERVICE_ACCEPT and
	 * the user authentication replies (auth.c; an unassigned number
	 * there answers a pending request and is refused by it). */
	if (type == SSH_MSG_SERVICE_ACCEPT || (type >= 51 && type <= 79))
		return queue_packet(s, p, n);
	return on_unrecognized(s, type);
}

/* Start a rekey of our own when the keys are old (RFC 4253 9).  (Also
 * asked between the packets of one large write: 8 MiB may be queued in
 * one call, far past a small limit.) */
int sess_rekey_due(LIBSSH2_SESSION *s)
{
	const struct tp *t = &s->tp;

	if (s->state != SESS_READY || kex_busy(&s->kex))
		return 0;
	return t->tx_bytes >= s->rekey_bytes || t->rx_bytes >= s->rekey_bytes ||
	       (s->rekey_ms > 0 &&
		sess_now_ms() - s->kex.started_ms >= s->rekey_ms);
}

int sess_ready_to_send(LIBSSH2_SESSION *s)
{
	int rc;

	if (sess_rekey_due(s) && (rc = kex_start(s)))
		return rc;
	while (s->kex.state == KEX_RUNNING)
		if ((rc = sess_pump(s)))
			return rc;
	return 0;
}

int sess_pump(LIBSSH2_SESSION *s)
{
	const uint8_t *p;
	const char *why = "";
	size_t n;
	int rc;

	if (s->state == SESS_DEAD)
		return s->dead_err ? s->dead_err
				   : LIBSSH2_ERROR_SOCKET_DISCONNECT;
	/* Keep writing what we can, but never let a full socket stop us
	 * from reading: both peers writing at once must not deadlock. */
	rc = sess_flush(s);
	if (rc && rc != LIBSSH2_ERROR_EAGAIN)
		return rc;
	/* Bad HMACs come back as packets only for a MAC error callback. */
	s->tp.mac_soft = s->cb_macerror != NULL;
	for (;;) {
		rc = tp_recv(&s->tp, &p, &n, &why);
		if (rc == TP_PKT)
			break;
		if (rc == TP_PKT_BADMAC) {
			if ((rc = mac_error(s, p, n)))
				return rc;
			break;
		}
		if (rc < 0) {
			sess_mark_dead(s, rc);
			return sess_err(s, rc, "%s", why);
		}
		rc = sess_fill(s);
		if (rc < 0)
			return rc;
	}
	TRACE(s, LIBSSH2_TRACE_TRANS, "received packet type %u (%s), %zu bytes",
	      p[0], trace_msg_name(p[0]), n);
	rc = dispatch(s, p, n);
	if (rc && rc != LIBSSH2_ERROR_EAGAIN)
		sess_mark_dead(s, rc);
	/* Received bytes count towards our limit too (RFC 4253 9): a
	 * session that only reads must not wait for its next send to see
	 * it.  The KEXINIT leaves with the next flush. */
	else if (!rc && sess_rekey_due(s))
		rc = kex_start(s);
	return rc;
}

/* ---- handshake ------------------------------------------------------------ */

static int handshake_step(LIBSSH2_SESSION *s)
{
	int rc;

	if (s->state == SESS_NEW || s->state == SESS_BANNER) {
		if ((rc = sess_banner_step(s)))
			return rc;
	}
	if (s->state == SESS_KEX) {
		if (!s->kex.ours_sent && s->kex.rounds == 0 &&
		    (rc = kex_start(s)))
			return rc;
		while (s->kex.rounds == 0)
			if ((rc = sess_pump(s)))
				return rc;
		if ((rc = sess_flush(s)))
			return rc;
		s->state = SESS_READY;
	}
	if (s->state == SESS_DEAD)
		return s->dead_err ? s->dead_err
				   : LIBSSH2_ERROR_SOCKET_DISCONNECT;
	return 0;
}

LIBSSH2_API int libssh2_session_handshake(LIBSSH2_SESSION *s,
					  libssh2_socket_t sock)
{
	int rc;

	if (s->sock == LIBSSH2_INVALID_SOCKET) {
		if ((rc = sess_attach_socket(s, sock)))
			return rc;
	} else if (s->sock != sock) {
		return sess_err(s, LIBSSH2_ERROR_BAD_USE,
				"the session already has another socket");
	}
	return SESS_BLOCK(s, handshake_step(s));
}

LIBSSH2_API int libssh2_session_startup(LIBSSH2_SESSION *s, int sock)
{
	return libssh2_session_handshake(s, sock);
}

static int disconnect_step(LIBSSH2_SESSION *s)
{
	int rc = sess_flush(s);

	if (rc)
		return rc;
	sess_mark_dead(s, LIBSSH2_ERROR_SOCKET_DISCONNECT);
	return 0;
}

LIBSSH2_API int libssh2_session_disconnect_ex(LIBSSH2_SESSION *s, int reason,
					      const char *description,
					      const char *lang)
{
	int rc;

	/* libssh2 1.11.1's limits, checked first whatever the state */
	if (description && strlen(description) > SSH_DISCONNECT_TEXT_MAX)
		return sess_err(s, LIBSSH2_ERROR_INVAL,
				"disconnect description longer than %d bytes",
				SSH_DISCONNECT_TEXT_MAX);
	if (lang && strlen(lang) > SSH_DISCONNECT_TEXT_MAX)
		return sess_err(s, LIBSSH2_ERROR_INVAL,
				"disconnect language tag longer than %d bytes",
				SSH_DISCONNECT_TEXT_MAX);
	if (s->state == SESS_DEAD || s->sock == LIBSSH2_INVALID_SOCKET)
		return 0;
	if (!s->disc_queued && s->state != SESS_NEW &&
	    s->state != SESS_BANNER) {
		if ((rc = tp_pkt_begin(&s->tp, SSH_MSG_DISCONNECT)))
			return sess_err(s, rc, "out of memory");
		if (wb_u32(&s->tp.out, (uint32_t)reason) ||
		    wb_cstring(&s->tp.out, description ? description : "") ||
		    wb_cstring(&s->tp.out, lang ? lang : "")) {
			tp_pkt_abort(&s->tp);
			return sess_err(s, LIBSSH2_ERROR_ALLOC,
					"out of memory");
		}
		if ((rc = tp_pkt_end(&s->tp)))
			return sess_err(s, rc, "unable to queue DISCONNECT");
		s->disc_queued = 1;
	}
	return SESS_BLOCK(s, disconnect_step(s));
}

/* ---- negotiated algorithms and the host key ------------------------------- */

LIBSSH2_API int libssh2_session_method_pref(LIBSSH2_SESSION *s,
					    int method_type, const char *prefs)
{
	return kex_set_pref(s, method_type, prefs);
}

LIBSSH2_API const char *libssh2_session_methods(LIBSSH2_SESSION *s,
						int method_type)
{
	/* libssh2 1.11.1: no languages are negotiated, "" for them; the
	 * kinds it does not know are INVAL */
	if (method_type == LIBSSH2_METHOD_LANG_CS ||
	    method_type == LIBSSH2_METHOD_LANG_SC)
		return "";
	if (method_type < 0 || method_type > LIBSSH2_METHOD_COMP_SC) {
		sess_err(s, LIBSSH2_ERROR_INVAL,
			 "invalid method type %d", method_type);
		return NULL;
	}
	if (!s->kex.agreed[method_type]) {
		sess_err(s, LIBSSH2_ERROR_METHOD_NONE,
			 "no method negotiated for type %d", method_type);
		return NULL;
	}
	return s->kex.agreed[method_type];
}

LIBSSH2_API int libssh2_session_supported_algs(LIBSSH2_SESSION *s,
					       int method_type,
					       const char ***algs)
{
	return kex_supported(s, method_type, algs);
}

LIBSSH2_API const char *libssh2_session_hostkey(LIBSSH2_SESSION *s,
						size_t *len, int *type)
{
	if (!s->kex.hostkey) {
		if (len)
			*len = 0;
		if (type)
			*type = LIBSSH2_HOSTKEY_TYPE_UNKNOWN;
		return NULL;
	}
	if (len)
		*len = s->kex.hostkey_len;
	if (type)
		*type = s->kex.hostkey_type;
	return (const char *)s->kex.hostkey;
}

LIBSSH2_API const char *libssh2_hostkey_hash(LIBSSH2_SESSION *s,
					     int hash_type)
{
	if (!s->kex.hostkey)
		return NULL;
	switch (hash_type) {
	case LIBSSH2_HOSTKEY_HASH_MD5:
		return (const char *)s->kex.hk_md5;
	case LIBSSH2_HOSTKEY_HASH_SHA1:
		return (const char *)s->kex.hk_sha1;
	case LIBSSH2_HOSTKEY_HASH_SHA256:
		return (const char *)s->kex.hk_sha256;
	}
	return NULL;
}

/* ---- keepalive (a global request no server knows, RFC 4254 4) ------------- */

/* (beyond libssh2) How far channels' receive windows may grow. */
LIBSSH2_API int libssh2_session_window_max(LIBSSH2_SESSION *s,
					   unsigned long bytes)
{
	if (!s)
		return LIBSSH2_ERROR_BAD_USE;
	if (bytes && (bytes < CHAN_WINDOW_MIN_MAX || bytes > CHAN_WINDOW_MAX_MAX))
		return sess_err(s, LIBSSH2_ERROR_INVAL,
				"window cap outside 64 KiB .. 1 GiB");
	s->chan_window_max = bytes ? (uint32_t)bytes : CHAN_WINDOW_MAX;
	return 0;
}

/* (beyond libssh2) The limits after which we start a key exchange. */
LIBSSH2_API int libssh2_session_rekey_limit(LIBSSH2_SESSION *s,
					    libssh2_uint64_t bytes,
					    long seconds)
{
	if (!s)
		return LIBSSH2_ERROR_BAD_USE;
	if (bytes && bytes < SSH_REKEY_BYTES_MIN)
		return sess_err(s, LIBSSH2_ERROR_INVAL,
				"rekey limit below 16 KiB");
	s->rekey_bytes = bytes ? bytes : SSH_REKEY_BYTES;
	s->rekey_ms = seconds < 0 ? (int64_t)SSH_REKEY_SECONDS * 1000
				  : (int64_t)seconds * 1000;
	return 0;
}

LIBSSH2_API void libssh2_keepalive_config(LIBSSH2_SESSION *s, int want_reply,
					  unsigned int interval)
{
	s->ka_want_reply = want_reply != 0;
	/* libssh2 treats an interval of 1 as 2: a keepalive every second
	 * would flood a slow link. */
	s->ka_interval = interval == 1 ? 2 : interval;
}

LIBSSH2_API int libssh2_keepalive_send(LIBSSH2_SESSION *s,
				       int *seconds_to_next)
{
	int64_t now = sess_now_ms(), due;
	int rc;

	if (!s->ka_interval) {
		if (seconds_to_next)
			*seconds_to_next = 0;
		return 0;
	}
	due = s->last_send_ms + (int64_t)s->ka_interval * 1000;
	if (s->state == SESS_READY && now >= due && !kex_busy(&s->kex) &&
	    !s->disc_queued) {
		if ((rc = tp_pkt_begin(&s->tp, 80)))
			return sess_err(s, rc, "out of memory");
		/* libssh2's name; servers answer it with REQUEST_FAILURE */
		if (wb_cstring(&s->tp.out, "keepalive@libssh2.org") ||
		    wb_bool(&s->tp.out, s->ka_want_reply)) {
			tp_pkt_abort(&s->tp);
			return sess_err(s, LIBSSH2_ERROR_ALLOC,
					"out of memory");
		}
		if ((rc = tp_pkt_end(&s->tp)))
			return sess_err(s, rc, "unable to queue keepalive");
		rc = sess_flush(s);
		if (rc && rc != LIBSSH2_ERROR_EAGAIN)
			return rc;
		if (s->ka_want_reply)
			s->greq_sent++; /* its answer is dropped */
		s->last_send_ms = now;
		due = now + (int64_t)s->ka_interval * 1000;
	}
	if (seconds_to_next) {
		int64_t left = (due - now + 999) / 1000;

		/* never 0 or negative: callers sleep on it */
		*seconds_to_next = left < 1 ? 1 : (int)left;
	}
	return 0;
}
