#!/bin/bash
# The POSIX battery (posix_battery.py): each step runs on the mount and on
# a local reference directory and the results, errno included, must agree
# except for the SFTP v3 limitations listed in the battery's ALLOW table.
set -uo pipefail
. "$(dirname "$0")/lib.sh"

srv=$SFTPMNT_TEST_ROOT/posix
mkdir -p "$srv" "$work/ref"
mount_sftp "$srv" || { echo "FAIL: mount"; exit 1; }
ok "mounted"

# BATTERY_ONLY="step ..." runs a subset
run_guarded 120 python3 "$here/posix_battery.py" "$mnt" "$work/ref" "$srv"
rc=$?
case $rc in
0) ;;
1) fails=$((fails + 1)) ;;
*) fail "posix_battery.py ended with status $rc" ;;
esac

unmount_sftp && ok "unmounted" || fail "unmount"
finish
