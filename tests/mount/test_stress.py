#!/usr/bin/env python3
"""test_stress.py MOUNT_DIR LOCAL_DIR SERVER_DIR [SECONDS [OPS]]

Random-operation stress, run by test_stress.sh: THREADS threads do
open/read/write/pread/pwrite/truncate/ftruncate/fsync/fstat/close on a few
files, each operation both on the mount and on a local reference copy,
under a per-file lock so that both see the operations on a file in the
same order.  Every result is compared as it happens (return values,
errno, the bytes read); at the end every file is compared byte for byte
on the mount, in the reference and on the server.

The seed is printed; STRESS_SEED=N gives every thread the same sequence
of operations again (how the threads interleave still varies);
STRESS_THREADS=N changes the number of threads.  A mismatch is shown with
the last operations on that file.  KNOWN_BAD below lists what is worked
around for now.
Prints "ok:"/"FAIL:" lines; exit status 1 on any failure, 3 when the
mount hung (no operation completed for 10 s: the daemon, whose pid the
wrapper passes in SFTPMNT_DAEMON_PID, is then killed to free the threads).
"""

import collections
import errno
import hashlib
import os
import random
import sys
import threading
import time

THREADS = int(os.environ.get("STRESS_THREADS", 4))
FILES = 6
MAX_OFF = 512 << 10        # writes start below this offset
MAX_TRUNC = 640 << 10
MAX_IO = 96 << 10          # and are at most this long
REPORT = 8                 # mismatches printed in detail
HISTORY = 12               # operations on the file shown with the first

# Known discrepancies worked around so that the rest of the run means
# something; each prints a "known-bad:" line.  Remove an entry once fixed.
KNOWN_BAD = {}

WEIGHTS = [("open", 10), ("close", 7), ("pwrite", 22), ("write", 10),
           ("pread", 20), ("read", 8), ("ftruncate", 4), ("truncate", 2),
           ("fsync", 3), ("fstat", 6), ("reopen_read", 3), ("stat", 5)]


def errname(e):
    return "E:" + errno.errorcode.get(e.errno, str(e.errno))


def attempt(fn, *a):
    try:
        return fn(*a)
    except OSError as e:
        return errname(e)


def sha(b):
    return hashlib.sha1(b).hexdigest()[:12]


def first_diff(a, b):
    for i, (x, y) in enumerate(zip(a, b)):
        if x != y:
            return i
    return min(len(a), len(b))


class Stress:
    def __init__(self, mnt, ref, srv, seconds, max_ops, seed):
        self.mnt, self.ref, self.srv = mnt, ref, srv
        self.deadline = time.time() + seconds
        self.max_ops = max_ops
        self.seed = seed
        self.names = ["file%d" % i for i in range(FILES)]
        self.locks = {n: threading.Lock() for n in self.names}
        self.count_lock = threading.Lock()
        self.ops = 0
        self.per_op = {}
        self.mismatches = 0
        self.errors = []
        ops, weights = zip(*WEIGHTS)
        self.choices = ops
        self.weights = weights
        self.current = {}       # tid -> (op, file, start time)
        self.hist = {n: collections.deque(maxlen=HISTORY)
                     for n in self.names}
        self.progress = time.time()
        self.done = False
        self.hung = False

    def mismatch(self, tid, seq, name, op, detail):
        if self.hung:   # what fails after the daemon was killed is noise
            return
        with self.count_lock:
            self.mismatches += 1
            if self.mismatches <= REPORT:
                print("FAIL: thread %d op %d %s %s: %s" %
                      (tid, seq, op, name, detail), flush=True)
            if self.mismatches <= 2:
                print("  the last operations on %s (thread, mount fd, op, "
                      "what the reference returned):\n    %s" %
                      (name, "\n    ".join(self.hist[name])), flush=True)

    def both(self, fn_m, fn_l):
        return attempt(fn_m), attempt(fn_l)

    def worker(self, tid):
        rng = random.Random(self.seed * 1000 + tid)
        fds = {}        # name -> (mount fd, local fd, flags)
        seq = 0
        try:
            while time.time() < self.deadline:
                with self.count_lock:
                    if self.ops >= self.max_ops:
                        break
                    self.ops += 1
                seq += 1
                name = rng.choice(self.names)
                op = rng.choices(self.choices, self.weights)[0]
                with self.locks[name]:
                    self.current[tid] = (op, name, time.time())
                    self.step(tid, seq, rng, name, op, fds)
                    self.current[tid] = None
                self.progress = time.time()
                with self.count_lock:
                    self.per_op[op] = self.per_op.get(op, 0) + 1
        except Exception as e:  # a bug in the test itself
            self.errors.append("thread %d: %r" % (tid, e))
        finally:
            for name, (m, l, _) in fds.items():
                with self.locks[name]:
                    r = self.both(lambda: os.close(m), lambda: os.close(l))
                    if r[0] != r[1]:
                        self.mismatch(tid, seq, name, "final close",
                                      both_sides(r))

    def size(self, rng):
        # mostly small I/O, sometimes large (several SFTP packets)
        r = rng.random()
        if r < 0.5:
            return rng.randint(1, 512)
        if r < 0.85:
            return rng.randint(513, 16 << 10)
        return rng.randint(16 << 10, MAX_IO)

    def record(self, tid, name, fd, op, what, r):
        self.hist[name].append("t%d fd%s %s %s -> %s" %
                               (tid, fd, op, what, describe(r[1])))

    def step(self, tid, seq, rng, name, op, fds):
        mp = os.path.join(self.mnt, name)
        lp = os.path.join(self.ref, name)
        h = fds.get(name)
        what = ""
        if op in ("pwrite", "write", "pread", "read", "ftruncate", "fsync",
                  "fstat", "close") and h is None:
            op = "open"
        if op == "open" and h is not None:
            op = "pread"
        if op == "open":
            flags = os.O_RDWR | os.O_CREAT
            if rng.random() < 0.15:
                flags |= os.O_APPEND
            if rng.random() < 0.04 and flags & os.O_ACCMODE != os.O_RDONLY:
                flags |= os.O_TRUNC
            m, l = self.both(lambda: os.open(mp, flags, 0o644),
                             lambda: os.open(lp, flags, 0o644))
            self.record(tid, name, m, op, flag_names(flags), (m, l))
            if isinstance(m, int) and isinstance(l, int):
                fds[name] = (m, l, flags)
            else:
                self.mismatch(tid, seq, name, op, both_sides((m, l)))
                for fd in (m, l):
                    if isinstance(fd, int):
                        os.close(fd)
            return
        if op == "close":
            m, l, _ = fds.pop(name)
            r = self.both(lambda: os.close(m), lambda: os.close(l))
        elif op in ("pwrite", "write"):
            m, l, _ = h
            data = rng.randbytes(self.size(rng))
            if op == "pwrite":
                off = rng.randrange(MAX_OFF)
                what = "%d@%d" % (len(data), off)
                r = self.both(lambda: os.pwrite(m, data, off),
                              lambda: os.pwrite(l, data, off))
            else:
                what = "%d at the position" % len(data)
                r = self.both(lambda: os.write(m, data),
                              lambda: os.write(l, data))
        elif op in ("pread", "read"):
            m, l, _ = h
            n = self.size(rng)
            if op == "pread":
                off = rng.randrange(MAX_TRUNC)
                what = "%d@%d" % (n, off)
                r = self.both(lambda: os.pread(m, n, off),
                              lambda: os.pread(l, n, off))
            else:
                what = "%d@%d" % (n, os.lseek(l, 0, os.SEEK_CUR))
                r = self.both(lambda: os.read(m, n), lambda: os.read(l, n))
            self.record(tid, name, m, op, what, r)
            if r[0] != r[1] and isinstance(r[0], bytes) and \
                    isinstance(r[1], bytes):
                i = first_diff(r[0], r[1])
                self.mismatch(tid, seq, name, op,
                              "%d bytes (%s) from the mount, %d (%s) from "
                              "the reference, first difference at +%d%s" %
                              (len(r[0]), sha(r[0]), len(r[1]), sha(r[1]), i,
                               " (offset %d)" % (off + i)
                               if op == "pread" else ""))
                return
        elif op == "ftruncate":
            m, l, _ = h
            size = rng.randrange(MAX_TRUNC)
            what = str(size)
            r = self.both(lambda: os.ftruncate(m, size),
                          lambda: os.ftruncate(l, size))
        elif op == "truncate":
            size = rng.randrange(MAX_TRUNC)
            what = "%d (by path)" % size
            r = self.both(lambda: os.truncate(mp, size),
                          lambda: os.truncate(lp, size))
        elif op == "fsync":
            m, l, _ = h
            r = self.both(lambda: os.fsync(m), lambda: os.fsync(l))
        elif op == "fstat":
            m, l, _ = h
            r = self.both(lambda: os.fstat(m).st_size,
                          lambda: os.fstat(l).st_size)
        elif op == "stat":
            r = self.both(lambda: os.stat(mp).st_size,
                          lambda: os.stat(lp).st_size)
        elif op == "reopen_read":
            # close-to-open: a fresh open reads the whole current file
            def whole(p):
                with open(p, "rb") as f:
                    return f.read()
            r = self.both(lambda: whole(mp), lambda: whole(lp))
            self.record(tid, name, "-", op, "", r)
            if r[0] != r[1] and isinstance(r[0], bytes) and \
                    isinstance(r[1], bytes):
                self.mismatch(tid, seq, name, op,
                              "mount %d bytes (%s), local %d (%s), first "
                              "difference at %d" %
                              (len(r[0]), sha(r[0]), len(r[1]), sha(r[1]),
                               first_diff(r[0], r[1])))
                return
        else:
            raise AssertionError(op)
        if op not in ("pread", "read", "reopen_read"):
            self.record(tid, name, h[0] if h else "-", op, what, r)
        if r[0] != r[1]:
            self.mismatch(tid, seq, name, op, both_sides(r))

    def watchdog(self, stall=10):
        """Say which operation hangs, with the kernel's stack of each
        thread stuck in the kernel (D state)."""
        while not self.done:
            time.sleep(0.5)
            if time.time() - self.progress < stall:
                continue
            print("FAIL: no operation completed for %d s; in flight: %s" %
                  (stall, ", ".join("thread %d %s %s for %.0f s" %
                                    (tid, c[0], c[1], time.time() - c[2])
                                    for tid, c in sorted(
                                        self.current.items()) if c)),
                  flush=True)
            for task in sorted(os.listdir("/proc/self/task")):
                try:
                    with open("/proc/self/task/%s/stack" % task) as f:
                        stack = f.read().splitlines()[:6]
                    with open("/proc/self/task/%s/stat" % task) as f:
                        state = f.read().split(") ")[1][0]
                except OSError:
                    continue
                if state == "D":
                    print("  task %s (D): %s" % (task, " <- ".join(
                        x.split(" ", 1)[-1].split("+")[0]
                        for x in stack if x)), flush=True)
            self.progress = time.time() + 3600     # say it once
            self.hung = True
            self.deadline = 0
            # The stuck threads wait for replies that will never come:
            # only ending the daemon (ours: the wrapper started it) frees
            # them, so that the run ends and reports.
            pid = os.environ.get("SFTPMNT_DAEMON_PID", "")
            if pid.isdigit() and int(pid) > 1:
                print("stress: killing the hung sftpmnt (pid %s)" % pid,
                      flush=True)
                try:
                    os.kill(int(pid), 15)
                except OSError:
                    pass

    def run(self):
        for k, why in sorted(KNOWN_BAD.items()):
            print("known-bad: %s: %s" % (k, why))
        t0 = time.time()
        threads = [threading.Thread(target=self.worker, args=(i,))
                   for i in range(THREADS)]
        threading.Thread(target=self.watchdog, daemon=True).start()
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        self.done = True
        took = time.time() - t0
        print("stress: seed %d, %d threads, %d files, %d operations in "
              "%.1f s (%s)" % (self.seed, THREADS, FILES, self.ops, took,
                               ", ".join("%s %d" % kv for kv in
                                         sorted(self.per_op.items()))))
        fails = 0
        if self.hung:
            print("FAIL: the mount hung; the results after that and the "
                  "files are not compared")
            return 3
        for e in self.errors:
            print("FAIL: test error: %s" % e)
            fails += 1
        if self.mismatches:
            print("FAIL: %d operations gave different results on the mount"
                  " (first %d shown above)" % (self.mismatches,
                                               min(self.mismatches, REPORT)))
            fails += 1
        else:
            print("ok: every operation gave the same result on the mount "
                  "as on the reference")
        for name in self.names:
            want = read(os.path.join(self.ref, name))
            for where, d in (("mount", self.mnt), ("server", self.srv)):
                got = read(os.path.join(d, name))
                if got == want:
                    print("ok: %s on the %s == reference (%s bytes)" %
                          (name, where, len(want) if isinstance(
                              want, bytes) else want))
                else:
                    fails += 1
                    print("FAIL: %s on the %s: %s, reference: %s%s" %
                          (name, where, describe(got), describe(want),
                           ", first difference at %d" % first_diff(got, want)
                           if isinstance(got, bytes) and
                           isinstance(want, bytes) else ""))
        return fails


def read(p):
    try:
        with open(p, "rb") as f:
            return f.read()
    except OSError as e:
        return errname(e)


def flag_names(flags):
    names = [{os.O_RDONLY: "O_RDONLY", os.O_WRONLY: "O_WRONLY",
              os.O_RDWR: "O_RDWR"}[flags & os.O_ACCMODE]]
    names += [n for n in ("O_APPEND", "O_TRUNC") if flags & getattr(os, n)]
    return "|".join(names)


def both_sides(r):
    return "mount %s local %s" % (describe(r[0]), describe(r[1]))


def describe(x):
    if isinstance(x, bytes):
        return "%d bytes sha1 %s" % (len(x), sha(x))
    return repr(x)


def main():
    if len(sys.argv) < 4:
        sys.exit(__doc__)
    mnt, ref, srv = sys.argv[1:4]
    seconds = float(sys.argv[4]) if len(sys.argv) > 4 else 20
    max_ops = int(sys.argv[5]) if len(sys.argv) > 5 else 8000
    seed = int(os.environ.get("STRESS_SEED") or
               random.SystemRandom().randrange(1 << 30))
    st = Stress(mnt, ref, srv, seconds, max_ops, seed)
    fails = st.run()
    sys.exit(3 if st.hung else 1 if fails else 0)


if __name__ == "__main__":
    main()
