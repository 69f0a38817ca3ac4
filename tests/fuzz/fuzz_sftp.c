/*
 * fuzz_sftp.c - every SFTP decoder of lib/sftp_proto.h on arbitrary
 * bodies, the iterators over what they accepted, and sftp_frame over an
 * arbitrary stream; a few encoders take the input as a path or handle.
 *
 * Input: the whole input is decoded as one body by every decoder, then
 * read as a stream of framed packets (uint32 length, body) whose bodies
 * go through the decoders too.
 *
 * Beyond "no crash": what a decoder accepted, its iterator must walk to
 * the end without an error and with the count the decoder gave; decoded
 * attributes re-encode to the same values; borrowed pointers stay inside
 * the body; an encoded request frames to exactly its own length.
 */
#include <string.h>

#include "fuzz.h"
#include "libssh2.h"
#include "sftp_proto.h"

#define CHECK(c)                                                               \
	do {                                                                   \
		if (!(c))                                                      \
			__builtin_trap();                                      \
	} while (0)

static void inside(const uint8_t *body, size_t n, const void *p, size_t len)
{
	const uint8_t *q = p;

	if (len == 0)
		return;
	CHECK(q >= body && len <= n && (size_t)(q - body) <= n - len);
}

static void attrs_roundtrip(const struct sftp_attrs *a)
{
	struct sftp_attrs b;
	struct wbuf w;
	struct rbuf r;

	wb_init(&w, &lalloc_system, 1024);
	CHECK(sftp_attrs_put(&w, a) == 0);
	rb_init(&r, w.p, w.len);
	CHECK(sftp_attrs_get(&r, &b) == 0 && rb_done(&r) == 0);
	CHECK(b.flags == (a->flags & SFTP_ATTR_FIELDS));
	if (b.flags & SSH_FILEXFER_ATTR_SIZE)
		CHECK(b.size == a->size);
	if (b.flags & SSH_FILEXFER_ATTR_UIDGID)
		CHECK(b.uid == a->uid && b.gid == a->gid);
	if (b.flags & SSH_FILEXFER_ATTR_PERMISSIONS)
		CHECK(b.perm == a->perm);
	if (b.flags & SSH_FILEXFER_ATTR_ACMODTIME)
		CHECK(b.atime == a->atime && b.mtime == a->mtime);
	wb_free(&w);
}

static void walk_names(const uint8_t *body, size_t n,
		       const struct sftp_names *ns)
{
	struct sftp_name_iter it;
	struct sftp_name_entry e;
	uint32_t i = 0;
	int rc;

	inside(body, n, ns->entries, ns->entries_len);
	sftp_names_iter_init(&it, ns);
	while ((rc = sftp_names_next(&it, &e)) == 1) {
		inside(body, n, e.filename, e.filename_len);
		inside(body, n, e.longname, e.longname_len);
		CHECK(!memchr(e.filename, 0, e.filename_len));
		attrs_roundtrip(&e.attrs);
		i++;
	}
	CHECK(rc == 0 && i == ns->count);
}

static void walk_strlist(const uint8_t *body, size_t n, const uint8_t *p,
			 size_t len, uint32_t count)
{
	struct sftp_strlist_iter it;
	const char *s;
	size_t sl;
	uint32_t i = 0;
	int rc;

	inside(body, n, p, len);
	sftp_strlist_iter_init(&it, p, len);
	while ((rc = sftp_strlist_next(&it, &s, &sl)) == 1) {
		inside(body, n, s, sl);
		i++;
	}
	CHECK(rc == 0 && i == count);
}

static void decode_all(const uint8_t *body, size_t n)
{
	static const char *const exts[] = {
		SFTP_EXT_POSIX_RENAME, SFTP_EXT_STATVFS,     SFTP_EXT_LIMITS,
		SFTP_EXT_HARDLINK,     SFTP_EXT_EXPAND_PATH, SFTP_EXT_COPY_DATA,
	};
	struct sftp_version v = sftp_dec_version(body, n);
	struct sftp_status st = sftp_dec_status(body, n);
	struct sftp_handle h = sftp_dec_handle(body, n);
	struct sftp_data d = sftp_dec_data(body, n);
	struct sftp_names ns = sftp_dec_names(body, n);
	struct sftp_name1 one = sftp_dec_name1(body, n);
	struct sftp_attrs_reply a = sftp_dec_attrs(body, n);
	struct sftp_ext_reply x = sftp_dec_ext_reply(body, n);
	struct sftp_statvfs sv = sftp_dec_statvfs(body, n);
	struct sftp_limits l = sftp_dec_limits(body, n);
	struct sftp_users_groups ug = sftp_dec_users_groups(body, n);
	uint8_t type;
	uint32_t id;
	size_t i;

	if (sftp_msg_head(body, n, &type, &id) == 0)
		CHECK(n >= SFTP_MSG_MIN && type == body[0]);
	if (v.rc == 0) {
		struct sftp_ext_iter it;
		struct sftp_ext e;
		uint32_t c = 0;
		int rc;

		inside(body, n, v.ext, v.ext_len);
		sftp_ext_iter_init(&it, &v);
		while ((rc = sftp_ext_next(&it, &e)) == 1) {
			inside(body, n, e.name, e.name_len);
			inside(body, n, e.data, e.data_len);
			c++;
		}
		CHECK(rc == 0 && c == v.ext_count && c <= SFTP_EXT_MAX);
		for (i = 0; i < sizeof(exts) / sizeof(exts[0]); i++)
			if (sftp_version_find(&v, exts[i], &e) == 0)
				CHECK(e.name_len == strlen(exts[i]));
	} else {
		CHECK(v.ext == NULL && v.ext_count == 0);
	}
	if (st.rc == 0) {
		inside(body, n, st.msg, st.msg_len);
		inside(body, n, st.lang, st.lang_len);
		CHECK(sftp_status_str(st.code) != NULL);
	}
	if (h.rc == 0) {
		CHECK(h.handle_len <= SFTP_HANDLE_MAX);
		inside(body, n, h.handle, h.handle_len);
	}
	if (d.rc == 0)
		inside(body, n, d.data, d.len);
	if (ns.rc == 0) {
		CHECK(ns.count <= SFTP_NAMES_MAX);
		walk_names(body, n, &ns);
	}
	CHECK((one.rc == 0) == (ns.rc == 0 && ns.count == 1));
	if (one.rc == 0)
		attrs_roundtrip(&one.e.attrs);
	if (a.rc == 0)
		attrs_roundtrip(&a.attrs);
	if (x.rc == 0)
		inside(body, n, x.data, x.len);
	/* the typed extended replies are extended replies */
	if (sv.rc == 0 || l.rc == 0 || ug.rc == 0)
		CHECK(x.rc == 0);
	if (ug.rc == 0) {
		walk_strlist(body, n, ug.users, ug.users_len, ug.n_users);
		walk_strlist(body, n, ug.groups, ug.groups_len, ug.n_groups);
	}
	/* the attrs decoder alone, at the start of the body */
	{
		struct sftp_attrs at;
		struct rbuf r;

		rb_init(&r, body, n);
		if (sftp_attrs_get(&r, &at) == 0)
			attrs_roundtrip(&at);
	}
}

/* Encoders with the input as a path or handle: an encoded request must
 * frame to exactly itself; a refused one leaves the writer as it was. */
static void encode_some(const uint8_t *p, size_t n)
{
	struct wbuf w;
	size_t before, len;
	uint8_t type;
	uint32_t id;
	int rc;

	wb_init(&w, &lalloc_system, SFTP_MSG_MAX + 4);
#define ENC(call)                                                              \
	do {                                                                   \
		before = w.len;                                                \
		rc = (call);                                                   \
		if (rc) {                                                      \
			CHECK(w.len == before && wb_ok(&w) == 0);              \
		} else {                                                       \
			CHECK(sftp_frame(w.p + before, w.len - before,         \
					 &len) == 0 &&                         \
			      len == w.len - before);                          \
			CHECK(sftp_msg_head(w.p + before + 4, len - 4, &type,  \
					    &id) == 0 &&                       \
			      id == 7);                                        \
		}                                                              \
	} while (0)
	ENC(sftp_enc_open(&w, 7, (const char *)p, n, SSH_FXF_READ, NULL));
	ENC(sftp_enc_close(&w, 7, p, n));
	ENC(sftp_enc_read(&w, 7, p, n, 0, 4096));
	ENC(sftp_enc_write(&w, 7, p, n > 8 ? 8 : n, 0, p, n));
	ENC(sftp_enc_rename(&w, 7, (const char *)p, n / 2,
			    (const char *)p + n / 2, n - n / 2));
	ENC(sftp_enc_symlink(&w, 7, (const char *)p, n, "x", 1));
	ENC(sftp_enc_statvfs(&w, 7, (const char *)p, n));
#undef ENC
	wb_free(&w);
}

FUZZ_TARGET(sftp)
{
	const uint8_t *p = data;
	size_t n = size, len;
	int rc;

	fuzz_reset();
	decode_all(data, size);
	/* as a stream of framed packets */
	while ((rc = sftp_frame(p, n, &len)) == 0) {
		CHECK(len >= 4 + SFTP_MSG_MIN && len <= n &&
		      len - 4 <= SFTP_MSG_MAX);
		decode_all(p + 4, len - 4);
		p += len;
		n -= len;
	}
	CHECK(rc == LIBSSH2_ERROR_EAGAIN || rc == LIBSSH2_ERROR_SFTP_PROTOCOL);
	encode_some(data, size);
	return 0;
}
