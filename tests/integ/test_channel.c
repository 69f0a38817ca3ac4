/*
 * test_channel.c - session channels against the real test sshd, through
 * the public API only (libssh2.h): exec with stdout, stderr (separate,
 * merged, large), exit status and exit signal; 64 MiB through `cat`
 * blocking and in a non-blocking poll loop (16 MiB under valgrind);
 * sixteen channels on one session at once; environment variables
 * (AcceptEnv SFTPMNT_* in the fixture); the order of EOF and CLOSE; a
 * channel the server closes while we write; poll_channel_read, flush,
 * write_stderr and the old extended-data calls; direct-tcpip to an echo
 * server; requests and channel types the server refuses.
 */
#include <check.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "libssh2.h"

#include "integ.h"

/* ---- helpers ----------------------------------------------------------------
 */

static const char *errmsg(LIBSSH2_SESSION *s)
{
	char *m = NULL;

	libssh2_session_last_error(s, &m, NULL, 0);
	return m ? m : "(none)";
}

static LIBSSH2_SESSION *start(int *fd)
{
	LIBSSH2_SESSION *s = libssh2_session_init();
	const char *u = integ_env("SFTPMNT_TEST_USER");
	int rc;

	ck_assert_ptr_nonnull(s);
	libssh2_session_set_timeout(s, 30000);
	*fd = integ_connect(0);
	rc = libssh2_session_handshake(s, *fd);
	ck_assert_msg(rc == 0, "handshake: %d %s", rc, errmsg(s));
	rc = libssh2_userauth_publickey_fromfile(
		s, u, NULL, integ_env("SFTPMNT_TEST_KEY"), NULL);
	ck_assert_msg(rc == 0, "auth: %d %s", rc, errmsg(s));
	return s;
}

static void finish(LIBSSH2_SESSION *s, int fd)
{
	ck_assert_int_eq(libssh2_session_disconnect(s, "test done"), 0);
	ck_assert_int_eq(libssh2_session_free(s), 0);
	close(fd);
}

static LIBSSH2_CHANNEL *exec(LIBSSH2_SESSION *s, const char *cmd)
{
	LIBSSH2_CHANNEL *c = libssh2_channel_open_session(s);
	int rc;

	ck_assert_msg(c != NULL, "open_session: %s", errmsg(s));
	rc = libssh2_channel_exec(c, cmd);
	ck_assert_msg(rc == 0, "exec %s: %d %s", cmd, rc, errmsg(s));
	return c;
}

/* Everything of one stream up to EOF, NUL-terminated. */
static size_t read_all(LIBSSH2_CHANNEL *c, int stream, char *buf, size_t cap)
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

/* close, wait_closed and free; returns the exit status. */
static int close_channel(LIBSSH2_CHANNEL *c)
{
	int st;

	ck_assert_int_eq(libssh2_channel_close(c), 0);
	ck_assert_int_eq(libssh2_channel_wait_closed(c), 0);
	st = libssh2_channel_get_exit_status(c);
	ck_assert_int_eq(libssh2_channel_free(c), 0);
	return st;
}

static void fill(unsigned char *p, size_t n, uint64_t seed)
{
	uint64_t x = seed * 0x9e3779b97f4a7c15ull + 1;
	size_t i;

	for (i = 0; i < n; i++) {
		if ((i & 7) == 0) {
			x ^= x << 13;
			x ^= x >> 7;
			x ^= x << 17;
		}
		p[i] = (unsigned char)(x >> (8 * (i & 7)));
	}
}

static uint64_t fnv1a(const unsigned char *p, size_t n)
{
	uint64_t h = 0xcbf29ce484222325ull;

	while (n--)
		h = (h ^ *p++) * 0x100000001b3ull;
	return h;
}

static void wait_socket(LIBSSH2_SESSION *s, int fd, long *waits)
{
	struct pollfd p = {.fd = fd};
	int d = libssh2_session_block_directions(s);

	ck_assert_msg(d != 0, "EAGAIN without a block direction");
	p.events = (d & LIBSSH2_SESSION_BLOCK_INBOUND ? POLLIN : 0) |
		   (d & LIBSSH2_SESSION_BLOCK_OUTBOUND ? POLLOUT : 0);
	ck_assert_msg(poll(&p, 1, 10000) == 1, "poll timed out (dirs %d)", d);
	++*waits;
}

/* ---- exec, output, exit status ----------------------------------------------
 */

START_TEST(exec_echo)
{
	int fd;
	LIBSSH2_SESSION *s = start(&fd);
	LIBSSH2_CHANNEL *c = exec(s, "echo hi");
	char buf[256];

	ck_assert_uint_eq(read_all(c, 0, buf, sizeof(buf)), 3);
	ck_assert_str_eq(buf, "hi\n");
	ck_assert_int_eq(libssh2_channel_eof(c), 1);
	ck_assert_int_eq(close_channel(c), 0);
	finish(s, fd);
}
END_TEST

/* Keepalives counted through the trace handler: requests sent (80),
 * the server's refusals (82). */
static int ka_sent, ka_refused;

static void ka_trace(LIBSSH2_SESSION *s, void *ctx, const char *line,
		     size_t len)
{
	(void)s;
	(void)ctx;
	(void)len;
	if (strstr(line, "sending packet type 80 "))
		ka_sent++;
	if (strstr(line, "received packet type 82 "))
		ka_refused++;
}

/* As libssh2: a blocking call that waits on a quiet server sends the
 * keepalives that fall due (every 2 s here) without the application
 * calling libssh2_keepalive_send, and the server's answers (it knows
 * no keepalive@libssh2.org: REQUEST_FAILURE) are taken in passing. */
START_TEST(keepalive_while_blocked)
{
	int fd;
	LIBSSH2_SESSION *s = start(&fd);
	LIBSSH2_CHANNEL *c;
	char buf[64];

	libssh2_trace_sethandler(s, NULL, ka_trace);
	libssh2_trace(s, LIBSSH2_TRACE_TRANS);
	libssh2_keepalive_config(s, 1, 2);
	c = exec(s, "sleep 5; echo done");
	ck_assert_uint_eq(read_all(c, 0, buf, sizeof(buf)), 5);
	ck_assert_str_eq(buf, "done\n");
	ck_assert_int_ge(ka_sent, 2);
	ck_assert_int_ge(ka_refused, 1);
	ck_assert_int_eq(close_channel(c), 0);
	/* without a keepalive interval nothing is sent on its own */
	libssh2_keepalive_config(s, 1, 0);
	ka_sent = 0;
	c = exec(s, "sleep 3; echo done");
	ck_assert_uint_eq(read_all(c, 0, buf, sizeof(buf)), 5);
	ck_assert_int_eq(ka_sent, 0);
	ck_assert_int_eq(close_channel(c), 0);
	finish(s, fd);
}
END_TEST

START_TEST(exit_status)
{
	int fd;
	LIBSSH2_SESSION *s = start(&fd);
	LIBSSH2_CHANNEL *c = exec(s, "exit 3");
	char buf[64];

	ck_assert_uint_eq(read_all(c, 0, buf, sizeof(buf)), 0);
	ck_assert_int_eq(close_channel(c), 3);
	c = exec(s, "no-such-command-sftpmnt 2>/dev/null");
	read_all(c, 0, buf, sizeof(buf));
	ck_assert_int_eq(close_channel(c), 127);
	finish(s, fd);
}
END_TEST

START_TEST(stderr_separate_and_merged)
{
	int fd;
	LIBSSH2_SESSION *s = start(&fd);
	LIBSSH2_CHANNEL *c = exec(s, "echo err >&2; echo out");
	char buf[256];

	read_all(c, 0, buf, sizeof(buf));
	ck_assert_str_eq(buf, "out\n");
	read_all(c, SSH_EXTENDED_DATA_STDERR, buf, sizeof(buf));
	ck_assert_str_eq(buf, "err\n");
	ck_assert_int_eq(close_channel(c), 0);

	/* the macro reads the same stream */
	c = exec(s, "echo err2 >&2");
	ck_assert_int_eq(libssh2_channel_read_stderr(c, buf, sizeof(buf)), 5);
	ck_assert_int_eq(memcmp(buf, "err2\n", 5), 0);
	ck_assert_int_eq(libssh2_channel_read(c, buf, sizeof(buf)), 0);
	ck_assert_int_eq(close_channel(c), 0);

	/* merged: stderr arrives on stdout, the stderr stream stays empty */
	c = libssh2_channel_open_session(s);
	ck_assert_ptr_nonnull(c);
	ck_assert_int_eq(libssh2_channel_handle_extended_data2(
				 c, LIBSSH2_CHANNEL_EXTENDED_DATA_MERGE),
			 0);
	ck_assert_int_eq(libssh2_channel_exec(c, "echo err >&2"), 0);
	read_all(c, 0, buf, sizeof(buf));
	ck_assert_str_eq(buf, "err\n");
	ck_assert_int_eq(libssh2_channel_read_stderr(c, buf, sizeof(buf)), 0);
	ck_assert_int_eq(close_channel(c), 0);

	/* ignored: stderr is dropped */
	c = libssh2_channel_open_session(s);
	ck_assert_ptr_nonnull(c);
	ck_assert_int_eq(libssh2_channel_handle_extended_data2(
				 c, LIBSSH2_CHANNEL_EXTENDED_DATA_IGNORE),
			 0);
	ck_assert_int_eq(libssh2_channel_exec(c, "echo err >&2; echo out"), 0);
	read_all(c, 0, buf, sizeof(buf));
	ck_assert_str_eq(buf, "out\n");
	ck_assert_int_eq(libssh2_channel_read_stderr(c, buf, sizeof(buf)), 0);
	ck_assert_int_eq(close_channel(c), 0);
	finish(s, fd);
}
END_TEST

/* More stderr than one window: the window must be given back as the
 * caller reads stderr. */
START_TEST(large_stderr)
{
	int fd;
	LIBSSH2_SESSION *s = start(&fd);
	LIBSSH2_CHANNEL *c = exec(s, "head -c 6291456 /dev/zero >&2");
	static char buf[65536];
	size_t total = 0;
	ssize_t n;

	while ((n = libssh2_channel_read_stderr(c, buf, sizeof(buf))) > 0)
		total += (size_t)n;
	ck_assert_msg(n == 0, "read_stderr: %zd %s", n, errmsg(s));
	ck_assert_uint_eq(total, 6291456);
	ck_assert_int_eq(libssh2_channel_read(c, buf, sizeof(buf)), 0);
	ck_assert_int_eq(close_channel(c), 0);
	finish(s, fd);
}
END_TEST

/* ---- 64 MiB through cat
 * ------------------------------------------------------ */

/* 64 MiB; 16 MiB under valgrind, which is ~50x slower. */
static size_t cat_size(void)
{
	return getenv("SFTPMNT_VALGRIND") ? 16u << 20 : 64u << 20;
}
/* Bytes written but not yet read back: bounded, so that neither side's
 * window can fill up while the other waits (cat echoes everything). */
#define CAT_AHEAD (512u * 1024)

START_TEST(cat_blocking)
{
	int fd;
	LIBSSH2_SESSION *s = start(&fd);
	LIBSSH2_CHANNEL *c = exec(s, "cat");
	const size_t N = cat_size();
	unsigned char *out = malloc(N), *in = malloc(N + 1);
	size_t sent = 0, recvd = 0;
	ssize_t n;

	ck_assert_ptr_nonnull(out);
	ck_assert_ptr_nonnull(in);
	fill(out, N, 16);
	while (sent < N) {
		size_t chunk = N - sent < 100000 ? N - sent : 100000;

		if (sent - recvd + chunk > CAT_AHEAD) {
			n = libssh2_channel_read(c, (char *)in + recvd,
						 N + 1 - recvd);
			ck_assert_msg(n > 0, "read: %zd %s", n, errmsg(s));
			recvd += (size_t)n;
			continue;
		}
		n = libssh2_channel_write(c, (const char *)out + sent, chunk);
		ck_assert_msg(n > 0 && (size_t)n <= chunk, "write: %zd %s", n,
			      errmsg(s));
		sent += (size_t)n;
	}
	ck_assert_int_eq(libssh2_channel_send_eof(c), 0);
	while ((n = libssh2_channel_read(c, (char *)in + recvd,
					 N + 1 - recvd)) > 0)
		recvd += (size_t)n;
	ck_assert_msg(n == 0, "read: %zd %s", n, errmsg(s));
	ck_assert_uint_eq(recvd, N);
	ck_assert_uint_eq(fnv1a(in, recvd), fnv1a(out, N));
	ck_assert_int_eq(memcmp(in, out, N), 0);
	ck_assert_int_eq(libssh2_channel_eof(c), 1);
	ck_assert_int_eq(close_channel(c), 0);
	finish(s, fd);
	free(out);
	free(in);
}
END_TEST

START_TEST(cat_nonblocking)
{
	int fd, eof_sent = 0, rc;
	LIBSSH2_SESSION *s = start(&fd);
	LIBSSH2_CHANNEL *c = exec(s, "cat");
	const size_t N = cat_size();
	unsigned char *out = malloc(N), *in = malloc(N + 1);
	size_t sent = 0, recvd = 0;
	long waits = 0, eagain_w = 0, eagain_r = 0;
	ssize_t n;

	ck_assert_ptr_nonnull(out);
	ck_assert_ptr_nonnull(in);
	fill(out, N, 61);
	libssh2_channel_set_blocking(c, 0);
	ck_assert_int_eq(libssh2_session_get_blocking(s), 0);
	for (;;) {
		int progress = 0;

		if (sent < N) {
			size_t chunk = N - sent < 262144 ? N - sent : 262144;

			n = libssh2_channel_write(c, (const char *)out + sent,
						  chunk);
			if (n == LIBSSH2_ERROR_EAGAIN) {
				eagain_w++;
			} else {
				ck_assert_msg(n > 0 && (size_t)n <= chunk,
					      "write: %zd %s", n, errmsg(s));
				sent += (size_t)n;
				progress = 1;
			}
		} else if (!eof_sent) {
			rc = libssh2_channel_send_eof(c);
			if (rc == 0)
				eof_sent = progress = 1;
			else
				ck_assert_msg(rc == LIBSSH2_ERROR_EAGAIN,
					      "send_eof: %d %s", rc, errmsg(s));
		}
		n = libssh2_channel_read(c, (char *)in + recvd, N + 1 - recvd);
		if (n == 0) {
			/* EOF: only after we sent ours and cat had all */
			ck_assert(eof_sent);
			break;
		}
		if (n > 0) {
			recvd += (size_t)n;
			ck_assert_uint_le(recvd, N);
			progress = 1;
		} else {
			ck_assert_msg(n == LIBSSH2_ERROR_EAGAIN, "read: %zd %s",
				      n, errmsg(s));
			eagain_r++;
		}
		if (!progress)
			wait_socket(s, fd, &waits);
	}
	ck_assert_uint_eq(recvd, N);
	ck_assert_uint_eq(fnv1a(in, recvd), fnv1a(out, N));
	ck_assert_int_eq(memcmp(in, out, N), 0);
	/* the calls met EAGAIN and went on (with the receive window grown
	 * to 64 MiB a fast machine's loop may always have had something to
	 * do, and never needed to wait on the socket itself) */
	ck_assert_waited(waits + eagain_w + eagain_r);
	ck_assert_int_eq(libssh2_channel_eof(c), 1);
	while ((rc = libssh2_channel_close(c)) == LIBSSH2_ERROR_EAGAIN)
		wait_socket(s, fd, &waits);
	ck_assert_int_eq(rc, 0);
	while ((rc = libssh2_channel_wait_closed(c)) == LIBSSH2_ERROR_EAGAIN)
		wait_socket(s, fd, &waits);
	ck_assert_int_eq(rc, 0);
	ck_assert_int_eq(libssh2_channel_get_exit_status(c), 0);
	while ((rc = libssh2_channel_free(c)) == LIBSSH2_ERROR_EAGAIN)
		wait_socket(s, fd, &waits);
	ck_assert_int_eq(rc, 0);
	libssh2_session_set_blocking(s, 1);
	finish(s, fd);
	free(out);
	free(in);
}
END_TEST

/* ---- many channels on one session -----------------------------------------
 */

#define NCH	 16
#define PER_CH	 (1024u * 1024)
#define CH_CHUNK 40000u

START_TEST(sixteen_channels)
{
	int fd, i;
	LIBSSH2_SESSION *s = start(&fd);
	LIBSSH2_CHANNEL *c[NCH];
	unsigned char *out[NCH], *in[NCH];
	size_t sent[NCH] = {0}, recvd[NCH] = {0};
	int more = 1;
	ssize_t n;

	for (i = 0; i < NCH; i++) {
		out[i] = malloc(PER_CH);
		in[i] = malloc(PER_CH + 1);
		ck_assert_ptr_nonnull(out[i]);
		ck_assert_ptr_nonnull(in[i]);
		fill(out[i], PER_CH, 100 + (uint64_t)i);
		c[i] = exec(s, "cat");
	}
	/* round robin: a chunk into every channel, then every echo back;
	 * replies for the other channels arrive while one is read */
	while (more) {
		more = 0;
		for (i = 0; i < NCH; i++) {
			size_t end = sent[i] + CH_CHUNK;

			if (end > PER_CH)
				end = PER_CH;
			while (sent[i] < end) {
				n = libssh2_channel_write(
					c[i], (const char *)out[i] + sent[i],
					end - sent[i]);
				ck_assert_msg(n > 0, "write %d: %zd %s", i, n,
					      errmsg(s));
				sent[i] += (size_t)n;
			}
			more |= sent[i] < PER_CH;
		}
		for (i = NCH - 1; i >= 0; i--)
			while (recvd[i] < sent[i]) {
				n = libssh2_channel_read(
					c[i], (char *)in[i] + recvd[i],
					PER_CH + 1 - recvd[i]);
				ck_assert_msg(n > 0, "read %d: %zd %s", i, n,
					      errmsg(s));
				recvd[i] += (size_t)n;
				ck_assert_uint_le(recvd[i], sent[i]);
			}
	}
	for (i = 0; i < NCH; i++)
		ck_assert_int_eq(libssh2_channel_send_eof(c[i]), 0);
	for (i = 0; i < NCH; i++) {
		ck_assert_int_eq(
			libssh2_channel_read(c[i], (char *)in[i], PER_CH), 0);
		ck_assert_int_eq(memcmp(in[i], out[i], PER_CH), 0);
		ck_assert_uint_eq(fnv1a(in[i], PER_CH), fnv1a(out[i], PER_CH));
		ck_assert_int_eq(close_channel(c[i]), 0);
		free(in[i]);
		free(out[i]);
	}
	finish(s, fd);
}
END_TEST

/* A channel whose output nobody reads must not stall the others: its
 * data waits in its own window (RFC 4254 5.2). */
START_TEST(unread_channel_does_not_block_others)
{
	int fd, i;
	LIBSSH2_SESSION *s = start(&fd);
	LIBSSH2_CHANNEL *big = exec(s, "head -c 8388608 /dev/zero");
	LIBSSH2_CHANNEL *c;
	static char buf[65536];
	size_t total = 0;
	ssize_t n;

	for (i = 0; i < 3; i++) {
		c = exec(s, "echo small");
		read_all(c, 0, buf, sizeof(buf));
		ck_assert_str_eq(buf, "small\n");
		ck_assert_int_eq(close_channel(c), 0);
	}
	while ((n = libssh2_channel_read(big, buf, sizeof(buf))) > 0) {
		ck_assert_int_eq(buf[0], 0);
		total += (size_t)n;
	}
	ck_assert_int_eq(n, 0);
	ck_assert_uint_eq(total, 8388608);
	ck_assert_int_eq(close_channel(big), 0);
	finish(s, fd);
}
END_TEST

/* Many small reads: the window is given back all the same. */
START_TEST(small_reads)
{
	int fd;
	LIBSSH2_SESSION *s = start(&fd);
	LIBSSH2_CHANNEL *c = exec(s, "head -c 5000000 /dev/zero");
	char buf[1000];
	size_t total = 0;
	ssize_t n;

	while ((n = libssh2_channel_read(c, buf, 777)) > 0)
		total += (size_t)n;
	ck_assert_int_eq(n, 0);
	ck_assert_uint_eq(total, 5000000);
	ck_assert_int_eq(close_channel(c), 0);
	finish(s, fd);
}
END_TEST

/* libssh2_session_window_max (beyond libssh2): our receive window grows
 * while the server streams to a reader that keeps up only now and then,
 * past 4 MiB by default and never past a cap of 4 MiB; the call refuses
 * caps out of its range. */
START_TEST(window_cap)
{
	static char buf[256 * 1024];
	int fd, k;

	for (k = 0; k < 2; k++) {
		LIBSSH2_SESSION *s = start(&fd);
		LIBSSH2_CHANNEL *c;
		unsigned long w, maxw = 0;
		size_t total = 0;
		ssize_t n;

		if (k) {
			ck_assert_int_eq(libssh2_session_window_max(s, 1000),
					 LIBSSH2_ERROR_INVAL);
			ck_assert_int_eq(libssh2_session_window_max(
						 s, 2048ul << 20),
					 LIBSSH2_ERROR_INVAL);
			ck_assert_int_eq(libssh2_session_window_max(NULL, 0),
					 LIBSSH2_ERROR_BAD_USE);
			ck_assert_int_eq(libssh2_session_window_max(s, 4 << 20),
					 0);
		}
		c = exec(s, "head -c 33554432 /dev/zero");
		while ((n = libssh2_channel_read(c, buf, sizeof(buf))) > 0) {
			total += (size_t)n;
			w = libssh2_channel_window_read_ex(c, NULL, NULL);
			if (w > maxw)
				maxw = w;
			if (total % (1 << 20) < (size_t)n)
				usleep(3000); /* (the server gets ahead) */
		}
		ck_assert_int_eq(n, 0);
		ck_assert_uint_eq(total, 33554432);
		printf("window cap %s: the window grew to %lu\n",
		       k ? "4 MiB" : "default", maxw);
		if (k)
			ck_assert_uint_le(maxw, 4ul << 20);
		else
			ck_assert_uint_gt(maxw, 4ul << 20);
		ck_assert_int_eq(close_channel(c), 0);
		finish(s, fd);
	}
}
END_TEST

/* libssh2_session_set_timeout: a blocking read gives up with
 * LIBSSH2_ERROR_TIMEOUT, and the channel still works afterwards. */
START_TEST(read_timeout)
{
	int fd;
	LIBSSH2_SESSION *s = start(&fd);
	LIBSSH2_CHANNEL *c = exec(s, "sleep 1; echo late");
	struct timespec t0, t1;
	char buf[64];
	ssize_t n;
	long ms;

	libssh2_session_set_timeout(s, 200);
	ck_assert_int_eq(libssh2_session_get_timeout(s), 200);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	n = libssh2_channel_read(c, buf, sizeof(buf));
	clock_gettime(CLOCK_MONOTONIC, &t1);
	ms = (t1.tv_sec - t0.tv_sec) * 1000 +
	     (t1.tv_nsec - t0.tv_nsec) / 1000000;
	ck_assert_msg(n == LIBSSH2_ERROR_TIMEOUT, "read: %zd %s", n, errmsg(s));
	ck_assert_int_ge(ms, 150);
	ck_assert_int_lt(ms, 900);
	libssh2_session_set_timeout(s, 0);
	read_all(c, 0, buf, sizeof(buf));
	ck_assert_str_eq(buf, "late\n");
	ck_assert_int_eq(close_channel(c), 0);
	finish(s, fd);
}
END_TEST

/* ---- environment
 * ------------------------------------------------------------- */

START_TEST(setenv_accepted_and_refused)
{
	int fd, rc;
	LIBSSH2_SESSION *s = start(&fd);
	LIBSSH2_CHANNEL *c = libssh2_channel_open_session(s);
	char buf[256];

	ck_assert_ptr_nonnull(c);
	rc = libssh2_channel_setenv(c, "SFTPMNT_X", "hello world 42");
	ck_assert_msg(rc == 0, "setenv SFTPMNT_X: %d %s", rc, errmsg(s));
	/* not in AcceptEnv: OpenSSH answers CHANNEL_FAILURE */
	rc = libssh2_channel_setenv(c, "NOT_ACCEPTED_SFTPMNT", "x");
	ck_assert_msg(rc == LIBSSH2_ERROR_CHANNEL_REQUEST_DENIED,
		      "setenv of a refused name: %d %s", rc, errmsg(s));
	rc = libssh2_channel_setenv_ex(c, "SFTPMNT_Y", 9, "abcdef", 3);
	ck_assert_msg(rc == 0, "setenv_ex: %d %s", rc, errmsg(s));
	ck_assert_int_eq(
		libssh2_channel_exec(c, "echo \"$SFTPMNT_X|$SFTPMNT_Y|"
					"${NOT_ACCEPTED_SFTPMNT-unset}\""),
		0);
	read_all(c, 0, buf, sizeof(buf));
	ck_assert_str_eq(buf, "hello world 42|abc|unset\n");
	ck_assert_int_eq(close_channel(c), 0);
	finish(s, fd);
}
END_TEST

/* ---- exit signal ------------------------------------------------------------
 */

START_TEST(exit_signal)
{
	int fd;
	LIBSSH2_SESSION *s = start(&fd);
	LIBSSH2_CHANNEL *c = exec(s, "kill -TERM $$");
	char buf[64], *sig = NULL, *msg = NULL, *lang = NULL;
	size_t siglen = 0, msglen = 0, langlen = 0;

	read_all(c, 0, buf, sizeof(buf));
	ck_assert_int_eq(libssh2_channel_close(c), 0);
	ck_assert_int_eq(libssh2_channel_wait_closed(c), 0);
	ck_assert_int_eq(libssh2_channel_get_exit_signal(c, &sig, &siglen, &msg,
							 &msglen, &lang,
							 &langlen),
			 0);
	ck_assert_ptr_nonnull(sig);
	ck_assert_str_eq(sig, "TERM");
	ck_assert_uint_eq(siglen, 4);
	libssh2_free(s, sig);
	if (msg)
		libssh2_free(s, msg);
	if (lang)
		libssh2_free(s, lang);
	ck_assert_int_eq(libssh2_channel_free(c), 0);

	/* a normal exit has no signal */
	c = exec(s, "true");
	read_all(c, 0, buf, sizeof(buf));
	ck_assert_int_eq(libssh2_channel_close(c), 0);
	ck_assert_int_eq(libssh2_channel_wait_closed(c), 0);
	sig = (char *)"x";
	ck_assert_int_eq(libssh2_channel_get_exit_signal(c, &sig, &siglen, NULL,
							 NULL, NULL, NULL),
			 0);
	ck_assert_ptr_null(sig);
	ck_assert_uint_eq(siglen, 0);
	ck_assert_int_eq(libssh2_channel_free(c), 0);
	finish(s, fd);
}
END_TEST

/* ---- EOF and close
 * ----------------------------------------------------------- */

START_TEST(eof_close_order)
{
	int fd;
	LIBSSH2_SESSION *s = start(&fd);
	LIBSSH2_CHANNEL *c = exec(s, "cat");
	char buf[64];
	ssize_t n;

	ck_assert_int_eq(libssh2_channel_eof(c), 0);
	ck_assert_int_eq(libssh2_channel_write(c, "abc", 3), 3);
	ck_assert_int_eq(libssh2_channel_send_eof(c), 0);
	/* nothing more may be written after our EOF */
	n = libssh2_channel_write(c, "x", 1);
	ck_assert_msg(n == LIBSSH2_ERROR_CHANNEL_EOF_SENT,
		      "write after send_eof: %zd", n);
	/* not even nothing (libssh2 1.11.1 checks before the length) */
	n = libssh2_channel_write(c, "", 0);
	ck_assert_msg(n == LIBSSH2_ERROR_CHANNEL_EOF_SENT,
		      "empty write after send_eof: %zd", n);
	ck_assert_int_eq(libssh2_channel_wait_eof(c), 0);
	/* the server's EOF is in, but "abc" is unread: not EOF yet */
	ck_assert_int_eq(libssh2_channel_eof(c), 0);
	n = libssh2_channel_read(c, buf, sizeof(buf));
	ck_assert_int_eq(n, 3);
	ck_assert_int_eq(memcmp(buf, "abc", 3), 0);
	ck_assert_int_eq(libssh2_channel_read(c, buf, sizeof(buf)), 0);
	ck_assert_int_eq(libssh2_channel_eof(c), 1);
	/* wait_eof again returns at once */
	ck_assert_int_eq(libssh2_channel_wait_eof(c), 0);
	ck_assert_int_eq(libssh2_channel_close(c), 0);
	ck_assert_int_eq(libssh2_channel_wait_closed(c), 0);
	ck_assert_int_eq(libssh2_channel_get_exit_status(c), 0);
	/* a closed channel takes no data, and says so for an empty write */
	ck_assert_int_lt(libssh2_channel_write(c, "y", 1), 0);
	ck_assert_int_eq(libssh2_channel_write(c, "", 0),
			 LIBSSH2_ERROR_CHANNEL_CLOSED);
	ck_assert_int_eq(libssh2_channel_free(c), 0);

	/* free without close: libssh2 closes it for us */
	c = exec(s, "cat");
	ck_assert_int_eq(libssh2_channel_write(c, "q", 1), 1);
	ck_assert_int_eq(libssh2_channel_free(c), 0);
	/* the session is still fine */
	c = exec(s, "echo still");
	read_all(c, 0, buf, sizeof(buf));
	ck_assert_str_eq(buf, "still\n");
	ck_assert_int_eq(close_channel(c), 0);
	finish(s, fd);
}
END_TEST

/* The idiom of libssh2's own examples (scp_write.c): send_eof, wait_eof,
 * wait_closed, without libssh2_channel_close().  libssh2 1.11's
 * wait_closed needs only the server's EOF and waits for its CLOSE
 * (channel.c channel_wait_closed: "invoked when channel is not in EOF
 * state" is the only refusal). */
START_TEST(wait_closed_without_close)
{
	int fd, rc;
	LIBSSH2_SESSION *s = start(&fd);
	LIBSSH2_CHANNEL *c = exec(s, "cat");
	char buf[64];

	/* before the server's EOF: refused */
	rc = libssh2_channel_wait_closed(c);
	ck_assert_msg(rc == LIBSSH2_ERROR_INVAL,
		      "wait_closed before EOF: %d %s", rc, errmsg(s));
	ck_assert_int_eq(libssh2_channel_write(c, "data", 4), 4);
	ck_assert_int_eq(libssh2_channel_send_eof(c), 0);
	ck_assert_int_eq(libssh2_channel_wait_eof(c), 0);
	read_all(c, 0, buf, sizeof(buf));
	ck_assert_str_eq(buf, "data");
	rc = libssh2_channel_wait_closed(c);
	ck_assert_msg(rc == 0, "wait_closed after the server's EOF: %d %s", rc,
		      errmsg(s));
	ck_assert_int_eq(libssh2_channel_get_exit_status(c), 0);
	ck_assert_int_eq(libssh2_channel_free(c), 0);

	/* wait_closed only waits, as in libssh2: it sends neither EOF nor
	 * CLOSE, so a command that closed its output (the server's EOF)
	 * and still reads its input sees no end of it: cat is stopped by
	 * timeout(1) (status 124), not by an EOF from us (status 0) */
	c = exec(s, "exec >&- 2>&-; timeout 1 cat >/dev/null; exit $?");
	ck_assert_int_eq(libssh2_channel_wait_eof(c), 0);
	rc = libssh2_channel_wait_closed(c);
	ck_assert_msg(rc == 0, "wait_closed: %d %s", rc, errmsg(s));
	ck_assert_int_eq(libssh2_channel_get_exit_status(c), 124);
	/* closed on both sides: close and wait_closed return 0 at once */
	ck_assert_int_eq(libssh2_channel_close(c), 0);
	ck_assert_int_eq(libssh2_channel_wait_closed(c), 0);
	ck_assert_int_eq(libssh2_channel_free(c), 0);
	/* and the session goes on */
	c = exec(s, "echo next");
	read_all(c, 0, buf, sizeof(buf));
	ck_assert_str_eq(buf, "next\n");
	ck_assert_int_eq(close_channel(c), 0);
	finish(s, fd);
}
END_TEST

/* libssh2_channel_eof() is 0 while data of the channel is unread, and
 * libssh2 counts EXTENDED_DATA (stderr) as such data too
 * (channel.c libssh2_channel_eof: any DATA or EXTENDED_DATA packet of
 * the channel still queued masks the EOF). */
START_TEST(eof_masked_by_unread_stderr)
{
	int fd;
	LIBSSH2_SESSION *s = start(&fd);
	LIBSSH2_CHANNEL *c = exec(s, "echo err >&2");
	char buf[64];

	ck_assert_int_eq(libssh2_channel_wait_eof(c), 0);
	ck_assert_int_eq(libssh2_channel_eof(c), 0);
	ck_assert_int_eq(libssh2_channel_read_stderr(c, buf, sizeof(buf)), 4);
	ck_assert_int_eq(libssh2_channel_eof(c), 1);
	ck_assert_int_eq(close_channel(c), 0);
	finish(s, fd);
}
END_TEST

/* ---- refusals ---------------------------------------------------------------
 */

START_TEST(unknown_subsystem_and_type)
{
	int fd, rc;
	LIBSSH2_SESSION *s = start(&fd);
	LIBSSH2_CHANNEL *c = libssh2_channel_open_session(s);
	char buf[64];

	ck_assert_ptr_nonnull(c);
	rc = libssh2_channel_subsystem(c, "no-such-subsystem");
	ck_assert_msg(rc == LIBSSH2_ERROR_CHANNEL_REQUEST_DENIED,
		      "unknown subsystem: %d %s", rc, errmsg(s));
	ck_assert_int_eq(libssh2_session_last_errno(s),
			 LIBSSH2_ERROR_CHANNEL_REQUEST_DENIED);
	ck_assert_int_eq(libssh2_channel_free(c), 0);

	/* a channel type the server does not know: open fails */
	c = libssh2_channel_open_ex(s, "no-such-type@sftpmnt", 20,
				    LIBSSH2_CHANNEL_WINDOW_DEFAULT,
				    LIBSSH2_CHANNEL_PACKET_DEFAULT, NULL, 0);
	ck_assert_ptr_null(c);
	ck_assert_int_eq(libssh2_session_last_errno(s),
			 LIBSSH2_ERROR_CHANNEL_FAILURE);

	/* the session goes on: a real subsystem, then a command */
	c = libssh2_channel_open_session(s);
	ck_assert_ptr_nonnull(c);
	ck_assert_int_eq(libssh2_channel_subsystem(c, "sftp"), 0);
	ck_assert_int_eq(libssh2_channel_free(c), 0);
	c = exec(s, "echo ok");
	read_all(c, 0, buf, sizeof(buf));
	ck_assert_str_eq(buf, "ok\n");
	ck_assert_int_eq(close_channel(c), 0);
	finish(s, fd);
}
END_TEST

/* libssh2_channel_window_write_ex: the window left now, and in
 * *window_size_initial the one the server granted at the open (it does
 * not shrink with what we send). */
START_TEST(window_write_initial)
{
	int fd;
	LIBSSH2_SESSION *s = start(&fd);
	LIBSSH2_CHANNEL *c = exec(s, "cat >/dev/null");
	unsigned long init0 = 0, init1 = 0, now0, now1;
	static char buf[100000];

	/* (OpenSSH opens a session channel with a window of 0 and grants
	 * one once the command runs) */
	now0 = libssh2_channel_window_write_ex(c, &init0);
	ck_assert_uint_gt(now0, sizeof(buf));
	ck_assert_int_eq(libssh2_channel_write(c, buf, sizeof(buf)),
			 (int)sizeof(buf));
	now1 = libssh2_channel_window_write_ex(c, &init1);
	ck_assert_uint_eq(init1, init0);
	ck_assert_uint_ne(now1, init1);
	ck_assert_uint_eq(libssh2_channel_window_write(c), now1);
	ck_assert_int_eq(libssh2_channel_send_eof(c), 0);
	ck_assert_int_eq(close_channel(c), 0);
	finish(s, fd);
}
END_TEST

/* direct-tcpip (RFC 4254 7.2): a channel to the test sshd's own port
 * carries its identification line; a closed port is refused with the
 * server's reason; a bad port is refused before anything is sent.
 * direct-streamlocal@openssh.com: a Unix socket the test listens on. */
START_TEST(direct_tcpip_and_streamlocal)
{
	int fd, port = atoi(integ_env("SFTPMNT_TEST_PORT"));
	LIBSSH2_SESSION *s = start(&fd);
	LIBSSH2_CHANNEL *c;
	char buf[256], path[108];
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	ssize_t n;
	int lfd, afd;

	c = libssh2_channel_direct_tcpip_ex(s, "127.0.0.1", port, "127.0.0.1",
					    4242);
	ck_assert_msg(c != NULL, "direct-tcpip: %s", errmsg(s));
	n = libssh2_channel_read(c, buf, sizeof(buf) - 1);
	ck_assert_msg(n >= 8, "read: %zd %s", n, errmsg(s));
	buf[n] = 0;
	ck_assert_msg(!strncmp(buf, "SSH-2.0-", 8), "got %s", buf);
	/* our own identification goes the other way: the server answers
	 * with its KEXINIT, a binary packet */
	ck_assert_int_eq(libssh2_channel_write(c, "SSH-2.0-test\r\n", 14), 14);
	ck_assert_int_eq(close_channel(c), 0);

	c = libssh2_channel_direct_tcpip(s, "127.0.0.1", 1);
	ck_assert_ptr_null(c);
	ck_assert_int_eq(libssh2_session_last_errno(s),
			 LIBSSH2_ERROR_CHANNEL_FAILURE);
	c = libssh2_channel_direct_tcpip(s, "127.0.0.1", 70000);
	ck_assert_ptr_null(c);
	ck_assert_int_eq(libssh2_session_last_errno(s), LIBSSH2_ERROR_INVAL);

	snprintf(path, sizeof(path), "/tmp/sftpmnt-sl.%d", (int)getpid());
	unlink(path);
	snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", path);
	lfd = socket(AF_UNIX, SOCK_STREAM, 0);
	ck_assert_int_ge(lfd, 0);
	ck_assert_int_eq(bind(lfd, (struct sockaddr *)&sun, sizeof(sun)), 0);
	ck_assert_int_eq(listen(lfd, 1), 0);
	c = libssh2_channel_direct_streamlocal_ex(s, path, "127.0.0.1", 0);
	ck_assert_msg(c != NULL, "direct-streamlocal: %s", errmsg(s));
	afd = accept(lfd, NULL, NULL);
	ck_assert_int_ge(afd, 0);
	ck_assert_int_eq(write(afd, "from the socket", 15), 15);
	n = libssh2_channel_read(c, buf, sizeof(buf));
	ck_assert_int_eq(n, 15);
	ck_assert_int_eq(memcmp(buf, "from the socket", 15), 0);
	ck_assert_int_eq(libssh2_channel_write(c, "back", 4), 4);
	ck_assert_int_eq(read(afd, buf, sizeof(buf)), 4);
	ck_assert_int_eq(memcmp(buf, "back", 4), 0);
	close(afd);
	ck_assert_int_eq(close_channel(c), 0);
	close(lfd);
	unlink(path);
	finish(s, fd);
}
END_TEST

/* ---- a channel closed by the server while we write ------------------------
 */

/* The command reads one byte and exits: the server closes the channel
 * while we still write.  Writes then fail with CHANNEL_CLOSED (RFC 4254
 * 5.3: no data after CLOSE) instead of waiting for a window that never
 * comes; blocking and non-blocking. */
static void write_until_closed(int blocking)
{
	int fd, rc;
	LIBSSH2_SESSION *s = start(&fd);
	LIBSSH2_CHANNEL *c = exec(s, "head -c 1 >/dev/null");
	static char buf[65536];
	size_t total = 0;
	long waits = 0;
	ssize_t n;

	libssh2_session_set_blocking(s, blocking);
	for (;;) {
		n = libssh2_channel_write(c, buf, sizeof(buf));
		if (n == LIBSSH2_ERROR_EAGAIN) {
			wait_socket(s, fd, &waits);
			continue;
		}
		if (n < 0)
			break;
		total += (size_t)n;
		/* far more than any window: the close must come first */
		ck_assert_uint_lt(total, 1024u << 20);
	}
	ck_assert_msg(n == LIBSSH2_ERROR_CHANNEL_CLOSED,
		      "write to a closed channel: %zd %s", n, errmsg(s));
	ck_assert_int_eq(libssh2_session_last_errno(s),
			 LIBSSH2_ERROR_CHANNEL_CLOSED);
	ck_assert_int_eq(libssh2_channel_eof(c), 1);
	while ((rc = libssh2_channel_close(c)) == LIBSSH2_ERROR_EAGAIN)
		wait_socket(s, fd, &waits);
	ck_assert_int_eq(rc, 0);
	ck_assert_int_eq(libssh2_channel_get_exit_status(c), 0);
	while ((rc = libssh2_channel_free(c)) == LIBSSH2_ERROR_EAGAIN)
		wait_socket(s, fd, &waits);
	ck_assert_int_eq(rc, 0);
	libssh2_session_set_blocking(s, 1);
	/* the session goes on */
	c = exec(s, "echo after");
	read_all(c, 0, buf, sizeof(buf));
	ck_assert_str_eq(buf, "after\n");
	ck_assert_int_eq(close_channel(c), 0);
	finish(s, fd);
}

START_TEST(write_to_closed_channel)
{
	write_until_closed(1);
	write_until_closed(0);
}
END_TEST

/* ---- poll_channel_read, flush, write_stderr, the old calls ----------------
 */

/* libssh2 1.11.1's semantics: libssh2_poll_channel_read(c, 0) is 1 when
 * stdout data is buffered, (c, 1) when stdout or extended data is, any
 * other value 0; it reads nothing from the socket.  flush_ex discards
 * what is buffered of the stream(s) named and returns the byte count. */
START_TEST(poll_and_flush)
{
	int fd;
	LIBSSH2_SESSION *s = start(&fd);
	LIBSSH2_CHANNEL *c = exec(s, "echo out; echo err >&2");
	char buf[64], *sig = (char *)"x";
	size_t siglen = 9;

	ck_assert_int_eq(libssh2_channel_wait_eof(c), 0);
	ck_assert_int_eq(libssh2_poll_channel_read(c, 0), 1);
	ck_assert_int_eq(libssh2_poll_channel_read(c, 1), 1);
	ck_assert_int_eq(libssh2_poll_channel_read(c, 2), 0);
	ck_assert_int_eq(libssh2_channel_flush_stderr(c), 4);
	/* stdout alone still counts for extended = 1 */
	ck_assert_int_eq(libssh2_poll_channel_read(c, 1), 1);
	ck_assert_int_eq(libssh2_channel_read_stderr(c, buf, sizeof(buf)), 0);
	ck_assert_int_eq(libssh2_channel_flush(c), 4);
	ck_assert_int_eq(libssh2_poll_channel_read(c, 0), 0);
	ck_assert_int_eq(libssh2_poll_channel_read(c, 1), 0);
	ck_assert_int_eq(libssh2_channel_read(c, buf, sizeof(buf)), 0);
	ck_assert_int_eq(libssh2_channel_eof(c), 1);
	/* nothing left: 0 */
	ck_assert_int_eq(libssh2_channel_flush_ex(c, LIBSSH2_CHANNEL_FLUSH_ALL),
			 0);
	ck_assert_int_eq(close_channel(c), 0);

	/* both streams at once, and only stderr */
	c = exec(s, "echo out; echo err2 >&2");
	ck_assert_int_eq(libssh2_channel_wait_eof(c), 0);
	ck_assert_int_eq(libssh2_channel_flush_ex(c, LIBSSH2_CHANNEL_FLUSH_ALL),
			 9);
	ck_assert_int_eq(libssh2_channel_eof(c), 1);
	ck_assert_int_eq(close_channel(c), 0);
	c = exec(s, "echo out; echo err2 >&2");
	ck_assert_int_eq(libssh2_channel_wait_eof(c), 0);
	ck_assert_int_eq(libssh2_channel_flush_ex(
				 c, LIBSSH2_CHANNEL_FLUSH_EXTENDED_DATA),
			 5);
	ck_assert_int_eq(libssh2_poll_channel_read(c, 0), 1);
	read_all(c, 0, buf, sizeof(buf));
	ck_assert_str_eq(buf, "out\n");
	ck_assert_int_eq(close_channel(c), 0);

	/* a NULL channel, as libssh2 answers it */
	ck_assert_int_eq(libssh2_poll_channel_read(NULL, 0),
			 LIBSSH2_ERROR_BAD_USE);
	ck_assert_int_eq(libssh2_channel_flush(NULL), LIBSSH2_ERROR_BAD_USE);
	ck_assert_int_eq(libssh2_channel_handle_extended_data2(NULL, 0),
			 LIBSSH2_ERROR_BAD_USE);
	ck_assert_uint_eq(libssh2_channel_window_read(NULL), 0);
	ck_assert_uint_eq(libssh2_channel_window_write(NULL), 0);
	ck_assert_int_eq(libssh2_channel_get_exit_status(NULL), 0);
	ck_assert_int_eq(libssh2_channel_get_exit_signal(
				 NULL, &sig, &siglen, NULL, NULL, NULL, NULL),
			 0);
	libssh2_channel_set_blocking(NULL, 0);
	libssh2_channel_handle_extended_data(NULL, 1);
	ck_assert_int_eq(libssh2_session_get_blocking(s), 1);
	finish(s, fd);
}
END_TEST

/* The deprecated handle_extended_data and its ignore_extended_data macro
 * (1: drop stderr, 0: keep it apart); write_stderr sends EXTENDED_DATA,
 * which OpenSSH's sshd drops for a session ("bad ext data") and the
 * channel goes on. */
START_TEST(old_extended_data_calls_and_write_stderr)
{
	int fd;
	LIBSSH2_SESSION *s = start(&fd);
	LIBSSH2_CHANNEL *c = libssh2_channel_open_session(s);
	char buf[64];

	ck_assert_ptr_nonnull(c);
	libssh2_channel_ignore_extended_data(c, 1);
	ck_assert_int_eq(libssh2_channel_exec(c, "echo err >&2; echo out"), 0);
	read_all(c, 0, buf, sizeof(buf));
	ck_assert_str_eq(buf, "out\n");
	ck_assert_int_eq(libssh2_channel_read_stderr(c, buf, sizeof(buf)), 0);
	ck_assert_int_eq(close_channel(c), 0);

	c = libssh2_channel_open_session(s);
	ck_assert_ptr_nonnull(c);
	libssh2_channel_handle_extended_data(
		c, LIBSSH2_CHANNEL_EXTENDED_DATA_MERGE);
	libssh2_channel_ignore_extended_data(c, 0);
	ck_assert_int_eq(libssh2_channel_exec(c, "echo err >&2"), 0);
	read_all(c, SSH_EXTENDED_DATA_STDERR, buf, sizeof(buf));
	ck_assert_str_eq(buf, "err\n");
	read_all(c, 0, buf, sizeof(buf));
	ck_assert_str_eq(buf, "");
	ck_assert_int_eq(close_channel(c), 0);

	c = exec(s, "cat");
	ck_assert_int_eq(libssh2_channel_write_stderr(c, "ignored", 7), 7);
	ck_assert_int_eq(libssh2_channel_write_ex(c, 0, "kept", 4), 4);
	ck_assert_int_eq(libssh2_channel_send_eof(c), 0);
	read_all(c, 0, buf, sizeof(buf));
	ck_assert_str_eq(buf, "kept");
	ck_assert_int_eq(close_channel(c), 0);
	finish(s, fd);
}
END_TEST

/* ---- direct-tcpip to an echo server ----------------------------------------
 */

/* A TCP echo server on 127.0.0.1 (a child process, one connection):
 * its port; *pid the child. */
static int echo_server(pid_t *pid)
{
	struct sockaddr_in sin = {.sin_family = AF_INET};
	socklen_t sl = sizeof(sin);
	int lfd = socket(AF_INET, SOCK_STREAM, 0), afd;
	static char buf[65536];
	ssize_t n;

	ck_assert_int_ge(lfd, 0);
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	ck_assert_int_eq(bind(lfd, (struct sockaddr *)&sin, sizeof(sin)), 0);
	ck_assert_int_eq(listen(lfd, 1), 0);
	ck_assert_int_eq(getsockname(lfd, (struct sockaddr *)&sin, &sl), 0);
	*pid = fork();
	ck_assert_int_ge(*pid, 0);
	if (*pid == 0) {
		alarm(60);
		afd = accept(lfd, NULL, NULL);
		if (afd < 0)
			_exit(1);
		while ((n = read(afd, buf, sizeof(buf))) > 0)
			if (write(afd, buf, (size_t)n) != n)
				_exit(2);
		_exit(n == 0 ? 0 : 3);
	}
	close(lfd);
	return ntohs(sin.sin_port);
}

START_TEST(direct_tcpip_echo)
{
	int fd, st;
	pid_t pid;
	/* (the echo server forks first: a child forked holding our buffers
	 * and session would leave them behind, which valgrind's leak check
	 * reports as the child's exit status) */
	int port = echo_server(&pid);
	LIBSSH2_SESSION *s = start(&fd);
	LIBSSH2_CHANNEL *c;
	const size_t N = 4u << 20;
	unsigned char *out = malloc(N), *in = malloc(N + 1);
	size_t sent = 0, recvd = 0;
	ssize_t n;

	ck_assert_ptr_nonnull(out);
	ck_assert_ptr_nonnull(in);
	fill(out, N, 4242);
	c = libssh2_channel_direct_tcpip(s, "127.0.0.1", port);
	ck_assert_msg(c != NULL, "direct-tcpip: %s", errmsg(s));
	while (sent < N) {
		size_t chunk = N - sent < 100000 ? N - sent : 100000;

		if (sent - recvd + chunk > CAT_AHEAD) {
			n = libssh2_channel_read(c, (char *)in + recvd,
						 N + 1 - recvd);
			ck_assert_msg(n > 0, "read: %zd %s", n, errmsg(s));
			recvd += (size_t)n;
			continue;
		}
		n = libssh2_channel_write(c, (const char *)out + sent, chunk);
		ck_assert_msg(n > 0, "write: %zd %s", n, errmsg(s));
		sent += (size_t)n;
	}
	/* our EOF becomes the server's end of input; it closes, and that
	 * comes back as the channel's EOF */
	ck_assert_int_eq(libssh2_channel_send_eof(c), 0);
	while ((n = libssh2_channel_read(c, (char *)in + recvd,
					 N + 1 - recvd)) > 0)
		recvd += (size_t)n;
	ck_assert_msg(n == 0, "read: %zd %s", n, errmsg(s));
	ck_assert_uint_eq(recvd, N);
	ck_assert_int_eq(memcmp(in, out, N), 0);
	ck_assert_int_eq(libssh2_channel_eof(c), 1);
	ck_assert_int_eq(close_channel(c), 0);
	ck_assert_int_eq(waitpid(pid, &st, 0), pid);
	ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) == 0,
		      "echo server: status %d", st);
	finish(s, fd);
	free(out);
	free(in);
}
END_TEST

/* A second exec on a channel that already runs a command is refused by
 * OpenSSH; the first command is unaffected. */
/* wait_eof while unread output fills the whole receive window: the
 * server cannot send the rest, so its EOF cannot come.  As libssh2
 * 1.11.1 (channel_wait_eof: "Receiving channel window has been
 * exhausted") a blocking call says so at once instead of waiting for
 * ever (here: until the 30 s session timeout); non-blocking it answers
 * EAGAIN.  Reading then lets the command finish. */
START_TEST(wait_eof_window_full)
{
	enum { WIN = 32768, TOTAL = 1000000 };
	int fd, rc;
	LIBSSH2_SESSION *s = start(&fd);
	LIBSSH2_CHANNEL *c;
	unsigned long avail = 0;
	char buf[65536];
	size_t got = 0;
	time_t t0;
	ssize_t n;

	c = libssh2_channel_open_ex(s, "session", 7, WIN, WIN, NULL, 0);
	ck_assert_msg(c != NULL, "open: %s", errmsg(s));
	ck_assert_int_eq(libssh2_channel_exec(c, "head -c 1000000 /dev/zero"),
			 0);
	/* it waits while the server fills the window, then gives up */
	t0 = time(NULL);
	rc = libssh2_channel_wait_eof(c);
	ck_assert_msg(rc == LIBSSH2_ERROR_CHANNEL_WINDOW_FULL,
		      "wait_eof with a full window: %d %s", rc, errmsg(s));
	ck_assert_int_le(time(NULL) - t0, 5);
	ck_assert_uint_eq(libssh2_channel_window_read_ex(c, &avail, NULL), 0);
	ck_assert_uint_eq(avail, WIN);
	libssh2_session_set_blocking(s, 0);
	ck_assert_int_eq(libssh2_channel_wait_eof(c), LIBSSH2_ERROR_EAGAIN);
	libssh2_session_set_blocking(s, 1);
	while ((n = libssh2_channel_read(c, buf, sizeof(buf))) > 0)
		got += (size_t)n;
	ck_assert_int_eq(n, 0);
	ck_assert_uint_eq(got, TOTAL);
	ck_assert_int_eq(libssh2_channel_wait_eof(c), 0);
	ck_assert_int_eq(close_channel(c), 0);
	finish(s, fd);
}
END_TEST

START_TEST(second_exec_refused)
{
	int fd, rc;
	LIBSSH2_SESSION *s = start(&fd);
	LIBSSH2_CHANNEL *c = exec(s, "cat");
	char buf[64];

	/* as libssh2 1.11.1 (channel.c: "Channel can not be reused"): once
	 * a command runs, another is refused without asking the server */
	rc = libssh2_channel_exec(c, "echo again");
	ck_assert_msg(rc == LIBSSH2_ERROR_BAD_USE, "second exec: %d %s", rc,
		      errmsg(s));
	rc = libssh2_channel_subsystem(c, "sftp");
	ck_assert_msg(rc == LIBSSH2_ERROR_BAD_USE, "subsystem after exec: %d",
		      rc);
	ck_assert_int_eq(libssh2_channel_write(c, "zz", 2), 2);
	ck_assert_int_eq(libssh2_channel_send_eof(c), 0);
	read_all(c, 0, buf, sizeof(buf));
	ck_assert_str_eq(buf, "zz");
	ck_assert_int_eq(close_channel(c), 0);
	finish(s, fd);
}
END_TEST

int main(void)
{
	Suite *su = suite_create("channel");
	TCase *tc = tcase_create("sshd");
	SRunner *sr;
	int failed;

	integ_env("SFTPMNT_TEST_PORT");
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, exec_echo);
	tcase_add_test(tc, keepalive_while_blocked);
	tcase_add_test(tc, direct_tcpip_and_streamlocal);
	tcase_add_test(tc, window_write_initial);
	tcase_add_test(tc, exit_status);
	tcase_add_test(tc, stderr_separate_and_merged);
	tcase_add_test(tc, large_stderr);
	tcase_add_test(tc, cat_blocking);
	tcase_add_test(tc, cat_nonblocking);
	tcase_add_test(tc, sixteen_channels);
	tcase_add_test(tc, unread_channel_does_not_block_others);
	tcase_add_test(tc, small_reads);
	tcase_add_test(tc, window_cap);
	tcase_add_test(tc, read_timeout);
	tcase_add_test(tc, setenv_accepted_and_refused);
	tcase_add_test(tc, exit_signal);
	tcase_add_test(tc, eof_close_order);
	tcase_add_test(tc, wait_closed_without_close);
	tcase_add_test(tc, eof_masked_by_unread_stderr);
	tcase_add_test(tc, unknown_subsystem_and_type);
	tcase_add_test(tc, second_exec_refused);
	tcase_add_test(tc, wait_eof_window_full);
	tcase_add_test(tc, write_to_closed_channel);
	tcase_add_test(tc, poll_and_flush);
	tcase_add_test(tc, old_extended_data_calls_and_write_stderr);
	tcase_add_test(tc, direct_tcpip_echo);
	suite_add_tcase(su, tc);
	sr = srunner_create(su);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
