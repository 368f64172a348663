# SPDX-License-Identifier: GPL-2.0
"""A QMP client over a unix socket, and the socket plumbing it needs."""

import json
import select
import socket
import time

from vmerrors import CommandTimeout, QemuExited, QMPError, VMError


def connect_unix(path, deadline, alive=None):
    """Connect to a unix socket QEMU creates asynchronously."""
    last = None
    while time.monotonic() < deadline:
        if alive is not None and not alive():
            raise QemuExited("QEMU exited before creating %s" % path)
        try:
            s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            s.settimeout(5)
            s.connect(path)
            return s
        except OSError as e:        # not there yet / not listening yet
            s.close()
            last = e
            time.sleep(0.05)
    raise CommandTimeout("cannot connect to %s: %s" % (path, last))


class QMP:
    """Line-based QMP client.  Asynchronous events are kept in .events."""

    def __init__(self, path, timeout=30.0, alive=None):
        self.sock = connect_unix(path, time.monotonic() + timeout, alive)
        self.buf = b""
        self.events = []
        self.seq = 0
        greeting = self._recv(timeout)
        if "QMP" not in greeting:
            raise VMError("unexpected QMP greeting: %r" % greeting)
        self.cmd("qmp_capabilities")

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass

    def _recv(self, timeout):
        """Return the next JSON object from the socket."""
        deadline = time.monotonic() + timeout
        while b"\n" not in self.buf:
            left = deadline - time.monotonic()
            if left <= 0:
                raise CommandTimeout("QMP: no answer within %.0fs" % timeout)
            r, _, _ = select.select([self.sock], [], [], min(left, 1.0))
            if not r:
                continue
            data = self.sock.recv(65536)
            if not data:
                raise QemuExited("QMP connection closed")
            self.buf += data
        line, self.buf = self.buf.split(b"\n", 1)
        if not line.strip():
            return self._recv(max(0.1, deadline - time.monotonic()))
        return json.loads(line)

    def cmd(self, execute, timeout=30.0, **args):
        """Run one QMP command; return its 'return' value or raise."""
        self.seq += 1
        req = {"execute": execute, "id": self.seq}
        if args:
            req["arguments"] = args
        self.sock.sendall(json.dumps(req).encode() + b"\n")
        deadline = time.monotonic() + timeout
        while True:
            msg = self._recv(max(0.1, deadline - time.monotonic()))
            if "event" in msg:
                self.events.append(msg)
                continue
            if msg.get("id") != self.seq:
                continue            # stale answer of a timed-out command
            if "error" in msg:
                raise QMPError(execute, msg["error"])
            return msg.get("return")


# ---------------------------------------------------------------------------
# The VM
# ---------------------------------------------------------------------------
