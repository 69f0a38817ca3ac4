#!/bin/bash
# OpenSSH user certificates: a key that is not in authorized_keys but
# certified by a CA the server trusts (TrustedUserCAKeys) mounts, with its
# certificate found as ssh finds it (KEY-cert.pub) or given as
# CertificateFile= (on the command line or in an ssh_config file);
# without a certificate the same key is refused, and a certificate the
# server does not take falls back to the plain key.
set -uo pipefail
. "$(dirname "$0")/lib.sh"
command -v ssh-keygen >/dev/null || { echo "SKIP: no ssh-keygen"; exit 77; }

srv=$SFTPMNT_TEST_ROOT/cert
mkdir -p "$srv"
echo certified >"$srv/hello"
k=$work/keys
mkdir -p "$k"
ssh-keygen -q -t ed25519 -N '' -C ca -f "$k/ca" || { fail "ssh-keygen ca"; finish; }
ssh-keygen -q -t ed25519 -N '' -C user -f "$k/user" || { fail "ssh-keygen user"; finish; }
ssh-keygen -q -s "$k/ca" -I sftpmnt-test -n "$SFTPMNT_TEST_USER" -V -5m:+1h \
	"$k/user.pub" || { fail "ssh-keygen -s"; finish; }
[ -s "$k/user-cert.pub" ] || { fail "no certificate made"; finish; }
# a CA the server does not trust, for a certificate it refuses
ssh-keygen -q -t ed25519 -N '' -C other -f "$k/other" || { fail "ssh-keygen other"; finish; }
cp "$k/user.pub" "$k/u2.pub"
ssh-keygen -q -s "$k/other" -I untrusted -n "$SFTPMNT_TEST_USER" "$k/u2.pub" ||
	{ fail "ssh-keygen -s (other CA)"; finish; }
chmod 600 "$k/user" "$k/ca" "$k/other"

restore() { "$SFTPMNT_FIXTURE" restart "$SFTPMNT_FIXTURE_DIR" >/dev/null 2>&1; }
trap 'mt_cleanup; restore' EXIT
"$SFTPMNT_FIXTURE" restart "$SFTPMNT_FIXTURE_DIR" "TrustedUserCAKeys=$k/ca.pub" >/dev/null ||
	{ fail "sshd restart with TrustedUserCAKeys"; finish; }

# mount_as KEY [options]: 0 when the key (and what goes with it) logs in
mount_as() {
	local key=$1
	shift
	"$bin" "$SFTPMNT_TEST_USER@$SFTPMNT_TEST_HOST:$srv" "$mnt" -o \
		"port=$SFTPMNT_TEST_PORT,UserKnownHostsFile=$SFTPMNT_TEST_KNOWN_HOSTS,IdentityFile=$key,IdentitiesOnly=yes,IdentityAgent=none,ConnectTimeout=10" \
		"$@" 2>"$work/err" || return 1
	grep -q " $mnt fuse.sftpmnt " /proc/mounts
}
check_read() {
	if [ "$(cat "$mnt/hello" 2>/dev/null)" = certified ]; then ok "$1"; else fail "$1: read"; fi
	unmount_sftp || fail "$1: unmount"
}

if mount_as "$k/user"; then
	check_read "the key's certificate (user-cert.pub, found as ssh does) logs in"
else
	fail "user-cert.pub: $(cat "$work/err")"
fi

mv "$k/user-cert.pub" "$k/elsewhere.pub"
if mount_as "$k/user"; then
	fail "the key without its certificate logged in"
	unmount_sftp
else
	ok "without a certificate the key is refused: $(head -c 200 "$work/err")"
fi

if mount_as "$k/user" -o "CertificateFile=$k/elsewhere.pub"; then
	check_read "CertificateFile= on the command line"
else
	fail "CertificateFile=: $(cat "$work/err")"
fi

cat >"$work/ssh_config" <<EOF
Host 127.0.0.1
  CertificateFile $k/elsewhere.pub
EOF
if mount_as "$k/user" -F "$work/ssh_config"; then
	check_read "CertificateFile in ssh_config"
else
	fail "ssh_config CertificateFile: $(cat "$work/err")"
fi

# the test key (in authorized_keys) with a certificate from a CA the
# server does not trust: refused as a certificate, it logs in plain; with
# another key's certificate (not its own) likewise
ssh-keygen -y -f "$SFTPMNT_TEST_KEY" >"$k/t.pub" || fail "ssh-keygen -y"
ssh-keygen -q -s "$k/other" -I untrusted -n "$SFTPMNT_TEST_USER" "$k/t.pub" ||
	fail "ssh-keygen -s (other CA)"
if mount_as "$SFTPMNT_TEST_KEY" -o "CertificateFile=$k/t-cert.pub"; then
	check_read "a certificate the server refuses: the plain key logs in"
else
	fail "fallback after a refused certificate: $(cat "$work/err")"
fi
if mount_as "$SFTPMNT_TEST_KEY" -o "CertificateFile=$k/u2-cert.pub"; then
	check_read "another key's certificate: the plain key logs in"
else
	fail "fallback after another key's certificate: $(cat "$work/err")"
fi
finish
