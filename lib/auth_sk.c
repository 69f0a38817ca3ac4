/*
 * auth_sk.c - public key authentication with a FIDO security key
 * (OpenSSH PROTOCOL.u2f): libssh2_userauth_publickey_sk and
 * libssh2_sign_sk.
 *
 * The private key stays in the authenticator; the key file holds the
 * public key, the application ("ssh:"), flags and the authenticator's key
 * handle.  The library builds the request and the data to sign as for any
 * public key (RFC 4252 7); the caller's callback talks to the
 * authenticator and hands back its signature, flags and counter, which
 * go on the wire as
 *
 *	string	"sk-ecdsa-sha2-nistp256@openssh.com"
 *	string	(mpint r, mpint s)
 *	byte	flags
 *	uint32	counter
 *
 * or, for "sk-ssh-ed25519@openssh.com", with string signature[64] in
 * place of the ECDSA one.
 */
#include <string.h>

#include "key.h"
#include "session.h"
#include "trace.h"

/* Longest r, s or Ed25519 signature we take from the callback. */
#define SK_SIG_PART_MAX 1024

/* libssh2's contract: *abstract points to a LIBSSH2_PRIVKEY_SK filled
 * in by the caller; *sig (from the session's allocator) is
 * string signature, byte flags, uint32 counter - without the algorithm
 * name.  The callback's sig_r and sig_s come from the session's
 * allocator too and are freed here. */
LIBSSH2_API int libssh2_sign_sk(LIBSSH2_SESSION *session, unsigned char **sig,
				size_t *sig_len, const unsigned char *data,
				size_t data_len, void **abstract)
{
	LIBSSH2_PRIVKEY_SK *sk = abstract ? *abstract : NULL;
	LIBSSH2_SK_SIG_INFO si;
	struct wbuf w;
	size_t mark;
	int rc;

	if (!session || !sig || !sig_len)
		return LIBSSH2_ERROR_BAD_USE;
	if (!sk || !sk->sign_callback || !sk->key_handle || sk->handle_len == 0)
		return LIBSSH2_ERROR_DECRYPT;
	memset(&si, 0, sizeof(si));
	rc = sk->sign_callback(session, &si, data, data_len, sk->algorithm,
			       sk->flags, sk->application, sk->key_handle,
			       sk->handle_len, sk->orig_abstract);
	if (rc == 0 &&
	    (!si.sig_r || si.sig_r_len == 0 || si.sig_r_len > SK_SIG_PART_MAX ||
	     si.sig_s_len > SK_SIG_PART_MAX))
		rc = LIBSSH2_ERROR_DECRYPT;
	if (rc == 0) {
		int bad;

		wb_init(&w, &session->a, 4 * SK_SIG_PART_MAX);
		if (si.sig_s && si.sig_s_len) {
			/* RFC 5656 3.1.2: string (mpint r, mpint s) */
			bad = wb_begin_len(&w, &mark) ||
			      wb_mpint(&w, si.sig_r, si.sig_r_len) ||
			      wb_mpint(&w, si.sig_s, si.sig_s_len);
			if (!bad)
				wb_end_len(&w, mark);
		} else {
			bad = wb_string(&w, si.sig_r, si.sig_r_len);
		}
		if (bad || wb_u8(&w, si.flags) || wb_u32(&w, si.counter)) {
			wb_free(&w);
			rc = LIBSSH2_ERROR_ALLOC;
		} else {
			*sig = w.p;
			*sig_len = w.len;
		}
	}
	la_free(&session->a, si.sig_r);
	la_free(&session->a, si.sig_s);
	return rc;
}

struct sk_ctx {
	LIBSSH2_PRIVKEY_SK info;
	const char *alg;
};

/* The whole signature blob for pk signing (auth.h auth_publickey_alg):
 * the algorithm name, then what libssh2_sign_sk made. */
static LIBSSH2_USERAUTH_PUBLICKEY_SIGN_FUNC(sk_sign_blob)
{
	struct sk_ctx *x = *abstract;
	void *info = &x->info;
	unsigned char *raw = NULL;
	size_t rawlen = 0;
	struct wbuf w;
	int rc;

	rc = libssh2_sign_sk(session, &raw, &rawlen, data, data_len, &info);
	if (rc) {
		TRACE(session, LIBSSH2_TRACE_AUTH,
		      "the security key callback failed: %d", rc);
		return rc;
	}
	wb_init(&w, &session->a, SSH_PACKET_MAX);
	if (wb_cstring(&w, x->alg) || wb_bytes(&w, raw, rawlen)) {
		wb_free(&w);
		la_free(&session->a, raw);
		return LIBSSH2_ERROR_ALLOC;
	}
	la_free(&session->a, raw);
	*sig = w.p;
	*sig_len = w.len;
	return 0;
}

LIBSSH2_API int libssh2_userauth_publickey_sk(
	LIBSSH2_SESSION *s, const char *username, size_t username_len,
	const unsigned char *pubkeydata, size_t pubkeydata_len,
	const char *privatekeydata, size_t privatekeydata_len,
	const char *passphrase, LIBSSH2_USERAUTH_SK_SIGN_FUNC((*sign_callback)),
	void **abstract)
{
	struct sk_ctx x;
	void *xp = &x;
	struct key *k = NULL;
	const char *why = NULL, *app, *alg;
	const uint8_t *blob, *handle;
	size_t bloblen, applen, handlelen;
	char *appz = NULL;
	uint8_t flags;
	int rc;

	if (!s)
		return LIBSSH2_ERROR_BAD_USE;
	if (!username || !sign_callback)
		return sess_err(s, LIBSSH2_ERROR_INVAL, "missing argument");
	/* the key handle is in the private key file: nothing to sign with
	 * without it (libssh2 fails the same way) */
	if (!privatekeydata || !privatekeydata_len)
		return sess_err(s, LIBSSH2_ERROR_FILE,
				"no security key file given");
	rc = key_load_sk(&s->a, privatekeydata, privatekeydata_len, passphrase,
			 &k, &why);
	if (rc)
		return sess_err(s, LIBSSH2_ERROR_FILE,
				"unable to use the security key file: %s",
				why ? why : "unknown error");
	if (key_sk_info(k, &app, &applen, &flags, &handle, &handlelen) ||
	    key_public_blob(k, &blob, &bloblen) ||
	    !(appz = la_strndup(&s->a, app, applen))) {
		rc = sess_err(s, LIBSSH2_ERROR_ALLOC, "out of memory");
		goto out;
	}
	alg = key_type_name(k);
	memset(&x, 0, sizeof(x));
	x.alg = alg;
	x.info.algorithm = key_type(k) == KEY_SK_ED25519
				   ? LIBSSH2_HOSTKEY_TYPE_ED25519
				   : LIBSSH2_HOSTKEY_TYPE_ECDSA_256;
	x.info.flags = flags;
	x.info.application = appz;
	x.info.key_handle = handle;
	x.info.handle_len = handlelen;
	x.info.sign_callback = sign_callback;
	x.info.orig_abstract = abstract;
	if (pubkeydata && pubkeydata_len) {
		blob = pubkeydata;
		bloblen = pubkeydata_len;
	}
	TRACE(s, LIBSSH2_TRACE_AUTH, "security key %s, application %s", alg,
	      appz);
	rc = auth_publickey_alg(s, username, username_len, blob, bloblen, &alg,
				sk_sign_blob, &xp);
out:
	la_free(&s->a, appz);
	key_free(&s->a, k);
	return rc;
}
