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

	/* libssh2 uses the caller's functions only when all are given. */
	if (my_alloc && my_free && my_realloc) {
		a.alloc = my_alloc;
		a.free = my_free;
		a.realloc = my_realloc;
	}
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
	if (tp_init(&s->tp, &s->a)) {
		a.free(s, &abstract);
		return NULL;
	}
	return s;
}

LIBSSH2_API int libssh2_session_free(LIBSSH2_SESSION *s)
{
	struct lalloc a;

	if (!s)
		return 0;
	a = s->a;
	tp_free(&s->tp);
	la_free(&a, s->local_banner);
	crypto_wipe(s, sizeof(*s) - sizeof(s->a));
	a.free(s, a.abstract);
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
	return code;
}

LIBSSH2_API int libssh2_session_last_error(LIBSSH2_SESSION *s, char **errmsg,
					   int *errmsg_len, int want_buf)
{
	size_t n = s->last_errno ? strlen(s->errmsg) : 0;

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
	s->blocking = blocking != 0;
}

LIBSSH2_API int libssh2_session_get_blocking(LIBSSH2_SESSION *s)
{
	return s->blocking;
}

LIBSSH2_API void libssh2_session_set_timeout(LIBSSH2_SESSION *s, long timeout)
{
	s->timeout_ms = timeout > 0 ? timeout : 0;
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
	return sess_err(s, LIBSSH2_ERROR_INVAL, "unknown session flag %d",
			flag);
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
	if (!s->remote_banner[0])
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
	case LIBSSH2_CALLBACK_SEND:
		SWAP(send);
		break;
	case LIBSSH2_CALLBACK_RECV:
		SWAP(recv);
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
	ssize_t r;

	if (s->send)
		return s->send(s->sock, p, n, flags, &s->abstract);
	r = send(s->sock, p, n, flags);
	return r < 0 ? -errno : r;
}

static ssize_t sock_recv(LIBSSH2_SESSION *s, void *p, size_t n)
{
	ssize_t r;

	if (s->recv)
		return s->recv(s->sock, p, n, 0, &s->abstract);
	r = recv(s->sock, p, n, 0);
	return r < 0 ? -errno : r;
}

int sess_flush(LIBSSH2_SESSION *s)
{
	while (tp_out_len(&s->tp) > 0) {
		ssize_t r = sock_send(s, tp_out_data(&s->tp),
				      tp_out_len(&s->tp));

		if (r == -EINTR)
			continue;
		if (r == -EAGAIN || r == -EWOULDBLOCK) {
			s->block_dirs |= LIBSSH2_SESSION_BLOCK_OUTBOUND;
			return LIBSSH2_ERROR_EAGAIN;
		}
		if (r < 0) {
			s->state = SESS_DEAD;
			return sess_err(s, LIBSSH2_ERROR_SOCKET_SEND,
					"unable to send to the socket: %s",
					strerror((int)-r));
		}
		tp_out_consume(&s->tp, (size_t)r);
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
		s->state = SESS_DEAD;
		return sess_err(s, LIBSSH2_ERROR_SOCKET_RECV,
				"unable to read from the socket: %s",
				strerror((int)-r));
	}
	if (r == 0) {
		s->state = SESS_DEAD;
		return sess_err(s, LIBSSH2_ERROR_SOCKET_DISCONNECT,
				"the server closed the connection");
	}
	tp_in_commit(&s->tp, (size_t)r);
	return (int)r;
}

int64_t sess_deadline(const LIBSSH2_SESSION *s)
{
	return s->timeout_ms > 0 ? sess_now_ms() + s->timeout_ms : 0;
}

int sess_wait(LIBSSH2_SESSION *s, int64_t deadline_ms)
{
	struct pollfd pfd = { .fd = s->sock };
	int timeout = -1, r;

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
	do
		r = poll(&pfd, 1, timeout);
	while (r < 0 && errno == EINTR);
	if (r < 0)
		return sess_err(s, LIBSSH2_ERROR_SOCKET_RECV, "poll failed: %s",
				strerror(errno));
	if (r == 0)
		return sess_err(s, LIBSSH2_ERROR_TIMEOUT,
				"timed out waiting for the server");
	return 0;
}

/* ---- identification exchange -------------------------------------------- */

int sess_banner_step(LIBSSH2_SESSION *s)
{
	const char *why = NULL;
	int rc;

	s->block_dirs = 0;
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
			s->state = SESS_DEAD;
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
	return 0;
}
