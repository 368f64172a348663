/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The engine's own header, shared by its files (vmem_engine.c: set-up,
 * config, the run loop and teardown; vmem_books.c: the books the memory
 * notifier shares; vmem_events.c: the calls the glue makes under the
 * state lock; vmem_plan.c: what to plug and unplug next; vmem_call.c:
 * device requests; vmem_check.c: the self-check) and by the KUnit
 * suites. Not for the glue: it goes through include/vmem_engine.h.
 */
#ifndef _VMEM_ENGINE_INTERNAL_H
#define _VMEM_ENGINE_INTERNAL_H

#include <linux/bitops.h>
#include <linux/errno.h>
#include <linux/math64.h>
#include <linux/mutex.h>
#include <linux/spinlock.h>
#include <linux/wait.h>

#include "../include/vmem_engine.h"

/* nb_blocks is 16 bits wide. */
#define VMEM_MAX_BLOCKS_PER_REQ 65535

/*
 * ERROR replies in a row for one block after which the engine leaves the
 * block alone until the target changes: a device that keeps refusing
 * (Cloud Hypervisor's failed discard, say) must not have the driver take
 * the same memory back and hand it over again for ever.
 */
#define VMEM_REFUSED_AFTER	3

/**
 * struct vmem_engine - the resize engine of one device
 * @p: geometry and policy (constant after creation)
 * @first_mb: address of the first whole block of the region
 * @nr_mbs: number of whole blocks in the region
 * @sbs_per_mb: subblocks per block
 * @lmbs_per_mb: Linux memory blocks per block (1 in SBM)
 * @gran: granule of @g_offline: the smaller of subblock and Linux memory
 *	block
 * @grans_per_sb: granules per subblock (1 in SBM)
 * @grans_per_lmb: granules per Linux memory block
 * @dev: device ops, and @dev_priv their argument
 * @dev_priv: see @dev
 * @mm: memory-hotplug ops, and @mm_priv their argument
 * @mm_priv: see @mm
 * @page: the kernel generation's page rules, and @page_priv their argument
 * @page_priv: see @page
 *
 * @lock: the run lock. Held by vmem_engine_run(), the self-check and the
 *	teardown, across device requests and mm calls. Guards the fields
 *	from @sb_plugged to @unplug_all_pending.
 * @sb_plugged: bitmap of plugged subblocks, @sbs_per_mb per block: what
 *	the device acknowledged
 * @mb_bad: bitmap of blocks Linux refused to add with a hard error (not
 *	-EBUSY, -ENOMEM, -EAGAIN or -ENOSPC); never tried again
 * @mb_errors: per block, ERROR replies in a row (mb_refused())
 * @mb_memmap: bitmap of blocks added with their memmap on them; changed
 *	with @state_lock held too (the status reads it)
 * @memmap: new blocks are added with their memmap on them
 * @memmap_sbs: subblocks at the start of such a block that hold its
 *	memmap (in BBM the one subblock, the whole block)
 * @requested: requested_size the planning works with (from @cfg)
 * @usable: usable_region_size the planning works with (from @cfg)
 * @unplug_online: whether online memory may be unplugged (from @cfg)
 * @retry_ms: the next retry delay
 * @nr_requests: device requests sent, for tests and statistics
 * @unplug_all_pending: an UNPLUG_ALL must succeed before anything else
 *
 * @state_lock: a spinlock, never held across a device request or an mm
 *	call. Guards the fields from @mb_state to @moving_wq; the memory
 *	notifier, the online_page callback and sysfs take only this one.
 *	Order: @lock, then @state_lock.
 * @mb_state: per block, an enum vmem_mb_state
 * @lmb_moving: bitmap of Linux memory blocks in an online/offline
 *	transition
 * @lmb_online: bitmap of Linux memory blocks online
 * @lmb_kernel: bitmap of Linux memory blocks online in a kernel zone
 * @g_offline: bitmap of fake-offline granules (a granule is the smaller of
 *	subblock and Linux memory block: @grans_per_sb per subblock): their
 *	pages are not Linux's. That covers unplugged subblocks, plugged ones
 *	taken back and not yet unplugged or handed over, and in Linux memory
 *	blocks that are not online the ones that must stay fake-offline when
 *	they come online. Only the engine sets or clears bits, with
 *	@state_lock held and the Linux memory block not in transition (a
 *	plain set: in any case); the online_page callback reads the bits of
 *	its block, which is in transition, with no lock
 * @g_taken: bitmap of fake-offline granules whose pages came from
 *	page->take (not kept at onlining): page->give must know
 * @g_unref: bitmap of granules whose pages had their reference dropped at
 *	MEM_GOING_OFFLINE, until the transition ends
 * @settle: a release met a transition: vmem_books_settle() has work
 * @mb_nr_plugged: per block, plugged subblocks (for the status)
 * @plugged: the books: bytes plugged at the device, by our requests
 * @plugged_end: end (address) of the last plugged subblock, @first_mb
 *	if none
 * @cfg_requested: the device's latest requested_size
 * @cfg_usable: the device's latest usable_region_size, raised to
 *	@plugged_end if it was below
 * @cfg_unplug_online: the latest unplug_online policy
 * @usable_cut: the last config's usable region cut plugged memory
 * @removing: teardown has begun: transitions that are not the engine's
 *	own are refused
 * @result: the last run's result
 * @last_err: the errno of the last failure, 0 if none
 * @last_what: what failed last
 * @nr_errors: failures recorded so far
 * @broken: set for good once the device broke a rule
 * @budget_limited: plugging stopped short at the kernel-memory budget
 * @memmap_used: a block was added with its memmap on it
 * @memmap_refused: Linux refused memmap_on_memory (-EOPNOTSUPP)
 * @moving_wq: woken when a transition ends (the teardown waits there)
 */
struct vmem_engine {
	struct vmem_engine_params p;
	u64 first_mb;
	u64 nr_mbs;
	unsigned int sbs_per_mb;
	unsigned int lmbs_per_mb;
	u64 gran;
	unsigned int grans_per_sb;
	unsigned int grans_per_lmb;
	const struct vmem_device_ops *dev;
	void *dev_priv;
	const struct vmem_mm_ops *mm;
	void *mm_priv;
	const struct vmem_page_ops *page;
	void *page_priv;

	struct mutex lock; /* the run lock: see above */
	unsigned long *sb_plugged;
	unsigned long *mb_bad;
	u8 *mb_errors;
	unsigned long *mb_memmap;
	bool memmap;
	unsigned int memmap_sbs;
	u64 requested;
	u64 usable;
	bool unplug_online;
	unsigned int retry_ms;
	u64 nr_requests;
	bool unplug_all_pending;

	spinlock_t state_lock; /* the books the notifier shares: see above */
	u8 *mb_state;
	unsigned long *lmb_moving;
	unsigned long *lmb_online;
	unsigned long *lmb_kernel;
	unsigned long *g_offline;
	unsigned long *g_taken;
	unsigned long *g_unref;
	bool settle;
	unsigned int *mb_nr_plugged;
	u64 plugged;
	u64 plugged_end;
	u64 cfg_requested;
	u64 cfg_usable;
	bool cfg_unplug_online;
	bool usable_cut;
	bool removing;
	enum vmem_run_result result;
	int last_err;
	enum vmem_what last_what;
	u64 nr_errors;
	bool broken;
	bool budget_limited;
	bool memmap_used;
	bool memmap_refused;
	wait_queue_head_t moving_wq;
};

static inline u64 mb_addr(const struct vmem_engine *e, u64 mb)
{
	return e->first_mb + mb * e->p.mb_size;
}

static inline u64 sb_addr(const struct vmem_engine *e, u64 mb,
			  unsigned int sb)
{
	return mb_addr(e, mb) + (u64)sb * e->p.sb_size;
}

static inline unsigned long sb_bit(const struct vmem_engine *e, u64 mb,
				   unsigned int sb)
{
	return mb * e->sbs_per_mb + sb;
}

static inline bool sb_plugged(const struct vmem_engine *e, u64 mb,
			      unsigned int sb)
{
	return test_bit(sb_bit(e, mb, sb), e->sb_plugged);
}

/* First granule of subblock @sb of @mb. */
static inline unsigned long g_bit(const struct vmem_engine *e, u64 mb,
				  unsigned int sb)
{
	return sb_bit(e, mb, sb) * e->grans_per_sb;
}

/* Whether subblock @sb of @mb lies wholly inside the usable region. */
static inline bool sb_usable(const struct vmem_engine *e, u64 mb,
			     unsigned int sb)
{
	return sb_addr(e, mb, sb) + e->p.sb_size <= e->p.addr + e->usable;
}

/* Plugged subblocks of @mb. */
static inline unsigned int mb_plugged_sbs(const struct vmem_engine *e, u64 mb)
{
	return e->mb_nr_plugged[mb];
}

/*
 * Subblocks at the start of @mb that hold its memmap: plugged before the
 * block was added with memmap_on_memory, never unplugged while it is
 * added. 0 for every other block.
 */
static inline unsigned int mb_memmap_sbs(const struct vmem_engine *e, u64 mb)
{
	return test_bit(mb, e->mb_memmap) ? e->memmap_sbs : 0;
}

/* Bytes at the start of block @mb that hold its own memmap, or 0. */
static inline u64 mb_memmap_bytes(const struct vmem_engine *e, u64 mb)
{
	return test_bit(mb, e->mb_memmap) ?
	       e->p.memmap_size * e->lmbs_per_mb : 0;
}

/* Is any Linux memory block of @mb in an online/offline transition? */
static inline bool mb_moving(const struct vmem_engine *e, u64 mb)
{
	unsigned long end = (mb + 1) * e->lmbs_per_mb;

	return find_next_bit(e->lmb_moving, end, mb * e->lmbs_per_mb) < end;
}

/* Racy outside the state lock: the notifier may change it. */
static inline enum vmem_mb_state mb_state(const struct vmem_engine *e, u64 mb)
{
	return READ_ONCE(e->mb_state[mb]);
}

static inline bool mb_online(const struct vmem_engine *e, u64 mb)
{
	enum vmem_mb_state s = mb_state(e, mb);

	return s == VMEM_MB_KERNEL || s == VMEM_MB_MOVABLE;
}

/* The block of the engine that holds @addr, if any. */
static inline bool mb_of(const struct vmem_engine *e, u64 addr, u64 *mb)
{
	if (addr < e->first_mb || addr - e->first_mb >= e->nr_mbs *
	    e->p.mb_size)
		return false;
	*mb = (addr - e->first_mb) / e->p.mb_size;
	return true;
}

/* The granule that holds @addr, if it lies in a whole block. */
static inline bool g_of(const struct vmem_engine *e, u64 addr, unsigned long *g)
{
	u64 mb;

	if (!mb_of(e, addr, &mb))
		return false;
	*g = div64_u64(addr - e->first_mb, e->gran);
	return true;
}

static inline u64 g_addr(const struct vmem_engine *e, unsigned long g)
{
	return e->first_mb + (u64)g * e->gran;
}

static inline unsigned long g_lmb(const struct vmem_engine *e, unsigned long g)
{
	return g / e->grans_per_lmb;
}

/*
 * The state of a block from its Linux memory blocks: offline when all are,
 * else KERNEL if any is online in a kernel zone, else MOVABLE.
 */
static inline u8 mb_state_of_lmbs(const struct vmem_engine *e, u64 mb)
{
	unsigned long first = mb * e->lmbs_per_mb;
	unsigned long end = first + e->lmbs_per_mb;

	if (find_next_bit(e->lmb_online, end, first) >= end)
		return VMEM_MB_OFFLINE;
	if (find_next_bit(e->lmb_kernel, end, first) < end)
		return VMEM_MB_KERNEL;
	return VMEM_MB_MOVABLE;
}

/*
 * Failures worth retrying on the same block; others are hard. The one
 * definition: the planning and the run loop both ask it.
 */
static inline bool vmem_transient(int err)
{
	return err == -EBUSY || err == -ENOMEM || err == -EAGAIN ||
	       err == -ENOSPC;
}

/*
 * Failures of Linux on one block (memory in use, no memory to migrate
 * to, the free-memory reserve): another block may do. A device reply is
 * never one: it holds for the next block too.
 */
static inline bool vmem_block_failure(int err)
{
	return err == -EBUSY || err == -ENOMEM || err == -ENOSPC;
}

/* vmem_books.c: the state-lock side; e->lock held where noted there. */
int vmem_err(struct vmem_engine *e, int err, enum vmem_what what);
u64 vmem_books_target(const struct vmem_engine *e, u64 requested, u64 usable);
void vmem_books_set_plugged(struct vmem_engine *e, u64 mb, unsigned int sb,
			    unsigned int nr, bool plugged);
int vmem_books_claim(struct vmem_engine *e, u64 mb, unsigned int sb,
		     unsigned int nr);
int vmem_books_take(struct vmem_engine *e, u64 mb, unsigned int sb,
		    unsigned int nr);
void vmem_books_release(struct vmem_engine *e, u64 mb, unsigned int sb,
			unsigned int nr);
void vmem_books_settle(struct vmem_engine *e);
void vmem_books_added(struct vmem_engine *e, u64 mb, bool memmap);
void vmem_books_removed(struct vmem_engine *e, u64 mb);
bool vmem_books_moving(struct vmem_engine *e, u64 mb);
u64 vmem_books_count(struct vmem_engine *e, enum vmem_mb_state state);
bool vmem_books_adopt_config(struct vmem_engine *e);
bool vmem_books_any_moving(struct vmem_engine *e);
int vmem_books_alloc(struct vmem_engine *e);
void vmem_books_free(struct vmem_engine *e);

/* vmem_call.c: device requests, e->lock held. */
int vmem_resp_to_errno(int resp);
int vmem_call(struct vmem_engine *e, int type, u64 addr, u16 nb_blocks,
	      u16 *state);

/* vmem_block.c: one block's operations, e->lock held. */
int vmem_mb_request(struct vmem_engine *e, bool plug, u64 mb,
		    unsigned int sb, unsigned int nr);
bool vmem_mb_refused(const struct vmem_engine *e, u64 mb);
bool vmem_mb_looks_idle(const struct vmem_engine *e, u64 mb);
bool vmem_mb_unplug_skip(const struct vmem_engine *e, u64 mb,
			 enum vmem_what *why);
int vmem_mb_unplug_idle(struct vmem_engine *e, u64 mb, unsigned int sb,
			unsigned int nr);
int vmem_mb_unplug_all_sbs(struct vmem_engine *e, u64 mb);
int vmem_mb_remove(struct vmem_engine *e, u64 mb);

/*
 * The steps of the run loop (vmem_plan.c), e->lock held: each returns 1
 * on progress, 0 if it had nothing to do, or a negative errno.
 */
int vmem_plan_plug_step(struct vmem_engine *e, u64 need);
int vmem_plan_unplug_step(struct vmem_engine *e, u64 excess);
int vmem_plan_remove_empty(struct vmem_engine *e);
int vmem_plan_remove_offline(struct vmem_engine *e);

#endif /* _VMEM_ENGINE_INTERNAL_H */
