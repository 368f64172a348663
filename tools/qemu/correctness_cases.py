# SPDX-License-Identifier: GPL-2.0
"""
Cases of the QEMU suite where Linux's memory core is strict: the order
alignment of what the driver frees into the buddy, another driver's
PageOffline pages (a virtio-balloon), pages pinned by vmsplice() while
the host resizes, rmmod while the device answers BUSY, the region's
exclusive resource (/dev/mem, /proc/iomem), and hibernation and suspend.
Each takes a Guest (testguest.py).
"""

import re
import time

import guestops as ops
import vmtest
from qcheck import check
from registry import VMSPLICE_PIN, case, shape
from shapes import MOVABLE
from units import GiB, MiB, fmt_size

TRACEFS = ops.TRACEFS
PAGE = 4096

# kmem:mm_page_free on from boot, and no comm recording: no trace event
# is switched at run time, which patches the kernel's text (under TCG a
# switch while a vCPU runs the patched code can end in an int3 Oops in
# __schedule, seen once on Debian 13's kernel). The case only starts and
# stops the ring buffer.
shape("frees", region=8 * GiB, block=2 * MiB,
      append=MOVABLE + " trace_event=kmem:mm_page_free"
      " trace_options=norecord-cmd")

# Beside the virtio-mem device, a virtio-balloon (libvirt adds one by
# default), its driver loaded.
shape("balloon", region=8 * GiB, block=2 * MiB, append=MOVABLE,
      tools=True, qemu_args=("-device", "virtio-balloon-pci,id=balloon0"),
      modules=("virtio_balloon",))


def dev_region(g):
    q = g.vm.query_memory_devices()["vm0"]
    return q["memaddr"], q["max-size"]


def trace_frees(g, start, end):
    """
    Trace every page freed into [@start, @end) with its order: the event
    is on from boot (shape "frees"); a filter and the ring buffer's
    switch change no kernel text.
    """
    ops.mount_tracefs(g)
    ev = "%s/events/kmem/mm_page_free" % TRACEFS
    check(g.vm.read_file("%s/enable" % ev).strip() == "1",
          "kmem:mm_page_free is not on from boot")
    g.vm.sh("echo 0 > %s/tracing_on; echo 8192 > %s/buffer_size_kb; "
            "echo 'pfn >= %d && pfn < %d' > %s/filter; echo > %s/trace; "
            "echo 1 > %s/tracing_on" %
            (TRACEFS, TRACEFS, start // PAGE, end // PAGE, ev, TRACEFS,
             TRACEFS))


def traced_frees(g):
    """(pfn, order) of the frees traced since trace_frees()."""
    g.vm.sh("echo 0 > %s/tracing_on" % TRACEFS)
    out = g.vm.sh("cat %s/trace" % TRACEFS)
    return [(int(m.group(1), 16 if m.group(1).startswith("0x") else 10),
             int(m.group(2)))
            for m in re.finditer(r"mm_page_free: .*pfn=(0x[0-9a-f]+|\d+) "
                                 r"order=(\d+)", out)]


def frees_aligned(g, what, frees):
    """Every traced free (pfn, order) sits on a multiple of 2^order."""
    check(frees, "%s: no page freed into the region was traced" % what)
    bad = [(hex(p), o) for p, o in frees if p % (1 << o)]
    check(not bad, "%s: misaligned frees (pfn, order): %s" % (what, bad[:8]))
    print("  %s: %d frees traced, orders %s, all aligned" %
          (what, len(frees), sorted({o for _p, o in frees})))


@case("aligned_buddy_frees", group="frees")
def aligned_buddy_frees(g):
    """
    The pages that reach the buddy allocator come in naturally aligned
    chunks (pfn % 2^order == 0), read off the kmem:mm_page_free trace
    event, which names each chunk freed with its order:
    - 0 -> 250 MiB, then 256 MiB: subblocks 61-63 of the top memory block
      were never given at online; they go now, chunked (an order-10 chunk
      at subblock 61, 512- but not 1024-aligned, was the bug);
    - 256 -> 250 -> 256 MiB: the same subblocks, taken back and given
      again.
    (/proc/kpageflags cannot tell: it flags every page of a free block.)
    """
    addr, _size = dev_region(g)
    ops.resize(g, 250 * MiB)
    trace_frees(g, addr, addr + 256 * MiB)
    ops.resize(g, 256 * MiB)
    frees = traced_frees(g)
    frees_aligned(g, "never given", frees)
    check(max(o for _p, o in frees) >= 9, "no chunk of a pageblock or more: "
          "the chunking was not exercised (orders %s)" %
          sorted({o for _p, o in frees}))
    ops.resize(g, 250 * MiB)
    trace_frees(g, addr, addr + 256 * MiB)
    ops.resize(g, 256 * MiB)
    frees_aligned(g, "taken and given back", traced_frees(g))
    ops.selfcheck(g, "after 250 -> 256 -> 250 -> 256 MiB")
    ops.resize(g, 0)


def balloon(g, target):
    """Ask the balloon for a guest of @target bytes; wait until it is."""
    g.vm.qmp.cmd("balloon", value=target)
    t0 = time.monotonic()
    while True:
        actual = g.vm.qmp.cmd("query-balloon")["actual"]
        if actual == target:
            return
        check(time.monotonic() - t0 < 120, "balloon at %s, asked for %s" %
              (fmt_size(actual), fmt_size(target)))
        time.sleep(0.5)


def tasks_in(g, func):
    """Tasks whose kernel stack shows @func now."""
    out = g.vm.sh("for s in /proc/[0-9]*/stack; do grep -q '%s' $s "
                  "2>/dev/null && echo ${s%%/stack}; done; true" % func)
    return out.split()


@case("balloon_shrink", group="balloon")
def balloon_shrink(g):
    """
    The balloon's pages are PageOffline too, movable, with their own
    reference, and they land in our ZONE_MOVABLE blocks. Inflated by
    512 MiB, the guest still shrinks from 2 GiB to 512 MiB: the driver
    never drops a reference that is not its own (that made the offline
    loop for ever), and nothing sits in offline_pages.
    """
    ram = g.vm.qmp.cmd("query-balloon")["actual"]
    ops.resize(g, 2 * GiB)
    balloon(g, ram - 512 * MiB)
    print("  balloon inflated by 512 MiB", flush=True)
    t0 = time.monotonic()
    # The inflated balloon takes its pages out of MemTotal: that view is
    # checked once it is deflated.
    ops.resize(g, 512 * MiB, online=False, timeout=120)
    print("  shrunk to 512 MiB in %.1f s with the balloon inflated" %
          (time.monotonic() - t0))
    check(not tasks_in(g, "offline_pages"), "tasks in offline_pages: %s" %
          tasks_in(g, "offline_pages"))
    balloon(g, ram)
    ops.wait_for(g, 512 * MiB, timeout=60)
    ops.selfcheck(g, "balloon")
    ops.resize(g, 0)


def pin_start(g, mib):
    """
    Start vmsplice_pin on @mib MiB; its pid once they are pinned. It
    reports every 16 MiB, and fails only if 60 s pass with no report
    (CI once saw no "ready" 60 s after its start, on a debug guest under
    the checksummed load: the bound was on the whole, not on progress).
    """
    pid = g.vm.sh("%s %d > /tmp/pin.log 2>&1 & echo $!" %
                  (VMSPLICE_PIN, mib)).split()[-1]
    t0 = last = time.monotonic()
    seen = ""
    while True:
        log = g.vm.sh("cat /tmp/pin.log")
        if "ready" in log:
            break
        if log != seen:
            seen, last = log, time.monotonic()
        check(g.vm.run("kill -0 %s" % pid)[0] == 0,
              "vmsplice_pin died: %s" % (log.strip() or "nothing printed"))
        check(time.monotonic() - last < 60, "vmsplice_pin made no progress "
              "in 60 s (%.0f s since its start): %s" %
              (time.monotonic() - t0,
               (log.strip().splitlines() or ["nothing printed"])[-1]))
        time.sleep(0.5)
    print("  vmsplice_pin: %d MiB pinned in %.1f s" %
          (mib, time.monotonic() - t0), flush=True)
    return pid


@case("vmsplice_pinned", group="movable")
def vmsplice_pinned(g):
    """
    A process keeps pinning fresh pages with vmsplice() (a reference held
    for as long as the data sits in a pipe nobody reads) under the
    checksummed load, while the host cycles the size. Every resize ends,
    at its target or short with a reason, within a bound; no task is ever
    left in offline_pages; no byte is corrupted. SMALL halves every size:
    the same steps (down to 2/3, 1/2 and 1/3 of the top, back up each
    time), with pins and the load in the same proportions.
    """
    check(g.vm.run("test -x " + VMSPLICE_PIN)[0] == 0,
          "%s missing (make tools/vmsplice_pin)" % VMSPLICE_PIN)
    unit = (256 if ops.SMALL else 512) * MiB
    ops.resize(g, 6 * unit)
    fill = ops.memfill_start(g, mib=2 * unit // MiB)
    pin = pin_start(g, unit // 2 // MiB)
    reached = short = 0
    for n in (4, 6, 3, 6, 2, 6):
        target = n * unit
        g.set_requested("vm0", target, 2 * MiB)
        ok, size, a = ops.wait_decided(g, target, timeout=180.0)
        stuck = tasks_in(g, "offline_pages")
        check(not stuck, "target %s: tasks in offline_pages: %s" %
              (fmt_size(target), stuck))
        if ok:
            reached += 1
        else:
            short += 1
        print("  %-8s %s (plugged %s, state %r)" %
              (fmt_size(target), "reached" if ok else "left short",
               fmt_size(size), a.get("state")), flush=True)
        ops.memfill_alive(g, fill, "vmsplice_pinned")
    g.vm.sh("kill %s" % pin)
    ops.memfill_stop(g, fill)
    check(reached >= 3, "only %d of 6 targets reached with the pins "
          "moving" % reached)
    ops.selfcheck(g, "vmsplice")
    ops.resize(g, 0, timeout=ops.RETRY_WAIT + 60)


# QEMU's migration limit, in bytes per second. QEMU 7.2 spends a tenth
# of it per 100 ms slice and takes a limit of 0 for none at all: 1 B/s
# migrated a 2 GiB guest (mostly zero pages, a few bytes each) in 4 s,
# after which QEMU paused the guest for good (state postmigrate). At
# 1000 B/s a slice carries a dozen zero pages: an hour for this guest.
MIGRATION_BPS = 1000


def migration_start(g):
    """A migration that runs for long (QEMU answers BUSY meanwhile)."""
    g.vm.qmp.cmd("migrate-set-parameters", **{"max-bandwidth": MIGRATION_BPS})
    g.vm.qmp.cmd("migrate", uri="exec:cat > /dev/null")
    t0 = time.monotonic()
    while g.vm.qmp.cmd("query-migrate").get("status") != "active":
        check(time.monotonic() - t0 < 30, "migration did not start: %s" %
              g.vm.qmp.cmd("query-migrate"))
        time.sleep(0.3)


def migration_active(g, what):
    """Fail unless the migration still runs (the device still answers
    BUSY and the guest was never paused) after @what."""
    m = g.vm.qmp.cmd("query-migrate")
    check(m.get("status") == "active", "the migration was %s after %s "
          "(guest %s): the device did not answer BUSY throughout" %
          (m.get("status"), what, g.vm.qmp.cmd("query-status").get("status")))


def migration_cancel(g):
    g.vm.qmp.cmd("migrate_cancel")
    t0 = time.monotonic()
    while g.vm.qmp.cmd("query-migrate").get("status") not in (
            "cancelled", "completed", "failed"):
        check(time.monotonic() - t0 < 60, "migration did not end")
        time.sleep(0.3)


@case("rmmod_device_busy", group="offline")
def rmmod_device_busy(g):
    """
    rmmod while the device answers BUSY to everything (QEMU during a
    migration), with 832 MiB plugged in offline blocks, the last one in
    part. The driver removes every offline block whatever the device
    says; onlining every memory block afterwards gives Linux no more
    memory than the device has plugged.
    """
    ops.resize(g, 832 * MiB, online=False)
    base = g.vm.meminfo()["MemTotal"]
    migration_start(g)
    try:
        try:
            rc, out = g.vm.run("rmmod virtio_mem", timeout=120)
        except vmtest.CommandTimeout:
            migration_active(g, "rmmod timed out")
            raise
        migration_active(g, "rmmod")
        check(rc == 0, "rmmod failed: %s" % out.strip())
        plugged = g.vm.query_memory_devices()["vm0"]["size"]
        n = ops.online_all(g)
        grown = g.vm.meminfo()["MemTotal"] - base
        print("  rmmod with BUSY: %d memory blocks left to online, "
              "MemTotal grew by %s, QMP plugged %s" %
              (n, fmt_size(grown), fmt_size(plugged)))
        check(grown <= plugged, "onlining after rmmod gave Linux %s, the "
              "device has %s plugged" % (fmt_size(grown), fmt_size(plugged)))
        check(n == 0, "%d memory blocks of the region left added" % n)
    finally:
        migration_cancel(g)
    g.vm.sh("insmod " + vmtest.GUEST_KO["ours"])
    ops.resize(g, 0, online=False)


@case("iomem_exclusive", group="movable")
def iomem_exclusive(g):
    """
    The region is the device's in /proc/iomem, as exclusive System RAM:
    /dev/mem refuses even its unplugged part.
    """
    addr, size = dev_region(g)
    ops.resize(g, 2 * GiB)
    ops.resize(g, 1 * GiB)
    name = ops.device_name(g)
    iomem = g.vm.sh("cat /proc/iomem")
    want = "%x-%x : %s" % (addr, addr + size - 1, name)
    check(want in iomem, "no %r in /proc/iomem:\n%s" % (want, iomem))
    unplugged = addr + 3 * GiB // 2
    rc, out = g.vm.run("dd if=/dev/mem of=/dev/null bs=4096 count=1 "
                       "skip=%d" % (unplugged // 4096))
    check(rc != 0, "/dev/mem read unplugged memory at %#x: %s" %
          (unplugged, out.strip()))
    print("  /proc/iomem: %s; /dev/mem at %#x: %s" %
          (want, unplugged, out.strip().splitlines()[-1] if out.strip()
           else "refused"))
    ops.resize(g, 0)


@case("hibernation_refused", group="movable",
      needs=("CONFIG_HIBERNATION",),
      expects=("hibernation refused",))
def hibernation_refused(g):
    """
    A hibernated VM boots anew with nothing plugged: hibernation is
    refused while memory is plugged, and goes ahead (as far as the test
    mode takes it) with none.
    """
    g.vm.sh("echo devices > /sys/power/pm_test")
    ops.resize(g, 512 * MiB)
    rc, out = g.vm.run("echo disk > /sys/power/state", timeout=120)
    check(rc != 0, "hibernation with 512 MiB plugged was not refused")
    ops.wait_log(g, r"hibernation refused: 536870912 bytes plugged")
    ops.resize(g, 0)
    rc, out = g.vm.run("echo disk > /sys/power/state", timeout=300)
    check("hibernation refused" not in out,
          "hibernation refused with nothing plugged: %s" % out.strip())
    g.vm.sh("echo none > /sys/power/pm_test")
    ops.resize(g, 256 * MiB)
    ops.resize(g, 0)


@case("suspend_to_idle_plugged", group="movable",
      needs=("CONFIG_SUSPEND",))
def suspend_to_idle_plugged(g):
    """
    Suspend-to-idle keeps the VM powered, so it goes ahead with memory
    plugged: the devices' suspend and resume run for real
    (pm_test=devices), the memory is still plugged afterwards, and the
    checksummed load finds every byte.
    """
    ops.resize(g, 512 * MiB)
    fill = ops.memfill_start(g, mib=256)
    g.vm.sh("echo devices > /sys/power/pm_test")
    rc, out = g.vm.run("echo freeze > /sys/power/state", timeout=120)
    g.vm.sh("echo none > /sys/power/pm_test")
    check(rc == 0, "suspend-to-idle with 512 MiB plugged: %s" % out.strip())
    ops.wait_log(g, r"resumed: request queue set up again")
    check(g.vm.query_memory_devices()["vm0"]["size"] == 512 * MiB,
          "plugged size changed across suspend-to-idle")
    ops.memfill_stop(g, fill)
    ops.resize(g, 1 * GiB)
    ops.resize(g, 0)
