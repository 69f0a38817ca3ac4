#!/bin/bash
# tests/hostile/test_hostile_mount.sh - sftpmnt against the hostile server
# (tests/hostile/README): mounts of a server that sends READDIR names a
# server must not send, a 64 KiB symlink target, a reply of the wrong
# type and a duplicate reply, and one that behaves, as the baseline.
#
# For each: the kernel never gets an entry containing "/" nor the
# server's "." and ".." (`ls -a` shows ours, once each); names with
# control characters are passed as they are (Linux allows any byte but
# "/" and NUL); an empty name, "a/b", "/" and "../up" are dropped; a batch
# holding a name with NUL is refused whole (the library never hands out
# such a name), which ends the listing with EIO; the long symlink is
# ENAMETOOLONG; the wrong type is EIO; the duplicate reply costs the
# connection, and the daemon reconnects; a directory that never ends
# and one of 100000 long names (some past NAME_MAX) cost bounded memory,
# the listing is interruptible and stops with its reader, and no name
# longer than NAME_MAX reaches the kernel.  Every time the daemon is still
# running afterwards, good files still read right, it unmounts cleanly
# with fusermount3 -u and exits, and nothing is left behind.
#
# Run by tests/run-test directly (no sshd fixture needed); needs root,
# /dev/fuse, fusermount3 and a python3 with the cryptography package,
# and skips (77) without them.
set -uo pipefail
export LC_ALL=C

[ "$(id -u)" = 0 ] || { echo "SKIP: not root"; exit 77; }
[ -c /dev/fuse ] || { echo "SKIP: no /dev/fuse"; exit 77; }
command -v fusermount3 >/dev/null ||
	{ echo "SKIP: no fusermount3 (install fuse3)"; exit 77; }
here=$(cd "$(dirname "$0")" && pwd)
server=${SFTPMNT_HOSTILE_SERVER:-$here/hostile_server.py}
bin=${SFTPMNT_BIN:-${top_builddir:-.}/fs/sftpmnt}
[ -x "$bin" ] || { echo "FAIL: no sftpmnt binary at $bin"; exit 99; }
py=
for p in ${SFTPMNT_PYTHON:-} /usr/bin/python3 python3; do
	if "$p" -W ignore -c 'from cryptography.hazmat.primitives.ciphers.aead import AESGCM' \
		2>/dev/null; then
		py=$p
		break
	fi
done
[ -n "$py" ] || {
	echo "SKIP: no python3 with cryptography (python3-cryptography)"
	exit 77
}

work=$(mktemp -d "${TMPDIR:-/tmp}/sftpmnt-hostile.XXXXXX")
mnt=$work/mnt
mkdir -p "$mnt"
fails=0
daemon=     # our sftpmnt, once mounted
srv_pid=    # the server
srv_fd=     # 9, its standard input, while it runs (closed: it exits)
sdir=       # its directory (port, known_hosts, log)
# a command that is still running after this many seconds is stuck
GUARD=30

fail() { echo "FAIL: $*"; fails=$((fails + 1)); }
ok() { echo "ok: $*"; }

stop_server() {
	[ -n "$srv_fd" ] && exec 9>&-
	srv_fd=
	if [ -n "$srv_pid" ]; then
		for _ in $(seq 1 50); do
			kill -0 "$srv_pid" 2>/dev/null || break
			sleep 0.1
		done
		kill "$srv_pid" 2>/dev/null
		wait "$srv_pid" 2>/dev/null
	fi
	srv_pid=
}

stop_daemon() {
	if [ -n "$daemon" ]; then
		for _ in $(seq 1 300); do
			kill -0 "$daemon" 2>/dev/null || break
			sleep 0.1
		done
		if kill -0 "$daemon" 2>/dev/null; then
			fail "sftpmnt ($daemon) still running 30 s after the unmount"
			kill -9 "$daemon" 2>/dev/null
		fi
	fi
	daemon=
}

cleanup() {
	fusermount3 -uz "$mnt" 2>/dev/null
	[ -n "$daemon" ] && kill "$daemon" 2>/dev/null
	daemon=
	stop_server
	# never let rm wander into a mount that is still there
	grep -q " $mnt " /proc/mounts || rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# start_server CASE CONNS: the server on a free port, its files in $sdir
start_server() {
	sdir=$work/$1
	mkdir -p "$sdir"
	mkfifo "$sdir/stdin"
	"$py" -W ignore "$server" --case "$1" --dir "$sdir" --conns "$2" \
		--lifetime 300 <"$sdir/stdin" >"$sdir/server.log" 2>&1 &
	srv_pid=$!
	exec 9>"$sdir/stdin"
	srv_fd=9
	for _ in $(seq 1 300); do
		[ -s "$sdir/port" ] && return 0
		kill -0 "$srv_pid" 2>/dev/null || break
		sleep 0.1
	done
	cat "$sdir/server.log"
	echo "FAIL: the hostile server ($1) did not start"
	exit 99
}

# mount_hostile REMOTE_DIR [EXTRA_OPTIONS]
mount_hostile() {
	local p
	# (9>&-: the daemon must not hold the server's standard input; in
	# a sanitizer build its reports go to $work/san.*, checked after it
	# exits)
	echo secret | ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}log_path=$work/san" \
		UBSAN_OPTIONS="${UBSAN_OPTIONS:+$UBSAN_OPTIONS:}log_path=$work/san:print_stacktrace=1" \
		timeout $GUARD "$bin" "tester@127.0.0.1:$1" "$mnt" -o \
		"port=$(cat "$sdir/port"),UserKnownHostsFile=$sdir/known_hosts,password_stdin${2:+,$2}" \
		9>&- || return 1
	grep -q " $mnt fuse.sftpmnt " /proc/mounts || return 1
	for p in $(pgrep -f -- "$mnt"); do
		case $(cat "/proc/$p/comm" 2>/dev/null) in sftpmnt | memcheck-*) daemon=$p ;; esac
	done
	[ -n "$daemon" ]
}

# g COMMAND...: COMMAND, killed if stuck in the mount
g() { timeout -k 5 $GUARD "$@"; }

# The errno of a syscall through Python: "OK value" or "ERR errno".
pyop() {
	g "$py" -c '
import os, sys
op, path = sys.argv[1], sys.argv[2].encode()
try:
    r = getattr(os, op)(path)
    print("OK", r.st_size if isinstance(r, os.stat_result) else r)
except OSError as e:
    print("ERR", e.errno)
' "$@"
}

# end_case NAME: the daemon survived, unmounts and exits; nothing left
end_case() {
	if [ -n "$daemon" ] && kill -0 "$daemon" 2>/dev/null; then
		ok "$1: sftpmnt still running"
	else
		fail "$1: sftpmnt died"
	fi
	if fusermount3 -u "$mnt"; then
		ok "$1: unmounted"
	else
		fail "$1: fusermount3 -u"
		fusermount3 -uz "$mnt" 2>/dev/null
	fi
	for _ in $(seq 1 50); do
		grep -q " $mnt " /proc/mounts || break
		sleep 0.1
	done
	grep -q " $mnt " /proc/mounts && fail "$1: still mounted"
	stop_daemon
	stop_server
	if compgen -G "$work/san.*" >/dev/null; then
		fail "$1: sanitizer reports from sftpmnt"
		cat "$work"/san.*
		rm -f "$work"/san.*
	fi
	if pgrep -f -- "$mnt" >/dev/null; then
		fail "$1: processes left: $(pgrep -af -- "$mnt")"
	fi
	if [ "$fails" != 0 ]; then
		echo "---- server log ($1)"
		tail -n 20 "$sdir/server.log"
	fi
}

root_list='.
..
bad.txt
baddir
badlink
big.bin
empty.txt
hello.txt
link
sub'

# ---- none: the baseline ------------------------------------------------
start_server none 4
if mount_hostile /; then
	ok "none: mounted"
	out=$(g ls -a1 "$mnt")
	[ "$out" = "$root_list" ] && ok "none: ls -a" || fail "none: ls -a: $out"
	[ "$(g cat "$mnt/hello.txt")" = "hello, hostile world" ] &&
		ok "none: cat" || fail "none: cat"
	[ "$(g readlink "$mnt/link")" = hello.txt ] && ok "none: readlink" ||
		fail "none: readlink"
	[ "$(g "$py" -c 'import sys; d = open(sys.argv[1], "rb").read();
print(d == bytes(i * 7 % 251 for i in range(256 * 1024)))' "$mnt/big.bin")" = True ] &&
		ok "none: big.bin byte-exact" || fail "none: big.bin"
	[ "$(g ls -a1 "$mnt/baddir")" = "$(printf '.\n..\nf1\nf2')" ] &&
		ok "none: ls -a baddir" || fail "none: ls -a baddir"
else
	fail "none: mount"
fi
end_case none

# ---- READDIR names a server must not send --------------------------------
start_server sftp-readdir-names 4
if mount_hostile /baddir; then
	ok "readdir-names: mounted"
	for round in 1 2; do
		out=$(g ls -a1b "$mnt" 2>"$work/ls.err")
		rc=$?
		want='.
..
esc\033name
f1
f2
nl\nname'
		[ "$out" = "$want" ] &&
			ok "readdir-names $round: ls -a: . and .. once each, no /, control characters as they are" ||
			fail "readdir-names $round: ls -a gave: $(printf '%s' "$out" | tr '\n' '|')"
		# the batch with "x\0y" is refused: the listing ends with EIO
		[ "$rc" = 2 ] && grep -q "Input/output error" "$work/ls.err" &&
			ok "readdir-names $round: the batch with a NUL name ends the listing with EIO" ||
			fail "readdir-names $round: ls exit $rc: $(cat "$work/ls.err")"
	done
	# the same through readdir(3), bytes as the kernel has them
	out=$(g "$py" -c '
import errno, os, sys
names, err = [], 0
try:
    for e in os.scandir(sys.argv[1].encode()):
        names.append(e.name)
except OSError as e:
    err = e.errno
names.sort()
print(names == [b"esc\x1bname", b"f1", b"f2", b"nl\nname"], err == errno.EIO)
' "$mnt")
	[ "$out" = "True True" ] && ok "readdir-names: the names' bytes" ||
		fail "readdir-names: scandir: $out"
	[ "$(g cat "$mnt/nl
name")" = newline ] && [ "$(g cat "$mnt/esc"$'\x1b'"name")" = escape ] &&
		ok "readdir-names: the names with control characters are files" ||
		fail "readdir-names: cat of the odd names"
	[ "$(pyop stat "$mnt/a/b")" = "ERR 2" ] && ok "readdir-names: a/b is not there" ||
		fail "readdir-names: a/b: $(pyop stat "$mnt/a/b")"
	[ "$(g cat "$mnt/f1")" = one ] && ok "readdir-names: cat f1 afterwards" ||
		fail "readdir-names: cat f1"
else
	fail "readdir-names: mount"
fi
end_case readdir-names

# ---- a listing that never ends, and one of long names -------------------
# The daemon's resident memory (kB); its peak with "hwm".
vm() { awk -v k="Vm${1:-RSS}:" '$1 == k { print $2 }' "/proc/$daemon/status"; }
# READDIRs the server has answered so far
readdirs() { cat "$sdir/readdirs" 2>/dev/null || echo 0; }
# under valgrind the daemon is slower and its memory is valgrind's: the
# memory bounds are not asserted there, and the listings get more time
under_vg() { case $(cat "/proc/$daemon/comm" 2>/dev/null) in memcheck-*) return 0 ;; esac; return 1; }
# ...nor with AddressSanitizer, whose quarantine alone holds 256 MiB
mem_unmeasured() { under_vg || grep -q libasan "/proc/$daemon/maps" 2>/dev/null; }
# Bounds (kB): the daemon's memory may grow by DIR_GROWTH_KB while a
# reader goes on through an endless directory (it grew by ~15 MB a second
# before readdirplus stopped adding inodes past DA_PLUS_INODES_MAX), and
# never pass DIR_PEAK_KB (the kept listing, dcache.c's DC_BYTES_MAX
# included).
DIR_GROWTH_KB=16384
DIR_PEAK_KB=131072
# READDIRs stopped: none answered in QUIET_S seconds, within QUIET_BY
# seconds once the reader is gone
QUIET_S=3
QUIET_BY=20

# quiet NAME: READDIRs stop reaching the server once nobody reads
quiet() {
	local r1 r2 t=0
	sleep 1
	r2=$(readdirs)
	while [ $t -lt $QUIET_BY ]; do
		r1=$r2
		sleep $QUIET_S
		t=$((t + QUIET_S))
		r2=$(readdirs)
		[ "$r1" = "$r2" ] && break
	done
	[ "$r1" = "$r2" ] && ok "$1: no READDIR once the reader is gone ($r1 in all)" ||
		fail "$1: READDIRs went on without a reader: $r2 after $QUIET_BY s"
}

# An endless directory (/baddir: every READDIR a new batch of 100 names,
# never an EOF).  ls of it, which reads it all before printing, ends at
# SIGINT or SIGTERM, and another file reads right afterwards; a reader
# that goes on for 10 s leaves the daemon's memory bounded; the READDIRs
# stop when the reader is gone (no background listing goes on with it).
start_server sftp-readdir-endless 4
if mount_hostile /; then
	ok "readdir-endless: mounted"
	for sig in INT TERM; do
		t0=$(date +%s)
		timeout -k 10 -s $sig 2 ls "$mnt/baddir" >/dev/null 2>&1
		rc=$?
		t=$(($(date +%s) - t0))
		[ "$rc" = 124 ] && [ "$t" -le 6 ] &&
			ok "readdir-endless: ls ended by SIG$sig after ${t} s" ||
			fail "readdir-endless: ls at SIG$sig: exit $rc after ${t} s"
		out=$(timeout -k 5 5 cat "$mnt/hello.txt")
		[ "$out" = "hello, hostile world" ] &&
			ok "readdir-endless: cat right after the SIG$sig" ||
			fail "readdir-endless: cat after the SIG$sig: '$out'"
		quiet "readdir-endless (ls, SIG$sig)"
	done
	vg=0 # slow
	under_vg && vg=1
	um=0 # memory not measured
	mem_unmeasured && um=1
	rm -f "$work/reader.out"
	g "$py" -c '
import os, sys, time
end = time.monotonic() + 10
n = 0
with os.scandir(sys.argv[1]) as it:
    for e in it:
        n += 1
        if time.monotonic() > end:
            break
print(n)
' "$mnt/baddir" >"$work/reader.out" &
	rpid=$!
	sleep 3
	rss3=$(vm)
	wait $rpid
	rss10=$(vm)
	n=$(cat "$work/reader.out")
	want=100000
	[ $vg = 1 ] && want=1000
	[ "${n:-0}" -ge $want ] && ok "readdir-endless: $n names read in 10 s" ||
		fail "readdir-endless: the reader got '${n}' names in 10 s"
	if [ $um = 1 ]; then
		echo "(readdir-endless: memory not measured under valgrind or ASan: ${rss3} kB, ${rss10} kB)"
	else
		[ $((rss10 - rss3)) -le $DIR_GROWTH_KB ] && [ "$(vm HWM)" -le $DIR_PEAK_KB ] &&
			ok "readdir-endless: memory bounded (${rss3} kB at 3 s, ${rss10} kB at 10 s, peak $(vm HWM) kB)" ||
			fail "readdir-endless: memory ${rss3} kB at 3 s, ${rss10} kB at 10 s, peak $(vm HWM) kB"
	fi
	quiet "readdir-endless (reader)"
	# lookups that keep missing there: the directory is listed in the
	# background to answer them (dcache.c), which gives up at its caps
	# (65536 names: 656 READDIRs, and up to 64 more in flight), once:
	# given up, it is not listed in the background again for
	# cache_timeout (it was twice, 1438 READDIRs, before that)
	r0=$(readdirs)
	for x in 1 2 3; do pyop stat "$mnt/baddir/nosuch$x" >/dev/null; done
	quiet "readdir-endless (lookups)"
	n=$(($(readdirs) - r0))
	[ $n -le 1000 ] && ok "readdir-endless: the lookups' background listing stopped after $n READDIRs" ||
		fail "readdir-endless: $n READDIRs for three lookups"
	[ "$(g cat "$mnt/hello.txt")" = "hello, hostile world" ] &&
		ok "readdir-endless: cat afterwards" || fail "readdir-endless: cat afterwards"
	[ "$(g cat "$mnt/baddir/e000000007")" = "hello, hostile world" ] &&
		ok "readdir-endless: a listed name reads" ||
		fail "readdir-endless: cat of a listed name"
else
	fail "readdir-endless: mount"
fi
end_case readdir-endless

# 100000 names in /baddir: 80000 of 255 bytes (NAME_MAX), every tenth of
# 256 and every tenth of 1000, which the kernel must never get.  The
# listing gives exactly the 80000, twice; the daemon's memory stays
# bounded (the kept listing gives up at DC_LIST_BYTES_MAX); a name
# listed reads; the listing READDIRs stop with the reader.
start_server sftp-readdir-huge-names 4
if mount_hostile /; then
	ok "readdir-huge-names: mounted"
	lguard=$GUARD
	under_vg && lguard=$((GUARD * 10))
	for round in 1 2; do
		out=$(timeout -k 5 $lguard "$py" -c '
import os, sys
def name(i):
    head = b"h%06d" % i
    return head + b"n" * (255 - len(head))
want = sorted(name(i) for i in range(100000) if i % 10 not in (3, 7))
try:
    got = sorted(os.listdir(sys.argv[1].encode()))
except OSError as e:
    print("ERR", e.errno)
    sys.exit(0)
print(len(got), got == want, max(map(len, got)))
' "$mnt/baddir")
		[ "$out" = "80000 True 255" ] &&
			ok "readdir-huge-names $round: the 80000 names of 255 bytes, none longer" ||
			fail "readdir-huge-names $round: listdir gave: $out"
	done
	if mem_unmeasured; then
		echo "(readdir-huge-names: memory not measured under valgrind or ASan: peak $(vm HWM) kB)"
	else
		[ "$(vm HWM)" -le $DIR_PEAK_KB ] &&
			ok "readdir-huge-names: memory bounded (peak $(vm HWM) kB)" ||
			fail "readdir-huge-names: memory peak $(vm HWM) kB"
	fi
	quiet readdir-huge-names
	long=$mnt/baddir/h000012$(printf 'n%.0s' $(seq 1 248))
	[ "$(g cat "$long")" = "hello, hostile world" ] &&
		ok "readdir-huge-names: a name of 255 bytes reads" ||
		fail "readdir-huge-names: cat of a name of 255 bytes"
	[ "$(g cat "$mnt/hello.txt")" = "hello, hostile world" ] &&
		ok "readdir-huge-names: cat afterwards" ||
		fail "readdir-huge-names: cat afterwards"
else
	fail "readdir-huge-names: mount"
fi
end_case readdir-huge-names

# ---- a 64 KiB symlink target ---------------------------------------------
start_server sftp-readlink-64k 4
if mount_hostile /; then
	ok "readlink-64k: mounted"
	out=$(pyop readlink "$mnt/badlink")
	[ "$out" = "ERR 36" ] && ok "readlink-64k: ENAMETOOLONG" ||
		fail "readlink-64k: readlink gave $out"
	[ "$(pyop lstat "$mnt/badlink")" = "OK 9" ] && [ -L "$mnt/badlink" ] &&
		ok "readlink-64k: lstat: a symlink" || fail "readlink-64k: lstat"
	[ "$(g readlink "$mnt/link")" = hello.txt ] &&
		ok "readlink-64k: another link reads" || fail "readlink-64k: link"
	[ "$(g cat "$mnt/hello.txt")" = "hello, hostile world" ] &&
		ok "readlink-64k: cat afterwards" || fail "readlink-64k: cat"
	[ "$(pyop readlink "$mnt/badlink")" = "ERR 36" ] &&
		ok "readlink-64k: again ENAMETOOLONG" || fail "readlink-64k: again"
else
	fail "readlink-64k: mount"
fi
end_case readlink-64k

# ---- a reply of the wrong type (HANDLE for an LSTAT) ---------------------
start_server sftp-wrong-type-stat 4
if mount_hostile /; then
	ok "wrong-type: mounted"
	# first, before any listing could answer the lookup
	out=$(pyop stat "$mnt/bad.txt")
	[ "$out" = "ERR 5" ] && ok "wrong-type: stat bad.txt is EIO" ||
		fail "wrong-type: stat bad.txt gave $out"
	[ "$(g cat "$mnt/hello.txt")" = "hello, hostile world" ] &&
		ok "wrong-type: cat afterwards" || fail "wrong-type: cat"
	out=$(g ls -a1 "$mnt")
	[ "$out" = "$root_list" ] && ok "wrong-type: ls -a" ||
		fail "wrong-type: ls -a: $out"
else
	fail "wrong-type: mount"
fi
end_case wrong-type

# ---- two replies for one request -----------------------------------------
start_server sftp-dup-id 10
if mount_hostile /; then
	ok "dup-id: mounted"
	# the first reply answers; the second ends the connection
	out=$(pyop stat "$mnt/bad.txt")
	[ "$out" = "OK 13" ] && ok "dup-id: stat bad.txt answered" ||
		fail "dup-id: stat bad.txt gave $out"
	[ "$(g cat "$mnt/hello.txt")" = "hello, hostile world" ] &&
		ok "dup-id: cat afterwards" || fail "dup-id: cat"
	out=$(g ls -a1 "$mnt")
	[ "$out" = "$root_list" ] && ok "dup-id: ls -a" || fail "dup-id: ls -a: $out"
	n=$(grep -c "accepted" "$sdir/server.log")
	[ "$n" -ge 2 ] && ok "dup-id: the daemon reconnected ($n connections)" ||
		fail "dup-id: $n connections"
else
	fail "dup-id: mount"
fi
end_case dup-id

# ---- more faults: the operation that meets one fails with EIO (some
# only after the daemon has reconnected and replayed it a few times), the
# rest of the mount goes on ------------------------------------------------
pyread() {
	g "$py" -c '
import os, sys
try:
    with open(sys.argv[1], "rb") as f:
        print("OK", len(f.read()))
except OSError as e:
    print("ERR", e.errno)
' "$1"
}
pylist() {
	g "$py" -c '
import os, sys
try:
    print("OK", len(os.listdir(sys.argv[1])))
except OSError as e:
    print("ERR", e.errno)
' "$1"
}
for spec in sftp-unknown-id:stat sftp-len-zero:stat sftp-len-max:stat \
	sftp-status-overflow:stat sftp-attrs-ext-count:stat \
	sftp-name-count:list sftp-read-too-much:read \
	sftp-read-data-overflow:read sftp-wrong-type-read:read; do
	cs=${spec%:*}
	op=${spec#*:}
	start_server "$cs" 20
	if ! mount_hostile /; then
		fail "$cs: mount"
		end_case "$cs"
		continue
	fi
	case $op in
	stat) out=$(pyop stat "$mnt/bad.txt") ;;
	list) out=$(pylist "$mnt/baddir") ;;
	read) out=$(pyread "$mnt/bad.txt") ;;
	esac
	[ "$out" = "ERR 5" ] && ok "$cs: $op is EIO" || fail "$cs: $op gave $out"
	[ "$(g cat "$mnt/hello.txt")" = "hello, hostile world" ] &&
		ok "$cs: cat afterwards" || fail "$cs: cat afterwards"
	end_case "$cs"
done

# ---- oversized replies ---------------------------------------------------
# A 300-byte HANDLE (filexfer-02 7 allows 256) for the OPEN and OPENDIR of
# bad names: the open and the listing fail with EIO, and nothing of the
# handle is kept or sent back; a STATUS with a 1 MiB message (over the
# largest SFTP packet we take, SFTP_MSG_MAX) costs the connection: the
# stat is EIO, after the daemon's replays on new connections.
start_server sftp-handle-long 20
if mount_hostile /; then
	out="$(pyread "$mnt/bad.txt") $(pylist "$mnt/baddir")"
	[ "$out" = "ERR 5 ERR 5" ] && ok "handle-long: open and opendir are EIO" ||
		fail "handle-long: read, list gave $out"
	[ "$(g cat "$mnt/hello.txt")" = "hello, hostile world" ] &&
		ok "handle-long: cat afterwards" || fail "handle-long: cat afterwards"
	[ "$(pylist "$mnt/sub")" = "OK 1" ] && ok "handle-long: ls sub" ||
		fail "handle-long: ls sub"
	n=$(grep -c "accepted" "$sdir/server.log")
	[ "$n" = 1 ] && ok "handle-long: one connection throughout" ||
		fail "handle-long: $n connections"
else
	fail "handle-long: mount"
fi
end_case handle-long

start_server sftp-status-huge 20
if mount_hostile /; then
	out=$(pyop stat "$mnt/bad.txt")
	[ "$out" = "ERR 5" ] && ok "status-huge: stat is EIO" ||
		fail "status-huge: stat gave $out"
	[ "$(g cat "$mnt/hello.txt")" = "hello, hostile world" ] &&
		ok "status-huge: cat afterwards" || fail "status-huge: cat afterwards"
	n=$(grep -c "accepted" "$sdir/server.log")
	[ "$n" -ge 2 ] && ok "status-huge: the daemon reconnected ($n connections)" ||
		fail "status-huge: $n connections"
else
	fail "status-huge: mount"
fi
end_case status-huge

# ---- a server that stops reading while we write ----------------------------
# At the first WRITE to bad.txt the server neither reads nor sends (our
# bytes pile up in the socket) for 8 s, then drops the connection.  With
# ServerAliveInterval=1,ServerAliveCountMax=1 the daemon gives the link
# up after about 2 s of silence and reconnects; the writer's close must
# end well within the guard, with success (the write replayed on the new
# connection) or a clear errno (EIO, ETIMEDOUT, ENOTCONN), never hang.
start_server sftp-write-stall 20
if mount_hostile / ServerAliveInterval=1,ServerAliveCountMax=1; then
	t0=$(date +%s)
	out=$(g "$py" -c '
import os, sys
try:
    fd = os.open(sys.argv[1], os.O_WRONLY | os.O_TRUNC)
    try:
        for _ in range(64):
            os.write(fd, b"w" * 65536)
    finally:
        os.close(fd)
    print("OK")
except OSError as e:
    print("ERR", e.errno)
' "$mnt/bad.txt")
	rc=$?
	t=$(($(date +%s) - t0))
	case "$rc:$out" in
	"0:OK" | "0:ERR 5" | "0:ERR 110" | "0:ERR 107")
		ok "write-stall: 4 MiB written and closed in ${t} s: $out" ;;
	*) fail "write-stall: writer rc $rc, '$out' after ${t} s" ;;
	esac
	[ "$(g cat "$mnt/hello.txt")" = "hello, hostile world" ] &&
		ok "write-stall: cat afterwards" || fail "write-stall: cat afterwards"
	n=$(grep -c "accepted" "$sdir/server.log")
	[ "$n" -ge 2 ] && ok "write-stall: the daemon reconnected ($n connections)" ||
		fail "write-stall: $n connections"
else
	fail "write-stall: mount"
fi
end_case write-stall

# ---- a symlink that climbs through a symlink ------------------------------
# /baddir/d1/../d8/up -> eight "..", esc -> "up/" + eight ".." +
# "etc/hostname": by the letter inside the mounted /baddir, but the
# kernel resolves "up/.." from where up points (the mount's root), and
# the eight ".." then reach the client's /etc/hostname.  With
# contain_symlinks both readlink and open of esc are EACCES; up itself
# (which stays in the mount) reads.
start_server symlink-escape 4
if mount_hostile /baddir contain_symlinks; then
	deep=$mnt/d1/d2/d3/d4/d5/d6/d7/d8
	[ "$(pyop readlink "$deep/esc")" = "ERR 13" ] &&
		ok "symlink-escape: readlink esc is EACCES" ||
		fail "symlink-escape: readlink esc gave $(pyop readlink "$deep/esc")"
	out=$(pyread "$deep/esc")
	[ "$out" = "ERR 13" ] && ok "symlink-escape: open esc is EACCES" ||
		fail "symlink-escape: open esc gave $out"
	[ "$(pyop readlink "$deep/up")" = "OK b'../../../../../../../..'" ] &&
		ok "symlink-escape: up reads" ||
		fail "symlink-escape: readlink up gave $(pyop readlink "$deep/up")"
else
	fail "symlink-escape: mount"
fi
end_case symlink-escape

# ---- faults before the mount is up: sftpmnt fails, cleanly -------------
for cs in banner-long pkt-len-max kexreply-bad-sig bad-mac \
	auth-failure-overflow chan-confirm-wrong-id sftp-version-6 rekey-weak; do
	start_server "$cs" 4
	if mount_hostile /; then
		fail "$cs: mounted"
		fusermount3 -u "$mnt"
		stop_daemon
	else
		grep -q " $mnt " /proc/mounts && fail "$cs: a mount is left"
		ok "$cs: sftpmnt refused to mount"
	fi
	daemon=
	stop_server
	if compgen -G "$work/san.*" >/dev/null; then
		fail "$cs: sanitizer reports from sftpmnt"
		cat "$work"/san.*
		rm -f "$work"/san.*
	fi
	pgrep -f -- "$mnt" >/dev/null && fail "$cs: processes left"
done

[ "$fails" = 0 ] || { echo "$fails failures"; exit 1; }
exit 0
