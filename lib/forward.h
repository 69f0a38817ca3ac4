/*
 * forward.h - remote port forwarding (RFC 4254 7.1, 7.2): listeners set
 * up with "tcpip-forward", the "forwarded-tcpip" channels the server
 * opens for them, and the answers to our global requests.
 */
#ifndef SFTPMNT_FORWARD_H
#define SFTPMNT_FORWARD_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"

struct _LIBSSH2_SESSION;

/* A forwarded-tcpip open waiting for forward_accept. */
struct fwd_pending {
	struct fwd_pending *next;
	uint32_t sender, window, maxpacket;
};

/* A listener (LIBSSH2_LISTENER): one tcpip-forward the server granted. */
struct _LIBSSH2_LISTENER {
	struct _LIBSSH2_SESSION *s;
	struct _LIBSSH2_LISTENER *next;
	char *host;    /* as sent in tcpip-forward; the server echoes it */
	uint32_t port; /* the bound port */
	unsigned queue_max, queued;
	struct fwd_pending *q_head, **q_tail;
	/* cancel-tcpip-forward: sent, its ticket and answer (1, -1) */
	int cancel_sent, cancel_answer;
	uint32_t cancel_ticket;
};

/* Longest listen address we send (a host name or an address). */
#define FWD_HOST_MAX 1024
/* Most connections one listener keeps waiting for forward_accept: the
 * caller's queue_maxsize is capped at this, and 0 (libssh2: no limit)
 * means this, so a server cannot make us queue without bound. */
#define FWD_QUEUE_CAP 1024

/*
 * A CHANNEL_OPEN from the server of type [type, type + tn) with the
 * sender's channel number, window and packet size, r at the type's own
 * fields.  1 when it was taken (queued for forward_accept), 0 when it is
 * not for any listener of ours or the listener's queue is full (the
 * caller refuses it), or a negative error.
 */
int fwd_incoming(struct _LIBSSH2_SESSION *s, const char *type, size_t tn,
		 uint32_t sender, uint32_t window, uint32_t maxpacket,
		 struct rbuf *r);

/* REQUEST_SUCCESS or REQUEST_FAILURE p[0..n) answering the global
 * request with ticket number `ticket` (session.h greq_sent). */
int fwd_on_reply(struct _LIBSSH2_SESSION *s, uint32_t ticket, const uint8_t *p,
		 size_t n);

/* The session goes: free its listeners and a half-made listen. */
void fwd_free_all(struct _LIBSSH2_SESSION *s);

#endif
