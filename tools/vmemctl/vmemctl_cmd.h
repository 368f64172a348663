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

struct opts {
	const char *cmd;
	const char *root;
	bool json;
	bool plain;
	bool watch_opt;		/* an option only watch takes was given */
	double timeout;		/* seconds */
	long interval;		/* milliseconds */
	char **names;
	int nr_names;
};

int cmd_status(const struct opts *o);	/* vmemctl_status.c */
int cmd_watch(const struct opts *o);	/* vmemctl_watch.c */

#endif /* _VMEMCTL_CMD_H */
