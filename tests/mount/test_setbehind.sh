#!/bin/bash
# Set-behind (fs/ops.c): futimens, fchown and fchmod of a file the same
# process just created (what tar -x and cp -p do) are answered before the
# server has done them, like write-behind writes.  What the server ends
# up with must be exactly what was asked, the mount must show it, a
# change by anything else in between must not be overwritten by the
# handle's idea of the file, and a refusal by the server must come back
# (at close at the latest), never be lost.
set -uo pipefail
. "$(dirname "$0")/lib.sh"
command -v python3 >/dev/null || { echo "SKIP: no python3"; exit 77; }

srv=$SFTPMNT_TEST_ROOT/sb
mkdir -p "$srv"
mount_sftp "$srv" || { echo "FAIL: mount"; exit 1; }

# can the server's file system make a file immutable (a chmod even root
# is refused)?  ext4, xfs, btrfs can; tmpfs cannot
touch "$srv/probe"
imm=0
chattr +i "$srv/probe" 2>/dev/null && imm=1 && chattr -i "$srv/probe"
rm -f "$srv/probe"

MNT=$mnt SRV=$srv IMM=$imm python3 - <<'PY'
import errno, os, stat, subprocess, sys
mnt, srv, imm = os.environ['MNT'], os.environ['SRV'], os.environ['IMM'] == '1'
fails = 0
def check(ok, what):
    global fails
    print(('ok: ' if ok else 'FAIL: ') + what); sys.stdout.flush()
    if not ok: fails += 1
def view(p):
    st = os.lstat(p)
    return (stat.S_IMODE(st.st_mode), st.st_uid, st.st_gid, st.st_size,
            int(st.st_mtime), int(st.st_atime))
def drop():
    with open('/proc/sys/vm/drop_caches', 'w') as f: f.write('2')
def same(name, want, what):
    m, s = view(mnt + '/' + name), view(srv + '/' + name)
    check(s == want, '%s: the server has %s (want %s)' % (what, s, want))
    check(m == s, '%s: the mount shows %s' % (what, m))
    drop()
    m = view(mnt + '/' + name)
    check(m == s, '%s: the mount shows %s after the kernel forgot it' % (what, m))

uid, gid = os.getuid(), os.getgid()
T = 1500000000

# tar -x's sequence: create, write, futimens (mtime only), fchown, fchmod
fd = os.open(mnt + '/tar', os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
os.write(fd, b'x' * 5000)
os.utime(fd, ns=(T * 10**9, T * 10**9)) # (python sets both)
os.fchown(fd, uid, gid)
os.fchmod(fd, 0o640)
st = os.fstat(fd)
check((stat.S_IMODE(st.st_mode), st.st_size, int(st.st_mtime)) == (0o640, 5000, T),
      'fstat before close: mode, size, mtime as set (%o %d %d)'
      % (stat.S_IMODE(st.st_mode), st.st_size, int(st.st_mtime)))
os.close(fd)
same('tar', (0o640, uid, gid, 5000, T, T), 'create, write, utime, fchown, fchmod')

# only the mtime (UTIME_OMIT for the atime), as tar does it; then a
# write after the times were set moves the mtime again (the server's)
fd = os.open(mnt + '/omit', os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
os.write(fd, b'abc')
subprocess.run(['touch', '-m', '-d', '@%d' % T, '/proc/self/fd/%d' % fd], check=True,
               pass_fds=(fd,))
os.fchmod(fd, 0o604)
os.write(fd, b'defg')
os.close(fd)
m, s = view(mnt + '/omit'), view(srv + '/omit')
check(s[0] == 0o604 and s[3] == 7 and s[4] != T, 'a write after the times were set: the '
      'server has the new size and its own mtime %s' % (s,))
check(m == s, 'a write after the times were set: the mount shows %s (server %s)' % (m, s))

# another handle writes in between: the first handle's idea of the size
# is old, and fchmod through it must not show that
fd = os.open(mnt + '/two', os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
os.write(fd, b'1' * 100)
fd2 = os.open(mnt + '/two', os.O_WRONLY)
os.pwrite(fd2, b'2' * 900, 100)
os.fsync(fd2)
os.fchmod(fd, 0o644)
check(os.fstat(fd).st_size == 1000, 'written through another fd, then fchmod: size %d (1000)'
      % os.fstat(fd).st_size)
os.close(fd2); os.close(fd)
same('two', (0o644, uid, gid, 1000, int(os.lstat(srv + '/two').st_mtime),
             int(os.lstat(srv + '/two').st_atime)), 'written through two fds')

# a chmod by path in between (another program): fchmod's idea of the
# other attributes must not undo it
fd = os.open(mnt + '/path', os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
os.write(fd, b'p')
os.utime(mnt + '/path', (T, T))
os.fchmod(fd, 0o444)
os.close(fd)
same('path', (0o444, uid, gid, 1, T, T), 'utime by path, then fchmod')

# the server refuses (the file became immutable there): the error comes
# back, by fchmod or at the latest by close, and the mount shows what
# the server has
if imm:
    fd = os.open(mnt + '/imm', os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    os.write(fd, b'data')
    os.fsync(fd)
    subprocess.run(['chattr', '+i', srv + '/imm'], check=True)
    err = None
    try:
        os.utime(fd, (T, T))
        os.fchmod(fd, 0o755)
    except OSError as e:
        err = e.errno
    try:
        os.close(fd)
    except OSError as e:
        err = err or e.errno
    # (SFTP v3 has one "permission denied" for EPERM and EACCES)
    check(err in (errno.EPERM, errno.EACCES), 'a chmod the server refuses: EPERM or EACCES '
          'from fchmod or close (%s)' % (errno.errorcode.get(err, err),))
    m = view(mnt + '/imm')
    check(m[0] == 0o600 and m[4] != T, 'after the refused utime and chmod the mount shows '
          'mode %o, mtime %d (the server\'s: 600, not %d)' % (m[0], m[4], T))
    subprocess.run(['chattr', '-i', srv + '/imm'], check=True)
else:
    print('SKIP: the refused chmod (the server\'s file system cannot make a file immutable)')

# a chown of a set-user-ID file clears the bit on the server: that one
# is asked for, and the mount shows the server's outcome
fd = os.open(mnt + '/suid', os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
os.write(fd, b's')
os.fchmod(fd, 0o4755)
os.fchown(fd, uid, gid)
os.close(fd)
m, s = view(mnt + '/suid'), view(srv + '/suid')
check(m == s, 'fchmod u+s then fchown: the mount shows the server\'s %s (mount %s)' % (s, m))

sys.exit(1 if fails else 0)
PY
rc=$?
unmount_sftp || { echo "FAIL: unmount"; rc=1; }
exit $rc
