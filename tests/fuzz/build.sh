#!/bin/sh
# tests/fuzz/build.sh - build the libFuzzer harnesses, optionally run them.
#
#   tests/fuzz/build.sh [-o OUTDIR] [-t SECONDS] [-c] [HARNESS...]
#
# Builds OUTDIR/fuzz_NAME for each harness (all of tests/fuzz/fuzz_*.c by
# default) with clang, -fsanitize=fuzzer,address,undefined.  The library
# sources are compiled here with the same flags (not taken from the gcc
# build: libFuzzer's coverage and ASan's instrumentation must be in every
# object) into OUTDIR/obj/libfuzzlib.a.  With -t, each harness then runs
# for SECONDS seconds (two at a time on two or more cores) on a scratch
# corpus OUTDIR/corpus/NAME seeded from tests/fuzz/corpus/NAME; a crash,
# leak or timeout fails the script, its input saved as
# OUTDIR/artifacts/NAME-crash-... and the log's end printed.
#
# -c builds OUTDIR/capture too, the seed recorder (capture.c, README).
#
# `make fuzz` (FUZZ_SECONDS, default 60) and `make fuzz-smoke` (10 s) run
# this.  CC (default clang-14, else clang) and FUZZ_FLAGS (extra libFuzzer
# options) may be set in the environment.
set -eu

src=$(cd "$(dirname "$0")/../.." && pwd)
out=build-fuzz
secs=
capture=
while getopts o:t:c opt; do
	case $opt in
	o) out=$OPTARG ;;
	t) secs=$OPTARG ;;
	c) capture=1 ;;
	*) echo "usage: $0 [-o OUTDIR] [-t SECONDS] [-c] [HARNESS...]" >&2; exit 2 ;;
	esac
done
shift $((OPTIND - 1))
if [ $# -eq 0 ]; then
	set -- $(cd "$src/tests/fuzz" && ls fuzz_*.c | sed -e 's/^fuzz_//' \
		-e 's/\.c$//' | grep -vx -e common -e script)
fi

if [ -z "${CC:-}" ] || [ "$CC" = cc ] || [ "$CC" = gcc ]; then
	CC=clang-14
	command -v "$CC" >/dev/null 2>&1 || CC=clang
fi
command -v "$CC" >/dev/null 2>&1 || {
	echo "build.sh: $CC not found (apt-get install clang-14 libclang-rt-14-dev)" >&2
	exit 77
}

mkdir -p "$out/obj"
out=$(cd "$out" && pwd)
jobs=$(nproc 2>/dev/null || echo 2)

cflags="-std=gnu11 -g -O1 -fno-omit-frame-pointer \
 -fsanitize=address,undefined -fno-sanitize-recover=undefined \
 ${FUZZ_CFLAGS:-} \
 -Wall -Wextra -Wno-unused-parameter \
 -I$src/include -iquote $src/lib -iquote $src/lib/crypto \
 -DLIBSSH2_LIBRARY -DFUZZ_LIBFUZZER"
libs="-lmbedcrypto -lz -ldl -lpthread"
wrap="-Wl,--wrap=crypto_random -Wl,--wrap=bcrypt_pbkdf"

# The library, instrumented for coverage but without libFuzzer's main.
export CC cflags out
ls "$src"/lib/*.c "$src"/lib/crypto/*.c | xargs -P "$jobs" -I{} sh -c '
	o=$out/obj/$(basename {} .c).o
	[ "$o" -nt {} ] && [ -z "$(find "$(dirname {})" -name "*.h" -newer "$o")" ] ||
	exec $CC $cflags -fsanitize=fuzzer-no-link -c {} -o "$o"'
rm -f "$out/obj/libfuzzlib.a"
ar rcs "$out/obj/libfuzzlib.a" $(ls "$out"/obj/*.o | grep -v '/fuzz_')

# What the harnesses share.
for c in common script; do
	$CC $cflags -fsanitize=fuzzer-no-link -c "$src/tests/fuzz/fuzz_$c.c" \
		-o "$out/obj/fuzz_$c.o"
done
for h in "$@"; do
	# (sshconf: the daemon's ssh_config reader, with FUSE's headers)
	extra=
	[ "$h" = sshconf ] && extra="$(pkg-config --cflags fuse3) \
		$src/fs/sshconf.c"
	$CC $cflags -fsanitize=fuzzer "$src/tests/fuzz/fuzz_$h.c" $extra \
		"$out/obj/fuzz_common.o" "$out/obj/fuzz_script.o" \
		"$out/obj/libfuzzlib.a" $wrap $libs \
		-o "$out/fuzz_$h" &
	[ "$jobs" -gt 1 ] || wait
done
if [ -n "$capture" ]; then
	$CC $cflags -fsanitize=fuzzer-no-link "$src/tests/fuzz/capture.c" \
		"$out/obj/fuzz_common.o" "$out/obj/fuzz_script.o" \
		"$out/obj/libfuzzlib.a" $wrap \
		-Wl,--wrap=tp_recv -Wl,--wrap=hostkey_verify $libs \
		-o "$out/capture"
fi
wait
for h in "$@"; do
	[ -x "$out/fuzz_$h" ] || { echo "build.sh: fuzz_$h not built" >&2; exit 1; }
done
[ -n "$secs" ] || exit 0

# ---- run ---------------------------------------------------------------
mkdir -p "$out/artifacts" "$out/logs"
run() {
	h=$1
	mkdir -p "$out/corpus/$h"
	seeds=
	[ -d "$src/tests/fuzz/corpus/$h" ] && seeds=$src/tests/fuzz/corpus/$h
	dict=
	[ -f "$src/tests/fuzz/$h.dict" ] && dict=-dict=$src/tests/fuzz/$h.dict
	if "$out/fuzz_$h" -max_total_time="$secs" -timeout=25 \
		-rss_limit_mb=2560 -max_len=65536 -print_final_stats=1 \
		-artifact_prefix="$out/artifacts/$h-" $dict ${FUZZ_FLAGS:-} \
		"$out/corpus/$h" $seeds >"$out/logs/$h.log" 2>&1; then
		echo "fuzz_$h: ok, $(grep -E '^stat::number_of_executed_units' \
			"$out/logs/$h.log" | sed 's/.*: *//') runs," \
			"$(grep -E '#[0-9]+.*(DONE|pulse|NEW|REDUCE)' \
			"$out/logs/$h.log" | tail -n 1 | grep -oE 'cov: [0-9]+')"
	else
		echo "fuzz_$h: FAILED (log $out/logs/$h.log):"
		tail -n 60 "$out/logs/$h.log"
		return 1
	fi
}
fail=0
pids=
for h in "$@"; do
	run "$h" &
	pids="$pids $!"
	if [ $(echo $pids | wc -w) -ge "$jobs" ]; then
		for p in $pids; do wait "$p" || fail=1; done
		pids=
	fi
done
for p in $pids; do wait "$p" || fail=1; done
exit $fail
