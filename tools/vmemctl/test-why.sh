# SPDX-License-Identifier: GPL-2.0
#
# Host tests of vmemctl why, sourced by test.sh after the status tree ($S) is
# made: they use its helpers (pass, fail, new_dev, put) and variables.
# shellcheck shell=bash disable=SC2154

# --- why -----------------------------------------------------------------
# One device per cause, each with the tags it must give, no more.
Y=$tmp/why
mkdir -p "$Y/sys/devices/system/memory" "$Y/sys/module/virtio_mem/parameters"
echo online_movable > "$Y/sys/devices/system/memory/auto_online_blocks"
echo Y > "$Y/sys/module/virtio_mem/parameters/unplug_online"
declare -A why_want=()
# why_dev NAME "TAGS" key=value...: a device, and the tags it must give.
why_dev() {
	local name=$1
	why_want[$name]=$2
	shift 2
	new_dev "$Y" "$name" requested_size=$((2 * GiB)) \
		plugged_size=$((2 * GiB)) plugged_online_movable=$((2 * GiB)) \
		blocks_online_movable=16 "$@"
}
why_dev virtio0 ""
why_dev virtio1 "broken" 'state=broken: plug: -71' retry_state=broken \
	'last_error=EPROTO plug 2026-11-30T08:00:00'
why_dev virtio2 "usable-region" requested_size=$((9 * GiB)) \
	plugged_size=$((8 * GiB)) 'state=retrying: plug: -28' \
	'retry_state=retrying in 1000 ms'
why_dev virtio3 "kernel-memory" requested_size=$((6 * GiB)) \
	'state=limited by kernel memory for the memmap' \
	'retry_state=retrying in 1000 ms' \
	'last_error=ENOSPC kernel memory for the memmap 2026-11-30T08:00:00'
why_dev virtio4 "onlining" requested_size=$((4 * GiB)) \
	plugged_size=$((3 * GiB)) plugged_offline=$((1 * GiB)) \
	offline_bytes=$((1 * GiB)) blocks_offline=8 \
	'state=waiting for onlining' 'retry_state=retrying in 1000 ms'
why_dev virtio5 "onlining" plugged_offline=$((512 * MiB)) \
	plugged_online_movable=$((1536 * MiB)) offline_bytes=$((512 * MiB)) \
	blocks_offline=4 left_offline=$((512 * MiB))
why_dev virtio6 "free-memory" requested_size=$((1 * GiB)) \
	'state=retrying: fake_offline: -28' 'retry_state=retrying in 200 ms' \
	fake_offline_failures=12 \
	'last_error=ENOSPC fake_offline 2026-11-30T08:00:00'
why_dev virtio7 "unmovable kernel-zone" requested_size=$((1 * GiB)) \
	plugged_online_movable=0 plugged_online_kernel=$((2 * GiB)) \
	blocks_online_movable=0 blocks_online_kernel=16 \
	'state=retrying: fake_offline: -16' 'retry_state=retrying in 400 ms'
why_dev virtio8 "host-refused" requested_size=$((3 * GiB)) \
	'state=retrying: plug: -11' 'retry_state=retrying in 800 ms' \
	requests_plug_nack=5 'last_error=EAGAIN plug 2026-11-30T08:00:00'
why_dev virtio9 "device-busy" requested_size=$((1 * GiB)) \
	'state=retrying: unplug: -16' 'retry_state=retrying in 100 ms'
why_dev virtio10 "retrying" requested_size=$((3 * GiB)) \
	'state=retrying: add: -12' 'retry_state=retrying in 100 ms'
why_dev virtio11 "not-added" plugged_not_added=$((128 * MiB))
why_dev virtio12 "resizing" requested_size=$((3 * GiB)) state=resizing \
	retry_state=resizing
why_dev virtio13 "not-resizing" mode=none subblock_size=0 \
	'state=not resizing'
why_dev virtio14 "unknown" requested_size=$((3 * GiB))
why_dev virtio15 "short" requested_size=$((3 * GiB)) \
	'state=short: the device refuses the blocks left' \
	'retry_state=waiting for a config change'
why_dev virtio16 "device-stalled" requested_size=$((3 * GiB)) \
	'state=waiting for the device: plug unanswered for 12 s' \
	'retry_state=stalled: plug unanswered for 12 s'
# Another machine: nothing onlines memory, and unplug_online=0.
Z=$tmp/why2
mkdir -p "$Z/sys/devices/system/memory" "$Z/sys/module/virtio_mem/parameters"
echo offline > "$Z/sys/devices/system/memory/auto_online_blocks"
echo N > "$Z/sys/module/virtio_mem/parameters/unplug_online"
new_dev "$Z" virtio0 requested_size=$((2 * GiB)) plugged_size=$((1 * GiB)) \
	plugged_offline=$((256 * MiB)) blocks_offline=2 \
	offline_bytes=$((256 * MiB)) state=resizing retry_state=resizing
new_dev "$Z" virtio1 requested_size=$((1 * GiB)) plugged_size=$((2 * GiB)) \
	plugged_online_movable=$((2 * GiB)) blocks_online_movable=16 \
	'state=retrying: unplug_online is off: -1' \
	'retry_state=retrying in 1000 ms'

# why_check OUT NAME=TAGS...: each device's tags, exactly; a fix on
# every cause line; the first line of each device.
why_check() {
	local file=$1 kv name tags got bad=
	shift
	for kv in "$@"; do
		name=${kv%%=*}
		tags=$(tr ' ' '\n' <<< "${kv#*=}" | sed '/^$/d' | sort | tr '\n' ' ')
		got=$(sed -n "s/^$name: \([a-z-]*\): .*\. Fix: .*\.\$/\1/p" "$file" |
			sort | tr '\n' ' ')
		[ "$got" = "$tags" ] || bad+=" $name: tags '$got', want '$tags';"
		[ "$(grep -c "^$name: " "$file")" = $(($(wc -w <<< "$tags") + 1)) ] ||
			bad+=" $name: not one first line and one line per cause;"
	done
	echo "$bad"
}

"$VMEMCTL" --root "$Y" why > "$out" 2> "$err"
rc=$?
args=()
for name in "${!why_want[@]}"; do
	args+=("$name=${why_want[$name]}")
done
bad=$(why_check "$out" "${args[@]}")
if [ $rc -ne 3 ]; then
	fail why_causes "exit $rc, want 3" "$out"
elif [ -n "$bad" ]; then
	echo "$bad" | tr ';' '\n' > "$tmp/why.bad"
	cat "$out" >> "$tmp/why.bad"
	fail why_causes "causes differ" "$tmp/why.bad"
elif ! grep -qx 'virtio0: at the requested size (2 GiB), idle' "$out"; then
	fail why_causes "no 'at the requested size' line for virtio0" "$out"
elif ! grep -q '^virtio6: free-memory: .*fake_offline_failures 12; last error ENOSPC fake_offline 2026-11-30T08:00:00)\. Fix: free memory in the guest' "$out" ||
     ! grep -q '^virtio3: kernel-memory: .*memmap_on_memory: off).*Fix: boot the guest with memory_hotplug.memmap_on_memory=1' "$out" ||
     ! grep -q '^virtio2: usable-region: requested 9 GiB is beyond the usable region (8 GiB)' "$out" ||
     ! grep -q '^virtio4: onlining: 1 GiB of added memory in 8 memory blocks is offline (state .waiting for onlining' "$out" ||
     ! grep -q '^virtio7: kernel-zone: 2 GiB plugged in 16 memory blocks online in a kernel zone' "$out"; then
	fail why_causes "a cause line lacks its numbers or fix" "$out"
else
	pass why_causes
fi

"$VMEMCTL" --root "$Z" why > "$out" 2> "$err"
rc=$?
bad=$(why_check "$out" virtio0=onlining virtio1=unplug-online)
if [ $rc -ne 3 ] || [ -n "$bad" ]; then
	fail why_system "exit $rc (want 3);$bad" "$out"
elif ! grep -q "^virtio0: onlining: 256 MiB .*; auto_online_blocks is 'offline'\. Fix: echo online_movable > /sys/devices/system/memory/auto_online_blocks" "$out" ||
     ! grep -q '^virtio1: unplug-online: unplug_online=0 (module parameter): online memory (2 GiB) is not given back\. Fix: echo 1 > /sys/module/virtio_mem/parameters/unplug_online\.$' "$out"; then
	fail why_system "auto_online_blocks or unplug_online not named" "$out"
else
	pass why_system
fi

# Exit 0: the named devices are at their request and nothing is wrong.
"$VMEMCTL" --root "$Y" why virtio0 > "$out" 2> "$err"
rc=$?
if [ $rc -ne 0 ] || [ "$(wc -l < "$out")" -ne 1 ]; then
	fail why_ok "exit $rc, want 0 and one line" "$out"
else
	pass why_ok
fi
"$VMEMCTL" --root "$Y" why virtio0 virtio5 > "$out" 2> "$err"
rc=$?
if [ $rc -ne 3 ]; then
	fail why_at_size_but_offline "exit $rc, want 3 (at size, memory offline)" "$out"
else
	pass why_at_size_but_offline
fi

# Every tag is documented: the admin guide's troubleshooting section and
# the man page name it.
tags=$(grep -o 'cause(w, "[a-z-]*"' "$here/vmemctl_why.c" | cut -d'"' -f2 | sort -u)
guide=$here/../../Documentation/admin-guide.rst
sed -n '/^Troubleshooting: the guest is not at the requested size/,/^Installing/p' \
	"$guide" > "$tmp/troubleshooting"
bad=
for t in $tags; do
	grep -q "\`\`$t\`\`" "$tmp/troubleshooting" || bad+=" $t (admin guide)"
	grep -q "^\.B $t\$" "$here/vmemctl.8" || bad+=" $t (man page)"
done
if [ -z "$tags" ] || [ -n "$bad" ]; then
	fail why_documented "not documented:${bad:- no tag found}"
else
	pass why_documented
fi
