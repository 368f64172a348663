/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Per-device state of the kernel glue, shared by its files.
 */
#ifndef _VMEM_DEV_H
#define _VMEM_DEV_H

#include <linux/mutex.h>
#include <linux/workqueue.h>

#include "vmem_config.h"

struct virtio_device;
struct virtqueue;

/**
 * struct vmem_dev - one virtio-mem device
 * @vdev: the virtio device we are bound to
 * @vq: the single guest-request virtqueue
 * @config_work: re-reads the config after a config-change interrupt
 * @lock: see below
 * @cfg: the last config that passed validation
 * @nid: Linux node of the memory, NUMA_NO_NODE if the device names none
 *
 * Locking: @lock (a mutex; config reads may sleep) guards @cfg and @nid
 * after probe. Probe fills them before anything else can see the device;
 * sysfs readers and @config_work take @lock.
 */
struct vmem_dev {
	struct virtio_device *vdev;
	struct virtqueue *vq;
	struct work_struct config_work;
	struct mutex lock; /* guards cfg and nid */
	struct vmem_config cfg;
	int nid;
};

extern const struct attribute_group vmem_sysfs_group;

#endif /* _VMEM_DEV_H */
