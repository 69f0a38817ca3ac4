/*
 * comp.c - SSH compression: "zlib" (RFC 4253 section 6.2) and
 * "zlib@openssh.com" (OpenSSH PROTOCOL 2.2), the library's only zlib user.
 *
 * Wire format (RFC 4253 6.2): the payload field of each packet carries
 * the next piece of one RFC 1950 zlib stream per direction, ending with
 * a partial flush (Z_PARTIAL_FLUSH, as OpenSSH's packet.c), so every
 * packet decodes on its own given the packets before it:
 *
 *	uint32	packet_length
 *	byte	padding_length
 *	byte[n]	deflate(type byte || message) -- continues the stream
 *	byte[p]	padding
 */
#include "comp.h"

#include <limits.h>
#include <string.h>
#include <zlib.h>

#include "crypto/crypto.h"
#include "libssh2.h"
#include "ssh_limits.h"

const struct comp_def comp_defs[] = {
	{"zlib@openssh.com", 1, 1, 1},
	{"zlib", 1, 0, 1},
	{"none", 0, 0, 0},
	{NULL, 0, 0, 0},
};

/* zlib level 6: what OpenSSH (start_compression_out) and libssh2 use. */
#define COMP_LEVEL 6
/* A partial flush adds an empty static block (10 bits) and byte
 * alignment to what deflateBound() allows for (zlib.h, deflateBound). */
#define COMP_FLUSH_SLACK 64
/* Output growth step when deflate still has output pending, and how far
 * beyond the bound it may grow before the stream is declared broken. */
#define COMP_GROW_STEP 4096
#define COMP_GROW_MAX  (4 * COMP_GROW_STEP)
/* First size of the inflate output buffer; it doubles up to the cap. */
#define COMP_RX_FIRST (32 * 1024)

const struct comp_def *comp_by_name(const char *name, size_t n)
{
	const struct comp_def *d;

	for (d = comp_defs; d->name; d++)
		if (strlen(d->name) == n && !memcmp(d->name, name, n))
			return d;
	return NULL;
}

/* ---- zlib's memory through the session's allocator ----------------------- */

/* A size header in front of each block lets z_free wipe it: zlib's
 * window and hash chains hold session plaintext. */
#define ZHDR 16

static voidpf z_alloc(voidpf opaque, uInt items, uInt size)
{
	const struct lalloc *a = opaque;
	size_t n;
	uint8_t *p;

	if (size && items > (SIZE_MAX - ZHDR) / size)
		return Z_NULL;
	n = (size_t)items * size;
	p = la_alloc(a, n + ZHDR);
	if (!p)
		return Z_NULL;
	memcpy(p, &n, sizeof(n));
	return p + ZHDR;
}

static void z_free(voidpf opaque, voidpf ptr)
{
	const struct lalloc *a = opaque;
	uint8_t *p = ptr;
	size_t n;

	if (!p)
		return;
	p -= ZHDR;
	memcpy(&n, p, sizeof(n));
	la_free_wipe(a, p, n + ZHDR);
}

/* ---- stream life cycle --------------------------------------------------- */

void comp_init(struct comp_stream *c, const struct lalloc *a, int deflate)
{
	memset(c, 0, sizeof(*c));
	c->a = a;
	c->deflate = deflate;
}

static void z_end(struct comp_stream *c)
{
	z_stream *z = c->z;

	if (!z)
		return;
	if (c->deflate)
		deflateEnd(z);
	else
		inflateEnd(z);
	la_free_wipe(c->a, z, sizeof(*z));
	c->z = NULL;
}

void comp_restart(struct comp_stream *c)
{
	c->on = 1;
	c->fresh = 1;
	c->broken = 0;
}

void comp_stop(struct comp_stream *c)
{
	z_end(c);
	c->on = 0;
	c->fresh = 0;
	c->broken = 0;
}

void comp_free(struct comp_stream *c)
{
	comp_stop(c);
	if (c->buf)
		la_free_wipe(c->a, c->buf, c->cap);
	c->buf = NULL;
	c->cap = 0;
}

/* The zlib state for a packet: allocated at first use, reset when the
 * context restarts (after a key exchange). */
static int z_ready(struct comp_stream *c)
{
	z_stream *z = c->z;
	int rc;

	if (z && !c->fresh)
		return 0;
	if (z) {
		rc = c->deflate ? deflateReset(z) : inflateReset(z);
		if (rc != Z_OK)
			return LIBSSH2_ERROR_ZLIB;
		c->fresh = 0;
		return 0;
	}
	z = la_alloc(c->a, sizeof(*z));
	if (!z)
		return LIBSSH2_ERROR_ALLOC;
	memset(z, 0, sizeof(*z));
	z->zalloc = z_alloc;
	z->zfree = z_free;
	z->opaque = (voidpf)c->a;
	rc = c->deflate ? deflateInit(z, COMP_LEVEL) : inflateInit(z);
	if (rc != Z_OK) {
		la_free(c->a, z);
		return rc == Z_MEM_ERROR ? LIBSSH2_ERROR_ALLOC
					 : LIBSSH2_ERROR_ZLIB;
	}
	c->z = z;
	c->fresh = 0;
	return 0;
}

/* Output room of at least want bytes, keeping the first keep bytes;
 * the old block is wiped (it holds plaintext). */
static int buf_room(struct comp_stream *c, size_t want, size_t keep)
{
	uint8_t *p;

	if (c->cap >= want)
		return 0;
	p = la_alloc(c->a, want);
	if (!p)
		return LIBSSH2_ERROR_ALLOC;
	if (c->buf) {
		memcpy(p, c->buf, keep);
		la_free_wipe(c->a, c->buf, c->cap);
	}
	c->buf = p;
	c->cap = want;
	return 0;
}

/* ---- one packet ---------------------------------------------------------- */

int comp_deflate(struct comp_stream *c, const uint8_t *in, size_t n,
		 const uint8_t **out, size_t *outn)
{
	size_t len = 0, limit;
	z_stream *z;
	int rc;

	if (c->broken || !c->on || n > SSH_PACKET_MAX)
		goto broken;
	if ((rc = z_ready(c)))
		goto fail;
	z = c->z;
	/* Incompressible data grows a little (stored blocks): room for
	 * that and the flush, and a few steps more before giving up. */
	limit = deflateBound(z, (uLong)n) + COMP_FLUSH_SLACK;
	if ((rc = buf_room(c, limit, 0)))
		goto fail;
	limit += COMP_GROW_MAX;
	z->next_in = (Bytef *)(uintptr_t)in;
	z->avail_in = (uInt)n;
	for (;;) {
		z->next_out = c->buf + len;
		z->avail_out = (uInt)(c->cap - len);
		rc = deflate(z, Z_PARTIAL_FLUSH);
		len = c->cap - z->avail_out;
		if (rc != Z_OK && rc != Z_BUF_ERROR) {
			rc = rc == Z_MEM_ERROR ? LIBSSH2_ERROR_ALLOC
					       : LIBSSH2_ERROR_COMPRESS;
			goto fail;
		}
		/* zlib.h: all output is flushed once avail_out is left
		 * non-zero by a flush. */
		if (z->avail_in == 0 && z->avail_out > 0)
			break;
		if (c->cap + COMP_GROW_STEP > limit)
			goto broken;
		if ((rc = buf_room(c, c->cap + COMP_GROW_STEP, len)))
			goto fail;
	}
	*out = c->buf;
	*outn = len;
	return 0;
broken:
	rc = LIBSSH2_ERROR_COMPRESS;
fail:
	c->broken = 1;
	return rc;
}

int comp_inflate(struct comp_stream *c, const uint8_t *in, size_t n, size_t max,
		 const uint8_t **out, size_t *outn, const char **why)
{
	size_t len = 0;
	z_stream *z;
	int rc;

	if (c->broken || !c->on || n > SSH_PACKET_MAX || max > SSH_PACKET_MAX) {
		*why = "decompression is not possible any more";
		rc = LIBSSH2_ERROR_ZLIB;
		goto fail;
	}
	if ((rc = z_ready(c))) {
		*why = "unable to start decompression";
		goto fail;
	}
	z = c->z;
	z->next_in = (Bytef *)(uintptr_t)in;
	z->avail_in = (uInt)n;
	for (;;) {
		/* One byte over max tells "exactly max" from "more". */
		if (len == c->cap) {
			size_t want = c->cap ? c->cap * 2 : COMP_RX_FIRST;

			if (c->cap > max) {
				*why = "compressed packet expands beyond the "
				       "maximum packet size";
				rc = LIBSSH2_ERROR_ZLIB;
				goto fail;
			}
			if (want > max + 1)
				want = max + 1;
			if ((rc = buf_room(c, want, len))) {
				*why = "out of memory";
				goto fail;
			}
		}
		z->next_out = c->buf + len;
		z->avail_out = (uInt)(c->cap - len);
		rc = inflate(z, Z_SYNC_FLUSH);
		len = c->cap - z->avail_out;
		if (rc == Z_STREAM_END) {
			*why = "the peer ended its compressed stream";
			rc = LIBSSH2_ERROR_ZLIB;
			goto fail;
		}
		if (rc == Z_MEM_ERROR) {
			*why = "out of memory";
			rc = LIBSSH2_ERROR_ALLOC;
			goto fail;
		}
		if (rc != Z_OK && rc != Z_BUF_ERROR) {
			*why = "corrupt compressed data";
			rc = LIBSSH2_ERROR_ZLIB;
			goto fail;
		}
		if (len > max) {
			*why = "compressed packet expands beyond the "
			       "maximum packet size";
			rc = LIBSSH2_ERROR_ZLIB;
			goto fail;
		}
		/* Input used up and room left: nothing more is pending. */
		if (z->avail_in == 0 && z->avail_out > 0)
			break;
		if (z->avail_out > 0) {
			/* input left, room left, yet no progress */
			*why = "corrupt compressed data";
			rc = LIBSSH2_ERROR_ZLIB;
			goto fail;
		}
	}
	*out = c->buf;
	*outn = len;
	return 0;
fail:
	c->broken = 1;
	return rc;
}
