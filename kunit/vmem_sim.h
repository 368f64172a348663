/* SPDX-License-Identifier: GPL-2.0 */
/*
 * KUnit simulations behind the resize engine's three ops tables: a
 * virtio-mem device (virtio 1.2 rules, replies as QEMU 7.2, Cloud
 * Hypervisor or Firecracker give them), a memory-hotplug layer and a page
 * model with the rules of a kernel generation (6.1 or 6.11+), all with
 * fault injection and a record of every rule the engine breaks, plus the
 * invariant checker run after every engine step.
 *
 * Files, bottom up (none calls a file above it):
 *  - vmem_sim_base.c: op names, violations, fault injection;
 *  - vmem_sim_dev.c: the device;
 *  - vmem_sim_pages.c: the page model (struct vmem_page_ops);
 *  - vmem_sim_mm.c: memory hotplug (struct vmem_mm_ops), onlining and
 *    offlining per Linux memory block;
 *  - vmem_sim_check.c: the invariants;
 *  - vmem_sim.c: set-up and runs.
 *
 * Granule: the smaller of subblock and Linux memory block, like the
 * engine's, but computed by the sim independently. The page model tracks
 * each granule of the whole memory blocks: who holds its pages (Linux,
 * or the driver as kept or taken), the driver's reference, and what the
 * "workload" does there (used, pinned, another driver's PageOffline
 * pages). Online state is kept per Linux memory block, so a big block can
 * be partly online, as in Linux.
 *
 * The sim is single-threaded. The engine holds its run lock across mm
 * calls; memory events are passed to vmem_engine_event() from inside
 * them, as Linux does. An event that took the run lock would deadlock the
 * test: the engine must not.
 */
#ifndef _VMEM_SIM_H
#define _VMEM_SIM_H

#include <kunit/test.h>
#include <linux/bitmap.h>
#include <linux/bits.h>
#include <linux/types.h>

#include "../drivers/vmem_engine_internal.h"

/**
 * enum vmem_sim_op - what the sim counts calls of and injects faults into
 * @VMEM_SIM_REQ: any device request; its index is the global one
 * @VMEM_SIM_PLUG: plug request
 * @VMEM_SIM_UNPLUG: unplug request
 * @VMEM_SIM_UNPLUG_ALL: unplug-all request
 * @VMEM_SIM_STATE: state request
 * @VMEM_SIM_ADD: mm add
 * @VMEM_SIM_REMOVE: mm remove
 * @VMEM_SIM_OFFLINE_AND_REMOVE: mm offline_and_remove
 * @VMEM_SIM_FAKE_OFFLINE: page take (alloc_contig_range())
 * @VMEM_SIM_FAKE_ONLINE: page give (cannot fail: counted only)
 * @VMEM_SIM_ONLINE: onlining of a Linux memory block, automatic at add or
 *	by the admin; a fault cancels it (CANCEL_ONLINE)
 * @VMEM_SIM_OFFLINE: offlining of a Linux memory block by the admin; a
 *	fault cancels it (CANCEL_OFFLINE), as does a pinned page
 * @VMEM_SIM_KERNEL_MEM: mm kernel_mem (cannot fail: counted only)
 * @VMEM_SIM_MAY_TAKE: mm may_take (the free-memory reserve)
 * @VMEM_SIM_NR_OPS: number of ops
 */
enum vmem_sim_op {
	VMEM_SIM_REQ,
	VMEM_SIM_PLUG,
	VMEM_SIM_UNPLUG,
	VMEM_SIM_UNPLUG_ALL,
	VMEM_SIM_STATE,
	VMEM_SIM_ADD,
	VMEM_SIM_REMOVE,
	VMEM_SIM_OFFLINE_AND_REMOVE,
	VMEM_SIM_FAKE_OFFLINE,
	VMEM_SIM_FAKE_ONLINE,
	VMEM_SIM_ONLINE,
	VMEM_SIM_OFFLINE,
	VMEM_SIM_KERNEL_MEM,
	VMEM_SIM_MAY_TAKE,
	VMEM_SIM_NR_OPS,
};

/* "Any call index" and "any memory block" in a struct vmem_sim_fault. */
#define VMEM_SIM_ANY		(-1LL)
#define VMEM_SIM_MAX_FAULTS	8

/**
 * struct vmem_sim_fault - one injected fault
 * @op: the op it hits
 * @index: the call of @op it hits, counting from 0 (for VMEM_SIM_REQ,
 *	the global device request index), or VMEM_SIM_ANY
 * @mb: only calls on this engine block (index from the first whole block
 *	of the region), or VMEM_SIM_ANY
 * @ret: what the call gives instead of doing its work: the reply type
 *	for a device request (or a negative errno: no reply came), the
 *	negative errno for an mm op
 * @sticky: the fault stays after it hit; otherwise it hits once
 * @hits: how often it hit
 */
struct vmem_sim_fault {
	enum vmem_sim_op op;
	s64 index;
	s64 mb;
	int ret;
	bool sticky;
	unsigned int hits;
};

/**
 * enum vmem_sim_dialect - which host the simulated device answers like
 * @VMEM_SIM_QEMU: QEMU 7.2: NACK for a plug beyond requested_size;
 *	UNPLUG_ALL sets the usable region to requested_size + 256 MiB
 *	(0 if nothing is requested); BUSY while @migrating
 * @VMEM_SIM_CLOUD_HV: Cloud Hypervisor: the usable region is the whole
 *	region, never BUSY
 * @VMEM_SIM_FIRECRACKER: Firecracker: ERROR (not NACK) for a plug beyond
 *	requested_size
 */
enum vmem_sim_dialect {
	VMEM_SIM_QEMU,
	VMEM_SIM_CLOUD_HV,
	VMEM_SIM_FIRECRACKER,
};

/**
 * enum vmem_sim_gen - whose page rules the page model follows
 * @VMEM_SIM_GEN_6_1: offlining subtracts every page from the managed
 *	count, so the driver's unref adds its fake-offline pages back
 * @VMEM_SIM_GEN_6_11: offlining skips PageOffline pages with refcount 0
 */
enum vmem_sim_gen {
	VMEM_SIM_GEN_6_1,
	VMEM_SIM_GEN_6_11,
};

/**
 * enum vmem_sim_gstate - who holds a granule's pages
 * @VMEM_G_NONE: its Linux memory block is not online
 * @VMEM_G_FRESH: it is being onlined; the online_page callback has not
 *	decided yet
 * @VMEM_G_LINUX: Linux's (free or in use)
 * @VMEM_G_KEPT: the driver's: kept fake-offline at onlining
 * @VMEM_G_TAKEN: the driver's: taken back from Linux
 * @VMEM_G_MEMMAP: the block's own memmap
 */
enum vmem_sim_gstate {
	VMEM_G_NONE,
	VMEM_G_FRESH,
	VMEM_G_LINUX,
	VMEM_G_KEPT,
	VMEM_G_TAKEN,
	VMEM_G_MEMMAP,
};

struct vmem_sim;

/*
 * Called at the start of mm add, remove and offline_and_remove: a test
 * changes the config or the memory from there as another task would.
 */
typedef void (*vmem_sim_hook_t)(struct vmem_sim *sim, enum vmem_sim_op op,
				u64 addr);

/**
 * struct vmem_sim_params - a simulated device and machine
 * @e: the engine's geometry and policy; the sim's own geometry comes
 *	from the same numbers but is computed independently
 * @unplug_online: the unplug_online policy
 * @requested: initial requested_size
 * @usable: initial usable_region_size
 * @auto_online: where an added block goes at once; VMEM_ZONE_OFFLINE:
 *	it stays offline
 * @kmem_avail: kernel memory at the start (0: VMEM_SIM_KMEM_PLENTY)
 * @kmem_managed: managed bytes of the kernel zones (0: @kmem_avail)
 * @memmap_ok: Linux puts a block's memmap on the block when asked
 *	(memory_hotplug.memmap_on_memory=1); otherwise such an add gives
 *	-EOPNOTSUPP
 * @dialect: the host's answers
 * @gen: the page rules
 * @usable_exact: UNPLUG_ALL sets the usable region to exactly
 *	requested_size (a device the spec allows, stricter than QEMU)
 */
struct vmem_sim_params {
	struct vmem_engine_params e;
	bool unplug_online;
	u64 requested;
	u64 usable;
	enum vmem_zone auto_online;
	u64 kmem_avail;
	u64 kmem_managed;
	bool memmap_ok;
	enum vmem_sim_dialect dialect;
	enum vmem_sim_gen gen;
	bool usable_exact;
};

/* Kernel memory no test runs out of. */
#define VMEM_SIM_KMEM_PLENTY	BIT_ULL(50)

/**
 * struct vmem_sim - the simulated device, memory-hotplug layer and engine
 * @e: the engine under test, wired to the sim's ops
 * @p: parameters given at creation
 * @first_mb: first whole block of the region (sim's computation)
 * @nr_mbs: number of whole blocks
 * @lmbs_per_mb: Linux memory blocks per block
 * @nr_lmbs: Linux memory blocks of the whole blocks
 * @gran: granule size
 * @nr_blocks: device blocks in the region
 * @nr_grans: granules of the whole blocks
 * @requested: device requested_size
 * @usable: device usable_region_size
 * @plugged_size: device plugged_size
 * @max_plugged: highest plugged_size so far
 * @dev_plugged: per device block: plugged
 * @migrating: a migration runs: QEMU answers BUSY to every request
 * @invalid_replies: injected replies of no known type that reached the
 *	engine
 * @error_replies: ERROR replies to plug and unplug requests, injected or
 *	the device's own
 * @cfg_requested: requested_size as last given to the engine
 * @cfg_usable: usable_region_size as last given to the engine
 * @cfg_cut: configs whose usable region cut plugged subblocks, which the
 *	engine kept (vmem_engine_set_config() gave -ERANGE)
 * @added: per block: added to Linux
 * @zone: per Linux memory block: enum vmem_zone
 * @moving: per Linux memory block: in an online/offline transition
 * @moving_to: per Linux memory block in transition: the zone it goes to
 * @was_zone: per Linux memory block: its zone before offline_and_remove,
 *	for the rollback
 * @ours_move: per Linux memory block in transition: the engine's own
 * @gst: per granule: enum vmem_sim_gstate
 * @noref: per granule: the driver's reference is dropped (unref)
 * @used: per granule: the workload uses pages there (migratable)
 * @pinned: per granule: an unmovable page in use; blocks offlining of a
 *	kernel block, and taking the granule back
 * @foreign: per granule: another driver's PageOffline pages (a balloon),
 *	movable, with their own reference
 * @managed: the managed page count, in granules, as Linux keeps it
 * @migrated: granules the workload used when Linux gave them up (taken
 *	back or offlined): its pages moved elsewhere
 * @vetoes: offlines of the engine's own that the glue vetoed (a page in
 *	use once the range was isolated)
 * @auto_online: see struct vmem_sim_params
 * @admin_zone: where vmem_sim_settle() onlines blocks the engine waits for
 * @mb_memmap: per block: added with its memmap on it
 * @memmap_ok: see struct vmem_sim_params
 * @kmem_avail: kernel memory left, as kernel_mem reports it; a plain add
 *	takes the block's memmap from it, and running out is a violation
 *	(the real kernel WARNs)
 * @kmem_managed: what kernel_mem reports as managed
 * @kmem_min: the lowest @kmem_avail so far
 * @faults: injected faults
 * @nr_faults: entries of @faults used
 * @calls: per enum vmem_sim_op, calls so far
 * @violations: rules the engine broke so far
 * @violation: the first of them
 * @last: result of the last engine run
 * @errors_before: the engine's error count before the last run
 * @nr_runs: engine runs so far
 * @hook: see vmem_sim_hook_t; @hook_priv its data
 * @req_hook: called at the start of every device request (plug, unplug,
 *	unplug_all, state), before the device answers: a test changes
 *	memory there as another task would while the request is in flight
 * @hook_priv: see @hook
 * @desc: scenario description, printed with every failure
 */
struct vmem_sim {
	struct vmem_engine *e;
	struct vmem_sim_params p;
	u64 first_mb;
	u64 nr_mbs;
	u64 lmbs_per_mb;
	u64 nr_lmbs;
	u64 gran;
	u64 nr_blocks;
	u64 nr_grans;

	u64 requested;
	u64 usable;
	u64 plugged_size;
	u64 max_plugged;
	unsigned long *dev_plugged;
	bool migrating;
	unsigned int invalid_replies;
	unsigned int error_replies;
	u64 cfg_requested;
	u64 cfg_usable;
	unsigned int cfg_cut;

	unsigned long *added;
	u8 *zone;
	unsigned long *moving;
	u8 *moving_to;
	u8 *was_zone;
	unsigned long *ours_move;
	u8 *gst;
	unsigned long *noref;
	unsigned long *used;
	unsigned long *pinned;
	unsigned long *foreign;
	s64 managed;
	u64 migrated;
	unsigned int vetoes;
	enum vmem_zone auto_online;
	enum vmem_zone admin_zone;
	unsigned long *mb_memmap;
	bool memmap_ok;
	u64 kmem_avail;
	u64 kmem_managed;
	u64 kmem_min;

	struct vmem_sim_fault faults[VMEM_SIM_MAX_FAULTS];
	unsigned int nr_faults;
	u64 calls[VMEM_SIM_NR_OPS];
	unsigned int violations;
	char violation[160];

	enum vmem_run_result last;
	u64 errors_before;
	u64 nr_runs;
	vmem_sim_hook_t hook;
	vmem_sim_hook_t req_hook;
	void *hook_priv;
	char desc[128];
};

/* Not in a whole block of the region: see vmem_sim_mb_of(). */
#define VMEM_SIM_NO_MB		(-2LL)

static inline u64 vmem_sim_mb_addr(const struct vmem_sim *sim, u64 mb)
{
	return sim->first_mb + mb * sim->p.e.mb_size;
}

static inline u64 vmem_sim_lmb_addr(const struct vmem_sim *sim, u64 lmb)
{
	return sim->first_mb + lmb * sim->p.e.lmb_size;
}

/* Index of the device block at @addr. */
static inline u64 vmem_sim_block(const struct vmem_sim *sim, u64 addr)
{
	return (addr - sim->p.e.addr) / sim->p.e.block_size;
}

/* Index of the granule at @addr, in a whole block. */
static inline u64 vmem_sim_gran(const struct vmem_sim *sim, u64 addr)
{
	return (addr - sim->first_mb) / sim->gran;
}

static inline u64 vmem_sim_gran_addr(const struct vmem_sim *sim, u64 g)
{
	return sim->first_mb + g * sim->gran;
}

static inline u64 vmem_sim_grans_per_lmb(const struct vmem_sim *sim)
{
	return sim->p.e.lmb_size / sim->gran;
}

/* The whole block @addr lies in, or VMEM_SIM_NO_MB. */
static inline s64 vmem_sim_mb_of(const struct vmem_sim *sim, u64 addr)
{
	if (addr < sim->first_mb ||
	    addr - sim->first_mb >= sim->nr_mbs * sim->p.e.mb_size)
		return VMEM_SIM_NO_MB;
	return (addr - sim->first_mb) / sim->p.e.mb_size;
}

/* Bytes at the start of the added block @mb that hold its own memmap. */
static inline u64 vmem_sim_memmap_bytes(const struct vmem_sim *sim, u64 mb)
{
	return test_bit(mb, sim->mb_memmap) ? sim->p.e.memmap_size *
	       sim->lmbs_per_mb : 0;
}

static inline bool vmem_sim_lmb_online(const struct vmem_sim *sim, u64 lmb)
{
	return test_bit(lmb / sim->lmbs_per_mb, sim->added) &&
	       sim->zone[lmb] != VMEM_ZONE_OFFLINE;
}

/* Is any Linux memory block of @mb online? */
static inline bool vmem_sim_mb_online(const struct vmem_sim *sim, u64 mb)
{
	u64 lmb;

	for (lmb = mb * sim->lmbs_per_mb; lmb < (mb + 1) * sim->lmbs_per_mb;
	     lmb++)
		if (vmem_sim_lmb_online(sim, lmb))
			return true;
	return false;
}

/* Is any Linux memory block of @mb in transition? */
static inline bool vmem_sim_mb_moving(const struct vmem_sim *sim, u64 mb)
{
	u64 end = (mb + 1) * sim->lmbs_per_mb;

	return find_next_bit(sim->moving, end, mb * sim->lmbs_per_mb) < end;
}

/* Whether any (@all: each) device block of [@addr, +@size) is plugged. */
static inline bool vmem_sim_dev_plugged(const struct vmem_sim *sim, u64 addr,
					u64 size, bool all)
{
	u64 first = vmem_sim_block(sim, addr);
	u64 end = first + size / sim->p.e.block_size;

	if (all)
		return find_next_zero_bit(sim->dev_plugged, end, first) >= end;
	return find_next_bit(sim->dev_plugged, end, first) < end;
}

static inline void vmem_sim_clear_faults(struct vmem_sim *sim)
{
	sim->nr_faults = 0;
}

/* How often the injected faults hit, in all. */
static inline unsigned int vmem_sim_fault_hits(const struct vmem_sim *sim)
{
	unsigned int i, n = 0;

	for (i = 0; i < sim->nr_faults; i++)
		n += sim->faults[i].hits;
	return n;
}

/* vmem_sim_base.c */
const char *vmem_sim_op_name(enum vmem_sim_op op);
__printf(2, 3) void vmem_sim_violation(struct vmem_sim *sim,
				       const char *fmt, ...);
bool vmem_sim_fault(struct vmem_sim *sim, enum vmem_sim_op op, u64 idx,
		    s64 mb, int *ret);
int vmem_sim_add_fault(struct vmem_sim *sim, enum vmem_sim_op op, s64 index,
		       s64 mb, int ret, bool sticky);

/* vmem_sim_dev.c */
extern const struct vmem_device_ops vmem_sim_dev_ops;
void vmem_sim_pass_config(struct vmem_sim *sim);

/* vmem_sim_pages.c */
extern const struct vmem_page_ops vmem_sim_page_ops;
void vmem_sim_pages_online(struct vmem_sim *sim, u64 lmb);
int vmem_sim_pages_offline(struct vmem_sim *sim, u64 lmb, bool ours);
void vmem_sim_pages_gone(struct vmem_sim *sim, u64 lmb);
void vmem_sim_pages_cancel_online(struct vmem_sim *sim, u64 lmb);
bool vmem_sim_pages_idle(struct vmem_sim *sim, u64 addr, u64 size);

/* vmem_sim_mm.c */
extern const struct vmem_mm_ops vmem_sim_mm_ops;
int vmem_sim_online(struct vmem_sim *sim, u64 mb, enum vmem_zone zone);
int vmem_sim_offline(struct vmem_sim *sim, u64 mb);
int vmem_sim_begin_move(struct vmem_sim *sim, u64 mb, enum vmem_zone to);
int vmem_sim_end_move(struct vmem_sim *sim, u64 mb, bool cancel);
int vmem_sim_begin_lmb_move(struct vmem_sim *sim, u64 lmb,
			    enum vmem_zone to, bool ours);
int vmem_sim_end_lmb_move(struct vmem_sim *sim, u64 lmb, bool cancel);
int vmem_sim_online_lmb(struct vmem_sim *sim, u64 lmb, enum vmem_zone zone);
int vmem_sim_offline_lmb(struct vmem_sim *sim, u64 lmb);
int vmem_sim_pin(struct vmem_sim *sim, u64 addr, bool pin);
u64 vmem_sim_use_range(struct vmem_sim *sim, u64 addr, u64 size);
int vmem_sim_mark(struct vmem_sim *sim, u64 addr, unsigned long *map,
		  bool set);

/* vmem_sim_check.c */
u64 vmem_sim_target(const struct vmem_sim *sim);
bool vmem_sim_check(struct kunit *test, struct vmem_sim *sim);

/* vmem_sim.c */
struct vmem_sim *vmem_sim_create(struct kunit *test,
				 const struct vmem_sim_params *p, int *rc);
void vmem_sim_set_config(struct vmem_sim *sim, u64 requested, u64 usable);
void vmem_sim_set_unplug_online(struct vmem_sim *sim, bool on);
enum vmem_run_result vmem_sim_run(struct vmem_sim *sim);
enum vmem_run_result vmem_sim_settle(struct kunit *test,
				     struct vmem_sim *sim,
				     unsigned int max_runs, bool *ok);
const char *vmem_sim_what(const struct vmem_sim *sim);

/* The admin onlines every offline block that is not in transition. */
static inline void vmem_sim_online_all(struct vmem_sim *sim,
				       enum vmem_zone zone)
{
	u64 lmb;

	for (lmb = 0; lmb < sim->nr_lmbs; lmb++)
		if (test_bit(lmb / sim->lmbs_per_mb, sim->added) &&
		    !test_bit(lmb, sim->moving) &&
		    sim->zone[lmb] == VMEM_ZONE_OFFLINE)
			vmem_sim_online_lmb(sim, lmb, zone);
}

#endif /* _VMEM_SIM_H */
