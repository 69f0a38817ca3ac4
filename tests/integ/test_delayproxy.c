/*
 * test_delayproxy.c - checks tests/tools/delayproxy over loopback.
 *
 * An in-process echo server (and a "sink" that counts what it receives)
 * sits behind the proxy binary, which runs as a child with -p and -c in a
 * temp dir; $DELAYPROXY names the binary (default ./tests/tools/delayproxy).
 * The runner uses CK_NOFORK so the checked teardown, which kills and reaps
 * the proxies, runs after a failed assertion too; an atexit handler and
 * PR_SET_PDEATHSIG in the child cover the rest.
 *
 * Timing bounds are generous where a loaded machine could miss them, but
 * each still fails a proxy that is broken in the way it checks for: e.g.
 * 64 MiB at -d 25 in under 3 s is beyond a proxy that holds each read
 * for the delay before taking the next (6.4 s).
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/*
 * What is asserted is the lower bound (the delay or the cap is really
 * applied) and that nothing stalls; the upper bounds are generous
 * because CI machines are shared and loaded: a proxy that serialised the
 * delay is caught by the back-pressure test (a full queue is taken).
 */
#define SLACK_MS 1000.0
#define SLACK_S 30.0

#define MIB		 (1u << 20)
#define MAX_PROXIES	 4
#define MAX_ARGS	 24
#define START_TIMEOUT_MS 5000
#define STOP_TIMEOUT_MS	 5000
#define IO_TIMEOUT_MS	 30000
#define CTL_TIMEOUT_MS	 2000
#define SERVER_BUF	 (256u << 10)
#define PINGS		 5
#define MANY_CONNS	 100

struct dp {
	pid_t pid;
	unsigned port;
	char dir[32];
	char port_file[64];
	char ctl_path[64];
};

static struct dp proxies[MAX_PROXIES];
static int nproxies;
static unsigned echo_port, sink_port;
static int bad_exits;

/* ---- helpers ------------------------------------------------------------ */

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static void sleep_ms(int ms)
{
	struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};

	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

static int send_all(int fd, const void *buf, size_t len)
{
	const char *p = buf;
	ssize_t n;

	while (len) {
		n = send(fd, p, len, MSG_NOSIGNAL);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

static void fill_random(unsigned char *buf, size_t len, uint64_t seed)
{
	uint64_t x = seed | 1;
	size_t i, n;

	for (i = 0; i < len; i += n) {
		x ^= x << 13; /* xorshift64 */
		x ^= x >> 7;
		x ^= x << 17;
		n = len - i < sizeof(x) ? len - i : sizeof(x);
		memcpy(buf + i, &x, n);
	}
}

static int wait_readable(int fd, int ms)
{
	struct pollfd pfd = {.fd = fd, .events = POLLIN};
	int rc;

	while ((rc = poll(&pfd, 1, ms)) < 0 && errno == EINTR)
		;
	return rc;
}

/* Read exactly len bytes within the timeout; 0 or -1. */
static int recv_all(int fd, void *buf, size_t len, int ms)
{
	double deadline = now_ms() + ms;
	char *p = buf;
	ssize_t n;

	while (len) {
		if (wait_readable(fd, (int)(deadline - now_ms()) + 1) <= 0)
			return -1;
		n = recv(fd, p, len, MSG_DONTWAIT);
		if (n < 0 && (errno == EAGAIN || errno == EINTR))
			continue;
		if (n <= 0)
			return -1;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

/* ---- echo and sink servers (threads) ------------------------------------ */

static void *echo_conn(void *arg)
{
	int fd = (int)(intptr_t)arg;
	char *buf = malloc(SERVER_BUF);
	ssize_t n = -1;

	while (buf && (n = recv(fd, buf, SERVER_BUF, 0)) > 0)
		if (send_all(fd, buf, (size_t)n) < 0)
			break;
	if (n == 0)
		shutdown(fd, SHUT_WR); /* pass the half-close back */
	close(fd);
	free(buf);
	return NULL;
}

/* Reads to EOF, then answers with the byte count in decimal. */
static void *sink_conn(void *arg)
{
	int fd = (int)(intptr_t)arg;
	char *buf = malloc(SERVER_BUF), reply[32];
	unsigned long long total = 0;
	ssize_t n = -1;

	while (buf && (n = recv(fd, buf, SERVER_BUF, 0)) > 0)
		total += (unsigned long long)n;
	if (n == 0) {
		snprintf(reply, sizeof(reply), "%llu\n", total);
		send_all(fd, reply, strlen(reply));
	}
	close(fd);
	free(buf);
	return NULL;
}

struct server {
	int fd;
	void *(*conn)(void *);
};

static void *server_main(void *arg)
{
	struct server *s = arg;
	pthread_t t;
	int fd, one = 1;

	for (;;) {
		fd = accept(s->fd, NULL, NULL);
		if (fd < 0)
			continue;
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
		if (pthread_create(&t, NULL, s->conn, (void *)(intptr_t)fd))
			close(fd);
		else
			pthread_detach(t);
	}
	return NULL;
}

static int listen_loopback(unsigned *port)
{
	struct sockaddr_in sin = {.sin_family = AF_INET,
				  .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t len = sizeof(sin);
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	if (fd < 0 || bind(fd, (struct sockaddr *)&sin, sizeof(sin)) < 0 ||
	    listen(fd, 128) < 0 ||
	    getsockname(fd, (struct sockaddr *)&sin, &len) < 0) {
		perror("test server");
		exit(1);
	}
	*port = ntohs(sin.sin_port);
	return fd;
}

static void server_start(struct server *s, void *(*conn)(void *),
			 unsigned *port)
{
	pthread_t t;

	s->fd = listen_loopback(port);
	s->conn = conn;
	if (pthread_create(&t, NULL, server_main, s)) {
		perror("pthread_create");
		exit(1);
	}
	pthread_detach(t);
}

/* A port nothing listens on (almost surely, for the test's duration). */
static unsigned dead_port(void)
{
	unsigned port;

	close(listen_loopback(&port));
	return port;
}

/* ---- the proxy child ---------------------------------------------------- */

static const char *proxy_bin(void)
{
	const char *p = getenv("DELAYPROXY");

	return p && *p ? p : "./tests/tools/delayproxy";
}

static void exec_child(const char **argv, pid_t parent, bool silent)
{
	int null;

	/* Die with the test, however it ends. */
	prctl(PR_SET_PDEATHSIG, SIGTERM);
	if (getppid() != parent)
		_exit(127);
	if (silent && (null = open("/dev/null", O_WRONLY)) >= 0) {
		dup2(null, 1);
		dup2(null, 2);
	}
	execv(argv[0], (char *const *)argv);
	_exit(127);
}

static unsigned dp_wait_port(struct dp *d)
{
	double deadline = now_ms() + START_TIMEOUT_MS;
	unsigned port = 0;
	int status;
	FILE *f;

	while (now_ms() < deadline) {
		f = fopen(d->port_file, "r");
		if (f) {
			if (fscanf(f, "%u", &port) != 1)
				port = 0;
			fclose(f);
			if (port)
				return port;
		}
		if (waitpid(d->pid, &status, WNOHANG) == d->pid) {
			d->pid = 0;
			ck_abort_msg("proxy exited at start, status %#x",
				     status);
		}
		sleep_ms(2);
	}
	ck_abort_msg("proxy did not write %s", d->port_file);
	return 0;
}

/* Start the proxy towards target (NULL: the echo server) with extra args
 * (NULL-terminated). */
static struct dp *dp_start(const char *target, ...)
{
	const char *argv[MAX_ARGS], *a;
	char dir[] = "/tmp/dptest.XXXXXX", tgt[32];
	pid_t parent = getpid();
	struct dp *d;
	int argc = 0;
	va_list ap;

	ck_assert_int_lt(nproxies, MAX_PROXIES);
	d = &proxies[nproxies++];
	memset(d, 0, sizeof(*d));
	ck_assert_ptr_nonnull(mkdtemp(dir));
	strcpy(d->dir, dir);
	snprintf(d->port_file, sizeof(d->port_file), "%s/port", dir);
	snprintf(d->ctl_path, sizeof(d->ctl_path), "%s/ctl", dir);
	if (!target) {
		snprintf(tgt, sizeof(tgt), "127.0.0.1:%u", echo_port);
		target = tgt;
	}
	argv[argc++] = proxy_bin();
	argv[argc++] = "-t";
	argv[argc++] = target;
	argv[argc++] = "-p";
	argv[argc++] = d->port_file;
	argv[argc++] = "-c";
	argv[argc++] = d->ctl_path;
	va_start(ap, target);
	while ((a = va_arg(ap, const char *)) && argc < MAX_ARGS - 1)
		argv[argc++] = a;
	va_end(ap);
	argv[argc] = NULL;
	d->pid = fork();
	if (d->pid == 0)
		exec_child(argv, parent, false);
	ck_assert_int_gt(d->pid, 0);
	d->port = dp_wait_port(d);
	return d;
}

/* SIGTERM, then reap (SIGKILL if it does not exit); the wait status. */
static int dp_term(struct dp *d)
{
	double deadline = now_ms() + STOP_TIMEOUT_MS;
	int status = -1;

	if (d->pid <= 0)
		return -1;
	kill(d->pid, SIGTERM);
	while (waitpid(d->pid, &status, WNOHANG) == 0) {
		if (now_ms() > deadline) {
			fprintf(stderr, "proxy %d ignores SIGTERM\n", d->pid);
			kill(d->pid, SIGKILL);
			waitpid(d->pid, &status, 0);
			status = -1;
			break;
		}
		sleep_ms(1);
	}
	d->pid = 0;
	return status;
}

/* Stop every proxy; one that does not exit 0 on SIGTERM (a sanitizer
 * report, say) fails the run, from main since a teardown cannot assert. */
static void dp_stop_all(void)
{
	struct dp *d;
	int status;

	for (; nproxies > 0; nproxies--) {
		d = &proxies[nproxies - 1];
		status = d->pid > 0 ? dp_term(d) : 0;
		if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
			fprintf(stderr, "proxy ended with wait status %#x\n",
				status);
			bad_exits++;
		}
		if (d->dir[0]) {
			unlink(d->port_file);
			unlink(d->ctl_path);
			rmdir(d->dir);
			d->dir[0] = '\0';
		}
	}
}

static void teardown(void)
{
	dp_stop_all();
}

/* One control command; the answer line without its newline. */
static void ctl(struct dp *d, const char *cmd, char *reply, size_t size)
{
	struct sockaddr_un sun = {.sun_family = AF_UNIX};
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	size_t len = 0;
	char line[256];
	ssize_t n;

	ck_assert_int_ge(fd, 0);
	strcpy(sun.sun_path, d->ctl_path);
	ck_assert_int_eq(connect(fd, (struct sockaddr *)&sun, sizeof(sun)), 0);
	snprintf(line, sizeof(line), "%s\n", cmd);
	ck_assert_int_eq(send_all(fd, line, strlen(line)), 0);
	while (!memchr(reply, '\n', len) && len < size - 1) {
		ck_assert_msg(wait_readable(fd, CTL_TIMEOUT_MS) > 0,
			      "no answer to '%s'", cmd);
		n = recv(fd, reply + len, size - 1 - len, 0);
		ck_assert_msg(n > 0, "control socket closed on '%s'", cmd);
		len += (size_t)n;
	}
	close(fd);
	reply[len] = '\0';
	reply[strcspn(reply, "\n")] = '\0';
}

static void ctl_ok(struct dp *d, const char *cmd)
{
	char reply[256];

	ctl(d, cmd, reply, sizeof(reply));
	ck_assert_msg(strncmp(reply, "ok", 2) == 0, "'%s' -> '%s'", cmd, reply);
}

struct stats {
	unsigned long conns, accepted;
	unsigned long long c2s, s2c;
};

static struct stats dp_stats(struct dp *d)
{
	struct stats s;
	char reply[256];

	ctl(d, "stats", reply, sizeof(reply));
	ck_assert_msg(sscanf(reply,
			     "ok conns=%lu accepted=%lu c2s=%llu "
			     "s2c=%llu",
			     &s.conns, &s.accepted, &s.c2s, &s.s2c) == 4,
		      "stats: '%s'", reply);
	return s;
}

/* ---- client side -------------------------------------------------------- */

static int dial(unsigned port)
{
	struct sockaddr_in sin = {.sin_family = AF_INET,
				  .sin_port = htons((uint16_t)port),
				  .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), one = 1;

	ck_assert_int_ge(fd, 0);
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	ck_assert_int_eq(connect(fd, (struct sockaddr *)&sin, sizeof(sin)), 0);
	return fd;
}

static double ping_ms(int fd)
{
	char c = 'p';
	double t0 = now_ms();

	ck_assert_int_eq(send_all(fd, &c, 1), 0);
	ck_assert_int_eq(recv_all(fd, &c, 1, IO_TIMEOUT_MS), 0);
	ck_assert_int_eq(c, 'p');
	return now_ms() - t0;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

static double median_ping_ms(int fd)
{
	double t[PINGS];
	int i;

	for (i = 0; i < PINGS; i++)
		t[i] = ping_ms(fd);
	qsort(t, PINGS, sizeof(t[0]), cmp_double);
	return t[PINGS / 2];
}

/* Send len bytes while reading len back; 0 or -1 (error, EOF, timeout). */
static int xfer(int fd, const unsigned char *out, unsigned char *in, size_t len)
{
	double deadline = now_ms() + IO_TIMEOUT_MS;
	size_t sent = 0, got = 0;
	struct pollfd pfd = {.fd = fd};
	ssize_t n;

	while (got < len && now_ms() < deadline) {
		pfd.events = POLLIN | (sent < len ? POLLOUT : 0);
		if (poll(&pfd, 1, 100) <= 0)
			continue;
		if (sent < len && (pfd.revents & POLLOUT)) {
			n = send(fd, out + sent, len - sent,
				 MSG_NOSIGNAL | MSG_DONTWAIT);
			if (n < 0 && errno != EAGAIN && errno != EINTR)
				return -1;
			sent += n > 0 ? (size_t)n : 0;
		}
		if (pfd.revents & (POLLIN | POLLERR | POLLHUP)) {
			n = recv(fd, in + got, len - got, MSG_DONTWAIT);
			if (n == 0 ||
			    (n < 0 && errno != EAGAIN && errno != EINTR))
				return -1;
			got += n > 0 ? (size_t)n : 0;
		}
	}
	return got == len ? 0 : -1;
}

/* Echo len random bytes through the proxy, check them; seconds taken. */
static double echo_check(unsigned port, size_t len)
{
	unsigned char *out = malloc(len), *in = malloc(len);
	int fd = dial(port);
	double t0;

	ck_assert_ptr_nonnull(out);
	ck_assert_ptr_nonnull(in);
	fill_random(out, len, (uint64_t)len * 2654435761u);
	memset(in, 0, len); /* fault the pages in before the clock starts */
	t0 = now_ms();
	ck_assert_msg(xfer(fd, out, in, len) == 0, "echo of %zu bytes failed",
		      len);
	t0 = (now_ms() - t0) / 1e3;
	ck_assert_msg(memcmp(out, in, len) == 0, "echoed bytes differ");
	close(fd);
	free(out);
	free(in);
	return t0;
}

/* The peer closed or reset the connection within ms. */
static bool sees_close(int fd, int ms)
{
	char c;
	ssize_t n;

	if (wait_readable(fd, ms) <= 0)
		return false;
	n = recv(fd, &c, 1, MSG_DONTWAIT);
	return n == 0 || (n < 0 && (errno == ECONNRESET || errno == EPIPE));
}

/* ---- tests -------------------------------------------------------------- */

START_TEST(test_integrity)
{
	struct dp *d = dp_start(NULL, "-d", "5", NULL);
	double s = echo_check(d->port, 32 * MIB);

	fprintf(stderr, "integrity: 32 MiB at -d 5 echoed intact in %.3f s\n",
		s);
}
END_TEST

START_TEST(test_latency)
{
	struct dp *d20 = dp_start(NULL, "-d", "20", NULL);
	struct dp *d0 = dp_start(NULL, "-d", "0", NULL);
	int fd20 = dial(d20->port), fd0 = dial(d0->port);
	double rtt20, rtt0;

	ping_ms(fd20); /* warm up: upstream connect, caches */
	ping_ms(fd0);
	rtt20 = median_ping_ms(fd20);
	rtt0 = median_ping_ms(fd0);
	fprintf(stderr,
		"latency: median RTT %.2f ms at -d 20, %.3f ms at "
		"-d 0\n",
		rtt20, rtt0);
	ck_assert_msg(rtt20 >= 40.0 && rtt20 < SLACK_MS + 40.0, "RTT %.2f ms", rtt20);
	ck_assert_msg(rtt0 < SLACK_MS, "RTT %.3f ms", rtt0);
	close(fd20);
	close(fd0);
}
END_TEST

static void throughput(const char *delay)
{
	struct dp *d = dp_start(NULL, "-d", delay, NULL);
	double s = echo_check(d->port, 64 * MIB);

	fprintf(stderr,
		"throughput: 64 MiB echoed at -d %s in %.3f s "
		"(%.0f MB/s each way)\n",
		delay, s, 64.0 * MIB / s / 1e6);
	/* A proxy that serialises (one 256 KiB read per 25 ms delay) needs
	 * 6.4 s; this one takes 0.1-0.4 s here.  That the delay cannot limit
	 * throughput however fast the machine is, test_backpressure shows:
	 * the proxy reads ahead a full queue (64 MiB) regardless of delay. */
	ck_assert_msg(s < SLACK_S, "64 MiB took %.3f s at -d %s", s, delay);
}

START_TEST(test_throughput_delay)
{
	throughput("25");
}
END_TEST

START_TEST(test_throughput_nodelay)
{
	throughput("0");
}
END_TEST

/* 20 MB one way through -b 10000000 to the sink: >= 1.6 s, not ~2x more. */
START_TEST(test_rate_cap)
{
	const size_t len = 20000000;
	char tgt[32], reply[32];
	unsigned char *buf = calloc(1, len);
	struct dp *d;
	double t0, s;
	int fd;

	snprintf(tgt, sizeof(tgt), "127.0.0.1:%u", sink_port);
	d = dp_start(tgt, "-b", "10000000", NULL);
	fd = dial(d->port);
	ck_assert_ptr_nonnull(buf);
	t0 = now_ms();
	ck_assert_int_eq(send_all(fd, buf, len), 0);
	shutdown(fd, SHUT_WR);
	memset(reply, 0, sizeof(reply));
	ck_assert_int_eq(recv_all(fd, reply, 9, IO_TIMEOUT_MS), 0);
	s = (now_ms() - t0) / 1e3;
	fprintf(stderr, "rate: 20 MB one way at -b 10000000 in %.3f s\n", s);
	ck_assert_str_eq(reply, "20000000\n");
	ck_assert_msg(s >= 1.6 && s < SLACK_S, "20 MB took %.3f s", s);
	close(fd);
	free(buf);
}
END_TEST

START_TEST(test_stall_resume)
{
	struct dp *d = dp_start(NULL, NULL);
	unsigned char out[1000], in[1000];
	int fd = dial(d->port);

	fill_random(out, sizeof(out), 7);
	ping_ms(fd);
	ctl_ok(d, "stall");
	ck_assert_int_eq(send_all(fd, out, sizeof(out)), 0);
	ck_assert_msg(wait_readable(fd, 300) == 0, "echoed while stalled");
	ctl_ok(d, "resume");
	ck_assert_int_eq(recv_all(fd, in, sizeof(in), 2000), 0);
	ck_assert(memcmp(out, in, sizeof(in)) == 0);
	ping_ms(fd);
	close(fd);
}
END_TEST

/*
 * With delivery stalled the proxy reads ahead up to its 64 MiB queue cap,
 * then stops: the client blocks (socket buffers add tens of MiB at most), no
 * byte is delivered, and after resume every byte arrives in order.
 */
START_TEST(test_backpressure)
{
	const size_t cap = 64 * MIB, max = cap + 64 * MIB;
	unsigned char *out = malloc(max), *in = malloc(max);
	struct dp *d = dp_start(NULL, NULL);
	int fd = dial(d->port);
	struct pollfd pfd = {.fd = fd, .events = POLLOUT};
	size_t sent = 0;
	ssize_t n;

	ck_assert_ptr_nonnull(out);
	ck_assert_ptr_nonnull(in);
	fill_random(out, max, 11);
	ctl_ok(d, "stall");
	while (sent < max && poll(&pfd, 1, 500) > 0) {
		n = send(fd, out + sent, max - sent,
			 MSG_NOSIGNAL | MSG_DONTWAIT);
		ck_assert_msg(n > 0 || errno == EAGAIN, "send: %s",
			      strerror(errno));
		sent += n > 0 ? (size_t)n : 0;
	}
	fprintf(stderr, "back-pressure: %.1f MiB taken while stalled\n",
		(double)sent / MIB);
	ck_assert_msg(sent >= cap && sent < max, "%zu bytes taken", sent);
	ck_assert_uint_eq(dp_stats(d).c2s, 0);
	ctl_ok(d, "resume");
	memset(in, 0, sent);
	ck_assert_int_eq(recv_all(fd, in, sent, IO_TIMEOUT_MS), 0);
	ck_assert(memcmp(out, in, sent) == 0);
	close(fd);
	free(out);
	free(in);
}
END_TEST

START_TEST(test_cut)
{
	struct dp *d = dp_start(NULL, "-d", "1", NULL);
	int a = dial(d->port), b = dial(d->port), c;
	double t0;

	ping_ms(a);
	ping_ms(b);
	ck_assert_uint_eq(dp_stats(d).conns, 2);
	t0 = now_ms();
	ctl_ok(d, "cut");
	ck_assert_msg(sees_close(a, 1000), "first client not cut");
	ck_assert_msg(sees_close(b, 1000), "second client not cut");
	ck_assert_msg(now_ms() - t0 < SLACK_MS * 5, "cut took %.0f ms", now_ms() - t0);
	ck_assert_uint_eq(dp_stats(d).conns, 0);
	c = dial(d->port); /* and new connections still work */
	ping_ms(c);
	close(a);
	close(b);
	close(c);
}
END_TEST

START_TEST(test_refuse)
{
	struct dp *d = dp_start(NULL, NULL);
	int old = dial(d->port), fd;

	ping_ms(old);
	ctl_ok(d, "refuse on");
	fd = dial(d->port);
	ck_assert_msg(sees_close(fd, 1000), "refused client not closed");
	close(fd);
	ping_ms(old); /* existing connections are left alone */
	ctl_ok(d, "refuse off");
	fd = dial(d->port);
	ping_ms(fd);
	ck_assert_uint_eq(dp_stats(d).accepted, 3);
	close(fd);
	close(old);
}
END_TEST

START_TEST(test_stats)
{
	struct dp *d = dp_start(NULL, NULL);
	double deadline;
	struct stats s;

	s = dp_stats(d);
	ck_assert_uint_eq(s.conns, 0);
	ck_assert_uint_eq(s.accepted, 0);
	echo_check(d->port, 12345); /* closes its connection */
	s = dp_stats(d);
	ck_assert_uint_eq(s.accepted, 1);
	ck_assert_uint_eq(s.c2s, 12345);
	ck_assert_uint_eq(s.s2c, 12345);
	deadline = now_ms() + 2000;
	while (dp_stats(d).conns != 0 && now_ms() < deadline)
		sleep_ms(5);
	ck_assert_msg(dp_stats(d).conns == 0, "pair not freed after close");
}
END_TEST

START_TEST(test_control_delay_rate)
{
	struct dp *d = dp_start(NULL, NULL);
	int fd = dial(d->port);
	double rtt, s;

	ping_ms(fd);
	ctl_ok(d, "delay 15");
	rtt = median_ping_ms(fd);
	ck_assert_msg(rtt >= 30.0 && rtt < SLACK_MS + 30.0, "RTT %.2f ms", rtt);
	ctl_ok(d, "delay 0");
	rtt = median_ping_ms(fd);
	ck_assert_msg(rtt < 5.0, "RTT %.2f ms", rtt);
	close(fd);
	ctl_ok(d, "rate 1000000");
	s = echo_check(d->port, 500000);
	ck_assert_msg(s >= 0.4 && s < 2.0, "500 kB at 1 MB/s in %.3f s", s);
	ctl_ok(d, "rate 0");
	s = echo_check(d->port, 4 * MIB);
	ck_assert_msg(s < 1.0, "4 MiB uncapped in %.3f s", s);
}
END_TEST

START_TEST(test_control_errors)
{
	static const char *const bad[] = {
		"bogus",     "delay", "delay -1", "delay 1 2",
		"delay x",   "rate",  "rate -5",  "refuse maybe",
		"stall now", "",      "stats 1",
	};
	struct dp *d = dp_start(NULL, NULL);
	char reply[256];
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		ctl(d, bad[i], reply, sizeof(reply));
		ck_assert_msg(strncmp(reply, "error", 5) == 0, "'%s' -> '%s'",
			      bad[i], reply);
	}
	ctl_ok(d, "stats");
}
END_TEST

START_TEST(test_half_close)
{
	struct dp *d = dp_start(NULL, "-d", "5", NULL);
	size_t len = 100000;
	unsigned char *out = malloc(len), *in = malloc(len);
	int fd = dial(d->port);

	ck_assert_ptr_nonnull(out);
	ck_assert_ptr_nonnull(in);
	fill_random(out, len, 3);
	ck_assert_int_eq(send_all(fd, out, len), 0);
	shutdown(fd, SHUT_WR);
	ck_assert_int_eq(recv_all(fd, in, len, IO_TIMEOUT_MS), 0);
	ck_assert(memcmp(out, in, len) == 0);
	ck_assert_msg(sees_close(fd, 2000), "EOF not forwarded back");
	close(fd);
	free(out);
	free(in);
}
END_TEST

START_TEST(test_many_pairs)
{
	struct dp *d = dp_start(NULL, "-d", "2", NULL);
	unsigned char out[1000], in[1000];
	int fds[MANY_CONNS], i;
	double deadline;

	for (i = 0; i < MANY_CONNS; i++) {
		fds[i] = dial(d->port);
		fill_random(out, sizeof(out), (uint64_t)i + 1);
		ck_assert_int_eq(send_all(fds[i], out, sizeof(out)), 0);
	}
	for (i = 0; i < MANY_CONNS; i++) {
		fill_random(out, sizeof(out), (uint64_t)i + 1);
		ck_assert_int_eq(recv_all(fds[i], in, sizeof(in), 5000), 0);
		ck_assert_msg(memcmp(out, in, sizeof(in)) == 0, "conn %d", i);
	}
	ck_assert_uint_eq(dp_stats(d).conns, MANY_CONNS);
	for (i = 0; i < MANY_CONNS; i++)
		close(fds[i]);
	deadline = now_ms() + 2000;
	while (dp_stats(d).conns != 0 && now_ms() < deadline)
		sleep_ms(5);
	ck_assert_uint_eq(dp_stats(d).conns, 0);
}
END_TEST

START_TEST(test_upstream_down)
{
	char tgt[32];
	struct dp *d;
	int fd;

	snprintf(tgt, sizeof(tgt), "127.0.0.1:%u", dead_port());
	d = dp_start(tgt, "-q", NULL);
	fd = dial(d->port);
	ck_assert_msg(sees_close(fd, 1000), "client kept after failed connect");
	close(fd);
	ck_assert_uint_eq(dp_stats(d).conns, 0);
}
END_TEST

START_TEST(test_sigterm)
{
	struct dp *d = dp_start(NULL, NULL);
	int fd = dial(d->port), status;

	ping_ms(fd);
	status = dp_term(d);
	ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0,
		      "proxy wait status %#x", status);
	ck_assert_msg(access(d->ctl_path, F_OK) < 0, "control socket left");
	ck_assert_msg(sees_close(fd, 1000), "client not closed");
	close(fd);
	/* Nothing left running: no child of ours is alive or a zombie. */
	ck_assert_int_eq(waitpid(-1, NULL, WNOHANG), -1);
	ck_assert_int_eq(errno, ECHILD);
}
END_TEST

static int run_status(const char *a1, const char *a2, const char *a3)
{
	const char *argv[] = {proxy_bin(), a1, a2, a3, NULL};
	pid_t parent = getpid(), pid = fork();
	int status;

	if (pid == 0)
		exec_child(argv, parent, true);
	ck_assert_int_gt(pid, 0);
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert(WIFEXITED(status));
	return WEXITSTATUS(status);
}

START_TEST(test_bad_args)
{
	ck_assert_int_eq(run_status("-h", NULL, NULL), 0);
	ck_assert_int_eq(run_status(NULL, NULL, NULL), 2);
	ck_assert_int_eq(run_status("-t", "nocolon", NULL), 2);
	ck_assert_int_eq(run_status("-t", "127.0.0.1:99999", NULL), 2);
	ck_assert_int_eq(run_status("-t", "127.0.0.1:22", "-x"), 2);
	ck_assert_int_eq(run_status("-t", "127.0.0.1:22", "extra"), 2);
	ck_assert_int_eq(run_status("-d", "-1", "-t"), 2);
	ck_assert_int_eq(run_status("-b", "fast", NULL), 2);
}
END_TEST

static Suite *delayproxy_suite(void)
{
	Suite *s = suite_create("delayproxy");
	TCase *tc = tcase_create("loopback");

	tcase_add_checked_fixture(tc, NULL, teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_bad_args);
	tcase_add_test(tc, test_integrity);
	tcase_add_test(tc, test_latency);
	tcase_add_test(tc, test_throughput_delay);
	tcase_add_test(tc, test_throughput_nodelay);
	tcase_add_test(tc, test_rate_cap);
	tcase_add_test(tc, test_stall_resume);
	tcase_add_test(tc, test_backpressure);
	tcase_add_test(tc, test_cut);
	tcase_add_test(tc, test_refuse);
	tcase_add_test(tc, test_stats);
	tcase_add_test(tc, test_control_delay_rate);
	tcase_add_test(tc, test_control_errors);
	tcase_add_test(tc, test_half_close);
	tcase_add_test(tc, test_many_pairs);
	tcase_add_test(tc, test_upstream_down);
	tcase_add_test(tc, test_sigterm);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	static struct server echo, sink;
	SRunner *sr;
	int failed;

	if (access(proxy_bin(), X_OK) < 0) {
		fprintf(stderr, "%s: %s (set DELAYPROXY)\n", proxy_bin(),
			strerror(errno));
		return 99; /* hard error, as in integ.h */
	}
	signal(SIGPIPE, SIG_IGN);
	atexit(dp_stop_all);
	server_start(&echo, echo_conn, &echo_port);
	server_start(&sink, sink_conn, &sink_port);
	sr = srunner_create(delayproxy_suite());
	/* No fork: the teardown (kill + reap) must run after a failure. */
	srunner_set_fork_status(sr, CK_NOFORK);
	srunner_run_all(sr, CK_ENV);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	dp_stop_all();
	return failed || bad_exits ? 1 : 0;
}
