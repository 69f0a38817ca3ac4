#!/usr/bin/python3
"""asyncssh_server.py DIR - an AsyncSSH server for tests/interop/test_asyncssh.

Started (and killed) by the test.  Everything lives in DIR:

  DIR/host_*.pub      the host keys' public halves (OpenSSH format)
  DIR/user_ed25519    user keys (OpenSSH format, unencrypted) and .pub;
  DIR/user_rsa        both are authorized for every user
  DIR/root/           the root of the SFTP server (a virtual chroot)
  DIR/port            written last, once the server listens on 127.0.0.1

Authentication (any method may be tried by any user):
  password             tester/secret; "expired"/"oldpw" must change the
                       password (SSH_MSG_USERAUTH_PASSWD_CHANGEREQ): "newpw"
                       is accepted, "weak" asks again, anything else fails
  keyboard-interactive tester: three rounds - three prompts (echo off, on,
                       off), then none, then one (echo on); see KBD_ROUNDS
  publickey            the two user keys, for any user name; the signature
                       algorithm of each login is appended to DIR/sigalgs.log
                       ("USER ALGORITHM" lines)
A userauth banner (BANNER) is sent at the first request.  Sessions run
"echo WORDS" (prints WORDS) and "exit N"; SFTP is AsyncSSH's own server.
The server exits when its standard input reaches end of file, or on
SIGTERM.
"""
import asyncio
import os
import signal
import sys
import warnings

warnings.simplefilter('ignore')  # cryptography's deprecation warnings

import asyncssh  # noqa: E402

BANNER = 'sftpmnt interop banner\r\nsecond line\r\n'

# (name, instruction, language, ((prompt, echo), ...)), expected answers
KBD_ROUNDS = [
    (('interop-kbd', 'Answer three questions', '',
      (('Password: ', False), ('Colour: ', True), ('PIN: ', False))),
     ['secret', 'blue', '1234']),
    (('', 'Nothing to ask this time', '', ()), []),
    (('round three', '', '', (('Again: ', True),)), ['again']),
]


class Server(asyncssh.SSHServer):
    def __init__(self):
        self._conn = None
        self._round = 0

    def connection_made(self, conn):
        self._conn = conn

    def begin_auth(self, username):
        self._conn.send_auth_banner(BANNER)
        return True

    def password_auth_supported(self):
        return True

    def validate_password(self, username, password):
        if username == 'expired' and password == 'oldpw':
            raise asyncssh.PasswordChangeRequired(
                'Your password has expired: choose a new one')
        return username == 'tester' and password == 'secret'

    def change_password(self, username, old_password, new_password):
        if username != 'expired' or old_password != 'oldpw':
            return False
        if new_password == 'weak':
            raise asyncssh.PasswordChangeRequired('Too weak, try again')
        return new_password == 'newpw'

    def kbdint_auth_supported(self):
        return True

    def get_kbdint_challenge(self, username, lang, submethods):
        if username != 'tester':
            return False
        self._round = 0
        return KBD_ROUNDS[0][0]

    def validate_kbdint_response(self, username, responses):
        if list(responses) != KBD_ROUNDS[self._round][1]:
            return False
        self._round += 1
        if self._round == len(KBD_ROUNDS):
            return True
        return KBD_ROUNDS[self._round][0]


def run_command(process):
    words = (process.command or '').split()
    if words[:1] == ['echo']:
        process.stdout.write(' '.join(words[1:]) + '\n')
        process.exit(0)
    elif words[:1] == ['exit'] and len(words) == 2:
        process.exit(int(words[1]))
    else:
        process.stderr.write('unknown command\n')
        process.exit(127)


def record_signature_algorithms(path):
    """Append "USER ALGORITHM" to path for every publickey signature that
    verifies, so that the test sees which RSA signature algorithm the
    client chose.  This wraps SSHServerConnection.validate_public_key, an
    AsyncSSH internal (2.x): without it nothing is recorded, and the test
    says so."""
    cls = getattr(getattr(asyncssh, 'connection', None),
                  'SSHServerConnection', None)
    orig = getattr(cls, 'validate_public_key', None)
    if orig is None:
        return

    async def validate_public_key(self, username, key_data, msg, signature):
        result = await orig(self, username, key_data, msg, signature)
        if result and signature:
            # signature: string algorithm, string blob (RFC 4253 6.6)
            n = int.from_bytes(signature[:4], 'big')
            with open(path, 'a') as f:
                f.write('%s %s\n' % (username,
                                      signature[4:4 + n].decode('ascii',
                                                                'replace')))
        return result

    cls.validate_public_key = validate_public_key


def write_key(path, key):
    with open(path, 'wb') as f:
        os.fchmod(f.fileno(), 0o600)
        f.write(key.export_private_key('openssh'))
    with open(path + '.pub', 'wb') as f:
        f.write(key.export_public_key('openssh'))


async def main(d):
    root = os.path.join(d, 'root')
    os.makedirs(root, exist_ok=True)

    host_keys = []
    for name, alg, kw in (('ed25519', 'ssh-ed25519', {}),
                          ('ecdsa256', 'ecdsa-sha2-nistp256', {}),
                          ('ecdsa384', 'ecdsa-sha2-nistp384', {}),
                          ('ecdsa521', 'ecdsa-sha2-nistp521', {}),
                          ('rsa', 'ssh-rsa', {'key_size': 2048})):
        key = asyncssh.generate_private_key(alg, **kw)
        with open(os.path.join(d, 'host_%s.pub' % name), 'wb') as f:
            f.write(key.export_public_key('openssh'))
        host_keys.append(key)

    authorized = b''
    for name, alg, kw in (('ed25519', 'ssh-ed25519', {}),
                          ('rsa', 'ssh-rsa', {'key_size': 2048})):
        key = asyncssh.generate_private_key(alg, comment='interop-' + name,
                                            **kw)
        write_key(os.path.join(d, 'user_' + name), key)
        authorized += key.export_public_key('openssh')

    record_signature_algorithms(os.path.join(d, 'sigalgs.log'))
    acceptor = await asyncssh.listen(
        '127.0.0.1', 0, server_factory=Server, server_host_keys=host_keys,
        authorized_client_keys=asyncssh.import_authorized_keys(
            authorized.decode()),
        process_factory=run_command,
        sftp_factory=lambda chan: asyncssh.SFTPServer(chan, chroot=root),
        allow_scp=False, agent_forwarding=False, x11_forwarding=False,
        login_timeout=60)
    port = acceptor.sockets[0].getsockname()[1]
    with open(os.path.join(d, 'port.tmp'), 'w') as f:
        f.write('%d\n' % port)
    os.rename(os.path.join(d, 'port.tmp'), os.path.join(d, 'port'))

    loop = asyncio.get_running_loop()
    done = loop.create_future()

    def stdin_readable():
        if not os.read(0, 4096) and not done.done():
            done.set_result(None)

    loop.add_reader(0, stdin_readable)
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, lambda: done.done() or
                                done.set_result(None))
    await done
    acceptor.close()


if __name__ == '__main__':
    if len(sys.argv) != 2:
        sys.exit('usage: asyncssh_server.py DIR')
    if os.environ.get('SFTPMNT_ASYNCSSH_DEBUG'):
        import logging
        logging.basicConfig(level=logging.DEBUG)
        asyncssh.set_debug_level(2)
    asyncio.run(main(sys.argv[1]))
