# SPDX-License-Identifier: GPL-2.0
"""
The kernel-complaint scanner: WARN, BUG, Oops, lockdep, KASAN, hung
tasks, the OOM killer and the driver's own error lines, found in a
guest's console text.
"""

import re

from qcheck import selftest_exit
from vmerrors import KernelComplaint

# Kernel complaints recognised by scan(). Each pattern is matched
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

# The printk timestamp in front of a console line.
STAMP = re.compile(r"^\s*\[\s*\d+\.\d+\]\s?")


def early_boot(text, pos, trace):
    """
    Whether the complaint at offset @pos of console @text, with its
    @trace lines, came from the guest kernel's own start, before any of
    the driver ran: its boot ("Linux version", or the console's start)
    had printed neither "Run /init" (our module is loaded by /init) nor
    any virtio_mem line yet, and the trace names neither virtio_mem nor
    vmem_. Under TCG, Debian 13's 6.12 hits "Oops: int3" there now and
    then: a race of the emulator with the kernel's text patching (seen in
    run_timer_softirq and key_set_index_key at 1.7-2.3 s, and at boot
    after a system_reset).
    """
    seg = max(text.rfind("Linux version ", 0, pos), 0)
    head = text[seg:pos]
    return "Run /init" not in head and "virtio_mem" not in head and \
        not any("virtio_mem" in t or "vmem_" in t for t in trace)


def complaints(text, since=0, ignore=()):
    """
    The splats of @text from offset @since, but the @ignore ones: per
    splat (its line, the lines around it up to its trace's end, and
    whether it is early_boot()).
    """
    if since:               # never start in the middle of a line
        since = text.rfind("\n", 0, since) + 1
    lines = text[since:].splitlines(True)
    pats = [re.compile(p) for p in COMPLAINT_PATTERNS]
    ign = [re.compile(p) for p in ignore]
    pos = since
    for i, raw in enumerate(lines):
        at, pos = pos, pos + len(raw)
        line = STAMP.sub("", raw.rstrip("\n"))
        if any(p.search(line) for p in pats) and \
           not any(p.search(line) for p in ign):
            start = max(0, i - 5)
            end = min(len(lines), i + 45)
            for j in range(i + 1, end):      # stop at the trace end
                if "---[ end trace" in lines[j] or \
                   "end Kernel panic" in lines[j]:
                    end = j + 1
                    break
            yield (line.strip(), "".join(lines[start:end]).rstrip("\n"),
                   early_boot(text, at, lines[i:end]))


def died_before_init(text):
    """Whether console @text has splats, and all of its kernel's start."""
    found = list(complaints(text))
    return bool(found) and all(early for _, _, early in found)


def scan(text, since=0, ignore=()):
    """
    Raise KernelComplaint if @text (from character offset @since) holds a
    kernel splat, with the lines around it up to the end of its trace.
    @ignore is a list of regexes for lines that are expected (a case that
    provokes one of the lines above declares it). A splat of the guest
    kernel's own start (early_boot()) is printed, not raised. Returns
    len(@text), usable as the next @since.
    """
    for line, context, early in complaints(text, since, ignore):
        if early:
            print("# not the driver's: the guest kernel complained in its "
                  "own start, before /init: %s" % line, flush=True)
            continue
        raise KernelComplaint("kernel complaint: %s\n%s" % (line, context))
    return len(text)


def selftest():
    """early_boot() through died_before_init() and scan(), made up."""
    oops = ("[    1.682004] Oops: int3: 0000 [#1] PREEMPT SMP NOPTI\n"
            "[    1.682004] RIP: 0010:run_timer_softirq+0xd7/0xf0\n")
    ours = ("[    1.682004] Oops: int3: 0000 [#1] PREEMPT SMP NOPTI\n"
            "[    1.682004]  vmem_engine_run+0x9c/0x290 [virtio_mem]\n")
    boot = "[    0.000000] Linux version 6.12.118+deb13-amd64\n"
    init = "[    2.100000] Run /init as init process\n"
    probe = "[    3.000000] virtio_mem virtio0: start address: 0x100000000\n"
    cases = [("an oops before /init", boot + oops, True),
             ("an oops after /init", boot + init + oops, False),
             ("an oops after the driver's probe", probe + oops, False),
             ("an oops naming the driver", boot + ours, False),
             ("an oops in the next boot's start", boot + init + probe +
              boot + oops, True),
             ("a clean boot", boot + init + probe, False)]
    bad = [d for d, text, want in cases if died_before_init(text) != want]
    for d, text, want in cases:
        try:
            scan(text)
            raised = False
        except KernelComplaint:
            raised = True
        if raised != (not want and "Oops" in text):
            bad.append("scan: " + d)
    return bad


if __name__ == "__main__":
    # make test's stage splat: python3 tools/qemu/splat.py
    selftest_exit("splat/early-boot", selftest())
