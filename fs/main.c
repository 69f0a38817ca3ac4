/*
 * main.c - the sftpmnt command line: options, connecting and logging in
 * before the mount exists (so a wrong key or host fails at the prompt,
 * not as a dead mount), then the FUSE session.
 */
#define _GNU_SOURCE
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <fnmatch.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <syslog.h>
#include <unistd.h>

#include "sftpmnt.h"

static void usage(FILE *f)
{
	fprintf(f,
		"usage: sftpmnt [user@]host:[dir] mountpoint [-o opt,...] "
		"[-f] [-d] [-s] [-h] [-V]\n"
		"\n"
		"Mount a remote directory over SFTP.\n"
		"\n"
		"  -h, --help          this help\n"
		"  -V, --version       versions\n"
		"  -f                  stay in the foreground\n"
		"  -d                  debug output (implies -f)\n"
		"  -s                  accepted for sshfs compatibility\n"
		"  -p PORT, -C         as -o port=PORT, -o Compression=yes "
		"(sshfs, ssh)\n"
		"  -F FILE             ssh_config file (default ~/.ssh/config, "
		"/etc/ssh/ssh_config)\n"
		"  -o opt,...          options:\n"
		"    port=N                    SSH port (22)\n"
		"    User=NAME HostName=NAME IdentitiesOnly=yes|no "
		"IdentityAgent=SOCKET|none\n"
		"    IdentityFile=FILE         private key (repeatable; default "
		"~/.ssh/id_ed25519, id_ecdsa, id_rsa)\n"
		"    CertificateFile=FILE      OpenSSH certificate of the key "
		"(default: KEY-cert.pub when there)\n"
		"    UserKnownHostsFile=FILE   known_hosts (~/.ssh/known_hosts)\n"
		"    StrictHostKeyChecking=yes|accept-new|no\n"
		"    ConnectTimeout=SECONDS    (15)\n"
		"    AddressFamily=any|inet|inet6\n"
		"    Ciphers=LIST KexAlgorithms=LIST MACs=LIST HostKeyAlgorithms=LIST\n"
		"    Compression=yes|no\n"
		"    cache=yes|no cache_timeout=SECONDS (20): kept directory "
		"listings\n"
		"    attr_timeout=SECONDS (1): names and attributes in the "
		"kernel\n"
		"    unlink_behind=yes|no (yes): answer the unlinks of a bulk "
		"removal as they go out\n"
		"    reconnect=yes|no (yes) ServerAliveInterval=SECONDS (15)\n"
		"    ServerAliveCountMax=N (3) op_timeout=SECONDS (30): how long an\n"
		"      operation waits for a lost connection to come back\n"
		"    max_read=BYTES max_write=BYTES  cap SFTP request sizes "
		"(server's limits)\n"
		"    readahead=BYTES (64M)     read-ahead window per file\n"
		"    writeback=BYTES (32M)     writes answered before the "
		"server per file (0: none)\n"
		"    write_channels=N (10)     SFTP channels a large write is "
		"spread over\n"
		"    max_conns=N (1)           SSH connections that large "
		"files are read over (up to 8)\n"
		"    password_stdin            read a password from stdin\n"
		"    allow_other default_permissions fsname=NAME kernel_cache\n"
		"    idmap=none|user|file uidfile=FILE gidfile=FILE "
		"nomap=error|ignore\n"
		"    uid=N gid=N umask=OCTAL\n"
		"    follow_symlinks transform_symlinks contain_symlinks\n"
		"    ProxyJump=[user@]host[:port][\\,...]  reach the host "
		"through jump hosts (ssh -J)\n"
		"    sshfs_sync no_readahead (as writeback=0, readahead=128K); "
		"other sshfs words (dcache_*...) accepted\n"
		"    mount-only words (_netdev noauto user users nofail auto "
		"rw x-systemd.*) are accepted and ignored\n");
}

/* A byte count with an optional K, M or G (powers of 1024): 0 and *n,
 * or -1. */
static int parse_size(const char *v, uint64_t *n)
{
	static const char units[] = "kmg";
	const char *u;
	char *end;
	unsigned long long x;
	int shift = 0;

	if (*v < '0' || *v > '9')
		return -1;
	errno = 0;
	x = strtoull(v, &end, 10);
	if (errno)
		return -1;
	if (*end && (u = strchr(units, tolower((unsigned char)*end)))) {
		shift = 10 * (int)(u - units + 1);
		end++;
	}
	if (*end || x > (~0ULL >> shift))
		return -1;
	*n = x << shift;
	return 0;
}

static int set_str(char **dst, const char *v)
{
	free(*dst);
	*dst = strdup(v);
	return *dst ? 0 : -1;
}

/* The smallest read-ahead window (readahead=, no_readahead). */
#define READAHEAD_MIN (128u << 10)

/* ssh options that sshfs hands to ssh(1) and that say nothing to a
 * client without ssh(1)'s processes, terminals or forwardings: accepted
 * so that an sshfs fstab line mounts, and ignored. */
static int ssh_ignored(const char *name)
{
	static const char *const names[] = {
		"LogLevel",	  "ControlMaster", "ControlPath",
		"ControlPersist", "ForwardAgent",  "ForwardX11",
		"RequestTTY",	  "VisualHostKey", "ClearAllForwardings",
		"TCPKeepAlive",
	};
	size_t i;

	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (!strcasecmp(name, names[i]))
			return 1;
	return 0;
}

/* One -o word.  0, or -1 with a message printed. */
static int opt_one(struct opts *o, char *w)
{
	char *v = strchr(w, '=');

	if (v)
		*v++ = '\0';
#define IS(name) (!strcasecmp(w, name))
	if (!v) {
		if (IS("allow_other"))
			o->allow_other = 1;
		else if (IS("default_permissions"))
			o->default_permissions = 1;
		else if (IS("debug"))
			o->debug = o->foreground = 1;
		else if (IS("reconnect"))
			o->reconnect = 1;
		else if (IS("password_stdin"))
			o->password_stdin = 1;
		else if (IS("follow_symlinks"))
			o->follow_symlinks = 1;
		else if (IS("transform_symlinks"))
			o->transform_symlinks = 1;
		else if (IS("contain_symlinks"))
			o->contain_symlinks = 1;
		else if (IS("no_contain_symlinks"))
			o->contain_symlinks = 0;
		else if (IS("kernel_cache"))
			o->kernel_cache = 1;
		else if (IS("ro") || IS("nodev") || IS("nosuid") ||
			 IS("noexec") || IS("exec") || IS("dev") ||
			 IS("suid") || IS("noatime") || IS("atime") ||
			 IS("relatime") || IS("sync") || IS("async") ||
			 IS("dirsync")) {
			/* kernel mount flags: handed to FUSE */
			size_t l = strlen(o->kopts);

			if (IS("ro"))
				o->ro = 1;

			snprintf(o->kopts + l, sizeof(o->kopts) - l, "%s%s",
				 l ? "," : "", w);
		} else if (IS("disable_hardlink")) {
			o->no_hardlink = 1; /* link(2): EPERM, as sshfs */
		} else if (IS("sshfs_sync")) {
			o->writeback_max = 0; /* every write after the server */
		} else if (IS("no_readahead")) {
			o->readahead_max = READAHEAD_MIN;
		} else if (IS("delay_connect") || IS("no_check_root") ||
			   IS("remount") || IS("sync_readdir") ||
			   IS("sshfs_debug") || IS("auto_cache"))
			; /* sshfs options with nothing to do here: remount
			   * (a FUSE mount keeps its options), sync_readdir
			   * (listings are always complete), sshfs_debug (its
			   * SFTP trace; -d is ours), auto_cache (the
			   * page cache is dropped at open unless
			   * kernel_cache) */
		else if (IS("_netdev") || IS("noauto") || IS("auto") ||
			 IS("user") || IS("users") || IS("nofail") ||
			 IS("rw") || IS("defaults") || IS("nouser") ||
			 !strncmp(w, "x-systemd.", 10) || !strncmp(w, "comment=", 8))
			; /* for mount(8) only */
		else
			goto unknown;
		return 0;
	}
	if (!strncmp(w, "x-systemd.", 10) || IS("comment"))
		return 0;
	if (IS("port") || IS("Port")) {
		o->port = atoi(v);
		o->port_set = 1;
		if (o->port <= 0 || o->port > 65535) {
			fprintf(stderr, "sftpmnt: bad port %s\n", v);
			return -1;
		}
	} else if (IS("User")) {
		free(o->user);
		o->user = strdup(v);
		o->user_set = 1;
	} else if (IS("IdentityFile")) {
		o->identity_cmdline = 1;
		if (o->nidentity == 8 ||
		    !(o->identity[o->nidentity++] = strdup(v)))
			return -1;
	} else if (IS("IdentitiesOnly")) {
		o->identities_only = !strcasecmp(v, "yes");
	} else if (IS("CertificateFile")) {
		return set_str(&o->certificate, v);
	} else if (IS("IdentityAgent")) {
		return set_str(&o->identity_agent, v);
	} else if (IS("HostName")) {
		return set_str(&o->hostname, v);
	} else if (IS("UserKnownHostsFile")) {
		return set_str(&o->known_hosts, v);
	} else if (IS("RekeyLimit")) {
		if (sshconf_rekey_limit(v, &o->rekey_bytes, &o->rekey_secs)) {
			fprintf(stderr, "sftpmnt: RekeyLimit=%s: a size of at "
					"least 16K (K, M, G) or default, then "
					"optionally a time (10m, 1h) or none\n",
				v);
			return -1;
		}
		o->rekey_set = 1;
	} else if (IS("StrictHostKeyChecking")) {
		if (!strcasecmp(v, "no") || !strcasecmp(v, "off"))
			o->strict_hostkey = 0;
		else if (!strcasecmp(v, "accept-new"))
			o->strict_hostkey = 2;
		else if (!strcasecmp(v, "yes") || !strcasecmp(v, "ask"))
			o->strict_hostkey = 1;
		else {
			fprintf(stderr, "sftpmnt: StrictHostKeyChecking=%s: "
					"yes, accept-new or no\n", v);
			return -1;
		}
	} else if (IS("ConnectTimeout")) {
		o->connect_timeout = atoi(v) > 0 ? atoi(v) : 15;
	} else if (IS("AddressFamily")) {
		if ((o->address_family = address_family(v)) < 0) {
			fprintf(stderr, "sftpmnt: AddressFamily=%s: any, inet "
					"or inet6\n", v);
			return -1;
		}
	} else if (IS("Compression")) {
		o->compression = !strcasecmp(v, "yes");
	} else if (IS("Ciphers")) {
		return set_str(&o->ciphers, v);
	} else if (IS("KexAlgorithms")) {
		return set_str(&o->kex, v);
	} else if (IS("MACs")) {
		return set_str(&o->macs, v);
	} else if (IS("HostKeyAlgorithms")) {
		return set_str(&o->hostkeyalgs, v);
	} else if (IS("ProxyJump")) {
		return set_str(&o->proxy_jump, v);
	} else if (IS("cache")) {
		o->cache = strcasecmp(v, "no") != 0;
	} else if (IS("cache_timeout") || IS("cache_dir_timeout") ||
		   IS("cache_stat_timeout") || IS("dcache_timeout") ||
		   IS("dcache_dir_timeout") || IS("dcache_stat_timeout")) {
		o->cache_timeout = atof(v);
	} else if (IS("attr_timeout") || IS("entry_timeout") ||
		   IS("negative_timeout")) {
		o->attr_timeout = atof(v);
	} else if (IS("reconnect")) {
		o->reconnect = strcasecmp(v, "no") != 0;
	} else if (IS("unlink_behind")) {
		o->unlink_behind = strcasecmp(v, "no") != 0;
	} else if (IS("ServerAliveInterval")) {
		o->alive_interval = atoi(v) >= 0 ? atoi(v) : 15;
	} else if (IS("ServerAliveCountMax")) {
		o->alive_count = atoi(v) > 0 ? atoi(v) : 3;
	} else if (IS("op_timeout")) {
		o->op_timeout = atoi(v) > 0 ? atoi(v) : 30;
	} else if (IS("idmap")) {
		if (!strcasecmp(v, "user"))
			o->idmap = IDMAP_USER;
		else if (!strcasecmp(v, "none"))
			o->idmap = IDMAP_NONE;
		else if (!strcasecmp(v, "file"))
			o->idmap = IDMAP_FILE;
		else {
			fprintf(stderr, "sftpmnt: idmap=%s: none, user or "
					"file (with uidfile=/gidfile=)\n",
				v);
			return -1;
		}
	} else if (IS("uidfile") || IS("gidfile")) {
		char **f = IS("uidfile") ? &o->uidfile : &o->gidfile;

		free(*f);
		if (!(*f = strdup(v)))
			return -1;
	} else if (IS("nomap")) {
		if (!strcasecmp(v, "error") || !strcasecmp(v, "ignore"))
			o->nomap_error = !strcasecmp(v, "error");
		else {
			fprintf(stderr, "sftpmnt: nomap=%s: error or ignore\n",
				v);
			return -1;
		}
	} else if (IS("uid") || IS("gid") || IS("umask")) {
		char *end;
		long n = strtol(v, &end, IS("umask") ? 8 : 10);

		if (*end || n < 0) {
			fprintf(stderr, "sftpmnt: bad %s=%s\n", w, v);
			return -1;
		}
		if (IS("uid"))
			o->uid = n;
		else if (IS("gid"))
			o->gid = n;
		else
			o->umask = n & 07777;
	} else if (IS("readahead") || IS("writeback")) {
		uint64_t n;
		int ra = IS("readahead");

		if (parse_size(v, &n) || n > (1ULL << 30) ||
		    (ra && n < READAHEAD_MIN)) {
			fprintf(stderr, "sftpmnt: %s=%s: give bytes (K, M, G) "
					"from %s to 1G\n",
				w, v, ra ? "128K" : "0");
			return -1;
		}
		if (ra)
			o->readahead_max = n;
		else
			o->writeback_max = n;
	} else if (IS("max_read") || IS("max_write")) {
		char *end;
		long n = strtol(v, &end, 10);

		if (*end || n < 512 || n > SFTP_DATA_MAX) {
			fprintf(stderr, "sftpmnt: %s=%s: give bytes from 512 "
					"to %d\n",
				w, v, SFTP_DATA_MAX);
			return -1;
		}
		if (IS("max_read"))
			o->max_read = (int)n;
		else
			o->max_write = (int)n;
	} else if (IS("write_channels")) {
		char *end;
		long n = strtol(v, &end, 10);

		if (*end || n < 1 || n > XCH_MAX + 1) {
			fprintf(stderr, "sftpmnt: write_channels=%s: give 1 to "
					"%d\n",
				v, XCH_MAX + 1);
			return -1;
		}
		o->write_channels = (int)n;
	} else if (IS("max_conns")) {
		/* (sshfs's name) large files read spread over this many
		 * connections; sshfs's larger numbers are taken as CONN_MAX */
		char *end;
		long n = strtol(v, &end, 10);

		if (*end || n < 1 || n > 1024) {
			fprintf(stderr, "sftpmnt: max_conns=%s: give a number "
					"from 1\n",
				v);
			return -1;
		}
		o->max_conns = n > CONN_MAX ? CONN_MAX : (int)n;
	} else if (IS("dir_cache")) {
		if (!strcasecmp(v, "no"))
			o->cache_timeout = 0;
	} else if (IS("cache_link_timeout") || IS("dcache_link_timeout") ||
		   IS("dcache_max_size") || IS("dcache_clean_interval") ||
		   IS("dcache_min_clean_interval") || ssh_ignored(w)) {
		; /* links are read from the server every time; the other
		   * sshfs cache knobs have no counterpart (dcache.c has
		   * its own caps); ssh_ignored: see there */
	} else if (IS("BatchMode")) {
		if (!strcasecmp(v, "yes"))
			askpass_stop(); /* no passphrase is asked for */
	} else if (IS("workaround")) {
		; /* sshfs's server bug workarounds: none needed here */
	} else if (IS("fsname")) {
		return set_str(&o->fsname, v);
	} else {
		goto unknown;
	}
	return 0;
unknown:
	fprintf(stderr, "sftpmnt: unknown option '%s' (see sftpmnt -h%s)\n", w,
		o->proxy_jump && !v ? "; a comma inside ProxyJump= is "
				      "written \\,"
				    : "");
	return -1;
#undef IS
}

/* A comma-separated -o list.  "\," is a comma inside a value and "\\" a
 * backslash, as libfuse's option parser has it (sshfs users write
 * ProxyJump=a\,b so). */
static int opt_list(struct opts *o, const char *list)
{
	char *copy = malloc(strlen(list) + 1), *w;
	const char *p = list;
	int rc = 0;

	if (!copy)
		return -1;
	while (*p && !rc) {
		for (w = copy; *p && *p != ','; p++) {
			if (*p == '\\' && (p[1] == ',' || p[1] == '\\'))
				p++;
			*w++ = *p;
		}
		*w = '\0';
		if (*p)
			p++;
		if (*copy)
			rc = opt_one(o, copy);
	}
	free(copy);
	return rc;
}

/* [user@]host:[dir] */
static int parse_source(struct opts *o, const char *src)
{
	const char *at = strchr(src, '@'), *host = at ? at + 1 : src;
	const char *colon = strchr(host, ':');

	if (!colon || colon == host) {
		fprintf(stderr, "sftpmnt: '%s' is not [user@]host:[dir]\n", src);
		return -1;
	}
	if (at) {
		free(o->user);
		o->user = strndup(src, (size_t)(at - src));
		o->user_set = 1;
	}
	o->host = strndup(host, (size_t)(colon - host));
	o->rdir = strdup(colon + 1);
	return o->host && o->rdir ? 0 : -1;
}

static void opts_free(struct opts *o)
{
	int i;

	free(o->host);
	free(o->hostname);
	free(o->host_given);
	free(o->user);
	free(o->rdir);
	for (i = 0; i < o->nidentity; i++)
		free(o->identity[i]);
	free(o->certificate);
	free(o->known_hosts);
	free(o->mountpoint);
	free(o->ciphers);
	free(o->kex);
	free(o->macs);
	free(o->hostkeyalgs);
	free(o->fsname);
	free(o->identity_agent);
	free(o->uidfile);
	free(o->gidfile);
	idmap_free(o);
	free(o->proxy_jump);
	if (o->jump) {
		opts_free(o->jump);
		free(o->jump);
	}
	if (o->password) {
		memset(o->password, 0, strlen(o->password));
		free(o->password);
	}
}

/* One pass over the ssh_config files (sshconf.h): -F file, or
 * ~/.ssh/config then /etc/ssh/ssh_config.  -1 when the mount must not go
 * on: an -F file that cannot be read, or a bad line in any file (ssh
 * refuses those too); a ~/.ssh/config that cannot be read is only said. */
static int read_config_pass(struct opts *o, struct sshconf_pass *p)
{
	const char *home = getenv("HOME");
	char path[4096];
	int rc;

	if (o->config) {
		if ((rc = sshconf_read(o, o->config, p)) == -1)
			fprintf(stderr, "sftpmnt: cannot read %s: %s\n",
				o->config, strerror(errno));
		return rc ? -1 : 0;
	}
	if (home) {
		snprintf(path, sizeof(path), "%s/.ssh/config", home);
		if ((rc = sshconf_read(o, path, p)) == -1)
			fprintf(stderr, "sftpmnt: cannot read %s\n", path);
		else if (rc)
			return -1;
	}
	p->system = 1;
	rc = sshconf_read(o, "/etc/ssh/ssh_config", p);
	p->system = 0;
	return rc == -2 ? -1 : 0;
}

/* ssh_config(5) for o->host; a "Match final" asks for a second pass in
 * which Host lines test the HostName the first one resolved (as ssh). */
static int read_config(struct opts *o)
{
	struct sshconf_pass p = { .orig = o->host, .host = o->host };

	if (read_config_pass(o, &p))
		return -1;
	if (p.want_final) {
		p.final = 1;
		p.nfiles = 0;
		if (o->hostname)
			p.host = o->hostname;
		if (read_config_pass(o, &p))
			return -1;
	}
	if (o->hostname) {
		free(o->host_given);
		o->host_given = o->host;
		o->host = o->hostname;
		o->hostname = NULL;
	}
	/* ~ and %-tokens in the file names, with what was resolved */
	return sshconf_expand_paths(o, o->host_given ? o->host_given
						     : o->host);
}

/* The defaults for what neither the command line nor ssh_config set. */
static int default_opts(struct opts *o)
{
	if (!o->user) {
		struct passwd *pw = getpwuid(getuid());

		o->user = strdup(pw ? pw->pw_name : "root");
	}
	if (o->strict_hostkey < 0)
		o->strict_hostkey = 1;
	if (o->connect_timeout <= 0)
		o->connect_timeout = 15;
	if (o->address_family < 0)
		o->address_family = AF_UNSPEC;
	if (o->alive_interval < 0)
		o->alive_interval = 15;
	if (o->alive_count <= 0)
		o->alive_count = 3;
	return o->user && o->host ? 0 : -1;
}

static char *dup_or_null(const char *s)
{
	return s ? strdup(s) : NULL;
}

/* Jump hosts in one chain, counting those that the hosts' own ssh_config
 * blocks add: a bound on a ProxyJump loop in ssh_config (Host a ...
 * ProxyJump b, Host b ... ProxyJump a), which ssh only stops when it runs
 * out of processes.  (OpenSSH has no limit; 8 is well beyond any real
 * bastion chain.) */
#define JUMP_HOPS_MAX 8

/* One hop, [user@]host[:port] (host may be [v6addr]), into j; 0, or -1
 * after a message naming the whole list. */
static int jump_parse_hop(struct opts *j, const char *hop, const char *list)
{
	char *spec = strdup(hop), *at, *colon;

	if (!spec)
		return -1;
	at = strrchr(spec, '@');
	if (at) {
		*at = '\0';
		j->user = strdup(spec);
		j->user_set = 1;
	}
	j->host = strdup(at ? at + 1 : spec);
	if (j->host && (colon = strrchr(j->host, ':')) &&
	    !strchr(colon + 1, ']')) {
		char *end;
		long port = strtol(colon + 1, &end, 10);

		if (*end || port <= 0 || port > 65535) {
			fprintf(stderr, "sftpmnt: ProxyJump=%s: bad port in "
					"%s\n",
				list, hop);
			free(spec);
			return -1;
		}
		*colon = '\0';
		j->port = (int)port;
		j->port_set = 1;
	}
	free(spec);
	if (!j->host || !*j->host || (at && (!j->user || !*j->user))) {
		fprintf(stderr, "sftpmnt: ProxyJump=%s: expected "
				"[user@]host[:port]%s%s%s\n",
			list, *hop ? " for '" : " (an empty hop)",
			*hop ? hop : "", *hop ? "'" : "");
		return -1;
	}
	return 0;
}

/* ProxyJump=hop[,hop...] as ssh -J reads it: the last hop is the one
 * that reaches o's host, and it is itself reached through the hops
 * before it.  So o->jump is the last hop, whose proxy_jump is the rest
 * of the list and whose jump is built the same way, down to the first
 * hop, which connects by TCP.  Each hop's own ssh_config block applies
 * first (the first hop of the list may bring a ProxyJump of its own from
 * there, as with ssh); what that leaves unset comes from the next hop's
 * options, so the mount's known_hosts, keys, agent, host key policy and
 * timeouts serve every hop.  depth: hops made so far below the mount. */
static int algs_check(struct opts *o);

static int jump_opts(struct opts *o, int depth)
{
	struct opts *j;
	const char *hop;
	char *last;
	int i;

	if (!o->proxy_jump || !strcasecmp(o->proxy_jump, "none"))
		return 0;
	if (depth == JUMP_HOPS_MAX) {
		fprintf(stderr, "sftpmnt: ProxyJump: more than %d jump hosts "
				"(a loop of ProxyJump lines in ssh_config?)\n",
			JUMP_HOPS_MAX);
		return -1;
	}
	if (!(j = calloc(1, sizeof(*j))))
		return -1;
	o->jump = j;
	j->port = 22;
	j->strict_hostkey = j->connect_timeout = j->alive_interval = -1;
	j->address_family = -1;
	j->alive_count = j->identities_only = j->compression = -1;
	j->config = o->config;
	last = strrchr(o->proxy_jump, ',');
	hop = last ? last + 1 : o->proxy_jump;
	if (jump_parse_hop(j, hop, o->proxy_jump))
		return -1;
	/* the hops before it, set before its ssh_config block is read so
	 * that they win over a ProxyJump there (ssh -J does the same) */
	if (last && !(j->proxy_jump = strndup(o->proxy_jump,
					      (size_t)(last - o->proxy_jump))))
		return -1;
	if (j->proxy_jump && (!*j->proxy_jump ||
			      j->proxy_jump[strlen(j->proxy_jump) - 1] == ',')) {
		fprintf(stderr, "sftpmnt: ProxyJump=%s: an empty hop\n",
			o->proxy_jump);
		return -1;
	}
	if (read_config(j))
		return -1;
	if (!j->known_hosts)
		j->known_hosts = dup_or_null(o->known_hosts);
	if (!j->identity_agent)
		j->identity_agent = dup_or_null(o->identity_agent);
	if (j->nidentity == 0)
		for (i = 0; i < o->nidentity; i++)
			if ((j->identity[j->nidentity] =
				     strdup(o->identity[i])))
				j->nidentity++;
	if (j->identities_only < 0)
		j->identities_only = o->identities_only;
	if (j->strict_hostkey < 0)
		j->strict_hostkey = o->strict_hostkey;
	if (j->connect_timeout < 0)
		j->connect_timeout = o->connect_timeout;
	if (j->address_family < 0)
		j->address_family = o->address_family;
	if (j->alive_interval < 0)
		j->alive_interval = o->alive_interval;
	if (default_opts(j) || algs_check(j))
		return -1;
	return jump_opts(j, depth + 1);
}

/* Is name one of list's comma-separated items (patterns with * and ? when
 * pat)? */
static int in_list(const char *list, const char *name, size_t n, int pat)
{
	char item[128], cand[128];
	const char *p, *e;

	snprintf(cand, sizeof(cand), "%.*s", (int)n, name);
	for (p = list; *p; p = *e ? e + 1 : e) {
		e = strchrnul(p, ',');
		snprintf(item, sizeof(item), "%.*s", (int)(e - p), p);
		if (pat ? !fnmatch(item, cand, 0) : !strcmp(item, cand))
			return 1;
	}
	return 0;
}

/*
 * ssh_config(5)'s forms of an algorithm list: "+a,b" appends to the
 * default list, "-a,b*" takes names (patterns) out of it, "^a,b" puts
 * them first; any other list is the list itself.  The default is the
 * one a connection offers when told nothing: default_ciphers() for the
 * ciphers, else the library's (libssh2_session_supported_algs, in its
 * order of preference).  0, or -1 (out of memory).
 */
static int alg_list_expand(LIBSSH2_SESSION *s, char **list, int type)
{
	const char *dflt = type == LIBSSH2_METHOD_CRYPT_CS ? default_ciphers()
							   : NULL;
	const char **algs = NULL, *items, *p, *e;
	char op, *out, *all = NULL;
	size_t cap, len = 0, i;
	int n = 0;

	if (!*list || !strchr("+-^", **list))
		return 0;
	op = **list;
	items = *list + 1;
	if (!dflt) {
		if ((n = libssh2_session_supported_algs(s, type, &algs)) < 0)
			return -1;
		for (i = 0, cap = 1; i < (size_t)n; i++)
			cap += strlen(algs[i]) + 1;
		if (!(all = calloc(1, cap))) {
			libssh2_free(s, algs);
			return -1;
		}
		for (i = 0; i < (size_t)n; i++)
			sprintf(all + strlen(all), "%s%s", i ? "," : "",
				algs[i]);
		if (n > 0)
			libssh2_free(s, algs);
		dflt = all;
	}
	cap = strlen(dflt) + strlen(items) + 2;
	if (!(out = calloc(1, cap))) {
		free(all);
		return -1;
	}
#define ADD(q, m)                                                             \
	do {                                                                  \
		if (!in_list(out, q, m, 0))                                   \
			len += (size_t)snprintf(out + len, cap - len, "%s%.*s", \
						len ? "," : "", (int)(m), q);   \
	} while (0)
	if (op == '^')
		for (p = items; *p; p = *e ? e + 1 : e) {
			e = strchrnul(p, ',');
			ADD(p, e - p);
		}
	for (p = dflt; *p; p = *e ? e + 1 : e) {
		e = strchrnul(p, ',');
		if (op != '-' || !in_list(items, p, (size_t)(e - p), 1))
			ADD(p, e - p);
	}
	if (op == '+')
		for (p = items; *p; p = *e ? e + 1 : e) {
			e = strchrnul(p, ',');
			ADD(p, e - p);
		}
#undef ADD
	free(all);
	free(*list);
	*list = out;
	return 0;
}

/* An algorithm list (-o or ssh_config) of which this library supports
 * no name would only fail later, after connecting, with a message that
 * names no option: refuse it here as the usage error it is, with the
 * names that would do.  (Unsupported names in a list with a supported
 * one are skipped, as sftpmnt(1) says.)  0, or -1 after a message. */
static int algs_check(struct opts *o)
{
	const struct {
		const char *name;
		char **list;
		int type;
	} lists[] = {
		{ "Ciphers", &o->ciphers, LIBSSH2_METHOD_CRYPT_CS },
		{ "KexAlgorithms", &o->kex, LIBSSH2_METHOD_KEX },
		{ "MACs", &o->macs, LIBSSH2_METHOD_MAC_CS },
		{ "HostKeyAlgorithms", &o->hostkeyalgs, LIBSSH2_METHOD_HOSTKEY },
	};
	LIBSSH2_SESSION *s = NULL;
	const char **algs;
	size_t i;
	int n, j, rc = 0;

	for (i = 0; i < sizeof(lists) / sizeof(lists[0]) && !rc; i++) {
		if (!*lists[i].list)
			continue;
		if (!s && !(s = libssh2_session_init()))
			return -1;
		if (alg_list_expand(s, lists[i].list, lists[i].type)) {
			rc = -1;
			break;
		}
		if (!libssh2_session_method_pref(s, lists[i].type,
						 *lists[i].list))
			continue;
		fprintf(stderr, "sftpmnt: %s=%s: no algorithm in the list is "
				"supported; supported:",
			lists[i].name, *lists[i].list);
		n = libssh2_session_supported_algs(s, lists[i].type, &algs);
		for (j = 0; j < n; j++)
			fprintf(stderr, "%s%s", j ? "," : " ", algs[j]);
		if (n > 0)
			libssh2_free(s, algs);
		fputc('\n', stderr);
		rc = -1;
	}
	if (s)
		libssh2_session_free(s);
	return rc;
}

static int finish_opts(struct opts *o)
{
	if (read_config(o) || default_opts(o) || algs_check(o))
		return -1;
	return jump_opts(o, 0);
}

int main(int argc, char **argv)
{
	/* -1: not set yet (command line, then ssh_config, then default) */
	struct opts o = { .port = 22, .strict_hostkey = -1,
			  .connect_timeout = -1, .address_family = -1, .cache = 1,
			  .cache_timeout = 20.0, .attr_timeout = 1.0, .reconnect = 1,
			  .unlink_behind = 1, .max_conns = 1,
			  .readahead_max = 64u << 20, .writeback_max = 32u << 20,
			  .write_channels = XCH_MAX + 1,
			  .alive_interval = -1, .alive_count = -1,
			  .op_timeout = 30, .identities_only = -1,
			  .uid = -1, .gid = -1, .umask = -1, .nomap_error = 1,
			  .compression = -1 };
	struct fuse_args args = FUSE_ARGS_INIT(0, NULL);
	struct fuse_session *se;
	struct itable it;
	struct conn c;
	const char *src = NULL;
	char err[1024], fsname[1100];
	int i, rc = 1;

	/* every exit goes through out_opts, so nothing leaks (sanitizer
	 * builds check) */
#define EXIT(code)                                                          \
	do {                                                                \
		rc = (code);                                                \
		goto out_opts;                                              \
	} while (0)

	memset(&c, 0, sizeof(c));
	for (i = 1; i < argc; i++) {
		const char *a = argv[i];

		if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
			usage(stdout);
			return 0;
		}
		if (!strcmp(a, "-V") || !strcmp(a, "--version")) {
			printf("sftpmnt %s\nSSH library: libssh2 API %s "
			       "(sftpmnt's own implementation)\n"
			       "FUSE library: %s\n",
			       PACKAGE_VERSION, libssh2_version(0),
			       fuse_pkgversion());
			return 0;
		}
		if (!strcmp(a, "-f")) {
			o.foreground = 1;
		} else if (!strcmp(a, "-d")) {
			o.debug = o.foreground = 1;
		} else if (!strcmp(a, "-s")) {
			o.single = 1;
		} else if (!strcmp(a, "-C")) {
			o.compression = 1; /* sshfs -C, ssh -C */
		} else if (!strcmp(a, "-p") && i + 1 < argc) {
			char port[32]; /* sshfs -p PORT, as -o port= */

			snprintf(port, sizeof(port), "port=%s", argv[++i]);
			if (opt_one(&o, port))
				EXIT(2);
		} else if (!strcmp(a, "-F") && i + 1 < argc) {
			o.config = argv[++i];
		} else if (!strcmp(a, "-o") && i + 1 < argc) {
			if (opt_list(&o, argv[++i]))
				EXIT(2);
		} else if (!strncmp(a, "-o", 2) && a[2]) {
			if (opt_list(&o, a + 2))
				EXIT(2);
		} else if (a[0] == '-') {
			fprintf(stderr, "sftpmnt: unknown flag %s (see -h)\n", a);
			EXIT(2);
		} else if (!src) {
			src = a;
		} else if (!o.mountpoint) {
			o.mountpoint = realpath(a, NULL);
			if (!o.mountpoint) {
				fprintf(stderr, "sftpmnt: mountpoint %s: %s\n", a,
					strerror(errno));
				EXIT(1);
			}
		} else {
			fprintf(stderr, "sftpmnt: too many arguments\n");
			EXIT(2);
		}
	}
	if (!src || !o.mountpoint) {
		usage(stderr);
		EXIT(2);
	}
	if (parse_source(&o, src))
		EXIT(2);
	if (finish_opts(&o))
		EXIT(2);
	if (idmap_load(&o))
		EXIT(1);
	if (o.password_stdin) {
		/* one line from stdin, for password and keyboard-interactive
		 * authentication (never echoed, never prompted for) */
		size_t cap = 0;
		ssize_t n = getline(&o.password, &cap, stdin);

		if (n < 0) {
			fprintf(stderr, "sftpmnt: password_stdin: no password "
					"on stdin\n");
			EXIT(1);
		}
		while (n > 0 && (o.password[n - 1] == '\n' ||
				 o.password[n - 1] == '\r'))
			o.password[--n] = '\0';
	}

	if (conn_open(&c, &o, err, sizeof(err))) {
		fprintf(stderr, "sftpmnt: %s\n", err);
		EXIT(1);
	}
	if (itable_init(&it, c.home)) {
		fprintf(stderr, "sftpmnt: out of memory\n");
		EXIT(1);
	}
	c.it = &it;
	/* directory listings answer lookups while attributes are cached */
	c.dc = o.cache && o.cache_timeout > 0 ? dc_new(o.cache_timeout) : NULL;

	snprintf(fsname, sizeof(fsname), "fsname=%s",
		 o.fsname ? o.fsname : src);
	if (fuse_opt_add_arg(&args, "sftpmnt") ||
	    fuse_opt_add_arg(&args, "-o") || fuse_opt_add_arg(&args, fsname) ||
	    fuse_opt_add_arg(&args, "-o") ||
	    fuse_opt_add_arg(&args, "subtype=sftpmnt") ||
	    (o.allow_other && (fuse_opt_add_arg(&args, "-o") ||
			       fuse_opt_add_arg(&args, "allow_other"))) ||
	    (o.default_permissions &&
	     (fuse_opt_add_arg(&args, "-o") ||
	      fuse_opt_add_arg(&args, "default_permissions"))) ||
	    (o.debug && fuse_opt_add_arg(&args, "-d")) ||
	    (o.kopts[0] && (fuse_opt_add_arg(&args, "-o") ||
			    fuse_opt_add_arg(&args, o.kopts))))
		EXIT(1);
	se = fuse_session_new(&args, &sftpmnt_ops, sizeof(sftpmnt_ops), &c);
	if (!se)
		EXIT(1);
	c.se = se;
	if (fuse_set_signal_handlers(se))
		goto out_session;
	if (fuse_session_mount(se, o.mountpoint)) {
		fprintf(stderr, "sftpmnt: cannot mount on %s\n", o.mountpoint);
		goto out_signals;
	}
	/* detach only now: every error so far reached the terminal */
	if (o.jump && !o.foreground)
		jump_hold();
	if (fuse_daemonize(o.foreground))
		goto out_unmount;
	if (conn_start(&c)) {
		fprintf(stderr, "sftpmnt: cannot start the I/O thread\n");
		goto out_unmount;
	}
	if (o.max_conns > 1 && conn_start_secondaries(&c))
		conn_log(&c, LOG_WARNING, "could not start all %d connections: "
					  "large files are read over %d",
			 o.max_conns, c.nsec + 1);
	/* The handlers never wait for the network, so one FUSE thread
	 * keeps any number of operations in flight. */
	rc = fuse_session_loop(se) ? 1 : 0;
	conn_stop(&c);
	pf_free(&c);
	da_queue_free(&c);
	dc_free(c.dc);
	itable_free(&it);
out_unmount:
	fuse_session_unmount(se);
out_signals:
	fuse_remove_signal_handlers(se);
out_session:
	fuse_session_destroy(se);
out_opts:
	fuse_opt_free_args(&args);
	opts_free(&o);
	keypass_wipe();
	return rc;
#undef EXIT
}
