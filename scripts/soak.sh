#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# make soak [KERNEL=debian|debug|both] [SOAK_STEPS=200] [SOAK_SEED=N]
#           [SOAK_MODES="sbm bbm"]
# Random resizes under a checksummed workload (tools/qemu/soak.py), on
# Debian's kernel and on the debug kernel, in Sub-Block and Big-Block
# Mode. The seed is printed; pass it back as SOAK_SEED to replay a run.
set -uo pipefail

# shellcheck source=scripts/lib.sh
. "$(dirname "$0")/lib.sh"
kernels=${KERNEL:-both}
[ "$kernels" = both ] && kernels="debian debug"
steps=${SOAK_STEPS:-200}
seed=${SOAK_SEED:-$(od -An -N4 -tu4 /dev/urandom | tr -d ' ')}
modes=${SOAK_MODES:-sbm bbm}
rc=0

for k in $kernels; do
	case "$k" in
	debian)
		"$top/scripts/setup.sh" guest || exit 1
		load_env guest
		args=(--kernel "$GUEST_KERNEL" --moddir "$GUEST_MODDIR"
		      --ko "$top/virtio_mem.ko")
		;;
	debug)
		"$top/scripts/debug-kernel.sh" || exit 1
		load_env debug
		ko=$("$top/scripts/build-copy.sh" "$DEBUG_KDIR" debug) || exit 1
		args=(--kernel "$DEBUG_KERNEL" --moddir "" --ko "$ko")
		# KASAN's shadow takes 1/8 of all memory, hot-plugged too.
		export VMTEST_MIN_BOOT_MEM=4G
		;;
	*)
		echo "soak: KERNEL must be debian, debug or both" >&2
		exit 2
		;;
	esac
	for m in $modes; do
		python3 "$top/tools/qemu/soak.py" "${args[@]}" \
			--memfill "$top/tools/memfill" --steps "$steps" \
			--seed "$seed" --mode "$m" --tag "$k" || rc=1
	done
	unset VMTEST_MIN_BOOT_MEM
done
exit $rc
