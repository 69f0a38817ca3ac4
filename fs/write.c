/*
 * write.c - the write path: a FUSE write becomes SFTP WRITEs of at most
 * the server's limit, on the main channel or spread over the extra ones
 * (stripe.c); write-behind answers it once it is on its way (within
 * WB_HANDLE_MAX / WB_MOUNT_MAX), or ll.c's write_early as it is copied;
 * an error the server gives later is latched on the handle (wb_err) and
 * returned by the next write, flush, fsync or close.  The pieces the
 * server acknowledges are noted, so that a replay after a reconnect sends
 * only the rest; flush, fsync and release wait here until every write of
 * their handle is answered.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>

#include "sftpmnt.h"

static struct wbuf *W(struct op *op)
{
	return sftp_core_out(op->c->core);
}

static uint32_t ID(struct op *op)
{
	return sftp_core_id(op->c->core);
}

/*
 * A write's pieces (one SFTP WRITE each, on the main channel or a
 * stripe's) are acknowledged one by one.  Those the server has
 * acknowledged are noted in op->acked, and a replay after a reconnect
 * sends only the rest: sent again, an acknowledged piece could land
 * over a newer write of the same bytes acknowledged since (a later
 * write on the same channel, which is not replayed).  Out of memory
 * for the note, the piece is simply sent again as before.
 */
static void wr_acked(struct op *op, size_t lo, size_t hi)
{
	struct wspan *a;
	int i, j;

	if (op->nacked == op->aacked) {
		int na = op->aacked ? 2 * op->aacked : 4;

		if (!(a = realloc(op->acked, (size_t)na * sizeof(*a))))
			return;
		op->acked = a;
		op->aacked = na;
	}
	a = op->acked;
	for (i = 0; i < op->nacked && a[i].lo < lo; i++)
		;
	memmove(&a[i + 1], &a[i], (size_t)(op->nacked - i) * sizeof(*a));
	a[i].lo = lo;
	a[i].hi = hi;
	op->nacked++;
	for (i = j = 0; i < op->nacked; i++) {
		if (j > 0 && a[i].lo <= a[j - 1].hi) {
			if (a[i].hi > a[j - 1].hi)
				a[j - 1].hi = a[i].hi;
		} else {
			a[j++] = a[i];
		}
	}
	op->nacked = j;
}

/* Moves *at past acknowledged bytes; how many unacknowledged ones follow
 * it (0: none up to the end of the write). */
static size_t wr_gap(const struct op *op, size_t *at)
{
	size_t end = op->size;
	int i;

	for (i = 0; i < op->nacked; i++) {
		if (op->acked[i].hi <= *at)
			continue;
		if (op->acked[i].lo <= *at) {
			*at = op->acked[i].hi;
			continue;
		}
		end = op->acked[i].lo;
		break;
	}
	return *at < end ? end - *at : 0;
}

void op_piece_reply(struct op *op, size_t lo, size_t len, int err,
		    const uint8_t *body, size_t n)
{
	if (!err && n > 0 && body[0] == SSH_FXP_STATUS) {
		struct sftp_status st = sftp_dec_status(body, n);

		if (!st.rc && st.code == SSH_FX_OK) {
			wr_acked(op, lo, lo + len);
		} else if (!op->refused || lo < op->refused_at) {
			op->refused = 1;
			op->refused_at = lo;
		}
	}
	op_reply_sftp(op, err, body, n);
}

struct wpiece {
	struct op *op;
	size_t lo, len;
};

static void piece_reply(void *arg, int err, const uint8_t *body, size_t n)
{
	struct wpiece p = *(struct wpiece *)arg;

	free(arg);
	op_piece_reply(p.op, p.lo, p.len, err, body, n);
}

/* SFTP WRITE of op->buf[lo, lo + len) on the main channel. */
static int send_piece(struct op *op, size_t lo, size_t len)
{
	struct sftp_core *core = op->c->core;
	struct fh *fh = op->fh;
	struct wpiece *p = malloc(sizeof(*p));
	size_t mark = W(op)->len;

	if (!p)
		return -ENOMEM;
	p->op = op;
	p->lo = lo;
	p->len = len;
	if (sftp_enc_write(W(op), ID(op), fh->h, fh->hlen,
			   (uint64_t)op->off + lo, op->buf + lo, len)) {
		free(p);
		core->out.len = mark;
		core->out.err = 0;
		return -ENOMEM;
	}
	if (sftp_core_track(core, mark, piece_reply, p)) {
		free(p);
		return -EIO;
	}
	op->pending++;
	return 0;
}

/* Writes of the handle not yet acknowledged by the server, or answered
 * by ll.c and not yet sent, or the cut after a full disk on its way. */
int fh_writing(struct fh *fh)
{
	return fh->wb_bytes || fh->cut_out ||
	       __atomic_load_n(&fh->wq_bytes, __ATOMIC_RELAXED);
}

/* Every SFTP WRITE of op answered (op->err: the first error). */
void op_write_done(struct op *op)
{
	struct fh *fh = op->fh;

	wb_uncount(op);
	if (op->err) /* what the server has is not known now */
		fh->battr_ok = 0;
	if (op->stage == 0) { /* the application still waits */
		if (op->err)
			op_reply_err(op, op->err);
		else
			op_reply_write(op, op->size);
	} else if (op->err && !fh->wb_err) {
		fh->wb_err = op->err;
	}
	if ((op->err == ENOSPC || op->err == EDQUOT) && op->refused &&
	    fh->fresh) {
		uint64_t at = (uint64_t)op->off + op->refused_at;

		if (!fh->cut_want || at < fh->cut_at)
			fh->cut_at = at;
		fh->cut_want = 1;
	}
	op_free(op);
	op_wb_settled(fh);
}

/*
 * The cut after a full disk (fh->fresh): an FSETSTAT of the size, sent
 * once no write of the handle is on its way, before a flush, fsync or
 * close waiting for them goes on.  Pieces the server took beyond the
 * first refused byte are dropped with it: the writer is told of the
 * error at the next write, fsync or close, and a file that is a prefix
 * of what it wrote is what a program resuming it by its size (rsync
 * --append, curl -C -) can trust; zeros in the middle it could not.
 */
static void cut_done(void *arg, int err, const uint8_t *body, size_t n)
{
	struct fh *fh = arg;
	struct conn *c = fh->c;
	char *p;

	(void)body;
	(void)n;
	fh->cut_out = 0;
	if (err || n < 1 || body[0] != SSH_FXP_STATUS ||
	    sftp_dec_status(body, n).code != SSH_FX_OK)
		conn_log(c, LOG_WARNING,
			 "a full disk: could not cut the file back to the "
			 "%llu bytes written before it",
			 (unsigned long long)fh->cut_at);
	fh->battr_ok = 0;
	itable_bump_wgen(c->it, fh->ino);
	if ((p = itable_path(c->it, fh->ino))) {
		dc_changed(c->dc, p, 1);
		free(p);
	}
	if (c->se)
		fuse_lowlevel_notify_inval_inode(c->se, fh->ino, -1, 0);
	op_wb_settled(fh);
}

static int cut_send(struct fh *fh)
{
	struct conn *c = fh->c;
	struct sftp_core *core = c->core;
	struct sftp_attrs a = { .flags = SSH_FILEXFER_ATTR_SIZE,
				.size = fh->cut_at };
	size_t mark = sftp_core_out(core)->len;

	fh->cut_want = 0;
	if (c->dead || fh->gen != c->gen || fh->stale)
		return 0;
	if (sftp_enc_fsetstat(sftp_core_out(core), sftp_core_id(core), fh->h,
			      fh->hlen, &a) ||
	    sftp_core_track(core, mark, cut_done, fh)) {
		sftp_core_out(core)->len = mark;
		sftp_core_out(core)->err = 0;
		return 0;
	}
	fh->cut_out = 1;
	return 1;
}

void wb_uncount(struct op *op)
{
	struct fh *fh = op->fh;
	struct conn *c = op->c;
	char *p;

	op->wb_counted = 0;
	fh->wb_bytes -= op->size;
	c->wb_total -= op->size;
	fh->refs--;
	fh_stamp(c, fh, -1);
	if (!c->dc)
		return;
	if ((p = itable_path(c->it, fh->ino))) {
		dc_changed(c->dc, p, 1);
		free(p);
	} else {
		dc_drop_tree(c->dc, "/");
	}
}

int op_start_write(struct op *op)
{
	struct fh *fh = op->fh;
	uint32_t max = op->c->core->max_write;
	size_t done, len;
	int rc;

	if (op->stage == 0 && fh->wb_err) {
		/* A write that failed earlier: every later write fails too,
		 * until a flush or fsync has reported it.  (Said once, by
		 * the second half of a write the kernel split, it became a
		 * short write that the program completed, and the failed
		 * first half went unreported: a lost write.) */
		return -fh->wb_err;
	}
	if (op->size == 0) {
		op_reply_write(op, 0);
		op_free(op);
		return 1;
	}
	if (!op->wb_counted && op->c->nsec &&
	    itable_gate(op->c->it, fh->ino, 0)) {
		/* a read on a secondary connection waits for the writes of
		 * this file in flight: this one goes after it (conn.c) */
		op_active_unlink(op);
		op->next = op->c->gwait;
		op->c->gwait = op;
		return 1;
	}
	if (st_room(op))
		return 1; /* started again when striped writes complete */
	ra_drop(fh); /* what we cached may be stale now */
	fh->ra_last_end = 0;
	itable_bump_wgen(op->c->it, fh->ino); /* and other handles' too */
	if (!op->wb_counted) { /* once, not again for a replay */
		op->wb_counted = 1;
		fh->wb_bytes += op->size;
		op->c->wb_total += op->size;
		fh->refs++;
		fh_stamp(op->c, fh, 1);
		if (fh->battr_ok) { /* what the server will have */
			if ((uint64_t)op->off + op->size > fh->battr.size)
				fh->battr.size = (uint64_t)op->off + op->size;
			/* (the server's clock, when it writes) */
			fh->battr.mtime = (uint32_t)time(NULL);
			fh->bmtime_set = 0;
		}
		st_written(op->c, fh, op->size);
	}
	/* FUSE writes may be larger than an SFTP WRITE may carry, and
	 * large ones are spread over channels (stripe.c); a replay skips
	 * what the server acknowledged before the link went */
	for (done = 0;; done += len) {
		size_t gap = wr_gap(op, &done);
		uint64_t at = (uint64_t)op->off + done;
		int k;

		if (done >= op->size)
			break;
		len = gap < max ? gap : max;
		k = st_route(op->c, fh, at, &len);
		if (k) {
			rc = st_send(op, k, at, (const uint8_t *)op->buf + done,
				     len);
		} else {
			rc = send_piece(op, done, len);
			if (!rc && at + len > fh->main_end)
				fh->main_end = at + len;
		}
		if (rc) {
			op_unhold(op);
			if (op->pending == 0 && op->wb_counted) {
				/* nothing went out: the error to its writer,
				 * or latched if it was answered already */
				op_give_up(op, -rc);
				return 1;
			}
			return rc;
		}
	}
	if (op->pending == 0) {
		/* a replay that found every piece acknowledged before the
		 * link went (none was lost after all) */
		op_unhold(op);
		op_write_done(op);
		return 1;
	}
	/* op->buf stays until every byte is acknowledged: a reconnect
	 * replays the write from it */
	if (op->stage == 0 && fh->wb_bytes <= WB_HANDLE_MAX(op->c) &&
	    op->c->wb_total <= WB_MOUNT_MAX(op->c)) {
		/* write-behind: the data is on its way; an error comes
		 * back at the next write, flush, fsync or close */
		op_reply_write(op, op->size);
		op->stage = 1;
	}
	op_unhold(op); /* sent: what came after it may go */
	return 0;
}

/* flush/fsync/release wait until every write of the handle is answered. */
int op_wait_writes(struct op *op)
{
	struct fh *fh = op->fh;

	if (!fh_writing(fh))
		return 0;
	op->next = fh->wb_waiters;
	fh->wb_waiters = op;
	return 1;
}

void op_wb_settled(struct fh *fh)
{
	struct op *w = fh->wb_waiters, *nx;

	if (fh_writing(fh) || (fh->cut_want && cut_send(fh)) || !w)
		return;
	fh->wb_waiters = NULL;
	for (; w; w = nx) {
		nx = w->next;
		op_start(w->c, w);
	}
}
