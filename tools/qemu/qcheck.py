# SPDX-License-Identifier: GPL-2.0
"""Failure type, assertion and the failure summary shared by the QEMU test
case modules."""


class TestFailure(Exception):
    pass


def check(cond, msg):
    if not cond:
        raise TestFailure(msg)


def first_line(e):
    """An exception's first line, or its type's name if it has no text."""
    s = str(e).strip() or type(e).__name__
    return s.splitlines()[0]
