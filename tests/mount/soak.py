#!/usr/bin/python3
"""Soak with link cuts (tests/mount/test_soak.sh runs this).

WORKERS processes each work in a directory of their own on the mount:
create/overwrite, append, pwrite, truncate, rename (within and across
subdirectories, over existing names: a rename storm), unlink, mkdir/rmdir,
read-back checks, and writes and reads through one descriptor kept open
for the whole run.  Each keeps a model of what its directory must hold.
Meanwhile the main process cuts the link (delayproxy `cut`) every 1-3 s.

What must hold:
- no call hangs: each operation finishes within HANG seconds;
- an operation that succeeded is exactly what the server has: every
  read-back equals the model, and at the end the tree on the server (read
  directly, then again after the unmount) is byte-identical to the model;
- an operation that failed (allowed only while the link is down) left a
  name-space change either done or not done, never half (a rename moves
  both names or neither); a failed data write leaves that one file
  unknown, re-read from the server;
- the descriptor kept open works across every cut (no error on it at
  all: reconnect reopens it and replays what was unacknowledged).

Environment: MNT, SRV (the same directory seen on the server), CTL
(delayproxy control socket), SECONDS, WORKERS, SEED, HANG.
Prints ok:/FAIL: lines and a summary; exit 1 on any failure.
"""
import errno
import multiprocessing as mp
import os
import random
import signal
import socket
import sys
import time

MNT = os.environ["MNT"]
SRV = os.environ["SRV"]
CTL = os.environ["CTL"]
SECONDS = float(os.environ.get("SECONDS_", os.environ.get("SOAK_SECONDS", "20")))
WORKERS = int(os.environ.get("WORKERS", "8"))
SEED = int(os.environ.get("SEED", str(int(time.time()))))
HANG = int(os.environ.get("HANG", "60"))
CUT_MIN = float(os.environ.get("CUT_MIN", "1.0"))  # seconds between cuts
CUT_MAX = float(os.environ.get("CUT_MAX", "3.0"))
LOG = os.environ.get("SOAK_LOG")  # a file: every operation, every cut
LOG_F = open(LOG, "a") if LOG else None
SUBDIRS = ["", "a", "b"]
NAMES = ["f%d" % k for k in range(6)]


class Hang(Exception):
    pass


def on_alarm(_sig, _frm):
    raise Hang()


def ctl(cmd):
    s = socket.socket(socket.AF_UNIX)
    s.connect(CTL)
    s.sendall((cmd + "\n").encode())
    r = s.recv(200).decode()
    s.close()
    return r


def read_or_none(path):
    try:
        with open(path, "rb") as f:
            return f.read()
    except FileNotFoundError:
        return None


class Worker:
    def __init__(self, i):
        self.i = i
        self.rnd = random.Random(SEED * 1000 + i)
        self.base = "%s/w%d" % (MNT, i)
        self.files = {}  # relative path -> bytes
        self.extra_dir = False  # "tmpd" exists
        self.stats = {"ops": 0, "failed": 0, "reads_checked": 0}
        self.fails = []

    def p(self, rel):
        return self.base + "/" + rel

    def fail(self, what):
        self.fails.append(what)
        self.log("FAIL " + what)

    def log(self, what):
        if LOG:
            LOG_F.write("%.3f w%d %s\n" % (time.time(), self.i, what))
            LOG_F.flush()

    def wait_usable(self):
        """After an error: wait until the directory answers again."""
        t0 = time.time()
        while time.time() - t0 < HANG:
            try:
                os.listdir(self.base)
                return True
            except OSError:
                time.sleep(0.3)
        self.fail("the mount did not come back within %ds" % HANG)
        return False

    def pick_file(self):
        return self.rnd.choice(sorted(self.files)) if self.files else None

    def new_name(self):
        sub = self.rnd.choice(SUBDIRS)
        name = self.rnd.choice(NAMES)
        return "%s/%s" % (sub, name) if sub else name

    def data(self):
        n = self.rnd.choice([0, 1, 100, 4096, 5000, 65536, 200000])
        if self.rnd.random() < 0.03:
            n = 2 << 20
        return self.rnd.randbytes(n)

    # --- operations: each first sets self.pending to the model change it
    # --- makes and its kind ("data", "ns", "dir", "read"), then calls
    def op(self):
        r = self.rnd.random()
        f = self.pick_file()
        if r < 0.20 or f is None:
            rel, d = self.new_name(), self.data()
            self.pending = ({rel: d}, "data")
            self.log("start write %s" % sorted(self.pending[0]))
            with open(self.p(rel), "wb") as fh:
                fh.write(d)
        elif r < 0.30:
            d = self.rnd.randbytes(self.rnd.choice([1, 3000, 70000]))
            self.pending = ({f: self.files[f] + d}, "data")
            self.log("start append %s" % sorted(self.pending[0]))
            with open(self.p(f), "ab") as fh:
                fh.write(d)
        elif r < 0.40:
            old = self.files[f]
            off = self.rnd.randint(0, len(old) + 1000)
            d = self.rnd.randbytes(self.rnd.choice([1, 512, 9000]))
            new = old + b"\0" * max(0, off - len(old))
            new = new[:off] + d + new[off + len(d):]
            self.pending = ({f: new}, "data")
            self.log("start pwrite %s" % sorted(self.pending[0]) + " off=%d len=%d" % (off, len(d)))
            fd = os.open(self.p(f), os.O_WRONLY)
            try:
                os.pwrite(fd, d, off)
            finally:
                os.close(fd)
        elif r < 0.47:
            old = self.files[f]
            n = self.rnd.randint(0, len(old) + 5000)
            self.pending = ({f: old[:n] + b"\0" * max(0, n - len(old))}, "data")
            self.log("start truncate %s" % sorted(self.pending[0]) + " n=%d" % n)
            os.truncate(self.p(f), n)
        elif r < 0.70:
            dst = self.new_name()
            if dst == f:
                return
            self.pending = ({f: None, dst: self.files[f]}, "ns")
            self.log("start rename %s" % sorted(self.pending[0]))
            os.rename(self.p(f), self.p(dst))
        elif r < 0.78:
            self.pending = ({f: None}, "ns")
            self.log("start unlink %s" % sorted(self.pending[0]))
            os.unlink(self.p(f))
        elif r < 0.82:
            self.pending = ({}, "dir")
            self.log("start tmpd %s" % sorted(self.pending[0]))
            if self.extra_dir:
                os.rmdir(self.p("tmpd"))
            else:
                os.mkdir(self.p("tmpd"))
            self.extra_dir = not self.extra_dir
        else:
            self.pending = ({f: self.files[f]}, "read")
            self.log("start read %s" % sorted(self.pending[0]))
            got = read_or_none(self.p(f))
            self.stats["reads_checked"] += 1
            if got != self.files[f]:
                self.fail("read of %s: %s bytes, model %d" % (
                    f, None if got is None else len(got), len(self.files[f])))
                return
        self.apply(self.pending[0])

    def apply(self, change):
        self.log("ok %s" % {k: None if v is None else (len(v), hash(v) & 0xffff)
                            for k, v in change.items()})
        for rel, v in change.items():
            if v is None:
                self.files.pop(rel, None)
            else:
                self.files[rel] = v

    def reconcile(self, change, kind):
        """An operation failed: what does the server have now?"""
        if not self.wait_usable():
            return
        if kind == "dir":
            self.extra_dir = os.path.isdir(self.p("tmpd"))
            return
        actual = {rel: read_or_none(self.p(rel)) for rel in change}
        before = {rel: self.files.get(rel) for rel in change}
        if kind in ("ns", "read") and actual != before and actual != change:
            self.fail("a failed %s is half done: %s" % (
                sorted(change), {k: None if v is None else len(v)
                                 for k, v in actual.items()}))
        for rel, v in actual.items():
            if v is None:
                self.files.pop(rel, None)
            else:
                self.files[rel] = v

    def keep_step(self, fd, keep):
        """The descriptor open all along: a pwrite, sometimes a pread."""
        off = self.rnd.randint(0, 60000)
        d = self.rnd.randbytes(self.rnd.choice([1, 700, 5000]))
        os.pwrite(fd, d, off)
        keep = keep + b"\0" * max(0, off - len(keep))
        keep = keep[:off] + d + keep[off + len(d):]
        if self.rnd.random() < 0.3:
            got = os.pread(fd, len(keep) + 10, 0)
            if got != keep:
                self.fail("read through the kept descriptor differs "
                          "(%d bytes, want %d)" % (len(got), len(keep)))
                keep = got
        return keep

    def run(self, deadline, q):
        signal.signal(signal.SIGALRM, on_alarm)
        try:
            os.mkdir(self.base)
            for s in SUBDIRS[1:]:
                os.mkdir(self.p(s))
            fd = os.open(self.p("keep"), os.O_RDWR | os.O_CREAT, 0o644)
        except OSError as e:
            q.put((self.i, self.stats, ["setup: %s" % e], None))
            return
        keep = b""
        while time.time() < deadline and len(self.fails) < 5:
            self.stats["ops"] += 1
            signal.alarm(HANG)
            try:
                if self.rnd.random() < 0.15:
                    try:
                        keep = self.keep_step(fd, keep)
                    except OSError as e:
                        self.fail("the kept descriptor failed: %s" % e)
                        continue
                    continue
                self.pending = ({}, "read")
                try:
                    self.op()
                except OSError as e:
                    self.stats["failed"] += 1
                    code = errno.errorcode.get(e.errno, str(e.errno))
                    self.stats[code] = self.stats.get(code, 0) + 1
                    self.reconcile(*self.pending)
            except Hang:
                self.fail("an operation hung for %ds" % HANG)
                break
            finally:
                signal.alarm(0)
        signal.alarm(HANG)
        try:
            os.close(fd)  # close waits for every acknowledgement
        except OSError as e:
            self.fail("close of the kept descriptor: %s" % e)
        except Hang:
            self.fail("close of the kept descriptor hung")
        signal.alarm(0)
        self.files["keep"] = keep
        q.put((self.i, self.stats, self.fails, self.files))


def worker_main(i, deadline, q):
    Worker(i).run(deadline, q)


def tree(root):
    out = {}
    for d, _dirs, files in os.walk(root):
        for f in files:
            p = os.path.join(d, f)
            with open(p, "rb") as fh:
                out[os.path.relpath(p, root)] = fh.read()
    return out


def main():
    fails = 0

    def check(ok, what):
        nonlocal fails
        print(("ok: " if ok else "FAIL: ") + what, flush=True)
        if not ok:
            fails += 1

    print("soak: seed %d, %d workers, %.0f s" % (SEED, WORKERS, SECONDS), flush=True)
    deadline = time.time() + SECONDS
    q = mp.Queue()
    procs = [mp.Process(target=worker_main, args=(i, deadline, q))
             for i in range(WORKERS)]
    for p in procs:
        p.start()
    rnd = random.Random(SEED)
    cuts = 0
    while time.time() < deadline - 1:
        time.sleep(rnd.uniform(CUT_MIN, CUT_MAX))
        if os.environ.get("CUTS", "1") != "0" and \
                time.time() < deadline - 1 and ctl("cut").startswith("ok"):
            cuts += 1
            if LOG:
                LOG_F.write("%.3f CUT\n" % time.time())
                LOG_F.flush()
    results = {}
    t_end = time.time() + 2 * HANG + 30
    while len(results) < WORKERS and time.time() < t_end:
        try:
            i, stats, wfails, files = q.get(timeout=5)
        except Exception:
            continue
        results[i] = (stats, wfails, files)
    for p in procs:
        p.join(timeout=5)
        if p.is_alive():
            p.kill()
    check(len(results) == WORKERS, "every worker finished (%d of %d)" % (len(results), WORKERS))
    total = {"ops": 0, "failed": 0, "reads_checked": 0}
    models = {}
    for i, (stats, wfails, files) in sorted(results.items()):
        for k, v in stats.items():
            total[k] = total.get(k, 0) + v
        for f in wfails:
            check(False, "worker %d: %s" % (i, f))
        models[i] = files
    print("soak: %d cuts, %s" % (cuts, total), flush=True)
    if os.environ.get("CUTS", "1") != "0":
        check(cuts >= max(1, int(SECONDS / 4)), "the link was cut %d times" % cuts)
    # every file of the model, byte for byte, on the server
    for i, files in sorted(models.items()):
        if files is None:
            continue
        srv = tree("%s/w%d" % (SRV, i))
        mnt = tree("%s/w%d" % (MNT, i))
        check(srv == files, "worker %d: the server's tree is the model (%d files)" % (i, len(files)))
        check(mnt == files, "worker %d: the mount shows the model" % i)
        if srv != files:
            for k in sorted(set(srv) | set(files)):
                a, b = srv.get(k), files.get(k)
                if a != b:
                    print("  %s: server %s model %s" % (
                        k, None if a is None else len(a), None if b is None else len(b)))
    with open(os.environ.get("SOAK_MODEL", "/dev/null"), "w") as f:
        # for the check after the unmount: names and sizes and a digest
        import hashlib
        for i, files in sorted(models.items()):
            for k, v in sorted((files or {}).items()):
                f.write("w%d/%s %s\n" % (i, k, hashlib.sha256(v).hexdigest()))
    sys.exit(1 if fails else 0)


if __name__ == "__main__":
    main()
