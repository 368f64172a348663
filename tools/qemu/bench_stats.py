# SPDX-License-Identifier: GPL-2.0
"""The bench's statistics over the runs: medians, spreads, counts."""

import statistics


def med(values):
    vals = [v for v in values if v is not None]
    return statistics.median(vals) if vals else None


def collect(runs, module, nsteps):
    """Per step: list of step dicts of @module (complete steps only)."""
    per = [[] for _ in range(nsteps)]
    for run in runs:
        if run["module"] != module:
            continue
        for i, s in enumerate(run["steps"]):
            per[i].append(s)
    return per


def step_value(steps, key):
    return med([s[key] for s in steps]) if steps else None


def timeouts(steps, key):
    return sum(1 for s in steps if s[key] is None)


def trace_value(steps, key):
    vals = [s["trace"][key] for s in steps if "trace" in s]
    return med(vals) if vals else None


def counts(steps):
    """'P/U/UA/S' request counts (medians) plus non-ACK replies."""
    tr = [s["trace"] for s in steps if "trace" in s]
    if not tr:
        return "-"
    c = [statistics.median([t[k] for t in tr])
         for k in ("plug", "unplug", "unplug_all", "state", "nack")]
    txt = "/".join("%g" % v for v in c[:4])
    if c[4]:
        txt += " !%g" % c[4]
    return txt


def spread(steps, key):
    """(min, max) of @key over the runs, or None with fewer than two."""
    vals = [s[key] for s in steps if s[key] is not None]
    if len(vals) < 2:
        return None
    return min(vals), max(vals)


# Seconds without any device request that mean a timer, not work.
RETRY_GAP = 1.0


def retry_bound(steps):
    """
    The runs of one step whose time went mostly into a wait without any
    device request and without kernel work in the guest (a retry timer,
    not a migration): [(wait, when it began, step time, guest system
    time)], the step time being when QEMU's size reached the target.
    """
    out = []
    for s in steps:
        tr, t, ksys = s.get("trace"), s["qmp"], s.get("ksys")
        if not tr or t is None or ksys is None:
            continue
        gap = tr["max_gap"]
        if gap >= RETRY_GAP and gap > t / 2 and ksys < gap / 2:
            out.append((gap, tr["gap_at"], t, ksys))
    return out
