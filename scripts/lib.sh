# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=bash
#
# Sourced by every script of scripts/ (bash): what they share.
#
#   top     the checkout this file is in
#   CACHE   the project cache, computed here and nowhere else:
#           ${VMEM_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/virtio-mem-driver}
#
# Run as a program, "bash scripts/lib.sh cache" prints CACHE (the Makefile
# takes it from there).

top=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
CACHE=${VMEM_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/virtio-mem-driver}

# load_env NAME: the variables a setup step wrote to $CACHE/NAME.env
# (guest, source, debug, debian13, ...).
load_env() {
	# shellcheck source=/dev/null
	. "$CACHE/$1.env"
}

# duration SECONDS: "4m05s".
duration() { printf '%dm%02ds' $(($1 / 60)) $(($1 % 60)); }

# build_dir NAME: a build directory of this checkout in the cache. Two
# checkouts never share one, so a soak of one cannot load another's module.
build_dir() {
	echo "$CACHE/build/$(printf %s "$top" | md5sum | cut -c1-12)/$1"
}

# stage_sources DEST PATH...: copy the project's files (tracked, and
# untracked but not ignored: no build products) under PATHs to DEST.
# Unchanged files are left alone, so a build there is incremental; a
# changed one gets the time of the copy (not the source's: objects built
# from another worktree's copy may be newer than it).
stage_sources() {
	local dest=$1
	shift
	mkdir -p "$dest"
	(cd "$top" && git ls-files -co --exclude-standard -- "$@") |
		rsync -rlpD --checksum --delete-missing-args --files-from=- "$top/" "$dest/"
}

# verify_fragment FRAGMENT CONFIG: every CONFIG_X=v and "# CONFIG_X is not
# set" line of the Kconfig fragment must be in the .config CONFIG as
# written; Kconfig drops unmet ones silently. Prints each one that is not
# ("CONFIG_X: wanted v, got w") and returns 1 if there is one.
verify_fragment() {
	local line sym want got bad=0
	while IFS= read -r line; do
		case $line in
		CONFIG_*=*)
			sym=${line%%=*}
			want=${line#*=}
			;;
		"# CONFIG_"*" is not set")
			sym=${line#\# }
			sym=${sym%% *}
			want=n
			;;
		*) continue ;;
		esac
		got=$(sed -n "s/^$sym=//p" "$2")
		[ -n "$got" ] || got=n
		if [ "$got" != "$want" ]; then
			echo "$sym: wanted $want, got $got"
			bad=1
		fi
	done < "$1"
	return "$bad"
}

# guest_kernel NAME: prepare guest kernel NAME for the QEMU harness
# (tools/qemu) and set
#   GUEST_ARGS  its --kernel, --moddir and --ko arguments
#   GUEST_ENV   VAR=value words the harness needs in its environment
# for NAME
#   debian    Debian 12's kernel, with $top/virtio_mem.ko (make builds it)
#   debug     the project's debug kernel (scripts/debug-kernel.sh), with
#             the module built against it; virtio built in, no moddir
#   debian13  Debian 13's kernel (scripts/setup.sh debian13), with the
#             module built against the tree prepared for it; its modules
#             are .ko.xz and its virtio transports are built in
# Returns 1 (with a message) if NAME is none of them or a step failed.
# shellcheck disable=SC2034
guest_kernel() {
	local ko
	GUEST_ARGS=() GUEST_ENV=()
	case $1 in
	debian)
		"$top/scripts/setup.sh" guest || return 1
		load_env guest
		GUEST_ARGS=(--kernel "$GUEST_KERNEL" --moddir "$GUEST_MODDIR"
			--ko "$top/virtio_mem.ko")
		;;
	debug)
		"$top/scripts/debug-kernel.sh" || return 1
		load_env debug
		ko=$("$top/scripts/build-copy.sh" "$DEBUG_KDIR" debug) || return 1
		GUEST_ARGS=(--kernel "$DEBUG_KERNEL" --moddir "" --ko "$ko")
		# KASAN's shadow takes 1/8 of all memory, hot-plugged memory too.
		GUEST_ENV=(VMTEST_MIN_BOOT_MEM=4G)
		;;
	debian13)
		"$top/scripts/setup.sh" debian13 || return 1
		load_env debian13
		ko=$("$top/scripts/build-copy.sh" "$DEBIAN13_KDIR" debian13) || return 1
		GUEST_ARGS=(--kernel "$DEBIAN13_KERNEL" --moddir "$DEBIAN13_MODDIR"
			--ko "$ko")
		;;
	*)
		echo "${0##*/}: no guest kernel '$1' (debian, debug or debian13)" >&2
		return 1
		;;
	esac
}

if [ "${BASH_SOURCE[0]}" = "$0" ]; then
	case "${1:-}" in
	cache) echo "$CACHE" ;;
	*) echo "usage: bash $0 cache (or source it)" >&2; exit 2 ;;
	esac
fi
