# SPDX-License-Identifier: GPL-2.0
"""
The guest kernel's modules, as a Debian package ships them under
lib/modules/<release>/: where a module is.
"""

import os


class ModuleError(Exception):
    """A module the guest needs is missing."""


def find_module(moddir, name):
    """Locate <name>.ko below the guest module directory."""
    direct = os.path.join(moddir, "kernel/drivers/virtio", name + ".ko")
    if os.path.isfile(direct):
        return direct
    want = name.replace("-", "_") + ".ko"
    for root, _dirs, files in os.walk(moddir):
        for f in files:
            if f.replace("-", "_") == want:
                return os.path.join(root, f)
    raise ModuleError("module %s.ko not found below %s" % (name, moddir))


STOCK = "kernel/drivers/virtio/virtio_mem"


def stock_module(moddir):
    """The path of the kernel's own virtio_mem module, or None."""
    path = os.path.join(moddir, STOCK + ".ko")
    return path if os.path.isfile(path) else None
