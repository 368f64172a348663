# SPDX-License-Identifier: GPL-2.0
"""
The expected list of `make test` (scripts/expected-cases.txt): every case
of every stage, in one place.

    expected.py suites STAGE    the number of KUnit suites STAGE runs
                                (scripts/kunit-guest.sh's KTAP plan)
    expected.py names STAGE     the names STAGE must report, prefixed
    expected.py tally LOGDIR    check each <stage>.log of LOGDIR against
                                the list; print the failed and skipped
                                cases and the closing line
                                "N passed, N failed, N skipped"

A case's verdict is FAIL if any of its lines says FAIL (a case may print
PASS, then FAIL when its guest dies after it), else PASS, else SKIP. A
listed case a stage did not report, and a reported one not listed, fail.
Exit code of tally: 0 if nothing failed and something passed.
"""

import os
import re
import sys

LIST = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..",
                    "scripts", "expected-cases.txt")
RESULT = re.compile(r"^(PASS|FAIL|SKIP): (.*)$")
TIMING = re.compile(r" \(\d+(?:\.\d+)? s(?:, cpu \d+(?:\.\d+)? s)?\)$")


class ListError(Exception):
    pass


def load(path=LIST):
    """({stage: prefix} in file order, [(stage, name)] in file order)."""
    stages, cases = {}, []
    with open(path) as f:
        for n, raw in enumerate(f, 1):
            line = raw.split("#", 1)[0].strip()
            if not line:
                continue
            words = line.split(None, 1)
            if words[0] == "stage":
                parts = words[1].split() if len(words) > 1 else []
                if len(parts) not in (1, 2):
                    raise ListError("%s:%d: stage <name> [<prefix>]" %
                                    (path, n))
                stages[parts[0]] = parts[1] if len(parts) == 2 else ""
                continue
            if len(words) != 2:
                raise ListError("%s:%d: <stages> <name>" % (path, n))
            for st in words[0].split(","):
                if st not in stages:
                    raise ListError("%s:%d: unknown stage %r" % (path, n, st))
                cases.append((st, words[1].strip()))
    return stages, cases


def expected(stage, stages, cases):
    """The names @stage must report, with its prefix."""
    return [stages[stage] + name for st, name in cases if st == stage]


def parse_log(path):
    """{name: (verdict, reason)} of a stage log; FAIL wins over PASS."""
    res = {}
    rank = {"SKIP": 0, "PASS": 1, "FAIL": 2}
    with open(path, errors="replace") as f:
        for line in f:
            m = RESULT.match(line.rstrip("\n"))
            if not m:
                continue
            word, rest = m.groups()
            if word == "PASS":
                name, reason = TIMING.sub("", rest), ""
            else:
                name, _, reason = rest.partition(": ")
            old = res.get(name)
            if old is None or rank[word] > rank[old[0]]:
                res[name] = (word, reason)
    return res


def matches(entry, name):
    if entry.endswith("/*"):
        return name.startswith(entry[:-1]) and len(name) > len(entry) - 1
    return name == entry


def check_stage(stage, want, got):
    """
    Verdicts of one stage: [(name, verdict, reason)] for every expected
    case (missing ones FAIL) and every reported one (unlisted ones FAIL).
    """
    out, seen = [], set()
    for entry in want:
        hits = [n for n in got if matches(entry, n)]
        if not hits:
            out.append((entry, "FAIL", "stage %s did not report it" % stage))
        for n in hits:
            if n not in seen:
                seen.add(n)
                out.append((n,) + got[n])
    for n, (verdict, reason) in got.items():
        if n in seen:
            continue
        if verdict == "FAIL":
            out.append((n, verdict, reason))
        else:
            out.append((n, "FAIL", "%s, but not in %s" %
                        (verdict, os.path.relpath(LIST))))
    return out


def tally(logdir):
    stages, cases = load()
    logs = {f[:-4] for f in os.listdir(logdir) if f.endswith(".log")}
    results = []
    for stage in list(stages) + sorted(logs - set(stages)):
        path = os.path.join(logdir, stage + ".log")
        got = parse_log(path) if stage in logs else {}
        if stage not in stages:
            print("stage %s is not in %s" % (stage, os.path.relpath(LIST)))
        if stage not in logs:
            print("stage %s did not run" % stage)
        results += check_stage(stage, expected(stage, stages, cases), got)
    n = {v: sum(1 for r in results if r[1] == v)
         for v in ("PASS", "FAIL", "SKIP")}
    skipped = [r for r in results if r[1] == "SKIP"]
    if skipped:
        print("skipped cases:")
        for name, _v, reason in skipped:
            print("  %s: %s" % (name, reason or "no reason given"))
    failed = [r for r in results if r[1] == "FAIL"]
    if failed:
        print("failed cases (logs in %s):" % logdir)
        for name, _v, reason in failed:
            print("  %s%s" % (name, ": " + reason if reason else ""))
    print("%d passed, %d failed, %d skipped" % (n["PASS"], n["FAIL"],
                                                n["SKIP"]))
    return 0 if n["PASS"] and not n["FAIL"] else 1


def main(argv):
    if len(argv) != 3 or argv[1] not in ("suites", "names", "tally"):
        print(__doc__.strip(), file=sys.stderr)
        return 2
    if argv[1] == "tally":
        return tally(argv[2])
    stages, cases = load()
    if argv[2] not in stages:
        print("no stage %r in %s" % (argv[2], LIST), file=sys.stderr)
        return 2
    names = [name for st, name in cases if st == argv[2]]
    if argv[1] == "suites":
        print(len({n.split("/", 1)[0] for n in names}))
    else:
        print("\n".join(stages[argv[2]] + n for n in names))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
