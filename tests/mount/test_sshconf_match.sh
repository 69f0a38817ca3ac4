#!/bin/bash
# ssh_config Match blocks deciding a real mount (fs/sshconf.c):
#  - an alias whose port, user, identity and known_hosts come only from a
#    Match block (originalhost, host after HostName, and an exec whose
#    command runs, sees its %-tokens and exits 0); a later "Match all"
#    with Port 1 shows that the first value obtained wins;
#  - the same file with the exec failing: the block is skipped, the mount
#    goes to port 1 and fails;
#  - a Match block naming a user the server does not have: refused, so
#    the User line of the block is what logs in;
#  - "Match final": Host lines test the HostName in the final pass (and
#    without it they do not);
#  - an unknown criterion: the mount fails, naming the file and line.
set -uo pipefail
. "$(dirname "$0")/lib.sh"
: "${SFTPMNT_TEST_KEY:?run through make check}"

srv=$SFTPMNT_TEST_ROOT/match
mkdir -p "$srv"
echo matched >"$srv/f"
mounted() { grep -q " $mnt fuse.sftpmnt " /proc/mounts; }
umnt() { mounted && { unmount_sftp || fail "unmount $mnt"; }; }
# what a block needs to log in, with nothing on the command line
login="  Port $SFTPMNT_TEST_PORT
  User $SFTPMNT_TEST_USER
  IdentityFile $SFTPMNT_TEST_KEY
  IdentitiesOnly yes
  IdentityAgent none
  UserKnownHostsFile $SFTPMNT_TEST_KNOWN_HOSTS
  ConnectTimeout 10"
# try NAME CONFIG ALIAS: mount ALIAS:$srv with -F CONFIG; 0 when the file
# reads back (stderr in $work/err)
try() {
	"$bin" -F "$2" "$3:$srv" "$mnt" 2>"$work/err" && mounted &&
		[ "$(cat "$mnt/f" 2>/dev/null)" = matched ]
}

cat >"$work/config" <<EOF
Host matchalias
  HostName $SFTPMNT_TEST_HOST
Match host matchalias
  Port 1
Match originalhost matchalias host $SFTPMNT_TEST_HOST exec "test -e $work/flag && echo %h %n %p %r %u >$work/exec.out"
$login
Match all
  Port 1
EOF
touch "$work/flag"
if try 1 "$work/config" matchalias; then
	ok "port, user, identity and known_hosts from a Match block: mounted"
else
	fail "Match block mount: $(cat "$work/err")"
fi
umnt
# %p and %r: what was resolved when the line was read (nothing yet)
want="$SFTPMNT_TEST_HOST matchalias 22 $(id -un) $(id -un)"
[ "$(cat "$work/exec.out" 2>/dev/null)" = "$want" ] &&
	ok "Match exec ran with its tokens: $want" ||
	fail "exec tokens: '$(cat "$work/exec.out" 2>/dev/null)', want '$want'"

rm -f "$work/flag" "$work/exec.out"
if try 2 "$work/config" matchalias; then
	fail "the exec failed and yet the block applied"
else
	! mounted && grep -qi "refused\|connect" "$work/err" &&
		ok "exec failing: block skipped, Port 1 from Match all: $(head -c 150 "$work/err")" ||
		fail "exec failing: $(cat "$work/err")"
fi
umnt
[ ! -e "$work/exec.out" ] || fail "exec's command ran past its own test"

sed "s/^  User .*/  User sftpmnt-no-such-user/" "$work/config" >"$work/config-user"
touch "$work/flag"
if try 3 "$work/config-user" matchalias; then
	fail "a Match block's User was not used (logged in as someone else)"
else
	! mounted && ok "the Match block's User is the one that logs in: refused: $(head -c 150 "$work/err")" ||
		fail "User from Match: $(cat "$work/err")"
fi
umnt

# Host lines test the HostName only in the final pass a Match final asks
# for (and "Match final all" holds only then, after the Host block)
printf 'Host finalalias\n  HostName %s\nHost %s\n%s\nMatch final all\n  Port 1\n' \
	"$SFTPMNT_TEST_HOST" "$SFTPMNT_TEST_HOST" "$login" >"$work/config-final"
if try 4 "$work/config-final" finalalias; then
	ok "Match final: a Host block for the HostName applied in the final pass"
else
	fail "Match final: $(cat "$work/err")"
fi
umnt
sed 's/^Match final all$/Host */' "$work/config-final" >"$work/config-nofinal"
if try 5 "$work/config-nofinal" finalalias; then
	fail "without Match final, Host tested the HostName"
else
	! mounted && grep -q "port 1:" "$work/err" &&
		ok "without Match final the HostName's Host block does not apply: $(head -c 150 "$work/err")" ||
		fail "no final pass: $(cat "$work/err")"
fi
umnt

printf 'Host *\n  Compression no\nMatch localnetwork 10.0.0.0/8\n%s\n' "$login" >"$work/config-bad"
out=$("$bin" -F "$work/config-bad" "$SFTPMNT_TEST_HOST:$srv" "$mnt" 2>&1)
rc=$?
[ $rc != 0 ] && ! mounted &&
	echo "$out" | grep -q "config-bad line 3: Match: unknown criterion 'localnetwork'" &&
	ok "an unknown criterion: exit $rc, $out" ||
	fail "unknown criterion: rc=$rc $out"
umnt
finish
