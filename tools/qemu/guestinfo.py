# SPDX-License-Identifier: GPL-2.0
"""
Readers of the guest's state through the command channel: /proc/meminfo,
/proc/zoneinfo, the virtio-mem devices' sysfs files and how /init's
insmods went. A mixin of vmtest.VM (it uses self.sh()).
"""

import re

from units import KiB


class GuestReaders:
    """meminfo(), kernel_mem(), virtio_mem_devices(), insmod_status()."""

    def insmod_status(self):
        """[(rc, guest path, message)] of the insmods done by /init."""
        out = self.sh("cat /run/vmtest-insmod")
        res = []
        for line in out.splitlines():
            parts = line.split(" ", 2)
            res.append((int(parts[0]), parts[1],
                        parts[2] if len(parts) > 2 else ""))
        return res

    # Shell builtins only (read, echo, cd, pwd): under TCG each fork of
    # the guest costs tens of milliseconds of host CPU, and the cases poll.
    DEVICES_SCRIPT = r"""
for d in /sys/bus/virtio/devices/virtio*; do
	read -r id < $d/device 2>/dev/null || continue
	[ "$id" = 0x0018 ] || continue
	echo -n "@dev ${d##*/} "
	if cd $d/driver 2>/dev/null; then pwd -P; cd /; else echo; fi
	[ -d $d/virtio_mem ] || continue
	for f in $d/virtio_mem/*; do
		while IFS= read -r l || [ -n "$l" ]; do echo "|${f##*/}:$l"; done < $f
	done
done
true
"""

    def virtio_mem_devices(self):
        """
        All virtio devices of type virtio-mem (device id 0x0018) in the guest:
        [{"name": "virtio0", "driver": "virtio_mem" or None,
          "attrs": {file: value} of <dev>/virtio_mem/ (empty if missing)}].
        """
        return parse_devices(self.sh(self.DEVICES_SCRIPT))

    def snapshot(self, keys=("MemTotal",)):
        """(virtio_mem_devices(), the meminfo() lines of @keys), read by
        one guest command."""
        out = self.sh(self.DEVICES_SCRIPT + "echo @meminfo\n" +
                      meminfo_script(keys))
        devs, _, mem = out.partition("\n@meminfo\n")
        return parse_devices(devs), parse_meminfo(mem)

    def kernel_mem(self):
        """
        The driver's kernel-memory budget figures, read independently
        from /proc/zoneinfo (include/vmem_budget.h): (avail, managed) in
        bytes over the zones below Movable, avail(z) = max(0, free +
        file / 2 - high).
        """
        avail = managed = 0
        zones = self.sh("cat /proc/zoneinfo").split("\nNode ")
        for z in zones:
            m = re.match(r"(?:Node )?\d+, zone\s+(\S+)", z)
            if not m or m.group(1) in ("Movable", "Device"):
                continue
            v = {}
            for line in z.splitlines()[1:]:
                f = line.split()
                if len(f) == 2 and f[1].isdigit():
                    v.setdefault(f[0], int(f[1]))
                elif len(f) == 3 and f[:2] == ["pages", "free"]:
                    v["free"] = int(f[2])
            if not v.get("present"):
                continue
            have = v.get("free", 0) + (v.get("nr_zone_inactive_file", 0) +
                                       v.get("nr_zone_active_file", 0)) // 2
            avail += max(0, have - v.get("high", 0)) * 4 * KiB
            managed += v.get("managed", 0) * 4 * KiB
        return avail, managed

    def meminfo(self):
        """/proc/meminfo as {key: bytes}."""
        return parse_meminfo(self.sh(meminfo_script()))

    # For each range of /proc/iomem the driver added: its pages by (flags
    # of /proc/kpageflags, count of /proc/kpagecount), the first few pfns
    # of each class. Ranges are whole memory blocks: 512-page aligned.
    CENSUS_SCRIPT = r"""
grep 'System RAM (virtio_mem)' /proc/iomem | while read -r r _; do
	s=$((0x${r%-*} >> 12)); e=$(((0x${r#*-} + 1) >> 12))
	printf '%x-%x\n' $s $e
	dd if=/proc/kpageflags bs=4096 skip=$((s / 512)) count=$(((e - s) / 512)) 2>/dev/null |
		od -An -v -tx8 -w8 > /tmp/census.f
	dd if=/proc/kpagecount bs=4096 skip=$((s / 512)) count=$(((e - s) / 512)) 2>/dev/null |
		od -An -v -tu8 -w8 > /tmp/census.c
	paste /tmp/census.f /tmp/census.c | awk -v s=$s '
		{ k = $1 " " $2; n[k]++; if (n[k] <= 4) at[k] = at[k] sprintf(" %x", s + NR - 1) }
		END { for (k in n) printf "  flags %s count %s: %d pages, pfn%s\n", substr(k, 1, 16), substr(k, 18), n[k], at[k] }'
done
rm -f /tmp/census.f /tmp/census.c
"""

    def page_census(self):
        """
        What the pages of the driver's added memory are, as a text: for
        each added range, its pages counted by kpageflags (KPF_BUDDY
        0x400: a free chunk's head; KPF_OFFLINE 0x800000: fake-offline)
        and kpagecount. For a shrink that does not end: which pages hold
        it up.
        """
        return self.sh(self.CENSUS_SCRIPT, timeout=120.0)


def meminfo_script(keys=None):
    """The guest script printing /proc/meminfo, only its lines of @keys if
    given, with shell builtins."""
    pick = "|".join(k + ":" for k in keys) if keys else "*"
    return ("while read -r k l; do case $k in %s) echo \"$k $l\";; esac; "
            "done < /proc/meminfo\n" % pick)


def parse_devices(out):
    """virtio_mem_devices() of DEVICES_SCRIPT's output."""
    devs = []
    for line in out.splitlines():
        parts = line.split(" ", 2)
        if parts[0] == "@dev":
            drv = parts[2].strip() if len(parts) > 2 else ""
            devs.append({"name": parts[1],
                         "driver": drv.rsplit("/", 1)[-1] or None,
                         "attrs": {}})
        elif line.startswith("|") and ":" in line and devs:
            name, value = line[1:].split(":", 1)
            attrs = devs[-1]["attrs"]
            # A value of several lines comes as several "|name:" lines.
            attrs[name] = (attrs[name] + " " + value).strip() \
                if name in attrs else value.strip()
    return devs


def parse_meminfo(out):
    """/proc/meminfo's text as {key: bytes}."""
    res = {}
    for line in out.splitlines():
        m = re.match(r"(\S+):\s+(\d+)(\s+kB)?", line)
        if m:
            res[m.group(1)] = int(m.group(2)) * (KiB if m.group(3) else 1)
    return res
