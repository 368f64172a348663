# SPDX-License-Identifier: GPL-2.0
"""
kunit_results.py JSON RC PREFIX

Turn kunit.py's JSON results into one "PASS: <prefix>/<suite>/<case>" or
"FAIL: ..." line per test case (parameterised cases count one each), as
scripts/test.sh counts them. RC is kunit.py's exit code. A run with no
case, or a non-zero RC, adds a failed case of its own.
"""
import json
import sys


def walk(group, prefix, out):
    for case in group.get("test_cases", []):
        word = "PASS" if case["status"] in ("PASS", "SKIP") else "FAIL"
        out.append("%s: %s%s" % (word, prefix, case["name"]))
    for sub in group.get("sub_groups", []):
        walk(sub, "%s%s/" % (prefix, sub["name"]), out)


def main():
    path, rc, prefix = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    out = []
    try:
        with open(path) as f:
            text = f.read()
        if text.strip():
            walk(json.loads(text), prefix + "/", out)
    except (OSError, ValueError) as e:
        print("%s: no parsable results: %s" % (prefix, e))
    print("\n".join(out))
    if not out:
        print("FAIL: %s/run: no test case ran" % prefix)
    elif rc:
        print("FAIL: %s/run: kunit.py exited with %d" % (prefix, rc))
    return 0


if __name__ == "__main__":
    sys.exit(main())
