// SPDX-License-Identifier: GPL-2.0
/*
 * The engine's planning: which subblocks to plug or unplug next, which
 * blocks to add or remove. Pure code, like the rest of the engine; see
 * vmem_engine.c for the reply table and the retry policy.
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
 * Plug or unplug subblocks [@sb, @sb + @nr) of @mb at the device, in as
 * few requests as nb_blocks allows. The books follow every ACK, so they
 * match the device even when a later request of the range fails.
 */
static int sbm_request(struct vmem_engine *e, bool plug, u64 mb,
		       unsigned int sb, unsigned int nr)
{
	unsigned int blocks_per_sb = e->p.sb_size / e->p.block_size;
	unsigned int max_sbs = VMEM_MAX_BLOCKS_PER_REQ / blocks_per_sb;
	unsigned int n, i;
	int rc;

	lockdep_assert_held(&e->lock);
	while (nr) {
		n = min(nr, max_sbs);
		e->nr_requests++;
		if (plug)
			rc = e->dev->plug(e->dev_priv, sb_addr(e, mb, sb),
					  n * blocks_per_sb);
		else
			rc = e->dev->unplug(e->dev_priv, sb_addr(e, mb, sb),
					    n * blocks_per_sb);
		rc = vmem_resp_to_errno(rc);
		if (rc == -EPROTO)
			e->broken = true;	/* for good, whatever comes next */
		if (rc)
			return vmem_err(e, rc, plug ? "plug" : "unplug");
		for (i = sb; i < sb + n; i++) {
			if (plug)
				set_bit(sb_bit(e, mb, i), e->sb_plugged);
			else
				clear_bit(sb_bit(e, mb, i), e->sb_plugged);
		}
		if (plug)
			e->plugged += (u64)n * e->p.sb_size;
		else
			e->plugged -= (u64)n * e->p.sb_size;
		e->retry_ms = 0;
		sb += n;
		nr -= n;
	}
	return 0;
}

/* Unplug every plugged subblock of @mb. */
static int sbm_unplug_all_sbs(struct vmem_engine *e, u64 mb)
{
	unsigned int sb, end;
	int rc;

	for (sb = 0; sb < e->sbs_per_mb; sb = end) {
		if (!sb_plugged(e, mb, sb)) {
			end = sb + 1;
			continue;
		}
		for (end = sb + 1; end < e->sbs_per_mb; end++)
			if (!sb_plugged(e, mb, end))
				break;
		rc = sbm_request(e, false, mb, sb, end - sb);
		if (rc)
			return rc;
	}
	return 0;
}

/*
 * The mm ops that add or remove memory fire memory notifier events,
 * which take e->lock: they are called with the lock dropped, and the
 * caller revalidates afterwards.
 */
static int sbm_add_mb(struct vmem_engine *e, u64 mb, bool memmap)
{
	int rc;

	lockdep_assert_held(&e->lock);
	mutex_unlock(&e->lock);
	rc = e->mm->add(e->mm_priv, mb_addr(e, mb), e->p.mb_size, memmap);
	mutex_lock(&e->lock);
	return rc;
}

/* Memmap bytes at the start of the added block @mb. */
static u64 mb_memmap_bytes(const struct vmem_engine *e, u64 mb)
{
	return test_bit(mb, e->mb_memmap) ?
	       e->p.memmap_size * e->lmbs_per_mb : 0;
}

/*
 * Remove the added block @mb (offline first if it is online), then
 * unplug what stayed plugged of it: its memmap subblocks, or all of it.
 */
static int sbm_remove_mb(struct vmem_engine *e, u64 mb)
{
	u64 addr = mb_addr(e, mb), memmap = mb_memmap_bytes(e, mb);
	/* Decided under the lock; the notifier may change the state. */
	bool offline = e->mb_state[mb] == VMEM_MB_OFFLINE;
	int rc;

	lockdep_assert_held(&e->lock);
	mutex_unlock(&e->lock);
	if (offline)
		rc = e->mm->remove(e->mm_priv, addr, e->p.mb_size);
	else
		rc = e->mm->offline_and_remove(e->mm_priv, addr,
					       e->p.mb_size, memmap);
	mutex_lock(&e->lock);
	if (rc)
		return vmem_err(e, rc,
				offline ? "remove" : "offline_and_remove");
	e->mb_state[mb] = VMEM_MB_UNUSED;
	clear_bit(mb, e->mb_memmap);
	return sbm_unplug_all_sbs(e, mb);
}

/*
 * Plug up to @nr free usable subblocks of the added block @mb, lowest
 * first; in an online block, hand them to the page allocator.
 * Returns the number plugged, or a negative errno if none.
 */
static int sbm_plug_into(struct vmem_engine *e, u64 mb, unsigned int nr)
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
		rc = sbm_request(e, true, mb, sb, n);
		/* A split request may fail part-way: count what got plugged. */
		for (end = sb; end < sb + n && sb_plugged(e, mb, end); end++)
			;
		if (end > sb && mb_online(e, mb))
			e->mm->fake_online(e->mm_priv, sb_addr(e, mb, sb),
					   (u64)(end - sb) * e->p.sb_size);
		done += end - sb;
		if (rc)
			return done ? done : rc;
	}
	return done;
}

static bool sbm_has_free_sb(const struct vmem_engine *e, u64 mb)
{
	unsigned int sb;

	for (sb = 0; sb < e->sbs_per_mb; sb++)
		if (!sb_plugged(e, mb, sb) && sb_usable(e, mb, sb))
			return true;
	return false;
}

/* Are the memmap subblocks of @mb (the first e->memmap_sbs) plugged? */
static bool sbm_memmap_plugged(const struct vmem_engine *e, u64 mb)
{
	unsigned long first = sb_bit(e, mb, 0);

	return find_next_zero_bit(e->sb_plugged, first + e->memmap_sbs,
				  first) >= first + e->memmap_sbs;
}

/*
 * May a new block (its memmap on it or not) be added now? Checks the
 * kernel-memory budget, and notes the answer for the state file.
 */
static int vmem_budget_check(struct vmem_engine *e, bool memmap)
{
	struct vmem_kmem k;
	u64 cost = vmem_budget_cost(e->p.mb_size, e->p.lmb_size,
				    e->p.memmap_size, e->p.kmem_other_size,
				    memmap);

	e->mm->kernel_mem(e->mm_priv, &k);
	e->budget_limited = !vmem_budget_allows(&k, cost);
	if (e->budget_limited)
		return vmem_err(e, -ENOSPC, "kernel memory for the memmap");
	return 0;
}

/*
 * Plug (unless a failed add left it plugged) and add the unused block
 * @mb. With memmap_on_memory the block carries its own memmap when it is
 * worth it: more than the memmap subblocks are needed. Returns 1 on
 * progress or a negative errno.
 */
static int sbm_add_new(struct vmem_engine *e, u64 mb, unsigned int nr)
{
	bool fresh = !mb_plugged_sbs(e, mb);
	bool memmap = e->memmap && (fresh ? e->p.bbm || nr > e->memmap_sbs :
				    sbm_memmap_plugged(e, mb));
	int rc, undo;

	rc = vmem_budget_check(e, memmap);
	if (rc)
		return rc;
	if (fresh) {
		rc = sbm_plug_into(e, mb, nr);
		if (rc <= 0)
			return rc ?: vmem_err(e, -ENOSPC, "plug");
		/* A request that failed part-way: a plain add, next time. */
		if (memmap && !sbm_memmap_plugged(e, mb))
			return vmem_err(e, -EAGAIN, "plug");
	}
	for (;;) {
		/* Offline until the notifier says otherwise, even during add. */
		e->mb_state[mb] = VMEM_MB_OFFLINE;
		if (memmap)
			set_bit(mb, e->mb_memmap);
		rc = sbm_add_mb(e, mb, memmap);
		if (!rc) {
			e->memmap_used |= memmap;
			return 1;
		}
		e->mb_state[mb] = VMEM_MB_UNUSED;
		clear_bit(mb, e->mb_memmap);
		if (!memmap || rc != -EOPNOTSUPP)
			break;
		/*
		 * Linux keeps memmaps in kernel memory: plain adds from now
		 * on, this block's at once if the budget allows it.
		 */
		e->memmap = false;
		e->memmap_refused = true;
		memmap = false;
		rc = vmem_budget_check(e, false);
		if (rc) {
			undo = sbm_unplug_all_sbs(e, mb);
			return undo ?: rc;
		}
	}
	vmem_err(e, rc, "add");
	/* Give the memory back; if that fails too, retry later. */
	undo = sbm_unplug_all_sbs(e, mb);
	if (undo)
		return undo;
	if (vmem_transient(rc))
		return vmem_err(e, rc, "add");
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
	unsigned int i;
	u64 mb;
	int rc;

	for (i = 0; i < ARRAY_SIZE(order); i++) {
		for (mb = 0; mb < e->nr_mbs; mb++) {
			if (e->mb_state[mb] != order[i] || mb_moving(e, mb) ||
			    !sbm_has_free_sb(e, mb))
				continue;
			rc = sbm_plug_into(e, mb, nr);
			if (!rc)	/* cannot happen: the block has room */
				return vmem_err(e, -ENOSPC, "plug");
			return rc < 0 ? rc : 1;
		}
	}

	/* A new block: one left plugged by a failed add comes first. */
	for (mb = 0; mb < e->nr_mbs; mb++)
		if (e->mb_state[mb] == VMEM_MB_UNUSED &&
		    !test_bit(mb, e->mb_bad) && mb_plugged_sbs(e, mb))
			break;
	if (mb == e->nr_mbs)
		for (mb = 0; mb < e->nr_mbs; mb++)
			if (e->mb_state[mb] == VMEM_MB_UNUSED &&
			    !test_bit(mb, e->mb_bad) && sbm_has_free_sb(e, mb))
				break;
	if (mb == e->nr_mbs)
		return vmem_err(e, -ENOSPC, "plug");
	if (count_mbs(e, VMEM_MB_OFFLINE) * e->p.mb_size >=
	    e->p.offline_threshold)
		return vmem_err(e, -EINPROGRESS, "waiting for onlining");
	return sbm_add_new(e, mb, nr);
}

/*
 * Subblocks of @mb an unplug of up to @nr may take now, from the top,
 * without removing the block: its plugged ones above the memmap.
 */
static unsigned int sbm_spare_sbs(const struct vmem_engine *e, u64 mb)
{
	return mb_plugged_sbs(e, mb) - mb_memmap_sbs(e, mb);
}

/*
 * Whether a shrink by up to @nr subblocks can make progress on @mb: it
 * has spare subblocks, or only its memmap is left and @nr covers it (the
 * block is then removed whole).
 */
static bool sbm_can_shrink(const struct vmem_engine *e, u64 mb,
			   unsigned int nr)
{
	unsigned int n = mb_plugged_sbs(e, mb);

	return n && (sbm_spare_sbs(e, mb) || n <= nr);
}

/*
 * Unplug up to @nr plugged subblocks of @mb from the top, where no page
 * of them is in use (not added, or offline). Removes the block once
 * nothing but its memmap is left and @nr covers that too.
 */
static int sbm_unplug_unused(struct vmem_engine *e, u64 mb, unsigned int nr)
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
		rc = sbm_request(e, false, mb, end, sb + 1 - end);
		if (rc)
			return rc;
		nr -= sb + 1 - end;
	}
	if (e->mb_state[mb] != VMEM_MB_UNUSED &&
	    mb_plugged_sbs(e, mb) == lo && (!lo || nr >= lo))
		return sbm_remove_mb(e, mb);
	return 0;
}

/*
 * Take back up to @nr plugged subblocks of the online block @mb, from the
 * top (its memmap stays), and unplug them. Returns the number unplugged,
 * or a negative errno if none could be.
 */
static int sbm_unplug_online_sbs(struct vmem_engine *e, u64 mb,
				 unsigned int nr)
{
	int lo = mb_memmap_sbs(e, mb), sb, rc = -EBUSY;
	unsigned int done = 0;
	u64 addr;

	for (sb = e->sbs_per_mb - 1; sb >= lo && done < nr; sb--) {
		if (!sb_plugged(e, mb, sb))
			continue;
		addr = sb_addr(e, mb, sb);
		rc = e->mm->fake_offline(e->mm_priv, addr, e->p.sb_size);
		if (rc) {
			vmem_err(e, rc, "fake_offline");
			continue;
		}
		rc = sbm_request(e, false, mb, sb, 1);
		if (rc) {
			e->mm->fake_online(e->mm_priv, addr, e->p.sb_size);
			break;
		}
		done++;
	}
	if (done && mb_plugged_sbs(e, mb) == lo && (!lo || nr - done >= lo))
		sbm_remove_mb(e, mb);	/* retried later if it fails */
	return done ? done : rc;
}

/*
 * Last resort of a shrink: a block holding nothing but its memmap, and
 * more of it than the excess. It is removed whole, which undershoots the
 * target; the plug step then plugs the difference elsewhere (with a
 * plain add if that is no more than a memmap). Online blocks only with
 * @online. Returns 1 on progress, 0 if there is no such block, or the
 * last error.
 */
static int sbm_remove_memmap_only(struct vmem_engine *e, bool online)
{
	int rc, ret = 0;
	u64 mb;

	for (mb = e->nr_mbs; mb-- > 0;) {
		if (e->mb_state[mb] == VMEM_MB_UNUSED || mb_moving(e, mb) ||
		    (mb_online(e, mb) && !online) ||
		    !test_bit(mb, e->mb_memmap) || sbm_spare_sbs(e, mb))
			continue;
		rc = sbm_remove_mb(e, mb);
		if (!rc)
			return 1;
		if (e->mb_state[mb] == VMEM_MB_UNUSED)
			return rc;	/* removed; its unplug failed */
		ret = rc;
	}
	return ret;
}

/*
 * Unplug toward the target, cheapest first: subblocks of blocks Linux
 * does not have, then offline blocks, then (with unplug_online) whole
 * online blocks, ZONE_MOVABLE first, then subblocks of online blocks,
 * then blocks left with only a memmap larger than the excess. Highest
 * addresses first throughout. Returns 1 on progress or a negative errno.
 */
int vmem_plan_unplug_step(struct vmem_engine *e, u64 excess)
{
	unsigned int nr = min_t(u64, excess / e->p.sb_size, e->sbs_per_mb);
	static const u8 online[] = { VMEM_MB_MOVABLE, VMEM_MB_KERNEL };
	unsigned int i, n;
	int rc = 0;
	u64 mb;

	for (mb = e->nr_mbs; mb-- > 0;) {
		if ((e->mb_state[mb] == VMEM_MB_UNUSED ||
		     e->mb_state[mb] == VMEM_MB_OFFLINE) &&
		    !mb_moving(e, mb) && sbm_can_shrink(e, mb, nr)) {
			rc = sbm_unplug_unused(e, mb, nr);
			return rc ? rc : 1;
		}
	}
	if (!e->p.unplug_online) {
		rc = sbm_remove_memmap_only(e, false);
		return rc ?: vmem_err(e, -EPERM, "unplug_online is off");
	}

	for (i = 0; i < ARRAY_SIZE(online); i++) {
		for (mb = e->nr_mbs; mb-- > 0;) {
			n = mb_plugged_sbs(e, mb);
			if (e->mb_state[mb] != online[i] || mb_moving(e, mb) ||
			    !n || n > nr)
				continue;
			rc = sbm_remove_mb(e, mb);
			if (rc) {
				if (e->mb_state[mb] == VMEM_MB_UNUSED)
					return rc;	/* removed; unplug failed */
				continue;
			}
			return 1;
		}
	}

	if (e->p.bbm)	/* gives up; the retry comes with backoff */
		return rc ? rc : vmem_err(e, -EBUSY, "offline_and_remove");
	for (i = 0; i < ARRAY_SIZE(online); i++) {
		for (mb = e->nr_mbs; mb-- > 0;) {
			if (e->mb_state[mb] != online[i] || mb_moving(e, mb) ||
			    !sbm_spare_sbs(e, mb))
				continue;
			rc = sbm_unplug_online_sbs(e, mb, nr);
			if (rc > 0)
				return 1;
			if (rc != -EBUSY && rc != -ENOMEM && rc != -ENOSPC)
				return rc;
		}
	}
	/* Nothing else moved (or only transient failures): the last resort. */
	if (!rc || rc == -EBUSY || rc == -ENOMEM || rc == -ENOSPC) {
		int last = sbm_remove_memmap_only(e, true);

		if (last)
			return last;
	}
	return rc ? rc : vmem_err(e, -EBUSY, "fake_offline");
}

/* Retry the removal of added blocks that have nothing plugged. */
int vmem_plan_remove_empty(struct vmem_engine *e)
{
	int rc, ret = 0;
	u64 mb;

	for (mb = 0; mb < e->nr_mbs; mb++) {
		if (e->mb_state[mb] == VMEM_MB_UNUSED || mb_moving(e, mb) ||
		    mb_plugged_sbs(e, mb))
			continue;
		rc = sbm_remove_mb(e, mb);
		if (rc)
			ret = rc;
	}
	return ret;
}
