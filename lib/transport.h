/*
 * transport.h - the sans-I/O SSH transport engine (RFC 4253).
 *
 * Bytes in, bytes out; no socket inside.  The session feeds what it
 * reads from the socket into tp_in_space()/tp_in_commit(), takes what to
 * send from tp_out_data()/tp_out_consume(), and asks the engine for the
 * next complete packet.  Keeping I/O out makes the engine testable in
 * memory (fault tests replay truncated or corrupted streams) and lets
 * non-blocking callers stop at any byte and resume.
 */
#ifndef SFTPMNT_TRANSPORT_H
#define SFTPMNT_TRANSPORT_H

#include <stddef.h>
#include <stdint.h>

#include "alloc.h"
#include "buf.h"
#include "ssh_limits.h"

struct tp {
	const struct lalloc *a;

	/* Raw inbound bytes [in_start, in_end) of in[in_cap]. */
	uint8_t *in;
	size_t in_cap;
	size_t in_start;
	size_t in_end;

	/* Encoded outbound bytes; out_sent of them already written. */
	struct wbuf out;
	size_t out_sent;

	/* Lines the peer sent before its identification (RFC 4253 4.2). */
	unsigned int prelines;
	size_t prebytes;
};

int tp_init(struct tp *t, const struct lalloc *a);
void tp_free(struct tp *t);

/* Room for at least want bytes of input; NULL when out of memory. */
uint8_t *tp_in_space(struct tp *t, size_t want, size_t *avail);
void tp_in_commit(struct tp *t, size_t n);

/* Pending output. */
static inline size_t tp_out_len(const struct tp *t)
{
	return t->out.len - t->out_sent;
}

static inline const uint8_t *tp_out_data(const struct tp *t)
{
	return t->out.p + t->out_sent;
}

void tp_out_consume(struct tp *t, size_t n);

/* Queue our identification line (without CR LF). */
int tp_banner_queue(struct tp *t, const char *banner);

/*
 * Look for the peer's identification line in the input.  Returns 1 and
 * copies it (without CR LF, NUL-terminated) to id when found, 0 when
 * more input is needed, or a negative LIBSSH2_ERROR_* (with *why set to
 * a static explanation) when the peer sent something that is not SSH-2.
 */
int tp_banner_take(struct tp *t, char *id, size_t idcap, const char **why);

#endif
