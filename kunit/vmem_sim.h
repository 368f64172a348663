/* SPDX-License-Identifier: GPL-2.0 */
/*
 * KUnit simulations behind the resize engine's two ops tables: a virtio-mem
 * device (virtio 1.2 rules, replies as QEMU 7.2 gives them) and a memory
 * hotplug layer, both with fault injection and a record of every rule the
 * engine breaks, plus the invariant checker run after every engine step.
 *
 * Granule: the device keeps its plugged bitmap per device block; the
 * simulated memory-hotplug layer tracks which memory is in the page
 * allocator ("the buddy") per subblock of the whole memory blocks, the
 * unit the engine must hand over and take back (a range of any other
 * shape is a violation). When a block comes online, the sim asks
 * vmem_engine_page_plugged() for the first and the last 4 KiB page of
 * each subblock, and gives the subblock to the buddy if the engine says
 * so.
 *
 * The sim is single-threaded: "held" below means held by the test's own
 * task, which mutex_is_locked() can tell. vmem_engine_notify() takes the
 * engine lock itself, so an event due while the lock is held (the engine
 * did not drop it around an mm op) is recorded as a violation and not
 * sent: a broken hand-over fails a case instead of hanging it. A test can
 * also leave a block in transition (between GOING_ONLINE and ONLINE, say)
 * across engine runs, as another task onlining it would; the engine must
 * then keep its hands off that block.
 */
#ifndef _VMEM_SIM_H
#define _VMEM_SIM_H

#include <kunit/test.h>
#include <linux/bitmap.h>
#include <linux/bits.h>
#include <linux/types.h>

#include "../include/vmem_engine.h"

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
 * @VMEM_SIM_FAKE_OFFLINE: mm fake_offline
 * @VMEM_SIM_FAKE_ONLINE: mm fake_online (cannot fail: counted only)
 * @VMEM_SIM_ONLINE: onlining of a block, automatic at add or by the admin;
 *	a fault cancels it (CANCEL_ONLINE) and the block stays offline
 * @VMEM_SIM_OFFLINE: offlining of a block by the admin; a fault cancels
 *	it (CANCEL_OFFLINE), as does a pinned page in a kernel block
 * @VMEM_SIM_KERNEL_MEM: mm kernel_mem (cannot fail: counted only)
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
 * @mb: only calls on this memory block (index from the first whole
 *	memory block of the region), or VMEM_SIM_ANY
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

struct vmem_sim;

/*
 * Called at the start of mm add, remove and offline_and_remove, while the
 * engine has dropped its lock: a test changes the config or the memory
 * from there as another task would.
 */
typedef void (*vmem_sim_hook_t)(struct vmem_sim *sim, enum vmem_sim_op op,
				u64 addr);

/**
 * struct vmem_sim_params - a simulated device and machine
 * @e: the engine's geometry and policy; the sim's own geometry comes
 *	from the same numbers but is computed independently
 * @requested: initial requested_size
 * @usable: initial usable_region_size
 * @auto_online: where an added block goes at once; VMEM_ZONE_OFFLINE:
 *	it stays offline
 * @kmem_avail: kernel memory at the start (0: VMEM_SIM_KMEM_PLENTY)
 * @kmem_managed: managed bytes of the kernel zones (0: @kmem_avail)
 * @memmap_ok: Linux puts a block's memmap on the block when asked
 *	(memory_hotplug.memmap_on_memory=1); otherwise such an add gives
 *	-EOPNOTSUPP
 */
struct vmem_sim_params {
	struct vmem_engine_params e;
	u64 requested;
	u64 usable;
	enum vmem_zone auto_online;
	u64 kmem_avail;
	u64 kmem_managed;
	bool memmap_ok;
};

/* Kernel memory no test runs out of. */
#define VMEM_SIM_KMEM_PLENTY	BIT_ULL(50)

/**
 * struct vmem_sim - the simulated device, memory-hotplug layer and engine
 * @e: the engine under test, wired to the sim's ops
 * @p: parameters given at creation
 * @first_mb: first whole memory block of the region (sim's computation)
 * @nr_mbs: number of whole memory blocks
 * @nr_blocks: device blocks in the region
 * @nr_grans: subblocks of the whole memory blocks: granules of @buddy
 * @requested: device requested_size
 * @usable: device usable_region_size
 * @plugged_size: device plugged_size
 * @max_plugged: highest plugged_size so far
 * @dev_plugged: per device block: plugged
 * @cfg_requested: requested_size as last given to the engine
 * @cfg_usable: usable_region_size as last given to the engine
 * @cfg_pending: the device changed its config (UNPLUG_ALL shrinks the
 *	usable region); the next vmem_sim_run() passes it on first
 * @cfg_cut: configs whose usable region cut plugged subblocks, which the
 *	engine refused (vmem_engine_set_config() gave -ERANGE)
 * @added: per memory block: added to Linux
 * @zone: per memory block: enum vmem_zone
 * @buddy: per granule: in the page allocator
 * @pinned: per granule: an unmovable page; blocks offlining of a kernel
 *	block and fake_offline while the granule is in the buddy
 * @moving: per memory block: in an online/offline transition
 * @moving_to: per memory block in transition: the zone it goes to
 * @auto_online: see struct vmem_sim_params
 * @admin_zone: where vmem_sim_settle() onlines blocks the engine waits for
 * @mb_memmap: per memory block: added with its memmap on it
 * @memmap_ok: see struct vmem_sim_params
 * @kmem_avail: kernel memory left, as kernel_mem reports it; a plain add
 *	takes the block's memmap (p.e.memmap_size per Linux memory block)
 *	from it, and running out is a violation (the real kernel WARNs)
 * @kmem_managed: what kernel_mem reports as managed
 * @kmem_min: the lowest @kmem_avail so far
 * @faults: injected faults
 * @nr_faults: entries of @faults used
 * @calls: per enum vmem_sim_op, calls so far
 * @violations: rules the engine broke so far
 * @violation: the first of them
 * @last: result of the last engine run
 * @nr_runs: engine runs so far
 * @hook: see vmem_sim_hook_t; @hook_priv its data
 * @hook_priv: see @hook
 * @desc: scenario description, printed with every failure
 */
struct vmem_sim {
	struct vmem_engine e;
	struct vmem_sim_params p;
	u64 first_mb;
	u64 nr_mbs;
	u64 nr_blocks;
	u64 nr_grans;

	u64 requested;
	u64 usable;
	u64 plugged_size;
	u64 max_plugged;
	unsigned long *dev_plugged;
	u64 cfg_requested;
	u64 cfg_usable;
	bool cfg_pending;
	unsigned int cfg_cut;

	unsigned long *added;
	u8 *zone;
	unsigned long *buddy;
	unsigned long *pinned;
	unsigned long *moving;
	u8 *moving_to;
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
	u64 nr_runs;
	vmem_sim_hook_t hook;
	void *hook_priv;
	char desc[128];
};

/* Not in a whole memory block of the region: see vmem_sim_mb_of(). */
#define VMEM_SIM_NO_MB		(-2LL)

static inline u64 vmem_sim_mb_addr(const struct vmem_sim *sim, u64 mb)
{
	return sim->first_mb + mb * sim->p.e.mb_size;
}

/* Index of the device block at @addr. */
static inline u64 vmem_sim_block(const struct vmem_sim *sim, u64 addr)
{
	return (addr - sim->p.e.addr) / sim->p.e.block_size;
}

/* Index of the granule (subblock) at @addr, in a whole memory block. */
static inline u64 vmem_sim_gran(const struct vmem_sim *sim, u64 addr)
{
	return (addr - sim->first_mb) / sim->p.e.sb_size;
}

static inline u64 vmem_sim_grans_per_mb(const struct vmem_sim *sim)
{
	return sim->p.e.mb_size / sim->p.e.sb_size;
}

/* The whole memory block @addr lies in, or VMEM_SIM_NO_MB. */
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
	       (sim->p.e.mb_size / sim->p.e.lmb_size) : 0;
}

static inline bool vmem_sim_mb_online(const struct vmem_sim *sim, u64 mb)
{
	return test_bit(mb, sim->added) && sim->zone[mb] != VMEM_ZONE_OFFLINE;
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

extern const struct vmem_device_ops vmem_sim_dev_ops;
extern const struct vmem_mm_ops vmem_sim_mm_ops;

const char *vmem_sim_op_name(enum vmem_sim_op op);
__printf(2, 3) void vmem_sim_violation(struct vmem_sim *sim,
				       const char *fmt, ...);
bool vmem_sim_fault(struct vmem_sim *sim, enum vmem_sim_op op, u64 idx,
		    s64 mb, int *ret);
struct vmem_sim *vmem_sim_create(const struct vmem_sim_params *p, int *rc);
void vmem_sim_destroy(struct vmem_sim *sim);

void vmem_sim_set_config(struct vmem_sim *sim, u64 requested, u64 usable);
enum vmem_run_result vmem_sim_run(struct vmem_sim *sim);
bool vmem_sim_check(struct kunit *test, struct vmem_engine *e,
		    struct vmem_sim *sim);
enum vmem_run_result vmem_sim_settle(struct kunit *test,
				     struct vmem_sim *sim,
				     unsigned int max_runs, bool *ok);
u64 vmem_sim_target(const struct vmem_sim *sim);

int vmem_sim_add_fault(struct vmem_sim *sim, enum vmem_sim_op op, s64 index,
		       s64 mb, int ret, bool sticky);

int vmem_sim_online(struct vmem_sim *sim, u64 mb, enum vmem_zone zone);
int vmem_sim_offline(struct vmem_sim *sim, u64 mb);
int vmem_sim_begin_move(struct vmem_sim *sim, u64 mb, enum vmem_zone to);
int vmem_sim_end_move(struct vmem_sim *sim, u64 mb, bool cancel);
int vmem_sim_pin(struct vmem_sim *sim, u64 addr, bool pin);

/* The admin onlines every offline block that is not in transition. */
static inline void vmem_sim_online_all(struct vmem_sim *sim,
				       enum vmem_zone zone)
{
	u64 mb;

	for (mb = 0; mb < sim->nr_mbs; mb++)
		if (test_bit(mb, sim->added) && !test_bit(mb, sim->moving) &&
		    sim->zone[mb] == VMEM_ZONE_OFFLINE)
			vmem_sim_online(sim, mb, zone);
}

#endif /* _VMEM_SIM_H */
