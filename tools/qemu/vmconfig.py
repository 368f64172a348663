# SPDX-License-Identifier: GPL-2.0
"""
What a test guest looks like: its virtio-mem devices (MemDevice) and the
whole machine (VMConfig), and QEMU 7.2's usable region model.
"""

from dataclasses import dataclass, field

from units import GiB, MiB, parse_size

DEFAULT_APPEND = "console=ttyS0 panic_on_warn=1 panic=-1 oops=panic loglevel=7"


@dataclass
class MemDevice:
    """One virtio-mem-pci device (and its memory-backend-ram)."""
    id: str = "vm0"
    node: int = 0
    block_size: int = None          # None: let QEMU pick (2 MiB on x86 THP)
    region_size: int = 4 * GiB
    requested_size: int = 0
    props: dict = field(default_factory=dict)   # extra -device properties
    backend_props: dict = field(default_factory=dict)  # e.g. reserve=off

    @property
    def memdev(self):
        return "mem_" + self.id

    def qemu_args(self):
        dev = ["virtio-mem-pci", "id=" + self.id, "memdev=" + self.memdev,
               "node=%d" % self.node,
               "requested-size=%d" % parse_size(self.requested_size)]
        if self.block_size is not None:
            dev.append("block-size=%d" % parse_size(self.block_size))
        dev += ["%s=%s" % kv for kv in self.props.items()]
        backend = "memory-backend-ram,id=%s,size=%d" % (
            self.memdev, parse_size(self.region_size))
        backend += "".join(",%s=%s" % kv
                           for kv in self.backend_props.items())
        return ["-object", backend, "-device", ",".join(dev)]


@dataclass
class VMConfig:
    """Everything needed to boot one guest; sizes are bytes (or "4G")."""
    kernel: str
    moddir: str
    ko: str = None                  # our virtio_mem.ko (host path)
    module: str = "ours"            # ours | stock | none: loaded at boot
    devices: list = field(default_factory=list)
    boot_mem: int = 1 * GiB
    numa_nodes: int = 0             # 0: no -numa options at all
    smp: int = 2
    slots: int = 4
    mem_margin: int = 1 * GiB       # maxmem headroom beyond all regions
    append: str = ""                # extra kernel command line
    qemu_args: list = field(default_factory=list)   # raw extra QEMU args
    extra_files: dict = field(default_factory=dict)  # guest path -> host path|bytes
    extra_modules: list = field(default_factory=list)  # more guest modules
    init_cmds: list = field(default_factory=list)   # sh lines before the loop
    qemu: str = "qemu-system-x86_64"
    busybox: str = "/bin/busybox"
    trace: list = field(default_factory=list)       # QEMU trace event patterns
    boot_timeout: float = 120.0
    keep_workdir: bool = False


def usable_region_size(region, requested, block):
    """
    QEMU 7.2's usable region for a requested size (virtio-mem.c,
    virtio_mem_resize_usable_region()): requested + 256 MiB capped at the
    region, rounded up to the block size; 0 while nothing is requested.
    (It only grows at run time; it may shrink only on reset/unplug-all.)
    """
    if not requested:
        return 0
    size = min(region, requested + 256 * MiB)
    return -(-size // block) * block
