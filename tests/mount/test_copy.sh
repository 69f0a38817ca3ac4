#!/bin/bash
# copy_file_range(2) inside the mount is a server-side copy (copy-data):
# cp of 64 MiB sends almost nothing over the link (the delay proxy's byte
# counters), the copy is byte-exact, offsets and lengths are honoured, a
# source shorter than asked copies what there is, and where the server
# cannot copy (an O_APPEND destination) the kernel's fallback still
# copies right.
set -uo pipefail
: "${SFTPMNT_TEST_ROOT:?run through make check}"
[ -c /dev/fuse ] || { echo "SKIP: no /dev/fuse"; exit 77; }
command -v fusermount3 >/dev/null || { echo "SKIP: no fusermount3 (install fuse3)"; exit 77; }
command -v python3 >/dev/null || { echo "SKIP: no python3"; exit 77; }

bin=${SFTPMNT_BIN:?}
proxy=${DELAYPROXY:?}
work=$(mktemp -d)
mnt=$work/mnt
srv=$SFTPMNT_TEST_ROOT/cp
mkdir -p "$mnt" "$srv"
cleanup() {
	fusermount3 -uz "$mnt" 2>/dev/null
	[ -f "$work/proxy.pid" ] && kill "$(cat "$work/proxy.pid")" 2>/dev/null
	rm -rf "$work"
}
trap cleanup EXIT

"$proxy" -t "127.0.0.1:$SFTPMNT_TEST_PORT" -d 1 -p "$work/port" -c "$work/ctl" -q &
echo $! >"$work/proxy.pid"
for _ in $(seq 1 600); do [ -s "$work/port" ] && break; sleep 0.05; done
port=$(cat "$work/port")
sed "s/\[127.0.0.1\]:$SFTPMNT_TEST_PORT/[127.0.0.1]:$port/" "$SFTPMNT_TEST_KNOWN_HOSTS" >"$work/kh"

head -c 67108864 /dev/urandom >"$srv/big"

"$bin" "$SFTPMNT_TEST_USER@127.0.0.1:$srv" "$mnt" \
	-o "port=$port,IdentityFile=$SFTPMNT_TEST_KEY,UserKnownHostsFile=$work/kh,ServerAliveInterval=0" ||
	{ echo "FAIL: mount"; exit 1; }

MNT=$mnt SRV=$srv CTL=$work/ctl python3 - <<'PY'
import os, socket, subprocess, sys
mnt, srv, ctlpath = os.environ['MNT'], os.environ['SRV'], os.environ['CTL']
fails = 0
def ctl(cmd):
    s = socket.socket(socket.AF_UNIX); s.connect(ctlpath)
    s.sendall((cmd + '\n').encode()); r = s.recv(200).decode(); s.close()
    assert r.startswith('ok'), r
    return r
def moved():
    r = ctl('stats')
    return int(r.split('c2s=')[1].split()[0]) + int(r.split('s2c=')[1].split()[0])
def check(ok, what):
    global fails
    print(('ok: ' if ok else 'FAIL: ') + what); sys.stdout.flush()
    if not ok: fails += 1
big = open(srv + '/big', 'rb').read()

before = moved()
r = subprocess.run(['cp', mnt + '/big', mnt + '/copy'])
n = moved() - before
check(r.returncode == 0 and open(srv + '/copy', 'rb').read() == big, 'cp of 64 MiB inside the mount is byte-exact')
check(n < 1 << 20, 'and moved %d bytes over the link (a copy through the client: 128 MiB)' % n)
check(os.stat(mnt + '/copy').st_size == len(big), 'the copy has the size at once')

src = os.open(mnt + '/big', os.O_RDONLY)
dst = os.open(mnt + '/part', os.O_RDWR | os.O_CREAT, 0o644)
os.write(dst, b'#' * 100)
k = os.copy_file_range(src, dst, 5000, 1000, 50)
os.fsync(dst)
want = b'#' * 50 + big[1000:6000]
check(k == 5000 and open(srv + '/part', 'rb').read() == want, 'copy_file_range with offsets: %d bytes, right place' % k)
check(os.pread(dst, 6000, 0) == want, 'and read back through the destination fd')
k = os.copy_file_range(src, dst, 1 << 20, len(big) - 10, 0)
check(k == 10 and open(srv + '/part', 'rb').read(10) == big[-10:], 'a source shorter than asked: %d bytes copied' % k)
k = os.copy_file_range(src, dst, 100, len(big) + 5, 0)
check(k == 0, 'from past the end of the source: %d' % k)
os.close(dst)
# an O_APPEND destination: as on a local file system (the kernel says
# EBADF before asking the file system)
def append_copy(d, s_fd):
    fd = os.open(d, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
    try:
        return os.copy_file_range(s_fd, fd, 3000)
    except OSError as e:
        return 'E%d' % e.errno
    finally:
        os.close(fd)
lsrc = os.open(srv + '/big', os.O_RDONLY)
local = append_copy(srv + '/app-local', lsrc)
os.close(lsrc)
got = append_copy(mnt + '/app', src)
check(got == local, 'to an O_APPEND file: %s (local file system: %s)' % (got, local))
os.close(src)

sys.exit(1 if fails else 0)
PY
rc=$?
fusermount3 -u "$mnt" || { echo "FAIL: unmount"; rc=1; }
exit $rc
