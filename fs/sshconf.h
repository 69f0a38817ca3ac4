/*
 * sshconf.h - reading ssh_config(5) files into the daemon's options
 * (sshconf.c).
 *
 * ssh reads its configuration files once for the host given and, when a
 * "Match final" line asked for it, a second time (the final pass) with
 * what the first pass resolved.  A pass is described by struct
 * sshconf_pass; the caller reads every file of a pass with the same one.
 */
#ifndef SFTPMNT_SSHCONF_H
#define SFTPMNT_SSHCONF_H

#include <stdio.h>

struct opts;

struct sshconf_pass {
	const char *orig; /* the host as given: originalhost, %n, %k */
	const char *host; /* what Host lines test: orig in the first pass,
			   * the resolved HostName in the final one */
	int final;	  /* the final pass: Match final/canonical hold */
	int system;	  /* a system-wide file: a relative Include is in
			   * /etc/ssh (else in ~/.ssh) */
	int want_final;	  /* out: a Match line named final: read every
			   * file again with final = 1 */
	int nfiles;	  /* files opened in this pass (a cap on Include) */
};

/* Apply the Host and Match blocks of file that hold for pass p; what is
 * set already (command line, earlier files) is kept.  0; -1 when the file
 * exists but cannot be opened (errno; a missing file is not an error); -2
 * for a bad line, after a message naming the file and line (ssh refuses
 * such a file). */
int sshconf_read(struct opts *o, const char *file, struct sshconf_pass *p);

/* Once every file is read and the user and port are known: ~/ and the
 * %-tokens in IdentityFile, CertificateFile, IdentityAgent and
 * UserKnownHostsFile (from the files or the command line), with the
 * final values (%h the HostName, %n orig, the host as given, %r the
 * user, %p the port), as ssh expands them.  0, or -1 after a message. */
int sshconf_expand_paths(struct opts *o, const char *orig);

/* RekeyLimit's value, as ssh_config(5): a size ("default", or bytes with
 * an optional K, M or G; at least 16K) and an optional time ("none", or
 * sshd_config(5)'s TIME FORMATS: 90, 10m, 1h30m).  Sets *bytes (0: the
 * default) and *secs (0: none).  0, or -1 for a value it cannot read. */
int sshconf_rekey_limit(const char *v, uint64_t *bytes, long *secs);

/* For tests and the fuzzer: run "Match exec" commands through run, which
 * returns the command's exit status (NULL: /bin/sh -c, the default). */
void sshconf_set_exec(int (*run)(const char *cmd));

/* For tests and the fuzzer: open files through open_fn, which returns
 * NULL with errno set (ENOENT: no such file) or a stream; while it is
 * set, Include words are taken literally, not globbed (NULL: fopen and
 * glob(3), the default). */
void sshconf_set_open(FILE *(*open_fn)(const char *path));

#endif
