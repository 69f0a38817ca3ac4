/*
 * auth.h - user authentication state of a session (RFC 4252).
 */
#ifndef SFTPMNT_AUTH_H
#define SFTPMNT_AUTH_H

#include "buf.h"
#include "libssh2.h"

struct _LIBSSH2_SESSION;

struct auth_state {
	int service_sent;  /* SERVICE_REQUEST ssh-userauth queued */
	int service_ok;	   /* SERVICE_ACCEPT received */
	int pending;	   /* a USERAUTH_REQUEST awaits its reply */
	int authenticated; /* USERAUTH_SUCCESS received */
	int pk_stage;	   /* how far a publickey attempt got (auth_pk.c) */
	int pk_plain;	   /* the signer refused the upgraded algorithm:
			      this attempt offers the key's own type */
	char *list;	   /* methods from the last FAILURE */
	char *banner;	   /* the last USERAUTH_BANNER */
};

/* SSH_MSG_USERAUTH_BANNER, whenever it comes (RFC 4252 5.4). */
int auth_on_banner(struct _LIBSSH2_SESSION *s, struct rbuf *r);
void auth_free(struct _LIBSSH2_SESSION *s);

/*
 * libssh2_userauth_publickey naming a signature algorithm other than the
 * key's type, for signers that can make more than one kind (an agent:
 * RFC 8332 rsa-sha2-* with an ssh-rsa key).  alg NULL: the key's type, as
 * libssh2_userauth_publickey.  *alg set: that name.  *alg NULL: the name
 * is chosen as for key files (rsa-sha2-512/256 for ssh-rsa when the
 * server accepts them) and stored in *alg (a static string) before cb
 * runs, or *alg stays NULL for the key's type.  cb returns the whole
 * signature blob (string algorithm, string signature) in memory from the
 * session's allocator.
 */
int auth_publickey_alg(struct _LIBSSH2_SESSION *s, const char *user,
		       size_t ulen, const unsigned char *blob, size_t bloblen,
		       const char **alg,
		       LIBSSH2_USERAUTH_PUBLICKEY_SIGN_FUNC((*cb)),
		       void **abstract);

/*
 * For authentication methods kept in other files: the ssh-userauth
 * service step, a USERAUTH_REQUEST's start (user, service, method) and
 * end (queued, s->auth.pending set), the signature algorithm for a key
 * type (RSA keys: rsa-sha2-*, as for publickey), a key file's contents
 * (free with la_free_wipe) and the wait for the reply: 0 when
 * authenticated, fail_code (message naming `what`) on FAILURE, EAGAIN or
 * another error.
 */
int auth_service_step(struct _LIBSSH2_SESSION *s);
int auth_request_begin(struct _LIBSSH2_SESSION *s, const char *user,
		       size_t ulen, const char *method);
int auth_request_end(struct _LIBSSH2_SESSION *s);
const char *auth_sig_alg(struct _LIBSSH2_SESSION *s, const char *keytype);
int auth_read_file(struct _LIBSSH2_SESSION *s, const char *path, char **out,
		   size_t *len);
int auth_reply_step(struct _LIBSSH2_SESSION *s, int fail_code,
		    const char *what);

/*
 * For auth_pk.c: the next reply to our request (USERAUTH_FAILURE up to
 * 79) or EAGAIN; a FAILURE's list of methods kept (0, or an error); a
 * SUCCESS recorded.
 */
struct sess_pkt;
int auth_reply_wait(struct _LIBSSH2_SESSION *s, struct sess_pkt **p);
int auth_on_failure(struct _LIBSSH2_SESSION *s, struct sess_pkt *p);
void auth_on_success(struct _LIBSSH2_SESSION *s);

#endif
