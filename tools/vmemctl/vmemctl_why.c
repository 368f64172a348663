// SPDX-License-Identifier: GPL-2.0
/*
 * vmemctl why: why is this guest not at the requested size? For each
 * device a first line (plugged, requested, state), then one line per
 * cause found in sysfs, each with the fix of Documentation/admin-guide.rst
 * ("Troubleshooting: the guest is not at the requested size"):
 *
 *   virtio0: <cause tag>: <what is wrong>. Fix: <what to do>.
 *
 * The tags are stable words for scripts and tests. Exit 0 when every
 * device is at its requested size, idle, and nothing is wrong; 3 when a
 * cause was found.
 */
#define _GNU_SOURCE
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vmemctl_cmd.h"
#include "vmemctl_format.h"
#include "vmemctl_state.h"
#include "vmemctl_sysfs.h"
#include "vmemctl_util.h"

#define EXIT_CAUSE	3

#define AUTO_ONLINE	"/sys/devices/system/memory/auto_online_blocks"
#define UNPLUG_ONLINE	"/sys/module/virtio_mem/parameters/unplug_online"

static const char fix_onlining[] = "echo online_movable > " AUTO_ONLINE
	", boot with memhp_default_state=online_movable or turn on 80-virtio-mem.rules";

/* What is known of the machine, and of one device. */
struct why {
	char *auto_online;	/* auto_online_blocks, NULL if unknown */
	int unplug_online;	/* the module parameter: 1, 0, -1 unknown */
	const struct dev *d;
	struct state_line st;
	struct last_error le;
	char *state;		/* the state file made safe, or "-" */
	int causes;		/* lines printed for this device */
	bool explained;		/* a cause explains the retrying state */
};

static __printf(4, 5) void cause(struct why *w, const char *tag,
				  const char *fix, const char *fmt, ...);

static void cause(struct why *w, const char *tag, const char *fix,
		  const char *fmt, ...)
{
	va_list ap;

	printf("%s: %s: ", w->d->name, tag);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf(". Fix: %s.\n", fix);
	w->causes++;
}

/* A file's value, 0 if missing. */
static unsigned long long u(const struct why *w, enum field_id id)
{
	return w->d->f[id].ok ? w->d->f[id].u : 0;
}

static const char *sz(char *buf, unsigned long long v)
{
	return human(buf, 32, v, false);
}

/* "-28 (ENOSPC)": the errno of a state line, with its name if known. */
static const char *errtext(char *buf, size_t len, int err)
{
	const char *name = strerrorname_np(-err);

	if (name)
		snprintf(buf, len, "%d (%s)", err, name);
	else
		snprintf(buf, len, "%d", err);
	return buf;
}

/* "; last error ENOSPC fake_offline at <time>", or "". */
static const char *last_text(const struct why *w, char *buf, size_t len)
{
	char *s;

	if (!w->le.any)
		return "";
	s = sanitize(w->d->f[F_LAST_ERROR].str);
	snprintf(buf, len, "; last error %s", s);
	free(s);
	return buf;
}

static bool retrying(const struct why *w, const char *what, int err)
{
	return w->st.kind == DS_RETRYING && !strcmp(w->st.what, what) &&
	       (!err || w->st.err == err);
}

/* Memory added but offline: nothing onlines it, or not yet. */
static void why_onlining(struct why *w)
{
	unsigned long long off = w->d->f[F_OFFLINE_BYTES].ok ?
		u(w, F_OFFLINE_BYTES) : u(w, F_PLUGGED_OFFLINE);
	bool policy_off = w->auto_online &&
			  !strcmp(w->auto_online, "offline");
	char a[32], b[128], c[48] = "";

	if (w->st.kind != DS_WAITING_FOR_ONLINING && !u(w, F_LEFT_OFFLINE) &&
	    !(off && policy_off))
		return;
	snprintf(b, sizeof(b), "%s%s%s",
		 w->auto_online ? "; auto_online_blocks is '" : "",
		 w->auto_online ? w->auto_online : "",
		 w->auto_online ? "'" : "");
	if (u(w, F_BLOCKS_OFFLINE))
		snprintf(c, sizeof(c), " in %llu memory blocks",
			 u(w, F_BLOCKS_OFFLINE));
	cause(w, "onlining", fix_onlining,
	      "%s of added memory%s is offline (%s)%s", sz(a, off), c,
	      w->st.kind == DS_WAITING_FOR_ONLINING ?
	      "state 'waiting for onlining': the driver adds no more" :
	      u(w, F_LEFT_OFFLINE) ? "for longer than offline_warn_secs" :
	      "nothing onlines it", b);
}

/* Plugging stopped by the kernel-memory budget for the memmap. */
static void why_budget(struct why *w)
{
	const struct val *mm = &w->d->f[F_MEMMAP_ON_MEMORY];
	bool on = mm->ok && !strcmp(mm->str, "on");
	char a[32], b[32], *s;

	if (w->st.kind != DS_LIMITED_BY_KERNEL_MEMORY)
		return;
	s = sanitize(mm->ok ? mm->str : "-");
	cause(w, "kernel-memory",
	      on ? "give the guest more boot memory" :
	      "boot the guest with memory_hotplug.memmap_on_memory=1, or give it more boot memory",
	      "plugging stopped at %s of %s: state 'limited by kernel memory for the memmap': the guest's kernel memory cannot hold the memmap of more (memmap_on_memory: %s)",
	      sz(a, u(w, F_PLUGGED_SIZE)), sz(b, u(w, F_REQUESTED_SIZE)), s);
	free(s);
}

/* Above the request: what keeps memory from going. */
static void why_shrink(struct why *w)
{
	unsigned long long online = u(w, F_PLUGGED_ONLINE_KERNEL) +
				    u(w, F_PLUGGED_ONLINE_MOVABLE);
	bool stuck = w->st.kind == DS_RETRYING || w->st.kind == DS_IDLE;
	char a[32], e[32], l[256];

	if (retrying(w, "unplug_online is off", 0) ||
	    (w->unplug_online == 0 && stuck && online)) {
		w->explained |= w->st.kind == DS_RETRYING;
		cause(w, "unplug-online",
		      "echo 1 > " UNPLUG_ONLINE,
		      "%s: online memory (%s) is not given back",
		      w->unplug_online == 0 ?
		      "unplug_online=0 (module parameter)" :
		      "the state says unplug_online is off", sz(a, online));
	}
	if (retrying(w, "fake_offline", -28) ||
	    retrying(w, "fake_offline", 0) ||
	    retrying(w, "offline_and_remove", 0))
		w->explained = true;
	if (retrying(w, "fake_offline", -28))
		cause(w, "free-memory",
		      "free memory in the guest (stop or shrink the load that holds it), or request more; the driver retries on its own",
		      "state '%s': online memory cannot be taken back without the guest's free memory falling below the reserve: a load holds memory that cannot move (fake_offline_failures %llu%s)",
		      w->state, u(w, F_FAKE_OFFLINE_FAILURES),
		      last_text(w, l, sizeof(l)));
	else if (retrying(w, "fake_offline", 0) ||
		 retrying(w, "offline_and_remove", 0))
		cause(w, "unmovable",
		      "wait, or stop the load that pins it; memory online in ZONE_MOVABLE can move, kernel zones rarely",
		      "state '%s': memory in use cannot move away (%s %s; fake_offline_failures %llu, offline_and_remove_failures %llu)",
		      w->state, w->st.what, errtext(e, sizeof(e), w->st.err),
		      u(w, F_FAKE_OFFLINE_FAILURES),
		      u(w, F_OFFLINE_AND_REMOVE_FAILURES));
	if (stuck && u(w, F_PLUGGED_ONLINE_KERNEL))
		cause(w, "kernel-zone",
		      "online virtio-mem memory to ZONE_MOVABLE (auto_online_blocks or memhp_default_state=online_movable, or the udev rule's default ONLINE_TYPE=online_movable); what is online in a kernel zone now may stay until a reboot",
		      "%s plugged in %llu memory blocks online in a kernel zone, which can rarely be unplugged",
		      sz(a, u(w, F_PLUGGED_ONLINE_KERNEL)),
		      u(w, F_BLOCKS_ONLINE_KERNEL));
}

/* A retry that no cause above explains: the device's or another. */
static void why_retrying(struct why *w)
{
	char e[32], l[256];

	if (w->st.kind != DS_RETRYING)
		return;
	if (retrying(w, "plug", -11))
		cause(w, "host-refused",
		      "none in the guest: the host cannot give memory now (for example while it migrates the guest); the driver retries on its own; look at the host's memory backend if it lasts",
		      "state '%s': the device refused to plug (NACK)%s",
		      w->state, last_text(w, l, sizeof(l)));
	else if (w->st.err == -16 && (!strcmp(w->st.what, "plug") ||
				      !strcmp(w->st.what, "unplug") ||
				      !strcmp(w->st.what, "unplug_all")))
		cause(w, "device-busy",
		      "none: it is transient, and the driver retries on its own",
		      "state '%s': the device answered BUSY%s",
		      w->state, last_text(w, l, sizeof(l)));
	else if (!w->explained)
		cause(w, "retrying",
		      "the kernel log says more; the driver retries on its own; if it lasts, enable the tracepoints and run the self-check",
		      "state '%s': %s failed with %s%s", w->state,
		      w->st.what, errtext(e, sizeof(e), w->st.err),
		      last_text(w, l, sizeof(l)));
}

/* The driver stopped short and waits, or the device does not answer. */
static void why_waiting(struct why *w)
{
	if (w->st.kind == DS_WAITING_FOR_DEVICE)
		cause(w, "device-stalled",
		      "look at the host: the device has not answered a request (a stopped or overloaded VMM); the driver waits for the reply and goes on",
		      "state '%s'", w->state);
	else if (w->st.kind == DS_SHORT && !w->explained)
		cause(w, "short",
		      "request another size, or fix what the state names on the host; the kernel log says which blocks",
		      "state '%s': nothing left can take the step; the driver waits for a config change",
		      w->state);
}

static void why_dev(struct why *w)
{
	const struct dev *d = w->d;
	unsigned long long req = u(w, F_REQUESTED_SIZE);
	unsigned long long plugged = u(w, F_PLUGGED_SIZE);
	bool sizes = d->f[F_REQUESTED_SIZE].ok && d->f[F_PLUGGED_SIZE].ok;
	char a[32], b[32];
	bool at;

	parse_state(&d->f[F_STATE], &w->st);
	parse_last_error(&d->f[F_LAST_ERROR], &w->le);
	w->state = sanitize(d->f[F_STATE].ok ? d->f[F_STATE].str : "-");
	w->causes = 0;
	w->explained = false;
	at = sizes && req == plugged && w->st.kind == DS_IDLE;

	if (at)
		printf("%s: at the requested size (%s), idle\n", d->name,
		       sz(a, req));
	else
		printf("%s: plugged %s, requested %s, state '%s'\n", d->name,
		       sizes ? sz(a, plugged) : "-",
		       sizes ? sz(b, req) : "-", w->state);

	if (dev_broken(d)) {
		cause(w, "broken",
		      "the kernel log has the reply; rebind the driver (unbind and bind in /sys/bus/virtio/drivers/virtio_mem/) or reboot the guest",
		      "the device broke the protocol (state '%s'): the driver sends it nothing more",
		      w->state);
		goto out;
	}
	if (w->st.kind == DS_NOT_RESIZING ||
	    (d->f[F_MODE].ok && !strcmp(d->f[F_MODE].str, "none"))) {
		cause(w, "not-resizing",
		      "nothing to do in a crash kernel; elsewhere the kernel log says why (Documentation/kernel-compat.rst)",
		      "the driver does not resize here (mode none: a crash kernel, or a kernel whose page rules it does not know)");
		goto out;
	}
	if (d->f[F_USABLE_REGION_SIZE].ok &&
	    req > u(w, F_USABLE_REGION_SIZE)) {
		w->explained |= retrying(w, "plug", -28);
		cause(w, "usable-region",
		      "on the host, request at most the usable region, or give the device a larger region (QEMU: a larger memdev)",
		      "requested %s is beyond the usable region (%s): the device lets no more be plugged",
		      sz(a, req), sz(b, u(w, F_USABLE_REGION_SIZE)));
	}
	why_budget(w);
	why_onlining(w);
	if (sizes && plugged > req)
		why_shrink(w);
	why_retrying(w);
	why_waiting(w);
	if (u(w, F_PLUGGED_NOT_ADDED))
		cause(w, "not-added",
		      "none needed: the driver unplugs it first when it shrinks; the kernel log names the failure",
		      "%s plugged but not added to Linux (an add and its unplug both failed)",
		      sz(a, u(w, F_PLUGGED_NOT_ADDED)));
	if (!at && !w->causes) {
		if (w->st.kind == DS_RESIZING)
			cause(w, "resizing",
			      "wait; vmemctl watch shows the progress",
			      "under way (state 'resizing')");
		else
			cause(w, "unknown",
			      "enable the tracepoints and run the self-check (admin guide); a mismatch there is a bug worth a report",
			      "not at the requested size, and no known cause in sysfs (state '%s')",
			      w->state);
	}
out:
	free(w->state);
}

int cmd_why(const struct opts *o)
{
	char *top = devices_dir(o->root), *p;
	struct why w = { 0 };
	struct dev *devs;
	int n, i, bad = 0;

	n = find_devices(top, o->names, o->nr_names, &devs);
	free(top);
	w.auto_online = read_sys(o->root, AUTO_ONLINE);
	w.unplug_online = -1;
	p = read_sys(o->root, UNPLUG_ONLINE);
	if (p && (!strcmp(p, "Y") || !strcmp(p, "y") || !strcmp(p, "1")))
		w.unplug_online = 1;
	else if (p && (!strcmp(p, "N") || !strcmp(p, "n") || !strcmp(p, "0")))
		w.unplug_online = 0;
	free(p);
	if (w.auto_online) {
		p = sanitize(w.auto_online);
		free(w.auto_online);
		w.auto_online = p;
	}
	for (i = 0; i < n; i++) {
		dev_load(&devs[i]);
		w.d = &devs[i];
		why_dev(&w);
		bad |= w.causes > 0;
		/* not at size without a cause cannot happen: "unknown" */
	}
	free(w.auto_online);
	if (fflush(stdout))
		return 1;
	return bad ? EXIT_CAUSE : 0;
}
