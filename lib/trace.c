/*
 * trace.c - libssh2_trace and libssh2_trace_sethandler (see trace.h).
 *
 * A line reads "[libssh2] <seconds since the session was made>
 * <category>: <text>", the shape libssh2's own trace lines have, so
 * tools that read those read ours.  The handler is called from inside
 * the library call that produced the line: it must not call back into
 * the library for the same session.
 */
#include "trace.h"

#include <stdarg.h>
#include <stdio.h>

/* Longest line handed to the handler (longer ones are cut). */
#define TRACE_LINE_MAX 1024

static const char *cat_name(int cat)
{
	switch (cat) {
	case LIBSSH2_TRACE_TRANS:
		return "Transport";
	case LIBSSH2_TRACE_KEX:
		return "Kex";
	case LIBSSH2_TRACE_AUTH:
		return "Userauth";
	case LIBSSH2_TRACE_CONN:
		return "Conn";
	case LIBSSH2_TRACE_SCP:
		return "SCP";
	case LIBSSH2_TRACE_SFTP:
		return "SFTP";
	case LIBSSH2_TRACE_ERROR:
		return "Error";
	case LIBSSH2_TRACE_PUBLICKEY:
		return "Publickey";
	case LIBSSH2_TRACE_SOCKET:
		return "Socket";
	}
	return "Trace";
}

void trace_emit(LIBSSH2_SESSION *s, int cat, const char *fmt, ...)
{
	char line[TRACE_LINE_MAX];
	int64_t ms = sess_now_ms() - s->trace_t0;
	va_list ap;
	int n, m;

	n = snprintf(line, sizeof(line),
		     "[libssh2] %lld.%03lld %s: ", (long long)(ms / 1000),
		     (long long)(ms % 1000), cat_name(cat));
	if (n < 0 || (size_t)n >= sizeof(line))
		return;
	va_start(ap, fmt);
	m = vsnprintf(line + n, sizeof(line) - (size_t)n, fmt, ap);
	va_end(ap);
	if (m < 0)
		return;
	n += m;
	if ((size_t)n >= sizeof(line))
		n = (int)sizeof(line) - 1; /* cut */
	s->trace_cb(s, s->trace_ctx, line, (size_t)n);
}

const char *trace_msg_name(uint8_t type)
{
	static const struct {
		uint8_t type;
		const char *name;
	} names[] = {
		{1, "DISCONNECT"},
		{2, "IGNORE"},
		{3, "UNIMPLEMENTED"},
		{4, "DEBUG"},
		{5, "SERVICE_REQUEST"},
		{6, "SERVICE_ACCEPT"},
		{7, "EXT_INFO"},
		{20, "KEXINIT"},
		{21, "NEWKEYS"},
		{30, "KEX_30"},
		{31, "KEX_31"},
		{32, "KEX_32"},
		{33, "KEX_33"},
		{34, "KEX_34"},
		{50, "USERAUTH_REQUEST"},
		{51, "USERAUTH_FAILURE"},
		{52, "USERAUTH_SUCCESS"},
		{53, "USERAUTH_BANNER"},
		{60, "USERAUTH_60"},
		{61, "USERAUTH_INFO_RESPONSE"},
		{80, "GLOBAL_REQUEST"},
		{81, "REQUEST_SUCCESS"},
		{82, "REQUEST_FAILURE"},
		{90, "CHANNEL_OPEN"},
		{91, "CHANNEL_OPEN_CONFIRMATION"},
		{92, "CHANNEL_OPEN_FAILURE"},
		{93, "CHANNEL_WINDOW_ADJUST"},
		{94, "CHANNEL_DATA"},
		{95, "CHANNEL_EXTENDED_DATA"},
		{96, "CHANNEL_EOF"},
		{97, "CHANNEL_CLOSE"},
		{98, "CHANNEL_REQUEST"},
		{99, "CHANNEL_SUCCESS"},
		{100, "CHANNEL_FAILURE"},
	};
	size_t i;

	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (names[i].type == type)
			return names[i].name;
	return "?";
}

/* The transport's outbound packets (transport.h, tp.obs). */
static void trace_out(void *arg, const uint8_t *payload, size_t n)
{
	LIBSSH2_SESSION *s = arg;

	TRACE(s, LIBSSH2_TRACE_TRANS, "sending packet type %u (%s), %zu bytes",
	      payload[0], trace_msg_name(payload[0]), n);
}

static void trace_update(LIBSSH2_SESSION *s)
{
	int on = s->trace_cb && (s->trace_mask & LIBSSH2_TRACE_TRANS);

	s->tp.obs = on ? trace_out : NULL;
	s->tp.obs_arg = on ? s : NULL;
}

LIBSSH2_API int libssh2_trace(LIBSSH2_SESSION *s, int bitmask)
{
	if (!s)
		return LIBSSH2_ERROR_BAD_USE;
	s->trace_mask = bitmask;
	trace_update(s);
	return 0;
}

LIBSSH2_API int libssh2_trace_sethandler(LIBSSH2_SESSION *s, void *context,
					 libssh2_trace_handler_func callback)
{
	if (!s)
		return LIBSSH2_ERROR_BAD_USE;
	s->trace_cb = callback;
	s->trace_ctx = context;
	if (!s->trace_t0)
		s->trace_t0 = sess_now_ms();
	trace_update(s);
	return 0;
}
