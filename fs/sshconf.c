/*
 * sshconf.c - the ssh_config(5) subset a mount needs, so a host that
 * works with `ssh alias` mounts as `sftpmnt alias:dir` with no other set
 * up: Host blocks with patterns (*, ?, !negation, lists), HostName, Port,
 * User, IdentityFile, CertificateFile, IdentitiesOnly, IdentityAgent,
 * UserKnownHostsFile, StrictHostKeyChecking, ServerAliveInterval,
 * ServerAliveCountMax, ConnectTimeout, AddressFamily, Ciphers, KexAlgorithms, MACs,
 * HostKeyAlgorithms.
 *
 * As in ssh, the first value obtained for a keyword wins, and the
 * command line (-o) comes before any file.  Match blocks are skipped
 * (their conditions are not evaluated).  Unknown keywords are ignored,
 * as ssh does for many of them.
 */
#define _GNU_SOURCE
#include <ctype.h>
#include <errno.h>
#include <fnmatch.h>
#include <pwd.h>
#include <sys/socket.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sftpmnt.h"

/* A config line longer than this is not a config line. */
#define SSHCONF_LINE_MAX 4096

/* "Host a b !c*": a match when some pattern matches and no negated one
 * does (ssh_config(5) PATTERNS). */
static int host_matches(char *list, const char *host)
{
	char *save, *p;
	int match = 0;

	for (p = strtok_r(list, " \t", &save); p; p = strtok_r(NULL, " \t", &save)) {
		int neg = p[0] == '!';

		if (fnmatch(neg ? p + 1 : p, host, FNM_CASEFOLD) == 0) {
			if (neg)
				return 0;
			match = 1;
		}
	}
	return match;
}

/* ~/ and %d (home), %u (local user), %h (host), %% in file names. */
static char *expand_path(const char *v, const char *host)
{
	const char *home = getenv("HOME");
	struct passwd *pw = getpwuid(getuid());
	char out[4096];
	size_t o = 0;

	if (!home && pw)
		home = pw->pw_dir;
	if (!home)
		home = "/";
	if (v[0] == '~' && v[1] == '/') {
		o = (size_t)snprintf(out, sizeof(out), "%s", home);
		v++;
	}
	for (; *v && o + 1 < sizeof(out); v++) {
		const char *add = NULL;

		if (v[0] == '%' && v[1]) {
			switch (v[1]) {
			case 'd':
				add = home;
				break;
			case 'u':
				add = pw ? pw->pw_name : "";
				break;
			case 'h':
				add = host;
				break;
			case '%':
				add = "%";
				break;
			}
		}
		if (add) {
			o += (size_t)snprintf(out + o, sizeof(out) - o, "%s", add);
			if (o >= sizeof(out))
				return NULL;
			v++;
		} else {
			out[o++] = *v;
		}
	}
	out[o < sizeof(out) ? o : sizeof(out) - 1] = '\0';
	return strdup(out);
}

static int set_once(char **dst, const char *v)
{
	if (*dst)
		return 0; /* the first value obtained wins */
	*dst = strdup(v);
	return *dst ? 0 : -1;
}

static int yesno(const char *v)
{
	return !strcasecmp(v, "yes") || !strcasecmp(v, "true");
}

int address_family(const char *v)
{
	if (!strcasecmp(v, "any"))
		return AF_UNSPEC;
	if (!strcasecmp(v, "inet"))
		return AF_INET;
	if (!strcasecmp(v, "inet6"))
		return AF_INET6;
	return -1;
}

static int apply(struct opts *o, const char *kw, char *v, const char *host)
{
	int n;

#define KW(name) (!strcasecmp(kw, name))
	if (KW("HostName")) {
		if (!o->hostname)
			o->hostname = expand_path(v, host);
	} else if (KW("Port")) {
		if (!o->port_set && (n = atoi(v)) > 0 && n <= 65535) {
			o->port = n;
			o->port_set = 1;
		}
	} else if (KW("User")) {
		if (!o->user_set) {
			free(o->user);
			o->user = strdup(v);
			o->user_set = 1;
		}
	} else if (KW("IdentityFile")) {
		/* IdentityFile accumulates, but not over the command line */
		if (!o->identity_cmdline && o->nidentity < 8) {
			char *p = expand_path(v, host);

			if (p)
				o->identity[o->nidentity++] = p;
		}
	} else if (KW("CertificateFile")) {
		if (!o->certificate)
			o->certificate = expand_path(v, host);
	} else if (KW("IdentitiesOnly")) {
		if (o->identities_only < 0)
			o->identities_only = yesno(v);
	} else if (KW("IdentityAgent")) {
		if (!o->identity_agent)
			o->identity_agent = !strcasecmp(v, "none")
						    ? strdup("none")
						    : expand_path(v, host);
	} else if (KW("UserKnownHostsFile")) {
		/* the first of a list of files */
		char *sp = strpbrk(v, " \t");

		if (sp)
			*sp = '\0';
		if (!o->known_hosts)
			o->known_hosts = expand_path(v, host);
	} else if (KW("StrictHostKeyChecking")) {
		if (o->strict_hostkey < 0) {
			if (!strcasecmp(v, "no") || !strcasecmp(v, "off"))
				o->strict_hostkey = 0;
			else if (!strcasecmp(v, "accept-new"))
				o->strict_hostkey = 2;
			else
				o->strict_hostkey = 1;
		}
	} else if (KW("ServerAliveInterval")) {
		if (o->alive_interval < 0)
			o->alive_interval = atoi(v);
	} else if (KW("ServerAliveCountMax")) {
		if (o->alive_count < 0)
			o->alive_count = atoi(v);
	} else if (KW("ConnectTimeout")) {
		if (o->connect_timeout < 0)
			o->connect_timeout = atoi(v);
	} else if (KW("AddressFamily")) {
		if (o->address_family < 0)
			o->address_family = address_family(v);
	} else if (KW("Compression")) {
		if (o->compression < 0)
			o->compression = yesno(v);
	} else if (KW("Ciphers")) {
		return set_once(&o->ciphers, v);
	} else if (KW("KexAlgorithms")) {
		return set_once(&o->kex, v);
	} else if (KW("MACs")) {
		return set_once(&o->macs, v);
	} else if (KW("HostKeyAlgorithms")) {
		return set_once(&o->hostkeyalgs, v);
	} else if (KW("ProxyJump")) {
		return set_once(&o->proxy_jump, v);
	}
#undef KW
	return 0;
}

/* Split "Keyword value", "Keyword=value", "Keyword = value"; strip one
 * level of double quotes.  0 with kw and val set, 1 for a blank line. */
static int split(char *line, char **kw, char **val)
{
	char *p = line, *e;

	while (isspace((unsigned char)*p))
		p++;
	if (!*p || *p == '#')
		return 1;
	*kw = p;
	while (*p && !isspace((unsigned char)*p) && *p != '=')
		p++;
	if (*p) {
		*p++ = '\0';
		while (isspace((unsigned char)*p) || *p == '=')
			p++;
	}
	e = p + strlen(p);
	while (e > p && isspace((unsigned char)e[-1]))
		*--e = '\0';
	if (*p == '"' && e > p + 1 && e[-1] == '"') {
		e[-1] = '\0';
		p++;
	}
	*val = p;
	return 0;
}

int sshconf_read(struct opts *o, const char *file, const char *host)
{
	char *line = NULL;
	size_t cap = 0;
	int active = 1, lineno = 0;
	FILE *f;

	f = fopen(file, "r");
	if (!f)
		return errno == ENOENT ? 0 : -1;
	while (getline(&line, &cap, f) > 0) {
		char *kw, *val;

		lineno++;
		if (strlen(line) > SSHCONF_LINE_MAX)
			continue;
		if (split(line, &kw, &val))
			continue;
		if (!strcasecmp(kw, "Host")) {
			active = host_matches(val, host);
			continue;
		}
		if (!strcasecmp(kw, "Match")) {
			active = 0; /* not evaluated: skipped */
			continue;
		}
		if (active && apply(o, kw, val, host)) {
			fclose(f);
			free(line);
			return -1;
		}
	}
	free(line);
	fclose(f);
	return 0;
}
