/*
 * integ.c - helpers for the integration tests (see integ.h).
 */
#include "integ.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

const char *integ_env(const char *name)
{
	const char *v = getenv(name);

	if (!v || !*v) {
		fprintf(stderr, "SKIP: %s is not set: run this test through "
				"`make check` (tests/run-test starts the sshd)\n",
			name);
		exit(77);
	}
	return v;
}

int integ_connect(int port)
{
	struct sockaddr_in sin = { .sin_family = AF_INET };
	int fd, one = 1;

	if (!port)
		port = atoi(integ_env("SFTPMNT_TEST_PORT"));
	if (inet_pton(AF_INET, integ_env("SFTPMNT_TEST_HOST"),
		      &sin.sin_addr) != 1) {
		fprintf(stderr, "bad SFTPMNT_TEST_HOST\n");
		exit(99);
	}
	sin.sin_port = htons((unsigned short)port);
	fd = socket(AF_INET, SOCK_STREAM, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sin, sizeof(sin))) {
		perror("connect to the test sshd");
		exit(99);
	}
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	return fd;
}
