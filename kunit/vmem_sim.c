// SPDX-License-Identifier: GPL-2.0
/*
 * KUnit: a simulated virtio-mem device and memory-hotplug layer for the
 * resize engine, and the invariant checker. See vmem_sim.h.
 *
 * Device replies follow QEMU 7.2 (virtio_mem_state_change_request()):
 * a request outside the usable region, misaligned or of zero blocks gets
 * ERROR; a plug that would take plugged_size beyond requested_size gets
 * NACK; a plug of a plugged block or an unplug of an unplugged one gets
 * ERROR; UNPLUG_ALL empties the device and sets the usable region to
 * requested_size + 256 MiB (0 if nothing is requested).
 */
#include <kunit/test.h>
#include <linux/bitmap.h>
#include <linux/sched.h>
#include <linux/kernel.h>
#include <linux/minmax.h>
#include <linux/mutex.h>
#include <linux/sizes.h>
#include <linux/slab.h>
#include <linux/virtio_mem.h>

#include "vmem_sim.h"

/* The page the sim asks vmem_engine_page_plugged() about. */
#define SIM_PAGE		SZ_4K
/* QEMU's VIRTIO_MEM_USABLE_EXTENT on x86-64. */
#define SIM_USABLE_EXTENT	SZ_256M

static const char * const sim_op_names[VMEM_SIM_NR_OPS] = {
	[VMEM_SIM_REQ] = "request",
	[VMEM_SIM_PLUG] = "plug",
	[VMEM_SIM_UNPLUG] = "unplug",
	[VMEM_SIM_UNPLUG_ALL] = "unplug_all",
	[VMEM_SIM_STATE] = "state",
	[VMEM_SIM_ADD] = "add",
	[VMEM_SIM_REMOVE] = "remove",
	[VMEM_SIM_OFFLINE_AND_REMOVE] = "offline_and_remove",
	[VMEM_SIM_FAKE_OFFLINE] = "fake_offline",
	[VMEM_SIM_FAKE_ONLINE] = "fake_online",
	[VMEM_SIM_ONLINE] = "online",
	[VMEM_SIM_OFFLINE] = "offline",
};

const char *vmem_sim_op_name(enum vmem_sim_op op)
{
	return op < VMEM_SIM_NR_OPS ? sim_op_names[op] : "?";
}

static __printf(2, 3) void sim_violation(struct vmem_sim *sim,
					 const char *fmt, ...)
{
	va_list args;

	if (sim->violations++)
		return;
	va_start(args, fmt);
	vsnprintf(sim->violation, sizeof(sim->violation), fmt, args);
	va_end(args);
}

/* Whether a fault hits call @idx of @op on memory block @mb. */
static bool sim_fault(struct vmem_sim *sim, enum vmem_sim_op op, u64 idx,
		      s64 mb, int *ret)
{
	struct vmem_sim_fault *f;
	unsigned int i;

	for (i = 0; i < sim->nr_faults; i++) {
		f = &sim->faults[i];
		if (f->op != op || (f->hits && !f->sticky))
			continue;
		if (f->index != VMEM_SIM_ANY && (u64)f->index != idx)
			continue;
		if (f->mb != VMEM_SIM_ANY && f->mb != mb)
			continue;
		f->hits++;
		*ret = f->ret;
		return true;
	}
	return false;
}

int vmem_sim_add_fault(struct vmem_sim *sim, enum vmem_sim_op op, s64 index,
		       s64 mb, int ret, bool sticky)
{
	struct vmem_sim_fault *f = NULL;
	unsigned int i;

	/* Reuse the slot of a one-shot fault that hit already. */
	for (i = 0; i < sim->nr_faults && !f; i++)
		if (sim->faults[i].hits && !sim->faults[i].sticky)
			f = &sim->faults[i];
	if (!f) {
		if (sim->nr_faults == VMEM_SIM_MAX_FAULTS)
			return -ENOSPC;
		f = &sim->faults[sim->nr_faults++];
	}
	f->op = op;
	f->index = index;
	f->mb = mb;
	f->ret = ret;
	f->sticky = sticky;
	f->hits = 0;
	return 0;
}

/* The device. */

/* Check a request's range against the spec; record what the driver broke. */
static bool sim_dev_range_ok(struct vmem_sim *sim, const char *what,
			     u64 addr, u16 nb)
{
	u64 bs = sim->p.e.block_size, end = addr + (u64)nb * bs;
	const char *why = !nb ? "nb_blocks 0" : addr % bs ? "misaligned" :
			  addr < sim->p.e.addr || end < addr ||
			  end > sim->p.e.addr + sim->usable ?
			  "outside the usable region" : NULL;

	if (why)
		sim_violation(sim, "%s(%#llx, %u): %s", what, addr, nb, why);
	return !why;
}

/* Whether memory of [@addr, @addr + @size) is in the buddy (in use). */
static bool sim_in_use(const struct vmem_sim *sim, u64 addr, u64 size)
{
	u64 lo = max(addr, sim->first_mb), g0, g1;
	u64 hi = min(addr + size, vmem_sim_mb_addr(sim, sim->nr_mbs));

	if (lo >= hi)
		return false;
	g0 = vmem_sim_gran(sim, lo);
	g1 = vmem_sim_gran(sim, hi - 1) + 1;
	return find_next_bit(sim->buddy, g1, g0) < g1;
}

static int sim_dev_request(struct vmem_sim *sim, enum vmem_sim_op op,
			   u64 addr, u16 nb, u16 *state)
{
	u64 idx = sim->calls[VMEM_SIM_REQ]++, opidx = sim->calls[op]++;
	const char *what = sim_op_names[op];
	u64 bs = sim->p.e.block_size, size = nb * bs;
	bool valid = sim_dev_range_ok(sim, what, addr, nb), any = false;
	bool all = false;
	s64 mb = vmem_sim_mb_of(sim, addr);
	int ret;

	if (valid && mb >= 0 && test_bit(mb, sim->moving))
		sim_violation(sim, "%s(%#llx, %u): the block is in an online/offline transition",
			      what, addr, nb);
	if (valid) {
		any = vmem_sim_dev_plugged(sim, addr, size, false);
		all = vmem_sim_dev_plugged(sim, addr, size, true);
		if (op == VMEM_SIM_PLUG && any)
			sim_violation(sim, "plug(%#llx, %u): plugged already",
				      addr, nb);
		if (op == VMEM_SIM_UNPLUG && !all)
			sim_violation(sim, "unplug(%#llx, %u): not plugged",
				      addr, nb);
		if (op == VMEM_SIM_UNPLUG && sim_in_use(sim, addr, size))
			sim_violation(sim, "unplug(%#llx, %u): memory in use",
				      addr, nb);
	}
	if (sim_fault(sim, VMEM_SIM_REQ, idx, mb, &ret) ||
	    sim_fault(sim, op, opidx, mb, &ret))
		return ret;
	if (!valid)
		return VIRTIO_MEM_RESP_ERROR;
	if (op == VMEM_SIM_STATE) {
		*state = !any ? VIRTIO_MEM_STATE_UNPLUGGED :
		       all ? VIRTIO_MEM_STATE_PLUGGED : VIRTIO_MEM_STATE_MIXED;
		return VIRTIO_MEM_RESP_ACK;
	}
	if (op == VMEM_SIM_PLUG && sim->plugged_size + nb * bs > sim->requested)
		return VIRTIO_MEM_RESP_NACK;
	if (op == VMEM_SIM_PLUG ? any : !all)
		return VIRTIO_MEM_RESP_ERROR;
	if (op == VMEM_SIM_PLUG)
		bitmap_set(sim->dev_plugged, vmem_sim_block(sim, addr), nb);
	else
		bitmap_clear(sim->dev_plugged, vmem_sim_block(sim, addr), nb);
	sim->plugged_size += op == VMEM_SIM_PLUG ? size : -size;
	sim->max_plugged = max(sim->max_plugged, sim->plugged_size);
	return VIRTIO_MEM_RESP_ACK;
}

static int sim_dev_plug(void *priv, u64 addr, u16 nb_blocks)
{
	return sim_dev_request(priv, VMEM_SIM_PLUG, addr, nb_blocks, NULL);
}

static int sim_dev_unplug(void *priv, u64 addr, u16 nb_blocks)
{
	return sim_dev_request(priv, VMEM_SIM_UNPLUG, addr, nb_blocks, NULL);
}

static int sim_dev_state(void *priv, u64 addr, u16 nb_blocks, u16 *state)
{
	return sim_dev_request(priv, VMEM_SIM_STATE, addr, nb_blocks, state);
}

static int sim_dev_unplug_all(void *priv)
{
	struct vmem_sim *sim = priv;
	u64 idx = sim->calls[VMEM_SIM_REQ]++;
	u64 opidx = sim->calls[VMEM_SIM_UNPLUG_ALL]++;
	u64 usable = 0;
	int ret;

	if (!bitmap_empty(sim->buddy, sim->nr_grans))
		sim_violation(sim, "unplug_all with memory in the page allocator");
	if (sim_fault(sim, VMEM_SIM_REQ, idx, VMEM_SIM_NO_MB, &ret) ||
	    sim_fault(sim, VMEM_SIM_UNPLUG_ALL, opidx, VMEM_SIM_NO_MB, &ret))
		return ret;
	bitmap_zero(sim->dev_plugged, sim->nr_blocks);
	sim->plugged_size = 0;
	if (sim->requested)
		usable = min(sim->p.e.region_size,
			     round_up(sim->requested + SIM_USABLE_EXTENT,
				      sim->p.e.block_size));
	if (usable != sim->usable) {
		sim->usable = usable;
		sim->cfg_pending = true;
	}
	return VIRTIO_MEM_RESP_ACK;
}

const struct vmem_device_ops vmem_sim_dev_ops = {
	.plug = sim_dev_plug,
	.unplug = sim_dev_unplug,
	.unplug_all = sim_dev_unplug_all,
	.state = sim_dev_state,
};

/* The memory-hotplug layer. */

/*
 * Entry checks of an mm op on [@addr, @addr + @size): one whole memory
 * block of the region (@whole), or whole granules inside one memory block
 * that is not in transition. Counts the call in *@idx.
 */
static bool sim_mm_enter(struct vmem_sim *sim, enum vmem_sim_op op,
			 u64 addr, u64 size, bool whole, u64 *mb, u64 *idx)
{
	u64 mbs = sim->p.e.mb_size, sb = sim->p.e.sb_size, off;
	const char *what = sim_op_names[op];

	*idx = sim->calls[op]++;
	if (whole && mutex_is_locked(&sim->e.lock)) {
		sim_violation(sim, "%s(%#llx) with the engine lock held",
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
		sim_violation(sim, "%s(%#llx): the block is in an online/offline transition",
			      what, addr);
		return false;
	}
	return true;
bad:
	sim_violation(sim, "%s(%#llx, %#llx): not %s", what, addr, size,
		      whole ? "a whole memory block of the region" :
		      "whole subblocks of one memory block");
	return false;
}

/* Send a memory event; the engine takes its lock inside and drops it. */
static bool sim_notify(struct vmem_sim *sim, enum vmem_mem_event ev, u64 mb)
{
	u64 addr = vmem_sim_mb_addr(sim, mb);

	if (mutex_is_locked(&sim->e.lock)) {
		sim_violation(sim, "memory event %d at %#llx due with the engine lock held",
			      ev, addr);
		return false;
	}
	vmem_engine_notify(&sim->e, ev, addr, sim->p.e.mb_size);
	if (mutex_is_locked(&sim->e.lock)) {
		sim_violation(sim, "memory event %d at %#llx left the engine lock held",
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
 * the buddy, for the first and the last page of each.
 */
static void sim_online_pages(struct vmem_sim *sim, u64 mb)
{
	u64 sb = sim->p.e.sb_size, a = vmem_sim_mb_addr(sim, mb), g, end;
	bool in, last;

	g = vmem_sim_gran(sim, a);
	for (end = g + vmem_sim_grans_per_mb(sim); g < end; g++, a += sb) {
		in = vmem_engine_page_plugged(&sim->e, a);
		last = vmem_engine_page_plugged(&sim->e, a + sb - SIM_PAGE);
		if (in != last)
			sim_violation(sim, "page_plugged(): %#llx != %#llx",
				      a, a + sb - SIM_PAGE);
		if (!in)
			continue;
		if (!vmem_sim_dev_plugged(sim, a, sb, true))
			sim_violation(sim, "page_plugged(%#llx) but the device has it unplugged",
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
	if (!sim_fault(sim, op, idx, mb, &ret) && to == VMEM_ZONE_OFFLINE)
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

static int sim_add(void *priv, u64 addr, u64 size)
{
	struct vmem_sim *sim = priv;
	u64 mb, idx;
	int ret;

	if (!sim_mm_enter(sim, VMEM_SIM_ADD, addr, size, true, &mb, &idx))
		return -EINVAL;
	if (test_bit(mb, sim->added)) {
		sim_violation(sim, "add(%#llx): already added", addr);
		return -EEXIST;
	}
	if (!vmem_sim_dev_plugged(sim, addr, size, false))
		sim_violation(sim, "add(%#llx): nothing plugged: plug comes before add",
			      addr);
	if (sim_offline_mbs(sim) * sim->p.e.mb_size >=
	    sim->p.e.offline_threshold)
		sim_violation(sim, "add(%#llx) with %llu offline blocks: offline_threshold reached",
			      addr, sim_offline_mbs(sim));
	if (sim_fault(sim, VMEM_SIM_ADD, idx, mb, &ret))
		return ret;
	set_bit(mb, sim->added);
	sim->zone[mb] = VMEM_ZONE_OFFLINE;
	/* A failed onlining leaves the block offline; add still succeeds. */
	if (sim->auto_online != VMEM_ZONE_OFFLINE)
		vmem_sim_online(sim, mb, sim->auto_online);
	return 0;
}

/* remove (of an offline block) and offline_and_remove */
static int sim_remove_op(struct vmem_sim *sim, enum vmem_sim_op op, u64 addr,
			 u64 size)
{
	u64 mb, idx;
	int ret = 0;

	if (!sim_mm_enter(sim, op, addr, size, true, &mb, &idx))
		return -EINVAL;
	if (!test_bit(mb, sim->added)) {
		sim_violation(sim, "%s(%#llx): not added", sim_op_names[op],
			      addr);
		return -EINVAL;
	}
	if (sim->zone[mb] != VMEM_ZONE_OFFLINE && op == VMEM_SIM_REMOVE) {
		sim_violation(sim, "remove(%#llx): the block is online", addr);
		return -EBUSY;
	}
	if (sim->zone[mb] == VMEM_ZONE_OFFLINE)
		sim_fault(sim, op, idx, mb, &ret);
	else
		ret = sim_move(sim, mb, VMEM_ZONE_OFFLINE, op, idx);
	if (!ret)
		clear_bit(mb, sim->added);
	return ret;
}

static int sim_remove(void *priv, u64 addr, u64 size)
{
	return sim_remove_op(priv, VMEM_SIM_REMOVE, addr, size);
}

static int sim_offline_and_remove(void *priv, u64 addr, u64 size)
{
	return sim_remove_op(priv, VMEM_SIM_OFFLINE_AND_REMOVE, addr, size);
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
		sim_violation(sim, "fake_offline(%#llx) in Big-Block Mode", addr);
		return -EINVAL;
	}
	first = vmem_sim_gran(sim, addr);
	if (!vmem_sim_mb_online(sim, mb)) {
		sim_violation(sim, "fake_offline(%#llx): the block is not online",
			      addr);
		return -EINVAL;
	}
	if (sim_fault(sim, VMEM_SIM_FAKE_OFFLINE, idx, mb, &ret))
		return ret;
	for (g = first; g < first + n; g++) {
		if (!test_bit(g, sim->buddy)) {
			sim_violation(sim, "fake_offline(%#llx, %#llx): not in the buddy",
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
		sim_violation(sim, "fake_online(%#llx): the block is not online",
			      addr);
		return;
	}
	for (a = addr; a < addr + size; a += sb) {
		g = vmem_sim_gran(sim, a);
		if (test_bit(g, sim->buddy))
			sim_violation(sim, "fake_online(%#llx): %#llx in the buddy already",
				      addr, a);
		if (!vmem_sim_dev_plugged(sim, a, sb, true))
			sim_violation(sim, "fake_online(%#llx): %#llx is not plugged",
				      addr, a);
		set_bit(g, sim->buddy);
	}
}

static enum vmem_zone sim_zone(void *priv, u64 addr)
{
	struct vmem_sim *sim = priv;
	s64 mb = vmem_sim_mb_of(sim, addr);

	if (mb < 0) {
		sim_violation(sim, "zone(%#llx): not a memory block of ours", addr);
		return VMEM_ZONE_OFFLINE;
	}
	return test_bit(mb, sim->added) ? sim->zone[mb] : VMEM_ZONE_OFFLINE;
}

const struct vmem_mm_ops vmem_sim_mm_ops = {
	.add = sim_add,
	.remove = sim_remove,
	.offline_and_remove = sim_offline_and_remove,
	.fake_offline = sim_fake_offline,
	.fake_online = sim_fake_online,
	.zone = sim_zone,
};

/* Set-up, runs and checks. */

/* Pass the device's config to the engine, as the config-change work does. */
static void sim_pass_config(struct vmem_sim *sim)
{
	mutex_lock(&sim->e.lock);
	if (vmem_engine_set_config(&sim->e, sim->requested, sim->usable)) {
		/*
		 * The usable region cut plugged subblocks: the engine keeps
		 * them usable, and so does this device from now on.
		 */
		sim->usable = sim->e.usable;
		sim->cfg_cut++;
	}
	mutex_unlock(&sim->e.lock);
	sim->cfg_requested = sim->requested;
	sim->cfg_usable = sim->usable;
	sim->cfg_pending = false;
}

/*
 * A simulated device and machine and an engine on them: kzalloc'd, free
 * with vmem_sim_destroy(). NULL on failure, with vmem_engine_init()'s
 * error (or -ENOMEM) in *@rc.
 */
struct vmem_sim *vmem_sim_create(const struct vmem_sim_params *p, int *rc)
{
	u64 mbs = p->e.mb_size, end;
	struct vmem_sim *sim;

	sim = kzalloc(sizeof(*sim), GFP_KERNEL);
	if (!sim) {
		*rc = -ENOMEM;
		return NULL;
	}
	sim->p = *p;
	*rc = vmem_engine_init(&sim->e, &p->e, &vmem_sim_dev_ops, sim,
			       &vmem_sim_mm_ops, sim);
	if (*rc) {
		kfree(sim);
		return NULL;
	}
	/* By division: the sim assumes no power of two. */
	sim->first_mb = (p->e.addr + mbs - 1) / mbs * mbs;
	end = (p->e.addr + p->e.region_size) / mbs * mbs;
	sim->nr_mbs = end > sim->first_mb ? (end - sim->first_mb) / mbs : 0;
	sim->nr_blocks = p->e.region_size / p->e.block_size;
	sim->nr_grans = sim->nr_mbs * (mbs / p->e.sb_size);
	sim->dev_plugged = bitmap_zalloc(sim->nr_blocks ?: 1, GFP_KERNEL);
	sim->buddy = bitmap_zalloc(sim->nr_grans ?: 1, GFP_KERNEL);
	sim->pinned = bitmap_zalloc(sim->nr_grans ?: 1, GFP_KERNEL);
	sim->added = bitmap_zalloc(sim->nr_mbs ?: 1, GFP_KERNEL);
	sim->moving = bitmap_zalloc(sim->nr_mbs ?: 1, GFP_KERNEL);
	sim->zone = kcalloc(sim->nr_mbs ?: 1, sizeof(*sim->zone), GFP_KERNEL);
	sim->moving_to = kcalloc(sim->nr_mbs ?: 1, 1, GFP_KERNEL);
	if (!sim->dev_plugged || !sim->buddy || !sim->pinned || !sim->added ||
	    !sim->moving || !sim->zone || !sim->moving_to) {
		vmem_sim_destroy(sim);
		*rc = -ENOMEM;
		return NULL;
	}
	sim->auto_online = p->auto_online;
	sim->admin_zone = VMEM_ZONE_MOVABLE;
	sim->requested = p->requested;
	sim->usable = p->usable;
	sim_pass_config(sim);
	return sim;
}

void vmem_sim_destroy(struct vmem_sim *sim)
{
	if (!sim)
		return;
	vmem_engine_destroy(&sim->e);
	bitmap_free(sim->dev_plugged);
	bitmap_free(sim->buddy);
	bitmap_free(sim->pinned);
	bitmap_free(sim->added);
	bitmap_free(sim->moving);
	kfree(sim->zone);
	kfree(sim->moving_to);
	kfree(sim);
}

/* A config change at the device, passed to the engine at once. */
void vmem_sim_set_config(struct vmem_sim *sim, u64 requested, u64 usable)
{
	sim->requested = requested;
	sim->usable = usable;
	sim_pass_config(sim);
}

/* One engine run, as the resize work does it. */
enum vmem_run_result vmem_sim_run(struct vmem_sim *sim)
{
	enum vmem_run_result res;

	/*
	 * The suites run for minutes under KASAN on TCG: let others run
	 * (a kernel without preemption reported RCU stalls otherwise).
	 */
	cond_resched();
	if (sim->cfg_pending)
		sim_pass_config(sim);
	mutex_lock(&sim->e.lock);
	res = vmem_engine_run(&sim->e);
	if (mutex_is_locked(&sim->e.lock))
		mutex_unlock(&sim->e.lock);
	else
		sim_violation(sim, "vmem_engine_run() returned without the engine lock");
	sim->last = res;
	sim->nr_runs++;
	return res;
}

/*
 * The target, worked out independently of the engine: requested_size
 * rounded down to subblocks, capped by the subblocks of whole memory
 * blocks wholly inside the usable region (both as given to the engine).
 */
u64 vmem_sim_target(const struct vmem_sim *sim)
{
	u64 sb = sim->p.e.sb_size, end = sim->p.e.addr + sim->cfg_usable;
	u64 top = sim->first_mb + sim->nr_mbs * sim->p.e.mb_size, a, n = 0;

	for (a = sim->first_mb; a + sb <= top && a + sb <= end; a += sb)
		n++;
	return min(sim->cfg_requested / sb * sb, n * sb);
}

static enum vmem_mb_state sim_mb_state(const struct vmem_sim *sim, u64 mb)
{
	if (!test_bit(mb, sim->added))
		return VMEM_MB_UNUSED;
	return sim->zone[mb] == VMEM_ZONE_KERNEL ? VMEM_MB_KERNEL :
	       sim->zone[mb] == VMEM_ZONE_MOVABLE ? VMEM_MB_MOVABLE :
	       VMEM_MB_OFFLINE;
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
 * Device blocks outside the whole memory blocks are never plugged; in
 * each subblock, device, books and buddy agree.
 */
static bool sim_check_granules(struct kunit *test, struct vmem_engine *e,
			       struct vmem_sim *sim)
{
	u64 sb = sim->p.e.sb_size, top = vmem_sim_mb_addr(sim, sim->nr_mbs);
	u64 lo = min(vmem_sim_block(sim, sim->first_mb), sim->nr_blocks);
	u64 hi = min(vmem_sim_block(sim, top), sim->nr_blocks), g, a;
	bool ok = true, dev, book, buddy, online;

	SIM_EXPECT(find_next_bit(sim->dev_plugged, lo, 0) >= lo &&
		   find_next_bit(sim->dev_plugged, sim->nr_blocks, hi) >=
		   sim->nr_blocks,
		   "memory outside the whole memory blocks is plugged");
	for (g = 0, a = sim->first_mb; g < sim->nr_grans && ok; g++, a += sb) {
		dev = vmem_sim_dev_plugged(sim, a, sb, true);
		book = test_bit(g, e->sb_plugged);
		buddy = test_bit(g, sim->buddy);
		online = vmem_sim_mb_online(sim, g / vmem_sim_grans_per_mb(sim));
		SIM_EXPECT(dev || !vmem_sim_dev_plugged(sim, a, sb, false),
			   "subblock %#llx is partly plugged", a);
		SIM_EXPECT(book == dev, "%#llx: device says %splugged, the books %splugged",
			   a, dev ? "" : "un", book ? "" : "un");
		SIM_EXPECT(!buddy || (dev && online),
			   "%#llx is in the page allocator but %s", a,
			   dev ? "its block is not online" : "not plugged");
		SIM_EXPECT(!dev || !online || buddy,
			   "%#llx is plugged in an online block but not in the page allocator (leaked)",
			   a);
	}
	return ok;
}

/*
 * The invariants, checked after every step, with the engine lock not
 * held: no rule broken; the books match the device block by block; the
 * page allocator has all plugged memory of online blocks and nothing else;
 * the engine's view of each memory block is Linux's; the last run reached
 * the target or says why not. Each failure is reported on @test; returns
 * whether all hold.
 */
bool vmem_sim_check(struct kunit *test, struct vmem_engine *e,
		    struct vmem_sim *sim)
{
	u64 sb = sim->p.e.sb_size, target, mb, w;
	bool ok = true;

	if (mutex_is_locked(&e->lock)) {
		KUNIT_FAIL(test, "%s: the engine lock is held after a step",
			   sim->desc);
		return false;
	}
	SIM_EXPECT(!sim->violations, "%u rule violation(s), the first: %s",
		   sim->violations, sim->violation);
	SIM_EXPECT(e->first_mb == sim->first_mb && e->nr_mbs == sim->nr_mbs,
		   "engine uses %llu memory blocks from %#llx, the region has %llu from %#llx",
		   e->nr_mbs, e->first_mb, sim->nr_mbs, sim->first_mb);
	SIM_EXPECT(e->sbs_per_mb * sb == sim->p.e.mb_size,
		   "%u subblocks per memory block", e->sbs_per_mb);
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
		ok = sim_check_granules(test, e, sim);
	for (mb = 0; mb < sim->nr_mbs && ok; mb++) {
		SIM_EXPECT(e->mb_state[mb] == sim_mb_state(sim, mb),
			   "memory block %llu: engine state %u, Linux state %u",
			   mb, e->mb_state[mb], sim_mb_state(sim, mb));
		SIM_EXPECT(sim->last != VMEM_RUN_DONE || !sim->nr_runs ||
			   !test_bit(mb, sim->added) ||
			   test_bit(mb, sim->moving) ||
			   vmem_sim_dev_plugged(sim, vmem_sim_mb_addr(sim, mb),
						sim->p.e.mb_size, false),
			   "memory block %llu is added and empty after DONE", mb);
	}
	target = vmem_sim_target(sim);
	SIM_EXPECT(vmem_engine_target(e) == target,
		   "vmem_engine_target() %llu, expected %llu",
		   vmem_engine_target(e), target);
	if (sim->nr_runs && sim->last == VMEM_RUN_DONE) {
		SIM_EXPECT(e->plugged == target,
			   "DONE with %llu plugged, target %llu", e->plugged,
			   target);
	} else if (sim->nr_runs) {
		SIM_EXPECT(e->last_err && e->last_what,
			   "run result %d without a reason (last_err %d)",
			   sim->last, e->last_err);
		SIM_EXPECT(sim->last == VMEM_RUN_BROKEN ||
			   (e->retry_ms >= VMEM_RETRY_MIN_MS &&
			    e->retry_ms <= VMEM_RETRY_MAX_MS),
			   "run result %d with retry_ms %u", sim->last,
			   e->retry_ms);
	}
	SIM_EXPECT(e->broken == (sim->nr_runs && sim->last == VMEM_RUN_BROKEN),
		   "broken %d, last run result %d", e->broken, sim->last);
	mutex_unlock(&e->lock);
	return ok;
}

/*
 * Run and check until DONE or BROKEN, as the retry timer would, at most
 * @max_runs times; *@ok becomes false if a check failed. When the engine
 * waits for onlining, the admin onlines the offline blocks (admin_zone).
 * Returns the last result.
 */
enum vmem_run_result vmem_sim_settle(struct kunit *test,
				     struct vmem_sim *sim,
				     unsigned int max_runs, bool *ok)
{
	enum vmem_run_result res = VMEM_RUN_RETRY;
	unsigned int i;

	for (i = 0; i < max_runs; i++) {
		res = vmem_sim_run(sim);
		if (!vmem_sim_check(test, &sim->e, sim)) {
			*ok = false;
			break;
		}
		if (res == VMEM_RUN_DONE || res == VMEM_RUN_BROKEN)
			break;
		if (res == VMEM_RUN_WAIT_ONLINE)
			vmem_sim_online_all(sim, sim->admin_zone);
	}
	return res;
}
