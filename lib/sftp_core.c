/*
 * sftp_core.c - the asynchronous SFTP request core (see sftp_core.h).
 */
#include "sftp_core.h"

#include <string.h>

#include "channel.h"
#include "session.h"
#include "sftp_proto.h"
#include "trace.h"

#define SLOTS_MIN 64
/* Move unsent requests to the front once this much was sent. */
#define SFTP_OUT_COMPACT (1u << 20)

static struct sftp_slot *slot_of(struct sftp_core *c, uint32_t id)
{
	return &c->slots[id & (c->nslots - 1)];
}

/* Requests are numbered in sequence, so a direct-mapped table indexed by
 * the low bits of the id works; it doubles when a new id would land on a
 * slot still in use (the in-flight ids span more than the table). */
static int slots_grow(struct sftp_core *c)
{
	size_t ncap = c->nslots ? c->nslots * 2 : SLOTS_MIN, i;
	struct sftp_slot *ns, *old = c->slots;

	for (;;) {
		int clash = 0;

		ns = la_calloc(&c->s->a, ncap * sizeof(*ns));
		if (!ns)
			return LIBSSH2_ERROR_ALLOC;
		for (i = 0; i < c->nslots && !clash; i++) {
			struct sftp_slot *d;

			if (!old[i].used)
				continue;
			d = &ns[old[i].id & (ncap - 1)];
			if (d->used)
				clash = 1;
			else
				*d = old[i];
		}
		if (!clash)
			break;
		la_free(&c->s->a, ns);
		ncap *= 2;
	}
	la_free(&c->s->a, old);
	c->slots = ns;
	c->nslots = ncap;
	return 0;
}

int sftp_core_init(struct sftp_core *c, LIBSSH2_SESSION *s, LIBSSH2_CHANNEL *ch)
{
	memset(c, 0, sizeof(*c));
	c->s = s;
	c->ch = ch;
	wb_init(&c->out, &s->a, 256u * 1024 * 1024);
	c->next_id = 1;
	c->max_read = SFTP_IO_DEFAULT;
	c->max_write = SFTP_IO_DEFAULT;
	return slots_grow(c);
}

static void fail_all(struct sftp_core *c, int err)
{
	size_t i;

	if (!c->dead)
		c->dead = err;
	for (i = 0; i < c->nslots; i++) {
		struct sftp_slot *sl = &c->slots[i];

		if (!sl->used)
			continue;
		sl->used = 0;
		c->inflight--;
		sl->fn(sl->arg, err, NULL, 0);
	}
}

int64_t sftp_core_idle_ms(const struct sftp_core *c)
{
	return sess_now_ms() - c->s->last_recv_ms;
}

void sftp_core_abort(struct sftp_core *c, int err)
{
	fail_all(c, err);
}

void sftp_core_free(struct sftp_core *c, int err)
{
	if (c->slots)
		fail_all(c, err);
	la_free(&c->s->a, c->slots);
	wb_free(&c->out);
	c->slots = NULL;
}

int sftp_core_track(struct sftp_core *c, size_t mark, sftp_done_fn fn,
		    void *arg)
{
	uint32_t id = c->next_id;
	struct sftp_slot *sl;

	if (c->dead || wb_ok(&c->out)) {
		c->out.len = mark;
		c->out.err = 0;
		return c->dead ? c->dead : LIBSSH2_ERROR_ALLOC;
	}
	sl = slot_of(c, id);
	if (sl->used && slots_grow(c)) {
		c->out.len = mark;
		return LIBSSH2_ERROR_ALLOC;
	}
	sl = slot_of(c, id);
	sl->id = id;
	sl->used = 1;
	sl->fn = fn;
	sl->arg = arg;
	c->inflight++;
	TRACE(c->s, LIBSSH2_TRACE_SFTP, "request %u, type %u, %zu bytes", id,
	      c->out.len - mark > 4 ? c->out.p[mark + 4] : 0,
	      c->out.len - mark);
	/* 0 is never used: it would look like an unset id */
	c->next_id = id + 1 ? id + 1 : 1;
	return 0;
}

/* Give queued requests to the channel, as far as its window allows. */
static int push(struct sftp_core *c)
{
	while (c->out_sent < c->out.len) {
		long n = chan_send(c->ch, c->out.p + c->out_sent,
				   c->out.len - c->out_sent);

		if (n < 0)
			return (int)n;
		if (n == 0)
			break;
		c->out_sent += (size_t)n;
	}
	if (c->out_sent == c->out.len) {
		c->out_sent = 0;
		wb_reset(&c->out);
	} else if (c->out_sent >= SFTP_OUT_COMPACT &&
		   c->out_sent >= c->out.len / 2) {
		/* A long stream of writes never empties the buffer: give
		 * back what was sent, or it grows to its cap. */
		memmove(c->out.p, c->out.p + c->out_sent,
			c->out.len - c->out_sent);
		c->out.len -= c->out_sent;
		c->out_sent = 0;
	}
	return 0;
}

static int deliver(struct sftp_core *c, const uint8_t *body, size_t n)
{
	struct sftp_slot *sl;
	uint8_t type;
	uint32_t id;

	if (sftp_msg_head(body, n, &type, &id))
		return sess_err(c->s, LIBSSH2_ERROR_SFTP_PROTOCOL,
				"malformed SFTP reply");
	if (type == SSH_FXP_VERSION) {
		if (c->version)
			return sess_err(c->s, LIBSSH2_ERROR_SFTP_PROTOCOL,
					"a second SFTP VERSION");
		/* the hello waits in slot 0 */
		id = 0;
	}
	sl = slot_of(c, id);
	if (!sl->used || sl->id != id)
		return sess_err(c->s, LIBSSH2_ERROR_SFTP_PROTOCOL,
				"SFTP reply for unknown request %u", id);
	sl->used = 0;
	c->inflight--;
	TRACE(c->s, LIBSSH2_TRACE_SFTP, "reply to %u, type %u, %zu bytes", id,
	      type, n);
	sl->fn(sl->arg, 0, body, n);
	return 0;
}

/* Complete every whole SFTP packet waiting in the channel.  Returns the
 * number completed or an error. */
static int drain(struct sftp_core *c)
{
	int done = 0, rc;

	for (;;) {
		const uint8_t *p;
		size_t avail = chan_avail(c->ch, &p), len;

		if (avail == 0)
			return done;
		rc = sftp_frame(p, avail, &len);
		if (rc == LIBSSH2_ERROR_EAGAIN)
			return done;
		if (rc)
			return sess_err(c->s, LIBSSH2_ERROR_SFTP_PROTOCOL,
					"bad SFTP packet length");
		if ((rc = deliver(c, p + 4, len - 4)))
			return rc;
		if ((rc = chan_consume(c->ch, len)))
			return rc;
		done++;
	}
}

int sftp_core_ready(const struct sftp_core *c)
{
	const uint8_t *p;
	size_t avail, len;

	if (c->dead)
		return 0;
	if (c->out_sent < c->out.len && c->ch->remote_window > 0)
		return 1;
	avail = chan_avail(c->ch, &p);
	return avail > 0 && sftp_frame(p, avail, &len) != LIBSSH2_ERROR_EAGAIN;
}

int sftp_core_run(struct sftp_core *c)
{
	int rc, done = 0;

	if (c->dead)
		return c->dead;
	/* a step of its own: the directions it blocks on are this run's
	 * (a caller polling on stale ones would spin) */
	c->s->block_dirs = 0;
	for (;;) {
		if ((rc = push(c)))
			goto fatal;
		rc = sess_flush(c->s);
		if (rc && rc != LIBSSH2_ERROR_EAGAIN)
			goto fatal;
		if ((rc = drain(c)) < 0)
			goto fatal;
		done += rc;
		if (done || (c->inflight == 0 && c->out.len == 0))
			return 0;
		if (c->ch->close_recv || c->ch->eof_recv) {
			rc = sess_err(c->s, LIBSSH2_ERROR_CHANNEL_CLOSED,
				      "the SFTP channel was closed");
			goto fatal;
		}
		rc = sess_pump(c->s);
		if (rc == LIBSSH2_ERROR_EAGAIN)
			return rc;
		if (rc)
			goto fatal;
	}
fatal:
	if (rc == LIBSSH2_ERROR_EAGAIN)
		return rc;
	fail_all(c, rc);
	return rc;
}

int sftp_core_poll(struct sftp_core *c)
{
	int rc;

	if (c->dead)
		return c->dead;
	for (;;) {
		if (c->ch->close_recv || c->ch->eof_recv) {
			rc = sess_err(c->s, LIBSSH2_ERROR_CHANNEL_CLOSED,
				      "the SFTP channel was closed");
			break;
		}
		rc = sess_pump(c->s);
		if (rc == LIBSSH2_ERROR_EAGAIN)
			return 0;
		if (rc)
			break;
		if ((rc = drain(c)) < 0)
			break;
	}
	fail_all(c, rc);
	return rc;
}

/* ---- SSH_FXP_INIT / VERSION (filexfer-02 section 4) --------------------- */

static const struct {
	const char *name;
	unsigned bit;
} known_ext[] = {
	{ SFTP_EXT_POSIX_RENAME, SFTP_HAS_POSIX_RENAME },
	{ SFTP_EXT_STATVFS, SFTP_HAS_STATVFS },
	{ SFTP_EXT_FSTATVFS, SFTP_HAS_FSTATVFS },
	{ SFTP_EXT_HARDLINK, SFTP_HAS_HARDLINK },
	{ SFTP_EXT_FSYNC, SFTP_HAS_FSYNC },
	{ SFTP_EXT_LSETSTAT, SFTP_HAS_LSETSTAT },
	{ SFTP_EXT_LIMITS, SFTP_HAS_LIMITS },
	{ SFTP_EXT_EXPAND_PATH, SFTP_HAS_EXPAND_PATH },
	{ SFTP_EXT_COPY_DATA, SFTP_HAS_COPY_DATA },
	{ SFTP_EXT_HOME_DIRECTORY, SFTP_HAS_HOME_DIR },
	{ SFTP_EXT_USERS_GROUPS, SFTP_HAS_USERS_GROUPS },
};

int sftp_core_symlink_draft(const char *server_banner,
			    const char *client_banner)
{
	static const char asyncssh[] = "SSH-2.0-AsyncSSH_";

	if (!server_banner ||
	    strncmp(server_banner, asyncssh, sizeof(asyncssh) - 1))
		return 0;
	return !client_banner || (!strstr(client_banner, "OpenSSH") &&
				  !strstr(client_banner, "paramiko"));
}

static void on_version(void *arg, int err, const uint8_t *body, size_t n)
{
	struct sftp_core *c = arg;
	struct sftp_version v;
	struct sftp_ext e;
	size_t i;

	c->hello_wait = 0;
	if (err) {
		c->hello_err = err;
		return;
	}
	v = sftp_dec_version(body, n);
	if (v.rc || v.version != SFTP_PROTO_VERSION) {
		c->hello_err = LIBSSH2_ERROR_SFTP_PROTOCOL;
		return;
	}
	c->version = v.version;
	c->symlink_draft = sftp_core_symlink_draft(
		c->s->remote_banner, c->s->local_banner
					     ? c->s->local_banner
					     : LIBSSH2_SSH_DEFAULT_BANNER);
	for (i = 0; i < sizeof(known_ext) / sizeof(known_ext[0]); i++)
		if (!sftp_version_find(&v, known_ext[i].name, &e))
			c->ext |= known_ext[i].bit;
}

static uint32_t clamp_io(uint64_t v, uint32_t dflt)
{
	if (v < 1024)
		return dflt; /* 0: "no limit stated"; tiny: not believable */
	return (uint32_t)(v < SFTP_DATA_MAX ? v : SFTP_DATA_MAX);
}

static void on_limits(void *arg, int err, const uint8_t *body, size_t n)
{
	struct sftp_core *c = arg;
	struct sftp_limits l;

	c->hello_wait = 0;
	if (err)
		return;
	l = sftp_dec_limits(body, n);
	if (l.rc)
		return; /* keep the defaults */
	c->max_read = clamp_io(l.max_read_len, c->max_read);
	c->max_write = clamp_io(l.max_write_len, c->max_write);
}

/* Stages: 0 send INIT, 1 wait VERSION, 2 wait limits, 3 done.  The state
 * lives in the core, so a non-blocking caller can come back. */
int sftp_core_hello(struct sftp_core *c)
{
	size_t mark;
	int rc;

	for (;;) {
		switch (c->hello_stage) {
		case 0:
			mark = c->out.len;
			if (sftp_enc_init(&c->out))
				return LIBSSH2_ERROR_ALLOC;
			/* INIT has no id; VERSION is routed to id 0 */
			c->next_id = 0;
			if ((rc = sftp_core_track(c, mark, on_version, c)))
				return rc;
			c->hello_wait = 1;
			c->hello_stage = 1;
			break;
		case 1:
		case 2:
			while (c->hello_wait)
				if ((rc = sftp_core_run(c)))
					return rc;
			if (c->hello_err)
				return sess_err(c->s, c->hello_err,
						"the SFTP server's VERSION is "
						"not usable");
			if (c->hello_stage == 2 ||
			    !(c->ext & SFTP_HAS_LIMITS)) {
				c->hello_stage = 3;
				break;
			}
			mark = c->out.len;
			if (sftp_enc_limits(&c->out, sftp_core_id(c)))
				return LIBSSH2_ERROR_ALLOC;
			if ((rc = sftp_core_track(c, mark, on_limits, c)))
				return rc;
			c->hello_wait = 1;
			c->hello_stage = 2;
			break;
		default:
			return 0;
		}
	}
}
