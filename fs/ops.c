/*
 * ops.c - FUSE operations as small asynchronous state machines.
 *
 * A FUSE handler (FUSE thread) copies its arguments into a struct op and
 * queues it (conn_submit).  The I/O thread calls op_start(), which
 * encodes the SFTP requests the operation needs - independent ones in
 * the same batch, so e.g. create costs one round trip (OPEN and LSTAT
 * back to back: the server answers in order) - and op_reply() advances
 * the op as each reply completes, ending with exactly one fuse_reply_*.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/statvfs.h>
#include <time.h>
#include <unistd.h>

#include "sftpmnt.h"

/* Names per READDIR reply are bounded by the codec (SFTP_NAMES_MAX). */

/*
 * Every reply to the kernel goes through these: an op that timed out
 * (op_timeout while its server did not answer) was already answered with
 * ETIMEDOUT, and whatever its requests bring later is dropped.
 */
#define REPLY(op, call)                                                     \
	do {                                                                \
		if (!(op)->replied)                                       \
			call;                                               \
		(op)->replied = 1;                                        \
	} while (0)

/* A reply held, in order, while a STATVFS says what a FAILURE before it
 * means (refine_failure). */
void op_reply_err(struct op *op, int err)
{
	/* a write the application was told had worked (write-behind) and
	 * that fails after all, on any path: the next write, flush, fsync
	 * or close of the handle returns the error */
	if (op->replied && op->kind == OP_WRITE && op->stage == 1 && err &&
	    op->fh && !op->fh->wb_err)
		op->fh->wb_err = err;
	REPLY(op, fuse_reply_err(op->req, err));
}

void op_reply_entry(struct op *op, const struct fuse_entry_param *e)
{
	REPLY(op, fuse_reply_entry(op->req, e));
}

/* access(2) as a local file system answers it, from the attributes
 * shown: the caller's uid and groups against the owner, group and other
 * bits; root may read and write anything and execute what has an x bit
 * (or is a directory).  The server still decides what really happens. */
static int access_check(fuse_req_t req, const struct stat *st, int mask)
{
	const struct fuse_ctx *ctx = fuse_req_ctx(req);
	mode_t bits;
	gid_t groups[64];
	int i, n;

	mask &= R_OK | W_OK | X_OK;
	if (!mask)
		return 0;
	if (ctx->uid == 0) {
		if ((mask & X_OK) && !S_ISDIR(st->st_mode) &&
		    !(st->st_mode & (S_IXUSR | S_IXGRP | S_IXOTH)))
			return EACCES;
		return 0;
	}
	if (ctx->uid == st->st_uid) {
		bits = (st->st_mode >> 6) & 7;
	} else {
		int in_group = ctx->gid == st->st_gid;

		n = in_group ? 0 : fuse_req_getgroups(req, 64, groups);
		for (i = 0; i < n && i < 64 && !in_group; i++)
			in_group = groups[i] == st->st_gid;
		bits = in_group ? (st->st_mode >> 3) & 7 : st->st_mode & 7;
	}
	return ((unsigned)mask & ~(unsigned)bits) ? EACCES : 0;
}

void op_reply_attr(struct op *op, const struct stat *st, double t)
{
	if (op->access) {
		REPLY(op, fuse_reply_err(op->req,
					 access_check(op->req, st,
						      op->access - 1)));
		return;
	}
	REPLY(op, fuse_reply_attr(op->req, st, t));
}

void op_reply_readlink(struct op *op, const char *link)
{
	REPLY(op, fuse_reply_readlink(op->req, link));
}

void op_reply_open(struct op *op, const struct fuse_file_info *fi)
{
	REPLY(op, fuse_reply_open(op->req, fi));
}

void op_reply_create(struct op *op, const struct fuse_entry_param *e,
		     const struct fuse_file_info *fi)
{
	REPLY(op, fuse_reply_create(op->req, e, fi));
}

void op_reply_buf(struct op *op, const char *buf, size_t n)
{
	REPLY(op, fuse_reply_buf(op->req, buf, n));
}

void op_reply_iov(struct op *op, const struct iovec *v, int n)
{
	REPLY(op, fuse_reply_iov(op->req, v, n));
}

void op_reply_write(struct op *op, size_t n)
{
	REPLY(op, fuse_reply_write(op->req, n));
}

void op_reply_statfs(struct op *op, const struct statvfs *sv)
{
	REPLY(op, fuse_reply_statfs(op->req, sv));
}

void op_reply_lseek(struct op *op, off_t off)
{
	REPLY(op, fuse_reply_lseek(op->req, off));
}

/* The connection's list of ops not yet freed (for op timeouts). */
static void active_link(struct op *op)
{
	struct conn *c = op->c;

	if (op->aprev)
		return;
	op->anext = c->active;
	if (c->active)
		c->active->aprev = &op->anext;
	op->aprev = &c->active;
	c->active = op;
}

void op_active_unlink(struct op *op)
{
	if (!op->aprev)
		return;
	*op->aprev = op->anext;
	if (op->anext)
		op->anext->aprev = op->aprev;
	op->aprev = NULL;
}

/* Answer ETIMEDOUT for the ops waiting longer than op_timeout for a
 * server that does not answer them (the link may still be up: a stopped
 * sftp-server, a hung disk).  Their requests, if ever answered, are then
 * just dropped. */
void op_expire(struct conn *c)
{
	int64_t limit = now_ms() - (int64_t)c->o->op_timeout * 1000;
	struct op *op;

	for (op = c->active; op; op = op->anext) {
		if (op->replied || op->parked || op->born_ms > limit)
			continue;
		if (op->kind == OP_WRITE && op->stage == 1)
			continue; /* answered; flush/fsync/close report it */
		op_reply_err(op, ETIMEDOUT);
	}
}

void op_free(struct op *op)
{
	while (op->held) { /* (none: a reply is held only while pending) */
		void *h = op->held;

		op->held = op->held->next;
		free(h);
	}
	op_active_unlink(op);
	ub_settled(op);
	if (op->big) /* routed as a large read, and no handle came of it */
		__atomic_sub_fetch(&op->c->nbig, 1, __ATOMIC_RELAXED);
	if (op->gated && op->fh)
		itable_gate(op->c->it, op->fh->ino, -1);
	op_unhold(op);
	if (op->wq) { /* answered by ll.c: out of its count now */
		struct fh *fh = op->fh;

		__atomic_sub_fetch(&op->wq->wq_total, op->size,
				   __ATOMIC_RELAXED);
		op->wq = NULL;
		if (__atomic_sub_fetch(&fh->wq_bytes, op->size,
				       __ATOMIC_RELAXED) == 0)
			op_wb_settled(fh); /* a flush waiting for it */
	}
	free(op->name);
	free(op->name2);
	free(op->path);
	free(op->path2);
	free(op->buf);
	free(op->reply);
	free(op->acked);
	free(op);
}

static void reply_err(struct op *op, int err)
{
	op_reply_err(op, err);
	op_free(op);
}


/* ---- attributes ------------------------------------------------------------ */

void attrs_to_stat(const struct conn *c, const struct sftp_attrs *a,
		   struct stat *st, uint64_t ino)
{
	const struct opts *o = c->o;

	memset(st, 0, sizeof(*st));
	st->st_ino = ino;
	st->st_nlink = 1;
	st->st_blksize = 4096;
	if (a->flags & SSH_FILEXFER_ATTR_SIZE) {
		st->st_size = (off_t)a->size;
		st->st_blocks = (blkcnt_t)((a->size + 511) / 512);
	}
	if (a->flags & SSH_FILEXFER_ATTR_UIDGID) {
		uint32_t uid = a->uid, gid = a->gid;

		/* idmap=: unmapped ids under nomap=error were refused
		 * before (attrs_ids_ok); here they stay as they are */
		(void)idmap_in(c, &uid, &gid);
		st->st_uid = uid;
		st->st_gid = gid;
	}
	if (a->flags & SSH_FILEXFER_ATTR_PERMISSIONS)
		st->st_mode = a->perm;
	else
		st->st_mode = S_IFREG | 0644;
	if (a->flags & SSH_FILEXFER_ATTR_ACMODTIME) {
		st->st_atime = a->atime;
		st->st_mtime = a->mtime;
		st->st_ctime = a->mtime;
	}
	/* (a file's: is it the same after a reconnect; a directory's size:
	 * how many READDIRs to start its listing with, dirahead.c) */
	if (ino && (a->flags & SSH_FILEXFER_ATTR_SIZE) &&
	    (a->flags & SSH_FILEXFER_ATTR_ACMODTIME) &&
	    (S_ISREG(st->st_mode) || S_ISDIR(st->st_mode)))
		itable_seen(c->it, ino, a->size, a->mtime);
	/* a file's link count, where a listing said it (SFTP v3 attributes
	 * have none); a directory's stays 1, "not known" to find(1) */
	if (ino && S_ISREG(st->st_mode)) {
		uint32_t n = itable_nlink(c->it, ino);

		if (n)
			st->st_nlink = n;
	}
	if (ino && c->st_list) /* striped writes still on their way */
		st_patch(c, ino, st);
	if (o->uid >= 0)
		st->st_uid = (uid_t)o->uid;
	if (o->gid >= 0)
		st->st_gid = (gid_t)o->gid;
	if (o->umask >= 0)
		st->st_mode &= ~((mode_t)o->umask & 07777);
}

int attrs_ids_ok(const struct conn *c, const struct sftp_attrs *a)
{
	uint32_t uid = a->uid, gid = a->gid;

	if (!(a->flags & SSH_FILEXFER_ATTR_UIDGID) || c->o->idmap != IDMAP_FILE)
		return 0;
	return idmap_in(c, &uid, &gid);
}

double op_attr_timeout(const struct op *op)
{
	return op->c->o->cache ? op->c->o->attr_timeout : 0.0;
}

/* The kernel's attribute timeout for ino: none for a file with other
 * names (see itable_set_linked). */
static double attr_timeout_of(const struct op *op, uint64_t ino)
{
	if (ino && itable_linked(op->c->it, ino))
		return 0.0;
	return op_attr_timeout(op);
}

/* Attributes of path: a new kernel reference and the entry. */
static int entry_from_attrs(struct op *op, const char *path,
			    const struct sftp_attrs *a,
			    struct fuse_entry_param *e)
{
	int rc;

	/* lstat's view, as a listing has it (follow_symlinks looks up
	 * with STAT) */
	if (!(op->kind == OP_LOOKUP && op->c->o->follow_symlinks))
		dc_set(op->c->dc, path, a, op->since);
	if (op->kind == OP_MKDIR)
		dc_empty_dir(op->c->dc, path);
	memset(e, 0, sizeof(*e));
	if ((rc = attrs_ids_ok(op->c, a)))
		return rc;
	e->ino = itable_ref(op->c->it, path);
	if (!e->ino)
		return -ENOMEM;
	if (op->kind == OP_LINK) { /* op->ino: the existing name */
		uint32_t n = itable_nlink(op->c->it, op->ino);

		n = (n ? n : 1) + 1;
		itable_set_nlink(op->c->it, op->ino, n);
		itable_set_nlink(op->c->it, e->ino, n);
		itable_set_linked(op->c->it, op->ino);
		itable_set_linked(op->c->it, e->ino);
	} else {
		if (dc_is_linked(op->c->dc, path))
			itable_set_linked(op->c->it, e->ino);
		itable_set_nlink(op->c->it, e->ino,
				 dc_links(op->c->dc, path));
	}
	attrs_to_stat(op->c, a, &e->attr, e->ino);
	e->attr_timeout = attr_timeout_of(op, e->ino);
	e->entry_timeout = op_attr_timeout(op);
	return 0;
}

/* An ATTRS reply for path: a new kernel reference and the entry. */
static int entry_from(struct op *op, const char *path, const uint8_t *body,
		      size_t n, struct fuse_entry_param *e)
{
	struct sftp_attrs_reply ar;

	if (body[0] != SSH_FXP_ATTRS)
		return -op_errmap(op, body, n);
	ar = sftp_dec_attrs(body, n);
	if (ar.rc)
		return -EIO;
	return entry_from_attrs(op, path, &ar.attrs, e);
}

/* ---- sending requests -------------------------------------------------------- */

static void op_reply(void *arg, int err, const uint8_t *body, size_t n);
static void behind_failed(struct op *op, int err);

static struct wbuf *W(struct op *op)
{
	return sftp_core_out(op->c->core);
}

static uint32_t ID(struct op *op)
{
	return sftp_core_id(op->c->core);
}

/* After an encode into W(op) started at mark: register the reply. */
static int track(struct op *op, size_t mark, int encrc)
{
	struct sftp_core *core = op->c->core;

	if (encrc) {
		core->out.len = mark;
		core->out.err = 0;
		return -ENOMEM;
	}
	if (sftp_core_track(core, mark, op_reply, op))
		return -EIO;
	op->pending++;
	return 0;
}

#define SEND(op, call)                                                        \
	({                                                                    \
		size_t m_ = W(op)->len;                                       \
		track((op), m_, (call));                                      \
	})

/*
 * What we create gets the mode the caller asked for (the kernel applied
 * the caller's umask already), as on a local file system; the server
 * takes its own umask off as well (sftp-server runs with sshd's, usually
 * 022, so umask 002 gave 0644 instead of 0664).  Given the LSTAT after
 * the create: when the server's mode lacks bits that were asked for, a
 * (F)SETSTAT puts them back before the entry is answered (one round trip,
 * only then).  A create without O_EXCL is fixed only if the file looks
 * just made (empty, its mode a part of the one asked): it may have
 * existed, and open(2) does not change an existing file's mode.
 * 1: sent; the STATUS comes back with op->modefix set.
 */
static int fix_mode(struct op *op, const uint8_t *body, size_t n)
{
	struct sftp_attrs_reply ar;
	struct sftp_attrs a = { .flags = SSH_FILEXFER_ATTR_PERMISSIONS };
	uint32_t want = op->mode & 07777, have;
	int rc;

	if (body[0] != SSH_FXP_ATTRS)
		return 0;
	ar = sftp_dec_attrs(body, n);
	if (ar.rc || !(ar.attrs.flags & SSH_FILEXFER_ATTR_PERMISSIONS))
		return 0;
	have = ar.attrs.perm & 07777;
	if (have == want || (have & ~want))
		return 0;
	if (op->kind == OP_CREATE && !(op->fi.flags & O_EXCL) &&
	    (!(ar.attrs.flags & SSH_FILEXFER_ATTR_SIZE) || ar.attrs.size))
		return 0;
	a.perm = want;
	if (op->kind == OP_CREATE && op->fh)
		rc = SEND(op, sftp_enc_fsetstat(W(op), ID(op), op->fh->h,
						op->fh->hlen, &a));
	else
		rc = SEND(op, sftp_enc_setstat(W(op), ID(op), op->path,
					       strlen(op->path), &a));
	if (rc)
		return 0;
	op->cattr = ar.attrs;
	op->cattr.perm = (ar.attrs.perm & ~07777u) | want;
	op->srv_perm = ar.attrs.perm;
	op->modefix = 1;
	return 1;
}

/* ---- the state machines ---------------------------------------------------- */

static uint32_t open_flags(int flags)
{
	uint32_t pf = 0;

	switch (flags & O_ACCMODE) {
	case O_RDONLY:
		pf = SSH_FXF_READ;
		break;
	case O_WRONLY:
		pf = SSH_FXF_WRITE;
		break;
	default:
		pf = SSH_FXF_READ | SSH_FXF_WRITE;
	}
	if (flags & O_CREAT)
		pf |= SSH_FXF_CREAT;
	if (flags & O_TRUNC)
		pf |= SSH_FXF_TRUNC;
	if (flags & O_EXCL)
		pf |= SSH_FXF_EXCL;
	if (flags & O_APPEND)
		pf |= SSH_FXF_APPEND;
	return pf;
}

static struct fh *fh_from_handle(struct op *op, const uint8_t *body, size_t n,
				 int *err)
{
	struct sftp_handle hd;
	struct fh *fh;

	if (body[0] != SSH_FXP_HANDLE) {
		*err = op_errmap(op, body, n);
		return NULL;
	}
	hd = sftp_dec_handle(body, n);
	if (hd.rc) {
		*err = EIO;
		return NULL;
	}
	fh = calloc(1, sizeof(*fh));
	if (!fh) {
		*err = ENOMEM;
		return NULL;
	}
	memcpy(fh->h, hd.handle, hd.handle_len);
	fh->hlen = hd.handle_len;
	fh->ino = op->ino;
	fh->c = op->c;
	fh->gen = op->c->gen;
	return fh;
}

/* The kernel's open files, by inode: fstat(2) reaches us as a GETATTR
 * without the handle (kernel 6.x), so a file unlinked or renamed over
 * while open is found through its handle instead of its old name. */
void op_open_link(struct conn *c, struct fh *fh)
{
	/* a writer (after a reconnect that could not open them, say): the
	 * extra channels for striped writes open in the background now */
	if ((fh->flags & O_ACCMODE) != O_RDONLY && c->o->write_channels > 1)
		c->x_want = 1;
	fh->onext = c->open_files;
	if (c->open_files)
		c->open_files->oprev = &fh->onext;
	fh->oprev = &c->open_files;
	c->open_files = fh;
}

/* A directory handle the kernel holds: on c->open_dirs until its
 * release, so that one never released is freed with the connection. */
void op_dir_link(struct conn *c, struct fh *fh)
{
	fh->onext = c->open_dirs;
	if (c->open_dirs)
		c->open_dirs->oprev = &fh->onext;
	fh->oprev = &c->open_dirs;
	c->open_dirs = fh;
}

static void open_unlink(struct fh *fh)
{
	if (!fh->oprev)
		return;
	*fh->oprev = fh->onext;
	if (fh->onext)
		fh->onext->oprev = fh->oprev;
	fh->oprev = NULL;
	fh->onext = NULL;
}

/* An open handle of ino with writes the server has not acknowledged. */
static struct fh *open_writing(struct conn *c, uint64_t ino)
{
	struct fh *fh;

	for (fh = c->open_files; fh; fh = fh->onext)
		if (fh->ino == ino && !fh->pf && !fh->stale && fh_writing(fh))
			return fh;
	return NULL;
}

static struct fh *open_find(struct conn *c, uint64_t ino)
{
	struct fh *fh;

	for (fh = c->open_files; fh; fh = fh->onext)
		if (fh->ino == ino && (fh->pf || (fh->gen == c->gen &&
						  !fh->reopening && !fh->stale)))
			return fh;
	return NULL;
}

static int start_setattr(struct op *op);
static void create_battr(struct op *op, const struct sftp_attrs *a);
static int start_copy(struct op *op);
static int lstat_path(struct op *op);

/* An ATTRS reply answering getattr/setattr: 0 when replied (op freed). */
/*
 * The kernel asks for the attributes of a file being read each time it
 * stops trusting them (attr_timeout: every second), and a reader waits
 * for that round trip: a random reader at 50 ms lost one read in
 * twenty to it.  A read-only handle answers from the attributes it
 * last saw while nothing was written through the mount; its FSTAT goes
 * out all the same, and when the server says the file changed (size,
 * mtime) the kernel is told to ask again (and, seeing the change, drops
 * the pages it cached).
 */
static void getattr_early(struct op *op)
{
	struct conn *c = op->c;
	struct fh *fh = op->fh;
	struct stat st;

	op->wgen_at = itable_wgen(c->it, fh->ino);
	if (!c->o->cache || fh->is_dir || !fh->fattr_ok ||
	    (fh->flags & O_ACCMODE) != O_RDONLY || fh->ino != op->ino ||
	    fh->fattr_wgen != op->wgen_at || open_writing(c, fh->ino) ||
	    itable_linked(c->it, fh->ino) || attrs_ids_ok(c, &fh->fattr))
		return; /* (a file with other names: written through those
			 * without this inode's write generation moving) */
	attrs_to_stat(c, &fh->fattr, &st, fh->ino);
	op_reply_attr(op, &st, op_attr_timeout(op));
	op->early = 1;
}

/* An FSTAT's answer: what the handle has seen (getattr_early). */
static void fattr_seen(struct op *op, const struct sftp_attrs *a)
{
	struct fh *fh = op->fh;
	int changed;

	if (!fh || fh->is_dir || fh->ino != op->ino ||
	    itable_wgen(op->c->it, fh->ino) != op->wgen_at)
		return;
	changed = fh->fattr_ok &&
		  (fh->fattr.size != a->size || fh->fattr.mtime != a->mtime);
	fh->fattr = *a;
	fh->fattr_wgen = op->wgen_at;
	fh->fattr_ok = (a->flags & (SSH_FILEXFER_ATTR_SIZE |
				    SSH_FILEXFER_ATTR_ACMODTIME)) ==
		       (SSH_FILEXFER_ATTR_SIZE | SSH_FILEXFER_ATTR_ACMODTIME);
	/* (attributes only: dropping pages here could wait for a read
	 * that waits for this thread) */
	if (op->early && changed && op->c->se)
		fuse_lowlevel_notify_inval_inode(op->c->se, fh->ino, -1, 0);
}

static int reply_attr_from(struct op *op, const uint8_t *body, size_t n)
{
	struct sftp_attrs_reply ar;
	struct stat st;
	int rc;

	if (body[0] != SSH_FXP_ATTRS)
		return -op_errmap(op, body, n);
	ar = sftp_dec_attrs(body, n);
	if (ar.rc)
		return -EIO;
	if (op->kind == OP_GETATTR && op->fh && !op->path)
		fattr_seen(op, &ar.attrs);
	/* the server's word on a path (not on a handle: its file may have
	 * been unlinked or renamed since) goes into a kept listing */
	if (op->path && !op->c->o->follow_symlinks)
		dc_set(op->c->dc, op->path, &ar.attrs, op->since);
	if ((rc = attrs_ids_ok(op->c, &ar.attrs))) {
		op_reply_err(op, -rc);
		op_free(op);
		return 0;
	}
	attrs_to_stat(op->c, &ar.attrs, &st, op->ino);
	op_reply_attr(op, &st, attr_timeout_of(op, op->ino));
	op_free(op);
	return 0;
}

void op_reply_sftp(void *arg, int err, const uint8_t *body, size_t n)
{
	op_reply(arg, err, body, n);
}

/* A reply (or a dead channel: err != 0) for op. */
static void op_reply(void *arg, int err, const uint8_t *body, size_t n)
{
	struct op *op = arg;

	/* a FAILURE being looked into: this one after it */
	if (op->held && !refine_hold(op, err, body, n))
		return;
	op_reply_in(op, err, body, n);
}

void op_reply_in(struct op *op, int err, const uint8_t *body, size_t n)
{
	struct fuse_entry_param e;
	int rc = 0;

	op->pending--;
	if (err) {
		/* the connection died under this request: restart the whole
		 * op once the link is back (or fail it) */
		op->lost = 1;
		if (op->pending == 0)
			op_lost(op);
		return;
	}
	if (op->lost) { /* an earlier request of op already died */
		if (op->pending == 0)
			op_lost(op);
		return;
	}
	if (refine_failure(op, body, n))
		return;
	switch (op->kind) {
	case OP_LOOKUP:
		rc = entry_from(op, op->path, body, n, &e);
		if (rc == -ENOENT)
			dc_gone(op->c->dc, op->path, op->since);
		if (rc == -ENOENT && op->c->o->cache) {
			/* negative entry: the kernel remembers the miss */
			memset(&e, 0, sizeof(e));
			e.entry_timeout = op_attr_timeout(op);
			op_reply_entry(op, &e);
			op_free(op);
			return;
		}
		if (rc)
			break;
		op_reply_entry(op, &e);
		op_free(op);
		return;
	case OP_GETATTR:
		if (body[0] == SSH_FXP_STATUS && !op->fh && op->stage == 0 &&
		    op_errmap(op, body, n) == ENOENT) {
			/* gone by that name: still open, its handle says */
			struct fh *fh = open_find(op->c, op->ino);

			if (fh && fh->pf) { /* it answers fstat itself */
				op->fh = fh;
				pf_fh_op(op);
				return;
			}
			if (fh) {
				op->stage = 1;
				free(op->path); /* (no kept listing to update) */
				op->path = NULL;
				if ((rc = SEND(op, sftp_enc_fstat(W(op), ID(op),
								   fh->h,
								   fh->hlen))))
					break;
				return;
			}
		}
		if ((rc = reply_attr_from(op, body, n)))
			break;
		return;
	case OP_SETATTR:
		if (op->behind) { /* answered already: keep an error */
			struct fh *fh = op->fh;

			if ((rc = body[0] == SSH_FXP_STATUS
					  ? op_errmap(op, body, n)
					  : EIO))
				behind_failed(op, rc);
			if (op->pending > 0)
				return;
			wb_uncount(op);
			op_free(op);
			op_wb_settled(fh);
			return;
		}
		if (op->stage == 10) {
			/* the current times, for the one not being set
			 * (UTIME_OMIT): v3 sets both together */
			struct sftp_attrs_reply ar = sftp_dec_attrs(body, n);

			if (body[0] != SSH_FXP_ATTRS || ar.rc) {
				rc = body[0] == SSH_FXP_ATTRS
					     ? -EIO
					     : -op_errmap(op, body, n);
				break;
			}
			if (!(op->to_set & (FUSE_SET_ATTR_ATIME |
					    FUSE_SET_ATTR_ATIME_NOW)))
				op->attr.st_atime = ar.attrs.atime;
			if (!(op->to_set & (FUSE_SET_ATTR_MTIME |
					    FUSE_SET_ATTR_MTIME_NOW)))
				op->attr.st_mtime = ar.attrs.mtime;
			op->stage = 11;
			if ((rc = start_setattr(op)))
				break;
			return;
		}
		if (op->stage == 0 || op->stage == 11) { /* the STATUS */
			if (body[0] != SSH_FXP_STATUS)
				op->err = EIO;
			else if ((rc = op_errmap(op, body, n)))
				op->err = rc;
			op->stage = 1; /* (after op_errmap, which asks) */
			goto check_done;
		}
		if (op->err) /* the following (F)STAT: moot */
			goto check_done;
		if ((rc = reply_attr_from(op, body, n)))
			break;
		return;
	case OP_READLINK: {
		struct sftp_name1 nm;
		char *t;

		if (body[0] != SSH_FXP_NAME) {
			rc = -op_errmap(op, body, n);
			break;
		}
		nm = sftp_dec_name1(body, n);
		/* no target that long fits the kernel's buffer, which would
		 * refuse the reply (EIO, and an error from libfuse) */
		if (!nm.rc && nm.e.filename_len >= PATH_MAX) {
			rc = -ENAMETOOLONG;
			break;
		}
		if (nm.rc || !(t = strndup(nm.e.filename, nm.e.filename_len))) {
			rc = -EIO;
			break;
		}
		if ((rc = link_policy(op->c->home, op->c->o->transform_symlinks,
				      op->c->o->contain_symlinks, op->path,
				      &t))) {
			free(t);
			break;
		}
		op_reply_readlink(op, t);
		free(t);
		op_free(op);
		return;
	}
	case OP_MKDIR:
	case OP_SYMLINK:
	case OP_LINK:
	case OP_MKNOD:
		if (op->modefix) { /* mkdir's SETSTAT (fix_mode) */
			op->modefix = 0;
			if (op_errmap(op, body, n))
				op->cattr.perm = op->srv_perm;
			if ((rc = entry_from_attrs(op, op->path, &op->cattr,
						   &e)))
				break;
			goto reply_entry;
		}
		/* first a STATUS (or, for mknod, the OPEN's HANDLE and the
		 * CLOSE's STATUS), then the LSTAT with the new entry */
		if (body[0] == SSH_FXP_STATUS || body[0] == SSH_FXP_HANDLE) {
			rc = body[0] == SSH_FXP_STATUS
				     ? op_errmap(op, body, n)
				     : 0;
			/* a replay after a reconnect may find its own work
			 * done: the entry exists */
			if (rc == EEXIST && op->replays > 0)
				rc = 0;
			if (rc && !op->err)
				op->err = rc;
			if (body[0] == SSH_FXP_HANDLE && op->kind == OP_MKNOD) {
				struct sftp_handle hd = sftp_dec_handle(body, n);

				if (!hd.rc)
					SEND(op, sftp_enc_close(W(op), ID(op),
								hd.handle,
								hd.handle_len));
			}
			goto check_done;
		}
		if (op->err)
			goto check_done;
		/* (mkdir: the directory is new; mknod's CLOSE may still be
		 * on its way, so its mode is left as the server made it) */
		if (op->kind == OP_MKDIR && fix_mode(op, body, n))
			goto check_done;
		if ((rc = entry_from(op, op->path, body, n, &e)))
			break;
	reply_entry:
		/* the kernel keeps the old name's attributes (another
		 * inode to it): its link count changed.  Before the reply,
		 * so that a stat right after link(2) cannot see the old */
		if (op->kind == OP_LINK && op->c->se)
			fuse_lowlevel_notify_inval_inode(op->c->se, op->ino, -1,
							 0);
		op_reply_entry(op, &e);
		/* mknod's CLOSE may still be out: freed at its answer */
		if (op->pending == 0)
			op_free(op);
		return;
	case OP_UNLINK:
	case OP_RMDIR:
	case OP_FSYNC:
		rc = -op_errmap(op, body, n);
		if (rc == -ENOENT && op->replays > 0)
			rc = 0; /* the first try did it before the link died */
		if (op->kind != OP_FSYNC)
			rc = ub_done(op, rc); /* (unlink-behind, ubehind.c) */
		if (!rc && op->kind != OP_FSYNC) {
			dc_gone(op->c->dc, op->path, op->since);
			itable_unlink(op->c->it, op->path);
			if (op->kind == OP_RMDIR)
				dc_drop_tree(op->c->dc, op->path);
		}
		break;
	case OP_RENAME:
		if (op->stage == 1 || op->stage == 2) {
			/* after a generic FAILURE: the LSTATs of source and
			 * target tell what it was */
			struct sftp_attrs_reply ar = sftp_dec_attrs(body, n);
			int there = body[0] == SSH_FXP_ATTRS && !ar.rc;
			int dir = there && (ar.attrs.flags &
					    SSH_FILEXFER_ATTR_PERMISSIONS) &&
				  S_ISDIR(ar.attrs.perm);

			op->got |= (size_t)(there | dir << 1)
				   << (op->stage == 1 ? 0 : 2);
			if (op->stage++ == 1)
				goto check_done;
			/* a directory over a directory fails only when the
			 * target has entries; anything else posix-rename
			 * cannot do is most likely a rename across the
			 * server's file systems, which mv(1) then copies */
			rc = !(op->got & 1)	   ? -ENOENT
			     : (op->got & 10) == 10 ? -ENOTEMPTY
						    : -EXDEV;
			break;
		}
		rc = -op_errmap(op, body, n);
		if (rc == -EEXIST && !(op->flags & RENAME_NOREPLACE) &&
		    (op->c->core->ext & SFTP_HAS_POSIX_RENAME) &&
		    body[0] == SSH_FXP_STATUS) {
			op->stage = 1;
			op->got = 0;
			if ((rc = lstat_path(op)) ||
			    (rc = SEND(op, sftp_enc_lstat(W(op), ID(op),
							  op->path2,
							  strlen(op->path2)))))
				break;
			goto check_done;
		}
		if (rc == -ENOENT && op->replays > 0)
			rc = 0;
		if (!rc) {
			itable_rename(op->c->it, op->path, op->path2);
			dc_gone(op->c->dc, op->path, op->since);
			dc_drop_tree(op->c->dc, op->path);
			dc_drop_tree(op->c->dc, op->path2);
		}
		break;
	case OP_OPEN:
	case OP_OPENDIR: {
		struct fh *fh = fh_from_handle(op, body, n, &rc);

		if (!fh) {
			rc = -rc;
			break;
		}
		fh->flags = op->fi.flags;
		fh->is_dir = op->kind == OP_OPENDIR;
		fh->fresh = !fh->is_dir && (fh->flags & O_TRUNC) &&
			    !(fh->flags & O_APPEND);
		fh->open_wgen = itable_wgen(op->c->it, op->ino);
		fh->open_since = op->since;
		fh->big = op->big;
		op->big = 0;
		if (!fh->is_dir && (fh->flags & O_ACCMODE) == O_RDONLY &&
		    op->c->dc &&
		    dc_lookup(op->c->dc, op->path, &fh->fattr) == 1 &&
		    !itable_changed_since(op->c->it, op->path, op->since)) {
			/* what the kept listing says (getattr_early) */
			fh->fattr_wgen = fh->open_wgen;
			fh->fattr_ok = (fh->fattr.flags &
					(SSH_FILEXFER_ATTR_SIZE |
					 SSH_FILEXFER_ATTR_ACMODTIME)) ==
				       (SSH_FILEXFER_ATTR_SIZE |
					SSH_FILEXFER_ATTR_ACMODTIME);
		}
		if (fh->is_dir && !(fh->dpath = strdup(op->path))) {
			free(fh);
			rc = -ENOMEM;
			break;
		}
		if (fh->is_dir) {
			da_start(fh);
			op_dir_link(op->c, fh);
		} else {
			op_open_link(op->c, fh);
		}
		op->fi.fh = (uintptr_t)fh;
		if (op->c->o->kernel_cache)
			op->fi.keep_cache = 1;
		op_reply_open(op, &op->fi);
		op_free(op);
		return;
	}
	case OP_CREATE:
		if (body[0] == SSH_FXP_HANDLE || op->stage == 0) {
			op->stage = 1;
			op->fh = fh_from_handle(op, body, n, &rc);
			if (!op->fh && !op->err)
				op->err = rc;
			goto check_done;
		}
		if (op->err) {
			if (op->fh) /* LSTAT failed after a good OPEN */
				SEND(op, sftp_enc_close(W(op), ID(op), op->fh->h,
							op->fh->hlen));
			goto check_done;
		}
		if (op->modefix) {
			/* the FSETSTAT's STATUS: on a refusal the server's
			 * mode stays (and is what the kernel is told) */
			op->modefix = 0;
			if (op_errmap(op, body, n))
				op->cattr.perm = op->srv_perm;
		} else {
			struct sftp_attrs_reply ar;

			if (fix_mode(op, body, n))
				goto check_done;
			if (body[0] != SSH_FXP_ATTRS) {
				rc = -op_errmap(op, body, n);
				break;
			}
			ar = sftp_dec_attrs(body, n);
			if (ar.rc) {
				rc = -EIO;
				break;
			}
			op->cattr = ar.attrs;
		}
		if ((rc = entry_from_attrs(op, op->path, &op->cattr, &e)))
			break;
		op->fh->ino = e.ino;
		op->fh->flags = op->fi.flags;
		op->fh->fresh = (op->cattr.flags & SSH_FILEXFER_ATTR_SIZE) &&
				op->cattr.size == 0 &&
				!(op->fi.flags & O_APPEND);
		create_battr(op, &op->cattr);
		op_open_link(op->c, op->fh);
		op->fi.fh = (uintptr_t)op->fh;
		op_reply_create(op, &e, &op->fi);
		op_free(op);
		return;
	case OP_READ: {
		/* chunks arrive in order of the requests (the server answers
		 * in order): append each to the buffer */
		struct sftp_data d;

		if (body[0] == SSH_FXP_DATA) {
			d = sftp_dec_data(body, n);
			if (d.rc || d.len > op->size - op->got) {
				op->err = EIO;
				goto check_done;
			}
			if (!op->stage) { /* no short chunk before */
				memcpy(op->buf + op->got, d.data, d.len);
				op->got += d.len;
				if (d.len < op->c->core->max_read &&
				    op->got < op->size)
					op->stage = 1; /* short: stop here */
			}
		} else {
			int e2 = op_errmap(op, body, n);
			struct sftp_status st = sftp_dec_status(body, n);

			if (!st.rc && st.code == SSH_FX_EOF)
				op->stage = 1;
			else if (!op->err)
				op->err = e2 ? e2 : EIO;
		}
		goto check_done;
	}
	case OP_WRITE:
		/* one reply per SFTP WRITE of this op; act on the last */
		if ((rc = op_errmap(op, body, n)) && !op->err)
			op->err = rc;
		if (op->pending == 0)
			op_write_done(op);
		return;
	case OP_RELEASE:
	case OP_RELEASEDIR:
		free(op->fh);
		op_reply_err(op, 0);
		op_free(op);
		return;
	case OP_COPY:
		if (op->stage == 0) { /* the source's ATTRS */
			struct sftp_attrs_reply ar = sftp_dec_attrs(body, n);

			op->stage = 1;
			if (body[0] != SSH_FXP_ATTRS || ar.rc ||
			    !(ar.attrs.flags & SSH_FILEXFER_ATTR_SIZE))
				op->err = body[0] == SSH_FXP_STATUS
						  ? op_errmap(op, body, n)
						  : EIO;
			else
				op->got = ar.attrs.size <= (uint64_t)op->off
						  ? 0
						  : ar.attrs.size - (uint64_t)op->off <
							    op->size
							    ? (size_t)(ar.attrs.size -
								       (uint64_t)op->off)
							    : op->size;
			goto check_done;
		}
		if (!op->err && (rc = op_errmap(op, body, n)))
			op->err = rc == ENOSYS ? EOPNOTSUPP : rc;
		if (op->err)
			goto check_done;
		op_reply_write(op, op->got);
		op_free(op);
		return;
	case OP_LSEEK: {
		struct sftp_attrs_reply ar = sftp_dec_attrs(body, n);
		uint64_t size;

		if (body[0] == SSH_FXP_STATUS) {
			rc = -op_errmap(op, body, n);
			break;
		}
		if (body[0] != SSH_FXP_ATTRS || ar.rc ||
		    !(ar.attrs.flags & SSH_FILEXFER_ATTR_SIZE)) {
			rc = -EIO;
			break;
		}
		size = ar.attrs.size;
		if (op->off < 0 || (uint64_t)op->off >= size) {
			rc = -ENXIO; /* (lseek(2): at or past the end) */
			break;
		}
		op_reply_lseek(op, op->flags == SEEK_DATA ? op->off
							  : (off_t)size);
		op_free(op);
		return;
	}
	case OP_STATFS: {
		struct sftp_statvfs v;
		struct statvfs sv;

		if (body[0] != SSH_FXP_EXTENDED_REPLY) {
			rc = -op_errmap(op, body, n);
			break;
		}
		v = sftp_dec_statvfs(body, n);
		if (v.rc) {
			rc = -EIO;
			break;
		}
		memset(&sv, 0, sizeof(sv));
		sv.f_bsize = v.bsize;
		sv.f_frsize = v.frsize;
		sv.f_blocks = v.blocks;
		sv.f_bfree = v.bfree;
		sv.f_bavail = v.bavail;
		sv.f_files = v.files;
		sv.f_ffree = v.ffree;
		sv.f_favail = v.favail;
		sv.f_fsid = v.fsid;
		sv.f_flag = v.flag;
		sv.f_namemax = v.namemax;
		op_reply_statfs(op, &sv);
		op_free(op);
		return;
	}
	default:
		rc = -EIO;
		break;
	}
	reply_err(op, -rc); /* rc 0: success of an op answered by errno */
	return;
check_done:
	if (op->pending > 0)
		return;
	if (op->replied) { /* answered already (timeout, or mknod) */
		op_free(op);
		return;
	}
	if (op->kind == OP_READ) {
		if (op->err && op->got == 0)
			reply_err(op, op->err);
		else {
			op_reply_buf(op, op->buf, op->got);
			op_free(op);
		}
		return;
	}
	if (op->kind == OP_CREATE && op->err && op->fh) {
		free(op->fh);
		op->fh = NULL;
	}
	reply_err(op, op->err ? op->err : EIO);
}

/* ---- starting operations (I/O thread) ------------------------------------ */

/*
 * max_conns: a large file opened for reading goes to the connection
 * (this primary or a secondary that is up) with the fewest such files
 * open, so that several readers decrypt on several cores.  Large: the
 * size the kernel was last shown (it looked the name up), or the kept
 * listing's, at least ROUTE_MIN; small files stay here, where they are
 * fetched ahead and kept.  Not a file written through the mount right
 * now.  The op is counted (nbig) on the connection it goes to; 1: it
 * went to a secondary, which opens the file itself.
 */
#define ROUTE_MIN (1024u * 1024)

static int route_open(struct conn *c, struct op *op)
{
	struct conn *best = c;
	struct sftp_attrs a;
	uint64_t size = 0;
	uint32_t mt;
	int i, n, bn;

	if (!c->nsec || open_writing(c, op->ino) ||
	    itable_writing(c->it, op->ino))
		return 0;
	if (!itable_seen_get(c->it, op->ino, &size, &mt) && c->dc &&
	    dc_lookup(c->dc, op->path, &a) == 1 &&
	    (a.flags & SSH_FILEXFER_ATTR_SIZE))
		size = a.size;
	if (size < ROUTE_MIN)
		return 0;
	bn = __atomic_load_n(&c->nbig, __ATOMIC_RELAXED);
	for (i = 0; i < c->nsec; i++) {
		struct conn *s = c->sec[i];

		if (!__atomic_load_n(&s->up, __ATOMIC_ACQUIRE))
			continue;
		n = __atomic_load_n(&s->nbig, __ATOMIC_RELAXED);
		if (n < bn) {
			best = s;
			bn = n;
		}
	}
	op->big = 1;
	__atomic_add_fetch(&best->nbig, 1, __ATOMIC_RELAXED);
	if (best == c)
		return 0;
	/* the secondary starts it from the beginning */
	op_active_unlink(op);
	free(op->path);
	op->path = NULL;
	conn_submit(best, op);
	return 1;
}

static int resolve(struct op *op)
{
	char *dir;

	if (op->c->dead)
		return -ENOTCONN;
	if (op->ubehind && op->path)
		return 0; /* replayed by the path it was answered for */
	free(op->path);
	op->path = NULL;
	dir = itable_path(op->c->it, op->ino);
	if (!dir)
		return -ESTALE;
	if (op->kind == OP_LOOKUP && op->name &&
	    (!strcmp(op->name, ".") || !strcmp(op->name, ".."))) {
		/* (exported file handles: the kernel asks for an inode's
		 * "." and its parent "..") the same inode, not a new one
		 * for "dir/."; never above the mount's root */
		if (op->name[1] && strcmp(dir, op->c->home)) {
			char *slash = strrchr(dir, '/');

			if (slash && slash != dir)
				*slash = '\0';
			else if (slash)
				slash[1] = '\0';
		}
		op->path = dir;
	} else if (op->name) {
		op->path = path_join(dir, op->name);
		free(dir);
	} else {
		op->path = dir;
	}
	if (!op->path)
		return -ENOMEM;
	/* the second name is a path for rename and link; for symlink it
	 * is the target, stored as given */
	if (op->name2 && (op->kind == OP_RENAME || op->kind == OP_LINK)) {
		dir = itable_path(op->c->it, op->ino2);
		if (!dir)
			return -ESTALE;
		op->path2 = path_join(dir, op->name2);
		free(dir);
		if (!op->path2)
			return -ENOMEM;
	}
	return 0;
}

static int stat_path(struct op *op)
{
	return SEND(op, sftp_enc_stat(W(op), ID(op), op->path,
				      strlen(op->path)));
}

static int lstat_path(struct op *op)
{
	return SEND(op, sftp_enc_lstat(W(op), ID(op), op->path,
				       strlen(op->path)));
}

/* What a setattr sets, as SFTP v3 attributes. */
static void setattr_wire(struct op *op, struct sftp_attrs *ap)
{
	struct sftp_attrs a = { 0 };

	if (op->to_set & FUSE_SET_ATTR_SIZE) {
		a.flags |= SSH_FILEXFER_ATTR_SIZE;
		a.size = (uint64_t)op->attr.st_size;
	}
	if (op->to_set & FUSE_SET_ATTR_MODE) {
		a.flags |= SSH_FILEXFER_ATTR_PERMISSIONS;
		a.perm = op->attr.st_mode & 07777;
	}
	if (op->to_set & (FUSE_SET_ATTR_UID | FUSE_SET_ATTR_GID)) {
		/* v3 sets both: an unchanged one is given as -1... which
		 * OpenSSH passes to chown(2) as "no change" */
		a.flags |= SSH_FILEXFER_ATTR_UIDGID;
		a.uid = op->to_set & FUSE_SET_ATTR_UID ? op->attr.st_uid
						       : (uint32_t)-1;
		a.gid = op->to_set & FUSE_SET_ATTR_GID ? op->attr.st_gid
						       : (uint32_t)-1;
		/* idmap=: local owners as the server knows them (an
		 * unmapped one was refused in op_start) */
		(void)idmap_out(op->c, &a.uid, &a.gid);
	}
	if (op->to_set & (FUSE_SET_ATTR_ATIME | FUSE_SET_ATTR_MTIME |
			  FUSE_SET_ATTR_ATIME_NOW | FUSE_SET_ATTR_MTIME_NOW)) {
		time_t t = time(NULL);

		/* v3 sets both times together; the one not asked for keeps
		 * its value as the kernel knows it (op->attr) */
		a.flags |= SSH_FILEXFER_ATTR_ACMODTIME;
		a.atime = (uint32_t)(op->to_set & FUSE_SET_ATTR_ATIME_NOW
					     ? t
					     : op->attr.st_atime);
		a.mtime = (uint32_t)(op->to_set & FUSE_SET_ATTR_MTIME_NOW
					     ? t
					     : op->attr.st_mtime);
	}
	*ap = a;
}

/* Stamp fh's inode for a change made through fh (a write, a set-behind):
 * fh's attributes stay the server's only if nothing else stamped the
 * inode since fh last did. */
void fh_stamp(struct conn *c, struct fh *fh, int writes)
{
	uint64_t prev = 0, s = itable_stamp(c->it, fh->ino, writes, &prev);

	if (fh->battr_ok && s && prev == fh->bstamp)
		fh->bstamp = s;
	else
		fh->battr_ok = 0;
}

/*
 * Set-behind: chmod, chown and utimes through a handle that made the
 * file (tar -x: futimens, fchown, fchmod before close) are answered at
 * once, like a write-behind write, when their outcome is known: the
 * handle has the file's attributes as the server has them (it created
 * the file and nothing else touched it since, fh->battr), the owner may
 * always change mode and times, and an owner change is allowed only
 * when the server made the file ours as root or nothing changes.  The
 * request goes out in order after the writes; if the server refuses
 * after all, the error is kept and returned by the next write, flush,
 * fsync or close, as for a write.  The kernel keeps the attributes as
 * usual when they are exact; when the mtime is only our guess (a write
 * since the last time set) it gets no time to keep them, and its next
 * stat asks the server (behind this request on the connection).
 */
/* The handle whose attributes of op's inode are the server's (after
 * its requests on the way), or NULL. */
static struct fh *behind_fh(struct op *op)
{
	struct conn *c = op->c;
	struct fh *fh = op->fh ? op->fh : itable_bfh(c->it, op->ino);

	if (!fh || fh->is_dir || !fh->battr_ok || fh->gen != c->gen ||
	    fh->reopening || fh->stale || fh->ino != op->ino || fh->wb_err)
		return NULL;
	if (itable_chg(c->it, fh->ino) != fh->bstamp) {
		fh->battr_ok = 0; /* changed by something else */
		return NULL;
	}
	return fh;
}

/* A stat of a file a handle made and changed since (the kernel asks
 * before every chown): answered from that handle's attributes. */
static int getattr_behind(struct op *op)
{
	struct fh *fh = behind_fh(op);
	struct stat st;

	if (!fh || !fh->bmtime_set || attrs_ids_ok(op->c, &fh->battr))
		return 0;
	attrs_to_stat(op->c, &fh->battr, &st, fh->ino);
	op_reply_attr(op, &st, op_attr_timeout(op));
	op_free(op);
	return 1;
}

/* A set-behind the server refused: the error waits for the next write,
 * flush, fsync or close; what the kernel was told is forgotten. */
static void behind_failed(struct op *op, int err)
{
	struct fh *fh = op->fh;

	if (!fh->wb_err)
		fh->wb_err = err;
	fh->battr_ok = 0;
	if (op->c->se)
		fuse_lowlevel_notify_inval_inode(op->c->se, fh->ino, -1, 0);
}

static void setattr_behind(struct op *op)
{
	const int ok = FUSE_SET_ATTR_MODE | FUSE_SET_ATTR_UID |
		       FUSE_SET_ATTR_GID | FUSE_SET_ATTR_ATIME |
		       FUSE_SET_ATTR_MTIME | FUSE_SET_ATTR_ATIME_NOW |
		       FUSE_SET_ATTR_MTIME_NOW | FUSE_SET_ATTR_CTIME;
	struct fh *fh = op->fh;
	struct conn *c = op->c;
	struct sftp_attrs a, *b;
	struct stat st;
	int set_a = op->to_set & (FUSE_SET_ATTR_ATIME | FUSE_SET_ATTR_ATIME_NOW);
	int set_m = op->to_set & (FUSE_SET_ATTR_MTIME | FUSE_SET_ATTR_MTIME_NOW);

	/* the kernel sends fchmod, fchown, futimens without the handle
	 * (only ftruncate has it): the one that made the file, if open */
	if (op->wb_counted || !(fh = behind_fh(op)) ||
	    (fh->flags & O_ACCMODE) == O_RDONLY ||
	    (op->to_set & ~ok) || fh->wb_bytes >= WB_HANDLE_MAX(c) ||
	    c->wb_total >= WB_MOUNT_MAX(c))
		return;
	b = &fh->battr;
	if ((set_a != 0) != (set_m != 0)) { /* the other time: ours */
		if (!set_a)
			op->attr.st_atime = b->atime;
		else
			op->attr.st_mtime = b->mtime;
		op->stage = 11;
	}
	setattr_wire(op, &a);
	if ((a.flags & SSH_FILEXFER_ATTR_UIDGID) &&
	    ((b->uid != 0 && ((a.uid != (uint32_t)-1 && a.uid != b->uid) ||
			      (a.gid != (uint32_t)-1 && a.gid != b->gid))) ||
	     (b->perm & (S_ISUID | S_ISGID))))
		return; /* may be refused, or clear set-id bits: ask */
	if ((a.flags & SSH_FILEXFER_ATTR_PERMISSIONS) && b->uid != 0 &&
	    (a.perm & S_ISGID))
		return; /* kept only for a group of ours: ask */
	if (a.flags & SSH_FILEXFER_ATTR_PERMISSIONS)
		b->perm = (b->perm & ~07777u) | (a.perm & 07777u);
	if (a.flags & SSH_FILEXFER_ATTR_UIDGID) {
		if (a.uid != (uint32_t)-1)
			b->uid = a.uid;
		if (a.gid != (uint32_t)-1)
			b->gid = a.gid;
	}
	if (a.flags & SSH_FILEXFER_ATTR_ACMODTIME) {
		b->atime = a.atime;
		b->mtime = a.mtime;
		fh->bmtime_set = 1;
	}
	op->behind = 1;
	op->fh = fh; /* the request goes out on that handle */
	op->size = 1; /* counted as one byte of write-behind */
	op->wb_counted = 1;
	fh->wb_bytes += 1;
	c->wb_total += 1;
	fh->refs++;
	fh_stamp(c, fh, 1);
	attrs_to_stat(c, b, &st, fh->ino);
	op_reply_attr(op, &st, fh->bmtime_set ? op_attr_timeout(op) : 0.0);
}

/* A handle that made a file (or opened it with O_CREAT) has its
 * attributes from the LSTAT that followed the OPEN: set-behind may use
 * them while nothing else changes the file, unless someone else's
 * writes were still on their way. */
static void create_battr(struct op *op, const struct sftp_attrs *a)
{
	const uint32_t all = SSH_FILEXFER_ATTR_SIZE | SSH_FILEXFER_ATTR_UIDGID |
			     SSH_FILEXFER_ATTR_PERMISSIONS |
			     SSH_FILEXFER_ATTR_ACMODTIME;
	struct fh *fh = op->fh;

	fh->battr_ok = 0;
	if ((a->flags & all) != all || !S_ISREG(a->perm) ||
	    itable_changed_since(op->c->it, op->path, UINT64_MAX))
		return;
	fh->battr = *a;
	fh->bmtime_set = 1;
	fh->bstamp = itable_stamp(op->c->it, fh->ino, 0, NULL);
	fh->battr_ok = fh->bstamp != 0;
	if (fh->battr_ok) /* fchmod & co. come without a handle */
		itable_set_bfh(op->c->it, fh->ino, fh);
}

static int start_setattr(struct op *op)
{
	struct sftp_attrs a;
	struct fh *fh = op->fh;
	int rc;
	int set_a = op->to_set & (FUSE_SET_ATTR_ATIME | FUSE_SET_ATTR_ATIME_NOW);
	int set_m = op->to_set & (FUSE_SET_ATTR_MTIME | FUSE_SET_ATTR_MTIME_NOW);

	if ((set_a != 0) != (set_m != 0) && op->stage != 11) {
		/* one time only: read the other first (stage 10) */
		op->stage = 10;
		if (fh)
			return SEND(op, sftp_enc_fstat(W(op), ID(op), fh->h,
						       fh->hlen));
		return SEND(op, sftp_enc_lstat(W(op), ID(op), op->path,
					       strlen(op->path)));
	}

	if (op->to_set & FUSE_SET_ATTR_SIZE) {
		itable_bump_wgen(op->c->it, op->ino); /* caches are stale */
		st_truncated(op->c, fh ? fh->ino : op->ino,
			     (uint64_t)op->attr.st_size);
	}
	setattr_wire(op, &a);
	if (fh)
		rc = SEND(op, sftp_enc_fsetstat(W(op), ID(op), fh->h, fh->hlen,
						&a));
	else if (!(a.flags & SSH_FILEXFER_ATTR_SIZE) &&
		 (op->c->core->ext & SFTP_HAS_LSETSTAT))
		/* chown -h, touch -h: on a symlink, the link itself, never
		 * its target (lsetstat@openssh.com; it cannot truncate) */
		rc = SEND(op, sftp_enc_lsetstat(W(op), ID(op), op->path,
						strlen(op->path), &a));
	else
		rc = SEND(op, sftp_enc_setstat(W(op), ID(op), op->path,
					       strlen(op->path), &a));
	if (rc || op->behind)
		return rc;
	if (fh)
		return SEND(op, sftp_enc_fstat(W(op), ID(op), fh->h, fh->hlen));
	return lstat_path(op);
}

/*
 * A write is no longer in flight (done, failed, given up): its bytes
 * leave the handle's and the mount's write-behind.  What a listing or a
 * LSTAT said of the file while it was on its way may be older than it,
 * and the file's size on the server may only now be what the kernel
 * has: the kept listing forgets the file's attributes again, and the
 * stamp makes replies to requests sent before now lose to it.
 */
/* The largest server-side copy in one request: a copy takes the
 * server's disk time, which op_timeout must not mistake for a hang. */
#define COPY_MAX (64u * 1024 * 1024)

/*
 * copy_file_range: FSTAT of the source (how much there is to copy:
 * copy-data does not say) and copy-data, back to back.  Whatever the
 * server cannot do here (no copy-data, an append-only destination, a
 * handle lost with a connection) answers EOPNOTSUPP, and the kernel
 * copies through the mount itself.  1: answered.
 */
static int start_copy(struct op *op)
{
	struct conn *c = op->c;
	struct fh *in = op->fh, *out = op->fh2;
	char *p;
	int rc;

	if (!(c->core->ext & SFTP_HAS_COPY_DATA) || !in || !out ||
	    in->is_dir || out->is_dir || (out->flags & O_APPEND) ||
	    in->gen != c->gen || out->gen != c->gen || in->reopening ||
	    out->reopening || in->stale || out->stale) {
		reply_err(op, EOPNOTSUPP);
		return 1;
	}
	if (out->wb_err) { /* an earlier write failed (kept for flush) */
		reply_err(op, out->wb_err);
		return 1;
	}
	if (op->size > COPY_MAX)
		op->size = COPY_MAX;
	/* what is cached of the destination is stale now, also the
	 * attributes set-behind answers from (cp -a: fchmod after the
	 * copy must not give the kernel the size from before it) */
	ra_drop(out);
	out->ra_last_end = 0;
	out->battr_ok = 0;
	itable_stamp(c->it, out->ino, 0, NULL);
	itable_bump_wgen(c->it, out->ino);
	if ((p = itable_path(c->it, out->ino))) {
		dc_changed(c->dc, p, 1);
		free(p);
	} else {
		dc_drop_tree(c->dc, "/");
	}
	if ((rc = SEND(op, sftp_enc_fstat(W(op), ID(op), in->h, in->hlen))))
		return rc;
	return SEND(op, sftp_enc_copy_data(W(op), ID(op), in->h, in->hlen,
					   (uint64_t)op->off, op->size, out->h,
					   out->hlen, (uint64_t)op->off2));
}

/* A reply nobody waits for (closing a handle we replaced). */
void op_forget_reply(void *arg, int err, const uint8_t *body, size_t n)
{
	(void)arg;
	(void)err;
	(void)body;
	(void)n;
}

/* ---- connection loss -------------------------------------------------------- */

/* Replays per op: a request that kills the connection every time must
 * not loop forever (op_timeout bounds the time as well).  A link that
 * breaks every second or so must not make a write fail, though: a
 * failed write is an error the program sees, a replay only a delay. */
#define OP_MAX_REPLAYS 10

/* A handle the kernel has released and the server no longer needs to
 * hear of: everything hanging on it goes. */
static void fh_forget(struct conn *c, struct fh *fh)
{
	itable_clear_bfh(c->it, fh->ino, fh);
	open_unlink(fh);
	st_release(c, fh);
	ra_release(fh);
	da_reset(fh);
	if (fh->snap)
		dc_snapshot_free(fh->snap, fh->snap_n);
	free(fh->whole);
	free(fh->pf_data);
	free(fh->dpath);
	free(fh);
}

void op_forget_handles(struct conn *c)
{
	while (c->open_files)
		fh_forget(c, c->open_files);
	while (c->open_dirs)
		fh_forget(c, c->open_dirs);
}

void op_give_up(struct op *op, int err)
{
	struct fh *fh = op->fh;

	if (op->ubehind) /* answered already: latched on its directory */
		(void)ub_done(op, -err);

	if ((op->kind == OP_RELEASE || op->kind == OP_RELEASEDIR) && fh) {
		/* the kernel forgets the handle whatever we answer (a release
		 * that waited for the link in vain leaked it) */
		fh_forget(op->c, fh);
		op->fh = NULL;
		reply_err(op, err);
		return;
	}
	if ((op->kind == OP_WRITE || op->behind) && op->wb_counted) {
		fh->battr_ok = 0;
		if (op->behind)
			behind_failed(op, err);
		wb_uncount(op);
		if (op->stage == 1 || op->behind) {
			/* the application was told it worked: the error is
			 * latched and returned by the next write, flush,
			 * fsync or close */
			if (!fh->wb_err)
				fh->wb_err = err;
			op_free(op);
		} else {
			reply_err(op, err);
		}
		op_wb_settled(fh);
		return;
	}
	if (op->kind == OP_CREATE && op->fh) {
		free(op->fh);
		op->fh = NULL;
	}
	reply_err(op, err);
}

static void requeue(struct op *op);

void op_lost(struct op *op)
{
	struct conn *c = op->c;

	if (op->early) { /* answered; its handle may be gone by now */
		op_free(op);
		return;
	}
	if (!c->o->reconnect || op->replays >= OP_MAX_REPLAYS) {
		op_give_up(op, EIO);
		return;
	}
	/* A write on an O_APPEND handle goes wherever the end of the file
	 * is when the server gets it: the first try may have appended
	 * already, and a replay would append again (or after later
	 * writes).  Not replayed: the error reaches the application at
	 * this write or, if it was told the write worked, at the next
	 * write, flush, fsync or close. */
	if (op->kind == OP_WRITE && op->fh && (op->fh->flags & O_APPEND)) {
		op_give_up(op, EIO);
		return;
	}
	op->replays++;
	requeue(op);
}

/*
 * A write answered by ll.c before it was sent (write_early) holds the
 * connection from op_start until it is sent: should it wait on the way
 * (a reopen, the stripes' opens, a read of the file on a secondary), the
 * ops that came after it wait too (c->held, started again by the I/O
 * thread once it is sent, parked or gone), so that nothing its writer
 * did next (a chmod, a stat, a read, a truncate) reaches the server
 * before it.  Sent at once, as it nearly always is, it held nothing.
 */
void op_unhold(struct op *op)
{
	struct conn *c = op->c;

	if (c && c->hold == op)
		c->hold = NULL;
}

/* Forget what op began on a dead connection; op_start redoes it from the
 * start once the link is back. */
static void requeue(struct op *op)
{
	struct conn *c = op->c;

	op->lost = 0;
	op->pending = 0;
	op->err = 0;
	op->got = 0;
	op->refined = 0;
	op->fail_errno = 0;
	if (op->kind != OP_WRITE && !op->behind)
		op->stage = 0;
	/* (an unlink answered early keeps its path: its directory's count
	 * and latched error are found by it, even if it is given up while
	 * parked; resolve makes it again) */
	if (!op->ubehind) {
		free(op->path);
		op->path = NULL;
	}
	free(op->path2);
	op->path2 = NULL;
	if (op->kind == OP_CREATE) {
		free(op->fh); /* its handle died with the connection */
		op->fh = NULL;
		/* we may have created it already: do not insist on O_EXCL */
		op->fi.flags &= ~O_EXCL;
	}
	if (op->kind == OP_READ) {
		free(op->buf);
		op->buf = NULL;
	}
	conn_park(c, op);
}

static int dc_start(struct conn *c, struct op *op);

/* An opendir or lookup that waited for a listing in the background
 * (da_bg_wait): from the kept listing now, or to the server. */
void op_bg_resume(struct op *op)
{
	struct conn *c = op->c;
	int rc;

	if (op->replied) { /* timed out meanwhile */
		op_free(op);
		return;
	}
	if (op->kind == OP_OPENDIR ? da_snapshot_open(op) : dc_start(c, op))
		return;
	if (c->dead) {
		if (c->o->reconnect)
			requeue(op);
		else
			reply_err(op, ENOTCONN);
		return;
	}
	op->since = chg_now();
	if (op->kind == OP_OPENDIR) {
		rc = SEND(op, sftp_enc_opendir(W(op), ID(op), op->path,
					       strlen(op->path)));
		if (!rc)
			da_walk_ahead(c, op->path);
	} else {
		rc = c->o->follow_symlinks ? stat_path(op) : lstat_path(op);
		if (!rc)
			da_speculate(c, op->path);
	}
	if (rc)
		reply_err(op, -rc);
}

static void reopen_release(struct fh *fh, struct op *w, int e)
{
	struct op *nx, *rev = NULL;

	/* fh_ready pushed them on a stack: oldest first again, so that
	 * writes are replayed in the order they were made (two that
	 * overlap, replayed the other way round, left the older data) */
	for (; w; w = nx) {
		nx = w->next;
		w->next = rev;
		rev = w;
	}
	for (w = rev; w; w = nx) {
		nx = w->next;
		if (e < 0) /* the link died again: wait again (nothing of
			    * theirs was sent: not a replay) */
			requeue(w);
		else if (e)
			op_give_up(w, e);
		else
			op_start(w->c, w);
	}
	(void)fh;
}

/* The FSTAT of a file reopened after a reconnect: another size or mtime
 * than the kernel was last shown, with no write through the mount since
 * the handle was opened, means the file was replaced or changed on the
 * server while the link was down.  Its descriptors get ESTALE rather
 * than the other file's data (SFTP v3 has no file identity to tell a
 * replacement from a change). */
static void reopen_checked(void *arg, int err, const uint8_t *body, size_t n)
{
	struct fh *fh = arg;
	struct op *w = fh->reopen_waiters;
	struct sftp_attrs_reply ar;
	uint64_t size;
	uint32_t mtime;
	int e = 0;

	fh->reopen_waiters = NULL;
	fh->reopening = 0;
	if (err) {
		fh->gen = 0; /* reopened on the next connection */
		reopen_release(fh, w, -1);
		return;
	}
	ar = sftp_dec_attrs(body, n);
	if (body[0] == SSH_FXP_ATTRS && !ar.rc &&
	    (ar.attrs.flags & SSH_FILEXFER_ATTR_SIZE) &&
	    (ar.attrs.flags & SSH_FILEXFER_ATTR_ACMODTIME) &&
	    itable_seen_get(fh->c->it, fh->ino, &size, &mtime) &&
	    (ar.attrs.size != size || ar.attrs.mtime != mtime)) {
		fh->stale = 1;
		e = ESTALE;
	}
	reopen_release(fh, w, e);
}

static void reopen_done(void *arg, int err, const uint8_t *body, size_t n)
{
	struct fh *fh = arg;
	struct op *w = fh->reopen_waiters;
	struct sftp_handle hd;
	int e = 0;

	fh->reopen_waiters = NULL;
	fh->reopening = 0;
	if (err) { /* the link died again: everybody waits again */
		reopen_release(fh, w, -1);
		return;
	}
	hd = sftp_dec_handle(body, n);
	if (body[0] != SSH_FXP_HANDLE || hd.rc) {
		/* removed or no longer ours: never read another file */
		fh->stale = 1;
		e = ESTALE;
	} else {
		memcpy(fh->h, hd.handle, hd.handle_len);
		fh->hlen = hd.handle_len;
		fh->gen = fh->c->gen;
		ra_drop(fh);
		fh->ra_last_end = 0;
		/* a listing starts over: skip what the kernel already has */
		da_reset(fh);
		fh->dskip = fh->doff;
		if (!fh->is_dir && fh->written == 0 &&
		    itable_wgen(fh->c->it, fh->ino) == fh->open_wgen) {
			/* still the same file? (reopen_checked) */
			struct sftp_core *core = fh->c->core;
			size_t mark = sftp_core_out(core)->len;

			if (!sftp_enc_fstat(sftp_core_out(core),
					    sftp_core_id(core), fh->h, fh->hlen) &&
			    !sftp_core_track(core, mark, reopen_checked, fh)) {
				fh->reopen_waiters = w;
				fh->reopening = 1;
				return;
			}
			sftp_core_out(core)->len = mark;
			sftp_core_out(core)->err = 0;
		}
	}
	reopen_release(fh, w, e);
}

/* An op needs fh, which belongs to a dead connection: reopen it by path
 * (never with O_TRUNC/O_EXCL again) and run op afterwards.  0: go on, 1:
 * op is parked on the reopen. */
static int fh_ready(struct conn *c, struct op *op)
{
	struct fh *fh = op->fh;
	size_t mark;
	char *path;
	int rc;

	if (fh->stale) {
		op_give_up(op, ESTALE);
		return 1;
	}
	if (fh->gen == c->gen && !fh->reopening)
		return 0;
	op->next = fh->reopen_waiters;
	fh->reopen_waiters = op;
	if (fh->reopening)
		return 1;
	path = itable_path(c->it, fh->ino);
	if (!path) {
		fh->reopen_waiters = op->next;
		op_give_up(op, ESTALE);
		return 1;
	}
	mark = W(op)->len;
	if (fh->is_dir)
		rc = sftp_enc_opendir(W(op), ID(op), path, strlen(path));
	else
		rc = sftp_enc_open(W(op), ID(op), path, strlen(path),
				   open_flags(fh->flags &
					      ~(O_TRUNC | O_EXCL | O_CREAT)),
				   NULL);
	free(path);
	if (rc || sftp_core_track(c->core, mark, reopen_done, fh)) {
		W(op)->len = mark;
		W(op)->err = 0;
		fh->reopen_waiters = op->next;
		op_give_up(op, EIO);
		return 1;
	}
	fh->reopening = 1;
	return 1;
}

/* Before op's requests go out: answer a lookup or getattr from a kept
 * listing (1: answered), or mark the names op changes unknown there. */
static int dc_start(struct conn *c, struct op *op)
{
	struct sftp_attrs a;
	char *p;
	int r;

	switch (op->kind) {
	case OP_LOOKUP:
	case OP_GETATTR:
		if (op->kind == OP_GETATTR && !op->fh && getattr_behind(op))
			return 1;
		/* a file being written: the server's size lags the kernel's,
		 * and only the server (after our writes, in order) says */
		if (op->fh || itable_changed_since(c->it, op->path, UINT64_MAX))
			return 0;
		if (!(r = dc_lookup(c->dc, op->path, &a) + 1)) {
			/* (the root's parent is not ours to list) */
			int root = c->home && !strcmp(op->path, c->home);
			char *dir;

			/* its directory's listing is on its way (a lookup of
			 * the directory began it): it answers sooner than an
			 * LSTAT sent now, and the names after this one too */
			if (op->kind == OP_LOOKUP && !root &&
			    (p = strrchr(op->path, '/')) && p != op->path) {
				*p = '\0';
				r = da_bg_wait(op, op->path);
				*p = '/';
				if (r)
					return 1;
			}
			dir = root ? NULL : dc_miss(c->dc, op->path);
			if (dir) {
				/* a program going through the names of a
				 * directory (git status, make, find -newer)
				 * goes through its siblings' next */
				da_walk_ahead(c, dir);
				da_background(c, dir);
			}
			return 0;
		}
		if (r == 2 && c->o->follow_symlinks &&
		    (a.flags & SSH_FILEXFER_ATTR_PERMISSIONS) &&
		    S_ISLNK(a.perm))
			return 0; /* the target's attributes are wanted */
		if (r == 2 && attrs_ids_ok(c, &a))
			return 0; /* the server's answer gives the error */
		if (op->kind == OP_GETATTR) {
			struct stat st;

			if (r != 2)
				return 0;
			attrs_to_stat(c, &a, &st, op->ino);
			op_reply_attr(op, &st, op_attr_timeout(op));
		} else {
			struct fuse_entry_param e;

			memset(&e, 0, sizeof(e));
			e.entry_timeout = op_attr_timeout(op);
			if (r == 2) {
				e.ino = itable_ref(c->it, op->path);
				if (!e.ino)
					return 0;
				attrs_to_stat(c, &a, &e.attr, e.ino);
				e.attr_timeout = op_attr_timeout(op);
			}
			op_reply_entry(op, &e);
		}
		op_free(op);
		return 1;
	case OP_UNLINK:
		ub_owner(op); /* (what the listing says of it, before) */
		dc_unknown(c->dc, op->path);
		return 0;
	case OP_RMDIR:
		ub_owner(op);
		dc_unknown(c->dc, op->path);
		return 0;
	case OP_MKNOD:
	case OP_MKDIR:
	case OP_SYMLINK:
	case OP_CREATE:
		dc_unknown(c->dc, op->path);
		return 0;
	case OP_RENAME:
		dc_unknown(c->dc, op->path);
		dc_unknown(c->dc, op->path2);
		return 0;
	case OP_LINK:
		dc_unknown(c->dc, op->path2);
		dc_linked(c->dc, op->path);
		dc_linked(c->dc, op->path2);
		return 0;
	case OP_OPEN:
		if (op->fi.flags & O_TRUNC)
			dc_unknown(c->dc, op->path);
		return 0;
	case OP_SETATTR:
	case OP_WRITE:
		p = op->path ? op->path
			     : itable_path(c->it, op->fh ? op->fh->ino : op->ino);
		if (!p) {
			dc_drop_tree(c->dc, "/"); /* cannot tell */
			return 0;
		}
		if (op->kind == OP_SETATTR && op->stage == 0) {
			/* one time is set: the other one, which SFTP v3 must
			 * be given too, may come from the kept listing (an
			 * atime survives our writes) */
			int sa = !!(op->to_set & (FUSE_SET_ATTR_ATIME |
						  FUSE_SET_ATTR_ATIME_NOW));
			int sm = !!(op->to_set & (FUSE_SET_ATTR_MTIME |
						  FUSE_SET_ATTR_MTIME_NOW));
			uint32_t at;

			if (sm && !sa && dc_atime(c->dc, p, &at)) {
				op->attr.st_atime = at;
				op->stage = 11;
			} else if (sa && !sm && dc_lookup(c->dc, p, &a) == 1 &&
				   (a.flags & SSH_FILEXFER_ATTR_ACMODTIME)) {
				op->attr.st_mtime = a.mtime;
				op->stage = 11;
			}
		}
		dc_changed(c->dc, p, op->kind == OP_WRITE);
		if (p != op->path)
			free(p);
		return 0;
	default:
		return 0;
	}
}

/* (ops of every connection: a write may wait on a secondary's read) */
static uint64_t op_seq_next;

void op_start(struct conn *c, struct op *op)
{
	struct fh *fh = op->fh;
	int rc = 0;

	op->c = c;
	op->parked = 0;
	if (!op->seq)
		op->seq = __atomic_add_fetch(&op_seq_next, 1, __ATOMIC_RELAXED);
	active_link(op);
	if (c->hold && c->hold != op) { /* after a write that waits: later */
		op->next = NULL;
		*c->held_tail = op;
		c->held_tail = &op->next;
		return;
	}
	if (op->wq) /* until it is sent (start_write) */
		c->hold = op;
	if (op->kind == OP_RELEASEDIR && fh)
		open_unlink(fh);
	if (op->kind == OP_RELEASE && fh) { /* no set-behind through it now */
		itable_clear_bfh(c->it, fh->ino, fh);
		open_unlink(fh);
		if (fh->big) { /* (route_open) */
			fh->big = 0;
			__atomic_sub_fetch(&c->nbig, 1, __ATOMIC_RELAXED);
		}
	}
	if (fh && fh->snap && op->kind == OP_READDIR && op->off == 0 &&
	    fh->doff > 0)
		da_snap_rewind(fh); /* rewinddir: the directory as it is now */
	if (fh && fh->snap) { /* a directory listed from the kept listing */
		da_snap_op(op);
		return;
	}
	if (fh && fh->pf && !pf_stale(c, fh)) { /* fetched ahead */
		pf_fh_op(op);
		return;
	}
	if (op->kind == OP_FLUSH && fh && c->dead) {
		/* A flush (every close(2), also of a descriptor inherited by
		 * a child that exits) asks the server nothing: it waits for
		 * the handle's writes, which wait for the link or time out
		 * on their own.  Parked, it held each exiting process of a
		 * shell holding a descriptor on the mount for op_timeout. */
		if (!fh->is_dir && op_wait_writes(op))
			return;
		rc = fh->wb_err;
		fh->wb_err = 0;
		reply_err(op, rc);
		return;
	}
	if (c->dead) {
		if (c->o->reconnect)
			conn_park(c, op);
		else
			op_give_up(op, ENOTCONN);
		return;
	}
	if (fh && !fh->is_dir && (op->kind == OP_RELEASE || op->kind == OP_FLUSH ||
				  op->kind == OP_FSYNC || op->kind == OP_LSEEK) &&
	    op_wait_writes(op))
		return;
	if (c->primary && fh && op->kind == OP_READ &&
	    itable_writing(c->it, fh->ino)) {
		/* a secondary: the primary's writes of the file, answered
		 * to their writer, may still be on their way; this read
		 * must not reach the server before them (conn.c rwait).
		 * New writes of it wait meanwhile (start_write), so a file
		 * written without pause cannot hold the read back. */
		if (!op->gated) {
			op->gated = 1;
			itable_gate(c->it, fh->ino, 1);
		}
		op_active_unlink(op);
		op->next = c->rwait;
		c->rwait = op;
		return;
	}
	if (op->gated) {
		op->gated = 0;
		itable_gate(c->it, fh->ino, -1);
	}
	if (st_barrier(c, op))
		return; /* started again once striped writes before it land */
	if (fh && fh->gen != c->gen && !fh->reopening &&
	    (op->kind == OP_RELEASE || op->kind == OP_RELEASEDIR)) {
		/* its handle died with the old connection: nothing to close */
		fh_forget(c, fh);
		reply_err(op, 0);
		return;
	}
	if (!fh && op->kind == OP_GETATTR && open_writing(c, op->ino)) {
		/* writes of it not acknowledged yet (after a reconnect they
		 * wait for the reopen): unless set-behind knows the answer,
		 * it is asked through that handle, after them, so the
		 * server's size is never one from before writes the kernel
		 * made */
		if (getattr_behind(op))
			return;
		op->fh = fh = open_writing(c, op->ino);
	}
	if (fh && op->kind != OP_FLUSH && fh_ready(c, op))
		return;
	switch (op->kind) {
	case OP_LOOKUP:
	case OP_MKNOD:
	case OP_MKDIR:
	case OP_UNLINK:
	case OP_RMDIR:
	case OP_SYMLINK:
	case OP_RENAME:
	case OP_LINK:
	case OP_CREATE:
	case OP_OPEN:
	case OP_OPENDIR:
	case OP_READLINK:
	case OP_STATFS:
	case OP_FSYNCDIR:
		rc = resolve(op);
		break;
	case OP_GETATTR:
	case OP_SETATTR:
		if (!fh)
			rc = resolve(op);
		if (rc == -ESTALE && op->kind == OP_GETATTR &&
		    (fh = open_find(c, op->ino))) {
			/* no name any more (unlinked): still open, its
			 * handle says */
			rc = 0;
			op->fh = fh;
			if (fh->pf) {
				pf_fh_op(op);
				return;
			}
		}
		break;
	default:
		break;
	}
	if (rc || (rc = -ub_check(op)))
		goto fail; /* (an unlink-behind's failure there, ubehind.c) */
	if (c->dc && dc_start(c, op))
		return;
	op->since = chg_now(); /* after the changes dc_start stamped */
	switch (op->kind) {
	case OP_LOOKUP:
		rc = c->o->follow_symlinks ? stat_path(op) : lstat_path(op);
		if (!rc)
			da_speculate(c, op->path);
		break;
	case OP_GETATTR:
		if (fh)
			getattr_early(op);
		rc = fh ? SEND(op, sftp_enc_fstat(W(op), ID(op), fh->h,
						  fh->hlen))
		     : c->o->follow_symlinks ? stat_path(op)
					     : lstat_path(op);
		break;
	case OP_SETATTR:
		if (op->to_set & (FUSE_SET_ATTR_UID | FUSE_SET_ATTR_GID)) {
			uint32_t u = op->to_set & FUSE_SET_ATTR_UID
					     ? op->attr.st_uid
					     : (uint32_t)-1;
			uint32_t g = op->to_set & FUSE_SET_ATTR_GID
					     ? op->attr.st_gid
					     : (uint32_t)-1;

			if ((rc = idmap_out(c, &u, &g)))
				break; /* no id on the server (nomap=error) */
		}
		setattr_behind(op);
		fh = op->fh;
		if (!op->behind) {
			/* anything a handle knew of the attributes is old */
			itable_stamp(c->it, fh ? fh->ino : op->ino, 0, NULL);
			if (fh)
				fh->battr_ok = 0;
		}
		rc = start_setattr(op);
		break;
	case OP_READLINK:
		rc = SEND(op, sftp_enc_readlink(W(op), ID(op), op->path,
						strlen(op->path)));
		break;
	case OP_MKNOD: {
		struct sftp_attrs a = { .flags = SSH_FILEXFER_ATTR_PERMISSIONS,
					.perm = op->mode & 07777 };

		if (!S_ISREG(op->mode)) {
			rc = -EPERM;
			break;
		}
		rc = SEND(op, sftp_enc_open(W(op), ID(op), op->path,
					    strlen(op->path),
					    SSH_FXF_WRITE | SSH_FXF_CREAT |
						    SSH_FXF_EXCL,
					    &a));
		/* the CLOSE goes out when the HANDLE arrives; the LSTAT
		 * queued now is answered after the OPEN */
		if (!rc)
			rc = lstat_path(op);
		break;
	}
	case OP_MKDIR: {
		struct sftp_attrs a = { .flags = SSH_FILEXFER_ATTR_PERMISSIONS,
					.perm = op->mode & 07777 };

		rc = SEND(op, sftp_enc_mkdir(W(op), ID(op), op->path,
					     strlen(op->path), &a));
		if (!rc)
			rc = lstat_path(op);
		break;
	}
	case OP_UNLINK:
		if (st_closing(c, op)) /* (stripe.c) */
			return;
		rc = SEND(op, sftp_enc_remove(W(op), ID(op), op->path,
					      strlen(op->path)));
		if (!rc)
			ub_try(op); /* maybe answered now (ubehind.c) */
		break;
	case OP_RMDIR:
		rc = SEND(op, sftp_enc_rmdir(W(op), ID(op), op->path,
					     strlen(op->path)));
		if (!rc)
			ub_try(op); /* an emptied directory: maybe now */
		break;
	case OP_SYMLINK:
		/* OpenSSH's server reads SYMLINK as (target, linkpath), the
		 * reverse of filexfer-02 (OpenSSH PROTOCOL 3.1); a server
		 * known to follow the draft gets its order */
		rc = c->core->symlink_draft
			     ? SEND(op, sftp_enc_symlink(W(op), ID(op), op->path,
						       strlen(op->path),
						       op->name2,
						       strlen(op->name2)))
			     : SEND(op, sftp_enc_symlink(W(op), ID(op), op->name2,
						       strlen(op->name2),
						       op->path,
						       strlen(op->path)));
		if (!rc)
			rc = lstat_path(op);
		break;
	case OP_RENAME:
		if (op->flags & RENAME_EXCHANGE) {
			rc = -EINVAL;
			break;
		}
		/* an overwriting rename is posix-rename; RENAME_NOREPLACE
		 * is the plain v3 RENAME, which never replaces */
		if (!(op->flags & RENAME_NOREPLACE) &&
		    (c->core->ext & SFTP_HAS_POSIX_RENAME))
			rc = SEND(op, sftp_enc_posix_rename(
					      W(op), ID(op), op->path,
					      strlen(op->path), op->path2,
					      strlen(op->path2)));
		else
			rc = SEND(op, sftp_enc_rename(W(op), ID(op), op->path,
						      strlen(op->path),
						      op->path2,
						      strlen(op->path2)));
		break;
	case OP_LINK:
		/* (sshfs's disable_hardlink says ENOSYS, which the kernel
		 * passes on as EPERM) */
		if (c->o->no_hardlink || !(c->core->ext & SFTP_HAS_HARDLINK)) {
			rc = -EPERM;
			break;
		}
		/* path: the existing file (ino), path2: the new name */
		rc = SEND(op, sftp_enc_hardlink(W(op), ID(op), op->path,
						strlen(op->path), op->path2,
						strlen(op->path2)));
		if (!rc) {
			free(op->path);
			op->path = op->path2;
			op->path2 = NULL;
			rc = lstat_path(op);
		}
		break;
	case OP_OPEN:
		if ((op->fi.flags & O_ACCMODE) == O_RDONLY &&
		    !(op->fi.flags & O_TRUNC) && !c->primary) {
			if (pf_open(op))
				return;
			pf_opened(c, op->path);
			if (route_open(c, op))
				return; /* to a secondary connection */
		}
		rc = SEND(op, sftp_enc_open(W(op), ID(op), op->path,
					    strlen(op->path),
					    open_flags(op->fi.flags), NULL));
		break;
	case OP_CREATE: {
		struct sftp_attrs a = { .flags = SSH_FILEXFER_ATTR_PERMISSIONS,
					.perm = op->mode & 07777 };

		rc = SEND(op, sftp_enc_open(W(op), ID(op), op->path,
					    strlen(op->path),
					    open_flags(op->fi.flags | O_CREAT),
					    &a));
		if (!rc)
			rc = lstat_path(op);
		break;
	}
	case OP_OPENDIR:
		if (da_snapshot_open(op) || da_bg_wait(op, op->path))
			return;
		rc = SEND(op, sftp_enc_opendir(W(op), ID(op), op->path,
					       strlen(op->path)));
		if (!rc) /* (after ours: they wait behind it) */
			da_walk_ahead(c, op->path);
		break;
	case OP_READ:
		ra_read(c, op);
		return;
	case OP_WRITE:
		rc = op_start_write(op);
		if (rc > 0)
			return;
		break;
	case OP_COPY:
		if (op->fh2 && op->fh2->c != c) {
			/* two connections (max_conns): the server copies
			 * between handles of one session only; the kernel
			 * copies itself */
			reply_err(op, EOPNOTSUPP);
			return;
		}
		rc = start_copy(op);
		if (rc > 0)
			return;
		break;
	case OP_FLUSH:
		rc = fh->wb_err;
		fh->wb_err = 0;
		reply_err(op, rc);
		return;
	case OP_FSYNCDIR:
		/* the removals there answered early are done on the server,
		 * and the first that failed says so (ubehind.c) */
		if (ub_sync(op))
			return;
		reply_err(op, ub_sync_err(op));
		return;
	case OP_LSEEK:
		/* SEEK_DATA / SEEK_HOLE: SFTP v3 knows no holes, so the
		 * file is data up to its size, which the server says (after
		 * this handle's writes, waited for above) */
		rc = SEND(op, sftp_enc_fstat(W(op), ID(op), fh->h, fh->hlen));
		break;
	case OP_FSYNC:
		if (fh->wb_err) {
			rc = -fh->wb_err;
			fh->wb_err = 0;
			break;
		}
		if (!(c->core->ext & SFTP_HAS_FSYNC)) {
			reply_err(op, 0);
			return;
		}
		rc = SEND(op, sftp_enc_fsync(W(op), ID(op), fh->h, fh->hlen));
		break;
	case OP_RELEASE:
	case OP_RELEASEDIR:
		pf_release(c, fh);
		st_release(c, fh);
		ra_release(fh);
		da_reset(fh);
		free(fh->dpath);
		fh->dpath = NULL;
		rc = SEND(op, sftp_enc_close(W(op), ID(op), fh->h, fh->hlen));
		break;
	case OP_READDIR:
		if (op->off > fh->doff) {
			/* seekdir forward: skip that many names */
			fh->dskip += op->off - fh->doff;
			fh->doff = op->off;
		} else if (op->off < fh->doff) {
			/* rewinddir/seekdir back: SFTP lists only forward, so
			 * list again from a fresh handle, skipping op->off */
			size_t mark = W(op)->len;

			if (!sftp_enc_close(W(op), ID(op), fh->h, fh->hlen) &&
			    sftp_core_track(c->core, mark, op_forget_reply, NULL)) {
				W(op)->len = mark;
				W(op)->err = 0;
			}
			fh->gen = 0; /* fh_ready reopens it */
			fh->doff = op->off;
			if (fh_ready(c, op))
				return;
		}
		da_readdir(op);
		return;
	case OP_STATFS:
		if (!(c->core->ext & SFTP_HAS_STATVFS)) {
			struct statvfs sv = { .f_bsize = 4096,
					      .f_namemax = 255 };

			op_reply_statfs(op, &sv);
			op_free(op);
			return;
		}
		rc = SEND(op, sftp_enc_statvfs(W(op), ID(op), op->path,
					       strlen(op->path)));
		break;
	}
	if (!rc)
		return;
fail:
	if (op->pending == 0)
		reply_err(op, -rc);
	else if (!op->err)
		op->err = -rc; /* answered when the sent ones return */
}
