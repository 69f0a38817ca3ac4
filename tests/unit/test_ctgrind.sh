#!/bin/bash
# Constant-time check of our Ed25519/X25519 and sntrup761 (ctgrind style):
# the secret inputs are marked undefined for valgrind's memcheck, so any
# branch or memory index that depends on them is reported as an error.
set -euo pipefail
progs=("${CTGRIND:-tests/unit/ctgrind_ed25519}" "${CTGRIND_SNTRUP:-tests/unit/ctgrind_sntrup761}")
command -v valgrind >/dev/null || { echo "SKIP: valgrind is not installed"; exit 77; }
for prog in "${progs[@]}"; do
	# (the outputs are taken whole: with pipefail, grep -q quitting early
	# would fail the pipe with SIGPIPE and hide a match)
	libs=$(ldd "$prog" 2>/dev/null || true)
	syms=$(nm "$prog" 2>/dev/null || true)
	if [ -n "${SANITIZERS:-}" ] || [[ $libs == *libasan* ]] || [[ $syms == *__asan_init* ]]; then
		echo "SKIP: sanitizer build (valgrind cannot run ASan binaries); the -Werror build runs it"
		exit 77
	fi
	valgrind -q --error-exitcode=1 "$prog"
	# The check must be able to fail: the self-test branches on a secret.
	if valgrind -q --error-exitcode=1 "$prog" selftest >/dev/null 2>&1; then
		echo "FAIL: valgrind did not notice a secret-dependent branch in $prog"
		exit 1
	fi
done
echo "ok: no secret-dependent branches or indexes"
