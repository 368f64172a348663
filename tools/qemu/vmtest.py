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

The harness is split by concern; this module holds the VM's life cycle
(QEMU's command line, start, stop, reset, the console and QMP helpers)
and re-exports what its users need from the others:

  units.py        sizes: KiB/MiB/GiB, parse_size(), fmt_size()
  vmerrors.py     the exceptions (VMError and its kinds)
  vmconfig.py     MemDevice, VMConfig, QEMU's usable region model
  qmp.py          the QMP client
  cmdchan.py      the command channel: run(), sh(), wait_ready()
  guestinfo.py    readers of the guest: meminfo(), virtio_mem_devices()...
  splat.py        the kernel-complaint scanner of the console
  qemu_trace.py   QEMU's virtio-mem trace events, parsed and replayed
  vmtest_initramfs.py, kmods.py   the initramfs and the guest's modules

Only the Python standard library is used.
"""

import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time

from cmdchan import READY_BANNER, CommandChannel  # noqa: F401
from guestinfo import GuestReaders
from qemu_trace import TRACE_USABLE, usable_sizes
from qmp import QMP, connect_unix
import pvh
from splat import COMPLAINT_PATTERNS, died_before_init, scan  # noqa: F401
from units import GiB, KiB, MiB, fmt_size, parse_size  # noqa: F401
from vmconfig import (DEFAULT_APPEND, MemDevice, VMConfig,  # noqa: F401
                      usable_region_size)
from vmerrors import (CommandFailed, CommandTimeout,  # noqa: F401
                      KernelComplaint, QemuExited, QMPError, VMError)
from vmtest_initramfs import (BASE_MODULES, GUEST_KO,  # noqa: F401
                              InitramfsError, build_initramfs)

__all__ = ["VM", "READY_BANNER", "TRACE_USABLE", "COMPLAINT_PATTERNS",
           "GiB", "KiB", "MiB", "fmt_size", "parse_size", "DEFAULT_APPEND",
           "MemDevice", "VMConfig", "usable_region_size", "CommandFailed",
           "CommandTimeout", "KernelComplaint", "QemuExited", "QMPError",
           "VMError", "BASE_MODULES", "GUEST_KO", "common_args", "main"]


def tcg_threads():
    """
    VMTEST_TCG: "multi" (the default) runs each vCPU on a host thread of
    its own, truly in parallel; "single" runs the vCPUs in turn on one
    host thread. With more vCPU threads than host cores (make test's three
    workers' two-vCPU guests on two cores), a multi-threaded vCPU spins
    (IPIs, TLB shootdowns, stop_machine) while the one it waits for has no
    core, and a guest costs about a third more CPU than in turns.
    """
    mode = os.environ.get("VMTEST_TCG", "multi")
    if mode not in ("multi", "single"):
        raise VMError("VMTEST_TCG=%s: multi or single" % mode)
    return mode


def crash_signal(proc, wait=0.0):
    """
    The signal (SIGSEGV, SIGBUS, SIGABRT, SIGILL, SIGFPE) that ended QEMU
    process @proc, or None; waits up to @wait s for it to be reaped (its
    sockets close before it is).
    """
    try:
        rc = proc.wait(wait) if wait else proc.poll()
    except subprocess.TimeoutExpired:
        return None
    crashes = (signal.SIGSEGV, signal.SIGBUS, signal.SIGABRT,
               signal.SIGILL, signal.SIGFPE)
    return -rc if rc is not None and -rc in crashes else None


def _die_with_parent():
    """Child side of Popen: ask for SIGKILL when our parent exits."""
    try:
        import ctypes
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, 9)        # PR_SET_PDEATHSIG, SIGKILL
    except (OSError, AttributeError):
        pass


class VM(CommandChannel, GuestReaders):
    """
    One QEMU guest.  Use as a context manager (boots and waits for the
    command channel; always kills QEMU and removes the work directory), or
    call start(), wait_ready() and stop() by hand.  Set cfg.keep_workdir or
    VMTEST_KEEP=1 to keep the console log, QEMU command line and initramfs;
    VMTEST_TCG=single to run its vCPUs in turn (tcg_threads()).
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
        self.scripts = set()        # scripts the guest keeps (cmdchan.py)

    # -- life cycle -------------------------------------------------------

    def __enter__(self):
        for attempt in (1, 2):
            try:
                self.start()
                self.wait_ready()
                return self
            except VMError as e:
                crashed = self.proc is not None and crash_signal(
                    self.proc, wait=10.0 if isinstance(e, QemuExited) else 0)
                early = attempt == 1 and self.proc is not None and (
                    crashed or self.proc.poll() is not None and
                    died_before_init(self.console()))
                kept = self.stop()
                if not early:
                    raise
                # Not the driver's: nothing of it ran yet, or QEMU
                # itself crashed. Once more.
                print("# boot retried: %s (%s; console kept in %s)" % (
                    "QEMU crashed (signal %d)" % crashed if crashed else
                    "the guest kernel died before /init",
                    str(e).splitlines()[0], kept), flush=True)
                self.kept = False
                self.workdir = self.proc = None
                self.cmd_buf = b""
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
        args = [cfg.qemu, "-machine", "q35",
                "-accel", "tcg,thread=" + tcg_threads(),
                "-nographic", "-nodefaults", "-no-reboot",
                "-m", "%dM,slots=%d,maxmem=%dM" % (boot // MiB, cfg.slots,
                                                   maxmem // MiB),
                "-smp", str(cfg.smp),
                "-kernel", pvh.image(cfg.kernel),
                "-initrd", self.path("initramfs.gz"),
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

    def cpu_seconds(self):
        """Host CPU time (user + system) QEMU has used so far; 0 if gone."""
        try:
            with open("/proc/%d/stat" % self.proc.pid) as f:
                fields = f.read().rsplit(")", 1)[1].split()
        except (OSError, AttributeError, IndexError):
            return 0.0
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

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
        Usable region sizes QEMU traced (cfg.trace=[TRACE_USABLE]), oldest
        first: meaningful with a single virtio-mem device only.
        """
        return usable_sizes(self.trace_log())

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
        holds a kernel splat (splat.scan()); @ignore: regexes of expected
        lines. Returns the console length, usable as the next @since.
        """
        return scan(self.console(), since, ignore)

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
