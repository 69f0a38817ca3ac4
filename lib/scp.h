/*
 * scp.h - SCP (the rcp protocol over an exec channel running the remote
 * "scp -f" or "scp -t"): the libssh2_scp_* API.
 */
#ifndef SFTPMNT_SCP_H
#define SFTPMNT_SCP_H

struct _LIBSSH2_SESSION;
struct _LIBSSH2_CHANNEL;

/* Longest remote path we accept (quoted for the shell it may grow). */
#define SCP_PATH_MAX 4096
/* Longest line we read from the remote scp (a C or T line, or an error
 * message); a longer one is a protocol error, not a bigger buffer. */
#define SCP_LINE_MAX (SCP_PATH_MAX + 64)
/* Longest remote message kept for libssh2_session_last_error. */
#define SCP_MSG_MAX 512

/*
 * libssh2_channel_send_eof on an upload channel (channel.c): when the
 * caller has written the whole file, send the NUL that ends it first, so
 * the remote scp finishes the file (sets the times of -p) and exits 0.
 * 0, EAGAIN or an error.
 */
int scp_before_eof(struct _LIBSSH2_CHANNEL *c);

/* The session goes: forget a half-done libssh2_scp_send/recv (its
 * channel goes with the session's). */
void scp_drop(struct _LIBSSH2_SESSION *s);

#endif
