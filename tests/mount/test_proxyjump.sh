#!/bin/bash
# ProxyJump through our own library: the mount reaches the fixture's sshd
# through a jump host (the same sshd, reached through the delay proxy so
# the test can count and cut what goes through the jump).  Checked: data
# both ways byte-exact with the bytes seen passing the jump; a cut of the
# jump connection is survived (a new jump, an open file still reads); the
# ssh_config form (Host ... ProxyJump alias); refusals for an unreachable
# jump host, an unknown jump host key, a target the jump cannot reach and
# two hops.
set -uo pipefail
. "$(dirname "$0")/lib.sh"
proxy=${DELAYPROXY:?}

srv=$SFTPMNT_TEST_ROOT/pj
mkdir -p "$srv"
head -c 3000000 /dev/urandom >"$srv/r"
"$proxy" -t "127.0.0.1:$SFTPMNT_TEST_PORT" -p "$work/pport" -c "$work/ctl" -q &
pxpid=$!
trap 'kill $pxpid 2>/dev/null; mt_cleanup' EXIT
for _ in $(seq 1 50); do [ -s "$work/pport" ] && break; sleep 0.1; done
pport=$(cat "$work/pport")
ctl() { python3 -c '
import socket, sys
s = socket.socket(socket.AF_UNIX); s.connect(sys.argv[1])
s.sendall((sys.argv[2] + "\n").encode()); print(s.recv(200).decode().strip())' "$work/ctl" "$1"; }
stat_of() { ctl stats | sed -n "s/.*$1=\([0-9]*\).*/\1/p"; }

# the jump host is 127.0.0.1 at the proxy's port: known_hosts needs both
kh=$work/kh
cp "$SFTPMNT_TEST_KNOWN_HOSTS" "$kh"
sed "s/\]:$SFTPMNT_TEST_PORT /]:$pport /" "$SFTPMNT_TEST_KNOWN_HOSTS" >>"$kh"
base="port=$SFTPMNT_TEST_PORT,IdentityFile=$SFTPMNT_TEST_KEY,UserKnownHostsFile=$kh"
src="$SFTPMNT_TEST_USER@127.0.0.1:$srv"

# 1. through the jump
if "$bin" "$src" "$mnt" -o "$base,ProxyJump=$SFTPMNT_TEST_USER@127.0.0.1:$pport"; then
	grep -q " $mnt fuse.sftpmnt " /proc/mounts || fail "not mounted"
	daemon=$(pgrep -f -- "$mnt" | head -n1)
	c2s0=$(stat_of c2s)
	cmp -s "$mnt/r" "$srv/r" && ok "read through the jump" || fail "read through the jump"
	head -c 5000000 /dev/urandom >"$work/w"
	cp "$work/w" "$mnt/w" && cmp -s "$work/w" "$srv/w" &&
		ok "5 MB written through the jump, byte-exact" || fail "write through the jump"
	c2s1=$(stat_of c2s)
	[ $((c2s1 - c2s0)) -gt 5000000 ] && ok "the bytes went through the jump host's connection ($((c2s1 - c2s0)) bytes)" ||
		fail "only $((c2s1 - c2s0)) bytes passed the jump"
	acc0=$(stat_of accepted)
	exec 7<"$mnt/r"
	head -c 1000 <&7 >/dev/null
	ctl cut >/dev/null
	sleep 1
	# the open file reads on after a new jump
	tail -c +1001 "$srv/r" >"$work/rest"
	cat <&7 >"$work/got" 2>/dev/null
	exec 7<&-
	cmp -s "$work/got" "$work/rest" && ok "a file open across the cut reads on, byte-exact" ||
		fail "the open file after the cut: $(wc -c <"$work/got") of $(wc -c <"$work/rest") bytes"
	ls "$mnt" >/dev/null
	acc1=$(stat_of accepted)
	[ "$acc1" -gt "$acc0" ] && ok "after a cut of the jump connection: a new jump ($acc0 -> $acc1 accepted)" ||
		fail "no new jump after the cut"
	echo after >"$mnt/after" && [ "$(cat "$srv/after")" = after ] &&
		ok "writes go on after the cut" || fail "write after the cut"
	fusermount3 -u "$mnt"
	for _ in $(seq 1 50); do kill -0 "$daemon" 2>/dev/null || break; sleep 0.1; done
	kill -0 "$daemon" 2>/dev/null && fail "daemon still running after unmount" || ok "daemon ends at unmount"
else
	fail "mount with ProxyJump"
fi

# 2. ssh_config: the target names its jump host by alias
cat >"$work/config" <<EOC
Host target
  HostName 127.0.0.1
  Port $SFTPMNT_TEST_PORT
  User $SFTPMNT_TEST_USER
  ProxyJump bastion
Host bastion
  HostName 127.0.0.1
  Port $pport
  User $SFTPMNT_TEST_USER
Host *
  IdentityFile $SFTPMNT_TEST_KEY
  UserKnownHostsFile $kh
EOC
acc0=$(stat_of accepted)
if "$bin" -F "$work/config" "target:$srv" "$mnt" && cmp -s "$mnt/r" "$srv/r" &&
	[ "$(stat_of accepted)" -gt "$acc0" ]; then
	ok "ssh_config ProxyJump with an alias"
else
	fail "ssh_config ProxyJump"
fi
grep -q " $mnt " /proc/mounts && fusermount3 -u "$mnt"

# 3. refusals: exit 1 with a message naming the jump, nothing mounted
refuse() {
	local what=$1 want=$2 opt=$3 out rc
	out=$("$bin" "$src" "$mnt" -o "$base,$opt" 2>&1)
	rc=$?
	if [ $rc = 1 ] && echo "$out" | grep -q "$want" && ! grep -q " $mnt " /proc/mounts; then
		ok "$what: $out"
	else
		fail "$what: rc=$rc $out"
		grep -q " $mnt " /proc/mounts && fusermount3 -u "$mnt"
	fi
}
refuse "unreachable jump host" "ProxyJump 127.0.0.1: cannot connect" "ProxyJump=127.0.0.1:1"
grep -v "]:$pport " "$kh" >"$work/kh_nojump"
refuse "unknown jump host key" "ProxyJump 127.0.0.1: the host key of 127.0.0.1 port $pport is not in" \
	"ProxyJump=$SFTPMNT_TEST_USER@127.0.0.1:$pport,UserKnownHostsFile=$work/kh_nojump"
out=$("$bin" "$SFTPMNT_TEST_USER@127.0.0.1:$srv" "$mnt" -o \
	"port=1,IdentityFile=$SFTPMNT_TEST_KEY,UserKnownHostsFile=$kh,ProxyJump=$SFTPMNT_TEST_USER@127.0.0.1:$pport" 2>&1)
[ $? = 1 ] && echo "$out" | grep -q "cannot reach 127.0.0.1 port 1" && ok "target the jump cannot reach: $out" ||
	{ fail "unreachable target: $out"; grep -q " $mnt " /proc/mounts && fusermount3 -u "$mnt"; }
printf 'Host twohops\n  HostName 127.0.0.1\n  ProxyJump a,b\n' >"$work/config2"
out=$("$bin" -F "$work/config2" "twohops:" "$mnt" 2>&1)
[ $? = 2 ] && echo "$out" | grep -q "one jump host only" && ok "two hops refused: $out" || fail "two hops: $out"

finish
