# SPDX-License-Identifier: GPL-2.0
"""
Scale cases of the QEMU suite: a 1 GiB guest asked for up to 60 GiB of a
64 GiB region, memory onlined movable. The memmap of hot-added memory
(2 MiB per 128 MiB) comes from the guest's kernel memory unless it lives
on the added memory itself (memory_hotplug.memmap_on_memory=1), so the
driver must stop at its kernel-memory budget in the first case, and can
go all the way in the second. Every case fails on any kernel complaint
(the guest boots with panic_on_warn=1).

Each takes a Guest (testguest.py).
"""

import time

import guestops as ops
import tool_cases
from qcheck import TestFailure, check
from registry import case, shape
from shapes import MOVABLE
from units import GiB, MiB, fmt_size

REGION = 64 * GiB
# QEMU cannot reserve 64 GiB on this host: reserve=off.
shape("scale", region=REGION, append=MOVABLE, tools=True,
      device_props={"backend_props": {"reserve": "off"}})
shape("scale_mom", region=REGION, tools=True,
      append=MOVABLE + " memory_hotplug.memmap_on_memory=1",
      device_props={"backend_props": {"reserve": "off"}})
KASAN = {"CONFIG_KASAN": "KASAN's shadow of a 64 GiB region does not fit "
         "a 1 GiB guest"}
STEPS = (16 * GiB, 32 * GiB)
TOP = 60 * GiB
LIMITED = "limited by kernel memory for the memmap"


def settle_limited(g, timeout=300.0):
    """Wait until plugging stops short with the budget as its reason and
    the plugged size holds still for a few seconds. Returns the attrs."""
    t0 = time.monotonic()
    last, since = None, time.monotonic()
    while True:
        q, a, _t = ops.views(g)
        plugged = ops.attr(a, "plugged_size")
        if plugged != last:
            last, since = plugged, time.monotonic()
        if a.get("state") == LIMITED and q["size"] == plugged and \
                time.monotonic() - since > 5:
            return a
        if ops.attr(a, "plugged_size") == TOP:
            raise TestFailure("reached %s: the budget did not stop it" %
                              fmt_size(TOP))
        if time.monotonic() - t0 > timeout:
            raise TestFailure("no stop at the budget after %.0f s: "
                              "plugged %s, state %r" %
                              (timeout, fmt_size(plugged), a.get("state")))
        time.sleep(0.5)


def steps(g, sizes, memmap):
    """Resize through @sizes. With @memmap, MemTotal grows by the plugged
    memory less the memmaps on it, which Linux does not manage."""
    for size in sizes:
        a = ops.resize(g, size, online=not memmap, timeout=600)
        mm = ops.attr(a, "memmap_bytes")
        total = g.vm.meminfo()["MemTotal"] - g.base_memtotal
        check(total == size - mm, "MemTotal grew by %s for %s plugged, "
              "%s memmap" % (fmt_size(total), fmt_size(size),
                             fmt_size(mm)))
        print("  MemFree %s, memmap on memory: %s (%s)" %
              (fmt_size(g.vm.meminfo()["MemFree"]),
               a.get("memmap_on_memory"), fmt_size(mm)))
    return a


@case("scale_budget", group="scale", skip_on=KASAN)
def budget_stops(g):
    """Without memmap_on_memory: 16 and 32 GiB are reached, 60 GiB stops
    at the budget with one log line and the reason in sysfs, and 0 comes
    back; no WARN, no OOM kill, no panic."""
    q = g.vm.query_memory_devices()["vm0"]
    steps(g, STEPS, False)
    g.set_requested("vm0", TOP, q["block-size"])
    a = settle_limited(g)
    plugged = ops.attr(a, "plugged_size")
    print("  60 GiB requested: stopped at %s (%s), MemFree %s" %
          (fmt_size(plugged), a.get("state"),
           fmt_size(g.vm.meminfo()["MemFree"])))
    check(plugged >= 32 * GiB, "stopped at %s, below the 32 GiB the "
          "in-tree driver reaches" % fmt_size(plugged))
    tool_cases.why(g, "kernel-memory")
    check(a.get("memmap_on_memory") == "off",
          "memmap_on_memory %r without the kernel parameter" %
          a.get("memmap_on_memory"))
    lines = [ln for ln in g.vm.dmesg().splitlines() if LIMITED in ln]
    check(len(lines) == 1, "expected one log line about the limit, got "
          "%d: %s" % (len(lines), lines))
    print("  log: " + lines[0].split("] ", 1)[-1])
    ops.books_match(g)
    check("Out of memory" not in g.vm.dmesg(), "the OOM killer ran")
    a = ops.resize(g, 0, timeout=600)
    check(ops.attr(a, "blocks_online_movable") == 0, "blocks left: %s" % a)
    print("  highest clean plugged size without memmap_on_memory: %s" %
          fmt_size(plugged))


@case("scale_memmap_on_memory", group="scale_mom", skip_on=KASAN)
def memmap_on_memory(g):
    """With memory_hotplug.memmap_on_memory=1: 60 GiB is reached, each
    block carrying its memmap, and 0 comes back."""
    a = steps(g, STEPS + (TOP,), True)
    check(a.get("memmap_on_memory") == "on",
          "memmap_on_memory %r" % a.get("memmap_on_memory"))
    memmap = ops.attr(a, "memmap_bytes")
    check(memmap == TOP // (128 * MiB) * 2 * MiB,
          "memmap_bytes %s for %s plugged" % (fmt_size(memmap),
                                               fmt_size(TOP)))
    print("  60 GiB reached, %s of it memmap, MemFree %s" %
          (fmt_size(memmap), fmt_size(g.vm.meminfo()["MemFree"])))
    check(LIMITED not in g.vm.dmesg(), "the budget limited plugging")
    a = ops.resize(g, 0, online=False, timeout=600)
    check(ops.attr(a, "memmap_bytes") == 0, "memmap left: %s" % a)
    print("  highest clean plugged size with memmap_on_memory: %s" %
          fmt_size(TOP))
