// SPDX-License-Identifier: GPL-2.0
/*
 * The engine's planning: which subblocks to plug or unplug next, which
 * blocks to add or remove; vmem_block.c carries out what is chosen on
 * one block. Pure code, like the rest of the engine; see vmem_engine.c
 * for why a run stops short and vmem_call.c for the reply table. Every
 * function here runs with e->lock held; the state lock is taken only
 * inside the vmem_books_*() calls.
 *
 * Blocks added with memmap_on_memory (e->memmap) carry their memmap in
 * their first mb_memmap_sbs() subblocks. Those are plugged before the
 * add, and only unplugged after the block is removed: a shrink that
 * reaches them removes the whole block first.
 *
 * Before a new block is added, the kernel-memory budget
 * (vmem_budget.h) must allow it; when it does not, plugging stops short
 * of the target with -ENOSPC, which is polled again (VMEM_RETRY_POLL_MS)
 * as kernel memory comes and goes.
 */
#include <linux/bitmap.h>
#include <linux/errno.h>
#include <linux/kernel.h>
#include <linux/lockdep.h>
#include <linux/minmax.h>

#include "../include/vmem_budget.h"
#include "vmem_engine_internal.h"

/*
 * Plug up to @nr free usable subblocks of @mb, lowest first, and release
 * them (in an online block, their pages go to Linux). Returns the number
 * plugged, or a negative errno if none.
 */
static int mb_plug_into(struct vmem_engine *e, u64 mb, unsigned int nr)
{
	unsigned int sb, end, n, done = 0;
	int rc;

	for (sb = 0; sb < e->sbs_per_mb && done < nr; sb = end) {
		if (sb_plugged(e, mb, sb) || !sb_usable(e, mb, sb)) {
			end = sb + 1;
			continue;
		}
		for (end = sb + 1; end < e->sbs_per_mb && end - sb < nr - done;
		     end++)
			if (sb_plugged(e, mb, end) || !sb_usable(e, mb, end))
				break;
		n = end - sb;
		rc = vmem_mb_request(e, true, mb, sb, n);
		/* A split request may fail part-way: count what got plugged. */
		for (end = sb; end < sb + n && sb_plugged(e, mb, end); end++)
			;
		if (end > sb)
			vmem_books_release(e, mb, sb, end - sb);
		done += end - sb;
		if (rc)
			return done ? done : rc;
	}
	return done;
}

static bool mb_has_free_sb(const struct vmem_engine *e, u64 mb)
{
	unsigned int sb;

	for (sb = 0; sb < e->sbs_per_mb; sb++)
		if (!sb_plugged(e, mb, sb) && sb_usable(e, mb, sb))
			return true;
	return false;
}

/* Are the memmap subblocks of @mb (the first e->memmap_sbs) plugged? */
static bool mb_memmap_plugged(const struct vmem_engine *e, u64 mb)
{
	unsigned long first = sb_bit(e, mb, 0);

	return find_next_zero_bit(e->sb_plugged, first + e->memmap_sbs,
				  first) >= first + e->memmap_sbs;
}

/*
 * May a new block (its memmap on it or not) be added now? Checks the
 * kernel-memory budget, and notes the answer for the status.
 */
static int vmem_budget_check(struct vmem_engine *e, bool memmap)
{
	struct vmem_kmem k;
	u64 cost = vmem_budget_cost(e->p.mb_size, e->p.lmb_size,
				    e->p.memmap_size, e->p.kmem_other_size,
				    memmap);
	bool limited;

	e->mm->kernel_mem(e->mm_priv, &k);
	limited = !vmem_budget_allows(&k, cost);
	spin_lock(&e->state_lock);
	e->budget_limited = limited;
	spin_unlock(&e->state_lock);
	if (limited)
		return vmem_err(e, -ENOSPC, VMEM_WHAT_BUDGET);
	return 0;
}

/* Linux keeps memmaps in kernel memory: plain adds from now on. */
static void vmem_memmap_refused(struct vmem_engine *e)
{
	spin_lock(&e->state_lock);
	e->memmap = false;
	e->memmap_refused = true;
	spin_unlock(&e->state_lock);
}

/*
 * Add the block @mb, whose subblocks are plugged as they should be, with
 * its memmap on it if @memmap. A refused memmap_on_memory is retried
 * plainly at once if the budget allows it. Returns 0 or a negative errno,
 * the block not added then.
 */
static int mb_add(struct vmem_engine *e, u64 mb, bool memmap)
{
	int rc;

	for (;;) {
		vmem_books_added(e, mb, memmap);
		rc = e->mm->add(e->mm_priv, mb_addr(e, mb), e->p.mb_size,
				memmap);
		if (!rc) {
			if (memmap) {
				spin_lock(&e->state_lock);
				e->memmap_used = true;
				spin_unlock(&e->state_lock);
			}
			return 0;
		}
		vmem_books_removed(e, mb);
		if (!memmap || rc != -EOPNOTSUPP)
			return vmem_err(e, rc, VMEM_WHAT_ADD);
		vmem_memmap_refused(e);
		memmap = false;
		rc = vmem_budget_check(e, false);
		if (rc)
			return rc;
	}
}

/*
 * Plug (unless a failed add left it plugged) and add the unused block
 * @mb. With memmap_on_memory the block carries its own memmap when it is
 * worth it: more than the memmap subblocks are needed. Returns 1 on
 * progress or a negative errno.
 */
static int mb_add_new(struct vmem_engine *e, u64 mb, unsigned int nr)
{
	bool fresh = !mb_plugged_sbs(e, mb);
	bool memmap = e->memmap && (fresh ? e->p.bbm || nr > e->memmap_sbs :
				    mb_memmap_plugged(e, mb));
	int rc, undo;

	rc = vmem_budget_check(e, memmap);
	if (rc)
		return rc;
	if (fresh) {
		rc = mb_plug_into(e, mb, nr);
		if (rc <= 0)
			return rc ?: vmem_err(e, -ENOSPC, VMEM_WHAT_PLUG);
		/* A request that failed part-way: a plain add, next time. */
		if (memmap && !mb_memmap_plugged(e, mb))
			return vmem_err(e, -EAGAIN, VMEM_WHAT_PLUG);
	}
	rc = mb_add(e, mb, memmap);
	if (!rc)
		return 1;
	/* Give the memory back; if that fails too, retry later. */
	undo = vmem_mb_unplug_all_sbs(e, mb);
	if (undo)
		return undo;
	if (vmem_transient(rc))
		return rc;
	/* Linux refuses this block for good: use the others. */
	set_bit(mb, e->mb_bad);
	return 1;
}

/*
 * Plug toward the target: first into added blocks that have room (online
 * ones first, where memory is usable at once), then plug and add a new
 * block. Returns 1 on progress or a negative errno.
 */
int vmem_plan_plug_step(struct vmem_engine *e, u64 need)
{
	unsigned int nr = min_t(u64, need / e->p.sb_size, e->sbs_per_mb);
	static const u8 order[] = { VMEM_MB_MOVABLE, VMEM_MB_KERNEL,
				    VMEM_MB_OFFLINE };
	bool busy = false, refused = false;
	unsigned int i;
	u64 mb;
	int rc;

	for (i = 0; i < ARRAY_SIZE(order); i++) {
		for (mb = 0; mb < e->nr_mbs; mb++) {
			if (mb_state(e, mb) != order[i] ||
			    !mb_has_free_sb(e, mb))
				continue;
			if (vmem_mb_refused(e, mb)) {
				refused = true;
				continue;
			}
			if (vmem_books_moving(e, mb)) {
				busy = true;
				continue;
			}
			rc = mb_plug_into(e, mb, nr);
			if (!rc)	/* cannot happen: the block has room */
				return vmem_err(e, -ENOSPC, VMEM_WHAT_PLUG);
			return rc < 0 ? rc : 1;
		}
	}

	/* A new block: one left plugged by a failed add comes first. */
	for (mb = 0; mb < e->nr_mbs; mb++)
		if (mb_state(e, mb) == VMEM_MB_UNUSED &&
		    !test_bit(mb, e->mb_bad) && !vmem_mb_refused(e, mb) &&
		    mb_plugged_sbs(e, mb))
			break;
	if (mb == e->nr_mbs)
		for (mb = 0; mb < e->nr_mbs; mb++) {
			if (mb_state(e, mb) != VMEM_MB_UNUSED ||
			    test_bit(mb, e->mb_bad) || !mb_has_free_sb(e, mb))
				continue;
			if (!vmem_mb_refused(e, mb))
				break;
			refused = true;
		}
	if (mb == e->nr_mbs) {
		/* Blocks in transition may have room once they settle. */
		if (busy)
			return vmem_err(e, -EBUSY, VMEM_WHAT_BUSY_BLOCKS);
		return vmem_err(e, -ERANGE, refused ? VMEM_WHAT_REFUSED :
				VMEM_WHAT_NO_BLOCK);
	}
	if (vmem_books_count(e, VMEM_MB_OFFLINE) * e->p.mb_size >=
	    e->p.offline_threshold)
		return vmem_err(e, -EINPROGRESS, VMEM_WHAT_WAIT_ONLINE);
	return mb_add_new(e, mb, nr);
}

/*
 * Subblocks of @mb an unplug may take now, from the top, without
 * removing the block: its plugged ones above the memmap.
 */
static unsigned int mb_spare_sbs(const struct vmem_engine *e, u64 mb)
{
	return mb_plugged_sbs(e, mb) - mb_memmap_sbs(e, mb);
}

/*
 * Whether a shrink by up to @nr subblocks can make progress on @mb: it
 * has spare subblocks, or only its memmap is left and @nr covers it (the
 * block is then removed whole).
 */
static bool mb_can_shrink(const struct vmem_engine *e, u64 mb,
			  unsigned int nr)
{
	unsigned int n = mb_plugged_sbs(e, mb);

	return n && (mb_spare_sbs(e, mb) || n <= nr);
}

/*
 * Unplug up to @nr plugged subblocks of @mb from the top, where no page
 * of them is in use (not added, or offline). Removes the block once
 * nothing but its memmap is left and @nr covers that too.
 */
static int mb_unplug_unused(struct vmem_engine *e, u64 mb, unsigned int nr)
{
	int lo = mb_memmap_sbs(e, mb), sb, end, rc;

	for (sb = e->sbs_per_mb - 1; sb >= lo && nr; sb = end - 1) {
		if (!sb_plugged(e, mb, sb)) {
			end = sb;
			continue;
		}
		for (end = sb; end > lo && sb + 1 - end < nr; end--)
			if (!sb_plugged(e, mb, end - 1))
				break;
		rc = vmem_mb_unplug_idle(e, mb, end, sb + 1 - end);
		if (rc)
			return rc;
		nr -= sb + 1 - end;
	}
	if (mb_state(e, mb) != VMEM_MB_UNUSED &&
	    mb_plugged_sbs(e, mb) == lo && (!lo || nr >= lo))
		return vmem_mb_remove(e, mb);
	return 0;
}

/*
 * Take back up to @nr plugged subblocks of the online block @mb, from the
 * top (its memmap stays), and unplug them; a failed request hands them
 * back. Returns the number unplugged, or a negative errno if none could
 * be.
 */
static int mb_unplug_online_sbs(struct vmem_engine *e, u64 mb,
				unsigned int nr)
{
	int lo = mb_memmap_sbs(e, mb), sb, rc = -EBUSY;
	unsigned int done = 0;

	for (sb = e->sbs_per_mb - 1; sb >= lo && done < nr; sb--) {
		if (!sb_plugged(e, mb, sb) ||
		    test_bit(g_bit(e, mb, sb), e->g_offline))
			continue;
		rc = e->mm->may_take(e->mm_priv, sb_addr(e, mb, sb),
				     e->p.sb_size);
		if (!rc)
			rc = vmem_books_take(e, mb, sb, 1);
		if (rc) {
			vmem_err(e, rc, VMEM_WHAT_FAKE_OFFLINE);
			if (rc == -EBUSY && vmem_books_moving(e, mb))
				break;
			continue;
		}
		rc = vmem_mb_request(e, false, mb, sb, 1);
		if (rc) {
			/* -EPROTO: unknown whether it is plugged; keep it. */
			if (rc != -EPROTO)
				vmem_books_release(e, mb, sb, 1);
			break;
		}
		done++;
	}
	if (done && mb_plugged_sbs(e, mb) == lo && (!lo || nr - done >= lo))
		vmem_mb_remove(e, mb);	/* retried later if it fails */
	if (!done && rc == -EBUSY)	/* nothing could be taken */
		vmem_err(e, rc, VMEM_WHAT_FAKE_OFFLINE);
	return done ? done : rc;
}

/*
 * Whether the plugged subblock @sb of the online block @mb is still
 * Linux's and looks free: taking it back migrates nothing.
 */
static bool sb_looks_free(const struct vmem_engine *e, u64 mb,
			  unsigned int sb)
{
	return sb_plugged(e, mb, sb) &&
	       !test_bit(g_bit(e, mb, sb), e->g_offline) &&
	       e->mm->range_idle(e->mm_priv, sb_addr(e, mb, sb), e->p.sb_size);
}

/*
 * Take back up to @nr plugged subblocks of the online block @mb that look
 * free, from the top, a run at a time (one page->take, one request), and
 * unplug them: memory the guest uses elsewhere stays where it is, and
 * nothing migrates. A failed request hands the run back. Returns the
 * number unplugged, 0 if none looked free, or a negative errno if the
 * first run could not be taken or unplugged.
 */
static int mb_unplug_free_sbs(struct vmem_engine *e, u64 mb, unsigned int nr)
{
	int lo = mb_memmap_sbs(e, mb), sb, end, rc = 0;
	unsigned int done = 0, n;

	for (sb = e->sbs_per_mb - 1; sb >= lo && done < nr; sb = end - 1) {
		end = sb;
		if (!sb_looks_free(e, mb, sb))
			continue;
		for (; end > lo && sb + 1 - end < nr - done; end--)
			if (!sb_looks_free(e, mb, end - 1))
				break;
		n = sb + 1 - end;
		rc = e->mm->may_take(e->mm_priv, sb_addr(e, mb, end),
				     (u64)n * e->p.sb_size);
		if (!rc)
			rc = vmem_books_take(e, mb, end, n);
		if (rc) {
			vmem_err(e, rc, VMEM_WHAT_FAKE_OFFLINE);
			break;
		}
		rc = vmem_mb_request(e, false, mb, end, n);
		if (rc) {
			/* -EPROTO: unknown whether it is plugged; keep it. */
			if (rc != -EPROTO)
				vmem_books_release(e, mb, end, n);
			break;
		}
		done += n;
	}
	if (done && mb_plugged_sbs(e, mb) == lo && (!lo || nr - done >= lo))
		vmem_mb_remove(e, mb);	/* retried later if it fails */
	return done ? done : rc;
}

/*
 * Whether the plugged subblocks of online blocks that look free cover at
 * least half of @excess: they then go first. A shrink they cover whole
 * migrates nothing; one they cover mostly migrates the rest, and that
 * lands outside what goes, as no free memory is left there. Below half,
 * migration dominates and taking the free subblocks apart first (a
 * page->take each) costs more than it saves: alloc_contig_range() drains
 * the lists of every CPU before it starts, about 2 ms a call on a 2-vCPU
 * TCG guest, and the rest of the excess is rarely a sum of whole blocks,
 * so it goes a subblock at a time. Whole blocks then go first, each in
 * one take. (bench --profile, 6.1: covering the whole excess only, a
 * shrink that free memory fell short of by one subblock migrated 235,000
 * pages; free subblocks always first, four blocks with one free subblock
 * each took 67 takes where 2 do.)
 */
static bool free_first(struct vmem_engine *e, u64 excess)
{
	u64 need = DIV_ROUND_UP(excess / e->p.sb_size, 2), n = 0, mb;
	enum vmem_what why;
	unsigned int sb;

	for (mb = 0; mb < e->nr_mbs && n < need; mb++) {
		if (!mb_online(e, mb) || vmem_mb_unplug_skip(e, mb, &why) ||
		    vmem_books_moving(e, mb))
			continue;
		for (sb = mb_memmap_sbs(e, mb);
		     sb < e->sbs_per_mb && n < need; sb++)
			n += sb_looks_free(e, mb, sb);
	}
	return need && n >= need;
}

/*
 * Remove one whole online block whose plugged subblocks fit in @nr,
 * ZONE_MOVABLE first, highest first; with @idle only one that looks
 * idle. Returns 1 on progress, a negative errno if a block was removed
 * but its unplug failed, else 0 with the last failure in @last (left
 * alone if no block was tried); @why notes a block skipped for a reason
 * of the device's.
 */
static int unplug_whole_online(struct vmem_engine *e, unsigned int nr,
			       bool idle, enum vmem_what *why, int *last)
{
	static const u8 online[] = { VMEM_MB_MOVABLE, VMEM_MB_KERNEL };
	unsigned int i, n;
	int rc;
	u64 mb;

	for (i = 0; i < ARRAY_SIZE(online); i++) {
		for (mb = e->nr_mbs; mb-- > 0;) {
			n = mb_plugged_sbs(e, mb);
			if (mb_state(e, mb) != online[i] || !n || n > nr ||
			    vmem_mb_unplug_skip(e, mb, why) ||
			    vmem_books_moving(e, mb) ||
			    (idle && !vmem_mb_looks_idle(e, mb)))
				continue;
			rc = vmem_mb_remove(e, mb);
			if (!rc)
				return 1;
			if (mb_state(e, mb) == VMEM_MB_UNUSED)
				return rc;	/* removed; unplug failed */
			*last = rc;
		}
	}
	return 0;
}

/*
 * Last resort of a shrink: a block holding nothing but its memmap, and
 * more of it than the excess. It is removed whole, which undershoots the
 * target; the plug step then plugs the difference elsewhere (with a
 * plain add if that is no more than a memmap). Online blocks only with
 * @online. A block the device keeps (refused, or plugged beyond the
 * usable region) is left alone, noted in @why: its removal would send
 * an unplug outside the usable region. Returns 1 on progress, 0 if there
 * is no such block, or the last error.
 */
static int mb_remove_memmap_only(struct vmem_engine *e, bool online,
				 enum vmem_what *why)
{
	int rc, ret = 0;
	u64 mb;

	for (mb = e->nr_mbs; mb-- > 0;) {
		if (mb_state(e, mb) == VMEM_MB_UNUSED ||
		    (mb_online(e, mb) && !online) ||
		    !test_bit(mb, e->mb_memmap) || mb_spare_sbs(e, mb) ||
		    vmem_mb_unplug_skip(e, mb, why))
			continue;
		rc = vmem_mb_remove(e, mb);
		if (!rc)
			return 1;
		if (mb_state(e, mb) == VMEM_MB_UNUSED)
			return rc;	/* removed; its unplug failed */
		ret = rc;
	}
	return ret;
}

/*
 * Unplug toward the target, cheapest first: subblocks of blocks Linux
 * does not have, then offline blocks; then (with unplug_online) what
 * migrates nothing: whole online blocks that look idle, then in SBM the
 * subblocks of online blocks that look free; only then what migrates:
 * whole online blocks, then subblocks of online blocks; last, blocks
 * left with only a memmap larger than the excess. ZONE_MOVABLE before
 * kernel zones, highest addresses first throughout. The free subblocks
 * go first only when they cover at least half of the excess (see
 * free_first()). Returns 1 on progress or a negative errno.
 */
int vmem_plan_unplug_step(struct vmem_engine *e, u64 excess)
{
	unsigned int nr = min_t(u64, excess / e->p.sb_size, e->sbs_per_mb);
	static const u8 online[] = { VMEM_MB_MOVABLE, VMEM_MB_KERNEL };
	enum vmem_what why = VMEM_WHAT_NONE;
	enum vmem_mb_state s;
	unsigned int i;
	int rc = 0, last = 0;
	bool free;
	u64 mb;

	for (mb = e->nr_mbs; mb-- > 0;) {
		s = mb_state(e, mb);
		if ((s == VMEM_MB_UNUSED || s == VMEM_MB_OFFLINE) &&
		    mb_can_shrink(e, mb, nr) &&
		    !vmem_mb_unplug_skip(e, mb, &why) &&
		    !vmem_books_moving(e, mb)) {
			rc = mb_unplug_unused(e, mb, nr);
			return rc ? rc : 1;
		}
	}
	if (!e->unplug_online) {
		rc = mb_remove_memmap_only(e, false, &why);
		if (rc)
			return rc;
		if (why != VMEM_WHAT_NONE)
			return vmem_err(e, -ERANGE, why);
		return vmem_err(e, -EPERM, VMEM_WHAT_UNPLUG_ONLINE_OFF);
	}

	rc = unplug_whole_online(e, nr, true, &why, &last);
	if (rc)
		return rc;
	free = !e->p.bbm && free_first(e, excess);
	for (i = 0; free && i < ARRAY_SIZE(online); i++) {
		for (mb = e->nr_mbs; mb-- > 0;) {
			if (mb_state(e, mb) != online[i] ||
			    !mb_spare_sbs(e, mb) ||
			    vmem_mb_unplug_skip(e, mb, &why) ||
			    vmem_books_moving(e, mb))
				continue;
			rc = mb_unplug_free_sbs(e, mb, nr);
			if (rc > 0)
				return 1;
			if (rc && !vmem_block_failure(rc))
				return rc;
		}
	}
	rc = unplug_whole_online(e, nr, false, &why, &last);
	if (rc)
		return rc;
	rc = last;

	if (e->p.bbm) {	/* gives up; the retry comes with backoff */
		if (!rc && why != VMEM_WHAT_NONE)
			return vmem_err(e, -ERANGE, why);
		return rc ? rc : vmem_err(e, -EBUSY,
					  VMEM_WHAT_OFFLINE_AND_REMOVE);
	}
	for (i = 0; i < ARRAY_SIZE(online); i++) {
		for (mb = e->nr_mbs; mb-- > 0;) {
			if (mb_state(e, mb) != online[i] ||
			    !mb_spare_sbs(e, mb) || vmem_mb_unplug_skip(e, mb, &why) ||
			    vmem_books_moving(e, mb))
				continue;
			rc = mb_unplug_online_sbs(e, mb, nr);
			if (rc > 0)
				return 1;
			if (!vmem_block_failure(rc))
				return rc;
		}
	}
	/* Nothing else moved (or only transient failures): the last resort. */
	if (!rc || vmem_block_failure(rc)) {
		int last = mb_remove_memmap_only(e, true, &why);

		if (last)
			return last;
	}
	if (!rc && why != VMEM_WHAT_NONE)
		return vmem_err(e, -ERANGE, why);
	return rc ? rc : vmem_err(e, -EBUSY, VMEM_WHAT_FAKE_OFFLINE);
}

/* Retry the removal of added blocks that have nothing plugged. */
int vmem_plan_remove_empty(struct vmem_engine *e)
{
	int rc, ret = 0;
	u64 mb;

	for (mb = 0; mb < e->nr_mbs; mb++) {
		if (mb_state(e, mb) == VMEM_MB_UNUSED ||
		    mb_plugged_sbs(e, mb) || vmem_books_moving(e, mb))
			continue;
		rc = vmem_mb_remove(e, mb);
		if (rc)
			ret = rc;
	}
	return ret;
}

/**
 * vmem_plan_remove_offline() - remove every offline block, plugged or not
 * @e: the engine, e->lock held, in its teardown
 *
 * Return: 0, or the last removal's error (the block stays added).
 */
int vmem_plan_remove_offline(struct vmem_engine *e)
{
	int rc, ret = 0;
	u64 mb;

	lockdep_assert_held(&e->lock);
	for (mb = 0; mb < e->nr_mbs; mb++) {
		if (mb_state(e, mb) != VMEM_MB_OFFLINE ||
		    vmem_books_moving(e, mb))
			continue;
		rc = e->mm->remove(e->mm_priv, mb_addr(e, mb), e->p.mb_size);
		if (rc) {
			ret = vmem_err(e, rc, VMEM_WHAT_REMOVE);
			continue;
		}
		vmem_books_removed(e, mb);
	}
	return ret;
}
