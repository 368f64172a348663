# SPDX-License-Identifier: GPL-2.0
"""
make bench: resize timings of our virtio_mem.ko against the guest kernel's
stock virtio_mem.ko.

The same guest (QEMU/TCG, boot memory 1 GiB, one virtio-mem-pci device with
an 8 GiB region and 2 MiB blocks, memhp_default_state=online_movable) is
booted once per driver and walks the same requested-size sequence.  Per step
the bench measures, from the QMP qom-set of requested-size:

  qmp   until query-memory-devices reports size == the target;
  mem   until the guest's MemTotal == base + target (base: MemTotal before
        any plug);

and counts the device requests of the step (PLUG, UNPLUG, UNPLUG_ALL,
STATE, and non-ACK replies) from QEMU's trace events, whose timestamps
also show where the time goes (first request, span of the requests,
last request -> done).

Three workloads run the same sequence with both drivers (bench_load.py):
idle, busy (a live process holds half of the plugged memory from the
sequence's peak on) and fragmented (a process fills 90% of the memory and
gives every other 16 MiB back). Each is reported on its own: per step the
median of --repeat runs (default 3) with the spread (min-max) beside it,
R where a wait without any device request (a retry timer) took most of a
run's time.

    python3 tools/qemu/bench.py --kernel K --moddir M --ko virtio_mem.ko
        [--repeat N] [--sequence 0,1G,4G,512M,0] [--only ours|stock]
        [--workload idle,busy,fragmented]

The timings are wall-clock times of an emulated (TCG) machine: other
guests or builds running at the same time make them noisy. Run it with
nothing else on the machine.
"""

import argparse
import contextlib
import hashlib
import io
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import vmtest  # noqa: E402
import bench_load  # noqa: E402
import bench_plot  # noqa: E402
import bench_profile  # noqa: E402
from bench_report import report  # noqa: E402
from bench_run import run_guest  # noqa: E402
from vmtest import fmt_size  # noqa: E402

DEFAULT_SEQUENCE = "0,1G,4G,512M,0"


def parse_sequence(text):
    """'0,1G,4G,512M,0' (or '0 -> 1G -> ...') -> [bytes, ...]."""
    parts = [p for p in re.split(r"\s*(?:,|->|\u2192|\s)\s*", text.strip())
             if p]
    sizes = [vmtest.parse_size(p) for p in parts]
    if len(sizes) < 2:
        raise ValueError("a sequence needs a start size and at least one "
                         "step: %r" % text)
    return sizes


def parser():
    p = argparse.ArgumentParser(description=__doc__.strip().splitlines()[0])
    vmtest.common_args(p)
    p.add_argument("--repeat", type=int, default=3,
                   help="boot each driver N times per workload (3); "
                   "medians and spreads are reported")
    p.add_argument("--workload", default=",".join(bench_load.WORKLOADS),
                   help="comma separated, of %s (all)" %
                   ", ".join(bench_load.WORKLOADS))
    p.add_argument("--memfill", default=os.path.join(
        os.path.dirname(os.path.abspath(__file__)), "..", "memfill"),
        help="the static guest workload (make tools/memfill)")
    p.add_argument("--max-boot-mem", default="6G",
                   help="a loaded guest needing more boot memory for the "
                   "sequence's peak is skipped (6G)")
    p.add_argument("--sequence", default=DEFAULT_SEQUENCE,
                   help="requested sizes, the first at boot (default %s)" %
                   DEFAULT_SEQUENCE)
    p.add_argument("--only", choices=["ours", "stock"],
                   help="run one driver only")
    p.add_argument("--region", default="8G", help="region size (8G)")
    p.add_argument("--block-size", default="2M", help="block size (2M)")
    p.add_argument("--boot-mem", default="1G", help="boot memory (1G)")
    p.add_argument("--append", default="",
                   help="more guest kernel command line, e.g. "
                   "memory_hotplug.memmap_on_memory=1")
    p.add_argument("--timeout", type=float, default=900,
                   help="per step, seconds (900)")
    p.add_argument("--boot-timeout", type=float, default=300)
    p.add_argument("--poll", type=float, default=0.05,
                   help="QMP poll interval (0.05 s)")
    p.add_argument("--guest-poll", type=float, default=0.01,
                   help="guest MemTotal poll interval (0.01 s)")
    p.add_argument("--settle", type=float, default=3.0,
                   help="pause after a step before the next (3 s)")
    p.add_argument("--profile", action="store_true",
                   help="time the memory core's calls of each step with "
                   "function_graph (bench_profile.py); slows them a "
                   "little")
    p.add_argument("--keep", action="store_true",
                   help="keep the guests' work directories")
    p.add_argument("--tag", help="the guest kernel's name in the report "
                   "and the plots (debian, debian13)")
    p.add_argument("--out", help="where the report, runs.json and the "
                   "plots (per workload, PNG and SVG) go (default "
                   "bench-results/<kernel>-<time>)")
    return p


def parse_args():
    """The arguments, checked; (args, modules, sequence)."""
    p = parser()
    args = p.parse_args()
    try:
        seq = parse_sequence(args.sequence)
        args.region = vmtest.parse_size(args.region)
        args.block_size = vmtest.parse_size(args.block_size)
        args.boot_mem = vmtest.parse_size(args.boot_mem)
        args.max_boot_mem = vmtest.parse_size(args.max_boot_mem)
    except ValueError as e:
        p.error(str(e))
    args.workloads = [w for w in args.workload.split(",") if w]
    bad = [w for w in args.workloads if w not in bench_load.WORKLOADS]
    if bad or not args.workloads:
        p.error("--workload: %s: not among %s" %
                (",".join(bad), ", ".join(bench_load.WORKLOADS)))
    if set(args.workloads) - {"idle"} and not os.path.isfile(args.memfill):
        p.error("--memfill %s: the loaded workloads need it (make "
                "tools/memfill)" % args.memfill)
    if args.repeat < 1:
        p.error("--repeat must be at least 1")
    if max(seq) > args.region:
        p.error("sequence exceeds the region (%s)" % fmt_size(args.region))
    if any(s % args.block_size for s in seq):
        p.error("sizes must be multiples of the block size")
    modules = [args.only] if args.only else ["ours", "stock"]
    if "ours" in modules and (not args.ko or not os.path.isfile(args.ko)):
        p.error("--ko: our virtio_mem.ko is needed (make builds it)")
    if "stock" in modules and not args.moddir:
        p.error("--moddir: the stock module comes from the guest's modules")
    return args, modules, seq


def copy_ko(args):
    """
    Every run boots a copy of our module, even if the tree is rebuilt
    meanwhile: point args.ko at it; returns its directory (or None).
    """
    if not args.ko or not os.path.isfile(args.ko):
        return None
    with open(args.ko, "rb") as f:
        data = f.read()
    tmp = tempfile.mkdtemp(prefix="vmem-bench-")
    ko = os.path.join(tmp, "virtio_mem.ko")
    with open(ko, "wb") as f:
        f.write(data)
    print("# ours: %s sha256 %s" %
          (args.ko, hashlib.sha256(data).hexdigest()[:16]))
    args.ko = ko
    return tmp


def main():
    args, modules, seq = parse_args()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    qver = subprocess.run(["qemu-system-x86_64", "--version"],
                          capture_output=True, text=True).stdout
    print("# bench: %s, region %s, block-size %s, boot memory %s, "
          "%d run(s) per driver and workload (%s)%s" %
          (" -> ".join(fmt_size(s) for s in seq), fmt_size(args.region),
           fmt_size(args.block_size), fmt_size(args.boot_mem), args.repeat,
           ", ".join(args.workloads),
           (", append " + args.append) if args.append else ""))
    print("# kernel %s; %s" % (os.path.basename(args.kernel),
                               qver.splitlines()[0] if qver else "qemu ?"))
    tmp = copy_ko(args)
    try:
        return bench(args, modules, seq)
    finally:
        if tmp:
            shutil.rmtree(tmp, ignore_errors=True)


def bench(args, modules, seq):
    print("# host: %d CPUs, load average %.2f (TCG: timings are noisy "
          "when anything else runs)" % (os.cpu_count(), os.getloadavg()[0]),
          flush=True)
    runs, skipped = [], []
    t_start = time.monotonic()
    for workload in args.workloads:
        try:
            bench_load.boot_mem(workload, seq, args)
        except bench_load.Unfit as e:
            print("# workload %s skipped: %s" % (workload, e), flush=True)
            skipped.append(workload)
            continue
        for rep in range(args.repeat):
            # Alternate the order so that drift of the host load hits both.
            order = modules if rep % 2 == 0 else list(reversed(modules))
            for m in order:
                runs.append(run_guest(m, args, seq, rep, workload))
    loads = [v for r in runs for v in r["load"]] or [os.getloadavg()[0]]
    print("# total %.0f s; host load average (1 min) between %.2f and %.2f "
          "during the runs" % (time.monotonic() - t_start, min(loads),
                               max(loads)))
    text = io.StringIO()
    with contextlib.redirect_stdout(text):
        for workload in args.workloads:
            if workload not in skipped:
                report([r for r in runs if r["workload"] == workload], seq,
                       args, workload,
                       bench_load.describe(workload, seq, args))
        if args.profile:
            print()
            bench_profile.report(runs)
    print(text.getvalue(), end="")
    outputs(args, runs, seq, text.getvalue())
    failed = [r for r in runs if r["error"] or r["console"]]
    if failed:
        print()
        for r in failed:
            print("run %d %s, %s: %s" % (r["rep"] + 1, r["module"],
                                         r["workload"],
                                         r["error"] or r["console"]))
        return 1
    return 0


def outputs(args, runs, seq, text):
    """The report, the runs and a plot per workload in --out."""
    out = args.out or os.path.join("bench-results", "%s-%s" % (
        args.tag or "debian",
        time.strftime("%Y%m%d-%H%M%S")))
    os.makedirs(out, exist_ok=True)
    with open(os.path.join(out, "report.txt"), "w") as f:
        f.write(text)
    meta = bench_plot.save(runs, seq, args, out, args.tag)
    try:
        files = bench_plot.plot_all([r for r in runs if r["steps"]], meta,
                                    out)
    except RuntimeError as e:
        files = []
        print("# no plot: %s" % e)
    print()
    print("# report, runs.json and plots in %s/: %s" % (
        out, " ".join(os.path.basename(f) for f in files)), flush=True)


if __name__ == "__main__":
    try:
        sys.exit(main())
    except KeyboardInterrupt:
        sys.exit(130)
