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
	return "$rc"
}

stage build make -s -j"$(nproc)" modules tools/memfill tools/vmsplice_pin tools/qemu/pollwait \
	tools/vmemctl/vmemctl

# The rest runs as a queue of stages taken by three workers side by
# side, so that the two cores stay busy: a guest under TCG waits at times
# (for the device, for a settle time), and a build does not. Each line is
# tagged with its stage. A free worker takes the first stage in the list
# below whose prerequisites (after the colon) have ended: the debug
# kernel first, as on a cold cache its build is the long pole (the debug
# stages follow it, on whichever workers are free), then the longest
# stages, so that the queue ends on short ones. A stage whose
# prerequisite failed fails without running; one written "~name" only
# orders (the stage would wait for it anyway), and may fail.
#
# Each stage builds what it loads in a build directory of its own
# (build-copy.sh), but for the Debian 12 guests, which load the module
# built above; the Debian 13 guests load the one make check builds (so
# they come after it). The debug kernel (lockdep, KASAN, DEBUG_VM) is
# built once and cached; the UML KUnit build waits for it, as both use
# the 6.1 source tree.
#
# Three two-vCPU guests on two cores: a guest whose vCPUs run on threads
# of their own spins while the vCPU it waits for has no core
# (vmtest.tcg_threads()). The suites run their vCPUs in turn on one host
# thread (VMTEST_TCG=single); the soaks keep them truly parallel:
# memfill writes while the driver migrates, at random.
queue=(
	"debug-kernel:"
	"check:"
	"qemu:"
	"qemu-debug: debug-kernel"
	"qemu-debian13: check"
	"soak-debug: debug-kernel"
	"kunit-x86: debug-kernel"
	"install:"
	"soak-debian13: check"
	"soak-debian:"
	"deb:"
	"kunit: ~debug-kernel"
	"intree:"
	"tool:"
	"bench-plot:"
	"bench-profile:"
	"splat:"
	"pvh:"
	"runner:"
)

# On the debug kernel every resize costs several times more: the suite
# runs with smaller targets (--small), and the cases under a checksummed
# load are left to the debug soak, which shrinks under the same load in
# both modes.
run_stage() {
	case $1 in
	debug-kernel) stage "$1" scripts/debug-kernel.sh build ;;
	check) stage "$1" scripts/check.sh ;;
	qemu) stage "$1" env KERNEL=debian VMTEST_TCG=single scripts/qemu-test.sh ;;
	qemu-debug) stage "$1" env KERNEL=debug VMTEST_TCG=single scripts/qemu-test.sh --small \
		--skip data_integrity,bbm_data_integrity,online_kernel_under_load,bbm_512m_online_by_block,bbm_1g_online_by_block ;;
	qemu-debian13) stage "$1" env KERNEL=debian13 VMTEST_TCG=single scripts/qemu-test.sh ;;
	soak-debug) stage "$1" env KERNEL=debug SOAK_STEPS=15 scripts/soak.sh ;;
	kunit-x86) stage "$1" env VMTEST_TCG=single scripts/kunit-guest.sh ;;
	install) stage "$1" scripts/install-check.sh install dkms ;;
	soak-debian13) stage "$1" env KERNEL=debian13 SOAK_STEPS=15 scripts/soak.sh ;;
	soak-debian) stage "$1" env KERNEL=debian SOAK_STEPS=15 scripts/soak.sh ;;
	deb) stage "$1" scripts/deb-check.sh ;;
	kunit) stage "$1" scripts/kunit.sh ;;
	intree) stage "$1" scripts/install-check.sh intree ;;
	tool) stage "$1" make -s -C tools/vmemctl test ;;
	bench-plot) stage "$1" python3 tools/qemu/bench_plot.py --selftest ;;
	bench-profile) stage "$1" python3 tools/qemu/bench_profile.py ;;
	splat) stage "$1" python3 tools/qemu/splat.py ;;
	pvh) stage "$1" python3 tools/qemu/pvh.py ;;
	runner) stage "$1" python3 tools/qemu/runner.py ;;
	*) echo "FAIL: $1: no such stage"; return 1 ;;
	esac
}

# next_stage: print the first queued stage whose prerequisites have
# ended, and take it off the queue; wait while none is ready; fail when
# the queue is empty. $logs/queue holds "name: prerequisites" lines,
# $logs/ended/NAME the exit status of each stage that ended.
next_stage() {
	local line name pre ready
	while :; do
		exec 7> "$logs/queue.lock"
		flock 7
		[ -s "$logs/queue" ] || { exec 7>&-; return 1; }
		name=
		while IFS= read -r line; do
			ready=1
			for pre in ${line#*:}; do
				[ -e "$logs/ended/${pre#\~}" ] || ready=
			done
			[ -n "$ready" ] && { name=${line%%:*}; break; }
		done < "$logs/queue"
		if [ -n "$name" ]; then
			grep -v "^$name:" "$logs/queue" > "$logs/queue.new" || true
			mv "$logs/queue.new" "$logs/queue"
			exec 7>&-
			echo "$name"
			return 0
		fi
		exec 7>&-
		sleep 2
	done
}

# run_queued NAME: the stage, or its failure when a prerequisite failed.
run_queued() {
	local name=$1 line pre
	line=$(printf '%s\n' "${queue[@]}" | grep "^$name:")
	for pre in ${line#*:}; do
		[ "${pre#\~}" != "$pre" ] || [ "$(cat "$logs/ended/$pre")" = 0 ] && continue
		echo "FAIL: $name: not run, as $pre failed" | tee "$logs/$name.log"
		return 1
	done
	run_stage "$name"
}

worker() {
	local name rc
	while name=$(next_stage); do
		run_queued "$name" 2>&1 | sed -u "s/^/[$name] /"
		rc=${PIPESTATUS[0]}
		echo "$rc" > "$logs/ended/$name"
	done
}

mkdir -p "$logs/ended"
printf '%s\n' "${queue[@]}" > "$logs/queue"
worker & worker & worker &
wait

# Every stage's cases against the expected list; the closing line.
python3 "$top/tools/qemu/expected.py" tally "$logs"
