"""posix_steps.py - the steps of posix_battery.py (see there).

Each step s_NAME(t) works below t.d with names of its own and records
what every call returned with t.o/t.call/t.open/t.stat...; it runs once
on the mount and once in a local directory and the two records must
agree.  Also the system calls Python's os module lacks (renameat2,
utimensat with UTIME_NOW/UTIME_OMIT, access with errno) and small helpers.
"""

import ctypes
import errno
import hashlib
import os
import stat
import time

libc = ctypes.CDLL(None, use_errno=True)
AT_FDCWD = -100
AT_SYMLINK_NOFOLLOW = 0x100
RENAME_NOREPLACE = 1
RENAME_EXCHANGE = 2
UTIME_NOW = (1 << 30) - 1
UTIME_OMIT = (1 << 30) - 2


class Timespec(ctypes.Structure):
    _fields_ = [("tv_sec", ctypes.c_long), ("tv_nsec", ctypes.c_long)]


def _check(r, path):
    if r != 0:
        e = ctypes.get_errno()
        raise OSError(e, os.strerror(e), path)


def renameat2(a, b, flags):
    libc.renameat2.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_int,
                               ctypes.c_char_p, ctypes.c_uint]
    _check(libc.renameat2(AT_FDCWD, a.encode(), AT_FDCWD, b.encode(),
                          flags), a)


def utimensat(path, atime, mtime, flags=0):
    """atime/mtime: (sec, nsec); nsec may be UTIME_NOW or UTIME_OMIT."""
    ts = (Timespec * 2)(Timespec(*atime), Timespec(*mtime))
    _check(libc.utimensat(AT_FDCWD, path.encode(), ts, flags), path)


def access(path, mode):
    _check(libc.access(path.encode(), mode), path)


def errname(e):
    return "E:" + errno.errorcode.get(e.errno, str(e.errno))


def digest(data):
    if len(data) <= 48:
        return data
    return "%d bytes sha1 %s" % (len(data),
                                 hashlib.sha1(data).hexdigest()[:16])


def write_file(path, data, mode=0o644):
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    try:
        os.write(fd, data)
    finally:
        os.close(fd)


def pattern(n, seed=0):
    out = bytearray()
    i = seed
    while len(out) < n:
        out += hashlib.sha256(b"%d" % i).digest()
        i += 1
    return bytes(out[:n])


O = os

# ---------------------------------------------------------------------------
# The steps.  Each takes a Ctx and works below t.d with names of its own.


def s_open_creat(t):
    f = t.p("oc")
    fd = t.open("excl_new", f, O.O_CREAT | O.O_EXCL | O.O_WRONLY, 0o666)
    t.call("write", os.write, fd, b"hello world")
    t.close("close", fd)
    t.stat("st", f)
    t.open("excl_exists", f, O.O_CREAT | O.O_EXCL | O.O_WRONLY)
    fd = t.open("creat_exists", f, O.O_CREAT | O.O_RDONLY)
    t.call("read", os.read, fd, 100)
    t.close("close2", fd)
    t.open("missing", t.p("oc-missing"), O.O_RDONLY)
    t.open("missing_parent", t.p("oc-nodir", "x"), O.O_CREAT | O.O_WRONLY)
    t.open("parent_is_file", t.p("oc", "x"), O.O_CREAT | O.O_WRONLY)
    t.open("parent_is_file_ro", t.p("oc", "x"), O.O_RDONLY)
    fd = t.open("trunc", f, O.O_WRONLY | O.O_TRUNC)
    t.stat("st_trunc_fd", None, fd=fd)
    t.close("close3", fd)
    t.stat("st_trunc", f)
    os.mkdir(t.p("oc-dir"))
    t.open("dir_wronly", t.p("oc-dir"), O.O_WRONLY)
    t.open("dir_rdwr", t.p("oc-dir"), O.O_RDWR)
    t.open("dir_excl", t.p("oc-dir"), O.O_CREAT | O.O_EXCL | O.O_WRONLY)
    t.open("directory_on_file", f, O.O_RDONLY | O.O_DIRECTORY)
    fd = t.open("dir_rdonly", t.p("oc-dir"), O.O_RDONLY)
    t.close("close_dir", fd)
    # creat() with a restrictive mode: the umask applies, and the new fd
    # is writable even though the mode is read-only
    fd = t.open("creat_0444", t.p("oc-ro"),
                O.O_CREAT | O.O_WRONLY | O.O_TRUNC, 0o444)
    t.call("write_0444", os.write, fd, b"still writable")
    t.close("close4", fd)
    t.stat("st_0444", t.p("oc-ro"))
    t.content("data_0444", t.p("oc-ro"))
    fd = t.open("creat_0600", t.p("oc-600"), O.O_CREAT | O.O_WRONLY, 0o600)
    t.close("close5", fd)
    t.stat("st_0600", t.p("oc-600"))
    fd = t.open("creat_0777", t.p("oc-777"), O.O_CREAT | O.O_WRONLY, 0o777)
    t.close("close6", fd)
    t.stat("st_0777", t.p("oc-777"))
    # EBADF for the wrong direction
    fd = t.open("rdonly", f, O.O_RDONLY)
    t.call("write_on_rdonly", os.write, fd, b"x")
    t.close("close7", fd)
    fd = t.open("wronly", f, O.O_WRONLY)
    t.call("read_on_wronly", os.read, fd, 1)
    t.close("close8", fd)
    # O_CREAT|O_EXCL on a dangling symlink: EEXIST; plain O_CREAT through
    # it creates the target
    os.symlink("oc-target", t.p("oc-dangling"))
    t.open("excl_dangling", t.p("oc-dangling"),
           O.O_CREAT | O.O_EXCL | O.O_WRONLY)
    fd = t.open("creat_through_dangling", t.p("oc-dangling"),
                O.O_CREAT | O.O_WRONLY)
    t.call("write_through", os.write, fd, b"via link")
    t.close("close9", fd)
    t.content("target_created", t.p("oc-target"))
    t.stat("target_st", t.p("oc-target"), follow=False)
    t.open("nofollow", t.p("oc-dangling"), O.O_RDONLY | O.O_NOFOLLOW)


def s_append(t):
    f = t.p("ap")
    write_file(f, b"start\n")
    a = t.open("fd_a", f, O.O_WRONLY | O.O_APPEND)
    b = t.open("fd_b", f, O.O_WRONLY | O.O_APPEND)
    for i in range(5):
        t.call("a%d" % i, os.write, a, b"A%d\n" % i)
        t.call("b%d" % i, os.write, b, b"B%d\n" % i)
        t.call("pos_a%d" % i, os.lseek, a, 0, os.SEEK_CUR)
    # a third, non-appending fd extends the file; appends still go to the end
    c = t.open("fd_c", f, O.O_WRONLY)
    t.call("pwrite_c", os.pwrite, c, b"EXTEND", 200)
    t.call("a_after_extend", os.write, a, b"tail-a\n")
    # Linux: pwrite on an O_APPEND fd appends whatever the offset
    t.call("pwrite_append", os.pwrite, b, b"pw\n", 0)
    t.close("close_a", a)
    t.close("close_b", b)
    t.close("close_c", c)
    t.content("data", f)
    t.stat("st", f)
    # O_APPEND|O_CREAT on a new file, then read it through O_RDWR|O_APPEND
    g = t.p("ap2")
    fd = t.open("creat_append", g, O.O_CREAT | O.O_RDWR | O.O_APPEND)
    t.call("w1", os.write, fd, b"one")
    t.call("seek0", os.lseek, fd, 0, os.SEEK_SET)
    t.call("read", os.read, fd, 10)
    t.call("w2", os.write, fd, b"two")
    t.call("pread", os.pread, fd, 10, 0)
    t.close("close", fd)
    t.content("data2", g)


def s_rw_offsets(t):
    f = t.p("rw")
    data = pattern(10000)
    fd = t.open("open", f, O.O_CREAT | O.O_RDWR)
    t.call("write", os.write, fd, data)
    t.call("pread0", lambda: digest(os.pread(fd, 100, 0)))
    t.call("pread_end", os.pread, fd, 100, 9990)
    t.call("pread_eof", os.pread, fd, 10, 10000)
    t.call("pread_past", os.pread, fd, 10, 20000)
    t.call("pwrite_mid", os.pwrite, fd, b"XYZ", 5000)
    t.call("pos_unchanged", os.lseek, fd, 0, os.SEEK_CUR)
    t.call("pread_mid", os.pread, fd, 7, 4998)
    # sequential read/write positions
    t.call("seek", os.lseek, fd, 100, os.SEEK_SET)
    t.call("read_seq1", lambda: digest(os.read(fd, 50)))
    t.call("write_seq", os.write, fd, b"seq")
    t.call("read_seq2", lambda: digest(os.read(fd, 10)))
    t.call("pos", os.lseek, fd, 0, os.SEEK_CUR)
    # a sparse hole, then data past 4 GiB (64-bit offsets)
    t.call("pwrite_far", os.pwrite, fd, b"END", 1000000)
    t.stat("st_sparse", None, fd=fd)
    t.call("read_hole", lambda: os.pread(fd, 100, 500000) == bytes(100))
    t.call("read_hole_edge", os.pread, fd, 8, 999996)
    t.call("pwrite_4g", os.pwrite, fd, b"big", (1 << 32) + 5)
    t.call("pread_4g", os.pread, fd, 16, (1 << 32))
    t.stat("st_4g", None, fd=fd)
    t.call("trunc_back", os.ftruncate, fd, 1000003)
    t.call("all", lambda: digest(os.pread(fd, 2000000, 0)))
    t.close("close", fd)
    t.content("data", f)
    t.content("server", t.sp("rw"))
    # write past EOF through a sequential write after lseek
    g = t.p("rw2")
    fd = t.open("open2", g, O.O_CREAT | O.O_RDWR)
    t.call("seek_far", os.lseek, fd, 70000, os.SEEK_SET)
    t.call("write_far", os.write, fd, b"Z" * 10)
    t.close("close2", fd)
    t.content("data2", g)
    # a large write and read in one call (several SFTP packets)
    big = pattern(3 << 20, seed=7)
    fd = t.open("open3", t.p("rw3"), O.O_CREAT | O.O_RDWR)
    t.call("write_3m", os.write, fd, big)
    t.call("read_3m", lambda: digest(os.pread(fd, 4 << 20, 0)))
    t.close("close3", fd)


def s_coherence(t):
    """What one fd writes, another fd and stat(2) see at once (POSIX
    read-after-write within one system), without close or fsync."""
    f = t.p("coh")
    data = pattern(200000, seed=3)
    w = t.open("open_w", f, O.O_CREAT | O.O_WRONLY)
    t.call("write", os.write, w, data)
    t.stat("st_path", f)
    r = t.open("open_r", f, O.O_RDONLY)
    t.call("read_other_fd", lambda: digest(os.read(r, 300000)))
    t.call("pwrite", os.pwrite, w, b"NEW", 10)
    t.call("pread_other_fd", os.pread, r, 8, 8)
    t.call("ftruncate", os.ftruncate, w, 100)
    t.call("pread_after_trunc", lambda: digest(os.pread(r, 300000, 0)))
    t.stat("st_after_trunc", f)
    # O_TRUNC by a third open while the writer still holds data
    t.call("write_more", os.pwrite, w, b"more", 1000)
    x = t.open("open_trunc", f, O.O_WRONLY | O.O_TRUNC)
    t.stat("st_after_otrunc", f)
    t.call("pread_after_otrunc", os.pread, r, 10, 0)
    t.close("close_x", x)
    t.close("close_w", w)
    t.close("close_r", r)
    t.content("data", f)


def s_truncate(t):
    f = t.p("tr")
    write_file(f, pattern(1000))
    t.call("down", os.truncate, f, 10)
    t.stat("st_down", f)
    t.content("data_down", f)
    t.call("up", os.truncate, f, 5000)
    t.stat("st_up", f)
    t.content("data_up", f)
    t.call("same", os.truncate, f, 5000)
    fd = t.open("open", f, O.O_RDWR)
    t.call("ftrunc_down", os.ftruncate, fd, 3)
    t.stat("fst_down", None, fd=fd)
    t.call("read", os.read, fd, 100)
    t.call("ftrunc_up", os.ftruncate, fd, 100000)
    t.stat("fst_up", None, fd=fd)
    t.call("zeros", lambda: os.pread(fd, 99997, 3) == bytes(99997))
    # truncate between pending writes: the order must hold
    t.call("w1", os.pwrite, fd, b"a" * 1000, 0)
    t.call("ftrunc_mid", os.ftruncate, fd, 500)
    t.call("w2", os.pwrite, fd, b"b" * 10, 600)
    t.call("ftrunc_zero", os.ftruncate, fd, 0)
    t.call("w3", os.pwrite, fd, b"c" * 5, 2)
    t.close("close", fd)
    t.content("data", f)
    t.content("server", t.sp("tr"))
    t.call("missing", os.truncate, t.p("tr-missing"), 0)
    os.mkdir(t.p("tr-dir"))
    t.call("dir", os.truncate, t.p("tr-dir"), 0)
    t.call("negative", os.truncate, f, -1)
    fd = t.open("open_ro", f, O.O_RDONLY)
    t.call("ftrunc_rdonly", os.ftruncate, fd, 0)
    t.close("close_ro", fd)
    t.call("through_file", os.truncate, t.p("tr", "x"), 0)


def s_fsync(t):
    f = t.p("fs")
    data = pattern(300000, seed=5)
    fd = t.open("open", f, O.O_CREAT | O.O_WRONLY)
    t.call("write", os.write, fd, data)
    t.call("fsync", os.fsync, fd)
    # after fsync the data is on the server, before close
    t.content("server_after_fsync", t.sp("fs"))
    t.call("write2", os.pwrite, fd, b"tail", 300000)
    t.call("fdatasync", os.fdatasync, fd)
    t.content("server_after_fdatasync", t.sp("fs"))
    t.close("close", fd)
    fd = t.open("open_ro", f, O.O_RDONLY)
    t.call("fsync_rdonly", os.fsync, fd)
    t.close("close_ro", fd)
    fd = t.open("open_dir", t.d, O.O_RDONLY | O.O_DIRECTORY)
    t.call("fsync_dir", os.fsync, fd)
    t.close("close_dir", fd)


def s_stat(t):
    f = t.p("st")
    write_file(f, b"0123456789")
    t.stat("file", f)
    os.mkdir(t.p("st-dir"))
    t.stat("dir", t.p("st-dir"))
    os.symlink("st", t.p("st-link"))
    t.stat("link_follow", t.p("st-link"))
    t.stat("link_lstat", t.p("st-link"), follow=False)
    t.stat("missing", t.p("st-missing"))
    t.stat("through_file", t.p("st", "x"))
    t.stat("trailing_slash_file", t.p("st") + "/")
    t.stat("trailing_slash_dir", t.p("st-dir") + "/")
    t.stat("dot", t.p("st-dir", "."))
    t.stat("dotdot", t.p("st-dir", ".."))
    # fstat of an fd whose name was renamed over still describes its own
    # file, and the fd still reads its own data
    write_file(t.p("st-a"), b"A" * 10)
    write_file(t.p("st-b"), b"B" * 20)
    fd = t.open("open_a", t.p("st-a"), O.O_RDWR)
    t.call("rename_over", os.rename, t.p("st-b"), t.p("st-a"))
    t.stat("fstat_old", None, fd=fd)
    t.call("read_old", os.pread, fd, 100, 0)
    t.stat("stat_new", t.p("st-a"))
    t.content("data_new", t.p("st-a"))
    # after the attribute cache has expired (cache_timeout=1)
    time.sleep(1.2)
    t.stat("fstat_old_later", None, fd=fd)
    t.call("write_old", os.pwrite, fd, b"xx", 0)
    t.stat("fstat_old_after_write", None, fd=fd)
    t.call("read_old_later", os.pread, fd, 100, 0)
    t.close("close_a", fd)
    t.content("data_new_later", t.p("st-a"))
    # fstat follows writes through the fd at once
    fd = t.open("open_c", t.p("st-c"), O.O_CREAT | O.O_WRONLY)
    t.call("w", os.write, fd, b"x" * 12345)
    t.stat("fstat_after_write", None, fd=fd)
    t.stat("stat_after_write", t.p("st-c"))
    t.close("close_c", fd)


def s_chmod(t):
    f = t.p("cm")
    write_file(f, b"x")
    for m in (0o600, 0o755, 0o000, 0o4755, 0o2755, 0o1644, 0o644):
        t.call("chmod_%o" % m, os.chmod, f, m)
        t.stat("st_%o" % m, f)
    fd = t.open("open", f, O.O_RDWR)
    t.call("fchmod", os.fchmod, fd, 0o640)
    t.stat("fst", None, fd=fd)
    # a file made read-only stays writable through an fd opened before
    t.call("chmod_ro", os.chmod, f, 0o444)
    t.call("write_after_ro", os.pwrite, fd, b"y", 1)
    t.close("close", fd)
    t.content("data", f)
    t.stat("st_after", f)
    os.mkdir(t.p("cm-dir"))
    t.call("chmod_dir", os.chmod, t.p("cm-dir"), 0o1777)
    t.stat("st_dir", t.p("cm-dir"))
    t.call("chmod_dir_700", os.chmod, t.p("cm-dir"), 0o700)
    t.stat("st_dir_700", t.p("cm-dir"))
    t.call("missing", os.chmod, t.p("cm-missing"), 0o644)
    # chmod through a symlink changes the target
    os.symlink("cm", t.p("cm-link"))
    t.call("chmod_link", os.chmod, t.p("cm-link"), 0o600)
    t.stat("st_target", f)
    t.stat("lst_link", t.p("cm-link"), follow=False)
    # ownership (the test runs as root)
    t.call("chown", os.chown, f, 1234, 2345)
    t.stat("st_chown", f)
    t.call("chown_uid_only", os.chown, f, 4321, -1)
    t.stat("st_chown_uid", f)
    t.call("lchown_link", os.chown, t.p("cm-link"), 777, 777,
           follow_symlinks=False)
    t.stat("st_target_after_lchown", f)
    t.stat("lst_link_after_lchown", t.p("cm-link"), follow=False)
    # the server's view too: the kernel may still hold the target's
    # attributes from before
    t.stat("server_target_after_lchown", t.sp("cm"))
    t.stat("server_link_after_lchown", t.sp("cm-link"), follow=False)
    t.call("chown_back", os.chown, f, 0, 0)


def s_utime(t):
    f = t.p("ut")
    write_file(f, b"x")
    t.recent("new_mtime_recent", f)
    t.call("utime", os.utime, f, (1000000000, 1200000000))
    t.times("set", f)
    t.call("utime_ns", os.utime, f, ns=(1100000000123456789,
                                         1300000000987654321))
    t.times("set_ns", f)
    # UTIME_OMIT keeps one time, sets the other
    t.call("omit_atime", utimensat, f, (0, UTIME_OMIT), (1400000000, 0))
    t.times("after_omit_atime", f)
    t.call("omit_mtime", utimensat, f, (1500000000, 0), (0, UTIME_OMIT))
    t.times("after_omit_mtime", f)
    t.call("omit_both", utimensat, f, (0, UTIME_OMIT), (0, UTIME_OMIT))
    t.times("after_omit_both", f)
    t.times("server_after_omit", t.sp("ut"))
    # UTIME_NOW
    t.call("now_mtime", utimensat, f, (0, UTIME_OMIT), (0, UTIME_NOW))
    t.recent("now_mtime_recent", f)
    t.o("now_mtime_atime_kept", int(os.stat(f).st_atime))
    t.call("now_both", utimensat, f, (0, UTIME_NOW), (0, UTIME_NOW))
    t.recent("now_both_m", f)
    t.recent("now_both_a", f, "atime")
    t.call("utime_none", os.utime, f, None)
    t.recent("utime_none_recent", f)
    # futimens on an fd
    fd = t.open("open", f, O.O_RDWR)
    t.call("futimens", os.utime, fd, (1000000001, 1000000002))
    t.times("after_futimens", f)
    # a write moves mtime to now
    t.call("write", os.write, fd, b"abc")
    t.close("close", fd)
    t.recent("after_write_recent", f)
    # set times survive a close that flushes writes
    fd = t.open("open2", f, O.O_WRONLY)
    t.call("write2", os.write, fd, b"def")
    t.call("utime_with_pending", os.utime, f, (1000000003, 1000000004))
    t.close("close2", fd)
    t.times("after_close_with_pending", f)
    t.times("server", t.sp("ut"))
    # directories
    os.mkdir(t.p("ut-dir"))
    t.call("utime_dir", os.utime, t.p("ut-dir"), (1000000005, 1000000006))
    t.times("dir", t.p("ut-dir"))
    t.call("missing", os.utime, t.p("ut-missing"), (1, 2))
    # utimensat(AT_SYMLINK_NOFOLLOW) sets the link's own times and must
    # never touch the target's
    os.utime(f, (1000000007, 1000000008))
    os.symlink("ut", t.p("ut-link"))
    t.call("lutimes", utimensat, t.p("ut-link"), (1000000009, 0),
           (1000000010, 0), AT_SYMLINK_NOFOLLOW)
    t.times("target_after_lutimes", f)
    t.times("link_after_lutimes", t.p("ut-link"), follow=False)
    t.times("server_target_after_lutimes", t.sp("ut"))
    t.times("server_link_after_lutimes", t.sp("ut-link"), follow=False)
    # following the link sets the target's
    t.call("utime_via_link", os.utime, t.p("ut-link"), (1000000011,
                                                        1000000012))
    t.times("target_after_utime_via_link", f)


def s_mkdir_rmdir(t):
    d = t.p("md")
    t.call("mkdir", os.mkdir, d)
    t.stat("st", d)
    t.call("mkdir_exists", os.mkdir, d)
    t.call("mkdir_missing_parent", os.mkdir, t.p("md-missing", "x"))
    write_file(t.p("md-file"), b"x")
    t.call("mkdir_parent_file", os.mkdir, t.p("md-file", "x"))
    t.call("mkdir_over_file", os.mkdir, t.p("md-file"))
    os.symlink("md-nowhere", t.p("md-dangling"))
    t.call("mkdir_over_dangling", os.mkdir, t.p("md-dangling"))
    t.call("mkdir_0700", os.mkdir, t.p("md-700"), 0o700)
    t.stat("st_0700", t.p("md-700"))
    t.call("mkdir_0777", os.mkdir, t.p("md-777"), 0o777)
    t.stat("st_0777", t.p("md-777"))
    t.call("mkdir_trailing_slash", os.mkdir, t.p("md-slash") + "/")
    t.call("mkdir_nested", os.mkdir, t.p("md", "sub"))
    write_file(t.p("md", "sub", "f"), b"x")
    t.call("rmdir_nonempty", os.rmdir, t.p("md", "sub"))
    t.call("rmdir_nonempty_parent", os.rmdir, d)
    t.call("rmdir_missing", os.rmdir, t.p("md-missing"))
    t.call("rmdir_file", os.rmdir, t.p("md-file"))
    t.call("rmdir_dot", os.rmdir, t.p("md", "."))
    os.symlink("md", t.p("md-link"))
    t.call("rmdir_symlink", os.rmdir, t.p("md-link"))
    os.unlink(t.p("md", "sub", "f"))
    t.call("rmdir_emptied", os.rmdir, t.p("md", "sub"))
    t.stat("st_gone", t.p("md", "sub"))
    t.call("rmdir_again", os.rmdir, t.p("md", "sub"))
    t.listdir("ls", d)
    t.call("rmdir", os.rmdir, d)
    t.stat("st_server_gone", t.sp("md"))
    t.call("mkdir_again", os.mkdir, d)
    t.listdir("ls_again", d)


def s_unlink(t):
    f = t.p("ul")
    write_file(f, b"x")
    t.call("unlink", os.unlink, f)
    t.stat("gone", f)
    t.call("missing", os.unlink, f)
    os.mkdir(t.p("ul-dir"))
    t.call("dir", os.unlink, t.p("ul-dir"))
    t.call("missing_parent", os.unlink, t.p("ul-missing", "x"))
    write_file(t.p("ul-file"), b"x")
    t.call("through_file", os.unlink, t.p("ul-file", "x"))
    # unlinking a symlink removes the link, not the target
    os.symlink("ul-file", t.p("ul-link"))
    t.call("unlink_link", os.unlink, t.p("ul-link"))
    t.content("target_kept", t.p("ul-file"))
    os.symlink("ul-nowhere", t.p("ul-dangling"))
    t.call("unlink_dangling", os.unlink, t.p("ul-dangling"))
    # an open file that is unlinked keeps working through its fd
    g = t.p("ul-open")
    write_file(g, b"open and unlinked")
    fd = t.open("open", g, O.O_RDWR)
    t.call("unlink_open", os.unlink, g)
    t.stat("stat_name", g)
    t.call("read", os.pread, fd, 100, 0)
    t.call("write", os.pwrite, fd, b"OPEN", 0)
    t.call("read2", os.pread, fd, 100, 0)
    t.stat("fstat", None, fd=fd)
    t.close("close", fd)
    t.listdir("ls", t.d)
    # a new file with the name of an unlinked open one is a new file
    write_file(g, b"first")
    fd = t.open("open3", g, O.O_RDONLY)
    os.unlink(g)
    write_file(g, b"second file")
    t.call("read_old", os.pread, fd, 100, 0)
    t.content("new", g)
    t.close("close3", fd)


def s_rename(t):
    P = t.p
    write_file(P("rn-a"), b"aaa")
    write_file(P("rn-b"), b"bbbbbb")
    t.call("file_over_file", os.rename, P("rn-a"), P("rn-b"))
    t.content("dst", P("rn-b"))
    t.stat("src_gone", P("rn-a"))
    t.call("missing_src", os.rename, P("rn-a"), P("rn-c"))
    t.call("same_name", os.rename, P("rn-b"), P("rn-b"))
    t.content("same_name_kept", P("rn-b"))
    os.mkdir(P("rn-d1"))
    write_file(P("rn-d1", "f"), b"in d1")
    os.mkdir(P("rn-d2"))
    t.call("dir_over_empty_dir", os.rename, P("rn-d1"), P("rn-d2"))
    t.listdir("d2", P("rn-d2"))
    t.stat("d1_gone", P("rn-d1"))
    t.content("moved_child", P("rn-d2", "f"))
    os.mkdir(P("rn-d3"))
    t.call("dir_over_nonempty_dir", os.rename, P("rn-d3"), P("rn-d2"))
    t.listdir("d2_kept", P("rn-d2"))
    write_file(P("rn-f"), b"f")
    t.call("file_over_dir", os.rename, P("rn-f"), P("rn-d3"))
    t.call("dir_over_file", os.rename, P("rn-d3"), P("rn-f"))
    t.call("dir_into_itself", os.rename, P("rn-d2"), P("rn-d2", "sub"))
    t.call("to_missing_parent", os.rename, P("rn-f"), P("rn-nodir", "x"))
    t.call("to_file_parent", os.rename, P("rn-f"), P("rn-b", "x"))
    t.call("file_to_trailing_slash", os.rename, P("rn-f"), P("rn-g") + "/")
    # across directories; the open fd follows the file
    fd = t.open("open", P("rn-f"), O.O_RDWR)
    t.call("across_dirs", os.rename, P("rn-f"), P("rn-d3", "moved"))
    t.call("write_after", os.pwrite, fd, b"F2", 1)
    t.stat("fstat_after", None, fd=fd)
    t.close("close", fd)
    t.content("moved", P("rn-d3", "moved"))
    t.listdir("d3", P("rn-d3"))
    # a renamed directory's children are found under the new name
    t.call("rename_dir", os.rename, P("rn-d3"), P("rn-d4"))
    t.content("child_after_dir_rename", P("rn-d4", "moved"))
    t.stat("old_child", P("rn-d3", "moved"))
    t.content("server_child", t.sp("rn-d4", "moved"))
    # two hard links to one file: rename is a no-op, both names stay
    write_file(P("rn-h1"), b"hard")
    os.link(P("rn-h1"), P("rn-h2"))
    t.call("hardlinks", os.rename, P("rn-h1"), P("rn-h2"))
    t.o("h1_h2", sorted(n for n in os.listdir(t.d) if n.startswith("rn-h")))
    # symlinks rename as links
    os.symlink("rn-b", P("rn-l1"))
    t.call("rename_link", os.rename, P("rn-l1"), P("rn-l2"))
    t.call("readlink", os.readlink, P("rn-l2"))
    t.content("through", P("rn-l2"))
    # rename over a symlink replaces the link, not its target
    write_file(P("rn-over-link"), b"replaces link")
    t.call("file_over_link", os.rename, P("rn-over-link"), P("rn-l2"))
    t.stat("l2", P("rn-l2"), follow=False)
    t.content("b_kept", P("rn-b"))


def s_rename_flags(t):
    P = t.p
    write_file(P("rf-a"), b"a")
    write_file(P("rf-b"), b"bb")
    t.call("noreplace_exists", renameat2, P("rf-a"), P("rf-b"),
           RENAME_NOREPLACE)
    t.content("a_kept", P("rf-a"))
    t.content("b_kept", P("rf-b"))
    t.call("noreplace_new", renameat2, P("rf-a"), P("rf-c"), RENAME_NOREPLACE)
    t.content("c", P("rf-c"))
    t.stat("a_gone", P("rf-a"))
    os.mkdir(P("rf-d"))
    t.call("noreplace_dir", renameat2, P("rf-c"), P("rf-d"), RENAME_NOREPLACE)
    t.call("noreplace_missing_src", renameat2, P("rf-a"), P("rf-e"),
           RENAME_NOREPLACE)
    t.call("exchange", renameat2, P("rf-b"), P("rf-c"), RENAME_EXCHANGE)
    t.content("after_exchange.b", P("rf-b"))
    t.content("after_exchange.c", P("rf-c"))
    t.call("both_flags", renameat2, P("rf-b"), P("rf-c"),
           RENAME_EXCHANGE | RENAME_NOREPLACE)
    t.call("bad_flag", renameat2, P("rf-b"), P("rf-c"), 1 << 20)


def s_link(t):
    P = t.p
    write_file(P("ln-a"), b"linked")
    t.call("link", os.link, P("ln-a"), P("ln-b"))
    t.content("b", P("ln-b"))
    t.stat("a", P("ln-a"))
    t.stat("b", P("ln-b"))
    t.o("b.ino_same", os.stat(P("ln-a")).st_ino == os.stat(P("ln-b")).st_ino)
    # a write through one name shows through the other
    with open(P("ln-a"), "r+b") as f:
        f.seek(0)
        f.write(b"LINKED!")
    t.content("b_after_write", P("ln-b"))
    t.content("server_b", t.sp("ln-b"))
    t.call("exists", os.link, P("ln-a"), P("ln-b"))
    t.call("missing", os.link, P("ln-missing"), P("ln-c"))
    os.mkdir(P("ln-dir"))
    t.call("dir", os.link, P("ln-dir"), P("ln-dir2"))
    t.call("into_missing", os.link, P("ln-a"), P("ln-nodir", "x"))
    t.call("unlink_a", os.unlink, P("ln-a"))
    t.content("b_survives", P("ln-b"))
    t.stat("b_after", P("ln-b"))
    # link(2) of a symlink links the symlink itself (Linux), linkat with
    # AT_SYMLINK_FOLLOW its target
    os.symlink("ln-b", P("ln-sym"))
    t.call("link_symlink", os.link, P("ln-sym"), P("ln-sym2"),
           follow_symlinks=False)
    t.stat("sym2", P("ln-sym2"), follow=False)
    t.call("readlink_sym2", os.readlink, P("ln-sym2"))
    t.call("link_follow", os.link, P("ln-sym"), P("ln-sym3"),
           follow_symlinks=True)
    t.stat("sym3", P("ln-sym3"), follow=False)


def s_symlink(t):
    P = t.p
    write_file(P("sl-file"), b"target data")
    os.mkdir(P("sl-dir"))
    write_file(P("sl-dir", "inner"), b"inner")
    t.call("symlink", os.symlink, "sl-file", P("sl-l1"))
    t.call("readlink", os.readlink, P("sl-l1"))
    t.content("follow", P("sl-l1"))
    t.stat("lstat", P("sl-l1"), follow=False)
    t.call("symlink_dir", os.symlink, "sl-dir", P("sl-l2"))
    t.listdir("ls_via_link", P("sl-l2"))
    t.content("inner_via_link", P("sl-l2", "inner"))
    t.call("exists", os.symlink, "x", P("sl-file"))
    t.call("exists_link", os.symlink, "x", P("sl-l1"))
    t.call("readlink_file", os.readlink, P("sl-file"))
    t.call("readlink_missing", os.readlink, P("sl-missing"))
    t.call("dangling", os.symlink, "nowhere/at/all", P("sl-dang"))
    t.stat("dangling_stat", P("sl-dang"))
    t.call("readlink_dangling", os.readlink, P("sl-dang"))
    t.call("loop_a", os.symlink, "sl-loop-b", P("sl-loop-a"))
    t.call("loop_b", os.symlink, "sl-loop-a", P("sl-loop-b"))
    t.stat("loop_stat", P("sl-loop-a"))
    t.open("loop_open", P("sl-loop-a"), O.O_RDONLY)
    t.open("nofollow", P("sl-l1"), O.O_RDONLY | O.O_NOFOLLOW)
    t.call("chain", os.symlink, "sl-l1", P("sl-l3"))
    t.content("chain_follow", P("sl-l3"))
    t.call("dotdot", os.symlink, "../" + os.path.basename(t.d) + "/sl-file",
           P("sl-dir", "up"))
    t.content("dotdot_follow", P("sl-dir", "up"))
    t.call("server_readlink", os.readlink, t.sp("sl-dir", "up"))


def s_mknod(t):
    P = t.p
    t.call("reg", os.mknod, P("mn-reg"), stat.S_IFREG | 0o640)
    t.stat("reg_st", P("mn-reg"))
    t.call("reg_exists", os.mknod, P("mn-reg"), stat.S_IFREG | 0o640)
    t.call("reg_default", os.mknod, P("mn-reg2"))
    t.stat("reg2_st", P("mn-reg2"))
    t.call("reg_missing_parent", os.mknod, P("mn-nodir", "x"),
           stat.S_IFREG | 0o600)
    t.call("fifo", os.mknod, P("mn-fifo"), stat.S_IFIFO | 0o600)
    t.stat("fifo_st", P("mn-fifo"), follow=False)


def s_access(t):
    P = t.p
    write_file(P("ac-644"), b"x", 0o644)
    os.chmod(P("ac-644"), 0o644)
    write_file(P("ac-755"), b"x")
    os.chmod(P("ac-755"), 0o755)
    write_file(P("ac-000"), b"x")
    os.chmod(P("ac-000"), 0o000)
    os.mkdir(P("ac-dir"))
    os.mkdir(P("ac-dir000"))
    os.chmod(P("ac-dir000"), 0o000)
    for name in ("ac-644", "ac-755", "ac-000", "ac-dir", "ac-dir000",
                 "ac-missing"):
        for mode, mname in ((os.F_OK, "F"), (os.R_OK, "R"), (os.W_OK, "W"),
                            (os.X_OK, "X"), (os.R_OK | os.W_OK, "RW")):
            t.call("%s.%s" % (name, mname), access, P(name), mode)
    t.call("through_file", access, P("ac-644", "x"), os.F_OK)
    os.chmod(P("ac-dir000"), 0o755)


def s_statvfs(t):
    try:
        v = os.statvfs(t.d)
    except OSError as e:
        v = None
        t.o("statvfs", errname(e))
    if v:
        t.o("namemax", v.f_namemax)
        t.o("bsize", v.f_bsize)
        t.o("frsize", v.f_frsize)
        t.o("total_bytes", v.f_blocks * v.f_frsize)
        t.o("files", v.f_files)
        t.o("bfree_le_blocks", 0 < v.f_bavail <= v.f_bfree <= v.f_blocks)
        t.o("flag", v.f_flag)
    t.call("missing", os.statvfs, t.p("sv-missing"))
    write_file(t.p("sv-file"), b"x")
    v = t.call("file", lambda: os.statvfs(t.p("sv-file")).f_namemax)


def s_readdir(t):
    P = t.p
    d = P("rd")
    os.mkdir(d)
    t.listdir("empty", d)
    for i in range(300):
        write_file(os.path.join(d, "f%03d" % i), b"%d" % i)
    for i in range(5):
        os.mkdir(os.path.join(d, "sub%d" % i))
        os.symlink("f%03d" % i, os.path.join(d, "link%d" % i))
    os.symlink("nowhere", os.path.join(d, "dangling"))
    t.listdir("full", d)
    t.o("count", len(os.listdir(d)))
    t.o("types", sorted((e.name, e.is_dir(follow_symlinks=False),
                         e.is_symlink(), e.is_file(follow_symlinks=False),
                         e.is_file(), e.is_dir())
                        for e in os.scandir(d)))
    for i in range(0, 300, 3):
        os.unlink(os.path.join(d, "f%03d" % i))
    for i in range(1, 30, 3):
        os.rename(os.path.join(d, "f%03d" % i), os.path.join(d, "r%03d" % i))
    t.listdir("after_changes", d)
    # a listing while files are added through an open directory fd
    with os.scandir(d) as it:
        first = next(it).name is not None
        write_file(os.path.join(d, "late"), b"late")
        rest = len(list(it))
    t.o("scandir_while_adding", first and rest >= 200)
    t.listdir("with_late", d)
    t.listdir("missing", P("rd-missing"))
    write_file(P("rd-file"), b"x")
    t.listdir("file", P("rd-file"))
    t.listdir("via_link", P("rd", "sub0", "..", "sub1"))


def s_names(t):
    P = t.p
    names = ["sp ace", "é✓ ünïcode", "-dash", "back\\slash", "tab\there",
             "new\nline", "quote'\"", "dollar$HOME", "#hash", "a:colon",
             ".hidden", "..dots", "x" * 255]
    os.mkdir(P("nm"))
    for n in names:
        t.call("create " + repr(n[:20]),
               lambda n=n: write_file(P("nm", n), n.encode()))
        t.content("read " + repr(n[:20]), P("nm", n))
    t.listdir("ls", P("nm"))
    t.listdir("server_ls", t.sp("nm"))
    t.open("name_256", P("nm", "y" * 256), O.O_CREAT | O.O_WRONLY)
    t.call("mkdir_256", os.mkdir, P("nm", "z" * 256))
    t.stat("stat_256", P("nm", "y" * 256))
    t.call("symlink_256", os.symlink, "t", P("nm", "w" * 256))


def s_seek(t):
    f = t.p("sk")
    fd = t.open("open", f, O.O_CREAT | O.O_RDWR)
    t.call("write", os.write, fd, pattern(10000))
    t.call("end", os.lseek, fd, 0, os.SEEK_END)
    t.call("end_minus", os.lseek, fd, -100, os.SEEK_END)
    t.call("read_at_end_minus", lambda: digest(os.read(fd, 1000)))
    t.call("end_plus", os.lseek, fd, 100, os.SEEK_END)
    t.call("cur", os.lseek, fd, -50, os.SEEK_CUR)
    t.call("set_negative", os.lseek, fd, -1, os.SEEK_SET)
    t.call("data_at_0", os.lseek, fd, 0, os.SEEK_DATA)
    t.call("data_mid", os.lseek, fd, 5000, os.SEEK_DATA)
    t.call("data_at_eof", os.lseek, fd, 10000, os.SEEK_DATA)
    t.call("data_past_eof", os.lseek, fd, 20000, os.SEEK_DATA)
    t.call("hole_dense", os.lseek, fd, 0, os.SEEK_HOLE)
    t.call("hole_past_eof", os.lseek, fd, 20000, os.SEEK_HOLE)
    # a sparse file: data, a 1 MiB hole, data
    t.call("pwrite_far", os.pwrite, fd, b"far", 2 << 20)
    t.call("end_sparse", os.lseek, fd, 0, os.SEEK_END)
    t.call("data_in_hole", os.lseek, fd, 1 << 20, os.SEEK_DATA)
    t.call("hole_sparse", os.lseek, fd, 0, os.SEEK_HOLE)
    t.call("data_last_byte", os.lseek, fd, (2 << 20) + 2, os.SEEK_DATA)
    t.call("bad_whence", os.lseek, fd, 0, 17)
    t.close("close", fd)
    fd = t.open("open_dir", t.d, O.O_RDONLY | O.O_DIRECTORY)
    t.call("dir_seek0", os.lseek, fd, 0, os.SEEK_SET)
    t.close("close_dir", fd)


STEPS = [s_open_creat, s_append, s_rw_offsets, s_coherence, s_truncate,
         s_fsync, s_stat, s_chmod, s_utime, s_mkdir_rmdir, s_unlink,
         s_rename, s_rename_flags, s_link, s_symlink, s_access,
         s_statvfs, s_readdir, s_names, s_seek]
# Run after the final tree comparison: a daemon crash here (as seen with
# mknod) must not take the rest of the battery with it.
LAST_STEPS = [s_mknod]
