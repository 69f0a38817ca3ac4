/*
 * dirahead.c - directory listings with READDIRs in flight ahead of the
 * kernel.
 *
 * An SFTP server answers a READDIR with a batch of names (OpenSSH: up to
 * 100) and the end of a listing with an EOF status.  Asking for one
 * batch per round trip, as the kernel's getdents calls would, makes
 * `ls -l` of 10,000 entries cost ~100 round trips, and every directory
 * one more round trip just to learn that it has ended.  So as soon as a
 * directory is opened its handle asks for two batches (a directory of up
 * to ~100 names is then listed, EOF included, in one round trip), and
 * every batch that comes back with names lets two more go out, so the
 * number in flight triples per round trip up to DA_INFLIGHT_MAX while
 * what is buffered stays under DA_BYTES_MAX.
 *
 * Replies are kept in request order (the server answers in order); the
 * kernel's readdir calls consume them from the head.  A batch that fails
 * or the end of the listing stops further requests.
 *
 * A listing read from its start is also handed to dcache.c, which keeps
 * it complete to answer lookups; a directory where lookups keep missing
 * is listed in the background only to be kept (da_background).
 */
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "sftpmnt.h"

#define DA_INFLIGHT_START 2
#define DA_INFLIGHT_MAX 64
#define DA_BYTES_MAX (4u * 1024 * 1024)
/* Inodes in the table past which readdirplus gives new names bare (the
 * name and a d_ino, no attributes, no kernel reference).  Each entry
 * given with its attributes is an inode the kernel holds until memory
 * pressure makes it forget it, and we keep one (~200 bytes) for as long:
 * a directory of millions of names (or an endless one from a hostile
 * server) would otherwise grow our table without end.  Past the cap the
 * kernel looks up what it needs, as it does after a plain readdir. */
#define DA_PLUS_INODES_MAX 65536

struct dchunk {
	struct dchunk *next;
	struct fh *fh; /* NULL once dropped: the reply frees the chunk */
	int state;     /* 0 pending, 1 names, 2 end of listing, 3 error */
	int err;
	uint64_t since; /* chg_now() when the READDIR went out */
	uint8_t *body; /* the NAME reply, which the iterator walks */
	size_t len;
	struct sftp_name_iter it;
};

static void dchunk_done(void *arg, int err, const uint8_t *body, size_t n);
static void serve(struct op *op);

static void dchunk_free(struct dchunk *ch)
{
	free(ch->body);
	free(ch);
}

/* Names a server must never give us (and we never give the kernel). */
static int bad_name(const char *s, size_t n)
{
	return n == 0 || n > NAME_MAX || memchr(s, '/', n) || memchr(s, 0, n);
}

/* "." or "..": the kernel gets ours, once each, never the server's (a
 * hostile server may send them any number of times). */
static int dot_name(const char *s, size_t n)
{
	return (n == 1 || n == 2) && s[0] == '.' && (n == 1 || s[1] == '.');
}

/* Forget every batch: those in flight free themselves when answered. */
void da_reset(struct fh *fh)
{
	struct dchunk *ch, *nx;

	for (ch = fh->d_head; ch; ch = nx) {
		nx = ch->next;
		if (ch->state == 0) {
			ch->fh = NULL;
			ch->next = NULL;
		} else {
			dchunk_free(ch);
		}
	}
	fh->d_head = fh->d_tail = NULL;
	if (fh->d_build) {
		dc_build_end(fh->c->dc, fh->d_build, 0);
		fh->d_build = NULL;
	}
	fh->d_inflight = 0;
	fh->d_bytes = 0;
	fh->d_end = 0;
	fh->d_want = DA_INFLIGHT_START;
	fh->d_dots = 0;
}

static int issue(struct conn *c, struct fh *fh)
{
	struct sftp_core *core = c->core;
	struct dchunk *ch = calloc(1, sizeof(*ch));
	size_t mark = sftp_core_out(core)->len;

	if (!ch)
		return -ENOMEM;
	ch->fh = fh;
	ch->since = chg_now();
	if (sftp_enc_readdir(sftp_core_out(core), sftp_core_id(core), fh->h,
			     fh->hlen) ||
	    sftp_core_track(core, mark, dchunk_done, ch)) {
		sftp_core_out(core)->len = mark;
		sftp_core_out(core)->err = 0;
		free(ch);
		return -EIO;
	}
	if (fh->d_tail)
		fh->d_tail->next = ch;
	else
		fh->d_head = ch;
	fh->d_tail = ch;
	fh->d_inflight++;
	return 0;
}

/* Keep the wanted number of READDIRs in flight, while the handle is
 * valid on a live connection and the listing has not ended. */
static int top_up(struct fh *fh)
{
	struct conn *c = fh->c;
	int rc;

	if (c->dead || fh->gen != c->gen || fh->reopening || fh->stale)
		return 0;
	while (!fh->d_end && fh->d_inflight < fh->d_want &&
	       fh->d_bytes < DA_BYTES_MAX)
		if ((rc = issue(c, fh)))
			return rc;
	return 0;
}

/* 1: what a batch sent at since says of name in fh's directory may be
 * older than a change of ours (that change began or ended after the
 * READDIR went out, or its writes are still on their way). */
static int changed_since(struct fh *fh, const char *name, size_t len,
			 uint64_t since)
{
	char *n, *p;
	int r;

	if (chg_now() == since && fh->c->wb_total == 0)
		return 0; /* nothing changed since (the common case) */
	n = strndup(name, len);
	p = n ? path_join(fh->dpath, n) : NULL;
	r = p ? itable_changed_since(fh->c->it, p, since) : 1;
	free(n);
	free(p);
	return r;
}

/* A complete listing is kept (dcache.c) to answer lookups. */
static void keep_names(struct fh *fh, struct dchunk *ch)
{
	struct sftp_name_iter it = ch->it;
	struct sftp_name_entry e;

	while (it.left > 0 && sftp_names_next(&it, &e) > 0)
		if (!bad_name(e.filename, e.filename_len) &&
		    dc_build_add(fh->c->dc, fh->d_build, e.filename,
				 e.filename_len, e.longname, e.longname_len,
				 &e.attrs,
				 changed_since(fh, e.filename, e.filename_len,
					       ch->since))) {
			dc_build_end(fh->c->dc, fh->d_build, 0);
			fh->d_build = NULL;
			return;
		}
}

static void keep_end(struct fh *fh, int complete)
{
	if (fh->d_build) {
		dc_build_end(fh->c->dc, fh->d_build, complete);
		fh->d_build = NULL;
	}
}

/*
 * How many READDIRs to start with: a directory's size says roughly how
 * many names it has (ext4: a 4 KiB block per ~100-250 names; tmpfs: 20
 * bytes a name), and a server answers ~100 per READDIR.  A big one gets
 * them all asked for at once (the server then works through them back to
 * back) instead of tripling the number per round trip from 2.
 */
static int start_want(struct fh *fh)
{
	uint64_t ino = fh->ino ? fh->ino : itable_ino(fh->c->it, fh->dpath);
	uint64_t size;
	uint32_t mtime;

	if (!ino || !itable_seen_get(fh->c->it, ino, &size, &mtime))
		return DA_INFLIGHT_START;
	size /= 2048;
	return size < DA_INFLIGHT_START ? DA_INFLIGHT_START
	       : size > DA_INFLIGHT_MAX ? DA_INFLIGHT_MAX
					: (int)size;
}

void da_start(struct fh *fh)
{
	da_reset(fh);
	fh->d_want = start_want(fh);
	if (fh->doff == 0 && fh->dskip == 0)
		fh->d_build = dc_build(fh->c->dc, fh->dpath);
	(void)top_up(fh); /* a failure shows at the first readdir */
}

static void wake(struct fh *fh, int lost)
{
	struct op *w = fh->d_waiters, *nx;

	fh->d_waiters = NULL;
	for (; w; w = nx) {
		nx = w->next;
		if (lost)
			op_lost(w);
		else
			serve(w);
	}
}

/* ---- background listings ------------------------------------------------ */

/* At once per connection: each holds a server handle and a listing
 * being kept (dcache.c bounds those); a walk of a directory of N
 * subdirectories needs about 2 * N / DA_BG_MAX round trips for them. */
#define DA_BG_MAX 16

/* The listing is kept, given up or failed: the opendirs waiting for it
 * go on (from the kept listing, or to the server as usual). */
static void bg_release(struct fh *fh)
{
	struct op *w = fh->bg_waiters, *nx;

	fh->bg_waiters = NULL;
	for (; w; w = nx) {
		nx = w->next;
		w->next = NULL;
		op_bg_resume(w);
	}
}

static void bg_free(struct fh *fh)
{
	struct conn *c = fh->c;
	struct fh **pp;

	for (pp = &c->da_bg; *pp; pp = &(*pp)->bg_next)
		if (*pp == fh) {
			*pp = fh->bg_next;
			break;
		}
	c->dc_bg--;
	da_reset(fh);
	bg_release(fh);
	free(fh->dpath);
	free(fh);
	/* the next one waiting, unless it got listed meanwhile */
	while (c->da_qn > 0 && c->dc_bg < DA_BG_MAX && !c->dead) {
		char *dir = c->da_q[0];

		memmove(c->da_q, c->da_q + 1, --c->da_qn * sizeof(c->da_q[0]));
		if (dc_listed(c->dc, dir))
			free(dir);
		else
			da_background(c, dir);
	}
}

static void bg_closed(void *arg, int err, const uint8_t *body, size_t n)
{
	(void)arg;
	(void)err;
	(void)body;
	(void)n;
}

/* A batch of a background listing came back: nobody reads it but the
 * kept listing, which took its names already.  Once the listing is kept
 * (or given up) and nothing is in flight, the handle closes. */
static void bg_step(struct fh *fh)
{
	struct conn *c = fh->c;
	struct dchunk *ch;

	while ((ch = fh->d_head) && ch->state != 0) {
		fh->d_head = ch->next;
		if (!fh->d_head)
			fh->d_tail = NULL;
		if (ch->state == 1)
			fh->d_bytes -= ch->len;
		dchunk_free(ch);
	}
	if (!fh->d_build) {
		fh->d_end = 1; /* kept, spoiled or too long: enough */
		bg_release(fh);
	}
	if (!fh->d_end && !top_up(fh) && fh->d_inflight > 0)
		return;
	if (fh->d_inflight > 0)
		return;
	if (!c->dead && fh->gen == c->gen) {
		size_t mark = sftp_core_out(c->core)->len;

		if (sftp_enc_close(sftp_core_out(c->core), sftp_core_id(c->core),
				   fh->h, fh->hlen) ||
		    sftp_core_track(c->core, mark, bg_closed, NULL)) {
			sftp_core_out(c->core)->len = mark;
			sftp_core_out(c->core)->err = 0;
		}
	}
	bg_free(fh);
}

static void bg_opened(void *arg, int err, const uint8_t *body, size_t n)
{
	struct fh *fh = arg;
	struct sftp_handle hd;

	if (err || body[0] != SSH_FXP_HANDLE ||
	    (hd = sftp_dec_handle(body, n)).rc) {
		bg_free(fh);
		return;
	}
	memcpy(fh->h, hd.handle, hd.handle_len);
	fh->hlen = hd.handle_len;
	fh->gen = fh->c->gen;
	da_start(fh);
	if (!fh->d_build) { /* another listing of it began meanwhile */
		da_reset(fh);
		fh->d_end = 1;
	}
	bg_step(fh);
}

void da_background(struct conn *c, char *dir)
{
	struct sftp_core *core = c->core;
	struct fh *fh;
	size_t mark;

	if (c->dc_bg >= DA_BG_MAX && !c->dead) {
		int i;

		/* its turn comes when one in progress ends */
		for (i = 0; i < c->da_qn; i++)
			if (!strcmp(c->da_q[i], dir))
				break;
		if (i == c->da_qn &&
		    c->da_qn < (int)(sizeof(c->da_q) / sizeof(c->da_q[0]))) {
			c->da_q[c->da_qn++] = dir;
			return;
		}
		free(dir);
		return;
	}
	if (c->dead || !(fh = calloc(1, sizeof(*fh)))) {
		free(dir);
		return;
	}
	fh->c = c;
	fh->is_dir = 1;
	fh->d_bg = 1;
	fh->dpath = dir;
	fh->bg_next = c->da_bg;
	c->da_bg = fh;
	c->dc_bg++;
	mark = sftp_core_out(core)->len;
	if (sftp_enc_opendir(sftp_core_out(core), sftp_core_id(core), dir,
			     strlen(dir)) ||
	    sftp_core_track(core, mark, bg_opened, fh)) {
		sftp_core_out(core)->len = mark;
		sftp_core_out(core)->err = 0;
		bg_free(fh);
	}
}

static struct fh *bg_find(struct conn *c, const char *dir)
{
	struct fh *fh;

	for (fh = c->da_bg; fh; fh = fh->bg_next)
		if (!strcmp(fh->dpath, dir))
			return fh;
	return NULL;
}

/*
 * A lookup that goes to the server (nothing kept says) is often of a
 * directory the program opens next: `ls -l dir`, `cd dir`, the top of
 * every walk.  Its OPENDIR goes out with the LSTAT, so the listing is
 * one round trip further when the opendir comes (which waits for it:
 * da_bg_wait).  Not a directory: the OPENDIR fails, and that is all it
 * cost (names with a dot inside are taken for files and not tried).
 * Only into a free slot, never queued ahead of listings a walk wants.
 */
void da_speculate(struct conn *c, const char *path)
{
	const char *name = strrchr(path, '/');
	char *dir;

	/* "main.c", "notes.txt": a file, most likely (a directory with a
	 * dot inside its name only misses the round trip saved here) */
	if (name && name[1] && strchr(name + 2, '.'))
		return;
	if (!c->dc || c->dead || c->dc_bg >= DA_BG_MAX ||
	    dc_listed(c->dc, path) || bg_find(c, path) ||
	    !(dir = strdup(path)))
		return;
	da_background(c, dir);
}

int da_bg_wait(struct op *op, const char *dir)
{
	struct fh *fh = bg_find(op->c, dir);

	if (!fh || fh->d_end)
		return 0;
	op->next = fh->bg_waiters;
	fh->bg_waiters = op;
	return 1;
}

static void dchunk_done(void *arg, int err, const uint8_t *body, size_t n)
{
	struct dchunk *ch = arg;
	struct fh *fh = ch->fh;
	struct sftp_names nm;
	struct sftp_status st;

	if (!fh) {
		dchunk_free(ch);
		return;
	}
	fh->d_inflight--;
	if (err) {
		/* the connection died: the listing resumes on a reopened
		 * handle, skipping what the kernel already has (this batch,
		 * answered, is freed with the others: it leaked) */
		ch->state = 3;
		da_reset(fh);
		wake(fh, 1);
		if (fh->d_bg)
			bg_free(fh); /* no chunk refers to it any more */
		return;
	}
	if (body[0] == SSH_FXP_NAME) {
		nm = sftp_dec_names(body, n);
		if (nm.rc || !(ch->body = malloc(n))) {
			keep_end(fh, 0);
			ch->state = 3;
			ch->err = nm.rc ? EIO : ENOMEM;
			fh->d_end = 1;
		} else {
			memcpy(ch->body, body, n);
			ch->len = n;
			/* the iterator walks our copy */
			nm = sftp_dec_names(ch->body, n);
			sftp_names_iter_init(&ch->it, &nm);
			ch->state = 1;
			if (fh->d_build)
				keep_names(fh, ch);
			fh->d_bytes += n;
			if (fh->d_want < DA_INFLIGHT_MAX)
				fh->d_want += 2;
		}
	} else {
		st = sftp_dec_status(body, n);
		if (!st.rc && st.code == SSH_FX_EOF) {
			ch->state = 2;
			keep_end(fh, 1);
		} else {
			keep_end(fh, 0);
			ch->state = 3;
			ch->err = st.rc || body[0] != SSH_FXP_STATUS
					  ? EIO
					  : errmap(st.code, OP_READDIR);
		}
		fh->d_end = 1;
	}
	if (fh->d_bg) {
		bg_step(fh);
		return;
	}
	(void)top_up(fh);
	wake(fh, 0);
}

/* The inode table is as full as readdirplus may make it. */
static int plus_full(struct itable *t)
{
	size_t n;

	pthread_mutex_lock(&t->lock);
	n = t->count;
	pthread_mutex_unlock(&t->lock);
	return n >= DA_PLUS_INODES_MAX;
}

/* Add one entry to op's buffer at *used.  0: added (or skipped), 1: the
 * buffer is full, -errno: failed.  nlink: the file's link count, or 0 to
 * read it from e's long name. */
static int add_entry(struct op *op, const struct sftp_name_entry *e,
		     uint64_t since, int bare, unsigned nlink, size_t *used)
{
	struct fh *fh = op->fh;
	struct conn *c = op->c;
	char name[NAME_MAX + 1];
	size_t need;

	if (bad_name(e->filename, e->filename_len))
		return 0;
	if (fh->dskip > 0) { /* listed before a reconnect or a seekdir */
		fh->dskip--;
		return 0;
	}
	memcpy(name, e->filename, e->filename_len);
	name[e->filename_len] = 0;
	if (op->plus) {
		struct fuse_entry_param ep;
		int dot = !strcmp(name, ".") || !strcmp(name, "..");
		uint64_t d_ino;

		need = fuse_add_direntry_plus(op->req, NULL, 0, name, NULL, 0);
		if (need > op->size - *used)
			return 1;
		memset(&ep, 0, sizeof(ep));
		/* with follow_symlinks a link's attributes are its target's:
		 * leave those to a lookup */
		if (c->o->follow_symlinks &&
		    (e->attrs.flags & SSH_FILEXFER_ATTR_PERMISSIONS) &&
		    S_ISLNK(e->attrs.perm))
			dot = 1;
		if (dot) {
			/* "." and ".." get no kernel reference (ep.ino 0),
			 * but a non-zero d_ino: readdir(3) hides d_ino 0 */
			d_ino = name[1] ? FUSE_ROOT_ID : fh->ino;
		} else if (bare || attrs_ids_ok(c, &e->attrs) ||
			   changed_since(fh, e->filename,
						 e->filename_len, since) ||
			   plus_full(c->it)) {
			/* attributes that may be older than a change of
			 * ours would overwrite the kernel's newer ones: the
			 * name alone (so too past DA_PLUS_INODES_MAX) */
			char *p = path_join(fh->dpath, name);

			d_ino = p ? itable_ino(c->it, p) : 0;
			free(p);
			if (!d_ino)
				d_ino = fh->ino;
		} else {
			char *p = path_join(fh->dpath, name);

			ep.ino = p ? itable_ref(c->it, p) : 0;
			free(p);
			if (!ep.ino)
				return -ENOMEM;
			if (!nlink && e->longname)
				nlink = (unsigned)longname_links(
					e->longname, e->longname_len);
			itable_set_nlink(c->it, ep.ino, nlink);
			ep.attr_timeout = op_attr_timeout(op);
			ep.entry_timeout = op_attr_timeout(op);
			d_ino = ep.ino;
		}
		attrs_to_stat(c, &e->attrs, &ep.attr, d_ino);
		fh->doff++;
		*used += fuse_add_direntry_plus(op->req, op->buf + *used,
						op->size - *used, name, &ep,
						fh->doff);
	} else {
		struct stat st;

		attrs_to_stat(c, &e->attrs, &st, 0);
		need = fuse_add_direntry(op->req, NULL, 0, name, NULL, 0);
		if (need > op->size - *used)
			return 1;
		fh->doff++;
		*used += fuse_add_direntry(op->req, op->buf + *used,
					   op->size - *used, name, &st,
					   fh->doff);
	}
	return 0;
}

/* Fill op's buffer from the batches at the head; wait for one in flight
 * only when nothing could be given yet. */
static void serve(struct op *op)
{
	static const struct sftp_attrs dir = {
		.flags = SSH_FILEXFER_ATTR_PERMISSIONS, .perm = S_IFDIR | 0755};
	struct fh *fh = op->fh;
	size_t used = 0;
	int rc;

	/* "." and ".." first, as the kept listing does (snap_readdir); a
	 * listing started over after a reopen counts them in dskip too */
	while (fh->d_dots < 2) {
		struct sftp_name_entry e = {.filename = fh->d_dots ? ".." : ".",
					    .filename_len = fh->d_dots + 1,
					    .attrs = dir};

		rc = add_entry(op, &e, 0, 1, 0, &used);
		if (rc < 0 && used == 0) {
			op_reply_err(op, -rc);
			op_free(op);
			return;
		}
		if (rc) {
			op_reply_buf(op, op->buf, used);
			op_free(op);
			return;
		}
		fh->d_dots++;
	}
	for (;;) {
		struct dchunk *ch = fh->d_head;
		struct sftp_name_iter save;
		struct sftp_name_entry e;

		if (!ch) {
			if (fh->d_end || used > 0)
				break;
			if ((rc = top_up(fh)) || !fh->d_head) {
				op_reply_err(op, rc ? -rc : EIO);
				op_free(op);
				return;
			}
			continue;
		}
		if (ch->state == 2 || (ch->state != 1 && used > 0))
			break; /* the end (kept: later calls see it too) */
		if (ch->state == 0) {
			op->next = fh->d_waiters;
			fh->d_waiters = op;
			return;
		}
		if (ch->state == 3) {
			/* reported once; the listing ends there */
			fh->d_head = ch->next;
			if (!fh->d_head)
				fh->d_tail = NULL;
			op_reply_err(op, ch->err);
			op_free(op);
			dchunk_free(ch);
			return;
		}
		if (ch->it.left == 0) {
			fh->d_head = ch->next;
			if (!fh->d_head)
				fh->d_tail = NULL;
			fh->d_bytes -= ch->len;
			dchunk_free(ch);
			continue;
		}
		save = ch->it;
		if (sftp_names_next(&ch->it, &e) <= 0) {
			ch->it.left = 0; /* checked at decode; not reached */
			continue;
		}
		if (dot_name(e.filename, e.filename_len))
			continue;
		rc = add_entry(op, &e, ch->since, 0, 0, &used);
		if (rc) {
			ch->it = save;
			if (rc < 0 && used == 0) {
				op_reply_err(op, -rc);
				op_free(op);
				return;
			}
			break;
		}
	}
	op_reply_buf(op, op->buf, used);
	op_free(op);
	(void)top_up(fh); /* room again under DA_BYTES_MAX */
}

void da_readdir(struct op *op)
{
	if (!op->buf && !(op->buf = malloc(op->size ? op->size : 1))) {
		op_reply_err(op, ENOMEM);
		op_free(op);
		return;
	}
	serve(op);
}

/* ---- listing again from the kept listing -------------------------------- */

/*
 * A directory listed within cache_timeout (dcache.c keeps the listing,
 * and our own changes keep it true) is listed again without the server:
 * opendir takes a copy of the kept listing (fh->snap), readdir walks it
 * ("." and ".." first; any offset, rewinddir included).  Names whose
 * attributes are not known now (written, changed, several links) are
 * given without attributes, and so is any name changed after the copy
 * was taken; when a change of ours has left it open whether a name
 * exists, the server lists the directory as usual.  Tools that list a
 * directory twice (fts: rm -rf, find) or list it after a lookup listed it
 * in the background save two round trips per directory.
 */
int da_snapshot_open(struct op *op)
{
	struct conn *c = op->c;
	struct dsnap *s;
	ssize_t n;
	struct fh *fh;

	if (!c->dc || (n = dc_snapshot(c->dc, op->path, &s)) < 0)
		return 0;
	if (!(fh = calloc(1, sizeof(*fh))) || !(fh->dpath = strdup(op->path))) {
		free(fh);
		dc_snapshot_free(s, (size_t)n);
		return 0;
	}
	fh->snap = s;
	fh->snap_n = (size_t)n;
	fh->snap_since = chg_now();
	fh->is_dir = 1;
	fh->ino = op->ino;
	fh->c = c;
	fh->gen = c->gen;
	fh->flags = op->fi.flags;
	op_dir_link(c, fh);
	op->fi.fh = (uintptr_t)fh;
	op_reply_open(op, &op->fi);
	op_free(op);
	return 1;
}

void da_snap_rewind(struct fh *fh)
{
	struct dsnap *s;
	ssize_t n = -1;

	if (fh->c->dc)
		n = dc_snapshot(fh->c->dc, fh->dpath, &s);
	dc_snapshot_free(fh->snap, fh->snap_n);
	fh->snap = NULL;
	fh->snap_n = 0;
	fh->doff = 0;
	if (n >= 0) { /* kept and certain still: a new copy */
		fh->snap = s;
		fh->snap_n = (size_t)n;
		fh->snap_since = chg_now();
		return;
	}
	/* otherwise the server lists it: the handle is opened now, as
	 * after a reconnect (fh_ready) */
	fh->gen = 0;
}

static void snap_readdir(struct op *op)
{
	struct fh *fh = op->fh;
	struct sftp_attrs dir = { .flags = SSH_FILEXFER_ATTR_PERMISSIONS,
				  .perm = S_IFDIR | 0755 };
	size_t used = 0;
	int rc = 0;

	if (!op->buf && !(op->buf = malloc(op->size ? op->size : 1))) {
		op_reply_err(op, ENOMEM);
		return;
	}
	fh->doff = op->off; /* any offset: an index into the copy */
	while (fh->doff >= 0 && (size_t)fh->doff < fh->snap_n + 2) {
		struct sftp_name_entry e = { 0 };
		size_t i = (size_t)fh->doff;
		int bare = 0;
		unsigned nlink = 0;

		if (i < 2) {
			e.filename = i ? ".." : ".";
			e.filename_len = i + 1;
			e.attrs = dir;
		} else {
			e.filename = fh->snap[i - 2].name;
			e.filename_len = strlen(e.filename);
			e.attrs = fh->snap[i - 2].a;
			bare = !fh->snap[i - 2].known;
			nlink = fh->snap[i - 2].nlink;
		}
		if ((rc = add_entry(op, &e, fh->snap_since, bare, nlink,
				    &used)))
			break;
	}
	if (rc < 0 && used == 0)
		op_reply_err(op, -rc);
	else
		op_reply_buf(op, op->buf, used);
}

void da_snap_op(struct op *op)
{
	struct fh *fh = op->fh;

	switch (op->kind) {
	case OP_READDIR:
		snap_readdir(op);
		break;
	case OP_RELEASEDIR:
		dc_snapshot_free(fh->snap, fh->snap_n);
		free(fh->dpath);
		free(fh);
		op_reply_err(op, 0);
		break;
	default:
		op_reply_err(op, EBADF);
		break;
	}
	op_free(op);
}

/* ---- listing ahead of a walk ------------------------------------------- */

static void walk_one(void *arg, char *p)
{
	struct conn *c = arg;

	if (dc_listed(c->dc, p))
		free(p);
	else
		da_background(c, p); /* (takes p) */
}

void da_walk_ahead(struct conn *c, const char *path)
{
	if (c->dc)
		(void)dc_each_sibling(c->dc, path, walk_one, c);
}

void da_queue_free(struct conn *c)
{
	while (c->da_qn > 0)
		free(c->da_q[--c->da_qn]);
}
