/*
 * fuzz_session.c - a whole client session against a fuzzed server: the
 * identification exchange, the key exchange, authentication, a command
 * on a channel and SFTP (fuzz_script.c), non-blocking, with the server's
 * bytes fed from memory through the LIBSSH2_CALLBACK_RECV hook.
 *
 * Input: byte 0 is the method configuration (fuzz_prefs); the rest is
 * what the server sends after its identification line, which the
 * harness supplies (FUZZ_SERVER_BANNER).  The seeds are sessions
 * recorded from OpenSSH (capture.c): with the harness's fixed randomness
 * they replay to the end, through NEWKEYS and into the encrypted part,
 * where a mutation can only fail the MAC - the fuzzing of the layers
 * above the transport is fuzz_client's.
 */
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "libssh2.h"

FUZZ_TARGET(session)
{
	static const char banner[] = FUZZ_SERVER_BANNER "\r\n";
	struct fz f = {data, size};
	uint8_t cfg = fz_u8(&f);
	LIBSSH2_SESSION *s;
	libssh2_socket_t sock;
	uint8_t *stream;
	size_t n = sizeof(banner) - 1 + f.n;

	fuzz_reset();
	stream = malloc(n);
	if (!stream)
		return 0;
	memcpy(stream, banner, sizeof(banner) - 1);
	if (f.n)
		memcpy(stream + sizeof(banner) - 1, f.p, f.n);
	s = libssh2_session_init();
	if (s) {
		fuzz_prefs(s, cfg);
		fuzz_feed(s, stream, n, &sock);
		fuzz_script(s, sock, 1);
		libssh2_session_free(s);
	}
	free(stream);
	return 0;
}
