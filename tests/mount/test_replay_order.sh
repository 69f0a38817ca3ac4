#!/bin/bash
# Issue #9: writes replayed after a reconnect land exactly as the
# application made them.  A striped file (its large writes spread over
# several SFTP channels) is rewritten by overlapping pwrites of random
# sizes while the link is cut again and again (tests/tools/delayproxy,
# a little delay so that much is in flight at each cut); after fsync the
# server's file must equal the local copy, byte for byte, every round.
# Two ways this went wrong, both fixed: a replayed write was sent whole,
# also its pieces the server had acknowledged, over a newer write of the
# same bytes acknowledged since; and writes were started again in the
# order they died in (a write dies with the last of its requests, the
# channels one after the other), not the order they were made.
set -uo pipefail
. "$(dirname "$0")/lib.sh"
command -v python3 >/dev/null || { echo "SKIP: no python3"; exit 77; }

srv=$SFTPMNT_TEST_ROOT/replay
mkdir -p "$srv"
proxy_start 0
opts="$proxy_opts,ServerAliveInterval=1,ServerAliveCountMax=2,op_timeout=30"

# 1. (deterministic) one large write is acknowledged in part: its piece
# on the main channel is, its piece on the stripe is not (that channel's
# sftp-server is stopped); newer small writes of the main channel's bytes
# are acknowledged too.  The link is cut and the stopped server killed
# (it never writes).  The replay must send only the unacknowledged piece:
# sent whole, it wrote the old data over the newer small writes.
# write_channels=2: the stripe chunks alternate between the two channels.
mount_sftp "$srv" -o "$opts,write_channels=2" || { fail "mount"; finish; }
partial() {
	MNT=$mnt SRV=$srv CTL=$work/ctl PYTHONPATH=$here python3 - <<'PY'
import os, signal, socket, subprocess, time
import mt
from mt import check, name, err_of
mnt, srv, ctlp = os.environ['MNT'], os.environ['SRV'], os.environ['CTL']
def ctl(c):
    s = socket.socket(socket.AF_UNIX); s.connect(ctlp)
    s.sendall((c + '\n').encode()); r = s.recv(200).decode(); s.close()
    assert r.startswith('ok'), r
def servers():
    out = subprocess.run([os.environ['SFTPMNT_FIXTURE'], 'pids', os.environ['SFTPMNT_FIXTURE_DIR']],
                         capture_output=True, text=True).stdout.split()
    got = []
    for p in out:
        try:
            if b'sftp-server' in open('/proc/%s/cmdline' % p, 'rb').read():
                got.append(int(p))
        except OSError:
            pass
    return sorted(got)
MiB = 1 << 20
ref = bytearray(os.urandom(8 * MiB))
fd = os.open(mnt + '/p', os.O_RDWR | os.O_CREAT | os.O_TRUNC, 0o644)
for i in range(0, 8 * MiB, MiB): # (striping starts past 2 MiB)
    os.write(fd, ref[i:i + MiB])
os.fsync(fd)
for _ in range(100):
    if len(servers()) >= 2: break
    time.sleep(0.1)
srvs = servers()
check(len(srvs) == 2, 'the main channel and one stripe have their sftp-servers: %s' % srvs)
stripe = srvs[-1] # (started after the main channel's)
os.kill(stripe, signal.SIGSTOP)
a = bytes([0xAA]) * MiB
os.pwrite(fd, a, 5 * MiB); ref[5 * MiB:6 * MiB] = a
for j in range(16): # every 64 KiB of it: half on the main channel
    at = 5 * MiB + j * 65536 + 1000
    b = bytes([j + 1]) * 4096
    os.pwrite(fd, b, at); ref[at:at + 4096] = b
time.sleep(1) # (the main channel's answers come back)
ctl('cut')
os.kill(stripe, signal.SIGKILL)
e = err_of(lambda: os.fsync(fd))
os.close(fd)
with open(srv + '/p', 'rb') as f:
    got = f.read()
bad = [j for j in range(16) if got[5 * MiB + j * 65536 + 1000:][:4096] != ref[5 * MiB + j * 65536 + 1000:][:4096]]
check(e is None and got == ref,
      'a write acknowledged in part, then newer writes of its acknowledged bytes, then a cut: '
      'fsync %s, server %s the local copy (small writes overwritten: %s)'
      % (name(e), 'equals' if got == ref else 'DIFFERS from', bad))
os.unlink(mnt + '/p')
mt.done()
PY
}
run_guarded 120 partial || fails=$((fails + 1))
unmount_sftp || fail "unmount"

# 2. random overlapping writes, cut at random moments, every channel
mount_sftp "$srv" -o "$opts" || { fail "mount again"; finish; }

rounds() {
	MNT=$mnt SRV=$srv CTL=$work/ctl ROUNDS=${REPLAY_ROUNDS:-6} PYTHONPATH=$here python3 - <<'PY'
import hashlib, os, random, socket, threading
import mt
from mt import check, name, err_of
mnt, srv, ctlp = os.environ['MNT'], os.environ['SRV'], os.environ['CTL']
def ctl(c):
    s = socket.socket(socket.AF_UNIX); s.connect(ctlp)
    s.sendall((c + '\n').encode()); r = s.recv(200).decode(); s.close()
    assert r.startswith('ok'), r
size = 12 << 20
for rnd_no in range(int(os.environ['ROUNDS'])):
    rnd = random.Random(100 + rnd_no)
    ctl('delay %d' % (rnd_no % 3 + 1))
    ref = bytearray(os.urandom(size))
    p = '%s/f%d' % (mnt, rnd_no)
    fd = os.open(p, os.O_RDWR | os.O_CREAT | os.O_TRUNC, 0o644)
    for i in range(0, size, 1 << 20):
        os.write(fd, ref[i:i + (1 << 20)])
    cuts = sorted(rnd.sample(range(2, 40), 5))
    for k in range(40):
        if k in cuts:
            # (from another thread, a moment later: the cut falls in the
            # middle of the next writes rather than between them)
            threading.Timer(rnd.random() * 0.01, ctl, ['cut']).start()
        off = rnd.randrange(0, size - (1 << 20))
        b = bytes([rnd_no * 40 + k + 1 & 255]) * rnd.randrange(1, 1 << 20)
        os.pwrite(fd, b, off)
        ref[off:off + len(b)] = b
    e = err_of(lambda: os.fsync(fd))
    os.close(fd)
    with open('%s/f%d' % (srv, rnd_no), 'rb') as f:
        got = f.read()
    bad = [i for i in range(0, size, 4096) if got[i:i + 4096] != ref[i:i + 4096]]
    check(e is None and len(got) == size and not bad,
          'round %d: 40 overlapping pwrites, 5 cuts: fsync %s, %d bytes, %d of %d blocks differ%s'
          % (rnd_no, name(e), len(got), len(bad), size // 4096,
             ' (first at %d)' % bad[0] if bad else ''))
    os.unlink(p)
ctl('delay 0')
mt.done()
PY
}
run_guarded 240 rounds || fails=$((fails + 1))
finish
