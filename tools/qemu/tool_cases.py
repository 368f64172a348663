# SPDX-License-Identifier: GPL-2.0
"""
vmemctl metrics and why on a real guest: promtool accepts the metrics
and their values are sysfs's; why names the cause the guest is in. (The
host tests, tools/vmemctl/test*.sh, cover the causes a guest here cannot
be put in.)
"""

import re
import shutil
import subprocess

import guestops as ops
from qcheck import check
from registry import VMEMCTL, case
from units import GiB, MiB, fmt_size

# vmemctl why's exit code when it names a cause.
WHY_CAUSE = 3


def why(g, want):
    """Run vmemctl why; it must name the cause @want (a tag) and exit 3."""
    rc, out = g.vm.run("%s why" % VMEMCTL)
    print("  $ vmemctl why\n" + "\n".join("  " + ln for ln in
                                           out.splitlines()))
    tags = re.findall(r"^virtio\d+: ([a-z-]+): ", out, re.M)
    check(want in tags, "vmemctl why named %s, not %r:\n%s" %
          (tags or "nothing", want, out))
    check(rc == WHY_CAUSE, "vmemctl why exited %d with a cause, want %d" %
          (rc, WHY_CAUSE))


def samples(text):
    """{(name, device, other labels): value} of Prometheus text."""
    out = {}
    for m in re.finditer(r'^(\w+)\{device="([^"]+)"([^}]*)\} (\S+)$', text,
                         re.M):
        out[(m[1], m[2], m[3])] = float(m[4])
    return out


@case("tool_metrics", group="movable")
def tool_metrics(g):
    """vmemctl metrics in a guest with 1 GiB plugged: promtool accepts
    it, and sizes and request counters equal the sysfs files."""
    ops.resize(g, 1 * GiB)
    text = g.vm.sh("%s metrics" % VMEMCTL)
    dev = g.vm.virtio_mem_devices()[0]
    name, a = dev["name"], dev["attrs"]
    got = samples(text)
    for metric, attr in (("virtio_mem_plugged_size_bytes", "plugged_size"),
                         ("virtio_mem_requested_size_bytes",
                          "requested_size"),
                         ("virtio_mem_block_size_bytes", "block_size")):
        key = next((k for k in got if k[0] == metric and k[1] == name),
                   None)
        check(key, "no %s for %s in:\n%s" % (metric, name, text[:2000]))
        check(got[key] == int(a[attr]), "%s %s, sysfs %s %s" %
              (metric, got[key], attr, a[attr]))
    acks = [v for k, v in got.items()
            if k[0] == "virtio_mem_requests_total" and k[1] == name and
            'type="plug"' in k[2] and 'reply="ack"' in k[2]]
    check(acks == [int(a["requests_plug_ack"])],
          "plug ACKs in the metrics %s, sysfs requests_plug_ack %s" %
          (acks, a.get("requests_plug_ack")))
    promtool = shutil.which("promtool")
    check(promtool, "no promtool on the host (scripts/setup.sh installs "
          "prometheus)")
    p = subprocess.run([promtool, "check", "metrics"], input=text,
                       capture_output=True, text=True, timeout=60)
    check(p.returncode == 0, "promtool check metrics: %s%s" %
          (p.stdout, p.stderr))
    print("  %d samples; promtool accepts them; sizes and plug ACKs equal "
          "sysfs; an excerpt:" % len(got))
    keep = ("virtio_mem_plugged_size_bytes", "virtio_mem_requested_size_bytes",
            "virtio_mem_plugged_bytes", "virtio_mem_retry_state",
            "virtio_mem_requests_total{")
    excerpt = [x for x in text.splitlines() if x.startswith(keep) and
               ("requests_total" not in x or 'type="plug"' in x)]
    for ln in excerpt[:12]:
        print("    " + ln)
    ops.resize(g, 0)


@case("tool_why_onlining", group="offline")
def tool_why_onlining(g):
    """Memory nothing onlines: vmemctl why says 'onlining'; once it is
    online and the guest at its size, why says nothing is wrong."""
    ops.resize(g, 512 * MiB, online=False)
    why(g, "onlining")
    g.vm.sh("for m in %s/memory*; do [ \"$(cat $m/state)\" = offline ] && "
            "echo online_movable > $m/state; done; true" % ops.MEMORY)
    ops.wait_for(g, 512 * MiB)
    rc, out = g.vm.run("%s why" % VMEMCTL)
    check(rc == 0 and "at the requested size" in out,
          "vmemctl why at the requested size exited %d:\n%s" % (rc, out))
    ops.resize(g, 0)


@case("tool_why_free_memory", group="movable")
def tool_why_free_memory(g):
    """A shrink to 0 under a load that cannot fit in the boot memory: the
    step is left short with free memory below the reserve (the guest's
    own figures say so), and vmemctl why says 'free-memory'. Once the load
    stops, the driver gets to 0."""
    ops.resize(g, 1 * GiB)
    total = g.vm.meminfo()["MemTotal"]
    fill = ops.memfill_start(g, mib=(total - 512 * MiB) // MiB)
    g.set_requested("vm0", 0, 2 * MiB)
    ok, size, a = ops.wait_decided(g, 0, timeout=240.0)
    check(not ok, "a load of %s reached 0 plugged: the case needs a "
          "load that cannot fit" % fmt_size(total - 512 * MiB))
    check(ops.judge_short(g.vm, "why", 0, size, a, 2 * MiB) ==
          "free memory", "left short at %s, state %r" %
          (fmt_size(size), a.get("state")))
    why(g, "free-memory")
    ops.memfill_alive(g, fill, "tool_why_free_memory")
    ops.memfill_stop(g, fill)
    ops.wait_for(g, 0, timeout=ops.RETRY_WAIT + 60)
