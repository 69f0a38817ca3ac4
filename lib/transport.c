/*
 * transport.c - the sans-I/O SSH transport engine: buffers and the
 * identification exchange (RFC 4253 section 4.2).
 */
#include "transport.h"

#include <string.h>

#include "libssh2.h"

int tp_init(struct tp *t, const struct lalloc *a)
{
	memset(t, 0, sizeof(*t));
	t->a = a;
	wb_init(&t->out, a, 2 * SSH_PACKET_MAX + BUF_DEFAULT_MAX);
	comp_init(&t->zrx, a, 0);
	comp_init(&t->ztx, a, 1);
	return 0;
}

/* n random bytes of padding from the pool (refilled when short). */
static int pad_random(struct tp *t, uint8_t *p, size_t n)
{
	if (n > sizeof(t->pad_pool))
		return crypto_random(p, n);
	if (n > t->pad_left) {
		if (crypto_random(t->pad_pool, sizeof(t->pad_pool)))
			return -1;
		t->pad_left = sizeof(t->pad_pool);
	}
	t->pad_left -= n;
	memcpy(p, t->pad_pool + t->pad_left, n);
	return 0;
}

void tp_free(struct tp *t)
{
	tp_dir_free(&t->rxd[0]);
	tp_dir_free(&t->rxd[1]);
	tp_dir_free(&t->txd[0]);
	tp_dir_free(&t->txd[1]);
	comp_free(&t->zrx);
	comp_free(&t->ztx);
	if (t->in)
		la_free_wipe(t->a, t->in, t->in_cap);
	t->in = NULL;
	wb_free_wipe(&t->out);
}

uint8_t *tp_in_space(struct tp *t, size_t want, size_t *avail)
{
	size_t used = t->in_end - t->in_start;

	/* Slide consumed bytes out first: cheap, the tail is small. */
	if (t->in_start > 0 && (t->in_cap - t->in_end < want ||
				used == 0)) {
		memmove(t->in, t->in + t->in_start, used);
		t->in_start = 0;
		t->in_end = used;
	}
	if (t->in_cap - t->in_end < want) {
		size_t ncap = t->in_cap ? t->in_cap : SSH_READ_CHUNK;
		uint8_t *np;

		while (ncap - t->in_end < want)
			ncap *= 2;
		np = la_realloc(t->a, t->in, ncap);
		if (!np)
			return NULL;
		t->in = np;
		t->in_cap = ncap;
	}
	*avail = t->in_cap - t->in_end;
	return t->in + t->in_end;
}

void tp_in_commit(struct tp *t, size_t n)
{
	t->in_end += n;
}

void tp_out_consume(struct tp *t, size_t n)
{
	t->out_sent += n;
	if (t->out_sent == t->out.len) {
		t->out_sent = 0;
		wb_reset(&t->out);
	}
}

int tp_banner_queue(struct tp *t, const char *banner)
{
	size_t n = strlen(banner);

	/* RFC 4253 4.2: at most 255 characters including CR LF. */
	if (n + 2 > SSH_BANNER_MAX)
		return LIBSSH2_ERROR_BANNER_SEND;
	if (wb_bytes(&t->out, banner, n) || wb_bytes(&t->out, "\r\n", 2))
		return LIBSSH2_ERROR_ALLOC;
	return 0;
}

/* An identification line is "SSH-protoversion-softwareversion [comments]":
 * printable US-ASCII, no NUL.  We speak 2.0, and 1.99 means the same. */
static int banner_check(const char *s, size_t n, const char **why)
{
	size_t i;

	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c < 0x20 || c > 0x7e) {
			*why = "server identification has a control character";
			return LIBSSH2_ERROR_BANNER_RECV;
		}
	}
	if (n >= 8 && !memcmp(s, "SSH-2.0-", 8))
		return 0;
	if (n >= 9 && !memcmp(s, "SSH-1.99-", 9))
		return 0;
	*why = "server does not speak SSH protocol 2.0";
	return LIBSSH2_ERROR_BANNER_RECV;
}

int tp_banner_take(struct tp *t, char *id, size_t idcap, const char **why)
{
	if (!t->in)
		return 0; /* nothing read yet */
	for (;;) {
		const uint8_t *s = t->in + t->in_start;
		size_t avail = t->in_end - t->in_start;
		const uint8_t *nl = avail ? memchr(s, '\n', avail) : NULL;
		size_t n, linelen;
		int rc;

		if (!nl) {
			if (avail >= SSH_BANNER_MAX) {
				*why = "server identification line too long";
				return LIBSSH2_ERROR_BANNER_RECV;
			}
			return 0;
		}
		linelen = (size_t)(nl - s) + 1;
		n = linelen - 1;
		if (n > 0 && s[n - 1] == '\r')
			n--;
		if (n >= 4 && !memcmp(s, "SSH-", 4)) {
			if (linelen > SSH_BANNER_MAX) {
				*why = "server identification line too long";
				return LIBSSH2_ERROR_BANNER_RECV;
			}
			rc = banner_check((const char *)s, n, why);
			if (rc)
				return rc;
			if (n + 1 > idcap) {
				*why = "server identification line too long";
				return LIBSSH2_ERROR_BANNER_RECV;
			}
			memcpy(id, s, n);
			id[n] = '\0';
			t->in_start += linelen;
			return 1;
		}
		/* Other lines may precede the identification; bound them. */
		if (memchr(s, 0, linelen) || ++t->prelines > SSH_BANNER_MAX_PRELINES ||
		    (t->prebytes += linelen) > SSH_BANNER_MAX_PREBYTES) {
			*why = "server sent no SSH identification";
			return LIBSSH2_ERROR_BANNER_RECV;
		}
		t->in_start += linelen;
	}
}

/* ---- binary packets ------------------------------------------------------ */

int tp_pkt_begin(struct tp *t, uint8_t type)
{
	/* uint32 packet_length, byte padding_length, then the payload. */
	t->pkt_start = t->out.len;
	t->building = 1;
	if (wb_u32(&t->out, 0) || wb_u8(&t->out, 0) || wb_u8(&t->out, type)) {
		tp_pkt_abort(t);
		return LIBSSH2_ERROR_ALLOC;
	}
	return 0;
}

void tp_pkt_abort(struct tp *t)
{
	t->out.len = t->pkt_start;
	t->out.err = 0;
	t->building = 0;
}

static void gcm_next_iv(uint8_t iv[12])
{
	/* RFC 5647 7.1: the 64-bit invocation counter, big-endian. */
	put_u64(iv + 4, get_u64(iv + 4) + 1);
}

static void mac_compute(const struct tp_dir *d, uint32_t seq,
			const uint8_t *p, size_t n, uint8_t *out)
{
	struct crypto_hash run;
	uint8_t s[4], full[CRYPTO_HASH_MAX_LEN];

	put_u32(s, seq);
	crypto_hmac_start(&d->hmac, &run);
	crypto_hash_update(&run, s, 4);
	crypto_hash_update(&run, p, n);
	crypto_hmac_finish(&d->hmac, &run, full);
	memcpy(out, full, d->mac->maclen);
}

/* Replace the payload being built by its compressed form (RFC 4253
 * 6.2: compression covers the payload field only, type byte included). */
static int pkt_compress(struct tp *t, size_t *payload)
{
	const uint8_t *z;
	size_t zn;
	int rc;

	rc = comp_deflate(&t->ztx, t->out.p + t->pkt_start + 5, *payload, &z,
			  &zn);
	if (rc)
		return rc;
	t->out.len = t->pkt_start + 5;
	if (wb_bytes(&t->out, z, zn))
		return LIBSSH2_ERROR_ALLOC;
	*payload = zn;
	return 0;
}

int tp_pkt_end(struct tp *t)
{
	struct tp_dir *d = &t->txd[t->txi];
	unsigned bs = tp_dir_block(d), taglen = tp_dir_taglen(d);
	size_t payload, aligned, pad, len;
	uint8_t *pkt, *padp;
	int rc, zipped = comp_on(&t->ztx);

	if (!t->building)
		return LIBSSH2_ERROR_BAD_USE;
	if (wb_ok(&t->out)) {
		tp_pkt_abort(t);
		return LIBSSH2_ERROR_ALLOC;
	}
	payload = t->out.len - t->pkt_start - 5;
	if (payload > SSH_PAYLOAD_MAX) {
		tp_pkt_abort(t);
		return LIBSSH2_ERROR_OUT_OF_BOUNDARY;
	}
	if (t->obs)
		t->obs(t->obs_arg, t->out.p + t->pkt_start + 5, payload);
	/* From here a failure loses a packet that the compression context
	 * has already seen: the stream is then broken for good. */
	if (zipped && (rc = pkt_compress(t, &payload)))
		goto fail;
	/* RFC 4253 6: 4..255 bytes of padding so that what is encrypted is
	 * a multiple of the block size (the length field apart for AEAD and
	 * EtM, where it is authenticated but aligned separately). */
	aligned = 1 + payload + (tp_dir_len_apart(d) ? 0 : 4);
	pad = bs - aligned % bs;
	if (pad < SSH_PADDING_MIN)
		pad += bs;
	len = 1 + payload + pad;
	/* Only deflate's growth of incompressible data can get here. */
	if (len > SSH_PACKET_MAX) {
		rc = LIBSSH2_ERROR_OUT_OF_BOUNDARY;
		goto fail;
	}
	if (wb_reserve(&t->out, pad + taglen, &padp)) {
		rc = LIBSSH2_ERROR_ALLOC;
		goto fail;
	}
	if (pad_random(t, padp, pad)) {
		rc = LIBSSH2_ERROR_RANDGEN;
		goto fail;
	}
	pkt = t->out.p + t->pkt_start;
	put_u32(pkt, (uint32_t)len);
	pkt[4] = (uint8_t)pad;

	rc = LIBSSH2_ERROR_ENCRYPT;
	if (!d->cipher) {
		/* before the first NEWKEYS: no encryption, no MAC */
	} else if (d->cipher->kind == CIPHER_CHACHAPOLY) {
		chachapoly_seal(&d->c.cp, t->tx_seq, pkt, 4 + len,
				pkt + 4 + len);
	} else if (d->cipher->kind == CIPHER_AESGCM) {
		aesgcm_seal(&d->c.gcm, d->iv, pkt, 4, pkt + 4, len,
			    pkt + 4 + len);
		gcm_next_iv(d->iv);
	} else if (d->mac && d->mac->etm) {
		if (crypto_aes_crypt(&d->c.aes, pkt + 4, len))
			goto fail;
		mac_compute(d, t->tx_seq, pkt, 4 + len, pkt + 4 + len);
	} else {
		if (d->mac)
			mac_compute(d, t->tx_seq, pkt, 4 + len, pkt + 4 + len);
		if (crypto_aes_crypt(&d->c.aes, pkt, 4 + len))
			goto fail;
	}
	t->tx_seq++;
	t->tx_bytes += 4 + len + taglen;
	t->building = 0;
	return 0;
fail:
	if (zipped)
		comp_break(&t->ztx);
	tp_pkt_abort(t);
	return rc;
}

int tp_send(struct tp *t, const uint8_t *payload, size_t n)
{
	int rc;

	if (n == 0)
		return LIBSSH2_ERROR_INVAL;
	if ((rc = tp_pkt_begin(t, payload[0])))
		return rc;
	if (wb_bytes(&t->out, payload + 1, n - 1)) {
		tp_pkt_abort(t);
		return LIBSSH2_ERROR_ALLOC;
	}
	return tp_pkt_end(t);
}

/* Learn packet_length of the packet at the head of the input. */
static int rx_length(struct tp *t, const char **why)
{
	struct tp_dir *d = &t->rxd[t->rxi];
	size_t avail = t->in_end - t->in_start;
	uint8_t *pkt;
	unsigned bs = tp_dir_block(d);
	uint8_t plain[4];
	uint32_t len;

	if (!t->in)
		return 0; /* nothing read yet */
	pkt = t->in + t->in_start;
	if (!d->cipher || tp_dir_len_apart(d)) {
		if (avail < 4)
			return 0;
		if (d->cipher && d->cipher->kind == CIPHER_CHACHAPOLY) {
			chachapoly_length(&d->c.cp, t->rx_seq, pkt, plain);
			len = get_u32(plain);
		} else {
			len = get_u32(pkt);
		}
	} else {
		/* Block cipher with the MAC over plaintext: decrypt the
		 * first block in place to read the length. */
		if (avail < bs)
			return 0;
		if (!t->rx_first_done) {
			if (crypto_aes_crypt(&d->c.aes, pkt, bs)) {
				*why = "decryption failed";
				return LIBSSH2_ERROR_DECRYPT;
			}
			t->rx_first_done = 1;
		}
		len = get_u32(pkt);
	}
	/* The codes are libssh2 1.11.1's (_libssh2_transport_read): a
	 * length too small to hold the padding_length byte is DECRYPT (the
	 * first block did not decrypt to a packet), one over the limit
	 * OUT_OF_BOUNDARY.  It does not check the block alignment (RFC 4253
	 * 6); a length that breaks it cannot be decrypted either: DECRYPT. */
	if (len < 5) {
		*why = "packet length too small";
		return LIBSSH2_ERROR_DECRYPT;
	}
	if (len > SSH_PACKET_MAX) {
		*why = "packet length over the limit";
		return LIBSSH2_ERROR_OUT_OF_BOUNDARY;
	}
	if ((tp_dir_len_apart(d) ? len : len + 4) % bs) {
		*why = "packet length is not a multiple of the block size";
		return LIBSSH2_ERROR_DECRYPT;
	}
	t->rx_len = len;
	return 1;
}

int tp_recv(struct tp *t, const uint8_t **payload, size_t *n,
	    const char **why)
{
	struct tp_dir *d = &t->rxd[t->rxi];
	unsigned taglen = tp_dir_taglen(d), bs = tp_dir_block(d);
	uint8_t *pkt, mac[CRYPTO_HASH_MAX_LEN];
	const uint8_t *p;
	size_t total, padlen, pn;
	uint32_t len;
	int rc, badmac = 0;

	if (!t->rx_len && (rc = rx_length(t, why)) <= 0)
		return rc;
	len = t->rx_len;
	total = 4 + (size_t)len + taglen;
	if (t->in_end - t->in_start < total)
		return 0;
	pkt = t->in + t->in_start;

	if (!d->cipher) {
		/* nothing to undo */
	} else if (d->cipher->kind == CIPHER_CHACHAPOLY) {
		if (chachapoly_open(&d->c.cp, t->rx_seq, pkt, 4 + len,
				    pkt + 4 + len))
			goto badtag;
	} else if (d->cipher->kind == CIPHER_AESGCM) {
		if (aesgcm_open(&d->c.gcm, d->iv, pkt, 4, pkt + 4, len,
				pkt + 4 + len))
			goto badtag;
		gcm_next_iv(d->iv);
	} else if (d->mac && d->mac->etm) {
		mac_compute(d, t->rx_seq, pkt, 4 + len, mac);
		badmac = crypto_memcmp_ct(mac, pkt + 4 + len, taglen) != 0;
		if (badmac && !t->mac_soft)
			goto badmac;
		/* CTR/CBC keep their state across packets: decrypt even a
		 * packet that is shown to the MAC error callback, or the next
		 * one would not decrypt. */
		if (crypto_aes_crypt(&d->c.aes, pkt + 4, len))
			goto baddec;
	} else {
		if (crypto_aes_crypt(&d->c.aes, pkt + bs, 4 + len - bs))
			goto baddec;
		if (d->mac) {
			mac_compute(d, t->rx_seq, pkt, 4 + len, mac);
			badmac = crypto_memcmp_ct(mac, pkt + 4 + len, taglen) !=
				 0;
			if (badmac && !t->mac_soft)
				goto badmac;
		}
	}
	/* RFC 4253 6: at least 4 bytes of padding and a payload of at
	 * least the type byte.  DECRYPT as in libssh2 1.11.1, which checks
	 * padding_length against packet_length only. */
	padlen = pkt[4];
	if (padlen < SSH_PADDING_MIN || padlen >= (size_t)len - 1) {
		if (badmac)
			goto badmac; /* nothing to show the callback */
		*why = "bad padding length";
		return LIBSSH2_ERROR_DECRYPT;
	}
	p = pkt + 5;
	pn = len - 1 - padlen;
	if (comp_on(&t->zrx)) {
		rc = comp_inflate(&t->zrx, p, pn, SSH_INFLATE_MAX, &p, &pn,
				  why);
		if (rc)
			return rc;
		if (pn == 0) {
			*why = "empty packet payload";
			return LIBSSH2_ERROR_PROTO;
		}
	}
	/* (with a bad MAC too: refused, it ends the session anyway) */
	if (p[0] == SSH_MSG_USERAUTH_SUCCESS)
		tp_comp_delayed_start(t);
	*payload = p;
	*n = pn;
	t->in_start += total;
	t->rx_len = 0;
	t->rx_first_done = 0;
	t->rx_last_seq = t->rx_seq++;
	t->rx_bytes += total;
	return badmac ? TP_PKT_BADMAC : TP_PKT;
badmac:
	*why = "message authentication code mismatch";
	return LIBSSH2_ERROR_INVALID_MAC;
badtag:
	*why = "authentication tag mismatch (AEAD): the packet was corrupted "
	       "or forged";
	return LIBSSH2_ERROR_DECRYPT;
baddec:
	*why = "decryption failed";
	return LIBSSH2_ERROR_DECRYPT;
}

/* RFC 4253 6.2: "The compression context is initialized after each key
 * exchange"; OpenSSH (ssh_set_newkeys) restarts it at every NEWKEYS,
 * delayed compression too once the user is authenticated. */
static void comp_switch(const struct tp *t, struct comp_stream *c,
			const struct tp_dir *d)
{
	if (d->comp && d->comp->zlib &&
	    (!d->comp->delayed || t->authenticated))
		comp_restart(c);
	else
		comp_stop(c);
}

void tp_rx_rekey(struct tp *t, int reset_seq)
{
	tp_dir_free(&t->rxd[t->rxi]);
	t->rxi = !t->rxi;
	if (reset_seq)
		t->rx_seq = 0;
	t->rx_bytes = 0;
	comp_switch(t, &t->zrx, &t->rxd[t->rxi]);
}

void tp_tx_rekey(struct tp *t, int reset_seq)
{
	tp_dir_free(&t->txd[t->txi]);
	t->txi = !t->txi;
	if (reset_seq)
		t->tx_seq = 0;
	t->tx_bytes = 0;
	comp_switch(t, &t->ztx, &t->txd[t->txi]);
}

void tp_comp_delayed_start(struct tp *t)
{
	if (t->authenticated)
		return;
	t->authenticated = 1;
	/* "zlib" is running already: its stream must go on untouched. */
	if (t->rxd[t->rxi].comp && t->rxd[t->rxi].comp->delayed)
		comp_restart(&t->zrx);
	if (t->txd[t->txi].comp && t->txd[t->txi].comp->delayed)
		comp_restart(&t->ztx);
}
