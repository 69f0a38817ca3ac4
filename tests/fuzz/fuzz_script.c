/*
 * fuzz_script.c - the client side of a whole session, as fuzz_session,
 * fuzz_client and the seed recorder (capture.c) run it: the same calls
 * in the same order, so a session recorded against a real sshd replays
 * in the harnesses byte for byte (with fuzz_common.c's fixed randomness
 * the server's signature over the exchange hash still verifies).
 *
 * The session is non-blocking unless the caller made it blocking (the
 * recorder); each call is retried while it says EAGAIN, and a call that
 * keeps saying EAGAIN while the I/O hooks are not even asked for bytes
 * is a livelock: the harness traps (a hang is a bug like a crash).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fuzz.h"
#include "libssh2.h"
#include "libssh2_sftp.h"
#include "session.h"

/* A throwaway key (ssh-keygen -t ed25519 -C fuzz-client), authorized by
 * the recorder on the fixture; its public half is in the README. */
/* clang-format off */
static const char client_key[] =
	"-----BEGIN OPENSSH PRIVATE KEY-----\n"
	"b3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQAAAAAAAAABAAAAMwAAAAtzc2gtZW\n"
	"QyNTUxOQAAACCc/UZOil7ROCjtoK+emRAUIr7nSVGAdH5xMjUBPxA/pAAAAJCe6G00nuht\n"
	"NAAAAAtzc2gtZWQyNTUxOQAAACCc/UZOil7ROCjtoK+emRAUIr7nSVGAdH5xMjUBPxA/pA\n"
	"AAAEB1rEo5CmF4qpJPDVMX8/SdjMK7AHN9g4xWnn5ZQB9FDZz9Rk6KXtE4KO2gr56ZEBQi\n"
	"vudJUYB0fnEyNQE/ED+kAAAAC2Z1enotY2xpZW50AQI=\n"
	"-----END OPENSSH PRIVATE KEY-----\n";
/* clang-format on */

static const char *const kex_names[] = {
	NULL,
	"curve25519-sha256",
	"curve25519-sha256@libssh.org",
	"ecdh-sha2-nistp256",
	"ecdh-sha2-nistp384",
	"ecdh-sha2-nistp521",
	"diffie-hellman-group-exchange-sha256",
	"diffie-hellman-group16-sha512",
	"diffie-hellman-group18-sha512",
	"diffie-hellman-group14-sha256",
	"diffie-hellman-group14-sha1",
	"diffie-hellman-group1-sha1",
	"diffie-hellman-group-exchange-sha1",
	"sntrup761x25519-sha512@openssh.com",
	NULL,
	NULL,
};

static const char *const hostkey_names[] = {
	NULL,
	"ssh-ed25519",
	"ecdsa-sha2-nistp256",
	"ecdsa-sha2-nistp384",
	"ecdsa-sha2-nistp521",
	"rsa-sha2-512",
	"rsa-sha2-256",
	"ssh-rsa",
};

void fuzz_prefs(LIBSSH2_SESSION *s, uint8_t cfg)
{
	const char *kex = kex_names[cfg & 15];
	const char *hk = hostkey_names[(cfg >> 4) & 7];

	if (kex)
		libssh2_session_method_pref(s, LIBSSH2_METHOD_KEX, kex);
	if (hk)
		libssh2_session_method_pref(s, LIBSSH2_METHOD_HOSTKEY, hk);
	if (cfg & 0x80) {
		/* the transport's MAC-then-encrypt path */
		libssh2_session_method_pref(s, LIBSSH2_METHOD_CRYPT_CS,
					    "aes128-ctr");
		libssh2_session_method_pref(s, LIBSSH2_METHOD_CRYPT_SC,
					    "aes128-ctr");
		libssh2_session_method_pref(s, LIBSSH2_METHOD_MAC_CS,
					    "hmac-sha2-256");
		libssh2_session_method_pref(s, LIBSSH2_METHOD_MAC_SC,
					    "hmac-sha2-256");
	}
}

/* ---- the server's bytes from memory -------------------------------------- */

static struct {
	const uint8_t *p;
	size_t n, off;
	unsigned long rcalls, scalls;
} feed;

static const size_t chunks[] = {1, 2, 5, 17, 64, 333, 1460, 8192, 65536};

static LIBSSH2_RECV_FUNC(feed_recv)
{
	size_t k;

	(void)socket;
	(void)flags;
	(void)abstract;
	fuzz_io_calls++;
	if (feed.rcalls++ % 2 == 0)
		return -EAGAIN;
	if (feed.off == feed.n)
		return 0;
	k = chunks[(feed.rcalls / 2) % (sizeof(chunks) / sizeof(chunks[0]))];
	if (k > length)
		k = length;
	if (k > feed.n - feed.off)
		k = feed.n - feed.off;
	memcpy(buffer, feed.p + feed.off, k);
	feed.off += k;
	return (ssize_t)k;
}

static LIBSSH2_SEND_FUNC(feed_send)
{
	(void)socket;
	(void)buffer;
	(void)flags;
	(void)abstract;
	fuzz_io_calls++;
	if (feed.scalls++ % 3 == 0)
		return -EAGAIN;
	return (ssize_t)(length > 700 && feed.scalls % 2 ? 700 : length);
}

/* The server's messages passed to the callbacks must be readable to
 * their stated length. */
static unsigned touch(const char *p, int n)
{
	unsigned x = 0;
	int i;

	for (i = 0; i < n; i++)
		x += (unsigned char)p[i];
	return x;
}

static volatile unsigned sink;

static LIBSSH2_IGNORE_FUNC(on_ignore)
{
	(void)session;
	(void)abstract;
	sink += touch(message, message_len);
}

static LIBSSH2_DEBUG_FUNC(on_debug)
{
	(void)session;
	(void)abstract;
	sink += always_display + touch(message, message_len) +
		touch(language, language_len);
}

static LIBSSH2_DISCONNECT_FUNC(on_disconnect)
{
	(void)session;
	(void)abstract;
	sink += reason + touch(message, message_len) +
		touch(language, language_len);
}

void fuzz_feed(LIBSSH2_SESSION *s, const uint8_t *p, size_t n,
	       libssh2_socket_t *sock)
{
	static int fd = -1;

	if (fd < 0)
		fd = open("/dev/null", O_RDWR | O_CLOEXEC);
	*sock = fd;
	feed.p = p;
	feed.n = n;
	feed.off = 0;
	feed.rcalls = feed.scalls = 0;
	libssh2_session_set_blocking(s, 0);
	libssh2_session_callback_set2(s, LIBSSH2_CALLBACK_RECV,
				      (libssh2_cb_generic *)feed_recv);
	libssh2_session_callback_set2(s, LIBSSH2_CALLBACK_SEND,
				      (libssh2_cb_generic *)feed_send);
	libssh2_session_callback_set2(s, LIBSSH2_CALLBACK_IGNORE,
				      (libssh2_cb_generic *)on_ignore);
	libssh2_session_callback_set2(s, LIBSSH2_CALLBACK_DEBUG,
				      (libssh2_cb_generic *)on_debug);
	libssh2_session_callback_set2(s, LIBSSH2_CALLBACK_DISCONNECT,
				      (libssh2_cb_generic *)on_disconnect);
}

/* ---- sessions in the clear ---------------------------------------------- */

/* RFC 4253 §6 packets, block size 8, no MAC, padding of zeros. */
uint8_t *fuzz_frame(struct fz *f, size_t *len)
{
	struct wbuf w;

	wb_init(&w, &lalloc_system, 64u * 1024 * 1024);
	while (f->n > 0) {
		size_t n, pad;
		const uint8_t *p = fz_piece(f, &n);
		static const uint8_t zeros[16];

		if (n == 0)
			continue;
		pad = 8 - (5 + n) % 8;
		if (pad < 4)
			pad += 8;
		if (wb_u32(&w, (uint32_t)(1 + n + pad)) ||
		    wb_u8(&w, (uint8_t)pad) || wb_bytes(&w, p, n) ||
		    wb_bytes(&w, zeros, pad))
			break;
	}
	*len = w.len;
	return w.p;
}

int fuzz_clear_session(LIBSSH2_SESSION *s, const uint8_t *stream, size_t n,
		       libssh2_socket_t *sock)
{
	fuzz_feed(s, stream, n, sock);
	/* as after the first key exchange, without keys */
	if (sess_attach_socket(s, *sock))
		return -1;
	s->state = SESS_READY;
	s->kex.rounds = 1;
	s->kex.started_ms = sess_now_ms(); /* no rekey due */
	s->kex.sidlen = 32;
	memset(s->kex.session_id, 0x5a, 32);
	strcpy(s->remote_banner, FUZZ_SERVER_BANNER);
	return 0;
}

/* ---- retrying non-blocking calls -------------------------------------- */

unsigned long fuzz_io_calls; /* bumped by the harnesses' I/O hooks */

#define SPIN_MAX 10000


/* 1 to call again after EAGAIN; traps on a livelock. */
int fuzz_again(LIBSSH2_SESSION *s, struct fuzz_spin *sp, int rc)
{
	if (rc != LIBSSH2_ERROR_EAGAIN)
		return 0;
	if (fuzz_io_calls == sp->io) {
		if (++sp->idle > SPIN_MAX) {
			fprintf(stderr, "fuzz: EAGAIN without any I/O\n");
			__builtin_trap();
		}
	} else {
		sp->idle = 0;
		sp->io = fuzz_io_calls;
	}
	return 1;
}

/* ---- the script ------------------------------------------------------- */

/* FUZZ_TRACE=1 in the environment: each step's result on stderr, to see
 * how far a seed replays. */
static int step(LIBSSH2_SESSION *s, const char *what, long rc)
{
	static int trace = -1;
	char *msg = NULL;

	if (trace < 0)
		trace = getenv("FUZZ_TRACE") != NULL;
	if (trace) {
		libssh2_session_last_error(s, &msg, NULL, 0);
		fprintf(stderr, "fuzz: %-12s %ld (%s)\n", what, rc,
			rc < 0 ? msg : "");
	}
	return (int)rc;
}

static void after_handshake(LIBSSH2_SESSION *s)
{
	size_t len;
	int type, i;

	libssh2_session_hostkey(s, &len, &type);
	libssh2_hostkey_hash(s, LIBSSH2_HOSTKEY_HASH_SHA256);
	libssh2_session_banner_get(s);
	for (i = 0; i <= LIBSSH2_METHOD_LANG_SC; i++)
		libssh2_session_methods(s, i);
}

static void channel_exec(LIBSSH2_SESSION *s)
{
	LIBSSH2_CHANNEL *ch;
	char buf[1024], *sig = NULL;
	size_t siglen = 0;
	int i;

	ch = RETRY_PTR(s, libssh2_channel_open_session(s));
	if (step(s, "channel_open", ch ? 0 : -1))
		return;
	if (step(s, "exec",
		 RETRY(libssh2_channel_exec(ch, "echo fuzz; echo err >&2"))) ==
	    0) {
		for (i = 0; i < 64; i++) {
			ssize_t r = RETRY((int)libssh2_channel_read(
				ch, buf, sizeof(buf)));
			ssize_t e = RETRY((int)libssh2_channel_read_stderr(
				ch, buf, sizeof(buf)));

			if (r <= 0 && e <= 0)
				break;
		}
		RETRY(libssh2_channel_send_eof(ch));
		RETRY(libssh2_channel_wait_eof(ch));
	}
	RETRY(libssh2_channel_close(ch));
	step(s, "closed", RETRY(libssh2_channel_wait_closed(ch)));
	libssh2_channel_get_exit_status(ch);
	libssh2_channel_get_exit_signal(ch, &sig, &siglen, NULL, NULL, NULL,
					NULL);
	libssh2_free(s, sig);
	libssh2_channel_free(ch);
}

static void sftp_ops(LIBSSH2_SESSION *s)
{
	static const char wfile[] = "/tmp/sftpmnt-fuzz-capture";
	LIBSSH2_SFTP *sf;
	LIBSSH2_SFTP_HANDLE *h;
	LIBSSH2_SFTP_ATTRIBUTES at;
	LIBSSH2_SFTP_STATVFS vfs;
	char buf[4096], lbuf[512];
	int i;

	sf = RETRY_PTR(s, libssh2_sftp_init(s));
	if (step(s, "sftp_init", sf ? 0 : -1))
		return;
	step(s, "realpath",
	     RETRY(libssh2_sftp_realpath(sf, ".", buf, sizeof(buf))));
	RETRY(libssh2_sftp_stat(sf, "/", &at));
	RETRY(libssh2_sftp_lstat(sf, "/bin", &at));
	RETRY(libssh2_sftp_readlink(sf, "/bin", buf, sizeof(buf)));
	RETRY(libssh2_sftp_statvfs(sf, "/", 1, &vfs));
	h = RETRY_PTR(s, libssh2_sftp_opendir(sf, "/"));
	if (h) {
		for (i = 0; i < 200; i++)
			if (RETRY(libssh2_sftp_readdir_ex(h, buf, sizeof(buf),
							  lbuf, sizeof(lbuf),
							  &at)) <= 0)
				break;
		step(s, "closedir", RETRY(libssh2_sftp_closedir(h)));
	}
	h = RETRY_PTR(
		s, libssh2_sftp_open(sf, "/etc/hostname", LIBSSH2_FXF_READ, 0));
	if (h) {
		RETRY(libssh2_sftp_fstat(h, &at));
		for (i = 0; i < 64; i++)
			if (RETRY((int)libssh2_sftp_read(h, buf,
							 sizeof(buf))) <= 0)
				break;
		step(s, "close", RETRY(libssh2_sftp_close(h)));
	}
	h = RETRY_PTR(s,
		      libssh2_sftp_open(sf, wfile,
					LIBSSH2_FXF_WRITE | LIBSSH2_FXF_CREAT |
						LIBSSH2_FXF_TRUNC,
					0600));
	if (h) {
		memset(buf, 'x', sizeof(buf));
		RETRY((int)libssh2_sftp_write(h, buf, sizeof(buf)));
		RETRY(libssh2_sftp_fsync(h));
		RETRY(libssh2_sftp_close(h));
		step(s, "unlink", RETRY(libssh2_sftp_unlink(sf, wfile)));
	}
	RETRY(libssh2_sftp_stat(sf, "/nonexistent", &at));
	step(s, "sftp_shutdown", RETRY(libssh2_sftp_shutdown(sf)));
}

/*
 * Run the session on sock: the handshake (unless the caller did it or
 * skipped it: handshake 0), authentication as root with client_key, a
 * command on a channel, SFTP.  Every step runs even when an earlier one
 * failed (the calls on a dead session are fuzzed too).
 */
void fuzz_script(LIBSSH2_SESSION *s, libssh2_socket_t sock, int handshake)
{
	if (handshake &&
	    step(s, "handshake", RETRY(libssh2_session_handshake(s, sock))))
		return;
	after_handshake(s);
	/* "none" first (RFC 4252 5.2), then the key unless "none" worked */
	step(s, "userauth_list",
	     RETRY_PTR(s, libssh2_userauth_list(s, "root", 4)) ? 0 : -1);
	if (!libssh2_userauth_authenticated(s))
		step(s, "publickey",
		     RETRY(libssh2_userauth_publickey_frommemory(
			     s, "root", 4, NULL, 0, client_key,
			     sizeof(client_key) - 1, NULL)));
	channel_exec(s);
	sftp_ops(s);
	step(s, "disconnect", RETRY(libssh2_session_disconnect(s, "bye")));
}
