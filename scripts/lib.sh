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
# Unchanged files keep their times, so a build there is incremental.
stage_sources() {
	local dest=$1
	shift
	mkdir -p "$dest"
	(cd "$top" && git ls-files -co --exclude-standard -- "$@") |
		rsync -a --checksum --delete-missing-args --files-from=- "$top/" "$dest/"
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

if [ "${BASH_SOURCE[0]}" = "$0" ]; then
	case "${1:-}" in
	cache) echo "$CACHE" ;;
	*) echo "usage: bash $0 cache (or source it)" >&2; exit 2 ;;
	esac
fi
