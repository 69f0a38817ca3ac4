/*
 * test_fuzz_regress.c - the fuzz harnesses of tests/fuzz/ in `make check`,
 * built with the normal compiler (no libFuzzer) and linked with the
 * library: every file of tests/fuzz/regress/ (inputs that once crashed,
 * leaked or hung, named HARNESS-N) and every seed of tests/fuzz/corpus/
 * HARNESS/ goes through its harness once.  Under the sanitizer build
 * (configure --enable-sanitizers) that is where a fixed bug that comes
 * back shows.
 *
 *	test_fuzz_regress                 all of them ($top_srcdir/tests/fuzz)
 *	test_fuzz_regress HARNESS FILE... the given inputs (a crash to debug)
 *
 * Each input's name is printed before it runs, so the log of a crash
 * ends with the culprit.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../fuzz/fuzz.h"

struct harness {
	const char *name;
	int (*one)(const uint8_t *, size_t);
};

static const struct harness harnesses[] = {
#define FUZZ_ENTRY(name) {#name, fuzz_##name##_one},
	FUZZ_HARNESSES(FUZZ_ENTRY)
#undef FUZZ_ENTRY
};

#define NH (sizeof(harnesses) / sizeof(harnesses[0]))

static const struct harness *by_name(const char *name, size_t n)
{
	size_t i;

	for (i = 0; i < NH; i++)
		if (strlen(harnesses[i].name) == n &&
		    !memcmp(harnesses[i].name, name, n))
			return &harnesses[i];
	return NULL;
}

static int run_file(const struct harness *h, const char *path)
{
	uint8_t *buf = NULL;
	size_t n = 0, cap = 0;
	FILE *f = fopen(path, "rb");

	if (!f) {
		perror(path);
		return -1;
	}
	for (;;) {
		size_t r;

		if (n == cap) {
			uint8_t *nb = realloc(buf, cap = cap ? 2 * cap : 65536);

			if (!nb) {
				fclose(f);
				free(buf);
				return -1;
			}
			buf = nb;
		}
		r = fread(buf + n, 1, cap - n, f);
		if (r == 0)
			break;
		n += r;
	}
	fclose(f);
	fprintf(stderr, "%s: %s (%zu bytes)\n", h->name, path, n);
	h->one(buf, n);
	free(buf);
	return 0;
}

static int only_files(const struct dirent *d)
{
	return d->d_name[0] != '.' && d->d_type != DT_DIR;
}

/* Every file of dir through h, or (h NULL) through the harness its name
 * starts with ("session-3"); files of no harness (README) are skipped. */
static int run_dir(const char *dir, const struct harness *h, int *count)
{
	struct dirent **names;
	char path[4096];
	int i, n, bad = 0;

	n = scandir(dir, &names, only_files, alphasort);
	if (n < 0)
		return 0; /* no such directory: nothing to run */
	for (i = 0; i < n; i++) {
		const char *name = names[i]->d_name;
		const struct harness *hh = h;

		if (!hh) {
			const char *dash = strchr(name, '-');

			hh = dash ? by_name(name, (size_t)(dash - name)) : NULL;
		}
		snprintf(path, sizeof(path), "%s/%s", dir, name);
		if (hh) {
			if (run_file(hh, path))
				bad++;
			else
				++*count;
		}
		free(names[i]);
	}
	free(names);
	return bad;
}

int main(int argc, char **argv)
{
	const char *top = getenv("top_srcdir");
	char dir[4096];
	int count = 0, bad = 0, i;
	size_t k;

	if (argc > 1) {
		const struct harness *h = by_name(argv[1], strlen(argv[1]));

		if (!h || argc < 3) {
			fprintf(stderr, "usage: %s [HARNESS FILE...]\n",
				argv[0]);
			return 2;
		}
		for (i = 2; i < argc; i++)
			bad |= run_file(h, argv[i]) != 0;
		return bad;
	}
	if (!top)
		top = ".";
	snprintf(dir, sizeof(dir), "%s/tests/fuzz/regress", top);
	bad += run_dir(dir, NULL, &count);
	for (k = 0; k < NH; k++) {
		snprintf(dir, sizeof(dir), "%s/tests/fuzz/corpus/%s", top,
			 harnesses[k].name);
		bad += run_dir(dir, &harnesses[k], &count);
	}
	printf("%d passed, %d failed\n", count, bad);
	if (count == 0) {
		fprintf(stderr, "no inputs under %s/tests/fuzz\n", top);
		return 99;
	}
	return bad ? 1 : 0;
}
