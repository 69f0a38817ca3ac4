/*
 * check_session_fault.c - a real client LIBSSH2_SESSION against a server
 * scripted in C inside this test, over a socketpair: no sshd, no TCP,
 * no Python.
 *
 * The server (a thread) speaks just enough SSH: identification, a
 * KEXINIT with one algorithm per list, curve25519-sha256 (RFC 8731) with
 * an ssh-ed25519 host key, NEWKEYS, then SERVICE_ACCEPT and
 * USERAUTH_FAILURE (and, for some tests, USERAUTH_SUCCESS) under the new
 * keys.  Its exchange hash (RFC 4253 8, RFC 8731 3), key derivation
 * (RFC 4253 7.2) and packet protection are written here from the RFCs on
 * top of the crypto seam (SHA-256, HMAC, the cipher contexts), not taken
 * from lib/kex.c or the sending half of lib/transport.c: every good run
 * is also an end-to-end check of the client's exchange hash and key
 * derivation, for every cipher and MAC.  It reads the client's packets
 * with the library's transport engine.
 *
 * Then one fault per run, at one phase:
 *   phases  banner, KEXINIT, KEX_ECDH_REPLY, NEWKEYS, the first encrypted
 *           packet (SERVICE_ACCEPT), a later one (USERAUTH_FAILURE, after
 *           the auth service request)
 *   faults  truncation (connection closed mid-packet); bit flips (all
 *           the length and padding-length bits that matter, then every
 *           few bytes of payload, padding and MAC); bad framing under
 *           valid protection (packet_length over 256 KiB, 0, 2^32-1, not
 *           a block multiple; padding_length under 4, past the packet);
 *           messages out of order; DISCONNECT; garbage after the banner;
 *           a server that stops talking (the session timeout)
 * For a bit flip the server predicts, from the field it broke, the exact
 * error the client must report (predict_flip); for the other faults the
 * table says it.  Each run checks that code (never just "negative"),
 * the call that met it (handshake for the first four phases,
 * userauth_list for the encrypted ones), a non-empty message, and that
 * it came long before the session timeout.  Some runs again in
 * non-blocking mode, the server's bytes dribbled in 1..5-byte pieces.
 *
 * This complements tests/hostile (a Python server over TCP, one named
 * fault per case, mostly contents of messages: malformed KEXINIT lists,
 * ECDH_REPLY fields, auth, channel and SFTP replies): here the
 * transport is swept systematically, every phase times every fault kind,
 * in memory, fast enough for valgrind (make check-valgrind).
 *
 * Also here: LIBSSH2_CALLBACK_MACERROR (a bad HMAC shown to the
 * application; AEAD failures are not) and SSH_MSG_UNIMPLEMENTED (RFC
 * 4253 11.4, with the rejected packet's sequence number), for key
 * exchange numbers with no exchange running too.
 */
#define _GNU_SOURCE
#include <check.h>
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "libssh2.h"

#include "cipher.h"
#include "fault_server.h"
#include "kex.h"
#include "session.h"

/* A blocking call gives up after this: only a wrong prediction (the
 * client waiting for bytes that never come) gets there. */
#define SAFETY_TIMEOUT_MS 10000
/* The stalling-server cases: the session timeout, and how much longer
 * than it the call may take (valgrind is slow). */
#define STALL_TIMEOUT_MS 300
#define STALL_SLACK_MS	 5000
/* Non-blocking loops: EAGAIN for longer than this is a livelock. */
#define NB_DEADLINE_MS 20000

/* ---- small things ------------------------------------------------------ */

static long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000L + ts.tv_nsec / 1000000L;
}

static const char *ename(int rc)
{
	switch (rc) {
	case 0:
		return "success";
	case LIBSSH2_ERROR_BANNER_RECV:
		return "BANNER_RECV";
	case LIBSSH2_ERROR_SOCKET_DISCONNECT:
		return "SOCKET_DISCONNECT";
	case LIBSSH2_ERROR_PROTO:
		return "PROTO";
	case LIBSSH2_ERROR_KEX_FAILURE:
		return "KEX_FAILURE";
	case LIBSSH2_ERROR_HOSTKEY_INIT:
		return "HOSTKEY_INIT";
	case LIBSSH2_ERROR_HOSTKEY_SIGN:
		return "HOSTKEY_SIGN";
	case LIBSSH2_ERROR_INVALID_MAC:
		return "INVALID_MAC";
	case LIBSSH2_ERROR_DECRYPT:
		return "DECRYPT";
	case LIBSSH2_ERROR_OUT_OF_BOUNDARY:
		return "OUT_OF_BOUNDARY";
	case LIBSSH2_ERROR_TIMEOUT:
		return "TIMEOUT";
	case LIBSSH2_ERROR_EAGAIN:
		return "EAGAIN";
	}
	return "other";
}

/* ---- the client ---------------------------------------------------------- */

enum cbmode { CB_NONE = 0, CB_ACCEPT, CB_REFUSE };

struct run {
	/* what to do */
	struct cfg cfg;
	struct fault f;
	int nb;		 /* non-blocking client, dribbling server */
	long timeout_ms; /* 0: SAFETY_TIMEOUT_MS */
	int finish_auth;
	int unknown; /* -1: none */
	int ignore_first;
	int flip_go_on;
	enum kmode kmode;
	enum cbmode cb;
	int own_alloc;	 /* the session on the counting allocator below */
	int cbs;	 /* ignore, debug and disconnect callbacks */
	int disc;	 /* at the end, disconnect_ex (non-blocking) */
	int startup;	 /* libssh2_session_startup, the old name */
	int send_eagain; /* the send callback's next calls: -EAGAIN */
	LIBSSH2_SEND_FUNC((*prev_send)); /* what send_cb replaced */
	/* after the login: the server's channel messages, and what the
	 * client does with the channel */
	const struct chan_msg *chan;
	size_t n_chan;
	void (*chan_fn)(struct run *r, LIBSSH2_SESSION *s);
	int chan_log;		 /* the server records (fault_server.h) */
	const char *chan_refuse; /* ... and refuses these requests */
	int fd;			 /* the client's socket */

	/* what happened */
	int rc;	  /* the first error, 0 when every call succeeded */
	int call; /* which call returned it: 0 handshake, 1 list, 2 password */
	long ms;  /* how long that call took */
	char msg[512];
	char list[64];
	int authed;
	uint8_t sid[64];
	size_t sidlen;
	int cb_calls;
	uint8_t cb_pkt[256];
	int cb_len;
	long a_allocs, a_reallocs, a_frees, a_live, a_wantbuf;
	/* ChaCha20 keys of both directions as they were before
	 * session_free, and how many freed blocks still held one */
	uint8_t keys[4][32];
	int nkeys;
	long a_keys_left;
	int disc_rc[4], disc_dirs;
	/* what the ignore, debug and disconnect callbacks were given */
	int ign_n, dbg_n, dis_n, dbg_always, dis_reason;
	char ign[64], dbg[64], dbg_lang[16], dis[64], dis_lang[16];
	int ign_len, dbg_len, dbg_lang_len, dis_len, dis_lang_len;
	struct srv sv;
};

/* Copy a callback's text argument, trusting only its length. */
static int cb_copy(char *dst, size_t cap, const char *src, int n)
{
	ck_assert_int_ge(n, 0);
	ck_assert_uint_lt((size_t)n, cap);
	if (n)
		ck_assert_ptr_nonnull(src);
	memcpy(dst, src ? src : "", (size_t)n);
	dst[n] = '\0';
	return n;
}

/* LIBSSH2_CALLBACK_SEND: the socket, but "full" while send_eagain. */
static LIBSSH2_SEND_FUNC(send_cb)
{
	struct run *r = *abstract;
	ssize_t n;

	if (r->send_eagain > 0) {
		r->send_eagain--;
		return -EAGAIN;
	}
	/* chained to the function it replaced: the built-in one */
	n = r->prev_send(socket, buffer, length, flags, abstract);
	return n;
}

static LIBSSH2_IGNORE_FUNC(ignore_cb)
{
	struct run *r = *abstract;

	(void)session;
	r->ign_n++;
	r->ign_len = cb_copy(r->ign, sizeof(r->ign), message, message_len);
}

static LIBSSH2_DEBUG_FUNC(debug_cb)
{
	struct run *r = *abstract;

	(void)session;
	r->dbg_n++;
	r->dbg_always = always_display;
	r->dbg_len = cb_copy(r->dbg, sizeof(r->dbg), message, message_len);
	r->dbg_lang_len = cb_copy(r->dbg_lang, sizeof(r->dbg_lang), language,
				  language_len);
}

static LIBSSH2_DISCONNECT_FUNC(disconnect_cb)
{
	struct run *r = *abstract;

	(void)session;
	r->dis_n++;
	r->dis_reason = reason;
	r->dis_len = cb_copy(r->dis, sizeof(r->dis), message, message_len);
	r->dis_lang_len = cb_copy(r->dis_lang, sizeof(r->dis_lang), language,
				  language_len);
}

/* ---- the application's allocator ------------------------------------------
 * libssh2_session_init_ex: every allocation of the session through the
 * functions given.  Blocks carry a header with a tag: a block of ours
 * freed by the C library's free() (or the other way round) would not
 * go unnoticed (glibc aborts on the shifted pointer; our free checks the
 * tag), and the count of live blocks must be 0 after session_free.
 * The header keeps the size too: a block freed is searched for the
 * session keys (r->keys), which must have been wiped. */
#define A_HDR 16
#define A_TAG 0x5a17c0deu

static LIBSSH2_ALLOC_FUNC(t_alloc)
{
	struct run *r = *abstract;
	uint8_t *p = malloc(count + A_HDR);

	if (!p)
		return NULL;
	memcpy(p, &(uint32_t){A_TAG}, 4);
	memcpy(p + 8, &count, sizeof(count));
	r->a_allocs++;
	r->a_live++;
	return p + A_HDR;
}

/* Does b[n] hold one of r's keys? */
static int holds_key(const struct run *r, const uint8_t *b, size_t n)
{
	int i;

	for (i = 0; i < r->nkeys; i++)
		if (memmem(b, n, r->keys[i], sizeof(r->keys[i])))
			return 1;
	return 0;
}

static uint8_t *t_block(void *ptr)
{
	uint8_t *p = (uint8_t *)ptr - A_HDR;
	uint32_t tag;

	memcpy(&tag, p, 4);
	ck_assert_msg(tag == A_TAG, "a block not from our allocator");
	return p;
}

static LIBSSH2_FREE_FUNC(t_free)
{
	struct run *r = *abstract;
	uint8_t *p;

	if (!ptr)
		return;
	p = t_block(ptr);
	memset(p, 0, 4);
	if (holds_key(r, p + A_HDR, *(size_t *)(void *)(p + 8)))
		r->a_keys_left++;
	r->a_frees++;
	r->a_live--;
	free(p);
}

static LIBSSH2_REALLOC_FUNC(t_realloc)
{
	struct run *r = *abstract;
	uint8_t *p;

	if (!ptr)
		return t_alloc(count, abstract);
	p = realloc(t_block(ptr), count + A_HDR);
	if (!p)
		return NULL;
	memcpy(p + 8, &count, sizeof(count));
	r->a_reallocs++;
	return p + A_HDR;
}

/* Before session_free: the ChaCha20 keys in use (K_1 and K_2 of each
 * direction, RFC 4253 7.2 output kept by chachapoly_init), which the
 * session object holds now (a search that finds nothing proves
 * nothing). */
static void keep_keys(struct run *r, LIBSSH2_SESSION *s)
{
	const struct tp_dir *d[2] = {&s->tp.rxd[s->tp.rxi],
				     &s->tp.txd[s->tp.txi]};
	int i;

	if (!d[0]->cipher || d[0]->cipher->kind != CIPHER_CHACHAPOLY)
		return;
	for (i = 0; i < 2; i++) {
		memcpy(r->keys[2 * i], d[i]->c.cp.main_key, 32);
		memcpy(r->keys[2 * i + 1], d[i]->c.cp.header_key, 32);
	}
	r->nkeys = 4;
	ck_assert(holds_key(r, (const uint8_t *)s, sizeof(*s)));
}

static const char *const call_name[] = {"handshake", "userauth_list",
					"userauth_password"};

static LIBSSH2_MACERROR_FUNC(mac_cb)
{
	struct run *r = *abstract;

	(void)session;
	r->cb_calls++;
	r->cb_len = packet_len;
	if (packet_len > 0 && (size_t)packet_len <= sizeof(r->cb_pkt))
		memcpy(r->cb_pkt, packet, (size_t)packet_len);
	return r->cb == CB_ACCEPT ? 0 : -1;
}

static void nb_wait(LIBSSH2_SESSION *s, int fd, long deadline)
{
	int dirs = libssh2_session_block_directions(s);
	struct pollfd p = {.fd = fd};
	long left = deadline - now_ms();

	ck_assert_msg(left > 0, "non-blocking: still EAGAIN after %d ms",
		      NB_DEADLINE_MS);
	ck_assert_msg(dirs, "EAGAIN without a direction to wait for");
	if (dirs & LIBSSH2_SESSION_BLOCK_INBOUND)
		p.events |= POLLIN;
	if (dirs & LIBSSH2_SESSION_BLOCK_OUTBOUND)
		p.events |= POLLOUT;
	(void)poll(&p, 1, left > 1000 ? 1000 : (int)left);
}

/* Run a call; non-blocking: until it stops saying EAGAIN. */
#define CALL(r, s, fd, expr)                                                   \
	({                                                                     \
		long dl_ = now_ms() + NB_DEADLINE_MS;                          \
		int rc_;                                                       \
		while ((rc_ = (expr)) == LIBSSH2_ERROR_EAGAIN && (r)->nb)      \
			nb_wait((s), (fd), dl_);                               \
		rc_;                                                           \
	})

static void record(struct run *r, LIBSSH2_SESSION *s, int call, int rc, long t0)
{
	char *m = NULL;
	int ml = 0;

	r->rc = rc;
	r->call = call;
	r->ms = now_ms() - t0;
	libssh2_session_last_error(s, &m, &ml, 0);
	snprintf(r->msg, sizeof(r->msg), "%.*s", ml, m ? m : "");
}

static void run_session(struct run *r)
{
	struct srv *sv = &r->sv;
	const struct cipher_def *c =
		cipher_by_name(r->cfg.cipher, strlen(r->cfg.cipher));
	LIBSSH2_SESSION *s;
	pthread_t th;
	int sp[2], fd, rc;
	char *list;
	long t0;

	ck_assert_ptr_nonnull(c);
	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, sp), 0);
	fd = sp[0];
	memset(sv, 0, sizeof(*sv));
	sv->cfg = r->cfg;
	sv->f = r->f;
	sv->dribble = r->nb;
	sv->finish_auth = r->finish_auth;
	sv->unknown = r->unknown;
	sv->ignore_first = r->ignore_first;
	sv->flip_go_on = r->flip_go_on;
	sv->chan = r->chan;
	sv->n_chan = r->n_chan;
	sv->chan_log = r->chan_log;
	sv->chan_refuse = r->chan_refuse;
	sv->kmode = r->kmode;
	r->fd = fd;
	srv_prepare(sv, sp[1]);
	ck_assert_int_eq(pthread_create(&th, NULL, srv_main, sv), 0);

	r->rc = 0;
	r->call = -1;
	r->msg[0] = '\0';
	r->cb_calls = 0;
	if (r->own_alloc)
		s = libssh2_session_init_ex(t_alloc, t_free, t_realloc, r);
	else
		s = libssh2_session_init_ex(NULL, NULL, NULL, r);
	ck_assert_ptr_nonnull(s);
	libssh2_session_set_timeout(s, r->timeout_ms ? r->timeout_ms
						     : SAFETY_TIMEOUT_MS);
	if (r->nb)
		libssh2_session_set_blocking(s, 0);
	if (r->cb)
		libssh2_session_callback_set2(s, LIBSSH2_CALLBACK_MACERROR,
					      (libssh2_cb_generic *)mac_cb);
	if (r->disc) {
		/* as libssh2: the first replacement returns the built-in
		 * function, which send_cb calls */
		r->prev_send = (LIBSSH2_SEND_FUNC((*)))
			libssh2_session_callback_set2(
				s, LIBSSH2_CALLBACK_SEND,
				(libssh2_cb_generic *)send_cb);
		ck_assert_ptr_nonnull(r->prev_send);
	}
	if (r->cbs) {
		/* the deprecated form, void * in and out */
		ck_assert_ptr_null(libssh2_session_callback_set(
			s, LIBSSH2_CALLBACK_IGNORE, (void *)ignore_cb));
		ck_assert_ptr_null(libssh2_session_callback_set(
			s, LIBSSH2_CALLBACK_DEBUG, (void *)debug_cb));
		ck_assert_ptr_null(libssh2_session_callback_set(
			s, LIBSSH2_CALLBACK_DISCONNECT, (void *)disconnect_cb));
		/* an unknown type: nothing installed, NULL back */
		ck_assert_ptr_null(
			libssh2_session_callback_set(s, 99, (void *)ignore_cb));
	}
	if (c->legacy) {
		/* CBC: only when asked for */
		ck_assert_int_eq(libssh2_session_method_pref(
					 s, LIBSSH2_METHOD_CRYPT_CS, c->name),
				 0);
		ck_assert_int_eq(libssh2_session_method_pref(
					 s, LIBSSH2_METHOD_CRYPT_SC, c->name),
				 0);
	}

	t0 = now_ms();
	if (r->startup)
		rc = CALL(r, s, fd, libssh2_session_startup(s, fd));
	else
		rc = CALL(r, s, fd, libssh2_session_handshake(s, fd));
	if (rc) {
		record(r, s, 0, rc, t0);
		goto out;
	}
	memcpy(r->sid, s->kex.session_id, s->kex.sidlen);
	r->sidlen = s->kex.sidlen;
	t0 = now_ms();
	{
		long dl = now_ms() + NB_DEADLINE_MS;

		while (!(list = libssh2_userauth_list(s, USER, strlen(USER))) &&
		       r->nb &&
		       libssh2_session_last_errno(s) == LIBSSH2_ERROR_EAGAIN)
			nb_wait(s, fd, dl);
	}
	if (!list) {
		record(r, s, 1, libssh2_session_last_errno(s), t0);
		goto out;
	}
	snprintf(r->list, sizeof(r->list), "%s", list);
	if (r->finish_auth) {
		t0 = now_ms();
		rc = CALL(r, s, fd,
			  libssh2_userauth_password(s, USER, PASSWORD));
		if (rc) {
			record(r, s, 2, rc, t0);
			goto out;
		}
		r->authed = libssh2_userauth_authenticated(s);
		if (r->chan_fn)
			r->chan_fn(r, s);
	}
out:
	if (r->disc) {
		int i;

		/* the socket takes nothing twice: EAGAIN, outbound, then
		 * the message goes; after it the session is finished */
		libssh2_session_set_blocking(s, 0);
		r->send_eagain = 2;
		for (i = 0; i < 4; i++) {
			r->disc_rc[i] = libssh2_session_disconnect_ex(
				s, SSH_DISCONNECT_BY_APPLICATION, "bye now",
				"en");
			if (i == 0)
				r->disc_dirs =
					libssh2_session_block_directions(s);
		}
	}
	if (r->own_alloc) {
		/* want_buf: the copy is the application's, from its
		 * allocator, given back with libssh2_free */
		long before = r->a_allocs;
		char *m = NULL;
		int ml = -1;

		libssh2_session_last_error(s, &m, &ml, 1);
		ck_assert_ptr_nonnull(m);
		ck_assert_int_eq((int)strlen(m), ml);
		r->a_wantbuf = r->a_allocs - before;
		libssh2_free(s, m);
		keep_keys(r, s);
	}
	libssh2_session_free(s);
	close(fd);
	ck_assert_int_eq(pthread_join(th, NULL), 0);
	srv_release(sv);
}

static void run_init(struct run *r, const struct cfg *cfg)
{
	memset(r, 0, sizeof(*r));
	r->cfg = *cfg;
	r->unknown = -1;
}

/* The call that must meet a fault of phase ph. */
static int call_of(enum phase ph)
{
	return ph <= PH_NEWKEYS ? 0 : 1;
}

/* Check an outcome: want 0 is a full run; otherwise that exact code,
 * from that call, with a message, long before the safety timeout. */
static void check_outcome(const struct run *r, int want, int want_call,
			  const char *what)
{
	if (want == 0) {
		ck_assert_msg(r->rc == 0,
			      "%s: expected success, got %d %s from %s: %s "
			      "(server: %s)",
			      what, r->rc, ename(r->rc),
			      r->call >= 0 ? call_name[r->call] : "-", r->msg,
			      r->sv.err);
		ck_assert_msg(r->sv.done, "%s: the server did not finish: %s",
			      what, r->sv.err);
		ck_assert_str_eq(r->list, METHODS);
		return;
	}
	ck_assert_msg(r->rc == want,
		      "%s: expected %d %s, got %d %s from %s: \"%s\" "
		      "(server: %s)",
		      what, want, ename(want), r->rc, ename(r->rc),
		      r->call >= 0 ? call_name[r->call] : "-", r->msg,
		      r->sv.err);
	ck_assert_msg(r->call == want_call, "%s: %s failed in %s, not in %s",
		      what, ename(want), call_name[r->call],
		      call_name[want_call]);
	ck_assert_msg(r->msg[0] && strcmp(r->msg, "would block"),
		      "%s: %s without a message (\"%s\")", what, ename(want),
		      r->msg);
	if (want != LIBSSH2_ERROR_TIMEOUT)
		ck_assert_msg(r->ms < SAFETY_TIMEOUT_MS / 2, "%s: took %ld ms",
			      what, r->ms);
}

/* ---- configurations -------------------------------------------------- */

/* The four packet protections of the transport, for the fault sweeps of
 * the encrypted phases: MAC-then-encrypt, encrypt-then-MAC, and the two
 * AEADs (these with strict KEX: sequence numbers restart at NEWKEYS,
 * and ChaCha20's nonce is the sequence number). */
static const struct cfg prot[] = {
	{"aes128-ctr", "hmac-sha2-256", 0},
	{"aes256-ctr", "hmac-sha2-512-etm@openssh.com", 0},
	{"aes128-gcm@openssh.com", "hmac-sha2-256", 1},
	{"chacha20-poly1305@openssh.com", "hmac-sha2-256", 1},
};
#define NPROT (int)(sizeof(prot) / sizeof(prot[0]))

/* Every cipher, every MAC, every key, IV and MAC key length the key
 * derivation has to produce (16, 24, 32, 64; 12, 16; 20, 32, 64). */
static const struct cfg good_cfgs[] = {
	{"chacha20-poly1305@openssh.com", "hmac-sha2-256", 0},
	{"chacha20-poly1305@openssh.com", "hmac-sha2-256", 1},
	{"aes128-gcm@openssh.com", "hmac-sha2-256", 0},
	{"aes256-gcm@openssh.com", "hmac-sha1", 1},
	{"aes128-ctr", "hmac-sha2-256", 1},
	{"aes192-ctr", "hmac-sha2-512", 0},
	{"aes256-ctr", "hmac-sha1", 0},
	{"aes128-ctr", "hmac-sha2-256-etm@openssh.com", 0},
	{"aes256-ctr", "hmac-sha2-512-etm@openssh.com", 1},
	{"aes192-ctr", "hmac-sha1-etm@openssh.com", 0},
	{"aes256-cbc", "hmac-sha2-256", 0},
	{"aes128-cbc", "hmac-sha2-512-etm@openssh.com", 1},
};
#define NGOOD (int)(sizeof(good_cfgs) / sizeof(good_cfgs[0]))

/* ---- good runs ---------------------------------------------------------- */

static void good_run(const struct cfg *cfg, int nb, enum kmode km)
{
	struct run r;
	char what[160];

	run_init(&r, cfg);
	r.nb = nb;
	r.finish_auth = 1;
	r.kmode = km;
	snprintf(what, sizeof(what), "good run %s/%s%s%s", cfg->cipher,
		 cfg->mac, cfg->strict ? " strict" : "",
		 nb ? " non-blocking" : "");
	run_session(&r);
	check_outcome(&r, 0, -1, what);
	ck_assert_msg(r.authed, "%s: not authenticated", what);
	/* the client's exchange hash is the server's, computed apart */
	ck_assert_uint_eq(r.sidlen, 32);
	ck_assert_msg(!memcmp(r.sid, r.sv.H, 32), "%s: H differs", what);
	/* a client that recognises everything answers nothing */
	ck_assert_int_eq(r.sv.unimpl_n, 0);
	ck_assert_str_eq(r.sv.err, "");
}

START_TEST(good_every_cipher)
{
	good_run(&good_cfgs[_i], 0, K_ANY);
}
END_TEST

START_TEST(good_nonblocking)
{
	good_run(&good_cfgs[_i], 1, K_ANY);
}
END_TEST

/* K's mpint encoding (RFC 4251 5) through a whole exchange: the server
 * picks its ephemeral key until K has its top bit set (a zero byte is
 * added) or starts with a zero byte followed by one below 0x80 (the
 * mpint is one byte shorter); the client must hash and derive the same. */
START_TEST(good_k_encoding)
{
	struct run r;

	run_init(&r, &prot[_i % NPROT]);
	r.finish_auth = 1;
	r.kmode = _i < NPROT ? K_HIGHBIT : K_LEADZERO;
	run_session(&r);
	check_outcome(&r, 0, -1, "K edge");
	if (r.kmode == K_HIGHBIT)
		ck_assert_int_ge(r.sv.k0, 0x80);
	else
		ck_assert_int_eq(r.sv.k0, 0);
	ck_assert_msg(!memcmp(r.sid, r.sv.H, 32), "H differs");
	ck_assert(r.authed);
}
END_TEST

/* The session API's small calls, as libssh2 1.11.1 has them, on a
 * session with no connection. */
START_TEST(api_basics)
{
	int token = 7;
	LIBSSH2_SESSION *s;
	char *m;
	int ml;

	ck_assert_int_eq(libssh2_init(0), 0);
	ck_assert_str_eq(libssh2_version(0), LIBSSH2_VERSION);
	ck_assert_str_eq(libssh2_version(LIBSSH2_VERSION_NUM), "1.11.1");
	ck_assert_ptr_null(libssh2_version(LIBSSH2_VERSION_NUM + 1));
	s = libssh2_session_init_ex(NULL, NULL, NULL, &token);
	ck_assert_ptr_nonnull(s);
	/* the abstract pointer given, by reference */
	ck_assert_ptr_eq(*libssh2_session_abstract(s), &token);
	/* defaults: blocking, no timeout, no error, no server banner */
	ck_assert_int_eq(libssh2_session_get_blocking(s), 1);
	ck_assert_int_eq(libssh2_session_get_timeout(s), 0);
	ck_assert_int_eq(libssh2_session_last_errno(s), 0);
	ck_assert_int_eq(libssh2_session_last_error(s, &m, &ml, 0), 0);
	ck_assert_str_eq(m, "");
	ck_assert_int_eq(ml, 0);
	ck_assert_ptr_null(libssh2_session_banner_get(s));
	ck_assert_int_eq(libssh2_session_block_directions(s), 0);
	/* set_last_error: returns the code, which is then the last one */
	ck_assert_int_eq(libssh2_session_set_last_error(s, -14, "made up"),
			 -14);
	ck_assert_int_eq(libssh2_session_last_errno(s), -14);
	ck_assert_int_eq(libssh2_session_last_error(s, &m, &ml, 0), -14);
	ck_assert_str_eq(m, "made up");
	ck_assert_int_eq(ml, 7);
	/* flags: the three known ones, INVAL for others */
	ck_assert_int_eq(libssh2_session_flag(s, LIBSSH2_FLAG_SIGPIPE, 1), 0);
	ck_assert_int_eq(libssh2_session_flag(s, LIBSSH2_FLAG_COMPRESS, 1), 0);
	ck_assert_int_eq(libssh2_session_flag(s, LIBSSH2_FLAG_QUOTE_PATHS, 0),
			 0);
	ck_assert_int_eq(libssh2_session_flag(s, 42, 1), LIBSSH2_ERROR_INVAL);
	/* as libssh2 1.11.1: an unknown flag is not recorded */
	ck_assert_int_eq(libssh2_session_last_errno(s), -14);
	/* and the length is that of the message handed out: none */
	ml = -1;
	ck_assert_int_eq(libssh2_session_last_error(s, NULL, &ml, 0), -14);
	ck_assert_int_eq(ml, 0);
	/* SEND/RECV: the built-in functions come back, and NULL restores
	 * them rather than leaving none */
	{
		libssh2_cb_generic *b_send = libssh2_session_callback_set2(
			s, LIBSSH2_CALLBACK_SEND, NULL);
		libssh2_cb_generic *b_recv = libssh2_session_callback_set2(
			s, LIBSSH2_CALLBACK_RECV, NULL);

		ck_assert_ptr_nonnull(b_send);
		ck_assert_ptr_nonnull(b_recv);
		ck_assert_ptr_eq(libssh2_session_callback_set2(
					 s, LIBSSH2_CALLBACK_SEND, NULL),
				 b_send);
		ck_assert_ptr_eq(libssh2_session_callback_set2(
					 s, LIBSSH2_CALLBACK_RECV, NULL),
				 b_recv);
	}
	libssh2_session_set_blocking(s, 0);
	ck_assert_int_eq(libssh2_session_get_blocking(s), 0);
	/* the values given come back as they were (libssh2) */
	libssh2_session_set_blocking(s, 5);
	ck_assert_int_eq(libssh2_session_get_blocking(s), 5);
	libssh2_session_set_timeout(s, -3);
	ck_assert_int_eq(libssh2_session_get_timeout(s), -3);
	libssh2_session_set_timeout(s, 1500);
	ck_assert_int_eq(libssh2_session_get_timeout(s), 1500);
	/* methods before a key exchange: none, "" for the languages,
	 * INVAL for a kind libssh2_session_methods does not know */
	ck_assert_ptr_null(libssh2_session_methods(s, LIBSSH2_METHOD_KEX));
	ck_assert_int_eq(libssh2_session_last_errno(s),
			 LIBSSH2_ERROR_METHOD_NONE);
	ck_assert_str_eq(libssh2_session_methods(s, LIBSSH2_METHOD_LANG_CS),
			 "");
	ck_assert_str_eq(libssh2_session_methods(s, LIBSSH2_METHOD_LANG_SC),
			 "");
	ck_assert_ptr_null(
		libssh2_session_methods(s, LIBSSH2_METHOD_SIGN_ALGO));
	ck_assert_int_eq(libssh2_session_last_errno(s), LIBSSH2_ERROR_INVAL);
	ck_assert_ptr_null(libssh2_session_methods(s, -1));
	ck_assert_int_eq(libssh2_session_last_errno(s), LIBSSH2_ERROR_INVAL);
	/* supported_algs: a list to free; libssh2 1.11.1's codes for the
	 * rest */
	{
		const char **algs = NULL;
		int n = libssh2_session_supported_algs(s, LIBSSH2_METHOD_MAC_CS,
						       &algs);

		ck_assert_int_gt(n, 5);
		ck_assert_ptr_nonnull(algs);
		libssh2_free(s, (void *)algs);
		ck_assert_int_eq(libssh2_session_supported_algs(
					 s, LIBSSH2_METHOD_KEX, NULL),
				 LIBSSH2_ERROR_BAD_USE);
		ck_assert_int_eq(libssh2_session_supported_algs(
					 s, LIBSSH2_METHOD_SIGN_ALGO, &algs),
				 LIBSSH2_ERROR_INVAL);
		ck_assert_int_eq(libssh2_session_supported_algs(
					 s, LIBSSH2_METHOD_LANG_CS, &algs),
				 LIBSSH2_ERROR_METHOD_NOT_SUPPORTED);
		ck_assert_int_eq(libssh2_session_supported_algs(s, 77, &algs),
				 LIBSSH2_ERROR_METHOD_NOT_SUPPORTED);
		ck_assert_int_eq(libssh2_session_supported_algs(s, -1, &algs),
				 LIBSSH2_ERROR_METHOD_NOT_SUPPORTED);
	}
	/* banners: both names, NULL or "" for the default */
	ck_assert_int_eq(libssh2_session_banner_set(s, "SSH-2.0-mine"), 0);
	ck_assert_int_eq(libssh2_banner_set(s, "SSH-2.0-old_name"), 0);
	ck_assert_int_eq(libssh2_session_banner_set(s, NULL), 0);
	ck_assert_int_eq(libssh2_session_free(s), 0);
	libssh2_exit();
}
END_TEST

/* As libssh2: the session makes a blocking socket non-blocking, and
 * libssh2_session_free makes it blocking again; one that was already
 * non-blocking stays so. */
START_TEST(socket_mode_restored)
{
	int sp[2], was_nb = _i;
	LIBSSH2_SESSION *s;

	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, sp), 0);
	if (was_nb)
		ck_assert_int_eq(fcntl(sp[0], F_SETFL, O_NONBLOCK), 0);
	s = libssh2_session_init();
	ck_assert_ptr_nonnull(s);
	libssh2_session_set_blocking(s, 0);
	/* the peer says nothing: the banner exchange waits */
	ck_assert_int_eq(libssh2_session_handshake(s, sp[0]),
			 LIBSSH2_ERROR_EAGAIN);
	ck_assert(fcntl(sp[0], F_GETFL) & O_NONBLOCK);
	ck_assert_int_eq(libssh2_session_free(s), 0);
	ck_assert_int_eq(!!(fcntl(sp[0], F_GETFL) & O_NONBLOCK), was_nb);
	close(sp[0]);
	close(sp[1]);
}
END_TEST

/* The old name of the handshake, libssh2_session_startup: the same. */
START_TEST(good_startup)
{
	struct run r;

	run_init(&r, &prot[_i]);
	r.startup = 1;
	r.finish_auth = 1;
	run_session(&r);
	check_outcome(&r, 0, -1, "session_startup");
	ck_assert(r.authed);
}
END_TEST

/* The application's allocator (libssh2_session_init_ex): a whole login
 * under every protection, and a run that fails (a bad MAC or tag), all
 * through it; nothing left allocated after libssh2_session_free, and
 * (chacha20-poly1305) no freed block still holding a session key. */
START_TEST(own_allocator)
{
	struct run r;

	run_init(&r, &prot[_i % NPROT]);
	r.own_alloc = 1;
	r.finish_auth = _i < NPROT;
	if (_i >= NPROT) {
		r.f.ph = PH_ENC1;
		r.f.kind = F_FLIP;
		r.f.arg = 20;
		r.f.bit = 3;
	}
	run_session(&r);
	if (_i < NPROT) {
		check_outcome(&r, 0, -1, "own allocator");
		ck_assert(r.authed);
	} else {
		ck_assert_msg(r.rc == LIBSSH2_ERROR_INVALID_MAC ||
				      r.rc == LIBSSH2_ERROR_DECRYPT,
			      "%d %s", r.rc, ename(r.rc));
	}
	ck_assert_int_gt(r.a_allocs, 5);
	ck_assert_int_gt(r.a_reallocs, 0);
	ck_assert_int_eq(r.a_wantbuf, 1);
	ck_assert_msg(r.a_live == 0, "%ld blocks left (%ld allocated)",
		      r.a_live, r.a_allocs);
	ck_assert_int_eq(r.a_frees, r.a_allocs);
	/* key material is wiped before it is given back */
	if (prot[_i % NPROT].cipher[0] == 'c')
		ck_assert_int_eq(r.nkeys, 4);
	ck_assert_msg(r.a_keys_left == 0, "%ld freed blocks held a key",
		      r.a_keys_left);
}
END_TEST

/* ---- bit flips ---------------------------------------------------------- */

/* A good run, to learn how many bytes each phase's packet has. */
static void probe(const struct cfg *cfg, size_t wire[PH_COUNT])
{
	struct run r;

	run_init(&r, cfg);
	run_session(&r);
	check_outcome(&r, 0, -1, "probe");
	memcpy(wire, r.sv.wire, sizeof(r.sv.wire));
}

/* Flip one bit of the packet of phase ph at many places: all the bits
 * of the low byte of packet_length and of padding_length, two of each
 * other length byte, then every `step` bytes (rotating the bit) through
 * payload, padding and MAC.  The server predicts each outcome. */
static void flip_sweep(enum phase ph, const struct cfg *cfg, size_t step,
		       int nb)
{
	size_t wire[PH_COUNT], off;
	int runs = 0, outcomes[8] = {0};

	probe(cfg, wire);
	ck_assert_uint_gt(wire[ph], 5);
	for (off = 0; off < wire[ph]; off++) {
		int bits[8], nbits = 0, i;

		if (ph != PH_BANNER && off < 3) {
			bits[nbits++] = (int)(off * 3 + 1) % 8;
			bits[nbits++] = 7 - (int)off;
		} else if ((ph != PH_BANNER && off < 5) ||
			   (ph == PH_BANNER && off < 8)) {
			for (i = 0; i < 8; i++)
				bits[nbits++] = i;
		} else if ((off - 5) % step == 0 || off == wire[ph] - 1) {
			bits[nbits++] = (int)(off * 5 + 3) % 8;
		}
		for (i = 0; i < nbits; i++) {
			struct run r;
			char what[200];

			run_init(&r, cfg);
			r.nb = nb;
			r.f.ph = ph;
			r.f.kind = F_FLIP;
			r.f.arg = (uint32_t)off;
			r.f.bit = bits[i];
			run_session(&r);
			snprintf(what, sizeof(what),
				 "%s/%s, %s packet (%zu bytes): byte %zu bit "
				 "%d flipped%s",
				 cfg->cipher, cfg->mac, phase_name[ph],
				 wire[ph], off, bits[i],
				 nb ? " (non-blocking)" : "");
			ck_assert_msg(r.sv.want_set, "%s: no prediction (%s)",
				      what, r.sv.err);
			check_outcome(&r, r.sv.want, call_of(ph), what);
			runs++;
			switch (r.sv.want) {
			case 0:
				outcomes[0]++;
				break;
			case LIBSSH2_ERROR_PROTO:
				outcomes[1]++;
				break;
			case LIBSSH2_ERROR_SOCKET_DISCONNECT:
				outcomes[2]++;
				break;
			case LIBSSH2_ERROR_HOSTKEY_SIGN:
				outcomes[3]++;
				break;
			case LIBSSH2_ERROR_KEX_FAILURE:
				outcomes[4]++;
				break;
			case LIBSSH2_ERROR_INVALID_MAC:
			case LIBSSH2_ERROR_DECRYPT:
				outcomes[5]++;
				break;
			case LIBSSH2_ERROR_OUT_OF_BOUNDARY:
				outcomes[6]++;
				break;
			default:
				outcomes[7]++;
				break;
			}
		}
	}
	/* every sweep meets the framing errors (a length over the limit, a
	 * longer one, a misaligned one or a bad padding_length: DECRYPT) and
	 * the phase's own; in clear a message cut or grown is refused by
	 * its parser */
	ck_assert_int_gt(runs, 20);
	if (ph != PH_BANNER) {
		ck_assert_int_gt(outcomes[2], 0);
		ck_assert_int_gt(outcomes[5], 0);
		ck_assert_int_gt(outcomes[6], 0);
	}
	if (ph != PH_BANNER && ph < PH_ENC1)
		ck_assert_int_gt(outcomes[1], 0);
	if (ph >= PH_ENC1)
		ck_assert_int_gt(outcomes[5], 0);
	if (ph == PH_KEXINIT) {
		ck_assert_int_gt(outcomes[3], 0);
		ck_assert_int_gt(outcomes[4], 0);
		ck_assert_int_gt(outcomes[0], 0); /* padding */
	}
}

START_TEST(flip_banner)
{
	flip_sweep(PH_BANNER, &prot[0], 1, 0);
}
END_TEST

START_TEST(flip_kexinit)
{
	flip_sweep(PH_KEXINIT, &prot[0], 5, 0);
}
END_TEST

START_TEST(flip_reply)
{
	flip_sweep(PH_REPLY, &prot[0], 3, 0);
}
END_TEST

START_TEST(flip_newkeys)
{
	flip_sweep(PH_NEWKEYS, &prot[0], 1, 0);
}
END_TEST

START_TEST(flip_enc1)
{
	flip_sweep(PH_ENC1, &prot[_i], 3, 0);
}
END_TEST

START_TEST(flip_enc2)
{
	flip_sweep(PH_ENC2, &prot[_i], 4, 0);
}
END_TEST

START_TEST(flip_nonblocking)
{
	static const enum phase ph[] = {PH_KEXINIT, PH_REPLY, PH_ENC1, PH_ENC2};

	flip_sweep(ph[_i % 4], &prot[_i % NPROT], 11, 1);
}
END_TEST

/* ---- truncation --------------------------------------------------------- */

/* The connection closes after k bytes of the phase's packet, for k at
 * the edges of the length field, the first block and the MAC. */
static void trunc_sweep(enum phase ph, const struct cfg *cfg, int nb)
{
	size_t wire[PH_COUNT], ks[12], i, nk = 0, w;
	int want = ph == PH_BANNER ? LIBSSH2_ERROR_BANNER_RECV
				   : LIBSSH2_ERROR_SOCKET_DISCONNECT;

	probe(cfg, wire);
	w = wire[ph];
	ks[nk++] = 0;
	ks[nk++] = 1;
	ks[nk++] = 3;
	ks[nk++] = 4;
	ks[nk++] = 5;
	ks[nk++] = 15;
	ks[nk++] = 16;
	ks[nk++] = 17;
	ks[nk++] = w / 2;
	ks[nk++] = w - 16;
	ks[nk++] = w - 1;
	for (i = 0; i < nk; i++) {
		struct run r;
		char what[160];

		if (ks[i] >= w)
			continue;
		run_init(&r, cfg);
		r.nb = nb;
		r.f.ph = ph;
		r.f.kind = F_TRUNC;
		r.f.arg = (uint32_t)ks[i];
		run_session(&r);
		snprintf(what, sizeof(what),
			 "%s/%s: %s cut after %zu of %zu bytes%s", cfg->cipher,
			 cfg->mac, phase_name[ph], ks[i], w,
			 nb ? " (non-blocking)" : "");
		check_outcome(&r, want, call_of(ph), what);
	}
}

START_TEST(truncated)
{
	/* plaintext phases once, encrypted ones under every protection */
	static const enum phase ph[] = {PH_BANNER, PH_KEXINIT, PH_REPLY,
					PH_NEWKEYS};

	if (_i < 4)
		trunc_sweep(ph[_i], &prot[0], 0);
	else
		trunc_sweep(_i % 2 ? PH_ENC2 : PH_ENC1, &prot[(_i - 4) / 2], 0);
}
END_TEST

START_TEST(truncated_nonblocking)
{
	static const enum phase ph[] = {PH_BANNER,  PH_KEXINIT, PH_REPLY,
					PH_NEWKEYS, PH_ENC1,	PH_ENC2};

	trunc_sweep(ph[_i % 6], &prot[_i % NPROT], 1);
}
END_TEST

/* ---- framing under valid protection ---------------------------------------
 */

/* packet_length and padding_length the client must refuse although the
 * MAC or tag (computed over the bad values) verifies: RFC 4253 6.  The
 * codes are libssh2 1.11.1's: OUT_OF_BOUNDARY for a length over the
 * limit, DECRYPT for one too small or misaligned and for a padding_length
 * under 4 or leaving no payload; a padding_length that is valid but not
 * the real one cuts the message, which its parser refuses (PROTO). */
static int framing_want(enum fkind kind, uint32_t v, uint32_t len)
{
	if (kind == F_PADLEN)
		return v < 4 || v >= len - 1 ? LIBSSH2_ERROR_DECRYPT
					     : LIBSSH2_ERROR_PROTO;
	if (v > SSH_PACKET_MAX)
		return LIBSSH2_ERROR_OUT_OF_BOUNDARY;
	return LIBSSH2_ERROR_DECRYPT; /* under 5, or not block-aligned */
}

static void framing_sweep(enum phase ph, const struct cfg *cfg, int nb)
{
	struct {
		enum fkind kind;
		uint32_t v; /* 0xfffffff0 + k: relative to the real value */
		const char *what;
	} t[] = {
		{F_LEN, 1, "packet_length over 256 KiB"},
		{F_LEN, 0xffffffffu, "packet_length 2^32-1"},
		{F_LEN, 0, "packet_length 0"},
		{F_LEN, 4, "packet_length 4"},
		{F_LEN, 0xfffffff1u, "packet_length one past the block"},
		{F_LEN, 0xfffffff3u, "packet_length three past the block"},
		{F_PADLEN, 3, "padding_length 3"},
		{F_PADLEN, 0, "padding_length 0"},
		{F_PADLEN, 255, "padding_length 255"},
		{F_PADLEN, 0xfffffff0u, "padding_length = packet_length - 1"},
		{F_PADLEN, 0xfffffff2u, "padding_length > packet_length"},
	};
	size_t wire[PH_COUNT], i;
	const struct cipher_def *c =
		cipher_by_name(cfg->cipher, strlen(cfg->cipher));
	int enc = ph >= PH_ENC1;
	unsigned bs = enc && c->blocksize > 8 ? c->blocksize : 8;
	int apart = enc && (c->authlen || strstr(cfg->mac, "-etm"));
	uint32_t len;

	probe(cfg, wire);
	/* the packet_length the server frames: wire less tag and field */
	len = (uint32_t)(wire[ph] - 4 -
			 (enc ? (c->authlen ? c->authlen
					    : mac_by_name(cfg->mac,
							  strlen(cfg->mac))
						      ->maclen)
			      : 0));
	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		struct run r;
		char what[200];
		uint32_t v = t[i].v;

		if (t[i].kind == F_LEN && v == 1)
			v = SSH_PACKET_MAX + bs - (apart ? 0 : 4);
		else if (v >= 0xfffffff0u && v != 0xffffffffu)
			v = len + (v - 0xfffffff0u) - (t[i].kind == F_PADLEN);
		run_init(&r, cfg);
		r.nb = nb;
		r.f.ph = ph;
		r.f.kind = t[i].kind;
		r.f.arg = v;
		run_session(&r);
		snprintf(what, sizeof(what), "%s/%s, %s: %s (%u)%s",
			 cfg->cipher, cfg->mac, phase_name[ph], t[i].what, v,
			 nb ? " (non-blocking)" : "");
		check_outcome(&r, framing_want(t[i].kind, v, len), call_of(ph),
			      what);
	}
}

START_TEST(framing)
{
	static const enum phase ph[] = {PH_KEXINIT, PH_REPLY, PH_NEWKEYS};

	if (_i < 3)
		framing_sweep(ph[_i], &prot[0], 0);
	else
		framing_sweep(_i % 2 ? PH_ENC2 : PH_ENC1, &prot[(_i - 3) / 2],
			      0);
}
END_TEST

START_TEST(framing_nonblocking)
{
	framing_sweep(_i % 2 ? PH_ENC2 : PH_ENC1, &prot[_i / 2], 1);
}
END_TEST

/* The largest packet the client must take: packet_length at the limit
 * (an IGNORE right before SERVICE_ACCEPT), and nothing breaks. */
START_TEST(largest_packet)
{
	const struct cfg *cfg = &prot[_i];
	const struct cipher_def *c =
		cipher_by_name(cfg->cipher, strlen(cfg->cipher));
	int apart = c->authlen || strstr(cfg->mac, "-etm");
	unsigned bs = c->blocksize > 8 ? c->blocksize : 8;
	size_t n, len, pad;
	uint8_t *msg;
	struct run r;

	/* the biggest payload the server's framing keeps within the limit */
	for (n = SSH_PACKET_MAX;; n--) {
		size_t aligned = 1 + n + (apart ? 0 : 4);

		pad = bs - aligned % bs;
		if (pad < 4)
			pad += bs;
		len = 1 + n + pad;
		if (len <= SSH_PACKET_MAX)
			break;
	}
	ck_assert_uint_ge(len, SSH_PACKET_MAX - 16);
	msg = calloc(1, n);
	ck_assert_ptr_nonnull(msg);
	msg[0] = SSH_MSG_IGNORE;
	put_u32(msg + 1, (uint32_t)(n - 5));
	run_init(&r, cfg);
	r.f.ph = PH_ENC1;
	r.f.kind = F_INSERT;
	r.f.msg = msg;
	r.f.msglen = n;
	run_session(&r);
	check_outcome(&r, 0, -1, "a packet_length at the limit");
	free(msg);
}
END_TEST

/* ---- messages out of order, DISCONNECT, garbage ------------------------- */

static const uint8_t m_newkeys[] = {SSH_MSG_NEWKEYS};
static const uint8_t m_accept[] = {SSH_MSG_SERVICE_ACCEPT,
				   0,
				   0,
				   0,
				   12,
				   's',
				   's',
				   'h',
				   '-',
				   'u',
				   's',
				   'e',
				   'r',
				   'a',
				   'u',
				   't',
				   'h'};
static const uint8_t m_chandata[] = {94, 0, 0, 0, 0, 0, 0, 0, 1, 'x'};
static const uint8_t m_ignore[] = {SSH_MSG_IGNORE, 0, 0, 0, 3, 'a', 'b', 'c'};
static const uint8_t m_unknown[] = {150, 'x'};
static const uint8_t m_kex34[] = {34, 0, 0, 0, 1, 'x'};
static const uint8_t m_kex22[] = {22};
static const uint8_t m_reply_junk[] = {
	SSH_MSG_KEX_ECDH_REPLY, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0};
static const uint8_t m_disconnect[] = {SSH_MSG_DISCONNECT,
				       0,
				       0,
				       0,
				       11,
				       0,
				       0,
				       0,
				       9,
				       'g',
				       'o',
				       'i',
				       'n',
				       'g',
				       ' ',
				       'o',
				       'f',
				       'f',
				       0,
				       0,
				       0,
				       0};
/* a well-framed plaintext packet holding CHANNEL_SUCCESS */
static const uint8_t g_framed[] = {0, 0, 0, 12, 10, 99, 1, 2,
				   3, 4, 5, 6,	7,  8,	9, 10};
static const uint8_t g_zeros[16];

#define MSG(a) a, sizeof(a)

static const uint8_t m_gen12[] = {12, 'x'};

/* want: the outcome; unimpl: the client answers the message with
 * SSH_MSG_UNIMPLEMENTED (RFC 4253 11.4) quoting its sequence number,
 * which a test with want 0 must see; with an error no answer may come. */
static const struct ooo {
	const char *what;
	int strict;
	struct fault f;
	int want;
	int unimpl;
} ooo[] = {
	{"NEWKEYS before the ECDH reply",
	 0,
	 {PH_REPLY, F_REPLACE, 0, 0, MSG(m_newkeys)},
	 LIBSSH2_ERROR_PROTO,
	 0},
	{"a second KEXINIT in the middle",
	 0,
	 {PH_REPLY, F_REPLACE, 0, 0, NULL, 0},
	 LIBSSH2_ERROR_PROTO,
	 0},
	{"a second KEXINIT in the middle (strict)",
	 1,
	 {PH_REPLY, F_REPLACE, 0, 0, NULL, 0},
	 LIBSSH2_ERROR_PROTO,
	 0},
	{"SERVICE_ACCEPT before NEWKEYS",
	 0,
	 {PH_NEWKEYS, F_REPLACE, 0, 0, MSG(m_accept)},
	 LIBSSH2_ERROR_PROTO,
	 0},
	{"a channel message in the initial kex (strict)",
	 1,
	 {PH_REPLY, F_INSERT, 0, 0, MSG(m_chandata)},
	 LIBSSH2_ERROR_PROTO,
	 0},
	{"a channel message in the initial kex",
	 0,
	 {PH_REPLY, F_INSERT, 0, 0, MSG(m_chandata)},
	 LIBSSH2_ERROR_PROTO,
	 0},
	{"an unknown message in the initial kex (strict)",
	 1,
	 {PH_NEWKEYS, F_INSERT, 0, 0, MSG(m_unknown)},
	 LIBSSH2_ERROR_PROTO,
	 0},
	{"an unknown message in the initial kex",
	 0,
	 {PH_REPLY, F_INSERT, 0, 0, MSG(m_unknown)},
	 LIBSSH2_ERROR_PROTO,
	 0},
	{"IGNORE in the initial kex (strict)",
	 1,
	 {PH_REPLY, F_INSERT, 0, 0, MSG(m_ignore)},
	 LIBSSH2_ERROR_PROTO,
	 0},
	{"IGNORE in the initial kex (not strict: fine)",
	 0,
	 {PH_REPLY, F_INSERT, 0, 0, MSG(m_ignore)},
	 0,
	 0},
	{"IGNORE before KEXINIT (strict: must be first)",
	 1,
	 {PH_KEXINIT, F_INSERT, 0, 0, MSG(m_ignore)},
	 LIBSSH2_ERROR_PROTO,
	 0},
	{"IGNORE before KEXINIT (not strict: fine)",
	 0,
	 {PH_KEXINIT, F_INSERT, 0, 0, MSG(m_ignore)},
	 0,
	 0},
	{"ECDH_REPLY instead of KEXINIT",
	 0,
	 {PH_KEXINIT, F_REPLACE, 0, 0, MSG(m_reply_junk)},
	 LIBSSH2_ERROR_PROTO,
	 0},
	/* (ECDH_REPLY after NEWKEYS is unrecognised: unimplemented_kex) */
	{"a method message (34) in the initial kex",
	 0,
	 {PH_REPLY, F_INSERT, 0, 0, MSG(m_kex34)},
	 LIBSSH2_ERROR_PROTO,
	 0},
	{"a method message (34) in the initial kex (strict)",
	 1,
	 {PH_REPLY, F_INSERT, 0, 0, MSG(m_kex34)},
	 LIBSSH2_ERROR_PROTO,
	 0},
	/* RFC 4253 7.1 allows 1..19 and 20..29 in an exchange: an
	 * unassigned one is unrecognised (11.4), as OpenSSH answers it;
	 * strict KEX makes it fatal in the initial exchange only */
	{"an unassigned negotiation message (22) in the initial kex",
	 0,
	 {PH_NEWKEYS, F_INSERT, 0, 0, MSG(m_kex22)},
	 0,
	 1},
	{"an unassigned negotiation message (22) before the reply",
	 0,
	 {PH_REPLY, F_INSERT, 0, 0, MSG(m_kex22)},
	 0,
	 1},
	{"an unassigned negotiation message (22) in the initial kex (strict)",
	 1,
	 {PH_NEWKEYS, F_INSERT, 0, 0, MSG(m_kex22)},
	 LIBSSH2_ERROR_PROTO,
	 0},
	{"an unassigned generic message (12) in the initial kex",
	 0,
	 {PH_REPLY, F_INSERT, 0, 0, MSG(m_gen12)},
	 0,
	 1},
	{"an unassigned generic message (12) before KEXINIT",
	 0,
	 {PH_KEXINIT, F_INSERT, 0, 0, MSG(m_gen12)},
	 0,
	 1},
	{"an unassigned generic message (12) in the initial kex (strict)",
	 1,
	 {PH_REPLY, F_INSERT, 0, 0, MSG(m_gen12)},
	 LIBSSH2_ERROR_PROTO,
	 0},
	/* after the first exchange strict KEX no longer applies: a NEWKEYS
	 * with no exchange running is unrecognised (OpenSSH: the handler
	 * set back after kex_input_newkeys answers UNIMPLEMENTED) */
	{"NEWKEYS with no exchange running (strict)",
	 1,
	 {PH_ENC1, F_INSERT, 0, 0, MSG(m_newkeys)},
	 0,
	 1},
	{"NEWKEYS with no exchange running",
	 0,
	 {PH_ENC2, F_INSERT, 0, 0, MSG(m_newkeys)},
	 0,
	 1},
	{"DISCONNECT instead of KEXINIT",
	 0,
	 {PH_KEXINIT, F_REPLACE, 0, 0, MSG(m_disconnect)},
	 LIBSSH2_ERROR_SOCKET_DISCONNECT,
	 0},
	{"DISCONNECT instead of the reply (strict)",
	 1,
	 {PH_REPLY, F_REPLACE, 0, 0, MSG(m_disconnect)},
	 LIBSSH2_ERROR_SOCKET_DISCONNECT,
	 0},
	{"DISCONNECT instead of NEWKEYS",
	 0,
	 {PH_NEWKEYS, F_REPLACE, 0, 0, MSG(m_disconnect)},
	 LIBSSH2_ERROR_SOCKET_DISCONNECT,
	 0},
	{"DISCONNECT instead of SERVICE_ACCEPT",
	 1,
	 {PH_ENC1, F_REPLACE, 0, 0, MSG(m_disconnect)},
	 LIBSSH2_ERROR_SOCKET_DISCONNECT,
	 0},
	{"DISCONNECT instead of USERAUTH_FAILURE",
	 0,
	 {PH_ENC2, F_REPLACE, 0, 0, MSG(m_disconnect)},
	 LIBSSH2_ERROR_SOCKET_DISCONNECT,
	 0},
	/* text read as a packet_length: "garb", "SSH-", CR LF CR LF are
	 * all over the limit; zeros are too small (libssh2's codes) */
	{"text after the banner",
	 0,
	 {PH_BANNER, F_GARBAGE, 0, 0, (const uint8_t *)"garbage!", 8},
	 LIBSSH2_ERROR_OUT_OF_BOUNDARY,
	 0},
	{"a second banner",
	 0,
	 {PH_BANNER, F_GARBAGE, 0, 0, (const uint8_t *)"SSH-2.0-again\r\n", 15},
	 LIBSSH2_ERROR_OUT_OF_BOUNDARY,
	 0},
	{"empty lines after the banner",
	 0,
	 {PH_BANNER, F_GARBAGE, 0, 0, (const uint8_t *)"\r\n\r\n\r\n\r\n", 8},
	 LIBSSH2_ERROR_OUT_OF_BOUNDARY,
	 0},
	{"zero bytes after the banner",
	 0,
	 {PH_BANNER, F_GARBAGE, 0, 0, MSG(g_zeros)},
	 LIBSSH2_ERROR_DECRYPT,
	 0},
	{"a framed CHANNEL_SUCCESS after the banner",
	 0,
	 {PH_BANNER, F_GARBAGE, 0, 0, MSG(g_framed)},
	 LIBSSH2_ERROR_PROTO,
	 0},
	{"a framed CHANNEL_SUCCESS after the banner (strict)",
	 1,
	 {PH_BANNER, F_GARBAGE, 0, 0, MSG(g_framed)},
	 LIBSSH2_ERROR_PROTO,
	 0},
};
#define NOOO (int)(sizeof(ooo) / sizeof(ooo[0]))

static void ooo_run(const struct ooo *o, int nb)
{
	struct run r;
	struct cfg cfg = prot[o->strict ? 3 : 0];
	char what[160];

	run_init(&r, &cfg);
	r.nb = nb;
	r.f = o->f;
	run_session(&r);
	snprintf(what, sizeof(what), "%s%s", o->what,
		 nb ? " (non-blocking)" : "");
	check_outcome(&r, o->want, o->want ? call_of(o->f.ph) : -1, what);
	/* never an UNIMPLEMENTED for a message that breaks the protocol */
	ck_assert_msg(r.sv.unimpl_n == o->unimpl, "%s: %d UNIMPLEMENTED", what,
		      r.sv.unimpl_n);
	if (o->unimpl)
		ck_assert_msg(r.sv.unimpl_seq == r.sv.insert_seq,
			      "%s: UNIMPLEMENTED quotes %u, the packet was %u",
			      what, r.sv.unimpl_seq, r.sv.insert_seq);
	if (o->want == LIBSSH2_ERROR_SOCKET_DISCONNECT)
		ck_assert_msg(strstr(r.msg, "going off"), "%s: \"%s\"", what,
			      r.msg);
}

START_TEST(out_of_order)
{
	ooo_run(&ooo[_i], 0);
}
END_TEST

START_TEST(out_of_order_nonblocking)
{
	ooo_run(&ooo[_i], 1);
}
END_TEST

/* ---- a server that stops talking ------------------------------------------
 */

START_TEST(stall)
{
	static const struct {
		enum phase ph;
		uint32_t bytes;
	} t[] = {
		{PH_BANNER, 0},	 {PH_BANNER, 10}, {PH_KEXINIT, 0},
		{PH_KEXINIT, 7}, {PH_REPLY, 0},	  {PH_REPLY, 40},
		{PH_NEWKEYS, 0}, {PH_ENC1, 0},	  {PH_ENC1, 20},
		{PH_ENC2, 0},	 {PH_ENC2, 30},
	};
	struct run r;
	char what[120];

	run_init(&r, &prot[_i % NPROT]);
	r.timeout_ms = STALL_TIMEOUT_MS;
	r.f.ph = t[_i].ph;
	r.f.kind = F_STALL;
	r.f.arg = t[_i].bytes;
	run_session(&r);
	snprintf(what, sizeof(what), "silence after %u bytes of %s",
		 t[_i].bytes, phase_name[t[_i].ph]);
	check_outcome(&r, LIBSSH2_ERROR_TIMEOUT, call_of(t[_i].ph), what);
	ck_assert_msg(r.ms >= STALL_TIMEOUT_MS - 1 &&
			      r.ms < STALL_TIMEOUT_MS + STALL_SLACK_MS,
		      "%s: gave up after %ld ms (timeout %d)", what, r.ms,
		      STALL_TIMEOUT_MS);
}
END_TEST

/* ---- LIBSSH2_CALLBACK_MACERROR --------------------------------------------
 */

/* Flip a bit of SERVICE_ACCEPT (in the MAC, or in the payload) under the
 * given protection, with the callback in mode cb. */
static void macerr_run(struct run *r, const struct cfg *cfg, enum cbmode cb,
		       int in_payload, int finish)
{
	size_t wire[PH_COUNT];
	const struct cipher_def *c =
		cipher_by_name(cfg->cipher, strlen(cfg->cipher));

	probe(cfg, wire);
	run_init(r, cfg);
	r->cb = cb;
	r->finish_auth = finish;
	r->f.ph = PH_ENC1;
	r->f.kind = F_FLIP;
	/* the payload starts at 5 (type), the service name at 10; the
	 * MAC or tag is the end */
	r->f.arg = in_payload ? 12 : (uint32_t)(wire[PH_ENC1] - 3);
	r->f.bit = 2;
	/* the server goes on as if nothing happened */
	r->flip_go_on = 1;
	(void)c;
	run_session(r);
}

/* The callback returns 0: the packet is processed as if its MAC were
 * right, and the connection goes on (the next packets still verify, so
 * the keystream and sequence numbers stayed in step). */
START_TEST(macerror_accept)
{
	const struct cfg *cfg = &prot[_i % 2]; /* MtE, EtM */
	struct run r;

	macerr_run(&r, cfg, CB_ACCEPT, 0, 1);
	ck_assert_msg(r.rc == 0, "%s: %d %s: %s", cfg->mac, r.rc, ename(r.rc),
		      r.msg);
	ck_assert_int_eq(r.cb_calls, 1);
	/* it was shown the packet: the payload, type byte first */
	ck_assert_int_eq(r.cb_len, (int)sizeof(m_accept));
	ck_assert_mem_eq(r.cb_pkt, m_accept, sizeof(m_accept));
	ck_assert_str_eq(r.list, METHODS);
	ck_assert(r.authed);
	ck_assert(r.sv.done);
}
END_TEST

/* A flipped payload bit: what the callback accepts is the forged
 * packet, which the session then acts on (integrity is given up). */
START_TEST(macerror_accept_forged)
{
	const struct cfg *cfg = &prot[_i % 2];
	uint8_t forged[sizeof(m_accept)];
	struct run r;

	memcpy(forged, m_accept, sizeof(forged));
	forged[12 - 5] ^= 1u << 2; /* "ssh-userauth" -> "ssl-userauth" */
	macerr_run(&r, cfg, CB_ACCEPT, 1, 0);
	ck_assert_msg(r.rc == 0, "%s: %d %s: %s", cfg->mac, r.rc, ename(r.rc),
		      r.msg);
	ck_assert_int_eq(r.cb_calls, 1);
	ck_assert_int_eq(r.cb_len, (int)sizeof(forged));
	ck_assert_mem_eq(r.cb_pkt, forged, sizeof(forged));
	ck_assert_str_eq(r.list, METHODS);
}
END_TEST

/* The callback refuses: the packet is dropped, INVALID_MAC. */
START_TEST(macerror_refuse)
{
	const struct cfg *cfg = &prot[_i % 2];
	struct run r;

	macerr_run(&r, cfg, CB_REFUSE, _i >= 2, 0);
	check_outcome(&r, LIBSSH2_ERROR_INVALID_MAC, 1, "callback refuses");
	ck_assert_int_eq(r.cb_calls, 1);
	ck_assert_ptr_nonnull(strstr(r.msg, "callback"));
}
END_TEST

/* AEAD: a tag failure is a decryption error; the callback is not asked. */
START_TEST(macerror_aead)
{
	const struct cfg *cfg = &prot[2 + _i % 2];
	struct run r;

	macerr_run(&r, cfg, CB_ACCEPT, _i >= 2, 0);
	check_outcome(&r, LIBSSH2_ERROR_DECRYPT, 1, cfg->cipher);
	ck_assert_int_eq(r.cb_calls, 0);
}
END_TEST

/* Without a callback a bad HMAC is fatal at once (the baseline). */
START_TEST(macerror_none)
{
	const struct cfg *cfg = &prot[_i % 2];
	struct run r;

	macerr_run(&r, cfg, CB_NONE, _i >= 2, 0);
	check_outcome(&r, LIBSSH2_ERROR_INVALID_MAC, 1, "no callback");
	ck_assert_int_eq(r.cb_calls, 0);
}
END_TEST

/* ---- ignore, debug and disconnect callbacks --------------------------------
 */

/* DEBUG: always_display, "be careful", language "en" (RFC 4253 11.3) */
static const uint8_t m_debug[] = {
	SSH_MSG_DEBUG, 1,   0,	 0,   0,   10, 'b', 'e', ' ', 'c', 'a',
	'r',	       'e', 'f', 'u', 'l', 0,  0,   0,	 2,   'e', 'n'};
/* DISCONNECT, reason 2, a description with a NUL inside, language "x" */
static const uint8_t m_disconnect_nul[] = {SSH_MSG_DISCONNECT,
					   0,
					   0,
					   0,
					   2,
					   0,
					   0,
					   0,
					   4,
					   'a',
					   0,
					   'b',
					   'c',
					   0,
					   0,
					   0,
					   1,
					   'x'};

/* IGNORE and DEBUG under the new keys: each callback called once with
 * the message's text (IGNORE: its data, without the length field), and
 * the login goes on.  A callback whose type is unknown is refused. */
START_TEST(callbacks_ignore_debug)
{
	struct run r;

	run_init(&r, &prot[_i]);
	r.cbs = 1;
	r.finish_auth = 1;
	r.ignore_first = 1; /* "hi" after SERVICE_ACCEPT */
	r.f.ph = PH_ENC2;
	r.f.kind = F_INSERT;
	r.f.msg = m_debug;
	r.f.msglen = sizeof(m_debug);
	run_session(&r);
	check_outcome(&r, 0, -1, "IGNORE and DEBUG");
	ck_assert(r.authed);
	ck_assert_int_eq(r.ign_n, 1);
	ck_assert_int_eq(r.ign_len, 2);
	ck_assert_str_eq(r.ign, "hi");
	ck_assert_int_eq(r.dbg_n, 1);
	ck_assert_int_eq(r.dbg_always, 1);
	ck_assert_int_eq(r.dbg_len, 10);
	ck_assert_str_eq(r.dbg, "be careful");
	ck_assert_int_eq(r.dbg_lang_len, 2);
	ck_assert_str_eq(r.dbg_lang, "en");
	ck_assert_int_eq(r.dis_n, 0);
}
END_TEST

/* DISCONNECT: the callback gets the reason, description and language,
 * then the call fails with SOCKET_DISCONNECT.  A description that is
 * not text (a NUL inside) is passed as empty, length 0 with it: never
 * a length that runs past what the pointer holds. */
START_TEST(callback_disconnect)
{
	struct run r;

	run_init(&r, &prot[_i % NPROT]);
	r.cbs = 1;
	r.f.ph = _i < NPROT ? PH_ENC1 : PH_REPLY;
	r.f.kind = F_REPLACE;
	if (_i < 2 * NPROT) {
		r.f.msg = m_disconnect;
		r.f.msglen = sizeof(m_disconnect);
	} else {
		r.f.msg = m_disconnect_nul;
		r.f.msglen = sizeof(m_disconnect_nul);
	}
	run_session(&r);
	check_outcome(&r, LIBSSH2_ERROR_SOCKET_DISCONNECT, call_of(r.f.ph),
		      "DISCONNECT");
	ck_assert_int_eq(r.dis_n, 1);
	if (_i < 2 * NPROT) {
		ck_assert_int_eq(r.dis_reason, 11);
		ck_assert_int_eq(r.dis_len, 9);
		ck_assert_str_eq(r.dis, "going off");
		ck_assert_int_eq(r.dis_lang_len, 0);
	} else {
		ck_assert_int_eq(r.dis_reason, 2);
		ck_assert_int_eq(r.dis_len, 0);
		ck_assert_int_eq(r.dis_lang_len, 0);
	}
	ck_assert_int_eq(r.ign_n + r.dbg_n, 0);
}
END_TEST

/* ---- libssh2_session_disconnect_ex ----------------------------------------
 */

/* After a login, in non-blocking mode with a socket that takes nothing
 * at first: EAGAIN (outbound) until it does, then 0; called again, 0
 * and nothing more sent.  The server gets one DISCONNECT with the
 * reason, description and language given. */
START_TEST(disconnect_sent_once)
{
	struct run r;

	run_init(&r, &prot[_i]);
	r.finish_auth = 1;
	r.disc = 1;
	run_session(&r);
	check_outcome(&r, 0, -1, "disconnect");
	ck_assert_int_eq(r.disc_rc[0], LIBSSH2_ERROR_EAGAIN);
	ck_assert_int_eq(r.disc_dirs, LIBSSH2_SESSION_BLOCK_OUTBOUND);
	ck_assert_int_eq(r.disc_rc[1], LIBSSH2_ERROR_EAGAIN);
	ck_assert_int_eq(r.disc_rc[2], 0);
	ck_assert_int_eq(r.disc_rc[3], 0);
	ck_assert_int_eq(r.sv.disc_n, 1);
	ck_assert_uint_eq(r.sv.disc_reason, SSH_DISCONNECT_BY_APPLICATION);
	ck_assert_str_eq(r.sv.disc_desc, "bye now");
	ck_assert_str_eq(r.sv.disc_lang, "en");
	ck_assert_str_eq(r.sv.err, "");
}
END_TEST

/* libssh2 1.11.1's limits: a description or language tag over 256
 * bytes is LIBSSH2_ERROR_INVAL, whatever the session's state. */
START_TEST(disconnect_too_long)
{
	LIBSSH2_SESSION *s = libssh2_session_init();
	char t[258];
	char *m;

	ck_assert_ptr_nonnull(s);
	memset(t, 'd', sizeof(t) - 1);
	t[257] = '\0';
	ck_assert_int_eq(libssh2_session_disconnect_ex(s, 11, t, ""),
			 LIBSSH2_ERROR_INVAL);
	ck_assert_int_eq(libssh2_session_last_error(s, &m, NULL, 0),
			 LIBSSH2_ERROR_INVAL);
	ck_assert_ptr_nonnull(strstr(m, "description"));
	ck_assert_int_eq(libssh2_session_disconnect_ex(s, 11, "", t),
			 LIBSSH2_ERROR_INVAL);
	ck_assert_int_eq(libssh2_session_disconnect(s, t), LIBSSH2_ERROR_INVAL);
	/* 256 is allowed (no socket yet: nothing to send) */
	t[256] = '\0';
	ck_assert_int_eq(libssh2_session_disconnect_ex(s, 11, t, t), 0);
	libssh2_session_free(s);
}
END_TEST

/* ---- SSH_MSG_UNIMPLEMENTED ------------------------------------------------
 */

/* After SERVICE_ACCEPT the server sends a message number the client does
 * not know; the client must answer UNIMPLEMENTED quoting that packet's
 * sequence number (strict KEX restarted the count at NEWKEYS), drop the
 * message, and go on: the login still works. */
static void unimpl_run(const struct cfg *cfg, int type, int ignore_first,
		       int nb)
{
	struct run r;
	char what[120];

	run_init(&r, cfg);
	r.unknown = type;
	r.ignore_first = ignore_first;
	r.finish_auth = 1;
	r.nb = nb;
	run_session(&r);
	snprintf(what, sizeof(what), "message %d, %s%s", type, cfg->cipher,
		 cfg->strict ? " strict" : "");
	check_outcome(&r, 0, -1, what);
	ck_assert_msg(r.authed, "%s: not authenticated", what);
	ck_assert_msg(r.sv.unimpl_n == 1, "%s: %d UNIMPLEMENTED", what,
		      r.sv.unimpl_n);
	ck_assert_msg(r.sv.unimpl_seq == r.sv.unknown_seq,
		      "%s: UNIMPLEMENTED quotes %u, the packet was %u", what,
		      r.sv.unimpl_seq, r.sv.unknown_seq);
	/* strict: KEXINIT, reply, NEWKEYS are 0..2 and then 0 again */
	ck_assert_uint_eq(r.sv.unknown_seq,
			  (cfg->strict ? 1u : 4u) + (ignore_first ? 1 : 0));
}

START_TEST(unimplemented_reply)
{
	/* unassigned or not for a client (RFC 4250 4.1): 0, SERVICE_REQUEST,
	 * 8..19, USERAUTH_REQUEST, 83..89, 101..127, local extensions */
	static const int types[] = {150, 0,   5,   8,	19,  50, 83,
				    89,	 101, 127, 128, 192, 255};

	unimpl_run(&prot[_i % NPROT], types[_i], _i % 3 == 1, 0);
}
END_TEST

START_TEST(unimplemented_nonblocking)
{
	unimpl_run(&prot[_i], 150, _i % 2, 1);
}
END_TEST

/* The key exchange range after the first exchange, with none running:
 * 22..29 are unassigned negotiation numbers and 30..49 mean something
 * only to a running method (RFC 4253 12), so they are unrecognised and
 * answered, not fatal (RFC 4253 11.4; OpenSSH does the same).  Strict
 * KEX changes nothing here: it ends the connection for a stray message
 * during the initial exchange only (OpenSSH PROTOCOL, "kex-strict").
 * 31 is ECDH_REPLY, the method's own reply, coming late; 21 a NEWKEYS
 * with no exchange to end (OpenSSH answers it too). */
START_TEST(unimplemented_kex)
{
	static const int types[] = {31, 22, 29, 30, 32, 34, 49, 31, 21, 21};

	unimpl_run(&prot[_i % NPROT], types[_i], _i % 3 == 1, 0);
}
END_TEST

START_TEST(unimplemented_kex_nonblocking)
{
	unimpl_run(&prot[_i], 31, _i % 2, 1);
}
END_TEST

/* ---- extended data of every type (RFC 4254 5.2) --------------------------- */

/* stdout, stderr and types 2 and 7 interleaved, an empty one, then one
 * message for each of CHAN_EXT_STREAMS_MAX further types, of which the
 * last finds no slot (2, 7 and six of these: 8 kept beside stderr). */
static const struct chan_msg m_ext[] = {
	{0, 0, "out1"},	 {1, 1, "err1"},  {1, 2, "two"},   {1, 7, "seven"},
	{1, 2, "TWO"},	 {0, 0, "out2"},  {1, 1, "err2"},  {1, 9, ""},
	{1, 100, "a"},	 {1, 101, "b"},	  {1, 102, "c"},   {1, 103, "d"},
	{1, 104, "e"},	 {1, 105, "f"},	  {1, 0xffffffffu, "g"},
};
#define STDOUT_ALL "out1out2"
#define MERGED_ALL "out1err1twosevenTWOout2err2abcdefg"

static int ext_mode; /* handle_extended_data2 before the exec */

/* Read stream `id` (blocking) until it has nothing more: the bytes. */
static void read_all(LIBSSH2_CHANNEL *ch, int id, char *out, size_t cap)
{
	size_t got = 0;
	ssize_t n;

	while ((n = libssh2_channel_read_ex(ch, id, out + got,
					    cap - 1 - got)) > 0)
		got += (size_t)n;
	ck_assert_int_eq((int)n, 0);
	out[got] = '\0';
}

static void chan_ext(struct run *r, LIBSSH2_SESSION *s)
{
	LIBSSH2_CHANNEL *ch = libssh2_channel_open_session(s);
	char buf[256];
	unsigned long avail = 0, init = 0;

	(void)r;
	ck_assert_ptr_nonnull(ch);
	ck_assert_int_eq(libssh2_channel_handle_extended_data2(ch, ext_mode),
			 0);
	ck_assert_int_eq(libssh2_channel_exec(ch, "x"), 0);
	/* stdout until EOF: every message has been dispatched then */
	read_all(ch, 0, buf, sizeof(buf));
	if (ext_mode == LIBSSH2_CHANNEL_EXTENDED_DATA_MERGE) {
		ck_assert_str_eq(buf, MERGED_ALL);
	} else {
		ck_assert_str_eq(buf, STDOUT_ALL);
	}
	libssh2_channel_window_read_ex(ch, &avail, &init);
	ck_assert_uint_eq(init, LIBSSH2_CHANNEL_WINDOW_DEFAULT);
	if (ext_mode != LIBSSH2_CHANNEL_EXTENDED_DATA_NORMAL) {
		/* nothing kept apart: every stream is at its end */
		ck_assert_uint_eq(avail, 0);
		ck_assert_int_eq(libssh2_poll_channel_read(ch, 1), 0);
		ck_assert_int_eq(libssh2_channel_eof(ch), 1);
		read_all(ch, SSH_EXTENDED_DATA_STDERR, buf, sizeof(buf));
		ck_assert_str_eq(buf, "");
		read_all(ch, 2, buf, sizeof(buf));
		ck_assert_str_eq(buf, "");
		goto out;
	}
	/* as libssh2: read_avail counts extended data of every type */
	ck_assert_uint_eq(avail, strlen("err1twosevenTWOerr2abcdef"));
	ck_assert_int_eq(libssh2_poll_channel_read(ch, 0), 0);
	ck_assert_int_eq(libssh2_poll_channel_read(ch, 1), 1);
	ck_assert_int_eq(libssh2_channel_eof(ch), 0);
	/* each type read by its number, in its own order */
	read_all(ch, 2, buf, sizeof(buf));
	ck_assert_str_eq(buf, "twoTWO");
	read_all(ch, SSH_EXTENDED_DATA_STDERR, buf, sizeof(buf));
	ck_assert_str_eq(buf, "err1err2");
	read_all(ch, 3, buf, sizeof(buf)); /* never sent */
	ck_assert_str_eq(buf, "");
	read_all(ch, 105, buf, sizeof(buf));
	ck_assert_str_eq(buf, "f");
	/* the type that found no slot was dropped; -1 is 0xffffffff */
	read_all(ch, -1, buf, sizeof(buf));
	ck_assert_str_eq(buf, "");
	/* flush one type by number, then all extended types */
	ck_assert_int_eq(libssh2_channel_flush_ex(ch, 7), 5);
	read_all(ch, 7, buf, sizeof(buf));
	ck_assert_str_eq(buf, "");
	ck_assert_int_eq(libssh2_channel_flush_ex(ch, 100), 1);
	ck_assert_int_eq(
		libssh2_channel_flush_ex(ch, LIBSSH2_CHANNEL_FLUSH_EXTENDED_DATA),
		4);
	libssh2_channel_window_read_ex(ch, &avail, NULL);
	ck_assert_uint_eq(avail, 0);
	ck_assert_int_eq(libssh2_channel_eof(ch), 1);
out:
	ck_assert_int_eq(libssh2_channel_close(ch), 0);
	ck_assert_int_eq(libssh2_channel_free(ch), 0);
}

/* Extended data types other than stderr are kept and read by number
 * (libssh2_channel_read_ex's stream_id), merged with MERGE and dropped
 * with IGNORE, as libssh2 does; a server cannot make the client keep
 * more than CHAN_EXT_STREAMS_MAX types. */
START_TEST(ext_data_types)
{
	static const int modes[] = {LIBSSH2_CHANNEL_EXTENDED_DATA_NORMAL,
				    LIBSSH2_CHANNEL_EXTENDED_DATA_MERGE,
				    LIBSSH2_CHANNEL_EXTENDED_DATA_IGNORE};
	struct run r;

	run_init(&r, &prot[0]);
	ext_mode = modes[_i];
	r.finish_auth = 1;
	r.chan = m_ext;
	r.n_chan = sizeof(m_ext) / sizeof(m_ext[0]);
	r.chan_fn = chan_ext;
	run_session(&r);
	check_outcome(&r, 0, -1, "extended data");
	ck_assert(r.authed);
}
END_TEST

/* ---- what the client sends on a channel (RFC 4254 5.3, 5.4) ------------- */

static int chan_variant; /* which sequence of calls the chan_fn makes */

/* Open a session channel, blocking or in a poll loop. */
static LIBSSH2_CHANNEL *open_chan(struct run *r, LIBSSH2_SESSION *s)
{
	long dl = now_ms() + NB_DEADLINE_MS;
	LIBSSH2_CHANNEL *ch;

	while (!(ch = libssh2_channel_open_session(s)) && r->nb &&
	       libssh2_session_last_errno(s) == LIBSSH2_ERROR_EAGAIN)
		nb_wait(s, r->fd, dl);
	ck_assert_ptr_nonnull(ch);
	return ch;
}

static void close_free(struct run *r, LIBSSH2_SESSION *s, LIBSSH2_CHANNEL *ch)
{
	char *m = NULL;
	int rc = CALL(r, s, r->fd, libssh2_channel_close(ch));

	libssh2_session_last_error(s, &m, NULL, 0);
	ck_assert_msg(rc == 0, "close: %d %s", rc, m);
	ck_assert_int_eq(CALL(r, s, r->fd, libssh2_channel_free(ch)), 0);
}

/* 0: close alone; 1: send_eof, then close; 2: free alone */
static void chan_close_seq(struct run *r, LIBSSH2_SESSION *s)
{
	LIBSSH2_CHANNEL *ch = open_chan(r, s);

	if (chan_variant == 1)
		ck_assert_int_eq(CALL(r, s, r->fd, libssh2_channel_send_eof(ch)),
				 0);
	if (chan_variant == 2) {
		ck_assert_int_eq(CALL(r, s, r->fd, libssh2_channel_free(ch)),
				 0);
		return;
	}
	close_free(r, s, ch);
}

/* As libssh2 1.11.1 (channel.c, _libssh2_channel_close): closing a
 * channel on which no EOF was sent sends EOF, then CLOSE; one sent
 * before is not repeated. */
START_TEST(close_sends_eof)
{
	struct run r;

	run_init(&r, &prot[0]);
	chan_variant = _i % 3;
	r.nb = _i >= 3;
	r.finish_auth = 1;
	r.chan_log = 1;
	r.chan_fn = chan_close_seq;
	run_session(&r);
	check_outcome(&r, 0, -1, "close");
	ck_assert_str_eq(r.sv.chan_events, "eof close");
}
END_TEST

static void chan_agent(struct run *r, LIBSSH2_SESSION *s)
{
	LIBSSH2_CHANNEL *ch = open_chan(r, s);
	int rc = CALL(r, s, r->fd, libssh2_channel_request_auth_agent(ch));

	/* both names refused: CHANNEL_REQUEST_DENIED, as libssh2 1.11.1 */
	ck_assert_int_eq(rc, chan_variant == 2
				     ? LIBSSH2_ERROR_CHANNEL_REQUEST_DENIED
				     : 0);
	close_free(r, s, ch);
}

/* libssh2_channel_request_auth_agent: OpenSSH's name first; when it is
 * refused, the draft's "auth-agent-req", as libssh2 1.11.1 does. */
START_TEST(auth_agent_fallback)
{
	static const char *const refuse[] = {NULL, "auth-agent-req@",
					     "auth-agent-req"};
	static const char *const want[] = {
		"req:auth-agent-req@openssh.com eof close",
		"req:auth-agent-req@openssh.com req:auth-agent-req eof close",
		"req:auth-agent-req@openssh.com req:auth-agent-req eof close"};
	struct run r;

	run_init(&r, &prot[0]);
	chan_variant = _i % 3;
	r.nb = _i >= 3;
	r.finish_auth = 1;
	r.chan_log = 1;
	r.chan_refuse = refuse[chan_variant];
	r.chan_fn = chan_agent;
	run_session(&r);
	check_outcome(&r, 0, -1, "auth-agent-req");
	ck_assert_str_eq(r.sv.chan_events, want[chan_variant]);
}
END_TEST

/* An SCP transfer whose exec the server refuses: libssh2 1.11.1 reports
 * an upload's as LIBSSH2_ERROR_SCP_PROTOCOL (scp_send) and passes a
 * download's request error through (scp_recv). */
static LIBSSH2_CHANNEL *scp_call(struct run *r, LIBSSH2_SESSION *s, int up)
{
	long dl = now_ms() + NB_DEADLINE_MS;
	libssh2_struct_stat sb;
	LIBSSH2_CHANNEL *ch;

	while (!(ch = up ? libssh2_scp_send64(s, "/tmp/f", 0644, 3, 0, 0)
			 : libssh2_scp_recv2(s, "/tmp/f", &sb)) &&
	       r->nb && libssh2_session_last_errno(s) == LIBSSH2_ERROR_EAGAIN)
		nb_wait(s, r->fd, dl);
	return ch;
}

static int scp_up; /* scp_exec_refused: the upload, else the download */

static void chan_scp_refused(struct run *r, LIBSSH2_SESSION *s)
{
	ck_assert_ptr_null(scp_call(r, s, scp_up));
	ck_assert_int_eq(libssh2_session_last_errno(s),
			 scp_up ? LIBSSH2_ERROR_SCP_PROTOCOL
				: LIBSSH2_ERROR_CHANNEL_REQUEST_DENIED);
}

START_TEST(scp_exec_refused)
{
	struct run r;

	run_init(&r, &prot[0]);
	/* blocking only: non-blocking, the refused transfer's channel is
	 * closed by the program's next calls, which this script lacks */
	scp_up = _i == 0;
	r.finish_auth = 1;
	r.chan_log = 1;
	r.chan_refuse = "exec";
	r.chan_fn = chan_scp_refused;
	run_session(&r);
	check_outcome(&r, 0, -1, "scp exec refused");
	ck_assert_str_eq(r.sv.chan_events, "req:exec eof close");
}
END_TEST

#define LONG_REQ 300

static void chan_long_req(struct run *r, LIBSSH2_SESSION *s)
{
	LIBSSH2_CHANNEL *ch = open_chan(r, s);
	char name[LONG_REQ];
	int rc;

	memset(name, 'n', sizeof(name));
	memcpy(name, "long-", 5);
	/* refused by the server: the same error as any refused request
	 * (and the channel may try another) */
	rc = CALL(r, s, r->fd,
		  libssh2_channel_process_startup(ch, "nope-x", 6, NULL, 0));
	ck_assert_int_eq(rc, LIBSSH2_ERROR_CHANNEL_REQUEST_DENIED);
	rc = CALL(r, s, r->fd,
		  libssh2_channel_process_startup(ch, name, LONG_REQ, "m", 1));
	ck_assert_int_eq(rc, 0);
	/* once one started, no other (libssh2 1.11.1), nothing sent */
	rc = libssh2_channel_process_startup(ch, "exec", 4, "x", 1);
	ck_assert_int_eq(rc, LIBSSH2_ERROR_BAD_USE);
	/* what cannot fit in one packet is refused before anything is
	 * sent (the lengths are checked before the pointers are read) */
	rc = libssh2_channel_process_startup(ch, name, 1u << 20, NULL, 0);
	ck_assert_int_eq(rc, LIBSSH2_ERROR_INVAL);
	rc = libssh2_channel_process_startup(ch, "exec", 4, "x", 0xffffffffu);
	ck_assert_int_eq(rc, LIBSSH2_ERROR_INVAL);
	rc = libssh2_channel_process_startup(ch, NULL, 3, NULL, 0);
	ck_assert_int_eq(rc, LIBSSH2_ERROR_INVAL);
	close_free(r, s, ch);
}

/* libssh2_channel_process_startup sends a request name of any length
 * (libssh2 1.11.1 has no limit), exactly as given. */
START_TEST(long_request_name)
{
	struct run r;
	char want[LONG_REQ + 64];

	run_init(&r, &prot[0]);
	r.nb = _i;
	r.finish_auth = 1;
	r.chan_log = 1;
	r.chan_refuse = "nope-";
	r.chan_fn = chan_long_req;
	run_session(&r);
	check_outcome(&r, 0, -1, "long request name");
	/* the refused request, then the long one; the third call sent
	 * nothing */
	memset(want, 'n', sizeof(want));
	memcpy(want, "req:nope-x req:long-", 20);
	snprintf(want + 15 + LONG_REQ, sizeof(want) - 15 - LONG_REQ,
		 " eof close");
	ck_assert_str_eq(r.sv.chan_events, want);
}
END_TEST

int main(void)
{
	Suite *su = suite_create("session_fault");
	SRunner *sr;
	TCase *tc;
	int nf;

	tc = tcase_create("good");
	tcase_set_timeout(tc, 300);
	tcase_add_loop_test(tc, good_every_cipher, 0, NGOOD);
	tcase_add_loop_test(tc, good_nonblocking, 0, NGOOD);
	tcase_add_loop_test(tc, good_k_encoding, 0, 2 * NPROT);
	tcase_add_loop_test(tc, own_allocator, 0, 2 * NPROT);
	tcase_add_test(tc, api_basics);
	tcase_add_loop_test(tc, socket_mode_restored, 0, 2);
	tcase_add_loop_test(tc, good_startup, 0, NPROT);
	suite_add_tcase(su, tc);

	tc = tcase_create("flip");
	tcase_set_timeout(tc, 1200);
	tcase_add_test(tc, flip_banner);
	tcase_add_test(tc, flip_kexinit);
	tcase_add_test(tc, flip_reply);
	tcase_add_test(tc, flip_newkeys);
	tcase_add_loop_test(tc, flip_enc1, 0, NPROT);
	tcase_add_loop_test(tc, flip_enc2, 0, NPROT);
	tcase_add_loop_test(tc, flip_nonblocking, 0, 4);
	suite_add_tcase(su, tc);

	tc = tcase_create("trunc_framing");
	tcase_set_timeout(tc, 600);
	tcase_add_loop_test(tc, truncated, 0, 4 + 2 * NPROT);
	tcase_add_loop_test(tc, truncated_nonblocking, 0, 6);
	tcase_add_loop_test(tc, framing, 0, 3 + 2 * NPROT);
	tcase_add_loop_test(tc, framing_nonblocking, 0, 2 * NPROT);
	tcase_add_loop_test(tc, largest_packet, 0, NPROT);
	suite_add_tcase(su, tc);

	tc = tcase_create("order");
	tcase_set_timeout(tc, 300);
	tcase_add_loop_test(tc, out_of_order, 0, NOOO);
	tcase_add_loop_test(tc, out_of_order_nonblocking, 0, NOOO);
	tcase_add_loop_test(tc, stall, 0, 11);
	suite_add_tcase(su, tc);

	tc = tcase_create("macerror");
	tcase_set_timeout(tc, 300);
	tcase_add_loop_test(tc, macerror_accept, 0, 2);
	tcase_add_loop_test(tc, macerror_accept_forged, 0, 2);
	tcase_add_loop_test(tc, macerror_refuse, 0, 4);
	tcase_add_loop_test(tc, macerror_aead, 0, 4);
	tcase_add_loop_test(tc, macerror_none, 0, 4);
	suite_add_tcase(su, tc);

	tc = tcase_create("callbacks");
	tcase_set_timeout(tc, 300);
	tcase_add_loop_test(tc, callbacks_ignore_debug, 0, NPROT);
	tcase_add_loop_test(tc, callback_disconnect, 0, 2 * NPROT + 1);
	suite_add_tcase(su, tc);

	tc = tcase_create("disconnect");
	tcase_set_timeout(tc, 300);
	tcase_add_loop_test(tc, disconnect_sent_once, 0, NPROT);
	tcase_add_test(tc, disconnect_too_long);
	suite_add_tcase(su, tc);

	tc = tcase_create("channel");
	tcase_set_timeout(tc, 300);
	tcase_add_loop_test(tc, ext_data_types, 0, 3);
	tcase_add_loop_test(tc, close_sends_eof, 0, 6);
	tcase_add_loop_test(tc, auth_agent_fallback, 0, 6);
	tcase_add_loop_test(tc, long_request_name, 0, 2);
	tcase_add_loop_test(tc, scp_exec_refused, 0, 2);
	suite_add_tcase(su, tc);

	tc = tcase_create("unimplemented");
	tcase_set_timeout(tc, 300);
	tcase_add_loop_test(tc, unimplemented_reply, 0, 13);
	tcase_add_loop_test(tc, unimplemented_nonblocking, 0, NPROT);
	tcase_add_loop_test(tc, unimplemented_kex, 0, 10);
	tcase_add_loop_test(tc, unimplemented_kex_nonblocking, 0, NPROT);
	suite_add_tcase(su, tc);

	sr = srunner_create(su);
	srunner_run_all(sr, CK_ENV);
	nf = srunner_ntests_failed(sr);
	srunner_free(sr);
	return nf == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
