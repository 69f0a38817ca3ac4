#!/bin/bash
# Connection loss under a mount (through tests/tools/delayproxy, which can
# cut, stall and refuse on command): a large write and a large read that
# lose their connection twice finish byte-exact; a stalled server makes
# calls fail after op_timeout instead of hanging; the mount works again
# once the server is back.
set -uo pipefail
: "${SFTPMNT_TEST_ROOT:?run through make check}"
[ -c /dev/fuse ] || { echo "SKIP: no /dev/fuse"; exit 77; }
command -v fusermount3 >/dev/null || { echo "SKIP: no fusermount3 (install fuse3)"; exit 77; }
command -v python3 >/dev/null || { echo "SKIP: no python3"; exit 77; }

bin=${SFTPMNT_BIN:?}
proxy=${DELAYPROXY:?}
work=$(mktemp -d)
mnt=$work/mnt
srv=$SFTPMNT_TEST_ROOT/rc
mkdir -p "$mnt" "$srv"
cleanup() {
	fusermount3 -uz "$mnt" 2>/dev/null
	[ -f "$work/proxy.pid" ] && kill "$(cat "$work/proxy.pid")" 2>/dev/null
	rm -rf "$work"
}
trap cleanup EXIT

"$proxy" -t "127.0.0.1:$SFTPMNT_TEST_PORT" -d 2 -p "$work/port" -c "$work/ctl" -q &
echo $! >"$work/proxy.pid"
for _ in $(seq 1 600); do [ -s "$work/port" ] && break; sleep 0.05; done
port=$(cat "$work/port")
sed "s/\[127.0.0.1\]:$SFTPMNT_TEST_PORT/[127.0.0.1]:$port/" "$SFTPMNT_TEST_KNOWN_HOSTS" >"$work/kh"
head -c 100000000 /dev/urandom >"$srv/big"

"$bin" "$SFTPMNT_TEST_USER@127.0.0.1:$srv" "$mnt" \
	-o "port=$port,IdentityFile=$SFTPMNT_TEST_KEY,UserKnownHostsFile=$work/kh,ServerAliveInterval=1,ServerAliveCountMax=2,op_timeout=6,cache_timeout=1" ||
	{ echo "FAIL: mount"; exit 1; }

MNT=$mnt SRV=$srv CTL=$work/ctl python3 - <<'PY'
import hashlib, os, socket, sys, time
mnt, srv, ctlpath = os.environ['MNT'], os.environ['SRV'], os.environ['CTL']
fails = 0
def ctl(cmd):
    s = socket.socket(socket.AF_UNIX); s.connect(ctlpath)
    s.sendall((cmd + '\n').encode()); r = s.recv(200).decode(); s.close()
    assert r.startswith('ok'), r
def check(ok, what):
    global fails
    print(('ok: ' if ok else 'FAIL: ') + what); sys.stdout.flush()
    if not ok: fails += 1

data = os.urandom(48 << 20)
with open(mnt + '/w', 'wb') as f:
    for i in range(48):
        f.write(data[i << 20:(i + 1) << 20])
        if i in (10, 30): ctl('cut')
check(open(srv + '/w', 'rb').read() == data, 'write of 48 MiB with 2 link cuts is byte-exact on the server')

# a writer that outruns a slow link: beyond the write-behind cap writes
# wait for their acknowledgement; a cut then loses some of those too, and
# their replays must count once (close would wait forever otherwise)
import signal as _sig, threading
ctl('rate 8000000')
data2 = os.urandom(48 << 20)
_sig.alarm(120)
# the cut comes from another thread while write() waits for the link
cutter = threading.Timer(2.5, ctl, ['cut']); cutter.start()
with open(mnt + '/w2', 'wb') as f:
    for i in range(48):
        f.write(data2[i << 20:(i + 1) << 20])
    ctl('rate 0')
cutter.join()
_sig.alarm(0)
check(open(srv + '/w2', 'rb').read() == data2, 'write beyond the write-behind cap on a slow link, cut: byte-exact, close returns')
os.unlink(mnt + '/w2')

h = hashlib.sha256(); n = 0
with open(mnt + '/big', 'rb') as f:
    while True:
        b = f.read(1 << 20)
        if not b: break
        h.update(b); n += 1
        if n in (20, 60): ctl('cut')
want = hashlib.sha256(open(srv + '/big', 'rb').read()).hexdigest()
check(h.hexdigest() == want, 'read of 100 MB with 2 link cuts is byte-exact')

# a listing of many READDIR batches, read ahead of the kernel: complete,
# and complete again when the link is cut in the middle of it
os.mkdir(srv + '/many')
names = ['n%05d-%s' % (i, 'x' * (i % 40)) for i in range(3000)]
for n in names:
    open(srv + '/many/' + n, 'w').close()
time.sleep(1.2) # made behind the mount's back: past cache_timeout
got = sorted(os.listdir(mnt + '/many'))
check(got == sorted(names), 'a listing of 3000 entries is complete (%d)' % len(got))
with os.scandir(mnt + '/many') as it:
    seen = [next(it).name for _ in range(700)]
    ctl('cut')
    seen += [e.name for e in it]
check(sorted(seen) == sorted(names),
      'a listing cut after 700 entries resumes: %d entries, %d distinct' % (len(seen), len(set(seen))))

fd = os.open(mnt + '/big', os.O_RDONLY)
ctl('cut')
check(os.pread(fd, 100, 5000) == open(srv + '/big', 'rb').read()[5000:5100],
      'a file opened before a cut reads after the reconnect')
os.close(fd)

ctl('stall')
t0 = time.time()
try:
    os.listdir(mnt); err = None
except OSError as e:
    err = e.errno
took = time.time() - t0
check(err is not None and took < 40, 'a stalled server: the call fails (errno %s) after %.1fs, no hang' % (err, took))
ctl('resume')
ctl('cut')
t0 = time.time()
ok = False
while time.time() - t0 < 30:
    try:
        ok = sorted(os.listdir(mnt)) == ['big', 'many', 'w']; break
    except OSError:
        time.sleep(0.5)
check(ok, 'the mount works again after the server is back (%.1fs)' % (time.time() - t0))
# a server that stops answering while the link stays up (sftp-server
# stopped): calls fail with ETIMEDOUT after op_timeout, and once it runs
# again the mount works and the data is intact
import signal, subprocess
pids = subprocess.run([os.environ['SFTPMNT_FIXTURE'], 'pids', os.environ['SFTPMNT_FIXTURE_DIR']],
                      capture_output=True, text=True).stdout.split()
def cmdline(p):
    try: return open('/proc/%s/cmdline' % p, 'rb').read()
    except OSError: return b'' # gone meanwhile
sftpd = [int(p) for p in pids if b'sftp-server' in cmdline(p)]
# (the mount's extra channels for striped writes have sftp-servers too:
# all of them stop)
if not sftpd:
    check(False, 'an sftp-server to stop (found none)')
else:
    for p in sftpd: os.kill(p, signal.SIGSTOP)
    t0 = time.time()
    try:
        open(mnt + '/w', 'rb').read(4096); err = None
    except OSError as e:
        err = e.errno
    took = time.time() - t0
    for p in sftpd: os.kill(p, signal.SIGCONT)
    check(err == 110 and took < 30, 'a stopped sftp-server: ETIMEDOUT after %.1fs (errno %s)' % (took, err))
    time.sleep(1)
    check(open(mnt + '/w', 'rb').read() == data, 'after it runs again the file reads back intact')
sys.exit(1 if fails else 0)
PY
rc=$?
fusermount3 -u "$mnt" || { echo "FAIL: unmount"; rc=1; }
exit $rc
