#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# make soak [KERNEL=debian|debug|debian13|both] [SOAK_STEPS=200]
#           [SOAK_SEED=N] [SOAK_MODES="sbm bbm"]
# Random resizes under a checksummed workload (tools/qemu/soak.py), on
# Debian 12's kernel and on the debug kernel (both), or on one of them or
# on Debian 13's kernel, in Sub-Block and Big-Block Mode. KERNEL may name
# several: KERNEL="debian debian13". The seed is printed; pass it back as
# SOAK_SEED to replay a run.
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
	guest_kernel "$k" || exit 1
	args=("${GUEST_ARGS[@]}")
	for m in $modes; do
		env "${GUEST_ENV[@]}" python3 "$top/tools/qemu/soak.py" "${args[@]}" \
			--memfill "$top/tools/memfill" --steps "$steps" \
			--seed "$seed" --mode "$m" --tag "$k" || rc=1
	done
done
exit $rc
