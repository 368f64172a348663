# SPDX-License-Identifier: GPL-2.0
"""
Integration tests of the "foundation" milestone: boot QEMU/TCG guests with
our virtio_mem.ko and compare everything the driver exports in sysfs with
QEMU's own view (query-memory-devices, qom-get, trace events).

    python3 tools/qemu/qemu_tests.py --kernel K --moddir M --ko virtio_mem.ko
                                     [--filter NAME[,NAME...]] [--skip NAME[,...]]
                                     [--list] [--tag T] [--small]

Without --kernel, Debian's kernel of the project cache (cache.py).

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
import signal
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import cache  # noqa: E402
import guestops  # noqa: E402
import registry  # noqa: E402
import runner  # noqa: E402
from kfacts import KernelFacts  # noqa: E402

# The case modules, in the order their groups run; each declares its
# cases and the shapes only it uses.
import shapes  # noqa: E402,F401
import basic_cases  # noqa: E402,F401
import lifecycle_cases  # noqa: E402,F401
import scale_cases  # noqa: E402,F401
import resize_cases  # noqa: E402,F401
import observe_cases  # noqa: E402,F401
import correctness_cases  # noqa: E402,F401
import load_cases  # noqa: E402,F401
import tool_cases  # noqa: E402,F401

HERE = os.path.dirname(os.path.abspath(__file__))


def selected(args):
    cases = list(registry.CASES)
    if args.filter:
        pats = [p for p in args.filter.split(",") if p]
        cases = [c for c in cases if any(fnmatch.fnmatch(c.name, p) or
                                         p in c.name for p in pats)]
    return cases


def parse_args():
    p = argparse.ArgumentParser(description=__doc__.strip().splitlines()[0])
    p.add_argument("--kernel", help="guest kernel image")
    p.add_argument("--moddir", default=None,
                   help="guest /lib/modules/<version>; empty for a kernel "
                   "with virtio built in (no stock-driver cases)")
    p.add_argument("--kconfig", help="the guest kernel's config (default: "
                   "found beside the image)")
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
    p.add_argument("--memfill", default=os.path.join(HERE, "..", "memfill"),
                   help="the static guest workload (make tools/memfill)")
    p.add_argument("--pollwait", default=os.path.join(HERE, "pollwait"),
                   help="the static poll() helper (make tools/qemu/pollwait)")
    p.add_argument("--vmemctl", default=os.path.join(
        HERE, "..", "vmemctl", "vmemctl"),
        help="the tool (make tools/vmemctl/vmemctl)")
    p.add_argument("--list", action="store_true", help="list cases")
    p.add_argument("--keep", action="store_true",
                   help="keep the guests' work directories")
    args = p.parse_args()
    if not args.kernel:
        env = cache.read_env("guest")
        args.kernel = env.get("GUEST_KERNEL")
        if args.moddir is None:
            args.moddir = env.get("GUEST_MODDIR")
    if args.ko is None:
        args.ko = os.path.join(HERE, "..", "..", "virtio_mem.ko")
    return p, args


def main():
    p, args = parse_args()
    registry.check_declarations()
    guestops.SMALL = args.small
    cases = selected(args)
    if args.list:                       # in the order they run
        for group in registry.groups(cases):
            for c in cases:
                if c.group == group:
                    print("%-28s (guest: %s)" % (c.name, c.group))
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
    facts = KernelFacts(args.kernel, args.moddir, args.tag, args.kconfig)
    print("# %s" % facts.describe(), flush=True)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    t0 = time.monotonic()
    verdicts = runner.run_cases(cases, args, facts)
    print("# total %.0f s" % (time.monotonic() - t0))
    print(runner.tally(verdicts))
    return 1 if "FAIL" in verdicts.values() else 0


if __name__ == "__main__":
    sys.exit(main())
