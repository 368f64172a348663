#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# make test: every check CI runs: static checks, KUnit under UML and in
# the debug x86 guest, the QEMU suite on Debian 12's kernel, Debian 13's
# kernel and the debug kernel, a short soak on each, the tool's host
# tests, the Debian packages, and make install, DKMS and the in-tree
# build. Each stage prints "PASS: <case>",
# "FAIL: <case>" and "SKIP: <case>: <why>" lines. tools/qemu/expected.py
# checks them against scripts/expected-cases.txt (a listed case not
# reported, or a reported case not listed, fails) and ends with the line
# "N passed, N failed, N skipped". A stage that fails without naming a
# case counts as one failed case of its own; a stage that names none
# and succeeds, as one passed case named after it.
set -uo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top" || exit 1
logs=$(mktemp -d "${TMPDIR:-/tmp}/vmem-test.XXXXXX")

"$top/scripts/setup.sh" all || { echo "0 passed, 1 failed, 0 skipped"; exit 1; }

# cpu_seconds FILE: user + system seconds of the children in `times`
# output (its last line: "1m2.5s 0m3.1s").
cpu_seconds() {
	awk 'END { s = 0; for (i = 1; i <= 2; i++) { split($i, p, /[ms]/); s += p[1] * 60 + p[2] }
		printf "%d", s }' "$1" 2>/dev/null
}

stage() {
	local name=$1 start rc
	shift
	echo "=== $name: $*"
	start=$(date +%s)
	# The CPU time of the stage's processes (what `times` says of the
	# children it waited for), for the closing time line.
	( "$@"; rc=$?; times > "$logs/$name.cpu"; exit $rc ) 2>&1 |
		tee "$logs/$name.log"
	rc=${PIPESTATUS[0]}
	if [ $rc -ne 0 ] && ! grep -q '^FAIL: ' "$logs/$name.log"; then
		echo "FAIL: $name: exited with $rc" | tee -a "$logs/$name.log"
	elif [ $rc -eq 0 ] && ! grep -qE '^(PASS|FAIL|SKIP): ' "$logs/$name.log"
	then
		echo "PASS: $name" | tee -a "$logs/$name.log"
	fi
	echo "=== $name: $(( $(date +%s) - start )) s, cpu $(cpu_seconds "$logs/$name.cpu") s"
}

stage build make -s -j"$(nproc)" modules tools/memfill tools/vmsplice_pin tools/qemu/pollwait \
	tools/vmemctl/vmemctl

# The rest runs in three lanes side by side, each line tagged with its
# lane, so that the two cores stay busy: a guest under TCG waits at times
# (for the device, for a settle time), and a build does not. Each stage
# builds what it loads in a build directory of its own (build-copy.sh),
# but for the Debian 12 guests, which load the module built above. The
# debug kernel (lockdep, KASAN, DEBUG_VM) is built once and cached.
#
# Three lanes of two-vCPU guests on two cores: a guest whose vCPUs run
# on threads of their own spins while the vCPU it waits for has no core
# (vmtest.tcg_threads()). The suites run their vCPUs in turn on one
# host thread (VMTEST_TCG=single); the soaks keep them truly parallel:
# memfill writes while the driver migrates, at random (and the debug
# soak, which ends make test, then has both cores to itself).
debian() {
	stage install scripts/install-check.sh install dkms
	stage intree scripts/install-check.sh intree
	stage deb scripts/deb-check.sh
	stage qemu env KERNEL=debian VMTEST_TCG=single scripts/qemu-test.sh
	stage soak-debian env KERNEL=debian SOAK_STEPS=15 scripts/soak.sh
}
debian13() {
	stage check scripts/check.sh
	stage kunit scripts/kunit.sh
	stage tool make -s -C tools/vmemctl test
	stage bench-plot python3 tools/qemu/bench_plot.py --selftest
	stage bench-profile python3 tools/qemu/bench_profile.py
	stage splat python3 tools/qemu/splat.py
	stage qemu-debian13 env KERNEL=debian13 VMTEST_TCG=single scripts/qemu-test.sh
	stage soak-debian13 env KERNEL=debian13 SOAK_STEPS=15 scripts/soak.sh
}
# On the debug kernel every resize costs several times more: the suite
# runs with smaller targets (--small), and the cases under a checksummed
# load are left to the debug soak, which shrinks under the same load in
# both modes.
debug() {
	stage kunit-x86 env VMTEST_TCG=single scripts/kunit-guest.sh
	stage qemu-debug env KERNEL=debug VMTEST_TCG=single scripts/qemu-test.sh --small \
		--skip data_integrity,bbm_data_integrity,online_kernel_under_load,bbm_512m_online_by_block,bbm_1g_online_by_block
	stage soak-debug env KERNEL=debug SOAK_STEPS=15 scripts/soak.sh
}
debian 2>&1 | sed -u 's/^/[debian] /' &
debian13 2>&1 | sed -u 's/^/[debian13] /' &
debug 2>&1 | sed -u 's/^/[debug] /' &
wait

# Every stage's cases against the expected list; the closing line.
python3 "$top/tools/qemu/expected.py" tally "$logs"
