/*
 * check_key.c - bcrypt_pbkdf known answers, and private/public key files
 * made by ssh-keygen and openssl (tests/unit/keys, throwaway keys): each
 * loads with its passphrase, matches its .pub file and signs verifiably;
 * wrong and missing passphrases, unsupported formats, keys whose public
 * half does not match, and every truncation and 1-bit flip of the key
 * files (sampled for the larger ones) are refused without a crash.
 *
 * The key files live in $KEYDIR, else $srcdir/tests/unit/keys, else
 * tests/unit/keys (relative to the working directory).
 */
#include <check.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "libssh2.h"

#include "crypto/bcrypt_pbkdf.h"
#include "crypto/ed25519.h"
#include "hostkey.h"
#include "key.h"

#define PASS "test pass"

/* ---- helpers --------------------------------------------------------- */

static void unhex(uint8_t *out, size_t n, const char *hex)
{
	size_t i;
	unsigned v;

	ck_assert_uint_eq(strlen(hex), 2 * n);
	for (i = 0; i < n; i++) {
		ck_assert_int_eq(sscanf(hex + 2 * i, "%2x", &v), 1);
		out[i] = (uint8_t)v;
	}
}

static char keydir[4096];

static void find_keydir(void)
{
	const char *d = getenv("KEYDIR"), *src = getenv("srcdir");

	if (d && *d)
		snprintf(keydir, sizeof(keydir), "%s", d);
	else if (src && *src)
		snprintf(keydir, sizeof(keydir), "%s/tests/unit/keys", src);
	else
		snprintf(keydir, sizeof(keydir), "tests/unit/keys");
}

/* The whole file, NUL-terminated for convenience (len excludes it). */
static char *slurp(const char *name, size_t *len)
{
	char path[8192];
	FILE *f;
	char *buf;
	long n;

	snprintf(path, sizeof(path), "%s/%s", keydir, name);
	f = fopen(path, "rb");
	ck_assert_msg(f != NULL, "cannot open %s (set KEYDIR)", path);
	ck_assert_int_eq(fseek(f, 0, SEEK_END), 0);
	n = ftell(f);
	ck_assert_int_ge(n, 0);
	rewind(f);
	buf = malloc((size_t)n + 1);
	ck_assert_ptr_nonnull(buf);
	ck_assert_uint_eq(fread(buf, 1, (size_t)n, f), (size_t)n);
	fclose(f);
	buf[n] = '\0';
	*len = (size_t)n;
	return buf;
}

/* The blob of name.pub. */
static uint8_t *pub_blob(const char *name, size_t *len)
{
	char pubname[256];
	const char *why = NULL;
	uint8_t *blob;
	char *text, *cmt;
	size_t n;

	snprintf(pubname, sizeof(pubname), "%s.pub", name);
	text = slurp(pubname, &n);
	ck_assert_msg(key_parse_public(&lalloc_system, text, n, &blob, len,
				       &cmt, &why) == 0,
		      "%s: %s", pubname, why);
	free(text);
	la_free(&lalloc_system, cmt);
	return blob;
}

static struct key *load(const char *name, const char *pass, int *rc,
			const char **why)
{
	struct key *k = NULL;
	size_t n;
	char *text = slurp(name, &n);

	*why = NULL;
	*rc = key_load_private(&lalloc_system, text, n, pass, &k, why);
	free(text);
	return *rc ? NULL : k;
}

/* ---- bcrypt_pbkdf ---------------------------------------------------- */

/*
 * OpenBSD's regression vectors for bcrypt_pbkdf(3) (regress/lib/libutil/
 * bcrypt_pbkdf), as also used by other implementations' test suites.
 */
struct bpk_vector {
	const char *pass;
	size_t passlen;
	const char *salt;
	size_t saltlen;
	unsigned rounds;
	const char *key;
};

static const struct bpk_vector bpk_vectors[] = {
	{"password", 8, "salt", 4, 4,
	 "5bbf0cc293587f1c3635555c27796598d47e579071bf427e9d8fbe842aba34d9"},
	{"password", 8, "\0", 1, 4, "c12b566235eee04c212598970a579a67"},
	{"\0", 1, "salt", 4, 4, "6051be18c2f4f82cbf0efee5471b4bb9"},
	{"password\0", 9, "salt\0", 5, 4,
	 "7410e44cf4fa07bfaac8a928b1727fac001375e7bf7384370f48efd121743050"},
	{"pass\0wor", 8, "sa\0l", 4, 4, "c2bffd9db38f6569efef4372f4de83c0"},
	{"pass\0word", 9, "sa\0lt", 5, 4, "4ba4ac3925c0e8d7f0cdb6bb1684a56f"},
	{"password", 8, "salt", 4, 8,
	 "e1367ec5151a33faac4cc1c144cd23fa15d5548493ecc99b9b5d9c0d3b27bec7"
	 "6227ea66088b849b20ab7aa478010246e74bba51723fefa9f9474d6508845e8d"},
	{"password", 8, "salt", 4, 42, "833cf0dcf56db65608e8f0dc0ce882bd"},
	{"Lorem ipsum dolor sit amet, consectetur adipisicing elit, sed do "
	 "eiusmod tempor incididunt ut labore et dolore magna aliqua. Ut "
	 "enim ad minim veniam, quis nostrud exercitation ullamco laboris "
	 "nisi ut aliquip ex ea commodo consequat. Duis aute irure dolor in "
	 "reprehenderit in voluptate velit esse cillum dolore eu fugiat "
	 "nulla pariatur. Excepteur sint occaecat cupidatat non proident, "
	 "sunt in culpa qui officia deserunt mollit anim id est laborum.",
	 0, "salis\0", 6, 8, "10978b07253df57f71a162eb0e8ad30a"},
};

START_TEST(test_bcrypt_pbkdf_vectors)
{
	const struct bpk_vector *v = &bpk_vectors[_i];
	size_t passlen = v->passlen ? v->passlen : strlen(v->pass);
	size_t n = strlen(v->key) / 2;
	uint8_t want[64], got[64];

	unhex(want, n, v->key);
	ck_assert_int_eq(bcrypt_pbkdf(v->pass, passlen,
				      (const uint8_t *)v->salt, v->saltlen, got,
				      n, v->rounds),
			 0);
	ck_assert_mem_eq(got, want, n);
}
END_TEST

START_TEST(test_bcrypt_pbkdf_args)
{
	uint8_t k[BCRYPT_PBKDF_MAX_KEY + 1];
	const uint8_t *s = (const uint8_t *)"salt";

	ck_assert_int_eq(bcrypt_pbkdf("p", 1, s, 4, k, 16, 0), -1);
	ck_assert_int_eq(bcrypt_pbkdf("p", 0, s, 4, k, 16, 1), -1);
	ck_assert_int_eq(bcrypt_pbkdf("p", 1, s, 0, k, 16, 1), -1);
	ck_assert_int_eq(bcrypt_pbkdf("p", 1, s, 4, k, 0, 1), -1);
	ck_assert_int_eq(bcrypt_pbkdf("p", 1, s, 4, k, sizeof(k), 1), -1);
	/* the longest output: 32 blocks, one byte from each per position */
	ck_assert_int_eq(bcrypt_pbkdf("p", 1, s, 4, k, BCRYPT_PBKDF_MAX_KEY, 1),
			 0);
}
END_TEST

/* ---- loading every key file ------------------------------------------ */

struct keyfile {
	const char *name;
	const char *type;
	int enc;    /* needs PASS */
	int mutate; /* bit flips: 0 none (slow KDF), 1 every bit, 7 every 7th */
	int nopub;  /* the file holds no public key: a flipped bit of the
		     * secret is another valid key, which cannot be noticed */
};

static const struct keyfile keyfiles[] = {
	{"ed25519_openssh", "ssh-ed25519", 0, 1, 0},
	{"ed25519_openssh_enc", "ssh-ed25519", 1, 0, 0},
	{"ed25519_openssh_enc_aes128-ctr", "ssh-ed25519", 1, 0, 0},
	{"ed25519_openssh_enc_aes192-ctr", "ssh-ed25519", 1, 0, 0},
	{"ed25519_openssh_enc_aes128-cbc", "ssh-ed25519", 1, 0, 0},
	{"ed25519_openssh_enc_aes192-cbc", "ssh-ed25519", 1, 0, 0},
	{"ed25519_openssh_enc_aes256-cbc", "ssh-ed25519", 1, 0, 0},
	{"ed25519_openssh_enc_aes128-gcm", "ssh-ed25519", 1, 0, 0},
	{"ed25519_openssh_enc_aes256-gcm", "ssh-ed25519", 1, 0, 0},
	{"ed25519_openssh_enc_chacha20-poly1305", "ssh-ed25519", 1, 0, 0},
	/* -a 1: cheap enough to flip every bit through the KDF */
	{"ed25519_openssh_enc_r1", "ssh-ed25519", 1, 1, 0},
	{"ed25519_openssh_enc_r1_aes256-gcm", "ssh-ed25519", 1, 7, 0},
	{"ed25519_openssh_enc_r1_chacha20-poly1305", "ssh-ed25519", 1, 7, 0},
	{"ed25519_pkcs8", "ssh-ed25519", 0, 1, 1},
	{"ecdsa256_openssh", "ecdsa-sha2-nistp256", 0, 1, 0},
	{"ecdsa256_openssh_enc", "ecdsa-sha2-nistp256", 1, 0, 0},
	{"ecdsa256_pem", "ecdsa-sha2-nistp256", 0, 1, 0},
	{"ecdsa256_pem_enc", "ecdsa-sha2-nistp256", 1, 1, 0},
	{"ecdsa256_pem_enc_3des", "ecdsa-sha2-nistp256", 1, 1, 0},
	{"ecdsa256_pkcs8", "ecdsa-sha2-nistp256", 0, 1, 0},
	{"ecdsa256_pkcs8_enc", "ecdsa-sha2-nistp256", 1, 7, 0},
	{"ecdsa256_pkcs8_enc_pbe_sha1_3des", "ecdsa-sha2-nistp256", 1, 7, 0},
	{"ecdsa384_openssh", "ecdsa-sha2-nistp384", 0, 7, 0},
	{"ecdsa384_openssh_enc", "ecdsa-sha2-nistp384", 1, 0, 0},
	{"ecdsa384_pem", "ecdsa-sha2-nistp384", 0, 1, 0},
	{"ecdsa384_pem_enc", "ecdsa-sha2-nistp384", 1, 7, 0},
	{"ecdsa384_pkcs8", "ecdsa-sha2-nistp384", 0, 7, 0},
	{"ecdsa384_pkcs8_enc", "ecdsa-sha2-nistp384", 1, 7, 0},
	{"ecdsa384_pkcs8_enc_aes256", "ecdsa-sha2-nistp384", 1, 7, 0},
	{"ecdsa521_openssh", "ecdsa-sha2-nistp521", 0, 7, 0},
	{"ecdsa521_openssh_enc", "ecdsa-sha2-nistp521", 1, 0, 0},
	{"ecdsa521_pem", "ecdsa-sha2-nistp521", 0, 7, 0},
	{"ecdsa521_pem_enc", "ecdsa-sha2-nistp521", 1, 7, 0},
	{"ecdsa521_pkcs8", "ecdsa-sha2-nistp521", 0, 7, 0},
	{"ecdsa521_pkcs8_enc", "ecdsa-sha2-nistp521", 1, 7, 0},
	{"rsa2048_openssh", "ssh-rsa", 0, 7, 0},
	{"rsa2048_openssh_enc", "ssh-rsa", 1, 0, 0},
	{"rsa2048_pem", "ssh-rsa", 0, 7, 0},
	{"rsa2048_pem_enc", "ssh-rsa", 1, 7, 0},
	{"rsa2048_pem_enc_aes256", "ssh-rsa", 1, 7, 0},
	{"rsa2048_pkcs8", "ssh-rsa", 0, 7, 0},
	{"rsa2048_pkcs8_enc", "ssh-rsa", 1, 7, 0},
	{"rsa2048_pkcs8_enc_3des", "ssh-rsa", 1, 7, 0},
};

#define NKEYFILES (int)(sizeof(keyfiles) / sizeof(keyfiles[0]))

static const char msg[] = "session identifier || SSH_MSG_USERAUTH_REQUEST";

/* Sign with sigalg and check the signature blob with hostkey_verify (the
 * server-side rules) and, for Ed25519, directly. */
static void sign_verify(const struct key *k, const char *sigalg)
{
	const uint8_t *blob;
	size_t bloblen, siglen;
	uint8_t *sig;

	ck_assert_int_eq(key_public_blob(k, &blob, &bloblen), 0);
	ck_assert_int_eq(key_sign(k, sigalg, (const uint8_t *)msg, sizeof(msg),
				  &lalloc_system, &sig, &siglen),
			 0);
	ck_assert_int_eq(hostkey_verify(sigalg ? sigalg : key_type_name(k),
					blob, bloblen, sig, siglen,
					(const uint8_t *)msg, sizeof(msg)),
			 0);
	if (strcmp(key_type_name(k), "ssh-ed25519") == 0) {
		/* string "ssh-ed25519" (4 + 11), string sig (4 + 64);
		 * blob: string type, string pk (4 + 32) */
		ck_assert_uint_eq(siglen, 4 + 11 + 4 + 64);
		ck_assert_int_eq(ed25519_verify(sig + 19, (const uint8_t *)msg,
						sizeof(msg), blob + 19),
				 0);
		sig[siglen - 1] ^= 1;
		ck_assert_int_ne(ed25519_verify(sig + 19, (const uint8_t *)msg,
						sizeof(msg), blob + 19),
				 0);
	}
	/* a tampered message must not verify */
	ck_assert_int_ne(hostkey_verify(sigalg ? sigalg : key_type_name(k),
					blob, bloblen, sig, siglen,
					(const uint8_t *)msg, sizeof(msg) - 1),
			 0);
	la_free(&lalloc_system, sig);
}

START_TEST(test_load_each)
{
	const struct keyfile *f = &keyfiles[_i];
	const uint8_t *blob;
	uint8_t *want;
	size_t bloblen, wantlen;
	const char *why;
	struct key *k;
	int rc;

	k = load(f->name, f->enc ? PASS : NULL, &rc, &why);
	ck_assert_msg(rc == 0, "%s: %d %s", f->name, rc, why);
	ck_assert_str_eq(key_type_name(k), f->type);
	want = pub_blob(f->name, &wantlen);
	ck_assert_int_eq(key_public_blob(k, &blob, &bloblen), 0);
	ck_assert_uint_eq(bloblen, wantlen);
	ck_assert_mem_eq(blob, want, wantlen);
	la_free(&lalloc_system, want);
	if (strstr(f->name, "_openssh")) {
		char cmt[256];

		snprintf(cmt, sizeof(cmt), "%s test key", f->name);
		ck_assert_str_eq(key_comment(k), cmt);
	} else if (strstr(f->name, "_pkcs8") || strstr(f->name, "_pem")) {
		ck_assert_str_eq(key_comment(k), "");
	}
	sign_verify(k, NULL);
	if (strcmp(f->type, "ssh-rsa") == 0) {
		sign_verify(k, "rsa-sha2-256");
		sign_verify(k, "rsa-sha2-512");
	}
	key_free(&lalloc_system, k);
}
END_TEST

START_TEST(test_passphrases)
{
	const struct keyfile *f = &keyfiles[_i];
	const char *why;
	struct key *k;
	int rc;

	if (!f->enc) {
		/* a passphrase for a plain key is not used */
		k = load(f->name, "whatever", &rc, &why);
		ck_assert_msg(rc == 0, "%s: %s", f->name, why);
		key_free(&lalloc_system, k);
		return;
	}
	k = load(f->name, "test pas", &rc, &why);
	ck_assert_msg(rc == LIBSSH2_ERROR_KEYFILE_AUTH_FAILED, "%s: %d %s",
		      f->name, rc, why);
	ck_assert_str_eq(why, "wrong passphrase");
	k = load(f->name, NULL, &rc, &why);
	ck_assert_msg(rc == LIBSSH2_ERROR_KEYFILE_AUTH_FAILED, "%s: %d %s",
		      f->name, rc, why);
	ck_assert_str_eq(why, "passphrase required");
	k = load(f->name, "", &rc, &why);
	ck_assert_int_eq(rc, LIBSSH2_ERROR_KEYFILE_AUTH_FAILED);
	ck_assert_str_eq(why, "passphrase required");
	(void)k;
}
END_TEST

/* Files we recognise and refuse. */
START_TEST(test_unsupported)
{
	static const char *const names[] = {"ed25519_openssh_enc_3des-cbc",
					    "dsa_openssh", "dsa_pem"};
	const char *why;
	int rc;

	(void)load(names[_i], PASS, &rc, &why);
	ck_assert_msg(rc == LIBSSH2_ERROR_METHOD_NOT_SUPPORTED, "%s: %d %s",
		      names[_i], rc, why);
}
END_TEST

/* ---- mutations ------------------------------------------------------- */

/* Load data[0..len) from an allocation of exactly len bytes (so ASan sees
 * any read past the end): an error, or the original key. */
static void load_mutant(const struct keyfile *f, const char *data, size_t len,
			const uint8_t *want, size_t wantlen)
{
	char *copy = malloc(len ? len : 1);
	const uint8_t *blob;
	size_t bloblen;
	const char *why = NULL;
	struct key *k = NULL;
	int rc;

	ck_assert_ptr_nonnull(copy);
	memcpy(copy, data, len);
	rc = key_load_private(&lalloc_system, copy, len, f->enc ? PASS : NULL,
			      &k, &why);
	if (rc == 0) {
		ck_assert_int_eq(key_public_blob(k, &blob, &bloblen), 0);
		ck_assert_msg(f->nopub || (bloblen == wantlen &&
					   memcmp(blob, want, wantlen) == 0),
			      "%s: mutant (len %zu) loaded another key",
			      f->name, len);
		key_free(&lalloc_system, k);
	} else {
		ck_assert_msg(rc == LIBSSH2_ERROR_FILE ||
				      rc == LIBSSH2_ERROR_KEYFILE_AUTH_FAILED ||
				      rc == LIBSSH2_ERROR_METHOD_NOT_SUPPORTED,
			      "%s: unexpected error %d", f->name, rc);
		ck_assert_ptr_nonnull(why);
	}
	free(copy);
}

START_TEST(test_truncations)
{
	const struct keyfile *f = &keyfiles[_i];
	uint8_t *want;
	size_t len, wantlen, n;
	char *data = slurp(f->name, &len);

	want = pub_blob(f->name, &wantlen);
	for (n = 0; n < len; n++)
		load_mutant(f, data, n, want, wantlen);
	la_free(&lalloc_system, want);
	free(data);
}
END_TEST

static uint8_t *openssh_bin(const char *name, size_t *n);

static uint32_t be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	       (uint32_t)p[2] << 8 | p[3];
}

/*
 * [*lo, *hi): the bytes of the bcrypt rounds field in the binary of an
 * encrypted OpenSSH key file: magic, string cipher, string kdf, uint32
 * optlen, string salt, uint32 rounds (PROTOCOL.key).
 */
static void rounds_field(const char *name, size_t *lo, size_t *hi)
{
	size_t n, off = 15;
	uint8_t *bin = openssh_bin(name, &n);

	off += 4 + be32(bin + off); /* cipher */
	off += 4 + be32(bin + off); /* kdf */
	off += 4;		    /* kdfoptions length */
	off += 4 + be32(bin + off); /* salt */
	ck_assert_uint_le(off + 4, n);
	*lo = off;
	*hi = off + 4;
	free(bin);
}

/* Whether the character at text[pos] is base64 that decodes into the
 * binary's bytes [lo, hi). */
static int maps_into(const char *text, size_t pos, size_t lo, size_t hi)
{
	const char *body = strchr(text, '\n') + 1;
	size_t c = 0, first, last;
	const char *p;

	if (text + pos < body || strchr(" \t\r\n-", text[pos]))
		return 0;
	for (p = body; p < text + pos; p++)
		c += !strchr(" \t\r\n", *p);
	first = 6 * c / 8;
	last = (6 * c + 5) / 8;
	return last >= lo && first < hi;
}

START_TEST(test_bitflips)
{
	const struct keyfile *f = &keyfiles[_i];
	size_t len, wantlen, bit, lo = 0, hi = 0;
	uint8_t *want;
	char *data;

	if (!f->mutate)
		return; /* -a 16: each flip would cost a full KDF run */
	data = slurp(f->name, &len);
	want = pub_blob(f->name, &wantlen);
	/* a flipped bit of rounds = 1 asks for up to 2^14 + 1 rounds:
	 * allowed, but minutes of work for one mutant */
	if (f->enc && strstr(f->name, "_openssh"))
		rounds_field(f->name, &lo, &hi);
	for (bit = 0; bit < 8 * len; bit += (size_t)f->mutate) {
		if (hi && maps_into(data, bit / 8, lo, hi))
			continue;
		data[bit / 8] ^= (char)(1u << (bit % 8));
		load_mutant(f, data, len, want, wantlen);
		data[bit / 8] ^= (char)(1u << (bit % 8));
	}
	la_free(&lalloc_system, want);
	free(data);
}
END_TEST

/* ---- crafted files: public halves that do not match ------------------ */

static const char b64chars[] =
	"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

static size_t b64dec(const char *s, uint8_t *out)
{
	uint32_t acc = 0;
	size_t o = 0;
	int bits = 0;
	const char *p;

	for (; *s && *s != '-'; s++) {
		p = strchr(b64chars, *s);
		if (!*s || !p || *s == '=')
			continue;
		acc = acc << 6 | (uint32_t)(p - b64chars);
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			out[o++] = (uint8_t)(acc >> bits);
		}
	}
	return o;
}

/* OpenSSH armour around bin (lines of 70 characters). */
static char *armour(const uint8_t *bin, size_t n)
{
	char *out = malloc(n * 2 + 128), *o = out;
	size_t i, col = 0;
	uint32_t v;
	int j;

	ck_assert_ptr_nonnull(out);
	o += sprintf(o, "-----BEGIN OPENSSH PRIVATE KEY-----\n");
	for (i = 0; i < n; i += 3) {
		v = (uint32_t)bin[i] << 16;
		if (i + 1 < n)
			v |= (uint32_t)bin[i + 1] << 8;
		if (i + 2 < n)
			v |= bin[i + 2];
		for (j = 0; j < 4; j++) {
			*o++ = (size_t)j <= n - i
				       ? b64chars[(v >> (18 - 6 * j)) & 63]
				       : '=';
			if (++col == 70) {
				*o++ = '\n';
				col = 0;
			}
		}
	}
	o += sprintf(o, "\n-----END OPENSSH PRIVATE KEY-----\n");
	*o = '\0';
	return out;
}

/* The binary of an OpenSSH key file. */
static uint8_t *openssh_bin(const char *name, size_t *n)
{
	size_t len;
	char *text = slurp(name, &len);
	uint8_t *bin = malloc(len);

	ck_assert_ptr_nonnull(bin);
	*n = b64dec(strchr(text, '\n') + 1, bin);
	free(text);
	return bin;
}

/* Replace every occurrence of from[0..n) in bin by to; how many. */
static int replace_all(uint8_t *bin, size_t len, const uint8_t *from,
		       const uint8_t *to, size_t n)
{
	size_t i;
	int c = 0;

	for (i = 0; i + n <= len; i++)
		if (memcmp(bin + i, from, n) == 0) {
			memcpy(bin + i, to, n);
			c++;
		}
	return c;
}

/*
 * Put the public part of `other` into `name` (off/n: where it sits in the
 * .pub blob) at `copies` places; `only` (if >= 0) replaces only the
 * occurrence with that index.  Loading must fail with a mismatch.
 */
static void swap_public(const char *name, const char *other, size_t off,
			size_t n, int copies, const char *want_why)
{
	uint8_t *bin, *mine, *theirs;
	size_t len, ml, tl;
	const char *why = NULL;
	struct key *k = NULL;
	char *text;
	int rc;

	bin = openssh_bin(name, &len);
	mine = pub_blob(name, &ml);
	theirs = pub_blob(other, &tl);
	ck_assert_uint_ge(ml, off + n);
	ck_assert_uint_ge(tl, off + n);
	ck_assert_int_eq(replace_all(bin, len, mine + off, theirs + off, n),
			 copies);
	text = armour(bin, len);
	rc = key_load_private(&lalloc_system, text, strlen(text), NULL, &k,
			      &why);
	ck_assert_msg(rc == LIBSSH2_ERROR_FILE, "%s: %d", name, rc);
	ck_assert_str_eq(why, want_why);
	free(text);
	free(bin);
	la_free(&lalloc_system, mine);
	la_free(&lalloc_system, theirs);
}

START_TEST(test_mismatch)
{
	uint8_t *bin, *pub;
	size_t len, pl;
	char *text;
	const char *why;
	struct key *k = NULL;

	/* unchanged, re-armoured: loads (checks the helpers) */
	bin = openssh_bin("ed25519_openssh", &len);
	text = armour(bin, len);
	ck_assert_int_eq(key_load_private(&lalloc_system, text, strlen(text),
					  NULL, &k, &why),
			 0);
	key_free(&lalloc_system, k);
	free(text);
	/* Ed25519: pk in the header, the pk string and seed || pk */
	swap_public("ed25519_openssh", "ed25519_pkcs8", 19, 32, 3,
		    "Ed25519 public key does not match private key");
	/* ECDSA: Q (after string type, string curve) in header and key */
	swap_public("ecdsa256_openssh", "ecdsa256_pem", 4 + 19 + 4 + 8 + 4, 65,
		    2, "ECDSA public key does not match private key");
	/* RSA: n (after string type, mpint e) in header and key */
	swap_public("rsa2048_openssh", "rsa2048_pem", 4 + 7 + 4 + 3 + 4, 257, 2,
		    "inconsistent RSA private key");
	/* only the header's copy of the public key differs */
	pub = pub_blob("ed25519_pkcs8", &pl);
	ck_assert_uint_eq(pl, 51);
	/* magic, "none", "none", "", N, bloblen, "ssh-ed25519", pklen */
	memcpy(bin + 15 + 8 + 8 + 4 + 4 + 4 + 15 + 4, pub + 19, 32);
	text = armour(bin, len);
	ck_assert_int_eq(key_load_private(&lalloc_system, text, strlen(text),
					  NULL, &k, &why),
			 LIBSSH2_ERROR_FILE);
	ck_assert_str_eq(why, "public key does not match private key");
	free(text);
	la_free(&lalloc_system, pub);
	free(bin);
}
END_TEST

/* Header fields out of range, in otherwise intact files. */
static int load_patched(const char *name, size_t off, uint32_t v,
			const char **why)
{
	size_t len;
	uint8_t *bin = openssh_bin(name, &len);
	struct key *k = NULL;
	char *text;
	int rc;

	ck_assert_uint_le(off + 4, len);
	bin[off] = (uint8_t)(v >> 24);
	bin[off + 1] = (uint8_t)(v >> 16);
	bin[off + 2] = (uint8_t)(v >> 8);
	bin[off + 3] = (uint8_t)v;
	text = armour(bin, len);
	rc = key_load_private(&lalloc_system, text, strlen(text), PASS, &k,
			      why);
	key_free(&lalloc_system, k);
	free(text);
	free(bin);
	return rc;
}

START_TEST(test_header_limits)
{
	const char *f = "ed25519_openssh_enc_r1", *why;
	size_t lo, hi;

	rounds_field(f, &lo, &hi);
	ck_assert_int_eq(load_patched(f, lo, 1, &why), 0);
	ck_assert_int_eq(load_patched(f, lo, 0, &why), LIBSSH2_ERROR_FILE);
	ck_assert_int_eq(load_patched(f, lo, KEY_KDF_MAX_ROUNDS + 1, &why),
			 LIBSSH2_ERROR_METHOD_NOT_SUPPORTED);
	ck_assert_str_eq(why, "too many KDF rounds in key file");
	/* number of keys, right after the kdfoptions */
	ck_assert_int_eq(load_patched(f, hi, 2, &why),
			 LIBSSH2_ERROR_METHOD_NOT_SUPPORTED);
	ck_assert_int_eq(load_patched(f, hi, 0, &why),
			 LIBSSH2_ERROR_METHOD_NOT_SUPPORTED);
}
END_TEST

/* ---- public key files ------------------------------------------------ */

static int parse_pub(const char *text, uint8_t **blob, size_t *len, char **cmt,
		     const char **why)
{
	size_t n = strlen(text);
	char *copy = malloc(n ? n : 1);
	int rc;

	ck_assert_ptr_nonnull(copy);
	memcpy(copy, text, n);
	rc = key_parse_public(&lalloc_system, copy, n, blob, len, cmt, why);
	free(copy);
	return rc;
}

START_TEST(test_public_files)
{
	const char *why;
	uint8_t *blob, *want;
	size_t len, wantlen;
	char *cmt, *text, line[1024];

	/* the comment, and leading blank and # lines, CR LF, blanks */
	text = slurp("ed25519_openssh.pub", &len);
	want = pub_blob("ed25519_openssh", &wantlen);
	text[strcspn(text, "\n")] = '\0';
	snprintf(line, sizeof(line), "\n# keys\n  \r\n\t%s  \r\nnext line\n",
		 text);
	ck_assert_int_eq(parse_pub(line, &blob, &len, &cmt, &why), 0);
	ck_assert_uint_eq(len, wantlen);
	ck_assert_mem_eq(blob, want, len);
	ck_assert_str_eq(cmt, "ed25519_openssh test key");
	la_free(&lalloc_system, blob);
	la_free(&lalloc_system, cmt);
	/* no comment at all; comment pointer not wanted */
	*strchr(strchr(text, ' ') + 1, ' ') = '\0';
	ck_assert_int_eq(parse_pub(text, &blob, &len, &cmt, &why), 0);
	ck_assert_str_eq(cmt, "");
	la_free(&lalloc_system, blob);
	la_free(&lalloc_system, cmt);
	ck_assert_int_eq(parse_pub(text, &blob, &len, NULL, NULL), 0);
	la_free(&lalloc_system, blob);
	/* a type that is not the blob's */
	memcpy(line, "ssh-rsa", 7);
	snprintf(line, sizeof(line), "ssh-rsa %s", strchr(text, ' ') + 1);
	ck_assert_int_eq(parse_pub(line, &blob, &len, &cmt, &why),
			 LIBSSH2_ERROR_FILE);
	ck_assert_str_eq(why, "key type does not match the key data");
	/* a DSA key, empty input, no base64 */
	free(text);
	text = slurp("dsa_openssh.pub", &len);
	ck_assert_int_eq(parse_pub(text, &blob, &len, &cmt, &why),
			 LIBSSH2_ERROR_METHOD_NOT_SUPPORTED);
	ck_assert_int_eq(parse_pub("", &blob, &len, &cmt, &why),
			 LIBSSH2_ERROR_FILE);
	ck_assert_int_eq(parse_pub("ssh-ed25519\n", &blob, &len, &cmt, &why),
			 LIBSSH2_ERROR_FILE);
	ck_assert_int_eq(
		parse_pub("ssh-ed25519 AAAA!AAA\n", &blob, &len, &cmt, &why),
		LIBSSH2_ERROR_FILE);
	/* a certificate is passed through with its type checked:
	 * string "ssh-ed25519-cert-v01@openssh.com" (32), then anything */
	ck_assert_int_eq(
		parse_pub("ssh-ed25519-cert-v01@openssh.com AAAAIHNzaC1lZDI1"
			  "NTE5LWNlcnQtdjAxQG9wZW5zc2guY29tAAAAAA== c\n",
			  &blob, &len, &cmt, &why),
		0);
	ck_assert_uint_eq(len, 4 + 32 + 4);
	la_free(&lalloc_system, blob);
	la_free(&lalloc_system, cmt);
	free(text);
	la_free(&lalloc_system, want);
}
END_TEST

/* Every truncation and bit flip of some .pub files: no crash, no leak. */
START_TEST(test_public_mutations)
{
	static const char *const names[] = {
		"ed25519_openssh.pub", "ecdsa256_openssh.pub",
		"ecdsa521_openssh.pub", "rsa2048_openssh.pub"};
	const char *why;
	uint8_t *blob;
	size_t len, n, bit, bl;
	char *text = slurp(names[_i], &len), *copy, *cmt;
	int rc;

	for (n = 0; n <= len + 8 * len; n++) {
		size_t l = n <= len ? n : len;

		copy = malloc(l ? l : 1);
		ck_assert_ptr_nonnull(copy);
		memcpy(copy, text, l);
		if (n > len) {
			bit = n - len - 1;
			copy[bit / 8] ^= (char)(1u << (bit % 8));
		}
		rc = key_parse_public(&lalloc_system, copy, l, &blob, &bl, &cmt,
				      &why);
		if (rc == 0) {
			la_free(&lalloc_system, blob);
			la_free(&lalloc_system, cmt);
		} else {
			ck_assert(rc == LIBSSH2_ERROR_FILE ||
				  rc == LIBSSH2_ERROR_METHOD_NOT_SUPPORTED);
		}
		free(copy);
	}
	free(text);
}
END_TEST

/* ---- odds and ends --------------------------------------------------- */

static int load_text(const char *text, const char *pass, const char **why)
{
	struct key *k = NULL;
	int rc;

	rc = key_load_private(&lalloc_system, text, strlen(text), pass, &k,
			      why);
	key_free(&lalloc_system, k);
	return rc;
}

/* key_is_openssh: the first armour at the start of a line decides (auth.c
 * picks libssh2's frommemory code by it); bounded by len. */
START_TEST(test_is_openssh)
{
	static const char ossh[] = "-----BEGIN OPENSSH PRIVATE KEY-----\n";

	ck_assert_int_eq(key_is_openssh(ossh, strlen(ossh)), 1);
	ck_assert_int_eq(key_is_openssh("junk\n-----BEGIN OPENSSH PRIVATE "
					"KEY-----\nAAAA\n",
					45),
			 1);
	ck_assert_int_eq(key_is_openssh(ossh, strlen(ossh) - 2), 0);
	ck_assert_int_eq(key_is_openssh("-----BEGIN RSA PRIVATE KEY-----\n"
					"-----BEGIN OPENSSH PRIVATE KEY-----\n",
					68),
			 0);
	ck_assert_int_eq(key_is_openssh("-----BEGIN ENCRYPTED PRIVATE KEY"
					"-----\n",
					38),
			 0);
	ck_assert_int_eq(key_is_openssh(" -----BEGIN OPENSSH PRIVATE KEY---"
					"--\n",
					37),
			 0);
	ck_assert_int_eq(key_is_openssh("", 0), 0);
	ck_assert_int_eq(key_is_openssh(NULL, 0), 0);
}
END_TEST

START_TEST(test_not_keys)
{
	const char *why;
	char *text;
	size_t len;

	ck_assert_int_eq(load_text("", NULL, &why), LIBSSH2_ERROR_FILE);
	ck_assert_int_eq(load_text("hello\n", NULL, NULL), LIBSSH2_ERROR_FILE);
	ck_assert_int_eq(
		load_text("PuTTY-User-Key-File-3: ssh-ed25519\n", NULL, &why),
		LIBSSH2_ERROR_METHOD_NOT_SUPPORTED);
	ck_assert_int_eq(load_text("-----BEGIN PUBLIC KEY-----\nAAAA\n"
				   "-----END PUBLIC KEY-----\n",
				   NULL, &why),
			 LIBSSH2_ERROR_FILE);
	ck_assert_int_eq(load_text("-----BEGIN OPENSSH PRIVATE KEY-----\n"
				   "b3BlbnNzaC1rZXktdjEA\n",
				   NULL, &why),
			 LIBSSH2_ERROR_FILE);
	ck_assert_str_eq(why, "truncated key file (no END line)");
	ck_assert_int_eq(load_text("-----BEGIN OPENSSH PRIVATE KEY-----\n"
				   "b3BlbnNzaC1rZXktdjEA\n"
				   "-----END OPENSSH PRIVATE KEY-----\n",
				   NULL, &why),
			 LIBSSH2_ERROR_FILE);
	/* a public key file is not a private key */
	text = slurp("ed25519_openssh.pub", &len);
	ck_assert_int_eq(load_text(text, NULL, &why), LIBSSH2_ERROR_FILE);
	free(text);
	/* text before the armour is skipped, as PEM readers do */
	text = slurp("ecdsa256_pem", &len);
	{
		char *pre = malloc(len + 32);

		ck_assert_ptr_nonnull(pre);
		sprintf(pre, "Bag Attributes\n%s", text);
		ck_assert_int_eq(load_text(pre, NULL, &why), 0);
		free(pre);
	}
	free(text);
	key_free(&lalloc_system, NULL);
}
END_TEST

START_TEST(test_sign_algs)
{
	uint8_t *sig;
	size_t siglen;
	const char *why;
	struct key *k;
	int rc;

	k = load("ed25519_openssh", NULL, &rc, &why);
	ck_assert_int_eq(rc, 0);
	ck_assert_int_eq(key_type(k), KEY_ED25519);
	ck_assert_int_eq(key_sign(k, "ssh-rsa", (const uint8_t *)msg, 3,
				  &lalloc_system, &sig, &siglen),
			 LIBSSH2_ERROR_METHOD_NOT_SUPPORTED);
	key_free(&lalloc_system, k);
	k = load("ecdsa256_pem", NULL, &rc, &why);
	ck_assert_int_eq(rc, 0);
	ck_assert_int_eq(key_type(k), KEY_ECDSA_P256);
	ck_assert_int_eq(key_sign(k, "ecdsa-sha2-nistp384",
				  (const uint8_t *)msg, 3, &lalloc_system, &sig,
				  &siglen),
			 LIBSSH2_ERROR_METHOD_NOT_SUPPORTED);
	key_free(&lalloc_system, k);
	k = load("rsa2048_pkcs8", NULL, &rc, &why);
	ck_assert_int_eq(rc, 0);
	ck_assert_int_eq(key_type(k), KEY_RSA);
	sign_verify(k, "ssh-rsa");
	ck_assert_int_eq(key_sign(k, "rsa-sha2-384", (const uint8_t *)msg, 3,
				  &lalloc_system, &sig, &siglen),
			 LIBSSH2_ERROR_METHOD_NOT_SUPPORTED);
	ck_assert_int_eq(key_sign(k, "ssh-ed25519", (const uint8_t *)msg, 3,
				  &lalloc_system, &sig, &siglen),
			 LIBSSH2_ERROR_METHOD_NOT_SUPPORTED);
	key_free(&lalloc_system, k);
}
END_TEST

/* A certificate blob of k's public key (PROTOCOL.certkeys): type, nonce,
 * k's fields, then bytes standing for the rest of the certificate. */
static uint8_t *cert_of(const struct key *k, const char *type, size_t *len)
{
	static const uint8_t rest[] = "serial, principals, signature...";
	const uint8_t *pub;
	size_t publen, tl = strlen(type), off;
	uint8_t *c;

	ck_assert_int_eq(key_public_blob(k, &pub, &publen), 0);
	off = 4 + ((size_t)pub[2] << 8 | pub[3]); /* the type string */
	*len = 4 + tl + 4 + 32 + (publen - off) + sizeof(rest);
	c = malloc(*len);
	ck_assert_ptr_nonnull(c);
	c[0] = c[1] = 0;
	c[2] = (uint8_t)(tl >> 8);
	c[3] = (uint8_t)tl;
	memcpy(c + 4, type, tl);
	memset(c + 4 + tl, 0, 3);
	c[4 + tl + 3] = 32;
	memset(c + 8 + tl, 0x5a, 32);
	memcpy(c + 40 + tl, pub + off, publen - off);
	memcpy(c + 40 + tl + publen - off, rest, sizeof(rest));
	return c;
}

/*
 * key_public_matches: the key's own blob, a certificate of it; another
 * key, a certificate of another type, every truncation that cuts into
 * the key's fields and every bit flip in the header and fields refused.
 */
START_TEST(test_public_matches)
{
	static const char *const names[] = {"ed25519_openssh", "ecdsa384_pem",
					    "rsa2048_pkcs8"};
	static const char *const certs[] = {
		"ssh-ed25519-cert-v01@openssh.com",
		"ecdsa-sha2-nistp384-cert-v01@openssh.com",
		"ssh-rsa-cert-v01@openssh.com"};
	const uint8_t *pub;
	const char *why;
	struct key *k, *other;
	size_t publen, clen, n, fields, bit;
	uint8_t *c;
	int rc, cert = -1;

	k = load(names[_i], NULL, &rc, &why);
	ck_assert_int_eq(rc, 0);
	other = load(names[(_i + 1) % 3], NULL, &rc, &why);
	ck_assert_int_eq(rc, 0);
	ck_assert_int_eq(key_public_blob(k, &pub, &publen), 0);
	ck_assert_int_eq(key_public_matches(k, pub, publen, &cert), 0);
	ck_assert_int_eq(cert, 0);
	ck_assert_int_eq(key_public_matches(other, pub, publen, &cert),
			 LIBSSH2_ERROR_PUBLICKEY_UNVERIFIED);
	c = cert_of(k, certs[_i], &clen);
	ck_assert_int_eq(key_public_matches(k, c, clen, &cert), 0);
	ck_assert_int_eq(cert, 1);
	ck_assert_int_eq(key_public_matches(other, c, clen, &cert),
			 LIBSSH2_ERROR_PUBLICKEY_UNVERIFIED);
	fields = clen - 33; /* up to the end of the key's fields */
	for (n = 0; n < fields; n++)
		ck_assert_int_eq(key_public_matches(k, c, n, &cert),
				 LIBSSH2_ERROR_PUBLICKEY_UNVERIFIED);
	for (bit = 0; bit < 8 * fields; bit++) {
		int want = 0;
		size_t tl = strlen(certs[_i]);

		c[bit / 8] ^= (uint8_t)(1u << (bit % 8));
		/* the nonce is the only part a flip may leave valid */
		if (bit / 8 < 8 + tl || bit / 8 >= 8 + tl + 32)
			want = LIBSSH2_ERROR_PUBLICKEY_UNVERIFIED;
		ck_assert_msg(key_public_matches(k, c, clen, &cert) == want,
			      "%s: flip of bit %zu", names[_i], bit);
		c[bit / 8] ^= (uint8_t)(1u << (bit % 8));
	}
	free(c);
	c = cert_of(k, certs[(_i + 1) % 3], &clen);
	ck_assert_int_eq(key_public_matches(k, c, clen, &cert),
			 LIBSSH2_ERROR_PUBLICKEY_UNVERIFIED);
	free(c);
	key_free(&lalloc_system, k);
	key_free(&lalloc_system, other);
}
END_TEST

static Suite *key_suite(void)
{
	Suite *s = suite_create("key");
	TCase *tc;
	int nvec = (int)(sizeof(bpk_vectors) / sizeof(bpk_vectors[0]));

	tc = tcase_create("bcrypt_pbkdf");
	tcase_add_loop_test(tc, test_bcrypt_pbkdf_vectors, 0, nvec);
	tcase_add_test(tc, test_bcrypt_pbkdf_args);
	suite_add_tcase(s, tc);

	tc = tcase_create("load");
	tcase_set_timeout(tc, 120);
	tcase_add_loop_test(tc, test_load_each, 0, NKEYFILES);
	tcase_add_loop_test(tc, test_passphrases, 0, NKEYFILES);
	tcase_add_loop_test(tc, test_unsupported, 0, 3);
	tcase_add_test(tc, test_mismatch);
	tcase_add_test(tc, test_header_limits);
	tcase_add_test(tc, test_not_keys);
	tcase_add_test(tc, test_is_openssh);
	tcase_add_test(tc, test_sign_algs);
	suite_add_tcase(s, tc);

	tc = tcase_create("public");
	tcase_add_test(tc, test_public_files);
	tcase_add_loop_test(tc, test_public_mutations, 0, 4);
	tcase_add_loop_test(tc, test_public_matches, 0, 3);
	suite_add_tcase(s, tc);

	tc = tcase_create("mutations");
	tcase_set_timeout(tc, 600);
	tcase_add_loop_test(tc, test_truncations, 0, NKEYFILES);
	tcase_add_loop_test(tc, test_bitflips, 0, NKEYFILES);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr;
	int failed;

	find_keydir();
	sr = srunner_create(key_suite());
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
