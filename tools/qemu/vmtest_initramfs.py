# SPDX-License-Identifier: GPL-2.0
"""
Initramfs builder of the vmtest harness (see vmtest.py).

The image holds a static busybox, an /init shell script, the guest kernel's
virtio PCI transport modules (those not built in: modules.builtin) and
both virtio_mem.ko builds (ours and the guest kernel's stock one) at fixed
paths, so that tests can swap them with rmmod/insmod at run time. Modules
shipped compressed (.ko.xz, .ko.gz) go in uncompressed (kmods.py).  The newc cpio archive is written by hand, which
lets an unprivileged user create the /dev/console node the kernel needs.
"""

import gzip
import os
import stat

import kmods
from kmods import ModuleError as InitramfsError


# Boot modules, in dependency order (virtio depends on virtio_ring, and
# virtio_pci on all the others).
BASE_MODULES = ["virtio_ring", "virtio", "virtio_pci_modern_dev",
                "virtio_pci_legacy_dev", "virtio_pci"]

# Where the module under test lives inside the initramfs.
GUEST_KO = {
    "ours": "/modules/ours/virtio_mem.ko",
    "stock": "/modules/stock/virtio_mem.ko",
}


class CpioWriter:
    """Minimal "newc" cpio archive writer (no root needed for device nodes)."""

    def __init__(self):
        self.chunks = []
        self.ino = 1000
        self.dirs = set()

    def _entry(self, name, mode, data=b"", rdev=(0, 0), nlink=1):
        name = name.lstrip("/")
        namez = name.encode() + b"\0"
        self.ino += 1
        hdr = "070701" + "".join("%08x" % v for v in (
            self.ino, mode, 0, 0, nlink, 0, len(data), 0, 0,
            rdev[0], rdev[1], len(namez), 0))
        blob = hdr.encode() + namez
        blob += b"\0" * (-len(blob) % 4)
        blob += data + b"\0" * (-len(data) % 4)
        self.chunks.append(blob)

    def mkdir(self, path):
        path = path.strip("/")
        parts = path.split("/")
        for i in range(1, len(parts) + 1):
            p = "/".join(parts[:i])
            if p and p not in self.dirs:
                self.dirs.add(p)
                self._entry(p, stat.S_IFDIR | 0o755, nlink=2)

    def file(self, path, data, mode=0o644):
        self.mkdir(os.path.dirname(path))
        self._entry(path, stat.S_IFREG | mode, data)

    def symlink(self, path, target):
        self.mkdir(os.path.dirname(path))
        self._entry(path, stat.S_IFLNK | 0o777, target.encode())

    def chardev(self, path, major, minor, mode=0o600):
        self.mkdir(os.path.dirname(path))
        self._entry(path, stat.S_IFCHR | mode, rdev=(major, minor))

    def finish(self):
        self._entry("TRAILER!!!", 0)
        data = b"".join(self.chunks)
        return data + b"\0" * (-len(data) % 512)


INIT_SCRIPT = r"""#!/bin/busybox sh
# vmtest guest init: mount, load modules, then serve commands on ttyS1.
/bin/busybox mkdir -p /proc /sys /dev /tmp /run /sbin /usr/bin /usr/sbin
/bin/busybox --install -s
export PATH=/sbin:/bin:/usr/sbin:/usr/bin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev 2>/dev/null
mount -t tmpfs tmpfs /run
mount -t debugfs debugfs /sys/kernel/debug 2>/dev/null
. /etc/vmtest.conf

: > /run/vmtest-insmod
load() {
	out=$(insmod "$@" 2>&1)
	rc=$?
	echo "$rc $1 $out" >> /run/vmtest-insmod
	echo "vmtest: insmod $1 -> $rc $out"
}
for m in $BASE_MODULES; do load /modules/base/$m.ko; done
for m in $EXTRA_MODULES; do load /modules/extra/$m.ko; done
[ -n "$TEST_KO" ] && load $TEST_KO

[ -x /etc/vmtest.rc ] && /etc/vmtest.rc

serve() {
	stty -F /dev/ttyS1 raw -echo -echoe -echok -echoctl -echoke
	exec 0</dev/ttyS1 1>/dev/ttyS1 2>&1
	echo VMTEST-READY
	# Protocol: host sends "<token> <base64 script>\n"; we answer with
	# "<token> BEGIN\n<output>\n<token> END <rc>\n".
	# "<token> <base64 script> [<name>]" runs the script (and keeps it as
	# /run/vmtc/<name>); "<token> @<name>" runs a kept one. Under TCG each
	# byte read and each fork costs: few of both.
	cd /
	mkdir -p /run/vmtc
	while read -r tok enc name; do
		[ -n "$tok" ] || continue
		case $enc in
		@*)	cmd=/run/vmtc/${enc#@} ;;
		*)	cmd=/run/vmtest.cmd
			base64 -d > $cmd 2>/dev/null <<-EOF
			$enc
			EOF
			if [ -n "$name" ]; then
				cp $cmd /run/vmtc/new &&
					mv /run/vmtc/new /run/vmtc/$name
			fi
			;;
		esac
		sh $cmd </dev/null >/run/vmtest.out 2>&1
		rc=$?
		echo "$tok BEGIN"
		cat /run/vmtest.out
		echo
		echo "$tok END $rc"
	done
}
echo "vmtest: serving commands on ttyS1"
# The command loop runs in a child of init, not in init itself: processes
# a command leaves running in the background are reparented to init when
# it ends, and their exit (SIGCHLD to init) would cut short the read of
# whatever command line is arriving then, losing it.
(while true; do serve; sleep 1; done) &
while true; do wait; sleep 1; done
"""


def add_modules(cpio, cfg):
    """
    Put the guest's modules into @cpio: the transport modules the kernel
    does not have built in, the stock virtio_mem and what it needs, ours.
    Returns (base modules, extra modules) in the order /init loads them.
    """
    # The transport modules the kernel does not have built in (none with
    # no module directory: the debug kernel), uncompressed.
    base = kmods.to_load(cfg.moddir, BASE_MODULES) if cfg.moddir else []
    extra = list(cfg.extra_modules)
    # Keep both drivers in the image so tests can swap them at run time.
    stock = kmods.stock_module(cfg.moddir) if cfg.moddir else None
    if stock:
        data = kmods.read_module(stock)
        cpio.file(GUEST_KO["stock"], data)
        # What it needs that is neither built in nor loaded anyway.
        for dep in kmods.to_load(cfg.moddir, kmods.depends(data)):
            if dep not in base and dep not in extra:
                extra.insert(0, dep)
    elif cfg.module == "stock":
        raise InitramfsError("stock module not found below %s" %
                             (cfg.moddir or "(no module directory)"))
    for m in base:
        cpio.file("modules/base/%s.ko" % m,
                  kmods.read_module(kmods.find_module(cfg.moddir, m)))
    for m in extra:
        cpio.file("modules/extra/%s.ko" % m,
                  kmods.read_module(kmods.find_module(cfg.moddir, m)))
    if cfg.ko:
        with open(cfg.ko, "rb") as f:
            cpio.file(GUEST_KO["ours"], f.read())
    elif cfg.module == "ours":
        raise InitramfsError("module=ours needs the path of our virtio_mem.ko")
    return base, extra


def build_initramfs(cfg, path):
    """
    Write a gzip'ed newc initramfs for @cfg (a vmtest.VMConfig) to @path.
    /init loads BASE_MODULES, cfg.extra_modules and the module selected by
    cfg.module, runs cfg.init_cmds, then serves the command channel.
    """
    cpio = CpioWriter()
    for d in ("dev", "proc", "sys", "tmp", "run", "bin", "sbin", "usr/bin",
              "usr/sbin", "etc", "modules/base", "modules/extra"):
        cpio.mkdir(d)
    # The kernel opens /dev/console before devtmpfs is mounted.
    cpio.chardev("dev/console", 5, 1)
    cpio.chardev("dev/null", 1, 3, 0o666)
    with open(cfg.busybox, "rb") as f:
        cpio.file("bin/busybox", f.read(), 0o755)
    cpio.symlink("bin/sh", "busybox")
    cpio.file("init", INIT_SCRIPT.encode(), 0o755)

    base, extra = add_modules(cpio, cfg)
    if cfg.module not in ("ours", "stock", "none"):
        raise InitramfsError("module must be ours, stock or none")
    conf = "BASE_MODULES='%s'\nEXTRA_MODULES='%s'\nTEST_KO='%s'\n" % (
        " ".join(base), " ".join(extra),
        GUEST_KO.get(cfg.module, ""))
    cpio.file("etc/vmtest.conf", conf.encode())
    if cfg.init_cmds:
        rc = "#!/bin/sh\n" + "\n".join(cfg.init_cmds) + "\n"
        cpio.file("etc/vmtest.rc", rc.encode(), 0o755)

    for gpath, src in cfg.extra_files.items():
        if isinstance(src, (bytes, bytearray)):
            cpio.file(gpath, bytes(src), 0o755)
        else:
            with open(src, "rb") as f:
                mode = os.stat(src).st_mode & 0o777
                cpio.file(gpath, f.read(), mode)

    with open(path, "wb") as f:
        f.write(gzip.compress(cpio.finish(), compresslevel=6))
    return path
