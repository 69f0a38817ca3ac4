/*
 * prefetch.c - small files read before the program asks for them.
 *
 * A program that copies, archives or searches a tree (cp -r, tar -c,
 * rsync, grep -r) opens the files of a directory one after the other,
 * and each costs two round trips: OPEN (for the handle), then READ.
 * When a second file of a directory is opened for reading within a
 * while, and the directory's listing is kept (dcache.c: a walk lists a
 * directory before it opens its files), the other small regular files
 * of that listing are fetched in the background, many at once: OPEN,
 * then one READ of the whole file (a byte more than listed, to see that
 * it did not grow), then CLOSE.  An open of such a file then needs no
 * round trip: it gets a handle on the fetched bytes (fh->pf), or waits
 * for a fetch already on its way.  The small files of the directory's
 * siblings whose listings are kept go into the same queue (sibling()).
 *
 * What is handed out is what the server had: a fetched file is given
 * only if its listed size and mtime are still what the kept listing
 * says, nothing of ours changed it since its OPEN went out (change
 * stamps, sftpmnt.h), and it is younger than cache_timeout; otherwise
 * the open goes to the server as usual.  Changes made on the server by
 * others show as late as for the kept listings.
 *
 * Memory: at most PF_BYTES_MAX (listed sizes) queued, in flight or
 * fetched and not yet opened, PF_FILES_MAX files, PF_INFLIGHT_MAX being
 * fetched at once.  A directory is gone through once per cache_timeout:
 * in a bigger one, the files past those limits are opened as usual.  Everything runs on the
 * connection's I/O thread.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "sftpmnt.h"

#define PF_FILE_MAX (256u * 1024)
#define PF_FILES_MAX 1024
#define PF_BYTES_MAX (32u * 1024 * 1024)
#define PF_INFLIGHT_MAX 32
#define PF_TRIG_SLOTS 16

enum { PF_QUEUED, PF_OPENING, PF_READING, PF_READY, PF_FAILED };

struct pfile {
	struct pfile *next, **pprev; /* conn's list (NULL pprev: out of it) */
	struct conn *c;
	char *path;
	struct sftp_attrs a; /* as listed */
	uint64_t since;	     /* chg_now() when its OPEN went out */
	int state;
	int pending; /* requests in flight that refer to it */
	uint8_t h[SFTP_HANDLE_MAX];
	size_t hlen;
	uint32_t gen; /* the connection the handle belongs to */
	uint8_t *data;
	size_t len;
	double expires;
	struct op *waiters; /* opens of it, waiting for the fetch */
};

struct pfset {
	struct pfile *head;
	size_t n, bytes; /* files, and their listed sizes */
	int inflight;
	struct dtally trig[PF_TRIG_SLOTS]; /* recent opens, by directory */
};

static struct pfset *set_of(struct conn *c)
{
	if (!c->pf)
		c->pf = calloc(1, sizeof(struct pfset));
	return c->pf;
}

static void unlist(struct pfset *s, struct pfile *p)
{
	if (!p->pprev)
		return;
	*p->pprev = p->next;
	if (p->next)
		p->next->pprev = p->pprev;
	p->pprev = NULL;
	p->next = NULL;
	s->n--;
	s->bytes -= p->a.size;
}

/* Out of the list; freed now, or by the last reply that refers to it. */
static void drop(struct pfset *s, struct pfile *p)
{
	unlist(s, p);
	if (p->pending > 0)
		return;
	free(p->path);
	free(p->data);
	free(p);
}

static struct pfile *find(struct pfset *s, const char *path)
{
	struct pfile *p;

	for (p = s->head; p; p = p->next)
		if (!strcmp(p->path, path))
			return p;
	return NULL;
}

static void wake(struct pfile *p)
{
	struct op *w = p->waiters, *nx;

	p->waiters = NULL;
	for (; w; w = nx) {
		nx = w->next;
		op_start(w->c, w);
	}
}

static void ignore_reply(void *arg, int err, const uint8_t *body, size_t n)
{
	(void)arg;
	(void)err;
	(void)body;
	(void)n;
}

static void pump(struct conn *c);

/* CLOSE of a fetched file's handle (nobody waits for its answer). */
static void close_handle(struct pfile *p)
{
	struct conn *c = p->c;
	struct sftp_core *core = c->core;
	size_t mark;

	if (!p->hlen || c->dead || p->gen != c->gen)
		return;
	mark = sftp_core_out(core)->len;
	if (sftp_enc_close(sftp_core_out(core), sftp_core_id(core), p->h,
			   p->hlen) ||
	    sftp_core_track(core, mark, ignore_reply, NULL)) {
		sftp_core_out(core)->len = mark;
		sftp_core_out(core)->err = 0;
	}
	p->hlen = 0;
}

/* A fetch ended: READY (kept until opened or expired) or FAILED
 * (forgotten).  The opens waiting for it go on either way, and another
 * fetch may start. */
static void settle(struct pfile *p, int state)
{
	struct conn *c = p->c;
	struct pfset *s = c->pf;
	int listed = p->pprev != NULL;

	if (p->state == PF_OPENING || p->state == PF_READING)
		s->inflight--;
	p->state = state;
	close_handle(p);
	if (listed && state == PF_READY)
		p->expires = now_s() + c->o->cache_timeout;
	wake(p);
	if (state != PF_READY || !listed)
		drop(s, p);
	pump(c);
}

static void read_done(void *arg, int err, const uint8_t *body, size_t n)
{
	struct pfile *p = arg;
	struct sftp_data d;
	struct sftp_status st;

	p->pending--;
	if (err) { /* the connection died: its handle with it */
		p->hlen = 0;
		settle(p, PF_FAILED);
		return;
	}
	if (!p->pprev) { /* dropped while on its way */
		settle(p, PF_FAILED);
		return;
	}
	if (body[0] == SSH_FXP_DATA) {
		d = sftp_dec_data(body, n);
		/* exactly the listed size (a byte more was asked for: a file
		 * that grew since it was listed is not taken) */
		if (d.rc || d.len != p->a.size ||
		    !(p->data = malloc(d.len ? d.len : 1))) {
			settle(p, PF_FAILED);
			return;
		}
		memcpy(p->data, d.data, d.len);
		p->len = d.len;
		settle(p, PF_READY);
		return;
	}
	st = sftp_dec_status(body, n);
	if (!st.rc && st.code == SSH_FX_EOF && p->a.size == 0) {
		p->data = malloc(1);
		settle(p, p->data ? PF_READY : PF_FAILED);
		return;
	}
	settle(p, PF_FAILED);
}

static void open_done(void *arg, int err, const uint8_t *body, size_t n)
{
	struct pfile *p = arg;
	struct conn *c = p->c;
	struct sftp_core *core = c->core;
	struct sftp_handle hd;
	size_t mark;

	p->pending--;
	if (err || body[0] != SSH_FXP_HANDLE ||
	    (hd = sftp_dec_handle(body, n)).rc) {
		settle(p, PF_FAILED);
		return;
	}
	memcpy(p->h, hd.handle, hd.handle_len);
	p->hlen = hd.handle_len;
	p->gen = c->gen;
	if (!p->pprev) {
		settle(p, PF_FAILED); /* (closes the handle) */
		return;
	}
	mark = sftp_core_out(core)->len;
	if (sftp_enc_read(sftp_core_out(core), sftp_core_id(core), p->h,
			  p->hlen, 0, (uint32_t)p->a.size + 1) ||
	    sftp_core_track(core, mark, read_done, p)) {
		sftp_core_out(core)->len = mark;
		sftp_core_out(core)->err = 0;
		settle(p, PF_FAILED);
		return;
	}
	p->pending++;
	p->state = PF_READING;
}

/* Start queued fetches while there is room. */
static void pump(struct conn *c)
{
	struct pfset *s = c->pf;
	struct sftp_core *core = c->core;
	struct pfile *p, *nx;
	size_t mark;

	if (!s || c->dead)
		return;
	for (p = s->head; p && s->inflight < PF_INFLIGHT_MAX; p = nx) {
		nx = p->next;
		if (p->state != PF_QUEUED)
			continue;
		mark = sftp_core_out(core)->len;
		if (sftp_enc_open(sftp_core_out(core), sftp_core_id(core),
				  p->path, strlen(p->path), SSH_FXF_READ,
				  NULL) ||
		    sftp_core_track(core, mark, open_done, p)) {
			sftp_core_out(core)->len = mark;
			sftp_core_out(core)->err = 0;
			drop(s, p);
			continue;
		}
		p->since = chg_now();
		p->pending++;
		p->state = PF_OPENING;
		s->inflight++;
	}
}

/* Fetched files nobody opened in time are forgotten. */
static void expire(struct pfset *s)
{
	struct pfile *p, *nx;
	double now = now_s();

	for (p = s->head; p; p = nx) {
		nx = p->next;
		if (p->state == PF_READY && p->expires < now)
			drop(s, p);
	}
}

struct cand {
	struct conn *c;
	const char *dir;
	const char *skip; /* the name being opened: fetched by its own open */
};

static void add_candidate(void *arg, const char *name,
			  const struct sftp_attrs *a)
{
	struct cand *k = arg;
	struct pfset *s = k->c->pf;
	struct pfile *p;
	char *path;

	/* (one READ must bring it all, a byte more included) */
	if (a->size > PF_FILE_MAX || a->size + 1 > k->c->core->max_read ||
	    !strcmp(name, k->skip) || s->n >= PF_FILES_MAX ||
	    s->bytes + a->size > PF_BYTES_MAX)
		return;
	if (!(path = path_join(k->dir, name)))
		return;
	if (find(s, path) ||
	    itable_changed_since(k->c->it, path, UINT64_MAX) ||
	    !(p = calloc(1, sizeof(*p)))) {
		free(path);
		return;
	}
	p->c = k->c;
	p->path = path;
	p->a = *a;
	p->state = PF_QUEUED;
	s->bytes += a->size;
	/* at the end: the fetches go in listing order, roughly */
	{
		struct pfile **pp = &s->head;

		while (*pp)
			pp = &(*pp)->next;
		*pp = p;
		p->pprev = pp;
	}
	s->n++;
}

/*
 * A program going through the files of one directory of a tree (cp -r,
 * tar -c, rsync, grep -r) goes through those of its sibling directories
 * next: their small files are fetched too, where their listings are
 * kept (a walk lists siblings ahead: dirahead.c), in the same round
 * trips.  The caps above bound what that takes.
 */
static void sibling(void *arg, char *dir)
{
	struct conn *c = arg;
	struct cand k = { c, dir, "" };

	(void)dc_each(c->dc, dir, S_IFREG, add_candidate, &k);
	free(dir);
}

void pf_opened(struct conn *c, const char *path)
{
	struct pfset *s;
	const char *slash = strrchr(path, '/');
	size_t dlen;

	if (!c->dc || !slash || !(s = set_of(c)))
		return;
	expire(s);
	dlen = slash == path ? 1 : (size_t)(slash - path);
	/* the second file of a directory opened in a while: the program
	 * is going through them */
	if (dtally_add(s->trig, PF_TRIG_SLOTS, path, dlen,
		       c->o->cache_timeout, 1) == 2) {
		char *dir = strndup(path, dlen);
		struct cand k = { c, dir, slash + 1 };

		if (dir && !dc_each(c->dc, dir, S_IFREG, add_candidate, &k))
			(void)dc_each_sibling(c->dc, dir, sibling, c);
		free(dir);
		pump(c);
	}
}

/* Does what was fetched still hold?  The kept listing says the same size
 * and mtime, and nothing of ours changed the file since its OPEN. */
static int still_true(struct conn *c, struct pfile *p)
{
	struct sftp_attrs a;

	if (p->expires < now_s() ||
	    itable_changed_since(c->it, p->path, p->since) ||
	    dc_lookup(c->dc, p->path, &a) != 1)
		return 0;
	return (a.flags & SSH_FILEXFER_ATTR_SIZE) && a.size == p->a.size &&
	       (a.flags & SSH_FILEXFER_ATTR_ACMODTIME) &&
	       a.mtime == p->a.mtime &&
	       (a.flags & SSH_FILEXFER_ATTR_PERMISSIONS) &&
	       S_ISREG(a.perm);
}

int pf_open(struct op *op)
{
	struct conn *c = op->c;
	struct pfset *s = c->pf;
	struct pfile *p;
	struct fh *fh;

	if (!s || !s->head || (op->fi.flags & O_ACCMODE) != O_RDONLY ||
	    (op->fi.flags & O_TRUNC) || !(p = find(s, op->path)))
		return 0;
	switch (p->state) {
	case PF_QUEUED: /* not started: the open fetches it itself */
		drop(s, p);
		return 0;
	case PF_OPENING:
	case PF_READING: /* on its way: wait for it */
		op->next = p->waiters;
		p->waiters = op;
		return 1;
	case PF_READY:
		break;
	default:
		return 0;
	}
	if (!still_true(c, p) || !(fh = calloc(1, sizeof(*fh)))) {
		drop(s, p);
		return 0;
	}
	fh->pf = 1;
	fh->pf_data = p->data;
	fh->pf_len = p->len;
	p->data = NULL;
	fh->ino = op->ino;
	fh->c = c;
	fh->gen = c->gen;
	fh->flags = op->fi.flags;
	fh->pf_wgen = itable_wgen(c->it, op->ino);
	fh->pf_attrs = p->a;
	fh->pf_since = p->since;
	drop(s, p);
	op_open_link(c, fh);
	op->fi.fh = (uintptr_t)fh;
	if (c->o->kernel_cache)
		op->fi.keep_cache = 1;
	op_reply_open(op, &op->fi);
	op_free(op);
	return 1;
}

int pf_stale(struct conn *c, struct fh *fh)
{
	if (itable_wgen(c->it, fh->ino) == fh->pf_wgen)
		return 0;
	/* written or truncated through the mount since it was opened: from
	 * now on a server handle (opened by path, as after a reconnect), so
	 * reads see what the other handles wrote */
	free(fh->pf_data);
	fh->pf_data = NULL;
	fh->pf_len = 0;
	fh->pf = 0;
	fh->gen = 0; /* (no connection has generation 0) */
	return 1;
}

void pf_fh_op(struct op *op)
{
	struct fh *fh = op->fh;

	switch (op->kind) {
	case OP_READ: {
		size_t n = 0;

		if ((uint64_t)op->off < fh->pf_len) {
			n = fh->pf_len - (size_t)op->off;
			if (n > op->size)
				n = op->size;
		}
		op_reply_buf(op, (const char *)fh->pf_data + (n ? op->off : 0),
			     n);
		break;
	}
	case OP_RELEASE: {
		char *path = itable_wgen(op->c->it, fh->ino) == fh->pf_wgen
				     ? itable_path(op->c->it, fh->ino)
				     : NULL;

		/* (for the next open of it: pf_keep) */
		if (path)
			pf_keep(op->c, path, &fh->pf_attrs, fh->pf_data,
				fh->pf_len, fh->pf_since);
		else
			free(fh->pf_data);
		free(path);
		free(fh);
		op_reply_err(op, 0);
		break;
	}
	case OP_FLUSH:
	case OP_FSYNC:
		op_reply_err(op, 0);
		break;
	case OP_LSEEK: /* SEEK_DATA / SEEK_HOLE in what was fetched */
		if (op->off < 0 || (uint64_t)op->off >= fh->pf_len)
			op_reply_err(op, ENXIO);
		else
			op_reply_lseek(op, op->flags == SEEK_DATA
						   ? op->off
						   : (off_t)fh->pf_len);
		break;
	case OP_GETATTR: { /* fstat: what was fetched, also once unlinked */
		struct stat st;

		if (attrs_ids_ok(op->c, &fh->pf_attrs)) {
			op_reply_err(op, EPERM); /* idmap=file, nomap=error */
			break;
		}
		attrs_to_stat(op->c, &fh->pf_attrs, &st, fh->ino);
		op_reply_attr(op, &st, op_attr_timeout(op));
		break;
	}
	default: /* (copy_file_range: the kernel copies itself) */
		op_reply_err(op, op->kind == OP_COPY ? EOPNOTSUPP : EBADF);
		break;
	}
	op_free(op);
}

/*
 * Small files are opened again and again (git opens .git/HEAD four times
 * in one status; make, compilers and editors reread what they read): a
 * file read whole through a handle, or handed over by a fetch, is kept
 * like a fetched one when the handle closes, under the same rules
 * (still_true): the kept listing still shows its size and time, nothing
 * of ours changed it since its OPEN, and cache_timeout has not passed.
 */
void pf_keep(struct conn *c, const char *path, const struct sftp_attrs *a,
	     uint8_t *data, size_t len, uint64_t since)
{
	struct pfset *s;
	struct pfile *p;

	if (!c->dc || !path || len > PF_FILE_MAX || a->size != len ||
	    !(s = set_of(c)))
		goto out;
	expire(s);
	if ((p = find(s, path))) {
		if (p->state != PF_READY)
			goto out; /* a fetch of it on its way */
		drop(s, p);
	}
	if (s->n >= PF_FILES_MAX || s->bytes + len > PF_BYTES_MAX ||
	    !(p = calloc(1, sizeof(*p))))
		goto out;
	if (!(p->path = strdup(path))) {
		free(p);
		goto out;
	}
	p->c = c;
	p->a = *a;
	p->since = since;
	p->state = PF_READY;
	p->data = data;
	p->len = len;
	p->expires = now_s() + c->o->cache_timeout;
	p->next = s->head;
	if (s->head)
		s->head->pprev = &p->next;
	s->head = p;
	p->pprev = &s->head;
	s->n++;
	s->bytes += len;
	return;
out:
	free(data);
}

void pf_whole(struct fh *fh, const struct iovec *v, int n, size_t len)
{
	uint8_t *d;
	int i;

	if (fh->whole || len > PF_FILE_MAX ||
	    (fh->flags & O_ACCMODE) != O_RDONLY || !(d = malloc(len ? len : 1)))
		return;
	for (i = 0, len = 0; i < n; i++) {
		memcpy(d + len, v[i].iov_base, v[i].iov_len);
		len += v[i].iov_len;
	}
	fh->whole = d;
	fh->whole_len = len;
}

void pf_release(struct conn *c, struct fh *fh)
{
	struct sftp_attrs a;
	uint64_t born;
	char *path;

	if (!fh->whole || (fh->flags & O_ACCMODE) != O_RDONLY ||
	    itable_wgen(c->it, fh->ino) != fh->open_wgen ||
	    !(path = itable_path(c->it, fh->ino)))
		goto out;
	/* the listing's attributes must be no newer than what was read,
	 * or they could vouch for bytes from before a change */
	if (dc_lookup_born(c->dc, path, &a, &born) == 1 &&
	    born <= fh->open_since && (a.flags & SSH_FILEXFER_ATTR_SIZE) &&
	    a.size == fh->whole_len) {
		pf_keep(c, path, &a, fh->whole, fh->whole_len, fh->open_since);
		fh->whole = NULL;
	}
	free(path);
out:
	free(fh->whole);
	fh->whole = NULL;
}

void pf_free(struct conn *c)
{
	struct pfset *s = c->pf;

	if (!s)
		return;
	while (s->head) {
		struct pfile *p = s->head;

		unlist(s, p);
		free(p->path);
		free(p->data);
		free(p);
	}
	free(s);
	c->pf = NULL;
}
