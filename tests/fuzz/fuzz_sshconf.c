/*
 * fuzz_sshconf.c - ssh_config files as the daemon reads them
 * (fs/sshconf.c: sshconf_read).  Input: the host name looked up, a
 * newline, then the file.  The file is read through a memfd into a
 * fresh set of options, twice (the second read must not change what the
 * first took: the first value obtained wins), and everything it took is
 * freed.
 *
 * Oracle: no crash, leak or read outside the input (ASan/UBSan); a
 * port taken is 1..65535; at most 8 identity files; the same options
 * after the second read.
 */
#define _GNU_SOURCE
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

static void release(struct opts *o)
{
	int i;

	free(o->hostname);
	free(o->user);
	free(o->identity_agent);
	free(o->known_hosts);
	free(o->ciphers);
	free(o->kex);
	free(o->macs);
	free(o->hostkeyalgs);
	free(o->proxy_jump);
	free(o->certificate);
	for (i = 0; i < o->nidentity; i++)
		free(o->identity[i]);
}

static int same_str(const char *a, const char *b)
{
	return (!a && !b) || (a && b && !strcmp(a, b));
}

FUZZ_TARGET(sshconf)
{
	const uint8_t *nl = memchr(data, '\n', size);
	char host[256], path[64];
	struct opts a, b;
	size_t hl;
	int fd, i;

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
	fresh(&a);
	if (sshconf_read(&a, path, host) == 0) {
		if ((a.port_set && (a.port < 1 || a.port > 65535)) ||
		    a.nidentity < 0 || a.nidentity > 8)
			__builtin_trap();
		/* a second pass takes nothing new, except IdentityFile, which
		 * accumulates (up to 8) */
		b = a;
		if (sshconf_read(&b, path, host) != 0 ||
		    !same_str(a.hostname, b.hostname) ||
		    !same_str(a.user, b.user) || b.port != a.port ||
		    !same_str(a.known_hosts, b.known_hosts) ||
		    !same_str(a.ciphers, b.ciphers) ||
		    !same_str(a.certificate, b.certificate) ||
		    b.nidentity < a.nidentity)
			__builtin_trap();
		for (i = a.nidentity; i < b.nidentity; i++)
			free(b.identity[i]);
		/* (b's other strings are a's: freed once) */
		if (b.user != a.user)
			free(b.user);
	}
	release(&a);
	close(fd);
	return 0;
}
