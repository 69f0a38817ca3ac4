/*
 * fault_server.c - the server half of check_session_fault.c (see there
 * and fault_server.h).
 *
 * Written from the RFCs on top of the crypto seam, apart from lib/kex.c
 * and the sending half of lib/transport.c: the exchange hash (RFC 4253
 * 8, RFC 8731 3), the key derivation (RFC 4253 7.2) and the packet
 * protection (RFC 4253 6, RFC 5647 7, OpenSSH PROTOCOL 1.5 and
 * PROTOCOL.chacha20poly1305).  Only the client's packets are read with
 * the library's transport engine.  Failed assertions in here end the
 * test's process like any other (Check forks each test).
 */
#define _GNU_SOURCE
#include "fault_server.h"

#include <check.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "libssh2.h"

#include "buf.h"
#include "crypto/crypto.h"
#include "crypto/ed25519.h"
#include "crypto/x25519.h"
#include "kex.h"
#include "ob.h"

const char *const phase_name[PH_COUNT] = {
	"none",
	"banner",
	"KEXINIT",
	"ECDH_REPLY",
	"NEWKEYS",
	"SERVICE_ACCEPT (first encrypted)",
	"USERAUTH_FAILURE (later encrypted)",
};

/* What the script returns. */
enum { GO = 0, STOP_CLOSE, STOP_STALL, STOP_FAIL, STOP_DONE };

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
		ck_assert_int_eq(crypto_aes_crypt(&d->c.aes, pkt + 4, m - 4),
				 0);
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
 * bad one.  IGNORE and DEBUG are skipped, UNIMPLEMENTED and DISCONNECT
 * are counted and skipped, NEWKEYS switches to the client's new keys. */
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
			case SSH_MSG_DISCONNECT: {
				const char *d, *l;
				size_t dn, ln;

				rb_init(&rb, *p + 1, *n - 1);
				if (rb_u32(&rb, &seq) ||
				    rb_text(&rb, &d, &dn, 1024) ||
				    rb_text(&rb, &l, &ln, 256) ||
				    rb_done(&rb)) {
					seterr(sv, "malformed DISCONNECT");
					return -1;
				}
				sv->disc_n++;
				sv->disc_reason = seq;
				snprintf(sv->disc_desc, sizeof(sv->disc_desc),
					 "%.*s", (int)dn, d);
				snprintf(sv->disc_lang, sizeof(sv->disc_lang),
					 "%.*s", (int)ln, l);
				continue;
			}
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
	uint32_t len; /* packet_length as framed */
	size_t n;     /* payload bytes */
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

/* A type byte changed to t in the first exchange (RFC 4253 7.1): DEBUG
 * and an unassigned generic (8..19) or negotiation (22..29) number are
 * taken (DEBUG ignored, the others answered UNIMPLEMENTED) unless strict
 * KEX is on, which the client knows from the server's KEXINIT on; it
 * then waits for the message that never comes.  Anything else is out
 * of place. */
static int predict_first_kex_type(unsigned t, int strict)
{
	if (!strict &&
	    (t == SSH_MSG_DEBUG || (t >= 8 && t <= 19) || (t >= 22 && t <= 29)))
		return LIBSSH2_ERROR_SOCKET_DISCONNECT;
	return LIBSSH2_ERROR_PROTO;
}

/* A flip in the server's KEXINIT payload (byte j): the type byte, the
 * cookie, the ten name-lists (length, names), the guess flag and the
 * reserved word.  Every list has one name only (build_kexinit). */
static int predict_kexinit(const uint8_t *p, size_t j, int bit, int *go_on)
{
	size_t o = 17;
	int i;

	*go_on = 0;
	if (j == 0) /* 20 -> 21, 52, 84, 148: out of place; 4, 16, 22,
		       28: taken, strict KEX being unknown yet */
		return predict_first_kex_type(p[0] ^ (1u << bit), 0);
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
static int predict_reply(const uint8_t *p, size_t j, int bit, int strict)
{
	uint32_t kslen = get_u32(p + 1);
	size_t o;

	if (j == 0) /* 31 -> 30, 63, 95, 159; 29, 27, 23, 15 */
		return predict_first_kex_type(p[0] ^ (1u << bit), strict);
	if (j < 5) /* K_S's length */
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
			int bit, int strict, int *go_on)
{
	int integ = L->aead ? LIBSSH2_ERROR_DECRYPT : LIBSSH2_ERROR_INVALID_MAC;

	*go_on = 0;
	if (off < 4) {
		/* CTR and ChaCha20 flip the same plaintext bit; GCM and EtM
		 * send the length in clear */
		uint32_t nl = L->len ^ (1u << ((3 - off) * 8 + bit));

		if (nl < 5) /* libssh2 1.11.1's codes (transport.h) */
			return LIBSSH2_ERROR_DECRYPT;
		if (nl > SSH_PACKET_MAX)
			return LIBSSH2_ERROR_OUT_OF_BOUNDARY;
		if ((L->len_apart ? nl : nl + 4) % L->bs)
			return LIBSSH2_ERROR_DECRYPT;
		if (nl > L->len) /* waits for bytes that never come */
			return LIBSSH2_ERROR_SOCKET_DISCONNECT;
		/* shorter: the MAC or tag is read from the wrong place;
		 * in clear, the message is cut short */
		return L->enc ? integ : LIBSSH2_ERROR_PROTO;
	}
	if (L->enc)
		return integ;
	if (off == 4) {
		/* padding_length: too small or too big (no payload left),
		 * or the payload loses or gains bytes at its end */
		unsigned np = (L->len - 1 - (uint32_t)L->n) ^ (1u << bit);

		return np < 4 || np >= L->len - 1 ? LIBSSH2_ERROR_DECRYPT
						  : LIBSSH2_ERROR_PROTO;
	}
	if (off >= 5 + L->n) {
		/* random padding, not covered by anything before the keys */
		*go_on = 1;
		return 0;
	}
	switch (ph) {
	case PH_KEXINIT:
		return predict_kexinit(L->payload, off - 5, bit, go_on);
	case PH_REPLY:
		return predict_reply(L->payload, off - 5, bit, strict);
	default: /* NEWKEYS: 21 -> 20 (a second KEXINIT), 5, 53, 85, 149;
		    23, 17, 29 */
		return predict_first_kex_type(L->payload[0] ^ (1u << bit),
					      strict);
	}
}

/* ---- the script ---------------------------------------------------------- */

static int emit_banner(struct srv *sv)
{
	const struct fault *f = &sv->f;
	uint8_t line[64];
	size_t n =
		(size_t)snprintf((char *)line, sizeof(line), "%s\r\n", SRV_ID);

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
		sv->insert_seq = sv->tx_seq;
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
		sv->want = predict_flip(ph, &L, f->arg, f->bit, sv->cfg.strict,
					&sv->go_on);
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
	ob_u8(&o, 0);  /* first_kex_packet_follows */
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
		int rc =
			tp_banner_take(&sv->rx, sv->v_c, sizeof(sv->v_c), &why);

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
	ck_assert_int_eq(
		tp_dir_init(tp_rx_next(&sv->rx), c, m, 0, key, iv, mkey), 0);
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

/* The next client message that is not a WINDOW_ADJUST (93); -1 when
 * none comes or it is not `type`. */
static int expect_chan(struct srv *sv, uint8_t type, const uint8_t **p,
		       size_t *n)
{
	int rc;

	/* WINDOW_ADJUST at any time; the client's EOF before its CLOSE */
	while ((rc = srv_recv(sv, p, n)) > 0 &&
	       ((*p)[0] == 93 || (type == 97 && (*p)[0] == 96)))
		;
	if (rc <= 0 || (*p)[0] != type) {
		seterr(sv, "expected channel message %u", type);
		return -1;
	}
	return 0;
}

static void log_event(struct srv *sv, const char *what, const char *arg,
		      size_t alen)
{
	size_t used = strlen(sv->chan_events);

	snprintf(sv->chan_events + used, sizeof(sv->chan_events) - used,
		 "%s%s%.*s", used ? " " : "", what, (int)alen, arg);
}

/* chan_refuse is a prefix of the request's name */
static int refused(const struct srv *sv, const char *name, size_t nlen)
{
	size_t k = sv->chan_refuse ? strlen(sv->chan_refuse) : 0;

	return k && nlen >= k && !memcmp(name, sv->chan_refuse, k);
}

/* chan_log: record the client's messages on the open channel `peer`. */
static int chan_record(struct srv *sv, uint32_t peer)
{
	const uint8_t *p;
	size_t n;
	struct rbuf r;
	struct ob msg = {0};
	const char *name;
	size_t nlen;
	int want, rc = 0;

	while (!rc && (rc = srv_recv(sv, &p, &n)) > 0) {
		rc = 0;
		rb_init(&r, p + 1, n - 1);
		switch (p[0]) {
		case 93: /* WINDOW_ADJUST */
			continue;
		case 96: /* EOF */
			log_event(sv, "eof", "", 0);
			continue;
		case 97: /* CLOSE: ours back, and done */
			log_event(sv, "close", "", 0);
			msg.n = 0;
			ob_u8(&msg, 97);
			ob_u32(&msg, peer);
			rc = send_pkt(sv, msg.p, msg.n);
			ob_free(&msg);
			return rc ? -1 : 0;
		case 98: /* REQUEST */
			if (rb_skip(&r, 4) ||
			    rb_string(&r, (const uint8_t **)&name, &nlen,
				      SSH_PAYLOAD_MAX) ||
			    rb_bool(&r, &want)) {
				seterr(sv, "malformed CHANNEL_REQUEST");
				return -1;
			}
			log_event(sv, "req:", name, nlen);
			if (!want)
				continue;
			msg.n = 0;
			ob_u8(&msg, refused(sv, name, nlen) ? 100 /* FAILURE */
							   : 99 /* SUCCESS */);
			ob_u32(&msg, peer);
			rc = send_pkt(sv, msg.p, msg.n);
			continue;
		default:
			seterr(sv, "unexpected channel message %u", p[0]);
			rc = -1;
		}
	}
	ob_free(&msg);
	return -1;
}

/* A session channel (RFC 4254 6.1, 6.5) carrying sv->chan. */
static int chan_script(struct srv *sv)
{
	const uint8_t *p;
	size_t n, i;
	struct rbuf r;
	const char *type;
	size_t tlen;
	uint32_t peer, win, maxpkt;
	struct ob msg = {0};
	int rc = 0;

	if (expect_chan(sv, 90, &p, &n)) /* CHANNEL_OPEN */
		return -1;
	rb_init(&r, p + 1, n - 1);
	if (rb_text(&r, &type, &tlen, 64) || rb_u32(&r, &peer) ||
	    rb_u32(&r, &win) || rb_u32(&r, &maxpkt) || rb_done(&r)) {
		seterr(sv, "malformed CHANNEL_OPEN");
		return -1;
	}
	ob_u8(&msg, 91); /* OPEN_CONFIRMATION: ours is channel 7 */
	ob_u32(&msg, peer);
	ob_u32(&msg, 7);
	ob_u32(&msg, 1u << 20);
	ob_u32(&msg, 32768);
	rc = send_pkt(sv, msg.p, msg.n);
	msg.n = 0;
	if (!rc && sv->chan_log) {
		ob_free(&msg);
		return chan_record(sv, peer);
	}
	if (rc || expect_chan(sv, 98, &p, &n)) /* exec, want_reply */
		goto out;
	ob_u8(&msg, 99); /* CHANNEL_SUCCESS */
	ob_u32(&msg, peer);
	for (i = 0; i < sv->n_chan && !rc; i++) {
		const struct chan_msg *m = &sv->chan[i];

		if ((rc = send_pkt(sv, msg.p, msg.n)))
			break;
		msg.n = 0;
		ob_u8(&msg, m->ext ? 95 : 94);
		ob_u32(&msg, peer);
		if (m->ext)
			ob_u32(&msg, m->code);
		ob_cstring(&msg, m->data);
	}
	if (rc || send_pkt(sv, msg.p, msg.n))
		goto out;
	msg.n = 0;
	ob_u8(&msg, 96); /* EOF */
	ob_u32(&msg, peer);
	if ((rc = send_pkt(sv, msg.p, msg.n)))
		goto out;
	msg.p[0] = 97; /* CLOSE */
	if ((rc = send_pkt(sv, msg.p, msg.n)))
		goto out;
	rc = expect_chan(sv, 97, &p, &n);
out:
	ob_free(&msg);
	return rc ? -1 : 0;
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
		static const uint8_t ign[] = {
			SSH_MSG_IGNORE, 0, 0, 0, 2, 'h', 'i'};

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
		if ((sv->chan || sv->chan_log) && chan_script(sv))
			return STOP_FAIL;
	}
	sv->done = 1;
	return STOP_DONE;
}

void *srv_main(void *arg)
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

void srv_prepare(struct srv *sv, int fd)
{
	/* RFC 8032 7.1 test 1's secret key: any fixed host key will do */
	static const uint8_t seed[32] = {
		0x9d, 0x61, 0xb1, 0x9d, 0xef, 0xfd, 0x5a, 0x60,
		0xba, 0x84, 0x4a, 0xf4, 0x92, 0xec, 0x2c, 0xc4,
		0x44, 0x49, 0xc5, 0x69, 0x7b, 0x32, 0x69, 0x19,
		0x70, 0x3b, 0xac, 0x03, 0x1c, 0xae, 0x7f, 0x60,
	};

	sv->fd = fd;
	sv->rnd = (unsigned)sv->f.arg * 7919u + (unsigned)sv->f.bit;
	sv->c = cipher_by_name(sv->cfg.cipher, strlen(sv->cfg.cipher));
	sv->m = mac_by_name(sv->cfg.mac, strlen(sv->cfg.mac));
	ck_assert_ptr_nonnull(sv->c);
	ck_assert_ptr_nonnull(sv->m);
	memcpy(sv->hk_seed, seed, 32);
	ck_assert_int_eq(ed25519_pubkey(sv->hk_pub, seed), 0);
	tp_init(&sv->rx, &lalloc_system);
}

void srv_release(struct srv *sv)
{
	close(sv->fd);
	sv->fd = -1;
	tp_free(&sv->rx);
	tp_dir_free(&sv->txd[0]);
	tp_dir_free(&sv->txd[1]);
	free(sv->i_c);
	free(sv->i_s);
	sv->i_c = sv->i_s = NULL;
}
