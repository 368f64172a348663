/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The resize engine: decides what to plug and unplug so that the guest
 * follows requested_size, and keeps the books (per memory block state,
 * and per subblock "plugged" and "fake-offline"). Pure code: it reaches
 * the world only through the ops tables of vmem_ops.h, so KUnit runs it
 * under UML against a simulated device, memory-hotplug layer and page
 * model.
 *
 * Sub-Block Mode (SBM): the device block is smaller than a Linux memory
 * block; a memory block is split in subblocks of sb_size bytes, each
 * plugged or unplugged as a whole. Big-Block Mode (BBM): the engine's
 * block is a big block of one or more Linux memory blocks, plugged,
 * added, removed and unplugged whole.
 *
 * The engine is opaque to the glue: everything goes through the calls
 * below. Locking is the engine's own (vmem_engine_internal.h):
 *  - vmem_engine_run(), vmem_check_device() and the teardown calls
 *    take the run lock, which is held across device requests and mm
 *    calls: only the resize work and the debugfs check wait for it;
 *  - everything else (memory events, the online_page decision, status
 *    snapshots, config updates) takes only the state lock, a spinlock
 *    that is never held across a device request or an mm call. The
 *    memory notifier and sysfs therefore never wait behind the device.
 */
#ifndef _VMEM_ENGINE_H
#define _VMEM_ENGINE_H

#include <linux/types.h>

#include "vmem_ops.h"

struct vmem_engine;

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
};

#define VMEM_MB_STATES	(VMEM_MB_MOVABLE + 1)

/**
 * enum vmem_run_result - what the caller of vmem_engine_run() does next
 * @VMEM_RUN_DONE: the books match the target; wait for a config change
 * @VMEM_RUN_RETRY: run again after the delay vmem_engine_run() gives
 * @VMEM_RUN_WAIT_ONLINE: too much added memory is offline; run again when
 *	memory is onlined (or after the delay, whichever comes first)
 * @VMEM_RUN_WAIT_CONFIG: the target cannot be reached with what is left
 *	(every remaining block refused by Linux, say): run again at the
 *	next config change or memory event, not on a timer
 * @VMEM_RUN_BROKEN: the device broke a rule; stop using it
 */
enum vmem_run_result {
	VMEM_RUN_DONE,
	VMEM_RUN_RETRY,
	VMEM_RUN_WAIT_ONLINE,
	VMEM_RUN_WAIT_CONFIG,
	VMEM_RUN_BROKEN,
};

/**
 * enum vmem_mem_event - memory notifier events the engine follows
 *
 * GOING_ONLINE and GOING_OFFLINE mark the Linux memory block "in
 * transition"; the event that ends the transition (ONLINE, CANCEL_ONLINE,
 * OFFLINE, CANCEL_OFFLINE) clears the mark. An ending event without the
 * matching GOING_* is ignored. The engine neither plugs nor unplugs
 * anything of a block in transition, so its books stay still while the
 * online_page callback reads them.
 */
enum vmem_mem_event {
	VMEM_MEM_GOING_ONLINE,
	VMEM_MEM_ONLINE,
	VMEM_MEM_CANCEL_ONLINE,
	VMEM_MEM_GOING_OFFLINE,
	VMEM_MEM_OFFLINE,
	VMEM_MEM_CANCEL_OFFLINE,
};

/**
 * enum vmem_what - what a step failed at, for sysfs and the log
 * @VMEM_WHAT_NONE: nothing failed yet
 * @VMEM_WHAT_PLUG: a PLUG request
 * @VMEM_WHAT_UNPLUG: an UNPLUG request
 * @VMEM_WHAT_UNPLUG_ALL: an UNPLUG_ALL request
 * @VMEM_WHAT_STATE: a STATE request
 * @VMEM_WHAT_ADD: adding a memory block
 * @VMEM_WHAT_REMOVE: removing an offline memory block
 * @VMEM_WHAT_OFFLINE_AND_REMOVE: offlining and removing an online one
 * @VMEM_WHAT_FAKE_OFFLINE: taking memory back from Linux
 * @VMEM_WHAT_BUDGET: the kernel-memory budget stopped an add
 * @VMEM_WHAT_WAIT_ONLINE: too much added memory waits to be onlined
 * @VMEM_WHAT_UNPLUG_ONLINE_OFF: only online memory is left to unplug,
 *	and unplug_online is off
 * @VMEM_WHAT_NO_BLOCK: no block is left that could take the plug
 * @VMEM_WHAT_BUSY_BLOCKS: the blocks left are in an online/offline
 *	transition
 * @VMEM_WHAT_BEYOND_USABLE: what is left to unplug lies beyond the
 *	usable region, where no request may go
 * @VMEM_WHAT_REFUSED: the device answers ERROR for every block left
 */
enum vmem_what {
	VMEM_WHAT_NONE,
	VMEM_WHAT_PLUG,
	VMEM_WHAT_UNPLUG,
	VMEM_WHAT_UNPLUG_ALL,
	VMEM_WHAT_STATE,
	VMEM_WHAT_ADD,
	VMEM_WHAT_REMOVE,
	VMEM_WHAT_OFFLINE_AND_REMOVE,
	VMEM_WHAT_FAKE_OFFLINE,
	VMEM_WHAT_BUDGET,
	VMEM_WHAT_WAIT_ONLINE,
	VMEM_WHAT_UNPLUG_ONLINE_OFF,
	VMEM_WHAT_NO_BLOCK,
	VMEM_WHAT_BUSY_BLOCKS,
	VMEM_WHAT_BEYOND_USABLE,
	VMEM_WHAT_REFUSED,
};

const char *vmem_what_name(enum vmem_what what);

/*
 * Retry backoff, in ms: doubles from MIN after each failure up to MAX, or
 * up to POLL while only the free-memory reserve or the kernel-memory
 * budget (-ENOSPC) holds us back. A new target and any progress reset it.
 */
#define VMEM_RETRY_MIN_MS	200
#define VMEM_RETRY_POLL_MS	1000
#define VMEM_RETRY_MAX_MS	30000

/**
 * struct vmem_engine_params - geometry and policy, fixed at creation
 * @addr: start of the part of the device region the engine uses
 * @region_size: its size
 * @block_size: device block size
 * @mb_size: the engine's block: in SBM the Linux memory block size, in
 *	BBM the big block size (a power of two multiple of @lmb_size)
 * @lmb_size: Linux memory block size (the unit of online/offline)
 * @sb_size: subblock size: a multiple of @block_size dividing @mb_size;
 *	in BBM equal to @mb_size
 * @offline_threshold: added-but-offline bytes at which adding stops
 * @memmap_size: memmap bytes of one Linux memory block (struct pages),
 *	for the kernel-memory budget and memmap_on_memory
 * @kmem_other_size: other kernel memory one Linux memory block takes once
 *	added and online (the KASAN shadow), for the budget
 * @memmap_on_memory: add blocks with their memmap on them (Linux may
 *	still refuse: the engine then adds plainly)
 * @bbm: Big-Block Mode
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
	bool memmap_on_memory;
	bool bbm;
};

/**
 * enum vmem_memmap_state - memmap_on_memory, as sysfs shows it
 * @VMEM_MEMMAP_OFF: not used (parameter, geometry, or Linux said no)
 * @VMEM_MEMMAP_UNTRIED: the next add will ask Linux for it
 * @VMEM_MEMMAP_ON: a block carries its own memmap
 */
enum vmem_memmap_state {
	VMEM_MEMMAP_OFF,
	VMEM_MEMMAP_UNTRIED,
	VMEM_MEMMAP_ON,
};

/**
 * struct vmem_status - a consistent snapshot of the books, for sysfs,
 *	debugfs, the log and PM decisions
 * @plugged: bytes plugged at the device, by our requests
 * @requested: requested_size as the device last gave it
 * @usable: usable_region_size as the engine counts it (vmem_mode_usable())
 * @target: what the engine aims at (vmem_engine.c: the target)
 * @mb_count: memory blocks per enum vmem_mb_state
 * @plugged_in: plugged bytes of the blocks in each enum vmem_mb_state
 * @memmap_bytes: plugged bytes that hold memmaps
 * @memmap: see enum vmem_memmap_state
 * @result: what the last run asked for
 * @last_err: errno of the last failure, 0 if none
 * @last_what: what failed last
 * @nr_errors: failures so far (moves when @last_err is set again)
 * @broken: the device broke a rule; no further request
 * @budget_limited: plugging stopped at the kernel-memory budget
 * @unplug_all_pending: the UNPLUG_ALL of probe has not succeeded yet
 * @usable_cut: the device's usable region ends before plugged memory;
 *	the engine keeps the region up to the last plugged subblock
 * @moving: Linux memory blocks of ours in an online/offline transition
 */
struct vmem_status {
	u64 plugged;
	u64 requested;
	u64 usable;
	u64 target;
	u64 mb_count[VMEM_MB_STATES];
	u64 plugged_in[VMEM_MB_STATES];
	u64 memmap_bytes;
	enum vmem_memmap_state memmap;
	enum vmem_run_result result;
	int last_err;
	enum vmem_what last_what;
	u64 nr_errors;
	bool broken;
	bool budget_limited;
	bool unplug_all_pending;
	bool usable_cut;
	u64 moving;
};

struct vmem_engine *vmem_engine_create(const struct vmem_engine_params *p,
				       const struct vmem_device_ops *dev,
				       void *dev_priv,
				       const struct vmem_mm_ops *mm,
				       void *mm_priv,
				       const struct vmem_page_ops *page,
				       void *page_priv, int *err);
void vmem_engine_destroy(struct vmem_engine *e);
const struct vmem_engine_params *vmem_engine_params(struct vmem_engine *e);
void vmem_engine_span(struct vmem_engine *e, u64 *start, u64 *end);

int vmem_engine_set_config(struct vmem_engine *e, u64 requested, u64 usable);
void vmem_engine_set_unplug_online(struct vmem_engine *e, bool on);
void vmem_engine_request_unplug_all(struct vmem_engine *e);
void vmem_engine_mark_broken(struct vmem_engine *e);
enum vmem_run_result vmem_engine_run(struct vmem_engine *e,
				     unsigned int *retry_ms);

void vmem_engine_begin_teardown(struct vmem_engine *e);
u64 vmem_engine_end_teardown(struct vmem_engine *e);

int vmem_engine_event(struct vmem_engine *e, enum vmem_mem_event ev,
		      u64 addr, u64 size, bool ours);
void vmem_engine_online_pages(struct vmem_engine *e, u64 addr, u64 size);
bool vmem_engine_page_ours(struct vmem_engine *e, u64 addr);

void vmem_engine_status(struct vmem_engine *e, struct vmem_status *st);

#endif /* _VMEM_ENGINE_H */
