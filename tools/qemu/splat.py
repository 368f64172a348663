# SPDX-License-Identifier: GPL-2.0
"""
The kernel-complaint scanner: WARN, BUG, Oops, lockdep, KASAN, hung
tasks, the OOM killer and the driver's own error lines, found in a
guest's console text.
"""

import re

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


def scan(text, since=0, ignore=()):
    """
    Raise KernelComplaint if @text (from character offset @since) holds a
    kernel splat, with the lines around it up to the end of its trace.
    @ignore is a list of regexes for lines that are expected (a case that
    provokes one of the lines above declares it). Returns len(@text),
    usable as the next @since.
    """
    if since:               # never start in the middle of a line
        since = text.rfind("\n", 0, since) + 1
    lines = text[since:].splitlines()
    pats = [re.compile(p) for p in COMPLAINT_PATTERNS]
    ign = [re.compile(p) for p in ignore]
    for i, raw in enumerate(lines):
        line = STAMP.sub("", raw)
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
