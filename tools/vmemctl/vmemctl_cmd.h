/* SPDX-License-Identifier: GPL-2.0 */
/*
 * vmemctl: the command line as vmemctl.c parses it (struct opts), and
 * the commands it calls, one file each. A command file uses the layers
 * below it (vmemctl_format.h, vmemctl_sysfs.h, vmemctl_util.h), never
 * vmemctl.c nor another command.
 */
#ifndef _VMEMCTL_CMD_H
#define _VMEMCTL_CMD_H

#include <stdbool.h>

/* The options a command may be given (struct opts.given). */
enum {
	OPT_JSON = 1 << 0,
	OPT_PLAIN = 1 << 1,
	OPT_TIMEOUT = 1 << 2,
	OPT_INTERVAL = 1 << 3,
	OPT_TEXTFILE = 1 << 4,
};

struct opts {
	const char *cmd;
	const char *root;
	unsigned int given;	/* OPT_*: the options on the command line */
	bool json;
	bool plain;
	double timeout;		/* seconds */
	long interval;		/* milliseconds */
	const char *textfile;	/* metrics: the directory, or NULL */
	char **names;
	int nr_names;
};

int cmd_status(const struct opts *o);	/* vmemctl_status.c */
int cmd_watch(const struct opts *o);	/* vmemctl_watch.c */
int cmd_metrics(const struct opts *o);	/* vmemctl_metrics.c */
int cmd_why(const struct opts *o);	/* vmemctl_why.c */

#endif /* _VMEMCTL_CMD_H */
