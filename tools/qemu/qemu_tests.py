# SPDX-License-Identifier: GPL-2.0
"""
Integration tests of the "foundation" milestone: boot QEMU/TCG guests with
our virtio_mem.ko and compare everything the driver exports in sysfs with
QEMU's own view (query-memory-devices, qom-get, trace events).

    python3 tools/qemu/qemu_tests.py --kernel K --moddir M --ko virtio_mem.ko
                                     [--filter NAME[,NAME...]] [--skip NAME[,...]]
                                     [--list]

Every case prints one "PASS: <name>", "FAIL: <name>: <reason>" or
"SKIP: <name>: <reason>" line (details come before it); the last line is
"<n> passed, <m> failed, <k> skipped" and the exit code is non-zero if
anything failed.  Cases sharing a guest configuration share one boot.
A guest that dies or complains outside a case (between two cases, or
after the group's last one) adds a FAIL line for the case that ran last
on it, after its PASS line: a case's verdict is FAIL if any of its lines
says so.  Such a guest's console is kept, and the next case boots anew.
"""

import argparse
import fnmatch
import os
import re
import signal
import subprocess
import sys
import time
import traceback

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import vmtest  # noqa: E402
from vmtest import GiB, MiB, MemDevice, VMConfig, fmt_size  # noqa: E402

TRACE_USABLE = vmtest.TRACE_USABLE
SYSFS_ATTRS = ("addr", "region_size", "usable_region_size", "block_size",
               "node_id", "nid", "plugged_size", "requested_size")


from qcheck import TestFailure, check  # noqa: E402
import lifecycle_cases  # noqa: E402
import observe_cases  # noqa: E402
import resize_cases  # noqa: E402
import scale_cases  # noqa: E402


# ---------------------------------------------------------------------------
# Guest configurations ("groups"); cases of one group share a boot.
# ---------------------------------------------------------------------------

def group_config(name, args):
    base = dict(kernel=args.kernel, moddir=args.moddir, ko=args.ko,
                module="ours", trace=[TRACE_USABLE],
                keep_workdir=args.keep)
    if name == "default":
        return VMConfig(devices=[MemDevice("vm0", region_size=4 * GiB)],
                        **base)
    if name == "bs128m":
        return VMConfig(devices=[MemDevice("vm0", region_size=4 * GiB,
                                           block_size=128 * MiB)], **base)
    if name == "numa2":
        return VMConfig(numa_nodes=2,
                        devices=[MemDevice("vm0", node=0,
                                           region_size=4 * GiB),
                                 MemDevice("vm1", node=1,
                                           region_size=2 * GiB)], **base)
    blocks = {"movable": 2 * MiB, "offline": 2 * MiB, "udev": 2 * MiB,
              "bbm128": 128 * MiB, "bbm1g": 1 * GiB}
    if name in blocks:
        if name not in ("offline", "udev"):
            base["append"] = "memhp_default_state=online_movable"
        base["extra_files"] = {resize_cases.MEMFILL: args.memfill,
                               observe_cases.POLLWAIT: args.pollwait}
        if os.path.exists(args.vmemctl):
            base["extra_files"][observe_cases.VMEMCTL] = args.vmemctl
        if name == "udev":
            base["extra_files"].update(udev_files())
        return VMConfig(devices=[MemDevice("vm0", block_size=blocks[name],
                                           region_size=8 * GiB)], **base)
    if name in ("scale", "scale_mom"):
        base["append"] = "memhp_default_state=online_movable"
        if name == "scale_mom":
            base["append"] += " memory_hotplug.memmap_on_memory=1"
        # QEMU cannot reserve 64 GiB on this host: reserve=off.
        return VMConfig(devices=[MemDevice(
            "vm0", region_size=scale_cases.REGION,
            backend_props={"reserve": "off"})], **base)
    if name in ("stock", "handover"):
        base["module"] = "stock"
        return VMConfig(devices=[MemDevice("vm0", region_size=4 * GiB)],
                        **base)
    if name == "kdump":
        # elfcorehdr= makes is_kdump_kernel() true; the header there is
        # not valid, so /proc/vmcore stays away, which is fine here.
        base["append"] = "elfcorehdr=0x1000"
        return VMConfig(devices=[MemDevice("vm0", region_size=4 * GiB)],
                        **base)
    raise ValueError(name)


def udev_files():
    """systemd-udevd with its libraries, and the project's udev rule."""
    top = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
    udevadm = "/bin/udevadm"
    if not os.path.exists(udevadm):
        raise TestFailure("%s missing: the udev package is not installed "
                          "(scripts/setup.sh installs it)" % udevadm)
    files = {udevadm: udevadm, "/lib/systemd/systemd-udevd": udevadm,
             "/etc/udev/rules.d/80-virtio-mem.rules":
             os.path.join(top, "udev", "80-virtio-mem.rules"),
             "/usr/lib/udev/virtio-mem-online":
             os.path.join(top, "udev", "virtio-mem-online")}
    out = subprocess.run(["ldd", udevadm], capture_output=True, text=True,
                         check=True).stdout
    for m in re.finditer(r"(/\S+\.so[.\d]*)", out):
        lib = m.group(1)
        files[lib] = os.path.realpath(lib)
        # Libraries come from /lib even when the guest asks /usr/lib.
        files[lib.replace("/usr/lib/", "/lib/")] = os.path.realpath(lib)
    return files


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
    cfg = group_config(group, args)
    vm = vmtest.VM(cfg)
    vm.__enter__()                  # boots, waits; cleans up on failure
    print("# boot %s: %.1f s" % (group, vm.boot_time), flush=True)
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


# ---------------------------------------------------------------------------
# Comparisons
# ---------------------------------------------------------------------------

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


# ---------------------------------------------------------------------------
# Cases
# ---------------------------------------------------------------------------

CASES = []
# Console lines a case provokes on purpose (regexes): they must appear
# while it runs, and are no complaint there.
EXPECTS = {}


def case(name, group, expects=()):
    def deco(fn):
        CASES.append((name, group, fn))
        if expects:
            EXPECTS[name] = tuple(expects)
        return fn
    return deco


@case("default_block_size", "default")
def t_default_block_size(g):
    q = g.vm.query_memory_devices()["vm0"]
    print("  QEMU picked block-size %s, memaddr %#x" %
          (fmt_size(q["block-size"]), q["memaddr"]))
    check(q["block-size"] == 2 * MiB, "QEMU default block size is %d, "
          "this case expects 2 MiB" % q["block-size"])
    compare(g)


@case("probe_log", "default")
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


@case("rmmod_insmod", "default")
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


@case("requested_size_change", "default")
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


@case("block_size_128m", "bs128m")
def t_block_size_128m(g):
    q = g.vm.query_memory_devices()["vm0"]
    check(q["block-size"] == 128 * MiB, "QEMU block-size is %d" %
          q["block-size"])
    compare(g)


@case("two_nodes", "numa2")
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


@case("two_devices_concurrent", "numa2")
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


@case("stock_driver_loads", "stock")
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


case("start_with_plugged", "handover")(lifecycle_cases.start_with_plugged)
case("refuse_added_region", "handover")(
    lifecycle_cases.refuse_added_region)
case("kdump_no_hotplug", "kdump")(lifecycle_cases.kdump_no_hotplug)
case("rmmod_with_plugged", "movable")(lifecycle_cases.rmmod_with_plugged)
case("suspend_refused_then_resumed", "movable")(
    lifecycle_cases.suspend_refused_then_resumed)
case("reset_at_rest", "movable")(lifecycle_cases.reset_at_rest)
case("reset_mid_resize", "movable")(lifecycle_cases.reset_mid_resize)
case("scale_budget", "scale")(scale_cases.budget_stops)
case("scale_memmap_on_memory", "scale_mom")(scale_cases.memmap_on_memory)
case("grow_shrink", "movable")(resize_cases.grow_shrink)
case("unplug_online_off", "movable")(resize_cases.unplug_online_off)
case("data_integrity", "movable")(resize_cases.data_integrity)
case("resize_offline_then_online",
     "offline")(resize_cases.resize_offline_then_online)
case("force_bbm", "movable")(resize_cases.force_bbm)
case("bbm_128m", "bbm128")(resize_cases.bbm_128m)
case("bbm_data_integrity", "bbm128")(resize_cases.data_integrity)
case("bbm_1g", "bbm1g")(resize_cases.bbm_1g)
case("sysfs_counters", "movable")(observe_cases.sysfs_counters)
case("sysfs_poll", "movable")(observe_cases.sysfs_poll)
case("tracepoints", "movable")(observe_cases.tracepoints)
case("debugfs_selfcheck", "movable")(observe_cases.debugfs_selfcheck)
case("tool_status_watch", "movable")(observe_cases.tool_status_watch)
case("offline_warning", "offline")(observe_cases.offline_warning)
case("udev_rule", "udev")(observe_cases.udev_rule)


# ---------------------------------------------------------------------------
# Runner
# ---------------------------------------------------------------------------

def selected(args):
    cases = list(CASES)
    if args.filter:
        pats = [p for p in args.filter.split(",") if p]
        cases = [c for c in cases
                 if any(fnmatch.fnmatch(c[0], p) or p in c[0] for p in pats)]
    return cases


def first_line(e):
    s = str(e).strip() or type(e).__name__
    return s.splitlines()[0]


class GroupRunner:
    """
    Runs the cases of one guest configuration, (re)booting as needed.

    A guest is looked at outside the cases too: before each case, and
    after the group's last one (before QEMU is killed). A guest that died
    there, that no longer answers, or whose console shows a kernel
    complaint fails the case that ran last on it, with the splat and the
    console tail; the dead guest's console is kept. A guest that complained
    is not used again: the next case boots a new one.
    """

    def __init__(self, group, args, verdicts):
        self.group = group
        self.args = args
        self.verdicts = verdicts    # case name -> PASS / FAIL / SKIP
        self.g = None
        self.boot_error = None
        self.last = None            # the case that ran last on self.g
        self.told = False           # self.g's end is already reported

    def name(self, case):
        return "%s/%s" % (self.args.tag, case) if self.args.tag else case

    def fail(self, name, why, detail=""):
        if detail.strip():
            print("  " + detail.strip().replace("\n", "\n  "))
        print("FAIL: %s: %s" % (name, why), flush=True)
        self.verdicts[name] = "FAIL"

    def audit(self, final=False):
        """
        The guest between cases (@final: after the last one): alive,
        answering and with a clean console since the last check, or the
        last case fails and the guest is dropped, its console kept.
        """
        g = self.g
        if g is None:
            return
        vm = g.vm
        why = None
        try:
            if vm.alive():
                if final:           # still answering?
                    vm.run("true", timeout=60)
                g.checked = vm.check_console(since=g.checked)
                if vm.alive():
                    return
        except vmtest.KernelComplaint as kc:
            why = "after the case: %s" % first_line(kc)
        except vmtest.VMError as e:
            why = "after the case: %s" % first_line(e)
        if why is None:
            why = "the guest died after the case"
            try:
                vm.check_console(since=g.checked)
            except vmtest.KernelComplaint as kc:
                why += ": " + first_line(kc)
        if not vm.alive():
            why += " (QEMU exited with %s)" % vm.proc.returncode
        detail = vm.post_mortem(since=g.checked)
        kept = vm.stop(keep=True)
        self.g = None
        if self.told:           # the case's own FAIL said it all
            print("# guest of %s: console kept in %s" % (self.last, kept),
                  flush=True)
            return
        self.fail(self.last or self.name("boot-" + self.group), why,
                  detail + "\nconsole kept in %s" % kept)

    def guest(self):
        if self.boot_error is not None:
            raise TestFailure("boot of guest '%s' failed: %s" %
                              (self.group, self.boot_error))
        self.audit()
        if self.g is None:
            self.last, self.told = None, False
            try:
                self.g = boot(self.group, self.args)
            except Exception as e:
                self.boot_error = first_line(e)
                raise
        return self.g

    def stop(self):
        """After the group's last case: look at the guest once more."""
        try:
            self.audit(final=True)
        finally:
            if self.g is not None:
                self.g.vm.stop()
                self.g = None

    def run(self, case, fn):
        """Run one case; print its PASS/FAIL line; return True if passed."""
        name = self.name(case)
        try:
            g = self.guest()
            self.last = name
            t0 = time.monotonic()
            since = g.checked
            fn(g)
            expects = EXPECTS.get(case, ())
            text = g.vm.console()[since:]
            for pat in expects:
                check(re.search(pat, text, re.M), "the expected console "
                      "line %r did not appear" % pat)
            g.checked = g.vm.check_console(since=since, ignore=expects)
            if not g.vm.alive():
                raise vmtest.QemuExited("the guest died at the end of the "
                                        "case")
            print("PASS: %s (%.1f s)" % (name, time.monotonic() - t0),
                  flush=True)
            self.verdicts[name] = "PASS"
            return True
        except Exception as e:          # one case never stops the others
            detail = str(e)
            if not isinstance(e, (TestFailure, vmtest.VMError)):
                detail = traceback.format_exc()
            g = self.g
            complaint = isinstance(e, vmtest.KernelComplaint)
            if g is not None and not complaint:
                try:                    # a splat explains a lot
                    g.vm.check_console(since=g.checked,
                                       ignore=EXPECTS.get(case, ()))
                except vmtest.KernelComplaint as kc:
                    detail += "\n" + str(kc)
                    complaint = True
            if g is not None:
                g.checked = len(g.vm.console())
                if complaint or not g.vm.alive():
                    # Not used again; its console is kept.
                    self.told = True
                    detail += "\nconsole kept in %s" % g.vm.stop(keep=True)
                    self.g = None
            self.fail(name, first_line(e),
                      detail if "\n" in detail.strip() else "")
            return False

    def skip(self, case, why):
        name = self.name(case)
        print("SKIP: %s: %s" % (name, why), flush=True)
        self.verdicts[name] = "SKIP"


def run_cases(cases, args):
    """Run @cases group by group; returns {case name: verdict}."""
    verdicts = {}
    groups = []
    for c in cases:
        if c[1] not in groups:
            groups.append(c[1])
    for group in groups:
        runner = GroupRunner(group, args, verdicts)
        try:
            for name, _grp, fn in [c for c in cases if c[1] == group]:
                why = skip_reason(name, group, args)
                if why:
                    runner.skip(name, why)
                else:
                    runner.run(name, fn)
        finally:                        # also on Ctrl-C / SIGTERM
            runner.stop()
    return verdicts


def skip_reason(name, group, args):
    skip = [p for p in (args.skip or "").split(",") if p]
    if any(fnmatch.fnmatch(name, p) for p in skip):
        return "left out with --skip"
    if group in ("stock", "handover") and not args.moddir:
        return "no stock module: the kernel has virtio built in"
    if group == "kdump" and not args.moddir:
        return "the debug kernel has no CONFIG_CRASH_DUMP"
    if name.startswith("scale") and not args.moddir:
        return "KASAN's shadow of a 64 GiB region does not fit a 1 GiB guest"
    if group == "udev" and not args.moddir:
        return "the debug kernel has no CONFIG_NET: systemd-udevd needs " \
            "netlink"
    if name.startswith("suspend") and not args.moddir:
        return "the debug kernel has no CONFIG_SUSPEND"
    return None


def tally(verdicts):
    """'N passed, N failed, N skipped' of {name: verdict}."""
    n = {v: sum(1 for x in verdicts.values() if x == v)
         for v in ("PASS", "FAIL", "SKIP")}
    return "%d passed, %d failed, %d skipped" % (n["PASS"], n["FAIL"],
                                                 n["SKIP"])


def main():
    p = argparse.ArgumentParser(description=__doc__.strip().splitlines()[0])
    p.add_argument("--kernel", help="guest kernel image")
    p.add_argument("--moddir", default=None,
                   help="guest /lib/modules/<version>; empty for a kernel "
                   "with virtio built in (no stock-driver cases)")
    p.add_argument("--tag", default="",
                   help="prefix of the case names, e.g. the kernel")
    p.add_argument("--ko", help="our virtio_mem.ko")
    p.add_argument("--filter", help="comma separated case names, "
                   "substrings or globs")
    p.add_argument("--skip", help="comma separated case names or globs "
                   "not to run (each prints a SKIP line)")
    p.add_argument("--small", action="store_true",
                   help="smaller resize targets (at most 4 GiB; 2 GiB for "
                   "Big-Block Mode), for slow kernels")
    p.add_argument("--memfill", default=os.path.join(
        os.path.dirname(os.path.abspath(__file__)), "..", "memfill"),
        help="the static guest workload (make tools/memfill)")
    p.add_argument("--pollwait", default=os.path.join(
        os.path.dirname(os.path.abspath(__file__)), "pollwait"),
        help="the static poll() helper (make tools/qemu/pollwait)")
    p.add_argument("--vmemctl", default=os.path.join(
        os.path.dirname(os.path.abspath(__file__)), "..", "vmemctl",
        "vmemctl"), help="the tool (make tools/vmemctl/vmemctl)")
    p.add_argument("--list", action="store_true", help="list cases")
    p.add_argument("--keep", action="store_true",
                   help="keep the guests' work directories")
    args = p.parse_args()
    resize_cases.SMALL = args.small
    cases = selected(args)
    if args.list:
        for name, group, _fn in cases:
            print("%-24s (guest: %s)" % (name, group))
        return 0
    for opt in ("kernel", "moddir", "ko", "memfill"):
        if opt == "moddir" and args.moddir == "":
            continue
        if not getattr(args, opt):
            p.error("--%s is required" % opt)
        if not os.path.exists(getattr(args, opt)):
            p.error("--%s %s does not exist" % (opt, getattr(args, opt)))
    if not cases:
        p.error("no case matches %r" % args.filter)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    t0 = time.monotonic()
    verdicts = run_cases(cases, args)
    print("# total %.0f s" % (time.monotonic() - t0))
    print(tally(verdicts))
    return 1 if "FAIL" in verdicts.values() else 0


if __name__ == "__main__":
    sys.exit(main())
