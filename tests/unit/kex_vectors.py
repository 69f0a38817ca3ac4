#!/usr/bin/python3
"""kex_vectors.py - the fixed vectors of tests/unit/check_kex.c, computed
apart from the library: Python's hashlib and the `cryptography` package
(X25519, Ed25519), from the RFC formulas written out below.

    python3 tests/unit/kex_vectors.py

prints every value check_kex.c hard-codes (computed with Python 3.11.7
and cryptography 48.0.0).  Not run by `make check`: the C test
carries the output, so it needs no Python.

  exchange hash  RFC 8731 3 / RFC 5656 4 / RFC 4253 8:
                 H = SHA256(string V_C || string V_S || string I_C ||
                            string I_S || string K_S || string Q_C ||
                            string Q_S || mpint K)
  keys           RFC 4253 7.2: K1 = HASH(mpint K || H || X || session_id),
                 K2 = HASH(mpint K || H || K1), K3 = HASH(... || K1 || K2)
  mpint          RFC 4251 5: two's complement, minimal, big-endian
"""
import hashlib
import struct

from cryptography.hazmat.primitives import serialization as ser
from cryptography.hazmat.primitives.asymmetric.ed25519 import \
    Ed25519PrivateKey
from cryptography.hazmat.primitives.asymmetric.x25519 import \
    X25519PrivateKey

RAW = (ser.Encoding.Raw, ser.PublicFormat.Raw)


def S(x):
    return struct.pack('>I', len(x)) + x


def mpint(b):
    b = b.lstrip(b'\0')
    if b and b[0] & 0x80:
        b = b'\0' + b
    return S(b)


def kdf(alg, K, H, letter, sid, need):
    out = hashlib.new(alg, mpint(K) + H + letter + sid).digest()
    while len(out) < need:
        out += hashlib.new(alg, mpint(K) + H + out).digest()
    return out[:need]


# curve25519-sha256 with fixed keys: client a = 01..20, server b = 21..40,
# host key seed 42 * 32, made-up banners and KEXINIT payloads
a = bytes(range(1, 33))
b = bytes(range(33, 65))
seed = b'\x42' * 32
A = X25519PrivateKey.from_private_bytes(a)
B = X25519PrivateKey.from_private_bytes(b)
qc = A.public_key().public_bytes(*RAW)
qs = B.public_key().public_bytes(*RAW)
K = A.exchange(B.public_key())
pk = Ed25519PrivateKey.from_private_bytes(seed).public_key().public_bytes(*RAW)
ks = S(b'ssh-ed25519') + S(pk)
vc, vs = b'SSH-2.0-KatClient', b'SSH-2.0-KatServer'
ic, is_ = b'\x14client kexinit', b'\x14server kexinit'
H = hashlib.sha256(S(vc) + S(vs) + S(ic) + S(is_) + S(ks) + S(qc) + S(qs) +
                   mpint(K)).digest()
print('K', K.hex())
print('qc', qc.hex())
print('qs', qs.hex())
print('pk', pk.hex())
print('H', H.hex())
for l, n in ((b'A', 16), (b'C', 64), (b'E', 32), (b'B', 12), (b'D', 24),
             (b'F', 20)):
    print(l.decode(), n, kdf('sha256', K, H, l, H, n).hex())

# SHA-512: K of 256 bytes, a zero byte then one with the top bit set
K2 = b'\0' + bytes((i * 37 + 11) % 256 | (0x80 if i == 0 else 0)
                   for i in range(255))
H2 = hashlib.sha512(b'exchange hash 2').digest()
sid2 = hashlib.sha512(b'session id 2').digest()
print('sha512 C 130', kdf('sha512', K2, H2, b'C', sid2, 130).hex())

# SHA-1: K of 20 bytes 7f 7e .. 6c (top bit clear), 45 bytes: three blocks
K3 = bytes(range(0x7f, 0x7f - 20, -1))
H3 = hashlib.sha1(b'exchange hash 3').digest()
sid3 = hashlib.sha1(b'session id 3').digest()
print('sha1 E 45', kdf('sha1', K3, H3, b'E', sid3, 45).hex())
