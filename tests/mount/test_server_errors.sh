#!/bin/bash
# Server errors in the middle of work (issue #9): a disk that fills up,
# a file system that turns read-only, a file removed on the server while
# it is open.  SFTP v3 has no status for the first two (OpenSSH's
# sftp-server answers a bare FAILURE); the daemon asks the server's
# statvfs what it meant, so the caller gets ENOSPC or EROFS, never EIO
# or a wrong guess (EEXIST for a mkdir), and the mount stays usable.
#
# The small and the read-only file systems are mounted in the fixture
# sshd's own mount namespace (it runs in one as root), so the server
# sees them and nothing outlives the fixture.
set -uo pipefail
. "$(dirname "$0")/lib.sh"
[ "$(id -u)" = 0 ] ||
	{ echo "SKIP: mounts in the server's namespace need root"; exit 77; }
command -v nsenter >/dev/null ||
	{ echo "SKIP: no nsenter (util-linux)"; exit 77; }
: "${SFTPMNT_FIXTURE_DIR:?run through make check}"

# a command in the server's mount namespace
srvns() { nsenter -t "$(cat "$SFTPMNT_FIXTURE_DIR/pid")" -m -- "$@"; }
srvns true || { echo "SKIP: the fixture's sshd has no namespace of its own"; exit 77; }

srv=$SFTPMNT_TEST_ROOT/se
mkdir -p "$srv/full" "$srv/ro/sub"
echo keep >"$srv/ro/old"
srvns mount -t tmpfs -o size=1m,nr_inodes=40 sftpmnt-se "$srv/full" ||
	{ echo "FAIL: tmpfs in the server's namespace"; exit 1; }
srvns mount --bind "$srv/ro" "$srv/ro" ||
	{ echo "FAIL: bind mount in the server's namespace"; exit 1; }

mount_sftp "$srv" -o cache_timeout=0 || { echo "FAIL: mount"; exit 1; }

# phase 1: a full disk
MNT=$mnt SRV=$srv NSPID=$(cat "$SFTPMNT_FIXTURE_DIR/pid") PYTHONPATH=$here python3 - <<'PY' || fails=$((fails + 1))
import errno, os, subprocess, sys
import mt
from mt import check, name
mnt, srv = os.environ['MNT'], os.environ['SRV']
def on_server(*cmd): # (the small disk is in the server's namespace only)
    return subprocess.run(['nsenter', '-t', os.environ['NSPID'], '-m', '--'] + list(cmd),
                          stdout=subprocess.PIPE, check=False)

# 2 MiB into 1 MiB: the error comes at a write, fsync or close (writes
# are acknowledged behind), and it is ENOSPC
fd = os.open(mnt + '/full/big', os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
err = None
try:
    for _ in range(32):
        os.write(fd, b'x' * 65536)
    os.fsync(fd)
except OSError as e:
    err = e.errno
try:
    os.close(fd)
except OSError as e:
    err = err or e.errno
check(err == errno.ENOSPC, 'writing 2 MiB to a 1 MiB disk: %s (ENOSPC)' % name(err))

# the same with large writes and no fsync: each write is answered as it
# is copied (write_early), before the server saw it; the refusals that
# come later must still reach the program, at a write or at close
os.unlink(mnt + '/full/big')
fd = os.open(mnt + '/full/big', os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
err, wrote = None, 0
try:
    for _ in range(4):
        wrote += os.write(fd, b'y' * (1 << 20))
except OSError as e:
    err = e.errno
try:
    os.close(fd)
except OSError as e:
    err = err or e.errno
check(err == errno.ENOSPC,
      'writing 4 x 1 MiB to a 1 MiB disk, then close: %s (ENOSPC), %d answered'
      % (name(err), wrote))

# space again: the mount works, and a new file is whole
os.unlink(mnt + '/full/big')
data = os.urandom(100000)
with open(mnt + '/full/small', 'wb') as f:
    f.write(data)
check(on_server('cat', srv + '/full/small').stdout == data,
      'after freeing the space a new file is written whole')
os.unlink(mnt + '/full/small')

# no inodes left: creating files, a directory, a symlink says ENOSPC
made, err = 0, None
for i in range(100):
    try:
        os.close(os.open(mnt + '/full/f%d' % i, os.O_WRONLY | os.O_CREAT, 0o644))
        made += 1
    except OSError as e:
        err = e.errno
        break
check(0 < made < 100 and err == errno.ENOSPC,
      'creating files until the inodes run out: %d made, then %s (ENOSPC)' % (made, name(err)))
for what, call in (('mkdir', lambda: os.mkdir(mnt + '/full/d')),
                   ('symlink', lambda: os.symlink('f0', mnt + '/full/l'))):
    err = None
    try:
        call()
    except OSError as e:
        err = e.errno
    check(err == errno.ENOSPC, '%s with no inodes left: %s (ENOSPC)' % (what, name(err)))
for i in range(made):
    os.unlink(mnt + '/full/f%d' % i)
os.mkdir(mnt + '/full/d')
check(on_server('test', '-d', srv + '/full/d').returncode == 0,
      'inodes freed: mkdir works again')
mt.done()
PY

# phase 2: the server's file system turns read-only
srvns mount -o remount,bind,ro "$srv/ro" "$srv/ro" ||
	{ echo "FAIL: remount read-only"; exit 1; }
MNT=$mnt SRV=$srv PYTHONPATH=$here python3 - <<'PY' || fails=$((fails + 1))
import errno, os, sys
import mt
from mt import check, name, err_of
mnt, srv = os.environ['MNT'], os.environ['SRV']
R = mnt + '/ro'
for what, call in (
        ('create', lambda: os.close(os.open(R + '/new', os.O_WRONLY | os.O_CREAT, 0o644))),
        ('open for writing', lambda: os.close(os.open(R + '/old', os.O_WRONLY))),
        ('truncate', lambda: os.truncate(R + '/old', 0)),
        ('mkdir', lambda: os.mkdir(R + '/newdir')),
        ('symlink', lambda: os.symlink('old', R + '/newlink')),
        ('rename', lambda: os.rename(R + '/old', R + '/old2')),
        ('unlink', lambda: os.unlink(R + '/old')),
        ('rmdir', lambda: os.rmdir(R + '/sub'))):
    e = err_of(call)
    check(e == errno.EROFS, '%s on a read-only server file system: %s (EROFS)' % (what, name(e)))
check(open(R + '/old').read() == 'keep\n', 'reading still works')
check(sorted(os.listdir(R)) == ['old', 'sub'], 'nothing was changed: %s' % sorted(os.listdir(R)))
mt.done()
PY
srvns mount -o remount,bind,rw "$srv/ro" "$srv/ro" ||
	{ echo "FAIL: remount read-write"; exit 1; }
echo again >"$mnt/ro/new" && [ "$(cat "$srv/ro/new")" = again ] &&
	ok "read-write again: a new file is written" ||
	fail "read-write again: writing a new file"

# phase 3: a file removed on the server while it is open: the open
# handle keeps reading the same bytes (POSIX semantics on the server)
MNT=$mnt SRV=$srv python3 - <<'PY' || fails=$((fails + 1))
import os, sys
mnt, srv = os.environ['MNT'], os.environ['SRV']
data = os.urandom(300000)
with open(srv + '/gone2', 'wb') as f:
    f.write(data)
fd = os.open(mnt + '/gone2', os.O_RDONLY)
first = os.pread(fd, 1000, 0)
os.unlink(srv + '/gone2')
rest = b''
while True:
    b = os.pread(fd, 65536, 1000 + len(rest))
    if not b:
        break
    rest += b
os.close(fd)
ok = first + rest == data
print(('ok: ' if ok else 'FAIL: ') +
      'a file removed on the server while open reads on: %d of %d bytes right' %
      (len(first + rest) if ok else 0, len(data)))
try:
    os.stat(mnt + '/gone2')
    print('FAIL: the removed file is still there by name')
    sys.exit(1)
except FileNotFoundError:
    print('ok: by name it is gone (ENOENT)')
sys.exit(0 if ok else 1)
PY

[ -d "$mnt/full" ] && ls "$mnt" >/dev/null && ok "the mount is still usable" ||
	fail "the mount is not usable at the end"
finish
