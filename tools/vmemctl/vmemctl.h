/* SPDX-License-Identifier: GPL-2.0 */
/*
 * vmemctl: what the files of the tool share. A device as read from the
 * driver's sysfs (struct dev), the command line (struct opts), and the
 * functions of each file. See vmemctl.c.
 */
#ifndef _VMEMCTL_H
#define _VMEMCTL_H

#include <stdbool.h>
#include <stddef.h>

#define ARRAY_LEN(a)	(sizeof(a) / sizeof(*(a)))

enum vtype { T_U64, T_S64, T_STR };

/* Every attribute of the ABI but the request counters, in JSON order. */
enum field_id {
	F_NID, F_NODE_ID, F_ADDR, F_REGION_SIZE, F_USABLE_REGION_SIZE,
	F_BLOCK_SIZE, F_SUBBLOCK_SIZE, F_REQUESTED_SIZE, F_PLUGGED_SIZE,
	F_MODE, F_STATE, F_BLOCKS_OFFLINE, F_BLOCKS_ONLINE_KERNEL,
	F_BLOCKS_ONLINE_MOVABLE, F_PLUGGED_OFFLINE, F_PLUGGED_ONLINE_KERNEL,
	F_PLUGGED_ONLINE_MOVABLE, F_PLUGGED_NOT_ADDED, F_MEMMAP_BYTES,
	F_MEMMAP_ON_MEMORY,
	/* New files: absent on an older driver. */
	F_BYTES_PLUGGED_TOTAL, F_BYTES_UNPLUGGED_TOTAL,
	F_FAKE_OFFLINE_FAILURES, F_OFFLINE_AND_REMOVE_FAILURES,
	F_LAST_ERROR, F_RETRY_STATE, F_OFFLINE_BYTES, F_LEFT_OFFLINE,
	NR_FIELDS
};

struct field {
	const char *name;	/* the file, and the JSON key */
	enum vtype type;
};

extern const struct field fields[NR_FIELDS];

/* requests_<type>_<reply>: the names are in vmemctl_sysfs.c */
#define NR_REQ_TYPES	4
#define NR_REQ_REPLIES	4

extern const char * const req_types[];
extern const char * const req_replies[];

/* One attribute: ok is false if the file is missing or malformed. */
struct val {
	bool ok;
	unsigned long long u;
	long long s;
	char *str;
};

struct dev {
	char *name;		/* virtio<N> */
	char *dir;		/* <root>/sys/bus/virtio/devices/virtio<N>/virtio_mem */
	struct val f[NR_FIELDS];
	struct val req[NR_REQ_TYPES][NR_REQ_REPLIES];
};

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

/* vmemctl_util.c: fatal errors and allocation that cannot fail */
void die(int code, const char *fmt, ...);
void *xmalloc(size_t n);
char *xstrdup(const char *s);

/* vmemctl_sysfs.c: finding the devices and reading their files */
char *devices_dir(const struct opts *o);
int find_devices(const struct opts *o, const char *top, struct dev **out);
void load_field(struct dev *d, enum field_id id);
void dev_load(struct dev *d);

/* vmemctl_format.c: sizes, terminal-safe text and JSON */
char *sanitize(const char *s);
char *human(char *buf, size_t len, unsigned long long v, bool fixed);
void json_str(const char *s);
void json_val(const struct val *v, enum vtype type);

/* vmemctl_status.c and vmemctl_watch.c: the commands */
int cmd_status(const struct opts *o);
int cmd_watch(const struct opts *o);

#endif /* _VMEMCTL_H */
