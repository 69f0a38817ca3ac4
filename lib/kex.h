/*
 * kex.h - algorithm negotiation and key exchange (RFC 4253 sections 7-9,
 * RFC 8308 ext-info, OpenSSH strict KEX "kex-strict-c-v00@openssh.com").
 *
 * The key exchange is driven by packets: kex_start() sends our KEXINIT,
 * kex_handle() consumes every KEX-class message the pump reads (20-49).
 * Nothing blocks in here; the session's pump provides the I/O, so a
 * rekey started by either side at any moment needs no special path.
 */
#ifndef SFTPMNT_KEX_H
#define SFTPMNT_KEX_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "cipher.h"
#include "crypto/crypto.h"

struct _LIBSSH2_SESSION;
struct kex;

#define KEX_NTYPES 11 /* LIBSSH2_METHOD_KEX .. LIBSSH2_METHOD_SIGN_ALGO */
/* Largest shared secret: 8192-bit DH (group18) */
#define KEX_SECRET_MAX 1025

/* RFC 4253 / 4250 message numbers used here */
#define SSH_MSG_DISCONNECT 1
#define SSH_MSG_IGNORE 2
#define SSH_MSG_UNIMPLEMENTED 3
#define SSH_MSG_DEBUG 4
#define SSH_MSG_SERVICE_REQUEST 5
#define SSH_MSG_SERVICE_ACCEPT 6
#define SSH_MSG_EXT_INFO 7
#define SSH_MSG_KEXINIT 20
#define SSH_MSG_NEWKEYS 21
#define SSH_MSG_KEX_ECDH_INIT 30
#define SSH_MSG_KEX_ECDH_REPLY 31
/* RFC 4253 12: 20..29 algorithm negotiation, 30..49 the key exchange
 * method's own (each method gives them its meaning). */
#define SSH_MSG_KEX_LAST 49

/* A key exchange method (one family may serve several names). */
struct kex_method {
	const char *name;
	int hash; /* CRYPTO_SHA* of the exchange hash */
	/* Send the client's first method message. */
	int (*start)(struct _LIBSSH2_SESSION *s, struct kex *k);
	/* A method message: 1 when the exchange hash is computed (k->h,
	 * k->K, host key and signature stored), 0 to wait, or an error. */
	int (*recv)(struct _LIBSSH2_SESSION *s, struct kex *k, uint8_t type,
		    struct rbuf *r);
	void (*cleanup)(struct kex *k);
	int legacy;
	/* K enters the exchange hash and the key derivation as a string,
	 * not an mpint: the hybrid KEM methods (OpenSSH PROTOCOL,
	 * draft-ietf-sshm-ntruprime-ssh §2.2). */
	int k_string;
};

enum kex_state {
	KEX_IDLE = 0,	 /* keys in use, no exchange running */
	KEX_RUNNING,	 /* KEXINIT sent and/or received */
	KEX_NEWKEYS,	 /* our NEWKEYS sent, waiting for the server's */
};

struct kex {
	char *pref[KEX_NTYPES];	  /* method_pref lists; NULL: default */
	const char *agreed[KEX_NTYPES]; /* negotiated names (static) */

	enum kex_state state;
	int ours_sent;	 /* our KEXINIT of this round is queued */
	int theirs_recv; /* the server's KEXINIT of this round is in */
	int ignore_guess; /* drop the next packet (wrong first guess) */
	int rounds;	 /* completed exchanges */
	int strict;	 /* kex-strict negotiated (sticky) */
	int first_not_kexinit; /* the server's first packet was not KEXINIT */
	int ext_info;	 /* the server wants our ext-info? (unused: we are
			    a client and only receive it) */
	struct wbuf i_c, i_s; /* KEXINIT payloads for the exchange hash */

	const struct kex_method *meth;
	const char *hostkey_alg;
	const struct cipher_def *enc_cs, *enc_sc;
	const struct mac_def *mac_cs, *mac_sc;

	/* method scratch (ephemeral keys) */
	uint8_t eph_priv[32];
	uint8_t eph_pub[32];
	void *mstate;

	/* results of the current exchange */
	uint8_t K[KEX_SECRET_MAX]; /* shared secret magnitude */
	size_t Klen;
	uint8_t h[CRYPTO_HASH_MAX_LEN];
	size_t hlen;
	uint8_t session_id[CRYPTO_HASH_MAX_LEN];
	size_t sidlen;

	/* the server's host key (K_S of the first exchange) */
	uint8_t *hostkey;
	size_t hostkey_len;
	int hostkey_type;
	uint8_t hk_md5[16], hk_sha1[20], hk_sha256[32];

	char *server_sig_algs; /* RFC 8308 ext-info */
	int64_t started_ms;    /* when the keys in use were made */
};

void kex_free(struct _LIBSSH2_SESSION *s, struct kex *k);

/* Queue our KEXINIT (first exchange or a rekey we start).  0 or error. */
int kex_start(struct _LIBSSH2_SESSION *s);
/* A KEX-class message (20..49) read by the pump. */
int kex_handle(struct _LIBSSH2_SESSION *s, const uint8_t *p, size_t n);

static inline int kex_busy(const struct kex *k)
{
	return k->state != KEX_IDLE;
}

/*
 * Does a message numbered 22..49 belong to an exchange now?  Only once
 * the server's KEXINIT of a running round is in: the numbers mean
 * something only to the method that round agreed (RFC 4253 12), and the
 * server cannot have started one before its KEXINIT (RFC 4253 7.1).
 */
static inline int kex_method_msg_due(const struct kex *k)
{
	return kex_busy(k) && k->theirs_recv;
}

/* Exchange hash helpers for methods: hash V_C, V_S, I_C, I_S, K_S. */
int kex_hash_prefix(struct _LIBSSH2_SESSION *s, struct kex *k,
		    struct crypto_hash *h, const uint8_t *ks, size_t kslen);
/* Add K (k->K; an mpint, or a string for k_string methods) and finish
 * into k->h. */
void kex_hash_finish(struct kex *k, struct crypto_hash *h);
/* string (RFC 4251 5: uint32 length, then the bytes) into a running
 * hash: how Q_C, Q_S, K_S and a hybrid method's K enter H. */
void kex_hash_string(struct crypto_hash *h, const void *p, size_t n);
/* mpint (RFC 4251 5) of the unsigned big-endian magnitude p[n] (leading
 * zero bytes dropped, a zero byte added when the top bit is set) into
 * a running hash: how K enters H and the key derivation. */
void kex_hash_mpint(struct crypto_hash *h, const uint8_t *p, size_t n);
/* RFC 4253 7.2: need bytes of key material for letter ('A'..'F') from
 * k->K (an mpint, or a string for k_string methods), k->h and k->session_id with k->meth's hash, extended as
 * K2 = HASH(K || H || K1), ... when need exceeds the hash length.
 * 0 or LIBSSH2_ERROR_HASH_INIT. */
int kex_derive(const struct kex *k, char letter, uint8_t *out, size_t need);
/* Verify the server's signature over k->h with host key ks and keep the
 * key (first exchange) or insist it did not change (rekey). */
int kex_check_hostkey(struct _LIBSSH2_SESSION *s, struct kex *k,
		      const uint8_t *ks, size_t kslen, const uint8_t *sig,
		      size_t siglen);

/* method_pref / supported_algs support */
int kex_set_pref(struct _LIBSSH2_SESSION *s, int type, const char *prefs);
int kex_supported(struct _LIBSSH2_SESSION *s, int type, const char ***algs);

extern const struct kex_method kex_curve25519_sha256;
extern const struct kex_method kex_curve25519_sha256_libssh;
/* kex_sntrup.c: the sntrup761 + X25519 hybrid */
extern const struct kex_method kex_sntrup761x25519_sha512;
/* kex_dh.c: ECDH on the NIST curves, fixed MODP groups, group exchange */
extern const struct kex_method kex_ecdh_sha2_nistp256;
extern const struct kex_method kex_ecdh_sha2_nistp384;
extern const struct kex_method kex_ecdh_sha2_nistp521;
extern const struct kex_method kex_dh_gex_sha256;
extern const struct kex_method kex_dh_group16_sha512;
extern const struct kex_method kex_dh_group18_sha512;
extern const struct kex_method kex_dh_group14_sha256;
extern const struct kex_method kex_dh_group14_sha1;
extern const struct kex_method kex_dh_group1_sha1;
extern const struct kex_method kex_dh_gex_sha1;

#endif
