# SPDX-License-Identifier: GPL-2.0
"""The bench's report: the timing table, where the time goes, the summary."""

from bench_stats import (RETRY_GAP, collect, counts, med, retry_bound,
                         spread, step_value, timeouts)
from units import MiB, fmt_size


def fmt_t(v, width=7, prec=3):
    return ("%*.*f" % (width, prec, v)) if v is not None else \
        "%*s" % (width, "-")


def fmt_ratio(a, b, width=6):
    if a is None or b is None or b <= 0:
        return "%*s" % (width, "-")
    return "%*.2f" % (width, a / b)


def time_cell(steps, key):
    """Median, then (min-max) over the runs, then R if a retry timer
    dominated one of them: 19 characters."""
    v = step_value(steps, key)
    to = timeouts(steps, key)
    if v is None:
        return "%-19s" % ("timeout" if to else "-")
    sp = spread(steps, key)
    cell = "%.2f%s" % (v, "*" if to else "")
    if sp:
        cell += " (%.2f-%.2f)" % sp
    if key == "qmp" and retry_bound(steps):
        cell += " R"
    return "%-19s" % cell


def report(runs, seq, args, workload="idle", about=""):
    """The whole report of @runs (of one workload) over the sequence @seq."""
    nsteps = len(seq) - 1
    ours = collect(runs, "ours", nsteps)
    stock = collect(runs, "stock", nsteps)
    label = ["%s -> %s" % (fmt_size(seq[i]), fmt_size(seq[i + 1]))
             for i in range(nsteps)]
    w = max(len(x) for x in label + ["step"])
    print()
    print("=== workload %s: %s" % (workload, about))
    legend(runs, args)
    table(label, w, ours, stock, args)
    retry_notes(label, ours, stock)
    where_time(label, w, ours, stock)
    migrated(label, w, ours, stock)
    summary(seq, ours, stock)


def legend(runs, args):
    """What the columns of the timing table mean."""
    nrep = {m: sum(1 for r in runs if r["module"] == m) for m in
            ("ours", "stock")}
    print()
    print("Times in seconds from qom-set requested-size (median of %s runs; "
          "lower is better)" % "/".join(
              "%d %s" % (nrep[m], m) for m in ("ours", "stock") if nrep[m]))
    print("  qmp: device size == target (query-memory-devices size, polled "
          "every %.0f ms; the time is" % (args.poll * 1000))
    print("       taken from QEMU's trace of the ACK that got it there)")
    rtt = med([r.get("rtt") for r in runs])
    print("  mem: guest MemTotal == base + target (guest polls every %.0f ms "
          "and marks the" % (args.guest_poll * 1000))
    print("       moment with a PCI config read that QEMU traces; without "
          "the mark, the")
    print("       answer on the command channel, round trip median %s ms)" %
          ("%.0f" % (rtt * 1000) if rtt else "-"))
    print("  requests: PLUG/UNPLUG/UNPLUG_ALL/STATE from QEMU trace events "
          "(!N: N non-ACK replies)")


def table(label, w, ours, stock, args):
    """Per step: the qmp and mem times of both drivers, their requests."""
    nsteps = len(label)
    fmt = "%-*s | %-19s %-19s %6s | %-19s %-19s %6s | %-13s %-13s"
    hdr = fmt % (w, "step", "qmp", "", "", "mem", "", "", "requests", "")
    print()
    print(hdr)
    print(fmt % (w, "", "ours", "stock", "o/s", "ours", "stock", "o/s",
                 "ours", "stock"))
    print("-" * len(hdr))
    for i in range(nsteps):
        print(fmt % (
            w, label[i],
            time_cell(ours[i], "qmp"), time_cell(stock[i], "qmp"),
            fmt_ratio(step_value(ours[i], "qmp"),
                      step_value(stock[i], "qmp")),
            time_cell(ours[i], "mem"), time_cell(stock[i], "mem"),
            fmt_ratio(step_value(ours[i], "mem"),
                      step_value(stock[i], "mem")),
            counts(ours[i]), counts(stock[i])))
    unmarked = sum(1 for x in ours + stock for st in x
                   if st["mem"] is not None and "mem_answer" not in st and
                   st["prev"] != st["target"])
    if unmarked:
        print("  (%d step(s) without the guest's trace mark: their mem time "
              "includes the command channel)" % unmarked)
    if any(timeouts(x, k) for x in ours + stock for k in ("qmp", "mem")):
        print("  * some runs timed out (after %g s); median of the others"
              % args.timeout)


def retry_notes(label, ours, stock):
    """The steps flagged R: a wait without any request dominated them."""
    notes = []
    for i in range(len(label)):
        for name, steps in (("ours", ours[i]), ("stock", stock[i])):
            for gap, at, t, ksys in retry_bound(steps):
                notes.append("  R %s, %s: %.2f s of its %.2f s without a "
                             "device request (from %.2f s on), %.2f s of "
                             "guest system time: a retry timer, not work" %
                             (label[i], name, gap, t, at, ksys))
    if notes:
        print("Steps dominated by a wait of %.0f s or more without any "
              "request nor kernel work:" % RETRY_GAP)
        print("\n".join(notes))


def where_time(label, w, ours, stock):
    print()
    print("Where the time goes (medians; seconds from qom-set unless "
          "noted):")
    print("  1st req: first device request;  span: first -> last request;")
    print("  gap: mean time between requests (ms);  dev: mean time QEMU took "
          "per request (ms);")
    print("  MiB/req: mean size of a (un)plug request;")
    print("  tail: last request -> both done;  mem-qmp: MemTotal reached "
          "minus QMP size reached")
    hdr = "%-*s %-5s | %7s %7s %7s %7s %7s %7s %7s" % (
        w, "step", "drv", "1st req", "span", "gap ms", "dev ms", "MiB/req",
        "tail", "mem-qmp")
    print()
    print(hdr)
    print("-" * len(hdr))
    for i in range(len(label)):
        for name, steps in (("ours", ours[i]), ("stock", stock[i])):
            if not steps:
                continue
            firsts, spans, gaps, sizes, tails, lags, devs = \
                [], [], [], [], [], [], []
            for s in steps:
                tr = s.get("trace")
                if s["qmp"] is not None and s["mem"] is not None:
                    lags.append(s["mem"] - s["qmp"])
                if not tr:
                    continue
                moved = tr["plug"] + tr["unplug"]
                if moved:
                    sizes.append(tr["bytes"] / moved / MiB)
                if tr["first"] is None:
                    continue
                devs.append(tr["dev"] / tr["n"] * 1000)
                firsts.append(tr["first"])
                spans.append(tr["last"] - tr["first"])
                if tr["n"] > 1:
                    gaps.append((tr["last"] - tr["first"]) /
                                (tr["n"] - 1) * 1000)
                if s["qmp"] is not None and s["mem"] is not None:
                    tails.append(max(s["qmp"], s["mem"]) - tr["last"])
            print("%-*s %-5s | %s %s %s %s %s %s %s" % (
                w, label[i] if name == "ours" or not ours[i] else "", name,
                fmt_t(med(firsts)), fmt_t(med(spans)),
                ("%7.0f" % med(gaps)) if gaps else "%7s" % "-",
                ("%7.1f" % med(devs)) if devs else "%7s" % "-",
                ("%7.1f" % med(sizes)) if sizes else "%7s" % "-",
                fmt_t(med(tails)),
                ("%+7.2f" % med(lags)) if lags else "%7s" % "-"))


def migrated(label, w, ours, stock):
    """Pages the guest migrated per step (medians), both drivers."""
    def mig(steps):
        return med([s.get("migrated") for s in steps])
    rows = [(label[i], mig(ours[i]), mig(stock[i]))
            for i in range(len(label))]
    if not any(o or s for _, o, s in rows):
        return
    print()
    print("Pages migrated (pgmigrate_success of /proc/vmstat, medians; "
          "ratio ours/stock):")
    print("%-*s | %10s %10s %6s" % (w, "step", "ours", "stock", "o/s"))
    for name, o, s in rows:
        print("%-*s | %10s %10s %s" % (
            w, name, "%.0f" % o if o is not None else "-",
            "%.0f" % s if s is not None else "-", fmt_ratio(o, s)))


def total(per, idx, key):
    """Sum over the steps @idx of the medians of @key; None if any lacks."""
    vals = [step_value(per[i], key) for i in idx]
    return None if not idx or None in vals else sum(vals)


def steps_over(seq, idx, ours, stock, goal):
    """The steps of @idx whose median ratio ours/stock is above @goal."""
    bad = []
    for i in idx:
        for key in ("qmp", "mem"):
            o = step_value(ours[i], key)
            s = step_value(stock[i], key)
            if o is not None and s and o / s > goal:
                # Within the spread: ours' best run meets the goal
                # against stock's worst.
                lo = min(x[key] for x in ours[i] if x[key] is not None)
                hi = max(x[key] for x in stock[i] if x[key] is not None)
                bad.append("%s -> %s %s %.2f%s" % (
                    fmt_size(seq[i]), fmt_size(seq[i + 1]), key, o / s,
                    " (within spread)" if len(ours[i]) > 1 and
                    lo <= goal * hi else ""))
    return bad


def verdict(name, idx, goal, goal_txt, seq, ours, stock):
    """Print the totals of one kind of step; return its verdict line."""
    parts = []
    ok = True
    for key in ("qmp", "mem"):
        o, s = total(ours, idx, key), total(stock, idx, key)
        ratio = o / s if o is not None and s else None
        parts.append("%s ours %s stock %s ratio %s" % (
            key, fmt_t(o, 0), fmt_t(s, 0), fmt_ratio(o, s, 0)))
        if ratio is None or ratio > goal:
            ok = False
        if ratio is None:
            ok = None
    print("  %-7s (%d steps): %s" % (name, len(idx), ";  ".join(parts)))
    # Per step too: the goal is about every step, not only the sum.
    bad = steps_over(seq, idx, ours, stock, goal)
    word = "n/a (missing runs)" if ok is None else \
        ("met" if ok and not bad else "NOT met")
    return "  target %s: %s: %s%s" % (
        name, goal_txt, word,
        (" (steps over: %s)" % ", ".join(bad)) if bad and ok is not None
        else "")


def summary(seq, ours, stock):
    plug = [i for i in range(len(seq) - 1) if seq[i + 1] > seq[i]]
    unplug = [i for i in range(len(seq) - 1) if seq[i + 1] < seq[i]]
    print()
    print("Summary (sum of the step medians, seconds; ratio ours/stock):")
    verdicts = []
    for name, idx, goal, goal_txt in (
            ("plug", plug, 1.0, "no slower than stock (ratio <= 1.00)"),
            ("unplug", unplug, 0.5, "at least 2x faster (ratio <= 0.50)")):
        if idx:
            verdicts.append(verdict(name, idx, goal, goal_txt, seq, ours,
                                    stock))
    print("\n".join(verdicts))
    print("  rates (GiB/s, size of the step / its mem time):")
    for i in plug + unplug:
        gib = abs(seq[i + 1] - seq[i]) / (1024.0 * MiB)
        o, s = step_value(ours[i], "mem"), step_value(stock[i], "mem")
        print("    %s -> %s: ours %s stock %s" % (
            fmt_size(seq[i]), fmt_size(seq[i + 1]),
            "%.2f" % (gib / o) if o else "-",
            "%.2f" % (gib / s) if s else "-"))
    print("  (TCG guest on a shared 2-core host: the runs are noisy, the "
          "short plug steps")
    print("  most (2-3x between runs seen); use --repeat and read the "
          "spread)")
