/*
 * check_links.c - unit tests of what the daemon shows of a symbolic
 * link's target (fs/links.c): lexical normalisation, transform_symlinks
 * (an absolute target inside the mounted root made relative to the
 * link's directory) and contain_symlinks (a target that could lead out
 * of the mount on the client refused with EACCES).  Fixed cases first,
 * then properties over many generated targets: a rewritten target names
 * the same path as the original; an accepted target stays inside the
 * root however its components resolve.
 */
#define _GNU_SOURCE
#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../fs/links.h"

static void norm_is(const char *in, const char *want)
{
	char *got = normalize(in);

	ck_assert_ptr_nonnull(got);
	ck_assert_msg(!strcmp(got, want), "normalize(\"%s\") = \"%s\", not \"%s\"",
		      in, got, want);
	free(got);
}

START_TEST(normalizes)
{
	norm_is("/a/b/../c", "/a/c");
	norm_is("//a/./b/", "/a/b");
	norm_is("/..", "/");
	norm_is("/../../x", "/x");
	norm_is("", "/");
	norm_is("/", "/");
	norm_is("a/b", "/a/b");
	norm_is("/a/b/c/../../..", "/");
	norm_is("/a/.../b", "/a/.../b"); /* "..." is a name */
	norm_is("/a/..b/c", "/a/..b/c");
}
END_TEST

/* link_policy with the target copied; returns rc, *out the result. */
static int policy(const char *root, int tr, int ct, const char *link,
		  const char *target, char **out)
{
	char *t = strdup(target);
	int rc;

	ck_assert_ptr_nonnull(t);
	rc = link_policy(root, tr, ct, link, &t);
	*out = t;
	return rc;
}

static void shows(const char *root, int tr, int ct, const char *link,
		  const char *target, int want_rc, const char *want)
{
	char *got;
	int rc = policy(root, tr, ct, link, target, &got);

	ck_assert_msg(rc == want_rc, "%s -> %s (root %s, t%d c%d): rc %d, not %d",
		      link, target, root, tr, ct, rc, want_rc);
	if (!rc)
		ck_assert_msg(!strcmp(got, want),
			      "%s -> %s (root %s, t%d c%d): \"%s\", not \"%s\"",
			      link, target, root, tr, ct, got, want);
	free(got);
}

START_TEST(verbatim_by_default)
{
	shows("/home/u", 0, 0, "/home/u/l", "/etc/passwd", 0, "/etc/passwd");
	shows("/home/u", 0, 0, "/home/u/l", "../../../x", 0, "../../../x");
	shows("/home/u", 0, 0, "/home/u/l", "", 0, "");
}
END_TEST

START_TEST(transform)
{
	shows("/home/u", 1, 0, "/home/u/d/l", "/home/u/x/y", 0, "../x/y");
	shows("/home/u", 1, 0, "/home/u/d/l", "/home/u/d/f", 0, "f");
	shows("/home/u", 1, 0, "/home/u/l", "/home/u/f", 0, "f");
	shows("/home/u", 1, 0, "/home/u/d/e/l", "/home/u", 0, "../..");
	shows("/home/u", 1, 0, "/home/u/d/l", "/home/u/d", 0, ".");
	/* outside the root, or relative: left as it is */
	shows("/home/u", 1, 0, "/home/u/d/l", "/etc/passwd", 0, "/etc/passwd");
	shows("/home/u", 1, 0, "/home/u/d/l", "/home/user2/x", 0,
	      "/home/user2/x");
	shows("/home/u", 1, 0, "/home/u/d/l", "../x", 0, "../x");
	/* the whole server mounted: every absolute target */
	shows("/", 1, 0, "/a/b/l", "/etc/passwd", 0, "../../etc/passwd");
	shows("/", 1, 0, "/l", "/etc", 0, "etc");
}
END_TEST

START_TEST(contain)
{
	/* absolute targets name the client's files */
	shows("/home/u", 0, 1, "/home/u/l", "/etc/passwd", -EACCES, NULL);
	shows("/home/u", 0, 1, "/home/u/l", "/home/u/f", -EACCES, NULL);
	/* ...unless transformed into the mount first */
	shows("/home/u", 1, 1, "/home/u/d/l", "/home/u/f", 0, "../f");
	shows("/home/u", 1, 1, "/home/u/d/l", "/etc/passwd", -EACCES, NULL);
	/* relative: not above the root */
	shows("/home/u", 0, 1, "/home/u/d/l", "../f", 0, "../f");
	shows("/home/u", 0, 1, "/home/u/d/l", "../../f", -EACCES, NULL);
	shows("/home/u", 0, 1, "/home/u/l", "./f", 0, "./f");
	/* nor ".." after a name, which may be a symlink itself */
	shows("/home/u", 0, 1, "/home/u/d/l", "x/../f", -EACCES, NULL);
	shows("/home/u", 0, 1, "/home/u/d/l", "up/../../..", -EACCES, NULL);
	shows("/home/u", 0, 1, "/home/u/d/l", "../x/y", 0, "../x/y");
	/* up out of the root and down again by its name: on the client
	 * that is a directory beside the mount point */
	shows("/home/u", 0, 1, "/home/u/l", "../u/f", -EACCES, NULL);
	shows("/", 0, 1, "/l", "../etc/passwd", -EACCES, NULL);
	shows("/", 0, 1, "/a/l", "../etc/passwd", 0, "../etc/passwd");
	/* a name that only starts with dots is a name */
	shows("/home/u", 0, 1, "/home/u/l", "..x/f", 0, "..x/f");
}
END_TEST

/* ---- properties over generated targets ------------------------------------ */

static unsigned rnd_state = 12345;

static unsigned rnd(unsigned n)
{
	rnd_state = rnd_state * 1103515245u + 12345u;
	return (rnd_state >> 16) % n;
}

/* a path of up to 6 components from a small alphabet */
static void gen(char *out, size_t cap, int absolute)
{
	static const char *part[] = {"a", "b", "..", ".", "", "u", "home"};
	int n = (int)rnd(7), i;

	out[0] = '\0';
	if (absolute)
		strcat(out, "/");
	for (i = 0; i < n && strlen(out) + 8 < cap; i++) {
		if (i)
			strcat(out, "/");
		strcat(out, part[rnd(7)]);
	}
}

START_TEST(rewritten_names_the_same_path)
{
	static const char *roots[] = {"/", "/home/u", "/a"};
	int i;

	for (i = 0; i < 200000; i++) {
		const char *root = roots[rnd(3)];
		char target[128], ldir[128], link[160], *got, *j, *n1, *n2;
		int rc;

		gen(target, sizeof(target), 1);
		gen(ldir, sizeof(ldir), 0);
		n1 = normalize(ldir);
		snprintf(link, sizeof(link), "%s%s/l", strcmp(root, "/") ? root : "",
			 n1);
		free(n1);
		rc = policy(root, 1, 0, link, target, &got);
		ck_assert_int_eq(rc, 0);
		if (got[0] != '/') { /* rewritten: from the link's directory */
			char *d = strdup(link);

			*strrchr(d, '/') = '\0';
			j = path_join(*d ? d : "/", got);
			n1 = normalize(j);
			n2 = normalize(target);
			ck_assert_msg(!strcmp(n1, n2),
				      "root %s, %s -> %s shown as %s = %s", root,
				      link, target, got, n1);
			free(d);
			free(j);
			free(n1);
			free(n2);
		}
		free(got);
	}
}
END_TEST

/* Resolve a relative target from dir, treating every component as a
 * possible symlink to anywhere: the only safe answer is a target whose
 * every prefix, resolved lexically, stays inside root, which never goes
 * up from the root itself (on the client: above the mount point) and
 * never up after a name.  Walked component by component. */
static int stays_inside(const char *root, const char *dir, const char *t)
{
	char cur[512], *part, *save, *copy = strdup(t);
	int down = 0, ok = 1;
	size_t rl = strlen(root);

	snprintf(cur, sizeof(cur), "%s", dir);
	for (part = strtok_r(copy, "/", &save); part && ok;
	     part = strtok_r(NULL, "/", &save)) {
		if (!strcmp(part, "."))
			continue;
		if (!strcmp(part, "..")) {
			char *sl = strrchr(cur, '/');

			if (down)
				ok = 0; /* up through a name: could be anywhere */
			else if (!strcmp(cur, root))
				ok = 0; /* above the mount point on the client */
			else if (sl)
				*(sl == cur ? sl + 1 : sl) = '\0';
		} else {
			down = 1;
			if (strlen(cur) + strlen(part) + 2 < sizeof(cur)) {
				if (strcmp(cur, "/"))
					strcat(cur, "/");
				strcat(cur, part);
			}
		}
		if (strcmp(root, "/") &&
		    !(strncmp(cur, root, rl) == 0 &&
		      (cur[rl] == '\0' || cur[rl] == '/')))
			ok = 0;
	}
	free(copy);
	return ok;
}

START_TEST(accepted_stays_inside)
{
	static const char *roots[] = {"/", "/home/u", "/a"};
	int i, accepted = 0, refused = 0;

	for (i = 0; i < 200000; i++) {
		const char *root = roots[rnd(3)];
		char target[128], ldir[128], link[160], dir[160], *got, *n1;
		int rc, tr = (int)rnd(2);

		gen(target, sizeof(target), (int)rnd(2));
		gen(ldir, sizeof(ldir), 0);
		n1 = normalize(ldir);
		snprintf(dir, sizeof(dir), "%s%s", strcmp(root, "/") ? root : "",
			 strcmp(n1, "/") ? n1 : "");
		if (!dir[0])
			strcpy(dir, "/");
		snprintf(link, sizeof(link), "%s%sl", dir,
			 strcmp(dir, "/") ? "/" : "");
		free(n1);
		rc = policy(root, tr, 1, link, target, &got);
		ck_assert(rc == 0 || rc == -EACCES);
		if (rc == 0) {
			accepted++;
			ck_assert_msg(got[0] != '/',
				      "absolute target shown: %s -> %s", link,
				      got);
			ck_assert_msg(stays_inside(root, dir, got),
				      "root %s: %s -> %s (shown %s) may leave it",
				      root, link, target, got);
		} else {
			refused++;
		}
		free(got);
	}
	/* (the generator makes both kinds: the property is not vacuous) */
	ck_assert_int_gt(accepted, 10000);
	ck_assert_int_gt(refused, 10000);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("links");
	TCase *tc = tcase_create("links");
	SRunner *sr;
	int failed;

	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, normalizes);
	tcase_add_test(tc, verbatim_by_default);
	tcase_add_test(tc, transform);
	tcase_add_test(tc, contain);
	tcase_add_test(tc, rewritten_names_the_same_path);
	tcase_add_test(tc, accepted_stays_inside);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
