# SPDX-License-Identifier: GPL-2.0
"""
Run the KUnit suites inside an x86 guest: boot the given kernel (the
debug kernel: KASAN, lockdep, DEBUG_VM, KUNIT=y) with no virtio-mem
device, load a virtio_mem.ko built with CONFIG_VIRTIO_MEM_KUNIT_TEST (the
suites run while the module loads), and hand the kernel log to kunit.py's
parser. Prints what kunit.py printed, then the KTAP of the run goes to
--ktap for scripts/kunit_results.py.

    python3 tools/qemu/kunit_guest.py --kernel K [--moddir M] --ko KO
                                      --ktap FILE
Exit code: 0 if the guest ran the suites without a kernel complaint.
"""

import argparse
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import vmtest  # noqa: E402


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    vmtest.common_args(p)
    p.add_argument("--ktap", required=True, help="where to write the log")
    a = p.parse_args()
    cfg = vmtest.VMConfig(kernel=a.kernel, moddir=a.moddir, ko=a.ko,
                          module="none", boot_timeout=300,
                          # The suites' KTAP is read back with dmesg: a
                          # 128 KiB log buffer lost the start of it.
                          append="log_buf_len=8M")
    with vmtest.VM(cfg) as vm:
        print("# guest ready after %.1f s" % vm.boot_time, flush=True)
        since = len(vm.console())
        # Only this run's KTAP: the boot's own (empty) one would come first.
        vm.sh("dmesg -c > /dev/null")
        rc, out = vm.run("insmod /modules/ours/virtio_mem.ko", timeout=900)
        if rc:
            print("insmod failed (%d): %s" % (rc, out))
        with open(a.ktap, "w") as f:
            f.write(vm.sh("dmesg"))
        try:
            vm.check_console(since=since)
        except vmtest.KernelComplaint as e:
            print("kernel complaint while the suites ran:\n%s" % e)
            return 1
    return 1 if rc else 0


if __name__ == "__main__":
    sys.exit(main())
