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

/* `ssh-keygen -l -E hashname` of the fixture's host key file `key`:
 * the fingerprint field ("SHA256:...", "MD5:aa:bb..."). */
static void fingerprint(const char *hashname, const char *key, char *out,
			size_t cap)
{
	char cmd[1024];
	FILE *f;

	snprintf(cmd, sizeof(cmd),
		 "ssh-keygen -l -E %s -f '%s/%s.pub' | cut -d' ' -f2", hashname,
		 getenv("SFTPMNT_FIXTURE_CACHE"), key);
	f = popen(cmd, "r");
	ck_assert_ptr_nonnull(f);
	ck_assert_ptr_nonnull(fgets(out, (int)cap, f));
	out[strcspn(out, "\n")] = 0;
	pclose(f);
}

/* prefix ":" base64 of h[n] without padding, as ssh-keygen prints
 * SHA256 and SHA1 fingerprints. */
static void b64_fp(const char *prefix, const unsigned char *h, size_t n,
		   char *out)
{
	static const char b64[] =
		"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	size_t i, o = (size_t)sprintf(out, "%s:", prefix);
	uint32_t v;

	for (i = 0; i < n; i += 3) {
		v = (uint32_t)h[i] << 16 | (i + 1 < n ? h[i + 1] << 8 : 0) |
		    (i + 2 < n ? h[i + 2] : 0);
		out[o++] = b64[v >> 18 & 63];
		out[o++] = b64[v >> 12 & 63];
		if (i + 1 < n)
			out[o++] = b64[v >> 6 & 63];
		if (i + 2 < n)
			out[o++] = b64[v & 63];
	}
	out[o] = 0;
}

/* libssh2_hostkey_hash of the session's host key against ssh-keygen's
 * fingerprints of the key file: SHA256 and SHA1 (base64), MD5 (hex). */
static void check_fingerprints(LIBSSH2_SESSION *s, const char *key)
{
	const unsigned char *h;
	char want[256], got[256];
	size_t i, o;

	h = (const unsigned char *)libssh2_hostkey_hash(
		s, LIBSSH2_HOSTKEY_HASH_SHA256);
	ck_assert_ptr_nonnull(h);
	b64_fp("SHA256", h, 32, got);
	fingerprint("sha256", key, want, sizeof(want));
	ck_assert_str_eq(got, want);
	h = (const unsigned char *)libssh2_hostkey_hash(
		s, LIBSSH2_HOSTKEY_HASH_SHA1);
	ck_assert_ptr_nonnull(h);
	b64_fp("SHA1", h, 20, got);
	fingerprint("sha1", key, want, sizeof(want));
	ck_assert_str_eq(got, want);
	h = (const unsigned char *)libssh2_hostkey_hash(
		s, LIBSSH2_HOSTKEY_HASH_MD5);
	ck_assert_ptr_nonnull(h);
	strcpy(got, "MD5");
	for (i = 0, o = 3; i < 16; i++)
		o += (size_t)sprintf(got + o, ":%02x", h[i]);
	fingerprint("md5", key, want, sizeof(want));
	ck_assert_str_eq(got, want);
}

START_TEST(defaults_strict_and_fingerprints)
{
	const char *key;
	size_t len;
	int fd, type;
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
	check_fingerprints(s, "host_ed25519");
	ck_assert_ptr_null(libssh2_hostkey_hash(s, 99));
	finish(s, fd);
}
END_TEST

/* Every host key algorithm forced with method_pref against sshd (which
 * holds one key of each type), reported by session_methods, the key of
 * the right type, its fingerprints (SHA256, SHA1, MD5) equal to
 * ssh-keygen's.  ssh-rsa (SHA-1 signatures) is legacy: OpenSSH 9.2
 * offers it only when told to, and we only when asked. */
static const struct {
	const char *alg, *file;
	int type;
} hostkeys[] = {
	{"ssh-ed25519", "host_ed25519", LIBSSH2_HOSTKEY_TYPE_ED25519},
	{"ecdsa-sha2-nistp256", "host_ecdsa256",
	 LIBSSH2_HOSTKEY_TYPE_ECDSA_256},
	{"ecdsa-sha2-nistp384", "host_ecdsa384",
	 LIBSSH2_HOSTKEY_TYPE_ECDSA_384},
	{"ecdsa-sha2-nistp521", "host_ecdsa521",
	 LIBSSH2_HOSTKEY_TYPE_ECDSA_521},
	{"rsa-sha2-512", "host_rsa", LIBSSH2_HOSTKEY_TYPE_RSA},
	{"rsa-sha2-256", "host_rsa", LIBSSH2_HOSTKEY_TYPE_RSA},
	{"ssh-rsa", "host_rsa", LIBSSH2_HOSTKEY_TYPE_RSA},
};
#define NHOSTKEYS (int)(sizeof(hostkeys) / sizeof(hostkeys[0]))

static void restart_sshd(const char *option)
{
	char cmd[1024];

	snprintf(cmd, sizeof(cmd), "'%s' restart '%s'%s%s%s",
		 getenv("SFTPMNT_FIXTURE"), getenv("SFTPMNT_FIXTURE_DIR"),
		 option ? " '" : "", option ? option : "", option ? "'" : "");
	ck_assert_int_eq(system(cmd), 0);
}

START_TEST(every_hostkey)
{
	int legacy = !strcmp(hostkeys[_i].alg, "ssh-rsa"), fd, type;
	LIBSSH2_SESSION *s;
	const char **algs;
	size_t len;
	int i, n;

	/* supported ... */
	s = libssh2_session_init();
	ck_assert_ptr_nonnull(s);
	n = libssh2_session_supported_algs(s, LIBSSH2_METHOD_HOSTKEY, &algs);
	ck_assert_int_gt(n, 0);
	for (i = 0; i < n && strcmp(algs[i], hostkeys[_i].alg); i++)
		;
	ck_assert_int_lt(i, n);
	libssh2_free(s, algs);
	if (legacy) {
		/* ... but not offered unless asked for: a server that
		 * signs with nothing else finds nothing in common */
		restart_sshd("HostKeyAlgorithms=ssh-rsa");
		libssh2_session_set_timeout(s, 20000);
		fd = integ_connect(0);
		ck_assert_int_eq(libssh2_session_handshake(s, fd),
				 LIBSSH2_ERROR_KEX_FAILURE);
		close(fd);
	}
	libssh2_session_free(s);

	s = libssh2_session_init();
	ck_assert_ptr_nonnull(s);
	libssh2_session_set_timeout(s, 20000);
	ck_assert_int_eq(libssh2_session_method_pref(s, LIBSSH2_METHOD_HOSTKEY,
						     hostkeys[_i].alg),
			 0);
	fd = integ_connect(0);
	ck_assert_int_eq(libssh2_session_handshake(s, fd), 0);
	ck_assert_str_eq(libssh2_session_methods(s, LIBSSH2_METHOD_HOSTKEY),
			 hostkeys[_i].alg);
	ck_assert_ptr_nonnull(libssh2_session_hostkey(s, &len, &type));
	ck_assert_int_eq(type, hostkeys[_i].type);
	check_fingerprints(s, hostkeys[_i].file);
	finish(s, fd);
	if (legacy)
		restart_sshd(NULL);
}
END_TEST

/* Every algorithm of the default sets forced from the server's side
 * (sshd restarted with only that one), with our defaults: agreed,
 * reported by session_methods, and a round trip under the new keys
 * (connect_with).  A MAC needs a cipher without its own tag. */
static const struct {
	const char *opt;
	int type;
	const char *name;
} forced[] = {
	{"KexAlgorithms", LIBSSH2_METHOD_KEX,
	 "sntrup761x25519-sha512@openssh.com"},
	{"KexAlgorithms", LIBSSH2_METHOD_KEX, "curve25519-sha256"},
	{"KexAlgorithms", LIBSSH2_METHOD_KEX, "curve25519-sha256@libssh.org"},
	{"KexAlgorithms", LIBSSH2_METHOD_KEX, "ecdh-sha2-nistp256"},
	{"KexAlgorithms", LIBSSH2_METHOD_KEX, "ecdh-sha2-nistp384"},
	{"KexAlgorithms", LIBSSH2_METHOD_KEX, "ecdh-sha2-nistp521"},
	{"KexAlgorithms", LIBSSH2_METHOD_KEX,
	 "diffie-hellman-group-exchange-sha256"},
	{"KexAlgorithms", LIBSSH2_METHOD_KEX, "diffie-hellman-group16-sha512"},
	{"KexAlgorithms", LIBSSH2_METHOD_KEX, "diffie-hellman-group18-sha512"},
	{"KexAlgorithms", LIBSSH2_METHOD_KEX, "diffie-hellman-group14-sha256"},
	{"HostKeyAlgorithms", LIBSSH2_METHOD_HOSTKEY, "ssh-ed25519"},
	{"HostKeyAlgorithms", LIBSSH2_METHOD_HOSTKEY, "ecdsa-sha2-nistp256"},
	{"HostKeyAlgorithms", LIBSSH2_METHOD_HOSTKEY, "ecdsa-sha2-nistp384"},
	{"HostKeyAlgorithms", LIBSSH2_METHOD_HOSTKEY, "ecdsa-sha2-nistp521"},
	{"HostKeyAlgorithms", LIBSSH2_METHOD_HOSTKEY, "rsa-sha2-512"},
	{"HostKeyAlgorithms", LIBSSH2_METHOD_HOSTKEY, "rsa-sha2-256"},
	{"Ciphers", LIBSSH2_METHOD_CRYPT_SC, "chacha20-poly1305@openssh.com"},
	{"Ciphers", LIBSSH2_METHOD_CRYPT_SC, "aes128-gcm@openssh.com"},
	{"Ciphers", LIBSSH2_METHOD_CRYPT_SC, "aes256-gcm@openssh.com"},
	{"Ciphers", LIBSSH2_METHOD_CRYPT_SC, "aes128-ctr"},
	{"Ciphers", LIBSSH2_METHOD_CRYPT_SC, "aes192-ctr"},
	{"Ciphers", LIBSSH2_METHOD_CRYPT_SC, "aes256-ctr"},
	{"MACs", LIBSSH2_METHOD_MAC_SC, "hmac-sha2-256-etm@openssh.com"},
	{"MACs", LIBSSH2_METHOD_MAC_SC, "hmac-sha2-512-etm@openssh.com"},
	{"MACs", LIBSSH2_METHOD_MAC_SC, "hmac-sha2-256"},
	{"MACs", LIBSSH2_METHOD_MAC_SC, "hmac-sha2-512"},
	{"MACs", LIBSSH2_METHOD_MAC_SC, "hmac-sha1-etm@openssh.com"},
	{"MACs", LIBSSH2_METHOD_MAC_SC, "hmac-sha1"},
};
#define NFORCED (int)(sizeof(forced) / sizeof(forced[0]))

START_TEST(forced_by_server)
{
	char opts[256];
	LIBSSH2_SESSION *s;
	int fd;

	/* (restart_sshd quotes its argument: "' '" makes it two) */
	snprintf(opts, sizeof(opts), "%s=%s%s", forced[_i].opt, forced[_i].name,
		 forced[_i].type == LIBSSH2_METHOD_MAC_SC
			 ? "' 'Ciphers=aes128-ctr"
			 : "");
	restart_sshd(opts);
	s = connect_with(NULL, NULL, NULL, &fd);
	ck_assert_str_eq(libssh2_session_methods(s, forced[_i].type),
			 forced[_i].name);
	/* the other direction agreed the same */
	if (forced[_i].type != LIBSSH2_METHOD_KEX &&
	    forced[_i].type != LIBSSH2_METHOD_HOSTKEY)
		ck_assert_str_eq(
			libssh2_session_methods(s, forced[_i].type - 1),
			forced[_i].name);
	finish(s, fd);
	if (_i == NFORCED - 1)
		restart_sshd(NULL);
}
END_TEST

/* The legacy CBC ciphers, each with an HMAC and an EtM MAC, against an
 * sshd told to use only them (OpenSSH 9.2 does not offer them by
 * default: no_common_algorithm), round trip under the new keys; a
 * session that did not ask for them has nothing in common with it. */
START_TEST(legacy_cbc)
{
	static const char *const cbc[] = {"aes128-cbc", "aes192-cbc",
					  "aes256-cbc"};
	static const char *const mac[] = {"hmac-sha2-256",
					  "hmac-sha2-512-etm@openssh.com"};
	const char *c = cbc[_i / 2], *m = mac[_i % 2];
	LIBSSH2_SESSION *s;
	int fd;

	restart_sshd("Ciphers=aes128-cbc,aes192-cbc,aes256-cbc");
	s = libssh2_session_init();
	ck_assert_ptr_nonnull(s);
	libssh2_session_set_timeout(s, 20000);
	fd = integ_connect(0);
	ck_assert_int_eq(libssh2_session_handshake(s, fd),
			 LIBSSH2_ERROR_KEX_FAILURE);
	libssh2_session_free(s);
	close(fd);
	s = connect_with(NULL, c, m, &fd);
	ck_assert_str_eq(libssh2_session_methods(s, LIBSSH2_METHOD_CRYPT_CS),
			 c);
	ck_assert_str_eq(libssh2_session_methods(s, LIBSSH2_METHOD_CRYPT_SC),
			 c);
	ck_assert_str_eq(libssh2_session_methods(s, LIBSSH2_METHOD_MAC_CS), m);
	finish(s, fd);
	restart_sshd(NULL);
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
	tcase_add_loop_test(tc, every_hostkey, 0, NHOSTKEYS);
	tcase_add_loop_test(tc, legacy_cbc, 0, 6);
	tcase_add_loop_test(tc, forced_by_server, 0, NFORCED);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
