#!/bin/bash
# Through a real FUSE mount of the test sshd: the everyday tools (ls, cat,
# cp, ln -s, mv, mkdir, rm, truncate, chmod, touch, df) give the results
# they give on a local disk, files land byte-exact on the server, and the
# common errors come back with the right errno.
set -uo pipefail
: "${SFTPMNT_TEST_ROOT:?run through make check}"
[ -c /dev/fuse ] || { echo "SKIP: no /dev/fuse"; exit 77; }
command -v fusermount3 >/dev/null || { echo "SKIP: no fusermount3 (install fuse3)"; exit 77; }

bin=${SFTPMNT_BIN:?}
srv=$SFTPMNT_TEST_ROOT/m
mnt=$(mktemp -d)
fails=0
cleanup() {
	fusermount3 -uz "$mnt" 2>/dev/null
	rmdir "$mnt" 2>/dev/null
}
trap cleanup EXIT
fail() { echo "FAIL: $*"; fails=$((fails + 1)); }
ok() { echo "ok: $*"; }

mkdir -p "$srv/dir"
printf 'hello\n' >"$srv/dir/hello.txt"
"$bin" "$SFTPMNT_TEST_USER@127.0.0.1:$srv" "$mnt" -o "port=$SFTPMNT_TEST_PORT,IdentityFile=$SFTPMNT_TEST_KEY,UserKnownHostsFile=$SFTPMNT_TEST_KNOWN_HOSTS" ||
	{ echo "FAIL: mount"; exit 1; }
grep -q " $mnt fuse.sftpmnt " /proc/mounts || { echo "FAIL: not in /proc/mounts"; exit 1; }
ok "mounted"

[ "$(cat "$mnt/dir/hello.txt")" = hello ] && ok "cat" || fail "cat"
[ "$(ls "$mnt")" = dir ] && ok "ls" || fail "ls: $(ls "$mnt")"
ls -la "$mnt/dir" | grep -q ' \.$' && ok "ls -a shows ." || fail "no . entry"

cp "$mnt/dir/hello.txt" "$mnt/copy.txt" && cmp -s "$srv/dir/hello.txt" "$srv/copy.txt" &&
	ok "cp inside" || fail "cp inside"

src=$(mktemp)
back=$(mktemp)
head -c 20000000 /dev/urandom >"$src"
cp "$src" "$mnt/big.bin" && cmp -s "$src" "$srv/big.bin" && ok "cp 20 MB in, byte-exact on the server" || fail "cp in"
cp "$mnt/big.bin" "$back" && cmp -s "$src" "$back" && ok "cp 20 MB out" || fail "cp out"
rm -f "$src" "$back"

ln -s ../dangling/target "$mnt/dir/lnk" && [ "$(readlink "$mnt/dir/lnk")" = ../dangling/target ] &&
	[ "$(readlink "$srv/dir/lnk")" = ../dangling/target ] && ok "ln -s dangling, readlink verbatim" ||
	fail "symlink"
[ -L "$mnt/dir/lnk" ] && ok "lstat shows the link" || fail "lstat of link"
ln -s hello.txt "$mnt/dir/good" && [ "$(cat "$mnt/dir/good")" = hello ] && ok "follow symlink" || fail "follow"
out=$(ln -s x "$mnt/dir/good" 2>&1) && fail "ln -s over existing succeeded" ||
	{ echo "$out" | grep -q "File exists" && ok "ln -s existing: EEXIST" || fail "ln -s existing: $out"; }

echo written >"$mnt/new.txt" && [ "$(cat "$srv/new.txt")" = written ] && ok "write" || fail "write"
mkdir "$mnt/sub" && [ -d "$srv/sub" ] && ok "mkdir" || fail "mkdir"
mv "$mnt/new.txt" "$mnt/sub/" && [ -f "$srv/sub/new.txt" ] && [ ! -e "$srv/new.txt" ] &&
	ok "mv across directories" || fail "mv"
[ "$(cat "$mnt/sub/new.txt")" = written ] && ok "read after mv" || fail "read after mv"
echo other >"$mnt/over.txt" && mv "$mnt/over.txt" "$mnt/sub/new.txt" &&
	[ "$(cat "$srv/sub/new.txt")" = other ] && ok "mv over an existing file" || fail "mv over"
out=$(rmdir "$mnt/sub" 2>&1) && fail "rmdir of non-empty succeeded" ||
	{ echo "$out" | grep -q "not empty" && ok "rmdir non-empty: ENOTEMPTY" || fail "rmdir: $out"; }
out=$(mkdir "$mnt/sub" 2>&1) && fail "mkdir existing succeeded" ||
	{ echo "$out" | grep -q "File exists" && ok "mkdir existing: EEXIST" || fail "mkdir: $out"; }
out=$(cat "$mnt/missing" 2>&1) && fail "cat missing succeeded" ||
	{ echo "$out" | grep -q "No such file" && ok "missing file: ENOENT" || fail "missing: $out"; }
rm "$mnt/sub/new.txt" && rmdir "$mnt/sub" && [ ! -e "$srv/sub" ] && ok "rm, rmdir" || fail "rm/rmdir"

truncate -s 3 "$mnt/copy.txt" && [ "$(stat -c %s "$srv/copy.txt")" = 3 ] && ok "truncate" || fail "truncate"
chmod 600 "$mnt/copy.txt" && [ "$(stat -c %a "$srv/copy.txt")" = 600 ] && ok "chmod" || fail "chmod"
touch -d '2001-02-03 04:05:06 UTC' "$mnt/copy.txt" &&
	[ "$(stat -c %Y "$srv/copy.txt")" = 981173106 ] && ok "touch -d" || fail "touch"
df "$mnt" | grep -q sftpmnt && ok "df" || fail "df"
# extended attributes: SFTP v3 has none; every call says ENOTSUP (not
# ENOSYS, not a silent success that would lose the value)
out=$(/usr/bin/python3 - "$mnt/copy.txt" <<'PY'
import errno, os, sys
p = sys.argv[1]
for what, call in (('setxattr', lambda: os.setxattr(p, 'user.k', b'v')),
                   ('getxattr', lambda: os.getxattr(p, 'user.k')),
                   ('listxattr', lambda: os.listxattr(p)),
                   ('removexattr', lambda: os.removexattr(p, 'user.k'))):
    for attempt in (1, 2): # (the kernel remembers the first answer)
        try:
            call()
            print('%s succeeded' % what)
        except OSError as e:
            if e.errno != errno.ENOTSUP:
                print('%s: %s' % (what, errno.errorcode.get(e.errno)))
PY
)
[ -z "$out" ] && ok "xattrs: ENOTSUP" || fail "xattrs: $out"

# file handles (name_to_handle_at / open_by_handle_at, what NFS export
# and some backup tools use): a handle taken through the mount opens the
# same file again, also after the kernel dropped its cached inodes
mkdir -p "$mnt/fh/sub" && echo "by handle" >"$mnt/fh/sub/f"
out=$(/usr/bin/python3 - "$mnt" <<'PY'
import ctypes, os, sys
libc = ctypes.CDLL(None, use_errno=True)
class FH(ctypes.Structure):
    _fields_ = [("handle_bytes", ctypes.c_uint), ("handle_type", ctypes.c_int),
                ("f_handle", ctypes.c_ubyte * 128)]
mnt = sys.argv[1]
h = FH(); h.handle_bytes = 128; mid = ctypes.c_int()
if libc.name_to_handle_at(-100, (mnt + "/fh/sub/f").encode(), ctypes.byref(h), ctypes.byref(mid), 0):
    print("name_to_handle_at: errno %d" % ctypes.get_errno()); sys.exit(1)
mfd = os.open(mnt, os.O_RDONLY | os.O_DIRECTORY)
def by_handle():
    fd = libc.open_by_handle_at(mfd, ctypes.byref(h), os.O_RDONLY)
    if fd < 0:
        return "errno %d" % ctypes.get_errno()
    data = os.read(fd, 100); os.close(fd)
    return data.decode().strip()
first = by_handle()
ino = os.stat(mnt + "/fh/sub/f").st_ino
os.system("echo 2 > /proc/sys/vm/drop_caches")  # the kernel forgets dentries and inodes
second = by_handle()
same = os.stat(mnt + "/fh/sub/f").st_ino == ino
print("%s|%s|%s" % (first, second, "same inode" if same else "inode changed"))
PY
)
[ "$out" = "by handle|by handle|same inode" ] &&
	ok "open_by_handle_at through the mount, also after the kernel forgot the inode; its number stays" ||
	fail "file handles: $out"

# lseek(2) SEEK_DATA / SEEK_HOLE ask the server for the size (SFTP has no
# holes: data up to the end): a file grown on the server after it was
# opened here has its new end (the kernel's own answer would be the size
# it knew)
out=$(MNT=$mnt SRV=$srv python3 -c '
import os
mnt, srv = os.environ["MNT"], os.environ["SRV"]
open(mnt + "/sk", "wb").write(b"x" * 1000)
fd = os.open(mnt + "/sk", os.O_RDONLY)
os.fstat(fd)
open(srv + "/sk", "ab").write(b"y" * 9000)
r = [os.lseek(fd, 0, os.SEEK_HOLE), os.lseek(fd, 5000, os.SEEK_DATA)]
try:
    os.lseek(fd, 10000, os.SEEK_DATA); r.append("no ENXIO")
except OSError as e:
    r.append(e.errno)
os.close(fd)
print(r)')
[ "$out" = "[10000, 5000, 6]" ] &&
	ok "SEEK_HOLE/SEEK_DATA: the end as the server has it (grown behind the mount): $out" ||
	fail "SEEK_HOLE/SEEK_DATA: $out (want [10000, 5000, 6])"

fusermount3 -u "$mnt" && ok "unmounted" || fail "unmount"
for _ in $(seq 1 50); do
	grep -q " $mnt " /proc/mounts || break
	sleep 0.1
done
grep -q " $mnt " /proc/mounts && fail "still mounted"
# the daemon exits after the unmount (a sanitizer build on a loaded
# machine takes a while)
for _ in $(seq 1 300); do
	pgrep -f "sftpmnt .*$mnt" >/dev/null || break
	sleep 0.1
done
pgrep -f "sftpmnt .*$mnt" >/dev/null && fail "daemon still running 30 s after the unmount"
[ $fails = 0 ] || { echo "$fails failures"; exit 1; }
