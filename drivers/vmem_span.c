// SPDX-License-Identifier: GPL-2.0
/*
 * Whole online blocks an unplug takes back together. Pure code, like the
 * rest of the engine; every function runs with e->lock held.
 *
 * A shrink that needs k whole blocks used to take them back one at a
 * time, highest address first. Under load every block holds used pages,
 * and the ones migrated out of a block could land in the next block to
 * go, and move again. Here the engine picks the run of adjacent blocks
 * that holds the fewest used pages (the glue counts them: free pages per
 * block are what the kernel already shows), checks the free-memory
 * reserve for the run as a whole, and takes it back with one page->take.
 * Linux isolates the whole run before it migrates anything, so each used
 * page moves once, to memory outside the run. The plan then removes the
 * run's blocks one by one; they hold nothing Linux uses any more.
 *
 * Candidates: online in ZONE_MOVABLE (one zone, as one isolation needs),
 * every subblock plugged and none fake-offline, no memmap on them (the
 * memmap cannot be taken), the device not refusing them, inside the
 * usable region. If the take fails (a page that does not migrate), the
 * pages it moved stay moved, and the plan goes block by block until the
 * next target. If the target rises meanwhile, the blocks no longer
 * needed are handed back (vmem_span_fit()).
 */
#include <linux/bitmap.h>
#include <linux/errno.h>
#include <linux/kernel.h>
#include <linux/lockdep.h>
#include <linux/math64.h>
#include <linux/slab.h>

#include "vmem_engine_internal.h"

static bool span_candidate(const struct vmem_engine *e, u64 mb)
{
	unsigned long g = g_bit(e, mb, 0);
	unsigned long end = g_bit(e, mb + 1, 0);

	return mb_state(e, mb) == VMEM_MB_MOVABLE &&
	       mb_plugged_sbs(e, mb) == e->sbs_per_mb &&
	       !test_bit(mb, e->mb_memmap) && !mb_moving(e, mb) &&
	       e->mb_errors[mb] < VMEM_REFUSED_AFTER &&
	       mb_addr(e, mb + 1) <= e->p.addr + e->usable &&
	       find_next_bit(e->g_offline, end, g) >= end;
}

/**
 * vmem_span_next() - the next block of the taken run to remove
 * @e: the engine, e->lock held
 *
 * Return: the highest block of the run that is still added, or
 * VMEM_SPAN_NONE (the run is then forgotten).
 */
u64 vmem_span_next(struct vmem_engine *e)
{
	u64 mb;

	lockdep_assert_held(&e->lock);
	for (mb = e->span_mb + e->span_nr; mb-- > e->span_mb;)
		if (mb_state(e, mb) != VMEM_MB_UNUSED)
			return mb;
	e->span_nr = 0;
	return VMEM_SPAN_NONE;
}

/*
 * The cheapest run of @len adjacent candidates by @cost (VMEM_SPAN_NONE
 * where a block is no candidate): its first block, or VMEM_SPAN_NONE.
 */
static u64 span_cheapest(const struct vmem_engine *e, const u64 *cost,
			 u64 len)
{
	u64 mb, run = 0, sum = 0, best = VMEM_SPAN_NONE, best_sum = U64_MAX;

	for (mb = 0; mb < e->nr_mbs; mb++) {
		if (cost[mb] == VMEM_SPAN_NONE) {
			run = 0;
			sum = 0;
			continue;
		}
		sum += cost[mb];
		if (++run > len)
			sum -= cost[mb - len];
		/* Ties go to the higher run, as the plan's order does. */
		if (run >= len && sum <= best_sum) {
			best = mb + 1 - len;
			best_sum = sum;
		}
	}
	return best;
}

/* The longest run of adjacent candidates, at most @max. */
static u64 span_longest(const struct vmem_engine *e, const u64 *cost, u64 max)
{
	u64 mb, run = 0, longest = 0;

	for (mb = 0; mb < e->nr_mbs && longest < max; mb++) {
		run = cost[mb] == VMEM_SPAN_NONE ? 0 : run + 1;
		longest = max(longest, run);
	}
	return min(longest, max);
}

/**
 * vmem_span_take() - take back the cheapest run of whole online blocks
 * @e: the engine, e->lock held, unplug_online on, Sub-Block Mode
 * @excess: bytes plugged above the target
 *
 * Return: the blocks taken back (e->span_mb, e->span_nr), or 0 if there
 * was no run to take or the take failed (the failure is recorded).
 */
u64 vmem_span_take(struct vmem_engine *e, u64 excess)
{
	u64 want = div64_u64(excess, e->p.mb_size), len, mb;
	u64 *cost;
	int rc;

	lockdep_assert_held(&e->lock);
	if (!want || e->span_failed || e->p.bbm)
		return 0;
	cost = kmalloc_array(e->nr_mbs, sizeof(*cost), GFP_KERNEL);
	if (!cost)
		return 0;	/* the plan goes block by block */
	for (mb = 0; mb < e->nr_mbs; mb++)
		cost[mb] = span_candidate(e, mb) ?
			   e->mm->range_used(e->mm_priv, mb_addr(e, mb),
					     e->p.mb_size) : VMEM_SPAN_NONE;
	rc = -ENOSPC;
	/* Shorter runs while the whole one would eat into the reserve. */
	for (len = span_longest(e, cost, want); len; len--) {
		mb = span_cheapest(e, cost, len);
		rc = e->mm->may_take(e->mm_priv, mb_addr(e, mb),
				     len * e->p.mb_size);
		if (rc != -ENOSPC)
			break;
	}
	kfree(cost);
	if (!len || rc)
		return 0;	/* the plan meets the reserve and says so */
	rc = vmem_books_take_span(e, mb, len);
	if (rc) {
		e->span_failed = true;
		vmem_err(e, rc, VMEM_WHAT_FAKE_OFFLINE);
		return 0;
	}
	e->span_mb = mb;
	e->span_nr = len;
	return len;
}

/**
 * vmem_span_fit() - hand back the blocks of the run no longer needed
 * @e: the engine, e->lock held
 * @excess: bytes plugged above the target now (0 if none)
 *
 * A target that rose while a run waited to be removed: its blocks beyond
 * the whole blocks of @excess go back to Linux, the highest last.
 */
void vmem_span_fit(struct vmem_engine *e, u64 excess)
{
	u64 need = div64_u64(excess, e->p.mb_size), mb, end, left = 0;

	lockdep_assert_held(&e->lock);
	if (!e->span_nr)
		return;
	end = e->span_mb + e->span_nr;
	for (mb = e->span_mb; mb < end; mb++)
		if (mb_state(e, mb) != VMEM_MB_UNUSED)
			left++;
	/* The plan removes the highest first: the lowest go back. */
	for (mb = e->span_mb; left > need && mb < end; mb++) {
		if (mb_state(e, mb) == VMEM_MB_UNUSED)
			continue;
		vmem_books_release(e, mb, 0, e->sbs_per_mb);
		left--;
	}
	e->span_mb = mb;
	e->span_nr = left ? end - mb : 0;
}

/**
 * vmem_span_drop() - a block of the run could not be removed
 * @e: the engine, e->lock held
 *
 * What is left of the run goes back to Linux, and the unplug goes block
 * by block until the next target.
 */
void vmem_span_drop(struct vmem_engine *e)
{
	vmem_span_fit(e, 0);
	e->span_failed = true;
}
