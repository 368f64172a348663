/* SPDX-License-Identifier: GPL-2.0 */
/*
 * vmemctl: a device as read from the driver's sysfs (struct dev), and
 * the functions that find the devices and read their files
 * (vmemctl_sysfs.c). Uses only vmemctl_util.h.
 */
#ifndef _VMEMCTL_SYSFS_H
#define _VMEMCTL_SYSFS_H

#include <stdbool.h>

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

/* <root>/sys/bus/virtio/devices; caller frees. */
char *devices_dir(const char *root);
/*
 * The virtio-mem devices under @top, sorted, or only the @nr_names named
 * ones (each must exist). Exits if there is none.
 */
int find_devices(const char *top, char * const *names, int nr_names,
		 struct dev **out);
void load_field(struct dev *d, enum field_id id);
void dev_load(struct dev *d);
/*
 * A file outside the devices (<root>@path, e.g. a module parameter), as
 * read_attr() reads it; NULL if it cannot be read. Caller frees.
 */
char *read_sys(const char *root, const char *path);

#endif /* _VMEMCTL_SYSFS_H */
