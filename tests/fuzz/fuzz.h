/*
 * fuzz.h - what the libFuzzer harnesses of tests/fuzz/ share.
 *
 * Each harness fuzz_NAME.c defines its entry point with FUZZ_TARGET(NAME).
 * Built by tests/fuzz/build.sh (clang, -fsanitize=fuzzer) that is
 * LLVMFuzzerTestOneInput; built into tests/unit/test_fuzz_regress (the
 * `make check` replay of tests/fuzz/regress/ and the seed corpora) it is
 * fuzz_NAME_one, so every harness links into one program.
 *
 * Both builds link with
 *	-Wl,--wrap=crypto_random -Wl,--wrap=bcrypt_pbkdf
 * (fuzz_common.c): randomness is a fixed stream restarted by fuzz_reset()
 * at the start of every input, so an input always takes the same path
 * (and a recorded session, whose server signed an exchange hash made
 * from our "random" cookie and ephemeral key, replays to the end); and
 * the KDFs of encrypted key files run at most a few rounds whatever the
 * file asks (lib/ caps them at values fine for a person, not for a
 * fuzzer running thousands of inputs a second).
 */
#ifndef SFTPMNT_FUZZ_H
#define SFTPMNT_FUZZ_H

#include <stddef.h>
#include <stdint.h>

#include "libssh2.h"

#ifdef FUZZ_LIBFUZZER
#define FUZZ_TARGET(name)                                                      \
	int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
#else
#define FUZZ_TARGET(name)                                                      \
	int fuzz_##name##_one(const uint8_t *data, size_t size)
#endif

#define FUZZ_HARNESSES(X)                                                      \
	X(packet)                                                              \
	X(kexinit) X(hostkey) X(sftp) X(keyfile) X(knownhost) X(agent)         \
		X(session) X(client) X(sshconf) X(chan) X(sftpcore)
#define FUZZ_DECLARE(name) int fuzz_##name##_one(const uint8_t *, size_t);
FUZZ_HARNESSES(FUZZ_DECLARE)
#undef FUZZ_DECLARE

/* Restart the deterministic random stream (first thing of every input). */
void fuzz_reset(void);
/* The stream itself, for tools that must agree with the harnesses. */
void fuzz_random_fill(void *buf, size_t n);
/* Most bcrypt_pbkdf / PBKDF2 / PKCS#12 rounds a fuzzed key file runs. */
#define FUZZ_KDF_ROUNDS 2u

/* ---- whole sessions (fuzz_script.c) ---------------------------------- */

/* The identification line of the recorded server (the Debian 12 sshd the
 * seeds of fuzz_session and fuzz_kexinit were recorded from: it is part
 * of the exchange hash the server signed). */
#define FUZZ_SERVER_BANNER "SSH-2.0-OpenSSH_9.2p1 Debian-2+deb12u10"

/* Method preferences by a config byte: bits 0-3 a key exchange method,
 * bits 4-6 a host key algorithm (0: our defaults), bit 7 aes128-ctr with
 * hmac-sha2-256 instead of the default cipher. */
void fuzz_prefs(LIBSSH2_SESSION *s, uint8_t cfg);
/* The session reads p[0..n) as the server's bytes through its
 * LIBSSH2_CALLBACK_RECV hook (in chunks of varying size, with an EAGAIN
 * before each; then end of file) and its writes are swallowed (some
 * refused with EAGAIN first).  *sock gets a descriptor to hand to
 * libssh2_session_handshake (never read or written). */
void fuzz_feed(LIBSSH2_SESSION *s, const uint8_t *p, size_t n,
	       libssh2_socket_t *sock);
/* Bumped by every call of the I/O hooks (livelock detection). */
extern unsigned long fuzz_io_calls;
/* The client's calls: handshake (if handshake), authentication, a
 * command, SFTP, disconnect. */
void fuzz_script(LIBSSH2_SESSION *s, libssh2_socket_t sock, int handshake);

/* Retrying non-blocking calls: fuzz_again() says 1 to call again after
 * EAGAIN and traps on a livelock (EAGAIN while the I/O hooks are not
 * even asked for anything). */
struct fuzz_spin {
	unsigned long io, idle;
};
int fuzz_again(LIBSSH2_SESSION *s, struct fuzz_spin *sp, int rc);
/* (s: the session, in scope where this is used) */
#define RETRY(expr)                                                            \
	({                                                                     \
		struct fuzz_spin sp_ = {fuzz_io_calls, 0};                     \
		int rc_;                                                       \
		while (fuzz_again(s, &sp_, rc_ = (expr)))                      \
			;                                                      \
		rc_;                                                           \
	})
/* For calls that return a pointer (NULL + last errno EAGAIN); the error
 * is cleared first, a NULL that is no error must not read as EAGAIN. */
#define RETRY_PTR(s, expr)                                                     \
	({                                                                     \
		struct fuzz_spin sp_ = {fuzz_io_calls, 0};                     \
		__typeof__(expr) p_;                                           \
		do                                                             \
			libssh2_session_set_last_error((s), 0, NULL);          \
		while (!(p_ = (expr)) &&                                       \
		       fuzz_again((s), &sp_, libssh2_session_last_errno(s)));  \
		p_;                                                            \
	})

/* In-the-clear sessions (fuzz_client, fuzz_chan): the input's 16-bit-
 * length pieces framed as RFC 4253 §6 packets with no MAC (malloc'd
 * stream in *len bytes); and a session put into the state after a first
 * key exchange without keys, reading that stream (0, or -1: the session
 * could not take the socket). */
struct fz;
uint8_t *fuzz_frame(struct fz *f, size_t *len);
int fuzz_clear_session(LIBSSH2_SESSION *s, const uint8_t *stream, size_t n,
		       libssh2_socket_t *sock);

/* A reader over the fuzz input: pieces that run out read as empty. */
struct fz {
	const uint8_t *p;
	size_t n;
};

static inline uint8_t fz_u8(struct fz *f)
{
	uint8_t v = 0;

	if (f->n) {
		v = f->p[0];
		f->p++;
		f->n--;
	}
	return v;
}

static inline uint16_t fz_u16(struct fz *f)
{
	uint16_t hi = fz_u8(f);

	return (uint16_t)(hi << 8 | fz_u8(f));
}

/* Up to n bytes (fewer at the end of the input). */
static inline const uint8_t *fz_take(struct fz *f, size_t n, size_t *got)
{
	const uint8_t *p = f->p;

	if (n > f->n)
		n = f->n;
	f->p += n;
	f->n -= n;
	*got = n;
	return p;
}

/* A piece prefixed by a 16-bit big-endian length. */
static inline const uint8_t *fz_piece(struct fz *f, size_t *got)
{
	return fz_take(f, fz_u16(f), got);
}

#endif
