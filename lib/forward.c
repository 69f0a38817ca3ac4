/*
 * forward.c - remote port forwarding (RFC 4254 section 7): the
 * libssh2_channel_forward_* API.
 *
 * forward_listen_ex asks the server to listen ("tcpip-forward", 7.1) and
 * makes a listener.  For each connection to that port the server opens a
 * "forwarded-tcpip" channel (7.2) naming the address and port it was
 * made to; the session's pump hands it to the matching listener, which
 * keeps it (not yet confirmed) until forward_accept takes it, confirms it
 * and returns it as a channel.  Opens nobody asked for, or beyond a
 * listener's queue, are refused (channel.c).
 *
 * Global requests are answered in the order they were sent (RFC 4254 4);
 * each one sent with want_reply gets the next ticket number (session.h
 * greq_sent), and fwd_on_reply routes the n-th answer to whoever holds
 * ticket n.  Keepalives hold tickets too: their answers are dropped.
 */
#include "forward.h"

#include <string.h>

#include "session.h"
#include "trace.h"

/* A forward_listen_ex whose answer has not come yet. */
struct fwd_listen {
	int sent;
	uint32_t ticket;
	int answer; /* 0 none yet, 1 success, -1 failure */
	int has_port;
	uint32_t port; /* from a success answer to a request for port 0 */
};

/* ---- answers to our global requests -------------------------------------- */

int fwd_on_reply(LIBSSH2_SESSION *s, uint32_t ticket, const uint8_t *p,
		 size_t n)
{
	struct fwd_listen *fl = s->fwd_listening;
	LIBSSH2_LISTENER *l;
	int ok = p[0] == SSH_MSG_REQUEST_SUCCESS;

	if (fl && fl->sent && !fl->answer && fl->ticket == ticket) {
		fl->answer = ok ? 1 : -1;
		/* RFC 4254 7.1: uint32 port, when port 0 was asked for */
		if (ok && n >= 5) {
			fl->port = get_u32(p + 1);
			fl->has_port = 1;
		}
		return 0;
	}
	for (l = s->listeners; l; l = l->next)
		if (l->cancel_sent && !l->cancel_answer &&
		    l->cancel_ticket == ticket) {
			l->cancel_answer = ok ? 1 : -1;
			return 0;
		}
	return 0; /* a keepalive's, or a request given up */
}

/* ---- incoming forwarded-tcpip opens -------------------------------------- */

/* RFC 4254 5.1: CHANNEL_OPEN_FAILURE, reason 1 (administratively
 * prohibited). */
static int refuse(LIBSSH2_SESSION *s, uint32_t sender, const char *why)
{
	int rc;

	if ((rc = tp_pkt_begin(&s->tp, SSH_MSG_CHANNEL_OPEN_FAILURE)))
		return sess_err(s, rc, "out of memory");
	if (wb_u32(&s->tp.out, sender) || wb_u32(&s->tp.out, 1) ||
	    wb_cstring(&s->tp.out, why) || wb_cstring(&s->tp.out, "")) {
		tp_pkt_abort(&s->tp);
		return sess_err(s, LIBSSH2_ERROR_ALLOC, "out of memory");
	}
	return tp_pkt_end(&s->tp);
}

static LIBSSH2_LISTENER *find(LIBSSH2_SESSION *s, const char *host, size_t hn,
			      uint32_t port)
{
	LIBSSH2_LISTENER *l;

	for (l = s->listeners; l; l = l->next)
		if (!l->cancel_sent && l->port == port &&
		    strlen(l->host) == hn && !memcmp(l->host, host, hn))
			return l;
	return NULL;
}

int fwd_incoming(LIBSSH2_SESSION *s, const char *type, size_t tn,
		 uint32_t sender, uint32_t window, uint32_t maxpacket,
		 struct rbuf *r)
{
	const char *host, *orig;
	size_t hn, on;
	uint32_t port, oport;
	struct fwd_pending *p;
	LIBSSH2_LISTENER *l;

	if (tn != 15 || memcmp(type, "forwarded-tcpip", 15))
		return 0;
	/* RFC 4254 7.2: string address connected, uint32 port connected,
	 * string originator address, uint32 originator port */
	if (rb_text(r, &host, &hn, FWD_HOST_MAX) || rb_u32(r, &port) ||
	    rb_text(r, &orig, &on, FWD_HOST_MAX) || rb_u32(r, &oport)) {
		TRACE(s, LIBSSH2_TRACE_CONN, "malformed forwarded-tcpip open");
		return 0;
	}
	l = find(s, host, hn, port);
	if (!l || l->queued >= l->queue_max) {
		TRACE(s, LIBSSH2_TRACE_CONN,
		      "forwarded-tcpip to %.*s:%u from %.*s:%u refused (%s)",
		      (int)hn, host, port, (int)on, orig, oport,
		      l ? "queue full" : "no listener");
		return 0;
	}
	p = la_alloc(&s->a, sizeof(*p));
	if (!p)
		return sess_err(s, LIBSSH2_ERROR_ALLOC, "out of memory");
	p->next = NULL;
	p->sender = sender;
	p->window = window;
	p->maxpacket = maxpacket;
	*l->q_tail = p;
	l->q_tail = &p->next;
	l->queued++;
	TRACE(s, LIBSSH2_TRACE_CONN,
	      "forwarded-tcpip to %.*s:%u from %.*s:%u queued (%u waiting)",
	      (int)hn, host, port, (int)on, orig, oport, l->queued);
	return 1;
}

static struct fwd_pending *dequeue(LIBSSH2_LISTENER *l)
{
	struct fwd_pending *p = l->q_head;

	if (p) {
		l->q_head = p->next;
		if (!l->q_head)
			l->q_tail = &l->q_head;
		l->queued--;
	}
	return p;
}

/* Refuse (when the session can still send) and drop every queued open. */
static int drain(LIBSSH2_LISTENER *l, int send)
{
	LIBSSH2_SESSION *s = l->s;
	struct fwd_pending *p;
	int rc = 0;

	while ((p = dequeue(l))) {
		if (send && !rc)
			rc = refuse(s, p->sender, "listener cancelled");
		la_free(&s->a, p);
	}
	return rc;
}

static void listener_free(LIBSSH2_LISTENER *l, int send)
{
	LIBSSH2_SESSION *s = l->s;
	LIBSSH2_LISTENER **pp;

	for (pp = &s->listeners; *pp; pp = &(*pp)->next)
		if (*pp == l) {
			*pp = l->next;
			break;
		}
	(void)drain(l, send);
	la_free(&s->a, l->host);
	la_free(&s->a, l);
}

void fwd_free_all(LIBSSH2_SESSION *s)
{
	la_free(&s->a, s->fwd_listening);
	s->fwd_listening = NULL;
	while (s->listeners)
		listener_free(s->listeners, 0);
}

/* ---- tcpip-forward / cancel-tcpip-forward -------------------------------- */

/* GLOBAL_REQUEST name, want_reply, string host, uint32 port (RFC 4254
 * 7.1); returns its ticket in *ticket. */
static int send_global(LIBSSH2_SESSION *s, const char *name, const char *host,
		       uint32_t port, uint32_t *ticket)
{
	int rc;

	if ((rc = tp_pkt_begin(&s->tp, SSH_MSG_GLOBAL_REQUEST)))
		return sess_err(s, rc, "out of memory");
	if (wb_cstring(&s->tp.out, name) || wb_bool(&s->tp.out, 1) ||
	    wb_cstring(&s->tp.out, host) || wb_u32(&s->tp.out, port)) {
		tp_pkt_abort(&s->tp);
		return sess_err(s, LIBSSH2_ERROR_ALLOC, "out of memory");
	}
	if ((rc = tp_pkt_end(&s->tp)))
		return sess_err(s, rc, "unable to queue %s", name);
	*ticket = s->greq_sent++;
	TRACE(s, LIBSSH2_TRACE_CONN, "%s %s:%u sent", name, host, port);
	rc = sess_flush(s);
	return rc == LIBSSH2_ERROR_EAGAIN ? 0 : rc;
}

struct listen_args {
	const char *host;
	uint32_t port;
	unsigned queue_max;
	LIBSSH2_LISTENER *out;
};

static int listen_made(LIBSSH2_SESSION *s, struct listen_args *a, uint32_t port)
{
	LIBSSH2_LISTENER *l = la_calloc(&s->a, sizeof(*l));

	if (!l || !(l->host = la_strndup(&s->a, a->host, strlen(a->host)))) {
		la_free(&s->a, l);
		return sess_err(s, LIBSSH2_ERROR_ALLOC, "out of memory");
	}
	l->s = s;
	l->port = port;
	l->queue_max = a->queue_max;
	l->q_tail = &l->q_head;
	l->next = s->listeners;
	s->listeners = l;
	a->out = l;
	TRACE(s, LIBSSH2_TRACE_CONN, "listening on %s:%u", l->host, port);
	return 0;
}

static int listen_step(LIBSSH2_SESSION *s, struct listen_args *a)
{
	struct fwd_listen *fl = s->fwd_listening;
	uint32_t port;
	int rc;

	if (!fl) {
		if (s->state != SESS_READY || !s->auth.authenticated)
			return sess_err(s, LIBSSH2_ERROR_BAD_USE,
					"the session is not authenticated");
		if (!(fl = la_calloc(&s->a, sizeof(*fl))))
			return sess_err(s, LIBSSH2_ERROR_ALLOC,
					"out of memory");
		s->fwd_listening = fl;
	}
	if (!fl->sent) {
		if ((rc = sess_ready_to_send(s)))
			return rc;
		if ((rc = send_global(s, "tcpip-forward", a->host, a->port,
				      &fl->ticket)))
			return rc;
		fl->sent = 1;
	}
	while (!fl->answer)
		if ((rc = sess_pump(s)))
			return rc;
	if (fl->answer < 0)
		return sess_err(s, LIBSSH2_ERROR_REQUEST_DENIED,
				"the server refused to listen on %s:%u",
				a->host, a->port);
	port = a->port;
	if (port == 0) {
		if (!fl->has_port || fl->port == 0 || fl->port > 65535)
			return sess_err(s, LIBSSH2_ERROR_PROTO,
					"the server did not say which port "
					"it listens on");
		port = fl->port;
	}
	return listen_made(s, a, port);
}

LIBSSH2_API LIBSSH2_LISTENER *
libssh2_channel_forward_listen_ex(LIBSSH2_SESSION *s, const char *host,
				  int port, int *bound_port, int queue_maxsize)
{
	struct listen_args a = {host ? host : "0.0.0.0", (uint32_t)port,
				FWD_QUEUE_CAP, NULL};
	int rc;

	if (!s)
		return NULL;
	if (port < 0 || port > 65535 || strlen(a.host) > FWD_HOST_MAX) {
		sess_err(s, LIBSSH2_ERROR_INVAL,
			 "forward_listen: bad host or port");
		return NULL;
	}
	if (queue_maxsize > 0 && queue_maxsize < FWD_QUEUE_CAP)
		a.queue_max = (unsigned)queue_maxsize;
	rc = SESS_BLOCK(s, listen_step(s, &a));
	if (rc == LIBSSH2_ERROR_EAGAIN)
		return NULL;
	/* done, either way: a later call asks again */
	la_free(&s->a, s->fwd_listening);
	s->fwd_listening = NULL;
	if (rc)
		return NULL;
	if (bound_port)
		*bound_port = (int)a.out->port;
	return a.out;
}

static int cancel_step(LIBSSH2_LISTENER *l)
{
	LIBSSH2_SESSION *s = l->s;
	int rc;

	if (!l->cancel_sent) {
		if ((rc = sess_ready_to_send(s)))
			return rc;
		if ((rc = send_global(s, "cancel-tcpip-forward", l->host,
				      l->port, &l->cancel_ticket)))
			return rc;
		l->cancel_sent = 1;
		/* what was queued will never be accepted */
		if ((rc = drain(l, 1)))
			return rc;
	}
	while (!l->cancel_answer)
		if ((rc = sess_pump(s)))
			return rc;
	if (l->cancel_answer < 0)
		return sess_err(s, LIBSSH2_ERROR_REQUEST_DENIED,
				"the server refused to cancel %s:%u", l->host,
				l->port);
	return 0;
}

LIBSSH2_API int libssh2_channel_forward_cancel(LIBSSH2_LISTENER *l)
{
	LIBSSH2_SESSION *s;
	int rc;

	if (!l)
		return LIBSSH2_ERROR_BAD_USE;
	s = l->s;
	rc = SESS_BLOCK(s, cancel_step(l));
	if (rc == LIBSSH2_ERROR_EAGAIN)
		return rc;
	/* the listener goes whatever the answer (as with libssh2) */
	listener_free(l, s->state == SESS_READY);
	return rc;
}

/* ---- accepting ----------------------------------------------------------- */

/* Confirm the open p as a new channel (RFC 4254 5.1). */
static int confirm(LIBSSH2_LISTENER *l, struct fwd_pending *p,
		   LIBSSH2_CHANNEL **out)
{
	LIBSSH2_SESSION *s = l->s;
	LIBSSH2_CHANNEL *c;
	int rc;

	c = chan_new(s, LIBSSH2_CHANNEL_WINDOW_DEFAULT,
		     LIBSSH2_CHANNEL_PACKET_DEFAULT);
	if (!c)
		return LIBSSH2_ERROR_ALLOC;
	if ((rc = tp_pkt_begin(&s->tp, SSH_MSG_CHANNEL_OPEN_CONFIRMATION)))
		goto fail;
	if (wb_u32(&s->tp.out, p->sender) || wb_u32(&s->tp.out, c->local_id) ||
	    wb_u32(&s->tp.out, c->local_window) ||
	    wb_u32(&s->tp.out, c->local_maxpacket)) {
		tp_pkt_abort(&s->tp);
		rc = LIBSSH2_ERROR_ALLOC;
		goto fail;
	}
	if ((rc = tp_pkt_end(&s->tp)))
		goto fail;
	c->remote_id = p->sender;
	c->remote_window = c->remote_window_init = p->window;
	/* as for our own opens (channel.c on_open_reply) */
	c->remote_maxpacket = p->maxpacket < 1024 ? 1024 : p->maxpacket;
	c->open_sent = 1;
	c->state = CHAN_OPEN;
	*out = c;
	TRACE(s, LIBSSH2_TRACE_CONN,
	      "accepted forwarded-tcpip as channel %u (server's %u)",
	      c->local_id, c->remote_id);
	return 0;
fail:
	c->state = CHAN_FAILED; /* never open: freed without a CLOSE */
	libssh2_channel_free(c);
	return sess_err(s, rc, "unable to confirm a forwarded connection");
}

static int accept_step(LIBSSH2_LISTENER *l, LIBSSH2_CHANNEL **out)
{
	LIBSSH2_SESSION *s = l->s;
	struct fwd_pending *p;
	int rc;

	if (l->cancel_sent)
		return sess_err(s, LIBSSH2_ERROR_BAD_USE,
				"the listener is being cancelled");
	while (!l->q_head)
		if ((rc = sess_pump(s)))
			return rc;
	if ((rc = sess_ready_to_send(s)))
		return rc;
	p = dequeue(l);
	rc = confirm(l, p, out);
	if (rc) {
		/* tell the server, or it waits for an answer forever */
		if (s->state == SESS_READY)
			(void)refuse(s, p->sender, "out of memory");
		la_free(&s->a, p);
		return rc;
	}
	la_free(&s->a, p);
	rc = sess_flush(s);
	return rc == LIBSSH2_ERROR_EAGAIN ? 0 : rc;
}

LIBSSH2_API LIBSSH2_CHANNEL *libssh2_channel_forward_accept(LIBSSH2_LISTENER *l)
{
	LIBSSH2_CHANNEL *c = NULL;

	if (!l)
		return NULL;
	if (SESS_BLOCK(l->s, accept_step(l, &c)))
		return NULL;
	return c;
}
