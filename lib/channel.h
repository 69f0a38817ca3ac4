/*
 * channel.h - the connection protocol (RFC 4254): channel state behind
 * LIBSSH2_CHANNEL, flow control, and the dispatch of channel messages.
 */
#ifndef SFTPMNT_CHANNEL_H
#define SFTPMNT_CHANNEL_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "ssh_limits.h"

struct _LIBSSH2_SESSION;

#define SSH_MSG_GLOBAL_REQUEST 80
#define SSH_MSG_REQUEST_SUCCESS 81
#define SSH_MSG_REQUEST_FAILURE 82
#define SSH_MSG_CHANNEL_OPEN 90
#define SSH_MSG_CHANNEL_OPEN_CONFIRMATION 91
#define SSH_MSG_CHANNEL_OPEN_FAILURE 92
#define SSH_MSG_CHANNEL_WINDOW_ADJUST 93
#define SSH_MSG_CHANNEL_DATA 94
#define SSH_MSG_CHANNEL_EXTENDED_DATA 95
#define SSH_MSG_CHANNEL_EOF 96
#define SSH_MSG_CHANNEL_CLOSE 97
#define SSH_MSG_CHANNEL_REQUEST 98
#define SSH_MSG_CHANNEL_SUCCESS 99
#define SSH_MSG_CHANNEL_FAILURE 100

/* Our receive window may grow to this (bandwidth-delay product of a
 * fast link at high latency, as HPN-SSH does); a single DATA packet is
 * at most CHAN_PACKET_MAX. */
#define CHAN_WINDOW_MAX (64u * 1024 * 1024)
/* what libssh2_session_window_max accepts */
#define CHAN_WINDOW_MIN_MAX (64u * 1024)
#define CHAN_WINDOW_MAX_MAX (1024u * 1024 * 1024)
#define CHAN_PACKET_MAX (256u * 1024 - 1024)
/* Stop queueing outbound data beyond this many unsent transport bytes. */
#define CHAN_OUT_HIGH (8u * 1024 * 1024)
/* The name plus the fields of one CHANNEL_REQUEST we send: what fits in
 * a packet with its fixed parts (byte, uint32, two string lengths,
 * boolean) and room to spare. */
#define CHAN_REQUEST_MAX (SSH_PAYLOAD_MAX - 64)

enum chan_state {
	CHAN_OPENING = 0,
	CHAN_OPEN,
	CHAN_FAILED,
	CHAN_CLOSED,
};

/* An inbound byte stream: [start, end) of p[cap]. */
struct chan_buf {
	uint8_t *p;
	size_t start, end, cap;
};

/* Extended data of a type other than stderr: RFC 4254 5.2 defines only
 * SSH_EXTENDED_DATA_STDERR (1), but libssh2 keeps any data_type_code and
 * reads it by number (libssh2_channel_read_ex).  Types beyond this many
 * distinct ones on a channel are dropped (their window re-granted), so
 * a server cannot make us hold a buffer per 32-bit code. */
#define CHAN_EXT_STREAMS_MAX 8

struct chan_xstream {
	uint32_t code;
	struct chan_buf b;
};

struct _LIBSSH2_CHANNEL {
	struct _LIBSSH2_SESSION *s;
	struct _LIBSSH2_CHANNEL *next;
	uint32_t local_id, remote_id;
	enum chan_state state;

	/* flow control (RFC 4254 5.2) */
	uint32_t local_window;	    /* bytes the server may still send */
	uint32_t local_window_max;  /* what we aim to keep granted */
	uint32_t local_window_init; /* what we granted at the open */
	uint32_t local_maxpacket;
	uint32_t remote_window;	    /* bytes we may still send */
	uint32_t remote_window_init; /* what the peer granted at the open */
	uint32_t remote_maxpacket;
	uint32_t consumed;	    /* read by the user, not yet re-granted */

	struct chan_buf in, err;
	struct chan_xstream xs[CHAN_EXT_STREAMS_MAX]; /* other types */
	unsigned nxs;
	int ext_mode;	/* LIBSSH2_CHANNEL_EXTENDED_DATA_* */
	int flush_busy; /* libssh2_channel_flush_ex returned EAGAIN */
	size_t flushed; /* ... after discarding this many bytes */

	int eof_recv, eof_sent, close_recv, close_sent;
	int req_pending; /* a CHANNEL_REQUEST awaits SUCCESS/FAILURE */
	int req_result;	 /* 1 success, -1 failure, 0 none yet */
	int agent_fallback; /* auth-agent-req@openssh.com was refused */
	int exit_status;
	char *exit_signal;
	uint32_t open_fail_reason;
	char open_fail_msg[128];
	int open_sent;
	int startup_sent; /* a shell, command or subsystem started */
	int eof_queued;
	int close_queued;
	int orphan; /* freed by the caller; released at the server's CLOSE */
	uint64_t data_out; /* stdout bytes queued, ever */
	/* An scp -t upload (scp.c): data_out once the caller has written
	 * the whole file, which then ends with a NUL; 0 otherwise. */
	uint64_t scp_end;
	/* receive_window_adjust: small adjustments kept for later */
	uint32_t adjust_queue;
};

/* Channel messages 91..100 read by the pump. */
int chan_dispatch(struct _LIBSSH2_SESSION *s, const uint8_t *p, size_t n);
/* A server-initiated CHANNEL_OPEN (90): refused unless a listener wants
 * it (forward.c). */
int chan_open_request(struct _LIBSSH2_SESSION *s, struct rbuf *r);
/* A new channel in the session's list, nothing sent for it yet (NULL:
 * out of memory, error set). */
struct _LIBSSH2_CHANNEL *chan_new(struct _LIBSSH2_SESSION *s, uint32_t window,
				  uint32_t maxpacket);
/* Send a CHANNEL_REQUEST `name` with want_reply, `fields` (may be NULL)
 * after it, and wait for the answer (blocking as the session is): 0,
 * LIBSSH2_ERROR_CHANNEL_REQUEST_DENIED, EAGAIN or another error. */
int chan_request(struct _LIBSSH2_CHANNEL *c, const char *name,
		 const struct wbuf *fields);
/* Bytes of extended data (any type) buffered and not read yet. */
size_t chan_ext_pending(const struct _LIBSSH2_CHANNEL *c);
/* Free every channel of a session. */
void chan_free_all(struct _LIBSSH2_SESSION *s);
/* A "session" channel opened without the session-wide state of
 * libssh2_channel_open_ex (one open at a time), so that several opens
 * can be on their way together: begin makes it (NULL: error set), step
 * sends the CHANNEL_OPEN and waits for the answer (0: open, EAGAIN, or
 * an error), drop gives it up. */
struct _LIBSSH2_CHANNEL *chan_session_begin(struct _LIBSSH2_SESSION *s,
				    uint32_t window, uint32_t maxpacket);
int chan_session_step(struct _LIBSSH2_CHANNEL *c);
void chan_session_drop(struct _LIBSSH2_CHANNEL *c);

/* For the SFTP core: bytes available on the stdout stream, a pointer to
 * them, and consuming (which re-grants window). */
size_t chan_avail(const struct _LIBSSH2_CHANNEL *c, const uint8_t **p);
int chan_consume(struct _LIBSSH2_CHANNEL *c, size_t n);
/* Queue up to n bytes of stdout data without blocking; returns bytes
 * queued (0 when the window or the out buffer is full) or an error. */
long chan_send(struct _LIBSSH2_CHANNEL *c, const uint8_t *p, size_t n);

#endif
