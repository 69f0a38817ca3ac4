#!/usr/bin/env python3
"""mkseeds.py - write the hand-made seeds of fuzz_chan and fuzz_sftpcore
(no real server answers their scripts the way we need to record):

    tests/fuzz/mkseeds.py chan tests/fuzz/corpus/chan
    tests/fuzz/mkseeds.py sftpcore tests/fuzz/corpus/sftpcore

chan: server conversations for each of its scripts (a script byte, then
16-bit-length SSH message pieces).  sftpcore: SFTP reply streams for its
two batches (16-bit-length pieces of CHANNEL_DATA, a first byte of 1).
"""
import os
import struct
import sys


def u32(v):
    return struct.pack('>I', v)


def s(b):
    if isinstance(b, str):
        b = b.encode()
    return u32(len(b)) + b


def msg(t, *parts):
    return bytes([t]) + b''.join(parts)


def seed(script, msgs):
    out = bytes([script])
    for m in msgs:
        out += struct.pack('>H', len(m)) + m
    return out


ACCEPT = msg(6, s('ssh-userauth'))
SUCCESS = msg(52)


def fail(methods):
    return msg(51, s(methods), b'\0')


def conf(local, remote=7, window=2 << 20, maxpkt=32768):
    return msg(91, u32(local), u32(remote), u32(window), u32(maxpkt))


def ok(ch):
    return msg(99, u32(ch))


def data(ch, b):
    return msg(94, u32(ch), s(b))


def ext(ch, b):
    return msg(95, u32(ch), u32(1), s(b))


def eof_close(ch):
    return [msg(96, u32(ch)), msg(97, u32(ch))]


def exit_status(ch, code):
    return msg(98, u32(ch), s('exit-status'), b'\0', u32(code))


def exit_signal(ch):
    return msg(98, u32(ch), s('exit-signal'), b'\0', s('TERM'), b'\1',
               s('terminated'), s('en'))


def info_request(prompts):
    body = s('fuzz') + s('answer the questions') + s('') + u32(len(prompts))
    for p, echo in prompts:
        body += s(p) + bytes([echo])
    return msg(60, body)


CHAN = {
    'auth-kbdint': seed(0, [
        ACCEPT, fail('password,keyboard-interactive'),
        fail('keyboard-interactive'),
        info_request([('Password: ', 0), ('Token: ', 1)]),
        info_request([]), SUCCESS]),
    'auth-passwd-change': seed(0, [
        ACCEPT, fail('password'),
        msg(60, s('Your password has expired'), s('en')), SUCCESS]),
    'auth-banner': seed(0, [
        ACCEPT, msg(53, s('Welcome\n'), s('en')),
        fail('publickey,password'), SUCCESS]),
    'scp-recv-send': seed(1, [
        conf(0), ok(0), data(0, 'T1700000000 0 1700000001 0\n'),
        data(0, 'C0644 10 hostname\n'), data(0, '0123456789\0'),
        exit_status(0, 0), *eof_close(0),
        conf(1), ok(1), data(1, '\0'), data(1, '\0'), data(1, '\0'),
        data(1, '\0'), exit_status(1, 0), *eof_close(1)]),
    'scp-recv-error': seed(1, [
        conf(0), ok(0), data(0, '\x01scp: /etc/hostname: No such file\n'),
        *eof_close(0),
        conf(1), ok(1), data(1, '\x02scp: fatal\n'), *eof_close(1)]),
    'scp-recv-dir': seed(1, [
        conf(0), ok(0), data(0, 'D0755 0 etc\n'),
        data(0, 'C0600 18446744073709551615 x\n'), *eof_close(0)]),
    'shell': seed(2, [
        conf(0), ok(0), ok(0), ok(0), msg(100, u32(0)), ok(0),
        data(0, '$ '), ext(0, 'warning\n'), data(0, 'bin etc\n'),
        msg(93, u32(0), u32(65536)), exit_status(0, 130), exit_signal(0),
        *eof_close(0)]),
    'forward': seed(3, [
        msg(81, u32(40000)),
        msg(90, s('forwarded-tcpip'), u32(5), u32(2 << 20), u32(32768),
            s('localhost'), u32(40000), s('127.0.0.1'), u32(5555)),
        data(0, 'hello'), *eof_close(0), msg(81),
        conf(1, 6), data(1, 'SSH-2.0-OpenSSH_9.2\r\n'), *eof_close(1),
        msg(82)]),
    'forward-refused': seed(3, [
        msg(82), msg(92, u32(0), u32(2), s('administratively prohibited'),
                      s('')),
        msg(80, s('keepalive@openssh.com'), b'\1'), msg(82)]),
}

# ---- sftpcore -------------------------------------------------------

FXP = dict(VERSION=2, STATUS=101, HANDLE=102, DATA=103, NAME=104,
           ATTRS=105, EXTENDED_REPLY=201)


def fxp(t, rid, body=b''):
    b = bytes([FXP[t]]) + (u32(rid) if rid is not None else b'') + body
    return u32(len(b)) + b


def status(rid, code, m=''):
    return fxp('STATUS', rid, u32(code) + s(m) + s(''))


ATTRS = u32(0xf) + struct.pack('>Q', 5) + u32(0) + u32(0) + \
    u32(0o100644) + u32(1) + u32(2)


def name(rid, entries):
    body = u32(len(entries))
    for n in entries:
        body += s(n) + s('-rw-r--r-- 1 0 0 5 Jan 1 00:00 ' + n) + ATTRS
    return fxp('NAME', rid, body)


LIMITS = struct.pack('>4Q', 32768, 262144, 261120, 64)
VERSION_LIMITS = fxp('VERSION', None, u32(3) +
                     s('posix-rename@openssh.com') + s('1') +
                     s('statvfs@openssh.com') + s('2') +
                     s('limits@openssh.com') + s('1'))
LIMITS_REPLY = fxp('EXTENDED_REPLY', 1, LIMITS)
VERSION_PLAIN = fxp('VERSION', None, u32(3))


# the hello asks for limits@openssh.com (id 1) when VERSION offers it;
# the batch's requests are then ids 2..21


def batch1(o=1):
    return [fxp('HANDLE', o + 1, s('fh')), fxp('HANDLE', o + 2, s('dh')),
            fxp('ATTRS', o + 3, ATTRS), fxp('ATTRS', o + 4, ATTRS),
            name(o + 5, ['target']), name(o + 6, ['/root']),
            fxp('EXTENDED_REPLY', o + 7, struct.pack('>11Q', *range(11))),
            fxp('EXTENDED_REPLY', o + 8, LIMITS),
            status(o + 9, 0, 'Success')]


def batch2(o=1):
    return [fxp('DATA', o + 10, s(b'x' * 4096)),
            fxp('DATA', o + 11, s(b'y' * 100)),
            status(o + 12, 1, 'End of file'), fxp('ATTRS', o + 13, ATTRS),
            status(o + 14, 0), status(o + 15, 0), status(o + 16, 0),
            name(o + 17, ['.', '..', 'a', 'b']), status(o + 18, 1),
            status(o + 19, 0), status(o + 20, 0)]


def core_seed(replies, split=None, extra=()):
    stream = b''.join(replies)
    pieces = []
    if split is None:
        pieces = [b'\1' + r for r in replies]
    else:
        for i in range(0, len(stream), split):
            pieces.append(b'\1' + stream[i:i + split])
    pieces += list(extra)
    return b''.join(struct.pack('>H', len(p)) + p for p in pieces)


def adjust(n):
    return b'\0' + msg(93, u32(0), u32(n))


VP = VERSION_PLAIN
CORE = {
    'limits': core_seed([VERSION_LIMITS, LIMITS_REPLY] + batch1() + batch2()),
    'in-order': core_seed([VP] + batch1(0) + batch2(0)),
    'reversed': core_seed([VP] + batch1(0)[::-1] + batch2(0)[::-1]),
    'split-7': core_seed([VP] + batch1(0) + batch2(0), split=7),
    'errors': core_seed([VP] + [status(i, 2 + i % 7, 'no')
                                for i in range(1, 21)]),
    'unknown-id': core_seed([VP, status(77, 0)]),
    'window': core_seed([VP] + batch1(0),
                        extra=[adjust(1 << 20), adjust(0xffffffff)]),
    'eof': core_seed([VP] + batch1(0)[:4],
                     extra=[b'\0' + msg(96, u32(0)),
                            b'\0' + msg(97, u32(0))]),
}

SETS = {'chan': CHAN, 'sftpcore': CORE}

if __name__ == '__main__':
    which, d = sys.argv[1], sys.argv[2]
    os.makedirs(d, exist_ok=True)
    for name_, b in SETS[which].items():
        with open(os.path.join(d, name_), 'wb') as f:
            f.write(b)
