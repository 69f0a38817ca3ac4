/*
 * jump.c - ProxyJump through our own library: an SSH session to the
 * jump host, a direct-tcpip channel from there to the target, and a
 * thread that copies bytes between that channel and one end of a
 * socketpair.  The other end is the target session's socket, so the
 * rest of the daemon sees an ordinary connected stream: the same poll
 * loop, the same reconnect (which makes a new jump).
 *
 * The pump ends, and closes everything it owns, when either side ends:
 * the daemon closes its end (unmount, reconnect) or the jump host's
 * channel or connection goes (the daemon then reads EOF and reconnects).
 *
 * Several hops (ProxyJump=a,b as ssh -J a,b): one such pump per hop,
 * each hop's session running over the previous hop's socketpair instead
 * of TCP (hop_open); main.c builds the chain of options, at most
 * JUMP_HOPS_MAX long.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include "sftpmnt.h"

#define PUMP_BUF (256 * 1024)

struct pump {
	LIBSSH2_SESSION *s;
	LIBSSH2_CHANNEL *ch;
	int tcp;  /* to the jump host */
	int pair; /* our end of the socketpair */
	int alive_interval;
	char up[PUMP_BUF], down[PUMP_BUF]; /* pair->channel, channel->pair */
	size_t up_off, up_len, down_off, down_len;
	int wake;	    /* eventfd: jump_hold asks the thread to stop */
	volatile int stop;  /* ... and it stops, keeping its state */
	int dead;	    /* (before the fork) the thread ended */
	pthread_t th;	    /* (before the fork) joined by jump_hold */
	struct pump *next;  /* pumps made before the fork */
};

/* Pumps made before fuse_daemonize run in joinable threads that
 * jump_hold stops before the fork (threads do not survive it) and
 * jump_start starts again in the daemon; later ones are detached and
 * free themselves. */
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static struct pump *early;
static int forked;

static void pump_free(struct pump *p)
{
	if (p->ch) {
		libssh2_channel_close(p->ch);
		libssh2_channel_free(p->ch);
	}
	if (p->s) {
		libssh2_session_disconnect(p->s, "jump ended");
		libssh2_session_free(p->s);
	}
	if (p->tcp >= 0)
		close(p->tcp);
	if (p->pair >= 0)
		close(p->pair);
	if (p->wake >= 0)
		close(p->wake);
	free(p);
}

/* One pass both ways: 1 when something moved, 0 when nothing could, -1
 * when either side has ended. */
static int pump_step(struct pump *p)
{
	int moved = 0;
	ssize_t n;

	if (!p->up_len) {
		n = read(p->pair, p->up, sizeof(p->up));
		if (n == 0)
			return -1; /* the daemon closed its end */
		if (n < 0 && errno != EAGAIN && errno != EINTR)
			return -1;
		if (n > 0) {
			p->up_off = 0;
			p->up_len = (size_t)n;
			moved = 1;
		}
	}
	if (p->up_len) {
		n = libssh2_channel_write(p->ch, p->up + p->up_off, p->up_len);
		if (n < 0 && n != LIBSSH2_ERROR_EAGAIN)
			return -1;
		if (n > 0) {
			p->up_off += (size_t)n;
			p->up_len -= (size_t)n;
			moved = 1;
		}
	}
	if (!p->down_len) {
		n = libssh2_channel_read(p->ch, p->down, sizeof(p->down));
		if (n < 0 && n != LIBSSH2_ERROR_EAGAIN)
			return -1;
		if (n > 0) {
			p->down_off = 0;
			p->down_len = (size_t)n;
			moved = 1;
		} else if (n == 0 && libssh2_channel_eof(p->ch)) {
			return -1; /* the target closed */
		}
	}
	if (p->down_len) {
		n = write(p->pair, p->down + p->down_off, p->down_len);
		if (n < 0 && errno != EAGAIN && errno != EINTR)
			return -1;
		if (n > 0) {
			p->down_off += (size_t)n;
			p->down_len -= (size_t)n;
			moved = 1;
		}
	}
	return moved;
}

static void *pump_run(void *arg)
{
	struct pump *p = arg;
	int rc;

	for (;;) {
		struct pollfd pf[3] = { { .fd = p->tcp },
					{ .fd = p->pair },
					{ .fd = p->wake, .events = POLLIN } };
		int dirs, next = 0;

		while (!p->stop && (rc = pump_step(p)) > 0)
			;
		if (p->stop)
			return NULL; /* jump_hold: state kept for the daemon */
		if (rc < 0)
			break;
		dirs = libssh2_session_block_directions(p->s);
		pf[0].events = POLLIN; /* anything from the jump host */
		if (dirs & LIBSSH2_SESSION_BLOCK_OUTBOUND)
			pf[0].events |= POLLOUT;
		pf[1].events = (p->up_len ? 0 : POLLIN) |
			       (p->down_len ? POLLOUT : 0);
		if (libssh2_keepalive_send(p->s, &next) < 0 && next == 0)
			break;
		if (poll(pf, 3, next > 0 ? next * 1000 : 60000) < 0 &&
		    errno != EINTR)
			break;
		if ((pf[1].revents & (POLLHUP | POLLERR)) &&
		    !(pf[1].revents & POLLIN) && !p->down_len)
			break;
	}
	pthread_mutex_lock(&lock);
	if (!forked) {
		p->dead = 1; /* jump_hold joins and frees it */
		pthread_mutex_unlock(&lock);
		return NULL;
	}
	pthread_mutex_unlock(&lock);
	pump_free(p);
	return NULL;
}

static int pump_start(struct pump *p, int detached)
{
	pthread_attr_t at;
	int rc;

	if (pthread_attr_init(&at))
		return -1;
	if (detached)
		pthread_attr_setdetachstate(&at, PTHREAD_CREATE_DETACHED);
	rc = pthread_create(&p->th, &at, pump_run, p);
	pthread_attr_destroy(&at);
	return rc ? -1 : 0;
}

void jump_hold(void)
{
	struct pump **pp, *p;
	uint64_t one = 1;

	pthread_mutex_lock(&lock);
	for (p = early; p; p = p->next) {
		p->stop = 1;
		if (write(p->wake, &one, sizeof(one)) < 0) {
			/* (the flag is seen at the next wake-up anyway) */
		}
	}
	pthread_mutex_unlock(&lock);
	for (p = early; p; p = p->next)
		pthread_join(p->th, NULL);
	for (pp = &early; (p = *pp);) {
		if (p->dead) { /* its connection reads EOF */
			*pp = p->next;
			pump_free(p);
		} else {
			pp = &p->next;
		}
	}
}

int jump_start(void)
{
	struct pump *p, *next;
	uint64_t v;
	int rc = 0;

	/* under the lock: a thread that ends meanwhile waits for it before
	 * it looks at `forked`, so p stays valid here */
	pthread_mutex_lock(&lock);
	forked = 1;
	for (p = early, early = NULL; p; p = next) {
		next = p->next;
		if (p->stop) { /* held over the fork: run it again */
			p->stop = 0;
			if (read(p->wake, &v, sizeof(v)) < 0) {
				/* (nothing to drain) */
			}
			if (pump_start(p, 1)) {
				pump_free(p); /* its connection reads EOF */
				rc = -1;
			}
		} else if (p->dead) { /* ended already */
			pthread_join(p->th, NULL);
			pump_free(p);
		} else { /* (foreground: never stopped) frees itself */
			pthread_detach(p->th);
		}
	}
	pthread_mutex_unlock(&lock);
	return rc;
}

/* "ProxyJump HOST" for a single jump host (as before hops could chain),
 * "ProxyJump hop N of M (user@host:port)" in a chain, where the same host
 * may well appear twice. */
static void hop_name(const struct opts *j, int n, int hops, char *out,
		     size_t len)
{
	if (hops == 1)
		snprintf(out, len, "ProxyJump %s", j->host);
	else
		snprintf(out, len, "ProxyJump hop %d of %d (%s@%s:%d)", n,
			 hops, j->user, j->host, j->port);
}

/* Hop n (1: the first, reached by TCP) of hops, whose options are j: its
 * own transport is hop n-1's channel when there is one, so a chain is
 * built from the first hop on, each hop's session inside the previous
 * hop's channel and each with its own pump.  When any hop ends, its pump
 * closes both its sides and the ends travel along the chain both ways:
 * the next hop's session reads EOF, the previous hop's pump reads EOF on
 * its socketpair.  The daemon then sees EOF and reconnects, which builds
 * a whole new chain.  A failure is reported by the hop it happened at;
 * the hops above pass its message on. */
static int hop_open(const struct opts *j, int n, int hops, const char *host,
		    int port, char *err, size_t errlen)
{
	struct pump *p = calloc(1, sizeof(*p));
	char sub[768], name[384];
	char *msg;
	int sv[2] = { -1, -1 };

	hop_name(j, n, hops, name, sizeof(name));
	if (!p) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	p->pair = -1;
	p->wake = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (p->wake < 0) {
		snprintf(err, errlen, "eventfd: %s", strerror(errno));
		free(p);
		return -1;
	}
	if (j->jump) {
		p->tcp = hop_open(j->jump, n - 1, hops, j->host, j->port, err,
				  errlen);
		if (p->tcp < 0) {
			pump_free(p); /* err names the hop that failed */
			return -1;
		}
	} else {
		p->tcp = tcp_connect(j, j->host, j->port, sub, sizeof(sub));
		if (p->tcp < 0)
			goto fail_sub;
	}
	p->s = ssh_start(j, p->tcp, sub, sizeof(sub));
	if (!p->s)
		goto fail_sub;
	p->ch = libssh2_channel_direct_tcpip_ex(p->s, host, port, "127.0.0.1",
						0);
	if (!p->ch) {
		libssh2_session_last_error(p->s, &msg, NULL, 0);
		snprintf(err, errlen, "%s: cannot reach %s port %d: %s", name,
			 host, port, msg);
		goto fail;
	}
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv)) {
		snprintf(err, errlen, "socketpair: %s", strerror(errno));
		goto fail;
	}
	p->pair = sv[1];
	if (fcntl(p->pair, F_SETFL, O_NONBLOCK)) {
		snprintf(err, errlen, "fcntl: %s", strerror(errno));
		goto fail;
	}
	libssh2_session_set_blocking(p->s, 0);
	libssh2_keepalive_config(p->s, 1, (unsigned)j->alive_interval);
	pthread_mutex_lock(&lock);
	if (!forked) {
		p->next = early;
		early = p;
	}
	if (pump_start(p, forked)) {
		if (!forked)
			early = p->next;
		pthread_mutex_unlock(&lock);
		snprintf(err, errlen, "%s: cannot start the jump thread", name);
		goto fail;
	}
	pthread_mutex_unlock(&lock);
	return sv[0];
fail_sub:
	snprintf(err, errlen, "%s: %s", name, sub);
fail:
	if (sv[0] >= 0)
		close(sv[0]);
	pump_free(p);
	return -1;
}

int jump_open(const struct opts *j, const char *host, int port, char *err,
	      size_t errlen)
{
	const struct opts *h;
	int hops = 0;

	for (h = j; h; h = h->jump)
		hops++;
	return hop_open(j, hops, hops, host, port, err, errlen);
}
