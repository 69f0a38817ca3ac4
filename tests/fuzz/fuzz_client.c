/*
 * fuzz_client.c - the layers above the transport (RFC 4252 user
 * authentication, RFC 4254 channels, SFTP over a channel) against a
 * fuzzed server, in the clear: the session is put straight into the
 * state after a key exchange with no keys (no cipher, no MAC), so every
 * byte the fuzzer changes reaches the message parsers.  The client's
 * calls are fuzz_script.c's, as in fuzz_session.
 *
 * Input: the server's messages (payloads, type byte first) as 16-bit-
 * length pieces; the harness frames them as RFC 4253 §6 packets with no
 * MAC.  The seeds are the decrypted messages of recorded sessions
 * (capture.c).
 */
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "libssh2.h"
#include "session.h"

/* RFC 4253 §6 packets, block size 8, no MAC, padding of zeros. */
static uint8_t *frame(struct fz *f, size_t *len)
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

FUZZ_TARGET(client)
{
	struct fz f = {data, size};
	LIBSSH2_SESSION *s;
	libssh2_socket_t sock;
	uint8_t *stream;
	size_t n;

	fuzz_reset();
	stream = frame(&f, &n);
	s = libssh2_session_init();
	if (s) {
		fuzz_feed(s, stream, n, &sock);
		/* as after the first key exchange, without keys */
		if (sess_attach_socket(s, sock) == 0) {
			s->state = SESS_READY;
			s->kex.rounds = 1;
			s->kex.started_ms = sess_now_ms(); /* no rekey due */
			s->kex.sidlen = 32;
			memset(s->kex.session_id, 0x5a, 32);
			strcpy(s->remote_banner, FUZZ_SERVER_BANNER);
			fuzz_script(s, sock, 0);
		}
		libssh2_session_free(s);
	}
	free(stream);
	return 0;
}
