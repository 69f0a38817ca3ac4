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

FUZZ_TARGET(client)
{
	struct fz f = {data, size};
	LIBSSH2_SESSION *s;
	libssh2_socket_t sock;
	uint8_t *stream;
	size_t n;

	fuzz_reset();
	stream = fuzz_frame(&f, &n);
	s = libssh2_session_init();
	if (s) {
		if (fuzz_clear_session(s, stream, n, &sock) == 0)
			fuzz_script(s, sock, 0);
		libssh2_session_free(s);
	}
	free(stream);
	return 0;
}
