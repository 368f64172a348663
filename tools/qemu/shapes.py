# SPDX-License-Identifier: GPL-2.0
"""
The guest shapes several case modules share. A shape used by one module
only is declared there, beside its cases.
"""

from qemu_trace import REQUEST_TRACE, TRACE_USABLE
from registry import shape
from units import GiB, MiB

MOVABLE = "memhp_default_state=online_movable"

# One device, 4 GiB, QEMU's default block size (2 MiB), nothing online.
shape("default", region=4 * GiB)
# 8 GiB of 2 MiB blocks onlined movable as they come, the guest tools in;
# QEMU traces every request (resize_mid_unplug reads them).
shape("movable", region=8 * GiB, block=2 * MiB, append=MOVABLE, tools=True,
      trace=(TRACE_USABLE,) + tuple(REQUEST_TRACE))
# The same with nothing onlining the memory.
shape("offline", region=8 * GiB, block=2 * MiB, tools=True)
