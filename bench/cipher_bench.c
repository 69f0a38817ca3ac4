/*
 * cipher_bench.c - seal and open throughput of the SSH AEAD ciphers.
 *
 *	cipher_bench [-w] [packet_bytes [seconds]]   (default 32768, 0.5)
 *
 * One line per cipher and implementation: ours with the fast path, ours
 * pinned to the portable path, and mbedTLS called directly (for
 * chacha20-poly1305, OpenSSH's construction assembled from mbedTLS's
 * ChaCha20 and Poly1305).  MB/s are 10^6 bytes of packet per second of
 * thread CPU time (-w: wall time), best of RUNS runs.
 *
 * Opening in place turns the buffer into plaintext, so each benchmark
 * keeps two tags: for the ciphertext C and for C xor keystream, i.e. the
 * plaintext read as a ciphertext.  Alternating them keeps every open
 * authentic without copying the packet back.
 */
#include "aesgcm.h"
#include "chachapoly.h"
#include "crypto.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <mbedtls/chacha20.h>
#include <mbedtls/gcm.h>
#include <mbedtls/poly1305.h>

#define RUNS 5

static size_t pkt_len = 32768;
static double min_secs = 0.5;
static uint8_t *buf, *buf2;

/*
 * Thread CPU time, not wall time: the machine is shared, and time spent
 * preempted says nothing about the cipher.  "-w" switches to wall time.
 */
static clockid_t clk = CLOCK_THREAD_CPUTIME_ID;

static double now(void)
{
	struct timespec ts;

	clock_gettime(clk, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static void die(const char *what)
{
	fprintf(stderr, "cipher_bench: %s\n", what);
	exit(1);
}

/* One operation on the packet; odd/even iterations for the tag pair. */
typedef void (*op_fn)(void *arg, unsigned long iter);

static double mbps(op_fn op, void *arg)
{
	double best = 0;

	for (int r = 0; r < RUNS; r++) {
		unsigned long n = 0;
		double t0 = now(), dt;

		do {
			for (int k = 0; k < 16; k++, n++)
				op(arg, n);
			dt = now() - t0;
		} while (dt < min_secs);
		if ((double)n * (double)pkt_len / dt / 1e6 > best)
			best = (double)n * (double)pkt_len / dt / 1e6;
	}
	return best;
}

static void row(const char *alg, const char *impl, double seal, double open)
{
	printf("%-20s %-26s %10.0f %10.0f\n", alg, impl, seal, open);
}

/* ---- AES-GCM ---------------------------------------------------------- */

struct gcm_arg {
	struct aesgcm_ctx c;
	mbedtls_gcm_context g;
	uint8_t iv[12], aad[4], tag[2][16];
};

static void ours_gcm_seal(void *a, unsigned long i)
{
	struct gcm_arg *g = a;

	(void)i;
	aesgcm_seal(&g->c, g->iv, g->aad, 4, buf, pkt_len, g->tag[0]);
}

static void ours_gcm_open(void *a, unsigned long i)
{
	struct gcm_arg *g = a;
	int r = aesgcm_open(&g->c, g->iv, g->aad, 4, buf, pkt_len,
			    g->tag[i & 1]);

	if (r != 0)
		die("aesgcm_open failed");
}

static void mbed_gcm_seal(void *a, unsigned long i)
{
	struct gcm_arg *g = a;

	(void)i;
	if (mbedtls_gcm_crypt_and_tag(&g->g, MBEDTLS_GCM_ENCRYPT, pkt_len,
				      g->iv, 12, g->aad, 4, buf, buf, 16,
				      g->tag[0]) != 0)
		die("mbedtls_gcm_crypt_and_tag failed");
}

/* 2.28 does not allow in-place decryption: C in buf, P out to buf2. */
static void mbed_gcm_open(void *a, unsigned long i)
{
	struct gcm_arg *g = a;

	(void)i;
	if (mbedtls_gcm_auth_decrypt(&g->g, pkt_len, g->iv, 12, g->aad, 4,
				     g->tag[0], 16, buf, buf2) != 0)
		die("mbedtls_gcm_auth_decrypt failed");
}

/* Tags for buf (C) and for buf xor keystream (P read as a ciphertext). */
static void gcm_tag_pair(struct gcm_arg *g)
{
	memset(buf, 0x5a, pkt_len);
	aesgcm_seal(&g->c, g->iv, g->aad, 4, buf, pkt_len, g->tag[0]);
	memcpy(buf2, buf, pkt_len);
	aesgcm_seal(&g->c, g->iv, g->aad, 4, buf2, pkt_len, g->tag[1]);
}

static void bench_gcm(const char *alg, size_t keylen)
{
	static const char *const impls[] = {"aesni-pclmul", "mbedtls"};
	struct gcm_arg g;
	uint8_t key[32];
	double s, o;

	memset(&g, 0, sizeof(g));
	if (crypto_random(key, sizeof(key)) != 0 ||
	    crypto_random(g.iv, sizeof(g.iv)) != 0)
		die("no randomness");
	for (int i = 0; i < 2; i++) {
		if (aesgcm_set_impl(impls[i]) != 0) {
			row(alg, impls[i], 0, 0);
			continue;
		}
		if (aesgcm_init(&g.c, key, keylen) != 0)
			die("aesgcm_init failed");
		s = mbps(ours_gcm_seal, &g);
		gcm_tag_pair(&g);
		o = mbps(ours_gcm_open, &g);
		row(alg,
		    i == 0 ? "ours aesni-pclmul (fast)"
			   : "ours mbedtls (portable)",
		    s, o);
		aesgcm_free(&g.c);
	}
	aesgcm_set_impl(NULL);
	mbedtls_gcm_init(&g.g);
	if (mbedtls_gcm_setkey(&g.g, MBEDTLS_CIPHER_ID_AES, key,
			       (unsigned int)keylen * 8) != 0)
		die("mbedtls_gcm_setkey failed");
	s = mbps(mbed_gcm_seal, &g);
	mbed_gcm_seal(&g, 0);
	o = mbps(mbed_gcm_open, &g);
	row(alg, "mbedtls direct", s, o);
	mbedtls_gcm_free(&g.g);
}

/* ---- chacha20-poly1305@openssh.com ------------------------------------ */

struct cp_arg {
	struct chachapoly_ctx c;
	uint8_t key[64], tag[2][16];
};

static void ours_cp_seal(void *a, unsigned long i)
{
	struct cp_arg *p = a;

	chachapoly_seal(&p->c, (uint32_t)i, buf, pkt_len, p->tag[0]);
}

static void ours_cp_open(void *a, unsigned long i)
{
	struct cp_arg *p = a;

	if (chachapoly_open(&p->c, 1, buf, pkt_len, p->tag[i & 1]) != 0)
		die("chachapoly_open failed");
}

/* PROTOCOL.chacha20poly1305 from mbedTLS parts; nonce = 0 || BE64(seq). */
static void mbed_cp(const uint8_t *key, uint32_t seq, const uint8_t *in,
		    uint8_t *out, uint8_t tag[16])
{
	uint8_t nonce[12] = {0}, pk[32] = {0};

	nonce[8] = (uint8_t)(seq >> 24), nonce[9] = (uint8_t)(seq >> 16);
	nonce[10] = (uint8_t)(seq >> 8), nonce[11] = (uint8_t)seq;
	if (mbedtls_chacha20_crypt(key + 32, nonce, 0, 4, in, out) != 0 ||
	    mbedtls_chacha20_crypt(key, nonce, 1, pkt_len - 4, in + 4,
				   out + 4) != 0 ||
	    mbedtls_chacha20_crypt(key, nonce, 0, 32, pk, pk) != 0)
		die("mbedtls_chacha20_crypt failed");
	if (mbedtls_poly1305_mac(pk, out, pkt_len, tag) != 0)
		die("mbedtls_poly1305_mac failed");
}

static void mbed_cp_seal(void *a, unsigned long i)
{
	struct cp_arg *p = a;

	mbed_cp(p->key, (uint32_t)i, buf, buf, p->tag[0]);
}

/* Open = MAC the ciphertext, compare, decrypt: same work as sealing
 * except that the MAC is over the input. */
static void mbed_cp_open(void *a, unsigned long i)
{
	struct cp_arg *p = a;
	uint8_t nonce[12] = {0}, pk[32] = {0}, t[16];

	(void)i;
	nonce[11] = 1;
	if (mbedtls_chacha20_crypt(p->key, nonce, 0, 32, pk, pk) != 0 ||
	    mbedtls_poly1305_mac(pk, buf, pkt_len, t) != 0)
		die("mbedtls failed");
	if (crypto_memcmp_ct(t, p->tag[0], 16) != 0)
		die("mbedtls chacha20-poly1305 tag mismatch");
	if (mbedtls_chacha20_crypt(p->key + 32, nonce, 0, 4, buf, buf2) != 0 ||
	    mbedtls_chacha20_crypt(p->key, nonce, 1, pkt_len - 4, buf + 4,
				   buf2 + 4) != 0)
		die("mbedtls_chacha20_crypt failed");
}

static void cp_tag_pair(struct cp_arg *p)
{
	memset(buf, 0x5a, pkt_len);
	chachapoly_seal(&p->c, 1, buf, pkt_len, p->tag[0]);
	memcpy(buf2, buf, pkt_len);
	chachapoly_seal(&p->c, 1, buf2, pkt_len, p->tag[1]);
}

static void bench_cp(void)
{
	static const char *const impls[] = {"avx2", "sse2", "portable"};
	static const char *const label[] = {"ours avx2 (fast)", "ours sse2",
					    "ours portable"};
	struct cp_arg p;
	double s, o;

	memset(&p, 0, sizeof(p));
	if (crypto_random(p.key, sizeof(p.key)) != 0)
		die("no randomness");
	chachapoly_init(&p.c, p.key);
	for (int i = 0; i < 3; i++) {
		if (chachapoly_set_impl(impls[i]) != 0) {
			row("chacha20-poly1305", label[i], 0, 0);
			continue;
		}
		s = mbps(ours_cp_seal, &p);
		cp_tag_pair(&p);
		o = mbps(ours_cp_open, &p);
		row("chacha20-poly1305", label[i], s, o);
	}
	chachapoly_set_impl(NULL);
	s = mbps(mbed_cp_seal, &p);
	memset(buf, 0x5a, pkt_len);
	mbed_cp(p.key, 1, buf, buf, p.tag[0]);
	o = mbps(mbed_cp_open, &p);
	row("chacha20-poly1305", "mbedtls parts", s, o);
	chachapoly_free(&p.c);
}

int main(int argc, char **argv)
{
	if (argc > 1 && strcmp(argv[1], "-w") == 0) {
		clk = CLOCK_MONOTONIC;
		argc--, argv++;
	}
	if (argc > 1)
		pkt_len = strtoul(argv[1], NULL, 0);
	if (argc > 2)
		min_secs = strtod(argv[2], NULL);
	if (pkt_len < 4 || pkt_len > (1u << 24))
		die("packet size must be 4 .. 16 MiB");
	buf = malloc(pkt_len);
	buf2 = malloc(pkt_len);
	if (buf == NULL || buf2 == NULL)
		die("out of memory");
	printf("packet %zu bytes, MB/s = 10^6 bytes per %s second, best of "
	       "%d\n",
	       pkt_len, clk == CLOCK_MONOTONIC ? "wall" : "CPU", RUNS);
	printf("%-20s %-26s %10s %10s\n", "cipher", "implementation", "seal",
	       "open");
	bench_gcm("aes128-gcm", 16);
	bench_gcm("aes256-gcm", 32);
	bench_cp();
	free(buf);
	free(buf2);
	return 0;
}
