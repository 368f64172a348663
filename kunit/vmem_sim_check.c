// SPDX-License-Identifier: GPL-2.0
/*
 * KUnit sim: the invariants checked after every engine step. The expected
 * values are worked out from the sim's own state, never taken from the
 * engine's word. See vmem_sim.h.
 */
#include <kunit/test.h>
#include <linux/bitmap.h>
#include <linux/kernel.h>
#include <linux/minmax.h>
#include <linux/mutex.h>

#include "vmem_sim.h"

/*
 * The target, worked out independently of the engine: requested_size
 * rounded down to subblocks, capped by the subblocks of whole blocks
 * wholly inside the usable region (both as given to the engine).
 */
u64 vmem_sim_target(const struct vmem_sim *sim)
{
	u64 sb = sim->p.e.sb_size, end = sim->p.e.addr + sim->cfg_usable;
	u64 top = sim->first_mb + sim->nr_mbs * sim->p.e.mb_size, a, n = 0;

	for (a = sim->first_mb; a + sb <= top && a + sb <= end; a += sb)
		n++;
	return min(sim->cfg_requested / sb * sb, n * sb);
}

/* The state of a block from its Linux memory blocks, as Linux has it. */
static enum vmem_mb_state sim_mb_state(const struct vmem_sim *sim, u64 mb)
{
	bool kernel = false, online = false;
	u64 lmb;

	if (!test_bit(mb, sim->added))
		return VMEM_MB_UNUSED;
	for (lmb = mb * sim->lmbs_per_mb; lmb < (mb + 1) * sim->lmbs_per_mb;
	     lmb++) {
		online |= vmem_sim_lmb_online(sim, lmb);
		kernel |= vmem_sim_lmb_online(sim, lmb) &&
			  sim->zone[lmb] == VMEM_ZONE_KERNEL;
	}
	return !online ? VMEM_MB_OFFLINE : kernel ? VMEM_MB_KERNEL :
	       VMEM_MB_MOVABLE;
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
 * Device blocks outside the whole blocks are never plugged; in each
 * subblock, device and books agree, and nothing is plugged in part.
 */
static bool sim_check_subblocks(struct kunit *test, struct vmem_sim *sim)
{
	struct vmem_engine *e = sim->e;
	u64 sb = sim->p.e.sb_size, top = vmem_sim_mb_addr(sim, sim->nr_mbs);
	u64 lo = min(vmem_sim_block(sim, sim->first_mb), sim->nr_blocks);
	u64 hi = min(vmem_sim_block(sim, top), sim->nr_blocks), i, a;
	u64 nr = sim->nr_mbs * (sim->p.e.mb_size / sb);
	bool ok = true, dev, book;

	SIM_EXPECT(find_next_bit(sim->dev_plugged, lo, 0) >= lo &&
		   find_next_bit(sim->dev_plugged, sim->nr_blocks, hi) >=
		   sim->nr_blocks,
		   "memory outside the whole blocks is plugged");
	for (i = 0, a = sim->first_mb; i < nr && ok; i++, a += sb) {
		dev = vmem_sim_dev_plugged(sim, a, sb, true);
		book = test_bit(i, e->sb_plugged);
		SIM_EXPECT(dev || !vmem_sim_dev_plugged(sim, a, sb, false),
			   "subblock %#llx is partly plugged", a);
		SIM_EXPECT(book == dev, "%#llx: device says %splugged, the books %splugged",
			   a, dev ? "" : "un", book ? "" : "un");
	}
	return ok;
}

/*
 * Per granule: the page model and the books agree. Unplugged memory is
 * fake-offline in the books (so onlining keeps it away from Linux) and
 * never Linux's; a granule of an online Linux memory block is held by
 * exactly one side, and the books know which; plugged memory of an online
 * block is Linux's unless a release waits for a transition to end.
 */
static bool sim_check_granules(struct kunit *test, struct vmem_sim *sim)
{
	struct vmem_engine *e = sim->e;
	bool ok = true, dev, online, still, off, ours, settle;
	u64 g, a, lmb, held = 0;

	settle = READ_ONCE(e->settle);
	for (g = 0; g < sim->nr_grans && ok; g++) {
		a = vmem_sim_gran_addr(sim, g);
		lmb = g / vmem_sim_grans_per_lmb(sim);
		dev = vmem_sim_dev_plugged(sim, a, sim->gran, true);
		online = vmem_sim_lmb_online(sim, lmb);
		still = !test_bit(lmb, sim->moving);
		off = test_bit(g, e->g_offline);
		ours = sim->gst[g] == VMEM_G_KEPT ||
		       sim->gst[g] == VMEM_G_TAKEN;
		held += sim->gst[g] == VMEM_G_LINUX;
		SIM_EXPECT(dev || off, "%#llx is unplugged but not fake-offline in the books",
			   a);
		SIM_EXPECT(dev || sim->gst[g] != VMEM_G_LINUX,
			   "%#llx is unplugged and Linux's", a);
		if (!still)
			continue;
		SIM_EXPECT(online == (sim->gst[g] != VMEM_G_NONE),
			   "%#llx: block %sonline, granule state %u", a,
			   online ? "" : "not ", sim->gst[g]);
		if (!online || sim->gst[g] == VMEM_G_MEMMAP)
			continue;
		SIM_EXPECT(off == ours, "%#llx: books say %sfake-offline, pages are %s",
			   a, off ? "" : "not ", ours ? "the driver's" : "Linux's");
		SIM_EXPECT(test_bit(g, e->g_taken) ==
			   (sim->gst[g] == VMEM_G_TAKEN),
			   "%#llx: books and pages disagree on taken", a);
		/* A broken device may have unplugged them: they stay ours. */
		SIM_EXPECT(!dev || !ours || settle || e->broken,
			   "%#llx is plugged in an online block but the driver's (leaked)",
			   a);
	}
	if (ok && bitmap_empty(sim->moving, sim->nr_lmbs))
		SIM_EXPECT(sim->managed == held,
			   "managed count %lld, Linux holds %llu granules",
			   sim->managed, held);
	return ok;
}

static bool sim_check_result(struct kunit *test, struct vmem_sim *sim,
			     u64 target)
{
	struct vmem_engine *e = sim->e;
	bool ok = true;

	if (!sim->nr_runs)
		return true;
	if (sim->last == VMEM_RUN_DONE) {
		SIM_EXPECT(e->plugged == target,
			   "DONE with %llu plugged, target %llu", e->plugged,
			   target);
		return ok;
	}
	SIM_EXPECT(sim->last == VMEM_RUN_BROKEN ||
		   e->nr_errors > sim->errors_before,
		   "run result %d without a new reason (%s: %d; %llu errors before, %llu after)",
		   sim->last, vmem_sim_what(sim), e->last_err,
		   sim->errors_before, e->nr_errors);
	if (sim->last == VMEM_RUN_RETRY || sim->last == VMEM_RUN_WAIT_ONLINE)
		SIM_EXPECT(e->retry_ms >= VMEM_RETRY_MIN_MS &&
			   e->retry_ms <= VMEM_RETRY_MAX_MS,
			   "run result %d with retry_ms %u", sim->last,
			   e->retry_ms);
	if (sim->last == VMEM_RUN_WAIT_CONFIG)
		SIM_EXPECT(e->plugged != target,
			   "waits for a config change with the target reached");
	return ok;
}

/**
 * vmem_sim_check() - the invariants, after a step
 * @test: the test, failures are reported on it
 * @sim: the sim, the engine's run lock not held
 *
 * No rule broken; the books match the device block by block and the page
 * model granule by granule; the managed count is Linux's; the engine's
 * view of each block is Linux's; the last run reached the target or gave
 * a new reason why not.
 *
 * Return: whether all hold.
 */
bool vmem_sim_check(struct kunit *test, struct vmem_sim *sim)
{
	struct vmem_engine *e = sim->e;
	u64 sb = sim->p.e.sb_size, target, mb, w;
	bool ok = true;

	if (mutex_is_locked(&e->lock)) {
		KUNIT_FAIL(test, "%s: the engine's run lock is held after a step",
			   sim->desc);
		return false;
	}
	SIM_EXPECT(!sim->violations, "%u rule violation(s), the first: %s",
		   sim->violations, sim->violation);
	SIM_EXPECT(e->first_mb == sim->first_mb && e->nr_mbs == sim->nr_mbs,
		   "engine uses %llu blocks from %#llx, the region has %llu from %#llx",
		   e->nr_mbs, e->first_mb, sim->nr_mbs, sim->first_mb);
	SIM_EXPECT(e->sbs_per_mb * sb == sim->p.e.mb_size,
		   "%u subblocks per block", e->sbs_per_mb);
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
		ok = sim_check_subblocks(test, sim);
	if (ok)
		ok = sim_check_granules(test, sim);
	for (mb = 0; mb < sim->nr_mbs && ok; mb++) {
		SIM_EXPECT(e->mb_state[mb] == sim_mb_state(sim, mb),
			   "block %llu: engine state %u, Linux state %u",
			   mb, e->mb_state[mb], sim_mb_state(sim, mb));
		SIM_EXPECT(sim->last != VMEM_RUN_DONE || !sim->nr_runs ||
			   !test_bit(mb, sim->added) ||
			   vmem_sim_mb_moving(sim, mb) ||
			   vmem_sim_dev_plugged(sim, vmem_sim_mb_addr(sim, mb),
						sim->p.e.mb_size, false),
			   "block %llu is added and empty after DONE", mb);
	}
	target = vmem_sim_target(sim);
	SIM_EXPECT(vmem_books_target(e, e->cfg_requested, e->cfg_usable) ==
		   target, "the engine's target %llu, expected %llu",
		   vmem_books_target(e, e->cfg_requested, e->cfg_usable),
		   target);
	if (ok)
		ok = sim_check_result(test, sim, target);
	SIM_EXPECT(e->broken == (sim->nr_runs && sim->last == VMEM_RUN_BROKEN),
		   "broken %d, last run result %d", e->broken, sim->last);
	SIM_EXPECT(bitmap_equal(e->mb_memmap, sim->mb_memmap, sim->nr_mbs),
		   "the books and Linux disagree on which blocks carry their memmap");
	mutex_unlock(&e->lock);
	return ok;
}
