#!/bin/bash
# A bounded soak with random link cuts (tests/mount/soak.py): 8 workers
# doing random file and rename-storm operations against a model while
# delayproxy cuts the link every 1-3 s; once at no added latency and once
# at 50 ms RTT.  Each phase lasts SOAK_SECONDS (20 s; 300 s, five
# minutes, with SFTPMNT_LONG_TESTS=1 / make check-long).  At the end the
# server's tree must equal the model byte for byte, through the mount,
# directly, and again after the unmount.  SOAK_SEED=N repeats a run.
set -uo pipefail
. "$(dirname "$0")/lib.sh"
proxy=${DELAYPROXY:?}
py=/usr/bin/python3
[ -x $py ] || py=python3

secs=${SOAK_SECONDS:-20}
[ -n "${SFTPMNT_LONG_TESTS:-}" ] && secs=${SOAK_SECONDS:-300}
seed=${SOAK_SEED:-$(date +%s)}
srv=$SFTPMNT_TEST_ROOT/soak
mkdir -p "$srv"
"$proxy" -t "127.0.0.1:$SFTPMNT_TEST_PORT" -p "$work/pport" -c "$work/ctl" -q &
pxpid=$!
trap 'kill $pxpid 2>/dev/null; mt_cleanup' EXIT
for _ in $(seq 1 300); do [ -s "$work/pport" ] && break; sleep 0.1; done
pport=$(cat "$work/pport")
sed "s/\]:$SFTPMNT_TEST_PORT /]:$pport /" "$SFTPMNT_TEST_KNOWN_HOSTS" >"$work/kh"
"$bin" "$SFTPMNT_TEST_USER@127.0.0.1:$srv" "$mnt" -o \
	"port=$pport,IdentityFile=$SFTPMNT_TEST_KEY,UserKnownHostsFile=$work/kh,ServerAliveInterval=1,ServerAliveCountMax=2,op_timeout=20" ||
	{ echo "FAIL: mount"; exit 1; }
daemon=$(pgrep -f -- "$mnt" | head -n1)

phase() { # name one-way-delay-ms
	local name=$1 delay=$2
	mkdir -p "$mnt/$name"
	$py -c 'import socket,sys; s=socket.socket(socket.AF_UNIX); s.connect(sys.argv[1]); s.sendall(b"delay %s\n" % sys.argv[2].encode()); s.recv(99)' \
		"$work/ctl" "$delay"
	echo "== $name: one-way delay $delay ms, $secs s, seed $seed"
	MNT=$mnt/$name SRV=$srv/$name CTL=$work/ctl SOAK_SECONDS=$secs SEED=$seed \
		HANG=60 SOAK_MODEL=$work/model.$name $py "$here/soak.py" ||
		fail "soak at one-way delay $delay ms (seed $seed)"
}
phase rtt0 0
phase rtt50 25
kill -0 "$daemon" 2>/dev/null && ok "the daemon is still running" || fail "the daemon died"
fusermount3 -u "$mnt" || fail "unmount"
# the server's files after the unmount (every write acknowledged)
for name in rtt0 rtt50; do
	[ -f "$work/model.$name" ] || continue
	bad=0
	while read -r rel sum; do
		[ "$(sha256sum <"$srv/$name/$rel" 2>/dev/null | cut -d' ' -f1)" = "$sum" ] || bad=$((bad + 1))
	done <"$work/model.$name"
	n=$(wc -l <"$work/model.$name")
	[ $bad = 0 ] && ok "$name: after the unmount the server has all $n files of the model" ||
		fail "$name: $bad of $n files differ after the unmount"
done
finish
