/*
 * sftp_proto.h - a pure codec for SFTP version 3 (draft-ietf-secsh-
 * filexfer-02, "filexfer-02" below) and the OpenSSH extensions described
 * in OpenSSH's PROTOCOL file.  No I/O and no allocation: encoders append
 * to a struct wbuf, decoders read a packet the caller already holds.
 *
 * Every packet on the channel is (filexfer-02 §3):
 *
 *	uint32	length		bytes that follow, type included
 *	byte	type		SSH_FXP_*
 *	uint32	request-id	(the protocol version in INIT and VERSION)
 *	...			type-specific fields
 *
 * Encoders append one complete packet, length poked after the fields are
 * written.  On failure the writer is left exactly as it was (the partial
 * packet is dropped and the writer's sticky error cleared), so a queue of
 * outgoing requests survives one that did not fit.  They return 0,
 * LIBSSH2_ERROR_BUFFER_TOO_SMALL when the writer reached its cap,
 * LIBSSH2_ERROR_ALLOC when it could not grow, or LIBSSH2_ERROR_INVAL for a
 * request that could never be sent (a handle over SFTP_HANDLE_MAX, a
 * packet over SFTP_MSG_MAX).  Paths and handles are (pointer, length):
 * nothing needs to be NUL-terminated.
 *
 * sftp_frame() finds where the next packet ends in the received bytes.
 * Decoders take the packet body - the bytes after the length field, type
 * byte first - and return a struct by value: .rc is 0 or
 * LIBSSH2_ERROR_SFTP_PROTOCOL (then every other field is zero).  Strings
 * in the result are borrowed pointers into the body, valid as long as
 * the body is, and are NOT NUL-terminated: use the lengths.  A decoder
 * accepts a packet only if it consumed every byte of it.
 */
#ifndef SFTPMNT_SFTP_PROTO_H
#define SFTPMNT_SFTP_PROTO_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"

/* ---- protocol numbers --------------------------------------------------- */

/* The only version spoken (filexfer-02 §4; OpenSSH PROTOCOL). */
#define SFTP_PROTO_VERSION 3

/* Packet types (filexfer-02 §3). */
#define SSH_FXP_INIT	       1
#define SSH_FXP_VERSION	       2
#define SSH_FXP_OPEN	       3
#define SSH_FXP_CLOSE	       4
#define SSH_FXP_READ	       5
#define SSH_FXP_WRITE	       6
#define SSH_FXP_LSTAT	       7
#define SSH_FXP_FSTAT	       8
#define SSH_FXP_SETSTAT	       9
#define SSH_FXP_FSETSTAT       10
#define SSH_FXP_OPENDIR	       11
#define SSH_FXP_READDIR	       12
#define SSH_FXP_REMOVE	       13
#define SSH_FXP_MKDIR	       14
#define SSH_FXP_RMDIR	       15
#define SSH_FXP_REALPATH       16
#define SSH_FXP_STAT	       17
#define SSH_FXP_RENAME	       18
#define SSH_FXP_READLINK       19
#define SSH_FXP_SYMLINK	       20
#define SSH_FXP_STATUS	       101
#define SSH_FXP_HANDLE	       102
#define SSH_FXP_DATA	       103
#define SSH_FXP_NAME	       104
#define SSH_FXP_ATTRS	       105
#define SSH_FXP_EXTENDED       200
#define SSH_FXP_EXTENDED_REPLY 201

/*
 * Status codes: 0..8 are version 3 (filexfer-02 §7).  OpenSSH's server
 * sends only those; later drafts (filexfer-13 §9.1) define 9..31, which
 * other servers may send even at version 3, so they are named too.
 */
#define SSH_FX_OK			   0
#define SSH_FX_EOF			   1
#define SSH_FX_NO_SUCH_FILE		   2
#define SSH_FX_PERMISSION_DENIED	   3
#define SSH_FX_FAILURE			   4
#define SSH_FX_BAD_MESSAGE		   5
#define SSH_FX_NO_CONNECTION		   6
#define SSH_FX_CONNECTION_LOST		   7
#define SSH_FX_OP_UNSUPPORTED		   8
#define SSH_FX_INVALID_HANDLE		   9
#define SSH_FX_NO_SUCH_PATH		   10
#define SSH_FX_FILE_ALREADY_EXISTS	   11
#define SSH_FX_WRITE_PROTECT		   12
#define SSH_FX_NO_MEDIA			   13
#define SSH_FX_NO_SPACE_ON_FILESYSTEM	   14
#define SSH_FX_QUOTA_EXCEEDED		   15
#define SSH_FX_UNKNOWN_PRINCIPAL	   16
#define SSH_FX_LOCK_CONFLICT		   17
#define SSH_FX_DIR_NOT_EMPTY		   18
#define SSH_FX_NOT_A_DIRECTORY		   19
#define SSH_FX_INVALID_FILENAME		   20
#define SSH_FX_LINK_LOOP		   21
#define SSH_FX_CANNOT_DELETE		   22
#define SSH_FX_INVALID_PARAMETER	   23
#define SSH_FX_FILE_IS_A_DIRECTORY	   24
#define SSH_FX_BYTE_RANGE_LOCK_CONFLICT	   25
#define SSH_FX_BYTE_RANGE_LOCK_REFUSED	   26
#define SSH_FX_DELETE_PENDING		   27
#define SSH_FX_FILE_CORRUPT		   28
#define SSH_FX_OWNER_INVALID		   29
#define SSH_FX_GROUP_INVALID		   30
#define SSH_FX_NO_MATCHING_BYTE_RANGE_LOCK 31

/* Attribute flags (filexfer-02 §5). */
#define SSH_FILEXFER_ATTR_SIZE	      0x00000001u
#define SSH_FILEXFER_ATTR_UIDGID      0x00000002u
#define SSH_FILEXFER_ATTR_PERMISSIONS 0x00000004u
#define SSH_FILEXFER_ATTR_ACMODTIME   0x00000008u
#define SSH_FILEXFER_ATTR_EXTENDED    0x80000000u
/* The flags whose fields struct sftp_attrs carries. */
#define SFTP_ATTR_FIELDS                                                       \
	(SSH_FILEXFER_ATTR_SIZE | SSH_FILEXFER_ATTR_UIDGID |                   \
	 SSH_FILEXFER_ATTR_PERMISSIONS | SSH_FILEXFER_ATTR_ACMODTIME)

/* Open flags, the pflags of SSH_FXP_OPEN (filexfer-02 §6.3). */
#define SSH_FXF_READ   0x00000001u
#define SSH_FXF_WRITE  0x00000002u
#define SSH_FXF_APPEND 0x00000004u
#define SSH_FXF_CREAT  0x00000008u
#define SSH_FXF_TRUNC  0x00000010u
#define SSH_FXF_EXCL   0x00000020u

/* f_flag bits of the statvfs@openssh.com reply (OpenSSH PROTOCOL). */
#define SSH_FXE_STATVFS_ST_RDONLY 0x1u
#define SSH_FXE_STATVFS_ST_NOSUID 0x2u

/* Extension names, as announced in SSH_FXP_VERSION (OpenSSH PROTOCOL). */
#define SFTP_EXT_POSIX_RENAME	"posix-rename@openssh.com"
#define SFTP_EXT_STATVFS	"statvfs@openssh.com"
#define SFTP_EXT_FSTATVFS	"fstatvfs@openssh.com"
#define SFTP_EXT_HARDLINK	"hardlink@openssh.com"
#define SFTP_EXT_FSYNC		"fsync@openssh.com"
#define SFTP_EXT_LSETSTAT	"lsetstat@openssh.com"
#define SFTP_EXT_LIMITS		"limits@openssh.com"
#define SFTP_EXT_EXPAND_PATH	"expand-path@openssh.com"
#define SFTP_EXT_COPY_DATA	"copy-data"
#define SFTP_EXT_HOME_DIRECTORY "home-directory"
#define SFTP_EXT_USERS_GROUPS	"users-groups-by-id@openssh.com"

/* ---- limits ------------------------------------------------------------- */

/*
 * Largest READ length and WRITE payload the encoders accept.  This is a
 * sanity cap, not what to send: OpenSSH's server closes the session on a
 * message over 256 KiB and announces max-read/write-length (255 KiB)
 * through limits@openssh.com.  The caller sizes its I/O by the server's
 * limits, and by SFTP_IO_DEFAULT when the server states none.
 */
#define SFTP_DATA_MAX (256 * 1024)
/* What a conservative client reads/writes per request without limits
 * (filexfer-02 says nothing; 32 KiB is what every server accepts). */
#define SFTP_IO_DEFAULT (32 * 1024)
/* Header bytes around the data of a READ reply or WRITE request: type,
 * id, handle (<= SFTP_HANDLE_MAX), offset and string lengths. */
#define SFTP_MSG_OVERHEAD 1024
/* Largest packet length (the uint32 prefix excluded) in either direction. */
#define SFTP_MSG_MAX (SFTP_DATA_MAX + SFTP_MSG_OVERHEAD)
/* Smallest: every v3 packet has a type and a uint32 (id or version). */
#define SFTP_MSG_MIN 5
/* filexfer-02 §7: "The handle MUST NOT be longer than 256 bytes." */
#define SFTP_HANDLE_MAX 256
/* Names accepted in one NAME reply (OpenSSH sends 100 per READDIR) and
 * in each list of a users-groups-by-id request or reply. */
#define SFTP_NAMES_MAX 8192
/* Smallest NAME entry: empty filename, empty longname, attrs flags 0. */
#define SFTP_NAME_ENTRY_MIN 12
/* Extension pairs accepted in VERSION (OpenSSH 9 announces 11). */
#define SFTP_EXT_MAX 64
/* Extended pairs accepted (and skipped) in one attrs (filexfer-02 §5). */
#define SFTP_ATTR_EXT_MAX 64

/* ---- attributes (filexfer-02 §5) ---------------------------------------- */

/*
 * flags says which fields are valid (SFTP_ATTR_FIELDS bits only).  The
 * decoder skips extended pairs and unknown flag bits; the encoder sends
 * the SFTP_ATTR_FIELDS bits of flags and never extended pairs.
 */
struct sftp_attrs {
	uint32_t flags;
	uint64_t size;
	uint32_t uid, gid, perm, atime, mtime;
};

/* a may be NULL: no attributes (flags 0).  0 or a writer error. */
int sftp_attrs_put(struct wbuf *w, const struct sftp_attrs *a) BUF_WUR;
/* 0 or LIBSSH2_ERROR_SFTP_PROTOCOL; *a is set only on success. */
int sftp_attrs_get(struct rbuf *r, struct sftp_attrs *a) BUF_WUR;

/* ---- framing ------------------------------------------------------------ */

/*
 * Given n received bytes at p (any number of packets, maybe a partial
 * one at the end): 0 with *pkt_len = 4 + length when the first packet is
 * complete (its body is p + 4, *pkt_len - 4 bytes); LIBSSH2_ERROR_EAGAIN
 * when more bytes are needed; LIBSSH2_ERROR_SFTP_PROTOCOL when the length
 * is under SFTP_MSG_MIN or over SFTP_MSG_MAX - the stream cannot be
 * resynchronised and the caller must close the channel.
 */
int sftp_frame(const uint8_t *p, size_t n, size_t *pkt_len) BUF_WUR;

/* Type and id (version for VERSION) of a body, to route a reply. */
int sftp_msg_head(const uint8_t *body, size_t n, uint8_t *type,
		  uint32_t *id) BUF_WUR;

/* ---- requests ----------------------------------------------------------- */

int sftp_enc_init(struct wbuf *w) BUF_WUR;
/* attrs may be NULL here and in every encoder below (flags 0). */
int sftp_enc_open(struct wbuf *w, uint32_t id, const char *path,
		  size_t path_len, uint32_t pflags,
		  const struct sftp_attrs *attrs) BUF_WUR;
int sftp_enc_close(struct wbuf *w, uint32_t id, const uint8_t *h,
		   size_t h_len) BUF_WUR;
int sftp_enc_read(struct wbuf *w, uint32_t id, const uint8_t *h, size_t h_len,
		  uint64_t offset, uint32_t len) BUF_WUR;
int sftp_enc_write(struct wbuf *w, uint32_t id, const uint8_t *h, size_t h_len,
		   uint64_t offset, const void *data, size_t len) BUF_WUR;
/*
 * As sftp_enc_write, but leaves the len data bytes unwritten and points
 * *data at them, so the caller can copy or encrypt straight into the
 * packet.  *data is valid until the next put into w.
 */
int sftp_enc_write_reserve(struct wbuf *w, uint32_t id, const uint8_t *h,
			   size_t h_len, uint64_t offset, size_t len,
			   uint8_t **data) BUF_WUR;
int sftp_enc_lstat(struct wbuf *w, uint32_t id, const char *path,
		   size_t path_len) BUF_WUR;
int sftp_enc_fstat(struct wbuf *w, uint32_t id, const uint8_t *h,
		   size_t h_len) BUF_WUR;
int sftp_enc_setstat(struct wbuf *w, uint32_t id, const char *path,
		     size_t path_len, const struct sftp_attrs *attrs) BUF_WUR;
int sftp_enc_fsetstat(struct wbuf *w, uint32_t id, const uint8_t *h,
		      size_t h_len, const struct sftp_attrs *attrs) BUF_WUR;
int sftp_enc_opendir(struct wbuf *w, uint32_t id, const char *path,
		     size_t path_len) BUF_WUR;
int sftp_enc_readdir(struct wbuf *w, uint32_t id, const uint8_t *h,
		     size_t h_len) BUF_WUR;
int sftp_enc_remove(struct wbuf *w, uint32_t id, const char *path,
		    size_t path_len) BUF_WUR;
int sftp_enc_mkdir(struct wbuf *w, uint32_t id, const char *path,
		   size_t path_len, const struct sftp_attrs *attrs) BUF_WUR;
int sftp_enc_rmdir(struct wbuf *w, uint32_t id, const char *path,
		   size_t path_len) BUF_WUR;
int sftp_enc_realpath(struct wbuf *w, uint32_t id, const char *path,
		      size_t path_len) BUF_WUR;
int sftp_enc_stat(struct wbuf *w, uint32_t id, const char *path,
		  size_t path_len) BUF_WUR;
int sftp_enc_rename(struct wbuf *w, uint32_t id, const char *oldpath,
		    size_t old_len, const char *newpath,
		    size_t new_len) BUF_WUR;
int sftp_enc_readlink(struct wbuf *w, uint32_t id, const char *path,
		      size_t path_len) BUF_WUR;
/*
 * SSH_FXP_SYMLINK with its two strings in the order given.  filexfer-02
 * §6.10 says (linkpath, targetpath), but OpenSSH's server has always read
 * them as (targetpath, linkpath) (OpenSSH PROTOCOL, "Reversal of
 * arguments to SSH_FXP_SYMLINK"), and other servers follow one or the
 * other.  The caller decides the order; this function does not guess.
 */
int sftp_enc_symlink(struct wbuf *w, uint32_t id, const char *first,
		     size_t first_len, const char *second,
		     size_t second_len) BUF_WUR;

/* OpenSSH extensions, sent as SSH_FXP_EXTENDED (OpenSSH PROTOCOL). */
int sftp_enc_posix_rename(struct wbuf *w, uint32_t id, const char *oldpath,
			  size_t old_len, const char *newpath,
			  size_t new_len) BUF_WUR;
int sftp_enc_statvfs(struct wbuf *w, uint32_t id, const char *path,
		     size_t path_len) BUF_WUR;
int sftp_enc_fstatvfs(struct wbuf *w, uint32_t id, const uint8_t *h,
		      size_t h_len) BUF_WUR;
int sftp_enc_hardlink(struct wbuf *w, uint32_t id, const char *oldpath,
		      size_t old_len, const char *newpath,
		      size_t new_len) BUF_WUR;
int sftp_enc_fsync(struct wbuf *w, uint32_t id, const uint8_t *h,
		   size_t h_len) BUF_WUR;
int sftp_enc_lsetstat(struct wbuf *w, uint32_t id, const char *path,
		      size_t path_len, const struct sftp_attrs *attrs) BUF_WUR;
int sftp_enc_limits(struct wbuf *w, uint32_t id) BUF_WUR;
int sftp_enc_expand_path(struct wbuf *w, uint32_t id, const char *path,
			 size_t path_len) BUF_WUR;
/* Server-side copy of len bytes (0: to the end of the source). */
int sftp_enc_copy_data(struct wbuf *w, uint32_t id, const uint8_t *src_h,
		       size_t src_h_len, uint64_t src_off, uint64_t len,
		       const uint8_t *dst_h, size_t dst_h_len,
		       uint64_t dst_off) BUF_WUR;
int sftp_enc_home_directory(struct wbuf *w, uint32_t id, const char *user,
			    size_t user_len) BUF_WUR;
/* At most SFTP_NAMES_MAX ids in each list; either list may be empty. */
int sftp_enc_users_groups_by_id(struct wbuf *w, uint32_t id,
				const uint32_t *uids, size_t n_uids,
				const uint32_t *gids, size_t n_gids) BUF_WUR;

/* ---- replies ------------------------------------------------------------ */

/* SSH_FXP_VERSION (filexfer-02 §4): version, then extension pairs. */
struct sftp_version {
	int rc;
	uint32_t version; /* the caller checks it is SFTP_PROTO_VERSION */
	uint32_t ext_count;
	const uint8_t *ext; /* ext_count (string name, string data) pairs */
	size_t ext_len;
};

struct sftp_ext {
	const char *name; /* no NUL inside */
	size_t name_len;
	const uint8_t *data;
	size_t data_len;
};

struct sftp_ext_iter {
	struct rbuf r;
};

struct sftp_version sftp_dec_version(const uint8_t *body, size_t n) BUF_WUR;
void sftp_ext_iter_init(struct sftp_ext_iter *it, const struct sftp_version *v);
/* 1 with *e set, 0 at the end, < 0 on malformed input. */
int sftp_ext_next(struct sftp_ext_iter *it, struct sftp_ext *e) BUF_WUR;
/* 0 with *e set when the server announced name, else -1. */
int sftp_version_find(const struct sftp_version *v, const char *name,
		      struct sftp_ext *e) BUF_WUR;

/*
 * SSH_FXP_STATUS (filexfer-02 §7).  The message and language tag are
 * taken as optional (servers of older drafts send the code alone, some
 * the message alone); absent ones read as "" with length 0.  OpenSSH
 * always sends both.  The message may hold any bytes: print it with its
 * length and treat it as untrusted.
 */
struct sftp_status {
	int rc;
	uint32_t id;
	uint32_t code; /* SSH_FX_* */
	const char *msg;
	size_t msg_len;
	const char *lang;
	size_t lang_len;
};

struct sftp_status sftp_dec_status(const uint8_t *body, size_t n) BUF_WUR;

/* SSH_FXP_HANDLE: at most SFTP_HANDLE_MAX bytes (filexfer-02 §7). */
struct sftp_handle {
	int rc;
	uint32_t id;
	const uint8_t *handle;
	size_t handle_len;
};

struct sftp_handle sftp_dec_handle(const uint8_t *body, size_t n) BUF_WUR;

/* SSH_FXP_DATA: the data stays in the packet (no copy). */
struct sftp_data {
	int rc;
	uint32_t id;
	const uint8_t *data;
	size_t len;
};

struct sftp_data sftp_dec_data(const uint8_t *body, size_t n) BUF_WUR;

/* One entry of SSH_FXP_NAME. */
struct sftp_name_entry {
	const char *filename; /* no NUL inside */
	size_t filename_len;
	const char *longname; /* ls -l style, for display only; any bytes */
	size_t longname_len;
	struct sftp_attrs attrs;
};

/*
 * SSH_FXP_NAME (filexfer-02 §7): count entries, all checked by the
 * decoder but not copied - walk them with sftp_names_next().
 */
struct sftp_names {
	int rc;
	uint32_t id;
	uint32_t count; /* <= SFTP_NAMES_MAX; may be 0 */
	const uint8_t *entries;
	size_t entries_len;
};

struct sftp_name_iter {
	struct rbuf r;
	uint32_t left;
};

struct sftp_names sftp_dec_names(const uint8_t *body, size_t n) BUF_WUR;
void sftp_names_iter_init(struct sftp_name_iter *it,
			  const struct sftp_names *names);
/* 1 with *e set, 0 after the last entry, < 0 on malformed input. */
int sftp_names_next(struct sftp_name_iter *it,
		    struct sftp_name_entry *e) BUF_WUR;

/*
 * A NAME reply that must hold exactly one entry: REALPATH, READLINK
 * (filexfer-02 §6.10, §6.11), expand-path@openssh.com, home-directory.
 */
struct sftp_name1 {
	int rc;
	uint32_t id;
	struct sftp_name_entry e;
};

struct sftp_name1 sftp_dec_name1(const uint8_t *body, size_t n) BUF_WUR;

/* SSH_FXP_ATTRS (STAT, LSTAT, FSTAT). */
struct sftp_attrs_reply {
	int rc;
	uint32_t id;
	struct sftp_attrs attrs;
};

struct sftp_attrs_reply sftp_dec_attrs(const uint8_t *body, size_t n) BUF_WUR;

/* Any SSH_FXP_EXTENDED_REPLY: the extension-specific bytes, raw. */
struct sftp_ext_reply {
	int rc;
	uint32_t id;
	const uint8_t *data;
	size_t len;
};

struct sftp_ext_reply sftp_dec_ext_reply(const uint8_t *body, size_t n) BUF_WUR;

/* statvfs@openssh.com / fstatvfs@openssh.com reply, OpenSSH's order. */
struct sftp_statvfs {
	int rc;
	uint32_t id;
	uint64_t bsize;	  /* file system block size */
	uint64_t frsize;  /* fundamental fs block size */
	uint64_t blocks;  /* number of blocks (unit f_frsize) */
	uint64_t bfree;	  /* free blocks in file system */
	uint64_t bavail;  /* free blocks for non-root */
	uint64_t files;	  /* total file inodes */
	uint64_t ffree;	  /* free file inodes */
	uint64_t favail;  /* free file inodes for non-root */
	uint64_t fsid;	  /* file system id */
	uint64_t flag;	  /* SSH_FXE_STATVFS_ST_* */
	uint64_t namemax; /* maximum filename length */
};

struct sftp_statvfs sftp_dec_statvfs(const uint8_t *body, size_t n) BUF_WUR;

/*
 * limits@openssh.com reply (OpenSSH PROTOCOL): requests beyond these may
 * make the server drop the connection.  A 0 is no usable size; the
 * caller treats it as unstated and falls back to SFTP_IO_DEFAULT.
 */
struct sftp_limits {
	int rc;
	uint32_t id;
	uint64_t max_packet_len;
	uint64_t max_read_len;
	uint64_t max_write_len;
	uint64_t max_open_handles;
};

struct sftp_limits sftp_dec_limits(const uint8_t *body, size_t n) BUF_WUR;

/*
 * users-groups-by-id@openssh.com reply: two strings, each a packed list
 * of names in the order of the ids asked for ("" for an unknown id).
 * Both lists are checked; walk them with sftp_strlist_next().
 */
struct sftp_users_groups {
	int rc;
	uint32_t id;
	uint32_t n_users, n_groups;
	const uint8_t *users;
	size_t users_len;
	const uint8_t *groups;
	size_t groups_len;
};

struct sftp_strlist_iter {
	struct rbuf r;
};

struct sftp_users_groups sftp_dec_users_groups(const uint8_t *body,
					       size_t n) BUF_WUR;
void sftp_strlist_iter_init(struct sftp_strlist_iter *it, const uint8_t *p,
			    size_t len);
/* 1 with the next name (no NUL inside), 0 at the end, < 0 malformed. */
int sftp_strlist_next(struct sftp_strlist_iter *it, const char **s,
		      size_t *len) BUF_WUR;

/* ---- messages ----------------------------------------------------------- */

/* A short static English text for an SSH_FX_* code; never NULL. */
const char *sftp_status_str(uint32_t code);

#endif
