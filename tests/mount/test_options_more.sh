#!/bin/bash
# Options of the daemon that nothing else exercised, each shown to do
# what sftpmnt(1) says (the algorithm, compression and timing options are
# in test_options_ssh.sh):
#  - -h/--help and -V/--version print on stdout and exit 0; bad usage
#    exits 2 with a message on stderr and nothing on stdout;
#  - StrictHostKeyChecking=no mounts a host missing from known_hosts and
#    one whose key differs from the listed one (as ssh(1) connects then,
#    with a warning); the same known_hosts without it is refused;
#  - idmap=user: files of the login account show as the local user's,
#    files of others keep their ids, new files and chown map back;
#  - kernel_cache: a file changed on the server behind the mount's back
#    (same size, same time) still reads as before after a reopen, while
#    without it the reopen reads the new bytes; dir_cache=no: a file
#    made on the server shows in the next listing, while the default
#    kept listing does not show it yet;
#  - POSIX locks and flock are the kernel's own on the mount: two
#    processes conflict as on a local disk, and nothing reaches the
#    server (SFTP v3 has no locks): a lock held through the mount does
#    not stop another client of the server (here: a process on the
#    server's own files) from locking the same file;
#  - `mount -t sftpmnt` through mount.sftpmnt as `make install` links it.
set -uo pipefail
. "$(dirname "$0")/lib.sh"
command -v python3 >/dev/null || { echo "SKIP: no python3"; exit 77; }

srv=$SFTPMNT_TEST_ROOT/more
mkdir -p "$srv"
echo data >"$srv/f"
mounted() { grep -q " $mnt fuse.sftpmnt " /proc/mounts; }
umnt() { mounted && { unmount_sftp || fail "unmount $mnt"; }; }

# ---- 1. -h, -V and usage errors ----------------------------------------
for h in -h --help; do
	out=$("$bin" $h 2>"$work/err")
	rc=$?
	if [ $rc = 0 ] && [ ! -s "$work/err" ] && echo "$out" | grep -q "^usage: sftpmnt " &&
		echo "$out" | grep -q "kernel_cache" && echo "$out" | grep -q "idmap=none|user|file" &&
		echo "$out" | grep -q "StrictHostKeyChecking=yes|accept-new|no"; then
		ok "sftpmnt $h: usage and the options on stdout, exit 0"
	else
		fail "sftpmnt $h: rc=$rc stderr=$(cat "$work/err") stdout=$(echo "$out" | head -3)"
	fi
done
version=$(sed -n 's/^#define PACKAGE_VERSION "\(.*\)"/\1/p' "${top_builddir:-.}/config.h" 2>/dev/null)
for v in -V --version; do
	out=$("$bin" $v 2>"$work/err")
	rc=$?
	first=$(echo "$out" | head -n1)
	if [ $rc = 0 ] && [ ! -s "$work/err" ] && [ -n "$version" ] &&
		[ "$first" = "sftpmnt $version" ] && echo "$out" | grep -q "libssh2 API 1\." &&
		echo "$out" | grep -q "^FUSE library: 3\."; then
		ok "sftpmnt $v: versions on stdout, exit 0 ($(echo "$out" | tr '\n' ';'))"
	else
		fail "sftpmnt $v: rc=$rc version=$version stderr=$(cat "$work/err") stdout=$out"
	fi
done
# usage NAME WANT_ON_STDERR ARGS...: exit 2, the message on stderr only
usage_error() {
	local what=$1 want=$2 rc
	shift 2
	out=$("$bin" "$@" 2>"$work/err")
	rc=$?
	if [ $rc = 2 ] && [ -z "$out" ] && grep -q -- "$want" "$work/err" && ! mounted; then
		ok "$what: exit 2, on stderr: $(head -n1 "$work/err")"
	else
		fail "$what: rc=$rc stdout=$out stderr=$(cat "$work/err")"
		umnt
	fi
}
usage_error "no arguments" "^usage: sftpmnt"
usage_error "no mount point" "^usage: sftpmnt" "$SFTPMNT_TEST_USER@127.0.0.1:"
usage_error "an unknown flag" "unknown flag -Z" -Z "$SFTPMNT_TEST_USER@127.0.0.1:" "$mnt"
usage_error "too many arguments" "too many arguments" "127.0.0.1:" "$mnt" "$mnt"
usage_error "StrictHostKeyChecking=maybe" "yes, accept-new or no" "127.0.0.1:" "$mnt" \
	-o StrictHostKeyChecking=maybe
usage_error "idmap=other" "none, user or file" "127.0.0.1:" "$mnt" -o idmap=other

# ---- 2. StrictHostKeyChecking=no ---------------------------------------
ssh-keygen -q -t ed25519 -N '' -f "$work/other" </dev/null
echo "[127.0.0.1]:$SFTPMNT_TEST_PORT $(cut -d' ' -f1,2 "$work/other.pub")" >"$work/kh_bad"
: >"$work/kh_empty"
shk() { # WHAT KNOWN_HOSTS EXTRA_OPTS [ARGS...]: mounts and reads
	local what=$1 kh=$2 o=$3
	shift 3
	if "$bin" "$@" "$SFTPMNT_TEST_USER@127.0.0.1:$srv" "$mnt" \
		-o "port=$SFTPMNT_TEST_PORT,IdentityFile=$SFTPMNT_TEST_KEY,UserKnownHostsFile=$kh$o" \
		2>"$work/err" && [ "$(cat "$mnt/f")" = data ]; then
		ok "$what: mounted${o:+ ($o)}; said: $(head -c 120 "$work/err" | tr '\n' ' ')"
	else
		fail "$what: $(cat "$work/err")"
	fi
	umnt
}
refused() { # WHAT KNOWN_HOSTS WANT: exit 1 without the option
	out=$("$bin" "$SFTPMNT_TEST_USER@127.0.0.1:$srv" "$mnt" \
		-o "port=$SFTPMNT_TEST_PORT,IdentityFile=$SFTPMNT_TEST_KEY,UserKnownHostsFile=$2" 2>&1)
	rc=$?
	[ $rc = 1 ] && echo "$out" | grep -qi "$3" && ! mounted &&
		ok "$1 without StrictHostKeyChecking=no: refused (exit 1)" ||
		{ fail "$1 without the option: rc=$rc $out"; umnt; }
}
refused "host key differs" "$work/kh_bad" mismatch
shk "StrictHostKeyChecking=no, host key differs" "$work/kh_bad" ",StrictHostKeyChecking=no"
# as ssh: said loudly, and no password goes to that server (test_password)
grep -q "WARNING.*password login disabled" "$work/err" &&
	ok "a changed key under StrictHostKeyChecking=no is warned about" ||
	fail "no warning for the changed key: $(cat "$work/err")"
refused "host not in known_hosts" "$work/kh_empty" "not in"
shk "StrictHostKeyChecking=no, host not in known_hosts" "$work/kh_empty" ",StrictHostKeyChecking=no"
# as ssh: the new host's key is recorded
grep -q "^\[127.0.0.1\]:$SFTPMNT_TEST_PORT " "$work/kh_empty" &&
	ok "the new host's key was recorded in known_hosts" ||
	fail "known_hosts after StrictHostKeyChecking=no: $(cat "$work/kh_empty")"
: >"$work/kh_empty"
printf 'Host 127.0.0.1\n  StrictHostKeyChecking no\n' >"$work/shk_config"
shk "StrictHostKeyChecking no from ssh_config, host key differs" "$work/kh_bad" "" -F "$work/shk_config"
# -o comes first: yes on the command line wins over ssh_config's no
out=$("$bin" -F "$work/shk_config" "$SFTPMNT_TEST_USER@127.0.0.1:$srv" "$mnt" \
	-o "port=$SFTPMNT_TEST_PORT,IdentityFile=$SFTPMNT_TEST_KEY,UserKnownHostsFile=$work/kh_bad,StrictHostKeyChecking=yes" 2>&1)
rc=$?
[ $rc = 1 ] && echo "$out" | grep -qi mismatch && ! mounted &&
	ok "StrictHostKeyChecking=yes in -o wins over ssh_config's no" ||
	{ fail "-o yes over ssh_config no: rc=$rc $out"; umnt; }

# ---- 3. kernel_cache and dir_cache=no ------------------------------------
# A file too large for the daemon's own small-file cache (256 KiB), so
# that what a reopen reads comes from the kernel's page cache or from the
# server.  The server's copy is changed in place, same size, and its
# modification time put back: nothing the kernel or the daemon can see in
# the attributes tells them.
head -c $((1 << 20)) /dev/zero | tr '\0' a >"$srv/big"
reopen_after_change() { # prints what the second open reads at 512 KiB
	MNT=$mnt SRV=$srv python3 - <<'PY'
import os
mnt, srv = os.environ['MNT'], os.environ['SRV']
with open(mnt + '/big', 'rb') as f:
    first = f.read()
assert first == b'a' * (1 << 20), 'first read'
st = os.stat(srv + '/big')
fd = os.open(srv + '/big', os.O_WRONLY)
os.pwrite(fd, b'CHANGED', 512 << 10)
os.close(fd)
os.utime(srv + '/big', ns=(st.st_atime_ns, st.st_mtime_ns))
with open(mnt + '/big', 'rb') as f:
    f.seek(512 << 10)
    print(f.read(7).decode())
PY
}
if mount_sftp "$srv" -o kernel_cache; then
	got=$(reopen_after_change)
	[ "$got" = aaaaaaa ] && ok "kernel_cache: reopened file still reads the cached pages ($got)" ||
		fail "kernel_cache: the reopen read '$got', want the cached aaaaaaa"
	umnt
else
	fail "mount with kernel_cache"
fi
head -c $((1 << 20)) /dev/zero | tr '\0' a >"$srv/big"
if mount_sftp "$srv"; then
	got=$(reopen_after_change)
	[ "$got" = CHANGED ] && ok "without kernel_cache: the reopen reads the server's new bytes" ||
		fail "without kernel_cache: the reopen read '$got', want CHANGED"
	umnt
else
	fail "mount without kernel_cache"
fi

# dir_cache=no: the listing is asked for every time; the default keeps a
# complete listing for cache_timeout (20 s) and answers from it
mkdir -p "$srv/dc"
listing_after_create() { # NAME: the listing after NAME was made on the server
	ls "$mnt/dc" >/dev/null
	echo x >"$srv/dc/$1"
	ls "$mnt/dc" | tr '\n' ' '
}
if mount_sftp "$srv" -o dir_cache=no; then
	got=$(listing_after_create n1)
	[[ " $got" == *" n1 "* ]] && ok "dir_cache=no: a file made on the server is listed at once ($got)" ||
		fail "dir_cache=no: listing '$got' lacks n1"
	[ "$(cat "$mnt/dc/n1" 2>&1)" = x ] && ok "dir_cache=no: and opens" || fail "dir_cache=no: open n1"
	umnt
else
	fail "mount with dir_cache=no"
fi
if mount_sftp "$srv"; then
	got=$(listing_after_create n2)
	[[ " $got" != *" n2 "* ]] && ok "default dir cache: the kept listing does not show it yet ($got)" ||
		fail "default dir cache: n2 listed at once ($got): the comparison above proves nothing"
	umnt
else
	fail "mount with the default cache"
fi

# ---- 4. locks: the kernel's, on the mount only ----------------------------
# FUSE keeps POSIX locks and flock locks in the kernel when the file
# system implements neither (sftpmnt does not: SFTP v3 has no locking),
# so processes on this mount see each other's locks as on a local disk,
# and no other client of the server sees them.  The server's files are on
# this machine here: a process locking them directly stands for any other
# client (another mount, a program on the server).
echo lock >"$srv/lockf"
if mount_sftp "$srv"; then
	MNT=$mnt SRV=$srv PYTHONPATH=$here python3 - <<'PY' || fails=$((fails + 1))
import errno, fcntl, os, struct, sys
import mt
from mt import check, name
mnt, srv = os.environ['MNT'], os.environ['SRV']

def in_child(fn):
    """fn() in another process; its result (an errno or 0, or a number)."""
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(r)
        try:
            res = fn()
        except OSError as e:
            res = -e.errno
        os.write(w, str(res).encode())
        os._exit(0)
    os.close(w)
    out = os.read(r, 100).decode()
    os.close(r)
    os.waitpid(pid, 0)
    return int(out)

def try_lockf(path):
    def f():
        fd = os.open(path, os.O_RDWR)
        fcntl.lockf(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        os.close(fd)
        return 0
    return in_child(f)

def try_flock(path):
    def f():
        fd = os.open(path, os.O_RDWR)
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        os.close(fd)
        return 0
    return in_child(f)

def getlk_pid(path):
    def f():
        fd = os.open(path, os.O_RDWR)
        fl = struct.pack('hhqqi', fcntl.F_WRLCK, 0, 0, 0, 0)
        fl = fcntl.fcntl(fd, fcntl.F_GETLK, fl)
        os.close(fd)
        return struct.unpack('hhqqi', fl)[4]
    return in_child(f)

def e(r):
    return name(-r) if r < 0 else 'locked'

p = mnt + '/lockf'
fd = os.open(p, os.O_RDWR)
fcntl.lockf(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
r = try_lockf(p)
check(r in (-errno.EAGAIN, -errno.EACCES),
      'POSIX lock (F_SETLK) held: another process on the mount gets %s' % e(r))
r = getlk_pid(p)
check(r == os.getpid(), 'F_GETLK from another process names the holder (pid %d, want %d)' % (r, os.getpid()))
r = try_lockf(srv + '/lockf')
check(r == 0, 'the POSIX lock is not on the server: a process there locks the file (%s)' % e(r))
fcntl.lockf(fd, fcntl.LOCK_UN)
r = try_lockf(p)
check(r == 0, 'after F_UNLCK the other process locks (%s)' % e(r))

fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
r = try_flock(p)
check(r == -errno.EWOULDBLOCK, 'flock held: another open file on the mount gets %s (EWOULDBLOCK)' % e(r))
r = try_flock(srv + '/lockf')
check(r == 0, 'the flock is not on the server: a process there takes it (%s)' % e(r))
fcntl.flock(fd, fcntl.LOCK_UN)
r = try_flock(p)
check(r == 0, 'after LOCK_UN the other open file takes it (%s)' % e(r))
os.close(fd)
mt.done()
PY
	umnt
else
	fail "mount for the lock checks"
fi

# ---- 5. mount -t sftpmnt through the installed mount.sftpmnt -------------
# mount(8) runs /sbin/mount.TYPE; `make install` links mount.sftpmnt to
# mount.fuse.sftpmnt (install-exec-hook).  The hook is run here into a
# DESTDIR tree holding the built helper, and in a private mount namespace
# that tree is laid over /usr/sbin (an overlay: the real helpers stay),
# and a directory with a link to the built sftpmnt over the bindir the
# helper puts first in PATH.  Nothing outside the namespace sees either.
helper=$(dirname "$bin")/mount.fuse.sftpmnt
helper_bindir=$(sed -n 's/^PATH=\(.*\):\$PATH$/\1/p' "$helper" 2>/dev/null)
why=
[ "$(id -u)" = 0 ] || why="mount(8) needs root"
[ -z "$why" ] && { unshare -m true 2>/dev/null || why="cannot make a mount namespace"; }
[ -z "$why" ] && { [ -x "$helper" ] && [ -d "$helper_bindir" ] || why="no built helper or its bindir ($helper_bindir) is missing"; }
[ -z "$why" ] && { command -v make >/dev/null || why="no make to run the install hook"; }
if [ -n "$why" ]; then
	echo "SKIP part: mount -t sftpmnt not checked: $why"
else
	mkdir -p "$work/inst/sbin" "$work/bin"
	cp "$helper" "$work/inst/sbin/mount.fuse.sftpmnt"
	ln -s "$bin" "$work/bin/sftpmnt"
	make -s -C "${top_builddir:-.}" install-exec-hook DESTDIR="$work/inst" mounthelperdir=/sbin \
		>"$work/hook.out" 2>&1
	[ "$(readlink "$work/inst/sbin/mount.sftpmnt")" = mount.fuse.sftpmnt ] &&
		ok "install-exec-hook links mount.sftpmnt -> mount.fuse.sftpmnt" ||
		fail "install-exec-hook: $(cat "$work/hook.out"; ls -l "$work/inst/sbin")"
	out=$(unshare -m --propagation private bash -c '
		set -u
		w=$1 src=$2 opts=$3 mnt=$4 bindir=$5
		mount -t overlay overlay -o "lowerdir=$w/inst/sbin:/usr/sbin" /usr/sbin ||
			{ echo "FAIL: overlay over /usr/sbin"; exit 1; }
		mount --bind "$w/bin" "$bindir" || { echo "FAIL: bind over $bindir"; exit 1; }
		if mount -t sftpmnt "$src" "$mnt" -o "$opts" && [ "$(cat "$mnt/f")" = data ] &&
			grep -q " $mnt fuse.sftpmnt " /proc/mounts; then
			echo "ok: mount -t sftpmnt SOURCE DIR -o ... (/sbin/mount.sftpmnt) mounts and reads"
		else
			echo "FAIL: mount -t sftpmnt"
		fi
		umount "$mnt" 2>/dev/null && ! grep -q " $mnt " /proc/mounts &&
			echo "ok: umount of the mount -t sftpmnt mount" || echo "FAIL: umount"
		' sh "$work" "$SFTPMNT_TEST_USER@127.0.0.1:$srv" \
		"port=$SFTPMNT_TEST_PORT,IdentityFile=$SFTPMNT_TEST_KEY,UserKnownHostsFile=$SFTPMNT_TEST_KNOWN_HOSTS,_netdev" \
		"$mnt" "$helper_bindir" 2>&1)
	echo "$out"
	echo "$out" | grep -q "^FAIL" && fails=$((fails + 1))
	[ "$(echo "$out" | grep -c '^ok:')" = 2 ] || fail "mount -t sftpmnt: fewer checks ran than expected"
	for p in $(pgrep -f -- "$mnt"); do kill "$p" 2>/dev/null; done
fi

# ---- 6. idmap=user -----------------------------------------------------
# The mount logs in as the fixture's second user (a uid of its own), so
# that its files are told apart from root's: with idmap=user they show as
# the local user's (we run as root: 0), others' keep their ids, a new
# file is the second user's on the server and ours here, and chown to
# the local user sets the second user's id, which the server allows
# (without idmap the same chown asks for root there and is refused).
if [ "$(id -u)" != 0 ]; then
	echo "SKIP part: idmap=user not checked: a second login user needs root"
elif ! SFTPMNT_FIXTURE_USER2=1 "$SFTPMNT_FIXTURE" restart "$SFTPMNT_FIXTURE_DIR" >"$work/restart" 2>&1; then
	fail "restarting the fixture with a second user: $(cat "$work/restart")"
else
	eval "$("$SFTPMNT_FIXTURE" env "$SFTPMNT_FIXTURE_DIR")"
	u2=$SFTPMNT_TEST_USER2_UID
	s2=$SFTPMNT_TEST_USER2_ROOT/idm
	mkdir -p "$s2"
	for f in mine roots other; do echo "$f" >"$s2/$f"; done
	chown "$u2:$u2" "$s2" "$s2/mine"
	chown 0:0 "$s2/roots"
	chown 4321:4321 "$s2/other"
	if SFTPMNT_TEST_USER=$SFTPMNT_TEST_USER2 mount_sftp "$s2" -o idmap=user; then
		got="$(stat -c '%u:%g' "$mnt/mine") $(stat -c '%u:%g' "$mnt/roots") $(stat -c '%u:%g' "$mnt/other")"
		want="$(id -u):$(id -g) 0:0 4321:4321"
		[ "$got" = "$want" ] && ok "idmap=user: mine, root's, another's shown as $got" ||
			fail "idmap=user: shown as $got, want $want"
		echo new >"$mnt/new"
		[ "$(stat -c '%u:%g' "$mnt/new")" = "$(id -u):$(id -g)" ] &&
			[ "$(stat -c '%u:%g' "$s2/new")" = "$u2:$u2" ] &&
			ok "idmap=user: a new file is ours here, $u2's on the server" ||
			fail "idmap=user new file: here $(stat -c '%u:%g' "$mnt/new"), server $(stat -c '%u:%g' "$s2/new")"
		out=$(chown "$(id -u):$(id -g)" "$mnt/mine" 2>&1) &&
			[ "$(stat -c '%u:%g' "$s2/mine")" = "$u2:$u2" ] &&
			ok "idmap=user: chown to the local user sets $u2 on the server" ||
			fail "idmap=user chown: $out; server $(stat -c '%u:%g' "$s2/mine")"
		umnt
	else
		fail "mount as $SFTPMNT_TEST_USER2 with idmap=user"
	fi
	# the comparison: the same files without idmap
	if SFTPMNT_TEST_USER=$SFTPMNT_TEST_USER2 mount_sftp "$s2"; then
		[ "$(stat -c '%u:%g' "$mnt/mine")" = "$u2:$u2" ] &&
			ok "without idmap: the file shows as $u2" || fail "no idmap: $(stat -c '%u:%g' "$mnt/mine")"
		out=$(chown "$(id -u):$(id -g)" "$mnt/mine" 2>&1) && fail "without idmap chown to root worked" ||
			{ echo "$out" | grep -q "not permitted" && ok "without idmap: chown to root is EPERM" ||
				fail "no idmap chown: $out"; }
		umnt
	else
		fail "mount as $SFTPMNT_TEST_USER2 without idmap"
	fi
fi

finish
