// SPDX-License-Identifier: GPL-2.0
/*
 * KUnit sim: the memory-hotplug layer behind the engine's struct
 * vmem_mm_ops: adding, onlining, offlining and removing memory, per Linux
 * memory block as Linux does it (a big block can be partly online), the
 * glue's look at a range and its veto of an offline that would need
 * migrating, the kernel memory plain adds take for their memmap, and
 * memmap_on_memory. The pages themselves are vmem_sim_pages.c's. See
 * vmem_sim.h.
 */
#include <kunit/test.h>
#include <linux/bitmap.h>
#include <linux/kernel.h>
#include <linux/minmax.h>
#include <linux/mutex.h>
#include <linux/sizes.h>

#include "../include/vmem_budget.h"
#include "vmem_sim.h"

/* The chunk Linux hands the online_page callback: MAX_ORDER pages. */
#define SIM_ONLINE_CHUNK	SZ_4M

/*
 * Entry checks of an mm op on [@addr, @addr + @size): one whole block of
 * the region, none of its Linux memory blocks in transition, called with
 * the engine's run lock held. Counts the call in *@idx.
 */
static bool sim_mm_enter(struct vmem_sim *sim, enum vmem_sim_op op,
			 u64 addr, u64 size, u64 *mb, u64 *idx)
{
	u64 mbs = sim->p.e.mb_size, off;
	const char *what = vmem_sim_op_name(op);

	*idx = sim->calls[op]++;
	if (!mutex_is_locked(&sim->e->lock))
		vmem_sim_violation(sim, "%s(%#llx) without the engine's run lock",
				   what, addr);
	if (sim->hook)
		sim->hook(sim, op, addr);
	if (addr < sim->first_mb || !size || addr + size < addr ||
	    addr + size > sim->first_mb + sim->nr_mbs * mbs)
		goto bad;
	off = addr - sim->first_mb;
	*mb = off / mbs;
	if (off % mbs || size != mbs)
		goto bad;
	if (vmem_sim_mb_moving(sim, *mb)) {
		vmem_sim_violation(sim, "%s(%#llx): the block is in an online/offline transition",
				   what, addr);
		return false;
	}
	return true;
bad:
	vmem_sim_violation(sim, "%s(%#llx, %#llx): not a whole block of the region",
			   what, addr, size);
	return false;
}

/* Send a memory event of @lmb; returns the engine's answer. */
static int sim_notify(struct vmem_sim *sim, enum vmem_mem_event ev, u64 lmb)
{
	u64 mb = lmb / sim->lmbs_per_mb, a = vmem_sim_lmb_addr(sim, lmb);
	u64 memmap = lmb % sim->lmbs_per_mb ? 0 :
		     vmem_sim_memmap_bytes(sim, mb);

	/* Linux passes the range after a memmap on the block. */
	return vmem_engine_event(sim->e, ev, a + memmap,
				 sim->p.e.lmb_size - memmap,
				 test_bit(lmb, sim->ours_move));
}

/**
 * vmem_sim_begin_lmb_move() - start onlining or offlining a Linux memory
 *	block
 * @sim: the sim
 * @lmb: the Linux memory block, of an added block
 * @to: the zone it goes to; VMEM_ZONE_OFFLINE to offline it
 * @ours: the engine's own (inside its mm call)
 *
 * GOING_ONLINE or GOING_OFFLINE; the block is in transition until
 * vmem_sim_end_lmb_move().
 *
 * Return: 0, -EINVAL if it cannot move so, or the engine's veto.
 */
int vmem_sim_begin_lmb_move(struct vmem_sim *sim, u64 lmb, enum vmem_zone to,
			    bool ours)
{
	bool offlining = to == VMEM_ZONE_OFFLINE;
	int rc;

	if (lmb >= sim->nr_lmbs ||
	    !test_bit(lmb / sim->lmbs_per_mb, sim->added) ||
	    test_bit(lmb, sim->moving) ||
	    vmem_sim_lmb_online(sim, lmb) != offlining)
		return -EINVAL;
	assign_bit(lmb, sim->ours_move, ours);
	/*
	 * The glue's veto (vmem_notifier.c): an offline of the engine's own
	 * must find nothing to migrate once the range is isolated.
	 */
	/* Isolated (offline) or initialised (online) before the notifier. */
	set_bit(lmb, sim->moving);
	sim->moving_to[lmb] = to;
	if (offlining && ours &&
	    !vmem_sim_pages_idle(sim, vmem_sim_lmb_addr(sim, lmb),
				 sim->p.e.lmb_size)) {
		sim->vetoes++;
		rc = -EBUSY;
	} else {
		rc = sim_notify(sim, offlining ? VMEM_MEM_GOING_OFFLINE :
				VMEM_MEM_GOING_ONLINE, lmb);
	}
	if (rc) {
		clear_bit(lmb, sim->moving);
		/* Linux sends CANCEL to every notifier, the vetoing one too. */
		sim_notify(sim, offlining ? VMEM_MEM_CANCEL_OFFLINE :
			   VMEM_MEM_CANCEL_ONLINE, lmb);
		clear_bit(lmb, sim->ours_move);
		return rc;
	}
	if (!offlining)
		vmem_sim_pages_online(sim, lmb);
	return 0;
}

/* The online_page callback over @lmb, in MAX_ORDER chunks. */
static void sim_online_callback(struct vmem_sim *sim, u64 lmb)
{
	u64 mb = lmb / sim->lmbs_per_mb, a = vmem_sim_lmb_addr(sim, lmb);
	u64 end = a + sim->p.e.lmb_size, g, n;

	if (!(lmb % sim->lmbs_per_mb))
		a += vmem_sim_memmap_bytes(sim, mb);
	for (; a < end; a += n) {
		n = min(end - a, SIM_ONLINE_CHUNK - a % SIM_ONLINE_CHUNK);
		vmem_engine_online_pages(sim->e, a, n);
	}
	for (g = vmem_sim_gran(sim, vmem_sim_lmb_addr(sim, lmb));
	     g < vmem_sim_gran(sim, end - 1) + 1; g++)
		if (sim->gst[g] == VMEM_G_FRESH)
			vmem_sim_violation(sim,
					   "online(%#llx): the callback left a granule undecided",
					   vmem_sim_gran_addr(sim, g));
}

/**
 * vmem_sim_end_lmb_move() - complete or cancel a transition
 * @sim: the sim
 * @lmb: the Linux memory block in transition
 * @cancel: cancel it (CANCEL_ONLINE, CANCEL_OFFLINE)
 *
 * Completing an offline fails as Linux would (vmem_sim_pages_offline()):
 * the transition is then cancelled.
 *
 * Return: 0 if it ended as asked, -EBUSY if an offline failed, -EINVAL if
 * the block is not in transition.
 */
int vmem_sim_end_lmb_move(struct vmem_sim *sim, u64 lmb, bool cancel)
{
	enum vmem_zone to;
	int ret = 0;

	if (lmb >= sim->nr_lmbs || !test_bit(lmb, sim->moving))
		return -EINVAL;
	to = sim->moving_to[lmb];
	if (to == VMEM_ZONE_OFFLINE && !cancel) {
		ret = vmem_sim_pages_offline(sim, lmb,
					     test_bit(lmb, sim->ours_move));
		cancel = ret;
	}
	if (to != VMEM_ZONE_OFFLINE) {
		if (cancel)
			vmem_sim_pages_cancel_online(sim, lmb);
		else
			sim_online_callback(sim, lmb);
	} else if (!cancel) {
		vmem_sim_pages_gone(sim, lmb);
	}
	if (!cancel)
		sim->zone[lmb] = to;
	/* The event that ends the transition still comes inside it. */
	if (to == VMEM_ZONE_OFFLINE)
		sim_notify(sim, cancel ? VMEM_MEM_CANCEL_OFFLINE :
			   VMEM_MEM_OFFLINE, lmb);
	else
		sim_notify(sim, cancel ? VMEM_MEM_CANCEL_ONLINE :
			   VMEM_MEM_ONLINE, lmb);
	clear_bit(lmb, sim->moving);
	clear_bit(lmb, sim->ours_move);
	return ret;
}

/* A whole transition of @lmb; a fault (call @idx of @op) cancels it. */
static int sim_move(struct vmem_sim *sim, u64 lmb, enum vmem_zone to,
		    enum vmem_sim_op op, u64 idx, bool ours)
{
	int ret = vmem_sim_begin_lmb_move(sim, lmb, to, ours);
	int fault = 0;

	if (ret)
		return ret;
	vmem_sim_fault(sim, op, idx, lmb / sim->lmbs_per_mb, &fault);
	ret = vmem_sim_end_lmb_move(sim, lmb, fault);
	return fault ?: ret;
}

int vmem_sim_online_lmb(struct vmem_sim *sim, u64 lmb, enum vmem_zone zone)
{
	if (zone == VMEM_ZONE_OFFLINE)
		return -EINVAL;
	return sim_move(sim, lmb, zone, VMEM_SIM_ONLINE,
			sim->calls[VMEM_SIM_ONLINE]++, false);
}

int vmem_sim_offline_lmb(struct vmem_sim *sim, u64 lmb)
{
	return sim_move(sim, lmb, VMEM_ZONE_OFFLINE, VMEM_SIM_OFFLINE,
			sim->calls[VMEM_SIM_OFFLINE]++, false);
}

/* The admin onlines (offlines) every Linux memory block of @mb in turn. */
int vmem_sim_online(struct vmem_sim *sim, u64 mb, enum vmem_zone zone)
{
	u64 lmb;
	int rc, ret = 0;

	for (lmb = mb * sim->lmbs_per_mb; mb < sim->nr_mbs &&
	     lmb < (mb + 1) * sim->lmbs_per_mb; lmb++) {
		rc = vmem_sim_online_lmb(sim, lmb, zone);
		if (rc && !ret)
			ret = rc;
	}
	return mb < sim->nr_mbs ? ret : -EINVAL;
}

int vmem_sim_offline(struct vmem_sim *sim, u64 mb)
{
	u64 lmb;
	int rc, ret = -EINVAL;

	for (lmb = mb * sim->lmbs_per_mb; mb < sim->nr_mbs &&
	     lmb < (mb + 1) * sim->lmbs_per_mb; lmb++) {
		rc = vmem_sim_offline_lmb(sim, lmb);
		if (ret == -EINVAL || (rc && rc != -EINVAL))
			ret = rc;
	}
	return ret;
}

/* Another task starts (ends) a transition of every Linux memory block of
 * @mb that can make it.
 */
int vmem_sim_begin_move(struct vmem_sim *sim, u64 mb, enum vmem_zone to)
{
	int rc, ret = -EINVAL;
	u64 lmb;

	for (lmb = mb * sim->lmbs_per_mb; mb < sim->nr_mbs &&
	     lmb < (mb + 1) * sim->lmbs_per_mb; lmb++) {
		rc = vmem_sim_begin_lmb_move(sim, lmb, to, false);
		if (ret)
			ret = rc;
	}
	return ret;
}

int vmem_sim_end_move(struct vmem_sim *sim, u64 mb, bool cancel)
{
	int rc, ret = -EINVAL;
	u64 lmb;

	for (lmb = mb * sim->lmbs_per_mb; mb < sim->nr_mbs &&
	     lmb < (mb + 1) * sim->lmbs_per_mb; lmb++) {
		rc = vmem_sim_end_lmb_move(sim, lmb, cancel);
		if (ret)
			ret = rc;
	}
	return ret;
}

/**
 * vmem_sim_mark() - the workload at the granule of @addr
 * @sim: the sim
 * @addr: an address of an online block
 * @map: sim->used or sim->foreign
 * @set: set or clear
 *
 * Return: 0, or -EINVAL unless the granule is Linux's.
 */
int vmem_sim_mark(struct vmem_sim *sim, u64 addr, unsigned long *map,
		  bool set)
{
	u64 g;

	if (vmem_sim_mb_of(sim, addr) < 0)
		return -EINVAL;
	g = vmem_sim_gran(sim, addr);
	if (set && sim->gst[g] != VMEM_G_LINUX)
		return -EINVAL;
	assign_bit(g, map, set);
	return 0;
}

/**
 * vmem_sim_use_range() - the workload uses every granule of a range
 * @sim: the sim
 * @addr: first byte, of an online block
 * @size: bytes
 *
 * Granules that are not Linux's (fake-offline, memmap) stay unused.
 *
 * Return: the number of granules marked used.
 */
u64 vmem_sim_use_range(struct vmem_sim *sim, u64 addr, u64 size)
{
	u64 a, n = 0;

	for (a = addr; a < addr + size; a += sim->gran)
		n += !vmem_sim_mark(sim, a, sim->used, true);
	return n;
}

/* Pin (or unpin) the granule at @addr: it must be Linux's. */
int vmem_sim_pin(struct vmem_sim *sim, u64 addr, bool pin)
{
	return vmem_sim_mark(sim, addr, sim->pinned, pin);
}

static u64 sim_offline_mbs(const struct vmem_sim *sim)
{
	u64 mb, n = 0;

	for (mb = 0; mb < sim->nr_mbs; mb++)
		n += test_bit(mb, sim->added) && !vmem_sim_mb_online(sim, mb);
	return n;
}

/* Kernel memory a plain add of a block takes: its memmap. */
static u64 sim_memmap_cost(const struct vmem_sim *sim)
{
	return sim->p.e.memmap_size * sim->lmbs_per_mb;
}

static int sim_add(void *priv, u64 addr, u64 size, bool memmap)
{
	struct vmem_sim *sim = priv;
	u64 mb, idx, cost = sim_memmap_cost(sim), lmb;
	int ret;

	if (!sim_mm_enter(sim, VMEM_SIM_ADD, addr, size, &mb, &idx))
		return -EINVAL;
	if (test_bit(mb, sim->added)) {
		vmem_sim_violation(sim, "add(%#llx): already added", addr);
		return -EEXIST;
	}
	if (!vmem_sim_dev_plugged(sim, addr, size, false))
		vmem_sim_violation(sim, "add(%#llx): nothing plugged: plug comes before add",
				   addr);
	if (sim_offline_mbs(sim) * sim->p.e.mb_size >=
	    sim->p.e.offline_threshold)
		vmem_sim_violation(sim, "add(%#llx) with %llu offline blocks: at the threshold",
				   addr, sim_offline_mbs(sim));
	if (memmap && !vmem_sim_dev_plugged(sim, addr, cost, true))
		vmem_sim_violation(sim, "add(%#llx): the memmap would go on unplugged memory",
				   addr);
	if (vmem_sim_fault(sim, VMEM_SIM_ADD, idx, mb, &ret))
		return ret;
	if (memmap && !sim->memmap_ok)
		return -EOPNOTSUPP;
	if (!memmap && cost > sim->kmem_avail) {
		/* The real kernel WARNs in add_pages(): a panic, with panic_on_warn. */
		vmem_sim_violation(sim, "add(%#llx): no kernel memory for the memmap (%llu left)",
				   addr, sim->kmem_avail);
		return -ENOMEM;
	}
	if (memmap)
		set_bit(mb, sim->mb_memmap);
	else
		sim->kmem_avail -= cost;
	sim->kmem_min = min(sim->kmem_min, sim->kmem_avail);
	set_bit(mb, sim->added);
	for (lmb = mb * sim->lmbs_per_mb; lmb < (mb + 1) * sim->lmbs_per_mb;
	     lmb++)
		sim->zone[lmb] = VMEM_ZONE_OFFLINE;
	/* A failed onlining leaves the block offline; add still succeeds. */
	if (sim->auto_online != VMEM_ZONE_OFFLINE)
		for (lmb = mb * sim->lmbs_per_mb;
		     lmb < (mb + 1) * sim->lmbs_per_mb; lmb++)
			sim_move(sim, lmb, sim->auto_online, VMEM_SIM_ONLINE,
				 sim->calls[VMEM_SIM_ONLINE]++, true);
	return 0;
}

static void sim_forget(struct vmem_sim *sim, u64 mb)
{
	if (!test_and_clear_bit(mb, sim->mb_memmap))
		sim->kmem_avail += sim_memmap_cost(sim);
	clear_bit(mb, sim->added);
}

static int sim_remove(void *priv, u64 addr, u64 size)
{
	struct vmem_sim *sim = priv;
	u64 mb, idx;
	int ret = 0;

	if (!sim_mm_enter(sim, VMEM_SIM_REMOVE, addr, size, &mb, &idx))
		return -EINVAL;
	if (!test_bit(mb, sim->added)) {
		vmem_sim_violation(sim, "remove(%#llx): not added", addr);
		return -EINVAL;
	}
	/* remove_memory() of a block with an online part fails. */
	if (vmem_sim_mb_online(sim, mb))
		return -EBUSY;
	if (vmem_sim_fault(sim, VMEM_SIM_REMOVE, idx, mb, &ret))
		return ret;
	sim_forget(sim, mb);
	return 0;
}

/*
 * offline_and_remove_memory(): offline each online Linux memory block in
 * turn (the glue vetoes one that is not idle once isolated), roll back on
 * failure by onlining again what it offlined, else remove the block.
 */
static int sim_offline_and_remove(void *priv, u64 addr, u64 size)
{
	struct vmem_sim *sim = priv;
	u64 mb, idx, lmb, first, done;
	u8 *zones;
	int ret = 0;

	if (!sim_mm_enter(sim, VMEM_SIM_OFFLINE_AND_REMOVE, addr, size, &mb,
			  &idx))
		return -EINVAL;
	if (!test_bit(mb, sim->added)) {
		vmem_sim_violation(sim, "offline_and_remove(%#llx): not added",
				   addr);
		return -EINVAL;
	}
	first = mb * sim->lmbs_per_mb;
	zones = sim->was_zone + first;
	if (vmem_sim_fault(sim, VMEM_SIM_OFFLINE_AND_REMOVE, idx, mb, &ret))
		return ret;
	for (done = 0; done < sim->lmbs_per_mb && !ret; done++) {
		lmb = first + done;
		zones[done] = sim->zone[lmb];
		if (!vmem_sim_lmb_online(sim, lmb))
			continue;
		ret = vmem_sim_begin_lmb_move(sim, lmb, VMEM_ZONE_OFFLINE,
					      true);
		if (!ret)
			ret = vmem_sim_end_lmb_move(sim, lmb, false);
	}
	if (ret) {
		/* Roll back: online again what this call offlined. */
		for (lmb = first; lmb + 1 < first + done; lmb++)
			if (zones[lmb - first] != VMEM_ZONE_OFFLINE)
				sim_move(sim, lmb, zones[lmb - first],
					 VMEM_SIM_NR_OPS, 0, true);
		return ret;
	}
	sim_forget(sim, mb);
	return 0;
}

static bool sim_range_idle(void *priv, u64 addr, u64 size)
{
	return vmem_sim_pages_idle(priv, addr, size);
}

static int sim_may_take(void *priv, u64 addr, u64 size)
{
	struct vmem_sim *sim = priv;
	s64 mb = vmem_sim_mb_of(sim, addr);
	int ret = 0;

	vmem_sim_fault(sim, VMEM_SIM_MAY_TAKE, sim->calls[VMEM_SIM_MAY_TAKE]++,
		       mb, &ret);
	return ret;
}

static enum vmem_zone sim_zone(void *priv, u64 addr)
{
	struct vmem_sim *sim = priv;
	s64 mb = vmem_sim_mb_of(sim, addr);

	if (mb < 0) {
		vmem_sim_violation(sim, "zone(%#llx): not a memory block of ours", addr);
		return VMEM_ZONE_OFFLINE;
	}
	if (!test_bit(mb, sim->added))
		return VMEM_ZONE_OFFLINE;
	return sim->zone[(addr - sim->first_mb) / sim->p.e.lmb_size];
}

static void sim_kernel_mem(void *priv, struct vmem_kmem *k)
{
	struct vmem_sim *sim = priv;

	sim->calls[VMEM_SIM_KERNEL_MEM]++;
	k->avail = sim->kmem_avail;
	k->managed = sim->kmem_managed;
}

const struct vmem_mm_ops vmem_sim_mm_ops = {
	.add = sim_add,
	.remove = sim_remove,
	.offline_and_remove = sim_offline_and_remove,
	.range_idle = sim_range_idle,
	.may_take = sim_may_take,
	.zone = sim_zone,
	.kernel_mem = sim_kernel_mem,
};
