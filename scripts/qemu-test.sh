#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# make qemu-test: integration tests in QEMU guests running Debian 12's
# kernel, with the freshly built virtio_mem.ko. Extra arguments go to
# tools/qemu/qemu_tests.py (e.g. --filter NAME, --list).
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
CACHE=${VMEM_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/virtio-mem-driver}
"$top/scripts/setup.sh" guest
# shellcheck source=/dev/null
. "$CACHE/guest.env"
exec python3 "$top/tools/qemu/qemu_tests.py" --kernel "$GUEST_KERNEL" \
	--moddir "$GUEST_MODDIR" --ko "$top/virtio_mem.ko" "$@"
