# SPDX-License-Identifier: GPL-2.0
"""
The project cache (scripts/setup.sh fills it): computed here, once, for
every Python tool, and for shell scripts through the command line.

    python3 tools/qemu/cache.py              print the cache directory
    python3 tools/qemu/cache.py ENV VAR      print VAR of ENV.env there
                                             (e.g. guest GUEST_KERNEL)

The directory is $VMEM_CACHE, else ${XDG_CACHE_HOME:-~/.cache}/
virtio-mem-driver, as the Makefile exports it.
"""

import os
import sys


def cache_dir():
    """The project cache directory (it may not exist yet)."""
    if os.environ.get("VMEM_CACHE"):
        return os.environ["VMEM_CACHE"]
    base = os.environ.get("XDG_CACHE_HOME") or \
        os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.join(base, "virtio-mem-driver")


def read_env(name):
    """{VAR: value} of <cache>/<name>.env ({} if it is not there)."""
    res = {}
    try:
        with open(os.path.join(cache_dir(), name + ".env")) as f:
            for line in f:
                key, sep, value = line.strip().partition("=")
                if sep and key and not key.startswith("#"):
                    res[key] = value.strip("'\"")
    except OSError:
        pass
    return res


def main(argv):
    if len(argv) == 1:
        print(cache_dir())
        return 0
    if len(argv) == 3:
        value = read_env(argv[1]).get(argv[2])
        if value is None:
            print("%s not in %s.env of %s" % (argv[2], argv[1], cache_dir()),
                  file=sys.stderr)
            return 1
        print(value)
        return 0
    print(__doc__.strip(), file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
