#!/bin/bash
# Kept directory listings (fs/dcache.c): once a directory was listed (or
# listed in the background because lookups in it kept missing), lookups
# and stats of its names are answered without asking the server
# (counted with the delay proxy's byte counters), and every change made
# through the mount - write, truncate, chmod, utime, rename, unlink,
# create, mkdir, symlink, link - is seen at once, exactly as the server
# has it, although the listing would still be fresh (cache_timeout=60).
set -uo pipefail
: "${SFTPMNT_TEST_ROOT:?run through make check}"
[ -c /dev/fuse ] || { echo "SKIP: no /dev/fuse"; exit 77; }
command -v fusermount3 >/dev/null || { echo "SKIP: no fusermount3 (install fuse3)"; exit 77; }
command -v python3 >/dev/null || { echo "SKIP: no python3"; exit 77; }

bin=${SFTPMNT_BIN:?}
proxy=${DELAYPROXY:?}
work=$(mktemp -d)
mnt=$work/mnt
srv=$SFTPMNT_TEST_ROOT/dc
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

mkdir -p "$srv/d/sub"
for i in $(seq 0 49); do echo "file $i" >"$srv/d/f$i"; done
echo hello >"$srv/d/linked"
ln "$srv/d/linked" "$srv/d/linked2"
mkdir -p "$srv/e"
for i in $(seq 0 6); do mkdir -p "$srv/walk/s$i"; for j in 1 2 3; do echo "$i $j" >"$srv/walk/s$i/x$j"; done; done
for i in $(seq 0 59); do echo "g $i" >"$srv/e/g$i"; done
mkdir -p "$srv/spec" "$srv/q/r/spec2/sub"
for i in $(seq 0 29); do echo "s $i" >"$srv/spec/s$i"; echo "t $i" >"$srv/q/r/spec2/t$i"; done
echo x >"$srv/specfile"
mkdir -p "$srv/kw"; echo "ref: refs/heads/master" >"$srv/kw/head"
for d in a b c; do mkdir -p "$srv/cpt/$d"; for i in 0 1 2 3 4; do head -c $((i * 3000 + 7)) /dev/urandom >"$srv/cpt/$d/x$i"; done; done
ln -s spec "$srv/speclink"

"$bin" "$SFTPMNT_TEST_USER@127.0.0.1:$srv" "$mnt" \
	-o "port=$port,IdentityFile=$SFTPMNT_TEST_KEY,UserKnownHostsFile=$work/kh,cache_timeout=60,ServerAliveInterval=0" ||
	{ echo "FAIL: mount"; exit 1; }

MNT=$mnt SRV=$srv CTL=$work/ctl python3 - <<'PY'
import os, socket, stat, sys, time
mnt, srv, ctlpath = os.environ['MNT'], os.environ['SRV'], os.environ['CTL']
fails = 0
def ctl(cmd):
    s = socket.socket(socket.AF_UNIX); s.connect(ctlpath)
    s.sendall((cmd + '\n').encode()); r = s.recv(200).decode(); s.close()
    assert r.startswith('ok'), r
    return r
def c2s():
    return int(ctl('stats').split('c2s=')[1].split()[0])
def settle():
    # what was started in the background (listings, fetches) has ended
    # when nothing more goes to the server for 0.3 s (a loaded machine)
    last = c2s()
    for _ in range(50):
        time.sleep(0.3)
        now = c2s()
        if now == last:
            return
        last = now
def check(ok, what):
    global fails
    print(('ok: ' if ok else 'FAIL: ') + what); sys.stdout.flush()
    if not ok: fails += 1
def view(st):
    return (stat.S_IFMT(st.st_mode), stat.S_IMODE(st.st_mode), st.st_size,
            int(st.st_mtime), int(st.st_atime))
def forget():
    # the kernel drops its unused dentries and inodes: its next lookups
    # reach sftpmnt, which answers them from the kept listing
    with open('/proc/sys/vm/drop_caches', 'w') as f: f.write('2')
def same(rel, what, kernel=True):
    """the mount's lstat of rel agrees with the server's (or both fail),
    as the kernel has it and after it forgot"""
    for k in ((True, False) if kernel else (False,)):
        if not k: forget()
        try: m = view(os.lstat(mnt + '/' + rel))
        except FileNotFoundError: m = 'ENOENT'
        try: s = view(os.lstat(srv + '/' + rel))
        except FileNotFoundError: s = 'ENOENT'
        check(m == s, '%s%s: %s (server %s)' % (what, '' if k else ' (lookup)', m, s))

D = mnt + '/d'
names = sorted(os.listdir(D))
check(len(names) == 53, 'listing of 53 names')
# lookups of listed names (the kernel forgets its own entries with
# drop_caches) and of missing names: no request reaches the server
forget()
before = c2s()
for n in names:
    os.lstat(D + '/' + n)
for i in range(20):
    try: os.lstat(D + '/missing%d' % i)
    except FileNotFoundError: pass
sent = c2s() - before
check(sent < 2000, '73 lookups in a listed directory sent %d bytes to the server (one LSTAT each would be ~6 KB)' % sent)
# listing it again: the same names with the right types, "." and ".."
def scan(p):
    with os.scandir(p) as it:
        return sorted((e.name, e.is_dir(follow_symlinks=False), e.is_symlink(),
                       e.inode() != 0) for e in it)
forget()
before = c2s()
check(scan(D) == scan(srv + '/d'), 'listed again: the server\'s names and types')
sent = c2s() - before
check(sent == 0, 'listed again from the kept listing: %d bytes to the server (0; OPENDIR, '
      'READDIR, CLOSE would be ~300)' % sent)
# and every offset of it: seekdir back and forth in one handle
import ctypes, ctypes.util
libc = ctypes.CDLL(ctypes.util.find_library('c'), use_errno=True)
libc.opendir.restype = ctypes.c_void_p; libc.readdir.restype = ctypes.c_void_p
libc.telldir.restype = ctypes.c_long
libc.telldir.argtypes = libc.readdir.argtypes = libc.closedir.argtypes = [ctypes.c_void_p]
libc.seekdir.argtypes = [ctypes.c_void_p, ctypes.c_long]
libc.rewinddir.argtypes = [ctypes.c_void_p]
class Dirent(ctypes.Structure):
    _fields_ = [('d_ino', ctypes.c_uint64), ('d_off', ctypes.c_int64),
                ('d_reclen', ctypes.c_ushort), ('d_type', ctypes.c_ubyte),
                ('d_name', ctypes.c_char * 256)]
def walk(dp):
    out = []
    while True:
        p = libc.readdir(dp)
        if not p: return out
        out.append(ctypes.cast(p, ctypes.POINTER(Dirent)).contents.d_name.decode())
dp = libc.opendir(D.encode())
first = walk(dp)
libc.rewinddir(dp)
again = walk(dp)
libc.rewinddir(dp)
walk1 = [ctypes.cast(libc.readdir(dp), ctypes.POINTER(Dirent)).contents.d_name.decode()
         for _ in range(10)]
pos = libc.telldir(dp)
rest = walk(dp)
libc.seekdir(dp, pos)
rest2 = walk(dp)
libc.closedir(dp)
check(first == again and sorted(first) == sorted(['.', '..'] + names) and rest == rest2 and
      walk1 + rest == first, 'readdir, rewinddir, telldir/seekdir on a listing from the kept one')
la = os.popen('ls -a ' + D).read().split()
check(la[:2] == ['.', '..'] and len(la) == 55, 'ls -a: . and .. and 53 names')
# a directory nobody listed: after two lookups miss in it, it is listed
# in the background and the following lookups are answered from that
forget()
before = c2s()
for i in range(60):
    os.lstat(mnt + '/e/g%d' % i)
first = c2s() - before
settle()
forget()
before = c2s()
for i in range(60):
    os.lstat(mnt + '/e/g%d' % i)
sent = c2s() - before
check(sent < 600, '60 lookups in a directory listed in the background sent %d bytes '
      '(the first 60, which started the listing: %d; one LSTAT each would be ~5 KB)' % (sent, first))
same('e/g7', 'a name of the background listing')
# names with several links are asked for every time
forget()
before = c2s()
os.lstat(D + '/linked')
check(c2s() - before > 0, 'a name with two links is asked for (%d bytes)' % (c2s() - before))

# changes through the mount show at once, as the server has them
with open(D + '/f1', 'ab') as f: f.write(b'more data\n')
same('d/f1', 'append')
os.truncate(D + '/f2', 3); same('d/f2', 'truncate')
os.chmod(D + '/f3', 0o600); same('d/f3', 'chmod')
os.utime(D + '/f4', (1000000000, 1200000000)); same('d/f4', 'utime both')
os.utime(D + '/f5', ns=(1300000000 * 10**9, 0)); os.utime(D + '/f5', None)
same('d/f5', 'utime now')
os.rename(D + '/f6', D + '/f6-renamed'); same('d/f6', 'rename: old name'); same('d/f6-renamed', 'rename: new name')
os.rename(D + '/f7', D + '/f8'); same('d/f7', 'rename over: old'); same('d/f8', 'rename over: new')
os.unlink(D + '/f9'); same('d/f9', 'unlink')
with open(D + '/new', 'wb') as f: f.write(b'123456')
same('d/new', 'create + write')
os.mkdir(D + '/newdir'); same('d/newdir', 'mkdir'); same('d/newdir/x', 'lookup in a new directory')
with open(D + '/newdir/x', 'wb') as f: f.write(b'x' * 100)
same('d/newdir/x', 'create in a new directory'); same('d/newdir', 'the directory after a create in it')
os.symlink('f10', D + '/sl'); same('d/sl', 'symlink')
os.link(D + '/f11', D + '/hl')
with open(D + '/f11', 'ab') as f: f.write(b'through one name')
# (the kernel keeps each name's attributes apart: only the lookup,
# which the kept listing would answer, is checked)
same('d/hl', 'hard link made here, written through the other name', kernel=False)
os.rmdir(D + '/sub'); same('d/sub', 'rmdir')
os.rename(D + '/newdir', D + '/movedir'); same('d/movedir/x', 'a file in a renamed directory'); same('d/newdir/x', 'its old path')
# an open file written through its fd, stat by name
fd = os.open(D + '/f12', os.O_WRONLY)
os.pwrite(fd, b'Z' * 5000, 0); os.fsync(fd)
same('d/f12', 'pwrite through an fd')
os.close(fd)
check(sorted(os.listdir(D)) == sorted(os.listdir(srv + '/d')), 'the listing again agrees with the server')
# a walk: once a program opens one subdirectory of a listed directory,
# the others are listed in the background, and listing them costs nothing
W = mnt + '/walk'
os.listdir(W)
os.listdir(W + '/s0')
settle()
before = c2s()
got = {n: sorted(os.listdir(W + '/' + n)) for n in ['s%d' % i for i in range(1, 7)]}
sent = c2s() - before
check(sent == 0, 'a walk: 6 sibling directories listed with %d bytes to the server (0)' % sent)
check(all(got[n] == sorted(os.listdir(srv + '/walk/' + n)) for n in got),
      'a walk: the sibling listings are the server\'s')
# a program reading the files of one directory of a tree (cp -r): the
# small files of the sibling directories are fetched with those of the
# first, and reading them costs nothing more
T = mnt + '/cpt'
for n in sorted(os.listdir(T)):
    os.listdir(T + '/' + n)
for i in (0, 1):
    with open(T + '/a/x%d' % i, 'rb') as f:
        f.read()
settle()
before = c2s()
got = {}
for n in ('b', 'c'):
    for i in range(5):
        with open('%s/%s/x%d' % (T, n, i), 'rb') as f:
            got[(n, i)] = f.read()
sent = c2s() - before
check(sent == 0, 'cp -r: the files of sibling directories were fetched ahead: %d bytes to the server (0)' % sent)
check(all(got[(n, i)] == open('%s/cpt/%s/x%d' % (srv, n, i), 'rb').read() for (n, i) in got),
      'cp -r: what was fetched ahead is the server\'s')
# a small file read whole is kept when it is closed: opening it again
# (git opens .git/HEAD four times in a status) costs nothing, and a
# change through the mount is seen at once
os.listdir(mnt + '/kw')
with open(mnt + '/kw/head', 'rb') as f:
    first = f.read()
# (the kernel sends the RELEASE that keeps it after close(2) returns: on a
# slow machine the next open could overtake it - wait for it to land)
settle()
before = c2s()
with open(mnt + '/kw/head', 'rb') as f:
    again = f.read()
sent = c2s() - before
check(sent == 0 and again == first == open(srv + '/kw/head', 'rb').read(),
      'a small file read again after close: %d bytes to the server (0), same bytes' % sent)
with open(mnt + '/kw/head', 'r+b') as f:
    f.write(b'NEW')
with open(mnt + '/kw/head', 'rb') as f:
    after = f.read()
check(after == open(srv + '/kw/head', 'rb').read() and after.startswith(b'NEW'),
      'written through the mount: the kept copy is not used')
with open(mnt + '/kw/head', 'ab') as f:
    f.write(b'tail')
with open(mnt + '/kw/head', 'rb') as f:
    after = f.read()
check(after == open(srv + '/kw/head', 'rb').read() and after.endswith(b'tail'),
      'appended through the mount: read back whole')
# a lookup that goes to the server lists the directory at the same time
# (an OPENDIR with the LSTAT): the program's opendir right after it
# waits for that listing, and a later one is answered from it
S = mnt + '/spec'
st = os.stat(S)
got = sorted(os.listdir(S))
check(stat.S_ISDIR(st.st_mode) and got == sorted(os.listdir(srv + '/spec')),
      'stat then opendir of a directory not listed before: the server\'s listing')
# (q/r/spec2: no walk lists spec2, and r's listing is not kept or, if
# r's lookup went to the server, still on its way: a 200 ms round trip;
# so the lookup of spec2 goes to the server)
ctl('delay 100')
rfd = os.open(mnt + '/q/r', os.O_PATH)
st = os.lstat('spec2', dir_fd=rfd)
time.sleep(1.0)
ctl('delay 1')
time.sleep(0.2)
os.lstat('spec2', dir_fd=rfd) # (the kernel looks it up again: not counted)
settle() # (and whatever that started in the background)
before = c2s()
dfd = os.open('spec2', os.O_RDONLY | os.O_DIRECTORY, dir_fd=rfd)
got = sorted(os.listdir(dfd))
os.close(dfd)
sent = c2s() - before
os.close(rfd)
check(stat.S_ISDIR(st.st_mode) and sent == 0 and
      got == sorted(os.listdir(srv + '/q/r/spec2')),
      'a directory looked up is listed with it: opendir+readdir sent %d bytes (0)' % sent)
for n, want in (('specfile', stat.S_ISREG), ('speclink', stat.S_ISLNK)):
    st = os.lstat(mnt + '/' + n)
    check(want(st.st_mode), 'lookup of %s (its OPENDIR fails or lists the target): right type' % n)
check(sorted(os.listdir(mnt + '/speclink')) == sorted(os.listdir(srv + '/spec')),
      'a symlink to a directory lists the target')
# fstat(2) comes without the handle (kernel 6.x): a file unlinked or
# renamed over while open, once the kernel's attributes expired, is
# found through its handle, not its old name
fd = os.open(D + '/f40', os.O_RDWR) # ("file 40\n")
os.unlink(D + '/f40')
fd2 = os.open(D + '/f41', os.O_RDWR)
with open(D + '/f41.new', 'wb') as f: f.write(b'replacement')
os.rename(D + '/f41.new', D + '/f41')
time.sleep(1.3) # attr_timeout (1 s) passes
os.pwrite(fd, b'0123456789', 0)
try: sz = os.fstat(fd).st_size
except OSError as e: sz = 'error %s' % e
check(sz == 10, 'fstat of an open, unlinked file after attr_timeout and a write: size %s (10)' % sz)
try: sz = os.fstat(fd2).st_size
except OSError as e: sz = 'error %s' % e
check(sz == 8, 'fstat of an open file renamed over, after attr_timeout: size %s (8, '
      'not the new file\'s 11)' % sz)
os.close(fd); os.close(fd2)
os.unlink(D + '/f13'); os.symlink('f14', D + '/f13')
with open(D + '/brandnew', 'w') as f: f.write('x')
os.listdir(D)
check(scan(D) == scan(srv + '/d'), 'listed again after changes through the mount: as the server has it')
same('d/f13', 'a file replaced by a symlink')
# a listing read ahead (opendir sends its READDIRs at once) while a file
# in it is written through an fd: the names it hands over later must not
# carry the size from before the write (readdirplus sets the kernel's)
for i, name in enumerate(('f15', 'f16', 'f17')):
    dfd = os.open(D, os.O_RDONLY | os.O_DIRECTORY)
    time.sleep(0.05) # the READDIR replies are in
    fd = os.open(D + '/' + name, os.O_WRONLY)
    os.pwrite(fd, b'Y' * (7000 + i), 0) # acknowledged by write-behind
    if i == 1: os.fsync(fd)
    os.listdir(dfd)
    os.close(dfd)
    sz = os.lstat(D + '/' + name).st_size
    check(sz == 7000 + i, 'the size of a file written while its directory was being '
          'read ahead: %d (wrote %d bytes)' % (sz, 7000 + i))
    same('d/' + name, 'written while its directory was being read ahead%s'
         % (' (fsync)' if i == 1 else ''), kernel=True)
    os.close(fd)
# link counts: from the listing's long names (SFTP v3 attributes have
# none), and a link(2) through the mount counts on both names at once
os.listdir(D)
nl = (os.lstat(D + '/linked').st_nlink, os.lstat(D + '/linked2').st_nlink, os.lstat(D + '/f1').st_nlink)
check(nl == (2, 2, 1), 'link counts after a listing: linked %d, linked2 %d, f1 %d' % nl)
os.link(D + '/f2', D + '/f2-link')
nl = (os.stat(D + '/f2').st_nlink, os.stat(D + '/f2-link').st_nlink)
check(nl == (2, 2), 'after link(2) through the mount: %d and %d' % nl)
# rewinddir on a directory listed from the kept listing: it shows the
# directory as it is now (POSIX: as opendir would), with our own changes
# from a fresh copy of the kept listing...
os.mkdir(D + '/rw')
open(D + '/rw/one', 'w').close()
os.listdir(D + '/rw')
dfd = os.open(D + '/rw', os.O_RDONLY | os.O_DIRECTORY)
first = sorted(os.listdir(dfd))
open(D + '/rw/two', 'w').close()
os.unlink(D + '/rw/one')
again = sorted(os.listdir(dfd)) # (listdir on an fd rewinds it)
check(first == ['one'] and again == ['two'],
      'rewinddir after changes through the mount: %s then %s' % (first, again))
# ...and, once a change leaves the kept listing uncertain (a name renamed
# in from elsewhere), from the server
os.rename(D + '/f18', D + '/rw/three')
third = sorted(os.listdir(dfd))
check(third == ['three', 'two'], 'rewinddir after a rename into it: %s' % third)
os.close(dfd)
# A file open for reading: the kernel asks for its attributes (through
# the handle) before a read once they are older than attr_timeout (1 s);
# they are answered from what the handle saw and checked behind (ops.c
# getattr_early): a change made on the server shows in the data read
# within the attribute timeout and a read or two more.
# (Not a small file: one read whole is kept, and answers as it was,
# within cache_timeout.)
S = srv + '/d'
K = 1 << 20
with open(D + '/chg', 'wb') as f: # (made through the mount: a name made
    f.write(b'a' * K)             # on the server shows after cache_timeout)
fd = os.open(D + '/chg', os.O_RDONLY)
check(os.pread(fd, 4096, 0) == b'a' * 4096, 'file open for reading: first content')
time.sleep(1.2)
check(os.pread(fd, 4096, 8192) == b'a' * 4096, 'read again after attr_timeout')
t = os.stat(S + '/chg').st_mtime + 5
with open(S + '/chg', 'r+b') as f: # changed in place on the server
    f.write(b'd' * (K + 4000))
os.utime(S + '/chg', (t, t))
seen = None
end = time.time() + 4
while time.time() < end:
    seen = os.pread(fd, 4096, 0)
    if seen != b'a' * 4096:
        break
    time.sleep(0.1)
check(seen == b'd' * 4096, 'a change on the server while open shows in the data: %r' % seen[:8])
os.close(fd)
sys.exit(1 if fails else 0)
PY
rc=$?
fusermount3 -u "$mnt" || { echo "FAIL: unmount"; rc=1; }
exit $rc
