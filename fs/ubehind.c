/*
 * ubehind.c - unlink-behind: the unlinks of a bulk removal (rm -rf,
 * rm *, make clean) answered as they go out.
 *
 * rm waits for each unlink before it asks for the next, so a directory
 * of n files costs n round trips, whatever the client does.  Once the
 * server has removed a file of a directory (that unlink was answered
 * the usual way, after the server), the next unlinks there of files
 * with the same owner are answered when their REMOVE goes out: they
 * would fail only for a reason the first did not meet (a server-side
 * change of permissions, a file system remounted read-only since).
 *
 * Nothing answered this way is lost without a word: the server answers
 * in order on the connection, so a later RMDIR, LSTAT or OPEN there
 * sees the removals done; a REMOVE that fails after all is logged, its
 * name is given back to the kernel (and the directory listing cache),
 * and its error is latched on the directory: the next unlink, rmdir,
 * create, mkdir, mknod, symlink, link or rename in that directory fails
 * with it, and so does an rmdir of the directory itself that the server
 * refuses (ENOTEMPTY: the file is still there).  After an unmount the
 * daemon does the removals still on their way before it ends.
 * unlink_behind=no, or cache=no, answers every unlink after the server.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>

#include "sftpmnt.h"

#define UB_SLOTS 8
#define UB_WINDOW 2.0 /* seconds a server-confirmed unlink vouches for */

struct ubslot {
	char *dir; /* NULL: free */
	double ok_until;
	uint32_t ok_uid; /* owner of the file whose removal vouches */
	int inflight;	 /* removals answered early, not yet by the server */
	int err;	 /* latched errno */
};

struct ubtab {
	struct ubslot s[UB_SLOTS];
	int inflight;
};

/* The directory part of an absolute path, as its length. */
static size_t dir_len(const char *path)
{
	const char *sl = strrchr(path, '/');

	return !sl ? 0 : sl == path ? 1 : (size_t)(sl - path);
}

static struct ubslot *find(struct ubtab *t, const char *dir, size_t n)
{
	int i;

	if (!t)
		return NULL;
	for (i = 0; i < UB_SLOTS; i++)
		if (t->s[i].dir && strlen(t->s[i].dir) == n &&
		    !memcmp(t->s[i].dir, dir, n))
			return &t->s[i];
	return NULL;
}

/* dir's slot, taking a free or idle one (the one vouched for longest
 * ago); NULL when every slot is busy. */
static struct ubslot *slot(struct conn *c, const char *dir, size_t n)
{
	struct ubtab *t = c->ub;
	struct ubslot *s, *best = NULL;
	int i;

	if (!t && !(t = c->ub = calloc(1, sizeof(*t))))
		return NULL;
	if ((s = find(t, dir, n)))
		return s;
	for (i = 0; i < UB_SLOTS; i++) {
		s = &t->s[i];
		if (!s->dir) {
			best = s;
			break;
		}
		if (!s->inflight && !s->err &&
		    (!best || s->ok_until < best->ok_until))
			best = s;
	}
	if (!best)
		return NULL;
	free(best->dir);
	memset(best, 0, sizeof(*best));
	if (!(best->dir = strndup(dir, n)))
		return NULL;
	return best;
}

/* Kinds that change a directory's names: where a latched error goes. */
static int changes_names(enum op_kind k)
{
	switch (k) {
	case OP_UNLINK:
	case OP_RMDIR:
	case OP_MKDIR:
	case OP_MKNOD:
	case OP_SYMLINK:
	case OP_CREATE:
	case OP_LINK:
	case OP_RENAME:
		return 1;
	default:
		return 0;
	}
}

static int take_err(struct ubtab *t, const char *path)
{
	struct ubslot *s;
	int err;

	if (!path || !(s = find(t, path, dir_len(path))) || !s->err)
		return 0;
	err = s->err;
	s->err = 0;
	return err;
}

int ub_check(struct op *op)
{
	struct ubtab *t = op->c->ub;

	if (!t || op->ubehind || !changes_names(op->kind))
		return 0;
	if (op->kind == OP_RENAME || op->kind == OP_LINK) {
		int err = take_err(t, op->path2);

		if (err)
			return err;
	}
	return take_err(t, op->path);
}

void ub_owner(struct op *op)
{
	struct sftp_attrs a;

	op->ub_uid = (uint32_t)-1;
	if (op->kind == OP_UNLINK && op->c->dc &&
	    dc_lookup(op->c->dc, op->path, &a) == 1 &&
	    (a.flags & SSH_FILEXFER_ATTR_UIDGID) &&
	    !((a.flags & SSH_FILEXFER_ATTR_PERMISSIONS) && S_ISDIR(a.perm)))
		op->ub_uid = a.uid;
}

void ub_try(struct op *op)
{
	struct conn *c = op->c;
	struct ubslot *s;

	if (op->ubehind || !c->o->unlink_behind || !c->o->cache ||
	    op->replays || op->ub_uid == (uint32_t)-1)
		return;
	/* a file of the owner whose removal the server did there last (a
	 * sticky directory lets us remove only some) */
	s = find(c->ub, op->path, dir_len(op->path));
	if (!s || s->err || s->ok_until < now_s() || op->ub_uid != s->ok_uid)
		return;
	op->ubehind = 1;
	s->inflight++;
	c->ub->inflight++;
	op_reply_err(op, 0);
}

int ub_done(struct op *op, int rc)
{
	struct conn *c = op->c;
	size_t n = dir_len(op->path);
	struct ubslot *s;

	if (op->kind == OP_RMDIR && rc && c->ub) {
		/* refused, as it must be when a removal in it failed: that
		 * failure says why */
		int err = 0;

		if ((s = find(c->ub, op->path, strlen(op->path)))) {
			err = s->err;
			s->err = 0;
		}
		return err ? -err : rc;
	}
	if (op->kind != OP_UNLINK)
		return rc;
	if (rc == -ENOENT && op->ubehind)
		rc = 0; /* gone all the same (someone else removed it) */
	s = op->ubehind ? find(c->ub, op->path, n)
			: !rc ? slot(c, op->path, n) : NULL;
	if (!rc) {
		if (s && op->ub_uid != (uint32_t)-1) {
			s->ok_until = now_s() + UB_WINDOW;
			s->ok_uid = op->ub_uid;
		}
	} else if (op->ubehind) {
		conn_log(c, LOG_WARNING,
			 "removing %s failed after it was answered: %s (the "
			 "next change in its directory reports it)",
			 op->path, strerror(-rc));
		if (s) {
			if (!s->err)
				s->err = -rc;
			s->ok_until = 0;
		}
		/* the name is back; the kernel asks for it again anyway
		 * (an unlinked entry is never kept valid; notifying it from
		 * here could deadlock with a lookup in that directory) */
		dc_unknown(c->dc, op->path);
	}
	return rc;
}

void ub_settled(struct op *op)
{
	struct ubslot *s;

	if (!op->ubehind || !op->c->ub)
		return;
	op->ubehind = 0;
	op->c->ub->inflight--;
	if ((s = find(op->c->ub, op->path, dir_len(op->path))))
		s->inflight--;
}

int ub_inflight(const struct conn *c)
{
	return c->ub ? c->ub->inflight : 0;
}

void ub_free(struct conn *c)
{
	int i;

	if (!c->ub)
		return;
	for (i = 0; i < UB_SLOTS; i++)
		free(c->ub->s[i].dir);
	free(c->ub);
	c->ub = NULL;
}
