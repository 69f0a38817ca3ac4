/*
 * integ_ssh.h - session helpers for the integration tests of the channel
 * extras (test_chanreq, test_forward, test_scp, test_userauth_ext): an
 * authenticated session to the fixture's sshd through the public API,
 * commands, reads, closes.  Failures are Check assertions.
 */
#ifndef SFTPMNT_INTEG_SSH_H
#define SFTPMNT_INTEG_SSH_H

#include <stddef.h>

#include "libssh2.h"

/* The session's last error message ("(none)" if none). */
const char *integ_errmsg(LIBSSH2_SESSION *s);
/* A session, handshake done, not authenticated (*fd: its socket). */
LIBSSH2_SESSION *integ_connected(int *fd);
/* A session authenticated with the fixture's key. */
LIBSSH2_SESSION *integ_start(int *fd);
/* Disconnect, free, close. */
void integ_finish(LIBSSH2_SESSION *s, int fd);
/* A session channel running cmd. */
LIBSSH2_CHANNEL *integ_exec(LIBSSH2_SESSION *s, const char *cmd);
/* Everything of one stream up to EOF, NUL-terminated; its length. */
size_t integ_read_all(LIBSSH2_CHANNEL *c, int stream, char *buf, size_t cap);
/* close, wait_closed and free; the exit status. */
int integ_close(LIBSSH2_CHANNEL *c);
/* Non-blocking loops: wait on fd in the session's blocked directions
 * (10 s at most), counting the waits. */
void integ_wait(LIBSSH2_SESSION *s, int fd, long *waits);
/* Run a shell command (system(3)); 0 when it exited 0. */
int integ_sh(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
