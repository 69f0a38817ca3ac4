/*
 * test_userauth_ext.c - host-based authentication (RFC 4252 9) and FIDO
 * security keys (OpenSSH PROTOCOL.u2f) against the real test sshd.
 *
 * Host-based: refused by the fixture's default configuration; then, as
 * root (the fixture mounts DIR/home-overlay over the home directory for
 * ~/.shosts and ~/.ssh/known_hosts), accepted with an Ed25519 and an RSA
 * (rsa-sha2-*) client host key, and refused for a host name .shosts does
 * not list, with sshd logging the attempt.
 *
 * Security keys: there is no authenticator here, so the test is one -
 * sk-ssh-ed25519 and sk-ecdsa-sha2-nistp256 key files whose "key handle"
 * names a software key that the sign callback uses to answer as a FIDO
 * authenticator would (signing SHA-256(application) || flags || counter
 * || SHA-256(data)).  sshd verifies the signatures as for real keys.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "libssh2.h"

#include "buf.h"
#include "crypto/crypto.h"
#include "crypto/ed25519.h"
#include "crypto/pk.h"
#include "integ.h"
#include "integ_ssh.h"

static const char *fixture_dir(void)
{
	return integ_env("SFTPMNT_FIXTURE_DIR");
}

static void sshd_restart(const char *opts)
{
	ck_assert_int_eq(integ_sh("'%s' restart '%s' %s",
				  integ_env("SFTPMNT_FIXTURE"), fixture_dir(),
				  opts),
			 0);
}

static long log_size(void)
{
	char path[4096];
	struct stat st;

	snprintf(path, sizeof(path), "%s/sshd.log", fixture_dir());
	return stat(path, &st) ? 0 : (long)st.st_size;
}

/* The sshd log says text after byte `from` (5 s at most). */
static int log_says(const char *text, long from)
{
	char path[4096], line[4096];
	int i, found = 0;

	snprintf(path, sizeof(path), "%s/sshd.log", fixture_dir());
	for (i = 0; i < 500 && !found; i++) {
		FILE *f = fopen(path, "r");

		if (f) {
			fseek(f, from, SEEK_SET);
			while (!found && fgets(line, sizeof(line), f))
				found = strstr(line, text) != NULL;
			fclose(f);
		}
		if (!found)
			usleep(10000);
	}
	return found;
}

static int hostbased(LIBSSH2_SESSION *s, const char *key, const char *host)
{
	char pub[4200];
	const char *u = integ_env("SFTPMNT_TEST_USER");

	snprintf(pub, sizeof(pub), "%s.pub", key);
	return libssh2_userauth_hostbased_fromfile_ex(
		s, u, (unsigned)strlen(u), pub, key, NULL, host,
		(unsigned)strlen(host), u, (unsigned)strlen(u));
}

/* ---- host-based ---------------------------------------------------------- */

/* The fixture's sshd does not do host-based authentication: the
 * request is refused as libssh2 reports it, and the session goes on. */
START_TEST(hostbased_refused_by_default)
{
	char key[4096];
	int fd, rc;
	LIBSSH2_SESSION *s = integ_connected(&fd);

	snprintf(key, sizeof(key), "%s/hb_default", fixture_dir());
	ck_assert_int_eq(integ_sh("rm -f '%s' '%s.pub'; ssh-keygen -q -t "
				  "ed25519 -N '' -f '%s'",
				  key, key, key),
			 0);
	rc = hostbased(s, key, "client.sftpmnt.test");
	ck_assert_msg(rc == LIBSSH2_ERROR_PUBLICKEY_UNVERIFIED,
		      "hostbased: %d %s", rc, integ_errmsg(s));
	ck_assert_int_eq(libssh2_userauth_authenticated(s), 0);
	/* bad arguments: nothing sent */
	ck_assert_int_eq(libssh2_userauth_hostbased_fromfile_ex(
				 s, "u", 1, NULL, "/nonexistent-key", NULL, "h",
				 1, "u", 1),
			 LIBSSH2_ERROR_FILE);
	ck_assert_int_eq(libssh2_userauth_hostbased_fromfile_ex(
				 s, "u", 1, NULL, key, NULL, NULL, 0, "u", 1),
			 LIBSSH2_ERROR_INVAL);
	/* still able to log in otherwise */
	rc = libssh2_userauth_publickey_fromfile(
		s, integ_env("SFTPMNT_TEST_USER"), NULL,
		integ_env("SFTPMNT_TEST_KEY"), NULL);
	ck_assert_int_eq(rc, 0);
	integ_finish(s, fd);
}
END_TEST

START_TEST(hostbased_accepted)
{
	const char *dir = fixture_dir(), *u = integ_env("SFTPMNT_TEST_USER");
	char ov[4096], ed[4096], rsa[4096];
	LIBSSH2_SESSION *s;
	LIBSSH2_CHANNEL *c;
	char buf[64];
	int fd, rc;
	long from;

	if (getuid() != 0) {
		fprintf(stderr,
			"hostbased_accepted: not root, the fixture "
			"cannot give sshd a home of our own: skipped\n");
		return;
	}
	snprintf(ov, sizeof(ov), "%s/home-overlay", dir);
	snprintf(ed, sizeof(ed), "%s/hb_ed25519", dir);
	snprintf(rsa, sizeof(rsa), "%s/hb_rsa", dir);
	/* the client host's keys in ~/.ssh/known_hosts, the host and user
	 * in ~/.shosts */
	ck_assert_int_eq(
		integ_sh(
			"set -e; rm -rf '%s' '%s' '%s.pub' '%s' '%s.pub'; "
			"mkdir -p '%s/.ssh'; "
			"ssh-keygen -q -t ed25519 -N '' -f '%s'; "
			"ssh-keygen -q -t rsa -b 2048 -N '' -f '%s'; "
			"for k in '%s' '%s'; do "
			"echo \"client.sftpmnt.test $(cut -d' ' -f1,2 $k.pub)\""
			" >>'%s/.ssh/known_hosts'; done; "
			"echo 'client.sftpmnt.test %s' >'%s/.shosts'",
			ov, ed, ed, rsa, rsa, ov, ed, rsa, ed, rsa, ov, u, ov),
		0);
	/* IgnoreRhosts=shosts-only: ~/.shosts counts (it is ignored by
	 * default); the host name is taken from the request, not DNS */
	sshd_restart("HostbasedAuthentication=yes "
		     "HostbasedUsesNameFromPacketOnly=yes "
		     "IgnoreRhosts=shosts-only");

	s = integ_connected(&fd);
	rc = hostbased(s, ed, "client.sftpmnt.test");
	ck_assert_msg(rc == 0, "hostbased (ed25519): %d %s", rc,
		      integ_errmsg(s));
	ck_assert_int_eq(libssh2_userauth_authenticated(s), 1);
	c = integ_exec(s, "echo in");
	integ_read_all(c, 0, buf, sizeof(buf));
	ck_assert_str_eq(buf, "in\n");
	ck_assert_int_eq(integ_close(c), 0);
	integ_finish(s, fd);

	/* RSA: signed with rsa-sha2-*, named so in the request */
	s = integ_connected(&fd);
	rc = libssh2_userauth_hostbased_fromfile(s, u, NULL, rsa, NULL,
						 "client.sftpmnt.test");
	ck_assert_msg(rc == 0, "hostbased (rsa): %d %s", rc, integ_errmsg(s));
	integ_finish(s, fd);

	/* a host .shosts does not list: the server checked and refused */
	s = integ_connected(&fd);
	from = log_size();
	rc = hostbased(s, ed, "other.sftpmnt.test");
	ck_assert_msg(rc == LIBSSH2_ERROR_PUBLICKEY_UNVERIFIED,
		      "hostbased (unlisted host): %d %s", rc, integ_errmsg(s));
	ck_assert(log_says("Failed hostbased for", from));
	ck_assert_int_eq(libssh2_userauth_authenticated(s), 0);
	integ_finish(s, fd);

	ck_assert_int_eq(integ_sh("rm -rf '%s'", ov), 0);
	sshd_restart("");
}
END_TEST

/* ---- security keys ------------------------------------------------------- */

#define SK_APP	  "ssh:"
#define SK_HANDLE "sftpmnt-test-key-handle"

struct sk_test {
	int ecdsa;
	uint8_t seed[32], pk[32]; /* Ed25519 */
	struct crypto_ecdh ec;	  /* P-256: d and the public Q */
	uint8_t q[65];
	uint32_t counter;
	int calls, fail, corrupt;
};

static char *b64(const uint8_t *p, size_t n)
{
	static const char t[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrst"
				"uvwxyz0123456789+/";
	char *o = malloc(4 * ((n + 2) / 3) + 1), *w = o;
	size_t i;

	ck_assert_ptr_nonnull(o);
	for (i = 0; i < n; i += 3) {
		uint32_t v = (uint32_t)p[i] << 16 |
			     (i + 1 < n ? (uint32_t)p[i + 1] << 8 : 0) |
			     (i + 2 < n ? p[i + 2] : 0);

		*w++ = t[v >> 18];
		*w++ = t[(v >> 12) & 63];
		*w++ = i + 1 < n ? t[(v >> 6) & 63] : '=';
		*w++ = i + 2 < n ? t[v & 63] : '=';
	}
	*w = 0;
	return o;
}

static const char *sk_type(const struct sk_test *t)
{
	return t->ecdsa ? "sk-ecdsa-sha2-nistp256@openssh.com"
			: "sk-ssh-ed25519@openssh.com";
}

/* The public key fields after the type (PROTOCOL.u2f). */
static int sk_pub_fields(struct wbuf *w, const struct sk_test *t)
{
	if (t->ecdsa)
		return wb_cstring(w, "nistp256") || wb_string(w, t->q, 65) ||
		       wb_cstring(w, SK_APP);
	return wb_string(w, t->pk, 32) || wb_cstring(w, SK_APP);
}

/* A new software "authenticator" key, its key file (OpenSSH format, not
 * encrypted; PROTOCOL.key) and its authorized_keys line. */
static char *sk_make(struct sk_test *t, int ecdsa)
{
	struct wbuf pub, priv, file;
	char *b, *text, *line;
	size_t i, tl;
	int pad;
	FILE *f;
	char path[4096];

	memset(t, 0, sizeof(*t));
	t->ecdsa = ecdsa;
	t->counter = 1;
	if (ecdsa)
		ck_assert_int_eq(
			crypto_ecdh_keygen(&t->ec, CRYPTO_EC_NISTP256, t->q),
			0);
	else {
		ck_assert_int_eq(crypto_random(t->seed, 32), 0);
		ck_assert_int_eq(ed25519_pubkey(t->pk, t->seed), 0);
	}
	wb_init(&pub, &lalloc_system, 4096);
	ck_assert_int_eq(wb_cstring(&pub, sk_type(t)) || sk_pub_fields(&pub, t),
			 0);
	wb_init(&priv, &lalloc_system, 4096);
	ck_assert_int_eq(
		wb_u32(&priv, 0x5eed5eed) || wb_u32(&priv, 0x5eed5eed) ||
			wb_cstring(&priv, sk_type(t)) ||
			(ecdsa ? wb_cstring(&priv, "nistp256") ||
					 wb_string(&priv, t->q, 65)
			       : wb_string(&priv, t->pk, 32)) ||
			wb_cstring(&priv, SK_APP) ||
			wb_u8(&priv, LIBSSH2_SK_PRESENCE_REQUIRED) ||
			wb_cstring(&priv, SK_HANDLE) || wb_cstring(&priv, "") ||
			wb_cstring(&priv, "sftpmnt test sk key"),
		0);
	for (pad = 1; priv.len % 8; pad++)
		ck_assert_int_eq(wb_u8(&priv, (uint8_t)pad), 0);
	wb_init(&file, &lalloc_system, 8192);
	ck_assert_int_eq(wb_bytes(&file, "openssh-key-v1", 15) ||
				 wb_cstring(&file, "none") ||
				 wb_cstring(&file, "none") ||
				 wb_cstring(&file, "") || wb_u32(&file, 1) ||
				 wb_string(&file, pub.p, pub.len) ||
				 wb_string(&file, priv.p, priv.len),
			 0);
	b = b64(file.p, file.len);
	tl = strlen(b);
	text = malloc(tl + tl / 70 + 128);
	ck_assert_ptr_nonnull(text);
	strcpy(text, "-----BEGIN OPENSSH PRIVATE KEY-----\n");
	for (i = 0; i < tl; i += 70) {
		strncat(text, b + i, 70);
		strcat(text, "\n");
	}
	strcat(text, "-----END OPENSSH PRIVATE KEY-----\n");
	free(b);

	/* authorized */
	b = b64(pub.p, pub.len);
	snprintf(path, sizeof(path), "%s/authorized_keys", fixture_dir());
	f = fopen(path, "a");
	ck_assert_ptr_nonnull(f);
	line = malloc(strlen(b) + 128);
	ck_assert_ptr_nonnull(line);
	sprintf(line, "%s %s sftpmnt-sk-test\n", sk_type(t), b);
	fputs(line, f);
	fclose(f);
	free(line);
	free(b);
	wb_free(&pub);
	wb_free_wipe(&priv);
	wb_free(&file);
	return text;
}

/* The callback: a FIDO authenticator in software. */
static LIBSSH2_USERAUTH_SK_SIGN_FUNC(sk_sign)
{
	struct sk_test *t = *abstract;
	uint8_t msg[32 + 1 + 4 + 32], h[32];

	(void)session;
	t->calls++;
	ck_assert_int_eq(algorithm, t->ecdsa ? LIBSSH2_HOSTKEY_TYPE_ECDSA_256
					     : LIBSSH2_HOSTKEY_TYPE_ED25519);
	ck_assert_int_eq(flags, LIBSSH2_SK_PRESENCE_REQUIRED);
	ck_assert_str_eq(application, SK_APP);
	ck_assert_uint_eq(handle_len, strlen(SK_HANDLE));
	ck_assert_int_eq(memcmp(key_handle, SK_HANDLE, handle_len), 0);
	if (t->fail)
		return -1;
	/* WebAuthn/U2F: SHA-256(application) || flags || counter ||
	 * SHA-256(data) */
	ck_assert_int_eq(crypto_hash(CRYPTO_SHA256, application,
				     strlen(application), msg),
			 0);
	msg[32] = LIBSSH2_SK_PRESENCE_REQUIRED;
	put_u32(msg + 33, t->counter);
	ck_assert_int_eq(crypto_hash(CRYPTO_SHA256, data, data_len, msg + 37),
			 0);
	sig_info->flags = LIBSSH2_SK_PRESENCE_REQUIRED;
	sig_info->counter = t->counter++;
	if (t->ecdsa) {
		sig_info->sig_r = malloc(32);
		sig_info->sig_s = malloc(32);
		ck_assert_int_eq(
			crypto_hash(CRYPTO_SHA256, msg, sizeof(msg), h), 0);
		ck_assert_int_eq(crypto_ecdsa_sign(CRYPTO_EC_NISTP256, t->ec.d,
						   32, h, 32, sig_info->sig_r,
						   sig_info->sig_s),
				 0);
		sig_info->sig_r_len = sig_info->sig_s_len = 32;
	} else {
		sig_info->sig_r = malloc(64);
		ck_assert_int_eq(ed25519_sign(sig_info->sig_r, msg, sizeof(msg),
					      t->seed, t->pk),
				 0);
		sig_info->sig_r_len = 64;
	}
	if (t->corrupt)
		sig_info->sig_r[5] ^= 1;
	return 0;
}

static int sk_auth(LIBSSH2_SESSION *s, struct sk_test *t, const char *key)
{
	const char *u = integ_env("SFTPMNT_TEST_USER");
	void *abstract = t;

	return libssh2_userauth_publickey_sk(s, u, strlen(u), NULL, 0, key,
					     strlen(key), NULL, sk_sign,
					     &abstract);
}

static void sk_login(int ecdsa)
{
	struct sk_test t;
	char *key = sk_make(&t, ecdsa), buf[64];
	int fd, rc;
	LIBSSH2_SESSION *s = integ_connected(&fd);
	LIBSSH2_CHANNEL *c;

	rc = sk_auth(s, &t, key);
	ck_assert_msg(rc == 0, "publickey_sk (%s): %d %s", sk_type(&t), rc,
		      integ_errmsg(s));
	ck_assert_int_eq(t.calls, 1);
	ck_assert_int_eq(libssh2_userauth_authenticated(s), 1);
	c = integ_exec(s, "echo sk");
	integ_read_all(c, 0, buf, sizeof(buf));
	ck_assert_str_eq(buf, "sk\n");
	ck_assert_int_eq(integ_close(c), 0);
	integ_finish(s, fd);
	crypto_ecdh_free(&t.ec);
	free(key);
}

START_TEST(sk_ed25519)
{
	sk_login(0);
}
END_TEST

START_TEST(sk_ecdsa)
{
	sk_login(1);
}
END_TEST

START_TEST(sk_failures)
{
	struct sk_test t;
	char *key = sk_make(&t, 0);
	int fd, rc;
	LIBSSH2_SESSION *s = integ_connected(&fd);
	const char *u = integ_env("SFTPMNT_TEST_USER");
	void *abstract = &t;
	char *other;
	size_t n;
	FILE *f;

	/* the authenticator fails: nothing is sent */
	t.fail = 1;
	rc = sk_auth(s, &t, key);
	ck_assert_msg(rc == LIBSSH2_ERROR_PUBLICKEY_UNVERIFIED, "%d %s", rc,
		      integ_errmsg(s));
	/* a bad signature: sshd refuses it */
	t.fail = 0;
	t.corrupt = 1;
	rc = sk_auth(s, &t, key);
	ck_assert_msg(rc == LIBSSH2_ERROR_PUBLICKEY_UNVERIFIED, "%d %s", rc,
		      integ_errmsg(s));
	ck_assert_int_eq(libssh2_userauth_authenticated(s), 0);
	/* no key file, or one that is not a security key's */
	rc = libssh2_userauth_publickey_sk(s, u, strlen(u), NULL, 0, NULL, 0,
					   NULL, sk_sign, &abstract);
	ck_assert_int_eq(rc, LIBSSH2_ERROR_FILE);
	other = malloc(65536);
	f = fopen(integ_env("SFTPMNT_TEST_KEY"), "r");
	ck_assert_ptr_nonnull(f);
	n = fread(other, 1, 65535, f);
	fclose(f);
	other[n] = 0;
	rc = libssh2_userauth_publickey_sk(s, u, strlen(u), NULL, 0, other, n,
					   NULL, sk_sign, &abstract);
	ck_assert_int_eq(rc, LIBSSH2_ERROR_FILE);
	free(other);
	/* the plain key file call cannot use it: it needs an authenticator */
	rc = libssh2_userauth_publickey_frommemory(s, u, strlen(u), NULL, 0,
						   key, strlen(key), NULL);
	ck_assert_int_eq(rc, LIBSSH2_ERROR_METHOD_NOT_SUPPORTED);
	/* and then the right signature works on the same session */
	t.corrupt = 0;
	rc = sk_auth(s, &t, key);
	ck_assert_msg(rc == 0, "%d %s", rc, integ_errmsg(s));
	integ_finish(s, fd);
	free(key);
}
END_TEST

/* libssh2_sign_sk on its own: string signature, flags, counter. */
START_TEST(sign_sk_format)
{
	struct sk_test t;
	char *key = sk_make(&t, 0);
	LIBSSH2_SESSION *s = libssh2_session_init();
	LIBSSH2_PRIVKEY_SK sk;
	void *abstract = &t, *skp = &sk;
	unsigned char *sig = NULL;
	size_t len = 0;

	memset(&sk, 0, sizeof(sk));
	sk.algorithm = LIBSSH2_HOSTKEY_TYPE_ED25519;
	sk.flags = LIBSSH2_SK_PRESENCE_REQUIRED;
	sk.application = SK_APP;
	sk.key_handle = (const unsigned char *)SK_HANDLE;
	sk.handle_len = strlen(SK_HANDLE);
	sk.sign_callback = sk_sign;
	sk.orig_abstract = &abstract;
	ck_assert_int_eq(libssh2_sign_sk(s, &sig, &len,
					 (const unsigned char *)"data", 4,
					 &skp),
			 0);
	ck_assert_uint_eq(len, 4 + 64 + 1 + 4);
	ck_assert_uint_eq(get_u32(sig), 64);
	ck_assert_uint_eq(sig[68], LIBSSH2_SK_PRESENCE_REQUIRED);
	ck_assert_uint_eq(get_u32(sig + 69), 1);
	libssh2_free(s, sig);
	/* no key handle: nothing to ask the authenticator */
	sk.handle_len = 0;
	ck_assert_int_eq(libssh2_sign_sk(s, &sig, &len,
					 (const unsigned char *)"data", 4,
					 &skp),
			 LIBSSH2_ERROR_DECRYPT);
	libssh2_session_free(s);
	free(key);
}
END_TEST

int main(void)
{
	Suite *su = suite_create("userauth_ext");
	TCase *tc = tcase_create("sshd");
	SRunner *sr;
	int failed;

	integ_env("SFTPMNT_TEST_PORT");
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, hostbased_refused_by_default);
	tcase_add_test(tc, sk_ed25519);
	tcase_add_test(tc, sk_ecdsa);
	tcase_add_test(tc, sk_failures);
	tcase_add_test(tc, sign_sk_format);
	tcase_add_test(tc, hostbased_accepted); /* restarts the sshd */
	suite_add_tcase(su, tc);
	sr = srunner_create(su);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
