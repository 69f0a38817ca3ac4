"""xfslib - what the python parts of the tests in tests/xfs share.

Errors are printed by their errno name (errno.errorcode), never by their
message, so the golden output compares the errno itself.
"""

import errno
import hashlib
import os
import stat
import sys

FAILED = object()


def ename(e):
    """The errno name of an OSError, e.g. 'ENOENT'."""
    return errno.errorcode.get(e.errno, "errno%d" % e.errno)


def t(label, fn, *a, show=False, **kw):
    """Call fn(*a, **kw) and print 'label: ok' (with show, the value it
    returned) or 'label: ENAME'.  Returns the value, or FAILED."""
    try:
        r = fn(*a, **kw)
    except OSError as e:
        print("%s: %s" % (label, ename(e)))
        return FAILED
    print("%s: %s" % (label, repr(r) if show else "ok"))
    return r


def pattern(n, seed=0):
    """n bytes that depend on seed and never repeat a 32-byte block."""
    out = bytearray()
    i = 0
    while len(out) < n:
        out += hashlib.sha256(b"%s:%d" % (str(seed).encode(), i)).digest()
        i += 1
    return bytes(out[:n])


def md5(b):
    return hashlib.md5(b).hexdigest()


def put(path, data, flags=os.O_WRONLY | os.O_CREAT | os.O_TRUNC):
    fd = os.open(path, flags, 0o644)
    try:
        os.write(fd, data)
    finally:
        os.close(fd)


def get(path):
    with open(path, "rb") as f:
        return f.read()


def kind(mode):
    for test, name in ((stat.S_ISREG, "file"), (stat.S_ISDIR, "dir"),
                       (stat.S_ISLNK, "symlink"), (stat.S_ISFIFO, "fifo"),
                       (stat.S_ISSOCK, "socket"), (stat.S_ISCHR, "chr"),
                       (stat.S_ISBLK, "blk")):
        if test(mode):
            return name
    return "?"


def show_stat(label, path, follow=True):
    """Print type, permission bits and (not for directories) size:
    the part of struct stat every file system shows alike."""
    try:
        st = os.stat(path, follow_symlinks=follow)
    except OSError as e:
        print("%s: %s" % (label, ename(e)))
        return None
    k = kind(st.st_mode)
    size = "" if k == "dir" else " size=%d" % st.st_size
    print("%s: %s %04o%s" % (label, k, stat.S_IMODE(st.st_mode), size))
    return st


def names(path):
    """The sorted names in a directory."""
    return sorted(os.listdir(path))


def out(*a):
    print(*a)
    sys.stdout.flush()
