/*
 * test_dropbear.c - interoperability with Dropbear (dropbear-bin), an SSH
 * server written independently of OpenSSH, through the public API only.
 *
 * Covered: every key exchange, cipher, MAC and host key algorithm the
 * server offers that the library supports (read from the server's own
 * KEXINIT, so a newer Dropbear is tested on what it offers), each forced
 * with libssh2_session_method_pref and checked with
 * libssh2_session_methods, the host key checked against the key file;
 * ECDSA P-384 and P-521 host keys (one extra server each); publickey
 * authentication with Ed25519 and RSA keys made by dropbearkey and
 * converted by dropbearconvert, RSA with each signature algorithm
 * preference (Dropbear lists rsa-sha2-256 and ssh-rsa in server-sig-algs,
 * not rsa-sha2-512); commands over a channel (output, stderr, exit
 * status); SFTP through the OpenSSH sftp-server Dropbear runs for the
 * "sftp" subsystem.
 *
 * The server: `dropbear -F -E -s -p 127.0.0.1:PORT -r KEY...` with
 * throwaway keys in a private directory, killed at the end (and by
 * PR_SET_PDEATHSIG if the test dies).  Dropbear has no option for the
 * authorized_keys file: it reads ~/.ssh/authorized_keys of the user's
 * passwd entry.  So that no account on this machine is touched, the
 * server runs in a private mount namespace where a copy of /etc/passwd
 * is bind-mounted over the real one, with the current user's home
 * directory pointing into the test's directory (and the shell /bin/sh).
 * As root that needs only CLONE_NEWNS (the sshd fixture uses mount
 * namespaces too); as another user a user namespace mapping the user to
 * itself, and when the kernel refuses one the test is skipped (77) with
 * that reason.  A PID namespace makes sure that killing the server kills
 * its sessions too.
 */
#define _GNU_SOURCE
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "libssh2.h"
#include "libssh2_sftp.h"

#include "interop.h"

/* The namespace set-up failed: exit status of the server's parent. */
#define NS_FAILED 86
/* Where Debian's dropbear runs the "sftp" subsystem from
 * (SFTPSERVER_PATH, package openssh-sftp-server). */
#define DROPBEAR_SFTP_SERVER "/usr/lib/sftp-server"

static char *tmpdir;
static pid_t main_pid;
static char login[256]; /* the user Dropbear logs in */
static const char *dropbear, *dropbearkey, *dropbearconvert;
static struct interop_server server;
static struct interop_kexinit offer;

/* What the server offers that we support, per KEXINIT list. */
static char **kexes, **ciphers, **macs, **hostkeys;
static size_t nkex, ncipher, nmac, nhostkey;

/* ---- the server -------------------------------------------------------- */

static void path_of(char *out, const char *name)
{
	snprintf(out, PATH_MAX, "%s/%s", tmpdir, name);
}

static int write_file(const char *path, const char *text)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC), rc;

	if (fd < 0)
		return -1;
	rc = write(fd, text, strlen(text)) == (ssize_t)strlen(text) ? 0 : -1;
	close(fd);
	return rc;
}

static volatile pid_t ns_init;

static void kill_ns_init(int sig)
{
	(void)sig;
	kill(ns_init, SIGKILL);
}

/*
 * Runs in the server's child before exec: new mount and PID namespaces
 * (and a user namespace unless root), the passwd copy bind-mounted, then
 * a fork so that dropbear is the first process of the PID namespace.
 * This process stays outside as its parent: on SIGTERM (interop_stop) it
 * kills dropbear and reaps it; if it dies (PR_SET_PDEATHSIG when the
 * test dies) the kernel sends dropbear SIGKILL.  Either way every process
 * of the namespace dies with dropbear.
 */
static void enter_namespaces(void *arg)
{
	const char *passwd = arg;
	uid_t uid = getuid();
	gid_t gid = getgid();
	int flags = CLONE_NEWNS | CLONE_NEWPID, st;
	char map[64];
	pid_t pid;

	if (uid != 0)
		flags |= CLONE_NEWUSER;
	if (unshare(flags)) {
		fprintf(stderr, "unshare: %s\n", strerror(errno));
		_exit(NS_FAILED);
	}
	if (uid != 0) {
		snprintf(map, sizeof(map), "%u %u 1", (unsigned)uid,
			 (unsigned)uid);
		if (write_file("/proc/self/setgroups", "deny") ||
		    write_file("/proc/self/uid_map", map)) {
			fprintf(stderr, "uid_map: %s\n", strerror(errno));
			_exit(NS_FAILED);
		}
		snprintf(map, sizeof(map), "%u %u 1", (unsigned)gid,
			 (unsigned)gid);
		if (write_file("/proc/self/gid_map", map)) {
			fprintf(stderr, "gid_map: %s\n", strerror(errno));
			_exit(NS_FAILED);
		}
	}
	if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) ||
	    mount(passwd, "/etc/passwd", NULL, MS_BIND, NULL)) {
		fprintf(stderr, "mount: %s\n", strerror(errno));
		_exit(NS_FAILED);
	}
	pid = fork();
	if (pid < 0)
		_exit(NS_FAILED);
	if (pid == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		return; /* exec dropbear */
	}
	/* interop_stop's SIGTERM: kill the namespace's first process, and
	 * with it the namespace, then reap it here (no orphan left to
	 * init) */
	ns_init = pid;
	signal(SIGTERM, kill_ns_init);
	while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
		;
	_exit(WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st));
}

/* Start dropbear with the given host key files (names in tmpdir). */
static void start_dropbear(struct interop_server *srv, const char *tag,
			   const char *const *keys, int nkeys)
{
	char passwd[PATH_MAX], log[PATH_MAX], pidf[PATH_MAX];
	char listen[64], keypath[8][PATH_MAX];
	char *argv[32];
	int attempt, i, n;

	path_of(passwd, "passwd");
	snprintf(log, sizeof(log), "%s/dropbear-%s.log", tmpdir, tag);
	snprintf(pidf, sizeof(pidf), "%s/dropbear-%s.pid", tmpdir, tag);
	for (attempt = 0; attempt < 5; attempt++) {
		srv->port = interop_free_port();
		snprintf(listen, sizeof(listen), "127.0.0.1:%d", srv->port);
		n = 0;
		argv[n++] = (char *)dropbear;
		argv[n++] = "-F"; /* foreground */
		argv[n++] = "-E"; /* log to stderr */
		argv[n++] = "-s"; /* no password logins */
		argv[n++] = "-I"; /* idle timeout: a hung client gives up */
		argv[n++] = "60";
		argv[n++] = "-P";
		argv[n++] = pidf;
		argv[n++] = "-p";
		argv[n++] = listen;
		for (i = 0; i < nkeys && i < 8; i++) {
			path_of(keypath[i], keys[i]);
			argv[n++] = "-r";
			argv[n++] = keypath[i];
		}
		argv[n] = NULL;
		interop_spawn(srv, argv, log, -1, enter_namespaces, passwd);
		if (interop_wait_port(srv, 10000))
			return;
		if (srv->pid == 0 && srv->exit_status == NS_FAILED) {
			if (getuid() != 0) {
				printf("SKIP: no user namespace for a private "
				       "/etc/passwd, so dropbear cannot read a "
				       "test authorized_keys without changing "
				       "this account\n");
				exit(77);
			}
			fprintf(stderr, "cannot create a mount namespace\n");
			exit(99);
		}
		interop_stop(srv);
	}
	fprintf(stderr, "dropbear did not start\n");
	interop_log_tail(srv, 30);
	exit(99);
}

/* ---- keys and the account ---------------------------------------------- */

static void keygen(const char *name, const char *type, const char *bits)
{
	char key[PATH_MAX];

	path_of(key, name);
	if (interop_system("'%s' -t %s %s%s -f '%s' >/dev/null 2>&1 && "
			   "'%s' -y -f '%s' | grep -E '^(ssh|ecdsa)-' "
			   ">'%s.pub'",
			   dropbearkey, type, bits ? "-s " : "",
			   bits ? bits : "", key, dropbearkey, key, key))
		exit(99);
}

/* A user key: made by dropbearkey, converted to the OpenSSH format
 * (NAME.key) by dropbearconvert, as a Dropbear user would. */
static void user_key(const char *name, const char *type, const char *bits,
		     int authorize)
{
	char key[PATH_MAX];

	keygen(name, type, bits);
	path_of(key, name);
	if (interop_system("'%s' dropbear openssh '%s' '%s.key' "
			   ">/dev/null 2>&1",
			   dropbearconvert, key, key))
		exit(99);
	if (authorize &&
	    interop_system("cat '%s.pub' >> '%s/home/.ssh/authorized_keys'",
			   key, tmpdir))
		exit(99);
}

/* The passwd copy: this user's entry with home = tmpdir/home and shell
 * /bin/sh (Dropbear refuses shells not in /etc/shells); the password
 * field "x" (Dropbear refuses an empty one). */
static void make_passwd(void)
{
	char path[PATH_MAX], home[PATH_MAX], line[4096];
	FILE *in = fopen("/etc/passwd", "r"), *out;
	int found = 0;

	path_of(path, "passwd");
	path_of(home, "home");
	out = fopen(path, "w");
	if (!in || !out) {
		perror("passwd copy");
		exit(99);
	}
	while (fgets(line, sizeof(line), in)) {
		char *f[7], *p = line;
		int i;

		line[strcspn(line, "\n")] = 0;
		for (i = 0; i < 7 && p; i++) {
			f[i] = p;
			p = strchr(p, ':');
			if (p)
				*p++ = 0;
		}
		if (i == 7 && !found &&
		    strtoul(f[2], NULL, 10) == (unsigned long)getuid()) {
			found = 1;
			snprintf(login, sizeof(login), "%s", f[0]);
			fprintf(out, "%s:x:%s:%s:%s:%s:/bin/sh\n", f[0], f[2],
				f[3], f[4], home);
		} else if (i == 7) {
			fprintf(out, "%s:%s:%s:%s:%s:%s:%s\n", f[0], f[1], f[2],
				f[3], f[4], f[5], f[6]);
		}
	}
	if (!found) {
		snprintf(login, sizeof(login), "sftpmnt-interop");
		fprintf(out, "%s:x:%u:%u::%s:/bin/sh\n", login,
			(unsigned)getuid(), (unsigned)getgid(), home);
	}
	fclose(in);
	if (fclose(out)) {
		perror(path);
		exit(99);
	}
}

/* ---- session helpers --------------------------------------------------- */

static int auth_key(struct interop_conn *c, const char *name)
{
	char key[PATH_MAX];

	snprintf(key, sizeof(key), "%s/%s.key", tmpdir, name);
	return libssh2_userauth_publickey_fromfile(c->s, login, NULL, key,
						   NULL);
}

/* Authenticate with the Ed25519 key and run a command under the keys. */
static void auth_and_echo(struct interop_conn *c)
{
	char out[64];
	int rc = auth_key(c, "user_ed25519");

	ck_assert_msg(rc == 0, "publickey: %d %s", rc, interop_errmsg(c->s));
	rc = interop_exec(c->s, "echo hi", out, sizeof(out));
	ck_assert_msg(rc == 0, "exec: %d %s", rc, interop_errmsg(c->s));
	ck_assert_str_eq(out, "hi\n");
}

/* ---- what the server offers -------------------------------------------- */

START_TEST(server_offer)
{
	static const char *const wanted[][2] = {
		/* what every Dropbear since 2020.79 offers */
		{"kex", "curve25519-sha256"},
		{"hostkey", "ssh-ed25519"},
		{"cipher", "chacha20-poly1305@openssh.com"},
		{"cipher", "aes128-ctr"},
		{"mac", "hmac-sha2-256"},
	};
	size_t i;

	ck_assert_msg(!strncmp(offer.ident, "SSH-2.0-dropbear", 16),
		      "not dropbear: %s", offer.ident);
	for (i = 0; i < sizeof(wanted) / sizeof(wanted[0]); i++) {
		char **v = !strcmp(wanted[i][0], "kex")	      ? kexes
			   : !strcmp(wanted[i][0], "hostkey") ? hostkeys
			   : !strcmp(wanted[i][0], "cipher")  ? ciphers
							      : macs;
		int found = 0;

		for (; *v; v++)
			found |= !strcmp(*v, wanted[i][1]);
		ck_assert_msg(found,
			      "%s %s: not in what %s offers and we "
			      "support",
			      wanted[i][0], wanted[i][1], offer.ident);
	}
	/* the server's lists are the same both ways */
	ck_assert_str_eq(offer.list[KI_ENC_CS], offer.list[KI_ENC_SC]);
	ck_assert_str_eq(offer.list[KI_MAC_CS], offer.list[KI_MAC_SC]);
}
END_TEST

/* A cipher with a separate MAC (not an AEAD one). */
static const char *mac_cipher(void)
{
	size_t i;

	for (i = 0; i < ncipher; i++)
		if (!strstr(ciphers[i], "poly1305") &&
		    !strstr(ciphers[i], "gcm"))
			return ciphers[i];
	return NULL;
}

START_TEST(kex_each)
{
	interop_algorithm_case(server.port, KI_KEX, kexes[_i], NULL, tmpdir,
			       auth_and_echo);
}
END_TEST

START_TEST(cipher_each)
{
	interop_algorithm_case(server.port, KI_ENC_CS, ciphers[_i], NULL,
			       tmpdir, auth_and_echo);
}
END_TEST

START_TEST(mac_each)
{
	interop_algorithm_case(server.port, KI_MAC_CS, macs[_i], mac_cipher(),
			       tmpdir, auth_and_echo);
}
END_TEST

START_TEST(hostkey_each)
{
	interop_algorithm_case(server.port, KI_HOSTKEY, hostkeys[_i], NULL,
			       tmpdir, auth_and_echo);
}
END_TEST

/* Dropbear uses one ECDSA key, whose curve names the algorithm: P-384
 * and P-521 need a server of their own. */
START_TEST(hostkey_ecdsa_curves)
{
	static const char *const keys[] = {"host_ecdsa384", "host_ecdsa521"};
	static const char *const algs[] = {"ecdsa-sha2-nistp384",
					   "ecdsa-sha2-nistp521"};
	/* static: it stays tracked (interop.c) until stopped, even if a
	 * failed assertion leaves this function early */
	static struct interop_server extra;
	struct interop_conn c;

	start_dropbear(&extra, keys[_i] + 5, &keys[_i], 1);
	interop_open(&c, extra.port, NULL, NULL);
	interop_check_hostkey(&c, tmpdir, algs[_i]);
	auth_and_echo(&c);
	interop_close(&c);
	interop_stop(&extra);
}
END_TEST

/* ---- authentication ---------------------------------------------------- */

START_TEST(auth_list_and_ed25519)
{
	struct interop_conn c;
	char *list;

	interop_open(&c, server.port, NULL, NULL);
	list = libssh2_userauth_list(c.s, login, (unsigned)strlen(login));
	ck_assert_msg(list != NULL, "userauth_list: %s", interop_errmsg(c.s));
	/* -s: no password logins */
	ck_assert_str_eq(list, "publickey");
	ck_assert_int_eq(libssh2_userauth_authenticated(c.s), 0);
	auth_and_echo(&c);
	ck_assert_int_eq(libssh2_userauth_authenticated(c.s), 1);
	interop_close(&c);
}
END_TEST

START_TEST(auth_refused_key)
{
	struct interop_conn c;
	int rc;

	interop_open(&c, server.port, NULL, NULL);
	rc = auth_key(&c, "stranger");
	ck_assert_msg(rc == LIBSSH2_ERROR_AUTHENTICATION_FAILED ||
			      rc == LIBSSH2_ERROR_PUBLICKEY_UNVERIFIED,
		      "a key not authorized: %d %s", rc, interop_errmsg(c.s));
	ck_assert_int_eq(libssh2_userauth_authenticated(c.s), 0);
	/* the session goes on: the right key works */
	auth_and_echo(&c);
	interop_close(&c);
}
END_TEST

/*
 * RSA user keys and the signature algorithm (RFC 8332): Dropbear's
 * server-sig-algs lists rsa-sha2-256 and ssh-rsa, not rsa-sha2-512.
 * libssh2 1.11.1 (userauth.c _libssh2_key_sign_algorithm) picks the first
 * of the LIBSSH2_METHOD_SIGN_ALGO preferences (default: rsa-sha2-512,
 * rsa-sha2-256, ssh-rsa) that the server lists, and when none is listed
 * fails with LIBSSH2_ERROR_METHOD_NONE "No signing signature matched"
 * without sending a request.
 */
static const struct {
	const char *pref; /* NULL: the default */
	int want_rc;
} rsa_cases[] = {
	{NULL, 0}, /* rsa-sha2-256 */
	{"rsa-sha2-256", 0},
	{"rsa-sha2-512,rsa-sha2-256", 0},
	{"ssh-rsa", 0}, /* SHA-1: Dropbear still accepts it */
	{"rsa-sha2-512", LIBSSH2_ERROR_METHOD_NONE},
};

START_TEST(auth_rsa)
{
	const char *prefs[INTEROP_NPREFS] = {0};
	char out[64];
	struct interop_conn c;
	int rc;

	prefs[LIBSSH2_METHOD_SIGN_ALGO] = rsa_cases[_i].pref;
	interop_open(&c, server.port, prefs, NULL);
	/* the method list first, so that server-sig-algs is known */
	ck_assert_ptr_nonnull(
		libssh2_userauth_list(c.s, login, (unsigned)strlen(login)));
	rc = auth_key(&c, "user_rsa");
	ck_assert_msg(rc == rsa_cases[_i].want_rc,
		      "RSA key, sign algorithm preference %s: got %d (%s), "
		      "want %d",
		      rsa_cases[_i].pref ? rsa_cases[_i].pref : "(default)", rc,
		      rc ? interop_errmsg(c.s) : "authenticated",
		      rsa_cases[_i].want_rc);
	ck_assert_int_eq(libssh2_userauth_authenticated(c.s), rc == 0);
	if (rc == 0) {
		ck_assert_int_eq(
			interop_exec(c.s, "echo rsa", out, sizeof(out)), 0);
		ck_assert_str_eq(out, "rsa\n");
	}
	interop_close(&c);
}
END_TEST

/* ---- channels ---------------------------------------------------------- */

START_TEST(exec_output_and_status)
{
	LIBSSH2_CHANNEL *ch;
	struct interop_conn c;
	char out[256], err[256];
	ssize_t n;
	size_t got = 0;

	interop_open(&c, server.port, NULL, NULL);
	auth_and_echo(&c);
	ck_assert_int_eq(interop_exec(c.s, "exit 3", out, sizeof(out)), 3);
	ck_assert_str_eq(out, "");
	ck_assert_int_eq(interop_exec(c.s, "echo $HOME", out, sizeof(out)), 0);
	ck_assert_int_eq(strncmp(out, tmpdir, strlen(tmpdir)), 0);

	/* stderr separately from stdout */
	ch = libssh2_channel_open_session(c.s);
	ck_assert_ptr_nonnull(ch);
	ck_assert_int_eq(libssh2_channel_exec(ch, "echo out; echo err >&2"), 0);
	while ((n = libssh2_channel_read(ch, out + got,
					 sizeof(out) - 1 - got)) > 0)
		got += (size_t)n;
	ck_assert_int_ge(n, 0);
	out[got] = 0;
	ck_assert_str_eq(out, "out\n");
	got = 0;
	while ((n = libssh2_channel_read_stderr(ch, err + got,
						sizeof(err) - 1 - got)) > 0)
		got += (size_t)n;
	ck_assert_int_ge(n, 0);
	err[got] = 0;
	ck_assert_str_eq(err, "err\n");
	ck_assert_int_eq(libssh2_channel_eof(ch), 1);
	ck_assert_int_eq(libssh2_channel_close(ch), 0);
	ck_assert_int_eq(libssh2_channel_wait_closed(ch), 0);
	ck_assert_int_eq(libssh2_channel_get_exit_status(ch), 0);
	ck_assert_int_eq(libssh2_channel_free(ch), 0);

	/* stdin to a command, and its EOF */
	ch = libssh2_channel_open_session(c.s);
	ck_assert_ptr_nonnull(ch);
	ck_assert_int_eq(libssh2_channel_exec(ch, "tr a-z A-Z"), 0);
	ck_assert_int_eq(libssh2_channel_write(ch, "dropbear\n", 9), 9);
	ck_assert_int_eq(libssh2_channel_send_eof(ch), 0);
	got = 0;
	while ((n = libssh2_channel_read(ch, out + got,
					 sizeof(out) - 1 - got)) > 0)
		got += (size_t)n;
	ck_assert_int_ge(n, 0);
	out[got] = 0;
	ck_assert_str_eq(out, "DROPBEAR\n");
	ck_assert_int_eq(libssh2_channel_close(ch), 0);
	ck_assert_int_eq(libssh2_channel_free(ch), 0);
	interop_close(&c);
}
END_TEST

/* ---- SFTP -------------------------------------------------------------- */

#define SFTP_SIZE (512u * 1024)

START_TEST(sftp_roundtrip)
{
	LIBSSH2_SFTP_ATTRIBUTES a;
	LIBSSH2_SFTP_HANDLE *h;
	LIBSSH2_SFTP *sf;
	struct interop_conn c;
	unsigned char *data, *back, *disk;
	char local[PATH_MAX], real[PATH_MAX];
	size_t i, got = 0, dlen;
	ssize_t n;

	if (access(DROPBEAR_SFTP_SERVER, X_OK)) {
		printf("no %s (openssh-sftp-server): SFTP not tested\n",
		       DROPBEAR_SFTP_SERVER);
		return;
	}
	data = malloc(SFTP_SIZE);
	back = malloc(SFTP_SIZE);
	ck_assert(data && back);
	for (i = 0; i < SFTP_SIZE; i++)
		data[i] = (unsigned char)(i * 7 + i / 1021);

	interop_open(&c, server.port, NULL, NULL);
	auth_and_echo(&c);
	sf = libssh2_sftp_init(c.s);
	ck_assert_msg(sf != NULL, "sftp_init: %s", interop_errmsg(c.s));

	/* the server starts in the home directory */
	ck_assert_int_gt(libssh2_sftp_realpath(sf, ".", real, sizeof(real)), 0);
	snprintf(local, sizeof(local), "%s/home", tmpdir);
	{
		char want[PATH_MAX];

		ck_assert_ptr_nonnull(realpath(local, want));
		ck_assert_str_eq(real, want);
	}

	h = libssh2_sftp_open(sf, "roundtrip.bin",
			      LIBSSH2_FXF_WRITE | LIBSSH2_FXF_CREAT |
				      LIBSSH2_FXF_TRUNC,
			      0640);
	ck_assert_msg(h != NULL, "open for writing: %s", interop_errmsg(c.s));
	for (i = 0; i < SFTP_SIZE; i += (size_t)n) {
		n = libssh2_sftp_write(h, (char *)data + i, SFTP_SIZE - i);
		ck_assert_msg(n > 0, "write: %zd %s", n, interop_errmsg(c.s));
	}
	ck_assert_int_eq(libssh2_sftp_fstat(h, &a), 0);
	ck_assert_uint_eq(a.filesize, SFTP_SIZE);
	ck_assert_int_eq(libssh2_sftp_close(h), 0);

	/* on disk, byte for byte */
	snprintf(local, sizeof(local), "%s/home/roundtrip.bin", tmpdir);
	disk = (unsigned char *)interop_slurp(local, &dlen);
	ck_assert_uint_eq(dlen, SFTP_SIZE);
	ck_assert(!memcmp(disk, data, SFTP_SIZE));
	free(disk);

	h = libssh2_sftp_open(sf, "roundtrip.bin", LIBSSH2_FXF_READ, 0);
	ck_assert_msg(h != NULL, "open for reading: %s", interop_errmsg(c.s));
	while ((n = libssh2_sftp_read(h, (char *)back + got, SFTP_SIZE - got)) >
	       0)
		got += (size_t)n;
	ck_assert_msg(n == 0, "read: %zd %s", n, interop_errmsg(c.s));
	ck_assert_uint_eq(got, SFTP_SIZE);
	ck_assert(!memcmp(back, data, SFTP_SIZE));
	ck_assert_int_eq(libssh2_sftp_close(h), 0);

	ck_assert_int_eq(libssh2_sftp_stat(sf, "roundtrip.bin", &a), 0);
	ck_assert_uint_eq(a.filesize, SFTP_SIZE);
	ck_assert_uint_eq(a.permissions & 0777, 0640);
	ck_assert_int_eq(libssh2_sftp_unlink(sf, "roundtrip.bin"), 0);
	ck_assert_int_ne(access(local, F_OK), 0);
	ck_assert_int_eq(libssh2_sftp_shutdown(sf), 0);
	interop_close(&c);
	free(data);
	free(back);
}
END_TEST

/* ---- main -------------------------------------------------------------- */

static void cleanup(void)
{
	if (getpid() != main_pid)
		return;
	interop_stop(&server);
	interop_rmtree(tmpdir);
}

static char **supported(int ki, int type, const char *what, size_t *n)
{
	return interop_supported_print("dropbear", what, offer.list[ki], type, n);
}

int main(void)
{
	static const char *const keys[] = {"host_ed25519", "host_ecdsa256",
					   "host_rsa"};
	char home[PATH_MAX];
	Suite *su = suite_create("dropbear");
	TCase *tc = tcase_create("dropbear");
	SRunner *sr;
	int failed;

	setvbuf(stdout, NULL, _IOLBF, 0);
	dropbear = interop_which("dropbear", "/usr/sbin:/sbin");
	if (!dropbear) {
		printf("SKIP: dropbear is not installed (Debian package "
		       "dropbear-bin)\n");
		return 77;
	}
	dropbear = strdup(dropbear);
	dropbearkey = interop_which("dropbearkey", "/usr/lib/dropbear");
	dropbearkey = dropbearkey ? strdup(dropbearkey) : NULL;
	dropbearconvert = interop_which("dropbearconvert", "/usr/lib/dropbear");
	dropbearconvert = dropbearconvert ? strdup(dropbearconvert) : NULL;
	if (!dropbearkey || !dropbearconvert) {
		fprintf(stderr, "dropbear without dropbearkey and "
				"dropbearconvert\n");
		return 99;
	}

	main_pid = getpid();
	tmpdir = interop_mkdtemp("dropbear");
	atexit(cleanup);
	/* home/.ssh/authorized_keys, modes as Dropbear wants them */
	snprintf(home, sizeof(home), "%s/home", tmpdir);
	if (interop_system("mkdir -m 700 '%s' '%s/.ssh' && "
			   "touch '%s/.ssh/authorized_keys' && "
			   "chmod 600 '%s/.ssh/authorized_keys'",
			   home, home, home, home))
		return 99;
	keygen("host_ed25519", "ed25519", NULL);
	keygen("host_ecdsa256", "ecdsa", "256");
	keygen("host_ecdsa384", "ecdsa", "384");
	keygen("host_ecdsa521", "ecdsa", "521");
	keygen("host_rsa", "rsa", "2048");
	user_key("user_ed25519", "ed25519", NULL, 1);
	user_key("user_rsa", "rsa", "2048", 1);
	user_key("stranger", "ed25519", NULL, 0);
	make_passwd();
	start_dropbear(&server, "main", keys, 3);

	if (interop_probe_kexinit(server.port, &offer)) {
		fprintf(stderr, "could not read the server's KEXINIT\n");
		return 99;
	}
	printf("server: %s, user %s\n", offer.ident, login);
	kexes = supported(KI_KEX, LIBSSH2_METHOD_KEX, "kex", &nkex);
	hostkeys = supported(KI_HOSTKEY, LIBSSH2_METHOD_HOSTKEY, "host keys",
			     &nhostkey);
	ciphers = supported(KI_ENC_CS, LIBSSH2_METHOD_CRYPT_CS, "ciphers",
			    &ncipher);
	macs = supported(KI_MAC_CS, LIBSSH2_METHOD_MAC_CS, "MACs", &nmac);

	tcase_set_timeout(tc, 300);
	tcase_add_test(tc, server_offer);
	tcase_add_loop_test(tc, kex_each, 0, (int)nkex);
	tcase_add_loop_test(tc, cipher_each, 0, (int)ncipher);
	tcase_add_loop_test(tc, mac_each, 0, (int)nmac);
	tcase_add_loop_test(tc, hostkey_each, 0, (int)nhostkey);
	tcase_add_loop_test(tc, hostkey_ecdsa_curves, 0, 2);
	tcase_add_test(tc, auth_list_and_ed25519);
	tcase_add_test(tc, auth_refused_key);
	tcase_add_loop_test(tc, auth_rsa, 0,
			    (int)(sizeof(rsa_cases) / sizeof(rsa_cases[0])));
	tcase_add_test(tc, exec_output_and_status);
	tcase_add_test(tc, sftp_roundtrip);
	suite_add_tcase(su, tc);
	sr = srunner_create(su);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);

	if (failed)
		interop_log_tail(&server, 40);
	interop_kexinit_free(&offer);
	interop_strv_free(kexes);
	interop_strv_free(hostkeys);
	interop_strv_free(ciphers);
	interop_strv_free(macs);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
