# SPDX-License-Identifier: GPL-2.0
"""
What the QEMU cases, the soak and the demo do to a guest with one
virtio-mem device "vm0": read the three views of it (QMP, the driver's
sysfs, MemTotal), ask for a size and wait for it, online memory, set a
driver parameter, run the checksummed workload (tools/memfill).
"""

import os
import re
import time

import qemu_trace
from qcheck import TestFailure, check, first_line
from registry import MEMFILL
from units import KiB, MiB, fmt_size

MEMORY = "/sys/devices/system/memory"
TRACEFS = "/sys/kernel/tracing"
# Smaller targets for slow kernels (qemu_tests.py --small).
SMALL = False


def retry_max():
    """The driver's longest retry backoff in seconds (VMEM_RETRY_MAX_MS)."""
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..",
                        "..", "include", "vmem_engine.h")
    with open(path) as f:
        m = re.search(r"#define\s+VMEM_RETRY_MAX_MS\s+(\d+)", f.read())
    return int(m.group(1)) / 1000.0


# A target the load kept out of reach comes within a few rounds of the
# longest backoff once the load is gone.
RETRY_WAIT = 3 * retry_max() + 10


class Pacer:
    """
    The pauses of a loop that polls a guest. A poll costs the guest CPU
    that the work waited for needs too (the vCPUs share one host thread,
    VMTEST_TCG=single): a views() snapshot took 0.09 CPU-seconds on
    Debian 12's kernel and 0.53 on the debug kernel, so that polls every
    0.3 s took most of a debug guest. The first pause is @first, for the
    quick ends; each next one is a quarter longer, up to MAX; and a pause
    is never shorter than RATIO times what the poll before it took, so
    that polling takes at most about a quarter of the guest.
    """
    MAX = 2.0
    RATIO = 3.0

    def __init__(self, first=0.3):
        self.pause = first
        self.t = time.monotonic()       # when the current poll began

    def wait(self):
        """Sleep between two polls."""
        took = time.monotonic() - self.t
        time.sleep(max(self.pause, self.RATIO * took))
        self.pause = min(self.pause * 1.25, self.MAX)
        self.t = time.monotonic()


def views(g):
    """(QMP data, driver sysfs attrs, MemTotal) of the guest's only device."""
    q = g.vm.query_memory_devices()["vm0"]
    devs, mem = g.vm.snapshot()
    check(len(devs) == 1, "expected one virtio-mem device: %s" % devs)
    return q, devs[0]["attrs"], mem["MemTotal"]


def attr(a, name):
    check(name in a, "sysfs file %s missing: %s" % (name, sorted(a)))
    return int(a[name])


# Boot to boot, a guest's MemTotal may differ by a page or so (seen on
# Debian 13's 6.12: 4 KiB either way between two boots of one guest). A
# driver that miscounts is off by a subblock (2 MiB here) at least.
BOOT_JITTER = 16 * 4096


def wait_for(g, target, online=True, timeout=180.0, rebooted=False):
    """
    Wait until QMP size, the driver's plugged_size and (with @online)
    MemTotal - base all equal @target. After a reboot (@rebooted), MemTotal
    - base may be off by BOOT_JITTER; the base is then taken anew. Returns
    the seconds it took.
    """
    t0 = time.monotonic()
    pace = Pacer()
    while True:
        q, a, total = views(g)
        plugged = attr(a, "plugged_size")
        mem = total - g.base_memtotal
        near = abs(mem - target) <= BOOT_JITTER if rebooted else \
            mem == target
        done = q["size"] == target and plugged == target and \
            (not online or near)
        if done and online and rebooted and mem != target:
            print("  MemTotal after the reboot: the base moved by %+d bytes"
                  % (mem - target))
            g.base_memtotal = total - target
        if done:
            return time.monotonic() - t0
        if time.monotonic() - t0 > timeout:
            raise TestFailure(
                "target %s not reached after %.0f s: QMP size %s, "
                "plugged_size %s, MemTotal-base %s, state %r%s" %
                (fmt_size(target), timeout, fmt_size(q["size"]),
                 fmt_size(plugged), fmt_size(mem), a.get("state"),
                 stall_evidence(g) if plugged > target else ""))
        pace.wait()


def stall_evidence(g):
    """A shrink that did not end: the guest's last console lines, whether
    it is still failing or stuck in one call (the state is the last
    finished run's: the failure counters 3 s apart, the stacks of tasks in
    the driver's code) and what the pages of the added memory are
    (GuestReaders.page_census()), as lines to add to the failure."""
    text = "\nthe guest's console, last lines:\n" + \
        "\n".join(g.vm.console().splitlines()[-15:])
    keys = ("fake_offline_failures", "offline_and_remove_failures",
            "retry_state", "state")
    try:
        for i in range(2):
            if i:
                time.sleep(3)
            _q, a, _t = views(g)
            text += "\ncounters: " + ", ".join(
                "%s %s" % (k, a.get(k)) for k in keys)
        text += "\nstacks in the driver's code:\n" + g.vm.sh(
            "for f in /proc/[0-9]*/stack; do "
            "grep -q -e vmem_ -e virtio_mem $f 2>/dev/null || continue; "
            "echo \"$f:\"; cat $f; done; true")
        text += "\nthe pages of the added memory:\n" + g.vm.page_census()
    except Exception as e:      # evidence only: never hide the failure
        text += "\nno more evidence: %s" % first_line(e)
    return text


def books_match(g):
    """QMP size == plugged_size, read while nothing moves (state idle or
    retrying): the driver's books never differ from the device's."""
    for _ in range(20):
        q, a, _t = views(g)
        if q["size"] == attr(a, "plugged_size"):
            return q["size"], a
        time.sleep(0.3)
    raise TestFailure("QMP size %d != plugged_size %s (state %r)" %
                      (q["size"], a["plugged_size"], a.get("state")))


def resize(g, target, online=True, timeout=180.0):
    q = g.vm.query_memory_devices()["vm0"]
    g.set_requested("vm0", target, q["block-size"])
    dt = wait_for(g, target, online, timeout)
    _q, a, total = views(g)
    print("  %-8s reached in %5.1f s  MemTotal %s  movable %s kernel %s "
          "offline %s" % (fmt_size(target), dt, fmt_size(total),
                          fmt_size(attr(a, "plugged_online_movable")),
                          fmt_size(attr(a, "plugged_online_kernel")),
                          fmt_size(attr(a, "plugged_offline"))), flush=True)
    return a


def online_all(g):
    """Online every offline memory block (movable); return how many."""
    out = g.vm.sh("n=0; for m in %s/memory*; do "
                  "[ \"$(cat $m/state)\" = offline ] || continue; "
                  "echo online_movable > $m/state && n=$((n+1)); done; "
                  "echo $n" % MEMORY)
    return int(out.split()[-1])


def param(g, name, value=None):
    path = "/sys/module/virtio_mem/parameters/" + name
    if value is not None:
        g.vm.sh("echo %s > %s" % (value, path))
    return g.vm.read_file(path)


def memfill_start(g, percent=None, mib=None, args=""):
    """
    Start the checksummed workload on @percent of MemAvailable (or @mib
    MiB); returns its pid once it has filled its memory.
    """
    size = "-m %d" % mib if mib else "-p %d" % percent
    pid = g.vm.sh("%s %s -i 2000 %s > /tmp/memfill.log 2>&1 & echo $!" %
                  (MEMFILL, size, args)).split()[-1]
    t0 = time.monotonic()
    while "memfill: ready" not in g.vm.sh("cat /tmp/memfill.log"):
        check(time.monotonic() - t0 < 120, "memfill not ready: %s" %
              g.vm.sh("cat /tmp/memfill.log"))
        check(g.vm.run("kill -0 %s" % pid)[0] == 0, "memfill died: %s" %
              g.vm.sh("cat /tmp/memfill.log"))
        time.sleep(1)
    log = g.vm.sh("cat /tmp/memfill.log")
    print("  " + log.strip().splitlines()[-1], flush=True)
    return pid


MEMFILL_LINE = r"memfill: %s passes=(\d+) verified=(\d+) corrupt=(\d+)"


def memfill_alive(g, pid, what=""):
    check(g.vm.run("kill -0 %s" % pid)[0] == 0, "%smemfill was killed:\n%s"
          % (what + ": " if what else "",
             g.vm.sh("cat /tmp/memfill.log; dmesg | tail -20")))


def memfill_status(g, pid, timeout=180.0):
    """
    (passes, verified bytes, corrupt bytes) of the running memfill: it
    answers SIGUSR1 after its current pass.
    """
    n = g.vm.sh("cat /tmp/memfill.log").count("memfill: status")
    g.vm.sh("kill -USR1 %s" % pid)
    t0 = time.monotonic()
    while True:
        log = g.vm.sh("cat /tmp/memfill.log")
        found = re.findall(MEMFILL_LINE % "status", log)
        if len(found) > n:
            return tuple(int(x) for x in found[-1])
        memfill_alive(g, pid)
        check(time.monotonic() - t0 < timeout, "memfill did not answer "
              "SIGUSR1 in %.0f s:\n%s" % (timeout, log))
        time.sleep(0.5)


def memfill_stop(g, pid):
    """SIGTERM, wait; return the final 'done' line's numbers."""
    g.vm.sh("kill -TERM %s; while kill -0 %s 2>/dev/null; do sleep 0.2; "
            "done" % (pid, pid), timeout=300)
    log = g.vm.sh("cat /tmp/memfill.log")
    m = re.search(MEMFILL_LINE % "done", log)
    check(m, "memfill did not finish cleanly:\n%s" % log)
    return tuple(int(x) for x in m.groups())


def memfill_control(g):
    """
    memfill -X flips one byte after its fill: its check must catch that
    (corrupt > 0, exit code 1), or a clean run of it proves nothing.
    """
    rc, out = g.vm.run(
        "%s -m 16 -X -i 100 > /tmp/memfill-x.log 2>&1 & p=$!; "
        "i=0; until grep -q ready /tmp/memfill-x.log; do "
        "i=$((i+1)); [ $i -gt 300 ] && break; sleep 0.2; done; "
        "sleep 0.5; kill -TERM $p; wait $p; echo rc=$?; "
        "cat /tmp/memfill-x.log" % MEMFILL, timeout=120)
    m = re.search(MEMFILL_LINE % "done", out)
    check(m and "rc=1" in out and int(m.group(3)) > 0,
          "memfill -X: the flipped byte was not caught:\n%s" % out)
    print("  memfill -X control: %s bytes corrupted found, exit code 1" %
          m.group(3))


DEBUGFS = "/sys/kernel/debug/virtio_mem"
CHECK_LINE = re.compile(r"# check: (\d+) ranges, (\d+) bytes, (\d+) "
                        r"mismatches, (\d+) failed")


def device_name(g):
    """The guest's only virtio-mem device (virtioN)."""
    out = g.vm.sh("ls -d /sys/bus/virtio/devices/*/virtio_mem")
    dirs = out.split()
    check(len(dirs) == 1, "expected one virtio_mem directory: %s" % dirs)
    return dirs[0].split("/")[-2]


def selfcheck(g, what=""):
    """
    The driver's books against the device, range by range: a write to the
    debugfs map file asks the device the state of every range the books
    name; 0 mismatches and 0 failed requests. Returns (ranges, bytes,
    map text).
    """
    path = "%s/%s/map" % (DEBUGFS, device_name(g))
    for _ in range(20):         # EBUSY until a probe's UNPLUG_ALL is done
        rc, out = g.vm.run("echo check > %s" % path)
        if rc == 0:
            break
        time.sleep(0.5)
    check(rc == 0, "%sthe self-check did not run: %s" %
          (what + ": " if what else "", out.strip()))
    out = g.vm.sh("cat %s" % path)
    m = CHECK_LINE.search(out)
    check(m, "no check result in %s:\n%s" % (path, out))
    ranges, nbytes, bad, failed = (int(x) for x in m.groups())
    check(bad == 0 and failed == 0, "%sself-check: %d mismatches, %d "
          "failed requests:\n%s" % (what + ": " if what else "", bad,
                                    failed, out[-1500:]))
    return ranges, nbytes, out


def wait_decided(g, target, quiet=6.0, timeout=240.0):
    """
    After a new target: (True, size, attrs) once QMP size, plugged_size
    and MemTotal follow it; (False, size, attrs) once the driver says it
    is retrying (or limited) and plugged_size held still for @quiet s.
    """
    t0 = time.monotonic()
    pace = Pacer()
    last, since = None, time.monotonic()
    while True:
        q, a, total = views(g)
        plugged = attr(a, "plugged_size")
        if q["size"] == target == plugged and \
                total - g.base_memtotal == target:
            return True, plugged, a
        if plugged != last:
            last, since = plugged, time.monotonic()
        state = a.get("state", "")
        if (state.startswith("retrying") or "kernel memory" in state) and \
                time.monotonic() - since >= quiet:
            return False, plugged, a
        check(time.monotonic() - t0 < timeout, "target %s: no decision "
              "after %.0f s: plugged %s, state %r" %
              (fmt_size(target), timeout, fmt_size(plugged), state))
        pace.wait()


def reserve(total):
    """The driver's free-memory reserve (vmem_hotplug.c)."""
    return max(128 * MiB, total // 32)


# Kernel memory may move between the driver's check and ours.
KMEM_SLACK = 64 * MiB


def block_cost(block):
    """
    An upper bound of the kernel memory one add takes: the budget's cost
    (vmem_budget.h) with a KASAN shadow, for a block of max(@block,
    128 MiB).
    """
    size = max(block, 128 * MiB)
    return size // 64 + size // 512 + 64 * KiB + size // 8


def unplug_allowed(mem, size, target):
    """
    Whether free memory allows shrinking from @size to @target, read
    independently of the driver (/proc/meminfo @mem): MemFree less what
    has to move stays above the driver's reserve plus 128 MiB.
    """
    need = max(0, size - target)
    return mem["MemFree"] - need >= reserve(mem["MemTotal"]) + 128 * MiB


def judge_short(vm, what, target, size, a, block):
    """
    A target left short (QMP size @size, driver attrs @a) must be one the
    guest's own figures forbid: kernel memory near the budget's floor when
    the driver says so, else free memory (unplug_allowed()) with state
    "retrying". Returns "kernel memory" or "free memory"; raises
    TestFailure otherwise.
    """
    if "kernel memory" in a.get("state", ""):
        # Plugging stopped by the budget: kernel memory must really be
        # near the floor (next add + slack).
        avail, managed = vm.kernel_mem()
        edge = max(64 * MiB, managed // 32) + block_cost(block) + KMEM_SLACK
        check(size < target and avail < edge,
              "%s: target %s short (plugged %s), state %r, but kernel "
              "zones have %s over the high watermarks (limit %s)" %
              (what, fmt_size(target), fmt_size(size), a.get("state"),
               fmt_size(avail), fmt_size(edge)))
        return "kernel memory"
    mem = vm.meminfo()
    check(size > target and not unplug_allowed(mem, size, target),
          "%s: target %s not reached although memory allowed it: plugged "
          "%s, MemFree %s, state %r" %
          (what, fmt_size(target), fmt_size(size), fmt_size(mem["MemFree"]),
           a.get("state")))
    check(a.get("state", "").startswith("retrying"),
          "%s: short of %s, state %r" % (what, fmt_size(target),
                                         a.get("state")))
    return "free memory"


def wait_state(g, pattern, timeout=60.0):
    """
    Wait until the driver's state file matches the regex @pattern: the
    driver has decided what it does about the current request. Returns
    the sysfs attrs.
    """
    t0 = time.monotonic()
    pace = Pacer()
    while True:
        _q, a, _t = views(g)
        if re.match(pattern, a.get("state", "")):
            return a
        if time.monotonic() - t0 > timeout:
            raise TestFailure("state %r after %.0f s, waiting for %r" %
                              (a.get("state"), timeout, pattern))
        pace.wait()


def wait_log(g, pattern, timeout=30.0):
    """Wait until a kernel log line (timestamp stripped) matches @pattern."""
    t0 = time.monotonic()
    pat = re.compile(pattern)
    while True:
        for line in g.vm.dmesg().splitlines():
            if pat.search(re.sub(r"^\[[ \d.]+\] ?", "", line)):
                return line
        if time.monotonic() - t0 > timeout:
            raise TestFailure("no kernel log line %r after %.0f s" %
                              (pattern, timeout))
        time.sleep(0.3)


def trace_mark(g):
    """Where QEMU's trace log ends now (see requests_since())."""
    return len(g.vm.trace_log())


def requests_since(g, mark, *kinds):
    """
    The device requests QEMU traced after @mark (of @kinds, default all),
    as qemu_trace.requests() dicts. The shape must enable REQUEST_TRACE.
    """
    check(any("virtio_mem_plug_request" in t for t in g.cfg.trace),
          "the guest's shape does not trace the device's requests")
    block = g.vm.query_memory_devices()["vm0"]["block-size"]
    reqs = qemu_trace.requests(qemu_trace.parse(g.vm.trace_log()[mark:]),
                               block)
    return [r for r in reqs if not kinds or r["kind"] in kinds]


def shrink_plan(g, size, block):
    """
    Targets below @size (multiples of @block) for a guest under load:
    [(target, required)]. Those free memory allows (half and four fifths
    of what MemFree holds above the driver's reserve, 128 MiB and some
    slack) must be reached while the load runs; 512 MiB (or one block)
    and 0 are left to the guest's own figures (judge_short()).
    """
    mem = g.vm.meminfo()
    room = mem["MemFree"] - reserve(mem["MemTotal"]) - 128 * MiB - \
        KMEM_SLACK
    check(room >= 2 * block, "memfill left %s to unplug: nothing to "
          "test" % fmt_size(room))
    plan = [(size - room // 2 // block * block, True),
            (size - room * 4 // 5 // block * block, True)]
    plan += [(t, False) for t in (max(block, 512 * MiB) // block * block,
                                  0)]
    out, last = [], size
    for target, required in plan:
        if target < last:
            out.append((target, required))
            last = target
    print("  MemFree %s, room to unplug %s: %s" % (
        fmt_size(mem["MemFree"]), fmt_size(room), ", ".join(
            "%s%s" % (fmt_size(t), " (required)" if r else "")
            for t, r in out)), flush=True)
    return out


def shrink_step(g, pid, target, required, block):
    """
    Ask for @target with memfill @pid running: a @required one must be
    reached, another one reached or left short for a reason the guest's
    figures confirm; then the books (total and range by range) and
    memfill's life. Returns True if the target was reached.
    """
    q = g.vm.query_memory_devices()["vm0"]
    g.set_requested("vm0", target, q["block-size"])
    t0 = time.monotonic()
    if required:
        wait_for(g, target, timeout=240)
        reached = True
    else:
        reached, size, a = wait_decided(g, target)
        if not reached:
            judge_short(g.vm, fmt_size(target), target, size, a,
                                 block)
    size, a = books_match(g)
    selfcheck(g, fmt_size(target))
    memfill_alive(g, pid, fmt_size(target))
    print("  %-8s %s in %.1f s%s" % (
        fmt_size(target), "reached" if reached else "left short",
        time.monotonic() - t0, "" if reached else
        ": plugged %s, free memory does not allow more, state %r" %
        (fmt_size(size), a.get("state"))), flush=True)
    return reached


def mount_tracefs(g):
    """
    tracefs at TRACEFS, once (busybox has no mountpoint), without comm
    recording: an event switched on then also patches __schedule (see
    the "frees" shape).
    """
    g.vm.sh("grep -q ' %s tracefs ' /proc/mounts || "
            "mount -t tracefs nodev %s; echo 0 > %s/options/record-cmd" %
            (TRACEFS, TRACEFS, TRACEFS))


def shrink_under_load(g, pid, size, block):
    """
    Shrink from @size through shrink_plan()'s targets while memfill @pid
    runs, then stop it: 0 bytes corrupted, and a pass finished while
    memory went away. Returns the plan.
    """
    try:
        plan = shrink_plan(g, size, block)
        before = memfill_status(g, pid)
        for target, required in plan:
            shrink_step(g, pid, target, required, block)
        after = memfill_status(g, pid)
    finally:
        passes, verified, corrupt = memfill_stop(g, pid)
    print("  memfill: %d passes (%d while memory went away), %s verified, "
          "%d bytes corrupted" % (passes, after[0] - before[0],
                                  fmt_size(verified), corrupt))
    check(corrupt == 0, "%d bytes corrupted" % corrupt)
    check(after[0] > before[0], "memfill finished no pass while memory "
          "was taken away")
    return plan
