// SPDX-License-Identifier: GPL-2.0
/*
 * vmemctl: the state, retry_state and last_error lines of the driver
 * (Documentation/ABI/testing/sysfs-bus-virtio-devices-virtio_mem) taken
 * apart.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "vmemctl_state.h"
#include "vmemctl_util.h"

const char * const dev_state_names[NR_DEV_STATES] = {
	[DS_UNKNOWN] = "unknown",
	[DS_IDLE] = "idle",
	[DS_RESIZING] = "resizing",
	[DS_RETRYING] = "retrying",
	[DS_WAITING_FOR_ONLINING] = "waiting_for_onlining",
	[DS_LIMITED_BY_KERNEL_MEMORY] = "limited_by_kernel_memory",
	[DS_BROKEN] = "broken",
	[DS_NOT_RESIZING] = "not_resizing",
	[DS_SHORT] = "short",
	[DS_WAITING_FOR_DEVICE] = "waiting_for_device",
};

const char * const retry_kind_names[NR_RETRY_KINDS] = {
	[RK_UNKNOWN] = "unknown",
	[RK_IDLE] = "idle",
	[RK_RESIZING] = "resizing",
	[RK_RETRYING] = "retrying",
	[RK_BROKEN] = "broken",
	[RK_WAITING_FOR_CONFIG] = "waiting_for_config",
	[RK_STALLED] = "stalled",
};

/* Does @s start with @prefix? Then the rest, else NULL. */
static const char *after(const char *s, const char *prefix)
{
	size_t n = strlen(prefix);

	return strncmp(s, prefix, n) ? NULL : s + n;
}

/* "<what>: <errno>" into @out; false if it is not that. */
static bool parse_what_err(const char *s, struct state_line *out)
{
	const char *sep = NULL, *p;
	char *end;
	long err;

	for (p = strstr(s, ": "); p; p = strstr(p + 1, ": "))
		sep = p;
	if (!sep)
		return false;
	errno = 0;
	err = strtol(sep + 2, &end, 10);
	if (errno || end == sep + 2 || *end || err >= 0 || err < -4095)
		return false;
	snprintf(out->what, sizeof(out->what), "%.*s", (int)(sep - s), s);
	out->err = err;
	return true;
}

/* The lines that are one fixed text. */
static const struct {
	const char *line;
	enum dev_state kind;
} fixed_states[] = {
	{ "idle", DS_IDLE },
	{ "resizing", DS_RESIZING },
	{ "waiting for onlining", DS_WAITING_FOR_ONLINING },
	{ "limited by kernel memory for the memmap",
	  DS_LIMITED_BY_KERNEL_MEMORY },
	{ "not resizing", DS_NOT_RESIZING },
	{ "broken", DS_BROKEN },
};

void parse_state(const struct val *v, struct state_line *out)
{
	const char *rest;
	size_t i;

	memset(out, 0, sizeof(*out));
	out->kind = DS_UNKNOWN;
	if (!v->ok)
		return;
	for (i = 0; i < ARRAY_LEN(fixed_states); i++) {
		if (!strcmp(v->str, fixed_states[i].line)) {
			out->kind = fixed_states[i].kind;
			return;
		}
	}
	rest = after(v->str, "retrying: ");
	if (rest) {
		if (parse_what_err(rest, out))
			out->kind = DS_RETRYING;
		return;
	}
	rest = after(v->str, "broken: ");
	if (rest) {
		/* broken whatever follows: the what may not parse */
		parse_what_err(rest, out);
		out->kind = DS_BROKEN;
		return;
	}
	rest = after(v->str, "short: ");
	if (rest && *rest) {
		snprintf(out->what, sizeof(out->what), "%s", rest);
		out->kind = DS_SHORT;
		return;
	}
	if (after(v->str, "waiting for the device: "))
		out->kind = DS_WAITING_FOR_DEVICE;
}

enum retry_kind parse_retry_state(const struct val *v,
				  unsigned long long *wait_ms)
{
	const char *rest;
	char *end;

	*wait_ms = 0;
	if (!v->ok)
		return RK_UNKNOWN;
	if (!strcmp(v->str, "idle"))
		return RK_IDLE;
	if (!strcmp(v->str, "resizing"))
		return RK_RESIZING;
	if (!strcmp(v->str, "broken"))
		return RK_BROKEN;
	if (!strcmp(v->str, "waiting for a config change"))
		return RK_WAITING_FOR_CONFIG;
	if (after(v->str, "stalled: "))
		return RK_STALLED;
	rest = after(v->str, "retrying in ");
	if (!rest || *rest < '0' || *rest > '9')
		return RK_UNKNOWN;
	errno = 0;
	*wait_ms = strtoull(rest, &end, 10);
	if (errno || strcmp(end, " ms")) {
		*wait_ms = 0;
		return RK_UNKNOWN;
	}
	return RK_RETRYING;
}

bool parse_last_error(const struct val *v, struct last_error *out)
{
	const char *s, *sp1, *sp2;
	struct tm tm;
	int n = 0;

	memset(out, 0, sizeof(*out));
	if (!v->ok)
		return false;
	s = v->str;
	if (!strcmp(s, "none"))
		return true;
	sp1 = strchr(s, ' ');
	sp2 = strrchr(s, ' ');
	if (!sp1 || sp1 == sp2 || sp1 - s >= (int)sizeof(out->name))
		return false;
	out->any = true;
	snprintf(out->name, sizeof(out->name), "%.*s", (int)(sp1 - s), s);
	snprintf(out->what, sizeof(out->what), "%.*s", (int)(sp2 - sp1 - 1),
		 sp1 + 1);
	memset(&tm, 0, sizeof(tm));
	if (sscanf(sp2 + 1, "%4d-%2d-%2dT%2d:%2d:%2d%n", &tm.tm_year,
		   &tm.tm_mon, &tm.tm_mday, &tm.tm_hour, &tm.tm_min,
		   &tm.tm_sec, &n) == 6 && !sp2[1 + n]) {
		tm.tm_year -= 1900;
		tm.tm_mon -= 1;
		out->time = timegm(&tm);
		out->time_ok = out->time != -1;
	}
	return true;
}

bool dev_broken(const struct dev *d)
{
	struct state_line st;
	unsigned long long ms;

	parse_state(&d->f[F_STATE], &st);
	return st.kind == DS_BROKEN ||
	       parse_retry_state(&d->f[F_RETRY_STATE], &ms) == RK_BROKEN;
}
