/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What the driver counts for operators (sysfs, Documentation/ABI): device
 * requests by type and reply, bytes plugged and unplugged, mm failures,
 * the time of the last error, and memory left offline.
 */
#ifndef _VMEM_STATS_H
#define _VMEM_STATS_H

#include <linux/atomic.h>
#include <linux/mutex.h>
#include <linux/time64.h>
#include <linux/types.h>
#include <linux/workqueue.h>

/* Request types and replies are the virtio ones: 0..3 each. */
#define VMEM_STATS_TYPES	4
#define VMEM_STATS_REPLIES	4

/**
 * struct vmem_stats - counters since probe, and the offline watch
 * @req: per request type (VIRTIO_MEM_REQ_*) and reply (VIRTIO_MEM_RESP_*)
 * @bytes_plugged: bytes PLUG replies acknowledged
 * @bytes_unplugged: bytes UNPLUG and UNPLUG_ALL replies acknowledged
 * @fake_offline_failures: subblocks of online blocks that could not be
 *	taken back (alloc_contig_range() or the free-memory reserve)
 * @offline_and_remove_failures: blocks that could not be offlined and
 *	removed
 * @seen_errors: engine.nr_errors when @last_err_time was taken
 * @last_err_time: wall time (UTC) the engine's last error was seen
 * @notify_work: wakes plugged_size's pollers after an ACK, from outside
 *	the engine lock the ACK came under
 * @offline_work: looks again once memory stayed offline for the bound
 * @offline_since: jiffies since which added memory is offline, 0 if none
 * @offline_warned: the log said so, for this stretch of offline memory
 * @left_offline: bytes offline past the bound (0 otherwise), for sysfs
 * @notify_lock: see below
 * @state: the state line last notified (sysfs_notify() on change)
 * @retry: the kind of retry_state line last notified (its countdown is
 *	no news)
 *
 * Locking: the atomics need none. engine.lock guards @seen_errors and
 * @last_err_time; vmem_dev.lock guards the offline watch; @notify_lock
 * guards @state and @retry from reading the lines to storing them (it is
 * taken before vmem_dev.lock and engine.lock); @left_offline is read with
 * READ_ONCE().
 */
struct vmem_stats {
	atomic64_t req[VMEM_STATS_TYPES][VMEM_STATS_REPLIES];
	atomic64_t bytes_plugged;
	atomic64_t bytes_unplugged;
	atomic64_t fake_offline_failures;
	atomic64_t offline_and_remove_failures;
	u64 seen_errors;
	time64_t last_err_time;
	struct work_struct notify_work;
	struct delayed_work offline_work;
	unsigned long offline_since;
	bool offline_warned;
	u64 left_offline;
	struct mutex notify_lock; /* guards state, retry */
	char state[64];
	u8 retry;
};

struct vmem_dev;

void vmem_stats_init(struct vmem_dev *vm);
void vmem_stats_exit(struct vmem_dev *vm);
void vmem_stats_reply(struct vmem_dev *vm, u16 type, u64 bytes, int resp);
void vmem_stats_after_run(struct vmem_dev *vm);
void vmem_offline_watch(struct vmem_dev *vm);

#endif /* _VMEM_STATS_H */
