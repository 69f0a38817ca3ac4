/*
 * chanreq.c - the channel requests of RFC 4254 section 6 beyond exec,
 * shell, subsystem and env (channel.c): a pseudo-terminal and its size,
 * signals, X11 and agent forwarding requests; and the manual receive
 * window adjustment of libssh2_channel_receive_window_adjust(2).
 */
#include <stdio.h>
#include <string.h>

#include "crypto/crypto.h"
#include "session.h"
#include "trace.h"

/* Longest terminal type and encoded terminal modes we send (RFC 4254
 * 6.2, 8: the modes are opcode/argument pairs, a few hundred bytes). */
#define CHAN_TERM_MAX  256
#define CHAN_MODES_MAX 4096
/* Longest signal name (RFC 4254 6.9: "TERM", "USR1", ...). */
#define CHAN_SIGNAME_MAX 64
/* Longest X11 authentication protocol name and cookie. */
#define CHAN_X11_FIELD_MAX 1024
/* The random cookie we make when the caller gives none, in bytes (sent
 * as lowercase hex, as OpenSSH's client does for a fake cookie). */
#define CHAN_X11_COOKIE_LEN 16

/* A request that wants no reply (window-change, signal): 0 once it is
 * queued, so a caller repeating the call after EAGAIN cannot send it
 * twice; it leaves with this call's flush or the next. */
static int noreply_step(LIBSSH2_CHANNEL *c, const char *name,
			const struct wbuf *fields)
{
	LIBSSH2_SESSION *s = c->s;
	int rc;

	if (c->state != CHAN_OPEN || c->close_recv)
		return sess_err(s, LIBSSH2_ERROR_CHANNEL_CLOSED,
				"the channel is closed");
	if ((rc = sess_ready_to_send(s)))
		return rc;
	if ((rc = tp_pkt_begin(&s->tp, SSH_MSG_CHANNEL_REQUEST)))
		return sess_err(s, rc, "out of memory");
	if (wb_u32(&s->tp.out, c->remote_id) || wb_cstring(&s->tp.out, name) ||
	    wb_bool(&s->tp.out, 0) ||
	    wb_bytes(&s->tp.out, fields->p, fields->len)) {
		tp_pkt_abort(&s->tp);
		return sess_err(s, LIBSSH2_ERROR_ALLOC, "out of memory");
	}
	if ((rc = tp_pkt_end(&s->tp)))
		return sess_err(s, rc, "unable to queue the %s request", name);
	TRACE(s, LIBSSH2_TRACE_CONN, "%s sent on channel %u", name,
	      c->local_id);
	rc = sess_flush(s);
	return rc == LIBSSH2_ERROR_EAGAIN ? 0 : rc;
}

static int noreply(LIBSSH2_CHANNEL *c, const char *name, struct wbuf *w)
{
	int rc;

	if (wb_ok(w))
		rc = sess_err(c->s, LIBSSH2_ERROR_ALLOC, "out of memory");
	else
		rc = SESS_BLOCK(c->s, noreply_step(c, name, w));
	wb_free(w);
	return rc;
}

static int withreply(LIBSSH2_CHANNEL *c, const char *name, struct wbuf *w)
{
	int rc;

	if (wb_ok(w))
		rc = sess_err(c->s, LIBSSH2_ERROR_ALLOC, "out of memory");
	else
		rc = chan_request(c, name, w);
	wb_free(w);
	return rc;
}

static int dims_ok(int a, int b, int c, int d)
{
	return a >= 0 && b >= 0 && c >= 0 && d >= 0;
}

/* ---- pseudo-terminal (RFC 4254 6.2, 6.7) --------------------------------- */

LIBSSH2_API int
libssh2_channel_request_pty_ex(LIBSSH2_CHANNEL *c, const char *term,
			       unsigned int term_len, const char *modes,
			       unsigned int modes_len, int width, int height,
			       int width_px, int height_px)
{
	struct wbuf w;

	if (!c)
		return LIBSSH2_ERROR_BAD_USE;
	if ((!term && term_len) || term_len > CHAN_TERM_MAX ||
	    (!modes && modes_len) || modes_len > CHAN_MODES_MAX ||
	    !dims_ok(width, height, width_px, height_px))
		return sess_err(c->s, LIBSSH2_ERROR_INVAL,
				"pty-req: bad terminal type, modes or size");
	/* string TERM, uint32 columns, rows, width and height in pixels,
	 * string encoded terminal modes (section 8) */
	wb_init(&w, &c->s->a, SSH_PAYLOAD_MAX);
	(void)(wb_string(&w, term ? term : "", term_len) ||
	       wb_u32(&w, (uint32_t)width) || wb_u32(&w, (uint32_t)height) ||
	       wb_u32(&w, (uint32_t)width_px) ||
	       wb_u32(&w, (uint32_t)height_px) ||
	       wb_string(&w, modes ? modes : "", modes_len));
	return withreply(c, "pty-req", &w);
}

LIBSSH2_API int libssh2_channel_request_pty_size_ex(LIBSSH2_CHANNEL *c,
						    int width, int height,
						    int width_px, int height_px)
{
	struct wbuf w;

	if (!c)
		return LIBSSH2_ERROR_BAD_USE;
	if (!dims_ok(width, height, width_px, height_px))
		return sess_err(c->s, LIBSSH2_ERROR_INVAL,
				"window-change: negative size");
	wb_init(&w, &c->s->a, 64);
	(void)(wb_u32(&w, (uint32_t)width) || wb_u32(&w, (uint32_t)height) ||
	       wb_u32(&w, (uint32_t)width_px) ||
	       wb_u32(&w, (uint32_t)height_px));
	return noreply(c, "window-change", &w);
}

/* ---- signal (RFC 4254 6.9) ----------------------------------------------- */

LIBSSH2_API int libssh2_channel_signal_ex(LIBSSH2_CHANNEL *c,
					  const char *signame,
					  size_t signame_len)
{
	struct wbuf w;

	if (!c)
		return LIBSSH2_ERROR_BAD_USE;
	if (!signame || signame_len == 0 || signame_len > CHAN_SIGNAME_MAX)
		return sess_err(c->s, LIBSSH2_ERROR_INVAL,
				"signal: bad signal name");
	/* the name without "SIG"; no reply is sent for it */
	wb_init(&w, &c->s->a, 128);
	if (wb_string(&w, signame, signame_len)) {
		/* wb_ok() says so in noreply() */
	}
	return noreply(c, "signal", &w);
}

/* ---- agent and X11 forwarding requests ----------------------------------- */

LIBSSH2_API int libssh2_channel_request_auth_agent(LIBSSH2_CHANNEL *c)
{
	int rc;

	if (!c)
		return LIBSSH2_ERROR_BAD_USE;
	/* OpenSSH PROTOCOL 1.8: no fields; the server then offers an agent
	 * socket to the session and opens auth-agent@openssh.com channels
	 * back to us, which we refuse unless a handler is set.  As libssh2,
	 * a refusal of that name is followed by the draft's plain
	 * "auth-agent-req" (draft-ietf-secsh-agent-02 §4.1), which some
	 * other servers know; the flag carries a non-blocking caller's
	 * repeated call on to the second request. */
	if (!c->agent_fallback) {
		rc = chan_request(c, "auth-agent-req@openssh.com", NULL);
		if (rc != LIBSSH2_ERROR_CHANNEL_REQUEST_DENIED)
			return rc;
		c->agent_fallback = 1;
	}
	rc = chan_request(c, "auth-agent-req", NULL);
	if (rc == LIBSSH2_ERROR_EAGAIN)
		return rc;
	c->agent_fallback = 0;
	/* both refused: CHANNEL_REQUEST_DENIED, as libssh2 1.11.1 */
	if (rc == LIBSSH2_ERROR_CHANNEL_REQUEST_DENIED)
		return sess_err(c->s, LIBSSH2_ERROR_CHANNEL_REQUEST_DENIED,
				"the server refused agent forwarding");
	return rc;
}

LIBSSH2_API int libssh2_channel_x11_req_ex(LIBSSH2_CHANNEL *c,
					   int single_connection,
					   const char *auth_proto,
					   const char *auth_cookie,
					   int screen_number)
{
	static const char hex[] = "0123456789abcdef";
	char cookie[2 * CHAN_X11_COOKIE_LEN + 1];
	struct wbuf w;
	int i;

	if (!c)
		return LIBSSH2_ERROR_BAD_USE;
	if (!auth_proto)
		auth_proto = "MIT-MAGIC-COOKIE-1";
	if (!auth_cookie) {
		uint8_t rnd[CHAN_X11_COOKIE_LEN];

		if (crypto_random(rnd, sizeof(rnd)))
			return sess_err(c->s, LIBSSH2_ERROR_RANDGEN,
					"unable to make an X11 cookie");
		for (i = 0; i < CHAN_X11_COOKIE_LEN; i++) {
			cookie[2 * i] = hex[rnd[i] >> 4];
			cookie[2 * i + 1] = hex[rnd[i] & 15];
		}
		cookie[2 * CHAN_X11_COOKIE_LEN] = 0;
		auth_cookie = cookie;
	}
	if (strlen(auth_proto) > CHAN_X11_FIELD_MAX ||
	    strlen(auth_cookie) > CHAN_X11_FIELD_MAX || screen_number < 0)
		return sess_err(c->s, LIBSSH2_ERROR_INVAL,
				"x11-req: bad protocol, cookie or screen");
	/* RFC 4254 6.3.1: boolean single connection, string x11
	 * authentication protocol, string x11 authentication cookie,
	 * uint32 x11 screen number */
	wb_init(&w, &c->s->a, SSH_PAYLOAD_MAX);
	(void)(wb_bool(&w, single_connection != 0) ||
	       wb_cstring(&w, auth_proto) || wb_cstring(&w, auth_cookie) ||
	       wb_u32(&w, (uint32_t)screen_number));
	return withreply(c, "x11-req", &w);
}

/* ---- receive window (RFC 4254 5.2) --------------------------------------- */

static int adjust_step(LIBSSH2_CHANNEL *c, unsigned long adjustment, int force)
{
	LIBSSH2_SESSION *s = c->s;
	uint64_t add = (uint64_t)c->adjust_queue + adjustment;
	int rc;

	/* as libssh2: small adjustments wait until there is more */
	if (!force && add < LIBSSH2_CHANNEL_MINADJUST) {
		c->adjust_queue = (uint32_t)add;
		return 0;
	}
	/* the window may not exceed 2^32 - 1 */
	if (add > UINT32_MAX - c->local_window)
		add = UINT32_MAX - c->local_window;
	if (add == 0) {
		c->adjust_queue = 0;
		return 0;
	}
	if (c->state != CHAN_OPEN || c->close_recv)
		return sess_err(s, LIBSSH2_ERROR_CHANNEL_CLOSED,
				"the channel is closed");
	if ((rc = sess_ready_to_send(s)))
		return rc;
	if ((rc = tp_pkt_begin(&s->tp, SSH_MSG_CHANNEL_WINDOW_ADJUST)))
		return sess_err(s, rc, "out of memory");
	if (wb_u32(&s->tp.out, c->remote_id) ||
	    wb_u32(&s->tp.out, (uint32_t)add)) {
		tp_pkt_abort(&s->tp);
		return sess_err(s, LIBSSH2_ERROR_ALLOC, "out of memory");
	}
	if ((rc = tp_pkt_end(&s->tp)))
		return sess_err(s, rc, "unable to queue WINDOW_ADJUST");
	c->local_window += (uint32_t)add;
	c->adjust_queue = 0;
	TRACE(s, LIBSSH2_TRACE_CONN, "window of channel %u grown by %llu to %u",
	      c->local_id, (unsigned long long)add, c->local_window);
	rc = sess_flush(s);
	return rc == LIBSSH2_ERROR_EAGAIN ? 0 : rc;
}

LIBSSH2_API int libssh2_channel_receive_window_adjust2(
	LIBSSH2_CHANNEL *c, unsigned long adjustment, unsigned char force,
	unsigned int *storewindow)
{
	int rc;

	if (!c)
		return LIBSSH2_ERROR_BAD_USE;
	if (adjustment > UINT32_MAX)
		adjustment = UINT32_MAX;
	rc = SESS_BLOCK(c->s, adjust_step(c, adjustment, force));
	if (!rc && storewindow)
		*storewindow = c->local_window;
	return rc;
}

LIBSSH2_API unsigned long libssh2_channel_receive_window_adjust(
	LIBSSH2_CHANNEL *c, unsigned long adjustment, unsigned char force)
{
	unsigned int win = 0;
	int rc;

	if (!c)
		return (unsigned long)LIBSSH2_ERROR_BAD_USE;
	rc = libssh2_channel_receive_window_adjust2(c, adjustment, force, &win);
	/* as libssh2: the new window, or the error code cast */
	return rc ? (unsigned long)rc : win;
}
