// SPDX-License-Identifier: GPL-2.0
/*
 * KUnit: the simulated memory-hotplug layer behind the resize engine's
 * struct vmem_mm_ops: adding, onlining, offlining and removing memory
 * blocks, the page allocator per subblock, the kernel memory that plain
 * adds take for their memmap, and memmap_on_memory. See vmem_sim.h.
 */
#include <kunit/test.h>
#include <linux/bitmap.h>
#include <linux/kernel.h>
#include <linux/minmax.h>
#include <linux/mutex.h>
#include <linux/sizes.h>

#include "../include/vmem_budget.h"
#include "vmem_sim.h"

/* The page the sim asks vmem_engine_page_plugged() about. */
#define SIM_PAGE		SZ_4K

/*
 * Entry checks of an mm op on [@addr, @addr + @size): one whole memory
 * block of the region (@whole), or whole granules inside one memory block
 * that is not in transition. Counts the call in *@idx.
 */
static bool sim_mm_enter(struct vmem_sim *sim, enum vmem_sim_op op,
			 u64 addr, u64 size, bool whole, u64 *mb, u64 *idx)
{
	u64 mbs = sim->p.e.mb_size, sb = sim->p.e.sb_size, off;
	const char *what = vmem_sim_op_name(op);

	*idx = sim->calls[op]++;
	if (whole && mutex_is_locked(&sim->e.lock)) {
		vmem_sim_violation(sim, "%s(%#llx) with the engine lock held",
				   what, addr);
		return false;
	}
	if (whole && sim->hook)
		sim->hook(sim, op, addr);
	if (addr < sim->first_mb || !size || addr + size < addr ||
	    addr + size > sim->first_mb + sim->nr_mbs * mbs)
		goto bad;
	off = addr - sim->first_mb;
	*mb = off / mbs;
	if (whole ? off % mbs || size != mbs :
	    off % sb || size % sb || (off + size - 1) / mbs != *mb)
		goto bad;
	if (test_bit(*mb, sim->moving)) {
		vmem_sim_violation(sim, "%s(%#llx): the block is in an online/offline transition",
				   what, addr);
		return false;
	}
	return true;
bad:
	vmem_sim_violation(sim, "%s(%#llx, %#llx): not %s", what, addr, size,
			   whole ? "a whole memory block of the region" :
			   "whole subblocks of one memory block");
	return false;
}

/* Send a memory event; the engine takes its lock inside and drops it. */
static bool sim_notify(struct vmem_sim *sim, enum vmem_mem_event ev, u64 mb)
{
	u64 addr = vmem_sim_mb_addr(sim, mb);

	if (mutex_is_locked(&sim->e.lock)) {
		vmem_sim_violation(sim, "memory event %d at %#llx due with the engine lock held",
				   ev, addr);
		return false;
	}
	vmem_engine_notify(&sim->e, ev, addr, sim->p.e.mb_size);
	if (mutex_is_locked(&sim->e.lock)) {
		vmem_sim_violation(sim, "memory event %d at %#llx left the engine lock held",
				   ev, addr);
		mutex_unlock(&sim->e.lock);
	}
	return true;
}

/*
 * Start onlining an offline block (to zone @to) or offlining an online one
 * (@to is VMEM_ZONE_OFFLINE): GOING_ONLINE or GOING_OFFLINE. The block is
 * in transition until vmem_sim_end_move(). -EINVAL if it cannot move so.
 */
int vmem_sim_begin_move(struct vmem_sim *sim, u64 mb, enum vmem_zone to)
{
	bool online = mb < sim->nr_mbs && vmem_sim_mb_online(sim, mb);
	bool offlining = to == VMEM_ZONE_OFFLINE;

	if (mb >= sim->nr_mbs || !test_bit(mb, sim->added) ||
	    test_bit(mb, sim->moving) || online != offlining)
		return -EINVAL;
	if (!sim_notify(sim, to == VMEM_ZONE_OFFLINE ? VMEM_MEM_GOING_OFFLINE :
			VMEM_MEM_GOING_ONLINE, mb))
		return -EDEADLK;
	set_bit(mb, sim->moving);
	sim->moving_to[mb] = to;
	return 0;
}

/*
 * Onlining: the online_page callback asks the engine which granules go to
 * the buddy, for the first and the last page of each. Linux skips the
 * memmap of a block that carries its own: granules wholly inside it.
 */
static void sim_online_pages(struct vmem_sim *sim, u64 mb)
{
	u64 sb = sim->p.e.sb_size, a = vmem_sim_mb_addr(sim, mb), g, end;
	u64 memmap_end = a + vmem_sim_memmap_bytes(sim, mb);
	bool in, last;

	g = vmem_sim_gran(sim, a);
	for (end = g + vmem_sim_grans_per_mb(sim); g < end; g++, a += sb) {
		if (a + sb <= memmap_end)
			continue;
		in = vmem_engine_page_plugged(&sim->e, a);
		last = vmem_engine_page_plugged(&sim->e, a + sb - SIM_PAGE);
		if (in != last)
			vmem_sim_violation(sim, "page_plugged(): %#llx != %#llx",
					   a, a + sb - SIM_PAGE);
		if (!in)
			continue;
		if (!vmem_sim_dev_plugged(sim, a, sb, true))
			vmem_sim_violation(sim, "page_plugged(%#llx) but the device says unplugged",
					   a);
		set_bit(g, sim->buddy);
	}
}

/* Complete (ONLINE, OFFLINE) or @cancel a transition; -EINVAL if none. */
int vmem_sim_end_move(struct vmem_sim *sim, u64 mb, bool cancel)
{
	u64 first = vmem_sim_gran(sim, vmem_sim_mb_addr(sim, mb));
	enum vmem_zone to;

	if (mb >= sim->nr_mbs || !test_bit(mb, sim->moving))
		return -EINVAL;
	to = sim->moving_to[mb];
	if (!cancel && to == VMEM_ZONE_OFFLINE) {
		/* In-use pages migrate away; the memory leaves the buddy. */
		bitmap_clear(sim->buddy, first, vmem_sim_grans_per_mb(sim));
		bitmap_clear(sim->pinned, first, vmem_sim_grans_per_mb(sim));
	} else if (!cancel) {
		sim_online_pages(sim, mb);
	}
	if (!cancel)
		sim->zone[mb] = to;
	clear_bit(mb, sim->moving);
	if (to == VMEM_ZONE_OFFLINE)
		sim_notify(sim, cancel ? VMEM_MEM_CANCEL_OFFLINE :
			   VMEM_MEM_OFFLINE, mb);
	else
		sim_notify(sim, cancel ? VMEM_MEM_CANCEL_ONLINE :
			   VMEM_MEM_ONLINE, mb);
	return 0;
}

/* A kernel block with a pinned page in use cannot be offlined. */
static int sim_unmovable(const struct vmem_sim *sim, u64 mb)
{
	u64 first = vmem_sim_gran(sim, vmem_sim_mb_addr(sim, mb)), g;

	if (sim->zone[mb] != VMEM_ZONE_KERNEL)
		return 0;
	for (g = first; g < first + vmem_sim_grans_per_mb(sim); g++)
		if (test_bit(g, sim->pinned) && test_bit(g, sim->buddy))
			return -EBUSY;
	return 0;
}

/* A whole transition; a fault (call @idx of @op) cancels it. */
static int sim_move(struct vmem_sim *sim, u64 mb, enum vmem_zone to,
		    enum vmem_sim_op op, u64 idx)
{
	int ret = vmem_sim_begin_move(sim, mb, to);

	if (ret)
		return ret;
	if (!vmem_sim_fault(sim, op, idx, mb, &ret) && to == VMEM_ZONE_OFFLINE)
		ret = sim_unmovable(sim, mb);
	vmem_sim_end_move(sim, mb, ret);
	return ret;
}

int vmem_sim_online(struct vmem_sim *sim, u64 mb, enum vmem_zone zone)
{
	if (zone == VMEM_ZONE_OFFLINE)
		return -EINVAL;
	return sim_move(sim, mb, zone, VMEM_SIM_ONLINE,
			sim->calls[VMEM_SIM_ONLINE]++);
}

int vmem_sim_offline(struct vmem_sim *sim, u64 mb)
{
	return sim_move(sim, mb, VMEM_ZONE_OFFLINE, VMEM_SIM_OFFLINE,
			sim->calls[VMEM_SIM_OFFLINE]++);
}

/* Pin (or unpin) the granule at @addr: it must be in a kernel block's buddy. */
int vmem_sim_pin(struct vmem_sim *sim, u64 addr, bool pin)
{
	s64 mb = vmem_sim_mb_of(sim, addr);
	u64 g;

	if (mb < 0)
		return -EINVAL;
	g = vmem_sim_gran(sim, addr);
	if (pin && (sim->zone[mb] != VMEM_ZONE_KERNEL ||
		    !test_bit(g, sim->buddy)))
		return -EINVAL;
	assign_bit(g, sim->pinned, pin);
	return 0;
}

static u64 sim_offline_mbs(const struct vmem_sim *sim)
{
	u64 mb, n = 0;

	for (mb = 0; mb < sim->nr_mbs; mb++)
		n += test_bit(mb, sim->added) &&
		     sim->zone[mb] == VMEM_ZONE_OFFLINE;
	return n;
}

/* Kernel memory a plain add of a block takes: its memmap. */
static u64 sim_memmap_cost(const struct vmem_sim *sim)
{
	return sim->p.e.memmap_size * (sim->p.e.mb_size / sim->p.e.lmb_size);
}

static int sim_add(void *priv, u64 addr, u64 size, bool memmap)
{
	struct vmem_sim *sim = priv;
	u64 mb, idx, cost = sim_memmap_cost(sim);
	int ret;

	if (!sim_mm_enter(sim, VMEM_SIM_ADD, addr, size, true, &mb, &idx))
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
	sim->zone[mb] = VMEM_ZONE_OFFLINE;
	/* A failed onlining leaves the block offline; add still succeeds. */
	if (sim->auto_online != VMEM_ZONE_OFFLINE)
		vmem_sim_online(sim, mb, sim->auto_online);
	return 0;
}

/* remove (of an offline block) and offline_and_remove */
static int sim_remove_op(struct vmem_sim *sim, enum vmem_sim_op op, u64 addr,
			 u64 size, u64 memmap)
{
	u64 mb, idx;
	int ret = 0;

	if (!sim_mm_enter(sim, op, addr, size, true, &mb, &idx))
		return -EINVAL;
	if (!test_bit(mb, sim->added)) {
		vmem_sim_violation(sim, "%s(%#llx): not added", vmem_sim_op_name(op),
				   addr);
		return -EINVAL;
	}
	if (op == VMEM_SIM_OFFLINE_AND_REMOVE &&
	    memmap != vmem_sim_memmap_bytes(sim, mb))
		vmem_sim_violation(sim, "offline_and_remove(%#llx): memmap %llu, block has %llu",
				   addr, memmap, vmem_sim_memmap_bytes(sim, mb));
	if (sim->zone[mb] != VMEM_ZONE_OFFLINE && op == VMEM_SIM_REMOVE) {
		vmem_sim_violation(sim, "remove(%#llx): the block is online", addr);
		return -EBUSY;
	}
	if (sim->zone[mb] == VMEM_ZONE_OFFLINE)
		vmem_sim_fault(sim, op, idx, mb, &ret);
	else
		ret = sim_move(sim, mb, VMEM_ZONE_OFFLINE, op, idx);
	if (ret)
		return ret;
	if (!test_and_clear_bit(mb, sim->mb_memmap))
		sim->kmem_avail += sim_memmap_cost(sim);
	clear_bit(mb, sim->added);
	return 0;
}

static int sim_remove(void *priv, u64 addr, u64 size)
{
	return sim_remove_op(priv, VMEM_SIM_REMOVE, addr, size, 0);
}

static int sim_offline_and_remove(void *priv, u64 addr, u64 size, u64 memmap)
{
	return sim_remove_op(priv, VMEM_SIM_OFFLINE_AND_REMOVE, addr, size,
			     memmap);
}

static int sim_fake_offline(void *priv, u64 addr, u64 size)
{
	struct vmem_sim *sim = priv;
	u64 mb, idx, g, first, n = size / sim->p.e.sb_size;
	int ret;

	if (!sim_mm_enter(sim, VMEM_SIM_FAKE_OFFLINE, addr, size, false, &mb,
			  &idx))
		return -EINVAL;
	if (sim->p.e.bbm) {
		vmem_sim_violation(sim, "fake_offline(%#llx) in Big-Block Mode", addr);
		return -EINVAL;
	}
	first = vmem_sim_gran(sim, addr);
	if (!vmem_sim_mb_online(sim, mb)) {
		vmem_sim_violation(sim, "fake_offline(%#llx): the block is not online",
				   addr);
		return -EINVAL;
	}
	if (vmem_sim_fault(sim, VMEM_SIM_FAKE_OFFLINE, idx, mb, &ret))
		return ret;
	for (g = first; g < first + n; g++) {
		if (!test_bit(g, sim->buddy)) {
			vmem_sim_violation(sim, "fake_offline(%#llx, %#llx): not in the buddy",
					   addr, size);
			return -EBUSY;
		}
	}
	for (g = first; g < first + n; g++)
		if (test_bit(g, sim->pinned))
			return -EBUSY;
	bitmap_clear(sim->buddy, first, n);
	return 0;
}

static void sim_fake_online(void *priv, u64 addr, u64 size)
{
	struct vmem_sim *sim = priv;
	u64 mb, idx, g, sb = sim->p.e.sb_size, a;

	if (!sim_mm_enter(sim, VMEM_SIM_FAKE_ONLINE, addr, size, false, &mb,
			  &idx))
		return;
	if (!vmem_sim_mb_online(sim, mb)) {
		vmem_sim_violation(sim, "fake_online(%#llx): the block is not online",
				   addr);
		return;
	}
	for (a = addr; a < addr + size; a += sb) {
		g = vmem_sim_gran(sim, a);
		if (test_bit(g, sim->buddy))
			vmem_sim_violation(sim, "fake_online(%#llx): %#llx in the buddy already",
					   addr, a);
		if (!vmem_sim_dev_plugged(sim, a, sb, true))
			vmem_sim_violation(sim, "fake_online(%#llx): %#llx is not plugged",
					   addr, a);
		set_bit(g, sim->buddy);
	}
}

static enum vmem_zone sim_zone(void *priv, u64 addr)
{
	struct vmem_sim *sim = priv;
	s64 mb = vmem_sim_mb_of(sim, addr);

	if (mb < 0) {
		vmem_sim_violation(sim, "zone(%#llx): not a memory block of ours", addr);
		return VMEM_ZONE_OFFLINE;
	}
	return test_bit(mb, sim->added) ? sim->zone[mb] : VMEM_ZONE_OFFLINE;
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
	.fake_offline = sim_fake_offline,
	.fake_online = sim_fake_online,
	.zone = sim_zone,
	.kernel_mem = sim_kernel_mem,
};

