#!/bin/bash
# Issue #9 failure cases the other reliability tests leave out:
#  1. a full disk (a small tmpfs in the server's mount namespace) under
#     a) a large write striped over several channels, b) O_APPEND writes,
#     c) writes made while the link is down and sent after the reconnect:
#     ENOSPC reaches the program at a write, fsync or close, and the
#     server's file is a prefix of what was written, no foreign byte and
#     no hole in it.  Where: writes are answered as soon as they are
#     copied (write-behind), before the server has seen them, so its
#     refusal cannot come at the write it belongs to; it is kept and
#     returned by the next write, fsync or close of the file, whichever
#     comes first (seen here: a later write for O_APPEND now and then,
#     fsync otherwise).  What a user needs: a program that checks close
#     or fsync (cp, editors, rsync, tar) always learns that its file is
#     incomplete, and the bytes before the error are the ones it wrote;
#  2. the sftp-server of the mount's primary channel killed (the SSH
#     connection stays up) while files are open for reading and writing:
#     the descriptors work on and the written file is byte-exact;
#  3. sshd stopped and started again on the same port with the same keys
#     while files are open: they read and write on, and a file removed on
#     the server while sshd was down gives ESTALE (sftpmnt(1));
#  4. sshd restarted with a new host key: the reconnect is refused, with
#     HOST KEY MISMATCH in the log, and calls fail, never served by it;
#     with the old key back the mount works on;
#  5. with max_conns=2 the second SSH connection stops dead (its sshd
#     stopped): the primary answers on without waiting, and the reader
#     on the dead one goes on, exact, once it has reconnected;
#  6. at 50 ms RTT a large write, a large read and a long listing, each
#     cut twice (once for the listing), are byte-exact and complete.
# sshd is stopped and started only by processes that hold no descriptor
# of the mount: a child that inherits a written descriptor closes it at
# exec, and that close (FUSE FLUSH) waits, up to op_timeout, for the
# written bytes to reach the server it would start.
# Kept out of check-valgrind (the sshd restarts and the 16-24 MiB writes
# are slow there); about 50 s, 95 s under AddressSanitizer.
set -uo pipefail
. "$(dirname "$0")/lib.sh"
command -v python3 >/dev/null || { echo "SKIP: no python3"; exit 77; }
[ "$(id -u)" = 0 ] ||
	{ echo "SKIP: mounts in the server's namespace need root"; exit 77; }
command -v nsenter >/dev/null ||
	{ echo "SKIP: no nsenter (util-linux)"; exit 77; }
: "${SFTPMNT_FIXTURE_DIR:?run through make check}"
: "${SFTPMNT_FIXTURE:?run through make check}"

srvns() { nsenter -t "$(cat "$SFTPMNT_FIXTURE_DIR/pid")" -m -- "$@"; }
srvns true || { echo "SKIP: the fixture's sshd has no namespace of its own"; exit 77; }

srv=$SFTPMNT_TEST_ROOT/rel3
mkdir -p "$srv/fa" "$srv/fb" "$srv/fc"
# (a: 16 MiB striped into 6; b: 2 MiB appended to 1; c: 4 MiB into 3)
for d in fa:6m fb:1m fc:3m; do
	srvns mount -t tmpfs -o "size=${d#*:}" "sftpmnt-r3${d%:*}" "$srv/${d%:*}" ||
		{ echo "FAIL: tmpfs in the server's namespace"; exit 1; }
done

# the number of sftp-server processes of the fixture
sftp_servers() {
	local p n=0
	for p in $("$SFTPMNT_FIXTURE" pids "$SFTPMNT_FIXTURE_DIR"); do
		[ "$(cat "/proc/$p/comm" 2>/dev/null)" = sftp-server ] && n=$((n + 1))
	done
	echo $n
}
# wait until there are $1 of them (10 s at most)
wait_servers() {
	for _ in $(seq 1 100); do
		[ "$(sftp_servers)" = "$1" ] && return 0
		sleep 0.1
	done
	return 1
}
# mount in the foreground with the daemon's messages in $work/daemon.log
mount_fg() {
	"$bin" "$SFTPMNT_TEST_USER@$SFTPMNT_TEST_HOST:$srv" "$mnt" -f -o \
		"IdentityFile=$SFTPMNT_TEST_KEY,$1" 2>>"$work/daemon.log" &
	daemon=$!
	for _ in $(seq 1 200); do
		grep -q " $mnt fuse.sftpmnt " /proc/mounts && return 0
		kill -0 "$daemon" 2>/dev/null || return 1
		sleep 0.05
	done
	return 1
}
# unmount, and wait for the daemon and the server's processes to end
unmount_fg() {
	unmount_sftp || { fail "unmount"; fusermount3 -uz "$mnt"; }
	for _ in $(seq 1 100); do kill -0 "$daemon" 2>/dev/null || break; sleep 0.1; done
	if kill -0 "$daemon" 2>/dev/null; then
		fail "the daemon runs on after the unmount"
	else
		wait "$daemon"
		local st=$?
		[ $st = 0 ] || fail "the daemon exited with status $st"
	fi
	grep -E "Sanitizer|runtime error" "$work/daemon.log" &&
		fail "the daemon's log has a sanitizer report (above)"
	daemon=
	wait_servers 0 || fail "sftp-server processes left after the unmount: $(sftp_servers)"
}

proxy_start 0
common="ServerAliveInterval=1,ServerAliveCountMax=2,op_timeout=10,cache_timeout=1"
mount_fg "$proxy_opts,$common" || { fail "mount: $(tail -3 "$work/daemon.log")"; finish; }
# the striping channels open in the background: all ten before 1a
wait_servers 10 || fail "sftp-server processes after the mount: $(sftp_servers) (want 10)"

# 1. a full disk
phase1() {
	MNT=$mnt SRV=$srv CTL=$work/ctl NSPID=$(cat "$SFTPMNT_FIXTURE_DIR/pid") \
		PYTHONPATH=$here python3 - <<'PY'
import errno, os, socket, subprocess, threading, time
import mt
from mt import check, name, err_of
mnt, srv = os.environ['MNT'], os.environ['SRV']
MiB = 1 << 20
def ctl(c):
    s = socket.socket(socket.AF_UNIX); s.connect(os.environ['CTL'])
    s.sendall((c + '\n').encode()); r = s.recv(200).decode(); s.close()
    assert r.startswith('ok'), r
def server(p): # (the small disks are in the server's namespace only)
    return subprocess.run(['nsenter', '-t', os.environ['NSPID'], '-m', '--',
                           'cat', srv + '/' + p], stdout=subprocess.PIPE,
                          stderr=subprocess.DEVNULL).stdout
def write_all(fd, chunks, before=None):
    """Write the chunks, then fsync, then close; the first error and
    where it came: ('write 3', ENOSPC), ('fsync', ...), ('close', ...)."""
    where, err = None, None
    for i, c in enumerate(chunks):
        if before:
            before(i)
        try:
            n = os.write(fd, c)
            assert n == len(c), 'short write %d of %d' % (n, len(c))
        except OSError as e:
            where, err = 'write %d' % i, e.errno
            break
    if err is None:
        e = err_of(lambda: os.fsync(fd))
        if e is not None:
            where, err = 'fsync', e
    e = err_of(lambda: os.close(fd))
    if err is None and e is not None:
        where, err = 'close', e
    return where, err
def prefix(got, want):
    """got is want's first len(got) bytes: nothing foreign, no hole"""
    if got == want[:len(got)]:
        return 'a prefix of %d bytes' % len(got)
    bad = next(i for i in range(len(got)) if got[i] != want[i])
    return ('NOT a prefix: %d bytes, first wrong byte at %d (%s)'
            % (len(got), bad, 'zero: a hole' if got[bad] == 0 else 'foreign'))

# a. 16 x 1 MiB into 6 MiB: past 2 MiB the writes are striped over the
# extra channels (in parallel, so they may reach the disk out of order)
data = os.urandom(16 * MiB)
fd = os.open(mnt + '/fa/big', os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
where, err = write_all(fd, [data[i * MiB:(i + 1) * MiB] for i in range(16)])
check(err == errno.ENOSPC, '1a striped 16 MiB into a 6 MiB disk: %s at %s (ENOSPC)' % (name(err), where))
# (the striped writes land on the disk in any order: one refused for
# space left zeros under a later one that fitted, until the daemon cut
# the file back to the first refused byte once its writes settled)
p = prefix(server('fa/big'), data)
check(p.startswith('a prefix') and len(server('fa/big')) >= 2 * MiB,
      '1a the server file after ENOSPC: ' + p)
e = err_of(lambda: os.unlink(mnt + '/fa/big'))
check(e is None and server('fa/big') == b'', '1a the file is removed, the space free again (%s)' % name(e))
small = os.urandom(3 * MiB)
with open(mnt + '/fa/again', 'wb') as f:
    f.write(small)
check(server('fa/again') == small, '1a after the error a 3 MiB file is written whole')

# b. O_APPEND: 32 x 64 KiB into 1 MiB
data = os.urandom(2 * MiB)
fd = os.open(mnt + '/fb/log', os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
K = 65536
where, err = write_all(fd, [data[i * K:(i + 1) * K] for i in range(32)])
check(err == errno.ENOSPC, '1b O_APPEND 2 MiB into a 1 MiB disk: %s at %s (ENOSPC)' % (name(err), where))
got = server('fb/log')
check(prefix(got, data).startswith('a prefix'), '1b the server file after ENOSPC: ' + prefix(got, data))
# with a little space again appends go to the end, after what is there
os.truncate(mnt + '/fb/log', 100000)
fd = os.open(mnt + '/fb/log', os.O_WRONLY | os.O_APPEND)
os.write(fd, b'tail')
e = err_of(lambda: os.close(fd))
got = server('fb/log')
check(e is None and got == data[:100000] + b'tail',
      '1b after a truncate an append lands at the end (%s, %d bytes)' % (name(e), len(got)))

# c. 1 MiB written, the link cut and refused, 3 MiB more written while
# it is down (kept, sent after the reconnect) into a 3 MiB disk
data = os.urandom(4 * MiB)
fd = os.open(mnt + '/fc/down', os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
os.write(fd, data[:MiB])
os.fsync(fd)
ctl('refuse on'); ctl('cut')
threading.Timer(1.5, ctl, ['refuse off']).start()
where, err = write_all(fd, [data[i * MiB:(i + 1) * MiB] for i in range(1, 4)])
check(err == errno.ENOSPC,
      '1c 3 MiB written with the link down, sent after the reconnect into a 3 MiB disk: '
      '%s at %s (ENOSPC)' % (name(err), where))
got = server('fc/down')
check(len(got) >= MiB and prefix(got, data).startswith('a prefix'),
      '1c the server file after ENOSPC (the first MiB was fsync-ed): ' + prefix(got, data))
check(sorted(os.listdir(mnt + '/fc')) == ['down'], '1c the mount works after the reconnect')
mt.done()
PY
}
run_guarded 80 phase1 || fails=$((fails + 1))
unmount_fg
proxy_stop

# the sftp-server that has run longest: the primary channel's (opened at
# the mount, the striping channels after it; started in the same clock
# tick, the lower pid was forked first)
oldest_sftp_server() {
	local p t
	for p in $("$SFTPMNT_FIXTURE" pids "$SFTPMNT_FIXTURE_DIR"); do
		[ "$(cat "/proc/$p/comm" 2>/dev/null)" = sftp-server ] || continue
		t=$(sed 's/.*) //' "/proc/$p/stat" | cut -d' ' -f20)
		echo "$t $p"
	done | sort -n -k1,1 -k2,2 | head -n1 | cut -d' ' -f2
}

# 2. the primary channel's sftp-server killed under open files
: >"$work/daemon.log"
direct="port=$SFTPMNT_TEST_PORT,UserKnownHostsFile=$SFTPMNT_TEST_KNOWN_HOSTS"
mount_fg "$direct,$common" || { fail "mount: $(tail -3 "$work/daemon.log")"; finish; }
wait_servers 10 || fail "sftp-server processes after the mount: $(sftp_servers) (want 10)"
head -c $((24 << 20)) /dev/urandom >"$srv/r2"
phase2() {
	MNT=$mnt SRV=$srv VICTIM=$(oldest_sftp_server) PYTHONPATH=$here python3 - <<'PY'
import hashlib, os, signal, time
import mt
from mt import check, name, err_of
mnt, srv = os.environ['MNT'], os.environ['SRV']
MiB = 1 << 20
rdata = open(srv + '/r2', 'rb').read()
big = os.urandom(12 * MiB)     # striped past 2 MiB
small = os.urandom(300000)     # on the primary channel only
r = os.open(mnt + '/r2', os.O_RDONLY)
w = os.open(mnt + '/w2', os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
s = os.open(mnt + '/s2', os.O_RDWR | os.O_CREAT | os.O_TRUNC, 0o644)
got = os.read(r, 8 * MiB)
for i in range(6):
    os.write(w, big[i * MiB:(i + 1) * MiB])
os.write(s, small[:100000])
os.fsync(s)
victim = int(os.environ['VICTIM'])
os.kill(victim, signal.SIGKILL)
check(True, '2 killed the primary channel\'s sftp-server (pid %d)' % victim)
time.sleep(0.2)
while len(got) < len(rdata):
    b = os.read(r, MiB)
    if not b:
        break
    got += b
check(got == rdata, '2 a descriptor reading 24 MiB reads on exact (%d bytes)' % len(got))
for i in range(6, 12):
    os.write(w, big[i * MiB:(i + 1) * MiB])
os.write(s, small[100000:])
e = err_of(lambda: os.fsync(w)) or err_of(lambda: os.close(w))
h = lambda b: hashlib.sha256(b).hexdigest()[:16]
check(e is None and h(open(srv + '/w2', 'rb').read()) == h(big),
      '2 a 12 MiB write across the kill: close %s, server sha256 %s (want %s)'
      % (name(e), h(open(srv + '/w2', 'rb').read()), h(big)))
check(os.pread(s, 300000, 0) == small, '2 a small file written across the kill reads back through its descriptor')
e = err_of(lambda: os.close(s))
check(e is None and open(srv + '/s2', 'rb').read() == small,
      '2 a small file written across the kill: close %s, server byte-exact' % name(e))
os.close(r)
check(sorted(os.listdir(mnt)) == ['fa', 'fb', 'fc', 'r2', 's2', 'w2'], '2 listing works after the kill')
with open(mnt + '/n2', 'wb') as f:
    f.write(b'new')
check(open(srv + '/n2', 'rb').read() == b'new', '2 a new file after the kill is written')
mt.done()
PY
}
run_guarded 80 phase2 || fails=$((fails + 1))
sed 's/^/# daemon: /' "$work/daemon.log"
grep -q "SFTP channel was closed" "$work/daemon.log" &&
	ok "2 the daemon saw its primary channel close" ||
	fail "2 the daemon did not say its primary channel closed"
unmount_fg

# 3. sshd stopped, a file removed meanwhile, sshd started again on the
# same port with the same keys
mount_fg "$direct,$common,op_timeout=20" || { fail "mount: $(tail -3 "$work/daemon.log")"; finish; }
head -c $((8 << 20)) /dev/urandom >"$srv/r3"
head -c $((1 << 20)) /dev/urandom >"$srv/gone3"
phase3() {
	MNT=$mnt SRV=$srv PYTHONPATH=$here python3 - <<'PY'
import errno, hashlib, os, subprocess, time
import mt
from mt import check, name, err_of
mnt, srv = os.environ['MNT'], os.environ['SRV']
fx, fxdir = os.environ['SFTPMNT_FIXTURE'], os.environ['SFTPMNT_FIXTURE_DIR']
MiB = 1 << 20
# sshd is stopped and started by a process forked before the files are
# opened: a child holding a copy of a written descriptor would close it
# at its exec, and that close (FUSE FLUSH) waits for the written bytes,
# which wait for the server it is about to start
runner = subprocess.Popen(['/bin/sh', '-c', 'while read -r c; do "$0" "$c" "$1" >/dev/null; echo $?; done',
                           fx, fxdir], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
def fixture(c):
    runner.stdin.write(c + '\n'); runner.stdin.flush()
    assert runner.stdout.readline().strip() == '0', 'sshd-fixture ' + c
rdata = open(srv + '/r3', 'rb').read()
wdata = os.urandom(6 * MiB)
gdata = open(srv + '/gone3', 'rb').read()
r = os.open(mnt + '/r3', os.O_RDONLY)
g = os.open(mnt + '/gone3', os.O_RDONLY)
w = os.open(mnt + '/w3', os.O_RDWR | os.O_CREAT | os.O_TRUNC, 0o644)
d = os.open(mnt, os.O_RDONLY | os.O_DIRECTORY)
got = os.read(r, 3 * MiB)
os.pread(g, 1000, 0)
os.write(w, wdata[:2 * MiB])
os.write(w, wdata[2 * MiB:3 * MiB])
fixture('stop')
os.unlink(srv + '/gone3')
# written while sshd is down: kept, sent after the reconnect
os.write(w, wdata[3 * MiB:4 * MiB])
t0 = time.time()
fixture('restart')
while len(got) < len(rdata):
    b = os.read(r, MiB)
    if not b:
        break
    got += b
check(got == rdata, '3 a descriptor opened before the restart reads on exact (%d bytes, %.1fs)'
      % (len(got), time.time() - t0))
os.write(w, wdata[4 * MiB:])
check(os.pread(w, 6 * MiB, 0) == wdata, '3 the written file reads back through its descriptor')
e = err_of(lambda: os.fsync(w)) or err_of(lambda: os.close(w))
check(e is None and open(srv + '/w3', 'rb').read() == wdata,
      '3 6 MiB written across the restart: close %s, server byte-exact' % name(e))
# the pages read before may be kept by the kernel, and a read that
# got some of them ends short there: the error comes at the next read
got_g, e = b'', None
while e is None and len(got_g) < len(gdata):
    try:
        b = os.pread(g, MiB, len(got_g))
    except OSError as x:
        e = x.errno
        break
    if not b:
        break
    got_g += b
check(e == errno.ESTALE and got_g == gdata[:len(got_g)],
      '3 a file removed while sshd was down: read %s (ESTALE) after %d bytes the kernel kept, %s'
      % (name(e), len(got_g), 'its own' if got_g == gdata[:len(got_g)] else 'NOT ITS OWN'))
err_of(lambda: os.close(g))
# a directory stream opened before: its first listing may be the one
# taken at opendir (POSIX leaves open whether names removed since show);
# after a rewinddir it is the directory as it is now
first = err_of(lambda: os.listdir(d))
time.sleep(1.2) # (past cache_timeout: a listing kept from before is not used)
names = sorted(os.listdir(d))
check(first is None and names == ['fa', 'fb', 'fc', 'n2', 'r2', 'r3', 's2', 'w2', 'w3'],
      '3 a directory opened before the restart lists (%s), again after rewinddir: %s' % (name(first), names))
os.close(d)
os.close(r)
runner.stdin.close()
runner.wait()
mt.done()
PY
}
run_guarded 80 phase3 || fails=$((fails + 1))

# 4. sshd restarted with a new host key: the reconnect is refused
ssh-keygen -q -t ed25519 -N '' -f "$work/newhost" </dev/null
cp "$SFTPMNT_FIXTURE_DIR/sshd_config" "$work/sshd_config.good"
{
	grep -v '^HostKey ' "$work/sshd_config.good"
	echo "HostKey $work/newhost"
} >"$SFTPMNT_FIXTURE_DIR/sshd_config"
: >"$work/daemon.log"
"$SFTPMNT_FIXTURE" restart "$SFTPMNT_FIXTURE_DIR" >/dev/null || fail "restart with a new host key"
t0=$(date +%s)
out=$(run_guarded 60 cat "$mnt/n2" 2>&1)
rc=$?
took=$(($(date +%s) - t0))
[ $rc != 0 ] && [ "$out" != new ] && ok "4 sshd with a new host key: a read fails after ${took} s ($out)" ||
	fail "4 sshd with a new host key: read rc $rc '$out' after ${took} s"
grep -q "HOST KEY MISMATCH" "$work/daemon.log" && ok "4 the daemon says HOST KEY MISMATCH" ||
	fail "4 no mismatch message: $(tail -3 "$work/daemon.log")"
cp "$work/sshd_config.good" "$SFTPMNT_FIXTURE_DIR/sshd_config"
"$SFTPMNT_FIXTURE" restart "$SFTPMNT_FIXTURE_DIR" >/dev/null || fail "restart with the known host key"
back=0
for _ in $(seq 1 60); do
	[ "$(cat "$mnt/n2" 2>/dev/null)" = new ] && { back=1; break; }
	sleep 0.5
done
[ $back = 1 ] && ok "4 with the known key again the mount works" ||
	fail "4 no recovery: $(tail -3 "$work/daemon.log")"
unmount_fg

# 5. max_conns=2: the second SSH connection stops dead (its sshd
# stopped): only what runs on it waits; the primary serves on at once
mount_fg "$direct,$common,max_conns=2,op_timeout=20" || { fail "mount: $(tail -3 "$work/daemon.log")"; finish; }
head -c $((8 << 20)) /dev/urandom >"$srv/r5"
phase5() {
	MNT=$mnt SRV=$srv PYTHONPATH=$here python3 - <<'PY'
import os, signal, subprocess, threading, time
import mt
from mt import check, name, err_of
mnt, srv = os.environ['MNT'], os.environ['SRV']
def sessions():
    """the sftp-server pids of each SSH connection, by its sshd"""
    pids = subprocess.run([os.environ['SFTPMNT_FIXTURE'], 'pids', os.environ['SFTPMNT_FIXTURE_DIR']],
                          capture_output=True, text=True).stdout.split()
    by = {}
    for p in pids:
        try:
            if open('/proc/%s/comm' % p).read().strip() != 'sftp-server':
                continue
            st = open('/proc/%s/stat' % p).read()
            by.setdefault(int(st[st.rindex(')') + 2:].split()[1]), []).append(int(p))
        except (OSError, ValueError):
            pass
    return by
for _ in range(100):
    s = sessions()
    if len(s) == 2 and sum(map(len, s.values())) == 11:
        break
    time.sleep(0.1)
sec = [pp for pp, v in s.items() if len(v) == 1]
check(len(sec) == 1, '5 two SSH connections, the second with one sftp-server: %s' % s)
time.sleep(0.5) # (its sftp-server runs a moment before it is ready)
want = open(srv + '/r5', 'rb').read()
# a large file open on the primary first: the next one goes to the second
hold = os.open(mnt + '/r2', os.O_RDONLY)
os.pread(hold, 4096, 0)
f = open(mnt + '/r5', 'rb')
first = f.read(65536)
os.kill(sec[0], signal.SIGSTOP)
got = {}
def reader():
    try:
        got['data'] = first + f.read()
    except OSError as e:
        got['err'] = e.errno
    got['took'] = time.time() - t0
t0 = time.time()
t = threading.Thread(target=reader); t.start()
# while the reader waits: the primary answers stat, listing, small files
slowest, bad = 0.0, 0
while time.time() - t0 < 4:
    t1 = time.time()
    try:
        os.stat(mnt + '/r3')
        os.listdir(mnt)
        b = os.urandom(5000)
        with open(mnt + '/p5', 'wb') as g:
            g.write(b)
        if open(mnt + '/p5', 'rb').read() != b:
            bad += 1
    except OSError:
        bad += 1
    slowest = max(slowest, time.time() - t1)
check(bad == 0 and slowest < 1.5,
      '5 the second connection stopped: the primary serves on (%d failures, slowest round %.2fs)' % (bad, slowest))
t.join(60)
# (ServerAliveInterval=1, ServerAliveCountMax=2: given up after 2-3 s)
check(not t.is_alive() and got.get('data') == want and got['took'] > 1.5,
      '5 the reader on the stopped connection waits (%.1fs), then goes on after its reconnect: %s'
      % (got.get('took', -1), 'exact' if got.get('data') == want else name(got.get('err'))))
os.kill(sec[0], signal.SIGCONT)
f.close()
os.close(hold)
mt.done()
PY
}
run_guarded 80 phase5 || fails=$((fails + 1))
unmount_fg

# 6. at 50 ms RTT (the other cut tests run at a few ms): a large write,
# a large read and a long listing, each cut twice in the middle
proxy_start 25
: >"$work/daemon.log"
mount_fg "$proxy_opts,$common,op_timeout=20" || { fail "mount: $(tail -3 "$work/daemon.log")"; finish; }
mkdir -p "$srv/d6"
for i in $(seq 1 1500); do : >"$srv/d6/entry-$i"; done
phase6() {
	MNT=$mnt SRV=$srv CTL=$work/ctl PYTHONPATH=$here python3 - <<'PY'
import hashlib, os, socket, time
import mt
from mt import check, name, err_of
mnt, srv = os.environ['MNT'], os.environ['SRV']
MiB = 1 << 20
def ctl(c):
    s = socket.socket(socket.AF_UNIX); s.connect(os.environ['CTL'])
    s.sendall((c + '\n').encode()); r = s.recv(200).decode(); s.close()
    assert r.startswith('ok'), r
h = lambda b: hashlib.sha256(b).hexdigest()[:16]
data = os.urandom(24 * MiB)
t0 = time.time()
fd = os.open(mnt + '/w6', os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
for i in range(24):
    if i in (6, 16):
        ctl('cut')
    os.write(fd, data[i * MiB:(i + 1) * MiB])
e = err_of(lambda: os.close(fd))
got = open(srv + '/w6', 'rb').read()
check(e is None and got == data, '6 50 ms RTT: 24 MiB written, cut twice: close %s, server sha256 %s (want %s), %.1fs'
      % (name(e), h(got), h(data), time.time() - t0))
want = open(srv + '/r2', 'rb').read()
t0 = time.time()
got, n = b'', 0
with open(mnt + '/r2', 'rb') as f:
    while True:
        b = f.read(MiB)
        if not b:
            break
        got += b
        n += 1
        if n in (4, 14):
            ctl('cut')
check(got == want, '6 50 ms RTT: 24 MiB read, cut twice: %s, %.1fs' % ('exact' if got == want else 'WRONG', time.time() - t0))
names = sorted('entry-%d' % i for i in range(1, 1501))
with os.scandir(mnt + '/d6') as it:
    seen = [next(it).name for _ in range(400)]
    ctl('cut')
    seen += [x.name for x in it]
check(sorted(seen) == names, '6 50 ms RTT: a listing of 1500 names cut after 400: %d names, %d distinct'
      % (len(seen), len(set(seen))))
mt.done()
PY
}
run_guarded 80 phase6 || fails=$((fails + 1))
n=$(grep -c "reconnected to" "$work/daemon.log")
[ "$n" -ge 3 ] && ok "6 the daemon reconnected $n times (5 cuts, some may fall together)" ||
	fail "6 the daemon reconnected $n times for 5 cuts: $(tail -3 "$work/daemon.log")"
unmount_fg
proxy_stop

# 7. the reconnect attempts back off: a server that refuses every
# connection (the proxy's refuse on) for 12 s is tried at growing
# intervals (250 ms, doubling, 30 s at most), not hammered; when it
# accepts again the mount is back within the interval due
proxy_start 0
mount_fg "$proxy_opts,$common,op_timeout=60" || { fail "mount: $(tail -3 "$work/daemon.log")"; finish; }
phase7() {
	MNT=$mnt SRV=$srv CTL=$work/ctl PYTHONPATH=$here python3 - <<'PY'
import os, socket, time
import mt
from mt import check
mnt, ctlp = os.environ['MNT'], os.environ['CTL']
def ctl(c):
    s = socket.socket(socket.AF_UNIX); s.connect(ctlp)
    s.sendall((c + '\n').encode()); r = s.recv(200).decode(); s.close()
    return r
def accepted():
    return int(ctl('stats').split('accepted=')[1].split()[0])
ctl('refuse on'); ctl('cut')
t0, n0, at = time.time(), accepted(), []
while time.time() - t0 < 12:
    n = accepted()
    if n > n0:
        at += [round(time.time() - t0, 2)] * (n - n0)
        n0 = n
    time.sleep(0.05)
gaps = [b - a for a, b in zip(at, at[1:])]
# (a constant 250 ms would be ~48 attempts; doubling from 250 ms, 6-7)
check(3 <= len(at) <= 10 and all(g2 >= g1 * 1.4 for g1, g2 in zip(gaps, gaps[1:]) if g1 > 0.4),
      '7 attempts while the server refuses for 12 s: %d at %s s (gaps %s)'
      % (len(at), at, [round(g, 2) for g in gaps]))
ctl('refuse off')
t1 = time.time()
ok = False
while time.time() - t1 < 35:
    try:
        os.listdir(mnt); ok = True; break
    except OSError:
        time.sleep(0.2)
check(ok, '7 the server accepts again: the mount answers after %.1f s (the next attempt is due within 16 s)' % (time.time() - t1))
mt.done()
PY
}
run_guarded 60 phase7 || fails=$((fails + 1))
unmount_fg
proxy_stop
finish
