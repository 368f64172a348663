/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Per-device state of the kernel glue, shared by its files, and the calls
 * they make into each other. Each glue file is listed with its concern in
 * Documentation/design.rst.
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

struct resource;
struct task_struct;
struct virtio_device;
struct virtqueue;

/**
 * struct vmem_dev - one virtio-mem device
 * @vdev: the virtio device we are bound to
 * @vq: the single guest-request virtqueue; NULL while suspended, or after
 *	a resume that could not set it up again
 * @config_work: re-reads the config after a config-change interrupt
 * @resize_work: runs the engine; also the retry timer (delayed)
 * @lock: see "Locking" below
 * @cfg: the last config that passed validation
 * @nid: Linux node of the memory, NUMA_NO_NODE if the device names none
 * @req_lock: see "Locking" below
 * @req: the request buffer (DMA: lives here, not on a stack)
 * @resp: the reply buffer
 * @resp_wq: woken when the device returns a buffer
 * @engine: the resize engine and its books; NULL in a crash kernel
 * @ready: DRIVER_OK was set and works may run; cleared by vmem_dev_stop()
 * @mgid: our memory group id, from memory_group_register_dynamic()
 * @memory_nb: our memory notifier
 * @pm_nb: our PM notifier (hibernation and restore)
 * @list: entry in the list of devices the online_page callback asks
 * @start: first byte of the memory blocks the engine may use
 * @end: end of them (exclusive)
 * @res_name: name of our System RAM resources (kstrdup'd: the resource
 *	tree points at it while memory is added)
 * @parent: our exclusive resource over the whole region: /dev/mem stays
 *	out, and /proc/iomem names the device
 * @parent_name: its name, the device's (kstrdup'd, like @res_name)
 * @op_task: the task inside one of our add, remove or offline_and_remove
 *	calls: memory transitions it causes are the engine's own
 * @kdump_view: what /proc/vmcore may read of the region (crash kernel)
 * @vmcore_cb: our /proc/vmcore callback (crash kernel)
 * @budget_logged: the log said plugging is limited by kernel memory,
 *	and no target was reached since (only the resize work touches it)
 * @stats: counters, the offline watch and poll notifications
 * @debugfs: our debugfs directory (the block map and the self-check)
 * @check_lock: see "Locking" below
 * @check: the result of the last self-check, for reading back
 * @check_done: a self-check ran since probe
 * @check_err: its return value
 *
 * Locking, the one story of the driver's locks (Documentation/design.rst
 * points here). Outer to inner:
 *
 *   @check_lock -> engine run lock -> @req_lock -> stats.notify_lock
 *     -> engine state lock
 *   engine run lock -> @lock (the config re-read after UNPLUG_ALL)
 *   stats.notify_lock, @req_lock -> kernfs's locks (sysfs_notify())
 *
 * - @check_lock (mutex) guards @check, @check_done and @check_err; the
 *   debugfs self-check holds it while it runs the engine's check.
 * - The engine's run lock (mutex, inside the engine) is held across
 *   device requests and mm calls, by the resize work, the self-check and
 *   the teardown only.
 * - @req_lock (mutex) guards @req, @resp and the use of @vq: one request
 *   in flight.
 * - The engine's state lock (spinlock, inside the engine) guards what
 *   the memory notifier, the online_page callback and sysfs share with
 *   the engine; it is the innermost lock and is never held across a
 *   request or an mm call. The notifier and sysfs take nothing else of
 *   ours, so they never wait behind the device.
 * - stats.notify_lock (mutex) serialises the poll notifications.
 * - @lock (mutex) guards @cfg and @nid after probe; nothing else is taken
 *   while it is held (the engine's state lock only after it is dropped).
 * - No sysfs show or store of ours takes the run lock or @req_lock, so
 *   kernfs's locks never wait behind the device while we notify.
 * - @vq, @ready and @op_task are set before the works can run, or by the
 *   task they describe, and read with READ_ONCE().
 */
struct vmem_dev {
	struct virtio_device *vdev;
	struct virtqueue *vq;
	struct work_struct config_work;
	struct delayed_work resize_work;
	struct mutex lock; /* guards cfg, nid */
	struct vmem_config cfg;
	int nid;

	struct mutex req_lock; /* guards req, resp, the use of vq */
	struct virtio_mem_req req;
	struct virtio_mem_resp resp;
	wait_queue_head_t resp_wq;

	struct vmem_engine *engine;
	bool ready;
	int mgid;
	struct notifier_block memory_nb;
	struct notifier_block pm_nb;
	struct list_head list;
	u64 start;
	u64 end;
	const char *res_name;
	struct resource *parent;
	const char *parent_name;
	struct task_struct *op_task;
#ifdef CONFIG_PROC_VMCORE
	struct vmem_kdump kdump_view;
	struct vmcore_cb vmcore_cb;
#endif
	bool budget_logged;
	struct vmem_stats stats;
	struct dentry *debugfs;
	struct mutex check_lock; /* guards check, check_done, check_err */
	struct vmem_check_result check;
	bool check_done;
	int check_err;
};

/* vmem_dev.c: the device list, kicks, and stopping the works. */
int vmem_dev_list(struct vmem_dev *vm);
void vmem_dev_unlist(struct vmem_dev *vm);
struct vmem_dev *vmem_dev_find(u64 addr);
void vmem_kick(struct vmem_dev *vm, unsigned long delay_ms);
void vmem_kick_all(void);
void vmem_dev_stop(struct vmem_dev *vm);

/* vmem_params.c: the module parameters the works read. */
bool vmem_param_unplug_online(void);
bool vmem_param_force_bbm(void);
unsigned long vmem_param_bbm_block_size(void);
bool vmem_param_memmap_on_memory(void);
unsigned int vmem_param_offline_warn_secs(void);
void vmem_params_warn(void);

/* vmem_cfgspace.c: the config space read, a new config to the engine. */
void vmem_read_config(struct virtio_device *vdev, struct vmem_config *c);
void vmem_config_update(struct vmem_dev *vm);

/* vmem_work.c: the config work and the resize work. */
void vmem_config_work(struct work_struct *work);
void vmem_resize_work(struct work_struct *work);

/* vmem_request.c: the virtqueue. */
extern const struct vmem_device_ops vmem_virtio_ops;
void vmem_vq_done(struct virtqueue *vq);

/* vmem_hotplug.c: the engine's memory hotplug, set-up and teardown. */
extern const struct vmem_mm_ops vmem_hotplug_ops;
bool vmem_pages_idle(struct vmem_dev *vm, unsigned long pfn,
		     unsigned long nr);
int vmem_hotplug_setup(struct vmem_dev *vm);
u64 vmem_hotplug_unplug_all(struct vmem_dev *vm);
void vmem_hotplug_release(struct vmem_dev *vm, u64 left);

/* vmem_notifier.c: the memory notifier and the online_page callback. */
int vmem_notifier_init(struct vmem_dev *vm);
void vmem_notifier_exit(struct vmem_dev *vm);
int vmem_online_page_register(void);
void vmem_online_page_unregister(void);

/* vmem_pm.c: suspend, hibernation and resume. */
int vmem_pm_init(struct vmem_dev *vm);
void vmem_pm_exit(struct vmem_dev *vm);
int vmem_freeze(struct virtio_device *vdev);
int vmem_restore(struct virtio_device *vdev);

/* vmem_kdump.c: the crash kernel. */
void vmem_kdump_setup(struct vmem_dev *vm);
void vmem_kdump_teardown(struct vmem_dev *vm);

/* The name of our sysfs group (and of sysfs_notify()'s directory). */
#define VMEM_SYSFS_GROUP	"virtio_mem"

/* vmem_lines.c: the state and retry_state lines. */
#define VMEM_LINE_LEN	64

enum vmem_retry_kind {
	VMEM_RETRY_KIND_IDLE,
	VMEM_RETRY_KIND_RESIZING,
	VMEM_RETRY_KIND_RETRYING,
	VMEM_RETRY_KIND_WAITING,
	VMEM_RETRY_KIND_STALLED,
	VMEM_RETRY_KIND_BROKEN,
};

void vmem_state_line(struct vmem_dev *vm, char *buf, size_t len);
enum vmem_retry_kind vmem_retry_line(struct vmem_dev *vm, char *buf,
				     size_t len);

/* vmem_sysfs.c, vmem_debugfs.c: what operators see. */
extern const struct attribute_group *vmem_sysfs_groups[];
void vmem_debugfs_init(struct vmem_dev *vm);
void vmem_debugfs_exit(struct vmem_dev *vm);
void vmem_debugfs_register(void);
void vmem_debugfs_unregister(void);

#endif /* _VMEM_DEV_H */
