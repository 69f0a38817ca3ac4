/*
 * sshconf.c - the ssh_config(5) subset a mount needs, so a host that
 * works with `ssh alias` mounts as `sftpmnt alias:dir` with no other set
 * up: Host blocks with patterns (*, ?, !negation, lists), Match blocks,
 * Include, HostName, Port, User, IdentityFile, CertificateFile,
 * IdentitiesOnly, IdentityAgent, UserKnownHostsFile,
 * StrictHostKeyChecking, ServerAliveInterval, ServerAliveCountMax,
 * ConnectTimeout, AddressFamily, Ciphers, KexAlgorithms, MACs,
 * HostKeyAlgorithms, Compression, RekeyLimit, ProxyJump.
 *
 * As in ssh, the first value obtained for a keyword wins, and the
 * command line (-o) comes before any file.  A Host or Match line ends
 * the block before it.  Host tests the name as given (the pass's host);
 * Match host tests the name after a HostName already obtained, Match user
 * the remote user obtained so far (ssh's readconf.c does the same), so
 * the order of the lines matters as it does for ssh.  Unknown keywords
 * are ignored, as ssh does for many of them; an unknown Match criterion
 * or a malformed Match line is an error, as in ssh.
 */
#define _GNU_SOURCE
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <glob.h>
#include <limits.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sftpmnt.h"
#include "sshconf.h"

/* A config line longer than this is not a config line. */
#define SSHCONF_LINE_MAX 4096
/* Include nesting, as ssh's own limit: a file that includes itself is
 * refused at this depth. */
#define SSHCONF_DEPTH_MAX 16
/* Files one pass may open: Include lines whose globs fan out at every
 * level would otherwise open exponentially many (ssh has no such cap). */
#define SSHCONF_FILES_MAX 256
/* A "Match exec" command after its %-tokens are expanded. */
#define SSHCONF_EXEC_MAX 8192

/* ssh_config(5) PATTERNS: '*' any run of characters, '?' one character,
 * everything else itself (no brackets, no escapes, unlike fnmatch).
 * Backtracks only to the last '*', so it is linear in len(s) per star and
 * a hostile pattern cannot make it exponential.  fold: ignore ASCII case
 * (host names). */
static int wild_match(const char *pat, const char *s, int fold)
{
	const char *star = NULL, *resume = NULL;

	while (*s) {
		if (*pat == '*') {
			star = ++pat;
			resume = s;
		} else if (*pat && (*pat == '?' ||
				    (fold ? tolower((unsigned char)*pat) ==
						     tolower((unsigned char)*s)
					  : *pat == *s))) {
			pat++;
			s++;
		} else if (star) {
			pat = star;
			s = ++resume;
		} else {
			return 0;
		}
	}
	while (*pat == '*')
		pat++;
	return !*pat;
}

/* "Host a b !c*": a match when some pattern matches and no negated one
 * does (ssh_config(5) PATTERNS). */
static int host_matches(char *list, const char *host)
{
	char *save, *p;
	int match = 0;

	for (p = strtok_r(list, " \t", &save); p; p = strtok_r(NULL, " \t", &save)) {
		int neg = p[0] == '!';

		if (wild_match(neg ? p + 1 : p, host, 1)) {
			if (neg)
				return 0;
			match = 1;
		}
	}
	return match;
}

/* A pattern-list "a*,!b,c" as Match criteria take it: 1 when some
 * pattern matches and no negated one does, else 0 (a negated pattern
 * alone never makes a match). */
static int list_match(const char *list, const char *s, int fold)
{
	char pat[SSHCONF_LINE_MAX];
	const char *p, *e;
	int match = 0;

	for (p = list;; p = e + 1) {
		size_t n;
		int neg;

		e = strchrnul(p, ',');
		n = (size_t)(e - p);
		if (n >= sizeof(pat))
			return 0; /* (not possible: a line is shorter) */
		memcpy(pat, p, n);
		pat[n] = '\0';
		neg = pat[0] == '!';
		if (wild_match(neg ? pat + 1 : pat, s, fold)) {
			if (neg)
				return 0;
			match = 1;
		}
		if (!*e)
			break;
	}
	return match;
}

/* HostName's tokens (ssh_config(5) TOKENS): %h, the host as given, and
 * %%. */
static char *expand_hostname(const char *v, const char *host)
{
	char out[1024];
	size_t o = 0;

	for (; *v && o + 1 < sizeof(out); v++) {
		if (v[0] == '%' && (v[1] == 'h' || v[1] == '%')) {
			const char *add = v[1] == 'h' ? host : "%";

			o += (size_t)snprintf(out + o, sizeof(out) - o, "%s",
					      add);
			if (o >= sizeof(out))
				return NULL;
			v++;
		} else {
			out[o++] = *v;
		}
	}
	out[o] = '\0';
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

/* sshd_config(5) TIME FORMATS: [number[smhdw]]..., a bare number is
 * seconds.  -1 if not one. */
static long time_spec(const char *v)
{
	long total = 0;

	if (!*v)
		return -1;
	while (*v) {
		char *end;
		long n = strtol(v, &end, 10), unit = 1;

		if (end == v || n < 0)
			return -1;
		switch (*end) {
		case '\0':
			break;
		case 's': case 'S':
			end++;
			break;
		case 'm': case 'M':
			unit = 60, end++;
			break;
		case 'h': case 'H':
			unit = 3600, end++;
			break;
		case 'd': case 'D':
			unit = 86400, end++;
			break;
		case 'w': case 'W':
			unit = 604800, end++;
			break;
		default:
			return -1;
		}
		if (n > (LONG_MAX - total) / unit)
			return -1;
		total += n * unit;
		v = end;
	}
	return total;
}

int sshconf_rekey_limit(const char *v, uint64_t *bytes, long *secs)
{
	char size[64], when[64];
	int words = sscanf(v, "%63s %63s", size, when);

	if (words < 1)
		return -1;
	*bytes = 0;
	*secs = 0; /* (ssh: no rekeying by time unless given) */
	if (strcasecmp(size, "default")) {
		char *end;
		unsigned long long n = strtoull(size, &end, 10);
		int shift = 0;

		if (end == size || size[0] == '-')
			return -1;
		if (*end == 'K' || *end == 'k')
			shift = 10, end++;
		else if (*end == 'M' || *end == 'm')
			shift = 20, end++;
		else if (*end == 'G' || *end == 'g')
			shift = 30, end++;
		if (*end || n > (UINT64_MAX >> shift) || (n << shift) < 16384)
			return -1;
		*bytes = (uint64_t)n << shift;
	}
	if (words == 2 && strcasecmp(when, "none") &&
	    (*secs = time_spec(when)) < 0)
		return -1;
	return 0;
}

static int apply(struct opts *o, const char *kw, char *v, const char *host)
{
	int n;

#define KW(name) (!strcasecmp(kw, name))
	if (KW("HostName")) {
		if (!o->hostname)
			o->hostname = expand_hostname(v, host);
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
			char *p = strdup(v); /* (expanded once all is read) */

			if (p)
				o->identity[o->nidentity++] = p;
		}
	} else if (KW("CertificateFile")) {
		if (!o->certificate)
			o->certificate = strdup(v);
	} else if (KW("IdentitiesOnly")) {
		if (o->identities_only < 0)
			o->identities_only = yesno(v);
	} else if (KW("IdentityAgent")) {
		if (!o->identity_agent)
			o->identity_agent = !strcasecmp(v, "none")
						    ? strdup("none")
						    : strdup(v);
	} else if (KW("UserKnownHostsFile")) {
		/* the first of a list of files */
		char *sp = strpbrk(v, " \t");

		if (sp)
			*sp = '\0';
		if (!o->known_hosts)
			o->known_hosts = strdup(v);
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
	} else if (KW("RekeyLimit")) {
		uint64_t b;
		long t;

		if (!o->rekey_set && !sshconf_rekey_limit(v, &b, &t)) {
			o->rekey_set = 1;
			o->rekey_bytes = b;
			o->rekey_secs = t;
		}
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

/* Split "Keyword value", "Keyword=value", "Keyword = value".  0 with kw
 * and val set (val keeps its quotes), 1 for a blank line. */
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
	*val = p;
	return 0;
}

/* One level of double quotes around a whole value goes. */
static char *unquote(char *v)
{
	size_t n = strlen(v);

	if (n >= 2 && v[0] == '"' && v[n - 1] == '"') {
		v[n - 1] = '\0';
		v++;
	}
	return v;
}

/* The next word of *cur, in place: words are separated by blanks; a
 * double-quoted word may hold blanks, and \" or \\ inside it stand for
 * the character.  1 with *word set, 0 at the end, -1 for a quote left
 * open. */
static int next_word(char **cur, char **word)
{
	char *r = *cur, *w;
	int quoted = 0;

	while (isspace((unsigned char)*r))
		r++;
	if (!*r)
		return 0;
	*word = w = r;
	for (; *r; r++) {
		if (quoted && r[0] == '\\' && (r[1] == '"' || r[1] == '\\')) {
			*w++ = *++r;
		} else if (*r == '"') {
			quoted = !quoted;
		} else if (!quoted && isspace((unsigned char)*r)) {
			r++;
			break;
		} else {
			*w++ = *r;
		}
	}
	if (quoted)
		return -1;
	/* w <= r - 1 when a blank ended the word, else w <= r: in bounds */
	*w = '\0';
	*cur = r;
	return 1;
}

/* Where a bad line is reported: "sftpmnt: FILE line N: ..." */
struct where {
	const char *file;
	int line;
};

static void __attribute__((format(printf, 2, 3)))
bad(const struct where *at, const char *fmt, ...)
{
	va_list ap;

	if (at)
		fprintf(stderr, "sftpmnt: %s line %d: ", at->file, at->line);
	else
		fprintf(stderr, "sftpmnt: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

/* What Match criteria and exec's tokens see, as resolved so far. */
struct match_env {
	const char *host;  /* HostName if one was set, else the pass's host */
	const char *orig;  /* the host as given */
	const char *ruser; /* User if set (command line, config), else luser */
	const char *luser; /* the local user */
	const char *home;
	int port;
};

static void match_env(struct match_env *m, const struct opts *o,
		      const struct sshconf_pass *p)
{
	struct passwd *pw = getpwuid(getuid());

	m->host = o->hostname ? o->hostname : p->host;
	m->orig = p->orig;
	m->luser = pw ? pw->pw_name : "";
	m->ruser = o->user ? o->user : m->luser;
	m->home = getenv("HOME");
	if (!m->home)
		m->home = pw ? pw->pw_dir : "/";
	m->port = o->port > 0 ? o->port : 22;
}

/* in with the tokens ssh_config(5) TOKENS lists for "Match exec" and
 * for the file names (IdentityFile, CertificateFile, IdentityAgent,
 * UserKnownHostsFile) expanded: %% %d %h %i %k %L %l %n %p %r %u.  (%C,
 * a hash of %l%h%p%r, is not offered; %k is %n, as there is no
 * HostKeyAlias.)  NULL after a message naming what (and at, the line)
 * for an unknown token or a result too long. */
static char *expand_tokens(const char *in, const struct match_env *m,
			   const char *what, const struct where *at)
{
	char out[SSHCONF_EXEC_MAX], num[32], lhost[256], shost[256];
	size_t o = 0;

	if (gethostname(lhost, sizeof(lhost)) != 0)
		lhost[0] = '\0';
	lhost[sizeof(lhost) - 1] = '\0';
	snprintf(shost, sizeof(shost), "%.*s", (int)strcspn(lhost, "."), lhost);
	for (; *in; in++) {
		const char *add = num;
		size_t n;

		if (*in != '%') {
			num[0] = *in;
			num[1] = '\0';
		} else {
			switch (*++in) {
			case '%':
				add = "%";
				break;
			case 'd':
				add = m->home;
				break;
			case 'h':
				add = m->host;
				break;
			case 'i':
				snprintf(num, sizeof(num), "%u",
					 (unsigned)getuid());
				break;
			case 'k': /* FALLTHROUGH */
			case 'n':
				add = m->orig;
				break;
			case 'l':
				add = lhost;
				break;
			case 'L':
				add = shost;
				break;
			case 'p':
				snprintf(num, sizeof(num), "%d", m->port);
				break;
			case 'r':
				add = m->ruser;
				break;
			case 'u':
				add = m->luser;
				break;
			case '\0':
				bad(at, "%s: a lone %% at the end", what);
				return NULL;
			default:
				bad(at, "%s: unknown token %%%c%s", what, *in,
				    *in == 'C' ? " (not supported by sftpmnt)"
					       : "");
				return NULL;
			}
		}
		n = strlen(add);
		if (n >= sizeof(out) - o) {
			bad(at, "%s: longer than %d bytes once expanded", what,
			    SSHCONF_EXEC_MAX);
			return NULL;
		}
		memcpy(out + o, add, n);
		o += n;
	}
	out[o] = '\0';
	return strdup(out);
}

/* /bin/sh -c cmd with stdin and stdout on /dev/null (stderr is left to
 * the user, as ssh does): its exit status, or -1 when it could not run. */
static int exec_sh(const char *cmd)
{
	pid_t pid;
	int st;

	fflush(NULL);
	pid = fork();
	if (pid < 0)
		return -1;
	if (pid == 0) {
		int null = open("/dev/null", O_RDWR);

		if (null >= 0) {
			dup2(null, 0);
			dup2(null, 1);
		}
		execl("/bin/sh", "sh", "-c", cmd, (char *)NULL);
		_exit(127);
	}
	while (waitpid(pid, &st, 0) < 0)
		if (errno != EINTR)
			return -1;
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static int (*exec_run)(const char *cmd) = exec_sh;

void sshconf_set_exec(int (*run)(const char *cmd))
{
	exec_run = run ? run : exec_sh;
}

/* The criteria of a Match line (ssh_config(5) Match), all of which must
 * hold: all; canonical, final (true in the final pass only: sftpmnt does
 * no canonicalisation, so canonical is what final is, as with ssh's
 * CanonicalizeHostname no); host, originalhost, user, localuser with a
 * pattern-list; exec with a command.  '!' negates a criterion.  After a
 * criterion fails the rest are still parsed (errors are errors) but an
 * exec is not run.  never: an inactive Include: parse only.  1 the block
 * applies, 0 not, -1 after a message. */
static int match_line(const struct opts *o, struct sshconf_pass *p, char *v,
		      const struct where *at, int never)
{
	struct match_env m;
	char *cur = v, *w, *arg;
	int result = !never, ncrit = 0, plain = 0, r;

	match_env(&m, o, p);
	while ((r = next_word(&cur, &w)) == 1) {
		int neg = w[0] == '!', hold;
		const char *crit = w + neg;

		ncrit++;
		if (!strcasecmp(crit, "all")) {
			/* alone, or after canonical/final only */
			if (plain || next_word(&cur, &arg) != 0) {
				bad(at, "Match all cannot be combined with "
					"criteria other than canonical/final");
				return -1;
			}
			hold = 1;
		} else if (!strcasecmp(crit, "canonical") ||
			   !strcasecmp(crit, "final")) {
			if (!strcasecmp(crit, "final") && !never)
				p->want_final = 1;
			hold = p->final;
		} else {
			static const char *const known[] = {
				"host",	     "originalhost", "user",
				"localuser", "exec",	     NULL};
			const char *const *k;

			for (k = known; *k && strcasecmp(crit, *k); k++)
				;
			if (!*k) {
				bad(at, "Match: unknown criterion '%s'", crit);
				return -1;
			}
			plain = 1;
			r = next_word(&cur, &arg);
			if (r != 1) {
				bad(at,
				    r < 0 ? "Match: a quote left open"
					  : "Match %s: an argument is "
					    "missing",
				    crit);
				return -1;
			}
			if (!strcasecmp(crit, "host"))
				hold = list_match(arg, m.host, 1);
			else if (!strcasecmp(crit, "originalhost"))
				hold = list_match(arg, m.orig, 1);
			else if (!strcasecmp(crit, "user"))
				hold = list_match(arg, m.ruser, 0);
			else if (!strcasecmp(crit, "localuser"))
				hold = list_match(arg, m.luser, 0);
			else { /* exec, the last of known[] */
				char *cmd = expand_tokens(arg, &m, "Match exec",
							  at);

				if (!cmd)
					return -1;
				/* a failed criterion before it: not run */
				hold = result ? exec_run(cmd) == 0 : 0;
				free(cmd);
			}
		}
		if (hold == neg)
			result = 0;
	}
	if (r < 0) {
		bad(at, "Match: a quote left open");
		return -1;
	}
	if (!ncrit) {
		bad(at, "Match: no criteria");
		return -1;
	}
	return result;
}

static int read_file(struct opts *o, struct sshconf_pass *p, const char *file,
		     int depth, int never);

static FILE *fopen_r(const char *path)
{
	return fopen(path, "r");
}

static FILE *(*file_open)(const char *path) = fopen_r;

void sshconf_set_open(FILE *(*open_fn)(const char *path))
{
	file_open = open_fn ? open_fn : fopen_r;
}

static int include_one(struct opts *o, struct sshconf_pass *p, const char *path,
		       const struct where *at, int depth, int never)
{
	int rc = read_file(o, p, path, depth + 1, never);

	if (rc == -1) {
		bad(at, "Include %s: %s", path, strerror(errno));
		rc = -2;
	}
	return rc;
}

/* Include: each word a file or glob(7) pattern, ~/ for home, relative to
 * ~/.ssh (or /etc/ssh in a system-wide file); matches read in lexical
 * order, none is no error.  never: the Include is in a block that does
 * not apply: its files are parsed but apply nothing (as ssh). */
static int include(struct opts *o, struct sshconf_pass *p, char *v,
		   const struct where *at, int depth, int never)
{
	struct match_env m;
	char *cur = v, *w, pat[4096];
	int r, n, rc = 0;
	size_t i;

	if (depth + 1 >= SSHCONF_DEPTH_MAX) {
		bad(at,
		    "Include nested more than %d deep (a file that "
		    "includes itself?)",
		    SSHCONF_DEPTH_MAX);
		return -2;
	}
	match_env(&m, o, p);
	while (rc == 0 && (r = next_word(&cur, &w)) == 1) {
		glob_t g;

		if (w[0] == '~' && w[1] == '/')
			n = snprintf(pat, sizeof(pat), "%s%s", m.home, w + 1);
		else if (w[0] == '/')
			n = snprintf(pat, sizeof(pat), "%s", w);
		else if (p->system)
			n = snprintf(pat, sizeof(pat), "/etc/ssh/%s", w);
		else
			n = snprintf(pat, sizeof(pat), "%s/.ssh/%s", m.home, w);
		if (n < 0 || (size_t)n >= sizeof(pat)) {
			bad(at, "Include: a path too long");
			return -2;
		}
		if (file_open != fopen_r) {
			/* (tests, fuzzer: no real file system to glob) */
			rc = include_one(o, p, pat, at, depth, never);
			continue;
		}
		r = glob(pat, 0, NULL, &g);
		if (r == GLOB_NOMATCH)
			continue;
		if (r != 0) {
			bad(at, "Include %s: cannot expand", w);
			return -2;
		}
		for (i = 0; rc == 0 && i < g.gl_pathc; i++)
			rc = include_one(o, p, g.gl_pathv[i], at, depth, never);
		globfree(&g);
	}
	if (rc == 0 && r < 0) {
		bad(at, "Include: a quote left open");
		rc = -2;
	}
	return rc;
}

/* One file of a pass.  never: nothing in it applies (an Include in an
 * inactive block).  The Host/Match state starts active and is the file's
 * own: the includer's block is unchanged by what an included file says. */
static int read_file(struct opts *o, struct sshconf_pass *p, const char *file,
		     int depth, int never)
{
	struct where at = {file, 0};
	char line[SSHCONF_LINE_MAX + 2];
	int active = !never, rc = 0;
	FILE *f;

	if (p->nfiles >= SSHCONF_FILES_MAX) {
		fprintf(stderr,
			"sftpmnt: %s: more than %d ssh_config files "
			"in one reading (Include loop?)\n",
			file, SSHCONF_FILES_MAX);
		return -2;
	}
	f = file_open(file);
	if (!f)
		return errno == ENOENT ? 0 : -1;
	p->nfiles++;
	while (rc == 0 && fgets(line, sizeof(line), f)) {
		size_t n = strlen(line);
		char *kw, *val;
		int m, c;

		at.line++;
		if (n == sizeof(line) - 1 && line[n - 1] != '\n') {
			/* not a config line: skipped, and the rest of it */
			while ((c = getc(f)) != EOF && c != '\n')
				;
			continue;
		}
		if (split(line, &kw, &val))
			continue;
		if (!strcasecmp(kw, "Host")) {
			active = !never && host_matches(unquote(val), p->host);
		} else if (!strcasecmp(kw, "Match")) {
			if ((m = match_line(o, p, val, &at, never)) < 0)
				rc = -2;
			active = m > 0;
		} else if (!strcasecmp(kw, "Include")) {
			rc = include(o, p, val, &at, depth, !active);
		} else if (active && apply(o, kw, unquote(val), p->host)) {
			bad(&at, "%s: out of memory", kw);
			rc = -2;
		}
	}
	fclose(f);
	return rc;
}

int sshconf_read(struct opts *o, const char *file, struct sshconf_pass *p)
{
	return read_file(o, p, file, 0, 0);
}

/* One file name: a leading ~/ is the home directory, then the tokens. */
static int expand_one(char **v, const struct match_env *m, const char *what)
{
	char *t, *r;

	if (!*v || !strcmp(*v, "none"))
		return 0;
	if ((*v)[0] == '~' && (*v)[1] == '/') {
		if (asprintf(&t, "%s%s", m->home, *v + 1) < 0)
			return -1;
	} else if (!(t = strdup(*v))) {
		return -1;
	}
	r = expand_tokens(t, m, what, NULL);
	free(t);
	if (!r)
		return -1;
	free(*v);
	*v = r;
	return 0;
}

int sshconf_expand_paths(struct opts *o, const char *orig)
{
	struct sshconf_pass p = { .orig = orig, .host = o->host };
	struct match_env m;
	int i;

	match_env(&m, o, &p);
	for (i = 0; i < o->nidentity; i++)
		if (expand_one(&o->identity[i], &m, "IdentityFile"))
			return -1;
	return expand_one(&o->certificate, &m, "CertificateFile") ||
			       expand_one(&o->identity_agent, &m,
					  "IdentityAgent") ||
			       expand_one(&o->known_hosts, &m,
					  "UserKnownHostsFile")
		       ? -1
		       : 0;
}
