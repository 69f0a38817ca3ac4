/*
 * test_kex_methods.c - every key exchange method of lib/kex_dh.c and
 * lib/kex_sntrup.c (and curve25519-sha256 of lib/kex.c) against
 * the real test sshd: each one forced with method_pref (the server is
 * restarted with "KexAlgorithms=+name" for those OpenSSH 9.2 does not
 * enable), reported by libssh2_session_methods, with a round trip under
 * the new keys (SERVICE_REQUEST / SERVICE_ACCEPT); then, authenticated,
 * a rekey with the same method and a channel open under its keys.  The
 * handshake and rekey times are printed.  Also: the legacy methods are
 * not offered unless asked for.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "libssh2.h"
#include "session.h"

#include "integ.h"

static const struct {
	const char *name;
	int server_default; /* enabled by OpenSSH 9.2's sshd by default */
} methods[] = {
	{"curve25519-sha256", 1}, /* kex.c's own: the baseline time */
	{"sntrup761x25519-sha512@openssh.com", 1}, /* kex_sntrup.c */
	{"ecdh-sha2-nistp256", 1},
	{"ecdh-sha2-nistp384", 1},
	{"ecdh-sha2-nistp521", 1},
	{"diffie-hellman-group-exchange-sha256", 1},
	{"diffie-hellman-group16-sha512", 1},
	{"diffie-hellman-group18-sha512", 1},
	{"diffie-hellman-group14-sha256", 1},
	{"diffie-hellman-group14-sha1", 0},
	{"diffie-hellman-group1-sha1", 0},
	{"diffie-hellman-group-exchange-sha1", 0},
};
#define NMETHODS (sizeof(methods) / sizeof(methods[0]))

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

/* Restart the fixture's sshd with one extra option, or none. */
static void restart_sshd(const char *option)
{
	char cmd[1024];

	snprintf(cmd, sizeof(cmd), "'%s' restart '%s'%s%s%s",
		 integ_env("SFTPMNT_FIXTURE"), integ_env("SFTPMNT_FIXTURE_DIR"),
		 option ? " '" : "", option ? option : "", option ? "'" : "");
	ck_assert_int_eq(system(cmd), 0);
}

/* Pump until the rekey we started is complete (both NEWKEYS). */
static int rekey_step(LIBSSH2_SESSION *s)
{
	int rc;

	while (s->kex.rounds < 2 || kex_busy(&s->kex))
		if ((rc = sess_pump(s)))
			return rc;
	return sess_flush(s);
}

static LIBSSH2_SESSION *connect_with(const char *kex, int *fd, double *ms)
{
	LIBSSH2_SESSION *s = libssh2_session_init();
	double t0;
	char *msg;
	int rc;

	ck_assert_ptr_nonnull(s);
	libssh2_session_set_timeout(s, 30000);
	ck_assert_int_eq(
		libssh2_session_method_pref(s, LIBSSH2_METHOD_KEX, kex), 0);
	*fd = integ_connect(0);
	t0 = now_ms();
	rc = libssh2_session_handshake(s, *fd);
	*ms = now_ms() - t0;
	libssh2_session_last_error(s, &msg, NULL, 0);
	ck_assert_msg(rc == 0, "handshake %s: %d %s", kex, rc, msg);
	ck_assert_str_eq(libssh2_session_methods(s, LIBSSH2_METHOD_KEX), kex);
	ck_assert_uint_eq(s->kex.rounds, 1);
	ck_assert_ptr_null(s->kex.mstate); /* wiped and freed */
	return s;
}

static void finish(LIBSSH2_SESSION *s, int fd)
{
	ck_assert_int_eq(libssh2_session_disconnect(s, "test done"), 0);
	ck_assert_int_eq(libssh2_session_free(s), 0);
	close(fd);
}

START_TEST(each_method)
{
	const char *name = methods[_i].name;
	uint8_t sid[CRYPTO_HASH_MAX_LEN];
	double t_hs, t_hs2, t0, t_rekey;
	int fd, rc, sent = 0;
	LIBSSH2_SESSION *s;
	LIBSSH2_CHANNEL *c;
	char opt[128], *msg;

	if (!methods[_i].server_default) {
		snprintf(opt, sizeof(opt), "KexAlgorithms=+%s", name);
		restart_sshd(opt);
	}

	/* 1: the handshake and a round trip under its keys */
	s = connect_with(name, &fd, &t_hs);
	rc = SESS_BLOCK(s, integ_service_step(s, &sent));
	libssh2_session_last_error(s, &msg, NULL, 0);
	ck_assert_msg(rc == 0, "service request after %s: %d %s", name, rc,
		      msg);
	finish(s, fd);

	/* 2: a rekey with the same method, which OpenSSH's sshd accepts
	 * only after user authentication; the session id stays that of
	 * the first exchange (RFC 4253 §7.2).  Then a channel open as the
	 * round trip under the new keys. */
	s = connect_with(name, &fd, &t_hs2);
	rc = libssh2_userauth_publickey_fromfile(
		s, integ_env("SFTPMNT_TEST_USER"),
		integ_env("SFTPMNT_TEST_PUBKEY"), integ_env("SFTPMNT_TEST_KEY"),
		NULL);
	libssh2_session_last_error(s, &msg, NULL, 0);
	ck_assert_msg(rc == 0, "authentication after %s: %d %s", name, rc, msg);
	ck_assert_uint_eq(s->kex.sidlen, s->kex.hlen);
	memcpy(sid, s->kex.session_id, s->kex.sidlen);
	t0 = now_ms();
	ck_assert_int_eq(kex_start(s), 0);
	rc = SESS_BLOCK(s, rekey_step(s));
	t_rekey = now_ms() - t0;
	libssh2_session_last_error(s, &msg, NULL, 0);
	ck_assert_msg(rc == 0, "rekey %s: %d %s", name, rc, msg);
	ck_assert_str_eq(libssh2_session_methods(s, LIBSSH2_METHOD_KEX), name);
	ck_assert_uint_eq(s->kex.rounds, 2);
	ck_assert_ptr_null(s->kex.mstate);
	ck_assert_mem_eq(s->kex.session_id, sid, s->kex.sidlen);
	ck_assert_mem_ne(s->kex.h, sid, s->kex.hlen);
	c = libssh2_channel_open_session(s);
	libssh2_session_last_error(s, &msg, NULL, 0);
	ck_assert_msg(c != NULL, "channel open after a %s rekey: %s", name,
		      msg);
	ck_assert_int_eq(libssh2_channel_free(c), 0);
	finish(s, fd);

	fprintf(stderr, "%-38s handshake %6.1f / %6.1f ms, rekey %6.1f ms\n",
		name, t_hs, t_hs2, t_rekey);
	if (!methods[_i].server_default)
		restart_sshd(NULL);
}
END_TEST

/* The kex name-list of our KEXINIT (RFC 4253 §7.1), kept in k->i_c. */
static void our_kex_list(LIBSSH2_SESSION *s, char *out, size_t cap)
{
	const char *l;
	struct rbuf r;
	size_t n;

	rb_init(&r, s->kex.i_c.p, s->kex.i_c.len);
	ck_assert_int_eq(rb_skip(&r, 17), 0); /* type, cookie */
	ck_assert_int_eq(rb_text(&r, &l, &n, SSH_STRING_MAX), 0);
	ck_assert_uint_lt(n, cap);
	memcpy(out, l, n);
	out[n] = 0;
}

/* The legacy names are known but not in our default KEXINIT, which
 * lists the methods in the documented order. */
START_TEST(legacy_not_offered)
{
	static const char want[] =
		"sntrup761x25519-sha512@openssh.com,"
		"curve25519-sha256,curve25519-sha256@libssh.org,"
		"ecdh-sha2-nistp256,ecdh-sha2-nistp384,ecdh-sha2-nistp521,"
		"diffie-hellman-group-exchange-sha256,"
		"diffie-hellman-group16-sha512,diffie-hellman-group18-sha512,"
		"diffie-hellman-group14-sha256,"
		"ext-info-c,kex-strict-c-v00@openssh.com";
	LIBSSH2_SESSION *s = libssh2_session_init();
	const char **algs;
	int fd, i, n, found = 0;
	char *msg, offer[1024];

	n = libssh2_session_supported_algs(s, LIBSSH2_METHOD_KEX, &algs);
	ck_assert_int_gt(n, 0);
	ck_assert_str_eq(algs[0], "sntrup761x25519-sha512@openssh.com");
	for (i = 0; i < n; i++)
		found += !strcmp(algs[i], "diffie-hellman-group1-sha1") ||
			 !strcmp(algs[i], "diffie-hellman-group14-sha1") ||
			 !strcmp(algs[i], "diffie-hellman-group-exchange-sha1");
	ck_assert_int_eq(found, 3);
	libssh2_free(s, algs);

	restart_sshd("KexAlgorithms=diffie-hellman-group1-sha1");
	fd = integ_connect(0);
	ck_assert_int_eq(libssh2_session_handshake(s, fd),
			 LIBSSH2_ERROR_KEX_FAILURE);
	ck_assert_int_eq(libssh2_session_last_error(s, &msg, NULL, 0),
			 LIBSSH2_ERROR_KEX_FAILURE);
	ck_assert_ptr_nonnull(strstr(msg, "no matching key exchange"));
	our_kex_list(s, offer, sizeof(offer));
	ck_assert_str_eq(offer, want);
	libssh2_session_free(s);
	close(fd);
	restart_sshd(NULL);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("kex_methods");
	TCase *tc = tcase_create("sshd");
	SRunner *sr;
	int failed;

	integ_env("SFTPMNT_TEST_PORT");
	tcase_set_timeout(tc, 60);
	tcase_add_loop_test(tc, each_method, 0, (int)NMETHODS);
	/* last: it leaves the server with a single method if it fails */
	tcase_add_test(tc, legacy_not_offered);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
