# SPDX-License-Identifier: GPL-2.0
"""
How a QEMU case declares itself, beside its own code:

    @shape("movable", region=8 * GiB, block=2 * MiB, tools=True,
           append="memhp_default_state=online_movable")

    @case("grow_shrink", group="movable")
    def grow_shrink(g): ...

    @case("kdump_no_hotplug", group="kdump", needs=("CONFIG_CRASH_DUMP",))
    @case("scale_budget", group="scale",
          skip_on={"CONFIG_KASAN": "KASAN's shadow ... does not fit"})

A group names a guest shape; the cases of one group share a boot and run
in the order they were declared, groups in the order of their first
case. needs= names what the kernel must have (kfacts.py), skip_on= maps a
kernel tag or a config option to the reason the case is skipped there,
and expects= lists console lines the case provokes on purpose (they must
appear, and are no complaint for it).
"""

import copy
import os

import kmods
from dataclasses import dataclass, field

from qemu_trace import TRACE_USABLE
from vmconfig import MemDevice, VMConfig

# The static guest tools (make builds them), where the guest has them.
MEMFILL = "/bin/memfill"
VMSPLICE_PIN = "/bin/vmsplice_pin"
POLLWAIT = "/bin/pollwait"
VMEMCTL = "/bin/vmemctl"


@dataclass
class Case:
    name: str
    group: str
    fn: object
    needs: tuple = ()
    skip_on: dict = field(default_factory=dict)
    expects: tuple = ()


@dataclass
class Shape:
    """A guest configuration; its devices are copied for each boot."""
    name: str
    devices: list
    append: str = ""
    module: str = "ours"            # loaded at boot: ours | stock
    numa_nodes: int = 0
    tools: bool = False             # memfill, pollwait, vmemctl in /bin
    files: object = None            # () -> {guest path: host path}
    trace: tuple = (TRACE_USABLE,)  # QEMU trace events
    qemu_args: tuple = ()           # more QEMU arguments (other devices)
    modules: tuple = ()             # guest modules to load, if not built in


CASES = []
SHAPES = {}


def case(name, group, needs=(), skip_on=None, expects=()):
    """Declare the decorated function a case (see the module doc)."""
    def deco(fn):
        if any(c.name == name for c in CASES):
            raise ValueError("case %s declared twice" % name)
        CASES.append(Case(name, group, fn, tuple(needs),
                          dict(skip_on or {}), tuple(expects)))
        return fn
    return deco


def shape(name, devices=None, region=None, block=None, **kw):
    """
    Declare a guest shape: @devices, or one device "vm0" with @region and
    @block (None: QEMU's default). Returns it.
    """
    if devices is None:
        devices = [MemDevice("vm0", region_size=region, block_size=block,
                             **kw.pop("device_props", {}))]
    if name in SHAPES:
        raise ValueError("shape %s declared twice" % name)
    SHAPES[name] = Shape(name, devices, **kw)
    return SHAPES[name]


def check_declarations():
    """Every case's group is a declared shape."""
    bad = sorted({c.group for c in CASES if c.group not in SHAPES})
    if bad:
        raise ValueError("cases use undeclared shapes: %s" % ", ".join(bad))


def groups(cases):
    """The groups of @cases in the order of their first case."""
    res = []
    for c in cases:
        if c.group not in res:
            res.append(c.group)
    return res


def guest_config(group, args):
    """The VMConfig of shape @group for the kernel and tools of @args."""
    s = SHAPES[group]
    files = {}
    if s.tools:
        files[MEMFILL] = args.memfill
        pin = os.path.join(os.path.dirname(os.path.abspath(args.memfill)),
                           "vmsplice_pin")
        if os.path.exists(pin):
            files[VMSPLICE_PIN] = pin
        files[POLLWAIT] = args.pollwait
        if os.path.exists(args.vmemctl):
            files[VMEMCTL] = args.vmemctl
    if s.files:
        files.update(s.files())
    mods = kmods.to_load(args.moddir, list(s.modules)) if args.moddir else []
    # Debian 13 onlines hot-added memory by default, Debian 12 does not:
    # a shape that says nothing gets the same (offline) on every kernel.
    append = s.append
    if "memhp_default_state=" not in append:
        append = (append + " memhp_default_state=offline").strip()
    return VMConfig(kernel=args.kernel, moddir=args.moddir, ko=args.ko,
                    module=s.module, trace=list(s.trace),
                    qemu_args=list(s.qemu_args), extra_modules=mods,
                    keep_workdir=args.keep, append=append,
                    numa_nodes=s.numa_nodes, extra_files=files,
                    devices=copy.deepcopy(s.devices))
