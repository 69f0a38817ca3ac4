/*
 * check_sshconf.c - unit tests of the daemon's ssh_config reader
 * (fs/sshconf.c): Host and Match blocks, every Match criterion (all,
 * canonical, final, host, originalhost, user, localuser, exec), negation,
 * criteria ANDed, pattern-lists, where blocks end, exec's %-tokens, the
 * final pass, Include (also inside Match) and the errors that make the
 * file refused, with the file and line named.
 *
 * Each test writes its config into a fresh directory that is also $HOME
 * (so a relative Include is in $HOME/.ssh) and reads it as main.c does:
 * a first pass and, when a Match final asked for one, a final pass.
 * "Match exec" runs the real /bin/sh except where a test records the
 * commands instead.
 */
#define _GNU_SOURCE
#include <check.h>
#include <fcntl.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../../fs/sftpmnt.h"

static char dir[] = "/tmp/check_sshconf.XXXXXX";
static char path[256], errpath[256];
static char errbuf[4096]; /* what the last read_conf said on stderr */
static int want_final;	  /* whether the last read_conf took two passes */

static void setup(void)
{
	char ssh[300];

	/* (also without fork: CK_FORK=no, as under valgrind) */
	strcpy(dir, "/tmp/check_sshconf.XXXXXX");
	sshconf_set_exec(NULL);
	ck_assert_ptr_nonnull(mkdtemp(dir));
	setenv("HOME", dir, 1);
	snprintf(ssh, sizeof(ssh), "%s/.ssh", dir);
	ck_assert_int_eq(mkdir(ssh, 0700), 0);
	snprintf(path, sizeof(path), "%s/config", dir);
	snprintf(errpath, sizeof(errpath), "%s/stderr", dir);
}

static void teardown(void)
{
	char cmd[300];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	if (system(cmd) != 0)
		fprintf(stderr, "cannot remove %s\n", dir);
}

static void fresh(struct opts *o)
{
	memset(o, 0, sizeof(*o));
	o->port = 22;
	o->identities_only = o->strict_hostkey = o->connect_timeout = -1;
	o->alive_interval = o->alive_count = o->compression = -1;
	o->address_family = -1;
}

static void put_file(const char *name, const char *text)
{
	char p[300];
	FILE *f;

	snprintf(p, sizeof(p), "%s/%s", dir, name);
	f = fopen(p, "w");
	ck_assert_ptr_nonnull(f);
	fputs(text, f);
	ck_assert_int_eq(fclose(f), 0);
}

/* text as $HOME/config for host, as main.c reads it; the rc of the pass
 * that failed, else 0.  stderr goes to errbuf. */
static int read_conf(struct opts *o, const char *text, const char *host)
{
	struct sshconf_pass p = {.orig = host, .host = host};
	int save, fd, rc;
	ssize_t n;

	put_file("config", text);
	fflush(stderr);
	save = dup(2);
	fd = open(errpath, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	ck_assert_int_ge(fd, 0);
	dup2(fd, 2);
	close(fd);
	rc = sshconf_read(o, path, &p);
	want_final = p.want_final;
	if (rc == 0 && p.want_final) {
		p.final = 1;
		p.nfiles = 0;
		if (o->hostname)
			p.host = o->hostname;
		rc = sshconf_read(o, path, &p);
	}
	fflush(stderr);
	dup2(save, 2);
	close(save);
	fd = open(errpath, O_RDONLY);
	n = read(fd, errbuf, sizeof(errbuf) - 1);
	close(fd);
	errbuf[n > 0 ? n : 0] = '\0';
	return rc;
}

static const char *luser(void)
{
	struct passwd *pw = getpwuid(getuid());

	ck_assert_ptr_nonnull(pw);
	return pw->pw_name;
}

static int exists(const char *name)
{
	char p[300];

	snprintf(p, sizeof(p), "%s/%s", dir, name);
	return access(p, F_OK) == 0;
}

START_TEST(match_all_and_block_ends)
{
	struct opts o;

	fresh(&o);
	ck_assert_int_eq(read_conf(&o,
				   "Match all\n  Port 2201\n"
				   "Host nomatch\n  User no\n"
				   "Match all\n  Compression yes\n",
				   "h"),
			 0);
	ck_assert_int_eq(o.port, 2201);
	ck_assert_ptr_null(o.user);	    /* Host ended the Match block */
	ck_assert_int_eq(o.compression, 1); /* a Match after Host starts one */
	fresh(&o);
	/* Match ends a Host block, Host ends a Match block */
	ck_assert_int_eq(read_conf(&o,
				   "Host h\n  Port 2202\n"
				   "Match host nomatch\n  User no\n"
				   "  Port 1\n"
				   "Host *\n  ConnectTimeout 7\n",
				   "h"),
			 0);
	ck_assert_int_eq(o.port, 2202);
	ck_assert_ptr_null(o.user);
	ck_assert_int_eq(o.connect_timeout, 7);
	ck_assert_int_eq(want_final, 0);
}
END_TEST

START_TEST(host_tests_hostname_originalhost_the_name_given)
{
	struct opts o;

	fresh(&o);
	ck_assert_int_eq(
		read_conf(&o,
			  "Match host real.example.org\n  User early\n"
			  "Host alias\n  HostName real.example.org\n"
			  "Match host real.example.org\n  User bob\n"
			  "Match originalhost alias\n  Port 2203\n"
			  "Match host alias\n  IdentityFile /k/no\n"
			  "Host real.example.org\n  ConnectTimeout 9\n",
			  "alias"),
		0);
	/* the first Match host came before HostName: it tested "alias" */
	ck_assert_str_eq(o.hostname, "real.example.org");
	ck_assert_str_eq(o.user, "bob");
	ck_assert_int_eq(o.port, 2203);
	ck_assert_int_eq(o.nidentity, 0);
	/* Host tests the name given, not HostName's */
	ck_assert_int_eq(o.connect_timeout, -1);
	free(o.hostname);
	free(o.user);
}
END_TEST

START_TEST(user_is_the_user_resolved_so_far)
{
	struct opts o;
	char text[512];

	/* no User anywhere: the local user */
	fresh(&o);
	snprintf(text, sizeof(text), "Match user %s\n  Port 2204\n", luser());
	ck_assert_int_eq(read_conf(&o, text, "h"), 0);
	ck_assert_int_eq(o.port, 2204);
	/* from the command line (user@host) */
	fresh(&o);
	o.user = strdup("carol");
	o.user_set = 1;
	ck_assert_int_eq(read_conf(&o,
				   "Match user carol\n  Port 2205\n"
				   "Match user dave\n  ConnectTimeout 3\n",
				   "h"),
			 0);
	ck_assert_int_eq(o.port, 2205);
	ck_assert_int_eq(o.connect_timeout, -1);
	free(o.user);
	/* from an earlier line of the file; a Match before it saw the
	 * local user */
	fresh(&o);
	ck_assert_int_eq(read_conf(&o,
				   "Match user dave\n  ConnectTimeout 3\n"
				   "Host h\n  User dave\n"
				   "Match user dave\n  Port 2206\n",
				   "h"),
			 0);
	ck_assert_int_eq(o.port, 2206);
	ck_assert_int_eq(o.connect_timeout, -1);
	free(o.user);
	/* user patterns are case-sensitive, host patterns are not */
	fresh(&o);
	o.user = strdup("bob");
	ck_assert_int_eq(read_conf(&o,
				   "Match user B*\n  Port 1\n"
				   "Match originalhost A?C\n  Port 2207\n",
				   "abc"),
			 0);
	ck_assert_int_eq(o.port, 2207);
	free(o.user);
}
END_TEST

START_TEST(localuser)
{
	struct opts o;
	char text[512];

	fresh(&o);
	o.user = strdup("remote-someone");
	snprintf(text, sizeof(text),
		 "Match localuser remote-someone\n  Port 1\n"
		 "Match localuser no-such-user,%s\n  Port 2208\n",
		 luser());
	ck_assert_int_eq(read_conf(&o, text, "h"), 0);
	ck_assert_int_eq(o.port, 2208);
	free(o.user);
	fresh(&o);
	snprintf(text, sizeof(text),
		 "Match localuser !%s,*\n  Port 1\n"
		 "Match localuser !nobody-here,*\n"
		 "  Port 2209\n",
		 luser());
	ck_assert_int_eq(read_conf(&o, text, "h"), 0);
	ck_assert_int_eq(o.port, 2209);
}
END_TEST

START_TEST(exec_runs_a_shell)
{
	struct opts o;
	char text[1024];

	fresh(&o);
	snprintf(text, sizeof(text),
		 "Match exec false\n  Port 1\n"
		 "Match exec \"exit 3\"\n  Port 2\n"
		 "Match exec \"test %%h = alias && touch %s/ran\"\n"
		 "  Port 2210\n"
		 "Match host nomatch exec \"touch %s/not-run\"\n"
		 "  User no\n"
		 "Match exec true\n  ConnectTimeout 4\n"
		 "Match exec \"echo on stdout; read x; true\"\n"
		 "  ServerAliveInterval 5\n",
		 dir, dir);
	ck_assert_int_eq(read_conf(&o, text, "alias"), 0);
	ck_assert_int_eq(o.port, 2210);
	ck_assert(exists("ran"));
	/* after a criterion that failed, exec is not run */
	ck_assert(!exists("not-run"));
	ck_assert_ptr_null(o.user);
	ck_assert_int_eq(o.connect_timeout, 4);
	/* stdin is /dev/null (read ends), stdout goes nowhere */
	ck_assert_int_eq(o.alive_interval, 5);
}
END_TEST

#define RAN_MAX 8
static char ran[RAN_MAX][512];
static int nran;

static int record(const char *cmd)
{
	if (nran < RAN_MAX)
		snprintf(ran[nran++], sizeof(ran[0]), "%s", cmd);
	return 0;
}

START_TEST(exec_tokens)
{
	struct opts o;
	char want[1024], lhost[256], shorth[256];

	nran = 0;
	sshconf_set_exec(record);
	fresh(&o);
	o.user = strdup("rem");
	ck_assert_int_eq(
		read_conf(&o,
			  "Port 2211\nHost alias\n"
			  "  HostName real.example\n"
			  "Match exec \"%%|%d|%h|%i|%k|%L|%l|%n|%p|%r|%u\"\n"
			  "  ConnectTimeout 2\n",
			  "alias"),
		0);
	ck_assert_int_eq(nran, 1);
	ck_assert_int_eq(gethostname(lhost, sizeof(lhost)), 0);
	snprintf(shorth, sizeof(shorth), "%.*s", (int)strcspn(lhost, "."),
		 lhost);
	snprintf(want, sizeof(want),
		 "%%|%s|real.example|%u|alias|%s|%s|alias|2211|rem|%s", dir,
		 (unsigned)getuid(), shorth, lhost, luser());
	ck_assert_str_eq(ran[0], want);
	ck_assert_int_eq(o.connect_timeout, 2);
	free(o.user);
	free(o.hostname);
	/* tokens ssh has no value for here are errors, naming the line */
	fresh(&o);
	ck_assert_int_eq(read_conf(&o, "\nMatch exec \"x %C\"\n", "h"), -2);
	ck_assert_ptr_nonnull(strstr(errbuf, "config line 2: Match exec: "
					     "unknown token %C"));
	ck_assert_int_eq(read_conf(&o, "Match exec \"x %z\"\n", "h"), -2);
	ck_assert_int_eq(read_conf(&o, "Match exec \"x %\"\n", "h"), -2);
	ck_assert_int_eq(nran, 1);
}
END_TEST

START_TEST(negation_and_and)
{
	struct opts o;

	fresh(&o);
	o.user = strdup("bob");
	ck_assert_int_eq(read_conf(&o,
				   "Match !host abc\n  Port 1\n"
				   "Match !all\n  Port 2\n"
				   "Match host a* user alice\n  Port 3\n"
				   "Match host a* !user bob\n  Port 4\n"
				   "Match !exec false host a?c user b*\n"
				   "  Port 2212\n"
				   "Match !host x !originalhost y\n"
				   "  ConnectTimeout 6\n",
				   "abc"),
			 0);
	ck_assert_int_eq(o.port, 2212);
	ck_assert_int_eq(o.connect_timeout, 6);
	free(o.user);
}
END_TEST

START_TEST(pattern_lists)
{
	static const struct {
		const char *list, *host;
		int match;
	} c[] = {
		{"*.example", "x.example", 1},
		{"!*.bad.example,*.example", "x.example", 1},
		{"!*.bad.example,*.example", "y.bad.example", 0},
		{"*.example,!*.bad.example", "y.bad.example", 0},
		{"!x", "y", 0}, /* a negation alone never matches */
		{"a,b,c", "b", 1},
		{"a,b,c", "d", 0},
		{"h??t", "host", 1},
		{"h??t", "hoost", 0},
		{"*a*b*c", "xxaxxbxxcxxc", 1},
		{"*a*b*c", "xxaxxbxxcxxd", 0},
		{"[ab]", "a", 0}, /* no brackets in ssh's patterns */
		{"[ab]", "[ab]", 1},
		{"", "", 1},
		{"*", "", 1},
		{"a,,b", "", 1},
	};
	char text[256];
	size_t i;

	for (i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
		struct opts o;

		fresh(&o);
		snprintf(text, sizeof(text),
			 "Match originalhost \"%s\"\n"
			 "  Port 2213\n",
			 c[i].list);
		ck_assert_int_eq(read_conf(&o, text, c[i].host), 0);
		ck_assert_msg(o.port == (c[i].match ? 2213 : 22),
			      "'%s' against '%s': port %d", c[i].list,
			      c[i].host, o.port);
	}
}
END_TEST

/* A hostile pattern takes no exponential time (the check's timeout
 * is the assertion). */
START_TEST(pattern_not_exponential)
{
	char text[8192], host[4001];
	struct opts o;

	memset(host, 'a', sizeof(host) - 1);
	host[sizeof(host) - 1] = '\0';
	snprintf(text, sizeof(text),
		 "Host *a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*b\n  Port 1\n"
		 "Match originalhost *a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*b\n"
		 "  Port 2\n");
	fresh(&o);
	ck_assert_int_eq(read_conf(&o, text, host), 0);
	ck_assert_int_eq(o.port, 22);
}
END_TEST

START_TEST(final_and_canonical)
{
	struct opts o;

	fresh(&o);
	ck_assert_int_eq(
		read_conf(&o,
			  "Match canonical\n  User c\n"
			  "Match final\n  Port 2214\n"
			  "Host real.example\n  IdentityFile /k/final\n"
			  "Match !final\n  ConnectTimeout 8\n"
			  "Host alias\n  HostName real.example\n",
			  "alias"),
		0);
	ck_assert_int_eq(want_final, 1);
	ck_assert_int_eq(o.port, 2214);
	ck_assert_str_eq(o.user, "c");
	/* in the final pass Host tests the name the first one resolved */
	ck_assert_int_eq(o.nidentity, 1);
	ck_assert_str_eq(o.identity[0], "/k/final");
	ck_assert_int_eq(o.connect_timeout, 8); /* first pass only */
	free(o.user);
	free(o.hostname);
	free(o.identity[0]);
	/* canonical alone asks for no final pass: it never holds */
	fresh(&o);
	ck_assert_int_eq(read_conf(&o,
				   "Match canonical\n  Port 1\n"
				   "Match canonical all\n  Port 2\n",
				   "h"),
			 0);
	ck_assert_int_eq(want_final, 0);
	ck_assert_int_eq(o.port, 22);
	fresh(&o);
	ck_assert_int_eq(read_conf(&o, "Match final all\n  Port 2215\n", "h"),
			 0);
	ck_assert_int_eq(o.port, 2215);
}
END_TEST

START_TEST(bad_match_lines)
{
	static const struct {
		const char *text, *msg;
	} c[] = {
		{"Match foo bar\n",
		 "config line 1: Match: unknown criterion 'foo'"},
		{"Host x\n\n  Port 2\nMatch !tagged t\n",
		 "config line 4: Match: unknown criterion 'tagged'"},
		{"Match host\n", "Match host: an argument is missing"},
		{"Match user a exec\n", "Match exec: an argument is missing"},
		{"Match\n", "Match: no criteria"},
		{"Match all host x\n", "Match all cannot be combined"},
		{"Match host x all\n", "Match all cannot be combined"},
		{"Match exec \"true\n", "a quote left open"},
		/* a bad line in a block that does not apply is still bad */
		{"Host nomatch\n  Include inc-bad.conf\n",
		 "inc-bad.conf line 1: Match: unknown criterion 'bogus'"},
	};
	struct opts o;
	size_t i;

	put_file(".ssh/inc-bad.conf", "Match bogus\n");
	for (i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
		fresh(&o);
		ck_assert_int_eq(read_conf(&o, c[i].text, "h"), -2);
		ck_assert_msg(strstr(errbuf, c[i].msg) != NULL,
			      "'%s': said '%s', want '%s'", c[i].text, errbuf,
			      c[i].msg);
		ck_assert_msg(strncmp(errbuf, "sftpmnt: ", 9) == 0, "%s",
			      errbuf);
	}
}
END_TEST

START_TEST(include_inside_match)
{
	struct opts o;

	put_file(".ssh/port.conf", "Port 2216\n");
	put_file(".ssh/user.conf", "User u1\n");
	put_file(".ssh/ident-a.conf", "IdentityFile /k/a\n");
	put_file(".ssh/ident-b.conf", "IdentityFile /k/b\n");
	put_file("abs.conf", "Match host nomatch\n  ConnectTimeout 1\n");
	fresh(&o);
	ck_assert_int_eq(read_conf(&o,
				   "Match host nomatch\n  Include user.conf\n"
				   "Match originalhost h\n  Include port.conf\n"
				   "Match all\n  Include ~/.ssh/ident-*.conf\n"
				   "Host h\n  Include \"~/abs.conf\"\n"
				   "  ConnectTimeout 10\n",
				   "h"),
			 0);
	ck_assert_ptr_null(o.user); /* in a block that did not apply */
	ck_assert_int_eq(o.port, 2216);
	ck_assert_int_eq(o.nidentity, 2); /* glob, in lexical order */
	ck_assert_str_eq(o.identity[0], "/k/a");
	ck_assert_str_eq(o.identity[1], "/k/b");
	/* the included file's Match ended only its own block */
	ck_assert_int_eq(o.connect_timeout, 10);
	free(o.identity[0]);
	free(o.identity[1]);
	/* a file that includes itself */
	fresh(&o);
	put_file(".ssh/loop.conf", "Include loop.conf\n");
	ck_assert_int_eq(read_conf(&o, "Include loop.conf\n", "h"), -2);
	ck_assert_ptr_nonnull(strstr(errbuf, "nested more than 16 deep"));
}
END_TEST

/* Host patterns: whitespace lists, negation, ssh's wildcards */
START_TEST(host_lines)
{
	struct opts o;

	fresh(&o);
	ck_assert_int_eq(read_conf(&o, "Host a b !c* *\n  Port 2217\n", "cx"),
			 0);
	ck_assert_int_eq(o.port, 22);
	ck_assert_int_eq(read_conf(&o, "Host [ab] ?x\n  Port 2218\n", "cx"), 0);
	ck_assert_int_eq(o.port, 2218);
}
END_TEST

/* File names are expanded once everything is read, with the final
 * values: %h is the HostName (a later Match could not change it any
 * more), %n the host as given, %r the user, %p the port; ~/ is $HOME; an
 * unknown token is an error naming the option.  Command-line values
 * (already in o) are expanded the same way. */
START_TEST(file_name_tokens)
{
	struct opts o;
	char want[600];

	fresh(&o);
	ck_assert_int_eq(read_conf(&o,
				   "Host alias\n"
				   "  HostName real.%h.example\n"
				   "  User bob\n"
				   "  Port 2222\n"
				   "  IdentityFile ~/.ssh/id_%h_%r_%p_%n\n"
				   "  UserKnownHostsFile %d/kh.%n other\n"
				   "  CertificateFile /c/%%%u\n",
				   "alias"),
			 0);
	ck_assert_str_eq(o.hostname, "real.alias.example");
	/* (what main.c does once the files are read) */
	free(o.host);
	o.host = o.hostname;
	o.hostname = NULL;
	ck_assert_int_eq(sshconf_expand_paths(&o, "alias"), 0);
	snprintf(want, sizeof(want), "%s/.ssh/id_real.alias.example_bob_2222_alias",
		 dir);
	ck_assert_str_eq(o.identity[0], want);
	snprintf(want, sizeof(want), "%s/kh.alias", dir);
	ck_assert_str_eq(o.known_hosts, want);
	snprintf(want, sizeof(want), "/c/%%%s", luser());
	ck_assert_str_eq(o.certificate, want);
	free(o.identity[0]);
	free(o.known_hosts);
	free(o.certificate);
	free(o.user);
	free(o.host);

	/* an unknown token: refused, named */
	fresh(&o);
	o.host = strdup("h");
	o.identity[o.nidentity++] = strdup("/k/%Z");
	ck_assert_int_eq(sshconf_expand_paths(&o, "h"), -1);
	free(o.identity[0]);
	free(o.host);
	/* "none" stays none */
	fresh(&o);
	o.host = strdup("h");
	o.identity_agent = strdup("none");
	ck_assert_int_eq(sshconf_expand_paths(&o, "h"), 0);
	ck_assert_str_eq(o.identity_agent, "none");
	free(o.identity_agent);
	free(o.host);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("sshconf");
	TCase *tc = tcase_create("core");
	SRunner *sr;
	int failed;

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, match_all_and_block_ends);
	tcase_add_test(tc, host_tests_hostname_originalhost_the_name_given);
	tcase_add_test(tc, user_is_the_user_resolved_so_far);
	tcase_add_test(tc, localuser);
	tcase_add_test(tc, exec_runs_a_shell);
	tcase_add_test(tc, exec_tokens);
	tcase_add_test(tc, negation_and_and);
	tcase_add_test(tc, pattern_lists);
	tcase_add_test(tc, pattern_not_exponential);
	tcase_add_test(tc, final_and_canonical);
	tcase_add_test(tc, bad_match_lines);
	tcase_add_test(tc, include_inside_match);
	tcase_add_test(tc, host_lines);
	tcase_add_test(tc, file_name_tokens);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
