/*
 * test_auth.c - user authentication against the real test sshd, through
 * the public API only (libssh2.h): the method list before
 * authentication, publickey from a file (with and without the public key
 * file) and from memory, refused keys, missing files, password and
 * keyboard-interactive refused by a server that only takes public keys,
 * libssh2_userauth_publickey with a sign callback that asks an ssh-agent
 * (spoken to over its socket, as any libssh2 user could), a
 * non-blocking authentication in a poll loop, and every user key type
 * ssh-keygen makes: Ed25519, ECDSA 256/384/521 and RSA 2048/4096, in the
 * OpenSSH format, PEM and PKCS#8, plain and encrypted, with the right
 * and the wrong passphrase; the public key file, when given, as the key
 * offered (garbage, another key's, an OpenSSH certificate accepted
 * through TrustedUserCAKeys, another key's certificate).
 *
 * The keys are made with ssh-keygen once, in main(), in a private
 * temporary directory; their .pub files are added to the fixture's
 * authorized_keys.  One key ("stranger") is deliberately not.
 */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "libssh2.h"

#include "integ.h"

static char tmpdir[PATH_MAX];
static char agent_sock[sizeof(((struct sockaddr_un *)0)->sun_path)];
static pid_t agent_pid;

/* ---- the user keys made for this run ------------------------------------ */

struct ukey {
	const char *name;
	const char *keygen; /* ssh-keygen arguments */
	const char *pass;   /* NULL: unencrypted */
};

static const struct ukey ukeys[] = {
	{"ed25519_enc", "-t ed25519 -a 4", "pw"},
	{"ecdsa256", "-t ecdsa -b 256", NULL},
	{"ecdsa256_enc", "-t ecdsa -b 256 -a 4", "pw"},
	{"ecdsa384", "-t ecdsa -b 384", NULL},
	{"ecdsa384_enc", "-t ecdsa -b 384 -a 4", "pw"},
	{"ecdsa521", "-t ecdsa -b 521", NULL},
	{"ecdsa521_enc", "-t ecdsa -b 521 -a 4", "pw"},
	{"rsa2048", "-t rsa -b 2048", NULL},
	{"rsa2048_enc", "-t rsa -b 2048 -a 4", "pw"},
	{"rsa4096", "-t rsa -b 4096", NULL},
	{"rsa4096_enc", "-t rsa -b 4096 -a 4", "pw"},
	/* the older file formats libssh2 reads too */
	{"rsa_pem", "-t rsa -b 2048 -m PEM", NULL},
	/* ssh-keygen wants 5 characters for PEM and PKCS#8 passphrases */
	{"rsa_pem_enc", "-t rsa -b 2048 -m PEM", "secret"},
	{"rsa4096_pem_enc", "-t rsa -b 4096 -m PEM", "secret"},
	{"ecdsa256_pem", "-t ecdsa -b 256 -m PEM", NULL},
	{"ecdsa256_pem_enc", "-t ecdsa -b 256 -m PEM", "secret"},
	{"ecdsa384_pem", "-t ecdsa -b 384 -m PEM", NULL},
	{"ecdsa384_pem_enc", "-t ecdsa -b 384 -m PEM", "secret"},
	{"ecdsa521_pem", "-t ecdsa -b 521 -m PEM", NULL},
	{"ecdsa521_pem_enc", "-t ecdsa -b 521 -m PEM", "secret"},
	{"rsa_pkcs8", "-t rsa -b 2048 -m PKCS8", NULL},
	{"rsa_pkcs8_enc", "-t rsa -b 2048 -m PKCS8", "secret"},
	{"rsa4096_pkcs8", "-t rsa -b 4096 -m PKCS8", NULL},
	{"ecdsa256_pkcs8", "-t ecdsa -b 256 -m PKCS8", NULL},
	{"ecdsa256_pkcs8_enc", "-t ecdsa -b 256 -m PKCS8", "secret"},
	{"ecdsa384_pkcs8", "-t ecdsa -b 384 -m PKCS8", NULL},
	{"ecdsa384_pkcs8_enc", "-t ecdsa -b 384 -m PKCS8", "secret"},
	{"ecdsa521_pkcs8", "-t ecdsa -b 521 -m PKCS8", NULL},
	{"ecdsa521_pkcs8_enc", "-t ecdsa -b 521 -m PKCS8", "secret"},
	/* ssh-keygen writes Ed25519 keys in its own format whatever -m
	 * says; the fixture's key is the plain one */
	{"ed25519_pem_asked", "-t ed25519 -m PEM", NULL},
};
#define NUKEYS (int)(sizeof(ukeys) / sizeof(ukeys[0]))

static void key_path(char *out, size_t cap, const char *name, const char *ext)
{
	snprintf(out, cap, "%s/%s%s", tmpdir, name, ext);
}

static void cleanup_and_fail(void)
{
	char cmd[PATH_MAX + 32];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
	if (system(cmd))
		fprintf(stderr, "could not remove %s\n", tmpdir);
	exit(99);
}

static int run(const char *cmd)
{
	int rc = system(cmd);

	if (rc != 0)
		fprintf(stderr, "command failed (%d): %s\n", rc, cmd);
	return rc;
}

static void keygen(const char *name, const char *args, const char *pass)
{
	char path[PATH_MAX + 64], cmd[3 * PATH_MAX];

	key_path(path, sizeof(path), name, "");
	snprintf(cmd, sizeof(cmd),
		 "ssh-keygen -q %s -N '%s' -C 'test-%s' -f '%s' </dev/null",
		 args, pass ? pass : "", name, path);
	if (run(cmd))
		cleanup_and_fail();
}

static void authorize(const char *name)
{
	char path[PATH_MAX + 64], cmd[3 * PATH_MAX];

	key_path(path, sizeof(path), name, ".pub");
	snprintf(cmd, sizeof(cmd), "cat '%s' >> '%s/authorized_keys'", path,
		 integ_env("SFTPMNT_FIXTURE_DIR"));
	if (run(cmd))
		cleanup_and_fail();
}

static const char *user(void);

/* A key, not authorized, with a certificate for the test user signed by
 * the CA "ca" (name-cert.pub). */
static void certify(const char *name, const char *args, const char *pass)
{
	char path[PATH_MAX + 64], ca[PATH_MAX + 64], cmd[4 * PATH_MAX];

	keygen(name, args, pass);
	key_path(path, sizeof(path), name, ".pub");
	key_path(ca, sizeof(ca), "ca", "");
	snprintf(cmd, sizeof(cmd),
		 "ssh-keygen -q -s '%s' -I 'test-%s' -n '%s' '%s' "
		 "</dev/null >/dev/null 2>&1",
		 ca, name, user(), path);
	if (run(cmd))
		cleanup_and_fail();
}

/* ---- session helpers ------------------------------------------------------
 */

static const char *user(void)
{
	return integ_env("SFTPMNT_TEST_USER");
}

static const char *errmsg(LIBSSH2_SESSION *s)
{
	char *m = NULL;

	libssh2_session_last_error(s, &m, NULL, 0);
	return m ? m : "(none)";
}

static LIBSSH2_SESSION *start(int *fd)
{
	LIBSSH2_SESSION *s = libssh2_session_init();
	int rc;

	ck_assert_ptr_nonnull(s);
	libssh2_session_set_timeout(s, 20000);
	*fd = integ_connect(0);
	rc = libssh2_session_handshake(s, *fd);
	ck_assert_msg(rc == 0, "handshake: %d %s", rc, errmsg(s));
	return s;
}

static void finish(LIBSSH2_SESSION *s, int fd)
{
	ck_assert_int_eq(libssh2_session_disconnect(s, "test done"), 0);
	ck_assert_int_eq(libssh2_session_free(s), 0);
	close(fd);
}

/* The session works after authentication: a channel opens and runs. */
static void check_usable(LIBSSH2_SESSION *s)
{
	LIBSSH2_CHANNEL *c = libssh2_channel_open_session(s);
	char buf[64];
	ssize_t n, got = 0;

	ck_assert_msg(c != NULL, "channel after auth: %s", errmsg(s));
	ck_assert_int_eq(libssh2_channel_exec(c, "echo authed"), 0);
	while ((n = libssh2_channel_read(c, buf + got,
					 sizeof(buf) - 1 - (size_t)got)) > 0)
		got += n;
	ck_assert_int_ge(n, 0);
	buf[got] = 0;
	ck_assert_str_eq(buf, "authed\n");
	ck_assert_int_eq(libssh2_channel_close(c), 0);
	ck_assert_int_eq(libssh2_channel_free(c), 0);
}

static char *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *buf;
	long n;

	ck_assert_msg(f != NULL, "%s: %s", path, strerror(errno));
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

/* ---- the method list and the fixture key -----------------------------------
 */

START_TEST(list_then_fromfile_with_pubkey)
{
	int fd;
	LIBSSH2_SESSION *s = start(&fd);
	const char *u = user();
	char *list;

	ck_assert_int_eq(libssh2_userauth_authenticated(s), 0);
	list = libssh2_userauth_list(s, u, (unsigned int)strlen(u));
	ck_assert_msg(list != NULL, "userauth_list: %s", errmsg(s));
	/* PasswordAuthentication and KbdInteractiveAuthentication are off */
	ck_assert_str_eq(list, "publickey");
	ck_assert_int_eq(libssh2_userauth_authenticated(s), 0);
	/* asking twice is harmless */
	list = libssh2_userauth_list(s, u, (unsigned int)strlen(u));
	ck_assert_ptr_nonnull(list);
	ck_assert_ptr_nonnull(strstr(list, "publickey"));

	ck_assert_msg(libssh2_userauth_publickey_fromfile(
			      s, u, integ_env("SFTPMNT_TEST_PUBKEY"),
			      integ_env("SFTPMNT_TEST_KEY"), NULL) == 0,
		      "publickey_fromfile: %s", errmsg(s));
	ck_assert_int_eq(libssh2_userauth_authenticated(s), 1);
	check_usable(s);
	finish(s, fd);
}
END_TEST

START_TEST(fromfile_without_pubkey)
{
	int fd;
	LIBSSH2_SESSION *s = start(&fd);
	const char *u = user();
	int rc;

	/* no userauth_list first: publickey straight away */
	rc = libssh2_userauth_publickey_fromfile_ex(
		s, u, (unsigned int)strlen(u), NULL,
		integ_env("SFTPMNT_TEST_KEY"), NULL);
	ck_assert_msg(rc == 0, "fromfile(NULL pub): %d %s", rc, errmsg(s));
	ck_assert_int_eq(libssh2_userauth_authenticated(s), 1);
	check_usable(s);
	finish(s, fd);
}
END_TEST

START_TEST(frommemory)
{
	int fd, rc;
	LIBSSH2_SESSION *s;
	const char *u = user();
	size_t plen, klen;
	char *pub = slurp(integ_env("SFTPMNT_TEST_PUBKEY"), &plen);
	char *key = slurp(integ_env("SFTPMNT_TEST_KEY"), &klen);

	/* with the public key data */
	s = start(&fd);
	rc = libssh2_userauth_publickey_frommemory(s, u, strlen(u), pub, plen,
						   key, klen, NULL);
	ck_assert_msg(rc == 0, "frommemory: %d %s", rc, errmsg(s));
	ck_assert_int_eq(libssh2_userauth_authenticated(s), 1);
	check_usable(s);
	finish(s, fd);

	/* without it (libssh2 derives it from the private key) */
	s = start(&fd);
	rc = libssh2_userauth_publickey_frommemory(s, u, strlen(u), NULL, 0,
						   key, klen, NULL);
	ck_assert_msg(rc == 0, "frommemory(no pub): %d %s", rc, errmsg(s));
	ck_assert_int_eq(libssh2_userauth_authenticated(s), 1);
	finish(s, fd);

	/* garbage is LIBSSH2_ERROR_FILE from memory (libssh2 1.11.1:
	 * "Unsupported private key file format"; 1.10 said PROTO), no data
	 * at all too ("Invalid data in public and private key"), and the
	 * session stays usable */
	s = start(&fd);
	rc = libssh2_userauth_publickey_frommemory(s, u, strlen(u), NULL, 0,
						   "not a key\n", 10, NULL);
	ck_assert_msg(rc == LIBSSH2_ERROR_FILE, "garbage key: %d %s", rc,
		      errmsg(s));
	rc = libssh2_userauth_publickey_frommemory(s, u, strlen(u), NULL, 0,
						   key, 0, NULL);
	ck_assert_msg(rc == LIBSSH2_ERROR_FILE, "no key data: %d %s", rc,
		      errmsg(s));
	ck_assert_int_eq(libssh2_userauth_authenticated(s), 0);
	rc = libssh2_userauth_publickey_frommemory(s, u, strlen(u), NULL, 0,
						   key, klen, NULL);
	ck_assert_msg(rc == 0, "frommemory after garbage: %d %s", rc,
		      errmsg(s));
	finish(s, fd);
	free(pub);
	free(key);
}
END_TEST

/* ---- refusals
 * ---------------------------------------------------------------- */

START_TEST(unknown_key_refused)
{
	char key[PATH_MAX + 64], pub[PATH_MAX + 64];
	const char *u = user();
	int fd, rc;
	LIBSSH2_SESSION *s = start(&fd);

	key_path(key, sizeof(key), "stranger", "");
	key_path(pub, sizeof(pub), "stranger", ".pub");
	rc = libssh2_userauth_publickey_fromfile(s, u, pub, key, NULL);
	ck_assert_msg(rc == LIBSSH2_ERROR_PUBLICKEY_UNVERIFIED ||
			      rc == LIBSSH2_ERROR_AUTHENTICATION_FAILED,
		      "stranger key: %d %s", rc, errmsg(s));
	ck_assert_int_eq(libssh2_session_last_errno(s), rc);
	ck_assert_int_eq(libssh2_userauth_authenticated(s), 0);
	/* again, without the public key file */
	rc = libssh2_userauth_publickey_fromfile(s, u, NULL, key, NULL);
	ck_assert_msg(rc == LIBSSH2_ERROR_PUBLICKEY_UNVERIFIED ||
			      rc == LIBSSH2_ERROR_AUTHENTICATION_FAILED,
		      "stranger key (no pub): %d %s", rc, errmsg(s));
	/* a refusal is not the end of the session: the right key works */
	rc = libssh2_userauth_publickey_fromfile(
		s, u, NULL, integ_env("SFTPMNT_TEST_KEY"), NULL);
	ck_assert_msg(rc == 0, "right key after refusal: %d %s", rc, errmsg(s));
	ck_assert_int_eq(libssh2_userauth_authenticated(s), 1);
	check_usable(s);
	finish(s, fd);
}
END_TEST

START_TEST(wrong_user_refused)
{
	int fd, rc;
	LIBSSH2_SESSION *s = start(&fd);

	rc = libssh2_userauth_publickey_fromfile(
		s, "no-such-user-sftpmnt", NULL, integ_env("SFTPMNT_TEST_KEY"),
		NULL);
	ck_assert_msg(rc == LIBSSH2_ERROR_PUBLICKEY_UNVERIFIED ||
			      rc == LIBSSH2_ERROR_AUTHENTICATION_FAILED,
		      "unknown user: %d %s", rc, errmsg(s));
	ck_assert_int_eq(libssh2_userauth_authenticated(s), 0);
	finish(s, fd);
}
END_TEST

START_TEST(missing_key_file)
{
	char *banner = (char *)"unchanged";
	char missing[PATH_MAX + 64];
	const char *u = user();
	int fd, rc;
	LIBSSH2_SESSION *s = start(&fd);

	/* libssh2 1.11.1 answers a NULL session so, touching nothing */
	ck_assert_int_eq(libssh2_userauth_banner(NULL, &banner),
			 LIBSSH2_ERROR_MISSING_USERAUTH_BANNER);
	ck_assert_str_eq(banner, "unchanged");

	key_path(missing, sizeof(missing), "does-not-exist", "");
	rc = libssh2_userauth_publickey_fromfile(s, u, NULL, missing, NULL);
	ck_assert_msg(rc == LIBSSH2_ERROR_FILE, "missing key: %d %s", rc,
		      errmsg(s));
	ck_assert_int_eq(libssh2_session_last_errno(s), LIBSSH2_ERROR_FILE);
	/* a public key file that does not exist, with a good private key */
	key_path(missing, sizeof(missing), "does-not-exist", ".pub");
	rc = libssh2_userauth_publickey_fromfile(
		s, u, missing, integ_env("SFTPMNT_TEST_KEY"), NULL);
	ck_assert_msg(rc == LIBSSH2_ERROR_FILE, "missing pub: %d %s", rc,
		      errmsg(s));
	/* a directory is not a key file */
	rc = libssh2_userauth_publickey_fromfile(s, u, NULL, tmpdir, NULL);
	ck_assert_msg(rc == LIBSSH2_ERROR_FILE, "directory: %d %s", rc,
		      errmsg(s));
	ck_assert_int_eq(libssh2_userauth_authenticated(s), 0);
	/* and the session still authenticates */
	rc = libssh2_userauth_publickey_fromfile(
		s, u, NULL, integ_env("SFTPMNT_TEST_KEY"), NULL);
	ck_assert_msg(rc == 0, "after missing file: %d %s", rc, errmsg(s));
	finish(s, fd);
}
END_TEST

static int kbd_calls;

static void kbd_cb(const char *name, int name_len, const char *instruction,
		   int instruction_len, int num_prompts,
		   const LIBSSH2_USERAUTH_KBDINT_PROMPT *prompts,
		   LIBSSH2_USERAUTH_KBDINT_RESPONSE *responses, void **abstract)
{
	kbd_calls++;
}

START_TEST(password_and_kbdint_refused)
{
	const char *u = user();
	int fd, rc;
	LIBSSH2_SESSION *s = start(&fd);

	rc = libssh2_userauth_password(s, u, "not-the-password");
	ck_assert_msg(rc == LIBSSH2_ERROR_AUTHENTICATION_FAILED,
		      "password on a publickey-only server: %d %s", rc,
		      errmsg(s));
	ck_assert_int_eq(libssh2_userauth_authenticated(s), 0);
	rc = libssh2_userauth_keyboard_interactive(s, u, kbd_cb);
	ck_assert_msg(rc == LIBSSH2_ERROR_AUTHENTICATION_FAILED,
		      "keyboard-interactive: %d %s", rc, errmsg(s));
	ck_assert_int_eq(kbd_calls, 0);
	ck_assert_int_eq(libssh2_userauth_authenticated(s), 0);
	rc = libssh2_userauth_publickey_fromfile(
		s, u, NULL, integ_env("SFTPMNT_TEST_KEY"), NULL);
	ck_assert_msg(rc == 0, "publickey after password: %d %s", rc,
		      errmsg(s));
	ck_assert_int_eq(libssh2_userauth_authenticated(s), 1);
	check_usable(s);
	finish(s, fd);
}
END_TEST

static void wait_socket(LIBSSH2_SESSION *s, int fd, int *eagain);

/* ---- the public key file, when given ----------------------------------------
 */

/*
 * libssh2 offers the key of the public key file when one is given ("the
 * passed public key takes precedence"): a file that is not a public key
 * is a file error; another key's .pub with this private key is offered
 * as it is - refused by the server at the query if that key is not
 * authorized (LIBSSH2_ERROR_AUTHENTICATION_FAILED, libssh2 1.11.1's code
 * for a refused query), and if it is, refused after the server's PK_OK
 * with LIBSSH2_ERROR_PUBLICKEY_UNVERIFIED (libssh2 has the server refuse
 * the signature; we see the mismatch first); from a file and from
 * memory.  The session then still authenticates.
 */
START_TEST(public_key_file_used)
{
	char bad[PATH_MAX + 64], other[PATH_MAX + 64];
	const char *u = user(), *key = integ_env("SFTPMNT_TEST_KEY");
	size_t plen, klen;
	char *pub, *kdata;
	int fd, rc;
	FILE *f;
	LIBSSH2_SESSION *s = start(&fd);

	key_path(bad, sizeof(bad), "garbage", ".pub");
	f = fopen(bad, "w");
	ck_assert_ptr_nonnull(f);
	fputs("ssh-ed25519 this-is-not-base64 comment\n", f);
	fclose(f);
	rc = libssh2_userauth_publickey_fromfile(s, u, bad, key, NULL);
	ck_assert_msg(rc == LIBSSH2_ERROR_FILE, "garbage .pub: %d %s", rc,
		      errmsg(s));
	key_path(other, sizeof(other), "stranger", ".pub");
	rc = libssh2_userauth_publickey_fromfile(s, u, other, key, NULL);
	ck_assert_msg(rc == LIBSSH2_ERROR_AUTHENTICATION_FAILED,
		      "another key's .pub: %d %s", rc, errmsg(s));
	ck_assert_int_eq(libssh2_userauth_authenticated(s), 0);
	key_path(other, sizeof(other), "ecdsa256", ".pub");
	rc = libssh2_userauth_publickey_fromfile(s, u, other, key, NULL);
	ck_assert_msg(rc == LIBSSH2_ERROR_PUBLICKEY_UNVERIFIED,
		      "another authorized key's .pub: %d %s", rc, errmsg(s));
	ck_assert_ptr_nonnull(strstr(errmsg(s), "not the private key's"));
	ck_assert_int_eq(libssh2_userauth_authenticated(s), 0);
	key_path(other, sizeof(other), "stranger", ".pub");

	pub = slurp(bad, &plen);
	kdata = slurp(key, &klen);
	rc = libssh2_userauth_publickey_frommemory(s, u, strlen(u), pub, plen,
						   kdata, klen, NULL);
	ck_assert_msg(rc == LIBSSH2_ERROR_FILE, "garbage pub data: %d %s", rc,
		      errmsg(s));
	free(pub);
	pub = slurp(other, &plen);
	rc = libssh2_userauth_publickey_frommemory(s, u, strlen(u), pub, plen,
						   kdata, klen, NULL);
	ck_assert_msg(rc == LIBSSH2_ERROR_AUTHENTICATION_FAILED,
		      "another key's pub data: %d %s", rc, errmsg(s));
	ck_assert_int_eq(libssh2_userauth_authenticated(s), 0);
	rc = libssh2_userauth_publickey_fromfile(
		s, u, integ_env("SFTPMNT_TEST_PUBKEY"), key, NULL);
	ck_assert_msg(rc == 0, "the right .pub after: %d %s", rc, errmsg(s));
	free(pub);
	free(kdata);
	finish(s, fd);
}
END_TEST

/* ---- OpenSSH certificates (PROTOCOL.certkeys) ------------------------------
 */

/* Keys not in authorized_keys, certified by a CA the server trusts once
 * the test restarts it with TrustedUserCAKeys. */
static const struct ukey certkeys[] = {
	{"cert_ed25519", "-t ed25519", NULL},
	{"cert_ecdsa256", "-t ecdsa -b 256", NULL},
	{"cert_rsa", "-t rsa -b 2048", NULL},
	{"cert_ed25519_enc", "-t ed25519 -a 4", "pw"},
};
#define NCERTKEYS (int)(sizeof(certkeys) / sizeof(certkeys[0]))

static int sshd_restart(const char *opts)
{
	char cmd[2 * PATH_MAX];

	snprintf(cmd, sizeof(cmd), "'%s' restart '%s' %s",
		 integ_env("SFTPMNT_FIXTURE"), integ_env("SFTPMNT_FIXTURE_DIR"),
		 opts);
	return run(cmd);
}

/* In the parent after the certificate tests, failed or not. */
static void sshd_restore(void)
{
	if (sshd_restart(""))
		fprintf(stderr, "test_auth: sshd did not restart\n");
}

static void trust_ca(void)
{
	char opt[PATH_MAX + 64];

	snprintf(opt, sizeof(opt), "TrustedUserCAKeys='%s/ca.pub'", tmpdir);
	ck_assert_int_eq(sshd_restart(opt), 0);
}

/*
 * A certificate as the public key file: the request names the
 * certificate's algorithm (RSA: rsa-sha2-512-cert-v01@openssh.com), the
 * signature the key's, and sshd takes it although the key itself is not
 * authorized; without the certificate the key is refused at the query
 * (LIBSSH2_ERROR_AUTHENTICATION_FAILED).  From memory too, and
 * non-blocking.
 */
START_TEST(certificate)
{
	const struct ukey *k = &certkeys[_i];
	char key[PATH_MAX + 64], cert[PATH_MAX + 64];
	const char *u = user();
	size_t clen, klen;
	char *cdata, *kdata;
	int fd, rc, eagain = 0;
	LIBSSH2_SESSION *s;

	trust_ca();
	key_path(key, sizeof(key), k->name, "");
	key_path(cert, sizeof(cert), k->name, "-cert.pub");
	s = start(&fd);
	rc = libssh2_userauth_publickey_fromfile(s, u, NULL, key, k->pass);
	ck_assert_msg(rc == LIBSSH2_ERROR_AUTHENTICATION_FAILED,
		      "%s without its certificate: %d %s", k->name, rc,
		      errmsg(s));
	rc = libssh2_userauth_publickey_fromfile(s, u, cert, key, k->pass);
	ck_assert_msg(rc == 0, "%s with its certificate: %d %s", k->name, rc,
		      errmsg(s));
	ck_assert_int_eq(libssh2_userauth_authenticated(s), 1);
	check_usable(s);
	finish(s, fd);

	cdata = slurp(cert, &clen);
	kdata = slurp(key, &klen);
	s = start(&fd);
	libssh2_session_set_blocking(s, 0);
	while ((rc = libssh2_userauth_publickey_frommemory(
			s, u, strlen(u), cdata, clen, kdata, klen, k->pass)) ==
	       LIBSSH2_ERROR_EAGAIN)
		wait_socket(s, fd, &eagain);
	ck_assert_msg(rc == 0, "%s certificate from memory: %d %s", k->name, rc,
		      errmsg(s));
	libssh2_session_set_blocking(s, 1);
	finish(s, fd);
	free(cdata);
	free(kdata);
}
END_TEST

/* Another key's certificate with this (authorized) private key: the
 * certificate is the key offered, the server would take it (PK_OK), and
 * the private key is then found not to be its (PUBLICKEY_UNVERIFIED). */
START_TEST(certificate_of_another_key)
{
	char cert[PATH_MAX + 64];
	const char *u = user();
	int fd, rc;
	LIBSSH2_SESSION *s;

	trust_ca();
	key_path(cert, sizeof(cert), "cert_ed25519", "-cert.pub");
	s = start(&fd);
	rc = libssh2_userauth_publickey_fromfile(
		s, u, cert, integ_env("SFTPMNT_TEST_KEY"), NULL);
	ck_assert_msg(rc == LIBSSH2_ERROR_PUBLICKEY_UNVERIFIED,
		      "another key's certificate: %d %s", rc, errmsg(s));
	ck_assert_int_eq(libssh2_userauth_authenticated(s), 0);
	finish(s, fd);
}
END_TEST

/* ---- non-blocking authentication -------------------------------------------
 */

static void wait_socket(LIBSSH2_SESSION *s, int fd, int *eagain)
{
	struct pollfd p = {.fd = fd};
	int d = libssh2_session_block_directions(s);

	ck_assert_msg(d != 0, "EAGAIN without a block direction");
	p.events = (d & LIBSSH2_SESSION_BLOCK_INBOUND ? POLLIN : 0) |
		   (d & LIBSSH2_SESSION_BLOCK_OUTBOUND ? POLLOUT : 0);
	ck_assert_int_eq(poll(&p, 1, 10000), 1);
	++*eagain;
	ck_assert_int_lt(*eagain, 100000);
}

START_TEST(nonblocking_auth)
{
	const char *u = user();
	int fd, rc, eagain_list = 0, eagain_pk = 0;
	LIBSSH2_SESSION *s = start(&fd);
	char *list;

	libssh2_session_set_blocking(s, 0);
	ck_assert_int_eq(libssh2_session_get_blocking(s), 0);
	while (!(list = libssh2_userauth_list(s, u, (unsigned int)strlen(u)))) {
		ck_assert_msg(libssh2_session_last_errno(s) ==
				      LIBSSH2_ERROR_EAGAIN,
			      "userauth_list: %s", errmsg(s));
		wait_socket(s, fd, &eagain_list);
	}
	ck_assert_str_eq(list, "publickey");
	/* the service request needs a round trip: we must have waited */
	ck_assert_waited(eagain_list);

	while ((rc = libssh2_userauth_publickey_fromfile(
			s, u, integ_env("SFTPMNT_TEST_PUBKEY"),
			integ_env("SFTPMNT_TEST_KEY"), NULL)) ==
	       LIBSSH2_ERROR_EAGAIN) {
		ck_assert_int_eq(libssh2_userauth_authenticated(s), 0);
		wait_socket(s, fd, &eagain_pk);
	}
	ck_assert_msg(rc == 0, "non-blocking publickey: %d %s", rc, errmsg(s));
	ck_assert_waited(eagain_pk);
	ck_assert_int_eq(libssh2_userauth_authenticated(s), 1);
	libssh2_session_set_blocking(s, 1);
	check_usable(s);
	finish(s, fd);
}
END_TEST

/* A refused key, non-blocking: the refusal arrives after EAGAINs. */
START_TEST(nonblocking_refused)
{
	char key[PATH_MAX + 64];
	const char *u = user();
	int fd, rc, eagain = 0;
	LIBSSH2_SESSION *s = start(&fd);

	key_path(key, sizeof(key), "stranger", "");
	libssh2_session_set_blocking(s, 0);
	while ((rc = libssh2_userauth_publickey_fromfile(
			s, u, NULL, key, NULL)) == LIBSSH2_ERROR_EAGAIN)
		wait_socket(s, fd, &eagain);
	ck_assert_msg(rc == LIBSSH2_ERROR_PUBLICKEY_UNVERIFIED ||
			      rc == LIBSSH2_ERROR_AUTHENTICATION_FAILED,
		      "stranger key, non-blocking: %d %s", rc, errmsg(s));
	while ((rc = libssh2_userauth_publickey_fromfile(
			s, u, NULL, integ_env("SFTPMNT_TEST_KEY"), NULL)) ==
	       LIBSSH2_ERROR_EAGAIN)
		wait_socket(s, fd, &eagain);
	ck_assert_msg(rc == 0, "good key after refusal: %d %s", rc, errmsg(s));
	libssh2_session_set_blocking(s, 1);
	finish(s, fd);
}
END_TEST

/* ---- every user key type
 * ----------------------------------------------------- */

/*
 * Each key straight after the handshake (no userauth_list first): with
 * RSA, libssh2 signs with rsa-sha2-512/256 when the server lists them in
 * server-sig-algs (RFC 8308, RFC 8332); OpenSSH 9.2 refuses SHA-1
 * "ssh-rsa" signatures.  libssh2 requests the ssh-userauth service in
 * the handshake, so the EXT_INFO is already in by then.
 */
START_TEST(key_types)
{
	const struct ukey *k = &ukeys[_i];
	char key[PATH_MAX + 64], pub[PATH_MAX + 64];
	const char *u = user();
	int fd, rc;
	LIBSSH2_SESSION *s = start(&fd);

	key_path(key, sizeof(key), k->name, "");
	key_path(pub, sizeof(pub), k->name, ".pub");
	rc = libssh2_userauth_publickey_fromfile(s, u, pub, key, k->pass);
	ck_assert_msg(rc == 0, "%s (%s): %d %s", k->name, k->keygen, rc,
		      errmsg(s));
	ck_assert_int_eq(libssh2_userauth_authenticated(s), 1);
	check_usable(s);
	finish(s, fd);

	/* from memory, without the public key */
	if (!strstr(k->name, "rsa")) { /* one RSA signature per key is enough */
		size_t klen;
		char *data = slurp(key, &klen);

		s = start(&fd);
		rc = libssh2_userauth_publickey_frommemory(
			s, u, strlen(u), NULL, 0, data, klen, k->pass);
		ck_assert_msg(rc == 0, "%s from memory: %d %s", k->name, rc,
			      errmsg(s));
		finish(s, fd);
		free(data);
	}
}
END_TEST

/* The same RSA key after userauth_list (the EXT_INFO is read by then). */
START_TEST(rsa_after_userauth_list)
{
	char key[PATH_MAX + 64];
	const char *u = user();
	int fd, rc;
	LIBSSH2_SESSION *s = start(&fd);

	key_path(key, sizeof(key), "rsa2048", "");
	ck_assert_ptr_nonnull(libssh2_userauth_list(s, u, (unsigned)strlen(u)));
	rc = libssh2_userauth_publickey_fromfile(s, u, NULL, key, NULL);
	ck_assert_msg(rc == 0, "rsa2048 after userauth_list: %d %s", rc,
		      errmsg(s));
	check_usable(s);
	finish(s, fd);
}
END_TEST

/* Is k in OpenSSH's own format (not -m PEM or -m PKCS8)? */
static int ukey_openssh(const struct ukey *k)
{
	return !strstr(k->name, "_pem") && !strstr(k->name, "_pkcs8");
}

/*
 * The call's code must be want, and its message say why as fs/conn.c
 * reads it: "wrong passphrase" for a wrong one, else a passphrase that
 * is wanted.
 */
static void pass_fail(LIBSSH2_SESSION *s, int rc, int want, const char *pass,
		      const char *what, const struct ukey *k)
{
	const char *m = errmsg(s);

	ck_assert_msg(rc == want, "%s %s, passphrase %s: %d (want %d) %s",
		      k->name, what, pass ? pass : "NULL", rc, want, m);
	ck_assert_int_eq(libssh2_session_last_errno(s), want);
	if (pass && *pass)
		ck_assert_msg(strstr(m, "wrong passphrase"), "%s: %s", k->name,
			      m);
	else
		ck_assert_msg(strstr(m, "passphrase") &&
				      !strstr(m, "wrong passphrase"),
			      "%s: %s", k->name, m);
	ck_assert_int_eq(libssh2_userauth_authenticated(s), 0);
}

/*
 * A wrong, missing or empty passphrase fails locally, with libssh2
 * 1.11.1's codes (OpenSSL back end): LIBSSH2_ERROR_FILE from a file
 * without the public key, LIBSSH2_ERROR_PUBLICKEY_UNVERIFIED with it
 * (libssh2 opens the private key in its sign callback), and from memory
 * without it LIBSSH2_ERROR_KEYFILE_AUTH_FAILED for PEM and PKCS#8 (its
 * OpenSSL 3 bad-decrypt check), LIBSSH2_ERROR_FILE for an OpenSSH key
 * (the OpenSSH parser's code is dropped); the message says which.
 */
START_TEST(wrong_passphrase)
{
	static const char *const bad[] = { "wrong", NULL, "" };
	const struct ukey *k = &ukeys[_i];
	char key[PATH_MAX + 64], pub[PATH_MAX + 64];
	const char *u = user();
	size_t klen, plen;
	char *kdata, *pdata;
	int fd, rc, i, mem;
	LIBSSH2_SESSION *s;

	if (!k->pass)
		return;
	s = start(&fd);
	key_path(key, sizeof(key), k->name, "");
	key_path(pub, sizeof(pub), k->name, ".pub");
	kdata = slurp(key, &klen);
	pdata = slurp(pub, &plen);
	mem = ukey_openssh(k) ? LIBSSH2_ERROR_FILE
			      : LIBSSH2_ERROR_KEYFILE_AUTH_FAILED;
	for (i = 0; i < 3; i++) {
		rc = libssh2_userauth_publickey_fromfile(s, u, NULL, key,
							 bad[i]);
		pass_fail(s, rc, LIBSSH2_ERROR_FILE, bad[i], "fromfile", k);
		rc = libssh2_userauth_publickey_fromfile(s, u, pub, key,
							 bad[i]);
		pass_fail(s, rc, LIBSSH2_ERROR_PUBLICKEY_UNVERIFIED, bad[i],
			  "fromfile with .pub", k);
		rc = libssh2_userauth_publickey_frommemory(
			s, u, strlen(u), NULL, 0, kdata, klen, bad[i]);
		pass_fail(s, rc, mem, bad[i], "frommemory", k);
		rc = libssh2_userauth_publickey_frommemory(
			s, u, strlen(u), pdata, plen, kdata, klen, bad[i]);
		pass_fail(s, rc, LIBSSH2_ERROR_PUBLICKEY_UNVERIFIED, bad[i],
			  "frommemory with .pub", k);
	}
	/* then the right one on the same session */
	rc = libssh2_userauth_publickey_fromfile(s, u, NULL, key, k->pass);
	ck_assert_msg(rc == 0, "%s after wrong passphrases: %d %s", k->name, rc,
		      errmsg(s));
	finish(s, fd);
	free(kdata);
	free(pdata);
}
END_TEST

/*
 * A corrupt key file: LIBSSH2_ERROR_FILE from a file (as for a missing
 * one) and from memory, PUBLICKEY_UNVERIFIED with the
 * public key given (libssh2 1.11.1); a passphrase changes nothing.  And
 * a missing private key file beside a good public one.
 */
START_TEST(corrupt_key_file)
{
	char key[PATH_MAX + 64], bad[PATH_MAX + 64], cmd[3 * PATH_MAX];
	const char *u = user(), *good = integ_env("SFTPMNT_TEST_KEY");
	const char *gpub = integ_env("SFTPMNT_TEST_PUBKEY");
	size_t len;
	char *data;
	int fd, rc, i;
	LIBSSH2_SESSION *s = start(&fd);

	/* an OpenSSH key with its middle line flipped to other base64 */
	key_path(key, sizeof(key), "ecdsa256", "");
	key_path(bad, sizeof(bad), "corrupt", "");
	snprintf(cmd, sizeof(cmd), "sed '3y/ABCDEFGHabcdefgh/BCDEFGHAbcdefgha/' "
		 "'%s' >'%s'", key, bad);
	ck_assert_int_eq(run(cmd), 0);
	data = slurp(bad, &len);
	for (i = 0; i < 2; i++) {
		const char *pass = i ? "pw" : NULL;

		rc = libssh2_userauth_publickey_fromfile(s, u, NULL, bad, pass);
		ck_assert_msg(rc == LIBSSH2_ERROR_FILE, "file: %d %s", rc,
			      errmsg(s));
		ck_assert_ptr_null(strstr(errmsg(s), "passphrase"));
		rc = libssh2_userauth_publickey_frommemory(s, u, strlen(u),
							   NULL, 0, data, len,
							   pass);
		ck_assert_msg(rc == LIBSSH2_ERROR_FILE, "memory: %d %s", rc,
			      errmsg(s));
		ck_assert_ptr_null(strstr(errmsg(s), "passphrase"));
		rc = libssh2_userauth_publickey_fromfile(s, u, gpub, bad, pass);
		ck_assert_msg(rc == LIBSSH2_ERROR_PUBLICKEY_UNVERIFIED,
			      "file with .pub: %d %s", rc, errmsg(s));
	}
	free(data);
	/* the private key file missing, the public key file there */
	key_path(bad, sizeof(bad), "does-not-exist", "");
	rc = libssh2_userauth_publickey_fromfile(s, u, gpub, bad, NULL);
	ck_assert_msg(rc == LIBSSH2_ERROR_PUBLICKEY_UNVERIFIED,
		      "missing key with .pub: %d %s", rc, errmsg(s));
	ck_assert_int_eq(libssh2_session_last_errno(s),
			 LIBSSH2_ERROR_PUBLICKEY_UNVERIFIED);
	ck_assert_int_eq(libssh2_userauth_authenticated(s), 0);
	rc = libssh2_userauth_publickey_fromfile(s, u, NULL, good, NULL);
	ck_assert_msg(rc == 0, "after corrupt files: %d %s", rc, errmsg(s));
	finish(s, fd);
}
END_TEST

/* ---- libssh2_userauth_publickey with a sign callback -----------------------
 */

/* Minimal OpenSSH agent client (draft-miller-ssh-agent §4.5). */
#define AGENTC_SIGN_REQUEST 13
#define AGENT_SIGN_RESPONSE 14
#define AGENT_RSA_SHA2_256  2
#define AGENT_RSA_SHA2_512  4

static void put32(unsigned char *p, uint32_t v)
{
	p[0] = (unsigned char)(v >> 24);
	p[1] = (unsigned char)(v >> 16);
	p[2] = (unsigned char)(v >> 8);
	p[3] = (unsigned char)v;
}

static uint32_t get32(const unsigned char *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	       (uint32_t)p[2] << 8 | p[3];
}

static int io_all(int fd, void *buf, size_t n, int wr)
{
	unsigned char *p = buf;

	while (n) {
		ssize_t r = wr ? write(fd, p, n) : read(fd, p, n);

		if (r <= 0)
			return -1;
		p += r;
		n -= (size_t)r;
	}
	return 0;
}

/* Skip one SSH string in data; returns its start or NULL. */
static const unsigned char *next_str(const unsigned char **p,
				     const unsigned char *end, uint32_t *len)
{
	const unsigned char *s;

	if (end - *p < 4)
		return NULL;
	*len = get32(*p);
	if (*len > (size_t)(end - *p) - 4)
		return NULL;
	s = *p + 4;
	*p = s + *len;
	return s;
}

struct signer {
	const unsigned char *blob;
	size_t bloblen;
	int calls;
	char alg[64];	 /* the algorithm the data to sign names */
	char sigalg[64]; /* the algorithm of the agent's signature */
};

/* RFC 4252 §7: the data is string session id, byte 50, string user,
 * string service, string "publickey", bool TRUE, string algorithm,
 * string key blob. */
static void alg_of(const unsigned char *data, size_t len, char *out, size_t cap)
{
	const unsigned char *p = data, *end = data + len, *a = NULL;
	uint32_t n;
	int i;

	out[0] = 0;
	if (!next_str(&p, end, &n) || p >= end)
		return;
	p++; /* SSH_MSG_USERAUTH_REQUEST */
	for (i = 0; i < 3; i++)
		if (!next_str(&p, end, &n))
			return;
	if (p >= end)
		return;
	p++; /* TRUE */
	if (!(a = next_str(&p, end, &n)) || n >= cap)
		return;
	memcpy(out, a, n);
	out[n] = 0;
}

static LIBSSH2_USERAUTH_PUBLICKEY_SIGN_FUNC(agent_sign)
{
	struct signer *sg = *abstract;
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	unsigned char hdr[5], *req, *resp = NULL;
	size_t reqlen = 4 + 1 + 4 + sg->bloblen + 4 + data_len + 4, off = 0;
	const unsigned char *p, *end, *raw;
	uint32_t flags = 0, rlen, slen, n, rawlen;
	int fd, rc = -1;

	sg->calls++;
	alg_of(data, data_len, sg->alg, sizeof(sg->alg));
	if (!strcmp(sg->alg, "rsa-sha2-256"))
		flags = AGENT_RSA_SHA2_256;
	else if (!strcmp(sg->alg, "rsa-sha2-512"))
		flags = AGENT_RSA_SHA2_512;
	req = malloc(reqlen);
	if (!req)
		return -1;
	put32(req, (uint32_t)(reqlen - 4));
	req[4] = AGENTC_SIGN_REQUEST;
	off = 5;
	put32(req + off, (uint32_t)sg->bloblen);
	memcpy(req + off + 4, sg->blob, sg->bloblen);
	off += 4 + sg->bloblen;
	put32(req + off, (uint32_t)data_len);
	memcpy(req + off + 4, data, data_len);
	off += 4 + data_len;
	put32(req + off, flags);

	memcpy(sa.sun_path, agent_sock, sizeof(sa.sun_path));
	fd = socket(AF_UNIX, SOCK_STREAM, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)) ||
	    io_all(fd, req, reqlen, 1) || io_all(fd, hdr, 5, 0))
		goto out;
	rlen = get32(hdr);
	if (hdr[4] != AGENT_SIGN_RESPONSE || rlen < 5 || rlen > 65536)
		goto out;
	resp = malloc(rlen - 1);
	if (!resp || io_all(fd, resp, rlen - 1, 0))
		goto out;
	slen = get32(resp);
	if (slen > rlen - 5)
		goto out;
	/* The agent answers with the signature blob (string algorithm,
	 * string signature); a libssh2 sign callback returns the bare
	 * signature, which libssh2 wraps with the algorithm it announced
	 * (userauth.c _libssh2_userauth_publickey).  The memory is freed
	 * with the session's allocator. */
	p = resp + 4;
	end = p + slen;
	if (!next_str(&p, end, &n) || !(raw = next_str(&p, end, &rawlen)) ||
	    p != end)
		goto out;
	snprintf(sg->sigalg, sizeof(sg->sigalg), "%.*s", (int)n, resp + 8);
	*sig = malloc(rawlen);
	if (!*sig)
		goto out;
	memcpy(*sig, raw, rawlen);
	*sig_len = rawlen;
	rc = 0;
out:
	if (fd >= 0)
		close(fd);
	free(req);
	free(resp);
	return rc;
}

static unsigned char *b64_decode(const char *in, size_t *outlen)
{
	static const char tbl[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnop"
				  "qrstuvwxyz0123456789+/";
	size_t n = strlen(in), o = 0;
	unsigned char *out = malloc(n);
	uint32_t acc = 0;
	int bits = 0;

	ck_assert_ptr_nonnull(out);
	for (; *in && *in != '='; in++) {
		const char *c = strchr(tbl, *in);

		ck_assert_msg(c != NULL, "bad base64");
		acc = acc << 6 | (uint32_t)(c - tbl);
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			out[o++] = (unsigned char)(acc >> bits);
		}
	}
	*outlen = o;
	return out;
}

/* The key blob of a .pub file: its second field, base64-decoded. */
static unsigned char *pub_blob(const char *pubfile, size_t *len)
{
	size_t n;
	char *text = slurp(pubfile, &n), *sp, *end;
	unsigned char *blob;

	sp = strchr(text, ' ');
	ck_assert_ptr_nonnull(sp);
	sp++;
	end = sp + strcspn(sp, " \n");
	*end = 0;
	blob = b64_decode(sp, len);
	free(text);
	return blob;
}

static void sign_callback_with(const char *pubfile, const char *want_alg)
{
	struct signer sg = {0};
	void *abstract = &sg;
	const char *u = user();
	unsigned char *blob;
	int fd, rc;
	LIBSSH2_SESSION *s;

	if (!agent_pid) {
		fprintf(stderr, "no ssh-agent: sign callback not tested\n");
		return;
	}
	blob = pub_blob(pubfile, &sg.bloblen);
	sg.blob = blob;
	s = start(&fd);
	/* the method list first, as clients do: by then the server's
	 * server-sig-algs (RFC 8308) is known whatever the library's
	 * order of reading it */
	ck_assert_ptr_nonnull(libssh2_userauth_list(s, u, (unsigned)strlen(u)));
	rc = libssh2_userauth_publickey(s, u, blob, sg.bloblen, agent_sign,
					&abstract);
	ck_assert_msg(rc == 0, "publickey with a sign callback (%s): %d %s",
		      pubfile, rc, errmsg(s));
	/* after the server's PK_OK, once */
	ck_assert_int_eq(sg.calls, 1);
	if (want_alg)
		ck_assert_str_eq(sg.alg, want_alg);
	ck_assert_str_eq(sg.sigalg, sg.alg);
	ck_assert_int_eq(libssh2_userauth_authenticated(s), 1);
	check_usable(s);
	finish(s, fd);
	free(blob);
}

START_TEST(sign_callback_ed25519)
{
	sign_callback_with(integ_env("SFTPMNT_TEST_PUBKEY"), "ssh-ed25519");
}
END_TEST

START_TEST(sign_callback_ecdsa)
{
	char pub[PATH_MAX + 64];

	key_path(pub, sizeof(pub), "ecdsa384", ".pub");
	sign_callback_with(pub, "ecdsa-sha2-nistp384");
}
END_TEST

/* RSA through a callback: libssh2 1.11 upgrades "ssh-rsa" to the
 * rsa-sha2-* algorithm the server lists in server-sig-algs for callers'
 * sign callbacks too (userauth.c _libssh2_key_sign_algorithm); the
 * callback learns the algorithm from the data it signs.  OpenSSH 9.2
 * refuses SHA-1 "ssh-rsa" signatures. */
START_TEST(sign_callback_rsa)
{
	char pub[PATH_MAX + 64];

	key_path(pub, sizeof(pub), "rsa2048", ".pub");
	sign_callback_with(pub, NULL);
}
END_TEST

/* A callback that fails: an error, not a crash, and no authentication. */
static LIBSSH2_USERAUTH_PUBLICKEY_SIGN_FUNC(failing_sign)
{
	int *calls = *abstract;

	++*calls;
	return -1;
}

START_TEST(sign_callback_fails)
{
	const char *u = user();
	size_t bloblen;
	unsigned char *blob =
		pub_blob(integ_env("SFTPMNT_TEST_PUBKEY"), &bloblen);
	int fd, rc, calls = 0;
	void *abstract = &calls;
	LIBSSH2_SESSION *s = start(&fd);

	rc = libssh2_userauth_publickey(s, u, blob, bloblen, failing_sign,
					&abstract);
	/* libssh2 1.11.1: "Callback returned error" */
	ck_assert_msg(rc == LIBSSH2_ERROR_PUBLICKEY_UNVERIFIED,
		      "failing callback: %d", rc);
	ck_assert_int_eq(calls, 1);
	ck_assert_int_eq(libssh2_userauth_authenticated(s), 0);
	/* a blob too short for its type's length, or whose type string runs
	 * past its end: libssh2 1.11.1's "Invalid public key", nothing sent */
	rc = libssh2_userauth_publickey(s, u, blob, 3, failing_sign,
					&abstract);
	ck_assert_int_eq(rc, LIBSSH2_ERROR_PUBLICKEY_UNVERIFIED);
	rc = libssh2_userauth_publickey(s, u, blob, 10, failing_sign,
					&abstract);
	ck_assert_int_eq(rc, LIBSSH2_ERROR_PUBLICKEY_UNVERIFIED);
	ck_assert_int_eq(calls, 1);
	rc = libssh2_userauth_publickey_fromfile(
		s, u, NULL, integ_env("SFTPMNT_TEST_KEY"), NULL);
	ck_assert_msg(rc == 0, "after a failing callback: %d %s", rc,
		      errmsg(s));
	finish(s, fd);
	free(blob);
}
END_TEST

/*
 * A sign callback that cannot sign with SHA-2 (an old signer) returns
 * LIBSSH2_ERROR_ALGO_UNSUPPORTED for rsa-sha2-*.  libssh2 1.11.1 then
 * starts the attempt over once, offering the key's own type (ssh-rsa)
 * with a new query: a server that accepts SHA-1 ssh-rsa signatures logs
 * the user in; OpenSSH's default refuses that offer at the query.
 */
struct fallback {
	struct signer sg;
	int calls;
	int always; /* refuse every algorithm */
	char algs[3][64];
};

static LIBSSH2_USERAUTH_PUBLICKEY_SIGN_FUNC(sha1_only_sign)
{
	struct fallback *f = *abstract;
	void *inner = &f->sg;
	char alg[64];

	alg_of(data, data_len, alg, sizeof(alg));
	if (f->calls < 3)
		memcpy(f->algs[f->calls], alg, sizeof(alg));
	f->calls++;
	if (f->always || !strncmp(alg, "rsa-sha2-", 9))
		return LIBSSH2_ERROR_ALGO_UNSUPPORTED;
	return agent_sign(session, sig, sig_len, data, data_len, &inner);
}

/* rc of libssh2_userauth_publickey with the rsa2048 key through
 * sha1_only_sign, blocking or not */
static int fallback_login(struct fallback *f, int nonblocking,
			  LIBSSH2_SESSION **sp, int *fdp)
{
	char pub[PATH_MAX + 64];
	const char *u = user();
	void *abstract = f;
	unsigned char *blob;
	int rc, eagain = 0;

	key_path(pub, sizeof(pub), "rsa2048", ".pub");
	blob = pub_blob(pub, &f->sg.bloblen);
	f->sg.blob = blob;
	*sp = start(fdp);
	ck_assert_ptr_nonnull(
		libssh2_userauth_list(*sp, u, (unsigned)strlen(u)));
	libssh2_session_set_blocking(*sp, !nonblocking);
	while ((rc = libssh2_userauth_publickey(*sp, u, blob, f->sg.bloblen,
						sha1_only_sign, &abstract)) ==
	       LIBSSH2_ERROR_EAGAIN)
		wait_socket(*sp, *fdp, &eagain);
	libssh2_session_set_blocking(*sp, 1);
	free(blob);
	return rc;
}

START_TEST(sign_callback_sha1_fallback)
{
	struct fallback f = {0};
	LIBSSH2_SESSION *s;
	int fd, rc;

	if (!agent_pid) {
		fprintf(stderr, "no ssh-agent: fallback not tested\n");
		return;
	}
	ck_assert_int_eq(sshd_restart("PubkeyAcceptedAlgorithms=+ssh-rsa"), 0);
	rc = fallback_login(&f, _i, &s, &fd);
	ck_assert_msg(rc == 0, "fallback to ssh-rsa: %d %s", rc, errmsg(s));
	ck_assert_int_eq(f.calls, 2);
	ck_assert_str_eq(f.algs[0], "rsa-sha2-512");
	ck_assert_str_eq(f.algs[1], "ssh-rsa");
	ck_assert_str_eq(f.sg.sigalg, "ssh-rsa");
	ck_assert_int_eq(libssh2_userauth_authenticated(s), 1);
	check_usable(s);
	finish(s, fd);

	/* a signer that can make nothing: one retry, then the callback's
	 * failure (libssh2: "Callback returned error") */
	memset(&f, 0, sizeof(f));
	f.always = 1;
	rc = fallback_login(&f, _i, &s, &fd);
	ck_assert_msg(rc == LIBSSH2_ERROR_PUBLICKEY_UNVERIFIED,
		      "a signer that refuses all: %d", rc);
	ck_assert_int_eq(f.calls, 2);
	ck_assert_str_eq(f.algs[1], "ssh-rsa");
	ck_assert_int_eq(libssh2_userauth_authenticated(s), 0);
	/* the session is still good for another attempt */
	rc = libssh2_userauth_publickey_fromfile(
		s, user(), NULL, integ_env("SFTPMNT_TEST_KEY"), NULL);
	ck_assert_msg(rc == 0, "after the refusals: %d %s", rc, errmsg(s));
	finish(s, fd);
}
END_TEST

/* OpenSSH's default refuses SHA-1 ssh-rsa: the fallback's query is
 * refused (LIBSSH2_ERROR_AUTHENTICATION_FAILED), the callback not asked
 * again. */
START_TEST(sign_callback_sha1_refused)
{
	struct fallback f = {0};
	LIBSSH2_SESSION *s;
	int fd, rc;

	if (!agent_pid) {
		fprintf(stderr, "no ssh-agent: fallback not tested\n");
		return;
	}
	ck_assert_int_eq(sshd_restart(""), 0);
	rc = fallback_login(&f, _i, &s, &fd);
	ck_assert_msg(rc == LIBSSH2_ERROR_AUTHENTICATION_FAILED,
		      "ssh-rsa offered to a server that refuses it: %d %s", rc,
		      errmsg(s));
	ck_assert_int_eq(f.calls, 1);
	ck_assert_str_eq(f.algs[0], "rsa-sha2-512");
	ck_assert_int_eq(libssh2_userauth_authenticated(s), 0);
	finish(s, fd);
}
END_TEST

/* ---- setup -----------------------------------------------------------------
 */

static void stop_agent(void)
{
	if (!agent_pid)
		return;
	kill(agent_pid, SIGTERM);
	waitpid(agent_pid, NULL, 0);
	agent_pid = 0;
}

static void start_agent(void)
{
	char cmd[3 * PATH_MAX];
	int i;

	if (snprintf(agent_sock, sizeof(agent_sock), "%s/agent.sock", tmpdir) >=
	    (int)sizeof(agent_sock)) {
		fprintf(stderr, "temporary directory name too long for a "
				"socket: sign callback not tested\n");
		return;
	}
	agent_pid = fork();
	if (agent_pid < 0) {
		agent_pid = 0;
		return;
	}
	if (agent_pid == 0) {
		int devnull = open("/dev/null", O_RDWR);

		dup2(devnull, 0);
		dup2(devnull, 1);
		execlp("ssh-agent", "ssh-agent", "-D", "-a", agent_sock,
		       (char *)NULL);
		_exit(127);
	}
	for (i = 0; i < 400 && access(agent_sock, F_OK); i++)
		usleep(10000);
	if (access(agent_sock, F_OK)) {
		fprintf(stderr, "ssh-agent did not start\n");
		kill(agent_pid, SIGTERM);
		waitpid(agent_pid, NULL, 0);
		agent_pid = 0;
		return;
	}
	(void)!snprintf(cmd, sizeof(cmd),
			"SSH_AUTH_SOCK='%s' ssh-add -q '%s' '%s/ecdsa384' "
			"'%s/rsa2048' </dev/null",
			agent_sock, integ_env("SFTPMNT_TEST_KEY"), tmpdir,
			tmpdir);
	if (run(cmd)) {
		stop_agent();
		cleanup_and_fail();
	}
}

int main(void)
{
	Suite *su = suite_create("auth");
	TCase *tc = tcase_create("sshd");
	const char *tmp = getenv("TMPDIR");
	char cmd[PATH_MAX + 32];
	SRunner *sr;
	int failed, i;

	integ_env("SFTPMNT_TEST_PORT");
	integ_env("SFTPMNT_FIXTURE_DIR");
	integ_env("SFTPMNT_FIXTURE");
	snprintf(tmpdir, sizeof(tmpdir), "%s/sftpmnt-auth.XXXXXX",
		 tmp && *tmp ? tmp : "/tmp");
	if (!mkdtemp(tmpdir)) {
		perror("mkdtemp");
		return 99;
	}
	for (i = 0; i < NUKEYS; i++) {
		keygen(ukeys[i].name, ukeys[i].keygen, ukeys[i].pass);
		authorize(ukeys[i].name);
	}
	keygen("stranger", "-t ed25519", NULL); /* not authorized */
	keygen("ca", "-t ed25519", NULL);
	for (i = 0; i < NCERTKEYS; i++)
		certify(certkeys[i].name, certkeys[i].keygen, certkeys[i].pass);
	start_agent();

	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, list_then_fromfile_with_pubkey);
	tcase_add_test(tc, fromfile_without_pubkey);
	tcase_add_test(tc, frommemory);
	tcase_add_test(tc, unknown_key_refused);
	tcase_add_test(tc, wrong_user_refused);
	tcase_add_test(tc, missing_key_file);
	tcase_add_test(tc, password_and_kbdint_refused);
	tcase_add_test(tc, nonblocking_auth);
	tcase_add_test(tc, nonblocking_refused);
	tcase_add_loop_test(tc, key_types, 0, NUKEYS);
	tcase_add_test(tc, rsa_after_userauth_list);
	tcase_add_loop_test(tc, wrong_passphrase, 0, NUKEYS);
	tcase_add_test(tc, corrupt_key_file);
	tcase_add_test(tc, sign_callback_ed25519);
	tcase_add_test(tc, sign_callback_ecdsa);
	tcase_add_test(tc, sign_callback_rsa);
	tcase_add_test(tc, sign_callback_fails);
	tcase_add_test(tc, public_key_file_used);
	suite_add_tcase(su, tc);
	/* these restart the server: in a case of their own, restored after */
	tc = tcase_create("certificates");
	tcase_set_timeout(tc, 60);
	tcase_add_unchecked_fixture(tc, NULL, sshd_restore);
	tcase_add_loop_test(tc, certificate, 0, NCERTKEYS);
	tcase_add_test(tc, certificate_of_another_key);
	tcase_add_loop_test(tc, sign_callback_sha1_fallback, 0, 2);
	tcase_add_loop_test(tc, sign_callback_sha1_refused, 0, 2);
	suite_add_tcase(su, tc);
	sr = srunner_create(su);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);

	stop_agent();
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
	run(cmd);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
