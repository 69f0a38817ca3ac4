#!/bin/bash
# Large writes striped over several SFTP channels (fs/stripe.c), through a
# 10 ms RTT delay proxy: the extra channels open (more sftp-server
# processes), and while a 64 MiB file is being written and rewritten the
# file reads back exactly through another descriptor, stat never shows
# less than was written, a truncate and a write past a hole land right,
# and the server has the exact bytes in the end.  write_channels=1 keeps
# one channel; the default is 10.
set -uo pipefail
: "${SFTPMNT_TEST_ROOT:?run through make check}"
[ -c /dev/fuse ] || { echo "SKIP: no /dev/fuse"; exit 77; }
command -v fusermount3 >/dev/null || { echo "SKIP: no fusermount3 (install fuse3)"; exit 77; }
command -v python3 >/dev/null || { echo "SKIP: no python3"; exit 77; }

bin=${SFTPMNT_BIN:?}
proxy=${DELAYPROXY:?}
work=$(mktemp -d)
mnt=$work/mnt
srv=$SFTPMNT_TEST_ROOT/st
mkdir -p "$mnt" "$srv"
cleanup() {
	fusermount3 -uz "$mnt" 2>/dev/null
	[ -f "$work/proxy.pid" ] && kill "$(cat "$work/proxy.pid")" 2>/dev/null
	rm -rf "$work"
}
trap cleanup EXIT

"$proxy" -t "127.0.0.1:$SFTPMNT_TEST_PORT" -d 5 -p "$work/port" -q &
echo $! >"$work/proxy.pid"
for _ in $(seq 1 600); do [ -s "$work/port" ] && break; sleep 0.05; done
port=$(cat "$work/port")
sed "s/\[127.0.0.1\]:$SFTPMNT_TEST_PORT/[127.0.0.1]:$port/" "$SFTPMNT_TEST_KNOWN_HOSTS" >"$work/kh"
opts="port=$port,IdentityFile=$SFTPMNT_TEST_KEY,UserKnownHostsFile=$work/kh"

run() { # extra-options expected-channels
	"$bin" "$SFTPMNT_TEST_USER@127.0.0.1:$srv" "$mnt" -o "$opts$1" || { echo "FAIL: mount"; return 1; }
	MNT=$mnt SRV=$srv WANT=$2 python3 - <<'PY'
import os, signal, subprocess, sys, threading, time
mnt, srv, want = os.environ['MNT'], os.environ['SRV'], int(os.environ['WANT'])
fails = 0
def check(ok, what):
    global fails
    print(('ok: ' if ok else 'FAIL: ') + what); sys.stdout.flush()
    if not ok: fails += 1
def servers():
    pids = subprocess.run([os.environ['SFTPMNT_FIXTURE'], 'pids', os.environ['SFTPMNT_FIXTURE_DIR']],
                          capture_output=True, text=True).stdout.split()
    n = 0
    for p in pids:
        try: n += b'sftp-server' in open('/proc/%s/cmdline' % p, 'rb').read()
        except OSError: pass
    return n
MiB = 1 << 20
# a first large write opens the extra channels
with open(mnt + '/warmup%d' % want, 'wb') as f:
    for i in range(16):
        f.write(os.urandom(MiB))
for _ in range(100): # the channels open in the background
    n = servers()
    if n >= want: break
    time.sleep(0.1)
check(n == want, 'sftp-server processes after a large write: %d (want %d)' % (n, want))
data = bytearray(os.urandom(64 * MiB))
name = 'f%d' % want
w = os.open(mnt + '/' + name, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
r = os.open(mnt + '/' + name, os.O_RDONLY)
bad_read = bad_size = 0
for i in range(64):
    os.write(w, data[i * MiB:(i + 1) * MiB])
    if i % 8 == 7:
        if os.fstat(r).st_size < (i + 1) * MiB or os.stat(mnt + '/' + name).st_size < (i + 1) * MiB:
            bad_size += 1
        if os.pread(r, MiB, (i - 3) * MiB) != bytes(data[(i - 3) * MiB:(i - 2) * MiB]):
            bad_read += 1
n = servers()
check(n == want, 'sftp-server processes while writing: %d (want %d)' % (n, want))
check(bad_size == 0, 'stat during the write never showed less than written (%d bad)' % bad_size)
check(bad_read == 0, 'reads through another fd during the write are exact (%d bad)' % bad_read)
# rewrite a region, read it back at once through the other fd
new = os.urandom(3 * MiB + 12345)
os.pwrite(w, new, 30 * MiB + 77)
data[30 * MiB + 77:30 * MiB + 77 + len(new)] = new
check(os.pread(r, len(new) + 200, 30 * MiB) == bytes(data[30 * MiB:30 * MiB + 200 + len(new)]),
      'a rewritten region reads back at once through another fd')
# truncate, then write past a hole
os.ftruncate(w, 40 * MiB)
del data[40 * MiB:]
tail = os.urandom(5 * MiB)
os.pwrite(w, tail, 50 * MiB)
data += bytes(10 * MiB) + tail
check(os.fstat(r).st_size == 55 * MiB, 'size after a truncate and a write past a hole: %d' % os.fstat(r).st_size)
os.close(w)
os.close(r)
check(open(srv + '/' + name, 'rb').read() == bytes(data), 'the server has the exact bytes')
# what cp -a does after its last write: mode, times, fstat at once.  The
# writes were answered as they were copied (before they were sent), and
# past 2 MiB a fresh handle's writes wait for its stripes' channels to
# open (a round trip): whatever comes after them must wait too, or the
# server takes the times first and a write then moves them to now (and
# fstat gives the kernel a size from before the writes)
for k in range(3):
    p = 'cpa%d-%d' % (want, k)
    blob = os.urandom(3 * MiB + 4321)
    fd = os.open(mnt + '/' + p, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    os.write(fd, blob)
    os.fchmod(fd, 0o640)
    os.utime(fd, (1500000000, 1500000000))
    st = os.fstat(fd)
    os.close(fd)
    sst = os.stat(srv + '/' + p)
    check(st.st_size == len(blob) and sst.st_size == len(blob) and
          int(sst.st_mtime) == 1500000000 and sst.st_mode & 0o777 == 0o640 and
          open(srv + '/' + p, 'rb').read() == blob,
          'write 3 MiB, chmod, utime, fstat at once: size %d/%d on the server, '
          'mtime %d, mode %o (want %d, 1500000000, 640)'
          % (st.st_size, sst.st_size, sst.st_mtime, sst.st_mode & 0o777, len(blob)))

# a striped file closed, then removed: the server frees its blocks only
# once every handle of it is closed, the extra channels' ones too, so
# the unlink waits for their CLOSEs (here held up by stopped
# sftp-servers for a second): when rm returns, no sftp-server holds the
# file open any more.  (Free space on the server's file system would say
# the same, but other tests write there at the same time.)
if want > 1:
    pids = []
    for p in subprocess.run([os.environ['SFTPMNT_FIXTURE'], 'pids', os.environ['SFTPMNT_FIXTURE_DIR']],
                            capture_output=True, text=True).stdout.split():
        try:
            if b'sftp-server' in open('/proc/%s/cmdline' % p, 'rb').read():
                pids.append(int(p))
        except OSError:
            pass
    extras = sorted(pids)[1:] # (the main channel's started first)
    def holders():
        n = 0
        for x in pids:
            try:
                fds = os.listdir('/proc/%d/fd' % x)
            except OSError:
                continue
            for f in fds:
                try:
                    if os.readlink('/proc/%d/fd/%s' % (x, f)).startswith(srv + '/gone'):
                        n += 1
                except OSError:
                    pass
        return n
    fd = os.open(mnt + '/gone', os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    for i in range(8):
        os.write(fd, os.urandom(MiB))
    os.fsync(fd)
    open_before = holders()
    for x in extras:
        os.kill(x, signal.SIGSTOP)
    try:
        os.close(fd)
        time.sleep(0.3) # (the kernel's RELEASE reaches the daemon)
        threading.Timer(1.0, lambda: [os.kill(x, signal.SIGCONT) for x in extras]).start()
        t0 = time.time()
        os.unlink(mnt + '/gone')
        took = time.time() - t0
        open_after = holders()
    finally:
        time.sleep(1.2)
        for x in extras:
            os.kill(x, signal.SIGCONT)
    check(len(extras) >= 1 and open_before > 1 and open_after == 0,
          'unlink of a striped file just closed (%d extra sftp-servers stopped for 1 s): '
          'held open by %d server handles before, %d when it returned after %.2f s'
          % (len(extras), open_before, open_after, took))
sys.exit(1 if fails else 0)
PY
	local rc=$?
	fusermount3 -u "$mnt" || { echo "FAIL: unmount"; rc=1; }
	return $rc
}
rc=0
run ",write_channels=1" 1 || rc=1
# (the first mount's sftp-server must be gone before counting again)
sftp_servers() {
	local p n=0
	for p in $("$SFTPMNT_FIXTURE" pids "$SFTPMNT_FIXTURE_DIR"); do
		grep -qa sftp-server "/proc/$p/cmdline" 2>/dev/null && n=$((n + 1))
	done
	echo $n
}
for _ in $(seq 1 100); do
	[ "$(sftp_servers)" = 0 ] && break
	sleep 0.1
done
run "" 10 || rc=1
exit $rc
