# SPDX-License-Identifier: GPL-2.0
"""
QEMU's trace events of a virtio-mem device (-trace, written to the -D log):
the names, a parser, and a replay of the requests that gives the device's
size over time, as QEMU saw it.

With "-msg timestamp=on" every line starts with "<tid>@<seconds>.<us>:"
(the host's wall clock).
"""

import re

TRACE_USABLE = "virtio_mem_resized_usable_region"

# Request events -> request kind.
REQUEST_EVENTS = {
    "virtio_mem_plug_request": "plug",
    "virtio_mem_unplug_request": "unplug",
    "virtio_mem_unplug_all_request": "unplug_all",
    "virtio_mem_state_request": "state",
}
RESPONSE_EVENT = "virtio_mem_send_response"
RESP_NAMES = {0: "ACK", 1: "NACK", 2: "BUSY", 3: "ERROR"}
# The request and response events, to enable with VMConfig.trace.
REQUEST_TRACE = list(REQUEST_EVENTS) + [RESPONSE_EVENT]


def line_re(extra=()):
    """A trace line of a virtio_mem event or of one of @extra."""
    alts = "|".join(["virtio_mem_\\w+"] + [re.escape(e) for e in extra])
    return re.compile(r"^(?:\d+@(\d+\.\d+):)?(%s)\s*(.*)$" % alts)


def parse(text, extra=()):
    """[(wall time or None, event, args)] of the trace lines of @text."""
    pat = line_re(extra)
    events = []
    for line in text.splitlines():
        m = pat.match(line.strip())
        if m:
            ts = float(m.group(1)) if m.group(1) else None
            events.append((ts, m.group(2), m.group(3)))
    return events


def arg_int(args, name):
    m = re.search(r"\b%s=(0x[0-9a-fA-F]+|\d+)" % name, args)
    return int(m.group(1), 0) if m else None


def usable_sizes(text):
    """The usable region sizes QEMU traced, oldest first."""
    return [int(v, 16) for v in re.findall(
        TRACE_USABLE + r" old_size=0x[0-9a-f]+\s*new_size=(0x[0-9a-f]+)",
        text)]


def requests(events, block_size):
    """
    The requests of @events with their answers, in order: dicts with ts,
    kind, bytes (nb_blocks * @block_size), reply (0 ACK .. 3 ERROR, None
    when no answer was traced) and reply_ts.
    """
    out, pending = [], None
    for ts, ev, args in events:
        if ev in REQUEST_EVENTS:
            pending = {"ts": ts, "kind": REQUEST_EVENTS[ev],
                       "bytes": (arg_int(args, "nb_blocks") or 0) *
                       block_size, "reply": None, "reply_ts": None}
            out.append(pending)
        elif ev == RESPONSE_EVENT and pending is not None:
            pending["reply"] = arg_int(args, "type")
            pending["reply_ts"] = ts
            pending = None
    return out


def replay(reqs, start):
    """
    The device's size after each request of @reqs, from @start: a list of
    (request, size before, size after) where size after counts an ACK.
    """
    size, out = start, []
    for r in reqs:
        before = size
        if r["reply"] == 0:
            if r["kind"] == "plug":
                size += r["bytes"]
            elif r["kind"] == "unplug":
                size -= r["bytes"]
            elif r["kind"] == "unplug_all":
                size = 0
        out.append((r, before, size))
    return out
