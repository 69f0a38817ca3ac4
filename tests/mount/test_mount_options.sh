#!/bin/bash
# How a mount starts: through an ssh_config alias, through the mount(8)
# helper's calling convention, and the clear refusals (exit status 1, a
# message on stderr, no mount left behind) for a changed host key, an
# unknown host, a refused key and an unreachable port; accept-new
# records the key.
set -uo pipefail
: "${SFTPMNT_TEST_ROOT:?run through make check}"
[ -c /dev/fuse ] || { echo "SKIP: no /dev/fuse"; exit 77; }
command -v fusermount3 >/dev/null || { echo "SKIP: no fusermount3 (install fuse3)"; exit 77; }

bin=${SFTPMNT_BIN:?}
helper=$(dirname "$bin")/mount.fuse.sftpmnt
work=$(mktemp -d)
mnt=$work/mnt
mkdir -p "$mnt" "$SFTPMNT_TEST_ROOT/opt"
echo data >"$SFTPMNT_TEST_ROOT/opt/f"
fails=0
cleanup() {
	fusermount3 -uz "$mnt" 2>/dev/null
	rm -rf "$work"
}
trap cleanup EXIT
fail() { echo "FAIL: $*"; fails=$((fails + 1)); }
ok() { echo "ok: $*"; }
mounted() { grep -q " $mnt fuse.sftpmnt " /proc/mounts; }
umnt() { fusermount3 -u "$mnt"; }

base="port=$SFTPMNT_TEST_PORT,IdentityFile=$SFTPMNT_TEST_KEY"

# 1. an ssh_config alias carries host, port, user, key and known_hosts
cat >"$work/config" <<EOC
Host decoy
  HostName 192.0.2.1
Host fixture-*
  HostName 127.0.0.1
  Port $SFTPMNT_TEST_PORT
  User $SFTPMNT_TEST_USER
  IdentityFile $SFTPMNT_TEST_KEY
  UserKnownHostsFile $SFTPMNT_TEST_KNOWN_HOSTS
EOC
if "$bin" -F "$work/config" "fixture-a:$SFTPMNT_TEST_ROOT/opt" "$mnt" &&
	[ "$(cat "$mnt/f")" = data ]; then
	ok "mount through an ssh_config alias"
else
	fail "ssh_config alias"
fi
mounted && umnt

# 2. mount(8)'s calling convention through the helper
if PATH=$(dirname "$bin"):$PATH "$helper" "$SFTPMNT_TEST_USER@127.0.0.1:$SFTPMNT_TEST_ROOT/opt" "$mnt" \
	-o "$base,UserKnownHostsFile=$SFTPMNT_TEST_KNOWN_HOSTS,_netdev,noauto,nofail,x-systemd.automount" &&
	[ "$(cat "$mnt/f")" = data ]; then
	ok "mount.fuse.sftpmnt SOURCE DIR -o opts (with mount-only words)"
else
	fail "mount helper"
fi
mounted && umnt

# 2b. what an sshfs command line or fstab line carries: sshfs's -p and -C,
# its tuning words and ssh options with no meaning here are accepted
sshfs_words=sshfs_sync,no_readahead,sync_readdir,sshfs_debug,disable_hardlink,auto_cache
sshfs_words=$sshfs_words,dcache_timeout=5,dcache_max_size=10000,dcache_clean_interval=60
sshfs_words=$sshfs_words,BatchMode=yes,LogLevel=ERROR,ControlMaster=no,ForwardAgent=no
if "$bin" "$SFTPMNT_TEST_USER@127.0.0.1:$SFTPMNT_TEST_ROOT/opt" "$mnt" -p "$SFTPMNT_TEST_PORT" -C \
	-o "IdentityFile=$SFTPMNT_TEST_KEY,UserKnownHostsFile=$SFTPMNT_TEST_KNOWN_HOSTS,$sshfs_words" &&
	[ "$(cat "$mnt/f")" = data ] && echo w >"$mnt/sshfs-w" && [ "$(cat "$SFTPMNT_TEST_ROOT/opt/sshfs-w")" = w ]; then
	ok "sshfs's -p, -C and option words: mounted, reads and writes"
	# disable_hardlink: link(2) fails with EPERM, as through sshfs's
	# (the server could link: without the option this works)
	out=$(ln "$mnt/f" "$mnt/f-hard" 2>&1)
	[ $? != 0 ] && echo "$out" | grep -q "Operation not permitted" &&
		[ ! -e "$SFTPMNT_TEST_ROOT/opt/f-hard" ] &&
		ok "disable_hardlink: ln fails with EPERM" || fail "disable_hardlink: ln: $out"
else
	fail "sshfs's -p, -C and option words"
fi
mounted && umnt
out=$("$bin" "$SFTPMNT_TEST_USER@127.0.0.1:/" "$mnt" -p 0 2>&1)
[ $? = 2 ] && echo "$out" | grep -q "bad port" && ok "-p 0 refused: $out" || fail "-p 0: $out"

# 3. refusals: exit 1, a message, nothing mounted
refuse() {
	local what=$1 want=$2
	shift 2
	out=$("$bin" "$@" 2>&1)
	rc=$?
	if [ $rc = 1 ] && echo "$out" | grep -qi "$want" && ! mounted; then
		ok "$what: exit 1, \"$(echo "$out" | head -c 90)...\""
	else
		fail "$what: rc=$rc out=$out"
		mounted && umnt
	fi
}
ssh-keygen -q -t ed25519 -N '' -f "$work/other" </dev/null
echo "[127.0.0.1]:$SFTPMNT_TEST_PORT $(cut -d' ' -f1,2 "$work/other.pub")" >"$work/kh_bad"
refuse "changed host key" "mismatch" "$SFTPMNT_TEST_USER@127.0.0.1:" "$mnt" \
	-o "$base,UserKnownHostsFile=$work/kh_bad"
refuse "unknown host" "not in" "$SFTPMNT_TEST_USER@127.0.0.1:" "$mnt" \
	-o "$base,UserKnownHostsFile=$work/kh_empty"
refuse "refused key" "authentication" "$SFTPMNT_TEST_USER@127.0.0.1:" "$mnt" \
	-o "port=$SFTPMNT_TEST_PORT,IdentityFile=$work/other,UserKnownHostsFile=$SFTPMNT_TEST_KNOWN_HOSTS"
refuse "unreachable port" "connect" "$SFTPMNT_TEST_USER@127.0.0.1:" "$mnt" \
	-o "port=1,IdentityFile=$SFTPMNT_TEST_KEY,UserKnownHostsFile=$SFTPMNT_TEST_KNOWN_HOSTS"
refuse "missing remote directory" "no such directory" "$SFTPMNT_TEST_USER@127.0.0.1:/no/such/dir" "$mnt" \
	-o "$base,UserKnownHostsFile=$SFTPMNT_TEST_KNOWN_HOSTS"
# AddressFamily: inet6 cannot reach an IPv4 address; inet can; nonsense
# is refused before connecting
refuse "AddressFamily=inet6 to 127.0.0.1" "resolve" "$SFTPMNT_TEST_USER@127.0.0.1:" "$mnt" \
	-o "$base,UserKnownHostsFile=$SFTPMNT_TEST_KNOWN_HOSTS,AddressFamily=inet6"
if "$bin" "$SFTPMNT_TEST_USER@127.0.0.1:$SFTPMNT_TEST_ROOT/opt" "$mnt" \
	-o "$base,UserKnownHostsFile=$SFTPMNT_TEST_KNOWN_HOSTS,AddressFamily=inet" &&
	[ "$(cat "$mnt/f")" = data ]; then
	ok "AddressFamily=inet: mounted"
else
	fail "AddressFamily=inet"
fi
mounted && umnt
out=$("$bin" "$SFTPMNT_TEST_USER@127.0.0.1:" "$mnt" -o "AddressFamily=ipx" 2>&1)
[ $? = 2 ] && echo "$out" | grep -q "any, inet or inet6" && ok "AddressFamily=ipx: exit 2" ||
	fail "AddressFamily=ipx: $out"
out=$("$bin" "$SFTPMNT_TEST_USER@127.0.0.1:" "$mnt" -o "bogus_option" 2>&1)
[ $? = 2 ] && echo "$out" | grep -q "unknown option" && ok "unknown option: exit 2 with a hint" ||
	fail "unknown option: $out"

# a private key others may read is not used, as ssh does not
cp "$SFTPMNT_TEST_KEY" "$work/openkey" && chmod 644 "$work/openkey"
out=$(SSH_AUTH_SOCK= "$bin" "$SFTPMNT_TEST_USER@127.0.0.1:$SFTPMNT_TEST_ROOT" "$mnt" \
	-o "port=$SFTPMNT_TEST_PORT,IdentityFile=$work/openkey,UserKnownHostsFile=$SFTPMNT_TEST_KNOWN_HOSTS,IdentityAgent=none" 2>&1)
rc=$?
[ $rc = 1 ] && echo "$out" | grep -q "0644 are too open" && ! mounted && ok "a key readable by others is refused: $out" ||
	{ fail "open key: rc=$rc $out"; mounted && umnt; }
# 4. accept-new records the key, then it is known
if "$bin" "$SFTPMNT_TEST_USER@127.0.0.1:$SFTPMNT_TEST_ROOT/opt" "$mnt" \
	-o "$base,UserKnownHostsFile=$work/kh_new,StrictHostKeyChecking=accept-new" &&
	grep -q "^\[127.0.0.1\]:$SFTPMNT_TEST_PORT " "$work/kh_new"; then
	ok "accept-new records the host key"
else
	fail "accept-new"
fi
mounted && umnt
"$bin" "$SFTPMNT_TEST_USER@127.0.0.1:$SFTPMNT_TEST_ROOT/opt" "$mnt" \
	-o "$base,UserKnownHostsFile=$work/kh_new" && ok "the recorded key is accepted next time" ||
	fail "recorded key"
mounted && umnt
# 5. symlink policies and presentation options
ln_root=$SFTPMNT_TEST_ROOT/ln
mkdir -p "$ln_root/sub"
echo T >"$ln_root/target"
ln -sfn "$ln_root/target" "$ln_root/sub/abs_in"
ln -sfn /etc/passwd "$ln_root/abs_out"
ln -sfn ../../../../etc "$ln_root/rel_out"
ln -sfn ../target "$ln_root/sub/rel_in"
kh="UserKnownHostsFile=$SFTPMNT_TEST_KNOWN_HOSTS"
check_links() { # opts abs_in abs_out rel_out rel_in
	local o=$1
	shift
	"$bin" "$SFTPMNT_TEST_USER@127.0.0.1:$ln_root" "$mnt" -o "$base,$kh$o" || { fail "mount $o"; return; }
	got="$(readlink "$mnt/sub/abs_in")|$(readlink "$mnt/abs_out")|$(readlink "$mnt/rel_out")|$(readlink "$mnt/sub/rel_in")"
	[ "$got" = "$1|$2|$3|$4" ] && ok "symlinks with '${o#,}': $got" || fail "symlinks with '${o#,}': got $got want $1|$2|$3|$4"
	umnt
}
check_links "" "$ln_root/target" /etc/passwd ../../../../etc ../target
check_links ",transform_symlinks" ../target /etc/passwd ../../../../etc ../target
check_links ",contain_symlinks" "" "" "" ../target
check_links ",transform_symlinks,contain_symlinks" ../target "" "" ../target
"$bin" "$SFTPMNT_TEST_USER@127.0.0.1:$ln_root" "$mnt" -o "$base,$kh,follow_symlinks" &&
	[ -f "$mnt/sub/rel_in" ] && [ ! -L "$mnt/sub/rel_in" ] && ok "follow_symlinks shows the target" ||
	fail "follow_symlinks"
mounted && umnt
"$bin" "$SFTPMNT_TEST_USER@127.0.0.1:$ln_root" "$mnt" -o "$base,$kh,uid=1234,gid=99,umask=077" &&
	[ "$(stat -c '%u %g %a' "$mnt/target")" = "1234 99 600" ] && ok "uid=, gid=, umask=" ||
	fail "uid/gid/umask: $(stat -c '%u %g %a' "$mnt/target")"
mounted && umnt
"$bin" "$SFTPMNT_TEST_USER@127.0.0.1:$ln_root" "$mnt" -o "$base,$kh,ro" &&
	! (echo x 2>/dev/null >"$mnt/new") 2>/dev/null && grep " $mnt " /proc/mounts | grep -q "[ ,]ro[ ,]" &&
	ok "ro mounts read-only" || fail "ro"
mounted && umnt

# 6. small SFTP requests (max_read=/max_write=): a 1 MiB kernel read is
# then made of 256 READ replies, answered from the read-ahead cache in
# pieces; the bytes must come back exact either way
head -c 3000000 /dev/urandom >"$ln_root/rnd"
"$bin" "$SFTPMNT_TEST_USER@127.0.0.1:$ln_root" "$mnt" -o "$base,$kh,max_read=4096,max_write=1000" &&
	cmp "$mnt/rnd" "$ln_root/rnd" && dd if="$mnt/rnd" bs=1M skip=1 2>/dev/null | cmp - <(tail -c +1048577 "$ln_root/rnd") &&
	cp "$ln_root/rnd" "$mnt/rnd2" && cmp "$ln_root/rnd2" "$ln_root/rnd" &&
	ok "max_read=4096,max_write=1000: 3 MB read and written back exact" || fail "max_read/max_write"
mounted && umnt
"$bin" "$SFTPMNT_TEST_USER@127.0.0.1:$ln_root" "$mnt" -o "$base,$kh,max_read=100" 2>"$work/err" &&
	{ fail "max_read=100 accepted"; umnt; } || { grep -q "max_read" "$work/err" && ok "max_read=100 refused: $(cat "$work/err")" || fail "max_read=100 message"; }

# access(2) without default_permissions, for another user (allow_other):
# the mode bits shown, checked against the caller's ids
acc_root=$SFTPMNT_TEST_ROOT/access
mkdir -p "$acc_root"
for m in 600 640 644 666 755; do echo x >"$acc_root/m$m"; chmod $m "$acc_root/m$m"; done
chown 0:65534 "$acc_root/m640"
chmod 711 "$work" # (the other user must reach the mount point)
if command -v setpriv >/dev/null &&
	"$bin" "$SFTPMNT_TEST_USER@127.0.0.1:$acc_root" "$mnt" -o "$base,$kh,allow_other"; then
	got=$(setpriv --reuid=65534 --regid=65533 --groups=65534 /usr/bin/python3 -c '
import os, sys
d = sys.argv[1]
print(" ".join("%s:%s%s%s" % (f, "r" if os.access(d + "/" + f, os.R_OK) else "-",
    "w" if os.access(d + "/" + f, os.W_OK) else "-", "x" if os.access(d + "/" + f, os.X_OK) else "-")
    for f in sorted(os.listdir(d))))' "$mnt" 2>&1)
	want="m600:--- m640:r-- m644:r-- m666:rw- m755:r-x"
	[ "$got" = "$want" ] && ok "access(2) for another user (group by supplementary id): $got" ||
		fail "access(2) for another user: got $got want $want"
	umnt
else
	mounted && umnt
	echo "note: access(2) for another user not checked (no setpriv or allow_other refused)"
fi

# 7. idmap=file: uidfile=/gidfile= lines "local name:remote id", as
# sshfs reads them; an id the file lacks is EPERM (nomap=error, the
# default) or shown as it is (nomap=ignore); chown maps back
id_root=$SFTPMNT_TEST_ROOT/idmap
mkdir -p "$id_root"
for f in a b c; do echo "$f" >"$id_root/$f"; done
chown 0:0 "$id_root/a"
chown 1234:1234 "$id_root/b"
chown 4321:4321 "$id_root/c"
printf '# local:remote\ndaemon:1234\nroot:0\n  \n' >"$work/uids"
printf 'daemon:1234\nroot:0\n' >"$work/gids"
idf="idmap=file,uidfile=$work/uids,gidfile=$work/gids"
daemon_ids="$(id -u daemon) $(id -g daemon)"
if "$bin" "$SFTPMNT_TEST_USER@127.0.0.1:$id_root" "$mnt" -o "$base,$kh,$idf"; then
	got="$(stat -c '%u %g' "$mnt/a")|$(stat -c '%u %g' "$mnt/b")"
	[ "$got" = "0 0|$daemon_ids" ] && ok "idmap=file: remote 0 and 1234 shown as root and daemon" ||
		fail "idmap=file: got $got"
	err=$(stat "$mnt/c" 2>&1) && fail "idmap=file: an unmapped owner stat'ed: $err" ||
		{ echo "$err" | grep -q "not permitted" && ok "nomap=error: unmapped owner gives EPERM" ||
			fail "nomap=error: $err"; }
	[ "$(ls "$mnt" | tr '\n' ' ')" = "a b c " ] && ok "idmap=file: names still listed" || fail "idmap=file: ls $(ls "$mnt")"
	chown daemon:daemon "$mnt/a" && [ "$(stat -c '%u %g' "$id_root/a")" = "1234 1234" ] &&
		[ "$(stat -c '%u %g' "$mnt/a")" = "$daemon_ids" ] &&
		ok "idmap=file: chown daemon:daemon sets 1234:1234 on the server" ||
		fail "idmap=file chown: server $(stat -c '%u %g' "$id_root/a")"
	err=$(chown 4242 "$mnt/b" 2>&1) && fail "chown to an unmapped uid worked" ||
		{ echo "$err" | grep -q "not permitted" && [ "$(stat -c %u "$id_root/b")" = 1234 ] &&
			ok "nomap=error: chown to an unmapped uid gives EPERM" || fail "unmapped chown: $err"; }
	umnt
else
	fail "mount with $idf"
fi
"$bin" "$SFTPMNT_TEST_USER@127.0.0.1:$id_root" "$mnt" -o "$base,$kh,$idf,nomap=ignore" &&
	[ "$(stat -c '%u %g' "$mnt/c")" = "4321 4321" ] && ok "nomap=ignore: unmapped ids shown as they are" ||
	fail "nomap=ignore: $(stat -c '%u %g' "$mnt/c" 2>&1)"
mounted && umnt
printf 'daemon:1234\nno colon here\n' >"$work/uids_bad"
refuse "a bad uidfile line" "uids_bad:2" "$SFTPMNT_TEST_USER@127.0.0.1:$id_root" "$mnt" \
	-o "$base,$kh,idmap=file,uidfile=$work/uids_bad"
printf 'nosuchuser_xyz:5\n' >"$work/uids_unk"
refuse "an unknown local user in uidfile" "no local user" "$SFTPMNT_TEST_USER@127.0.0.1:$id_root" "$mnt" \
	-o "$base,$kh,idmap=file,uidfile=$work/uids_unk"
refuse "idmap=file without files" "needs uidfile" "$SFTPMNT_TEST_USER@127.0.0.1:$id_root" "$mnt" \
	-o "$base,$kh,idmap=file"

# sshfs's max_conns: an fstab line with it mounts; nonsense is refused
"$bin" "$SFTPMNT_TEST_USER@127.0.0.1:$id_root" "$mnt" -o "$base,$kh,max_conns=4" &&
	mounted && ls "$mnt" >/dev/null && ok "max_conns=4 (sshfs's) is accepted" ||
	fail "max_conns=4 refused"
mounted && umnt
out=$("$bin" "$SFTPMNT_TEST_USER@127.0.0.1:$id_root" "$mnt" -o "$base,$kh,max_conns=0" 2>&1)
rc=$?
[ $rc = 2 ] && echo "$out" | grep -q "max_conns=0" && ! mounted &&
	ok "max_conns=0: a usage error (exit 2): $out" || fail "max_conns=0: rc=$rc $out"
mounted && umnt

# the cipher: AES-GCM first on a processor with AES instructions (the
# fastest at both ends), chacha20-poly1305 elsewhere; Ciphers= decides
# when given.  What was agreed is in the -d output.
# agreed_of OPTS [ARGS...]: the -d line of what was agreed
agreed_of() {
	local log=$work/dlog pid i o=$1
	shift
	"$bin" "$@" "$SFTPMNT_TEST_USER@127.0.0.1:$id_root" "$mnt" -d -o "$base,$kh$o" >"$log" 2>&1 &
	pid=$!
	for i in $(seq 1 100); do mounted && break; sleep 0.1; done
	mounted && umnt
	wait "$pid" 2>/dev/null
	grep -m1 "key exchange" "$log"
}
cipher_of() { agreed_of "$@" | sed -n 's/.*, cipher \([^,]*\),.*/\1/p'; }
hostkey_of() { agreed_of "$@" | sed -n 's/.*, host key \([^,]*\),.*/\1/p'; }
want=chacha20-poly1305@openssh.com
grep -qw aes /proc/cpuinfo && grep -qw pclmulqdq /proc/cpuinfo && want=aes128-gcm@openssh.com
got=$(cipher_of "")
[ "$got" = "$want" ] && ok "default cipher on this processor: $got" ||
	fail "default cipher: '$got', want $want"
got=$(cipher_of ",Ciphers=aes256-ctr")
[ "$got" = aes256-ctr ] && ok "Ciphers=aes256-ctr is used" || fail "Ciphers=aes256-ctr gave '$got'"
# HostKeyAlgorithms, from -o and from an ssh_config file (-o first)
got=$(hostkey_of ",HostKeyAlgorithms=ecdsa-sha2-nistp384")
[ "$got" = ecdsa-sha2-nistp384 ] && ok "HostKeyAlgorithms=ecdsa-sha2-nistp384 is used" ||
	fail "HostKeyAlgorithms=ecdsa-sha2-nistp384 gave '$got'"
printf 'Host 127.0.0.1\n  HostKeyAlgorithms rsa-sha2-512,ssh-ed25519\n' >"$work/hk_config"
got=$(hostkey_of "" -F "$work/hk_config")
[ "$got" = rsa-sha2-512 ] && ok "HostKeyAlgorithms from ssh_config is used" ||
	fail "HostKeyAlgorithms from ssh_config gave '$got'"
got=$(hostkey_of ",HostKeyAlgorithms=ecdsa-sha2-nistp521" -F "$work/hk_config")
[ "$got" = ecdsa-sha2-nistp521 ] && ok "HostKeyAlgorithms: -o comes before ssh_config" ||
	fail "HostKeyAlgorithms -o over ssh_config gave '$got'"
# ssh_config's list forms: +names appends to the default list, -patterns
# takes out of it, ^names puts first
got=$(cipher_of ",Ciphers=^aes256-ctr")
[ "$got" = aes256-ctr ] && ok "Ciphers=^aes256-ctr puts it first" || fail "Ciphers=^aes256-ctr gave '$got'"
got=$(cipher_of ",Ciphers=-$want")
[ -n "$got" ] && [ "$got" != "$want" ] && ok "Ciphers=-$want takes it out: $got" ||
	fail "Ciphers=-$want gave '$got'"
got=$(cipher_of ",Ciphers=-*gcm*\\,chacha20*")
[ "$got" = aes128-ctr ] && ok "Ciphers=-*gcm*,chacha20* (patterns): $got" || fail "Ciphers=-*gcm*,chacha20* gave '$got'"
got=$(hostkey_of ",HostKeyAlgorithms=+ssh-rsa")
[ -n "$got" ] && [ "$got" != ssh-rsa ] && ok "HostKeyAlgorithms=+ssh-rsa mounts (appended: $got first)" ||
	fail "HostKeyAlgorithms=+ssh-rsa gave '$got'"
printf 'Host 127.0.0.1\n  HostKeyAlgorithms ^ecdsa-sha2-nistp256\n' >"$work/hk2_config"
got=$(hostkey_of "" -F "$work/hk2_config")
[ "$got" = ecdsa-sha2-nistp256 ] && ok "HostKeyAlgorithms ^... from ssh_config" ||
	fail "HostKeyAlgorithms ^ecdsa-sha2-nistp256 from ssh_config gave '$got'"

[ $fails = 0 ] || { echo "$fails failures"; exit 1; }
