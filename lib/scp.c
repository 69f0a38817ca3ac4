/*
 * scp.c - SCP over an exec channel (the rcp protocol that OpenSSH's scp
 * speaks with "scp -f" and "scp -t"): libssh2_scp_recv2, libssh2_scp_recv,
 * libssh2_scp_send64 and libssh2_scp_send_ex.
 *
 * The protocol, as the remote scp speaks it (one file, no recursion).
 * Download, remote "scp [-p]f path":
 *
 *	we  -> \0
 *	scp -> T<mtime> 0 <atime> 0\n	(with -p) and we -> \0
 *	scp -> C<mode> <size> <name>\n	and we -> \0
 *	scp -> <size> bytes, then \0
 *
 * Upload, remote "scp [-p]t path":
 *
 *	scp -> \0			(ready)
 *	we  -> T<mtime> 0 <atime> 0\n	(with -p) and scp -> \0
 *	we  -> C<mode> <size> <name>\n	and scp -> \0
 *	we  -> <size> bytes, then \0
 *
 * A response other than \0 is \1 (error) or \2 (fatal error) followed by
 * a message line.  The calls here run the protocol up to the data and
 * return the channel; the caller reads or writes the data with
 * libssh2_channel_read/write.  On upload the closing \0 is ours to send
 * (libssh2 leaves it out, and the remote scp then exits 1 without setting
 * the times): libssh2_channel_send_eof sends it once the whole file was
 * written (scp_before_eof).
 *
 * Every number and line from the remote side is bounded before use: a
 * line may be at most SCP_LINE_MAX bytes, mode at most 07777, size and
 * times at most INT64_MAX (libssh2's SCP parsing had CVEs for less).
 *
 * One send or receive may be in progress per session (s->scp); a
 * non-blocking caller repeats the call with the same arguments after
 * LIBSSH2_ERROR_EAGAIN.
 */
#include "scp.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "session.h"
#include "trace.h"

/* Bytes we send in one protocol step: a T line or a C line with a name
 * of at most SCP_PATH_MAX bytes. */
#define SCP_OUT_MAX (SCP_PATH_MAX + 64)

enum scp_phase {
	/* download */
	RECV_GO = 0, /* send the first \0 */
	RECV_LINE,   /* read T (then C) or an error line */
	/* upload */
	SEND_START,	/* read the remote scp's first \0 */
	SEND_TIMES_ACK, /* T line sent: read its \0 */
	SEND_FILE_ACK,	/* C line sent: read its \0 */
	SCP_DONE,
};

struct scp_op {
	int upload;
	LIBSSH2_CHANNEL *c;
	int open, exec_ok;
	enum scp_phase phase;
	char *cmd;
	char out[SCP_OUT_MAX];
	size_t out_len, out_off;
	/* what the download learnt */
	int have_times;
	int64_t mtime, atime, size;
	unsigned mode;
};

/* ---- helpers ------------------------------------------------------------- */

/* Append path for the remote shell: in single quotes, where nothing is
 * special; a ' or ! inside closes them, goes out backslash-escaped (! for
 * csh's history expansion) and they reopen. */
static int quote_path(struct wbuf *w, const char *path, int quote)
{
	const char *p;
	int in = 0;

	if (!quote)
		return wb_cstring(w, path) ? -1 : 0;
	for (p = path; *p; p++) {
		if (*p == '\'' || *p == '!') {
			if ((in && wb_u8(w, '\'')) || wb_u8(w, '\\') ||
			    wb_u8(w, (uint8_t)*p))
				return -1;
			in = 0;
			continue;
		}
		if (!in && wb_u8(w, '\''))
			return -1;
		in = 1;
		if (wb_u8(w, (uint8_t)*p))
			return -1;
	}
	if (in && wb_u8(w, '\''))
		return -1;
	return 0;
}

/* "scp -<flags> <path>" as a NUL-terminated string (NULL: error set). */
static char *make_cmd(LIBSSH2_SESSION *s, const char *flags, const char *path)
{
	struct wbuf w;

	wb_init(&w, &s->a, 4 * SCP_PATH_MAX + 64);
	if (wb_bytes(&w, "scp -", 5) || wb_bytes(&w, flags, strlen(flags)) ||
	    wb_u8(&w, ' ') || quote_path(&w, path, s->flag_quote_paths) ||
	    wb_u8(&w, 0)) {
		wb_free(&w);
		sess_err(s, LIBSSH2_ERROR_ALLOC, "out of memory");
		return NULL;
	}
	return (char *)w.p;
}

/* A remote message made printable and cut to SCP_MSG_MAX. */
static void sanitize(char *dst, size_t cap, const uint8_t *p, size_t n)
{
	size_t i, j = 0;

	while (n > 0 && (p[n - 1] == '\n' || p[n - 1] == '\r'))
		n--;
	for (i = 0; i < n && j + 1 < cap; i++)
		dst[j++] = p[i] >= 0x20 && p[i] < 0x7f ? (char)p[i] : '?';
	dst[j] = 0;
}

/* The remote scp ended (or closed its output) before saying what we
 * waited for: its stderr is the best explanation there is. */
static int remote_gone(struct scp_op *op)
{
	LIBSSH2_CHANNEL *c = op->c;
	char msg[SCP_MSG_MAX];

	sanitize(msg, sizeof(msg), c->err.p ? c->err.p + c->err.start : NULL,
		 c->err.end - c->err.start);
	return sess_err(c->s, LIBSSH2_ERROR_SCP_PROTOCOL,
			"the remote scp ended the transfer%s%s",
			msg[0] ? ": " : "", msg);
}

/* Queue op->out[out_off..out_len) on the channel (RFC 4254 5.2: as the
 * window allows).  0 when all of it is queued. */
static int send_out(struct scp_op *op)
{
	LIBSSH2_CHANNEL *c = op->c;
	LIBSSH2_SESSION *s = c->s;
	long n;
	int rc;

	while (op->out_off < op->out_len) {
		if (c->close_recv || c->eof_recv)
			return remote_gone(op);
		if ((rc = sess_ready_to_send(s)))
			return rc;
		n = chan_send(c, (const uint8_t *)op->out + op->out_off,
			      op->out_len - op->out_off);
		if (n < 0)
			return (int)n;
		op->out_off += (size_t)n;
		if (n == 0 && (rc = sess_pump(s)))
			return rc;
	}
	rc = sess_flush(s);
	return rc == LIBSSH2_ERROR_EAGAIN ? 0 : rc;
}

static int queue_out(struct scp_op *op, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static int queue_out(struct scp_op *op, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(op->out, sizeof(op->out), fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof(op->out))
		return sess_err(op->c->s, LIBSSH2_ERROR_INVAL,
				"SCP line too long");
	op->out_len = (size_t)n;
	op->out_off = 0;
	return 0;
}

static int queue_nul(struct scp_op *op)
{
	op->out[0] = 0;
	op->out_len = 1;
	op->out_off = 0;
	return 0;
}

/* The next complete line on the channel's stdout: *p, *n without the
 * \n (the caller consumes n + 1 bytes).  Only what was received is
 * looked at, and never more than SCP_LINE_MAX bytes of it. */
static int read_line(struct scp_op *op, const uint8_t **p, size_t *n)
{
	LIBSSH2_CHANNEL *c = op->c;
	const uint8_t *d, *nl;
	size_t avail;
	int rc;

	for (;;) {
		avail = chan_avail(c, &d);
		nl = avail ? memchr(d, '\n',
				    avail < SCP_LINE_MAX ? avail : SCP_LINE_MAX)
			   : NULL;
		if (nl) {
			*p = d;
			*n = (size_t)(nl - d);
			return 0;
		}
		if (avail >= SCP_LINE_MAX)
			return sess_err(c->s, LIBSSH2_ERROR_SCP_PROTOCOL,
					"the remote scp sent a line longer "
					"than %d bytes",
					SCP_LINE_MAX);
		if (c->eof_recv || c->close_recv || c->state != CHAN_OPEN)
			return remote_gone(op);
		if ((rc = sess_pump(c->s)))
			return rc;
	}
}

/* An error line (\1 or \2 and a message): its message as the error. */
static int remote_error(struct scp_op *op, const uint8_t *p, size_t n)
{
	char msg[SCP_MSG_MAX];

	sanitize(msg, sizeof(msg), p + 1, n - 1);
	TRACE(op->c->s, LIBSSH2_TRACE_SCP, "remote error: %s", msg);
	return sess_err(op->c->s, LIBSSH2_ERROR_SCP_PROTOCOL, "%s",
			msg[0] ? msg : "the remote scp reported an error");
}

/* One response byte: \0, or an error line. */
static int read_response(struct scp_op *op)
{
	const uint8_t *d, *p;
	size_t avail, n;
	char msg[SCP_MSG_MAX];
	int rc;

	for (;;) {
		avail = chan_avail(op->c, &d);
		if (avail)
			break;
		if (op->c->eof_recv || op->c->close_recv)
			return remote_gone(op);
		if ((rc = sess_pump(op->c->s)))
			return rc;
	}
	if (d[0] == 0)
		return chan_consume(op->c, 1);
	if ((rc = read_line(op, &p, &n)))
		return rc;
	if (p[0] == 1 || p[0] == 2)
		rc = remote_error(op, p, n);
	else {
		sanitize(msg, sizeof(msg), p, n);
		rc = sess_err(op->c->s, LIBSSH2_ERROR_SCP_PROTOCOL,
			      "unexpected answer from the remote scp: %s", msg);
	}
	(void)chan_consume(op->c, n + 1);
	return rc;
}

/* ---- parsing the lines of a download ------------------------------------- */

struct cur {
	const uint8_t *p, *end;
};

/* Digits in base 8 or 10, at least one, value at most max. */
static int get_num(struct cur *c, unsigned base, uint64_t max, uint64_t *v)
{
	uint64_t x = 0;
	const uint8_t *start = c->p;

	while (c->p < c->end && *c->p >= '0' && *c->p < '0' + base) {
		unsigned d = (unsigned)(*c->p - '0');

		if (x > (max - d) / base)
			return -1;
		x = x * base + d;
		c->p++;
	}
	if (c->p == start)
		return -1;
	*v = x;
	return 0;
}

static int get_char(struct cur *c, uint8_t ch)
{
	if (c->p == c->end || *c->p != ch)
		return -1;
	c->p++;
	return 0;
}

/* "T<mtime> <usec> <atime> <usec>" */
static int parse_times(struct scp_op *op, const uint8_t *p, size_t n)
{
	struct cur c = {p + 1, p + n};
	uint64_t mt, mu, at, au;

	if (get_num(&c, 10, INT64_MAX, &mt) || get_char(&c, ' ') ||
	    get_num(&c, 10, 999999, &mu) || get_char(&c, ' ') ||
	    get_num(&c, 10, INT64_MAX, &at) || get_char(&c, ' ') ||
	    get_num(&c, 10, 999999, &au) || c.p != c.end)
		return -1;
	op->mtime = (int64_t)mt;
	op->atime = (int64_t)at;
	op->have_times = 1;
	return 0;
}

/* "C<mode> <size> <name>", mode at most 07777; the name is the remote
 * file's own (not used, but it must be one: no '/', not "." or ".."). */
static int parse_file(struct scp_op *op, const uint8_t *p, size_t n)
{
	struct cur c = {p + 1, p + n};
	uint64_t mode, size;
	size_t nl;

	if (get_num(&c, 8, 07777, &mode) || get_char(&c, ' ') ||
	    get_num(&c, 10, INT64_MAX, &size) || get_char(&c, ' '))
		return -1;
	nl = (size_t)(c.end - c.p);
	if (nl == 0 || memchr(c.p, '/', nl) || memchr(c.p, 0, nl) ||
	    (nl == 1 && c.p[0] == '.') ||
	    (nl == 2 && c.p[0] == '.' && c.p[1] == '.'))
		return -1;
	op->mode = (unsigned)mode;
	op->size = (int64_t)size;
	return 0;
}

/* ---- the steps ----------------------------------------------------------- */

static int open_and_exec(LIBSSH2_SESSION *s, struct scp_op *op)
{
	struct wbuf w;
	int rc;

	if (!op->open) {
		if ((rc = chan_session_step(op->c)))
			return rc;
		op->open = 1;
		TRACE(s, LIBSSH2_TRACE_SCP, "exec %s", op->cmd);
	}
	if (!op->exec_ok) {
		wb_init(&w, &s->a, SSH_PAYLOAD_MAX);
		if (wb_cstring(&w, op->cmd)) {
			wb_free(&w);
			return sess_err(s, LIBSSH2_ERROR_ALLOC,
					"out of memory");
		}
		rc = chan_request(op->c, "exec", &w);
		wb_free(&w);
		/* as libssh2 1.11.1: an upload reports a refused command as
		 * an SCP error (a download passes the request's error on) */
		if (rc == LIBSSH2_ERROR_CHANNEL_REQUEST_DENIED && op->upload)
			return sess_err(s, LIBSSH2_ERROR_SCP_PROTOCOL,
					"the server refused to run \"%s\"",
					op->cmd);
		if (rc)
			return rc;
		op->exec_ok = 1;
	}
	return 0;
}

static int recv_line(struct scp_op *op)
{
	LIBSSH2_SESSION *s = op->c->s;
	const uint8_t *p;
	size_t n;
	char msg[SCP_MSG_MAX];
	int rc, bad;

	if ((rc = read_line(op, &p, &n)))
		return rc;
	if (n > 0 && (p[0] == 1 || p[0] == 2)) {
		rc = remote_error(op, p, n);
		(void)chan_consume(op->c, n + 1);
		return rc;
	}
	if (n > 0 && p[0] == 'T' && !op->have_times)
		bad = parse_times(op, p, n);
	else if (n > 0 && p[0] == 'C')
		bad = parse_file(op, p, n);
	else
		bad = -1;
	if (bad) {
		sanitize(msg, sizeof(msg), p, n);
		rc = sess_err(s, LIBSSH2_ERROR_SCP_PROTOCOL,
			      "%s from the remote scp: %s",
			      n > 0 && p[0] == 'D' ? "a directory"
						   : "an invalid line",
			      msg);
		(void)chan_consume(op->c, n + 1);
		return rc;
	}
	if (p[0] == 'C') {
		op->phase = SCP_DONE;
		TRACE(s, LIBSSH2_TRACE_SCP, "file mode %04o, %lld bytes",
		      op->mode, (long long)op->size);
	}
	if ((rc = chan_consume(op->c, n + 1)))
		return rc;
	return queue_nul(op);
}

static int recv_step(LIBSSH2_SESSION *s, struct scp_op *op)
{
	int rc;

	if ((rc = open_and_exec(s, op)))
		return rc;
	for (;;) {
		if ((rc = send_out(op)))
			return rc;
		switch (op->phase) {
		case RECV_GO:
			queue_nul(op);
			op->phase = RECV_LINE;
			break;
		case RECV_LINE:
			if ((rc = recv_line(op)))
				return rc;
			break;
		case SCP_DONE:
			return 0;
		default:
			return sess_err(s, LIBSSH2_ERROR_BAD_USE,
					"SCP: bad state");
		}
	}
}

struct send_args {
	int mode;
	int64_t size;
	int64_t mtime, atime;
	const char *base;
};

static int send_step(LIBSSH2_SESSION *s, struct scp_op *op,
		     const struct send_args *a)
{
	int rc, times = a->mtime || a->atime;

	if ((rc = open_and_exec(s, op)))
		return rc;
	for (;;) {
		if ((rc = send_out(op)))
			return rc;
		switch (op->phase) {
		case SEND_START:
		case SEND_TIMES_ACK:
			if ((rc = read_response(op)))
				return rc;
			if (op->phase == SEND_START && times) {
				op->phase = SEND_TIMES_ACK;
				rc = queue_out(op, "T%lld 0 %lld 0\n",
					       (long long)a->mtime,
					       (long long)a->atime);
			} else {
				op->phase = SEND_FILE_ACK;
				/* four octal digits, as OpenSSH's scp
				 * reads them: set-user-ID, set-group-ID
				 * and sticky bits too (libssh2 1.11.1
				 * writes "C0%o", which the remote scp
				 * refuses for any of those) */
				rc = queue_out(op, "C%04o %lld %s\n",
					       (unsigned)a->mode & 07777,
					       (long long)a->size, a->base);
			}
			if (rc)
				return rc;
			break;
		case SEND_FILE_ACK:
			if ((rc = read_response(op)))
				return rc;
			/* the file's data, then its NUL (scp_before_eof) */
			op->c->scp_end = op->c->data_out + (uint64_t)a->size;
			op->phase = SCP_DONE;
			TRACE(s, LIBSSH2_TRACE_SCP, "ready for %lld bytes",
			      (long long)a->size);
			return 0;
		case SCP_DONE:
			return 0;
		default:
			return sess_err(s, LIBSSH2_ERROR_BAD_USE,
					"SCP: bad state");
		}
	}
}

/* ---- the operation in progress ------------------------------------------- */

static struct scp_op *op_begin(LIBSSH2_SESSION *s, const char *flags,
			       const char *path, enum scp_phase first)
{
	int upload = first != RECV_GO;
	struct scp_op *op;

	if (s->scp) {
		if (s->scp->upload == upload)
			return s->scp; /* a call repeated after EAGAIN */
		sess_err(s, LIBSSH2_ERROR_BAD_USE,
			 "another SCP transfer is being set up");
		return NULL;
	}
	if (!path || !*path || strlen(path) > SCP_PATH_MAX) {
		sess_err(s, LIBSSH2_ERROR_INVAL, "SCP: bad path");
		return NULL;
	}
	op = la_calloc(&s->a, sizeof(*op));
	if (!op) {
		sess_err(s, LIBSSH2_ERROR_ALLOC, "out of memory");
		return NULL;
	}
	op->phase = first;
	op->upload = upload;
	op->cmd = make_cmd(s, flags, path);
	if (op->cmd)
		op->c = chan_session_begin(s, LIBSSH2_CHANNEL_WINDOW_DEFAULT,
					   LIBSSH2_CHANNEL_PACKET_DEFAULT);
	if (!op->c) {
		la_free(&s->a, op->cmd);
		la_free(&s->a, op);
		return NULL;
	}
	s->scp = op;
	return op;
}

/* The call is over: on success hand out the channel, on failure give it
 * up, keeping the error that ended the call. */
static LIBSSH2_CHANNEL *op_end(LIBSSH2_SESSION *s, struct scp_op *op, int rc)
{
	LIBSSH2_CHANNEL *c = op->c;
	char msg[SSH_ERRMSG_MAX];
	int open = op->open;

	s->scp = NULL;
	la_free(&s->a, op->cmd);
	la_free(&s->a, op);
	if (!rc)
		return c;
	snprintf(msg, sizeof(msg), "%s", s->errmsg);
	if (s->state != SESS_READY || !open)
		chan_session_drop(c);
	else if (libssh2_channel_free(c) == LIBSSH2_ERROR_EAGAIN)
		c->orphan = 1; /* released at the server's CLOSE */
	sess_err(s, rc, "%s", msg);
	return NULL;
}

void scp_drop(LIBSSH2_SESSION *s)
{
	if (s->scp) {
		la_free(&s->a, s->scp->cmd);
		la_free(&s->a, s->scp);
		s->scp = NULL;
	}
}

int scp_before_eof(LIBSSH2_CHANNEL *c)
{
	LIBSSH2_SESSION *s = c->s;
	long n;
	int rc;

	if (c->data_out == c->scp_end) {
		for (;;) {
			if (c->close_recv)
				return sess_err(s, LIBSSH2_ERROR_CHANNEL_CLOSED,
						"the channel is closed");
			if ((rc = sess_ready_to_send(s)))
				return rc;
			if ((n = chan_send(c, (const uint8_t *)"", 1)) < 0)
				return (int)n;
			if (n == 1)
				break;
			if ((rc = sess_pump(s)))
				return rc;
		}
		TRACE(s, LIBSSH2_TRACE_SCP, "file complete");
	}
	c->scp_end = 0;
	return 0;
}

/* ---- API ----------------------------------------------------------------- */

LIBSSH2_API LIBSSH2_CHANNEL *
libssh2_scp_recv2(LIBSSH2_SESSION *s, const char *path, libssh2_struct_stat *sb)
{
	struct scp_op *op;
	int rc;

	if (!s)
		return NULL;
	if (!s->scp && (s->state != SESS_READY || !s->auth.authenticated)) {
		sess_err(s, LIBSSH2_ERROR_BAD_USE,
			 "the session is not authenticated");
		return NULL;
	}
	op = op_begin(s, sb ? "pf" : "f", path, RECV_GO);
	if (!op)
		return NULL;
	rc = SESS_BLOCK(s, recv_step(s, op));
	if (rc == LIBSSH2_ERROR_EAGAIN)
		return NULL;
	if (!rc && sb) {
		memset(sb, 0, sizeof(*sb));
		sb->st_mtime = (time_t)op->mtime;
		sb->st_atime = (time_t)op->atime;
		sb->st_size = (libssh2_struct_stat_size)op->size;
		/* as libssh2: the permission bits of the C line only */
		sb->st_mode = (mode_t)op->mode;
	}
	return op_end(s, op, rc);
}

LIBSSH2_API LIBSSH2_CHANNEL *libssh2_scp_recv(LIBSSH2_SESSION *s,
					      const char *path, struct stat *sb)
{
	/* libssh2_struct_stat is struct stat here */
	return libssh2_scp_recv2(s, path, sb);
}

LIBSSH2_API LIBSSH2_CHANNEL *libssh2_scp_send64(LIBSSH2_SESSION *s,
						const char *path, int mode,
						libssh2_int64_t size,
						time_t mtime, time_t atime)
{
	struct send_args a = {mode, size, mtime, atime, NULL};
	struct scp_op *op;
	int rc;

	if (!s)
		return NULL;
	if (!s->scp) {
		if (s->state != SESS_READY || !s->auth.authenticated) {
			sess_err(s, LIBSSH2_ERROR_BAD_USE,
				 "the session is not authenticated");
			return NULL;
		}
		if (size < 0 || mtime < 0 || atime < 0) {
			sess_err(s, LIBSSH2_ERROR_INVAL,
				 "SCP: negative size or time");
			return NULL;
		}
	}
	/* the remote file's name: the last component, one line */
	a.base = path ? strrchr(path, '/') : NULL;
	a.base = a.base ? a.base + 1 : path;
	if (!s->scp && (!a.base || !*a.base || strchr(a.base, '\n'))) {
		sess_err(s, LIBSSH2_ERROR_INVAL, "SCP: the path names no file");
		return NULL;
	}
	op = op_begin(s, mtime || atime ? "pt" : "t", path, SEND_START);
	if (!op)
		return NULL;
	rc = SESS_BLOCK(s, send_step(s, op, &a));
	if (rc == LIBSSH2_ERROR_EAGAIN)
		return NULL;
	return op_end(s, op, rc);
}

LIBSSH2_API LIBSSH2_CHANNEL *libssh2_scp_send_ex(LIBSSH2_SESSION *s,
						 const char *path, int mode,
						 size_t size, long mtime,
						 long atime)
{
	if (size > INT64_MAX) {
		if (s)
			sess_err(s, LIBSSH2_ERROR_INVAL, "SCP: size too large");
		return NULL;
	}
	return libssh2_scp_send64(s, path, mode, (libssh2_int64_t)size,
				  (time_t)mtime, (time_t)atime);
}
