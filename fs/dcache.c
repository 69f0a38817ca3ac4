/*
 * dcache.c - complete directory listings, kept to answer lookups.
 *
 * A listing read to its end (dirahead.c) is kept for cache_timeout
 * seconds.  While it is fresh, a LOOKUP or GETATTR of a name in that
 * directory is answered from it without a round trip: the attributes if
 * the name is listed, "no such file" if it is not.  That is what a tool
 * that stats many siblings, or probes for files that do not exist
 * (git, make, compilers, shells walking $PATH), needs.
 *
 * Our own changes keep listings true: an operation on a name marks it
 * unknown when it starts (lookups of it go to the server until the
 * outcome is known), and its success puts the new attributes in or takes
 * the name out.  A listing being read while a change in its directory
 * starts is spoiled and never published.  An answer to a request sent
 * before a change of the name began (or before the listing was started)
 * is not believed (change stamps, sftpmnt.h); a write marks the name
 * unknown again when it is acknowledged, and a file with writes on their
 * way is never answered for (ops.c).  Everything runs on the
 * connection's I/O thread, which serializes it with the requests: the
 * server executes them in the order we send them.
 *
 * Memory: at most DC_ENTRIES_MAX names and DC_BYTES_MAX bytes over all
 * listings, those being read included (the oldest complete listings go
 * first), and no listing longer than DC_LIST_MAX names or
 * DC_LIST_BYTES_MAX bytes.  A listing that would pass a cap is given
 * up: its directory is then answered for by the server, as one never
 * listed, and it is not listed again in the background (da_speculate,
 * walks, lookups that miss) until cache_timeout has passed: what is kept
 * of it until then is that it is too big (an empty marker).  A server
 * can list any number of names (or never end a listing), and names of
 * any length: the byte caps bound what that costs us, names of 255
 * bytes included.
 */
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "sftpmnt.h"

#define DC_ENTRIES_MAX 262144
#define DC_LIST_MAX 65536
#define DC_BYTES_MAX (64u * 1024 * 1024)
#define DC_LIST_BYTES_MAX (16u * 1024 * 1024)
/* What malloc spends on a block besides its bytes (glibc: 8-16). */
#define DC_MALLOC_OVERHEAD 16

struct dent {
	char *name; /* NULL: a free slot */
	int known;  /* 0: present or not, the server knows */
	int linked; /* a file with other names: a write through one of them
		     * would leave these attributes stale, so never known */
	unsigned nlink; /* its link count from the long name (0: none) */
	int atime_ok; /* a.atime holds while the rest is unknown (writes) */
	int exist_unknown; /* whether the name exists is not known either */
	int removing; /* its removal was answered early (ubehind.c) */
	uint64_t chg; /* chg_next() of the last change begun: an answer to
		       * a request sent before it is not believed */
	struct sftp_attrs a;
};

struct dlist {
	struct dlist *hnext;	     /* hash chain */
	struct dlist *older, *newer; /* age order, for eviction */
	char *path;
	uint64_t hash;
	int building; /* a listing in progress */
	int spoiled;  /* changed while being read: never published */
	int toobig;   /* given up at a cap: a marker, no names */
	double expires;
	uint64_t born; /* chg_now() when its first READDIR went out */
	struct dent *ents; /* open addressing, by name hash */
	size_t cap, n;	   /* cap: power of two */
	size_t bytes;	   /* the slots and the names (name_cost) */
};

#define DC_MISS_SLOTS 64

struct dcache {
	struct dtally miss[DC_MISS_SLOTS]; /* recent lookups not answered */
	struct dlist **tab;
	size_t nb; /* buckets, power of two */
	struct dlist *oldest, *newest;
	size_t nlists, entries;
	size_t bytes; /* of all listings (dlist.bytes) */
	double timeout;
};

struct dcache *dc_new(double timeout)
{
	struct dcache *d = calloc(1, sizeof(*d));

	if (!d)
		return NULL;
	d->nb = 256;
	d->tab = calloc(d->nb, sizeof(*d->tab));
	if (!d->tab) {
		free(d);
		return NULL;
	}
	d->timeout = timeout;
	return d;
}

static void list_free(struct dcache *d, struct dlist *l)
{
	struct dlist **pp = &d->tab[l->hash & (d->nb - 1)];
	size_t i;

	for (; *pp; pp = &(*pp)->hnext)
		if (*pp == l) {
			*pp = l->hnext;
			break;
		}
	if (l->older)
		l->older->newer = l->newer;
	else
		d->oldest = l->newer;
	if (l->newer)
		l->newer->older = l->older;
	else
		d->newest = l->older;
	for (i = 0; i < l->cap; i++)
		free(l->ents[i].name);
	d->entries -= l->n;
	d->bytes -= l->bytes;
	d->nlists--;
	free(l->ents);
	free(l->path);
	free(l);
}

void dc_free(struct dcache *d)
{
	if (!d)
		return;
	while (d->oldest)
		list_free(d, d->oldest);
	free(d->tab);
	free(d);
}

static struct dlist *find(struct dcache *d, const char *path, size_t len)
{
	uint64_t h = fnv1a(path, len);
	struct dlist *l;

	for (l = d->tab[h & (d->nb - 1)]; l; l = l->hnext)
		if (l->hash == h && !strncmp(l->path, path, len) &&
		    !l->path[len])
			return l;
	return NULL;
}

/* The fresh complete listing of dir, or NULL (an expired one goes). */
static struct dlist *fresh(struct dcache *d, const char *dir, size_t len)
{
	struct dlist *l = find(d, dir, len);

	if (!l || l->building)
		return NULL;
	if (l->expires < now_s()) {
		list_free(d, l);
		return NULL;
	}
	return l->toobig ? NULL : l;
}

static struct dent *slot(struct dlist *l, const char *name, size_t len)
{
	size_t i = fnv1a(name, len) & (l->cap - 1);

	for (;; i = (i + 1) & (l->cap - 1)) {
		struct dent *e = &l->ents[i];

		if (!e->name ||
		    (!strncmp(e->name, name, len) && !e->name[len]))
			return e;
	}
}

/* What a name of len bytes costs a listing, its block included. */
static size_t name_cost(size_t len)
{
	return len + 1 + DC_MALLOC_OVERHEAD;
}

static int grow(struct dcache *d, struct dlist *l)
{
	size_t ocap = l->cap, ncap = ocap ? ocap * 2 : 64, i;
	struct dent *old = l->ents, *ne = calloc(ncap, sizeof(*ne));

	if (!ne)
		return -1;
	l->ents = ne;
	l->cap = ncap; /* slot() probes the new table */
	l->bytes += (ncap - ocap) * sizeof(*ne);
	d->bytes += (ncap - ocap) * sizeof(*ne);
	for (i = 0; i < ocap; i++)
		if (old[i].name)
			*slot(l, old[i].name, strlen(old[i].name)) = old[i];
	free(old);
	return 0;
}

/* Set name's entry (a NULL a: unknown).  0, or -1 on ENOMEM. */
static int put(struct dcache *d, struct dlist *l, const char *name,
	       size_t len, const struct sftp_attrs *a)
{
	struct dent *e;

	if ((l->n + 1) * 4 > l->cap * 3 && grow(d, l))
		return -1;
	e = slot(l, name, len);
	if (!e->name) {
		if (!(e->name = strndup(name, len)))
			return -1;
		l->n++;
		d->entries++;
		l->bytes += name_cost(len);
		d->bytes += name_cost(len);
		/* a name the listing did not have, known only as changed:
		 * whether it is there now is the server's to say */
		e->exist_unknown = a == NULL;
	} else if (a) {
		e->exist_unknown = 0;
	}
	e->known = a != NULL && !e->linked;
	e->removing = 0;
	e->atime_ok = e->known && (a->flags & SSH_FILEXFER_ATTR_ACMODTIME);
	if (a)
		e->a = *a;
	return 0;
}

/* Take name out: the slots after it in its run move up (linear
 * probing without tombstones). */
static void del(struct dcache *d, struct dlist *l, struct dent *e)
{
	size_t i = (size_t)(e - l->ents), j = i;

	l->bytes -= name_cost(strlen(e->name));
	d->bytes -= name_cost(strlen(e->name));
	free(e->name);
	e->name = NULL;
	l->n--;
	d->entries--;
	for (;;) {
		size_t k;

		j = (j + 1) & (l->cap - 1);
		if (!l->ents[j].name)
			return;
		k = fnv1a(l->ents[j].name, strlen(l->ents[j].name)) &
		    (l->cap - 1);
		/* move j to i unless its home k lies cyclically in (i, j] */
		if (i <= j ? (i < k && k <= j) : (i < k || k <= j))
			continue;
		l->ents[i] = l->ents[j];
		l->ents[j].name = NULL;
		i = j;
	}
}

/* Split path into its directory and last name. */
static void split(const char *path, size_t *dlen, const char **name)
{
	const char *s = strrchr(path, '/');

	if (!s) { /* not absolute: never cached */
		*dlen = 0;
		*name = path;
		return;
	}
	*dlen = s == path ? 1 : (size_t)(s - path);
	*name = s + 1;
}

/* The entry of path in a fresh kept listing of its directory, or NULL. */
static struct dent *fresh_entry(struct dcache *d, const char *path)
{
	size_t dlen;
	const char *name;
	struct dlist *l;
	struct dent *e;

	if (!d || !d->timeout)
		return NULL;
	split(path, &dlen, &name);
	if (!dlen || !*name || !(l = fresh(d, path, dlen)) || !l->cap)
		return NULL;
	e = slot(l, name, strlen(name));
	return e->name ? e : NULL;
}

unsigned dc_links(struct dcache *d, const char *path)
{
	struct dent *e = fresh_entry(d, path);

	return e ? e->nlink : 0;
}

int dc_is_linked(struct dcache *d, const char *path)
{
	struct dent *e = fresh_entry(d, path);

	return e && e->linked;
}

int dc_lookup_born(struct dcache *d, const char *path, struct sftp_attrs *a,
		   uint64_t *born)
{
	size_t dlen;
	const char *name;
	struct dlist *l;
	struct dent *e;

	if (!d || !d->timeout)
		return -1;
	split(path, &dlen, &name);
	if (!dlen || !*name || !(l = fresh(d, path, dlen)))
		return -1;
	if (!l->cap)
		return 0;
	e = slot(l, name, strlen(name));
	if (!e->name)
		return 0;
	if (!e->known)
		return -1;
	*a = e->a;
	if (born)
		*born = l->born;
	return 1;
}

int dc_lookup_kind(struct dcache *d, const char *path, struct sftp_attrs *a)
{
	struct dent *e = fresh_entry(d, path);

	if (!e || e->exist_unknown ||
	    !(e->a.flags & SSH_FILEXFER_ATTR_PERMISSIONS))
		return -1;
	*a = e->a;
	return 1;
}

int dc_lookup(struct dcache *d, const char *path, struct sftp_attrs *a)
{
	return dc_lookup_born(d, path, a, NULL);
}

#define MARK_LINKED 1
#define MARK_KEEP_ATIME 2
#define MARK_EXIST 4 /* made, removed or renamed: it may or may not exist */

static void mark_unknown(struct dcache *d, const char *path, size_t len,
			 int how)
{
	size_t dlen;
	const char *name;
	struct dlist *l;
	struct dent *e;
	char *p = strndup(path, len);

	if (!p) {
		dc_drop_tree(d, "/");
		return;
	}
	split(p, &dlen, &name);
	if (!dlen || !*name || !(l = find(d, p, dlen)) || l->toobig) {
		free(p);
		return;
	}
	if (l->building) {
		l->spoiled = 1;
	} else if (l->cap && (how & MARK_KEEP_ATIME) &&
		   (e = slot(l, name, strlen(name)))->name) {
		e->known = 0; /* what was known of the atime stays */
		e->chg = chg_next();
	} else if (put(d, l, name, strlen(name), NULL)) {
		list_free(d, l); /* cannot say unknown: forget it all */
	} else {
		e = slot(l, name, strlen(name));
		e->chg = chg_next();
		if (how & MARK_LINKED)
			e->linked = 1;
		if (how & MARK_EXIST)
			e->exist_unknown = 1;
	}
	free(p);
}

void dc_changed(struct dcache *d, const char *path, int data_only)
{
	if (d)
		mark_unknown(d, path, strlen(path),
			     data_only ? MARK_KEEP_ATIME : 0);
}

int dc_atime(struct dcache *d, const char *path, uint32_t *atime)
{
	size_t dlen;
	const char *name;
	struct dlist *l;
	struct dent *e;

	if (!d)
		return 0;
	split(path, &dlen, &name);
	if (!dlen || !*name || !(l = fresh(d, path, dlen)) || !l->cap)
		return 0;
	e = slot(l, name, strlen(name));
	if (!e->name || !e->atime_ok)
		return 0;
	*atime = e->a.atime;
	return 1;
}

/* A change of path (its attributes or whether it exists) begins: the
 * name is unknown until dc_set/dc_gone says how it ended, and so are the
 * attributes of its directory (mtime, size); a listing of either being
 * read is spoiled. */
void dc_unknown(struct dcache *d, const char *path)
{
	const char *s;

	if (!d)
		return;
	mark_unknown(d, path, strlen(path), MARK_EXIST);
	/* a name made or removed in a directory leaves its atime */
	if ((s = strrchr(path, '/')) && s > path)
		mark_unknown(d, path, (size_t)(s - path), MARK_KEEP_ATIME);
}

void dc_linked(struct dcache *d, const char *path)
{
	if (d)
		mark_unknown(d, path, strlen(path), MARK_LINKED);
}

/* The listing of path's directory, if a reply to a request sent at
 * since may update it: not when the listing is newer than the request or
 * the name changed after it went out. */
static struct dlist *updatable(struct dcache *d, const char *path,
			       uint64_t since)
{
	size_t dlen;
	const char *name;
	struct dlist *l;
	struct dent *e;

	split(path, &dlen, &name);
	if (!dlen || !*name || !(l = find(d, path, dlen)) || l->building ||
	    l->toobig || l->born > since)
		return NULL;
	if (l->cap && (e = slot(l, name, strlen(name)))->name && e->chg > since)
		return NULL;
	return l;
}

void dc_set(struct dcache *d, const char *path, const struct sftp_attrs *a,
	    uint64_t since)
{
	struct dlist *l;

	if (!d || !(l = updatable(d, path, since)))
		return;
	if (put(d, l, strrchr(path, '/') + 1, strlen(strrchr(path, '/') + 1),
		a))
		list_free(d, l);
}

void dc_gone(struct dcache *d, const char *path, uint64_t since)
{
	struct dlist *l;
	struct dent *e;
	const char *name;

	if (!d || !(l = updatable(d, path, since)) || !l->cap)
		return;
	name = strrchr(path, '/') + 1;
	e = slot(l, name, strlen(name));
	if (e->name)
		del(d, l, e);
}

/* Forget the listings of dir and of everything under it (a rename or
 * removal of a directory). */
void dc_drop_tree(struct dcache *d, const char *dir)
{
	struct dlist *l, *nx;
	size_t n = strlen(dir);

	if (!d)
		return;
	for (l = d->oldest; l; l = nx) {
		nx = l->newer;
		if (!strncmp(l->path, dir, n) &&
		    (l->path[n] == 0 || l->path[n] == '/' ||
		     (n == 1 && dir[0] == '/'))) {
			if (l->building)
				l->spoiled = 1;
			else
				list_free(d, l);
		}
	}
}

/* A new empty directory we made: its (empty) listing is known. */
void dc_empty_dir(struct dcache *d, const char *dir)
{
	struct dlist *l;

	if (!d || !d->timeout || (l = find(d, dir, strlen(dir))))
		return;
	if ((l = dc_build(d, dir)))
		dc_build_end(d, l, 1);
}

/* Complete listings go, oldest first, until the names are under
 * DC_ENTRIES_MAX and the bytes leave room for extra more. */
static void evict(struct dcache *d, size_t extra)
{
	struct dlist *l, *nx;

	for (l = d->oldest; l && (d->entries > DC_ENTRIES_MAX ||
				  d->bytes + extra > DC_BYTES_MAX);
	     l = nx) {
		nx = l->newer;
		if (!l->building)
			list_free(d, l);
	}
}

/* Whether l, being read, may take one more name of len bytes (the
 * older complete listings make room if need be). */
static int room(struct dcache *d, struct dlist *l, size_t len)
{
	size_t need = name_cost(len);

	if ((l->n + 1) * 4 > l->cap * 3) /* put() doubles the slots */
		need += (l->cap ? l->cap : 64) * sizeof(*l->ents);
	if (l->n >= DC_LIST_MAX || l->bytes + need > DC_LIST_BYTES_MAX)
		return 0;
	if (d->bytes + need > DC_BYTES_MAX)
		evict(d, need);
	return d->bytes + need <= DC_BYTES_MAX;
}

static int rehash(struct dcache *d)
{
	size_t nb = d->nb * 2, i;
	struct dlist **t = calloc(nb, sizeof(*t)), *l, *nx;

	if (!t)
		return -1;
	for (i = 0; i < d->nb; i++)
		for (l = d->tab[i]; l; l = nx) {
			nx = l->hnext;
			l->hnext = t[l->hash & (nb - 1)];
			t[l->hash & (nb - 1)] = l;
		}
	free(d->tab);
	d->tab = t;
	d->nb = nb;
	return 0;
}

struct dlist *dc_build(struct dcache *d, const char *dir)
{
	struct dlist *l;

	if (!d || !d->timeout || dir[0] != '/')
		return NULL;
	if ((l = find(d, dir, strlen(dir)))) {
		if (l->building)
			return NULL; /* someone else is at it */
		if (l->toobig && l->expires >= now_s())
			return NULL; /* it would be given up again */
		list_free(d, l);
	}
	if (!(l = calloc(1, sizeof(*l))) || !(l->path = strdup(dir))) {
		free(l);
		return NULL;
	}
	l->hash = fnv1a(dir, strlen(dir));
	l->building = 1;
	l->born = chg_now();
	l->hnext = d->tab[l->hash & (d->nb - 1)];
	d->tab[l->hash & (d->nb - 1)] = l;
	l->older = d->newest;
	if (d->newest)
		d->newest->newer = l;
	else
		d->oldest = l;
	d->newest = l;
	d->nlists++;
	if (d->nlists > d->nb)
		(void)rehash(d); /* the table grows with the listings */
	return l;
}

/* The link count in an ls -l style long name ("-rw-r--r--    2 user
 * ..."), or 0 when there is none to read. */
unsigned long longname_links(const char *s, size_t n)
{
	size_t i = 0;
	unsigned long v = 0;

	while (i < n && s[i] != ' ') /* the mode */
		i++;
	while (i < n && s[i] == ' ')
		i++;
	if (i >= n || s[i] < '0' || s[i] > '9')
		return 0;
	for (; i < n && s[i] >= '0' && s[i] <= '9' && v < 1000000; i++)
		v = v * 10 + (unsigned long)(s[i] - '0');
	return i < n && s[i] == ' ' ? v : 0;
}

int dc_build_add(struct dcache *d, struct dlist *l, const char *name,
		 size_t len, const char *longname, size_t longlen,
		 const struct sftp_attrs *a, int stale)
{
	struct dent *e;

	if (l->spoiled)
		return -1;
	if (!room(d, l, len)) {
		l->spoiled = 1;
		l->toobig = 1;
		return -1;
	}
	if ((len == 1 && name[0] == '.') ||
	    (len == 2 && name[0] == '.' && name[1] == '.'))
		return 0;
	if (!(a->flags & SSH_FILEXFER_ATTR_PERMISSIONS)) {
		/* a lookup needs the type: such a listing is no use */
		l->spoiled = 1;
		return -1;
	}
	if (put(d, l, name, len, a)) {
		l->spoiled = 1;
		return -1;
	}
	/* a file with more than one name (or whose count we cannot read)
	 * is listed, but its attributes come from the server each time */
	e = slot(l, name, len);
	e->nlink = (unsigned)longname_links(longname, longlen);
	if (!S_ISDIR(a->perm) && e->nlink != 1) {
		e->linked = 1;
		e->known = 0;
	}
	/* listed, but maybe as it was before a change of ours */
	if (stale) {
		e = slot(l, name, len);
		e->known = 0;
		e->atime_ok = 0;
	}
	return 0;
}

/* l, given up at a cap, becomes a marker of that: its names go. */
static void make_marker(struct dcache *d, struct dlist *l)
{
	size_t i;

	for (i = 0; i < l->cap; i++)
		free(l->ents[i].name);
	free(l->ents);
	l->ents = NULL;
	d->entries -= l->n;
	d->bytes -= l->bytes;
	l->cap = l->n = l->bytes = 0;
	l->building = 0;
	l->expires = now_s() + d->timeout;
}

void dc_build_end(struct dcache *d, struct dlist *l, int complete)
{
	if (l->toobig) {
		make_marker(d, l);
		return;
	}
	if (!complete || l->spoiled) {
		list_free(d, l);
		return;
	}
	l->building = 0;
	l->expires = now_s() + d->timeout;
	evict(d, 0);
}

int dtally_add(struct dtally *t, size_t n, const char *dir, size_t dlen,
	       double window, int slide)
{
	uint64_t h = fnv1a(dir, dlen);
	struct dtally *e = &t[h % n];
	double now = now_s();

	if (e->hash != h || e->until < now) {
		e->hash = h;
		e->count = 0;
		e->until = now + window;
	}
	if (slide)
		e->until = now + window;
	return ++e->count;
}

char *dc_miss(struct dcache *d, const char *path)
{
	size_t dlen;
	const char *name;

	if (!d || !d->timeout)
		return NULL;
	split(path, &dlen, &name);
	if (!dlen || find(d, path, dlen))
		return NULL; /* listed (the name is unknown) or being listed */
	/* the second miss in a while: more are likely (a tool going
	 * through the names of a directory) */
	if (dtally_add(d->miss, DC_MISS_SLOTS, path, dlen, d->timeout, 0) != 2)
		return NULL;
	return strndup(path, dlen);
}

ssize_t dc_snapshot(struct dcache *d, const char *dir, struct dsnap **out)
{
	struct dlist *l;
	struct dsnap *s;
	size_t i, k = 0;

	*out = NULL;
	if (!d || !d->timeout || !(l = fresh(d, dir, strlen(dir))))
		return -1;
	for (i = 0; i < l->cap; i++)
		if (l->ents[i].name && l->ents[i].exist_unknown)
			return -1; /* the server knows which names there are */
	if (!(s = calloc(l->n ? l->n : 1, sizeof(*s))))
		return -1;
	for (i = 0; i < l->cap; i++) {
		struct dent *e = &l->ents[i];

		if (!e->name)
			continue;
		if (!(e->a.flags & SSH_FILEXFER_ATTR_PERMISSIONS) ||
		    !(s[k].name = strdup(e->name))) {
			dc_snapshot_free(s, k);
			return -1;
		}
		s[k].a = e->a;
		s[k].known = e->known && !e->linked;
		s[k].nlink = e->nlink;
		k++;
	}
	*out = s;
	return (ssize_t)k;
}

void dc_snapshot_free(struct dsnap *s, size_t n)
{
	size_t i;

	for (i = 0; i < n && s; i++)
		free(s[i].name);
	free(s);
}

int dc_listed_empty(struct dcache *d, const char *dir)
{
	struct dlist *l;
	size_t i;

	if (!d || !(l = fresh(d, dir, strlen(dir))) || l->spoiled)
		return 0;
	for (i = 0; i < l->cap; i++)
		if (l->ents[i].name && !l->ents[i].removing)
			return 0;
	return 1;
}

void dc_removing(struct dcache *d, const char *path)
{
	size_t dlen;
	const char *name;
	struct dlist *l;
	struct dent *e;

	if (!d)
		return;
	split(path, &dlen, &name);
	if (!dlen || !*name || !(l = find(d, path, dlen)) || !l->cap)
		return;
	e = slot(l, name, strlen(name));
	if (e->name)
		e->removing = 1;
}

/* (A listing given up as too big counts while its marker lasts: it is
 * not to be listed in the background again meanwhile.) */
int dc_listed(struct dcache *d, const char *dir)
{
	struct dlist *l;

	if (!d || !(l = find(d, dir, strlen(dir))))
		return 0;
	return l->building || l->expires >= now_s();
}

int dc_each(struct dcache *d, const char *dir, mode_t type,
	    void (*fn)(void *arg, const char *name,
		       const struct sftp_attrs *a),
	    void *arg)
{
	struct dlist *l;
	size_t i;

	if (!d || !d->timeout || !(l = fresh(d, dir, strlen(dir))))
		return -1;
	for (i = 0; i < l->cap; i++) {
		struct dent *e = &l->ents[i];

		if (!e->name || e->exist_unknown ||
		    !(e->a.flags & SSH_FILEXFER_ATTR_PERMISSIONS) ||
		    (e->a.perm & S_IFMT) != type)
			continue;
		/* a file's size must be the server's now */
		if (type == S_IFREG &&
		    (!e->known || e->linked ||
		     !(e->a.flags & SSH_FILEXFER_ATTR_SIZE)))
			continue;
		fn(arg, e->name, &e->a);
	}
	return 0;
}

struct sib {
	const char *parent, *self;
	void (*fn)(void *arg, char *path);
	void *arg;
};

static void sib_one(void *arg, const char *name, const struct sftp_attrs *a)
{
	struct sib *b = arg;
	char *p;

	(void)a;
	if (strcmp(name, b->self) && (p = path_join(b->parent, name)))
		b->fn(b->arg, p);
}

int dc_each_sibling(struct dcache *d, const char *dir,
		    void (*fn)(void *arg, char *path), void *arg)
{
	const char *slash = strrchr(dir, '/');
	struct sib b;
	char *parent;
	int r;

	if (!slash || !slash[1] ||
	    !(parent = strndup(dir, slash == dir ? 1 : (size_t)(slash - dir))))
		return -1;
	b.parent = parent;
	b.self = slash + 1;
	b.fn = fn;
	b.arg = arg;
	r = dc_each(d, parent, S_IFDIR, sib_one, &b);
	free(parent);
	return r;
}
