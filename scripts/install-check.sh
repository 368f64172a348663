#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# scripts/install-check.sh [install] [dkms] [intree]    (all three by default)
#
# The ways to install the driver (Documentation/install.rst), checked
# against Debian 12's kernel headers and linux-source-6.1 from the cache,
# without touching the system:
#   install  make install INSTALL_MOD_PATH=<tmp>, over a copy of Debian's
#            in-tree virtio_mem.ko: ours lands in lib/modules/<release>/
#            updates/, modules.dep lists it (not the in-tree one), its
#            vermagic is <release>
#   dkms     dkms add, build and install (--no-depmod) with ./dkms.conf in
#            a temporary tree (--dkmstree, --sourcetree, --installtree),
#            signed with a throw-away key, with a scripts/setup.sh that must
#            not be called; the same checks; /var/lib/dkms, /usr/src and
#            /lib/modules/<release> stay as they were
#   intree   scripts/intree.sh on a hardlinked copy of linux-source-6.1
#            (the original must not change; a second run must change
#            nothing), x86_64 tinyconfig + scripts/intree.config
#            (CONFIG_VIRTIO_MEM=y), make drivers/virtio/: our objects
#            (KUnit suites too) are in its built-in.a, upstream's
#            virtio_mem.o is not. The copy and its O= directory stay in
#            $CACHE/intree, made again when the fragment, the source
#            package or the compiler change: a warm run compiles only the
#            driver files that changed.
# Prints "PASS: <way>/<case>" and "FAIL: <way>/<case>: why" lines; exits
# non-zero if a case failed.
set -uo pipefail

# shellcheck source=scripts/lib.sh
. "$(dirname "$0")/lib.sh"
export VMEM_CACHE=$CACHE
# A KCONFIG_CONFIG from the caller would send .config elsewhere.
unset KCONFIG_CONFIG

failed=0
pass() { echo "PASS: $1"; }
fail() { echo "FAIL: $1: $2"; failed=1; }
log() { echo "install-check: $*" >&2; }
# Print the last lines of a log, indented, to stderr.
tail_log() { tail -n "${2:-25}" "$1" | sed 's/^/    /' >&2; }

as_root() {
	if [ "$(id -u)" = 0 ]; then "$@"; else sudo -n "$@"; fi
}

tmp=$(mktemp -d "${TMPDIR:-/tmp}/vmem-install-check.XXXXXX")
# dkms runs as root: what it leaves in $tmp may be root's.
trap 'rm -rf "$tmp" 2>/dev/null || as_root rm -rf "$tmp"' EXIT

version=$(sed -n 's/^#define VMEM_VERSION "\(.*\)"$/\1/p' "$top/drivers/vmem_virtio.c")

# First word of a module's vermagic.
vermagic() { modinfo -F vermagic "$1" 2>/dev/null | awk '{ print $1 }'; }

guest_loaded=
load_guest() {
	[ -z "$guest_loaded" ] || return 0
	"$top/scripts/setup.sh" guest || return 1
	guest_loaded=1
	load_env guest
}

# $1/lib/modules/<release> as the Debian kernel has it, as far as depmod
# cares: its module lists and the in-tree virtio_mem.ko ours must win over.
kernel_root() {
	local dir="$1/lib/modules/$GUEST_KVER" f
	mkdir -p "$dir/kernel/drivers/virtio"
	for f in modules.order modules.builtin modules.builtin.modinfo; do
		cp "$GUEST_MODDIR/$f" "$dir/"
	done
	cp "$GUEST_MODDIR/kernel/drivers/virtio/virtio_mem.ko" "$dir/kernel/drivers/virtio/"
}

# precedence CASE ROOT PATH: modules.dep of ROOT lists PATH for virtio_mem
# and not the in-tree one: modprobe virtio_mem loads ours.
precedence() {
	local dep="$2/lib/modules/$GUEST_KVER/modules.dep"
	if ! grep -q "^$3:" "$dep" 2>/dev/null; then
		fail "$1" "modules.dep does not list $3"
	elif grep -q '^kernel/drivers/virtio/virtio_mem\.ko:' "$dep"; then
		fail "$1" "modules.dep lists the in-tree kernel/drivers/virtio/virtio_mem.ko"
	elif [ ! -f "$2/lib/modules/$GUEST_KVER/kernel/drivers/virtio/virtio_mem.ko" ]; then
		fail "$1" "the in-tree virtio_mem.ko is gone from kernel/"
	else
		pass "$1"
	fi
}

# --- make install -----------------------------------------------------------

check_install() {
	local out root ko dir others got start=$SECONDS
	load_guest || { fail install/setup "scripts/setup.sh guest failed"; return; }
	# A build directory of this checkout (as scripts/build-copy.sh makes
	# them): building in the checkout would race the other stages.
	out=$(build_dir install-check)
	root="$tmp/root"
	stage_sources "$out" Makefile Kbuild Kconfig drivers include kunit \
		scripts/setup.sh scripts/lib.sh
	kernel_root "$root"
	# No KDIR: the Makefile's default, the cached Debian headers.
	if ! make -C "$out" -j"$(nproc)" install INSTALL_MOD_PATH="$root" \
		> "$tmp/install.log" 2>&1; then
		tail_log "$tmp/install.log"
		fail install/make "make install failed (log above)"
		return
	fi
	pass install/make

	dir="$root/lib/modules/$GUEST_KVER"
	ko="$dir/updates/virtio_mem.ko"
	if [ -f "$ko" ]; then
		pass install/path
	else
		fail install/path "no ${ko#"$root"}; installed: $(cd "$root" &&
			find . -name 'virtio_mem.ko*' | tr '\n' ' ')"
		return
	fi
	others=$(find "$root/lib/modules" -mindepth 1 -maxdepth 1 ! -name "$GUEST_KVER" -printf '%f ')
	if [ -z "$others" ]; then
		pass install/release
	else
		fail install/release "also installed for $others(not a release of this kernel)"
	fi
	precedence install/depmod "$root" updates/virtio_mem.ko
	got=$(vermagic "$ko")
	if [ "$got" = "$GUEST_KVER" ]; then
		pass install/vermagic
	else
		fail install/vermagic "vermagic '$got', wanted '$GUEST_KVER'"
	fi
	got=$(modinfo -F version "$ko" 2>/dev/null)
	if [ "$got" = "$version" ]; then
		pass install/version
	else
		fail install/version "modinfo version '$got', VMEM_VERSION '$version'"
	fi
	log "install: $((SECONDS - start)) s"
}

# --- DKMS -------------------------------------------------------------------

# What dkms could touch on the system: its tree, the sources it registers,
# the modules of the kernel it builds for.
system_state() {
	find /var/lib/dkms /usr/src "/lib/modules/$GUEST_KVER" -maxdepth 3 \
		-printf '%p %s %T@\n' 2>/dev/null | sort | sha256sum
}

check_dkms() {
	local d="$tmp/dkms" state ko got arch start=$SECONDS
	local -a opts
	load_guest || { fail dkms/setup "scripts/setup.sh guest failed"; return; }
	command -v dkms > /dev/null ||
		{ fail dkms/available "no dkms (scripts/setup.sh packages installs it)"; return; }
	mkdir -p "$d/tree" "$d/source"
	kernel_root "$d/root"
	# What a user has after a clone, but for scripts/setup.sh: a dkms build
	# (as root, maybe from a dpkg run) must not call it (NO_SETUP=1). A
	# stand-in tells if it does.
	stage_sources "$d/export" dkms.conf Makefile Kbuild Kconfig drivers \
		include kunit
	mkdir -p "$d/export/scripts"
	printf '#!/bin/sh\necho "$0 $*" >> %s/setup-called; exit 1\n' "$d" \
		> "$d/export/scripts/setup.sh"
	chmod +x "$d/export/scripts/setup.sh"
	opts=(--dkmstree "$d/tree" --sourcetree "$d/source" \
		--installtree "$d/root/lib/modules")
	state=$(system_state)
	arch=$(uname -m)

	if ! as_root dkms add "$d/export" "${opts[@]}" > "$tmp/dkms-add.log" 2>&1; then
		tail_log "$tmp/dkms-add.log"
		fail dkms/add "dkms add failed (log above)"
		return
	fi
	pass dkms/add
	if [ -d "$d/tree/virtio-mem/$version" ]; then
		pass dkms/version
	else
		fail dkms/version "dkms registered $(ls "$d/tree/virtio-mem" 2>/dev/null | tr '\n' ' '), not $version (VMEM_VERSION)"
		return
	fi

	# sign_file and the MOK key are dkms framework settings; from the
	# environment they keep its key generation in $d, where Debian's dkms
	# would put it in /var/lib/dkms. sign-file is the one of the headers.
	if ! as_root env sign_file="$GUEST_KDIR/scripts/sign-file" \
		mok_signing_key="$d/mok.key" mok_certificate="$d/mok.pub" \
		dkms build -m virtio-mem -v "$version" -k "$GUEST_KVER" -a "$arch" \
		--kernelsourcedir "$GUEST_KDIR" "${opts[@]}" \
		> "$tmp/dkms-build.log" 2>&1; then
		tail_log "$tmp/dkms-build.log" 10
		[ -f "$d/tree/virtio-mem/$version/build/make.log" ] &&
			tail_log "$d/tree/virtio-mem/$version/build/make.log"
		fail dkms/build "dkms build failed (logs above)"
		return
	fi
	pass dkms/build
	if [ -e "$d/setup-called" ]; then
		fail dkms/no-setup "the dkms build ran $(head -n 1 "$d/setup-called")"
	else
		pass dkms/no-setup
	fi

	ko="$d/tree/virtio-mem/$version/$GUEST_KVER/$arch/module/virtio_mem.ko"
	if [ -f "$ko" ]; then
		pass dkms/module
	else
		fail dkms/module "no ${ko#"$d"/} in the dkms tree"
		return
	fi
	got=$(vermagic "$ko")
	if [ "$got" = "$GUEST_KVER" ]; then
		pass dkms/vermagic
	else
		fail dkms/vermagic "vermagic '$got', wanted '$GUEST_KVER'"
	fi
	got=$(modinfo -F signer "$ko" 2>/dev/null)
	if [ "$got" = "DKMS module signing key" ]; then
		pass dkms/signed
	else
		fail dkms/signed "signer '$got', wanted dkms's throw-away key"
	fi

	# --no-depmod: dkms would run depmod on the system's tree.
	if ! as_root dkms install --no-depmod -m virtio-mem -v "$version" \
		-k "$GUEST_KVER" -a "$arch" --kernelsourcedir "$GUEST_KDIR" \
		"${opts[@]}" > "$tmp/dkms-install.log" 2>&1; then
		tail_log "$tmp/dkms-install.log"
		fail dkms/install "dkms install failed (log above)"
	elif [ ! -f "$d/root/lib/modules/$GUEST_KVER/updates/dkms/virtio_mem.ko" ]; then
		tail_log "$tmp/dkms-install.log"
		fail dkms/install "no lib/modules/$GUEST_KVER/updates/dkms/virtio_mem.ko after dkms install (log above)"
	else
		pass dkms/install
		depmod -b "$d/root" "$GUEST_KVER" 2> "$tmp/dkms-depmod.log"
		precedence dkms/depmod "$d/root" updates/dkms/virtio_mem.ko
	fi

	if [ "$(system_state)" = "$state" ]; then
		pass dkms/system-untouched
	else
		fail dkms/system-untouched "/var/lib/dkms, /usr/src or /lib/modules/$GUEST_KVER changed"
	fi
	log "dkms: $((SECONDS - start)) s"
}

# --- in-tree ----------------------------------------------------------------

intree_dir="$CACHE/intree"
intree_src="$intree_dir/src"
intree_out="$intree_dir/out"
intree_stamp="$intree_dir/.vmem-stamp"
fragment="$top/scripts/intree.config"

kmake() { make -C "$intree_src" O="$intree_out" ARCH=x86_64 "$@"; }

# What the cached tree and its configuration depend on.
intree_key() {
	echo "fragment=$(sha256sum < "$fragment" | cut -d' ' -f1)"
	echo "source=${LINUX_SRC##*/}"
	echo "cc=$(gcc --version | head -1)"
	echo "layout=1"
}

# A copy of $LINUX_SRC that shares its files (hardlinks, as cp -al): only
# files written anew (rename) may differ. scripts/kunit.sh stages the
# driver into the cached tree as lib/virtio_mem_kunit; that does not belong
# here (it would build the driver twice). rsync, not cp -al: other checks
# work in $LINUX_SRC (coccicheck's temporary files), and a file that
# vanishes during the copy is no error (exit code 24).
intree_copy() {
	local f rc=0
	rm -rf "$intree_dir"
	mkdir -p "$intree_src.tmp"
	rsync -a --link-dest="$LINUX_SRC" --exclude=/lib/virtio_mem_kunit/ \
		"$LINUX_SRC/" "$intree_src.tmp/" || rc=$?
	[ $rc = 0 ] || [ $rc = 24 ] || return 1
	for f in lib/Makefile lib/Kconfig.debug; do
		grep -v 'virtio_mem_kunit' "$LINUX_SRC/$f" > "$intree_src.tmp/$f.new" &&
			mv -f "$intree_src.tmp/$f.new" "$intree_src.tmp/$f" || return 1
	done
	mv "$intree_src.tmp" "$intree_src"
}

# Every line of the fragment must be in the final .config as written.
intree_verify_config() {
	local bad
	bad=$(verify_fragment "$fragment" "$intree_out/.config") ||
		{ echo "wanted as in ${fragment#"$top"/}: $(tr '\n' ';' <<< "$bad")"; return 1; }
}

intree_configure() {
	mkdir -p "$intree_out"
	kmake -s tinyconfig > "$intree_dir/config.log" 2>&1 &&
		(cd "$intree_out" && "$intree_src/scripts/kconfig/merge_config.sh" -m \
			-O "$intree_out" "$intree_out/.config" "$fragment") \
			>> "$intree_dir/config.log" 2>&1 &&
		kmake -s olddefconfig >> "$intree_dir/config.log" 2>&1
}

# A digest of the files scripts/intree.sh writes, with their times: equal
# digests before and after a run mean the run changed nothing.
intree_digest() {
	(cd "$intree_src/drivers/virtio" &&
		find Makefile Kconfig virtio_mem -printf '%p %T@ %i\n' | sort &&
		cat Makefile Kconfig) | sha256sum
}

check_intree() {
	local start=$SECONDS t_prep t_build pristine before why list o fresh
	"$top/scripts/setup.sh" source > /dev/null ||
		{ fail intree/setup "scripts/setup.sh source failed"; return; }
	load_env source
	# One cached tree for every checkout on this cache: serialize.
	exec 8> "$CACHE/intree.lock"
	flock -n 8 || { log "waiting for another in-tree check"; flock 8; }

	# The stamp says: copied and configured for this key. The build in
	# $intree_out is incremental whatever happened to the last one.
	fresh=
	if [ -f "$intree_stamp" ] && [ "$(intree_key)" = "$(cat "$intree_stamp")" ]; then
		log "in-tree: cached tree $intree_dir"
	else
		fresh=1
		log "in-tree: copying ${LINUX_SRC##*/} to $intree_src (hardlinks)"
		intree_copy || { fail intree/copy "the hardlinked copy of $LINUX_SRC failed"; return; }
	fi
	# Back to upstream's files, shared with the pristine tree: intree.sh
	# must replace them, not write into them.
	ln -f "$LINUX_SRC/drivers/virtio/Makefile" "$intree_src/drivers/virtio/Makefile"
	ln -f "$LINUX_SRC/drivers/virtio/Kconfig" "$intree_src/drivers/virtio/Kconfig"
	pristine=$(cat "$LINUX_SRC/drivers/virtio/Makefile" "$LINUX_SRC/drivers/virtio/Kconfig" | sha256sum)

	if ! "$top/scripts/intree.sh" "$intree_src" > "$tmp/intree.log" 2>&1; then
		tail_log "$tmp/intree.log"
		fail intree/patch "scripts/intree.sh failed (log above)"
		return
	fi
	why=
	grep -qxF 'obj-$(CONFIG_VIRTIO_MEM) += virtio_mem/' "$intree_src/drivers/virtio/Makefile" ||
		why="drivers/virtio/Makefile does not descend into virtio_mem/; "
	grep -qE '^obj-\$\(CONFIG_VIRTIO_MEM\).*virtio_mem\.o' "$intree_src/drivers/virtio/Makefile" &&
		why="${why}drivers/virtio/Makefile still builds virtio_mem.o; "
	grep -qxF 'source "drivers/virtio/virtio_mem/Kconfig"' "$intree_src/drivers/virtio/Kconfig" ||
		why="${why}drivers/virtio/Kconfig does not source ours; "
	grep -qx 'config VIRTIO_MEM' "$intree_src/drivers/virtio/Kconfig" ||
		why="${why}drivers/virtio/Kconfig lost VIRTIO_MEM; "
	[ -f "$intree_src/drivers/virtio/virtio_mem/Kbuild" ] ||
		why="${why}no drivers/virtio/virtio_mem/Kbuild; "
	if [ -z "$why" ]; then pass intree/patch; else fail intree/patch "${why%; }"; fi

	if [ "$(cat "$LINUX_SRC/drivers/virtio/Makefile" "$LINUX_SRC/drivers/virtio/Kconfig" |
		sha256sum)" = "$pristine" ] && [ ! -e "$LINUX_SRC/drivers/virtio/virtio_mem" ]; then
		pass intree/pristine
	else
		fail intree/pristine "scripts/intree.sh changed ${LINUX_SRC##*/} through a hardlink"
	fi

	before=$(intree_digest)
	"$top/scripts/intree.sh" "$intree_src" > "$tmp/intree2.log" 2>&1
	if [ "$(intree_digest)" = "$before" ] && [ ! -s "$tmp/intree2.log" ]; then
		pass intree/idempotent
	else
		fail intree/idempotent "a second run changed the tree: $(tr '\n' ' ' < "$tmp/intree2.log")"
	fi

	if [ -n "$fresh" ]; then
		log "in-tree: configuring $intree_out (tinyconfig + ${fragment##*/})"
		if ! intree_configure; then
			tail_log "$intree_dir/config.log"
			fail intree/config "configuration failed (log above)"
			return
		fi
	fi
	if why=$(intree_verify_config); then
		pass intree/config
		[ -z "$fresh" ] || intree_key > "$intree_stamp"
	else
		fail intree/config "$why"
		return
	fi
	t_prep=$((SECONDS - start))

	log "in-tree: make -j$(nproc) drivers/virtio/ (log: $intree_dir/build.log)"
	if ! kmake -j"$(nproc)" drivers/virtio/ > "$intree_dir/build.log" 2>&1; then
		tail_log "$intree_dir/build.log" 40
		fail intree/build "make drivers/virtio/ failed (log above)"
		return
	fi
	t_build=$((SECONDS - start - t_prep))
	pass intree/build

	# A thin archive names its members by path (relative to where ar runs).
	list=$(cd "$intree_out" && ar t drivers/virtio/built-in.a 2>/dev/null)
	why=
	for o in drivers/vmem_virtio.o drivers/vmem_engine.o kunit/vmem_engine_test.o; do
		grep -qE "(^|/)drivers/virtio/virtio_mem/${o%.o}\.o\$" <<< "$list" ||
			why="$why $o"
	done
	if [ -z "$why" ]; then
		pass intree/objects
	else
		fail intree/objects "not in drivers/virtio/built-in.a:$why"
	fi
	if grep -qE '(^|/)drivers/virtio/virtio_mem\.o$' <<< "$list"; then
		fail intree/no-upstream "upstream's drivers/virtio/virtio_mem.o is in drivers/virtio/built-in.a"
	else
		pass intree/no-upstream
	fi
	log "in-tree: copy, patch and configure $((t_prep / 60))m$((t_prep % 60))s, build $((t_build / 60))m$((t_build % 60))s"
}

[ $# -gt 0 ] || set -- install dkms intree
for way in "$@"; do
	case $way in
	install) check_install ;;
	dkms) check_dkms ;;
	intree) check_intree ;;
	*) echo "usage: $0 [install] [dkms] [intree]" >&2; exit 2 ;;
	esac
done
exit "$failed"
