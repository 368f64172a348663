# SPDX-License-Identifier: GPL-2.0
"""
The booted guest a QEMU case receives (Guest), and its boot: the VM, its
boot MemTotal, and the harness's model of QEMU's usable region.
"""

import registry
import vmtest
from qcheck import TestFailure
from units import MiB


class Guest:
    """A booted VM plus what the tests know about it."""

    def __init__(self, vm, cfg):
        self.vm = vm
        self.cfg = cfg
        self.checked = 0            # console offset verified clean so far
        # Expected usable_region_size per device id: QEMU grows it on
        # requested-size changes and never shrinks it outside a reset.
        self.usable = {d.id: vmtest.usable_region_size(
            d.region_size, d.requested_size,
            d.block_size or 2 * MiB) for d in cfg.devices}

    def set_requested(self, dev_id, size, block):
        self.vm.qom_set(dev_id, "requested-size", size)
        region = next(d.region_size for d in self.cfg.devices
                      if d.id == dev_id)
        self.usable[dev_id] = max(self.usable[dev_id],
                                  vmtest.usable_region_size(region, size,
                                                            block))


def boot(group, args):
    """Boot a guest of shape @group; returns its Guest."""
    cfg = registry.guest_config(group, args)
    vm = vmtest.VM(cfg)
    vm.__enter__()                  # boots, waits; cleans up on failure
    print("# boot %s: %.1f s (cpu %.1f s)" % (group, vm.boot_time,
                                             vm.cpu_seconds()), flush=True)
    try:
        bad = [s for s in vm.insmod_status() if s[0] != 0]
        if bad:
            raise TestFailure("insmod failed at boot: %s" % bad)
        g = Guest(vm, cfg)
        g.base_memtotal = vm.meminfo()["MemTotal"]
        # Fix up the default block size now that QEMU told us.
        for qid, q in vm.query_memory_devices().items():
            dev = next(d for d in cfg.devices if d.id == qid)
            g.usable[qid] = vmtest.usable_region_size(
                dev.region_size, dev.requested_size, q["block-size"])
        return g
    except BaseException:
        vm.stop()
        raise
