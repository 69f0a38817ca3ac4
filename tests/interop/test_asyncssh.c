/*
 * test_asyncssh.c - interoperability with AsyncSSH (python3-asyncssh), an
 * SSH server written independently of OpenSSH in Python, through the
 * public API only.  The server is tests/interop/asyncssh_server.py (see
 * there for its users, passwords and challenges), started on a free port
 * with throwaway keys and killed at the end (and by PR_SET_PDEATHSIG, or
 * at the end of its standard input, if the test dies).
 *
 * Covered: every key exchange, cipher, MAC and host key algorithm the
 * server offers that the library supports, forced with method_pref; the
 * method list (libssh2_userauth_list); the userauth banner
 * (libssh2_userauth_banner); password right and wrong; keyboard-
 * interactive over three rounds (three prompts with echo off/on/off, an
 * empty round, one prompt) with the callback checking name, instruction,
 * prompts and echo flags; the password change flow
 * (SSH_MSG_USERAUTH_PASSWD_CHANGEREQ, RFC 4252 §8) with
 * LIBSSH2_PASSWD_CHANGEREQ_FUNC: accepted, asked twice, refused, no
 * callback, a callback that gives no password; publickey with Ed25519
 * and RSA (each signature algorithm); AsyncSSH's SFTP server in a virtual
 * chroot: open/write/read/seek, readdir, stat/lstat/fstat/setstat,
 * mkdir/rmdir/unlink, rename (plain and over an existing file), symlink
 * (see symlink_* for the argument order), readlink, realpath, statvfs,
 * fstatvfs, fsync.  Results are checked on the server's disk too.
 */
#define _GNU_SOURCE /* pipe2 */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/time.h>
#include <unistd.h>

#include "libssh2.h"
#include "libssh2_sftp.h"

#include "interop.h"

#ifndef ASYNCSSH_SERVER
#define ASYNCSSH_SERVER "tests/interop/asyncssh_server.py"
#endif
/* Importing asyncssh and making five host keys takes a second or two. */
#define START_TIMEOUT_MS 30000

/* asyncssh_server.py's BANNER */
#define BANNER "sftpmnt interop banner\r\nsecond line\r\n"

static char *tmpdir;
static pid_t main_pid;
static struct interop_server server;
static struct interop_kexinit offer;
static int stdin_w = -1; /* the server exits when this is closed */

static char **kexes, **ciphers, **macs, **hostkeys;
static size_t nkex, ncipher, nmac, nhostkey;

/* ---- helpers ----------------------------------------------------------- */

static char *lpath(char *out, const char *name)
{
	snprintf(out, PATH_MAX, "%s/root/%s", tmpdir, name);
	return out;
}

static void password_auth(struct interop_conn *c)
{
	int rc = libssh2_userauth_password(c->s, "tester", "secret");

	ck_assert_msg(rc == 0, "password: %d %s", rc, interop_errmsg(c->s));
	ck_assert_int_eq(libssh2_userauth_authenticated(c->s), 1);
}

static void check_echo(struct interop_conn *c)
{
	char out[64];
	int rc = interop_exec(c->s, "echo hi there", out, sizeof(out));

	ck_assert_msg(rc == 0, "exec: %d %s", rc, interop_errmsg(c->s));
	ck_assert_str_eq(out, "hi there\n");
}

/* ---- algorithms -------------------------------------------------------- */

START_TEST(server_offer)
{
	ck_assert_msg(!strncmp(offer.ident, "SSH-2.0-AsyncSSH_", 17),
		      "not AsyncSSH: %s", offer.ident);
	ck_assert_uint_ge(nkex, 5);
	ck_assert_uint_ge(ncipher, 4);
	ck_assert_uint_ge(nmac, 4);
	/* the five host keys the script made, RSA with three algorithms */
	ck_assert_uint_ge(nhostkey, 7);
}
END_TEST

/* Password authentication and a command under the new keys. */
static void login(struct interop_conn *c)
{
	password_auth(c);
	check_echo(c);
}

START_TEST(kex_each)
{
	interop_algorithm_case(server.port, KI_KEX, kexes[_i], NULL, tmpdir,
			       login);
}
END_TEST

START_TEST(cipher_each)
{
	interop_algorithm_case(server.port, KI_ENC_CS, ciphers[_i], NULL,
			       tmpdir, login);
}
END_TEST

/* AsyncSSH offers aes128-ctr, a cipher with a separate MAC, since 1.x */
START_TEST(mac_each)
{
	interop_algorithm_case(server.port, KI_MAC_CS, macs[_i], "aes128-ctr",
			       tmpdir, login);
}
END_TEST

START_TEST(hostkey_each)
{
	interop_algorithm_case(server.port, KI_HOSTKEY, hostkeys[_i], NULL,
			       tmpdir, login);
}
END_TEST

/* ---- the method list, the banner, passwords ---------------------------- */

START_TEST(list_and_banner)
{
	struct interop_conn c;
	char *list, *banner = NULL;

	interop_open(&c, server.port, NULL, NULL);
	/* nothing received yet */
	ck_assert_int_eq(libssh2_userauth_banner(c.s, &banner),
			 LIBSSH2_ERROR_MISSING_USERAUTH_BANNER);

	list = libssh2_userauth_list(c.s, "tester", 6);
	ck_assert_msg(list != NULL, "userauth_list: %s", interop_errmsg(c.s));
	ck_assert_msg(interop_list_has(list, "publickey") &&
			      interop_list_has(list, "password") &&
			      interop_list_has(list, "keyboard-interactive"),
		      "method list: %s", list);
	ck_assert_int_eq(libssh2_userauth_authenticated(c.s), 0);

	/* AsyncSSH sends the banner before its answer to the first request */
	ck_assert_int_eq(libssh2_userauth_banner(c.s, &banner), 0);
	ck_assert_ptr_nonnull(banner);
	ck_assert_str_eq(banner, BANNER);

	password_auth(&c);
	/* still there after authentication */
	ck_assert_int_eq(libssh2_userauth_banner(c.s, &banner), 0);
	ck_assert_str_eq(banner, BANNER);
	check_echo(&c);
	interop_close(&c);
}
END_TEST

/*
 * libssh2_userauth_banner's out-parameter, as libssh2 1.11.1 (userauth.c)
 * has it: written only when a banner is there, and may be NULL (the call
 * then only says whether there is one).
 */
START_TEST(banner_out_parameter)
{
	static char unchanged[] = "unchanged";
	struct interop_conn c;
	char *banner = unchanged;

	interop_open(&c, server.port, NULL, NULL);
	ck_assert_int_eq(libssh2_userauth_banner(c.s, &banner),
			 LIBSSH2_ERROR_MISSING_USERAUTH_BANNER);
	ck_assert_msg(banner == unchanged,
		      "*banner was overwritten (%p) though there was none",
		      (void *)banner);
	ck_assert_ptr_nonnull(libssh2_userauth_list(c.s, "tester", 6));
	ck_assert_int_eq(libssh2_userauth_banner(c.s, NULL), 0);
	ck_assert_int_eq(libssh2_userauth_banner(c.s, &banner), 0);
	ck_assert_str_eq(banner, BANNER);
	interop_close(&c);
}
END_TEST

START_TEST(password_wrong_then_right)
{
	struct interop_conn c;
	int rc;

	interop_open(&c, server.port, NULL, NULL);
	rc = libssh2_userauth_password(c.s, "tester", "not-the-password");
	ck_assert_msg(rc == LIBSSH2_ERROR_AUTHENTICATION_FAILED,
		      "wrong password: %d %s", rc, interop_errmsg(c.s));
	ck_assert_int_eq(libssh2_session_last_errno(c.s), rc);
	ck_assert_int_eq(libssh2_userauth_authenticated(c.s), 0);
	rc = libssh2_userauth_password(c.s, "nobody", "secret");
	ck_assert_msg(rc == LIBSSH2_ERROR_AUTHENTICATION_FAILED,
		      "unknown user: %d %s", rc, interop_errmsg(c.s));
	/* the length-taking form, with a password that is not
	 * NUL-terminated where it ends */
	rc = libssh2_userauth_password_ex(c.s, "tester", 6, "secretXYZ", 6,
					  NULL);
	ck_assert_msg(rc == 0, "right password: %d %s", rc,
		      interop_errmsg(c.s));
	ck_assert_int_eq(libssh2_userauth_authenticated(c.s), 1);
	check_echo(&c);
	interop_close(&c);
}
END_TEST

/* ---- keyboard-interactive ---------------------------------------------- */

struct kbd_expect {
	const char *name, *instruction;
	int nprompts;
	const char *prompt[3];
	int echo[3];
	const char *answer[3];
};

/* asyncssh_server.py's KBD_ROUNDS */
static const struct kbd_expect kbd_rounds[] = {
	{"interop-kbd",
	 "Answer three questions",
	 3,
	 {"Password: ", "Colour: ", "PIN: "},
	 {0, 1, 0},
	 {"secret", "blue", "1234"}},
	{"", "Nothing to ask this time", 0, {0}, {0}, {0}},
	{"round three", "", 1, {"Again: "}, {1}, {"again"}},
};
#define KBD_ROUNDS (int)(sizeof(kbd_rounds) / sizeof(kbd_rounds[0]))

struct kbd_state {
	int calls;
	int wrong;	 /* answer wrongly */
	char error[512]; /* the first mismatch seen */
};

static int same(const char *got, int len, const char *want)
{
	return len == (int)strlen(want) &&
	       (!len || !memcmp(got, want, (size_t)len));
}

static void kbd_fail(struct kbd_state *st, const char *what, int round)
{
	if (!st->error[0])
		snprintf(st->error, sizeof(st->error), "round %d: %s", round,
			 what);
}

static LIBSSH2_USERAUTH_KBDINT_RESPONSE_FUNC(kbd_cb)
{
	struct kbd_state *st = *abstract;
	int r = st->calls++, i;
	const struct kbd_expect *e;

	if (r >= KBD_ROUNDS) {
		kbd_fail(st, "too many rounds", r);
		return;
	}
	e = &kbd_rounds[r];
	if (!same(name, name_len, e->name))
		kbd_fail(st, "name", r);
	if (!same(instruction, instruction_len, e->instruction))
		kbd_fail(st, "instruction", r);
	/* as libssh2 1.11.1: an empty string is NULL, and so are the
	 * arrays of a round without prompts */
	if ((name == NULL) != !*e->name)
		kbd_fail(st, "name NULL exactly when empty", r);
	if ((instruction == NULL) != !*e->instruction)
		kbd_fail(st, "instruction NULL exactly when empty", r);
	if (num_prompts != e->nprompts) {
		kbd_fail(st, "number of prompts", r);
		return;
	}
	if ((prompts == NULL) != !num_prompts ||
	    (responses == NULL) != !num_prompts)
		kbd_fail(st, "arrays NULL exactly without prompts", r);
	for (i = 0; i < num_prompts; i++) {
		const char *a = st->wrong ? "wrong" : e->answer[i];

		if (!same((const char *)prompts[i].text, (int)prompts[i].length,
			  e->prompt[i]))
			kbd_fail(st, "prompt text", r);
		if (prompts[i].echo != e->echo[i])
			kbd_fail(st, "echo flag", r);
		/* freed by the library with its allocator (default free) */
		responses[i].text = strdup(a);
		responses[i].length = (unsigned int)strlen(a);
	}
}

START_TEST(kbdint_rounds)
{
	struct kbd_state st = {0};
	struct interop_conn c;
	int rc;

	interop_open(&c, server.port, NULL, NULL);
	*libssh2_session_abstract(c.s) = &st;
	rc = libssh2_userauth_keyboard_interactive(c.s, "tester", kbd_cb);
	ck_assert_msg(!st.error[0], "callback: %s", st.error);
	ck_assert_msg(rc == 0, "keyboard-interactive: %d %s", rc,
		      interop_errmsg(c.s));
	ck_assert_int_eq(st.calls, KBD_ROUNDS);
	ck_assert_int_eq(libssh2_userauth_authenticated(c.s), 1);
	check_echo(&c);
	interop_close(&c);
}
END_TEST

START_TEST(kbdint_wrong_answers)
{
	struct kbd_state st = {.wrong = 1};
	struct interop_conn c;
	int rc;

	interop_open(&c, server.port, NULL, NULL);
	*libssh2_session_abstract(c.s) = &st;
	rc = libssh2_userauth_keyboard_interactive(c.s, "tester", kbd_cb);
	ck_assert_msg(rc == LIBSSH2_ERROR_AUTHENTICATION_FAILED,
		      "wrong answers: %d %s", rc, interop_errmsg(c.s));
	ck_assert_msg(!st.error[0], "callback: %s", st.error);
	ck_assert_int_eq(st.calls, 1);
	ck_assert_int_eq(libssh2_userauth_authenticated(c.s), 0);
	/* another method afterwards */
	password_auth(&c);
	interop_close(&c);
}
END_TEST

/* ---- password change ---------------------------------------------------- */

struct pwchange {
	int calls;
	const char *newpw[4]; /* what to answer at each call; NULL: none */
	LIBSSH2_SESSION *session;
	int bad_args;
};

static LIBSSH2_PASSWD_CHANGEREQ_FUNC(change_cb)
{
	struct pwchange *pc = *abstract;
	const char *pw = pc->calls < 4 ? pc->newpw[pc->calls] : NULL;

	if (session != pc->session || !newpw || !newpw_len)
		pc->bad_args = 1;
	pc->calls++;
	if (!pw)
		return;
	/* freed by the library with its allocator (default free) */
	*newpw = strdup(pw);
	*newpw_len = (int)strlen(pw);
}

static int change_with(struct pwchange *pc, int use_cb)
{
	struct interop_conn c;
	int rc;

	interop_open(&c, server.port, NULL, NULL);
	pc->session = c.s;
	*libssh2_session_abstract(c.s) = pc;
	rc = libssh2_userauth_password_ex(c.s, "expired", 7, "oldpw", 5,
					  use_cb ? change_cb : NULL);
	ck_assert_int_eq(pc->bad_args, 0);
	ck_assert_int_eq(libssh2_userauth_authenticated(c.s), rc == 0);
	if (rc == 0)
		check_echo(&c);
	else
		ck_assert_int_eq(libssh2_session_last_errno(c.s), rc);
	interop_close(&c);
	return rc;
}

START_TEST(password_change_accepted)
{
	struct pwchange pc = {.newpw = {"newpw"}};
	int rc = change_with(&pc, 1);

	ck_assert_msg(rc == 0, "password change: %d", rc);
	ck_assert_int_eq(pc.calls, 1);
}
END_TEST

/* The server asks again (a second PASSWD_CHANGEREQ after the first new
 * password): libssh2 calls the callback again. */
START_TEST(password_change_asked_twice)
{
	struct pwchange pc = {.newpw = {"weak", "newpw"}};
	int rc = change_with(&pc, 1);

	ck_assert_msg(rc == 0, "password change, second try: %d", rc);
	ck_assert_int_eq(pc.calls, 2);
}
END_TEST

START_TEST(password_change_refused)
{
	struct pwchange pc = {.newpw = {"refused"}};
	int rc = change_with(&pc, 1);

	ck_assert_int_eq(rc, LIBSSH2_ERROR_AUTHENTICATION_FAILED);
	ck_assert_int_eq(pc.calls, 1);
}
END_TEST

/* No callback: libssh2 returns LIBSSH2_ERROR_PASSWORD_EXPIRED. */
START_TEST(password_change_no_callback)
{
	struct pwchange pc = {0};
	int rc = change_with(&pc, 0);

	ck_assert_int_eq(rc, LIBSSH2_ERROR_PASSWORD_EXPIRED);
	ck_assert_int_eq(pc.calls, 0);
}
END_TEST

/* A callback that leaves *newpw NULL: LIBSSH2_ERROR_PASSWORD_EXPIRED
 * ("Password expired, and callback failed"). */
START_TEST(password_change_callback_gives_none)
{
	struct pwchange pc = {0};
	int rc = change_with(&pc, 1);

	ck_assert_int_eq(rc, LIBSSH2_ERROR_PASSWORD_EXPIRED);
	ck_assert_int_eq(pc.calls, 1);
}
END_TEST

/* ---- the same, non-blocking --------------------------------------------- */

/* Wait for the direction the session is blocked in; count the waits. */
static void nb_wait(struct interop_conn *c, int *waits)
{
	int d = libssh2_session_block_directions(c->s);
	struct pollfd p = {.fd = c->fd};

	ck_assert_msg(d != 0, "EAGAIN without a block direction");
	p.events = (d & LIBSSH2_SESSION_BLOCK_INBOUND ? POLLIN : 0) |
		   (d & LIBSSH2_SESSION_BLOCK_OUTBOUND ? POLLOUT : 0);
	ck_assert_int_eq(poll(&p, 1, 20000), 1);
	ck_assert_int_lt(++*waits, 100000);
}

/*
 * Password and keyboard-interactive in non-blocking mode: each call after
 * EAGAIN goes on where the last stopped.  A request sent twice, or a
 * callback run twice for one INFO_REQUEST or PASSWD_CHANGEREQ, shows as
 * an extra round, a wrong answer or an extra callback call.
 */
START_TEST(nonblocking_password_and_kbdint)
{
	struct kbd_state st = {0};
	struct pwchange pc = {.newpw = {"weak", "newpw"}};
	struct interop_conn c;
	int rc, waits = 0;

	interop_open(&c, server.port, NULL, NULL);
	libssh2_session_set_blocking(c.s, 0);
	while ((rc = libssh2_userauth_password(c.s, "tester", "wrong")) ==
	       LIBSSH2_ERROR_EAGAIN)
		nb_wait(&c, &waits);
	ck_assert_msg(rc == LIBSSH2_ERROR_AUTHENTICATION_FAILED,
		      "wrong password, non-blocking: %d %s", rc,
		      interop_errmsg(c.s));
	*libssh2_session_abstract(c.s) = &st;
	while ((rc = libssh2_userauth_keyboard_interactive(c.s, "tester",
							   kbd_cb)) ==
	       LIBSSH2_ERROR_EAGAIN)
		nb_wait(&c, &waits);
	ck_assert_msg(!st.error[0], "callback: %s", st.error);
	ck_assert_msg(rc == 0, "keyboard-interactive, non-blocking: %d %s", rc,
		      interop_errmsg(c.s));
	ck_assert_int_eq(st.calls, KBD_ROUNDS);
	ck_assert_int_eq(libssh2_userauth_authenticated(c.s), 1);
	/* (no assertion on waits: a server on this machine may answer
	 * before the call's own read, and a whole exchange then needs no
	 * EAGAIN; CI once saw 0) */
	libssh2_session_set_blocking(c.s, 1);
	check_echo(&c);
	interop_close(&c);

	interop_open(&c, server.port, NULL, NULL);
	pc.session = c.s;
	*libssh2_session_abstract(c.s) = &pc;
	libssh2_session_set_blocking(c.s, 0);
	waits = 0;
	while ((rc = libssh2_userauth_password_ex(c.s, "expired", 7, "oldpw",
						  5, change_cb)) ==
	       LIBSSH2_ERROR_EAGAIN)
		nb_wait(&c, &waits);
	ck_assert_msg(rc == 0, "password change, non-blocking: %d %s", rc,
		      interop_errmsg(c.s));
	ck_assert_int_eq(pc.bad_args, 0);
	ck_assert_int_eq(pc.calls, 2);
	libssh2_session_set_blocking(c.s, 1);
	check_echo(&c);
	interop_close(&c);
}
END_TEST

/* ---- publickey ----------------------------------------------------------- */

/* The signature algorithm of user's last publickey login, as the server
 * recorded it (asyncssh_server.py, DIR/sigalgs.log); NULL if the server
 * could not record it. */
static const char *signed_with(const char *user, char *out, size_t cap)
{
	char path[PATH_MAX], line[256], u[128], alg[128];
	FILE *f;

	snprintf(path, sizeof(path), "%s/sigalgs.log", tmpdir);
	f = fopen(path, "r");
	if (!f) {
		printf("the server records no signature algorithms: "
		       "not checked\n");
		return NULL;
	}
	out[0] = 0;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "%127s %127s", u, alg) == 2 &&
		    !strcmp(u, user))
			snprintf(out, cap, "%s", alg);
	fclose(f);
	return out;
}

START_TEST(publickey_ed25519)
{
	char key[PATH_MAX], pub[PATH_MAX], alg[128];
	const char *got;
	struct interop_conn c;
	int rc;

	snprintf(key, sizeof(key), "%s/user_ed25519", tmpdir);
	snprintf(pub, sizeof(pub), "%s/user_ed25519.pub", tmpdir);
	interop_open(&c, server.port, NULL, NULL);
	rc = libssh2_userauth_publickey_fromfile(c.s, "ed-user", pub, key,
						 NULL);
	ck_assert_msg(rc == 0, "publickey: %d %s", rc, interop_errmsg(c.s));
	check_echo(&c);
	interop_close(&c);
	if ((got = signed_with("ed-user", alg, sizeof(alg))))
		ck_assert_str_eq(got, "ssh-ed25519");
}
END_TEST

/*
 * RSA and the signature algorithm (RFC 8332): AsyncSSH lists
 * rsa-sha2-256, rsa-sha2-512 and ssh-rsa in server-sig-algs, so each
 * preference works.  libssh2 1.11.1 (userauth.c
 * _libssh2_key_sign_algorithm) takes the first name of the
 * LIBSSH2_METHOD_SIGN_ALGO preference, in the caller's order, that the
 * server lists; by default the order is rsa-sha2-512, rsa-sha2-256,
 * ssh-rsa.
 */
static const struct {
	const char *pref; /* NULL: the default */
	const char *want;
} rsa_cases[] = {
	{NULL, "rsa-sha2-512"},
	{"rsa-sha2-512", "rsa-sha2-512"},
	{"rsa-sha2-256", "rsa-sha2-256"},
	{"ssh-rsa", "ssh-rsa"},
	{"rsa-sha2-256,rsa-sha2-512", "rsa-sha2-256"},
};

START_TEST(publickey_rsa)
{
	const char *prefs[INTEROP_NPREFS] = {0}, *got;
	char key[PATH_MAX], user[32], alg[128];
	struct interop_conn c;
	int rc;

	prefs[LIBSSH2_METHOD_SIGN_ALGO] = rsa_cases[_i].pref;
	snprintf(key, sizeof(key), "%s/user_rsa", tmpdir);
	snprintf(user, sizeof(user), "rsa-case-%d", _i);
	interop_open(&c, server.port, prefs, NULL);
	/* the method list first, so that server-sig-algs is known */
	ck_assert_ptr_nonnull(
		libssh2_userauth_list(c.s, user, (unsigned)strlen(user)));
	rc = libssh2_userauth_publickey_fromfile(c.s, user, NULL, key, NULL);
	ck_assert_msg(rc == 0, "RSA, preference %s: %d %s",
		      rsa_cases[_i].pref ? rsa_cases[_i].pref : "(default)", rc,
		      interop_errmsg(c.s));
	check_echo(&c);
	interop_close(&c);
	if ((got = signed_with(user, alg, sizeof(alg))))
		ck_assert_msg(!strcmp(got, rsa_cases[_i].want),
			      "RSA, preference %s: signed with \"%s\", "
			      "want %s",
			      rsa_cases[_i].pref ? rsa_cases[_i].pref
						 : "(default)",
			      got, rsa_cases[_i].want);
}
END_TEST

/* ---- SFTP ---------------------------------------------------------------- */

struct sconn {
	struct interop_conn c;
	LIBSSH2_SFTP *sf;
};

static void sftp_start(struct sconn *sc, const char *banner)
{
	interop_open(&sc->c, server.port, NULL, banner);
	password_auth(&sc->c);
	sc->sf = libssh2_sftp_init(sc->c.s);
	ck_assert_msg(sc->sf != NULL, "sftp_init: %s", interop_errmsg(sc->c.s));
}

static void sftp_finish(struct sconn *sc)
{
	ck_assert_int_eq(libssh2_sftp_shutdown(sc->sf), 0);
	interop_close(&sc->c);
}

/* A failed call: rc is LIBSSH2_ERROR_SFTP_PROTOCOL and the status fx. */
static void want_status(struct sconn *sc, int rc, unsigned long fx,
			const char *what)
{
	ck_assert_msg(rc == LIBSSH2_ERROR_SFTP_PROTOCOL,
		      "%s: rc %d, want an SFTP status", what, rc);
	ck_assert_msg(libssh2_sftp_last_error(sc->sf) == fx,
		      "%s: status %lu, want %lu", what,
		      libssh2_sftp_last_error(sc->sf), fx);
}

static void put_local(const char *name, const char *text)
{
	char p[PATH_MAX];
	int fd = open(lpath(p, name), O_WRONLY | O_CREAT | O_TRUNC, 0644);

	ck_assert_msg(fd >= 0, "%s: %s", p, strerror(errno));
	ck_assert_int_eq(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
}

static LIBSSH2_SFTP_HANDLE *open_or_fail(struct sconn *sc, const char *path,
					 unsigned long flags, long mode,
					 int type)
{
	LIBSSH2_SFTP_HANDLE *h = libssh2_sftp_open_ex(
		sc->sf, path, (unsigned)strlen(path), flags, mode, type);

	ck_assert_msg(h != NULL, "open %s: %s (status %lu)", path,
		      interop_errmsg(sc->c.s), libssh2_sftp_last_error(sc->sf));
	return h;
}

#define RW_SIZE (1024u * 1024 + 777)

START_TEST(sftp_write_read)
{
	LIBSSH2_SFTP_ATTRIBUTES a;
	LIBSSH2_SFTP_HANDLE *h;
	struct sconn sc;
	unsigned char *data = malloc(RW_SIZE), *back = malloc(RW_SIZE), *disk;
	char p[PATH_MAX], small[16];
	size_t i, got = 0, dlen;
	ssize_t n;

	ck_assert(data && back);
	for (i = 0; i < RW_SIZE; i++)
		data[i] = (unsigned char)(i * 31 + (i >> 11));
	sftp_start(&sc, NULL);
	h = open_or_fail(&sc, "/rw.bin",
			 LIBSSH2_FXF_WRITE | LIBSSH2_FXF_CREAT |
				 LIBSSH2_FXF_TRUNC,
			 0640, LIBSSH2_SFTP_OPENFILE);
	for (i = 0; i < RW_SIZE; i += (size_t)n) {
		n = libssh2_sftp_write(h, (char *)data + i, RW_SIZE - i);
		ck_assert_msg(n > 0, "write: %zd %s", n,
			      interop_errmsg(sc.c.s));
	}
	ck_assert_int_eq(libssh2_sftp_fsync(h), 0);
	ck_assert_int_eq(libssh2_sftp_fstat(h, &a), 0);
	ck_assert(a.flags & LIBSSH2_SFTP_ATTR_SIZE);
	ck_assert_uint_eq(a.filesize, RW_SIZE);
	ck_assert_int_eq(libssh2_sftp_close(h), 0);

	disk = (unsigned char *)interop_slurp(lpath(p, "rw.bin"), &dlen);
	ck_assert_uint_eq(dlen, RW_SIZE);
	ck_assert(!memcmp(disk, data, RW_SIZE));
	free(disk);

	h = open_or_fail(&sc, "/rw.bin", LIBSSH2_FXF_READ, 0,
			 LIBSSH2_SFTP_OPENFILE);
	while ((n = libssh2_sftp_read(h, (char *)back + got, RW_SIZE - got)) >
	       0)
		got += (size_t)n;
	ck_assert_msg(n == 0, "read: %zd %s", n, interop_errmsg(sc.c.s));
	ck_assert_uint_eq(got, RW_SIZE);
	ck_assert(!memcmp(back, data, RW_SIZE));
	/* seek and read a few bytes; past the end is EOF */
	libssh2_sftp_seek64(h, 100000);
	ck_assert_uint_eq(libssh2_sftp_tell64(h), 100000);
	ck_assert_int_eq(libssh2_sftp_read(h, small, sizeof(small)),
			 (ssize_t)sizeof(small));
	ck_assert(!memcmp(small, data + 100000, sizeof(small)));
	libssh2_sftp_seek64(h, RW_SIZE + 10);
	ck_assert_int_eq(libssh2_sftp_read(h, small, sizeof(small)), 0);
	ck_assert_int_eq(libssh2_sftp_close(h), 0);

	/* a file that does not exist */
	ck_assert_ptr_null(
		libssh2_sftp_open(sc.sf, "/no-such-file", LIBSSH2_FXF_READ, 0));
	ck_assert_uint_eq(libssh2_sftp_last_error(sc.sf),
			  LIBSSH2_FX_NO_SUCH_FILE);
	sftp_finish(&sc);
	free(data);
	free(back);
}
END_TEST

START_TEST(sftp_readdir)
{
	static const char *const names[] = {"alpha", "beta", "gamma"};
	LIBSSH2_SFTP_ATTRIBUTES a;
	LIBSSH2_SFTP_HANDLE *h;
	struct sconn sc;
	char name[512], longent[1024], p[PATH_MAX], file[64];
	int seen[3] = {0}, others = 0, rc, i;

	sftp_start(&sc, NULL);
	rc = libssh2_sftp_mkdir(sc.sf, "/listing", 0755);
	ck_assert_msg(rc == 0, "mkdir: %d %s", rc, interop_errmsg(sc.c.s));
	for (i = 0; i < 3; i++) {
		snprintf(file, sizeof(file), "listing/%s", names[i]);
		put_local(file, i == 0 ? "a" : i == 1 ? "bb" : "ccc");
	}
	h = open_or_fail(&sc, "/listing", 0, 0, LIBSSH2_SFTP_OPENDIR);
	while ((rc = libssh2_sftp_readdir_ex(h, name, sizeof(name), longent,
					     sizeof(longent), &a)) > 0) {
		ck_assert_int_eq(rc, (int)strlen(name));
		for (i = 0; i < 3; i++)
			if (!strcmp(name, names[i]))
				break;
		if (i == 3) {
			ck_assert_msg(!strcmp(name, ".") || !strcmp(name, ".."),
				      "unexpected entry %s", name);
			others++;
			continue;
		}
		seen[i]++;
		ck_assert(a.flags & LIBSSH2_SFTP_ATTR_SIZE);
		ck_assert_uint_eq(a.filesize, (unsigned)i + 1);
		ck_assert(a.flags & LIBSSH2_SFTP_ATTR_PERMISSIONS);
		ck_assert(LIBSSH2_SFTP_S_ISREG(a.permissions));
		/* the "ls -l" line names the file */
		ck_assert_msg(strstr(longent, names[i]) != NULL, "longentry %s",
			      longent);
	}
	ck_assert_msg(rc == 0, "readdir: %d %s", rc, interop_errmsg(sc.c.s));
	for (i = 0; i < 3; i++)
		ck_assert_int_eq(seen[i], 1);
	ck_assert_int_le(others, 2);
	ck_assert_int_eq(libssh2_sftp_closedir(h), 0);

	/* not empty: rmdir fails; emptied, it goes */
	ck_assert_int_ne(libssh2_sftp_rmdir(sc.sf, "/listing"), 0);
	for (i = 0; i < 3; i++) {
		snprintf(file, sizeof(file), "/listing/%s", names[i]);
		ck_assert_int_eq(libssh2_sftp_unlink(sc.sf, file), 0);
	}
	ck_assert_int_eq(libssh2_sftp_rmdir(sc.sf, "/listing"), 0);
	ck_assert_int_ne(access(lpath(p, "listing"), F_OK), 0);
	want_status(&sc, libssh2_sftp_unlink(sc.sf, "/listing/alpha"),
		    LIBSSH2_FX_NO_SUCH_FILE, "unlink of a missing file");
	sftp_finish(&sc);
}
END_TEST

START_TEST(sftp_stat_setstat)
{
	LIBSSH2_SFTP_ATTRIBUTES a, set;
	LIBSSH2_SFTP_HANDLE *h;
	struct sconn sc;
	struct stat st;
	char p[PATH_MAX];

	put_local("attrs", "twelve bytes");
	ck_assert_int_eq(stat(lpath(p, "attrs"), &st), 0);
	ck_assert_int_eq(symlink("attrs", lpath(p, "attrs-link")), 0);
	sftp_start(&sc, NULL);

	ck_assert_int_eq(libssh2_sftp_stat(sc.sf, "/attrs", &a), 0);
	ck_assert_uint_eq(a.filesize, 12);
	ck_assert_uint_eq(a.permissions, st.st_mode);
	ck_assert_uint_eq(a.uid, st.st_uid);
	ck_assert_uint_eq(a.gid, st.st_gid);
	ck_assert_uint_eq(a.mtime, (unsigned long)st.st_mtime);

	/* lstat sees the link, stat follows it */
	ck_assert_int_eq(libssh2_sftp_lstat(sc.sf, "/attrs-link", &a), 0);
	ck_assert(LIBSSH2_SFTP_S_ISLNK(a.permissions));
	ck_assert_int_eq(libssh2_sftp_stat(sc.sf, "/attrs-link", &a), 0);
	ck_assert(LIBSSH2_SFTP_S_ISREG(a.permissions));
	ck_assert_uint_eq(a.filesize, 12);

	/* setstat: mode and times */
	memset(&set, 0, sizeof(set));
	set.flags = LIBSSH2_SFTP_ATTR_PERMISSIONS | LIBSSH2_SFTP_ATTR_ACMODTIME;
	set.permissions = 0600;
	set.atime = 1000000000;
	set.mtime = 1234567890;
	ck_assert_int_eq(libssh2_sftp_setstat(sc.sf, "/attrs", &set), 0);
	ck_assert_int_eq(stat(p, &st), 0);
	ck_assert_int_eq(stat(lpath(p, "attrs"), &st), 0);
	ck_assert_uint_eq(st.st_mode & 07777, 0600);
	ck_assert_int_eq(st.st_mtime, 1234567890);
	ck_assert_int_eq(st.st_atime, 1000000000);

	/* fsetstat: truncate through a handle; fstat agrees */
	h = open_or_fail(&sc, "/attrs", LIBSSH2_FXF_WRITE, 0,
			 LIBSSH2_SFTP_OPENFILE);
	memset(&set, 0, sizeof(set));
	set.flags = LIBSSH2_SFTP_ATTR_SIZE;
	set.filesize = 5;
	ck_assert_int_eq(libssh2_sftp_fsetstat(h, &set), 0);
	ck_assert_int_eq(libssh2_sftp_fstat(h, &a), 0);
	ck_assert_uint_eq(a.filesize, 5);
	ck_assert_int_eq(libssh2_sftp_close(h), 0);
	ck_assert_int_eq(stat(p, &st), 0);
	ck_assert_int_eq(st.st_size, 5);

	want_status(&sc, libssh2_sftp_stat(sc.sf, "/missing", &a),
		    LIBSSH2_FX_NO_SUCH_FILE, "stat of a missing file");
	sftp_finish(&sc);
}
END_TEST

START_TEST(sftp_mkdir_realpath)
{
	struct sconn sc;
	struct stat st;
	char p[PATH_MAX], out[PATH_MAX];

	sftp_start(&sc, NULL);
	ck_assert_int_eq(libssh2_sftp_mkdir(sc.sf, "/made", 0750), 0);
	ck_assert_int_eq(stat(lpath(p, "made"), &st), 0);
	ck_assert(S_ISDIR(st.st_mode));
	ck_assert_uint_eq(st.st_mode & 0777, 0750 & ~(mode_t)022 & 0750);
	want_status(&sc, libssh2_sftp_mkdir(sc.sf, "/made", 0750),
		    LIBSSH2_FX_FAILURE, "mkdir of an existing directory");

	/* the virtual chroot is "/" */
	ck_assert_int_gt(libssh2_sftp_realpath(sc.sf, ".", out, sizeof(out)),
			 0);
	ck_assert_str_eq(out, "/");
	ck_assert_int_gt(libssh2_sftp_realpath(sc.sf, "/made/../made/.", out,
					       sizeof(out)),
			 0);
	ck_assert_str_eq(out, "/made");
	ck_assert_int_eq(libssh2_sftp_rmdir(sc.sf, "/made"), 0);
	ck_assert_int_ne(access(p, F_OK), 0);
	sftp_finish(&sc);
}
END_TEST

/*
 * rename: SFTP v3 RENAME never replaces (AsyncSSH checks, and answers
 * SSH_FX_FAILURE: its FILE_ALREADY_EXISTS is a v5 code).  The library
 * sends posix-rename@openssh.com, which AsyncSSH offers, when the caller
 * asks for LIBSSH2_SFTP_RENAME_OVERWRITE (the default of
 * libssh2_sftp_rename) - libssh2 itself would send plain RENAME and fail
 * here (lib/sftp.c, libssh2_sftp_rename_ex).
 */
START_TEST(sftp_rename)
{
	struct sconn sc;
	char p[PATH_MAX];
	size_t n;
	char *text;

	put_local("ren-a", "first");
	put_local("ren-b", "second");
	sftp_start(&sc, NULL);
	ck_assert_int_eq(
		libssh2_sftp_rename_ex(sc.sf, "/ren-a", 6, "/ren-c", 6, 0), 0);
	ck_assert_int_ne(access(lpath(p, "ren-a"), F_OK), 0);
	text = interop_slurp(lpath(p, "ren-c"), &n);
	ck_assert_str_eq(text, "first");
	free(text);

	want_status(&sc,
		    libssh2_sftp_rename_ex(sc.sf, "/ren-c", 6, "/ren-b", 6, 0),
		    LIBSSH2_FX_FAILURE, "plain rename over an existing file");
	text = interop_slurp(lpath(p, "ren-b"), &n);
	ck_assert_str_eq(text, "second");
	free(text);

	ck_assert_int_eq(libssh2_sftp_rename(sc.sf, "/ren-c", "/ren-b"), 0);
	text = interop_slurp(lpath(p, "ren-b"), &n);
	ck_assert_str_eq(text, "first");
	free(text);
	ck_assert_int_ne(access(lpath(p, "ren-c"), F_OK), 0);
	want_status(&sc, libssh2_sftp_rename(sc.sf, "/ren-c", "/ren-d"),
		    LIBSSH2_FX_NO_SUCH_FILE, "rename of a missing file");
	sftp_finish(&sc);
}
END_TEST

/*
 * SSH_FXP_SYMLINK's argument order.  filexfer-02 says (linkpath,
 * targetpath); OpenSSH's sftp-server reads (targetpath, linkpath)
 * (OpenSSH PROTOCOL §3.1), and libssh2 - libssh2_sftp_symlink(sftp,
 * target, linkpath) - sends OpenSSH's order to every server.  AsyncSSH's
 * server (sftp.py, SFTPServerHandler._process_symlink) reads the draft's
 * order, unless the client's identification string contains "OpenSSH" or
 * "paramiko" (_nonstandard_symlink_impls), the two clients known to send
 * the reversed order.  Real libssh2 1.11.1 gets the link and the target
 * swapped there; ours sees the server's banner and sends the draft's
 * order to it (sftp_core_symlink_draft), so against AsyncSSH:
 *
 *   - a client with libssh2's own banner gets what it asked for;
 *   - so does a client whose banner names OpenSSH (OpenSSH's order).
 *
 * Absolute targets are used: AsyncSSH's chroot maps them into the root
 * on creation and back on readlink, while its readlink of a relative
 * target fails (reverse_map_path raises SFTPNoSuchFile in 2.10).
 */
START_TEST(symlink_libssh2_banner)
{
	struct sconn sc;
	struct stat st;
	char p[PATH_MAX], want[PATH_MAX], got[PATH_MAX];
	ssize_t n;

	sftp_start(&sc, NULL);
	/* asked: /sl-link -> /sl-target (neither exists) */
	ck_assert_int_eq(libssh2_sftp_symlink(sc.sf, "/sl-target", "/sl-link"),
			 0);
	/* got: that, not the names swapped */
	ck_assert_int_ne(lstat(lpath(p, "sl-target"), &st), 0);
	ck_assert_int_eq(lstat(lpath(p, "sl-link"), &st), 0);
	ck_assert(S_ISLNK(st.st_mode));
	n = readlink(p, got, sizeof(got) - 1);
	ck_assert_int_gt(n, 0);
	got[n] = 0;
	ck_assert_ptr_nonnull(realpath(lpath(p, ""), want));
	strcat(want, "/sl-target");
	ck_assert_str_eq(got, want);
	ck_assert_int_gt(
		libssh2_sftp_readlink(sc.sf, "/sl-link", got, sizeof(got)),
		0);
	ck_assert_str_eq(got, "/sl-target");
	ck_assert_int_eq(libssh2_sftp_unlink(sc.sf, "/sl-link"), 0);
	sftp_finish(&sc);
}
END_TEST

#define OPENSSH_BANNER "SSH-2.0-OpenSSH_9.2p1 sftpmnt-interop"

START_TEST(symlink_openssh_banner)
{
	LIBSSH2_SFTP_ATTRIBUTES a;
	struct sconn sc;
	struct stat st;
	char p[PATH_MAX], got[PATH_MAX];

	put_local("os-target", "the target");
	sftp_start(&sc, OPENSSH_BANNER);
	ck_assert_int_eq(libssh2_sftp_symlink(sc.sf, "/os-target", "/os-link"),
			 0);
	ck_assert_int_eq(lstat(lpath(p, "os-link"), &st), 0);
	ck_assert(S_ISLNK(st.st_mode));
	ck_assert_int_eq(stat(p, &st), 0);
	ck_assert_int_eq(st.st_size, 10);

	/* readlink, realpath and stat through the link */
	ck_assert_int_gt(
		libssh2_sftp_readlink(sc.sf, "/os-link", got, sizeof(got)), 0);
	ck_assert_str_eq(got, "/os-target");
	ck_assert_int_gt(
		libssh2_sftp_realpath(sc.sf, "/os-link", got, sizeof(got)), 0);
	ck_assert_str_eq(got, "/os-target");
	ck_assert_int_eq(libssh2_sftp_stat(sc.sf, "/os-link", &a), 0);
	ck_assert_uint_eq(a.filesize, 10);

	/* a link where a file exists fails */
	ck_assert_int_ne(libssh2_sftp_symlink(sc.sf, "/x", "/os-target"), 0);
	/* readlink of a file that is not a link */
	ck_assert_int_lt(
		libssh2_sftp_readlink(sc.sf, "/os-target", got, sizeof(got)),
		0);
	ck_assert_int_eq(libssh2_sftp_unlink(sc.sf, "/os-link"), 0);
	ck_assert_int_eq(lstat(lpath(p, "os-link"), &st), -1);
	sftp_finish(&sc);
}
END_TEST

/* OpenSSH extensions AsyncSSH's server does not announce: each call says
 * METHOD_NOT_SUPPORTED without sending anything, and the session goes
 * on. */
START_TEST(sftp_extensions_unsupported)
{
	struct sconn sc;
	LIBSSH2_SFTP_ATTRIBUTES a = { .flags = LIBSSH2_SFTP_ATTR_PERMISSIONS,
				      .permissions = 0644 };
	LIBSSH2_SFTP_HANDLE *h1, *h2;
	const unsigned long id0 = 0;
	char out[256];

	sftp_start(&sc, NULL);
	ck_assert_int_eq(libssh2_sftp_expand_path(sc.sf, "~", out, sizeof(out)),
			 LIBSSH2_ERROR_METHOD_NOT_SUPPORTED);
	ck_assert_int_eq(libssh2_sftp_home_directory(sc.sf, "", out,
						     sizeof(out)),
			 LIBSSH2_ERROR_METHOD_NOT_SUPPORTED);
	ck_assert_int_eq(libssh2_sftp_users_groups_by_id(sc.sf, &id0, 1, NULL,
							 0, out, sizeof(out)),
			 LIBSSH2_ERROR_METHOD_NOT_SUPPORTED);
	ck_assert_int_eq(libssh2_sftp_lsetstat(sc.sf, "/", &a),
			 LIBSSH2_ERROR_METHOD_NOT_SUPPORTED);
	h1 = open_or_fail(&sc, "/ext-a",
			  LIBSSH2_FXF_WRITE | LIBSSH2_FXF_CREAT, 0644,
			  LIBSSH2_SFTP_OPENFILE);
	h2 = open_or_fail(&sc, "/ext-b",
			  LIBSSH2_FXF_WRITE | LIBSSH2_FXF_CREAT, 0644,
			  LIBSSH2_SFTP_OPENFILE);
	ck_assert_int_eq(libssh2_sftp_copy_data(h1, 0, 0, h2, 0),
			 LIBSSH2_ERROR_METHOD_NOT_SUPPORTED);
	ck_assert_int_eq(libssh2_sftp_close(h1), 0);
	ck_assert_int_eq(libssh2_sftp_close(h2), 0);
	/* what it does announce still works */
	ck_assert_int_gt(libssh2_sftp_realpath(sc.sf, ".", out, sizeof(out)),
			 0);
	sftp_finish(&sc);
}
END_TEST

START_TEST(sftp_statvfs)
{
	LIBSSH2_SFTP_STATVFS v;
	LIBSSH2_SFTP_HANDLE *h;
	struct statvfs lv;
	struct sconn sc;
	char p[PATH_MAX];
	int rc;

	ck_assert_int_eq(statvfs(lpath(p, ""), &lv), 0);
	put_local("vfs", "x");
	sftp_start(&sc, NULL);
	rc = libssh2_sftp_statvfs(sc.sf, "/", 1, &v);
	ck_assert_msg(rc == 0, "statvfs: %d %s (status %lu)", rc,
		      interop_errmsg(sc.c.s), libssh2_sftp_last_error(sc.sf));
	ck_assert_uint_eq(v.f_bsize, lv.f_bsize);
	ck_assert_uint_eq(v.f_frsize, lv.f_frsize);
	ck_assert_uint_eq(v.f_blocks, lv.f_blocks);
	ck_assert_uint_eq(v.f_namemax, lv.f_namemax);
	h = open_or_fail(&sc, "/vfs", LIBSSH2_FXF_READ, 0,
			 LIBSSH2_SFTP_OPENFILE);
	rc = libssh2_sftp_fstatvfs(h, &v);
	ck_assert_msg(rc == 0, "fstatvfs: %d %s", rc, interop_errmsg(sc.c.s));
	ck_assert_uint_eq(v.f_blocks, lv.f_blocks);
	ck_assert_int_eq(libssh2_sftp_close(h), 0);
	want_status(&sc, libssh2_sftp_statvfs(sc.sf, "/missing", 8, &v),
		    LIBSSH2_FX_NO_SUCH_FILE, "statvfs of a missing path");
	sftp_finish(&sc);
}
END_TEST

/* ---- main -------------------------------------------------------------- */

static void cleanup(void)
{
	if (getpid() != main_pid)
		return;
	if (stdin_w >= 0)
		close(stdin_w);
	interop_stop(&server);
	interop_rmtree(tmpdir);
}

/* A Python with asyncssh: $SFTPMNT_PYTHON, Debian's /usr/bin/python3 (a
 * python3 earlier in $PATH may lack the Debian package's modules), or
 * python3 from $PATH. */
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
		if (interop_system("'%s' -W ignore -c 'import asyncssh' "
				   ">/dev/null 2>&1 || exit 1",
				   found) == 0)
			return found;
	}
	return NULL;
}

static void start_server(const char *python, const char *script)
{
	char log[PATH_MAX], portf[PATH_MAX];
	char *argv[] = {(char *)python, "-W",	"ignore",
			(char *)script, tmpdir, NULL};
	int fds[2], i;
	FILE *f;

	snprintf(log, sizeof(log), "%s/server.log", tmpdir);
	snprintf(portf, sizeof(portf), "%s/port", tmpdir);
	if (pipe2(fds, O_CLOEXEC)) {
		perror("pipe");
		exit(99);
	}
	interop_spawn(&server, argv, log, fds[0], NULL, NULL);
	close(fds[0]);
	stdin_w = fds[1];
	for (i = 0; i < START_TIMEOUT_MS / 20 && access(portf, F_OK); i++) {
		if (!interop_alive(&server))
			break;
		usleep(20000);
	}
	f = fopen(portf, "r");
	if (!f || fscanf(f, "%d", &server.port) != 1) {
		fprintf(stderr, "the AsyncSSH server did not start\n");
		interop_log_tail(&server, 40);
		exit(99);
	}
	fclose(f);
}

static char **supported(int ki, int type, const char *what, size_t *n)
{
	return interop_supported_print("asyncssh", what, offer.list[ki], type, n);
}

int main(void)
{
	const char *python, *script = getenv("SFTPMNT_ASYNCSSH_SERVER");
	Suite *su = suite_create("asyncssh");
	TCase *tc = tcase_create("asyncssh");
	SRunner *sr;
	int failed;

	setvbuf(stdout, NULL, _IOLBF, 0);
	python = find_python();
	if (!python) {
		printf("SKIP: no python3 with asyncssh (Debian package "
		       "python3-asyncssh)\n");
		return 77;
	}
	if (!script || !*script)
		script = ASYNCSSH_SERVER;
	if (access(script, R_OK)) {
		fprintf(stderr, "%s: %s\n", script, strerror(errno));
		return 99;
	}
	main_pid = getpid();
	tmpdir = interop_mkdtemp("asyncssh");
	atexit(cleanup);
	start_server(python, script);
	if (interop_probe_kexinit(server.port, &offer)) {
		fprintf(stderr, "could not read the server's KEXINIT\n");
		return 99;
	}
	printf("server: %s (%s)\n", offer.ident, python);
	kexes = supported(KI_KEX, LIBSSH2_METHOD_KEX, "kex", &nkex);
	hostkeys = supported(KI_HOSTKEY, LIBSSH2_METHOD_HOSTKEY, "host keys",
			     &nhostkey);
	ciphers = supported(KI_ENC_CS, LIBSSH2_METHOD_CRYPT_CS, "ciphers",
			    &ncipher);
	macs = supported(KI_MAC_CS, LIBSSH2_METHOD_MAC_CS, "MACs", &nmac);

	tcase_set_timeout(tc, 300);
	tcase_add_test(tc, server_offer);
	tcase_add_loop_test(tc, kex_each, 0, (int)nkex);
	tcase_add_loop_test(tc, cipher_each, 0, (int)ncipher);
	tcase_add_loop_test(tc, mac_each, 0, (int)nmac);
	tcase_add_loop_test(tc, hostkey_each, 0, (int)nhostkey);
	tcase_add_test(tc, list_and_banner);
	tcase_add_test(tc, banner_out_parameter);
	tcase_add_test(tc, password_wrong_then_right);
	tcase_add_test(tc, kbdint_rounds);
	tcase_add_test(tc, kbdint_wrong_answers);
	tcase_add_test(tc, password_change_accepted);
	tcase_add_test(tc, password_change_asked_twice);
	tcase_add_test(tc, password_change_refused);
	tcase_add_test(tc, password_change_no_callback);
	tcase_add_test(tc, password_change_callback_gives_none);
	tcase_add_test(tc, nonblocking_password_and_kbdint);
	tcase_add_test(tc, publickey_ed25519);
	tcase_add_loop_test(tc, publickey_rsa, 0,
			    (int)(sizeof(rsa_cases) / sizeof(rsa_cases[0])));
	tcase_add_test(tc, sftp_write_read);
	tcase_add_test(tc, sftp_readdir);
	tcase_add_test(tc, sftp_stat_setstat);
	tcase_add_test(tc, sftp_mkdir_realpath);
	tcase_add_test(tc, sftp_rename);
	tcase_add_test(tc, symlink_libssh2_banner);
	tcase_add_test(tc, symlink_openssh_banner);
	tcase_add_test(tc, sftp_statvfs);
	tcase_add_test(tc, sftp_extensions_unsupported);
	suite_add_tcase(su, tc);
	sr = srunner_create(su);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);

	if (failed)
		interop_log_tail(&server, 40);
	interop_kexinit_free(&offer);
	interop_strv_free(kexes);
	interop_strv_free(hostkeys);
	interop_strv_free(ciphers);
	interop_strv_free(macs);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
