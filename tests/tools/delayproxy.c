/*
 * delayproxy.c - TCP delay and fault-injection proxy for the latency
 * benchmarks and fault tests.
 *
 * usage: delayproxy -t HOST:PORT [-l ADDR:PORT] [-d MS] [-b BYTES_PER_SEC]
 *                   [-c CONTROL_SOCKET] [-p PORTFILE] [-q]
 *
 *   -t HOST:PORT  upstream; one connection to it per accepted client
 *   -l ADDR:PORT  where to listen (default 127.0.0.1:0, any free port);
 *                 IPv6 as [ADDR]:PORT
 *   -d MS         one-way delay added to each direction, so the round trip
 *                 grows by 2*MS (fractions allowed: -d 0.5)
 *   -b BPS        bandwidth cap per direction in bytes/s (0: none, default)
 *   -c PATH       Unix stream control socket: one command per line, one
 *                 answer line "ok ..." or "error ...":
 *                   cut            reset every connection pair (RST both ways)
 *                   stall          stop delivering in both directions
 *                   resume         undo stall
 *                   delay MS       one-way delay for data arriving from now on
 *                   rate BPS       bandwidth cap (0: none)
 *                   refuse on|off  close new clients at once (server down)
 *                   stats          ok conns=N accepted=N c2s=BYTES s2c=BYTES
 *   -p PORTFILE   once listening, write the port there (temp name, then
 *                 rename); without -p print "port N" on stdout
 *   -q            do not log per-connection failures
 *
 * Model: every chunk read is stamped with its arrival time and released to
 * the other side at arrival + delay, in order.  The proxy reads as fast as
 * the sender writes (up to QUEUE_CAP per direction), so the delay adds
 * latency without limiting throughput: the queue, not the TCP window,
 * holds the bandwidth-delay product.  One epoll loop; sockets are
 * edge-triggered with their last known readiness kept in struct side; each
 * pair has one absolute CLOCK_MONOTONIC timerfd armed at its next due time,
 * which gives microsecond release precision (epoll's ms timeout would not).
 * "accepted" in stats counts every accepted client, refused ones included;
 * c2s and s2c count bytes delivered.  Exit status: 0 after SIGTERM/SIGINT,
 * 1 if setting up fails, 2 on bad arguments.
 */
#define _GNU_SOURCE
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <malloc.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/timerfd.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#define QUEUE_CAP    (64u << 20)  /* queued bytes per direction: stop reading */
#define CHUNK_MAX    (256u << 10) /* largest single read */
#define FILL_BUDGET  (4u << 20)	  /* bytes read per side per turn (fairness) */
#define BURST_NS     5000000.0	  /* token bucket depth: 5 ms at the cap, */
#define BURST_MIN    1500.0	  /* but at least one Ethernet MTU */
#define DELAY_MAX_MS 3600000.0	  /* one hour */
#define CTL_LINE_MAX 128	  /* longest control command line */
#define CTL_BACKLOG  16
#define MAX_EVENTS   256
#define NS_PER_SEC   1000000000ull

#define container_of(ptr, type, member)                                        \
	((type *)(void *)((char *)(ptr)-offsetof(type, member)))

/* What an epoll event points at: the first member of each watched object. */
enum ev_kind { EV_LISTEN, EV_SIGNAL, EV_CTL_LISTEN, EV_CTL, EV_SOCK, EV_TIMER };

struct ev {
	enum ev_kind kind;
	int fd;
};

struct chunk {
	struct chunk *next;
	uint64_t due;	 /* CLOCK_MONOTONIC ns: arrival + delay */
	size_t len, off; /* off: bytes already delivered */
	unsigned char data[];
};

/* One socket of a pair; edge-triggered, so its readiness is kept here. */
struct side {
	struct ev ev;
	struct pair *pair;
	bool rd_ready, wr_ready;
};

/* The bytes flowing from one side to the other. */
struct dir {
	struct side *from, *to;
	struct chunk *head, *tail;
	size_t queued;
	unsigned long long *delivered; /* stats counter */
	double tokens;		       /* bandwidth cap: token bucket */
	uint64_t refill_at;
	bool eof;   /* `from` has sent FIN (or failed: see reset) */
	bool reset; /* `from` failed: reset the pair once drained */
	bool done;  /* FIN forwarded */
};

struct pair {
	struct side cli, srv;
	struct dir c2s, s2c;
	struct ev timer; /* EV_TIMER: armed at the earliest due time */
	uint64_t timer_at;
	const struct addrinfo *ai; /* upstream address being tried */
	bool connecting, dead, on_ready;
	struct pair *prev, *next; /* live pairs; next: graveyard too */
	struct pair *ready_next;
};

struct ctl {
	struct ev ev;
	struct ctl *prev, *next;
	size_t len;
	char line[CTL_LINE_MAX];
};

struct proxy {
	int ep;
	struct ev lsn, sig, ctl_lsn;
	const char *target_spec, *ctl_path;
	struct addrinfo *target;
	uint64_t delay_ns;
	uint64_t rate; /* bytes/s per direction, 0: unlimited */
	bool stalled, refusing, quiet, quit, lsn_paused;
	struct pair *pairs; /* live */
	struct pair *ready; /* to run after this batch of events */
	struct pair *dead;  /* closed; freed after this batch of events */
	struct ctl *ctls;
	unsigned long nconns;
	unsigned long long accepted, c2s_bytes, s2c_bytes;
	struct chunk *spare; /* read buffer, CHUNK_MAX bytes */
};

struct opts {
	const char *target, *listen, *ctl_path, *port_file;
	uint64_t delay_ns, rate;
	bool quiet;
};

static const char usage_text[] =
	"usage: delayproxy -t HOST:PORT [-l ADDR:PORT] [-d MS] [-b BPS]\n"
	"                  [-c CONTROL_SOCKET] [-p PORTFILE] [-q]\n"
	"  -t HOST:PORT  upstream to connect to for each client\n"
	"  -l ADDR:PORT  listen address (default 127.0.0.1:0)\n"
	"  -d MS         one-way delay per direction (RTT grows by 2*MS)\n"
	"  -b BPS        bandwidth cap per direction, bytes/s (0: none)\n"
	"  -c PATH       control socket; commands: cut, stall, resume,\n"
	"                delay MS, rate BPS, refuse on|off, stats\n"
	"  -p PORTFILE   write the listening port there (else: port N)\n"
	"  -q            quiet: no per-connection messages\n";

/* ---- small helpers ------------------------------------------------------ */

static void vsay(const char *fmt, va_list ap)
{
	fputs("delayproxy: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
}

static void say(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsay(fmt, ap);
	va_end(ap);
}

static _Noreturn void die(int status, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsay(fmt, ap);
	va_end(ap);
	if (status == 2)
		fputs("Try 'delayproxy -h'.\n", stderr);
	exit(status);
}

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * NS_PER_SEC + (uint64_t)ts.tv_nsec;
}

static int ev_add(struct proxy *px, struct ev *ev, uint32_t events)
{
	struct epoll_event e = {.events = events, .data.ptr = ev};

	return epoll_ctl(px->ep, EPOLL_CTL_ADD, ev->fd, &e);
}

static void set_nodelay(int fd)
{
	int one = 1;

	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
}

/* Close a socket; with `rst`, abortively (SO_LINGER 0 sends RST). */
static void sock_close(int fd, bool rst)
{
	struct linger lg = {.l_onoff = 1, .l_linger = 0};

	if (fd < 0)
		return;
	if (rst)
		setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
	close(fd);
}

/* Listening stops on EMFILE and the like, and restarts when fds free up. */
static void listen_pause(struct proxy *px, bool pause)
{
	struct epoll_event e = {.events = pause ? 0 : EPOLLIN,
				.data.ptr = &px->lsn};

	if (px->lsn_paused == pause)
		return;
	if (epoll_ctl(px->ep, EPOLL_CTL_MOD, px->lsn.fd, &e) == 0)
		px->lsn_paused = pause;
}

/* ---- argument parsing --------------------------------------------------- */

static int parse_ms(const char *s, uint64_t *ns)
{
	char *end;
	double ms;

	if (!isdigit((unsigned char)*s)) /* no sign, space, inf, nan */
		return -1;
	errno = 0;
	ms = strtod(s, &end);
	if (errno || *end || ms > DELAY_MAX_MS)
		return -1;
	*ns = (uint64_t)(ms * 1e6 + 0.5);
	return 0;
}

static int parse_u64(const char *s, uint64_t *v)
{
	char *end;

	if (!isdigit((unsigned char)*s))
		return -1;
	errno = 0;
	*v = strtoull(s, &end, 10);
	return errno || *end ? -1 : 0;
}

/* "host:port" or "[v6addr]:port"; the host may be empty. */
static int split_hostport(const char *spec, char *host, size_t hostsz,
			  const char **port)
{
	const char *h = spec, *colon, *p;
	size_t hlen;

	if (*spec == '[') {
		const char *rb = strchr(spec, ']');

		if (!rb || rb[1] != ':')
			return -1;
		h = spec + 1;
		colon = rb + 1;
		hlen = (size_t)(rb - h);
	} else {
		colon = strrchr(spec, ':');
		if (!colon)
			return -1;
		hlen = (size_t)(colon - spec);
	}
	if (hlen >= hostsz)
		return -1;
	memcpy(host, h, hlen);
	host[hlen] = '\0';
	*port = colon + 1;
	for (p = *port; isdigit((unsigned char)*p); p++)
		;
	if (p == *port || *p || p - *port > 5 || atoi(*port) > 65535)
		return -1;
	return 0;
}

static struct addrinfo *resolve(const char *spec, bool passive)
{
	struct addrinfo hints = {.ai_socktype = SOCK_STREAM,
				 .ai_flags = AI_NUMERICSERV};
	struct addrinfo *res;
	char host[256];
	const char *port;
	int rc;

	if (split_hostport(spec, host, sizeof(host), &port) < 0)
		die(2, "bad address '%s' (want HOST:PORT)", spec);
	if (!passive && (!*host || atoi(port) == 0))
		die(2, "bad target '%s' (want HOST:PORT, port not 0)", spec);
	if (passive)
		hints.ai_flags |= AI_PASSIVE;
	rc = getaddrinfo(*host ? host : NULL, port, &hints, &res);
	if (rc != 0)
		die(1, "cannot resolve '%s': %s", spec, gai_strerror(rc));
	return res;
}

static void parse_args(int argc, char **argv, struct opts *o)
{
	int c;

	*o = (struct opts){.listen = "127.0.0.1:0"};
	opterr = 0;
	while ((c = getopt(argc, argv, ":t:l:d:b:c:p:qh")) != -1) {
		switch (c) {
		case 't':
			o->target = optarg;
			break;
		case 'l':
			o->listen = optarg;
			break;
		case 'c':
			o->ctl_path = optarg;
			break;
		case 'p':
			o->port_file = optarg;
			break;
		case 'q':
			o->quiet = true;
			break;
		case 'd':
			if (parse_ms(optarg, &o->delay_ns) < 0)
				die(2,
				    "bad delay '%s' (want milliseconds, "
				    "0 to %.0f)",
				    optarg, DELAY_MAX_MS);
			break;
		case 'b':
			if (parse_u64(optarg, &o->rate) < 0)
				die(2, "bad rate '%s' (want bytes/s)", optarg);
			break;
		case 'h':
			fputs(usage_text, stdout);
			exit(0);
		case ':':
			die(2, "option -%c needs an argument", optopt);
		default:
			die(2, "unknown option -%c", optopt);
		}
	}
	if (optind < argc)
		die(2, "unexpected argument '%s'", argv[optind]);
	if (!o->target)
		die(2, "missing -t HOST:PORT");
}

/* ---- queues ------------------------------------------------------------- */

static void dir_clear(struct dir *d)
{
	struct chunk *c, *next;

	for (c = d->head; c; c = next) {
		next = c->next;
		free(c);
	}
	d->head = d->tail = NULL;
	d->queued = 0;
}

/*
 * Queue the first n bytes of the spare buffer.  A large read keeps the
 * buffer itself (no copy; at most half of it wasted); a small one is copied
 * into a chunk of its own size.
 */
static int dir_push(struct proxy *px, struct dir *d, size_t n)
{
	struct chunk *c = px->spare;

	if (n >= CHUNK_MAX / 2) {
		px->spare = NULL;
	} else {
		c = malloc(sizeof(*c) + n);
		if (!c)
			return -1;
		memcpy(c->data, px->spare->data, n);
	}
	c->next = NULL;
	c->due = now_ns() + px->delay_ns;
	c->len = n;
	c->off = 0;
	if (d->tail)
		d->tail->next = c;
	else
		d->head = c;
	d->tail = c;
	d->queued += n;
	return 0;
}

static bool dir_can_read(const struct dir *d)
{
	return d->from->rd_ready && !d->eof && d->queued < QUEUE_CAP;
}

/* Read what `from` has, up to the queue cap and this turn's budget. */
static int dir_fill(struct proxy *px, struct dir *d)
{
	size_t got = 0;
	ssize_t n;

	while (dir_can_read(d) && got < FILL_BUDGET) {
		if (!px->spare) {
			px->spare = malloc(sizeof(*px->spare) + CHUNK_MAX);
			if (!px->spare)
				return -1;
		}
		n = recv(d->from->ev.fd, px->spare->data, CHUNK_MAX, 0);
		if (n > 0) {
			if (dir_push(px, d, (size_t)n) < 0)
				return -1;
			got += (size_t)n;
		} else if (n == 0) {
			d->eof = true;
		} else if (errno == EAGAIN || errno == EWOULDBLOCK) {
			d->from->rd_ready = false;
		} else if (errno != EINTR) {
			d->eof = d->reset = true;
		}
	}
	return 0;
}

/*
 * How many of `want` bytes the bandwidth cap lets through now; 0 with
 * *wake set when the bucket must refill first.  Waiting for half a burst
 * (or the whole rest of the chunk) keeps sends from dribbling.
 */
static size_t dir_allow(struct proxy *px, struct dir *d, uint64_t now,
			size_t want, uint64_t *wake)
{
	double rate = (double)px->rate, burst, need;

	if (!px->rate)
		return want;
	burst = rate * BURST_NS / NS_PER_SEC;
	if (burst < BURST_MIN)
		burst = BURST_MIN;
	if (now > d->refill_at) {
		d->tokens += (double)(now - d->refill_at) * rate / NS_PER_SEC;
		d->refill_at = now;
	}
	if (d->tokens > burst)
		d->tokens = burst;
	need = (double)want < burst / 2 ? (double)want : burst / 2;
	if (d->tokens >= need)
		return d->tokens < (double)want ? (size_t)d->tokens : want;
	*wake = now + (uint64_t)((need - d->tokens) * NS_PER_SEC / rate) + 1;
	return 0;
}

static void dir_sent(struct proxy *px, struct dir *d, size_t n)
{
	struct chunk *c = d->head;

	if (px->rate)
		d->tokens -= (double)n;
	*d->delivered += n;
	d->queued -= n;
	c->off += n;
	if (c->off == c->len) {
		d->head = c->next;
		if (!d->head)
			d->tail = NULL;
		free(c);
	}
}

/* After the last byte: forward the FIN, or the failure as a reset. */
static int dir_finish(struct dir *d)
{
	if (d->reset)
		return -1;
	if (shutdown(d->to->ev.fd, SHUT_WR) < 0)
		return -1;
	d->done = true;
	return 0;
}

/*
 * Deliver the chunks that are due, oldest first.  Returns the time at which
 * to look again (0: nothing to wait for but socket events), -1 on a failure
 * that ends the pair.
 */
static int64_t dir_flush(struct proxy *px, struct dir *d)
{
	uint64_t now = now_ns(), wake = 0;
	struct chunk *c;
	size_t want, allow;
	ssize_t n;

	if (px->stalled || d->done)
		return 0;
	while ((c = d->head) && d->to->wr_ready) {
		if (c->due > now)
			return (int64_t)c->due;
		want = c->len - c->off;
		allow = dir_allow(px, d, now, want, &wake);
		if (!allow)
			return (int64_t)wake;
		n = send(d->to->ev.fd, c->data + c->off, allow, MSG_NOSIGNAL);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			d->to->wr_ready = false;
			break;
		}
		if (n < 0)
			return -1;
		if ((size_t)n < allow)
			d->to->wr_ready = false; /* buffer full */
		dir_sent(px, d, (size_t)n);
	}
	if (!d->head && d->eof && dir_finish(d) < 0)
		return -1;
	return 0;
}

/* ---- connection pairs --------------------------------------------------- */

static void ready_add(struct proxy *px, struct pair *p)
{
	if (p->dead || p->on_ready)
		return;
	p->on_ready = true;
	p->ready_next = px->ready;
	px->ready = p;
}

/* Close both sockets (abortively with `rst`); freed after this batch. */
static void pair_kill(struct proxy *px, struct pair *p, bool rst)
{
	if (p->dead)
		return;
	p->dead = true;
	sock_close(p->cli.ev.fd, rst);
	sock_close(p->srv.ev.fd, rst);
	if (p->timer.fd >= 0)
		close(p->timer.fd);
	dir_clear(&p->c2s);
	dir_clear(&p->s2c);
	if (p->prev)
		p->prev->next = p->next;
	else
		px->pairs = p->next;
	if (p->next)
		p->next->prev = p->prev;
	px->nconns--;
	p->next = px->dead;
	px->dead = p;
	listen_pause(px, false);
}

static void reap(struct proxy *px)
{
	struct pair *p;

	while ((p = px->dead)) {
		px->dead = p->next;
		free(p);
	}
}

/* Start a non-blocking connect to p->ai or the next address that works. */
static int pair_connect(struct proxy *px, struct pair *p)
{
	const struct addrinfo *ai;
	int fd;

	for (ai = p->ai; ai; ai = ai->ai_next) {
		sock_close(p->srv.ev.fd, false);
		p->srv.ev.fd = -1;
		p->ai = ai;
		fd = socket(ai->ai_family,
			    ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC,
			    ai->ai_protocol);
		if (fd < 0)
			break;
		p->srv.ev.fd = fd;
		set_nodelay(fd);
		if (connect(fd, ai->ai_addr, ai->ai_addrlen) < 0 &&
		    errno != EINPROGRESS)
			continue;
		if (ev_add(px, &p->srv.ev,
			   EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET) < 0)
			break;
		p->srv.rd_ready = p->srv.wr_ready = false;
		p->connecting = true;
		return 0;
	}
	if (!px->quiet)
		say("connect to %s: %s", px->target_spec, strerror(errno));
	pair_kill(px, p, true);
	return -1;
}

/* The upstream socket is writable: connected, or failed (try the next). */
static int pair_check_connect(struct proxy *px, struct pair *p)
{
	socklen_t len = sizeof(int);
	int err = 0;

	if (!p->srv.wr_ready)
		return 0;
	if (getsockopt(p->srv.ev.fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0)
		err = errno;
	if (err == 0) {
		p->connecting = false;
		p->srv.rd_ready = true;
		return 0;
	}
	if (p->ai->ai_next && !px->quiet)
		say("connect to %s: %s; trying next address", px->target_spec,
		    strerror(err));
	p->ai = p->ai->ai_next;
	errno = err;
	if (!p->ai) {
		if (!px->quiet)
			say("connect to %s: %s", px->target_spec,
			    strerror(err));
		pair_kill(px, p, true);
		return -1;
	}
	return pair_connect(px, p);
}

static void pair_arm(struct pair *p, uint64_t when)
{
	struct itimerspec its = {
		.it_value = {.tv_sec = (time_t)(when / NS_PER_SEC),
			     .tv_nsec = (long)(when % NS_PER_SEC)},
	};

	if (!when || when == p->timer_at)
		return;
	if (timerfd_settime(p->timer.fd, TFD_TIMER_ABSTIME, &its, NULL) == 0)
		p->timer_at = when;
}

static uint64_t earliest(int64_t a, int64_t b)
{
	if (!a || (b && b < a))
		return (uint64_t)b;
	return (uint64_t)a;
}

/* Move whatever can move now; called after socket and timer events. */
static void pair_run(struct proxy *px, struct pair *p)
{
	int64_t w1, w2;

	if (p->connecting && pair_check_connect(px, p) < 0)
		return;
	if (dir_fill(px, &p->c2s) < 0 ||
	    (!p->connecting && dir_fill(px, &p->s2c) < 0)) {
		if (!px->quiet)
			say("out of memory; resetting a connection");
		pair_kill(px, p, true);
		return;
	}
	if (p->connecting) {
		if (dir_can_read(&p->c2s))
			ready_add(px, p);
		return;
	}
	w1 = dir_flush(px, &p->c2s);
	w2 = w1 < 0 ? 0 : dir_flush(px, &p->s2c);
	if (w1 < 0 || w2 < 0) {
		pair_kill(px, p, true);
		return;
	}
	if (p->c2s.done && p->s2c.done) {
		pair_kill(px, p, false);
		return;
	}
	pair_arm(p, earliest(w1, w2));
	/* Stopped by the budget, or flushing made room: read on next turn. */
	if (dir_can_read(&p->c2s) || dir_can_read(&p->s2c))
		ready_add(px, p);
}

static void pair_init_dir(struct dir *d, struct side *from, struct side *to,
			  unsigned long long *delivered)
{
	d->from = from;
	d->to = to;
	d->delivered = delivered;
}

static void pair_new(struct proxy *px, int cfd)
{
	struct pair *p = calloc(1, sizeof(*p));

	if (!p) {
		say("out of memory; dropping a client");
		sock_close(cfd, true);
		return;
	}
	p->cli = (struct side){{EV_SOCK, cfd}, p, true, true};
	p->srv = (struct side){{EV_SOCK, -1}, p, false, false};
	p->timer.kind = EV_TIMER;
	p->timer.fd =
		timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	pair_init_dir(&p->c2s, &p->cli, &p->srv, &px->c2s_bytes);
	pair_init_dir(&p->s2c, &p->srv, &p->cli, &px->s2c_bytes);
	p->next = px->pairs;
	if (px->pairs)
		px->pairs->prev = p;
	px->pairs = p;
	px->nconns++;
	if (p->timer.fd < 0 || ev_add(px, &p->timer, EPOLLIN) < 0 ||
	    ev_add(px, &p->cli.ev, EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET) <
		    0) {
		say("cannot watch a new connection: %s", strerror(errno));
		pair_kill(px, p, true);
		return;
	}
	p->ai = px->target;
	if (pair_connect(px, p) == 0)
		ready_add(px, p);
}

static void on_sock(struct proxy *px, struct side *s, uint32_t events)
{
	if (s->pair->dead)
		return;
	if (events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR))
		s->rd_ready = true;
	if (events & (EPOLLOUT | EPOLLHUP | EPOLLERR))
		s->wr_ready = true;
	ready_add(px, s->pair);
}

static void on_timer(struct proxy *px, struct pair *p)
{
	uint64_t ticks;

	if (p->dead)
		return;
	if (read(p->timer.fd, &ticks, sizeof(ticks)) < 0 && errno == EAGAIN)
		return;
	p->timer_at = 0;
	ready_add(px, p);
}

static void on_accept(struct proxy *px)
{
	int fd;

	for (;;) {
		fd = accept4(px->lsn.fd, NULL, NULL,
			     SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd < 0 && (errno == EINTR || errno == ECONNABORTED))
			continue;
		if (fd < 0 && (errno == EMFILE || errno == ENFILE ||
			       errno == ENOBUFS || errno == ENOMEM)) {
			say("accept: %s; pausing", strerror(errno));
			listen_pause(px, true);
		} else if (fd < 0 && errno != EAGAIN) {
			say("accept: %s", strerror(errno));
		}
		if (fd < 0)
			return;
		px->accepted++;
		if (px->refusing) {
			sock_close(fd, true);
			continue;
		}
		set_nodelay(fd);
		pair_new(px, fd);
	}
}

/* ---- control socket ----------------------------------------------------- */

typedef void ctl_fn(struct proxy *px, const char *arg, char *out, size_t outsz);

static void cmd_cut(struct proxy *px, const char *arg, char *out, size_t outsz)
{
	unsigned long n = 0;

	(void)arg;
	while (px->pairs) {
		pair_kill(px, px->pairs, true);
		n++;
	}
	snprintf(out, outsz, "ok cut %lu", n);
}

static void run_all(struct proxy *px)
{
	struct pair *p;

	for (p = px->pairs; p; p = p->next)
		ready_add(px, p);
}

static void cmd_stall(struct proxy *px, const char *arg, char *out,
		      size_t outsz)
{
	(void)arg;
	px->stalled = true;
	snprintf(out, outsz, "ok stalled");
}

static void cmd_resume(struct proxy *px, const char *arg, char *out,
		       size_t outsz)
{
	(void)arg;
	px->stalled = false;
	run_all(px);
	snprintf(out, outsz, "ok resumed");
}

static void cmd_delay(struct proxy *px, const char *arg, char *out,
		      size_t outsz)
{
	if (parse_ms(arg, &px->delay_ns) < 0) {
		snprintf(out, outsz, "error bad delay '%s'", arg);
		return;
	}
	snprintf(out, outsz, "ok delay %s", arg);
}

static void cmd_rate(struct proxy *px, const char *arg, char *out, size_t outsz)
{
	if (parse_u64(arg, &px->rate) < 0) {
		snprintf(out, outsz, "error bad rate '%s'", arg);
		return;
	}
	run_all(px); /* re-plan sends waiting for tokens */
	snprintf(out, outsz, "ok rate %s", arg);
}

static void cmd_refuse(struct proxy *px, const char *arg, char *out,
		       size_t outsz)
{
	if (strcmp(arg, "on") != 0 && strcmp(arg, "off") != 0) {
		snprintf(out, outsz, "error want 'refuse on' or 'refuse off'");
		return;
	}
	px->refusing = strcmp(arg, "on") == 0;
	snprintf(out, outsz, "ok refuse %s", arg);
}

static void cmd_stats(struct proxy *px, const char *arg, char *out,
		      size_t outsz)
{
	(void)arg;
	snprintf(out, outsz, "ok conns=%lu accepted=%llu c2s=%llu s2c=%llu",
		 px->nconns, px->accepted, px->c2s_bytes, px->s2c_bytes);
}

static const struct {
	const char *name;
	bool has_arg;
	ctl_fn *fn;
} ctl_cmds[] = {
	{"cut", false, cmd_cut},       {"stall", false, cmd_stall},
	{"resume", false, cmd_resume}, {"delay", true, cmd_delay},
	{"rate", true, cmd_rate},      {"refuse", true, cmd_refuse},
	{"stats", false, cmd_stats},
};

static void ctl_exec(struct proxy *px, char *line, char *out, size_t outsz)
{
	char *save, *cmd, *arg, *extra;
	size_t i;

	cmd = strtok_r(line, " \t\r", &save);
	arg = cmd ? strtok_r(NULL, " \t\r", &save) : NULL;
	extra = arg ? strtok_r(NULL, " \t\r", &save) : NULL;
	if (!cmd) {
		snprintf(out, outsz, "error empty command");
		return;
	}
	for (i = 0; i < sizeof(ctl_cmds) / sizeof(ctl_cmds[0]); i++) {
		if (strcmp(cmd, ctl_cmds[i].name) != 0)
			continue;
		if (extra || !arg != !ctl_cmds[i].has_arg)
			snprintf(out, outsz, "error '%s' takes %s argument",
				 cmd, ctl_cmds[i].has_arg ? "one" : "no");
		else
			ctl_cmds[i].fn(px, arg, out, outsz);
		return;
	}
	snprintf(out, outsz, "error unknown command '%.32s'", cmd);
}

static void ctl_close(struct proxy *px, struct ctl *c)
{
	close(c->ev.fd);
	if (c->prev)
		c->prev->next = c->next;
	else
		px->ctls = c->next;
	if (c->next)
		c->next->prev = c->prev;
	free(c);
	listen_pause(px, false);
}

/* Answers are short; a client that does not read them is dropped. */
static int ctl_reply(struct ctl *c, const char *msg)
{
	char buf[CTL_LINE_MAX + 64];
	int n = snprintf(buf, sizeof(buf), "%s\n", msg);

	if (n < 0 || (size_t)n >= sizeof(buf))
		return -1;
	return send(c->ev.fd, buf, (size_t)n, MSG_NOSIGNAL) == n ? 0 : -1;
}

static void on_ctl(struct proxy *px, struct ctl *c)
{
	char out[CTL_LINE_MAX + 48], *nl;
	ssize_t n;

	n = recv(c->ev.fd, c->line + c->len, sizeof(c->line) - c->len, 0);
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n <= 0) {
		ctl_close(px, c);
		return;
	}
	c->len += (size_t)n;
	while ((nl = memchr(c->line, '\n', c->len))) {
		*nl = '\0';
		ctl_exec(px, c->line, out, sizeof(out));
		c->len -= (size_t)(nl + 1 - c->line);
		memmove(c->line, nl + 1, c->len);
		if (ctl_reply(c, out) < 0) {
			ctl_close(px, c);
			return;
		}
	}
	if (c->len == sizeof(c->line)) {
		ctl_reply(c, "error line too long");
		ctl_close(px, c);
	}
}

static void on_ctl_accept(struct proxy *px)
{
	struct ctl *c;
	int fd;

	while ((fd = accept4(px->ctl_lsn.fd, NULL, NULL,
			     SOCK_NONBLOCK | SOCK_CLOEXEC)) >= 0) {
		c = calloc(1, sizeof(*c));
		if (!c) {
			close(fd);
			continue;
		}
		c->ev = (struct ev){EV_CTL, fd};
		if (ev_add(px, &c->ev, EPOLLIN) < 0) {
			close(fd);
			free(c);
			continue;
		}
		c->next = px->ctls;
		if (px->ctls)
			px->ctls->prev = c;
		px->ctls = c;
	}
	if (errno == EMFILE || errno == ENFILE)
		say("control accept: %s", strerror(errno));
}

/* ---- set-up and main loop ----------------------------------------------- */

static int open_listener(const struct addrinfo *res)
{
	const struct addrinfo *ai;
	int fd, one = 1, err = EADDRNOTAVAIL;

	for (ai = res; ai; ai = ai->ai_next) {
		fd = socket(ai->ai_family,
			    ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC,
			    ai->ai_protocol);
		if (fd < 0) {
			err = errno;
			continue;
		}
		setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
		if (bind(fd, ai->ai_addr, ai->ai_addrlen) == 0 &&
		    listen(fd, SOMAXCONN) == 0)
			return fd;
		err = errno;
		close(fd);
	}
	errno = err;
	return -1;
}

static unsigned sock_port(int fd)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);

	if (getsockname(fd, (struct sockaddr *)&ss, &len) < 0)
		return 0;
	if (ss.ss_family == AF_INET6)
		return ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
	return ntohs(((struct sockaddr_in *)&ss)->sin_port);
}

/* Readers must never see a half-written file: write, then rename. */
static int write_port_file(const char *path, unsigned port)
{
	char tmp[PATH_MAX];
	FILE *f;
	int n, err;

	n = snprintf(tmp, sizeof(tmp), "%s.tmp.%ld", path, (long)getpid());
	if (n < 0 || (size_t)n >= sizeof(tmp)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	f = fopen(tmp, "w");
	if (!f)
		return -1;
	fprintf(f, "%u\n", port);
	if (fclose(f) == 0 && rename(tmp, path) == 0)
		return 0;
	err = errno;
	unlink(tmp);
	errno = err;
	return -1;
}

static int open_ctl(const char *path)
{
	struct sockaddr_un sun = {.sun_family = AF_UNIX};
	size_t len = strlen(path);
	struct stat st;
	int fd;

	if (len >= sizeof(sun.sun_path)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	memcpy(sun.sun_path, path, len + 1);
	if (lstat(path, &st) == 0 && S_ISSOCK(st.st_mode))
		unlink(path); /* stale, from an earlier run */
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	if (bind(fd, (struct sockaddr *)&sun, sizeof(sun)) == 0 &&
	    listen(fd, CTL_BACKLOG) == 0)
		return fd;
	len = (size_t)errno;
	close(fd);
	errno = (int)len;
	return -1;
}

static void setup_signals(struct proxy *px)
{
	sigset_t set;

	signal(SIGPIPE, SIG_IGN);
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigprocmask(SIG_BLOCK, &set, NULL);
	px->sig = (struct ev){EV_SIGNAL,
			      signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC)};
	if (px->sig.fd < 0 || ev_add(px, &px->sig, EPOLLIN) < 0)
		die(1, "signalfd: %s", strerror(errno));
}

static void setup(struct proxy *px, const struct opts *o)
{
	struct addrinfo *lres = resolve(o->listen, true);
	struct rlimit rl;
	unsigned port;

	px->target = resolve(o->target, false);
	px->target_spec = o->target;
	px->delay_ns = o->delay_ns;
	px->rate = o->rate;
	px->quiet = o->quiet;
	/* Many pairs need many fds (three each); timers need little slack. */
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
	prctl(PR_SET_TIMERSLACK, 1UL, 0UL, 0UL, 0UL);
	/* Keep freed chunks in the heap: fresh pages from the kernel must be
	 * zeroed, which cost a fifth of the CPU time in a bulk transfer. */
	mallopt(M_MMAP_THRESHOLD, 4 * CHUNK_MAX);
	mallopt(M_TRIM_THRESHOLD, 2 * QUEUE_CAP);
	px->ep = epoll_create1(EPOLL_CLOEXEC);
	if (px->ep < 0)
		die(1, "epoll_create1: %s", strerror(errno));
	setup_signals(px);
	px->lsn = (struct ev){EV_LISTEN, open_listener(lres)};
	if (px->lsn.fd < 0)
		die(1, "cannot listen on %s: %s", o->listen, strerror(errno));
	freeaddrinfo(lres);
	if (ev_add(px, &px->lsn, EPOLLIN) < 0)
		die(1, "epoll_ctl: %s", strerror(errno));
	if (o->ctl_path) {
		px->ctl_lsn = (struct ev){EV_CTL_LISTEN, open_ctl(o->ctl_path)};
		if (px->ctl_lsn.fd < 0)
			die(1, "cannot listen on control socket %s: %s",
			    o->ctl_path, strerror(errno));
		px->ctl_path = o->ctl_path;
		if (ev_add(px, &px->ctl_lsn, EPOLLIN) < 0)
			die(1, "epoll_ctl: %s", strerror(errno));
	}
	port = sock_port(px->lsn.fd);
	if (o->port_file && write_port_file(o->port_file, port) < 0)
		die(1, "cannot write %s: %s", o->port_file, strerror(errno));
	if (!o->port_file) {
		printf("port %u\n", port);
		fflush(stdout);
	}
}

static void on_signal(struct proxy *px)
{
	struct signalfd_siginfo si;

	if (read(px->sig.fd, &si, sizeof(si)) == sizeof(si))
		px->quit = true;
}

static void dispatch(struct proxy *px, const struct epoll_event *e)
{
	struct ev *ev = e->data.ptr;

	switch (ev->kind) {
	case EV_LISTEN:
		on_accept(px);
		break;
	case EV_SIGNAL:
		on_signal(px);
		break;
	case EV_CTL_LISTEN:
		on_ctl_accept(px);
		break;
	case EV_CTL:
		on_ctl(px, container_of(ev, struct ctl, ev));
		break;
	case EV_SOCK:
		on_sock(px, container_of(ev, struct side, ev), e->events);
		break;
	case EV_TIMER:
		on_timer(px, container_of(ev, struct pair, timer));
		break;
	}
}

static void run_ready(struct proxy *px)
{
	struct pair *p = px->ready, *next;

	px->ready = NULL;
	for (; p; p = next) {
		next = p->ready_next;
		p->on_ready = false;
		if (!p->dead)
			pair_run(px, p);
	}
}

static void cleanup(struct proxy *px)
{
	while (px->pairs)
		pair_kill(px, px->pairs, false);
	reap(px);
	while (px->ctls)
		ctl_close(px, px->ctls);
	if (px->ctl_path) {
		close(px->ctl_lsn.fd);
		unlink(px->ctl_path);
	}
	close(px->lsn.fd);
	close(px->sig.fd);
	close(px->ep);
	freeaddrinfo(px->target);
	free(px->spare);
}

int main(int argc, char **argv)
{
	struct epoll_event evs[MAX_EVENTS];
	struct proxy px = {.ep = -1};
	struct opts o;
	int i, n;

	parse_args(argc, argv, &o);
	setup(&px, &o);
	while (!px.quit) {
		/* Pairs left on the ready list still have work: don't block. */
		n = epoll_wait(px.ep, evs, MAX_EVENTS, px.ready ? 0 : -1);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			die(1, "epoll_wait: %s", strerror(errno));
		for (i = 0; i < n; i++)
			dispatch(&px, &evs[i]);
		run_ready(&px);
		reap(&px);
	}
	cleanup(&px);
	return 0;
}
