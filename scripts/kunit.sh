#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Run the KUnit suites under UML: stage the pure sources and kunit/ into
# the cached linux-source tree (as lib/virtio_mem_kunit), build ARCH=um
# with kunit/.kunitconfig and run through tools/testing/kunit/kunit.py.
# Prints one "PASS: kunit/<suite>/<case>" or "FAIL: ..." line per case.
set -euo pipefail

# shellcheck source=scripts/lib.sh
. "$(dirname "$0")/lib.sh"
"$top/scripts/setup.sh" source
load_env source

# One staging directory and build directory per cache: serialize runs.
exec 9> "$CACHE/kunit.lock"
flock 9

# scripts/debug-kernel.sh builds from $LINUX_SRC in another stage of make
# test: the tree changes only while no such build runs (its lock).
exec 8> "$CACHE/debug-kernel.lock"
flock 8
dest="$LINUX_SRC/lib/virtio_mem_kunit"
mkdir -p "$dest"
# --checksum leaves unchanged files alone, so a rerun rebuilds nothing;
# without -t a changed file gets the time of the copy: a tree staged from
# another worktree before may have left newer objects, which make would
# otherwise keep.
rsync -rlpD --checksum --delete \
	--include='/Kbuild' --include='/Kconfig' \
	--include='/drivers/***' --include='/include/***' \
	--include='/kunit/***' --exclude='*' \
	--exclude='*.o' --exclude='.*.cmd' \
	"$top/" "$dest/"
grep -q 'virtio_mem_kunit/' "$LINUX_SRC/lib/Makefile" ||
	echo 'obj-y += virtio_mem_kunit/' >> "$LINUX_SRC/lib/Makefile"
grep -q 'lib/virtio_mem_kunit/Kconfig' "$LINUX_SRC/lib/Kconfig.debug" ||
	echo 'source "lib/virtio_mem_kunit/Kconfig"' >> "$LINUX_SRC/lib/Kconfig.debug"
exec 8>&-

build="$CACHE/kunit-uml"
json=$(mktemp)
trap 'rm -f "$json"' EXIT
rc=0
(cd "$LINUX_SRC" && python3 tools/testing/kunit/kunit.py run \
	--kunitconfig="$dest/kunit/.kunitconfig" --build_dir="$build" \
	--jobs="$(nproc)" --timeout=300 --json="$json") || rc=$?

# The suites' own counts: seeds, scenarios, fuzz cases.
grep -a -E '# [a-z_]+: (seed|engine:)' "$build/test.log" |
	sed 's/^ *# /  /' || true
python3 "$top/scripts/kunit_results.py" "$json" "$rc" kunit
exit "$rc"
