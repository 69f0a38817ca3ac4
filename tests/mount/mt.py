"""tests/mount/mt.py - what the python parts of the mount tests share.

A test's heredoc runs with PYTHONPATH=$here (tests/mount/lib.sh) and
imports it: check() prints an "ok:" or "FAIL:" line and counts the
failures, done() exits with 1 if there were any; err_of() and name()
give the errno a call fails with and its symbolic name.
"""
import errno
import sys

fails = 0


def check(ok, what):
    global fails
    print(('ok: ' if ok else 'FAIL: ') + what)
    sys.stdout.flush()
    if not ok:
        fails += 1


def name(e):
    return errno.errorcode.get(e, str(e)) if e else 'no error'


def err_of(call):
    try:
        call()
    except OSError as e:
        return e.errno
    return None


def done():
    sys.exit(1 if fails else 0)
