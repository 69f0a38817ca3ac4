/*
 * ctgrind_sntrup761.c - constant-time check of sntrup761 under valgrind
 * (the ctgrind technique of ctgrind_ed25519.c): every random byte the
 * KEM draws and the whole secret key are marked undefined, so memcheck
 * reports each conditional jump and each memory index that depends on
 * them in key generation, encapsulation and decapsulation (valid and
 * rejected ciphertexts).
 *
 *   valgrind --error-exitcode=1 ./ctgrind_sntrup761
 *
 * must report no errors.  This program compiles lib/crypto/sntrup761.c
 * itself with SNTRUP761_CTGRIND defined, which marks the one value the
 * code makes public on purpose (whether a rejected candidate g was
 * invertible) as defined.  Outputs that are public by design (the public
 * key, the ciphertext) or that we compare (the shared keys) are marked
 * defined before use.  With the argument "selftest" it also branches on
 * a secret on purpose, which valgrind must then report.
 */
#include <stdio.h>
#include <string.h>
#include <valgrind/memcheck.h>

#include "crypto.h"
#include "sntrup761.h"

#define SECRET(p, n) VALGRIND_MAKE_MEM_UNDEFINED((p), (n))
#define PUBLIC(p, n) VALGRIND_MAKE_MEM_DEFINED((p), (n))

/* The kernel's bytes, marked secret as they leave. */
static int secret_random(void *ctx, void *buf, size_t n)
{
	int rc;

	(void)ctx;
	rc = crypto_random(buf, n);
	SECRET(buf, n);
	return rc;
}

static uint8_t pk[SNTRUP761_PUBLICKEY_LEN], sk[SNTRUP761_SECRETKEY_LEN];
static uint8_t ct[SNTRUP761_CIPHERTEXT_LEN], bad[SNTRUP761_CIPHERTEXT_LEN];

static int one_round(int n)
{
	uint8_t k_enc[32], k_dec[32], k_bad[32];
	int rc, wrong = 0;

	rc = sntrup761_keypair(pk, sk, secret_random, NULL);
	PUBLIC(&rc, sizeof(rc));
	wrong |= rc != 0;
	PUBLIC(pk, sizeof(pk));
	/* the whole secret key, pk and Hash4(pk) included, stays secret */
	SECRET(sk, sizeof(sk));

	rc = sntrup761_enc(ct, k_enc, pk, secret_random, NULL);
	PUBLIC(&rc, sizeof(rc));
	wrong |= rc != 0;
	PUBLIC(ct, sizeof(ct));

	rc = sntrup761_dec(k_dec, ct, sk);
	PUBLIC(&rc, sizeof(rc));
	wrong |= rc != 0;

	/* a ciphertext that does not re-encrypt: the rejection path */
	memcpy(bad, ct, sizeof(bad));
	bad[(n * 131) % sizeof(bad)] ^= 0x10;
	rc = sntrup761_dec(k_bad, bad, sk);
	PUBLIC(&rc, sizeof(rc));
	wrong |= rc != 0;

	PUBLIC(k_enc, sizeof(k_enc));
	PUBLIC(k_dec, sizeof(k_dec));
	PUBLIC(k_bad, sizeof(k_bad));
	if (memcmp(k_enc, k_dec, 32) != 0) {
		fprintf(stderr, "ctgrind_sntrup761: keys differ\n");
		wrong = 1;
	}
	if (memcmp(k_enc, k_bad, 32) == 0) {
		fprintf(stderr, "ctgrind_sntrup761: tampering not rejected\n");
		wrong = 1;
	}
	return wrong;
}

int main(int argc, char **argv)
{
	int n, bad_rounds = 0;

	if (argc > 1 && strcmp(argv[1], "selftest") == 0) {
		uint8_t s[1] = { 1 };

		SECRET(s, 1);
		if (s[0] & 1) /* a secret-dependent branch, on purpose */
			puts("ctgrind_sntrup761: selftest branched on a secret");
	}
	for (n = 0; n < 3; n++)
		bad_rounds += one_round(n);
	if (bad_rounds)
		return 1;
	printf("ctgrind_sntrup761: ok (%s valgrind)\n",
	       RUNNING_ON_VALGRIND ? "under" : "without");
	return 0;
}
