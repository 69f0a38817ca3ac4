/*
 * test_knownhost.c - the known-hosts API against the real test sshd and
 * OpenSSH's own tools: the fixture's known_hosts ("[127.0.0.1]:port"
 * lines for each of its five host keys) matched for every host key
 * algorithm; another port not found; a different or a revoked key for
 * the host a mismatch; files made by ssh-keyscan and hashed by
 * `ssh-keygen -H` checked, with the keys found compared to what
 * `ssh-keygen -F` finds; and files we write found by `ssh-keygen -F`.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "libssh2.h"

#include "integ.h"

#define HOST	  "127.0.0.1"
#define PLAIN_RAW (LIBSSH2_KNOWNHOST_TYPE_PLAIN | LIBSSH2_KNOWNHOST_KEYENC_RAW)
#define PLAIN_B64                                                              \
	(LIBSSH2_KNOWNHOST_TYPE_PLAIN | LIBSSH2_KNOWNHOST_KEYENC_BASE64)
#define MAXKEYS 16
#define KEYLEN	2048

/* A throwaway ed25519 key that the server does not have. */
#define OTHER_ED25519                                                          \
	"AAAAC3NzaC1lZDI1NTE5AAAAIP/iIaPlMCx1G2eFYikiBz5v1J4VDm5LJHu8VvVnwWjL"

static const char *const algs[] = {
	"ssh-ed25519",	       "ecdsa-sha2-nistp256", "ecdsa-sha2-nistp384",
	"ecdsa-sha2-nistp521", "rsa-sha2-512",
};
static const int kh_types[] = {
	LIBSSH2_KNOWNHOST_KEY_ED25519,	 LIBSSH2_KNOWNHOST_KEY_ECDSA_256,
	LIBSSH2_KNOWNHOST_KEY_ECDSA_384, LIBSSH2_KNOWNHOST_KEY_ECDSA_521,
	LIBSSH2_KNOWNHOST_KEY_SSHRSA,
};

static char dir[64];

static int port(void)
{
	return atoi(integ_env("SFTPMNT_TEST_PORT"));
}

/* A session past the key exchange, the server proving alg's key. */
static LIBSSH2_SESSION *handshake(const char *alg, int *fd)
{
	LIBSSH2_SESSION *s = libssh2_session_init();
	char *msg;
	int rc;

	ck_assert_ptr_nonnull(s);
	libssh2_session_set_timeout(s, 20000);
	if (alg)
		ck_assert_int_eq(libssh2_session_method_pref(
					 s, LIBSSH2_METHOD_HOSTKEY, alg),
				 0);
	*fd = integ_connect(0);
	rc = libssh2_session_handshake(s, *fd);
	libssh2_session_last_error(s, &msg, NULL, 0);
	ck_assert_msg(rc == 0, "handshake %s: %d %s", alg, rc, msg);
	return s;
}

static void finish(LIBSSH2_SESSION *s, int fd)
{
	libssh2_session_disconnect(s, "test done");
	libssh2_session_free(s);
	close(fd);
}

/* The usual flow: the session's host key checked for host:p. */
static int check_session(LIBSSH2_KNOWNHOSTS *h, LIBSSH2_SESSION *s, int p,
			 struct libssh2_knownhost **e)
{
	static const int map[] = {
		[LIBSSH2_HOSTKEY_TYPE_RSA] = LIBSSH2_KNOWNHOST_KEY_SSHRSA,
		[LIBSSH2_HOSTKEY_TYPE_ECDSA_256] =
			LIBSSH2_KNOWNHOST_KEY_ECDSA_256,
		[LIBSSH2_HOSTKEY_TYPE_ECDSA_384] =
			LIBSSH2_KNOWNHOST_KEY_ECDSA_384,
		[LIBSSH2_HOSTKEY_TYPE_ECDSA_521] =
			LIBSSH2_KNOWNHOST_KEY_ECDSA_521,
		[LIBSSH2_HOSTKEY_TYPE_ED25519] = LIBSSH2_KNOWNHOST_KEY_ED25519,
	};
	size_t len;
	int type;
	const char *key = libssh2_session_hostkey(s, &len, &type);

	ck_assert_ptr_nonnull(key);
	ck_assert_int_gt(type, 0);
	ck_assert_int_lt(type, (int)(sizeof(map) / sizeof(map[0])));
	return libssh2_knownhost_checkp(h, HOST, p, key, len,
					PLAIN_RAW | map[type], e);
}

static LIBSSH2_KNOWNHOSTS *load(LIBSSH2_SESSION *s, const char *path, int want)
{
	LIBSSH2_KNOWNHOSTS *h = libssh2_knownhost_init(s);
	int n;

	ck_assert_ptr_nonnull(h);
	n = libssh2_knownhost_readfile(h, path, LIBSSH2_KNOWNHOST_FILE_OPENSSH);
	if (want >= 0)
		ck_assert_int_eq(n, want);
	else
		ck_assert_int_gt(n, 0);
	return h;
}

static void run(const char *cmd)
{
	ck_assert_msg(system(cmd) == 0, "failed: %s", cmd);
}

/* The keys of the lines `ssh-keygen -F '[HOST]:p' -f path` finds. */
static int keygen_find(const char *path, int p, char keys[][KEYLEN])
{
	char cmd[512], line[4096];
	int n = 0;
	FILE *f;

	snprintf(cmd, sizeof(cmd), "ssh-keygen -F '[" HOST "]:%d' -f '%s'", p,
		 path);
	f = popen(cmd, "r");
	ck_assert_ptr_nonnull(f);
	while (fgets(line, sizeof(line), f)) {
		if (line[0] == '#' || line[0] == '\n')
			continue;
		ck_assert_int_lt(n, MAXKEYS);
		ck_assert_int_eq(sscanf(line, "%*s %*s %2047s", keys[n]), 1);
		n++;
	}
	pclose(f);
	return n;
}

/*
 * Our view and ssh-keygen's agree: every key ssh-keygen finds for the
 * host matches, and every key of ours that matches is one it found.
 */
static void agree(LIBSSH2_KNOWNHOSTS *h, const char *path, int p)
{
	static char keys[MAXKEYS][KEYLEN];
	struct libssh2_knownhost *e = NULL;
	int n = keygen_find(path, p, keys), i, ours = 0, found;

	ck_assert_int_gt(n, 0);
	for (i = 0; i < n; i++)
		ck_assert_int_eq(libssh2_knownhost_checkp(h, HOST, p, keys[i],
							  0, PLAIN_B64, NULL),
				 LIBSSH2_KNOWNHOST_CHECK_MATCH);
	while (libssh2_knownhost_get(h, &e, e) == 0) {
		if (libssh2_knownhost_checkp(h, HOST, p, e->key, 0, PLAIN_B64,
					     NULL) !=
		    LIBSSH2_KNOWNHOST_CHECK_MATCH)
			continue;
		ours++;
		for (i = found = 0; i < n; i++)
			found |= !strcmp(keys[i], e->key);
		ck_assert_msg(found, "ssh-keygen -F did not find %s", e->key);
	}
	ck_assert_int_eq(ours, n);
}

static void make_dir(void)
{
	strcpy(dir, "/tmp/test_knownhost.XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(dir));
}

static void remove_dir(void)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	run(cmd);
}

START_TEST(fixture_file_every_key_type)
{
	struct libssh2_knownhost *e = NULL;
	LIBSSH2_KNOWNHOSTS *h;
	char name[64];
	int fd;
	LIBSSH2_SESSION *s = handshake(algs[_i], &fd);

	h = load(s, integ_env("SFTPMNT_TEST_KNOWN_HOSTS"), 5);
	ck_assert_int_eq(check_session(h, s, port(), &e),
			 LIBSSH2_KNOWNHOST_CHECK_MATCH);
	snprintf(name, sizeof(name), "[" HOST "]:%d", port());
	ck_assert_str_eq(e->name, name);
	ck_assert_int_eq(e->typemask & LIBSSH2_KNOWNHOST_KEY_MASK,
			 kh_types[_i]);
	ck_assert_int_eq(check_session(h, s, port() + 1, NULL),
			 LIBSSH2_KNOWNHOST_CHECK_NOTFOUND);
	ck_assert_int_eq(check_session(h, s, -1, NULL),
			 LIBSSH2_KNOWNHOST_CHECK_NOTFOUND);
	libssh2_knownhost_free(h);
	finish(s, fd);
}
END_TEST

START_TEST(mismatch_and_revoked)
{
	struct libssh2_knownhost *e = NULL;
	LIBSSH2_KNOWNHOSTS *h;
	char path[128], cmd[512];
	int fd;
	FILE *f;
	LIBSSH2_SESSION *s = handshake("ssh-ed25519", &fd);

	make_dir();
	snprintf(path, sizeof(path), "%s/other", dir);
	f = fopen(path, "w");
	ck_assert_ptr_nonnull(f);
	fprintf(f, "[" HOST "]:%d ssh-ed25519 %s\n", port(), OTHER_ED25519);
	fclose(f);
	h = load(s, path, 1);
	ck_assert_int_eq(check_session(h, s, port(), &e),
			 LIBSSH2_KNOWNHOST_CHECK_MISMATCH);
	ck_assert_str_eq(e->key, OTHER_ED25519);
	ck_assert_int_eq(check_session(h, s, port() + 1, NULL),
			 LIBSSH2_KNOWNHOST_CHECK_NOTFOUND);
	libssh2_knownhost_free(h);

	/* the right key, revoked on another line */
	snprintf(path, sizeof(path), "%s/revoked", dir);
	snprintf(cmd, sizeof(cmd),
		 "cp '%s' '%s' && echo \"@revoked * $(grep ' ssh-ed25519 ' "
		 "'%s' | cut -d' ' -f2,3)\" >>'%s'",
		 integ_env("SFTPMNT_TEST_KNOWN_HOSTS"), path,
		 integ_env("SFTPMNT_TEST_KNOWN_HOSTS"), path);
	run(cmd);
	h = load(s, path, 6);
	ck_assert_int_eq(check_session(h, s, port(), &e),
			 LIBSSH2_KNOWNHOST_CHECK_MISMATCH);
	ck_assert_str_eq(e->name, "*");
	ck_assert_int_eq(libssh2_session_last_errno(s),
			 LIBSSH2_ERROR_KNOWN_HOSTS);
	libssh2_knownhost_free(h);
	remove_dir();
	finish(s, fd);
}
END_TEST

START_TEST(keyscan_hashed_and_written)
{
	char scan[128], hashed[128], out[128], cmd[512];
	static char keys[MAXKEYS][KEYLEN];
	struct libssh2_knownhost *e = NULL;
	LIBSSH2_KNOWNHOSTS *h;
	int fd, p = port();
	LIBSSH2_SESSION *s = handshake(NULL, &fd);

	make_dir();
	snprintf(scan, sizeof(scan), "%s/scan", dir);
	snprintf(hashed, sizeof(hashed), "%s/hashed", dir);
	snprintf(out, sizeof(out), "%s/out", dir);
	snprintf(cmd, sizeof(cmd),
		 "ssh-keyscan -p %d " HOST " >'%s' 2>/dev/null", p, scan);
	run(cmd);
	h = load(s, scan, -1);
	ck_assert_int_eq(check_session(h, s, p, NULL),
			 LIBSSH2_KNOWNHOST_CHECK_MATCH);
	agree(h, scan, p);
	libssh2_knownhost_free(h);

	snprintf(cmd, sizeof(cmd),
		 "cp '%s' '%s' && ssh-keygen -q -H -f '%s' >/dev/null 2>&1",
		 scan, hashed, hashed);
	run(cmd);
	h = load(s, hashed, -1);
	while (libssh2_knownhost_get(h, &e, e) == 0) {
		ck_assert_int_eq(e->typemask & LIBSSH2_KNOWNHOST_TYPE_MASK,
				 LIBSSH2_KNOWNHOST_TYPE_SHA1);
		ck_assert_ptr_null(e->name);
	}
	ck_assert_int_eq(check_session(h, s, p, NULL),
			 LIBSSH2_KNOWNHOST_CHECK_MATCH);
	ck_assert_int_eq(check_session(h, s, p + 1, NULL),
			 LIBSSH2_KNOWNHOST_CHECK_NOTFOUND);
	agree(h, hashed, p);

	/* what we write, ssh-keygen finds */
	ck_assert_int_eq(libssh2_knownhost_writefile(
				 h, out, LIBSSH2_KNOWNHOST_FILE_OPENSSH),
			 0);
	agree(h, out, p);
	ck_assert_int_eq(keygen_find(out, p + 1, keys), 0);
	libssh2_knownhost_free(h);

	h = load(s, integ_env("SFTPMNT_TEST_KNOWN_HOSTS"), 5);
	ck_assert_int_eq(libssh2_knownhost_writefile(
				 h, out, LIBSSH2_KNOWNHOST_FILE_OPENSSH),
			 0);
	ck_assert_int_eq(keygen_find(out, p, keys), 5);
	libssh2_knownhost_free(h);
	h = load(s, out, 5);
	ck_assert_int_eq(check_session(h, s, p, NULL),
			 LIBSSH2_KNOWNHOST_CHECK_MATCH);
	agree(h, out, p);
	libssh2_knownhost_free(h);
	remove_dir();
	finish(s, fd);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("knownhost");
	TCase *tc = tcase_create("sshd");
	SRunner *sr;
	int failed;

	integ_env("SFTPMNT_TEST_PORT");
	integ_env("SFTPMNT_TEST_KNOWN_HOSTS");
	if (system("command -v ssh-keyscan >/dev/null && "
		   "command -v ssh-keygen >/dev/null")) {
		fprintf(stderr, "SKIP: no ssh-keyscan or ssh-keygen "
				"(install openssh-client)\n");
		return 77;
	}
	tcase_set_timeout(tc, 60);
	tcase_add_loop_test(tc, fixture_file_every_key_type, 0,
			    (int)(sizeof(algs) / sizeof(algs[0])));
	tcase_add_test(tc, mismatch_and_revoked);
	tcase_add_test(tc, keyscan_hashed_and_written);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
