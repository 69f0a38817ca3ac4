/*
 * rahead.c - per-handle read cache and read-ahead.
 *
 * The kernel asks for at most its readahead window at a time, which at
 * 50 ms RTT is a few MB/s.  So a handle that is read sequentially keeps
 * a window of READ requests in flight beyond what was asked, and the
 * window grows fourfold each time a reader had to wait for the network
 * (128 MiB at 50 ms: 0.88 s against 1.04 s doubling), until
 * it covers the bandwidth-delay product (readahead=).  A read that is
 * not where the last one ended drops the cache and starts small again,
 * so random readers do not pay for data they never use.
 *
 * Chunks are kept in file order from `ra_start`; replies land in them
 * as they arrive (the server answers in order), and ops waiting for a
 * chunk are re-examined when it completes.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>

#include "sftpmnt.h"

#define RA_WINDOW_MIN (512u * 1024)
/* (the largest window: readahead=, 64 MiB by default) */
/* All handles together read ahead at most this much (the readers share
 * it; what a reader asks for itself is always fetched). */
#define RA_MOUNT_MAX (128u * 1024 * 1024)

struct rachunk {
	struct rachunk *next;
	struct fh *fh; /* NULL once dropped: the reply frees the chunk */
	uint64_t off;
	uint32_t len, got;
	int state; /* 0 pending, 1 data, 2 eof, 3 error */
	int err;
	int detached; /* out of the cache (stale); still wakes waiters */
	uint8_t *data;
};

static void chunk_done(void *arg, int err, const uint8_t *body, size_t n);

static void chunk_free(struct rachunk *c)
{
	free(c->data);
	free(c);
}

enum drop_mode {
	DROP_DONE,     /* chunks with data go; those in flight stay */
	DROP_STALE,    /* the file changed: those in flight leave the cache,
			* and whoever waits for them is served afresh */
	DROP_RELEASE,  /* everything; replies free what is in flight */
};

static void drop(struct fh *fh, enum drop_mode mode)
{
	struct rachunk *c = fh->ra_head, *nx, **keep = &fh->ra_head;
	size_t before = fh->ra_bytes;

	fh->ra_head = fh->ra_tail = NULL;
	fh->ra_bytes = 0;
	for (; c; c = nx) {
		nx = c->next;
		c->next = NULL;
		if (c->state != 0) {
			chunk_free(c);
		} else if (mode == DROP_RELEASE) {
			c->fh = NULL;
		} else if (mode == DROP_STALE) {
			c->detached = 1;
		} else {
			*keep = c;
			keep = &c->next;
			fh->ra_tail = c;
			fh->ra_bytes += c->len;
		}
	}
	fh->ra_eof = 0;
	fh->c->ra_total -= before - fh->ra_bytes;
}

void ra_drop(struct fh *fh)
{
	drop(fh, DROP_STALE);
}

void ra_release(struct fh *fh)
{
	drop(fh, DROP_RELEASE);
}

/* A new chunk for [off, off+len), kept in offset order. */
static int issue(struct conn *c, struct fh *fh, uint64_t off, uint32_t len)
{
	struct sftp_core *core = c->core;
	struct rachunk *ch = calloc(1, sizeof(*ch)), **pp;
	size_t mark = sftp_core_out(core)->len;

	if (!ch || !(ch->data = malloc(len))) {
		free(ch);
		return -ENOMEM;
	}
	ch->fh = fh;
	ch->off = off;
	ch->len = len;
	if (sftp_enc_read(sftp_core_out(core), sftp_core_id(core), fh->h,
			  fh->hlen, off, len) ||
	    sftp_core_track(core, mark, chunk_done, ch)) {
		sftp_core_out(core)->len = mark;
		sftp_core_out(core)->err = 0;
		chunk_free(ch);
		return -EIO;
	}
	for (pp = &fh->ra_head; *pp && (*pp)->off < off; pp = &(*pp)->next)
		;
	ch->next = *pp;
	*pp = ch;
	if (!ch->next)
		fh->ra_tail = ch;
	fh->ra_bytes += len;
	c->ra_total += len;
	return 0;
}

/* All handles of the connection together: RA_MOUNT_MAX, or one file's
 * window (readahead=) when that is more. */
static uint64_t ra_mount_max(const struct conn *c)
{
	return c->o->readahead_max > RA_MOUNT_MAX ? c->o->readahead_max
						   : RA_MOUNT_MAX;
}

/* Keep READs in flight from the last chunk up to `until`. */
static int prefetch(struct conn *c, struct fh *fh, uint64_t from,
		    uint64_t until)
{
	uint32_t max = c->core->max_read;
	uint64_t next = fh->ra_tail ? fh->ra_tail->off + fh->ra_tail->len
				    : from;
	int rc;

	if (next < from)
		next = from;
	while (next < until && !fh->ra_eof &&
	       fh->ra_bytes < c->o->readahead_max + max &&
	       c->ra_total < ra_mount_max(c)) {
		if ((rc = issue(c, fh, next, max)))
			return rc;
		next += max;
	}
	return 0;
}

/* Pieces of a reply: they point into the chunks (no copy), and past
 * RA_IOV pieces what follows is copied into op->buf. */
#define RA_IOV 32

struct pieces {
	struct iovec v[RA_IOV];
	int n;
};

static void add_piece(struct op *op, struct pieces *pc, const uint8_t *p,
		      size_t len)
{
	if (pc->n < RA_IOV - 1) {
		pc->v[pc->n].iov_base = (void *)p;
		pc->v[pc->n].iov_len = len;
		pc->n++;
	} else {
		/* the last piece collects copies, in op->buf at op->got */
		if (pc->n == RA_IOV - 1) {
			pc->v[pc->n].iov_base = op->buf + op->got;
			pc->v[pc->n].iov_len = 0;
			pc->n++;
		}
		memcpy(op->buf + op->got, p, len);
		pc->v[RA_IOV - 1].iov_len += len;
	}
	op->got += len;
}

/* Collect what [off, off+size) has in the cache.  1: the op can be
 * answered (all there, or EOF/error reached); 0: it waits for a chunk
 * in flight; -1: nothing covers *hole (the caller asks for it). */
static int try_serve(struct op *op, struct pieces *pc, uint64_t *hole,
		     uint64_t *hole_end)
{
	struct fh *fh = op->fh;
	uint64_t pos = (uint64_t)op->off, end = op->off + op->size;
	struct rachunk *c;

	op->got = 0;
	pc->n = 0;
	for (c = fh->ra_head; c && pos < end; c = c->next) {
		uint64_t cend = c->off + c->got;
		size_t take;

		if (c->off + c->len <= pos)
			continue;
		if (c->off > pos) {
			*hole = pos;
			*hole_end = c->off < end ? c->off : end;
			return -1;
		}
		if (c->state == 0)
			return 0;
		if (c->state == 3) {
			op->err = c->err;
			return 1;
		}
		if (c->state == 2)
			return 1; /* EOF: a short read */
		if (cend > pos) {
			take = cend - pos < end - pos ? cend - pos : end - pos;
			add_piece(op, pc, c->data + (pos - c->off), take);
			pos += take;
		}
		if (c->got < c->len && pos >= cend)
			return 1; /* a short chunk: EOF here */
	}
	if (pos >= end)
		return 1;
	*hole = pos;
	*hole_end = end;
	return -1;
}

static void answer(struct op *op, const struct pieces *pc)
{
	/* the whole of a small file, from its start to its end */
	if (!op->err && op->off == 0 && op->got < op->size)
		pf_whole(op->fh, pc->v, pc->n, op->got);
	if (op->err && op->got == 0)
		op_reply_err(op, op->err);
	else if (op->got == 0)
		op_reply_buf(op, NULL, 0); /* EOF */
	else
		op_reply_iov(op, pc->v, pc->n);
	op_free(op);
}

/* Serve op now, or make sure what it needs is in flight and park it. */
static void serve(struct conn *c, struct op *op)
{
	struct fh *fh = op->fh;
	uint32_t max = c->core->max_read;
	uint64_t hole = 0, hole_end = 0;
	struct pieces pc;
	int r, rc;

	for (;;) {
		r = try_serve(op, &pc, &hole, &hole_end);
		if (r == 1) {
			answer(op, &pc);
			return;
		}
		if (r == 0)
			break;
		while (hole < hole_end) {
			uint32_t len = hole_end - hole < max
					       ? (uint32_t)(hole_end - hole)
					       : max;

			if ((rc = issue(c, fh, hole, len))) {
				op_reply_err(op, -rc);
				op_free(op);
				return;
			}
			hole += len;
		}
	}
	op->next = fh->ra_waiters;
	fh->ra_waiters = op;
}

/* Chunks wholly before off are consumed: give their memory back. */
static void trim(struct fh *fh, uint64_t off)
{
	while (fh->ra_head && fh->ra_head->state != 0 &&
	       fh->ra_head->off + fh->ra_head->len <= off) {
		struct rachunk *c = fh->ra_head;

		fh->ra_head = c->next;
		if (!fh->ra_head)
			fh->ra_tail = NULL;
		fh->ra_bytes -= c->len;
		fh->c->ra_total -= c->len;
		chunk_free(c);
	}
}

static void chunk_done(void *arg, int err, const uint8_t *body, size_t n)
{
	struct rachunk *c = arg;
	struct fh *fh = c->fh;
	struct sftp_data d;
	struct sftp_status st;
	struct op *w, *nx;

	if (!fh) {
		chunk_free(c);
		return;
	}
	if (c->detached) {
		/* its data may predate a write: whoever waited is served
		 * again, from fresh reads */
		chunk_free(c);
		w = fh->ra_waiters;
		fh->ra_waiters = NULL;
		for (; w; w = nx) {
			nx = w->next;
			serve(w->c, w);
		}
		return;
	}
	if (err) {
		/* the connection died: the chunk goes, and whoever waited
		 * for it is restarted after the reconnect */
		struct rachunk **pp;

		for (pp = &fh->ra_head; *pp; pp = &(*pp)->next)
			if (*pp == c) {
				*pp = c->next;
				break;
			}
		fh->ra_tail = NULL;
		for (pp = &fh->ra_head; *pp; pp = &(*pp)->next)
			fh->ra_tail = *pp;
		fh->ra_bytes -= c->len;
		fh->c->ra_total -= c->len;
		chunk_free(c);
		w = fh->ra_waiters;
		fh->ra_waiters = NULL;
		for (; w; w = nx) {
			nx = w->next;
			op_lost(w);
		}
		return;
	}
	if (body[0] == SSH_FXP_DATA) {
		d = sftp_dec_data(body, n);
		if (d.rc || d.len > c->len) {
			c->state = 3;
			c->err = EIO;
		} else {
			memcpy(c->data, d.data, d.len);
			c->got = (uint32_t)d.len;
			c->state = 1;
			if (d.len < c->len)
				fh->ra_eof = 1; /* a short read: stop ahead */
		}
	} else {
		st = sftp_dec_status(body, n);
		if (!st.rc && st.code == SSH_FX_EOF) {
			c->state = 2;
			fh->ra_eof = 1;
		} else {
			c->state = 3;
			c->err = st.rc ? EIO : errmap(st.code, OP_READ);
		}
	}
	/* re-examine the ops waiting on this handle */
	w = fh->ra_waiters;
	fh->ra_waiters = NULL;
	for (; w; w = nx) {
		nx = w->next;
		serve(w->c, w);
	}
}

void ra_read(struct conn *c, struct op *op)
{
	struct fh *fh = op->fh;
	uint64_t off = (uint64_t)op->off, end = off + op->size;
	int rc;

	op->buf = malloc(op->size ? op->size : 1);
	if (!op->buf) {
		op_reply_err(op, ENOMEM);
		op_free(op);
		return;
	}
	if (op->size == 0) {
		op_reply_buf(op, NULL, 0);
		op_free(op);
		return;
	}
	{
		/* written through another handle since: the cache is stale */
		uint64_t g = itable_wgen(c->it, fh->ino);

		if (g != fh->ra_wgen) {
			drop(fh, DROP_STALE);
			fh->ra_wgen = g;
		}
	}
	if (off != fh->ra_last_end) {
		/* not sequential: start over from here, small */
		drop(fh, DROP_DONE);
		fh->ra_window = 0;
	} else if (fh->ra_window < RA_WINDOW_MIN) {
		fh->ra_window = RA_WINDOW_MIN < c->o->readahead_max
					? RA_WINDOW_MIN
					: c->o->readahead_max;
	}
	fh->ra_last_end = end;
	trim(fh, off);
	if (fh->ra_window) {
		/* the file may have grown since a short read */
		if (fh->ra_eof && !fh->ra_waiters)
			fh->ra_eof = 0;
		rc = prefetch(c, fh, off, end + fh->ra_window);
		if (rc) {
			op_reply_err(op, -rc);
			op_free(op);
			return;
		}
	}
	op->c = c;
	{
		uint64_t h = 0, he = 0;
		struct pieces pc;

		/* the reader will wait for the network: grow the window */
		if (try_serve(op, &pc, &h, &he) != 1 && fh->ra_window &&
		    fh->ra_window < c->o->readahead_max) {
			fh->ra_window *= 4;
			if (fh->ra_window > c->o->readahead_max)
				fh->ra_window = c->o->readahead_max;
		}
	}
	serve(c, op);
}
