#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# make run: boot a guest with a virtio-mem device, load the driver and show
# the host's view (QMP) beside the guest's (sysfs, MemTotal).
set -euo pipefail

# shellcheck source=scripts/lib.sh
. "$(dirname "$0")/lib.sh"
"$top/scripts/setup.sh" guest
load_env guest
exec python3 "$top/tools/qemu/demo.py" --kernel "$GUEST_KERNEL" \
	--moddir "$GUEST_MODDIR" --ko "$top/virtio_mem.ko" "$@"
