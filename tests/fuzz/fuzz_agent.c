/*
 * fuzz_agent.c - the ssh-agent client (lib/agent.c) on arbitrary agent
 * replies: libssh2_agent_list_identities, then libssh2_agent_sign with
 * each identity (at most 8), over a real Unix socket whose other end
 * the harness holds.
 *
 * Input: the agent's whole output stream (uint32 length, type, body per
 * reply, draft-miller-ssh-agent §3), written into the socket before the
 * first request; then the harness shuts its end, so a reply cut short
 * ends in end-of-file, not in the agent timeout.  The requests are never
 * read (they are small, the socket buffer holds them).  The reply
 * parsers are static in agent.c: the socket is the way in.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "fuzz.h"
#include "libssh2.h"

static int listener = -1;
static char path[108];

static void cleanup(void)
{
	unlink(path);
}

static int listen_once(void)
{
	struct sockaddr_un sun = {.sun_family = AF_UNIX};

	if (listener >= 0)
		return 0;
	snprintf(path, sizeof(path), "/tmp/fuzz_agent.%d.sock", (int)getpid());
	unlink(path);
	memcpy(sun.sun_path, path, strlen(path) + 1);
	listener = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (listener < 0 ||
	    bind(listener, (struct sockaddr *)&sun, sizeof(sun)) ||
	    listen(listener, 4)) {
		perror("fuzz_agent: listen");
		abort();
	}
	atexit(cleanup);
	return 0;
}

FUZZ_TARGET(agent)
{
	static const unsigned char msg[] = "session id and request";
	struct libssh2_agent_publickey *id, *prev = NULL;
	LIBSSH2_SESSION *s;
	LIBSSH2_AGENT *a;
	size_t off = 0;
	int fd, i;

	fuzz_reset();
	listen_once();
	s = libssh2_session_init();
	if (!s)
		return 0;
	a = libssh2_agent_init(s);
	libssh2_agent_set_identity_path(a, path);
	if (!a || libssh2_agent_connect(a)) {
		libssh2_agent_free(a);
		libssh2_session_free(s);
		return 0;
	}
	fd = accept(listener, NULL, NULL);
	if (fd < 0)
		abort();
	while (off < size) {
		ssize_t w = send(fd, data + off, size - off,
				 MSG_DONTWAIT | MSG_NOSIGNAL);

		if (w <= 0)
			break; /* the rest does not fit: it is cut short */
		off += (size_t)w;
	}
	shutdown(fd, SHUT_WR);
	if (libssh2_agent_list_identities(a) == 0) {
		for (i = 0;
		     i < 8 && libssh2_agent_get_identity(a, &id, prev) == 0;
		     i++) {
			unsigned char *sig = NULL;
			size_t siglen = 0;

			if (!id->blob || !id->comment ||
			    strlen(id->comment) > 4096)
				__builtin_trap();
			if (libssh2_agent_sign(a, id, &sig, &siglen, msg,
					       sizeof(msg), NULL, 0) == 0)
				libssh2_free(s, sig);
			prev = id;
		}
	}
	libssh2_agent_disconnect(a);
	libssh2_agent_free(a);
	libssh2_session_free(s);
	close(fd);
	return 0;
}
