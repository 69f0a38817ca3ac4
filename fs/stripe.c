/*
 * stripe.c - large writes spread over several SFTP channels.
 *
 * The server grants each channel a window (OpenSSH: 2 MiB), which caps
 * one channel's writes at 2 MiB per round trip: 40 MB/s at 50 ms.  So a
 * handle that has written STRIPE_AFTER bytes (not O_APPEND) opens the
 * same file on the connection's extra channels (conn.c opens them in
 * the background once mounted; the handle's writes wait the round trip
 * of these opens), and from then on the bytes at or above `from` (the end of
 * everything written so far on the main channel) go to channel
 * ((off - from) / STRIPE_CHUNK) % (n + 1), channel 0 being the main one.
 * Every byte thus has one channel for good, so two writes of the same
 * byte stay in order; bytes below `from` stay on the main channel.
 *
 * Across channels the server keeps no order, so whatever must see the
 * striped bytes waits for them (st_barrier: a read, a truncate, a copy,
 * another handle's write of the same file); attributes the kernel gets
 * for the file meanwhile say at least the size written (st_patch).
 * Completions are counted in a ring by sequence number, so a waiter
 * waits only for the writes sent before it, not for a stream to end.
 *
 * A lost connection fails the striped writes like any other; they are
 * replayed on the main channel of the new one, and striping starts over.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>

#include "sftpmnt.h"

#define STRIPE_AFTER (2u * 1024 * 1024)
#define STRIPE_CHUNK (256u * 1024)
#define ST_RING 1024

struct stripes {
	int state; /* 0 waiting for channels, 1 opening, 2 on, -1 never */
	int n;	   /* extra handles */
	int wait;  /* opens not answered */
	int bad;   /* an open failed */
	uint32_t gen;
	uint64_t from;
	uint64_t hi;	 /* highest end offset of a striped write */
	uint64_t seq, lo; /* next sequence number, lowest not completed */
	uint8_t done[ST_RING];
	struct op *waiters;
	struct fh *next; /* conn->st_list */
	uint8_t h[XCH_MAX][SFTP_HANDLE_MAX];
	size_t hlen[XCH_MAX];
};

struct st_req {
	struct op *op;
	struct fh *fh;
	uint64_t seq;
	int k; /* opens: which channel */
	size_t lo, len; /* writes: the piece of op->buf */
};

static int inflight(const struct stripes *st)
{
	return st->seq != st->lo;
}

static void wake(struct fh *fh)
{
	struct op *w = fh->st->waiters, *nx;

	fh->st->waiters = NULL;
	for (; w; w = nx) {
		nx = w->next;
		op_start(w->c, w);
	}
}

/* ---- turning it on ------------------------------------------------------- */

/*
 * A file's blocks stay allocated on the server until every handle of it
 * is closed, the extra ones too, and those CLOSEs go on other channels
 * than the main one: `rm` right after closing a striped file, then a
 * write elsewhere, could meet a full disk that the removal was to free
 * (the server had not yet closed the extra handles when the REMOVE went
 * out on the main channel).  So the CLOSEs are counted per file while on
 * their way (c->st_closing), and an unlink of that file waits for them,
 * holding the ops after it (op_start's hold) so that nothing overtakes
 * it.  It costs a round trip only there.
 */
struct st_closing {
	struct st_closing *next;
	struct conn *c;
	uint64_t ino;
	int left;	  /* CLOSEs not answered */
	struct op *waiters;
};

static void closed(void *arg, int err, const uint8_t *body, size_t n)
{
	struct st_closing *t = arg, **pp;
	struct conn *c = t->c;
	struct op *w, *nx;

	(void)err;
	(void)body;
	(void)n;
	if (--t->left > 0)
		return;
	for (pp = &c->st_closing; *pp; pp = &(*pp)->next)
		if (*pp == t) {
			*pp = t->next;
			break;
		}
	for (w = t->waiters; w; w = nx) {
		nx = w->next;
		op_unhold(w); /* (op_start takes the hold back if need be) */
		op_start(c, w);
	}
	free(t);
}

int st_closing(struct conn *c, struct op *op)
{
	struct st_closing *t;
	uint64_t ino;

	if (!c->st_closing || !op->path || !(ino = itable_ino(c->it, op->path)))
		return 0;
	for (t = c->st_closing; t; t = t->next)
		if (t->ino == ino)
			break;
	if (!t)
		return 0;
	op->next = t->waiters;
	t->waiters = op;
	c->hold = op;
	return 1;
}

static void st_close_extra(struct conn *c, struct fh *fh, int k,
			   struct st_closing *t)
{
	struct sftp_core *core = c->xcore[k];
	size_t mark = sftp_core_out(core)->len;

	if (sftp_enc_close(sftp_core_out(core), sftp_core_id(core),
			   fh->st->h[k], fh->st->hlen[k]) ||
	    sftp_core_track(core, mark, t ? closed : op_forget_reply, t)) {
		sftp_core_out(core)->len = mark;
		sftp_core_out(core)->err = 0;
		return;
	}
	if (t)
		t->left++;
}

static void opened(void *arg, int err, const uint8_t *body, size_t n)
{
	struct st_req *r = arg;
	struct fh *fh = r->fh;
	struct stripes *st = fh->st;
	struct conn *c = fh->c;
	struct sftp_handle hd;
	int k = r->k, i;

	free(r);
	fh->wb_bytes--; /* (held the handle open, see st_written) */
	st->wait--;
	if (err) {
		st->hlen[k] = 0;
		st->bad = 2; /* the connection died: try again later */
	} else if (body[0] != SSH_FXP_HANDLE ||
		   (hd = sftp_dec_handle(body, n)).rc) {
		st->hlen[k] = 0;
		if (st->bad != 2)
			st->bad = 1;
	} else {
		memcpy(st->h[k], hd.handle, hd.handle_len);
		st->hlen[k] = hd.handle_len;
	}
	if (st->wait == 0) {
		if (st->bad || st->gen != c->gen) {
			if (!err && st->gen == c->gen)
				for (i = 0; i < st->n; i++)
					if (st->hlen[i])
						st_close_extra(c, fh, i, NULL);
			st->state = st->bad == 2 ? 0 : -1;
		} else {
			/* everything so far went to the main channel and
			 * ends below fh->main_end */
			st->from = fh->main_end;
			st->hi = st->from;
			st->state = 2;
		}
		if (st->waiters)
			wake(fh); /* the writes that waited for the opens */
	}
	op_wb_settled(fh);
}

static void begin(struct conn *c, struct fh *fh)
{
	struct stripes *st = fh->st;
	char *path;
	int k;

	if (c->nx < c->o->write_channels - 1 && !c->x_failed) {
		c->x_want = 1; /* conn.c opens them; we try again later */
		return;
	}
	if (c->nx == 0 || !(path = itable_path(c->it, fh->ino))) {
		st->state = -1;
		return;
	}
	st->n = c->nx;
	st->gen = c->gen;
	st->bad = 0;
	st->wait = 0;
	for (k = 0; k < st->n; k++) {
		struct sftp_core *core = c->xcore[k];
		struct st_req *r = calloc(1, sizeof(*r));
		size_t mark = sftp_core_out(core)->len;

		st->hlen[k] = 0;
		if (!r) {
			st->bad = 1;
			continue;
		}
		r->fh = fh;
		r->k = k;
		if (sftp_enc_open(sftp_core_out(core), sftp_core_id(core), path,
				  strlen(path),
				  SSH_FXF_WRITE, NULL) ||
		    sftp_core_track(core, mark, opened, r)) {
			sftp_core_out(core)->len = mark;
			sftp_core_out(core)->err = 0;
			free(r);
			st->bad = 1;
			continue;
		}
		st->wait++;
		fh->wb_bytes++; /* a release waits for the answer */
	}
	free(path);
	st->state = 1;
	if (st->wait == 0) /* nothing went out */
		st->state = -1;
}

void st_written(struct conn *c, struct fh *fh, size_t n)
{
	struct stripes *st = fh->st;

	fh->written += n;
	if (fh->is_dir || c->o->write_channels < 2 || (fh->flags & O_APPEND))
		return;
	if (fh->written < STRIPE_AFTER)
		return;
	if (!st) {
		if (!(st = calloc(1, sizeof(*st))))
			return;
		fh->st = st;
		st->next = c->st_list;
		c->st_list = fh;
	}
	if (st->state == 2 && st->gen != c->gen && !inflight(st))
		st->state = 0; /* its handles died with a connection */
	if (st->state == 0)
		begin(c, fh);
}

/* ---- routing --------------------------------------------------------------- */

int st_route(struct conn *c, struct fh *fh, uint64_t off, size_t *len)
{
	struct stripes *st = fh->st;
	uint64_t idx, cend;

	if (!st || st->state != 2 || st->gen != c->gen || off + *len <= st->from)
		return 0;
	if (off < st->from) {
		*len = (size_t)(st->from - off);
		return 0;
	}
	idx = (off - st->from) / STRIPE_CHUNK;
	cend = st->from + (idx + 1) * STRIPE_CHUNK;
	if (off + *len > cend)
		*len = (size_t)(cend - off);
	return (int)(idx % (uint64_t)(st->n + 1));
}

static void written(void *arg, int err, const uint8_t *body, size_t n)
{
	struct st_req *r = arg;
	struct fh *fh = r->fh;
	struct stripes *st = fh->st;
	struct op *op = r->op;
	size_t lo = r->lo, len = r->len;

	st->done[r->seq % ST_RING] = 1;
	free(r);
	while (st->lo < st->seq && st->done[st->lo % ST_RING]) {
		st->done[st->lo % ST_RING] = 0;
		st->lo++;
	}
	if (st->waiters)
		wake(fh);
	op_piece_reply(op, lo, len, err, body, n);
}

int st_send(struct op *op, int k, uint64_t off, const uint8_t *data,
	    size_t len)
{
	struct fh *fh = op->fh;
	struct stripes *st = fh->st;
	struct sftp_core *core = op->c->xcore[k - 1];
	struct st_req *r = calloc(1, sizeof(*r));
	size_t mark = sftp_core_out(core)->len;

	if (!r)
		return -ENOMEM;
	r->op = op;
	r->fh = fh;
	r->seq = st->seq;
	r->lo = (size_t)(off - (uint64_t)op->off);
	r->len = len;
	if (sftp_enc_write(sftp_core_out(core), sftp_core_id(core),
			   st->h[k - 1], st->hlen[k - 1], off, data, len) ||
	    sftp_core_track(core, mark, written, r)) {
		sftp_core_out(core)->len = mark;
		sftp_core_out(core)->err = 0;
		free(r);
		return -EIO;
	}
	st->seq++;
	op->pending++;
	if (off + len > st->hi)
		st->hi = off + len;
	return 0;
}

int st_room(struct op *op)
{
	struct stripes *st = op->fh->st;

	/* the extra handles are being opened (one round trip): a writer
	 * that outruns the network would otherwise put everything on the
	 * main channel meanwhile; or a ring's worth is in flight (only
	 * with tiny writes) */
	if (!st || (st->state != 1 && st->seq - st->lo < ST_RING - 64))
		return 0;
	op->st_bar = st->seq;
	op->next = st->waiters;
	st->waiters = op;
	return 1;
}

/* ---- what must see the striped bytes --------------------------------------- */

static int wait_for(struct fh *fh, struct op *op)
{
	struct stripes *st = fh->st;

	if (!op->st_bar || op->st_bar > st->seq)
		op->st_bar = st->seq;
	if (st->lo >= op->st_bar)
		return 0;
	op->next = st->waiters;
	st->waiters = op;
	return 1;
}

int st_barrier(struct conn *c, struct op *op)
{
	struct fh *fh;
	uint64_t ino = 0, ino2 = 0;

	if (!c->st_list)
		return 0;
	switch (op->kind) {
	case OP_READ:
	case OP_WRITE:
		ino = op->fh->ino;
		break;
	case OP_SETATTR:
		ino = op->fh ? op->fh->ino : op->ino;
		break;
	case OP_OPEN:
		if (op->fi.flags & O_TRUNC)
			ino = op->ino;
		break;
	case OP_COPY:
		ino = op->fh ? op->fh->ino : 0;
		ino2 = op->fh2 ? op->fh2->ino : 0;
		break;
	default:
		return 0;
	}
	for (fh = c->st_list; fh; fh = fh->st->next) {
		if (!inflight(fh->st) || (fh->ino != ino && fh->ino != ino2))
			continue;
		/* a handle's own writes: the channel mapping keeps them in
		 * order */
		if (op->kind == OP_WRITE && op->fh == fh)
			continue;
		if (wait_for(fh, op))
			return 1;
	}
	op->st_bar = 0;
	return 0;
}

void st_patch(const struct conn *c, uint64_t ino, struct stat *s)
{
	const struct fh *fh;

	for (fh = c->st_list; fh; fh = fh->st->next)
		if (fh->ino == ino && inflight(fh->st) &&
		    (uint64_t)s->st_size < fh->st->hi) {
			s->st_size = (off_t)fh->st->hi;
			s->st_blocks = (blkcnt_t)((fh->st->hi + 511) / 512);
		}
}

void st_truncated(struct conn *c, uint64_t ino, uint64_t size)
{
	struct fh *fh;

	for (fh = c->st_list; fh; fh = fh->st->next)
		if (fh->ino == ino && fh->st->hi > size)
			fh->st->hi = size;
}

void st_release(struct conn *c, struct fh *fh)
{
	struct stripes *st = fh->st;
	struct fh **pp;
	int k;

	if (!st)
		return;
	if (st->state == 2 && st->gen == c->gen && !c->dead) {
		struct st_closing *t = calloc(1, sizeof(*t));

		if (t) { /* (without it the CLOSEs go out all the same) */
			t->c = c;
			t->ino = fh->ino;
		}
		for (k = 0; k < st->n; k++)
			st_close_extra(c, fh, k, t);
		if (t && t->left) {
			t->next = c->st_closing;
			c->st_closing = t;
		} else {
			free(t);
		}
	}
	for (pp = &c->st_list; *pp; pp = &(*pp)->st->next)
		if (*pp == fh) {
			*pp = st->next;
			break;
		}
	free(st);
	fh->st = NULL;
}
