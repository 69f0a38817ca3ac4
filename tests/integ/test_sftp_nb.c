/*
 * test_sftp_nb.c - the libssh2_sftp_* calls in non-blocking mode, each
 * against the real OpenSSH sftp-server through tests/tools/delayproxy.
 *
 * The proxy makes EAGAIN certain instead of likely: its "stall" command
 * holds back every byte, so a call made meanwhile has sent its request
 * but can get no answer and must return LIBSSH2_ERROR_EAGAIN, with
 * libssh2_session_block_directions saying "inbound".  The call is then
 * made again (with the same arguments, as libssh2's contract asks)
 * a few times, the proxy lets go, and it is called until done.  The
 * checks, for rename (plain and overwriting), posix_rename, symlink,
 * readlink, realpath, setstat, fsetstat/fstat, statvfs, fstatvfs, fsync,
 * unlink, close_handle:
 * - the result: the return value, and the effect on the server's disk
 *   (the server runs here: $SFTPMNT_TEST_ROOT seen with POSIX calls);
 * - the request went out once: the bytes the proxy carried to the
 *   server for the retried call equal those of the same call (same
 *   argument sizes) made once in blocking mode.  A call that resent its
 *   request would show it here, and in its result (a second rename
 *   fails with "no such file", a second symlink with "exists").
 * Plus readdir_ex over 300 entries (buffered entries are served while
 * the proxy stalls, then EAGAIN), and seek64/tell64 around reads that
 * return EAGAIN (the position moves only with data returned; a seek
 * while a read waits makes the next read return the new position's
 * bytes).
 */
#define _GNU_SOURCE
#include <check.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "libssh2.h"
#include "libssh2_sftp.h"

#include "integ.h"
#include "integ_ssh.h"

#define RETRIES	       3   /* calls made while the proxy stalls */
#define DIR_ENTRIES    300 /* a few READDIR replies (OpenSSH: 100 each) */
#define SEEK_FILE      (1024u * 1024)
#define PROXY_START_MS 5000

/* ---- the proxy ------------------------------------------------------------
 */

static pid_t proxy_pid, proxy_owner;
static char proxy_dir[PATH_MAX], proxy_ctl[PATH_MAX + 8],
	proxy_portfile[PATH_MAX + 8];

static void proxy_stop(void)
{
	int status;

	/* (Check's forked test processes inherit the atexit handler) */
	if (getpid() != proxy_owner)
		return;
	if (proxy_pid > 0) {
		kill(proxy_pid, SIGTERM);
		waitpid(proxy_pid, &status, 0);
		proxy_pid = 0;
	}
	if (*proxy_dir) {
		unlink(proxy_ctl);
		unlink(proxy_portfile);
		rmdir(proxy_dir);
		*proxy_dir = 0;
	}
}

/* Start the proxy in front of the fixture's sshd and point
 * SFTPMNT_TEST_PORT (which integ_connect uses) at it. */
static void proxy_start(void)
{
	const char *bin = getenv("DELAYPROXY"), *tmp = getenv("TMPDIR");
	char target[64], port[16];
	pid_t parent = getpid();
	int i;
	FILE *f;

	if (!bin || !*bin)
		bin = "./tests/tools/delayproxy";
	if (access(bin, X_OK)) {
		fprintf(stderr, "%s: %s (set DELAYPROXY)\n", bin,
			strerror(errno));
		exit(99);
	}
	snprintf(proxy_dir, sizeof(proxy_dir), "%s/sftp-nb.XXXXXX",
		 tmp && *tmp ? tmp : "/tmp");
	if (!mkdtemp(proxy_dir)) {
		perror("mkdtemp");
		exit(99);
	}
	proxy_owner = getpid();
	atexit(proxy_stop);
	snprintf(proxy_ctl, sizeof(proxy_ctl), "%s/ctl", proxy_dir);
	snprintf(proxy_portfile, sizeof(proxy_portfile), "%s/port", proxy_dir);
	snprintf(target, sizeof(target), "%s:%s",
		 integ_env("SFTPMNT_TEST_HOST"),
		 integ_env("SFTPMNT_TEST_PORT"));
	proxy_pid = fork();
	if (proxy_pid == 0) {
		/* it goes with the test, however that ends */
		prctl(PR_SET_PDEATHSIG, SIGTERM);
		if (getppid() != parent)
			_exit(127);
		execl(bin, bin, "-t", target, "-p", proxy_portfile, "-c",
		      proxy_ctl, "-q", (char *)NULL);
		_exit(127);
	}
	if (proxy_pid < 0) {
		perror("fork");
		exit(99);
	}
	for (i = 0; i < PROXY_START_MS / 10; i++) {
		if ((f = fopen(proxy_portfile, "r"))) {
			if (fscanf(f, "%15s", port) == 1) {
				fclose(f);
				setenv("SFTPMNT_TEST_PORT", port, 1);
				return;
			}
			fclose(f);
		}
		usleep(10000);
	}
	fprintf(stderr, "the delay proxy did not start\n");
	exit(99);
}

/* One control command; its answer line (which must start "ok"). */
static void proxy_cmd(const char *cmd, char *ans, size_t cap)
{
	struct sockaddr_un sun = {.sun_family = AF_UNIX};
	size_t got = 0;
	ssize_t n;
	int fd = socket(AF_UNIX, SOCK_STREAM, 0);

	ck_assert_int_ge(fd, 0);
	ck_assert_uint_lt(strlen(proxy_ctl), sizeof(sun.sun_path));
	strcpy(sun.sun_path, proxy_ctl);
	ck_assert_msg(!connect(fd, (struct sockaddr *)&sun, sizeof(sun)),
		      "proxy control: %s", strerror(errno));
	ck_assert_int_eq(write(fd, cmd, strlen(cmd)), (ssize_t)strlen(cmd));
	ck_assert_int_eq(write(fd, "\n", 1), 1);
	while (got < cap - 1 && (n = read(fd, ans + got, cap - 1 - got)) > 0) {
		got += (size_t)n;
		if (memchr(ans, '\n', got))
			break;
	}
	close(fd);
	ans[got] = 0;
	ck_assert_msg(!strncmp(ans, "ok", 2), "proxy %s: %s", cmd, ans);
}

static void proxy(const char *cmd)
{
	char ans[256];

	proxy_cmd(cmd, ans, sizeof(ans));
}

/* Bytes the proxy has delivered from clients to the server. */
static unsigned long long proxy_c2s(void)
{
	char ans[256];
	const char *p;

	proxy_cmd("stats", ans, sizeof(ans));
	p = strstr(ans, "c2s=");
	ck_assert_ptr_nonnull(p);
	return strtoull(p + 4, NULL, 10);
}

/* ---- a non-blocking SFTP session through the proxy ------------------------
 */

struct conn {
	int fd;
	LIBSSH2_SESSION *s;
	LIBSSH2_SFTP *sf;
	long waits;
};

static void start(struct conn *c)
{
	proxy("resume"); /* a test that failed stalled may have left it so */
	c->waits = 0;
	c->s = integ_start(&c->fd);
	c->sf = libssh2_sftp_init(c->s);
	ck_assert_msg(c->sf != NULL, "sftp_init: %s", integ_errmsg(c->s));
	libssh2_session_set_blocking(c->s, 0);
}

static void finish(struct conn *c)
{
	int rc;

	while ((rc = libssh2_sftp_shutdown(c->sf)) == LIBSSH2_ERROR_EAGAIN)
		integ_wait(c->s, c->fd, &c->waits);
	ck_assert_int_eq(rc, 0);
	integ_finish(c->s, c->fd);
}

/* Call until it stops returning EAGAIN, waiting on the socket between. */
#define NB(c, call)                                                            \
	({                                                                     \
		long rc_;                                                      \
		while ((rc_ = (call)) == LIBSSH2_ERROR_EAGAIN)                 \
			integ_wait((c)->s, (c)->fd, &(c)->waits);              \
		rc_;                                                           \
	})

/*
 * call, made RETRIES times while the proxy holds every byte back (each
 * must return EAGAIN blocked inbound: no answer can come), then, the
 * proxy running again, as NB.  Its result; *sent: the bytes the server
 * got meanwhile.
 */
#define STALLED(c, sent, call)                                                 \
	({                                                                     \
		unsigned long long b_ = proxy_c2s();                           \
		long r_;                                                       \
		int i_;                                                        \
		proxy("stall");                                                \
		for (i_ = 0; i_ < RETRIES; i_++) {                             \
			r_ = (call);                                           \
			ck_assert_msg(r_ == LIBSSH2_ERROR_EAGAIN,              \
				      "%s while stalled: %ld %s", #call, r_,   \
				      integ_errmsg((c)->s));                   \
			ck_assert(libssh2_session_block_directions((c)->s) &   \
				  LIBSSH2_SESSION_BLOCK_INBOUND);              \
		}                                                              \
		proxy("resume");                                               \
		r_ = NB(c, call);                                              \
		*(sent) = proxy_c2s() - b_;                                    \
		r_;                                                            \
	})

/* The same call made once in blocking mode; *sent as STALLED. */
#define BLOCKING(c, sent, call)                                                \
	({                                                                     \
		unsigned long long b_ = proxy_c2s();                           \
		long r_;                                                       \
		libssh2_session_set_blocking((c)->s, 1);                       \
		r_ = (call);                                                   \
		libssh2_session_set_blocking((c)->s, 0);                       \
		*(sent) = proxy_c2s() - b_;                                    \
		r_;                                                            \
	})

/* $SFTPMNT_TEST_ROOT/name: the same path for the server and for us. */
static char *rpath(char *out, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static char *rpath(char *out, const char *fmt, ...)
{
	va_list ap;
	int n = snprintf(out, PATH_MAX, "%s/", integ_env("SFTPMNT_TEST_ROOT"));

	va_start(ap, fmt);
	vsnprintf(out + n, (size_t)(PATH_MAX - n), fmt, ap);
	va_end(ap);
	return out;
}

static void put_local(const char *path, const char *data)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	size_t n = strlen(data);

	ck_assert_msg(fd >= 0, "%s: %s", path, strerror(errno));
	ck_assert_int_eq(write(fd, data, n), (ssize_t)n);
	close(fd);
}

/* The local file's first bytes, NUL-terminated. */
static char *get_local(const char *path, char *buf, size_t cap)
{
	int fd = open(path, O_RDONLY);
	ssize_t n;

	ck_assert_msg(fd >= 0, "%s: %s", path, strerror(errno));
	n = read(fd, buf, cap - 1);
	ck_assert_int_ge(n, 0);
	buf[n] = 0;
	close(fd);
	return buf;
}

static LIBSSH2_SFTP_HANDLE *nb_open(struct conn *c, const char *path,
				    unsigned long flags, int type)
{
	LIBSSH2_SFTP_HANDLE *h;

	while (!(h = libssh2_sftp_open_ex(c->sf, path, (unsigned)strlen(path),
					  flags, 0644, type))) {
		ck_assert_msg(libssh2_session_last_errno(c->s) ==
				      LIBSSH2_ERROR_EAGAIN,
			      "open %s: %s", path, integ_errmsg(c->s));
		integ_wait(c->s, c->fd, &c->waits);
	}
	return h;
}

/* ---- rename
 * ------------------------------------------------------------------ */

static int rename_flags(struct conn *c, const char *a, const char *b,
			long flags)
{
	return libssh2_sftp_rename_ex(c->sf, a, (unsigned)strlen(a), b,
				      (unsigned)strlen(b), flags);
}

START_TEST(rename_nb)
{
	char a[PATH_MAX], b[PATH_MAX], buf[64];
	unsigned long long once, again;
	struct conn c;
	long rc;
	int i;

	start(&c);
	/* flags 0 (plain SSH_FXP_RENAME) to a free name: once blocking,
	 * then retried */
	for (i = 1; i <= 2; i++)
		put_local(rpath(a, "nbr-plain-src%d", i), "plain");
	rc = BLOCKING(&c, &once,
		      rename_flags(&c, rpath(a, "nbr-plain-src1"),
				   rpath(b, "nbr-plain-dst1"), 0));
	ck_assert_int_eq(rc, 0);
	rc = STALLED(&c, &again,
		     rename_flags(&c, rpath(a, "nbr-plain-src2"),
				  rpath(b, "nbr-plain-dst2"), 0));
	ck_assert_msg(rc == 0, "retried rename: %ld %s (status %lu)", rc,
		      integ_errmsg(c.s), libssh2_sftp_last_error(c.sf));
	ck_assert_int_eq(access(a, F_OK), -1);
	ck_assert_str_eq(get_local(b, buf, sizeof(buf)), "plain");
	ck_assert_uint_eq(again, once);

	/* OVERWRITE (posix-rename@openssh.com) onto an existing file */
	for (i = 1; i <= 2; i++) {
		put_local(rpath(a, "nbr-over-src%d", i), "new");
		put_local(rpath(b, "nbr-over-dst%d", i), "old contents");
	}
	rc = BLOCKING(&c, &once,
		      rename_flags(&c, rpath(a, "nbr-over-src1"),
				   rpath(b, "nbr-over-dst1"),
				   LIBSSH2_SFTP_RENAME_OVERWRITE));
	ck_assert_int_eq(rc, 0);
	rc = STALLED(&c, &again,
		     rename_flags(&c, rpath(a, "nbr-over-src2"),
				  rpath(b, "nbr-over-dst2"),
				  LIBSSH2_SFTP_RENAME_OVERWRITE));
	ck_assert_msg(rc == 0, "retried overwriting rename: %ld %s", rc,
		      integ_errmsg(c.s));
	ck_assert_int_eq(access(a, F_OK), -1);
	ck_assert_str_eq(get_local(b, buf, sizeof(buf)), "new");
	ck_assert_uint_eq(again, once);

	/* the default flags (the macro) and posix_rename_ex, retried */
	put_local(rpath(a, "nbr-macro-src"), "macro");
	put_local(rpath(b, "nbr-macro-dst"), "x");
	rc = STALLED(&c, &again, libssh2_sftp_rename(c.sf, a, b));
	ck_assert_int_eq(rc, 0);
	ck_assert_str_eq(get_local(b, buf, sizeof(buf)), "macro");
	put_local(rpath(a, "nbr-posix-src"), "posix");
	put_local(rpath(b, "nbr-posix-dst"), "y");
	rc = STALLED(
		&c, &again,
		libssh2_sftp_posix_rename_ex(c.sf, a, strlen(a), b, strlen(b)));
	ck_assert_int_eq(rc, 0);
	ck_assert_int_eq(access(a, F_OK), -1);
	ck_assert_str_eq(get_local(b, buf, sizeof(buf)), "posix");

	/* flags 0 onto an existing file: the server's refusal comes
	 * through EAGAIN too, and both files stay */
	put_local(rpath(a, "nbr-keep-src"), "src");
	put_local(rpath(b, "nbr-keep-dst"), "dst");
	rc = STALLED(&c, &again, rename_flags(&c, a, b, 0));
	ck_assert_int_eq(rc, LIBSSH2_ERROR_SFTP_PROTOCOL);
	ck_assert_uint_eq(libssh2_sftp_last_error(c.sf), LIBSSH2_FX_FAILURE);
	ck_assert_str_eq(get_local(a, buf, sizeof(buf)), "src");
	ck_assert_str_eq(get_local(b, buf, sizeof(buf)), "dst");
	/* a missing source */
	rc = NB(&c, rename_flags(&c, rpath(a, "nbr-missing"), b, 0));
	ck_assert_int_eq(rc, LIBSSH2_ERROR_SFTP_PROTOCOL);
	ck_assert_uint_eq(libssh2_sftp_last_error(c.sf),
			  LIBSSH2_FX_NO_SUCH_FILE);
	finish(&c);
}
END_TEST

/* ---- symlink, readlink, realpath -------------------------------------------
 */

START_TEST(symlink_nb)
{
	char link[PATH_MAX], target[] = "nbs-target/../nbs-file", buf[PATH_MAX],
			     local[PATH_MAX], want[PATH_MAX];
	unsigned long long once, again;
	struct conn c;
	ssize_t n;
	long rc;

	start(&c);
	put_local(rpath(buf, "nbs-file"), "f");
	ck_assert_int_eq(mkdir(rpath(buf, "nbs-target"), 0755), 0);
	/* symlink(target, linkpath): a retry must not find the link made
	 * by a first request ("exists") */
	rc = BLOCKING(
		&c, &once,
		libssh2_sftp_symlink(c.sf, target, rpath(link, "nbs-link1")));
	ck_assert_int_eq(rc, 0);
	rc = STALLED(
		&c, &again,
		libssh2_sftp_symlink(c.sf, target, rpath(link, "nbs-link2")));
	ck_assert_msg(rc == 0, "retried symlink: %ld %s (status %lu)", rc,
		      integ_errmsg(c.s), libssh2_sftp_last_error(c.sf));
	n = readlink(link, local, sizeof(local) - 1);
	ck_assert_int_eq(n, (ssize_t)strlen(target));
	local[n] = 0;
	ck_assert_str_eq(local, target);
	ck_assert_uint_eq(again, once);

	/* readlink */
	memset(buf, 'x', sizeof(buf));
	rc = BLOCKING(&c, &once,
		      libssh2_sftp_readlink(c.sf, link, buf, sizeof(buf)));
	ck_assert_int_eq(rc, (long)strlen(target));
	memset(buf, 'x', sizeof(buf));
	rc = STALLED(&c, &again,
		     libssh2_sftp_readlink(c.sf, link, buf, sizeof(buf)));
	ck_assert_int_eq(rc, (long)strlen(target));
	ck_assert_str_eq(buf, target);
	ck_assert_uint_eq(again, once);
	/* into a buffer too small: the error, and the session goes on */
	rc = STALLED(&c, &again, libssh2_sftp_readlink(c.sf, link, buf, 8));
	ck_assert_int_eq(rc, LIBSSH2_ERROR_BUFFER_TOO_SMALL);

	/* realpath, through the link */
	ck_assert_ptr_nonnull(realpath(link, want));
	rc = BLOCKING(&c, &once,
		      libssh2_sftp_realpath(c.sf, link, buf, sizeof(buf)));
	ck_assert_int_eq(rc, (long)strlen(want));
	memset(buf, 'x', sizeof(buf));
	rc = STALLED(&c, &again,
		     libssh2_sftp_realpath(c.sf, link, buf, sizeof(buf)));
	ck_assert_int_eq(rc, (long)strlen(want));
	ck_assert_str_eq(buf, want);
	ck_assert_uint_eq(again, once);
	/* readlink of a plain file fails, through EAGAIN */
	rc = STALLED(&c, &again,
		     libssh2_sftp_readlink(c.sf, rpath(link, "nbs-file"), buf,
					   sizeof(buf)));
	ck_assert_int_lt(rc, 0);
	ck_assert_int_ne(rc, LIBSSH2_ERROR_EAGAIN);
	finish(&c);
}
END_TEST

/* ---- setstat, fsetstat, fstat
 * ------------------------------------------------ */

START_TEST(setstat_nb)
{
	char path[PATH_MAX];
	LIBSSH2_SFTP_ATTRIBUTES a;
	LIBSSH2_SFTP_HANDLE *h;
	unsigned long long once, again;
	struct conn c;
	struct stat st;
	long rc;

	start(&c);
	put_local(rpath(path, "nba-file1"), "0123456789");
	put_local(rpath(path, "nba-file2"), "0123456789");
	memset(&a, 0, sizeof(a));
	a.flags = LIBSSH2_SFTP_ATTR_PERMISSIONS | LIBSSH2_SFTP_ATTR_ACMODTIME;
	a.permissions = 0600;
	a.atime = 1000000000;
	a.mtime = 1200000000;
	rpath(path, "nba-file1");
	rc = BLOCKING(&c, &once,
		      libssh2_sftp_stat_ex(c.sf, path, (unsigned)strlen(path),
					   LIBSSH2_SFTP_SETSTAT, &a));
	ck_assert_int_eq(rc, 0);
	rpath(path, "nba-file2");
	rc = STALLED(&c, &again,
		     libssh2_sftp_stat_ex(c.sf, path, (unsigned)strlen(path),
					  LIBSSH2_SFTP_SETSTAT, &a));
	ck_assert_int_eq(rc, 0);
	ck_assert_int_eq(stat(path, &st), 0);
	ck_assert_uint_eq(st.st_mode & 07777, 0600);
	ck_assert_int_eq(st.st_atime, 1000000000);
	ck_assert_int_eq(st.st_mtime, 1200000000);
	ck_assert_uint_eq(again, once);

	/* fsetstat: truncate and chmod through a handle */
	h = nb_open(&c, path, LIBSSH2_FXF_READ | LIBSSH2_FXF_WRITE,
		    LIBSSH2_SFTP_OPENFILE);
	memset(&a, 0, sizeof(a));
	a.flags = LIBSSH2_SFTP_ATTR_SIZE | LIBSSH2_SFTP_ATTR_PERMISSIONS;
	a.filesize = 3;
	a.permissions = 0640;
	rc = BLOCKING(&c, &once, libssh2_sftp_fstat_ex(h, &a, 1));
	ck_assert_int_eq(rc, 0);
	a.filesize = 4;
	rc = STALLED(&c, &again, libssh2_sftp_fstat_ex(h, &a, 1));
	ck_assert_int_eq(rc, 0);
	ck_assert_int_eq(stat(path, &st), 0);
	ck_assert_int_eq(st.st_size, 4);
	ck_assert_uint_eq(st.st_mode & 07777, 0640);
	ck_assert_uint_eq(again, once);
	/* fstat reads it back */
	memset(&a, 0, sizeof(a));
	rc = STALLED(&c, &again, libssh2_sftp_fstat_ex(h, &a, 0));
	ck_assert_int_eq(rc, 0);
	ck_assert(a.flags & LIBSSH2_SFTP_ATTR_SIZE);
	ck_assert_uint_eq(a.filesize, 4);
	ck_assert_uint_eq(a.permissions & 07777, 0640);
	ck_assert(LIBSSH2_SFTP_S_ISREG(a.permissions));
	ck_assert_int_eq(NB(&c, libssh2_sftp_close(h)), 0);
	/* setstat of a missing file */
	memset(&a, 0, sizeof(a));
	a.flags = LIBSSH2_SFTP_ATTR_PERMISSIONS;
	a.permissions = 0600;
	rc = STALLED(
		&c, &again,
		libssh2_sftp_setstat(c.sf, rpath(path, "nba-missing"), &a));
	ck_assert_int_eq(rc, LIBSSH2_ERROR_SFTP_PROTOCOL);
	ck_assert_uint_eq(libssh2_sftp_last_error(c.sf),
			  LIBSSH2_FX_NO_SUCH_FILE);
	finish(&c);
}
END_TEST

/* ---- statvfs, fstatvfs, fsync
 * ------------------------------------------------ */

static void same_fs(const LIBSSH2_SFTP_STATVFS *v, const struct statvfs *l)
{
	ck_assert_uint_eq(v->f_bsize, l->f_bsize);
	ck_assert_uint_eq(v->f_frsize, l->f_frsize);
	ck_assert_uint_eq(v->f_blocks, l->f_blocks);
	ck_assert_uint_eq(v->f_files, l->f_files);
	ck_assert_uint_eq(v->f_namemax, l->f_namemax);
}

START_TEST(statvfs_fsync_nb)
{
	const char *root = integ_env("SFTPMNT_TEST_ROOT");
	static char data[100000], back[sizeof(data) + 1];
	char path[PATH_MAX];
	LIBSSH2_SFTP_STATVFS v;
	LIBSSH2_SFTP_HANDLE *h;
	unsigned long long once, again;
	struct statvfs lv;
	struct conn c;
	size_t off = 0;
	long rc;
	int fd;

	start(&c);
	ck_assert_int_eq(statvfs(root, &lv), 0);
	rc = BLOCKING(&c, &once,
		      libssh2_sftp_statvfs(c.sf, root, strlen(root), &v));
	ck_assert_int_eq(rc, 0);
	memset(&v, 0, sizeof(v));
	rc = STALLED(&c, &again,
		     libssh2_sftp_statvfs(c.sf, root, strlen(root), &v));
	ck_assert_int_eq(rc, 0);
	same_fs(&v, &lv);
	ck_assert_uint_eq(again, once);

	h = nb_open(&c, rpath(path, "nbv-file"),
		    LIBSSH2_FXF_WRITE | LIBSSH2_FXF_CREAT | LIBSSH2_FXF_TRUNC,
		    LIBSSH2_SFTP_OPENFILE);
	rc = BLOCKING(&c, &once, libssh2_sftp_fstatvfs(h, &v));
	ck_assert_int_eq(rc, 0);
	memset(&v, 0, sizeof(v));
	rc = STALLED(&c, &again, libssh2_sftp_fstatvfs(h, &v));
	ck_assert_int_eq(rc, 0);
	same_fs(&v, &lv);
	ck_assert_uint_eq(again, once);

	/* fsync after non-blocking writes */
	memset(data, 'q', sizeof(data));
	while (off < sizeof(data)) {
		rc = NB(&c,
			libssh2_sftp_write(h, data + off, sizeof(data) - off));
		ck_assert_msg(rc > 0, "write: %ld %s", rc, integ_errmsg(c.s));
		off += (size_t)rc;
	}
	rc = BLOCKING(&c, &once, libssh2_sftp_fsync(h));
	ck_assert_int_eq(rc, 0);
	rc = STALLED(&c, &again, libssh2_sftp_fsync(h));
	ck_assert_msg(rc == 0, "fsync: %ld %s", rc, integ_errmsg(c.s));
	ck_assert_uint_eq(again, once);
	fd = open(path, O_RDONLY);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(read(fd, back, sizeof(back)), (ssize_t)sizeof(data));
	close(fd);
	ck_assert(!memcmp(back, data, sizeof(data)));
	ck_assert_int_eq(NB(&c, libssh2_sftp_close(h)), 0);

	/* statvfs of a missing path */
	rpath(path, "nbv-missing");
	rc = STALLED(&c, &again,
		     libssh2_sftp_statvfs(c.sf, path, strlen(path), &v));
	ck_assert_int_eq(rc, LIBSSH2_ERROR_SFTP_PROTOCOL);
	ck_assert_uint_eq(libssh2_sftp_last_error(c.sf),
			  LIBSSH2_FX_NO_SUCH_FILE);
	finish(&c);
}
END_TEST

/* ---- unlink
 * ------------------------------------------------------------------ */

START_TEST(unlink_nb)
{
	char path[PATH_MAX];
	unsigned long long once, again;
	struct conn c;
	long rc;

	start(&c);
	put_local(rpath(path, "nbu-file1"), "1");
	put_local(rpath(path, "nbu-file2"), "2");
	rc = BLOCKING(&c, &once,
		      libssh2_sftp_unlink(c.sf, rpath(path, "nbu-file1")));
	ck_assert_int_eq(rc, 0);
	/* a retry must not find the file gone ("no such file") */
	rc = STALLED(&c, &again,
		     libssh2_sftp_unlink(c.sf, rpath(path, "nbu-file2")));
	ck_assert_msg(rc == 0, "retried unlink: %ld %s (status %lu)", rc,
		      integ_errmsg(c.s), libssh2_sftp_last_error(c.sf));
	ck_assert_int_eq(access(path, F_OK), -1);
	ck_assert_int_eq(errno, ENOENT);
	ck_assert_uint_eq(again, once);
	/* and again: now it is missing */
	rc = STALLED(&c, &again, libssh2_sftp_unlink(c.sf, path));
	ck_assert_int_eq(rc, LIBSSH2_ERROR_SFTP_PROTOCOL);
	ck_assert_uint_eq(libssh2_sftp_last_error(c.sf),
			  LIBSSH2_FX_NO_SUCH_FILE);
	finish(&c);
}
END_TEST

/* ---- readdir
 * ----------------------------------------------------------------- */

struct listing {
	unsigned char seen[DIR_ENTRIES];
	int dots, files;
};

/* One entry readdir_ex returned (rc, its name's length): listed once,
 * the attributes and long entry its own (entry i is i bytes long). */
static void take_entry(struct listing *l, long rc, const char *name,
		       const char *longentry, const LIBSSH2_SFTP_ATTRIBUTES *a)
{
	int i;

	ck_assert_int_eq(rc, (long)strlen(name));
	if (!strcmp(name, ".") || !strcmp(name, "..")) {
		l->dots++;
		return;
	}
	ck_assert_msg(sscanf(name, "entry-%d", &i) == 1 && i >= 0 &&
			      i < DIR_ENTRIES,
		      "unexpected entry %s", name);
	ck_assert_msg(!l->seen[i], "%s listed twice", name);
	l->seen[i] = 1;
	l->files++;
	ck_assert(a->flags & LIBSSH2_SFTP_ATTR_SIZE);
	ck_assert_uint_eq(a->filesize, (unsigned)i);
	ck_assert(LIBSSH2_SFTP_S_ISREG(a->permissions));
	ck_assert_ptr_nonnull(strstr(longentry, name));
}

START_TEST(readdir_nb)
{
	char dir[PATH_MAX], path[PATH_MAX], name[512], longentry[512];
	static struct listing l;
	LIBSSH2_SFTP_ATTRIBUTES a;
	LIBSSH2_SFTP_HANDLE *h;
	unsigned long long sent;
	struct conn c;
	int i, fd, stalled_entries = 0;
	long rc;

#define READDIR(h)                                                             \
	libssh2_sftp_readdir_ex(h, name, sizeof(name), longentry,              \
				sizeof(longentry), &a)
	start(&c);
	ck_assert_int_eq(mkdir(rpath(dir, "nbd"), 0755), 0);
	for (i = 0; i < DIR_ENTRIES; i++) {
		fd = open(rpath(path, "nbd/entry-%03d", i), O_WRONLY | O_CREAT,
			  0644);
		ck_assert_int_ge(fd, 0);
		ck_assert_int_eq(ftruncate(fd, i), 0);
		close(fd);
	}
	h = nb_open(&c, dir, 0, LIBSSH2_SFTP_OPENDIR);
	rc = STALLED(&c, &sent, READDIR(h));
	ck_assert_int_gt(rc, 0);
	take_entry(&l, rc, name, longentry, &a);
	/* the rest of the first reply comes without the network; the next
	 * READDIR cannot */
	proxy("stall");
	while ((rc = READDIR(h)) > 0) {
		take_entry(&l, rc, name, longentry, &a);
		ck_assert_int_lt(++stalled_entries, DIR_ENTRIES);
	}
	ck_assert_int_eq(rc, LIBSSH2_ERROR_EAGAIN);
	for (i = 0; i < RETRIES; i++)
		ck_assert_int_eq(READDIR(h), LIBSSH2_ERROR_EAGAIN);
	proxy("resume");
	while ((rc = NB(&c, READDIR(h))) > 0)
		take_entry(&l, rc, name, longentry, &a);
	ck_assert_msg(rc == 0, "readdir: %ld %s", rc, integ_errmsg(c.s));
#undef READDIR
	ck_assert_int_gt(stalled_entries, 0);
	ck_assert_int_eq(l.dots, 2);
	ck_assert_int_eq(l.files, DIR_ENTRIES);
	/* after the end, the end again */
	ck_assert_int_eq(
		NB(&c, libssh2_sftp_readdir(h, name, sizeof(name), &a)), 0);
	ck_assert_int_eq(NB(&c, libssh2_sftp_closedir(h)), 0);
	for (i = 0; i < DIR_ENTRIES; i++)
		unlink(rpath(path, "nbd/entry-%03d", i));
	ck_assert_int_eq(rmdir(dir), 0);
	finish(&c);
}
END_TEST

/* ---- seek64 / tell64 around reads ------------------------------------------
 */

static unsigned char pattern(uint64_t off)
{
	return (unsigned char)((off * 7 + (off >> 9)) & 0xff);
}

static void check_data(const char *buf, size_t n, uint64_t off)
{
	size_t i;

	for (i = 0; i < n; i++)
		ck_assert_msg((unsigned char)buf[i] == pattern(off + i),
			      "byte %llu", (unsigned long long)(off + i));
}

START_TEST(seek_tell_nb)
{
	static unsigned char data[SEEK_FILE];
	static char buf[64 * 1024];
	char path[PATH_MAX];
	LIBSSH2_SFTP_HANDLE *h;
	struct conn c;
	uint64_t i;
	long rc;
	int fd, k;

	start(&c);
	for (i = 0; i < SEEK_FILE; i++)
		data[i] = pattern(i);
	fd = open(rpath(path, "nbk-file"), O_WRONLY | O_CREAT | O_TRUNC, 0644);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(write(fd, data, sizeof(data)), (ssize_t)sizeof(data));
	close(fd);
	h = nb_open(&c, path, LIBSSH2_FXF_READ, LIBSSH2_SFTP_OPENFILE);

	/* the first read must wait; the position stays until data comes */
	proxy("stall");
	for (k = 0; k < RETRIES; k++) {
		ck_assert_int_eq(libssh2_sftp_read(h, buf, 1000),
				 LIBSSH2_ERROR_EAGAIN);
		ck_assert_uint_eq(libssh2_sftp_tell64(h), 0);
	}
	proxy("resume");
	rc = NB(&c, libssh2_sftp_read(h, buf, 1000));
	ck_assert_int_gt(rc, 0);
	ck_assert_int_le(rc, 1000);
	check_data(buf, (size_t)rc, 0);
	ck_assert_uint_eq(libssh2_sftp_tell64(h), (uint64_t)rc);

	/* a seek far ahead, then a seek elsewhere while the read for the
	 * first one waits: the read returns the second position's bytes */
	libssh2_sftp_seek64(h, 700000);
	ck_assert_uint_eq(libssh2_sftp_tell64(h), 700000);
	proxy("stall");
	ck_assert_int_eq(libssh2_sftp_read(h, buf, 1000), LIBSSH2_ERROR_EAGAIN);
	ck_assert_uint_eq(libssh2_sftp_tell64(h), 700000);
	libssh2_sftp_seek64(h, 300001);
	ck_assert_uint_eq(libssh2_sftp_tell64(h), 300001);
	ck_assert_int_eq(libssh2_sftp_read(h, buf, 1000), LIBSSH2_ERROR_EAGAIN);
	ck_assert_uint_eq(libssh2_sftp_tell64(h), 300001);
	proxy("resume");
	rc = NB(&c, libssh2_sftp_read(h, buf, 1000));
	ck_assert_int_gt(rc, 0);
	check_data(buf, (size_t)rc, 300001);
	ck_assert_uint_eq(libssh2_sftp_tell64(h), 300001 + (uint64_t)rc);

	/* on to EOF from near the end, in big reads */
	libssh2_sftp_seek64(h, SEEK_FILE - 100000);
	i = SEEK_FILE - 100000;
	for (;;) {
		rc = NB(&c, libssh2_sftp_read(h, buf, sizeof(buf)));
		ck_assert_int_ge(rc, 0);
		if (rc == 0)
			break;
		check_data(buf, (size_t)rc, i);
		i += (uint64_t)rc;
		ck_assert_uint_eq(libssh2_sftp_tell64(h), i);
	}
	ck_assert_uint_eq(i, SEEK_FILE);
	ck_assert_uint_eq(libssh2_sftp_tell64(h), SEEK_FILE);
	/* past the end: EOF at once, the position where it was put */
	libssh2_sftp_seek64(h, SEEK_FILE + 5000);
	ck_assert_int_eq(NB(&c, libssh2_sftp_read(h, buf, 100)), 0);
	ck_assert_uint_eq(libssh2_sftp_tell64(h), SEEK_FILE + 5000);
	/* back to the start */
	libssh2_sftp_seek64(h, 0);
	rc = NB(&c, libssh2_sftp_read(h, buf, 4096));
	ck_assert_int_gt(rc, 0);
	check_data(buf, (size_t)rc, 0);
	ck_assert_uint_eq(libssh2_sftp_tell64(h), (uint64_t)rc);
	ck_assert_int_eq(NB(&c, libssh2_sftp_close(h)), 0);
	ck_assert_int_eq(unlink(path), 0);
	finish(&c);
}
END_TEST

/* ---- close_handle
 * ------------------------------------------------------------ */

/* Whether some process (the sftp-server: it runs as we do) has path
 * open, from /proc/PID/fd. */
static int open_anywhere(const char *path)
{
	char want[PATH_MAX], fdir[300], l[600], got[PATH_MAX];
	struct dirent *p, *f;
	DIR *pd, *fd;
	ssize_t n;
	int found = 0;

	ck_assert_ptr_nonnull(realpath(path, want));
	pd = opendir("/proc");
	ck_assert_ptr_nonnull(pd);
	while (!found && (p = readdir(pd))) {
		if (p->d_name[0] < '0' || p->d_name[0] > '9')
			continue;
		snprintf(fdir, sizeof(fdir), "/proc/%s/fd", p->d_name);
		if (!(fd = opendir(fdir)))
			continue;
		while (!found && (f = readdir(fd))) {
			snprintf(l, sizeof(l), "%s/%s", fdir, f->d_name);
			n = readlink(l, got, sizeof(got) - 1);
			if (n <= 0)
				continue;
			got[n] = 0;
			found = !strcmp(got, want);
		}
		closedir(fd);
	}
	closedir(pd);
	return found;
}

START_TEST(close_nb)
{
	char p1[PATH_MAX], p2[PATH_MAX], d[PATH_MAX];
	LIBSSH2_SFTP_HANDLE *h1, *h2, *hd;
	unsigned long long once, again;
	struct conn c;
	long rc;

	start(&c);
	put_local(rpath(p1, "nbc-file1"), "1");
	put_local(rpath(p2, "nbc-file2"), "2");
	h1 = nb_open(&c, p1, LIBSSH2_FXF_READ, LIBSSH2_SFTP_OPENFILE);
	h2 = nb_open(&c, p2, LIBSSH2_FXF_READ, LIBSSH2_SFTP_OPENFILE);
	ck_assert(open_anywhere(p2));
	rc = BLOCKING(&c, &once, libssh2_sftp_close_handle(h1));
	ck_assert_int_eq(rc, 0);
	/* (h2's CLOSE waits at the proxy: the server has the file open) */
	proxy("stall");
	ck_assert_int_eq(libssh2_sftp_close_handle(h2), LIBSSH2_ERROR_EAGAIN);
	ck_assert(open_anywhere(p2));
	proxy("resume");
	while ((rc = libssh2_sftp_close_handle(h2)) == LIBSSH2_ERROR_EAGAIN)
		integ_wait(c.s, c.fd, &c.waits);
	ck_assert_int_eq(rc, 0);
	ck_assert(!open_anywhere(p2));
	ck_assert(!open_anywhere(p1));

	/* the byte count, on a fresh handle; and a directory's */
	h2 = nb_open(&c, p2, LIBSSH2_FXF_READ, LIBSSH2_SFTP_OPENFILE);
	rc = STALLED(&c, &again, libssh2_sftp_close_handle(h2));
	ck_assert_int_eq(rc, 0);
	ck_assert_uint_eq(again, once);
	ck_assert(!open_anywhere(p2));
	ck_assert_int_eq(mkdir(rpath(d, "nbc-dir"), 0755), 0);
	hd = nb_open(&c, d, 0, LIBSSH2_SFTP_OPENDIR);
	rc = STALLED(&c, &again, libssh2_sftp_closedir(hd));
	ck_assert_int_eq(rc, 0);
	ck_assert(!open_anywhere(d));

	/* a write refused after its call returned EAGAIN is reported by
	 * the close, with the write's status through last_error (not the
	 * CLOSE's OK) */
	h1 = nb_open(&c, p1, LIBSSH2_FXF_READ, LIBSSH2_SFTP_OPENFILE);
	proxy("stall");
	ck_assert_int_eq(libssh2_sftp_write(h1, "x", 1), LIBSSH2_ERROR_EAGAIN);
	proxy("resume");
	rc = NB(&c, libssh2_sftp_close_handle(h1));
	ck_assert_int_eq(rc, LIBSSH2_ERROR_SFTP_PROTOCOL);
	ck_assert_uint_ne(libssh2_sftp_last_error(c.sf), LIBSSH2_FX_OK);
	ck_assert(!open_anywhere(p1));
	finish(&c);
}
END_TEST

/*
 * Two calls left waiting at once (each to be called again later, as a
 * program with several jobs on one session does): each gets its own
 * answer, as with libssh2's per-call states.  (The library once kept
 * one waiting request per SFTP session, whatever the call: the second
 * call took the first one's reply, so of two handles closed that way
 * the server closed only the first (the second's CLOSE was never sent,
 * the first's sent twice: "failure"), and a mkdir called while a stat
 * waited got the stat's ATTRS and failed.)
 */
START_TEST(interleaved_nb)
{
	char p1[PATH_MAX], p2[PATH_MAX], d[PATH_MAX];
	LIBSSH2_SFTP_HANDLE *h1, *h2;
	LIBSSH2_SFTP_ATTRIBUTES a;
	long r1, r2;
	struct conn c;

	start(&c);
	put_local(rpath(p1, "nbi-file1"), "one");
	put_local(rpath(p2, "nbi-file2"), "second");
	h1 = nb_open(&c, p1, LIBSSH2_FXF_READ, LIBSSH2_SFTP_OPENFILE);
	h2 = nb_open(&c, p2, LIBSSH2_FXF_READ, LIBSSH2_SFTP_OPENFILE);
	proxy("stall");
	ck_assert_int_eq(libssh2_sftp_close_handle(h1), LIBSSH2_ERROR_EAGAIN);
	ck_assert_int_eq(libssh2_sftp_close_handle(h2), LIBSSH2_ERROR_EAGAIN);
	proxy("resume");
	r2 = NB(&c, libssh2_sftp_close_handle(h2));
	r1 = NB(&c, libssh2_sftp_close_handle(h1));
	ck_assert_int_eq(r1, 0);
	ck_assert_int_eq(r2, 0);
	ck_assert(!open_anywhere(p1));
	ck_assert(!open_anywhere(p2));

	/* stat and mkdir */
	rpath(d, "nbi-dir");
	memset(&a, 0, sizeof(a));
	proxy("stall");
	ck_assert_int_eq(libssh2_sftp_stat(c.sf, p2, &a), LIBSSH2_ERROR_EAGAIN);
	ck_assert_int_eq(libssh2_sftp_mkdir(c.sf, d, 0755),
			 LIBSSH2_ERROR_EAGAIN);
	proxy("resume");
	r2 = NB(&c, libssh2_sftp_mkdir(c.sf, d, 0755));
	ck_assert_msg(r2 == 0, "mkdir: %ld %s", r2, integ_errmsg(c.s));
	ck_assert_int_eq(access(d, F_OK), 0);
	r1 = NB(&c, libssh2_sftp_stat(c.sf, p2, &a));
	ck_assert_msg(r1 == 0, "stat: %ld %s", r1, integ_errmsg(c.s));
	ck_assert_uint_eq(a.filesize, 6);
	finish(&c);
}
END_TEST

int main(void)
{
	Suite *su = suite_create("sftp_nb");
	TCase *tc = tcase_create("sshd");
	SRunner *sr;
	int failed;

	integ_env("SFTPMNT_TEST_ROOT");
	proxy_start();
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, rename_nb);
	tcase_add_test(tc, symlink_nb);
	tcase_add_test(tc, setstat_nb);
	tcase_add_test(tc, statvfs_fsync_nb);
	tcase_add_test(tc, unlink_nb);
	tcase_add_test(tc, readdir_nb);
	tcase_add_test(tc, seek_tell_nb);
	tcase_add_test(tc, close_nb);
	tcase_add_test(tc, interleaved_nb);
	suite_add_tcase(su, tc);
	sr = srunner_create(su);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	proxy_stop();
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
