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

#endif
