// SPDX-License-Identifier: GPL-2.0
/*
 * vmemctl status: a table of the devices with notes below it, or every
 * attribute as JSON.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vmemctl_cmd.h"
#include "vmemctl_format.h"
#include "vmemctl_sysfs.h"
#include "vmemctl_util.h"

/* Text of a value: "-" if missing, human-readable if @size. */
static char *val_text(const struct val *v, enum vtype type, bool size)
{
	char buf[64];

	if (!v->ok)
		return xstrdup("-");
	switch (type) {
	case T_U64:
		if (size)
			return xstrdup(human(buf, sizeof(buf), v->u, false));
		snprintf(buf, sizeof(buf), "%llu", v->u);
		return xstrdup(buf);
	case T_S64:
		snprintf(buf, sizeof(buf), "%lld", v->s);
		return xstrdup(buf);
	case T_STR:
		break;
	}
	return sanitize(v->str);
}

static char *field_text(const struct dev *d, enum field_id id, bool size)
{
	return val_text(&d->f[id], fields[id].type, size);
}

/* The counters totalled over request types: "ack/nack/busy/error". */
static char *requests_text(const struct dev *d)
{
	char buf[128], *p = buf;
	unsigned long long sum;
	bool any, any_reply;
	size_t t, r;

	any = false;
	for (r = 0; r < NR_REQ_REPLIES; r++) {
		sum = 0;
		any_reply = false;
		for (t = 0; t < NR_REQ_TYPES; t++) {
			if (!d->req[t][r].ok)
				continue;
			sum += d->req[t][r].u;
			any_reply = true;
		}
		any |= any_reply;
		if (r)
			*p++ = '/';
		if (any_reply)
			p += sprintf(p, "%llu", sum);
		else
			*p++ = '-';
	}
	*p = '\0';
	return xstrdup(any ? buf : "-");
}

enum col_id {
	C_DEVICE, C_NODE, C_BLOCK, C_REQUESTED, C_PLUGGED, C_USABLE, C_MODE,
	C_STATE, C_OFFLINE, C_REQUESTS, NR_COLS
};

static const struct {
	const char *title;
	bool right;
} cols[NR_COLS] = {
	[C_DEVICE] = { "DEVICE", false },
	[C_NODE] = { "NODE", true },
	[C_BLOCK] = { "BLOCK", true },
	[C_REQUESTED] = { "REQUESTED", true },
	[C_PLUGGED] = { "PLUGGED", true },
	[C_USABLE] = { "USABLE", true },
	[C_MODE] = { "MODE", false },
	[C_STATE] = { "STATE", false },
	[C_OFFLINE] = { "OFFLINE", true },
	[C_REQUESTS] = { "ACK/NACK/BUSY/ERR", false },
};

static void print_row(char **cell, const size_t *width)
{
	int c;

	for (c = 0; c < NR_COLS; c++) {
		if (c)
			fputs("  ", stdout);
		if (cols[c].right)
			printf("%*s", (int)width[c], cell[c]);
		else if (c == NR_COLS - 1)
			fputs(cell[c], stdout);
		else
			printf("%-*s", (int)width[c], cell[c]);
	}
	putchar('\n');
}

static const char online_hint[] =
	"online it (see vmemctl(8), udev rule 80-virtio-mem.rules)";

static void status_notes(const struct dev *d)
{
	const struct val *err = &d->f[F_LAST_ERROR];
	const struct val *left = &d->f[F_LEFT_OFFLINE];
	char buf[64], *s, *sp;

	if (err->ok && strcmp(err->str, "none")) {
		/* "<ERRNAME> <what...> <time>": the time is the last word */
		s = sanitize(err->str);
		sp = strrchr(s, ' ');
		if (sp && sp != strchr(s, ' ')) {
			*sp = '\0';
			printf("%s: last error %s at %s\n", d->name, s, sp + 1);
		} else {
			printf("%s: last error %s\n", d->name, s);
		}
		free(s);
	}
	if (left->ok && left->u)
		printf("%s: %s added but offline for too long: %s\n", d->name,
		       human(buf, sizeof(buf), left->u, false), online_hint);
}

static void status_text(struct dev *devs, int n)
{
	size_t width[NR_COLS];
	char *title[NR_COLS];
	char ***rows = xmalloc(n * sizeof(*rows));
	bool notes = false;
	int i, c;
	char **r;

	for (c = 0; c < NR_COLS; c++) {
		title[c] = (char *)cols[c].title;
		width[c] = strlen(title[c]);
	}
	for (i = 0; i < n; i++) {
		struct dev *d = &devs[i];

		r = xmalloc(NR_COLS * sizeof(*r));
		r[C_DEVICE] = sanitize(d->name);
		r[C_NODE] = field_text(d, F_NID, false);
		r[C_BLOCK] = field_text(d, F_BLOCK_SIZE, true);
		r[C_REQUESTED] = field_text(d, F_REQUESTED_SIZE, true);
		r[C_PLUGGED] = field_text(d, F_PLUGGED_SIZE, true);
		r[C_USABLE] = field_text(d, F_USABLE_REGION_SIZE, true);
		r[C_MODE] = field_text(d, F_MODE, false);
		r[C_STATE] = field_text(d, F_STATE, false);
		r[C_OFFLINE] = field_text(d, d->f[F_OFFLINE_BYTES].ok ?
					  F_OFFLINE_BYTES : F_PLUGGED_OFFLINE,
					  true);
		r[C_REQUESTS] = requests_text(d);
		for (c = 0; c < NR_COLS; c++)
			if (strlen(r[c]) > width[c])
				width[c] = strlen(r[c]);
		rows[i] = r;
	}
	print_row(title, width);
	for (i = 0; i < n; i++) {
		print_row(rows[i], width);
		for (c = 0; c < NR_COLS; c++)
			free(rows[i][c]);
		free(rows[i]);
	}
	free(rows);
	for (i = 0; i < n; i++) {
		const struct val *err = &devs[i].f[F_LAST_ERROR];
		const struct val *left = &devs[i].f[F_LEFT_OFFLINE];

		if ((err->ok && strcmp(err->str, "none")) ||
		    (left->ok && left->u)) {
			if (!notes)
				putchar('\n');
			notes = true;
			status_notes(&devs[i]);
		}
	}
}

static void json_requests(const struct dev *d)
{
	size_t t, r;

	fputs("\"requests\":{", stdout);
	for (t = 0; t < NR_REQ_TYPES; t++) {
		printf("%s\"%s\":{", t ? "," : "", req_types[t]);
		for (r = 0; r < NR_REQ_REPLIES; r++) {
			printf("%s\"%s\":", r ? "," : "", req_replies[r]);
			json_val(&d->req[t][r], T_U64);
		}
		putchar('}');
	}
	putchar('}');
}

static void status_json(const struct dev *devs, int n)
{
	int i, id;

	fputs("{\"devices\":[", stdout);
	for (i = 0; i < n; i++) {
		fputs(i ? ",\n{\"name\":" : "\n{\"name\":", stdout);
		json_str(devs[i].name);
		for (id = 0; id < NR_FIELDS; id++) {
			if (id == F_BYTES_PLUGGED_TOTAL) {
				putchar(',');
				json_requests(&devs[i]);
			}
			printf(",\"%s\":", fields[id].name);
			json_val(&devs[i].f[id], fields[id].type);
		}
		putchar('}');
	}
	fputs("\n]}\n", stdout);
}

int cmd_status(const struct opts *o)
{
	char *top = devices_dir(o->root);
	struct dev *devs;
	int n, i;

	n = find_devices(top, o->names, o->nr_names, &devs);
	for (i = 0; i < n; i++)
		dev_load(&devs[i]);
	if (o->json)
		status_json(devs, n);
	else
		status_text(devs, n);
	free(top);
	return fflush(stdout) ? 1 : 0;
}
