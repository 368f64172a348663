# SPDX-License-Identifier: GPL-2.0
"""
The bench's reading of QEMU's trace (qemu_trace.py): per step, the
device requests and their timing, and the guest's mark of the moment its
MemTotal followed.
"""

import qemu_trace
from qemu_trace import REQUEST_EVENTS, REQUEST_TRACE, RESPONSE_EVENT, arg_int

# The guest marks the moment it saw its MemTotal by reading one byte of the
# host bridge's PCI config space: QEMU traces that read on its own clock,
# the clock of the virtio-mem events.  Nothing else reads it at run time.
MARK_EVENT = "pci_cfg_read"
MARK_ARGS = "mch 00:00.0 @0x0 "
MARK_SYSFS = "/sys/bus/pci/devices/0000:00:00.0/config"
TRACE_EVENTS = REQUEST_TRACE + [MARK_EVENT]


def parse_trace(text):
    """[(wall time or None, event, args)] of the virtio-mem and mark lines."""
    return qemu_trace.parse(text, extra=(MARK_EVENT,))


def step_trace_stats(events, t0_wall, block_size, prev, target):
    """
    Counts and request timing of one step's trace events.  Times are
    seconds relative to the step's qom-set (t0_wall). max_gap is the
    longest time without a request, gap_at where it began.  Replaying the ACKed
    requests from the size @prev gives "reached": when QEMU's size (the one
    query-memory-devices reports) became @target.
    """
    st = {k: 0 for k in REQUEST_EVENTS.values()}
    st.update(nack=0, bytes=0, first=None, last=None, n=0, dev=0.0,
              reached=0.0 if prev == target else None, mark=None,
              max_gap=0.0, gap_at=None)
    size, pending = prev, None
    for ts, ev, args in events:
        rel = ts - t0_wall if ts is not None else None
        if ev == MARK_EVENT:
            if args.startswith(MARK_ARGS) and st["mark"] is None:
                st["mark"] = rel
        elif ev in REQUEST_EVENTS:
            kind = REQUEST_EVENTS[ev]
            st[kind] += 1
            st["n"] += 1
            nb = arg_int(args, "nb_blocks") or 0
            if kind in ("plug", "unplug"):
                st["bytes"] += nb * block_size
            pending = (kind, nb * block_size, rel)
            if rel is not None:
                # The longest wait without a request (from the qom-set on):
                # where a retry timer shows.
                since = st["last"] if st["last"] is not None else 0.0
                if rel - since > st["max_gap"]:
                    st["max_gap"], st["gap_at"] = rel - since, since
                st["first"] = rel if st["first"] is None else st["first"]
                st["last"] = rel
        elif ev == RESPONSE_EVENT:
            t = arg_int(args, "type")
            if t != 0:
                st["nack"] += 1
            if pending is None:
                continue
            kind, nbytes, t_req = pending
            pending = None
            if rel is not None and t_req is not None:
                st["dev"] += rel - t_req
            if t == 0:
                if kind == "plug":
                    size += nbytes
                elif kind == "unplug":
                    size -= nbytes
                elif kind == "unplug_all":
                    size = 0
            if size == target and st["reached"] is None and rel is not None:
                st["reached"] = rel
    return st


def split_by_step(events, starts_wall):
    """
    Assign trace events to steps by their timestamps: step i owns
    [start_i, start_i+1).  Returns (one event list per step, True), or
    (None, False) if QEMU wrote no timestamps.
    """
    n = len(starts_wall)
    out = [[] for _ in range(n)]
    if events and all(e[0] is not None for e in events):
        for e in events:
            i = n - 1
            while i >= 0 and e[0] < starts_wall[i]:
                i -= 1
            if i >= 0:
                out[i].append(e)
        return out, True
    return None, False


def attach_trace(run, text, offsets, block_size):
    events = parse_trace(text)
    starts = [s["t0_wall"] for s in run["steps"]]
    parts, timed = split_by_step(events, starts)
    for i, s in enumerate(run["steps"]):
        if timed:
            evs = parts[i]
        else:       # by the log length seen at each qom-set
            evs = parse_trace(text[offsets[i]:offsets[i + 1]])
        st = step_trace_stats(evs, s["t0_wall"], block_size, s["prev"],
                              s["target"])
        st["timed"] = timed
        s["trace"] = st
        # The device's own clock beats polling QMP; polling confirmed it.
        if s["qmp"] is not None and st["reached"] is not None:
            s["qmp_poll"] = s["qmp"]
            s["qmp"] = st["reached"]
        # Likewise the guest's mark beats the command channel's answer.
        if s["mem"] is not None and st["mark"] is not None and \
           0 <= st["mark"] <= s["mem"]:
            s["mem_answer"] = s["mem"]
            s["mem"] = st["mark"]
