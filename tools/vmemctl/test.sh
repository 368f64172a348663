#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Host tests of vmemctl against fake sysfs trees (--root). Each check
# prints "PASS: vmemctl/<name>" or "FAIL: vmemctl/<name>: <why>" (with
# the output in question indented below); exit 1 if any failed.
#
# Needs: make and a C compiler with a static libc, python3 (JSON and
# metrics checks), tmux (the terminal checks), man or groff (the man page
# check); promtool (Debian's prometheus) if present checks the metrics
# ("SKIP: vmemctl/metrics_promtool" without it).
# VMEMCTL=<binary> tests that binary instead of building ./vmemctl;
# KEEP=1 keeps the fake trees (the path is printed) to look at after.
# shellcheck source-path=SCRIPTDIR
set -uo pipefail

here=$(cd "$(dirname "$0")" && pwd)
if [ -z "${VMEMCTL:-}" ]; then
	if ! make -s -C "$here" vmemctl >/dev/null; then
		echo "FAIL: vmemctl/build: make failed"
		exit 1
	fi
	VMEMCTL=$here/vmemctl
fi
echo "PASS: vmemctl/build"

tmp=$(mktemp -d "${TMPDIR:-/tmp}/vmemctl-test.XXXXXX")
writers=()
tmux_sock=$tmp/tmux.sock
# shellcheck disable=SC2317 # the EXIT trap calls it
cleanup() {
	local p
	for p in "${writers[@]}"; do
		kill "$p" 2>/dev/null
	done
	[ -S "$tmux_sock" ] && tmux -S "$tmux_sock" kill-server 2>/dev/null
	if [ -n "${KEEP:-}" ]; then
		echo "fake trees kept in $tmp"
	else
		rm -rf "$tmp"
	fi
}
trap cleanup EXIT

failed=0
pass() { echo "PASS: vmemctl/$1"; }
# fail NAME WHY [FILE]: the FILE (the output in question) indented.
fail() {
	echo "FAIL: vmemctl/$1: $2"
	[ -n "${3:-}" ] && [ -f "$3" ] && sed 's/^/    /' "$3" | head -40
	failed=1
}

GiB=$((1 << 30))
MiB=$((1 << 20))

# put FILE VALUE: written whole (rename), as sysfs shows it.
put() {
	printf '%s\n' "$2" > "$1.new" && mv -f "$1.new" "$1"
}

# mkdev ROOT NAME key=value...: a device with the files given.
mkdev() {
	local d=$1/sys/bus/virtio/devices/$2/virtio_mem kv
	shift 2
	mkdir -p "$d"
	for kv in "$@"; do
		printf '%s\n' "${kv#*=}" > "$d/${kv%%=*}"
	done
}

# The files of the new ABI, with zero counters; then the arguments.
NEW_FILES=()
for t in plug unplug unplug_all state; do
	for r in ack nack busy error; do
		NEW_FILES+=("requests_${t}_${r}=0")
	done
done
NEW_FILES+=(bytes_plugged_total=0 bytes_unplugged_total=0
	fake_offline_failures=0 offline_and_remove_failures=0
	last_error=none retry_state=idle offline_bytes=0 left_offline=0)

# old_dev ROOT NAME key=value...: only the files of an older driver.
old_dev() {
	local root=$1 name=$2
	shift 2
	mkdev "$root" "$name" addr=$((5 * GiB)) region_size=$((8 * GiB)) \
		usable_region_size=$((8 * GiB)) block_size=$((2 * MiB)) \
		requested_size=0 plugged_size=0 subblock_size=$((2 * MiB)) \
		node_id=0 nid=0 mode=sbm state=idle blocks_offline=0 \
		blocks_online_kernel=0 blocks_online_movable=0 \
		plugged_offline=0 plugged_online_kernel=0 \
		plugged_online_movable=0 plugged_not_added=0 memmap_bytes=0 \
		memmap_on_memory=off "$@"
}

new_dev() {
	local root=$1 name=$2
	shift 2
	old_dev "$root" "$name" "${NEW_FILES[@]}" "$@"
}

# --- the layers of the source ------------------------------------------
# Each file has a layer; a file includes headers of the layers below its
# own, and of its own layer only its own header (a command: vmemctl_cmd.h),
# so no two files call each other (the build has -Werror: a call needs
# the header). A command calls no other command. Every file is under 800
# lines and starts with SPDX.
layer() {
	case $1 in
	vmemctl.c) echo 5 ;;
	vmemctl_cmd.h | vmemctl_status.c | vmemctl_watch.c | \
		vmemctl_metrics.c | vmemctl_why.c) echo 4 ;;
	vmemctl_format.[ch] | vmemctl_state.[ch]) echo 3 ;;
	vmemctl_sysfs.[ch]) echo 2 ;;
	vmemctl_util.[ch]) echo 1 ;;
	*) echo 0 ;;
	esac
}
why=
for f in "$here"/*.[ch]; do
	b=${f##*/}
	l=$(layer "$b")
	if [ "$l" = 0 ]; then
		why+=" $b has no layer in test.sh;"
		continue
	fi
	[ "$(wc -l < "$f")" -lt 800 ] || why+=" $b has $(wc -l < "$f") lines;"
	head -n 1 "$f" | grep -q 'SPDX-License-Identifier: GPL-2.0' ||
		why+=" $b: no SPDX line first;"
	while read -r h; do
		hl=$(layer "$h")
		if [ "$hl" = 0 ] || [ "$hl" -gt "$l" ] ||
		   { [ "$hl" -eq "$l" ] && [ "${b##*.}" = h ]; } ||
		   { [ "$hl" -eq "$l" ] && [ "${h%.h}" != "${b%.c}" ] &&
		     { [ "$l" != 4 ] || [ "$h" != vmemctl_cmd.h ]; }; }; then
			why+=" $b (layer $l) includes $h (layer $hl);"
		fi
	done < <(sed -n 's/^#include "\(.*\)"$/\1/p' "$f")
	if [ "$l" = 4 ] && [ "${b##*.}" = c ]; then
		own=${b#vmemctl_}
		own=cmd_${own%.c}
		for c in $(grep -o '\bcmd_[a-z]*(' "$f" | tr -d '(' | sort -u); do
			[ "$c" = "$own" ] || why+=" $b calls $c;"
		done
	fi
done
for f in "$here"/*.sh; do
	[ "$(wc -l < "$f")" -lt 800 ] || why+=" ${f##*/} has $(wc -l < "$f") lines;"
done
if [ -n "$why" ]; then
	fail layers "$why"
else
	pass layers
fi

# --- the status tree ---------------------------------------------------
S=$tmp/status
# virtio0: SBM, retrying, a last error, memory left offline.
new_dev "$S" virtio0 requested_size=$((2 * GiB)) \
	plugged_size=$((1536 * MiB)) 'state=retrying: fake_offline: -16' \
	'retry_state=retrying in 200 ms' \
	'last_error=EBUSY fake_offline 2026-11-23T10:20:00' \
	left_offline=$((512 * MiB)) offline_bytes=$((512 * MiB)) \
	plugged_offline=$((512 * MiB)) requests_plug_ack=500 \
	requests_unplug_ack=12 requests_plug_busy=3 \
	bytes_plugged_total=$((1548 * MiB)) fake_offline_failures=7
# virtio1: a virtio device of another kind.
mkdir -p "$S/sys/bus/virtio/devices/virtio1/net"
echo 0x0001 > "$S/sys/bus/virtio/devices/virtio1/device"
# virtio2: BBM on node 1, idle.
new_dev "$S" virtio2 nid=1 node_id=1 mode=bbm block_size=$((128 * MiB)) \
	subblock_size=0 region_size=$((16 * GiB)) \
	usable_region_size=$((16 * GiB)) requested_size=$((4 * GiB)) \
	plugged_size=$((4 * GiB)) requests_plug_ack=32 \
	requests_state_ack=4 bytes_plugged_total=$((4 * GiB))
# virtio3: an older driver (no new file), no memmap_bytes either, no node.
old_dev "$S" virtio3 nid=-1 block_size=$((4 * MiB)) \
	requested_size=$((3584 * MiB)) plugged_size=$((3 * GiB)) \
	'state=waiting for onlining' plugged_offline=$((128 * MiB)) \
	usable_region_size=$((8 * GiB + 3 * MiB))
rm "$S/sys/bus/virtio/devices/virtio3/virtio_mem/memmap_bytes"
# virtio10: sorts after virtio3; a state with an escape, a quote, a
# backslash and a tab, which must not reach a terminal raw.
new_dev "$S" virtio10 requested_size=$((1 * GiB)) plugged_size=0 \
	"state=$(printf 'broken: "odd\\name\t\033[31m": -5')" \
	"retry_state=broken"

out=$tmp/out
err=$tmp/err

# status (text) ----------------------------------------------------------
"$VMEMCTL" --root "$S" status > "$out" 2> "$err"
rc=$?
# Columns compared with runs of spaces squeezed.
tr -s ' ' < "$out" > "$tmp/status.sq"
cat > "$tmp/status.want" <<'EOF'
DEVICE NODE BLOCK REQUESTED PLUGGED USABLE MODE STATE OFFLINE ACK/NACK/BUSY/ERR
virtio0 0 2 MiB 2 GiB 1.50 GiB 8 GiB sbm retrying: fake_offline: -16 512 MiB 512/0/3/0
virtio2 1 128 MiB 4 GiB 4 GiB 16 GiB bbm idle 0 B 36/0/0/0
virtio3 -1 4 MiB 3.50 GiB 3 GiB 8.00 GiB sbm waiting for onlining 128 MiB -
virtio10 0 2 MiB 1 GiB 0 B 8 GiB sbm broken: "odd\name??[31m": -5 0 B 0/0/0/0

virtio0: last error EBUSY fake_offline at 2026-11-23T10:20:00
virtio0: 512 MiB added but offline for too long: online it (see vmemctl(8), udev rule 80-virtio-mem.rules)
EOF
if [ $rc -ne 0 ]; then
	fail status_text "exit $rc" "$err"
elif ! diff -u "$tmp/status.want" "$tmp/status.sq" > "$tmp/diff"; then
	fail status_text "table differs (spaces squeezed)" "$tmp/diff"
else
	pass status_text
fi

if grep -qP '\x1b' "$out"; then
	fail status_no_escape "an escape character in the output" "$out"
else
	pass status_no_escape
fi

"$VMEMCTL" --root "$S" status virtio2 > "$out" 2> "$err"
rc=$?
if [ $rc -ne 0 ] || [ "$(grep -c '^virtio' "$out")" -ne 1 ] ||
   ! grep -q '^virtio2 ' "$out"; then
	fail status_named "exit $rc, want only virtio2" "$out"
else
	pass status_named
fi

"$VMEMCTL" --root "$S" status virtio7 > "$out" 2> "$err"
rc=$?
if [ $rc -ne 1 ] || ! grep -q 'virtio7' "$err"; then
	fail status_unknown_device "exit $rc (want 1 and a message)" "$err"
else
	pass status_unknown_device
fi

mkdir -p "$tmp/empty/sys/bus/virtio/devices/virtio0"
"$VMEMCTL" --root "$tmp/empty" status > "$out" 2> "$err"
rc=$?
if [ $rc -ne 1 ] || [ -s "$out" ] ||
   ! grep -qx "vmemctl: no virtio-mem device found under $tmp/empty/sys/bus/virtio/devices" "$err"; then
	fail status_no_device "exit $rc (want 1 and the message)" "$err"
else
	pass status_no_device
fi

# status --json ----------------------------------------------------------
"$VMEMCTL" --root "$S" status --json > "$out" 2> "$err"
rc=$?
if [ $rc -ne 0 ]; then
	fail status_json "exit $rc" "$err"
elif ! python3 -m json.tool "$out" > /dev/null 2> "$tmp/json.err"; then
	fail status_json "not valid JSON" "$tmp/json.err"
else
	pass status_json
fi

# Exact values, nulls, every key of the ABI.
cat > "$tmp/check.py" <<'EOF'
import json, sys

GiB, MiB = 1 << 30, 1 << 20
d = {x["name"]: x for x in json.load(open(sys.argv[1]))["devices"]}
bad = []

def want(name, key, val):
    got = d[name]
    for k in key.split("."):
        got = got[k]
    if got != val or type(got) is not type(val):
        bad.append(f"{name}.{key} = {got!r}, want {val!r}")

if list(d) != ["virtio0", "virtio2", "virtio3", "virtio10"]:
    bad.append(f"devices {list(d)}")
keys = """name nid node_id addr region_size usable_region_size block_size
subblock_size requested_size plugged_size mode state blocks_offline
blocks_online_kernel blocks_online_movable plugged_offline
plugged_online_kernel plugged_online_movable plugged_not_added
memmap_bytes memmap_on_memory requests bytes_plugged_total
bytes_unplugged_total fake_offline_failures offline_and_remove_failures
last_error retry_state offline_bytes left_offline""".split()
for n, x in d.items():
    if sorted(x) != sorted(keys):
        bad.append(f"{n} keys {sorted(set(x) ^ set(keys))} differ")
    for t in ("plug", "unplug", "unplug_all", "state"):
        if sorted(x["requests"][t]) != ["ack", "busy", "error", "nack"]:
            bad.append(f"{n} requests.{t}")
want("virtio0", "requested_size", 2 * GiB)
want("virtio0", "plugged_size", 1536 * MiB)
want("virtio0", "addr", 5 * GiB)
want("virtio0", "block_size", 2 * MiB)
want("virtio0", "nid", 0)
want("virtio0", "left_offline", 512 * MiB)
want("virtio0", "requests.plug.ack", 500)
want("virtio0", "requests.plug.busy", 3)
want("virtio0", "requests.unplug.ack", 12)
want("virtio0", "requests.unplug_all.error", 0)
want("virtio0", "fake_offline_failures", 7)
want("virtio0", "last_error", "EBUSY fake_offline 2026-11-23T10:20:00")
want("virtio0", "retry_state", "retrying in 200 ms")
want("virtio0", "state", "retrying: fake_offline: -16")
want("virtio2", "mode", "bbm")
want("virtio2", "nid", 1)
want("virtio2", "block_size", 128 * MiB)
want("virtio2", "usable_region_size", 16 * GiB)
want("virtio3", "nid", -1)
want("virtio3", "usable_region_size", 8 * GiB + 3 * MiB)
want("virtio3", "requested_size", 3584 * MiB)
for k in ("memmap_bytes", "last_error", "retry_state", "left_offline",
          "offline_bytes", "bytes_plugged_total", "requests.plug.ack",
          "requests.state.error"):
    want("virtio3", k, None)
want("virtio10", "state", 'broken: "odd\\name\t\x1b[31m": -5')
print("\n".join(bad))
sys.exit(1 if bad else 0)
EOF
if python3 "$tmp/check.py" "$out" > "$tmp/check.out" 2>&1; then
	pass status_json_values
else
	fail status_json_values "values differ" "$tmp/check.out"
fi

# metrics and why: their own files, on the trees and helpers above.
# shellcheck source=test-metrics.sh
. "$here/test-metrics.sh"
# shellcheck source=test-why.sh
. "$here/test-why.sh"

# --- watch (plain) -----------------------------------------------------
W=$tmp/watch
# virtio4 grows 1 -> 2 GiB, virtio5 never gets there, virtio6 shrinks,
# virtio7 is there from the start.
new_dev "$W" virtio4 requested_size=$((2 * GiB)) plugged_size=$((1 * GiB)) \
	state=resizing retry_state=resizing
new_dev "$W" virtio5 requested_size=$((2 * GiB)) \
	plugged_size=$((1536 * MiB)) 'state=retrying: plug: -16' \
	'retry_state=retrying in 1000 ms'
new_dev "$W" virtio6 requested_size=$((1 * GiB)) plugged_size=$((2 * GiB)) \
	state=resizing retry_state=resizing
new_dev "$W" virtio7 requested_size=$((1 * GiB)) plugged_size=$((1 * GiB))
# An old driver: only the state file says idle.
old_dev "$W" virtio8 requested_size=$((512 * MiB)) \
	plugged_size=$((512 * MiB))
dev_dir() { echo "$W/sys/bus/virtio/devices/$1/virtio_mem"; }

# ramp NAME MIB...: in the background, plugged_size takes each value
# every 0.3 s, then the device goes idle.
ramp() {
	local d
	d=$(dev_dir "$1")
	shift
	(
		for v in "$@"; do
			sleep 0.3
			put "$d/plugged_size" $((v * MiB))
		done
		sleep 0.2
		put "$d/state" idle
		put "$d/retry_state" idle
	) &
	writers+=($!)
}

# wait_for FILE REGEX SECONDS: poll until FILE has a line matching.
wait_for() {
	local end=$((SECONDS + $3))
	while [ $SECONDS -le $end ]; do
		grep -qE "$2" "$1" 2>/dev/null && return 0
		sleep 0.1
	done
	return 1
}

ramp virtio4 1280 1536 1792 2048
timeout 30 "$VMEMCTL" --root "$W" watch --timeout 20 --interval 100 \
	virtio4 > "$out" 2> "$err"
rc=$?
lines=$(grep -cE '^ *[0-9]+\.[0-9]s virtio4 plugged ' "$out")
if [ $rc -ne 0 ]; then
	fail watch_plain_reached "exit $rc, want 0" "$out"
elif ! grep -qE '^virtio4: reached 2\.00 GiB in [0-9]+\.[0-9] s$' "$out"; then
	fail watch_plain_reached "no 'virtio4: reached 2.00 GiB' line" "$out"
elif ! grep -qE '^ *0\.[0-9]s virtio4 plugged 1\.00 GiB of 2\.00 GiB \(0%\) resizing$' "$out" ||
     ! grep -qE 's virtio4 plugged 1\.50 GiB of 2\.00 GiB \(50%\) resizing$' "$out" ||
     ! grep -qE 's virtio4 plugged 2\.00 GiB of 2\.00 GiB \(100%\) idle$' "$out"; then
	fail watch_plain_reached "missing a progress line (0%, 50%, idle)" "$out"
elif [ "$lines" -gt 6 ]; then
	# 4 sizes + the start + the state change: a line per change only.
	fail watch_plain_reached "$lines sample lines, want at most 6" "$out"
elif grep -qP '\x1b' "$out"; then
	fail watch_plain_reached "an escape character in plain output" "$out"
else
	pass watch_plain_reached
fi
wait

start=$(date +%s%N)
timeout 30 "$VMEMCTL" --root "$W" watch --timeout 2 virtio5 virtio7 \
	> "$out" 2> "$err"
rc=$?
took=$((($(date +%s%N) - start) / 1000000))
if [ $rc -ne 2 ]; then
	fail watch_timeout "exit $rc, want 2" "$out"
elif [ $took -lt 1900 ] || [ $took -gt 3500 ]; then
	fail watch_timeout "took $took ms for --timeout 2" "$out"
elif ! grep -qFx "virtio5: not reached after 2 s: plugged 1.50 GiB of 2.00 GiB, state 'retrying: plug: -16'" "$out"; then
	fail watch_timeout "no 'not reached' line for virtio5" "$out"
elif ! grep -qE '^virtio7: reached 1\.00 GiB in 0\.0 s$' "$out"; then
	fail watch_timeout "virtio7 (at its request from the start) not reached" "$out"
elif [ "$(grep -c 's virtio5 plugged' "$out")" -ne 1 ]; then
	fail watch_timeout "virtio5 did not change, want one sample line" "$out"
elif ! grep -qE 's virtio7 plugged 1\.00 GiB of 1\.00 GiB \(100%\) idle$' "$out"; then
	fail watch_timeout "virtio7 not at 100%" "$out"
else
	pass watch_timeout
fi

timeout 30 "$VMEMCTL" --root "$W" watch --timeout 5 virtio8 > "$out" 2>&1
rc=$?
if [ $rc -ne 0 ] || ! grep -q '^virtio8: reached 512.00 MiB in 0.0 s$' "$out"; then
	fail watch_old_driver "exit $rc, want 0 at once (state idle)" "$out"
else
	pass watch_old_driver
fi

# Shrink, as JSON Lines.
ramp virtio6 1792 1536 1280 1024
timeout 30 "$VMEMCTL" --root "$W" watch --json --timeout 20 \
	--interval 100 virtio6 > "$out" 2> "$err"
rc=$?
cat > "$tmp/jsonl.py" <<'EOF'
import json, sys

GiB = 1 << 30
objs = [json.loads(l) for l in open(sys.argv[1])]
samples = [o for o in objs if o["event"] == "sample"]
pct = [o["percent"] for o in samples]
assert objs[-1]["event"] == "summary", "the last line is not the summary"
assert objs[-1]["result"] == "reached", objs[-1]
assert objs[-1]["devices"][0]["plugged_size"] == GiB, objs[-1]
assert pct[0] == 0 and pct[-1] == 100, pct
assert pct == sorted(pct) and len(set(pct)) >= 3, pct
assert samples[-1]["state"] == "idle", samples[-1]
assert all(o["name"] == "virtio6" for o in samples)
EOF
if [ $rc -ne 0 ]; then
	fail watch_json_shrink "exit $rc, want 0" "$out"
elif ! python3 "$tmp/jsonl.py" "$out" > "$tmp/check.out" 2>&1; then
	cat "$out" >> "$tmp/check.out"
	fail watch_json_shrink "bad JSON Lines" "$tmp/check.out"
else
	pass watch_json_shrink
fi
wait

# SIGINT to a background watch.
"$VMEMCTL" --root "$W" watch --timeout 60 virtio5 > "$out" 2> "$err" &
pid=$!
if ! wait_for "$out" 'virtio5 plugged' 10; then
	kill "$pid" 2>/dev/null
	fail watch_sigint "watch printed nothing" "$out"
else
	kill -INT "$pid"
	end=$((SECONDS + 5))
	while kill -0 "$pid" 2>/dev/null && [ $SECONDS -le $end ]; do
		sleep 0.1
	done
	if kill -0 "$pid" 2>/dev/null; then
		kill "$pid"
		fail watch_sigint "still running 5 s after SIGINT" "$out"
	else
		wait "$pid"
		rc=$?
		if [ $rc -ne 130 ]; then
			fail watch_sigint "exit $rc, want 130" "$out"
		elif ! grep -q '^virtio5: not reached after .* (interrupted)' "$out"; then
			fail watch_sigint "no final line" "$out"
		else
			pass watch_sigint
		fi
	fi
fi

# --- watch on a terminal (tmux, 100x20) ------------------------------
# tmux_run NAME COMMAND: a detached 100x20 session running COMMAND under
# bash, then "exit=<rc>", and the pane stays.
tmux_run() {
	tmux -S "$tmux_sock" new-session -d -s "$1" -x 100 -y 20 \
		"bash -c '$2; echo exit=\$?; sleep 600'"
}
# screen NAME FILE: the pane as text, wrapped lines joined, trailing
# blanks dropped.
screen() {
	tmux -S "$tmux_sock" capture-pane -p -J -t "$1" |
		sed 's/[[:space:]]*$//' > "$2"
}
# wait_screen NAME REGEX SECONDS
wait_screen() {
	local end=$((SECONDS + $3))
	while [ $SECONDS -le $end ]; do
		screen "$1" "$tmp/screen"
		grep -qE "$2" "$tmp/screen" && return 0
		sleep 0.1
	done
	return 1
}
# fits FILE: no line wider than 100 columns.
fits() {
	awk 'length > 100 { bad = 1 } END { exit bad }' "$1"
}

if ! command -v tmux > /dev/null; then
	fail watch_tty "tmux is not installed (apt-get install tmux)"
	fail watch_tty_sigint "tmux is not installed (apt-get install tmux)"
else
	new_dev "$W" virtio9 requested_size=$((2 * GiB)) \
		plugged_size=$((1 * GiB)) state=resizing retry_state=resizing
	ramp virtio9 1280 1536 1792 2048
	tmux_run grow "$VMEMCTL --root $W watch --timeout 20 --interval 100 virtio9"
	if ! wait_screen grow '^exit=' 25; then
		fail watch_tty "watch did not end" "$tmp/screen"
	elif ! grep -qx 'exit=0' "$tmp/screen"; then
		fail watch_tty "watch did not exit 0" "$tmp/screen"
	elif grep -qE '\[[0-9;?]*[ABCDHJKhlm]' "$tmp/screen"; then
		fail watch_tty "an escape sequence shown as text" "$tmp/screen"
	elif ! grep -qE '^virtio9 \[#{10,}\] 100% +2\.00 GiB / +2\.00 GiB  idle$' "$tmp/screen"; then
		fail watch_tty "no full progress bar line" "$tmp/screen"
	elif [ "$(grep -c '^virtio9 \[' "$tmp/screen")" -ne 1 ]; then
		fail watch_tty "the bar line was not redrawn in place" "$tmp/screen"
	elif ! grep -qE '^virtio9: reached 2\.00 GiB in [0-9.]+ s$' "$tmp/screen"; then
		fail watch_tty "no 'reached' line" "$tmp/screen"
	elif ! fits "$tmp/screen"; then
		fail watch_tty "a line wider than 100 columns" "$tmp/screen"
	else
		pass watch_tty
	fi
	wait

	# A partial bar, the cursor hidden while it runs, then Ctrl-C.
	put "$(dev_dir virtio9)/plugged_size" $((1 * GiB))
	put "$(dev_dir virtio9)/state" resizing
	tmux_run stop "$VMEMCTL --root $W watch --timeout 60 --interval 100 virtio9"
	if ! wait_screen stop '^virtio9 \[\.+\]   0%' 10; then
		fail watch_tty_sigint "no 0% bar" "$tmp/screen"
	else
		put "$(dev_dir virtio9)/plugged_size" $((1536 * MiB))
		cursor_on=$(tmux -S "$tmux_sock" display -p -t stop '#{cursor_flag}')
		if ! wait_screen stop '^virtio9 \[#+\.+\]  50%' 10; then
			fail watch_tty_sigint "no 50% bar" "$tmp/screen"
		elif ! fits "$tmp/screen"; then
			fail watch_tty_sigint "a line wider than 100 columns" "$tmp/screen"
		elif [ "$cursor_on" != 0 ]; then
			fail watch_tty_sigint "cursor not hidden while drawing"
		else
			tmux -S "$tmux_sock" send-keys -t stop C-c
			if ! wait_screen stop '^exit=' 10; then
				fail watch_tty_sigint "still running after Ctrl-C" "$tmp/screen"
			elif ! grep -qx 'exit=130' "$tmp/screen"; then
				fail watch_tty_sigint "exit not 130" "$tmp/screen"
			elif [ "$(tmux -S "$tmux_sock" display -p -t stop '#{cursor_flag}')" != 1 ]; then
				fail watch_tty_sigint "cursor left hidden" "$tmp/screen"
			elif ! grep -qE '^virtio9: not reached after [0-9.]+ s \(interrupted\): plugged 1\.50 GiB' "$tmp/screen"; then
				fail watch_tty_sigint "no final line" "$tmp/screen"
			else
				pass watch_tty_sigint
			fi
		fi
	fi
fi

# --- usage ---------------------------------------------------------------
why=
for a in --help -h help; do
	"$VMEMCTL" $a > "$out" 2> "$err"
	rc=$?
	if [ $rc -ne 0 ] || [ -s "$err" ] || ! grep -q status "$out" ||
	   ! grep -q watch "$out"; then
		why+=" 'vmemctl $a': exit $rc;"
	fi
done
if [ -n "$why" ]; then
	fail help "want exit 0 and usage naming status and watch on stdout:$why"
else
	pass help
fi

why=
for args in "--bogus" "status --bogus" "frobnicate" "" "status --timeout 3" \
	     "watch --timeout" "watch --interval 0" "watch --timeout x" \
	     "metrics --json" "status --textfile /tmp" "metrics --textfile" \
	     "why --plain" "why --json"; do
	# shellcheck disable=SC2086
	"$VMEMCTL" --root "$S" $args > "$out" 2> "$err"
	rc=$?
	if [ $rc -ne 64 ] || [ -s "$out" ] || ! grep -q Usage "$err"; then
		why+=" 'vmemctl $args': exit $rc;"
	fi
done
if [ -n "$why" ]; then
	fail bad_usage "want exit 64 and usage on stderr:$why"
else
	pass bad_usage
fi

if "$VMEMCTL" --version | grep -qE '^vmemctl [0-9]'; then
	pass version
else
	fail version "no 'vmemctl <version>'"
fi

# --- the man page --------------------------------------------------------
if command -v man > /dev/null; then
	MANWIDTH=80 man --warnings -l "$here/vmemctl.8" 2> "$err" > "$out"
	rc=$?
elif command -v groff > /dev/null; then
	groff -man -ww -z -Tutf8 "$here/vmemctl.8" 2> "$err" > "$out"
	rc=$?
else
	rc=missing
fi
if [ "$rc" = missing ]; then
	fail man_page "neither man nor groff installed"
elif [ "$rc" -ne 0 ] || [ -s "$err" ]; then
	fail man_page "warnings (exit $rc)" "$err"
elif command -v man > /dev/null && ! grep -q 'vmemctl status' "$out"; then
	fail man_page "rendered page has no 'vmemctl status'" "$out"
else
	pass man_page
fi

exit $failed
