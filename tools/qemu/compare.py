# SPDX-License-Identifier: GPL-2.0
"""
The guest's view against QEMU's: every sysfs value of every virtio-mem
device against query-memory-devices, and QEMU's trace of the usable
region against the harness's model of it.
"""

import re
import time

from qcheck import TestFailure, check
from units import fmt_size

SYSFS_ATTRS = ("addr", "region_size", "usable_region_size", "block_size",
               "node_id", "nid", "plugged_size", "requested_size")


def pxm_to_node(console):
    """PXM -> Linux node map from the guest's SRAT boot messages."""
    res = {}
    for m in re.finditer(r"SRAT: Node (\d+) PXM (\d+)", console):
        res[int(m.group(2))] = int(m.group(1))
    for m in re.finditer(r"SRAT: PXM (\d+) -> APIC \S+ -> Node (\d+)",
                         console):
        res[int(m.group(1))] = int(m.group(2))
    return res


def usable_from_trace(vm):
    """Last usable region size QEMU traced (single-device guests only)."""
    sizes = vm.traced_usable_sizes()
    return sizes[-1] if sizes else None


def match_devices(g):
    """{qemu id: (qmp data, guest device)} matched by addr == memaddr."""
    qdevs = g.vm.query_memory_devices()
    gdevs = g.vm.virtio_mem_devices()
    check(len(gdevs) == len(qdevs),
          "guest has %d virtio-mem devices, QEMU %d" %
          (len(gdevs), len(qdevs)))
    res = {}
    for qid, q in qdevs.items():
        hits = [d for d in gdevs if d["attrs"].get("addr") == str(q["memaddr"])]
        if not hits:
            raise TestFailure(
                "no guest device with addr=%d (memaddr of %s); guest: %s" %
                (q["memaddr"], qid,
                 ", ".join("%s driver=%s addr=%s" %
                           (d["name"], d["driver"], d["attrs"].get("addr"))
                           for d in gdevs)))
        check(len(hits) == 1, "several guest devices with addr %d" %
              q["memaddr"])
        res[qid] = (q, hits[0])
    return res


def compare_once(g):
    """Return a list of mismatches between sysfs and QEMU (empty: equal)."""
    errs = []
    pxm = pxm_to_node(g.vm.console())
    traced = usable_from_trace(g.vm) if len(g.cfg.devices) == 1 else None
    for qid, (q, d) in sorted(match_devices(g).items()):
        a = d["attrs"]
        where = "%s (%s)" % (qid, d["name"])
        if d["driver"] != "virtio_mem":
            errs.append("%s: bound to driver %r" % (where, d["driver"]))
        missing = [k for k in SYSFS_ATTRS if k not in a]
        if missing:
            errs.append("%s: missing sysfs files %s" % (where, missing))
            continue
        bad = [k for k in SYSFS_ATTRS if not re.fullmatch(r"-?\d+", a[k])]
        if bad:
            errs.append("%s: not decimal: %s" %
                        (where, {k: a[k] for k in bad}))
            continue
        v = {k: int(a[k]) for k in SYSFS_ATTRS}
        for attr, qkey in (("addr", "memaddr"), ("region_size", "max-size"),
                           ("block_size", "block-size"), ("node_id", "node"),
                           ("plugged_size", "size"),
                           ("requested_size", "requested-size")):
            if v[attr] != q[qkey]:
                errs.append("%s: %s=%d but QEMU %s=%d" %
                            (where, attr, v[attr], qkey, q[qkey]))
        nid = pxm.get(q["node"], -1)
        if v["nid"] != nid:
            errs.append("%s: nid=%d, expected %d (node %d, SRAT map %s)" %
                        (where, v["nid"], nid, q["node"], pxm))
        usable, bs = v["usable_region_size"], q["block-size"]
        if usable % bs or usable < q["requested-size"] or \
           usable > q["max-size"]:
            errs.append("%s: usable_region_size=%d not block aligned or "
                        "outside [requested %d, region %d]" %
                        (where, usable, q["requested-size"], q["max-size"]))
        want = g.usable[qid]
        if traced is not None and traced != want:
            errs.append("%s: harness model says usable %d but QEMU traced "
                        "%d" % (where, want, traced))
            want = traced
        if usable != want:
            errs.append("%s: usable_region_size=%d (%s), QEMU has %d (%s)" %
                        (where, usable, fmt_size(usable), want,
                         fmt_size(want)))
    return errs


def compare(g, settle=5.0):
    """compare_once() until it agrees or @settle seconds pass."""
    deadline = time.monotonic() + settle
    while True:
        errs = compare_once(g)
        if not errs:
            return
        if time.monotonic() >= deadline:
            raise TestFailure("; ".join(errs))
        time.sleep(0.5)


def driver_lines(dmesg):
    return [ln for ln in dmesg.splitlines() if "virtio_mem" in ln]


def hex_re(value):
    return re.compile(r"(?<![0-9a-fA-Fx])(0x)?0*%x(?![0-9a-fA-F])" % value,
                      re.I)
