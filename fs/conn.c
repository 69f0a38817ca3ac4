/*
 * conn.c - one SSH connection: connect, verify the host key, log in,
 * start SFTP (all before the mount is offered, so a wrong key or host is
 * a clear error at the command line), then the I/O thread that owns the
 * session and runs every queued operation.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <stdarg.h>
#include <sys/eventfd.h>
#include <syslog.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "sftpmnt.h"

int tcp_connect(const struct opts *o, const char *host, int port, char *err,
		size_t errlen)
{
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM,
				  .ai_family = o->address_family },
			*res, *ai;
	int timeout_s = o->connect_timeout;
	char portstr[16];
	int fd = -1, rc, one = 1;

	snprintf(portstr, sizeof(portstr), "%d", port);
	rc = getaddrinfo(host, portstr, &hints, &res);
	if (rc) {
		snprintf(err, errlen, "cannot resolve %s: %s", host,
			 gai_strerror(rc));
		return -1;
	}
	for (ai = res; ai; ai = ai->ai_next) {
		struct timeval tv = { timeout_s, 0 };

		fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC,
			    ai->ai_protocol);
		if (fd < 0)
			continue;
		setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
		if (!connect(fd, ai->ai_addr, ai->ai_addrlen))
			break;
		snprintf(err, errlen, "cannot connect to %s port %d: %s", host,
			 port, strerror(errno));
		close(fd);
		fd = -1;
	}
	freeaddrinfo(res);
	if (fd >= 0)
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	return fd;
}

static int knownhost_keytype(int hostkey_type)
{
	switch (hostkey_type) {
	case LIBSSH2_HOSTKEY_TYPE_RSA:
		return LIBSSH2_KNOWNHOST_KEY_SSHRSA;
	case LIBSSH2_HOSTKEY_TYPE_ECDSA_256:
		return LIBSSH2_KNOWNHOST_KEY_ECDSA_256;
	case LIBSSH2_HOSTKEY_TYPE_ECDSA_384:
		return LIBSSH2_KNOWNHOST_KEY_ECDSA_384;
	case LIBSSH2_HOSTKEY_TYPE_ECDSA_521:
		return LIBSSH2_KNOWNHOST_KEY_ECDSA_521;
	case LIBSSH2_HOSTKEY_TYPE_ED25519:
		return LIBSSH2_KNOWNHOST_KEY_ED25519;
	}
	return LIBSSH2_KNOWNHOST_KEY_UNKNOWN;
}

/*
 * The server's host key against known_hosts, as ssh(1) does it: plain,
 * hashed (|1|), wildcard and negated names, "[host]:port" for other
 * ports, @revoked keys refused.  StrictHostKeyChecking=yes refuses an
 * unknown host, accept-new records it, no accepts anything.
 */
static int verify_host(LIBSSH2_SESSION *s, const struct opts *o, char *err,
		       size_t errlen)
{
	LIBSSH2_KNOWNHOSTS *kh;
	const char *key;
	char path[1024];
	size_t len;
	int type, rc;

	key = libssh2_session_hostkey(s, &len, &type);
	if (!key) {
		snprintf(err, errlen, "the server sent no host key");
		return -1;
	}
	if (o->known_hosts) {
		snprintf(path, sizeof(path), "%s", o->known_hosts);
	} else {
		const char *home = getenv("HOME");
		struct passwd *pw = home ? NULL : getpwuid(getuid());

		snprintf(path, sizeof(path), "%s/.ssh/known_hosts",
			 home ? home : pw ? pw->pw_dir : "/");
	}
	kh = libssh2_knownhost_init(s);
	if (!kh) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	/* a missing file is an empty one; a broken line stops the read
	 * but keeps what was read before it */
	(void)libssh2_knownhost_readfile(kh, path,
					 LIBSSH2_KNOWNHOST_FILE_OPENSSH);
	rc = libssh2_knownhost_checkp(kh, o->host, o->port, key, len,
				      LIBSSH2_KNOWNHOST_TYPE_PLAIN |
					      LIBSSH2_KNOWNHOST_KEYENC_RAW |
					      knownhost_keytype(type),
				      NULL);
	if (rc == LIBSSH2_KNOWNHOST_CHECK_MATCH) {
		libssh2_knownhost_free(kh);
		return 0;
	}
	if (rc == LIBSSH2_KNOWNHOST_CHECK_MISMATCH && o->strict_hostkey == 0) {
		/* as ssh: connect, say so loudly, and give no password to
		 * what may be somebody else's server */
		libssh2_knownhost_free(kh);
		fprintf(stderr, "sftpmnt: WARNING: the host key of %s port %d "
				"differs from the one in %s "
				"(StrictHostKeyChecking=no): connecting anyway, "
				"password login disabled\n",
			o->host, o->port, path);
		if (!o->foreground)
			syslog(LOG_WARNING, "the host key of %s port %d "
					    "differs from the one in %s: "
					    "connecting anyway "
					    "(StrictHostKeyChecking=no), "
					    "password login disabled",
			       o->host, o->port, path);
		return 1;
	}
	/* a new host: recorded with accept-new, and, as ssh does, with no */
	if (rc == LIBSSH2_KNOWNHOST_CHECK_NOTFOUND &&
	    (o->strict_hostkey == 2 || o->strict_hostkey == 0)) {
		char name[600];

		if (o->port == 22)
			snprintf(name, sizeof(name), "%s", o->host);
		else
			snprintf(name, sizeof(name), "[%s]:%d", o->host,
				 o->port);
		if (libssh2_knownhost_addc(kh, name, NULL, key, len, NULL, 0,
					   LIBSSH2_KNOWNHOST_TYPE_PLAIN |
						   LIBSSH2_KNOWNHOST_KEYENC_RAW |
						   knownhost_keytype(type),
					   NULL) ||
		    libssh2_knownhost_writefile(kh, path,
						LIBSSH2_KNOWNHOST_FILE_OPENSSH)) {
			libssh2_knownhost_free(kh);
			if (o->strict_hostkey == 0)
				return 0; /* (ssh goes on too) */
			snprintf(err, errlen, "cannot record the new host key "
					      "in %s", path);
			return -1;
		}
		libssh2_knownhost_free(kh);
		return 0;
	}
	libssh2_knownhost_free(kh);
	if (rc == LIBSSH2_KNOWNHOST_CHECK_MISMATCH) {
		snprintf(err, errlen,
			 "HOST KEY MISMATCH for %s port %d: the key in %s "
			 "differs from the server's (or is revoked); "
			 "refusing to connect",
			 o->host, o->port, path);
		return -1;
	}
	snprintf(err, errlen,
		 "the host key of %s port %d is not in %s (add it with "
		 "ssh-keyscan, connect once with ssh, or use "
		 "-o StrictHostKeyChecking=accept-new)",
		 o->host, o->port, path);
	return -1;
}

/* Keys held by ssh-agent ($SSH_AUTH_SOCK or IdentityAgent), as ssh
 * tries them before key files.  0 when one was accepted. */
static int login_agent(LIBSSH2_SESSION *s, const struct opts *o)
{
	struct libssh2_agent_publickey *id = NULL;
	LIBSSH2_AGENT *ag;
	int rc = -1;

	if (o->identities_only == 1 ||
	    (o->identity_agent && !strcmp(o->identity_agent, "none")))
		return -1;
	if (!o->identity_agent && !getenv("SSH_AUTH_SOCK"))
		return -1;
	ag = libssh2_agent_init(s);
	if (!ag)
		return -1;
	if (o->identity_agent)
		libssh2_agent_set_identity_path(ag, o->identity_agent);
	if (!libssh2_agent_connect(ag) && !libssh2_agent_list_identities(ag)) {
		while (libssh2_agent_get_identity(ag, &id, id) == 0) {
			if (!libssh2_agent_userauth(ag, o->user, id)) {
				rc = 0;
				break;
			}
		}
		libssh2_agent_disconnect(ag);
	}
	libssh2_agent_free(ag);
	return rc;
}

/* keyboard-interactive: every prompt that does not echo gets the password
 * (the usual single "Password:"), which password_try put in the session's
 * abstract pointer (sessions of several threads log in at once). */
static LIBSSH2_USERAUTH_KBDINT_RESPONSE_FUNC(kbd_answer)
{
	const char *pw = *abstract;
	int i;

	(void)name;
	(void)name_len;
	(void)instruction;
	(void)instruction_len;
	for (i = 0; i < num_prompts; i++) {
		if (prompts[i].echo || !pw)
			continue;
		responses[i].text = strdup(pw);
		responses[i].length =
			responses[i].text ? (unsigned)strlen(pw) : 0;
	}
}

static int password_try(LIBSSH2_SESSION *s, const struct opts *o,
			const char *list, const char *pw)
{
	if (strstr(list, "password") &&
	    !libssh2_userauth_password(s, o->user, pw))
		return 0;
	if (strstr(list, "keyboard-interactive")) {
		void **abstract = libssh2_session_abstract(s);
		int rc;

		*abstract = (void *)pw;
		rc = libssh2_userauth_keyboard_interactive(s, o->user,
							   kbd_answer);
		*abstract = NULL;
		if (!rc)
			return 0;
	}
	return -1;
}

/* Password or keyboard-interactive login: the password_stdin password;
 * else, as ssh, one asked for on the terminal or through SSH_ASKPASS
 * (three tries), kept for reconnects (there is no terminal then). */
static int login_password(LIBSSH2_SESSION *s, const struct opts *o,
			  char *note, size_t notelen)
{
	char key[700], prompt[700], list[512], *pw;
	const char *l;
	size_t n;
	int tries;

	/* (a copy: a failed attempt replaces the session's list) */
	l = libssh2_userauth_list(s, o->user, (unsigned)strlen(o->user));
	if (libssh2_userauth_authenticated(s))
		return 0;
	snprintf(list, sizeof(list), "%s", l ? l : "");
	if (!strstr(list, "password") && !strstr(list, "keyboard-interactive"))
		return -1;
	if (o->password)
		return password_try(s, o, list, o->password);
	/* (a name no key file has: kept next to the key passphrases) */
	snprintf(key, sizeof(key), "\npassword %s@%s:%d", o->user, o->host,
		 o->port);
	if ((pw = keypass_get(key))) {
		int rc = password_try(s, o, list, pw);

		askpass_free(pw);
		if (!rc)
			return 0;
	}
	snprintf(prompt, sizeof(prompt), "%s@%s's password: ", o->user,
		 o->host);
	for (tries = 0; tries < 3; tries++) {
		if (!(pw = askpass(prompt))) {
			n = strlen(note);
			if (tries == 0)
				snprintf(note + n, notelen - n,
					 "%sno password could be asked for "
					 "(no terminal, no SSH_ASKPASS; "
					 "password_stdin reads one)",
					 n ? "; " : "");
			return -1;
		}
		if (!password_try(s, o, list, pw)) {
			keypass_keep(key, pw);
			askpass_free(pw);
			return 0;
		}
		askpass_free(pw);
	}
	return -1;
}

/* As ssh: a private key file of ours that others may read is not used
 * (whoever could read it may have copied it).  0 usable, -1 not (why is
 * appended to note). */
static int key_private(const char *path, char *note, size_t notelen)
{
	struct stat st;
	size_t n = strlen(note);

	if (stat(path, &st) || st.st_uid != getuid() || !(st.st_mode & 077))
		return 0;
	snprintf(note + n, notelen - n,
		 "%s%s is ignored: permissions %04o are too open (chmod 600 "
		 "it, as ssh requires)",
		 n ? "; " : "", path, (unsigned)(st.st_mode & 07777));
	return -1;
}

/*
 * Public key authentication with key file path, offering its OpenSSH
 * certificate when there is one (CertificateFile, else path-cert.pub, as
 * ssh does); a certificate the server does not take is followed by the
 * plain key.  0, or libssh2's error (the session's message says which).
 */
static int pk_login(LIBSSH2_SESSION *s, const struct opts *o,
		    const char *path, const char *pass)
{
	char cert[1100];
	const char *pub = o->certificate;
	char *msg;

	if (!pub && snprintf(cert, sizeof(cert), "%s-cert.pub", path) <
			    (int)sizeof(cert) &&
	    !access(cert, R_OK))
		pub = cert;
	if (pub) {
		if (!libssh2_userauth_publickey_fromfile(s, o->user, pub, path,
							 pass))
			return 0;
		libssh2_session_last_error(s, &msg, NULL, 0);
		if (msg && strstr(msg, "passphrase"))
			return -1; /* the plain key needs it as well */
	}
	/* with its .pub beside it the server is asked first whether it
	 * takes the key: a key it refuses needs no passphrase (as ssh) */
	pub = NULL;
	if (snprintf(cert, sizeof(cert), "%s.pub", path) < (int)sizeof(cert) &&
	    !access(cert, R_OK))
		pub = cert;
	return libssh2_userauth_publickey_fromfile(s, o->user, pub, path,
						   pass);
}

/* Public key authentication with one key file.  An encrypted one is
 * opened with the passphrase that opened it before (a reconnect), or one
 * asked for on the terminal or through SSH_ASKPASS (three tries, as ssh
 * gives); note says why a key was not used. */
static int try_key(LIBSSH2_SESSION *s, const struct opts *o,
		   const char *path, char *note, size_t notelen)
{
	char prompt[1200], *pass, *msg;
	size_t n;
	int tries;

	if (key_private(path, note, notelen))
		return -1;
	pass = keypass_get(path);
	if (!pk_login(s, o, path, pass))
		goto ok;
	askpass_free(pass);
	libssh2_session_last_error(s, &msg, NULL, 0);
	if (!msg || !strstr(msg, "passphrase"))
		return -1; /* refused, or not a key we can read */
	snprintf(prompt, sizeof(prompt), "Enter passphrase for key '%s': ",
		 path);
	for (tries = 0; tries < 3; tries++) {
		if (!(pass = askpass(prompt))) {
			n = strlen(note);
			snprintf(note + n, notelen - n,
				 "%s%s is encrypted and no passphrase could "
				 "be asked for (no terminal, no SSH_ASKPASS; "
				 "use ssh-agent)",
				 n ? "; " : "", path);
			return -1;
		}
		if (!pk_login(s, o, path, pass))
			goto ok;
		askpass_free(pass);
		libssh2_session_last_error(s, &msg, NULL, 0);
		if (!msg || !strstr(msg, "wrong passphrase"))
			return -1;
	}
	n = strlen(note);
	snprintf(note + n, notelen - n, "%s%s: wrong passphrase",
		 n ? "; " : "", path);
	return -1;
ok:
	if (pass) /* for the next login (reconnect: no terminal then) */
		keypass_keep(path, pass);
	askpass_free(pass);
	return 0;
}

/* Agent, key files, then a password (not after a host key mismatch
 * accepted with StrictHostKeyChecking=no: keys_only). */
static int login(LIBSSH2_SESSION *s, const struct opts *o, int keys_only,
		 char *err, size_t errlen)
{
	const char *home = getenv("HOME");
	static const char *const defaults[] = { "id_ed25519", "id_ecdsa",
						"id_rsa" };
	char path[1024], note[1024] = "", *msg;
	int i;

	if (!login_agent(s, o))
		return 0;
	for (i = 0; i < o->nidentity; i++)
		if (!try_key(s, o, o->identity[i], note, sizeof(note)))
			return 0;
	if (o->nidentity == 0 && home) {
		for (i = 0; i < 3; i++) {
			snprintf(path, sizeof(path), "%s/.ssh/%s", home,
				 defaults[i]);
			if (!access(path, R_OK) &&
			    !try_key(s, o, path, note, sizeof(note)))
				return 0;
		}
	}
	if (!keys_only && !login_password(s, o, note, sizeof(note)))
		return 0;
	libssh2_session_last_error(s, &msg, NULL, 0);
	snprintf(err, errlen, "authentication as %s failed: %s%s%s", o->user,
		 msg && *msg ? msg : "no usable key", *note ? "; " : "", note);
	return -1;
}

/* Messages of the running daemon: stderr in the foreground, syslog once
 * detached (its stderr is /dev/null then). */
void conn_log(struct conn *c, int prio, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	if (c->o->foreground) {
		fputs("sftpmnt: ", stderr);
		if (c->idx)
			fprintf(stderr, "[connection %d] ", c->idx + 1);
		vfprintf(stderr, fmt, ap);
		fputc('\n', stderr);
	} else {
		vsyslog(prio, fmt, ap);
	}
	va_end(ap);
}

int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* SSH over a connected socket: algorithms as configured, handshake, host
 * key, login.  The session, or NULL after a message in err (the socket
 * stays the caller's).  The jump host's session is made the same way. */
/*
 * With AES-NI and carry-less multiplication AES-GCM is the fastest
 * cipher at both ends (our fast path; OpenSSL in sshd): 1.4-1.8x
 * chacha20-poly1305 through a mount at no added latency.  So it goes
 * first unless Ciphers= says otherwise; elsewhere the library's order
 * (chacha20-poly1305 first) stands.
 */
const char *default_ciphers(void)
{
#if defined(__x86_64__) || defined(__i386__)
	if (__builtin_cpu_supports("aes") && __builtin_cpu_supports("pclmul"))
		return "aes128-gcm@openssh.com,aes256-gcm@openssh.com,"
		       "chacha20-poly1305@openssh.com,aes128-ctr,aes192-ctr,"
		       "aes256-ctr";
#endif
	return NULL;
}

LIBSSH2_SESSION *ssh_start(const struct opts *o, int sock, char *err,
			   size_t errlen)
{
	const char *ciphers = o->ciphers ? o->ciphers : default_ciphers();
	LIBSSH2_SESSION *s = libssh2_session_init();
	char *msg;
	int hk;

	if (!s) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	libssh2_session_set_timeout(s, (long)o->connect_timeout * 1000);
	if (o->rekey_set)
		(void)libssh2_session_rekey_limit(s, o->rekey_bytes,
						  o->rekey_secs);
	if (o->compression == 1)
		libssh2_session_flag(s, LIBSSH2_FLAG_COMPRESS, 1);
	if ((ciphers && (libssh2_session_method_pref(
				 s, LIBSSH2_METHOD_CRYPT_CS, ciphers) ||
			 libssh2_session_method_pref(
				 s, LIBSSH2_METHOD_CRYPT_SC, ciphers))) ||
	    (o->kex &&
	     libssh2_session_method_pref(s, LIBSSH2_METHOD_KEX, o->kex)) ||
	    (o->hostkeyalgs &&
	     libssh2_session_method_pref(s, LIBSSH2_METHOD_HOSTKEY,
					 o->hostkeyalgs)) ||
	    (o->macs && (libssh2_session_method_pref(s, LIBSSH2_METHOD_MAC_CS,
						     o->macs) ||
			 libssh2_session_method_pref(s, LIBSSH2_METHOD_MAC_SC,
						     o->macs)))) {
		libssh2_session_last_error(s, &msg, NULL, 0);
		snprintf(err, errlen, "bad algorithm option: %s", msg);
		goto fail;
	}
	if (libssh2_session_handshake(s, sock)) {
		libssh2_session_last_error(s, &msg, NULL, 0);
		snprintf(err, errlen, "SSH handshake with %s failed: %s",
			 o->host, msg);
		goto fail;
	}
	/* A server that comes back with another host key is refused just
	 * like at mount time: never silently accepted. */
	if ((hk = verify_host(s, o, err, errlen)) < 0 ||
	    login(s, o, hk == 1, err, errlen))
		goto fail;
	return s;
fail:
	libssh2_session_free(s);
	return NULL;
}

/* One connection attempt: TCP (or a channel through the jump host), SSH,
 * host key, login, SFTP.  On success c->sock/s/sftp/core are the new
 * ones. */
static int connect_once(struct conn *c, char *err, size_t errlen)
{
	struct opts *o = c->o, quick;
	int64_t due = INT64_MAX;
	struct op *op;
	char *msg;

	/* The attempt runs on this thread, which meanwhile expires no op:
	 * it may take no longer than the oldest waiting op may still wait
	 * (a server that accepts and says nothing held them for two whole
	 * ConnectTimeouts past their op_timeout). */
	for (op = c->parked; op; op = op->next)
		if (op->born_ms + (int64_t)o->op_timeout * 1000 < due)
			due = op->born_ms + (int64_t)o->op_timeout * 1000;
	if (due != INT64_MAX && (due - now_ms()) / 1000 < o->connect_timeout) {
		quick = *o;
		quick.connect_timeout = (int)((due - now_ms()) / 1000) + 1;
		if (quick.connect_timeout < 1)
			quick.connect_timeout = 1;
		o = &quick;
	}
	c->sock = o->jump ? jump_open(o->jump, o->host, o->port, err, errlen)
			  : tcp_connect(o, o->host, o->port, err, errlen);
	if (c->sock < 0)
		return -1;
	c->s = ssh_start(o, c->sock, err, errlen);
	if (!c->s)
		goto fail;
	if (o->debug)
		conn_log(c, LOG_DEBUG, "%s: key exchange %s, host key %s, "
				     "cipher %s, mac %s",
		       o->host, libssh2_session_methods(c->s, LIBSSH2_METHOD_KEX),
		       libssh2_session_methods(c->s, LIBSSH2_METHOD_HOSTKEY),
		       libssh2_session_methods(c->s, LIBSSH2_METHOD_CRYPT_CS),
		       libssh2_session_methods(c->s, LIBSSH2_METHOD_MAC_CS));
	c->sftp = libssh2_sftp_init(c->s);
	if (!c->sftp) {
		libssh2_session_last_error(c->s, &msg, NULL, 0);
		snprintf(err, errlen, "cannot start SFTP: %s", msg);
		goto fail;
	}
	c->core = sftp_core_of(c->sftp);
	if (o->max_read && (uint32_t)o->max_read < c->core->max_read)
		c->core->max_read = (uint32_t)o->max_read;
	if (o->max_write && (uint32_t)o->max_write < c->core->max_write)
		c->core->max_write = (uint32_t)o->max_write;
	libssh2_keepalive_config(c->s, 1, (unsigned)o->alive_interval);
	return 0;
fail:
	if (c->s)
		libssh2_session_free(c->s);
	c->s = NULL;
	close(c->sock);
	c->sock = -1;
	return -1;
}

static void drop_session(struct conn *c);

int conn_open(struct conn *c, struct opts *o, char *err, size_t errlen)
{
	char buf[4096];
	int rc;

	c->o = o;
	if (connect_once(c, err, errlen))
		return -1;
	/* The mount's root: the remote directory resolved to an absolute
	 * path (relative names start at the login directory). */
	rc = libssh2_sftp_realpath(c->sftp, o->rdir[0] ? o->rdir : ".", buf,
				   sizeof(buf));
	if (rc < 0) {
		snprintf(err, errlen, "remote directory %s: %s",
			 o->rdir[0] ? o->rdir : "(home)",
			 libssh2_sftp_last_error(c->sftp) ==
					 LIBSSH2_FX_NO_SUCH_FILE
				 ? "no such directory"
				 : "cannot resolve");
		drop_session(c);
		return -1;
	}
	c->home = strdup(buf);
	c->gen = 1;
	/* who we are on the server (idmap=user): the owner of the login
	 * directory */
	{
		LIBSSH2_SFTP_ATTRIBUTES a;

		if (!libssh2_sftp_stat(c->sftp, ".", &a) &&
		    (a.flags & LIBSSH2_SFTP_ATTR_UIDGID)) {
			c->remote_uid = (uint32_t)a.uid;
			c->remote_gid = (uint32_t)a.gid;
			c->remote_uid_known = 1;
		}
	}
	return c->home ? 0 : -1;
}

/* ---- the I/O thread ------------------------------------------------------ */

void conn_submit(struct conn *c, struct op *op)
{
	uint64_t one = 1;

	op->c = c;
	op->next = NULL;
	pthread_mutex_lock(&c->qlock);
	*c->qtail = op;
	c->qtail = &op->next;
	pthread_mutex_unlock(&c->qlock);
	if (write(c->wakefd, &one, sizeof(one)) < 0)
		conn_log(c, LOG_ERR, "eventfd: %s", strerror(errno));
}

static struct op *take_queue(struct conn *c)
{
	struct op *q;

	pthread_mutex_lock(&c->qlock);
	q = c->qhead;
	c->qhead = NULL;
	c->qtail = &c->qhead;
	pthread_mutex_unlock(&c->qlock);
	return q;
}

/* c->parked is kept newest first by arrival (op->seq), whatever order
 * the ops die in: a write dies when the last of its requests does, and
 * the channels fail theirs one after the other, so an older write with
 * a piece on a stripe could die after a newer one of the same bytes on
 * the main channel; started again in that order it overwrote the newer
 * data.  They nearly always park in order: the walk is short. */
void conn_park(struct conn *c, struct op *op)
{
	struct op **pp = &c->parked;

	op_unhold(op); /* (what it held parks after it) */
	op->parked = 1;
	while (*pp && (*pp)->seq > op->seq)
		pp = &(*pp)->next;
	op->next = *pp;
	*pp = op;
}

static void drop_extra(struct conn *c)
{
	int i;

	/* (only with the session: the channels go with it) */
	for (i = 0; i < c->nxo; i++)
		sftp_open_drop(c->xopening[i], 1);
	c->nxo = 0;
	for (i = 0; i < c->nx; i++) {
		sftp_open_drop(c->xsftp[i], 1);
		c->xsftp[i] = NULL;
		c->xcore[i] = NULL;
	}
	c->nx = 0;
	c->x_want = 0;
}

/* Open the extra channels the striped writes will use, all at once and
 * without blocking (each takes three round trips: CHANNEL_OPEN, the
 * subsystem request, SFTP INIT; one after the other they took 18 round
 * trips, which a large write right after mounting waited for). */
static void open_extra(struct conn *c)
{
	int want = c->o->write_channels - 1, i, rc;
	LIBSSH2_SFTP *sf;

	if (want > XCH_MAX)
		want = XCH_MAX;
	if (!c->x_want || c->dead)
		return;
	while (!c->x_failed && c->nx + c->nxo < want) {
		if (!(sf = sftp_open_begin(c->s))) {
			c->x_failed = 1;
			break;
		}
		c->xopening[c->nxo++] = sf;
	}
	for (i = 0; i < c->nxo;) {
		sf = c->xopening[i];
		rc = sftp_open_step(sf);
		if (rc == LIBSSH2_ERROR_EAGAIN) {
			i++;
			continue;
		}
		c->xopening[i] = c->xopening[--c->nxo];
		if (rc) {
			char *msg;

			libssh2_session_last_error(c->s, &msg, NULL, 0);
			if (!c->x_failed)
				conn_log(c, LOG_NOTICE,
				       "no more SFTP channels (%s): writes "
				       "use %d",
				       msg, c->nx + 1);
			c->x_failed = 1; /* (MaxSessions): no more tries */
			sftp_open_drop(sf, 0);
			continue;
		}
		c->xsftp[c->nx] = sf;
		c->xcore[c->nx] = sftp_core_of(sf);
		if (c->xcore[c->nx]->max_write > c->core->max_write)
			c->xcore[c->nx]->max_write = c->core->max_write;
		c->nx++;
	}
}

static void drop_session(struct conn *c)
{
	drop_extra(c);
	/* The session goes next, and its channels with it: no close to wait
	 * for.  (libssh2_sftp_shutdown would wait for the server's CLOSE:
	 * non-blocking, it returned EAGAIN before freeing anything, and a
	 * connection dropped while the server was still there leaked its
	 * SFTP sessions.) */
	if (c->sftp)
		sftp_open_drop(c->sftp, 1);
	if (c->s)
		libssh2_session_free(c->s);
	if (c->sock >= 0)
		close(c->sock);
	c->sftp = NULL;
	c->s = NULL;
	c->core = NULL;
	c->sock = -1;
}

/* The link is gone: every request in flight dies (their ops are parked
 * for a restart, or fail when reconnect=no), and reconnecting starts. */
static void on_dead(struct conn *c, int rc, const char *why)
{
	conn_log(c, LOG_WARNING, "connection to %s lost: %s%s", c->o->host, why,
	       c->o->reconnect ? "; reconnecting" : "");
	c->dead = rc ? rc : LIBSSH2_ERROR_SOCKET_DISCONNECT;
	__atomic_store_n(&c->up, 0, __ATOMIC_RELEASE);
	sftp_core_abort(c->core, LIBSSH2_ERROR_SOCKET_DISCONNECT);
	{
		int i;

		for (i = 0; i < c->nx; i++)
			sftp_core_abort(c->xcore[i],
					LIBSSH2_ERROR_SOCKET_DISCONNECT);
	}
	c->next_try_ms = now_ms();
	c->backoff_ms = 250;
	c->ka_sent = 0;
}

static void expire_parked(struct conn *c);

static void try_reconnect(struct conn *c)
{
	struct op *q;
	char err[1024];

	if (now_ms() < c->next_try_ms)
		return;
	expire_parked(c); /* (what is due fails now, not after the attempt) */
	drop_session(c);
	if (connect_once(c, err, sizeof(err))) {
		conn_log(c, LOG_WARNING, "reconnect failed: %s", err);
		c->next_try_ms = now_ms() + c->backoff_ms;
		c->backoff_ms = c->backoff_ms >= 16000 ? 30000 : c->backoff_ms * 2;
		return;
	}
	libssh2_session_set_blocking(c->s, 0);
	c->gen++;
	c->dead = 0;
	/* (a secondary only reads: no channels for striped writes) */
	c->x_want = c->o->write_channels > 1 && !c->o->ro && !c->primary;
	if (c->primary && c->gen == 1)
		conn_log(c, LOG_DEBUG, "connected to %s", c->o->host);
	else
		conn_log(c, LOG_NOTICE, "reconnected to %s", c->o->host);
	__atomic_store_n(&c->up, 1, __ATOMIC_RELEASE);
	/* restart what waited, oldest first */
	q = c->parked;
	c->parked = NULL;
	{
		struct op *rev = NULL, *nx;

		for (; q; q = nx) {
			nx = q->next;
			q->next = rev;
			rev = q;
		}
		q = rev;
	}
	while (q) {
		struct op *nx = q->next;

		op_start(c, q);
		q = nx;
	}
}

/* Ops that waited longer than op_timeout for the link fail. */
static void expire_parked(struct conn *c)
{
	int64_t limit = now_ms() - (int64_t)c->o->op_timeout * 1000;
	struct op **pp = &c->parked;

	while (*pp) {
		struct op *op = *pp;

		if (c->o->reconnect && op->born_ms > limit) {
			pp = &op->next;
			continue;
		}
		*pp = op->next;
		op->next = NULL;
		op_give_up(op, c->o->reconnect ? ETIMEDOUT : ENOTCONN);
	}
}

/* Dead-peer detection: a keepalive after interval seconds of silence,
 * the link declared dead after interval * (count + 1). */
static void check_alive(struct conn *c)
{
	int64_t idle;
	int next;

	if (c->dead || !c->o->alive_interval)
		return;
	idle = sftp_core_idle_ms(c->core);
	if (idle < (int64_t)c->o->alive_interval * 1000) {
		c->ka_sent = 0;
		return;
	}
	if (idle > (int64_t)c->o->alive_interval * 1000 *
			   (c->o->alive_count + 1)) {
		on_dead(c, LIBSSH2_ERROR_TIMEOUT, "the server stopped answering");
		return;
	}
	if (libssh2_keepalive_send(c->s, &next) == 0)
		c->ka_sent = 1;
}

/* Run every SFTP channel of the session until none can go on without
 * the socket: a run of one may read what another is waiting for.  0,
 * EAGAIN, or the first fatal error (the session is then dead: every
 * channel shares it). */
static int run_cores(struct conn *c)
{
	int pass, i, rc, again;

	for (pass = 0; pass < 64; pass++) {
		again = 0;
		for (i = -1; i < c->nx; i++) {
			struct sftp_core *core = i < 0 ? c->core : c->xcore[i];

			do
				rc = sftp_core_run(core);
			while (rc == 0 && core->inflight > 0);
			if (rc && rc != LIBSSH2_ERROR_EAGAIN)
				return rc;
		}
		for (i = -1; i < c->nx && !again; i++)
			again = sftp_core_ready(i < 0 ? c->core : c->xcore[i]);
		if (!again)
			break;
	}
	return LIBSSH2_ERROR_EAGAIN;
}

/* Reads on a secondary that wait for the primary's writes of their file
 * to be answered (rwait), and the primary's writes held meanwhile
 * (gwait; ops.c parks both): started again, to wait again or go. */
static void rwait_run(struct conn *c, struct op **list)
{
	struct op *q = *list, *nx;

	*list = NULL;
	for (; q; q = nx) {
		nx = q->next;
		op_start(c, q);
	}
}

/* Nothing in flight or waiting to go on any channel. */
static int cores_idle(const struct conn *c)
{
	int i;

	for (i = -1; i < c->nx; i++) {
		const struct sftp_core *k = i < 0 ? c->core : c->xcore[i];

		if (k->inflight || k->out.len)
			return 0;
	}
	return 1;
}

static void *io_thread(void *arg)
{
	struct conn *c = arg;
	uint64_t v;

	/* stopping: the unlinks answered early still go to the server */
	while (!c->stop ||
	       (ub_inflight(c) && !c->dead && now_ms() < c->stop_by)) {
		struct pollfd p[2] = { { .fd = c->wakefd, .events = POLLIN },
				       { .fd = c->sock, .events = POLLIN } };
		struct op *q = take_queue(c), *nx;
		int rc = 0, dirs, timeout, resumed;

		if (!c->hold && c->held) { /* (op_unhold): before the new */
			*c->held_tail = q;
			q = c->held;
			c->held = NULL;
			c->held_tail = &c->held;
		}

		for (; q; q = nx) {
			nx = q->next;
			q->born_ms = now_ms();
			op_start(c, q);
		}
		/* (before the cores run: what goes on now is sent at once) */
		if (c->rwait)
			rwait_run(c, &c->rwait);
		if (c->gwait) /* (writes held for such reads: the primary) */
			rwait_run(c, &c->gwait);
		if (!c->dead) {
			open_extra(c);
			rc = run_cores(c);
			/* readable with nothing in flight: the server said
			 * something (or hung up: its EOF would spin poll) */
			if (rc == LIBSSH2_ERROR_EAGAIN && c->rx_ready &&
			    cores_idle(c))
				rc = sftp_core_poll(c->core);
			if (rc && rc != LIBSSH2_ERROR_EAGAIN) {
				char *msg;

				libssh2_session_last_error(c->s, &msg, NULL, 0);
				on_dead(c, rc, msg);
			}
		}
		resumed = 0;
		if (c->dead && (c->o->reconnect || c->primary)) {
			try_reconnect(c);
			resumed = !c->dead; /* its restarted ops: sent next */
		}
		if (c->parked)
			expire_parked(c);
		if (c->active)
			op_expire(c);
		check_alive(c);
		/* wake at least once a second while anything can time out */
		timeout = c->dead || c->parked ||
					  (c->core && c->core->inflight) ||
					  c->o->alive_interval
				  ? 1000
				  : -1;
		if (c->rwait || c->gwait) /* (re-examined: the other
					    * connection's writes or reads
					    * end meanwhile) */
			timeout = 2;
		if (resumed || (!c->hold && c->held))
			timeout = 0;
		if (c->dead) {
			int64_t wait = c->next_try_ms - now_ms();

			timeout = wait < 0 ? 0 : wait > 1000 ? 1000 : (int)wait;
		} else {
			dirs = libssh2_session_block_directions(c->s);
			if (dirs & LIBSSH2_SESSION_BLOCK_OUTBOUND)
				p[1].events |= POLLOUT;
		}
		if (poll(p, c->dead ? 1 : 2, timeout) < 0 && errno != EINTR)
			break;
		c->rx_ready = !c->dead && (p[1].revents & (POLLIN | POLLHUP |
							   POLLERR));
		if (p[0].revents & POLLIN)
			if (read(c->wakefd, &v, sizeof(v)) < 0)
				v = 0;
	}
	return NULL;
}

int conn_start(struct conn *c)
{
	if (!c->o->foreground)
		openlog("sftpmnt", LOG_PID, LOG_DAEMON);
	askpass_stop(); /* reconnects use the kept passphrases only */
	if (c->o->jump && jump_start())
		conn_log(c, LOG_WARNING, "the ProxyJump thread did not start");
	c->wakefd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (c->wakefd < 0)
		return -1;
	pthread_mutex_init(&c->qlock, NULL);
	c->qhead = NULL;
	c->qtail = &c->qhead;
	c->held_tail = &c->held;
	libssh2_session_set_blocking(c->s, 0);
	/* the extra channels for striped writes open in the background
	 * (a few round trips each, and the server starts a process for
	 * each: opened when the first large write needs them, they held
	 * it back 0.8 s at 50 ms), so they are there for it; not on a
	 * read-only mount (op_open_link opens them if a writer comes) */
	c->x_want = c->o->write_channels > 1 && !c->o->ro;
	return pthread_create(&c->thread, NULL, io_thread, c) ? -1 : 0;
}

int conn_start_secondaries(struct conn *p)
{
	int k;

	for (k = 1; k < p->o->max_conns && k < CONN_MAX; k++) {
		struct conn *c = calloc(1, sizeof(*c));

		if (!c)
			return -1;
		c->o = p->o;
		c->it = p->it;
		c->se = p->se;
		c->sock = -1;
		c->primary = p;
		c->idx = k;
		c->home = strdup(p->home);
		c->remote_uid = p->remote_uid;
		c->remote_gid = p->remote_gid;
		c->remote_uid_known = p->remote_uid_known;
		/* connects in its I/O thread, as a reconnect does */
		c->dead = LIBSSH2_ERROR_SOCKET_DISCONNECT;
		c->next_try_ms = now_ms();
		c->backoff_ms = 250;
		c->wakefd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
		if (!c->home || c->wakefd < 0) {
			free(c->home);
			if (c->wakefd >= 0)
				close(c->wakefd);
			free(c);
			return -1;
		}
		pthread_mutex_init(&c->qlock, NULL);
		c->qtail = &c->qhead;
		c->held_tail = &c->held;
		if (pthread_create(&c->thread, NULL, io_thread, c)) {
			free(c->home);
			close(c->wakefd);
			free(c);
			return -1;
		}
		p->sec[p->nsec++] = c;
	}
	return 0;
}

void conn_stop(struct conn *c)
{
	uint64_t one = 1;

	c->stop_by = now_ms() + (int64_t)c->o->op_timeout * 1000;
	c->stop = 1;
	if (write(c->wakefd, &one, sizeof(one)) < 0)
		perror("sftpmnt: eventfd");
	pthread_join(c->thread, NULL);
	/* the secondaries next (the primary's thread, which hands them
	 * files, is gone; what it still starts below stays here) */
	while (c->nsec > 0) {
		struct conn *s = c->sec[--c->nsec];

		conn_stop(s);
		pf_free(s);
		free(s);
	}
	/* Say goodbye without waiting for the server: after DISCONNECT the
	 * channel is freed locally (an unmount must not hang on a slow or
	 * dead server). */
	if (c->s && !c->dead) {
		libssh2_session_set_blocking(c->s, 1);
		libssh2_session_set_timeout(c->s, 2000);
		libssh2_session_disconnect(c->s, "unmounted");
	}
	/* (dead: what fails now starts nothing new on the cores going) */
	if (!c->dead)
		c->dead = LIBSSH2_ERROR_SOCKET_DISCONNECT;
	drop_session(c);
	/* What is still queued or waits for the link (the requests still in
	 * flight have just failed into it) is answered: nobody restarts it
	 * now.  A release parked there leaked with its handle.  (Queued ops
	 * start as usual: on a dead link they park, or are answered without
	 * it, as those of kept listings and fetched-ahead files are.) */
	{
		struct op *op, *nx;

		c->hold = NULL; /* (dead: everything parks, in order) */
		for (op = c->held; op; op = nx) {
			nx = op->next;
			op_start(c, op);
		}
		c->held = NULL;
		c->held_tail = &c->held;
		for (op = take_queue(c); op; op = nx) {
			nx = op->next;
			op_start(c, op);
		}
		while ((op = c->parked)) {
			c->parked = op->next;
			op->next = NULL;
			op_give_up(op, ENOTCONN);
		}
	}
	op_forget_handles(c);
	close(c->wakefd);
	ub_free(c);
	free(c->home);
}
