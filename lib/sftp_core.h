/*
 * sftp_core.h - the asynchronous SFTP request core (internal interface,
 * used by the libssh2_sftp_* API in sftp.c and directly by the daemon).
 *
 * Any number of requests may be in flight on one SFTP channel; replies
 * complete them out of order through callbacks.  Nothing here blocks:
 * sftp_core_run() moves bytes as far as the socket allows and returns
 * LIBSSH2_ERROR_EAGAIN when it cannot go on, so a caller either waits
 * with the session (blocking libssh2 calls) or polls the session's
 * socket in its own loop (the daemon's I/O thread).
 *
 * Use:
 *	uint32_t id = sftp_core_id(c);
 *	sftp_enc_read(sftp_core_out(c), id, handle, hlen, off, len);
 *	sftp_core_track(c, id, my_done, my_arg);
 *	... sftp_core_run(c) until my_done has been called ...
 *
 * my_done(arg, 0, body, n) gets the complete reply (type byte first, then
 * the id), valid only during the call: decode it with sftp_proto.h and
 * copy what you keep (read data can go straight to its destination).
 * When the channel dies every outstanding request completes with
 * my_done(arg, LIBSSH2_ERROR_*, NULL, 0).
 */
#ifndef SFTPMNT_SFTP_CORE_H
#define SFTPMNT_SFTP_CORE_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "libssh2.h"

typedef void (*sftp_done_fn)(void *arg, int err, const uint8_t *body,
			     size_t n);

struct sftp_slot {
	uint32_t id;
	int used;
	sftp_done_fn fn;
	void *arg;
};

/* Extensions the server announced (SSH_FXP_VERSION). */
#define SFTP_HAS_POSIX_RENAME 0x0001
#define SFTP_HAS_STATVFS 0x0002
#define SFTP_HAS_FSTATVFS 0x0004
#define SFTP_HAS_HARDLINK 0x0008
#define SFTP_HAS_FSYNC 0x0010
#define SFTP_HAS_LSETSTAT 0x0020
#define SFTP_HAS_LIMITS 0x0040
#define SFTP_HAS_EXPAND_PATH 0x0080
#define SFTP_HAS_COPY_DATA 0x0100
#define SFTP_HAS_HOME_DIR 0x0200
#define SFTP_HAS_USERS_GROUPS 0x0400

struct sftp_core {
	LIBSSH2_SESSION *s;
	LIBSSH2_CHANNEL *ch;
	struct wbuf out;   /* encoded requests not yet given to the channel */
	size_t out_sent;
	uint32_t next_id;
	struct sftp_slot *slots; /* outstanding requests, by id & mask */
	size_t nslots;		 /* power of two */
	size_t inflight;
	int dead;		 /* the channel failed: the error code */
	uint32_t version;
	unsigned ext;		 /* SFTP_HAS_* */
	uint32_t max_read;	 /* largest READ we ask for */
	uint32_t max_write;	 /* largest WRITE we send */
	/* SSH_FXP_SYMLINK's paths in filexfer-02's order (linkpath, target)
	 * rather than OpenSSH's (target, linkpath): set at VERSION for a
	 * server known to read them so (sftp_core_symlink_draft) */
	int symlink_draft;
	int hello_stage, hello_wait, hello_err; /* sftp_core_hello */
};

/* Does the server read SYMLINK in the draft's order?  OpenSSH's
 * sftp-server (and Dropbear, which runs it) reads OpenSSH's reversed
 * order from everyone; AsyncSSH's reads the draft's unless the client's
 * identification string names OpenSSH or paramiko (its list of clients
 * known to send the reverse).  Every other server is taken to follow
 * OpenSSH, as libssh2 does for all. */
int sftp_core_symlink_draft(const char *server_banner,
			    const char *client_banner);

/* Bind a core to an open SFTP channel (after the subsystem request). */
int sftp_core_init(struct sftp_core *c, LIBSSH2_SESSION *s,
		   LIBSSH2_CHANNEL *ch);
/* Fails every outstanding request (with err) and frees the core. */
void sftp_core_free(struct sftp_core *c, int err);

static inline uint32_t sftp_core_id(struct sftp_core *c)
{
	return c->next_id;
}

static inline struct wbuf *sftp_core_out(struct sftp_core *c)
{
	return &c->out;
}

/* Register the callback for the request just encoded with
 * sftp_core_id(); the id advances.  0 or LIBSSH2_ERROR_ALLOC (the
 * encoded request is then dropped). */
int sftp_core_track(struct sftp_core *c, size_t mark, sftp_done_fn fn,
		    void *arg);

/* Move bytes: 0 after at least one request completed (or when nothing
 * is outstanding), EAGAIN when blocked, or a fatal error (every
 * outstanding request then completed with it). */
int sftp_core_run(struct sftp_core *c);

/* 1 when a run would make progress without reading the socket: a whole
 * reply waits in the channel (another core's run may have read it), or
 * requests wait and the channel's window has room.  Several cores on one
 * session are run until none is ready. */
int sftp_core_ready(const struct sftp_core *c);

/* The session's socket is readable while nothing of ours is in flight
 * (sftp_core_run reads only for its requests): read what came without
 * waiting (a server's DISCONNECT, its EOF, the channel closed) and hand
 * any reply on.  0 when nothing more is there now, or the fatal error
 * (the connection is gone: a loop polling the socket would spin on its
 * end of file). */
int sftp_core_poll(struct sftp_core *c);

/* The core of a libssh2 SFTP session (for the daemon, which runs the
 * session non-blocking in its own loop and uses the core directly). */
struct _LIBSSH2_SFTP;
struct _LIBSSH2_SESSION;
struct sftp_core *sftp_core_of(struct _LIBSSH2_SFTP *sf);

/* Several SFTP sessions opened at once on one SSH session (for the
 * daemon's extra channels; libssh2_sftp_init opens one at a time):
 * begin queues nothing yet and returns the half-made session (NULL:
 * error set on s); step advances it without blocking (0: ready, like a
 * libssh2_sftp_init result; LIBSSH2_ERROR_EAGAIN; or an error); drop
 * frees one, half-made or ready, without waiting for the server
 * (session_gone: the SSH session is being freed and takes the channel
 * with it; otherwise the channel's close is sent, and it is released when
 * the server answers). */
struct _LIBSSH2_SFTP *sftp_open_begin(struct _LIBSSH2_SESSION *s);
int sftp_open_step(struct _LIBSSH2_SFTP *sf);
void sftp_open_drop(struct _LIBSSH2_SFTP *sf, int session_gone);

/* Milliseconds since the server last sent anything (for dead-peer
 * detection by the daemon). */
int64_t sftp_core_idle_ms(const struct sftp_core *c);
/* Declare the channel dead: every outstanding request completes with
 * err, and later runs fail with it. */
void sftp_core_abort(struct sftp_core *c, int err);

/* Send the SFTP INIT and digest VERSION (blocking through the session
 * semantics of the caller: returns EAGAIN to be called again). */
int sftp_core_hello(struct sftp_core *c);

#endif
