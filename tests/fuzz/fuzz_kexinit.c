/*
 * fuzz_kexinit.c - algorithm negotiation and the key exchange methods
 * (lib/kex.c, lib/kex_dh.c, lib/kex_sntrup.c) on arbitrary KEXINIT and
 * method replies, driven through kex_handle() on a session held in
 * memory as after the identification exchange, as the session's pump
 * would (messages 20-49).
 *
 * Input: byte 0 is the method configuration (fuzz_prefs: which key
 * exchange and host key algorithms we offer, so the legacy ones are
 * reachable too); then the server's messages (type byte first) as
 * 16-bit-length pieces.  What we send is dropped.  The seeds are the
 * key exchanges of recorded sessions (capture.c): with the fixed
 * randomness of fuzz_common.c our KEXINIT and ephemeral keys are the
 * recorded ones, so the server's signature verifies and NEWKEYS is
 * reached; pieces after it exercise a rekey.
 */
#include <string.h>

#include "fuzz.h"
#include "kex.h"
#include "libssh2.h"
#include "session.h"

FUZZ_TARGET(kexinit)
{
	struct fz f = {data, size};
	uint8_t cfg = fz_u8(&f);
	LIBSSH2_SESSION *s;
	int rc, i;

	fuzz_reset();
	s = libssh2_session_init();
	if (!s)
		return 0;
	fuzz_prefs(s, cfg);
	/* as handshake_step leaves it after the identification exchange */
	s->state = SESS_KEX;
	strcpy(s->remote_banner, FUZZ_SERVER_BANNER);
	rc = kex_start(s);
	while (rc == 0 && f.n > 0) {
		size_t n;
		const uint8_t *p = fz_piece(&f, &n);

		tp_out_consume(&s->tp, tp_out_len(&s->tp));
		if (n == 0 || p[0] < SSH_MSG_KEXINIT || p[0] > 49)
			continue;
		rc = kex_handle(s, p, n);
		if (rc && !s->last_errno)
			__builtin_trap(); /* an error says why */
		if (rc == 0 && s->kex.rounds > 0) {
			s->state = SESS_READY;
			for (i = 0; i < KEX_NTYPES; i++)
				libssh2_session_methods(s, i);
			libssh2_session_hostkey(s, NULL, NULL);
			libssh2_hostkey_hash(s, LIBSSH2_HOSTKEY_HASH_SHA1);
		}
	}
	libssh2_session_free(s);
	return 0;
}
