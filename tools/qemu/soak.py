# SPDX-License-Identifier: GPL-2.0
"""
make soak: many random resizes of one guest while memfill keeps most of
its free memory filled with a checksummed pattern.

    python3 tools/qemu/soak.py --kernel K --moddir M --ko virtio_mem.ko
        [--memfill tools/memfill] [--steps 200] [--seed S] [--mode sbm|bbm]

Targets: grow, shrink, 0 and the maximum, with random pauses; about one
step in five sets a new target while the previous one is in progress.
After every step QMP size must equal the driver's plugged_size, and the
target must be reached unless free memory did not allow it (then the
driver must say it is retrying). At the end: 0 corrupted bytes, books
equal to the device's size, no kernel complaint. Prints one PASS/FAIL line
and "N passed, N failed, N skipped".
"""

import argparse
import os
import random
import signal
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import vmtest  # noqa: E402
import guestops as ops  # noqa: E402
from qcheck import TestFailure, check  # noqa: E402
from registry import MEMFILL  # noqa: E402
from vmtest import GiB, MiB, MemDevice, VMConfig, fmt_size  # noqa: E402

REGION = 4 * GiB
STEP_TIMEOUT = 240.0


class SoakGuest:
    """What resize_cases' helpers need of a guest."""

    def __init__(self, vm):
        self.vm = vm
        self.base_memtotal = vm.meminfo()["MemTotal"]

    def set_requested(self, dev_id, size, _block):
        self.vm.qom_set(dev_id, "requested-size", size)


def wait_step(g, target, quiet=6.0):
    """
    Wait for @target. Returns (reached, plugged, sysfs attrs): reached when
    QMP size, plugged_size and MemTotal all follow; else once plugged_size
    has not moved for @quiet seconds and the driver no longer says
    'resizing' (a take of several blocks under load moves nothing visible
    for a while; a driver that never ends meets STEP_TIMEOUT).
    """
    t0 = time.monotonic()
    pace = ops.Pacer()
    last, since = None, time.monotonic()
    while True:
        q, a, total = ops.views(g)
        plugged = ops.attr(a, "plugged_size")
        if q["size"] == target == plugged and \
           total - g.base_memtotal == target:
            return True, plugged, a
        if plugged != last:
            last, since = plugged, time.monotonic()
        elif time.monotonic() - since >= quiet and plugged != target and \
                a.get("state") != "resizing":
            return False, plugged, a
        if time.monotonic() - t0 > STEP_TIMEOUT:
            raise TestFailure("target %s: no end after %.0f s, plugged %s, "
                              "state %r" % (fmt_size(target), STEP_TIMEOUT,
                                            fmt_size(plugged),
                                            a.get("state")))
        pace.wait()


def pick(rnd, block):
    r = rnd.random()
    if r < 0.1:
        return 0
    if r < 0.2:
        return REGION
    return rnd.randrange(0, REGION // block + 1) * block


def soak(vm, args, block):
    g = SoakGuest(vm)
    rnd = random.Random(args.seed)
    # The driver plugs whole subblocks (at least a pageblock: 4 MiB on a
    # kernel without hugetlb): targets are multiples of that.
    block = max(block, ops.attr(ops.views(g)[1], "subblock_size"))
    ops.resize(g, 1 * GiB)
    pid = ops.memfill_start(g, 60)
    stats = dict(reached=0, short=0, interrupted=0, kmem=0)
    t0 = time.monotonic()
    try:
        for step in range(args.steps):
            target = pick(rnd, block)
            if rnd.random() < 0.2:          # a new target mid-resize
                vm.qom_set("vm0", "requested-size", pick(rnd, block))
                time.sleep(rnd.uniform(0.05, 0.6))
                stats["interrupted"] += 1
            vm.qom_set("vm0", "requested-size", target)
            reached, plugged, a = wait_step(g, target)
            size, a = ops.books_match(g)
            ops.selfcheck(g, "step %d" % step)
            check(vm.run("kill -0 %s" % pid)[0] == 0,
                  "step %d: memfill was killed" % step)
            if reached:
                stats["reached"] += 1
            else:
                why = ops.judge_short(vm, "step %d" % step, target, size,
                                      a, block)
                stats["short"] += 1
                stats["kmem"] += why == "kernel memory"
            print("  step %3d: %-9s %s plugged %s" %
                  (step, fmt_size(target),
                   "reached" if reached else "short  ", fmt_size(size)),
                  flush=True)
            time.sleep(rnd.uniform(0, 1.0))
    finally:
        passes, verified, corrupt = ops.memfill_stop(g, pid)
    elapsed = time.monotonic() - t0
    ops.books_match(g)
    vm.check_console()
    print("  %d steps in %.0f s: %d reached, %d short (memory did not "
          "allow; %d of them kernel memory), %d interrupted mid-resize; "
          "memfill %d passes, %s verified, %d bytes corrupted" %
          (args.steps, elapsed, stats["reached"], stats["short"],
           stats["kmem"], stats["interrupted"], passes, fmt_size(verified),
           corrupt))
    check(corrupt == 0, "%d bytes corrupted" % corrupt)


def main():
    p = argparse.ArgumentParser(description=__doc__.strip().splitlines()[0])
    p.add_argument("--kernel", required=True)
    p.add_argument("--moddir", default="")
    p.add_argument("--ko", required=True)
    p.add_argument("--memfill", default=os.path.join(
        os.path.dirname(os.path.abspath(__file__)), "..", "memfill"))
    p.add_argument("--steps", type=int, default=200)
    p.add_argument("--seed", type=int, default=None)
    p.add_argument("--mode", choices=("sbm", "bbm"), default="sbm")
    p.add_argument("--tag", default="")
    p.add_argument("--keep", action="store_true")
    args = p.parse_args()
    if args.seed is None:
        args.seed = random.SystemRandom().randrange(1 << 32)
    name = "%ssoak-%s" % (args.tag + "/" if args.tag else "", args.mode)
    print("# soak seed=%d steps=%d mode=%s" % (args.seed, args.steps,
                                               args.mode), flush=True)
    block = 2 * MiB if args.mode == "sbm" else 128 * MiB
    cfg = VMConfig(kernel=args.kernel, moddir=args.moddir, ko=args.ko,
                   module="ours", append="memhp_default_state=online_movable",
                   extra_files={MEMFILL: args.memfill},
                   keep_workdir=args.keep,
                   devices=[MemDevice("vm0", block_size=block,
                                      region_size=REGION)])
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    ok = False
    try:
        with vmtest.VM(cfg) as vm:
            soak(vm, args, block)
        ok = True
    except (TestFailure, vmtest.VMError) as e:
        detail = str(e).strip()
        print("  " + detail.replace("\n", "\n  "))
        print("FAIL: %s: %s (seed %d)" % (name, detail.splitlines()[0],
                                          args.seed), flush=True)
    if ok:
        print("PASS: %s" % name)
    print("%d passed, %d failed, 0 skipped" % (ok, not ok))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
