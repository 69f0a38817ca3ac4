#!/bin/bash
# The test bed itself: the sshd fixture started by tests/run-test serves
# OpenSSH's own client, lives in its own mount and PID namespaces (as
# root), restarts on the same port with other options, and leaves nothing
# running when stopped.
set -euo pipefail
: "${SFTPMNT_FIXTURE_DIR:?run through make check}"
fx=$SFTPMNT_FIXTURE
dir=$SFTPMNT_FIXTURE_DIR
fail() { echo "FAIL: $*"; exit 1; }

out=$("$fx" ssh "$dir" 'echo fixture-ok') || fail "ssh to the fixture"
[ "$out" = fixture-ok ] || fail "unexpected output: $out"
echo "ok: OpenSSH client logs in with the test key"

# The served directory is reachable through sftp.
echo data >"$SFTPMNT_TEST_ROOT/f"
sftp -q -F "$dir/ssh_config" -b - fixture <<<"get $SFTPMNT_TEST_ROOT/f $dir/f.got" ||
	fail "sftp get"
[ "$(cat "$dir/f.got")" = data ] || fail "sftp get returned '$(cat "$dir/f.got")'"
echo "ok: sftp subsystem"

if [ "$(id -u)" = 0 ]; then
	pids=$("$fx" pids "$dir")
	sshd_pid=$(echo "$pids" | sed -n 2p)
	[ -n "$sshd_pid" ] || fail "no sshd process under the fixture"
	[ "$(readlink /proc/$sshd_pid/ns/mnt)" != "$(readlink /proc/self/ns/mnt)" ] ||
		fail "sshd shares our mount namespace"
	[ "$(readlink /proc/$sshd_pid/ns/pid_for_children)" != "$(readlink /proc/self/ns/pid)" ] ||
		fail "sshd shares our PID namespace"
	echo "ok: sshd runs in private mount and PID namespaces"
fi

port=$SFTPMNT_TEST_PORT
"$fx" restart "$dir" Ciphers=aes128-ctr
[ "$(cat "$dir/port")" = "$port" ] || fail "restart changed the port"
if ssh -F "$dir/ssh_config" -c aes256-ctr fixture true 2>/dev/null; then
	fail "restarted sshd accepted a cipher it was told to refuse"
fi
ssh -F "$dir/ssh_config" -c aes128-ctr fixture true || fail "aes128-ctr refused"
echo "ok: restart with options on the same port"

# A second fixture with a session left open: stop must kill everything.
d2=$(mktemp -d)
trap '"$fx" stop "$d2" >/dev/null 2>&1; rm -rf "$d2"' EXIT
"$fx" start "$d2"
p2=$(cat "$d2/port")
ssh -F "$d2/ssh_config" fixture "sleep 300" </dev/null >"$d2/client.log" 2>&1 &
client=$!
# Wait for the session's command itself: counting processes raced (the
# login's pre-authentication child counts as one while it lives, and was
# gone by the time the list below was taken).  Up to 60 s: CI's make
# check -j2 runs this next to busy tests.
has_sleep() {
	local p
	for p in $("$fx" pids "$d2"); do
		[ "$(tr '\0' ' ' 2>/dev/null <"/proc/$p/cmdline")" = "sleep 300 " ] && return 0
	done
	return 1
}
for _ in $(seq 1 1200); do
	has_sleep && break
	sleep 0.05
done
all=$("$fx" pids "$d2")
if [ "$(echo "$all" | wc -l)" -lt 4 ]; then
	for p in $all; do echo "  $p: $(tr '\0' ' ' 2>/dev/null <"/proc/$p/cmdline")"; done
	ps -eo pid,ppid,stat,etime,args --forest | grep -A8 -w "$(echo "$all" | head -1)" | head -20
	echo "---- its sshd log"; tail -20 "$d2/sshd.log"
	fail "session processes not seen: $all; client ($(kill -0 $client 2>/dev/null && echo running || echo ended)): $(cat "$d2/client.log")"
fi
"$fx" stop "$d2"
for p in $all; do
	st=$(awk '{print $3}' /proc/"$p"/stat 2>/dev/null) || st=
	# a zombie is not running (PID 1 of a container may never reap it)
	if [ -n "$st" ] && [ "$st" != Z ]; then
		fail "process $p ($(cat /proc/$p/cmdline | tr '\0' ' ')) survived stop"
	fi
done
if (exec 3<>"/dev/tcp/127.0.0.1/$p2") 2>/dev/null; then
	fail "port $p2 still accepts connections after stop"
fi
wait "$client" 2>/dev/null || true
echo "ok: stop leaves no process and no listener ($(echo "$all" | wc -l) processes ended)"
