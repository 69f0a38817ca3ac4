#!/bin/bash
# Unlink-behind (fs/ubehind.c): after one unlink in a directory has been
# answered by the server, the next ones there are answered as they go
# out.  Asserted: rm -rf of a tree leaves nothing on the server, also when
# the file system is unmounted right after it (the daemon does the
# removals on their way before it ends); a removal the server refuses after it was
# answered (an immutable file: chattr +i) brings its name back and its
# error (EACCES: SFTP v3 says PERMISSION_DENIED for EPERM) comes from the next unlink in that directory, or from the
# rmdir of the directory (which the server refuses with ENOTEMPTY); with
# unlink_behind=no the refused unlink itself fails.
set -uo pipefail
. "$(dirname "$0")/lib.sh"
command -v python3 >/dev/null || { echo "SKIP: no python3"; exit 77; }
command -v chattr >/dev/null || { echo "SKIP: no chattr (e2fsprogs)"; exit 77; }

srv=$SFTPMNT_TEST_ROOT/ub
rm -rf "$srv"
mkdir -p "$srv"
probe=$srv/.probe
touch "$probe"
if ! chattr +i "$probe" 2>/dev/null; then
	rm -f "$probe"
	echo "SKIP: the test directory's file system has no immutable flag"
	exit 77
fi
chattr -i "$probe"
rm -f "$probe"
cleanup_attrs() { chattr -R -i "$srv" 2>/dev/null; rm -rf "$srv"; }
trap 'cleanup_attrs; mt_cleanup' EXIT

mktree() { # dir dirs files-per-dir
	local d f
	mkdir -p "$1"
	for d in $(seq 1 "$2"); do
		mkdir "$1/d$d"
		for f in $(seq 1 "$3"); do echo "$d/$f" >"$1/d$d/f$f.txt"; done
	done
}

# 1. rm -rf of a tree through a 40 ms round trip; rm -f of a directory's
# files, then unmount at once: removals are still on their way, and the
# daemon does them before it ends
mktree "$srv/tree" 6 40
mktree "$srv/flat" 1 200
mktree "$srv/synced" 1 100
proxy_start 20
mount_sftp "$srv" -o "$proxy_opts" || { fail "mount"; finish; }
if run_guarded 60 rm -rf "$mnt/tree"; then ok "rm -rf of 6 x 40 files"; else fail "rm -rf"; fi
[ ! -e "$mnt/tree" ] && ok "the tree is gone from the mount" || fail "tree still in the mount"
# an fsync of the directory waits until the removals answered early
# there are done on the server
ls "$mnt/synced/d1" >/dev/null
rm -f "$mnt/synced/d1/"* || fail "rm -f of 100 files"
MNT=$mnt SRV=$srv python3 -c '
import os, sys
fd = os.open(os.environ["MNT"] + "/synced/d1", os.O_RDONLY | os.O_DIRECTORY)
os.fsync(fd)
n = len(os.listdir(os.environ["SRV"] + "/synced/d1"))
print(("ok: " if n == 0 else "FAIL: ") + "fsync of the directory: %d of 100 files left on the server after it" % n)
sys.exit(n != 0)' || fails=$((fails + 1))
ls "$mnt/flat/d1" >/dev/null
rm -f "$mnt/flat/d1/"* || fail "rm -f of 200 files"
unmount_sftp || fail "unmount"
# the unmount does not wait for the daemon: it ends when they are done
for _ in $(seq 1 100); do kill -0 "$daemon" 2>/dev/null || break; sleep 0.1; done
kill -0 "$daemon" 2>/dev/null && fail "the daemon still runs 10 s after the unmount"
if [ ! -e "$srv/tree" ]; then
	ok "nothing left of the tree on the server"
else
	fail "left on the server: $(find "$srv/tree" | head -5 | tr '\n' ' ')"
fi
left=$(find "$srv/flat/d1" -type f | wc -l)
[ "$left" = 0 ] && ok "the daemon did the removals on their way before it ended" ||
	fail "$left of 200 files left on the server after the unmount"
proxy_stop

# 2. a refused removal after the early answer: the name comes back and
# the error is reported by the next change of names in the directory
mktree "$srv/a" 1 6
mktree "$srv/b" 1 4
chattr +i "$srv/a/d1/f2.txt" "$srv/a/d1/f6.txt" "$srv/b/d1/f2.txt"
mount_sftp "$srv" || { fail "mount"; finish; }
MNT=$mnt PYTHONPATH=$here python3 - <<'PY' || fails=$((fails + 1))
import errno, os, sys
mnt = os.environ['MNT']
import mt
from mt import check
def unlink_err(p):
    try:
        os.unlink(p)
        return 0
    except OSError as e:
        return e.errno
d = mnt + '/a/d1'
os.listdir(d)                      # the directory's listing is kept
check(unlink_err(d + '/f1.txt') == 0, 'first unlink (answered by the server)')
e = unlink_err(d + '/f2.txt')      # immutable: the server refuses it
check(e in (0, errno.EPERM, errno.EACCES), 'unlink of the immutable file: %s' % (e and errno.errorcode[e]))
# a lookup goes out after the REMOVE: its answer comes after the refusal
check(os.path.exists(d + '/f2.txt'), 'the refused name is there again')
if e == 0:
    e3 = unlink_err(d + '/f3.txt')
    check(e3 in (errno.EPERM, errno.EACCES), 'the next unlink there reports the refusal: %s' % errno.errorcode.get(e3, e3))
    check(os.path.exists(d + '/f3.txt'), 'that unlink did not remove its file')
    check(unlink_err(d + '/f3.txt') == 0, 'the error is reported once')
    # an fsync of the directory reports a refusal too, once
    check(unlink_err(d + '/f4.txt') == 0, 'unlink f4 (answered early)')
    e5 = unlink_err(d + '/f6.txt')   # immutable too: refused after the answer
    fd = os.open(d, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
        ef = 0
    except OSError as x:
        ef = x.errno
    check(e5 == 0 and ef in (errno.EPERM, errno.EACCES),
          'fsync of the directory reports a removal refused after its answer: %s' % errno.errorcode.get(ef, ef))
    try:
        os.fsync(fd)
        ef = 0
    except OSError as x:
        ef = x.errno
    os.close(fd)
    check(ef == 0, 'and only once')
else:
    check(False, 'the second unlink was answered early (unlink-behind is on)')
check(not os.path.exists(d + '/f1.txt'), 'f1 removed')
check(sorted(os.listdir(d)) == ['f2.txt', 'f5.txt', 'f6.txt'],
      'listing after: %s' % sorted(os.listdir(d)))
# rmdir of the directory itself says why it is not empty
d = mnt + '/b/d1'
os.listdir(d)
ok = [unlink_err(d + '/f%d.txt' % i) for i in (1, 2)]
check(ok == [0, 0], 'unlinks answered: %s' % ok)
try:
    os.rmdir(d)
    r = 0
except OSError as x:
    r = x.errno
check(r in (errno.EPERM, errno.EACCES), 'rmdir of the directory reports the refusal: %s' % errno.errorcode.get(r, r))
check(sorted(os.listdir(d)) == ['f2.txt', 'f3.txt', 'f4.txt'],
      'left in it: %s' % sorted(os.listdir(d)))
mt.done()
PY
unmount_sftp || fail "unmount"
[ -e "$srv/a/d1/f2.txt" ] && [ -e "$srv/a/d1/f5.txt" ] && [ ! -e "$srv/a/d1/f4.txt" ] && [ ! -e "$srv/a/d1/f1.txt" ] &&
	ok "server side as reported" || fail "server side: $(ls "$srv/a/d1" | tr '\n' ' ')"

# 4. the next directories of a tree: a removal confirmed in d1 vouches
# for its siblings of the same owner, group and mode, so the first unlink
# in d2 is answered early too (its file is immutable: it comes back, and
# the next unlink there says why); an emptied directory's rmdir is
# answered early once a removal in its parent was confirmed (d3 gets a
# file on the server behind the mount's back: the rmdir fails after all,
# d3 is there again, and the rmdir of the parent says why)
chattr -i "$srv/a/d1/f2.txt" "$srv/a/d1/f6.txt" "$srv/b/d1/f2.txt"
rm -rf "$srv/a" "$srv/b"
mktree "$srv/c" 4 3
chattr +i "$srv/c/d2/f1.txt"
mount_sftp "$srv" || { fail "mount"; finish; }
MNT=$mnt SRV=$srv PYTHONPATH=$here python3 - <<'PY' || fails=$((fails + 1))
import errno, os
mnt, srv = os.environ['MNT'], os.environ['SRV']
import mt
from mt import check, err_of
def e_of(f, *a):    # 0: it worked
    return err_of(lambda: f(*a)) or 0
c = mnt + '/c'
for d in [c] + [c + '/d%d' % i for i in range(1, 5)]:
    os.listdir(d)                  # the listings are kept
for i in (1, 2, 3):
    os.unlink(c + '/d1/f%d.txt' % i)
os.rmdir(c + '/d1')                # (confirmed: vouches for c)
e = e_of(os.unlink, c + '/d2/f1.txt')
check(e == 0, 'first unlink in the sibling d2 answered early: %s' % errno.errorcode.get(e, e))
check(os.path.exists(c + '/d2/f1.txt'), 'the refused name is back in d2')
e = e_of(os.unlink, c + '/d2/f2.txt')
check(e in (errno.EPERM, errno.EACCES), 'the next unlink in d2 reports the refusal: %s' % errno.errorcode.get(e, e))
for i in (1, 2, 3):
    os.unlink(c + '/d4/f%d.txt' % i)
os.rmdir(c + '/d4')
for i in (1, 2, 3):
    os.unlink(c + '/d3/f%d.txt' % i)
open(srv + '/c/d3/sneaky', 'w').close()   # not through the mount
e = e_of(os.rmdir, c + '/d3')
check(e == 0, 'rmdir of the emptied d3 answered early: %s' % errno.errorcode.get(e, e))
# (the lookup goes out after the RMDIR: answered after its refusal)
check(os.path.isdir(c + '/d3'), 'd3 is there again (the server refused to remove it)')
e = e_of(os.rmdir, c)
check(e == errno.ENOTEMPTY, 'rmdir of the parent: %s (ENOTEMPTY)' % errno.errorcode.get(e, e))
check(sorted(os.listdir(c)) == ['d2', 'd3'], 'left in it: %s' % sorted(os.listdir(c)))
mt.done()
PY
unmount_sftp || fail "unmount"
[ -e "$srv/c/d3/sneaky" ] && [ ! -e "$srv/c/d4" ] && [ ! -e "$srv/c/d1" ] && [ -e "$srv/c/d2/f1.txt" ] &&
	ok "server side as reported" || fail "server side: $(find "$srv/c" | tr '\n' ' ')"
chattr -i "$srv/c/d2/f1.txt"
rm -rf "$srv/c"

# 3. unlink_behind=no: the refused unlink itself fails
mktree "$srv/a" 1 4
chattr +i "$srv/a/d1/f2.txt"
mount_sftp "$srv" -o unlink_behind=no || { fail "mount"; finish; }
ls "$mnt/a/d1" >/dev/null
rm -f "$mnt/a/d1/f1.txt" || fail "unlink f1"
if rm -f "$mnt/a/d1/f2.txt" 2>"$work/err"; then
	fail "unlink of an immutable file succeeded with unlink_behind=no"
else
	# (SFTP v3 has one code for EPERM and EACCES: PERMISSION_DENIED)
	grep -qE "not permitted|Permission denied" "$work/err" &&
		ok "unlink_behind=no: refused at once" ||
		fail "unexpected error: $(cat "$work/err")"
fi
unmount_sftp || fail "unmount"
chattr -i "$srv/a/d1/f2.txt"
finish
