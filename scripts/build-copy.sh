#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# build-copy.sh KDIR NAME [make arguments...]
#
# Build the module against another kernel tree without touching the
# objects of the default build: out-of-tree builds write objects beside
# the sources, so the tracked sources are copied to a build directory of
# this checkout and NAME (unchanged files keep their times, so a rebuild
# is incremental) and built there. Two checkouts never share one, so a
# soak of one cannot load another's module. Always with W=1, which
# changes no generated code: make check's W=1 build from scratch of the
# Debian 13 module (directory debian13) is then the very module the ABI
# check and the Debian 13 guests load, and is not built twice. Prints
# the path of the built virtio_mem.ko, and otherwise only errors. Two
# builds in one directory (stages of make test side by side) take turns:
# the second finds the module built and leaves it as it is.
set -euo pipefail

# shellcheck source=scripts/lib.sh
. "$(dirname "$0")/lib.sh"
kdir=$1
out=$(build_dir "$2")
shift 2
mkdir -p "$out"
exec 9> "$out.lock"
flock 9
stage_sources "$out" Kbuild Kconfig drivers include kunit
make -s -C "$kdir" M="$out" CONFIG_VIRTIO_MEM=m \
	CONFIG_DEBUG_INFO_BTF_MODULES= W=1 "$@" modules >&2
echo "$out/virtio_mem.ko"
