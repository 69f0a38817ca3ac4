#!/bin/bash
# max_conns=2 (fs/conn.c secondaries, ops.c route_open): large files opened
# for reading are spread over a second SSH connection with its own I/O
# thread.  Asserted: the second connection comes up and serves large
# files (its sftp-server sends their bytes), four parallel readers get
# exact data; a read through such a file waits for writes of the same
# file made through the primary connection and already answered to
# their writer (a bandwidth cap on the proxy holds them on their way);
# copy_file_range between the two connections gives the right bytes (the
# kernel copies); after the second connection is killed on the server a
# reader goes on with exact data (it reconnects and reopens); a hang-up of
# the idle primary connection is noticed at once (no spinning) and it
# reconnects; unmount ends everything.
set -uo pipefail
. "$(dirname "$0")/lib.sh"
command -v python3 >/dev/null || { echo "SKIP: no python3"; exit 77; }

srv=$SFTPMNT_TEST_ROOT/conns
rm -rf "$srv"
mkdir -p "$srv"
python3 - "$srv" <<'PY'
import os, sys, random
r = random.Random(7)
for i in range(1, 5):
    with open(os.path.join(sys.argv[1], 'big%d' % i), 'wb') as f:
        f.write(r.randbytes(4 << 20))
PY

proxy_start 1
mount_sftp "$srv" -o "$proxy_opts,max_conns=2" || { fail "mount"; finish; }

MNT=$mnt SRV=$srv CTL=$work/ctl PYTHONPATH=$here python3 - <<'PY' || fails=$((fails + 1))
import os, socket, subprocess, sys, threading, time
mnt, srv, ctlpath = os.environ['MNT'], os.environ['SRV'], os.environ['CTL']
import mt
from mt import check
def ctl(cmd):
    s = socket.socket(socket.AF_UNIX); s.connect(ctlpath)
    s.sendall((cmd + '\n').encode()); r = s.recv(200).decode(); s.close()
    assert r.startswith('ok'), r
def procs():
    """{pid: (ppid, cmdline)} of the fixture's processes"""
    out = {}
    pids = subprocess.run([os.environ['SFTPMNT_FIXTURE'], 'pids',
                           os.environ['SFTPMNT_FIXTURE_DIR']],
                          capture_output=True, text=True).stdout.split()
    for p in pids:
        try:
            st = open('/proc/%s/stat' % p).read()
            ppid = int(st[st.rindex(')') + 2:].split()[1])
            cmd = open('/proc/%s/cmdline' % p, 'rb').read()
            out[int(p)] = (ppid, cmd)
        except (OSError, ValueError):
            pass
    return out
def sessions():
    """the sftp-server pids of each SSH connection, by its sshd"""
    ps = procs()
    by = {}
    for p, (pp, cmd) in ps.items():
        if b'sftp-server' in cmd:
            by.setdefault(pp, []).append(p)
    return by
def wchar(p):
    try:
        for line in open('/proc/%d/io' % p):
            if line.startswith('wchar:'):
                return int(line.split()[1])
    except OSError:
        pass
    return 0
def server(name):
    with open(os.path.join(srv, name), 'rb') as f:
        return f.read()

# the second connection comes up in the background
for _ in range(100):
    s = sessions()
    if len(s) >= 2:
        break
    time.sleep(0.1)
check(len(s) == 2, 'two SSH connections: %d' % len(s))
time.sleep(0.5) # (its sftp-server runs a moment before it is ready)
second = [v for v in s.values() if len(v) == 1]
check(len(second) == 1, 'one of them with a single sftp-server: %s' % s)
sec_server = second[0][0] if second else None
before = wchar(sec_server) if sec_server else 0

# four parallel readers, exact data, and the second connection served
res = {}
def rd(i):
    with open(mnt + '/big%d' % i, 'rb') as f:
        res[i] = f.read()
ts = [threading.Thread(target=rd, args=(i,)) for i in range(1, 5)]
for t in ts: t.start()
for t in ts: t.join()
check(all(res[i] == server('big%d' % i) for i in range(1, 5)), 'four parallel readers: exact data')
served = wchar(sec_server) - before if sec_server else 0
check(served >= 4 << 20, 'the second connection sent %d bytes of them' % served)

# a read on the second connection after writes answered on the first
# (a large file open on the primary first: the next goes to the second)
hold = os.open(mnt + '/big4', os.O_RDONLY)
os.pread(hold, 4096, 0)
before = wchar(sec_server) if sec_server else 0
r = os.open(mnt + '/big1', os.O_RDONLY)
os.pread(r, 4096, 0)
check(sec_server and wchar(sec_server) > before, 'the reader is on the second connection')
w = os.open(mnt + '/big1', os.O_WRONLY)
new = os.urandom(2 << 20)
# 2 MiB take two seconds to reach the server (eight when the daemon runs
# under valgrind, which is slow enough to need them)
vg = bool(os.environ.get('SFTPMNT_VG_DIR'))
ctl('rate %d' % (250000 if vg else 1000000))
t = time.time()
os.pwrite(w, new, 1 << 20)
took = time.time() - t
check(took < (6 if vg else 1.5), 'the write was answered before it reached the server (%.2f s)' % took)
os.posix_fadvise(r, 0, 0, os.POSIX_FADV_DONTNEED) # (the pages it filled)
got = os.pread(r, 4096, (1 << 20) + 12345)
check(got == new[12345:12345 + 4096], 'a read through the other connection sees the answered write')
ctl('rate 0')
os.close(w)
check(server('big1')[1 << 20:3 << 20] == new, 'the server has the write')
os.close(r)

# a file written without pause through the primary: reads through the
# second connection are not held back until the writer stops (writes
# wait while such a read waits for the ones in flight)
r = os.open(mnt + '/big2', os.O_RDONLY)
os.pread(r, 4096, 0)
ctl('delay 15') # (30 ms round trips: some write is always on its way)
# each read waits for the writes already on their way (up to the
# write-behind caps): 6 s leave room for 3 reads where that drain is slow
# (the ASan build on a slower CPU managed 2 in 3 s)
stop = time.time() + 6
def writer():
    fd = os.open(mnt + '/big2', os.O_WRONLY)
    i = 0
    while time.time() < stop:
        os.pwrite(fd, b'%08d' % i * 8192, (i % 32) * 65536)
        i += 1
    os.close(fd)
wt = threading.Thread(target=writer)
wt.start()
time.sleep(0.3)
done = 0
while time.time() < stop - 1 and done < 20:
    os.posix_fadvise(r, 0, 0, os.POSIX_FADV_DONTNEED)
    os.pread(r, 4096, (done % 32) * 65536 + 8192)
    done += 1
wt.join()
ctl('delay 1')
check(done >= 3, 'reads through the second connection while a writer never pauses: %d before it stopped' % done)
os.close(r)
os.close(hold)

# copy_file_range from a file on the second connection to a new one
with open(mnt + '/big2', 'rb') as src, open(mnt + '/copy', 'wb') as dst:
    src.read(1)
    n = os.copy_file_range(src.fileno(), dst.fileno(), 4 << 20, 0, 0)
    while n and n < (4 << 20):
        k = os.copy_file_range(src.fileno(), dst.fileno(), (4 << 20) - n, n, n)
        if k <= 0:
            break
        n += k
check(server('copy') == server('big2'), 'copy_file_range across the connections: exact')

# the second connection dies on the server: its readers go on (a large
# file open on the primary first: the reader goes to the second)
hold = os.open(mnt + '/big4', os.O_RDONLY)
os.pread(hold, 4096, 0)
before = wchar(sec_server) if sec_server else 0
f = open(mnt + '/big3', 'rb')
first = f.read(65536) # (most of the rest comes after the kill)
check(sec_server and wchar(sec_server) > before, 'that reader is on the second connection')
s = sessions()
sec = [pp for pp, v in s.items() if len(v) == 1]
if sec:
    os.kill(sec[0], 9) # its sshd: the connection drops
rest = f.read()
f.close()
os.close(hold)
check(first + rest == server('big3'), 'a reader of the killed connection goes on with exact data')
for _ in range(100):
    if len(sessions()) == 2:
        break
    time.sleep(0.1)
check(len(sessions()) == 2, 'the second connection is back')

# the server hangs up the idle primary connection: the daemon notices at
# once (it used to spin on the socket's end of file until a keepalive
# failed) and reconnects
def cpu(pid):
    st = open('/proc/%d/stat' % pid).read()
    f = st[st.rindex(')') + 2:].split()
    return (int(f[11]) + int(f[12])) / os.sysconf('SC_CLK_TCK')
daemon = int(os.environ['SFTPMNT_DAEMON_PID'])
prim = [pp for pp, v in sessions().items() if len(v) > 1]
c0 = cpu(daemon)
if prim:
    os.kill(prim[0], 9)
time.sleep(4 if vg else 2)
used = cpu(daemon) - c0
check(used < (2 if vg else 0.5), 'CPU used in the %d s after the hang-up: %.2f s' % (4 if vg else 2, used))
check(len(sessions()) == 2, 'the primary connection is back')
check(open(mnt + '/big4', 'rb').read() == server('big4'), 'reads work after it')
mt.done()
PY
unmount_sftp || fail "unmount"
for _ in $(seq 1 100); do kill -0 "$daemon" 2>/dev/null || break; sleep 0.1; done
kill -0 "$daemon" 2>/dev/null && fail "the daemon still runs after the unmount"
finish
