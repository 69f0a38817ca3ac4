#!/bin/bash
# Small files fetched ahead (fs/prefetch.c): once a program opens a
# second file of a listed directory, the directory's other small files
# are fetched in the background and opens of them answered from that.
# What a program reads must always be what the server has after every
# change made through the mount (write, truncate, append, rename,
# unlink), at any offset, and what was fetched must be dropped when a
# change makes it old.
set -uo pipefail
. "$(dirname "$0")/lib.sh"
command -v python3 >/dev/null || { echo "SKIP: no python3"; exit 77; }

srv=$SFTPMNT_TEST_ROOT/pf
mkdir -p "$srv/d" "$srv/e" "$srv/h"
python3 - "$srv" <<'PY'
import os, sys
srv = sys.argv[1]
for i in range(40):
    with open('%s/d/f%d' % (srv, i), 'wb') as f:
        f.write(os.urandom(i * 997 % 20000))
with open(srv + '/d/big', 'wb') as f:
    f.write(os.urandom(700 * 1024))
for i in range(10):
    with open('%s/e/g%d' % (srv, i), 'wb') as f:
        f.write(b'g%d ' % i * 100)
    with open('%s/h/h%d' % (srv, i), 'wb') as f:
        f.write(os.urandom(20000))
PY
mount_sftp "$srv" -o cache_timeout=60 || { echo "FAIL: mount"; exit 1; }

MNT=$mnt SRV=$srv python3 - <<'PY'
import os, stat, sys, time
mnt, srv = os.environ['MNT'], os.environ['SRV']
fails = 0
def check(ok, what):
    global fails
    print(('ok: ' if ok else 'FAIL: ') + what); sys.stdout.flush()
    if not ok: fails += 1
def rd(p):
    with open(p, 'rb') as f: return f.read()
def same(rel, what):
    try: m = rd(mnt + '/' + rel)
    except OSError as e: m = 'error %d' % e.errno
    try: s = rd(srv + '/' + rel)
    except OSError as e: s = 'error %d' % e.errno
    check(m == s, '%s: %s reads as on the server (%s bytes)'
          % (what, rel, len(s) if isinstance(s, bytes) else s))

D = mnt + '/d'
names = sorted(os.listdir(D))          # the listing is kept
same('d/f0', 'first file'); same('d/f1', 'second file (starts the fetching)')
time.sleep(0.5)                        # the fetches are in
# changes through the mount after the fetch
with open(D + '/f5', 'wb') as f: f.write(b'new five')
same('d/f5', 'rewritten through the mount')
with open(D + '/f6', 'ab') as f: f.write(b'appended')
same('d/f6', 'appended through the mount')
os.truncate(D + '/f7', 2); same('d/f7', 'truncated through the mount')
os.rename(D + '/f8', D + '/g8'); same('d/g8', 'renamed: the new name')
check(not os.path.exists(D + '/f8'), 'renamed: the old name is gone')
os.unlink(D + '/f9')
try: rd(D + '/f9'); check(False, 'unlinked: still opens')
except FileNotFoundError: check(True, 'unlinked: ENOENT')
fd = os.open(D + '/f10', os.O_WRONLY); os.pwrite(fd, b'XYZ', 1); os.close(fd)
same('d/f10', 'written in the middle through an fd')
# the rest, as a copy would read them
for i in range(11, 40):
    same('d/f%d' % i, 'fetched ahead')
same('d/big', 'a file too big to fetch ahead')
# reads at offsets, past the end, fstat on such a handle
want = rd(srv + '/d/f20')
fd = os.open(D + '/f20', os.O_RDONLY)
check(os.pread(fd, 100, 37) == want[37:137], 'pread at an offset')
check(os.pread(fd, 100, len(want) + 5) == b'', 'pread past the end: nothing')
check(os.fstat(fd).st_size == len(want), 'fstat of the handle: the size')
os.close(fd)
# many at once, as several readers would
fds = [os.open(D + '/f%d' % i, os.O_RDONLY) for i in range(21, 30)]
ok = all(os.read(fd, 1 << 20) == rd('%s/d/f%d' % (srv, i))
         for fd, i in zip(fds, range(21, 30)))
for fd in fds: os.close(fd)
check(ok, '9 files open at once read right')
# open (from the fetch), then written through another fd: the first fd
# reads what was written, like any handle of the mount
H = mnt + '/h'
os.listdir(H); rd(H + '/h0'); rd(H + '/h1')
time.sleep(0.5)
fd = os.open(H + '/h5', os.O_RDONLY)
first = os.read(fd, 10)
wfd = os.open(H + '/h5', os.O_WRONLY)
os.pwrite(wfd, b'W' * 5000, 2000); os.pwrite(wfd, b'tail', 30000); os.close(wfd)
want = rd(srv + '/h/h5')
check(first == want[:10], 'fetched fd: the first read')
check(os.pread(fd, 6000, 1500) == want[1500:7500], 'fetched fd, written through another: '
      'the new bytes')
check(os.pread(fd, 100, 29990) == want[29990:30090], 'fetched fd, written through another '
      'past its old end')
os.close(fd)
# open (from the fetch), then unlinked: fstat and reads go on, as POSIX
# says for an open file
want = rd(srv + '/h/h7')
fd = os.open(H + '/h7', os.O_RDONLY)
os.unlink(H + '/h7')
try:
    st = os.fstat(fd)
    check(st.st_size == len(want) and stat.S_ISREG(st.st_mode),
          'fetched fd, unlinked: fstat (size %d)' % st.st_size)
except OSError as e:
    check(False, 'fetched fd, unlinked: fstat fails: %s' % e)
check(os.pread(fd, 1000, 100) == want[100:1100], 'fetched fd, unlinked: pread')
os.close(fd)
# a second directory: a changed file between the fetch and its open
E = mnt + '/e'
os.listdir(E)
same('e/g0', 'e: first'); same('e/g1', 'e: second')
with open(E + '/g2', 'r+b') as f: f.write(b'CHANGED')
same('e/g2', 'e: changed right after the fetch began')
for i in range(3, 10): same('e/g%d' % i, 'e: fetched ahead')
sys.exit(1 if fails else 0)
PY
rc=$?
unmount_sftp || { echo "FAIL: unmount"; rc=1; }
exit $rc
