/*
 * fuzz_packet.c - the transport engine's input side (lib/transport.c):
 * the identification exchange (tp_banner_take, RFC 4253 §4.2) and the
 * binary packet layer before any key is in use (tp_recv, RFC 4253 §6),
 * fed the input in chunks; optionally with the inbound zlib stream on
 * (RFC 4253 §6.2, lib/comp.c: decompression of what the peer sent).
 *
 * Input: byte 0 picks the chunk size (1 + its low 6 bits), with bit 6
 * set turns decompression on, with bit 7 set starts at the packets (no
 * identification line first); the rest is the peer's byte stream.
 */
#include <string.h>

#include "comp.h"
#include "fuzz.h"
#include "libssh2.h"
#include "ssh_limits.h"
#include "transport.h"

/* Every packet handed out must lie inside what was fed and keep the
 * invariants RFC 4253 §6 gives: 1 <= payload < packet_length; an
 * inflated one stays under SSH_INFLATE_MAX. */
static void check_payload(const struct tp *t, const uint8_t *p, size_t n,
			  int zipped)
{
	if (n == 0 || n > (zipped ? SSH_INFLATE_MAX : SSH_PACKET_MAX))
		__builtin_trap();
	if (!zipped && (p < t->in || p + n > t->in + t->in_cap))
		__builtin_trap();
}

FUZZ_TARGET(packet)
{
	struct fz f = {data, size};
	uint8_t ctl = fz_u8(&f);
	size_t chunk = 1 + (ctl & 0x3f);
	int zipped = ctl & 0x40, banner_done = ctl & 0x80;
	char id[SSH_BANNER_MAX + 1];
	const char *why = NULL;
	struct tp t;
	int rc = 0;

	fuzz_reset();
	tp_init(&t, &lalloc_system);
	if (zipped)
		comp_restart(&t.zrx);
	while (f.n > 0 && rc >= 0) {
		size_t got, avail;
		const uint8_t *in = fz_take(&f, chunk, &got);
		uint8_t *d = tp_in_space(&t, got, &avail);

		if (!d)
			break;
		memcpy(d, in, got);
		tp_in_commit(&t, got);
		if (!banner_done) {
			rc = tp_banner_take(&t, id, sizeof(id), &why);
			if (rc == 1) {
				if (strncmp(id, "SSH-", 4) ||
				    strlen(id) >= SSH_BANNER_MAX)
					__builtin_trap();
				banner_done = 1;
			}
			if (rc <= 0)
				continue;
		}
		for (;;) {
			const uint8_t *p;
			size_t n;

			rc = tp_recv(&t, &p, &n, &why);
			if (rc <= 0)
				break;
			check_payload(&t, p, n, zipped);
		}
	}
	if (rc < 0 && !why)
		__builtin_trap(); /* every refusal says why */
	tp_free(&t);
	return 0;
}
