/*
 * fuzz_sftpcore.c - the asynchronous SFTP request core (lib/sftp_core.c)
 * as the daemon drives it: an SFTP channel opened with sftp_open_begin
 * and sftp_open_step, then a batch of requests all in flight at once
 * (opens, reads of several sizes, writes larger than the channel's
 * window, READDIR, stats, READLINK, extended requests), each reply
 * decoded in its callback with the sftp_proto.h decoder the daemon uses
 * for it, and sftp_core_run / sftp_core_poll until every request has
 * completed.  What a fuzzed server can do here: answer out of order, for
 * ids never sent or twice, with the wrong type, packets split anyhow
 * across CHANNEL_DATA messages, window adjustments, EOF and CLOSE.
 *
 * Input: the server's SFTP byte stream (VERSION first) as 16-bit-length
 * pieces; a piece whose first byte is 0 is instead an SSH message of its
 * own (payload, type byte first), any other piece goes as one
 * CHANNEL_DATA on the SFTP channel (the first byte dropped).  The
 * harness puts the channel's OPEN_CONFIRMATION and the subsystem's
 * SUCCESS first.  The session is in the clear, authenticated
 * (fuzz_clear_session).
 *
 * Checks beyond "no crash, no leak, no hang": every request's callback
 * runs exactly once, whether the reply came or the channel died; a
 * decoded DATA reply's length is checked against what was asked (as the
 * daemon must: fs/ops.c), names walk to their count.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "libssh2.h"
#include "libssh2_sftp.h"
#include "session.h"
#include "sftp.h"
#include "sftp_core.h"
#include "sftp_proto.h"

#define CHECK(c)                                                               \
	do {                                                                   \
		if (!(c))                                                      \
			__builtin_trap();                                      \
	} while (0)

/* Requests of a batch. */
#define BATCH_MAX 24

enum kind { K_HANDLE, K_READ, K_STATUS, K_ATTRS, K_NAMES, K_NAME1, K_EXT };

struct req {
	enum kind kind;
	uint32_t asked; /* K_READ: bytes asked for */
	int calls;
	uint8_t handle[SFTP_HANDLE_MAX];
	size_t handle_len;
};

static volatile unsigned sink;
static int trace = -1; /* FUZZ_TRACE=1: each completion on stderr */

static void done(void *arg, int err, const uint8_t *body, size_t n)
{
	struct req *r = arg;

	r->calls++;
	if (trace < 0)
		trace = getenv("FUZZ_TRACE") != NULL;
	if (trace)
		fprintf(stderr,
			"sftpcore: kind %d: err %d, type %d, %zu bytes\n",
			r->kind, err, n ? body[0] : -1, n);
	if (err) {
		CHECK(body == NULL && n == 0);
		return;
	}
	CHECK(body && n >= SFTP_MSG_MIN);
	switch (r->kind) {
	case K_HANDLE: {
		struct sftp_handle h = sftp_dec_handle(body, n);

		if (h.rc == 0) {
			CHECK(h.handle_len <= sizeof(r->handle));
			memcpy(r->handle, h.handle, h.handle_len);
			r->handle_len = h.handle_len;
		}
		break;
	}
	case K_READ: {
		struct sftp_data d = sftp_dec_data(body, n);

		if (d.rc == 0 && d.len <= r->asked && d.len)
			sink += d.data[0] + d.data[d.len - 1];
		break;
	}
	case K_ATTRS: {
		struct sftp_attrs_reply a = sftp_dec_attrs(body, n);

		sink += a.rc == 0 ? (unsigned)a.attrs.perm : 0;
		break;
	}
	case K_NAMES: {
		struct sftp_names ns = sftp_dec_names(body, n);
		struct sftp_name_iter it;
		struct sftp_name_entry e;
		uint32_t i = 0;

		if (ns.rc)
			break;
		sftp_names_iter_init(&it, &ns);
		while (sftp_names_next(&it, &e) == 1) {
			if (e.filename_len)
				sink += (uint8_t)e.filename[e.filename_len - 1];
			i++;
		}
		CHECK(i == ns.count);
		break;
	}
	case K_NAME1: {
		struct sftp_name1 one = sftp_dec_name1(body, n);

		if (one.rc == 0 && one.e.filename_len)
			sink += (uint8_t)one.e.filename[0];
		break;
	}
	case K_EXT: {
		struct sftp_statvfs sv = sftp_dec_statvfs(body, n);
		struct sftp_limits l = sftp_dec_limits(body, n);

		sink += (sv.rc == 0) + (l.rc == 0);
		break;
	}
	case K_STATUS:
		break;
	}
	/* every reply that is a STATUS decodes as one, for the errno map */
	if (body[0] == SSH_FXP_STATUS) {
		struct sftp_status st = sftp_dec_status(body, n);

		if (st.rc == 0 && st.msg_len)
			sink += (uint8_t)st.msg[st.msg_len - 1];
	}
}

struct batch {
	struct sftp_core *c;
	struct req r[BATCH_MAX];
	int n;
	uint32_t ids[BATCH_MAX];
};

/* Queue one request: enc is the encoder's result for the id the core
 * gave.  A request the core cannot take is not counted. */
static void add(struct batch *b, enum kind k, uint32_t asked, int enc,
		size_t mark)
{
	struct req *r = &b->r[b->n];

	CHECK(b->n < BATCH_MAX);
	if (enc) /* (an encoder that failed left the writer as it was) */
		return;
	memset(r, 0, sizeof(*r));
	r->kind = k;
	r->asked = asked;
	if (sftp_core_track(b->c, mark, done, r) == 0)
		b->n++;
}

#define ADD(kind, asked, call)                                                 \
	do {                                                                   \
		size_t mark_ = sftp_core_out(c)->len;                          \
		uint32_t id = sftp_core_id(c);                                 \
		add(&bt, kind, asked, (call), mark_);                          \
	} while (0)

/* Run the core until every request of the batch has completed. */
static void run(LIBSSH2_SESSION *s, struct batch *b)
{
	struct fuzz_spin sp = {fuzz_io_calls, 0};
	int i, rc, pending;

	for (;;) {
		pending = 0;
		for (i = 0; i < b->n; i++) {
			CHECK(b->r[i].calls <= 1);
			pending += b->r[i].calls == 0;
		}
		if (!pending)
			break;
		rc = sftp_core_run(b->c);
		if (rc == 0)
			continue;
		if (fuzz_again(s, &sp, rc)) /* (traps on a livelock) */
			continue;
		/* fatal: every outstanding request completed with it */
		for (i = 0; i < b->n; i++)
			CHECK(b->r[i].calls == 1);
		break;
	}
}

/* One batch, all in flight at once (the daemon does not wait for an
 * OPEN's handle to queue other work; the handles here are fixed, as a
 * server may answer a request before an earlier one). */
static void batch(LIBSSH2_SESSION *s, struct sftp_core *c)
{
	static uint8_t wdata[80 * 1024];
	static const uint8_t fh[] = "fh", dh[] = "dh";
	struct batch bt = {.c = c};
	int i;

	ADD(K_HANDLE, 0,
	    sftp_enc_open(sftp_core_out(c), id, "/f", 2, SSH_FXF_READ, NULL));
	ADD(K_HANDLE, 0, sftp_enc_opendir(sftp_core_out(c), id, "/", 1));
	ADD(K_ATTRS, 0, sftp_enc_lstat(sftp_core_out(c), id, "/l", 2));
	ADD(K_ATTRS, 0, sftp_enc_stat(sftp_core_out(c), id, "/", 1));
	ADD(K_NAME1, 0, sftp_enc_readlink(sftp_core_out(c), id, "/l", 2));
	ADD(K_NAME1, 0, sftp_enc_realpath(sftp_core_out(c), id, ".", 1));
	ADD(K_EXT, 0, sftp_enc_statvfs(sftp_core_out(c), id, "/", 1));
	ADD(K_EXT, 0, sftp_enc_limits(sftp_core_out(c), id));
	ADD(K_STATUS, 0, sftp_enc_mkdir(sftp_core_out(c), id, "/d", 2, NULL));
	ADD(K_READ, 4096, sftp_enc_read(sftp_core_out(c), id, fh, 2, 0, 4096));
	ADD(K_READ, 65536,
	    sftp_enc_read(sftp_core_out(c), id, fh, 2, 4096, 65536));
	ADD(K_READ, 1, sftp_enc_read(sftp_core_out(c), id, fh, 2, 1u << 31, 1));
	ADD(K_ATTRS, 0, sftp_enc_fstat(sftp_core_out(c), id, fh, 2));
	for (i = 0; i < 3; i++)
		ADD(K_STATUS, 0,
		    sftp_enc_write(sftp_core_out(c), id, fh, 2,
				   (uint64_t)i * sizeof(wdata), wdata,
				   sizeof(wdata)));
	ADD(K_NAMES, 0, sftp_enc_readdir(sftp_core_out(c), id, dh, 2));
	ADD(K_NAMES, 0, sftp_enc_readdir(sftp_core_out(c), id, dh, 2));
	ADD(K_STATUS, 0, sftp_enc_close(sftp_core_out(c), id, fh, 2));
	ADD(K_STATUS, 0, sftp_enc_close(sftp_core_out(c), id, dh, 2));
	run(s, &bt);
	/* what came after: a late reply, the end of the channel */
	sftp_core_poll(c);
}

static int put16(struct wbuf *w, size_t v)
{
	return wb_u8(w, (uint8_t)(v >> 8)) || wb_u8(w, (uint8_t)v);
}

/* The server's stream: the channel's confirmation and the subsystem's
 * success, then the pieces. */
static uint8_t *stream_of(struct fz *f, size_t *len)
{
	static const uint8_t open_ok[] = {
		91, 0, 0, 0, 0, 0, 0, 0, 9, 0, 0x20, 0, 0, 0, 0, 0x80, 0,
	};
	static const uint8_t sub_ok[] = {99, 0, 0, 0, 0};
	struct wbuf w;
	struct fz g;
	uint8_t *out;

	/* re-piece: 16-bit length + SSH payload, as fuzz_frame reads */
	wb_init(&w, &lalloc_system, 64u * 1024 * 1024);
	(void)(put16(&w, sizeof(open_ok)) ||
	       wb_bytes(&w, open_ok, sizeof(open_ok)) ||
	       put16(&w, sizeof(sub_ok)) ||
	       wb_bytes(&w, sub_ok, sizeof(sub_ok)));
	while (f->n > 0) {
		size_t n;
		const uint8_t *p = fz_piece(f, &n);

		if (n == 0)
			continue;
		if (p[0] == 0) {
			if (put16(&w, n - 1) || wb_bytes(&w, p + 1, n - 1))
				break;
			continue;
		}
		if (n - 1 > 0xffff - 9)
			n = 0xffff - 9 + 1;
		if (put16(&w, n - 1 + 9) || wb_u8(&w, SSH_MSG_CHANNEL_DATA) ||
		    wb_u32(&w, 0) || wb_u32(&w, (uint32_t)(n - 1)) ||
		    wb_bytes(&w, p + 1, n - 1)) {
			break;
		}
	}
	g.p = w.p;
	g.n = w.len;
	out = fuzz_frame(&g, len);
	wb_free(&w);
	return out;
}

FUZZ_TARGET(sftpcore)
{
	struct fz f = {data, size};
	LIBSSH2_SESSION *s;
	LIBSSH2_SFTP *sf;
	libssh2_socket_t sock;
	uint8_t *stream;
	size_t n;

	fuzz_reset();
	stream = stream_of(&f, &n);
	s = libssh2_session_init();
	if (s && fuzz_clear_session(s, stream, n, &sock) == 0) {
		s->auth.authenticated = 1;
		sf = sftp_open_begin(s);
		if (sf) {
			int rc = RETRY(sftp_open_step(sf));

			if (trace > 0 || (trace < 0 && getenv("FUZZ_TRACE"))) {
				char *m = NULL;

				libssh2_session_last_error(s, &m, NULL, 0);
				fprintf(stderr, "sftpcore: open %d (%s)\n", rc,
					rc ? m : "");
			}
			if (rc == 0)
				batch(s, sftp_core_of(sf));
			sftp_open_drop(sf, 0);
		}
		RETRY(libssh2_session_disconnect(s, "bye"));
	}
	if (s)
		libssh2_session_free(s);
	free(stream);
	return 0;
}
