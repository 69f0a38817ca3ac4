/*
 * transport.h - the sans-I/O SSH transport engine (RFC 4253).
 *
 * Bytes in, bytes out; no socket inside.  The session feeds what it
 * reads from the socket into tp_in_space()/tp_in_commit(), takes what to
 * send from tp_out_data()/tp_out_consume(), and asks the engine for the
 * next complete packet.  Keeping I/O out makes the engine testable in
 * memory (fault tests replay truncated or corrupted streams) and lets
 * non-blocking callers stop at any byte and resume.
 */
#ifndef SFTPMNT_TRANSPORT_H
#define SFTPMNT_TRANSPORT_H

#include <stddef.h>
#include <stdint.h>

#include "alloc.h"
#include "buf.h"
#include "cipher.h"
#include "comp.h"
#include "ssh_limits.h"

/* RFC 4252 section 5.1: after it, zlib@openssh.com compression starts. */
#define SSH_MSG_USERAUTH_SUCCESS 52

struct tp {
	const struct lalloc *a;

	/* Raw inbound bytes [in_start, in_end) of in[in_cap]. */
	uint8_t *in;
	size_t in_cap;
	size_t in_start;
	size_t in_end;

	/* Encoded outbound bytes; out_sent of them already written. */
	struct wbuf out;
	size_t out_sent;

	/* Lines the peer sent before its identification (RFC 4253 4.2). */
	unsigned int prelines;
	size_t prebytes;

	/* Packet protection per direction: the keys in use and the next
	 * ones, built in place (the mbedTLS AES context must not be copied:
	 * it points into itself), switched at NEWKEYS by flipping the index. */
	struct tp_dir rxd[2], txd[2];
	int rxi, txi;
	uint32_t rx_seq, tx_seq;
	uint64_t rx_bytes, tx_bytes; /* since the last key exchange */

	/* Random bytes for padding, taken from the end (pad_left): one
	 * getrandom(2) per pool instead of one per packet (1% of a core
	 * writing at 600 MB/s).  Padding is sent encrypted and is no
	 * secret; RFC 4253 6 only asks that it be random. */
	uint8_t pad_pool[512];
	size_t pad_left;

	/* The inbound packet being assembled: its packet_length once
	 * known (0 before), and whether its first block was decrypted. */
	uint32_t rx_len;
	int rx_first_done;
	/* The sequence number of the last packet tp_recv() returned (what
	 * SSH_MSG_UNIMPLEMENTED must quote, RFC 4253 11.4). */
	uint32_t rx_last_seq;
	/* Set by the session when the application has a MAC error
	 * callback: a packet whose HMAC does not verify is then returned
	 * as TP_PKT_BADMAC instead of failing (see tp_recv). */
	int mac_soft;

	/* The outbound packet being built (tp_pkt_begin .. tp_pkt_end). */
	size_t pkt_start;
	int building;

	/* Compression (RFC 4253 6.2): one zlib stream per direction, on
	 * per the direction's keys (tp_dir.comp), restarted at each
	 * NEWKEYS; zlib@openssh.com waits for authentication. */
	struct comp_stream zrx, ztx;
	int authenticated; /* USERAUTH_SUCCESS received */

	/* Optional observer of every packet we send (libssh2_trace): the
	 * payload, type byte first, before compression and encryption. */
	void (*obs)(void *arg, const uint8_t *payload, size_t n);
	void *obs_arg;
};

int tp_init(struct tp *t, const struct lalloc *a);
void tp_free(struct tp *t);

/* Room for at least want bytes of input; NULL when out of memory. */
uint8_t *tp_in_space(struct tp *t, size_t want, size_t *avail);
void tp_in_commit(struct tp *t, size_t n);

/* Pending output. */
static inline size_t tp_out_len(const struct tp *t)
{
	return t->out.len - t->out_sent;
}

static inline const uint8_t *tp_out_data(const struct tp *t)
{
	return t->out.p + t->out_sent;
}

void tp_out_consume(struct tp *t, size_t n);

/* Queue our identification line (without CR LF). */
int tp_banner_queue(struct tp *t, const char *banner);

/*
 * Look for the peer's identification line in the input.  Returns 1 and
 * copies it (without CR LF, NUL-terminated) to id when found, 0 when
 * more input is needed, or a negative LIBSSH2_ERROR_* (with *why set to
 * a static explanation) when the peer sent something that is not SSH-2.
 */
int tp_banner_take(struct tp *t, char *id, size_t idcap, const char **why);

/* ---- binary packets (RFC 4253 section 6) ------------------------------ */

/*
 * Start a packet of message type `type`; the payload is then appended
 * with wb_*(&t->out, ...) (no intermediate copy) and tp_pkt_end() pads,
 * MACs and encrypts it in place.  0 or LIBSSH2_ERROR_ALLOC.
 */
int tp_pkt_begin(struct tp *t, uint8_t type) BUF_WUR;
int tp_pkt_end(struct tp *t) BUF_WUR;
/* Drop a packet begun but not ended (e.g. a put failed). */
void tp_pkt_abort(struct tp *t);
/* Whole payload (type byte included) in one call. */
int tp_send(struct tp *t, const uint8_t *payload, size_t n) BUF_WUR;

/* tp_recv() results besides 0 (more input needed) and errors. */
#define TP_PKT	      1 /* a verified packet */
#define TP_PKT_BADMAC 2 /* (mac_soft only) a packet whose HMAC failed */

/*
 * The next complete, verified, decrypted and decompressed packet:
 * TP_PKT with *payload / *n set (type byte first; valid until the next
 * tp_recv() or tp_* call that adds input), 0 when more input is needed,
 * or a negative LIBSSH2_ERROR_* with *why explaining it (a bad length,
 * MAC, tag, padding or compressed data is fatal).  Receiving
 * USERAUTH_SUCCESS calls tp_comp_delayed_start().
 *
 * Framing, as libssh2 1.11.1 reports it: a packet_length over
 * SSH_PACKET_MAX is LIBSSH2_ERROR_OUT_OF_BOUNDARY; one under 5 or not
 * block-aligned, and a padding_length under 4 or leaving no payload,
 * are LIBSSH2_ERROR_DECRYPT (libssh2 itself checks only length >= 1 and
 * padding_length < length, and asserts alignment); a compressed payload
 * that inflates beyond SSH_INFLATE_MAX, or does not inflate, is
 * LIBSSH2_ERROR_ZLIB.
 *
 * Integrity failures: an HMAC (hmac-*, -etm too) that does not verify
 * is LIBSSH2_ERROR_INVALID_MAC; an AEAD tag (aes*-gcm, chacha20-poly1305)
 * that does not verify is LIBSSH2_ERROR_DECRYPT, as in libssh2 1.11.1,
 * where the AEAD check is part of decryption (for aes*-gcm; its
 * chacha20-poly1305 cipher hands the transport a bare 1 instead, which
 * is no error code: we say DECRYPT for both).  With t->mac_soft set, a
 * packet whose HMAC fails but that otherwise decodes (length, padding,
 * decompression) is consumed and returned as TP_PKT_BADMAC, so that the
 * session can ask the application (LIBSSH2_CALLBACK_MACERROR) whether
 * to process it; AEAD failures stay errors.
 */
int tp_recv(struct tp *t, const uint8_t **payload, size_t *n,
	    const char **why) BUF_WUR;

static inline struct tp_dir *tp_rx_next(struct tp *t)
{
	return &t->rxd[!t->rxi];
}

static inline struct tp_dir *tp_tx_next(struct tp *t)
{
	return &t->txd[!t->txi];
}

/* Switch a direction to the next keys (at NEWKEYS); the old state is
 * wiped.  With strict KEX the sequence number restarts at 0.  The
 * compression context restarts too (RFC 4253 6.2), per the new keys'
 * tp_dir.comp. */
void tp_rx_rekey(struct tp *t, int reset_seq);
void tp_tx_rekey(struct tp *t, int reset_seq);

/*
 * The user is authenticated: delayed compression (zlib@openssh.com)
 * starts in both directions with the next packet, as OpenSSH's client
 * does when it reads USERAUTH_SUCCESS (packet.c,
 * ssh_packet_enable_delayed_compress).  Only the first call counts.
 */
void tp_comp_delayed_start(struct tp *t);

#endif
