# SPDX-License-Identifier: GPL-2.0
"""
The bench's plots: per workload, the time of each step, stock against
ours, the median as a bar and the spread (min-max over the runs) as an
error bar, drawn by gnuplot as PNG and SVG.

    python3 tools/qemu/bench_plot.py --from DIR/runs.json [--out DIR]
        redraw the plots of a saved bench run;
    python3 tools/qemu/bench_plot.py --selftest
        draw made-up runs in a temporary directory and check the files
        (make test, stage bench-plot).

bench.py calls save() and plot() itself (its --out directory).
"""

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bench_stats import collect, spread, step_value  # noqa: E402
from units import fmt_size  # noqa: E402

# Which time a plot shows: until the guest's MemTotal followed (the time a
# user sees; the summary's rates use it too).
KEY = "mem"


def save(runs, seq, args, outdir, tag):
    """
    Write the runs and what they ran as @outdir/runs.json; returns that
    description (plot_all()'s @meta).
    """
    path = os.path.join(outdir, "runs.json")
    meta = {"tag": tag, "sequence": seq, "repeat": args.repeat,
            "region": args.region, "block_size": args.block_size,
            "boot_mem": args.boot_mem, "append": args.append,
            "kernel": os.path.basename(args.kernel or "")}
    with open(path + ".tmp", "w") as f:
        json.dump({"meta": meta, "runs": runs}, f, indent=1, default=str)
    os.replace(path + ".tmp", path)
    return meta


def stats(steps):
    """(median, min, max) of KEY over the runs of one step, or None."""
    mid = step_value(steps, KEY)
    if mid is None:
        return None
    return (mid,) + (spread(steps, KEY) or (mid, mid))


def data_rows(runs, seq):
    """Per step: (label, ours stats, stock stats); '-' for a missing one."""
    nsteps = len(seq) - 1
    ours = collect(runs, "ours", nsteps)
    stock = collect(runs, "stock", nsteps)
    rows = []
    for i in range(nsteps):
        label = "%s>%s" % (fmt_size(seq[i]), fmt_size(seq[i + 1]))
        rows.append((label.replace(" ", ""), stats(ours[i]),
                     stats(stock[i])))
    return rows


def write_dat(path, rows):
    with open(path, "w") as f:
        f.write("# step ours_median ours_min ours_max stock_median "
                "stock_min stock_max (seconds until MemTotal followed)\n")
        for label, o, s in rows:
            cells = []
            for st in (o, s):
                cells += ["%.3f" % v for v in st] if st else ["NaN"] * 3
            f.write("%s %s\n" % (label, " ".join(cells)))


GNUPLOT = """\
set datafile missing "NaN"
set style data histogram
set style histogram errorbars gap 2 lw 1
set style fill solid 0.6 border -1
set boxwidth 0.9
set logscale y
set yrange [0.01:*]
set grid ytics
set ylabel "seconds until MemTotal followed (log)"
set xlabel "requested size, step by step"
set title "%(title)s" noenhanced
set key top left
set xtics noenhanced
set terminal %(term)s size 900,480
set output "%(out)s"
plot "%(dat)s" using 2:3:4:xtic(1) title "ours" linecolor rgb "#1f77b4", \\
     "" using 5:6:7 title "stock" linecolor rgb "#d62728"
"""


def plot(runs, seq, outdir, workload, title):
    """
    Draw @workload's runs as @outdir/<workload>.png and .svg; returns the
    paths. Raises RuntimeError when gnuplot is missing or fails.
    """
    gp = shutil.which("gnuplot")
    if not gp:
        raise RuntimeError("gnuplot is not installed (apt-get install "
                           "gnuplot-nox; scripts/setup.sh installs it)")
    base = os.path.join(outdir, workload)
    rows = data_rows(runs, seq)
    if not any(o or s for _, o, s in rows):
        raise RuntimeError("%s: no step has a time to plot" % workload)
    write_dat(base + ".dat", rows)
    out = []
    for term, ext in (("pngcairo", "png"), ("svg", "svg")):
        script = GNUPLOT % {"title": title, "term": term,
                            "out": base + "." + ext,
                            "dat": base + ".dat"}
        with open(base + "." + ext + ".gp", "w") as f:
            f.write(script)
        r = subprocess.run([gp, base + "." + ext + ".gp"],
                           capture_output=True, text=True)
        if r.returncode != 0 or not os.path.getsize(base + "." + ext):
            raise RuntimeError("gnuplot %s: %s" % (ext, r.stderr.strip()))
        out.append(base + "." + ext)
    return out


def title_of(meta, workload):
    return "virtio-mem resize, workload %s: %s (%s, %d runs each)" % (
        workload, " > ".join(fmt_size(s) for s in meta["sequence"]),
        meta.get("tag") or meta.get("kernel") or "?", meta["repeat"])


def plot_all(runs, meta, outdir):
    """Every workload of @runs; returns the files written."""
    files = []
    for w in sorted({r["workload"] for r in runs}):
        files += plot([r for r in runs if r["workload"] == w],
                      meta["sequence"], outdir, w, title_of(meta, w))
    return files


def fake_runs():
    """Two drivers, two workloads, three runs: made-up step times."""
    runs = []
    for w, scale in (("idle", 1.0), ("fragmented", 4.0)):
        for m, speed in (("ours", 0.3), ("stock", 1.0)):
            for rep in range(3):
                steps = []
                for i, t in enumerate((0.5, 1.5, 2.5)):
                    v = t * scale * speed * (1 + 0.1 * rep)
                    steps.append({"qmp": v, "mem": v + 0.01,
                                  "prev": i, "target": i + 1})
                runs.append({"module": m, "workload": w, "rep": rep,
                             "steps": steps})
    meta = {"tag": "selftest", "sequence": [0, 1 << 30, 4 << 30, 0],
            "repeat": 3}
    return runs, meta


def selftest():
    """Draw fake runs; check each file. Prints PASS/FAIL lines."""
    ok = True
    tmp = tempfile.mkdtemp(prefix="vmem-plot-")
    try:
        runs, meta = fake_runs()
        try:
            files = plot_all(runs, meta, tmp)
        except RuntimeError as e:
            print("FAIL: bench-plot/draw: %s" % e)
            return 1
        print("PASS: bench-plot/draw")
        want = ["%s.%s" % (w, e) for w in ("fragmented", "idle")
                for e in ("png", "svg")]
        got = sorted(os.path.basename(f) for f in files)
        checks = [("files", got == sorted(want), "%s, expected %s" %
                   (got, sorted(want)))]
        with open(os.path.join(tmp, "idle.png"), "rb") as f:
            checks.append(("png", f.read(8) == b"\x89PNG\r\n\x1a\n",
                           "idle.png is not a PNG"))
        with open(os.path.join(tmp, "idle.svg")) as f:
            svg = f.read()
        checks.append(("svg", "<svg" in svg and "ours" in svg and
                       "stock" in svg, "idle.svg lacks <svg or a series"))
        # The data behind the bars: the medians and spreads of the runs.
        with open(os.path.join(tmp, "fragmented.dat")) as f:
            rows = [ln.split() for ln in f if not ln.startswith("#")]
        first = [float(x) for x in rows[0][1:]]
        want0 = [0.5 * 4 * 0.3 * 1.1 + 0.01, 0.5 * 4 * 0.3 + 0.01,
                 0.5 * 4 * 0.3 * 1.2 + 0.01, 0.5 * 4 * 1.1 + 0.01,
                 0.5 * 4 + 0.01, 0.5 * 4 * 1.2 + 0.01]
        checks.append(("data", len(rows) == 3 and all(
            abs(a - b) < 0.002 for a, b in zip(first, want0)),
            "fragmented.dat row 1 %s, expected %s" %
            (rows[0] if rows else None, ["%.3f" % v for v in want0])))
        for name, good, why in checks:
            print(("PASS: bench-plot/%s" % name) if good else
                  ("FAIL: bench-plot/%s: %s" % (name, why)))
            ok &= good
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return 0 if ok else 1


def main():
    p = argparse.ArgumentParser(description=__doc__.strip().splitlines()[0])
    g = p.add_mutually_exclusive_group(required=True)
    g.add_argument("--from", dest="src", help="a bench run's runs.json")
    g.add_argument("--selftest", action="store_true")
    p.add_argument("--out", help="where to draw (default: beside runs.json)")
    args = p.parse_args()
    if args.selftest:
        return selftest()
    with open(args.src) as f:
        saved = json.load(f)
    out = args.out or os.path.dirname(os.path.abspath(args.src))
    os.makedirs(out, exist_ok=True)
    for path in plot_all(saved["runs"], saved["meta"], out):
        print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
