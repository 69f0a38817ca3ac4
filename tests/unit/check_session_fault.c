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
 * 4253 11.4, with the rejected packet's sequence number).
 */
#define _GNU_SOURCE
#include <check.h>
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "libssh2.h"

#include "cipher.h"
#include "crypto/crypto.h"
#include "crypto/ed25519.h"
#include "crypto/x25519.h"
#include "kex.h"
#include "session.h"
#include "ssh_limits.h"
#include "transport.h"

#define USER	 "tester"
#define PASSWORD "secret"
#define SRV_ID	 "SSH-2.0-FaultServer_1.0"
#define METHODS	 "password,publickey"

/* A blocking call gives up after this: only a wrong prediction (the
 * client waiting for bytes that never come) gets there. */
#define SAFETY_TIMEOUT_MS 10000
/* The stalling-server cases: the session timeout, and how much longer
 * than it the call may take (valgrind is slow). */
#define STALL_TIMEOUT_MS 300
#define STALL_SLACK_MS	 5000
/* Non-blocking loops: EAGAIN for longer than this is a livelock. */
#define NB_DEADLINE_MS 20000
/* A dribbling server writes 1..5 bytes at a time, up to this much of
 * each packet (then the rest at once: a 256 KiB packet stays fast). */
#define DRIBBLE_MAX 2048

enum phase {
	PH_NONE = 0,
	PH_BANNER,
	PH_KEXINIT,
	PH_REPLY,
	PH_NEWKEYS,
	PH_ENC1, /* SERVICE_ACCEPT, the first packet under the new keys */
	PH_ENC2, /* USERAUTH_FAILURE, after the auth service request */
	PH_COUNT
};

static const char *const phase_name[PH_COUNT] = {
	"none",	   "banner", "KEXINIT", "ECDH_REPLY", "NEWKEYS",
	"SERVICE_ACCEPT (first encrypted)",
	"USERAUTH_FAILURE (later encrypted)",
};

enum fkind {
	F_NONE = 0,
	F_TRUNC,   /* arg bytes of the packet, then close */
	F_FLIP,	   /* flip bit `bit` of byte arg of the packet as sent */
	F_LEN,	   /* packet_length field = arg, protection valid */
	F_PADLEN,  /* padding_length field = arg, protection valid */
	F_STALL,   /* arg bytes of the packet, then silence (kept open) */
	F_REPLACE, /* msg instead of the packet, then close */
	F_INSERT,  /* msg before the packet, then go on */
	F_GARBAGE, /* (banner) the line, then msg as raw bytes, then close */
};

struct cfg {
	const char *cipher, *mac;
	int strict; /* offer kex-strict-s-v00@openssh.com */
};

struct fault {
	enum phase ph;
	enum fkind kind;
	uint32_t arg;
	int bit;
	const uint8_t *msg; /* NULL with F_REPLACE: our KEXINIT again */
	size_t msglen;
};

/* What the script returns. */
enum { GO = 0, STOP_CLOSE, STOP_STALL, STOP_FAIL, STOP_DONE };

/* K of the exchange (server side choice of its ephemeral key). */
enum kmode {
	K_ANY = 0,
	K_HIGHBIT, /* K[0] >= 0x80: mpint gets a leading zero byte */
	K_LEADZERO /* K[0] == 0, K[1] < 0x80: mpint drops a byte */
};

struct srv {
	int fd;
	struct cfg cfg;
	struct fault f;
	int dribble;
	int finish_auth;   /* answer a password request with SUCCESS */
	int unknown;	   /* >= 0: this message number after SERVICE_ACCEPT */
	int ignore_first;  /* an IGNORE before that message */
	int flip_go_on;	   /* go on after a flip whatever is predicted */
	enum kmode kmode;
	unsigned rnd;	   /* dribble sizes */

	/* transport */
	struct tp rx; /* the client's packets, through the library's engine */
	struct tp_dir txd[2];
	int txi;
	uint32_t tx_seq;
	const struct cipher_def *c;
	const struct mac_def *m;
	int rx_keys; /* the client's next keys are set up */

	/* exchange */
	char v_c[SSH_BANNER_MAX + 1];
	uint8_t *i_c, *i_s;
	size_t i_c_len, i_s_len;
	uint8_t hk_seed[32], hk_pub[32];
	uint8_t H[32];

	/* results, read by the test after the thread is joined */
	size_t wire[PH_COUNT]; /* bytes of each phase's packet as sent */
	int want, want_set;    /* the predicted outcome of a bit flip */
	int go_on;
	char err[256]; /* the first thing the server did not like */
	int unimpl_n;  /* SSH_MSG_UNIMPLEMENTED received */
	uint32_t unimpl_seq;
	uint32_t unknown_seq; /* the sequence number we sent `unknown` at */
	int k0;		      /* K[0] of the exchange */
	int done;	      /* the script ran to its end */
};

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
	case LIBSSH2_ERROR_TIMEOUT:
		return "TIMEOUT";
	case LIBSSH2_ERROR_EAGAIN:
		return "EAGAIN";
	}
	return "other";
}

static void seterr(struct srv *sv, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static void seterr(struct srv *sv, const char *fmt, ...)
{
	va_list ap;

	if (sv->err[0])
		return;
	va_start(ap, fmt);
	vsnprintf(sv->err, sizeof(sv->err), fmt, ap);
	va_end(ap);
}

/* A growable byte string for the server's messages (not lib/buf.c). */
struct ob {
	uint8_t *p;
	size_t n, cap;
};

static void ob_bytes(struct ob *o, const void *p, size_t n)
{
	if (o->n + n > o->cap) {
		o->cap = (o->n + n) * 2 + 64;
		o->p = realloc(o->p, o->cap);
		ck_assert_ptr_nonnull(o->p);
	}
	if (n)
		memcpy(o->p + o->n, p, n);
	o->n += n;
}

static void ob_u8(struct ob *o, uint8_t v)
{
	ob_bytes(o, &v, 1);
}

static void ob_u32(struct ob *o, uint32_t v)
{
	uint8_t b[4] = {v >> 24, v >> 16, v >> 8, v};

	ob_bytes(o, b, 4);
}

static void ob_string(struct ob *o, const void *p, size_t n)
{
	ob_u32(o, (uint32_t)n);
	ob_bytes(o, p, n);
}

static void ob_cstring(struct ob *o, const char *s)
{
	ob_string(o, s, strlen(s));
}

/* RFC 4251 5: mpint of an unsigned big-endian magnitude: no leading
 * zero bytes, one zero byte in front when the top bit is set. */
static void ob_mpint(struct ob *o, const uint8_t *mag, size_t n)
{
	size_t i = 0;

	while (i < n && mag[i] == 0)
		i++;
	if (i < n && (mag[i] & 0x80)) {
		ob_u32(o, (uint32_t)(n - i + 1));
		ob_u8(o, 0);
	} else {
		ob_u32(o, (uint32_t)(n - i));
	}
	ob_bytes(o, mag + i, n - i);
}

static void ob_free(struct ob *o)
{
	free(o->p);
	memset(o, 0, sizeof(*o));
}

/* ---- the server's crypto: RFC 4253 7.2 and 8, RFC 8731 ---------------- */

/* Key material for letter: K1 = HASH(K || H || letter || session_id),
 * K(n+1) = HASH(K || H || K1 || ... || Kn), concatenated, cut to need.
 * Written as the RFC says it, by concatenation into one buffer. */
static void ref_kdf(const uint8_t K[32], const uint8_t H[32],
		    const uint8_t sid[32], char letter, uint8_t *out,
		    size_t need)
{
	struct ob first = {0}, ext = {0};
	uint8_t blk[32];
	size_t have = 0;

	ob_mpint(&first, K, 32);
	ob_bytes(&first, H, 32);
	ob_bytes(&ext, first.p, first.n);
	ob_u8(&first, (uint8_t)letter);
	ob_bytes(&first, sid, 32);
	ck_assert_int_eq(crypto_hash(CRYPTO_SHA256, first.p, first.n, blk), 0);
	for (;;) {
		size_t take = need - have < 32 ? need - have : 32;

		memcpy(out + have, blk, take);
		have += take;
		if (have == need)
			break;
		ob_bytes(&ext, blk, 32);
		ck_assert_int_eq(crypto_hash(CRYPTO_SHA256, ext.p, ext.n, blk),
				 0);
	}
	ob_free(&first);
	ob_free(&ext);
}

/* ---- the server's transport ------------------------------------------- */

static int srv_write(struct srv *sv, const uint8_t *p, size_t n)
{
	size_t done = 0;

	while (done < n) {
		size_t k = n - done;
		ssize_t r;

		if (sv->dribble && done < DRIBBLE_MAX) {
			sv->rnd = sv->rnd * 1103515245u + 12345u;
			k = 1 + (sv->rnd >> 16) % 5;
			if (k > n - done)
				k = n - done;
		}
		r = send(sv->fd, p + done, k, MSG_NOSIGNAL);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return -1; /* the client went away */
		done += (size_t)r;
		if (sv->dribble && done < DRIBBLE_MAX)
			usleep(20);
	}
	return 0;
}

/* RFC 4253 6: packet_length, padding_length, payload, random padding,
 * padded to the block size (the length field apart for AEAD and EtM),
 * at least 4 bytes.  Writes 4 + packet_length bytes to out. */
static size_t frame(const struct srv *sv, const uint8_t *p, size_t n,
		    uint8_t *out)
{
	const struct tp_dir *d = &sv->txd[sv->txi];
	unsigned bs = tp_dir_block(d);
	size_t aligned = 1 + n + (tp_dir_len_apart(d) ? 0 : 4);
	size_t pad = bs - aligned % bs, len;

	if (pad < SSH_PADDING_MIN)
		pad += bs;
	len = 1 + n + pad;
	out[0] = (uint8_t)(len >> 24);
	out[1] = (uint8_t)(len >> 16);
	out[2] = (uint8_t)(len >> 8);
	out[3] = (uint8_t)len;
	out[4] = (uint8_t)pad;
	memcpy(out + 5, p, n);
	ck_assert_int_eq(crypto_random(out + 5 + n, pad), 0);
	return 4 + len;
}

static void srv_mac(const struct tp_dir *d, uint32_t seq, const uint8_t *p,
		    size_t n, uint8_t *out)
{
	struct crypto_hash run;
	uint8_t s[4] = {seq >> 24, seq >> 16, seq >> 8, seq};
	uint8_t full[CRYPTO_HASH_MAX_LEN];

	crypto_hmac_start(&d->hmac, &run);
	crypto_hash_update(&run, s, 4);
	crypto_hash_update(&run, p, n);
	crypto_hmac_finish(&d->hmac, &run, full);
	memcpy(out, full, d->mac->maclen);
}

/* Protect the m plaintext bytes at pkt in place and append the tag
 * (whatever the framing fields say); the bytes to send. */
static size_t seal(struct srv *sv, uint8_t *pkt, size_t m)
{
	struct tp_dir *d = &sv->txd[sv->txi];

	if (!d->cipher) {
		/* before NEWKEYS */
	} else if (d->cipher->kind == CIPHER_CHACHAPOLY) {
		/* PROTOCOL.chacha20poly1305 */
		chachapoly_seal(&d->c.cp, sv->tx_seq, pkt, m, pkt + m);
	} else if (d->cipher->kind == CIPHER_AESGCM) {
		/* RFC 5647 7: the length as AAD, the invocation counter */
		aesgcm_seal(&d->c.gcm, d->iv, pkt, 4, pkt + 4, m - 4, pkt + m);
		put_u64(d->iv + 4, get_u64(d->iv + 4) + 1);
	} else if (d->mac && d->mac->etm) {
		/* OpenSSH PROTOCOL 1.5: the length in clear, MAC last */
		ck_assert_int_eq(crypto_aes_crypt(&d->c.aes, pkt + 4, m - 4), 0);
		srv_mac(d, sv->tx_seq, pkt, m, pkt + m);
	} else {
		/* RFC 4253 6.4: MAC over seq || plaintext, then encrypt */
		srv_mac(d, sv->tx_seq, pkt, m, pkt + m);
		ck_assert_int_eq(crypto_aes_crypt(&d->c.aes, pkt, m), 0);
	}
	sv->tx_seq++;
	return m + tp_dir_taglen(d);
}

static int send_pkt(struct srv *sv, const uint8_t *p, size_t n)
{
	uint8_t *b = malloc(n + 600);
	size_t m;
	int rc;

	ck_assert_ptr_nonnull(b);
	m = seal(sv, b, frame(sv, p, n, b));
	rc = srv_write(sv, b, m);
	free(b);
	return rc ? STOP_FAIL : GO;
}

/* The client's next packet: 1, 0 at the end of the connection, -1 on a
 * bad one.  IGNORE and DEBUG are skipped, UNIMPLEMENTED is counted and
 * skipped, NEWKEYS switches to the client's new keys. */
static int srv_recv(struct srv *sv, const uint8_t **p, size_t *n)
{
	for (;;) {
		const char *why = "";
		size_t avail;
		uint8_t *b;
		ssize_t r;
		int rc = tp_recv(&sv->rx, p, n, &why);

		if (rc == TP_PKT) {
			struct rbuf rb;
			uint32_t seq;

			switch ((*p)[0]) {
			case SSH_MSG_IGNORE:
			case SSH_MSG_DEBUG:
				continue;
			case SSH_MSG_UNIMPLEMENTED:
				rb_init(&rb, *p + 1, *n - 1);
				if (rb_u32(&rb, &seq) || rb_done(&rb)) {
					seterr(sv, "malformed UNIMPLEMENTED");
					return -1;
				}
				sv->unimpl_n++;
				sv->unimpl_seq = seq;
				continue;
			case SSH_MSG_NEWKEYS:
				if (!sv->rx_keys) {
					seterr(sv, "client NEWKEYS too early");
					return -1;
				}
				tp_rx_rekey(&sv->rx, sv->cfg.strict);
				continue;
			}
			return 1;
		}
		if (rc < 0) {
			seterr(sv, "bad client packet: %s", why);
			return -1;
		}
		b = tp_in_space(&sv->rx, 4096, &avail);
		ck_assert_ptr_nonnull(b);
		r = read(sv->fd, b, avail);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return r == 0 ? 0 : -1;
		tp_in_commit(&sv->rx, (size_t)r);
	}
}

static int expect(struct srv *sv, uint8_t type, const uint8_t **p, size_t *n)
{
	int rc = srv_recv(sv, p, n);

	if (rc <= 0) {
		seterr(sv, "no message %u from the client (%s)", type,
		       rc ? "bad packet" : "closed");
		return -1;
	}
	if ((*p)[0] != type) {
		seterr(sv, "expected message %u, got %u", type, (*p)[0]);
		return -1;
	}
	return 0;
}

/* ---- predictions --------------------------------------------------------- */

/* What the client gets wrong when its packet layout is changed: the
 * layout of the packet a flip was applied to. */
struct layout {
	uint32_t len;	/* packet_length as framed */
	size_t n;	/* payload bytes */
	const uint8_t *payload;
	unsigned bs;
	int len_apart, enc, aead;
};

/* Would the client take these bytes (the line up to LF) as an SSH-2
 * identification (tp_banner_take)? */
static int banner_ok(const uint8_t *b, size_t n)
{
	const uint8_t *lf = memchr(b, '\n', n);
	size_t l, i;

	if (!lf)
		return 0;
	l = (size_t)(lf - b);
	if (l && b[l - 1] == '\r')
		l--;
	if (!(l >= 8 && !memcmp(b, "SSH-2.0-", 8)) &&
	    !(l >= 9 && !memcmp(b, "SSH-1.99-", 9)))
		return 0;
	for (i = 0; i < l; i++)
		if (b[i] < 0x20 || b[i] > 0x7e)
			return 0;
	return 1;
}

/* A flip in the server's KEXINIT payload (byte j): the type byte, the
 * cookie, the ten name-lists (length, names), the guess flag and the
 * reserved word.  Every list has one name only (build_kexinit). */
static int predict_kexinit(const uint8_t *p, size_t j, int bit, int *go_on)
{
	size_t o = 17;
	int i;

	*go_on = 0;
	if (j == 0) {
		/* 20 -> 21, 22, 16, 28, 52, 84, 148: refused during the
		 * first exchange; 4 (DEBUG) is legal there and ignored,
		 * and the client waits for the KEXINIT that never comes */
		return (p[0] ^ (1u << bit)) == SSH_MSG_DEBUG
			       ? LIBSSH2_ERROR_SOCKET_DISCONNECT
			       : LIBSSH2_ERROR_PROTO;
	}
	if (j < 17) {
		/* the cookie: both sides hash their own I_S */
		*go_on = 1;
		return LIBSSH2_ERROR_HOSTKEY_SIGN;
	}
	for (i = 0; i < 10; i++) {
		uint32_t l = get_u32(p + o);

		if (j < o + 4)
			return LIBSSH2_ERROR_PROTO; /* misparse, or NUL */
		if (j < o + 4 + l)
			/* another name: no match, or a NUL in it */
			return (p[j] ^ (1u << bit)) == 0
				       ? LIBSSH2_ERROR_PROTO
				       : LIBSSH2_ERROR_KEX_FAILURE;
		o += 4 + l;
	}
	/* first_kex_packet_follows (a right guess: nothing is dropped) or
	 * the reserved word: only the exchange hash differs */
	*go_on = 1;
	return LIBSSH2_ERROR_HOSTKEY_SIGN;
}

/* A flip in KEX_ECDH_REPLY: byte, string K_S { string "ssh-ed25519",
 * string pk }, string Q_S, string signature { string name, string sig }
 * (RFC 5656 4, RFC 8709). */
static int predict_reply(const uint8_t *p, size_t j)
{
	uint32_t kslen = get_u32(p + 1);
	size_t o;

	if (j < 5) /* the type (another message) or K_S's length */
		return LIBSSH2_ERROR_PROTO;
	if (j < 5 + kslen) /* the key's name and length, or its bytes */
		return j < 5 + 4 + 11 + 4 ? LIBSSH2_ERROR_HOSTKEY_INIT
					  : LIBSSH2_ERROR_HOSTKEY_SIGN;
	o = 5 + kslen;
	if (j < o + 4) /* Q_S's length */
		return LIBSSH2_ERROR_PROTO;
	if (j < o + 4 + 32) /* Q_S: another K, another H */
		return LIBSSH2_ERROR_HOSTKEY_SIGN;
	o += 36;
	if (j < o + 4) /* the signature's length */
		return LIBSSH2_ERROR_PROTO;
	return LIBSSH2_ERROR_HOSTKEY_SIGN; /* inside the signature blob */
}

/*
 * The client's verdict on a packet whose byte off (as sent) had bit
 * flipped, and whether the server must go on with its script for the
 * client to reach it (the exchange hash needs the reply; a packet that
 * now claims more bytes needs the connection closed).
 */
static int predict_flip(enum phase ph, const struct layout *L, size_t off,
			int bit, int *go_on)
{
	int integ = L->aead ? LIBSSH2_ERROR_DECRYPT : LIBSSH2_ERROR_INVALID_MAC;

	*go_on = 0;
	if (off < 4) {
		/* CTR and ChaCha20 flip the same plaintext bit; GCM and EtM
		 * send the length in clear */
		uint32_t nl = L->len ^ (1u << ((3 - off) * 8 + bit));

		if (nl < 5 || nl > SSH_PACKET_MAX ||
		    (L->len_apart ? nl : nl + 4) % L->bs)
			return LIBSSH2_ERROR_PROTO;
		if (nl > L->len) /* waits for bytes that never come */
			return LIBSSH2_ERROR_SOCKET_DISCONNECT;
		/* shorter: the MAC or tag is read from the wrong place;
		 * in clear, the message is cut short */
		return L->enc ? integ : LIBSSH2_ERROR_PROTO;
	}
	if (L->enc)
		return integ;
	if (off == 4) /* padding_length: too small, too big, or the
			 payload loses or gains bytes at its end */
		return LIBSSH2_ERROR_PROTO;
	if (off >= 5 + L->n) {
		/* random padding, not covered by anything before the keys */
		*go_on = 1;
		return 0;
	}
	switch (ph) {
	case PH_KEXINIT:
		return predict_kexinit(L->payload, off - 5, bit, go_on);
	case PH_REPLY:
		return predict_reply(L->payload, off - 5);
	default: /* NEWKEYS: 21 -> 20 (a second KEXINIT), 23, 17, 29, 5,
		    53, 85, 149: all out of place */
		return LIBSSH2_ERROR_PROTO;
	}
}

/* ---- the script ---------------------------------------------------------- */

static int emit_banner(struct srv *sv)
{
	const struct fault *f = &sv->f;
	uint8_t line[64];
	size_t n = (size_t)snprintf((char *)line, sizeof(line), "%s\r\n",
				    SRV_ID);

	sv->wire[PH_BANNER] = n;
	if (f->ph != PH_BANNER)
		return srv_write(sv, line, n) ? STOP_FAIL : GO;
	switch (f->kind) {
	case F_TRUNC:
	case F_STALL:
		if (srv_write(sv, line, f->arg < n ? f->arg : n))
			return STOP_FAIL;
		return f->kind == F_TRUNC ? STOP_CLOSE : STOP_STALL;
	case F_FLIP:
		line[f->arg] ^= (uint8_t)(1u << f->bit);
		/* accepted: only the exchange hash notices; refused: the
		 * client reads on until the end of the stream */
		sv->go_on = banner_ok(line, n);
		sv->want = sv->go_on ? LIBSSH2_ERROR_HOSTKEY_SIGN
				     : LIBSSH2_ERROR_BANNER_RECV;
		sv->want_set = 1;
		if (srv_write(sv, line, n))
			return STOP_FAIL;
		return sv->go_on ? GO : STOP_CLOSE;
	case F_GARBAGE:
		if (srv_write(sv, line, n) || srv_write(sv, f->msg, f->msglen))
			return STOP_FAIL;
		return STOP_CLOSE;
	default:
		return srv_write(sv, line, n) ? STOP_FAIL : GO;
	}
}

/* Send a phase's packet, or its fault. */
static int emit(struct srv *sv, enum phase ph, const uint8_t *p, size_t n)
{
	const struct fault *f = &sv->f;
	const struct tp_dir *d = &sv->txd[sv->txi];
	struct layout L;
	uint8_t *b;
	size_t m, w;
	int rc = STOP_CLOSE;

	if (f->ph != ph || f->kind == F_NONE) {
		uint8_t *tmp = malloc(n + 600);

		ck_assert_ptr_nonnull(tmp);
		m = seal(sv, tmp, frame(sv, p, n, tmp));
		sv->wire[ph] = m;
		rc = srv_write(sv, tmp, m) ? STOP_FAIL : GO;
		free(tmp);
		return rc;
	}
	if (f->kind == F_INSERT) {
		if (send_pkt(sv, f->msg, f->msglen))
			return STOP_FAIL;
		return send_pkt(sv, p, n);
	}
	if (f->kind == F_REPLACE) {
		if (f->msg)
			send_pkt(sv, f->msg, f->msglen);
		else
			send_pkt(sv, sv->i_s, sv->i_s_len);
		return STOP_CLOSE;
	}
	b = malloc(n + 600);
	ck_assert_ptr_nonnull(b);
	m = frame(sv, p, n, b);
	L.len = get_u32(b);
	L.n = n;
	L.payload = p;
	L.bs = tp_dir_block(d);
	L.len_apart = tp_dir_len_apart(d);
	L.enc = d->cipher != NULL;
	L.aead = d->cipher && d->cipher->authlen;
	if (f->kind == F_LEN)
		put_u32(b, f->arg);
	if (f->kind == F_PADLEN)
		b[4] = (uint8_t)f->arg;
	w = seal(sv, b, m);
	sv->wire[ph] = w;
	switch (f->kind) {
	case F_TRUNC:
	case F_STALL:
		if (f->arg >= w)
			seterr(sv, "truncation at %u of a %zu-byte packet",
			       f->arg, w);
		if (srv_write(sv, b, f->arg < w ? f->arg : w))
			rc = STOP_FAIL;
		else
			rc = f->kind == F_TRUNC ? STOP_CLOSE : STOP_STALL;
		break;
	case F_FLIP:
		if (f->arg >= w) {
			seterr(sv, "flip at %u of a %zu-byte packet", f->arg,
			       w);
			rc = STOP_FAIL;
			break;
		}
		sv->want = predict_flip(ph, &L, f->arg, f->bit, &sv->go_on);
		sv->want_set = 1;
		sv->go_on |= sv->flip_go_on;
		b[f->arg] ^= (uint8_t)(1u << f->bit);
		if (srv_write(sv, b, w))
			rc = STOP_FAIL;
		else
			rc = sv->go_on ? GO : STOP_CLOSE;
		break;
	default: /* F_LEN, F_PADLEN */
		rc = srv_write(sv, b, w) ? STOP_FAIL : STOP_CLOSE;
		break;
	}
	free(b);
	return rc;
}

static void build_kexinit(struct srv *sv)
{
	struct ob o = {0};
	uint8_t cookie[16];
	const char *lists[10] = {
		sv->cfg.strict
			? "curve25519-sha256,kex-strict-s-v00@openssh.com"
			: "curve25519-sha256",
		"ssh-ed25519",
		sv->cfg.cipher,
		sv->cfg.cipher,
		sv->cfg.mac,
		sv->cfg.mac,
		"none",
		"none",
		"",
		"",
	};
	int i;

	ck_assert_int_eq(crypto_random(cookie, 16), 0);
	ob_u8(&o, SSH_MSG_KEXINIT);
	ob_bytes(&o, cookie, 16);
	for (i = 0; i < 10; i++)
		ob_cstring(&o, lists[i]);
	ob_u8(&o, 0);	/* first_kex_packet_follows */
	ob_u32(&o, 0); /* reserved */
	sv->i_s = o.p;
	sv->i_s_len = o.n;
}

static int read_banner(struct srv *sv)
{
	for (;;) {
		const char *why = "";
		size_t avail;
		uint8_t *b;
		ssize_t r;
		int rc = tp_banner_take(&sv->rx, sv->v_c, sizeof(sv->v_c), &why);

		if (rc == 1)
			return 0;
		if (rc < 0) {
			seterr(sv, "client banner: %s", why);
			return -1;
		}
		b = tp_in_space(&sv->rx, 512, &avail);
		ck_assert_ptr_nonnull(b);
		r = read(sv->fd, b, avail);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0) {
			seterr(sv, "no client banner");
			return -1;
		}
		tp_in_commit(&sv->rx, (size_t)r);
	}
}

static int k_wanted(const struct srv *sv, const uint8_t K[32])
{
	switch (sv->kmode) {
	case K_HIGHBIT:
		return K[0] >= 0x80;
	case K_LEADZERO:
		return K[0] == 0 && K[1] < 0x80;
	default:
		return 1;
	}
}

/* RFC 8731 3 / RFC 5656 4: the server's half of curve25519-sha256.
 * Builds the reply into *reply and sets up both directions' next keys. */
static int kex_reply(struct srv *sv, const uint8_t qc[32], struct ob *reply)
{
	uint8_t priv[32], qs[32], K[32], sig[64];
	uint8_t iv[64], key[64], mkey[64];
	struct ob ks = {0}, hb = {0}, sigb = {0};
	const struct cipher_def *c = sv->c;
	const struct mac_def *m = c->authlen ? NULL : sv->m;
	int tries = 0;

	do {
		ck_assert_int_lt(tries++, 200000);
		ck_assert_int_eq(crypto_random(priv, 32), 0);
		if (x25519(K, priv, qc)) {
			seterr(sv, "client's curve25519 key is invalid");
			return -1;
		}
	} while (!k_wanted(sv, K));
	ck_assert_int_eq(x25519_base(qs, priv), 0);
	sv->k0 = K[0];
	ob_cstring(&ks, "ssh-ed25519");
	ob_string(&ks, sv->hk_pub, 32);
	/* H = SHA256(V_C || V_S || I_C || I_S || K_S || Q_C || Q_S || K) */
	ob_cstring(&hb, sv->v_c);
	ob_cstring(&hb, SRV_ID);
	ob_string(&hb, sv->i_c, sv->i_c_len);
	ob_string(&hb, sv->i_s, sv->i_s_len);
	ob_string(&hb, ks.p, ks.n);
	ob_string(&hb, qc, 32);
	ob_string(&hb, qs, 32);
	ob_mpint(&hb, K, 32);
	ck_assert_int_eq(crypto_hash(CRYPTO_SHA256, hb.p, hb.n, sv->H), 0);
	ck_assert_int_eq(ed25519_sign(sig, sv->H, 32, sv->hk_seed, sv->hk_pub),
			 0);
	ob_cstring(&sigb, "ssh-ed25519");
	ob_string(&sigb, sig, 64);
	ob_u8(reply, SSH_MSG_KEX_ECDH_REPLY);
	ob_string(reply, ks.p, ks.n);
	ob_string(reply, qs, 32);
	ob_string(reply, sigb.p, sigb.n);
	/* RFC 4253 7.2: A/C/E client to server, B/D/F server to client;
	 * the session id is the first H */
	ref_kdf(K, sv->H, sv->H, 'A', iv, c->ivlen ? c->ivlen : 1);
	ref_kdf(K, sv->H, sv->H, 'C', key, c->keylen);
	if (m)
		ref_kdf(K, sv->H, sv->H, 'E', mkey, m->keylen);
	ck_assert_int_eq(tp_dir_init(tp_rx_next(&sv->rx), c, m, 0, key, iv,
				     mkey),
			 0);
	sv->rx_keys = 1;
	ref_kdf(K, sv->H, sv->H, 'B', iv, c->ivlen ? c->ivlen : 1);
	ref_kdf(K, sv->H, sv->H, 'D', key, c->keylen);
	if (m)
		ref_kdf(K, sv->H, sv->H, 'F', mkey, m->keylen);
	ck_assert_int_eq(tp_dir_init(&sv->txd[1], c, m, 1, key, iv, mkey), 0);
	ob_free(&ks);
	ob_free(&hb);
	ob_free(&sigb);
	return 0;
}

static int srv_script(struct srv *sv)
{
	static const uint8_t nk = SSH_MSG_NEWKEYS;
	struct ob reply = {0}, msg = {0};
	const uint8_t *p;
	size_t n;
	struct rbuf r;
	const uint8_t *qc;
	const char *svc;
	size_t qclen, svclen;
	int rc;

	if ((rc = emit_banner(sv)))
		return rc;
	build_kexinit(sv);
	if ((rc = emit(sv, PH_KEXINIT, sv->i_s, sv->i_s_len)))
		return rc;
	if (read_banner(sv) || expect(sv, SSH_MSG_KEXINIT, &p, &n))
		return STOP_FAIL;
	sv->i_c = malloc(n);
	ck_assert_ptr_nonnull(sv->i_c);
	memcpy(sv->i_c, p, n);
	sv->i_c_len = n;
	if (expect(sv, SSH_MSG_KEX_ECDH_INIT, &p, &n))
		return STOP_FAIL;
	rb_init(&r, p + 1, n - 1);
	if (rb_string(&r, &qc, &qclen, 32) || qclen != 32 || rb_done(&r)) {
		seterr(sv, "malformed ECDH_INIT");
		return STOP_FAIL;
	}
	if (kex_reply(sv, qc, &reply)) {
		ob_free(&reply);
		return STOP_FAIL;
	}
	rc = emit(sv, PH_REPLY, reply.p, reply.n);
	ob_free(&reply);
	if (rc)
		return rc;
	if ((rc = emit(sv, PH_NEWKEYS, &nk, 1)))
		return rc;
	sv->txi = 1;
	if (sv->cfg.strict)
		sv->tx_seq = 0;

	if (expect(sv, SSH_MSG_SERVICE_REQUEST, &p, &n))
		return STOP_FAIL;
	rb_init(&r, p + 1, n - 1);
	if (rb_text(&r, &svc, &svclen, 64) || svclen != 12 ||
	    memcmp(svc, "ssh-userauth", 12) || rb_done(&r)) {
		seterr(sv, "malformed SERVICE_REQUEST");
		return STOP_FAIL;
	}
	ob_u8(&msg, SSH_MSG_SERVICE_ACCEPT);
	ob_cstring(&msg, "ssh-userauth");
	rc = emit(sv, PH_ENC1, msg.p, msg.n);
	ob_free(&msg);
	if (rc)
		return rc;
	if (sv->ignore_first) {
		static const uint8_t ign[] = {SSH_MSG_IGNORE, 0, 0, 0, 2, 'h',
					      'i'};

		if (send_pkt(sv, ign, sizeof(ign)))
			return STOP_FAIL;
	}
	if (sv->unknown >= 0) {
		uint8_t u[] = {(uint8_t)sv->unknown, 'w', 'h', 'a', 't', '?'};

		sv->unknown_seq = sv->tx_seq;
		if (send_pkt(sv, u, sizeof(u)))
			return STOP_FAIL;
	}
	if (expect(sv, 50, &p, &n)) /* USERAUTH_REQUEST "none" */
		return STOP_FAIL;
	ob_u8(&msg, 51); /* USERAUTH_FAILURE */
	ob_cstring(&msg, METHODS);
	ob_u8(&msg, 0);
	rc = emit(sv, PH_ENC2, msg.p, msg.n);
	ob_free(&msg);
	if (rc)
		return rc;
	if (sv->finish_auth) {
		static const uint8_t ok = 52; /* USERAUTH_SUCCESS */

		if (expect(sv, 50, &p, &n) || send_pkt(sv, &ok, 1))
			return STOP_FAIL;
	}
	sv->done = 1;
	return STOP_DONE;
}

static void *srv_main(void *arg)
{
	struct srv *sv = arg;
	int rc = srv_script(sv);
	const uint8_t *p;
	size_t n;
	uint8_t junk[4096];

	/* A stalling server keeps the connection open and says nothing;
	 * the others close their side.  Both read on until the client is
	 * gone (counting UNIMPLEMENTED), then the rest raw. */
	if (rc != STOP_STALL)
		shutdown(sv->fd, SHUT_WR);
	while (srv_recv(sv, &p, &n) > 0)
		;
	while (read(sv->fd, junk, sizeof(junk)) > 0)
		;
	return NULL;
}

/* ---- the client ---------------------------------------------------------- */

enum cbmode { CB_NONE = 0, CB_ACCEPT, CB_REFUSE };

struct run {
	/* what to do */
	struct cfg cfg;
	struct fault f;
	int nb;		/* non-blocking client, dribbling server */
	long timeout_ms; /* 0: SAFETY_TIMEOUT_MS */
	int finish_auth;
	int unknown; /* -1: none */
	int ignore_first;
	int flip_go_on;
	enum kmode kmode;
	enum cbmode cb;

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
	struct srv sv;
};

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

static void record(struct run *r, LIBSSH2_SESSION *s, int call, int rc,
		   long t0)
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
	static const uint8_t seed[32] = {
		0x9d, 0x61, 0xb1, 0x9d, 0xef, 0xfd, 0x5a, 0x60, 0xba, 0x84, 0x4a,
		0xf4, 0x92, 0xec, 0x2c, 0xc4, 0x44, 0x49, 0xc5, 0x69, 0x7b, 0x32,
		0x69, 0x19, 0x70, 0x3b, 0xac, 0x03, 0x1c, 0xae, 0x7f, 0x60,
	}; /* RFC 8032 7.1 test 1's secret key: any fixed key will do */
	struct srv *sv = &r->sv;
	const struct cipher_def *c = cipher_by_name(r->cfg.cipher,
						    strlen(r->cfg.cipher));
	LIBSSH2_SESSION *s;
	pthread_t th;
	int sp[2], fd, rc;
	char *list;
	long t0;

	ck_assert_ptr_nonnull(c);
	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, sp), 0);
	fd = sp[0];
	memset(sv, 0, sizeof(*sv));
	sv->fd = sp[1];
	sv->cfg = r->cfg;
	sv->f = r->f;
	sv->dribble = r->nb;
	sv->rnd = (unsigned)r->f.arg * 7919u + (unsigned)r->f.bit;
	sv->finish_auth = r->finish_auth;
	sv->unknown = r->unknown;
	sv->ignore_first = r->ignore_first;
	sv->flip_go_on = r->flip_go_on;
	sv->kmode = r->kmode;
	sv->c = c;
	sv->m = mac_by_name(r->cfg.mac, strlen(r->cfg.mac));
	ck_assert_ptr_nonnull(sv->m);
	memcpy(sv->hk_seed, seed, 32);
	ck_assert_int_eq(ed25519_pubkey(sv->hk_pub, seed), 0);
	tp_init(&sv->rx, &lalloc_system);
	ck_assert_int_eq(pthread_create(&th, NULL, srv_main, sv), 0);

	r->rc = 0;
	r->call = -1;
	r->msg[0] = '\0';
	r->cb_calls = 0;
	s = libssh2_session_init_ex(NULL, NULL, NULL, r);
	ck_assert_ptr_nonnull(s);
	libssh2_session_set_timeout(s, r->timeout_ms ? r->timeout_ms
						     : SAFETY_TIMEOUT_MS);
	if (r->nb)
		libssh2_session_set_blocking(s, 0);
	if (r->cb)
		libssh2_session_callback_set2(s, LIBSSH2_CALLBACK_MACERROR,
					      (libssh2_cb_generic *)mac_cb);
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
	}
out:
	libssh2_session_free(s);
	close(fd);
	ck_assert_int_eq(pthread_join(th, NULL), 0);
	close(sv->fd);
	tp_free(&sv->rx);
	tp_dir_free(&sv->txd[0]);
	tp_dir_free(&sv->txd[1]);
	free(sv->i_c);
	free(sv->i_s);
	sv->i_c = sv->i_s = NULL;
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
		ck_assert_msg(r->ms < SAFETY_TIMEOUT_MS / 2,
			      "%s: took %ld ms", what, r->ms);
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
			case 0: outcomes[0]++; break;
			case LIBSSH2_ERROR_PROTO: outcomes[1]++; break;
			case LIBSSH2_ERROR_SOCKET_DISCONNECT: outcomes[2]++; break;
			case LIBSSH2_ERROR_HOSTKEY_SIGN: outcomes[3]++; break;
			case LIBSSH2_ERROR_KEX_FAILURE: outcomes[4]++; break;
			case LIBSSH2_ERROR_INVALID_MAC:
			case LIBSSH2_ERROR_DECRYPT: outcomes[5]++; break;
			default: outcomes[6]++; break;
			}
		}
	}
	/* every sweep meets the framing errors and the phase's own */
	ck_assert_int_gt(runs, 20);
	if (ph != PH_BANNER) {
		ck_assert_int_gt(outcomes[1], 0);
		ck_assert_int_gt(outcomes[2], 0);
	}
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
	static const enum phase ph[] = {PH_KEXINIT, PH_REPLY, PH_ENC1,
					PH_ENC2};

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
		trunc_sweep(_i % 2 ? PH_ENC2 : PH_ENC1,
			    &prot[(_i - 4) / 2], 0);
}
END_TEST

START_TEST(truncated_nonblocking)
{
	static const enum phase ph[] = {PH_BANNER, PH_KEXINIT, PH_REPLY,
					PH_NEWKEYS, PH_ENC1, PH_ENC2};

	trunc_sweep(ph[_i % 6], &prot[_i % NPROT], 1);
}
END_TEST

/* ---- framing under valid protection --------------------------------------- */

/* packet_length and padding_length the client must refuse although the
 * MAC or tag (computed over the bad values) verifies: RFC 4253 6. */
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
	const struct cipher_def *c = cipher_by_name(cfg->cipher,
						    strlen(cfg->cipher));
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
		check_outcome(&r, LIBSSH2_ERROR_PROTO, call_of(ph), what);
	}
}

START_TEST(framing)
{
	static const enum phase ph[] = {PH_KEXINIT, PH_REPLY, PH_NEWKEYS};

	if (_i < 3)
		framing_sweep(ph[_i], &prot[0], 0);
	else
		framing_sweep(_i % 2 ? PH_ENC2 : PH_ENC1,
			      &prot[(_i - 3) / 2], 0);
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
	const struct cipher_def *c = cipher_by_name(cfg->cipher,
						    strlen(cfg->cipher));
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
static const uint8_t m_accept[] = {SSH_MSG_SERVICE_ACCEPT, 0, 0, 0, 12, 's',
				   's', 'h', '-', 'u', 's', 'e', 'r', 'a',
				   'u', 't', 'h'};
static const uint8_t m_chandata[] = {94, 0, 0, 0, 0, 0, 0, 0, 1, 'x'};
static const uint8_t m_ignore[] = {SSH_MSG_IGNORE, 0, 0, 0, 3, 'a', 'b', 'c'};
static const uint8_t m_unknown[] = {150, 'x'};
static const uint8_t m_reply_junk[] = {SSH_MSG_KEX_ECDH_REPLY, 0, 0, 0, 0,
				       0, 0, 0, 0, 0, 0, 0, 0};
static const uint8_t m_disconnect[] = {
	SSH_MSG_DISCONNECT, 0, 0, 0, 11, 0, 0, 0, 9, 'g', 'o', 'i', 'n', 'g',
	' ', 'o', 'f', 'f', 0, 0, 0, 0};
/* a well-framed plaintext packet holding CHANNEL_SUCCESS */
static const uint8_t g_framed[] = {0, 0, 0, 12, 10, 99, 1, 2, 3, 4, 5, 6,
				   7, 8, 9, 10};
static const uint8_t g_zeros[16];

#define MSG(a) a, sizeof(a)

static const struct ooo {
	const char *what;
	int strict;
	struct fault f;
	int want;
} ooo[] = {
	{"NEWKEYS before the ECDH reply", 0,
	 {PH_REPLY, F_REPLACE, 0, 0, MSG(m_newkeys)}, LIBSSH2_ERROR_PROTO},
	{"a second KEXINIT in the middle", 0,
	 {PH_REPLY, F_REPLACE, 0, 0, NULL, 0}, LIBSSH2_ERROR_PROTO},
	{"a second KEXINIT in the middle (strict)", 1,
	 {PH_REPLY, F_REPLACE, 0, 0, NULL, 0}, LIBSSH2_ERROR_PROTO},
	{"SERVICE_ACCEPT before NEWKEYS", 0,
	 {PH_NEWKEYS, F_REPLACE, 0, 0, MSG(m_accept)}, LIBSSH2_ERROR_PROTO},
	{"a channel message in the initial kex (strict)", 1,
	 {PH_REPLY, F_INSERT, 0, 0, MSG(m_chandata)}, LIBSSH2_ERROR_PROTO},
	{"a channel message in the initial kex", 0,
	 {PH_REPLY, F_INSERT, 0, 0, MSG(m_chandata)}, LIBSSH2_ERROR_PROTO},
	{"an unknown message in the initial kex (strict)", 1,
	 {PH_NEWKEYS, F_INSERT, 0, 0, MSG(m_unknown)}, LIBSSH2_ERROR_PROTO},
	{"an unknown message in the initial kex", 0,
	 {PH_REPLY, F_INSERT, 0, 0, MSG(m_unknown)}, LIBSSH2_ERROR_PROTO},
	{"IGNORE in the initial kex (strict)", 1,
	 {PH_REPLY, F_INSERT, 0, 0, MSG(m_ignore)}, LIBSSH2_ERROR_PROTO},
	{"IGNORE in the initial kex (not strict: fine)", 0,
	 {PH_REPLY, F_INSERT, 0, 0, MSG(m_ignore)}, 0},
	{"IGNORE before KEXINIT (strict: must be first)", 1,
	 {PH_KEXINIT, F_INSERT, 0, 0, MSG(m_ignore)}, LIBSSH2_ERROR_PROTO},
	{"IGNORE before KEXINIT (not strict: fine)", 0,
	 {PH_KEXINIT, F_INSERT, 0, 0, MSG(m_ignore)}, 0},
	{"ECDH_REPLY instead of KEXINIT", 0,
	 {PH_KEXINIT, F_REPLACE, 0, 0, MSG(m_reply_junk)}, LIBSSH2_ERROR_PROTO},
	{"ECDH_REPLY after NEWKEYS", 0,
	 {PH_ENC1, F_REPLACE, 0, 0, MSG(m_reply_junk)}, LIBSSH2_ERROR_PROTO},
	{"NEWKEYS with no exchange running", 1,
	 {PH_ENC1, F_REPLACE, 0, 0, MSG(m_newkeys)}, LIBSSH2_ERROR_PROTO},
	{"DISCONNECT instead of KEXINIT", 0,
	 {PH_KEXINIT, F_REPLACE, 0, 0, MSG(m_disconnect)},
	 LIBSSH2_ERROR_SOCKET_DISCONNECT},
	{"DISCONNECT instead of the reply (strict)", 1,
	 {PH_REPLY, F_REPLACE, 0, 0, MSG(m_disconnect)},
	 LIBSSH2_ERROR_SOCKET_DISCONNECT},
	{"DISCONNECT instead of NEWKEYS", 0,
	 {PH_NEWKEYS, F_REPLACE, 0, 0, MSG(m_disconnect)},
	 LIBSSH2_ERROR_SOCKET_DISCONNECT},
	{"DISCONNECT instead of SERVICE_ACCEPT", 1,
	 {PH_ENC1, F_REPLACE, 0, 0, MSG(m_disconnect)},
	 LIBSSH2_ERROR_SOCKET_DISCONNECT},
	{"DISCONNECT instead of USERAUTH_FAILURE", 0,
	 {PH_ENC2, F_REPLACE, 0, 0, MSG(m_disconnect)},
	 LIBSSH2_ERROR_SOCKET_DISCONNECT},
	{"text after the banner", 0,
	 {PH_BANNER, F_GARBAGE, 0, 0, (const uint8_t *)"garbage!", 8},
	 LIBSSH2_ERROR_PROTO},
	{"a second banner", 0,
	 {PH_BANNER, F_GARBAGE, 0, 0, (const uint8_t *)"SSH-2.0-again\r\n",
	  15},
	 LIBSSH2_ERROR_PROTO},
	{"empty lines after the banner", 0,
	 {PH_BANNER, F_GARBAGE, 0, 0, (const uint8_t *)"\r\n\r\n\r\n\r\n", 8},
	 LIBSSH2_ERROR_PROTO},
	{"zero bytes after the banner", 0,
	 {PH_BANNER, F_GARBAGE, 0, 0, MSG(g_zeros)}, LIBSSH2_ERROR_PROTO},
	{"a framed CHANNEL_SUCCESS after the banner", 0,
	 {PH_BANNER, F_GARBAGE, 0, 0, MSG(g_framed)}, LIBSSH2_ERROR_PROTO},
	{"a framed CHANNEL_SUCCESS after the banner (strict)", 1,
	 {PH_BANNER, F_GARBAGE, 0, 0, MSG(g_framed)}, LIBSSH2_ERROR_PROTO},
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
	ck_assert_int_eq(r.sv.unimpl_n, 0);
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

/* ---- a server that stops talking ------------------------------------------ */

START_TEST(stall)
{
	static const struct {
		enum phase ph;
		uint32_t bytes;
	} t[] = {
		{PH_BANNER, 0}, {PH_BANNER, 10}, {PH_KEXINIT, 0},
		{PH_KEXINIT, 7}, {PH_REPLY, 0},	 {PH_REPLY, 40},
		{PH_NEWKEYS, 0}, {PH_ENC1, 0},	 {PH_ENC1, 20},
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

/* ---- LIBSSH2_CALLBACK_MACERROR -------------------------------------------- */

/* Flip a bit of SERVICE_ACCEPT (in the MAC, or in the payload) under the
 * given protection, with the callback in mode cb. */
static void macerr_run(struct run *r, const struct cfg *cfg, enum cbmode cb,
		       int in_payload, int finish)
{
	size_t wire[PH_COUNT];
	const struct cipher_def *c = cipher_by_name(cfg->cipher,
						    strlen(cfg->cipher));

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

/* ---- SSH_MSG_UNIMPLEMENTED ------------------------------------------------ */

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
	static const int types[] = {150, 0, 5, 8, 19, 50, 83, 89, 101, 127,
				    128, 192, 255};

	unimpl_run(&prot[_i % NPROT], types[_i], _i % 3 == 1, 0);
}
END_TEST

START_TEST(unimplemented_nonblocking)
{
	unimpl_run(&prot[_i], 150, _i % 2, 1);
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

	tc = tcase_create("unimplemented");
	tcase_set_timeout(tc, 300);
	tcase_add_loop_test(tc, unimplemented_reply, 0, 13);
	tcase_add_loop_test(tc, unimplemented_nonblocking, 0, NPROT);
	suite_add_tcase(su, tc);

	sr = srunner_create(su);
	srunner_run_all(sr, CK_ENV);
	nf = srunner_ntests_failed(sr);
	srunner_free(sr);
	return nf == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
