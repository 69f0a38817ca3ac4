/*
 * check_transport.c - the transport engine in memory: identification
 * exchange (RFC 4253 section 4.2) fed in every chunking, and refused
 * when the peer is not an SSH-2 server; the framing of packets in clear
 * (RFC 4253 section 6) and the codes a bad one gets.
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "libssh2.h"
#include "transport.h"

static void feed(struct tp *t, const void *p, size_t n)
{
	size_t avail;
	uint8_t *d = tp_in_space(t, n, &avail);

	ck_assert_ptr_nonnull(d);
	ck_assert_uint_ge(avail, n);
	memcpy(d, p, n);
	tp_in_commit(t, n);
}

/* Feed s one byte at a time; return tp_banner_take's final result. */
static int take_bytewise(const char *s, char *id, size_t idcap,
			 const char **why)
{
	struct tp t;
	size_t i, n = strlen(s);
	int rc = 0;

	tp_init(&t, &lalloc_system);
	for (i = 0; i < n; i++) {
		feed(&t, s + i, 1);
		rc = tp_banner_take(&t, id, idcap, why);
		if (rc != 0)
			break;
		ck_assert_int_eq(rc, 0);
	}
	tp_free(&t);
	return rc;
}

START_TEST(banner_plain)
{
	char id[256];
	const char *why = NULL;

	ck_assert_int_eq(take_bytewise("SSH-2.0-OpenSSH_9.2p1 Debian\r\n", id,
				       sizeof(id), &why), 1);
	ck_assert_str_eq(id, "SSH-2.0-OpenSSH_9.2p1 Debian");
	/* LF alone is accepted too (RFC 4253 4.2 compatibility note) */
	ck_assert_int_eq(take_bytewise("SSH-2.0-x\n", id, sizeof(id), &why),
			 1);
	ck_assert_str_eq(id, "SSH-2.0-x");
	ck_assert_int_eq(take_bytewise("SSH-1.99-old\r\n", id, sizeof(id),
				       &why), 1);
}
END_TEST

START_TEST(banner_after_other_lines_keeps_rest)
{
	static const char in[] = "hello there\r\nsecond line\r\n"
				 "SSH-2.0-srv\r\n\x00\x00\x00\x0c";
	char id[256];
	const char *why;
	struct tp t;

	tp_init(&t, &lalloc_system);
	feed(&t, in, sizeof(in) - 1);
	ck_assert_int_eq(tp_banner_take(&t, id, sizeof(id), &why), 1);
	ck_assert_str_eq(id, "SSH-2.0-srv");
	/* what follows the line is left for the packet layer */
	ck_assert_uint_eq(t.in_end - t.in_start, 4);
	tp_free(&t);
}
END_TEST

START_TEST(banner_refusals)
{
	char id[256], longline[400];
	const char *why = NULL;
	struct tp t;
	int i;

	ck_assert_int_eq(take_bytewise("SSH-1.5-ancient\r\n", id, sizeof(id),
				       &why), LIBSSH2_ERROR_BANNER_RECV);
	ck_assert_ptr_nonnull(why);
	ck_assert_int_eq(take_bytewise("SSH-2.0-a\x01b\r\n", id, sizeof(id),
				       &why), LIBSSH2_ERROR_BANNER_RECV);
	memset(longline, 'a', sizeof(longline));
	memcpy(longline, "SSH-2.0-", 8);
	longline[sizeof(longline) - 1] = 0;
	ck_assert_int_eq(take_bytewise(longline, id, sizeof(id), &why),
			 LIBSSH2_ERROR_BANNER_RECV);
	/* an endless stream of other lines is cut off */
	tp_init(&t, &lalloc_system);
	for (i = 0; i < 1000; i++) {
		feed(&t, "junk\r\n", 6);
		if (tp_banner_take(&t, id, sizeof(id), &why) != 0)
			break;
	}
	ck_assert_int_lt(i, 1000);
	tp_free(&t);
	/* a NUL inside a pre-line is refused */
	ck_assert_int_eq(take_bytewise("a", id, sizeof(id), &why), 0);
	tp_init(&t, &lalloc_system);
	feed(&t, "x\0y\r\n", 5);
	ck_assert_int_eq(tp_banner_take(&t, id, sizeof(id), &why),
			 LIBSSH2_ERROR_BANNER_RECV);
	tp_free(&t);
}
END_TEST

START_TEST(banner_queue)
{
	char big[300];
	struct tp t;

	tp_init(&t, &lalloc_system);
	ck_assert_int_eq(tp_banner_queue(&t, "SSH-2.0-test"), 0);
	ck_assert_uint_eq(tp_out_len(&t), 14);
	ck_assert(!memcmp(tp_out_data(&t), "SSH-2.0-test\r\n", 14));
	tp_out_consume(&t, 5);
	ck_assert_uint_eq(tp_out_len(&t), 9);
	tp_out_consume(&t, 9);
	ck_assert_uint_eq(tp_out_len(&t), 0);
	memset(big, 'x', sizeof(big));
	big[sizeof(big) - 1] = 0;
	ck_assert_int_eq(tp_banner_queue(&t, big), LIBSSH2_ERROR_BANNER_SEND);
	tp_free(&t);
}
END_TEST

/* ---- packet framing (RFC 4253 6), before any key is in use ------------ */

/* A packet in clear: packet_length, padding_length, payload n bytes of
 * 'p', pad bytes of padding, with both length fields as given. */
static size_t frame(uint8_t *b, uint32_t len, uint8_t padlen, size_t n,
		    size_t pad)
{
	b[0] = (uint8_t)(len >> 24);
	b[1] = (uint8_t)(len >> 16);
	b[2] = (uint8_t)(len >> 8);
	b[3] = (uint8_t)len;
	b[4] = padlen;
	memset(b + 5, 'p', n);
	b[5] = 2; /* SSH_MSG_IGNORE */
	memset(b + 5 + n, 0, pad);
	return 5 + n + pad;
}

static int recv_one(const uint8_t *b, size_t n, size_t *got)
{
	struct tp t;
	const uint8_t *p;
	const char *why = NULL;
	int rc;

	tp_init(&t, &lalloc_system);
	feed(&t, b, n);
	rc = tp_recv(&t, &p, got, &why);
	/* every refusal says why */
	if (rc < 0)
		ck_assert_ptr_nonnull(why);
	tp_free(&t);
	return rc;
}

START_TEST(framing_good)
{
	uint8_t b[64];
	size_t got = 0;

	/* 4 + 1 + 7 + 4 = 16: the smallest padding, aligned to 8 */
	ck_assert_int_eq(recv_one(b, frame(b, 12, 4, 7, 4), &got), TP_PKT);
	ck_assert_uint_eq(got, 7);
	/* the whole packet not in yet: wait */
	ck_assert_int_eq(recv_one(b, frame(b, 12, 4, 7, 4) - 1, &got), 0);
}
END_TEST

/* The codes are libssh2 1.11.1's (_libssh2_transport_read): a length
 * too small, a misaligned one and a bad padding_length are DECRYPT, a
 * length over the limit OUT_OF_BOUNDARY (never PROTO: nothing was parsed
 * yet). */
START_TEST(framing_refused)
{
	uint8_t b[64];
	size_t got;

	/* packet_length 0, 1, 4: no room for padding_length and padding */
	ck_assert_int_eq(recv_one(b, frame(b, 0, 4, 7, 4), &got),
			 LIBSSH2_ERROR_DECRYPT);
	ck_assert_int_eq(recv_one(b, frame(b, 1, 4, 7, 4), &got),
			 LIBSSH2_ERROR_DECRYPT);
	ck_assert_int_eq(recv_one(b, frame(b, 4, 4, 7, 4), &got),
			 LIBSSH2_ERROR_DECRYPT);
	/* over SSH_PACKET_MAX, known from the first 4 bytes alone */
	ck_assert_int_eq(
		recv_one(b, frame(b, SSH_PACKET_MAX + 4, 4, 7, 4), &got),
		LIBSSH2_ERROR_OUT_OF_BOUNDARY);
	ck_assert_int_eq(recv_one(b, frame(b, 0xffffffffu, 4, 7, 4), &got),
			 LIBSSH2_ERROR_OUT_OF_BOUNDARY);
	/* 4 + 13 is not a multiple of 8 */
	ck_assert_int_eq(recv_one(b, frame(b, 13, 4, 8, 4), &got),
			 LIBSSH2_ERROR_DECRYPT);
	/* padding_length under 4; equal to packet_length - 1 (no payload);
	 * past the packet */
	ck_assert_int_eq(recv_one(b, frame(b, 12, 3, 8, 3), &got),
			 LIBSSH2_ERROR_DECRYPT);
	ck_assert_int_eq(recv_one(b, frame(b, 12, 11, 7, 4), &got),
			 LIBSSH2_ERROR_DECRYPT);
	ck_assert_int_eq(recv_one(b, frame(b, 12, 255, 7, 4), &got),
			 LIBSSH2_ERROR_DECRYPT);
}
END_TEST

/* Padding is random (RFC 4253 6), also now that it comes from a pool:
 * 200 packets of the same payload, before any cipher (the padding is in
 * clear), never repeat their padding, and a packet that takes more than
 * the pool holds still gets its bytes. */
START_TEST(padding_random)
{
	static uint8_t seen[200][32];
	struct tp t;
	uint8_t payload[1000] = { 20 };
	size_t i, j, pad;

	tp_init(&t, &lalloc_system);
	for (i = 0; i < 200; i++) {
		const uint8_t *p;

		ck_assert_int_eq(tp_send(&t, payload, 3), 0);
		p = tp_out_data(&t);
		pad = p[4];
		ck_assert_uint_ge(pad, 4);
		ck_assert_uint_le(pad, sizeof(seen[0]));
		memcpy(seen[i], p + 5 + 3, pad);
		for (j = 0; j < i; j++)
			ck_assert_msg(memcmp(seen[i], seen[j], pad) != 0,
				      "packets %zu and %zu: the same padding",
				      j, i);
		tp_out_consume(&t, tp_out_len(&t));
	}
	ck_assert_int_eq(tp_send(&t, payload, sizeof(payload)), 0);
	tp_free(&t);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("transport");
	TCase *tc = tcase_create("banner");
	SRunner *sr;
	int failed;

	tcase_add_test(tc, banner_plain);
	tcase_add_test(tc, banner_after_other_lines_keeps_rest);
	tcase_add_test(tc, banner_refusals);
	tcase_add_test(tc, banner_queue);
	suite_add_tcase(s, tc);
	tc = tcase_create("framing");
	tcase_add_test(tc, framing_good);
	tcase_add_test(tc, framing_refused);
	tcase_add_test(tc, padding_random);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
