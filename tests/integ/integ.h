/*
 * integ.h - helpers for the integration tests that talk to the private
 * sshd started by tests/run-test (tests/fixture/sshd-fixture).
 */
#ifndef SFTPMNT_INTEG_H
#define SFTPMNT_INTEG_H

/* The value of a SFTPMNT_TEST_* variable; exits 77 (SKIP) with a reason
 * when the test was run without the fixture. */
const char *integ_env(const char *name);
/* A TCP connection to the fixture's sshd (host/port from the
 * environment), or to port if non-zero.  Exits 99 on failure. */
int integ_connect(int port);

struct _LIBSSH2_SESSION;
/* SERVICE_REQUEST "ssh-userauth" and its SERVICE_ACCEPT (RFC 4253 10):
 * the first messages each way under the newest keys.  Non-blocking
 * step: *sent starts at 0; wrap in SESS_BLOCK. */
int integ_service_step(struct _LIBSSH2_SESSION *s, int *sent);

/* A non-blocking loop had to wait for the server (n waits or EAGAINs)
 * at least once: not asserted under valgrind (SFTPMNT_VALGRIND) nor in
 * an AddressSanitizer build, where the client can be so slow that data
 * is always there before it asks (seen in CI under load). */
#if defined(__SANITIZE_ADDRESS__)
#define INTEG_SLOW_BUILD 1
#else
#define INTEG_SLOW_BUILD 0
#endif
#define ck_assert_waited(n)                                                 \
	do {                                                                \
		if (!INTEG_SLOW_BUILD && !getenv("SFTPMNT_VALGRIND"))       \
			ck_assert_int_gt((n), 0);                           \
	} while (0)

#endif
