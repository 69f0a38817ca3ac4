/*
 * auth_hostbased.c - host-based user authentication (RFC 4252 section
 * 9): libssh2_userauth_hostbased_fromfile_ex.
 *
 * The client host proves who it is with its host key; the server then
 * trusts it to name the user on the client (OpenSSH: HostbasedAuthentication,
 * the client host's key in ssh_known_hosts, and the host and user in
 * shosts.equiv or ~/.shosts).
 *
 *	byte	SSH_MSG_USERAUTH_REQUEST
 *	string	user name
 *	string	"ssh-connection"
 *	string	"hostbased"
 *	string	public key algorithm for host key
 *	string	public host key (and certificates) for client host
 *	string	client host name (FQDN, US-ASCII)
 *	string	user name on the client host (UTF-8)
 *	string	signature
 *
 * signed over string session identifier followed by everything before
 * the signature.
 */
#include <string.h>
#include <unistd.h>

#include "key.h"
#include "session.h"
#include "trace.h"

#define SSH_MSG_USERAUTH_REQUEST 50

/* Longest client host or user name we send. */
#define HB_NAME_MAX 1024

struct hb_args {
	const char *user, *host, *luser;
	size_t ulen, hlen, lulen;
	const struct key *key;
	const char *alg;
	const uint8_t *blob;
	size_t bloblen;
};

/* The fields after "hostbased", up to the signature. */
static int hb_fields(struct wbuf *w, const struct hb_args *a)
{
	return wb_cstring(w, a->alg) || wb_string(w, a->blob, a->bloblen) ||
	       wb_string(w, a->host, a->hlen) ||
	       wb_string(w, a->luser, a->lulen);
}

static int hb_send(LIBSSH2_SESSION *s, const struct hb_args *a)
{
	struct wbuf data;
	uint8_t *sig = NULL;
	size_t siglen = 0;
	int rc;

	wb_init(&data, &s->a, SSH_PACKET_MAX);
	if (wb_string(&data, s->kex.session_id, s->kex.sidlen) ||
	    wb_u8(&data, SSH_MSG_USERAUTH_REQUEST) ||
	    wb_string(&data, a->user, a->ulen) ||
	    wb_cstring(&data, "ssh-connection") ||
	    wb_cstring(&data, "hostbased") || hb_fields(&data, a)) {
		wb_free(&data);
		return sess_err(s, LIBSSH2_ERROR_ALLOC, "out of memory");
	}
	rc = key_sign(a->key, a->alg, data.p, data.len, &s->a, &sig, &siglen);
	wb_free(&data);
	if (rc)
		return sess_err(s, LIBSSH2_ERROR_PUBLICKEY_UNVERIFIED,
				"unable to sign with the host key (%s)",
				a->alg);
	if (!(rc = auth_request_begin(s, a->user, a->ulen, "hostbased"))) {
		if (hb_fields(&s->tp.out, a) ||
		    wb_string(&s->tp.out, sig, siglen)) {
			tp_pkt_abort(&s->tp);
			rc = sess_err(s, LIBSSH2_ERROR_ALLOC, "out of memory");
		} else {
			rc = auth_request_end(s);
		}
	}
	la_free(&s->a, sig);
	if (!rc)
		TRACE(s, LIBSSH2_TRACE_AUTH,
		      "hostbased request sent (%s, host %.*s, user %.*s)",
		      a->alg, (int)a->hlen, a->host, (int)a->lulen, a->luser);
	return rc;
}

static int hb_step(LIBSSH2_SESSION *s, const struct hb_args *a)
{
	int rc;

	if ((rc = auth_service_step(s)))
		return rc;
	if (!s->auth.pending && (rc = hb_send(s, a)))
		return rc;
	/* as libssh2: a refusal is LIBSSH2_ERROR_PUBLICKEY_UNVERIFIED */
	return auth_reply_step(s, LIBSSH2_ERROR_PUBLICKEY_UNVERIFIED,
			       "host-based authentication");
}

LIBSSH2_API int libssh2_userauth_hostbased_fromfile_ex(
	LIBSSH2_SESSION *s, const char *username, unsigned int username_len,
	const char *publickey, const char *privatekey, const char *passphrase,
	const char *hostname, unsigned int hostname_len,
	const char *local_username, unsigned int local_username_len)
{
	struct hb_args a = {username,	    hostname,
			    local_username, username_len,
			    hostname_len,   local_username_len,
			    NULL,	    NULL,
			    NULL,	    0};
	struct key *k = NULL;
	const char *why = NULL;
	char *data = NULL;
	size_t len = 0;
	int rc;

	if (!s)
		return LIBSSH2_ERROR_BAD_USE;
	if (!username || !hostname || !local_username ||
	    hostname_len > HB_NAME_MAX || local_username_len > HB_NAME_MAX)
		return sess_err(s, LIBSSH2_ERROR_INVAL,
				"hostbased: missing or too long name");
	/* The public key comes from the private one; a public key file,
	 * when named, must at least be there (as for publickey). */
	if (publickey && access(publickey, R_OK))
		return sess_err(s, LIBSSH2_ERROR_FILE,
				"unable to read the public key file %s",
				publickey);
	if (!privatekey)
		return sess_err(s, LIBSSH2_ERROR_FILE, "no private key file");
	if ((rc = auth_read_file(s, privatekey, &data, &len)))
		return rc;
	rc = key_load_private(&s->a, data, len, passphrase, &k, &why);
	la_free_wipe(&s->a, data, len);
	if (rc)
		return sess_err(s, rc, "unable to use the host key: %s",
				why ? why : "unknown error");
	/* server-sig-algs (RFC 8308) is known once the service is */
	rc = SESS_BLOCK(s, auth_service_step(s));
	if (rc)
		goto out;
	a.key = k;
	if (key_public_blob(k, &a.blob, &a.bloblen)) {
		rc = sess_err(s, LIBSSH2_ERROR_FILE, "no public key");
		goto out;
	}
	a.alg = auth_sig_alg(s, key_type_name(k));
	if (!a.alg) {
		rc = sess_err(s, LIBSSH2_ERROR_METHOD_NONE,
			      "no signature algorithm for a %s key is "
			      "acceptable to both sides",
			      key_type_name(k));
		goto out;
	}
	rc = SESS_BLOCK(s, hb_step(s, &a));
out:
	key_free(&s->a, k);
	return rc;
}
