/*
 * check_buf.c - unit tests of the wire buffers (lib/buf.c).
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "libssh2.h"

#include "buf.h"

START_TEST(reader_scalars)
{
	static const uint8_t in[] = { 0x01, 0x00, 0x00, 0x01, 0x02, 0x80,
				      0x01, 0x02, 0x03, 0x04, 0x05, 0x06,
				      0x07, 0x08 };
	struct rbuf r;
	uint8_t b;
	uint32_t u;
	uint64_t q;
	int t;

	rb_init(&r, in, sizeof(in));
	ck_assert_int_eq(rb_u8(&r, &b), 0);
	ck_assert_uint_eq(b, 1);
	ck_assert_int_eq(rb_u32(&r, &u), 0);
	ck_assert_uint_eq(u, 0x00000102);
	ck_assert_int_eq(rb_bool(&r, &t), 0);
	ck_assert_int_eq(t, 1); /* any non-zero byte is TRUE */
	ck_assert_int_eq(rb_u64(&r, &q), 0);
	ck_assert(q == 0x0102030405060708ull);
	ck_assert_int_eq(rb_done(&r), 0);
	ck_assert_int_eq(rb_u8(&r, &b), BUF_ESHORT);
}
END_TEST

START_TEST(reader_short_does_not_move)
{
	static const uint8_t in[] = { 0, 0, 0 };
	struct rbuf r;
	uint32_t u;

	rb_init(&r, in, sizeof(in));
	ck_assert_int_eq(rb_u32(&r, &u), BUF_ESHORT);
	ck_assert_uint_eq(r.off, 0);
	ck_assert_int_eq(rb_done(&r), BUF_EINVAL);
}
END_TEST

START_TEST(reader_string_bounds)
{
	/* length 5 but only 4 bytes follow */
	static const uint8_t shortstr[] = { 0, 0, 0, 5, 'a', 'b', 'c', 'd' };
	/* length 0xffffffff: must not wrap the bounds check */
	static const uint8_t huge[] = { 0xff, 0xff, 0xff, 0xff, 'a' };
	static const uint8_t ok[] = { 0, 0, 0, 3, 'a', 'b', 'c' };
	const uint8_t *p;
	struct rbuf r;
	size_t n;

	rb_init(&r, shortstr, sizeof(shortstr));
	ck_assert_int_eq(rb_string(&r, &p, &n, 100), BUF_ESHORT);
	ck_assert_uint_eq(r.off, 0);
	rb_init(&r, huge, sizeof(huge));
	ck_assert_int_eq(rb_string(&r, &p, &n, SIZE_MAX), BUF_ESHORT);
	ck_assert_int_eq(rb_string(&r, &p, &n, 100), BUF_EBIG);
	rb_init(&r, ok, sizeof(ok));
	ck_assert_int_eq(rb_string(&r, &p, &n, 2), BUF_EBIG);
	ck_assert_int_eq(rb_string(&r, &p, &n, 3), 0);
	ck_assert_uint_eq(n, 3);
	ck_assert(p == ok + 4); /* borrowed, not copied */
	ck_assert_int_eq(rb_done(&r), 0);
}
END_TEST

START_TEST(reader_text_refuses_nul)
{
	static const uint8_t in[] = { 0, 0, 0, 3, 'a', 0, 'c' };
	const char *p;
	struct rbuf r;
	size_t n;

	rb_init(&r, in, sizeof(in));
	ck_assert_int_eq(rb_text(&r, &p, &n, 10), BUF_EINVAL);
	ck_assert_uint_eq(r.off, 0);
}
END_TEST

START_TEST(reader_sub)
{
	static const uint8_t in[] = { 0, 0, 0, 6, 0, 0, 0, 2, 'h', 'i', 9 };
	struct rbuf r, sub;
	const char *p;
	size_t n;
	uint8_t b;

	rb_init(&r, in, sizeof(in));
	ck_assert_int_eq(rb_sub(&r, &sub, 64), 0);
	ck_assert_int_eq(rb_text(&sub, &p, &n, 64), 0);
	ck_assert_int_eq(n, 2);
	ck_assert(!memcmp(p, "hi", 2));
	ck_assert_int_eq(rb_done(&sub), 0);
	ck_assert_int_eq(rb_u8(&r, &b), 0);
	ck_assert_uint_eq(b, 9);
}
END_TEST

/* RFC 4251 section 5 mpint examples. */
START_TEST(mpint_examples)
{
	static const uint8_t zero[] = { 0, 0, 0, 0 };
	static const uint8_t x1[] = { 0, 0, 0, 8, 0x09, 0xa3, 0x78, 0xf9,
				      0xb2, 0xe3, 0x32, 0xa7 };
	static const uint8_t x80[] = { 0, 0, 0, 2, 0x00, 0x80 };
	static const uint8_t neg[] = { 0, 0, 0, 2, 0xed, 0xcc };
	static const uint8_t nonmin[] = { 0, 0, 0, 2, 0x00, 0x7f };
	static const uint8_t lonezero[] = { 0, 0, 0, 1, 0x00 };
	const uint8_t *p;
	struct rbuf r;
	struct wbuf w;
	size_t n;

	rb_init(&r, zero, sizeof(zero));
	ck_assert_int_eq(rb_mpint(&r, &p, &n, 64), 0);
	ck_assert_uint_eq(n, 0);
	rb_init(&r, x1, sizeof(x1));
	ck_assert_int_eq(rb_mpint(&r, &p, &n, 64), 0);
	ck_assert_uint_eq(n, 8);
	rb_init(&r, x80, sizeof(x80));
	ck_assert_int_eq(rb_mpint(&r, &p, &n, 64), 0);
	ck_assert_uint_eq(n, 1);
	ck_assert_uint_eq(p[0], 0x80);
	rb_init(&r, x80, sizeof(x80));
	ck_assert_int_eq(rb_mpint(&r, &p, &n, 1), 0); /* sign byte is free */
	rb_init(&r, neg, sizeof(neg));
	ck_assert_int_eq(rb_mpint(&r, &p, &n, 64), BUF_EINVAL);
	rb_init(&r, nonmin, sizeof(nonmin));
	ck_assert_int_eq(rb_mpint(&r, &p, &n, 64), BUF_EINVAL);
	rb_init(&r, lonezero, sizeof(lonezero));
	ck_assert_int_eq(rb_mpint(&r, &p, &n, 64), BUF_EINVAL);

	wb_init(&w, &lalloc_system, 1024);
	ck_assert_int_eq(wb_mpint(&w, (const uint8_t *)"\0\0\x80", 3), 0);
	ck_assert_uint_eq(w.len, sizeof(x80));
	ck_assert(!memcmp(w.p, x80, sizeof(x80)));
	wb_reset(&w);
	ck_assert_int_eq(wb_mpint(&w, (const uint8_t *)"\0", 1), 0);
	ck_assert_uint_eq(w.len, 4);
	ck_assert(!memcmp(w.p, zero, 4));
	wb_reset(&w);
	ck_assert_int_eq(wb_mpint(&w, x1 + 4, 8), 0);
	ck_assert(!memcmp(w.p, x1, sizeof(x1)));
	wb_free(&w);
}
END_TEST

START_TEST(writer_roundtrip_and_len)
{
	struct wbuf w;
	struct rbuf r, sub;
	size_t mark;
	uint32_t u;
	uint64_t q;
	const char *t;
	size_t n;

	wb_init(&w, &lalloc_system, 4096);
	ck_assert_int_eq(wb_u32(&w, 0xdeadbeef), 0);
	ck_assert_int_eq(wb_begin_len(&w, &mark), 0);
	ck_assert_int_eq(wb_cstring(&w, "hello"), 0);
	ck_assert_int_eq(wb_u64(&w, 42), 0);
	wb_end_len(&w, mark);
	ck_assert_int_eq(wb_ok(&w), 0);

	rb_init(&r, w.p, w.len);
	ck_assert_int_eq(rb_u32(&r, &u), 0);
	ck_assert_uint_eq(u, 0xdeadbeef);
	ck_assert_int_eq(rb_sub(&r, &sub, 4096), 0);
	ck_assert_uint_eq(rb_left(&sub), 4 + 5 + 8);
	ck_assert_int_eq(rb_text(&sub, &t, &n, 64), 0);
	ck_assert(n == 5 && !memcmp(t, "hello", 5));
	ck_assert_int_eq(rb_u64(&sub, &q), 0);
	ck_assert(q == 42);
	ck_assert_int_eq(rb_done(&sub), 0);
	ck_assert_int_eq(rb_done(&r), 0);
	wb_free(&w);
}
END_TEST

START_TEST(writer_cap_is_sticky)
{
	struct wbuf w;
	uint8_t big[100];

	memset(big, 7, sizeof(big));
	wb_init(&w, &lalloc_system, 64);
	ck_assert_int_eq(wb_bytes(&w, big, 60), 0);
	ck_assert_int_eq(wb_u32(&w, 1), 0); /* exactly 64 */
	ck_assert_int_eq(wb_u8(&w, 1), BUF_EBIG);
	ck_assert_uint_eq(w.len, 64);
	/* later small puts keep failing until reset */
	ck_assert_int_eq(wb_u8(&w, 1), BUF_EBIG);
	ck_assert_int_eq(wb_ok(&w), BUF_EBIG);
	wb_reset(&w);
	ck_assert_int_eq(wb_ok(&w), 0);
	ck_assert_int_eq(wb_bytes(&w, big, 64), 0);
	wb_free_wipe(&w);
	ck_assert(w.p == NULL);
}
END_TEST

START_TEST(writer_grows)
{
	struct wbuf w;
	uint32_t i;

	wb_init(&w, &lalloc_system, 1 << 20);
	for (i = 0; i < 100000; i++)
		ck_assert_int_eq(wb_u32(&w, i), 0);
	ck_assert_uint_eq(w.len, 400000);
	for (i = 0; i < 100000; i++)
		ck_assert_uint_eq(get_u32(w.p + 4 * i), i);
	wb_free(&w);
}
END_TEST

static int fail_after;

static LIBSSH2_ALLOC_FUNC(fail_alloc)
{
	(void)abstract;
	return fail_after-- > 0 ? malloc(count) : NULL;
}
static LIBSSH2_REALLOC_FUNC(fail_realloc)
{
	(void)abstract;
	return fail_after-- > 0 ? realloc(ptr, count) : NULL;
}
static LIBSSH2_FREE_FUNC(fail_free)
{
	(void)abstract;
	free(ptr);
}

START_TEST(writer_enomem)
{
	static void *abs_;
	const struct lalloc fa = { fail_alloc, fail_free, fail_realloc,
				   &abs_ };
	uint8_t big[1000] = { 0 };
	struct wbuf w;

	fail_after = 1;
	wb_init(&w, &fa, 1 << 20);
	ck_assert_int_eq(wb_bytes(&w, big, 10), 0);
	ck_assert_int_eq(wb_bytes(&w, big, sizeof(big)), BUF_ENOMEM);
	ck_assert_uint_eq(w.len, 10); /* the failed put added nothing */
	wb_free(&w);
}
END_TEST

/* Every truncation of a valid nested message fails cleanly. */
START_TEST(truncations)
{
	struct wbuf w;
	size_t mark, cut;

	wb_init(&w, &lalloc_system, 4096);
	ck_assert_int_eq(wb_u8(&w, 20), 0);
	ck_assert_int_eq(wb_begin_len(&w, &mark), 0);
	ck_assert_int_eq(wb_cstring(&w, "curve25519-sha256"), 0);
	ck_assert_int_eq(wb_mpint(&w, (const uint8_t *)"\xff\x01", 2), 0);
	wb_end_len(&w, mark);
	ck_assert_int_eq(wb_u32(&w, 7), 0);
	for (cut = 0; cut < w.len; cut++) {
		uint8_t *copy = malloc(cut ? cut : 1);
		struct rbuf r, sub;
		const uint8_t *p;
		const char *t;
		uint8_t b;
		uint32_t u;
		size_t n;
		int rc;

		memcpy(copy, w.p, cut);
		rb_init(&r, copy, cut);
		rc = rb_u8(&r, &b);
		if (!rc)
			rc = rb_sub(&r, &sub, 4096);
		if (!rc)
			rc = rb_text(&sub, &t, &n, 64);
		if (!rc)
			rc = rb_mpint(&sub, &p, &n, 64);
		if (!rc)
			rc = rb_done(&sub);
		if (!rc)
			rc = rb_u32(&r, &u);
		if (!rc)
			rc = rb_done(&r);
		ck_assert_msg(rc != 0, "truncation at %zu accepted", cut);
		free(copy);
	}
	wb_free(&w);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("buf");
	TCase *tc = tcase_create("core");
	SRunner *sr;
	int failed;

	tcase_add_test(tc, reader_scalars);
	tcase_add_test(tc, reader_short_does_not_move);
	tcase_add_test(tc, reader_string_bounds);
	tcase_add_test(tc, reader_text_refuses_nul);
	tcase_add_test(tc, reader_sub);
	tcase_add_test(tc, mpint_examples);
	tcase_add_test(tc, writer_roundtrip_and_len);
	tcase_add_test(tc, writer_cap_is_sticky);
	tcase_add_test(tc, writer_grows);
	tcase_add_test(tc, writer_enomem);
	tcase_add_test(tc, truncations);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
