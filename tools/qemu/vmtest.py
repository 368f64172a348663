# SPDX-License-Identifier: GPL-2.0
"""
vmtest - boot a throw-away QEMU/TCG guest to exercise a virtio-mem driver.

The library builds a tiny busybox initramfs that loads the virtio PCI
transport modules of the guest kernel plus the virtio-mem module under test
("ours", "stock" or "none"), boots it with one or more virtio-mem devices and
gives the caller three channels into the machine:

  * QMP (unix socket)            -> vm.qmp.cmd(), vm.qom_set(), ...
  * command channel (ttyS1)      -> vm.run(cmd) / vm.sh(cmd)
  * kernel console (ttyS0, file) -> vm.console(), vm.check_console()

Typical use:

    cfg = VMConfig(kernel=K, moddir=M, ko=KO, module="ours",
                   devices=[MemDevice("vm0", region_size=4 * GiB)])
    with VM(cfg) as vm:              # boots and waits for the guest
        rc, out = vm.run("cat /proc/meminfo")
        vm.qom_set("vm0", "requested-size", GiB)
        vm.check_console()

Only the Python standard library is used.
"""

import base64
import json
import os
import re
import secrets
import select
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field

from vmtest_initramfs import (BASE_MODULES, GUEST_KO,  # noqa: F401
                              InitramfsError, build_initramfs)

KiB = 1 << 10
MiB = 1 << 20
GiB = 1 << 30

READY_BANNER = b"VMTEST-READY"
TRACE_USABLE = "virtio_mem_resized_usable_region"
DEFAULT_APPEND = "console=ttyS0 panic_on_warn=1 panic=-1 oops=panic loglevel=7"

# Kernel complaints recognised by check_console().  Each pattern is matched
# against one console line with the printk timestamp stripped.  They are
# anchored where the kernel's wording allows it, so that e.g. a module
# parameter or a file name containing "BUG" does not trigger.
COMPLAINT_PATTERNS = [
    r"^WARNING:",                       # WARN_ON(), lockdep, RCU splats
    r"^BUG:",                           # BUG: unable to handle ..., sleeping
    r"kernel BUG at",
    r"^Oops\b|\bOops:",
    r"Kernel panic",
    r"\b[Bb]ad page\b",                 # Bad page state / map
    r"possible circular locking",
    r"possible recursive locking",
    r"lockdep is turned off",           # lockdep disabled itself: a splat
    r"inconsistent lock state|lock held when returning|"
    r"suspicious RCU usage|held lock freed|bad unlock balance",
    r"\bKASAN:",
    r"\bUBSAN:",
    r"general protection fault",
    r"INFO: task .* blocked for more than",
    r"detected stalls? on CPU",         # RCU stalls
    r"soft lockup|hard LOCKUP",
    r"^Call Trace:",
    r"page allocation failure",
    r"\binvoked oom-killer\b",         # the OOM killer ran
    r"^Out of memory\b|\bout of memory: Killed process",
    # The driver's own error lines (drivers/*.c): a broken device, memory
    # it could not give back, and its self-check finding the books wrong.
    r"^virtio_mem \S+: device broken: ",
    r"^virtio_mem \S+: request queue broken",
    r"^virtio_mem \S+: \d+ memory blocks could not be removed",
    r"^virtio_mem \S+: device reports plugged_size \d+, the driver's "
    r"books say",
    r"^virtio_mem \S+: check: (\[|stopped)",
]


class VMError(Exception):
    """Any failure of the guest or of the harness talking to it."""


class QemuExited(VMError):
    """QEMU went away (guest panic + -no-reboot, crash, bad arguments)."""


class CommandTimeout(VMError):
    """A guest command or a wait did not finish in time."""


class CommandFailed(VMError):
    """vm.sh() saw a non-zero exit code."""


class KernelComplaint(VMError):
    """check_console() found a kernel splat."""


class QMPError(VMError):
    """QMP answered with an error object."""

    def __init__(self, cmd, err):
        self.cmd = cmd
        self.err = err
        super().__init__("QMP %s failed: %s: %s" %
                         (cmd, err.get("class"), err.get("desc")))


def parse_size(s):
    """'4G' / '128M' / '2097152' / int -> bytes."""
    if isinstance(s, int):
        return s
    m = re.fullmatch(r"\s*(\d+)\s*([kKmMgGtT]?)i?[bB]?\s*", str(s))
    if not m:
        raise ValueError("bad size %r" % s)
    mult = {"": 1, "k": KiB, "m": MiB, "g": GiB, "t": 1 << 40}
    return int(m.group(1)) * mult[m.group(2).lower()]


def fmt_size(n):
    """Human-readable size: 2097152 -> '2 MiB', 0 -> '0'."""
    if n is None:
        return "-"
    n = int(n)
    if n == 0:
        return "0"
    for unit, div in (("GiB", GiB), ("MiB", MiB), ("KiB", KiB)):
        if n >= div:
            v = n / div
            return ("%d %s" % (v, unit)) if n % div == 0 else \
                   ("%.2f %s" % (v, unit))
    return "%d B" % n


# ---------------------------------------------------------------------------
# Configuration
# ---------------------------------------------------------------------------

@dataclass
class MemDevice:
    """One virtio-mem-pci device (and its memory-backend-ram)."""
    id: str = "vm0"
    node: int = 0
    block_size: int = None          # None: let QEMU pick (2 MiB on x86 THP)
    region_size: int = 4 * GiB
    requested_size: int = 0
    props: dict = field(default_factory=dict)   # extra -device properties
    backend_props: dict = field(default_factory=dict)  # e.g. reserve=off

    @property
    def memdev(self):
        return "mem_" + self.id

    def qemu_args(self):
        dev = ["virtio-mem-pci", "id=" + self.id, "memdev=" + self.memdev,
               "node=%d" % self.node,
               "requested-size=%d" % parse_size(self.requested_size)]
        if self.block_size is not None:
            dev.append("block-size=%d" % parse_size(self.block_size))
        dev += ["%s=%s" % kv for kv in self.props.items()]
        backend = "memory-backend-ram,id=%s,size=%d" % (
            self.memdev, parse_size(self.region_size))
        backend += "".join(",%s=%s" % kv
                           for kv in self.backend_props.items())
        return ["-object", backend, "-device", ",".join(dev)]


@dataclass
class VMConfig:
    """Everything needed to boot one guest; sizes are bytes (or "4G")."""
    kernel: str
    moddir: str
    ko: str = None                  # our virtio_mem.ko (host path)
    module: str = "ours"            # ours | stock | none: loaded at boot
    devices: list = field(default_factory=list)
    boot_mem: int = 1 * GiB
    numa_nodes: int = 0             # 0: no -numa options at all
    smp: int = 2
    slots: int = 4
    mem_margin: int = 1 * GiB       # maxmem headroom beyond all regions
    append: str = ""                # extra kernel command line
    qemu_args: list = field(default_factory=list)   # raw extra QEMU args
    extra_files: dict = field(default_factory=dict)  # guest path -> host path|bytes
    extra_modules: list = field(default_factory=list)  # more guest modules
    init_cmds: list = field(default_factory=list)   # sh lines before the loop
    qemu: str = "qemu-system-x86_64"
    busybox: str = "/bin/busybox"
    trace: list = field(default_factory=list)       # QEMU trace event patterns
    boot_timeout: float = 120.0
    keep_workdir: bool = False


# ---------------------------------------------------------------------------
# Process and socket plumbing, QMP
# ---------------------------------------------------------------------------

def _die_with_parent():
    """Child side of Popen: ask for SIGKILL when our parent exits."""
    try:
        import ctypes
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, 9)        # PR_SET_PDEATHSIG, SIGKILL
    except (OSError, AttributeError):
        pass


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

class VM:
    """
    One QEMU guest.  Use as a context manager (boots and waits for the
    command channel; always kills QEMU and removes the work directory), or
    call start(), wait_ready() and stop() by hand.  Set cfg.keep_workdir or
    VMTEST_KEEP=1 to keep the console log, QEMU command line and initramfs.
    """

    def __init__(self, cfg):
        self.cfg = cfg
        self.proc = None
        self.qmp = None
        self.cmd_sock = None
        self.cmd_buf = b""
        self.workdir = None
        self.boot_time = None
        self.t_start = None
        self.seq = 0

    # -- life cycle -------------------------------------------------------

    def __enter__(self):
        try:
            self.start()
            self.wait_ready()
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(self, *exc):
        self.stop()
        return False

    def path(self, name):
        return os.path.join(self.workdir, name)

    def qemu_cmdline(self):
        cfg = self.cfg
        regions = sum(parse_size(d.region_size) for d in cfg.devices)
        # A KASAN kernel keeps a shadow of 1/8 of all memory, hot-plugged
        # memory too: VMTEST_MIN_BOOT_MEM raises the boot memory for it.
        boot = max(parse_size(cfg.boot_mem),
                   parse_size(os.environ.get("VMTEST_MIN_BOOT_MEM", "0")))
        maxmem = boot + regions + parse_size(cfg.mem_margin)
        args = [cfg.qemu, "-machine", "q35", "-accel", "tcg,thread=multi",
                "-nographic", "-nodefaults", "-no-reboot",
                "-m", "%dM,slots=%d,maxmem=%dM" % (boot // MiB, cfg.slots,
                                                   maxmem // MiB),
                "-smp", str(cfg.smp),
                "-kernel", cfg.kernel, "-initrd", self.path("initramfs.gz"),
                "-append", (DEFAULT_APPEND + " " + cfg.append).strip(),
                "-chardev", "file,id=con0,path=" + self.path("console.log"),
                "-serial", "chardev:con0",
                "-chardev", "socket,id=cmd0,path=%s,server=on,wait=off" %
                self.path("cmd.sock"),
                "-serial", "chardev:cmd0",
                "-qmp", "unix:%s,server=on,wait=off" % self.path("qmp.sock"),
                "-D", self.path("qemu-trace.log")]
        for ev in cfg.trace:
            args += ["-trace", ev]
        if cfg.numa_nodes:
            # Split boot memory evenly (in MiB).  One socket per node keeps
            # the CPU topology sane: CPUs sharing a last-level cache on
            # different nodes make the guest WARN in topology_sane().
            n = cfg.numa_nodes
            per = (boot // MiB) // n
            sizes = [per] * (n - 1) + [boot // MiB - per * (n - 1)]
            if cfg.smp % n == 0:
                cores = cfg.smp // n
                args[args.index("-smp") + 1] = \
                    "%d,sockets=%d,cores=%d,threads=1" % (cfg.smp, n, cores)
                node_of = [c // cores for c in range(cfg.smp)]
            else:
                args[args.index("-smp") + 1] = \
                    "%d,sockets=%d,cores=1,threads=1" % (cfg.smp, cfg.smp)
                node_of = [c % n for c in range(cfg.smp)]
            for i in range(n):
                cpus = [c for c in range(cfg.smp) if node_of[c] == i]
                args += ["-object", "memory-backend-ram,id=boot%d,size=%dM" %
                         (i, sizes[i])]
                node = "node,nodeid=%d,memdev=boot%d" % (i, i)
                node += "".join(",cpus=%d" % c for c in cpus)
                args += ["-numa", node]
        for d in cfg.devices:
            args += d.qemu_args()
        return args + list(cfg.qemu_args)

    def start(self):
        """Build the initramfs and launch QEMU (does not wait for the guest)."""
        self.workdir = tempfile.mkdtemp(prefix="vmtest-")
        try:
            build_initramfs(self.cfg, self.path("initramfs.gz"))
        except (InitramfsError, OSError) as e:
            raise VMError("cannot build the initramfs: %s" % e) from e
        open(self.path("console.log"), "wb").close()
        self.args = self.qemu_cmdline()
        with open(self.path("cmdline.txt"), "w") as f:
            f.write(" ".join(self.args) + "\n")
        self.t_start = time.monotonic()
        self.stderr = open(self.path("qemu.stderr"), "wb")
        # Own session: a Ctrl-C reaches us, not QEMU, so we clean up; and
        # QEMU gets SIGKILL should this process die without cleaning up.
        self.proc = subprocess.Popen(self.args, stdin=subprocess.DEVNULL,
                                     stdout=self.stderr, stderr=self.stderr,
                                     start_new_session=True,
                                     preexec_fn=_die_with_parent)
        # Connect to the command channel first: the guest's ready banner is
        # lost if nobody listens when it is printed.
        deadline = time.monotonic() + 30
        self.cmd_sock = connect_unix(self.path("cmd.sock"), deadline,
                                     self.alive)
        self.qmp = QMP(self.path("qmp.sock"), 30, self.alive)

    def stop(self, keep=False):
        """
        Kill QEMU, close sockets and remove the work directory. The work
        directory stays (and its path is printed and returned) with
        @keep, cfg.keep_workdir or VMTEST_KEEP=1, and always when the
        guest died on its own: a dead guest's console is never deleted.
        """
        died = self.proc is not None and self.proc.poll() is not None
        for s in (self.cmd_sock, self.qmp):
            if s is not None:
                s.close()
        self.cmd_sock = self.qmp = None
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        if getattr(self, "stderr", None):
            self.stderr.close()
            self.stderr = None
        if not self.workdir or getattr(self, "kept", False):
            return self.workdir if getattr(self, "kept", False) else None
        if keep or died or self.cfg.keep_workdir or \
                os.environ.get("VMTEST_KEEP"):
            self.kept = True
            if not (self.cfg.keep_workdir or os.environ.get("VMTEST_KEEP")):
                # The evidence only: console, QEMU's stderr and trace.
                for name in ("initramfs.gz", "cmd.sock", "qmp.sock"):
                    try:
                        os.unlink(self.path(name))
                    except OSError:
                        pass
            if not keep:        # else the caller says where it is
                print("vmtest: kept %s%s" % (
                    self.workdir, " (the guest died: see console.log)"
                    if died else ""), file=sys.stderr, flush=True)
            return self.workdir
        shutil.rmtree(self.workdir, ignore_errors=True)
        self.workdir = None
        return None

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    # -- diagnostics ------------------------------------------------------

    def console(self):
        """The whole kernel console output so far (str)."""
        try:
            with open(self.path("console.log"), "rb") as f:
                return f.read().decode("utf-8", "replace")
        except (OSError, TypeError):
            return ""

    def console_tail(self, lines=40):
        return "\n".join(self.console().splitlines()[-lines:])

    def qemu_stderr(self):
        try:
            with open(self.path("qemu.stderr"), "rb") as f:
                return f.read().decode("utf-8", "replace")
        except (OSError, TypeError):
            return ""

    def trace_log(self):
        """QEMU's -D log (trace events enabled with cfg.trace)."""
        try:
            with open(self.path("qemu-trace.log"), "rb") as f:
                return f.read().decode("utf-8", "replace")
        except (OSError, TypeError):
            return ""

    def traced_usable_sizes(self):
        """
        Usable region sizes QEMU reported through the trace event
        virtio_mem_resized_usable_region (enable it with
        cfg.trace=[TRACE_USABLE]), oldest first.  The event carries no device
        id, so this is only meaningful with a single virtio-mem device.
        """
        return [int(v, 16) for v in re.findall(
            TRACE_USABLE + r" old_size=0x[0-9a-f]+\s*new_size=(0x[0-9a-f]+)",
            self.trace_log())]

    def _failure(self, cls, what):
        """Build the exception for a dead/hung guest, with console context."""
        if self.proc is not None and cls is QemuExited:
            try:                # a closed socket may precede the exit status
                self.proc.wait(2)
            except subprocess.TimeoutExpired:
                pass
        msg = what
        try:
            self.check_console()
        except KernelComplaint as kc:
            msg += " [%s]" % str(kc).splitlines()[0]
        if not self.alive() and self.proc is not None:
            msg += " (QEMU exited with %s)" % self.proc.returncode
            err = self.qemu_stderr().strip()
            if err:
                msg += "\n--- qemu stderr ---\n" + err[-2000:]
            cls = QemuExited if cls is CommandTimeout else cls
        msg += "\n--- console tail ---\n" + self.console_tail()
        return cls(msg)

    def post_mortem(self, since=0):
        """
        What a dead or complaining guest left behind, as text: the first
        kernel complaint after console offset @since, QEMU's exit status
        and stderr, and the console tail.
        """
        parts = []
        try:
            self.check_console(since=since)
        except KernelComplaint as kc:
            parts.append(str(kc))
        if self.proc is not None and self.proc.poll() is not None:
            parts.append("QEMU exited with %s" % self.proc.returncode)
            err = self.qemu_stderr().strip()
            if err:
                parts.append("--- qemu stderr ---\n" + err[-2000:])
        parts.append("--- console tail ---\n" + self.console_tail())
        return "\n".join(parts)

    def check_console(self, since=0, ignore=()):
        """
        Raise KernelComplaint if the console (from character offset @since)
        contains a kernel splat.  @ignore is a list of regexes for lines that
        are expected (a case that provokes one of the lines above declares
        it).  Returns the console length, usable as the next @since.
        """
        text = self.console()
        if since:               # never start in the middle of a line
            since = text.rfind("\n", 0, since) + 1
        lines = text[since:].splitlines()
        pats = [re.compile(p) for p in COMPLAINT_PATTERNS]
        ign = [re.compile(p) for p in ignore]
        for i, raw in enumerate(lines):
            line = re.sub(r"^\s*\[\s*\d+\.\d+\]\s?", "", raw)
            if any(p.search(line) for p in pats) and \
               not any(p.search(line) for p in ign):
                start = max(0, i - 5)
                end = min(len(lines), i + 45)
                for j in range(i + 1, end):      # stop at the trace end
                    if "---[ end trace" in lines[j] or \
                       "end Kernel panic" in lines[j]:
                        end = j + 1
                        break
                raise KernelComplaint("kernel complaint: %s\n%s" %
                                      (line.strip(),
                                       "\n".join(lines[start:end])))
        return len(text)

    # -- command channel --------------------------------------------------

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
        rc, out = self.run("echo pong", timeout=30)
        if rc != 0 or out.strip() != "pong":
            raise self._failure(VMError, "bad ping answer %r" % out)
        self.boot_time = time.monotonic() - t0
        return self.boot_time

    def insmod_status(self):
        """[(rc, guest path, message)] of the insmods done by /init."""
        out = self.sh("cat /run/vmtest-insmod")
        res = []
        for line in out.splitlines():
            parts = line.split(" ", 2)
            res.append((int(parts[0]), parts[1],
                        parts[2] if len(parts) > 2 else ""))
        return res

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
        try:
            # The guest only reads once the previous command is done.
            self.cmd_sock.settimeout(timeout)
            self.cmd_sock.sendall(("%s %s\n" % (tok, enc)).encode())
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

    # -- QMP helpers ------------------------------------------------------

    def _qom_path(self, dev):
        return dev if dev.startswith("/") else "/machine/peripheral/" + dev

    def qom_set(self, dev, prop, value):
        return self.qmp.cmd("qom-set", path=self._qom_path(dev),
                            property=prop, value=value)

    def qom_get(self, dev, prop):
        return self.qmp.cmd("qom-get", path=self._qom_path(dev),
                            property=prop)

    def query_memory_devices(self):
        """{device id: QMP data dict} of all virtio-mem devices."""
        res = {}
        for d in self.qmp.cmd("query-memory-devices"):
            if d.get("type") == "virtio-mem":
                res[d["data"].get("id")] = d["data"]
        return res

    def system_reset(self, wait=True, timeout=None):
        """
        Reset the machine.  -no-reboot turns every reset into an exit, so the
        reboot action is switched to "reset" around the QMP system_reset and
        back to "shutdown" once the guest is up again (guest panics keep
        terminating QEMU).
        """
        self.qmp.cmd("set-action", reboot="reset")
        self.cmd_buf = b""
        self.t_start = time.monotonic()
        self.qmp.cmd("system_reset")
        if wait:
            try:
                self.wait_ready(timeout)
            finally:
                if self.alive():
                    self.qmp.cmd("set-action", reboot="shutdown")

    # -- guest helpers ----------------------------------------------------

    def virtio_mem_devices(self):
        """
        All virtio devices of type virtio-mem (device id 0x0018) in the guest:
        [{"name": "virtio0", "driver": "virtio_mem" or None,
          "attrs": {file: value} of <dev>/virtio_mem/ (empty if missing)}].
        """
        # Few processes: on a debug kernel under TCG each fork costs.
        script = r"""
for d in /sys/bus/virtio/devices/virtio*; do
	read -r id < $d/device 2>/dev/null || continue
	[ "$id" = 0x0018 ] || continue
	drv=
	[ -e $d/driver ] && drv=$(readlink $d/driver) && drv=${drv##*/}
	echo "@dev ${d##*/} $drv"
	[ -d $d/virtio_mem ] && grep -H '' $d/virtio_mem/* 2>&1
done
true
"""
        devs = []
        for line in self.sh(script).splitlines():
            parts = line.split(" ", 2)
            if parts[0] == "@dev":
                devs.append({"name": parts[1],
                             "driver": parts[2] if len(parts) > 2 and
                             parts[2] else None,
                             "attrs": {}})
            elif line.startswith("/sys/") and ":" in line and devs:
                path, value = line.split(":", 1)
                name = path.rsplit("/", 1)[-1]
                attrs = devs[-1]["attrs"]
                # A value of several lines comes as several "path:" lines.
                attrs[name] = (attrs[name] + " " + value).strip() \
                    if name in attrs else value.strip()
        return devs

    def kernel_mem(self):
        """
        The driver's kernel-memory budget figures, read independently
        from /proc/zoneinfo (include/vmem_budget.h): (avail, managed) in
        bytes over the zones below Movable, avail(z) = max(0, free +
        file / 2 - high).
        """
        avail = managed = 0
        zones = self.sh("cat /proc/zoneinfo").split("\nNode ")
        for z in zones:
            m = re.match(r"(?:Node )?\d+, zone\s+(\S+)", z)
            if not m or m.group(1) in ("Movable", "Device"):
                continue
            v = {}
            for line in z.splitlines()[1:]:
                f = line.split()
                if len(f) == 2 and f[1].isdigit():
                    v.setdefault(f[0], int(f[1]))
                elif len(f) == 3 and f[:2] == ["pages", "free"]:
                    v["free"] = int(f[2])
            if not v.get("present"):
                continue
            have = v.get("free", 0) + (v.get("nr_zone_inactive_file", 0) +
                                       v.get("nr_zone_active_file", 0)) // 2
            avail += max(0, have - v.get("high", 0)) * 4 * KiB
            managed += v.get("managed", 0) * 4 * KiB
        return avail, managed

    def meminfo(self):
        """/proc/meminfo as {key: bytes}."""
        res = {}
        for line in self.sh("cat /proc/meminfo").splitlines():
            m = re.match(r"(\S+):\s+(\d+)(\s+kB)?", line)
            if m:
                res[m.group(1)] = int(m.group(2)) * (KiB if m.group(3) else 1)
        return res


def usable_region_size(region, requested, block):
    """
    QEMU 7.2's usable region for a requested size (virtio-mem.c,
    virtio_mem_resize_usable_region()): requested + 256 MiB capped at the
    region, rounded up to the block size; 0 while nothing is requested.
    (It only grows at run time; it may shrink only on reset/unplug-all.)
    """
    if not requested:
        return 0
    size = min(region, requested + 256 * MiB)
    return -(-size // block) * block


def common_args(parser):
    """Add --kernel/--moddir/--ko to an argparse parser."""
    parser.add_argument("--kernel", required=True, help="guest bzImage")
    parser.add_argument("--moddir", default="",
                        help="guest /lib/modules/<version> directory; "
                        "empty for a kernel with virtio built in")
    parser.add_argument("--ko", default=None, help="our virtio_mem.ko")


def main():
    """Boot a guest and run commands: a manual smoke test of the harness."""
    import argparse
    p = argparse.ArgumentParser(description=main.__doc__)
    common_args(p)
    p.add_argument("--module", default="stock",
                   choices=["ours", "stock", "none"])
    p.add_argument("--region", default="4G")
    p.add_argument("--block-size", default=None)
    p.add_argument("--append", default="")
    p.add_argument("--keep", action="store_true", help="keep the work dir")
    p.add_argument("cmds", nargs="*", help="guest commands to run")
    a = p.parse_args()
    cfg = VMConfig(kernel=a.kernel, moddir=a.moddir, ko=a.ko,
                   module=a.module, append=a.append, keep_workdir=a.keep,
                   devices=[MemDevice("vm0", region_size=parse_size(a.region),
                                      block_size=a.block_size and
                                      parse_size(a.block_size))])
    with VM(cfg) as vm:
        print("boot time: %.1f s" % vm.boot_time)
        for c in a.cmds:
            rc, out = vm.run(c)
            print("$ %s  (rc=%d)\n%s" % (c, rc, out), end="")
        vm.check_console()
    return 0


if __name__ == "__main__":
    sys.exit(main())
