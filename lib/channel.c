/*
 * channel.c - channels (RFC 4254 sections 5 and 6): open, requests,
 * data in both directions under flow control, EOF and close, exit
 * status; the libssh2_channel_* API.
 *
 * Channel messages are dispatched by the session's pump as they arrive,
 * whichever channel the caller is waiting on: data lands in the channel's
 * own buffer (bounded by the window we granted), so one channel that is
 * not read never stalls the others beyond its window.
 */
#include "channel.h"

#include <stdio.h>
#include <string.h>

#include "forward.h"
#include "scp.h"
#include "session.h"

static void chan_release(LIBSSH2_CHANNEL *c);

static LIBSSH2_CHANNEL *chan_find(LIBSSH2_SESSION *s, uint32_t id)
{
	LIBSSH2_CHANNEL *c;

	for (c = s->channels; c; c = c->next)
		if (c->local_id == id)
			return c;
	return NULL;
}

/* ---- inbound buffers ------------------------------------------------------ */

static int cbuf_put(LIBSSH2_SESSION *s, struct chan_buf *b, const uint8_t *p,
		    size_t n)
{
	size_t used = b->end - b->start;

	if (n == 0)
		return 0;
	if (b->cap - b->end < n) {
		if (b->start > 0) {
			memmove(b->p, b->p + b->start, used);
			b->start = 0;
			b->end = used;
		}
		if (b->cap - b->end < n) {
			size_t ncap = b->cap ? b->cap : 64 * 1024;
			uint8_t *np;

			while (ncap - used < n)
				ncap *= 2;
			np = la_realloc(&s->a, b->p, ncap);
			if (!np)
				return sess_err(s, LIBSSH2_ERROR_ALLOC,
						"out of memory");
			b->p = np;
			b->cap = ncap;
		}
	}
	memcpy(b->p + b->end, p, n);
	b->end += n;
	return 0;
}

static size_t cbuf_take(struct chan_buf *b, char *out, size_t n)
{
	size_t avail = b->end - b->start;

	if (n > avail)
		n = avail;
	memcpy(out, b->p + b->start, n);
	b->start += n;
	if (b->start == b->end)
		b->start = b->end = 0;
	return n;
}

static size_t cbuf_len(const struct chan_buf *b)
{
	return b->end - b->start;
}

/* Discard what b holds; returns how many bytes that was. */
static size_t cbuf_drop(struct chan_buf *b)
{
	size_t n = b->end - b->start;

	b->start = b->end = 0;
	return n;
}

/* The buffer of extended data type `code`: stderr has its own, the
 * others get one of CHAN_EXT_STREAMS_MAX slots when `create` is set
 * (NULL when none is left, or none exists and create is 0). */
static struct chan_buf *ext_buf(LIBSSH2_CHANNEL *c, uint32_t code,
				int create)
{
	unsigned i;

	if (code == SSH_EXTENDED_DATA_STDERR)
		return &c->err;
	for (i = 0; i < c->nxs; i++)
		if (c->xs[i].code == code)
			return &c->xs[i].b;
	if (!create || c->nxs == CHAN_EXT_STREAMS_MAX)
		return NULL;
	c->xs[c->nxs].code = code;
	return &c->xs[c->nxs++].b;
}

size_t chan_ext_pending(const LIBSSH2_CHANNEL *c)
{
	size_t n = cbuf_len(&c->err);
	unsigned i;

	for (i = 0; i < c->nxs; i++)
		n += cbuf_len(&c->xs[i].b);
	return n;
}

/* ---- flow control --------------------------------------------------------- */

/*
 * Give the window back for consumed bytes.  We re-grant once half of it
 * was used.  When the server has used at least half of its credit by
 * then (it is streaming: a reply burst, a command's output), the window
 * doubles, up to the session's cap (CHAN_WINDOW_MAX, 64 MiB, unless
 * libssh2_session_window_max says otherwise): a grant reaches the server half a
 * round trip later, so a window smaller than the bandwidth-delay product
 * leaves it waiting (a 2 MiB window is 40 MB/s at 50 ms).  The window
 * is credit, not memory: what is buffered is what the application has
 * not read yet, and a reader that stops reading stops the growth.
 */
static int window_regrant(LIBSSH2_CHANNEL *c, int force)
{
	LIBSSH2_SESSION *s = c->s;
	uint32_t add;
	int rc;

	if (c->state != CHAN_OPEN || c->close_recv || c->eof_recv)
		return 0;
	if (!force && c->consumed < c->local_window_max / 2)
		return 0;
	add = c->consumed;
	if (c->local_window <= c->local_window_max / 2 &&
	    c->local_window_max <= s->chan_window_max / 2) {
		add += c->local_window_max;
		c->local_window_max *= 2;
	}
	if (add == 0)
		return 0;
	if ((rc = tp_pkt_begin(&s->tp, SSH_MSG_CHANNEL_WINDOW_ADJUST)))
		return sess_err(s, rc, "out of memory");
	if (wb_u32(&s->tp.out, c->remote_id) || wb_u32(&s->tp.out, add)) {
		tp_pkt_abort(&s->tp);
		return sess_err(s, LIBSSH2_ERROR_ALLOC, "out of memory");
	}
	if ((rc = tp_pkt_end(&s->tp)))
		return sess_err(s, rc, "unable to queue WINDOW_ADJUST");
	c->local_window += add;
	c->consumed = 0;
	return 0;
}

size_t chan_avail(const LIBSSH2_CHANNEL *c, const uint8_t **p)
{
	if (!c->in.p) {
		*p = NULL;
		return 0;
	}
	*p = c->in.p + c->in.start;
	return c->in.end - c->in.start;
}

int chan_consume(LIBSSH2_CHANNEL *c, size_t n)
{
	c->in.start += n;
	if (c->in.start == c->in.end)
		c->in.start = c->in.end = 0;
	c->consumed += (uint32_t)n;
	return window_regrant(c, 0);
}

/* ---- dispatch of channel messages ---------------------------------------- */

static int on_data(LIBSSH2_SESSION *s, LIBSSH2_CHANNEL *c, int ext,
		   struct rbuf *r)
{
	const uint8_t *d;
	struct chan_buf *b;
	uint32_t code = 0;
	size_t n;

	if ((ext && rb_u32(r, &code)) ||
	    rb_string(r, &d, &n, CHAN_PACKET_MAX) || rb_done(r))
		return sess_err(s, LIBSSH2_ERROR_PROTO,
				"malformed channel data");
	if (n > c->local_window)
		return sess_err(s, LIBSSH2_ERROR_CHANNEL_WINDOW_EXCEEDED,
				"the server sent beyond the channel window");
	c->local_window -= (uint32_t)n;
	if (c->eof_recv || c->close_recv)
		return sess_err(s, LIBSSH2_ERROR_PROTO,
				"channel data after EOF");
	/* As libssh2: MERGE hands every extended type to stdout readers,
	 * IGNORE drops them all, NORMAL keeps each type apart. */
	if (!ext || c->ext_mode == LIBSSH2_CHANNEL_EXTENDED_DATA_MERGE)
		return cbuf_put(s, &c->in, d, n);
	if (c->ext_mode == LIBSSH2_CHANNEL_EXTENDED_DATA_IGNORE ||
	    !(b = ext_buf(c, code, n > 0))) {
		c->consumed += (uint32_t)n;
		return window_regrant(c, 0);
	}
	return cbuf_put(s, b, d, n);
}

static int on_request(LIBSSH2_SESSION *s, LIBSSH2_CHANNEL *c, struct rbuf *r)
{
	const char *name, *sig;
	size_t nn, sn;
	int want_reply, rc;
	uint32_t status;

	if (rb_text(r, &name, &nn, 256) || rb_bool(r, &want_reply))
		return sess_err(s, LIBSSH2_ERROR_PROTO,
				"malformed CHANNEL_REQUEST");
	if (nn == 11 && !memcmp(name, "exit-status", 11)) {
		if (rb_u32(r, &status))
			return sess_err(s, LIBSSH2_ERROR_PROTO,
					"malformed exit-status");
		c->exit_status = (int)status;
	} else if (nn == 11 && !memcmp(name, "exit-signal", 11)) {
		/* an odd signal name is no reason to end the session */
		if (!rb_text(r, &sig, &sn, 256)) {
			la_free(&s->a, c->exit_signal);
			c->exit_signal = la_strndup(&s->a, sig, sn);
			if (!c->exit_signal)
				return sess_err(s, LIBSSH2_ERROR_ALLOC,
						"out of memory");
		}
	}
	if (!want_reply)
		return 0;
	/* We accept no requests from the server (RFC 4254 5.4). */
	if ((rc = tp_pkt_begin(&s->tp, SSH_MSG_CHANNEL_FAILURE)))
		return sess_err(s, rc, "out of memory");
	if (wb_u32(&s->tp.out, c->remote_id)) {
		tp_pkt_abort(&s->tp);
		return sess_err(s, LIBSSH2_ERROR_ALLOC, "out of memory");
	}
	return tp_pkt_end(&s->tp);
}

static int queue_close(LIBSSH2_CHANNEL *c)
{
	LIBSSH2_SESSION *s = c->s;
	int rc;

	if (c->close_queued || c->state != CHAN_OPEN)
		return 0;
	if ((rc = tp_pkt_begin(&s->tp, SSH_MSG_CHANNEL_CLOSE)))
		return sess_err(s, rc, "out of memory");
	if (wb_u32(&s->tp.out, c->remote_id)) {
		tp_pkt_abort(&s->tp);
		return sess_err(s, LIBSSH2_ERROR_ALLOC, "out of memory");
	}
	if ((rc = tp_pkt_end(&s->tp)))
		return sess_err(s, rc, "unable to queue CHANNEL_CLOSE");
	c->close_queued = 1;
	return 0;
}

static int on_open_reply(LIBSSH2_SESSION *s, LIBSSH2_CHANNEL *c, uint8_t type,
			 struct rbuf *r)
{
	uint32_t sender, window, maxpacket, reason;
	const char *msg;
	size_t mn;

	if (c->state != CHAN_OPENING)
		return sess_err(s, LIBSSH2_ERROR_PROTO,
				"channel open reply for an open channel");
	if (type == SSH_MSG_CHANNEL_OPEN_FAILURE) {
		if (rb_u32(r, &reason) || rb_text(r, &msg, &mn, 1024))
			return sess_err(s, LIBSSH2_ERROR_PROTO,
					"malformed CHANNEL_OPEN_FAILURE");
		c->state = CHAN_FAILED;
		c->open_fail_reason = reason;
		snprintf(c->open_fail_msg, sizeof(c->open_fail_msg), "%.*s",
			 (int)(mn > 100 ? 100 : mn), msg);
		return 0;
	}
	if (rb_u32(r, &sender) || rb_u32(r, &window) ||
	    rb_u32(r, &maxpacket))
		return sess_err(s, LIBSSH2_ERROR_PROTO,
				"malformed CHANNEL_OPEN_CONFIRMATION");
	c->remote_id = sender;
	c->remote_window = c->remote_window_init = window;
	/* A maximum packet below a sane floor would make us send tiny
	 * packets forever; RFC 4254 gives no minimum, OpenSSH uses 32 KiB. */
	c->remote_maxpacket = maxpacket < 1024 ? 1024 : maxpacket;
	c->state = CHAN_OPEN;
	return 0;
}

int chan_dispatch(LIBSSH2_SESSION *s, const uint8_t *p, size_t n)
{
	LIBSSH2_CHANNEL *c;
	uint32_t id, add;
	struct rbuf r;
	uint8_t type = p[0];

	rb_init(&r, p + 1, n - 1);
	if (rb_u32(&r, &id))
		return sess_err(s, LIBSSH2_ERROR_PROTO,
				"truncated channel message");
	c = chan_find(s, id);
	if (!c)
		return sess_err(s, LIBSSH2_ERROR_CHANNEL_UNKNOWN,
				"message %u for unknown channel %u", type, id);
	switch (type) {
	case SSH_MSG_CHANNEL_OPEN_CONFIRMATION:
	case SSH_MSG_CHANNEL_OPEN_FAILURE:
		return on_open_reply(s, c, type, &r);
	}
	if (c->state != CHAN_OPEN)
		return sess_err(s, LIBSSH2_ERROR_PROTO,
				"message %u for a channel not open", type);
	switch (type) {
	case SSH_MSG_CHANNEL_WINDOW_ADJUST:
		if (rb_u32(&r, &add) || rb_done(&r))
			return sess_err(s, LIBSSH2_ERROR_PROTO,
					"malformed WINDOW_ADJUST");
		/* RFC 4254 5.2: the window may not exceed 2^32 - 1. */
		if (add > UINT32_MAX - c->remote_window)
			c->remote_window = UINT32_MAX;
		else
			c->remote_window += add;
		return 0;
	case SSH_MSG_CHANNEL_DATA:
		return on_data(s, c, 0, &r);
	case SSH_MSG_CHANNEL_EXTENDED_DATA:
		return on_data(s, c, 1, &r);
	case SSH_MSG_CHANNEL_EOF:
		c->eof_recv = 1;
		return 0;
	case SSH_MSG_CHANNEL_CLOSE: {
		int rc;

		c->close_recv = 1;
		c->eof_recv = 1;
		/* RFC 4254 5.3: answer with our own CLOSE. */
		rc = queue_close(c);
		if (c->orphan) /* freed by the caller before the close ended */
			chan_release(c);
		return rc;
	}
	case SSH_MSG_CHANNEL_REQUEST:
		return on_request(s, c, &r);
	case SSH_MSG_CHANNEL_SUCCESS:
	case SSH_MSG_CHANNEL_FAILURE:
		if (!c->req_pending)
			return sess_err(s, LIBSSH2_ERROR_PROTO,
					"channel reply without a request");
		c->req_pending = 0;
		c->req_result = type == SSH_MSG_CHANNEL_SUCCESS ? 1 : -1;
		return 0;
	}
	return sess_err(s, LIBSSH2_ERROR_PROTO, "unknown channel message %u",
			type);
}

int chan_open_request(LIBSSH2_SESSION *s, struct rbuf *r)
{
	const char *type;
	size_t tn;
	uint32_t sender, window, maxpacket;
	int rc;

	if (rb_text(r, &type, &tn, 256) || rb_u32(r, &sender) ||
	    rb_u32(r, &window) || rb_u32(r, &maxpacket))
		return sess_err(s, LIBSSH2_ERROR_PROTO,
				"malformed CHANNEL_OPEN");
	/* forwarded-tcpip for one of our listeners (forward.c) */
	rc = fwd_incoming(s, type, tn, sender, window, maxpacket, r);
	if (rc)
		return rc > 0 ? 0 : rc;
	/* RFC 4254 5.1: reason 1, SSH_OPEN_ADMINISTRATIVELY_PROHIBITED */
	if ((rc = tp_pkt_begin(&s->tp, SSH_MSG_CHANNEL_OPEN_FAILURE)))
		return sess_err(s, rc, "out of memory");
	if (wb_u32(&s->tp.out, sender) || wb_u32(&s->tp.out, 1) ||
	    wb_cstring(&s->tp.out, "not accepted") ||
	    wb_cstring(&s->tp.out, "")) {
		tp_pkt_abort(&s->tp);
		return sess_err(s, LIBSSH2_ERROR_ALLOC, "out of memory");
	}
	return tp_pkt_end(&s->tp);
}

static void chan_release(LIBSSH2_CHANNEL *c)
{
	LIBSSH2_SESSION *s = c->s;
	LIBSSH2_CHANNEL **pp;

	for (pp = &s->channels; *pp; pp = &(*pp)->next)
		if (*pp == c) {
			*pp = c->next;
			break;
		}
	if (s->opening == c)
		s->opening = NULL;
	la_free(&s->a, c->in.p);
	la_free(&s->a, c->err.p);
	while (c->nxs > 0)
		la_free(&s->a, c->xs[--c->nxs].b.p);
	la_free(&s->a, c->exit_signal);
	la_free(&s->a, c);
}

void chan_free_all(LIBSSH2_SESSION *s)
{
	while (s->channels)
		chan_release(s->channels);
}

/* ---- opening -------------------------------------------------------------- */

struct open_args {
	const char *type;
	size_t tlen;
	uint32_t window, maxpacket;
	const char *msg;
	size_t mlen;
};

/* A new channel in the session's list (not yet asked for). */
LIBSSH2_CHANNEL *chan_new(LIBSSH2_SESSION *s, uint32_t window,
			  uint32_t maxpacket)
{
	LIBSSH2_CHANNEL *c = la_calloc(&s->a, sizeof(*c));

	if (!c) {
		sess_err(s, LIBSSH2_ERROR_ALLOC, "out of memory");
		return NULL;
	}
	c->s = s;
	c->local_id = s->next_channel_id++;
	c->local_window = c->local_window_max = window;
	c->local_window_init = window;
	c->local_maxpacket = maxpacket;
	c->exit_status = 0;
	c->next = s->channels;
	s->channels = c;
	return c;
}

/* Queue c's CHANNEL_OPEN unless it went out already. */
static int send_open(LIBSSH2_CHANNEL *c, const struct open_args *a)
{
	LIBSSH2_SESSION *s = c->s;
	int rc;

	if (c->open_sent)
		return 0;
	if ((rc = sess_ready_to_send(s)))
		return rc;
	if ((rc = tp_pkt_begin(&s->tp, SSH_MSG_CHANNEL_OPEN)))
		return sess_err(s, rc, "out of memory");
	if (wb_string(&s->tp.out, a->type, a->tlen) ||
	    wb_u32(&s->tp.out, c->local_id) || wb_u32(&s->tp.out, a->window) ||
	    wb_u32(&s->tp.out, a->maxpacket) ||
	    (a->msg && wb_bytes(&s->tp.out, a->msg, a->mlen))) {
		tp_pkt_abort(&s->tp);
		return sess_err(s, LIBSSH2_ERROR_ALLOC, "out of memory");
	}
	if ((rc = tp_pkt_end(&s->tp)))
		return sess_err(s, rc, "unable to queue CHANNEL_OPEN");
	c->open_sent = 1;
	return 0;
}

/* Wait for the answer to c's CHANNEL_OPEN: 0 (open), EAGAIN, a transport
 * error, or the refusal (c->state CHAN_FAILED). */
static int await_open(LIBSSH2_CHANNEL *c)
{
	int rc;

	while (c->state == CHAN_OPENING)
		if ((rc = sess_pump(c->s)))
			return rc;
	if (c->state == CHAN_FAILED)
		return sess_err(c->s, LIBSSH2_ERROR_CHANNEL_FAILURE,
				"channel open refused (reason %u): %s",
				c->open_fail_reason, c->open_fail_msg);
	return 0;
}

static int open_step(LIBSSH2_SESSION *s, struct open_args *a)
{
	LIBSSH2_CHANNEL *c = s->opening;
	int rc;

	if (s->state != SESS_READY || !s->auth.authenticated)
		return sess_err(s, LIBSSH2_ERROR_BAD_USE,
				"the session is not authenticated");
	if (!c) {
		if (!(c = chan_new(s, a->window, a->maxpacket)))
			return LIBSSH2_ERROR_ALLOC;
		s->opening = c;
	}
	if ((rc = send_open(c, a)))
		return rc;
	rc = await_open(c);
	if (rc && c->state != CHAN_FAILED)
		return rc; /* (EAGAIN: resumed by the next call) */
	s->opening = NULL;
	if (rc)
		chan_release(c);
	return rc;
}

LIBSSH2_CHANNEL *chan_session_begin(LIBSSH2_SESSION *s, uint32_t window,
				    uint32_t maxpacket)
{
	if (s->state != SESS_READY || !s->auth.authenticated) {
		sess_err(s, LIBSSH2_ERROR_BAD_USE,
			 "the session is not authenticated");
		return NULL;
	}
	return chan_new(s, window, maxpacket);
}

int chan_session_step(LIBSSH2_CHANNEL *c)
{
	const struct open_args a = { "session", 7, c->local_window_max,
				     c->local_maxpacket, NULL, 0 };
	int rc;

	if ((rc = send_open(c, &a)))
		return rc;
	return await_open(c);
}

void chan_session_drop(LIBSSH2_CHANNEL *c)
{
	if (c->state == CHAN_FAILED || !c->open_sent)
		chan_release(c); /* the server knows nothing of it */
	else if (c->state != CHAN_OPENING &&
		 libssh2_channel_free(c) == LIBSSH2_ERROR_EAGAIN)
		/* non-blocking: nobody calls again; released at the
		 * server's CLOSE (or with the session) */
		c->orphan = 1;
	/* (still opening: it stays in the list, freed with the session) */
}

LIBSSH2_API LIBSSH2_CHANNEL *
libssh2_channel_open_ex(LIBSSH2_SESSION *s, const char *channel_type,
			unsigned int channel_type_len,
			unsigned int window_size, unsigned int packet_size,
			const char *message, unsigned int message_len)
{
	struct open_args a = { channel_type, channel_type_len, window_size,
			       packet_size, message, message_len };
	LIBSSH2_CHANNEL *c;
	int rc;

	if (a.window == 0)
		a.window = LIBSSH2_CHANNEL_WINDOW_DEFAULT;
	if (a.maxpacket == 0 || a.maxpacket > CHAN_PACKET_MAX)
		a.maxpacket = a.maxpacket ? CHAN_PACKET_MAX
					  : LIBSSH2_CHANNEL_PACKET_DEFAULT;
	rc = SESS_BLOCK(s, open_step(s, &a));
	if (rc)
		return NULL;
	/* open_step cleared s->opening; the newest channel is ours */
	c = s->channels;
	return c;
}

/* Append an SSH string (length, bytes) at *at in buf of size cap; -1 when
 * it does not fit. */
static int put_string(uint8_t *buf, size_t cap, size_t *at, const char *s,
		      size_t n)
{
	if (n > cap || *at > cap - n || cap - n - *at < 4)
		return -1;
	put_u32(buf + *at, (uint32_t)n);
	memcpy(buf + *at + 4, s, n);
	*at += 4 + n;
	return 0;
}

static int put_port(uint8_t *buf, size_t cap, size_t *at, int port)
{
	if (cap - *at < 4)
		return -1;
	put_u32(buf + *at, (uint32_t)port);
	*at += 4;
	return 0;
}

/* A channel of type `type` whose CHANNEL_OPEN carries msg (RFC 4254 7.2,
 * OpenSSH's PROTOCOL 2.4); rebuilt on every call, sent by the first. */
static LIBSSH2_CHANNEL *open_forward(LIBSSH2_SESSION *s, const char *type,
				     const uint8_t *msg, size_t mlen)
{
	return libssh2_channel_open_ex(s, type, (unsigned)strlen(type),
				       LIBSSH2_CHANNEL_WINDOW_DEFAULT,
				       LIBSSH2_CHANNEL_PACKET_DEFAULT,
				       (const char *)msg, (unsigned)mlen);
}

LIBSSH2_API LIBSSH2_CHANNEL *
libssh2_channel_direct_tcpip_ex(LIBSSH2_SESSION *s, const char *host,
				int port, const char *shost, int sport)
{
	uint8_t msg[2 * 1024 + 16];
	size_t at = 0;

	if (!s)
		return NULL;
	if (!host || !shost || port < 0 || port > 65535 || sport < 0 ||
	    sport > 65535 ||
	    put_string(msg, sizeof(msg), &at, host, strlen(host)) ||
	    put_port(msg, sizeof(msg), &at, port) ||
	    put_string(msg, sizeof(msg), &at, shost, strlen(shost)) ||
	    put_port(msg, sizeof(msg), &at, sport)) {
		sess_err(s, LIBSSH2_ERROR_INVAL,
			 "direct-tcpip: bad host or port");
		return NULL;
	}
	return open_forward(s, "direct-tcpip", msg, at);
}

LIBSSH2_API LIBSSH2_CHANNEL *
libssh2_channel_direct_streamlocal_ex(LIBSSH2_SESSION *s,
				      const char *socket_path,
				      const char *shost, int sport)
{
	uint8_t msg[2 * 1024 + 16];
	size_t at = 0;

	if (!s)
		return NULL;
	/* OpenSSH reads a socket path, then a reserved string and uint32
	 * (libssh2 sends the originator there) */
	if (!socket_path || !shost || sport < 0 || sport > 65535 ||
	    put_string(msg, sizeof(msg), &at, socket_path,
		       strlen(socket_path)) ||
	    put_string(msg, sizeof(msg), &at, shost, strlen(shost)) ||
	    put_port(msg, sizeof(msg), &at, sport)) {
		sess_err(s, LIBSSH2_ERROR_INVAL,
			 "direct-streamlocal: bad socket path or port");
		return NULL;
	}
	return open_forward(s, "direct-streamlocal@openssh.com", msg, at);
}

/* ---- requests ------------------------------------------------------------- */

/* Send a CHANNEL_REQUEST with want_reply and wait for its answer.
 * The name is `nlen` bytes, not NUL-terminated; `fields` (may be NULL)
 * are appended after want_reply. */
static int request_step(LIBSSH2_CHANNEL *c, const char *name, size_t nlen,
			const struct wbuf *fields)
{
	LIBSSH2_SESSION *s = c->s;
	int rc;

	if (c->state != CHAN_OPEN || c->close_recv)
		return sess_err(s, LIBSSH2_ERROR_CHANNEL_CLOSED,
				"the channel is closed");
	if (!c->req_pending && !c->req_result) {
		if ((rc = sess_ready_to_send(s)))
			return rc;
		if ((rc = tp_pkt_begin(&s->tp, SSH_MSG_CHANNEL_REQUEST)))
			return sess_err(s, rc, "out of memory");
		if (wb_u32(&s->tp.out, c->remote_id) ||
		    wb_string(&s->tp.out, name, nlen) ||
		    wb_bool(&s->tp.out, 1) ||
		    (fields && wb_bytes(&s->tp.out, fields->p, fields->len))) {
			tp_pkt_abort(&s->tp);
			return sess_err(s, LIBSSH2_ERROR_ALLOC,
					"out of memory");
		}
		if ((rc = tp_pkt_end(&s->tp)))
			return sess_err(s, rc, "unable to queue a request");
		c->req_pending = 1;
	}
	while (c->req_pending) {
		if (c->close_recv)
			return sess_err(s, LIBSSH2_ERROR_CHANNEL_CLOSED,
					"the channel closed");
		if ((rc = sess_pump(s)))
			return rc;
	}
	rc = c->req_result;
	c->req_result = 0;
	if (rc < 0)
		return sess_err(s, LIBSSH2_ERROR_CHANNEL_REQUEST_DENIED,
				"the server refused the %.*s request",
				(int)(nlen < 64 ? nlen : 64), name);
	return 0;
}

int chan_request(LIBSSH2_CHANNEL *c, const char *name,
		 const struct wbuf *fields)
{
	if (!c)
		return LIBSSH2_ERROR_BAD_USE;
	return SESS_BLOCK(c->s, request_step(c, name, strlen(name), fields));
}

LIBSSH2_API int libssh2_channel_process_startup(LIBSSH2_CHANNEL *c,
						const char *req,
						unsigned int req_len,
						const char *message,
						unsigned int message_len)
{
	struct wbuf w;
	int rc;

	if (!c)
		return LIBSSH2_ERROR_BAD_USE;
	/* As libssh2, the name is sent as given, of any length; it and the
	 * message must fit in one packet (RFC 4254 5.4 layout: byte, uint32,
	 * string name, boolean, string message). */
	if ((!req && req_len) || (!message && message_len) ||
	    req_len > CHAN_REQUEST_MAX ||
	    message_len > CHAN_REQUEST_MAX - req_len)
		return sess_err(c->s, LIBSSH2_ERROR_INVAL,
				"request name or message too long");
	/* As libssh2 1.11.1: a channel runs one shell, command or
	 * subsystem (RFC 4254 6.5); once one started, another is refused
	 * here without asking.  (libssh2 also refuses after the server
	 * refused one; we let the caller try another, see the man page.) */
	if (c->startup_sent)
		return sess_err(c->s, LIBSSH2_ERROR_BAD_USE,
				"a process already runs on this channel");
	wb_init(&w, &c->s->a, SSH_PAYLOAD_MAX);
	if (message && wb_string(&w, message, message_len)) {
		wb_free(&w);
		return sess_err(c->s, LIBSSH2_ERROR_ALLOC, "out of memory");
	}
	rc = SESS_BLOCK(c->s, request_step(c, req_len ? req : "", req_len,
					   &w));
	wb_free(&w);
	if (rc == 0)
		c->startup_sent = 1;
	return rc;
}

LIBSSH2_API int libssh2_channel_setenv_ex(LIBSSH2_CHANNEL *c,
					  const char *varname,
					  unsigned int varname_len,
					  const char *value,
					  unsigned int value_len)
{
	struct wbuf w;
	int rc;

	if (!c)
		return LIBSSH2_ERROR_BAD_USE;
	wb_init(&w, &c->s->a, SSH_PAYLOAD_MAX);
	if (wb_string(&w, varname, varname_len) ||
	    wb_string(&w, value, value_len)) {
		wb_free(&w);
		return sess_err(c->s, LIBSSH2_ERROR_ALLOC, "out of memory");
	}
	rc = chan_request(c, "env", &w);
	wb_free(&w);
	return rc;
}

/* ---- data ------------------------------------------------------------------ */

/* Queue DATA packets without waiting; stops at the window, the peer's
 * packet size and our out-buffer high-water mark. */
static long send_some(LIBSSH2_CHANNEL *c, int stream, const uint8_t *p,
		      size_t n)
{
	LIBSSH2_SESSION *s = c->s;
	size_t sent = 0;
	int rc;

	while (sent < n && c->remote_window > 0 &&
	       tp_out_len(&s->tp) < CHAN_OUT_HIGH) {
		size_t chunk = n - sent;

		/* our rekey limit passed between two packets (one call may
		 * queue megabytes): the KEXINIT goes next, the rest of the
		 * data after the exchange (chan_send's callers included,
		 * who send no KEXINIT of their own) */
		if (sess_rekey_due(s)) {
			if ((rc = kex_start(s)))
				return sent ? (long)sent
					    : sess_err(s, rc, "cannot start a key exchange");
			break;
		}

		if (chunk > c->remote_window)
			chunk = c->remote_window;
		/* payload of DATA is 1 + 4 + 4 + data <= maxpacket */
		if (chunk > c->remote_maxpacket - 64)
			chunk = c->remote_maxpacket - 64;
		if (chunk > CHAN_PACKET_MAX)
			chunk = CHAN_PACKET_MAX;
		rc = tp_pkt_begin(&s->tp, stream ? SSH_MSG_CHANNEL_EXTENDED_DATA
						 : SSH_MSG_CHANNEL_DATA);
		if (rc)
			return sess_err(s, rc, "out of memory");
		if (wb_u32(&s->tp.out, c->remote_id) ||
		    (stream && wb_u32(&s->tp.out, (uint32_t)stream)) ||
		    wb_string(&s->tp.out, p + sent, chunk)) {
			tp_pkt_abort(&s->tp);
			return sess_err(s, LIBSSH2_ERROR_ALLOC,
					"out of memory");
		}
		if ((rc = tp_pkt_end(&s->tp)))
			return sess_err(s, rc, "unable to queue data");
		c->remote_window -= (uint32_t)chunk;
		if (!stream)
			c->data_out += chunk;
		sent += chunk;
	}
	return (long)sent;
}

long chan_send(LIBSSH2_CHANNEL *c, const uint8_t *p, size_t n)
{
	if (kex_busy(&c->s->kex))
		return 0;
	return send_some(c, 0, p, n);
}

struct write_args {
	int stream;
	const uint8_t *p;
	size_t n;
	long done;
};

static int write_step(LIBSSH2_CHANNEL *c, struct write_args *a)
{
	LIBSSH2_SESSION *s = c->s;
	long r;
	int rc;

	if (c->close_recv || c->state != CHAN_OPEN)
		return sess_err(s, LIBSSH2_ERROR_CHANNEL_CLOSED,
				"the channel is closed");
	if (c->eof_sent || c->eof_queued)
		return sess_err(s, LIBSSH2_ERROR_CHANNEL_EOF_SENT,
				"EOF was already sent on this channel");
	for (;;) {
		if ((rc = sess_ready_to_send(s)))
			return rc;
		r = send_some(c, a->stream, a->p, a->n);
		if (r < 0)
			return (int)r;
		if (r > 0) {
			a->done = r;
			rc = sess_flush(s);
			/* Queued data is accepted data; it leaves with the
			 * next call that flushes. */
			if (rc && rc != LIBSSH2_ERROR_EAGAIN)
				return rc;
			return 0;
		}
		/* no window, or the out buffer is full: make progress */
		rc = sess_flush(s);
		if (rc && rc != LIBSSH2_ERROR_EAGAIN)
			return rc;
		if ((rc = sess_pump(s)))
			return rc;
		if (c->close_recv)
			return sess_err(s, LIBSSH2_ERROR_CHANNEL_CLOSED,
					"the channel closed while writing");
	}
}

LIBSSH2_API ssize_t libssh2_channel_write_ex(LIBSSH2_CHANNEL *c, int stream_id,
					     const char *buf, size_t buflen)
{
	struct write_args a = { stream_id, (const uint8_t *)buf, buflen, 0 };
	int rc;

	if (!c)
		return LIBSSH2_ERROR_BAD_USE;
	/* as libssh2: nothing to send, but a closed channel or one we sent
	 * EOF on still says so */
	if (buflen == 0) {
		if (c->close_recv || c->state != CHAN_OPEN)
			return sess_err(c->s, LIBSSH2_ERROR_CHANNEL_CLOSED,
					"the channel is closed");
		if (c->eof_sent || c->eof_queued)
			return sess_err(c->s, LIBSSH2_ERROR_CHANNEL_EOF_SENT,
					"EOF was already sent on this channel");
		return 0;
	}
	rc = SESS_BLOCK(c->s, write_step(c, &a));
	return rc ? rc : a.done;
}

struct read_args {
	int stream;
	char *buf;
	size_t n;
	size_t got;
};

static int read_step(LIBSSH2_CHANNEL *c, struct read_args *a)
{
	LIBSSH2_SESSION *s = c->s;
	struct chan_buf *b;
	int rc;

	for (;;) {
		/* stream_id picks the extended data type (libssh2); its
		 * buffer may appear with the next packet */
		b = a->stream ? ext_buf(c, (uint32_t)a->stream, 0) : &c->in;
		if (b && b->end > b->start) {
			a->got = cbuf_take(b, a->buf, a->n);
			c->consumed += (uint32_t)a->got;
			if ((rc = window_regrant(c, 0)))
				return rc;
			rc = sess_flush(s);
			if (rc && rc != LIBSSH2_ERROR_EAGAIN)
				return rc;
			return 0;
		}
		if (c->eof_recv || c->close_recv || c->state != CHAN_OPEN)
			return 0;
		if ((rc = sess_pump(s)))
			return rc;
	}
}

LIBSSH2_API ssize_t libssh2_channel_read_ex(LIBSSH2_CHANNEL *c, int stream_id,
					    char *buf, size_t buflen)
{
	struct read_args a = { stream_id, buf, buflen, 0 };
	int rc;

	if (!c)
		return LIBSSH2_ERROR_BAD_USE;
	rc = SESS_BLOCK(c->s, read_step(c, &a));
	return rc ? rc : (ssize_t)a.got;
}

/* As libssh2: 1 when something is buffered to read; extended 0 asks for
 * stdout only, 1 for stdout or any extended data, other values for
 * nothing.  Nothing is read from the socket. */
LIBSSH2_API int libssh2_poll_channel_read(LIBSSH2_CHANNEL *c, int extended)
{
	if (!c)
		return LIBSSH2_ERROR_BAD_USE;
	if (extended == 0)
		return c->in.end > c->in.start;
	if (extended == 1)
		return c->in.end > c->in.start || chan_ext_pending(c) > 0;
	return 0;
}

LIBSSH2_API unsigned long
libssh2_channel_window_read_ex(LIBSSH2_CHANNEL *c, unsigned long *read_avail,
			       unsigned long *window_size_initial)
{
	if (!c)
		return 0; /* as libssh2: no channel, no window */
	/* as libssh2: every stream counts, and the initial window is
	 * the one asked for at the open */
	if (read_avail)
		*read_avail = cbuf_len(&c->in) + chan_ext_pending(c);
	if (window_size_initial)
		*window_size_initial = c->local_window_init;
	return c->local_window;
}

LIBSSH2_API unsigned long
libssh2_channel_window_write_ex(LIBSSH2_CHANNEL *c,
				unsigned long *window_size_initial)
{
	if (!c)
		return 0;
	if (window_size_initial)
		*window_size_initial = c->remote_window_init;
	return c->remote_window;
}

LIBSSH2_API void libssh2_channel_set_blocking(LIBSSH2_CHANNEL *c, int blocking)
{
	/* As in libssh2, blocking is a property of the whole session. */
	if (c)
		libssh2_session_set_blocking(c->s, blocking);
}

LIBSSH2_API int libssh2_channel_handle_extended_data2(LIBSSH2_CHANNEL *c,
						      int mode)
{
	size_t n;
	unsigned i;
	int rc;

	if (!c)
		return LIBSSH2_ERROR_BAD_USE;
	if (mode < LIBSSH2_CHANNEL_EXTENDED_DATA_NORMAL ||
	    mode > LIBSSH2_CHANNEL_EXTENDED_DATA_MERGE)
		return LIBSSH2_ERROR_INVAL;
	c->ext_mode = mode;
	if (mode == LIBSSH2_CHANNEL_EXTENDED_DATA_NORMAL)
		return 0;
	/* Already buffered extended data: merged (after the stdout data
	 * already buffered) or dropped now. */
	for (i = 0; i <= c->nxs; i++) {
		struct chan_buf *b = i == 0 ? &c->err : &c->xs[i - 1].b;

		if (mode == LIBSSH2_CHANNEL_EXTENDED_DATA_MERGE &&
		    cbuf_len(b) > 0 &&
		    (rc = cbuf_put(c->s, &c->in, b->p + b->start, cbuf_len(b))))
			return rc;
		n = cbuf_drop(b);
		if (mode == LIBSSH2_CHANNEL_EXTENDED_DATA_IGNORE)
			c->consumed += (uint32_t)n;
	}
	return 0;
}

LIBSSH2_API void libssh2_channel_handle_extended_data(LIBSSH2_CHANNEL *c,
						      int ignore_mode)
{
	(void)libssh2_channel_handle_extended_data2(c, ignore_mode);
}

/* ---- EOF, close, exit status -------------------------------------------- */

static int flush_step(LIBSSH2_CHANNEL *c)
{
	return sess_flush(c->s);
}

LIBSSH2_API int libssh2_channel_flush_ex(LIBSSH2_CHANNEL *c, int streamid)
{
	struct chan_buf *b;
	size_t n = 0;
	unsigned i;
	int rc;

	if (!c)
		return LIBSSH2_ERROR_BAD_USE;
	/* Flushing means discarding unread inbound data (libssh2): stdout
	 * (0), stderr (its stream number), every extended stream
	 * (FLUSH_EXTENDED_DATA) or all (FLUSH_ALL).  The count is kept
	 * for the call that ends an EAGAIN. */
	if (!c->flush_busy) {
		if (streamid == 0 || streamid == LIBSSH2_CHANNEL_FLUSH_ALL)
			n += cbuf_drop(&c->in);
		if (streamid == LIBSSH2_CHANNEL_FLUSH_EXTENDED_DATA ||
		    streamid == LIBSSH2_CHANNEL_FLUSH_ALL) {
			n += cbuf_drop(&c->err);
			for (i = 0; i < c->nxs; i++)
				n += cbuf_drop(&c->xs[i].b);
		} else if (streamid != 0 &&
			   (b = ext_buf(c, (uint32_t)streamid, 0))) {
			n += cbuf_drop(b);
		}
		c->consumed += (uint32_t)n;
		c->flushed = n;
		c->flush_busy = 1; /* (discarded: a retry must not count 0) */
		if ((rc = window_regrant(c, 0))) {
			if (rc != LIBSSH2_ERROR_EAGAIN)
				c->flush_busy = 0;
			return rc;
		}
	}
	rc = SESS_BLOCK(c->s, flush_step(c));
	if (rc == LIBSSH2_ERROR_EAGAIN)
		return rc;
	c->flush_busy = 0;
	return rc ? rc : (int)c->flushed;
}

/* Queue our EOF (once); the caller flushes. */
static int queue_eof(LIBSSH2_CHANNEL *c)
{
	LIBSSH2_SESSION *s = c->s;
	int rc;

	/* an SCP upload ends its file with a NUL (scp.c) */
	if (!c->eof_queued && c->scp_end && (rc = scp_before_eof(c)))
		return rc;
	if (!c->eof_queued) {
		if (c->state != CHAN_OPEN || c->close_recv)
			return sess_err(s, LIBSSH2_ERROR_CHANNEL_CLOSED,
					"the channel is closed");
		if ((rc = sess_ready_to_send(s)))
			return rc;
		if ((rc = tp_pkt_begin(&s->tp, SSH_MSG_CHANNEL_EOF)))
			return sess_err(s, rc, "out of memory");
		if (wb_u32(&s->tp.out, c->remote_id)) {
			tp_pkt_abort(&s->tp);
			return sess_err(s, LIBSSH2_ERROR_ALLOC,
					"out of memory");
		}
		if ((rc = tp_pkt_end(&s->tp)))
			return sess_err(s, rc, "unable to queue EOF");
		c->eof_queued = 1;
	}
	return 0;
}

static int eof_step(LIBSSH2_CHANNEL *c)
{
	int rc;

	if ((rc = queue_eof(c)))
		return rc;
	if ((rc = sess_flush(c->s)))
		return rc;
	c->eof_sent = 1;
	return 0;
}

LIBSSH2_API int libssh2_channel_send_eof(LIBSSH2_CHANNEL *c)
{
	if (!c)
		return LIBSSH2_ERROR_BAD_USE;
	return SESS_BLOCK(c->s, eof_step(c));
}

LIBSSH2_API int libssh2_channel_eof(LIBSSH2_CHANNEL *c)
{
	if (!c)
		return LIBSSH2_ERROR_BAD_USE;
	/* EOF for the caller: the server said so and nothing is unread,
	 * on either stream. */
	return (c->eof_recv || c->close_recv) && c->in.end == c->in.start &&
	       chan_ext_pending(c) == 0;
}

/* Wait for the server's EOF.  When unread data fills the whole window
 * the server cannot send the rest of its output, so its EOF never
 * comes: what was read is granted again first; if nothing was read,
 * a blocking call ends with LIBSSH2_ERROR_CHANNEL_WINDOW_FULL instead
 * of waiting for ever (as libssh2 1.11.1), a non-blocking one keeps
 * answering EAGAIN until the caller reads. */
static int wait_eof_step(LIBSSH2_CHANNEL *c)
{
	LIBSSH2_SESSION *s = c->s;
	int rc;

	while (!c->eof_recv && !c->close_recv) {
		if (c->local_window == 0 && c->state == CHAN_OPEN) {
			if (c->consumed > 0) {
				if ((rc = window_regrant(c, 1)))
					return rc;
			} else if (s->blocking) {
				return sess_err(s,
					LIBSSH2_ERROR_CHANNEL_WINDOW_FULL,
					"the receive window is full of "
					"unread data");
			}
		}
		if ((rc = sess_pump(s)))
			return rc;
	}
	return 0;
}

LIBSSH2_API int libssh2_channel_wait_eof(LIBSSH2_CHANNEL *c)
{
	if (!c)
		return LIBSSH2_ERROR_BAD_USE;
	return SESS_BLOCK(c->s, wait_eof_step(c));
}

static int close_step(LIBSSH2_CHANNEL *c)
{
	LIBSSH2_SESSION *s = c->s;
	int rc;

	if (c->state != CHAN_OPEN)
		return 0;
	/* As libssh2: our EOF first if we have not sent one (RFC 4254 5.3
	 * allows CLOSE alone; EOF tells the remote command its input has
	 * ended before the channel goes).  Failing to send it does not
	 * stop the close. */
	if (!c->close_queued && !c->eof_queued && !c->close_recv) {
		rc = queue_eof(c);
		if (rc == LIBSSH2_ERROR_EAGAIN)
			return rc;
	}
	if (!c->close_queued) {
		if ((rc = sess_ready_to_send(s)))
			return rc;
		if ((rc = queue_close(c)))
			return rc;
	}
	if ((rc = sess_flush(s)))
		return rc;
	c->close_sent = 1;
	/* RFC 4254 5.3: the channel is gone once both sides sent CLOSE. */
	while (!c->close_recv)
		if ((rc = sess_pump(s)))
			return rc;
	c->state = CHAN_CLOSED;
	return 0;
}

LIBSSH2_API int libssh2_channel_close(LIBSSH2_CHANNEL *c)
{
	if (!c)
		return LIBSSH2_ERROR_BAD_USE;
	return SESS_BLOCK(c->s, close_step(c));
}

/* Wait for the server's CLOSE without sending ours first: a command may
 * close its output and run on, and its exit status comes just before
 * the server's CLOSE.  The dispatcher answers that CLOSE (RFC 4254 5.3);
 * the answer is sent here. */
static int wait_closed_step(LIBSSH2_CHANNEL *c)
{
	int rc;

	if (c->state != CHAN_OPEN)
		return 0;
	while (!c->close_recv)
		if ((rc = sess_pump(c->s)))
			return rc;
	if ((rc = sess_flush(c->s)))
		return rc;
	if (c->close_queued)
		c->close_sent = 1;
	c->state = CHAN_CLOSED;
	return 0;
}

LIBSSH2_API int libssh2_channel_wait_closed(LIBSSH2_CHANNEL *c)
{
	if (!c)
		return LIBSSH2_ERROR_BAD_USE;
	/* As libssh2: only once the server has sent EOF (its CLOSE implies
	 * one); before that the server may keep the channel open for ever. */
	if (!c->eof_recv && !c->close_recv && c->state == CHAN_OPEN)
		return sess_err(c->s, LIBSSH2_ERROR_INVAL,
				"wait_closed before the server's EOF");
	return SESS_BLOCK(c->s, wait_closed_step(c));
}

LIBSSH2_API int libssh2_channel_free(LIBSSH2_CHANNEL *c)
{
	LIBSSH2_SESSION *s;
	int rc = 0;

	if (!c)
		return LIBSSH2_ERROR_BAD_USE;
	s = c->s;
	/* Tell the server we are done, as libssh2 does; a dead session
	 * needs no goodbye. */
	if (c->state == CHAN_OPEN && s->state == SESS_READY) {
		rc = SESS_BLOCK(s, close_step(c));
		if (rc == LIBSSH2_ERROR_EAGAIN)
			return rc;
		if (rc && s->state == SESS_READY && !c->close_recv) {
			/* The server has not closed it yet: keep the
			 * channel's number known until it does, or its CLOSE
			 * would look like a message for an unknown channel. */
			c->orphan = 1;
			return 0;
		}
	}
	chan_release(c);
	return 0;
}

LIBSSH2_API int libssh2_channel_get_exit_status(LIBSSH2_CHANNEL *c)
{
	return c ? c->exit_status : 0;
}

LIBSSH2_API int libssh2_channel_get_exit_signal(LIBSSH2_CHANNEL *c,
						char **exitsignal,
						size_t *exitsignal_len,
						char **errmsg,
						size_t *errmsg_len,
						char **langtag,
						size_t *langtag_len)
{
	LIBSSH2_SESSION *s;

	if (!c)
		return 0; /* as libssh2: nothing is set */
	s = c->s;
	if (exitsignal) {
		*exitsignal = NULL;
		if (c->exit_signal) {
			*exitsignal = la_strndup(&s->a, c->exit_signal,
						 strlen(c->exit_signal));
			if (!*exitsignal)
				return sess_err(s, LIBSSH2_ERROR_ALLOC,
						"out of memory");
		}
	}
	if (exitsignal_len)
		*exitsignal_len = c->exit_signal ? strlen(c->exit_signal) : 0;
	if (errmsg)
		*errmsg = NULL;
	if (errmsg_len)
		*errmsg_len = 0;
	if (langtag)
		*langtag = NULL;
	if (langtag_len)
		*langtag_len = 0;
	return 0;
}
