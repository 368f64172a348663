# SPDX-License-Identifier: GPL-2.0
"""Failure type, assertion and the failure summary shared by the QEMU test
case modules, and how a host self-test reports."""


class TestFailure(Exception):
    pass


def check(cond, msg):
    if not cond:
        raise TestFailure(msg)


def first_line(e):
    """An exception's first line, or its type's name if it has no text."""
    s = str(e).strip() or type(e).__name__
    return s.splitlines()[0]


def selftest_exit(case, failed):
    """A host self-test's verdict as make test reads it: one "FAIL: @case:
    ..." line per item of @failed, or "PASS: @case"; exits 1 or 0."""
    for d in failed:
        print("FAIL: %s: %s" % (case, d))
    if not failed:
        print("PASS: %s" % case)
    raise SystemExit(1 if failed else 0)
