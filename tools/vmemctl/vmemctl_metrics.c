// SPDX-License-Identifier: GPL-2.0
/*
 * vmemctl metrics: every device's values and counters in the Prometheus
 * text exposition format (version 0.0.4), on standard output or, with
 * --textfile DIR, in DIR/virtio_mem.prom for node_exporter's textfile
 * collector: written to a temporary file in DIR, then renamed over it, so
 * a scrape reads the old file or the new one, never half of one.
 *
 * Every sample has the labels device (virtio<N>) and node (nid: the
 * Linux node, -1 for none). A file the driver does not have (an older
 * driver) gives no sample; a family without any sample is left out.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "vmemctl_cmd.h"
#include "vmemctl_format.h"
#include "vmemctl_state.h"
#include "vmemctl_sysfs.h"
#include "vmemctl_util.h"

#define PROM_FILE	"virtio_mem.prom"

/* A family whose one sample per device is the value of one file. */
static const struct {
	const char *name;
	enum field_id id;
	bool counter;
	const char *help;
} plain[] = {
	{ "virtio_mem_region_size_bytes", F_REGION_SIZE, false,
	  "Size of the device-managed region (region_size)." },
	{ "virtio_mem_usable_region_size_bytes", F_USABLE_REGION_SIZE, false,
	  "Part of the region that may be plugged (usable_region_size)." },
	{ "virtio_mem_block_size_bytes", F_BLOCK_SIZE, false,
	  "Device block size (block_size)." },
	{ "virtio_mem_subblock_size_bytes", F_SUBBLOCK_SIZE, false,
	  "Unit the driver plugs and unplugs in (subblock_size)." },
	{ "virtio_mem_requested_size_bytes", F_REQUESTED_SIZE, false,
	  "Bytes the host asks the guest to have plugged (requested_size)." },
	{ "virtio_mem_plugged_size_bytes", F_PLUGGED_SIZE, false,
	  "Bytes plugged (plugged_size)." },
	{ "virtio_mem_memmap_bytes", F_MEMMAP_BYTES, false,
	  "Plugged bytes that hold the memmaps of the device's memory blocks (memmap_bytes)." },
	{ "virtio_mem_offline_bytes", F_OFFLINE_BYTES, false,
	  "Added memory of the device that is offline (offline_bytes)." },
	{ "virtio_mem_left_offline_bytes", F_LEFT_OFFLINE, false,
	  "Plugged bytes offline for longer than offline_warn_secs: nothing onlines them (left_offline)."
	},
	{ "virtio_mem_plug_acked_bytes_total", F_BYTES_PLUGGED_TOTAL, true,
	  "Bytes the device acknowledged as plugged since probe (bytes_plugged_total)." },
	{ "virtio_mem_unplug_acked_bytes_total", F_BYTES_UNPLUGGED_TOTAL, true,
	  "Bytes the device acknowledged as unplugged since probe (bytes_unplugged_total)." },
	{ "virtio_mem_fake_offline_failures_total", F_FAKE_OFFLINE_FAILURES,
	  true,
	  "Times plugged memory of an online block could not be taken back to unplug it (fake_offline_failures)."
	},
	{ "virtio_mem_offline_and_remove_failures_total",
	  F_OFFLINE_AND_REMOVE_FAILURES, true,
	  "Times a memory block could not be offlined and removed (offline_and_remove_failures)." },
};

/* Plugged bytes and memory blocks by the state of their memory block. */
static const struct {
	const char *state;
	enum field_id bytes, blocks;	/* NR_FIELDS: none */
} by_state[] = {
	{ "offline", F_PLUGGED_OFFLINE, F_BLOCKS_OFFLINE },
	{ "online_kernel", F_PLUGGED_ONLINE_KERNEL, F_BLOCKS_ONLINE_KERNEL },
	{ "online_movable", F_PLUGGED_ONLINE_MOVABLE,
	  F_BLOCKS_ONLINE_MOVABLE },
	{ "not_added", F_PLUGGED_NOT_ADDED, NR_FIELDS },
};

struct out {
	FILE *f;
	struct dev *devs;
	int n;
	char **labels;		/* per device: device="...",node="..." */
};

/* @s as a label value: printable ASCII, with \ " escaped. */
static char *label_value(const char *s)
{
	char *clean = sanitize(s), *p, *q;
	char *esc = xmalloc(2 * strlen(clean) + 1);

	for (p = clean, q = esc; *p; p++) {
		if (*p == '\\' || *p == '"')
			*q++ = '\\';
		*q++ = *p;
	}
	*q = '\0';
	free(clean);
	return esc;
}

static char *dev_labels(const struct dev *d)
{
	char node[32] = "";
	char *name = label_value(d->name), *l;
	size_t len;

	if (d->f[F_NID].ok)
		snprintf(node, sizeof(node), "%lld", d->f[F_NID].s);
	len = strlen(name) + strlen(node) + sizeof("device=\"\",node=\"\"");
	l = xmalloc(len);
	snprintf(l, len, "device=\"%s\",node=\"%s\"", name, node);
	free(name);
	return l;
}

static void family(const struct out *o, const char *name, bool counter,
		   const char *help)
{
	fprintf(o->f, "# HELP %s %s\n# TYPE %s %s\n", name, help, name,
		counter ? "counter" : "gauge");
}

/* name{<device labels>[,<extra>]} value */
static void sample(const struct out *o, int i, const char *name,
		   const char *extra, unsigned long long v)
{
	fprintf(o->f, "%s{%s%s%s} %llu\n", name, o->labels[i],
		extra ? "," : "", extra ? extra : "", v);
}

static void put_plain(const struct out *o)
{
	size_t k;
	int i;

	for (k = 0; k < ARRAY_LEN(plain); k++) {
		bool any = false;

		for (i = 0; i < o->n; i++)
			any |= o->devs[i].f[plain[k].id].ok;
		if (!any)
			continue;
		family(o, plain[k].name, plain[k].counter, plain[k].help);
		for (i = 0; i < o->n; i++)
			if (o->devs[i].f[plain[k].id].ok)
				sample(o, i, plain[k].name, NULL,
				       o->devs[i].f[plain[k].id].u);
	}
}

static const char help_blocks[] =
	"Memory blocks of the device added to Linux, by state (blocks_<state>).";
static const char help_plugged[] =
	"Plugged bytes by the state of their memory block (plugged_<state>).";

static void put_by_state(const struct out *o, bool blocks)
{
	const char *name = blocks ? "virtio_mem_memory_blocks" :
				    "virtio_mem_plugged_bytes";
	char extra[64];
	bool head = false;
	enum field_id id;
	size_t k;
	int i;

	for (i = 0; i < o->n; i++) {
		for (k = 0; k < ARRAY_LEN(by_state); k++) {
			id = blocks ? by_state[k].blocks : by_state[k].bytes;
			if (id == NR_FIELDS || !o->devs[i].f[id].ok)
				continue;
			if (!head)
				family(o, name, false,
				       blocks ? help_blocks : help_plugged);
			head = true;
			snprintf(extra, sizeof(extra), "state=\"%s\"",
				 by_state[k].state);
			sample(o, i, name, extra, o->devs[i].f[id].u);
		}
	}
}

static void put_requests(const struct out *o)
{
	const char *name = "virtio_mem_requests_total";
	bool head = false;
	char extra[64];
	size_t t, r;
	int i;

	for (i = 0; i < o->n; i++) {
		for (t = 0; t < NR_REQ_TYPES; t++) {
			for (r = 0; r < NR_REQ_REPLIES; r++) {
				if (!o->devs[i].req[t][r].ok)
					continue;
				if (!head)
					family(o, name, true,
					       "Requests sent to the device, by type and reply (requests_<type>_<reply>).");
				head = true;
				snprintf(extra, sizeof(extra),
					 "type=\"%s\",reply=\"%s\"",
					 req_types[t], req_replies[r]);
				sample(o, i, name, extra,
				       o->devs[i].req[t][r].u);
			}
		}
	}
}

/* The state and retry_state lines: a 1 for the kind shown, 0 others. */
static void put_states(const struct out *o)
{
	unsigned long long ms;
	struct state_line st;
	enum retry_kind rk;
	bool head = false;
	char extra[64];
	int i, k;

	for (i = 0; i < o->n; i++) {
		if (!o->devs[i].f[F_STATE].ok)
			continue;
		if (!head)
			family(o, "virtio_mem_state", false,
			       "What the driver is doing: 1 for the kind of line the state file shows, 0 for the others.");
		head = true;
		parse_state(&o->devs[i].f[F_STATE], &st);
		for (k = DS_UNKNOWN + 1; k < NR_DEV_STATES; k++) {
			snprintf(extra, sizeof(extra), "state=\"%s\"",
				 dev_state_names[k]);
			sample(o, i, "virtio_mem_state", extra,
			       st.kind == (enum dev_state)k);
		}
	}
	head = false;
	for (i = 0; i < o->n; i++) {
		if (!o->devs[i].f[F_RETRY_STATE].ok)
			continue;
		if (!head)
			family(o, "virtio_mem_retry_state", false,
			       "The resize loop: 1 for the kind of line retry_state shows, 0 for the others.");
		head = true;
		rk = parse_retry_state(&o->devs[i].f[F_RETRY_STATE], &ms);
		for (k = RK_UNKNOWN + 1; k < NR_RETRY_KINDS; k++) {
			snprintf(extra, sizeof(extra), "state=\"%s\"",
				 retry_kind_names[k]);
			sample(o, i, "virtio_mem_retry_state", extra,
			       rk == (enum retry_kind)k);
		}
	}
	head = false;
	for (i = 0; i < o->n; i++) {
		if (!o->devs[i].f[F_RETRY_STATE].ok)
			continue;
		if (!head)
			family(o, "virtio_mem_retry_wait_seconds", false,
			       "Time until the next attempt after a failure (retry_state \"retrying in <N> ms\"), else 0.");
		head = true;
		parse_retry_state(&o->devs[i].f[F_RETRY_STATE], &ms);
		fprintf(o->f, "virtio_mem_retry_wait_seconds{%s} %llu.%03llu\n",
			o->labels[i], ms / 1000, ms % 1000);
	}
}

static void put_broken_and_errors(const struct out *o)
{
	struct last_error le;
	bool head = false;
	int i;

	for (i = 0; i < o->n; i++) {
		if (!o->devs[i].f[F_STATE].ok &&
		    !o->devs[i].f[F_RETRY_STATE].ok)
			continue;
		if (!head)
			family(o, "virtio_mem_broken", false,
			       "1 if the device broke the protocol and the driver sends it nothing more (state \"broken: ...\").");
		head = true;
		sample(o, i, "virtio_mem_broken", NULL,
		       dev_broken(&o->devs[i]));
	}
	head = false;
	for (i = 0; i < o->n; i++) {
		if (!parse_last_error(&o->devs[i].f[F_LAST_ERROR], &le) ||
		    (le.any && !le.time_ok))
			continue;
		if (!head)
			family(o, "virtio_mem_last_error_timestamp_seconds",
			       false,
			       "When the driver's last failure happened (last_error), 0 if none.");
		head = true;
		sample(o, i, "virtio_mem_last_error_timestamp_seconds", NULL,
		       le.any ? (unsigned long long)le.time : 0);
	}
}

static void put_info(const struct out *o)
{
	char *mode, *memmap, *extra;
	size_t len;
	int i;

	family(o, "virtio_mem_info", false,
	       "Always 1; the labels say the mode (sbm, bbm, none) and memmap_on_memory (on, untried, off).");
	for (i = 0; i < o->n; i++) {
		const struct dev *d = &o->devs[i];

		mode = label_value(d->f[F_MODE].ok ? d->f[F_MODE].str : "");
		memmap = label_value(d->f[F_MEMMAP_ON_MEMORY].ok ?
				     d->f[F_MEMMAP_ON_MEMORY].str : "");
		len = strlen(mode) + strlen(memmap) + 64;
		extra = xmalloc(len);
		snprintf(extra, len, "mode=\"%s\",memmap_on_memory=\"%s\"",
			 mode, memmap);
		sample(o, i, "virtio_mem_info", extra, 1);
		free(extra);
		free(mode);
		free(memmap);
	}
}

static void put_all(const struct out *o)
{
	put_info(o);
	put_plain(o);
	put_by_state(o, false);
	put_by_state(o, true);
	put_requests(o);
	put_states(o);
	put_broken_and_errors(o);
}

/*
 * @dir/virtio_mem.prom replaced at once: written as a hidden temporary
 * file in @dir (the collector reads only *.prom), made readable, synced,
 * then renamed over it.
 */
static void write_textfile(struct out *o, const char *dir)
{
	size_t len = strlen(dir) + sizeof("/." PROM_FILE ".XXXXXX");
	char *tmp = xmalloc(len), *path = xmalloc(len);
	int fd, err = 0;

	snprintf(tmp, len, "%s/." PROM_FILE ".XXXXXX", dir);
	snprintf(path, len, "%s/" PROM_FILE, dir);
	fd = mkstemp(tmp);
	if (fd < 0)
		die(1, "%s: %s", tmp, strerror(errno));
	o->f = fdopen(fd, "w");
	if (!o->f) {
		err = errno;
		close(fd);
		goto fail;
	}
	put_all(o);
	errno = 0;
	if (fflush(o->f) || ferror(o->f) || fchmod(fd, 0644) || fsync(fd))
		err = errno ? errno : EIO;
	if (fclose(o->f) && !err)
		err = errno;
	if (!err && rename(tmp, path))
		err = errno;
	if (!err) {
		free(tmp);
		free(path);
		return;
	}
fail:
	unlink(tmp);
	die(1, "%s: %s", path, strerror(err));
}

int cmd_metrics(const struct opts *o)
{
	char *top = devices_dir(o->root);
	struct out out = { .f = stdout };
	int i;

	out.n = find_devices(top, o->names, o->nr_names, &out.devs);
	out.labels = xmalloc(out.n * sizeof(*out.labels));
	for (i = 0; i < out.n; i++) {
		dev_load(&out.devs[i]);
		out.labels[i] = dev_labels(&out.devs[i]);
	}
	free(top);
	if (o->textfile) {
		write_textfile(&out, o->textfile);
		return 0;
	}
	put_all(&out);
	return fflush(stdout) ? 1 : 0;
}
