#!/bin/bash
# The xfstests-style suite of tests/xfs (tests/xfs/README): first in a
# local directory, the reference, where every test must pass (a test
# that fails there is a bad test); then in an sftpmnt mount of the
# fixture, where every test must pass except those listed in
# tests/xfs/known-bad (open defects, reported but not counted).
set -uo pipefail
. "$(dirname "$0")/lib.sh"

xfs=$here/../xfs
srv=$SFTPMNT_TEST_ROOT/xfs
mkdir -p "$srv" "$work/ref"

# check's own per-test timeout (60 s) fails a test that hangs; this
# outer guard is for a mount so stuck that the tests after it hang too.
echo "---- the reference: a local directory ($work/ref) ----"
run_guarded 300 bash "$xfs/check" -K -d "$work/ref" -r "$work/results-ref"
rc=$?
[ "$rc" = 0 ] && ok "every test passes on the local reference" ||
	fail "the local reference run (status $rc): a bad test"

mount_sftp "$srv" || { echo "FAIL: mount"; exit 1; }
ok "mounted"
echo "---- sftpmnt ($mnt) ----"
run_guarded 300 bash "$xfs/check" -d "$mnt" -r "$work/results-mnt"
rc=$?
[ "$rc" = 0 ] && ok "every test passes on the mount (but known-bad)" ||
	fail "the run on the mount (status $rc)"

unmount_sftp && ok "unmounted" || fail "unmount"
finish
