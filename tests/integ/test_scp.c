/*
 * test_scp.c - SCP (libssh2_scp_send64/send_ex, libssh2_scp_recv2/recv)
 * against the real test sshd and its scp: 1 MiB up with mode and times,
 * checked on the server's disk, and back down; 0 bytes, 1 byte and
 * 64 MiB each way; a target it cannot write; a path that needs quoting
 * for the remote shell; remote errors reported with the remote scp's
 * message; non-blocking send and receive; and a hostile "scp" (sshd's
 * ForceCommand) whose oversized, malformed or unexpected lines must be
 * refused.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "libssh2.h"

#include "integ.h"
#include "integ_ssh.h"

#define BIG (1024u * 1024)

static void fill(unsigned char *p, size_t n, unsigned seed)
{
	uint32_t x = seed * 2654435761u + 1;
	size_t i;

	for (i = 0; i < n; i++) {
		x ^= x << 13;
		x ^= x >> 17;
		x ^= x << 5;
		p[i] = (unsigned char)x;
	}
}

static void write_all(LIBSSH2_CHANNEL *c, const unsigned char *p, size_t n)
{
	size_t done = 0;
	ssize_t w;

	while (done < n) {
		w = libssh2_channel_write(c, (const char *)p + done, n - done);
		ck_assert_msg(w > 0, "write: %zd", w);
		done += (size_t)w;
	}
}

/* Exactly n bytes of the file's data from a download channel. */
static void read_exact(LIBSSH2_CHANNEL *c, unsigned char *p, size_t n)
{
	size_t got = 0;
	ssize_t r;

	while (got < n) {
		r = libssh2_channel_read(c, (char *)p + got, n - got);
		ck_assert_msg(r > 0, "read: %zd after %zu of %zu", r, got, n);
		got += (size_t)r;
	}
}

/* libssh2's scp_write example: EOF, wait for the server's EOF and CLOSE;
 * the remote scp's exit status. */
static int upload_done(LIBSSH2_CHANNEL *c)
{
	int st;

	ck_assert_int_eq(libssh2_channel_send_eof(c), 0);
	ck_assert_int_eq(libssh2_channel_wait_eof(c), 0);
	ck_assert_int_eq(libssh2_channel_wait_closed(c), 0);
	st = libssh2_channel_get_exit_status(c);
	ck_assert_int_eq(libssh2_channel_free(c), 0);
	return st;
}

static unsigned char *read_local(const char *path, size_t *n)
{
	FILE *f = fopen(path, "rb");
	unsigned char *p = malloc(BIG + 1);
	size_t got;

	ck_assert_ptr_nonnull(f);
	ck_assert_ptr_nonnull(p);
	got = fread(p, 1, BIG + 1, f);
	fclose(f);
	*n = got;
	return p;
}

/* ---- up and down --------------------------------------------------------- */

START_TEST(send_and_recv_1m)
{
	const char *root = integ_env("SFTPMNT_TEST_ROOT");
	unsigned char *data = malloc(BIG), *back = malloc(BIG), *local;
	char path[4096];
	int fd;
	LIBSSH2_SESSION *s = integ_start(&fd);
	LIBSSH2_CHANNEL *c;
	libssh2_struct_stat sb;
	struct stat st, old;
	size_t n;

	ck_assert_ptr_nonnull(data);
	ck_assert_ptr_nonnull(back);
	fill(data, BIG, 7);
	/* quoting: a space, a quote and a ! (csh history) in the path */
	snprintf(path, sizeof(path), "%s/scp dir", root);
	ck_assert_int_eq(mkdir(path, 0755), 0);
	snprintf(path, sizeof(path), "%s/scp dir/it's a !file.bin", root);
	c = libssh2_scp_send64(s, path, 0640, BIG, 1000000000, 1100000000);
	ck_assert_msg(c != NULL, "scp_send64: %s", integ_errmsg(s));
	write_all(c, data, BIG);
	/* the remote scp got the whole file and its closing NUL */
	ck_assert_int_eq(upload_done(c), 0);
	ck_assert_int_eq(stat(path, &st), 0);
	ck_assert_int_eq(st.st_size, BIG);
	ck_assert_int_eq(st.st_mode & 07777, 0640);
	ck_assert_int_eq(st.st_mtime, 1000000000);
	ck_assert_int_eq(st.st_atime, 1100000000);

	/* back down, with the times (scp -pf) */
	memset(&sb, 0xa5, sizeof(sb));
	c = libssh2_scp_recv2(s, path, &sb);
	ck_assert_msg(c != NULL, "scp_recv2: %s", integ_errmsg(s));
	ck_assert_int_eq(sb.st_size, BIG);
	ck_assert_int_eq(sb.st_mode, 0640);
	ck_assert_int_eq(sb.st_mtime, 1000000000);
	ck_assert_int_eq(sb.st_atime, 1100000000);
	read_exact(c, back, BIG);
	ck_assert_int_eq(memcmp(back, data, BIG), 0);
	ck_assert_int_eq(libssh2_channel_free(c), 0);
	local = read_local(path, &n);
	ck_assert_uint_eq(n, BIG);
	ck_assert_int_eq(memcmp(local, data, BIG), 0);
	free(local);

	/* the deprecated call: the same with a struct stat */
	memset(&old, 0, sizeof(old));
	c = libssh2_scp_recv(s, path, &old);
	ck_assert_msg(c != NULL, "scp_recv: %s", integ_errmsg(s));
	ck_assert_int_eq(old.st_size, BIG);
	read_exact(c, back, BIG);
	ck_assert_int_eq(memcmp(back, data, BIG), 0);
	ck_assert_int_eq(libssh2_channel_free(c), 0);
	/* without sb: no times asked for (scp -f) */
	c = libssh2_scp_recv2(s, path, NULL);
	ck_assert_ptr_nonnull(c);
	read_exact(c, back, BIG);
	ck_assert_int_eq(memcmp(back, data, BIG), 0);
	ck_assert_int_eq(libssh2_channel_free(c), 0);
	integ_finish(s, fd);
	free(data);
	free(back);
}
END_TEST

/* scp_send_ex and the macro: no times (scp -t), an empty file. */
START_TEST(send_without_times)
{
	const char *root = integ_env("SFTPMNT_TEST_ROOT");
	char path[4096], buf[16];
	int fd;
	LIBSSH2_SESSION *s = integ_start(&fd);
	LIBSSH2_CHANNEL *c;
	libssh2_struct_stat sb;
	struct stat st;
	time_t now = time(NULL);

	snprintf(path, sizeof(path), "%s/plain.txt", root);
	c = libssh2_scp_send(s, path, 0600, 5);
	ck_assert_msg(c != NULL, "scp_send: %s", integ_errmsg(s));
	write_all(c, (const unsigned char *)"hello", 5);
	ck_assert_int_eq(upload_done(c), 0);
	ck_assert_int_eq(stat(path, &st), 0);
	ck_assert_int_eq(st.st_size, 5);
	ck_assert_int_eq(st.st_mode & 07777, 0600);
	ck_assert_int_le(labs((long)(st.st_mtime - now)), 60);

	snprintf(path, sizeof(path), "%s/empty", root);
	c = libssh2_scp_send_ex(s, path, 0644, 0, 1234567890, 1234567890);
	ck_assert_msg(c != NULL, "scp_send_ex: %s", integ_errmsg(s));
	ck_assert_int_eq(upload_done(c), 0);
	ck_assert_int_eq(stat(path, &st), 0);
	ck_assert_int_eq(st.st_size, 0);
	ck_assert_int_eq(st.st_mtime, 1234567890);
	c = libssh2_scp_recv2(s, path, &sb);
	ck_assert_ptr_nonnull(c);
	ck_assert_int_eq(sb.st_size, 0);
	ck_assert_int_eq(libssh2_channel_read(c, buf, 0), 0);
	ck_assert_int_eq(libssh2_channel_free(c), 0);
	integ_finish(s, fd);
}
END_TEST

/* ---- errors -------------------------------------------------------------- */

static void expect_error(LIBSSH2_SESSION *s, LIBSSH2_CHANNEL *c, int code,
			 const char *text)
{
	const char *m = integ_errmsg(s);

	ck_assert_ptr_null(c);
	ck_assert_msg(libssh2_session_last_errno(s) == code,
		      "error %d (%s), wanted %d", libssh2_session_last_errno(s),
		      m, code);
	ck_assert_msg(strstr(m, text) != NULL, "message \"%s\" lacks \"%s\"", m,
		      text);
}

START_TEST(remote_errors)
{
	const char *root = integ_env("SFTPMNT_TEST_ROOT");
	char path[4096], buf[64];
	int fd;
	LIBSSH2_SESSION *s = integ_start(&fd);
	LIBSSH2_CHANNEL *c;
	libssh2_struct_stat sb;

	/* the remote scp's own message comes through */
	c = libssh2_scp_recv2(s, "/nonexistent-sftpmnt/x", &sb);
	expect_error(s, c, LIBSSH2_ERROR_SCP_PROTOCOL,
		     "No such file or directory");
	ck_assert_msg(strstr(integ_errmsg(s), "/nonexistent-sftpmnt/x"), "%s",
		      integ_errmsg(s));
	c = libssh2_scp_send64(s, "/nonexistent-sftpmnt/dir/f", 0644, 3, 0, 0);
	expect_error(s, c, LIBSSH2_ERROR_SCP_PROTOCOL,
		     "No such file or directory");
	/* a directory is not a file */
	c = libssh2_scp_recv2(s, root, NULL);
	expect_error(s, c, LIBSSH2_ERROR_SCP_PROTOCOL, "not a regular file");
	/* refused before anything is sent */
	snprintf(path, sizeof(path), "%s/", root);
	c = libssh2_scp_send64(s, path, 0644, 3, 0, 0);
	expect_error(s, c, LIBSSH2_ERROR_INVAL, "");
	c = libssh2_scp_send64(s, NULL, 0644, 3, 0, 0);
	expect_error(s, c, LIBSSH2_ERROR_INVAL, "");
	c = libssh2_scp_send64(s, "/tmp/x", 0644, -1, 0, 0);
	expect_error(s, c, LIBSSH2_ERROR_INVAL, "");
	c = libssh2_scp_recv2(s, "", NULL);
	expect_error(s, c, LIBSSH2_ERROR_INVAL, "");
	/* and the session goes on */
	c = integ_exec(s, "echo fine");
	integ_read_all(c, 0, buf, sizeof(buf));
	ck_assert_str_eq(buf, "fine\n");
	ck_assert_int_eq(integ_close(c), 0);
	integ_finish(s, fd);
}
END_TEST

/* ---- sizes: 0, 1 and 64 MiB up and down ---------------------------------- */

/* The whole file at path on the server's disk equals data[0..n). */
static void same_on_disk(const char *path, const unsigned char *data, size_t n)
{
	FILE *f = fopen(path, "rb");
	unsigned char *p = malloc(n + 1);

	ck_assert_ptr_nonnull(f);
	ck_assert_ptr_nonnull(p);
	ck_assert_uint_eq(fread(p, 1, n + 1, f), n);
	fclose(f);
	ck_assert_int_eq(memcmp(p, data, n), 0);
	free(p);
}

static void up_and_down(LIBSSH2_SESSION *s, size_t n, int mode, time_t t)
{
	const char *root = integ_env("SFTPMNT_TEST_ROOT");
	unsigned char *data = malloc(n + 1), *back = malloc(n + 1);
	char path[4096];
	LIBSSH2_CHANNEL *c;
	libssh2_struct_stat sb;
	struct stat st;

	ck_assert_ptr_nonnull(data);
	ck_assert_ptr_nonnull(back);
	fill(data, n, (unsigned)n);
	snprintf(path, sizeof(path), "%s/size-%zu", root, n);
	c = libssh2_scp_send64(s, path, mode, (libssh2_int64_t)n, t, t + 1);
	ck_assert_msg(c != NULL, "scp_send64 %zu: %s", n, integ_errmsg(s));
	write_all(c, data, n);
	ck_assert_int_eq(upload_done(c), 0);
	ck_assert_int_eq(stat(path, &st), 0);
	ck_assert_int_eq(st.st_size, (off_t)n);
	ck_assert_int_eq(st.st_mode & 07777, mode);
	ck_assert_int_eq(st.st_mtime, t);
	ck_assert_int_eq(st.st_atime, t + 1);

	memset(&sb, 0, sizeof(sb));
	c = libssh2_scp_recv2(s, path, &sb);
	ck_assert_msg(c != NULL, "scp_recv2 %zu: %s", n, integ_errmsg(s));
	ck_assert_int_eq(sb.st_size, (off_t)n);
	ck_assert_int_eq(sb.st_mode & 07777, mode);
	ck_assert_int_eq(sb.st_mtime, t);
	ck_assert_int_eq(sb.st_atime, t + 1);
	read_exact(c, back, n);
	ck_assert_int_eq(memcmp(back, data, n), 0);
	ck_assert_int_eq(libssh2_channel_free(c), 0);
	/* (reading it here sets its atime: relatime, an old atime) */
	same_on_disk(path, data, n);
	free(data);
	free(back);
}

/* 0 bytes, 1 byte and 64 MiB (16 under valgrind), each way, with modes
 * and times; a target the remote scp cannot write (sysfs refuses to
 * create files, even for root) reports the remote message. */
START_TEST(sizes_and_unwritable_target)
{
	size_t big = getenv("SFTPMNT_VALGRIND") ? 16u << 20 : 64u << 20;
	int fd;
	LIBSSH2_SESSION *s = integ_start(&fd);
	LIBSSH2_CHANNEL *c;

	up_and_down(s, 0, 0600, 1000000000);
	up_and_down(s, 1, 0751, 1200000000);
	/* set-user-ID goes both ways (with -p the remote scp applies it) */
	up_and_down(s, 2, 04755, 1250000000);
	up_and_down(s, big, 0644, 1300000000);

	c = libssh2_scp_send64(s, "/sys/sftpmnt-unwritable", 0644, 3, 0, 0);
	expect_error(s, c, LIBSSH2_ERROR_SCP_PROTOCOL, "Permission denied");
	ck_assert_msg(strstr(integ_errmsg(s), "/sys/sftpmnt-unwritable"), "%s",
		      integ_errmsg(s));
	integ_finish(s, fd);
}
END_TEST

/* ---- non-blocking -------------------------------------------------------- */

START_TEST(nonblocking_send_and_recv)
{
	const char *root = integ_env("SFTPMNT_TEST_ROOT");
	unsigned char *data = malloc(BIG), *back = malloc(BIG);
	char path[4096];
	int fd, rc;
	LIBSSH2_SESSION *s = integ_start(&fd);
	LIBSSH2_CHANNEL *c;
	libssh2_struct_stat sb;
	long waits = 0, eagain = 0;
	size_t done = 0;
	struct stat st;
	ssize_t n;

	ck_assert_ptr_nonnull(data);
	ck_assert_ptr_nonnull(back);
	fill(data, BIG, 99);
	snprintf(path, sizeof(path), "%s/nb.bin", root);
	libssh2_session_set_blocking(s, 0);
	while (!(c = libssh2_scp_send64(s, path, 0604, BIG, 2000000000,
					2000000001))) {
		ck_assert_msg(libssh2_session_last_errno(s) ==
				      LIBSSH2_ERROR_EAGAIN,
			      "scp_send64: %s", integ_errmsg(s));
		eagain++;
		integ_wait(s, fd, &waits);
	}
	ck_assert_waited(eagain);
	while (done < BIG) {
		n = libssh2_channel_write(c, (const char *)data + done,
					  BIG - done);
		if (n == LIBSSH2_ERROR_EAGAIN) {
			integ_wait(s, fd, &waits);
			continue;
		}
		ck_assert_msg(n > 0, "write: %zd", n);
		done += (size_t)n;
	}
	while ((rc = libssh2_channel_send_eof(c)) == LIBSSH2_ERROR_EAGAIN)
		integ_wait(s, fd, &waits);
	ck_assert_int_eq(rc, 0);
	while ((rc = libssh2_channel_wait_eof(c)) == LIBSSH2_ERROR_EAGAIN)
		integ_wait(s, fd, &waits);
	ck_assert_int_eq(rc, 0);
	while ((rc = libssh2_channel_wait_closed(c)) == LIBSSH2_ERROR_EAGAIN)
		integ_wait(s, fd, &waits);
	ck_assert_int_eq(rc, 0);
	ck_assert_int_eq(libssh2_channel_get_exit_status(c), 0);
	while ((rc = libssh2_channel_free(c)) == LIBSSH2_ERROR_EAGAIN)
		integ_wait(s, fd, &waits);
	ck_assert_int_eq(stat(path, &st), 0);
	ck_assert_int_eq(st.st_size, BIG);
	ck_assert_int_eq(st.st_mode & 07777, 0604);
	ck_assert_int_eq(st.st_mtime, 2000000000);

	eagain = 0;
	while (!(c = libssh2_scp_recv2(s, path, &sb))) {
		ck_assert_msg(libssh2_session_last_errno(s) ==
				      LIBSSH2_ERROR_EAGAIN,
			      "scp_recv2: %s", integ_errmsg(s));
		eagain++;
		integ_wait(s, fd, &waits);
	}
	ck_assert_waited(eagain);
	ck_assert_int_eq(sb.st_size, BIG);
	ck_assert_int_eq(sb.st_mtime, 2000000000);
	done = 0;
	while (done < BIG) {
		n = libssh2_channel_read(c, (char *)back + done, BIG - done);
		if (n == LIBSSH2_ERROR_EAGAIN) {
			integ_wait(s, fd, &waits);
			continue;
		}
		ck_assert_msg(n > 0, "read: %zd", n);
		done += (size_t)n;
	}
	ck_assert_int_eq(memcmp(back, data, BIG), 0);
	libssh2_session_set_blocking(s, 1);
	ck_assert_int_eq(libssh2_channel_free(c), 0);
	integ_finish(s, fd);
	free(data);
	free(back);
}
END_TEST

/* ---- a hostile remote scp ------------------------------------------------ */

/* sshd runs this instead of scp (ForceCommand): what it prints depends on
 * the case named in the path. */
static const char fake_scp[] =
	"#!/bin/sh\n"
	"case \"$SSH_ORIGINAL_COMMAND\" in\n"
	"*case-longline*) printf 'C0644 10 '; head -c 100000 /dev/zero |"
	" tr '\\0' a ;;\n"
	"*case-bigsize*) printf 'C0644 99999999999999999999999 x\\n' ;;\n"
	"*case-int64*) printf 'C0644 9223372036854775808 x\\n' ;;\n"
	"*case-badmode*) printf 'C0955 10 x\\n' ;;\n"
	"*case-bigmode*) printf 'C17777 10 x\\n' ;;\n"
	"*case-negsize*) printf 'C0644 -5 x\\n' ;;\n"
	"*case-slash*) printf 'C0644 3 ../etc/passwd\\n' ;;\n"
	"*case-noname*) printf 'C0644 3 \\n' ;;\n"
	"*case-badtime*) printf 'T1 0 2 1000000\\nC0644 3 x\\n' ;;\n"
	"*case-twotimes*) printf 'T1 0 2 0\\nT1 0 2 0\\n' ;;\n"
	"*case-dir*) printf 'D0755 0 d\\n' ;;\n"
	"*case-fatal*) printf '\\002fatal: \\033[31mthing\\n' ;;\n"
	"*case-silent*) echo boom >&2; exit 3 ;;\n"
	"*case-ok*) printf 'T1234 0 5678 0\\nC0600 3 name\\nabc\\0' ;;\n"
	"*case-sendfail*) printf '\\0'; head -c 1 >/dev/null;"
	" printf '\\001scp: disk full\\n' ;;\n"
	"*) echo \"unexpected: $SSH_ORIGINAL_COMMAND\" >&2; exit 1 ;;\n"
	"esac\n";

static void sshd_restart(const char *opts)
{
	ck_assert_int_eq(integ_sh("'%s' restart '%s' %s",
				  integ_env("SFTPMNT_FIXTURE"),
				  integ_env("SFTPMNT_FIXTURE_DIR"), opts),
			 0);
}

static void hostile(LIBSSH2_SESSION *s, const char *name, int sb,
		    const char *text)
{
	libssh2_struct_stat st;
	LIBSSH2_CHANNEL *c = libssh2_scp_recv2(s, name, sb ? &st : NULL);

	expect_error(s, c, LIBSSH2_ERROR_SCP_PROTOCOL, text);
}

START_TEST(hostile_remote)
{
	char script[4096], opt[4200], buf[8];
	FILE *f;
	int fd;
	LIBSSH2_SESSION *s;
	LIBSSH2_CHANNEL *c;
	libssh2_struct_stat sb;

	snprintf(script, sizeof(script), "%s/fake-scp",
		 integ_env("SFTPMNT_FIXTURE_DIR"));
	f = fopen(script, "w");
	ck_assert_ptr_nonnull(f);
	fputs(fake_scp, f);
	fclose(f);
	ck_assert_int_eq(chmod(script, 0755), 0);
	snprintf(opt, sizeof(opt), "ForceCommand=%s", script);
	sshd_restart(opt);
	s = integ_start(&fd);

	hostile(s, "case-longline", 0, "longer than");
	hostile(s, "case-bigsize", 0, "invalid line");
	hostile(s, "case-int64", 0, "invalid line");
	hostile(s, "case-badmode", 0, "invalid line");
	hostile(s, "case-bigmode", 0, "invalid line");
	hostile(s, "case-negsize", 0, "invalid line");
	hostile(s, "case-slash", 0, "invalid line");
	hostile(s, "case-noname", 0, "invalid line");
	hostile(s, "case-badtime", 1, "invalid line");
	hostile(s, "case-twotimes", 1, "invalid line");
	hostile(s, "case-dir", 0, "a directory");
	/* the message, made printable */
	hostile(s, "case-fatal", 0, "fatal: ?[31mthing");
	/* no answer at all: its stderr says why */
	hostile(s, "case-silent", 0, "boom");

	c = libssh2_scp_recv2(s, "case-ok", &sb);
	ck_assert_msg(c != NULL, "case-ok: %s", integ_errmsg(s));
	ck_assert_int_eq(sb.st_mtime, 1234);
	ck_assert_int_eq(sb.st_atime, 5678);
	ck_assert_int_eq(sb.st_size, 3);
	ck_assert_int_eq(sb.st_mode, 0600);
	read_exact(c, (unsigned char *)buf, 3);
	ck_assert_int_eq(memcmp(buf, "abc", 3), 0);
	ck_assert_int_eq(libssh2_channel_free(c), 0);

	c = libssh2_scp_send64(s, "case-sendfail", 0644, 3, 0, 0);
	expect_error(s, c, LIBSSH2_ERROR_SCP_PROTOCOL, "scp: disk full");
	integ_finish(s, fd);
	sshd_restart("");
}
END_TEST

int main(void)
{
	Suite *su = suite_create("scp");
	TCase *tc = tcase_create("sshd");
	SRunner *sr;
	int failed;

	integ_env("SFTPMNT_TEST_PORT");
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, send_and_recv_1m);
	tcase_add_test(tc, send_without_times);
	tcase_add_test(tc, remote_errors);
	tcase_add_test(tc, nonblocking_send_and_recv);
	tcase_add_test(tc, sizes_and_unwritable_target);
	tcase_add_test(tc, hostile_remote); /* last: restarts the sshd */
	suite_add_tcase(su, tc);
	sr = srunner_create(su);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
