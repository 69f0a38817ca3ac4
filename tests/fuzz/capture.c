/*
 * capture.c - record sessions with a real sshd as seeds for the fuzz
 * harnesses (see tests/fuzz/README).
 *
 *	capture PORT CFG OUTDIR
 *
 * Connects to 127.0.0.1:PORT and runs fuzz_script.c's session with the
 * method configuration CFG (fuzz_prefs, a number) and the harnesses'
 * fixed randomness, recording what the server sent: its raw bytes, and
 * (through -Wl,--wrap=tp_recv,--wrap=hostkey_verify) every decrypted
 * message and the host key check.  Writes under OUTDIR one seed each for
 * packet, kexinit, hostkey, session and client, named cfgXX, and the
 * SFTP replies for sftp as cfgXX-N.  Not a harness: built by
 * `tests/fuzz/build.sh -c`.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "buf.h"
#include "fuzz.h"
#include "libssh2.h"
#include "sftp_proto.h"

struct blob {
	uint8_t *p;
	size_t n;
};

static struct blob raw;		 /* the server's bytes */
static struct blob msgs[4096];	 /* decrypted messages */
static size_t nmsgs, newkeys_at; /* index after the first NEWKEYS */
static struct blob hk;		 /* the hostkey seed */

static void add(struct blob *b, const void *p, size_t n)
{
	b->p = realloc(b->p, b->n + n + 1);
	if (!b->p)
		abort();
	memcpy(b->p + b->n, p, n);
	b->n += n;
}

static void add_u16(struct blob *b, size_t n)
{
	uint8_t l[2] = {(uint8_t)(n >> 8), (uint8_t)n};

	if (n > 0xffff) {
		fprintf(stderr, "capture: a message over 64 KiB\n");
		exit(1);
	}
	add(b, l, 2);
}

static LIBSSH2_RECV_FUNC(tee_recv)
{
	ssize_t r = recv(socket, buffer, length, flags);

	(void)abstract;
	if (r > 0)
		add(&raw, buffer, (size_t)r);
	return r < 0 ? -errno : r;
}

int __real_tp_recv(void *t, const uint8_t **payload, size_t *n,
		   const char **why);
int __wrap_tp_recv(void *t, const uint8_t **payload, size_t *n,
		   const char **why);
int __wrap_tp_recv(void *t, const uint8_t **payload, size_t *n,
		   const char **why)
{
	int rc = __real_tp_recv(t, payload, n, why);

	if (rc == 1 && nmsgs < sizeof(msgs) / sizeof(msgs[0])) {
		add(&msgs[nmsgs++], *payload, *n);
		if (!newkeys_at && (*payload)[0] == 21)
			newkeys_at = nmsgs;
	}
	return rc;
}

int __real_hostkey_verify(const char *sigalg, const uint8_t *blob,
			  size_t bloblen, const uint8_t *sig, size_t siglen,
			  const uint8_t *data, size_t datalen);
int __wrap_hostkey_verify(const char *sigalg, const uint8_t *blob,
			  size_t bloblen, const uint8_t *sig, size_t siglen,
			  const uint8_t *data, size_t datalen);
int __wrap_hostkey_verify(const char *sigalg, const uint8_t *blob,
			  size_t bloblen, const uint8_t *sig, size_t siglen,
			  const uint8_t *data, size_t datalen)
{
	/* fuzz_hostkey.c's list */
	static const char *const algs[] = {
		"ssh-ed25519",
		"ecdsa-sha2-nistp256",
		"ecdsa-sha2-nistp384",
		"ecdsa-sha2-nistp521",
		"rsa-sha2-256",
		"rsa-sha2-512",
		"ssh-rsa",
	};
	uint8_t a = 0;
	size_t i;

	for (i = 0; i < sizeof(algs) / sizeof(algs[0]); i++)
		if (!strcmp(algs[i], sigalg))
			a = (uint8_t)i;
	hk.n = 0;
	add(&hk, &a, 1);
	add_u16(&hk, bloblen);
	add(&hk, blob, bloblen);
	add_u16(&hk, siglen);
	add(&hk, sig, siglen);
	add(&hk, data, datalen);
	return __real_hostkey_verify(sigalg, blob, bloblen, sig, siglen, data,
				     datalen);
}

static void put(const char *dir, const char *sub, const char *name,
		const struct blob *b)
{
	char path[4096];
	FILE *fp;

	snprintf(path, sizeof(path), "%s/%s", dir, sub);
	mkdir(path, 0755);
	snprintf(path, sizeof(path), "%s/%s/%s", dir, sub, name);
	fp = fopen(path, "wb");
	if (!fp || fwrite(b->p, 1, b->n, fp) != b->n || fclose(fp)) {
		perror(path);
		exit(1);
	}
}

/* SFTP replies: the CHANNEL_DATA (94) of each channel, framed. */
static void sftp_seeds(const char *dir, const char *tag)
{
	struct blob ch[8] = {{0}};
	size_t i, k = 0;

	for (i = newkeys_at; i < nmsgs; i++) {
		struct rbuf r;
		uint8_t type;
		uint32_t id;
		const uint8_t *d;
		size_t dn;

		rb_init(&r, msgs[i].p, msgs[i].n);
		if (rb_u8(&r, &type) || type != 94 || rb_u32(&r, &id) ||
		    id >= 8 || rb_string(&r, &d, &dn, SIZE_MAX))
			continue;
		add(&ch[id], d, dn);
	}
	for (i = 0; i < 8; i++) {
		const uint8_t *p = ch[i].p;
		size_t n = ch[i].n, len;

		while (p && sftp_frame(p, n, &len) == 0) {
			struct blob b = {(uint8_t *)p + 4, len - 4};
			char name[64];

			snprintf(name, sizeof(name), "%s-%zu", tag, k++);
			put(dir, "sftp", name, &b);
			p += len;
			n -= len;
		}
		free(ch[i].p);
	}
}

int main(int argc, char **argv)
{
	struct sockaddr_in sin = {.sin_family = AF_INET};
	struct blob b = {0};
	LIBSSH2_SESSION *s;
	const uint8_t *nl;
	uint8_t cfg, ctl;
	size_t i, off;
	char tag[16];
	int sock;

	if (argc != 4) {
		fprintf(stderr, "usage: capture PORT CFG OUTDIR\n");
		return 2;
	}
	cfg = (uint8_t)strtoul(argv[2], NULL, 0);
	snprintf(tag, sizeof(tag), "cfg%02x", cfg);
	sin.sin_port = htons((uint16_t)atoi(argv[1]));
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	sock = socket(AF_INET, SOCK_STREAM, 0);
	if (sock < 0 || connect(sock, (struct sockaddr *)&sin, sizeof(sin))) {
		perror("connect");
		return 1;
	}
	fuzz_reset();
	s = libssh2_session_init();
	fuzz_prefs(s, cfg);
	libssh2_session_callback_set2(s, LIBSSH2_CALLBACK_RECV,
				      (libssh2_cb_generic *)tee_recv);
	fuzz_script(s, sock, 1);
	fprintf(stderr, "capture %s: authenticated %d, last error %d\n", tag,
		libssh2_userauth_authenticated(s),
		libssh2_session_last_errno(s));
	libssh2_session_free(s);
	close(sock);

	nl = raw.n ? memchr(raw.p, '\n', raw.n) : NULL;
	if (!nl || !newkeys_at) {
		fprintf(stderr, "capture: no banner or no key exchange\n");
		return 1;
	}
	off = (size_t)(nl - raw.p) + 1;
	if (off - 2 != strlen(FUZZ_SERVER_BANNER) ||
	    memcmp(raw.p, FUZZ_SERVER_BANNER, off - 2))
		fprintf(stderr,
			"capture: the server is %.*s, not " FUZZ_SERVER_BANNER
			": fix fuzz.h\n",
			(int)(off - 2), raw.p);
	/* session: cfg, then everything after the identification line */
	add(&b, &cfg, 1);
	add(&b, raw.p + off, raw.n - off);
	put(argv[3], "session", tag, &b);
	/* packet: the clear part of the stream (to the NEWKEYS packet) */
	for (i = 0; i < newkeys_at && off + 4 <= raw.n; i++)
		off += 4 + get_u32(raw.p + off);
	b.n = 0;
	ctl = 0x3f;
	add(&b, &ctl, 1);
	add(&b, raw.p, off < raw.n ? off : raw.n);
	put(argv[3], "packet", tag, &b);
	/* kexinit: cfg, the messages to the first NEWKEYS */
	b.n = 0;
	add(&b, &cfg, 1);
	for (i = 0; i < newkeys_at; i++) {
		add_u16(&b, msgs[i].n);
		add(&b, msgs[i].p, msgs[i].n);
	}
	put(argv[3], "kexinit", tag, &b);
	/* client: the messages after it */
	b.n = 0;
	for (i = newkeys_at; i < nmsgs; i++) {
		add_u16(&b, msgs[i].n);
		add(&b, msgs[i].p, msgs[i].n);
	}
	put(argv[3], "client", tag, &b);
	if (hk.n)
		put(argv[3], "hostkey", tag, &hk);
	sftp_seeds(argv[3], tag);
	free(b.p);
	return 0;
}
