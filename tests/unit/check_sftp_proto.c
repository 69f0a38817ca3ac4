/*
 * check_sftp_proto.c - unit tests of the SFTP v3 codec (lib/sftp_proto.c).
 *
 * Requests: hand-written golden bytes for a few, and for every encoder a
 * parse of what it wrote, field by field, with the reader of lib/buf.
 * Replies: golden bodies decoded to known values, then every truncation
 * and every single-bit flip of each golden through every decoder: a
 * decoder either fails or returns something that re-encodes to a packet
 * that decodes to the same thing again (run under ASan/UBSan: mutants
 * live in buffers of their exact size).  The framer is fed streams split
 * at every byte.
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "libssh2.h"

#include "buf.h"
#include "sftp_proto.h"

#define EPROTO_SFTP LIBSSH2_ERROR_SFTP_PROTOCOL
#define PUT(x)	    ck_assert_int_eq((x), 0)
/* A golden as (pointer, length) from a string literal. */
#define G(s) (const uint8_t *)(s), sizeof(s) - 1

static const uint8_t H[] = {0xde, 0xad, 0xbe, 0xef};

static const struct sftp_attrs A_FULL = {
	.flags = SFTP_ATTR_FIELDS,
	.size = 0x1122334455667788ull,
	.uid = 1000,
	.gid = 100,
	.perm = 0100644,
	.atime = 1,
	.mtime = 2,
};

static const struct sftp_attrs A_PERM = {
	.flags = SSH_FILEXFER_ATTR_PERMISSIONS,
	.perm = 040755,
};

static void wnew(struct wbuf *w)
{
	wb_init(w, &lalloc_system, 1u << 20);
}

static void ck_bytes(const struct wbuf *w, const uint8_t *p, size_t n)
{
	PUT(wb_ok(w));
	ck_assert_uint_eq(w->len, n);
	ck_assert(memcmp(w->p, p, n) == 0);
}

/* ---- request parsing (test side) ---------------------------------------- */

static void attrs_eq(const struct sftp_attrs *a, const struct sftp_attrs *b)
{
	uint32_t f = a->flags;

	ck_assert_uint_eq(a->flags, b->flags);
	if (f & SSH_FILEXFER_ATTR_SIZE)
		ck_assert(a->size == b->size);
	if (f & SSH_FILEXFER_ATTR_UIDGID) {
		ck_assert_uint_eq(a->uid, b->uid);
		ck_assert_uint_eq(a->gid, b->gid);
	}
	if (f & SSH_FILEXFER_ATTR_PERMISSIONS)
		ck_assert_uint_eq(a->perm, b->perm);
	if (f & SSH_FILEXFER_ATTR_ACMODTIME) {
		ck_assert_uint_eq(a->atime, b->atime);
		ck_assert_uint_eq(a->mtime, b->mtime);
	}
}

/* Open the single packet in w: length, type, id. */
static void req_begin(struct rbuf *r, const struct wbuf *w, uint8_t type,
		      uint32_t id)
{
	uint32_t len, v;
	uint8_t t;

	PUT(wb_ok(w));
	rb_init(r, w->p, w->len);
	PUT(rb_u32(r, &len));
	ck_assert_uint_eq(len, w->len - 4);
	PUT(rb_u8(r, &t));
	ck_assert_uint_eq(t, type);
	PUT(rb_u32(r, &v));
	ck_assert_uint_eq(v, id);
}

static void want_str(struct rbuf *r, const void *s, size_t n)
{
	const uint8_t *p;
	size_t len;

	PUT(rb_string(r, &p, &len, SIZE_MAX));
	ck_assert_uint_eq(len, n);
	ck_assert(n == 0 || memcmp(p, s, n) == 0);
}

static void want_cstr(struct rbuf *r, const char *s)
{
	want_str(r, s, strlen(s));
}

static void want_u32(struct rbuf *r, uint32_t v)
{
	uint32_t x;

	PUT(rb_u32(r, &x));
	ck_assert_uint_eq(x, v);
}

static void want_u64(struct rbuf *r, uint64_t v)
{
	uint64_t x;

	PUT(rb_u64(r, &x));
	ck_assert(x == v);
}

static void want_attrs(struct rbuf *r, const struct sftp_attrs *a)
{
	struct sftp_attrs x;

	PUT(sftp_attrs_get(r, &x));
	attrs_eq(&x, a);
}

static void ext_begin(struct rbuf *r, const struct wbuf *w, uint32_t id,
		      const char *name)
{
	req_begin(r, w, SSH_FXP_EXTENDED, id);
	want_cstr(r, name);
}

static void req_end(struct rbuf *r)
{
	PUT(rb_done(r));
}

/* ---- requests: golden bytes --------------------------------------------- */

/* clang-format off */
START_TEST(req_golden)
{
	static const uint32_t uids[] = { 0, 1000 }, gids[] = { 100 };
	struct wbuf w;

	wnew(&w);
	PUT(sftp_enc_init(&w));
	ck_bytes(&w, G("\x00\x00\x00\x05" "\x01" "\x00\x00\x00\x03"));
	wb_reset(&w);
	PUT(sftp_enc_open(&w, 1, "/a", 2,
			  SSH_FXF_READ | SSH_FXF_WRITE | SSH_FXF_CREAT,
			  &(struct sftp_attrs){ .flags = 4, .perm = 0644 }));
	ck_bytes(&w, G("\x00\x00\x00\x17" "\x03" "\x00\x00\x00\x01"
		       "\x00\x00\x00\x02" "/a" "\x00\x00\x00\x0b"
		       "\x00\x00\x00\x04" "\x00\x00\x01\xa4"));
	wb_reset(&w);
	PUT(sftp_enc_read(&w, 7, (const uint8_t *)"h1", 2, 1ull << 32, 32768));
	ck_bytes(&w, G("\x00\x00\x00\x17" "\x05" "\x00\x00\x00\x07"
		       "\x00\x00\x00\x02" "h1"
		       "\x00\x00\x00\x01\x00\x00\x00\x00" "\x00\x00\x80\x00"));
	wb_reset(&w);
	PUT(sftp_enc_write(&w, 8, (const uint8_t *)"h", 1, 16, "abc", 3));
	ck_bytes(&w, G("\x00\x00\x00\x19" "\x06" "\x00\x00\x00\x08"
		       "\x00\x00\x00\x01" "h" "\x00\x00\x00\x00\x00\x00\x00\x10"
		       "\x00\x00\x00\x03" "abc"));
	wb_reset(&w);
	PUT(sftp_enc_symlink(&w, 9, "t", 1, "l", 1));
	ck_bytes(&w, G("\x00\x00\x00\x0f" "\x14" "\x00\x00\x00\x09"
		       "\x00\x00\x00\x01" "t" "\x00\x00\x00\x01" "l"));
	wb_reset(&w);
	PUT(sftp_enc_fsetstat(&w, 14, (const uint8_t *)"h", 1, &A_FULL));
	ck_bytes(&w, G("\x00\x00\x00\x2a" "\x0a" "\x00\x00\x00\x0e"
		       "\x00\x00\x00\x01" "h" "\x00\x00\x00\x0f"
		       "\x11\x22\x33\x44\x55\x66\x77\x88" "\x00\x00\x03\xe8"
		       "\x00\x00\x00\x64" "\x00\x00\x81\xa4" "\x00\x00\x00\x01"
		       "\x00\x00\x00\x02"));
	wb_reset(&w);
	PUT(sftp_enc_posix_rename(&w, 10, "a", 1, "b", 1));
	ck_bytes(&w, G("\x00\x00\x00\x2b" "\xc8" "\x00\x00\x00\x0a"
		       "\x00\x00\x00\x18" "posix-rename@openssh.com"
		       "\x00\x00\x00\x01" "a" "\x00\x00\x00\x01" "b"));
	wb_reset(&w);
	PUT(sftp_enc_copy_data(&w, 11, (const uint8_t *)"r", 1, 1, 2,
			       (const uint8_t *)"w", 1, 3));
	ck_bytes(&w, G("\x00\x00\x00\x34" "\xc8" "\x00\x00\x00\x0b"
		       "\x00\x00\x00\x09" "copy-data" "\x00\x00\x00\x01" "r"
		       "\x00\x00\x00\x00\x00\x00\x00\x01"
		       "\x00\x00\x00\x00\x00\x00\x00\x02" "\x00\x00\x00\x01" "w"
		       "\x00\x00\x00\x00\x00\x00\x00\x03"));
	wb_reset(&w);
	PUT(sftp_enc_users_groups_by_id(&w, 12, uids, 2, gids, 1));
	ck_bytes(&w, G("\x00\x00\x00\x3b" "\xc8" "\x00\x00\x00\x0c"
		       "\x00\x00\x00\x1e" "users-groups-by-id@openssh.com"
		       "\x00\x00\x00\x08" "\x00\x00\x00\x00" "\x00\x00\x03\xe8"
		       "\x00\x00\x00\x04" "\x00\x00\x00\x64"));
	wb_reset(&w);
	PUT(sftp_enc_limits(&w, 13));
	ck_bytes(&w, G("\x00\x00\x00\x1b" "\xc8" "\x00\x00\x00\x0d"
		       "\x00\x00\x00\x12" "limits@openssh.com"));
	wb_free(&w);
}
END_TEST
/* clang-format on */

/* ---- requests: decode what was encoded ---------------------------------- */

typedef int (*path_enc)(struct wbuf *, uint32_t, const char *, size_t);
typedef int (*handle_enc)(struct wbuf *, uint32_t, const uint8_t *, size_t);

START_TEST(req_paths)
{
	static const struct {
		path_enc f;
		uint8_t type;
		const char *ext;
	} t[] = {
		{sftp_enc_lstat, SSH_FXP_LSTAT, NULL},
		{sftp_enc_stat, SSH_FXP_STAT, NULL},
		{sftp_enc_opendir, SSH_FXP_OPENDIR, NULL},
		{sftp_enc_remove, SSH_FXP_REMOVE, NULL},
		{sftp_enc_rmdir, SSH_FXP_RMDIR, NULL},
		{sftp_enc_realpath, SSH_FXP_REALPATH, NULL},
		{sftp_enc_readlink, SSH_FXP_READLINK, NULL},
		{sftp_enc_statvfs, SSH_FXP_EXTENDED, SFTP_EXT_STATVFS},
		{sftp_enc_expand_path, SSH_FXP_EXTENDED, SFTP_EXT_EXPAND_PATH},
		{sftp_enc_home_directory, SSH_FXP_EXTENDED,
		 SFTP_EXT_HOME_DIRECTORY},
	};
	static const char path[] = "/some/dir/file name";
	struct wbuf w;
	struct rbuf r;
	size_t i;

	wnew(&w);
	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		wb_reset(&w);
		PUT(t[i].f(&w, 0x80000000u + (uint32_t)i, path, strlen(path)));
		req_begin(&r, &w, t[i].type, 0x80000000u + (uint32_t)i);
		if (t[i].ext)
			want_cstr(&r, t[i].ext);
		want_cstr(&r, path);
		req_end(&r);
		/* An empty path is still a string. */
		wb_reset(&w);
		PUT(t[i].f(&w, 1, "", 0));
		req_begin(&r, &w, t[i].type, 1);
		if (t[i].ext)
			want_cstr(&r, t[i].ext);
		want_str(&r, "", 0);
		req_end(&r);
	}
	wb_free(&w);
}
END_TEST

START_TEST(req_handles)
{
	static const struct {
		handle_enc f;
		uint8_t type;
		const char *ext;
	} t[] = {
		{sftp_enc_close, SSH_FXP_CLOSE, NULL},
		{sftp_enc_fstat, SSH_FXP_FSTAT, NULL},
		{sftp_enc_readdir, SSH_FXP_READDIR, NULL},
		{sftp_enc_fstatvfs, SSH_FXP_EXTENDED, SFTP_EXT_FSTATVFS},
		{sftp_enc_fsync, SSH_FXP_EXTENDED, SFTP_EXT_FSYNC},
	};
	uint8_t big[SFTP_HANDLE_MAX + 1];
	struct wbuf w;
	struct rbuf r;
	size_t i;

	memset(big, 0xa5, sizeof(big));
	wnew(&w);
	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		wb_reset(&w);
		PUT(t[i].f(&w, (uint32_t)i, H, sizeof(H)));
		req_begin(&r, &w, t[i].type, (uint32_t)i);
		if (t[i].ext)
			want_cstr(&r, t[i].ext);
		want_str(&r, H, sizeof(H));
		req_end(&r);
		/* filexfer-02 §7: 256 bytes is the most a handle may be. */
		wb_reset(&w);
		PUT(t[i].f(&w, 1, big, SFTP_HANDLE_MAX));
		ck_assert_int_eq(t[i].f(&w, 1, big, SFTP_HANDLE_MAX + 1),
				 LIBSSH2_ERROR_INVAL);
	}
	wb_free(&w);
}
END_TEST

START_TEST(req_file_io)
{
	static const uint8_t data[] = "0123456789";
	struct wbuf w, w2;
	struct rbuf r;
	uint8_t *d = NULL;

	wnew(&w);
	wnew(&w2);
	PUT(sftp_enc_open(&w, 3, "f", 1, SSH_FXF_WRITE | SSH_FXF_TRUNC, NULL));
	req_begin(&r, &w, SSH_FXP_OPEN, 3);
	want_cstr(&r, "f");
	want_u32(&r, SSH_FXF_WRITE | SSH_FXF_TRUNC);
	want_attrs(&r, &(struct sftp_attrs){0});
	req_end(&r);
	wb_reset(&w);
	PUT(sftp_enc_read(&w, 4, H, sizeof(H), UINT64_MAX, SFTP_DATA_MAX));
	req_begin(&r, &w, SSH_FXP_READ, 4);
	want_str(&r, H, sizeof(H));
	want_u64(&r, UINT64_MAX);
	want_u32(&r, SFTP_DATA_MAX);
	req_end(&r);
	/* The reserving variant writes the same packet once filled in. */
	wb_reset(&w);
	PUT(sftp_enc_write(&w, 5, H, sizeof(H), 77, data, 10));
	PUT(sftp_enc_write_reserve(&w2, 5, H, sizeof(H), 77, 10, &d));
	ck_assert_ptr_eq(d, w2.p + w2.len - 10);
	memcpy(d, data, 10);
	ck_bytes(&w2, w.p, w.len);
	req_begin(&r, &w, SSH_FXP_WRITE, 5);
	want_str(&r, H, sizeof(H));
	want_u64(&r, 77);
	want_str(&r, data, 10);
	req_end(&r);
	/* The largest write there is. */
	wb_reset(&w2);
	PUT(sftp_enc_write_reserve(&w2, 6, H, 4, 0, SFTP_DATA_MAX, &d));
	ck_assert_uint_le(w2.len - 4, SFTP_MSG_MAX);
	wb_free(&w);
	wb_free(&w2);
}
END_TEST

START_TEST(req_attrs_and_pairs)
{
	struct wbuf w;
	struct rbuf r;

	wnew(&w);
	PUT(sftp_enc_setstat(&w, 1, "p", 1, &A_FULL));
	req_begin(&r, &w, SSH_FXP_SETSTAT, 1);
	want_cstr(&r, "p");
	want_attrs(&r, &A_FULL);
	req_end(&r);
	wb_reset(&w);
	PUT(sftp_enc_fsetstat(&w, 2, H, sizeof(H), &A_PERM));
	req_begin(&r, &w, SSH_FXP_FSETSTAT, 2);
	want_str(&r, H, sizeof(H));
	want_attrs(&r, &A_PERM);
	req_end(&r);
	wb_reset(&w);
	PUT(sftp_enc_lsetstat(&w, 3, "q", 1, &A_PERM));
	ext_begin(&r, &w, 3, SFTP_EXT_LSETSTAT);
	want_cstr(&r, "q");
	want_attrs(&r, &A_PERM);
	req_end(&r);
	wb_reset(&w);
	PUT(sftp_enc_mkdir(&w, 4, "d", 1, &A_PERM));
	req_begin(&r, &w, SSH_FXP_MKDIR, 4);
	want_cstr(&r, "d");
	want_attrs(&r, &A_PERM);
	req_end(&r);
	wb_reset(&w);
	PUT(sftp_enc_mkdir(&w, 5, "e", 1, NULL));
	req_begin(&r, &w, SSH_FXP_MKDIR, 5);
	want_cstr(&r, "e");
	want_u32(&r, 0);
	req_end(&r);
	wb_free(&w);
}
END_TEST

typedef int (*two_enc)(struct wbuf *, uint32_t, const char *, size_t,
		       const char *, size_t);

START_TEST(req_two_paths)
{
	static const struct {
		two_enc f;
		uint8_t type;
		const char *ext;
	} t[] = {
		{sftp_enc_rename, SSH_FXP_RENAME, NULL},
		{sftp_enc_symlink, SSH_FXP_SYMLINK, NULL},
		{sftp_enc_posix_rename, SSH_FXP_EXTENDED,
		 SFTP_EXT_POSIX_RENAME},
		{sftp_enc_hardlink, SSH_FXP_EXTENDED, SFTP_EXT_HARDLINK},
	};
	struct wbuf w;
	struct rbuf r;
	size_t i;

	wnew(&w);
	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		wb_reset(&w);
		PUT(t[i].f(&w, 42, "first/x", 7, "second/y", 8));
		req_begin(&r, &w, t[i].type, 42);
		if (t[i].ext)
			want_cstr(&r, t[i].ext);
		/* Always in the order given (symlink: see the header). */
		want_cstr(&r, "first/x");
		want_cstr(&r, "second/y");
		req_end(&r);
	}
	wb_free(&w);
}
END_TEST

START_TEST(req_ext_misc)
{
	static const uint32_t ids[] = {1, 2, 3};
	struct wbuf w;
	struct rbuf r;

	wnew(&w);
	PUT(sftp_enc_init(&w));
	req_begin(&r, &w, SSH_FXP_INIT, SFTP_PROTO_VERSION);
	req_end(&r);
	wb_reset(&w);
	PUT(sftp_enc_limits(&w, 9));
	ext_begin(&r, &w, 9, SFTP_EXT_LIMITS);
	req_end(&r);
	wb_reset(&w);
	PUT(sftp_enc_copy_data(&w, 10, H, 4, 5, 0, H + 1, 3, UINT64_MAX));
	ext_begin(&r, &w, 10, SFTP_EXT_COPY_DATA);
	want_str(&r, H, 4);
	want_u64(&r, 5);
	want_u64(&r, 0);
	want_str(&r, H + 1, 3);
	want_u64(&r, UINT64_MAX);
	req_end(&r);
	wb_reset(&w);
	PUT(sftp_enc_users_groups_by_id(&w, 11, NULL, 0, ids, 3));
	ext_begin(&r, &w, 11, SFTP_EXT_USERS_GROUPS);
	want_str(&r, "", 0);
	want_str(&r, "\0\0\0\1\0\0\0\2\0\0\0\3", 12);
	req_end(&r);
	wb_free(&w);
}
END_TEST

/* ---- requests: failures leave the writer as it was ---------------------- */

static void *fail_alloc(size_t n, void **a)
{
	(void)n;
	(void)a;
	return NULL;
}

static void *fail_realloc(void *p, size_t n, void **a)
{
	(void)p;
	(void)n;
	(void)a;
	return NULL;
}

static void fail_free(void *p, void **a)
{
	(void)a;
	free(p);
}

static const struct lalloc lalloc_fail = {fail_alloc, fail_free, fail_realloc,
					  NULL};

START_TEST(req_errors)
{
	static const uint32_t one = 1;
	struct wbuf w;
	uint8_t *d = NULL;
	char *huge;
	size_t len;

	/* Cap reached: the packet is dropped, earlier ones stay. */
	wb_init(&w, &lalloc_system, 40);
	PUT(sftp_enc_stat(&w, 1, "abc", 3));
	len = w.len;
	ck_assert_int_eq(sftp_enc_stat(&w, 2, "0123456789abcdef0123", 20),
			 LIBSSH2_ERROR_BUFFER_TOO_SMALL);
	ck_assert_uint_eq(w.len, len);
	PUT(wb_ok(&w));
	PUT(sftp_enc_close(&w, 3, H, 4)); /* still usable */
	/* A writer that had failed before is not touched. */
	w.err = BUF_EBIG;
	len = w.len;
	ck_assert_int_eq(sftp_enc_limits(&w, 4),
			 LIBSSH2_ERROR_BUFFER_TOO_SMALL);
	ck_assert_uint_eq(w.len, len);
	ck_assert_int_eq(wb_ok(&w), BUF_EBIG);
	wb_free(&w);
	/* Out of memory. */
	wb_init(&w, &lalloc_fail, 1u << 20);
	ck_assert_int_eq(sftp_enc_init(&w), LIBSSH2_ERROR_ALLOC);
	ck_assert_uint_eq(w.len, 0);
	PUT(wb_ok(&w));
	wb_free(&w);
	/* Requests that could never be sent. */
	wnew(&w);
	ck_assert_int_eq(sftp_enc_read(&w, 1, H, 4, 0, SFTP_DATA_MAX + 1),
			 LIBSSH2_ERROR_INVAL);
	ck_assert_int_eq(
		sftp_enc_write_reserve(&w, 1, H, 4, 0, SFTP_DATA_MAX + 1, &d),
		LIBSSH2_ERROR_INVAL);
	ck_assert_ptr_null(d);
	ck_assert_int_eq(sftp_enc_copy_data(&w, 1, H, 4, 0, 0, H,
					    SFTP_HANDLE_MAX + 1, 0),
			 LIBSSH2_ERROR_INVAL);
	ck_assert_int_eq(sftp_enc_users_groups_by_id(
				 &w, 1, &one, SFTP_NAMES_MAX + 1, NULL, 0),
			 LIBSSH2_ERROR_INVAL);
	huge = malloc(SFTP_MSG_MAX);
	ck_assert_ptr_nonnull(huge);
	memset(huge, 'x', SFTP_MSG_MAX);
	ck_assert_int_eq(sftp_enc_stat(&w, 1, huge, SFTP_MSG_MAX),
			 LIBSSH2_ERROR_INVAL);
	ck_assert_uint_eq(w.len, 0);
	PUT(wb_ok(&w));
	free(huge);
	wb_free(&w);
}
END_TEST

/* Several requests in one writer come apart again with the framer. */
START_TEST(req_queue_frames)
{
	struct wbuf w;
	size_t off = 0, len, k = 0;
	uint8_t type;
	uint32_t id;

	wnew(&w);
	PUT(sftp_enc_init(&w));
	PUT(sftp_enc_opendir(&w, 1, "/", 1));
	PUT(sftp_enc_readdir(&w, 2, H, 4));
	PUT(sftp_enc_write(&w, 3, H, 4, 0, "xyz", 3));
	PUT(sftp_enc_fsync(&w, 4, H, 4));
	while (off < w.len) {
		PUT(sftp_frame(w.p + off, w.len - off, &len));
		PUT(sftp_msg_head(w.p + off + 4, len - 4, &type, &id));
		ck_assert_uint_eq(id, k == 0 ? SFTP_PROTO_VERSION : k);
		off += len;
		k++;
	}
	ck_assert_uint_eq(off, w.len);
	ck_assert_uint_eq(k, 5);
	wb_free(&w);
}
END_TEST

/* ---- attributes --------------------------------------------------------- */

/* clang-format off */
START_TEST(attrs_codec)
{
	struct sftp_attrs a, b;
	struct wbuf w;
	struct rbuf r;
	uint32_t f;

	wnew(&w);
	/* Every combination of the four field flags. */
	for (f = 0; f < 16; f++) {
		a = A_FULL;
		a.flags = f;
		wb_reset(&w);
		PUT(sftp_attrs_put(&w, &a));
		rb_init(&r, w.p, w.len);
		PUT(sftp_attrs_get(&r, &b));
		PUT(rb_done(&r));
		attrs_eq(&b, &a);
	}
	/* Unknown bits and EXTENDED are never sent. */
	a = A_PERM;
	a.flags |= SSH_FILEXFER_ATTR_EXTENDED | 0x100;
	wb_reset(&w);
	PUT(sftp_attrs_put(&w, &a));
	ck_bytes(&w, G("\x00\x00\x00\x04" "\x00\x00\x41\xed"));
	/* ... and are dropped on decode, extended pairs skipped. */
	rb_init(&r, G("\x80\x00\x01\x04" "\x00\x00\x41\xed" "\x00\x00\x00\x02"
		      "\x00\x00\x00\x01" "a" "\x00\x00\x00\x00"
		      "\x00\x00\x00\x00" "\x00\x00\x00\x02" "zz"));
	PUT(sftp_attrs_get(&r, &b));
	PUT(rb_done(&r));
	attrs_eq(&b, &A_PERM);
	wb_free(&w);
}
END_TEST

START_TEST(attrs_absurd)
{
	struct sftp_attrs b = { .flags = 0x55 };
	struct rbuf r;

	/* extended_count 0xffffffff with nothing behind it */
	rb_init(&r, G("\x80\x00\x00\x00" "\xff\xff\xff\xff"));
	ck_assert_int_eq(sftp_attrs_get(&r, &b), EPROTO_SFTP);
	ck_assert_uint_eq(b.flags, 0x55); /* not set on failure */
	/* more pairs than SFTP_ATTR_EXT_MAX, even if the bytes are there */
	{
		uint8_t buf[8 + 8 * (SFTP_ATTR_EXT_MAX + 1)] = { 0x80 };

		put_u32(buf + 4, SFTP_ATTR_EXT_MAX + 1);
		rb_init(&r, buf, sizeof(buf));
		ck_assert_int_eq(sftp_attrs_get(&r, &b), EPROTO_SFTP);
		put_u32(buf + 4, SFTP_ATTR_EXT_MAX);
		rb_init(&r, buf, sizeof(buf) - 8);
		PUT(sftp_attrs_get(&r, &b));
		PUT(rb_done(&r));
	}
	/* a size flag with 7 bytes of size */
	rb_init(&r, G("\x00\x00\x00\x01" "\x00\x00\x00\x00\x00\x00\x00"));
	ck_assert_int_eq(sftp_attrs_get(&r, &b), EPROTO_SFTP);
}
END_TEST
/* clang-format on */

/* ---- replies: goldens --------------------------------------------------- */

enum kind {
	K_VERSION,
	K_STATUS,
	K_HANDLE,
	K_DATA,
	K_NAMES,
	K_NAME1,
	K_ATTRS,
	K_EXT,
	K_STATVFS,
	K_LIMITS,
	K_UGID,
	K_COUNT
};

/* clang-format off */
static const struct golden {
	enum kind kind;
	const uint8_t *p;
	size_t n;
	int exact;	  /* re-encodes to exactly these bytes */
	int trunc_fails;  /* every truncation is refused */
} goldens[] = {
	{ K_VERSION,
	  G("\x02" "\x00\x00\x00\x03"
	    "\x00\x00\x00\x18" "posix-rename@openssh.com" "\x00\x00\x00\x01" "1"
	    "\x00\x00\x00\x12" "limits@openssh.com" "\x00\x00\x00\x01" "1"),
	  1, 0 },
	{ K_STATUS,
	  G("\x65" "\x00\x00\x00\x05" "\x00\x00\x00\x02"
	    "\x00\x00\x00\x0c" "No such file" "\x00\x00\x00\x02" "en"),
	  1, 0 },
	/* code alone, message alone: both accepted, re-encoded in full */
	{ K_STATUS, G("\x65" "\x00\x00\x00\x06" "\x00\x00\x00\x01"), 0, 0 },
	{ K_STATUS,
	  G("\x65" "\x00\x00\x00\x07" "\x00\x00\x00\x04"
	    "\x00\x00\x00\x07" "Failure"),
	  0, 0 },
	{ K_HANDLE,
	  G("\x66" "\x00\x00\x00\x07" "\x00\x00\x00\x04" "\x00\x00\x00\x01"),
	  1, 1 },
	{ K_DATA, G("\x67" "\x00\x00\x00\x08" "\x00\x00\x00\x05" "hello"), 1,
	  1 },
	{ K_NAMES,
	  G("\x68" "\x00\x00\x00\x09" "\x00\x00\x00\x02"
	    "\x00\x00\x00\x01" "." "\x00\x00\x00\x04" "d  ."
	    "\x00\x00\x00\x0c" "\x00\x00\x41\xed" "\x00\x00\x00\x01"
	    "\x00\x00\x00\x02"
	    "\x00\x00\x00\x03" "abc" "\x00\x00\x00\x00"
	    "\x00\x00\x00\x03" "\x00\x00\x00\x00\x00\x00\x00\x05"
	    "\x00\x00\x03\xe8" "\x00\x00\x00\x64"),
	  1, 1 },
	/* extended attribute pairs are skipped, so not re-encoded */
	{ K_NAMES,
	  G("\x68" "\x00\x00\x00\x0a" "\x00\x00\x00\x01"
	    "\x00\x00\x00\x01" "x" "\x00\x00\x00\x01" "x"
	    "\x80\x00\x00\x01" "\x00\x00\x00\x00\x00\x00\x00\x01"
	    "\x00\x00\x00\x01" "\x00\x00\x00\x03" "foo" "\x00\x00\x00\x03"
	    "bar"),
	  0, 1 },
	{ K_NAME1,
	  G("\x68" "\x00\x00\x00\x0b" "\x00\x00\x00\x01"
	    "\x00\x00\x00\x05" "/home" "\x00\x00\x00\x00" "\x00\x00\x00\x00"),
	  1, 1 },
	{ K_ATTRS,
	  G("\x69" "\x00\x00\x00\x0c" "\x00\x00\x00\x0f"
	    "\x00\x00\x00\x01\x00\x00\x00\x00" "\x00\x00\x03\xe8"
	    "\x00\x00\x00\x64" "\x00\x00\x81\xa4" "\x65\x00\x00\x00"
	    "\x65\x00\x00\x01"),
	  1, 1 },
	{ K_STATVFS,
	  G("\xc9" "\x00\x00\x00\x0d"
	    "\0\0\0\0\0\0\x10\0" "\0\0\0\0\0\0\x02\0" /* bsize frsize */
	    "\0\0\0\0\0\x10\0\0" "\0\0\0\0\0\x08\0\0" /* blocks bfree */
	    "\0\0\0\0\0\x07\xf0\0" "\0\0\0\0\0\x04\0\0" /* bavail files */
	    "\0\0\0\0\0\x03\xff\0" "\0\0\0\0\0\x03\xfe\0" /* ffree favail */
	    "\x12\x34\x56\x78\x90\xab\xcd\xef" /* fsid */
	    "\0\0\0\0\0\0\0\x02" "\0\0\0\0\0\0\0\xff"), /* flag namemax */
	  1, 1 },
	{ K_LIMITS,
	  G("\xc9" "\x00\x00\x00\x0e"
	    "\0\0\0\0\0\x04\0\0" "\0\0\0\0\0\x03\xfc\0"
	    "\0\0\0\0\0\x03\xfc\0" "\0\0\0\0\0\0\x03\xf0"),
	  1, 1 },
	{ K_EXT, G("\xc9" "\x00\x00\x00\x10" "anything"), 1, 0 },
	{ K_UGID,
	  G("\xc9" "\x00\x00\x00\x0f"
	    "\x00\x00\x00\x0c" "\x00\x00\x00\x04" "root" "\x00\x00\x00\x00"
	    "\x00\x00\x00\x09" "\x00\x00\x00\x05" "users"),
	  1, 1 },
};

/* clang-format on */

#define N_GOLDENS (sizeof(goldens) / sizeof(goldens[0]))

START_TEST(reply_version_status)
{
	struct sftp_version v = sftp_dec_version(goldens[0].p, goldens[0].n);
	struct sftp_status s;
	struct sftp_ext e;

	PUT(v.rc);
	ck_assert_uint_eq(v.version, 3);
	ck_assert_uint_eq(v.ext_count, 2);
	PUT(sftp_version_find(&v, SFTP_EXT_LIMITS, &e));
	ck_assert_uint_eq(e.data_len, 1);
	ck_assert_int_eq(e.data[0], '1');
	ck_assert_int_eq(sftp_version_find(&v, "limits", &e), -1);
	ck_assert_int_eq(sftp_version_find(&v, SFTP_EXT_FSYNC, &e), -1);
	s = sftp_dec_status(goldens[1].p, goldens[1].n);
	PUT(s.rc);
	ck_assert_uint_eq(s.id, 5);
	ck_assert_uint_eq(s.code, SSH_FX_NO_SUCH_FILE);
	ck_assert_uint_eq(s.msg_len, 12);
	ck_assert(memcmp(s.msg, "No such file", 12) == 0);
	ck_assert(s.lang_len == 2 && memcmp(s.lang, "en", 2) == 0);
	s = sftp_dec_status(goldens[2].p, goldens[2].n);
	PUT(s.rc);
	ck_assert_uint_eq(s.code, SSH_FX_EOF);
	ck_assert(s.msg_len == 0 && s.lang_len == 0);
	ck_assert_str_eq(s.msg, "");
	s = sftp_dec_status(goldens[3].p, goldens[3].n);
	PUT(s.rc);
	ck_assert(s.msg_len == 7 && memcmp(s.msg, "Failure", 7) == 0);
	ck_assert_uint_eq(s.lang_len, 0);
}
END_TEST

START_TEST(reply_handle_data_attrs)
{
	struct sftp_handle h = sftp_dec_handle(goldens[4].p, goldens[4].n);
	struct sftp_data d = sftp_dec_data(goldens[5].p, goldens[5].n);
	struct sftp_attrs_reply a;

	PUT(h.rc);
	ck_assert_uint_eq(h.id, 7);
	ck_assert_uint_eq(h.handle_len, 4);
	ck_assert_ptr_eq(h.handle, goldens[4].p + 9); /* borrowed */
	PUT(d.rc);
	ck_assert_uint_eq(d.id, 8);
	ck_assert(d.len == 5 && memcmp(d.data, "hello", 5) == 0);
	a = sftp_dec_attrs(goldens[9].p, goldens[9].n);
	PUT(a.rc);
	ck_assert_uint_eq(a.id, 12);
	attrs_eq(&a.attrs, &(struct sftp_attrs){.flags = SFTP_ATTR_FIELDS,
						.size = 1ull << 32,
						.uid = 1000,
						.gid = 100,
						.perm = 0100644,
						.atime = 0x65000000,
						.mtime = 0x65000001});
}
END_TEST

START_TEST(reply_names)
{
	struct sftp_names ns = sftp_dec_names(goldens[6].p, goldens[6].n);
	struct sftp_name_iter it;
	struct sftp_name_entry e;
	struct sftp_name1 one;

	PUT(ns.rc);
	ck_assert_uint_eq(ns.id, 9);
	ck_assert_uint_eq(ns.count, 2);
	sftp_names_iter_init(&it, &ns);
	ck_assert_int_eq(sftp_names_next(&it, &e), 1);
	ck_assert(e.filename_len == 1 && e.filename[0] == '.');
	ck_assert(e.longname_len == 4 && memcmp(e.longname, "d  .", 4) == 0);
	attrs_eq(&e.attrs,
		 &(struct sftp_attrs){
			 .flags = 0xc, .perm = 040755, .atime = 1, .mtime = 2});
	ck_assert_int_eq(sftp_names_next(&it, &e), 1);
	ck_assert(e.filename_len == 3 && memcmp(e.filename, "abc", 3) == 0);
	ck_assert_uint_eq(e.longname_len, 0);
	attrs_eq(&e.attrs,
		 &(struct sftp_attrs){
			 .flags = 3, .size = 5, .uid = 1000, .gid = 100});
	ck_assert_int_eq(sftp_names_next(&it, &e), 0);
	ns = sftp_dec_names(goldens[7].p, goldens[7].n);
	PUT(ns.rc);
	sftp_names_iter_init(&it, &ns);
	ck_assert_int_eq(sftp_names_next(&it, &e), 1);
	attrs_eq(&e.attrs, &(struct sftp_attrs){.flags = 1, .size = 1});
	one = sftp_dec_name1(goldens[8].p, goldens[8].n);
	PUT(one.rc);
	ck_assert_uint_eq(one.id, 11);
	ck_assert(one.e.filename_len == 5 &&
		  memcmp(one.e.filename, "/home", 5) == 0);
	ck_assert_uint_eq(one.e.attrs.flags, 0);
	/* a two-name reply is not a REALPATH answer */
	ck_assert_int_eq(sftp_dec_name1(goldens[6].p, goldens[6].n).rc,
			 EPROTO_SFTP);
}
END_TEST

START_TEST(reply_extended)
{
	struct sftp_statvfs s = sftp_dec_statvfs(goldens[10].p, goldens[10].n);
	struct sftp_limits l = sftp_dec_limits(goldens[11].p, goldens[11].n);
	struct sftp_ext_reply x =
		sftp_dec_ext_reply(goldens[12].p, goldens[12].n);
	struct sftp_users_groups u;
	struct sftp_strlist_iter it;
	const char *name;
	size_t len;

	PUT(s.rc);
	ck_assert_uint_eq(s.id, 13);
	ck_assert(s.bsize == 4096 && s.frsize == 512);
	ck_assert(s.blocks == 0x100000 && s.bfree == 0x80000);
	ck_assert(s.bavail == 0x7f000 && s.files == 0x40000);
	ck_assert(s.ffree == 0x3ff00 && s.favail == 0x3fe00);
	ck_assert(s.fsid == 0x1234567890abcdefull);
	ck_assert(s.flag == SSH_FXE_STATVFS_ST_NOSUID && s.namemax == 255);
	PUT(l.rc);
	ck_assert_uint_eq(l.id, 14);
	ck_assert(l.max_packet_len == 256 * 1024);
	ck_assert(l.max_read_len == 255 * 1024);
	ck_assert(l.max_write_len == 255 * 1024);
	ck_assert(l.max_open_handles == 1008);
	PUT(x.rc);
	ck_assert(x.id == 16 && x.len == 8 && !memcmp(x.data, "anything", 8));
	u = sftp_dec_users_groups(goldens[13].p, goldens[13].n);
	PUT(u.rc);
	ck_assert_uint_eq(u.id, 15);
	ck_assert(u.n_users == 2 && u.n_groups == 1);
	sftp_strlist_iter_init(&it, u.users, u.users_len);
	ck_assert_int_eq(sftp_strlist_next(&it, &name, &len), 1);
	ck_assert(len == 4 && !memcmp(name, "root", 4));
	ck_assert_int_eq(sftp_strlist_next(&it, &name, &len), 1);
	ck_assert_uint_eq(len, 0); /* unknown uid */
	ck_assert_int_eq(sftp_strlist_next(&it, &name, &len), 0);
	sftp_strlist_iter_init(&it, u.groups, u.groups_len);
	ck_assert_int_eq(sftp_strlist_next(&it, &name, &len), 1);
	ck_assert(len == 5 && !memcmp(name, "users", 5));
}
END_TEST

/* ---- replies: re-encoding (test side) ----------------------------------- */

/*
 * Each re_* decodes with the codec and, on success, writes a reply body
 * from every decoded field into w.  Equal results mean equal decodes.
 */
static int re_version(const uint8_t *b, size_t n, struct wbuf *w)
{
	struct sftp_version v = sftp_dec_version(b, n);
	struct sftp_ext_iter it;
	struct sftp_ext e;
	uint32_t c = 0;
	int rc;

	if (v.rc) {
		ck_assert_ptr_null(v.ext);
		return v.rc;
	}
	PUT(wb_u8(w, SSH_FXP_VERSION) || wb_u32(w, v.version));
	sftp_ext_iter_init(&it, &v);
	while ((rc = sftp_ext_next(&it, &e)) == 1) {
		PUT(wb_string(w, e.name, e.name_len));
		PUT(wb_string(w, e.data, e.data_len));
		c++;
	}
	ck_assert_int_eq(rc, 0);
	ck_assert_uint_eq(c, v.ext_count);
	return 0;
}

static int re_status(const uint8_t *b, size_t n, struct wbuf *w)
{
	struct sftp_status s = sftp_dec_status(b, n);

	if (s.rc) {
		ck_assert_ptr_null(s.msg);
		return s.rc;
	}
	PUT(wb_u8(w, SSH_FXP_STATUS) || wb_u32(w, s.id) || wb_u32(w, s.code));
	PUT(wb_string(w, s.msg, s.msg_len));
	PUT(wb_string(w, s.lang, s.lang_len));
	return 0;
}

static int re_handle(const uint8_t *b, size_t n, struct wbuf *w)
{
	struct sftp_handle h = sftp_dec_handle(b, n);

	if (h.rc) {
		ck_assert_ptr_null(h.handle);
		return h.rc;
	}
	ck_assert_uint_le(h.handle_len, SFTP_HANDLE_MAX);
	PUT(wb_u8(w, SSH_FXP_HANDLE) || wb_u32(w, h.id));
	PUT(wb_string(w, h.handle, h.handle_len));
	return 0;
}

static int re_data(const uint8_t *b, size_t n, struct wbuf *w)
{
	struct sftp_data d = sftp_dec_data(b, n);

	if (d.rc) {
		ck_assert_ptr_null(d.data);
		return d.rc;
	}
	PUT(wb_u8(w, SSH_FXP_DATA) || wb_u32(w, d.id));
	PUT(wb_string(w, d.data, d.len));
	return 0;
}

static void put_entry(struct wbuf *w, const struct sftp_name_entry *e)
{
	ck_assert(memchr(e->filename, 0, e->filename_len) == NULL);
	PUT(wb_string(w, e->filename, e->filename_len));
	PUT(wb_string(w, e->longname, e->longname_len));
	PUT(sftp_attrs_put(w, &e->attrs));
}

static int re_names(const uint8_t *b, size_t n, struct wbuf *w)
{
	struct sftp_names ns = sftp_dec_names(b, n);
	struct sftp_name_iter it;
	struct sftp_name_entry e;
	uint32_t c = 0;
	int rc;

	if (ns.rc) {
		ck_assert_ptr_null(ns.entries);
		return ns.rc;
	}
	ck_assert_uint_le(ns.count, SFTP_NAMES_MAX);
	PUT(wb_u8(w, SSH_FXP_NAME) || wb_u32(w, ns.id));
	PUT(wb_u32(w, ns.count));
	sftp_names_iter_init(&it, &ns);
	while ((rc = sftp_names_next(&it, &e)) == 1) {
		put_entry(w, &e);
		c++;
	}
	ck_assert_int_eq(rc, 0);
	ck_assert_uint_eq(c, ns.count);
	return 0;
}

static int re_name1(const uint8_t *b, size_t n, struct wbuf *w)
{
	struct sftp_name1 one = sftp_dec_name1(b, n);

	if (one.rc) {
		ck_assert_ptr_null(one.e.filename);
		return one.rc;
	}
	PUT(wb_u8(w, SSH_FXP_NAME) || wb_u32(w, one.id) || wb_u32(w, 1));
	put_entry(w, &one.e);
	return 0;
}

static int re_attrs(const uint8_t *b, size_t n, struct wbuf *w)
{
	struct sftp_attrs_reply a = sftp_dec_attrs(b, n);

	if (a.rc) {
		ck_assert_uint_eq(a.id, 0);
		return a.rc;
	}
	ck_assert_uint_eq(a.attrs.flags & ~SFTP_ATTR_FIELDS, 0);
	PUT(wb_u8(w, SSH_FXP_ATTRS) || wb_u32(w, a.id));
	PUT(sftp_attrs_put(w, &a.attrs));
	return 0;
}

static int re_ext(const uint8_t *b, size_t n, struct wbuf *w)
{
	struct sftp_ext_reply x = sftp_dec_ext_reply(b, n);

	if (x.rc) {
		ck_assert_ptr_null(x.data);
		return x.rc;
	}
	PUT(wb_u8(w, SSH_FXP_EXTENDED_REPLY) || wb_u32(w, x.id));
	PUT(wb_bytes(w, x.data, x.len));
	return 0;
}

static int re_statvfs(const uint8_t *b, size_t n, struct wbuf *w)
{
	struct sftp_statvfs s = sftp_dec_statvfs(b, n);
	const uint64_t f[] = {s.bsize,	s.frsize, s.blocks, s.bfree,
			      s.bavail, s.files,  s.ffree,  s.favail,
			      s.fsid,	s.flag,	  s.namemax};
	size_t i;

	if (s.rc) {
		ck_assert(s.id == 0 && s.namemax == 0);
		return s.rc;
	}
	PUT(wb_u8(w, SSH_FXP_EXTENDED_REPLY) || wb_u32(w, s.id));
	for (i = 0; i < sizeof(f) / sizeof(f[0]); i++)
		PUT(wb_u64(w, f[i]));
	return 0;
}

static int re_limits(const uint8_t *b, size_t n, struct wbuf *w)
{
	struct sftp_limits l = sftp_dec_limits(b, n);

	if (l.rc) {
		ck_assert(l.id == 0 && l.max_packet_len == 0);
		return l.rc;
	}
	PUT(wb_u8(w, SSH_FXP_EXTENDED_REPLY) || wb_u32(w, l.id));
	PUT(wb_u64(w, l.max_packet_len) || wb_u64(w, l.max_read_len));
	PUT(wb_u64(w, l.max_write_len) || wb_u64(w, l.max_open_handles));
	return 0;
}

static void put_strlist(struct wbuf *w, const uint8_t *p, size_t len,
			uint32_t count)
{
	struct sftp_strlist_iter it;
	const char *s;
	size_t n, mark;
	uint32_t c = 0;
	int rc;

	PUT(wb_begin_len(w, &mark));
	sftp_strlist_iter_init(&it, p, len);
	while ((rc = sftp_strlist_next(&it, &s, &n)) == 1) {
		PUT(wb_string(w, s, n));
		c++;
	}
	ck_assert_int_eq(rc, 0);
	ck_assert_uint_eq(c, count);
	wb_end_len(w, mark);
}

static int re_ugid(const uint8_t *b, size_t n, struct wbuf *w)
{
	struct sftp_users_groups u = sftp_dec_users_groups(b, n);

	if (u.rc) {
		ck_assert_ptr_null(u.users);
		return u.rc;
	}
	PUT(wb_u8(w, SSH_FXP_EXTENDED_REPLY) || wb_u32(w, u.id));
	put_strlist(w, u.users, u.users_len, u.n_users);
	put_strlist(w, u.groups, u.groups_len, u.n_groups);
	return 0;
}

static int (*const reencode[K_COUNT])(const uint8_t *, size_t,
				      struct wbuf *) = {
	[K_VERSION] = re_version, [K_STATUS] = re_status,
	[K_HANDLE] = re_handle,	  [K_DATA] = re_data,
	[K_NAMES] = re_names,	  [K_NAME1] = re_name1,
	[K_ATTRS] = re_attrs,	  [K_EXT] = re_ext,
	[K_STATVFS] = re_statvfs, [K_LIMITS] = re_limits,
	[K_UGID] = re_ugid,
};

/* Decode b as k; if accepted, its re-encoding must decode identically. */
static int consistent(enum kind k, const uint8_t *b, size_t n)
{
	struct wbuf w1, w2;
	int rc;

	wnew(&w1);
	wnew(&w2);
	rc = reencode[k](b, n, &w1);
	if (rc == 0) {
		PUT(reencode[k](w1.p, w1.len, &w2));
		ck_assert_uint_eq(w1.len, w2.len);
		ck_assert(memcmp(w1.p, w2.p, w1.len) == 0);
	} else {
		ck_assert_int_eq(rc, EPROTO_SFTP);
	}
	wb_free(&w1);
	wb_free(&w2);
	return rc;
}

START_TEST(reply_goldens_reencode)
{
	struct wbuf w;
	size_t i;

	wnew(&w);
	for (i = 0; i < N_GOLDENS; i++) {
		wb_reset(&w);
		PUT(reencode[goldens[i].kind](goldens[i].p, goldens[i].n, &w));
		if (goldens[i].exact)
			ck_bytes(&w, goldens[i].p, goldens[i].n);
		PUT(consistent(goldens[i].kind, goldens[i].p, goldens[i].n));
	}
	wb_free(&w);
}
END_TEST

/* ---- replies: mutations ------------------------------------------------- */

/* Every decoder, the head reader and the framer on one mutant, held in a
 * buffer of its exact size so ASan sees any read past it. */
static int mutant(const uint8_t *src, size_t n, enum kind own)
{
	uint8_t *b = malloc(n ? n : 1), *f = malloc(n + 4);
	uint8_t type;
	uint32_t id;
	size_t len;
	int k, own_rc = 0;

	ck_assert(b && f);
	memcpy(b, src, n);
	for (k = 0; k < K_COUNT; k++) {
		int rc = consistent((enum kind)k, b, n);

		if ((enum kind)k == own)
			own_rc = rc;
	}
	if (sftp_msg_head(b, n, &type, &id) == 0)
		ck_assert_uint_ge(n, 5);
	put_u32(f, (uint32_t)n);
	memcpy(f + 4, b, n);
	if (sftp_frame(f, n + 4, &len) == 0)
		ck_assert_uint_eq(len, n + 4);
	free(b);
	free(f);
	return own_rc;
}

START_TEST(reply_truncations)
{
	const struct golden *g = &goldens[_i];
	size_t cut;

	for (cut = 0; cut < g->n; cut++) {
		int rc = mutant(g->p, cut, g->kind);

		if (g->trunc_fails)
			ck_assert_msg(rc != 0, "golden %d cut at %zu accepted",
				      _i, cut);
	}
}
END_TEST

START_TEST(reply_bitflips)
{
	const struct golden *g = &goldens[_i];
	uint8_t *b = malloc(g->n);
	size_t i;
	int bit;

	ck_assert_ptr_nonnull(b);
	for (i = 0; i < g->n; i++) {
		for (bit = 0; bit < 8; bit++) {
			memcpy(b, g->p, g->n);
			b[i] ^= (uint8_t)(1u << bit);
			(void)mutant(b, g->n, g->kind);
		}
	}
	free(b);
}
END_TEST

/* ---- replies: absurd counts and lengths --------------------------------- */

/* clang-format off */
static const struct golden absurd[] = {
	/* NAME count 0xffffffff; count 2 with room for one; trailing junk */
	{ K_NAMES, G("\x68" "\0\0\0\1" "\xff\xff\xff\xff"
		     "\0\0\0\0" "\0\0\0\0" "\0\0\0\0"), 0, 0 },
	{ K_NAMES, G("\x68" "\0\0\0\1" "\0\0\0\2"
		     "\0\0\0\0" "\0\0\0\0" "\0\0\0\0"), 0, 0 },
	{ K_NAMES, G("\x68" "\0\0\0\1" "\0\0\0\1"
		     "\0\0\0\0" "\0\0\0\0" "\0\0\0\0" "!"), 0, 0 },
	/* a NUL inside a file name */
	{ K_NAMES, G("\x68" "\0\0\0\1" "\0\0\0\1"
		     "\0\0\0\3" "a\0b" "\0\0\0\0" "\0\0\0\0"), 0, 0 },
	/* DATA and STATUS lengths of 0xffffffff, or one past the end */
	{ K_DATA, G("\x67" "\0\0\0\1" "\xff\xff\xff\xff" "ab"), 0, 0 },
	{ K_DATA, G("\x67" "\0\0\0\1" "\0\0\0\3" "ab"), 0, 0 },
	{ K_STATUS, G("\x65" "\0\0\0\1" "\0\0\0\4" "\xff\xff\xff\xff"), 0, 0 },
	/* users-groups: a name that overruns its list */
	{ K_UGID, G("\xc9" "\0\0\0\1" "\0\0\0\6" "\0\0\0\5" "ab"
		    "\0\0\0\0"), 0, 0 },
	/* the wrong type byte; a statvfs reply read as limits; nothing */
	{ K_DATA, G("\x66" "\0\0\0\1" "\0\0\0\0"), 0, 0 },
	{ K_LIMITS, G("\xc9" "\0\0\0\1" "\0\0\0\0\0\0\0\0" "\0\0\0\0\0\0\0\0"
		      "\0\0\0\0\0\0\0\0" "\0\0\0\0\0\0\0\0" "\0"), 0, 0 },
	{ K_VERSION, NULL, 0, 0, 0 },
};

/* the smallest valid NAME entry, for contrast */
static const struct golden smallest = {
	K_NAMES, G("\x68" "\0\0\0\1" "\0\0\0\1" "\0\0\0\0" "\0\0\0\0"
		   "\0\0\0\0"), 0, 0 };
/* clang-format on */

START_TEST(reply_absurd)
{
	size_t i;

	for (i = 0; i < sizeof(absurd) / sizeof(absurd[0]); i++)
		ck_assert_msg(consistent(absurd[i].kind, absurd[i].p,
					 absurd[i].n) == EPROTO_SFTP,
			      "absurd[%zu] accepted", i);
	PUT(consistent(smallest.kind, smallest.p, smallest.n));
}
END_TEST

START_TEST(reply_caps)
{
	size_t n = 9 + SFTP_HANDLE_MAX + 1;
	uint8_t *b = calloc(1, 9 + (size_t)(SFTP_NAMES_MAX + 1) * 12);
	struct sftp_names ns;
	struct sftp_name_iter it;
	struct sftp_name_entry e;
	uint32_t c = 0;

	ck_assert_ptr_nonnull(b);
	/* HANDLE: 256 bytes is fine, 257 is not (filexfer-02 §7) */
	b[0] = SSH_FXP_HANDLE;
	put_u32(b + 5, SFTP_HANDLE_MAX);
	PUT(sftp_dec_handle(b, n - 1).rc);
	put_u32(b + 5, SFTP_HANDLE_MAX + 1);
	ck_assert_int_eq(sftp_dec_handle(b, n).rc, EPROTO_SFTP);
	/* NAME: SFTP_NAMES_MAX minimal entries, then one more */
	memset(b, 0, 9 + (size_t)(SFTP_NAMES_MAX + 1) * 12);
	b[0] = SSH_FXP_NAME;
	put_u32(b + 5, SFTP_NAMES_MAX);
	ns = sftp_dec_names(b, 9 + (size_t)SFTP_NAMES_MAX * 12);
	PUT(ns.rc);
	sftp_names_iter_init(&it, &ns);
	while (sftp_names_next(&it, &e) == 1)
		c++;
	ck_assert_uint_eq(c, SFTP_NAMES_MAX);
	put_u32(b + 5, SFTP_NAMES_MAX + 1);
	ck_assert_int_eq(
		sftp_dec_names(b, 9 + (size_t)(SFTP_NAMES_MAX + 1) * 12).rc,
		EPROTO_SFTP);
	free(b);
}
END_TEST

START_TEST(reply_version_cap)
{
	size_t n = 5 + 8 * (SFTP_EXT_MAX + 1);
	uint8_t *b = calloc(1, n);

	/* SFTP_EXT_MAX pairs of empty strings pass, one more does not */
	ck_assert_ptr_nonnull(b);
	b[0] = SSH_FXP_VERSION;
	b[4] = 3;
	PUT(sftp_dec_version(b, n - 8).rc);
	ck_assert_uint_eq(sftp_dec_version(b, n - 8).ext_count, SFTP_EXT_MAX);
	ck_assert_int_eq(sftp_dec_version(b, n).rc, EPROTO_SFTP);
	/* a half pair */
	ck_assert_int_eq(sftp_dec_version(b, 5 + 4).rc, EPROTO_SFTP);
	free(b);
}
END_TEST

/* ---- framing ------------------------------------------------------------ */

/* All goldens framed back to back. */
static uint8_t *stream(size_t *total)
{
	uint8_t *s;
	size_t i, off = 0;

	*total = 0;
	for (i = 0; i < N_GOLDENS; i++)
		*total += 4 + goldens[i].n;
	s = malloc(*total);
	ck_assert_ptr_nonnull(s);
	for (i = 0; i < N_GOLDENS; i++) {
		put_u32(s + off, (uint32_t)goldens[i].n);
		memcpy(s + off + 4, goldens[i].p, goldens[i].n);
		off += 4 + goldens[i].n;
	}
	return s;
}

/* Take every complete packet from rx[0, *have); keep the rest. */
static void drain(uint8_t *rx, size_t *have, size_t *next)
{
	size_t off = 0, len;
	int rc;

	while ((rc = sftp_frame(rx + off, *have - off, &len)) == 0) {
		ck_assert_uint_lt(*next, N_GOLDENS);
		ck_assert_uint_eq(len - 4, goldens[*next].n);
		ck_assert(!memcmp(rx + off + 4, goldens[*next].p, len - 4));
		(*next)++;
		off += len;
	}
	ck_assert_int_eq(rc, LIBSSH2_ERROR_EAGAIN);
	memmove(rx, rx + off, *have - off);
	*have -= off;
}

START_TEST(frame_every_split)
{
	size_t total, split, have, next, i;
	uint8_t *s = stream(&total), *rx = malloc(total);

	ck_assert_ptr_nonnull(rx);
	/* Two reads, the first ending at every byte of the stream. */
	for (split = 0; split <= total; split++) {
		have = next = 0;
		memcpy(rx, s, split);
		have = split;
		drain(rx, &have, &next);
		memcpy(rx + have, s + split, total - split);
		have += total - split;
		drain(rx, &have, &next);
		ck_assert_uint_eq(next, N_GOLDENS);
		ck_assert_uint_eq(have, 0);
	}
	/* One byte per read. */
	have = next = 0;
	for (i = 0; i < total; i++) {
		rx[have++] = s[i];
		drain(rx, &have, &next);
	}
	ck_assert_uint_eq(next, N_GOLDENS);
	free(rx);
	free(s);
}
END_TEST

START_TEST(frame_prefixes_exact)
{
	size_t total, k, len;
	uint8_t *s = stream(&total);
	size_t first = 4 + goldens[0].n;

	/* Each prefix of the first packet in a buffer of its own size. */
	for (k = 0; k <= first; k++) {
		uint8_t *p = malloc(k ? k : 1);

		memcpy(p, s, k);
		if (k < first)
			ck_assert_int_eq(sftp_frame(p, k, &len),
					 LIBSSH2_ERROR_EAGAIN);
		else
			ck_assert(sftp_frame(p, k, &len) == 0 && len == first);
		free(p);
	}
	free(s);
}
END_TEST

START_TEST(frame_bad_lengths)
{
	static const uint32_t bad[] = {
		0, 1, 4, SFTP_MSG_MAX + 1, 0x80000000u, 0xffffffffu};
	uint8_t b[4 + SFTP_MSG_MIN] = {0};
	size_t i, len = 0;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		put_u32(b, bad[i]);
		/* refused as soon as the length is in, data or not */
		ck_assert_int_eq(sftp_frame(b, 4, &len), EPROTO_SFTP);
		ck_assert_int_eq(sftp_frame(b, sizeof(b), &len), EPROTO_SFTP);
	}
	ck_assert_uint_eq(len, 0); /* untouched on failure */
	put_u32(b, SFTP_MSG_MAX);
	ck_assert_int_eq(sftp_frame(b, sizeof(b), &len), LIBSSH2_ERROR_EAGAIN);
	put_u32(b, SFTP_MSG_MIN);
	PUT(sftp_frame(b, sizeof(b), &len));
	ck_assert_uint_eq(len, sizeof(b));
	ck_assert_int_eq(sftp_frame(b, 3, &len), LIBSSH2_ERROR_EAGAIN);
	ck_assert_int_eq(sftp_msg_head(b + 4, 4, b, &(uint32_t){0}),
			 EPROTO_SFTP);
}
END_TEST

/* ---- status text -------------------------------------------------------- */

START_TEST(status_text)
{
	uint32_t c;

	ck_assert_str_eq(sftp_status_str(SSH_FX_OK), "success");
	ck_assert_str_eq(sftp_status_str(SSH_FX_NO_SUCH_FILE), "no such file");
	for (c = 0; c <= SSH_FX_NO_MATCHING_BYTE_RANGE_LOCK; c++)
		ck_assert_str_ne(sftp_status_str(c), "unknown status");
	ck_assert_str_eq(sftp_status_str(32), "unknown status");
	ck_assert_str_eq(sftp_status_str(0xffffffffu), "unknown status");
}
END_TEST

int main(void)
{
	Suite *s = suite_create("sftp_proto");
	TCase *tc = tcase_create("core");
	SRunner *sr;
	int failed;

	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, req_golden);
	tcase_add_test(tc, req_paths);
	tcase_add_test(tc, req_handles);
	tcase_add_test(tc, req_file_io);
	tcase_add_test(tc, req_attrs_and_pairs);
	tcase_add_test(tc, req_two_paths);
	tcase_add_test(tc, req_ext_misc);
	tcase_add_test(tc, req_errors);
	tcase_add_test(tc, req_queue_frames);
	tcase_add_test(tc, attrs_codec);
	tcase_add_test(tc, attrs_absurd);
	tcase_add_test(tc, reply_version_status);
	tcase_add_test(tc, reply_handle_data_attrs);
	tcase_add_test(tc, reply_names);
	tcase_add_test(tc, reply_extended);
	tcase_add_test(tc, reply_goldens_reencode);
	tcase_add_loop_test(tc, reply_truncations, 0, N_GOLDENS);
	tcase_add_loop_test(tc, reply_bitflips, 0, N_GOLDENS);
	tcase_add_test(tc, reply_absurd);
	tcase_add_test(tc, reply_caps);
	tcase_add_test(tc, reply_version_cap);
	tcase_add_test(tc, frame_every_split);
	tcase_add_test(tc, frame_prefixes_exact);
	tcase_add_test(tc, frame_bad_lengths);
	tcase_add_test(tc, status_text);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
