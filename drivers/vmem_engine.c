// SPDX-License-Identifier: GPL-2.0
/*
 * The resize engine. Pure code: every effect goes through struct
 * vmem_device_ops and struct vmem_mm_ops.
 *
 * The engine works on "blocks" of p.mb_size bytes, each split in
 * subblocks of p.sb_size. Sub-Block Mode: a block is one Linux memory
 * block and subblocks are plugged one by one; unplugged ones inside an
 * online block stay fake-offline. Big-Block Mode (p.bbm): a block is a
 * big block of one or more Linux memory blocks and has one subblock, so
 * it is plugged and added, or offlined, removed and unplugged, whole; it
 * is never fake-offlined.
 *
 * Device reply -> errno -> what the engine does (the one table of it):
 *
 *  reply      errno      engine
 *  ACK        0          books updated; go on
 *  NACK       -EAGAIN    retry with backoff (host refuses for now, e.g. a
 *                        plug beyond requested_size; a config change
 *                        usually follows and restarts planning)
 *  BUSY       -EBUSY     retry with backoff (migration, preallocation)
 *  ERROR      -EIO       retry with backoff. Firecracker answers ERROR to
 *                        a plug beyond requested_size and Cloud Hypervisor
 *                        to a failed discard, so ERROR does not mean
 *                        "broken" here; the books are not changed.
 *  any other  -EPROTO    the device is broken: no further request
 *  bad buffer -EPROTO    the same: a reply too short or not ours, or a
 *                        virtqueue the virtio core found broken
 *  no reply   -errno     retry with backoff (transport failure)
 *
 * Other reasons a run stops short, all retried with backoff:
 *  -EBUSY / -ENOMEM from the mm ops (transient), -ENOSPC when taking
 *  memory back would eat into the free-memory reserve or when adding a
 *  block would eat into the kernel-memory floor (vmem_budget.h), -EAGAIN
 *  when Linux would not put a block's memmap on it (plain adds follow),
 *  -EPERM when only
 *  online memory is left and unplug_online is off, -EINPROGRESS when too
 *  much added memory waits to be onlined (VMEM_RUN_WAIT_ONLINE).
 *
 * Backoff: VMEM_RETRY_MIN_MS (200 ms), doubling after each failure up to
 * VMEM_RETRY_MAX_MS (30 s); any progress resets it. -ENOSPC is cheap to
 * check again and ends as soon as the guest frees memory, so its backoff
 * stops at VMEM_RETRY_POLL_MS (1 s).
 */
#include <linux/bitmap.h>
#include <linux/errno.h>
#include <linux/kernel.h>
#include <linux/lockdep.h>
#include <linux/log2.h>
#include <linux/minmax.h>
#include <linux/slab.h>
#include <linux/bug.h>
#include <linux/virtio_mem.h>

#include "vmem_engine_internal.h"

/**
 * vmem_resp_to_errno() - map a device reply type to an errno
 * @resp: VIRTIO_MEM_RESP_*, or a negative errno if no reply came
 *
 * See the table at the top of this file.
 *
 * Return: 0 for ACK, a negative errno otherwise.
 */
int vmem_resp_to_errno(int resp)
{
	if (resp < 0)
		return resp;
	switch (resp) {
	case VIRTIO_MEM_RESP_ACK:
		return 0;
	case VIRTIO_MEM_RESP_NACK:
		return -EAGAIN;
	case VIRTIO_MEM_RESP_BUSY:
		return -EBUSY;
	case VIRTIO_MEM_RESP_ERROR:
		return -EIO;
	default:
		return -EPROTO;
	}
}

static enum vmem_run_result vmem_engine_fail(struct vmem_engine *e, int err)
{
	if (err == -EPROTO) {
		e->broken = true;
		return VMEM_RUN_BROKEN;
	}
	e->retry_ms = e->retry_ms ? min(2 * e->retry_ms, VMEM_RETRY_MAX_MS) :
				    VMEM_RETRY_MIN_MS;
	if (err == -ENOSPC)
		e->retry_ms = min(e->retry_ms, VMEM_RETRY_POLL_MS);
	return err == -EINPROGRESS ? VMEM_RUN_WAIT_ONLINE : VMEM_RUN_RETRY;
}

/**
 * vmem_engine_run() - plug or unplug until the books match the target
 * @e: the engine; e->lock held (dropped around mm add/remove calls)
 *
 * The target is re-read after every step, so a config change that lands
 * while the lock is dropped restarts the planning from the new target.
 *
 * Return: what the caller does next, see enum vmem_run_result.
 */
enum vmem_run_result vmem_engine_run(struct vmem_engine *e)
{
	u64 target;
	int rc;

	lockdep_assert_held(&e->lock);
	if (e->broken)
		return VMEM_RUN_BROKEN;
	/* Set again by the budget check if it still stops the plugging. */
	e->budget_limited = false;
	if (e->unplug_all_pending) {
		e->nr_requests++;
		rc = vmem_resp_to_errno(e->dev->unplug_all(e->dev_priv));
		if (rc == -EPROTO)
			e->broken = true;
		if (rc)
			return vmem_engine_fail(e, vmem_err(e, rc, "unplug_all"));
		e->unplug_all_pending = false;
		/*
		 * The device may shrink its usable region now; the config
		 * change comes in before the next run (QEMU raises it before
		 * it replies). Plugging on with the old region could send
		 * requests outside the new one.
		 */
		vmem_err(e, -EAGAIN, "config after unplug_all");
		e->retry_ms = VMEM_RETRY_MIN_MS;
		return VMEM_RUN_RETRY;
	}
	for (;;) {
		target = vmem_engine_target(e);
		if (e->plugged < target)
			rc = vmem_plan_plug_step(e, target - e->plugged);
		else if (e->plugged > target)
			rc = vmem_plan_unplug_step(e, e->plugged - target);
		else
			rc = vmem_plan_remove_empty(e);
		if (e->broken)
			return VMEM_RUN_BROKEN;
		if (rc < 0)
			return vmem_engine_fail(e, rc);
		if (!rc)
			break;
	}
	e->retry_ms = 0;
	e->budget_limited = false;
	return VMEM_RUN_DONE;
}

/**
 * vmem_engine_request_unplug_all() - start from a clean device
 * @e: the engine, e->lock held, nothing added yet
 *
 * For a device that has memory plugged at probe (e.g. after a reboot the
 * device did not see): the next run sends UNPLUG_ALL, retrying while it
 * fails, before it plugs anything.
 */
void vmem_engine_request_unplug_all(struct vmem_engine *e)
{
	lockdep_assert_held(&e->lock);
	e->unplug_all_pending = true;
}

/**
 * vmem_engine_target() - the plugged size the engine aims at
 * @e: the engine, e->lock held
 *
 * requested_size rounded down to whole subblocks, and capped by the
 * subblocks of whole memory blocks that lie in the usable region.
 *
 * Return: the target in bytes.
 */
u64 vmem_engine_target(struct vmem_engine *e)
{
	u64 end = min(e->p.addr + e->usable,
		      e->first_mb + e->nr_mbs * e->p.mb_size);
	u64 cap = end > e->first_mb ?
		  round_down(end - e->first_mb, e->p.sb_size) : 0;

	lockdep_assert_held(&e->lock);
	return min(round_down(e->requested, e->p.sb_size), cap);
}

/**
 * vmem_engine_set_config() - take the device's latest sizes
 * @e: the engine, e->lock held
 * @requested: requested_size
 * @usable: usable_region_size, counted from e->p.addr
 *
 * The values were validated by vmem_config_validate_update(), which
 * compares sizes only. A usable region ending before a subblock the books
 * hold plugged breaks the device's own rules (QEMU shrinks it only once
 * nothing is plugged): the engine then keeps the region up to the end of
 * its last plugged subblock, so that it can still unplug it.
 *
 * Return: 0, or -ERANGE if @usable was raised so (the caller warns).
 */
int vmem_engine_set_config(struct vmem_engine *e, u64 requested, u64 usable)
{
	unsigned long nr = e->nr_mbs * e->sbs_per_mb, last;
	u64 end;

	lockdep_assert_held(&e->lock);
	e->requested = requested;
	last = find_last_bit(e->sb_plugged, nr);
	end = last < nr ? e->first_mb + ((u64)last + 1) * e->p.sb_size -
			  e->p.addr : 0;
	e->usable = max(usable, end);
	return usable < end ? -ERANGE : 0;
}

/*
 * The state of a block from its Linux memory blocks: offline when all are,
 * else KERNEL if any is online in a kernel zone, else MOVABLE.
 */
static u8 mb_state_of_lmbs(const struct vmem_engine *e, u64 mb)
{
	unsigned long first = mb * e->lmbs_per_mb;
	unsigned long end = first + e->lmbs_per_mb;

	if (find_next_bit(e->lmb_online, end, first) >= end)
		return VMEM_MB_OFFLINE;
	if (find_next_bit(e->lmb_kernel, end, first) < end)
		return VMEM_MB_KERNEL;
	return VMEM_MB_MOVABLE;
}

static bool vmem_engine_mb_of(const struct vmem_engine *e, u64 addr, u64 *mb)
{
	if (addr < e->first_mb || addr - e->first_mb >= e->nr_mbs *
	    e->p.mb_size)
		return false;
	*mb = (addr - e->first_mb) / e->p.mb_size;
	return true;
}

/**
 * vmem_engine_notify() - follow an online/offline transition
 * @e: the engine; e->lock not held (taken briefly here)
 * @ev: the memory notifier event
 * @addr: start of the memory block(s) changing state
 * @size: their size
 *
 * See enum vmem_mem_event.
 *
 * Return: 0.
 */
int vmem_engine_notify(struct vmem_engine *e, enum vmem_mem_event ev,
		       u64 addr, u64 size)
{
	u64 a, mb, lmb;

	mutex_lock(&e->lock);
	for (a = addr; a < addr + size; a += e->p.lmb_size) {
		if (!vmem_engine_mb_of(e, a, &mb))
			continue;
		lmb = (a - e->first_mb) / e->p.lmb_size;
		switch (ev) {
		case VMEM_MEM_GOING_ONLINE:
		case VMEM_MEM_GOING_OFFLINE:
			set_bit(lmb, e->lmb_moving);
			continue;
		case VMEM_MEM_ONLINE:
			set_bit(lmb, e->lmb_online);
			if (e->mm->zone(e->mm_priv, a) == VMEM_ZONE_MOVABLE)
				clear_bit(lmb, e->lmb_kernel);
			else
				set_bit(lmb, e->lmb_kernel);
			break;
		case VMEM_MEM_OFFLINE:
			clear_bit(lmb, e->lmb_online);
			clear_bit(lmb, e->lmb_kernel);
			break;
		case VMEM_MEM_CANCEL_ONLINE:
		case VMEM_MEM_CANCEL_OFFLINE:
			break;
		}
		clear_bit(lmb, e->lmb_moving);
		if (ev == VMEM_MEM_ONLINE || ev == VMEM_MEM_OFFLINE)
			e->mb_state[mb] = mb_state_of_lmbs(e, mb);
	}
	mutex_unlock(&e->lock);
	return 0;
}

/**
 * vmem_engine_page_plugged() - may the page at @addr go to the buddy?
 * @e: the engine
 * @addr: physical address of the page
 *
 * Called by the online_page callback, between GOING_ONLINE and ONLINE of
 * the block: the engine leaves the bitmap of a block in transition alone,
 * so no lock is needed.
 *
 * Return: true if the page lies in a plugged subblock.
 */
bool vmem_engine_page_plugged(struct vmem_engine *e, u64 addr)
{
	u64 mb;

	if (!vmem_engine_mb_of(e, addr, &mb))
		return false;
	WARN_ON_ONCE(!mb_moving(e, mb));
	return sb_plugged(e, mb, (addr - mb_addr(e, mb)) / e->p.sb_size);
}

/**
 * vmem_engine_mb_count() - number of memory blocks in @state
 * @e: the engine, e->lock held
 * @state: the state
 *
 * Return: the count.
 */
u64 vmem_engine_mb_count(struct vmem_engine *e, enum vmem_mb_state state)
{
	lockdep_assert_held(&e->lock);
	return count_mbs(e, state);
}

/**
 * vmem_engine_plugged_in() - plugged bytes in memory blocks in @state
 * @e: the engine, e->lock held
 * @state: the state
 *
 * Return: the bytes.
 */
u64 vmem_engine_plugged_in(struct vmem_engine *e, enum vmem_mb_state state)
{
	u64 mb, n = 0;

	lockdep_assert_held(&e->lock);
	for (mb = 0; mb < e->nr_mbs; mb++)
		if (e->mb_state[mb] == state)
			n += mb_plugged_sbs(e, mb);
	return n * e->p.sb_size;
}

/**
 * vmem_engine_memmap_bytes() - plugged bytes that hold memmaps
 * @e: the engine, e->lock held
 *
 * Return: the memmap bytes of the blocks added with memmap_on_memory.
 */
u64 vmem_engine_memmap_bytes(struct vmem_engine *e)
{
	lockdep_assert_held(&e->lock);
	return (u64)bitmap_weight(e->mb_memmap, e->nr_mbs) *
	       e->p.memmap_size * e->lmbs_per_mb;
}

/**
 * vmem_engine_init() - set up the books for a device region
 * @e: the engine
 * @p: geometry and policy
 * @dev: device ops
 * @dev_priv: their argument
 * @mm: memory-hotplug ops
 * @mm_priv: their argument
 *
 * Only whole memory blocks inside the region are used. Nothing is plugged
 * until vmem_engine_set_config() and vmem_engine_run().
 *
 * Return: 0, -EINVAL for an impossible geometry, or -ENOMEM.
 */
int vmem_engine_init(struct vmem_engine *e,
		     const struct vmem_engine_params *p,
		     const struct vmem_device_ops *dev, void *dev_priv,
		     const struct vmem_mm_ops *mm, void *mm_priv)
{
	u64 first, end, nr_lmbs;

	memset(e, 0, sizeof(*e));
	if (!p->block_size || !p->sb_size || !is_power_of_2(p->mb_size) ||
	    p->sb_size % p->block_size || p->mb_size % p->sb_size ||
	    p->sb_size / p->block_size > VMEM_MAX_BLOCKS_PER_REQ ||
	    !is_power_of_2(p->lmb_size) || p->mb_size % p->lmb_size ||
	    (p->bbm ? p->sb_size != p->mb_size : p->mb_size != p->lmb_size))
		return -EINVAL;

	e->p = *p;
	first = round_up(p->addr, p->mb_size);
	end = round_down(p->addr + p->region_size, p->mb_size);
	e->first_mb = first;
	e->nr_mbs = end > first ? (end - first) / p->mb_size : 0;
	e->sbs_per_mb = p->mb_size / p->sb_size;
	e->lmbs_per_mb = p->mb_size / p->lmb_size;
	e->dev = dev;
	e->dev_priv = dev_priv;
	e->mm = mm;
	e->mm_priv = mm_priv;
	nr_lmbs = (e->nr_mbs ?: 1) * e->lmbs_per_mb;
	/*
	 * memmap_on_memory: the memmap pins the first subblocks of a block
	 * (an offline block keeps its memmap until it is removed). In SBM
	 * it must leave room for more subblocks; a big block is its one
	 * subblock, plugged and removed whole anyway.
	 */
	if (p->memmap_on_memory && p->memmap_size) {
		e->memmap_sbs = DIV_ROUND_UP(p->memmap_size * e->lmbs_per_mb,
					     p->sb_size);
		e->memmap = p->bbm || e->memmap_sbs < e->sbs_per_mb;
		if (!e->memmap)
			e->memmap_sbs = 0;
	}

	e->mb_state = kcalloc(e->nr_mbs ?: 1, sizeof(*e->mb_state),
			      GFP_KERNEL);
	e->sb_plugged = bitmap_zalloc((e->nr_mbs ?: 1) * e->sbs_per_mb,
				      GFP_KERNEL);
	e->lmb_moving = bitmap_zalloc(nr_lmbs, GFP_KERNEL);
	e->lmb_online = bitmap_zalloc(nr_lmbs, GFP_KERNEL);
	e->lmb_kernel = bitmap_zalloc(nr_lmbs, GFP_KERNEL);
	e->mb_bad = bitmap_zalloc(e->nr_mbs ?: 1, GFP_KERNEL);
	e->mb_memmap = bitmap_zalloc(e->nr_mbs ?: 1, GFP_KERNEL);
	if (!e->mb_state || !e->sb_plugged || !e->lmb_moving ||
	    !e->lmb_online || !e->lmb_kernel || !e->mb_bad || !e->mb_memmap) {
		vmem_engine_destroy(e);
		return -ENOMEM;
	}
	mutex_init(&e->lock);
	return 0;
}

/**
 * vmem_engine_destroy() - free the books
 * @e: the engine
 */
void vmem_engine_destroy(struct vmem_engine *e)
{
	kfree(e->mb_state);
	bitmap_free(e->sb_plugged);
	bitmap_free(e->lmb_moving);
	bitmap_free(e->lmb_online);
	bitmap_free(e->lmb_kernel);
	bitmap_free(e->mb_bad);
	bitmap_free(e->mb_memmap);
	e->mb_bad = NULL;
	e->mb_memmap = NULL;
	e->mb_state = NULL;
	e->sb_plugged = NULL;
	e->lmb_moving = NULL;
	e->lmb_online = NULL;
	e->lmb_kernel = NULL;
}
