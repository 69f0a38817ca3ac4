/*
 * sftp_io.c - pipelined reads and writes and directory listing of SFTP
 * handles: libssh2_sftp_read, libssh2_sftp_write, libssh2_sftp_readdir_ex.
 */
#include <string.h>

#include "session.h"
#include "sftp.h"

/* ---- reads ----------------------------------------------------------------- */

static void rchunk_done(void *arg, int err, const uint8_t *body, size_t n)
{
	struct rchunk *c = arg;
	struct sftp_data d;
	struct sftp_status st;

	if (!c->h) { /* dropped by a seek or close: nobody wants it */
		la_free(&lalloc_system, c->data);
		la_free(&lalloc_system, c);
		return;
	}
	if (err) {
		c->state = CHUNK_ERROR;
		c->status = SSH_FX_CONNECTION_LOST;
		return;
	}
	if (body[0] == SSH_FXP_DATA) {
		d = sftp_dec_data(body, n);
		/* more data than asked for is a protocol error */
		if (d.rc || d.len > c->len) {
			c->state = CHUNK_ERROR;
			c->status = SSH_FX_BAD_MESSAGE;
			return;
		}
		memcpy(c->data, d.data, d.len);
		c->got = (uint32_t)d.len;
		c->state = CHUNK_DATA;
		return;
	}
	st = sftp_dec_status(body, n);
	if (body[0] != SSH_FXP_STATUS || st.rc) {
		c->state = CHUNK_ERROR;
		c->status = SSH_FX_BAD_MESSAGE;
		return;
	}
	c->status = st.code;
	c->state = st.code == SSH_FX_EOF ? CHUNK_EOF : CHUNK_ERROR;
}

/* Chunks use the system allocator: a dropped chunk is freed by the
 * callback, possibly after the handle (and its session pointer) went. */
static int issue_read(LIBSSH2_SFTP_HANDLE *h, struct rchunk *c)
{
	struct sftp_core *core = &h->sf->core;
	size_t mark = sftp_core_out(core)->len;
	int rc;

	c->state = CHUNK_PENDING;
	c->got = c->pos = 0;
	if (sftp_enc_read(sftp_core_out(core), sftp_core_id(core), h->h,
			  h->hlen, c->off, c->len))
		return LIBSSH2_ERROR_ALLOC;
	if ((rc = sftp_core_track(core, mark, rchunk_done, c)))
		return rc;
	return 0;
}

static int read_fill(LIBSSH2_SFTP_HANDLE *h)
{
	uint32_t max = h->sf->core.max_read;

	if (!h->rq_head) {
		h->rq_next = h->offset;
		h->rq_stop = 0;
	}
	while (h->rq_bytes < h->ra_window && !h->rq_stop) {
		struct rchunk *c = la_calloc(&lalloc_system, sizeof(*c));
		int rc;

		if (!c)
			return LIBSSH2_ERROR_ALLOC;
		c->data = la_alloc(&lalloc_system, max);
		if (!c->data) {
			la_free(&lalloc_system, c);
			return LIBSSH2_ERROR_ALLOC;
		}
		c->h = h;
		c->off = h->rq_next;
		c->len = max;
		if ((rc = issue_read(h, c))) {
			la_free(&lalloc_system, c->data);
			la_free(&lalloc_system, c);
			return rc;
		}
		if (h->rq_tail)
			h->rq_tail->next = c;
		else
			h->rq_head = c;
		h->rq_tail = c;
		h->rq_bytes += max;
		h->rq_next += max;
	}
	return 0;
}

static void rq_pop(LIBSSH2_SFTP_HANDLE *h)
{
	struct rchunk *c = h->rq_head;

	h->rq_head = c->next;
	if (!h->rq_head)
		h->rq_tail = NULL;
	h->rq_bytes -= c->len;
	if (c->state == CHUNK_PENDING) {
		c->h = NULL; /* the reply will free it */
		c->next = NULL;
		return;
	}
	la_free(&lalloc_system, c->data);
	la_free(&lalloc_system, c);
}

void sftp_reads_drop(LIBSSH2_SFTP_HANDLE *h)
{
	while (h->rq_head)
		rq_pop(h);
	h->rq_stop = 0;
}

struct read_args {
	char *buf;
	size_t len;
	size_t got;
};

static int read_step(LIBSSH2_SFTP_HANDLE *h, struct read_args *a)
{
	LIBSSH2_SFTP *sf = h->sf;
	struct rchunk *c;
	int rc, waited = 0;

	if (h->rq_head && h->rq_head->off + h->rq_head->pos != h->offset)
		sftp_reads_drop(h);
	/* a caller that asks for this much at once will read at least as
	 * far: ask for it all now */
	if (a->len > h->ra_window)
		h->ra_window = a->len < SFTP_READAHEAD_MAX ? a->len
							    : SFTP_READAHEAD_MAX;
	if ((rc = read_fill(h)))
		return sess_err(sf->s, rc, "unable to queue reads");
	c = h->rq_head;
	if (!c) /* rq_stop with nothing queued: the last read saw EOF */
		return 0;
	while (c->state == CHUNK_PENDING) {
		waited = 1;
		if ((rc = sftp_core_run(&sf->core)))
			return rc;
	}
	/* The reader waited for the network: the window is too small for
	 * the bandwidth-delay product. */
	if (waited && h->ra_window < SFTP_READAHEAD_MAX)
		h->ra_window = h->ra_window < SFTP_READAHEAD_MAX / 4
				       ? h->ra_window * 4
				       : SFTP_READAHEAD_MAX;
	if (c->state == CHUNK_EOF) {
		/* the end is no error: the status stays OK (libssh2) */
		sftp_reads_drop(h);
		h->rq_stop = 1;
		return 0;
	}
	if (c->state == CHUNK_ERROR) {
		uint32_t st = c->status;

		sftp_reads_drop(h);
		sf->last_status = st;
		return sess_err(sf->s, LIBSSH2_ERROR_SFTP_PROTOCOL,
				"SFTP read failed: %s", sftp_status_str(st));
	}
	sf->last_status = SSH_FX_OK;
	a->got = c->got - c->pos;
	if (a->got > a->len)
		a->got = a->len;
	memcpy(a->buf, c->data + c->pos, a->got);
	c->pos += (uint32_t)a->got;
	h->offset += a->got;
	if (c->pos == c->got) {
		if (c->got < c->len && c->got > 0) {
			/* A short reply is not EOF: ask for the rest of this
			 * range (filexfer-02 6.4 lets servers return less). */
			c->off += c->got;
			c->len -= c->got;
			h->rq_bytes -= c->got;
			h->rq_stop = 1; /* later chunks may be past EOF */
			if ((rc = issue_read(h, c)))
				return sess_err(sf->s, rc,
						"unable to queue a read");
		} else {
			rq_pop(h);
		}
	}
	return 0;
}

LIBSSH2_API ssize_t libssh2_sftp_read(LIBSSH2_SFTP_HANDLE *h, char *buffer,
				      size_t buffer_maxlen)
{
	struct read_args a = { buffer, buffer_maxlen, 0 };
	int rc;

	if (!h || h->dir)
		return LIBSSH2_ERROR_BAD_USE;
	h->sf->last_status = SSH_FX_OK;
	if (buffer_maxlen == 0)
		return 0;
	rc = SESS_BLOCK(h->sf->s, read_step(h, &a));
	return rc ? rc : (ssize_t)a.got;
}

/* ---- writes ---------------------------------------------------------------- */

static void wchunk_done(void *arg, int err, const uint8_t *body, size_t n)
{
	struct wchunk *c = arg;
	struct sftp_status st;

	if (!c->h) {
		la_free(&lalloc_system, c);
		return;
	}
	if (err) {
		c->state = CHUNK_ERROR;
		c->status = SSH_FX_CONNECTION_LOST;
		return;
	}
	st = sftp_dec_status(body, n);
	if (body[0] != SSH_FXP_STATUS || st.rc) {
		c->state = CHUNK_ERROR;
		c->status = SSH_FX_BAD_MESSAGE;
		return;
	}
	c->status = st.code;
	c->state = st.code == SSH_FX_OK ? CHUNK_DATA : CHUNK_ERROR;
}

static int wq_push(LIBSSH2_SFTP_HANDLE *h, uint64_t off, const char *p,
		   uint32_t len)
{
	struct sftp_core *core = &h->sf->core;
	size_t mark = sftp_core_out(core)->len;
	struct wchunk *c = la_calloc(&lalloc_system, sizeof(*c));
	int rc;

	if (!c)
		return LIBSSH2_ERROR_ALLOC;
	c->h = h;
	c->len = len;
	if (sftp_enc_write(sftp_core_out(core), sftp_core_id(core), h->h,
			   h->hlen, off, p, len)) {
		la_free(&lalloc_system, c);
		sftp_core_out(core)->len = mark;
		sftp_core_out(core)->err = 0;
		return LIBSSH2_ERROR_ALLOC;
	}
	if ((rc = sftp_core_track(core, mark, wchunk_done, c))) {
		la_free(&lalloc_system, c);
		return rc;
	}
	if (h->wq_tail)
		h->wq_tail->next = c;
	else
		h->wq_head = c;
	h->wq_tail = c;
	return 0;
}

/* Take the acknowledged writes at the head: bytes acked, or an error
 * (the first failure; the rest is then dropped). */
static long wq_collect(LIBSSH2_SFTP_HANDLE *h)
{
	LIBSSH2_SFTP *sf = h->sf;
	long acked = 0;

	while (h->wq_head && h->wq_head->state != CHUNK_PENDING) {
		struct wchunk *c = h->wq_head;

		if (c->state == CHUNK_ERROR) {
			uint32_t st = c->status;

			/* forget the rest: they were sent after a failure */
			while (h->wq_head) {
				c = h->wq_head;
				h->wq_head = c->next;
				if (c->state == CHUNK_PENDING) {
					c->h = NULL;
					c->next = NULL;
				} else {
					la_free(&lalloc_system, c);
				}
			}
			h->wq_tail = NULL;
			h->w_sent = 0;
			/* the caller sends again from what it was told */
			h->offset -= h->w_owed;
			h->w_owed = 0;
			sf->last_status = st;
			return sess_err(sf->s, LIBSSH2_ERROR_SFTP_PROTOCOL,
					"SFTP write failed: %s",
					sftp_status_str(st));
		}
		acked += c->len;
		h->wq_head = c->next;
		if (!h->wq_head)
			h->wq_tail = NULL;
		la_free(&lalloc_system, c);
	}
	h->offset += (uint64_t)acked;
	h->w_sent -= (size_t)acked;
	return acked;
}

struct write_args {
	const char *buf;
	size_t count;
	long acked;
};

static int write_step(LIBSSH2_SFTP_HANDLE *h, struct write_args *a)
{
	LIBSSH2_SFTP *sf = h->sf;
	uint32_t max = sf->core.max_write;
	size_t out = h->w_owed + h->w_sent, total;
	long acked;
	int rc;

	/* Send what of this buffer is not out yet (seeds/003: the caller
	 * passes the same bytes again after a short return; its first
	 * w_owed bytes are written already, the next w_sent on their way) */
	while (out < a->count && h->w_sent < SFTP_WRITEAHEAD_MAX) {
		size_t chunk = a->count - out;

		if (chunk > max)
			chunk = max;
		if ((rc = wq_push(h, h->offset + h->w_sent, a->buf + out,
				  (uint32_t)chunk)))
			return sess_err(sf->s, rc, "unable to queue writes");
		h->w_sent += chunk;
		out += chunk;
	}
	for (;;) {
		acked = wq_collect(h);
		if (acked < 0)
			return (int)acked;
		if (acked > 0 || h->w_owed || !h->wq_head) {
			/* never more than this call's count (a caller that
			 * passes fewer bytes than are in flight): the rest
			 * is returned by the next calls, as libssh2 does */
			total = h->w_owed + (size_t)acked;
			a->acked = (long)(total < a->count ? total : a->count);
			h->w_owed = total - (size_t)a->acked;
			sf->last_status = SSH_FX_OK;
			return 0;
		}
		if ((rc = sftp_core_run(&sf->core)))
			return rc;
	}
}

LIBSSH2_API ssize_t libssh2_sftp_write(LIBSSH2_SFTP_HANDLE *h,
				       const char *buffer, size_t count)
{
	struct write_args a = { buffer, count, 0 };
	int rc;

	if (!h || h->dir)
		return LIBSSH2_ERROR_BAD_USE;
	h->sf->last_status = SSH_FX_OK;
	if (count == 0 && !h->wq_head)
		return 0;
	rc = SESS_BLOCK(h->sf->s, write_step(h, &a));
	return rc ? rc : a.acked;
}

/* Wait until every write of h is answered; 0 or the first failure. */
static int settle_step(LIBSSH2_SFTP_HANDLE *h)
{
	long r;
	int rc;

	for (;;) {
		r = wq_collect(h);
		if (r < 0)
			return (int)r;
		if (!h->wq_head)
			return 0;
		if ((rc = sftp_core_run(&h->sf->core)))
			return rc;
	}
}

int sftp_writes_settle(LIBSSH2_SFTP_HANDLE *h)
{
	return SESS_BLOCK(h->sf->s, settle_step(h));
}

/* ---- directories ------------------------------------------------------------- */

/* The READDIR in flight; outlives a handle released meanwhile. */
struct dticket {
	LIBSSH2_SFTP_HANDLE *h;
};

static void names_done(void *arg, int err, const uint8_t *body, size_t n)
{
	struct dticket *t = arg;
	LIBSSH2_SFTP_HANDLE *h = t->h;

	la_free(&lalloc_system, t);
	if (!h)
		return;
	h->dticket = NULL;
	h->readdir_pending = 2;
	h->readdir_err = err;
	if (err)
		return;
	h->names = la_alloc(&h->sf->s->a, n);
	if (!h->names) {
		h->readdir_err = LIBSSH2_ERROR_ALLOC;
		return;
	}
	memcpy(h->names, body, n);
	h->names_len = n;
}

struct readdir_args {
	char *buf, *longentry;
	size_t len, longlen;
	LIBSSH2_SFTP_ATTRIBUTES *attrs;
	int rc;
};

static int readdir_step(LIBSSH2_SFTP_HANDLE *h, struct readdir_args *a)
{
	LIBSSH2_SFTP *sf = h->sf;
	struct sftp_name_entry e;
	struct sftp_names nm;
	int rc;

	for (;;) {
		if (h->names && h->it.left > 0) {
			struct sftp_name_iter save = h->it;

			rc = sftp_names_next(&h->it, &e);
			if (rc <= 0)
				return sess_err(sf->s,
						LIBSSH2_ERROR_SFTP_PROTOCOL,
						"malformed directory entry");
			/* An empty name cannot be returned (0 is the end of
			 * the listing, and would hide the names after it);
			 * no file system has one. */
			if (e.filename_len == 0)
				continue;
			if (e.filename_len >= a->len ||
			    (a->longentry && e.longname_len >= a->longlen)) {
				h->it = save; /* kept for a bigger buffer */
				return sess_err(sf->s,
						LIBSSH2_ERROR_BUFFER_TOO_SMALL,
						"the entry does not fit");
			}
			memcpy(a->buf, e.filename, e.filename_len);
			a->buf[e.filename_len] = '\0';
			if (a->longentry) {
				memcpy(a->longentry, e.longname,
				       e.longname_len);
				a->longentry[e.longname_len] = '\0';
			}
			if (a->attrs)
				sftp_attrs_to_lib(&e.attrs, a->attrs);
			a->rc = (int)e.filename_len;
			sf->last_status = SSH_FX_OK;
			return 0;
		}
		la_free(&sf->s->a, h->names);
		h->names = NULL;
		if (h->dir_eof) {
			a->rc = 0;
			return 0;
		}
		if (!h->readdir_pending) {
			size_t mark = sftp_core_out(&sf->core)->len;
			struct dticket *t = la_alloc(&lalloc_system,
						     sizeof(*t));

			if (!t || sftp_enc_readdir(sftp_core_out(&sf->core),
						   sftp_core_id(&sf->core),
						   h->h, h->hlen)) {
				la_free(&lalloc_system, t);
				return sess_err(sf->s, LIBSSH2_ERROR_ALLOC,
						"out of memory");
			}
			t->h = h;
			if ((rc = sftp_core_track(&sf->core, mark, names_done,
						  t))) {
				la_free(&lalloc_system, t);
				return sess_err(sf->s, rc, "out of memory");
			}
			h->dticket = t;
			h->readdir_pending = 1;
		}
		while (h->readdir_pending == 1)
			if ((rc = sftp_core_run(&sf->core)))
				return rc;
		h->readdir_pending = 0;
		if (!h->names)
			return sess_err(sf->s, h->readdir_err,
					"the SFTP channel failed");
		if (h->names[0] == SSH_FXP_STATUS) {
			struct sftp_status st =
				sftp_dec_status(h->names, h->names_len);

			if (!st.rc && st.code == SSH_FX_EOF) {
				/* the end of the listing is no error (the
				 * status stays OK, as in libssh2) */
				h->dir_eof = 1;
				continue;
			}
			rc = sftp_status_rc(sf, h->names, h->names_len);
			return rc ? rc
				  : sess_err(sf->s, LIBSSH2_ERROR_SFTP_PROTOCOL,
					     "READDIR answered OK");
		}
		nm = sftp_dec_names(h->names, h->names_len);
		if (h->names[0] != SSH_FXP_NAME || nm.rc)
			return sess_err(sf->s, LIBSSH2_ERROR_SFTP_PROTOCOL,
					"malformed READDIR reply");
		sftp_names_iter_init(&h->it, &nm);
	}
}

LIBSSH2_API int libssh2_sftp_readdir_ex(LIBSSH2_SFTP_HANDLE *h, char *buffer,
					size_t buffer_maxlen, char *longentry,
					size_t longentry_maxlen,
					LIBSSH2_SFTP_ATTRIBUTES *attrs)
{
	struct readdir_args a = { buffer, longentry, buffer_maxlen,
				  longentry_maxlen, attrs, 0 };
	int rc;

	if (!h || !h->dir || !buffer)
		return LIBSSH2_ERROR_BAD_USE;
	/* libssh2 fills longentry only when it has room for more than the
	 * NUL: a smaller one is no request for it */
	if (longentry_maxlen <= 1)
		a.longentry = NULL;
	h->sf->last_status = SSH_FX_OK;
	rc = SESS_BLOCK(h->sf->s, readdir_step(h, &a));
	return rc ? rc : a.rc;
}

void sftp_writes_detach(LIBSSH2_SFTP_HANDLE *h)
{
	while (h->wq_head) {
		struct wchunk *c = h->wq_head;

		h->wq_head = c->next;
		if (c->state == CHUNK_PENDING) {
			c->h = NULL; /* freed by its reply */
			c->next = NULL;
		} else {
			la_free(&lalloc_system, c);
		}
	}
	h->wq_tail = NULL;
	h->w_sent = 0;
	h->w_owed = 0;
}

/* ---- handle release -------------------------------------------------------- */

void sftp_handle_release(LIBSSH2_SFTP_HANDLE *h)
{
	LIBSSH2_SFTP *sf = h->sf;
	LIBSSH2_SFTP_HANDLE **pp;

	sftp_reads_drop(h);
	sftp_ops_drop_handle(h);
	if (h->dticket)
		((struct dticket *)h->dticket)->h = NULL;
	sftp_writes_detach(h);
	for (pp = &sf->handles; *pp; pp = &(*pp)->next)
		if (*pp == h) {
			*pp = h->next;
			break;
		}
	la_free(&sf->s->a, h->names);
	la_free(&sf->s->a, h);
}
