/*
 * check_comp.c - SSH compression (comp.c) and its place in the transport:
 * many packets of one stream each way, payloads of every kind up to the
 * largest we build; the inflate cap (a "zip bomb" packet fails, one of
 * exactly the cap passes, the buffer never exceeds it); corrupt, flipped,
 * truncated and ended streams; and in memory between two transports:
 * "zlib" from NEWKEYS, "zlib@openssh.com" from USERAUTH_SUCCESS on, the
 * context restarted at a rekey (RFC 4253 6.2), a peer that does not
 * compress, a bomb through tp_recv().
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "comp.h"
#include "libssh2.h"
#include "transport.h"

static uint64_t rng = 0x9e3779b97f4a7c15ull;

static uint32_t rnd(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (uint32_t)(rng >> 11);
}

/* Payload number i: text-like, zeros, random or mixed, 1..max bytes. */
static size_t make_payload(uint8_t *p, size_t max, unsigned i)
{
	static const char words[] = "the quick brown fox jumps over the "
				    "lazy dog; SSH_FXP_WRITE handle offset ";
	size_t n, j;

	switch (i % 5) {
	case 0:
		n = 1 + rnd() % 64;
		break;
	case 1:
		n = 1 + rnd() % 4096;
		break;
	case 2:
		n = 32768 + 13;
		break;
	default:
		n = 1 + rnd() % max;
		break;
	}
	if (n > max)
		n = max;
	for (j = 0; j < n; j++) {
		switch (i % 4) {
		case 0:
			p[j] = (uint8_t)words[(j + i) % (sizeof(words) - 1)];
			break;
		case 1:
			p[j] = 0;
			break;
		case 2:
			p[j] = (uint8_t)rnd();
			break;
		default:
			p[j] = j % 512 < 256 ? (uint8_t)rnd() : (uint8_t)'a';
			break;
		}
	}
	p[0] = (uint8_t)(94 + i % 3); /* a message type */
	return n;
}

START_TEST(round_trip_many_packets)
{
	struct comp_stream tx, rx;
	uint8_t *in = malloc(SSH_PAYLOAD_MAX);
	const uint8_t *z, *out;
	size_t n, zn, on, raw = 0, wire = 0, text_raw = 0, text_wire = 0;
	const char *why = NULL;
	unsigned i;

	ck_assert_ptr_nonnull(in);
	comp_init(&tx, &lalloc_system, 1);
	comp_init(&rx, &lalloc_system, 0);
	comp_restart(&tx);
	comp_restart(&rx);
	ck_assert(comp_on(&tx) && comp_on(&rx));
	for (i = 0; i < 600; i++) {
		n = make_payload(in, SSH_PAYLOAD_MAX, i);
		ck_assert_int_eq(comp_deflate(&tx, in, n, &z, &zn), 0);
		ck_assert_int_eq(comp_inflate(&rx, z, zn, SSH_INFLATE_MAX, &out,
					      &on, &why),
				 0);
		ck_assert_uint_eq(on, n);
		ck_assert(!memcmp(out, in, n));
		/* incompressible data grows by little (stored blocks) */
		ck_assert_uint_le(zn, n + n / 1000 + 64);
		raw += n;
		wire += zn;
		if (i % 4 == 0) {
			text_raw += n;
			text_wire += zn;
		}
	}
	/* repetitive text shrinks a lot, continuing the stream */
	ck_assert_uint_lt(text_wire * 10, text_raw);
	ck_assert_uint_lt(wire, raw);
	/* a restart on both sides: a new context from the next packet */
	comp_restart(&tx);
	comp_restart(&rx);
	for (i = 0; i < 50; i++) {
		n = make_payload(in, 70000, i);
		ck_assert_int_eq(comp_deflate(&tx, in, n, &z, &zn), 0);
		ck_assert_int_eq(comp_inflate(&rx, z, zn, SSH_INFLATE_MAX, &out,
					      &on, &why),
				 0);
		ck_assert_uint_eq(on, n);
		ck_assert(!memcmp(out, in, n));
	}
	comp_stop(&tx);
	ck_assert(!comp_on(&tx));
	ck_assert_int_eq(comp_deflate(&tx, in, 10, &z, &zn),
			 LIBSSH2_ERROR_COMPRESS);
	comp_free(&tx);
	comp_free(&rx);
	comp_free(&rx); /* twice is harmless */
	free(in);
}
END_TEST

/* One zlib-format packet of n zeros, partial flush (a peer's packet). */
static size_t zeros_packet(uint8_t *out, size_t cap, size_t n, int finish)
{
	uint8_t *in = calloc(1, n ? n : 1);
	z_stream z;

	ck_assert_ptr_nonnull(in);
	memset(&z, 0, sizeof(z));
	ck_assert_int_eq(deflateInit(&z, 9), Z_OK);
	z.next_in = in;
	z.avail_in = (uInt)n;
	z.next_out = out;
	z.avail_out = (uInt)cap;
	ck_assert_int_ne(deflate(&z, finish ? Z_FINISH : Z_PARTIAL_FLUSH),
			 Z_STREAM_ERROR);
	ck_assert_uint_eq(z.avail_in, 0);
	ck_assert_uint_gt(z.avail_out, 0);
	n = cap - z.avail_out;
	deflateEnd(&z);
	free(in);
	return n;
}

START_TEST(bomb_is_capped)
{
	static uint8_t zp[64 * 1024];
	struct comp_stream rx;
	const uint8_t *out;
	size_t zn, on;
	const char *why = NULL;

	/* 32 MiB of zeros in about 32 KiB of wire: refused at the cap */
	zn = zeros_packet(zp, sizeof(zp), 32u << 20, 0);
	ck_assert_uint_lt(zn, sizeof(zp));
	comp_init(&rx, &lalloc_system, 0);
	comp_restart(&rx);
	ck_assert_int_eq(
		comp_inflate(&rx, zp, zn, SSH_INFLATE_MAX, &out, &on, &why),
		LIBSSH2_ERROR_ZLIB);
	ck_assert_ptr_nonnull(why);
	ck_assert_ptr_nonnull(strstr(why, "maximum packet size"));
	ck_assert_uint_le(rx.cap, SSH_INFLATE_MAX + 1);
	/* the stream is broken for good */
	zn = zeros_packet(zp, sizeof(zp), 10, 0);
	ck_assert_int_eq(
		comp_inflate(&rx, zp, zn, SSH_INFLATE_MAX, &out, &on, &why),
		LIBSSH2_ERROR_ZLIB);
	comp_free(&rx);

	/* exactly the cap passes, one byte more does not */
	comp_init(&rx, &lalloc_system, 0);
	comp_restart(&rx);
	zn = zeros_packet(zp, sizeof(zp), SSH_INFLATE_MAX, 0);
	ck_assert_int_eq(
		comp_inflate(&rx, zp, zn, SSH_INFLATE_MAX, &out, &on, &why), 0);
	ck_assert_uint_eq(on, SSH_INFLATE_MAX);
	comp_restart(&rx);
	zn = zeros_packet(zp, sizeof(zp), SSH_INFLATE_MAX + 1, 0);
	ck_assert_int_eq(
		comp_inflate(&rx, zp, zn, SSH_INFLATE_MAX, &out, &on, &why),
		LIBSSH2_ERROR_ZLIB);
	ck_assert_uint_le(rx.cap, SSH_INFLATE_MAX + 1);
	/* a smaller cap is honoured too */
	comp_restart(&rx);
	zn = zeros_packet(zp, sizeof(zp), 1001, 0);
	ck_assert_int_eq(comp_inflate(&rx, zp, zn, 1000, &out, &on, &why),
			 LIBSSH2_ERROR_ZLIB);
	comp_free(&rx);
}
END_TEST

START_TEST(corrupt_input)
{
	struct comp_stream tx, rx;
	uint8_t junk[512], pkt[4096], mut[4096];
	const uint8_t *z, *out;
	size_t zn, on, i, bit, errors = 0;
	const char *why;
	int rc;

	comp_init(&rx, &lalloc_system, 0);
	/* not started: refused */
	ck_assert_int_eq(
		comp_inflate(&rx, junk, 1, SSH_INFLATE_MAX, &out, &on, &why),
		LIBSSH2_ERROR_ZLIB);
	comp_restart(&rx);
	for (i = 0; i < sizeof(junk); i++)
		junk[i] = (uint8_t)rnd();
	junk[0] = 0x12; /* not a zlib header (CMF check fails) */
	why = NULL;
	ck_assert_int_eq(comp_inflate(&rx, junk, sizeof(junk), SSH_INFLATE_MAX,
				      &out, &on, &why),
			 LIBSSH2_ERROR_ZLIB);
	ck_assert_str_eq(why, "corrupt compressed data");
	comp_free(&rx);

	/* a stream the peer finished (Z_FINISH) is not SSH compression */
	comp_init(&rx, &lalloc_system, 0);
	comp_restart(&rx);
	zn = zeros_packet(pkt, sizeof(pkt), 100, 1);
	ck_assert_int_eq(
		comp_inflate(&rx, pkt, zn, SSH_INFLATE_MAX, &out, &on, &why),
		LIBSSH2_ERROR_ZLIB);
	comp_free(&rx);

	/* every 1-bit flip and every truncation of a real first packet:
	 * an error or some output, never a crash (run under ASan) */
	comp_init(&tx, &lalloc_system, 1);
	comp_restart(&tx);
	ck_assert_int_eq(
		comp_deflate(
			&tx,
			(const uint8_t *)"\x5e\x00\x00\x00\x00\x00\x00\x00\x20"
					 "some channel data, some channel data",
			45, &z, &zn),
		0);
	ck_assert_uint_le(zn, sizeof(pkt));
	memcpy(pkt, z, zn);
	comp_free(&tx);
	for (bit = 0; bit < zn * 8; bit++) {
		memcpy(mut, pkt, zn);
		mut[bit / 8] ^= (uint8_t)(1u << (bit % 8));
		comp_init(&rx, &lalloc_system, 0);
		comp_restart(&rx);
		rc = comp_inflate(&rx, mut, zn, SSH_INFLATE_MAX, &out, &on,
				  &why);
		ck_assert(rc == 0 || rc == LIBSSH2_ERROR_ZLIB);
		errors += rc != 0;
		comp_free(&rx);
	}
	ck_assert_uint_gt(errors, zn * 8 / 4);
	for (i = 0; i < zn; i++) {
		comp_init(&rx, &lalloc_system, 0);
		comp_restart(&rx);
		rc = comp_inflate(&rx, pkt, i, SSH_INFLATE_MAX, &out, &on,
				  &why);
		ck_assert(rc == 0 || rc == LIBSSH2_ERROR_ZLIB);
		if (rc == 0)
			ck_assert_uint_le(on, 45);
		comp_free(&rx);
	}
}
END_TEST

/* ---- two transports in memory -------------------------------------------- */

/* Move what a queued to b. */
static void pipe_bytes(struct tp *a, struct tp *b)
{
	size_t n = tp_out_len(a), avail;
	uint8_t *d = tp_in_space(b, n, &avail);

	ck_assert_ptr_nonnull(d);
	memcpy(d, tp_out_data(a), n);
	tp_in_commit(b, n);
	tp_out_consume(a, n);
}

/* Send payload p (n bytes) from a to b; returns the bytes on the wire. */
static size_t xfer(struct tp *a, struct tp *b, const uint8_t *p, size_t n)
{
	const uint8_t *got;
	size_t gn, wire;
	const char *why = NULL;
	int rc;

	ck_assert_int_eq(tp_send(a, p, n), 0);
	wire = tp_out_len(a);
	pipe_bytes(a, b);
	rc = tp_recv(b, &got, &gn, &why);
	ck_assert_msg(rc == 1, "tp_recv: %d %s", rc, why ? why : "");
	ck_assert_uint_eq(gn, n);
	ck_assert(!memcmp(got, p, n));
	return wire;
}

/* NEWKEYS without encryption: only the compression changes. */
static void newkeys(struct tp *a, struct tp *b, const char *name)
{
	const struct comp_def *d = comp_by_name(name, strlen(name));

	ck_assert_ptr_nonnull(d);
	tp_tx_next(a)->comp = d;
	tp_tx_rekey(a, 0);
	tp_rx_next(b)->comp = d;
	tp_rx_rekey(b, 0);
}

static const uint8_t text[] =
	"^\0\0\0\0\0\0\x01\0SFTP says hello, SFTP says hello, SFTP says "
	"hello, SFTP says hello, SFTP says hello, SFTP says hello.";

START_TEST(transport_zlib_from_newkeys)
{
	struct tp a, b;
	static uint8_t big[64 * 1024];
	size_t first, later, i;

	tp_init(&a, &lalloc_system);
	tp_init(&b, &lalloc_system);
	first = xfer(&a, &b, text, sizeof(text));
	newkeys(&a, &b, "zlib");
	ck_assert(comp_on(&a.ztx) && comp_on(&b.zrx));
	ck_assert(!comp_on(&a.zrx) && !comp_on(&b.ztx));
	later = xfer(&a, &b, text, sizeof(text));
	ck_assert_uint_lt(later, first);
	for (i = 0; i < 200; i++) {
		size_t n = make_payload(big, sizeof(big), (unsigned)i);

		xfer(&a, &b, big, n);
	}
	/* USERAUTH_SUCCESS must not restart a running "zlib" stream */
	xfer(&a, &b, (const uint8_t *)"\x34", 1);
	ck_assert_int_eq(b.authenticated, 1);
	xfer(&a, &b, text, sizeof(text));
	/* a rekey restarts both ends; then no compression at all */
	newkeys(&a, &b, "zlib");
	xfer(&a, &b, text, sizeof(text));
	newkeys(&a, &b, "none");
	ck_assert(!comp_on(&a.ztx) && !comp_on(&b.zrx));
	ck_assert_uint_eq(xfer(&a, &b, text, sizeof(text)), first);
	tp_free(&a);
	tp_free(&b);
}
END_TEST

START_TEST(transport_delayed)
{
	struct tp a, b;
	size_t first, n;
	const uint8_t *got;
	const char *why = NULL;

	tp_init(&a, &lalloc_system);
	tp_init(&b, &lalloc_system);
	first = xfer(&a, &b, text, sizeof(text));
	newkeys(&a, &b, "zlib@openssh.com");
	/* before authentication: nothing compressed */
	ck_assert(!comp_on(&a.ztx) && !comp_on(&b.zrx));
	ck_assert_uint_eq(xfer(&a, &b, text, sizeof(text)), first);
	/* the server side starts after sending SUCCESS, the client side
	 * (b, a client's receiver) as it reads it */
	xfer(&a, &b, (const uint8_t *)"\x34", 1);
	tp_comp_delayed_start(&a);
	ck_assert(comp_on(&a.ztx) && comp_on(&b.zrx));
	ck_assert_uint_lt(xfer(&a, &b, text, sizeof(text)), first);
	xfer(&a, &b, text, sizeof(text));
	/* a rekey keeps it on, with a new context at each end */
	newkeys(&a, &b, "zlib@openssh.com");
	ck_assert(comp_on(&a.ztx) && comp_on(&b.zrx));
	ck_assert_uint_lt(xfer(&a, &b, text, sizeof(text)), first);

	/* a rekey on one end only: the other end's old context cannot
	 * decode the new one's first packet (a fresh zlib header) */
	tp_tx_next(&a)->comp = comp_by_name("zlib", 4);
	tp_tx_rekey(&a, 0);
	ck_assert_int_eq(tp_send(&a, text, sizeof(text)), 0);
	pipe_bytes(&a, &b);
	ck_assert_int_eq(tp_recv(&b, &got, &n, &why), LIBSSH2_ERROR_ZLIB);
	ck_assert_ptr_nonnull(why);
	tp_free(&a);
	tp_free(&b);
}
END_TEST

START_TEST(transport_peer_does_not_compress)
{
	struct tp a, b;
	size_t n;
	const uint8_t *got;
	const char *why = NULL;
	int rc;

	tp_init(&a, &lalloc_system);
	tp_init(&b, &lalloc_system);
	tp_tx_next(&a)->comp = NULL;
	tp_tx_rekey(&a, 0);
	tp_rx_next(&b)->comp = comp_by_name("zlib", 4);
	tp_rx_rekey(&b, 0);
	ck_assert_int_eq(tp_send(&a, text, sizeof(text)), 0);
	pipe_bytes(&a, &b);
	rc = tp_recv(&b, &got, &n, &why);
	ck_assert_int_eq(rc, LIBSSH2_ERROR_ZLIB);
	ck_assert_str_eq(why, "corrupt compressed data");
	tp_free(&a);
	tp_free(&b);
}
END_TEST

/* A hostile peer's packet: 16 MiB of zeros in ~16 KiB, refused by
 * tp_recv at the cap without growing past it. */
START_TEST(transport_bomb)
{
	static uint8_t zp[32 * 1024];
	struct tp a, b;
	size_t n, zn;
	const uint8_t *got;
	const char *why = NULL;

	zn = zeros_packet(zp, sizeof(zp), 16u << 20, 0);
	tp_init(&a, &lalloc_system);
	tp_init(&b, &lalloc_system);
	tp_rx_next(&b)->comp = comp_by_name("zlib", 4);
	tp_rx_rekey(&b, 0);
	/* a sends the bytes as they are (no compression on its side) */
	ck_assert_int_eq(tp_send(&a, zp, zn), 0);
	pipe_bytes(&a, &b);
	ck_assert_int_eq(tp_recv(&b, &got, &n, &why), LIBSSH2_ERROR_ZLIB);
	ck_assert_ptr_nonnull(strstr(why, "maximum packet size"));
	ck_assert_uint_le(b.zrx.cap, SSH_INFLATE_MAX + 1);
	/* and stays failed: no hang, no second attempt */
	ck_assert_int_eq(tp_recv(&b, &got, &n, &why), LIBSSH2_ERROR_ZLIB);
	tp_free(&a);
	tp_free(&b);
}
END_TEST

START_TEST(names)
{
	const struct comp_def *d;

	d = comp_by_name("zlib@openssh.com", 16);
	ck_assert(d && d->zlib && d->delayed && d->opt_in);
	d = comp_by_name("zlib", 4);
	ck_assert(d && d->zlib && !d->delayed && d->opt_in);
	d = comp_by_name("none", 4);
	ck_assert(d && !d->zlib && !d->opt_in);
	ck_assert_ptr_null(comp_by_name("zli", 3));
	ck_assert_ptr_null(comp_by_name("zlib@openssh.co", 15));
}
END_TEST

int main(void)
{
	Suite *s = suite_create("comp");
	TCase *tc = tcase_create("comp");
	SRunner *sr;
	int failed;

	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, names);
	tcase_add_test(tc, round_trip_many_packets);
	tcase_add_test(tc, bomb_is_capped);
	tcase_add_test(tc, corrupt_input);
	tcase_add_test(tc, transport_zlib_from_newkeys);
	tcase_add_test(tc, transport_delayed);
	tcase_add_test(tc, transport_peer_does_not_compress);
	tcase_add_test(tc, transport_bomb);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
