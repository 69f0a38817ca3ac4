/*
 * fault_server.h - the scripted SSH server of check_session_fault.c: a
 * thread on one end of a socketpair that speaks just enough of the
 * server side of SSH (RFC 4253, curve25519-sha256, ssh-ed25519) to carry
 * a client through key exchange and the start of user authentication,
 * with one fault injected at one phase (fault_server.c).
 */
#ifndef SFTPMNT_FAULT_SERVER_H
#define SFTPMNT_FAULT_SERVER_H

#include <stddef.h>
#include <stdint.h>

#include "cipher.h"
#include "ssh_limits.h"
#include "transport.h"

#define USER	 "tester"
#define PASSWORD "secret"
#define SRV_ID	 "SSH-2.0-FaultServer_1.0"
#define METHODS	 "password,publickey"

/* A dribbling server writes 1..5 bytes at a time, up to this much of
 * each packet (then the rest at once: a 256 KiB packet stays fast). */
#define DRIBBLE_MAX 2048

enum phase {
	PH_NONE = 0,
	PH_BANNER,
	PH_KEXINIT,
	PH_REPLY,
	PH_NEWKEYS,
	PH_ENC1, /* SERVICE_ACCEPT, the first packet under the new keys */
	PH_ENC2, /* USERAUTH_FAILURE, after the auth service request */
	PH_COUNT
};

extern const char *const phase_name[PH_COUNT];

enum fkind {
	F_NONE = 0,
	F_TRUNC,   /* arg bytes of the packet, then close */
	F_FLIP,	   /* flip bit `bit` of byte arg of the packet as sent */
	F_LEN,	   /* packet_length field = arg, protection valid */
	F_PADLEN,  /* padding_length field = arg, protection valid */
	F_STALL,   /* arg bytes of the packet, then silence (kept open) */
	F_REPLACE, /* msg instead of the packet, then close */
	F_INSERT,  /* msg before the packet, then go on */
	F_GARBAGE, /* (banner) the line, then msg as raw bytes, then close */
};

struct cfg {
	const char *cipher, *mac;
	int strict; /* offer kex-strict-s-v00@openssh.com */
};

struct fault {
	enum phase ph;
	enum fkind kind;
	uint32_t arg;
	int bit;
	const uint8_t *msg; /* NULL with F_REPLACE: our KEXINIT again */
	size_t msglen;
};

/* A message the server sends on its channel (chan_script). */
struct chan_msg {
	int ext;       /* 0: CHANNEL_DATA, 1: EXTENDED_DATA of type code */
	uint32_t code;
	const char *data;
};

/* K of the exchange (server side choice of its ephemeral key). */
enum kmode {
	K_ANY = 0,
	K_HIGHBIT, /* K[0] >= 0x80: mpint gets a leading zero byte */
	K_LEADZERO /* K[0] == 0, K[1] < 0x80: mpint drops a byte */
};

struct srv {
	int fd;
	struct cfg cfg;
	struct fault f;
	int dribble;
	int finish_auth;  /* answer a password request with SUCCESS */
	int unknown;	  /* >= 0: this message number after SERVICE_ACCEPT */
	int ignore_first; /* an IGNORE before that message */
	int flip_go_on;	  /* go on after a flip whatever is predicted */
	/* With finish_auth: accept a "session" channel and its exec, send
	 * these n_chan messages on it, EOF and CLOSE, and wait for the
	 * client's CLOSE (RFC 4254 5, 6.5). */
	const struct chan_msg *chan;
	size_t n_chan;
	/* With chan_log (instead of chan): accept a "session" channel,
	 * answer each CHANNEL_REQUEST (refusing those whose name begins with
	 * chan_refuse)
	 * and write what the client sent into chan_events, one word per
	 * message ("req:NAME", "eof", "close"), until the client's CLOSE,
	 * which is answered with ours. */
	int chan_log;
	const char *chan_refuse;
	char chan_events[1024];
	enum kmode kmode;
	unsigned rnd; /* dribble sizes */

	/* transport */
	struct tp rx; /* the client's packets, through the library's engine */
	struct tp_dir txd[2];
	int txi;
	uint32_t tx_seq;
	const struct cipher_def *c;
	const struct mac_def *m;
	int rx_keys; /* the client's next keys are set up */

	/* exchange */
	char v_c[SSH_BANNER_MAX + 1];
	uint8_t *i_c, *i_s;
	size_t i_c_len, i_s_len;
	uint8_t hk_seed[32], hk_pub[32];
	uint8_t H[32];

	/* results, read by the test after the thread is joined */
	size_t wire[PH_COUNT]; /* bytes of each phase's packet as sent */
	int want, want_set;    /* the predicted outcome of a bit flip */
	int go_on;
	char err[256]; /* the first thing the server did not like */
	int unimpl_n;  /* SSH_MSG_UNIMPLEMENTED received */
	int disc_n;    /* SSH_MSG_DISCONNECT received, the last one's: */
	uint32_t disc_reason;
	char disc_desc[64], disc_lang[16];
	uint32_t unimpl_seq;
	uint32_t unknown_seq; /* the sequence number we sent `unknown` at */
	uint32_t insert_seq;  /* ... and an F_INSERT message at */
	int k0;		      /* K[0] of the exchange */
	int done;	      /* the script ran to its end */
};

/* Get sv ready to serve on fd: the caller has zeroed it and filled in
 * the fields above "transport" (cfg, f, dribble ...). */
void srv_prepare(struct srv *sv, int fd);
/* The server thread (pthread_create(..., srv_main, sv)): it runs the
 * script, then reads until the client is gone; the results are in sv
 * once the thread is joined. */
void *srv_main(void *sv);
/* Close the server's end and free what it holds (after the join). */
void srv_release(struct srv *sv);

#endif
