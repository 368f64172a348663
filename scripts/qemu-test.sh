#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# make qemu-test [KERNEL=debian|debug]: integration tests in QEMU guests.
#   debian  Debian 12's kernel, with the freshly built virtio_mem.ko
#   debug   the project's debug kernel (scripts/debug-kernel.sh: lockdep,
#           KASAN, DEBUG_VM), with the module built against it
# Extra arguments go to tools/qemu/qemu_tests.py (e.g. --filter NAME).
set -euo pipefail

# shellcheck source=scripts/lib.sh
. "$(dirname "$0")/lib.sh"

case "${KERNEL:-debian}" in
debian)
	"$top/scripts/setup.sh" guest
	load_env guest
	exec python3 "$top/tools/qemu/qemu_tests.py" --kernel "$GUEST_KERNEL" \
		--moddir "$GUEST_MODDIR" --ko "$top/virtio_mem.ko" "$@"
	;;
debug)
	"$top/scripts/debug-kernel.sh"
	load_env debug
	ko=$("$top/scripts/build-copy.sh" "$DEBUG_KDIR" debug)
	# KASAN's shadow takes 1/8 of all memory, hot-plugged memory too.
	VMTEST_MIN_BOOT_MEM=4G exec python3 "$top/tools/qemu/qemu_tests.py" \
		--kernel "$DEBUG_KERNEL" --moddir "" --ko "$ko" --tag debug "$@"
	;;
*)
	echo "qemu-test: KERNEL must be debian or debug" >&2
	exit 2
	;;
esac
