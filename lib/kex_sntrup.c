/*
 * kex_sntrup.c - sntrup761x25519-sha512@openssh.com: the hybrid of the
 * Streamlined NTRU Prime KEM sntrup761 and X25519 (OpenSSH PROTOCOL,
 * draft-ietf-sshm-ntruprime-ssh, as OpenSSH's kexsntrup761x25519.c
 * implements it since 8.5).
 *
 * The messages are those of ECDH (RFC 5656 §4); the client holds the
 * KEM key pair, the server encapsulates:
 *
 *   client: byte   SSH_MSG_KEX_ECDH_INIT
 *           string Q_C = sntrup761 public key (1158) || X25519 public (32)
 *   server: byte   SSH_MSG_KEX_ECDH_REPLY
 *           string K_S, the host key
 *           string Q_S = sntrup761 ciphertext (1039) || X25519 public (32)
 *           string the signature of H
 *
 *   K = SHA-512(sntrup761 shared key (32) || X25519 shared secret (32))
 *   H = SHA-512(V_C || V_S || I_C || I_S || K_S || string Q_C ||
 *               string Q_S || string K)
 *
 * K is a string, not an mpint, in H and in the key derivation (the
 * method's k_string).  A ciphertext that does not decapsulate is not an
 * error here: sntrup761 then yields an unrelated key, the keys differ
 * and the server's NEWKEYS fails to authenticate.
 *
 * Our key pair lives in k->mstate from start() until cleanup(), which
 * wipes it.
 */
#include "kex.h"

#include <string.h>

#include "crypto/sntrup761.h"
#include "crypto/x25519.h"
#include "session.h"

/* Q_C: 1190 bytes, Q_S: 1071, K: a SHA-512 digest */
#define QC_LEN (SNTRUP761_PUBLICKEY_LEN + X25519_KEY_LEN)
#define QS_LEN (SNTRUP761_CIPHERTEXT_LEN + X25519_KEY_LEN)
#define K_LEN  64

_Static_assert(K_LEN <= KEX_SECRET_MAX, "K fits in kex.K");

struct sntrup_state {
	const struct lalloc *a; /* the session's, to free ourselves */
	uint8_t sk[SNTRUP761_SECRETKEY_LEN];
	uint8_t x_priv[X25519_KEY_LEN];
	uint8_t q_c[QC_LEN]; /* our public half, for H */
};

static void sntrup_cleanup(struct kex *k)
{
	struct sntrup_state *st = k->mstate;

	if (!st)
		return;
	la_free_wipe(st->a, st, sizeof(*st));
	k->mstate = NULL;
}

static int sntrup_start(LIBSSH2_SESSION *s, struct kex *k)
{
	struct sntrup_state *st = la_calloc(&s->a, sizeof(*st));
	int rc;

	if (!st)
		return sess_err(s, LIBSSH2_ERROR_ALLOC, "out of memory");
	st->a = &s->a;
	k->mstate = st;
	if (sntrup761_keypair(st->q_c, st->sk, NULL, NULL) ||
	    crypto_random(st->x_priv, sizeof(st->x_priv)))
		return sess_err(s, LIBSSH2_ERROR_RANDGEN, "no randomness");
	if (x25519_base(st->q_c + SNTRUP761_PUBLICKEY_LEN, st->x_priv))
		return sess_err(s, LIBSSH2_ERROR_KEX_FAILURE, "x25519 failed");
	if ((rc = tp_pkt_begin(&s->tp, SSH_MSG_KEX_ECDH_INIT)))
		return sess_err(s, rc, "out of memory");
	if (wb_string(&s->tp.out, st->q_c, QC_LEN)) {
		tp_pkt_abort(&s->tp);
		return sess_err(s, LIBSSH2_ERROR_ALLOC, "out of memory");
	}
	if ((rc = tp_pkt_end(&s->tp)))
		return sess_err(s, rc, "unable to queue ECDH_INIT");
	return 0;
}

static int sntrup_recv(LIBSSH2_SESSION *s, struct kex *k, uint8_t type,
		       struct rbuf *r)
{
	struct sntrup_state *st = k->mstate;
	uint8_t both[SNTRUP761_SHARED_LEN + X25519_KEY_LEN];
	const uint8_t *ks, *qs, *sig;
	size_t kslen, qslen, siglen;
	struct crypto_hash h;
	int rc;

	if (type != SSH_MSG_KEX_ECDH_REPLY || !st)
		return sess_err(s, LIBSSH2_ERROR_PROTO,
				"unexpected message %u in sntrup761x25519 "
				"exchange",
				type);
	if (rb_string(r, &ks, &kslen, SSH_STRING_MAX) ||
	    rb_string(r, &qs, &qslen, QS_LEN) ||
	    rb_string(r, &sig, &siglen, SSH_STRING_MAX) || rb_done(r) ||
	    qslen != QS_LEN)
		return sess_err(s, LIBSSH2_ERROR_PROTO,
				"malformed sntrup761x25519 ECDH_REPLY");
	/* the X25519 half first: its all-zero result (a low-order point,
	 * RFC 8731 §3) is refused as by curve25519-sha256 */
	if (x25519(both + SNTRUP761_SHARED_LEN, st->x_priv,
		   qs + SNTRUP761_CIPHERTEXT_LEN)) {
		rc = sess_err(s, LIBSSH2_ERROR_KEX_FAILURE,
			      "the server's curve25519 key is invalid");
		goto out;
	}
	if (sntrup761_dec(both, qs, st->sk) ||
	    crypto_hash(CRYPTO_SHA512, both, sizeof(both), k->K)) {
		rc = sess_err(s, LIBSSH2_ERROR_HASH_CALC, "hash failed");
		goto out;
	}
	k->Klen = K_LEN;
	if ((rc = kex_hash_prefix(s, k, &h, ks, kslen))) {
		rc = sess_err(s, rc, "hash failed");
		goto out;
	}
	kex_hash_string(&h, st->q_c, QC_LEN);
	kex_hash_string(&h, qs, QS_LEN);
	kex_hash_finish(k, &h);
	if ((rc = kex_check_hostkey(s, k, ks, kslen, sig, siglen)))
		goto out;
	rc = 1;
out:
	crypto_wipe(both, sizeof(both));
	return rc;
}

const struct kex_method kex_sntrup761x25519_sha512 = {
	.name = "sntrup761x25519-sha512@openssh.com",
	.hash = CRYPTO_SHA512,
	.start = sntrup_start,
	.recv = sntrup_recv,
	.cleanup = sntrup_cleanup,
	.k_string = 1,
};
