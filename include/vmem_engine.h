/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The resize engine: decides what to plug and unplug so that the guest
 * follows requested_size, and keeps the books (per memory block state and
 * the per-subblock plugged bitmap). Pure code: it reaches the world only
 * through struct vmem_device_ops and struct vmem_mm_ops, so KUnit runs it
 * under UML against a simulated device and memory-hotplug layer.
 *
 * Sub-Block Mode (SBM): the device block is smaller than a Linux memory
 * block; a memory block is split in subblocks of sb_size bytes, each
 * plugged or unplugged as a whole. Big-Block Mode (BBM): the engine's
 * block is a big block of one or more Linux memory blocks, plugged,
 * added, removed and unplugged whole.
 */
#ifndef _VMEM_ENGINE_H
#define _VMEM_ENGINE_H

#include <linux/mutex.h>
#include <linux/types.h>

#include "vmem_ops.h"

/**
 * enum vmem_mb_state - what Linux knows of one memory block
 * @VMEM_MB_UNUSED: not added to Linux. Subblocks may still be plugged at
 *	the device if adding failed and unplugging too; the engine unplugs
 *	them first when it shrinks, or adds the block when it grows.
 * @VMEM_MB_OFFLINE: added, offline: no page of it is in use
 * @VMEM_MB_KERNEL: online in a kernel zone
 * @VMEM_MB_MOVABLE: online in ZONE_MOVABLE
 */
enum vmem_mb_state {
	VMEM_MB_UNUSED,
	VMEM_MB_OFFLINE,
	VMEM_MB_KERNEL,
	VMEM_MB_MOVABLE,
	VMEM_MB_NR_STATES,
};

/**
 * enum vmem_run_result - what the caller of vmem_engine_run() does next
 * @VMEM_RUN_DONE: the books match the target; wait for a config change
 * @VMEM_RUN_RETRY: run again after vmem_engine.retry_ms
 * @VMEM_RUN_WAIT_ONLINE: too much added memory is offline; run again when
 *	memory is onlined (or after retry_ms, whichever comes first)
 * @VMEM_RUN_BROKEN: the device broke a rule; stop using it
 */
enum vmem_run_result {
	VMEM_RUN_DONE,
	VMEM_RUN_RETRY,
	VMEM_RUN_WAIT_ONLINE,
	VMEM_RUN_BROKEN,
};

/**
 * enum vmem_mem_event - memory notifier events the engine follows
 *
 * GOING_ONLINE and GOING_OFFLINE mark the block "in transition"; the
 * event that ends the transition (ONLINE, CANCEL_ONLINE, OFFLINE,
 * CANCEL_OFFLINE) clears the mark. The engine neither plugs nor unplugs
 * anything of a block in transition, so its bitmap stays still while the
 * online_page callback reads it. (Holding vmem_engine.lock across the
 * transition instead would nest it inside the memory notifier chain's
 * rwsem, which register_memory_notifier() takes for writing: a deadlock.)
 */
enum vmem_mem_event {
	VMEM_MEM_GOING_ONLINE,
	VMEM_MEM_ONLINE,
	VMEM_MEM_CANCEL_ONLINE,
	VMEM_MEM_GOING_OFFLINE,
	VMEM_MEM_OFFLINE,
	VMEM_MEM_CANCEL_OFFLINE,
};

/*
 * Retry backoff, in ms: doubles from MIN after each failure up to MAX, or
 * up to POLL while only the free-memory reserve (-ENOSPC) holds us back.
 */
#define VMEM_RETRY_MIN_MS	200
#define VMEM_RETRY_POLL_MS	1000
#define VMEM_RETRY_MAX_MS	30000

/**
 * struct vmem_engine_params - geometry and policy, fixed at init
 * @addr: start of the device region
 * @region_size: size of the device region
 * @block_size: device block size
 * @mb_size: the engine's block: in SBM the Linux memory block size, in
 *	BBM the big block size (a power of two multiple of @lmb_size)
 * @lmb_size: Linux memory block size (the unit of online/offline)
 * @sb_size: subblock size: a multiple of @block_size dividing @mb_size;
 *	in BBM equal to @mb_size
 * @bbm: Big-Block Mode
 * @offline_threshold: added-but-offline bytes at which adding stops
 * @memmap_size: memmap bytes of one Linux memory block (struct pages),
 *	for the kernel-memory budget and memmap_on_memory
 * @kmem_other_size: other kernel memory one Linux memory block takes once
 *	added and online (the KASAN shadow), for the budget
 * @unplug_online: whether online memory may be unplugged
 * @memmap_on_memory: add blocks with their memmap on them (Linux may
 *	still refuse: see vmem_engine.memmap_refused)
 */
struct vmem_engine_params {
	u64 addr;
	u64 region_size;
	u64 block_size;
	u64 mb_size;
	u64 lmb_size;
	u64 sb_size;
	u64 offline_threshold;
	u64 memmap_size;
	u64 kmem_other_size;
	bool unplug_online;
	bool memmap_on_memory;
	bool bbm;
};

/**
 * struct vmem_engine - the resize engine of one device
 * @p: geometry and policy (constant after init)
 * @first_mb: address of the first whole memory block of the region
 * @nr_mbs: number of whole memory blocks in the region
 * @sbs_per_mb: subblocks per block
 * @lmbs_per_mb: Linux memory blocks per block (1 in SBM)
 * @dev: device ops, and @dev_priv their argument
 * @dev_priv: see @dev
 * @mm: memory-hotplug ops, and @mm_priv their argument
 * @mm_priv: see @mm
 * @lock: guards everything below
 * @mb_state: per memory block, an enum vmem_mb_state
 * @lmb_moving: bitmap of Linux memory blocks in an online/offline
 *	transition
 * @lmb_online: bitmap of Linux memory blocks online
 * @lmb_kernel: bitmap of Linux memory blocks online in a kernel zone
 * @mb_bad: bitmap of memory blocks Linux refused to add with a hard
 *	error (not -EBUSY, -ENOMEM, -EAGAIN or -ENOSPC); never tried again
 * @mb_memmap: bitmap of memory blocks added with their memmap on them
 * @memmap: new blocks are added with their memmap on them
 * @memmap_sbs: subblocks at the start of such a block that hold its
 *	memmap (in BBM the one subblock, the whole block)
 * @memmap_used: a block was added with its memmap on it
 * @memmap_refused: Linux refused memmap_on_memory (-EOPNOTSUPP from add)
 * @budget_limited: plugging stopped short: the next add would take the
 *	kernel's memory below the floor of vmem_budget.h
 * @sb_plugged: bitmap of plugged subblocks, @sbs_per_mb per memory block
 * @plugged: the books: bytes plugged at the device, by our requests
 * @requested: the device's requested_size, as last set
 * @usable: the device's usable_region_size, as last set
 * @retry_ms: the next retry delay
 * @last_err: the errno of the last failure, 0 if none
 * @last_what: what failed last ("plug", "add", "fake_offline", ...)
 * @broken: set for good once the device broke a rule
 * @unplug_all_pending: an UNPLUG_ALL must succeed before anything else
 * @nr_requests: device requests sent, for tests and statistics
 * @nr_errors: failures recorded in @last_err so far (the glue notes
 *	when this moves, to time-stamp the last error)
 */
struct vmem_engine {
	struct vmem_engine_params p;
	u64 first_mb;
	u64 nr_mbs;
	unsigned int sbs_per_mb;
	unsigned int lmbs_per_mb;
	const struct vmem_device_ops *dev;
	void *dev_priv;
	const struct vmem_mm_ops *mm;
	void *mm_priv;

	struct mutex lock; /* guards the books: see above */
	u8 *mb_state;
	unsigned long *lmb_moving;
	unsigned long *lmb_online;
	unsigned long *lmb_kernel;
	unsigned long *mb_bad;
	unsigned long *mb_memmap;
	unsigned long *sb_plugged;
	u64 plugged;
	u64 requested;
	u64 usable;
	unsigned int retry_ms;
	int last_err;
	const char *last_what;
	bool broken;
	bool unplug_all_pending;
	bool memmap;
	bool memmap_used;
	bool memmap_refused;
	bool budget_limited;
	unsigned int memmap_sbs;
	u64 nr_requests;
	u64 nr_errors;
};

int vmem_engine_init(struct vmem_engine *e,
		     const struct vmem_engine_params *p,
		     const struct vmem_device_ops *dev, void *dev_priv,
		     const struct vmem_mm_ops *mm, void *mm_priv);
void vmem_engine_destroy(struct vmem_engine *e);

int vmem_engine_set_config(struct vmem_engine *e, u64 requested, u64 usable);
void vmem_engine_request_unplug_all(struct vmem_engine *e);
enum vmem_run_result vmem_engine_run(struct vmem_engine *e);

int vmem_engine_notify(struct vmem_engine *e, enum vmem_mem_event ev,
		       u64 addr, u64 size);
bool vmem_engine_page_plugged(struct vmem_engine *e, u64 addr);

int vmem_resp_to_errno(int resp);

u64 vmem_engine_target(struct vmem_engine *e);
u64 vmem_engine_mb_count(struct vmem_engine *e, enum vmem_mb_state state);
u64 vmem_engine_plugged_in(struct vmem_engine *e, enum vmem_mb_state state);
u64 vmem_engine_memmap_bytes(struct vmem_engine *e);

#endif /* _VMEM_ENGINE_H */
