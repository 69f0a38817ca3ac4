/*
 * ino.c - the inode table: FUSE inode numbers <-> remote paths.
 *
 * SFTP v3 has no inode numbers, so we hand out our own: one per path,
 * stable for the life of the mount while the kernel remembers it
 * (lookup counts, FUSE forget), kept across renames (the inode moves
 * with its name), so readdir's d_ino and stat's st_ino agree.
 */
#include <stdlib.h>
#include <string.h>

#include "sftpmnt.h"

uint64_t fnv1a(const char *s, size_t n)
{
	uint64_t h = 1469598103934665603ull;

	while (n--) {
		h ^= (unsigned char)*s++;
		h *= 1099511628211ull;
	}
	return h;
}

static uint64_t hash_str(const char *s)
{
	return fnv1a(s, strlen(s));
}

static int grow(struct itable *t)
{
	size_t n = t->nbuckets ? t->nbuckets * 2 : 1024, i;
	struct inode **bi = calloc(n, sizeof(*bi)), **bp = calloc(n, sizeof(*bp));

	if (!bi || !bp) {
		free(bi);
		free(bp);
		return -1;
	}
	for (i = 0; i < t->nbuckets; i++) {
		struct inode *e = t->by_ino[i], *nx;

		for (; e; e = nx) {
			nx = e->next_ino;
			e->next_ino = bi[e->ino & (n - 1)];
			bi[e->ino & (n - 1)] = e;
			e->next_path = bp[hash_str(e->path) & (n - 1)];
			bp[hash_str(e->path) & (n - 1)] = e;
		}
	}
	free(t->by_ino);
	free(t->by_path);
	t->by_ino = bi;
	t->by_path = bp;
	t->nbuckets = n;
	return 0;
}

static void link_in(struct itable *t, struct inode *e)
{
	size_t bi = e->ino & (t->nbuckets - 1);
	size_t bp = hash_str(e->path) & (t->nbuckets - 1);

	e->next_ino = t->by_ino[bi];
	t->by_ino[bi] = e;
	e->next_path = t->by_path[bp];
	t->by_path[bp] = e;
	t->count++;
}

static void unlink_path(struct itable *t, struct inode *e)
{
	struct inode **pp = &t->by_path[hash_str(e->path) & (t->nbuckets - 1)];

	for (; *pp; pp = &(*pp)->next_path)
		if (*pp == e) {
			*pp = e->next_path;
			return;
		}
}

static void unlink_ino(struct itable *t, struct inode *e)
{
	struct inode **pp = &t->by_ino[e->ino & (t->nbuckets - 1)];

	for (; *pp; pp = &(*pp)->next_ino)
		if (*pp == e) {
			*pp = e->next_ino;
			return;
		}
}

int itable_init(struct itable *t, const char *root)
{
	struct inode *r;

	memset(t, 0, sizeof(*t));
	pthread_mutex_init(&t->lock, NULL);
	if (grow(t))
		return -1;
	r = calloc(1, sizeof(*r));
	if (!r || !(r->path = strdup(root))) {
		free(r);
		return -1;
	}
	r->ino = FUSE_ROOT_ID;
	r->nlookup = 1; /* the root is never forgotten */
	link_in(t, r);
	t->next_ino = FUSE_ROOT_ID + 1;
	return 0;
}

static void drop(struct itable *t, struct inode *e)
{
	unlink_ino(t, e);
	unlink_path(t, e);
	t->count--;
	free(e->path);
	free(e);
}

static void ghost_del(struct itable *t, struct inode *e)
{
	if (!e->ghost)
		return;
	if (e->gprev)
		e->gprev->gnext = e->gnext;
	else
		t->ghost_head = e->gnext;
	if (e->gnext)
		e->gnext->gprev = e->gprev;
	else
		t->ghost_tail = e->gprev;
	e->gprev = e->gnext = NULL;
	e->ghost = 0;
	t->nghosts--;
}

static struct inode *find_path(struct itable *t, const char *path)
{
	struct inode *e = t->by_path[hash_str(path) & (t->nbuckets - 1)];

	for (; e; e = e->next_path)
		if (!strcmp(e->path, path))
			return e;
	return NULL;
}

static struct inode *find_ino(struct itable *t, uint64_t ino)
{
	struct inode *e = t->by_ino[ino & (t->nbuckets - 1)];

	for (; e; e = e->next_ino)
		if (e->ino == ino)
			return e;
	return NULL;
}

struct inode *itable_get(struct itable *t, const char *path)
{
	struct inode *e;

	pthread_mutex_lock(&t->lock);
	e = find_path(t, path);
	if (!e) {
		if (t->count >= t->nbuckets && grow(t))
			goto out;
		e = calloc(1, sizeof(*e));
		if (!e || !(e->path = strdup(path))) {
			free(e);
			e = NULL;
			goto out;
		}
		e->ino = t->next_ino++;
		link_in(t, e);
	}
out:
	pthread_mutex_unlock(&t->lock);
	return e;
}

uint64_t itable_ref(struct itable *t, const char *path)
{
	struct inode *e = itable_get(t, path);
	uint64_t ino = 0;

	pthread_mutex_lock(&t->lock);
	if (e) {
		ghost_del(t, e); /* the kernel holds it again */
		e->nlookup++;
		ino = e->ino;
	}
	pthread_mutex_unlock(&t->lock);
	return ino;
}

uint64_t itable_ino(struct itable *t, const char *path)
{
	struct inode *e;
	uint64_t ino = 0;

	pthread_mutex_lock(&t->lock);
	if ((e = find_path(t, path)))
		ino = e->ino;
	pthread_mutex_unlock(&t->lock);
	return ino;
}

struct inode *itable_find(struct itable *t, uint64_t ino)
{
	struct inode *e;

	pthread_mutex_lock(&t->lock);
	e = find_ino(t, ino);
	pthread_mutex_unlock(&t->lock);
	return e;
}

char *itable_path(struct itable *t, uint64_t ino)
{
	struct inode *e;
	char *p = NULL;

	pthread_mutex_lock(&t->lock);
	e = find_ino(t, ino);
	if (e && e->path && e->path[0]) /* (detached: no name) */
		p = strdup(e->path);
	pthread_mutex_unlock(&t->lock);
	return p;
}

void itable_forget(struct itable *t, uint64_t ino, uint64_t n)
{
	struct inode *e;

	pthread_mutex_lock(&t->lock);
	e = find_ino(t, ino);
	if (e && ino != FUSE_ROOT_ID) {
		e->nlookup = n > e->nlookup ? 0 : e->nlookup - n;
		if (e->nlookup == 0 && !e->path[0]) {
			drop(t, e); /* no name: nothing can find it again */
		} else if (e->nlookup == 0 && !e->ghost) {
			/* what was learnt of it may be old when it is
			 * looked up again */
			e->linked = 0;
			e->nlink = 0;
			e->ghost = 1;
			e->gprev = t->ghost_tail;
			if (t->ghost_tail)
				t->ghost_tail->gnext = e;
			else
				t->ghost_head = e;
			t->ghost_tail = e;
			t->nghosts++;
			while (t->nghosts > ITABLE_GHOSTS) {
				struct inode *old = t->ghost_head;

				ghost_del(t, old);
				drop(t, old);
			}
		}
	}
	pthread_mutex_unlock(&t->lock);
}

/* Rewrite the path of `from` and of everything below it. */
/* e loses its name: it lives on while the kernel holds it, reachable
 * by number only (itable_path says NULL), and a new file made under the
 * name gets a new inode (never the old one's: the kernel would take the
 * two for one file). */
static void detach(struct itable *t, struct inode *e)
{
	char *empty;

	if (e->ghost) { /* the kernel does not hold it: gone for good */
		ghost_del(t, e);
		drop(t, e);
		return;
	}
	if (!(empty = strdup("")))
		return; /* (out of memory: it keeps the name) */
	unlink_path(t, e);
	free(e->path);
	e->path = empty;
	e->next_path = NULL;
}

void itable_unlink(struct itable *t, const char *path)
{
	struct inode *e;

	pthread_mutex_lock(&t->lock);
	e = find_path(t, path);
	if (e && e->ino != FUSE_ROOT_ID)
		detach(t, e);
	pthread_mutex_unlock(&t->lock);
}

void itable_rename(struct itable *t, const char *from, const char *to)
{
	size_t fl = strlen(from), i;
	struct inode *moved = NULL, *e, *nx;

	pthread_mutex_lock(&t->lock);
	/* A file renamed over another: the old inode of `to` loses its
	 * name (it lives on while the kernel holds it, unreachable). */
	e = find_path(t, to);
	if (e && strcmp(from, to))
		detach(t, e);
	for (i = 0; i < t->nbuckets; i++) {
		for (e = t->by_ino[i]; e; e = e->next_ino) {
			if (strncmp(e->path, from, fl) ||
			    (e->path[fl] != '\0' && e->path[fl] != '/'))
				continue;
			unlink_path(t, e);
			e->next_path = moved; /* collect, re-hash below */
			moved = e;
		}
	}
	for (e = moved; e; e = nx) {
		char *np = malloc(strlen(to) + strlen(e->path + fl) + 1);

		nx = e->next_path;
		if (np) {
			strcpy(np, to);
			strcat(np, e->path + fl);
			free(e->path);
			e->path = np;
		}
		e->next_path = t->by_path[hash_str(e->path) & (t->nbuckets - 1)];
		t->by_path[hash_str(e->path) & (t->nbuckets - 1)] = e;
		e->chg = chg_next(); /* its new name shows other attributes */
	}
	pthread_mutex_unlock(&t->lock);
}

void itable_seen(struct itable *t, uint64_t ino, uint64_t size,
		 uint32_t mtime)
{
	struct inode *e;

	pthread_mutex_lock(&t->lock);
	if ((e = find_ino(t, ino))) {
		e->seen_size = size;
		e->seen_mtime = mtime;
		e->seen_wgen = e->wgen;
		e->seen = 1;
	}
	pthread_mutex_unlock(&t->lock);
}

void itable_set_nlink(struct itable *t, uint64_t ino, uint32_t n)
{
	struct inode *e;

	if (!n)
		return;
	pthread_mutex_lock(&t->lock);
	if ((e = find_ino(t, ino)))
		e->nlink = n;
	pthread_mutex_unlock(&t->lock);
}

uint32_t itable_nlink(struct itable *t, uint64_t ino)
{
	struct inode *e;
	uint32_t n = 0;

	pthread_mutex_lock(&t->lock);
	if ((e = find_ino(t, ino)))
		n = e->nlink;
	pthread_mutex_unlock(&t->lock);
	return n;
}

int itable_seen_get(struct itable *t, uint64_t ino, uint64_t *size,
		    uint32_t *mtime)
{
	struct inode *e;
	int r = 0;

	pthread_mutex_lock(&t->lock);
	/* (not after a write through the mount: those attributes are
	 * older than the file) */
	if ((e = find_ino(t, ino)) && e->seen && e->seen_wgen == e->wgen) {
		*size = e->seen_size;
		*mtime = e->seen_mtime;
		r = 1;
	}
	pthread_mutex_unlock(&t->lock);
	return r;
}

void itable_free(struct itable *t)
{
	size_t i;

	for (i = 0; i < t->nbuckets; i++) {
		struct inode *e = t->by_ino[i], *nx;

		for (; e; e = nx) {
			nx = e->next_ino;
			free(e->path);
			free(e);
		}
	}
	free(t->by_ino);
	free(t->by_path);
	pthread_mutex_destroy(&t->lock);
}

void itable_bump_wgen(struct itable *t, uint64_t ino)
{
	struct inode *e;

	pthread_mutex_lock(&t->lock);
	e = find_ino(t, ino);
	if (e)
		e->wgen++;
	pthread_mutex_unlock(&t->lock);
}

uint64_t itable_wgen(struct itable *t, uint64_t ino)
{
	struct inode *e;
	uint64_t g = 0;

	pthread_mutex_lock(&t->lock);
	e = find_ino(t, ino);
	if (e)
		g = e->wgen;
	pthread_mutex_unlock(&t->lock);
	return g;
}

/* ---- change stamps (sftpmnt.h) ---------------------------------------- */

static uint64_t chg_counter = 1;

uint64_t chg_now(void)
{
	return __atomic_load_n(&chg_counter, __ATOMIC_SEQ_CST);
}

uint64_t chg_next(void)
{
	return __atomic_add_fetch(&chg_counter, 1, __ATOMIC_SEQ_CST);
}

uint64_t itable_stamp(struct itable *t, uint64_t ino, int writes,
		      uint64_t *prev)
{
	struct inode *e;
	uint64_t s = 0;

	pthread_mutex_lock(&t->lock);
	e = find_ino(t, ino);
	if (e) {
		if (prev)
			*prev = e->chg;
		s = e->chg = chg_next();
		e->writing += writes;
		if (e->writing < 0)
			e->writing = 0;
	}
	pthread_mutex_unlock(&t->lock);
	return s;
}

int itable_writing(struct itable *t, uint64_t ino)
{
	struct inode *e;
	int n = 0;

	pthread_mutex_lock(&t->lock);
	if ((e = find_ino(t, ino)))
		n = e->writing;
	pthread_mutex_unlock(&t->lock);
	return n;
}

int itable_gate(struct itable *t, uint64_t ino, int d)
{
	struct inode *e;
	int n = 0;

	pthread_mutex_lock(&t->lock);
	if ((e = find_ino(t, ino))) {
		e->rgate += d;
		if (e->rgate < 0)
			e->rgate = 0;
		n = e->rgate;
	}
	pthread_mutex_unlock(&t->lock);
	return n;
}

int itable_changed_since(struct itable *t, const char *path, uint64_t since)
{
	struct inode *e;
	int r = 0;

	pthread_mutex_lock(&t->lock);
	e = find_path(t, path);
	if (e)
		r = e->chg > since || e->writing > 0;
	pthread_mutex_unlock(&t->lock);
	return r;
}

uint64_t itable_chg(struct itable *t, uint64_t ino)
{
	struct inode *e;
	uint64_t s = 0;

	pthread_mutex_lock(&t->lock);
	if ((e = find_ino(t, ino)))
		s = e->chg;
	pthread_mutex_unlock(&t->lock);
	return s;
}

void itable_set_linked(struct itable *t, uint64_t ino)
{
	struct inode *e;

	pthread_mutex_lock(&t->lock);
	if ((e = find_ino(t, ino)))
		e->linked = 1;
	pthread_mutex_unlock(&t->lock);
}

int itable_linked(struct itable *t, uint64_t ino)
{
	struct inode *e;
	int v = 0;

	pthread_mutex_lock(&t->lock);
	if ((e = find_ino(t, ino)))
		v = e->linked;
	pthread_mutex_unlock(&t->lock);
	return v;
}

void itable_set_bfh(struct itable *t, uint64_t ino, void *fh)
{
	struct inode *e;

	pthread_mutex_lock(&t->lock);
	if ((e = find_ino(t, ino)))
		e->bfh = fh;
	pthread_mutex_unlock(&t->lock);
}

void *itable_bfh(struct itable *t, uint64_t ino)
{
	struct inode *e;
	void *fh = NULL;

	pthread_mutex_lock(&t->lock);
	if ((e = find_ino(t, ino)))
		fh = e->bfh;
	pthread_mutex_unlock(&t->lock);
	return fh;
}

void itable_clear_bfh(struct itable *t, uint64_t ino, void *fh)
{
	struct inode *e;

	pthread_mutex_lock(&t->lock);
	if ((e = find_ino(t, ino)) && e->bfh == fh)
		e->bfh = NULL;
	pthread_mutex_unlock(&t->lock);
}
