// SPDX-License-Identifier: GPL-2.0
/*
 * What the driver counts for operators, and the watch on memory that was
 * added but stays offline (include/vmem_stats.h). sysfs shows the values
 * (vmem_sysfs.c).
 */
#include <linux/jiffies.h>
#include <linux/string.h>
#include <linux/sysfs.h>
#include <linux/timekeeping.h>
#include <linux/virtio.h>

#include "../include/vmem_dev.h"

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
	 * One notification per batch of replies, from a work: the request
	 * path stays short. Not once stopped: remove frees @vm.
	 */
	if (READ_ONCE(vm->ready))
		queue_work(system_freezable_wq, &s->notify_work);
}

static void vmem_notify_work(struct work_struct *work)
{
	struct vmem_stats *s = container_of(work, struct vmem_stats,
					    notify_work);
	struct vmem_dev *vm = container_of(s, struct vmem_dev, stats);

	sysfs_notify(&vm->vdev->dev.kobj, VMEM_SYSFS_GROUP, "plugged_size");
}

/**
 * vmem_stats_error_time() - when the engine's last error was seen
 * @vm: the device
 * @nr_errors: the engine's error count now (vmem_status.nr_errors)
 *
 * The first caller that sees the count move takes the time.
 *
 * Return: wall time (UTC) of the last error.
 */
time64_t vmem_stats_error_time(struct vmem_dev *vm, u64 nr_errors)
{
	struct vmem_stats *s = &vm->stats;
	time64_t t;

	spin_lock(&s->lock);
	if (nr_errors != s->seen_errors) {
		s->seen_errors = nr_errors;
		s->last_err_time = ktime_get_real_seconds();
	}
	t = s->last_err_time;
	spin_unlock(&s->lock);
	return t;
}

/**
 * vmem_offline_watch() - say so when added memory stays offline
 * @vm: the device; no lock held
 * @warn_secs: the bound (offline_warn_secs), 0 for none; the delayed
 *	look again uses the last one given
 *
 * Plugged memory in blocks Linux keeps offline is of no use to the guest
 * and, past the driver's threshold, stops further plugging. Once some has
 * been offline for offline_warn_secs, sysfs left_offline shows it and the
 * log says so, once until it is onlined, with the fix.
 */
void vmem_offline_watch(struct vmem_dev *vm, unsigned int warn_secs)
{
	struct vmem_stats *s = &vm->stats;
	unsigned long secs = warn_secs, due = 0;
	struct vmem_status st;
	bool warn = false;
	u64 off;

	vmem_engine_status(vm->engine, &st);
	off = st.plugged_in[VMEM_MB_OFFLINE];
	spin_lock(&s->lock);
	s->warn_secs = warn_secs;
	if (!off || !secs) {
		s->offline_since = 0;
		s->offline_warned = false;
		s->left_offline = 0;
	} else {
		if (!s->offline_since)
			s->offline_since = jiffies ?: 1;
		due = s->offline_since + secs * HZ;
		if (time_before(jiffies, due)) {
			due -= jiffies;
		} else {
			due = 0;
			s->left_offline = off;
			warn = !s->offline_warned;
			s->offline_warned = true;
		}
	}
	spin_unlock(&s->lock);
	/*
	 * mod_: a watch queued under an older offline_warn_secs (or an
	 * older offline_since) must not hold the new deadline back.
	 */
	if (due && READ_ONCE(vm->ready))
		mod_delayed_work(system_freezable_wq, &s->offline_work, due);
	if (!warn)
		return;
	dev_warn(&vm->vdev->dev, "%llu MiB of plugged memory stayed offline for %lu s: nothing onlines it. Set /sys/devices/system/memory/auto_online_blocks to online_movable, boot with memhp_default_state=online_movable, or install the udev rule tools/udev/80-virtio-mem.rules\n",
		 off >> 20, secs);
	vmem_notify_pollers(vm);
}

static void vmem_offline_work(struct work_struct *work)
{
	struct vmem_stats *s = container_of(to_delayed_work(work),
					    struct vmem_stats, offline_work);

	unsigned int secs;

	spin_lock(&s->lock);
	secs = s->warn_secs;
	spin_unlock(&s->lock);
	vmem_offline_watch(container_of(s, struct vmem_dev, stats), secs);
}

void vmem_stats_init(struct vmem_dev *vm)
{
	spin_lock_init(&vm->stats.lock);
	INIT_DELAYED_WORK(&vm->stats.offline_work, vmem_offline_work);
	INIT_WORK(&vm->stats.notify_work, vmem_notify_work);
	mutex_init(&vm->stats.notify_lock);
}

/*
 * After vm->ready is cleared and the resize work is stopped: nothing
 * queues the watch or a notification again.
 */
void vmem_stats_stop(struct vmem_dev *vm)
{
	cancel_delayed_work_sync(&vm->stats.offline_work);
	cancel_work_sync(&vm->stats.notify_work);
}

/**
 * vmem_notify_pollers() - wake up pollers of state and retry_state
 * @vm: the device; the run lock and @req_lock may be held (a stalled
 *	request): it takes stats.notify_lock, the engine's state lock and
 *	kernfs's locks, none of which waits for those
 *
 * After anything that may change them: an engine run, a config change,
 * the offline watch, a stalled request. Only a changed line (for
 * retry_state, a changed kind of line) is notified.
 */
void vmem_notify_pollers(struct vmem_dev *vm)
{
	struct vmem_stats *s = &vm->stats;
	char state[VMEM_LINE_LEN], retry[VMEM_LINE_LEN];
	enum vmem_retry_kind kind;
	bool st, rt;

	/* Read and compare in one go: several works call this. */
	mutex_lock(&s->notify_lock);
	vmem_state_line(vm, state, sizeof(state));
	kind = vmem_retry_line(vm, retry, sizeof(retry));
	st = strcmp(state, s->state);
	if (st)
		strscpy(s->state, state, sizeof(s->state));
	rt = kind != s->retry;
	s->retry = kind;
	mutex_unlock(&s->notify_lock);
	if (st)
		sysfs_notify(&vm->vdev->dev.kobj, VMEM_SYSFS_GROUP, "state");
	if (rt)
		sysfs_notify(&vm->vdev->dev.kobj, VMEM_SYSFS_GROUP, "retry_state");
}
