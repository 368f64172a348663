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
    vals = [s[key] for s in steps if s[key] is not None]
    if len(vals) < 2:
        return ""
    return "%.3f-%.3f" % (min(vals), max(vals))
