# SPDX-License-Identifier: GPL-2.0
"""
Lifecycle cases of the QEMU suite: taking a device over from the stock
driver, a crash kernel, rmmod, suspend and resets. Each takes a Guest
(testguest.py).
"""

import time

import guestops as ops
import vmtest
from qcheck import TestFailure, check
from qemu_trace import REQUEST_TRACE, TRACE_USABLE
from registry import case, shape
from units import GiB, MiB, fmt_size

# QEMU traces every request: "nothing was sent" is read there.
TRACE = (TRACE_USABLE,) + tuple(REQUEST_TRACE)
# The stock driver loaded at boot, ours swapped in by the cases.
shape("handover", region=4 * GiB, module="stock", trace=TRACE)
# elfcorehdr= makes is_kdump_kernel() true; the header there is not
# valid, so /proc/vmcore stays away, which is fine here.
shape("kdump", region=4 * GiB, append="elfcorehdr=0x1000", trace=TRACE)


def wait_qmp_size(g, size, timeout=60.0):
    t0 = time.monotonic()
    while g.vm.query_memory_devices()["vm0"]["size"] != size:
        if time.monotonic() - t0 > timeout:
            raise TestFailure("QMP size %s, expected %s" % (
                fmt_size(g.vm.query_memory_devices()["vm0"]["size"]),
                fmt_size(size)))
        time.sleep(0.3)


def stock_plugs(g, size):
    """The stock driver (loaded at boot) plugs @size, left offline, and is
    unloaded: what it could not remove stays plugged at the device."""
    if g.vm.read_file("/sys/module/virtio_mem/taint") != "":
        g.vm.sh("rmmod virtio_mem && insmod " + vmtest.GUEST_KO["stock"])
    check(g.vm.read_file("/sys/module/virtio_mem/taint") == "",
          "the stock driver is not the one loaded")
    q = g.vm.query_memory_devices()["vm0"]
    g.set_requested("vm0", size, q["block-size"])
    wait_qmp_size(g, size)
    mark = ops.trace_mark(g)
    # rmmod returns once the driver's remove has run: it has decided.
    g.vm.sh("rmmod virtio_mem")
    check(g.vm.run("test -e /sys/module/virtio_mem")[0] != 0,
          "virtio_mem still loaded after rmmod")
    check(g.vm.query_memory_devices()["vm0"]["size"] == size,
          "QMP size changed when the stock driver was unloaded")
    sent = ops.requests_since(g, mark, "unplug", "unplug_all")
    check(not sent, "the stock driver sent %d unplug requests on its way "
          "out: the case wants memory left plugged" % len(sent))


@case("start_with_plugged", group="handover", needs=("stock_module",))
def start_with_plugged(g):
    """plugged_size != 0 at probe, nothing of it added: UNPLUG_ALL first,
    then plug to the request (KUnit covers UNPLUG_ALL answered BUSY)."""
    stock_plugs(g, 64 * MiB)    # part of one memory block: removed
    print("  stock driver unloaded, device still has 64 MiB plugged")
    g.vm.sh("insmod " + vmtest.GUEST_KO["ours"])
    ops.wait_for(g, 64 * MiB, online=False, timeout=60)
    log = g.vm.dmesg()
    check("bytes still plugged (left by a previous driver): unplugging "
          "all first" in log, "no UNPLUG_ALL message from our driver")
    ops.books_match(g)
    a = ops.resize(g, 0, online=False)
    check(ops.attr(a, "blocks_offline") == 0, "blocks left at 0: %s" % a)


@case("refuse_added_region", group="handover", needs=("stock_module",))
def refuse_added_region(g):
    """Memory of the region still added by the stock driver: ours must
    not take the device (an UNPLUG_ALL would pull memory from Linux)."""
    stock_plugs(g, 256 * MiB)   # two whole memory blocks: stay added
    check("device still has system memory added" in g.vm.dmesg(),
          "the stock driver removed everything: nothing to test")
    mark = ops.trace_mark(g)
    # The probe runs within insmod: once it returns, the driver decided.
    rcode, out = g.vm.run("insmod " + vmtest.GUEST_KO["ours"])
    log = g.vm.dmesg()
    check("is still added to Linux by a previous driver: not taking the "
          "device" in log, "our driver did not refuse the device:\n%s" %
          "\n".join(ln for ln in log.splitlines() if "virtio_mem" in ln))
    devs = g.vm.virtio_mem_devices()
    check(devs and all(d["driver"] is None for d in devs),
          "the device is bound although the driver refused it: %s" % devs)
    size = g.vm.query_memory_devices()["vm0"]["size"]
    check(size == 256 * MiB, "QMP size %s: memory added to Linux was "
          "unplugged" % fmt_size(size))
    sent = ops.requests_since(g, mark)
    check(not sent, "the refusing driver sent %d requests: %s" %
          (len(sent), sorted({r["kind"] for r in sent})))
    print("  insmod: rc %d; device refused, 256 MiB stay plugged" % rcode)


@case("kdump_no_hotplug", group="kdump", needs=("CONFIG_CRASH_DUMP",))
def kdump_no_hotplug(g):
    """A crash kernel (elfcorehdr= on the command line): the driver binds,
    registers for /proc/vmcore and plugs nothing."""
    log = g.vm.dmesg()
    check("crash kernel: no hot(un)plug" in log,
          "the driver did not see a crash kernel:\n%s" %
          "\n".join(ln for ln in log.splitlines() if "virtio_mem" in ln))
    q = g.vm.query_memory_devices()["vm0"]
    mark = ops.trace_mark(g)
    g.set_requested("vm0", 512 * MiB, q["block-size"])
    # The driver logs the new request, then decides (in a crash kernel:
    # nothing to do). Reading plugged_size waits for a resize run that
    # would be under way.
    ops.wait_log(g, r"virtio_mem \S+: requested size changed: 0 -> %d$" %
                 (512 * MiB))
    a = ops.views(g)[1]
    check(ops.attr(a, "plugged_size") == 0, "a crash kernel plugged %s" %
          fmt_size(ops.attr(a, "plugged_size")))
    size = g.vm.query_memory_devices()["vm0"]["size"]
    check(size == 0, "a crash kernel plugged %s" % fmt_size(size))
    sent = ops.requests_since(g, mark, "plug", "unplug", "unplug_all")
    check(not sent, "a crash kernel sent %d plug or unplug requests" %
          len(sent))
    g.vm.sh("rmmod virtio_mem")
    check("crash kernel: 0 state requests" in g.vm.dmesg(),
          "unbinding in a crash kernel: no statistics line")


@case("rmmod_with_plugged", group="movable")
def rmmod_with_plugged(g):
    """rmmod with 1 GiB plugged and online: the driver unplugs and removes
    it all on the way out; loading it again works."""
    ops.resize(g, 1 * vmtest.GiB)
    rcode, out = g.vm.run("rmmod virtio_mem")
    check(rcode == 0, "rmmod with memory plugged failed: %s" % out.strip())
    wait_qmp_size(g, 0)
    total = g.vm.meminfo()["MemTotal"]
    check(total == g.base_memtotal, "MemTotal %s after rmmod, %s before "
          "plugging" % (fmt_size(total), fmt_size(g.base_memtotal)))
    print("  rmmod: QMP size 0, MemTotal back to %s" % fmt_size(total))
    g.vm.sh("insmod " + vmtest.GUEST_KO["ours"])
    ops.resize(g, 512 * MiB)
    ops.resize(g, 0)


def try_suspend(g):
    """A suspend to RAM (ACPI S3: the host resets the VM at wake-up) that
    stops after the devices' suspend and resume callbacks
    (pm_test=devices): our freeze and restore run for real."""
    check("deep" in g.vm.read_file("/sys/power/mem_sleep"),
          "no suspend to RAM (deep) offered: %s" %
          g.vm.read_file("/sys/power/mem_sleep"))
    g.vm.sh("echo devices > /sys/power/pm_test; "
            "echo deep > /sys/power/mem_sleep")
    rcode, out = g.vm.run("echo mem > /sys/power/state", timeout=120)
    g.vm.sh("echo none > /sys/power/pm_test")
    return rcode, out


@case("suspend_refused_then_resumed", group="movable",
      needs=("CONFIG_SUSPEND",))
def suspend_refused_then_resumed(g):
    """Suspend to RAM with memory plugged is refused (no
    PERSISTENT_SUSPEND in QEMU 7.2, and the wake-up resets the VM); with
    nothing plugged it goes through, and after resume the driver plugs and
    unplugs again (virtqueue set up anew). Suspend-to-idle, which resets
    nothing, is correctness_cases.suspend_to_idle_plugged."""
    ops.resize(g, 512 * MiB)
    rcode, out = try_suspend(g)
    check(rcode != 0, "suspend with 512 MiB plugged was not refused")
    check("suspend refused: 536870912 bytes plugged" in g.vm.dmesg(),
          "no refusal message from the driver")
    print("  refused with 512 MiB plugged: %s" % out.strip())
    ops.resize(g, 0)
    rcode, out = try_suspend(g)
    check(rcode == 0, "suspend with nothing plugged failed: %s" %
          out.strip())
    check("resumed: request queue set up again" in g.vm.dmesg(),
          "the driver's restore did not run")
    print("  nothing plugged: suspended and resumed")
    ops.resize(g, 512 * MiB)
    ops.resize(g, 0)


def reset_and_reach(g, target):
    g.vm.system_reset()
    print("  guest back %.1f s after system_reset" % g.vm.boot_time)
    dt = ops.wait_for(g, target, timeout=180, rebooted=True)
    print("  %s reached %.1f s after the guest was up" % (fmt_size(target),
                                                           dt))
    ops.books_match(g)


@case("reset_at_rest", group="movable")
def reset_at_rest(g):
    """system_reset with 1 GiB plugged: QEMU unplugs all at reset; the
    driver probes again and plugs the request back."""
    ops.resize(g, 1 * vmtest.GiB)
    reset_and_reach(g, 1 * vmtest.GiB)
    ops.resize(g, 0)


@case("reset_mid_resize", group="movable")
def reset_mid_resize(g):
    """system_reset while the driver is plugging 8 GiB (SMALL: 4 GiB;
    caught with part of it plugged), and again while it unplugs."""
    target = (4 if ops.SMALL else 8) * vmtest.GiB
    for start, goal in ((0, target), (target, 0)):
        if start:
            ops.resize(g, start)
        q = g.vm.query_memory_devices()["vm0"]
        g.set_requested("vm0", goal, q["block-size"])
        t0 = time.monotonic()
        while True:
            size = g.vm.query_memory_devices()["vm0"]["size"]
            if size not in (start, goal):
                break
            check(size != goal, "%s reached before the reset could catch "
                  "it mid-resize" % fmt_size(goal))
            check(time.monotonic() - t0 < 30, "resize to %s did not start"
                  % fmt_size(goal))
            time.sleep(0.02)
        print("  reset at QMP size %s, on the way from %s to %s" %
              (fmt_size(size), fmt_size(start), fmt_size(goal)))
        reset_and_reach(g, goal)
    ops.resize(g, 0)
