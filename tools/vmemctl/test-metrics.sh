# SPDX-License-Identifier: GPL-2.0
#
# Host tests of vmemctl metrics, sourced by test.sh after the status tree ($S) is
# made: they use its helpers (pass, fail, new_dev, put) and variables.
# shellcheck shell=bash disable=SC2154

# --- metrics -------------------------------------------------------------
"$VMEMCTL" --root "$S" metrics > "$tmp/metrics" 2> "$err"
rc=$?
if [ $rc -ne 0 ] || [ ! -s "$tmp/metrics" ]; then
	fail metrics_run "exit $rc" "$err"
else
	pass metrics_run
fi

if ! command -v promtool > /dev/null; then
	echo "SKIP: vmemctl/metrics_promtool: no promtool (apt-get install prometheus)"
elif promtool check metrics < "$tmp/metrics" > "$tmp/promtool.out" 2>&1; then
	pass metrics_promtool
else
	fail metrics_promtool "promtool check metrics refused it" "$tmp/promtool.out"
fi

# Every sample against the file it comes from, and every file of each
# device in some sample; read back from the tree, not from this script.
cat > "$tmp/metrics.py" <<'EOF2'
import calendar, os, re, sys

text, root = open(sys.argv[1]).read(), sys.argv[2]
top = os.path.join(root, "sys/bus/virtio/devices")
bad = []
types, helps, seen_families, samples = {}, {}, [], []
for ln in text.splitlines():
    m = re.match(r"# (HELP|TYPE) (\S+) (.*)$", ln)
    if m:
        (helps if m[1] == "HELP" else types)[m[2]] = m[3]
        if m[1] == "TYPE":
            if m[2] in seen_families:
                bad.append(f"family {m[2]} twice")
            seen_families.append(m[2])
        continue
    m = re.match(r'([a-z_]+)\{((?:[a-z_]+="(?:[^"\\]|\\.)*",?)*)\} (\S+)$', ln)
    if not m:
        bad.append(f"not a sample line: {ln!r}")
        continue
    labels = dict(re.findall(r'([a-z_]+)="((?:[^"\\]|\\.)*)"', m[2]))
    if seen_families[-1:] != [m[1]]:
        bad.append(f"{m[1]} sample not under its TYPE line")
    samples.append((m[1], labels, float(m[3]) if "." in m[3] else int(m[3])))

def rd(dev, name):
    try:
        return open(os.path.join(top, dev, "virtio_mem", name)).read().strip()
    except FileNotFoundError:
        return None

used = {}   # (device, file) used by some sample
def want(dev, name, got, fname, conv=int):
    v = rd(dev, fname)
    used[(dev, fname)] = True
    if v is None:
        bad.append(f"{dev} {name}: a sample, but no file {fname}")
    elif conv(v) != got:
        bad.append(f"{dev} {name} = {got}, file {fname} = {v}")

plain = {"region_size_bytes": "region_size",
         "usable_region_size_bytes": "usable_region_size",
         "block_size_bytes": "block_size",
         "subblock_size_bytes": "subblock_size",
         "requested_size_bytes": "requested_size",
         "plugged_size_bytes": "plugged_size",
         "memmap_bytes": "memmap_bytes", "offline_bytes": "offline_bytes",
         "left_offline_bytes": "left_offline",
         "plug_acked_bytes_total": "bytes_plugged_total",
         "unplug_acked_bytes_total": "bytes_unplugged_total",
         "fake_offline_failures_total": "fake_offline_failures",
         "offline_and_remove_failures_total": "offline_and_remove_failures"}
states = {"idle": "idle", "resizing": "resizing", "retrying": "retrying: ",
          "waiting_for_onlining": "waiting for onlining",
          "limited_by_kernel_memory": "limited by kernel memory for the memmap",
          "broken": "broken", "not_resizing": "not resizing",
          "short": "short: ", "waiting_for_device": "waiting for the device: "}
retry_kinds = {"waiting_for_config": "waiting for a config change",
               "stalled": "stalled: "}
for name, lab, v in samples:
    if not name.startswith("virtio_mem_"):
        bad.append(f"{name}: no virtio_mem_ prefix")
        continue
    short = name[len("virtio_mem_"):]
    if types.get(name) != ("counter" if name.endswith("_total") else "gauge"):
        bad.append(f"{name}: TYPE {types.get(name)}")
    if not helps.get(name):
        bad.append(f"{name}: no HELP")
    dev = lab.get("device")
    if dev is None or "node" not in lab:
        bad.append(f"{name} {lab}: no device or node label")
        continue
    want(dev, name + " node", lab["node"], "nid", str)
    if short in plain:
        want(dev, name, v, plain[short])
    elif short == "plugged_bytes":
        want(dev, name, v, "plugged_" + lab["state"])
    elif short == "memory_blocks":
        want(dev, name, v, "blocks_" + lab["state"])
    elif short == "requests_total":
        want(dev, name, v, f"requests_{lab['type']}_{lab['reply']}")
    elif short == "state":
        want(dev, name, v, "state",
             lambda s: int(s == states[lab["state"]] or
                           (states[lab["state"]].endswith(": ") or
                            lab["state"] == "broken") and
                           s.startswith(states[lab["state"]])))
    elif short == "retry_state":
        want(dev, name, v, "retry_state",
             lambda s: int(s.startswith(retry_kinds[lab["state"]])
                           if lab["state"] in retry_kinds
                           else s.split(" ")[0] == lab["state"]))
    elif short == "retry_wait_seconds":
        want(dev, name, v, "retry_state",
             lambda s: int(s.split()[2]) / 1000 if s.startswith("retrying in ")
             else 0)
    elif short == "broken":
        want(dev, name, v, "state", lambda s: int(s.startswith("broken")))
    elif short == "last_error_timestamp_seconds":
        want(dev, name, v, "last_error", lambda s: 0 if s == "none" else
             calendar.timegm(__import__("time").strptime(s.split()[-1],
                                                         "%Y-%m-%dT%H:%M:%S")))
    elif short == "info":
        want(dev, name + " mode", lab["mode"], "mode", str)
        want(dev, name + " memmap_on_memory", lab["memmap_on_memory"],
             "memmap_on_memory", str)
        if v != 1:
            bad.append(f"{dev} {name} = {v}")
    else:
        bad.append(f"{name}: not known to this test")
# Every file of every device is in some sample.
for dev in sorted(os.listdir(top)):
    d = os.path.join(top, dev, "virtio_mem")
    if not os.path.isdir(d):
        continue
    for fname in sorted(os.listdir(d)):
        if fname not in ("addr", "node_id") and (dev, fname) not in used:
            bad.append(f"{dev}: file {fname} in no sample")
print("\n".join(bad))
sys.exit(1 if bad else 0)
EOF2
if python3 "$tmp/metrics.py" "$tmp/metrics" "$S" > "$tmp/check.out" 2>&1; then
	pass metrics_values
else
	fail metrics_values "samples differ from sysfs" "$tmp/check.out"
fi

# A device name that needs escaping in a label.
M=$tmp/metrics-odd
new_dev "$M" 'virt"io\1' requested_size=$((1 * GiB))
"$VMEMCTL" --root "$M" metrics > "$out" 2> "$err"
rc=$?
if [ $rc -ne 0 ] ||
   ! grep -qF 'virtio_mem_requested_size_bytes{device="virt\"io\\1",node="0"} 1073741824' "$out"; then
	fail metrics_escape "exit $rc, or the name not escaped" "$out"
elif command -v promtool > /dev/null &&
     ! promtool check metrics < "$out" > "$tmp/promtool.out" 2>&1; then
	fail metrics_escape "promtool refused it" "$tmp/promtool.out"
else
	pass metrics_escape
fi

# --textfile: the same text, in a file replaced whole (a new inode), mode
# 0644, no temporary file left; a directory that is not there: exit 1.
T=$tmp/textfile
mkdir -p "$T"
echo old > "$T/virtio_mem.prom"
ino=$(stat -c %i "$T/virtio_mem.prom")
exec 7< "$T/virtio_mem.prom"	# a reader of the old file
"$VMEMCTL" --root "$S" metrics --textfile "$T" > "$out" 2> "$err"
rc=$?
if [ $rc -ne 0 ] || [ -s "$out" ]; then
	fail metrics_textfile "exit $rc, or output on stdout" "$err"
elif ! cmp -s "$T/virtio_mem.prom" "$tmp/metrics"; then
	diff "$tmp/metrics" "$T/virtio_mem.prom" > "$tmp/diff"
	fail metrics_textfile "the file differs from stdout" "$tmp/diff"
elif [ "$(stat -c %i "$T/virtio_mem.prom")" = "$ino" ]; then
	fail metrics_textfile "written in place, not renamed over"
elif [ "$(cat <&7)" != old ]; then
	fail metrics_textfile "a reader of the old file saw it change"
elif [ "$(stat -c %a "$T/virtio_mem.prom")" != 644 ]; then
	fail metrics_textfile "mode $(stat -c %a "$T/virtio_mem.prom"), want 644"
elif [ "$(find "$T" -mindepth 1 | wc -l)" != 1 ]; then
	find "$T" > "$tmp/ls"
	fail metrics_textfile "files left beside it" "$tmp/ls"
else
	pass metrics_textfile
fi
exec 7<&-
"$VMEMCTL" --root "$S" metrics --textfile "$T/nope" > "$out" 2> "$err"
rc=$?
if [ $rc -ne 1 ] || ! grep -q "$T/nope" "$err" || [ -e "$T/nope" ]; then
	fail metrics_textfile_error "exit $rc, want 1 and a message" "$err"
else
	pass metrics_textfile_error
fi

# The lines of a device that waits: for a config change, for the device.
W=$tmp/waiting
new_dev "$W" virtio0 requested_size=$((2 * GiB)) plugged_size=$((1 * GiB)) \
	'state=short: refused by the device' \
	'retry_state=waiting for a config change'
new_dev "$W" virtio1 requested_size=$((2 * GiB)) plugged_size=$((1 * GiB)) \
	'state=waiting for the device: plug unanswered for 12 s' \
	'retry_state=stalled: plug unanswered for 12 s'
"$VMEMCTL" --root "$W" metrics > "$out" 2> "$err"
why=
for want in 'virtio_mem_state{device="virtio0"[^}]*state="short"} 1' \
	'virtio_mem_retry_state{device="virtio0"[^}]*state="waiting_for_config"} 1' \
	'virtio_mem_state{device="virtio1"[^}]*state="waiting_for_device"} 1' \
	'virtio_mem_retry_state{device="virtio1"[^}]*state="stalled"} 1' \
	'virtio_mem_state{device="virtio0"[^}]*state="retrying"} 0'; do
	grep -q "^$want\$" "$out" || why+=" no '$want';"
done
if [ -n "$why" ]; then
	fail metrics_waiting_states "$why" "$out"
else
	pass metrics_waiting_states
fi
