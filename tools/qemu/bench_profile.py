# SPDX-License-Identifier: GPL-2.0
"""
Where a bench step's time goes inside the guest (bench.py --profile): the
function_graph tracer times the memory core's calls that an unplug makes,
the same for both drivers, and nothing else:

  alloc_contig_range          taking pages back (ours: page->take;
                              stock: fake-offlining a subblock)
  offline_and_remove_memory   offlining and removing a memory block
  remove_memory               removing an offline one
  migrate_pages               moving used pages, inside either of them

Device requests come from QEMU's trace (the bench's "dev" column). What is
left of the step's time is the driver's own: choosing blocks, waiting,
and everything not listed. The tracer adds a few microseconds per traced
call; the profile runs are not the timing runs.
"""

import json
import re
import statistics
import sys

from guestops import TRACEFS
from units import MiB, fmt_size

FUNCS = ("alloc_contig_range", "offline_and_remove_memory", "remove_memory",
         "migrate_pages")

# " 1)   + 12.345 us   |  alloc_contig_range();" or "... |  }" closing a
# "... |  alloc_contig_range() {" line; durations in us.
LINE = re.compile(r"^\s*(\d+)\)\s*(?:[-+!#*@$ ]\s*)?([\d.]+)?\s*(?:us)?\s*\|"
                  r"\s*(.*)$")


VMSTAT = ("pgmigrate_success", "pgmigrate_fail", "thp_migration_success",
          "thp_migration_fail", "thp_migration_split")


def vmstat(vm):
    """The VMSTAT counters of the guest's /proc/vmstat."""
    out = vm.sh("cat /proc/vmstat")
    return {k: int(v) for k, v in (ln.split() for ln in out.splitlines())
            if k in VMSTAT}


def arm(vm):
    """
    Trace FUNCS with function_graph from now on, buffer cleared; returns
    the VMSTAT counters before the step.
    """
    vm.sh("grep -q ' %s tracefs ' /proc/mounts || mount -t tracefs nodev %s"
          % (TRACEFS, TRACEFS))
    # From 6.10 on, alloc_contig_range() is a macro around its _noprof
    # function; a name the kernel does not have is skipped.
    names = " ".join(FUNCS) + " alloc_contig_range_noprof"
    vm.sh("cd %s; echo 0 > tracing_on; echo nop > current_tracer; "
          "echo 16384 > buffer_size_kb; echo > set_ftrace_filter; "
          "for f in %s; do echo $f >> set_ftrace_filter 2>/dev/null; done; "
          "echo function_graph > current_tracer; echo > trace; "
          "echo 1 > tracing_on" % (TRACEFS, names))
    return vmstat(vm)


def collect(vm, before):
    """
    Stop tracing; per function: [calls, total seconds], and under
    "vmstat" what the VMSTAT counters moved since @before.
    """
    vm.sh("echo 0 > %s/tracing_on" % TRACEFS)
    out = vm.sh("cat %s/trace" % TRACEFS)
    vm.sh("cd %s; echo nop > current_tracer; echo > set_ftrace_filter"
          % TRACEFS)
    prof = parse(out)
    after = vmstat(vm)
    prof["vmstat"] = {k: after[k] - before.get(k, 0) for k in after}
    return prof


def parse(text):
    """Sum function_graph durations per function name."""
    prof = {f: [0, 0.0] for f in FUNCS}
    stacks = {}
    for line in text.splitlines():
        m = LINE.match(line)
        if not m:
            continue
        cpu, dur, body = m.group(1), m.group(2), m.group(3).strip()
        stack = stacks.setdefault(cpu, [])
        call = re.match(r"(\w+)\(\)\s*(;|\{)", body)
        if call and call.group(2) == "{":
            stack.append(call.group(1).replace("_noprof", ""))
            continue
        if call:
            name = call.group(1).replace("_noprof", "")
        elif body.startswith("}") and stack:
            name = stack.pop()
        else:
            continue
        if name in prof and dur is not None:
            prof[name][0] += 1
            prof[name][1] += float(dur) / 1e6
            if name == "migrate_pages" and stack:
                inner = prof.setdefault("migrate_pages<%s" % stack[-1],
                                        [0, 0.0])
                inner[0] += 1
                inner[1] += float(dur) / 1e6
    return prof


def line(prof):
    """One line of a step's profile."""
    return ", ".join(["%s %d in %.2f s" % (f, prof[f][0], prof[f][1])
                      for f in FUNCS if prof[f][0]] +
                     ["%s %d" % kv for kv in
                      sorted(prof.get("vmstat", {}).items()) if kv[1]])


def selftest():
    """The parser on a made-up trace of nested and leaf calls."""
    text = """# tracer: function_graph
 1)               |  alloc_contig_range() {
 1) ! 900.000 us  |    migrate_pages();
 1) ! 1000.000 us |  }
 0)   5.000 us    |  alloc_contig_range_noprof();
 1) $ 2000000 us  |  offline_and_remove_memory();
"""
    p = parse(text)
    got = {f: [n, round(t * 1e6, 3)] for f, (n, t) in p.items()}
    assert got == {"alloc_contig_range": [2, 1005.0],
                   "migrate_pages": [1, 900.0],
                   "migrate_pages<alloc_contig_range": [1, 900.0],
                   "offline_and_remove_memory": [1, 2e6],
                   "remove_memory": [0, 0.0]}, got
    b = per_block(p, {"mem": 2.5, "trace": {"bytes": 256 * MiB,
                                            "dev": 0.002}})
    assert [round(v * 1e3, 4) for v in b] == [
        1250.0, 0.0525, 0.45, 1000.0, 1.0, 248.4975], b
    return p


COLUMNS = ("total", "take", "migrate", "offline", "device", "other")


def per_block(prof, step):
    """
    A step's time per 128 MiB taken (seconds): total (until MemTotal
    followed), take (alloc_contig_range() but its migration), migrate
    (migrate_pages() anywhere), offline (offline_and_remove_memory() and
    remove_memory() but their migration), device (QEMU's time on the
    requests), other (the rest: the driver choosing, waiting, requests
    in flight).
    """
    blocks = step["trace"]["bytes"] / (128 * MiB)

    def t(key):
        return prof.get(key, [0, 0.0])[1]
    take = t("alloc_contig_range") - t("migrate_pages<alloc_contig_range")
    off = t("offline_and_remove_memory") + t("remove_memory") - \
        t("migrate_pages<offline_and_remove_memory") - \
        t("migrate_pages<remove_memory")
    dev = step["trace"].get("dev") or 0.0
    total = step["mem"]
    parts = [take, t("migrate_pages"), off, dev]
    return [v / blocks for v in [total] + parts + [total - sum(parts)]]


def report(runs):
    """Per workload, step and driver: the medians of per_block(), in ms."""
    rows = {}
    for r in runs:
        for st in r["steps"]:
            if st.get("profile") and st.get("mem") and \
                    st.get("trace", {}).get("bytes") and \
                    st["target"] < st["prev"]:
                key = (r["workload"], st["prev"], st["target"], r["module"])
                rows.setdefault(key, []).append(per_block(st["profile"], st))
    if not rows:
        return
    print("Per 128 MiB taken back (bench --profile; ms, medians of %s):" %
          ", ".join("%d %s" % (n, m) for m, n in sorted(
              {r["module"]: sum(1 for x in runs
                                if x["module"] == r["module"])
               for r in runs}.items())))
    print("  take: alloc_contig_range() but its migration; migrate: "
          "migrate_pages();")
    print("  offline: offline_and_remove_memory(), remove_memory() but "
          "their migration;")
    print("  device: QEMU's time on the requests; other: the rest "
          "(choosing, waiting)")
    print("%-11s %-22s %-6s %s" % ("workload", "step", "drv",
                                   " ".join("%8s" % c for c in COLUMNS)))
    for key in sorted(rows, key=lambda k: (k[0], -k[1], -k[2], k[3])):
        w, prev, target, m = key
        cols = zip(*rows[key])
        print("%-11s %-22s %-6s %s" % (
            w, "%s -> %s" % (fmt_size(prev), fmt_size(target)), m,
            " ".join("%8.1f" % (statistics.median(c) * 1e3) for c in cols)))


if __name__ == "__main__":
    if len(sys.argv) > 1:       # the table of saved runs: runs.json ...
        for path in sys.argv[1:]:
            with open(path) as f:
                report(json.load(f)["runs"])
        raise SystemExit(0)
    # make test's stage bench-profile: python3 bench_profile.py
    try:
        print("# %s" % line(selftest()))
        print("PASS: bench-profile/parse")
    except AssertionError as e:
        print("FAIL: bench-profile/parse: %s" % e)
        raise SystemExit(1)
