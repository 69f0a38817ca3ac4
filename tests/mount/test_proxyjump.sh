#!/bin/bash
# ProxyJump through our own library: the mount reaches the fixture's sshd
# through a jump host (the same sshd, reached through the delay proxy so
# the test can count and cut what goes through the jump).  Checked: data
# both ways byte-exact with the bytes seen passing the jump; a cut of the
# jump connection is survived (a new jump, an open file still reads); the
# ssh_config form (Host ... ProxyJump alias); refusals for an unreachable
# jump host, an unknown jump host key and a target the jump cannot reach.
# Two hops (ProxyJump=a\,b, and a,b in ssh_config), both the same sshd,
# the first through the proxy: the sshd's log shows three logins per
# connection (two hops and the target) where one hop shows two, the proxy
# sees one connection; a cut of the first hop rebuilds the whole chain;
# unmount leaves no session on the server; each hop's Host block applies
# and a failure names its hop; a ProxyJump loop in ssh_config and more
# than 8 hops are refused.
set -uo pipefail
. "$(dirname "$0")/lib.sh"
proxy=${DELAYPROXY:?}

srv=$SFTPMNT_TEST_ROOT/pj
mkdir -p "$srv"
head -c 3000000 /dev/urandom >"$srv/r"
"$proxy" -t "127.0.0.1:$SFTPMNT_TEST_PORT" -p "$work/pport" -c "$work/ctl" -q &
pxpid=$!
trap 'kill $pxpid 2>/dev/null; mt_cleanup' EXIT
for _ in $(seq 1 300); do [ -s "$work/pport" ] && break; sleep 0.1; done
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
# 4. two hops: hop 1 is the sshd through the proxy, hop 2 the sshd reached
# from hop 1, and the target is reached from hop 2
log=${SFTPMNT_FIXTURE_DIR:?}/sshd.log
logins() { grep -c "Accepted publickey" "$log"; }
sessions() { "$SFTPMNT_FIXTURE" pids "$SFTPMNT_FIXTURE_DIR" | wc -l; }
hop1="$SFTPMNT_TEST_USER@127.0.0.1:$pport"
hop2="$SFTPMNT_TEST_USER@127.0.0.1:$SFTPMNT_TEST_PORT"
tail -c +1001 "$srv/r" >"$work/rest"
s0=$(sessions)
l0=$(logins)
acc0=$(stat_of accepted)
if "$bin" "$src" "$mnt" -o "$base,ProxyJump=$hop1\\,$hop2"; then
	daemon=$(pgrep -f -- "$mnt" | head -n1)
	cmp -s "$mnt/r" "$srv/r" && ok "two hops: read byte-exact" || fail "two hops: read"
	l1=$(logins)
	acc1=$(stat_of accepted)
	[ $((l1 - l0)) = 3 ] && ok "two hops: three logins on the server (hop 1, hop 2, target)" ||
		fail "two hops: $((l1 - l0)) logins, not 3"
	[ $((acc1 - acc0)) = 1 ] && ok "two hops: one connection through the proxy (hop 1 only)" ||
		fail "two hops: $((acc1 - acc0)) connections through the proxy"
	exec 7<"$mnt/r"
	head -c 1000 <&7 >/dev/null
	ctl cut >/dev/null
	sleep 1
	cat <&7 >"$work/got" 2>/dev/null
	exec 7<&-
	cmp -s "$work/got" "$work/rest" && ok "two hops: a file open across a cut of hop 1 reads on" ||
		fail "two hops, after the cut: $(wc -c <"$work/got") of $(wc -c <"$work/rest") bytes"
	echo two >"$mnt/two" && [ "$(cat "$srv/two")" = two ] &&
		ok "two hops: writes go on after the cut" || fail "two hops: write after the cut"
	l2=$(logins)
	acc2=$(stat_of accepted)
	[ $((l2 - l1)) = 3 ] && [ $((acc2 - acc1)) = 1 ] &&
		ok "two hops: the cut rebuilt the whole chain (3 logins, 1 proxy connection)" ||
		fail "two hops: after the cut $((l2 - l1)) logins, $((acc2 - acc1)) proxy connections"
	fusermount3 -u "$mnt"
	for _ in $(seq 1 50); do kill -0 "$daemon" 2>/dev/null || break; sleep 0.1; done
	kill -0 "$daemon" 2>/dev/null && fail "two hops: daemon still running after unmount" ||
		ok "two hops: daemon ends at unmount"
	for _ in $(seq 1 50); do [ "$(sessions)" -le "$s0" ] && break; sleep 0.1; done
	[ "$(sessions)" -le "$s0" ] && ok "two hops: no session left on the server after unmount" ||
		fail "two hops: $(sessions) server processes after unmount (before: $s0)"
else
	fail "mount through two hops"
fi

# ssh_config: the hops by alias, each with its own Host block (hop1's
# port is only in its block; hop2's block names a known_hosts file)
cat >"$work/config3" <<EOC
Host target
  HostName 127.0.0.1
  Port $SFTPMNT_TEST_PORT
  User $SFTPMNT_TEST_USER
  ProxyJump hop1,hop2
Host hop1
  HostName 127.0.0.1
  Port $pport
  User $SFTPMNT_TEST_USER
Host hop2
  HostName 127.0.0.1
  Port $SFTPMNT_TEST_PORT
  UserKnownHostsFile \$HOP2_KH
Host *
  IdentityFile $SFTPMNT_TEST_KEY
  UserKnownHostsFile $kh
EOC
sed "s|\$HOP2_KH|$kh|" "$work/config3" >"$work/config4"
l0=$(logins)
if "$bin" -F "$work/config4" "target:$srv" "$mnt" && cmp -s "$mnt/r" "$srv/r" &&
	[ $(($(logins) - l0)) = 3 ]; then
	ok "ssh_config ProxyJump hop1,hop2 with Host blocks for each hop"
else
	fail "ssh_config with two hops"
fi
grep -q " $mnt " /proc/mounts && fusermount3 -u "$mnt"
: >"$work/kh_empty"
sed "s|\$HOP2_KH|$work/kh_empty|" "$work/config3" >"$work/config5"
out=$("$bin" -F "$work/config5" "target:$srv" "$mnt" 2>&1)
[ $? = 1 ] && echo "$out" | grep -q "ProxyJump hop 2 of 2 ($SFTPMNT_TEST_USER@127.0.0.1:$SFTPMNT_TEST_PORT): the host key of" &&
	! grep -q " $mnt " /proc/mounts && ok "unknown host key of hop 2 (its Host block's known_hosts): $out" ||
	{ fail "hop 2's host key: $out"; grep -q " $mnt " /proc/mounts && fusermount3 -u "$mnt"; }

# refusals naming the hop
refuse "first of two hops unreachable" "ProxyJump hop 1 of 2 (root@127.0.0.1:1): cannot connect" \
	"ProxyJump=root@127.0.0.1:1\\,$hop2"
refuse "second hop cannot be reached from the first" \
	"ProxyJump hop 1 of 2 ($hop1): cannot reach 127.0.0.1 port 1:" "ProxyJump=$hop1\\,127.0.0.1:1"
out=$("$bin" "$SFTPMNT_TEST_USER@127.0.0.1:$srv" "$mnt" -o \
	"port=1,IdentityFile=$SFTPMNT_TEST_KEY,UserKnownHostsFile=$kh,ProxyJump=$hop1\\,$hop2" 2>&1)
[ $? = 1 ] && echo "$out" | grep -q "ProxyJump hop 2 of 2 ($hop2): cannot reach 127.0.0.1 port 1:" &&
	ok "target the last hop cannot reach: $out" ||
	{ fail "target unreachable from hop 2: $out"; grep -q " $mnt " /proc/mounts && fusermount3 -u "$mnt"; }
# usage errors: exit 2
usage_err() {
	local what=$1 want=$2 out rc
	shift 2
	out=$("$bin" "$@" 2>&1)
	rc=$?
	[ $rc = 2 ] && echo "$out" | grep -qF -- "$want" && ok "$what: $out" || fail "$what: rc=$rc $out"
}
printf 'Host loopa\n  ProxyJump loopb\nHost loopb\n  ProxyJump loopa\n' >"$work/config6"
usage_err "a ProxyJump loop in ssh_config" "more than 8 jump hosts" -F "$work/config6" "loopa:" "$mnt"
usage_err "nine hops" "more than 8 jump hosts" "$src" "$mnt" -o 'ProxyJump=h1\,h2\,h3\,h4\,h5\,h6\,h7\,h8\,h9'
usage_err "an empty hop" "an empty hop" "$src" "$mnt" -o 'ProxyJump=h1\,\,h2'
usage_err "an unescaped comma" 'a comma inside ProxyJump= is written \,' "$src" "$mnt" -o "ProxyJump=$hop1,$hop2"

finish
