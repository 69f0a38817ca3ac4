/*
 * interop.h - helpers for the interoperability tests (tests/interop/),
 * which start their own SSH servers (Dropbear, AsyncSSH) on 127.0.0.1
 * and talk to them through the public API only.
 *
 * A server is a child process with PR_SET_PDEATHSIG, so it cannot
 * outlive the test even when the test is killed; interop_stop() ends it
 * explicitly, and an atexit handler (in the process that started it,
 * not in Check's forked test children) ends any still running.
 */
#ifndef SFTPMNT_INTEROP_H
#define SFTPMNT_INTEROP_H

#include <stddef.h>
#include <sys/types.h>

#include "libssh2.h"

/* RFC 4253 §7.1: the ten name-lists of a KEXINIT, in their order. */
enum {
	KI_KEX,
	KI_HOSTKEY,
	KI_ENC_CS,
	KI_ENC_SC,
	KI_MAC_CS,
	KI_MAC_SC,
	KI_COMP_CS,
	KI_COMP_SC,
	KI_LANG_CS,
	KI_LANG_SC,
	KI_NLISTS
};

struct interop_kexinit {
	char ident[256];       /* the server's identification string */
	char *list[KI_NLISTS]; /* NUL-terminated name-lists */
};

struct interop_server {
	pid_t pid;   /* 0: not running */
	pid_t owner; /* the process that started it */
	int port;
	int exit_status; /* once it has exited: its status, or 128 + signal */
	char log[4096];	 /* its standard output and error */
};

/* A fresh private directory under $TMPDIR (or /tmp); exits 99 on error. */
char *interop_mkdtemp(const char *tag);
/* rm -rf dir. */
void interop_rmtree(const char *dir);
/* A program found: an absolute path that is executable, or the first
 * match in $PATH and the given extra directories (colon-separated, may be
 * NULL).  Returns a static buffer, NULL when not found. */
const char *interop_which(const char *prog, const char *extra_dirs);
/* Run a shell command; returns its exit status (or -1), printing the
 * command when it fails. */
int interop_system(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Start argv[0] (a path) with stdout/stderr to log, stdin from fd
 * stdin_fd (or /dev/null if < 0).  prep, if not NULL, runs in the child
 * just before exec; it may itself fork (the process that returns from
 * prep execs argv).  The child is killed with SIGKILL if we die. */
void interop_spawn(struct interop_server *srv, char *const argv[],
		   const char *log, int stdin_fd, void (*prep)(void *),
		   void *prep_arg);
/* Non-zero while the child runs; when it has exited, its status is
 * printed with the last lines of its log. */
int interop_alive(struct interop_server *srv);
/* Wait until 127.0.0.1:port accepts connections (1), or the server died
 * or timeout_ms passed (0). */
int interop_wait_port(struct interop_server *srv, int timeout_ms);
/* SIGTERM, then SIGKILL after a grace time; reaps it.  Idempotent. */
void interop_stop(struct interop_server *srv);
/* Print the last lines of the server's log to stderr. */
void interop_log_tail(const struct interop_server *srv, int lines);
/* A TCP port on 127.0.0.1 free right now (the kernel's choice). */
int interop_free_port(void);

/* A blocking TCP connection to 127.0.0.1:port; exits 99 on failure. */
int interop_connect(int port);
/* Read the server's identification and first KEXINIT in the clear. */
int interop_probe_kexinit(int port, struct interop_kexinit *ki);
void interop_kexinit_free(struct interop_kexinit *ki);
/* name is an element of the comma-separated list. */
int interop_list_has(const char *list, const char *name);
/* The names of list (a server's) that our library supports for
 * method_type, in the server's order, as a NULL-terminated malloc'd
 * array of malloc'd strings; *n their count.  Unsupported ones are
 * appended to *unsupported (malloc'd, comma-separated) if not NULL. */
char **interop_supported(const char *list, int method_type, size_t *n,
			 char **unsupported);
/* interop_supported(), printing what is tested and what is not:
 * "<server> <what>: <list>". */
char **interop_supported_print(const char *server, const char *what,
			       const char *list, int method_type, size_t *n);
void interop_strv_free(char **v);

/* The key blob of an OpenSSH public key line ("type base64 comment"). */
unsigned char *interop_pubkey_blob(const char *line, size_t *len);
/* The whole file, NUL-terminated; exits 99 if unreadable. */
char *interop_slurp(const char *path, size_t *len);

/* The session's last error message. */
const char *interop_errmsg(LIBSSH2_SESSION *s);

/* ---- Check helpers (they fail the running test) ---- */

#define INTEROP_TIMEOUT_MS 60000 /* generous: 8192-bit DH in Python on a loaded CI machine */
#define INTEROP_NPREFS	   (LIBSSH2_METHOD_SIGN_ALGO + 1)

struct interop_conn {
	int fd;
	LIBSSH2_SESSION *s;
};

/* A session to 127.0.0.1:port, handshake done: with prefs[type] given to
 * libssh2_session_method_pref for each non-NULL one (prefs may be NULL),
 * and banner, if not NULL, as our identification string. */
void interop_open(struct interop_conn *c, int port,
		  const char *const prefs[INTEROP_NPREFS], const char *banner);
/* One algorithm of a server's KEXINIT list ki (KI_KEX, KI_HOSTKEY,
 * KI_ENC_CS or KI_MAC_CS; ciphers and MACs both ways) forced with
 * method_pref, checked with libssh2_session_methods (and the host key
 * with interop_check_hostkey(hostkey_dir)), then login(c) authenticates
 * and runs something under the new keys.  MACs are tried with
 * mac_cipher, a cipher that has a separate MAC. */
void interop_algorithm_case(int port, int ki, const char *name,
			    const char *mac_cipher, const char *hostkey_dir,
			    void (*login)(struct interop_conn *c));
/* Disconnect and free. */
void interop_close(struct interop_conn *c);
/* libssh2_session_methods(type) is want. */
void interop_check_method(struct interop_conn *c, int type, const char *want);
/* The host key the server used for algorithm alg is the one in
 * DIR/host_{ed25519,ecdsa256,ecdsa384,ecdsa521,rsa}.pub, with the type
 * libssh2_session_hostkey must report. */
void interop_check_hostkey(struct interop_conn *c, const char *dir,
			   const char *alg);
/* Run cmd on a new session channel: its stdout (NUL-terminated, at most
 * cap - 1 bytes) in out, its exit status returned (< 0: error). */
int interop_exec(LIBSSH2_SESSION *s, const char *cmd, char *out, size_t cap);

#endif
