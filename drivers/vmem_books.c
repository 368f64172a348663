// SPDX-License-Identifier: GPL-2.0
/*
 * The engine's books, as far as the memory notifier, the online_page
 * callback and the status readers share them: per block its state, per
 * Linux memory block its transitions, per subblock "plugged", per granule
 * "fake-offline". All of it is guarded by e->state_lock, a spinlock that
 * is never held across a device request or an mm call (see
 * vmem_engine_internal.h); the calls here that the glue makes (events,
 * the online_page decision, status, config) take nothing else.
 *
 * A page belongs to Linux only if its subblock is plugged and its granule
 * is not fake-offline. Fake-offline is decided by the books alone, never
 * by looking at a page: other drivers (virtio-balloon) have PageOffline
 * pages too, and they are not ours to touch.
 *
 * The rules that keep unplugged memory out of Linux:
 *  - a subblock is made fake-offline before it is unplugged (in an online
 *    block: once its pages are taken back), and is cleared only when it
 *    is plugged, with no request for it in flight and its Linux memory
 *    block not in transition;
 *  - onlining hands a granule's pages to Linux only if it is not
 *    fake-offline at that moment, and the engine changes no bit of a
 *    block in transition but to set one.
 */
#include <linux/bitmap.h>
#include <linux/lockdep.h>
#include <linux/math64.h>
#include <linux/minmax.h>
#include <linux/sched.h>
#include <linux/slab.h>

#include "vmem_engine_internal.h"

static const char * const vmem_what_names[] = {
	[VMEM_WHAT_NONE] = "-",
	[VMEM_WHAT_PLUG] = "plug",
	[VMEM_WHAT_UNPLUG] = "unplug",
	[VMEM_WHAT_UNPLUG_ALL] = "unplug_all",
	[VMEM_WHAT_STATE] = "state",
	[VMEM_WHAT_ADD] = "add",
	[VMEM_WHAT_REMOVE] = "remove",
	[VMEM_WHAT_OFFLINE_AND_REMOVE] = "offline_and_remove",
	[VMEM_WHAT_FAKE_OFFLINE] = "fake_offline",
	[VMEM_WHAT_BUDGET] = "kernel memory for the memmap",
	[VMEM_WHAT_WAIT_ONLINE] = "waiting for onlining",
	[VMEM_WHAT_UNPLUG_ONLINE_OFF] = "unplug_online is off",
	[VMEM_WHAT_NO_BLOCK] = "no block left to plug",
	[VMEM_WHAT_BUSY_BLOCKS] = "blocks in transition",
	[VMEM_WHAT_BEYOND_USABLE] = "plugged memory beyond the usable region",
	[VMEM_WHAT_REFUSED] = "the device refuses the blocks left",
};

/**
 * vmem_what_name() - the name of what failed, as sysfs and the log show it
 * @what: an enum vmem_what
 *
 * Return: a constant string.
 */
const char *vmem_what_name(enum vmem_what what)
{
	if ((unsigned int)what >= ARRAY_SIZE(vmem_what_names))
		return "?";
	return vmem_what_names[what];
}

/* Record why a step stopped; returns @err for the caller to pass on. */
int vmem_err(struct vmem_engine *e, int err, enum vmem_what what)
{
	spin_lock(&e->state_lock);
	e->last_err = err;
	e->last_what = what;
	e->nr_errors++;
	spin_unlock(&e->state_lock);
	return err;
}

/*
 * Clip [*addr, *addr + *size) to the part of its block that can hold
 * pages of Linux: all of it but the block's own memmap.
 */
static bool g_pages(const struct vmem_engine *e, u64 *addr, u64 *size)
{
	u64 mb = div64_u64(*addr - e->first_mb, e->p.mb_size);
	u64 end = *addr + *size;
	u64 start = max(*addr, mb_addr(e, mb) + mb_memmap_bytes(e, mb));

	*addr = start;
	*size = end > start ? end - start : 0;
	return *size;
}

/**
 * vmem_books_target() - the plugged size the engine aims at
 * @e: the engine
 * @requested: requested_size
 * @usable: usable_region_size, counted from e->p.addr
 *
 * requested_size rounded down to whole subblocks, and capped by the
 * subblocks of whole blocks that lie in the usable region.
 *
 * Return: the target in bytes.
 */
u64 vmem_books_target(const struct vmem_engine *e, u64 requested, u64 usable)
{
	u64 end = min(e->p.addr + usable,
		      e->first_mb + e->nr_mbs * e->p.mb_size);
	u64 cap = end > e->first_mb ? round_down(end - e->first_mb,
						  e->p.sb_size) : 0;

	return min(round_down(requested, e->p.sb_size), cap);
}

/**
 * vmem_books_set_plugged() - the device acknowledged a plug or unplug
 * @e: the engine, e->lock held
 * @mb: the block
 * @sb: first subblock
 * @nr: number of subblocks
 * @plugged: plugged (true) or unplugged
 *
 * An unplugged subblock is fake-offline (it was made so before the
 * request); a plugged one stays fake-offline until vmem_books_release().
 */
void vmem_books_set_plugged(struct vmem_engine *e, u64 mb, unsigned int sb,
			    unsigned int nr, bool plugged)
{
	unsigned long bit = sb_bit(e, mb, sb), last, all;
	u64 bytes = (u64)nr * e->p.sb_size;

	lockdep_assert_held(&e->lock);
	spin_lock(&e->state_lock);
	if (plugged) {
		bitmap_set(e->sb_plugged, bit, nr);
		e->mb_nr_plugged[mb] += nr;
		e->plugged += bytes;
		e->plugged_end = max(e->plugged_end, sb_addr(e, mb, sb + nr));
	} else {
		bitmap_set(e->g_offline, g_bit(e, mb, sb),
			   nr * e->grans_per_sb);
		bitmap_clear(e->sb_plugged, bit, nr);
		e->mb_nr_plugged[mb] -= nr;
		e->plugged -= bytes;
		all = e->nr_mbs * e->sbs_per_mb;
		last = find_last_bit(e->sb_plugged, all);
		e->plugged_end = e->first_mb + (last < all ?
						(u64)(last + 1) * e->p.sb_size :
						0);
	}
	spin_unlock(&e->state_lock);
}

/* Any Linux memory block of [@g, @g + @n) in transition, or online? */
static bool g_busy(const struct vmem_engine *e, unsigned long g,
		   unsigned long n, bool online_too)
{
	unsigned long lmb, end = g_lmb(e, g + n - 1) + 1;

	for (lmb = g_lmb(e, g); lmb < end; lmb++)
		if (test_bit(lmb, e->lmb_moving) ||
		    (online_too && test_bit(lmb, e->lmb_online)))
			return true;
	return false;
}

/**
 * vmem_books_claim() - make subblocks of a block that is not online
 *	fake-offline, before they are unplugged
 * @e: the engine, e->lock held
 * @mb: the block (not added, or offline)
 * @sb: first subblock
 * @nr: number of subblocks
 *
 * Should the block come online while the request is in flight, onlining
 * keeps them away from Linux.
 *
 * Return: 0, or -EBUSY if part of it is online or in transition (nothing
 * changed).
 */
int vmem_books_claim(struct vmem_engine *e, u64 mb, unsigned int sb,
		     unsigned int nr)
{
	unsigned long g = g_bit(e, mb, sb), n = nr * e->grans_per_sb;
	int rc = 0;

	lockdep_assert_held(&e->lock);
	spin_lock(&e->state_lock);
	if (g_busy(e, g, n, true))
		rc = -EBUSY;
	else
		bitmap_set(e->g_offline, g, n);
	spin_unlock(&e->state_lock);
	return rc;
}

/* Longest run vmem_books_release() handles under the lock at once. */
#define VMEM_RELEASE_MAX	BITS_PER_LONG

/*
 * Hand the pages of the granules @g + i (i set in @cleared) to Linux, one
 * page->give per run of granules alike (taken back, or kept at onlining).
 */
static void vmem_books_give(struct vmem_engine *e, unsigned long g,
			    const unsigned long *cleared,
			    const unsigned long *taken)
{
	unsigned int i, end;
	u64 a, size;
	bool t;

	for (i = find_first_bit(cleared, VMEM_RELEASE_MAX);
	     i < VMEM_RELEASE_MAX;
	     i = find_next_bit(cleared, VMEM_RELEASE_MAX, end)) {
		t = test_bit(i, taken);
		for (end = i + 1; end < VMEM_RELEASE_MAX &&
		     test_bit(end, cleared) && test_bit(end, taken) == t &&
		     g_lmb(e, g + end) == g_lmb(e, g + i); end++)
			;
		a = g_addr(e, g + i);
		size = (u64)(end - i) * e->gran;
		if (g_pages(e, &a, &size))
			e->page->give(e->page_priv, a, size, t);
	}
}

/*
 * Release granules [@g, @g + @n) (n <= VMEM_RELEASE_MAX): those of plugged
 * subblocks that are fake-offline stop being so, and in online Linux
 * memory blocks their pages go to Linux. Returns false if one of them lay
 * in a block in transition (left for vmem_books_settle()).
 */
static bool vmem_books_release_grans(struct vmem_engine *e, unsigned long g,
				     unsigned int n)
{
	DECLARE_BITMAP(cleared, VMEM_RELEASE_MAX);
	DECLARE_BITMAP(taken, VMEM_RELEASE_MAX);
	unsigned long lmb;
	bool all = true;
	unsigned int i;

	bitmap_zero(cleared, VMEM_RELEASE_MAX);
	bitmap_zero(taken, VMEM_RELEASE_MAX);
	spin_lock(&e->state_lock);
	for (i = 0; i < n; i++) {
		lmb = g_lmb(e, g + i);
		if (!test_bit(g + i, e->g_offline) ||
		    !test_bit((g + i) / e->grans_per_sb, e->sb_plugged))
			continue;
		if (mb_state(e, lmb / e->lmbs_per_mb) == VMEM_MB_UNUSED)
			continue;	/* vmem_books_added() decides */
		if (test_bit(lmb, e->lmb_moving)) {
			all = false;
			continue;
		}
		if (test_bit(lmb, e->lmb_online)) {
			__set_bit(i, cleared);
			if (test_bit(g + i, e->g_taken))
				__set_bit(i, taken);
		}
		clear_bit(g + i, e->g_offline);
		clear_bit(g + i, e->g_taken);
	}
	if (!all)
		e->settle = true;
	spin_unlock(&e->state_lock);
	vmem_books_give(e, g, cleared, taken);
	return all;
}

/**
 * vmem_books_take() - take plugged subblocks of an online block back from
 *	Linux (page->take), except for the block's memmap
 * @e: the engine, e->lock held
 * @mb: the block
 * @sb: first subblock
 * @nr: number of subblocks: plugged, not fake-offline
 *
 * Linux memory blocks of them that are offline (a big block in part)
 * have nothing to take and are skipped.
 *
 * Return: 0, -EBUSY if part of it is in transition, or the error of
 * page->take; on failure nothing stays taken.
 */
int vmem_books_take(struct vmem_engine *e, u64 mb, unsigned int sb,
		    unsigned int nr)
{
	unsigned long first = g_bit(e, mb, sb), g, next, lmb;
	unsigned long end = first + nr * e->grans_per_sb;
	bool moving, online;
	u64 a, size;
	int rc = 0;

	lockdep_assert_held(&e->lock);
	for (g = first; g < end; g = next) {
		lmb = g_lmb(e, g);
		next = min(end, (lmb + 1) * e->grans_per_lmb);
		spin_lock(&e->state_lock);
		moving = test_bit(lmb, e->lmb_moving);
		online = test_bit(lmb, e->lmb_online);
		spin_unlock(&e->state_lock);
		if (moving) {
			rc = -EBUSY;
			break;
		}
		if (!online)
			continue;
		a = g_addr(e, g);
		size = (u64)(next - g) * e->gran;
		if (g_pages(e, &a, &size)) {
			rc = e->page->take(e->page_priv, a, size);
			if (rc)
				break;
		}
		spin_lock(&e->state_lock);
		bitmap_set(e->g_offline, g, next - g);
		bitmap_set(e->g_taken, g, next - g);
		spin_unlock(&e->state_lock);
	}
	/* Hand back what this call took before it failed. */
	for (next = first; rc && next < g; next += VMEM_RELEASE_MAX)
		vmem_books_release_grans(e, next,
					 min_t(unsigned long, g - next,
					       VMEM_RELEASE_MAX));
	return rc;
}

/**
 * vmem_books_release() - plugged subblocks need not stay fake-offline
 * @e: the engine, e->lock held, no request in flight for them
 * @mb: the block
 * @sb: first subblock
 * @nr: number of subblocks; unplugged ones among them are left alone
 *
 * In an online Linux memory block their pages go to Linux; in an offline
 * one they are marked so that onlining hands them over. A block not added
 * keeps them fake-offline (vmem_books_added() clears them), and so does a
 * block in transition: vmem_books_settle() looks again once it ends.
 */
void vmem_books_release(struct vmem_engine *e, u64 mb, unsigned int sb,
			unsigned int nr)
{
	unsigned long g = g_bit(e, mb, sb), end = g + nr * e->grans_per_sb;
	unsigned int n;

	lockdep_assert_held(&e->lock);
	for (; g < end; g += n) {
		n = min_t(unsigned long, end - g, VMEM_RELEASE_MAX);
		vmem_books_release_grans(e, g, n);
	}
}

/**
 * vmem_books_settle() - release what an earlier release had to put off
 * @e: the engine, e->lock held, no request in flight
 *
 * Fake-offline granules of plugged subblocks of added blocks: left by a
 * release that met a transition, or by a block that came online while a
 * request for it was in flight.
 */
void vmem_books_settle(struct vmem_engine *e)
{
	unsigned long all = e->nr_mbs * e->sbs_per_mb * e->grans_per_sb, g;
	bool pending;

	lockdep_assert_held(&e->lock);
	spin_lock(&e->state_lock);
	pending = e->settle;
	e->settle = false;
	spin_unlock(&e->state_lock);
	if (!pending)
		return;
	for_each_set_bit(g, e->g_offline, all) {
		if (!test_bit(g / e->grans_per_sb, e->sb_plugged) ||
		    mb_state(e, g / e->grans_per_sb / e->sbs_per_mb) ==
		    VMEM_MB_UNUSED)
			continue;
		vmem_books_release_grans(e, g, 1);
	}
}

/**
 * vmem_books_added() - a block is about to be added to Linux
 * @e: the engine, e->lock held
 * @mb: the block, not added; its subblocks plugged as they will be
 * @memmap: it gets its memmap on it
 *
 * It counts as offline until the notifier says otherwise, even during the
 * add; its plugged subblocks are no longer fake-offline, so that onlining
 * (at once, with auto-online) hands them to Linux.
 */
void vmem_books_added(struct vmem_engine *e, u64 mb, bool memmap)
{
	unsigned int sb;

	lockdep_assert_held(&e->lock);
	spin_lock(&e->state_lock);
	WRITE_ONCE(e->mb_state[mb], VMEM_MB_OFFLINE);
	if (memmap)
		set_bit(mb, e->mb_memmap);
	for (sb = 0; sb < e->sbs_per_mb; sb++) {
		if (sb_plugged(e, mb, sb))
			bitmap_clear(e->g_offline, g_bit(e, mb, sb),
				     e->grans_per_sb);
	}
	bitmap_clear(e->g_taken, g_bit(e, mb, 0),
		     e->sbs_per_mb * e->grans_per_sb);
	spin_unlock(&e->state_lock);
}

/**
 * vmem_books_removed() - a block left Linux (or adding it failed)
 * @e: the engine, e->lock held
 * @mb: the block
 *
 * All its subblocks are fake-offline again: a later add decides anew.
 */
void vmem_books_removed(struct vmem_engine *e, u64 mb)
{
	unsigned long g = g_bit(e, mb, 0), n = e->sbs_per_mb * e->grans_per_sb;

	lockdep_assert_held(&e->lock);
	spin_lock(&e->state_lock);
	WRITE_ONCE(e->mb_state[mb], VMEM_MB_UNUSED);
	clear_bit(mb, e->mb_memmap);
	bitmap_set(e->g_offline, g, n);
	bitmap_clear(e->g_taken, g, n);
	spin_unlock(&e->state_lock);
}

/* Is any Linux memory block of @mb in transition now? */
bool vmem_books_moving(struct vmem_engine *e, u64 mb)
{
	bool moving;

	spin_lock(&e->state_lock);
	moving = mb_moving(e, mb);
	spin_unlock(&e->state_lock);
	return moving;
}

/* Is any Linux memory block of the engine in transition now? */
bool vmem_books_any_moving(struct vmem_engine *e)
{
	bool moving;

	spin_lock(&e->state_lock);
	moving = !bitmap_empty(e->lmb_moving, e->nr_mbs * e->lmbs_per_mb);
	spin_unlock(&e->state_lock);
	return moving;
}

static u64 count_mbs(const struct vmem_engine *e, enum vmem_mb_state state)
{
	u64 mb, n = 0;

	for (mb = 0; mb < e->nr_mbs; mb++)
		n += mb_state(e, mb) == state;
	return n;
}

/* Blocks in @state now (racy: the notifier may move one meanwhile). */
u64 vmem_books_count(struct vmem_engine *e, enum vmem_mb_state state)
{
	return count_mbs(e, state);
}

/**
 * vmem_books_adopt_config() - plan with the device's latest config
 * @e: the engine, e->lock held
 *
 * Return: true if the target changed (a new target resets the backoff).
 */
bool vmem_books_adopt_config(struct vmem_engine *e)
{
	u64 before = vmem_books_target(e, e->requested, e->usable);

	lockdep_assert_held(&e->lock);
	spin_lock(&e->state_lock);
	e->requested = e->cfg_requested;
	e->usable = e->cfg_usable;
	e->unplug_online = e->cfg_unplug_online;
	spin_unlock(&e->state_lock);
	return vmem_books_target(e, e->requested, e->usable) != before;
}

/* kvcalloc'd, without a WARN for a huge region: the caller says no. */
static unsigned long *vmem_bitmap(unsigned long bits)
{
	return kvcalloc(BITS_TO_LONGS(bits ?: 1), sizeof(unsigned long),
			GFP_KERNEL | __GFP_NOWARN);
}

/**
 * vmem_books_alloc() - allocate the books for the geometry set in @e
 * @e: the engine
 *
 * Return: 0 or -ENOMEM (vmem_books_free() cleans up either way).
 */
int vmem_books_alloc(struct vmem_engine *e)
{
	u64 mbs = e->nr_mbs ?: 1, sbs = mbs * e->sbs_per_mb;
	u64 grans = sbs * e->grans_per_sb, lmbs = mbs * e->lmbs_per_mb;

	e->mb_state = kvcalloc(mbs, sizeof(*e->mb_state),
			       GFP_KERNEL | __GFP_NOWARN);
	e->mb_nr_plugged = kvcalloc(mbs, sizeof(*e->mb_nr_plugged),
				    GFP_KERNEL | __GFP_NOWARN);
	e->mb_errors = kvcalloc(mbs, sizeof(*e->mb_errors),
				GFP_KERNEL | __GFP_NOWARN);
	e->sb_plugged = vmem_bitmap(sbs);
	e->mb_bad = vmem_bitmap(mbs);
	e->mb_memmap = vmem_bitmap(mbs);
	e->lmb_moving = vmem_bitmap(lmbs);
	e->lmb_online = vmem_bitmap(lmbs);
	e->lmb_kernel = vmem_bitmap(lmbs);
	e->g_offline = vmem_bitmap(grans);
	e->g_taken = vmem_bitmap(grans);
	e->g_unref = vmem_bitmap(grans);
	if (!e->mb_state || !e->mb_nr_plugged || !e->mb_errors ||
	    !e->sb_plugged ||
	    !e->mb_bad || !e->mb_memmap || !e->lmb_moving || !e->lmb_online ||
	    !e->lmb_kernel || !e->g_offline || !e->g_taken || !e->g_unref)
		return -ENOMEM;
	/* Nothing is plugged: every granule is fake-offline. */
	bitmap_set(e->g_offline, 0, grans);
	return 0;
}

void vmem_books_free(struct vmem_engine *e)
{
	kvfree(e->mb_state);
	kvfree(e->mb_nr_plugged);
	kvfree(e->mb_errors);
	kvfree(e->sb_plugged);
	kvfree(e->mb_bad);
	kvfree(e->mb_memmap);
	kvfree(e->lmb_moving);
	kvfree(e->lmb_online);
	kvfree(e->lmb_kernel);
	kvfree(e->g_offline);
	kvfree(e->g_taken);
	kvfree(e->g_unref);
}
