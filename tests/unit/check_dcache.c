/*
 * check_dcache.c - what the kept directory listings (fs/dcache.c) may
 * cost, whatever a server lists.
 *
 * A server chooses how many names a directory has (an endless one never
 * ends) and how long they are.  The kept listings must stay within their
 * caps in bytes, not only in names: a listing of names of 255 bytes is
 * given up before it passes DC_LIST_BYTES_MAX (16 MiB), and all listings
 * together, those being read included, stay under DC_BYTES_MAX (64 MiB)
 * by dropping the oldest kept ones.  The heap in use (mallinfo2) is the
 * measure, with slack for malloc's own bookkeeping.  A listing given up
 * keeps no names: lookups in its directory go to the server (-1); what
 * is kept is that it is too big, so that it is not listed again in the
 * background (dc_listed, dc_build, dc_miss) before cache_timeout.
 */
#define _GNU_SOURCE
#include <check.h>
#include <limits.h>
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "sftpmnt.h"

/* dcache.c's caps (see there), and what malloc may spend besides */
#define LIST_BYTES (16u * 1024 * 1024)
#define ALL_BYTES (64u * 1024 * 1024)
#define SLACK (4u * 1024 * 1024)
/* a long name with a link count of 1 (dcache.c answers for such files) */
#define LNAME "-rw-r--r--    1 u g 5 Nov 14 22:13 x"
/* listings read one after the other, each as far as it may go */
#define LISTINGS 8
/* names offered to one listing: far more than it may keep */
#define OFFERED 100000

/* conn.c's clock, which dcache.c reads */
double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* The heap in use now, past h0 (0 if less). */
static size_t heap_over(size_t h0)
{
	struct mallinfo2 mi = mallinfo2();
	size_t h = mi.uordblks + mi.hblkhd; /* small blocks, and mmapped */

	return h > h0 ? h - h0 : 0;
}

static const struct sftp_attrs file_attrs = {
	.flags = SSH_FILEXFER_ATTR_PERMISSIONS | SSH_FILEXFER_ATTR_SIZE,
	.perm = S_IFREG | 0644,
	.size = 5,
};

/* Name i of a listing: NAME_MAX bytes. */
static void long_name(char *out, int i)
{
	int n = snprintf(out, NAME_MAX + 1, "n%07d", i);

	memset(out + n, 'x', NAME_MAX - (size_t)n);
	out[NAME_MAX] = 0;
}

/* Read dir's listing of names of NAME_MAX bytes until the cache gives it
 * up or OFFERED are in; end it as complete.  The number of names taken;
 * *grown: the heap in use past h0 just before the end. */
static int read_listing(struct dcache *d, const char *dir, size_t h0,
			size_t *grown)
{
	struct dlist *l = dc_build(d, dir);
	char name[NAME_MAX + 1];
	int i;

	ck_assert_ptr_nonnull(l);
	for (i = 0; i < OFFERED; i++) {
		long_name(name, i);
		if (dc_build_add(d, l, name, NAME_MAX, LNAME, strlen(LNAME),
				 &file_attrs, 0))
			break;
	}
	*grown = heap_over(h0);
	dc_build_end(d, l, 1);
	return i;
}

START_TEST(listing_bytes_capped)
{
	struct dcache *d = dc_new(60);
	struct sftp_attrs a;
	char path[NAME_MAX + 16], name[NAME_MAX + 1];
	size_t h0 = heap_over(0), peak;
	int n;

	ck_assert_ptr_nonnull(d);
	/* a short listing of such names is kept, and answers */
	{
		struct dlist *l = dc_build(d, "/small");

		long_name(name, 1);
		ck_assert_int_eq(dc_build_add(d, l, name, NAME_MAX, LNAME,
					      strlen(LNAME), &file_attrs, 0),
				 0);
		dc_build_end(d, l, 1);
		snprintf(path, sizeof(path), "/small/%s", name);
		ck_assert_int_eq(dc_lookup(d, path, &a), 1);
		long_name(name, 2);
		snprintf(path, sizeof(path), "/small/%s", name);
		ck_assert_int_eq(dc_lookup(d, path, &a), 0);
	}
	/* a long one is given up within its cap, and answers nothing */
	n = read_listing(d, "/huge", h0, &peak);
	ck_assert_msg(n < OFFERED, "all %d names kept", n);
	ck_assert_msg(n * (size_t)NAME_MAX < LIST_BYTES,
		      "%d names of %d bytes kept", n, NAME_MAX);
	long_name(name, 0);
	snprintf(path, sizeof(path), "/huge/%s", name);
	ck_assert_int_eq(dc_lookup(d, path, &a), -1);
	/* marked too big: not to be listed again for a while */
	ck_assert(dc_listed(d, "/huge"));
	ck_assert_ptr_null(dc_build(d, "/huge"));
	ck_assert_ptr_null(dc_miss(d, path));
	ck_assert_ptr_null(dc_miss(d, path));
	ck_assert_msg(peak < LIST_BYTES + SLACK, "heap grew by %zu", peak);
	dc_free(d);
}
END_TEST

/* Listings just under the per-listing cap, one after the other: the
 * oldest go to make room, the heap stays under the total cap, the newest
 * is kept and answers. */
START_TEST(all_bytes_capped)
{
	struct dcache *d = dc_new(60);
	struct sftp_attrs a;
	char dir[32], path[NAME_MAX + 40], name[NAME_MAX + 1];
	size_t h0 = heap_over(0), grown, most = 0;
	int i, k, n, kept = 0;

	ck_assert_ptr_nonnull(d);
	/* how many names of NAME_MAX bytes one listing may keep */
	n = read_listing(d, "/probe", h0, &grown) - 1;
	ck_assert_int_gt(n, 1000);
	for (i = 0; i < LISTINGS; i++) {
		struct dlist *l;

		snprintf(dir, sizeof(dir), "/d%d", i);
		l = dc_build(d, dir);
		ck_assert_ptr_nonnull(l);
		for (k = 0; k < n; k++) {
			long_name(name, k);
			if (dc_build_add(d, l, name, NAME_MAX, LNAME,
					 strlen(LNAME), &file_attrs, 0))
				break;
		}
		dc_build_end(d, l, 1);
		grown = heap_over(h0);
		if (grown > most)
			most = grown;
	}
	ck_assert_msg(most < ALL_BYTES + SLACK, "the heap grew by %zu", most);
	snprintf(dir, sizeof(dir), "/d%d", LISTINGS - 1);
	ck_assert(dc_listed(d, dir));
	long_name(name, 3);
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	ck_assert_int_eq(dc_lookup(d, path, &a), 1);
	for (i = 0; i < LISTINGS; i++) {
		snprintf(dir, sizeof(dir), "/d%d", i);
		kept += dc_listed(d, dir);
	}
	ck_assert_msg(kept < LISTINGS, "all %d listings kept", kept);
	/* the oldest went first (and, never too big, may be listed again) */
	ck_assert(!dc_listed(d, "/d0"));
	dc_free(d);
	ck_assert_msg(heap_over(h0) < SLACK, "%zu bytes left after dc_free",
		      heap_over(h0));
}
END_TEST

/* The too-big marker lasts cache_timeout: then the directory may be
 * listed (and kept, if it has shrunk) again. */
START_TEST(toobig_expires)
{
	struct dcache *d = dc_new(0.2);
	struct dlist *l;
	size_t g;

	ck_assert_ptr_nonnull(d);
	ck_assert_int_lt(read_listing(d, "/huge", 0, &g), OFFERED);
	ck_assert(dc_listed(d, "/huge"));
	ck_assert_ptr_null(dc_build(d, "/huge"));
	usleep(300000);
	ck_assert(!dc_listed(d, "/huge"));
	l = dc_build(d, "/huge");
	ck_assert_ptr_nonnull(l);
	ck_assert_int_eq(dc_build_add(d, l, "a", 1, LNAME, strlen(LNAME),
				      &file_attrs, 0),
			 0);
	dc_build_end(d, l, 1);
	ck_assert(dc_listed(d, "/huge"));
	{
		struct sftp_attrs a;

		ck_assert_int_eq(dc_lookup(d, "/huge/a", &a), 1);
	}
	dc_free(d);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("dcache");
	TCase *tc = tcase_create("caps");
	SRunner *sr;
	int failed;

	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, listing_bytes_capped);
	tcase_add_test(tc, all_bytes_capped);
	tcase_add_test(tc, toobig_expires);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
