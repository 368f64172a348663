# SPDX-License-Identifier: GPL-2.0
"""
Resize cases of the QEMU suite (Sub-Block Mode): the guest follows the
host's requested-size, QMP `size` always equals the driver's books, guest
MemTotal follows the plugged memory that is online, and no byte of a
running workload is lost while memory is taken away.

Each takes a booted Guest (testguest.py).
"""

import time

import guestops
from guestops import (RETRY_WAIT, attr, books_match, memfill_start,
                      memfill_stop, online_all, param, resize, selfcheck,
                      views, wait_decided, wait_for, wait_state)
from qcheck import check
from registry import case, shape
from shapes import MOVABLE
from vmtest import GUEST_KO, GiB, MiB, fmt_size

shape("bbm128", region=8 * GiB, block=128 * MiB, append=MOVABLE, tools=True)
shape("bbm1g", region=8 * GiB, block=1 * GiB, append=MOVABLE, tools=True)


@case("grow_shrink", group="movable")
def grow_shrink(g):
    """0 -> 1 -> 4 -> 8 GiB, then 2 GiB and 0, auto-onlined movable
    (SMALL: 0 -> 512 MiB -> 2 -> 4 GiB -> 1 GiB -> 0)."""
    steps = (1 * GiB, 4 * GiB, 8 * GiB, 2 * GiB, 0)
    if guestops.SMALL:
        steps = (512 * MiB, 2 * GiB, 4 * GiB, 1 * GiB, 0)
    for target in steps:
        a = resize(g, target)
        check(attr(a, "plugged_online_movable") == target,
              "plugged_online_movable %s, expected all of %s" %
              (a["plugged_online_movable"], fmt_size(target)))
        check(a.get("state") == "idle", "state %r after reaching the "
              "target" % a.get("state"))
        selfcheck(g, fmt_size(target))
    check(attr(a, "blocks_online_movable") == 0,
          "memory blocks left after shrinking to 0: %s" % a)


@case("resize_offline_then_online", group="offline")
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
    target = 2 * GiB if guestops.SMALL else 3 * GiB
    q = g.vm.query_memory_devices()["vm0"]
    g.set_requested("vm0", target, q["block-size"])
    # The driver says it stopped to wait; then nothing more is plugged.
    a = wait_state(g, "waiting for onlining", timeout=120)
    plugged, offline = attr(a, "plugged_size"), attr(a, "plugged_offline")
    print("  waiting: plugged %s, of it offline %s, state %r" %
          (fmt_size(plugged), fmt_size(offline), a.get("state")))
    check(plugged < target, "plugged %s although nothing onlines the "
          "memory" % fmt_size(plugged))
    check(offline <= 1 * GiB + 128 * MiB,
          "%s added but offline: should be bounded" % fmt_size(offline))
    books_match(g)
    selfcheck(g, "waiting for onlining")
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
    selfcheck(g)


@case("unplug_online_off", group="movable")
def unplug_online_off(g):
    """unplug_online=0: online memory stays; the driver says why."""
    resize(g, 1 * GiB)
    check(param(g, "unplug_online", "0") == "N", "parameter not set")
    try:
        q = g.vm.query_memory_devices()["vm0"]
        g.set_requested("vm0", 0, q["block-size"])
        # The driver says why it keeps the memory; then none is gone.
        a = wait_state(g, r"retrying: .*unplug_online")
        check(attr(a, "plugged_size") == 1 * GiB,
              "plugged_size %s with unplug_online=0" % a["plugged_size"])
        books_match(g)
        selfcheck(g, "unplug_online=0")
    finally:
        param(g, "unplug_online", "1")
    wait_for(g, 0, timeout=RETRY_WAIT)
    selfcheck(g)


def shrink_plan(g, size, block):
    """
    Targets below @size for a guest under load: [(target, required)].
    Two the free memory allows (a third and two thirds of what MemFree
    holds above the driver's reserve, 128 MiB and some slack) must be
    reached while the load runs; 512 MiB and 0 are left to the guest's
    own figures (guestops.judge_short()).
    """
    mem = g.vm.meminfo()
    room = mem["MemFree"] - guestops.reserve(mem["MemTotal"]) - \
        128 * MiB - guestops.KMEM_SLACK
    check(room >= 3 * block, "memfill left %s to unplug: nothing to "
          "test" % fmt_size(room))
    plan = [(size - room // 3 // block * block, True),
            (size - 2 * room // 3 // block * block, True),
            (512 * MiB, False), (0, False)]
    out = []
    for target, required in plan:
        if not out or target < out[-1][0]:
            out.append((target, required))
    print("  MemFree %s, room to unplug %s: %s" % (
        fmt_size(mem["MemFree"]), fmt_size(room), ", ".join(
            "%s%s" % (fmt_size(t), " (required)" if r else "")
            for t, r in out)), flush=True)
    return out


def shrink_step(g, pid, target, required, block):
    """One step of data_integrity; returns True if the target was reached."""
    q = g.vm.query_memory_devices()["vm0"]
    g.set_requested("vm0", target, q["block-size"])
    t0 = time.monotonic()
    if required:
        wait_for(g, target, timeout=240)
        reached = True
    else:
        reached, size, a = wait_decided(g, target)
        if not reached:
            guestops.judge_short(g.vm, fmt_size(target), target, size, a,
                                 block)
    size, a = books_match(g)
    guestops.selfcheck(g, fmt_size(target))
    guestops.memfill_alive(g, pid, fmt_size(target))
    print("  %-8s %s in %.1f s%s" % (
        fmt_size(target), "reached" if reached else "left short",
        time.monotonic() - t0, "" if reached else
        ": plugged %s, free memory does not allow more, state %r" %
        (fmt_size(size), a.get("state"))), flush=True)
    return reached


@case("data_integrity", group="movable")
def data_integrity(g):
    """Shrink in steps under a checksummed workload: the targets free
    memory allows are reached while it runs, one left short is one the
    guest's own figures forbid; 0 bytes corrupted, and the books equal
    the device range by range after every step."""
    guestops.memfill_control(g)
    block = attr(views(g)[1], "subblock_size")
    size = 2 * GiB
    resize(g, size)
    pid = memfill_start(g, 60)
    try:
        plan = shrink_plan(g, size, block)
        before = guestops.memfill_status(g, pid)
        for target, required in plan:
            shrink_step(g, pid, target, required, block)
        after = guestops.memfill_status(g, pid)
    finally:
        passes, verified, corrupt = memfill_stop(g, pid)
    print("  memfill: %d passes (%d while memory went away), %s verified, "
          "%d bytes corrupted" % (passes, after[0] - before[0],
                                  fmt_size(verified), corrupt))
    check(corrupt == 0, "%d bytes corrupted" % corrupt)
    check(after[0] > before[0], "memfill finished no pass while memory "
          "was taken away")
    dt = wait_for(g, 0, timeout=RETRY_WAIT)
    print("  0 reached %.1f s after memfill exited" % dt)
    guestops.selfcheck(g)


def bbm_walk(g, expect_bb):
    """Big-Block Mode: whole big blocks plugged, added, removed."""
    q = g.vm.query_memory_devices()["vm0"]
    _q, a, _t = views(g)
    check(a.get("mode") == "bbm", "mode %r, expected bbm" % a.get("mode"))
    check(attr(a, "subblock_size") == expect_bb,
          "big block %s, expected %s" % (a["subblock_size"],
                                         fmt_size(expect_bb)))
    bb = max(expect_bb, q["block-size"])
    top = (2 if guestops.SMALL else 4) * GiB
    for target in (2 * bb, top, bb, 3 * bb, 0):
        a = resize(g, target)
        check(attr(a, "blocks_online_movable") == target // bb,
              "%s big blocks online, expected %d" %
              (a["blocks_online_movable"], target // bb))
        selfcheck(g, fmt_size(target))


@case("bbm_128m", group="bbm128")
def bbm_128m(g):
    bbm_walk(g, 128 * MiB)


# The same load in Big-Block Mode, after bbm_128m on its guest.
case("bbm_data_integrity", group="bbm128")(data_integrity)


@case("bbm_1g", group="bbm1g")
def bbm_1g(g):
    bbm_walk(g, 1 * GiB)


@case("force_bbm", group="movable")
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
    selfcheck(g)
