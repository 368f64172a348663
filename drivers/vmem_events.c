// SPDX-License-Identifier: GPL-2.0
/*
 * What Linux and the glue tell the engine, and what they ask it, under
 * e->state_lock alone (never the run lock): memory events of Linux
 * memory blocks, the online_page decision, the status snapshot, a new
 * config, unplug_online and "broken". The books these calls change are
 * vmem_books.c's; the rules that keep unplugged memory out of Linux are
 * written there.
 */
#include <linux/bitmap.h>
#include <linux/lockdep.h>
#include <linux/math64.h>
#include <linux/minmax.h>
#include <linux/sched.h>
#include <linux/spinlock.h>

#include "vmem_engine_internal.h"

/*
 * One memory event of Linux memory block @lmb, e->state_lock held.
 * Returns true if it ended a transition.
 */
static bool vmem_books_lmb_event(struct vmem_engine *e,
				 enum vmem_mem_event ev, unsigned long lmb,
				 enum vmem_zone zone)
{
	unsigned long g = lmb * e->grans_per_lmb, i;
	unsigned int n = e->grans_per_lmb;
	u64 mb = lmb / e->lmbs_per_mb;

	switch (ev) {
	case VMEM_MEM_GOING_ONLINE:
		/* Onlining initialises the pages: kept ones are fresh. */
		set_bit(lmb, e->lmb_moving);
		bitmap_clear(e->g_taken, g, n);
		return false;
	case VMEM_MEM_GOING_OFFLINE:
		set_bit(lmb, e->lmb_moving);
		for (i = g; i < g + n; i++)
			if (test_bit(i, e->g_offline))
				set_bit(i, e->g_unref);
		return false;
	case VMEM_MEM_ONLINE:
		if (!test_and_clear_bit(lmb, e->lmb_moving))
			return false;
		set_bit(lmb, e->lmb_online);
		if (zone == VMEM_ZONE_MOVABLE)
			clear_bit(lmb, e->lmb_kernel);
		else
			set_bit(lmb, e->lmb_kernel);
		break;
	case VMEM_MEM_CANCEL_ONLINE:
		if (!test_and_clear_bit(lmb, e->lmb_moving))
			return false;
		break;
	case VMEM_MEM_OFFLINE:
		if (!test_and_clear_bit(lmb, e->lmb_moving))
			return false;
		clear_bit(lmb, e->lmb_online);
		clear_bit(lmb, e->lmb_kernel);
		bitmap_clear(e->g_unref, g, n);
		bitmap_clear(e->g_taken, g, n);
		break;
	case VMEM_MEM_CANCEL_OFFLINE:
		/* vmem_engine_event() gave the references back. */
		if (!test_and_clear_bit(lmb, e->lmb_moving))
			return false;
		bitmap_clear(e->g_unref, g, n);
		break;
	}
	WRITE_ONCE(e->mb_state[mb], mb_state_of_lmbs(e, mb));
	e->settle = true;
	return true;
}

/*
 * page->unref (@drop) or page->reref of the pages of [@addr, @addr +
 * @size) whose granules are in g_unref: the bits of a block in transition
 * change only in its own events, which Linux serialises.
 */
static void vmem_books_refs(struct vmem_engine *e, u64 addr, u64 size,
			    bool drop)
{
	unsigned long g, end, first;
	u64 a, n;

	if (!g_of(e, addr, &first))
		return;
	end = first + DIV_ROUND_UP_ULL(size, e->gran);
	for (g = first; g < end; g++) {
		if (!test_bit(g, e->g_unref))
			continue;
		a = g_addr(e, g);
		n = e->gran;
		for (g++; g < end && test_bit(g, e->g_unref); g++)
			n += e->gran;
		/* Only the part Linux moves: not the block's memmap. */
		n = min(a + n, addr + size);
		a = max(a, addr);
		n -= a;
		if (drop)
			e->page->unref(e->page_priv, a, n);
		else
			e->page->reref(e->page_priv, a, n);
	}
}

/**
 * vmem_engine_event() - follow an online/offline transition
 * @e: the engine; only e->state_lock is taken
 * @ev: the memory notifier event
 * @addr: start of the memory block(s) changing state, as the notifier
 *	gives it (after a memmap on the block)
 * @size: their size
 * @ours: the transition comes from one of the engine's own mm calls
 *
 * See enum vmem_mem_event. Once the teardown has begun, transitions that
 * are not the engine's own are refused. At GOING_OFFLINE the driver's
 * fake-offline pages lose their reference (page->unref) so that offlining
 * skips them; CANCEL_OFFLINE gives it back.
 *
 * Return: 0, or -EBUSY to veto a GOING_* event.
 */
int vmem_engine_event(struct vmem_engine *e, enum vmem_mem_event ev,
		      u64 addr, u64 size, bool ours)
{
	enum vmem_zone zone = VMEM_ZONE_OFFLINE;
	unsigned long lmb, first;
	bool going = ev == VMEM_MEM_GOING_ONLINE ||
		     ev == VMEM_MEM_GOING_OFFLINE, ended = false;
	u64 a;

	if (!g_of(e, addr, &first))
		return 0;
	if (ev == VMEM_MEM_ONLINE)
		zone = e->mm->zone(e->mm_priv, addr);
	if (ev == VMEM_MEM_CANCEL_OFFLINE)
		vmem_books_refs(e, addr, size, false);
	spin_lock(&e->state_lock);
	if (going && e->removing && !ours) {
		spin_unlock(&e->state_lock);
		return -EBUSY;
	}
	for (a = addr; a < addr + size; a += e->p.lmb_size) {
		if (!g_of(e, a, &lmb))
			continue;
		ended |= vmem_books_lmb_event(e, ev, g_lmb(e, lmb), zone);
	}
	spin_unlock(&e->state_lock);
	if (ev == VMEM_MEM_GOING_OFFLINE)
		vmem_books_refs(e, addr, size, true);
	if (ended)
		wake_up_all(&e->moving_wq);
	return 0;
}

/**
 * vmem_engine_online_pages() - the online_page callback's decision
 * @e: the engine; no lock: the block is in transition, its bits still
 * @addr: first byte of pages Linux onlines
 * @size: their size
 *
 * Pages of granules that are not fake-offline go to Linux
 * (page->online); the others stay fake-offline (page->keep).
 */
void vmem_engine_online_pages(struct vmem_engine *e, u64 addr, u64 size)
{
	u64 end = addr + size, next;
	unsigned long g;
	bool off;

	while (addr < end) {
		if (!g_of(e, addr, &g)) {
			e->page->keep(e->page_priv, addr, end - addr);
			return;
		}
		off = test_bit(g, e->g_offline);
		next = min(end, g_addr(e, g + 1));
		while (next < end && g_of(e, next, &g) &&
		       test_bit(g, e->g_offline) == off)
			next = min(end, g_addr(e, g + 1));
		if (off)
			e->page->keep(e->page_priv, addr, next - addr);
		else
			e->page->online(e->page_priv, addr, next - addr);
		addr = next;
	}
}

/**
 * vmem_engine_page_ours() - is the page at @addr fake-offline?
 * @e: the engine
 * @addr: physical address of a page of one of our online blocks
 *
 * For the glue's look at a range before an offline; exact while the
 * engine itself offlines the block (its bits then stay still).
 *
 * Return: true if the books hold its granule fake-offline.
 */
bool vmem_engine_page_ours(struct vmem_engine *e, u64 addr)
{
	unsigned long g;

	return g_of(e, addr, &g) && test_bit(g, e->g_offline);
}

/**
 * vmem_engine_status() - a snapshot of the books
 * @e: the engine; only e->state_lock is taken
 * @st: filled in
 */
void vmem_engine_status(struct vmem_engine *e, struct vmem_status *st)
{
	u64 mb;
	u8 s;

	memset(st, 0, sizeof(*st));
	spin_lock(&e->state_lock);
	st->plugged = e->plugged;
	st->requested = e->cfg_requested;
	st->usable = e->cfg_usable;
	st->target = vmem_books_target(e, e->cfg_requested, e->cfg_usable);
	for (mb = 0; mb < e->nr_mbs; mb++) {
		s = e->mb_state[mb];
		st->mb_count[s]++;
		st->plugged_in[s] += (u64)e->mb_nr_plugged[mb] * e->p.sb_size;
	}
	st->memmap_bytes = (u64)bitmap_weight(e->mb_memmap, e->nr_mbs) *
			   e->p.memmap_size * e->lmbs_per_mb;
	if (e->memmap_used && !e->memmap_refused)
		st->memmap = VMEM_MEMMAP_ON;
	else if (e->memmap)
		st->memmap = VMEM_MEMMAP_UNTRIED;
	st->result = e->result;
	st->last_err = e->last_err;
	st->last_what = e->last_what;
	st->nr_errors = e->nr_errors;
	st->broken = e->broken;
	st->budget_limited = e->budget_limited;
	st->unplug_all_pending = e->unplug_all_pending;
	st->usable_cut = e->usable_cut;
	st->moving = bitmap_weight(e->lmb_moving,
				   e->nr_mbs * e->lmbs_per_mb);
	spin_unlock(&e->state_lock);
}

/**
 * vmem_engine_set_config() - take the device's latest sizes
 * @e: the engine; only e->state_lock is taken
 * @requested: requested_size
 * @usable: usable_region_size, counted from e->p.addr
 *	(vmem_mode_usable())
 *
 * The values were validated by vmem_config_validate_update(), which
 * compares sizes only. A usable region ending before a subblock the books
 * hold plugged breaks the device's own rules (QEMU shrinks it only once
 * nothing is plugged): the engine sends no request beyond it, so that
 * memory stays plugged until the device widens the region again. The
 * next engine step plans with the new values.
 *
 * Return: 0, or -ERANGE if @usable cuts plugged memory (the caller warns).
 */
int vmem_engine_set_config(struct vmem_engine *e, u64 requested, u64 usable)
{
	u64 end;
	int rc;

	spin_lock(&e->state_lock);
	end = e->plugged ? e->plugged_end - e->p.addr : 0;
	e->cfg_requested = requested;
	e->cfg_usable = usable;
	rc = usable < end ? -ERANGE : 0;
	e->usable_cut = rc;
	spin_unlock(&e->state_lock);
	return rc;
}

/**
 * vmem_engine_set_unplug_online() - may online memory be unplugged?
 * @e: the engine; only e->state_lock is taken
 * @on: the unplug_online policy; the next engine step follows it
 */
void vmem_engine_set_unplug_online(struct vmem_engine *e, bool on)
{
	spin_lock(&e->state_lock);
	e->cfg_unplug_online = on;
	spin_unlock(&e->state_lock);
}

/**
 * vmem_engine_mark_broken() - stop using the device, for good
 * @e: the engine; only e->state_lock is taken
 *
 * For the glue, when the device is gone for it (the queue could not be
 * set up again after resume): no request is sent from now on.
 */
void vmem_engine_mark_broken(struct vmem_engine *e)
{
	spin_lock(&e->state_lock);
	e->broken = true;
	spin_unlock(&e->state_lock);
}
