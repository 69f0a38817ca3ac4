/*
 * test_hostile.c - the library against a server that breaks the protocol
 * on purpose (issue #10), through the public API only.
 *
 * Each test starts tests/hostile/hostile_server.py with one --case (see
 * there and tests/hostile/README), connects, and goes as far as the
 * fault: handshake, authentication, libssh2_sftp_init, or one SFTP call.
 * The call that meets the fault must return the error the table names,
 * within the session timeout, and everything must be freed afterwards
 * (sftp_shutdown, session_disconnect, session_free), with no crash under
 * ASan/UBSan and no leak under valgrind (make check-valgrind).  A hang is
 * a failure, not a blocked CI: the session has a timeout and each test an
 * alarm().  The good cases (none, strict KEX, a server-started rekey,
 * SFTP replies cut into many CHANNEL_DATA messages, odd but legal
 * windows) run the same operations and check their results, so a bad
 * case differs from them only in its fault.  A few cases run again in
 * non-blocking mode: they must end in the same error, never in EAGAIN
 * for ever.
 */
#define _GNU_SOURCE /* pipe2 */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "libssh2.h"
#include "libssh2_sftp.h"

#include "interop.h"

#ifndef HOSTILE_SERVER
#define HOSTILE_SERVER "tests/hostile/hostile_server.py"
#endif

/* Python, cryptography and a key pair take a fraction of a second; a
 * loaded machine (valgrind in parallel) gets more. */
#define START_TIMEOUT_MS 30000
/* The session timeout: every fault must be met long before it. */
#define SESSION_TIMEOUT_MS 20000
/* The endless-data case waits this long for data that never comes. */
#define ENDLESS_TIMEOUT_MS 1500
/* The endless directory: names read, the first ENDLESS_WARMUP of them
 * before the library's memory is taken as its steady state, and how far
 * above that it may go (one NAME reply of 100 names is ~10 KiB). */
#define ENDLESS_NAMES 50000
#define ENDLESS_WARMUP 1000
#define ENDLESS_GROWTH_MAX (128 * 1024)
/* A test that still runs after this is hung: SIGALRM ends it. */
#define ALARM_S 90
/* The deadline of a non-blocking loop. */
#define NB_DEADLINE_MS 20000

/* hostile_server.py's tree and user */
#define USER	 "tester"
#define PASSWORD "secret"
#define HELLO	 "hello, hostile world\n"
#define BAD_TXT	 "bad but true\n"
#define BIG_SIZE (256 * 1024)
/* The small window of the raw channels of the channel cases. */
#define RAW_WINDOW 65536
#define RAW_PACKET 32768

static const char *python, *script;
/* Every server's directory is made in here; what a failed test left
 * (Check's child ends with _exit) is shown and removed at the end. */
static char *base;

/* ---- the server ---------------------------------------------------------- */

struct hs {
	struct interop_server srv;
	char *dir;
	int stdin_w; /* the server exits when this is closed */
};

static void hs_start(struct hs *h, const char *cs, const char *extra)
{
	char log[PATH_MAX], portf[PATH_MAX];
	char *argv[10];
	int fds[2], i, n = 0;
	FILE *f;

	memset(h, 0, sizeof(*h));
	h->dir = malloc(PATH_MAX);
	ck_assert_ptr_nonnull(h->dir);
	snprintf(h->dir, PATH_MAX, "%s/%s.XXXXXX", base, cs);
	ck_assert_msg(mkdtemp(h->dir) != NULL, "mkdtemp: %s", strerror(errno));
	/* python -W ignore hostile_server.py --case CS --dir DIR [EXTRA] */
	argv[n++] = (char *)python;
	argv[n++] = "-W";
	argv[n++] = "ignore";
	argv[n++] = (char *)script;
	argv[n++] = "--case";
	argv[n++] = (char *)cs;
	argv[n++] = "--dir";
	argv[n++] = h->dir;
	argv[n++] = (char *)extra;
	argv[n] = NULL;
	snprintf(log, sizeof(log), "%s/server.log", h->dir);
	snprintf(portf, sizeof(portf), "%s/port", h->dir);
	if (pipe2(fds, O_CLOEXEC)) {
		perror("pipe");
		exit(99);
	}
	interop_spawn(&h->srv, argv, log, fds[0], NULL, NULL);
	close(fds[0]);
	h->stdin_w = fds[1];
	for (i = 0; i < START_TIMEOUT_MS / 10 && access(portf, F_OK); i++) {
		if (!interop_alive(&h->srv))
			break;
		usleep(10000);
	}
	f = fopen(portf, "r");
	if (!f || fscanf(f, "%d", &h->srv.port) != 1) {
		interop_log_tail(&h->srv, 40);
		ck_abort_msg("the hostile server (case %s) did not start", cs);
	}
	fclose(f);
}

static void hs_stop(struct hs *h)
{
	if (h->stdin_w >= 0)
		close(h->stdin_w);
	h->stdin_w = -1;
	interop_stop(&h->srv);
	interop_rmtree(h->dir);
	free(h->dir);
	h->dir = NULL;
}

/* ---- a connection -------------------------------------------------------- */

struct cx {
	struct hs h;
	int fd;
	LIBSSH2_SESSION *s;
	LIBSSH2_SFTP *sf;
	int nb;	 /* non-blocking: every call goes through nb_wait */
	long t0; /* when the call under test began */
	/* the fault's status and message, when later calls come first */
	unsigned long status;
	char msg[256];
};

static long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000L + ts.tv_nsec / 1000000L;
}

static const char *errmsg(struct cx *c)
{
	return interop_errmsg(c->s);
}

/* Non-blocking mode: wait on the socket in the directions the library
 * asks for; EAGAIN past the deadline fails the test. */
static void nb_wait(struct cx *c, long deadline)
{
	int dirs = libssh2_session_block_directions(c->s);
	struct pollfd p = {.fd = c->fd};
	long left = deadline - now_ms();

	ck_assert_msg(left > 0, "still EAGAIN after %d ms", NB_DEADLINE_MS);
	if (dirs & LIBSSH2_SESSION_BLOCK_INBOUND)
		p.events |= POLLIN;
	if (dirs & LIBSSH2_SESSION_BLOCK_OUTBOUND)
		p.events |= POLLOUT;
	ck_assert_msg(p.events, "EAGAIN without a direction to wait for");
	(void)poll(&p, 1, (int)left);
}

/* Run an int-returning call; in non-blocking mode until it stops
 * returning EAGAIN. */
#define CALL(c, expr)                                                          \
	({                                                                     \
		long dl_ = now_ms() + NB_DEADLINE_MS, rc_;                     \
		(c)->t0 = now_ms();                                            \
		while ((rc_ = (long)(expr)) == LIBSSH2_ERROR_EAGAIN &&         \
		       (c)->nb)                                                \
			nb_wait((c), dl_);                                     \
		rc_;                                                           \
	})

/* The same for a call that returns a pointer (NULL and last_errno). */
#define CALLP(c, expr)                                                         \
	({                                                                     \
		long dl_ = now_ms() + NB_DEADLINE_MS;                          \
		__typeof__(expr) p_;                                           \
		(c)->t0 = now_ms();                                            \
		while (!(p_ = (expr)) && (c)->nb &&                            \
		       libssh2_session_last_errno((c)->s) ==                   \
			       LIBSSH2_ERROR_EAGAIN)                           \
			nb_wait((c), dl_);                                     \
		p_;                                                            \
	})

/* The call under test failed with want, in bounded time (its error is
 * the fault's, not the session timeout's). */
#define WANT(c, rc, want)                                                      \
	do {                                                                   \
		long rc__ = (rc), el__ = now_ms() - (c)->t0;                   \
		ck_assert_msg(rc__ == (want), "%s: %ld (%s), want %d", #rc,    \
			      rc__, errmsg(c), (int)(want));                   \
		ck_assert_msg(el__ < SESSION_TIMEOUT_MS / 2, "%s took %ld ms", \
			      #rc, el__);                                      \
	} while (0)

/* ---- the library's memory ------------------------------------------------ */

/* What a session has allocated (through libssh2_session_init_ex): now,
 * and the most at once. */
struct memcount {
	size_t live, peak;
};

/* Each block carries its size in front, in a header that keeps the
 * alignment malloc gives. */
#define MC_HEAD 16

static void mc_add(struct memcount *m, size_t n)
{
	m->live += n;
	if (m->live > m->peak)
		m->peak = m->live;
}

static LIBSSH2_ALLOC_FUNC(mc_alloc)
{
	struct memcount *m = *abstract;
	unsigned char *p = malloc(count + MC_HEAD);

	if (!p)
		return NULL;
	memcpy(p, &count, sizeof(count));
	mc_add(m, count);
	return p + MC_HEAD;
}

static LIBSSH2_FREE_FUNC(mc_free)
{
	struct memcount *m = *abstract;
	unsigned char *p = ptr;
	size_t n;

	if (!p)
		return;
	p -= MC_HEAD;
	memcpy(&n, p, sizeof(n));
	m->live -= n;
	free(p);
}

static LIBSSH2_REALLOC_FUNC(mc_realloc)
{
	struct memcount *m = *abstract;
	unsigned char *p = ptr, *np;
	size_t old;

	if (!p)
		return mc_alloc(count, abstract);
	p -= MC_HEAD;
	memcpy(&old, p, sizeof(old));
	if (!(np = realloc(p, count + MC_HEAD)))
		return NULL;
	memcpy(np, &count, sizeof(count));
	m->live -= old;
	mc_add(m, count);
	return np + MC_HEAD;
}

/* A session whose allocations m counts (NULL: the default allocator). */
static void cx_start_mc(struct cx *c, const char *cs, const char *extra,
			int nb, struct memcount *m)
{
	alarm(ALARM_S);
	memset(c, 0, sizeof(*c));
	hs_start(&c->h, cs, extra);
	c->nb = nb;
	c->s = m ? libssh2_session_init_ex(mc_alloc, mc_free, mc_realloc, m)
		 : libssh2_session_init();
	ck_assert_ptr_nonnull(c->s);
	libssh2_session_set_timeout(c->s, SESSION_TIMEOUT_MS);
	c->fd = interop_connect(c->h.srv.port);
	if (nb)
		libssh2_session_set_blocking(c->s, 0);
}

static void cx_start(struct cx *c, const char *cs, const char *extra, int nb)
{
	cx_start_mc(c, cs, extra, nb, NULL);
}

static int cx_handshake(struct cx *c)
{
	return (int)CALL(c, libssh2_session_handshake(c->s, c->fd));
}

static int cx_password(struct cx *c, const char *pw)
{
	return (int)CALL(c, libssh2_userauth_password(c->s, USER, pw));
}

static void cx_login(struct cx *c)
{
	int rc = cx_handshake(c);

	ck_assert_msg(rc == 0, "handshake: %d %s", rc, errmsg(c));
	rc = cx_password(c, PASSWORD);
	ck_assert_msg(rc == 0, "password: %d %s", rc, errmsg(c));
}

static LIBSSH2_SFTP *cx_sftp_init(struct cx *c)
{
	return CALLP(c, libssh2_sftp_init(c->s));
}

static void cx_sftp(struct cx *c)
{
	cx_login(c);
	c->sf = cx_sftp_init(c);
	ck_assert_msg(c->sf != NULL, "sftp_init: %s", errmsg(c));
}

/* Everything can be freed, whatever state the fault left. */
static void cx_end(struct cx *c)
{
	if (c->sf)
		ck_assert_int_eq(CALL(c, libssh2_sftp_shutdown(c->sf)), 0);
	c->sf = NULL;
	(void)CALL(c, libssh2_session_disconnect(c->s, "bye"));
	ck_assert_int_eq(libssh2_session_free(c->s), 0);
	close(c->fd);
	hs_stop(&c->h);
	alarm(0);
}

/* ---- SFTP helpers -------------------------------------------------------- */

static int c_stat(struct cx *c, const char *path, LIBSSH2_SFTP_ATTRIBUTES *a)
{
	return (int)CALL(c, libssh2_sftp_stat(c->sf, path, a));
}

static LIBSSH2_SFTP_HANDLE *c_open(struct cx *c, const char *path,
				   unsigned long flags, int type)
{
	return CALLP(c,
		     libssh2_sftp_open_ex(c->sf, path, (unsigned)strlen(path),
					  flags, 0644, type));
}

/* Read a whole file into buf (cap bytes): its length, or an error. */
static long c_read_all(struct cx *c, const char *path, char *buf, size_t cap)
{
	LIBSSH2_SFTP_HANDLE *h =
		c_open(c, path, LIBSSH2_FXF_READ, LIBSSH2_SFTP_OPENFILE);
	size_t got = 0;
	long n;

	if (!h)
		return libssh2_session_last_errno(c->s);
	while ((n = CALL(c, libssh2_sftp_read(h, buf + got, cap - got))) > 0)
		got += (size_t)n;
	ck_assert_int_eq(CALL(c, libssh2_sftp_close(h)), 0);
	return n < 0 ? n : (long)got;
}

static void check_file(struct cx *c, const char *path, const char *want)
{
	char buf[256];
	long n = c_read_all(c, path, buf, sizeof(buf));

	ck_assert_msg(n == (long)strlen(want), "read %s: %ld %s", path, n,
		      errmsg(c));
	ck_assert(!memcmp(buf, want, (size_t)n));
}

/* The SFTP channel still works (or, dead, fails cleanly). */
static void check_alive(struct cx *c)
{
	LIBSSH2_SFTP_ATTRIBUTES a;
	int rc = c_stat(c, "/hello.txt", &a);

	ck_assert_msg(rc == 0, "stat after the fault: %d %s", rc, errmsg(c));
	ck_assert_uint_eq(a.filesize, strlen(HELLO));
	check_file(c, "/hello.txt", HELLO);
}

static void check_dead(struct cx *c)
{
	LIBSSH2_SFTP_ATTRIBUTES a;

	ck_assert_int_lt(c_stat(c, "/hello.txt", &a), 0);
}

/* Every name of a directory, "name|" each, into out. */
static int list_dir(struct cx *c, const char *path, char *out, size_t cap)
{
	LIBSSH2_SFTP_HANDLE *d = c_open(c, path, 0, LIBSSH2_SFTP_OPENDIR);
	LIBSSH2_SFTP_ATTRIBUTES a;
	char name[512];
	int n, rc = 0;

	out[0] = 0;
	if (!d)
		return libssh2_session_last_errno(c->s);
	while ((n = (int)CALL(c, libssh2_sftp_readdir(d, name, sizeof(name),
						      &a))) > 0) {
		ck_assert_int_eq((int)strlen(name), n);
		ck_assert(strlen(out) + (size_t)n + 2 < cap);
		strcat(out, name);
		strcat(out, "|");
	}
	if (n < 0)
		rc = n;
	ck_assert_int_eq(CALL(c, libssh2_sftp_closedir(d)), 0);
	return rc;
}

/* ---- the good path ------------------------------------------------------- */

static unsigned char big_byte(size_t i)
{
	return (unsigned char)(i * 7 % 251);
}

static void check_hostkey(struct cx *c)
{
	char path[PATH_MAX];
	unsigned char *blob;
	const char *key;
	size_t len, klen;
	char *line;
	int type;

	snprintf(path, sizeof(path), "%s/host_ed25519.pub", c->h.dir);
	line = interop_slurp(path, NULL);
	blob = interop_pubkey_blob(line, &len);
	ck_assert_ptr_nonnull(blob);
	key = libssh2_session_hostkey(c->s, &klen, &type);
	ck_assert_ptr_nonnull(key);
	ck_assert_int_eq(type, LIBSSH2_HOSTKEY_TYPE_ED25519);
	ck_assert_uint_eq(klen, len);
	ck_assert(!memcmp(key, blob, len));
	free(blob);
	free(line);
}

/* Write n bytes to path and read them back. */
static void write_read(struct cx *c, const char *path, size_t n)
{
	LIBSSH2_SFTP_ATTRIBUTES a;
	LIBSSH2_SFTP_HANDLE *h;
	char *buf = malloc(n + 1);
	size_t i;
	long w;

	ck_assert_ptr_nonnull(buf);
	h = c_open(c, path,
		   LIBSSH2_FXF_WRITE | LIBSSH2_FXF_CREAT | LIBSSH2_FXF_TRUNC,
		   LIBSSH2_SFTP_OPENFILE);
	ck_assert_msg(h != NULL, "open for writing: %s", errmsg(c));
	for (i = 0; i < n; i++)
		buf[i] = (char)(i % 97);
	for (i = 0; i < n; i += (size_t)w) {
		w = CALL(c, libssh2_sftp_write(h, buf + i, n - i));
		ck_assert_msg(w > 0, "write: %ld %s", w, errmsg(c));
	}
	ck_assert_int_eq(CALL(c, libssh2_sftp_fstat(h, &a)), 0);
	ck_assert_uint_eq(a.filesize, n);
	ck_assert_int_eq(CALL(c, libssh2_sftp_close(h)), 0);
	memset(buf, 0, n);
	ck_assert_int_eq(c_read_all(c, path, buf, n + 1), (long)n);
	for (i = 0; i < n; i++)
		ck_assert((unsigned char)buf[i] == i % 97);
	free(buf);
}

/* What every good case must do: the operations the bad cases break
 * (full: also many READs and WRITEs in flight). */
static void good_ops(struct cx *c, int full)
{
	LIBSSH2_SFTP_ATTRIBUTES a;
	char buf[1024], *big;
	long n;
	size_t i;

	ck_assert_int_eq(
		CALL(c, libssh2_sftp_realpath(c->sf, ".", buf, sizeof(buf))),
		1);
	ck_assert_str_eq(buf, "/");
	ck_assert_int_eq(list_dir(c, "/", buf, sizeof(buf)), 0);
	ck_assert_str_eq(buf, ".|..|bad.txt|baddir|badlink|big.bin|empty.txt|"
			      "hello.txt|link|sub|");
	ck_assert_int_eq(list_dir(c, "/baddir", buf, sizeof(buf)), 0);
	ck_assert_str_eq(buf, ".|..|f1|f2|");

	ck_assert_int_eq(c_stat(c, "/bad.txt", &a), 0);
	ck_assert_uint_eq(a.filesize, strlen(BAD_TXT));
	ck_assert(LIBSSH2_SFTP_S_ISREG(a.permissions));
	ck_assert_int_eq(CALL(c, libssh2_sftp_lstat(c->sf, "/link", &a)), 0);
	ck_assert(LIBSSH2_SFTP_S_ISLNK(a.permissions));
	ck_assert_int_eq(c_stat(c, "/link", &a), 0);
	ck_assert(LIBSSH2_SFTP_S_ISREG(a.permissions));
	ck_assert_uint_eq(a.filesize, strlen(HELLO));
	ck_assert_int_eq(CALL(c, libssh2_sftp_readlink(c->sf, "/badlink", buf,
						       sizeof(buf))),
			 9);
	ck_assert_str_eq(buf, "hello.txt");
	WANT(c, c_stat(c, "/missing", &a), LIBSSH2_ERROR_SFTP_PROTOCOL);
	ck_assert_uint_eq(libssh2_sftp_last_error(c->sf),
			  LIBSSH2_FX_NO_SUCH_FILE);

	check_file(c, "/hello.txt", HELLO);
	check_file(c, "/bad.txt", BAD_TXT);
	check_file(c, "/empty.txt", "");

	write_read(c, "/small.bin", 20000);
	if (full) {
		/* 256 KiB: many READs in flight */
		big = malloc(BIG_SIZE + 1);
		ck_assert_ptr_nonnull(big);
		n = c_read_all(c, "/big.bin", big, BIG_SIZE + 1);
		ck_assert_msg(n == BIG_SIZE, "big.bin: %ld %s", n, errmsg(c));
		for (i = 0; i < BIG_SIZE; i++)
			ck_assert_msg((unsigned char)big[i] == big_byte(i),
				      "big.bin byte %zu", i);
		free(big);
		write_read(c, "/new.bin", 100000);
	}

	/* an extension the server announces but refuses (EXTENDED is
	 * answered OP_UNSUPPORTED) */
	{
		LIBSSH2_SFTP_STATVFS v;

		WANT(c, CALL(c, libssh2_sftp_statvfs(c->sf, "/", 1, &v)),
		     LIBSSH2_ERROR_SFTP_PROTOCOL);
		ck_assert_uint_eq(libssh2_sftp_last_error(c->sf),
				  LIBSSH2_FX_OP_UNSUPPORTED);
	}
}

static void good_case(const char *cs, const char *extra, int nb, int full)
{
	struct cx c;
	char *list;
	int rc;

	cx_start(&c, cs, extra, nb);
	rc = cx_handshake(&c);
	ck_assert_msg(rc == 0, "handshake: %d %s", rc, errmsg(&c));
	check_hostkey(&c);
	ck_assert_str_eq(libssh2_session_methods(c.s, LIBSSH2_METHOD_KEX),
			 "curve25519-sha256");
	ck_assert_str_eq(libssh2_session_methods(c.s, LIBSSH2_METHOD_CRYPT_SC),
			 "aes128-gcm@openssh.com");
	list = CALLP(&c, libssh2_userauth_list(c.s, USER, 6));
	ck_assert_ptr_nonnull(list);
	ck_assert_str_eq(list, "password");
	WANT(&c, cx_password(&c, "wrong"), LIBSSH2_ERROR_AUTHENTICATION_FAILED);
	ck_assert_int_eq(cx_password(&c, PASSWORD), 0);
	c.sf = cx_sftp_init(&c);
	ck_assert_msg(c.sf != NULL, "sftp_init: %s", errmsg(&c));
	good_ops(&c, full);
	cx_end(&c);
}

START_TEST(good_none)
{
	good_case("none", NULL, 0, 1);
}
END_TEST

START_TEST(good_none_nonblocking)
{
	good_case("none", NULL, 1, 1);
}
END_TEST

/* The server offers kex-strict-s-v00@openssh.com: both sides restart
 * their sequence numbers at NEWKEYS. */
START_TEST(good_strict_kex)
{
	good_case("none", "--strict-kex", 0, 0);
}
END_TEST

/* Every SFTP reply in pieces of 1 to 13 bytes (997 past 4 KiB), each
 * its own CHANNEL_DATA. */
START_TEST(good_split)
{
	good_case("sftp-split", NULL, _i, _i == 0);
}
END_TEST

/* Every READ answered with at most a third of what was asked (a server
 * may return fewer bytes, filexfer-02 6.4): libssh2_sftp_read asks for
 * the rest and the files come back whole, blocking and non-blocking. */
START_TEST(good_read_short)
{
	good_case("sftp-read-short", NULL, _i, 1);
}
END_TEST

/* The server starts a key exchange at the first SFTP request after
 * INIT; the request is answered under the new keys. */
START_TEST(good_rekey)
{
	good_case("rekey-good", NULL, _i, 0);
}
END_TEST

/* Maximum packet 0: we still send (RFC 4254 gives no minimum; the
 * library uses 1 KiB packets). */
START_TEST(good_maxpacket_zero)
{
	good_case("chan-maxpacket-zero", NULL, 0, 0);
}
END_TEST

/* Window 2^32-1, then WINDOW_ADJUST past 2^32: the window stays at
 * 2^32-1 (RFC 4254 5.2), it must not wrap to a few bytes (a wrapped
 * window would stall the first request of more than 255 bytes). */
START_TEST(good_window_max)
{
	struct cx c;

	cx_start(&c, "chan-window-max", NULL, 0);
	cx_sftp(&c);
	good_ops(&c, 0);
	ck_assert_uint_gt(
		libssh2_channel_window_write(libssh2_sftp_get_channel(c.sf)),
		0xff000000u);
	cx_end(&c);
}
END_TEST

/* ---- the table of faults ------------------------------------------------- */

enum at {
	AT_HANDSHAKE,	/* libssh2_session_handshake */
	AT_LIST,	/* libssh2_userauth_list */
	AT_PASSWORD,	/* libssh2_userauth_password */
	AT_SFTP_INIT,	/* libssh2_sftp_init */
	AT_STAT_BAD,	/* libssh2_sftp_stat("/bad.txt") */
	AT_READ_BAD,	/* libssh2_sftp_read of /bad.txt */
	AT_READDIR_BAD, /* libssh2_sftp_readdir of /baddir */
};

enum after {
	AFTER_NONE,  /* nothing more to try: the session is gone */
	AFTER_ALIVE, /* the SFTP channel goes on serving good names */
	AFTER_DEAD,  /* the SFTP channel failed for good: calls fail */
};

struct bad {
	const char *cs;
	enum at at;
	int want;
	enum after after;
	unsigned long status; /* libssh2_sftp_last_error, ~0: not checked */
};

#define NOST (~0UL)

static const struct bad bads[] = {
	/* transport */
	{"banner-long", AT_HANDSHAKE, LIBSSH2_ERROR_BANNER_RECV, AFTER_NONE,
	 NOST},
	{"banner-endless", AT_HANDSHAKE, LIBSSH2_ERROR_BANNER_RECV, AFTER_NONE,
	 NOST},
	{"banner-prelines", AT_HANDSHAKE, LIBSSH2_ERROR_BANNER_RECV, AFTER_NONE,
	 NOST},
	/* framing: libssh2 1.11.1's codes */
	{"pkt-len-zero", AT_HANDSHAKE, LIBSSH2_ERROR_DECRYPT, AFTER_NONE, NOST},
	{"pkt-len-max", AT_HANDSHAKE, LIBSSH2_ERROR_OUT_OF_BOUNDARY, AFTER_NONE,
	 NOST},
	{"pkt-pad-too-big", AT_HANDSHAKE, LIBSSH2_ERROR_DECRYPT, AFTER_NONE,
	 NOST},
	{"pkt-truncated", AT_HANDSHAKE, LIBSSH2_ERROR_SOCKET_DISCONNECT,
	 AFTER_NONE, NOST},
	{"kexinit-lists-overflow", AT_HANDSHAKE, LIBSSH2_ERROR_PROTO,
	 AFTER_NONE, NOST},
	{"kexreply-hostkey-overflow", AT_HANDSHAKE, LIBSSH2_ERROR_PROTO,
	 AFTER_NONE, NOST},
	{"kexreply-qs-empty", AT_HANDSHAKE, LIBSSH2_ERROR_PROTO, AFTER_NONE,
	 NOST},
	{"kexreply-qs-huge", AT_HANDSHAKE, LIBSSH2_ERROR_PROTO, AFTER_NONE,
	 NOST},
	{"kexreply-bad-sig", AT_HANDSHAKE, LIBSSH2_ERROR_HOSTKEY_SIGN,
	 AFTER_NONE, NOST},
	{"sntrup-qs-short", AT_HANDSHAKE, LIBSSH2_ERROR_PROTO, AFTER_NONE,
	 NOST},
	{"sntrup-qs-long", AT_HANDSHAKE, LIBSSH2_ERROR_PROTO, AFTER_NONE, NOST},
	{"sntrup-x25519-zero", AT_HANDSHAKE, LIBSSH2_ERROR_KEX_FAILURE,
	 AFTER_NONE, NOST},
	{"sntrup-ct-garbage", AT_HANDSHAKE, LIBSSH2_ERROR_HOSTKEY_SIGN,
	 AFTER_NONE, NOST},
	{"bad-mac", AT_LIST, LIBSSH2_ERROR_DECRYPT, AFTER_NONE, NOST},
	{"rekey-weak", AT_STAT_BAD, LIBSSH2_ERROR_KEX_FAILURE, AFTER_DEAD,
	 NOST},
	/* user authentication */
	{"auth-failure-overflow", AT_LIST, LIBSSH2_ERROR_PROTO, AFTER_NONE,
	 NOST},
	{"auth-banner-huge", AT_LIST, LIBSSH2_ERROR_PROTO, AFTER_NONE, NOST},
	{"auth-wrong-range", AT_PASSWORD, LIBSSH2_ERROR_PROTO, AFTER_NONE,
	 NOST},
	/* channels */
	{"chan-confirm-wrong-id", AT_SFTP_INIT, LIBSSH2_ERROR_CHANNEL_UNKNOWN,
	 AFTER_NONE, NOST},
	{"chan-data-unknown", AT_SFTP_INIT, LIBSSH2_ERROR_CHANNEL_UNKNOWN,
	 AFTER_NONE, NOST},
	{"chan-extdata-huge", AT_SFTP_INIT, LIBSSH2_ERROR_PROTO, AFTER_NONE,
	 NOST},
	/* SFTP */
	{"sftp-version-6", AT_SFTP_INIT, LIBSSH2_ERROR_SFTP_PROTOCOL,
	 AFTER_NONE, NOST},
	{"sftp-version-0", AT_SFTP_INIT, LIBSSH2_ERROR_SFTP_PROTOCOL,
	 AFTER_NONE, NOST},
	{"sftp-unknown-id", AT_STAT_BAD, LIBSSH2_ERROR_SFTP_PROTOCOL,
	 AFTER_DEAD, NOST},
	{"sftp-wrong-type-stat", AT_STAT_BAD, LIBSSH2_ERROR_SFTP_PROTOCOL,
	 AFTER_ALIVE, NOST},
	{"sftp-wrong-type-read", AT_READ_BAD, LIBSSH2_ERROR_SFTP_PROTOCOL,
	 AFTER_ALIVE, LIBSSH2_FX_BAD_MESSAGE},
	{"sftp-status-overflow", AT_STAT_BAD, LIBSSH2_ERROR_SFTP_PROTOCOL,
	 AFTER_ALIVE, NOST},
	{"sftp-attrs-ext-count", AT_STAT_BAD, LIBSSH2_ERROR_SFTP_PROTOCOL,
	 AFTER_ALIVE, NOST},
	{"sftp-name-count", AT_READDIR_BAD, LIBSSH2_ERROR_SFTP_PROTOCOL,
	 AFTER_ALIVE, NOST},
	{"sftp-read-too-much", AT_READ_BAD, LIBSSH2_ERROR_SFTP_PROTOCOL,
	 AFTER_ALIVE, LIBSSH2_FX_BAD_MESSAGE},
	{"sftp-read-data-overflow", AT_READ_BAD, LIBSSH2_ERROR_SFTP_PROTOCOL,
	 AFTER_ALIVE, LIBSSH2_FX_BAD_MESSAGE},
	{"sftp-len-zero", AT_STAT_BAD, LIBSSH2_ERROR_SFTP_PROTOCOL, AFTER_DEAD,
	 NOST},
	{"sftp-len-max", AT_STAT_BAD, LIBSSH2_ERROR_SFTP_PROTOCOL, AFTER_DEAD,
	 NOST},
};

#define NBADS ((int)(sizeof(bads) / sizeof(bads[0])))

/* The call that meets the fault. */
static long fault_call(struct cx *c, const struct bad *b)
{
	LIBSSH2_SFTP_ATTRIBUTES a;
	LIBSSH2_SFTP_HANDLE *h;
	char buf[4096];
	long rc;

	switch (b->at) {
	case AT_HANDSHAKE:
		return cx_handshake(c);
	case AT_LIST:
		if (CALLP(c, libssh2_userauth_list(c->s, USER, 6)))
			return 0;
		return libssh2_session_last_errno(c->s);
	case AT_PASSWORD:
		return cx_password(c, PASSWORD);
	case AT_SFTP_INIT:
		c->sf = cx_sftp_init(c);
		return c->sf ? 0 : libssh2_session_last_errno(c->s);
	case AT_STAT_BAD:
		return c_stat(c, "/bad.txt", &a);
	case AT_READ_BAD:
		h = c_open(c, "/bad.txt", LIBSSH2_FXF_READ,
			   LIBSSH2_SFTP_OPENFILE);
		ck_assert_msg(h != NULL, "open: %s", errmsg(c));
		rc = CALL(c, libssh2_sftp_read(h, buf, sizeof(buf)));
		c->status = libssh2_sftp_last_error(c->sf);
		snprintf(c->msg, sizeof(c->msg), "%s", errmsg(c));
		ck_assert_int_eq(CALL(c, libssh2_sftp_close(h)), 0);
		return rc;
	case AT_READDIR_BAD:
		return list_dir(c, "/baddir", buf, sizeof(buf));
	}
	return 0;
}

static void run_bad(const struct bad *b, int nb)
{
	struct cx c;
	long rc;

	cx_start(&c, b->cs, NULL, nb);
	/* the server offers only this method for these cases */
	if (!strncmp(b->cs, "sntrup-", 7))
		ck_assert_int_eq(libssh2_session_method_pref(
					 c.s, LIBSSH2_METHOD_KEX,
					 "sntrup761x25519-sha512@openssh.com"),
				 0);
	if (b->at > AT_HANDSHAKE) {
		rc = cx_handshake(&c);
		ck_assert_msg(rc == 0, "handshake: %ld %s", rc, errmsg(&c));
	}
	if (b->at > AT_PASSWORD)
		ck_assert_int_eq(cx_password(&c, PASSWORD), 0);
	if (b->at > AT_SFTP_INIT) {
		c.sf = cx_sftp_init(&c);
		ck_assert_msg(c.sf != NULL, "sftp_init: %s", errmsg(&c));
	}
	c.status = NOST;
	c.msg[0] = 0;
	rc = fault_call(&c, b);
	if (!c.msg[0])
		snprintf(c.msg, sizeof(c.msg), "%s", errmsg(&c));
	if (c.status == NOST && c.sf)
		c.status = libssh2_sftp_last_error(c.sf);
	printf("%-26s %s: %ld (%s)\n", b->cs, nb ? "non-blocking" : "blocking",
	       rc, c.msg);
	ck_assert_msg(rc == b->want, "%s: %ld (%s), want %d", b->cs, rc, c.msg,
		      b->want);
	ck_assert_msg(now_ms() - c.t0 < SESSION_TIMEOUT_MS / 2,
		      "the fault took %ld ms", now_ms() - c.t0);
	if (b->status != NOST)
		ck_assert_uint_eq(c.status, b->status);
	if (b->after == AFTER_ALIVE)
		check_alive(&c);
	else if (b->after == AFTER_DEAD)
		check_dead(&c);
	cx_end(&c);
}

START_TEST(bad_case)
{
	run_bad(&bads[_i], 0);
}
END_TEST

/* Non-blocking: the same error, never EAGAIN for ever. */
static const char *const nb_cases[] = {
	"banner-endless", "pkt-len-max",	"kexreply-bad-sig",
	"bad-mac",	  "auth-banner-huge",	"chan-confirm-wrong-id",
	"rekey-weak",	  "sftp-version-6",	"sftp-wrong-type-read",
	"sftp-len-max",	  "sftp-read-too-much",
};

START_TEST(bad_case_nonblocking)
{
	int i;

	for (i = 0; i < NBADS; i++)
		if (!strcmp(bads[i].cs, nb_cases[_i]))
			break;
	ck_assert_int_lt(i, NBADS);
	run_bad(&bads[i], 1);
}
END_TEST

/* ---- cases with their own checks ----------------------------------------- */

/* The server's KEXINIT after authentication offers only
 * diffie-hellman-group1-sha1, ssh-rsa/ssh-dss, 3des-cbc and hmac-sha1:
 * the client refuses (no common algorithm), it does not downgrade. */
START_TEST(rekey_weak_refused)
{
	LIBSSH2_SFTP_ATTRIBUTES a;
	struct cx c;
	char *msg;

	cx_start(&c, "rekey-weak", NULL, 0);
	cx_sftp(&c);
	ck_assert_int_lt(c_stat(&c, "/bad.txt", &a), 0);
	libssh2_session_last_error(c.s, &msg, NULL, 0);
	ck_assert_int_eq(libssh2_session_last_errno(c.s),
			 LIBSSH2_ERROR_KEX_FAILURE);
	ck_assert_msg(strstr(msg, "no matching key exchange"), "%s", msg);
	ck_assert_str_eq(libssh2_session_methods(c.s, LIBSSH2_METHOD_CRYPT_CS),
			 "aes128-gcm@openssh.com");
	cx_end(&c);
}
END_TEST

/* An unassigned message number (199) before each auth reply: ignored
 * (RFC 4253 11.4), the login goes on. */
START_TEST(auth_unknown_message)
{
	struct cx c;

	cx_start(&c, "auth-unknown-msg", NULL, 0);
	ck_assert_int_eq(cx_handshake(&c), 0);
	ck_assert_ptr_nonnull(CALLP(&c, libssh2_userauth_list(c.s, USER, 6)));
	ck_assert_int_eq(cx_password(&c, PASSWORD), 0);
	c.sf = cx_sftp_init(&c);
	ck_assert_ptr_nonnull(c.sf);
	check_alive(&c);
	cx_end(&c);
}
END_TEST

/* A raw "session" channel with a small window, subsystem sftp (the
 * server sends its fault right after accepting it). */
static LIBSSH2_CHANNEL *raw_channel(struct cx *c)
{
	LIBSSH2_CHANNEL *ch;

	ch = CALLP(c, libssh2_channel_open_ex(c->s, "session", 7, RAW_WINDOW,
					      RAW_PACKET, NULL, 0));
	ck_assert_msg(ch != NULL, "channel open: %s", errmsg(c));
	ck_assert_int_eq(CALL(c, libssh2_channel_subsystem(ch, "sftp")), 0);
	return ch;
}

/* One CHANNEL_DATA of window + 1 bytes. */
START_TEST(chan_data_over_window)
{
	struct cx c;
	LIBSSH2_CHANNEL *ch;
	char buf[1024];

	cx_start(&c, "chan-data-over-window", NULL, _i);
	cx_login(&c);
	ch = raw_channel(&c);
	WANT(&c, CALL(&c, libssh2_channel_read(ch, buf, sizeof(buf))),
	     LIBSSH2_ERROR_CHANNEL_WINDOW_EXCEEDED);
	ck_assert_int_eq(libssh2_channel_free(ch), 0);
	cx_end(&c);
}
END_TEST

/*
 * Data nobody asked for, for ever, within the window we granted: the
 * client keeps at most one window of it and grants no more while it is
 * not read (a wait on stderr times out), then reading it re-grants, and
 * the channel can be freed with data still coming.
 */
START_TEST(chan_data_endless)
{
	struct cx c;
	LIBSSH2_CHANNEL *ch;
	unsigned long avail = 0, init = 0;
	char buf[RAW_WINDOW];
	long n, got = 0;
	int i;

	cx_start(&c, "chan-data-endless", NULL, 0);
	cx_login(&c);
	ch = raw_channel(&c);
	libssh2_session_set_timeout(c.s, ENDLESS_TIMEOUT_MS);
	n = CALL(&c, libssh2_channel_read_stderr(ch, buf, sizeof(buf)));
	ck_assert_int_eq(n, LIBSSH2_ERROR_TIMEOUT);
	ck_assert_uint_eq(libssh2_channel_window_read_ex(ch, &avail, &init), 0);
	ck_assert_uint_eq(avail, RAW_WINDOW);
	ck_assert_uint_eq(init, RAW_WINDOW);
	libssh2_session_set_timeout(c.s, SESSION_TIMEOUT_MS);
	for (i = 0; i < 8; i++) {
		n = CALL(&c, libssh2_channel_read(ch, buf, sizeof(buf)));
		ck_assert_msg(n > 0, "read: %ld %s", n, errmsg(&c));
		ck_assert(buf[0] == 'E' && buf[n - 1] == 'E');
		got += n;
		libssh2_channel_window_read_ex(ch, &avail, NULL);
		ck_assert_uint_le(avail, RAW_WINDOW);
	}
	ck_assert_int_ge(got, RAW_WINDOW);
	ck_assert_int_eq(libssh2_channel_free(ch), 0);
	cx_end(&c);
}
END_TEST

/*
 * READDIR names a server must not give: "..", "." (twice), "a/b",
 * "nl\nname", "esc\x1bname", "", "/", "../up", and "x\0y" in a batch of
 * its own.  The library is libssh2's: names are bytes and it returns them
 * as they are (the caller filters), with their exact length, never beyond
 * its buffer; a name that does not fit is kept for a bigger buffer; an
 * empty name, which a return of 0 (the end) cannot express, is skipped.
 * A name with NUL inside is malformed (the library never hands out a
 * name a C string would cut short): that batch fails, not the channel.
 */
START_TEST(readdir_names)
{
	static const struct {
		const char *name;
		int len;
	} want[] = {
		/* the first batch */
		{"..", 2},
		{".", 1},
		{"f1", 2},
		{"a/b", 3},
		{"nl\nname", 7},
		{"esc\x1bname", 8},
		/* (the empty name is skipped) */
		{"/", 1},
		{"../up", 5},
		/* the second */
		{"..", 2},
		{".", 1},
		{"f2", 2},
		{"..", 2},
	};
	LIBSSH2_SFTP_HANDLE *d;
	LIBSSH2_SFTP_ATTRIBUTES a;
	char buf[64], small[4 + 16], lng[256];
	struct cx c;
	size_t i, k;
	int n;

	cx_start(&c, "sftp-readdir-names", NULL, _i);
	cx_sftp(&c);
	d = c_open(&c, "/baddir", 0, LIBSSH2_SFTP_OPENDIR);
	ck_assert_msg(d != NULL, "opendir: %s", errmsg(&c));
	for (i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		if (want[i].len > 4) {
			/* too small: refused, nothing written past it, and
			 * the entry is still there for a bigger buffer */
			memset(small, 0xaa, sizeof(small));
			n = (int)CALL(&c,
				      libssh2_sftp_readdir(d, small, 4, &a));
			WANT(&c, n, LIBSSH2_ERROR_BUFFER_TOO_SMALL);
			for (k = 0; k < sizeof(small); k++)
				ck_assert_uint_eq((unsigned char)small[k],
						  0xaa);
		}
		memset(buf, 0xaa, sizeof(buf));
		n = (int)CALL(&c,
			      libssh2_sftp_readdir_ex(d, buf, sizeof(buf), lng,
						      sizeof(lng), &a));
		ck_assert_msg(n == want[i].len, "entry %zu: %d (%s)", i, n,
			      errmsg(&c));
		ck_assert_msg(!memcmp(buf, want[i].name, (size_t)n),
			      "entry %zu: %.*s", i, n, buf);
		ck_assert_int_eq(buf[n], 0);
		for (k = (size_t)n + 1; k < sizeof(buf); k++)
			ck_assert_uint_eq((unsigned char)buf[k], 0xaa);
		ck_assert_ptr_nonnull(strstr(lng, "tester"));
	}
	/* the third batch holds "x\0y": a name never holds NUL, the batch
	 * is refused whole; the listing goes on after it (here: its end) */
	WANT(&c, CALL(&c, libssh2_sftp_readdir(d, buf, sizeof(buf), &a)),
	     LIBSSH2_ERROR_SFTP_PROTOCOL);
	ck_assert_int_eq(
		CALL(&c, libssh2_sftp_readdir(d, buf, sizeof(buf), &a)), 0);
	ck_assert_int_eq(CALL(&c, libssh2_sftp_closedir(d)), 0);
	/* the names with control characters are real files */
	check_file(&c, "/baddir/nl\nname", "newline\n");
	check_file(&c, "/baddir/esc\x1bname", "escape\n");
	check_alive(&c);
	cx_end(&c);
}
END_TEST

/* A directory that never ends (every READDIR a batch of 100 new names,
 * never an EOF): libssh2_sftp_readdir_ex hands the names out one by one,
 * in the server's order, each once, and what the session holds does not
 * grow with the names read (a batch at a time, none kept); closedir ends
 * the listing and the channel goes on. */
START_TEST(readdir_endless)
{
	LIBSSH2_SFTP_HANDLE *d;
	LIBSSH2_SFTP_ATTRIBUTES a;
	struct memcount m = {0, 0};
	char buf[64], lng[256], want[32];
	size_t steady = 0;
	struct cx c;
	int i, n;

	cx_start_mc(&c, "sftp-readdir-endless", NULL, _i, &m);
	cx_sftp(&c);
	d = c_open(&c, "/baddir", 0, LIBSSH2_SFTP_OPENDIR);
	ck_assert_msg(d != NULL, "opendir: %s", errmsg(&c));
	for (i = 0; i < ENDLESS_NAMES; i++) {
		n = (int)CALL(&c, libssh2_sftp_readdir_ex(d, buf, sizeof(buf),
							  lng, sizeof(lng),
							  &a));
		snprintf(want, sizeof(want), "e%09d", i);
		ck_assert_msg(n == (int)strlen(want) && !strcmp(buf, want),
			      "entry %d: %d '%s' (%s)", i, n, n > 0 ? buf : "",
			      errmsg(&c));
		if (i == ENDLESS_WARMUP)
			steady = m.peak;
	}
	ck_assert_msg(m.peak <= steady + ENDLESS_GROWTH_MAX,
		      "the session held %zu bytes after %d names, %zu at "
		      "most over %d",
		      steady, ENDLESS_WARMUP, m.peak, ENDLESS_NAMES);
	ck_assert_int_eq(CALL(&c, libssh2_sftp_closedir(d)), 0);
	check_alive(&c);
	cx_end(&c);
	ck_assert_msg(m.live == 0, "%zu bytes not freed", m.live);
}
END_TEST

/* A READLINK answer of 64 KiB: BUFFER_TOO_SMALL for a usual buffer,
 * the exact target for one big enough; the channel goes on. */
START_TEST(readlink_64k)
{
	struct cx c;
	char small[PATH_MAX], *big;
	int n, i;

	cx_start(&c, "sftp-readlink-64k", NULL, _i);
	cx_sftp(&c);
	n = (int)CALL(&c, libssh2_sftp_readlink(c.sf, "/badlink", small,
						sizeof(small)));
	WANT(&c, n, LIBSSH2_ERROR_BUFFER_TOO_SMALL);
	big = malloc(70000);
	ck_assert_ptr_nonnull(big);
	n = (int)CALL(&c, libssh2_sftp_readlink(c.sf, "/badlink", big, 70000));
	ck_assert_int_eq(n, 65536);
	for (i = 0; i < 65535; i += 3)
		ck_assert(!memcmp(big + i, "../", 3));
	ck_assert_int_eq(big[65535], 'x');
	ck_assert_int_eq(big[65536], 0);
	free(big);
	/* exactly one byte short */
	big = malloc(65536);
	ck_assert_ptr_nonnull(big);
	n = (int)CALL(&c, libssh2_sftp_readlink(c.sf, "/badlink", big, 65536));
	WANT(&c, n, LIBSSH2_ERROR_BUFFER_TOO_SMALL);
	free(big);
	check_alive(&c);
	cx_end(&c);
}
END_TEST

/* Two replies to one STAT: the first answers it; the second, for an id
 * no longer outstanding, ends the SFTP channel (its stream can no longer
 * be trusted): the next call fails, and everything is freed. */
START_TEST(sftp_dup_id)
{
	LIBSSH2_SFTP_ATTRIBUTES a;
	struct cx c;

	cx_start(&c, "sftp-dup-id", NULL, _i);
	cx_sftp(&c);
	ck_assert_int_eq(c_stat(&c, "/bad.txt", &a), 0);
	ck_assert_uint_eq(a.filesize, strlen(BAD_TXT));
	WANT(&c, c_stat(&c, "/hello.txt", &a), LIBSSH2_ERROR_SFTP_PROTOCOL);
	check_dead(&c);
	cx_end(&c);
}
END_TEST

/* ---- main ---------------------------------------------------------------- */

/* A Python with the cryptography package: $SFTPMNT_PYTHON, Debian's
 * /usr/bin/python3 (a python3 earlier in $PATH may lack it), python3. */
static const char *find_python(void)
{
	static char found[PATH_MAX];
	const char *env = getenv("SFTPMNT_PYTHON");
	const char *cand[3] = {env && *env ? env : NULL, "/usr/bin/python3",
			       "python3"};
	int i;

	for (i = 0; i < 3; i++) {
		const char *py = cand[i] ? interop_which(cand[i], NULL) : NULL;

		if (!py)
			continue;
		snprintf(found, sizeof(found), "%s", py);
		if (interop_system(
			    "'%s' -W ignore -c 'from cryptography.hazmat."
			    "primitives.ciphers.aead import AESGCM' "
			    ">/dev/null 2>&1 || exit 1",
			    found) == 0)
			return found;
	}
	return NULL;
}

int main(void)
{
	Suite *su = suite_create("hostile");
	TCase *tc = tcase_create("hostile");
	SRunner *sr;
	int failed;

	setvbuf(stdout, NULL, _IOLBF, 0);
	python = find_python();
	if (!python) {
		printf("SKIP: no python3 with the cryptography package (Debian "
		       "package python3-cryptography)\n");
		return 77;
	}
	script = getenv("SFTPMNT_HOSTILE_SERVER");
	if (!script || !*script)
		script = HOSTILE_SERVER;
	if (access(script, R_OK)) {
		fprintf(stderr, "%s: %s\n", script, strerror(errno));
		return 99;
	}
	/* a server that died must not kill us with SIGPIPE */
	signal(SIGPIPE, SIG_IGN);
	base = interop_mkdtemp("hostile");

	tcase_set_timeout(tc, ALARM_S + 30);
	tcase_add_test(tc, good_none);
	tcase_add_test(tc, good_none_nonblocking);
	tcase_add_test(tc, good_strict_kex);
	tcase_add_loop_test(tc, good_split, 0, 2);
	tcase_add_loop_test(tc, good_read_short, 0, 2);
	tcase_add_loop_test(tc, good_rekey, 0, 2);
	tcase_add_test(tc, good_maxpacket_zero);
	tcase_add_test(tc, good_window_max);
	tcase_add_loop_test(tc, bad_case, 0, NBADS);
	tcase_add_loop_test(tc, bad_case_nonblocking, 0,
			    (int)(sizeof(nb_cases) / sizeof(nb_cases[0])));
	tcase_add_test(tc, rekey_weak_refused);
	tcase_add_test(tc, auth_unknown_message);
	tcase_add_loop_test(tc, chan_data_over_window, 0, 2);
	tcase_add_test(tc, chan_data_endless);
	tcase_add_loop_test(tc, readdir_names, 0, 2);
	tcase_add_loop_test(tc, readdir_endless, 0, 2);
	tcase_add_loop_test(tc, readlink_64k, 0, 2);
	tcase_add_loop_test(tc, sftp_dup_id, 0, 2);
	suite_add_tcase(su, tc);
	sr = srunner_create(su);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	/* the servers of failed tests: their logs */
	interop_system("for f in '%s'/*/server.log; do [ -f \"$f\" ] || "
		       "continue; echo \"---- $f\"; tail -n 20 \"$f\"; done",
		       base);
	interop_rmtree(base);
	free(base);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
