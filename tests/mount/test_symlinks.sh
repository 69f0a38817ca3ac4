#!/bin/bash
# symlink(2) through the mount, case by case as the manual pages state it
# (Linux symlink(2), FreeBSD symlink(2)): the target is any string, stored
# and returned verbatim (checked with readlink(2) on the mount AND on the
# server), dangling targets and ".." are fine, an existing name gives
# EEXIST, a missing parent ENOENT, a file as a parent ENOTDIR, lstat shows
# S_IFLNK with st_size = the target's length, and the kernel follows the
# link to a file and to a directory.
set -uo pipefail
. "$(dirname "$0")/lib.sh"

srv=$SFTPMNT_TEST_ROOT/sym
mkdir -p "$srv"
# what changes on the server behind the mount's back shows once the
# mount's caches expire (cache_timeout, 1 s; given here explicitly): a
# kept listing of the directory may say "no such name" until then
mount_sftp "$srv" -o cache_timeout=1 || { echo "FAIL: mount"; exit 1; }
settle() { sleep 1.2; }
ok "mounted"

# sym TARGET LINKPATH -> "ok" or the errno name of symlink(TARGET, LINKPATH)
# (ln -sT calls symlink(2) once, never "into" an existing directory)
sym() {
	local out
	out=$(LC_ALL=C ln -sT -- "$1" "$2" 2>&1) && { echo ok; return; }
	case $out in
	*"File exists") echo EEXIST ;;
	*"No such file or directory") echo ENOENT ;;
	*"Not a directory") echo ENOTDIR ;;
	*"Too many levels of symbolic links") echo ELOOP ;;
	*"File name too long") echo ENAMETOOLONG ;;
	*"Permission denied") echo EACCES ;;
	*) echo "other: $out" ;;
	esac
}
# expect WHAT TARGET LINKPATH ERRNO
expect() {
	local got
	got=$(sym "$2" "$3")
	[ "$got" = "$4" ] && ok "$1: $4" || fail "$1: expected $4, got $got"
}

# 1. any target string, returned byte for byte by readlink(2) on the mount
# and on the server, lstat size = length, S_IFLNK
python3 - "$mnt" "$srv" <<'PY'
import os, stat, sys
mnt, srv = (os.fsencode(a) for a in sys.argv[1:])
targets = [
    b"plain", b"with space", b"  leading and trailing  ", b"new\nline",
    b"trailing newline\n", b"tab\there", b"\xc3\xa9\xe2\x9c\x93 utf-8",
    b"\xff\xfe not utf-8", b"-dash", b"*glob?[x]", b"a:b", b"~user/x",
    b"$HOME", b"back\\slash", b"quote'\"", b".", b"..", b"../..",
    b"//double//slashes//", b"trailing/", b"a/./b/../c", b"/", b"/etc",
    b"/absolute/not/there", b"../../../../../../../../outside",
    b"x" * 255, b"x" * 256 + b"/long-component", b"#!", b"%s%n%x",
]
bad = 0
for i, t in enumerate(targets):
    name = b"any%02d" % i
    p, s = os.path.join(mnt, name), os.path.join(srv, name)
    what = "target %r" % t[:40]
    try:
        os.symlink(t, p)
        r, rs, st = os.readlink(p), os.readlink(s), os.lstat(p)
    except OSError as e:
        print("FAIL: %s: %s" % (what, e)); bad += 1; continue
    if r != t or rs != t:
        print("FAIL: %s: mount readlink %r, server readlink %r" % (what, r, rs)); bad += 1
    elif not stat.S_ISLNK(st.st_mode) or st.st_size != len(t):
        print("FAIL: %s: lstat mode %o size %d" % (what, st.st_mode, st.st_size)); bad += 1
    else:
        print("ok: %s verbatim (mount, server, lstat size %d)" % (what, len(t)))
sys.exit(min(bad, 100))
PY
fails=$((fails + $?))

# 2. long targets: every length up to PATH_MAX - 1 = 4095 bytes; 4096 is
# refused by the kernel (ENAMETOOLONG)
python3 - "$mnt" "$srv" <<'PY'
import errno, os, stat, sys
mnt, srv = sys.argv[1:]
bad = 0
for n in (1, 100, 254, 255, 256, 511, 512, 1000, 1023, 1024, 2048, 4000,
          4094, 4095):
    t = ("d/" * n)[:n - 1] + "z" if n > 1 else "z"
    p = os.path.join(mnt, "long%d" % n)
    try:
        os.symlink(t, p)
        r, rs = os.readlink(p), os.readlink(os.path.join(srv, "long%d" % n))
        size = os.lstat(p).st_size
    except OSError as e:
        print("FAIL: %d-byte target: %s" % (n, e)); bad += 1; continue
    if r == t and rs == t and size == n:
        print("ok: %d-byte target verbatim" % n)
    else:
        print("FAIL: %d-byte target: readlink %d bytes, server %d, size %d"
              % (n, len(r), len(rs), size)); bad += 1
try:
    os.symlink("y" * 4096, os.path.join(mnt, "long4096"))
    print("FAIL: a 4096-byte target was accepted"); bad += 1
except OSError as e:
    if e.errno == errno.ENAMETOOLONG:
        print("ok: 4096-byte target: ENAMETOOLONG")
    else:
        print("FAIL: 4096-byte target: %s" % e); bad += 1
sys.exit(bad)
PY
fails=$((fails + $?))

# 3. dangling: created, lstat works, stat and open give ENOENT
expect "create a dangling symlink" "does/not/exist" "$mnt/dangling" ok
[ "$(readlink "$mnt/dangling")" = does/not/exist ] && ok "dangling: readlink" || fail "dangling: readlink"
[ -L "$mnt/dangling" ] && [ ! -e "$mnt/dangling" ] && ok "dangling: lstat yes, stat no" ||
	fail "dangling: -L/-e"
out=$(cat "$mnt/dangling" 2>&1) && fail "dangling: cat succeeded" ||
	{ echo "$out" | grep -q "No such file" && ok "dangling: open ENOENT" || fail "dangling: cat: $out"; }
# creating the target makes it work
echo later >"$srv/does-later"
settle
expect "dangling, target created later" does-later "$mnt/later" ok
[ "$(cat "$mnt/later" 2>&1)" = later ] && ok "follow once the target exists" || fail "follow later"

# 4. relative with ..: at the start of the link, relative to its directory
mkdir -p "$mnt/a/b/c" && echo top >"$mnt/top.txt" && echo mid >"$mnt/a/mid.txt"
expect "relative ../../../top.txt" ../../../top.txt "$mnt/a/b/c/up3" ok
[ "$(cat "$mnt/a/b/c/up3" 2>&1)" = top ] && ok "follow ../../../" || fail "follow ../../../: $(cat "$mnt/a/b/c/up3" 2>&1)"
expect "relative ../../mid.txt" ../../mid.txt "$mnt/a/b/c/up2" ok
[ "$(cat "$mnt/a/b/c/up2" 2>&1)" = mid ] && ok "follow ../../" || fail "follow ../../"
expect "relative b/../b/c/../../mid.txt" b/../b/c/../../mid.txt "$mnt/a/mixed" ok
[ "$(cat "$mnt/a/mixed" 2>&1)" = mid ] && ok "follow a mixed ../ path" || fail "follow mixed"
[ "$(readlink "$srv/a/b/c/up3")" = ../../../top.txt ] && ok "server stores ../../../top.txt" ||
	fail "server readlink: $(readlink "$srv/a/b/c/up3")"

# 5. absolute targets are stored verbatim and resolved by the client
expect "absolute to the server's path" "$srv/top.txt" "$mnt/abs-srv" ok
[ "$(readlink "$srv/abs-srv")" = "$srv/top.txt" ] && ok "absolute: server stores it verbatim" ||
	fail "absolute: server has $(readlink "$srv/abs-srv")"
[ "$(cat "$mnt/abs-srv" 2>&1)" = top ] && ok "absolute: followed on the client" || fail "absolute: follow"
expect "absolute into the mount itself" "$mnt/a/mid.txt" "$mnt/abs-mnt" ok
[ "$(cat "$mnt/abs-mnt" 2>&1)" = mid ] && ok "absolute into the mount: followed" || fail "abs-mnt follow"
expect "absolute dangling" /nonexistent/path "$mnt/abs-dangling" ok
[ "$(readlink "$mnt/abs-dangling")" = /nonexistent/path ] && ok "absolute dangling: readlink" ||
	fail "abs-dangling readlink"

# 6. EEXIST whatever the existing name is
echo f >"$mnt/efile"
mkdir "$mnt/edir"
ln -s target "$mnt/elink"
expect "name is a file" x "$mnt/efile" EEXIST
expect "name is a directory" x "$mnt/edir" EEXIST
expect "name is a dangling symlink" x "$mnt/dangling" EEXIST
expect "name is a symlink" x "$mnt/elink" EEXIST
expect "name is a symlink to a directory" x "$mnt/a/b/c/up3" EEXIST
[ "$(cat "$mnt/efile")" = f ] && [ -d "$mnt/edir" ] && [ "$(readlink "$mnt/elink")" = target ] &&
	[ "$(readlink "$mnt/dangling")" = does/not/exist ] && ok "EEXIST left every name as it was" ||
	fail "an EEXIST changed something"
ln -s x "$srv/made-on-server"
expect "name made on the server behind the mount's back" y "$mnt/made-on-server" EEXIST
# the kernel may remember that the name did not exist (negative dentry);
# the server still refuses
[ -e "$mnt/made-later" ] || ln -s x "$srv/made-later"
expect "name made on the server after a failed lookup" y "$mnt/made-later" EEXIST
[ "$(readlink "$srv/made-later")" = x ] && ok "the server's link is left alone" || fail "made-later changed"

# 7. ENOENT: a missing parent, a dangling symlink as parent, empty target
expect "missing parent" x "$mnt/nodir/l" ENOENT
expect "missing grandparent" x "$mnt/no/dir/l" ENOENT
expect "parent is a dangling symlink" x "$mnt/dangling/l" ENOENT
expect "empty target" "" "$mnt/empty" ENOENT
[ ! -e "$srv/nodir" ] && [ ! -L "$srv/empty" ] && ok "nothing created by the ENOENT cases" || fail "ENOENT left entries"

# 8. ENOTDIR: a parent component is a file (directly or through a link)
expect "parent is a file" x "$mnt/efile/l" ENOTDIR
expect "grandparent is a file" x "$mnt/efile/sub/l" ENOTDIR
ln -s efile "$mnt/link-to-file"
expect "parent is a symlink to a file" x "$mnt/link-to-file/l" ENOTDIR

# 9. ELOOP: a parent component is a symlink loop
ln -s loop2 "$mnt/loop1" && ln -s loop1 "$mnt/loop2"
expect "parent is a symlink loop" x "$mnt/loop1/l" ELOOP
out=$(cat "$mnt/loop1" 2>&1) && fail "loop: cat succeeded" ||
	{ echo "$out" | grep -q "Too many levels" && ok "following a loop: ELOOP" || fail "loop: $out"; }

# 10. a parent that is a symlink to a directory is followed
ln -s a/b "$mnt/to-b"
expect "parent is a symlink to a directory" ../top.txt "$mnt/to-b/via" ok
[ "$(readlink "$srv/a/b/via")" = ../top.txt ] && ok "created in the link's target directory" ||
	fail "via link: server has $(ls "$srv/a/b")"

# 11. lstat: S_IFLNK, st_size = length of the target (bytes, also UTF-8)
for t in x ab/cd "$(printf 'é%.0s' {1..10})" "$srv/top.txt"; do
	name="$mnt/size-$RANDOM"
	ln -s "$t" "$name"
	want=$(printf %s "$t" | wc -c)
	got=$(stat -c '%F %s' "$name")
	[ "$got" = "symbolic link $want" ] && ok "lstat of a link to a ${#t}-char target: $got" ||
		fail "lstat: want 'symbolic link $want' got '$got'"
done

# 12. following: to a file (read, write through, stat) and to a directory
ln -s top.txt "$mnt/to-file"
[ "$(cat "$mnt/to-file")" = top ] && ok "follow to a file: read" || fail "follow file read"
echo appended >>"$mnt/to-file" && [ "$(tail -1 "$srv/top.txt")" = appended ] &&
	ok "follow to a file: write lands in the target" || fail "follow file write"
[ "$(stat -L -c %F "$mnt/to-file")" = "regular file" ] && [ "$(stat -c %F "$mnt/to-file")" = "symbolic link" ] &&
	ok "stat follows, lstat does not" || fail "stat/lstat of link to file"
ln -s a "$mnt/to-dir"
[ "$(ls "$mnt/to-dir" | tr '\n' ' ')" = "b mid.txt mixed " ] && ok "follow to a directory: ls" ||
	fail "follow to dir: ls: $(ls "$mnt/to-dir" | tr '\n' ' ')"
[ -d "$mnt/to-dir" ] && [ "$(cat "$mnt/to-dir/mid.txt")" = mid ] && ok "follow to a directory: path through it" ||
	fail "follow to dir: path"
echo new >"$mnt/to-dir/created-through" && [ -f "$srv/a/created-through" ] &&
	ok "follow to a directory: create through it" || fail "create through dir link"
(cd "$mnt/to-dir/b" && [ "$(pwd -P)" = "$mnt/a/b" ]) && ok "cd through a link: physical path" ||
	fail "cd through link"
ln -s to-file "$mnt/chain"
[ "$(cat "$mnt/chain")" = "$(cat "$mnt/top.txt")" ] && ok "follow a chain of two links" || fail "chain"

# 13. links made on the server are shown verbatim; changes show at once
ln -s "../odd//target/./x" "$srv/server-made"
settle
[ "$(readlink "$mnt/server-made")" = "../odd//target/./x" ] && ok "server-made link shown verbatim" ||
	fail "server-made: $(readlink "$mnt/server-made")"
rm "$mnt/elink" && ln -s new-target "$mnt/elink" && [ "$(readlink "$mnt/elink")" = new-target ] &&
	[ "$(readlink "$srv/elink")" = new-target ] && ok "replace a link: readlink is the new target at once" ||
	fail "replaced link: $(readlink "$mnt/elink")"
mv "$mnt/elink" "$mnt/a/moved-link" && [ "$(readlink "$mnt/a/moved-link")" = new-target ] &&
	ok "a renamed link keeps its target string" || fail "renamed link"
rm "$mnt/to-file" && [ -f "$mnt/top.txt" ] && ok "unlink of a link keeps the target" || fail "unlink link"
rm -r "$mnt/to-dir" 2>/dev/null; [ ! -L "$mnt/to-dir" ] && [ -f "$mnt/a/mid.txt" ] &&
	ok "rm -r of a link to a directory removes only the link" || fail "rm -r link"

# 14. readdir reports links as links (d_type), ls -l shows the target
out=$(ls -l "$mnt" 2>&1)
echo "$out" | grep -q -- " chain -> to-file$" && ok "ls -l shows 'chain -> to-file'" ||
	fail "ls -l: $(echo "$out" | grep -e chain -e "^ls")"
[ "$(find "$mnt" -maxdepth 1 -type l | wc -l)" = "$(find "$srv" -maxdepth 1 -type l | wc -l)" ] &&
	ok "find -type l counts the same links as on the server" || fail "find -type l"

unmount_sftp && ok "unmounted" || fail "unmount"
finish
