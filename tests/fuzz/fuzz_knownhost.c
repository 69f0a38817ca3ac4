/*
 * fuzz_knownhost.c - known_hosts lines (lib/knownhost_file.c,
 * lib/knownhost.c): libssh2_knownhost_readline on every line of the
 * input, then for every entry read: writeline, check/checkp with its own
 * name and key, and with fixed names; finally del.
 *
 * Oracle: a line written by writeline reads back (readline) into an
 * entry that writes the very same line again.
 */
#include <string.h>

#include "fuzz.h"
#include "libssh2.h"

#define LINE_MAX_OUT (64 * 1024)

static char line1[LINE_MAX_OUT], line2[LINE_MAX_OUT];

/* Bytes of "keytype key [comment]" in a written line: readline refuses
 * fewer than KH_KEY_MIN (20, as libssh2), counting the whitespace as it
 * was read; writeline writes single spaces, so a line that had its 20
 * only through extra blanks legitimately does not read back. */
static size_t key_part(const char *l, size_t n)
{
	const char *sp = memchr(l, ' ', n);

	if (sp && l[0] == '@') /* a marker comes first */
		sp = memchr(sp + 1, ' ', n - (size_t)(sp + 1 - l));
	return sp ? n - (size_t)(sp + 1 - l) - 1 /* newline */ : 0;
}

static void roundtrip(LIBSSH2_SESSION *s, LIBSSH2_KNOWNHOSTS *h,
		      struct libssh2_knownhost *e)
{
	LIBSSH2_KNOWNHOSTS *h2;
	struct libssh2_knownhost *e2 = NULL;
	size_t n1 = 0, n2 = 0;

	/* the length query, then the line */
	if (libssh2_knownhost_writeline(h, e, NULL, 0, &n1,
					LIBSSH2_KNOWNHOST_FILE_OPENSSH) !=
	    LIBSSH2_ERROR_BUFFER_TOO_SMALL)
		return; /* an entry that cannot be written */
	if (n1 >= sizeof(line1) ||
	    libssh2_knownhost_writeline(h, e, line1, sizeof(line1), &n2,
					LIBSSH2_KNOWNHOST_FILE_OPENSSH) ||
	    n2 != n1 || strlen(line1) != n1)
		__builtin_trap();
	if (key_part(line1, n1) < 20)
		return;
	h2 = libssh2_knownhost_init(s);
	if (!h2)
		return;
	if (libssh2_knownhost_readline(h2, line1, n1,
				       LIBSSH2_KNOWNHOST_FILE_OPENSSH) ||
	    libssh2_knownhost_get(h2, &e2, NULL) != 0 ||
	    libssh2_knownhost_writeline(h2, e2, line2, sizeof(line2), &n2,
					LIBSSH2_KNOWNHOST_FILE_OPENSSH) ||
	    n2 != n1 || memcmp(line1, line2, n1))
		__builtin_trap();
	libssh2_knownhost_free(h2);
}

static void check(LIBSSH2_KNOWNHOSTS *h, struct libssh2_knownhost *e)
{
	static const char *const hosts[] = {"localhost", "127.0.0.1",
					    "example.com", ""};
	struct libssh2_knownhost *hit = NULL;
	int tm = LIBSSH2_KNOWNHOST_TYPE_PLAIN |
		 LIBSSH2_KNOWNHOST_KEYENC_BASE64 |
		 (e->typemask & LIBSSH2_KNOWNHOST_KEY_MASK);
	size_t i, kl = strlen(e->key);
	int rc;

	if (e->name) {
		rc = libssh2_knownhost_checkp(h, e->name, 22, e->key, kl, tm,
					      &hit);
		if (rc < 0 || rc > LIBSSH2_KNOWNHOST_CHECK_FAILURE)
			__builtin_trap();
		libssh2_knownhost_check(h, e->name, e->key, kl, tm, &hit);
	}
	for (i = 0; i < sizeof(hosts) / sizeof(hosts[0]); i++) {
		libssh2_knownhost_checkp(h, hosts[i], 2222, e->key, kl, tm,
					 &hit);
		/* the key as raw bytes (encoded by the check) */
		libssh2_knownhost_check(h, hosts[i], e->key, kl,
					LIBSSH2_KNOWNHOST_TYPE_PLAIN |
						LIBSSH2_KNOWNHOST_KEYENC_RAW,
					&hit);
	}
}

FUZZ_TARGET(knownhost)
{
	const uint8_t *p = data, *end = data + size;
	LIBSSH2_SESSION *s;
	LIBSSH2_KNOWNHOSTS *h;
	struct libssh2_knownhost *e, *prev = NULL;

	fuzz_reset();
	s = libssh2_session_init();
	if (!s)
		return 0;
	h = libssh2_knownhost_init(s);
	while (h && p < end) {
		const uint8_t *nl = memchr(p, '\n', (size_t)(end - p));
		size_t n = nl ? (size_t)(nl - p) : (size_t)(end - p);

		libssh2_knownhost_readline(h, (const char *)p, n,
					   LIBSSH2_KNOWNHOST_FILE_OPENSSH);
		p += n + (nl != NULL);
	}
	while (h && libssh2_knownhost_get(h, &e, prev) == 0) {
		if (!e->key)
			__builtin_trap();
		roundtrip(s, h, e);
		check(h, e);
		prev = e;
	}
	if (h && libssh2_knownhost_get(h, &e, NULL) == 0)
		libssh2_knownhost_del(h, e);
	libssh2_knownhost_free(h);
	libssh2_session_free(s);
	return 0;
}
