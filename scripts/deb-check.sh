#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# scripts/deb-check.sh [build [OUTDIR]]
#
# The Debian packages (debian/), built and checked without touching the
# system:
#   build     (make deb) copy the checkout's files (tracked, and untracked
#             but not ignored) to a temporary tree and run
#             dpkg-buildpackage -b -us -uc there: virtio-mem-dkms_<v>_all.deb
#             and virtio-mem-tools_<v>_<arch>.deb land in OUTDIR (dist/ by
#             default), <v> being the driver's VMEM_VERSION.
#   (no argument) build into a temporary OUTDIR, then check:
#     version   debian/changelog's version is VMEM_VERSION
#     lintian   no error and no warning (lintian --fail-on error,warning);
#               every override in debian/*.lintian-overrides has a reason
#               in a comment above it, and none is unused
#     contents  dpkg-deb -c: the DKMS source with a dkms.conf that names
#               the version, the udev rule inactive and its helper
#               executable, vmemctl and its man page, no build product
#     install   both packages unpacked into a throwaway root, and the
#               dkms package's own postinst and prerm run there, in a
#               mount namespace where /usr/src, /var/lib/dkms, /etc/dkms
#               and /lib/modules are the root's: DKMS builds the module
#               against the cached Debian headers ($VMEM_CACHE/guest.env),
#               signs it and installs it into updates/dkms/, where
#               modules.dep prefers it to the in-tree one; the prerm
#               removes it; vmemctl from the package runs. The system's
#               /var/lib/dkms, /usr/src, /etc/dkms and /lib/modules are
#               checked unchanged (no dpkg -i on this machine).
# Prints "PASS: deb/<check>" and "FAIL: deb/<check>: why" lines; exits
# non-zero if one failed.
# Needs (Debian): dpkg-dev debhelper dh-dkms lintian dkms, and for the
# install check root (unshare, mount) and scripts/setup.sh guest.
set -uo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
CACHE=${VMEM_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/virtio-mem-driver}
export VMEM_CACHE=$CACHE

failed=0
pass() { echo "PASS: deb/$1"; }
fail() { echo "FAIL: deb/$1: $2"; failed=1; }
log() { echo "deb-check: $*" >&2; }
tail_log() { tail -n "${2:-25}" "$1" | sed 's/^/    /' >&2; }

version=$(sed -n 's/^#define VMEM_VERSION "\(.*\)"$/\1/p' "$top/drivers/vmem_virtio.c")
arch=$(dpkg --print-architecture)

tmp=$(mktemp -d "${TMPDIR:-/tmp}/vmem-deb-check.XXXXXX")
trap 'rm -rf "$tmp"' EXIT

# The tools the build and the checks need, by Debian package.
need_tools() {
	local t missing=
	for t in dpkg-buildpackage:dpkg-dev dh:debhelper dh_dkms:dh-dkms \
		lintian:lintian dkms:dkms; do
		command -v "${t%%:*}" > /dev/null || missing+=" ${t#*:}"
	done
	[ -z "$missing" ] && return 0
	echo "missing Debian packages:$missing (apt-get install$missing)"
	return 1
}

# build OUTDIR: the packages of the checkout into OUTDIR.
build() {
	local out=$1 stage="$tmp/stage" src f got
	got=$(cd "$top" && dpkg-parsechangelog -SVersion)
	if [ "$got" != "$version" ]; then
		log "debian/changelog says $got, VMEM_VERSION $version (dch -v $version)"
		return 1
	fi
	src="$stage/virtio-mem-$version"
	mkdir -p "$src" "$out" || return 1
	(cd "$top" && git ls-files -co --exclude-standard -z -- . ':!dist') |
		(cd "$top" && tar -cf - --null -T -) | tar -xf - -C "$src" || return 1
	log "dpkg-buildpackage -b -us -uc in $src (log: $tmp/build.log)"
	if ! (cd "$src" && dpkg-buildpackage -b -us -uc) > "$tmp/build.log" 2>&1; then
		tail_log "$tmp/build.log"
		return 1
	fi
	for f in "$stage"/*.deb "$stage"/*.changes "$stage"/*.buildinfo; do
		cp "$f" "$out/" || return 1
	done
	# dist/ is the build's own: git leaves it alone.
	[ "$out" != "$top/dist" ] || echo '*' > "$out/.gitignore"
	ls "$out"/virtio-mem-dkms_"$version"_all.deb \
		"$out"/virtio-mem-tools_"$version"_"$arch".deb
}

if [ "${1:-}" = build ]; then
	why=$(need_tools) || { echo "deb-check: $why" >&2; exit 1; }
	build "$(realpath -m "${2:-$top/dist}")" || { echo "deb-check: build failed" >&2; exit 1; }
	exit 0
elif [ $# -ne 0 ]; then
	echo "usage: $0 [build [OUTDIR]]" >&2
	exit 2
fi

# --- build ------------------------------------------------------------------

if why=$(need_tools); then
	pass tools
else
	fail tools "$why"
	exit 1
fi
got=$(cd "$top" && dpkg-parsechangelog -SVersion)
if [ "$got" = "$version" ]; then
	pass version
else
	fail version "debian/changelog says $got, VMEM_VERSION $version (add a changelog entry: dch -v $version)"
	exit 1
fi
out="$tmp/out"
if ! build "$out" > /dev/null; then
	fail build "dpkg-buildpackage failed (log above)"
	exit 1
fi
dkms_deb="$out/virtio-mem-dkms_${version}_all.deb"
tools_deb="$out/virtio-mem-tools_${version}_${arch}.deb"
if [ -f "$dkms_deb" ] && [ -f "$tools_deb" ]; then
	pass build
else
	fail build "no ${dkms_deb##*/} and ${tools_deb##*/}: $(find "$out" -name '*.deb' -printf '%f ')"
	exit 1
fi

# --- lintian ----------------------------------------------------------------

# Every override line has a comment line right above it (its reason).
why=
for f in "$top"/debian/*.lintian-overrides; do
	[ -e "$f" ] || continue
	why+=$(awk -v f="${f##*/}" '
		/^[[:space:]]*$/ { prev = ""; next }
		/^#/ { prev = "#"; next }
		prev != "#" { printf " %s:%d has no reason;", f, NR }
		{ prev = "o" }' "$f")
done
if [ -z "$why" ]; then
	pass lintian-overrides-justified
else
	fail lintian-overrides-justified "$why"
fi

# The tags at info level too, to see unused overrides; errors and
# warnings fail it.
lintian --info --display-info --fail-on error,warning "$out"/*.changes \
	> "$tmp/lintian.log" 2>&1
rc=$?
grep -v '^running with root privileges' "$tmp/lintian.log" > "$tmp/lintian.tags"
if [ $rc -ne 0 ] || grep -qE '^[EW]: ' "$tmp/lintian.tags"; then
	sed 's/^/    /' "$tmp/lintian.tags" | grep -E '^    [EW]: ' | head -20 >&2
	fail lintian "errors or warnings (exit $rc; above)"
elif grep -qE 'unused-override|mismatched-override' "$tmp/lintian.tags"; then
	grep -E 'unused-override|mismatched-override' "$tmp/lintian.tags" | sed 's/^/    /' >&2
	fail lintian "an override matches nothing (above)"
else
	pass lintian
fi

# --- contents ---------------------------------------------------------------

# has LIST MODE PATH: LIST (dpkg-deb -c) has PATH with a mode like MODE.
has() { awk -v m="$2" -v p="./$3" '$6 == p && $1 ~ m { f = 1 } END { exit !f }' "$1"; }

dpkg-deb -c "$dkms_deb" > "$tmp/dkms.list"
dpkg-deb -c "$tools_deb" > "$tmp/tools.list"
s="usr/src/virtio-mem-$version"
why=
for p in dkms.conf Makefile Kbuild Kconfig drivers/vmem_virtio.c \
	drivers/vmem_engine.c include/vmem_compat.h include/vmem_trace.h; do
	has "$tmp/dkms.list" '^-rw-r--r--' "$s/$p" || why+=" no $s/$p;"
done
has "$tmp/dkms.list" '^-rwxr-xr-x' usr/lib/udev/virtio-mem-online ||
	why+=" no executable usr/lib/udev/virtio-mem-online;"
has "$tmp/dkms.list" '^-rw-r--r--' usr/share/virtio-mem/80-virtio-mem.rules ||
	why+=" no usr/share/virtio-mem/80-virtio-mem.rules;"
has "$tmp/dkms.list" '^-' usr/share/doc/virtio-mem-dkms/README.Debian ||
	why+=" no README.Debian;"
# The rule is off until turned on: not where udev reads rules.
grep -qE '\./(etc|lib|usr/lib)/udev/rules\.d/' "$tmp/dkms.list" &&
	why+=" a udev rule is active by default;"
grep -qE '\.(o|ko|a|mod|cmd)$|/(\.tmp_versions|Module\.symvers|modules\.order)' \
	"$tmp/dkms.list" && why+=" build products in the source;"
grep -qE '\./usr/src/.*/(tools|scripts|debian|\.ci)/' "$tmp/dkms.list" &&
	why+=" more than the driver in /usr/src;"
dpkg-deb --fsys-tarfile "$dkms_deb" | tar -xOf - "./$s/dkms.conf" > "$tmp/dkms.conf"
grep -qx "PACKAGE_VERSION=\"$version\"" "$tmp/dkms.conf" ||
	why+=" dkms.conf does not say PACKAGE_VERSION=\"$version\";"
[ "$(dpkg-deb -f "$dkms_deb" Architecture)" = all ] || why+=" dkms package not Architecture: all;"
dpkg-deb -f "$dkms_deb" Depends | grep -q '\bdkms\b' || why+=" dkms package does not depend on dkms;"
if [ -z "$why" ]; then pass contents-dkms; else fail contents-dkms "$why"; fi

why=
has "$tmp/tools.list" '^-rwxr-xr-x' usr/sbin/vmemctl || why+=" no executable usr/sbin/vmemctl;"
has "$tmp/tools.list" '^-rw-r--r--' usr/share/man/man8/vmemctl.8.gz || why+=" no man page;"
[ "$(dpkg-deb -f "$tools_deb" Architecture)" = "$arch" ] || why+=" tools package not Architecture: $arch;"
if [ -z "$why" ]; then pass contents-tools; else fail contents-tools "$why"; fi

# --- install into a throwaway root --------------------------------------------

# What the install could touch on this machine.
system_state() {
	find /var/lib/dkms /usr/src /etc/dkms /lib/modules /usr/lib/modules \
		-maxdepth 3 -printf '%p %s %T@\n' 2>/dev/null | sort | sha256sum
}

# The throwaway root's mounts over the system's paths, in a private mount
# namespace, then the command. /lib/modules may not exist here: then
# /usr/lib (or what /lib is) gets an overlay whose writes go to $tmp.
in_root() {
	local r=$1
	shift
	unshare --mount --propagation private /bin/bash -s -- "$r" "$tmp" "$@" <<'EOF'
set -e
r=$1
ovl=$(mktemp -d "$2/ovl.XXXXXX")
shift 2
for d in /usr/src /var/lib/dkms /etc/dkms; do
	mount --bind "$r$d" "$d"
done
lib=$(readlink -f /lib)
if [ ! -d "$lib/modules" ]; then
	mkdir "$ovl/upper" "$ovl/work"
	mount -t overlay overlay -o "lowerdir=$lib,upperdir=$ovl/upper,workdir=$ovl/work" "$lib"
	mkdir "$lib/modules"
fi
mount --bind "$r/lib/modules" "$lib/modules"
"$@"
EOF
}

check_install() {
	local r="$tmp/root" state ko got dir log="$tmp/postinst.log"
	if [ "$(id -u)" != 0 ]; then
		fail install "needs root (a mount namespace)"
		return
	fi
	if ! "$top/scripts/setup.sh" guest > "$tmp/setup.log" 2>&1; then
		tail_log "$tmp/setup.log"
		fail install "scripts/setup.sh guest failed"
		return
	fi
	# shellcheck source=/dev/null
	. "$CACHE/guest.env"
	state=$(system_state)

	mkdir -p "$r"/usr/src "$r"/var/lib/dkms "$r"/etc/dkms "$tmp/ctrl"
	if ! dpkg-deb -x "$dkms_deb" "$r" || ! dpkg-deb -x "$tools_deb" "$r" ||
	   ! dpkg-deb -e "$dkms_deb" "$tmp/ctrl"; then
		fail install "dpkg-deb -x or -e failed"
		return
	fi
	# The kernel as Debian installs it, as far as DKMS and depmod care:
	# its headers (build), module lists and the in-tree virtio_mem.ko.
	dir="$r/lib/modules/$GUEST_KVER"
	mkdir -p "$dir/kernel/drivers/virtio"
	ln -s "$GUEST_KDIR" "$dir/build"
	cp "$GUEST_MODDIR"/modules.order "$GUEST_MODDIR"/modules.builtin \
		"$GUEST_MODDIR"/modules.builtin.modinfo "$dir/"
	cp "$GUEST_MODDIR/kernel/drivers/virtio/virtio_mem.ko" "$dir/kernel/drivers/virtio/"
	# Build for every kernel in /lib/modules (this one): the running
	# kernel is the machine's, not the root's. Sign with the headers'
	# sign-file (Debian's dkms looks in linux-kbuild first).
	cat > "$r/etc/dkms/framework.conf" <<EOF
autoinstall_all_kernels="y"
sign_file="$GUEST_KDIR/scripts/sign-file"
EOF

	# The package's postinst, as dpkg runs it after unpacking.
	if ! in_root "$r" "$tmp/ctrl/postinst" configure > "$log" 2>&1; then
		tail_log "$log"
		compgen -G "$r/var/lib/dkms/virtio-mem/$version/build/make.log" > /dev/null &&
			tail_log "$r/var/lib/dkms/virtio-mem/$version/build/make.log"
		fail install "the package's postinst failed (logs above)"
		return
	fi
	ko="$dir/updates/dkms/virtio_mem.ko"
	if [ -f "$ko" ] && [ -L "$r/var/lib/dkms/virtio-mem/$version/source" ]; then
		pass install
	else
		tail_log "$log"
		fail install "no lib/modules/$GUEST_KVER/updates/dkms/virtio_mem.ko after the postinst (log above)"
		return
	fi
	got=$(modinfo -F vermagic "$ko" | awk '{ print $1 }')
	if [ "$got" = "$GUEST_KVER" ] && [ "$(modinfo -F version "$ko")" = "$version" ]; then
		pass module
	else
		fail module "vermagic '$got' (want $GUEST_KVER), version '$(modinfo -F version "$ko")' (want $version)"
	fi
	got=$(modinfo -F signer "$ko")
	if [ "$got" = "DKMS module signing key" ] && [ -f "$r/var/lib/dkms/mok.pub" ]; then
		pass signed
	else
		fail signed "signer '$got', want DKMS's key (in the root's /var/lib/dkms)"
	fi
	if grep -q '^updates/dkms/virtio_mem\.ko:' "$dir/modules.dep" 2>/dev/null &&
	   ! grep -q '^kernel/drivers/virtio/virtio_mem\.ko:' "$dir/modules.dep"; then
		pass depmod
	else
		fail depmod "modules.dep does not prefer updates/dkms/virtio_mem.ko"
	fi
	# No device under an empty root: exit 1 and the message.
	"$r/usr/sbin/vmemctl" --root "$tmp/none" why > /dev/null 2> "$tmp/vmemctl.err"
	got=$?
	if [ $got = 1 ] && grep -q 'no virtio-mem device' "$tmp/vmemctl.err" &&
	   "$r/usr/sbin/vmemctl" --version | grep -q '^vmemctl '; then
		pass vmemctl
	else
		fail vmemctl "the packaged vmemctl does not run (exit $got: $(head -c 200 "$tmp/vmemctl.err"))"
	fi

	if in_root "$r" "$tmp/ctrl/prerm" remove > "$tmp/prerm.log" 2>&1 &&
	   [ ! -e "$ko" ] && [ ! -e "$r/var/lib/dkms/virtio-mem/$version" ]; then
		pass remove
	else
		tail_log "$tmp/prerm.log"
		fail remove "the prerm left the module or the DKMS tree (log above)"
	fi
	if [ "$(system_state)" = "$state" ]; then
		pass system-untouched
	else
		fail system-untouched "/var/lib/dkms, /usr/src, /etc/dkms or /lib/modules changed"
	fi
}
check_install

exit "$failed"
