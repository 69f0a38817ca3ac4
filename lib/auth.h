/*
 * auth.h - user authentication state of a session (RFC 4252).
 */
#ifndef SFTPMNT_AUTH_H
#define SFTPMNT_AUTH_H

#include "buf.h"

struct _LIBSSH2_SESSION;

struct auth_state {
	int service_sent;  /* SERVICE_REQUEST ssh-userauth queued */
	int service_ok;	   /* SERVICE_ACCEPT received */
	int pending;	   /* a USERAUTH_REQUEST awaits its reply */
	int authenticated; /* USERAUTH_SUCCESS received */
	char *list;	   /* methods from the last FAILURE */
	char *banner;	   /* the last USERAUTH_BANNER */
};

/* SSH_MSG_USERAUTH_BANNER, whenever it comes (RFC 4252 5.4). */
int auth_on_banner(struct _LIBSSH2_SESSION *s, struct rbuf *r);
void auth_free(struct _LIBSSH2_SESSION *s);

#endif
