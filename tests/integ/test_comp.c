/*
 * test_comp.c - SSH compression against real servers (RFC 4253 6.2,
 * OpenSSH PROTOCOL 2.2):
 *
 * - what is offered: "none" by default, "zlib@openssh.com,zlib,none" with
 *   libssh2_session_flag(LIBSSH2_FLAG_COMPRESS), or what method_pref
 *   names; libssh2_session_methods reports the result;
 * - zlib@openssh.com with the test sshd (OpenSSH 9.2 "Compression yes",
 *   its default, offers "none,zlib@openssh.com"): off until the user is
 *   authenticated, then on both ways; 8 MiB of compressible and 8 MiB of
 *   incompressible data written and read back over SFTP, checked on the
 *   server's disk and by checksum, with the bytes on the wire counted
 *   through the socket callbacks;
 * - plain "zlib", on from NEWKEYS: OpenSSH's sshd no longer offers it at
 *   all (nor does Dropbear's server, which offers only the delayed one),
 *   so it runs against asyncssh's SFTP server (tests/fixture/
 *   asyncssh-sftpd), and is skipped with the reason printed when
 *   python3-asyncssh is missing;
 * - rekeys in the middle of compressed transfers: sshd restarted with
 *   RekeyLimit=1M and our own limit lowered, so both sides start
 *   exchanges; each restarts the compression context.
 */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "libssh2.h"
#include "libssh2_sftp.h"
#include "session.h"

#include "integ.h"

#define MiB   (1024u * 1024)
#define BUFSZ (256u * 1024)
#define XFER  (8 * MiB)

/* ---- bytes on the wire --------------------------------------------------- */

static uint64_t wire_out, wire_in;

static LIBSSH2_SEND_FUNC(count_send)
{
	ssize_t r = send(socket, buffer, length, flags);

	(void)abstract;
	if (r > 0)
		wire_out += (uint64_t)r;
	return r < 0 ? -errno : r;
}

static LIBSSH2_RECV_FUNC(count_recv)
{
	ssize_t r = recv(socket, buffer, length, flags);

	(void)abstract;
	if (r > 0)
		wire_in += (uint64_t)r;
	return r < 0 ? -errno : r;
}

/* ---- connections --------------------------------------------------------- */

static const char *errmsg(LIBSSH2_SESSION *s)
{
	char *m = NULL;

	libssh2_session_last_error(s, &m, NULL, 0);
	return m ? m : "(none)";
}

struct conn {
	int fd;
	LIBSSH2_SESSION *s;
	LIBSSH2_SFTP *sf;
};

/* Session with LIBSSH2_FLAG_COMPRESS = flag and, if comp, method_pref
 * for both compression types; handshake only. */
static LIBSSH2_SESSION *session(int port, int flag, const char *comp, int *fd)
{
	LIBSSH2_SESSION *s = libssh2_session_init();
	int rc;

	ck_assert_ptr_nonnull(s);
	libssh2_session_set_timeout(s, 60000);
	ck_assert_int_eq(libssh2_session_flag(s, LIBSSH2_FLAG_COMPRESS, flag),
			 0);
	if (comp) {
		ck_assert_int_eq(libssh2_session_method_pref(
					 s, LIBSSH2_METHOD_COMP_CS, comp),
				 0);
		ck_assert_int_eq(libssh2_session_method_pref(
					 s, LIBSSH2_METHOD_COMP_SC, comp),
				 0);
	}
	libssh2_session_callback_set2(s, LIBSSH2_CALLBACK_SEND,
				      (libssh2_cb_generic *)count_send);
	libssh2_session_callback_set2(s, LIBSSH2_CALLBACK_RECV,
				      (libssh2_cb_generic *)count_recv);
	*fd = integ_connect(port);
	rc = libssh2_session_handshake(s, *fd);
	ck_assert_msg(rc == 0, "handshake: %d %s", rc, errmsg(s));
	return s;
}

static void login(struct conn *c)
{
	int rc = libssh2_userauth_publickey_fromfile(
		c->s, integ_env("SFTPMNT_TEST_USER"), NULL,
		integ_env("SFTPMNT_TEST_KEY"), NULL);

	ck_assert_msg(rc == 0, "auth: %d %s", rc, errmsg(c->s));
	c->sf = libssh2_sftp_init(c->s);
	ck_assert_msg(c->sf != NULL, "sftp_init: %s", errmsg(c->s));
}

static void finish(struct conn *c)
{
	ck_assert_int_eq(libssh2_sftp_shutdown(c->sf), 0);
	ck_assert_int_eq(libssh2_session_disconnect(c->s, "test done"), 0);
	ck_assert_int_eq(libssh2_session_free(c->s), 0);
	close(c->fd);
}

static void comp_names(LIBSSH2_SESSION *s, const char *want)
{
	ck_assert_str_eq(libssh2_session_methods(s, LIBSSH2_METHOD_COMP_CS),
			 want);
	ck_assert_str_eq(libssh2_session_methods(s, LIBSSH2_METHOD_COMP_SC),
			 want);
}

/* ---- data ---------------------------------------------------------------- */

/* Block b of a stream: log-like text (compressible) or xorshift bytes. */
static void block(unsigned char *p, int text, uint64_t seed, size_t b)
{
	uint64_t x = (seed * 1000003u + b) * 0x9e3779b97f4a7c15ull + 1;
	size_t i = 0;

	if (text) {
		unsigned line = 0;

		while (i < BUFSZ) {
			char l[128];
			int n = snprintf(l, sizeof(l),
					 "%06zu.%04u sftpmnt wrote block %zu "
					 "line %u of seed %llu: status ok\n",
					 b, line, b, line,
					 (unsigned long long)seed);
			size_t m =
				(size_t)n < BUFSZ - i ? (size_t)n : BUFSZ - i;

			memcpy(p + i, l, m);
			i += m;
			line++;
		}
		return;
	}
	for (; i < BUFSZ; i++) {
		if ((i & 7) == 0) {
			x ^= x << 13;
			x ^= x >> 7;
			x ^= x << 17;
		}
		p[i] = (unsigned char)(x >> (8 * (i & 7)));
	}
}

static uint64_t fnv1a(uint64_t h, const unsigned char *p, size_t n)
{
	while (n--)
		h = (h ^ *p++) * 0x100000001b3ull;
	return h;
}
#define FNV_INIT 0xcbf29ce484222325ull

/* The server's file is the stream, byte for byte. */
static void verify_disk(const char *path, int text, uint64_t seed, size_t size)
{
	unsigned char *want = malloc(BUFSZ), *got = malloc(BUFSZ);
	struct stat st;
	size_t b;
	int fd = open(path, O_RDONLY);

	ck_assert_msg(fd >= 0, "%s: %s", path, strerror(errno));
	ck_assert_int_eq(fstat(fd, &st), 0);
	ck_assert_uint_eq((uint64_t)st.st_size, size);
	for (b = 0; b < size / BUFSZ; b++) {
		block(want, text, seed, b);
		ck_assert_int_eq(pread(fd, got, BUFSZ, (off_t)(b * BUFSZ)),
				 (ssize_t)BUFSZ);
		ck_assert_msg(!memcmp(got, want, BUFSZ), "block %zu differs",
			      b);
	}
	close(fd);
	free(want);
	free(got);
}

struct wire {
	uint64_t out, in; /* bytes sent while writing, received reading */
};

/* Write size bytes of the stream to the server, verify them on its
 * disk, read them back with a checksum; the wire bytes of each half. */
static struct wire transfer(struct conn *c, const char *tag, int text,
			    uint64_t seed, size_t size)
{
	char path[PATH_MAX];
	unsigned char *buf = malloc(BUFSZ);
	uint64_t hw = FNV_INIT, hr = FNV_INIT, o0, i0;
	LIBSSH2_SFTP_HANDLE *h;
	struct wire w;
	size_t b, total = 0;
	ssize_t n;

	ck_assert_ptr_nonnull(buf);
	snprintf(path, sizeof(path), "%s/comp-%s-%d",
		 integ_env("SFTPMNT_TEST_ROOT"), tag, text);
	h = libssh2_sftp_open(c->sf, path,
			      LIBSSH2_FXF_WRITE | LIBSSH2_FXF_CREAT |
				      LIBSSH2_FXF_TRUNC,
			      0644);
	ck_assert_msg(h != NULL, "open %s: %s", path, errmsg(c->s));
	o0 = wire_out;
	for (b = 0; b < size / BUFSZ; b++) {
		size_t off = 0;

		block(buf, text, seed, b);
		hw = fnv1a(hw, buf, BUFSZ);
		while (off < BUFSZ) {
			n = libssh2_sftp_write(h, (char *)buf + off,
					       BUFSZ - off);
			ck_assert_msg(n > 0, "write: %zd %s", n, errmsg(c->s));
			off += (size_t)n;
		}
	}
	ck_assert_int_eq(libssh2_sftp_close(h), 0);
	w.out = wire_out - o0;
	verify_disk(path, text, seed, size);

	h = libssh2_sftp_open(c->sf, path, LIBSSH2_FXF_READ, 0);
	ck_assert_msg(h != NULL, "open %s: %s", path, errmsg(c->s));
	i0 = wire_in;
	while ((n = libssh2_sftp_read(h, (char *)buf, BUFSZ)) > 0) {
		hr = fnv1a(hr, buf, (size_t)n);
		total += (size_t)n;
	}
	ck_assert_msg(n == 0, "read: %zd %s", n, errmsg(c->s));
	w.in = wire_in - i0;
	ck_assert_uint_eq(total, size);
	ck_assert_uint_eq(hr, hw);
	ck_assert_int_eq(libssh2_sftp_close(h), 0);
	ck_assert_int_eq(libssh2_sftp_unlink(c->sf, path), 0);
	free(buf);
	printf("%-22s %-14s %zu MiB: %llu bytes sent writing, %llu received "
	       "reading\n",
	       tag, text ? "compressible" : "incompressible", size / MiB,
	       (unsigned long long)w.out, (unsigned long long)w.in);
	return w;
}

/* Both kinds of data; with compression on, text must shrink at least
 * fourfold and random data grow by at most 3% (framing included). */
static void transfers(struct conn *c, const char *tag, int compressed)
{
	struct wire t = transfer(c, tag, 1, 1, XFER);
	struct wire r = transfer(c, tag, 0, 2, XFER);

	ck_assert_uint_lt(r.out, XFER + XFER / 33);
	ck_assert_uint_lt(r.in, XFER + XFER / 33);
	ck_assert_uint_gt(r.out, XFER);
	if (compressed) {
		ck_assert_uint_lt(t.out * 4, XFER);
		ck_assert_uint_lt(t.in * 4, XFER);
	} else {
		ck_assert_uint_gt(t.out, XFER);
	}
}

/* ---- what is offered and negotiated -------------------------------------- */

START_TEST(flag_and_method_pref)
{
	struct conn c;
	const char **algs;
	char *msg;
	int n, rc;

	/* default: "none" only, even though sshd would compress */
	c.s = session(0, 0, NULL, &c.fd);
	comp_names(c.s, "none");
	login(&c);
	ck_assert(!comp_on(&c.s->tp.ztx) && !comp_on(&c.s->tp.zrx));
	finish(&c);

	/* the flag: zlib@openssh.com, which waits for authentication */
	c.s = session(0, 1, NULL, &c.fd);
	comp_names(c.s, "zlib@openssh.com");
	ck_assert(!comp_on(&c.s->tp.ztx) && !comp_on(&c.s->tp.zrx));
	login(&c);
	ck_assert(comp_on(&c.s->tp.ztx) && comp_on(&c.s->tp.zrx));
	ck_assert_int_eq(libssh2_userauth_authenticated(c.s), 1);
	finish(&c);

	/* method_pref selects it without the flag */
	c.s = session(0, 0, "zlib@openssh.com,none", &c.fd);
	comp_names(c.s, "zlib@openssh.com");
	login(&c);
	ck_assert(comp_on(&c.s->tp.ztx) && comp_on(&c.s->tp.zrx));
	finish(&c);

	/* and can insist on plain zlib, which sshd 9.2 does not offer */
	c.s = libssh2_session_init();
	ck_assert_int_eq(libssh2_session_method_pref(
				 c.s, LIBSSH2_METHOD_COMP_CS, "zlib"),
			 0);
	c.fd = integ_connect(0);
	rc = libssh2_session_handshake(c.s, c.fd);
	ck_assert_int_eq(rc, LIBSSH2_ERROR_KEX_FAILURE);
	libssh2_session_last_error(c.s, &msg, NULL, 0);
	ck_assert_ptr_nonnull(strstr(msg, "compression"));
	libssh2_session_free(c.s);
	close(c.fd);

	/* all three are supported; unknown names are refused */
	c.s = libssh2_session_init();
	n = libssh2_session_supported_algs(c.s, LIBSSH2_METHOD_COMP_SC, &algs);
	ck_assert_int_eq(n, 3);
	ck_assert_str_eq(algs[0], "zlib@openssh.com");
	ck_assert_str_eq(algs[1], "zlib");
	ck_assert_str_eq(algs[2], "none");
	libssh2_free(c.s, algs);
	ck_assert_int_eq(libssh2_session_method_pref(
				 c.s, LIBSSH2_METHOD_COMP_CS, "gzip,lz4"),
			 LIBSSH2_ERROR_METHOD_NOT_SUPPORTED);
	libssh2_session_free(c.s);
}
END_TEST

/* ---- transfers ----------------------------------------------------------- */

START_TEST(delayed_zlib_transfer)
{
	struct conn c;

	c.s = session(0, 0, NULL, &c.fd);
	login(&c);
	transfers(&c, "none", 0);
	finish(&c);

	c.s = session(0, 1, NULL, &c.fd);
	comp_names(c.s, "zlib@openssh.com");
	login(&c);
	transfers(&c, "zlib@openssh.com", 1);
	finish(&c);
}
END_TEST

START_TEST(plain_zlib_transfer)
{
	char script[PATH_MAX], hostkey[PATH_MAX], portline[32];
	const char *fx = integ_env("SFTPMNT_FIXTURE");
	int in[2], out[2], status, port;
	struct conn c;
	ssize_t n;
	pid_t pid;

	snprintf(script, sizeof(script), "%.*s/asyncssh-sftpd",
		 (int)(strrchr(fx, '/') - fx), fx);
	snprintf(hostkey, sizeof(hostkey), "%s/host_ed25519",
		 integ_env("SFTPMNT_FIXTURE_CACHE"));
	ck_assert_int_eq(pipe(in), 0);
	ck_assert_int_eq(pipe(out), 0);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		dup2(in[0], 0);
		dup2(out[1], 1);
		close(in[1]);
		close(out[0]);
		execl("/usr/bin/python3", "python3", script, hostkey,
		      integ_env("SFTPMNT_TEST_PUBKEY"), "zlib", (char *)NULL);
		_exit(77);
	}
	close(in[0]);
	close(out[1]);
	/* "PORT\n"; the pipe stays open until the server is stopped */
	n = 0;
	while ((size_t)n < sizeof(portline) - 1) {
		ssize_t r = read(out[0], portline + n,
				 sizeof(portline) - 1 - (size_t)n);

		if (r <= 0)
			break;
		n += r;
		if (memchr(portline, '\n', (size_t)n))
			break;
	}
	if (n <= 0) {
		close(out[0]);
		/* it printed why on stderr; stdin open until here */
		close(in[1]);
		waitpid(pid, &status, 0);
		ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 77,
			      "asyncssh-sftpd failed: status %d", status);
		printf("SKIP plain_zlib_transfer: no server offers plain "
		       "\"zlib\" here (OpenSSH 9.2 and Dropbear servers offer "
		       "only zlib@openssh.com; python3-asyncssh, used "
		       "instead, is missing)\n");
		return;
	}
	portline[n] = 0;
	port = atoi(portline);
	ck_assert_int_gt(port, 0);

	c.s = session(port, 1, NULL, &c.fd);
	comp_names(c.s, "zlib");
	/* on from NEWKEYS: the authentication itself is compressed */
	ck_assert(comp_on(&c.s->tp.ztx) && comp_on(&c.s->tp.zrx));
	login(&c);
	transfers(&c, "zlib(asyncssh)", 1);
	finish(&c);

	close(in[1]); /* the server exits at EOF on stdin */
	close(out[0]);
	kill(pid, SIGTERM);
	waitpid(pid, &status, 0);
}
END_TEST

static void fixture(const char *opts)
{
	char cmd[1024];

	snprintf(cmd, sizeof(cmd), "'%s' restart '%s' %s",
		 integ_env("SFTPMNT_FIXTURE"), integ_env("SFTPMNT_FIXTURE_DIR"),
		 opts);
	ck_assert_int_eq(system(cmd), 0);
}

START_TEST(rekey_during_compressed_transfer)
{
	struct conn c;
	int rounds;

	fixture("RekeyLimit=1M");
	c.s = session(0, 1, NULL, &c.fd);
	/* we start exchanges too, every 256 KiB either way */
	c.s->rekey_bytes = 256 * 1024;
	login(&c);
	rounds = c.s->kex.rounds;
	transfers(&c, "zlib@openssh.com+rekey", 1);
	printf("key exchanges during the transfers: %d\n",
	       c.s->kex.rounds - rounds);
	ck_assert_int_gt(c.s->kex.rounds - rounds, 20);
	/* still compressing after all of them */
	comp_names(c.s, "zlib@openssh.com");
	ck_assert(comp_on(&c.s->tp.ztx) && comp_on(&c.s->tp.zrx));
	finish(&c);
	fixture("");
}
END_TEST

int main(void)
{
	Suite *s = suite_create("comp");
	TCase *tc = tcase_create("sshd");
	SRunner *sr;
	int failed;

	integ_env("SFTPMNT_TEST_PORT");
	tcase_set_timeout(tc, 300);
	tcase_add_test(tc, flag_and_method_pref);
	tcase_add_test(tc, delayed_zlib_transfer);
	tcase_add_test(tc, plain_zlib_transfer);
	tcase_add_test(tc, rekey_during_compressed_transfer);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
