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
 * change of permissions, a file system remounted read-only since).  So
 * are those in a sibling directory with the same owner, group and mode
 * (rm -rf going on to the next directory of a tree), and the rmdir of a
 * directory whose kept listing has no name left but those being removed
 * so (its parent vouched for the same way).
 *
 * Nothing answered this way is lost without a word: the server answers
 * in order on the connection, so a later RMDIR, LSTAT or OPEN there
 * sees the removals done; a REMOVE that fails after all is logged, its
 * name is given back to the kernel (and the directory listing cache),
 * and its error is latched on the directory: the next unlink, rmdir,
 * create, mkdir, mknod, symlink, link or rename in that directory fails
 * with it, and so does an rmdir of the directory itself that the server
 * refuses (ENOTEMPTY: the file is still there).  An rmdir answered early
 * that fails (a file made there behind our back) gives its name back and
 * latches its error on the parent the same way.  After an unmount the
 * daemon does the removals still on their way before it ends.
 * unlink_behind=no, or cache=no, answers every unlink and rmdir after the
 * server.
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
	struct sftp_attrs da; /* the directory's type, owner and mode... */
	int da_ok;	      /* ...as its parent's listing gave them */
	struct op *waiters;   /* fsyncs of the directory (ub_sync) */
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

/* The error latched on path's directory (own: on path itself), taken. */
static int take_err(struct ubtab *t, const char *path, int own)
{
	struct ubslot *s;
	int err;

	if (!path ||
	    !(s = find(t, path, own ? strlen(path) : dir_len(path))) ||
	    !s->err)
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
		int err = take_err(t, op->path2, 0);

		if (err)
			return err;
	}
	return take_err(t, op->path, 0);
}

void ub_owner(struct op *op)
{
	struct sftp_attrs a;
	int dir;

	op->ub_uid = (uint32_t)-1;
	/* (a directory's times and size move with the removals in it:
	 * only its type and owner are needed, which they do not change) */
	if ((op->kind != OP_UNLINK && op->kind != OP_RMDIR) || !op->c->dc ||
	    (op->kind == OP_UNLINK ? dc_lookup(op->c->dc, op->path, &a)
				   : dc_lookup_kind(op->c->dc, op->path, &a)) !=
		    1 ||
	    !(a.flags & SSH_FILEXFER_ATTR_UIDGID))
		return;
	dir = (a.flags & SSH_FILEXFER_ATTR_PERMISSIONS) && S_ISDIR(a.perm);
	/* a file; or a directory whose kept listing has no name left (the
	 * removals in it answered early took theirs out, below) */
	if (op->kind == OP_UNLINK ? !dir
				  : dir && dc_listed_empty(op->c->dc, op->path))
		op->ub_uid = a.uid;
}

static int vouches(const struct ubslot *s, uint32_t uid)
{
	return s && !s->err && s->ok_until >= now_s() && s->ok_uid == uid;
}

static int same_dir_attrs(const struct sftp_attrs *a,
			  const struct sftp_attrs *b)
{
	const uint32_t need =
		SSH_FILEXFER_ATTR_UIDGID | SSH_FILEXFER_ATTR_PERMISSIONS;

	return (a->flags & need) == need && (b->flags & need) == need &&
	       S_ISDIR(a->perm) && a->perm == b->perm && a->uid == b->uid &&
	       a->gid == b->gid;
}

/*
 * No removal confirmed in dir (dlen bytes of a path) yet, but one in a
 * sibling directory: the same parent, owner, group and mode (the kept
 * listing of the parent says), so the same permissions - rm -rf going
 * from one directory of a tree to the next.  Its slot, vouched for as
 * long as the sibling's is, or NULL.
 */
static struct ubslot *sibling(struct conn *c, const char *dir, size_t dlen,
			      uint32_t uid)
{
	struct sftp_attrs a;
	struct ubslot *s;
	size_t plen;
	double until = 0;
	char *d;
	int i;

	if (!c->ub || dlen <= 1 || ((s = find(c->ub, dir, dlen)) && s->err) ||
	    !(d = strndup(dir, dlen)))
		return NULL;
	plen = dir_len(d);
	if (dc_lookup_kind(c->dc, d, &a) != 1)
		goto none;
	for (i = 0; i < UB_SLOTS; i++) {
		s = &c->ub->s[i];
		if (!vouches(s, uid) || !s->da_ok || dir_len(s->dir) != plen ||
		    strncmp(s->dir, d, plen) ||
		    (plen == 1 ? !s->dir[1] : s->dir[plen] != '/') ||
		    !same_dir_attrs(&a, &s->da))
			continue;
		until = s->ok_until;
		break;
	}
	if (i == UB_SLOTS || !(s = slot(c, d, dlen)))
		goto none;
	free(d);
	s->ok_until = until;
	s->ok_uid = uid;
	s->da = a;
	s->da_ok = 1;
	return s;
none:
	free(d);
	return NULL;
}

void ub_try(struct op *op)
{
	struct conn *c = op->c;
	size_t n = dir_len(op->path);
	struct ubslot *s;

	if (op->ubehind || !c->o->unlink_behind || !c->o->cache ||
	    op->replays || op->ub_uid == (uint32_t)-1)
		return;
	/* an entry of the owner whose removal the server did there last
	 * (a sticky directory lets us remove only some), or in a sibling
	 * directory like this one */
	s = find(c->ub, op->path, n);
	if (!vouches(s, op->ub_uid) &&
	    !(s = sibling(c, op->path, n, op->ub_uid)))
		return;
	op->ubehind = 1;
	s->inflight++;
	c->ub->inflight++;
	op_reply_err(op, 0);
	/* (still unknown for lookups, which go to the server and are
	 * answered after the removal: a refused one shows the name again) */
	dc_removing(c->dc, op->path);
}

int ub_done(struct op *op, int rc)
{
	struct conn *c = op->c;
	size_t n = dir_len(op->path);
	struct ubslot *s;

	if (op->kind == OP_RMDIR && rc && c->ub) {
		/* refused, as it must be when a removal in it failed: that
		 * failure says why */
		if ((s = find(c->ub, op->path, strlen(op->path))) && s->err) {
			rc = -s->err;
			s->err = 0;
		}
		if (!op->ubehind)
			return rc;
	}
	if (op->kind != OP_UNLINK && op->kind != OP_RMDIR)
		return rc;
	if (rc == -ENOENT && op->ubehind)
		rc = 0; /* gone all the same (someone else removed it) */
	s = op->ubehind ? find(c->ub, op->path, n)
			: !rc ? slot(c, op->path, n) : NULL;
	if (!rc) {
		if (s && op->ub_uid != (uint32_t)-1) {
			s->ok_until = now_s() + UB_WINDOW;
			s->ok_uid = op->ub_uid;
			if (!s->da_ok) /* (for its siblings, above) */
				s->da_ok = dc_lookup_kind(c->dc, s->dir,
							  &s->da) == 1;
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
	if ((s = find(op->c->ub, op->path, dir_len(op->path))) &&
	    --s->inflight == 0 && s->waiters) {
		struct op *w = s->waiters, *nx;

		s->waiters = NULL;
		for (; w; w = nx) {
			nx = w->next;
			op_start(w->c, w);
		}
	}
}

int ub_sync(struct op *op)
{
	struct ubslot *s = find(op->c->ub, op->path, strlen(op->path));

	if (!s || !s->inflight)
		return 0;
	op->next = s->waiters;
	s->waiters = op;
	return 1;
}

int ub_sync_err(struct op *op)
{
	return op->c->ub ? take_err(op->c->ub, op->path, 1) : 0;
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
