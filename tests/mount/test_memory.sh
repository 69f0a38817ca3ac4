#!/bin/bash
# Memory stays bounded under load (issue #9): against a slow server (50
# ms round trips, 16 MB/s each way through the delay proxy) 16
# sequential readers of large files, 8 writers, 2000 threads stat-ing
# names at once, and a listing of a 100,000-entry directory, all at the
# same time.  Everything the daemon keeps has a cap (read-ahead 128 MiB
# and write-behind 128 MiB per mount, fetched files 32 MiB, kept
# listings 262,144 names); its resident size is sampled throughout and
# must stay under the sum of the caps with room for the rest (512 MiB;
# more under AddressSanitizer),
# the data read and written must be right, and nothing may hang.
set -uo pipefail
. "$(dirname "$0")/lib.sh"
proxy=${DELAYPROXY:?}
command -v python3 >/dev/null || { echo "SKIP: no python3"; exit 77; }
secs=${MEM_SECONDS:-15}
# under AddressSanitizer (the CI's sanitizer build) freed memory is held
# in quarantine (256 MiB) and every byte has shadow: the bound grows
# (not `ldd | grep -q` under pipefail: grep leaves at the first match, ldd
# dies writing the rest, and the pipeline counts as false)
limit=512
if [[ "$(ldd "$bin" 2>/dev/null)" == *libasan* ]]; then
	limit=1280
	echo "(sftpmnt built with AddressSanitizer: bound $limit MiB)"
fi

srv=$SFTPMNT_TEST_ROOT/mem
mkdir -p "$srv/r" "$srv/w" "$srv/huge" "$srv/names"
for i in $(seq 0 15); do truncate -s 1G "$srv/r/f$i"; done
python3 -c "
import os
for i in range(100000):
    open('$srv/huge/e%06d' % i, 'w').close()
for i in range(2000):
    open('$srv/names/n%04d' % i, 'w').close()
"

"$proxy" -t "127.0.0.1:$SFTPMNT_TEST_PORT" -d 25 -b 16000000 -p "$work/port" -q &
echo $! >"$work/proxy.pid"
trap 'kill "$(cat "$work/proxy.pid")" 2>/dev/null; mt_cleanup' EXIT
for _ in $(seq 1 600); do [ -s "$work/port" ] && break; sleep 0.05; done
port=$(cat "$work/port")
sed "s/\[127.0.0.1\]:$SFTPMNT_TEST_PORT /[127.0.0.1]:$port /" "$SFTPMNT_TEST_KNOWN_HOSTS" >"$work/kh"
"$bin" "$SFTPMNT_TEST_USER@127.0.0.1:$srv" "$mnt" -o \
	"port=$port,IdentityFile=$SFTPMNT_TEST_KEY,UserKnownHostsFile=$work/kh,op_timeout=120" ||
	{ echo "FAIL: mount"; exit 1; }
for p in $(pgrep -f -- "$mnt"); do
	[ "$(cat "/proc/$p/comm" 2>/dev/null)" = sftpmnt ] && daemon=$p
done
[ -n "$daemon" ] || { echo "FAIL: no daemon"; exit 1; }

MNT=$mnt SRV=$srv PID=$daemon SECS=$secs LIMIT=$limit PYTHONPATH=$here python3 - <<'PY' || fails=$((fails + 1))
import os, sys, threading, time
import mt
from mt import check
mnt, srv, pid, secs = os.environ['MNT'], os.environ['SRV'], int(os.environ['PID']), float(os.environ['SECS'])
limit = int(os.environ['LIMIT'])
def rss():
    with open('/proc/%d/status' % pid) as f:
        for l in f:
            if l.startswith('VmRSS:'):
                return int(l.split()[1]) // 1024
    return 0
stop = time.time() + secs
errors = []
read_bytes = [0] * 16
def reader(i):
    try:
        with open(mnt + '/r/f%d' % i, 'rb', buffering=0) as f:
            while time.time() < stop:
                b = f.read(1 << 20)
                if not b:
                    break
                if b.count(0) != len(b):
                    errors.append('reader %d: not zeros at %d' % (i, read_bytes[i]))
                    return
                read_bytes[i] += len(b)
    except OSError as e:
        errors.append('reader %d: %s' % (i, e))
written = [0] * 8
def writer(i):
    block = bytes([65 + i]) * (1 << 20)
    try:
        with open(mnt + '/w/g%d' % i, 'wb', buffering=0) as f:
            while time.time() < stop:
                f.write(block)
                written[i] += len(block)
    except OSError as e:
        errors.append('writer %d: %s' % (i, e))
stats = [0]
def stater(k):
    try:
        for j in range(k, 2000, 2000 // 1):
            os.stat(mnt + '/names/n%04d' % j)
            stats[0] += 1
    except OSError as e:
        errors.append('stat %d: %s' % (k, e))
listed = [0]
def lister():
    try:
        listed[0] = len(os.listdir(mnt + '/huge'))
    except OSError as e:
        errors.append('listing: %s' % e)
threads = [threading.Thread(target=reader, args=(i,)) for i in range(16)]
threads += [threading.Thread(target=writer, args=(i,)) for i in range(8)]
threads += [threading.Thread(target=stater, args=(k,)) for k in range(2000)]
threads += [threading.Thread(target=lister)]
peak = rss()
for t in threads:
    t.start()
while any(t.is_alive() for t in threads):
    peak = max(peak, rss())
    if time.time() > stop + 120:
        break
    time.sleep(0.2)
hung = [t for t in threads if t.is_alive()]
check(not hung, 'every call ended (%d still running)' % len(hung))
check(not errors, 'no errors: %s' % errors[:5])
check(listed[0] == 100000, 'the 100,000-entry directory listed: %d names' % listed[0])
check(stats[0] == 2000, '2000 threads stat-ed at once: %d answered' % stats[0])
for i in range(8):
    st = os.stat(srv + '/w/g%d' % i).st_size
    if st != written[i]:
        check(False, 'writer %d: server has %d bytes, %d written' % (i, st, written[i]))
        break
    with open(srv + '/w/g%d' % i, 'rb') as f:
        if f.read(1 << 20).count(65 + i) != min(st, 1 << 20):
            check(False, 'writer %d: wrong bytes on the server' % i)
            break
else:
    check(True, '8 writers: %d MiB on the server, as written' % (sum(written) >> 20))
print('read %d MiB, wrote %d MiB in %.0f s; daemon peak resident size %d MiB' %
      (sum(read_bytes) >> 20, sum(written) >> 20, secs, peak))
check(peak < limit, 'peak resident size %d MiB (under %d)' % (peak, limit))
mt.done()
PY
finish
