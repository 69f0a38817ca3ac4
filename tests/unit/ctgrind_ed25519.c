/*
 * ctgrind_ed25519.c - constant-time check of ed25519 and x25519 under
 * valgrind (the "ctgrind" technique): the secret inputs are marked
 * undefined, so memcheck reports every conditional jump and every memory
 * index that depends on them.
 *
 *   valgrind --error-exitcode=1 ./ctgrind_ed25519
 *
 * must report no errors.  Outputs are marked defined again before they
 * are compared with the RFC answers; without valgrind the marks are
 * no-ops and the program is a plain known-answer test.  With the argument
 * "selftest" it also branches on a secret on purpose, which valgrind must
 * then report (proof that the check can fail).
 */
#include <stdio.h>
#include <string.h>
#include <valgrind/memcheck.h>

#include "ed25519.h"
#include "x25519.h"

#define SECRET(p, n) VALGRIND_MAKE_MEM_UNDEFINED((p), (n))
#define PUBLIC(p, n) VALGRIND_MAKE_MEM_DEFINED((p), (n))

static int unhex(uint8_t *out, size_t n, const char *hex)
{
	unsigned v;
	size_t i;

	if (strlen(hex) != 2 * n)
		return -1;
	for (i = 0; i < n; i++) {
		if (sscanf(hex + 2 * i, "%2x", &v) != 1)
			return -1;
		out[i] = (uint8_t)v;
	}
	return 0;
}

static int expect(const char *what, const uint8_t *got, const char *hex,
		  size_t n)
{
	uint8_t want[64];

	if (unhex(want, n, hex) || memcmp(got, want, n) != 0) {
		fprintf(stderr, "ctgrind_ed25519: %s: wrong answer\n", what);
		return 1;
	}
	return 0;
}

/* RFC 8032 §7.1 TEST 3. */
static int check_ed25519(void)
{
	static const uint8_t msg[2] = { 0xaf, 0x82 };
	uint8_t seed[32], pk[32], sig[64];
	int rc, bad = 0;

	unhex(seed, 32,
	      "c5aa8df43f9f837bedb7442f31dcb7b1"
	      "66d38535076f094b85ce3a2e0b4458f7");
	SECRET(seed, sizeof(seed));

	rc = ed25519_pubkey(pk, seed);
	PUBLIC(&rc, sizeof(rc));
	PUBLIC(pk, sizeof(pk));
	bad |= rc != 0;
	bad |= expect("ed25519_pubkey", pk,
		      "fc51cd8e6218a1a38da47ed00230f058"
		      "0816ed13ba3303ac5deb911548908025", 32);

	rc = ed25519_sign(sig, msg, sizeof(msg), seed, pk);
	PUBLIC(&rc, sizeof(rc));
	PUBLIC(sig, sizeof(sig));
	bad |= rc != 0;
	bad |= expect("ed25519_sign", sig,
		      "6291d657deec24024827e69c3abe01a3"
		      "0ce548a284743a445e3680d7db5ac3ac"
		      "18ff9b538d16f290ae67f760984dc659"
		      "4a7c15e9716ed28dc027beceea1ec40a",
		      64);
	bad |= ed25519_verify(sig, msg, sizeof(msg), pk) != 0;
	return bad;
}

/* RFC 7748 §6.1: Alice's key pair and the shared secret with Bob. */
static int check_x25519(void)
{
	uint8_t a[32], bpub[32], apub[32], k[32];
	int rc, bad = 0;

	unhex(a, 32,
	      "77076d0a7318a57d3c16c17251b26645"
	      "df4c2f87ebc0992ab177fba51db92c2a");
	unhex(bpub, 32,
	      "de9edb7d7b7dc1b4d35b61c2ece43537"
	      "3f8343c85b78674dadfc7e146f882b4f");
	SECRET(a, sizeof(a));

	rc = x25519_base(apub, a);
	PUBLIC(&rc, sizeof(rc));
	PUBLIC(apub, sizeof(apub));
	bad |= rc != 0;
	bad |= expect("x25519_base", apub,
		      "8520f0098930a754748b7ddcb43ef75a"
		      "0dbf3a0d26381af4eba4a98eaa9b4e6a",
		      32);

	rc = x25519(k, a, bpub);
	PUBLIC(&rc, sizeof(rc));
	PUBLIC(k, sizeof(k));
	bad |= rc != 0;
	bad |= expect("x25519", k,
		      "4a5d9d5ba4ce2de1728e3bf480350f25"
		      "e07e21c947d19e3376f09b3c1e161742",
		      32);
	return bad;
}

int main(int argc, char **argv)
{
	int bad = 0;

	if (argc > 1 && strcmp(argv[1], "selftest") == 0) {
		uint8_t s[1] = { 1 };

		SECRET(s, 1);
		if (s[0] & 1)	/* a secret-dependent branch, on purpose */
			puts("ctgrind_ed25519: selftest branched on a secret");
	}
	bad |= check_ed25519();
	bad |= check_x25519();
	if (bad)
		return 1;
	printf("ctgrind_ed25519: ok (%s valgrind)\n",
	       RUNNING_ON_VALGRIND ? "under" : "without");
	return 0;
}
