/*
 * idmap.c - owners on the server <-> owners shown here.
 *
 * idmap=user: the account we log in as (the owner of the login
 * directory) is shown as the local user running sftpmnt, both ways.
 * idmap=file: uidfile= and gidfile= hold lines "name:id", the local user
 * or group name (or a number) and the id it has on the server, as sshfs
 * reads them; ids not in the file are an error (EPERM, nomap=error, the
 * default) or shown as they are (nomap=ignore).  uid=/gid= override what
 * is shown, after the mapping.
 */
#include <ctype.h>
#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sftpmnt.h"

/* A map's pairs sorted twice: by remote id and by local id. */
struct idmap_tab {
	struct idpair {
		uint32_t remote, local;
	} *by_remote, *by_local;
	size_t n;
};

static int cmp_remote(const void *a, const void *b)
{
	const struct idpair *x = a, *y = b;

	return x->remote < y->remote ? -1 : x->remote > y->remote;
}

static int cmp_local(const void *a, const void *b)
{
	const struct idpair *x = a, *y = b;

	return x->local < y->local ? -1 : x->local > y->local;
}

/* A local name (or a decimal number) as an id; -1 when unknown. */
static long local_id(const char *name, int group)
{
	char *end;
	unsigned long v;

	if (group) {
		struct group *g = getgrnam(name);

		if (g)
			return (long)g->gr_gid;
	} else {
		struct passwd *p = getpwnam(name);

		if (p)
			return (long)p->pw_uid;
	}
	if (!isdigit((unsigned char)name[0]))
		return -1;
	errno = 0;
	v = strtoul(name, &end, 10);
	if (errno || *end || v >= 0xffffffffUL)
		return -1;
	return (long)v;
}

static void tab_free(struct idmap_tab *t)
{
	if (!t)
		return;
	free(t->by_remote);
	free(t->by_local);
	free(t);
}

/* Read FILE's "name:id" lines; NULL after a message on stderr. */
static struct idmap_tab *tab_load(const char *file, int group)
{
	FILE *f = fopen(file, "r");
	struct idmap_tab *t = calloc(1, sizeof(*t));
	char line[1024];
	size_t cap = 0;
	int lineno = 0;

	if (!f || !t) {
		fprintf(stderr, "sftpmnt: %s=%s: %s\n",
			group ? "gidfile" : "uidfile", file, strerror(errno));
		goto fail;
	}
	while (fgets(line, sizeof(line), f)) {
		char *colon, *end, *s = line;
		unsigned long remote;
		long local;

		lineno++;
		if (!strchr(line, '\n') && !feof(f)) {
			fprintf(stderr, "sftpmnt: %s:%d: line too long\n",
				file, lineno);
			goto fail;
		}
		s[strcspn(s, "\r\n")] = 0;
		while (*s == ' ' || *s == '\t')
			s++;
		if (!*s || *s == '#')
			continue;
		colon = strchr(s, ':');
		if (!colon || colon == s || !isdigit((unsigned char)colon[1])) {
			fprintf(stderr, "sftpmnt: %s:%d: expected "
					"\"name:id\", got \"%s\"\n",
				file, lineno, s);
			goto fail;
		}
		*colon = 0;
		errno = 0;
		remote = strtoul(colon + 1, &end, 10);
		while (*end == ' ' || *end == '\t')
			end++;
		if (errno || *end || remote >= 0xffffffffUL) {
			fprintf(stderr, "sftpmnt: %s:%d: bad id \"%s\"\n",
				file, lineno, colon + 1);
			goto fail;
		}
		if ((local = local_id(s, group)) < 0) {
			fprintf(stderr, "sftpmnt: %s:%d: no local %s named "
					"\"%s\"\n",
				file, lineno, group ? "group" : "user", s);
			goto fail;
		}
		if (t->n == cap) {
			size_t nc = cap ? cap * 2 : 16;
			struct idpair *p = realloc(t->by_remote,
						   nc * sizeof(*p));

			if (!p)
				goto nomem;
			t->by_remote = p;
			cap = nc;
		}
		t->by_remote[t->n].remote = (uint32_t)remote;
		t->by_remote[t->n].local = (uint32_t)local;
		t->n++;
	}
	if (ferror(f)) {
		fprintf(stderr, "sftpmnt: %s: %s\n", file, strerror(errno));
		goto fail;
	}
	fclose(f);
	f = NULL;
	if (t->n) {
		t->by_local = malloc(t->n * sizeof(*t->by_local));
		if (!t->by_local)
			goto nomem;
		memcpy(t->by_local, t->by_remote, t->n * sizeof(*t->by_local));
		qsort(t->by_remote, t->n, sizeof(*t->by_remote), cmp_remote);
		qsort(t->by_local, t->n, sizeof(*t->by_local), cmp_local);
	}
	return t;
nomem:
	fprintf(stderr, "sftpmnt: %s: out of memory\n", file);
fail:
	if (f)
		fclose(f);
	tab_free(t);
	return NULL;
}

/* 0 and *id mapped, or -1 when the table has no such id. */
static int tab_map(const struct idmap_tab *t, int to_local, uint32_t *id)
{
	struct idpair key = { *id, *id };
	const struct idpair *p;

	if (!t || !t->n)
		return -1;
	p = bsearch(&key, to_local ? t->by_remote : t->by_local, t->n,
		    sizeof(key), to_local ? cmp_remote : cmp_local);
	if (!p)
		return -1;
	*id = to_local ? p->local : p->remote;
	return 0;
}

int idmap_load(struct opts *o)
{
	if (o->idmap != IDMAP_FILE) {
		if (o->uidfile || o->gidfile) {
			fprintf(stderr, "sftpmnt: uidfile=/gidfile= need "
					"idmap=file\n");
			return -1;
		}
		return 0;
	}
	if (!o->uidfile && !o->gidfile) {
		fprintf(stderr, "sftpmnt: idmap=file needs uidfile= or "
				"gidfile=\n");
		return -1;
	}
	if (o->uidfile && !(o->uidmap = tab_load(o->uidfile, 0)))
		return -1;
	if (o->gidfile && !(o->gidmap = tab_load(o->gidfile, 1)))
		return -1;
	return 0;
}

void idmap_free(struct opts *o)
{
	tab_free(o->uidmap);
	tab_free(o->gidmap);
	o->uidmap = o->gidmap = NULL;
}

/* One id either way; a file's map with no entry for it is an error
 * under nomap=error.  A map not given (only uidfile=, say) leaves its
 * ids as they are. */
static int map_one(const struct conn *c, int group, int to_local,
		   uint32_t *id)
{
	const struct opts *o = c->o;
	const struct idmap_tab *t = group ? o->gidmap : o->uidmap;

	if (o->idmap == IDMAP_USER && c->remote_uid_known) {
		uint32_t remote = group ? c->remote_gid : c->remote_uid;
		uint32_t local = group ? (uint32_t)getgid()
				       : (uint32_t)getuid();

		if (to_local && *id == remote)
			*id = local;
		else if (!to_local && *id == local)
			*id = remote;
		return 0;
	}
	if (o->idmap != IDMAP_FILE || !t)
		return 0;
	if (tab_map(t, to_local, id) && o->nomap_error)
		return -EPERM;
	return 0;
}

int idmap_in(const struct conn *c, uint32_t *uid, uint32_t *gid)
{
	int rc = map_one(c, 0, 1, uid);

	return rc ? rc : map_one(c, 1, 1, gid);
}

int idmap_out(const struct conn *c, uint32_t *uid, uint32_t *gid)
{
	int rc = 0;

	/* (uint32_t)-1 is "no change" and is never mapped */
	if (*uid != (uint32_t)-1)
		rc = map_one(c, 0, 0, uid);
	if (!rc && *gid != (uint32_t)-1)
		rc = map_one(c, 1, 0, gid);
	return rc;
}
