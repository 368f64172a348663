# SPDX-License-Identifier: GPL-2.0
"""
make run: boot a guest (-m 1G) with one virtio-mem device (block-size 2M,
region 8G, requested-size 0), load our driver and show QEMU's view of the
device (QMP) beside the guest's (sysfs, /proc/meminfo).  Then walk
requested-size 0 -> 1 GiB -> 4 GiB -> 512 MiB -> 0 and show both views
once the guest has followed each request.

    python3 tools/qemu/demo.py --kernel K --moddir M --ko virtio_mem.ko
"""

import argparse
import os
import signal
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import vmtest  # noqa: E402
from vmtest import GiB, MiB, MemDevice, VMConfig, fmt_size  # noqa: E402

WALK = (1 * GiB, 4 * GiB, 512 * MiB, 0)
STEP_TIMEOUT = 120.0


def sz(v):
    """'1073741824 (1 GiB)' for sizes, '-' when unknown."""
    if v is None or v == "":
        return "-"
    v = int(v)
    return "%d (%s)" % (v, fmt_size(v)) if v else "0"


def show(vm, title):
    """Print the host and guest views of every device side by side."""
    qdevs = vm.query_memory_devices()
    gdevs = vm.virtio_mem_devices()
    mem = vm.meminfo()
    traced = vm.traced_usable_sizes()
    usable = "%s [trace]" % sz(traced[-1]) if traced else "-"
    print("\n== %s ==" % title)
    for qid, q in sorted(qdevs.items()):
        g = next((d for d in gdevs
                  if d["attrs"].get("addr") == str(q["memaddr"])), None)
        a = g["attrs"] if g else {}
        gname = "%s, driver %s" % (g["name"], g["driver"]) if g else \
            "no matching device"
        rows = [
            ("address", "%#x" % q["memaddr"],
             "%#x" % int(a["addr"]) if "addr" in a else "-"),
            ("node", str(q["node"]),
             "%s (Linux nid %s)" % (a.get("node_id", "-"), a.get("nid", "-"))),
            ("block size", sz(q["block-size"]), sz(a.get("block_size"))),
            ("requested size", sz(q["requested-size"]),
             sz(a.get("requested_size"))),
            ("plugged size", sz(q["size"]), sz(a.get("plugged_size"))),
            ("region size", sz(q["max-size"]), sz(a.get("region_size"))),
            ("usable region", usable,
             sz(a.get("usable_region_size"))),
            ("guest MemTotal", "", sz(mem.get("MemTotal"))),
        ]
        w0 = max(len(r[0]) for r in rows)
        w1 = max(len(r[1]) for r in rows + [("", "host: QMP " + qid, "")])
        print("%-*s  %-*s  %s" % (w0, "", w1, "host: QMP " + qid,
                                  "guest: sysfs (%s)" % gname))
        print("%s  %s  %s" % ("-" * w0, "-" * w1, "-" * 36))
        for name, host, guest in rows:
            print("%-*s  %-*s  %s" % (w0, name, w1, host, guest))


def main():
    p = argparse.ArgumentParser(description=__doc__.strip().splitlines()[0])
    vmtest.common_args(p)
    p.add_argument("--keep", action="store_true", help="keep the work dir")
    args = p.parse_args()
    if not args.ko or not os.path.exists(args.ko):
        p.error("--ko: our virtio_mem.ko is needed (make builds it)")

    cfg = VMConfig(kernel=args.kernel, moddir=args.moddir, ko=args.ko,
                   module="ours", boot_mem=1 * GiB,
                   append="memhp_default_state=online_movable",
                   trace=[vmtest.TRACE_USABLE], keep_workdir=args.keep,
                   devices=[MemDevice("vm0", block_size=2 * MiB,
                                      region_size=8 * GiB,
                                      requested_size=0)])
    print("Booting QEMU (TCG): -m 1G, virtio-mem-pci vm0 "
          "block-size=2M region=8G requested-size=0 ...", flush=True)
    with vmtest.VM(cfg) as vm:
        print("guest ready after %.1f s" % vm.boot_time)
        bad = [s for s in vm.insmod_status() if s[0] != 0]
        if bad:
            print("insmod failed: %s" % bad)
            return 1
        show(vm, "after boot")

        base = vm.meminfo()["MemTotal"]
        for target in WALK:
            print("\n$ qom-set vm0 requested-size %d  # %s" %
                  (target, fmt_size(target)), flush=True)
            vm.qom_set("vm0", "requested-size", target)
            t0 = time.monotonic()
            plugged = total = None
            while time.monotonic() - t0 < STEP_TIMEOUT:
                plugged = vm.query_memory_devices()["vm0"]["size"]
                total = vm.meminfo()["MemTotal"] - base
                if plugged == target and total == target:
                    break
                time.sleep(0.2)
            if plugged == target and total == target:
                print("QEMU plugged size and guest MemTotal followed in "
                      "%.1f s" % (time.monotonic() - t0))
            else:
                print("not followed after %.0f s: plugged %s, MemTotal "
                      "grew by %s" % (STEP_TIMEOUT, fmt_size(plugged),
                                      fmt_size(total)))
            show(vm, "after requested-size %s" % fmt_size(target))
        vm.check_console()
    return 0


if __name__ == "__main__":
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    try:
        sys.exit(main())
    except vmtest.VMError as e:
        print("error: %s" % e, file=sys.stderr)
        sys.exit(1)
