#!/bin/bash
# The installed library exports the libssh2_* API and nothing else.
set -euo pipefail
so=${top_builddir:-.}/lib/.libs/libsftpmnt-ssh2.so
[ -f "$so" ] || { echo "SKIP: $so not built (static-only build)"; exit 77; }
command -v nm >/dev/null || { echo "SKIP: no nm (install binutils)"; exit 77; }
syms=$(nm -D --defined-only "$so" | awk '$2 ~ /^[TDBRVW]$/ {print $3}')
bad=$(printf '%s\n' "$syms" | grep -v '^libssh2_' || true)
if [ -n "$bad" ]; then
	echo "FAIL: symbols outside the libssh2_ API are exported:"
	printf '%s\n' "$bad"
	exit 1
fi
for f in libssh2_init libssh2_exit libssh2_version libssh2_session_init_ex \
	libssh2_session_free libssh2_session_last_error; do
	printf '%s\n' "$syms" | grep -qx "$f" || { echo "FAIL: $f not exported"; exit 1; }
done
echo "ok: $(printf '%s\n' "$syms" | wc -l) symbols, all libssh2_*"
