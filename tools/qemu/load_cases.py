# SPDX-License-Identifier: GPL-2.0
"""
Resize cases under a checksummed load (tools/memfill) where Linux, not
the driver, decides how memory comes online: onlined to a kernel zone
(ZONE_NORMAL), and Big-Block Mode with blocks of several memory blocks
onlined one memory block at a time. Each takes a booted Guest
(testguest.py).
"""

import time

import guestops
from guestops import (MEMORY, attr, books_match, memfill_start,
                      memfill_status, memfill_stop, selfcheck, views,
                      wait_decided, wait_for)
from qcheck import check
from registry import case, shape
from units import GiB, MiB, fmt_size

# Nothing onlines the memory: the cases do, their own way.
shape("bbm512_offline", region=8 * GiB, block=512 * MiB, tools=True)
shape("bbm1g_offline", region=8 * GiB, block=1 * GiB, tools=True)
MB = 128 * MiB                      # a Linux memory block on x86


def offline_blocks(g):
    """The numbers of the memory blocks that are offline, lowest first."""
    out = g.vm.sh("for m in %s/memory[0-9]*; do read s < $m/state; "
                  "[ $s = offline ] && echo ${m##*memory}; done; true" %
                  MEMORY)
    return sorted(int(n) for n in out.split())


def online(g, block, how):
    """Online memory block @block as @how (online_kernel, online_movable)."""
    g.vm.sh("echo %s > %s/memory%d/state" % (how, MEMORY, block))


def plug_onlining(g, target, how, one_by_one=False, timeout=300.0):
    """
    Ask for @target while nothing onlines memory but this: online each
    memory block the driver adds (@how), one at a time with @one_by_one,
    checking after each that the books hold and MemTotal grew by exactly
    one memory block. Returns how many blocks were onlined.
    """
    q = g.vm.query_memory_devices()["vm0"]
    g.set_requested("vm0", target, q["block-size"])
    t0, n = time.monotonic(), 0
    while True:
        q, a, total = views(g)
        blocks = offline_blocks(g)
        if not blocks and q["size"] == target == attr(a, "plugged_size"):
            return n
        check(time.monotonic() - t0 < timeout, "%s not plugged and online "
              "after %.0f s: QMP size %s, state %r" %
              (fmt_size(target), timeout, fmt_size(q["size"]),
               a.get("state")))
        for b in blocks[:1] if one_by_one else blocks:
            online(g, b, how)
            n += 1
            if one_by_one:
                _q, a2, total2 = views(g)
                check(total2 - total == MB, "onlining memory block %d "
                      "added %s to MemTotal" % (b, fmt_size(total2 - total)))
                books_match(g)
        if not blocks:
            time.sleep(0.3)


@case("online_kernel_under_load", group="offline")
def online_kernel_under_load(g):
    """Memory onlined to a kernel zone (online_kernel), resized under the
    checksummed load: plug more while it runs, then shrink; what is given
    back was migrated, what stays is reported, 0 bytes corrupted."""
    guestops.memfill_control(g)
    n = plug_onlining(g, 1 * GiB, "online_kernel")
    a = views(g)[1]
    check(attr(a, "plugged_online_kernel") == 1 * GiB,
          "plugged_online_kernel %s after onlining %d blocks to a kernel "
          "zone" % (fmt_size(attr(a, "plugged_online_kernel")), n))
    selfcheck(g, "1 GiB kernel")
    pid = memfill_start(g, 50)
    try:
        before = memfill_status(g, pid)
        plug_onlining(g, 2 * GiB, "online_kernel")
        print("  2 GiB plugged and onlined to the kernel zone under load",
              flush=True)
        selfcheck(g, "2 GiB kernel")
        q = g.vm.query_memory_devices()["vm0"]
        g.set_requested("vm0", 512 * MiB, q["block-size"])
        reached, size, a = wait_decided(g, 512 * MiB)
        books_match(g)
        selfcheck(g, "512 MiB kernel")
        guestops.memfill_alive(g, pid, "512 MiB")
        print("  512 MiB %s: plugged %s, state %r" % (
            "reached" if reached else "left short", fmt_size(size),
            a.get("state")), flush=True)
        check(size < 2 * GiB, "nothing was unplugged from the kernel zone "
              "under load (state %r)" % a.get("state"))
        if not reached:
            guestops.judge_short(g.vm, "512 MiB", 512 * MiB, size, a,
                                 2 * MiB)
        after = memfill_status(g, pid)
    finally:
        passes, verified, corrupt = memfill_stop(g, pid)
    print("  memfill: %d passes (%d while resizing), %s verified, %d bytes "
          "corrupted" % (passes, after[0] - before[0], fmt_size(verified),
                         corrupt))
    check(corrupt == 0, "%d bytes corrupted" % corrupt)
    check(after[0] > before[0], "memfill finished no pass while memory "
          "was resized")
    kernel_zone_to_zero(g)


def kernel_zone_to_zero(g):
    """
    0 with the load gone: a kernel zone may still hold unmovable pages
    (slab, page tables) that keep a block from going. The driver must say
    so, and what stays must be online kernel memory.
    """
    q = g.vm.query_memory_devices()["vm0"]
    g.set_requested("vm0", 0, q["block-size"])
    reached, size, a = wait_decided(g, 0, timeout=guestops.RETRY_WAIT + 60)
    books_match(g)
    selfcheck(g, "0")
    if not reached:
        check(a.get("state", "").startswith("retrying") and
              attr(a, "plugged_online_kernel") == size,
              "0 not reached with the load gone: plugged %s (%s online "
              "kernel), state %r" % (fmt_size(size),
                                     fmt_size(attr(a,
                                                   "plugged_online_kernel")),
                                     a.get("state")))
    print("  0 %s (plugged %s)" % ("reached" if reached else
                                   "left short: unmovable kernel pages",
                                   fmt_size(size)))


def bbm_under_load(g, bb):
    """
    Big-Block Mode with @bb big blocks: plug 4 GiB and online it one
    memory block at a time (big blocks go through partly online states),
    then shrink under the checksummed load, spread over every big block,
    as data_integrity does.
    """
    _q, a, _t = views(g)
    check(a.get("mode") == "bbm" and attr(a, "subblock_size") == bb,
          "mode %r, big block %s: expected bbm with %s" %
          (a.get("mode"), a.get("subblock_size"), fmt_size(bb)))
    guestops.memfill_control(g)
    size = 4 * GiB
    n = plug_onlining(g, size, "online_movable", one_by_one=True)
    check(n == size // MB, "onlined %d memory blocks for %s" %
          (n, fmt_size(size)))
    a = views(g)[1]
    check(attr(a, "blocks_online_movable") == size // bb,
          "%s big blocks online, expected %d" %
          (a.get("blocks_online_movable"), size // bb))
    selfcheck(g, fmt_size(size))
    # 80% of the memory filled, every other 16 MiB given back: every big
    # block holds pages of it, which its unplug must migrate.
    pid = memfill_start(g, 80, args="-F 16")
    plan = guestops.shrink_under_load(g, pid, size, bb)
    check(any(r for _t, r in plan), "no target free memory allows: the "
          "case did not unplug under load")
    dt = wait_for(g, 0, online=False, timeout=guestops.RETRY_WAIT)
    print("  0 reached %.1f s after memfill exited" % dt)
    selfcheck(g)
    a = views(g)[1]
    check(attr(a, "blocks_offline") + attr(a, "blocks_online_movable") == 0,
          "big blocks left at 0: %s" % a)


@case("bbm_512m_online_by_block", group="bbm512_offline")
def bbm_512m_online_by_block(g):
    """512 MiB big blocks (4 memory blocks each) under load."""
    bbm_under_load(g, 512 * MiB)


@case("bbm_1g_online_by_block", group="bbm1g_offline")
def bbm_1g_online_by_block(g):
    """1 GiB big blocks (8 memory blocks each) under load."""
    bbm_under_load(g, 1 * GiB)
