#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# The debug guest kernel: x86_64, built from the cached linux-source-6.1
# tree as tinyconfig + scripts/debug-kernel.config (KASAN, lockdep,
# DEBUG_VM, ...), out of tree in $CACHE/debug-kernel.
#
#   scripts/debug-kernel.sh [build]  build it (only if the fragment, the
#                                    source or the compiler changed) and
#                                    write $CACHE/debug.env
#   scripts/debug-kernel.sh boot     build, then boot it once in QEMU (TCG)
#                                    with a virtio-mem device on NUMA node 1
#                                    and fail on any WARNING/BUG/lockdep/KASAN
#   scripts/debug-kernel.sh env      print $CACHE/debug.env
#
# debug.env holds DEBUG_KDIR (use as KDIR: make KDIR=$DEBUG_KDIR),
# DEBUG_KERNEL (the bzImage) and DEBUG_KVER (its kernelrelease).
# The source tree itself is never configured or built in.
set -euo pipefail

# shellcheck source=scripts/lib.sh
. "$(dirname "$0")/lib.sh"
fragment="$top/scripts/debug-kernel.config"
out="$CACHE/debug-kernel"
stamp="$out/.vmem-stamp"
buildlog="$out/vmem-build.log"
# A KCONFIG_CONFIG from the caller would send .config elsewhere.
unset KCONFIG_CONFIG

log() { echo "debug-kernel: $*" >&2; }
die() { log "error: $*"; exit 1; }

# make in the source tree, output (and .config) in $out.
kmake() { make -C "$LINUX_SRC" O="$out" ARCH=x86_64 "$@"; }

# What the build depends on besides the source files: the fragment, the
# linux-source package version (part of LINUX_SRC's name) and the compiler.
stamp_key() {
	echo "fragment=$(sha256sum < "$fragment" | cut -d' ' -f1)"
	echo "source=${LINUX_SRC##*/}"
	echo "cc=$(gcc --version | head -1)"
}

# tinyconfig, the fragment on top, olddefconfig.
configure() {
	mkdir -p "$out"
	kmake -s tinyconfig > "$out/vmem-config.log"
	# merge_config.sh makes its temporary files in the current directory.
	(cd "$out" && "$LINUX_SRC/scripts/kconfig/merge_config.sh" -m \
		-O "$out" "$out/.config" "$fragment") >> "$out/vmem-config.log"
	kmake -s olddefconfig >> "$out/vmem-config.log"
}

# Every line of the fragment must be in the final .config as written.
verify_config() {
	local bad line
	bad=$(verify_fragment "$fragment" "$out/.config") && return 0
	while IFS= read -r line; do log "$line"; done <<< "$bad"
	die "the options above did not stick (unmet dependencies?); see $out/.config"
}

# Build a throw-away module against $out the way the project builds its
# own (make -C KDIR M=...), referencing the exports virtio-mem needs: it
# proves that $out works as KDIR and that the config exports them.
check_kdir() {
	local tmp rc=0
	tmp=$(mktemp -d /tmp/vmem-kdir-check.XXXXXX)
	cat > "$tmp/Kbuild" <<'KBUILD'
obj-m := vmem_kdir_check.o
KBUILD
	cat > "$tmp/vmem_kdir_check.c" <<'C'
// SPDX-License-Identifier: GPL-2.0
#include <linux/gfp.h>
#include <linux/memory.h>
#include <linux/memory_hotplug.h>
#include <linux/mm.h>
#include <linux/module.h>
#include <linux/virtio.h>

static void *const vmem_syms[] __used = {
	add_memory_driver_managed, offline_and_remove_memory,
	alloc_contig_range, free_contig_range, memory_add_physaddr_to_nid,
	set_online_page_callback, restore_online_page_callback,
	generic_online_page, register_memory_notifier,
	unregister_memory_notifier, memory_block_size_bytes,
	mhp_get_pluggable_range, page_offline_begin, page_offline_end,
	adjust_managed_page_count, register_virtio_driver,
	unregister_virtio_driver,
};
MODULE_LICENSE("GPL");
C
	make -C "$out" M="$tmp" modules > "$tmp/make.log" 2>&1 || rc=$?
	if [ "$rc" != 0 ] || [ ! -f "$tmp/vmem_kdir_check.ko" ]; then
		tail -n 30 "$tmp/make.log" >&2
		rm -rf "$tmp"
		die "an external module does not build against $out"
	fi
	rm -rf "$tmp"
}

write_env() {
	local kver
	kver=$(cat "$out/include/config/kernel.release")
	cat > "$CACHE/debug.env" <<ENV
DEBUG_KDIR=$out
DEBUG_KERNEL=$out/arch/x86/boot/bzImage
DEBUG_KVER=$kver
ENV
}

do_build() {
	local start t_config t_build
	"$top/scripts/setup.sh" source
	load_env source
	[ -f "$fragment" ] || die "no fragment $fragment"
	[ ! -e "$LINUX_SRC/.config" ] ||
		die "$LINUX_SRC is configured; it must stay clean (make mrproper there)"

	mkdir -p "$out"
	exec 9> "$CACHE/debug-kernel.lock"
	flock -n 9 || {
		log "waiting for another debug-kernel.sh"
		flock 9
	}

	if [ -f "$stamp" ] && [ "$(stamp_key)" = "$(cat "$stamp")" ] &&
		[ -f "$out/arch/x86/boot/bzImage" ] && [ -f "$out/Module.symvers" ]; then
		write_env
		log "up to date: $out"
		return 0
	fi

	rm -f "$stamp"
	start=$SECONDS
	log "configuring $out from ${LINUX_SRC##*/}"
	configure
	verify_config
	t_config=$((SECONDS - start))
	log "building with $(nproc) jobs (log: $buildlog)"
	kmake -j"$(nproc)" bzImage modules modules_prepare > "$buildlog" 2>&1 || {
		tail -n 40 "$buildlog" >&2
		die "build failed; full log in $buildlog"
	}
	t_build=$((SECONDS - start - t_config))
	check_kdir
	write_env
	stamp_key > "$stamp"
	log "config $(duration "$t_config"), build $(duration "$t_build"), total $(duration $((SECONDS - start)))"
	log "$(cat "$out/include/config/kernel.release"): $(du -h "$out/arch/x86/boot/bzImage" | cut -f1) bzImage"
}

# Boot the kernel once: busybox initramfs, 2 NUMA nodes, a virtio-mem
# device on node 1 with nothing requested and a virtio-balloon. Passes if
# init runs, both devices show up on the virtio bus, pageblocks are 2 MiB
# (order 9), /dev/mem is there and the log holds no splat.
do_boot() {
	local tmp rc=0 start splat
	load_env debug
	tmp=$(mktemp -d /tmp/vmem-debug-boot.XXXXXX)
	# shellcheck disable=SC2064
	trap "rm -rf '$tmp'" EXIT
	mkdir -p "$tmp/root/bin" "$tmp/root/dev" "$tmp/root/proc" "$tmp/root/sys"
	cp /bin/busybox "$tmp/root/bin/busybox"
	cat > "$tmp/root/init" <<'INIT'
#!/bin/busybox sh
/bin/busybox --install -s /bin
export PATH=/bin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
read -r up _ < /proc/uptime
echo "DEBUG-KERNEL-UP $(uname -r) uptime ${up}s"
for d in /sys/bus/virtio/devices/*; do
	[ -e "$d" ] || continue
	echo "virtio: ${d##*/} device $(cat "$d/device")"
done
echo "nodes: $(cd /sys/devices/system/node && echo node*)"
echo "memory block size: 0x$(cat /sys/devices/system/memory/block_size_bytes)"
grep -E '^Page block order|^Pages per block' /proc/pagetypeinfo
echo "hpage_pmd_size: $(cat /sys/kernel/mm/transparent_hugepage/hpage_pmd_size)"
[ -c /dev/mem ] && echo "devmem: /dev/mem"
echo "hung_task_timeout_secs: $(cat /proc/sys/kernel/hung_task_timeout_secs)"
echo DEBUG-KERNEL-DONE
poweroff -f
INIT
	chmod +x "$tmp/root/init"
	(cd "$tmp/root" && find . | cpio -o -H newc --quiet) | gzip -1 > "$tmp/initrd.gz"

	log "booting $DEBUG_KERNEL (TCG)"
	start=$SECONDS
	# One socket per node: QEMU's default topology puts both CPUs in one
	# socket, whose shared LLC across two nodes the kernel WARNs about.
	timeout 900 qemu-system-x86_64 -machine q35 -accel tcg \
		-smp 2,sockets=2,cores=1,threads=1 \
		-m 4G,maxmem=8G -nographic -no-reboot \
		-object memory-backend-ram,id=n0,size=2G \
		-object memory-backend-ram,id=n1,size=2G \
		-numa node,nodeid=0,cpus=0,memdev=n0 \
		-numa node,nodeid=1,cpus=1,memdev=n1 \
		-object memory-backend-ram,id=m0,size=1G \
		-device virtio-mem-pci,id=vm0,memdev=m0,node=1,requested-size=0 \
		-device virtio-balloon-pci \
		-kernel "$DEBUG_KERNEL" -initrd "$tmp/initrd.gz" \
		-append "console=ttyS0 panic=-1 panic_on_warn=1" \
		< /dev/null > "$tmp/console.log" 2>&1 || rc=$?
	tr -d '\r' < "$tmp/console.log" > "$CACHE/debug-kernel-boot.log"
	log "qemu exited ($rc) after $(duration $((SECONDS - start))); console: $CACHE/debug-kernel-boot.log"
	grep -E 'DEBUG-KERNEL-UP|^virtio:|^nodes:|^memory block|^Page|^hpage|^devmem|^hung' \
		"$CACHE/debug-kernel-boot.log" >&2 || true

	splat=$(grep -nE 'WARNING:|BUG:|Oops|Kernel panic|Call Trace:|INFO: |DEBUG_LOCKS_WARN_ON|general protection fault|UBSAN:' \
		"$CACHE/debug-kernel-boot.log" || true)
	[ -z "$splat" ] || {
		echo "$splat" >&2
		die "the boot log has a splat"
	}
	grep -q '^DEBUG-KERNEL-DONE' "$CACHE/debug-kernel-boot.log" ||
		die "init did not finish"
	grep -q '^virtio: .* device 0x0018$' "$CACHE/debug-kernel-boot.log" ||
		die "no virtio-mem device (0x0018) on the virtio bus"
	grep -q '^virtio: .* device 0x0005$' "$CACHE/debug-kernel-boot.log" ||
		die "no virtio-balloon device (0x0005) on the virtio bus"
	# 2 MiB pageblocks, as on Debian's kernel (debug-kernel.config).
	grep -q '^Page block order: 9$' "$CACHE/debug-kernel-boot.log" ||
		die "the pageblock order is not 9 (2 MiB)"
	grep -q '^devmem: /dev/mem$' "$CACHE/debug-kernel-boot.log" ||
		die "no /dev/mem"
	log "boot OK"
}

case "${1:-build}" in
build) do_build ;;
boot) do_build; do_boot ;;
env) cat "$CACHE/debug.env" ;;
*) echo "usage: $0 [build|boot|env]" >&2; exit 2 ;;
esac
