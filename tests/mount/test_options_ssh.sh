#!/bin/bash
# The ssh options of the daemon, proven on the wire (the other options are
# in test_options_more.sh):
#  - KexAlgorithms=, MACs=, Ciphers=, HostKeyAlgorithms= given with -o
#    and from ssh_config (-o first): the server's debug log names what was
#    agreed; a server restarted to allow one algorithm of each kind only
#    takes a mount that asks for it, and refuses one that names another
#    (each option alone); unknown names in a list are skipped, a list of
#    nothing but unknown names is a usage error (exit 2) naming the option;
#  - Compression=yes (and from ssh_config): zlib@openssh.com agreed, the
#    data exact, and far fewer bytes through tests/tools/delayproxy for
#    compressible data than without;
#  - ConnectTimeout: a listener that accepts and never speaks makes the
#    mount fail after about that many seconds, with a message;
#  - ServerAliveInterval/ServerAliveCountMax: with the link stalled the
#    daemon declares the connection lost interval*(count+1) seconds after
#    the server last spoke (its log line), not sooner, not much later.
set -uo pipefail
. "$(dirname "$0")/lib.sh"
# within GOT WANT EARLY LATE: GOT is in [WANT - EARLY, WANT + LATE] (awk:
# no bc on a minimal system)
within() { awk -v g="$1" -v w="$2" -v e="$3" -v l="$4" 'BEGIN { exit !(g >= w - e && g <= w + l) }'; }
command -v python3 >/dev/null || { echo "SKIP: no python3"; exit 77; }
: "${SFTPMNT_FIXTURE:?run through make check}"
: "${SFTPMNT_FIXTURE_DIR:?run through make check}"

srv=$SFTPMNT_TEST_ROOT/ssh
mkdir -p "$srv"
echo data >"$srv/f"
log=$SFTPMNT_FIXTURE_DIR/sshd.log
listener=
trap '[ -n "$listener" ] && kill "$listener" 2>/dev/null; mt_cleanup' EXIT
mounted() { grep -q " $mnt fuse.sftpmnt " /proc/mounts; }
umnt() { mounted && { unmount_sftp || fail "unmount $mnt"; }; }
restart() {
	"$SFTPMNT_FIXTURE" restart "$SFTPMNT_FIXTURE_DIR" "$@" >"$work/restart" 2>&1 ||
		{ fail "restarting sshd with $*: $(cat "$work/restart")"; finish; }
}
base="port=$SFTPMNT_TEST_PORT,IdentityFile=$SFTPMNT_TEST_KEY,UserKnownHostsFile=$SFTPMNT_TEST_KNOWN_HOSTS"

# ---- 1. what was agreed, in the server's debug log -----------------------
restart LogLevel=DEBUG1
# agreed OPTS [ARGS...]: mount, read, unmount; prints the server's
# "kex algorithm|host key|c2s cipher|c2s mac|c2s comp|s2c cipher" or an error
agreed() {
	local o=$1 from
	shift
	from=$(($(stat -c %s "$log") + 1))
	if ! "$bin" "$@" "$SFTPMNT_TEST_USER@127.0.0.1:$srv" "$mnt" -o "$base$o" 2>"$work/err" ||
		[ "$(cat "$mnt/f" 2>&1)" != data ]; then
		echo "mount failed: $(cat "$work/err")"
		umnt
		return
	fi
	umnt
	tail -c +"$from" "$log" | awk '
		function after(w,   i) { for (i = 1; i < NF; i++) if ($i == w) return $(i + 1) }
		/kex: algorithm: / { k = after("algorithm:") }
		/kex: host key algorithm: / { h = after("algorithm:") }
		/kex: client->server cipher: / { c = after("cipher:"); m = after("MAC:"); z = after("compression:") }
		/kex: server->client cipher: / { s = after("cipher:") }
		END { print k "|" h "|" c "|" m "|" z "|" s }'
}
want="ecdh-sha2-nistp384|ecdsa-sha2-nistp256|aes192-ctr|hmac-sha2-512|none|aes192-ctr"
got=$(agreed ",KexAlgorithms=ecdh-sha2-nistp384,HostKeyAlgorithms=ecdsa-sha2-nistp256,Ciphers=aes192-ctr,MACs=hmac-sha2-512")
[ "$got" = "$want" ] && ok "-o KexAlgorithms, HostKeyAlgorithms, Ciphers, MACs: the server agreed $got" ||
	fail "-o algorithms: server log says '$got', want $want"
cat >"$work/alg_config" <<EOF
Host 127.0.0.1
  KexAlgorithms diffie-hellman-group16-sha512
  HostKeyAlgorithms rsa-sha2-256
  Ciphers aes256-ctr
  MACs hmac-sha2-256-etm@openssh.com
  Compression yes
EOF
want="diffie-hellman-group16-sha512|rsa-sha2-256|aes256-ctr|hmac-sha2-256-etm@openssh.com|zlib@openssh.com|aes256-ctr"
got=$(agreed "" -F "$work/alg_config")
[ "$got" = "$want" ] && ok "the same keywords and Compression from ssh_config: the server agreed $got" ||
	fail "ssh_config algorithms: server log says '$got', want $want"
want="curve25519-sha256|rsa-sha2-256|aes256-ctr|hmac-sha1|zlib@openssh.com|aes256-ctr"
got=$(agreed ",KexAlgorithms=curve25519-sha256,MACs=hmac-sha1" -F "$work/alg_config")
[ "$got" = "$want" ] && ok "-o KexAlgorithms and MACs win over ssh_config: $got" ||
	fail "-o over ssh_config: server log says '$got', want $want"
got=$(agreed ",Ciphers=no-such-cipher\\,aes128-ctr,MACs=hmac-md5\\,hmac-sha2-256")
[ "$(echo "$got" | cut -d'|' -f3,4)" = "aes128-ctr|hmac-sha2-256" ] &&
	ok "unknown names in a list are skipped: $got" || fail "lists with unknown names: $got"
for o in Ciphers KexAlgorithms MACs HostKeyAlgorithms; do
	out=$("$bin" "$SFTPMNT_TEST_USER@127.0.0.1:$srv" "$mnt" -o "$base,$o=no-such-alg" 2>&1)
	rc=$?
	[ $rc = 2 ] && echo "$out" | grep -q "^sftpmnt: $o=no-such-alg: no algorithm in the list is supported; supported: ..*" &&
		! mounted &&
		ok "$o=no-such-alg: exit $rc, $out" || { fail "$o=no-such-alg: rc=$rc $out"; umnt; }
done

printf 'Host 127.0.0.1\n  KexAlgorithms no-such-kex\n' >"$work/bad_config"
out=$("$bin" -F "$work/bad_config" "$SFTPMNT_TEST_USER@127.0.0.1:$srv" "$mnt" -o "$base" 2>&1)
rc=$?
[ $rc = 2 ] && echo "$out" | grep -q "^sftpmnt: KexAlgorithms=no-such-kex: no algorithm" && ! mounted &&
	ok "KexAlgorithms no-such-kex in ssh_config: exit 2 too" || { fail "bad ssh_config list: rc=$rc $out"; umnt; }

# ---- 2. a server that allows one algorithm of each kind -------------------
restart Ciphers=aes192-ctr MACs=hmac-sha2-512 KexAlgorithms=ecdh-sha2-nistp521 \
	HostKeyAlgorithms=ecdsa-sha2-nistp384
good="Ciphers=aes192-ctr,MACs=hmac-sha2-512,KexAlgorithms=ecdh-sha2-nistp521,HostKeyAlgorithms=ecdsa-sha2-nistp384"
if "$bin" "$SFTPMNT_TEST_USER@127.0.0.1:$srv" "$mnt" -o "$base,$good" 2>"$work/err" &&
	[ "$(cat "$mnt/f")" = data ]; then
	ok "the one allowed algorithm of each kind, asked for with -o: mounted"
else
	fail "allowed algorithms: $(cat "$work/err")"
fi
umnt
for bad in Ciphers=aes256-ctr MACs=hmac-sha2-256 KexAlgorithms=curve25519-sha256 \
	HostKeyAlgorithms=ssh-ed25519; do
	out=$("$bin" "$SFTPMNT_TEST_USER@127.0.0.1:$srv" "$mnt" -o "$base,$good,$bad" 2>&1)
	rc=$?
	[ $rc = 1 ] && echo "$out" | grep -qi "handshake\|no matching\|agree" && ! mounted &&
		ok "only $bad asked for: refused, exit 1: $(echo "$out" | head -c 100)" ||
		{ fail "$bad against the one-algorithm server: rc=$rc $out"; umnt; }
done
sed -e 's/diffie-hellman-group16-sha512/ecdh-sha2-nistp521/' -e 's/rsa-sha2-256/ecdsa-sha2-nistp384/' \
	-e 's/aes256-ctr/aes192-ctr/' -e 's/hmac-sha2-256-etm@openssh.com/hmac-sha2-512/' \
	"$work/alg_config" >"$work/alg_config2"
"$bin" -F "$work/alg_config2" "$SFTPMNT_TEST_USER@127.0.0.1:$srv" "$mnt" -o "$base" 2>"$work/err" &&
	[ "$(cat "$mnt/f")" = data ] && ok "the allowed algorithms from ssh_config: mounted" ||
	fail "allowed algorithms from ssh_config: $(cat "$work/err")"
umnt
restart LogLevel=DEBUG1

# ---- 3. Compression=yes through delayproxy's byte counts ------------------
proxy_start 0
ctl() { python3 -c 'import socket,sys; s=socket.socket(socket.AF_UNIX); s.connect(sys.argv[1]); s.sendall((sys.argv[2]+"\n").encode()); print(s.recv(200).decode().strip())' "$work/ctl" "$1"; }
bytes() { ctl stats | sed -n "s/.* $1=\([0-9]*\).*/\1/p"; }
# 4 MiB of text, written through the mount and read back by a new mount
python3 -c '
import sys
line = b"".join(b"%08d the quick brown fox jumps over the lazy dog\n" % i for i in range(80000))
sys.stdout.buffer.write(line[:4 << 20])' >"$work/text"
# through OPTS [SSH_CONFIG]: prints "c2s s2c kex" bytes of writing and
# then reading the text, and the key exchanges the server saw while reading
through() {
	local c0 s0 c1 s1 from
	mount_sftp "$srv" -o "$proxy_opts$1" ${2:+-F "$2"} || { echo "mount failed"; return; }
	c0=$(bytes c2s)
	cp "$work/text" "$mnt/text" && cmp -s "$srv/text" "$work/text" || echo "write not exact"
	c1=$(bytes c2s)
	unmount_sftp
	mount_sftp "$srv" -o "$proxy_opts$1" ${2:+-F "$2"} || { echo "mount failed"; return; }
	s0=$(bytes s2c)
	from=$(($(stat -c %s "$log") + 1))
	cmp -s "$mnt/text" "$work/text" || echo "read not exact"
	s1=$(bytes s2c)
	unmount_sftp
	rm -f "$srv/text"
	echo "$((c1 - c0)) $((s1 - s0)) $(tail -c +"$from" "$log" | grep -c "SSH2_MSG_KEXINIT received")"
}
plain=$(through "")
comp=$(through ",Compression=yes")
read -r pc ps _ <<<"$plain"
read -r cc cs _ <<<"$comp"
if [[ "$plain $comp" =~ ^[0-9]+\ [0-9]+\ [0-9]+\ [0-9]+\ [0-9]+\ [0-9]+$ ]] && [ "$pc" -gt 4000000 ] && [ "$ps" -gt 4000000 ] &&
	[ $((cc * 10)) -lt "$pc" ] && [ $((cs * 10)) -lt "$ps" ]; then
	ok "Compression=yes: 4 MiB of text exact both ways; bytes written/read on the wire $cc/$cs, without $pc/$ps"
else
	fail "Compression: without '$plain', with '$comp' (want a tenth or less, data exact)"
fi
# RekeyLimit=64K: a key exchange (a few KiB each way) every 64 KiB we
# send or receive, data exact (it deadlocked the writes once: data held
# back for an exchange nobody started); also from ssh_config, and a value
# it cannot read is refused.  Reading, the server's data already on its
# way when our KEXINIT leaves still comes under the old keys, so there are
# fewer exchanges than 4 MiB / 64 KiB, and how many depends on the speed of
# the machine: the server's log counts them (a byte count drowned in the
# few KiB the read pattern varies by); the first is the login's.
rk=$(through ",RekeyLimit=64K")
read -r rc _ rk_kex <<<"$rk"
if [[ "$plain $rk" =~ ^[0-9]+\ [0-9]+\ [0-9]+\ [0-9]+\ [0-9]+\ [0-9]+$ ]] &&
	[ $((rc - pc)) -gt 50000 ] && [ "$rk_kex" -ge 2 ]; then
	ok "RekeyLimit=64K: 4 MiB exact both ways; $((rc - pc)) more bytes written (the key exchanges), $((rk_kex - 1)) exchanges while reading"
else
	fail "RekeyLimit=64K: without '$plain', with '$rk' (want data exact, 50 KB more written, an exchange after the login's while reading: what we receive counts too)"
fi
printf 'Host *\n  RekeyLimit 64K 1h\n' >"$work/rk.conf"
rk=$(through "" "$work/rk.conf")
read -r rc rs _ <<<"$rk"
[[ "$rk" =~ ^[0-9]+\ [0-9]+\ [0-9]+$ ]] && [ $((rc - pc)) -gt 50000 ] &&
	ok "RekeyLimit 64K 1h from ssh_config: $((rc - pc)) more bytes written" ||
	fail "RekeyLimit from ssh_config: '$rk'"
if "$bin" "$SFTPMNT_TEST_USER@127.0.0.1:$srv" "$mnt" -o "$proxy_opts,RekeyLimit=1K" 2>"$work/err"; then
	fail "RekeyLimit=1K was taken"; unmount_sftp
else
	grep -q "RekeyLimit=1K" "$work/err" && ok "RekeyLimit=1K refused: $(head -c 90 "$work/err")" ||
		fail "RekeyLimit=1K: $(cat "$work/err")"
fi
proxy_stop

# ---- 4. ConnectTimeout: a server that accepts and never speaks -----------
python3 -c '
import os, socket, sys, time
s = socket.socket(); s.bind(("127.0.0.1", 0)); s.listen(8)
open(sys.argv[1] + ".tmp", "w").write(str(s.getsockname()[1])); os.rename(sys.argv[1] + ".tmp", sys.argv[1])
held = []
while True:
    c, _ = s.accept(); held.append(c)' "$work/mute.port" &
listener=$!
for _ in $(seq 1 600); do [ -s "$work/mute.port" ] && break; sleep 0.05; done
mute=$(cat "$work/mute.port")
# timed SECONDS [ARGS...]: exit status and seconds the mount attempt took
timed() {
	local t0 t1 rc
	t0=$(date +%s.%N)
	"$bin" "$@" "$SFTPMNT_TEST_USER@127.0.0.1:$srv" "$mnt" \
		-o "port=$mute,IdentityFile=$SFTPMNT_TEST_KEY,UserKnownHostsFile=$SFTPMNT_TEST_KNOWN_HOSTS" 2>"$work/err"
	rc=$?
	t1=$(date +%s.%N)
	echo "$rc $(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.2f", b - a }')"
}
for spec in "1 -o ConnectTimeout=1" "3 -o ConnectTimeout=3" "2 -F $work/ct_config"; do
	printf 'Host 127.0.0.1\n  ConnectTimeout 2\n' >"$work/ct_config"
	set -- $spec
	want=$1
	shift
	read -r rc took <<<"$(timed "$@")"
	if [ "$rc" = 1 ] && ! mounted && within "$took" "$want" 0.2 1.5 &&
		grep -qi "time" "$work/err"; then
		ok "ConnectTimeout $want (${*}): refused after ${took}s, exit 1: $(head -n1 "$work/err")"
	else
		fail "ConnectTimeout $want (${*}): rc=$rc after ${took}s: $(cat "$work/err")"
		umnt
	fi
done
kill "$listener" 2>/dev/null
listener=

# ---- 5. ServerAliveInterval, ServerAliveCountMax ------------------------
# The daemon runs in the foreground, its log on stderr.  Something is
# asked for (cache=no: it reaches the server) just before the link
# stalls, so the server last spoke then; the loss must be declared
# interval*(count+1) s later, give or take the daemon's 1 s wake-ups.
proxy_start 0
# alive SECONDS_WANTED OPTS [ARGS...]
alive() {
	local want=$1 o=$2 pid got
	shift 2
	"$bin" "$@" "$SFTPMNT_TEST_USER@127.0.0.1:$srv" "$mnt" -f \
		-o "$proxy_opts,IdentityFile=$SFTPMNT_TEST_KEY,cache=no,ConnectTimeout=2$o" 2>"$work/alive.log" &
	pid=$!
	for _ in $(seq 1 100); do mounted && break; sleep 0.05; done
	mounted || { fail "mount for ServerAlive ($o): $(cat "$work/alive.log")"; kill "$pid"; return; }
	got=$(MNT=$mnt CTL=$work/ctl LOG=$work/alive.log python3 - <<'PY'
import os, socket, time
def ctl(cmd):
    s = socket.socket(socket.AF_UNIX); s.connect(os.environ['CTL'])
    s.sendall((cmd + '\n').encode()); s.recv(200); s.close()
os.listdir(os.environ['MNT'])
t0 = time.monotonic()
ctl('stall')
while time.monotonic() - t0 < 20:
    if 'lost' in open(os.environ['LOG']).read():
        break
    time.sleep(0.05)
print('%.1f' % (time.monotonic() - t0))
ctl('resume')
PY
)
	line=$(grep -m1 lost "$work/alive.log")
	if within "$got" "$want" 0.3 1.6 && [ -n "$line" ]; then
		ok "ServerAlive ($o ${*}): lost after ${got}s (want $want): $line"
	else
		fail "ServerAlive ($o ${*}): '$line' after ${got}s, want ${want}s"
	fi
	fusermount3 -u "$mnt" || fusermount3 -uz "$mnt"
	for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
	kill "$pid" 2>/dev/null
}
alive 6 ",ServerAliveInterval=2,ServerAliveCountMax=2"
printf 'Host 127.0.0.1\n  ServerAliveInterval 1\n  ServerAliveCountMax 3\n' >"$work/sa_config"
alive 4 "" -F "$work/sa_config"
proxy_stop

finish
