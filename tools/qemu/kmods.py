# SPDX-License-Identifier: GPL-2.0
"""
The guest kernel's modules, as a Debian package ships them under
[usr/]lib/modules/<release>/: where a module is (name.ko, or compressed
as name.ko.xz or name.ko.gz: Debian 13 ships .ko.xz), its bytes
uncompressed (busybox's insmod takes a plain .ko), what it depends on
(its .modinfo), and which modules are built into the kernel
(modules.builtin: Debian 13 builds virtio and virtio_pci in).
"""

import gzip
import lzma
import os
import re

# zstd has no module in Python's standard library.
SUFFIXES = (".ko", ".ko.xz", ".ko.gz")
STOCK = "kernel/drivers/virtio/virtio_mem"


class ModuleError(Exception):
    """A module the guest needs is missing or unreadable."""


def norm(name):
    """Module names treat - and _ alike."""
    return name.replace("-", "_")


def builtin(moddir):
    """The names of the modules built into the kernel (modules.builtin)."""
    try:
        with open(os.path.join(moddir, "modules.builtin")) as f:
            return {norm(os.path.basename(line.strip()).split(".ko")[0])
                    for line in f if line.strip()}
    except OSError:
        return set()


def find_module(moddir, name):
    """The path of module @name (.ko, .ko.xz or .ko.gz) below @moddir."""
    for suffix in SUFFIXES:
        direct = os.path.join(moddir, "kernel/drivers/virtio", name + suffix)
        if os.path.isfile(direct):
            return direct
    want = norm(name)
    for root, _dirs, files in os.walk(moddir):
        for f in files:
            for suffix in SUFFIXES:
                if f.endswith(suffix) and norm(f[:-len(suffix)]) == want:
                    return os.path.join(root, f)
    raise ModuleError("module %s.ko not found below %s" % (name, moddir))


def read_module(path):
    """The bytes of the module at @path, uncompressed."""
    try:
        if path.endswith(".xz"):
            with lzma.open(path) as f:
                return f.read()
        if path.endswith(".gz"):
            with gzip.open(path) as f:
                return f.read()
        with open(path, "rb") as f:
            return f.read()
    except (OSError, lzma.LZMAError) as e:
        raise ModuleError("cannot read %s: %s" % (path, e)) from e


def depends(data):
    """The modules an (uncompressed) module depends on, from .modinfo."""
    m = re.search(rb"(?:^|\0)depends=([^\0]*)\0", data)
    if not m:
        return []
    return [norm(d) for d in m.group(1).decode().split(",") if d]


def stock_module(moddir):
    """The path of the kernel's own virtio_mem module, or None."""
    for suffix in SUFFIXES:
        path = os.path.join(moddir, STOCK + suffix)
        if os.path.isfile(path):
            return path
    return None


def to_load(moddir, names):
    """
    Of @names, those the guest must load (in order): every one not built
    in. A missing module that is not built in is an error.
    """
    inside = builtin(moddir)
    out = []
    for name in names:
        if norm(name) in inside:
            continue
        find_module(moddir, name)       # raises if it is not there
        out.append(name)
    return out
