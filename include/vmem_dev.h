/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Per-device state of the kernel glue, shared by its files.
 */
#ifndef _VMEM_DEV_H
#define _VMEM_DEV_H

#include <linux/crash_dump.h>
#include <linux/list.h>
#include <linux/mutex.h>
#include <linux/notifier.h>
#include <linux/virtio_mem.h>
#include <linux/wait.h>
#include <linux/workqueue.h>

#include "vmem_check.h"
#include "vmem_config.h"
#include "vmem_engine.h"
#include "vmem_lifecycle.h"
#include "vmem_stats.h"

struct virtio_device;
struct virtqueue;

/**
 * struct vmem_dev - one virtio-mem device
 * @vdev: the virtio device we are bound to
 * @vq: the single guest-request virtqueue
 * @config_work: re-reads the config after a config-change interrupt
 * @resize_work: runs the engine; also the retry timer (delayed)
 * @lock: see below
 * @cfg: the last config that passed validation
 * @nid: Linux node of the memory, NUMA_NO_NODE if the device names none
 * @req_lock: see below
 * @req: the request buffer (DMA: lives here, not on a stack)
 * @resp: the reply buffer
 * @resp_wq: woken when the device returns a buffer
 * @engine: the resize engine and its books (locked by engine.lock)
 * @engine_ready: the engine is set up (not in a crash kernel)
 * @last_result: what the last engine run asked for
 * @mgid: our memory group id, from memory_group_register_dynamic()
 * @memory_nb: our memory notifier
 * @list: entry in the list of devices the online_page callback checks
 * @start: first byte of the memory blocks the engine may use
 * @end: end of them (exclusive)
 * @res_name: name of our System RAM resources (kstrdup'd: the resource
 *	tree points at it while memory is added)
 * @removing: set at remove and while suspended: no more work gets queued
 * @kdump: in a crash kernel: the driver never (un)plugs
 * @kdump_view: what /proc/vmcore may read of the region (crash kernel)
 * @vmcore_cb: our /proc/vmcore callback (crash kernel)
 * @bbm_safe_unplug: Big-Block Mode takes used memory back before offlining
 * @budget_logged: the log said plugging is limited by kernel memory,
 *	and no target was reached since (only the resize work touches it)
 * @stats: counters and the offline watch (see its own locking rules)
 * @debugfs: our debugfs directory (the block map and the self-check)
 * @check_lock: see below
 * @check: the result of the last self-check, for reading back
 * @check_done: a self-check ran since probe
 * @check_err: its return value
 *
 * Locking:
 * - @lock (mutex) guards @cfg, @nid and @last_result after probe, and
 *   the offline watch of @stats.
 * - @check_lock (mutex) guards @check, @check_done and @check_err; it is
 *   taken before engine.lock.
 * - @req_lock (mutex) guards @req and @resp: one request in flight.
 * - engine.lock guards the books; taken by the resize work and, across
 *   an online/offline transition of one of our blocks, by the memory
 *   notifier (see vmem_engine_notify()). Order: engine.lock, then
 *   @req_lock; @lock is never held with another.
 */
struct vmem_dev {
	struct virtio_device *vdev;
	struct virtqueue *vq;
	struct work_struct config_work;
	struct delayed_work resize_work;
	struct mutex lock; /* guards cfg, nid, last_result */
	struct vmem_config cfg;
	int nid;
	enum vmem_run_result last_result;

	struct mutex req_lock; /* guards req, resp */
	struct virtio_mem_req req;
	struct virtio_mem_resp resp;
	wait_queue_head_t resp_wq;

	struct vmem_engine engine;
	bool engine_ready;
	int mgid;
	struct notifier_block memory_nb;
	struct list_head list;
	u64 start;
	u64 end;
	const char *res_name;
	bool removing;
	bool kdump;
#ifdef CONFIG_PROC_VMCORE
	struct vmem_kdump kdump_view;
	struct vmcore_cb vmcore_cb;
#endif
	bool bbm_safe_unplug;
	bool budget_logged;
	struct vmem_stats stats;
	struct dentry *debugfs;
	struct mutex check_lock; /* guards check, check_done, check_err */
	struct vmem_check_result check;
	bool check_done;
	int check_err;
};

extern const struct attribute_group vmem_sysfs_group;
extern const struct vmem_device_ops vmem_virtio_ops;
extern const struct vmem_mm_ops vmem_hotplug_ops;

void vmem_vq_done(struct virtqueue *vq);
int vmem_hotplug_init(struct vmem_dev *vm);
void vmem_hotplug_exit(struct vmem_dev *vm, bool memory_left);
int vmem_hotplug_register(void);
void vmem_hotplug_unregister(void);
void vmem_hotplug_kick_all(void);
void vmem_kick(struct vmem_dev *vm, unsigned long delay_ms);
void vmem_sysfs_notify(struct vmem_dev *vm);
void vmem_debugfs_init(struct vmem_dev *vm);
void vmem_debugfs_exit(struct vmem_dev *vm);
void vmem_debugfs_register(void);
void vmem_debugfs_unregister(void);

#endif /* _VMEM_DEV_H */
