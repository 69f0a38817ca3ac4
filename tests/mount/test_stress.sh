#!/bin/bash
# Random-operation stress (test_stress.py): 4 threads doing open/read/
# write/truncate/fsync/close on a few files, through the mount and on a
# local reference in the same per-file order; every result and, at the
# end, every file (mount, server, reference) must be identical.  The files
# are compared with the server's copy once more after the unmount.
# STRESS_SEED=N repeats a run; SFTPMNT_LONG_TESTS=1 runs longer.
set -uo pipefail
. "$(dirname "$0")/lib.sh"

srv=$SFTPMNT_TEST_ROOT/stress
mkdir -p "$srv" "$work/ref"
mount_sftp "$srv" || { echo "FAIL: mount"; exit 1; }
ok "mounted"

# A hang the stress once ran into, checked on its own: read a file
# sequentially (the kernel and sftpmnt read ahead), then write through the
# same fd, reopen.  A READ left unanswered would keep a page locked and
# the next open/write would wait forever.
readahead_then_write_on_one_fd() {
	python3 - "$mnt/probe" <<'PY'
import os, sys
p = sys.argv[1]
with open(p, "wb") as f:
    f.write(os.urandom(900000))
for _ in range(200):
    fd = os.open(p, os.O_RDWR)
    os.read(fd, 7252)
    os.read(fd, 159284)
    os.pwrite(fd, b"x" * 16836, 53865)
    os.close(fd)
PY
}
if run_guarded 8 readahead_then_write_on_one_fd; then
	ok "200 rounds of sequential reads then a write on the same fd"
else
	fail "a READ was never answered after a write on the same fd"
	# the daemon was killed: mount again for the stress
	fusermount3 -uz "$mnt" 2>/dev/null
	mount_sftp "$srv" || { echo "FAIL: mount again"; exit 1; }
	ok "mounted again"
fi

secs=15 ops=25000
[ -n "${SFTPMNT_LONG_TESTS:-}" ] && secs=180 ops=200000
run_guarded $((secs + 40)) python3 "$here/test_stress.py" "$mnt" "$work/ref" "$srv" "$secs" "$ops"
rc=$?
case $rc in
0) ;;
1) fails=$((fails + 1)) ;;
3) fail "the mount hung during the stress (sftpmnt was killed)"; finish ;;
*) fail "test_stress.py ended with status $rc" ;;
esac

unmount_sftp && ok "unmounted" || fail "unmount"
n=0
for f in "$work"/ref/*; do
	b=$(basename "$f")
	cmp -s "$f" "$srv/$b" || { fail "$b differs on the server after the unmount"; continue; }
	n=$((n + 1))
done
[ "$n" -gt 0 ] && ok "$n files identical on the server after the unmount"
finish
