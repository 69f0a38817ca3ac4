/*
 * refine.c - what a FAILURE from the server means, and the errno of a
 * reply for the operation it answers.
 *
 * OpenSSH's sftp-server answers FAILURE for every errno SFTP v3 has no
 * code for: a full disk, a read-only file system, no inodes left.  When
 * an operation that changes the file system fails so, a STATVFS of
 * where it happened (its handle, or the directory of its name) goes out
 * before the reply is acted on, and says which: EROFS, ENOSPC, or
 * errmap's guess.  It costs a round trip, only on calls that fail.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>

#include "sftpmnt.h"

static int changes_fs(const struct op *op)
{
	switch (op->kind) {
	case OP_WRITE:
	case OP_CREATE:
	case OP_MKDIR:
	case OP_MKNOD:
	case OP_SYMLINK:
	case OP_LINK:
	case OP_RENAME:
	case OP_UNLINK:
	case OP_RMDIR:
	case OP_SETATTR:
	case OP_COPY:
		return 1;
	case OP_OPEN:
		return (op->fi.flags & O_ACCMODE) != O_RDONLY ||
		       (op->fi.flags & O_TRUNC);
	default:
		return 0;
	}
}

/* Space the operation needed, for "is the disk full" (ENOSPC). */
static uint64_t space_needed(const struct op *op)
{
	switch (op->kind) {
	case OP_WRITE:
	case OP_COPY:
		return op->size;
	case OP_SETATTR:
		return op->to_set & FUSE_SET_ATTR_SIZE ? 1 : 0;
	case OP_CREATE:
	case OP_MKDIR:
	case OP_MKNOD:
	case OP_SYMLINK:
	case OP_LINK:
	case OP_RENAME: /* (a new directory entry may need a block) */
		return 1;
	default:
		return 0;
	}
}

static int makes_inode(const struct op *op)
{
	return op->kind == OP_CREATE || op->kind == OP_MKDIR ||
	       op->kind == OP_MKNOD || op->kind == OP_SYMLINK;
}

/* Keep a reply of op until the STATVFS is answered; -1: out of memory. */
int refine_hold(struct op *op, int err, const uint8_t *body, size_t n)
{
	struct held *h = malloc(sizeof(*h) + n), **pp;

	if (!h)
		return -1;
	h->next = NULL;
	h->err = err;
	h->n = n;
	if (n)
		memcpy(h->body, body, n);
	for (pp = &op->held; *pp; pp = &(*pp)->next)
		;
	*pp = h;
	return 0;
}

static void refine_done(void *arg, int err, const uint8_t *body, size_t n)
{
	struct op *op = arg;
	struct held *h = op->held, *nx;
	struct sftp_statvfs sv;

	op->held = NULL;
	if (!err && n > 0 && body[0] == SSH_FXP_EXTENDED_REPLY &&
	    !(sv = sftp_dec_statvfs(body, n)).rc) {
		uint64_t need = space_needed(op);
		uint64_t bs = sv.frsize ? sv.frsize : sv.bsize;

		if (sv.flag & SSH_FXE_STATVFS_ST_RDONLY)
			op->fail_errno = EROFS;
		else if (need && (sv.bavail == 0 || sv.bavail < need / bs + 1))
			op->fail_errno = ENOSPC;
		else if (makes_inode(op) && sv.files && sv.favail == 0)
			op->fail_errno = ENOSPC;
	}
	/* the FAILURE, then what came after it, as they came (the last
	 * one may free op) */
	for (; h; h = nx) {
		nx = h->next;
		op_reply_in(op, h->err, h->body, h->n);
		free(h);
	}
}

/* 1: the reply is held until a STATVFS says what it means. */
int refine_failure(struct op *op, const uint8_t *body, size_t n)
{
	struct conn *c = op->c;
	struct wbuf *w = sftp_core_out(c->core);
	struct fh *fh = op->fh;
	struct sftp_status st;
	size_t mark;
	char *dir = NULL;
	int rc;

	if (op->refined || !changes_fs(op) || n < 1 ||
	    body[0] != SSH_FXP_STATUS || !(c->core->ext & SFTP_HAS_STATVFS))
		return 0;
	st = sftp_dec_status(body, n);
	if (st.rc || st.code != SSH_FX_FAILURE)
		return 0;
	op->refined = 1;
	if (refine_hold(op, 0, body, n))
		return 0;
	mark = w->len;
	if (fh && fh->hlen && fh->gen == c->gen && !fh->is_dir &&
	    (c->core->ext & SFTP_HAS_FSTATVFS)) {
		rc = sftp_enc_fstatvfs(w, sftp_core_id(c->core), fh->h,
				       fh->hlen);
	} else {
		const char *p = op->path;
		const char *sl;

		if (!p && fh)
			p = dir = itable_path(c->it, fh->ino);
		/* (a name being made does not exist: its directory) */
		if (p && op->kind != OP_SETATTR && (sl = strrchr(p, '/'))) {
			char *d = strndup(p, sl == p ? 1 : (size_t)(sl - p));

			free(dir);
			p = dir = d;
		}
		rc = p ? sftp_enc_statvfs(w, sftp_core_id(c->core), p,
					  strlen(p))
		       : -1;
	}
	free(dir);
	if (rc || sftp_core_track(c->core, mark, refine_done, op)) {
		w->len = mark;
		w->err = 0;
		free(op->held);
		op->held = NULL;
		return 0;
	}
	op->pending++; /* (reply_in counts this reply again) */
	return 1;
}

/* SFTP v3 has one code for EACCES and EPERM (OpenSSH's sftp-server
 * answers PERMISSION_DENIED for both).  What only a file's owner may do
 * -- chmod, chown, setting times to given values -- is EPERM (POSIX
 * chmod(2), chown(2), utimensat(2)); a truncate without write permission
 * (sftp-server tries it first) and times set to now stay EACCES. */
static int setattr_eperm(const struct op *op)
{
	const int owner =
		FUSE_SET_ATTR_MODE | FUSE_SET_ATTR_UID | FUSE_SET_ATTR_GID;
	int t = op->to_set;

	/* (stages 0 and 11 wait for the SETSTAT's STATUS, others for a
	 * STAT, which a path's search permission may refuse: EACCES) */
	if (op->kind != OP_SETATTR || (op->stage != 0 && op->stage != 11) ||
	    (t & FUSE_SET_ATTR_SIZE))
		return 0;
	return (t & owner) ||
	       ((t & FUSE_SET_ATTR_ATIME) && !(t & FUSE_SET_ATTR_ATIME_NOW)) ||
	       ((t & FUSE_SET_ATTR_MTIME) && !(t & FUSE_SET_ATTR_MTIME_NOW));
}

/* errmap, with what refine_failure learnt of a FAILURE. */
int op_errmap(const struct op *op, const uint8_t *body, size_t n)
{
	int e = errmap_reply(body, n, op->kind);

	if (e == EACCES && setattr_eperm(op))
		return EPERM;
	if (op->fail_errno && body[0] == SSH_FXP_STATUS) {
		struct sftp_status st = sftp_dec_status(body, n);

		if (!st.rc && st.code == SSH_FX_FAILURE)
			return op->fail_errno;
	}
	return e;
}
