/*
 * test_banner.c - TCP connect and identification exchange with the real
 * test sshd, in blocking and non-blocking mode; a silent server times
 * out and a server that hangs up gives a clear error.
 */
#include <arpa/inet.h>
#include <check.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "libssh2.h"
#include "session.h"

#include "integ.h"

START_TEST(blocking_exchange)
{
	LIBSSH2_SESSION *s = libssh2_session_init();
	int fd = integ_connect(0);

	ck_assert_ptr_nonnull(s);
	ck_assert_ptr_null(libssh2_session_banner_get(s));
	ck_assert_int_eq(sess_attach_socket(s, fd), 0);
	ck_assert_int_eq(SESS_BLOCK(s, sess_banner_step(s)), 0);
	ck_assert_ptr_nonnull(libssh2_session_banner_get(s));
	ck_assert_msg(!strncmp(libssh2_session_banner_get(s),
			       "SSH-2.0-OpenSSH_", 16),
		      "banner %s", libssh2_session_banner_get(s));
	libssh2_session_free(s);
	close(fd);
}
END_TEST

START_TEST(nonblocking_exchange)
{
	LIBSSH2_SESSION *s = libssh2_session_init();
	int fd = integ_connect(0), rc, loops = 0;

	libssh2_session_set_blocking(s, 0);
	ck_assert_int_eq(libssh2_session_banner_set(s, "SSH-2.0-sftpmnt_test"),
			 0);
	ck_assert_int_eq(sess_attach_socket(s, fd), 0);
	while ((rc = sess_banner_step(s)) == LIBSSH2_ERROR_EAGAIN) {
		struct pollfd p = { .fd = fd };
		int dirs = libssh2_session_block_directions(s);

		ck_assert_int_ne(dirs, 0);
		if (dirs & LIBSSH2_SESSION_BLOCK_INBOUND)
			p.events |= POLLIN;
		if (dirs & LIBSSH2_SESSION_BLOCK_OUTBOUND)
			p.events |= POLLOUT;
		ck_assert_int_eq(poll(&p, 1, 10000), 1);
		ck_assert_int_lt(++loops, 1000);
	}
	ck_assert_int_eq(rc, 0);
	ck_assert(!strncmp(libssh2_session_banner_get(s), "SSH-2.0-", 8));
	libssh2_session_free(s);
	close(fd);
}
END_TEST

/* A local listener standing in for a broken server. */
static int listener(int *port)
{
	struct sockaddr_in sin = { .sin_family = AF_INET };
	socklen_t len = sizeof(sin);
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	ck_assert_int_eq(bind(fd, (struct sockaddr *)&sin, sizeof(sin)), 0);
	ck_assert_int_eq(listen(fd, 4), 0);
	ck_assert_int_eq(getsockname(fd, (struct sockaddr *)&sin, &len), 0);
	*port = ntohs(sin.sin_port);
	return fd;
}

START_TEST(silent_server_times_out)
{
	LIBSSH2_SESSION *s = libssh2_session_init();
	int port, lfd = listener(&port), fd = integ_connect(port);
	int64_t t0;
	char *msg;
	int len;

	libssh2_session_set_timeout(s, 300);
	ck_assert_int_eq(libssh2_session_get_timeout(s), 300);
	ck_assert_int_eq(sess_attach_socket(s, fd), 0);
	t0 = sess_now_ms();
	ck_assert_int_eq(SESS_BLOCK(s, sess_banner_step(s)),
			 LIBSSH2_ERROR_TIMEOUT);
	ck_assert_int_ge(sess_now_ms() - t0, 290);
	ck_assert_int_lt(sess_now_ms() - t0, 5000);
	ck_assert_int_eq(libssh2_session_last_error(s, &msg, &len, 0),
			 LIBSSH2_ERROR_TIMEOUT);
	ck_assert_int_gt(len, 0);
	libssh2_session_free(s);
	close(fd);
	close(lfd);
}
END_TEST

START_TEST(hangup_and_garbage)
{
	LIBSSH2_SESSION *s = libssh2_session_init();
	int port, lfd = listener(&port), fd = integ_connect(port), c;
	char *msg = NULL;

	c = accept(lfd, NULL, NULL);
	ck_assert_int_ge(c, 0);
	ck_assert_int_eq(write(c, "HTTP/1.0 400 nope\r\n", 19), 19);
	close(c);
	ck_assert_int_eq(sess_attach_socket(s, fd), 0);
	ck_assert_int_eq(SESS_BLOCK(s, sess_banner_step(s)),
			 LIBSSH2_ERROR_BANNER_RECV);
	ck_assert_int_eq(libssh2_session_last_error(s, &msg, NULL, 1),
			 LIBSSH2_ERROR_BANNER_RECV);
	ck_assert_ptr_nonnull(msg);
	ck_assert_ptr_nonnull(strstr(msg, "closed"));
	libssh2_free(s, msg);
	libssh2_session_free(s);
	close(fd);

	s = libssh2_session_init();
	fd = integ_connect(port);
	c = accept(lfd, NULL, NULL);
	ck_assert_int_eq(write(c, "SSH-1.5-old\r\n", 13), 13);
	ck_assert_int_eq(sess_attach_socket(s, fd), 0);
	ck_assert_int_eq(SESS_BLOCK(s, sess_banner_step(s)),
			 LIBSSH2_ERROR_BANNER_RECV);
	close(c);
	libssh2_session_free(s);
	close(fd);
	close(lfd);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("banner");
	TCase *tc = tcase_create("sshd");
	SRunner *sr;
	int failed;

	integ_env("SFTPMNT_TEST_PORT");
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, blocking_exchange);
	tcase_add_test(tc, nonblocking_exchange);
	tcase_add_test(tc, silent_server_times_out);
	tcase_add_test(tc, hangup_and_garbage);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
