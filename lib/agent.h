/*
 * agent.h - the client side of the ssh-agent protocol
 * (draft-miller-ssh-agent): the libssh2_agent_* API.
 *
 * The agent is a peer like a server: every reply is read through a
 * bounded reader, every count and length is capped below, and a reply
 * that does not come within the timeout is an error, never a hang.
 */
#ifndef SFTPMNT_AGENT_H
#define SFTPMNT_AGENT_H

/* Largest agent message in either direction, length field excluded
 * (OpenSSH's ssh-agent uses the same 256 KiB). */
#define AGENT_MSG_MAX (256u * 1024)
/* Most identities taken from one IDENTITIES_ANSWER. */
#define AGENT_MAX_IDENTITIES 1024u
/* Longest key blob and comment kept per identity.  libssh2 1.11.1 has no
 * caps at all; these are the ones its later sources added (libssh2 PR
 * #2151), loose enough for any real agent: a comment is often a key
 * file's path, and a blob is bounded by the message anyway. */
#define AGENT_BLOB_MAX	  AGENT_MSG_MAX
#define AGENT_COMMENT_MAX (64u * 1024)
/* Longest signature blob (string algorithm, string signature) accepted
 * in a SIGN_RESPONSE: RSA-16384 is about 2 KiB. */
#define AGENT_SIG_MAX 8192u
/* Longest algorithm name inside a signature blob. */
#define AGENT_ALG_MAX 64u
/* How long one request may take when the session has no timeout of its
 * own (libssh2_session_set_timeout): a key added with `ssh-add -c`
 * waits for a person to confirm. */
#define AGENT_TIMEOUT_MS 60000L

#endif
