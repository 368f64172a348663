#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# The KUnit suites on x86, inside the debug guest kernel (KASAN, lockdep,
# DEBUG_VM): the module is built with CONFIG_VIRTIO_MEM_KUNIT_TEST=m,
# which links the suites into virtio_mem.ko, and loaded in a guest. Prints
# one "PASS: kunit-x86/<suite>/<case>", "FAIL: ..." or "SKIP: ...: why"
# line per case.
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
CACHE=$(python3 "$top/tools/qemu/cache.py")
"$top/scripts/setup.sh" source
"$top/scripts/debug-kernel.sh"
# shellcheck source=/dev/null
. "$CACHE/source.env"
# shellcheck source=/dev/null
. "$CACHE/debug.env"

ko=$("$top/scripts/build-copy.sh" "$DEBUG_KDIR" debug-kunit \
	CONFIG_VIRTIO_MEM_KUNIT_TEST=m)

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
rc=0
VMTEST_MIN_BOOT_MEM=4G python3 "$top/tools/qemu/kunit_guest.py" \
	--kernel "$DEBUG_KERNEL" --ko "$ko" \
	--ktap "$tmp/dmesg" || rc=$?
# Suites of a module print no top-level KTAP header of their own (6.1):
# without one, kunit.py calls each suite crashed. Give it the header, with
# the plan of the expected list: a suite that did not run is missing.
n=$(python3 "$top/tools/qemu/expected.py" suites kunit-x86)
{
	echo "[    0.000000] KTAP version 1"
	echo "[    0.000000] 1..$n"
	cat "$tmp/dmesg"
} > "$tmp/ktap"
prc=0
python3 "$LINUX_SRC/tools/testing/kunit/kunit.py" parse --json="$tmp/json" \
	"$tmp/ktap" > "$tmp/parsed" 2>&1 || prc=$?
grep -E 'Testing complete|FAILED|CRASHED' "$tmp/parsed" || true
[ $rc -ne 0 ] && echo "FAIL: kunit-x86/guest: see the messages above"
python3 "$top/scripts/kunit_results.py" "$tmp/json" "$prc" kunit-x86 \
	"$tmp/ktap"
exit $(( rc || prc ))
