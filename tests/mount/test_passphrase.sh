#!/bin/bash
# An encrypted key file, as ssh-keygen writes it by default: the
# passphrase is asked for on the terminal (echo off; a wrong one asked
# again, three tries), through SSH_ASKPASS without a terminal, refused
# clearly with neither; and a reconnect of the daemon (no terminal then)
# logs in again with the passphrase that opened the key, asking nobody.
set -uo pipefail
. "$(dirname "$0")/lib.sh"
proxy=${DELAYPROXY:?}
command -v script >/dev/null || { echo "SKIP: no script(1) (bsdutils) for a terminal"; exit 77; }
command -v setsid >/dev/null || { echo "SKIP: no setsid (util-linux)"; exit 77; }
: "${SFTPMNT_FIXTURE_DIR:?}"

srv=$SFTPMNT_TEST_ROOT/pp
mkdir -p "$srv"
echo "behind a passphrase" >"$srv/f"
key=$work/enc_key
ssh-keygen -q -t ed25519 -N 'secret pass' -f "$key" </dev/null
cat "$key.pub" >>"$SFTPMNT_FIXTURE_DIR/authorized_keys"
opts="port=$SFTPMNT_TEST_PORT,IdentityFile=$key,IdentitiesOnly=yes,IdentityAgent=none,UserKnownHostsFile=$SFTPMNT_TEST_KNOWN_HOSTS"
src="$SFTPMNT_TEST_USER@127.0.0.1:$srv"
mounted() { grep -q " $mnt fuse.sftpmnt " /proc/mounts; }

# 1. on a terminal (script(1) gives one; the answer comes once the
# prompt is up)
out=$( (sleep 1; printf 'secret pass\n') | script -qec "$bin '$src' '$mnt' -o '$opts'" /dev/null 2>&1)
if mounted && [ "$(cat "$mnt/f")" = "behind a passphrase" ]; then
	echo "$out" | grep -q "Enter passphrase for key '$key'" && ok "asked on the terminal, mounted" ||
		fail "mounted, but no prompt seen: $out"
	echo "$out" | grep -q "secret pass" && fail "the passphrase was echoed: $out" || ok "not echoed"
	fusermount3 -u "$mnt"
else
	fail "terminal passphrase: $out"
fi

# 2. a wrong one, then the right one
out=$( (sleep 1; printf 'nope\n'; sleep 1; printf 'secret pass\n') |
	script -qec "$bin '$src' '$mnt' -o '$opts'" /dev/null 2>&1)
if mounted; then
	[ "$(echo "$out" | grep -c "Enter passphrase")" -ge 2 ] && ok "a wrong passphrase is asked again" ||
		fail "asked only once: $out"
	fusermount3 -u "$mnt"
else
	fail "wrong then right: $out"
fi

# 3. three wrong ones: a clear refusal
out=$( (for w in a b c; do sleep 1; printf '%s\n' "$w"; done) |
	script -qec "$bin '$src' '$mnt' -o '$opts'; echo rc=\$?" /dev/null 2>&1)
if ! mounted && echo "$out" | grep -q "rc=1" && echo "$out" | grep -q "wrong passphrase"; then
	ok "three wrong passphrases: exit 1, \"$(echo "$out" | grep -o 'authentication.*' | head -c 100)...\""
else
	fail "three wrong: $out"
	mounted && fusermount3 -u "$mnt"
fi

# 4. no terminal, no SSH_ASKPASS
out=$(env -u SSH_ASKPASS -u DISPLAY -u WAYLAND_DISPLAY setsid -w "$bin" "$src" "$mnt" -o "$opts" </dev/null 2>&1)
rc=$?
if [ $rc = 1 ] && ! mounted && echo "$out" | grep -q "no passphrase could be asked for"; then
	ok "no way to ask: exit 1, \"$(echo "$out" | head -c 120)...\""
else
	fail "no terminal: rc=$rc $out"
	mounted && fusermount3 -u "$mnt"
fi

# 5. SSH_ASKPASS without a terminal, then reconnects through a cut link:
# the program is asked once, at the mount
cat >"$work/askpass" <<EOF
#!/bin/sh
echo "\$1" >>"$work/asked"
echo 'secret pass'
EOF
chmod +x "$work/askpass"
"$proxy" -t "127.0.0.1:$SFTPMNT_TEST_PORT" -p "$work/pport" -c "$work/ctl" -q &
pxpid=$!
trap 'kill $pxpid 2>/dev/null; mt_cleanup' EXIT
for _ in $(seq 1 300); do [ -s "$work/pport" ] && break; sleep 0.1; done
pport=$(cat "$work/pport")
sed "s/\]:$SFTPMNT_TEST_PORT /]:$pport /" "$SFTPMNT_TEST_KNOWN_HOSTS" >"$work/kh"
popts="port=$pport,IdentityFile=$key,IdentitiesOnly=yes,IdentityAgent=none,UserKnownHostsFile=$work/kh,ServerAliveInterval=1,ServerAliveCountMax=2"
if SSH_ASKPASS=$work/askpass SSH_ASKPASS_REQUIRE=force setsid -w "$bin" "$src" "$mnt" -o "$popts" </dev/null &&
	mounted && [ "$(cat "$mnt/f")" = "behind a passphrase" ]; then
	ok "SSH_ASKPASS without a terminal: mounted"
	for _ in 1 2; do
		python3 -c 'import socket,sys; s=socket.socket(socket.AF_UNIX); s.connect(sys.argv[1]); s.sendall(b"cut\n"); s.recv(99)' "$work/ctl"
		sleep 1
		echo "more" >"$mnt/g" 2>/dev/null
	done
	[ "$(cat "$srv/g" 2>/dev/null)" = more ] && [ "$(cat "$mnt/f")" = "behind a passphrase" ] &&
		ok "after two cuts the mount works (reconnected with the key)" || fail "after the cuts"
	n=$(wc -l <"$work/asked")
	[ "$n" = 1 ] && ok "the passphrase was asked for once, not at the reconnects" ||
		fail "askpass ran $n times"
	fusermount3 -u "$mnt"
else
	fail "SSH_ASKPASS"
	mounted && fusermount3 -u "$mnt"
fi

# 6. an encrypted key the server does not take, with its .pub beside it,
# tried before the right one: the server is asked first, so nobody is
# asked for the first key's passphrase (without the .pub it must be)
other=$work/other_key
ssh-keygen -q -t ed25519 -N 'other pass' -f "$other" </dev/null
: >"$work/asked"
oopts="port=$SFTPMNT_TEST_PORT,IdentityFile=$other,IdentityFile=$key,IdentitiesOnly=yes,IdentityAgent=none,UserKnownHostsFile=$SFTPMNT_TEST_KNOWN_HOSTS"
if SSH_ASKPASS=$work/askpass SSH_ASKPASS_REQUIRE=force setsid -w "$bin" "$src" "$mnt" -o "$oopts" </dev/null &&
	mounted; then
	grep -q "other_key" "$work/asked" && fail "asked for the refused key's passphrase: $(cat "$work/asked")" ||
		ok "a refused key with its .pub: no passphrase asked for it ($(wc -l <"$work/asked") prompt, for the right key)"
	fusermount3 -u "$mnt"
else
	fail "two keys, the first refused"
fi
rm -f "$other.pub"
: >"$work/asked"
if SSH_ASKPASS=$work/askpass SSH_ASKPASS_REQUIRE=force setsid -w "$bin" "$src" "$mnt" -o "$oopts" </dev/null; then
	mounted && fusermount3 -u "$mnt"
fi
grep -q "other_key" "$work/asked" && ok "without the .pub its passphrase is needed to know the key (asked)" ||
	fail "without the .pub: not asked for the first key: $(cat "$work/asked")"
finish
