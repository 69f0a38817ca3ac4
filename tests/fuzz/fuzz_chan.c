/*
 * fuzz_chan.c - what fuzz_client's script never asks for, against a
 * fuzzed server in the clear (the session as after a key exchange with
 * no keys, fuzz_clear_session): password and keyboard-interactive
 * authentication (RFC 4252 §8, RFC 4256 §3.2: INFO_REQUEST,
 * PASSWD_CHANGEREQ), the SCP protocol's server lines (the C/D/T/E
 * headers and the 0/1/2 responses of lib/scp.c), the channel requests of
 * RFC 4254 §6 (pty-req, x11-req, env, auth-agent, shell, signal, window
 * adjustments, exit-status/exit-signal), remote port forwarding (§7.1:
 * REQUEST_SUCCESS with the bound port, CHANNEL_OPEN "forwarded-tcpip"
 * from the server) and direct-tcpip channels, keepalives.
 *
 * Input: one byte choosing the script (below), then the server's
 * messages (payloads, type byte first) as 16-bit-length pieces, framed
 * as in fuzz_client.  Except in the authentication script the session
 * counts as authenticated from the start.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "libssh2.h"
#include "session.h"

/* FUZZ_TRACE=1: each call's result on stderr (how far a seed goes). */
static long tr(LIBSSH2_SESSION *s, const char *what, long rc)
{
	static int on = -1;
	char *msg = NULL;

	if (on < 0)
		on = getenv("FUZZ_TRACE") != NULL;
	if (on) {
		libssh2_session_last_error(s, &msg, NULL, 0);
		fprintf(stderr, "chan: %-14s %ld (%s)\n", what, rc,
			rc < 0 ? msg : "");
	}
	return rc;
}
#define T(what, expr) tr(s, what, (long)(expr))
#define TP(what, expr)                                                         \
	({                                                                     \
		__typeof__(expr) t_ = (expr);                                  \
		tr(s, what, t_ ? 0 : -1);                                      \
		t_;                                                            \
	})

enum { SC_AUTH, SC_SCP, SC_SHELL, SC_FORWARD, SC_N };

static LIBSSH2_USERAUTH_KBDINT_RESPONSE_FUNC(kbd_answer)
{
	int i;

	(void)name;
	(void)name_len;
	(void)instruction;
	(void)instruction_len;
	(void)abstract;
	for (i = 0; i < num_prompts; i++) {
		/* the prompts must be readable to their stated length */
		if (prompts[i].length && !prompts[i].text)
			__builtin_trap();
		if (prompts[i].length)
			(void)*(volatile unsigned char *)&prompts[i]
				.text[prompts[i].length - 1];
		responses[i].text = strdup(i % 2 ? "" : "fuzz-answer");
		responses[i].length =
			responses[i].text ? (unsigned)strlen(responses[i].text)
					  : 0;
	}
}

static LIBSSH2_PASSWD_CHANGEREQ_FUNC(new_password)
{
	(void)session;
	(void)abstract;
	*newpw = strdup("fuzz-new");
	*newpw_len = *newpw ? 8 : 0;
}

static void auth(LIBSSH2_SESSION *s)
{
	RETRY_PTR(s, libssh2_userauth_list(s, "root", 4));
	if (!libssh2_userauth_authenticated(s))
		T("password", RETRY(libssh2_userauth_password_ex(
				      s, "root", 4, "pw", 2, new_password)));
	if (!libssh2_userauth_authenticated(s))
		T("kbdint", RETRY(libssh2_userauth_keyboard_interactive_ex(
				    s, "root", 4, kbd_answer)));
}

/* Read a channel to its end (or a bounded number of reads). */
static void drain(LIBSSH2_SESSION *s, LIBSSH2_CHANNEL *ch, int both)
{
	char buf[2048];
	int i;

	for (i = 0; i < 64; i++) {
		ssize_t r =
			RETRY((int)libssh2_channel_read(ch, buf, sizeof(buf)));
		ssize_t e = both ? RETRY((int)libssh2_channel_read_stderr(
					   ch, buf, sizeof(buf)))
				 : 0;

		if (r <= 0 && e <= 0)
			break;
	}
}

static void finish(LIBSSH2_SESSION *s, LIBSSH2_CHANNEL *ch)
{
	char *sig = NULL, *msg = NULL, *lang = NULL;
	size_t siglen = 0, msglen = 0, langlen = 0;

	RETRY(libssh2_channel_send_eof(ch));
	RETRY(libssh2_channel_wait_eof(ch));
	RETRY(libssh2_channel_close(ch));
	T("closed", RETRY(libssh2_channel_wait_closed(ch)));
	libssh2_channel_get_exit_status(ch);
	libssh2_channel_get_exit_signal(ch, &sig, &siglen, &msg, &msglen, &lang,
					&langlen);
	libssh2_free(s, sig);
	libssh2_free(s, msg);
	libssh2_free(s, lang);
	libssh2_channel_free(ch);
}

static void scp(LIBSSH2_SESSION *s)
{
	LIBSSH2_CHANNEL *ch;
	libssh2_struct_stat sb;
	static const char data[] = "0123456789";

	ch = TP("scp_recv",
		RETRY_PTR(s, libssh2_scp_recv2(s, "/etc/hostname", &sb)));
	if (ch) {
		drain(s, ch, 0);
		finish(s, ch);
	}
	ch = TP("scp_send",
		RETRY_PTR(s, libssh2_scp_send64(s, "/tmp/fuzz 'x'", 0644,
						sizeof(data) - 1, 1, 2)));
	if (ch) {
		RETRY((int)libssh2_channel_write(ch, data, sizeof(data) - 1));
		finish(s, ch);
	}
}

static void shell(LIBSSH2_SESSION *s)
{
	LIBSSH2_CHANNEL *ch;
	unsigned int win = 0;
	unsigned long rd = 0, init = 0;

	ch = TP("open", RETRY_PTR(s, libssh2_channel_open_session(s)));
	if (!ch)
		return;
	RETRY(libssh2_channel_setenv_ex(ch, "LANG", 4, "C", 1));
	RETRY(libssh2_channel_request_pty_ex(ch, "vt100", 5, "\x81\0\0\x96\0",
					     5, 80, 24, 0, 0));
	RETRY(libssh2_channel_request_pty_size_ex(ch, 100, 30, 0, 0));
	RETRY(libssh2_channel_x11_req_ex(ch, 0, NULL, NULL, 0));
	RETRY(libssh2_channel_request_auth_agent(ch));
	libssh2_channel_handle_extended_data2(
		ch, LIBSSH2_CHANNEL_EXTENDED_DATA_MERGE);
	T("shell",
	  RETRY(libssh2_channel_process_startup(ch, "shell", 5, NULL, 0)));
	RETRY((int)libssh2_channel_write(ch, "ls\n", 3));
	RETRY(libssh2_channel_signal_ex(ch, "INT", 3));
	drain(s, ch, 1);
	RETRY(libssh2_channel_receive_window_adjust2(ch, 65536, 1, &win));
	libssh2_channel_window_read_ex(ch, &rd, &init);
	libssh2_channel_window_write_ex(ch, &init);
	RETRY(libssh2_channel_flush_ex(ch, 0));
	libssh2_channel_eof(ch);
	drain(s, ch, 1);
	finish(s, ch);
}

static void forward(LIBSSH2_SESSION *s)
{
	LIBSSH2_LISTENER *l;
	LIBSSH2_CHANNEL *ch;
	int port = 0, next = 0;

	l = TP("listen", RETRY_PTR(s, libssh2_channel_forward_listen_ex(
					      s, "localhost", 0, &port, 4)));
	if (l) {
		ch = TP("accept",
			RETRY_PTR(s, libssh2_channel_forward_accept(l)));
		if (ch) {
			RETRY((int)libssh2_channel_write(ch, "hi", 2));
			drain(s, ch, 0);
			finish(s, ch);
		}
		T("cancel", RETRY(libssh2_channel_forward_cancel(l)));
	}
	ch = TP("direct",
		RETRY_PTR(s, libssh2_channel_direct_tcpip_ex(
				     s, "localhost", 22, "127.0.0.1", 4242)));
	if (ch) {
		RETRY((int)libssh2_channel_write(ch, "SSH-2.0-x\r\n", 11));
		drain(s, ch, 0);
		finish(s, ch);
	}
	T("keepalive", RETRY(libssh2_keepalive_send(s, &next)));
}

FUZZ_TARGET(chan)
{
	struct fz f = {data, size};
	LIBSSH2_SESSION *s;
	libssh2_socket_t sock;
	uint8_t *stream;
	size_t n;
	int script;

	fuzz_reset();
	script = fz_u8(&f) % SC_N;
	stream = fuzz_frame(&f, &n);
	s = libssh2_session_init();
	if (s) {
		if (fuzz_clear_session(s, stream, n, &sock) == 0) {
			if (script != SC_AUTH)
				s->auth.authenticated = 1;
			libssh2_keepalive_config(s, 1, 1);
			switch (script) {
			case SC_AUTH:
				auth(s);
				break;
			case SC_SCP:
				scp(s);
				break;
			case SC_SHELL:
				shell(s);
				break;
			case SC_FORWARD:
				forward(s);
				break;
			}
			RETRY(libssh2_session_disconnect(s, "bye"));
		}
		libssh2_session_free(s);
	}
	free(stream);
	return 0;
}
