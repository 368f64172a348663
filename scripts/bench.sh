#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# make bench: boot the same QEMU guest once with the guest kernel's stock
# virtio_mem.ko and once with ours, run the same resize sequence in both
# and print per-step timings, request counts and the ratio ours/stock.
# With no options: the default sequence, then 0 -> 32 GiB -> 0 in a 1 GiB
# guest, without and with memory_hotplug.memmap_on_memory=1.
# Options go to tools/qemu/bench.py, from the command line of this script
# or from BENCH_ARGS, e.g.
#   make bench BENCH_ARGS="--repeat 3"
#   scripts/bench.sh --only ours --sequence 0,2G,0
set -euo pipefail

# shellcheck source=scripts/lib.sh
. "$(dirname "$0")/lib.sh"
"$top/scripts/setup.sh" guest
load_env guest
[ -f "$top/virtio_mem.ko" ] || { echo "bench: run make first" >&2; exit 2; }
echo "# tree: $(git -C "$top" describe --always --dirty 2>/dev/null || echo '?')"
bench() {
	python3 "$top/tools/qemu/bench.py" --kernel "$GUEST_KERNEL" \
		--moddir "$GUEST_MODDIR" --ko "$top/virtio_mem.ko" "$@"
}
if [ -n "${BENCH_ARGS:-}" ] || [ $# -gt 0 ]; then
	# shellcheck disable=SC2086
	bench ${BENCH_ARGS:-} "$@"
	exit
fi
# The default: the resize sequence, then plug and unplug of 32 GiB in a
# 1 GiB guest without and with memmap_on_memory.
rc=0
bench || rc=1
bench --region 34G --sequence 0,32G,0 --timeout 1200 || rc=1
bench --region 34G --sequence 0,32G,0 --timeout 1200 \
	--append memory_hotplug.memmap_on_memory=1 || rc=1
exit $rc
