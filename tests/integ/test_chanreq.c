/*
 * test_chanreq.c - the channel requests beyond exec/env against the real
 * test sshd, through the public API: a pseudo-terminal (tty, size,
 * terminal modes) and its window-change; pty + env + shell (and shell
 * without a pty); signal; agent and X11
 * forwarding requests (agent refused: sshd restarted without it);
 * receive_window_adjust(2) return values; and
 * libssh2_trace with a handler.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "libssh2.h"
#include "libssh2_sftp.h"

#include "integ.h"
#include "integ_ssh.h"

/* Read stdout until needle appears (or EOF); the text read so far. */
static size_t read_until(LIBSSH2_CHANNEL *c, char *buf, size_t cap, size_t got,
			 const char *needle)
{
	ssize_t n;

	buf[got] = 0;
	while (!strstr(buf, needle)) {
		n = libssh2_channel_read(c, buf + got, cap - 1 - got);
		ck_assert_msg(n > 0,
			      "read while waiting for \"%s\": %zd "
			      "(have \"%s\")",
			      needle, n, buf);
		got += (size_t)n;
		ck_assert_uint_lt(got, cap - 1);
		buf[got] = 0;
	}
	return got;
}

/* ---- pseudo-terminal ----------------------------------------------------- */

/* pty-req (RFC 4254 6.2): the command runs on a /dev/pts terminal of the
 * size asked for; window-change (6.7) resizes it. */
START_TEST(pty_tty_size_and_window_change)
{
	int fd;
	LIBSSH2_SESSION *s = integ_start(&fd);
	LIBSSH2_CHANNEL *c = libssh2_channel_open_session(s);
	char buf[4096];
	size_t got;
	int rc;

	ck_assert_ptr_nonnull(c);
	rc = libssh2_channel_request_pty_ex(c, "xterm", 5, NULL, 0, 100, 40, 0,
					    0);
	ck_assert_msg(rc == 0, "pty-req: %d %s", rc, integ_errmsg(s));
	ck_assert_int_eq(libssh2_channel_exec(c, "tty; stty size; read x; "
						 "echo resized; stty size"),
			 0);
	got = read_until(c, buf, sizeof(buf), 0, "40 100");
	ck_assert_msg(strstr(buf, "/dev/pts/") != NULL, "tty said: %s", buf);
	/* no reply is wanted: the size applies before the line we send */
	rc = libssh2_channel_request_pty_size(c, 120, 50);
	ck_assert_msg(rc == 0, "window-change: %d %s", rc, integ_errmsg(s));
	ck_assert_int_eq(libssh2_channel_write(c, "\n", 1), 1);
	got = read_until(c, buf, sizeof(buf), got, "resized");
	read_until(c, buf, sizeof(buf), got, "50 120");
	ck_assert_int_eq(integ_close(c), 0);

	/* the macro: 80x24, the server's default modes (echo on) */
	c = libssh2_channel_open_session(s);
	ck_assert_ptr_nonnull(c);
	ck_assert_int_eq(libssh2_channel_request_pty(c, "vt100"), 0);
	ck_assert_int_eq(libssh2_channel_exec(c, "stty -a; stty size"), 0);
	integ_read_all(c, 0, buf, sizeof(buf));
	ck_assert_msg(strstr(buf, "24 80") != NULL, "stty: %s", buf);
	ck_assert_msg(strstr(buf, " echo ") != NULL, "stty: %s", buf);
	ck_assert_int_eq(integ_close(c), 0);
	integ_finish(s, fd);
}
END_TEST

/* pty + env + shell (RFC 4254 6.2, 6.4, 6.5): the login shell runs on
 * the terminal with the variable set (AcceptEnv SFTPMNT_* in the
 * fixture), reads the commands we type and exits with their status;
 * then process_startup itself with "shell" and no message. */
START_TEST(pty_env_shell)
{
	int fd, rc;
	LIBSSH2_SESSION *s = integ_start(&fd);
	LIBSSH2_CHANNEL *c = libssh2_channel_open_session(s);
	static const char cmds[] = "echo \"[$SFTPMNT_SH]\"; tty; exit 7\n";
	char buf[16384];
	size_t got;
	ssize_t n;

	ck_assert_ptr_nonnull(c);
	rc = libssh2_channel_setenv(c, "SFTPMNT_SH", "shell env");
	ck_assert_msg(rc == 0, "env: %d %s", rc, integ_errmsg(s));
	ck_assert_int_eq(libssh2_channel_request_pty(c, "dumb"), 0);
	rc = libssh2_channel_shell(c);
	ck_assert_msg(rc == 0, "shell: %d %s", rc, integ_errmsg(s));
	ck_assert_int_eq(libssh2_channel_write(c, cmds, sizeof(cmds) - 1),
			 (ssize_t)sizeof(cmds) - 1);
	/* the terminal echoes the line; the output follows it */
	got = read_until(c, buf, sizeof(buf), 0, "[shell env]");
	got = read_until(c, buf, sizeof(buf), got, "/dev/pts/");
	/* to the shell's exit: its status comes before the server's EOF */
	while ((n = libssh2_channel_read(c, buf + got, sizeof(buf) - 1 - got)) >
	       0) {
		got += (size_t)n;
		ck_assert_uint_lt(got, sizeof(buf) - 1);
	}
	ck_assert_int_eq(n, 0);
	ck_assert_int_eq(integ_close(c), 7);

	/* no pty: the shell reads stdin to its EOF */
	c = libssh2_channel_open_session(s);
	ck_assert_ptr_nonnull(c);
	{
		/* a request name of any length goes to the server, as in
		 * libssh2; sshd refuses one it does not know, and the
		 * channel goes on */
		char name[100];

		memset(name, 'x', sizeof(name));
		rc = libssh2_channel_process_startup(c, name, sizeof(name),
						     "m", 1);
		ck_assert_msg(rc == LIBSSH2_ERROR_CHANNEL_REQUEST_DENIED,
			      "100-byte request: %d %s", rc, integ_errmsg(s));
	}
	ck_assert_int_eq(
		libssh2_channel_process_startup(c, "shell", 5, NULL, 0), 0);
	ck_assert_int_eq(libssh2_channel_write(c, "echo plain; exit 3\n", 19),
			 19);
	ck_assert_int_eq(libssh2_channel_send_eof(c), 0);
	integ_read_all(c, 0, buf, sizeof(buf));
	ck_assert_str_eq(buf, "plain\n");
	ck_assert_int_eq(integ_close(c), 3);
	integ_finish(s, fd);
}
END_TEST

/* RFC 4254 8: encoded terminal modes reach the terminal (ECHO = 53 set
 * to 0, then TTY_OP_END). */
START_TEST(pty_modes)
{
	static const char modes[] = {53, 0, 0, 0, 0, 0};
	int fd, rc;
	LIBSSH2_SESSION *s = integ_start(&fd);
	LIBSSH2_CHANNEL *c = libssh2_channel_open_session(s);
	char buf[4096];

	ck_assert_ptr_nonnull(c);
	rc = libssh2_channel_request_pty_ex(c, "vt100", 5, modes, sizeof(modes),
					    80, 24, 640, 480);
	ck_assert_msg(rc == 0, "pty-req: %d %s", rc, integ_errmsg(s));
	ck_assert_int_eq(libssh2_channel_exec(c, "stty -a"), 0);
	integ_read_all(c, 0, buf, sizeof(buf));
	ck_assert_msg(strstr(buf, " -echo ") != NULL, "stty -a: %s", buf);
	ck_assert_int_eq(integ_close(c), 0);

	/* bad arguments are refused before anything is sent */
	c = libssh2_channel_open_session(s);
	ck_assert_ptr_nonnull(c);
	ck_assert_int_eq(libssh2_channel_request_pty_ex(c, "vt100", 5, NULL, 0,
							-1, 24, 0, 0),
			 LIBSSH2_ERROR_INVAL);
	ck_assert_int_eq(libssh2_channel_request_pty_size_ex(c, 80, -2, 0, 0),
			 LIBSSH2_ERROR_INVAL);
	ck_assert_int_eq(libssh2_channel_request_pty_ex(NULL, "vt100", 5, NULL,
							0, 80, 24, 0, 0),
			 LIBSSH2_ERROR_BAD_USE);
	ck_assert_int_eq(libssh2_channel_free(c), 0);
	integ_finish(s, fd);
}
END_TEST

/* ---- signal (RFC 4254 6.9; OpenSSH since 7.9) ---------------------------- */

/* Does the fixture's sshd log contain text (after `from` bytes)? */
static int log_has(const char *text, long from)
{
	char path[4096], line[4096];
	FILE *f;
	int found = 0;

	snprintf(path, sizeof(path), "%s/sshd.log",
		 integ_env("SFTPMNT_FIXTURE_DIR"));
	f = fopen(path, "r");
	if (!f)
		return 0;
	fseek(f, from, SEEK_SET);
	while (!found && fgets(line, sizeof(line), f))
		found = strstr(line, text) != NULL;
	fclose(f);
	return found;
}

static long log_size(void)
{
	char path[4096];
	FILE *f;
	long n;

	snprintf(path, sizeof(path), "%s/sshd.log",
		 integ_env("SFTPMNT_FIXTURE_DIR"));
	f = fopen(path, "r");
	if (!f)
		return 0;
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	fclose(f);
	return n;
}

/* Wait (5 s at most) until the sshd log says text. */
static int log_wait(const char *text, long from)
{
	int i;

	for (i = 0; i < 500 && !log_has(text, from); i++)
		usleep(10000);
	return log_has(text, from);
}

/*
 * OpenSSH delivers "signal" only from a privilege-separated session
 * child, and a root login has none (session.c session_signal_req: "session
 * signalling requires privilege separation").  As root, the fixture's
 * sshd log proves the request arrived well-formed (its name parsed and
 * known, nothing after it: that check comes first); as anyone else the
 * command must die of the signal.
 */
static void signal_case(LIBSSH2_SESSION *s, const char *name, size_t len,
			const char *want, int root)
{
	LIBSSH2_CHANNEL *c = integ_exec(s, root ? "sleep 1" : "sleep 100");
	char buf[64], *sig = NULL;
	size_t siglen = 0;
	long from = log_size();
	int rc;

	rc = libssh2_channel_signal_ex(c, name, len);
	ck_assert_msg(rc == 0, "signal: %d %s", rc, integ_errmsg(s));
	if (root)
		ck_assert_msg(log_wait("session signalling requires privilege "
				       "separation",
				       from),
			      "sshd did not log the signal %s", want);
	integ_read_all(c, 0, buf, sizeof(buf));
	ck_assert_int_eq(libssh2_channel_close(c), 0);
	ck_assert_int_eq(libssh2_channel_wait_closed(c), 0);
	ck_assert_int_eq(libssh2_channel_get_exit_signal(c, &sig, &siglen, NULL,
							 NULL, NULL, NULL),
			 0);
	if (!root) {
		ck_assert_ptr_nonnull(sig);
		ck_assert_str_eq(sig, want);
	}
	libssh2_free(s, sig);
	ck_assert_int_eq(libssh2_channel_free(c), 0);
}

START_TEST(signal_term)
{
	int fd, root = !strcmp(integ_env("SFTPMNT_TEST_USER"), "root");
	LIBSSH2_SESSION *s = integ_start(&fd);
	LIBSSH2_CHANNEL *c;
	long from;

	signal_case(s, "TERM", 4, "TERM", root);
	/* the macro, and signal_ex with a length shorter than the string */
	signal_case(s, "KILLxyz", 4, "KILL", root);
	/* a name OpenSSH does not know: logged and ignored */
	c = integ_exec(s, "sleep 1");
	from = log_size();
	ck_assert_int_eq(libssh2_channel_signal(c, "NOSUCHSIG"), 0);
	ck_assert(log_wait("unsupported signal \"NOSUCHSIG\"", from));
	ck_assert_int_eq(integ_close(c), 0);
	/* arguments checked before anything is sent */
	c = libssh2_channel_open_session(s);
	ck_assert_ptr_nonnull(c);
	ck_assert_int_eq(libssh2_channel_signal_ex(c, "", 0),
			 LIBSSH2_ERROR_INVAL);
	ck_assert_int_eq(libssh2_channel_free(c), 0);
	ck_assert_int_eq(libssh2_channel_signal_ex(NULL, "TERM", 4),
			 LIBSSH2_ERROR_BAD_USE);
	integ_finish(s, fd);
}
END_TEST

/* ---- agent and X11 requests ---------------------------------------------- */

START_TEST(agent_and_x11_requests)
{
	int fd, rc;
	LIBSSH2_SESSION *s = integ_start(&fd);
	LIBSSH2_CHANNEL *c = libssh2_channel_open_session(s);
	char buf[1024];

	ck_assert_ptr_nonnull(c);
	/* AllowAgentForwarding is on by default: the command gets a socket */
	rc = libssh2_channel_request_auth_agent(c);
	ck_assert_msg(rc == 0, "auth-agent-req: %d %s", rc, integ_errmsg(s));
	/* X11Forwarding is off by default: refused, the channel goes on */
	rc = libssh2_channel_x11_req(c, 0);
	ck_assert_msg(rc == LIBSSH2_ERROR_CHANNEL_REQUEST_DENIED,
		      "x11-req: %d %s", rc, integ_errmsg(s));
	rc = libssh2_channel_x11_req_ex(c, 1, "MIT-MAGIC-COOKIE-1",
					"0123456789abcdef0123456789abcdef", 3);
	ck_assert_int_eq(rc, LIBSSH2_ERROR_CHANNEL_REQUEST_DENIED);
	ck_assert_int_eq(libssh2_channel_exec(c, "echo \"[$SSH_AUTH_SOCK]\""),
			 0);
	integ_read_all(c, 0, buf, sizeof(buf));
	ck_assert_msg(strncmp(buf, "[/", 2) == 0, "SSH_AUTH_SOCK: %s", buf);
	ck_assert_int_eq(integ_close(c), 0);
	integ_finish(s, fd);
}
END_TEST

/* AllowAgentForwarding off: sshd refuses both names, and the call says
 * LIBSSH2_ERROR_CHANNEL_REQUEST_DENIED as libssh2 1.11.1 does (its
 * channel_request_auth_agent); the channel goes on. */
START_TEST(agent_refused)
{
	int fd, rc;
	LIBSSH2_SESSION *s;
	LIBSSH2_CHANNEL *c;
	char buf[256];

	ck_assert_int_eq(integ_sh("'%s' restart '%s' AllowAgentForwarding=no",
				  integ_env("SFTPMNT_FIXTURE"),
				  integ_env("SFTPMNT_FIXTURE_DIR")),
			 0);
	s = integ_start(&fd);
	c = libssh2_channel_open_session(s);
	ck_assert_ptr_nonnull(c);
	rc = libssh2_channel_request_auth_agent(c);
	ck_assert_msg(rc == LIBSSH2_ERROR_CHANNEL_REQUEST_DENIED,
		      "auth-agent-req refused: %d %s", rc, integ_errmsg(s));
	ck_assert_int_eq(libssh2_session_last_errno(s),
			 LIBSSH2_ERROR_CHANNEL_REQUEST_DENIED);
	ck_assert_int_eq(libssh2_channel_exec(c, "echo \"[$SSH_AUTH_SOCK]\""),
			 0);
	integ_read_all(c, 0, buf, sizeof(buf));
	ck_assert_str_eq(buf, "[]\n");
	ck_assert_int_eq(integ_close(c), 0);
	integ_finish(s, fd);
	ck_assert_int_eq(integ_sh("'%s' restart '%s'",
				  integ_env("SFTPMNT_FIXTURE"),
				  integ_env("SFTPMNT_FIXTURE_DIR")),
			 0);
}
END_TEST

/* ---- receive window ------------------------------------------------------ */

START_TEST(receive_window_adjust)
{
	int fd;
	LIBSSH2_SESSION *s = integ_start(&fd);
	LIBSSH2_CHANNEL *c = libssh2_channel_open_session(s);
	unsigned long w0, avail = 1, init = 0;
	unsigned int w = 0;
	static char buf[65536];
	size_t total = 0;
	ssize_t n;

	ck_assert_ptr_nonnull(c);
	w0 = libssh2_channel_window_read_ex(c, &avail, &init);
	ck_assert_uint_eq(avail, 0);
	ck_assert_uint_eq(w0, LIBSSH2_CHANNEL_WINDOW_DEFAULT);
	/* below LIBSSH2_CHANNEL_MINADJUST without force: kept for later */
	ck_assert_int_eq(libssh2_channel_receive_window_adjust2(c, 100, 0, &w),
			 0);
	ck_assert_uint_eq(w, w0);
	/* 100 + 1000 >= 1024: sent, both */
	ck_assert_int_eq(libssh2_channel_receive_window_adjust2(c, 1000, 0, &w),
			 0);
	ck_assert_uint_eq(w, w0 + 1100);
	/* forced: sent however small; the old call returns the window */
	ck_assert_uint_eq(libssh2_channel_receive_window_adjust(c, 5, 1),
			  w0 + 1105);
	ck_assert_uint_eq(libssh2_channel_window_read(c), w0 + 1105);
	/* nothing to send */
	ck_assert_int_eq(libssh2_channel_receive_window_adjust2(c, 0, 1, &w),
			 0);
	ck_assert_uint_eq(w, w0 + 1105);
	ck_assert_uint_eq(libssh2_channel_receive_window_adjust(NULL, 5, 1),
			  (unsigned long)LIBSSH2_ERROR_BAD_USE);
	/* the server takes the larger window as given, and data flows */
	ck_assert_int_eq(libssh2_channel_exec(c, "head -c 5000000 /dev/zero"),
			 0);
	while ((n = libssh2_channel_read(c, buf, sizeof(buf))) > 0)
		total += (size_t)n;
	ck_assert_int_eq(n, 0);
	ck_assert_uint_eq(total, 5000000);
	ck_assert_int_eq(integ_close(c), 0);
	integ_finish(s, fd);
}
END_TEST

/* ---- libssh2_trace ------------------------------------------------------- */

struct trace_log {
	int lines, bad, trans, kex, auth, conn, error, sock, sftp;
	int after_off;
	int off;
};

static void on_trace(LIBSSH2_SESSION *s, void *ctx, const char *line,
		     size_t len)
{
	struct trace_log *t = ctx;
	char copy[1100];

	(void)s;
	t->lines++;
	if (t->off)
		t->after_off++;
	if (len >= sizeof(copy) || strncmp(line, "[libssh2] ", 10)) {
		t->bad++;
		return;
	}
	memcpy(copy, line, len);
	copy[len] = 0;
	t->trans += strstr(copy, " Transport: ") != NULL;
	t->kex += strstr(copy, " Kex: ") != NULL;
	t->auth += strstr(copy, " Userauth: ") != NULL;
	t->conn += strstr(copy, " Conn: ") != NULL;
	t->error += strstr(copy, " Error: ") != NULL;
	t->sock += strstr(copy, " Socket: ") != NULL;
	t->sftp += strstr(copy, " SFTP: ") != NULL;
}

START_TEST(trace_handler)
{
	struct trace_log t = {0};
	LIBSSH2_SESSION *s = libssh2_session_init();
	LIBSSH2_CHANNEL *c;
	LIBSSH2_SFTP *sftp;
	char buf[4096];
	int fd, rc;

	ck_assert_ptr_nonnull(s);
	/* a mask without a handler prints nothing anywhere */
	ck_assert_int_eq(libssh2_trace(s, ~0), 0);
	ck_assert_int_eq(libssh2_trace_sethandler(s, &t, on_trace), 0);
	ck_assert_int_eq(libssh2_trace(s, LIBSSH2_TRACE_TRANS |
						  LIBSSH2_TRACE_KEX |
						  LIBSSH2_TRACE_AUTH |
						  LIBSSH2_TRACE_CONN |
						  LIBSSH2_TRACE_ERROR),
			 0);
	fd = integ_connect(0);
	ck_assert_int_eq(libssh2_session_handshake(s, fd), 0);
	ck_assert_int_gt(t.kex, 0);
	ck_assert_int_gt(t.trans, 0);
	rc = libssh2_userauth_publickey_fromfile(
		s, integ_env("SFTPMNT_TEST_USER"), NULL,
		integ_env("SFTPMNT_TEST_KEY"), NULL);
	ck_assert_int_eq(rc, 0);
	ck_assert_int_gt(t.auth, 0);
	c = integ_exec(s, "echo x");
	integ_read_all(c, 0, buf, sizeof(buf));
	ck_assert_int_eq(integ_close(c), 0);
	ck_assert_int_gt(t.conn, 0);
	/* errors are traced too */
	c = libssh2_channel_open_session(s);
	ck_assert_ptr_nonnull(c);
	ck_assert_int_eq(libssh2_channel_subsystem(c, "no-such-subsys"),
			 LIBSSH2_ERROR_CHANNEL_REQUEST_DENIED);
	ck_assert_int_gt(t.error, 0);
	ck_assert_int_eq(libssh2_channel_free(c), 0);
	/* SFTP requests and replies */
	ck_assert_int_eq(libssh2_trace(s, LIBSSH2_TRACE_SFTP), 0);
	sftp = libssh2_sftp_init(s);
	ck_assert_ptr_nonnull(sftp);
	ck_assert_int_gt(libssh2_sftp_realpath(sftp, ".", buf, sizeof(buf)), 0);
	ck_assert_int_ge(t.sftp, 2);
	ck_assert_int_eq(libssh2_sftp_shutdown(sftp), 0);
	/* categories not asked for stay quiet */
	ck_assert_int_eq(t.sock, 0);
	ck_assert_int_eq(t.bad, 0);
	/* mask 0: silence */
	ck_assert_int_eq(libssh2_trace(s, 0), 0);
	t.off = 1;
	c = integ_exec(s, "echo y");
	integ_read_all(c, 0, buf, sizeof(buf));
	ck_assert_int_eq(integ_close(c), 0);
	ck_assert_int_eq(t.after_off, 0);
	/* no handler: silence as well, whatever the mask */
	ck_assert_int_eq(libssh2_trace_sethandler(s, NULL, NULL), 0);
	ck_assert_int_eq(libssh2_trace(s, ~0), 0);
	c = integ_exec(s, "echo z");
	integ_read_all(c, 0, buf, sizeof(buf));
	ck_assert_int_eq(integ_close(c), 0);
	ck_assert_int_eq(t.after_off, 0);
	ck_assert_int_eq(libssh2_trace(NULL, 0), LIBSSH2_ERROR_BAD_USE);
	integ_finish(s, fd);
}
END_TEST

int main(void)
{
	Suite *su = suite_create("chanreq");
	TCase *tc = tcase_create("sshd");
	SRunner *sr;
	int failed;

	integ_env("SFTPMNT_TEST_PORT");
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, pty_tty_size_and_window_change);
	tcase_add_test(tc, pty_modes);
	tcase_add_test(tc, pty_env_shell);
	tcase_add_test(tc, signal_term);
	tcase_add_test(tc, agent_and_x11_requests);
	tcase_add_test(tc, receive_window_adjust);
	tcase_add_test(tc, trace_handler);
	tcase_add_test(tc, agent_refused); /* last: restarts the sshd */
	suite_add_tcase(su, tc);
	sr = srunner_create(su);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
