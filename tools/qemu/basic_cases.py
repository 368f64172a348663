# SPDX-License-Identifier: GPL-2.0
"""
Basic cases of the QEMU suite: the driver binds, logs its device, comes
and goes with rmmod/insmod, follows requested_size, sits on the right
NUMA node, and takes over from the stock driver; every sysfs value
against QEMU's view.
"""

import re
import time

import vmtest
from compare import compare, driver_lines, hex_re, match_devices
from qcheck import check, TestFailure
from registry import case, shape
from units import GiB, MiB, fmt_size
from vmconfig import MemDevice

shape("bs128m", region=4 * GiB, block=128 * MiB)
shape("numa2", numa_nodes=2,
      devices=[MemDevice("vm0", node=0, region_size=4 * GiB),
               MemDevice("vm1", node=1, region_size=2 * GiB)])
shape("stock", region=4 * GiB, module="stock")


@case("default_block_size", group="default")
def t_default_block_size(g):
    q = g.vm.query_memory_devices()["vm0"]
    print("  QEMU picked block-size %s, memaddr %#x" %
          (fmt_size(q["block-size"]), q["memaddr"]))
    check(q["block-size"] == 2 * MiB, "QEMU default block size is %d, "
          "this case expects 2 MiB" % q["block-size"])
    compare(g)


@case("probe_log", group="default")
def t_probe_log(g):
    lines = driver_lines(g.vm.dmesg())
    check(lines, "no virtio_mem line in dmesg")
    for q in g.vm.query_memory_devices().values():
        addr = [ln for ln in lines if hex_re(q["memaddr"]).search(ln)]
        check(addr, "memaddr %#x of %s not in any virtio_mem log line:\n%s" %
              (q["memaddr"], q["id"], "\n".join(lines)))
        bs = q["block-size"]
        forms = [hex_re(bs), re.compile(r"\b%d\b" % bs)]
        if bs % MiB == 0:
            forms.append(re.compile(r"\b%d ?Mi?B?\b" % (bs // MiB)))
        check(any(f.search(ln) for f in forms for ln in lines),
              "block size %d not in any virtio_mem log line:\n%s" %
              (bs, "\n".join(lines)))


@case("rmmod_insmod", group="default")
def t_rmmod_insmod(g):
    for cycle in (1, 2):
        rc, out = g.vm.run("rmmod virtio_mem")
        check(rc == 0, "cycle %d: rmmod failed: %s" % (cycle, out.strip()))
        devs = g.vm.virtio_mem_devices()
        check(all(d["driver"] is None and not d["attrs"] for d in devs),
              "cycle %d: device still bound / sysfs left after rmmod: %s" %
              (cycle, devs))
        rc, out = g.vm.run("insmod " + vmtest.GUEST_KO["ours"])
        check(rc == 0, "cycle %d: insmod failed: %s" % (cycle, out.strip()))
        compare(g)


@case("requested_size_change", group="default")
def t_requested_size_change(g):
    q = g.vm.query_memory_devices()["vm0"]
    for size in (1 * GiB, 512 * MiB):
        g.set_requested("vm0", size, q["block-size"])
        check(g.vm.qom_get("vm0", "requested-size") == size,
              "qom-get does not return the new requested-size")
        deadline = time.monotonic() + 10
        seen = None
        while time.monotonic() < deadline:
            devs = g.vm.virtio_mem_devices()
            seen = [d["attrs"].get("requested_size") for d in devs]
            if seen == [str(size)]:
                break
            time.sleep(0.5)
        check(seen == [str(size)], "guest requested_size %s after 10 s, "
              "QEMU requested-size %d" % (seen, size))
        compare(g)
        print("  requested %s: usable_region_size %s" %
              (fmt_size(size), fmt_size(g.usable["vm0"])))


@case("block_size_128m", group="bs128m")
def t_block_size_128m(g):
    q = g.vm.query_memory_devices()["vm0"]
    check(q["block-size"] == 128 * MiB, "QEMU block-size is %d" %
          q["block-size"])
    compare(g)


@case("two_nodes", group="numa2")
def t_two_nodes(g):
    online = g.vm.read_file("/sys/devices/system/node/online")
    check(online == "0-1", "guest NUMA nodes online: %r" % online)
    compare(g)
    for qid, (q, d) in sorted(match_devices(g).items()):
        print("  %s: node %d -> %s node_id=%s nid=%s" %
              (qid, q["node"], d["name"], d["attrs"]["node_id"],
               d["attrs"]["nid"]))
    nodes = {d["attrs"]["nid"] for _q, d in match_devices(g).values()}
    check(nodes == {"0", "1"}, "devices should sit on nids 0 and 1: %s" %
          nodes)


def node_blocks(g):
    """Memory blocks per node: {"0": n, "1": m}."""
    out = g.vm.sh("for n in /sys/devices/system/node/node[0-9]*; do "
                  "echo ${n##*node} $(ls -d $n/memory[0-9]* | wc -l); done")
    return dict(ln.split() for ln in out.strip().splitlines())


@case("two_devices_concurrent", group="numa2")
def t_two_devices_concurrent(g):
    """Both devices resized at once, each on its node."""
    before = node_blocks(g)
    # Within the 1 GiB a device adds before it waits for onlining.
    targets = {"vm0": 1 * GiB, "vm1": 512 * MiB}
    for step in (targets, {"vm0": 0, "vm1": 0}):
        t0 = time.monotonic()
        for qid, size in step.items():
            q = g.vm.query_memory_devices()[qid]
            g.set_requested(qid, size, q["block-size"])
        while True:
            devs = match_devices(g)
            done = all(q["size"] == step[qid] and
                       int(d["attrs"]["plugged_size"]) == step[qid]
                       for qid, (q, d) in devs.items())
            if done:
                break
            check(time.monotonic() - t0 < 120, "not reached: %s" % {
                qid: (q["size"], d["attrs"].get("plugged_size"))
                for qid, (q, d) in devs.items()})
            time.sleep(0.3)
        blocks = node_blocks(g)
        print("  %s reached in %.1f s; memory blocks per node %s" %
              (", ".join("%s %s" % (k, fmt_size(v))
                         for k, v in sorted(step.items())),
               time.monotonic() - t0, blocks))
        for qid, nid in (("vm0", "0"), ("vm1", "1")):
            want = int(before[nid]) + step[qid] // (128 * MiB)
            check(int(blocks[nid]) == want, "node %s has %s memory "
                  "blocks, expected %d" % (nid, blocks[nid], want))


@case("stock_driver_loads", group="stock", needs=("stock_module",))
def t_stock_driver_loads(g):
    vm = g.vm
    check(vm.run("test -f " + vmtest.GUEST_KO["ours"])[0] == 0,
          "our module is missing from the initramfs")
    devs = vm.virtio_mem_devices()
    check(devs and all(d["driver"] == "virtio_mem" for d in devs),
          "device not bound to virtio_mem: %s" % devs)
    taint = vm.read_file("/sys/module/virtio_mem/taint")
    check(taint == "", "loaded virtio_mem is tainted %r: not the stock "
          "module" % taint)
    lines = driver_lines(vm.dmesg())
    q = vm.query_memory_devices()["vm0"]
    check(any(hex_re(q["memaddr"]).search(ln) for ln in lines),
          "stock driver did not log memaddr %#x:\n%s" %
          (q["memaddr"], "\n".join(lines)))
    # Switch to ours at run time: the side-by-side swap tests rely on it.
    vm.sh("rmmod virtio_mem")
    rc, out = vm.run("insmod " + vmtest.GUEST_KO["ours"])
    check(rc == 0, "switch stock -> ours: insmod failed: %s" % out.strip())
    taint = vm.read_file("/sys/module/virtio_mem/taint")
    check("O" in taint, "switch stock -> ours: taint %r lacks O" % taint)
    try:
        compare(g)
    except TestFailure as e:
        raise TestFailure("switch stock -> ours: %s" % e)
