# SPDX-License-Identifier: GPL-2.0
"""Sizes in bytes: the binary units, parsing "4G" and printing "4 GiB"."""

import re

KiB = 1 << 10
MiB = 1 << 20
GiB = 1 << 30


def parse_size(s):
    """'4G' / '128M' / '2097152' / int -> bytes."""
    if isinstance(s, int):
        return s
    m = re.fullmatch(r"\s*(\d+)\s*([kKmMgGtT]?)i?[bB]?\s*", str(s))
    if not m:
        raise ValueError("bad size %r" % s)
    mult = {"": 1, "k": KiB, "m": MiB, "g": GiB, "t": 1 << 40}
    return int(m.group(1)) * mult[m.group(2).lower()]


def fmt_size(n):
    """Human-readable size: 2097152 -> '2 MiB', 0 -> '0'."""
    if n is None:
        return "-"
    n = int(n)
    if n == 0:
        return "0"
    for unit, div in (("GiB", GiB), ("MiB", MiB), ("KiB", KiB)):
        if n >= div:
            v = n / div
            return ("%d %s" % (v, unit)) if n % div == 0 else \
                   ("%.2f %s" % (v, unit))
