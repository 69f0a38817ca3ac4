#!/bin/bash
# Faults around a lost connection (through delayproxy): a file removed
# or replaced on the server while the link was down gives ESTALE on the
# descriptor that had it open, never the other file's data; a file
# modified by nobody reads on; SIGTERM and a lazy unmount end the daemon
# promptly even while the server does not answer and a reader waits,
# and the waiting reader gets an error instead of hanging.
set -uo pipefail
. "$(dirname "$0")/lib.sh"
proxy=${DELAYPROXY:?}
py=/usr/bin/python3
[ -x $py ] || py=python3

srv=$SFTPMNT_TEST_ROOT/fault
mkdir -p "$srv"
"$proxy" -t "127.0.0.1:$SFTPMNT_TEST_PORT" -p "$work/pport" -c "$work/ctl" -q &
pxpid=$!
trap 'kill $pxpid 2>/dev/null; mt_cleanup' EXIT
for _ in $(seq 1 300); do [ -s "$work/pport" ] && break; sleep 0.1; done
pport=$(cat "$work/pport")
sed "s/\]:$SFTPMNT_TEST_PORT /]:$pport /" "$SFTPMNT_TEST_KNOWN_HOSTS" >"$work/kh"
opts="port=$pport,IdentityFile=$SFTPMNT_TEST_KEY,UserKnownHostsFile=$work/kh,ServerAliveInterval=1,ServerAliveCountMax=2,op_timeout=8"
ctl() { $py -c 'import socket,sys; s=socket.socket(socket.AF_UNIX); s.connect(sys.argv[1]); s.sendall((sys.argv[2]+"\n").encode()); print(s.recv(200).decode().strip())' "$work/ctl" "$1"; }
mounted() { grep -q " $mnt fuse.sftpmnt " /proc/mounts; }
do_mount() {
	"$bin" "$SFTPMNT_TEST_USER@127.0.0.1:$srv" "$mnt" -o "$opts" || return 1
	daemon=$(pgrep -f -- "$mnt" | head -n1)
}

for f in kept removed replaced; do head -c 300000 /dev/urandom >"$srv/$f"; done
head -c 300000 /dev/urandom >"$work/other"
do_mount || { echo "FAIL: mount"; exit 1; }

# 1. descriptors open across a disconnect during which the server's
# files change: removed -> ESTALE, replaced -> ESTALE, untouched -> reads
MNT=$mnt SRV=$srv CTL=$work/ctl OTHER=$work/other $py - <<'PY'
import errno, os, shutil, socket, sys, time
mnt, srv, ctlp = os.environ["MNT"], os.environ["SRV"], os.environ["CTL"]
fails = 0
def ctl(c):
    s = socket.socket(socket.AF_UNIX); s.connect(ctlp); s.sendall((c + "\n").encode()); s.recv(200); s.close()
def check(ok, what):
    global fails
    print(("ok: " if ok else "FAIL: ") + what, flush=True)
    fails += not ok
fds = {n: os.open(mnt + "/" + n, os.O_RDONLY) for n in ("kept", "removed", "replaced")}
for fd in fds.values():
    os.pread(fd, 4096, 0)
ctl("refuse on"); ctl("cut")   # the link is down until "refuse off"
time.sleep(0.5)
os.unlink(srv + "/removed")
time.sleep(1.1)                 # (a later mtime than the original)
shutil.copy(os.environ["OTHER"], srv + "/replaced.new")
os.rename(srv + "/replaced.new", srv + "/replaced")
ctl("refuse off")
want = open(srv + "/kept", "rb").read()
try:
    got = os.pread(fds["kept"], 300000, 0)
    check(got == want, "an untouched file reads on after the reconnect")
except OSError as e:
    check(False, "untouched file: %s" % e)
for n in ("removed", "replaced"):
    try:
        got = os.pread(fds[n], 300000, 0)
        other = open(os.environ["OTHER"], "rb").read()
        check(False, "%s while disconnected: read %d bytes%s" % (
            n, len(got), " OF THE OTHER FILE" if got == other else ""))
    except OSError as e:
        check(e.errno == errno.ESTALE, "%s while disconnected: %s" % (n, errno.errorcode.get(e.errno)))
for fd in fds.values():
    try:
        os.close(fd)
    except OSError:
        pass
sys.exit(1 if fails else 0)
PY
[ $? = 0 ] || fails=$((fails + 1))

# 2. SIGTERM while the server does not answer and a reader waits
head -c 3000000 /dev/urandom >"$srv/big"
echo 3 >/proc/sys/vm/drop_caches 2>/dev/null
ctl stall >/dev/null
( cat "$mnt/big" >/dev/null 2>"$work/cat.err"; echo "rc=$?" >"$work/cat.rc" ) &
catpid=$!
sleep 1
t0=$(date +%s%N)
kill -TERM "$daemon"
for _ in $(seq 1 100); do kill -0 "$daemon" 2>/dev/null || break; sleep 0.1; done
t1=$(date +%s%N)
if kill -0 "$daemon" 2>/dev/null; then
	fail "SIGTERM: the daemon still runs after 10 s"
	kill -KILL "$daemon"
else
	ok "SIGTERM with a stalled server: the daemon ended in $(((t1 - t0) / 1000000)) ms"
fi
for _ in $(seq 1 300); do [ -s "$work/cat.rc" ] && break; sleep 0.1; done
[ -s "$work/cat.rc" ] && ok "the waiting reader got an error: $(cat "$work/cat.rc") $(head -c 80 "$work/cat.err")" ||
	{ fail "the reader still waits"; kill "$catpid" 2>/dev/null; }
mounted && { fusermount3 -uz "$mnt"; ok "(lazy unmount of what SIGTERM left)"; }
ctl resume >/dev/null

# 3. a lazy unmount while the server does not answer
do_mount || fail "mount again"
ctl stall >/dev/null
( cat "$mnt/big" >/dev/null 2>/dev/null; echo "rc=$?" >"$work/cat2.rc" ) &
sleep 1
t0=$(date +%s%N)
fusermount3 -uz "$mnt"
# the reader holds the file: the kernel keeps the connection until it
# lets go (its read fails after op_timeout), then the daemon ends
for _ in $(seq 1 250); do kill -0 "$daemon" 2>/dev/null || break; sleep 0.1; done
t1=$(date +%s%N)
if kill -0 "$daemon" 2>/dev/null; then
	fail "fusermount3 -uz: the daemon still runs after 25 s"
	kill -KILL "$daemon"
else
	ok "fusermount3 -uz with a stalled server: the daemon ended after $(((t1 - t0) / 1000000)) ms (op_timeout=8)"
fi
for _ in $(seq 1 50); do [ -s "$work/cat2.rc" ] && break; sleep 0.1; done
[ -s "$work/cat2.rc" ] && ok "the reader ended: $(cat "$work/cat2.rc")" || fail "the reader still waits"
ctl resume >/dev/null
daemon=
finish
