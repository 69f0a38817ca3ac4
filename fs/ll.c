/*
 * ll.c - the FUSE low-level handlers: each copies its arguments into an
 * op and queues it to the connection's I/O thread (ops.c does the rest).
 * Nothing here waits for the network.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "sftpmnt.h"

static struct conn *conn_of(fuse_req_t req)
{
	return fuse_req_userdata(req);
}

static struct op *op_new(fuse_req_t req, enum op_kind kind, fuse_ino_t ino)
{
	struct op *op = calloc(1, sizeof(*op));

	if (!op) {
		fuse_reply_err(req, ENOMEM);
		return NULL;
	}
	op->req = req;
	op->kind = kind;
	op->ino = ino;
	return op;
}

static int set_name(struct op *op, char **dst, const char *name)
{
	/* a directory entry name (not a symlink target, which comes in
	 * name2 of symlink and may be long) */
	if (dst == &op->name && strlen(name) > NAME_MAX) {
		fuse_reply_err(op->req, ENAMETOOLONG);
		op_free(op);
		return -1;
	}
	if (op->kind == OP_RENAME && dst == &op->name2 &&
	    strlen(name) > NAME_MAX) {
		fuse_reply_err(op->req, ENAMETOOLONG);
		op_free(op);
		return -1;
	}
	*dst = strdup(name);
	if (!*dst) {
		fuse_reply_err(op->req, ENOMEM);
		op_free(op);
		return -1;
	}
	return 0;
}

/* An op on a handle goes to the connection the handle is on (a large
 * file read over a secondary connection, max_conns); the rest to the
 * primary. */
static void submit(struct op *op)
{
	struct conn *c = op->fh && op->fh->c ? op->fh->c : conn_of(op->req);

	conn_submit(c, op);
}

static void ll_init(void *userdata, struct fuse_conn_info *conn)
{
	(void)userdata;
	/* readdirplus: one READDIR reply answers the listing and the stats
	 * of every entry (ls -l costs one round trip per reply) */
	if (conn->capable & FUSE_CAP_READDIRPLUS)
		conn->want |= FUSE_CAP_READDIRPLUS;
	if (conn->capable & FUSE_CAP_ASYNC_READ)
		conn->want |= FUSE_CAP_ASYNC_READ;
	conn->want &= ~FUSE_CAP_READDIRPLUS_AUTO;
	/* the server's chown(2), write(2) and truncate(2) clear set-user-ID
	 * and set-group-ID bits as POSIX says, so the kernel need not ask
	 * for fresh attributes before every chown to do it itself (that
	 * GETATTR was one round trip per chown).  (libfuse 3.14 does not
	 * pass this on to the kernel: the GETATTR still comes, and
	 * set-behind answers it for files it knows, ops.c.) */
	if (conn->capable & FUSE_CAP_HANDLE_KILLPRIV)
		conn->want |= FUSE_CAP_HANDLE_KILLPRIV;
	/* file handles (name_to_handle_at, open_by_handle_at, NFS export)
	 * stay good after the kernel forgot the inode: it then looks up
	 * "." and ".." by inode number, which resolve() answers (inode
	 * numbers are never reused, so generation 0 is enough) */
	if (conn->capable & FUSE_CAP_EXPORT_SUPPORT)
		conn->want |= FUSE_CAP_EXPORT_SUPPORT;
	conn->max_readahead = 1024 * 1024;
}

static void ll_lookup(fuse_req_t req, fuse_ino_t parent, const char *name)
{
	struct op *op = op_new(req, OP_LOOKUP, parent);

	if (op && !set_name(op, &op->name, name))
		submit(op);
}

static void ll_forget(fuse_req_t req, fuse_ino_t ino, uint64_t nlookup)
{
	itable_forget(conn_of(req)->it, ino, nlookup);
	fuse_reply_none(req);
}

static void ll_forget_multi(fuse_req_t req, size_t count,
			    struct fuse_forget_data *forgets)
{
	size_t i;

	for (i = 0; i < count; i++)
		itable_forget(conn_of(req)->it, forgets[i].ino,
			      forgets[i].nlookup);
	fuse_reply_none(req);
}

static struct fh *fh_of(struct fuse_file_info *fi)
{
	return fi ? (struct fh *)(uintptr_t)fi->fh : NULL;
}

/* access(2) without default_permissions (with it the kernel checks
 * itself): a getattr whose answer is checked against the caller's ids
 * (op_reply_attr). */
static void ll_access(fuse_req_t req, fuse_ino_t ino, int mask)
{
	struct op *op = op_new(req, OP_GETATTR, ino);

	if (!op)
		return;
	op->access = mask + 1;
	submit(op);
}

static void ll_getattr(fuse_req_t req, fuse_ino_t ino,
		       struct fuse_file_info *fi)
{
	struct op *op = op_new(req, OP_GETATTR, ino);

	if (!op)
		return;
	/* an open file is asked through its handle: an fd whose name was
	 * renamed over still describes its own file */
	op->fh = fh_of(fi);
	/* (a directory is asked by its path: a kept listing may answer) */
	if (op->fh && op->fh->is_dir)
		op->fh = NULL;
	submit(op);
}

static void ll_setattr(fuse_req_t req, fuse_ino_t ino, struct stat *attr,
		       int to_set, struct fuse_file_info *fi)
{
	struct op *op = op_new(req, OP_SETATTR, ino);

	if (!op)
		return;
	op->attr = *attr;
	op->to_set = to_set;
	op->fh = fh_of(fi);
	submit(op);
}

static void ll_readlink(fuse_req_t req, fuse_ino_t ino)
{
	struct op *op = op_new(req, OP_READLINK, ino);

	if (op)
		submit(op);
}

static void ll_mknod(fuse_req_t req, fuse_ino_t parent, const char *name,
		     mode_t mode, dev_t rdev)
{
	struct op *op = op_new(req, OP_MKNOD, parent);

	(void)rdev;
	if (!op || set_name(op, &op->name, name))
		return;
	op->mode = mode;
	submit(op);
}

static void ll_mkdir(fuse_req_t req, fuse_ino_t parent, const char *name,
		     mode_t mode)
{
	struct op *op = op_new(req, OP_MKDIR, parent);

	if (!op || set_name(op, &op->name, name))
		return;
	op->mode = mode;
	submit(op);
}

static void ll_unlink(fuse_req_t req, fuse_ino_t parent, const char *name)
{
	struct op *op = op_new(req, OP_UNLINK, parent);

	if (op && !set_name(op, &op->name, name))
		submit(op);
}

static void ll_rmdir(fuse_req_t req, fuse_ino_t parent, const char *name)
{
	struct op *op = op_new(req, OP_RMDIR, parent);

	if (op && !set_name(op, &op->name, name))
		submit(op);
}

static void ll_symlink(fuse_req_t req, const char *link, fuse_ino_t parent,
		       const char *name)
{
	struct op *op = op_new(req, OP_SYMLINK, parent);

	/* name2 holds the target, stored verbatim (symlink(2)) */
	if (!op || set_name(op, &op->name, name) ||
	    set_name(op, &op->name2, link))
		return;
	submit(op);
}

static void ll_rename(fuse_req_t req, fuse_ino_t parent, const char *name,
		      fuse_ino_t newparent, const char *newname,
		      unsigned int flags)
{
	struct op *op = op_new(req, OP_RENAME, parent);

	if (!op || set_name(op, &op->name, name) ||
	    set_name(op, &op->name2, newname))
		return;
	op->ino2 = newparent;
	op->flags = (int)flags;
	submit(op);
}

static void ll_link(fuse_req_t req, fuse_ino_t ino, fuse_ino_t newparent,
		    const char *newname)
{
	struct op *op = op_new(req, OP_LINK, ino);

	if (!op || set_name(op, &op->name2, newname))
		return;
	op->ino2 = newparent;
	submit(op);
}

static void ll_open(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	struct op *op = op_new(req, OP_OPEN, ino);

	if (!op)
		return;
	op->fi = *fi;
	submit(op);
}

static void ll_create(fuse_req_t req, fuse_ino_t parent, const char *name,
		      mode_t mode, struct fuse_file_info *fi)
{
	struct op *op = op_new(req, OP_CREATE, parent);

	if (!op || set_name(op, &op->name, name))
		return;
	op->mode = mode;
	op->fi = *fi;
	submit(op);
}

static void ll_read(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
		    struct fuse_file_info *fi)
{
	struct op *op = op_new(req, OP_READ, ino);

	if (!op)
		return;
	op->fh = fh_of(fi);
	op->size = size;
	op->off = off;
	submit(op);
}

/*
 * Write-behind answered here, as soon as the data is copied: the I/O
 * thread encodes, seals and sends it while the kernel already passes the
 * next write, so the writer does not wait for the encryption (the two
 * threads work at once).  Within ops.c's write-behind caps (counted here
 * until the op is freed); not after a write of the handle failed (that
 * error comes first).  A failure after this answer is latched on the
 * handle and returned by the next write, flush, fsync or close, as for
 * every write-behind.
 */
static int write_early(struct conn *c, struct op *op)
{
	struct fh *fh = op->fh;
	uint64_t n = op->size;

	if (!n || __atomic_load_n(&fh->wb_err, __ATOMIC_RELAXED))
		return 0;
	if (__atomic_add_fetch(&fh->wq_bytes, n, __ATOMIC_RELAXED) >
	    WB_HANDLE_MAX(c)) {
		__atomic_sub_fetch(&fh->wq_bytes, n, __ATOMIC_RELAXED);
		return 0;
	}
	if (__atomic_add_fetch(&c->wq_total, n, __ATOMIC_RELAXED) >
	    WB_MOUNT_MAX(c)) {
		__atomic_sub_fetch(&c->wq_total, n, __ATOMIC_RELAXED);
		__atomic_sub_fetch(&fh->wq_bytes, n, __ATOMIC_RELAXED);
		return 0;
	}
	op->wq = c;
	op->stage = 1; /* answered: what start_write does for write-behind */
	op_reply_write(op, op->size);
	return 1;
}

static void ll_write(fuse_req_t req, fuse_ino_t ino, const char *buf,
		     size_t size, off_t off, struct fuse_file_info *fi)
{
	struct op *op = op_new(req, OP_WRITE, ino);

	if (!op)
		return;
	op->buf = malloc(size ? size : 1);
	if (!op->buf) {
		fuse_reply_err(req, ENOMEM);
		op_free(op);
		return;
	}
	memcpy(op->buf, buf, size);
	op->fh = fh_of(fi);
	op->size = size;
	op->off = off;
	write_early(op->fh->c ? op->fh->c : conn_of(req), op);
	submit(op);
}

/* copy_file_range(2) within the mount: the server copies
 * (copy-data), no byte crosses the network. */
static void ll_copy_file_range(fuse_req_t req, fuse_ino_t ino_in, off_t off_in,
			       struct fuse_file_info *fi_in, fuse_ino_t ino_out,
			       off_t off_out, struct fuse_file_info *fi_out,
			       size_t len, int flags)
{
	struct op *op;

	(void)ino_in;
	if (flags) {
		fuse_reply_err(req, EINVAL);
		return;
	}
	op = op_new(req, OP_COPY, ino_out);
	if (!op)
		return;
	op->fh = fh_of(fi_in);
	op->fh2 = fh_of(fi_out);
	op->off = off_in;
	op->off2 = off_out;
	op->size = len;
	submit(op);
}

static void ll_flush(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	struct op *op = op_new(req, OP_FLUSH, ino);

	if (!op)
		return;
	op->fh = fh_of(fi);
	submit(op);
}

static void ll_release(fuse_req_t req, fuse_ino_t ino,
		       struct fuse_file_info *fi)
{
	struct op *op = op_new(req, OP_RELEASE, ino);

	if (!op)
		return;
	op->fh = fh_of(fi);
	submit(op);
}

static void ll_fsync(fuse_req_t req, fuse_ino_t ino, int datasync,
		     struct fuse_file_info *fi)
{
	struct op *op = op_new(req, OP_FSYNC, ino);

	(void)datasync;
	if (!op)
		return;
	op->fh = fh_of(fi);
	submit(op);
}

/* lseek(2) with SEEK_DATA or SEEK_HOLE (the kernel answers the others
 * itself): the size the server has, after this handle's writes. */
static void ll_lseek(fuse_req_t req, fuse_ino_t ino, off_t off, int whence,
		     struct fuse_file_info *fi)
{
	struct op *op;

	if (whence != SEEK_DATA && whence != SEEK_HOLE) {
		fuse_reply_err(req, EINVAL);
		return;
	}
	if (!(op = op_new(req, OP_LSEEK, ino)))
		return;
	op->fh = fh_of(fi);
	op->off = off;
	op->flags = whence;
	submit(op);
}

/* fsync(2) of a directory: a barrier for unlink-behind (ubehind.c); the
 * server has no directory sync to ask for. */
static void ll_fsyncdir(fuse_req_t req, fuse_ino_t ino, int datasync,
			struct fuse_file_info *fi)
{
	struct op *op = op_new(req, OP_FSYNCDIR, ino);

	(void)datasync;
	(void)fi; /* (by its inode: nothing of the listing handle is used) */
	if (op)
		submit(op);
}

static void ll_opendir(fuse_req_t req, fuse_ino_t ino,
		       struct fuse_file_info *fi)
{
	struct op *op = op_new(req, OP_OPENDIR, ino);

	if (!op)
		return;
	op->fi = *fi;
	submit(op);
}

static void readdir_common(fuse_req_t req, fuse_ino_t ino, size_t size,
			   off_t off, struct fuse_file_info *fi, int plus)
{
	struct op *op = op_new(req, OP_READDIR, ino);

	if (!op)
		return;
	op->fh = fh_of(fi);
	op->size = size;
	op->off = off;
	op->plus = plus;
	submit(op);
}

static void ll_readdir(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
		       struct fuse_file_info *fi)
{
	readdir_common(req, ino, size, off, fi, 0);
}

static void ll_readdirplus(fuse_req_t req, fuse_ino_t ino, size_t size,
			   off_t off, struct fuse_file_info *fi)
{
	readdir_common(req, ino, size, off, fi, 1);
}

static void ll_releasedir(fuse_req_t req, fuse_ino_t ino,
			  struct fuse_file_info *fi)
{
	struct op *op = op_new(req, OP_RELEASEDIR, ino);

	if (!op)
		return;
	op->fh = fh_of(fi);
	submit(op);
}

static void ll_statfs(fuse_req_t req, fuse_ino_t ino)
{
	struct op *op = op_new(req, OP_STATFS, ino);

	if (op)
		submit(op);
}

const struct fuse_lowlevel_ops sftpmnt_ops = {
	.init = ll_init,
	.lookup = ll_lookup,
	.forget = ll_forget,
	.forget_multi = ll_forget_multi,
	.getattr = ll_getattr,
	.access = ll_access,
	.setattr = ll_setattr,
	.readlink = ll_readlink,
	.mknod = ll_mknod,
	.mkdir = ll_mkdir,
	.unlink = ll_unlink,
	.rmdir = ll_rmdir,
	.symlink = ll_symlink,
	.rename = ll_rename,
	.link = ll_link,
	.open = ll_open,
	.create = ll_create,
	.read = ll_read,
	.write = ll_write,
	.fsyncdir = ll_fsyncdir,
	.copy_file_range = ll_copy_file_range,
	.flush = ll_flush,
	.release = ll_release,
	.fsync = ll_fsync,
	.lseek = ll_lseek,
	.opendir = ll_opendir,
	.readdir = ll_readdir,
	.readdirplus = ll_readdirplus,
	.releasedir = ll_releasedir,
	.statfs = ll_statfs,
};
