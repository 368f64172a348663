# SPDX-License-Identifier: GPL-2.0
"""
The guest command channel (the second serial port): the guest's /init
prints a ready banner, then runs base64-encoded shell scripts the host
sends as "<token> <script>" and answers "<token> BEGIN", the output and
"<token> END <rc>". Every byte sent costs the guest a serial interrupt
and a read(): a long script is sent once with a name ("<token> <script>
<name>"), kept in the guest's /run/vmtc/, and from then on run by its
name ("<token> @<name>") until the guest restarts. A mixin of vmtest.VM: it uses self.cmd_sock,
self.cmd_buf, self.seq, self.t_start, self.cfg, self.alive() and
self._failure().
"""

import base64
import hashlib
import re
import secrets
import select
import socket
import time

from vmerrors import CommandFailed, CommandTimeout, QemuExited, VMError

READY_BANNER = b"VMTEST-READY"
# Scripts whose base64 is longer than this are kept in the guest by name.
KEEP_MIN = 64


class CommandChannel:
    """run(), sh() and friends of a VM."""

    def _read_cmd(self, until, timeout, what):
        """Read the command channel until until(buf) is true."""
        deadline = time.monotonic() + timeout
        while True:
            res = until(self.cmd_buf)
            if res:
                return res
            if not self.alive():
                # The answer may still sit in the socket: drain it first.
                r, _, _ = select.select([self.cmd_sock], [], [], 0)
                data = self.cmd_sock.recv(65536) if r else b""
                if data:
                    self.cmd_buf += data
                    continue
                raise self._failure(QemuExited, "QEMU exited while " + what)
            left = deadline - time.monotonic()
            if left <= 0:
                raise self._failure(CommandTimeout, "timeout (%.0fs) %s" %
                                    (timeout, what))
            r, _, _ = select.select([self.cmd_sock], [], [], min(left, 0.2))
            if r:
                data = self.cmd_sock.recv(65536)
                if not data:
                    raise self._failure(QemuExited,
                                        "command channel closed while " + what)
                self.cmd_buf += data

    def wait_ready(self, timeout=None):
        """
        Wait for the guest init's ready banner (printed after the modules
        are loaded), then check a command round trip.  Sets and returns
        self.boot_time (seconds since QEMU was started/reset).
        """
        timeout = timeout or self.cfg.boot_timeout
        t0 = self.t_start
        self._read_cmd(lambda b: READY_BANNER in b, timeout,
                       "waiting for the guest to boot")
        self.cmd_buf = self.cmd_buf.split(READY_BANNER, 1)[1]
        self.scripts = set()            # a fresh /run: nothing kept yet
        rc, out = self.run("echo pong", timeout=30)
        if rc != 0 or out.strip() != "pong":
            raise self._failure(VMError, "bad ping answer %r" % out)
        self.boot_time = time.monotonic() - t0
        return self.boot_time

    def run(self, cmd, timeout=60.0, binary=False):
        """
        Run the shell script @cmd in the guest (stdin is /dev/null, stderr
        goes to the output).  Returns (exit code, output): output is str, or
        the exact bytes with @binary.  On a timeout the guest keeps running
        the command; the next run() queues behind it and skips its output.
        """
        self.seq += 1
        tok = "@VMT%d%s@" % (self.seq, secrets.token_hex(6))
        enc = base64.b64encode(cmd.encode()).decode()
        line, name = "%s %s" % (tok, enc), None
        if len(enc) > KEEP_MIN:
            name = hashlib.sha1(cmd.encode()).hexdigest()[:16]
            line = "%s @%s" % (tok, name) if name in self.scripts else \
                "%s %s %s" % (tok, enc, name)
        try:
            # The guest only reads once the previous command is done.
            self.cmd_sock.settimeout(timeout)
            self.cmd_sock.sendall((line + "\n").encode())
        except socket.timeout:
            raise self._failure(CommandTimeout, "timeout (%.0fs) sending "
                                "a command to the guest" % timeout)
        except OSError as e:
            raise self._failure(QemuExited, "sending command: %s" % e)
        begin = (tok + " BEGIN\n").encode()
        end = re.compile(re.escape(("\n" + tok + " END ").encode()) +
                         rb"(-?\d+)\n")

        def done(buf):
            b = buf.find(begin)
            if b < 0:
                return None
            m = end.search(buf, b + len(begin))
            return (b, m) if m else None

        short = cmd if len(cmd) < 60 else cmd[:57] + "..."
        b, m = self._read_cmd(done, timeout, "running %r" % short)
        if name:                # answered: the guest has it now
            self.scripts.add(name)
        out = self.cmd_buf[b + len(begin):m.start()]
        self.cmd_buf = self.cmd_buf[m.end():]
        return int(m.group(1)), out if binary else \
            out.decode("utf-8", "replace")

    def sh(self, cmd, timeout=60.0):
        """Like run() but raise CommandFailed on a non-zero exit code."""
        rc, out = self.run(cmd, timeout)
        if rc != 0:
            raise CommandFailed("guest command %r failed (rc=%d):\n%s" %
                                (cmd, rc, out))
        return out

    def read_file(self, path):
        return self.sh("cat %s" % path).rstrip("\n")

    def dmesg(self):
        return self.sh("dmesg")
