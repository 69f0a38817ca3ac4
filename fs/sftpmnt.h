/*
 * sftpmnt.h - the daemon's shared types.
 *
 * Design (../shared/GUIDE.md): the FUSE low-level API; the FUSE thread
 * only copies a request's arguments into a struct op and queues it to a
 * connection; the connection's I/O thread owns its SSH session, encodes
 * SFTP requests for queued ops, and when their replies complete makes
 * the single fuse_reply_* of each op.  Nothing in a FUSE handler waits
 * for the network, so the number of operations in flight is bounded by
 * memory caps, not threads.
 */
#ifndef SFTPMNT_FS_H
#define SFTPMNT_FS_H

#define FUSE_USE_VERSION 310
#include <fuse_lowlevel.h>
#include <pthread.h>
#include <stdint.h>
#include <sys/stat.h>
#include <sys/statvfs.h>

#include "libssh2.h"
#include "libssh2_sftp.h"
#include "sftp_core.h"
#include "sftp_proto.h"
#include "links.h"
#include "sshconf.h"

/* ---- options ---------------------------------------------------------- */

struct opts {
	char *host;	  /* to connect to (after ssh_config's HostName) */
	char *hostname;	  /* ssh_config HostName */
	char *host_given; /* the host as given, once HostName replaced it */
	/* RekeyLimit (ssh_config): set, bytes (0: the library's default),
	 * seconds (0: none) */
	int rekey_set;
	uint64_t rekey_bytes;
	long rekey_secs;
	char *config;	  /* -F file */
	int port_set, user_set, identity_cmdline;
	int identities_only; /* -1 unset */
	char *identity_agent; /* ssh_config IdentityAgent ("none": off) */
	char *user;
	char *rdir;	  /* remote directory, "" for the login directory */
	int port;
	char *identity[8];
	int nidentity;
	char *certificate; /* CertificateFile (else KEY-cert.pub, as ssh) */
	char *known_hosts;
	int strict_hostkey; /* 1 yes, 0 no, 2 accept-new */
	char *mountpoint;
	int foreground, debug, single;
	int allow_other, default_permissions;
	int connect_timeout; /* seconds */
	int address_family;  /* AddressFamily: AF_UNSPEC, AF_INET, AF_INET6
			      * (-1 unset) */
	char *ciphers, *kex, *macs, *hostkeyalgs;
	int cache;	     /* cache=yes|no */
	double cache_timeout; /* kept directory listings (dcache.c) */
	double attr_timeout;  /* the kernel's names and attributes */
	char *fsname;
	int password_stdin;
	char *password;		/* read from stdin (password_stdin) */
	int max_read, max_write; /* caps on SFTP READ/WRITE sizes (0: none) */
	int write_channels;	 /* SFTP channels a large write uses (10) */
	int max_conns;		 /* SSH connections (conn.c: 1 + secondaries) */
	uint64_t writeback_max; /* writeback=: write-behind bytes per file
				 * (0: every write waits for the server) */
	uint64_t readahead_max; /* readahead=: read-ahead window per file */
	int reconnect;		/* reconnect=yes|no (yes) */
	int unlink_behind;	/* unlink_behind=yes|no (yes, ubehind.c) */
	int alive_interval;	/* ServerAliveInterval seconds (15) */
	int alive_count;	/* ServerAliveCountMax (3) */
	int op_timeout;		/* seconds an op may wait for a link (60) */
	int idmap;		/* IDMAP_NONE, _USER, _FILE (idmap.c) */
	char *uidfile, *gidfile; /* idmap=file: "name:remote id" lines */
	int nomap_error;	/* nomap=error (1, default) or ignore (0) */
	struct idmap_tab *uidmap, *gidmap; /* loaded from those files */
	long uid, gid;		/* uid=, gid=: shown for every file (-1 off) */
	long umask;		/* umask=: bits cleared in shown modes (-1) */
	int follow_symlinks;	/* present symlinks as what they point to */
	int transform_symlinks; /* absolute targets inside the root -> relative */
	int contain_symlinks;	/* refuse targets resolving outside the root */
	int kernel_cache;	/* keep the page cache across opens */
	int no_hardlink;	/* disable_hardlink: link(2) gives EPERM */
	int ro;			/* mounted read-only */
	char kopts[256];	/* ro, nosuid, noexec...: for the kernel */
	int compression;	/* Compression=yes: zlib@openssh.com (-1 unset) */
	char *proxy_jump;	/* ProxyJump=[user@]host[:port] or "none" */
	struct opts *jump;	/* the jump host's options (jump.c) */
};

/* ---- inodes ----------------------------------------------------------- */

struct inode {
	uint64_t ino;
	uint64_t nlookup;
	char *path; /* remote path, absolute */
	struct inode *next_ino, *next_path;
	/* the size and mtime the kernel was last given (seen: 1), to tell a
	 * file replaced while the link was down (reopen_done) */
	uint64_t seen_size;
	uint32_t seen_mtime;
	uint64_t seen_wgen; /* wgen when they were shown */
	int seen;
	uint32_t nlink; /* a regular file's link count, when a listing (or a
			 * link(2) of ours) said it; 0: not known */
	uint64_t wgen; /* bumped by every write or truncate */
	uint64_t chg;  /* chg_next() when a change of it last began or ended */
	int writing;   /* write requests in flight (the server's size lags) */
	int rgate;     /* reads on a secondary connection waiting for those:
			* new writes wait meanwhile (ops.c, max_conns) */
	void *bfh;     /* the handle that made the file (set-behind, ops.c) */
	int linked;    /* known to have other names (link(2), a listing's
			* link count): the kernel keeps no attributes */
	int ghost;     /* forgotten by the kernel, kept (struct itable) */
	struct inode *gprev, *gnext;
};

/* FNV-1a of n bytes: the hash of paths and names (ino.c, dcache.c). */
uint64_t fnv1a(const char *s, size_t n);

struct itable {
	pthread_mutex_t lock;
	struct inode **by_ino, **by_path;
	size_t nbuckets, count;
	uint64_t next_ino;
	/* inodes the kernel forgot, oldest first, kept (up to ITABLE_GHOSTS)
	 * so that a name keeps its inode number and a file handle
	 * (open_by_handle_at) still finds its path */
	struct inode *ghost_head, *ghost_tail;
	size_t nghosts;
};
#define ITABLE_GHOSTS 16384

int itable_init(struct itable *t, const char *root);
/* The inode of path, created if new (nlookup unchanged); NULL on ENOMEM. */
struct inode *itable_get(struct itable *t, const char *path);
/* itable_get + one more kernel reference (for fuse_reply_entry): the
 * inode number, or 0 on ENOMEM. */
uint64_t itable_ref(struct itable *t, const char *path);
struct inode *itable_find(struct itable *t, uint64_t ino);
/* The inode number path has now, or 0 (no reference taken). */
uint64_t itable_ino(struct itable *t, const char *path);
/* A file with other names: SFTP cannot tell which inodes are the same
 * file, so a write through one name must not leave another's size
 * cached in the kernel (attributes of such inodes time out at once). */
void itable_set_linked(struct itable *t, uint64_t ino);
int itable_linked(struct itable *t, uint64_t ino);
/* Copy of an inode's path (free it); NULL if the inode is unknown. */
char *itable_path(struct itable *t, uint64_t ino);
void itable_forget(struct itable *t, uint64_t ino, uint64_t n);
/* An unlink or rmdir: the inode at path (if any) loses its name. */
void itable_unlink(struct itable *t, const char *path);
/* A rename: the inode at from (and everything under it) moves to to. */
void itable_rename(struct itable *t, const char *from, const char *to);
void itable_free(struct itable *t);
void itable_bump_wgen(struct itable *t, uint64_t ino);
uint64_t itable_wgen(struct itable *t, uint64_t ino);
/* The size and mtime last shown for ino (attrs_to_stat), and whether
 * there are any (1) shown since the last write through the mount. */
void itable_seen(struct itable *t, uint64_t ino, uint64_t size,
		 uint32_t mtime);
int itable_seen_get(struct itable *t, uint64_t ino, uint64_t *size,
		    uint32_t *mtime);
/* A file's link count (0: not known); set_nlink ignores 0. */
void itable_set_nlink(struct itable *t, uint64_t ino, uint32_t n);
uint32_t itable_nlink(struct itable *t, uint64_t ino);
/* Write requests of ino in flight (itable_stamp's count). */
int itable_writing(struct itable *t, uint64_t ino);
/* Reads of ino waiting for its writes (max_conns): add d, and the count
 * (d 0: only read it). */
int itable_gate(struct itable *t, uint64_t ino, int d);

/*
 * Change stamps.  A reply can be older than a change we made: a request
 * (a LSTAT, a READDIR) sent before a change began, or before a write
 * still on its way (write-behind, other channels) reached the server.
 * What it says about a name must not be believed then.  chg_now() is
 * taken when a request goes out; every change stamps what it touches
 * with chg_next() when it begins and when it ends; a reply is believed
 * only if nothing it describes was stamped after its request went out.
 */
uint64_t chg_now(void);
uint64_t chg_next(void);
/* Stamp the inode, if the kernel knows it, and count its writes in
 * flight (+1 at the start, -1 at the end): the new stamp (0: no such
 * inode), and in *prev the one before. */
uint64_t itable_stamp(struct itable *t, uint64_t ino, int writes,
		      uint64_t *prev);
/* The inode's last stamp (0: no such inode). */
uint64_t itable_chg(struct itable *t, uint64_t ino);
/* The handle kept with the inode for set-behind: set (fh), get, and
 * clear (only if it is still fh). */
void itable_set_bfh(struct itable *t, uint64_t ino, void *fh);
void *itable_bfh(struct itable *t, uint64_t ino);
void itable_clear_bfh(struct itable *t, uint64_t ino, void *fh);
/* 1: what a reply to a request sent at `since` says of path may be stale
 * (the inode was stamped after it or has writes in flight; since
 * UINT64_MAX: only the latter). */
int itable_changed_since(struct itable *t, const char *path, uint64_t since);

/* ---- file handles ----------------------------------------------------- */

struct fh {
	uint8_t h[SFTP_HANDLE_MAX];
	size_t hlen;
	uint64_t ino;
	int flags;
	int is_dir;
	/* write-behind: bytes sent and not yet acknowledged, and the first
	 * error, reported by the next write/flush/fsync/release */
	uint64_t wb_bytes;
	int wb_err;
	/* writes answered by ll.c as they were copied (write_early), until
	 * their op is freed: written by both threads (atomic) */
	uint64_t wq_bytes;
	struct op *wb_waiters; /* flush/fsync/release waiting for acks */
	int refs;	       /* requests in flight holding the handle */
	int released;
	/* directory listing (dirahead.c): NAME replies in request order,
	 * READDIRs in flight ahead of the kernel */
	struct dchunk *d_head, *d_tail;
	int d_inflight, d_want;
	size_t d_bytes;
	int d_end; /* the listing ended (EOF or error): ask no more */
	int d_bg;  /* listed only to keep the listing (da_background) */
	struct fh *bg_next;	/* the connection's background listings */
	struct op *bg_waiters;	/* opendirs of it, waiting for it to end */
	struct op *d_waiters;
	struct dlist *d_build; /* the listing being kept (dcache.c) */
	off_t doff; /* offset of the next entry */
	int d_dots; /* our "." and ".." given in this pass (0..2) */
	char *dpath;
	/* read cache and read-ahead (rahead.c) */
	struct rachunk *ra_head, *ra_tail;
	size_t ra_bytes;
	size_t ra_window;
	uint64_t ra_last_end;
	int ra_eof;
	uint64_t ra_wgen; /* the inode's write generation the cache has */
	struct op *ra_waiters;
	/* reconnect: the connection generation the handle belongs to; an
	 * older handle is reopened by path before it is used again */
	uint32_t gen;
	struct conn *c;
	int reopening;
	int stale; /* the file could not be reopened: ESTALE */
	struct op *reopen_waiters;
	off_t dskip; /* directory entries to skip after a reopen */
	/* writes spread over several channels (stripe.c) */
	struct stripes *st;
	uint64_t written;  /* bytes written through this handle */
	uint64_t open_wgen; /* the inode's wgen when it was opened */
	uint64_t main_end; /* end of the highest write on the main channel */
	/* a full disk (write.c): the file was empty when this handle opened
	 * it (made, or O_TRUNC), and a write the server refused for space
	 * cuts it back to the first refused byte once the handle's writes
	 * settle, so that it holds a prefix of what was written and no
	 * zeros where a refused piece was (pieces on several channels
	 * reach the disk in any order) */
	int fresh;
	int cut_want, cut_out;
	uint64_t cut_at;
	/* set-behind (ops.c): the attributes of a file this handle made,
	 * as only this handle changed them since; they hold while the
	 * inode's change stamp is the one this handle left (bstamp) */
	/* a file fetched ahead (prefetch.c): no server handle, its bytes */
	/* a directory listed again from the kept listing (dirahead.c) */
	struct dsnap *snap;
	size_t snap_n;
	uint64_t snap_since;
	int pf;
	uint8_t *pf_data;
	size_t pf_len;
	uint64_t pf_wgen; /* the inode's write generation at the open */
	struct sftp_attrs pf_attrs; /* as fetched (fstat: even unlinked) */
	uint64_t pf_since;	    /* chg_now() when its fetch began */
	/* a small file read whole from its start through this handle:
	 * kept like a fetched one when the handle closes (pf_keep) */
	uint8_t *whole;
	size_t whole_len;
	uint64_t open_since; /* chg_now() when its OPEN went out */
	struct fh *onext, **oprev; /* conn->open_files, or open_dirs */
	/* a read-only handle: its file's attributes as last seen (FSTAT,
	 * or the kept listing at the open) while nothing was written
	 * through the mount since (fattr_wgen): an fstat of it is answered
	 * from them at once and checked behind (getattr_early, ops.c) */
	struct sftp_attrs fattr;
	uint64_t fattr_wgen;
	int fattr_ok;
	int big; /* a large file read on the connection chosen for it,
		  * counted in that connection's nbig (route_open, ops.c) */
	int battr_ok;
	int bmtime_set; /* battr.mtime was set, not guessed from a write */
	uint64_t bstamp;
	struct sftp_attrs battr;
};

/* ---- operations ------------------------------------------------------- */

enum op_kind {
	OP_LOOKUP = 1, OP_GETATTR, OP_SETATTR, OP_READLINK, OP_MKNOD, OP_MKDIR,
	OP_UNLINK, OP_RMDIR, OP_SYMLINK, OP_RENAME, OP_LINK, OP_OPEN, OP_READ,
	OP_WRITE, OP_FLUSH, OP_RELEASE, OP_FSYNC, OP_OPENDIR, OP_READDIR,
	OP_RELEASEDIR, OP_STATFS, OP_CREATE, OP_COPY, OP_FSYNCDIR, OP_LSEEK,
};

struct op {
	struct op *next;
	enum op_kind kind;
	fuse_req_t req;
	fuse_ino_t ino;	   /* parent for name ops */
	fuse_ino_t ino2;   /* newparent (rename), target (link) */
	char *name, *name2; /* copies */
	char *path, *path2; /* resolved by the I/O thread */
	struct fh *fh;
	struct fh *fh2; /* copy_file_range: the destination */
	struct fuse_file_info fi;
	off_t off, off2;
	size_t size;
	char *buf; /* write data, read destination */
	mode_t mode;
	int flags;
	struct stat attr;
	int to_set;
	int plus; /* readdirplus */
	/* progress of a multi-request operation */
	int stage;
	int pending;
	int err; /* first -errno */
	size_t got;
	uint8_t *reply; /* a kept reply (names of readdir) */
	size_t reply_len;
	struct conn *c;
	int lost;	  /* a request died with its connection */
	int replays;	  /* times restarted after a reconnect */
	int64_t born_ms; /* for the op timeout while the link is down */
	int replied;	 /* answered (maybe early: ETIMEDOUT); later replies dropped */
	int refined;	 /* a FAILURE was looked into (refine_failure) */
	int fail_errno;	 /* ...and means this errno (0: errmap's guess) */
	struct held *held; /* replies held while that STATVFS is out */
	int parked;	 /* waiting for a reconnect (conn->parked) */
	uint64_t st_bar; /* waits for striped writes before this number */
	int wb_counted;	 /* a write counted in its handle's wb_bytes */
	uint64_t since;	 /* chg_now() when its requests went out */
	int behind;	 /* a setattr answered before the server (set-behind) */
	int access;	 /* OP_GETATTR for access(2): its mask + 1 */
	int modefix;	 /* create/mkdir/mknod: the (F)SETSTAT that gives the
			  * asked mode back (fix_mode) is out */
	struct sftp_attrs cattr; /* ...and the attributes to answer with */
	uint32_t srv_perm;	 /* ...and the mode the server gave */
	struct op *anext, **aprev; /* conn->active */
	int ubehind;	 /* an unlink answered as it went out (ubehind.c) */
	int early;	 /* a getattr answered from fh->fattr, checked behind */
	struct conn *wq; /* a write answered by ll.c, counted in fh->wq_bytes
			  * and in this connection's wq_total */
	int big;	 /* an open routed as a large read (route_open) */
	int gated;	 /* a read counted in its inode's rgate */
	uint64_t wgen_at; /* a getattr's inode write generation when sent */
	uint32_t ub_uid; /* ...the owner the kept listing gave (-1: none) */
	uint64_t seq;	 /* order of arrival (op_start): parked ops are
			  * started again in it */
	struct wspan *acked; /* a write's bytes the server has acknowledged
			      * (from off, sorted, merged): a replay sends
			      * only the rest */
	int nacked, aacked;
	int refused;	 /* a piece the server refused: the lowest at */
	size_t refused_at;
};

struct wspan {
	size_t lo, hi;
};

/* ---- connections -------------------------------------------------------- */

struct pfset;

#define XCH_MAX 9 /* extra SFTP channels (OpenSSH allows 10 sessions) */
#define CONN_MAX 8 /* max_conns */

/* Write-behind: a WRITE is acknowledged to the application as soon as it
 * is queued (ll.c write_early: as it is copied), while the handle has no
 * more than writeback= (32 MiB; 0: none) unacknowledged, and the
 * connection no more than 128 MiB (or writeback=, if more). */
#define WB_HANDLE_MAX(c) ((c)->o->writeback_max) /* writeback= (32 MiB) */
#define WB_MOUNT_MAX(c)                                                     \
	((c)->o->writeback_max > (128u << 20) ? (c)->o->writeback_max       \
					      : (uint64_t)(128u << 20))

struct conn {
	struct opts *o;
	struct itable *it;
	struct fuse_session *se;
	int sock;
	LIBSSH2_SESSION *s;
	LIBSSH2_SFTP *sftp;
	struct sftp_core *core;
	pthread_t thread;
	pthread_mutex_t qlock;
	struct op *qhead, **qtail;
	int wakefd; /* eventfd */
	int stop;
	int rx_ready; /* the socket polled readable */
	int64_t stop_by; /* stopping: how long the unlinks in flight may take */
	int dead;
	char *home; /* the remote root, absolute */
	uint32_t gen;	      /* +1 per (re)connect */
	struct op *parked;    /* ops waiting for the link to come back */
	struct op *hold;      /* a write answered before it was sent, that
			       * waits on its way: ops started after it wait
			       * in held (op_unhold, ops.c) */
	struct op *held, **held_tail;
	int64_t next_try_ms;  /* next reconnect attempt */
	int backoff_ms;
	int ka_sent;	      /* a keepalive went out during this silence */
	struct op *active;    /* ops started and not yet freed */
	uint32_t remote_uid, remote_gid; /* owner of the remote root */
	/* extra SFTP channels that large writes are striped over (each
	 * channel has its own flow-control window at the server) */
	LIBSSH2_SFTP *xsftp[XCH_MAX];
	struct sftp_core *xcore[XCH_MAX];
	int nx;		      /* ready */
	LIBSSH2_SFTP *xopening[XCH_MAX]; /* on their way, all at once */
	int nxo;
	int x_want;	      /* a writer asked for them */
	int x_failed;	      /* the server refused one: no more tries */
	struct fh *st_list;   /* handles that stripe their writes */
	struct st_closing *st_closing; /* their extra handles being closed */
	/* memory of all handles: read-ahead cached or in flight, written
	 * bytes not yet acknowledged (each capped per mount too) */
	uint64_t ra_total, wb_total;
	uint64_t wq_total; /* fh->wq_bytes of all handles (atomic) */
	struct dcache *dc;    /* NULL: listings are not kept */
	int dc_bg;	      /* background listings in progress */
	struct fh *da_bg;     /* (their handles) */
	char *da_q[64];	      /* and waiting for their turn (dirahead.c) */
	int da_qn;
	struct pfset *pf;     /* small files fetched ahead (prefetch.c) */
	struct fh *open_files; /* for fstat(2), which comes without one */
	struct fh *open_dirs;  /* (freed at the end if never released) */
	int remote_uid_known;
	struct ubtab *ub;     /* unlink-behind (ubehind.c) */
	/*
	 * max_conns: the primary connection (this one, primary NULL) does
	 * everything but the reading of large files opened read-only,
	 * which route_open (ops.c) spreads over it and its secondaries,
	 * each a connection of its own with its own I/O thread (another
	 * core decrypting).  A secondary keeps no listings, fetches
	 * nothing ahead and never writes; it connects in the background
	 * (up: ready for files), and reads there wait while the primary
	 * has writes of the file in flight (rwait), which could otherwise
	 * reach the server after the read.
	 */
	struct conn *primary;
	struct conn *sec[CONN_MAX - 1];
	int nsec;
	int idx;	 /* 0 primary, 1.. secondaries (for messages) */
	int up;		 /* (atomic) a secondary is connected */
	int nbig;	 /* (atomic) large files routed here and open */
	struct op *rwait;
	struct op *gwait; /* the primary's writes waiting for such reads */
};

/* conn.c */
int conn_open(struct conn *c, struct opts *o, char *err, size_t errlen);
/* A message: on stderr in the foreground, else to syslog (prio). */
void conn_log(struct conn *c, int prio, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* Keep op until the connection is back (it is restarted then). */
void conn_park(struct conn *c, struct op *op);
/* The monotonic clock, in milliseconds and in seconds. */
int64_t now_ms(void);
double now_s(void);
int conn_start(struct conn *c);
/* max_conns > 1: start the secondaries of the primary c (they connect
 * in the background); 0 or -1. */
int conn_start_secondaries(struct conn *c);
void conn_stop(struct conn *c);
void conn_submit(struct conn *c, struct op *op);

/* ops.c */
extern const struct fuse_lowlevel_ops sftpmnt_ops;
void op_reply_err(struct op *op, int err);
void op_reply_entry(struct op *op, const struct fuse_entry_param *e);
void op_reply_attr(struct op *op, const struct stat *st, double t);
void op_reply_readlink(struct op *op, const char *link);
void op_reply_open(struct op *op, const struct fuse_file_info *fi);
void op_reply_create(struct op *op, const struct fuse_entry_param *e,
		     const struct fuse_file_info *fi);
void op_reply_buf(struct op *op, const char *buf, size_t n);
void op_reply_iov(struct op *op, const struct iovec *v, int n);
void op_reply_write(struct op *op, size_t n);
void op_reply_statfs(struct op *op, const struct statvfs *sv);
void op_reply_lseek(struct op *op, off_t off);
void op_expire(struct conn *c);
void op_start(struct conn *c, struct op *op);
/* A request of op died with the connection: park it for a restart or
 * fail it. */
void op_lost(struct op *op);
/* Fail op with err (a write already acknowledged to the application
 * latches err on its handle instead). */
void op_give_up(struct op *op, int err);
void op_free(struct op *op);
/* At the end: files the kernel never released (an unmount can drop a
 * release still queued) go, with what they cached. */
void op_forget_handles(struct conn *c);
/* The attribute and entry timeout for the kernel. */
double op_attr_timeout(const struct op *op);
/* dir + "/" + name, malloc'ed; NULL on ENOMEM. */

/* ops.c, for the helpers: an SFTP reply for op; a reply nobody waits
 * for; a handle's writes may all be answered now. */
void op_reply_sftp(void *arg, int err, const uint8_t *body, size_t n);
/* A reply kept while a FAILURE is looked into (refine.c). */
struct held {
	struct held *next;
	int err;
	size_t n;
	uint8_t body[];
};
/* A reply for op, after refine.c let it through (ops.c). */
void op_reply_in(struct op *op, int err, const uint8_t *body, size_t n);
/* refine.c: a FAILURE looked into (1: its reply is held until the
 * STATVFS it sent is answered; later replies of op wait behind it with
 * refine_hold), and the errno a reply means for op. */
int refine_failure(struct op *op, const uint8_t *body, size_t n);
int refine_hold(struct op *op, int err, const uint8_t *body, size_t n);
int op_errmap(const struct op *op, const uint8_t *body, size_t n);
void op_piece_reply(struct op *op, size_t lo, size_t len, int err,
		    const uint8_t *body, size_t n);
void op_forget_reply(void *arg, int err, const uint8_t *body, size_t n);
void op_wb_settled(struct fh *fh);
/* ops.c, for write.c */
void op_active_unlink(struct op *op);
void fh_stamp(struct conn *c, struct fh *fh, int writes);
/* write.c: start a write (0 sent, 1 answered or waiting, -errno); its
 * last reply in (op->err: the first error); the bookkeeping of a write
 * counted in its handle; 1: flush/fsync/release waits for the handle's
 * writes (started again by op_wb_settled); does fh have writes out */
int op_start_write(struct op *op);
void op_write_done(struct op *op);
void wb_uncount(struct op *op);
int op_wait_writes(struct op *op);
int fh_writing(struct fh *fh);
void op_unhold(struct op *op);

/* stripe.c */
struct stripes;
/* n more bytes were written through fh: maybe start striping. */
void st_written(struct conn *c, struct fh *fh, size_t n);
/* The channel (0 main, k: extra k-1) for the bytes at off; *len is cut
 * to what goes to that channel. */
int st_route(struct conn *c, struct fh *fh, uint64_t off, size_t *len);
/* Send a WRITE of op on extra channel k (1..n).  0 or -errno. */
int st_send(struct op *op, int k, uint64_t off, const uint8_t *data,
	    size_t len);
/* 1: op waits (too many striped writes in flight, or it must see
 * striped writes sent before it); it is started again later. */
int st_room(struct op *op);
int st_barrier(struct conn *c, struct op *op);
/* The size the kernel is told is at least what was written. */
void st_patch(const struct conn *c, uint64_t ino, struct stat *st);
void st_truncated(struct conn *c, uint64_t ino, uint64_t size);
/* Before the handle closes: close the extra handles. */
void st_release(struct conn *c, struct fh *fh);
/* 1: op (an unlink of path) waits until the extra handles of that file
 * are closed, holding the ops after it; it is started again then. */
int st_closing(struct conn *c, struct op *op);

/* rahead.c */
void ra_read(struct conn *c, struct op *op);
void ra_drop(struct fh *fh);
void ra_release(struct fh *fh);

/* dirahead.c */
/* A directory handle was opened: start listing ahead of the kernel. */
void da_start(struct fh *fh);
/* Forget what was listed or asked for (reopen, rewind, release). */
void da_reset(struct fh *fh);
void da_readdir(struct op *op);
/* Lookups keep missing in dir (absolute, taken over): list it in the
 * background to keep its listing. */
void da_background(struct conn *c, char *dir);
/* A lookup of path goes to the server: if a slot is free, path is
 * opened as a directory at the same time and, if it is one, listed. */
void da_speculate(struct conn *c, const char *path);
/* An opendir of a directory being listed in the background, or a lookup
 * of a name in it, waits for that listing (1: op waits on dir's listing;
 * op_bg_resume continues it when the listing is kept or given up). */
int da_bg_wait(struct op *op, const char *dir);
void op_bg_resume(struct op *op);
/* opendir from the kept listing (1: answered, the handle has fh->snap),
 * and the ops on such a handle. */
int da_snapshot_open(struct op *op);
void da_snap_op(struct op *op);
/* rewinddir on a handle listed from the kept listing: a fresh copy of
 * it, or (not kept or not certain now) a server handle from here on. */
void da_snap_rewind(struct fh *fh);
/* A directory is being opened the usual way: if its parent's listing is
 * kept, the program is walking the tree; its sibling directories are
 * listed in the background (kept, then listed again from that). */
void da_walk_ahead(struct conn *c, const char *path);
void da_queue_free(struct conn *c);

/* prefetch.c: small files fetched before they are opened (I/O thread).
 * pf_opened: a file is being opened for reading the usual way (may
 * start fetching its directory's small files); pf_open: an open for
 * reading, answered from a fetch (1: answered or waiting for one, 0: go
 * to the server); pf_fh_op: an op on a handle pf_open made; pf_free:
 * at the end. */
/* ops.c: a file handle the kernel got (open, create, prefetch). */
void op_open_link(struct conn *c, struct fh *fh);
void op_dir_link(struct conn *c, struct fh *fh);
void pf_opened(struct conn *c, const char *path);
int pf_open(struct op *op);
void pf_fh_op(struct op *op);
/* A fetched file written through the mount since its open becomes a
 * handle like any other (reopened by path): 1. */
int pf_stale(struct conn *c, struct fh *fh);
void pf_free(struct conn *c);
/* The whole of a small file, read through a handle now closing, kept
 * to answer opens of it as a fetched one (takes data). */
void pf_keep(struct conn *c, const char *path, const struct sftp_attrs *a,
	     uint8_t *data, size_t len, uint64_t since);
/* A read-only handle closes: keep what it read whole (pf_keep). */
void pf_release(struct conn *c, struct fh *fh);
/* rahead.c: a read from offset 0 that reached the end of a small file
 * (the whole file, for pf_release). */
void pf_whole(struct fh *fh, const struct iovec *v, int n, size_t len);

/* dcache.c: complete directory listings answering lookups (I/O thread
 * only).  Paths are absolute remote paths. */
struct dcache;
struct dlist;
struct dcache *dc_new(double timeout);
void dc_free(struct dcache *d);
/* 1: path is listed (*a set), 0: path does not exist, -1: ask the
 * server (no fresh listing, or the name is unknown). */
int dc_lookup(struct dcache *d, const char *path, struct sftp_attrs *a);
/* 1 (*a set): path is listed as there, with the attributes the listing
 * gave, of which its type and owner still hold when the rest may not (a
 * directory whose times moved with a change inside it); else -1. */
int dc_lookup_kind(struct dcache *d, const char *path, struct sftp_attrs *a);
/* A change of path starts / succeeded with attributes a / removed it. */
void dc_unknown(struct dcache *d, const char *path);
/* The attributes of path change (not its existence, nor its
 * directory's): data_only (a write) keeps what was known of its atime. */
void dc_changed(struct dcache *d, const char *path, int data_only);
/* path's atime, when known: 1 (set *atime), else 0. */
int dc_atime(struct dcache *d, const char *path, uint32_t *atime);
/* path has other names (a hard link was made): never answer for it. */
void dc_linked(struct dcache *d, const char *path);
/* 1 when a fresh listing says path has other names; its link count
 * (from OpenSSH's long name) or 0. */
int dc_is_linked(struct dcache *d, const char *path);
unsigned dc_links(struct dcache *d, const char *path);
/* The link count in an ls -l style long name ("-rw-r--r--    2 user
 * ..."), or 0 when there is none to read. */
unsigned long longname_links(const char *s, size_t n);
/* The server's answer to a request sent at chg_now() == since: ignored if
 * the name or its listing changed after that. */
void dc_set(struct dcache *d, const char *path, const struct sftp_attrs *a,
	    uint64_t since);
void dc_gone(struct dcache *d, const char *path, uint64_t since);
void dc_drop_tree(struct dcache *d, const char *dir);
void dc_empty_dir(struct dcache *d, const char *dir);
/* A lookup of path was not answered: the directory to list in the
 * background (malloc'ed) when lookups there keep missing, else NULL. */
char *dc_miss(struct dcache *d, const char *path);
/* A copy of dir's fresh listing, to list it again without the server:
 * the number of names (*out: free with dc_snapshot_free), or -1 when it
 * cannot be (no fresh listing, or a name that may or may not exist: a
 * change of ours whose outcome the server has not told).  known: a is
 * the server's now; else only the type in a holds. */
struct dsnap {
	char *name;
	struct sftp_attrs a;
	int known;
	unsigned nlink; /* from the long name, 0: not known */
};
ssize_t dc_snapshot(struct dcache *d, const char *dir, struct dsnap **out);
void dc_snapshot_free(struct dsnap *s, size_t n);
/* Events counted by directory (lookups that missed, files opened) in a
 * small table of slots: the number for dir (dlen bytes of a path) within
 * window seconds, this one included.  The window runs from the first
 * event, or from the latest when slide is set. */
struct dtally {
	uint64_t hash;
	int count;
	double until;
};
int dtally_add(struct dtally *t, size_t n, const char *dir, size_t dlen,
	       double window, int slide);
/* 1: dir has a fresh listing or one being read. */
int dc_listed(struct dcache *d, const char *dir);
/* 1: dir has a fresh complete listing with no name left in it but those
 * whose removal was answered early (dc_removing, ubehind.c); a name that
 * changes again is not such one any more. */
int dc_listed_empty(struct dcache *d, const char *dir);
void dc_removing(struct dcache *d, const char *path);
/* fn for each name of dir's fresh listing whose type is type (S_IFREG,
 * S_IFDIR): files only with their attributes known (not one with other
 * links), names only whose existence is known.  0, or -1 if dir has no
 * fresh listing. */
/* dc_lookup, and (1: a name known) when its listing began (chg_now()). */
int dc_lookup_born(struct dcache *d, const char *path, struct sftp_attrs *a,
		   uint64_t *born);
int dc_each(struct dcache *d, const char *dir, mode_t type,
	    void (*fn)(void *arg, const char *name,
		       const struct sftp_attrs *a),
	    void *arg);
/* fn(arg, path) for every directory beside dir in its parent's kept
 * listing (a walk goes there next); fn takes path.  -1: not kept. */
int dc_each_sibling(struct dcache *d, const char *dir,
		    void (*fn)(void *arg, char *path), void *arg);
/* Reading a listing: NULL when none should be built (caching off,
 * another one in progress); add its names; end it (complete: the EOF
 * was reached without error), which publishes or drops it. */
struct dlist *dc_build(struct dcache *d, const char *dir);
int dc_build_add(struct dcache *d, struct dlist *l, const char *name,
		 size_t len, const char *longname, size_t longlen,
		 const struct sftp_attrs *a, int stale);
void dc_build_end(struct dcache *d, struct dlist *l, int complete);

/* ubehind.c: unlink-behind.  ub_check: an op that changes a directory's
 * names, before it goes out: the errno of an unlink-behind that failed
 * there (to fail it with), or 0.  ub_owner: an unlink, before dc_start
 * forgets its name: the owner the kept listing gives.  ub_try: its
 * REMOVE went out: answer it now if a removal there just worked.
 * ub_done: the server's answer (rc, -errno) of an unlink or rmdir: the
 * rc to go on with.  ub_settled: op is freed.  ub_inflight: answered
 * removals the server has not answered yet. */
struct ubtab;
int ub_check(struct op *op);
void ub_owner(struct op *op);
void ub_try(struct op *op);
int ub_done(struct op *op, int rc);
void ub_settled(struct op *op);
int ub_inflight(const struct conn *c);
/* fsync of a directory (op->path): 1 when it waits for the removals
 * answered early there (started again once they are done); then
 * ub_sync_err: the first of them that failed, taken (0: none). */
int ub_sync(struct op *op);
int ub_sync_err(struct op *op);
void ub_free(struct conn *c);

/* errmap.c */
int errmap(uint32_t status, enum op_kind kind);
int errmap_reply(const uint8_t *body, size_t n, enum op_kind kind);

/* attrs */
void attrs_to_stat(const struct conn *c, const struct sftp_attrs *a,
		   struct stat *st, uint64_t ino);
/* -EPERM when a's owner has no local id (idmap=file, nomap=error). */
int attrs_ids_ok(const struct conn *c, const struct sftp_attrs *a);

/* ---- connecting (conn.c, jump.c) ---------------------------------------- */

/* The ciphers a connection offers unless told (NULL: the library's own
 * order): AES-GCM first where the processor has AES instructions. */
const char *default_ciphers(void);
/* AddressFamily's any, inet, inet6: AF_*, or -1 (sshconf.c) */
int address_family(const char *v);
/* A TCP connection to host:port (TCP_NODELAY; o's AddressFamily and
 * ConnectTimeout), or -1 with err set. */
int tcp_connect(const struct opts *o, const char *host, int port, char *err,
		size_t errlen);
/* SSH over sock: handshake, host key checked against known_hosts as
 * ssh does, login; NULL with err set. */
LIBSSH2_SESSION *ssh_start(const struct opts *o, int sock, char *err,
			   size_t errlen);
/* ProxyJump: log in to the jump host j, open a direct-tcpip channel to
 * host:port and return a stream socket carrying it (a thread copies the
 * bytes, ending when either side does); -1 with err set. */
int jump_open(const struct opts *j, const char *host, int port, char *err,
	      size_t errlen);
/* Around fuse_daemonize's fork: jump_hold stops the threads of the
 * jumps made so far (keeping their state), jump_start (in the daemon)
 * starts them again; jumps made after that run at once.  jump_start:
 * -1 if a thread could not start (its connection then reads EOF). */
void jump_hold(void);
int jump_start(void);

/* ---- passphrases (askpass.c) ------------------------------------------- */

/* A line asked for on /dev/tty (echo off), else through SSH_ASKPASS as
 * ssh uses it; NULL if neither can.  Free with askpass_free (wipes). */
char *askpass(const char *prompt);
void askpass_free(char *p);
/* From now on askpass asks nobody (called once the mount is up). */
void askpass_stop(void);
/* Passphrases that opened a key file, for reconnects: keypass_get gives
 * a copy (askpass_free it) or NULL; keypass_wipe at exit. */
char *keypass_get(const char *path);
void keypass_keep(const char *path, const char *pass);
void keypass_wipe(void);

/* ---- owners (idmap.c) ---------------------------------------------------- */

enum { IDMAP_NONE, IDMAP_USER, IDMAP_FILE };
struct idmap_tab;
/* Load uidfile=/gidfile= for idmap=file: -1 after a message. */
int idmap_load(struct opts *o);
void idmap_free(struct opts *o);
/* Server ids -> shown ids, and back (chown): -EPERM for an id a file
 * map lacks under nomap=error; (uint32_t)-1 passes unchanged out. */
int idmap_in(const struct conn *c, uint32_t *uid, uint32_t *gid);
int idmap_out(const struct conn *c, uint32_t *uid, uint32_t *gid);

#endif
