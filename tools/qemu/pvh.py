# SPDX-License-Identifier: GPL-2.0
"""
The guest kernel as QEMU boots it fastest: a bzImage's own uncompressed
vmlinux, booted through its PVH entry point, when it has one.

Under TCG the guest decompresses a bzImage itself, slowly: 3.4 s of the
6 s a Debian 12 guest (xz) needs to boot here. QEMU boots an ELF vmlinux
that carries the PVH entry note (CONFIG_PVH; Debian 12 and 13 have it)
directly, with the same command line, initramfs and ACPI tables. The
vmlinux is the bzImage's payload, decompressed once and kept in the
project cache. A kernel without the note, a payload compressed in a way
this does not read, or VMTEST_PVH=0 boots the bzImage as it is.

    python3 tools/qemu/pvh.py BZIMAGE     print the image QEMU would boot
"""

import gzip
import hashlib
import lzma
import os
import struct
import subprocess
import sys

import cache

# Boot protocol (Documentation/x86/boot.rst): setup_sects at 0x1f1, the
# "HdrS" magic at 0x202, the version at 0x206, payload_offset and
# payload_length at 0x248 (protocol 2.08 and later).
XEN_ELFNOTE_PHYS32_ENTRY = 18


def payload(data):
    """The compressed kernel inside bzImage bytes @data, or None."""
    if len(data) < 0x250 or data[0x202:0x206] != b"HdrS":
        return None
    if struct.unpack_from("<H", data, 0x206)[0] < 0x208:
        return None
    sects = data[0x1f1] or 4
    off, length = struct.unpack_from("<II", data, 0x248)
    start = (sects + 1) * 512 + off
    return data[start:start + length]


def decompress(blob):
    """@blob decompressed by its magic (gzip, xz, zstd), or None."""
    try:
        if blob[:2] == b"\x1f\x8b":
            return gzip.decompress(blob)
        if blob[:6] == b"\xfd7zXZ\x00":
            # The kernel's xz stream may be followed by padding.
            return lzma.LZMADecompressor(lzma.FORMAT_XZ).decompress(blob)
        if blob[:4] == b"\x28\xb5\x2f\xfd":
            # Kbuild appends the uncompressed size (4 bytes), which the
            # zstd tool takes for the start of another frame.
            return subprocess.run(["zstd", "-dcq"], input=blob[:-4],
                                  stdout=subprocess.PIPE, check=True).stdout
    except (OSError, EOFError, lzma.LZMAError, subprocess.SubprocessError):
        return None
    return None


def has_pvh_note(elf):
    """True if ELF64 bytes @elf carry XEN_ELFNOTE_PHYS32_ENTRY."""
    if elf[:4] != b"\x7fELF" or elf[4] != 2:
        return False
    phoff, = struct.unpack_from("<Q", elf, 0x20)
    phentsize, phnum = struct.unpack_from("<HH", elf, 0x36)
    for i in range(phnum):
        p_type, _flags, p_off, _va, _pa, p_filesz = struct.unpack_from(
            "<IIQQQQ", elf, phoff + i * phentsize)
        if p_type != 4:                 # PT_NOTE
            continue
        pos, end = p_off, p_off + p_filesz
        while pos + 12 <= end:
            namesz, descsz, ntype = struct.unpack_from("<III", elf, pos)
            name = elf[pos + 12:pos + 12 + namesz].rstrip(b"\0")
            if name == b"Xen" and ntype == XEN_ELFNOTE_PHYS32_ENTRY:
                return True
            pos += 12 + (namesz + 3) // 4 * 4 + (descsz + 3) // 4 * 4
    return False


def image(kernel):
    """The file QEMU's -kernel should get for bzImage @kernel."""
    if os.environ.get("VMTEST_PVH", "1") == "0":
        return kernel
    with open(kernel, "rb") as f:
        data = f.read()
    key = hashlib.sha256(data).hexdigest()[:16]
    d = os.path.join(cache.cache_dir(), "pvh")
    out = os.path.join(d, key + ".vmlinux")
    no = os.path.join(d, key + ".none")     # known not to boot so
    if os.path.exists(out):
        return out
    if os.path.exists(no):
        return kernel
    os.makedirs(d, exist_ok=True)
    blob = payload(data)
    elf = decompress(blob) if blob else None
    if not elf or not has_pvh_note(elf):
        open(no, "w").close()
        return kernel
    tmp = "%s.%d" % (out, os.getpid())  # several guests boot at once
    with open(tmp, "wb") as f:
        f.write(elf)
    os.replace(tmp, out)
    return out


if __name__ == "__main__":
    print(image(sys.argv[1]))
