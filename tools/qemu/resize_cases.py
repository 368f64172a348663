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
import tool_cases
import qemu_trace
from guestops import (RETRY_WAIT, attr, books_match, memfill_start,
                      memfill_stop, online_all, param, resize, selfcheck,
                      views, wait_for, wait_state)
from qcheck import TestFailure, check
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
        tool_cases.why(g, "unplug-online")
    finally:
        param(g, "unplug_online", "1")
    wait_for(g, 0, timeout=RETRY_WAIT)
    selfcheck(g)


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
    guestops.shrink_under_load(g, pid, size, block)
    dt = wait_for(g, 0, timeout=RETRY_WAIT)
    print("  0 reached %.1f s after memfill exited" % dt)
    guestops.selfcheck(g)


def turn(g, target, until, what, timeout=60.0):
    """
    Ask for @target once QMP size satisfies @until(size). Returns (the
    trace offset just before the request, the size then).
    """
    t0 = time.monotonic()
    while True:
        size = g.vm.query_memory_devices()["vm0"]["size"]
        if until(size):
            break
        check(time.monotonic() - t0 < timeout, "%s: QMP size %s after "
              "%.0f s" % (what, fmt_size(size), timeout))
        time.sleep(0.02)
    mark = guestops.trace_mark(g)
    q = g.vm.query_memory_devices()["vm0"]
    g.set_requested("vm0", target, q["block-size"])
    print("  at QMP size %-9s asked for %s (%s)" % (fmt_size(size),
                                                  fmt_size(target), what))
    return mark, size


def plug_overshoots(reqs, marks, start):
    """
    Replay the traced requests @reqs from size @start: the plug requests
    (answered or not) that would have taken the device above the target
    in force, or the one before it (a request sent after a new target
    was asked may still be the driver's answer to the old one); @marks:
    [(index of the first request sent after the target was asked,
    target)], in order.
    """
    bad = []
    for i, (r, before, _after) in enumerate(qemu_trace.replay(reqs, start)):
        asked = [t for k, t in marks if k <= i]
        highest = max(asked[-2:])
        if r["kind"] == "plug" and before + r["bytes"] > highest:
            bad.append("plug of %s at %s (target %s, the one before %s), "
                       "%s" % (fmt_size(r["bytes"]), fmt_size(before),
                               fmt_size(asked[-1]), fmt_size(asked[-2])
                               if len(asked) > 1 else "-",
                               qemu_trace.RESP_NAMES.get(r["reply"],
                                                         "no answer")))
    return bad


@case("resize_mid_unplug", group="movable")
def resize_mid_unplug(g):
    """requested-size raised and lowered in the middle of an unplug: the
    driver turns around each time, never plugs above the target in force
    or the one before it, so never above the highest asked for (read
    from QEMU's trace of its requests, NACKed ones included), and ends
    at the last target with the books right."""
    top = 2 * GiB if guestops.SMALL else 4 * GiB
    start = g.vm.query_memory_devices()["vm0"]["size"]
    first = guestops.trace_mark(g)
    resize(g, top)
    block = g.vm.query_memory_devices()["vm0"]["block-size"]
    # (target, when to ask for it, why): down to 0, up again before 0 is
    # reached, down before that is reached, up, down, and up to the end.
    # @until(size, size at the last turn). The raises end one device
    # block past a memory block: the last plug step is then partial, and
    # a plug of one subblock too many shows.
    plan = ((0, lambda s, _p: True, "unplug all"),
            (top * 3 // 4 + block, lambda s, _p: s <= top // 2,
             "raised mid-unplug"),
            (top // 4, lambda s, _p: s > top // 2, "lowered mid-plug"),
            (top * 3 // 4 + block, lambda s, _p: s < top // 2,
             "raised mid-unplug"),
            (top // 8, lambda s, p: s > p + 128 * MiB, "lowered mid-plug"),
            (top // 4 + block, lambda s, _p: s < top // 4,
             "raised, the last: plugged to its end"))
    marks, prev, at = [(first, top)], None, top
    for target, until, what in plan:
        mark, at = turn(g, target, lambda s: until(s, at), what)
        if prev is not None and at == prev:
            # A plug of 1 GiB can end between two polls (it takes about
            # 0.1 s idle): a missed turn mid-plug is timing, not the
            # driver. A turn mid-unplug must happen. The last raise may
            # come after the previous target was reached.
            check("mid-plug" in what or "mid-" not in what, "%s: %s was "
                  "reached before the turn" % (what, fmt_size(prev)))
            print("  %s: %s was reached before the turn (the plug was "
                  "quicker than the poll)" % (what, fmt_size(prev)))
        marks.append((mark, target))
        prev = target
    try:
        wait_for(g, plan[-1][0], timeout=180)
        missed = None
    except TestFailure as e:        # the trace tells more: read it first
        missed = e
    text = g.vm.trace_log()
    reqs = qemu_trace.requests(qemu_trace.parse(text[marks[0][0]:]), block)
    starts = [(len(qemu_trace.requests(qemu_trace.parse(
        text[marks[0][0]:off]), block)), target) for off, target in marks]
    bad = plug_overshoots(reqs, starts, start)
    plugs = [r for r in reqs if r["kind"] == "plug"]
    print("  %d requests: %d plugs (%d NACKed), %d unplugs; the highest "
          "plug request ended at %s" % (
              len(reqs), len(plugs),
              sum(1 for r in plugs if r["reply"] == 1),
              sum(1 for r in reqs if r["kind"] == "unplug"),
              fmt_size(max([b + r["bytes"] for r, b, _a in
                            qemu_trace.replay(reqs, start)
                            if r["kind"] == "plug"] or [0]))))
    check(not bad, "plugged above the target: %s" %
          "; ".join(bad[:5]))
    if missed:
        raise missed
    raised = starts[2][0]           # the first raise mid-unplug
    check(any(r["kind"] == "plug" and r["reply"] == 0
              for r in reqs[raised:]), "no plug was ACKed after the "
          "raise: it was not exercised in the middle of the unplug")
    books_match(g)
    selfcheck(g)
    resize(g, 0)


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
