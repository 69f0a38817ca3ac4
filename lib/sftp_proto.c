/*
 * sftp_proto.c - SFTP version 3 codec (see sftp_proto.h for the rules).
 *
 * Wire layouts are quoted from filexfer-02 and OpenSSH's PROTOCOL next to
 * the code that writes or reads them.  Nothing here allocates or does
 * I/O; every length and count from the peer is checked against what is
 * left of the packet before it is used.
 */
#include "sftp_proto.h"

#include <string.h>

#include "libssh2.h"

#define EPROTO_SFTP LIBSSH2_ERROR_SFTP_PROTOCOL

/* A writer's sticky error as the library's: full (the caller may flush
 * and retry) or out of memory. */
static int put_err(int err)
{
	return err == BUF_ENOMEM ? LIBSSH2_ERROR_ALLOC
				 : LIBSSH2_ERROR_BUFFER_TOO_SMALL;
}

/* ---- attributes --------------------------------------------------------- */

/*
 * filexfer-02 §5:
 *	uint32	flags
 *	uint64	size			if SSH_FILEXFER_ATTR_SIZE
 *	uint32	uid, gid		if SSH_FILEXFER_ATTR_UIDGID
 *	uint32	permissions		if SSH_FILEXFER_ATTR_PERMISSIONS
 *	uint32	atime, mtime		if SSH_FILEXFER_ATTR_ACMODTIME
 *	uint32	extended_count		if SSH_FILEXFER_ATTR_EXTENDED
 *	string	extended_type, extended_data	(extended_count times)
 */
int sftp_attrs_put(struct wbuf *w, const struct sftp_attrs *a)
{
	uint32_t f = a ? a->flags & SFTP_ATTR_FIELDS : 0;

	if (wb_u32(w, f))
		goto fail;
	if ((f & SSH_FILEXFER_ATTR_SIZE) && wb_u64(w, a->size))
		goto fail;
	if ((f & SSH_FILEXFER_ATTR_UIDGID) &&
	    (wb_u32(w, a->uid) || wb_u32(w, a->gid)))
		goto fail;
	if ((f & SSH_FILEXFER_ATTR_PERMISSIONS) && wb_u32(w, a->perm))
		goto fail;
	if ((f & SSH_FILEXFER_ATTR_ACMODTIME) &&
	    (wb_u32(w, a->atime) || wb_u32(w, a->mtime)))
		goto fail;
	return 0;
fail:
	return put_err(wb_ok(w));
}

/* Skip the extended pairs: nothing we use is carried there. */
static int attrs_skip_ext(struct rbuf *r)
{
	const uint8_t *p;
	uint32_t count, i;
	size_t n;

	if (rb_u32(r, &count))
		return EPROTO_SFTP;
	/* Each pair is at least two empty strings: 8 bytes. */
	if (count > SFTP_ATTR_EXT_MAX || count > rb_left(r) / 8)
		return EPROTO_SFTP;
	for (i = 0; i < count; i++) {
		if (rb_string(r, &p, &n, SFTP_MSG_MAX) ||
		    rb_string(r, &p, &n, SFTP_MSG_MAX))
			return EPROTO_SFTP;
	}
	return 0;
}

int sftp_attrs_get(struct rbuf *r, struct sftp_attrs *out)
{
	struct sftp_attrs a = {0};
	uint32_t f;

	if (rb_u32(r, &f))
		return EPROTO_SFTP;
	if ((f & SSH_FILEXFER_ATTR_SIZE) && rb_u64(r, &a.size))
		return EPROTO_SFTP;
	if ((f & SSH_FILEXFER_ATTR_UIDGID) &&
	    (rb_u32(r, &a.uid) || rb_u32(r, &a.gid)))
		return EPROTO_SFTP;
	if ((f & SSH_FILEXFER_ATTR_PERMISSIONS) && rb_u32(r, &a.perm))
		return EPROTO_SFTP;
	if ((f & SSH_FILEXFER_ATTR_ACMODTIME) &&
	    (rb_u32(r, &a.atime) || rb_u32(r, &a.mtime)))
		return EPROTO_SFTP;
	if ((f & SSH_FILEXFER_ATTR_EXTENDED) && attrs_skip_ext(r))
		return EPROTO_SFTP;
	/* Version 3 defines no other bit, hence no other field to skip;
	 * the flags left say which members of *out are valid. */
	a.flags = f & SFTP_ATTR_FIELDS;
	*out = a;
	return 0;
}

/* ---- framing ------------------------------------------------------------ */

int sftp_frame(const uint8_t *p, size_t n, size_t *pkt_len)
{
	uint32_t len;

	if (n < 4)
		return LIBSSH2_ERROR_EAGAIN;
	/* filexfer-02 §3: uint32 length, then that many bytes.  Refuse a
	 * bad length at once rather than wait for bytes that may never
	 * come: the caller closes the channel. */
	len = get_u32(p);
	if (len < SFTP_MSG_MIN || len > SFTP_MSG_MAX)
		return EPROTO_SFTP;
	if (len > n - 4)
		return LIBSSH2_ERROR_EAGAIN;
	*pkt_len = (size_t)len + 4;
	return 0;
}

int sftp_msg_head(const uint8_t *body, size_t n, uint8_t *type, uint32_t *id)
{
	struct rbuf r;
	uint8_t t;
	uint32_t v;

	rb_init(&r, body, n);
	if (rb_u8(&r, &t) || rb_u32(&r, &v))
		return EPROTO_SFTP;
	*type = t;
	*id = v;
	return 0;
}

/* ---- request building --------------------------------------------------- */

/*
 * One packet under construction.  Every request starts
 *	uint32	length		(poked by pkt_end)
 *	byte	type
 *	uint32	id
 *	string	extension-name	(SSH_FXP_EXTENDED only, filexfer-02 §8)
 */
struct pkt {
	size_t start; /* w->len before the packet */
	size_t mark;  /* just after the length field */
	int sticky;   /* the writer had already failed: leave it alone */
};

static int pkt_begin(struct wbuf *w, struct pkt *k, uint8_t type, uint32_t id,
		     const char *ext)
{
	k->start = w->len;
	k->mark = 0;
	k->sticky = wb_ok(w);
	if (k->sticky)
		return k->sticky;
	if (wb_begin_len(w, &k->mark) || wb_u8(w, type) || wb_u32(w, id))
		return wb_ok(w);
	if (ext && wb_cstring(w, ext))
		return wb_ok(w);
	return 0;
}

/* Drop the partial packet; rc 0 means "the writer's error". */
static int pkt_fail(struct wbuf *w, const struct pkt *k, int rc)
{
	if (k->sticky)
		return put_err(k->sticky);
	if (!rc)
		rc = put_err(wb_ok(w));
	w->len = k->start;
	w->err = 0;
	return rc;
}

static int pkt_end(struct wbuf *w, const struct pkt *k)
{
	if (wb_ok(w))
		return pkt_fail(w, k, 0);
	if (w->len - k->mark > SFTP_MSG_MAX)
		return pkt_fail(w, k, LIBSSH2_ERROR_INVAL);
	wb_end_len(w, k->mark);
	return 0;
}

/* type, id [, ext], string path */
static int enc_path(struct wbuf *w, uint8_t type, const char *ext, uint32_t id,
		    const char *path, size_t len)
{
	struct pkt k;

	if (pkt_begin(w, &k, type, id, ext) || wb_string(w, path, len))
		return pkt_fail(w, &k, 0);
	return pkt_end(w, &k);
}

/* type, id [, ext], string handle */
static int enc_handle(struct wbuf *w, uint8_t type, const char *ext,
		      uint32_t id, const uint8_t *h, size_t len)
{
	struct pkt k;

	if (len > SFTP_HANDLE_MAX)
		return LIBSSH2_ERROR_INVAL;
	if (pkt_begin(w, &k, type, id, ext) || wb_string(w, h, len))
		return pkt_fail(w, &k, 0);
	return pkt_end(w, &k);
}

/* type, id [, ext], string path, ATTRS attrs */
static int enc_path_attrs(struct wbuf *w, uint8_t type, const char *ext,
			  uint32_t id, const char *path, size_t len,
			  const struct sftp_attrs *a)
{
	struct pkt k;

	if (pkt_begin(w, &k, type, id, ext) || wb_string(w, path, len) ||
	    sftp_attrs_put(w, a))
		return pkt_fail(w, &k, 0);
	return pkt_end(w, &k);
}

/* type, id [, ext], string a, string b */
static int enc_two(struct wbuf *w, uint8_t type, const char *ext, uint32_t id,
		   const char *a, size_t a_len, const char *b, size_t b_len)
{
	struct pkt k;

	if (pkt_begin(w, &k, type, id, ext) || wb_string(w, a, a_len) ||
	    wb_string(w, b, b_len))
		return pkt_fail(w, &k, 0);
	return pkt_end(w, &k);
}

/* ---- requests (filexfer-02 §4, §6) -------------------------------------- */

int sftp_enc_init(struct wbuf *w)
{
	struct pkt k;

	/* filexfer-02 §4: byte SSH_FXP_INIT, uint32 version; a version 3
	 * client sends no extension pairs. */
	if (pkt_begin(w, &k, SSH_FXP_INIT, SFTP_PROTO_VERSION, NULL))
		return pkt_fail(w, &k, 0);
	return pkt_end(w, &k);
}

int sftp_enc_open(struct wbuf *w, uint32_t id, const char *path,
		  size_t path_len, uint32_t pflags,
		  const struct sftp_attrs *attrs)
{
	struct pkt k;

	/* filexfer-02 §6.3: string filename, uint32 pflags, ATTRS attrs */
	if (pkt_begin(w, &k, SSH_FXP_OPEN, id, NULL) ||
	    wb_string(w, path, path_len) || wb_u32(w, pflags) ||
	    sftp_attrs_put(w, attrs))
		return pkt_fail(w, &k, 0);
	return pkt_end(w, &k);
}

int sftp_enc_close(struct wbuf *w, uint32_t id, const uint8_t *h, size_t h_len)
{
	return enc_handle(w, SSH_FXP_CLOSE, NULL, id, h, h_len);
}

int sftp_enc_read(struct wbuf *w, uint32_t id, const uint8_t *h, size_t h_len,
		  uint64_t offset, uint32_t len)
{
	struct pkt k;

	/* A longer read could be answered with a DATA packet over
	 * SFTP_MSG_MAX, which sftp_frame() refuses. */
	if (h_len > SFTP_HANDLE_MAX || len > SFTP_DATA_MAX)
		return LIBSSH2_ERROR_INVAL;
	/* filexfer-02 §6.4: string handle, uint64 offset, uint32 len */
	if (pkt_begin(w, &k, SSH_FXP_READ, id, NULL) ||
	    wb_string(w, h, h_len) || wb_u64(w, offset) || wb_u32(w, len))
		return pkt_fail(w, &k, 0);
	return pkt_end(w, &k);
}

int sftp_enc_write_reserve(struct wbuf *w, uint32_t id, const uint8_t *h,
			   size_t h_len, uint64_t offset, size_t len,
			   uint8_t **data)
{
	struct pkt k;
	uint8_t *d;
	int rc;

	if (h_len > SFTP_HANDLE_MAX || len > SFTP_DATA_MAX)
		return LIBSSH2_ERROR_INVAL;
	/* filexfer-02 §6.4: string handle, uint64 offset, string data */
	if (pkt_begin(w, &k, SSH_FXP_WRITE, id, NULL) ||
	    wb_string(w, h, h_len) || wb_u64(w, offset) ||
	    wb_u32(w, (uint32_t)len) || wb_reserve(w, len, &d))
		return pkt_fail(w, &k, 0);
	rc = pkt_end(w, &k);
	if (!rc)
		*data = d;
	return rc;
}

int sftp_enc_write(struct wbuf *w, uint32_t id, const uint8_t *h, size_t h_len,
		   uint64_t offset, const void *data, size_t len)
{
	uint8_t *d;
	int rc;

	rc = sftp_enc_write_reserve(w, id, h, h_len, offset, len, &d);
	if (!rc && len)
		memcpy(d, data, len);
	return rc;
}

int sftp_enc_lstat(struct wbuf *w, uint32_t id, const char *path,
		   size_t path_len)
{
	return enc_path(w, SSH_FXP_LSTAT, NULL, id, path, path_len);
}

int sftp_enc_fstat(struct wbuf *w, uint32_t id, const uint8_t *h, size_t h_len)
{
	return enc_handle(w, SSH_FXP_FSTAT, NULL, id, h, h_len);
}

int sftp_enc_setstat(struct wbuf *w, uint32_t id, const char *path,
		     size_t path_len, const struct sftp_attrs *attrs)
{
	return enc_path_attrs(w, SSH_FXP_SETSTAT, NULL, id, path, path_len,
			      attrs);
}

int sftp_enc_fsetstat(struct wbuf *w, uint32_t id, const uint8_t *h,
		      size_t h_len, const struct sftp_attrs *attrs)
{
	struct pkt k;

	if (h_len > SFTP_HANDLE_MAX)
		return LIBSSH2_ERROR_INVAL;
	/* filexfer-02 §6.9: string handle, ATTRS attrs */
	if (pkt_begin(w, &k, SSH_FXP_FSETSTAT, id, NULL) ||
	    wb_string(w, h, h_len) || sftp_attrs_put(w, attrs))
		return pkt_fail(w, &k, 0);
	return pkt_end(w, &k);
}

int sftp_enc_opendir(struct wbuf *w, uint32_t id, const char *path,
		     size_t path_len)
{
	return enc_path(w, SSH_FXP_OPENDIR, NULL, id, path, path_len);
}

int sftp_enc_readdir(struct wbuf *w, uint32_t id, const uint8_t *h,
		     size_t h_len)
{
	return enc_handle(w, SSH_FXP_READDIR, NULL, id, h, h_len);
}

int sftp_enc_remove(struct wbuf *w, uint32_t id, const char *path,
		    size_t path_len)
{
	return enc_path(w, SSH_FXP_REMOVE, NULL, id, path, path_len);
}

int sftp_enc_mkdir(struct wbuf *w, uint32_t id, const char *path,
		   size_t path_len, const struct sftp_attrs *attrs)
{
	return enc_path_attrs(w, SSH_FXP_MKDIR, NULL, id, path, path_len,
			      attrs);
}

int sftp_enc_rmdir(struct wbuf *w, uint32_t id, const char *path,
		   size_t path_len)
{
	return enc_path(w, SSH_FXP_RMDIR, NULL, id, path, path_len);
}

int sftp_enc_realpath(struct wbuf *w, uint32_t id, const char *path,
		      size_t path_len)
{
	return enc_path(w, SSH_FXP_REALPATH, NULL, id, path, path_len);
}

int sftp_enc_stat(struct wbuf *w, uint32_t id, const char *path,
		  size_t path_len)
{
	return enc_path(w, SSH_FXP_STAT, NULL, id, path, path_len);
}

int sftp_enc_rename(struct wbuf *w, uint32_t id, const char *oldpath,
		    size_t old_len, const char *newpath, size_t new_len)
{
	return enc_two(w, SSH_FXP_RENAME, NULL, id, oldpath, old_len, newpath,
		       new_len);
}

int sftp_enc_readlink(struct wbuf *w, uint32_t id, const char *path,
		      size_t path_len)
{
	return enc_path(w, SSH_FXP_READLINK, NULL, id, path, path_len);
}

int sftp_enc_symlink(struct wbuf *w, uint32_t id, const char *first,
		     size_t first_len, const char *second, size_t second_len)
{
	/* See the header: the order is the caller's (filexfer-02 §6.10
	 * versus OpenSSH PROTOCOL). */
	return enc_two(w, SSH_FXP_SYMLINK, NULL, id, first, first_len, second,
		       second_len);
}

/* ---- OpenSSH extensions (OpenSSH PROTOCOL) ------------------------------ */

int sftp_enc_posix_rename(struct wbuf *w, uint32_t id, const char *oldpath,
			  size_t old_len, const char *newpath, size_t new_len)
{
	/* string "posix-rename@openssh.com", string oldpath, newpath */
	return enc_two(w, SSH_FXP_EXTENDED, SFTP_EXT_POSIX_RENAME, id, oldpath,
		       old_len, newpath, new_len);
}

int sftp_enc_statvfs(struct wbuf *w, uint32_t id, const char *path,
		     size_t path_len)
{
	return enc_path(w, SSH_FXP_EXTENDED, SFTP_EXT_STATVFS, id, path,
			path_len);
}

int sftp_enc_fstatvfs(struct wbuf *w, uint32_t id, const uint8_t *h,
		      size_t h_len)
{
	return enc_handle(w, SSH_FXP_EXTENDED, SFTP_EXT_FSTATVFS, id, h, h_len);
}

int sftp_enc_hardlink(struct wbuf *w, uint32_t id, const char *oldpath,
		      size_t old_len, const char *newpath, size_t new_len)
{
	return enc_two(w, SSH_FXP_EXTENDED, SFTP_EXT_HARDLINK, id, oldpath,
		       old_len, newpath, new_len);
}

int sftp_enc_fsync(struct wbuf *w, uint32_t id, const uint8_t *h, size_t h_len)
{
	return enc_handle(w, SSH_FXP_EXTENDED, SFTP_EXT_FSYNC, id, h, h_len);
}

int sftp_enc_lsetstat(struct wbuf *w, uint32_t id, const char *path,
		      size_t path_len, const struct sftp_attrs *attrs)
{
	return enc_path_attrs(w, SSH_FXP_EXTENDED, SFTP_EXT_LSETSTAT, id, path,
			      path_len, attrs);
}

int sftp_enc_limits(struct wbuf *w, uint32_t id)
{
	struct pkt k;

	/* string "limits@openssh.com", nothing else */
	if (pkt_begin(w, &k, SSH_FXP_EXTENDED, id, SFTP_EXT_LIMITS))
		return pkt_fail(w, &k, 0);
	return pkt_end(w, &k);
}

int sftp_enc_expand_path(struct wbuf *w, uint32_t id, const char *path,
			 size_t path_len)
{
	return enc_path(w, SSH_FXP_EXTENDED, SFTP_EXT_EXPAND_PATH, id, path,
			path_len);
}

int sftp_enc_copy_data(struct wbuf *w, uint32_t id, const uint8_t *src_h,
		       size_t src_h_len, uint64_t src_off, uint64_t len,
		       const uint8_t *dst_h, size_t dst_h_len, uint64_t dst_off)
{
	struct pkt k;

	if (src_h_len > SFTP_HANDLE_MAX || dst_h_len > SFTP_HANDLE_MAX)
		return LIBSSH2_ERROR_INVAL;
	/*
	 *	string	"copy-data"
	 *	string	read-from-handle
	 *	uint64	read-from-offset
	 *	uint64	read-data-length
	 *	string	write-to-handle
	 *	uint64	write-to-offset
	 */
	if (pkt_begin(w, &k, SSH_FXP_EXTENDED, id, SFTP_EXT_COPY_DATA) ||
	    wb_string(w, src_h, src_h_len) || wb_u64(w, src_off) ||
	    wb_u64(w, len) || wb_string(w, dst_h, dst_h_len) ||
	    wb_u64(w, dst_off))
		return pkt_fail(w, &k, 0);
	return pkt_end(w, &k);
}

int sftp_enc_home_directory(struct wbuf *w, uint32_t id, const char *user,
			    size_t user_len)
{
	return enc_path(w, SSH_FXP_EXTENDED, SFTP_EXT_HOME_DIRECTORY, id, user,
			user_len);
}

/* string holding n packed uint32 ids */
static int put_ids(struct wbuf *w, const uint32_t *ids, size_t n)
{
	size_t mark, i;

	if (wb_begin_len(w, &mark))
		return wb_ok(w);
	for (i = 0; i < n; i++) {
		if (wb_u32(w, ids[i]))
			return wb_ok(w);
	}
	wb_end_len(w, mark);
	return 0;
}

int sftp_enc_users_groups_by_id(struct wbuf *w, uint32_t id,
				const uint32_t *uids, size_t n_uids,
				const uint32_t *gids, size_t n_gids)
{
	struct pkt k;

	if (n_uids > SFTP_NAMES_MAX || n_gids > SFTP_NAMES_MAX)
		return LIBSSH2_ERROR_INVAL;
	/* string "users-groups-by-id@openssh.com", string uids, string
	 * gids; each string is a run of uint32 ids. */
	if (pkt_begin(w, &k, SSH_FXP_EXTENDED, id, SFTP_EXT_USERS_GROUPS) ||
	    put_ids(w, uids, n_uids) || put_ids(w, gids, n_gids))
		return pkt_fail(w, &k, 0);
	return pkt_end(w, &k);
}

/* ---- replies (filexfer-02 §4, §7) --------------------------------------- */

/* Start a reader on body and check type; *id is the id (or version). */
static int dec_begin(struct rbuf *r, const uint8_t *body, size_t n,
		     uint8_t type, uint32_t *id)
{
	uint8_t t;

	rb_init(r, body, n);
	if (rb_u8(r, &t) || t != type || rb_u32(r, id))
		return EPROTO_SFTP;
	return 0;
}

void sftp_ext_iter_init(struct sftp_ext_iter *it, const struct sftp_version *v)
{
	rb_init(&it->r, v->ext, v->ext_len);
}

int sftp_ext_next(struct sftp_ext_iter *it, struct sftp_ext *e)
{
	struct sftp_ext x;

	if (rb_left(&it->r) == 0)
		return 0;
	if (rb_text(&it->r, &x.name, &x.name_len, SFTP_MSG_MAX) ||
	    rb_string(&it->r, &x.data, &x.data_len, SFTP_MSG_MAX))
		return EPROTO_SFTP;
	*e = x;
	return 1;
}

/*
 * filexfer-02 §4:
 *	byte	SSH_FXP_VERSION
 *	uint32	version
 *	string	extension_name, extension_data	(until the end)
 */
struct sftp_version sftp_dec_version(const uint8_t *body, size_t n)
{
	struct sftp_version v = {0};
	struct sftp_ext_iter it;
	struct sftp_ext e;
	int rc;

	if (dec_begin(&it.r, body, n, SSH_FXP_VERSION, &v.version))
		goto bad;
	v.ext = rb_cur(&it.r);
	v.ext_len = rb_left(&it.r);
	while ((rc = sftp_ext_next(&it, &e)) == 1) {
		if (++v.ext_count > SFTP_EXT_MAX)
			goto bad;
	}
	if (rc < 0 || rb_done(&it.r))
		goto bad;
	return v;
bad:
	return (struct sftp_version){.rc = EPROTO_SFTP};
}

int sftp_version_find(const struct sftp_version *v, const char *name,
		      struct sftp_ext *e)
{
	struct sftp_ext_iter it;
	struct sftp_ext x;
	size_t len = strlen(name);

	sftp_ext_iter_init(&it, v);
	while (sftp_ext_next(&it, &x) == 1) {
		if (x.name_len == len && !memcmp(x.name, name, len)) {
			*e = x;
			return 0;
		}
	}
	return -1;
}

/*
 * filexfer-02 §7:
 *	uint32	id
 *	uint32	error/status code
 *	string	error message		(optional here, see the header)
 *	string	language tag		(optional here)
 */
struct sftp_status sftp_dec_status(const uint8_t *body, size_t n)
{
	struct sftp_status s = {0};
	const uint8_t *msg = (const uint8_t *)"", *lang = msg;
	struct rbuf r;

	if (dec_begin(&r, body, n, SSH_FXP_STATUS, &s.id) ||
	    rb_u32(&r, &s.code))
		goto bad;
	if (rb_left(&r) && rb_string(&r, &msg, &s.msg_len, SFTP_MSG_MAX))
		goto bad;
	if (rb_left(&r) && rb_string(&r, &lang, &s.lang_len, SFTP_MSG_MAX))
		goto bad;
	if (rb_done(&r))
		goto bad;
	s.msg = (const char *)msg;
	s.lang = (const char *)lang;
	return s;
bad:
	return (struct sftp_status){.rc = EPROTO_SFTP};
}

/* filexfer-02 §7: uint32 id, string handle (at most 256 bytes) */
struct sftp_handle sftp_dec_handle(const uint8_t *body, size_t n)
{
	struct sftp_handle h = {0};
	struct rbuf r;

	if (dec_begin(&r, body, n, SSH_FXP_HANDLE, &h.id) ||
	    rb_string(&r, &h.handle, &h.handle_len, SFTP_HANDLE_MAX) ||
	    rb_done(&r))
		return (struct sftp_handle){.rc = EPROTO_SFTP};
	return h;
}

/* filexfer-02 §7: uint32 id, string data */
struct sftp_data sftp_dec_data(const uint8_t *body, size_t n)
{
	struct sftp_data d = {0};
	struct rbuf r;

	if (dec_begin(&r, body, n, SSH_FXP_DATA, &d.id) ||
	    rb_string(&r, &d.data, &d.len, SFTP_MSG_MAX) || rb_done(&r))
		return (struct sftp_data){.rc = EPROTO_SFTP};
	return d;
}

/* string filename, string longname, ATTRS attrs */
static int name_entry(struct rbuf *r, struct sftp_name_entry *e)
{
	struct sftp_name_entry x;
	const uint8_t *ln;

	if (rb_text(r, &x.filename, &x.filename_len, SFTP_MSG_MAX) ||
	    rb_string(r, &ln, &x.longname_len, SFTP_MSG_MAX) ||
	    sftp_attrs_get(r, &x.attrs))
		return EPROTO_SFTP;
	x.longname = (const char *)ln;
	*e = x;
	return 0;
}

void sftp_names_iter_init(struct sftp_name_iter *it,
			  const struct sftp_names *names)
{
	rb_init(&it->r, names->entries, names->entries_len);
	it->left = names->count;
}

int sftp_names_next(struct sftp_name_iter *it, struct sftp_name_entry *e)
{
	if (it->left == 0)
		return 0;
	if (name_entry(&it->r, e))
		return EPROTO_SFTP;
	it->left--;
	return 1;
}

/*
 * filexfer-02 §7:
 *	uint32	id
 *	uint32	count
 *	string	filename, string longname, ATTRS attrs	(count times)
 * The count is checked against what the packet can hold before the walk.
 */
struct sftp_names sftp_dec_names(const uint8_t *body, size_t n)
{
	struct sftp_names ns = {0};
	struct sftp_name_entry e;
	struct rbuf r;
	uint32_t i;

	if (dec_begin(&r, body, n, SSH_FXP_NAME, &ns.id) ||
	    rb_u32(&r, &ns.count))
		goto bad;
	if (ns.count > SFTP_NAMES_MAX ||
	    ns.count > rb_left(&r) / SFTP_NAME_ENTRY_MIN)
		goto bad;
	ns.entries = rb_cur(&r);
	ns.entries_len = rb_left(&r);
	for (i = 0; i < ns.count; i++) {
		if (name_entry(&r, &e))
			goto bad;
	}
	if (rb_done(&r))
		goto bad;
	return ns;
bad:
	return (struct sftp_names){.rc = EPROTO_SFTP};
}

struct sftp_name1 sftp_dec_name1(const uint8_t *body, size_t n)
{
	struct sftp_names ns = sftp_dec_names(body, n);
	struct sftp_name1 one = {0};
	struct sftp_name_iter it;

	if (ns.rc || ns.count != 1)
		return (struct sftp_name1){.rc = EPROTO_SFTP};
	sftp_names_iter_init(&it, &ns);
	if (sftp_names_next(&it, &one.e) != 1)
		return (struct sftp_name1){.rc = EPROTO_SFTP};
	one.id = ns.id;
	return one;
}

/* filexfer-02 §7: uint32 id, ATTRS attrs */
struct sftp_attrs_reply sftp_dec_attrs(const uint8_t *body, size_t n)
{
	struct sftp_attrs_reply a = {0};
	struct rbuf r;

	if (dec_begin(&r, body, n, SSH_FXP_ATTRS, &a.id) ||
	    sftp_attrs_get(&r, &a.attrs) || rb_done(&r))
		return (struct sftp_attrs_reply){.rc = EPROTO_SFTP};
	return a;
}

/* filexfer-02 §8: uint32 id, any extension-specific data to the end */
struct sftp_ext_reply sftp_dec_ext_reply(const uint8_t *body, size_t n)
{
	struct sftp_ext_reply x = {0};
	struct rbuf r;

	if (dec_begin(&r, body, n, SSH_FXP_EXTENDED_REPLY, &x.id))
		return (struct sftp_ext_reply){.rc = EPROTO_SFTP};
	x.len = rb_left(&r);
	if (rb_bytes(&r, x.len, &x.data) || rb_done(&r))
		return (struct sftp_ext_reply){.rc = EPROTO_SFTP};
	return x;
}

/*
 * OpenSSH PROTOCOL, statvfs@openssh.com: uint32 id, then eleven uint64
 * f_bsize f_frsize f_blocks f_bfree f_bavail f_files f_ffree f_favail
 * f_fsid f_flag f_namemax, in that order.
 */
struct sftp_statvfs sftp_dec_statvfs(const uint8_t *body, size_t n)
{
	struct sftp_statvfs s = {0};
	uint64_t *f[] = {&s.bsize,  &s.frsize, &s.blocks, &s.bfree,
			 &s.bavail, &s.files,  &s.ffree,  &s.favail,
			 &s.fsid,   &s.flag,   &s.namemax};
	struct rbuf r;
	size_t i;

	if (dec_begin(&r, body, n, SSH_FXP_EXTENDED_REPLY, &s.id))
		goto bad;
	for (i = 0; i < sizeof(f) / sizeof(f[0]); i++) {
		if (rb_u64(&r, f[i]))
			goto bad;
	}
	if (rb_done(&r))
		goto bad;
	return s;
bad:
	return (struct sftp_statvfs){.rc = EPROTO_SFTP};
}

/*
 * OpenSSH PROTOCOL, limits@openssh.com: uint32 id, uint64
 * max-packet-length, max-read-length, max-write-length, max-open-handles
 */
struct sftp_limits sftp_dec_limits(const uint8_t *body, size_t n)
{
	struct sftp_limits l = {0};
	struct rbuf r;

	if (dec_begin(&r, body, n, SSH_FXP_EXTENDED_REPLY, &l.id) ||
	    rb_u64(&r, &l.max_packet_len) || rb_u64(&r, &l.max_read_len) ||
	    rb_u64(&r, &l.max_write_len) || rb_u64(&r, &l.max_open_handles) ||
	    rb_done(&r))
		return (struct sftp_limits){.rc = EPROTO_SFTP};
	return l;
}

void sftp_strlist_iter_init(struct sftp_strlist_iter *it, const uint8_t *p,
			    size_t len)
{
	rb_init(&it->r, p, len);
}

int sftp_strlist_next(struct sftp_strlist_iter *it, const char **s, size_t *len)
{
	const char *p;
	size_t n;

	if (rb_left(&it->r) == 0)
		return 0;
	if (rb_text(&it->r, &p, &n, SFTP_MSG_MAX))
		return EPROTO_SFTP;
	*s = p;
	*len = n;
	return 1;
}

/* Count the names of a packed list, checking every one. */
static int strlist_count(const uint8_t *p, size_t len, uint32_t *count)
{
	struct sftp_strlist_iter it;
	const char *s;
	uint32_t c = 0;
	size_t n;
	int rc;

	sftp_strlist_iter_init(&it, p, len);
	while ((rc = sftp_strlist_next(&it, &s, &n)) == 1) {
		if (++c > SFTP_NAMES_MAX)
			return EPROTO_SFTP;
	}
	if (rc < 0 || rb_done(&it.r))
		return EPROTO_SFTP;
	*count = c;
	return 0;
}

/*
 * OpenSSH PROTOCOL, users-groups-by-id@openssh.com:
 *	uint32	id
 *	string	usernames	(a run of strings, one per uid asked)
 *	string	groupnames	(a run of strings, one per gid asked)
 */
struct sftp_users_groups sftp_dec_users_groups(const uint8_t *body, size_t n)
{
	struct sftp_users_groups u = {0};
	struct rbuf r;

	if (dec_begin(&r, body, n, SSH_FXP_EXTENDED_REPLY, &u.id) ||
	    rb_string(&r, &u.users, &u.users_len, SFTP_MSG_MAX) ||
	    rb_string(&r, &u.groups, &u.groups_len, SFTP_MSG_MAX) ||
	    rb_done(&r))
		goto bad;
	if (strlist_count(u.users, u.users_len, &u.n_users) ||
	    strlist_count(u.groups, u.groups_len, &u.n_groups))
		goto bad;
	return u;
bad:
	return (struct sftp_users_groups){.rc = EPROTO_SFTP};
}

/* ---- messages ----------------------------------------------------------- */

static const char *const status_text[] = {
	[SSH_FX_OK] = "success",
	[SSH_FX_EOF] = "end of file",
	[SSH_FX_NO_SUCH_FILE] = "no such file",
	[SSH_FX_PERMISSION_DENIED] = "permission denied",
	[SSH_FX_FAILURE] = "failure",
	[SSH_FX_BAD_MESSAGE] = "bad message",
	[SSH_FX_NO_CONNECTION] = "no connection",
	[SSH_FX_CONNECTION_LOST] = "connection lost",
	[SSH_FX_OP_UNSUPPORTED] = "operation not supported",
	[SSH_FX_INVALID_HANDLE] = "invalid handle",
	[SSH_FX_NO_SUCH_PATH] = "no such path",
	[SSH_FX_FILE_ALREADY_EXISTS] = "file already exists",
	[SSH_FX_WRITE_PROTECT] = "write protected",
	[SSH_FX_NO_MEDIA] = "no media",
	[SSH_FX_NO_SPACE_ON_FILESYSTEM] = "no space left on file system",
	[SSH_FX_QUOTA_EXCEEDED] = "quota exceeded",
	[SSH_FX_UNKNOWN_PRINCIPAL] = "unknown principal",
	[SSH_FX_LOCK_CONFLICT] = "lock conflict",
	[SSH_FX_DIR_NOT_EMPTY] = "directory not empty",
	[SSH_FX_NOT_A_DIRECTORY] = "not a directory",
	[SSH_FX_INVALID_FILENAME] = "invalid file name",
	[SSH_FX_LINK_LOOP] = "too many levels of symbolic links",
	[SSH_FX_CANNOT_DELETE] = "cannot delete",
	[SSH_FX_INVALID_PARAMETER] = "invalid parameter",
	[SSH_FX_FILE_IS_A_DIRECTORY] = "is a directory",
	[SSH_FX_BYTE_RANGE_LOCK_CONFLICT] = "byte-range lock conflict",
	[SSH_FX_BYTE_RANGE_LOCK_REFUSED] = "byte-range lock refused",
	[SSH_FX_DELETE_PENDING] = "delete pending",
	[SSH_FX_FILE_CORRUPT] = "file corrupt",
	[SSH_FX_OWNER_INVALID] = "invalid owner",
	[SSH_FX_GROUP_INVALID] = "invalid group",
	[SSH_FX_NO_MATCHING_BYTE_RANGE_LOCK] = "no matching byte-range lock",
};

const char *sftp_status_str(uint32_t code)
{
	if (code < sizeof(status_text) / sizeof(status_text[0]) &&
	    status_text[code])
		return status_text[code];
	return "unknown status";
}
