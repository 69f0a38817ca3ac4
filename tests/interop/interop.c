/*
 * interop.c - helpers for the interoperability tests (see interop.h).
 */
#include "interop.h"

#include <arpa/inet.h>
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* How long a server gets to exit on SIGTERM before SIGKILL. */
#define STOP_GRACE_MS 2000
/* Cap on an identification line and on the first packet (RFC 4253 §4.2,
 * §6.1: 255 and 35000 bytes). */
#define IDENT_MAX  255
#define PACKET_MAX 35000
/* How long the KEXINIT probe waits for each read. */
#define PROBE_TIMEOUT_MS 10000
#define MAX_SERVERS	 16

static struct interop_server *servers[MAX_SERVERS];

static long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000L + ts.tv_nsec / 1000000L;
}

/* ---- files ------------------------------------------------------------- */

char *interop_mkdtemp(const char *tag)
{
	const char *tmp = getenv("TMPDIR");
	char *dir = malloc(PATH_MAX);

	if (!dir)
		exit(99);
	snprintf(dir, PATH_MAX, "%s/sftpmnt-%s.XXXXXX",
		 tmp && *tmp ? tmp : "/tmp", tag);
	if (!mkdtemp(dir)) {
		perror("mkdtemp");
		exit(99);
	}
	return dir;
}

int interop_system(const char *fmt, ...)
{
	char cmd[8192];
	va_list ap;
	int rc;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	rc = system(cmd);
	if (rc == -1 || !WIFEXITED(rc)) {
		fprintf(stderr, "command failed (%d): %s\n", rc, cmd);
		return -1;
	}
	if (WEXITSTATUS(rc))
		fprintf(stderr, "command failed (exit %d): %s\n",
			WEXITSTATUS(rc), cmd);
	return WEXITSTATUS(rc);
}

void interop_rmtree(const char *dir)
{
	if (dir && *dir)
		interop_system("rm -rf '%s'", dir);
}

const char *interop_which(const char *prog, const char *extra_dirs)
{
	static char found[PATH_MAX];
	const char *path = getenv("PATH");
	char dirs[8192];
	char *save = NULL, *d;

	if (strchr(prog, '/'))
		return access(prog, X_OK) ? NULL : prog;
	snprintf(dirs, sizeof(dirs), "%s:%s", path ? path : "/usr/bin:/bin",
		 extra_dirs ? extra_dirs : "");
	for (d = strtok_r(dirs, ":", &save); d;
	     d = strtok_r(NULL, ":", &save)) {
		struct stat st;

		snprintf(found, sizeof(found), "%s/%s", d, prog);
		if (!stat(found, &st) && S_ISREG(st.st_mode) &&
		    !access(found, X_OK))
			return found;
	}
	return NULL;
}

char *interop_slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *buf;
	long n;

	if (!f) {
		fprintf(stderr, "%s: %s\n", path, strerror(errno));
		exit(99);
	}
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	rewind(f);
	buf = malloc((size_t)n + 1);
	if (!buf || fread(buf, 1, (size_t)n, f) != (size_t)n)
		exit(99);
	buf[n] = 0;
	fclose(f);
	if (len)
		*len = (size_t)n;
	return buf;
}

/* ---- servers ----------------------------------------------------------- */

static void stop_all(void)
{
	int i;

	for (i = 0; i < MAX_SERVERS; i++)
		if (servers[i] && servers[i]->pid &&
		    servers[i]->owner == getpid())
			interop_stop(servers[i]);
}

static void on_signal(int sig)
{
	stop_all();
	_exit(128 + sig);
}

static void track(struct interop_server *srv)
{
	static int hooked;
	int i, free_slot = -1;

	if (!hooked) {
		atexit(stop_all);
		signal(SIGINT, on_signal);
		signal(SIGTERM, on_signal);
		signal(SIGHUP, on_signal);
		hooked = 1;
	}
	for (i = 0; i < MAX_SERVERS; i++) {
		if (servers[i] == srv)
			return;
		if (free_slot < 0 && !servers[i])
			free_slot = i;
	}
	if (free_slot < 0) {
		fprintf(stderr, "interop: too many servers\n");
		exit(99);
	}
	servers[free_slot] = srv;
}

void interop_spawn(struct interop_server *srv, char *const argv[],
		   const char *log, int stdin_fd, void (*prep)(void *),
		   void *prep_arg)
{
	pid_t parent = getpid(), pid;
	int logfd, nullfd;

	snprintf(srv->log, sizeof(srv->log), "%s", log);
	logfd = open(log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
	nullfd = open("/dev/null", O_RDONLY | O_CLOEXEC);
	if (logfd < 0 || nullfd < 0) {
		perror(log);
		exit(99);
	}
	fflush(NULL);
	pid = fork();
	if (pid < 0) {
		perror("fork");
		exit(99);
	}
	if (pid == 0) {
		sigset_t all;
		int sig;

		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (getppid() != parent)
			_exit(1);
		sigemptyset(&all);
		sigprocmask(SIG_SETMASK, &all, NULL);
		for (sig = 1; sig < NSIG; sig++)
			if (sig != SIGKILL && sig != SIGSTOP)
				signal(sig, SIG_DFL);
		if (dup2(stdin_fd >= 0 ? stdin_fd : nullfd, 0) < 0 ||
		    dup2(logfd, 1) < 0 || dup2(logfd, 2) < 0)
			_exit(126);
		if (prep)
			prep(prep_arg);
		execv(argv[0], argv);
		fprintf(stderr, "exec %s: %s\n", argv[0], strerror(errno));
		_exit(127);
	}
	close(logfd);
	close(nullfd);
	srv->exit_status = -1;
	srv->pid = pid;
	srv->owner = parent;
	track(srv);
}

void interop_log_tail(const struct interop_server *srv, int lines)
{
	if (srv->log[0]) {
		fprintf(stderr, "---- %s (last %d lines) ----\n", srv->log,
			lines);
		interop_system("tail -n %d '%s' >&2", lines, srv->log);
	}
}

static void untrack(struct interop_server *srv)
{
	int i;

	for (i = 0; i < MAX_SERVERS; i++)
		if (servers[i] == srv)
			servers[i] = NULL;
}

int interop_alive(struct interop_server *srv)
{
	int st;
	pid_t r;

	if (!srv->pid)
		return 0;
	if (srv->owner != getpid()) /* not our child: cannot reap it */
		return kill(srv->pid, 0) == 0;
	r = waitpid(srv->pid, &st, WNOHANG);
	if (r == 0)
		return 1;
	if (r == srv->pid) {
		srv->exit_status =
			WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
		if (WIFEXITED(st))
			fprintf(stderr, "server %d exited with status %d\n",
				(int)srv->pid, WEXITSTATUS(st));
		else if (WIFSIGNALED(st))
			fprintf(stderr, "server %d killed by signal %d\n",
				(int)srv->pid, WTERMSIG(st));
		interop_log_tail(srv, 20);
	}
	untrack(srv);
	srv->pid = 0;
	return 0;
}

void interop_stop(struct interop_server *srv)
{
	long deadline;
	int st;

	if (!srv->pid || srv->owner != getpid())
		return;
	untrack(srv);
	kill(srv->pid, SIGTERM);
	deadline = now_ms() + STOP_GRACE_MS;
	while (waitpid(srv->pid, &st, WNOHANG) == 0) {
		if (now_ms() > deadline) {
			kill(srv->pid, SIGKILL);
			waitpid(srv->pid, &st, 0);
			break;
		}
		usleep(10000);
	}
	srv->pid = 0;
}

static int try_connect(int port)
{
	struct sockaddr_in sin = {.sin_family = AF_INET};
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	if (fd < 0)
		return -1;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	sin.sin_port = htons((unsigned short)port);
	if (connect(fd, (struct sockaddr *)&sin, sizeof(sin))) {
		close(fd);
		return -1;
	}
	return fd;
}

int interop_wait_port(struct interop_server *srv, int timeout_ms)
{
	long deadline = now_ms() + timeout_ms;
	int fd;

	while (interop_alive(srv)) {
		fd = try_connect(srv->port);
		if (fd >= 0) {
			close(fd);
			return 1;
		}
		if (now_ms() > deadline)
			return 0;
		usleep(20000);
	}
	return 0;
}

int interop_free_port(void)
{
	struct sockaddr_in sin = {.sin_family = AF_INET};
	socklen_t len = sizeof(sin);
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), port;

	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (fd < 0 || bind(fd, (struct sockaddr *)&sin, sizeof(sin)) ||
	    getsockname(fd, (struct sockaddr *)&sin, &len)) {
		perror("free port");
		exit(99);
	}
	port = ntohs(sin.sin_port);
	close(fd);
	return port;
}

int interop_connect(int port)
{
	int fd = try_connect(port), one = 1;

	if (fd < 0) {
		fprintf(stderr, "connect to 127.0.0.1:%d: %s\n", port,
			strerror(errno));
		exit(99);
	}
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	return fd;
}

/* ---- the KEXINIT probe ------------------------------------------------- */

static int read_full(int fd, void *buf, size_t n)
{
	unsigned char *p = buf;

	while (n) {
		struct pollfd pf = {.fd = fd, .events = POLLIN};
		ssize_t r;

		if (poll(&pf, 1, PROBE_TIMEOUT_MS) != 1)
			return -1;
		r = read(fd, p, n);
		if (r <= 0)
			return -1;
		p += r;
		n -= (size_t)r;
	}
	return 0;
}

static uint32_t get32(const unsigned char *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	       (uint32_t)p[2] << 8 | p[3];
}

/* RFC 4253 §4.2: lines before "SSH-" are allowed; the identification
 * ends with CR LF (a bare LF is tolerated). */
static int read_ident(int fd, char *out, size_t cap)
{
	char line[IDENT_MAX + 2];
	size_t n;
	int lines;

	for (lines = 0; lines < 50; lines++) {
		for (n = 0;; n++) {
			if (n >= sizeof(line) - 1 || read_full(fd, line + n, 1))
				return -1;
			if (line[n] == '\n')
				break;
		}
		line[n] = 0;
		if (n && line[n - 1] == '\r')
			line[n - 1] = 0;
		if (!strncmp(line, "SSH-", 4)) {
			size_t len = strlen(line);

			if (len >= cap)
				len = cap - 1;
			memcpy(out, line, len);
			out[len] = 0;
			return 0;
		}
	}
	return -1;
}

int interop_probe_kexinit(int port, struct interop_kexinit *ki)
{
	static const char hello[] = "SSH-2.0-sftpmnt_interop_probe\r\n";
	unsigned char hdr[5], *pkt = NULL;
	size_t off, plen;
	uint32_t len;
	int fd, i, rc = -1;

	memset(ki, 0, sizeof(*ki));
	fd = interop_connect(port);
	if (write(fd, hello, sizeof(hello) - 1) != (ssize_t)sizeof(hello) - 1 ||
	    read_ident(fd, ki->ident, sizeof(ki->ident)) ||
	    read_full(fd, hdr, 5))
		goto out;
	/* uint32 packet_length, byte padding_length, payload, padding */
	len = get32(hdr);
	if (len < 1 + 1 + 16 || len > PACKET_MAX || hdr[4] >= len - 1)
		goto out;
	pkt = malloc(len - 1);
	if (!pkt || read_full(fd, pkt, len - 1))
		goto out;
	plen = len - 1 - hdr[4];
	/* byte SSH_MSG_KEXINIT (20), byte[16] cookie, name-list x 10 */
	if (plen < 17 || pkt[0] != 20)
		goto out;
	off = 17;
	for (i = 0; i < KI_NLISTS; i++) {
		uint32_t n;

		if (plen - off < 4)
			goto out;
		n = get32(pkt + off);
		off += 4;
		if (n > plen - off)
			goto out;
		ki->list[i] = strndup((const char *)pkt + off, n);
		if (!ki->list[i])
			goto out;
		off += n;
	}
	rc = 0;
out:
	if (rc)
		interop_kexinit_free(ki);
	free(pkt);
	close(fd);
	return rc;
}

void interop_kexinit_free(struct interop_kexinit *ki)
{
	int i;

	for (i = 0; i < KI_NLISTS; i++) {
		free(ki->list[i]);
		ki->list[i] = NULL;
	}
}

int interop_list_has(const char *list, const char *name)
{
	size_t n = strlen(name);
	const char *p = list;

	while (p && *p) {
		const char *e = strchr(p, ',');
		size_t len = e ? (size_t)(e - p) : strlen(p);

		if (len == n && !memcmp(p, name, n))
			return 1;
		p = e ? e + 1 : NULL;
	}
	return 0;
}

static void append(char **csv, const char *name, size_t n)
{
	size_t old = *csv ? strlen(*csv) : 0;
	char *p = realloc(*csv, old + n + 2);

	if (!p)
		exit(99);
	if (old)
		p[old++] = ',';
	memcpy(p + old, name, n);
	p[old + n] = 0;
	*csv = p;
}

char **interop_supported(const char *list, int method_type, size_t *count,
			 char **unsupported)
{
	LIBSSH2_SESSION *s = libssh2_session_init();
	const char **algs = NULL;
	const char *p = list;
	char **v = calloc(strlen(list) + 2, sizeof(*v));
	int nalgs, i;
	size_t n = 0;

	if (!s || !v)
		exit(99);
	nalgs = libssh2_session_supported_algs(s, method_type, &algs);
	if (nalgs < 0) {
		fprintf(stderr, "supported_algs(%d): %d\n", method_type, nalgs);
		exit(99);
	}
	while (p && *p) {
		const char *e = strchr(p, ',');
		size_t len = e ? (size_t)(e - p) : strlen(p);
		int ok = 0;

		for (i = 0; i < nalgs && !ok; i++)
			ok = strlen(algs[i]) == len && !memcmp(algs[i], p, len);
		if (ok) {
			v[n] = strndup(p, len);
			if (!v[n++])
				exit(99);
		} else if (unsupported && len) {
			append(unsupported, p, len);
		}
		p = e ? e + 1 : NULL;
	}
	libssh2_free(s, algs);
	libssh2_session_free(s);
	*count = n;
	return v;
}

char **interop_supported_print(const char *server, const char *what,
			       const char *list, int method_type, size_t *n)
{
	char *unsupported = NULL;
	char **v = interop_supported(list, method_type, n, &unsupported);

	printf("%s %s: %s\n  tested: ", server, what, list);
	for (size_t i = 0; i < *n; i++)
		printf("%s%s", i ? "," : "", v[i]);
	printf("\n  not tested (unsupported, or markers such as "
	       "ext-info-s): %s\n",
	       unsupported ? unsupported : "(none)");
	free(unsupported);
	return v;
}

void interop_strv_free(char **v)
{
	size_t i;

	for (i = 0; v && v[i]; i++)
		free(v[i]);
	free(v);
}

/* ---- keys -------------------------------------------------------------- */

unsigned char *interop_pubkey_blob(const char *line, size_t *outlen)
{
	static const char tbl[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnop"
				  "qrstuvwxyz0123456789+/";
	const char *b = strchr(line, ' ');
	unsigned char *out;
	uint32_t acc = 0;
	size_t o = 0;
	int bits = 0;

	if (!b)
		return NULL;
	b++;
	out = malloc(strlen(b) + 1);
	if (!out)
		exit(99);
	for (; *b && *b != '=' && *b != ' ' && *b != '\n'; b++) {
		const char *c = strchr(tbl, *b);

		if (!c || !*c) {
			free(out);
			return NULL;
		}
		acc = acc << 6 | (uint32_t)(c - tbl);
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			out[o++] = (unsigned char)(acc >> bits);
		}
	}
	*outlen = o;
	return out;
}

/* ---- sessions ---------------------------------------------------------- */

const char *interop_errmsg(LIBSSH2_SESSION *s)
{
	char *m = NULL;

	libssh2_session_last_error(s, &m, NULL, 0);
	return m ? m : "(none)";
}

int interop_exec(LIBSSH2_SESSION *s, const char *cmd, char *out, size_t cap)
{
	LIBSSH2_CHANNEL *c = libssh2_channel_open_session(s);
	char errbuf[256];
	size_t got = 0;
	ssize_t n;
	int rc;

	if (!c)
		return libssh2_session_last_errno(s);
	if ((rc = libssh2_channel_exec(c, cmd)))
		goto out;
	for (;;) {
		n = libssh2_channel_read(c, out + got, cap - 1 - got);
		if (n < 0) {
			rc = (int)n;
			goto out;
		}
		if (n == 0)
			break;
		got += (size_t)n;
		if (got == cap - 1)
			break;
	}
	out[got] = 0;
	while ((n = libssh2_channel_read_stderr(c, errbuf, sizeof(errbuf))) > 0)
		;
	if ((rc = libssh2_channel_close(c)) ||
	    (rc = libssh2_channel_wait_closed(c)))
		goto out;
	rc = libssh2_channel_get_exit_status(c);
out:
	libssh2_channel_free(c);
	return rc;
}

/* ---- Check helpers ----------------------------------------------------- */

void interop_open(struct interop_conn *c, int port,
		  const char *const prefs[INTEROP_NPREFS], const char *banner)
{
	int rc, t;

	c->s = libssh2_session_init();
	ck_assert_ptr_nonnull(c->s);
	libssh2_session_set_timeout(c->s, INTEROP_TIMEOUT_MS);
	for (t = 0; prefs && t < INTEROP_NPREFS; t++)
		if (prefs[t])
			ck_assert_msg(
				!libssh2_session_method_pref(c->s, t, prefs[t]),
				"method_pref(%d, %s): %s", t, prefs[t],
				interop_errmsg(c->s));
	if (banner)
		ck_assert_int_eq(libssh2_session_banner_set(c->s, banner), 0);
	c->fd = interop_connect(port);
	rc = libssh2_session_handshake(c->s, c->fd);
	ck_assert_msg(rc == 0, "handshake: %d %s", rc, interop_errmsg(c->s));
}

void interop_algorithm_case(int port, int ki, const char *name,
			    const char *mac_cipher, const char *hostkey_dir,
			    void (*login)(struct interop_conn *c))
{
	const char *prefs[INTEROP_NPREFS] = {0};
	struct interop_conn c;

	switch (ki) {
	case KI_KEX:
		prefs[LIBSSH2_METHOD_KEX] = name;
		break;
	case KI_HOSTKEY:
		prefs[LIBSSH2_METHOD_HOSTKEY] = name;
		break;
	case KI_ENC_CS:
		prefs[LIBSSH2_METHOD_CRYPT_CS] = name;
		prefs[LIBSSH2_METHOD_CRYPT_SC] = name;
		break;
	case KI_MAC_CS:
		ck_assert_ptr_nonnull(mac_cipher);
		prefs[LIBSSH2_METHOD_CRYPT_CS] = mac_cipher;
		prefs[LIBSSH2_METHOD_CRYPT_SC] = mac_cipher;
		prefs[LIBSSH2_METHOD_MAC_CS] = name;
		prefs[LIBSSH2_METHOD_MAC_SC] = name;
		break;
	default:
		ck_abort_msg("no algorithm case for list %d", ki);
	}
	interop_open(&c, port, prefs, NULL);
	switch (ki) {
	case KI_KEX:
		interop_check_method(&c, LIBSSH2_METHOD_KEX, name);
		break;
	case KI_HOSTKEY:
		interop_check_hostkey(&c, hostkey_dir, name);
		break;
	case KI_ENC_CS:
		interop_check_method(&c, LIBSSH2_METHOD_CRYPT_CS, name);
		interop_check_method(&c, LIBSSH2_METHOD_CRYPT_SC, name);
		break;
	case KI_MAC_CS:
		interop_check_method(&c, LIBSSH2_METHOD_MAC_CS, name);
		interop_check_method(&c, LIBSSH2_METHOD_MAC_SC, name);
		break;
	}
	login(&c);
	interop_close(&c);
}

void interop_close(struct interop_conn *c)
{
	ck_assert_int_eq(libssh2_session_disconnect(c->s, "test done"), 0);
	ck_assert_int_eq(libssh2_session_free(c->s), 0);
	close(c->fd);
}

void interop_check_method(struct interop_conn *c, int type, const char *want)
{
	const char *got = libssh2_session_methods(c->s, type);

	ck_assert_msg(got != NULL, "methods(%d): %s", type,
		      interop_errmsg(c->s));
	ck_assert_str_eq(got, want);
}

void interop_check_hostkey(struct interop_conn *c, const char *dir,
			   const char *alg)
{
	static const struct {
		const char *alg, *file;
		int type;
	} map[] = {
		{"ssh-ed25519", "host_ed25519", LIBSSH2_HOSTKEY_TYPE_ED25519},
		{"ecdsa-sha2-nistp256", "host_ecdsa256",
		 LIBSSH2_HOSTKEY_TYPE_ECDSA_256},
		{"ecdsa-sha2-nistp384", "host_ecdsa384",
		 LIBSSH2_HOSTKEY_TYPE_ECDSA_384},
		{"ecdsa-sha2-nistp521", "host_ecdsa521",
		 LIBSSH2_HOSTKEY_TYPE_ECDSA_521},
		{"rsa-sha2-256", "host_rsa", LIBSSH2_HOSTKEY_TYPE_RSA},
		{"rsa-sha2-512", "host_rsa", LIBSSH2_HOSTKEY_TYPE_RSA},
		{"ssh-rsa", "host_rsa", LIBSSH2_HOSTKEY_TYPE_RSA},
	};
	char path[PATH_MAX], *line;
	unsigned char *want;
	const char *got;
	size_t i, wlen, glen = 0;
	int gtype = -1;

	interop_check_method(c, LIBSSH2_METHOD_HOSTKEY, alg);
	for (i = 0; i < sizeof(map) / sizeof(map[0]); i++)
		if (!strcmp(map[i].alg, alg))
			break;
	ck_assert_msg(i < sizeof(map) / sizeof(map[0]), "host key %s", alg);
	snprintf(path, sizeof(path), "%s/%s.pub", dir, map[i].file);
	line = interop_slurp(path, NULL);
	want = interop_pubkey_blob(line, &wlen);
	ck_assert_ptr_nonnull(want);
	got = libssh2_session_hostkey(c->s, &glen, &gtype);
	ck_assert_ptr_nonnull(got);
	ck_assert_int_eq(gtype, map[i].type);
	ck_assert_uint_eq(glen, wlen);
	ck_assert_msg(!memcmp(got, want, wlen), "%s: host key blob differs",
		      alg);
	ck_assert_ptr_nonnull(
		libssh2_hostkey_hash(c->s, LIBSSH2_HOSTKEY_HASH_SHA256));
	free(want);
	free(line);
}
