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
#   scripts/setup.sh debian13   Debian 13's current amd64 kernel image (the
#                               -unsigned one), its headers and the same
#                               version's linux-source, prepared as a tree
#                               to build modules that image loads
#                               ($CACHE/debian13.env)
#   scripts/setup.sh all        all of the above (the default)
#   scripts/setup.sh newest     the newest linux-source-7.* Debian serves
#                               (forky, trixie-backports, experimental),
#                               configured from defconfig plus
#                               scripts/newest-kernel.config and prepared
#                               for module builds ($CACHE/newest.env)
#   scripts/setup.sh env        print the variables of every prepared kernel
#
# Nothing is installed into /boot; the cache lives outside the clone:
# ${VMEM_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/virtio-mem-driver}.
# Packages of other Debian suites are read through private apt
# configurations (their own sources list, state and cache directories, in
# $CACHE/apt/<name>): the system's apt state never changes.
# -E: the ERR trap below fires in functions too, where nearly every step is.
set -Eeuo pipefail

# shellcheck source=scripts/lib.sh
. "$(dirname "$0")/lib.sh"
mkdir -p "$CACHE"

PACKAGES="build-essential gcc-12 make bc bison flex libelf-dev libssl-dev
	kmod cpio xz-utils zstd rsync python3 ca-certificates perl git
	qemu-system-x86 busybox-static sparse coccinelle ocaml-nox ocaml-findlib
	python3-docutils dkms udev tmux man-db
	dpkg-dev debhelper dh-dkms lintian prometheus gnuplot-nox"

log() { echo "setup: $*" >&2; }
# set -e stops at the first failing command: say which, or a run that
# fails here (make test's first step) leaves no reason behind.
trap 'log "failed (exit $?) at line $LINENO: $BASH_COMMAND"' ERR

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
	local ok
	# dpkg-query exits 1 when it knows some of them not at all (never
	# installed, as on a fresh machine): that is an answer, not an error.
	# shellcheck disable=SC2086
	ok=$({ dpkg-query -W -f='${Package} ${Status}\n' $PACKAGES 2>/dev/null || true; } |
		awk '$2 == "install" && $3 == "ok" &&
			$4 ~ /^(installed|triggers-pending|triggers-awaited)$/ { print $1 }')
	for p in $PACKAGES; do
		grep -qxF "$p" <<< "$ok" || missing+=("$p")
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

# --- Other Debian suites: private apt configurations -------------------------

# The archive of every suite read here, and its keys (Debian 12's keyring
# holds the keys of trixie and forky).
DEBIAN_MIRROR=${VMEM_DEBIAN_MIRROR:-http://deb.debian.org}
DEBIAN_KEYRING=/usr/share/keyrings/debian-archive-keyring.gpg

# papt_setup NAME SUITE...: an apt configuration of its own in
# $CACHE/apt/NAME for these suites (main, amd64): own sources list,
# preferences, state (lists, an empty dpkg status) and cache directories.
# The system's apt.conf.d still applies (network settings). Its lists are
# read anew when missing, when the suites changed, when older than a day,
# or with VMEM_APT_REFRESH=1; a failed refresh keeps the old lists.
# Sets PAPT to its APT_CONFIG file; run commands with papt.
papt_setup() {
	local name=$1 d="$CACHE/apt/$1" s uri
	shift
	mkdir -p "$d/lists/partial" "$d/archives/partial" "$d/sources.list.d" \
		"$d/preferences.d"
	[ -f "$d/status" ] || : > "$d/status"
	for s in "$@"; do
		case $s in
		*-security) uri=$DEBIAN_MIRROR/debian-security ;;
		*) uri=$DEBIAN_MIRROR/debian ;;
		esac
		echo "deb [arch=amd64 signed-by=$DEBIAN_KEYRING] $uri $s main"
	done > "$d/sources.list.new"
	cmp -s "$d/sources.list.new" "$d/sources.list" || rm -f "$d/updated"
	mv -f "$d/sources.list.new" "$d/sources.list"
	cat > "$d/apt.conf" <<CONF
Dir::Etc::sourcelist "$d/sources.list";
Dir::Etc::sourceparts "$d/sources.list.d";
Dir::Etc::preferences "$d/preferences";
Dir::Etc::preferencesparts "$d/preferences.d";
Dir::State "$d";
Dir::State::lists "$d/lists";
Dir::State::status "$d/status";
Dir::Cache "$d";
Dir::Cache::archives "$d/archives";
APT::Architecture "amd64";
APT::Architectures { "amd64"; };
CONF
	# As root, apt's _apt sandbox cannot write under a private $HOME.
	[ "$(id -u)" != 0 ] || echo 'APT::Sandbox::User "root";' >> "$d/apt.conf"
	PAPT=$d/apt.conf
	if [ -f "$d/updated" ] && [ "${VMEM_APT_REFRESH:-0}" != 1 ] &&
		[ -n "$(find "$d/updated" -mmin -1440)" ]; then
		return 0
	fi
	log "apt-get update ($name: $*)"
	if papt apt-get update -qq >&2; then
		touch "$d/updated"
	elif compgen -G "$d/lists/*_Packages*" > /dev/null; then
		log "apt-get update ($name) failed; using the lists of $(date -r "$d/lists" +%F)"
	else
		log "apt-get update ($name) failed and there are no lists"
		return 1
	fi
}

# papt apt-get|apt-cache ARGS...: run it with the private configuration.
# Its package cache is kept beside the lists (from the command line: a
# Docker image's apt.conf.d turns it off, after APT_CONFIG is read).
papt() {
	local cmd=$1
	shift
	APT_CONFIG=$PAPT "$cmd" -o "Dir::Cache::pkgcache=${PAPT%/*}/pkgcache.bin" \
		-o "Dir::Cache::srcpkgcache=${PAPT%/*}/srcpkgcache.bin" "$@"
}

# papt_dep PACKAGE PATTERN: the first dependency of PACKAGE matching PATTERN.
papt_dep() {
	papt apt-cache depends "$1" 2>/dev/null |
		awk -v re="$2" '$1 == "Depends:" && $2 ~ re { print $2; exit }'
}

# papt_versions PACKAGE: every version the suites have, one a line.
papt_versions() {
	papt apt-cache madison "$1" 2>/dev/null |
		awk -F'|' '{ gsub(/ /, "", $2); print $2 }' | sort -u
}

# papt_fetch DEST PACKAGE=VERSION...: download into $CACHE/debs (once)
# and extract into DEST.
papt_fetch() {
	local dest=$1 pv p v f
	shift
	mkdir -p "$CACHE/debs" "$dest"
	for pv in "$@"; do
		p=${pv%%=*} v=${pv#*=}
		f=$(compgen -G "$CACHE/debs/${p}_${v//:/%3a}_*.deb" | head -1) || true
		if [ -z "$f" ]; then
			log "downloading $p $v"
			(cd "$CACHE/debs" && papt apt-get download -qq "$pv" >&2) ||
				{ log "cannot download $pv"; return 1; }
			f=$(compgen -G "$CACHE/debs/${p}_${v//:/%3a}_*.deb" | head -1)
		fi
		dpkg-deb -x "$f" "$dest" || return 1
	done
}

# untar_source DEB_ROOT DEST: the linux-source tarball of an extracted
# linux-source package, unpacked into DEST.
untar_source() {
	local tarball
	tarball=$(compgen -G "$1/usr/src/linux-source-*.tar.xz" | head -1) ||
		{ log "no linux-source tarball in $1"; return 1; }
	mkdir -p "$2"
	tar -xJf "$tarball" -C "$2" --strip-components=1 || return 1
}

# --- Debian 13's kernel -----------------------------------------------------

# How a tree is prepared; a change here prepares cached trees again.
DEBIAN13_RECIPE=1

# A stand-in pahole in directory $1 that only tells its version, $2 as
# Kconfig writes it (CONFIG_PAHOLE_VERSION, e.g. 130 for v1.30). Without
# a pahole of that version on PATH, olddefconfig turns DEBUG_INFO_BTF off
# and struct module changes size (../shared/kernel-api-drift.md). Module
# BTF is skipped anyway: the prepared tree has no vmlinux.
pahole_standin() {
	mkdir -p "$1"
	cat > "$1/pahole" <<SH
#!/bin/sh
# Stand-in written by scripts/setup.sh: answers --version only.
if [ "\$1" = --version ]; then echo v$(($2 / 100)).$(($2 % 100)); exit 0; fi
echo "pahole stand-in: only --version" >&2
exit 1
SH
	chmod +x "$1/pahole"
}

# prepare_debian13 ROOT RELEASE: the tree ROOT/src, configured as the
# image's /boot/config-RELEASE with the image's release, prepared with the
# host compiler, with the headers package's Module.symvers.
prepare_debian13() {
	local root=$1 rel=$2 src=$1/src kv lv pv bin
	local -a mk
	untar_source "$root/deb-source" "$src" || return 1
	bin=$root/bin
	pv=$(sed -n 's/^CONFIG_PAHOLE_VERSION=//p' "$root/boot/config-$rel")
	if [ -n "$pv" ] && [ "$pv" != 0 ]; then
		pahole_standin "$bin" "$pv"
	fi
	mk=(env "PATH=$bin:$PATH" make -C "$src" -s)
	cp "$root/boot/config-$rel" "$src/.config" || return 1
	kv=$("${mk[@]}" kernelversion)
	lv=${rel#"$kv"}
	[ "$kv$lv" = "$rel" ] && [ "$lv" != "$rel" ] ||
		{ log "release $rel does not start with the source's version $kv"; return 1; }
	"$src/scripts/config" --file "$src/.config" --set-str LOCALVERSION "$lv" \
		--disable LOCALVERSION_AUTO --set-str SYSTEM_TRUSTED_KEYS "" \
		--set-str SYSTEM_REVOCATION_KEYS "" || return 1
	"${mk[@]}" olddefconfig >&2 || return 1
	# What the module ABI hangs on must be as Debian set it.
	local o want got bad=
	for o in DEBUG_INFO_BTF DEBUG_INFO_BTF_MODULES MODVERSIONS MODULE_UNLOAD \
		PREEMPT_DYNAMIC SMP; do
		want=$(grep -E "^(# )?CONFIG_${o}[= ]" "$root/boot/config-$rel" || true)
		got=$(grep -E "^(# )?CONFIG_${o}[= ]" "$src/.config" || true)
		[ "$want" = "$got" ] || bad="$bad CONFIG_$o (Debian: '$want', here: '$got')"
	done
	[ -z "$bad" ] || { log "olddefconfig changed:$bad"; return 1; }
	got=$("${mk[@]}" kernelrelease)
	[ "$got" = "$rel" ] ||
		{ log "make kernelrelease says '$got', the image is '$rel'"; return 1; }
	log "make modules_prepare in $src ($(gcc --version | head -1))"
	"${mk[@]}" -j"$(nproc)" modules_prepare > "$root/prepare.log" 2>&1 ||
		{ tail -n 30 "$root/prepare.log" >&2; log "modules_prepare failed"; return 1; }
	cp "$root/usr/src/linux-headers-$rel/Module.symvers" "$src/Module.symvers"
}

do_debian13() {
	local start=$SECONDS fetched meta rel img hdr common kbuild series srcpkg ver dir key
	papt_setup debian13 trixie trixie-updates trixie-security || return 1
	# linux-image-amd64 depends on the signed image, linux-image-<release>.
	meta=$(papt_dep linux-image-amd64 '^linux-image-')
	[ -n "$meta" ] || { log "cannot resolve trixie's linux-image-amd64"; return 1; }
	rel=${meta#linux-image-}
	img=linux-image-$rel-unsigned
	hdr=linux-headers-$rel
	ver=$(papt apt-cache policy "$img" | awk '/Candidate:/ { print $2 }')
	[ -n "$ver" ] && [ "$ver" != "(none)" ] || { log "no $img in trixie"; return 1; }
	common=$(papt_dep "$hdr" '^linux-headers-.*-common$')
	kbuild=$(papt_dep "$hdr" '^linux-kbuild-')
	series=$(cut -d. -f1,2 <<< "$rel")
	srcpkg=linux-source-$series
	papt_versions "$srcpkg" | grep -qxF "$ver" ||
		{ log "no $srcpkg $ver (the image's version) in trixie"; return 1; }
	dir="$CACHE/debian13/$rel-$ver"
	key="recipe=$DEBIAN13_RECIPE version=$ver cc=$(gcc --version | head -1)"

	exec 7> "$CACHE/debian13.lock"
	flock -n 7 || { log "waiting for another setup of debian13"; flock 7; }
	if [ ! -f "$dir/.vmem-stamp" ] || [ "$(cat "$dir/.vmem-stamp")" != "$key" ]; then
		log "fetching $img $ver, its headers and $srcpkg"
		if [ ! -f "$dir/.fetched" ]; then
			rm -rf "$dir"
			papt_fetch "$dir" "$img=$ver" "$hdr=$ver" "$common=$ver" \
				"$kbuild=$ver" || return 1
			touch "$dir/.fetched"
		fi
		rm -rf "${dir:?}/src" "${dir:?}/bin" "$dir/deb-source"
		papt_fetch "$dir/deb-source" "$srcpkg=$ver" || return 1
		fetched=$SECONDS
		prepare_debian13 "$dir" "$rel" || return 1
		rm -rf "$dir/deb-source"
		echo "$key" > "$dir/.vmem-stamp"
		log "debian13: $rel ready in $((SECONDS - start)) s" \
			"(fetch and extract $((fetched - start)) s, prepare $((SECONDS - fetched)) s)"
	fi
	cat > "$CACHE/debian13.env.new" <<ENV
DEBIAN13_KVER=$rel
DEBIAN13_PKGVER=$ver
DEBIAN13_ROOT=$dir
DEBIAN13_KDIR=$dir/src
DEBIAN13_KERNEL=$dir/boot/vmlinuz-$rel
DEBIAN13_MODDIR=$dir/usr/lib/modules/$rel
ENV
	mv -f "$CACHE/debian13.env.new" "$CACHE/debian13.env"
	exec 7>&-
}

# --- The newest 7.x ---------------------------------------------------------

NEWEST_RECIPE=1

do_newest() {
	local start=$SECONDS name v best="" bestver="" dir key fragment="$top/scripts/newest-kernel.config"
	papt_setup newest forky trixie-backports experimental || return 1
	for name in $(papt apt-cache pkgnames linux-source-7. 2>/dev/null | sort); do
		for v in $(papt_versions "$name"); do
			if [ -z "$bestver" ] || dpkg --compare-versions "$v" gt "$bestver"; then
				best=$name bestver=$v
			fi
		done
	done
	[ -n "$best" ] || { log "no linux-source-7.* in forky, trixie-backports or experimental"; return 1; }
	dir="$CACHE/newest/$best-$bestver"
	key="recipe=$NEWEST_RECIPE fragment=$(sha256sum < "$fragment" | cut -d' ' -f1) cc=$(gcc --version | head -1)"

	exec 7> "$CACHE/newest.lock"
	flock -n 7 || { log "waiting for another setup of newest"; flock 7; }
	if [ ! -f "$dir/.vmem-stamp" ] || [ "$(cat "$dir/.vmem-stamp")" != "$key" ]; then
		if [ ! -f "$dir/src/Makefile" ]; then
			log "fetching $best $bestver"
			rm -rf "$dir"
			papt_fetch "$dir/deb-source" "$best=$bestver" || return 1
			untar_source "$dir/deb-source" "$dir/src" || return 1
			rm -rf "$dir/deb-source"
			log "newest: fetched and extracted in $((SECONDS - start)) s"
		fi
		log "configuring $best $bestver: defconfig + ${fragment##*/}"
		(cd "$dir/src" && make -s defconfig &&
			scripts/kconfig/merge_config.sh -m .config "$fragment" &&
			make -s olddefconfig) > "$dir/config.log" 2>&1 ||
			{ tail -n 30 "$dir/config.log" >&2; log "configuration failed"; return 1; }
		local bad
		bad=$(verify_fragment "$fragment" "$dir/src/.config") ||
			{ log "did not stick: $(tr '\n' ';' <<< "$bad")"; return 1; }
		log "make modules_prepare in $dir/src ($(gcc --version | head -1))"
		make -C "$dir/src" -s -j"$(nproc)" modules_prepare > "$dir/prepare.log" 2>&1 ||
			{ tail -n 30 "$dir/prepare.log" >&2; log "modules_prepare failed"; return 1; }
		echo "$key" > "$dir/.vmem-stamp"
		log "newest: $best $bestver ready in $((SECONDS - start)) s"
	fi
	cat > "$CACHE/newest.env.new" <<ENV
NEWEST_PKG=$best
NEWEST_PKGVER=$bestver
NEWEST_KDIR=$dir/src
NEWEST_KVER=$(make -C "$dir/src" -s kernelrelease)
ENV
	mv -f "$CACHE/newest.env.new" "$CACHE/newest.env"
	exec 7>&-
}

case "${1:-all}" in
packages) do_packages ;;
guest) do_packages; do_guest ;;
source) do_packages; do_source ;;
debian13) do_packages; do_debian13 ;;
all) do_packages; do_guest; do_source; do_debian13 ;;
newest) do_packages; do_newest ;;
env)
	for f in guest source debian13 newest debug; do
		cat "$CACHE/$f.env" 2>/dev/null || true
	done
	echo "VMEM_CACHE=$CACHE"
	;;
*) echo "usage: $0 [packages|guest|source|debian13|all|newest|env]" >&2; exit 2 ;;
esac
