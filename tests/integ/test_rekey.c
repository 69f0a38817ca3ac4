/*
 * test_rekey.c - key re-exchanges in the middle of channel traffic
 * against the real test sshd (RFC 4253 section 9): started by the server
 * (sshd's RekeyLimit made small), by us (the session's byte limit made
 * small, and its time limit), and by both at once, in blocking and in
 * non-blocking mode.  8 MiB go through `cat` and come back: every byte
 * must come back in order (no loss or reordering across NEWKEYS), the
 * non-blocking loop must never be left without a direction to wait for
 * (no deadlock mid-packet), and the number of exchanges is counted.
 */
#include <check.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "libssh2.h"
#include "session.h"

#include "integ.h"
#include "integ_ssh.h"

#define XFER  (8u << 20) /* bytes through cat */
#define CHUNK (32u << 10)
#define SMALL (64u << 10) /* a rekey limit that gives many exchanges */

/* Restart the fixture's sshd with the given options ("" for none). */
static void restart_sshd(const char *opts)
{
	ck_assert_int_eq(integ_sh("'%s' restart '%s' %s",
				  integ_env("SFTPMNT_FIXTURE"),
				  integ_env("SFTPMNT_FIXTURE_DIR"), opts),
			 0);
}

/* Bytes that differ at every position (a repeating pattern could hide
 * a lost or repeated block). */
static void fill(uint8_t *d, size_t n)
{
	uint64_t x = 0x9e3779b97f4a7c15ull;
	size_t i;

	for (i = 0; i < n; i++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		d[i] = (uint8_t)x;
	}
}

/* Blocking: how far the writer may run ahead of the echo.  A blocking
 * write that waits for window while the echo is left unread never ends
 * (cat stops reading when nobody reads its output), so the writer stays
 * within a window's worth. */
#define AHEAD (1u << 20)

/* Take what the next read gives: 1 if it moved bytes. */
static int take(LIBSSH2_SESSION *s, LIBSSH2_CHANNEL *ch, uint8_t *back,
		size_t *got)
{
	uint8_t buf[CHUNK];
	ssize_t n = libssh2_channel_read(ch, (char *)buf, sizeof(buf));

	ck_assert_msg(n >= 0 || n == LIBSSH2_ERROR_EAGAIN,
		      "read at %zu: %zd %s", *got, n, integ_errmsg(s));
	if (n <= 0)
		return 0;
	ck_assert_uint_le(*got + (size_t)n, XFER);
	memcpy(back + *got, buf, (size_t)n);
	*got += (size_t)n;
	return 1;
}

/*
 * Push d[XFER] through `cat` on s, reading the echo as it comes, and
 * compare it with what was sent.  Non-blocking: every call is made
 * until nothing moves, then the loop waits on the directions the session
 * names.
 */
static void cat_through(LIBSSH2_SESSION *s, int fd, const uint8_t *d, int nb)
{
	LIBSSH2_CHANNEL *ch = integ_exec(s, "cat");
	uint8_t *back = malloc(XFER);
	size_t sent = 0, got = 0;
	int eof_sent = 0, rc, moved;
	long waits = 0;
	ssize_t n;

	ck_assert_ptr_nonnull(back);
	libssh2_session_set_blocking(s, !nb);
	while (got < XFER) {
		moved = 0;
		if (sent < XFER && (nb || sent - got < AHEAD)) {
			n = libssh2_channel_write(
				ch, (const char *)d + sent,
				XFER - sent < CHUNK ? XFER - sent : CHUNK);
			ck_assert_msg(n > 0 || n == LIBSSH2_ERROR_EAGAIN,
				      "write at %zu: %zd %s", sent, n,
				      integ_errmsg(s));
			if (n > 0) {
				sent += (size_t)n;
				moved = 1;
			}
			if (!nb)
				continue;
		} else if (sent == XFER && !eof_sent) {
			rc = libssh2_channel_send_eof(ch);
			ck_assert_msg(rc == 0 || rc == LIBSSH2_ERROR_EAGAIN,
				      "send_eof: %d %s", rc, integ_errmsg(s));
			eof_sent = moved = rc == 0;
		}
		moved |= take(s, ch, back, &got);
		if (!moved && libssh2_channel_eof(ch))
			break;
		if (nb && !moved)
			integ_wait(s, fd, &waits);
	}
	ck_assert_uint_eq(got, XFER);
	ck_assert_msg(memcmp(back, d, XFER) == 0,
		      "the echo differs from what was sent");
	libssh2_session_set_blocking(s, 1);
	ck_assert_int_eq(integ_close(ch), 0);
	if (nb)
		ck_assert_int_gt(waits, 0);
	free(back);
}

static const struct {
	const char *what;
	const char *sshd; /* sshd options */
	uint64_t ours;	  /* our byte limit, 0: the default */
	int nb;
} cases[] = {
	{"server-started, non-blocking", "RekeyLimit=64K", 0, 1},
	{"server-started, blocking", "RekeyLimit=64K", 0, 0},
	{"ours, non-blocking", "", SMALL, 1},
	{"ours, blocking", "", SMALL, 0},
	{"both, non-blocking", "RekeyLimit=64K", SMALL, 1},
};

START_TEST(rekeys_under_load)
{
	uint8_t *d = malloc(XFER);
	LIBSSH2_SESSION *s;
	int fd, before;

	ck_assert_ptr_nonnull(d);
	fill(d, XFER);
	restart_sshd(cases[_i].sshd);
	s = integ_start(&fd);
	if (cases[_i].ours)
		s->rekey_bytes = cases[_i].ours;
	before = s->kex.rounds;
	cat_through(s, fd, d, cases[_i].nb);
	printf("%s: %d key exchanges during %u MiB each way\n", cases[_i].what,
	       s->kex.rounds - before, XFER >> 20);
	/* 8 MiB each way at 64 KiB: sshd counts every packet and re-keys
	 * far more than a few times.  We start an exchange when a limit
	 * is passed, but what the server sent before our KEXINIT reached
	 * it (up to a window, 2 MiB) still comes: how many depends on the
	 * machine's speed (36 to 155 here, 15 under ASan), never
	 * fewer than one per window. */
	ck_assert_int_ge(s->kex.rounds - before, *cases[_i].sshd ? 20 : 3);
	/* the same keys' limits still hold: it goes on working */
	ck_assert_str_eq(libssh2_session_methods(s, LIBSSH2_METHOD_KEX),
			 "sntrup761x25519-sha512@openssh.com");
	integ_finish(s, fd);
	if (*cases[_i].sshd)
		restart_sshd("");
	free(d);
}
END_TEST

/* A session that only reads (a command's output; the WINDOW_ADJUSTs it
 * sends are no call of the application's) counts received bytes towards
 * its own limit too, and starts the exchanges itself. */
START_TEST(rekey_while_only_reading)
{
	static char buf[CHUNK];
	LIBSSH2_SESSION *s;
	LIBSSH2_CHANNEL *ch;
	size_t total = 0;
	int fd, before;
	ssize_t n;

	s = integ_start(&fd);
	ck_assert_int_eq(libssh2_session_rekey_limit(s, SMALL, -1), 0);
	ck_assert_uint_eq(s->rekey_bytes, SMALL);
	ch = integ_exec(s, "head -c 4194304 /dev/zero");
	before = s->kex.rounds;
	while ((n = libssh2_channel_read(ch, buf, sizeof(buf))) > 0) {
		ck_assert_msg(memchr(buf, 1, (size_t)n) == NULL &&
				      !memcmp(buf, buf + 1, (size_t)n - 1),
			      "not the zeros sent");
		total += (size_t)n;
	}
	ck_assert_int_eq((int)n, 0);
	ck_assert_uint_eq(total, 4194304);
	printf("reading only: %d key exchanges during 4 MiB\n",
	       s->kex.rounds - before);
	/* (27 here, 6 under ASan: see rekeys_under_load) */
	ck_assert_int_ge(s->kex.rounds - before, 2);
	ck_assert_int_eq(integ_close(ch), 0);
	integ_finish(s, fd);
}
END_TEST

/* Our time limit (RFC 4253 9: "after each hour"), made one second through
 * libssh2_session_rekey_limit: a call that sends after it has passed
 * starts an exchange first.  Also what the call refuses and what 0 and
 * a negative value mean. */
START_TEST(rekey_after_time)
{
	static const uint8_t d[] = "tick\n";
	char buf[16];
	LIBSSH2_SESSION *s;
	LIBSSH2_CHANNEL *ch;
	int fd, before, i;
	ssize_t n;

	s = integ_start(&fd);
	ck_assert_int_eq((int)s->rekey_ms, 3600 * 1000); /* the default */
	ck_assert_int_eq(libssh2_session_rekey_limit(s, 16383, 1),
			 LIBSSH2_ERROR_INVAL);
	ck_assert_int_eq((int)s->rekey_ms, 3600 * 1000); /* unchanged */
	ck_assert_int_eq(libssh2_session_rekey_limit(NULL, 0, 1),
			 LIBSSH2_ERROR_BAD_USE);
	ck_assert_int_eq(libssh2_session_rekey_limit(s, 0, 0), 0);
	ck_assert_uint_eq(s->rekey_bytes, 1ull << 30);
	ck_assert_int_eq((int)s->rekey_ms, 0); /* never by time */
	ck_assert_int_eq(libssh2_session_rekey_limit(s, 0, 1), 0);
	ch = integ_exec(s, "cat");
	before = s->kex.rounds;
	for (i = 0; i < 3; i++) {
		usleep(1100 * 1000);
		ck_assert_int_eq(libssh2_channel_write(ch, (const char *)d, 5),
				 5);
		n = libssh2_channel_read(ch, buf, sizeof(buf));
		ck_assert_int_eq(n, 5);
		ck_assert_int_eq(memcmp(buf, d, 5), 0);
	}
	ck_assert_int_ge(s->kex.rounds - before, 3);
	/* and not without the time passing */
	ck_assert_int_eq(libssh2_session_rekey_limit(s, 0, -1), 0);
	ck_assert_int_eq((int)s->rekey_ms, 3600 * 1000);
	before = s->kex.rounds;
	ck_assert_int_eq(libssh2_channel_write(ch, (const char *)d, 5), 5);
	ck_assert_int_eq(libssh2_channel_read(ch, buf, sizeof(buf)), 5);
	ck_assert_int_eq(s->kex.rounds, before);
	ck_assert_int_eq(libssh2_channel_send_eof(ch), 0);
	ck_assert_int_eq(integ_close(ch), 0);
	integ_finish(s, fd);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("rekey");
	TCase *tc = tcase_create("sshd");
	SRunner *sr;
	int failed;

	integ_env("SFTPMNT_TEST_PORT");
	tcase_set_timeout(tc, 300);
	tcase_add_loop_test(tc, rekeys_under_load, 0,
			    (int)(sizeof(cases) / sizeof(cases[0])));
	tcase_add_test(tc, rekey_while_only_reading);
	tcase_add_test(tc, rekey_after_time);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
