/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What the driver counts for operators (sysfs, Documentation/ABI): device
 * requests by type and reply, bytes plugged and unplugged, mm failures,
 * the time of the last error, a request the device leaves unanswered,
 * and memory left offline.
 */
#ifndef _VMEM_STATS_H
#define _VMEM_STATS_H

#include <linux/atomic.h>
#include <linux/mutex.h>
#include <linux/spinlock.h>
#include <linux/time64.h>
#include <linux/types.h>
#include <linux/virtio_mem.h>
#include <linux/workqueue.h>

/* Request types and replies are the virtio ones. */
#define VMEM_STATS_TYPES	(VIRTIO_MEM_REQ_STATE + 1)
#define VMEM_STATS_REPLIES	(VIRTIO_MEM_RESP_ERROR + 1)

/* A request unanswered this long is reported (retry_state, last_error). */
#define VMEM_STALL_MS		10000

/**
 * struct vmem_stats - counters since probe, and the watches
 * @req: per request type (VIRTIO_MEM_REQ_*) and reply (VIRTIO_MEM_RESP_*)
 * @bytes_plugged: bytes PLUG replies acknowledged
 * @bytes_unplugged: bytes UNPLUG and UNPLUG_ALL replies acknowledged
 * @fake_offline_failures: ranges of online blocks that could not be
 *	taken back (alloc_contig_range() or the free-memory reserve)
 * @offline_and_remove_failures: blocks that could not be offlined and
 *	removed
 * @stall_type: the type of the request in flight, once unanswered for
 *	VMEM_STALL_MS
 * @stall_since: jiffies when that request was sent; 0 while none stalls
 * @lock: see below
 * @seen_errors: the engine's error count when @last_err_time was taken
 * @last_err_time: wall time (UTC) the engine's last error was seen
 * @offline_since: jiffies since which added memory is offline, 0 if none
 * @offline_warned: the log said so, for this stretch of offline memory
 * @left_offline: bytes offline past the bound (0 otherwise), for sysfs
 * @warn_secs: the bound of the last watch, for its delayed look again
 * @notify_work: wakes plugged_size's pollers after an ACK, from outside
 *	the engine lock the ACK came under
 * @offline_work: looks again once memory stayed offline for the bound
 * @notify_lock: see below
 * @state: the state line last notified (sysfs_notify() on change)
 * @retry: the kind of retry_state line last notified (its countdown is
 *	no news)
 *
 * Locking: the atomics need none; @stall_type and @stall_since are
 * written by the requesting task and read with READ_ONCE(). @lock (a
 * spinlock, a leaf) guards @seen_errors, @last_err_time, @offline_since,
 * @offline_warned, @left_offline and @warn_secs. @notify_lock (a mutex)
 * guards @state and @retry from reading the lines to storing them; see
 * vmem_dev.h for the order.
 */
struct vmem_stats {
	atomic64_t req[VMEM_STATS_TYPES][VMEM_STATS_REPLIES];
	atomic64_t bytes_plugged;
	atomic64_t bytes_unplugged;
	atomic64_t fake_offline_failures;
	atomic64_t offline_and_remove_failures;
	u16 stall_type;
	unsigned long stall_since;
	spinlock_t lock; /* guards seen_errors ... warn_secs */
	u64 seen_errors;
	time64_t last_err_time;
	unsigned long offline_since;
	bool offline_warned;
	u64 left_offline;
	unsigned int warn_secs;
	struct work_struct notify_work;
	struct delayed_work offline_work;
	struct mutex notify_lock; /* guards state, retry */
	char state[64];	/* VMEM_LINE_LEN */
	u8 retry;
};

struct vmem_dev;

void vmem_stats_init(struct vmem_dev *vm);
void vmem_stats_stop(struct vmem_dev *vm);
void vmem_stats_reply(struct vmem_dev *vm, u16 type, u64 bytes, int resp);
time64_t vmem_stats_error_time(struct vmem_dev *vm, u64 nr_errors);
void vmem_offline_watch(struct vmem_dev *vm, unsigned int warn_secs);
void vmem_notify_pollers(struct vmem_dev *vm);

#endif /* _VMEM_STATS_H */
