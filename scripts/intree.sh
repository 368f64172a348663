#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# scripts/intree.sh <linux-source-tree>
#
# Put this driver into a kernel source tree in place of the in-tree
# drivers/virtio/virtio_mem.c:
#  - Kbuild, Kconfig, drivers/, include/ and kunit/ are copied to
#    drivers/virtio/virtio_mem/, where the project's one Kbuild works
#    unchanged (it builds virtio_mem.o from them when CONFIG_VIRTIO_MEM
#    is set, else the KUnit-only virtio_mem_kunit);
#  - in drivers/virtio/Makefile, "obj-$(CONFIG_VIRTIO_MEM) += virtio_mem.o"
#    becomes a descent into that directory;
#  - drivers/virtio/Kconfig keeps its own VIRTIO_MEM entry (its
#    dependencies are right) and sources ours after it, for
#    VIRTIO_MEM_KUNIT_TEST.
# Then configure and build the tree as usual (CONFIG_VIRTIO_MEM=y or m).
#
# Idempotent: a second run changes nothing, and a rerun after the driver
# changed copies only the files that changed (their times are kept
# otherwise, so a rebuild is incremental). Every file it writes is written
# anew and renamed into place, never modified in place: a tree made with
# "cp -al" from a pristine one leaves the pristine one untouched.
set -euo pipefail

# shellcheck source=scripts/lib.sh
. "$(dirname "$0")/lib.sh"

die() { echo "intree: $*" >&2; exit 1; }

[ $# -eq 1 ] || { echo "usage: $0 <linux-source-tree>" >&2; exit 2; }
tree=$(cd "$1" && pwd) || die "no directory $1"
vdir="$tree/drivers/virtio"
[ -f "$vdir/Makefile" ] && [ -f "$vdir/Kconfig" ] ||
	die "$tree is not a kernel source tree (no drivers/virtio/Makefile, Kconfig)"
grep -q '^config VIRTIO_MEM$' "$vdir/Kconfig" ||
	die "$vdir/Kconfig has no VIRTIO_MEM entry to keep"

# The sources. Filters match in order: build products first (an
# out-of-tree build leaves them beside the sources), then what to take.
# --delete drops files removed from the driver; excluded ones on the
# receiving side (objects of a build in that tree) are left alone.
mkdir -p "$vdir/virtio_mem"
rsync -rlpD --checksum --delete \
	--exclude='*.o' --exclude='*.ko' --exclude='*.a' --exclude='*.mod' \
	--exclude='*.mod.c' --exclude='.*.cmd' --exclude='.*.d' \
	--exclude='modules.order' --exclude='Module.symvers' \
	--include='/Kbuild' --include='/Kconfig' \
	--include='/drivers/***' --include='/include/***' --include='/kunit/***' \
	--exclude='*' \
	"$top/" "$vdir/virtio_mem/"

# Replace $1 by stdin's text unless they are the same already.
replace() {
	local file=$1 new
	new=$(mktemp "$file.intree.XXXXXX")
	cat > "$new"
	if cmp -s "$new" "$file"; then
		rm -f "$new"
	else
		chmod --reference="$file" "$new"
		mv -f "$new" "$file"
		echo "intree: patched ${file#"$tree"/}" >&2
	fi
}

# Makefile: the upstream line becomes ours; ours stays as it is.
ours='obj-$(CONFIG_VIRTIO_MEM) += virtio_mem/'
if ! grep -qxF "$ours" "$vdir/Makefile"; then
	grep -qE '^obj-\$\(CONFIG_VIRTIO_MEM\)[[:space:]]*\+=[[:space:]]*virtio_mem\.o[[:space:]]*$' \
		"$vdir/Makefile" ||
		die "drivers/virtio/Makefile: no 'obj-\$(CONFIG_VIRTIO_MEM) += virtio_mem.o' line to replace"
	sed -E 's|^obj-\$\(CONFIG_VIRTIO_MEM\)[[:space:]]*\+=[[:space:]]*virtio_mem\.o[[:space:]]*$|'"$ours"'|' \
		"$vdir/Makefile" | replace "$vdir/Makefile"
fi

# Kconfig: source ours right after the VIRTIO_MEM entry, i.e. before the
# next "config"/"menuconfig"/"endif"... line that follows it.
src='source "drivers/virtio/virtio_mem/Kconfig"'
if ! grep -qxF "$src" "$vdir/Kconfig"; then
	awk -v src="$src" '
		done == 0 && in_mem && /^(config|menuconfig|menu|endmenu|if|endif|source|choice|comment)([[:space:]]|$)/ {
			print src; print ""; done = 1
		}
		/^config VIRTIO_MEM$/ { in_mem = 1 }
		{ print }
		END { if (!done) print src }
	' "$vdir/Kconfig" | replace "$vdir/Kconfig"
fi
