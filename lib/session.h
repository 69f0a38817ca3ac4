/*
 * session.h - the session object behind LIBSSH2_SESSION and the helpers
 * every upper layer uses: errors, socket I/O, blocking emulation.
 *
 * I/O model: the socket is always non-blocking underneath.  Every API
 * function is written as a step that returns LIBSSH2_ERROR_EAGAIN when it
 * cannot go on; in blocking mode the public entry point wraps the step
 * in sess_block(), which polls the socket in the direction the step
 * needed (libssh2_session_block_directions) and retries, until done or
 * the session timeout passes.  The step's progress lives in the objects
 * it works on (transport buffers, channel state), not in per-call state
 * fields, so a retried call resumes where it stopped.
 */
#ifndef SFTPMNT_SESSION_H
#define SFTPMNT_SESSION_H

#include <stdarg.h>
#include <stdint.h>

#include "libssh2.h"

#include "alloc.h"
#include "auth.h"
#include "channel.h"
#include "kex.h"
#include "ssh_limits.h"
#include "transport.h"

enum sess_state {
	SESS_NEW = 0,	  /* no handshake yet */
	SESS_BANNER,	  /* identification exchange in progress */
	SESS_KEX,	  /* first key exchange in progress */
	SESS_READY,	  /* transport up, user authentication may begin */
	SESS_DEAD,	  /* socket error, disconnect sent or received */
};

struct _LIBSSH2_SESSION {
	struct lalloc a;
	void *abstract;

	libssh2_socket_t sock;
	enum sess_state state;
	int blocking;
	long timeout_ms;	/* 0 or less: wait forever */
	int sock_was_blocking;	/* restored by libssh2_session_free */
	long read_timeout_s;	/* blocking reads of the SFTP layer */
	int block_dirs;		/* LIBSSH2_SESSION_BLOCK_* of the last EAGAIN */
	int flag_sigpipe;
	int flag_compress;
	int flag_quote_paths;

	LIBSSH2_SEND_FUNC((*send));
	LIBSSH2_RECV_FUNC((*recv));
	LIBSSH2_IGNORE_FUNC((*cb_ignore));
	LIBSSH2_DEBUG_FUNC((*cb_debug));
	LIBSSH2_DISCONNECT_FUNC((*cb_disconnect));
	LIBSSH2_MACERROR_FUNC((*cb_macerror));
	LIBSSH2_X11_OPEN_FUNC((*cb_x11));
	LIBSSH2_AUTHAGENT_FUNC((*cb_authagent));
	LIBSSH2_ADD_IDENTITIES_FUNC((*cb_addids));
	LIBSSH2_AUTHAGENT_SIGN_FUNC((*cb_agentsign));

	char *local_banner;	/* NULL: LIBSSH2_SSH_DEFAULT_BANNER */
	char remote_banner[SSH_BANNER_MAX + 1];

	int last_errno;
	char errmsg[SSH_ERRMSG_MAX];

	struct tp tp;
	struct kex kex;
	struct auth_state auth;

	/* Messages for the upper layers (auth, channel replies), in order
	 * of arrival; bounded so a flooding server cannot grow it. */
	struct sess_pkt *q_head, **q_tail;
	size_t q_bytes;

	/* channels (RFC 4254) */
	LIBSSH2_CHANNEL *channels;
	LIBSSH2_CHANNEL *opening; /* an open in progress (non-blocking) */
	uint32_t next_channel_id;

	struct _LIBSSH2_SFTP *sftp_opening; /* libssh2_sftp_init in progress */

	/* rekeying started by us (RFC 4253 9) */
	uint64_t rekey_bytes;
	int64_t rekey_ms;
	/* the receive window channels grow to (libssh2_session_window_max) */
	uint32_t chan_window_max;

	/* keepalive (libssh2_keepalive_config) */
	int ka_want_reply;
	unsigned ka_interval;
	int64_t last_send_ms;
	int64_t last_recv_ms; /* when the server last sent us anything */
	int disc_queued;
	int dead_err; /* the fatal error that ended the session */

	/* Global requests sent with want_reply (keepalives, tcpip-forward):
	 * the server answers them in order (RFC 4254 4), so the n-th
	 * REQUEST_SUCCESS/FAILURE is the answer to ticket n (forward.c). */
	uint32_t greq_sent, greq_done;

	/* remote port forwarding (forward.c) */
	struct _LIBSSH2_LISTENER *listeners;
	struct fwd_listen *fwd_listening; /* forward_listen_ex in progress */

	struct scp_op *scp; /* libssh2_scp_send/recv in progress (scp.c) */

	/* libssh2_trace (trace.c) */
	int trace_mask;
	libssh2_trace_handler_func trace_cb;
	void *trace_ctx;
	int64_t trace_t0; /* trace lines count time from here */
};

/* A queued message. */
struct sess_pkt {
	struct sess_pkt *next;
	size_t n;
	uint8_t data[];
};

/* Read and dispatch one packet: transport messages (KEX, IGNORE,
 * DEBUG, DISCONNECT, EXT_INFO, global requests) are handled, the rest is
 * queued.  0 after one packet, EAGAIN, or an error (fatal ones mark the
 * session dead). */
int sess_pump(LIBSSH2_SESSION *s);
/* Wait (pumping) until upper-layer messages may be sent: not between
 * our KEXINIT and our NEWKEYS (RFC 4253 7.1).  0, EAGAIN or error. */
int sess_ready_to_send(LIBSSH2_SESSION *s);
/* Are our keys due to be renewed (rekey limits)? */
int sess_rekey_due(LIBSSH2_SESSION *s);
/* Take the first queued message whose type is in [lo, hi]; 1 with *out
 * (free with la_free) or 0 when there is none. */
int sess_take(LIBSSH2_SESSION *s, uint8_t lo, uint8_t hi,
	      struct sess_pkt **out);

/* Set the session's last error; returns code so callers can
 * "return sess_err(s, LIBSSH2_ERROR_X, "...")". */
int sess_err(LIBSSH2_SESSION *s, int code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* The session cannot go on: err is what every later call reports. */
void sess_mark_dead(LIBSSH2_SESSION *s, int err);

/* Send pending transport output.  0 when all is out, EAGAIN, or error. */
int sess_flush(LIBSSH2_SESSION *s);
/* Read what the socket has into the transport.  >0 bytes, EAGAIN, or an
 * error (LIBSSH2_ERROR_SOCKET_DISCONNECT on EOF). */
int sess_fill(LIBSSH2_SESSION *s);

/*
 * Blocking emulation: wait until the socket is ready in the direction of
 * the last EAGAIN, or the deadline passes.  deadline_ms is from
 * sess_deadline() (0 = none).  0 to retry, LIBSSH2_ERROR_TIMEOUT, or a
 * socket error.
 */
int64_t sess_deadline(const LIBSSH2_SESSION *s);
int sess_wait(LIBSSH2_SESSION *s, int64_t deadline_ms);

/* Monotonic milliseconds. */
int64_t sess_now_ms(void);

/* Take the socket; it is put in non-blocking mode (blocking behaviour is
 * ours, see above). */
int sess_attach_socket(LIBSSH2_SESSION *s, libssh2_socket_t sock);

/* The identification exchange step (RFC 4253 4.2). */
int sess_banner_step(LIBSSH2_SESSION *s);

/* Run step(s, arg) until it stops returning EAGAIN, waiting on the socket
 * in blocking mode; in non-blocking mode return its EAGAIN. */
#define SESS_BLOCK(s, expr)                                                 \
	({                                                                  \
		int64_t dl_ = sess_deadline(s);                             \
		int rc_;                                                    \
		for (;;) {                                                  \
			(s)->block_dirs = 0;                                \
			rc_ = (expr);                                       \
			if (rc_ != LIBSSH2_ERROR_EAGAIN)                    \
				break;                                      \
			if (!(s)->blocking) {                               \
				sess_err((s), rc_, "would block");          \
				break;                                      \
			}                                                   \
			if ((rc_ = sess_wait((s), dl_)))                    \
				break;                                      \
		}                                                           \
		rc_;                                                        \
	})

/* sftp.c: a libssh2_sftp_init left half done when the session goes. */
void sftp_drop_opening(LIBSSH2_SESSION *s);

#endif
