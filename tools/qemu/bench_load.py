# SPDX-License-Identifier: GPL-2.0
"""
The bench's workloads, the same for both drivers:

  idle        nothing runs in the guest: an unplug finds its memory free;
  busy        from the sequence's peak on, a live process (tools/memfill,
              verifying and rewriting its pages) holds half of the plugged
              memory: an unplug must migrate what it holds there;
  fragmented  from the peak on, a process fills 90% of the memory, then
              gives every other 16 MiB back (memfill -F 16): every memory
              block holds used pages that must be migrated.

A loaded guest boots with enough memory for the process to survive the
sequence's lowest point after its peak; a workload that would need more
boot memory than --max-boot-mem is skipped, with a note.
"""

from registry import MEMFILL
from units import GiB, MiB, fmt_size

WORKLOADS = ("idle", "busy", "fragmented")


class Unfit(Exception):
    """The workload does not fit this sequence on this host."""


def boot_mem(workload, seq, args):
    """The boot memory a guest of @workload needs (bytes)."""
    peak = max(seq)
    low = min(seq[seq.index(peak):])
    if workload == "idle":
        return args.boot_mem
    if workload == "busy":          # half of the peak, in boot + low
        need = peak // 2 + 1 * GiB - low
    else:                           # 45% of boot + peak, in boot + low
        need = (peak * 45 // 100 + 1 * GiB - low) * 100 // 55
    need = -(-need // (256 * MiB)) * 256 * MiB
    if need > args.max_boot_mem:
        raise Unfit("%s needs %s of boot memory for a peak of %s "
                    "(--max-boot-mem %s)" % (workload, fmt_size(need),
                                             fmt_size(peak),
                                             fmt_size(args.max_boot_mem)))
    return max(args.boot_mem, need)


def describe(workload, seq, args):
    peak = max(seq)
    return "boot memory %s; " % fmt_size(boot_mem(workload, seq, args)) + {"idle": "nothing runs in the guest",
            "busy": "from the %s step on, memfill holds %s" %
                    (fmt_size(peak), fmt_size(peak // 2)),
            "fragmented": "from the %s step on, memfill fills 90%% of "
                          "the memory and keeps every other 16 MiB" %
                          fmt_size(peak)}[workload]


def start(vm, workload, plugged):
    """Start @workload in @vm with @plugged bytes plugged; its pid."""
    if workload == "idle":
        return None
    opts = "-m %d" % (plugged // 2 // MiB) if workload == "busy" else \
        "-p 90 -F 16"
    pid = vm.sh("%s %s -i 2000 > /tmp/memfill.log 2>&1 & echo $!" %
                (MEMFILL, opts)).split()[-1]
    for _ in range(600):
        log = vm.sh("cat /tmp/memfill.log")
        if "memfill: ready" in log:
            print("#   %s: %s" % (workload, log.strip().splitlines()[-1]),
                  flush=True)
            return pid
        if vm.run("kill -0 %s" % pid)[0]:
            break
        vm.sh("sleep 0.5")
    raise Unfit("memfill did not start: %s" % vm.sh("cat /tmp/memfill.log"))


def alive(vm, pid):
    """Whether the workload's process still runs (None: no process)."""
    return pid is None or vm.run("kill -0 %s" % pid)[0] == 0
