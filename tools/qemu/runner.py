# SPDX-License-Identifier: GPL-2.0
"""
The QEMU suite's runner: the cases of one guest shape share a boot, each
prints one PASS, FAIL or SKIP line, and a guest is watched between the
cases too (GroupRunner).
"""

import contextlib
import fnmatch
import io
import re
import time
import traceback

import registry
import testguest
import vmtest
from qcheck import TestFailure, check, first_line, selftest_exit


class GroupRunner:
    """
    Runs the cases of one guest configuration, (re)booting as needed.

    A guest is looked at outside the cases too: before each case, and
    after the group's last one (before QEMU is killed). A guest that died
    there, that no longer answers, or whose console shows a kernel
    complaint fails the case that ran last on it, with the splat and the
    console tail; the dead guest's console is kept. A guest on which a
    case failed, or that complained, is not used again: its console is
    kept, and the next case boots a new one.
    """

    def __init__(self, group, args, verdicts):
        self.group = group
        self.args = args
        self.verdicts = verdicts    # case name -> PASS / FAIL / SKIP
        self.g = None
        self.boot_error = None
        self.last = None            # the case that ran last on self.g

    def name(self, case):
        return "%s/%s" % (self.args.tag, case) if self.args.tag else case

    def fail(self, name, why, detail=""):
        if detail.strip():
            print("  " + detail.strip().replace("\n", "\n  "))
        print("FAIL: %s: %s" % (name, why), flush=True)
        self.verdicts[name] = "FAIL"

    def audit(self, final=False):
        """
        The guest between cases (@final: after the last one): alive,
        answering and with a clean console since the last check, or the
        last case fails and the guest is dropped, its console kept.
        """
        g = self.g
        if g is None:
            return
        vm = g.vm
        why = None
        try:
            if vm.alive():
                if final:           # still answering?
                    vm.run("true", timeout=60)
                g.checked = vm.check_console(since=g.checked)
                if vm.alive():
                    return
        except vmtest.KernelComplaint as kc:
            why = "after the case: %s" % first_line(kc)
        except vmtest.VMError as e:
            why = "after the case: %s" % first_line(e)
        if why is None:
            why = "the guest died after the case"
            try:
                vm.check_console(since=g.checked)
            except vmtest.KernelComplaint as kc:
                why += ": " + first_line(kc)
        if not vm.alive():
            why += " (QEMU exited with %s)" % vm.proc.returncode
        detail = vm.post_mortem(since=g.checked)
        kept = vm.stop(keep=True)
        self.g = None
        self.fail(self.last or self.name("boot-" + self.group), why,
                  detail + "\nconsole kept in %s" % kept)

    def guest(self):
        if self.boot_error is not None:
            raise TestFailure("boot of guest '%s' failed: %s" %
                              (self.group, self.boot_error))
        self.audit()
        if self.g is None:
            self.last = None
            try:
                self.g = testguest.boot(self.group, self.args)
            except Exception as e:
                self.boot_error = first_line(e)
                raise
        return self.g

    def stop(self):
        """After the group's last case: look at the guest once more."""
        try:
            self.audit(final=True)
        finally:
            if self.g is not None:
                self.g.vm.stop()
                self.g = None

    def run(self, case):
        """
        Run one case; print its PASS/FAIL line; return True if passed.
        A case during which QEMU itself crashed (killed by a signal: seen
        under TCG, a SIGSEGV of QEMU 7.2 while the guest rebooted after a
        system_reset) runs once more on a new guest: an emulator crash says
        nothing of the guest's driver. A second crash fails it.
        """
        for attempt in (1, 2):
            verdict = self.attempt(case, retry=attempt == 1)
            if verdict is not None:
                return verdict
        return False

    @staticmethod
    def qemu_crashed(g, e):
        """The crash signal that ended @g's QEMU (vmtest.crash_signal()),
        waiting for its exit a while if @e says it went away."""
        if g is None or g.vm.proc is None:
            return None
        return vmtest.crash_signal(g.vm.proc, wait=10.0 if isinstance(
            e, (vmtest.QemuExited, OSError)) else 0)

    def attempt(self, case, retry):
        """run()'s one try: True, False, or None (@retry: QEMU crashed)."""
        name = self.name(case.name)
        try:
            g = self.guest()
            self.last = name
            t0, c0 = time.monotonic(), g.vm.cpu_seconds()
            since = g.checked
            case.fn(g)
            expects = case.expects
            text = g.vm.console()[since:]
            for pat in expects:
                check(re.search(pat, text, re.M), "the expected console "
                      "line %r did not appear" % pat)
            g.checked = g.vm.check_console(since=since, ignore=expects)
            if not g.vm.alive():
                raise vmtest.QemuExited("the guest died at the end of the "
                                        "case")
            print("PASS: %s (%.1f s, cpu %.1f s)" % (
                name, time.monotonic() - t0, g.vm.cpu_seconds() - c0),
                flush=True)
            self.verdicts[name] = "PASS"
            return True
        except Exception as e:          # one case never stops the others
            detail = str(e)
            if not isinstance(e, (TestFailure, vmtest.VMError)):
                detail = traceback.format_exc()
            g = self.g
            sig = self.qemu_crashed(g, e)
            if retry and sig:
                kept = g.vm.stop(keep=True)
                self.g = None
                print("# %s: QEMU crashed (signal %d) during the case: "
                      "not the guest's doing; once more on a new guest "
                      "(%s; console kept in %s)" % (name, sig, first_line(e),
                                                     kept), flush=True)
                return None
            if g is not None and not isinstance(e, vmtest.KernelComplaint):
                try:                    # a splat explains a lot
                    g.vm.check_console(since=g.checked,
                                       ignore=case.expects)
                except vmtest.KernelComplaint as kc:
                    detail += "\n" + str(kc)
            if g is not None:
                # Not used again, complaint or not: a case stopped halfway
                # leaves its workloads, pins and plugged memory to the
                # next one, which then fails for them (CI: vmsplice_pin's
                # pins, left running, kept iomem_exclusive's shrink
                # retrying -EBUSY). Its console is kept.
                detail += "\nconsole kept in %s" % g.vm.stop(keep=True)
                self.g = None
            self.fail(name, first_line(e),
                      detail if "\n" in detail.strip() else "")
            return False

    def skip(self, case, why):
        name = self.name(case)
        print("SKIP: %s: %s" % (name, why), flush=True)
        self.verdicts[name] = "SKIP"


def run_cases(cases, args, facts):
    """Run @cases (registry.Case) group by group; {case name: verdict}."""
    verdicts = {}
    skip = [p for p in (args.skip or "").split(",") if p]
    for group in registry.groups(cases):
        runner = GroupRunner(group, args, verdicts)
        try:
            for c in [c for c in cases if c.group == group]:
                why = "left out with --skip" if any(
                    fnmatch.fnmatch(c.name, p) for p in skip) else \
                    facts.skip_reason(c.needs, c.skip_on)
                if why:
                    runner.skip(c.name, why)
                else:
                    runner.run(c)
        finally:                        # also on Ctrl-C / SIGTERM
            runner.stop()
    return verdicts


def tally(verdicts):
    """'N passed, N failed, N skipped' of {name: verdict}."""
    n = {v: sum(1 for x in verdicts.values() if x == v)
         for v in ("PASS", "FAIL", "SKIP")}
    return "%d passed, %d failed, %d skipped" % (n["PASS"], n["FAIL"],
                                                 n["SKIP"])


class FakeVM:
    """What GroupRunner uses of a vmtest.VM, for selftest()."""

    def __init__(self, n):
        self.n = n              # the boot's number
        self.kept = None        # stop()'s keep
        self.proc = None

    def alive(self):
        return self.kept is None

    def run(self, cmd, timeout=None):
        return 0, ""

    def console(self):
        return ""

    def check_console(self, since=0, ignore=()):
        return 0

    def cpu_seconds(self):
        return 0.0

    def post_mortem(self, since=0):
        return ""

    def stop(self, keep=False):
        self.kept = keep
        return "/kept/%d" % self.n if keep else None


def selftest():
    """GroupRunner on fake guests: passing cases share a boot; a case that
    failed leaves a guest no later case runs on, its console kept."""
    boots, ran = [], {}

    def boot(group, args):
        boots.append(FakeVM(len(boots)))
        return type("FakeGuest", (), {"vm": boots[-1], "checked": 0})()

    def fails(g):
        ran["fails"] = g.vm.n
        check(False, "planted failure")

    def passes(name):
        def fn(g):
            ran[name] = g.vm.n
        return fn

    cases = [registry.Case("a", "g", passes("a")),
             registry.Case("fails", "g", fails),
             registry.Case("b", "g", passes("b")),
             registry.Case("c", "g", passes("c"))]
    verdicts, bad = {}, []
    real, testguest.boot = testguest.boot, boot
    try:
        runner = GroupRunner("g", type("Args", (), {"tag": ""})(), verdicts)
        with contextlib.redirect_stdout(io.StringIO()):
            for c in cases:
                runner.run(c)
            runner.stop()
    finally:
        testguest.boot = real
    want = {"a": "PASS", "fails": "FAIL", "b": "PASS", "c": "PASS"}
    if verdicts != want:
        bad.append("verdicts %s, not %s" % (verdicts, want))
    if ran != {"a": 0, "fails": 0, "b": 1, "c": 1}:
        bad.append("cases ran on boots %s: after a failed case, a new "
                   "guest; else, the same" % ran)
    if not boots or boots[0].kept is not True:
        bad.append("the failed case's guest was stopped with keep=%s" %
                   (boots[0].kept if boots else None))
    return bad


if __name__ == "__main__":
    selftest_exit("runner/new-guest-after-failure", selftest())
