/*
 * limits.h - every protocol and resource limit of the library, named once.
 */
#ifndef SFTPMNT_LIMITS_H
#define SFTPMNT_LIMITS_H

/* RFC 4253 section 4.2: identification line, CR LF included. */
#define SSH_BANNER_MAX 255
/* Lines a server may send before its identification (RFC 4253 4.2
 * allows other lines first); more than this is an error, not a hang. */
#define SSH_BANNER_MAX_PRELINES 64
/* Bytes of those lines in all, so a server cannot feed us forever. */
#define SSH_BANNER_MAX_PREBYTES (64 * 1024)

/* Largest packet_length we accept from the peer (RFC 4253 6.1 requires
 * 35000; OpenSSH sends up to 256 KiB). */
#define SSH_PACKET_MAX (256 * 1024)
/* RFC 4253 6: at least four bytes of padding, block at least 8. */
#define SSH_PADDING_MIN 4
#define SSH_PADDING_MAX 255
/* Longest description and language tag libssh2_session_disconnect_ex
 * sends (libssh2 1.11.1 refuses longer ones with LIBSSH2_ERROR_INVAL). */
#define SSH_DISCONNECT_TEXT_MAX 256
/* Largest payload we build ourselves. */
#define SSH_PAYLOAD_MAX (SSH_PACKET_MAX - 1024)

/* Largest payload one compressed packet may inflate to (RFC 4253 6.2
 * sets none: without it one 256 KiB packet of zeros would expand to
 * about 256 MiB).  Peers build payloads under their packet limit. */
#define SSH_INFLATE_MAX SSH_PACKET_MAX

/* Initial socket read size: one receive call takes up to this much. */
#define SSH_READ_CHUNK (256 * 1024)

/* Growable writers never exceed this unless told otherwise. */
#define BUF_DEFAULT_MAX (16u * 1024 * 1024)

/* Longest string/name-list we accept inside a message. */
#define SSH_STRING_MAX SSH_PACKET_MAX

/* Rekey after this many bytes or seconds in either direction (RFC 4253
 * 9 recommends 1 GiB / 1 hour). */
#define SSH_REKEY_BYTES (1ull << 30)
#define SSH_REKEY_SECONDS 3600
#define SSH_REKEY_BYTES_MIN (16u * 1024) /* libssh2_session_rekey_limit */

/* Error message buffer kept in the session. */
#define SSH_ERRMSG_MAX 1024

#endif
