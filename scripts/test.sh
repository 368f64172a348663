#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# make test: every check CI runs: static checks, KUnit under UML and in
# the debug x86 guest, the QEMU suite on Debian's kernel and on the
# debug kernel, and a short soak on both. Each stage prints "PASS: <case>" and
# "FAIL: <case>" lines; this script counts them and ends with the line
# "N passed, N failed". A stage that fails without naming a case counts
# as one failed case of its own.
set -uo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top" || exit 1
logs=$(mktemp -d "${TMPDIR:-/tmp}/vmem-test.XXXXXX")

"$top/scripts/setup.sh" all || { echo "0 passed, 1 failed"; exit 1; }

stage() {
	local name=$1 start rc
	shift
	echo "=== $name: $*"
	start=$(date +%s)
	"$@" > >(tee "$logs/$name.log") 2>&1
	rc=$?
	wait
	if [ $rc -ne 0 ] && ! grep -q '^FAIL: ' "$logs/$name.log"; then
		echo "FAIL: $name: exited with $rc" | tee -a "$logs/$name.log"
	fi
	echo "=== $name: $(( $(date +%s) - start )) s"
}

stage check scripts/check.sh
stage kunit scripts/kunit.sh
stage qemu make -s qemu-test
# The debug kernel (lockdep, KASAN, DEBUG_VM) is built once and cached.
stage kunit-x86 scripts/kunit-guest.sh
stage qemu-debug make -s qemu-test KERNEL=debug
# Short soak: 15 steps per mode, SBM and BBM, on both kernels.
stage soak make -s soak KERNEL=both SOAK_STEPS=15

passed=$(cat "$logs"/*.log | grep -c '^PASS: ')
failed=$(cat "$logs"/*.log | grep -c '^FAIL: ')
if [ "$failed" -ne 0 ]; then
	echo "failed cases (logs in $logs):"
	cat "$logs"/*.log | grep '^FAIL: ' | sed 's/^/  /'
fi
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ] && [ "$passed" -gt 0 ]
