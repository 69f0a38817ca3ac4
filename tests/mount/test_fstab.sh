#!/bin/bash
# mount(8) and fstab, the way users switch from sshfs: `mount -t
# fuse.sftpmnt SOURCE DIR -o ...`, an fstab line of type fuse.sftpmnt used
# with `mount DIR` (the line's options, mount-only words included), the
# old `fuse` type with `sftpmnt#SOURCE`, `umount DIR`, and the refusals
# through mount(8): a changed host key and an unreachable host exit
# non-zero with sftpmnt's message and leave nothing mounted.
#
# mount(8) runs the helper /sbin/mount.fuse (fuse3), which starts
# `sftpmnt` from the shell's default PATH (mount clears PATH).  So that
# the build is what runs, without installing anything, everything happens
# in a private mount namespace where a directory holding a link to the
# built sftpmnt is bound over /usr/local/bin, and an fstab of our own is
# named with `mount -T`.  Nothing outside the namespace sees either.
set -uo pipefail
: "${SFTPMNT_TEST_ROOT:?run through make check}"
[ "$(id -u)" = 0 ] || { echo "SKIP: mount(8) needs root"; exit 77; }
[ -c /dev/fuse ] || { echo "SKIP: no /dev/fuse"; exit 77; }
[ -x /sbin/mount.fuse ] || [ -x /sbin/mount.fuse3 ] ||
	{ echo "SKIP: no /sbin/mount.fuse (install fuse3)"; exit 77; }
command -v unshare >/dev/null || { echo "SKIP: no unshare (util-linux)"; exit 77; }
[ -d /usr/local/bin ] || { echo "SKIP: no /usr/local/bin to bind over"; exit 77; }
unshare -m true 2>/dev/null || { echo "SKIP: cannot make a mount namespace"; exit 77; }

bin=${SFTPMNT_BIN:?}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/bin" "$work/mnt" "$SFTPMNT_TEST_ROOT/fstab"
ln -s "$bin" "$work/bin/sftpmnt"
echo "through fstab" >"$SFTPMNT_TEST_ROOT/fstab/f"
kh=$SFTPMNT_TEST_KNOWN_HOSTS
base="port=$SFTPMNT_TEST_PORT,IdentityFile=$SFTPMNT_TEST_KEY,UserKnownHostsFile=$kh"
src="$SFTPMNT_TEST_USER@127.0.0.1:$SFTPMNT_TEST_ROOT/fstab"
ssh-keygen -q -t ed25519 -N '' -f "$work/other" </dev/null
echo "[127.0.0.1]:$SFTPMNT_TEST_PORT $(cut -d' ' -f1,2 "$work/other.pub")" >"$work/kh_bad"

cat >"$work/fstab" <<EOF
# a line as a user would switch it from fuse.sshfs
$src $work/mnt fuse.sftpmnt $base,_netdev,noauto,users,nofail,x-systemd.automount,x-systemd.idle-timeout=60,reconnect,ServerAliveInterval=15 0 0
EOF
cat >"$work/fstab.old" <<EOF
sftpmnt#$src $work/mnt fuse $base,noauto,_netdev 0 0
EOF
cat >"$work/fstab.bad" <<EOF
$src $work/mnt fuse.sftpmnt port=$SFTPMNT_TEST_PORT,IdentityFile=$SFTPMNT_TEST_KEY,UserKnownHostsFile=$work/kh_bad,noauto 0 0
127.0.0.1:/ $work/mnt2 fuse.sftpmnt port=1,IdentityFile=$SFTPMNT_TEST_KEY,UserKnownHostsFile=$kh,noauto 0 0
EOF
mkdir -p "$work/mnt2"

# The script run inside the namespace prints ok:/FAIL: lines.
cat >"$work/inside.sh" <<'EOS'
set -u
w=$1 src=$2 base=$3
ok() { echo "ok: $*"; }
fail() { echo "FAIL: $*"; }
mounted() { grep -q " $1 fuse.sftpmnt " /proc/mounts; }
mount --bind "$w/bin" /usr/local/bin || { fail "bind over /usr/local/bin"; exit 1; }

# 1. mount -t fuse.sftpmnt, then umount
if mount -t fuse.sftpmnt "$src" "$w/mnt" -o "$base" &&
	[ "$(cat "$w/mnt/f")" = "through fstab" ]; then
	ok "mount -t fuse.sftpmnt SOURCE DIR -o ..."
else
	fail "mount -t fuse.sftpmnt"
fi
if mounted "$w/mnt" && umount "$w/mnt" && ! mounted "$w/mnt"; then
	ok "umount DIR"
else
	fail "umount"
fi

# 2. an fstab line, mounted by its mount point, written through
if mount -T "$w/fstab" "$w/mnt" && mounted "$w/mnt" &&
	[ "$(cat "$w/mnt/f")" = "through fstab" ] &&
	echo written >"$w/mnt/new" && [ "$(cat "$w/mnt/new")" = written ]; then
	opts=$(findmnt -n -o OPTIONS "$w/mnt")
	ok "fstab line with mount-only words: mounted ($opts)"
	# `users` in the line means nosuid,nodev,noexec, as for any file system
	miss=
	for o in nosuid nodev noexec; do
		case ",$opts," in *",$o,"*) ;; *) miss="$miss $o" ;; esac
	done
	[ -z "$miss" ] && ok "users in fstab: nosuid,nodev,noexec" ||
		fail "users in fstab gave $opts (no$miss)"
else
	fail "mount -T fstab DIR"
fi
mounted "$w/mnt" && umount "$w/mnt"

# 3. the old style: type fuse, sftpmnt#SOURCE
if mount -T "$w/fstab.old" "$w/mnt" &&
	[ "$(cat "$w/mnt/f")" = "through fstab" ]; then
	ok "fstab line of type fuse with sftpmnt#SOURCE"
else
	fail "fuse type with sftpmnt#"
fi
mounted "$w/mnt" && umount "$w/mnt"

# 4. refusals come back through mount(8)
out=$(mount -T "$w/fstab.bad" "$w/mnt" 2>&1)
rc=$?
if [ $rc != 0 ] && echo "$out" | grep -qi mismatch && ! mounted "$w/mnt"; then
	ok "changed host key through mount(8): rc=$rc, $(echo "$out" | head -n1 | head -c 80)"
else
	fail "changed host key through mount(8): rc=$rc $out"
	mounted "$w/mnt" && umount "$w/mnt"
fi
out=$(mount -T "$w/fstab.bad" "$w/mnt2" 2>&1)
rc=$?
if [ $rc != 0 ] && echo "$out" | grep -qi connect && ! mounted "$w/mnt2"; then
	ok "unreachable host through mount(8): rc=$rc, $(echo "$out" | head -n1 | head -c 80)"
else
	fail "unreachable host through mount(8): rc=$rc $out"
	mounted "$w/mnt2" && umount "$w/mnt2"
fi
# nothing of ours may outlive the namespace
pgrep -f -- "$w/mnt" >/dev/null && fail "a daemon is left running" || ok "no daemon left"
EOS

out=$(unshare -m --propagation private bash "$work/inside.sh" "$work" "$src" "$base" 2>&1)
echo "$out"
# mounts made in the namespace end with it; make sure no daemon stayed
for p in $(pgrep -f -- "$work/mnt"); do
	kill "$p" 2>/dev/null
done
echo "$out" | grep -q "^FAIL" && exit 1
[ "$(echo "$out" | grep -c '^ok:')" -ge 8 ] || { echo "FAIL: fewer checks ran than expected"; exit 1; }
exit 0
