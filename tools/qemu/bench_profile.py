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

import re

from guestops import TRACEFS

FUNCS = ("alloc_contig_range", "offline_and_remove_memory", "remove_memory",
         "migrate_pages")

# " 1)   + 12.345 us   |  alloc_contig_range();" or "... |  }" closing a
# "... |  alloc_contig_range() {" line; durations in us.
LINE = re.compile(r"^\s*(\d+)\)\s*(?:[-+!#*@$ ]\s*)?([\d.]+)?\s*(?:us)?\s*\|"
                  r"\s*(.*)$")


def arm(vm):
    """Trace FUNCS with function_graph from now on, buffer cleared."""
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


def collect(vm):
    """Stop tracing; per function: [calls, total seconds] (outermost)."""
    vm.sh("echo 0 > %s/tracing_on" % TRACEFS)
    out = vm.sh("cat %s/trace" % TRACEFS)
    vm.sh("cd %s; echo nop > current_tracer; echo > set_ftrace_filter"
          % TRACEFS)
    return parse(out)


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
    return prof


def line(prof):
    """One line of a step's profile."""
    return ", ".join("%s %d in %.2f s" % (f, prof[f][0], prof[f][1])
                     for f in FUNCS if prof[f][0])


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
                   "offline_and_remove_memory": [1, 2e6],
                   "remove_memory": [0, 0.0]}, got
    return p


if __name__ == "__main__":
    # make test's stage bench-profile: python3 bench_profile.py
    try:
        print("# %s" % line(selftest()))
        print("PASS: bench-profile/parse")
    except AssertionError as e:
        print("FAIL: bench-profile/parse: %s" % e)
        raise SystemExit(1)
