/*
 * fuzz_sshconf.c - ssh_config files as the daemon reads them
 * (fs/sshconf.c: sshconf_read).  Input: the host name looked up, a
 * newline, then the file.  The file is read through a memfd into a
 * fresh set of options, twice (a second reading must keep what the first
 * took: the first value obtained wins), and, when a Match final asked for
 * it, once more as the final pass; everything taken is freed.  "Match
 * exec" runs no command here: a stand-in decides from the expanded
 * command's length, so both outcomes are reached; Include opens nothing
 * but the input itself.
 *
 * Oracle: no crash, leak or read outside the input (ASan/UBSan); a
 * port taken is 1..65535; at most 8 identity files; what the first
 * reading set is unchanged by the second (which may set more: a Match
 * user, say, can hold once the first reading found a User).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "fuzz.h"
#include "../../fs/sftpmnt.h"

static void fresh(struct opts *o)
{
	memset(o, 0, sizeof(*o));
	o->identities_only = -1;
	o->strict_hostkey = -1;
	o->connect_timeout = -1;
	o->alive_interval = -1;
	o->alive_count = -1;
	o->compression = -1;
}

/* Free what b holds that a does not (b began as a copy of a). */
static void release_new(struct opts *b, const struct opts *a)
{
	int i;

#define NEW(f)                                                                 \
	do {                                                                   \
		if (b->f != a->f)                                              \
			free(b->f);                                            \
	} while (0)
	NEW(hostname);
	NEW(user);
	NEW(identity_agent);
	NEW(known_hosts);
	NEW(ciphers);
	NEW(kex);
	NEW(macs);
	NEW(hostkeyalgs);
	NEW(proxy_jump);
	NEW(certificate);
#undef NEW
	for (i = a->nidentity; i < b->nidentity; i++)
		free(b->identity[i]);
}

static void release(struct opts *o)
{
	struct opts none = {0};

	release_new(o, &none); /* (identity files too) */
}

/* A string set by the first reading is still there, the same */
static int kept(const char *a, const char *b)
{
	return !a || (b && !strcmp(a, b));
}

/* Include reaches no file but the input itself (which may include
 * itself: the depth and file caps are what stops that) */
static char self_path[64];

static FILE *fake_open(const char *path)
{
	if (strcmp(path, self_path) != 0) {
		errno = ENOENT;
		return NULL;
	}
	return fopen(path, "r");
}

/* Match exec without a shell: true for an even-length command */
static int fake_exec(const char *cmd)
{
	return (int)(strlen(cmd) & 1);
}

FUZZ_TARGET(sshconf)
{
	const uint8_t *nl = memchr(data, '\n', size);
	char host[256], path[64];
	struct sshconf_pass p = {.orig = host, .host = host};
	struct opts a, b;
	size_t hl;
	int fd, rc;

	fuzz_reset();
	if (!nl || (hl = (size_t)(nl - data)) >= sizeof(host))
		return 0;
	memcpy(host, data, hl);
	host[hl] = '\0';
	if (memchr(host, 0, hl))
		return 0; /* (a C string on the command line) */
	fd = memfd_create("fuzz_sshconf", 0);
	if (fd < 0)
		return 0;
	if (write(fd, nl + 1, size - hl - 1) != (ssize_t)(size - hl - 1)) {
		close(fd);
		return 0;
	}
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	sshconf_set_exec(fake_exec);
	memcpy(self_path, path, sizeof(path));
	sshconf_set_open(fake_open);
	fresh(&a);
	if (sshconf_read(&a, path, &p) == 0) {
		if ((a.port_set && (a.port < 1 || a.port > 65535)) ||
		    a.nidentity < 0 || a.nidentity > 8)
			__builtin_trap();
		/* a second reading changes nothing taken (IdentityFile
		 * accumulates, up to 8) */
		b = a;
		p.nfiles = 0;
		if (p.want_final) {
			p.final = 1;
			p.host = a.hostname ? a.hostname : host;
		}
		rc = sshconf_read(&b, path, &p);
		if ((rc != 0 && rc != -2) || !kept(a.hostname, b.hostname) ||
		    !kept(a.user, b.user) || (a.port_set && b.port != a.port) ||
		    !kept(a.known_hosts, b.known_hosts) ||
		    !kept(a.ciphers, b.ciphers) ||
		    !kept(a.certificate, b.certificate) ||
		    b.nidentity < a.nidentity || b.nidentity > 8)
			__builtin_trap();
		release_new(&b, &a);
	}
	release(&a);
	close(fd);
	return 0;
}
