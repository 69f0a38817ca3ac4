/*
 * libbench.c - the library-level transfer benchmark (bench/libbench).
 *
 * A plain libssh2 program: connect, authenticate with a key file, and
 * read (download) or write (upload) one file through libssh2_sftp_read /
 * libssh2_sftp_write with a large buffer, the way a program written for
 * libssh2 moves data.  The same source is built against our library
 * (make) and against Debian's libssh2 1.10 (bench/libbench compiles it
 * with our header and links the system's libssh2.so.1: the ABI is
 * libssh2's).  Prints one line: "bytes seconds MB/s cipher" (the
 * seconds of the transfer alone, from open to close).
 *
 *   libbench HOST PORT USER KEYFILE read|write REMOTE_PATH [MIB]
 *   libbench HOST PORT USER KEYFILE exec COMMAND [MIB]
 *
 * exec: the channel benchmark (issue #3, against `ssh -c CIPHER host
 * COMMAND`): runs COMMAND in a session channel and reads its output
 * through libssh2_channel_read until its end (MIB is only a check: at
 * least that much must come).
 *
 * LIBBENCH_CIPHER=name asks for that cipher both ways (libssh2 1.10 has
 * no AES-GCM: leave it unset there and the cipher used is printed).
 * LIBBENCH_BUF=KiB sets the buffer each call passes (default 2048: 2 MiB;
 * issue #6 names 256).
 *
 * The host key is not checked: this runs against the private test sshd
 * on 127.0.0.1 only.  Exit status 0 on success, 1 with a message.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "libssh2.h"
#include "libssh2_sftp.h"

static size_t buf_size = 2u * 1024 * 1024;

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int fail(LIBSSH2_SESSION *s, const char *what)
{
	char *msg = NULL;

	if (s)
		libssh2_session_last_error(s, &msg, NULL, 0);
	fprintf(stderr, "libbench: %s%s%s\n", what, msg ? ": " : "",
		msg ? msg : "");
	return 1;
}

/* exec: COMMAND's output through one session channel. */
static int run_exec(LIBSSH2_SESSION *s, int sock, const char *cmd,
		    unsigned long long want, char *buf)
{
	LIBSSH2_CHANNEL *ch;
	unsigned long long total = 0;
	const char *cipher = libssh2_session_methods(s, LIBSSH2_METHOD_CRYPT_SC);
	double t0 = now(), dt;
	ssize_t r;
	int rc = 0;

	if (!(ch = libssh2_channel_open_session(s)))
		return fail(s, "channel_open_session");
	if (libssh2_channel_exec(ch, cmd))
		return fail(s, "channel_exec");
	while ((r = libssh2_channel_read(ch, buf, buf_size)) > 0)
		total += (unsigned long long)r;
	if (r < 0)
		rc = fail(s, "channel_read");
	dt = now() - t0;
	libssh2_channel_close(ch);
	libssh2_channel_free(ch);
	libssh2_session_disconnect(s, "done");
	libssh2_session_free(s);
	libssh2_exit();
	close(sock);
	free(buf);
	if (!rc && total < want)
		rc = fail(NULL, "the command's output was short");
	if (!rc)
		printf("%llu %.3f %.1f %s\n", total, dt,
		       (double)total / dt / 1e6, cipher ? cipher : "?");
	return rc;
}

int main(int argc, char **argv)
{
	struct sockaddr_in sa = { .sin_family = AF_INET };
	LIBSSH2_SESSION *s = NULL;
	LIBSSH2_SFTP *sftp;
	LIBSSH2_SFTP_HANDLE *h;
	int sock, one = 1, writing, rc = 0;
	unsigned long long total = 0, want;
	char *buf;
	double t0, dt;
	const char *cipher;

	if (argc < 7 || (strcmp(argv[5], "read") && strcmp(argv[5], "write") &&
			 strcmp(argv[5], "exec"))) {
		fprintf(stderr, "usage: libbench HOST PORT USER KEYFILE "
				"read|write REMOTE_PATH [MIB]\n"
				"       libbench HOST PORT USER KEYFILE "
				"exec COMMAND [MIB]\n");
		return 2;
	}
	writing = !strcmp(argv[5], "write");
	want = (argc > 7 ? strtoull(argv[7], NULL, 10) : 256) << 20;
	if (getenv("LIBBENCH_BUF")) {
		unsigned long kib = strtoul(getenv("LIBBENCH_BUF"), NULL, 10);

		if (kib < 1 || kib > 1024 * 1024) {
			fprintf(stderr, "libbench: LIBBENCH_BUF is KiB, 1 to 1048576\n");
			return 1;
		}
		buf_size = (size_t)kib * 1024;
	}
	if (!(buf = malloc(buf_size)))
		return fail(NULL, "out of memory");
	memset(buf, 'x', buf_size);
	sa.sin_port = htons((unsigned short)atoi(argv[2]));
	if (inet_pton(AF_INET, argv[1], &sa.sin_addr) != 1)
		return fail(NULL, "HOST must be an IPv4 address");
	sock = socket(AF_INET, SOCK_STREAM, 0);
	if (sock < 0 || connect(sock, (struct sockaddr *)&sa, sizeof(sa)))
		return fail(NULL, "cannot connect");
	setsockopt(sock, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (libssh2_init(0) || !(s = libssh2_session_init()))
		return fail(NULL, "libssh2_init");
	if (getenv("LIBBENCH_CIPHER") &&
	    (libssh2_session_method_pref(s, LIBSSH2_METHOD_CRYPT_CS,
					 getenv("LIBBENCH_CIPHER")) ||
	     libssh2_session_method_pref(s, LIBSSH2_METHOD_CRYPT_SC,
					 getenv("LIBBENCH_CIPHER"))))
		return fail(s, "LIBBENCH_CIPHER");
	if (libssh2_session_handshake(s, sock))
		return fail(s, "handshake");
	if (libssh2_userauth_publickey_fromfile(s, argv[3], NULL, argv[4], NULL))
		return fail(s, "authentication");
	if (!strcmp(argv[5], "exec"))
		return run_exec(s, sock, argv[6], want, buf);
	if (!(sftp = libssh2_sftp_init(s)))
		return fail(s, "sftp_init");
	h = libssh2_sftp_open(sftp, argv[6],
			      writing ? LIBSSH2_FXF_WRITE | LIBSSH2_FXF_CREAT |
						LIBSSH2_FXF_TRUNC
				      : LIBSSH2_FXF_READ,
			      0644);
	if (!h)
		return fail(s, "open");
	cipher = libssh2_session_methods(s, LIBSSH2_METHOD_CRYPT_SC);
	t0 = now();
	while (total < want) {
		size_t n = want - total < buf_size ? (size_t)(want - total) : buf_size;
		ssize_t r = writing ? libssh2_sftp_write(h, buf, n)
				    : libssh2_sftp_read(h, buf, n);

		if (r < 0) {
			rc = fail(s, writing ? "write" : "read");
			break;
		}
		if (r == 0)
			break; /* end of the file */
		total += (unsigned long long)r;
	}
	if (libssh2_sftp_close(h) && !rc)
		rc = fail(s, "close");
	dt = now() - t0;
	libssh2_sftp_shutdown(sftp);
	libssh2_session_disconnect(s, "done");
	libssh2_session_free(s);
	libssh2_exit();
	close(sock);
	free(buf);
	if (!rc)
		printf("%llu %.3f %.1f %s\n", total, dt,
		       (double)total / dt / 1e6, cipher ? cipher : "?");
	return rc;
}
