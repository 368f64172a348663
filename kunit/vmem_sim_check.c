// SPDX-License-Identifier: GPL-2.0
/*
 * KUnit: the invariants the sim checks after every engine step. See
 * vmem_sim.h.
 */
#include <kunit/test.h>
#include <linux/bitmap.h>
#include <linux/kernel.h>
#include <linux/minmax.h>
#include <linux/mutex.h>

#include "vmem_sim.h"

/*
 * The target, worked out independently of the engine: requested_size
 * rounded down to subblocks, capped by the subblocks of whole memory
 * blocks wholly inside the usable region (both as given to the engine).
 */
u64 vmem_sim_target(const struct vmem_sim *sim)
{
	u64 sb = sim->p.e.sb_size, end = sim->p.e.addr + sim->cfg_usable;
	u64 top = sim->first_mb + sim->nr_mbs * sim->p.e.mb_size, a, n = 0;

	for (a = sim->first_mb; a + sb <= top && a + sb <= end; a += sb)
		n++;
	return min(sim->cfg_requested / sb * sb, n * sb);
}

static enum vmem_mb_state sim_mb_state(const struct vmem_sim *sim, u64 mb)
{
	if (!test_bit(mb, sim->added))
		return VMEM_MB_UNUSED;
	return sim->zone[mb] == VMEM_ZONE_KERNEL ? VMEM_MB_KERNEL :
	       sim->zone[mb] == VMEM_ZONE_MOVABLE ? VMEM_MB_MOVABLE :
	       VMEM_MB_OFFLINE;
}

#define SIM_EXPECT(cond, fmt, ...)					\
	do {								\
		if (!(cond)) {						\
			KUNIT_FAIL(test, "%s: " fmt, sim->desc,		\
				   ##__VA_ARGS__);			\
			ok = false;					\
		}							\
	} while (0)

/*
 * Device blocks outside the whole memory blocks are never plugged; in
 * each subblock, device, books and buddy agree. Subblocks holding a
 * block's own memmap are plugged and never in the buddy.
 */
static bool sim_check_granules(struct kunit *test, struct vmem_engine *e,
			       struct vmem_sim *sim)
{
	u64 sb = sim->p.e.sb_size, top = vmem_sim_mb_addr(sim, sim->nr_mbs);
	u64 lo = min(vmem_sim_block(sim, sim->first_mb), sim->nr_blocks);
	u64 hi = min(vmem_sim_block(sim, top), sim->nr_blocks), g, a;
	bool ok = true, dev, book, buddy, online, memmap;
	u64 gpm = vmem_sim_grans_per_mb(sim), mb;

	SIM_EXPECT(find_next_bit(sim->dev_plugged, lo, 0) >= lo &&
		   find_next_bit(sim->dev_plugged, sim->nr_blocks, hi) >=
		   sim->nr_blocks,
		   "memory outside the whole memory blocks is plugged");
	for (g = 0, a = sim->first_mb; g < sim->nr_grans && ok; g++, a += sb) {
		dev = vmem_sim_dev_plugged(sim, a, sb, true);
		book = test_bit(g, e->sb_plugged);
		buddy = test_bit(g, sim->buddy);
		mb = g / gpm;
		online = vmem_sim_mb_online(sim, mb);
		memmap = a + sb <= vmem_sim_mb_addr(sim, mb) +
				  vmem_sim_memmap_bytes(sim, mb);
		SIM_EXPECT(!memmap || (dev && !buddy),
			   "%#llx holds a memmap but is %s", a,
			   dev ? "in the page allocator" : "unplugged");
		SIM_EXPECT(dev || !vmem_sim_dev_plugged(sim, a, sb, false),
			   "subblock %#llx is partly plugged", a);
		SIM_EXPECT(book == dev, "%#llx: device says %splugged, the books %splugged",
			   a, dev ? "" : "un", book ? "" : "un");
		SIM_EXPECT(!buddy || (dev && online),
			   "%#llx is in the page allocator but %s", a,
			   dev ? "its block is not online" : "not plugged");
		SIM_EXPECT(!dev || !online || buddy || memmap,
			   "%#llx is plugged in an online block but not in the page allocator (leaked)",
			   a);
	}
	return ok;
}

/*
 * The invariants, checked after every step, with the engine lock not
 * held: no rule broken; the books match the device block by block; the
 * page allocator has all plugged memory of online blocks and nothing else;
 * the engine's view of each memory block is Linux's; the last run reached
 * the target or says why not. Each failure is reported on @test; returns
 * whether all hold.
 */
bool vmem_sim_check(struct kunit *test, struct vmem_engine *e,
		    struct vmem_sim *sim)
{
	u64 sb = sim->p.e.sb_size, target, mb, w;
	bool ok = true;

	if (mutex_is_locked(&e->lock)) {
		KUNIT_FAIL(test, "%s: the engine lock is held after a step",
			   sim->desc);
		return false;
	}
	SIM_EXPECT(!sim->violations, "%u rule violation(s), the first: %s",
		   sim->violations, sim->violation);
	SIM_EXPECT(e->first_mb == sim->first_mb && e->nr_mbs == sim->nr_mbs,
		   "engine uses %llu memory blocks from %#llx, the region has %llu from %#llx",
		   e->nr_mbs, e->first_mb, sim->nr_mbs, sim->first_mb);
	SIM_EXPECT(e->sbs_per_mb * sb == sim->p.e.mb_size,
		   "%u subblocks per memory block", e->sbs_per_mb);
	if (!ok)
		return false;

	mutex_lock(&e->lock);
	w = bitmap_weight(sim->dev_plugged, sim->nr_blocks);
	SIM_EXPECT(w * sim->p.e.block_size == sim->plugged_size,
		   "sim: plugged_size %llu, bitmap %llu blocks",
		   sim->plugged_size, w);
	SIM_EXPECT(e->plugged == sim->plugged_size,
		   "books say %llu plugged, the device %llu", e->plugged,
		   sim->plugged_size);
	w = bitmap_weight(e->sb_plugged, e->nr_mbs * e->sbs_per_mb);
	SIM_EXPECT(w * sb == e->plugged,
		   "%llu subblocks in the bitmap, %llu bytes in the books", w,
		   e->plugged);
	SIM_EXPECT(e->nr_requests == sim->calls[VMEM_SIM_REQ],
		   "engine counted %llu requests, the device got %llu",
		   e->nr_requests, sim->calls[VMEM_SIM_REQ]);
	if (ok)
		ok = sim_check_granules(test, e, sim);
	for (mb = 0; mb < sim->nr_mbs && ok; mb++) {
		SIM_EXPECT(e->mb_state[mb] == sim_mb_state(sim, mb),
			   "memory block %llu: engine state %u, Linux state %u",
			   mb, e->mb_state[mb], sim_mb_state(sim, mb));
		SIM_EXPECT(sim->last != VMEM_RUN_DONE || !sim->nr_runs ||
			   !test_bit(mb, sim->added) ||
			   test_bit(mb, sim->moving) ||
			   vmem_sim_dev_plugged(sim, vmem_sim_mb_addr(sim, mb),
						sim->p.e.mb_size, false),
			   "memory block %llu is added and empty after DONE", mb);
	}
	target = vmem_sim_target(sim);
	SIM_EXPECT(vmem_engine_target(e) == target,
		   "vmem_engine_target() %llu, expected %llu",
		   vmem_engine_target(e), target);
	if (sim->nr_runs && sim->last == VMEM_RUN_DONE) {
		SIM_EXPECT(e->plugged == target,
			   "DONE with %llu plugged, target %llu", e->plugged,
			   target);
	} else if (sim->nr_runs) {
		SIM_EXPECT(e->last_err && e->last_what,
			   "run result %d without a reason (last_err %d)",
			   sim->last, e->last_err);
		SIM_EXPECT(sim->last == VMEM_RUN_BROKEN ||
			   (e->retry_ms >= VMEM_RETRY_MIN_MS &&
			    e->retry_ms <= VMEM_RETRY_MAX_MS),
			   "run result %d with retry_ms %u", sim->last,
			   e->retry_ms);
	}
	SIM_EXPECT(e->broken == (sim->nr_runs && sim->last == VMEM_RUN_BROKEN),
		   "broken %d, last run result %d", e->broken, sim->last);
	SIM_EXPECT(bitmap_equal(e->mb_memmap, sim->mb_memmap, sim->nr_mbs),
		   "the books and Linux disagree on which blocks carry their memmap");
	mutex_unlock(&e->lock);
	return ok;
}

