/*
 * integ.c - helpers for the integration tests (see integ.h).
 */
#include "integ.h"

#include "session.h"

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

int integ_service_step(LIBSSH2_SESSION *s, int *sent)
{
	static const char req[] = "\x05\x00\x00\x00\x0cssh-userauth";
	struct sess_pkt *p;
	int rc;

	if (!*sent) {
		if ((rc = tp_send(&s->tp, (const uint8_t *)req,
				  sizeof(req) - 1)))
			return rc;
		*sent = 1;
	}
	while (!sess_take(s, SSH_MSG_SERVICE_ACCEPT, SSH_MSG_SERVICE_ACCEPT,
			  &p))
		if ((rc = sess_pump(s)))
			return rc;
	rc = p->n == sizeof(req) - 1 && !memcmp(p->data + 1, req + 1, p->n - 1)
		     ? 0
		     : LIBSSH2_ERROR_PROTO;
	la_free(&s->a, p);
	return rc;
}
