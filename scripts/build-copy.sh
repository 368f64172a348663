#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# build-copy.sh KDIR OUTDIR [make arguments...]
#
# Build the module against another kernel tree without touching the
# objects of the default build: out-of-tree builds write objects beside
# the sources, so the tracked sources are copied to OUTDIR (unchanged
# files keep their times, so a rebuild is incremental) and built there.
# Prints nothing but errors; OUTDIR/virtio_mem.ko is the result.
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
kdir=$1 out=$2
shift 2
mkdir -p "$out"
(cd "$top" && git ls-files -co --exclude-standard -- Kbuild Kconfig \
	drivers include kunit) |
	rsync -a --checksum --delete-missing-args --files-from=- "$top/" "$out/"
make -s -C "$kdir" M="$out" CONFIG_VIRTIO_MEM=m \
	CONFIG_DEBUG_INFO_BTF_MODULES= "$@" modules
