#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# make run [KERNEL=debian|debug|debian13]: boot a guest with a virtio-mem
# device, load the driver and show the host's view (QMP) beside the
# guest's (sysfs, MemTotal). Debian 12's kernel unless KERNEL says another
# (scripts/lib.sh, guest_kernel).
set -euo pipefail

# shellcheck source=scripts/lib.sh
. "$(dirname "$0")/lib.sh"
guest_kernel "${KERNEL:-debian}" || exit 2
exec env "${GUEST_ENV[@]}" python3 "$top/tools/qemu/demo.py" "${GUEST_ARGS[@]}" "$@"
