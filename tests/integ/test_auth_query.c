/*
 * test_auth_query.c - the order of publickey authentication (RFC 4252
 * 7) as libssh2 1.11.1 has it, against the real test sshd: the key is
 * first offered without a signature, and only on the server's PK_OK is
 * the private key opened (passphrase and all) or the sign callback
 * called.
 *
 * - a refused key: LIBSSH2_ERROR_AUTHENTICATION_FAILED, the sign
 *   callback never called; an accepted one: called exactly once;
 * - an encrypted key the server refuses, with its public key file: the
 *   refusal, whatever the passphrase (a wrong one is never tried), even
 *   with no private key file at all; without the public key the private
 *   key is opened first (libssh2 derives the public key from it);
 * - sshd's log (LogLevel VERBOSE) shows "Postponed publickey" (the query
 *   answered with PK_OK) before "Accepted publickey" for our connection;
 * - non-blocking: EAGAIN both while the query is out and while the
 *   signed request is out, the callback still called once;
 * - keyboard-interactive through sshd's PAM conversation (UsePAM=yes),
 *   whose INFO_REQUEST has an empty name and instruction: the callback
 *   gets NULL and 0 for them, as from libssh2 1.11.1.
 */
#include <check.h>
#include <limits.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "libssh2.h"

#include "alloc.h"
#include "buf.h"
#include "integ.h"
#include "integ_ssh.h"
#include "key.h"

static char tmpdir[PATH_MAX];

static const char *user(void)
{
	return integ_env("SFTPMNT_TEST_USER");
}

static const char *fixture_dir(void)
{
	return integ_env("SFTPMNT_FIXTURE_DIR");
}

static void path_of(char *out, size_t cap, const char *name, const char *ext)
{
	snprintf(out, cap, "%s/%s%s", tmpdir, name, ext);
}

static char *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *buf;
	long n;

	ck_assert_msg(f != NULL, "cannot open %s", path);
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	rewind(f);
	buf = malloc((size_t)n + 1);
	ck_assert_ptr_nonnull(buf);
	ck_assert_uint_eq(fread(buf, 1, (size_t)n, f), (size_t)n);
	buf[n] = 0;
	fclose(f);
	*len = (size_t)n;
	return buf;
}

/* ---- a sign callback that counts ------------------------------------- */

/* It signs with a private key file read through the library's key code,
 * and answers as a libssh2 sign callback: the bare signature. */
struct signer {
	struct key *key;
	int calls;
};

static LIBSSH2_USERAUTH_PUBLICKEY_SIGN_FUNC(count_sign)
{
	struct signer *sg = *abstract;
	uint8_t *blob = NULL;
	const uint8_t *raw;
	const char *alg;
	size_t bloblen, algn, rawlen;
	struct rbuf r;
	int rc;

	(void)session;
	sg->calls++;
	if (!sg->key)
		return -1;
	rc = key_sign(sg->key, NULL, data, data_len, &lalloc_system, &blob,
		      &bloblen);
	if (rc)
		return rc;
	rb_init(&r, blob, bloblen);
	if (rb_text(&r, &alg, &algn, 64) ||
	    rb_string(&r, &raw, &rawlen, bloblen) || rb_done(&r) ||
	    !(*sig = malloc(rawlen))) {
		free(blob);
		return -1;
	}
	memcpy(*sig, raw, rawlen);
	*sig_len = rawlen;
	free(blob);
	return 0;
}

static struct key *load_key(const char *path, const char *pass)
{
	struct key *k = NULL;
	size_t len;
	char *data = slurp(path, &len);

	ck_assert_int_eq(
		key_load_private(&lalloc_system, data, len, pass, &k, NULL), 0);
	free(data);
	return k;
}

static uint8_t *pub_blob(const char *pubfile, size_t *len)
{
	uint8_t *blob = NULL;
	size_t n;
	char *text = slurp(pubfile, &n);

	ck_assert_int_eq(key_parse_public(&lalloc_system, text, n, &blob, len,
					  NULL, NULL),
			 0);
	free(text);
	return blob;
}

/* ---- sshd's log ------------------------------------------------------ */

static long log_size(void)
{
	char path[PATH_MAX + 64];
	struct stat st;

	snprintf(path, sizeof(path), "%s/sshd.log", fixture_dir());
	return stat(path, &st) ? 0 : (long)st.st_size;
}

/* The line number (from 1, after byte `from`) of the first line with
 * both a and b in it, waiting up to 5 s for it; 0 if none. */
static int log_line(long from, const char *a, const char *b)
{
	char path[PATH_MAX + 64], line[4096];
	int i, n;

	snprintf(path, sizeof(path), "%s/sshd.log", fixture_dir());
	for (i = 0; i < 500; i++) {
		FILE *f = fopen(path, "r");

		if (f) {
			fseek(f, from, SEEK_SET);
			for (n = 1; fgets(line, sizeof(line), f); n++)
				if (strstr(line, a) && strstr(line, b)) {
					fclose(f);
					return n;
				}
			fclose(f);
		}
		usleep(10000);
	}
	return 0;
}

/* "port N" of our end of fd, as sshd logs the client. */
static void client_port(int fd, char *out, size_t cap)
{
	struct sockaddr_in sa;
	socklen_t len = sizeof(sa);

	ck_assert_int_eq(getsockname(fd, (struct sockaddr *)&sa, &len), 0);
	snprintf(out, cap, "port %u ", (unsigned)ntohs(sa.sin_port));
}

/* ---- publickey ------------------------------------------------------- */

START_TEST(refused_key_never_signed)
{
	char pub[PATH_MAX + 64];
	struct signer sg = {0};
	void *abstract = &sg;
	size_t len;
	uint8_t *blob;
	int fd, rc;
	LIBSSH2_SESSION *s = integ_connected(&fd);

	path_of(pub, sizeof(pub), "stranger", ".pub");
	blob = pub_blob(pub, &len);
	rc = libssh2_userauth_publickey(s, user(), blob, len, count_sign,
					&abstract);
	ck_assert_msg(rc == LIBSSH2_ERROR_AUTHENTICATION_FAILED,
		      "refused key: %d %s", rc, integ_errmsg(s));
	ck_assert_int_eq(libssh2_session_last_errno(s), rc);
	ck_assert_int_eq(sg.calls, 0);
	ck_assert_int_eq(libssh2_userauth_authenticated(s), 0);
	free(blob);

	/* the authorized key: signed once */
	blob = pub_blob(integ_env("SFTPMNT_TEST_PUBKEY"), &len);
	sg.key = load_key(integ_env("SFTPMNT_TEST_KEY"), NULL);
	rc = libssh2_userauth_publickey(s, user(), blob, len, count_sign,
					&abstract);
	ck_assert_msg(rc == 0, "accepted key: %d %s", rc, integ_errmsg(s));
	ck_assert_int_eq(sg.calls, 1);
	ck_assert_int_eq(libssh2_userauth_authenticated(s), 1);
	key_free(&lalloc_system, sg.key);
	free(blob);
	integ_finish(s, fd);
}
END_TEST

/* The server's PK_OK, then a callback that cannot sign: libssh2's
 * "Callback returned error", LIBSSH2_ERROR_PUBLICKEY_UNVERIFIED. */
START_TEST(callback_fails_after_pk_ok)
{
	struct signer sg = {0};
	void *abstract = &sg;
	size_t len;
	uint8_t *blob = pub_blob(integ_env("SFTPMNT_TEST_PUBKEY"), &len);
	int fd, rc;
	LIBSSH2_SESSION *s = integ_connected(&fd);

	rc = libssh2_userauth_publickey(s, user(), blob, len, count_sign,
					&abstract);
	ck_assert_msg(rc == LIBSSH2_ERROR_PUBLICKEY_UNVERIFIED,
		      "failing callback: %d %s", rc, integ_errmsg(s));
	ck_assert_int_eq(sg.calls, 1);
	free(blob);
	integ_finish(s, fd);
}
END_TEST

/*
 * An encrypted key the server does not know, offered with its public
 * key: refused at the query whatever the passphrase, which is never
 * tried; not even a missing private key file is noticed.  Without the
 * public key the private key is opened first, and a wrong passphrase is
 * what fails (LIBSSH2_ERROR_FILE, as libssh2).
 */
START_TEST(encrypted_refused_without_passphrase)
{
	static const char *const pass[] = {"wrong", NULL, "", "pw-right"};
	char key[PATH_MAX + 64], pub[PATH_MAX + 64], missing[PATH_MAX + 64];
	size_t klen, plen;
	char *kdata, *pdata;
	int fd, rc, i;
	LIBSSH2_SESSION *s;

	path_of(key, sizeof(key), "stranger_enc", "");
	path_of(pub, sizeof(pub), "stranger_enc", ".pub");
	path_of(missing, sizeof(missing), "no-such-key", "");
	kdata = slurp(key, &klen);
	pdata = slurp(pub, &plen);
	/* a session for each: sshd's MaxAuthTries counts the refusals */
	for (i = 0; i < 4; i++) {
		s = integ_connected(&fd);
		rc = libssh2_userauth_publickey_fromfile(s, user(), pub, key,
							 pass[i]);
		ck_assert_msg(rc == LIBSSH2_ERROR_AUTHENTICATION_FAILED,
			      "fromfile, passphrase %s: %d %s",
			      pass[i] ? pass[i] : "NULL", rc, integ_errmsg(s));
		ck_assert_ptr_null(strstr(integ_errmsg(s), "passphrase"));
		rc = libssh2_userauth_publickey_frommemory(
			s, user(), strlen(user()), pdata, plen, kdata, klen,
			pass[i]);
		ck_assert_msg(rc == LIBSSH2_ERROR_AUTHENTICATION_FAILED,
			      "frommemory, passphrase %s: %d %s",
			      pass[i] ? pass[i] : "NULL", rc, integ_errmsg(s));
		integ_finish(s, fd);
	}
	s = integ_connected(&fd);
	rc = libssh2_userauth_publickey_fromfile(s, user(), pub, missing, NULL);
	ck_assert_msg(rc == LIBSSH2_ERROR_AUTHENTICATION_FAILED,
		      "missing private key: %d %s", rc, integ_errmsg(s));
	/* no public key: the passphrase is needed first */
	rc = libssh2_userauth_publickey_fromfile(s, user(), NULL, key, "wrong");
	ck_assert_msg(rc == LIBSSH2_ERROR_FILE, "no .pub: %d %s", rc,
		      integ_errmsg(s));
	ck_assert_ptr_nonnull(strstr(integ_errmsg(s), "wrong passphrase"));
	rc = libssh2_userauth_publickey_fromfile(s, user(), NULL, key,
						 "pw-right");
	ck_assert_msg(rc == LIBSSH2_ERROR_AUTHENTICATION_FAILED,
		      "no .pub, right passphrase: %d %s", rc, integ_errmsg(s));
	ck_assert_int_eq(libssh2_userauth_authenticated(s), 0);
	/* and the session still logs in */
	rc = libssh2_userauth_publickey_fromfile(
		s, user(), integ_env("SFTPMNT_TEST_PUBKEY"),
		integ_env("SFTPMNT_TEST_KEY"), NULL);
	ck_assert_msg(rc == 0, "after the refusals: %d %s", rc,
		      integ_errmsg(s));
	free(kdata);
	free(pdata);
	integ_finish(s, fd);
}
END_TEST

/* sshd logs the query it answered with PK_OK ("Postponed publickey")
 * before the login ("Accepted publickey"), for our connection. */
START_TEST(log_shows_query_first)
{
	char port[32];
	long from = log_size();
	int fd, rc, postponed, accepted;
	LIBSSH2_SESSION *s = integ_connected(&fd);

	client_port(fd, port, sizeof(port));
	rc = libssh2_userauth_publickey_fromfile(
		s, user(), integ_env("SFTPMNT_TEST_PUBKEY"),
		integ_env("SFTPMNT_TEST_KEY"), NULL);
	ck_assert_msg(rc == 0, "login: %d %s", rc, integ_errmsg(s));
	accepted = log_line(from, "Accepted publickey", port);
	postponed = log_line(from, "Postponed publickey", port);
	ck_assert_msg(accepted > 0, "no \"Accepted publickey\" for %s", port);
	ck_assert_msg(postponed > 0 && postponed < accepted,
		      "no query before the login (lines %d, %d)", postponed,
		      accepted);
	integ_finish(s, fd);
}
END_TEST

static void wait_socket(LIBSSH2_SESSION *s, int fd)
{
	struct pollfd p = {.fd = fd};
	int d = libssh2_session_block_directions(s);

	ck_assert_msg(d != 0, "EAGAIN without a block direction");
	p.events = (d & LIBSSH2_SESSION_BLOCK_INBOUND ? POLLIN : 0) |
		   (d & LIBSSH2_SESSION_BLOCK_OUTBOUND ? POLLOUT : 0);
	ck_assert_int_eq(poll(&p, 1, 10000), 1);
}

/* tests/tools/delayproxy between us and sshd, delay_ms each way: a
 * reply is then never there the moment its request has gone out.  The
 * proxy's port; it dies with the test process. */
static unsigned proxy_start(int delay_ms, pid_t *pid)
{
	char pf[PATH_MAX + 64], target[64], delay[16];
	const char *bin = integ_env("DELAYPROXY");
	unsigned port = 0;
	pid_t parent = getpid();
	int i;

	path_of(pf, sizeof(pf), "proxy-port", "");
	unlink(pf);
	snprintf(target, sizeof(target), "127.0.0.1:%s",
		 integ_env("SFTPMNT_TEST_PORT"));
	snprintf(delay, sizeof(delay), "%d", delay_ms);
	*pid = fork();
	ck_assert_int_ge(*pid, 0);
	if (*pid == 0) {
		prctl(PR_SET_PDEATHSIG, SIGTERM);
		if (getppid() != parent)
			_exit(127);
		execl(bin, bin, "-t", target, "-d", delay, "-p", pf, "-q",
		      (char *)NULL);
		_exit(127);
	}
	for (i = 0; i < 500 && !port; i++) {
		FILE *f = fopen(pf, "r");

		if (f) {
			if (fscanf(f, "%u", &port) != 1)
				port = 0;
			fclose(f);
		}
		if (!port)
			usleep(10000);
	}
	ck_assert_msg(port != 0, "delayproxy did not start");
	return port;
}

/* Non-blocking, through both round trips: EAGAIN while the query is out
 * (the callback not called yet) and while the signed request is (called
 * once); a refused key ends in AUTHENTICATION_FAILED after EAGAINs.
 * Through a 20 ms delay, so that every reply keeps us waiting. */
START_TEST(nonblocking_query)
{
	char pub[PATH_MAX + 64];
	struct signer sg = {0};
	void *abstract = &sg;
	int fd, rc, before = 0, after = 0, refused = 0;
	size_t len;
	uint8_t *blob;
	pid_t proxy;
	unsigned port = proxy_start(20, &proxy);
	LIBSSH2_SESSION *s = libssh2_session_init();

	ck_assert_ptr_nonnull(s);
	libssh2_session_set_timeout(s, 20000);
	fd = integ_connect((int)port);
	rc = libssh2_session_handshake(s, fd);
	ck_assert_msg(rc == 0, "handshake: %d %s", rc, integ_errmsg(s));

	/* the service first: its round trip is not the query's */
	ck_assert_ptr_nonnull(
		libssh2_userauth_list(s, user(), (unsigned)strlen(user())));
	libssh2_session_set_blocking(s, 0);

	path_of(pub, sizeof(pub), "stranger", ".pub");
	blob = pub_blob(pub, &len);
	while ((rc = libssh2_userauth_publickey(s, user(), blob, len,
						count_sign, &abstract)) ==
	       LIBSSH2_ERROR_EAGAIN) {
		refused++;
		wait_socket(s, fd);
	}
	ck_assert_msg(rc == LIBSSH2_ERROR_AUTHENTICATION_FAILED,
		      "refused, non-blocking: %d %s", rc, integ_errmsg(s));
	ck_assert_int_gt(refused, 0);
	ck_assert_int_eq(sg.calls, 0);
	free(blob);

	blob = pub_blob(integ_env("SFTPMNT_TEST_PUBKEY"), &len);
	sg.key = load_key(integ_env("SFTPMNT_TEST_KEY"), NULL);
	while ((rc = libssh2_userauth_publickey(s, user(), blob, len,
						count_sign, &abstract)) ==
	       LIBSSH2_ERROR_EAGAIN) {
		ck_assert_int_eq(libssh2_userauth_authenticated(s), 0);
		if (sg.calls)
			after++;
		else
			before++;
		wait_socket(s, fd);
	}
	ck_assert_msg(rc == 0, "accepted, non-blocking: %d %s", rc,
		      integ_errmsg(s));
	ck_assert_int_eq(sg.calls, 1);
	ck_assert_int_gt(before, 0);
	ck_assert_int_gt(after, 0);
	ck_assert_int_eq(libssh2_userauth_authenticated(s), 1);
	libssh2_session_set_blocking(s, 1);
	key_free(&lalloc_system, sg.key);
	free(blob);
	integ_finish(s, fd);
	kill(proxy, SIGTERM);
	waitpid(proxy, NULL, 0);
}
END_TEST

/* ---- keyboard-interactive through PAM -------------------------------- */

struct kbd_seen {
	int calls;
	int name_null, name_len, instr_null, instr_len;
	int nprompts;
	char prompt[64];
	int echo;
};

static LIBSSH2_USERAUTH_KBDINT_RESPONSE_FUNC(kbd_record)
{
	struct kbd_seen *k = *abstract;
	int i;

	if (k->calls++)
		return;
	k->name_null = name == NULL;
	k->name_len = name_len;
	k->instr_null = instruction == NULL;
	k->instr_len = instruction_len;
	k->nprompts = num_prompts;
	if (num_prompts > 0) {
		snprintf(k->prompt, sizeof(k->prompt), "%.*s",
			 (int)prompts[0].length, (const char *)prompts[0].text);
		k->echo = prompts[0].echo;
	}
	/* a password no account has */
	for (i = 0; i < num_prompts; i++) {
		responses[i].text = strdup("not-the-password");
		responses[i].length = (unsigned)strlen(responses[i].text);
	}
}

static void sshd_restart(const char *opts)
{
	ck_assert_int_eq(integ_sh("'%s' restart '%s' %s >/dev/null 2>&1",
				  integ_env("SFTPMNT_FIXTURE"), fixture_dir(),
				  opts),
			 0);
}

static int sh(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* In the parent, after the case, failed or not. */
static void sshd_restore(void)
{
	if (sh("'%s' restart '%s' >/dev/null 2>&1",
	       integ_env("SFTPMNT_FIXTURE"), fixture_dir()))
		fprintf(stderr, "test_auth_query: sshd did not restart\n");
}

/*
 * OpenSSH's PAM conversation sends an INFO_REQUEST with an empty name
 * and instruction and one prompt, "Password: ", echo off.  libssh2
 * 1.11.1 hands empty strings to the callback as NULL with length 0.
 */
START_TEST(kbdint_empty_name_and_instruction)
{
	struct kbd_seen k = {0};
	int fd, rc;
	LIBSSH2_SESSION *s;

	if (access("/etc/pam.d/sshd", R_OK)) {
		fprintf(stderr, "SKIP kbdint: no PAM configuration for "
				"sshd (/etc/pam.d/sshd)\n");
		return;
	}
	sshd_restart("UsePAM=yes KbdInteractiveAuthentication=yes");
	s = integ_connected(&fd);
	*libssh2_session_abstract(s) = &k;
	rc = libssh2_userauth_keyboard_interactive(s, user(), kbd_record);
	ck_assert_msg(rc == LIBSSH2_ERROR_AUTHENTICATION_FAILED,
		      "wrong password: %d %s", rc, integ_errmsg(s));
	ck_assert_int_ge(k.calls, 1);
	ck_assert_msg(k.name_null && k.name_len == 0, "name %s, %d",
		      k.name_null ? "NULL" : "not NULL", k.name_len);
	ck_assert_msg(k.instr_null && k.instr_len == 0, "instruction %s, %d",
		      k.instr_null ? "NULL" : "not NULL", k.instr_len);
	ck_assert_int_eq(k.nprompts, 1);
	ck_assert_str_eq(k.prompt, "Password: ");
	ck_assert_int_eq(k.echo, 0);
	integ_finish(s, fd);
}
END_TEST

/* ---- setup ----------------------------------------------------------- */

/* Outside the tests, where ck_assert may not be used. */
static int sh(const char *fmt, ...)
{
	char cmd[3 * PATH_MAX];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	if (n < 0 || n >= (int)sizeof(cmd))
		return -1;
	return system(cmd);
}

static void keygen(const char *name, const char *args)
{
	char path[PATH_MAX + 64];

	path_of(path, sizeof(path), name, "");
	if (sh("ssh-keygen -q %s -f '%s' </dev/null", args, path)) {
		fprintf(stderr, "ssh-keygen failed\n");
		sh("rm -rf '%s'", tmpdir);
		exit(99);
	}
}

int main(void)
{
	Suite *su = suite_create("auth_query");
	TCase *tc = tcase_create("publickey");
	const char *tmp = getenv("TMPDIR");
	SRunner *sr;
	int failed;

	integ_env("SFTPMNT_TEST_PORT");
	integ_env("SFTPMNT_FIXTURE");
	integ_env("SFTPMNT_FIXTURE_DIR");
	snprintf(tmpdir, sizeof(tmpdir), "%s/sftpmnt-authq.XXXXXX",
		 tmp && *tmp ? tmp : "/tmp");
	if (!mkdtemp(tmpdir)) {
		perror("mkdtemp");
		return 99;
	}
	/* neither is authorized */
	keygen("stranger", "-t ed25519 -N ''");
	keygen("stranger_enc", "-t ed25519 -a 4 -N pw-right");

	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, refused_key_never_signed);
	tcase_add_test(tc, callback_fails_after_pk_ok);
	tcase_add_test(tc, encrypted_refused_without_passphrase);
	tcase_add_test(tc, log_shows_query_first);
	tcase_add_test(tc, nonblocking_query);
	suite_add_tcase(su, tc);
	tc = tcase_create("keyboard-interactive");
	tcase_set_timeout(tc, 60);
	tcase_add_unchecked_fixture(tc, NULL, sshd_restore);
	tcase_add_test(tc, kbdint_empty_name_and_instruction);
	suite_add_tcase(su, tc);
	sr = srunner_create(su);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	sh("rm -rf '%s'", tmpdir);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
