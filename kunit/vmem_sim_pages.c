// SPDX-License-Identifier: GPL-2.0
/*
 * KUnit sim: the page model behind the engine's struct vmem_page_ops, with
 * the rules of a kernel generation (vmem_sim.h, enum vmem_sim_gen; the
 * driver's own implementations are drivers/vmem_pages_*.c). Per granule
 * it knows who holds the pages (sim->gst), whether the driver dropped its
 * reference (sim->noref), and the managed page count Linux keeps
 * (sim->managed, in granules).
 *
 * What the engine must get right, each a violation here:
 *  - onlining: every granule of a Linux memory block being onlined gets
 *    exactly one decision, online or keep; only plugged memory goes to
 *    Linux;
 *  - give: only the driver's granules, with the right origin (kept or
 *    taken), plugged, in an online block not in transition;
 *  - take: only Linux's granules of an online block not in transition;
 *    a pinned page makes it fail (-EBUSY), another driver's movable pages
 *    move away;
 *  - unref and reref: only the driver's own granules, and only in an
 *    offline transition; never another driver's PageOffline pages.
 *
 * Offlining (vmem_sim_pages_offline()) then succeeds or fails as Linux
 * would, and a case where Linux would loop for ever is a violation.
 */
#include <kunit/test.h>
#include <linux/bitmap.h>
#include <linux/kernel.h>
#include <linux/minmax.h>

#include "vmem_sim.h"

static u64 sim_lmb_of(const struct vmem_sim *sim, u64 g)
{
	return g / vmem_sim_grans_per_lmb(sim);
}

/*
 * Granules [*first, *end) of [@addr, @addr + @size), which must lie in
 * one Linux memory block of the region; false (a violation) otherwise.
 */
static bool sim_grans(struct vmem_sim *sim, const char *what, u64 addr,
		      u64 size, u64 *first, u64 *end)
{
	u64 top = vmem_sim_mb_addr(sim, sim->nr_mbs);

	if (!size || addr < sim->first_mb || addr + size > top ||
	    (addr - sim->first_mb) / sim->p.e.lmb_size !=
	    (addr + size - 1 - sim->first_mb) / sim->p.e.lmb_size) {
		vmem_sim_violation(sim,
				   "%s(%#llx, %#llx): not inside one memory block of the region",
				   what, addr, size);
		return false;
	}
	*first = vmem_sim_gran(sim, addr);
	*end = vmem_sim_gran(sim, addr + size - 1) + 1;
	return true;
}

/* A whole-granule op outside a transition of its block: the checks. */
static bool sim_still(struct vmem_sim *sim, const char *what, u64 g)
{
	u64 lmb = sim_lmb_of(sim, g);

	if (test_bit(lmb, sim->moving)) {
		vmem_sim_violation(sim, "%s(%#llx): the block is in an online/offline transition",
				   what, vmem_sim_gran_addr(sim, g));
		return false;
	}
	if (!vmem_sim_lmb_online(sim, lmb)) {
		vmem_sim_violation(sim, "%s(%#llx): the block is not online",
				   what, vmem_sim_gran_addr(sim, g));
		return false;
	}
	return true;
}

/* The callback's decision on a granule being onlined. */
static void sim_decide(struct vmem_sim *sim, const char *what, u64 addr,
		       u64 size, bool online)
{
	u64 g, first, end, lmb;

	if (!sim_grans(sim, what, addr, size, &first, &end))
		return;
	lmb = sim_lmb_of(sim, first);
	if (!test_bit(lmb, sim->moving) ||
	    sim->moving_to[lmb] == VMEM_ZONE_OFFLINE) {
		vmem_sim_violation(sim, "%s(%#llx) outside an online transition",
				   what, addr);
		return;
	}
	for (g = first; g < end; g++) {
		/* Several chunks of one granule: the same decision each. */
		if (sim->gst[g] != VMEM_G_FRESH &&
		    sim->gst[g] != (online ? VMEM_G_LINUX : VMEM_G_KEPT)) {
			vmem_sim_violation(sim, "%s(%#llx): granule decided otherwise (state %u)",
					   what, vmem_sim_gran_addr(sim, g),
					   sim->gst[g]);
			return;
		}
		if (online && !vmem_sim_dev_plugged(sim,
						    vmem_sim_gran_addr(sim, g),
						    sim->gran, true)) {
			vmem_sim_violation(sim, "online(%#llx): unplugged memory handed to Linux",
					   vmem_sim_gran_addr(sim, g));
			return;
		}
	}
	for (g = first; g < end; g++) {
		if (online && sim->gst[g] == VMEM_G_FRESH)
			sim->managed++;
		sim->gst[g] = online ? VMEM_G_LINUX : VMEM_G_KEPT;
	}
}

static void sim_page_online(void *priv, u64 addr, u64 size)
{
	sim_decide(priv, "online", addr, size, true);
}

static void sim_page_keep(void *priv, u64 addr, u64 size)
{
	sim_decide(priv, "keep", addr, size, false);
}

static void sim_page_give(void *priv, u64 addr, u64 size, bool taken)
{
	struct vmem_sim *sim = priv;
	u8 want = taken ? VMEM_G_TAKEN : VMEM_G_KEPT;
	u64 g, first, end, a;

	sim->calls[VMEM_SIM_FAKE_ONLINE]++;
	if (!sim_grans(sim, "give", addr, size, &first, &end))
		return;
	for (g = first; g < end; g++) {
		a = vmem_sim_gran_addr(sim, g);
		if (!sim_still(sim, "give", g))
			return;
		if (sim->gst[g] != want || test_bit(g, sim->noref)) {
			vmem_sim_violation(sim, "give(%#llx, %s): granule in state %u%s",
					   a, taken ? "taken" : "kept",
					   sim->gst[g],
					   test_bit(g, sim->noref) ?
					   " without its reference" : "");
			return;
		}
		if (!vmem_sim_dev_plugged(sim, a, sim->gran, true)) {
			vmem_sim_violation(sim, "give(%#llx): unplugged memory handed to Linux",
					   a);
			return;
		}
	}
	for (g = first; g < end; g++)
		sim->gst[g] = VMEM_G_LINUX;
	sim->managed += end - first;
}

static int sim_page_take(void *priv, u64 addr, u64 size)
{
	struct vmem_sim *sim = priv;
	u64 g, first, end, idx = sim->calls[VMEM_SIM_FAKE_OFFLINE]++;
	s64 mb = vmem_sim_mb_of(sim, addr);
	int ret;

	if (sim->p.e.bbm && !vmem_sim_mb_moving(sim, mb))
		; /* BBM takes whole big blocks back before an offline */
	if (!sim_grans(sim, "take", addr, size, &first, &end))
		return -EINVAL;
	for (g = first; g < end; g++) {
		if (!sim_still(sim, "take", g))
			return -EINVAL;
		if (sim->gst[g] != VMEM_G_LINUX) {
			vmem_sim_violation(sim, "take(%#llx): granule in state %u, not Linux's",
					   vmem_sim_gran_addr(sim, g),
					   sim->gst[g]);
			return -EINVAL;
		}
	}
	if (vmem_sim_fault(sim, VMEM_SIM_FAKE_OFFLINE, idx, mb, &ret))
		return ret;
	for (g = first; g < end; g++)
		if (test_bit(g, sim->pinned))
			return -EBUSY;
	for (g = first; g < end; g++) {
		sim->gst[g] = VMEM_G_TAKEN;
		/* What was in use, a balloon's pages too, moved elsewhere. */
		sim->migrated += test_bit(g, sim->used);
		clear_bit(g, sim->used);
		clear_bit(g, sim->foreign);
	}
	sim->managed -= end - first;
	return 0;
}

/* unref (@drop) or reref: only in an offline transition, only ours. */
static void sim_page_refs(struct vmem_sim *sim, u64 addr, u64 size,
			  bool drop)
{
	const char *what = drop ? "unref" : "reref";
	u64 g, first, end, lmb;

	if (!sim_grans(sim, what, addr, size, &first, &end))
		return;
	lmb = sim_lmb_of(sim, first);
	if (!test_bit(lmb, sim->moving) ||
	    sim->moving_to[lmb] != VMEM_ZONE_OFFLINE) {
		vmem_sim_violation(sim, "%s(%#llx) outside an offline transition",
				   what, addr);
		return;
	}
	for (g = first; g < end; g++) {
		if ((sim->gst[g] != VMEM_G_KEPT &&
		     sim->gst[g] != VMEM_G_TAKEN) ||
		    test_bit(g, sim->noref) != !drop) {
			vmem_sim_violation(sim,
					   "%s(%#llx): not a driver's page with %s reference (state %u%s)",
					   what, vmem_sim_gran_addr(sim, g),
					   drop ? "its" : "a dropped",
					   sim->gst[g],
					   test_bit(g, sim->foreign) ?
					   ", another driver's PageOffline pages" :
					   "");
			return;
		}
	}
	for (g = first; g < end; g++)
		assign_bit(g, sim->noref, drop);
	/* 6.1: offlining will subtract the driver's pages too. */
	if (sim->p.gen == VMEM_SIM_GEN_6_1)
		sim->managed += drop ? (s64)(end - first) : -(s64)(end - first);
}

static void sim_page_unref(void *priv, u64 addr, u64 size)
{
	sim_page_refs(priv, addr, size, true);
}

static void sim_page_reref(void *priv, u64 addr, u64 size)
{
	sim_page_refs(priv, addr, size, false);
}

const struct vmem_page_ops vmem_sim_page_ops = {
	.online = sim_page_online,
	.keep = sim_page_keep,
	.give = sim_page_give,
	.take = sim_page_take,
	.unref = sim_page_unref,
	.reref = sim_page_reref,
};

/* Granules of Linux memory block @lmb, and where its memmap ends. */
static void sim_lmb_grans(const struct vmem_sim *sim, u64 lmb, u64 *first,
			  u64 *end, u64 *memmap_end)
{
	u64 mb = lmb / sim->lmbs_per_mb;

	*first = lmb * vmem_sim_grans_per_lmb(sim);
	*end = *first + vmem_sim_grans_per_lmb(sim);
	*memmap_end = vmem_sim_mb_addr(sim, mb) + vmem_sim_memmap_bytes(sim, mb);
}

/**
 * vmem_sim_pages_online() - Linux memory block @lmb begins to come online
 * @sim: the sim
 * @lmb: the Linux memory block
 *
 * Its pages are initialised (fresh) and wait for the callback's decision;
 * a granule wholly inside the block's memmap never reaches the callback.
 */
void vmem_sim_pages_online(struct vmem_sim *sim, u64 lmb)
{
	u64 g, first, end, memmap_end;

	sim_lmb_grans(sim, lmb, &first, &end, &memmap_end);
	for (g = first; g < end; g++) {
		sim->gst[g] = vmem_sim_gran_addr(sim, g) + sim->gran <= memmap_end ?
			      VMEM_G_MEMMAP : VMEM_G_FRESH;
		clear_bit(g, sim->noref);
	}
}

/**
 * vmem_sim_pages_gone() - Linux memory block @lmb went offline
 * @sim: the sim
 * @lmb: the Linux memory block, offlined
 *
 * Linux's count loses the pages offlining takes out: under 6.1 rules all
 * of them, under 6.11 rules all but PageOffline ones without reference.
 */
void vmem_sim_pages_gone(struct vmem_sim *sim, u64 lmb)
{
	u64 g, first, end, memmap_end, n = 0;

	sim_lmb_grans(sim, lmb, &first, &end, &memmap_end);
	for (g = first; g < end; g++) {
		if (sim->gst[g] == VMEM_G_MEMMAP) {
			sim->gst[g] = VMEM_G_NONE;
			continue;
		}
		if (sim->p.gen == VMEM_SIM_GEN_6_1 ||
		    sim->gst[g] == VMEM_G_LINUX)
			n++;
		sim->gst[g] = VMEM_G_NONE;
		sim->migrated += test_bit(g, sim->used);
		clear_bit(g, sim->noref);
		clear_bit(g, sim->used);
		clear_bit(g, sim->pinned);
		clear_bit(g, sim->foreign);
	}
	sim->managed -= n;
}

/**
 * vmem_sim_pages_cancel_online() - onlining @lmb was cancelled
 * @sim: the sim
 * @lmb: the Linux memory block
 *
 * Linux takes back what the callback gave the page allocator.
 */
void vmem_sim_pages_cancel_online(struct vmem_sim *sim, u64 lmb)
{
	u64 g, first, end, memmap_end;

	sim_lmb_grans(sim, lmb, &first, &end, &memmap_end);
	for (g = first; g < end; g++) {
		if (sim->gst[g] == VMEM_G_LINUX)
			sim->managed--;
		sim->gst[g] = VMEM_G_NONE;
		clear_bit(g, sim->noref);
	}
}

/**
 * vmem_sim_pages_offline() - may Linux memory block @lmb go offline now?
 * @sim: the sim
 * @lmb: the Linux memory block, its MEM_GOING_OFFLINE sent
 * @ours: the engine's own offline (offline_and_remove)
 *
 * As offline_pages() decides after MEM_GOING_OFFLINE: a driver's page
 * that kept its reference fails the offline; so does a pinned page in a
 * kernel zone. A pinned page in ZONE_MOVABLE, or another driver's movable
 * pages whose reference was dropped, would make Linux retry migration
 * for ever: a violation for the engine's own offline (a kworker gets no
 * signal), a failure for the admin's (who can interrupt it).
 *
 * Return: 0 if it goes offline, -EBUSY if it fails.
 */
int vmem_sim_pages_offline(struct vmem_sim *sim, u64 lmb, bool ours)
{
	u64 g, first, end, memmap_end;

	sim_lmb_grans(sim, lmb, &first, &end, &memmap_end);
	for (g = first; g < end; g++) {
		switch (sim->gst[g]) {
		case VMEM_G_KEPT:
		case VMEM_G_TAKEN:
			if (!test_bit(g, sim->noref))
				return -EBUSY;
			break;
		case VMEM_G_LINUX:
			if (!test_bit(g, sim->pinned))
				break;
			if (sim->zone[lmb] == VMEM_ZONE_MOVABLE && ours)
				vmem_sim_violation(sim,
						   "offline(%#llx) would retry migration for ever: a pinned page",
						   vmem_sim_gran_addr(sim, g));
			return -EBUSY;
		default:
			break;
		}
	}
	return 0;
}

/**
 * vmem_sim_pages_idle() - is every page of the range free or the driver's?
 * @sim: the sim
 * @addr: first byte
 * @size: bytes
 *
 * The glue's look at a range (vmem_pages_idle()): free means Linux's and
 * not used, pinned or holding another driver's pages.
 *
 * Return: true if nothing there would need migrating.
 */
bool vmem_sim_pages_idle(struct vmem_sim *sim, u64 addr, u64 size)
{
	u64 g, first = vmem_sim_gran(sim, addr);
	u64 end = vmem_sim_gran(sim, addr + size - 1) + 1;

	for (g = first; g < end; g++) {
		if (sim->gst[g] == VMEM_G_KEPT || sim->gst[g] == VMEM_G_TAKEN ||
		    sim->gst[g] == VMEM_G_MEMMAP)
			continue;
		if (sim->gst[g] != VMEM_G_LINUX || test_bit(g, sim->used) ||
		    test_bit(g, sim->pinned) || test_bit(g, sim->foreign))
			return false;
	}
	return true;
}
