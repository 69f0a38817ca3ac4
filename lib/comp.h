/*
 * comp.h - SSH compression (RFC 4253 section 6.2, and OpenSSH PROTOCOL
 * section 2.2 "zlib@openssh.com"): the name table and the zlib stream
 * of one direction.  comp.c is the only file of the library that
 * includes <zlib.h>; the transport sees an opaque stream.
 *
 * Each direction is one continuous deflate stream (RFC 1950 zlib
 * format), every packet's payload ending with a partial flush so that
 * the peer can decode it without the next one.  The context starts anew
 * after each key exchange (RFC 4253 6.2; OpenSSH restarts it at every
 * NEWKEYS).  "zlib" starts at the first NEWKEYS, "zlib@openssh.com"
 * only once the user is authenticated (the first packet after
 * SSH_MSG_USERAUTH_SUCCESS), so nothing an unauthenticated peer sends
 * reaches zlib.
 */
#ifndef SFTPMNT_COMP_H
#define SFTPMNT_COMP_H

#include <stddef.h>
#include <stdint.h>

#include "alloc.h"
#include "buf.h"

struct comp_def {
	const char *name;
	int zlib;    /* 0: "none" */
	int delayed; /* starts after USERAUTH_SUCCESS (zlib@openssh.com) */
	int opt_in;  /* offered only with LIBSSH2_FLAG_COMPRESS or when
			named by libssh2_session_method_pref */
};

/* Preference order: delayed first (what OpenSSH offers and prefers). */
extern const struct comp_def comp_defs[];

const struct comp_def *comp_by_name(const char *name, size_t n);

/*
 * The zlib stream of one direction.  The zlib state is allocated at the
 * first packet after comp_restart() (so a rekey, which cannot fail,
 * only marks it) and reused by later restarts.
 */
struct comp_stream {
	const struct lalloc *a;
	int deflate;  /* 1: we compress (tx), 0: we decompress (rx) */
	int on;	      /* packets of this direction are compressed */
	int fresh;    /* the next packet starts a new context */
	int broken;   /* a failure left the context unusable: sticky */
	void *z;      /* z_stream, NULL before the first packet */
	uint8_t *buf; /* output of the last packet */
	size_t cap;
};

void comp_init(struct comp_stream *c, const struct lalloc *a, int deflate);
/* Compress from the next packet on, with a new context. */
void comp_restart(struct comp_stream *c);
/* No compression from the next packet on; the zlib state is freed. */
void comp_stop(struct comp_stream *c);
/* Free everything (plaintext wiped).  A freed stream is stopped. */
void comp_free(struct comp_stream *c);

static inline int comp_on(const struct comp_stream *c)
{
	return c->on;
}

/*
 * Compress one packet payload (type byte included): *out (valid until
 * the next call) and *outn.  0, LIBSSH2_ERROR_ALLOC, or
 * LIBSSH2_ERROR_COMPRESS; after an error the stream stays broken, as
 * the peer's context can no longer match ours.
 */
int comp_deflate(struct comp_stream *c, const uint8_t *in, size_t n,
		 const uint8_t **out, size_t *outn) BUF_WUR;

/*
 * Decompress one packet payload into at most max bytes: *out (valid
 * until the next call) and *outn.  More than max bytes of output (a
 * "zip bomb"), corrupt data or an ended stream are LIBSSH2_ERROR_ZLIB
 * with *why set; the stream then stays broken.  Never allocates more
 * than max + 1 bytes of output.
 */
int comp_inflate(struct comp_stream *c, const uint8_t *in, size_t n, size_t max,
		 const uint8_t **out, size_t *outn, const char **why) BUF_WUR;

/* Mark the stream unusable (the packet it compressed was lost). */
static inline void comp_break(struct comp_stream *c)
{
	c->broken = 1;
}

#endif
