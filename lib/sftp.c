/*
 * sftp.c - the libssh2_sftp_* API over the asynchronous request core.
 *
 * Simple calls (stat, mkdir, rename...) send one request and wait for it;
 * the request stays registered in sf->ops across EAGAIN returns, so a
 * non-blocking caller that calls again picks up the same reply.  File
 * handles pipeline: reads keep a read-ahead window of READ requests in
 * flight that grows while the caller has to wait for data; writes
 * follow libssh2's write-ahead contract (../shared/seeds/003): the data
 * is cut into packets, many are sent at once, and the call returns as
 * soon as the first is acknowledged, counting only acknowledged bytes.
 */
#include "sftp.h"

#include <stdio.h>
#include <string.h>

#include "session.h"

/* ---- attributes ------------------------------------------------------------ */

void sftp_attrs_to_lib(const struct sftp_attrs *a, LIBSSH2_SFTP_ATTRIBUTES *o)
{
	memset(o, 0, sizeof(*o));
	o->flags = a->flags & (LIBSSH2_SFTP_ATTR_SIZE | LIBSSH2_SFTP_ATTR_UIDGID |
			       LIBSSH2_SFTP_ATTR_PERMISSIONS |
			       LIBSSH2_SFTP_ATTR_ACMODTIME);
	o->filesize = a->size;
	o->uid = a->uid;
	o->gid = a->gid;
	o->permissions = a->perm;
	o->atime = a->atime;
	o->mtime = a->mtime;
}

static void attrs_from_lib(const LIBSSH2_SFTP_ATTRIBUTES *o,
			   struct sftp_attrs *a)
{
	memset(a, 0, sizeof(*a));
	a->flags = (uint32_t)o->flags & SFTP_ATTR_FIELDS;
	a->size = o->filesize;
	a->uid = (uint32_t)o->uid;
	a->gid = (uint32_t)o->gid;
	a->perm = (uint32_t)o->permissions;
	a->atime = (uint32_t)o->atime;
	a->mtime = (uint32_t)o->mtime;
}

/* ---- one request, waited for ---------------------------------------------- */

static void op_done(void *arg, int err, const uint8_t *body, size_t n)
{
	struct sftp_op *op = arg;

	if (op->orphan) {
		la_free(&lalloc_system, op);
		return;
	}
	op->done = 1;
	op->err = err;
	if (err)
		return;
	op->reply = la_alloc(&lalloc_system, n);
	if (!op->reply) {
		op->err = LIBSSH2_ERROR_ALLOC;
		return;
	}
	memcpy(op->reply, body, n);
	op->n = n;
}

static void op_unlink(LIBSSH2_SFTP *sf, struct sftp_op *op)
{
	struct sftp_op **pp;

	for (pp = &sf->ops; *pp; pp = &(*pp)->next)
		if (*pp == op) {
			*pp = op->next;
			return;
		}
}

/* The caller will not come back for op. */
static void op_abandon(LIBSSH2_SFTP *sf, struct sftp_op *op)
{
	op_unlink(sf, op);
	if (op->done) {
		la_free(&lalloc_system, op->reply);
		la_free(&lalloc_system, op);
	} else {
		op->orphan = 1; /* freed by its reply */
	}
}

/* The request of r's kind (and handle) in progress, if any. */
static struct sftp_op *op_find(LIBSSH2_SFTP *sf, const struct sreq *r)
{
	struct sftp_op *op;

	for (op = sf->ops; op; op = op->next)
		if (op->type == r->type && op->key == (const void *)r->h)
			return op;
	return NULL;
}

static void op_drop(LIBSSH2_SFTP *sf, const struct sreq *r)
{
	struct sftp_op *op = op_find(sf, r);

	if (op)
		op_abandon(sf, op);
}

static void ops_drop_all(LIBSSH2_SFTP *sf)
{
	while (sf->ops)
		op_abandon(sf, sf->ops);
}

void sftp_ops_drop_handle(LIBSSH2_SFTP_HANDLE *h)
{
	struct sftp_op *op, *next;

	for (op = h->sf->ops; op; op = next) {
		next = op->next;
		if (op->key == (const void *)h->h)
			op_abandon(h->sf, op);
	}
}

/* Encode one request (r) with the next id. */
static int encode(struct sftp_core *c, const struct sreq *r)
{
	struct wbuf *w = sftp_core_out(c);
	uint32_t id = sftp_core_id(c);

	switch (r->type) {
	case SSH_FXP_OPEN:
		return sftp_enc_open(w, id, r->p1, r->l1, r->pflags, r->attrs);
	case SSH_FXP_OPENDIR:
		return sftp_enc_opendir(w, id, r->p1, r->l1);
	case SSH_FXP_CLOSE:
		return sftp_enc_close(w, id, r->h, r->hl);
	case SSH_FXP_READDIR:
		return sftp_enc_readdir(w, id, r->h, r->hl);
	case SSH_FXP_REMOVE:
		return sftp_enc_remove(w, id, r->p1, r->l1);
	case SSH_FXP_MKDIR:
		return sftp_enc_mkdir(w, id, r->p1, r->l1, r->attrs);
	case SSH_FXP_RMDIR:
		return sftp_enc_rmdir(w, id, r->p1, r->l1);
	case SSH_FXP_STAT:
		return sftp_enc_stat(w, id, r->p1, r->l1);
	case SSH_FXP_LSTAT:
		return sftp_enc_lstat(w, id, r->p1, r->l1);
	case SSH_FXP_FSTAT:
		return sftp_enc_fstat(w, id, r->h, r->hl);
	case SSH_FXP_SETSTAT:
		return sftp_enc_setstat(w, id, r->p1, r->l1, r->attrs);
	case SSH_FXP_FSETSTAT:
		return sftp_enc_fsetstat(w, id, r->h, r->hl, r->attrs);
	case SSH_FXP_RENAME:
		return sftp_enc_rename(w, id, r->p1, r->l1, r->p2, r->l2);
	case SSH_FXP_READLINK:
		return sftp_enc_readlink(w, id, r->p1, r->l1);
	case SSH_FXP_REALPATH:
		return sftp_enc_realpath(w, id, r->p1, r->l1);
	case SSH_FXP_SYMLINK:
		return sftp_enc_symlink(w, id, r->p1, r->l1, r->p2, r->l2);
	case SREQ_POSIX_RENAME:
		return sftp_enc_posix_rename(w, id, r->p1, r->l1, r->p2, r->l2);
	case SREQ_STATVFS:
		return sftp_enc_statvfs(w, id, r->p1, r->l1);
	case SREQ_FSTATVFS:
		return sftp_enc_fstatvfs(w, id, r->h, r->hl);
	case SREQ_FSYNC:
		return sftp_enc_fsync(w, id, r->h, r->hl);
	case SREQ_HARDLINK:
		return sftp_enc_hardlink(w, id, r->p1, r->l1, r->p2, r->l2);
	case SREQ_LSETSTAT:
		return sftp_enc_lsetstat(w, id, r->p1, r->l1, r->attrs);
	case SREQ_EXPAND_PATH:
		return sftp_enc_expand_path(w, id, r->p1, r->l1);
	case SREQ_HOME_DIR:
		return sftp_enc_home_directory(w, id, r->p1, r->l1);
	case SREQ_COPY_DATA:
		return sftp_enc_copy_data(w, id, r->h, r->hl, r->off1, r->len,
					  r->h2, r->hl2, r->off2);
	case SREQ_USERS_GROUPS:
		return sftp_enc_users_groups_by_id(w, id, r->ids1, r->n1,
						   r->ids2, r->n2);
	}
	return LIBSSH2_ERROR_INVAL;
}

/*
 * Send r (once) and wait for its reply.  On 0, *reply (freed by the
 * caller with la_free) holds the whole reply packet body.
 */
static int op_step(LIBSSH2_SFTP *sf, const struct sreq *r, uint8_t **reply,
		   size_t *n)
{
	struct sftp_op *op = op_find(sf, r);
	int rc;

	if (!op) {
		size_t mark = sftp_core_out(&sf->core)->len;

		op = la_calloc(&lalloc_system, sizeof(*op));
		if (!op)
			return sess_err(sf->s, LIBSSH2_ERROR_ALLOC,
					"out of memory");
		if (encode(&sf->core, r)) {
			sftp_core_out(&sf->core)->len = mark;
			sftp_core_out(&sf->core)->err = 0;
			la_free(&lalloc_system, op);
			return sess_err(sf->s, LIBSSH2_ERROR_ALLOC,
					"out of memory");
		}
		if ((rc = sftp_core_track(&sf->core, mark, op_done, op))) {
			la_free(&lalloc_system, op);
			return sess_err(sf->s, rc, "unable to queue a request");
		}
		op->type = r->type;
		op->key = r->h;
		op->next = sf->ops;
		sf->ops = op;
	}
	while (!op->done)
		if ((rc = sftp_core_run(&sf->core))) {
			/* EAGAIN: the caller comes back for this very
			 * request; anything else: it never will */
			if (rc != LIBSSH2_ERROR_EAGAIN)
				op_abandon(sf, op);
			return rc;
		}
	op_unlink(sf, op);
	rc = op->err;
	*n = op->n;
	*reply = NULL;
	if (!rc) {
		/* hand the reply over in the session's allocator */
		*reply = la_alloc(&sf->s->a, op->n);
		if (*reply)
			memcpy(*reply, op->reply, op->n);
		else
			rc = LIBSSH2_ERROR_ALLOC;
	}
	la_free(&lalloc_system, op->reply);
	la_free(&lalloc_system, op);
	if (rc)
		return sess_err(sf->s, rc, "the SFTP channel failed");
	return 0;
}

/* A STATUS reply: remember the code; OK is 0, others SFTP_PROTOCOL. */
int sftp_status_rc(LIBSSH2_SFTP *sf, const uint8_t *body, size_t n)
{
	struct sftp_status st = sftp_dec_status(body, n);

	if (st.rc)
		return sess_err(sf->s, LIBSSH2_ERROR_SFTP_PROTOCOL,
				"malformed SFTP status");
	sf->last_status = st.code;
	if (st.code == SSH_FX_OK)
		return 0;
	return sess_err(sf->s, LIBSSH2_ERROR_SFTP_PROTOCOL,
			"SFTP error %u (%s)", st.code, sftp_status_str(st.code));
}

/*
 * The error for a reply that is not the one expected: a STATUS reply's
 * own code (OK, when `what` was expected, is a protocol error: "no
 * `what` in the reply"), any other type a protocol error.
 */
static int reply_other(LIBSSH2_SFTP *sf, const uint8_t *reply, size_t n,
		       const char *what)
{
	int rc;

	if (reply[0] != SSH_FXP_STATUS)
		return sess_err(sf->s, LIBSSH2_ERROR_SFTP_PROTOCOL,
				"unexpected SFTP reply type %u", reply[0]);
	rc = sftp_status_rc(sf, reply, n);
	if (!rc && what)
		rc = sess_err(sf->s, LIBSSH2_ERROR_SFTP_PROTOCOL,
			      "no %s in the reply", what);
	return rc;
}

/* SESS_BLOCK around op_step: a timeout in the wait (not in op_step)
 * also ends the request. */
static int op_wait(LIBSSH2_SFTP *sf, const struct sreq *r, uint8_t **reply,
		   size_t *n)
{
	int rc = SESS_BLOCK(sf->s, op_step(sf, r, reply, n));

	if (rc && rc != LIBSSH2_ERROR_EAGAIN)
		op_drop(sf, r);
	return rc;
}

/* Run a request whose only good answer is STATUS OK. */
static int status_call(LIBSSH2_SFTP *sf, const struct sreq *r)
{
	uint8_t *reply;
	size_t n;
	int rc;

	if (!sf)
		return LIBSSH2_ERROR_BAD_USE;
	sf->last_status = SSH_FX_OK;
	rc = op_wait(sf, r, &reply, &n);
	if (rc)
		return rc;
	rc = reply_other(sf, reply, n, NULL);
	la_free(&sf->s->a, reply);
	return rc;
}

/*
 * An extension the server did not announce: nothing is sent.  The
 * status is what a server that lacks it answers (filexfer-02 §8), so a
 * program that looks at libssh2_sftp_last_error sees the usual code.
 */
static int not_offered(LIBSSH2_SFTP *sf, int rc, const char *ext)
{
	sf->last_status = SSH_FX_OP_UNSUPPORTED;
	return sess_err(sf->s, rc, "the server has no %s extension", ext);
}

/* ---- init and shutdown ------------------------------------------------------ */

/* From an open channel to a ready SFTP session: the subsystem request,
 * then INIT/VERSION (resumes where it stopped). */
static int start_subsystem(LIBSSH2_SFTP *sf)
{
	int rc;

	if (!sf->subsystem_ok) {
		if ((rc = libssh2_channel_subsystem(sf->ch, "sftp")))
			return rc;
		sf->subsystem_ok = 1;
		if ((rc = sftp_core_init(&sf->core, sf->s, sf->ch)))
			return sess_err(sf->s, rc, "out of memory");
	}
	return sftp_core_hello(&sf->core);
}

static int init_step(LIBSSH2_SESSION *s, LIBSSH2_SFTP **out)
{
	LIBSSH2_SFTP *sf = s->sftp_opening;
	int rc;

	if (!sf) {
		sf = la_calloc(&s->a, sizeof(*sf));
		if (!sf)
			return sess_err(s, LIBSSH2_ERROR_ALLOC, "out of memory");
		sf->s = s;
		s->sftp_opening = sf;
	}
	if (!sf->ch) {
		/* A window far larger than libssh2's 2 MiB default: the
		 * server may send a whole read-ahead window per round trip. */
		sf->ch = libssh2_channel_open_ex(s, "session", 7,
						 SFTP_CHANNEL_WINDOW,
						 CHAN_PACKET_MAX, NULL, 0);
		if (!sf->ch)
			return libssh2_session_last_errno(s);
	}
	if ((rc = start_subsystem(sf)))
		return rc;
	s->sftp_opening = NULL;
	*out = sf;
	return 0;
}

LIBSSH2_SFTP *sftp_open_begin(LIBSSH2_SESSION *s)
{
	LIBSSH2_SFTP *sf = la_calloc(&s->a, sizeof(*sf));

	if (!sf) {
		sess_err(s, LIBSSH2_ERROR_ALLOC, "out of memory");
		return NULL;
	}
	sf->s = s;
	sf->ch = chan_session_begin(s, SFTP_CHANNEL_WINDOW, CHAN_PACKET_MAX);
	if (!sf->ch) {
		la_free(&s->a, sf);
		return NULL;
	}
	return sf;
}

int sftp_open_step(LIBSSH2_SFTP *sf)
{
	int rc;

	if (!sf->ch_open) {
		if ((rc = chan_session_step(sf->ch)))
			return rc;
		sf->ch_open = 1;
	}
	return start_subsystem(sf);
}

void sftp_open_drop(LIBSSH2_SFTP *sf, int session_gone)
{
	LIBSSH2_SESSION *s = sf->s;

	/* (a ready session too: as libssh2_sftp_shutdown, without waiting
	 * for the channel's close) */
	while (sf->handles)
		sftp_handle_release(sf->handles);
	if (sf->subsystem_ok) {
		ops_drop_all(sf);
		sftp_core_free(&sf->core, LIBSSH2_ERROR_SOCKET_DISCONNECT);
	}
	if (!session_gone)
		chan_session_drop(sf->ch);
	la_free(&s->a, sf);
}

LIBSSH2_API LIBSSH2_SFTP *libssh2_sftp_init(LIBSSH2_SESSION *s)
{
	LIBSSH2_SFTP *sf = NULL;
	int rc;

	if (!s)
		return NULL;
	if (!s->auth.authenticated) {
		sess_err(s, LIBSSH2_ERROR_INVAL,
			 "the session is not authenticated");
		return NULL;
	}
	rc = SESS_BLOCK(s, init_step(s, &sf));
	if (rc == LIBSSH2_ERROR_EAGAIN)
		return NULL;
	if (rc) {
		/* give up the half-made SFTP session; the reason first: the
		 * channel's close may set another error (non-blocking: "would
		 * block") */
		LIBSSH2_SFTP *half = s->sftp_opening;
		char why[SSH_ERRMSG_MAX];

		snprintf(why, sizeof(why), "%s", s->errmsg);
		s->sftp_opening = NULL;
		if (half) {
			if (half->subsystem_ok)
				sftp_core_free(&half->core, rc);
			if (half->ch)
				chan_session_drop(half->ch);
			la_free(&s->a, half);
		}
		sess_err(s, rc, "unable to start SFTP: %s", why);
		return NULL;
	}
	return sf;
}

void sftp_drop_opening(LIBSSH2_SESSION *s)
{
	LIBSSH2_SFTP *half = s->sftp_opening;

	s->sftp_opening = NULL;
	if (half) /* its channel goes with the session's */
		sftp_open_drop(half, 1);
}

LIBSSH2_API int libssh2_sftp_shutdown(LIBSSH2_SFTP *sf)
{
	LIBSSH2_SESSION *s;
	int rc;

	if (!sf)
		return LIBSSH2_ERROR_BAD_USE;
	s = sf->s;
	while (sf->handles)
		sftp_handle_release(sf->handles);
	if (sf->core.slots) {
		ops_drop_all(sf);
		sftp_core_free(&sf->core, LIBSSH2_ERROR_CHANNEL_CLOSED);
	}
	rc = libssh2_channel_free(sf->ch);
	if (rc == LIBSSH2_ERROR_EAGAIN)
		return rc;
	la_free(&s->a, sf);
	return 0;
}

struct sftp_core *sftp_core_of(LIBSSH2_SFTP *sf)
{
	return &sf->core;
}

LIBSSH2_API unsigned long libssh2_sftp_last_error(LIBSSH2_SFTP *sf)
{
	return sf ? sf->last_status : 0;
}

LIBSSH2_API LIBSSH2_CHANNEL *libssh2_sftp_get_channel(LIBSSH2_SFTP *sf)
{
	return sf ? sf->ch : NULL;
}

/* ---- paths ------------------------------------------------------------------ */

LIBSSH2_API int libssh2_sftp_unlink_ex(LIBSSH2_SFTP *sf, const char *filename,
				       unsigned int filename_len)
{
	struct sreq r = { .type = SSH_FXP_REMOVE, .p1 = filename,
			  .l1 = filename_len };

	return status_call(sf, &r);
}

LIBSSH2_API int libssh2_sftp_rename_ex(LIBSSH2_SFTP *sf, const char *src,
				       unsigned int src_len, const char *dst,
				       unsigned int dst_len, long flags)
{
	struct sreq r = { .type = SSH_FXP_RENAME, .p1 = src, .l1 = src_len,
			  .p2 = dst, .l2 = dst_len };

	if (!sf)
		return LIBSSH2_ERROR_BAD_USE;
	/* Plain SFTP v3 RENAME never replaces an existing file; an
	 * overwriting (atomic) rename is what posix-rename@openssh.com
	 * does (OpenSSH PROTOCOL 4.3). */
	if ((flags & LIBSSH2_SFTP_RENAME_OVERWRITE) &&
	    (sf->core.ext & SFTP_HAS_POSIX_RENAME))
		r.type = SREQ_POSIX_RENAME;
	return status_call(sf, &r);
}

LIBSSH2_API int libssh2_sftp_posix_rename_ex(LIBSSH2_SFTP *sf,
					     const char *src, size_t src_len,
					     const char *dst, size_t dst_len)
{
	struct sreq r = { .type = SREQ_POSIX_RENAME, .p1 = src, .l1 = src_len,
			  .p2 = dst, .l2 = dst_len };

	if (!sf)
		return LIBSSH2_ERROR_BAD_USE;
	/* as a server without it would answer (libssh2 1.11.1 returns
	 * the positive status LIBSSH2_FX_OP_UNSUPPORTED itself) */
	if (!(sf->core.ext & SFTP_HAS_POSIX_RENAME))
		return not_offered(sf, LIBSSH2_ERROR_SFTP_PROTOCOL,
				   "posix-rename");
	return status_call(sf, &r);
}

LIBSSH2_API int libssh2_sftp_mkdir_ex(LIBSSH2_SFTP *sf, const char *path,
				      unsigned int path_len, long mode)
{
	struct sftp_attrs a = { 0 };
	struct sreq r = { .type = SSH_FXP_MKDIR, .p1 = path, .l1 = path_len };

	if (mode != LIBSSH2_SFTP_DEFAULT_MODE) {
		a.flags = SSH_FILEXFER_ATTR_PERMISSIONS;
		a.perm = (uint32_t)mode & 07777;
		r.attrs = &a;
	}
	return status_call(sf, &r);
}

LIBSSH2_API int libssh2_sftp_rmdir_ex(LIBSSH2_SFTP *sf, const char *path,
				      unsigned int path_len)
{
	struct sreq r = { .type = SSH_FXP_RMDIR, .p1 = path, .l1 = path_len };

	return status_call(sf, &r);
}

/* A call answered by ATTRS (or a STATUS error). */
static int attrs_call(LIBSSH2_SFTP *sf, const struct sreq *r,
		      LIBSSH2_SFTP_ATTRIBUTES *attrs)
{
	struct sftp_attrs_reply ar;
	uint8_t *reply;
	size_t n;
	int rc;

	sf->last_status = SSH_FX_OK;
	rc = op_wait(sf, r, &reply, &n);
	if (rc)
		return rc;
	if (reply[0] == SSH_FXP_ATTRS) {
		ar = sftp_dec_attrs(reply, n);
		if (ar.rc) {
			rc = sess_err(sf->s, LIBSSH2_ERROR_SFTP_PROTOCOL,
				      "malformed SFTP attributes");
		} else {
			sftp_attrs_to_lib(&ar.attrs, attrs);
		}
	} else {
		rc = reply_other(sf, reply, n, "attributes");
	}
	la_free(&sf->s->a, reply);
	return rc;
}

LIBSSH2_API int libssh2_sftp_stat_ex(LIBSSH2_SFTP *sf, const char *path,
				     unsigned int path_len, int stat_type,
				     LIBSSH2_SFTP_ATTRIBUTES *attrs)
{
	struct sftp_attrs a;
	struct sreq r = { .p1 = path, .l1 = path_len };

	if (!sf || !attrs)
		return LIBSSH2_ERROR_BAD_USE;
	switch (stat_type) {
	case LIBSSH2_SFTP_STAT:
		r.type = SSH_FXP_STAT;
		return attrs_call(sf, &r, attrs);
	case LIBSSH2_SFTP_LSTAT:
		r.type = SSH_FXP_LSTAT;
		return attrs_call(sf, &r, attrs);
	case LIBSSH2_SFTP_SETSTAT:
		r.type = SSH_FXP_SETSTAT;
		attrs_from_lib(attrs, &a);
		r.attrs = &a;
		return status_call(sf, &r);
	case LIBSSH2_SFTP_LSETSTAT:
		/* (beyond libssh2) a symlink's own attributes */
		if (!(sf->core.ext & SFTP_HAS_LSETSTAT))
			return not_offered(sf,
					   LIBSSH2_ERROR_METHOD_NOT_SUPPORTED,
					   "lsetstat");
		r.type = SREQ_LSETSTAT;
		attrs_from_lib(attrs, &a);
		r.attrs = &a;
		return status_call(sf, &r);
	}
	return sess_err(sf->s, LIBSSH2_ERROR_INVAL, "unknown stat type %d",
			stat_type);
}

/* READLINK / REALPATH: one name back. */
static int name1_call(LIBSSH2_SFTP *sf, const struct sreq *r, char *target,
		      unsigned int maxlen)
{
	struct sftp_name1 nm;
	uint8_t *reply;
	size_t n;
	int rc;

	sf->last_status = SSH_FX_OK;
	rc = op_wait(sf, r, &reply, &n);
	if (rc)
		return rc;
	if (reply[0] == SSH_FXP_NAME) {
		nm = sftp_dec_name1(reply, n);
		if (nm.rc)
			rc = sess_err(sf->s, LIBSSH2_ERROR_SFTP_PROTOCOL,
				      "malformed SFTP name reply");
		else if (nm.e.filename_len >= maxlen)
			rc = sess_err(sf->s, LIBSSH2_ERROR_BUFFER_TOO_SMALL,
				      "the name does not fit the buffer");
		else {
			memcpy(target, nm.e.filename, nm.e.filename_len);
			target[nm.e.filename_len] = '\0';
			rc = (int)nm.e.filename_len;
		}
	} else {
		rc = reply_other(sf, reply, n, "name");
	}
	la_free(&sf->s->a, reply);
	return rc;
}

LIBSSH2_API int libssh2_sftp_symlink_ex(LIBSSH2_SFTP *sf, const char *path,
					unsigned int path_len, char *target,
					unsigned int target_len, int link_type)
{
	struct sreq r = { .p1 = path, .l1 = path_len };

	if (!sf || !target)
		return LIBSSH2_ERROR_BAD_USE;
	switch (link_type) {
	case LIBSSH2_SFTP_SYMLINK:
		/* libssh2_sftp_symlink(sftp, target, linkpath): OpenSSH's
		 * server reads SYMLINK as (targetpath, linkpath), the
		 * reverse of filexfer-02 (OpenSSH PROTOCOL 3.1); a server
		 * known to read the draft's order gets that
		 * (sftp_core_symlink_draft; libssh2 sends OpenSSH's to
		 * all) */
		r.type = SSH_FXP_SYMLINK;
		r.p2 = target;
		r.l2 = target_len;
		if (sftp_core_of(sf)->symlink_draft) {
			r.p1 = target;
			r.l1 = target_len;
			r.p2 = path;
			r.l2 = path_len;
		}
		return status_call(sf, &r);
	case LIBSSH2_SFTP_READLINK:
		r.type = SSH_FXP_READLINK;
		return name1_call(sf, &r, target, target_len);
	case LIBSSH2_SFTP_REALPATH:
		r.type = SSH_FXP_REALPATH;
		return name1_call(sf, &r, target, target_len);
	}
	return sess_err(sf->s, LIBSSH2_ERROR_INVAL, "unknown link type %d",
			link_type);
}

/* ---- OpenSSH extensions beyond libssh2's API (same style) ------------------ */

LIBSSH2_API int libssh2_sftp_hardlink_ex(LIBSSH2_SFTP *sf, const char *oldpath,
					 unsigned int oldpath_len,
					 const char *newpath,
					 unsigned int newpath_len)
{
	struct sreq r = { .type = SREQ_HARDLINK, .p1 = oldpath,
			  .l1 = oldpath_len, .p2 = newpath, .l2 = newpath_len };

	if (!sf || !oldpath || !newpath)
		return LIBSSH2_ERROR_BAD_USE;
	if (!(sf->core.ext & SFTP_HAS_HARDLINK))
		return not_offered(sf, LIBSSH2_ERROR_METHOD_NOT_SUPPORTED,
				   "hardlink");
	return status_call(sf, &r);
}

LIBSSH2_API int libssh2_sftp_expand_path_ex(LIBSSH2_SFTP *sf, const char *path,
					    unsigned int path_len, char *target,
					    unsigned int target_len)
{
	struct sreq r = { .type = SREQ_EXPAND_PATH, .p1 = path,
			  .l1 = path_len };

	if (!sf || !path || !target)
		return LIBSSH2_ERROR_BAD_USE;
	if (!(sf->core.ext & SFTP_HAS_EXPAND_PATH))
		return not_offered(sf, LIBSSH2_ERROR_METHOD_NOT_SUPPORTED,
				   "expand-path");
	return name1_call(sf, &r, target, target_len);
}

LIBSSH2_API int libssh2_sftp_home_directory_ex(LIBSSH2_SFTP *sf,
					       const char *user,
					       unsigned int user_len,
					       char *target,
					       unsigned int target_len)
{
	struct sreq r = { .type = SREQ_HOME_DIR, .p1 = user, .l1 = user_len };

	if (!sf || !user || !target)
		return LIBSSH2_ERROR_BAD_USE;
	if (!(sf->core.ext & SFTP_HAS_HOME_DIR))
		return not_offered(sf, LIBSSH2_ERROR_METHOD_NOT_SUPPORTED,
				   "home-directory");
	return name1_call(sf, &r, target, target_len);
}

LIBSSH2_API int libssh2_sftp_copy_data(LIBSSH2_SFTP_HANDLE *src,
				       libssh2_uint64_t src_offset,
				       libssh2_uint64_t length,
				       LIBSSH2_SFTP_HANDLE *dst,
				       libssh2_uint64_t dst_offset)
{
	struct sreq r = { .type = SREQ_COPY_DATA };
	int rc;

	if (!src || !dst || src->sf != dst->sf)
		return LIBSSH2_ERROR_BAD_USE;
	if (!(src->sf->core.ext & SFTP_HAS_COPY_DATA))
		return not_offered(src->sf, LIBSSH2_ERROR_METHOD_NOT_SUPPORTED,
				   "copy-data");
	/* the server copies what it has: our writes first */
	if ((rc = sftp_writes_settle(src)) || (rc = sftp_writes_settle(dst)))
		return rc;
	/* what was read ahead of the destination is stale after it */
	sftp_reads_drop(dst);
	r.h = src->h;
	r.hl = src->hlen;
	r.h2 = dst->h;
	r.hl2 = dst->hlen;
	r.off1 = src_offset;
	r.len = length;
	r.off2 = dst_offset;
	return status_call(src->sf, &r);
}

/* Copy one packed list of names into out as NUL-terminated strings. */
static int put_names(const uint8_t *p, size_t len, char *out, size_t cap,
		     size_t *used)
{
	struct sftp_strlist_iter it;
	const char *name;
	size_t nlen;
	int rc;

	sftp_strlist_iter_init(&it, p, len);
	while ((rc = sftp_strlist_next(&it, &name, &nlen)) > 0) {
		if (nlen >= cap - *used)
			return LIBSSH2_ERROR_BUFFER_TOO_SMALL;
		memcpy(out + *used, name, nlen);
		out[*used + nlen] = '\0';
		*used += nlen + 1;
	}
	return rc < 0 ? LIBSSH2_ERROR_SFTP_PROTOCOL : 0;
}

LIBSSH2_API int libssh2_sftp_users_groups_by_id(
	LIBSSH2_SFTP *sf, const unsigned long *uids, unsigned int nuids,
	const unsigned long *gids, unsigned int ngids, char *names,
	size_t names_len)
{
	struct sreq r = { .type = SREQ_USERS_GROUPS };
	struct sftp_users_groups u;
	uint32_t *ids = NULL;
	uint8_t *reply;
	size_t n, used = 0, i;
	int rc;

	if (!sf || (nuids && !uids) || (ngids && !gids) || !names)
		return LIBSSH2_ERROR_BAD_USE;
	sf->last_status = SSH_FX_OK;
	if (!(sf->core.ext & SFTP_HAS_USERS_GROUPS))
		return not_offered(sf, LIBSSH2_ERROR_METHOD_NOT_SUPPORTED,
				   "users-groups-by-id");
	if (nuids > SFTP_NAMES_MAX || ngids > SFTP_NAMES_MAX)
		return sess_err(sf->s, LIBSSH2_ERROR_INVAL,
				"more than %u ids in one request",
				SFTP_NAMES_MAX);
	/* the ids as the wire has them (every call: a call resumed after
	 * EAGAIN does not encode again, but the arguments are the same) */
	if (nuids + ngids &&
	    !(ids = la_alloc(&sf->s->a,
			     ((size_t)nuids + ngids) * sizeof(*ids))))
		return sess_err(sf->s, LIBSSH2_ERROR_ALLOC, "out of memory");
	for (i = 0; i < nuids; i++)
		ids[i] = (uint32_t)uids[i];
	for (i = 0; i < ngids; i++)
		ids[nuids + i] = (uint32_t)gids[i];
	r.ids1 = ids;
	r.n1 = nuids;
	r.ids2 = ids ? ids + nuids : NULL;
	r.n2 = ngids;
	rc = op_wait(sf, &r, &reply, &n);
	la_free(&sf->s->a, ids);
	if (rc)
		return rc;
	if (reply[0] != SSH_FXP_EXTENDED_REPLY) {
		rc = reply_other(sf, reply, n, "users-groups-by-id");
		goto out;
	}
	u = sftp_dec_users_groups(reply, n);
	if (u.rc || u.n_users != nuids || u.n_groups != ngids) {
		rc = sess_err(sf->s, LIBSSH2_ERROR_SFTP_PROTOCOL,
			      "malformed users-groups-by-id reply");
		goto out;
	}
	if ((rc = put_names(u.users, u.users_len, names, names_len, &used)) ||
	    (rc = put_names(u.groups, u.groups_len, names, names_len, &used))) {
		rc = sess_err(sf->s, rc,
			      rc == LIBSSH2_ERROR_BUFFER_TOO_SMALL
				      ? "the names do not fit the buffer"
				      : "malformed users-groups-by-id reply");
		goto out;
	}
	sf->last_status = SSH_FX_OK;
	rc = (int)used;
out:
	la_free(&sf->s->a, reply);
	return rc;
}

static int statvfs_call(LIBSSH2_SFTP *sf, const struct sreq *r,
			LIBSSH2_SFTP_STATVFS *st)
{
	struct sftp_statvfs v;
	uint8_t *reply;
	size_t n;
	int rc;

	sf->last_status = SSH_FX_OK;
	rc = op_wait(sf, r, &reply, &n);
	if (rc)
		return rc;
	if (reply[0] == SSH_FXP_EXTENDED_REPLY) {
		v = sftp_dec_statvfs(reply, n);
		if (v.rc) {
			rc = sess_err(sf->s, LIBSSH2_ERROR_SFTP_PROTOCOL,
				      "malformed statvfs reply");
		} else {
			st->f_bsize = v.bsize;
			st->f_frsize = v.frsize;
			st->f_blocks = v.blocks;
			st->f_bfree = v.bfree;
			st->f_bavail = v.bavail;
			st->f_files = v.files;
			st->f_ffree = v.ffree;
			st->f_favail = v.favail;
			st->f_fsid = v.fsid;
			/* the two bits libssh2 defines (OpenSSH sends no
			 * others) */
			st->f_flag = v.flag & (LIBSSH2_SFTP_ST_RDONLY |
					       LIBSSH2_SFTP_ST_NOSUID);
			st->f_namemax = v.namemax;
		}
	} else {
		rc = reply_other(sf, reply, n, "statvfs data");
	}
	la_free(&sf->s->a, reply);
	return rc;
}

LIBSSH2_API int libssh2_sftp_statvfs(LIBSSH2_SFTP *sf, const char *path,
				     size_t path_len, LIBSSH2_SFTP_STATVFS *st)
{
	struct sreq r = { .type = SREQ_STATVFS, .p1 = path, .l1 = path_len };

	if (!sf || !st)
		return LIBSSH2_ERROR_BAD_USE;
	/* sent whether announced or not, as libssh2 does: a server
	 * without it answers OP_UNSUPPORTED, one that denies it
	 * PERMISSION_DENIED (sftp-server -P), and that is what the
	 * caller sees through libssh2_sftp_last_error */
	return statvfs_call(sf, &r, st);
}

LIBSSH2_API int libssh2_sftp_fstatvfs(LIBSSH2_SFTP_HANDLE *h,
				      LIBSSH2_SFTP_STATVFS *st)
{
	struct sreq r = { .type = SREQ_FSTATVFS };

	if (!h || !st)
		return LIBSSH2_ERROR_BAD_USE;
	r.h = h->h;
	r.hl = h->hlen;
	/* sent whether announced or not (see libssh2_sftp_statvfs) */
	return statvfs_call(h->sf, &r, st);
}

LIBSSH2_API int libssh2_sftp_fstat_ex(LIBSSH2_SFTP_HANDLE *h,
				      LIBSSH2_SFTP_ATTRIBUTES *attrs,
				      int setstat)
{
	struct sftp_attrs a;
	struct sreq r = { 0 };

	if (!h || !attrs)
		return LIBSSH2_ERROR_BAD_USE;
	r.h = h->h;
	r.hl = h->hlen;
	if (setstat) {
		r.type = SSH_FXP_FSETSTAT;
		attrs_from_lib(attrs, &a);
		r.attrs = &a;
		return status_call(h->sf, &r);
	}
	r.type = SSH_FXP_FSTAT;
	return attrs_call(h->sf, &r, attrs);
}

LIBSSH2_API int libssh2_sftp_fsync(LIBSSH2_SFTP_HANDLE *h)
{
	struct sreq r = { .type = SREQ_FSYNC };
	int rc;

	if (!h)
		return LIBSSH2_ERROR_BAD_USE;
	h->sf->last_status = SSH_FX_OK;
	/* fsync covers what was written: every write must be answered */
	if ((rc = sftp_writes_settle(h)))
		return rc;
	/* sent whether announced or not (see libssh2_sftp_statvfs) */
	r.h = h->h;
	r.hl = h->hlen;
	return status_call(h->sf, &r);
}

/* ---- opening and closing ---------------------------------------------------- */

static int open_step(LIBSSH2_SFTP *sf, const struct sreq *r,
		     LIBSSH2_SFTP_HANDLE **out)
{
	struct sftp_handle hd;
	LIBSSH2_SFTP_HANDLE *h;
	uint8_t *reply;
	size_t n;
	int rc;

	if ((rc = op_step(sf, r, &reply, &n)))
		return rc;
	if (reply[0] == SSH_FXP_STATUS) {
		rc = reply_other(sf, reply, n, "handle");
		la_free(&sf->s->a, reply);
		return rc;
	}
	hd = sftp_dec_handle(reply, n);
	if (reply[0] != SSH_FXP_HANDLE || hd.rc) {
		la_free(&sf->s->a, reply);
		return sess_err(sf->s, LIBSSH2_ERROR_SFTP_PROTOCOL,
				"malformed SFTP handle reply");
	}
	h = la_calloc(&sf->s->a, sizeof(*h));
	if (!h) {
		la_free(&sf->s->a, reply);
		return sess_err(sf->s, LIBSSH2_ERROR_ALLOC, "out of memory");
	}
	h->sf = sf;
	memcpy(h->h, hd.handle, hd.handle_len);
	h->hlen = hd.handle_len;
	h->dir = r->type == SSH_FXP_OPENDIR;
	h->ra_window = SFTP_READAHEAD_MIN;
	h->next = sf->handles;
	sf->handles = h;
	la_free(&sf->s->a, reply);
	sf->last_status = SSH_FX_OK;
	*out = h;
	return 0;
}

LIBSSH2_API LIBSSH2_SFTP_HANDLE *
libssh2_sftp_open_ex_r(LIBSSH2_SFTP *sf, const char *filename,
		       size_t filename_len, unsigned long flags, long mode,
		       int open_type, LIBSSH2_SFTP_ATTRIBUTES *attrs)
{
	LIBSSH2_SFTP_HANDLE *h = NULL;
	struct sftp_attrs a = { 0 };
	struct sreq r = { .p1 = filename, .l1 = filename_len };
	int rc;

	if (!sf || !filename)
		return NULL;
	sf->last_status = SSH_FX_OK;
	if (open_type == LIBSSH2_SFTP_OPENDIR) {
		r.type = SSH_FXP_OPENDIR;
	} else {
		r.type = SSH_FXP_OPEN;
		r.pflags = (uint32_t)flags;
		if (attrs) {
			/* the fields attrs names, the permissions from mode
			 * (libssh2's documented meaning of mode) */
			attrs_from_lib(attrs, &a);
			a.perm = (uint32_t)mode & 07777;
		} else if (flags & LIBSSH2_FXF_CREAT) {
			a.flags = SSH_FILEXFER_ATTR_PERMISSIONS;
			a.perm = (uint32_t)mode & 07777;
		}
		r.attrs = &a;
	}
	rc = SESS_BLOCK(sf->s, open_step(sf, &r, &h));
	if (rc && rc != LIBSSH2_ERROR_EAGAIN)
		op_drop(sf, &r);
	return rc ? NULL : h;
}

LIBSSH2_API LIBSSH2_SFTP_HANDLE *
libssh2_sftp_open_ex(LIBSSH2_SFTP *sf, const char *filename,
		     unsigned int filename_len, unsigned long flags, long mode,
		     int open_type)
{
	return libssh2_sftp_open_ex_r(sf, filename, filename_len, flags, mode,
				      open_type, NULL);
}

static int close_step(LIBSSH2_SFTP_HANDLE *h)
{
	struct sreq r = { .type = SSH_FXP_CLOSE };
	LIBSSH2_SFTP *sf = h->sf;
	uint8_t *reply;
	size_t n;
	int rc;

	if (!h->closing) {
		/* every write answered first: close reports their errors */
		rc = sftp_writes_settle(h);
		if (rc == LIBSSH2_ERROR_EAGAIN)
			return rc;
		h->close_werr = rc; /* kept across EAGAIN returns */
		h->close_wstatus = (uint32_t)sf->last_status;
		sftp_reads_drop(h);
		h->closing = 1;
	}
	r.h = h->h;
	r.hl = h->hlen;
	if ((rc = op_step(sf, &r, &reply, &n)))
		return rc;
	rc = reply_other(sf, reply, n, NULL);
	la_free(&sf->s->a, reply);
	return rc;
}

LIBSSH2_API int libssh2_sftp_close_handle(LIBSSH2_SFTP_HANDLE *h)
{
	int rc, werr;

	if (!h)
		return LIBSSH2_ERROR_BAD_USE;
	h->sf->last_status = SSH_FX_OK;
	rc = SESS_BLOCK(h->sf->s, close_step(h));
	if (rc == LIBSSH2_ERROR_EAGAIN)
		return rc;
	/* (a CLOSE given up on goes with the handle's other requests) */
	werr = h->close_werr;
	if (werr) /* the write's status, not the CLOSE's */
		h->sf->last_status = h->close_wstatus;
	sftp_handle_release(h);
	return werr ? werr : rc;
}

/* ---- position ----------------------------------------------------------------- */

LIBSSH2_API void libssh2_sftp_seek64(LIBSSH2_SFTP_HANDLE *h,
				     libssh2_uint64_t offset)
{
	if (!h || h->offset == offset)
		return;
	/* Read-ahead past the new position is useless. */
	sftp_reads_drop(h);
	/* Writes still in flight were for the old position: they finish
	 * on their own, but their acknowledgements must not move the new
	 * one (their errors are not reported any more). */
	sftp_writes_detach(h);
	h->offset = offset;
	h->ra_window = SFTP_READAHEAD_MIN;
}

LIBSSH2_API void libssh2_sftp_seek(LIBSSH2_SFTP_HANDLE *h, size_t offset)
{
	libssh2_sftp_seek64(h, offset);
}

LIBSSH2_API libssh2_uint64_t libssh2_sftp_tell64(LIBSSH2_SFTP_HANDLE *h)
{
	return h ? h->offset : 0;
}

LIBSSH2_API size_t libssh2_sftp_tell(LIBSSH2_SFTP_HANDLE *h)
{
	return h ? (size_t)h->offset : 0;
}
