/*
 * main.c - the sftpmnt command line.
 *
 * Status: the daemon is being built bottom-up (see README "Status").
 * This entry point parses the command line, answers -h and -V, and says
 * plainly that mounting is not available yet rather than pretending.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <fuse_lowlevel.h>

#include "libssh2.h"

#define SFTPMNT_VERSION PACKAGE_VERSION

static void usage(FILE *f)
{
	fprintf(f,
		"usage: sftpmnt [user@]host:[dir] mountpoint [-o opt,...] "
		"[-f] [-d] [-s] [-h] [-V]\n"
		"\n"
		"Mount a remote directory over SFTP.\n"
		"\n"
		"  -h, --help      show this help and exit\n"
		"  -V, --version   show versions and exit\n"
		"  -o opt,...      mount options (see sftpmnt(1))\n"
		"  -f              stay in the foreground\n"
		"  -d              debug output (implies -f)\n"
		"  -s              single-threaded\n");
}

int main(int argc, char **argv)
{
	int i;

	for (i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
			usage(stdout);
			return 0;
		}
		if (!strcmp(argv[i], "-V") || !strcmp(argv[i], "--version")) {
			printf("sftpmnt %s\nSSH library: libssh2 API %s "
			       "(sftpmnt's own implementation)\n"
			       "FUSE library: %s\n",
			       SFTPMNT_VERSION, libssh2_version(0),
			       fuse_pkgversion());
			return 0;
		}
	}
	if (argc < 3) {
		usage(stderr);
		return 2;
	}
	fprintf(stderr,
		"sftpmnt: cannot mount %s yet: the SSH key exchange, "
		"authentication and SFTP layers are still being built "
		"(see README, \"Status\")\n",
		argv[1]);
	return 1;
}
