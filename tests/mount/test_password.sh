#!/bin/bash
# Password login, for a server that takes no key: password_stdin (one
# line from stdin); else, as ssh, the password asked through SSH_ASKPASS
# when there is no terminal ("user@host's password: "), three tries, a
# clear refusal after three wrong ones; and a reconnect of the daemon (no
# terminal then) logs in again with the password that worked, asking
# nobody.  The fixture's second user gets a password (in its private copy
# of /etc/shadow) and sshd takes passwords for this test only.
set -uo pipefail
. "$(dirname "$0")/lib.sh"
proxy=${DELAYPROXY:?}
[ "$(id -u)" = 0 ] ||
	{ echo "SKIP: a second login user on the server needs root"; exit 77; }
command -v setsid >/dev/null || { echo "SKIP: no setsid (util-linux)"; exit 77; }
python3 -W ignore -c 'import crypt' 2>/dev/null ||
	{ echo "SKIP: python3 has no crypt module (to hash the password)"; exit 77; }
: "${SFTPMNT_FIXTURE:?run through make check}"
: "${SFTPMNT_FIXTURE_DIR:?run through make check}"

SFTPMNT_FIXTURE_USER2=1 "$SFTPMNT_FIXTURE" restart "$SFTPMNT_FIXTURE_DIR" \
	PasswordAuthentication=yes
case $? in
0) ;;
77) exit 77 ;;
*) echo "FAIL: restarting the fixture with a second user"; exit 1 ;;
esac
restore() { # (sshd as the other tests want it)
	"$SFTPMNT_FIXTURE" restart "$SFTPMNT_FIXTURE_DIR" >/dev/null 2>&1
}
trap 'restore; mt_cleanup' EXIT
eval "$("$SFTPMNT_FIXTURE" env "$SFTPMNT_FIXTURE_DIR")"
[ -n "${SFTPMNT_TEST_USER2:-}" ] ||
	{ echo "FAIL: the fixture names no second user"; exit 1; }
pw='pass word 7'
# the shadow copy is bind-mounted in the server's namespace: rewritten
# in place (same inode), the server sees it at the next login
PW=$pw U=$SFTPMNT_TEST_USER2 F=$SFTPMNT_FIXTURE_DIR/user2/shadow python3 -W ignore - <<'PY'
import crypt, os
f, u = os.environ['F'], os.environ['U']
h = crypt.crypt(os.environ['PW'], crypt.mksalt(crypt.METHOD_SHA512))
lines = [(u + ':' + h + ':::::::') if l.split(':')[0] == u else l
         for l in open(f).read().splitlines()]
with open(f, 'r+') as fp:
    fp.write('\n'.join(lines) + '\n')
    fp.truncate()
PY

srv=$SFTPMNT_TEST_USER2_ROOT/pw
mkdir -p "$srv"
echo "behind a password" >"$srv/f"
chown -R "$SFTPMNT_TEST_USER2_UID:$SFTPMNT_TEST_USER2_UID" "$srv"
# no key of any kind: no agent, no IdentityFile, a HOME without ~/.ssh
mkdir -p "$work/home"
nokey="IdentitiesOnly=yes,IdentityAgent=none,UserKnownHostsFile=$SFTPMNT_TEST_KNOWN_HOSTS"
src="$SFTPMNT_TEST_USER2@127.0.0.1:$srv"
mounted() { grep -q " $mnt fuse.sftpmnt " /proc/mounts; }
nossh() { env -u SSH_AUTH_SOCK -u SSH_ASKPASS -u DISPLAY -u WAYLAND_DISPLAY HOME="$work/home" "$@"; }
cat >"$work/askpass" <<EOF
#!/bin/sh
echo "\$1" >>"$work/asked"
cat "$work/answer"
EOF
chmod +x "$work/askpass"

# 0. no key and no way to ask: refused, naming the user
out=$(nossh setsid -w "$bin" "$src" "$mnt" -o "port=$SFTPMNT_TEST_PORT,$nokey" </dev/null 2>&1)
rc=$?
if [ $rc = 1 ] && ! mounted && echo "$out" | grep -q "authentication as $SFTPMNT_TEST_USER2 failed.*no password could be asked for"; then
	ok "no key, no password: exit 1, \"$(echo "$out" | head -c 120)...\""
else
	fail "no key, no password: rc=$rc $out"
	mounted && fusermount3 -u "$mnt"
fi

# 1. password_stdin
if printf '%s\n' "$pw" | nossh setsid -w "$bin" "$src" "$mnt" \
	-o "port=$SFTPMNT_TEST_PORT,$nokey,password_stdin" &&
	mounted && [ "$(cat "$mnt/f")" = "behind a password" ]; then
	ok "password_stdin: mounted, the file reads"
	fusermount3 -u "$mnt"
else
	fail "password_stdin"
	mounted && fusermount3 -u "$mnt"
fi
out=$(printf 'wrong\n' | nossh setsid -w "$bin" "$src" "$mnt" \
	-o "port=$SFTPMNT_TEST_PORT,$nokey,password_stdin" 2>&1)
rc=$?
[ $rc = 1 ] && ! mounted && ok "password_stdin, wrong password: exit 1" ||
	{ fail "password_stdin, wrong password: rc=$rc $out"; mounted && fusermount3 -u "$mnt"; }

# 2. SSH_ASKPASS, three wrong answers: asked three times, then refused
printf 'wrong\n' >"$work/answer"
: >"$work/asked"
out=$(nossh SSH_ASKPASS="$work/askpass" SSH_ASKPASS_REQUIRE=force setsid -w "$bin" "$src" "$mnt" \
	-o "port=$SFTPMNT_TEST_PORT,$nokey" </dev/null 2>&1)
rc=$?
n=$(wc -l <"$work/asked")
if [ $rc = 1 ] && ! mounted && [ "$n" = 3 ]; then
	ok "three wrong passwords through SSH_ASKPASS: asked 3 times, exit 1"
else
	fail "three wrong passwords: rc=$rc, asked $n times: $out"
	mounted && fusermount3 -u "$mnt"
fi
grep -qx "$SFTPMNT_TEST_USER2@127.0.0.1's password: " "$work/asked" &&
	ok "the prompt is ssh's: $(head -1 "$work/asked")" ||
	fail "prompt: $(head -1 "$work/asked")"

# 2b. a changed host key accepted with StrictHostKeyChecking=no: as ssh,
# no password is offered to what may be another server
ssh-keygen -q -t ed25519 -N '' -f "$work/other" </dev/null
echo "[127.0.0.1]:$SFTPMNT_TEST_PORT $(cut -d' ' -f1,2 "$work/other.pub")" >"$work/kh_bad"
printf '%s\n' "$pw" >"$work/answer"
: >"$work/asked"
out=$(nossh SSH_ASKPASS="$work/askpass" SSH_ASKPASS_REQUIRE=force setsid -w "$bin" "$src" "$mnt" \
	-o "port=$SFTPMNT_TEST_PORT,IdentitiesOnly=yes,IdentityAgent=none,UserKnownHostsFile=$work/kh_bad,StrictHostKeyChecking=no" </dev/null 2>&1)
rc=$?
n=$(wc -l <"$work/asked")
if [ $rc = 1 ] && ! mounted && [ "$n" = 0 ] && echo "$out" | grep -q "password login disabled"; then
	ok "changed host key with StrictHostKeyChecking=no: no password asked or sent, exit 1"
else
	fail "changed host key, StrictHostKeyChecking=no: rc=$rc, asked $n times: $out"
	mounted && fusermount3 -u "$mnt"
fi

# 3. SSH_ASKPASS with the right one, through a proxy that cuts the link
# twice: asked once, at the mount; the reconnects log in with it
printf '%s\n' "$pw" >"$work/answer"
: >"$work/asked"
"$proxy" -t "127.0.0.1:$SFTPMNT_TEST_PORT" -p "$work/pport" -c "$work/ctl" -q &
pxpid=$!
trap 'kill $pxpid 2>/dev/null; restore; mt_cleanup' EXIT
for _ in $(seq 1 300); do [ -s "$work/pport" ] && break; sleep 0.1; done
pport=$(cat "$work/pport")
sed "s/\]:$SFTPMNT_TEST_PORT /]:$pport /" "$SFTPMNT_TEST_KNOWN_HOSTS" >"$work/kh"
popts="port=$pport,IdentitiesOnly=yes,IdentityAgent=none,UserKnownHostsFile=$work/kh,ServerAliveInterval=1,ServerAliveCountMax=2"
if nossh SSH_ASKPASS="$work/askpass" SSH_ASKPASS_REQUIRE=force setsid -w "$bin" "$src" "$mnt" -o "$popts" </dev/null &&
	mounted && [ "$(cat "$mnt/f")" = "behind a password" ]; then
	ok "SSH_ASKPASS without a terminal: mounted"
	printf 'wrong\n' >"$work/answer" # (asking again would not help)
	for i in 1 2; do
		python3 -c 'import socket,sys; s=socket.socket(socket.AF_UNIX); s.connect(sys.argv[1]); s.sendall(b"cut\n"); s.recv(99)' "$work/ctl"
		sleep 1
		echo "more $i" >"$mnt/g" 2>/dev/null
	done
	[ "$(cat "$srv/g" 2>/dev/null)" = "more 2" ] && [ "$(cat "$mnt/f")" = "behind a password" ] &&
		ok "after two cuts the mount works (reconnected with the password)" || fail "after the cuts"
	n=$(wc -l <"$work/asked")
	[ "$n" = 1 ] && ok "the password was asked for once, not at the reconnects" ||
		fail "askpass ran $n times"
	fusermount3 -u "$mnt"
else
	fail "SSH_ASKPASS"
	mounted && fusermount3 -u "$mnt"
fi
finish
