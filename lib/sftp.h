/*
 * sftp.h - the objects behind LIBSSH2_SFTP and LIBSSH2_SFTP_HANDLE.
 */
#ifndef SFTPMNT_SFTP_H
#define SFTPMNT_SFTP_H

#include <stddef.h>
#include <stdint.h>

#include "libssh2.h"
#include "libssh2_sftp.h"
#include "sftp_core.h"
#include "sftp_proto.h"

/* The SFTP channel's receive window: what the server may send us per
 * round trip before it waits for us (the read-ahead ceiling). */
#define SFTP_CHANNEL_WINDOW (64u * 1024 * 1024)
/* Read-ahead per handle: starts small (random readers pay little) and
 * doubles each time a reader had to wait for data, up to the max. */
#define SFTP_READAHEAD_MIN (256u * 1024)
#define SFTP_READAHEAD_MAX (32u * 1024 * 1024)
/* Write-ahead per call: bytes of the caller's buffer in flight at once. */
#define SFTP_WRITEAHEAD_MAX (32u * 1024 * 1024)

/* Requests beyond the SSH_FXP_* numbers: OpenSSH extensions. */
enum {
	SREQ_POSIX_RENAME = 300,
	SREQ_STATVFS,
	SREQ_FSTATVFS,
	SREQ_FSYNC,
	SREQ_HARDLINK,
	SREQ_LSETSTAT,
	SREQ_EXPAND_PATH,
	SREQ_HOME_DIR,
	SREQ_COPY_DATA,
	SREQ_USERS_GROUPS,
};

/* What one simple request needs; unused fields stay zero. */
struct sreq {
	int type;
	const char *p1, *p2;
	size_t l1, l2;
	const uint8_t *h;
	size_t hl;
	uint32_t pflags;
	const struct sftp_attrs *attrs;
	/* copy-data: from h at off1, len bytes (0: to the end), to h2 at
	 * off2 */
	const uint8_t *h2;
	size_t hl2;
	uint64_t off1, off2, len;
	/* users-groups-by-id: the ids asked for */
	const uint32_t *ids1, *ids2;
	size_t n1, n2;
};

/* A pipelined READ: data lands in its own buffer as the reply arrives. */
struct rchunk {
	struct rchunk *next;
	LIBSSH2_SFTP_HANDLE *h; /* NULL once dropped: the reply frees it */
	uint64_t off;
	uint32_t len, got, pos;
	int state; /* CHUNK_* */
	uint32_t status;
	uint8_t *data;
};

/* A pipelined WRITE waiting for its STATUS. */
struct wchunk {
	struct wchunk *next;
	LIBSSH2_SFTP_HANDLE *h;
	uint32_t len;
	int state;
	uint32_t status;
};

enum { CHUNK_PENDING = 0, CHUNK_DATA, CHUNK_EOF, CHUNK_ERROR };

struct _LIBSSH2_SFTP_HANDLE {
	LIBSSH2_SFTP *sf;
	LIBSSH2_SFTP_HANDLE *next;
	uint8_t h[SFTP_HANDLE_MAX];
	size_t hlen;
	int dir;
	int closing;
	uint64_t offset; /* the caller's position */

	/* read-ahead: chunks in file order from `offset` */
	struct rchunk *rq_head, *rq_tail;
	size_t rq_bytes;
	uint64_t rq_next;
	size_t ra_window;
	int rq_stop; /* a short read or EOF: ask no further for now */

	/* write-ahead: in order from `offset` */
	struct wchunk *wq_head, *wq_tail;
	size_t w_sent; /* bytes past `offset` already sent */
	size_t w_owed; /* acknowledged (in `offset`), not yet returned */

	/* directory listing: the last NAME reply and a cursor in it */
	uint8_t *names;
	size_t names_len;
	struct sftp_name_iter it;
	int dir_eof;
	int readdir_pending; /* 1 in flight, 2 answered */
	int readdir_err;
	void *dticket;	     /* the READDIR in flight */
	int close_werr;	     /* a write error found by close_handle */
	uint32_t close_wstatus; /* and its SFTP status */
};

/* A simple request in progress: at most one per kind of request and
 * handle (libssh2 keeps a state per call), so calls that returned EAGAIN
 * side by side each find their own reply when called again.  Allocated
 * per request: when the caller gives up on it (timeout, error), it is
 * orphaned and freed by its reply, which can then never be mistaken for
 * the answer to a later request. */
struct sftp_op {
	struct sftp_op *next;
	int type;	 /* its sreq type */
	const void *key; /* its handle's bytes (sreq.h); NULL for a path */
	int done, err, orphan;
	uint8_t *reply;
	size_t n;
};

struct _LIBSSH2_SFTP {
	LIBSSH2_SESSION *s;
	LIBSSH2_CHANNEL *ch;
	struct sftp_core core;
	int subsystem_ok;
	int ch_open; /* (sftp_open_step) */
	unsigned long last_status;
	struct sftp_op *ops; /* the simple requests in progress */
	LIBSSH2_SFTP_HANDLE *handles;
};

void sftp_attrs_to_lib(const struct sftp_attrs *a, LIBSSH2_SFTP_ATTRIBUTES *o);
/* A STATUS reply body: 0 for OK, else LIBSSH2_ERROR_SFTP_PROTOCOL with
 * the code kept for libssh2_sftp_last_error. */
int sftp_status_rc(LIBSSH2_SFTP *sf, const uint8_t *body, size_t n);

/* Give up the simple requests in progress on h (it goes). */
void sftp_ops_drop_handle(LIBSSH2_SFTP_HANDLE *h);

/* sftp_io.c */
int sftp_writes_settle(LIBSSH2_SFTP_HANDLE *h);
void sftp_reads_drop(LIBSSH2_SFTP_HANDLE *h);
/* Forget the writes in flight (their replies free them). */
void sftp_writes_detach(LIBSSH2_SFTP_HANDLE *h);
void sftp_handle_release(LIBSSH2_SFTP_HANDLE *h);

#endif
