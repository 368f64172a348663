# SPDX-License-Identifier: GPL-2.0
"""
Observability cases of the QEMU suite: the sysfs counters and their poll()
notifications, the tracepoints, the debugfs self-check, the warning about
memory left offline and the udev rule that onlines it, and the vmemctl
tool.

Each takes a booted Guest (testguest.py).
"""

import os
import re
import subprocess
import time

from guestops import (MEMORY, TRACEFS, attr, mount_tracefs, param, resize,
                      selfcheck, views)
from qcheck import TestFailure, check
from registry import POLLWAIT, VMEMCTL, case, shape
from units import GiB, MiB, fmt_size

TYPES = ("plug", "unplug", "unplug_all", "state")
REPLIES = ("ack", "nack", "busy", "error")


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


# Nothing onlines the memory but the udev rule (systemd-udevd in /bin).
shape("udev", region=8 * GiB, block=2 * MiB, tools=True, files=udev_files)


def devdir(g):
    """The guest's only device's sysfs directory."""
    out = g.vm.sh("ls -d /sys/bus/virtio/devices/*/virtio_mem")
    dirs = out.split()
    check(len(dirs) == 1, "expected one virtio_mem directory: %s" % dirs)
    return dirs[0]


def counters(a):
    return {(t, r): attr(a, "requests_%s_%s" % (t, r))
            for t in TYPES for r in REPLIES}


@case("sysfs_counters", group="movable")
def sysfs_counters(g):
    """Counters and totals follow a resize exactly; the ABI lines parse."""
    _q, a0, _t = views(g)
    c0 = counters(a0)
    steps = (1 * GiB, 256 * MiB, 768 * MiB)
    for target in steps:
        a = resize(g, target)
    c1 = counters(a)
    d = {k: c1[k] - c0[k] for k in c1}
    plugged = attr(a, "bytes_plugged_total") - \
        attr(a0, "bytes_plugged_total")
    unplugged = attr(a, "bytes_unplugged_total") - \
        attr(a0, "bytes_unplugged_total")
    print("  requests since the start of the case: %s" %
          ", ".join("%s %s %d" % (t, r, n) for (t, r), n in
                    sorted(d.items()) if n))
    print("  plugged %s, unplugged %s" % (fmt_size(plugged),
                                          fmt_size(unplugged)))
    check(plugged - unplugged == attr(a, "plugged_size") -
          attr(a0, "plugged_size"),
          "bytes plugged - unplugged %d != change of plugged_size" %
          (plugged - unplugged))
    # 0 -> 1 GiB -> 256 MiB -> 768 MiB from the case's start.
    start = attr(a0, "plugged_size")
    want_plug = max(0, 1 * GiB - start) + 512 * MiB
    check(plugged == want_plug, "bytes_plugged_total grew by %s, expected "
          "%s" % (fmt_size(plugged), fmt_size(want_plug)))
    check(d[("plug", "ack")] > 0 and d[("unplug", "ack")] > 0,
          "no plug or unplug ACK counted: %s" % d)
    sb = attr(a, "block_size")
    check(d[("plug", "ack")] <= plugged // sb,
          "%d plug ACKs for %s of %s blocks" % (d[("plug", "ack")],
                                                fmt_size(plugged),
                                                fmt_size(sb)))
    check(a.get("retry_state") == "idle",
          "retry_state %r at rest" % a.get("retry_state"))
    check(re.fullmatch(r"none|[A-Z0-9]+ .+ \d{4}-\d\d-\d\dT\d\d:\d\d:\d\d",
                       a.get("last_error", "")),
          "last_error %r does not parse" % a.get("last_error"))
    check(attr(a, "left_offline") == 0, "left_offline %s with every block "
          "online" % a.get("left_offline"))
    for name in ("fake_offline_failures", "offline_and_remove_failures"):
        attr(a, name)
    ro = g.vm.run("echo 1 > %s/plugged_size" % devdir(g))[0]
    check(ro != 0, "plugged_size is writable")
    resize(g, 0)


@case("sysfs_poll", group="movable")
def sysfs_poll(g):
    """poll() on plugged_size and state wakes when a resize starts."""
    d = devdir(g)
    g.vm.sh("for f in plugged_size state retry_state; do "
            "%s %s/$f 20000 > /tmp/pw.$f 2>&1 & done; "
            "for i in $(seq 50); do n=$(cat /tmp/pw.* | grep -c armed); "
            "[ $n = 3 ] && break; sleep 0.1; done" % (POLLWAIT, d))
    time.sleep(1.0)
    out = g.vm.sh("cat /tmp/pw.plugged_size")
    check("woken" not in out, "poll() woke before any change: %r" % out)
    t0 = time.monotonic()
    q = g.vm.query_memory_devices()["vm0"]
    g.set_requested("vm0", 512 * MiB, q["block-size"])
    res = {}
    while time.monotonic() - t0 < 30:
        res = {f: g.vm.sh("cat /tmp/pw.%s" % f)
               for f in ("plugged_size", "state", "retry_state")}
        if all("woken" in v or "timeout" in v for v in res.values()):
            break
        time.sleep(0.3)
    for f, out in sorted(res.items()):
        print("  %-12s %s" % (f, out.strip().splitlines()[-1]))
        check("woken" in out, "poll() on %s did not wake: %r" % (f, out))
    resize(g, 512 * MiB)
    resize(g, 0)


@case("tracepoints", group="movable")
def tracepoints(g):
    """The virtio_mem events in tracefs show a resize, request by request."""
    mount_tracefs(g)
    ev = "%s/events/virtio_mem" % TRACEFS
    g.vm.sh("echo 0 > %s/tracing_on; echo 4096 > %s/buffer_size_kb; "
            "echo > %s/trace; echo 1 > %s/enable; echo 1 > %s/tracing_on" %
            (TRACEFS, TRACEFS, TRACEFS, ev, TRACEFS))
    _q, a0, _t = views(g)
    resize(g, 256 * MiB)
    resize(g, 0)
    _q, a1, _t = views(g)
    g.vm.sh("echo 0 > %s/tracing_on; echo 0 > %s/enable" % (TRACEFS, ev))
    trace = g.vm.sh("cat %s/trace" % TRACEFS)
    lines = [ln for ln in trace.splitlines() if "virtio_mem_" in ln]
    for ln in lines[:6]:
        print("  " + ln.strip())
    print("  ... %d virtio_mem events" % len(lines))
    reqs = [ln for ln in lines if "virtio_mem_request:" in ln and
            re.search(r": \S+ plug ", ln)]
    acks = [ln for ln in lines if "virtio_mem_reply:" in ln and
            re.search(r": \S+ plug .*resp=ack", ln)]
    want = attr(a1, "requests_plug_ack") - attr(a0, "requests_plug_ack")
    check(len(acks) == want and len(reqs) >= want,
          "%d plug requests, %d plug ACK events traced; requests_plug_ack "
          "grew by %d" % (len(reqs), len(acks), want))
    for what in ("add", "online", "offline_and_remove", "unplug"):
        check(any(re.search(r"virtio_mem_\w+: \S+ %s " % what, ln)
                  for ln in lines),
              "no %r event in the trace" % what)


@case("debugfs_selfcheck", group="movable")
def debugfs_selfcheck(g):
    """After a resize sequence the books equal the device, range by range."""
    for target in (1 * GiB, 300 * MiB, 700 * MiB):
        resize(g, target)
    ranges, nbytes, out = selfcheck(g)
    for ln in out.splitlines()[:3] + out.splitlines()[-2:]:
        print("  " + ln)
    q = g.vm.query_memory_devices()["vm0"]
    check(ranges > 1 and nbytes >= q["size"], "only %d ranges, %s asked "
          "about; %s plugged" % (ranges, fmt_size(nbytes),
                                 fmt_size(q["size"])))
    _q, a, _t = views(g)
    sb = attr(a, "subblock_size")
    rows = re.findall(r"^\d+ 0x[0-9a-f]+ \w+ (\d+)/\d+ ", out, re.M)
    check(sum(int(n) for n in rows) * sb == attr(a, "plugged_size"),
          "the map holds %d plugged subblocks of %s, plugged_size %s" %
          (sum(int(n) for n in rows), fmt_size(sb),
           fmt_size(attr(a, "plugged_size"))))
    check(re.search(r"virtio_mem .*check: \d+ ranges, \d+ bytes, 0 "
                    r"mismatches", g.vm.dmesg()),
          "no check line in the kernel log")
    resize(g, 0)


@case("offline_warning", group="offline")
def offline_warning(g):
    """Memory nobody onlines: one warning with the fix, left_offline; a
    second look at more offline memory does not warn again."""
    param(g, "offline_warn_secs", 3)
    before = g.vm.dmesg().count("stayed offline")
    a = resize(g, 512 * MiB, online=False)
    t0 = time.monotonic()
    while attr(a, "left_offline") == 0 and time.monotonic() - t0 < 20:
        time.sleep(0.5)
        a = views(g)[1]
    check(attr(a, "left_offline") == 512 * MiB,
          "left_offline %s after %.0f s, expected 512 MiB" %
          (a.get("left_offline"), time.monotonic() - t0))
    # Another resize run ends in the watch, which writes left_offline
    # anew: once it shows the new amount, the watch decided again (and
    # must not warn twice).
    resize(g, 516 * MiB, online=False)
    t0 = time.monotonic()
    while attr(views(g)[1], "left_offline") != 516 * MiB:
        check(time.monotonic() - t0 < 20, "left_offline %s, expected 516 "
              "MiB after a second watch" % views(g)[1].get("left_offline"))
        time.sleep(0.3)
    lines = [ln for ln in g.vm.dmesg().splitlines()
             if "stayed offline" in ln]
    print("  " + (lines[-1].strip() if lines else "(no line)"))
    check(len(lines) - before == 1, "%d 'stayed offline' lines, expected "
          "one" % (len(lines) - before))
    check("auto_online_blocks" in lines[-1] and "udev" in lines[-1],
          "the warning gives no fix: %r" % lines[-1])
    g.vm.sh("for m in %s/memory*; do [ \"$(cat $m/state)\" = offline ] && "
            "echo online_movable > $m/state; done; true" % MEMORY)
    t0 = time.monotonic()
    while attr(views(g)[1], "left_offline") and time.monotonic() - t0 < 20:
        time.sleep(0.5)
    check(attr(views(g)[1], "left_offline") == 0,
          "left_offline stays after onlining")
    resize(g, 0)
    param(g, "offline_warn_secs", 30)


@case("udev_rule", group="udev", needs=("CONFIG_NET",))
def udev_rule(g):
    """With the shipped udev rule, memory the driver adds comes online."""
    rc, out = g.vm.run("/lib/systemd/systemd-udevd --daemon 2>&1; "
                       "sleep 1; pidof systemd-udevd")
    check(rc == 0, "systemd-udevd does not run in the guest: %s" % out)
    a = resize(g, 1 * GiB, online=True, timeout=120)
    check(attr(a, "plugged_online_movable") == 1 * GiB,
          "with the rule: %s online movable, %s offline" %
          (fmt_size(attr(a, "plugged_online_movable")),
           fmt_size(attr(a, "plugged_offline"))))
    other = g.vm.sh("cat %s/memory0/state" % MEMORY).strip()
    check(other == "online", "boot memory block 0 is %r" % other)
    resize(g, 0)
    g.vm.run("udevadm control --exit")


def await_request(g, size):
    """Until the driver has seen requested_size @size (a config change)."""
    t0 = time.monotonic()
    while attr(views(g)[1], "requested_size") != size:
        check(time.monotonic() - t0 < 20, "the driver did not see "
              "requested_size %s" % fmt_size(size))
        time.sleep(0.2)


@case("tool_status_watch", group="movable")
def tool_status_watch(g):
    """vmemctl status and watch, as plain text, in JSON, and in a pty."""
    out = g.vm.sh("%s status" % VMEMCTL)
    print("  $ vmemctl status\n" + "\n".join("  " + ln for ln in
                                              out.splitlines()))
    check("\x1b" not in out, "escape codes in plain status output")
    check(re.search(r"virtio\d+", out) and "sbm" in out,
          "status lacks the device or its mode:\n%s" % out)
    js = g.vm.sh("%s status --json" % VMEMCTL)
    check('"devices"' in js and '"requested_size"' in js,
          "status --json: %s" % js[:300])
    q = g.vm.query_memory_devices()["vm0"]
    g.set_requested("vm0", 4 * GiB, q["block-size"])
    await_request(g, 4 * GiB)
    rc, out = g.vm.run("%s watch --timeout 120" % VMEMCTL, timeout=150)
    print("  $ vmemctl watch\n" + "\n".join("  " + ln for ln in
                                             out.splitlines()[-12:]))
    check(rc == 0, "watch exited %d:\n%s" % (rc, out))
    check("reached" in out and "\x1b" not in out,
          "watch output (plain) lacks 'reached' or has escapes:\n%s" % out)
    rc, out = g.vm.run("%s watch --timeout 2 --plain" % VMEMCTL)
    check(rc == 0, "watch at the target exited %d" % rc)
    resize(g, 4 * GiB)
    out = g.vm.sh("%s status" % VMEMCTL)
    print("  $ vmemctl status\n" + "\n".join("  " + ln for ln in
                                              out.splitlines()))
    check(re.search(r"\b4 GiB\s+4 GiB\b", out),
          "status at 4 GiB does not say so:\n%s" % out)
    g.set_requested("vm0", 0, q["block-size"])
    await_request(g, 0)
    rc, out = g.vm.run("%s watch --timeout 120 --json" % VMEMCTL,
                       timeout=150)
    check(rc == 0 and out.strip().splitlines()[-1].startswith("{"),
          "watch --json exited %d:\n%s" % (rc, out[-500:]))
    resize(g, 0)
