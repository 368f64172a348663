#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# make bench [KERNEL=debian|debian13]: boot the same QEMU guest once with
# the guest kernel's stock virtio_mem.ko and once with ours, run the same
# resize sequence in both and print per-step timings, request counts and
# the ratio ours/stock. KERNEL=debian13: Debian 13's kernel, its own
# virtio_mem.ko.xz as the stock driver (scripts/lib.sh, guest_kernel).
# With no options: the default sequence, then 0 -> 32 GiB -> 0 in a 1 GiB
# guest, without and with memory_hotplug.memmap_on_memory=1.
# Options go to tools/qemu/bench.py, from the command line of this script
# or from BENCH_ARGS, e.g.
#   make bench BENCH_ARGS="--repeat 3"
#   scripts/bench.sh --only ours --sequence 0,2G,0
set -euo pipefail

# shellcheck source=scripts/lib.sh
. "$(dirname "$0")/lib.sh"
kernel=${KERNEL:-debian}
case $kernel in
debian)
	[ -f "$top/virtio_mem.ko" ] || { echo "bench: run make first" >&2; exit 2; }
	;;
esac
guest_kernel "$kernel" || exit 2
# A tag names the kernel in the report, where bench.py takes one.
tag=()
if [ "$kernel" != debian ] &&
	python3 "$top/tools/qemu/bench.py" --help 2>/dev/null | grep -q -- '--tag'; then
	tag=(--tag "$kernel")
fi
echo "# tree: $(git -C "$top" describe --always --dirty 2>/dev/null || echo '?')"
echo "# kernel: $kernel"
bench() {
	env "${GUEST_ENV[@]}" python3 "$top/tools/qemu/bench.py" \
		"${GUEST_ARGS[@]}" "${tag[@]}" "$@"
}
if [ -n "${BENCH_ARGS:-}" ] || [ $# -gt 0 ]; then
	# shellcheck disable=SC2086
	bench ${BENCH_ARGS:-} "$@"
	exit
fi
# The default: the resize sequence; the shrink of a fragmented guest that
# the used memory still fits (6 -> 4.5 -> 3.5 GiB in a 1 GiB guest, the
# workload of issue 18); then plug and unplug of 32 GiB in a 1 GiB guest
# without and with memmap_on_memory.
rc=0
bench || rc=1
bench --workload fragmented --sequence 0,6G,4608M,3584M || rc=1
bench --region 34G --sequence 0,32G,0 --timeout 1200 || rc=1
bench --region 34G --sequence 0,32G,0 --timeout 1200 \
	--append memory_hotplug.memmap_on_memory=1 || rc=1
exit $rc
