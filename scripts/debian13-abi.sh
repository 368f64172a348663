#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# scripts/debian13-abi.sh: build our virtio_mem.ko for Debian 13's kernel
# (the tree scripts/setup.sh debian13 prepares) and check that the image
# would load it, against the image's own virtio_mem.ko(.xz):
#   vermagic     the same vermagic string
#   module-size  the same size of struct module (the size of section
#                .gnu.linkonce.this_module)
#   crcs         the same CRC for every symbol both import (__versions)
# Prints one "PASS: debian13/abi/<check>" or "FAIL: debian13/abi/<check>:
# why" line per check; exits non-zero if one failed. The module is the one
# scripts/qemu-test.sh KERNEL=debian13 boots (build-copy.sh ... debian13).
set -uo pipefail

# shellcheck source=scripts/lib.sh
. "$(dirname "$0")/lib.sh"

failed=0
pass() { echo "PASS: debian13/abi/$1"; }
fail() { echo "FAIL: debian13/abi/$1: $2"; failed=1; }

"$top/scripts/setup.sh" debian13 >&2 ||
	{ fail setup "scripts/setup.sh debian13 failed"; exit 1; }
load_env debian13

tmp=$(mktemp -d "${TMPDIR:-/tmp}/vmem-abi.XXXXXX")
trap 'rm -rf "$tmp"' EXIT

if ! ours=$("$top/scripts/build-copy.sh" "$DEBIAN13_KDIR" debian13 2> "$tmp/build.log"); then
	sed 's/^/    /' "$tmp/build.log" >&2
	fail build "our module does not build against $DEBIAN13_KDIR (log above)"
	exit 1
fi

# The image's own module, decompressed.
stock=
for f in "$DEBIAN13_MODDIR"/kernel/drivers/virtio/virtio_mem.ko{,.xz,.zst,.gz}; do
	[ -f "$f" ] || continue
	case $f in
	*.xz) xz -dc "$f" > "$tmp/stock.ko" ;;
	*.zst) zstd -qdc "$f" > "$tmp/stock.ko" ;;
	*.gz) gzip -dc "$f" > "$tmp/stock.ko" ;;
	*) cp "$f" "$tmp/stock.ko" ;;
	esac && stock=$f
	break
done
[ -n "$stock" ] || { fail stock "no virtio_mem.ko in $DEBIAN13_MODDIR"; exit 1; }
echo "debian13/abi: ours $ours, the image's ${stock#"$DEBIAN13_ROOT"/}" >&2

# vermagic
want=$(modinfo -F vermagic "$tmp/stock.ko")
got=$(modinfo -F vermagic "$ours")
if [ -n "$want" ] && [ "$got" = "$want" ]; then
	pass vermagic
	echo "    $got"
else
	fail vermagic "ours '$got', the image's '$want'"
fi

# struct module, as the section the kernel checks the size of.
this_module() {
	local hex
	hex=$(objdump -h "$1" | awk '$2 == ".gnu.linkonce.this_module" { print $3 }')
	[ -z "$hex" ] || echo $((16#$hex))
}
want=$(this_module "$tmp/stock.ko")
got=$(this_module "$ours")
if [ -n "$want" ] && [ "$got" = "$want" ]; then
	pass module-size
	echo "    struct module: $got bytes"
else
	fail module-size "ours ${got:-none}, the image's ${want:-none} bytes"
fi

# __versions: struct modversion_info { unsigned long crc; char
# name[MODULE_NAME_LEN]; }, 64 bytes each on x86_64. Prints "name crc".
versions() {
	objcopy --dump-section __versions="$2.raw" "$1" "$2.junk" 2>/dev/null || return 1
	python3 - "$2.raw" > "$2" <<'PY'
import struct
import sys

data = open(sys.argv[1], "rb").read()
for off in range(0, len(data) - len(data) % 64, 64):
    crc, = struct.unpack_from("<Q", data, off)
    name = data[off + 8:off + 64].split(b"\0", 1)[0].decode()
    print("%s 0x%08x" % (name, crc))
PY
	sort -o "$2" "$2"
}
if ! versions "$tmp/stock.ko" "$tmp/stock.crc" || ! versions "$ours" "$tmp/ours.crc"; then
	fail crcs "no __versions section (MODVERSIONS off?)"
else
	common=$(join <(cut -d' ' -f1 "$tmp/stock.crc") <(cut -d' ' -f1 "$tmp/ours.crc") | wc -l)
	diff=$(join "$tmp/stock.crc" "$tmp/ours.crc" | awk '$2 != $3 { print $1 " (image " $2 ", ours " $3 ")" }')
	if [ "$common" -gt 0 ] && [ -z "$diff" ]; then
		pass crcs
		echo "    $common symbols both import, the same CRCs" \
			"(ours imports $(wc -l < "$tmp/ours.crc"), the image's $(wc -l < "$tmp/stock.crc"))"
	elif [ "$common" = 0 ]; then
		fail crcs "no symbol both import"
	else
		fail crcs "$(wc -l <<< "$diff") of $common differ: $(tr '\n' ' ' <<< "$diff")"
	fi
fi
exit "$failed"
