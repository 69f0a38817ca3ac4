/*
 * bcrypt_pbkdf.h - the passphrase KDF of OpenSSH private-key files.
 *
 * OpenSSH PROTOCOL.key §2 names the KDF "bcrypt" with options (string
 * salt, uint32 rounds).  It is OpenBSD's bcrypt_pbkdf(3): a PBKDF2-like
 * construction (RFC 8018 §5.2) whose PRF is a bcrypt-style hash, the
 * EksBlowfish key schedule of Provos and Mazieres ("A Future-Adaptable
 * Password Scheme", USENIX 1999) keyed with SHA-512 (FIPS 180-4) digests
 * of the passphrase and the salt.  Each output block is the xor of
 * `rounds` chained hashes; output bytes are spread across the blocks so
 * that an attacker must compute every block to learn any key byte.
 *
 * Blowfish looks its S-boxes up by secret-dependent index, as every
 * Blowfish does; this only runs once per key-file load, on the client.
 */
#ifndef SFTPMNT_BCRYPT_PBKDF_H
#define SFTPMNT_BCRYPT_PBKDF_H

#include <stddef.h>
#include <stdint.h>

/* One bcrypt hash: 32 bytes (eight Blowfish words). */
#define BCRYPT_HASH_LEN 32
/* Longest output: one byte from each of 32 blocks per block byte. */
#define BCRYPT_PBKDF_MAX_KEY (BCRYPT_HASH_LEN * BCRYPT_HASH_LEN)
/* Longest salt accepted (bcrypt_pbkdf(3) caps it at 1 MiB too). */
#define BCRYPT_PBKDF_MAX_SALT (1u << 20)

/*
 * Derive keylen bytes from pass and salt with `rounds` iterations.
 * passlen, saltlen, keylen and rounds must all be non-zero, keylen at
 * most BCRYPT_PBKDF_MAX_KEY, saltlen at most BCRYPT_PBKDF_MAX_SALT.
 * Each round costs one bcrypt hash per 32-byte block of output, about
 * 4 ms on a current x86-64 (ssh-keygen's default of 16 rounds for a
 * 48-byte key and IV: 0.13 s); the caller caps rounds.  0, or -1 on a
 * bad argument (then key, if keylen is valid, is zeroed).  Temporaries
 * are wiped.
 */
int bcrypt_pbkdf(const char *pass, size_t passlen, const uint8_t *salt,
		 size_t saltlen, uint8_t *key, size_t keylen, unsigned rounds)
	__attribute__((warn_unused_result));

#endif
