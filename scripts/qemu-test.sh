#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# make qemu-test [KERNEL=debian|debug|debian13]: integration tests in QEMU
# guests.
#   debian    Debian 12's kernel, with the freshly built virtio_mem.ko
#   debug     the project's debug kernel (scripts/debug-kernel.sh: lockdep,
#             KASAN, DEBUG_VM), with the module built against it
#   debian13  Debian 13's kernel (scripts/setup.sh debian13), with the
#             module built against the tree prepared for it
# Extra arguments go to tools/qemu/qemu_tests.py (e.g. --filter NAME).
set -euo pipefail

# shellcheck source=scripts/lib.sh
. "$(dirname "$0")/lib.sh"

kernel=${KERNEL:-debian}
guest_kernel "$kernel" || exit 2
tag=()
[ "$kernel" = debian ] || tag=(--tag "$kernel")
exec env "${GUEST_ENV[@]}" python3 "$top/tools/qemu/qemu_tests.py" \
	"${GUEST_ARGS[@]}" "${tag[@]}" "$@"
