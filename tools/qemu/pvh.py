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
    python3 tools/qemu/pvh.py             make test's stage pvh: selftest()
"""

import gzip
import hashlib
import lzma
import os
import struct
import subprocess
import sys
import tempfile

import cache
from qcheck import selftest_exit

# The PVH entry point's note (include/xen/interface/elfnote.h).
XEN_ELFNOTE_PHYS32_ENTRY = 18


def payload(data):
    """
    The compressed kernel inside bzImage bytes @data, or None. Boot
    protocol (Documentation/x86/boot.rst): setup_sects at 0x1f1 (0 means
    4), the "HdrS" magic at 0x202, the version at 0x206, payload_offset
    and payload_length at 0x248 (protocol 2.08 and later), the offset
    from the protected-mode code after the setup sectors.
    """
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
    """True if ELF64 bytes @elf carry XEN_ELFNOTE_PHYS32_ENTRY; False for
    anything else, a truncated or malformed ELF too."""
    try:
        return find_pvh_note(elf)
    except struct.error:
        return False


def find_pvh_note(elf):
    """has_pvh_note() but raising struct.error past the end of @elf."""
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


def fake_elf(note_type):
    """A minimal ELF64 with one PT_NOTE holding a "Xen" note."""
    note = struct.pack("<III", 4, 4, note_type) + b"Xen\0" + b"\0" * 4
    ehdr = b"\x7fELF\x02\x01\x01" + b"\0" * 9
    ehdr += struct.pack("<HHIQQQIHHHHHH", 2, 62, 1, 0, 64, 0, 0, 64, 56, 1,
                        0, 0, 0)
    phdr = struct.pack("<IIQQQQQQ", 4, 4, 64 + 56, 0, 0, len(note),
                       len(note), 4)
    return ehdr + phdr + note


def fake_bzimage(blob):
    """bzImage bytes (protocol 2.15, one setup sector) around @blob."""
    setup = bytearray(1024)
    setup[0x1f1] = 1
    setup[0x202:0x206] = b"HdrS"
    struct.pack_into("<H", setup, 0x206, 0x20f)
    struct.pack_into("<II", setup, 0x248, 0, len(blob))
    return bytes(setup) + blob + b"\0" * 4


def selftest():
    """image() of made-up bzImages: what it boots, and what it keeps."""
    bad = []
    old = os.environ.get("VMEM_CACHE")
    with tempfile.TemporaryDirectory() as d:
        os.environ["VMEM_CACHE"] = d
        try:
            for what, blob, want in (
                    ("gzip, PVH note", gzip.compress(fake_elf(18)), True),
                    ("xz, PVH note", lzma.compress(fake_elf(18)), True),
                    ("gzip, another Xen note", gzip.compress(fake_elf(17)),
                     False),
                    ("not compressed", fake_elf(18), False),
                    ("gzip, ELF cut in its notes",
                     gzip.compress(fake_elf(18)[:64 + 56 + 8]), False),
                    # As Kbuild makes it: the frame, then the size.
                    ("zstd, PVH note", subprocess.run(
                        ["zstd", "-qc"], input=fake_elf(18),
                        stdout=subprocess.PIPE, check=True).stdout +
                     struct.pack("<I", len(fake_elf(18))), True)):
                kernel = os.path.join(d, "bzImage")
                with open(kernel, "wb") as f:
                    f.write(fake_bzimage(blob))
                got = image(kernel)
                if want and (got == kernel or
                             open(got, "rb").read() != fake_elf(18)):
                    bad.append("%s: booted %s" % (what, got))
                if not want and got != kernel:
                    bad.append("%s: booted %s, not the bzImage" % (what, got))
                if got != image(kernel):
                    bad.append("%s: another image the second time" % what)
        finally:
            if old is None:
                del os.environ["VMEM_CACHE"]
            else:
                os.environ["VMEM_CACHE"] = old
    return bad


if __name__ == "__main__":
    if len(sys.argv) > 1:
        print(image(sys.argv[1]))
        raise SystemExit(0)
    selftest_exit("pvh/image", selftest())
