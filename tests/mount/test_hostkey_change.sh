#!/bin/bash
# A server that comes back after a lost connection with another host key
# is refused, like at mount time: the daemon does not reconnect to it
# (calls fail after op_timeout, the log says HOST KEY MISMATCH), and once
# the known key is served again the mount works on.  The change is made
# on the client's side of the trust: known_hosts is read again at every
# reconnect, and here it is rewritten to hold another ed25519 key for the
# server while the link is down.
set -uo pipefail
: "${SFTPMNT_TEST_ROOT:?run through make check}"
[ -c /dev/fuse ] || { echo "SKIP: no /dev/fuse"; exit 77; }
command -v fusermount3 >/dev/null || { echo "SKIP: no fusermount3 (install fuse3)"; exit 77; }

bin=${SFTPMNT_BIN:?}
proxy=${DELAYPROXY:?}
work=$(mktemp -d)
mnt=$work/mnt
srv=$SFTPMNT_TEST_ROOT/hk
mkdir -p "$mnt" "$srv"
echo hello >"$srv/file"
cleanup() {
	fusermount3 -uz "$mnt" 2>/dev/null
	[ -f "$work/proxy.pid" ] && kill "$(cat "$work/proxy.pid")" 2>/dev/null
	[ -f "$work/daemon.pid" ] && kill "$(cat "$work/daemon.pid")" 2>/dev/null
	rm -rf "$work"
}
trap cleanup EXIT
fails=0
fail() { echo "FAIL: $*"; fails=$((fails + 1)); }
ok() { echo "ok: $*"; }
ctl() { python3 -c 'import socket,sys; s=socket.socket(socket.AF_UNIX); s.connect(sys.argv[1]); s.sendall((sys.argv[2]+"\n").encode()); print(s.recv(100).decode().strip())' "$work/ctl" "$1"; }

"$proxy" -t "127.0.0.1:$SFTPMNT_TEST_PORT" -d 1 -p "$work/port" -c "$work/ctl" -q &
echo $! >"$work/proxy.pid"
for _ in $(seq 1 600); do [ -s "$work/port" ] && break; sleep 0.05; done
port=$(cat "$work/port")
sed "s/\[127.0.0.1\]:$SFTPMNT_TEST_PORT/[127.0.0.1]:$port/" "$SFTPMNT_TEST_KNOWN_HOSTS" >"$work/kh"
cp "$work/kh" "$work/kh.good"
ssh-keygen -q -t ed25519 -N '' -f "$work/other" </dev/null
echo "[127.0.0.1]:$port $(cut -d' ' -f1,2 "$work/other.pub")" >"$work/kh.other"

"$bin" "$SFTPMNT_TEST_USER@127.0.0.1:$srv" "$mnt" -f \
	-o "port=$port,IdentityFile=$SFTPMNT_TEST_KEY,UserKnownHostsFile=$work/kh,ServerAliveInterval=1,ServerAliveCountMax=2,op_timeout=4,cache=no" \
	2>"$work/daemon.log" &
echo $! >"$work/daemon.pid"
for _ in $(seq 1 100); do grep -q " $mnt fuse.sftpmnt " /proc/mounts && break; sleep 0.05; done
[ "$(cat "$mnt/file" 2>&1)" = hello ] && ok "mounted" || { fail "mount: $(cat "$work/daemon.log")"; exit 1; }

cp "$work/kh.other" "$work/kh"
ctl cut >/dev/null
t0=$(date +%s)
out=$(timeout 30 cat "$mnt/file" 2>&1)
rc=$?
took=$(( $(date +%s) - t0 ))
[ $rc != 0 ] && [ $rc != 124 ] && [ "$out" != hello ] && ok "with another host key: the read fails ($out) after ${took}s" ||
	fail "read with another host key: rc=$rc '$out' after ${took}s"
grep -q "HOST KEY MISMATCH" "$work/daemon.log" && ok "the daemon says HOST KEY MISMATCH" ||
	fail "no mismatch message: $(tail -3 "$work/daemon.log")"

cp "$work/kh.good" "$work/kh"
ok=0
for _ in $(seq 1 60); do
	[ "$(cat "$mnt/file" 2>/dev/null)" = hello ] && { ok=1; break; }
	sleep 0.5
done
[ $ok = 1 ] && ok "with the known key again the mount works" || fail "no recovery: $(tail -3 "$work/daemon.log")"

fusermount3 -u "$mnt" || fail "unmount"
[ $fails = 0 ] || { echo "$fails failures"; exit 1; }
