# SPDX-License-Identifier: GPL-2.0
"""Failure type and assertion shared by the QEMU test case modules."""


class TestFailure(Exception):
    pass


def check(cond, msg):
    if not cond:
        raise TestFailure(msg)
