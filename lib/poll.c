/*
 * poll.c - libssh2_poll: wait for sockets, channels and listeners at
 * once (deprecated in libssh2, kept for its callers).
 *
 * A channel is readable when data is buffered for it (not at EOF: as
 * libssh2 1.11.1, whose callers wait for CHANNEL_CLOSED or check
 * libssh2_channel_eof, and would spin on a POLLIN that stays set),
 * writable when the server's window has room; a listener is readable when a connection waits for
 * forward_accept.  What is buffered is checked first; otherwise poll(2)
 * waits on the plain sockets and on the sockets of the sessions the
 * channels and listeners belong to, and when a session's socket is
 * readable its packets are taken in (without blocking) and the states
 * are checked again, until something is ready or the time is up.
 */
#include <errno.h>
#include <poll.h>
#include <stdlib.h>

#include "forward.h"
#include "session.h"

/* Most packets taken in from one session per wake-up, so a busy session
 * cannot keep libssh2_poll from returning. */
#define POLL_PUMP_MAX 64

static unsigned long to_lib(short ev)
{
	return (ev & POLLIN ? LIBSSH2_POLLFD_POLLIN : 0) |
	       (ev & POLLPRI ? LIBSSH2_POLLFD_POLLPRI : 0) |
	       (ev & POLLOUT ? LIBSSH2_POLLFD_POLLOUT : 0) |
	       (ev & POLLERR ? LIBSSH2_POLLFD_POLLERR : 0) |
	       (ev & POLLHUP ? LIBSSH2_POLLFD_POLLHUP : 0) |
	       (ev & POLLNVAL ? LIBSSH2_POLLFD_POLLNVAL : 0);
}

static short from_lib(unsigned long ev)
{
	return (short)((ev & LIBSSH2_POLLFD_POLLIN ? POLLIN : 0) |
		       (ev & LIBSSH2_POLLFD_POLLPRI ? POLLPRI : 0) |
		       (ev & LIBSSH2_POLLFD_POLLOUT ? POLLOUT : 0));
}

static LIBSSH2_SESSION *owner(const LIBSSH2_POLLFD *f)
{
	if (f->type == LIBSSH2_POLLFD_CHANNEL)
		return f->fd.channel ? f->fd.channel->s : NULL;
	if (f->type == LIBSSH2_POLLFD_LISTENER)
		return f->fd.listener ? f->fd.listener->s : NULL;
	return NULL;
}

/* The state of a channel or listener entry, from what is buffered. */
static unsigned long state_of(const LIBSSH2_POLLFD *f)
{
	const LIBSSH2_SESSION *s = owner(f);
	unsigned long r = 0;

	if (!s)
		return LIBSSH2_POLLFD_POLLNVAL;
	if (s->state == SESS_DEAD)
		r |= LIBSSH2_POLLFD_SESSION_CLOSED;
	if (f->type == LIBSSH2_POLLFD_LISTENER) {
		if ((f->events & LIBSSH2_POLLFD_POLLIN) &&
		    f->fd.listener->q_head)
			r |= LIBSSH2_POLLFD_POLLIN;
		if (s->state == SESS_DEAD)
			r |= LIBSSH2_POLLFD_LISTENER_CLOSED;
		return r;
	}
	const LIBSSH2_CHANNEL *c = f->fd.channel;

	if ((f->events & LIBSSH2_POLLFD_POLLIN) && c->in.end > c->in.start)
		r |= LIBSSH2_POLLFD_POLLIN;
	if ((f->events & LIBSSH2_POLLFD_POLLEXT) && chan_ext_pending(c) > 0)
		r |= LIBSSH2_POLLFD_POLLEXT;
	if ((f->events & LIBSSH2_POLLFD_POLLOUT) && c->state == CHAN_OPEN &&
	    !c->close_recv && c->remote_window > 0)
		r |= LIBSSH2_POLLFD_POLLOUT;
	/* as libssh2 1.11.1: a dead session closes its channels too */
	if (c->close_recv || c->state == CHAN_CLOSED || s->state == SESS_DEAD)
		r |= LIBSSH2_POLLFD_CHANNEL_CLOSED;
	return r;
}

/* revents of every channel and listener entry; the count of those
 * ready (sockets are counted by the caller), -1 for an entry of an
 * unknown type. */
static int scan(LIBSSH2_POLLFD *fds, unsigned nfds)
{
	unsigned i;
	int n = 0;

	for (i = 0; i < nfds; i++) {
		switch (fds[i].type) {
		case LIBSSH2_POLLFD_SOCKET:
			continue;
		case LIBSSH2_POLLFD_CHANNEL:
		case LIBSSH2_POLLFD_LISTENER:
			fds[i].revents = state_of(&fds[i]);
			break;
		default:
			return -1;
		}
		if (fds[i].revents)
			n++;
	}
	return n;
}

/* Take in what a session's socket has, without blocking. */
static void pump(LIBSSH2_SESSION *s)
{
	int i;

	for (i = 0; i < POLL_PUMP_MAX; i++)
		if (sess_pump(s))
			break;
}

LIBSSH2_API int libssh2_poll(LIBSSH2_POLLFD *fds, unsigned int nfds,
			     long timeout)
{
	int64_t deadline = timeout >= 0 ? sess_now_ms() + timeout : -1;
	struct pollfd *p;
	unsigned i;
	int n;

	if (nfds == 0 || !fds) {
		if (timeout > 0)
			(void)poll(NULL, 0,
				   timeout > 1000000000 ? 1000000000
							: (int)timeout);
		return 0;
	}
	p = calloc(nfds, sizeof(*p));
	if (!p)
		return -1;
	for (i = 0; i < nfds; i++)
		fds[i].revents = 0;
	for (;;) {
		int wait, r;

		n = scan(fds, nfds);
		if (n < 0) {
			LIBSSH2_SESSION *s = NULL;

			for (i = 0; i < nfds && !s; i++)
				s = owner(&fds[i]);
			if (s)
				sess_err(s, LIBSSH2_ERROR_INVALID_POLL_TYPE,
					 "libssh2_poll: unknown entry type");
			break;
		}
		if (deadline < 0)
			wait = n ? 0 : -1;
		else {
			int64_t left = deadline - sess_now_ms();

			wait = n || left <= 0	   ? 0
			       : left > 1000000000 ? 1000000000
						   : (int)left;
		}
		for (i = 0; i < nfds; i++) {
			LIBSSH2_SESSION *s = owner(&fds[i]);

			p[i].revents = 0;
			if (fds[i].type == LIBSSH2_POLLFD_SOCKET) {
				p[i].fd = fds[i].fd.socket;
				p[i].events = from_lib(fds[i].events);
			} else if (s && s->state != SESS_DEAD) {
				p[i].fd = s->sock;
				p[i].events = POLLIN;
				if (tp_out_len(&s->tp))
					p[i].events |= POLLOUT;
			} else {
				p[i].fd = -1; /* ignored by poll(2) */
			}
		}
		r = poll(p, nfds, wait);
		if (r < 0 && errno != EINTR) {
			n = -1;
			break;
		}
		n = 0;
		for (i = 0; i < nfds; i++) {
			if (fds[i].type == LIBSSH2_POLLFD_SOCKET) {
				fds[i].revents =
					r > 0 ? to_lib(p[i].revents) : 0;
				if (fds[i].revents)
					n++;
			} else if (r > 0 && p[i].revents) {
				pump(owner(&fds[i]));
			}
		}
		n += scan(fds, nfds);
		if (n > 0 || wait == 0)
			break;
	}
	free(p);
	return n;
}
