# SPDX-License-Identifier: GPL-2.0
"""
The bench's runs: boot a guest with one driver, walk the sequence, and
time each step on the device (QMP size) and in the guest (MemTotal).
"""

import os
import re
import statistics
import threading
import time

import bench_load
import bench_profile
import vmtest
from bench_trace import MARK_SYSFS, TRACE_EVENTS, attach_trace
from registry import MEMFILL
from units import MiB
from vmtest import MemDevice, VMConfig, fmt_size


class StepTimeout(Exception):
    pass


# Guest side of a step: poll MemTotal (the first line of /proc/meminfo)
# until it is @want kB.  Only shell builtins run in the loop: "read -t" on a
# FIFO nobody writes is the sleep, so polling forks nothing. It also says
# how much system time (USER_HZ ticks, all CPUs) the guest spent meanwhile:
# a wait without device requests is work (migration) or a timer. And how
# many pages the kernel migrated (pgmigrate_success of /proc/vmstat).
GUEST_WAIT = r"""
want=%(want)d
f=/run/bench.fifo
[ -p $f ] || mkfifo $f
exec 3<>$f
read -r up idle < /proc/uptime
end=$((${up%%.*} + %(timeout)d))
read -r c us ni sy rest < /proc/stat
sys0=$sy
vmig() {
	while read -r k v; do
		[ "$k" = pgmigrate_success ] && { echo "$v"; return; }
	done < /proc/vmstat
	echo 0
}
mig0=$(vmig)
i=0
while :; do
	read -r k v u < /proc/meminfo
	if [ "$v" = "$want" ]; then
		read -r -n 1 x < %(mark)s
		read -r c us ni sy rest < /proc/stat
		echo "reached $v $i ksys $((sy - sys0)) migrated $(($(vmig) - mig0))"
		exit 0
	fi
	i=$((i + 1))
	if [ $((i %% 50)) = 0 ]; then
		read -r up idle < /proc/uptime
		if [ "${up%%.*}" -ge $end ]; then echo "timeout $v $i"; exit 3; fi
	fi
	read -t %(poll)s x <&3
done
"""


def guest_memtotal_kb(vm):
    return vm.meminfo()["MemTotal"] // 1024


class Waiter(threading.Thread):
    """Runs the guest-side MemTotal wait loop; records when it answered."""

    def __init__(self, vm, want_kb, timeout, poll):
        super().__init__(daemon=True)
        self.vm = vm
        self.script = GUEST_WAIT % {"want": want_kb,
                                    "timeout": int(timeout) + 1,
                                    "mark": MARK_SYSFS,
                                    "poll": poll}
        self.timeout = timeout
        self.t_done = None
        self.rc = None
        self.out = ""
        self.error = None

    def run(self):
        try:
            self.rc, self.out = self.vm.run(self.script,
                                            timeout=self.timeout + 60)
            self.t_done = time.monotonic()
        except Exception as e:          # reported by the caller
            self.error = e


def run_step(vm, target, base_kb, args, memmap_on_memory=False):
    """
    qom-set requested-size to @target and time the device (QMP size) and
    the guest (MemTotal).  Returns a dict with t0 (monotonic), t0_wall,
    qmp and mem (seconds, None on timeout) and the last values seen.
    With @memmap_on_memory (our driver, booted with
    memory_hotplug.memmap_on_memory=1) every 128 MiB block carries its
    2 MiB memmap, which MemTotal does not count: steps of whole blocks.
    """
    mem = target - target // 64 if memmap_on_memory else target
    want_kb = base_kb + mem // 1024
    waiter = Waiter(vm, want_kb, args.timeout, args.guest_poll)
    waiter.start()
    # Give the guest loop a moment to be running before the request.
    time.sleep(0.3)
    t0_wall = time.time()
    t0 = time.monotonic()
    vm.qom_set("vm0", "requested-size", target)
    res = {"t0": t0, "t0_wall": t0_wall, "qmp": None, "mem": None,
           "qmp_last": None, "mem_last": None, "error": None}
    deadline = t0 + args.timeout
    while time.monotonic() < deadline:
        size = vm.query_memory_devices()["vm0"]["size"]
        now = time.monotonic()
        res["qmp_last"] = size
        if size == target:
            res["qmp"] = now - t0
            break
        if not waiter.is_alive() and waiter.error is not None:
            break
        if not vm.alive():
            break
        time.sleep(args.poll)
    waiter.join(max(1.0, deadline - time.monotonic() + 90))
    if waiter.error is not None:
        res["error"] = vmtest.VMError("guest wait: %s" % waiter.error)
    elif waiter.is_alive():
        res["error"] = vmtest.VMError("guest wait loop did not answer")
    else:
        m = re.search(r"(reached|timeout) (\d*)", waiter.out)
        if m and m.group(2):
            res["mem_last"] = (int(m.group(2)) - base_kb) * 1024
        m = re.search(r"ksys (\d+)", waiter.out)
        if m:
            res["ksys"] = int(m.group(1)) / 100.0     # USER_HZ
        m = re.search(r"migrated (\d+)", waiter.out)
        if m:
            res["migrated"] = int(m.group(1))
        if waiter.rc == 0:
            res["mem"] = waiter.t_done - t0
    return res


def module_check(vm, module):
    """Make sure the driver we think we measure is the one bound."""
    bad = [s for s in vm.insmod_status() if s[0] != 0]
    if bad:
        raise vmtest.VMError("insmod failed: %s" % bad)
    taint = vm.read_file("/sys/module/virtio_mem/taint")
    if (module == "ours") != ("O" in taint):
        raise vmtest.VMError("module %s expected, /sys/module/virtio_mem/"
                             "taint is %r" % (module, taint))
    devs = vm.virtio_mem_devices()
    if not devs or any(d["driver"] != "virtio_mem" for d in devs):
        log = [ln for ln in vm.dmesg().splitlines() if "virtio_mem" in ln]
        raise vmtest.VMError("device not bound to virtio_mem: %s\n%s" %
                             (devs, "\n".join(log[-20:])))


def settle_initial(vm, start, timeout):
    """Wait until the device has plugged the start size; return base kB."""
    deadline = time.monotonic() + timeout
    while True:
        size = vm.query_memory_devices()["vm0"]["size"]
        mem = guest_memtotal_kb(vm)
        if size == start:
            time.sleep(1.0)
            mem2 = guest_memtotal_kb(vm)
            if mem2 == mem:
                return mem - start // 1024
        if time.monotonic() > deadline:
            raise StepTimeout("start size %s not reached (size %s)" %
                              (fmt_size(start), fmt_size(size)))
        time.sleep(0.5)


def guest_config(module, args, seq, workload):
    """The guest of one run: the driver @module, booted for @workload."""
    # Beyond 16 GiB QEMU cannot reserve the region on a 24 GiB host.
    backend = {"reserve": "off"} if args.region > 16 * 1024 * MiB else {}
    files = {MEMFILL: args.memfill} if workload != "idle" else {}
    return VMConfig(kernel=args.kernel, moddir=args.moddir, ko=args.ko,
                    module=module,
                    boot_mem=bench_load.boot_mem(workload, seq, args),
                    extra_files=files,
                    append=("memhp_default_state=online_movable " +
                            args.append).strip(),
                    trace=TRACE_EVENTS, qemu_args=["-msg", "timestamp=on"],
                    boot_timeout=args.boot_timeout, keep_workdir=args.keep,
                    devices=[MemDevice("vm0", block_size=args.block_size,
                                       region_size=args.region,
                                       requested_size=seq[0],
                                       backend_props=backend)])


def run_guest(module, args, seq, rep, workload="idle"):
    """Boot one guest with @module and run the sequence; returns a run."""
    cfg = guest_config(module, args, seq, workload)
    run = {"module": module, "rep": rep, "steps": [], "error": None,
           "boot": None, "load": [os.getloadavg()[0]], "console": None,
           "workload": workload}
    print("# [%d/%d] %s, %s: booting" % (rep + 1, args.repeat, module,
                                         workload), flush=True)
    try:
        with vmtest.VM(cfg) as vm:
            run["boot"] = vm.boot_time
            module_check(vm, module)
            base_kb = settle_initial(vm, seq[0], args.timeout)
            run["base_kb"] = base_kb
            rtt = []
            for _ in range(5):
                t = time.monotonic()
                vm.sh(":")
                rtt.append(time.monotonic() - t)
            run["rtt"] = statistics.median(rtt)
            print("#   booted in %.1f s, base MemTotal %s, command round "
                  "trip %.0f ms" % (vm.boot_time, fmt_size(base_kb * 1024),
                                    run["rtt"] * 1000), flush=True)
            offsets = []
            try:
                run_sequence(vm, run, seq, base_kb, offsets, args)
            finally:
                # Also the steps before a timeout get their requests.
                if vm.alive():
                    offsets.append(len(vm.trace_log()))
                    # QEMU flushes the log per line; a moment for the rest.
                    time.sleep(0.5)
                    attach_trace(run, vm.trace_log(), offsets,
                                 args.block_size)
            try:
                vm.check_console()
            except vmtest.KernelComplaint as kc:
                run["console"] = str(kc).splitlines()[0]
                print("#   %s" % run["console"], flush=True)
    except (vmtest.VMError, StepTimeout, bench_load.Unfit) as e:
        run["error"] = str(e).splitlines()[0]
        print("#   error: %s" % str(e).strip().replace("\n", "\n#   "),
              flush=True)
    run["load"].append(os.getloadavg()[0])
    return run


def run_sequence(vm, run, seq, base_kb, offsets, args):
    """
    Run the steps; stop at the first error or timeout. The workload starts
    as the sequence leaves its peak, and must live to the end.
    """
    pid = None
    for i, target in enumerate(seq[1:]):
        prev = seq[i]
        if pid is None and prev == max(seq) and target < prev:
            pid = bench_load.start(vm, run["workload"], prev)
        before = None
        if getattr(args, "profile", False):
            before = bench_profile.arm(vm)
        offsets.append(len(vm.trace_log()))
        r = run_step(vm, target, base_kb, args,
                     memmap_on_memory=run["module"] == "ours" and
                     "memmap_on_memory=1" in args.append)
        r.update(prev=prev, target=target)
        run["steps"].append(r)
        print("#   %s -> %s: %s" % (fmt_size(prev), fmt_size(target),
                                    step_line(r)), flush=True)
        if getattr(args, "profile", False):
            r["profile"] = bench_profile.collect(vm, before)
            print("#     profile: %s" % bench_profile.line(r["profile"]),
                  flush=True)
        if r["error"] is not None:
            raise r["error"]
        if r["qmp"] is None or r["mem"] is None:
            # The guest is behind: the next steps would measure the
            # leftovers of this one.
            raise StepTimeout("step %s -> %s timed out" %
                              (fmt_size(prev), fmt_size(target)))
        if not bench_load.alive(vm, pid):
            raise StepTimeout("the %s workload was killed at %s" %
                              (run["workload"], fmt_size(target)))
        time.sleep(args.settle)


def step_line(r):
    def t(v, last):
        return "%.2f s" % v if v is not None else \
            "timeout (at %s)" % fmt_size(last)
    line = "polled: qmp %s, MemTotal %s" % (t(r["qmp"], r["qmp_last"]),
                                            t(r["mem"], r["mem_last"]))
    if r["error"] is not None:
        line += ", error: %s" % str(r["error"]).splitlines()[0]
    return line
