/* SPDX-License-Identifier: GPL-2.0 */
/*
 * vmemctl: the text files of the ABI taken apart (vmemctl_state.c):
 * state, retry_state and last_error, for the commands that reason about
 * them (metrics, why). Uses vmemctl_sysfs.h and vmemctl_util.h.
 */
#ifndef _VMEMCTL_STATE_H
#define _VMEMCTL_STATE_H

#include <stdbool.h>

#include "vmemctl_sysfs.h"

/* The kinds of line the state file shows. */
enum dev_state {
	DS_UNKNOWN,			/* missing, or not a line of the ABI */
	DS_IDLE,
	DS_RESIZING,
	DS_RETRYING,			/* "retrying: <what>: <errno>" */
	DS_WAITING_FOR_ONLINING,
	DS_LIMITED_BY_KERNEL_MEMORY,	/* "... for the memmap" */
	DS_BROKEN,			/* "broken: <what>: <errno>" */
	DS_NOT_RESIZING,
	DS_SHORT,			/* "short: <what>": waits for a config change */
	DS_WAITING_FOR_DEVICE,		/* "waiting for the device: <req> ..." */
	NR_DEV_STATES
};

/* One word each, as Prometheus label values: "waiting_for_onlining". */
extern const char * const dev_state_names[NR_DEV_STATES];

struct state_line {
	enum dev_state kind;
	char what[128];		/* retrying, broken, short: what, else "" */
	int err;		/* retrying and broken: the errno (< 0), else 0 */
};

void parse_state(const struct val *v, struct state_line *out);

/* The kinds of line the retry_state file shows. */
enum retry_kind {
	RK_UNKNOWN, RK_IDLE, RK_RESIZING, RK_RETRYING, RK_BROKEN,
	RK_WAITING_FOR_CONFIG,		/* "waiting for a config change" */
	RK_STALLED,			/* "stalled: <req> unanswered for N s" */
	NR_RETRY_KINDS
};

extern const char * const retry_kind_names[NR_RETRY_KINDS];

/* The kind, and for "retrying in <N> ms" N in @wait_ms (else 0). */
enum retry_kind parse_retry_state(const struct val *v,
				  unsigned long long *wait_ms);

struct last_error {
	bool any;		/* not "none" (and the file was there) */
	char name[32];		/* ENOSPC, or the number on some kernels */
	char what[128];		/* fake_offline, plug, ... */
	bool time_ok;
	long long time;		/* seconds since the epoch (UTC) */
};

/* False if the file is missing or not "none" nor "<NAME> <what> <time>". */
bool parse_last_error(const struct val *v, struct last_error *out);

/* The device broke the protocol: the state or retry_state says so. */
bool dev_broken(const struct dev *d);

#endif /* _VMEMCTL_STATE_H */
