/*
 * test_forward.c - remote port forwarding (RFC 4254 7.1, 7.2) and
 * libssh2_poll against the real test sshd: listen on port 0 (the server
 * picks), connect to it with a plain TCP socket, accept the forwarded
 * channel and carry bytes both ways; cancel, after which the port is
 * closed; accept in non-blocking mode; the listener's queue limit;
 * listeners left to libssh2_session_free; libssh2_poll on channels,
 * listeners and sockets.
 */
#include <arpa/inet.h>
#include <check.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/socket.h>
#include <unistd.h>

#include "libssh2.h"

#include "integ.h"
#include "integ_ssh.h"

/* A TCP connection to 127.0.0.1:port; -errno when refused. */
static int tcp_to(int port)
{
	struct sockaddr_in sin = {.sin_family = AF_INET};
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	ck_assert_int_ge(fd, 0);
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	sin.sin_port = htons((unsigned short)port);
	if (connect(fd, (struct sockaddr *)&sin, sizeof(sin))) {
		int e = errno;

		close(fd);
		return -e;
	}
	return fd;
}

/* Read exactly n bytes from a socket (10 s at most). */
static void sock_read(int fd, char *buf, size_t n)
{
	size_t got = 0;

	while (got < n) {
		struct pollfd p = {.fd = fd, .events = POLLIN};
		ssize_t r;

		ck_assert_msg(poll(&p, 1, 10000) == 1, "socket read timed out");
		r = read(fd, buf + got, n - got);
		ck_assert_msg(r > 0, "socket read: %zd", r);
		got += (size_t)r;
	}
}

/* The peer closed the socket (EOF or reset) within 10 s. */
static int sock_closed(int fd)
{
	struct pollfd p = {.fd = fd, .events = POLLIN};
	char c;

	if (poll(&p, 1, 10000) != 1)
		return 0;
	return read(fd, &c, 1) <= 0;
}

/* ---- listen, accept, both ways, cancel ----------------------------------- */

START_TEST(listen_accept_cancel)
{
	int fd, bound = 0, tfd, rc;
	LIBSSH2_SESSION *s = integ_start(&fd);
	LIBSSH2_LISTENER *l;
	LIBSSH2_CHANNEL *c;
	char buf[256];
	ssize_t n;

	l = libssh2_channel_forward_listen_ex(s, "127.0.0.1", 0, &bound, 4);
	ck_assert_msg(l != NULL, "listen: %s", integ_errmsg(s));
	ck_assert_int_gt(bound, 1023);
	ck_assert_int_lt(bound, 65536);
	tfd = tcp_to(bound);
	ck_assert_msg(tfd >= 0, "connect to the forwarded port: %s",
		      strerror(-tfd));
	c = libssh2_channel_forward_accept(l);
	ck_assert_msg(c != NULL, "accept: %s", integ_errmsg(s));
	/* client -> channel */
	ck_assert_int_eq(write(tfd, "hello from tcp", 14), 14);
	n = libssh2_channel_read(c, buf, sizeof(buf));
	ck_assert_int_eq(n, 14);
	ck_assert_int_eq(memcmp(buf, "hello from tcp", 14), 0);
	/* channel -> client */
	ck_assert_int_eq(libssh2_channel_write(c, "hello back", 10), 10);
	sock_read(tfd, buf, 10);
	ck_assert_int_eq(memcmp(buf, "hello back", 10), 0);
	/* the client hangs up: EOF on the channel */
	close(tfd);
	n = libssh2_channel_read(c, buf, sizeof(buf));
	ck_assert_int_eq(n, 0);
	ck_assert_int_eq(libssh2_channel_eof(c), 1);
	ck_assert_int_eq(libssh2_channel_free(c), 0);

	/* a second connection, closed from our side */
	tfd = tcp_to(bound);
	ck_assert_int_ge(tfd, 0);
	c = libssh2_channel_forward_accept(l);
	ck_assert_ptr_nonnull(c);
	ck_assert_int_eq(libssh2_channel_write(c, "bye", 3), 3);
	ck_assert_int_eq(libssh2_channel_send_eof(c), 0);
	sock_read(tfd, buf, 3);
	ck_assert(sock_closed(tfd));
	close(tfd);
	ck_assert_int_eq(libssh2_channel_free(c), 0);

	rc = libssh2_channel_forward_cancel(l);
	ck_assert_msg(rc == 0, "cancel: %d %s", rc, integ_errmsg(s));
	/* the server no longer listens there */
	tfd = tcp_to(bound);
	ck_assert_msg(tfd == -ECONNREFUSED, "connect after cancel: %d", tfd);

	/* the session goes on */
	c = integ_exec(s, "echo still");
	integ_read_all(c, 0, buf, sizeof(buf));
	ck_assert_str_eq(buf, "still\n");
	ck_assert_int_eq(integ_close(c), 0);
	integ_finish(s, fd);
}
END_TEST

/* The macro (any address, port given) and refusals. */
START_TEST(listen_fixed_port_and_refusals)
{
	int fd, bound = 0, port, tfd;
	LIBSSH2_SESSION *s = integ_start(&fd);
	LIBSSH2_LISTENER *l, *l2;
	LIBSSH2_CHANNEL *c;
	char buf[16];

	/* a free port: let the kernel pick one, then let it go */
	l = libssh2_channel_forward_listen_ex(s, "127.0.0.1", 0, &port, 1);
	ck_assert_ptr_nonnull(l);
	ck_assert_int_eq(libssh2_channel_forward_cancel(l), 0);
	l = libssh2_channel_forward_listen(s, port);
	ck_assert_msg(l != NULL, "listen on %d: %s", port, integ_errmsg(s));
	tfd = tcp_to(port);
	ck_assert_int_ge(tfd, 0);
	c = libssh2_channel_forward_accept(l);
	ck_assert_ptr_nonnull(c);
	ck_assert_int_eq(write(tfd, "x", 1), 1);
	ck_assert_int_eq(libssh2_channel_read(c, buf, sizeof(buf)), 1);
	close(tfd);
	ck_assert_int_eq(libssh2_channel_free(c), 0);
	/* the same port twice: the server refuses */
	l2 = libssh2_channel_forward_listen_ex(s, NULL, port, &bound, 1);
	ck_assert_ptr_null(l2);
	ck_assert_int_eq(libssh2_session_last_errno(s),
			 LIBSSH2_ERROR_REQUEST_DENIED);
	ck_assert_int_eq(libssh2_channel_forward_cancel(l), 0);
	/* arguments checked before anything is sent */
	ck_assert_ptr_null(
		libssh2_channel_forward_listen_ex(s, NULL, 70000, NULL, 1));
	ck_assert_int_eq(libssh2_session_last_errno(s), LIBSSH2_ERROR_INVAL);
	ck_assert_ptr_null(libssh2_channel_forward_accept(NULL));
	ck_assert_int_eq(libssh2_channel_forward_cancel(NULL),
			 LIBSSH2_ERROR_BAD_USE);
	integ_finish(s, fd);
}
END_TEST

/* ---- non-blocking accept ------------------------------------------------- */

START_TEST(accept_nonblocking)
{
	int fd, bound = 0, tfd;
	LIBSSH2_SESSION *s = integ_start(&fd);
	LIBSSH2_LISTENER *l = NULL;
	LIBSSH2_CHANNEL *c = NULL;
	long waits = 0, eagain = 0;
	char buf[64];
	ssize_t n;

	libssh2_session_set_blocking(s, 0);
	while (!(l = libssh2_channel_forward_listen_ex(s, "127.0.0.1", 0,
						       &bound, 2))) {
		ck_assert_msg(libssh2_session_last_errno(s) ==
				      LIBSSH2_ERROR_EAGAIN,
			      "listen: %s", integ_errmsg(s));
		integ_wait(s, fd, &waits);
	}
	ck_assert_int_gt(bound, 0);
	/* nobody connected: EAGAIN, not a wait */
	c = libssh2_channel_forward_accept(l);
	ck_assert_ptr_null(c);
	ck_assert_int_eq(libssh2_session_last_errno(s), LIBSSH2_ERROR_EAGAIN);
	ck_assert(libssh2_session_block_directions(s) &
		  LIBSSH2_SESSION_BLOCK_INBOUND);
	tfd = tcp_to(bound);
	ck_assert_int_ge(tfd, 0);
	while (!(c = libssh2_channel_forward_accept(l))) {
		ck_assert_msg(libssh2_session_last_errno(s) ==
				      LIBSSH2_ERROR_EAGAIN,
			      "accept: %s", integ_errmsg(s));
		eagain++;
		integ_wait(s, fd, &waits);
	}
	/* (no EAGAIN is owed here: the server's CHANNEL_OPEN may be in
	 * before the first call; the one above showed non-blocking) */
	(void)eagain;
	ck_assert_int_eq(write(tfd, "nb", 2), 2);
	while ((n = libssh2_channel_read(c, buf, sizeof(buf))) ==
	       LIBSSH2_ERROR_EAGAIN)
		integ_wait(s, fd, &waits);
	ck_assert_int_eq(n, 2);
	close(tfd);
	libssh2_session_set_blocking(s, 1);
	ck_assert_int_eq(libssh2_channel_free(c), 0);
	ck_assert_int_eq(libssh2_channel_forward_cancel(l), 0);
	integ_finish(s, fd);
}
END_TEST

/* Global requests are answered in the order they were sent (RFC 4254
 * 4): a keepalive sent while tcpip-forward waits for its answer has its
 * own answer after it, and neither may be taken for the other (OpenSSH
 * refuses keepalive@openssh.com: taken for the listen's, it would fail
 * it). */
START_TEST(keepalive_while_listening)
{
	int fd, bound = 0, next = 0, tfd, sent_first = 0;
	LIBSSH2_SESSION *s = integ_start(&fd);
	LIBSSH2_LISTENER *l;
	LIBSSH2_CHANNEL *c;
	long waits = 0;
	char buf[8];

	libssh2_keepalive_config(s, 1, 2);
	libssh2_session_set_blocking(s, 0);
	l = libssh2_channel_forward_listen_ex(s, "127.0.0.1", 0, &bound, 2);
	if (!l) {
		ck_assert_int_eq(libssh2_session_last_errno(s),
				 LIBSSH2_ERROR_EAGAIN);
		sent_first = 1;
		/* quiet for longer than the interval: a keepalive is due */
		usleep(2200 * 1000);
		ck_assert_int_eq(libssh2_keepalive_send(s, &next), 0);
		ck_assert_int_ge(next, 1);
		while (!(l = libssh2_channel_forward_listen_ex(s, "127.0.0.1",
							       0, &bound, 2))) {
			ck_assert_msg(libssh2_session_last_errno(s) ==
					      LIBSSH2_ERROR_EAGAIN,
				      "listen: %s", integ_errmsg(s));
			integ_wait(s, fd, &waits);
		}
	}
	ck_assert_int_gt(bound, 0);
	libssh2_session_set_blocking(s, 1);
	tfd = tcp_to(bound);
	ck_assert_int_ge(tfd, 0);
	c = libssh2_channel_forward_accept(l);
	ck_assert_ptr_nonnull(c);
	ck_assert_int_eq(write(tfd, "k", 1), 1);
	ck_assert_int_eq(libssh2_channel_read(c, buf, sizeof(buf)), 1);
	close(tfd);
	ck_assert_int_eq(libssh2_channel_free(c), 0);
	/* the keepalive's answer was dropped, not kept for the cancel */
	ck_assert_int_eq(libssh2_channel_forward_cancel(l), 0);
	if (!sent_first)
		fprintf(stderr, "keepalive_while_listening: the answer came "
				"at once, the order was not exercised\n");
	integ_finish(s, fd);
}
END_TEST

/* ---- queue limit, libssh2_poll on a listener ----------------------------- */

/* Take in packets for ms milliseconds: libssh2_poll on the listener
 * asking for nothing returns only when the time is up. */
static void pump_for(LIBSSH2_LISTENER *l, long ms)
{
	LIBSSH2_POLLFD f = {.type = LIBSSH2_POLLFD_LISTENER};

	f.fd.listener = l;
	f.events = 0;
	ck_assert_int_eq(libssh2_poll(&f, 1, ms), 0);
}

START_TEST(queue_limit)
{
	int fd, bound = 0, a, b, rc;
	LIBSSH2_SESSION *s = integ_start(&fd);
	LIBSSH2_LISTENER *l;
	LIBSSH2_CHANNEL *c;
	LIBSSH2_POLLFD f = {.type = LIBSSH2_POLLFD_LISTENER};
	char buf[16];

	l = libssh2_channel_forward_listen_ex(s, "127.0.0.1", 0, &bound, 1);
	ck_assert_ptr_nonnull(l);
	f.fd.listener = l;
	f.events = LIBSSH2_POLLFD_POLLIN;
	/* nothing waits: poll times out */
	ck_assert_int_eq(libssh2_poll(&f, 1, 200), 0);
	ck_assert_uint_eq(f.revents, 0);
	a = tcp_to(bound);
	ck_assert_int_ge(a, 0);
	/* the forwarded open arrives: the listener is readable */
	rc = libssh2_poll(&f, 1, 10000);
	ck_assert_int_eq(rc, 1);
	ck_assert_uint_eq(f.revents, LIBSSH2_POLLFD_POLLIN);
	/* a second one finds the queue (of 1) full: refused, the server
	 * closes that client */
	b = tcp_to(bound);
	ck_assert_int_ge(b, 0);
	pump_for(l, 500);
	ck_assert_msg(sock_closed(b), "the connection beyond the queue "
				      "was not refused");
	close(b);
	/* the first is still there */
	c = libssh2_channel_forward_accept(l);
	ck_assert_ptr_nonnull(c);
	ck_assert_int_eq(write(a, "q", 1), 1);
	ck_assert_int_eq(libssh2_channel_read(c, buf, sizeof(buf)), 1);
	ck_assert_int_eq(buf[0], 'q');
	close(a);
	ck_assert_int_eq(libssh2_channel_free(c), 0);
	/* cancelled with a connection queued: it is refused too */
	a = tcp_to(bound);
	ck_assert_int_ge(a, 0);
	ck_assert_int_eq(libssh2_poll(&f, 1, 10000), 1);
	ck_assert_int_eq(libssh2_channel_forward_cancel(l), 0);
	ck_assert(sock_closed(a));
	close(a);
	integ_finish(s, fd);
}
END_TEST

/* Listeners (one with a connection queued) left for session_free to
 * free: nothing leaks (valgrind). */
START_TEST(session_free_frees_listeners)
{
	int fd, bound = 0, a;
	LIBSSH2_SESSION *s = integ_start(&fd);
	LIBSSH2_LISTENER *l;
	LIBSSH2_POLLFD f = {.type = LIBSSH2_POLLFD_LISTENER};

	l = libssh2_channel_forward_listen_ex(s, "127.0.0.1", 0, &bound, 8);
	ck_assert_ptr_nonnull(l);
	ck_assert_ptr_nonnull(
		libssh2_channel_forward_listen_ex(s, "127.0.0.1", 0, NULL, 0));
	a = tcp_to(bound);
	ck_assert_int_ge(a, 0);
	f.fd.listener = l;
	f.events = LIBSSH2_POLLFD_POLLIN;
	ck_assert_int_eq(libssh2_poll(&f, 1, 10000), 1);
	integ_finish(s, fd);
	close(a);
}
END_TEST

/* ---- libssh2_poll on channels and sockets -------------------------------- */

START_TEST(poll_channels_and_sockets)
{
	int fd, p[2];
	LIBSSH2_SESSION *s = integ_start(&fd);
	LIBSSH2_CHANNEL *c = integ_exec(s, "sleep 0.5; echo out; echo err >&2");
	LIBSSH2_POLLFD f[2];
	char buf[64];

	memset(f, 0, sizeof(f));
	f[0].type = LIBSSH2_POLLFD_CHANNEL;
	f[0].fd.channel = c;
	f[0].events = LIBSSH2_POLLFD_POLLIN;
	/* the command is asleep: nothing to read yet, but room to write */
	ck_assert_int_eq(libssh2_poll(f, 1, 100), 0);
	f[0].events = LIBSSH2_POLLFD_POLLIN | LIBSSH2_POLLFD_POLLOUT;
	ck_assert_int_eq(libssh2_poll(f, 1, 100), 1);
	ck_assert_uint_eq(f[0].revents, LIBSSH2_POLLFD_POLLOUT);
	/* then stdout and stderr arrive */
	f[0].events = LIBSSH2_POLLFD_POLLIN | LIBSSH2_POLLFD_POLLEXT;
	while (!(f[0].revents & LIBSSH2_POLLFD_POLLEXT))
		ck_assert_int_eq(libssh2_poll(f, 1, 10000), 1);
	ck_assert(f[0].revents & LIBSSH2_POLLFD_POLLIN);
	ck_assert_int_eq(libssh2_channel_read(c, buf, sizeof(buf)), 4);
	ck_assert_int_eq(libssh2_channel_read_stderr(c, buf, sizeof(buf)), 4);
	/* at the end: closed (EOF alone is not POLLIN, as in libssh2) */
	while (!(f[0].revents & LIBSSH2_POLLFD_CHANNEL_CLOSED))
		ck_assert_int_eq(libssh2_poll(f, 1, 10000), 1);
	ck_assert_int_eq(libssh2_channel_read(c, buf, sizeof(buf)), 0);

	/* a plain socket next to a channel */
	ck_assert_int_eq(pipe(p), 0);
	f[1].type = LIBSSH2_POLLFD_SOCKET;
	f[1].fd.socket = p[0];
	f[1].events = LIBSSH2_POLLFD_POLLIN;
	f[0].events = 0; /* only CHANNEL_CLOSED can show */
	ck_assert_int_eq(write(p[1], "z", 1), 1);
	ck_assert_int_eq(libssh2_poll(f, 2, 1000), 2);
	ck_assert_uint_eq(f[1].revents, LIBSSH2_POLLFD_POLLIN);
	close(p[0]);
	close(p[1]);
	/* an unknown entry type */
	f[1].type = 99;
	ck_assert_int_eq(libssh2_poll(f, 2, 0), -1);
	ck_assert_int_eq(libssh2_session_last_errno(s),
			 LIBSSH2_ERROR_INVALID_POLL_TYPE);
	ck_assert_int_eq(integ_close(c), 0);
	integ_finish(s, fd);
}
END_TEST

/* EOF long before the close (the command closes its output and sleeps):
 * POLLIN is not set by the EOF, as in libssh2 1.11.1 (its poll asks
 * libssh2_poll_channel_read, which looks for data only), so a loop
 * polling for input waits instead of spinning; the close then shows. */
START_TEST(poll_eof_is_not_input)
{
	int fd;
	LIBSSH2_SESSION *s = integ_start(&fd);
	LIBSSH2_CHANNEL *c = integ_exec(s, "echo x; exec >&- 2>&-; sleep 3");
	LIBSSH2_POLLFD f;
	char buf[16];
	time_t t0;

	memset(&f, 0, sizeof(f));
	f.type = LIBSSH2_POLLFD_CHANNEL;
	f.fd.channel = c;
	f.events = LIBSSH2_POLLFD_POLLIN;
	ck_assert_int_eq(libssh2_poll(&f, 1, 10000), 1);
	ck_assert_uint_eq(f.revents, LIBSSH2_POLLFD_POLLIN);
	ck_assert_int_eq(libssh2_channel_read(c, buf, sizeof(buf)), 2);
	ck_assert_int_eq(libssh2_channel_wait_eof(c), 0);
	ck_assert_int_eq(libssh2_channel_eof(c), 1);
	t0 = time(NULL);
	ck_assert_int_eq(libssh2_poll(&f, 1, 1000), 0);
	ck_assert_int_ge(time(NULL) - t0, 1);
	ck_assert_int_eq(libssh2_poll(&f, 1, 10000), 1);
	ck_assert_uint_eq(f.revents, LIBSSH2_POLLFD_CHANNEL_CLOSED);
	ck_assert_int_eq(integ_close(c), 0);
	integ_finish(s, fd);
}
END_TEST

/* The connection dies under an open channel: its entry shows
 * SESSION_CLOSED and CHANNEL_CLOSED together (libssh2 1.11.1's
 * libssh2_poll sets both for a disconnected session), asked or not. */
START_TEST(poll_session_died)
{
	int fd;
	LIBSSH2_SESSION *s = integ_start(&fd);
	LIBSSH2_CHANNEL *c = integ_exec(s, "sleep 30");
	LIBSSH2_POLLFD f;
	int i;

	memset(&f, 0, sizeof(f));
	f.type = LIBSSH2_POLLFD_CHANNEL;
	f.fd.channel = c;
	f.events = LIBSSH2_POLLFD_POLLIN;
	ck_assert_int_eq(libssh2_poll(&f, 1, 100), 0);
	ck_assert_int_eq(shutdown(fd, SHUT_RDWR), 0);
	for (i = 0; i < 50 && !(f.revents & LIBSSH2_POLLFD_SESSION_CLOSED);
	     i++)
		ck_assert_int_ge(libssh2_poll(&f, 1, 200), 0);
	ck_assert_msg(f.revents & LIBSSH2_POLLFD_SESSION_CLOSED,
		      "revents %#lx", f.revents);
	ck_assert_msg(f.revents & LIBSSH2_POLLFD_CHANNEL_CLOSED,
		      "revents %#lx", f.revents);
	ck_assert_int_eq(libssh2_channel_free(c), 0);
	ck_assert_int_eq(libssh2_session_free(s), 0);
	close(fd);
}
END_TEST

int main(void)
{
	Suite *su = suite_create("forward");
	TCase *tc = tcase_create("sshd");
	SRunner *sr;
	int failed;

	integ_env("SFTPMNT_TEST_PORT");
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, listen_accept_cancel);
	tcase_add_test(tc, listen_fixed_port_and_refusals);
	tcase_add_test(tc, accept_nonblocking);
	tcase_add_test(tc, keepalive_while_listening);
	tcase_add_test(tc, queue_limit);
	tcase_add_test(tc, session_free_frees_listeners);
	tcase_add_test(tc, poll_channels_and_sockets);
	tcase_add_test(tc, poll_eof_is_not_input);
	tcase_add_test(tc, poll_session_died);
	suite_add_tcase(su, tc);
	sr = srunner_create(su);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
