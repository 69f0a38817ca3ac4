#!/usr/bin/python3
"""hostile_server.py - a scripted SSH/SFTP server that misbehaves on purpose.

Used by tests/hostile/test_hostile (the library) and test_hostile_mount.sh
(the daemon); see tests/hostile/README.  Python 3 and the `cryptography`
package only: the server is written by hand, byte by byte, so that it can
break the protocol at exactly one chosen point.

    hostile_server.py --case NAME [--dir DIR] [--port N] [--conns N]
                      [--strict-kex] [--lifetime S] [--list]

It listens on 127.0.0.1:PORT (0, the default: a free port, printed on
standard output as "PORT N"), serves --conns connections one after the
other (default 1), and exits; it also exits at the end of its standard
input (so it never outlives the test that started it: give it a pipe, or
a terminal when running it by hand) and after --lifetime seconds.  With
--dir it writes there, last of all, as asyncssh_server.py does:

    DIR/host_ed25519.pub  the host key (generated per run), OpenSSH format
    DIR/known_hosts       "[127.0.0.1]:PORT ssh-ed25519 ..." for sftpmnt
    DIR/port              the port (written last, by rename)

What it speaks when it behaves (--case none):
  - RFC 4253: identification, binary packets, KEXINIT offering one
    algorithm of each kind: curve25519-sha256 (RFC 8731), ssh-ed25519,
    aes128-gcm@openssh.com (RFC 5647 as OpenSSH does it: the packet
    length in the clear as AAD, a 12-byte nonce whose last 8 bytes count
    packets), MAC hmac-sha2-256 (unused with an AEAD, but the lists must
    agree), no compression; keys per RFC 4253 7.2; a rekey started by
    either side.  Strict KEX (kex-strict-s-v00@openssh.com) is offered
    only with --strict-kex: then sequence numbers restart at NEWKEYS
    (they do not enter AES-GCM anyway).  Without it the client sees no
    marker and proceeds non-strict.
  - RFC 4252: ssh-userauth; "none" fails listing "password"; password
    tester/secret.
  - RFC 4254: any number of "session" channels; "subsystem sftp" is
    accepted, nothing else; flow control in both directions.
  - SFTP version 3 (draft-ietf-secsh-filexfer-02) over an in-memory tree:
    INIT, REALPATH, OPENDIR, READDIR, OPEN, READ, WRITE, CLOSE, STAT,
    LSTAT, FSTAT, READLINK, SETSTAT/FSETSTAT (accepted, ignored); VERSION
    announces statvfs@openssh.com, and every EXTENDED request (statvfs
    included) is answered STATUS OP_UNSUPPORTED, as is anything else.

The tree (TREE below):
    /hello.txt  /big.bin (256 KiB, byte i = i*7 % 251)  /empty.txt
    /link -> hello.txt   /sub/inner.txt
    /bad.txt  /badlink -> hello.txt  /baddir/{f1,f2}
SFTP faults hit requests about a name starting with "bad" (a path, or a
handle opened on one), so that a test can show the same channel still
serving good names afterwards.

--list prints every case with a line of description.
"""
import argparse
import hashlib
import os
import select
import socket
import struct
import sys
import time
import warnings

warnings.simplefilter('ignore')  # cryptography's deprecation warnings

from cryptography.hazmat.primitives import serialization  # noqa: E402
from cryptography.hazmat.primitives.asymmetric import ed25519  # noqa: E402
from cryptography.hazmat.primitives.asymmetric import x25519  # noqa: E402
from cryptography.hazmat.primitives.ciphers.aead import AESGCM  # noqa: E402

IDENT = b'SSH-2.0-HostileTest_1.0'
USER, PASSWORD = b'tester', b'secret'

# Every limit of this server, named once.
PACKET_MAX = 256 * 1024 + 64   # largest packet_length accepted from the client
IDLE_TIMEOUT = 60              # seconds without a byte from the client
SEND_TIMEOUT = 10              # seconds a blocked send may wait
FLOOD_CAP = 64 * 1024 * 1024   # an "endless" stream stops there at the latest
BIG_SIZE = 256 * 1024
HANDLE_LONG = 300              # sftp-handle-long's handle, in bytes
STATUS_HUGE = 1 << 20          # sftp-status-huge's message, in bytes
STALL_SECONDS = 8              # sftp-write-stall's silence
ESCAPE_DEPTH = 8               # symlink-escape's directories and climb
READDIR_BATCH = 100            # names per NAME reply (as OpenSSH)
HUGE_ENTRIES = 100000          # sftp-readdir-huge-names: names listed
HUGE_LONG = 1000               # ...the length of its longest names
NAME_MAX = 255                 # Linux's limit on one name, in bytes
OUR_WINDOW = 8 * 1024 * 1024   # what we grant per channel
OUR_MAXPACKET = 32768

# SSH message numbers (RFC 4250 4.1)
MSG_DISCONNECT, MSG_IGNORE, MSG_UNIMPLEMENTED, MSG_DEBUG = 1, 2, 3, 4
MSG_SERVICE_REQUEST, MSG_SERVICE_ACCEPT = 5, 6
MSG_KEXINIT, MSG_NEWKEYS = 20, 21
MSG_KEX_ECDH_INIT, MSG_KEX_ECDH_REPLY = 30, 31

SNTRUP_KEX = 'sntrup761x25519-sha512@openssh.com'
SNTRUP_PK, SNTRUP_CT = 1158, 1039  # public key, ciphertext
MSG_USERAUTH_REQUEST, MSG_USERAUTH_FAILURE = 50, 51
MSG_USERAUTH_SUCCESS, MSG_USERAUTH_BANNER = 52, 53
MSG_GLOBAL_REQUEST, MSG_REQUEST_FAILURE = 80, 82
MSG_CHANNEL_OPEN, MSG_CHANNEL_OPEN_CONFIRMATION = 90, 91
MSG_CHANNEL_OPEN_FAILURE, MSG_CHANNEL_WINDOW_ADJUST = 92, 93
MSG_CHANNEL_DATA, MSG_CHANNEL_EXTENDED_DATA = 94, 95
MSG_CHANNEL_EOF, MSG_CHANNEL_CLOSE, MSG_CHANNEL_REQUEST = 96, 97, 98
MSG_CHANNEL_SUCCESS, MSG_CHANNEL_FAILURE = 99, 100

# SFTP (filexfer-02)
FXP_INIT, FXP_VERSION, FXP_OPEN, FXP_CLOSE, FXP_READ, FXP_WRITE = 1, 2, 3, 4, 5, 6
FXP_LSTAT, FXP_FSTAT, FXP_SETSTAT, FXP_FSETSTAT = 7, 8, 9, 10
FXP_OPENDIR, FXP_READDIR, FXP_REALPATH, FXP_STAT = 11, 12, 16, 17
FXP_READLINK, FXP_EXTENDED = 19, 200
FXP_STATUS, FXP_HANDLE, FXP_DATA, FXP_NAME, FXP_ATTRS = 101, 102, 103, 104, 105
FX_OK, FX_EOF, FX_NO_SUCH_FILE, FX_PERMISSION_DENIED, FX_FAILURE = 0, 1, 2, 3, 4
FX_OP_UNSUPPORTED = 8
FXF_READ, FXF_WRITE, FXF_APPEND, FXF_CREAT, FXF_TRUNC = 1, 2, 4, 8, 16
ATTR_SIZE, ATTR_UIDGID, ATTR_PERM, ATTR_TIME = 1, 2, 4, 8
ATTR_EXTENDED = 0x80000000
S_IFDIR, S_IFREG, S_IFLNK = 0o040000, 0o100000, 0o120000

MTIME = 1700000000

CASES = {
    'none': 'behave: the good path every bad case differs from',
    # transport
    'banner-long': 'an identification line of 1000 characters',
    'banner-endless': 'an identification line that never ends',
    'banner-prelines': 'endless lines before any identification',
    'pkt-len-zero': 'first packet with packet_length 0',
    'pkt-len-max': 'first packet with packet_length 2^32-1',
    'pkt-pad-too-big': 'padding_length larger than packet_length allows',
    'pkt-truncated': 'half a packet, then the connection closes',
    'bad-mac': 'the first packet under the new keys has a broken tag',
    'kexinit-lists-overflow': 'a KEXINIT name-list longer than the packet',
    'kexreply-hostkey-overflow': 'ECDH_REPLY: host key length past the end',
    'kexreply-qs-empty': 'ECDH_REPLY: ephemeral key of length 0',
    'kexreply-qs-huge': 'ECDH_REPLY: ephemeral key length 2^32-1',
    'kexreply-bad-sig': 'ECDH_REPLY: the signature does not verify',
    # offering only sntrup761x25519-sha512@openssh.com (we have no
    # sntrup761 here: these cases need none)
    'sntrup-qs-short': 'sntrup761x25519 ECDH_REPLY: Q_S one byte short',
    'sntrup-qs-long': 'sntrup761x25519 ECDH_REPLY: Q_S one byte long',
    'sntrup-x25519-zero': 'sntrup761x25519 ECDH_REPLY: the X25519 half is '
                          'the point 0 (the shared secret is all zero)',
    'sntrup-ct-garbage': 'sntrup761x25519 ECDH_REPLY: a random ciphertext '
                         '(the client derives some other K; the signature '
                         'is over ours)',
    'rekey-good': 'a key exchange started by the server after auth',
    'rekey-weak': 'a KEXINIT after auth offering only weak algorithms',
    # auth
    'auth-failure-overflow': 'USERAUTH_FAILURE name-list length past the end',
    'auth-banner-huge': 'USERAUTH_BANNER with a string length 2^32-1',
    'auth-unknown-msg': 'message 199 (unassigned) before the auth reply',
    'auth-wrong-range': 'message 70 (userauth range, unassigned) as the '
                        'answer to the password',
    # channel
    'chan-confirm-wrong-id': 'CHANNEL_OPEN_CONFIRMATION for another channel',
    'chan-window-max': 'initial window 2^32-1, then a WINDOW_ADJUST that '
                       'overflows 2^32',
    'chan-maxpacket-zero': 'maximum packet size 0',
    'chan-data-over-window': 'one CHANNEL_DATA larger than our window',
    'chan-data-unknown': 'CHANNEL_DATA for a channel never opened',
    'chan-data-endless': 'CHANNEL_DATA nobody asked for, forever (within '
                         'the window)',
    'chan-extdata-huge': 'CHANNEL_EXTENDED_DATA with a length 2^32-1',
    # sftp
    'sftp-version-6': 'VERSION 6 (the client offered 3)',
    'sftp-version-0': 'VERSION 0',
    'sftp-unknown-id': 'a reply for a request id never used',
    'sftp-dup-id': 'two replies for one request',
    'sftp-wrong-type-stat': 'HANDLE as the answer to a STAT/LSTAT',
    'sftp-wrong-type-read': 'ATTRS as the answer to a READ',
    'sftp-status-overflow': 'STATUS whose message length is past the end',
    'sftp-attrs-ext-count': 'ATTRS with an extended count of 2^32-1',
    'sftp-name-count': 'NAME with a count larger than the packet holds',
    'sftp-readdir-endless': 'READDIR of /baddir never ends: every reply '
                            'a batch of %d names never given before '
                            '(DIR/readdirs counts the READDIRs)'
                            % READDIR_BATCH,
    'sftp-readdir-huge-names': 'READDIR of /baddir: %d names, of %d bytes '
                               'but every tenth of 256 and every tenth '
                               'of %d (past NAME_MAX)'
                               % (HUGE_ENTRIES, NAME_MAX, HUGE_LONG),
    'sftp-readdir-names': 'READDIR names "..", ".", "a/b", control '
                          'characters, "", "/", "../up", ".." and "." '
                          'again, then a batch with "x\\0y"',
    'sftp-readlink-64k': 'READLINK with a 64 KiB target',
    'sftp-read-too-much': 'DATA with more bytes than the READ asked for',
    'sftp-read-data-overflow': 'DATA whose length is past the end',
    'sftp-len-zero': 'an SFTP packet of length 0',
    'sftp-len-max': 'an SFTP packet of length 2^32-1',
    'sftp-handle-long': 'HANDLE of 300 bytes (filexfer-02 7: at most 256) '
                        'for an OPEN or OPENDIR',
    'sftp-status-huge': 'STATUS with a 1 MiB message (past any SFTP '
                        'packet a client takes)',
    'sftp-write-stall': 'at the first WRITE: neither reads nor sends for '
                        '%d s, then drops the connection (once per '
                        'server)' % STALL_SECONDS,
    'symlink-escape': 'under /baddir/d1/../d8: "up" -> eight "..", '
                      '"esc" -> "up/" + eight ".." + "etc/hostname": '
                      'lexically inside /baddir, resolved by the client\'s '
                      'kernel from "up" (a symlink) eight levels above the '
                      'mount',
    'sftp-split': 'every SFTP reply cut into many small CHANNEL_DATA '
                  'messages (good behaviour)',
    'sftp-read-short': 'every DATA holds at most a third of what the READ '
                       'asked for (good behaviour, filexfer-02 6.4)',
}


class Gone(Exception):
    """The client closed the connection (or we give up on it)."""


def log(*a):
    print('hostile:', *a, file=sys.stderr, flush=True)


# ---- encodings (RFC 4251 5) ---------------------------------------------

def u8(v):
    return struct.pack('>B', v)


def u32(v):
    return struct.pack('>I', v & 0xffffffff)


def u64(v):
    return struct.pack('>Q', v)


def sstr(b):
    if isinstance(b, str):
        b = b.encode()
    return u32(len(b)) + b


def mpint(n):
    if n == 0:
        return u32(0)
    b = n.to_bytes((n.bit_length() + 8) // 8, 'big')  # room for a sign bit
    if len(b) > 1 and b[0] == 0 and not b[1] & 0x80:
        b = b[1:]
    return sstr(b)


class Reader:
    """Bounds-checked reader of a client message; errors raise Gone."""

    def __init__(self, b):
        self.b, self.off = b, 0

    def left(self):
        return len(self.b) - self.off

    def take(self, n):
        if n > self.left():
            raise Gone('client message too short')
        v = self.b[self.off:self.off + n]
        self.off += n
        return v

    def u8(self):
        return self.take(1)[0]

    def u32(self):
        return struct.unpack('>I', self.take(4))[0]

    def u64(self):
        return struct.unpack('>Q', self.take(8))[0]

    def str(self):
        return self.take(self.u32())


# ---- the in-memory tree ---------------------------------------------------

class Node:
    def __init__(self, kind, data=b'', mode=None):
        self.kind = kind  # 'dir', 'file', 'link'
        self.data = data  # file contents or link target
        self.children = {}
        default = {'dir': S_IFDIR | 0o755, 'file': S_IFREG | 0o644,
                   'link': S_IFLNK | 0o777}[kind]
        self.mode = mode if mode is not None else default

    def size(self):
        return 4096 if self.kind == 'dir' else len(self.data)


def make_tree(case):
    root = Node('dir')

    def add(path, node):
        d = root
        parts = path.strip(b'/').split(b'/')
        for p in parts[:-1]:
            d = d.children[p]
        d.children[parts[-1]] = node

    add(b'/hello.txt', Node('file', b'hello, hostile world\n'))
    add(b'/big.bin', Node('file', bytes(i * 7 % 251 for i in range(BIG_SIZE))))
    add(b'/empty.txt', Node('file'))
    add(b'/link', Node('link', b'hello.txt'))
    add(b'/sub', Node('dir'))
    add(b'/sub/inner.txt', Node('file', b'inner\n'))
    add(b'/bad.txt', Node('file', b'bad but true\n'))
    add(b'/badlink', Node('link', b'hello.txt'))
    add(b'/baddir', Node('dir'))
    add(b'/baddir/f1', Node('file', b'one\n'))
    add(b'/baddir/f2', Node('file', b'two\n'))
    if case == 'sftp-readdir-names':
        # the names with control characters exist: a lookup finds them
        add(b'/baddir/nl\nname', Node('file', b'newline\n'))
        add(b'/baddir/esc\x1bname', Node('file', b'escape\n'))
    if case == 'symlink-escape':
        deep = b''
        for i in range(1, ESCAPE_DEPTH + 1):
            deep += b'/d%d' % i
            add(b'/baddir' + deep, Node('dir'))
        ups = b'/'.join([b'..'] * ESCAPE_DEPTH)
        add(b'/baddir' + deep + b'/up', Node('link', ups))
        add(b'/baddir' + deep + b'/esc',
            Node('link', b'up/' + ups + b'/etc/hostname'))
    return root


def huge_name(i):
    """sftp-readdir-huge-names' name i: NAME_MAX bytes, but every tenth
    one byte past it and every tenth HUGE_LONG bytes."""
    n = {3: NAME_MAX + 1, 7: HUGE_LONG}.get(i % 10, NAME_MAX)
    head = b'h%06d' % i
    return head + b'n' * (n - len(head))


def huge_listed(name):
    """Whether name is one of the huge listing's (any length)."""
    try:
        i = int(name[1:7])
    except ValueError:
        return False
    return 0 <= i < HUGE_ENTRIES and name == huge_name(i)


def normalize(path, cwd=b'/'):
    if not path.startswith(b'/'):
        path = cwd.rstrip(b'/') + b'/' + path
    out = []
    for p in path.split(b'/'):
        if p in (b'', b'.'):
            continue
        if p == b'..':
            if out:
                out.pop()
            continue
        out.append(p)
    return b'/' + b'/'.join(out)


def is_bad(path):
    return os.path.basename(path.rstrip(b'/')).startswith(b'bad')


# ---- one connection -------------------------------------------------------

class Conn:
    def __init__(self, sock, args, hostkey):
        self.sock = sock
        self.case = args.case
        self.strict_offer = args.strict_kex
        self.deadline = args.deadline
        self.dir = args.dir
        self.hostkey = hostkey
        self.hk_pub = hostkey.public_key().public_bytes(
            serialization.Encoding.Raw, serialization.PublicFormat.Raw)
        self.k_s = sstr('ssh-ed25519') + sstr(self.hk_pub)
        self.inbuf = b''
        self.rx = self.tx = None  # (AESGCM, iv) once keyed
        self.rx_seq = self.tx_seq = 0
        self.session_id = None
        self.v_c = None
        self.strict = False
        self.kex_rounds = 0
        self.channels = {}   # our id -> Chan
        self.next_chan = 7   # our ids start there: never equal to the client's
        self.authed = False
        self.tree = make_tree(self.case)
        self.fired = set()   # one-shot faults already done
        self.flooding = None
        self.endless_next = 0  # sftp-readdir-endless: the next name's number
        self.deferred = []   # packets that arrived during our rekey

    # -- raw I/O ----------------------------------------------------------

    def check_stdin(self):
        if watch_stdin:
            r, _, _ = select.select([0], [], [], 0)
            if r and not os.read(0, 4096):
                log('stdin closed: exiting')
                sys.exit(0)
        if time.monotonic() > self.deadline:
            log('lifetime over: exiting')
            sys.exit(0)

    def wait_readable(self):
        idle = time.monotonic() + IDLE_TIMEOUT
        while True:
            self.check_stdin()
            wl = [self.sock] if self.flood_ready() else []
            rl = [self.sock] + ([0] if watch_stdin else [])
            r, w, _ = select.select(rl, wl, [], 0.5)
            if self.sock in w:
                self.flood_step()
                idle = time.monotonic() + IDLE_TIMEOUT
            if self.sock in r:
                return
            if time.monotonic() > idle:
                raise Gone('client idle')

    def need(self, n):
        while len(self.inbuf) < n:
            self.wait_readable()
            try:
                d = self.sock.recv(1 << 20)
            except OSError as e:
                raise Gone('recv: %s' % e)
            if not d:
                raise Gone('client closed')
            self.inbuf += d
        v, self.inbuf = self.inbuf[:n], self.inbuf[n:]
        return v

    def send_raw(self, b):
        try:
            self.sock.sendall(b)
        except OSError as e:
            raise Gone('send: %s' % e)

    def read_line(self):
        line = b''
        while not line.endswith(b'\n'):
            line += self.need(1)
            if len(line) > 1024:
                raise Gone('client identification too long')
        return line.rstrip(b'\r\n')

    # -- binary packets (RFC 4253 6) -------------------------------------

    def seal(self, payload, pad_override=None):
        """The packet for payload under the current outbound keys."""
        bs = 16 if self.tx else 8
        body_len = 1 + len(payload) + (0 if self.tx else 4)
        pad = bs - body_len % bs
        if pad < 4:
            pad += bs
        plen = 1 + len(payload) + pad
        body = u8(pad if pad_override is None else pad_override) + \
            payload + os.urandom(pad)
        head = u32(plen)
        self.tx_seq = (self.tx_seq + 1) & 0xffffffff
        if not self.tx:
            return head + body
        aes, iv = self.tx
        out = head + aes.encrypt(iv, body, head)
        self.tx = (aes, iv_next(iv))
        return out

    def send(self, payload):
        self.send_raw(self.seal(payload))

    def recv(self):
        """The next client packet's payload (IGNORE/DEBUG dropped)."""
        while True:
            head = self.need(4)
            plen = struct.unpack('>I', head)[0]
            if plen < 5 or plen > PACKET_MAX:
                raise Gone('client packet length %d' % plen)
            if self.rx:
                aes, iv = self.rx
                ct = self.need(plen + 16)
                try:
                    body = aes.decrypt(iv, ct, head)
                except Exception:
                    raise Gone('client packet tag does not verify')
                self.rx = (aes, iv_next(iv))
            else:
                body = self.need(plen)
            self.rx_seq = (self.rx_seq + 1) & 0xffffffff
            pad = body[0]
            payload = body[1:plen - pad]
            if not payload:
                raise Gone('empty client payload')
            if payload[0] in (MSG_IGNORE, MSG_DEBUG, MSG_UNIMPLEMENTED):
                continue
            if payload[0] == MSG_DISCONNECT:
                raise Gone('client disconnected')
            return payload

    # -- key exchange ------------------------------------------------------

    def kexinit(self, weak=False):
        kex = 'curve25519-sha256'
        if self.case.startswith('sntrup-'):
            kex = SNTRUP_KEX
        if self.strict_offer and self.kex_rounds == 0:
            kex += ',kex-strict-s-v00@openssh.com'
        lists = [kex, 'ssh-ed25519', 'aes128-gcm@openssh.com',
                 'aes128-gcm@openssh.com', 'hmac-sha2-256', 'hmac-sha2-256',
                 'none', 'none', '', '']
        if weak:
            lists = ['diffie-hellman-group1-sha1', 'ssh-rsa,ssh-dss',
                     '3des-cbc', '3des-cbc', 'hmac-sha1', 'hmac-sha1',
                     'none', 'none', '', '']
        p = u8(MSG_KEXINIT) + os.urandom(16)
        for i, l in enumerate(lists):
            if self.case == 'kexinit-lists-overflow' and i == 3:
                # a length that runs past the end of the packet
                return p + u32(5000) + b'aes128-gcm@openssh.com'
            p += sstr(l)
        return p + u8(0) + u32(0)

    def kex(self, i_c=None, weak=False):
        """One key exchange; i_c is the client's KEXINIT if already read."""
        i_s = self.kexinit(weak)
        self.send(i_s)
        if weak:
            # the client must refuse; wait until it goes away
            while True:
                self.recv()
        if self.case == 'kexinit-lists-overflow':
            while True:
                self.recv()
        while i_c is None:
            # what the client sent before it saw our KEXINIT waits
            p = self.recv()
            if p[0] == MSG_KEXINIT:
                i_c = p
            elif MSG_KEXINIT < p[0] <= 49:
                raise Gone('expected KEXINIT, got %d' % p[0])
            else:
                self.deferred.append(p)
        r = Reader(i_c)
        r.take(17)
        kexes = r.str().split(b',')
        if self.kex_rounds == 0 and self.strict_offer and \
                b'kex-strict-c-v00@openssh.com' in kexes:
            self.strict = True
        init = self.recv()
        if init[0] != MSG_KEX_ECDH_INIT:
            raise Gone('expected ECDH_INIT, got %d' % init[0])
        q_c = Reader(init[1:]).str()
        if self.case.startswith('sntrup-'):
            return self.sntrup_reply(i_c, i_s, q_c)
        eph = x25519.X25519PrivateKey.generate()
        q_s = eph.public_key().public_bytes(
            serialization.Encoding.Raw, serialization.PublicFormat.Raw)
        shared = eph.exchange(x25519.X25519PublicKey.from_public_bytes(q_c))
        k = mpint(int.from_bytes(shared, 'big'))
        h = hashlib.sha256(sstr(self.v_c) + sstr(IDENT) + sstr(i_c) +
                           sstr(i_s) + sstr(self.k_s) + sstr(q_c) +
                           sstr(q_s) + k).digest()
        if self.session_id is None:
            self.session_id = h
        sig = self.hostkey.sign(h)
        if self.case == 'kexreply-bad-sig':
            sig = bytes([sig[0] ^ 1]) + sig[1:]
        blob = sstr('ssh-ed25519') + sstr(sig)
        if self.case == 'kexreply-hostkey-overflow':
            reply = u8(MSG_KEX_ECDH_REPLY) + u32(len(self.k_s) + 4000) + \
                self.k_s + sstr(q_s) + sstr(blob)
        elif self.case == 'kexreply-qs-empty':
            reply = u8(MSG_KEX_ECDH_REPLY) + sstr(self.k_s) + u32(0) + \
                sstr(blob)
        elif self.case == 'kexreply-qs-huge':
            reply = u8(MSG_KEX_ECDH_REPLY) + sstr(self.k_s) + \
                u32(0xffffffff) + q_s + sstr(blob)
        else:
            reply = u8(MSG_KEX_ECDH_REPLY) + sstr(self.k_s) + sstr(q_s) + \
                sstr(blob)
        self.send(reply)
        self.send(u8(MSG_NEWKEYS))
        if self.strict:
            self.tx_seq = 0

        def derive(letter, n):
            out = hashlib.sha256(k + h + letter + self.session_id).digest()
            while len(out) < n:
                out += hashlib.sha256(k + h + out).digest()
            return out[:n]

        self.tx = (AESGCM(derive(b'D', 16)), derive(b'B', 12))
        nk = self.recv()
        if nk != u8(MSG_NEWKEYS):
            raise Gone('expected NEWKEYS, got %d' % nk[0])
        if self.strict:
            self.rx_seq = 0
        self.rx = (AESGCM(derive(b'C', 16)), derive(b'A', 12))
        self.kex_rounds += 1

    def sntrup_reply(self, i_c, i_s, q_c):
        """A faulty sntrup761x25519 ECDH_REPLY, then wait for the client
        to go away.  Q_C must be the 1158-byte sntrup761 public key and
        the 32-byte X25519 key (OpenSSH PROTOCOL)."""
        if len(q_c) != SNTRUP_PK + 32:
            raise Gone('sntrup761x25519 Q_C of %d bytes' % len(q_c))
        ct = os.urandom(SNTRUP_CT)
        x_pub = x25519.X25519PrivateKey.generate().public_key().public_bytes(
            serialization.Encoding.Raw, serialization.PublicFormat.Raw)
        q_s = ct + x_pub
        if self.case == 'sntrup-qs-short':
            q_s = q_s[:-1]
        elif self.case == 'sntrup-qs-long':
            q_s += b'\0'
        elif self.case == 'sntrup-x25519-zero':
            q_s = ct + bytes(32)
        # H with a K of our own choosing: the client's differs
        k = sstr(os.urandom(64))
        h = hashlib.sha512(sstr(self.v_c) + sstr(IDENT) + sstr(i_c) +
                           sstr(i_s) + sstr(self.k_s) + sstr(q_c) +
                           sstr(q_s) + k).digest()
        blob = sstr('ssh-ed25519') + sstr(self.hostkey.sign(h))
        self.send(u8(MSG_KEX_ECDH_REPLY) + sstr(self.k_s) + sstr(q_s) +
                  sstr(blob))
        while True:
            self.recv()

    # -- the connection ----------------------------------------------------

    def run(self):
        c = self.case
        if c == 'banner-long':
            self.send_raw(b'SSH-2.0-' + b'L' * 1000 + b'\r\n')
            return self.drain()
        if c == 'banner-endless':
            return self.endless(b'SSH-2.0-endless', b'x' * 4096)
        if c == 'banner-prelines':
            return self.endless(b'', b'not an identification yet\r\n' * 64)
        self.send_raw(IDENT + b'\r\n')
        self.v_c = self.read_line()
        if c == 'pkt-len-zero':
            self.send_raw(u32(0) + b'\x04' + b'\0' * 11)
            return self.drain()
        if c == 'pkt-len-max':
            self.send_raw(u32(0xffffffff) + b'\x04' + b'\0' * 11)
            return self.drain()
        if c == 'pkt-pad-too-big':
            self.send_raw(self.seal(self.kexinit(), pad_override=250))
            return self.drain()
        if c == 'pkt-truncated':
            pkt = self.seal(self.kexinit())
            self.send_raw(pkt[:len(pkt) // 2])
            time.sleep(0.2)
            return
        self.kex()
        if c == 'bad-mac':
            self.fired.add('armed')
        self.serve()

    def endless(self, first, chunk):
        """Send first, then chunk forever (up to FLOOD_CAP) while the
        client still reads."""
        self.send_raw(first)
        sent = 0
        self.sock.setblocking(False)
        while sent < FLOOD_CAP:
            self.check_stdin()
            _, w, _ = select.select([], [self.sock], [], 5)
            if not w:
                log('endless: the client stopped reading after %d' % sent)
                return
            try:
                sent += self.sock.send(chunk)
            except BlockingIOError:
                continue
            except OSError as e:
                log('endless: %s after %d bytes' % (e, sent))
                return

    def drain(self):
        """Read until the client goes away."""
        while True:
            self.need(len(self.inbuf) + 1)
            self.inbuf = b''

    def serve(self):
        while True:
            p = self.deferred.pop(0) if self.deferred else self.recv()
            t = p[0]
            if t == MSG_KEXINIT:
                self.kex(i_c=p)
            elif t == MSG_SERVICE_REQUEST:
                self.on_service(p)
            elif t == MSG_USERAUTH_REQUEST:
                self.on_userauth(p)
            elif t == MSG_GLOBAL_REQUEST:
                r = Reader(p[1:])
                r.str()
                if r.u8():
                    self.send(u8(MSG_REQUEST_FAILURE))
            elif t == MSG_CHANNEL_OPEN:
                self.on_channel_open(p)
            elif MSG_CHANNEL_WINDOW_ADJUST <= t <= MSG_CHANNEL_FAILURE:
                self.on_channel_msg(p)
            else:
                self.send(u8(MSG_UNIMPLEMENTED) + u32(self.rx_seq - 1))

    def send_first_encrypted(self, payload):
        """The first packet after NEWKEYS (bad-mac breaks its tag)."""
        pkt = self.seal(payload)
        if 'armed' in self.fired:
            self.fired.discard('armed')
            pkt = pkt[:-1] + bytes([pkt[-1] ^ 0x80])
        self.send_raw(pkt)

    def on_service(self, p):
        name = Reader(p[1:]).str()
        if name != b'ssh-userauth':
            raise Gone('service %r' % name)
        self.send_first_encrypted(u8(MSG_SERVICE_ACCEPT) + sstr(name))

    def on_userauth(self, p):
        r = Reader(p[1:])
        user = r.str()
        r.str()  # the service: ssh-connection
        method = r.str()
        c = self.case
        if c == 'auth-banner-huge':
            self.send(u8(MSG_USERAUTH_BANNER) + u32(0xffffffff) + b'hello' +
                      sstr(''))
        if c == 'auth-unknown-msg':
            self.send(u8(199) + b'what is this')
        if method == b'password':
            r.u8()
            pw = r.str()
            if c == 'auth-wrong-range':
                self.send(u8(70) + b'no such message')
                return
            if user == USER and pw == PASSWORD:
                self.authed = True
                self.send(u8(MSG_USERAUTH_SUCCESS))
                return
        if c == 'auth-failure-overflow':
            self.send(u8(MSG_USERAUTH_FAILURE) + u32(900) + b'password' +
                      u8(0))
            return
        self.send(u8(MSG_USERAUTH_FAILURE) + sstr('password') + u8(0))

    # -- channels (RFC 4254 5) --------------------------------------------

    def on_channel_open(self, p):
        r = Reader(p[1:])
        ctype, sender, window, maxpkt = r.str(), r.u32(), r.u32(), r.u32()
        if not self.authed or ctype != b'session':
            self.send(u8(MSG_CHANNEL_OPEN_FAILURE) + u32(sender) + u32(1) +
                      sstr('not here') + sstr(''))
            return
        ch = Chan(self, self.next_chan, sender, window, maxpkt)
        self.channels[self.next_chan] = ch
        self.next_chan += 1
        recipient = sender
        if self.case == 'chan-confirm-wrong-id':
            recipient = sender + 1000
        if self.case == 'chan-window-max':
            ch.our_window = 0xffffffff
        if self.case == 'chan-maxpacket-zero':
            ch.our_max = 0
        self.send(u8(MSG_CHANNEL_OPEN_CONFIRMATION) + u32(recipient) +
                  u32(ch.ours) + u32(ch.our_window) + u32(ch.our_max))

    def on_channel_msg(self, p):
        r = Reader(p[1:])
        ch = self.channels.get(r.u32())
        if ch is None:
            raise Gone('message %d for an unknown channel' % p[0])
        t = p[0]
        if t == MSG_CHANNEL_WINDOW_ADJUST:
            ch.window = min(ch.window + r.u32(), 0xffffffff)
            ch.push()
        elif t == MSG_CHANNEL_DATA:
            ch.on_data(r.str())
        elif t == MSG_CHANNEL_EOF:
            pass
        elif t == MSG_CHANNEL_CLOSE:
            if not ch.closed:
                self.send(u8(MSG_CHANNEL_CLOSE) + u32(ch.theirs))
            del self.channels[ch.ours]
            if self.flooding is ch:
                self.flooding = None
        elif t == MSG_CHANNEL_REQUEST:
            self.on_channel_request(ch, r)

    def on_channel_request(self, ch, r):
        name, want = r.str(), r.u8()
        ok = name == b'subsystem' and r.str() == b'sftp'
        if want:
            self.send(u8(MSG_CHANNEL_SUCCESS if ok else MSG_CHANNEL_FAILURE) +
                      u32(ch.theirs))
        if not ok:
            return
        c = self.case
        if c == 'chan-window-max':
            # 2^32-1 already granted: this one overflows 2^32 (a client
            # that wraps is left with a window of 255 bytes and stalls)
            self.send(u8(MSG_CHANNEL_WINDOW_ADJUST) + u32(ch.theirs) +
                      u32(0x100))
        elif c == 'chan-data-over-window':
            self.send(u8(MSG_CHANNEL_DATA) + u32(ch.theirs) +
                      sstr(b'O' * (ch.window + 1)))
        elif c == 'chan-data-unknown':
            self.send(u8(MSG_CHANNEL_DATA) + u32(ch.theirs + 777) +
                      sstr(b'nobody'))
        elif c == 'chan-data-endless':
            self.flooding = ch
        elif c == 'chan-extdata-huge':
            self.send(u8(MSG_CHANNEL_EXTENDED_DATA) + u32(ch.theirs) + u32(1) +
                      u32(0xffffffff) + b'stderr bytes')

    def flood_ready(self):
        ch = self.flooding
        return ch is not None and ch.window > 0 and ch.flooded < FLOOD_CAP

    def flood_step(self):
        ch = self.flooding
        n = min(ch.window, ch.maxpkt, 16384)
        ch.window -= n
        ch.flooded += n
        self.send(u8(MSG_CHANNEL_DATA) + u32(ch.theirs) +
                  sstr(b'E' * n))


def iv_next(iv):
    # RFC 5647 7.1: the invocation counter is the last 8 bytes
    ctr = (int.from_bytes(iv[4:], 'big') + 1) & 0xffffffffffffffff
    return iv[:4] + ctr.to_bytes(8, 'big')


class Chan:
    def __init__(self, conn, ours, theirs, window, maxpkt):
        self.conn, self.ours, self.theirs = conn, ours, theirs
        self.window, self.maxpkt = window, maxpkt
        # what we granted: the client must keep within both (with a
        # maximum packet of 0 it may use the 1 KiB floor RFC 4254 lacks)
        self.our_window, self.our_max = OUR_WINDOW, OUR_MAXPACKET
        self.consumed = 0
        self.closed = False
        self.flooded = 0
        self.pieces = []  # bytes for the client, waiting for window
        self.splits = 0
        self.sftp = Sftp(self)

    def on_data(self, d):
        if len(d) > max(self.our_max, 1024):
            raise Gone('client data of %d bytes, maximum packet %d' %
                       (len(d), self.our_max))
        if len(d) > self.our_window:
            raise Gone('client data beyond our window')
        self.our_window -= len(d)
        self.consumed += len(d)
        if self.consumed >= OUR_WINDOW // 2:
            self.conn.send(u8(MSG_CHANNEL_WINDOW_ADJUST) + u32(self.theirs) +
                           u32(self.consumed))
            self.our_window += self.consumed
            self.consumed = 0
        self.sftp.feed(d)

    def write(self, b, split=False):
        """Queue b for the client; sent as the window allows."""
        if split:
            # cut into small pieces: 1..13 bytes while short, then 997
            i = 0
            while i < len(b):
                step = 1 + self.splits % 13 if i < 4096 else 997
                self.splits += 1
                self.pieces.append(b[i:i + step])
                i += step
        else:
            self.pieces.append(b)
        self.push()

    def push(self):
        pieces = self.pieces
        while pieces and self.window > 0:
            piece = pieces[0]
            n = min(len(piece), self.window, max(self.maxpkt - 64, 1))
            self.conn.send(u8(MSG_CHANNEL_DATA) + u32(self.theirs) +
                           sstr(piece[:n]))
            self.window -= n
            if n == len(piece):
                pieces.pop(0)
            else:
                pieces[0] = piece[n:]


# ---- SFTP (filexfer-02) ---------------------------------------------------

def attrs(node, case=None):
    if case == 'sftp-attrs-ext-count':
        # flags say extended pairs follow; the count is absurd
        return u32(ATTR_SIZE | ATTR_EXTENDED) + u64(node.size()) + \
            u32(0xffffffff) + sstr('x@y') + sstr('z')
    return u32(ATTR_SIZE | ATTR_UIDGID | ATTR_PERM | ATTR_TIME) + \
        u64(node.size()) + u32(1000) + u32(1000) + u32(node.mode) + \
        u32(MTIME) + u32(MTIME)


def longname(name, node):
    kind = {'dir': 'd', 'file': '-', 'link': 'l'}[node.kind]
    perm = ''
    for i in range(8, -1, -1):
        perm += 'rwx'[(8 - i) % 3] if node.mode >> i & 1 else '-'
    return ('%s%s    1 tester   tester   %8d Nov 14 22:13 ' %
            (kind, perm, node.size())).encode() + name


class Sftp:
    def __init__(self, chan):
        self.chan = chan
        self.conn = chan.conn
        self.buf = b''
        self.handles = {}
        self.next_handle = 1

    def case(self):
        return self.conn.case

    def feed(self, d):
        self.buf += d
        while len(self.buf) >= 4:
            n = struct.unpack('>I', self.buf[:4])[0]
            if n < 5 or n > 300 * 1024:
                raise Gone('client SFTP packet length %d' % n)
            if len(self.buf) < 4 + n:
                return
            body, self.buf = self.buf[4:4 + n], self.buf[4 + n:]
            self.handle(body)

    def reply(self, body, raw_len=None):
        n = len(body) if raw_len is None else raw_len
        self.chan.write(u32(n) + body, split=self.case() == 'sftp-split')

    def status(self, rid, code, msg=''):
        self.reply(u8(FXP_STATUS) + u32(rid) + u32(code) + sstr(msg) +
                   sstr('en'))

    def lookup(self, path, follow=True, depth=0):
        """The node at an absolute normalized path, or None."""
        node = self.conn.tree
        parts = [p for p in path.split(b'/') if p]
        for i, p in enumerate(parts):
            if node.kind == 'dir' and p not in node.children and \
                    i == len(parts) - 1 and self.listed_only(parts, p):
                return self.conn.tree.children[b'hello.txt']
            if node.kind != 'dir' or p not in node.children:
                return None
            node = node.children[p]
            last = i == len(parts) - 1
            if node.kind == 'link' and (follow or not last):
                if depth > 8:
                    return None
                parent = b'/' + b'/'.join(parts[:i])
                node = self.lookup(normalize(node.data, parent), True,
                                   depth + 1)
                if node is None:
                    return None
        return node

    def listed_only(self, parts, name):
        """Whether name, in the directory parts[:-1], is one of the names
        the endless or the huge listing makes up (a file, hello.txt's
        twin)."""
        if parts[:-1] != [b'baddir']:
            return False
        if self.case() == 'sftp-readdir-huge-names':
            return huge_listed(name)
        return self.case() == 'sftp-readdir-endless' and \
            name.startswith(b'e') and name[1:].isdigit()

    def handle(self, body):
        r = Reader(body)
        t = r.u8()
        if t == FXP_INIT:
            return self.on_init(r)
        rid = r.u32()
        fn = {FXP_REALPATH: self.on_realpath, FXP_STAT: self.on_stat,
              FXP_LSTAT: self.on_stat, FXP_FSTAT: self.on_fstat,
              FXP_OPEN: self.on_open, FXP_OPENDIR: self.on_opendir,
              FXP_READ: self.on_read, FXP_WRITE: self.on_write,
              FXP_READDIR: self.on_readdir, FXP_CLOSE: self.on_close,
              FXP_READLINK: self.on_readlink, FXP_SETSTAT: self.on_setstat,
              FXP_FSETSTAT: self.on_setstat}.get(t)
        if fn is None:
            return self.status(rid, FX_OP_UNSUPPORTED, 'not supported here')
        c = self.case()
        if c == 'rekey-weak' and 'rekey' not in self.conn.fired:
            self.conn.fired.add('rekey')
            self.conn.kex(weak=True)
        if c == 'rekey-good' and 'rekey' not in self.conn.fired:
            self.conn.fired.add('rekey')
            self.conn.kex()
        fn(t, rid, r)

    def on_init(self, r):
        r.u32()  # the client's version
        version = {'sftp-version-6': 6, 'sftp-version-0': 0}.get(self.case(),
                                                                 3)
        self.reply(u8(FXP_VERSION) + u32(version) +
                   sstr('statvfs@openssh.com') + sstr('2'))

    def fault(self, t, rid, path):
        """A faulty reply to request t about path, if this case has one;
        True when it was sent."""
        c = self.case()
        if not is_bad(path):
            return False
        if c == 'sftp-unknown-id':
            self.status(rid + 1000, FX_OK)
            return True
        if c == 'sftp-len-zero':
            self.chan.write(u32(0))
            return True
        if c == 'sftp-len-max':
            self.chan.write(u32(0xffffffff) + u8(FXP_STATUS) + u32(rid))
            return True
        if c == 'sftp-status-overflow':
            self.reply(u8(FXP_STATUS) + u32(rid) + u32(FX_NO_SUCH_FILE) +
                       u32(10000) + b'short' + sstr('en'))
            return True
        if c == 'sftp-handle-long' and t in (FXP_OPEN, FXP_OPENDIR):
            self.reply(u8(FXP_HANDLE) + u32(rid) + sstr(b'h' * HANDLE_LONG))
            return True
        if c == 'sftp-status-huge':
            self.status(rid, FX_FAILURE, 'x' * STATUS_HUGE)
            return True
        if c == 'sftp-wrong-type-stat' and t in (FXP_STAT, FXP_LSTAT,
                                                  FXP_FSTAT):
            self.reply(u8(FXP_HANDLE) + u32(rid) + sstr('h-wrong'))
            return True
        return False

    def on_realpath(self, t, rid, r):
        path = normalize(r.str())
        self.reply(u8(FXP_NAME) + u32(rid) + u32(1) + sstr(path) + sstr('') +
                   u32(0))

    def on_stat(self, t, rid, r):
        path = normalize(r.str())
        if self.fault(t, rid, path):
            return
        node = self.lookup(path, follow=t == FXP_STAT)
        if node is None:
            return self.status(rid, FX_NO_SUCH_FILE, 'no such file')
        body = u8(FXP_ATTRS) + u32(rid) + attrs(node)
        if is_bad(path) and self.case() == 'sftp-attrs-ext-count':
            body = u8(FXP_ATTRS) + u32(rid) + attrs(node, self.case())
        self.reply(body)
        if is_bad(path) and self.case() == 'sftp-dup-id':
            self.reply(body)

    def new_handle(self, path, node, flags):
        h = b'H%d' % self.next_handle
        self.next_handle += 1
        self.handles[h] = {'path': path, 'node': node, 'flags': flags,
                           'pos': 0}
        return h

    def on_open(self, t, rid, r):
        path = normalize(r.str())
        flags = r.u32()
        if self.fault(t, rid, path):
            return
        node = self.lookup(path)
        if node is None and flags & FXF_CREAT:
            parent = self.lookup(os.path.dirname(path))
            if parent is None or parent.kind != 'dir':
                return self.status(rid, FX_NO_SUCH_FILE, 'no parent')
            node = Node('file')
            parent.children[os.path.basename(path)] = node
        if node is None:
            return self.status(rid, FX_NO_SUCH_FILE, 'no such file')
        if node.kind != 'file':
            return self.status(rid, FX_FAILURE, 'not a file')
        if flags & FXF_TRUNC:
            node.data = b''
        self.reply(u8(FXP_HANDLE) + u32(rid) +
                   sstr(self.new_handle(path, node, flags)))

    def on_opendir(self, t, rid, r):
        path = normalize(r.str())
        if self.fault(t, rid, path):
            return
        node = self.lookup(path)
        if node is None:
            return self.status(rid, FX_NO_SUCH_FILE, 'no such directory')
        if node.kind != 'dir':
            return self.status(rid, FX_FAILURE, 'not a directory')
        self.reply(u8(FXP_HANDLE) + u32(rid) +
                   sstr(self.new_handle(path, node, 0)))

    def get_handle(self, rid, r):
        h = self.handles.get(r.str())
        if h is None:
            self.status(rid, FX_FAILURE, 'invalid handle')
        return h

    def on_close(self, t, rid, r):
        hs = r.str()
        if hs in self.handles:
            del self.handles[hs]
            return self.status(rid, FX_OK, 'closed')
        self.status(rid, FX_FAILURE, 'invalid handle')

    def on_fstat(self, t, rid, r):
        h = self.get_handle(rid, r)
        if h is None or self.fault(t, rid, h['path']):
            return
        self.reply(u8(FXP_ATTRS) + u32(rid) + attrs(h['node']))

    def on_read(self, t, rid, r):
        h = self.get_handle(rid, r)
        if h is None:
            return
        off, n = r.u64(), r.u32()
        c, bad = self.case(), is_bad(h['path'])
        if self.fault(t, rid, h['path']):
            return
        if bad and c == 'sftp-wrong-type-read':
            return self.reply(u8(FXP_ATTRS) + u32(rid) + attrs(h['node']))
        data = h['node'].data
        if off >= len(data):
            return self.status(rid, FX_EOF, 'end of file')
        chunk = data[off:off + n]
        if c == 'sftp-read-short':
            chunk = chunk[:max(1, len(chunk) // 3)]
        if bad and c == 'sftp-read-too-much':
            chunk = chunk + b'#' * (n + 1 - len(chunk))
        if bad and c == 'sftp-read-data-overflow':
            return self.reply(u8(FXP_DATA) + u32(rid) + u32(len(chunk) + 500) +
                              chunk)
        self.reply(u8(FXP_DATA) + u32(rid) + sstr(chunk))

    def on_write(self, t, rid, r):
        global stalled
        h = self.get_handle(rid, r)
        if h is None:
            return
        if (self.case() == 'sftp-write-stall' and not stalled and
                is_bad(h['path'])):
            # the client's bytes pile up in the socket; nothing goes out
            stalled = True
            log('stalling for %d s' % STALL_SECONDS)
            end = time.monotonic() + STALL_SECONDS
            while time.monotonic() < end:
                self.conn.check_stdin()
                time.sleep(0.2)
            raise Gone('stalled at a WRITE')
        off, d = r.u64(), r.str()
        if not h['flags'] & FXF_WRITE:
            return self.status(rid, FX_PERMISSION_DENIED, 'read only')
        node = h['node']
        if len(node.data) < off:
            node.data += b'\0' * (off - len(node.data))
        node.data = node.data[:off] + d + node.data[off + len(d):]
        self.status(rid, FX_OK, 'written')

    def on_setstat(self, t, rid, r):
        self.status(rid, FX_OK, 'ignored')

    def on_readlink(self, t, rid, r):
        path = normalize(r.str())
        if self.fault(t, rid, path):
            return
        node = self.lookup(path, follow=False)
        if node is None:
            return self.status(rid, FX_NO_SUCH_FILE, 'no such file')
        if node.kind != 'link':
            return self.status(rid, FX_FAILURE, 'not a link')
        target = node.data
        if is_bad(path) and self.case() == 'sftp-readlink-64k':
            target = b'../' * 21845 + b'x'  # 65536 bytes
        self.reply(u8(FXP_NAME) + u32(rid) + u32(1) + sstr(target) + sstr('') +
                   u32(0))

    def endless(self):
        """sftp-readdir-endless: batches of names never given before
        (on this connection), for ever."""
        f = self.conn.tree.children[b'hello.txt']
        while True:
            n = self.conn.endless_next
            self.conn.endless_next += READDIR_BATCH
            yield [(b'e%09d' % (n + i), f) for i in range(READDIR_BATCH)]

    def huge(self, node):
        """sftp-readdir-huge-names: '.', '..', then HUGE_ENTRIES names."""
        f = self.conn.tree.children[b'hello.txt']
        batch = [(b'.', node), (b'..', self.conn.tree)]
        for i in range(HUGE_ENTRIES):
            batch.append((huge_name(i), f))
            if len(batch) == READDIR_BATCH:
                yield batch
                batch = []
        if batch:
            yield batch

    def listing(self, h):
        """The NAME batches of a directory, each a list of (name, node):
        an iterator."""
        node = h['node']
        if is_bad(h['path']) and self.case() == 'sftp-readdir-endless':
            return self.endless()
        if is_bad(h['path']) and self.case() == 'sftp-readdir-huge-names':
            return self.huge(node)
        entries = [(b'.', node), (b'..', self.conn.tree)] + \
            sorted(node.children.items())
        if is_bad(h['path']) and self.case() == 'sftp-readdir-names':
            kids = node.children
            f1 = kids[b'f1']
            first = [(b'..', self.conn.tree), (b'.', node), (b'f1', f1),
                     (b'a/b', f1), (b'nl\nname', kids[b'nl\nname']),
                     (b'esc\x1bname', kids[b'esc\x1bname']),
                     (b'', f1), (b'/', f1), (b'../up', f1)]
            second = [(b'..', self.conn.tree), (b'.', node),
                      (b'f2', kids[b'f2']), (b'..', node)]
            # a NUL inside the SSH string, alone in its batch
            third = [(b'x\0y', f1), (b'f1', f1)]
            return iter([first, second, third])
        return iter([entries[i:i + READDIR_BATCH]
                     for i in range(0, len(entries), READDIR_BATCH)])

    def count_readdir(self):
        """One more READDIR: DIR/readdirs says how many so far."""
        global readdirs
        readdirs += 1
        if self.conn.dir:
            tmp = os.path.join(self.conn.dir, 'readdirs.tmp')
            with open(tmp, 'w') as f:
                f.write('%d\n' % readdirs)
            os.rename(tmp, os.path.join(self.conn.dir, 'readdirs'))

    def on_readdir(self, t, rid, r):
        self.count_readdir()
        h = self.get_handle(rid, r)
        if h is None:
            return
        if self.fault(t, rid, h['path']):
            return
        if 'batches' not in h:
            h['batches'] = self.listing(h)
        batch = next(h['batches'], None)
        if batch is None:
            return self.status(rid, FX_EOF, 'end of directory')
        body = u8(FXP_NAME) + u32(rid)
        if is_bad(h['path']) and self.case() == 'sftp-name-count':
            body += u32(len(batch) + 5000)
        else:
            body += u32(len(batch))
        for name, node in batch:
            body += sstr(name) + sstr(longname(name, node)) + attrs(node)
        self.reply(body)


# ---- main ------------------------------------------------------------------

watch_stdin = True


def write_files(d, port, hostkey):
    pub = hostkey.public_key().public_bytes(serialization.Encoding.OpenSSH,
                                            serialization.PublicFormat.OpenSSH)
    with open(os.path.join(d, 'host_ed25519.pub'), 'wb') as f:
        f.write(pub + b' hostile\n')
    with open(os.path.join(d, 'known_hosts'), 'wb') as f:
        f.write(b'[127.0.0.1]:%d ' % port + pub + b'\n')
    with open(os.path.join(d, 'port.tmp'), 'w') as f:
        f.write('%d\n' % port)
    os.rename(os.path.join(d, 'port.tmp'), os.path.join(d, 'port'))


stalled = False  # sftp-write-stall: done (once per server process)
readdirs = 0     # READDIRs answered (all connections), in DIR/readdirs


def main():
    global watch_stdin
    ap = argparse.ArgumentParser(description='a misbehaving SSH server')
    ap.add_argument('--case', default='none')
    ap.add_argument('--dir')
    ap.add_argument('--port', type=int, default=0)
    ap.add_argument('--conns', type=int, default=1)
    ap.add_argument('--strict-kex', action='store_true')
    ap.add_argument('--lifetime', type=float, default=600)
    ap.add_argument('--no-stdin', action='store_true',
                    help='do not exit at the end of standard input')
    ap.add_argument('--list', action='store_true')
    args = ap.parse_args()
    if args.list:
        for k, v in CASES.items():
            print('%-26s %s' % (k, v))
        return
    if args.case not in CASES:
        sys.exit('unknown case %r (--list shows them)' % args.case)
    watch_stdin = not args.no_stdin
    args.deadline = time.monotonic() + args.lifetime

    hostkey = ed25519.Ed25519PrivateKey.generate()
    ls = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.bind(('127.0.0.1', args.port))
    ls.listen(4)
    port = ls.getsockname()[1]
    if args.dir:
        write_files(args.dir, port, hostkey)
    print('PORT %d' % port, flush=True)
    log('case %s on port %d' % (args.case, port))

    for n in range(args.conns):
        while True:
            rl = [ls] + ([0] if watch_stdin else [])
            r, _, _ = select.select(rl, [], [], 0.5)
            if 0 in r and not os.read(0, 4096):
                log('stdin closed: exiting')
                return
            if time.monotonic() > args.deadline:
                log('lifetime over: exiting')
                return
            if ls in r:
                break
        sock, _ = ls.accept()
        log('connection %d: accepted' % (n + 1))
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        sock.settimeout(SEND_TIMEOUT)
        conn = Conn(sock, args, hostkey)
        try:
            conn.run()
            log('connection %d: done' % (n + 1))
        except Gone as e:
            log('connection %d: %s' % (n + 1, e))
        finally:
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            sock.close()


if __name__ == '__main__':
    main()
