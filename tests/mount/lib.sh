# tests/mount/lib.sh - sourced by the mount tests (not a test itself).
#
# Skips (exit 77) when FUSE is not usable, makes a scratch directory with
# a mount point, mounts a directory of the fixture's sshd with
# `mount_sftp SERVERDIR [-o OPT,...]`, unmounts in the EXIT trap (also when
# the test fails or is interrupted), and gives ok/fail/known_bad/finish.
# Every test in tests/mount/ is started by tests/run-test, which provides
# SFTPMNT_TEST_{HOST,PORT,USER,KEY,KNOWN_HOSTS,ROOT} and SFTPMNT_BIN.

: "${SFTPMNT_TEST_ROOT:?run through make check}"
[ -c /dev/fuse ] || { echo "SKIP: no /dev/fuse"; exit 77; }
command -v fusermount3 >/dev/null ||
	{ echo "SKIP: no fusermount3 (install fuse3)"; exit 77; }

bin=${SFTPMNT_BIN:?}
# shellcheck disable=SC2034 # used by the tests that source this
here=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d "${TMPDIR:-/tmp}/sftpmnt-mt.XXXXXX")
mnt=$work/mnt
mkdir -p "$mnt"
fails=0
daemon=        # the pid of our sftpmnt, once mounted

mt_cleanup() {
	fusermount3 -uz "$mnt" 2>/dev/null
	[ -n "${proxy_pid:-}" ] && kill "$proxy_pid" 2>/dev/null
	# a daemon that does not exit after the unmount is ours to stop
	if [ -n "$daemon" ]; then
		for _ in $(seq 1 50); do
			kill -0 "$daemon" 2>/dev/null || break
			sleep 0.1
		done
		kill "$daemon" 2>/dev/null
	fi
	# never let rm wander into a mount that is still there
	grep -q " $mnt " /proc/mounts || rm -rf "$work"
}
trap mt_cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

fail() { echo "FAIL: $*"; fails=$((fails + 1)); }
ok() { echo "ok: $*"; }
# A check that is known to fail and would block what follows; it is
# reported, not counted.  Each use names the discrepancy it stands for.
known_bad() { echo "known-bad: $*"; }

# mount_sftp SERVERDIR [extra sftpmnt arguments]
mount_sftp() {
	local dir=$1
	shift
	"$bin" "$SFTPMNT_TEST_USER@$SFTPMNT_TEST_HOST:$dir" "$mnt" -o \
		"port=$SFTPMNT_TEST_PORT,IdentityFile=$SFTPMNT_TEST_KEY,UserKnownHostsFile=$SFTPMNT_TEST_KNOWN_HOSTS" \
		"$@" || return 1
	grep -q " $mnt fuse.sftpmnt " /proc/mounts || return 1
	local p
	for p in $(pgrep -f -- "$mnt"); do
		case $(cat "/proc/$p/comm" 2>/dev/null) in sftpmnt | memcheck-*) daemon=$p ;; esac
	done
	export SFTPMNT_DAEMON_PID=$daemon
	return 0
}

# run_guarded SECONDS COMMAND...: run COMMAND; if it is still running
# after SECONDS it is stuck in the mount (a request the daemon never
# answers keeps a thread in the kernel, beyond the reach of any signal):
# fail, show the kernel stacks, and kill the daemon, which aborts the FUSE
# connection and lets COMMAND end.  Returns COMMAND's status.
run_guarded() {
	local secs=$1 pid i=0 t
	shift
	"$@" &
	pid=$!
	while kill -0 "$pid" 2>/dev/null; do
		sleep 0.5
		i=$((i + 1))
		[ "$i" -lt $((secs * 2)) ] && continue
		fail "$* still running after $secs s; killing sftpmnt ($daemon)"
		for t in $(pgrep -P "$pid") $pid; do
			for s in "/proc/$t/task/"*; do
				[ "$(cut -d' ' -f3 "$s/stat" 2>/dev/null)" = D ] || continue
				echo "  ${s#/proc/} in D state: $(cut -d' ' -f2 "$s/stack" | head -6 | tr '\n' ' ')"
			done
		done
		[ -n "$daemon" ] && kill "$daemon"
		break
	done
	wait "$pid"
}

# proxy_start ONE_WAY_MS [delayproxy options]: a delay proxy in front of the
# fixture's sshd (stopped in the EXIT trap), its control socket at
# $work/ctl; sets proxy_opts, the sftpmnt options (port and a known_hosts
# for it) to give mount_sftp after -o.
proxy_pid=
proxy_start() {
	local d=$1
	shift
	rm -f "$work/proxy.port" # (a stopped proxy's, from an earlier start)
	"${DELAYPROXY:?}" -t "127.0.0.1:$SFTPMNT_TEST_PORT" -d "$d" \
		-p "$work/proxy.port" -c "$work/ctl" -q "$@" &
	proxy_pid=$!
	# (slow to start under the sanitizers on a loaded machine)
	for _ in $(seq 1 600); do [ -s "$work/proxy.port" ] && break; sleep 0.05; done
	local port
	port=$(cat "$work/proxy.port" 2>/dev/null)
	[ -n "$port" ] || { echo "FAIL: the delay proxy did not start in 30 s"; exit 1; }
	sed "s/\[127.0.0.1\]:$SFTPMNT_TEST_PORT/[127.0.0.1]:$port/" \
		"$SFTPMNT_TEST_KNOWN_HOSTS" >"$work/proxy.kh"
	proxy_opts="port=$port,UserKnownHostsFile=$work/proxy.kh"
}
proxy_stop() {
	[ -n "$proxy_pid" ] && kill "$proxy_pid" 2>/dev/null
	proxy_pid=
}

# unmount and wait until the kernel has let go of the mount point
unmount_sftp() {
	fusermount3 -u "$mnt" || return 1
	for _ in $(seq 1 50); do
		grep -q " $mnt " /proc/mounts || return 0
		sleep 0.1
	done
	return 1
}

finish() {
	[ "$fails" = 0 ] || { echo "$fails failures"; exit 1; }
	exit 0
}
