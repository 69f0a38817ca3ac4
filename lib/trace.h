/*
 * trace.h - libssh2_trace(): lines about what the library does, for the
 * caller's handler (libssh2_trace_sethandler).
 *
 * Without a handler nothing is formatted or printed: libssh2 prints
 * trace lines to stderr only in its debug builds, and a library has no
 * business writing to a program's stderr otherwise.  TRACE() costs one
 * test when tracing is off, so it may sit on the packet path.
 */
#ifndef SFTPMNT_TRACE_H
#define SFTPMNT_TRACE_H

#include <stddef.h>
#include <stdint.h>

#include "session.h"

#define TRACE_ON(s, cat) (((s)->trace_mask & (cat)) && (s)->trace_cb)

#define TRACE(s, cat, ...)                                                     \
	do {                                                                   \
		if (TRACE_ON((s), (cat)))                                      \
			trace_emit((s), (cat), __VA_ARGS__);                   \
	} while (0)

/* Format one line and hand it to the session's handler. */
void trace_emit(LIBSSH2_SESSION *s, int cat, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* The name of an SSH message type (RFC 4250 4.1.2), for trace lines. */
const char *trace_msg_name(uint8_t type);

#endif
