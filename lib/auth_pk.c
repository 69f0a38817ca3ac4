/*
 * auth_pk.c - publickey user authentication (RFC 4252 section 7, RFC
 * 8332 for RSA signature algorithms): libssh2_userauth_publickey,
 * _fromfile_ex and _frommemory, and the core that
 * libssh2_agent_userauth and libssh2_userauth_publickey_sk sign through.
 *
 * As libssh2 1.11.1 does, a key is offered in two steps:
 *
 *   query	USERAUTH_REQUEST  user, "ssh-connection", "publickey",
 *				  FALSE, string alg, string key blob
 *		<- USERAUTH_PK_OK (60): a signature would be looked at
 *		<- USERAUTH_FAILURE: refused:
 *		   LIBSSH2_ERROR_AUTHENTICATION_FAILED
 *		<- USERAUTH_SUCCESS: logged in without a signature (the RFC
 *		   does not forbid it; libssh2 takes it too)
 *   signed	USERAUTH_REQUEST  ..., TRUE, string alg, string key blob,
 *				  string signature
 *		<- USERAUTH_SUCCESS, or FAILURE:
 *		   LIBSSH2_ERROR_PUBLICKEY_UNVERIFIED
 *
 * The signer - the private key (read, decrypted and checked against the
 * public key only then), the caller's sign callback, the agent - is used
 * between the two, after PK_OK: a key the server would refuse costs no
 * passphrase and no signature.  Without a public key (file or data) the
 * offer is derived from the private key, which has to be opened first,
 * passphrase and all, as in libssh2.  The query costs one round trip
 * per login.
 *
 * A sign callback that cannot make the signature the request names
 * (an RSA signer without SHA-2, an agent that answers an rsa-sha2-*
 * request with ssh-rsa) returns LIBSSH2_ERROR_ALGO_UNSUPPORTED.  As
 * libssh2 1.11.1 does (userauth.c, "try again with the default key
 * algo"), the attempt then starts over once, from a new query, naming
 * the key's own type (ssh-rsa) with no upgrade; the server judges
 * whether it takes that.  A second refusal is
 * LIBSSH2_ERROR_PUBLICKEY_UNVERIFIED.
 *
 * Non-blocking: s->auth.pk_stage records how far an attempt got, so that
 * a call repeated after LIBSSH2_ERROR_EAGAIN (with the same arguments,
 * as libssh2 requires) goes on from there.
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <string.h>

#include "auth.h"
#include "key.h"
#include "session.h"
#include "trace.h"

#define SSH_MSG_USERAUTH_REQUEST 50
#define SSH_MSG_USERAUTH_FAILURE 51
#define SSH_MSG_USERAUTH_PK_OK	 60

/* s->auth.pk_stage */
enum {
	PK_IDLE = 0,
	PK_QUERY,  /* the query is out */
	PK_SIGN,   /* PK_OK came; the sign callback said EAGAIN */
	PK_SIGNED, /* the signed request is out */
};

/* OpenSSH certificate key types end in this (PROTOCOL.certkeys). */
#define CERT_SUFFIX "-cert-v01@openssh.com"
/* Longest key type or signature algorithm name we handle. */
#define PK_ALG_MAX 96
/* pk_sign_and_send: the signer refused the algorithm; start over. */
#define PK_RETRY_PLAIN 1

/* Is name one of the comma-separated list's items? */
static int name_in(const char *list, const char *name)
{
	size_t n = strlen(name);
	const char *p;

	for (p = list; p && (p = strstr(p, name)); p += n)
		if ((p == list || p[-1] == ',') &&
		    (p[n] == ',' || p[n] == '\0'))
			return 1;
	return 0;
}

/*
 * The signature algorithm for a key of type keytype: keytype itself,
 * except for RSA keys, which sign as rsa-sha2-512 or rsa-sha2-256 (RFC
 * 8332) - the first of the caller's LIBSSH2_METHOD_SIGN_ALGO list, or of
 * ours, that the server's server-sig-algs (RFC 8308) accepts.  SHA-1
 * ssh-rsa only when the caller lists it.  An RSA certificate
 * (ssh-rsa-cert-v01@openssh.com) goes the same way under its
 * certificate names (rsa-sha2-512-cert-v01@openssh.com): server-sig-algs
 * names signatures, and a certificate signs as its plain key type
 * (OpenSSH lists no certificate names there), and the caller's list
 * (which takes no certificate names) by the plain names too.  NULL when
 * nothing fits (the caller fails with LIBSSH2_ERROR_METHOD_NONE,
 * sending nothing).
 */
static const char *sig_alg(LIBSSH2_SESSION *s, const char *keytype)
{
	static const char *const rsa[][2] = {
		{"rsa-sha2-512", "rsa-sha2-512" CERT_SUFFIX},
		{"rsa-sha2-256", "rsa-sha2-256" CERT_SUFFIX},
		{"ssh-rsa", "ssh-rsa" CERT_SUFFIX},
	};
	const char *srv = s->kex.server_sig_algs;
	const char *pref = s->kex.pref[LIBSSH2_METHOD_SIGN_ALGO];
	const char *p, *e;
	char plain[PK_ALG_MAX];
	size_t i, n = strlen(keytype), sl = strlen(CERT_SUFFIX);
	int cert;

	if (!strcmp(keytype, rsa[2][0]))
		cert = 0;
	else if (!strcmp(keytype, rsa[2][1]))
		cert = 1;
	else {
		/* ssh-ed25519-cert-v01@openssh.com signs as ssh-ed25519 */
		if (n > sl && !strcmp(keytype + n - sl, CERT_SUFFIX))
			n -= sl;
		snprintf(plain, sizeof(plain), "%.*s", (int)n, keytype);
		return !pref || name_in(pref, plain) ? keytype : NULL;
	}
	if (!pref) {
		for (i = 0; i < 2; i++)
			if (!srv || name_in(srv, rsa[i][0]))
				return rsa[i][cert];
		return NULL;
	}
	/* the caller's order */
	for (p = pref; *p; p = *e ? e + 1 : e) {
		e = strchrnul(p, ',');
		n = (size_t)(e - p);
		for (i = 0; i < 3; i++)
			if (n == strlen(rsa[i][0]) &&
			    !memcmp(p, rsa[i][0], n) &&
			    (!srv || name_in(srv, rsa[i][0])))
				return rsa[i][cert];
	}
	return NULL;
}

/* Where a private key is read from once the server has said PK_OK. */
struct pk_src {
	const char *path; /* a file, or */
	const char *data; /* its contents */
	size_t len;
	const char *pass;
	int frommem;
};

struct pk_args {
	const char *user;
	size_t ulen;
	const uint8_t *blob;
	size_t bloblen;
	const char *alg;
	/* the key's own type (the blob's), offered after the signer said
	 * ALGO_UNSUPPORTED; and where the caller keeps its algorithm
	 * (auth_publickey_alg), set to NULL (the key's type) then */
	const char *keytype;
	const char **algp;
	/* the signature's algorithm when it is not alg: a certificate
	 * signs as its plain key type (PROTOCOL.certkeys) */
	const char *sigalg;
	char plain[PK_ALG_MAX];
	/* exactly one of these signs */
	const struct key *key;
	const struct pk_src *src;
	LIBSSH2_USERAUTH_PUBLICKEY_SIGN_FUNC((*cb));
	void **abstract;
	/* cb returns the bare signature, which we wrap as (string alg,
	 * string sig) - libssh2's contract for its sign callbacks */
	int cb_raw;
};

/* The certificate's plain signature algorithm in a->sigalg, if alg names
 * a certificate. */
static void pk_set_sigalg(struct pk_args *a)
{
	size_t n = strlen(a->alg), sl = strlen(CERT_SUFFIX);

	a->sigalg = NULL;
	if (n > sl && !strcmp(a->alg + n - sl, CERT_SUFFIX)) {
		snprintf(a->plain, sizeof(a->plain), "%.*s", (int)(n - sl),
			 a->alg);
		a->sigalg = a->plain;
	}
}

/*
 * The code for a private key that key_load_private refused (rc), as
 * libssh2 1.11.1 built with OpenSSL 3 returns it (its userauth.c and
 * openssl.c):
 * - with a public key (file or data) given, libssh2 reads the private
 *   key only in its sign callback, after the server's PK_OK, and any
 *   failure there is LIBSSH2_ERROR_PUBLICKEY_UNVERIFIED ("Callback
 *   returned error");
 * - libssh2_userauth_publickey_fromfile_ex without one derives it from
 *   the private key file: LIBSSH2_ERROR_FILE whatever went wrong;
 * - libssh2_userauth_publickey_frommemory without one
 *   (_libssh2_pub_priv_keyfilememory): OpenSSL's PEM reader first, then
 *   the OpenSSH parser; when both fail the OpenSSH parser's code is
 *   dropped, and the result is LIBSSH2_ERROR_KEYFILE_AUTH_FAILED when
 *   OpenSSL's error was a failed decryption (a PEM or PKCS#8 key and a
 *   wrong passphrase), LIBSSH2_ERROR_FILE for everything else - an
 *   OpenSSH key with a wrong passphrase included.  (libssh2 1.10 passed
 *   the OpenSSH parser's code on: KEYFILE_AUTH_FAILED or PROTO.)
 * The message is ours in every case: "passphrase required" or "wrong
 * passphrase" where that is the reason, which libssh2's is not (fs/conn.c
 * asks for a passphrase on those words).  Key types and ciphers we do not
 * implement keep LIBSSH2_ERROR_METHOD_NOT_SUPPORTED.
 */
static int key_load_code(int rc, int frommem, int pub, int openssh)
{
	/* not measured against libssh2: left as key.c says */
	if (rc == LIBSSH2_ERROR_ALLOC ||
	    rc == LIBSSH2_ERROR_METHOD_NOT_SUPPORTED)
		return rc;
	if (pub)
		return LIBSSH2_ERROR_PUBLICKEY_UNVERIFIED;
	if (frommem && rc == LIBSSH2_ERROR_KEYFILE_AUTH_FAILED && !openssh)
		return rc;
	return LIBSSH2_ERROR_FILE;
}

/* The private key of an offer made from a public key, after PK_OK: read,
 * decrypted, and checked to be the offered key's (or the offered
 * certificate's) private half. */
static int pk_load(LIBSSH2_SESSION *s, const struct pk_args *a,
		   struct key **out)
{
	const struct pk_src *src = a->src;
	const char *data = src->data, *why = NULL;
	size_t len = src->len;
	char *file = NULL;
	struct key *k = NULL;
	int rc, cert;

	if (src->path) {
		/* libssh2 opens the file in its sign callback, whose
		 * failure it reports as PUBLICKEY_UNVERIFIED */
		if ((rc = auth_read_file(s, src->path, &file, &len)))
			return rc == LIBSSH2_ERROR_ALLOC
				       ? rc
				       : (s->last_errno =
						  LIBSSH2_ERROR_PUBLICKEY_UNVERIFIED);
		data = file;
	}
	rc = key_load_private(&s->a, data, len, src->pass, &k, &why);
	if (rc) {
		rc = sess_err(s,
			      key_load_code(rc, src->frommem, 1,
					    key_is_openssh(data, len)),
			      "unable to use the private key: %s",
			      why ? why : "unknown error");
		goto out;
	}
	/* libssh2 would sign anyway and have the server refuse the
	 * signature (PUBLICKEY_UNVERIFIED); we can tell sooner */
	if (key_public_matches(k, a->blob, a->bloblen, &cert)) {
		key_free(&s->a, k);
		k = NULL;
		rc = sess_err(s, LIBSSH2_ERROR_PUBLICKEY_UNVERIFIED,
			      "the public key is not the private key's, nor "
			      "a certificate of it");
		goto out;
	}
	*out = k;
out:
	if (file)
		la_free_wipe(&s->a, file, len);
	return rc;
}

/*
 * Queue the request: the query (no signature) or the signed one.  RFC
 * 4252 7: the signature covers string session id followed by the signed
 * request up to the signature; that is what a sign callback gets.
 */
static int pk_request(LIBSSH2_SESSION *s, const struct pk_args *a,
		      const uint8_t *sig, size_t siglen)
{
	struct wbuf *w = &s->tp.out;
	int rc;

	if ((rc = auth_request_begin(s, a->user, a->ulen, "publickey")))
		return rc;
	if (wb_bool(w, sig != NULL) || wb_cstring(w, a->alg) ||
	    wb_string(w, a->blob, a->bloblen) ||
	    (sig && wb_string(w, sig, siglen))) {
		tp_pkt_abort(&s->tp);
		return sess_err(s, LIBSSH2_ERROR_ALLOC, "out of memory");
	}
	return auth_request_end(s);
}

/* After PK_OK: sign, and send the signed request. */
static int pk_sign_and_send(LIBSSH2_SESSION *s, struct pk_args *a)
{
	struct key *own = NULL;
	const struct key *k = a->key;
	const char *sa = a->sigalg ? a->sigalg : a->alg;
	struct wbuf data;
	uint8_t *sig = NULL;
	size_t siglen = 0;
	int rc;

	if (!k && a->src) {
		if ((rc = pk_load(s, a, &own)))
			return rc;
		k = own;
	}
	wb_init(&data, &s->a, SSH_PACKET_MAX);
	if (wb_string(&data, s->kex.session_id, s->kex.sidlen) ||
	    wb_u8(&data, SSH_MSG_USERAUTH_REQUEST) ||
	    wb_string(&data, a->user, a->ulen) ||
	    wb_cstring(&data, "ssh-connection") ||
	    wb_cstring(&data, "publickey") || wb_bool(&data, 1) ||
	    wb_cstring(&data, a->alg) ||
	    wb_string(&data, a->blob, a->bloblen)) {
		rc = sess_err(s, LIBSSH2_ERROR_ALLOC, "out of memory");
		goto out;
	}
	if (k) {
		rc = key_sign(k, sa, data.p, data.len, &s->a, &sig, &siglen);
	} else {
		unsigned char *cs = NULL;
		size_t cl = 0;

		rc = a->cb(s, &cs, &cl, data.p, data.len, a->abstract);
		if (rc == LIBSSH2_ERROR_EAGAIN) {
			/* as libssh2: asked again on the next call */
			la_free(&s->a, cs);
			goto out;
		}
		if (rc == LIBSSH2_ERROR_ALGO_UNSUPPORTED && a->keytype &&
		    !s->auth.pk_plain) {
			la_free(&s->a, cs);
			rc = PK_RETRY_PLAIN;
			goto out;
		}
		sig = cs;
		siglen = cl;
		if (!rc && cs && a->cb_raw) {
			struct wbuf w;

			wb_init(&w, &s->a, SSH_PACKET_MAX);
			if (wb_cstring(&w, sa) || wb_string(&w, cs, cl))
				rc = LIBSSH2_ERROR_ALLOC;
			la_free(&s->a, cs);
			sig = w.p;
			siglen = w.len;
			if (rc) {
				wb_free(&w);
				sig = NULL;
			}
		}
	}
	if (rc || !sig) {
		rc = sess_err(s, LIBSSH2_ERROR_PUBLICKEY_UNVERIFIED,
			      "unable to sign with the key");
		goto out;
	}
	rc = pk_request(s, a, sig, siglen);
out:
	wb_free(&data);
	la_free(&s->a, sig);
	key_free(&s->a, own);
	return rc;
}

/* An attempt ends (whatever the outcome): the next call starts over. */
static int pk_end(LIBSSH2_SESSION *s, int rc)
{
	if (rc != LIBSSH2_ERROR_EAGAIN) {
		s->auth.pk_stage = PK_IDLE;
		s->auth.pending = 0;
		s->auth.pk_plain = 0;
	}
	return rc;
}

/* The reply to the query.  PK_OK echoes the algorithm and the key blob
 * (RFC 4252 7); as libssh2, we do not check the echo: the signed request
 * names the key again, and the server judges that. */
static int pk_query_reply(LIBSSH2_SESSION *s, struct pk_args *a)
{
	struct sess_pkt *p;
	int rc, type;

	if ((rc = auth_reply_wait(s, &p)))
		return pk_end(s, rc);
	type = p->data[0];
	if (type == SSH_MSG_USERAUTH_FAILURE)
		rc = auth_on_failure(s, p);
	la_free(&s->a, p);
	switch (type) {
	case SSH_MSG_USERAUTH_SUCCESS:
		auth_on_success(s);
		return pk_end(s, 0);
	case SSH_MSG_USERAUTH_FAILURE:
		return pk_end(
			s, rc ? rc
			      : sess_err(s, LIBSSH2_ERROR_AUTHENTICATION_FAILED,
					 "the server refused the key "
					 "(%s) for this user",
					 a->alg));
	case SSH_MSG_USERAUTH_PK_OK:
		TRACE(s, LIBSSH2_TRACE_AUTH, "the server takes a %s key",
		      a->alg);
		s->auth.pending = 0;
		s->auth.pk_stage = PK_SIGN;
		return 0;
	default:
		return pk_end(s, sess_err(s, LIBSSH2_ERROR_PROTO,
					  "unexpected reply %d to a publickey "
					  "query",
					  type));
	}
}

static int pk_step(LIBSSH2_SESSION *s, struct pk_args *a)
{
	struct sess_pkt *p;
	int rc, type;

	if ((rc = auth_service_step(s)))
		return rc;
again:
	if (s->auth.pk_stage == PK_IDLE) {
		if ((rc = pk_request(s, a, NULL, 0)))
			return pk_end(s, rc);
		s->auth.pk_stage = PK_QUERY;
	}
	if (s->auth.pk_stage == PK_QUERY) {
		/* refused, or logged in already: the attempt is over */
		if ((rc = pk_query_reply(s, a)) || s->auth.pk_stage == PK_IDLE)
			return rc;
	}
	if (s->auth.pk_stage == PK_SIGN) {
		rc = pk_sign_and_send(s, a);
		if (rc == PK_RETRY_PLAIN) {
			TRACE(s, LIBSSH2_TRACE_AUTH,
			      "the signer cannot make %s: offering %s", a->alg,
			      a->keytype);
			s->auth.pk_plain = 1;
			s->auth.pk_stage = PK_IDLE;
			a->alg = a->keytype;
			pk_set_sigalg(a);
			if (a->algp)
				*a->algp = NULL;
			goto again;
		}
		if (rc)
			return pk_end(s, rc);
		s->auth.pk_stage = PK_SIGNED;
	}
	if ((rc = auth_reply_wait(s, &p)))
		return pk_end(s, rc);
	type = p->data[0];
	if (type == SSH_MSG_USERAUTH_FAILURE)
		rc = auth_on_failure(s, p);
	la_free(&s->a, p);
	if (type == SSH_MSG_USERAUTH_SUCCESS) {
		auth_on_success(s);
		return pk_end(s, 0);
	}
	if (type == SSH_MSG_USERAUTH_FAILURE)
		return pk_end(
			s, rc ? rc
			      : sess_err(s, LIBSSH2_ERROR_PUBLICKEY_UNVERIFIED,
					 "the server refused the "
					 "signature of the key (%s)",
					 a->alg));
	return pk_end(s, sess_err(s, LIBSSH2_ERROR_PROTO,
				  "unexpected reply %d to a signed "
				  "publickey request",
				  type));
}

/* ---- a public key blob and a sign callback ------------------------------ */

static int publickey_cb(LIBSSH2_SESSION *s, const char *user, size_t ulen,
			const unsigned char *blob, size_t bloblen,
			const char **alg,
			LIBSSH2_USERAUTH_PUBLICKEY_SIGN_FUNC((*cb)),
			void **abstract, int cb_raw)
{
	struct pk_args a = {0};
	struct rbuf r;
	const char *type;
	size_t tn;
	char tname[PK_ALG_MAX];

	if (!user || !blob || !cb)
		return sess_err(s, LIBSSH2_ERROR_INVAL, "missing argument");
	rb_init(&r, blob, bloblen);
	/* libssh2 1.11.1: "Invalid public key" */
	if (rb_text(&r, &type, &tn, sizeof(tname) - 1))
		return sess_err(s, LIBSSH2_ERROR_PUBLICKEY_UNVERIFIED,
				"malformed public key blob");
	memcpy(tname, type, tn);
	tname[tn] = 0;
	if (s->auth.pk_plain) {
		/* an attempt that fell back to the key's type goes on
		 * (non-blocking) */
		if (alg)
			*alg = NULL;
	} else if (alg && !*alg) {
		/* server-sig-algs is in the EXT_INFO that follows NEWKEYS
		 * (RFC 8308 2.4), so it is known once the service is. */
		int rc = SESS_BLOCK(s, auth_service_step(s));
		const char *chosen;

		if (rc)
			return rc;
		chosen = sig_alg(s, tname);
		if (!chosen)
			return sess_err(s, LIBSSH2_ERROR_METHOD_NONE,
					"no signature algorithm for a %s key "
					"is acceptable to both sides",
					tname);
		if (chosen != tname)
			*alg = chosen;
	}
	a.user = user;
	a.ulen = ulen;
	a.blob = blob;
	a.bloblen = bloblen;
	a.alg = alg && *alg ? *alg : tname;
	a.keytype = tname;
	a.algp = alg;
	pk_set_sigalg(&a);
	a.cb = cb;
	a.abstract = abstract;
	a.cb_raw = cb_raw;
	return SESS_BLOCK(s, pk_step(s, &a));
}

int auth_publickey_alg(LIBSSH2_SESSION *s, const char *user, size_t ulen,
		       const unsigned char *blob, size_t bloblen,
		       const char **alg,
		       LIBSSH2_USERAUTH_PUBLICKEY_SIGN_FUNC((*cb)),
		       void **abstract)
{
	return publickey_cb(s, user, ulen, blob, bloblen, alg, cb, abstract, 0);
}

LIBSSH2_API int libssh2_userauth_publickey(
	LIBSSH2_SESSION *s, const char *username,
	const unsigned char *pubkeydata, size_t pubkeydata_len,
	LIBSSH2_USERAUTH_PUBLICKEY_SIGN_FUNC((*sign_callback)), void **abstract)
{
	const char *alg = NULL;

	/* As libssh2: an ssh-rsa key signs as rsa-sha2-512/256 when the
	 * server accepts them (the callback sees the algorithm in the data
	 * it signs) and returns the bare signature. */
	return publickey_cb(s, username, username ? strlen(username) : 0,
			    pubkeydata, pubkeydata_len, &alg, sign_callback,
			    abstract, 1);
}

/* ---- key files and key data -------------------------------------------- */

/* a->alg (and sigalg) for an offer of key type tname (a certificate's
 * type included), with the service up: server-sig-algs is known then. */
static int pk_choose_alg(LIBSSH2_SESSION *s, const char *tname,
			 struct pk_args *a)
{
	int rc = SESS_BLOCK(s, auth_service_step(s));

	if (rc)
		return rc;
	a->alg = sig_alg(s, tname);
	if (!a->alg)
		return sess_err(s, LIBSSH2_ERROR_METHOD_NONE,
				"no signature algorithm for a %s key is "
				"acceptable to both sides",
				tname);
	pk_set_sigalg(a);
	return 0;
}

/*
 * The public key given (file contents or data): the key offered, which
 * may be a certificate of the private key (libssh2: "the passed public
 * key takes precedence").  The private key is read after PK_OK.
 */
static int pk_with_pub(LIBSSH2_SESSION *s, const char *user, size_t ulen,
		       const char *pub, size_t publen, const struct pk_src *src)
{
	struct pk_args a = {0};
	const char *why = NULL, *type;
	char tname[PK_ALG_MAX];
	uint8_t *blob = NULL;
	struct rbuf r;
	size_t tn;
	int rc;

	rc = key_parse_public(&s->a, pub, publen, &blob, &a.bloblen, NULL,
			      &why);
	if (rc && rc != LIBSSH2_ERROR_ALLOC)
		rc = LIBSSH2_ERROR_FILE;
	if (rc)
		return sess_err(s, rc, "unable to use the public key: %s",
				why ? why : "invalid data");
	rb_init(&r, blob, a.bloblen);
	if (rb_text(&r, &type, &tn, sizeof(tname) - 1)) {
		rc = sess_err(s, LIBSSH2_ERROR_FILE,
			      "unable to use the public key: bad key type");
		goto out;
	}
	memcpy(tname, type, tn);
	tname[tn] = 0;
	a.user = user;
	a.ulen = ulen;
	a.blob = blob;
	a.src = src;
	if (!(rc = pk_choose_alg(s, tname, &a)))
		rc = SESS_BLOCK(s, pk_step(s, &a));
out:
	la_free(&s->a, blob);
	return rc;
}

/* No public key given: the private key's own, so the key is opened
 * (and decrypted) before anything is sent, as in libssh2. */
static int pk_from_private(LIBSSH2_SESSION *s, const char *user, size_t ulen,
			   const char *data, size_t len, const char *pass,
			   int frommem)
{
	struct pk_args a = {0};
	struct key *k = NULL;
	const char *why = NULL;
	int rc;

	rc = key_load_private(&s->a, data, len, pass, &k, &why);
	if (rc)
		return sess_err(s,
				key_load_code(rc, frommem, 0,
					      key_is_openssh(data, len)),
				"unable to use the private key: %s",
				why ? why : "unknown error");
	a.user = user;
	a.ulen = ulen;
	a.key = k;
	if (key_public_blob(k, &a.blob, &a.bloblen))
		rc = sess_err(s, LIBSSH2_ERROR_FILE, "no public key");
	else if (!(rc = pk_choose_alg(s, key_type_name(k), &a)))
		rc = SESS_BLOCK(s, pk_step(s, &a));
	key_free(&s->a, k);
	return rc;
}

LIBSSH2_API int libssh2_userauth_publickey_fromfile_ex(
	LIBSSH2_SESSION *s, const char *username, unsigned int username_len,
	const char *publickey, const char *privatekey, const char *passphrase)
{
	struct pk_src src = {.path = privatekey, .pass = passphrase};
	char *data = NULL;
	size_t len = 0;
	int rc;

	if (!privatekey)
		return sess_err(s, LIBSSH2_ERROR_FILE, "no private key file");
	if (publickey) {
		if ((rc = auth_read_file(s, publickey, &data, &len)))
			return rc;
		rc = pk_with_pub(s, username, username_len, data, len, &src);
		la_free(&s->a, data);
		return rc;
	}
	if ((rc = auth_read_file(s, privatekey, &data, &len)))
		return rc;
	rc = pk_from_private(s, username, username_len, data, len, passphrase,
			     0);
	la_free_wipe(&s->a, data, len);
	return rc;
}

LIBSSH2_API int libssh2_userauth_publickey_frommemory(
	LIBSSH2_SESSION *s, const char *username, size_t username_len,
	const char *publickeyfiledata, size_t publickeyfiledata_len,
	const char *privatekeyfiledata, size_t privatekeyfiledata_len,
	const char *passphrase)
{
	struct pk_src src = {.data = privatekeyfiledata,
			     .len = privatekeyfiledata_len,
			     .pass = passphrase,
			     .frommem = 1};

	if (!privatekeyfiledata)
		return sess_err(s, LIBSSH2_ERROR_FILE, "no private key data");
	/* as libssh2: the public key data counts when it has a length */
	if (publickeyfiledata && publickeyfiledata_len)
		return pk_with_pub(s, username, username_len, publickeyfiledata,
				   publickeyfiledata_len, &src);
	return pk_from_private(s, username, username_len, privatekeyfiledata,
			       privatekeyfiledata_len, passphrase, 1);
}

const char *auth_sig_alg(LIBSSH2_SESSION *s, const char *keytype)
{
	return sig_alg(s, keytype);
}
