/*
 * check_transport.c - the transport engine in memory: identification
 * exchange (RFC 4253 section 4.2) fed in every chunking, and refused
 * when the peer is not an SSH-2 server; the framing of packets in clear
 * (RFC 4253 section 6) and the codes a bad one gets, compressed
 * payloads included.
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

/* The same, keeping the payload bytes already at b + 5. */
static size_t frame_len(uint8_t *b, uint32_t len, uint8_t padlen, size_t n,
			size_t pad)
{
	b[0] = (uint8_t)(len >> 24);
	b[1] = (uint8_t)(len >> 16);
	b[2] = (uint8_t)(len >> 8);
	b[3] = (uint8_t)len;
	b[4] = padlen;
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

/* A packet in clear whose payload is data[n] compressed by z (in parts
 * that comp_deflate takes: the flushed pieces inflate as one). */
static size_t zframe(struct comp_stream *z, const uint8_t *data, size_t n,
		     uint8_t *b, size_t cap)
{
	const uint8_t *c;
	size_t cn, pad, len = 0, part;

	do {
		part = n > SSH_PACKET_MAX ? SSH_PACKET_MAX : n;
		ck_assert_int_eq(comp_deflate(z, data, part, &c, &cn), 0);
		ck_assert_uint_le(5 + len + cn, cap);
		memcpy(b + 5 + len, c, cn);
		len += cn;
		data += part;
		n -= part;
	} while (n);
	pad = 8 - (5 + len) % 8;
	if (pad < 4)
		pad += 8;
	ck_assert_uint_le(5 + len + pad, cap);
	return frame_len(b, (uint32_t)(1 + len + pad), (uint8_t)pad, len, pad);
}

/* Compressed payloads (RFC 4253 6.2) as tp_recv() decodes them: one that
 * inflates to more than SSH_INFLATE_MAX, and corrupt compressed data,
 * are LIBSSH2_ERROR_ZLIB with a reason, as in libssh2 1.11.1 (its
 * "Excessive growth in decompression phase"); exactly the limit passes.
 * The stream is broken after a refusal. */
START_TEST(framing_inflate)
{
	static uint8_t big[SSH_INFLATE_MAX + 1], b[8192];
	struct comp_stream z;
	struct tp t;
	const uint8_t *p;
	const char *why;
	size_t n, got;
	int flip;

	big[0] = 2; /* SSH_MSG_IGNORE, then zeros */
	for (flip = 0; flip < 3; flip++) {
		comp_init(&z, &lalloc_system, 1);
		comp_restart(&z);
		tp_init(&t, &lalloc_system);
		comp_restart(&t.zrx);
		/* a small packet first: the stream works */
		feed(&t, b, zframe(&z, big, 10, b, sizeof(b)));
		why = NULL;
		ck_assert_int_eq(tp_recv(&t, &p, &got, &why), TP_PKT);
		ck_assert_uint_eq(got, 10);
		n = zframe(&z, big, flip == 1 ? sizeof(big) - 1 : sizeof(big),
			   b, sizeof(b));
		if (flip == 2)
			b[7] ^= 0x40; /* inside the deflate data */
		feed(&t, b, n);
		if (flip == 1) {
			ck_assert_int_eq(tp_recv(&t, &p, &got, &why), TP_PKT);
			ck_assert_uint_eq(got, SSH_INFLATE_MAX);
		} else {
			ck_assert_int_eq(tp_recv(&t, &p, &got, &why),
					 LIBSSH2_ERROR_ZLIB);
			ck_assert_ptr_nonnull(why);
			ck_assert_ptr_nonnull(strstr(
				why, flip ? "corrupt" : "maximum packet size"));
			/* nothing more comes out of a broken stream */
			feed(&t, b, zframe(&z, big, 10, b, sizeof(b)));
			ck_assert_int_eq(tp_recv(&t, &p, &got, &why),
					 LIBSSH2_ERROR_ZLIB);
		}
		tp_free(&t);
		comp_free(&z);
	}
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
	tcase_add_test(tc, framing_inflate);
	tcase_add_test(tc, padding_random);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
