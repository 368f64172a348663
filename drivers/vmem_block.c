// SPDX-License-Identifier: GPL-2.0
/*
 * What the engine does to one block: plug or unplug its subblocks at the
 * device, take its pages back, offline and remove it. Pure code, like the
 * rest of the engine: the planning (vmem_plan.c) chooses the block, this
 * file carries the step out. Every function here runs with e->lock held;
 * the state lock is taken only inside the vmem_books_*() calls.
 */
#include <linux/bitmap.h>
#include <linux/errno.h>
#include <linux/kernel.h>
#include <linux/lockdep.h>
#include <linux/minmax.h>
#include <linux/slab.h>
#include <linux/virtio_mem.h>

#include "vmem_engine_internal.h"

/*
 * Plug or unplug subblocks [@sb, @sb + @nr) of @mb at the device, in as
 * few requests as nb_blocks allows. The books follow every ACK, so they
 * match the device even when a later request of the range fails.
 */
int vmem_mb_request(struct vmem_engine *e, bool plug, u64 mb,
		    unsigned int sb, unsigned int nr)
{
	unsigned int blocks_per_sb = e->p.sb_size / e->p.block_size;
	unsigned int max_sbs = VMEM_MAX_BLOCKS_PER_REQ / blocks_per_sb;
	unsigned int n;
	int rc;

	lockdep_assert_held(&e->lock);
	while (nr) {
		n = min(nr, max_sbs);
		rc = vmem_call(e, plug ? VIRTIO_MEM_REQ_PLUG :
			       VIRTIO_MEM_REQ_UNPLUG, sb_addr(e, mb, sb),
			       n * blocks_per_sb, NULL);
		if (rc == -EREMOTEIO && e->mb_errors[mb] < U8_MAX)
			e->mb_errors[mb]++;
		if (rc)
			return rc;
		e->mb_errors[mb] = 0;
		vmem_books_set_plugged(e, mb, sb, n, plug);
		e->retry_ms = 0;
		sb += n;
		nr -= n;
	}
	return 0;
}

/* The device keeps answering ERROR for @mb: leave it until a new target. */
bool vmem_mb_refused(const struct vmem_engine *e, u64 mb)
{
	return e->mb_errors[mb] >= VMEM_REFUSED_AFTER;
}

/* Plugged subblocks of @mb lie beyond the usable region: no request there. */
static bool mb_beyond_usable(const struct vmem_engine *e, u64 mb)
{
	unsigned int sb;

	for (sb = e->sbs_per_mb; sb-- > 0;) {
		if (sb_usable(e, mb, sb))
			return false;
		if (sb_plugged(e, mb, sb))
			return true;
	}
	return false;
}

/*
 * Whether an unplug must leave @mb alone; notes in *@why what keeps it,
 * for the reason the step gives if nothing else can move.
 */
bool vmem_mb_unplug_skip(const struct vmem_engine *e, u64 mb,
			 enum vmem_what *why)
{
	if (vmem_mb_refused(e, mb)) {
		*why = VMEM_WHAT_REFUSED;
		return true;
	}
	if (mb_beyond_usable(e, mb)) {
		*why = VMEM_WHAT_BEYOND_USABLE;
		return true;
	}
	return false;
}

/*
 * Unplug the plugged subblocks [@sb, @sb + @nr) of @mb, which is not
 * online (not added, or offline): no page of them is in use. They are
 * made fake-offline first, so that onlining keeps them from Linux should
 * the block come online meanwhile; a failed request releases them again.
 */
int vmem_mb_unplug_idle(struct vmem_engine *e, u64 mb, unsigned int sb,
			unsigned int nr)
{
	int rc = vmem_books_claim(e, mb, sb, nr);

	if (rc)
		return vmem_err(e, rc, VMEM_WHAT_BUSY_BLOCKS);
	rc = vmem_mb_request(e, false, mb, sb, nr);
	/* After -EPROTO the device's state is unknown: they stay ours. */
	if (rc && rc != -EPROTO)
		vmem_books_release(e, mb, sb, nr);
	return rc;
}

/* Unplug every plugged subblock of @mb, which is not added. */
int vmem_mb_unplug_all_sbs(struct vmem_engine *e, u64 mb)
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
		rc = vmem_mb_unplug_idle(e, mb, sb, end - sb);
		if (rc)
			return rc;
	}
	return 0;
}

/*
 * Take the plugged subblocks of the online block @mb that are still
 * Linux's back (all but the memmap), one page->take per run; note in
 * @taken what this call took. Stops at the first failure.
 */
static int mb_take_all(struct vmem_engine *e, u64 mb, unsigned long *taken)
{
	unsigned int sb, end;
	int rc;

	for (sb = 0; sb < e->sbs_per_mb; sb = end) {
		end = sb + 1;
		if (!sb_plugged(e, mb, sb) ||
		    test_bit(g_bit(e, mb, sb), e->g_offline))
			continue;
		for (; end < e->sbs_per_mb; end++)
			if (!sb_plugged(e, mb, end) ||
			    test_bit(g_bit(e, mb, end), e->g_offline))
				break;
		rc = vmem_books_take(e, mb, sb, end - sb);
		if (rc)
			return rc;
		bitmap_set(taken, sb, end - sb);
	}
	return 0;
}

/*
 * Whether every plugged page of the online block @mb looks free or
 * fake-offline (a racy look): removing it whole migrates nothing.
 */
bool vmem_mb_looks_idle(const struct vmem_engine *e, u64 mb)
{
	u64 memmap = mb_memmap_bytes(e, mb);

	return e->mm->range_idle(e->mm_priv, mb_addr(e, mb) + memmap,
				 e->p.mb_size - memmap);
}

/*
 * Offline and remove the online block @mb. Offlining in 6.1 retries
 * migration until it succeeds, so one page that never migrates could
 * make it loop for ever: the engine offlines only blocks with nothing to
 * migrate. A block that looks idle (every page free or fake-offline) is
 * offlined directly, which skips taking each page; any other has its
 * pages taken back first (page->take gives up instead of looping). The
 * glue checks again at MEM_GOING_OFFLINE, under isolation, and vetoes
 * the offline if a page is in use after all; what was taken is then
 * handed back.
 */
static int mb_offline_and_remove(struct vmem_engine *e, u64 mb)
{
	u64 addr = mb_addr(e, mb), size = e->p.mb_size;
	u64 memmap = mb_memmap_bytes(e, mb);
	unsigned long *taken;
	unsigned int sb;
	bool direct;
	int rc;

	rc = e->mm->may_take(e->mm_priv, addr + memmap, size - memmap);
	if (rc)
		return vmem_err(e, rc, VMEM_WHAT_FAKE_OFFLINE);
	taken = bitmap_zalloc(e->sbs_per_mb, GFP_KERNEL);
	if (!taken)
		return vmem_err(e, -ENOMEM, VMEM_WHAT_OFFLINE_AND_REMOVE);
	direct = vmem_mb_looks_idle(e, mb);
	if (direct) {
		rc = e->mm->offline_and_remove(e->mm_priv, addr, size);
		if (!rc)
			goto out;
	}
	/* Not idle, or a page came into use before the range was isolated. */
	rc = mb_take_all(e, mb, taken);
	if (rc) {
		vmem_err(e, rc, VMEM_WHAT_FAKE_OFFLINE);
	} else {
		rc = e->mm->offline_and_remove(e->mm_priv, addr, size);
		if (rc)
			vmem_err(e, rc, VMEM_WHAT_OFFLINE_AND_REMOVE);
	}
	if (rc) {
		/* Still added: hand back what this call took. */
		for_each_set_bit(sb, taken, e->sbs_per_mb)
			vmem_books_release(e, mb, sb, 1);
	}
out:
	bitmap_free(taken);
	return rc;
}

/*
 * Remove the added block @mb (offline first if it is online), then
 * unplug what stayed plugged of it: its memmap subblocks, or all of it.
 */
int vmem_mb_remove(struct vmem_engine *e, u64 mb)
{
	enum vmem_mb_state state = mb_state(e, mb);
	int rc;

	lockdep_assert_held(&e->lock);
	if (vmem_books_moving(e, mb))
		return vmem_err(e, -EBUSY, VMEM_WHAT_BUSY_BLOCKS);
	if (state == VMEM_MB_OFFLINE) {
		rc = e->mm->remove(e->mm_priv, mb_addr(e, mb), e->p.mb_size);
		if (rc)
			return vmem_err(e, rc, VMEM_WHAT_REMOVE);
	} else {
		rc = mb_offline_and_remove(e, mb);
		if (rc)
			return rc;
	}
	vmem_books_removed(e, mb);
	return vmem_mb_unplug_all_sbs(e, mb);
}
