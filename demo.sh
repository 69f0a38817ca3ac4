#!/bin/bash
# demo.sh - README command 1: install what is missing, build, start a
# throwaway sshd on 127.0.0.1 serving a demo folder, and show what
# sftpmnt can do with it today.  Leaves nothing running or mounted.
set -euo pipefail
cd "$(dirname "$0")"
top=$(pwd)
"$top/.ci/deps"
if [ ! -x build/fs/sftpmnt ]; then
	[ -x configure ] || autoreconf -fi >/dev/null
	mkdir -p build
	(cd build && [ -f Makefile ] || "$top/configure" -q)
fi
make -C build -j"$(nproc)" >/dev/null

fx=$(mktemp -d /tmp/sftpmnt-demo.XXXXXX)
mnt=$fx/mnt
cleanup() {
	fusermount3 -uz "$mnt" 2>/dev/null || true
	"$top/tests/fixture/sshd-fixture" stop "$fx" >/dev/null 2>&1 || true
	rm -rf "$fx"
}
trap cleanup EXIT
export SFTPMNT_FIXTURE_CACHE=$top/build/tests/fixture-cache
"$top/tests/fixture/sshd-fixture" start "$fx"
eval "$("$top/tests/fixture/sshd-fixture" env "$fx")"
mkdir -p "$SFTPMNT_TEST_ROOT/demo" "$mnt"
echo "hello from the server" >"$SFTPMNT_TEST_ROOT/demo/hello.txt"

echo "== a throwaway sshd listens on 127.0.0.1:$SFTPMNT_TEST_PORT serving $SFTPMNT_TEST_ROOT/demo"
echo "== build/fs/sftpmnt -V"
build/fs/sftpmnt -V
echo "== build/fs/sftpmnt $SFTPMNT_TEST_USER@127.0.0.1:$SFTPMNT_TEST_ROOT/demo $mnt -o port=$SFTPMNT_TEST_PORT"
set +e
build/fs/sftpmnt "$SFTPMNT_TEST_USER@127.0.0.1:$SFTPMNT_TEST_ROOT/demo" "$mnt" \
	-o "port=$SFTPMNT_TEST_PORT,IdentityFile=$SFTPMNT_TEST_KEY,UserKnownHostsFile=$SFTPMNT_TEST_KNOWN_HOSTS"
rc=$?
set -e
if [ "$rc" != 0 ]; then
	echo "== sftpmnt failed with status $rc"
	exit 1
fi
echo "== mounted on $mnt; a short session:"
(
	set -x
	ls -l "$mnt"
	cat "$mnt/hello.txt"
	cp "$mnt/hello.txt" "$mnt/copy.txt"
	ln -s hello.txt "$mnt/link"
	readlink "$mnt/link"
	echo "written through the mount" >"$mnt/new.txt"
	cat "$mnt/new.txt"
	ls -l "$mnt"
	df -h "$mnt"
)
echo "== what the server has now (no mount involved):"
ls -l "$SFTPMNT_TEST_ROOT/demo"
fusermount3 -u "$mnt"
echo "== unmounted"
cat <<EOM

To mount a real host:
    sftpmnt user@host:/some/dir /mnt/point      # keys from ~/.ssh, host key from ~/.ssh/known_hosts
    ls /mnt/point
    fusermount3 -u /mnt/point
See 'sftpmnt -h' and man/sftpmnt.1 for the options.
EOM
