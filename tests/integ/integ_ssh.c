/*
 * integ_ssh.c - session helpers for integration tests (integ_ssh.h).
 */
#include "integ_ssh.h"

#include <check.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "integ.h"

const char *integ_errmsg(LIBSSH2_SESSION *s)
{
	char *m = NULL;

	libssh2_session_last_error(s, &m, NULL, 0);
	return m && *m ? m : "(none)";
}

LIBSSH2_SESSION *integ_connected(int *fd)
{
	LIBSSH2_SESSION *s = libssh2_session_init();
	int rc;

	ck_assert_ptr_nonnull(s);
	libssh2_session_set_timeout(s, 30000);
	*fd = integ_connect(0);
	rc = libssh2_session_handshake(s, *fd);
	ck_assert_msg(rc == 0, "handshake: %d %s", rc, integ_errmsg(s));
	return s;
}

LIBSSH2_SESSION *integ_start(int *fd)
{
	LIBSSH2_SESSION *s = integ_connected(fd);
	const char *u = integ_env("SFTPMNT_TEST_USER");
	int rc;

	rc = libssh2_userauth_publickey_fromfile(
		s, u, NULL, integ_env("SFTPMNT_TEST_KEY"), NULL);
	ck_assert_msg(rc == 0, "auth: %d %s", rc, integ_errmsg(s));
	return s;
}

void integ_finish(LIBSSH2_SESSION *s, int fd)
{
	libssh2_session_set_blocking(s, 1);
	ck_assert_int_eq(libssh2_session_disconnect(s, "test done"), 0);
	ck_assert_int_eq(libssh2_session_free(s), 0);
	close(fd);
}

LIBSSH2_CHANNEL *integ_exec(LIBSSH2_SESSION *s, const char *cmd)
{
	LIBSSH2_CHANNEL *c = libssh2_channel_open_session(s);
	int rc;

	ck_assert_msg(c != NULL, "open_session: %s", integ_errmsg(s));
	rc = libssh2_channel_exec(c, cmd);
	ck_assert_msg(rc == 0, "exec %s: %d %s", cmd, rc, integ_errmsg(s));
	return c;
}

size_t integ_read_all(LIBSSH2_CHANNEL *c, int stream, char *buf, size_t cap)
{
	size_t got = 0;
	ssize_t n;

	while ((n = libssh2_channel_read_ex(c, stream, buf + got,
					    cap - 1 - got)) > 0) {
		got += (size_t)n;
		ck_assert_uint_lt(got, cap - 1);
	}
	ck_assert_msg(n == 0, "read: %zd", n);
	buf[got] = 0;
	return got;
}

int integ_close(LIBSSH2_CHANNEL *c)
{
	int st;

	ck_assert_int_eq(libssh2_channel_close(c), 0);
	ck_assert_int_eq(libssh2_channel_wait_closed(c), 0);
	st = libssh2_channel_get_exit_status(c);
	ck_assert_int_eq(libssh2_channel_free(c), 0);
	return st;
}

void integ_wait(LIBSSH2_SESSION *s, int fd, long *waits)
{
	struct pollfd p = {.fd = fd};
	int d = libssh2_session_block_directions(s);

	ck_assert_msg(d != 0, "EAGAIN without a block direction");
	p.events = (d & LIBSSH2_SESSION_BLOCK_INBOUND ? POLLIN : 0) |
		   (d & LIBSSH2_SESSION_BLOCK_OUTBOUND ? POLLOUT : 0);
	ck_assert_msg(poll(&p, 1, 10000) == 1, "poll timed out (dirs %d)", d);
	++*waits;
}

int integ_sh(const char *fmt, ...)
{
	char cmd[4096];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	ck_assert_msg(n > 0 && (size_t)n < sizeof(cmd), "command too long");
	return system(cmd);
}
