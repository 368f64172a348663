# SPDX-License-Identifier: GPL-2.0
"""
kunit_results.py JSON RC PREFIX [KTAP]

Turn kunit.py's JSON results into one "PASS: <prefix>/<suite>/<case>",
"FAIL: ..." or "SKIP: ...: <reason>" line per test case (parameterised
cases count one each), as scripts/test.sh counts them, and end with
"N passed, N failed, N skipped". RC is kunit.py's exit code. A run with
no case, or a non-zero RC, adds a failed case of its own.

kunit.py's JSON has no skip reasons: they come from the KTAP log, KTAP
(or, without it, the test.log of the JSON's build directory, as
`kunit.py run` leaves it).
"""
import json
import os
import re
import sys

# An optional printk timestamp, then the KTAP line.
STAMP = re.compile(r"^\[[ \d.]+\] ?")
SUBTEST = re.compile(r"^( *)# Subtest: (.*)$")
RESULT = re.compile(r"^( *)(?:not )?ok \d+ (?:- )?(.*?)(?: # SKIP ?(.*))?$")


def skip_reasons(path):
    """{"suite/case[/param]": reason} of the KTAP log at @path."""
    reasons = {}
    stack = []                  # (indent, name) of the open subtests
    try:
        with open(path, errors="replace") as f:
            lines = f.read().splitlines()
    except OSError:
        return reasons
    for raw in lines:
        line = STAMP.sub("", raw.rstrip())
        m = SUBTEST.match(line)
        if m:
            ind = len(m.group(1))
            stack = [s for s in stack if s[0] < ind] + [(ind, m.group(2))]
            continue
        m = RESULT.match(line)
        if not m:
            continue
        ind = len(m.group(1))
        stack = [s for s in stack if s[0] <= ind]
        if m.group(3) is not None:
            path_ = "/".join([s[1] for s in stack] + [m.group(2).strip()])
            reasons[path_] = m.group(3).strip()
    return reasons


def walk(group, prefix, out, reasons):
    for case in group.get("test_cases", []):
        name = prefix + case["name"]
        if case["status"] == "PASS":
            out.append(("PASS", name, ""))
        elif case["status"] == "SKIP":
            path = name.split("/", 1)[1] if "/" in name else name
            out.append(("SKIP", name, reasons.get(path, "no reason given")))
        else:
            out.append(("FAIL", name, ""))
    for sub in group.get("sub_groups", []):
        walk(sub, "%s%s/" % (prefix, sub["name"]), out, reasons)


def main():
    if len(sys.argv) not in (4, 5):
        print(__doc__.strip(), file=sys.stderr)
        return 2
    path, rc, prefix = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    out, ktap = [], sys.argv[4] if len(sys.argv) == 5 else None
    try:
        with open(path) as f:
            text = f.read()
        if text.strip():
            data = json.loads(text)
            if ktap is None and data.get("build_environment"):
                ktap = os.path.join(data["build_environment"], "test.log")
            walk(data, prefix + "/", out,
                 skip_reasons(ktap) if ktap else {})
    except (OSError, ValueError) as e:
        print("%s: no parsable results: %s" % (prefix, e))
    for word, name, reason in out:
        print("%s: %s%s" % (word, name, ": " + reason if reason else ""))
    if not out:
        out.append(("FAIL", prefix + "/run", ""))
        print("FAIL: %s/run: no test case ran" % prefix)
    elif rc:
        out.append(("FAIL", prefix + "/run", ""))
        print("FAIL: %s/run: kunit.py exited with %d" % (prefix, rc))
    print("%d passed, %d failed, %d skipped" % tuple(
        sum(1 for o in out if o[0] == w) for w in ("PASS", "FAIL", "SKIP")))
    return 0


if __name__ == "__main__":
    sys.exit(main())
