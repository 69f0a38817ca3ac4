#!/bin/bash
# readahead= and writeback= (the read-ahead window and the write-behind
# cap per file).  Asserted with the delay proxy stopped (stall): by
# default a write returns while the server cannot have it, and close
# waits for it; with writeback=0 the write itself waits; with
# readahead=128K a sequential reader has at most its own reads, the
# kernel's read-ahead and 128 KiB more come from the server, where the
# default window has fetched much more; bad values are refused.  sshfs's
# sshfs_sync and no_readahead act as writeback=0 and readahead=128K.
set -uo pipefail
. "$(dirname "$0")/lib.sh"
command -v python3 >/dev/null || { echo "SKIP: no python3"; exit 77; }

srv=$SFTPMNT_TEST_ROOT/sizes
rm -rf "$srv"
mkdir -p "$srv"
head -c $((16 << 20)) /dev/urandom >"$srv/big"
proxy_start 5

# write NAME: a 64 KiB write with the link stalled; prints when the write
# and the close returned, in seconds after the stall (resumed at 1.5 s)
write_stalled() {
	MNT=$mnt CTL=$work/ctl NAME=$1 python3 - <<'PY'
import os, socket, threading, time
mnt, ctlpath = os.environ['MNT'], os.environ['CTL']
def ctl(cmd):
    s = socket.socket(socket.AF_UNIX); s.connect(ctlpath)
    s.sendall((cmd + '\n').encode()); r = s.recv(200).decode(); s.close()
    assert r.startswith('ok'), r
fd = os.open(mnt + '/' + os.environ['NAME'], os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
ctl('stall')
t0 = time.time()
threading.Timer(1.5, ctl, args=('resume',)).start()
os.write(fd, b'w' * 65536)
tw = time.time() - t0
os.close(fd)
tc = time.time() - t0
print('%.2f %.2f' % (tw, tc))
PY
}

mount_sftp "$srv" -o "$proxy_opts" || { fail "mount"; finish; }
read -r tw tc < <(write_stalled wb-default)
if python3 -c "import sys; sys.exit(not ($tw < 0.5 and $tc >= 1.4))"; then
	ok "default: the write returned at ${tw} s, the close waited for the server (${tc} s)"
else
	fail "default: write ${tw} s, close ${tc} s (want < 0.5 and >= 1.4)"
fi
[ "$(stat -c %s "$srv/wb-default")" = 65536 ] && ok "the server has the bytes" || fail "server size"
unmount_sftp || fail "unmount"

mount_sftp "$srv" -o "$proxy_opts,writeback=0" || { fail "mount"; finish; }
read -r tw tc < <(write_stalled wb-zero)
if python3 -c "import sys; sys.exit(not ($tw >= 1.4))"; then
	ok "writeback=0: the write waited for the server (${tw} s)"
else
	fail "writeback=0: the write returned at ${tw} s, before the server could have it"
fi
[ "$(stat -c %s "$srv/wb-zero")" = 65536 ] && ok "the server has the bytes" || fail "server size"
unmount_sftp || fail "unmount"

# sshfs's sshfs_sync: the same as writeback=0
mount_sftp "$srv" -o "$proxy_opts,sshfs_sync" || { fail "mount"; finish; }
read -r tw tc < <(write_stalled wb-sync)
if python3 -c "import sys; sys.exit(not ($tw >= 1.4))"; then
	ok "sshfs_sync: the write waited for the server (${tw} s)"
else
	fail "sshfs_sync: the write returned at ${tw} s, before the server could have it"
fi
unmount_sftp || fail "unmount"

# read-ahead: bytes the server sent for 2 MiB read sequentially
read_fetched() {
	MNT=$mnt CTL=$work/ctl python3 - <<'PY'
import os, socket, time
mnt, ctlpath = os.environ['MNT'], os.environ['CTL']
def s2c():
    s = socket.socket(socket.AF_UNIX); s.connect(ctlpath)
    s.sendall(b'stats\n'); r = s.recv(200).decode(); s.close()
    return int(r.split('s2c=')[1].split()[0])
with open(mnt + '/big', 'rb') as f:
    before = s2c()
    for _ in range(32): # (each read waits: the default window grows)
        f.read(65536)
    time.sleep(0.5) # what was asked ahead arrives
    print(s2c() - before)
PY
}
mount_sftp "$srv" -o "$proxy_opts,readahead=128K" || { fail "mount"; finish; }
small=$(read_fetched)
unmount_sftp || fail "unmount"
mount_sftp "$srv" -o "$proxy_opts" || { fail "mount"; finish; }
dflt=$(read_fetched)
unmount_sftp || fail "unmount"
mount_sftp "$srv" -o "$proxy_opts,no_readahead" || { fail "mount"; finish; }
nora=$(read_fetched)
unmount_sftp || fail "unmount"
# 2 MiB read, the kernel's own read-ahead (max_readahead 1 MiB), our
# 128 KiB and a request's worth: under 4 MiB with SSH framing
if [ "$small" -lt $((4 << 20)) ] && [ "$dflt" -gt $((small + (1 << 20))) ]; then
	ok "readahead=128K: $small bytes from the server for 2 MiB read (default: $dflt)"
else
	fail "readahead=128K: $small bytes from the server for 2 MiB read (default: $dflt)"
fi
# sshfs's no_readahead: the smallest window, as readahead=128K
if [ "$nora" -lt $((4 << 20)) ]; then
	ok "no_readahead: $nora bytes from the server for 2 MiB read"
else
	fail "no_readahead: $nora bytes from the server for 2 MiB read (default: $dflt)"
fi

for bad in readahead=64K readahead=2G writeback=-1 writeback=12Q readahead=; do
	if "$bin" "$SFTPMNT_TEST_USER@$SFTPMNT_TEST_HOST:$srv" "$mnt" -o "$proxy_opts,$bad" \
		2>"$work/err"; then
		fail "$bad was accepted"
		unmount_sftp
	else
		ok "$bad refused: $(head -c 100 "$work/err")"
	fi
done
finish
