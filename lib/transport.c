/*
 * transport.c - the sans-I/O SSH transport engine: buffers and the
 * identification exchange (RFC 4253 section 4.2).
 */
#include "transport.h"

#include <string.h>

#include "libssh2.h"

int tp_init(struct tp *t, const struct lalloc *a)
{
	memset(t, 0, sizeof(*t));
	t->a = a;
	wb_init(&t->out, a, 2 * SSH_PACKET_MAX + BUF_DEFAULT_MAX);
	return 0;
}

void tp_free(struct tp *t)
{
	if (t->in)
		la_free_wipe(t->a, t->in, t->in_cap);
	t->in = NULL;
	wb_free_wipe(&t->out);
}

uint8_t *tp_in_space(struct tp *t, size_t want, size_t *avail)
{
	size_t used = t->in_end - t->in_start;

	/* Slide consumed bytes out first: cheap, the tail is small. */
	if (t->in_start > 0 && (t->in_cap - t->in_end < want ||
				used == 0)) {
		memmove(t->in, t->in + t->in_start, used);
		t->in_start = 0;
		t->in_end = used;
	}
	if (t->in_cap - t->in_end < want) {
		size_t ncap = t->in_cap ? t->in_cap : SSH_READ_CHUNK;
		uint8_t *np;

		while (ncap - t->in_end < want)
			ncap *= 2;
		np = la_realloc(t->a, t->in, ncap);
		if (!np)
			return NULL;
		t->in = np;
		t->in_cap = ncap;
	}
	*avail = t->in_cap - t->in_end;
	return t->in + t->in_end;
}

void tp_in_commit(struct tp *t, size_t n)
{
	t->in_end += n;
}

void tp_out_consume(struct tp *t, size_t n)
{
	t->out_sent += n;
	if (t->out_sent == t->out.len) {
		t->out_sent = 0;
		wb_reset(&t->out);
	}
}

int tp_banner_queue(struct tp *t, const char *banner)
{
	size_t n = strlen(banner);

	/* RFC 4253 4.2: at most 255 characters including CR LF. */
	if (n + 2 > SSH_BANNER_MAX)
		return LIBSSH2_ERROR_BANNER_SEND;
	if (wb_bytes(&t->out, banner, n) || wb_bytes(&t->out, "\r\n", 2))
		return LIBSSH2_ERROR_ALLOC;
	return 0;
}

/* An identification line is "SSH-protoversion-softwareversion [comments]":
 * printable US-ASCII, no NUL.  We speak 2.0, and 1.99 means the same. */
static int banner_check(const char *s, size_t n, const char **why)
{
	size_t i;

	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c < 0x20 || c > 0x7e) {
			*why = "server identification has a control character";
			return LIBSSH2_ERROR_BANNER_RECV;
		}
	}
	if (n >= 8 && !memcmp(s, "SSH-2.0-", 8))
		return 0;
	if (n >= 9 && !memcmp(s, "SSH-1.99-", 9))
		return 0;
	*why = "server does not speak SSH protocol 2.0";
	return LIBSSH2_ERROR_BANNER_RECV;
}

int tp_banner_take(struct tp *t, char *id, size_t idcap, const char **why)
{
	for (;;) {
		const uint8_t *s = t->in + t->in_start;
		size_t avail = t->in_end - t->in_start;
		const uint8_t *nl = avail ? memchr(s, '\n', avail) : NULL;
		size_t n, linelen;
		int rc;

		if (!nl) {
			if (avail >= SSH_BANNER_MAX) {
				*why = "server identification line too long";
				return LIBSSH2_ERROR_BANNER_RECV;
			}
			return 0;
		}
		linelen = (size_t)(nl - s) + 1;
		n = linelen - 1;
		if (n > 0 && s[n - 1] == '\r')
			n--;
		if (n >= 4 && !memcmp(s, "SSH-", 4)) {
			if (linelen > SSH_BANNER_MAX) {
				*why = "server identification line too long";
				return LIBSSH2_ERROR_BANNER_RECV;
			}
			rc = banner_check((const char *)s, n, why);
			if (rc)
				return rc;
			if (n + 1 > idcap) {
				*why = "server identification line too long";
				return LIBSSH2_ERROR_BANNER_RECV;
			}
			memcpy(id, s, n);
			id[n] = '\0';
			t->in_start += linelen;
			return 1;
		}
		/* Other lines may precede the identification; bound them. */
		if (memchr(s, 0, linelen) || ++t->prelines > SSH_BANNER_MAX_PRELINES ||
		    (t->prebytes += linelen) > SSH_BANNER_MAX_PREBYTES) {
			*why = "server sent no SSH identification";
			return LIBSSH2_ERROR_BANNER_RECV;
		}
		t->in_start += linelen;
	}
}
