#!/bin/bash
# Permissions revoked on the server in the middle of work (issue #9): the
# mount logs in as a user without root's privileges (the fixture's second
# user), root changes modes and owners on the server, and the caller gets
# the errno a local file system would give: EACCES for what mode bits
# forbid, EPERM for what only the owner may do (chmod, chown, setting
# times), and everything works again once the permissions are back.
#
# A file whose mode is revoked while it is open keeps working through the
# open file: the server's handle is an open file descriptor of its own,
# and POSIX checks permissions at open only.
#
# The served files are the fixture's, on this machine's file system: root
# changes their modes here, where the server sees them at once.  The
# mount runs with cache_timeout=0: within cache_timeout a kept listing or
# a kept small file may answer without asking the server (sftpmnt(1)).
set -uo pipefail
. "$(dirname "$0")/lib.sh"
[ "$(id -u)" = 0 ] ||
	{ echo "SKIP: a second login user on the server needs root"; exit 77; }
: "${SFTPMNT_FIXTURE:?run through make check}"
: "${SFTPMNT_FIXTURE_DIR:?run through make check}"

SFTPMNT_FIXTURE_USER2=1 "$SFTPMNT_FIXTURE" restart "$SFTPMNT_FIXTURE_DIR"
case $? in
0) ;;
77) exit 77 ;;
*) echo "FAIL: restarting the fixture with a second user"; exit 1 ;;
esac
eval "$("$SFTPMNT_FIXTURE" env "$SFTPMNT_FIXTURE_DIR")"
[ -n "${SFTPMNT_TEST_USER2:-}" ] ||
	{ echo "FAIL: the fixture names no second user"; exit 1; }

srv=$SFTPMNT_TEST_USER2_ROOT/perm
mkdir -p "$srv"
chown "$SFTPMNT_TEST_USER2_UID:$SFTPMNT_TEST_USER2_UID" "$srv"

SFTPMNT_TEST_USER=$SFTPMNT_TEST_USER2 mount_sftp "$srv" -o cache_timeout=0 ||
	{ echo "FAIL: mount as $SFTPMNT_TEST_USER2"; exit 1; }

MNT=$mnt SRV=$srv UID2=$SFTPMNT_TEST_USER2_UID PYTHONPATH=$here python3 - <<'PY' || fails=$((fails + 1))
import errno, os, sys
import mt
from mt import check, name, err_of
mnt, srv, uid2 = os.environ['MNT'], os.environ['SRV'], int(os.environ['UID2'])
def expect(want, what, call):
    e = err_of(call)
    check(e == want, '%s: %s (%s)' % (what, name(e), name(want)))
def on_server(path, data=b'', mode=0o644, uid=uid2):
    # made by root, given to the test user (or left to root)
    with open(srv + '/' + path, 'wb') as f:
        f.write(data)
    os.chmod(srv + '/' + path, mode)
    os.chown(srv + '/' + path, uid, uid)
def server_dir(path, mode=0o755, uid=uid2):
    os.mkdir(srv + '/' + path)
    os.chmod(srv + '/' + path, mode)
    os.chown(srv + '/' + path, uid, uid)
def revoke(path, mode):
    os.chmod(srv + '/' + path, mode)
def opener(path, flags):
    return lambda: os.close(os.open(mnt + '/' + path, flags, 0o644))
def read_all(path):
    with open(mnt + '/' + path, 'rb') as f:
        return f.read()

# a file whose mode became 000: no open, no truncate
on_server('f', b'file data\n')
check(read_all('f') == b'file data\n', 'the user reads its file')
revoke('f', 0)
expect(errno.EACCES, 'open mode-000 file for reading', opener('f', os.O_RDONLY))
expect(errno.EACCES, 'open mode-000 file for writing', opener('f', os.O_WRONLY))
expect(errno.EACCES, 'open mode-000 file read-write', opener('f', os.O_RDWR))
expect(errno.EACCES, 'open mode-000 file O_TRUNC',
       opener('f', os.O_WRONLY | os.O_TRUNC))
expect(errno.EACCES, 'truncate mode-000 file', lambda: os.truncate(mnt + '/f', 0))
revoke('f', 0o644)
check(read_all('f') == b'file data\n', 'mode back: the file reads whole')
with open(mnt + '/f', 'ab') as f:
    f.write(b'more\n')
check(open(srv + '/f', 'rb').read() == b'file data\nmore\n',
      'mode back: the file is written')

# a directory made 0555: nothing is made, removed or renamed in it
server_dir('d')
on_server('d/a', b'a\n')
server_dir('d/sub')
revoke('d', 0o555)
expect(errno.EACCES, 'create in a 0555 directory',
       opener('d/new', os.O_WRONLY | os.O_CREAT))
expect(errno.EACCES, 'mknod in a 0555 directory',
       lambda: os.mknod(mnt + '/d/node', 0o644))
expect(errno.EACCES, 'mkdir in a 0555 directory', lambda: os.mkdir(mnt + '/d/nd'))
expect(errno.EACCES, 'symlink in a 0555 directory',
       lambda: os.symlink('a', mnt + '/d/ln'))
expect(errno.EACCES, 'hard link into a 0555 directory',
       lambda: os.link(mnt + '/f', mnt + '/d/hl'))
expect(errno.EACCES, 'unlink in a 0555 directory', lambda: os.unlink(mnt + '/d/a'))
expect(errno.EACCES, 'rmdir in a 0555 directory', lambda: os.rmdir(mnt + '/d/sub'))
expect(errno.EACCES, 'rename in a 0555 directory',
       lambda: os.rename(mnt + '/d/a', mnt + '/d/b'))
expect(errno.EACCES, 'rename out of a 0555 directory',
       lambda: os.rename(mnt + '/d/a', mnt + '/a'))
expect(errno.EACCES, 'rename into a 0555 directory',
       lambda: os.rename(mnt + '/f', mnt + '/d/f'))
check(sorted(os.listdir(mnt + '/d')) == ['a', 'sub'],
      'the 0555 directory lists unchanged: %s' % sorted(os.listdir(mnt + '/d')))
check(sorted(os.listdir(srv + '/d')) == ['a', 'sub'], 'and is unchanged on the server')
revoke('d', 0o755)
err = err_of(lambda: (
    opener('d/new', os.O_WRONLY | os.O_CREAT)(),
    os.mkdir(mnt + '/d/nd'),
    os.symlink('a', mnt + '/d/ln'),
    os.rename(mnt + '/d/a', mnt + '/d/b'),
    os.unlink(mnt + '/d/b'),
    os.rmdir(mnt + '/d/sub')))
check(err is None, 'mode back: create, mkdir, symlink, rename, unlink, rmdir work: %s' %
      name(err))
# (the rmdir may have been answered before the server did it: an fsync
# of the directory waits for that, sftpmnt(1) unlink_behind)
fd = os.open(mnt + '/d', os.O_RDONLY | os.O_DIRECTORY)
os.fsync(fd)
os.close(fd)
check(sorted(os.listdir(srv + '/d')) == ['ln', 'nd', 'new'],
      'and the server has what they did: %s' % sorted(os.listdir(srv + '/d')))

# a directory made 0000: no listing, no name in it is found
server_dir('ls')
for n in ('x', 'y'):
    on_server('ls/' + n, n.encode())
check(sorted(os.listdir(mnt + '/ls')) == ['x', 'y'], 'the user lists its directory')
revoke('ls', 0)
expect(errno.EACCES, 'list a 0000 directory', lambda: os.listdir(mnt + '/ls'))
expect(errno.EACCES, 'open a file in a 0000 directory', opener('ls/x', os.O_RDONLY))
revoke('ls', 0o755)
check(sorted(os.listdir(mnt + '/ls')) == ['x', 'y'], 'mode back: it lists again')
check(read_all('ls/x') == b'x', 'mode back: its files read')

# revoked while open: the open file and directory keep working
data = os.urandom(300000)
on_server('open', data)
fd = os.open(mnt + '/open', os.O_RDONLY)
first = os.pread(fd, 1000, 0)
revoke('open', 0)
rest, err = b'', None
try:
    while True:
        b = os.pread(fd, 65536, 1000 + len(rest))
        if not b:
            break
        rest += b
except OSError as e:
    err = e.errno
os.close(fd)
check(err is None and first + rest == data,
      'reading a file whose mode was revoked while open: %s, %d of %d bytes' %
      (name(err), len(first + rest), len(data)))
expect(errno.EACCES, 'but opening it again', opener('open', os.O_RDONLY))

on_server('w', b'')
fd = os.open(mnt + '/w', os.O_WRONLY)
os.write(fd, b'x' * 100000)
revoke('w', 0)
err = err_of(lambda: (os.write(fd, b'y' * 100000), os.fsync(fd)))
err = err_of(lambda: os.close(fd)) or err
check(err is None and open(srv + '/w', 'rb').read() == b'x' * 100000 + b'y' * 100000,
      'writing a file whose mode was revoked while open: %s' % name(err))

# a directory: read permission revoked after opendir, it lists whole;
# search permission revoked, OpenSSH's sftp-server leaves out every name
# it cannot lstat (for the attributes) without an error, so the listing
# ends early (with the names read before, or none): a subset, no error
# (a local file system would list them all)
def opendir_revoke(path, mode):
    server_dir(path)
    for i in range(50):
        on_server('%s/n%02d' % (path, i))
    it = os.scandir(mnt + '/' + path)
    revoke(path, mode)
    names, err = [], None
    try:
        names = sorted(e.name for e in it)
    except OSError as e:
        err = e.errno
    it.close()
    return err, names
all50 = ['n%02d' % i for i in range(50)]
err, names = opendir_revoke('od', 0o111)
check(err is None and names == all50,
      'listing a directory made 0111 after opendir: %s, %d of 50 names' %
      (name(err), len(names)))
expect(errno.EACCES, 'but listing it again', lambda: os.listdir(mnt + '/od'))
check(read_all('od/n00') == b'', 'its files still open (search permission)')
revoke('od', 0o755)
err, names = opendir_revoke('od0', 0)
check(err is None and set(names) <= set(all50),
      'listing a directory made 0000 after opendir: %s, %d of 50 names' %
      (name(err), len(names)))
revoke('od0', 0o755)
check(sorted(os.listdir(mnt + '/od0')) == all50, 'mode back: it lists whole')

# only the owner (or root) may: chmod, chown, set times -- EPERM; a
# truncate or a touch (times to now) without write permission is EACCES
on_server('roots', b'root\n', 0o644, uid=0)
on_server('mine', b'mine\n')
expect(errno.EPERM, "chmod of root's file", lambda: os.chmod(mnt + '/roots', 0o600))
expect(errno.EPERM, "chown of root's file", lambda: os.chown(mnt + '/roots', uid2, -1))
expect(errno.EPERM, "setting the times of root's file",
       lambda: os.utime(mnt + '/roots', (1000000000, 1000000000)))
expect(errno.EACCES, "truncate of root's file (not writable)",
       lambda: os.truncate(mnt + '/roots', 0))
expect(errno.EACCES, "touch (times to now) of root's file (not writable)",
       lambda: os.utime(mnt + '/roots'))
expect(errno.EPERM, 'chown of our file to root', lambda: os.chown(mnt + '/mine', 0, -1))
st = os.stat(srv + '/roots')
check((st.st_mode & 0o7777, st.st_uid, st.st_mtime != 1000000000) == (0o644, 0, True),
      "root's file unchanged on the server")
os.chown(srv + '/roots', uid2, uid2)
err = err_of(lambda: (os.chmod(mnt + '/roots', 0o600),
                      os.utime(mnt + '/roots', (1000000000, 1000000000))))
st = os.stat(srv + '/roots')
check(err is None and (st.st_mode & 0o7777, st.st_mtime) == (0o600, 1000000000),
      'given to the user: chmod and setting times work: %s' % name(err))
mt.done()
PY

[ -d "$mnt/d" ] && ls "$mnt" >/dev/null && ok "the mount is still usable" ||
	fail "the mount is not usable at the end"

# With kept listings (the default) the unlinks of a bulk removal are
# answered as they go out once the server has removed one there
# (unlink-behind, fs/ubehind.c): a refusal the server sends afterwards
# cannot reach its own caller any more; it goes to the next change of
# names in that directory, and the name comes back.  Either way it is
# not lost.
unmount_sftp || { echo "FAIL: unmount"; exit 1; }
SFTPMNT_TEST_USER=$SFTPMNT_TEST_USER2 mount_sftp "$srv" ||
	{ echo "FAIL: mount again (default caching)"; exit 1; }
MNT=$mnt SRV=$srv UID2=$SFTPMNT_TEST_USER2_UID PYTHONPATH=$here python3 - <<'PY' || fails=$((fails + 1))
import errno, os, sys, time
from mt import name, err_of
mnt, srv, uid2 = os.environ['MNT'], os.environ['SRV'], int(os.environ['UID2'])
U = srv + '/ub'
os.mkdir(U)
os.chown(U, uid2, uid2)
for i in range(4):
    open('%s/u%d' % (U, i), 'w').close()
    os.chown('%s/u%d' % (U, i), uid2, uid2)
os.listdir(mnt + '/ub')            # kept: owners known
os.unlink(mnt + '/ub/u0')          # the server removed one there
os.chmod(U, 0o555)
e1 = err_of(lambda: os.unlink(mnt + '/ub/u1'))
time.sleep(1)                      # (the server's refusal has come)
os.chmod(U, 0o755)
e2 = err_of(lambda: os.unlink(mnt + '/ub/u2'))
ok = (e1 == errno.EACCES and e2 is None) or (e1 is None and e2 == errno.EACCES)
ok = ok and os.path.exists(U + '/u1') and os.path.exists(mnt + '/ub/u1')
print(('ok: ' if ok else 'FAIL: ') +
      'unlink in a directory made 0555 during a removal: %s, the next unlink '
      'there: %s (one of them EACCES); the file is still there: %s' %
      (name(e1), name(e2), os.path.exists(U + '/u1')))
left = sorted(os.listdir(U))
e3 = err_of(lambda: [os.unlink(mnt + '/ub/' + n) for n in left])
seen = os.listdir(mnt + '/ub')     # (after the removals on their way)
for _ in range(50):
    if not os.listdir(U):
        break
    time.sleep(0.1)
ok2 = e3 is None and seen == [] and os.listdir(U) == []
print(('ok: ' if ok2 else 'FAIL: ') + 'then the rest is removed: %s, left %s, %s on the server' %
      (name(e3), seen, os.listdir(U)))
sys.exit(0 if ok and ok2 else 1)
PY
finish
