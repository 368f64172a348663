#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# make test: every check CI runs: static checks, KUnit under UML and in
# the debug x86 guest, the QEMU suite on Debian's kernel and on the
# debug kernel, a short soak on both, the tool's host tests, and make
# install, DKMS and the in-tree build. Each stage prints "PASS: <case>" and
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
	"$@" 2>&1 | tee "$logs/$name.log"
	rc=${PIPESTATUS[0]}
	if [ $rc -ne 0 ] && ! grep -q '^FAIL: ' "$logs/$name.log"; then
		echo "FAIL: $name: exited with $rc" | tee -a "$logs/$name.log"
	fi
	echo "=== $name: $(( $(date +%s) - start )) s"
}

stage check scripts/check.sh
stage kunit scripts/kunit.sh
stage build make -s modules tools/memfill tools/qemu/pollwait \
	tools/vmemctl/vmemctl

# Under TCG a guest mostly waits (for the device, for a settle time), so
# the Debian-kernel and the debug-kernel stages run side by side, each
# line tagged with its kernel. The debug kernel (lockdep, KASAN,
# DEBUG_VM) is built once and cached.
debian() {
	stage tool make -s -C tools/vmemctl test
	stage install scripts/install-check.sh install dkms
	stage intree scripts/install-check.sh intree
	stage qemu env KERNEL=debian scripts/qemu-test.sh
	stage soak-debian env KERNEL=debian SOAK_STEPS=15 scripts/soak.sh
}
# On the debug kernel every resize costs several times more: the suite
# runs with smaller targets (--small), and the data_integrity cases are
# left to the debug soak, which shrinks under the same checksummed load in
# both modes.
debug() {
	stage kunit-x86 scripts/kunit-guest.sh
	stage qemu-debug env KERNEL=debug scripts/qemu-test.sh \
		--skip data_integrity,bbm_data_integrity --small
	stage soak-debug env KERNEL=debug SOAK_STEPS=15 scripts/soak.sh
}
debian 2>&1 | sed -u 's/^/[debian] /' &
debug 2>&1 | sed -u 's/^/[debug] /' &
wait

passed=$(cat "$logs"/*.log | grep -c '^PASS: ')
failed=$(cat "$logs"/*.log | grep -c '^FAIL: ')
if [ "$failed" -ne 0 ]; then
	echo "failed cases (logs in $logs):"
	cat "$logs"/*.log | grep '^FAIL: ' | sed 's/^/  /'
fi
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ] && [ "$passed" -gt 0 ]
