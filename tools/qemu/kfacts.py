# SPDX-License-Identifier: GPL-2.0
"""
What a guest kernel has, as far as the QEMU cases care: its config
options (read from the config beside the image: boot/config-<release> of
a Debian package, .config of a build tree), whether a stock virtio_mem
module comes with it, and the tag it runs under (qemu_tests.py --tag).
A case names what it needs (needs=) and what it cannot run on
(skip_on=); KernelFacts answers.
"""

import os

import kmods

# Why a case that needs this is skipped when the kernel lacks it.
MISSING = {
    "stock_module": "no stock virtio_mem module: the kernel has virtio "
                    "built in",
    "CONFIG_CRASH_DUMP": "the kernel has no CONFIG_CRASH_DUMP",
    "CONFIG_SUSPEND": "the kernel has no CONFIG_SUSPEND",
    "CONFIG_NET": "the kernel has no CONFIG_NET: systemd-udevd needs "
                  "netlink",
}


def find_kconfig(kernel):
    """The config of the kernel image @kernel, or None."""
    d, base = os.path.split(os.path.abspath(kernel))
    cands = []
    if base.startswith("vmlinuz-"):         # <root>/boot/vmlinuz-<rel>
        cands.append(os.path.join(d, "config-" + base[len("vmlinuz-"):]))
    up = d
    for _ in range(4):                      # <tree>/arch/x86/boot/bzImage
        cands.append(os.path.join(up, ".config"))
        up = os.path.dirname(up)
    return next((c for c in cands if os.path.isfile(c)), None)


def read_kconfig(path):
    """{CONFIG_X: value} of a kernel config ("y", "m", "30", ...)."""
    res = {}
    with open(path) as f:
        for line in f:
            name, sep, value = line.strip().partition("=")
            if sep and name.startswith("CONFIG_"):
                res[name] = value.strip('"')
    return res


class KernelFacts:
    def __init__(self, kernel, moddir, tag="", kconfig=None):
        self.tag = tag or ""
        self.kconfig_path = kconfig or (find_kconfig(kernel) if kernel
                                        else None)
        self.config = read_kconfig(self.kconfig_path) \
            if self.kconfig_path else None
        self.stock = kmods.stock_module(moddir) if moddir else None

    def has(self, need):
        """True if the kernel has @need (unknown config: assume it has)."""
        if need == "stock_module":
            return self.stock is not None
        if need.startswith("CONFIG_"):
            return self.config is None or \
                self.config.get(need) in ("y", "m")
        raise ValueError("unknown need %r" % need)

    def matches(self, key):
        """skip_on keys: a tag ("debug") or a config option set to y."""
        if key.startswith("CONFIG_"):
            return self.config is not None and self.config.get(key) == "y"
        return key == self.tag

    def skip_reason(self, needs, skip_on):
        """Why a case with these declarations does not run here, or None."""
        for need in needs:
            if not self.has(need):
                return MISSING.get(need, "the kernel has no %s" % need)
        for key, why in skip_on.items():
            if self.matches(key):
                return why
        return None

    def describe(self):
        return "kernel config %s; stock module %s" % (
            self.kconfig_path or "not found (every need assumed met)",
            self.stock or "none")
