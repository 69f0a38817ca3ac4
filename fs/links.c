/*
 * links.c - what the client is shown of a symbolic link's target
 * (man sftpmnt, "Symbolic links"): the transform_symlinks and
 * contain_symlinks options.  Pure string work on server paths, no I/O:
 * the daemon calls it for every READLINK reply (ops.c), the unit tests
 * (tests/unit/check_links.c) call it directly.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "links.h"

char *path_join(const char *dir, const char *name)
{
	char *p;

	if (asprintf(&p, "%s%s%s", dir, strcmp(dir, "/") ? "/" : "", name) < 0)
		return NULL;
	return p;
}

/* Lexically normalised absolute path (".", "..", "//" removed). */
char *normalize(const char *p)
{
	char *out = malloc(strlen(p) + 2), *o = out;
	const char *s = p;

	if (!out)
		return NULL;
	*o = '\0';
	while (*s) {
		const char *e = strchrnul(s, '/');
		size_t n = (size_t)(e - s);

		if (n == 0 || (n == 1 && s[0] == '.')) {
			/* nothing */
		} else if (n == 2 && s[0] == '.' && s[1] == '.') {
			char *sl = strrchr(out, '/');

			if (sl)
				*sl = '\0';
		} else {
			*o = '\0';
			o = out + strlen(out);
			*o++ = '/';
			memcpy(o, s, n);
			o[n] = '\0';
		}
		o = out + strlen(out);
		s = *e ? e + 1 : e;
	}
	if (!out[0])
		strcpy(out, "/");
	return out;
}

static int inside(const char *root, const char *p)
{
	size_t n = strlen(root);

	if (!strcmp(root, "/"))
		return 1;
	return !strncmp(p, root, n) && (p[n] == '\0' || p[n] == '/');
}

/* Components of p (normalised) below root; -1 when p is not inside it. */
static int depth_below(const char *root, const char *p)
{
	int d = 0;

	if (!inside(root, p))
		return -1;
	for (p += strcmp(root, "/") ? strlen(root) : 0; *p; p++)
		if (*p == '/' && p[1])
			d++;
	return d;
}

/*
 * Would a relative target, followed on the client from its link's
 * directory (dir, normalised), lead out of the mount?  Walked a
 * component at a time, as the client's kernel does: ".." in the mounted
 * root leaves it (to the client's directory above the mount point,
 * whatever names follow: "../u/f" from the root of a mount of /home/u
 * is not /home/u/f on the client), and ".." after a name goes up from
 * wherever that name led - it may be a symlink itself (with x ->
 * "../..", "x/../../etc" is inside the root by the letter and far above
 * the mount on the client).
 */
static int leaves(const char *root, const char *dir, const char *t)
{
	int depth = depth_below(root, dir), down = 0;

	if (depth < 0)
		return 1;
	while (*t) {
		const char *e = strchrnul(t, '/');
		size_t n = (size_t)(e - t);

		if (n == 2 && t[0] == '.' && t[1] == '.') {
			if (down || depth == 0)
				return 1;
			depth--;
		} else if (n && !(n == 1 && t[0] == '.')) {
			down = 1;
		}
		t = *e ? e + 1 : e;
	}
	return 0;
}

/*
 * The symlink options (man sftpmnt: "Symbolic links"): by default the
 * target is shown verbatim.  transform_symlinks rewrites an absolute
 * target inside the mounted root to a relative one (so it still works
 * on the client); contain_symlinks refuses (EACCES) a target that would
 * resolve outside the mount on the client - any absolute target left,
 * a relative one climbing above the root, or one with ".." after a name
 * (that name may be a symlink) - so a hostile server cannot
 * point the client's programs at the client's own files.  root: the
 * mounted directory on the server, linkpath: the link's path there, *t:
 * its target as the server gave it (replaced when rewritten).  0 or
 * -errno.
 */
int link_policy(const char *root, int transform, int contain,
		const char *linkpath, char **t)
{
	char *dir, *abs, *sl;
	int rc = 0;

	if (!transform && !contain)
		return 0;
	dir = strdup(linkpath);
	if (!dir)
		return -ENOMEM;
	sl = strrchr(dir, '/');
	if (sl)
		*(sl == dir ? sl + 1 : sl) = '\0';
	if ((*t)[0] == '/')
		abs = normalize(*t);
	else {
		char *j = path_join(dir, *t);

		abs = j ? normalize(j) : NULL;
		free(j);
	}
	if (!abs) {
		free(dir);
		return -ENOMEM;
	}
	if (transform && (*t)[0] == '/' && inside(root, abs)) {
		/* ../ for each component of dir below the root's common
		 * prefix with abs, then the rest of abs */
		char *ndir = normalize(dir), *rel;
		size_t common = 0, i, ups = 0, len;

		if (!ndir) {
			free(dir);
			free(abs);
			return -ENOMEM;
		}
		for (i = 0; ndir[i] && ndir[i] == abs[i]; i++)
			if (ndir[i] == '/')
				common = i;
		if ((!ndir[i] && (abs[i] == '/' || !abs[i])) ||
		    (!abs[i] && ndir[i] == '/'))
			common = i; /* one is the other's directory */
		for (i = common; ndir[i]; i++)
			if (ndir[i] == '/' && ndir[i + 1])
				ups++;
		len = ups * 3 + strlen(abs + common) + 2;
		rel = malloc(len);
		if (rel) {
			rel[0] = '\0';
			for (i = 0; i < ups; i++)
				strcat(rel, "../");
			strcat(rel, abs[common] == '/' ? abs + common + 1
						      : abs + common);
			if (!rel[0])
				strcpy(rel, ".");
			else if (rel[strlen(rel) - 1] == '/')
				rel[strlen(rel) - 1] = '\0'; /* "../.." */
			free(*t);
			*t = rel;
		}
		free(ndir);
	}
	/* An absolute target is a path on the CLIENT: never contained; a
	 * relative one must not lead out of the mount (leaves). */
	if (contain) {
		char *ndir = normalize(dir);

		if (!ndir)
			rc = -ENOMEM;
		else if ((*t)[0] == '/' || leaves(root, ndir, *t))
			rc = -EACCES;
		free(ndir);
	}
	free(dir);
	free(abs);
	return rc;
}
