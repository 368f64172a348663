#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# make run: boot a guest with a virtio-mem device, load the driver and show
# the host's view (QMP) beside the guest's (sysfs, MemTotal).
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
CACHE=${VMEM_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/virtio-mem-driver}
"$top/scripts/setup.sh" guest
# shellcheck source=/dev/null
. "$CACHE/guest.env"
exec python3 "$top/tools/qemu/demo.py" --kernel "$GUEST_KERNEL" \
	--moddir "$GUEST_MODDIR" --ko "$top/virtio_mem.ko" "$@"
