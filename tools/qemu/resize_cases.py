# SPDX-License-Identifier: GPL-2.0
"""
Resize cases of the QEMU suite (Sub-Block Mode): the guest follows the
host's requested-size, QMP `size` always equals the driver's books, guest
MemTotal follows the plugged memory that is online, and no byte of a
running workload is lost while memory is taken away.

qemu_tests.py registers these functions; each takes a booted Guest.
"""

import re
import time

from qcheck import TestFailure, check
from vmtest import GUEST_KO, GiB, MiB, fmt_size

MEMFILL = "/bin/memfill"
# The driver retries with backoff up to 30 s; allow a few rounds.
RETRY_WAIT = 100.0
MEMORY = "/sys/devices/system/memory"
# Smaller targets for slow kernels (qemu_tests.py --small).
SMALL = False


def views(g):
    """(QMP data, driver sysfs attrs, MemTotal) of the guest's only device."""
    q = g.vm.query_memory_devices()["vm0"]
    devs = g.vm.virtio_mem_devices()
    check(len(devs) == 1, "expected one virtio-mem device: %s" % devs)
    return q, devs[0]["attrs"], g.vm.meminfo()["MemTotal"]


def attr(a, name):
    check(name in a, "sysfs file %s missing: %s" % (name, sorted(a)))
    return int(a[name])


def wait_for(g, target, online=True, timeout=180.0):
    """
    Wait until QMP size, the driver's plugged_size and (with @online)
    MemTotal - base all equal @target. Returns the seconds it took.
    """
    t0 = time.monotonic()
    while True:
        q, a, total = views(g)
        plugged = attr(a, "plugged_size")
        mem = total - g.base_memtotal
        done = q["size"] == target and plugged == target and \
            (not online or mem == target)
        if done:
            return time.monotonic() - t0
        if time.monotonic() - t0 > timeout:
            raise TestFailure(
                "target %s not reached after %.0f s: QMP size %s, "
                "plugged_size %s, MemTotal-base %s, state %r" %
                (fmt_size(target), timeout, fmt_size(q["size"]),
                 fmt_size(plugged), fmt_size(mem), a.get("state")))
        time.sleep(0.3)


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


def grow_shrink(g):
    """0 -> 1 -> 4 -> 8 GiB, then 2 GiB and 0, auto-onlined movable
    (SMALL: 0 -> 512 MiB -> 2 -> 4 GiB -> 1 GiB -> 0)."""
    steps = (1 * GiB, 4 * GiB, 8 * GiB, 2 * GiB, 0)
    if SMALL:
        steps = (512 * MiB, 2 * GiB, 4 * GiB, 1 * GiB, 0)
    for target in steps:
        a = resize(g, target)
        check(attr(a, "plugged_online_movable") == target,
              "plugged_online_movable %s, expected all of %s" %
              (a["plugged_online_movable"], fmt_size(target)))
        check(a.get("state") == "idle", "state %r after reaching the "
              "target" % a.get("state"))
    check(attr(a, "blocks_online_movable") == 0,
          "memory blocks left after shrinking to 0: %s" % a)


def online_all(g):
    """Online every offline memory block (movable); return how many."""
    out = g.vm.sh("n=0; for m in %s/memory*; do "
                  "[ \"$(cat $m/state)\" = offline ] || continue; "
                  "echo online_movable > $m/state && n=$((n+1)); done; "
                  "echo $n" % MEMORY)
    return int(out.split()[-1])


def settle(g, quiet=3.0, timeout=60.0):
    """Wait until plugged_size stops changing for @quiet seconds."""
    t0 = time.monotonic()
    last, since = None, time.monotonic()
    while time.monotonic() - t0 < timeout:
        _q, a, _t = views(g)
        cur = a.get("plugged_size")
        if cur != last:
            last, since = cur, time.monotonic()
        elif time.monotonic() - since >= quiet:
            return a
        time.sleep(0.3)
    raise TestFailure("plugged_size still changing after %.0f s" % timeout)


def resize_offline_then_online(g):
    """Plug and unplug while nothing onlines the memory, then online it."""
    a = resize(g, 512 * MiB, online=False)
    check(attr(a, "plugged_offline") == 512 * MiB,
          "plugged_offline %s, expected 512 MiB" % a["plugged_offline"])
    a = resize(g, 256 * MiB, online=False)
    check(attr(a, "blocks_offline") == 2,
          "blocks_offline %s after shrinking to 256 MiB: empty blocks "
          "should be removed" % a["blocks_offline"])
    n = online_all(g)
    check(n == 2, "onlined %d memory blocks, expected 2" % n)
    a = resize(g, 256 * MiB, online=True, timeout=30)
    check(attr(a, "plugged_online_movable") == 256 * MiB,
          "after onlining: plugged_online_movable %s" %
          a["plugged_online_movable"])

    # Ask for more than the driver adds without onlining: it stops and says
    # it waits; each onlining lets it go on.
    target = 2 * GiB if SMALL else 3 * GiB
    q = g.vm.query_memory_devices()["vm0"]
    g.set_requested("vm0", target, q["block-size"])
    a = settle(g)
    plugged, offline = attr(a, "plugged_size"), attr(a, "plugged_offline")
    print("  waiting: plugged %s, of it offline %s, state %r" %
          (fmt_size(plugged), fmt_size(offline), a.get("state")))
    check(plugged < target, "plugged %s although nothing onlines the "
          "memory" % fmt_size(plugged))
    check(a.get("state", "").startswith("waiting for onlining"),
          "state %r, expected 'waiting for onlining'" % a.get("state"))
    check(offline <= 1 * GiB + 128 * MiB,
          "%s added but offline: should be bounded" % fmt_size(offline))
    books_match(g)
    rounds = 0
    t0 = time.monotonic()
    while views(g)[0]["size"] != target:
        check(time.monotonic() - t0 < 180, "%s not reached while "
              "onlining" % fmt_size(target))
        rounds += online_all(g) and 1
        time.sleep(0.5)
    online_all(g)
    a = resize(g, target)
    print("  %s reached after %d onlining rounds" % (fmt_size(target),
                                                      rounds))
    a = resize(g, 0)
    check(attr(a, "blocks_offline") + attr(a, "blocks_online_movable") == 0,
          "memory blocks left after shrinking to 0")


def param(g, name, value=None):
    path = "/sys/module/virtio_mem/parameters/" + name
    if value is not None:
        g.vm.sh("echo %s > %s" % (value, path))
    return g.vm.read_file(path)


def unplug_online_off(g):
    """unplug_online=0: online memory stays; the driver says why."""
    resize(g, 1 * GiB)
    check(param(g, "unplug_online", "0") == "N", "parameter not set")
    try:
        q = g.vm.query_memory_devices()["vm0"]
        g.set_requested("vm0", 0, q["block-size"])
        a = settle(g)
        check(attr(a, "plugged_size") == 1 * GiB,
              "plugged_size %s with unplug_online=0" % a["plugged_size"])
        check(re.match(r"retrying: .*unplug_online", a.get("state", "")),
              "state %r, expected retrying because of unplug_online" %
              a.get("state"))
        books_match(g)
    finally:
        param(g, "unplug_online", "1")
    wait_for(g, 0, timeout=RETRY_WAIT)


def memfill_start(g, percent):
    pid = g.vm.sh("%s -p %d -i 2000 > /tmp/memfill.log 2>&1 & echo $!" %
                  (MEMFILL, percent)).split()[-1]
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


def memfill_stop(g, pid):
    """SIGTERM, wait; return the final 'done' line's numbers."""
    g.vm.sh("kill -TERM %s; while kill -0 %s 2>/dev/null; do sleep 0.2; "
            "done" % (pid, pid), timeout=300)
    log = g.vm.sh("cat /tmp/memfill.log")
    m = re.search(r"memfill: done passes=(\d+) verified=(\d+) "
                  r"corrupt=(\d+)", log)
    check(m, "memfill did not finish cleanly:\n%s" % log)
    return tuple(int(x) for x in m.groups())


def data_integrity(g):
    """Shrink in steps under a checksummed workload: 0 bytes corrupted;
    what cannot be freed stays plugged, and the workload lives on."""
    resize(g, 2 * GiB)
    pid = memfill_start(g, 80)
    short = []
    try:
        for target in (1536 * MiB, 512 * MiB, 0):
            q = g.vm.query_memory_devices()["vm0"]
            g.set_requested("vm0", target, q["block-size"])
            t0 = time.monotonic()
            a = settle(g, quiet=8.0, timeout=240.0)
            size, a = books_match(g)
            if size == target:
                print("  %-8s reached in %.1f s" %
                      (fmt_size(target), time.monotonic() - t0))
                continue
            check(size > target, "plugged %d below the target %d" %
                  (size, target))
            check(a.get("state", "").startswith("retrying"),
                  "short of the target but state %r" % a.get("state"))
            check(g.vm.run("kill -0 %s" % pid)[0] == 0,
                  "memfill was killed:\n%s" %
                  g.vm.sh("cat /tmp/memfill.log; dmesg | tail -20"))
            short.append(target)
            print("  %-8s not reachable with memfill running: plugged "
                  "%s, state %r" % (fmt_size(target), fmt_size(size),
                                    a.get("state")), flush=True)
    finally:
        passes, verified, corrupt = memfill_stop(g, pid)
    print("  memfill: %d passes, %s verified, %d bytes corrupted" %
          (passes, fmt_size(verified), corrupt))
    check(corrupt == 0, "%d bytes corrupted" % corrupt)
    check(passes > 0 and verified > 0, "memfill verified nothing")
    check(short, "every step was reached although memfill held 80% of "
          "the memory: the test did not exercise a failing unplug")
    dt = wait_for(g, 0, timeout=RETRY_WAIT)
    print("  0 reached %.1f s after memfill exited (retry backoff)" % dt)


def bbm_walk(g, expect_bb):
    """Big-Block Mode: whole big blocks plugged, added, removed."""
    q = g.vm.query_memory_devices()["vm0"]
    _q, a, _t = views(g)
    check(a.get("mode") == "bbm", "mode %r, expected bbm" % a.get("mode"))
    check(attr(a, "subblock_size") == expect_bb,
          "big block %s, expected %s" % (a["subblock_size"],
                                         fmt_size(expect_bb)))
    bb = max(expect_bb, q["block-size"])
    for target in (2 * bb, (2 if SMALL else 4) * GiB, bb, 3 * bb, 0):
        a = resize(g, target)
        check(attr(a, "blocks_online_movable") == target // bb,
              "%s big blocks online, expected %d" %
              (a["blocks_online_movable"], target // bb))


def bbm_128m(g):
    bbm_walk(g, 128 * MiB)


def bbm_1g(g):
    bbm_walk(g, 1 * GiB)


def force_bbm(g):
    """force_bbm=1 with 2 MiB device blocks: 128 MiB big blocks; then
    bbm_block_size=512M; then back to Sub-Block Mode."""
    ours = GUEST_KO["ours"]
    try:
        for args, bb in (("force_bbm=1", 128 * MiB),
                         ("force_bbm=1 bbm_block_size=536870912",
                          512 * MiB)):
            g.vm.sh("rmmod virtio_mem && insmod %s %s" % (ours, args))
            print("  insmod %s" % args)
            bbm_walk(g, bb)
    finally:
        g.vm.run("rmmod virtio_mem; insmod %s" % ours)
    _q, a, _t = views(g)
    check(a.get("mode") == "sbm", "mode %r after reloading without "
          "force_bbm" % a.get("mode"))
