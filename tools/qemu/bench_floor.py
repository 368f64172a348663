# SPDX-License-Identifier: GPL-2.0
"""
How close each driver gets to a target the guest's load cannot fit: a
1 GiB guest with 4 GiB plugged, memfill holds --load (2200 MiB), the host
asks for --target (1 GiB). Each driver stops where it can take no more;
this prints where (QMP size once it has not moved for --quiet seconds),
the guest's MemFree there, and whether memfill lived and the OOM killer
stayed away.

    python3 tools/qemu/bench_floor.py --kernel K --moddir M --ko KO
        [--only ours|stock] [--repeat N]
"""

import argparse
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import vmtest  # noqa: E402
from bench_run import module_check, settle_initial  # noqa: E402
from registry import MEMFILL  # noqa: E402
from units import GiB, MiB, fmt_size  # noqa: E402
from vmtest import MemDevice, VMConfig  # noqa: E402


def run(module, args):
    cfg = VMConfig(kernel=args.kernel, moddir=args.moddir, ko=args.ko,
                   module=module, boot_mem=1 * GiB,
                   extra_files={MEMFILL: args.memfill},
                   append="memhp_default_state=online_movable",
                   devices=[MemDevice("vm0", block_size=2 * MiB,
                                      region_size=8 * GiB,
                                      requested_size=4 * GiB)])
    with vmtest.VM(cfg) as vm:
        module_check(vm, module)
        settle_initial(vm, 4 * GiB, 300)
        pid = vm.sh("%s -m %d -i 2000 > /tmp/memfill.log 2>&1 & echo $!" %
                    (MEMFILL, args.load)).split()[-1]
        for _ in range(600):
            if "memfill: ready" in vm.sh("cat /tmp/memfill.log"):
                break
            time.sleep(0.5)
        t0 = time.monotonic()
        vm.qom_set("vm0", "requested-size", args.target)
        last, since = None, time.monotonic()
        while time.monotonic() - t0 < args.timeout:
            size = vm.query_memory_devices()["vm0"]["size"]
            if size != last:
                last, since = size, time.monotonic()
            elif time.monotonic() - since >= args.quiet:
                break
            time.sleep(1)
        mem = vm.meminfo()
        alive = vm.run("kill -0 %s" % pid)[0] == 0
        oom = "Out of memory" in vm.dmesg() or \
            "oom-kill" in vm.dmesg()
        print("%s: ended at %s plugged (%.0f s), MemFree %s, memfill %s, "
              "OOM %s" % (module, fmt_size(last), since - t0,
                          fmt_size(mem["MemFree"]),
                          "alive" if alive else "DEAD",
                          "yes" if oom else "no"), flush=True)
        try:
            vm.check_console()
        except vmtest.KernelComplaint as kc:
            print("%s: %s" % (module, str(kc).splitlines()[0]), flush=True)
        return last


def main():
    p = argparse.ArgumentParser(description=__doc__.strip().splitlines()[0])
    vmtest.common_args(p)
    p.add_argument("--memfill", default=os.path.join(
        os.path.dirname(os.path.abspath(__file__)), "..", "memfill"))
    p.add_argument("--load", type=int, default=2200, help="MiB (2200)")
    p.add_argument("--target", default="1G")
    p.add_argument("--only", choices=["ours", "stock"])
    p.add_argument("--repeat", type=int, default=1)
    p.add_argument("--quiet", type=float, default=40,
                   help="seconds without a change that end a run (40)")
    p.add_argument("--timeout", type=float, default=300)
    args = p.parse_args()
    args.target = vmtest.parse_size(args.target)
    for rep in range(args.repeat):
        for m in [args.only] if args.only else ["ours", "stock"]:
            run(m, args)
    return 0


if __name__ == "__main__":
    sys.exit(main())
