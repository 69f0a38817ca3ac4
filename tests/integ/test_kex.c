/*
 * test_kex.c - key exchange against the real test sshd: every cipher and
 * MAC negotiated one at a time (method_pref) with a round trip that
 * exercises both directions under the new keys (SERVICE_REQUEST /
 * SERVICE_ACCEPT, after the server's encrypted EXT_INFO), strict KEX
 * confirmed, host key fingerprints equal to ssh-keygen's, a server
 * forced to one cipher, a non-blocking handshake, and the errors of
 * method_pref and of a negotiation that cannot succeed.
 */
#include <check.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "libssh2.h"
#include "session.h"

#include "integ.h"

static LIBSSH2_SESSION *connect_with(const char *kex, const char *cipher,
				     const char *mac, int *fd)
{
	LIBSSH2_SESSION *s = libssh2_session_init();
	int rc, sent = 0;
	char *msg;

	ck_assert_ptr_nonnull(s);
	libssh2_session_set_timeout(s, 20000);
	if (kex)
		ck_assert_int_eq(libssh2_session_method_pref(
					 s, LIBSSH2_METHOD_KEX, kex), 0);
	if (cipher) {
		ck_assert_int_eq(libssh2_session_method_pref(
					 s, LIBSSH2_METHOD_CRYPT_CS, cipher), 0);
		ck_assert_int_eq(libssh2_session_method_pref(
					 s, LIBSSH2_METHOD_CRYPT_SC, cipher), 0);
	}
	if (mac) {
		ck_assert_int_eq(libssh2_session_method_pref(
					 s, LIBSSH2_METHOD_MAC_CS, mac), 0);
		ck_assert_int_eq(libssh2_session_method_pref(
					 s, LIBSSH2_METHOD_MAC_SC, mac), 0);
	}
	*fd = integ_connect(0);
	rc = libssh2_session_handshake(s, *fd);
	libssh2_session_last_error(s, &msg, NULL, 0);
	ck_assert_msg(rc == 0, "handshake %s/%s/%s: %d %s", kex, cipher, mac,
		      rc, msg);
	rc = SESS_BLOCK(s, integ_service_step(s, &sent));
	libssh2_session_last_error(s, &msg, NULL, 0);
	ck_assert_msg(rc == 0, "service request %s/%s: %d %s", cipher, mac,
		      rc, msg);
	return s;
}

static void finish(LIBSSH2_SESSION *s, int fd)
{
	ck_assert_int_eq(libssh2_session_disconnect(s, "test done"), 0);
	ck_assert_int_eq(libssh2_session_free(s), 0);
	close(fd);
}

static const char *const ciphers[] = {
	"chacha20-poly1305@openssh.com", "aes128-gcm@openssh.com",
	"aes256-gcm@openssh.com",	 "aes128-ctr",
	"aes192-ctr",			 "aes256-ctr",
};
static const char *const macs[] = {
	"hmac-sha2-256-etm@openssh.com", "hmac-sha2-512-etm@openssh.com",
	"hmac-sha2-256",		 "hmac-sha2-512",
	"hmac-sha1-etm@openssh.com",	 "hmac-sha1",
};
#define NMACS (sizeof(macs) / sizeof(macs[0]))

START_TEST(every_cipher_and_mac)
{
	const char *c = ciphers[_i / NMACS], *m = macs[_i % NMACS];
	int fd, aead = strstr(c, "gcm") || strstr(c, "chacha");
	LIBSSH2_SESSION *s = connect_with(NULL, c, m, &fd);

	ck_assert_str_eq(libssh2_session_methods(s, LIBSSH2_METHOD_CRYPT_CS),
			 c);
	ck_assert_str_eq(libssh2_session_methods(s, LIBSSH2_METHOD_CRYPT_SC),
			 c);
	/* The MAC name list must still agree with an AEAD cipher, whose
	 * tag replaces it; with other ciphers it is what we asked. */
	if (!aead)
		ck_assert_str_eq(
			libssh2_session_methods(s, LIBSSH2_METHOD_MAC_SC), m);
	finish(s, fd);
}
END_TEST

START_TEST(kex_methods)
{
	static const char *const kex[] = { "curve25519-sha256",
					   "curve25519-sha256@libssh.org" };
	int fd;
	LIBSSH2_SESSION *s = connect_with(kex[_i], NULL, NULL, &fd);

	ck_assert_str_eq(libssh2_session_methods(s, LIBSSH2_METHOD_KEX),
			 kex[_i]);
	finish(s, fd);
}
END_TEST

/* libssh2_hostkey_hash against `ssh-keygen -l` of the server's key. */
static void fingerprint(const char *hashname, char *out, size_t cap)
{
	char cmd[1024];
	FILE *f;

	snprintf(cmd, sizeof(cmd),
		 "ssh-keygen -l -E %s -f '%s/host_ed25519.pub' | cut -d' ' -f2",
		 hashname, getenv("SFTPMNT_FIXTURE_CACHE"));
	f = popen(cmd, "r");
	ck_assert_ptr_nonnull(f);
	ck_assert_ptr_nonnull(fgets(out, (int)cap, f));
	out[strcspn(out, "\n")] = 0;
	pclose(f);
}

START_TEST(defaults_strict_and_fingerprints)
{
	static const char b64[] =
		"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	const unsigned char *h;
	char want[256], got[256];
	size_t len, i, o = 0;
	const char *key;
	int fd, type;
	uint32_t v;
	LIBSSH2_SESSION *s = connect_with(NULL, NULL, NULL, &fd);

	/* our first choice, which OpenSSH 9.2 enables by default */
	ck_assert_str_eq(libssh2_session_methods(s, LIBSSH2_METHOD_KEX),
			 "sntrup761x25519-sha512@openssh.com");
	ck_assert_str_eq(libssh2_session_methods(s, LIBSSH2_METHOD_HOSTKEY),
			 "ssh-ed25519");
	ck_assert_str_eq(libssh2_session_methods(s, LIBSSH2_METHOD_CRYPT_CS),
			 "chacha20-poly1305@openssh.com");
	/* OpenSSH 9.2 offers kex-strict-s: strict mode must be on, and
	 * ext-info delivered server-sig-algs. */
	ck_assert_int_eq(s->kex.strict, 1);
	ck_assert_ptr_nonnull(s->kex.server_sig_algs);
	ck_assert_ptr_nonnull(strstr(s->kex.server_sig_algs, "ssh-ed25519"));

	key = libssh2_session_hostkey(s, &len, &type);
	ck_assert_ptr_nonnull(key);
	ck_assert_int_eq(type, LIBSSH2_HOSTKEY_TYPE_ED25519);
	ck_assert_uint_eq(len, 51);

	/* SHA256: base64 without padding, as ssh-keygen prints it */
	h = (const unsigned char *)libssh2_hostkey_hash(
		s, LIBSSH2_HOSTKEY_HASH_SHA256);
	ck_assert_ptr_nonnull(h);
	strcpy(got, "SHA256:");
	o = 7;
	for (i = 0; i < 32; i += 3) {
		v = (uint32_t)h[i] << 16 | (i + 1 < 32 ? h[i + 1] << 8 : 0) |
		    (i + 2 < 32 ? h[i + 2] : 0);
		got[o++] = b64[v >> 18 & 63];
		got[o++] = b64[v >> 12 & 63];
		if (i + 1 < 32)
			got[o++] = b64[v >> 6 & 63];
		if (i + 2 < 32)
			got[o++] = b64[v & 63];
	}
	got[o] = 0;
	fingerprint("sha256", want, sizeof(want));
	ck_assert_str_eq(got, want);

	/* MD5: colon-separated hex */
	h = (const unsigned char *)libssh2_hostkey_hash(s,
							LIBSSH2_HOSTKEY_HASH_MD5);
	strcpy(got, "MD5");
	for (i = 0, o = 3; i < 16; i++)
		o += (size_t)sprintf(got + o, ":%02x", h[i]);
	fingerprint("md5", want, sizeof(want));
	ck_assert_str_eq(got, want);
	ck_assert_ptr_nonnull(
		libssh2_hostkey_hash(s, LIBSSH2_HOSTKEY_HASH_SHA1));
	ck_assert_ptr_null(libssh2_hostkey_hash(s, 99));
	finish(s, fd);
}
END_TEST

START_TEST(server_forced_cipher)
{
	char cmd[1024];
	int fd;
	LIBSSH2_SESSION *s;

	snprintf(cmd, sizeof(cmd), "'%s' restart '%s' Ciphers=aes256-ctr "
				   "MACs=hmac-sha2-512",
		 getenv("SFTPMNT_FIXTURE"), getenv("SFTPMNT_FIXTURE_DIR"));
	ck_assert_int_eq(system(cmd), 0);
	s = connect_with(NULL, NULL, NULL, &fd);
	ck_assert_str_eq(libssh2_session_methods(s, LIBSSH2_METHOD_CRYPT_SC),
			 "aes256-ctr");
	ck_assert_str_eq(libssh2_session_methods(s, LIBSSH2_METHOD_MAC_CS),
			 "hmac-sha2-512");
	finish(s, fd);
	snprintf(cmd, sizeof(cmd), "'%s' restart '%s'",
		 getenv("SFTPMNT_FIXTURE"), getenv("SFTPMNT_FIXTURE_DIR"));
	ck_assert_int_eq(system(cmd), 0);
}
END_TEST

START_TEST(nonblocking_handshake)
{
	LIBSSH2_SESSION *s = libssh2_session_init();
	int fd = integ_connect(0), rc, eagain = 0;

	libssh2_session_set_blocking(s, 0);
	ck_assert_int_eq(libssh2_session_get_blocking(s), 0);
	while ((rc = libssh2_session_handshake(s, fd)) ==
	       LIBSSH2_ERROR_EAGAIN) {
		struct pollfd p = { .fd = fd };
		int d = libssh2_session_block_directions(s);

		ck_assert_int_ne(d, 0);
		p.events = (d & LIBSSH2_SESSION_BLOCK_INBOUND ? POLLIN : 0) |
			   (d & LIBSSH2_SESSION_BLOCK_OUTBOUND ? POLLOUT : 0);
		ck_assert_int_eq(poll(&p, 1, 10000), 1);
		eagain++;
		ck_assert_int_lt(eagain, 10000);
	}
	ck_assert_int_eq(rc, 0);
	/* a real server needs several round trips: we must have waited */
	ck_assert_waited(eagain);
	ck_assert_ptr_nonnull(libssh2_session_methods(s, LIBSSH2_METHOD_KEX));
	libssh2_session_set_blocking(s, 1);
	finish(s, fd);
}
END_TEST

START_TEST(method_pref_errors)
{
	LIBSSH2_SESSION *s = libssh2_session_init();
	const char **algs;
	int n, i, found = 0;

	ck_assert_int_eq(libssh2_session_method_pref(s, LIBSSH2_METHOD_CRYPT_CS,
						     "bogus-cipher"),
			 LIBSSH2_ERROR_METHOD_NOT_SUPPORTED);
	ck_assert_int_eq(libssh2_session_method_pref(s, 99, "aes128-ctr"),
			 LIBSSH2_ERROR_INVAL);
	/* unknown names are dropped, known ones kept */
	ck_assert_int_eq(libssh2_session_method_pref(s, LIBSSH2_METHOD_CRYPT_CS,
						     "bogus,aes128-ctr"),
			 0);
	ck_assert_str_eq(s->kex.pref[LIBSSH2_METHOD_CRYPT_CS], "aes128-ctr");
	n = libssh2_session_supported_algs(s, LIBSSH2_METHOD_CRYPT_CS, &algs);
	ck_assert_int_gt(n, 5);
	for (i = 0; i < n; i++)
		found |= !strcmp(algs[i], "chacha20-poly1305@openssh.com");
	ck_assert(found);
	libssh2_free(s, algs);
	ck_assert_ptr_null(libssh2_session_methods(s, LIBSSH2_METHOD_KEX));
	libssh2_session_free(s);
}
END_TEST

START_TEST(no_common_algorithm)
{
	LIBSSH2_SESSION *s = libssh2_session_init();
	int fd = integ_connect(0);
	char *msg;

	/* OpenSSH 9.2 no longer offers CBC by default */
	ck_assert_int_eq(libssh2_session_method_pref(s, LIBSSH2_METHOD_CRYPT_CS,
						     "aes128-cbc"),
			 0);
	ck_assert_int_eq(libssh2_session_handshake(s, fd),
			 LIBSSH2_ERROR_KEX_FAILURE);
	ck_assert_int_eq(libssh2_session_last_error(s, &msg, NULL, 0),
			 LIBSSH2_ERROR_KEX_FAILURE);
	ck_assert_ptr_nonnull(strstr(msg, "aes128-cbc"));
	libssh2_session_free(s);
	close(fd);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("kex");
	TCase *tc = tcase_create("sshd");
	SRunner *sr;
	int failed;

	integ_env("SFTPMNT_TEST_PORT");
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, defaults_strict_and_fingerprints);
	tcase_add_loop_test(tc, every_cipher_and_mac, 0,
			    (int)(sizeof(ciphers) / sizeof(ciphers[0]) * NMACS));
	tcase_add_loop_test(tc, kex_methods, 0, 2);
	tcase_add_test(tc, nonblocking_handshake);
	tcase_add_test(tc, method_pref_errors);
	tcase_add_test(tc, no_common_algorithm);
	tcase_add_test(tc, server_forced_cipher);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
