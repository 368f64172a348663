#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# One idempotent setup for everything the project builds and tests with.
#
#   scripts/setup.sh packages   Debian packages (apt-get), only if missing
#   scripts/setup.sh guest      Debian 12's current amd64 kernel image, modules
#                               and headers, resolved through the
#                               linux-image-amd64 / linux-headers-amd64
#                               metapackages, extracted into the cache
#   scripts/setup.sh source     linux-source-6.1, extracted into the cache
#                               (UML KUnit, checkpatch, coccinelle scripts)
#   scripts/setup.sh all        all of the above (the default)
#   scripts/setup.sh env        print the variables the Makefile uses
#
# Nothing is installed into /boot; the cache lives outside the clone:
# ${VMEM_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/virtio-mem-driver}.
set -euo pipefail

# shellcheck source=scripts/lib.sh
. "$(dirname "$0")/lib.sh"
mkdir -p "$CACHE"

PACKAGES="build-essential gcc-12 make bc bison flex libelf-dev libssl-dev
	kmod cpio xz-utils zstd rsync python3 ca-certificates perl git
	qemu-system-x86 busybox-static sparse coccinelle ocaml-nox ocaml-findlib
	python3-docutils dkms udev tmux man-db"

log() { echo "setup: $*" >&2; }

# The machine is shared: wait for another apt or dpkg run to finish
# rather than fail on its lock.
APT_WAIT=(-o DPkg::Lock::Timeout=900)

as_root() {
	if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi
}

apt_updated=
apt_update() {
	[ -n "$apt_updated" ] && return 0
	log "apt-get update"
	as_root apt-get "${APT_WAIT[@]}" update -qq >&2
	apt_updated=1
}

do_packages() {
	local missing=() p
	# Triggers still pending (another apt run is on its way) count as
	# installed: the package's files are there.
	for p in $PACKAGES; do
		dpkg-query -W -f='${Status}' "$p" 2>/dev/null |
			grep -qE 'install ok (installed|triggers-pending|triggers-awaited)' ||
			missing+=("$p")
	done
	[ ${#missing[@]} -eq 0 ] && return 0
	apt_update
	log "installing ${missing[*]}"
	as_root env DEBIAN_FRONTEND=noninteractive apt-get "${APT_WAIT[@]}" install -y -qq \
		--no-install-recommends "${missing[@]}" >&2
}

# Name of the package a metapackage currently depends on, e.g.
# linux-image-amd64 -> linux-image-6.1.0-NN-amd64.
resolve() {
	local meta=$1 dep
	dep=$(apt-cache depends "$meta" 2>/dev/null |
		awk '/Depends:/ { print $2; exit }')
	if [ -z "$dep" ]; then
		apt_update
		dep=$(apt-cache depends "$meta" | awk '/Depends:/ { print $2; exit }')
	fi
	[ -n "$dep" ] || { log "cannot resolve $meta"; exit 1; }
	echo "$dep"
}

candidate() {
	apt-cache policy "$1" | awk '/Candidate:/ { print $2 }'
}

# Download packages into $CACHE/debs and extract them into directory $1.
fetch_extract() {
	local dest=$1 p f
	shift
	mkdir -p "$CACHE/debs" "$dest.tmp"
	for p in "$@"; do
		(cd "$CACHE/debs" && apt-get download -qq "$p" >&2 2>/dev/null) || {
			apt_update
			(cd "$CACHE/debs" && apt-get download -qq "$p" >&2)
		}
		f=$(ls -t "$CACHE/debs/${p}_"*.deb | head -1)
		dpkg-deb -x "$f" "$dest.tmp"
	done
}

do_guest() {
	local img hdr ver dir kver kdir common kbuild
	img=$(resolve linux-image-amd64)
	hdr=$(resolve linux-headers-amd64)
	ver=$(candidate "$img")
	dir="$CACHE/guest/$img-$ver"
	if [ ! -f "$dir/.done" ]; then
		log "fetching $img $ver and its headers"
		rm -rf "$dir" "$dir.tmp"
		common=$(apt-cache depends "$hdr" |
			awk '/Depends: linux-headers-.*-common/ { print $2; exit }')
		kbuild=$(apt-cache depends "$hdr" |
			awk '/Depends: linux-kbuild-/ { print $2; exit }')
		fetch_extract "$dir" "$img" "$hdr" "$common" "$kbuild"
		mv "$dir.tmp" "$dir"
		kver=${img#linux-image-}
		# The headers' Makefile includes the common part by an absolute
		# path under /usr/src; point it into the cache instead.
		sed -i "s|include /usr/src/|include $dir/usr/src/|" \
			"$dir/usr/src/linux-headers-$kver/Makefile"
		touch "$dir/.done"
	fi
	kver=${img#linux-image-}
	kdir="$dir/usr/src/linux-headers-$kver"
	cat > "$CACHE/guest.env" <<ENV
GUEST_KVER=$kver
GUEST_PKGVER=$ver
GUEST_ROOT=$dir
GUEST_KDIR=$kdir
GUEST_KERNEL=$dir/boot/vmlinuz-$kver
GUEST_MODDIR=$dir/lib/modules/$kver
ENV
}

do_source() {
	local ver dir tarball
	ver=$(candidate linux-source-6.1)
	[ -n "$ver" ] && [ "$ver" != "(none)" ] || {
		apt_update
		ver=$(candidate linux-source-6.1)
	}
	dir="$CACHE/source/linux-source-6.1-$ver"
	if [ ! -f "$dir/.done" ]; then
		log "fetching linux-source-6.1 $ver"
		rm -rf "$dir" "$dir.tmp"
		fetch_extract "$dir" linux-source-6.1
		tarball=$(ls "$dir.tmp"/usr/src/linux-source-6.1.tar.xz)
		mkdir -p "$dir"
		tar -xJf "$tarball" -C "$dir" --strip-components=1
		rm -rf "$dir.tmp"
		touch "$dir/.done"
	fi
	cat > "$CACHE/source.env" <<ENV
LINUX_SRC=$dir
ENV
}

case "${1:-all}" in
packages) do_packages ;;
guest) do_packages; do_guest ;;
source) do_packages; do_source ;;
all) do_packages; do_guest; do_source ;;
env) cat "$CACHE/guest.env" "$CACHE/source.env" 2>/dev/null; echo "VMEM_CACHE=$CACHE" ;;
*) echo "usage: $0 [packages|guest|source|all|env]" >&2; exit 2 ;;
esac
