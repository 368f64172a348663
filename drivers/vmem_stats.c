// SPDX-License-Identifier: GPL-2.0
/*
 * What the driver counts for operators, and the watch on memory that was
 * added but stays offline (include/vmem_stats.h). sysfs shows the values
 * (vmem_sysfs.c).
 */
#include <linux/jiffies.h>
#include <linux/moduleparam.h>
#include <linux/sysfs.h>
#include <linux/timekeeping.h>
#include <linux/virtio.h>

#include "../include/vmem_dev.h"

static unsigned int offline_warn_secs = 30;
module_param(offline_warn_secs, uint, 0644);
MODULE_PARM_DESC(offline_warn_secs, "Seconds added memory may stay offline before the driver says that nothing onlines it (0: never)");

/**
 * vmem_stats_reply() - count one request and its reply
 * @vm: the device
 * @type: VIRTIO_MEM_REQ_*
 * @bytes: what an ACK of it plugs or unplugs
 * @resp: VIRTIO_MEM_RESP_*, or a negative errno if no reply came (not
 *	counted: the device broke the queue, and the engine stops)
 */
void vmem_stats_reply(struct vmem_dev *vm, u16 type, u64 bytes, int resp)
{
	struct vmem_stats *s = &vm->stats;

	if (type >= VMEM_STATS_TYPES || resp < 0 ||
	    resp >= VMEM_STATS_REPLIES)
		return;
	atomic64_inc(&s->req[type][resp]);
	if (resp != VIRTIO_MEM_RESP_ACK || type == VIRTIO_MEM_REQ_STATE)
		return;
	if (type == VIRTIO_MEM_REQ_PLUG)
		atomic64_add(bytes, &s->bytes_plugged);
	else
		atomic64_add(bytes, &s->bytes_unplugged);
	/*
	 * The caller holds the engine lock: sysfs_notify() (kernfs locks)
	 * runs from a work instead. Pollers then read the books once the
	 * engine lock is free. Not while going away: remove frees @vm.
	 */
	if (!READ_ONCE(vm->removing))
		queue_work(system_freezable_wq, &s->notify_work);
}

static void vmem_notify_work(struct work_struct *work)
{
	struct vmem_stats *s = container_of(work, struct vmem_stats,
					    notify_work);
	struct vmem_dev *vm = container_of(s, struct vmem_dev, stats);

	sysfs_notify(&vm->vdev->dev.kobj, "virtio_mem", "plugged_size");
}

/**
 * vmem_stats_after_run() - note the time of a new engine error
 * @vm: the device, engine.lock held, after an engine run
 */
void vmem_stats_after_run(struct vmem_dev *vm)
{
	struct vmem_engine *e = &vm->engine;

	lockdep_assert_held(&e->lock);
	if (e->nr_errors == vm->stats.seen_errors)
		return;
	vm->stats.seen_errors = e->nr_errors;
	vm->stats.last_err_time = ktime_get_real_seconds();
}

/**
 * vmem_offline_watch() - say so when added memory stays offline
 * @vm: the device; no lock held
 *
 * Plugged memory in blocks Linux keeps offline is of no use to the guest
 * and, past the driver's threshold, stops further plugging. Once some has
 * been offline for offline_warn_secs, sysfs left_offline shows it and the
 * log says so, once until it is onlined, with the fix.
 */
void vmem_offline_watch(struct vmem_dev *vm)
{
	unsigned long secs = READ_ONCE(offline_warn_secs), due;
	struct vmem_stats *s = &vm->stats;
	bool warn = false;
	u64 off;

	mutex_lock(&vm->engine.lock);
	off = vmem_engine_plugged_in(&vm->engine, VMEM_MB_OFFLINE);
	mutex_unlock(&vm->engine.lock);

	mutex_lock(&vm->lock);
	if (!off || !secs) {
		s->offline_since = 0;
		s->offline_warned = false;
		WRITE_ONCE(s->left_offline, 0);
		mutex_unlock(&vm->lock);
		return;
	}
	if (!s->offline_since)
		s->offline_since = jiffies ?: 1;
	due = s->offline_since + secs * HZ;
	if (time_before(jiffies, due)) {
		mutex_unlock(&vm->lock);
		if (!READ_ONCE(vm->removing))
			queue_delayed_work(system_freezable_wq,
					   &s->offline_work, due - jiffies);
		return;
	}
	WRITE_ONCE(s->left_offline, off);
	warn = !s->offline_warned;
	s->offline_warned = true;
	mutex_unlock(&vm->lock);
	if (!warn)
		return;
	dev_warn(&vm->vdev->dev, "%llu MiB of plugged memory stayed offline for %lu s: nothing onlines it. Set /sys/devices/system/memory/auto_online_blocks to online_movable, boot with memhp_default_state=online_movable, or install the udev rule tools/udev/80-virtio-mem.rules\n",
		 off >> 20, secs);
	vmem_sysfs_notify(vm);
}

static void vmem_offline_work(struct work_struct *work)
{
	struct vmem_stats *s = container_of(to_delayed_work(work),
					    struct vmem_stats, offline_work);

	vmem_offline_watch(container_of(s, struct vmem_dev, stats));
}

void vmem_stats_init(struct vmem_dev *vm)
{
	INIT_DELAYED_WORK(&vm->stats.offline_work, vmem_offline_work);
	INIT_WORK(&vm->stats.notify_work, vmem_notify_work);
	mutex_init(&vm->stats.notify_lock);
}

/*
 * After vm->removing is set and the resize work is stopped: nothing
 * queues the watch or a notification again.
 */
void vmem_stats_exit(struct vmem_dev *vm)
{
	cancel_delayed_work_sync(&vm->stats.offline_work);
	cancel_work_sync(&vm->stats.notify_work);
}
