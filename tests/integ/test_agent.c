/*
 * test_agent.c - the libssh2_agent_* API against a real OpenSSH
 * ssh-agent and the test sshd: the agent's keys listed with their
 * comments and blobs, public key authentication with each key type
 * (Ed25519, ECDSA 256/384/521, RSA 2048 signing rsa-sha2-512, and
 * rsa-sha2-256 against a server that takes only that; an RSA
 * certificate as rsa-sha2-512/256-cert-v01@openssh.com), blocking and
 * non-blocking; a key the server does not know refused cleanly, with the
 * session still usable; libssh2_agent_sign checked with hostkey_verify;
 * set/get_identity_path; no agent at all.
 *
 * A fake agent on a socket of our own then answers with canned and
 * mutated replies: the client must return an error, never crash, hang
 * or read out of bounds (run under ASan to see the last).
 *
 * The keys are made with ssh-keygen at run time and added to an
 * `ssh-agent -D` started by this program (in the fixture, before the
 * tests fork) and stopped at exit; a guard process that dies with this
 * program kills the agent even if we are killed.
 */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "libssh2.h"

#include "agent.h"
#include "buf.h"
#include "hostkey.h"
#include "key.h"
#include "session.h"

#include "integ.h"

static char tmpdir[64];
static char sock_path[sizeof(((struct sockaddr_un *)0)->sun_path)];
static pid_t owner, guard;

/* Keys in the agent; the last one is not in authorized_keys. */
static const struct {
	const char *name;
	const char *args;
} keys[] = {
	{ "ed25519", "-t ed25519" }, { "ecdsa256", "-t ecdsa -b 256" },
	{ "ecdsa384", "-t ecdsa -b 384" }, { "ecdsa521", "-t ecdsa -b 521" },
	{ "rsa", "-t rsa -b 2048" }, { "stranger", "-t ed25519" },
};
#define NKEYS (int)(sizeof(keys) / sizeof(keys[0]))
#define NAUTH (NKEYS - 1)
/* Identities besides keys[]: the RSA key of rsa_certificate and its
 * certificate (setup). */
#define NEXTRA 2

/* ---- the agent process -------------------------------------------------- */

static volatile sig_atomic_t guarded;

static void guard_term(int sig)
{
	(void)sig;
	if (guarded > 0)
		kill(guarded, SIGTERM);
}

/*
 * The guard: a plain fork, so PR_SET_PDEATHSIG works (exec of the
 * set-group-ID ssh-agent clears it), that runs ssh-agent -D and kills it
 * when told to or when this program dies.
 */
static void guard_main(pid_t parent)
{
	sigset_t term, old;
	pid_t pid;
	int nul;

	sigemptyset(&term);
	sigaddset(&term, SIGTERM);
	sigprocmask(SIG_BLOCK, &term, &old);
	signal(SIGTERM, guard_term);
	prctl(PR_SET_PDEATHSIG, SIGTERM);
	if (getppid() != parent)
		_exit(0);
	pid = fork();
	if (pid == 0) {
		sigprocmask(SIG_SETMASK, &old, NULL);
		nul = open("/dev/null", O_RDWR);
		dup2(nul, 0);
		dup2(nul, 1);
		execlp("ssh-agent", "ssh-agent", "-D", "-a", sock_path,
		       (char *)NULL);
		_exit(127);
	}
	guarded = pid;
	sigprocmask(SIG_SETMASK, &old, NULL);
	while (pid > 0 && waitpid(pid, NULL, 0) < 0 && errno == EINTR)
		;
	if (getppid() != parent) /* orphaned: nobody else will clean up */
		execlp("rm", "rm", "-rf", tmpdir, (char *)NULL);
	_exit(0);
}

static void stop_agent(void)
{
	char cmd[128];

	if (getpid() != owner) /* a forked test exiting */
		return;
	if (guard > 0) {
		kill(guard, SIGTERM);
		waitpid(guard, NULL, 0);
		guard = 0;
	}
	if (tmpdir[0]) {
		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
		if (system(cmd))
			fprintf(stderr, "test_agent: could not remove %s\n",
				tmpdir);
		tmpdir[0] = 0;
	}
}

static void die(const char *what)
{
	fprintf(stderr, "test_agent setup: %s\n", what);
	stop_agent();
	exit(99);
}

static void run(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void run(const char *fmt, ...)
{
	char cmd[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	if (system(cmd))
		die(cmd);
}

static void start_agent(void)
{
	struct stat st;
	int i;

	snprintf(sock_path, sizeof(sock_path), "%s/agent.sock", tmpdir);
	guard = fork();
	if (guard < 0)
		die("fork");
	if (guard == 0)
		guard_main(owner);
	for (i = 0; i < 500; i++) {
		if (!stat(sock_path, &st) && S_ISSOCK(st.st_mode))
			return;
		usleep(10000);
	}
	die("ssh-agent did not create its socket");
}

static void setup(void)
{
	const char *fix = integ_env("SFTPMNT_FIXTURE_DIR");
	int i;

	owner = getpid();
	atexit(stop_agent);
	strcpy(tmpdir, "/tmp/sftpmnt-agent.XXXXXX");
	if (!mkdtemp(tmpdir))
		die("mkdtemp");
	start_agent();
	for (i = 0; i < NKEYS; i++) {
		run("ssh-keygen -q %s -N '' -C agent-%s -f '%s/id_%s'",
		    keys[i].args, keys[i].name, tmpdir, keys[i].name);
		run("SSH_AUTH_SOCK='%s' ssh-add -q '%s/id_%s' 2>/dev/null",
		    sock_path, tmpdir, keys[i].name);
		if (i < NAUTH)
			run("cat '%s/id_%s.pub' >> '%s/authorized_keys'",
			    tmpdir, keys[i].name, fix);
	}
	/* An RSA key that is not authorized, with a certificate for the
	 * test user (the sshd trusts the CA only in rsa_certificate);
	 * ssh-add adds the key and, beside it, its certificate. */
	run("ssh-keygen -q -t ed25519 -N '' -f '%s/ca'", tmpdir);
	run("ssh-keygen -q -t rsa -b 2048 -N '' -C agent-rsacert "
	    "-f '%s/id_rsacert'",
	    tmpdir);
	run("ssh-keygen -q -s '%s/ca' -I agent-rsacert -n '%s' "
	    "'%s/id_rsacert.pub' </dev/null >/dev/null 2>&1",
	    tmpdir, integ_env("SFTPMNT_TEST_USER"), tmpdir);
	run("SSH_AUTH_SOCK='%s' ssh-add -q '%s/id_rsacert' 2>/dev/null",
	    sock_path, tmpdir);
}

/* ---- helpers ------------------------------------------------------------ */

static LIBSSH2_SESSION *open_session(int *fd)
{
	LIBSSH2_SESSION *s = libssh2_session_init();
	char *msg;
	int rc;

	ck_assert_ptr_nonnull(s);
	libssh2_session_set_timeout(s, 20000);
	*fd = integ_connect(0);
	rc = libssh2_session_handshake(s, *fd);
	libssh2_session_last_error(s, &msg, NULL, 0);
	ck_assert_msg(rc == 0, "handshake: %d %s", rc, msg);
	return s;
}

static void close_session(LIBSSH2_SESSION *s, int fd)
{
	libssh2_session_disconnect(s, "test done");
	libssh2_session_free(s);
	close(fd);
}

static LIBSSH2_AGENT *agent_open(LIBSSH2_SESSION *s)
{
	LIBSSH2_AGENT *a = libssh2_agent_init(s);
	char *msg;
	int rc;

	ck_assert_ptr_nonnull(a);
	libssh2_agent_set_identity_path(a, sock_path);
	rc = libssh2_agent_connect(a);
	libssh2_session_last_error(s, &msg, NULL, 0);
	ck_assert_msg(rc == 0, "agent connect: %d %s", rc, msg);
	rc = libssh2_agent_list_identities(a);
	libssh2_session_last_error(s, &msg, NULL, 0);
	ck_assert_msg(rc == 0, "list identities: %d %s", rc, msg);
	return a;
}

static struct libssh2_agent_publickey *find_id(LIBSSH2_AGENT *a,
					       const char *name)
{
	struct libssh2_agent_publickey *id = NULL;
	char want[64];

	snprintf(want, sizeof(want), "agent-%s", name);
	while (libssh2_agent_get_identity(a, &id, id) == 0)
		if (!strcmp(id->comment, want))
			return id;
	ck_abort_msg("no identity %s in the agent", want);
	return NULL;
}

/* The blob of a key's .pub file. */
static void pub_blob(const char *name, uint8_t **blob, size_t *len)
{
	char path[128], data[16384];
	const char *why = NULL;
	size_t n;
	FILE *f;

	snprintf(path, sizeof(path), "%s/id_%s.pub", tmpdir, name);
	f = fopen(path, "r");
	ck_assert_ptr_nonnull(f);
	n = fread(data, 1, sizeof(data), f);
	fclose(f);
	ck_assert_int_eq(key_parse_public(&lalloc_system, data, n, blob, len,
					  NULL, &why),
			 0);
}

/* ---- the real agent ----------------------------------------------------- */

START_TEST(list_identities)
{
	LIBSSH2_SESSION *s = libssh2_session_init();
	LIBSSH2_AGENT *a = agent_open(s);
	struct libssh2_agent_publickey *id = NULL, bogus = { 0 };
	int i, n = 0, seen[NKEYS] = { 0 };
	uint8_t *blob;
	size_t len;

	while (libssh2_agent_get_identity(a, &id, id) == 0) {
		for (i = 0; i < NKEYS; i++) {
			char want[64];

			snprintf(want, sizeof(want), "agent-%s", keys[i].name);
			if (strcmp(id->comment, want))
				continue;
			seen[i]++;
			pub_blob(keys[i].name, &blob, &len);
			ck_assert_uint_eq(id->blob_len, len);
			ck_assert(!memcmp(id->blob, blob, len));
			la_free(&lalloc_system, blob);
		}
		n++;
	}
	ck_assert_int_eq(n, NKEYS + NEXTRA);
	for (i = 0; i < NKEYS; i++)
		ck_assert_msg(seen[i] == 1, "%s seen %d times", keys[i].name,
			      seen[i]);
	/* the end stays the end; a foreign prev is refused */
	ck_assert_int_eq(libssh2_agent_get_identity(a, &id, id), 1);
	ck_assert_int_eq(libssh2_agent_get_identity(a, &id, &bogus),
			 LIBSSH2_ERROR_INVAL);
	ck_assert_int_eq(libssh2_agent_get_identity(a, NULL, NULL),
			 LIBSSH2_ERROR_INVAL);
	/* listing again replaces the list */
	ck_assert_int_eq(libssh2_agent_list_identities(a), 0);
	for (n = 0, id = NULL; !libssh2_agent_get_identity(a, &id, id); n++)
		;
	ck_assert_int_eq(n, NKEYS + NEXTRA);
	ck_assert_int_eq(libssh2_agent_disconnect(a), 0);
	ck_assert_int_eq(libssh2_agent_disconnect(a), 0);
	/* the list outlives the connection, requests do not */
	ck_assert_int_eq(libssh2_agent_get_identity(a, &id, NULL), 0);
	ck_assert_int_eq(libssh2_agent_list_identities(a),
			 LIBSSH2_ERROR_BAD_USE);
	libssh2_agent_free(a);
	libssh2_agent_free(NULL);
	libssh2_session_free(s);
}
END_TEST

START_TEST(userauth_each_key)
{
	const char *user = integ_env("SFTPMNT_TEST_USER");
	int fd, rc;
	LIBSSH2_SESSION *s = open_session(&fd);
	LIBSSH2_AGENT *a = agent_open(s);
	char *msg;

	rc = libssh2_agent_userauth(a, user, find_id(a, keys[_i].name));
	libssh2_session_last_error(s, &msg, NULL, 0);
	ck_assert_msg(rc == 0, "%s: %d %s", keys[_i].name, rc, msg);
	ck_assert_int_eq(libssh2_userauth_authenticated(s), 1);
	libssh2_agent_free(a);
	close_session(s, fd);
}
END_TEST

START_TEST(unknown_key_refused)
{
	const char *user = integ_env("SFTPMNT_TEST_USER");
	int fd, rc;
	LIBSSH2_SESSION *s = open_session(&fd);
	LIBSSH2_AGENT *a = agent_open(s);
	char *msg;

	/* refused at the query, the agent not asked to sign: libssh2
	 * 1.11.1's LIBSSH2_ERROR_AUTHENTICATION_FAILED */
	rc = libssh2_agent_userauth(a, user, find_id(a, "stranger"));
	ck_assert_int_eq(rc, LIBSSH2_ERROR_AUTHENTICATION_FAILED);
	ck_assert_int_eq(libssh2_userauth_authenticated(s), 0);
	ck_assert_int_eq(libssh2_session_last_error(s, &msg, NULL, 0),
			 LIBSSH2_ERROR_AUTHENTICATION_FAILED);
	ck_assert_ptr_nonnull(strstr(msg, "refused"));
	/* the session and the agent go on: the next key is taken */
	rc = libssh2_agent_userauth(a, user, find_id(a, "ecdsa384"));
	ck_assert_int_eq(rc, 0);
	ck_assert_int_eq(libssh2_userauth_authenticated(s), 1);
	libssh2_agent_free(a);
	close_session(s, fd);
}
END_TEST

START_TEST(userauth_nonblocking)
{
	const char *user = integ_env("SFTPMNT_TEST_USER");
	int fd, rc, spins = 0;
	LIBSSH2_SESSION *s = open_session(&fd);
	LIBSSH2_AGENT *a = agent_open(s);
	struct libssh2_agent_publickey *id = find_id(a, "rsa");

	libssh2_session_set_blocking(s, 0);
	while ((rc = libssh2_agent_userauth(a, user, id)) ==
	       LIBSSH2_ERROR_EAGAIN) {
		struct pollfd p = { .fd = fd, .events = POLLIN };

		ck_assert_int_eq(poll(&p, 1, 10000), 1);
		ck_assert_int_lt(++spins, 1000);
	}
	ck_assert_int_eq(rc, 0);
	ck_assert_int_gt(spins, 0); /* the server had to answer first */
	ck_assert_int_eq(libssh2_userauth_authenticated(s), 1);
	libssh2_session_set_blocking(s, 1);
	libssh2_agent_free(a);
	close_session(s, fd);
}
END_TEST

/* Restart the fixture's sshd with extra options ("": as it was). */
static int sshd_restart(const char *opts)
{
	char cmd[1024];

	snprintf(cmd, sizeof(cmd), "'%s' restart '%s' %s",
		 integ_env("SFTPMNT_FIXTURE"),
		 integ_env("SFTPMNT_FIXTURE_DIR"), opts);
	return system(cmd);
}

/* In the parent after the test, failed or not. */
static void sshd_restore(void)
{
	if (sshd_restart(""))
		fprintf(stderr, "test_agent: sshd did not restart\n");
}

/*
 * rsa-sha2-256: OpenSSH lists rsa-sha2-512 in server-sig-algs whatever
 * PubkeyAcceptedAlgorithms says, so a server that takes only
 * rsa-sha2-256 refuses what we pick by default (512, named in the query
 * it refuses: LIBSSH2_ERROR_AUTHENTICATION_FAILED), and takes the key
 * once the session prefers 256, which asks the agent with the other
 * flag.
 */
START_TEST(rsa_sha2_256_server)
{
	const char *user = integ_env("SFTPMNT_TEST_USER");
	LIBSSH2_SESSION *s;
	LIBSSH2_AGENT *a;
	int fd, rc;
	char *msg;

	ck_assert_int_eq(sshd_restart("PubkeyAcceptedAlgorithms=rsa-sha2-256"),
			 0);
	s = open_session(&fd);
	a = agent_open(s);
	rc = libssh2_agent_userauth(a, user, find_id(a, "rsa"));
	ck_assert_int_eq(rc, LIBSSH2_ERROR_AUTHENTICATION_FAILED);
	libssh2_session_last_error(s, &msg, NULL, 0);
	ck_assert_ptr_nonnull(strstr(msg, "rsa-sha2-512"));
	libssh2_agent_free(a);
	close_session(s, fd);

	s = open_session(&fd);
	ck_assert_int_eq(
		libssh2_session_method_pref(s, LIBSSH2_METHOD_SIGN_ALGO,
					    "rsa-sha2-256,ssh-ed25519"),
		0);
	a = agent_open(s);
	rc = libssh2_agent_userauth(a, user, find_id(a, "ed25519"));
	ck_assert_int_eq(rc, LIBSSH2_ERROR_AUTHENTICATION_FAILED);
	rc = libssh2_agent_userauth(a, user, find_id(a, "rsa"));
	libssh2_session_last_error(s, &msg, NULL, 0);
	ck_assert_msg(rc == 0, "rsa-sha2-256: %d %s", rc, msg);
	libssh2_agent_free(a);
	close_session(s, fd);
}
END_TEST

/* The agent's RSA certificate (its blob's type says so). */
static struct libssh2_agent_publickey *find_rsa_cert(LIBSSH2_AGENT *a)
{
	static const char type[] = "ssh-rsa-cert-v01@openssh.com";
	struct libssh2_agent_publickey *id = NULL;

	while (libssh2_agent_get_identity(a, &id, id) == 0)
		if (id->blob_len > 4 + strlen(type) &&
		    get_u32(id->blob) == strlen(type) &&
		    !memcmp(id->blob + 4, type, strlen(type)))
			return id;
	ck_abort_msg("no RSA certificate in the agent");
	return NULL;
}

/* Authenticate with the agent's RSA certificate, the session preferring
 * the signature algorithms in pref (NULL: ours). */
static int rsa_cert_auth(const char *pref, char *msg, size_t cap)
{
	LIBSSH2_SESSION *s;
	LIBSSH2_AGENT *a;
	char *m;
	int fd, rc;

	s = open_session(&fd);
	if (pref)
		ck_assert_int_eq(libssh2_session_method_pref(
					 s, LIBSSH2_METHOD_SIGN_ALGO, pref),
				 0);
	a = agent_open(s);
	rc = libssh2_agent_userauth(a, integ_env("SFTPMNT_TEST_USER"),
				    find_rsa_cert(a));
	libssh2_session_last_error(s, &m, NULL, 0);
	snprintf(msg, cap, "%s", m ? m : "");
	if (!rc)
		ck_assert_int_eq(libssh2_userauth_authenticated(s), 1);
	libssh2_agent_free(a);
	close_session(s, fd);
	return rc;
}

/*
 * An RSA certificate in the agent (the key itself is not authorized; the
 * sshd trusts the CA): sshd refuses SHA-1 (ssh-rsa-cert-v01@openssh.com
 * is not in its default PubkeyAcceptedAlgorithms), so the request must
 * name rsa-sha2-512-cert-v01@openssh.com (or 256) and the agent must be
 * asked for that signature with SSH_AGENT_RSA_SHA2_512 (or 256): with no
 * flag it signs with SHA-1, which the server refuses.
 */
START_TEST(rsa_certificate)
{
	char opt[128], msg[512];
	int rc;

	snprintf(opt, sizeof(opt), "TrustedUserCAKeys='%s/ca.pub'", tmpdir);
	ck_assert_int_eq(sshd_restart(opt), 0);
	rc = rsa_cert_auth(NULL, msg, sizeof(msg));
	ck_assert_msg(rc == 0, "rsa certificate: %d %s", rc, msg);
	rc = rsa_cert_auth("rsa-sha2-256,ssh-ed25519", msg, sizeof(msg));
	ck_assert_msg(rc == 0, "rsa certificate, 256: %d %s", rc, msg);
	/* what the server refuses: SHA-1, at the query */
	rc = rsa_cert_auth("ssh-rsa", msg, sizeof(msg));
	ck_assert_msg(rc == LIBSSH2_ERROR_AUTHENTICATION_FAILED,
		      "rsa certificate, SHA-1: %d %s", rc, msg);
	ck_assert_ptr_nonnull(strstr(msg, "ssh-rsa-cert-v01@openssh.com"));
}
END_TEST

/* libssh2_agent_sign gives the bare signature: wrap it in a signature
 * blob for method (NULL: the key's type) and verify it. */
static void sign_and_verify(LIBSSH2_SESSION *s, LIBSSH2_AGENT *a,
			    const char *name, const char *method)
{
	static const unsigned char data[] = "data to be signed";
	struct libssh2_agent_publickey *id = find_id(a, name);
	unsigned char *sig = NULL;
	char alg[64];
	size_t slen = 0;
	struct wbuf w;
	int rc;

	rc = libssh2_agent_sign(a, id, &sig, &slen, data, sizeof(data), method,
				method ? (unsigned)strlen(method) : 0);
	ck_assert_msg(rc == 0, "sign %s/%s: %d", name, method, rc);
	if (method)
		snprintf(alg, sizeof(alg), "%s", method);
	else
		snprintf(alg, sizeof(alg), "%.*s", (int)get_u32(id->blob),
			 (const char *)id->blob + 4);
	wb_init(&w, &lalloc_system, 65536);
	ck_assert_int_eq(wb_cstring(&w, alg) || wb_string(&w, sig, slen), 0);
	ck_assert_msg(hostkey_verify(alg, id->blob, id->blob_len, w.p, w.len,
				     data, sizeof(data)) == 0,
		      "verify %s/%s", name, alg);
	wb_free(&w);
	libssh2_free(s, sig);
}

START_TEST(agent_sign)
{
	LIBSSH2_SESSION *s = libssh2_session_init();
	LIBSSH2_AGENT *a = agent_open(s);
	int i;

	for (i = 0; i < NKEYS; i++)
		sign_and_verify(s, a, keys[i].name, NULL);
	sign_and_verify(s, a, "rsa", "rsa-sha2-256");
	sign_and_verify(s, a, "rsa", "rsa-sha2-512");
	sign_and_verify(s, a, "ecdsa384", "ecdsa-sha2-nistp384");
	libssh2_agent_free(a);
	libssh2_session_free(s);
}
END_TEST

START_TEST(identity_path)
{
	LIBSSH2_SESSION *s = libssh2_session_init();
	LIBSSH2_AGENT *a = libssh2_agent_init(s);
	char buf[64] = "/some/where/agent.sock";

	ck_assert_ptr_null(libssh2_agent_get_identity_path(a));
	libssh2_agent_set_identity_path(a, buf);
	memset(buf, 'x', 10); /* the agent keeps its own copy */
	ck_assert_str_eq(libssh2_agent_get_identity_path(a),
			 "/some/where/agent.sock");
	libssh2_agent_set_identity_path(a, NULL);
	ck_assert_ptr_null(libssh2_agent_get_identity_path(a));
	ck_assert_ptr_null(libssh2_agent_get_identity_path(NULL));
	/* with no path set, SSH_AUTH_SOCK is used */
	setenv("SSH_AUTH_SOCK", sock_path, 1);
	ck_assert_int_eq(libssh2_agent_connect(a), 0);
	ck_assert_int_eq(libssh2_agent_list_identities(a), 0);
	/* a set path wins over SSH_AUTH_SOCK */
	libssh2_agent_set_identity_path(a, "/nonexistent/agent.sock");
	ck_assert_int_eq(libssh2_agent_connect(a),
			 LIBSSH2_ERROR_AGENT_PROTOCOL);
	libssh2_agent_free(a);
	libssh2_session_free(s);
}
END_TEST

START_TEST(no_agent)
{
	LIBSSH2_SESSION *s = libssh2_session_init();
	LIBSSH2_AGENT *a = libssh2_agent_init(s);
	struct libssh2_agent_publickey *id;
	char path[128], *msg;

	snprintf(path, sizeof(path), "%s/nobody-here.sock", tmpdir);
	libssh2_agent_set_identity_path(a, path);
	ck_assert_int_eq(libssh2_agent_connect(a),
			 LIBSSH2_ERROR_AGENT_PROTOCOL);
	libssh2_session_last_error(s, &msg, NULL, 0);
	ck_assert_ptr_nonnull(strstr(msg, "nobody-here.sock"));
	/* nothing to ask */
	ck_assert_int_eq(libssh2_agent_list_identities(a),
			 LIBSSH2_ERROR_BAD_USE);
	ck_assert_int_eq(libssh2_agent_get_identity(a, &id, NULL), 1);
	/* neither a path nor SSH_AUTH_SOCK */
	libssh2_agent_set_identity_path(a, NULL);
	unsetenv("SSH_AUTH_SOCK");
	ck_assert_int_eq(libssh2_agent_connect(a), LIBSSH2_ERROR_BAD_USE);
	libssh2_session_last_error(s, &msg, NULL, 0);
	ck_assert_ptr_nonnull(strstr(msg, "SSH_AUTH_SOCK"));
	/* libssh2 1.11.1: only a missing path is BAD_USE; an empty one is a
	 * socket that cannot be connected to */
	setenv("SSH_AUTH_SOCK", "", 1);
	ck_assert_int_eq(libssh2_agent_connect(a),
			 LIBSSH2_ERROR_AGENT_PROTOCOL);
	unsetenv("SSH_AUTH_SOCK");
	libssh2_agent_set_identity_path(a, "");
	ck_assert_int_eq(libssh2_agent_connect(a),
			 LIBSSH2_ERROR_AGENT_PROTOCOL);
	/* longer than a socket address holds: the same code as libssh2,
	 * which would try the path cut short */
	memset(path, 'a', sizeof(path) - 1);
	path[sizeof(path) - 1] = 0;
	libssh2_agent_set_identity_path(a, path);
	ck_assert_int_eq(libssh2_agent_connect(a),
			 LIBSSH2_ERROR_AGENT_PROTOCOL);
	libssh2_session_last_error(s, &msg, NULL, 0);
	ck_assert_ptr_nonnull(strstr(msg, "too long"));
	libssh2_agent_free(a);
	libssh2_session_free(s);
}
END_TEST

START_TEST(userauth_without_agent)
{
	const char *user = integ_env("SFTPMNT_TEST_USER");
	int fd;
	LIBSSH2_SESSION *s = open_session(&fd);
	LIBSSH2_AGENT *a = agent_open(s);
	struct libssh2_agent_publickey *id = find_id(a, "ed25519");
	char *msg;
	int rc;

	libssh2_agent_disconnect(a);
	ck_assert_int_eq(libssh2_agent_userauth(a, user, id),
			 LIBSSH2_ERROR_PUBLICKEY_UNVERIFIED);
	libssh2_session_last_error(s, &msg, NULL, 0);
	ck_assert_ptr_nonnull(strstr(msg, "not connected"));
	/* reconnected, the same identity works on the same session */
	ck_assert_int_eq(libssh2_agent_connect(a), 0);
	rc = libssh2_agent_userauth(a, user, id);
	libssh2_session_last_error(s, &msg, NULL, 0);
	ck_assert_msg(rc == 0, "after reconnecting: %d %s", rc, msg);
	libssh2_agent_free(a);
	close_session(s, fd);
}
END_TEST

/* ---- a fake agent -------------------------------------------------------- */

/* Our end of a connection the client made to a socket of ours. */
struct fake {
	LIBSSH2_SESSION *s;
	LIBSSH2_AGENT *a;
	int lfd, cfd;
	char path[sizeof(((struct sockaddr_un *)0)->sun_path)];
};

static void fake_connect(struct fake *f)
{
	if (f->cfd >= 0)
		close(f->cfd);
	ck_assert_int_eq(libssh2_agent_connect(f->a), 0);
	f->cfd = accept(f->lfd, NULL, NULL);
	ck_assert_int_ge(f->cfd, 0);
}

static void fake_open(struct fake *f, LIBSSH2_SESSION *s, long timeout_ms)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };

	snprintf(f->path, sizeof(f->path), "%s/fake-%d.sock", tmpdir,
		 (int)getpid());
	memcpy(sun.sun_path, f->path, sizeof(f->path));
	unlink(f->path);
	f->lfd = socket(AF_UNIX, SOCK_STREAM, 0);
	ck_assert_int_ge(f->lfd, 0);
	ck_assert_int_eq(bind(f->lfd, (struct sockaddr *)&sun, sizeof(sun)), 0);
	ck_assert_int_eq(listen(f->lfd, 4), 0);
	f->s = s ? s : libssh2_session_init();
	libssh2_session_set_timeout(f->s, timeout_ms);
	f->a = libssh2_agent_init(f->s);
	libssh2_agent_set_identity_path(f->a, f->path);
	f->cfd = -1;
	fake_connect(f);
}

static void fake_close(struct fake *f, int free_session)
{
	libssh2_agent_free(f->a);
	if (free_session)
		libssh2_session_free(f->s);
	close(f->cfd);
	close(f->lfd);
	unlink(f->path);
}

static void fake_raw(struct fake *f, const void *p, size_t n)
{
	ck_assert_int_eq(write(f->cfd, p, n), (ssize_t)n);
}

/* Queue a reply (framed) before the request: the client reads it after
 * sending its own. */
static void fake_say(struct fake *f, const void *body, size_t n)
{
	uint8_t len[4];

	put_u32(len, (uint32_t)n);
	fake_raw(f, len, 4);
	fake_raw(f, body, n);
}

/* Read the request the client sent; returns its length. */
static size_t fake_heard(struct fake *f, uint8_t *buf, size_t cap)
{
	uint8_t len[4];
	size_t n;

	ck_assert_int_eq(read(f->cfd, len, 4), 4);
	n = get_u32(len);
	ck_assert_uint_le(n, cap);
	ck_assert_int_eq(read(f->cfd, buf, n), (ssize_t)n);
	return n;
}

static int count_ids(LIBSSH2_AGENT *a)
{
	struct libssh2_agent_publickey *id = NULL;
	int n = 0;

	while (!libssh2_agent_get_identity(a, &id, id)) {
		ck_assert_ptr_nonnull(id->blob);
		ck_assert_uint_le(strlen(id->comment), AGENT_COMMENT_MAX);
		n++;
	}
	return n;
}

#define R(lit) lit, sizeof(lit) - 1

/* IDENTITIES_ANSWER bodies and what the client makes of them. */
static const struct {
	const char *what;
	const char *body;
	size_t n;
	int rc, nids;
} list_replies[] = {
	{ "failure", R("\x05"), LIBSSH2_ERROR_AGENT_PROTOCOL, 0 },
	{ "extension failure", R("\x1c"), LIBSSH2_ERROR_AGENT_PROTOCOL, 0 },
	{ "wrong type", R("\x0e"), LIBSSH2_ERROR_AGENT_PROTOCOL, 0 },
	{ "no count", R("\x0c\0\0"), LIBSSH2_ERROR_AGENT_PROTOCOL, 0 },
	{ "too many keys", R("\x0c\0\0\x04\x01"),
	  LIBSSH2_ERROR_OUT_OF_BOUNDARY, 0 },
	{ "count over data", R("\x0c\0\0\0\2\0\0\0\1k\0\0\0\1c"),
	  LIBSSH2_ERROR_AGENT_PROTOCOL, 0 },
	{ "blob over data", R("\x0c\0\0\0\1\0\0\0\x09k\0\0\0\0"),
	  LIBSSH2_ERROR_AGENT_PROTOCOL, 0 },
	{ "blob over cap", R("\x0c\0\0\0\1\x7f\xff\xff\xff\0\0\0\0"),
	  LIBSSH2_ERROR_OUT_OF_BOUNDARY, 0 },
	{ "empty blob", R("\x0c\0\0\0\1\0\0\0\0\0\0\0\0"),
	  LIBSSH2_ERROR_AGENT_PROTOCOL, 0 },
	{ "NUL in comment", R("\x0c\0\0\0\1\0\0\0\1k\0\0\0\2c\0"),
	  LIBSSH2_ERROR_AGENT_PROTOCOL, 0 },
	{ "trailing byte", R("\x0c\0\0\0\1\0\0\0\1k\0\0\0\1cX"),
	  LIBSSH2_ERROR_AGENT_PROTOCOL, 0 },
	{ "no keys", R("\x0c\0\0\0\0"), 0, 0 },
	{ "two keys", R("\x0c\0\0\0\2\0\0\0\1k\0\0\0\1c\0\0\0\2kk\0\0\0\0"),
	  0, 2 },
};

#define NREPLIES (int)(sizeof(list_replies) / sizeof(list_replies[0]))

START_TEST(fake_list_replies)
{
	struct fake f;
	uint8_t req[16];

	fake_open(&f, NULL, 5000);
	fake_say(&f, list_replies[_i].body, list_replies[_i].n);
	ck_assert_msg(libssh2_agent_list_identities(f.a) == list_replies[_i].rc,
		      "%s", list_replies[_i].what);
	ck_assert_int_eq(count_ids(f.a), list_replies[_i].nids);
	/* the request: uint32 1, byte 11 */
	ck_assert_uint_eq(fake_heard(&f, req, sizeof(req)), 1);
	ck_assert_uint_eq(req[0], 11);
	/* a well-framed reply, however wrong, keeps the stream in step */
	fake_say(&f, R("\x0c\0\0\0\1\0\0\0\1k\0\0\0\0"));
	ck_assert_int_eq(libssh2_agent_list_identities(f.a), 0);
	ck_assert_int_eq(count_ids(f.a), 1);
	fake_close(&f, 1);
}
END_TEST

/* A long comment (a key file path, say) is kept, as libssh2 1.11.1 keeps
 * any; over 64 KiB (the cap of later libssh2), OUT_OF_BOUNDARY. */
static int long_comment_case(struct fake *f, size_t cl)
{
	uint8_t *body = malloc(14 + cl), req[16];
	struct libssh2_agent_publickey *id = NULL;
	int rc;

	ck_assert_ptr_nonnull(body);
	body[0] = 12;
	put_u32(body + 1, 1);
	put_u32(body + 5, 1);
	body[9] = 'k';
	put_u32(body + 10, (uint32_t)cl);
	memset(body + 14, 'c', cl);
	fake_say(f, body, 14 + cl);
	rc = libssh2_agent_list_identities(f->a);
	(void)fake_heard(f, req, sizeof(req));
	if (!rc) {
		ck_assert_int_eq(libssh2_agent_get_identity(f->a, &id, NULL),
				 0);
		ck_assert_uint_eq(strlen(id->comment), cl);
	}
	free(body);
	return rc;
}

START_TEST(fake_list_long_comment)
{
	struct fake f;

	fake_open(&f, NULL, 5000);
	ck_assert_int_eq(long_comment_case(&f, 5000), 0);
	ck_assert_int_eq(long_comment_case(&f, 64 * 1024), 0);
	ck_assert_int_eq(long_comment_case(&f, 64 * 1024 + 1),
			 LIBSSH2_ERROR_OUT_OF_BOUNDARY);
	fake_close(&f, 1);
}
END_TEST

/* Broken framing closes the connection: a later request is BAD_USE. */
static void framing_case(const void *raw, size_t n, int shut, int rc)
{
	struct fake f;
	int64_t t0;

	fake_open(&f, NULL, 300);
	fake_raw(&f, raw, n);
	if (shut)
		shutdown(f.cfd, SHUT_WR);
	t0 = sess_now_ms();
	ck_assert_int_eq(libssh2_agent_list_identities(f.a), rc);
	ck_assert_int_lt(sess_now_ms() - t0, 3000);
	ck_assert_int_eq(libssh2_agent_list_identities(f.a),
			 LIBSSH2_ERROR_BAD_USE);
	fake_close(&f, 1);
}

START_TEST(fake_framing)
{
	/* empty message; one over 256 KiB; cut short; the length cut short;
	 * silence; the agent hangs up before answering */
	framing_case(R("\0\0\0\0"), 0, LIBSSH2_ERROR_AGENT_PROTOCOL);
	framing_case(R("\0\x04\0\x01"), 0, LIBSSH2_ERROR_AGENT_PROTOCOL);
	framing_case(R("\xff\xff\xff\xff"), 0, LIBSSH2_ERROR_AGENT_PROTOCOL);
	framing_case(R("\0\0\0\x05\x0c\0"), 0, LIBSSH2_ERROR_TIMEOUT);
	framing_case(R("\0\0"), 0, LIBSSH2_ERROR_TIMEOUT);
	framing_case("", 0, 0, LIBSSH2_ERROR_TIMEOUT);
	framing_case(R("\0\0\0\x05\x0c\0"), 1, LIBSSH2_ERROR_SOCKET_RECV);
	framing_case("", 0, 1, LIBSSH2_ERROR_SOCKET_RECV);
}
END_TEST

/* Every truncation and every 1-bit flip of a good answer (framing kept
 * consistent): an error or a sane list, nothing else. */
START_TEST(fake_list_mutations)
{
	static const uint8_t good[] = "\x0c\0\0\0\2"
				      "\0\0\0\x0bssh-ed25519\0\0\0\x03one"
				      "\0\0\0\x05blob2\0\0\0\0";
	size_t n = sizeof(good) - 1, i;
	uint8_t m[sizeof(good)];
	struct fake f;
	int rc;

	fake_open(&f, NULL, 2000);
	for (i = 0; i < n + n * 8; i++) {
		size_t len = i < n ? i : n;

		memcpy(m, good, n);
		if (i >= n)
			m[(i - n) / 8] ^= (uint8_t)(1u << ((i - n) % 8));
		if (len == 0) /* a framing error, tested above */
			continue;
		fake_say(&f, m, len);
		rc = libssh2_agent_list_identities(f.a);
		ck_assert_int_le(rc, 0);
		ck_assert_int_le(count_ids(f.a), rc ? 0 : 2);
		(void)fake_heard(&f, m, sizeof(m));
	}
	fake_close(&f, 1);
}
END_TEST

/* A made-up public key blob: string type, string 32 bytes. */
static void fake_key(struct libssh2_agent_publickey *id, uint8_t *buf,
		     size_t cap, const char *type)
{
	size_t tl = strlen(type);

	ck_assert_uint_le(4 + tl + 4 + 32, cap);
	memset(id, 0, sizeof(*id));
	put_u32(buf, (uint32_t)tl);
	memcpy(buf + 4, type, tl);
	put_u32(buf + 4 + tl, 32);
	memset(buf + 8 + tl, 0x5a, 32);
	id->blob = buf;
	id->blob_len = 8 + tl + 32;
}

/* A SIGN_RESPONSE with signature algorithm alg and a signature of n
 * bytes (plus junk bytes of trailing rubbish inside the blob). */
static size_t sign_response(uint8_t *out, const char *alg, size_t n,
			    size_t junk)
{
	size_t al = strlen(alg), inner = 4 + al + 4 + n + junk;

	out[0] = 14;
	put_u32(out + 1, (uint32_t)inner);
	put_u32(out + 5, (uint32_t)al);
	memcpy(out + 9, alg, al);
	put_u32(out + 9 + al, (uint32_t)n);
	memset(out + 13 + al, 0xa5, n + junk);
	return 5 + inner;
}

/* One libssh2_agent_sign against a canned reply; checks the request's
 * flags. */
static int fake_sign_case(const char *keytype, const char *method,
			  const uint8_t *reply, size_t rn, uint32_t flags,
			  size_t *slen)
{
	static const uint8_t data[] = "sign me";
	struct libssh2_agent_publickey id;
	uint8_t key[128], req[512];
	unsigned char *sig = NULL;
	struct fake f;
	size_t n;
	int rc;

	fake_key(&id, key, sizeof(key), keytype);
	fake_open(&f, NULL, 5000);
	fake_say(&f, reply, rn);
	rc = libssh2_agent_sign(f.a, &id, &sig, slen, data, sizeof(data),
				method, method ? (unsigned)strlen(method) : 0);
	/* byte 13, string key, string data, uint32 flags */
	n = fake_heard(&f, req, sizeof(req));
	ck_assert_uint_eq(n, 1 + 4 + id.blob_len + 4 + sizeof(data) + 4);
	ck_assert_uint_eq(req[0], 13);
	ck_assert(!memcmp(req + 5, id.blob, id.blob_len));
	ck_assert_uint_eq(get_u32(req + n - 4), flags);
	if (!rc)
		ck_assert(sig && (*slen == 0 || sig[0] == 0xa5));
	libssh2_free(f.s, sig);
	fake_close(&f, 1);
	return rc;
}

START_TEST(fake_sign_replies)
{
	uint8_t r[AGENT_SIG_MAX + 64];
	size_t n, slen = 0;

	n = sign_response(r, "ssh-ed25519", 64, 0);
	ck_assert_int_eq(fake_sign_case("ssh-ed25519", NULL, r, n, 0, &slen),
			 0);
	ck_assert_uint_eq(slen, 64);
	/* RSA: the flags follow the method, the answer must match it */
	n = sign_response(r, "rsa-sha2-512", 256, 0);
	ck_assert_int_eq(
		fake_sign_case("ssh-rsa", "rsa-sha2-512", r, n, 4, &slen), 0);
	n = sign_response(r, "rsa-sha2-256", 256, 0);
	ck_assert_int_eq(
		fake_sign_case("ssh-rsa", "rsa-sha2-256", r, n, 2, &slen), 0);
	n = sign_response(r, "ssh-rsa", 256, 0);
	ck_assert_int_eq(
		fake_sign_case("ssh-rsa", "rsa-sha2-512", r, n, 4, &slen),
		LIBSSH2_ERROR_ALGO_UNSUPPORTED);
	/* a certificate signs as its plain type */
	n = sign_response(r, "ssh-ed25519", 64, 0);
	ck_assert_int_eq(fake_sign_case("ssh-ed25519-cert-v01@openssh.com",
					NULL, r, n, 0, &slen),
			 0);
	/* refusals and malformed answers */
	ck_assert_int_eq(fake_sign_case("ssh-ed25519", NULL,
					(const uint8_t *)"\x05", 1, 0, &slen),
			 LIBSSH2_ERROR_AGENT_PROTOCOL);
	n = sign_response(r, "ssh-ed25519", 64, 1);
	ck_assert_int_eq(fake_sign_case("ssh-ed25519", NULL, r, n, 0, &slen),
			 LIBSSH2_ERROR_AGENT_PROTOCOL);
	n = sign_response(r, "ssh-ed25519", 64, 0);
	ck_assert_int_eq(
		fake_sign_case("ssh-ed25519", NULL, r, n - 1, 0, &slen),
		LIBSSH2_ERROR_AGENT_PROTOCOL);
	n = sign_response(r, "ssh-ed25519", AGENT_SIG_MAX, 0);
	ck_assert_int_eq(fake_sign_case("ssh-ed25519", NULL, r, n, 0, &slen),
			 LIBSSH2_ERROR_OUT_OF_BOUNDARY);
}
END_TEST

/* libssh2 1.11.1 refuses a blob too short to hold its key type with
 * BUFFER_TOO_SMALL before it looks at the connection. */
START_TEST(sign_short_blob)
{
	static const uint8_t data[] = "sign me";
	static const struct {
		const char *blob;
		size_t n;
	} shorts[] = {
		{"", 0},
		{"\0\0\0", 3},
		{"\0\0\0\x0bssh-ed2551", 14},
		{"\xff\xff\xff\xffssh-rsa", 11},
	};
	LIBSSH2_SESSION *s = libssh2_session_init();
	LIBSSH2_AGENT *a = libssh2_agent_init(s);
	struct libssh2_agent_publickey id;
	unsigned char *sig = NULL;
	uint8_t key[128];
	size_t i, slen = 0;

	for (i = 0; i < sizeof(shorts) / sizeof(shorts[0]); i++) {
		memset(&id, 0, sizeof(id));
		id.blob = (unsigned char *)shorts[i].blob;
		id.blob_len = shorts[i].n;
		ck_assert_int_eq(libssh2_agent_sign(a, &id, &sig, &slen, data,
						    sizeof(data), "ssh-rsa", 7),
				 LIBSSH2_ERROR_BUFFER_TOO_SMALL);
		ck_assert_int_eq(libssh2_agent_sign(a, &id, &sig, &slen, data,
						    sizeof(data), NULL, 0),
				 LIBSSH2_ERROR_BUFFER_TOO_SMALL);
	}
	ck_assert_ptr_null(sig);
	/* a blob that holds its type: then the missing connection */
	fake_key(&id, key, sizeof(key), "ssh-ed25519");
	ck_assert_int_eq(libssh2_agent_sign(a, &id, &sig, &slen, data,
					    sizeof(data), "ssh-ed25519", 11),
			 LIBSSH2_ERROR_BAD_USE);
	libssh2_agent_free(a);
	libssh2_session_free(s);
}
END_TEST

/* An agent that refuses: the session's message says so, not just that
 * signing failed. */
START_TEST(fake_userauth_refused)
{
	const char *user = integ_env("SFTPMNT_TEST_USER");
	struct libssh2_agent_publickey id = { 0 };
	int fd;
	LIBSSH2_SESSION *s = open_session(&fd);
	struct fake f;
	uint8_t *blob;
	size_t len;
	char *msg;

	pub_blob("ed25519", &blob, &len);
	id.blob = blob;
	id.blob_len = len;
	fake_open(&f, s, 20000);
	fake_say(&f, R("\x05"));
	ck_assert_int_eq(libssh2_agent_userauth(f.a, user, &id),
			 LIBSSH2_ERROR_PUBLICKEY_UNVERIFIED);
	libssh2_session_last_error(s, &msg, NULL, 0);
	ck_assert_ptr_nonnull(strstr(msg, "agent refused to sign"));
	ck_assert_int_eq(libssh2_userauth_authenticated(s), 0);
	la_free(&lalloc_system, blob);
	fake_close(&f, 0);
	close_session(s, fd);
}
END_TEST


int main(void)
{
	Suite *s = suite_create("agent");
	TCase *tc = tcase_create("ssh-agent");
	SRunner *sr;
	int failed;

	integ_env("SFTPMNT_TEST_PORT");
	setup();
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, list_identities);
	tcase_add_loop_test(tc, userauth_each_key, 0, NAUTH);
	tcase_add_test(tc, unknown_key_refused);
	tcase_add_test(tc, userauth_nonblocking);
	tcase_add_test(tc, agent_sign);
	tcase_add_test(tc, identity_path);
	tcase_add_test(tc, no_agent);
	tcase_add_test(tc, userauth_without_agent);
	tcase_add_loop_test(tc, fake_list_replies, 0, NREPLIES);
	tcase_add_test(tc, fake_list_long_comment);
	tcase_add_test(tc, fake_framing);
	tcase_add_test(tc, fake_list_mutations);
	tcase_add_test(tc, fake_sign_replies);
	tcase_add_test(tc, sign_short_blob);
	tcase_add_test(tc, fake_userauth_refused);
	suite_add_tcase(s, tc);
	/* last: it restarts the sshd with other options */
	tc = tcase_create("restricted-sshd");
	tcase_set_timeout(tc, 60);
	tcase_add_unchecked_fixture(tc, NULL, sshd_restore);
	tcase_add_test(tc, rsa_sha2_256_server);
	tcase_add_test(tc, rsa_certificate);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	stop_agent();
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
