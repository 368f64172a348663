// SPDX-License-Identifier: GPL-2.0
/*
 * The resize engine: set-up, the run loop and the teardown. Pure code:
 * every effect goes through the ops tables of vmem_ops.h. The books it
 * shares with the memory notifier are in vmem_books.c, the planning in
 * vmem_plan.c, device requests (and the table of replies) in vmem_call.c.
 *
 * The engine works on "blocks" of p.mb_size bytes, each split in
 * subblocks of p.sb_size. Sub-Block Mode: a block is one Linux memory
 * block and subblocks are plugged one by one; unplugged ones inside an
 * online block stay fake-offline. Big-Block Mode (p.bbm): a block is a
 * big block of one or more Linux memory blocks and has one subblock, so
 * it is plugged and added, or offlined, removed and unplugged, whole.
 *
 * Why a run stops short, all retried with backoff unless said otherwise:
 *  - a device reply other than ACK (vmem_call.c);
 *  - -EBUSY / -ENOMEM from the mm ops (transient);
 *  - -ENOSPC when taking memory back would eat into the free-memory
 *    reserve, or adding a block into the kernel-memory floor
 *    (vmem_budget.h): polled every VMEM_RETRY_POLL_MS;
 *  - -EAGAIN when Linux would not put a block's memmap on it (plain adds
 *    follow at once);
 *  - -EPERM when only online memory is left and unplug_online is off;
 *  - -EINPROGRESS when too much added memory waits to be onlined
 *    (VMEM_RUN_WAIT_ONLINE);
 *  - -ERANGE when no block is left that could take the plug
 *    (VMEM_RUN_WAIT_CONFIG: no timer, a config change or memory event
 *    runs the engine again);
 *  - -EPROTO: the device is broken (VMEM_RUN_BROKEN), for good.
 *
 * Backoff: VMEM_RETRY_MIN_MS (200 ms), doubling after each failure up to
 * VMEM_RETRY_MAX_MS (30 s); any progress and any new target reset it.
 * -ENOSPC is cheap to check again and ends as soon as the guest frees
 * memory, so its backoff stops at VMEM_RETRY_POLL_MS (1 s).
 */
#include <linux/bitmap.h>
#include <linux/errno.h>
#include <linux/kernel.h>
#include <linux/lockdep.h>
#include <linux/log2.h>
#include <linux/minmax.h>
#include <linux/slab.h>
#include <linux/virtio_mem.h>

#include "vmem_engine_internal.h"

static enum vmem_run_result vmem_engine_fail(struct vmem_engine *e, int err)
{
	if (err == -EPROTO || READ_ONCE(e->broken))
		return VMEM_RUN_BROKEN;
	if (err == -ERANGE) {
		e->retry_ms = 0;
		return VMEM_RUN_WAIT_CONFIG;
	}
	e->retry_ms = e->retry_ms ? min(2 * e->retry_ms, VMEM_RETRY_MAX_MS) :
				    VMEM_RETRY_MIN_MS;
	if (err == -ENOSPC)
		e->retry_ms = min(e->retry_ms, VMEM_RETRY_POLL_MS);
	return err == -EINPROGRESS ? VMEM_RUN_WAIT_ONLINE : VMEM_RUN_RETRY;
}

static void vmem_engine_set_budget(struct vmem_engine *e, bool limited)
{
	spin_lock(&e->state_lock);
	e->budget_limited = limited;
	spin_unlock(&e->state_lock);
}

static enum vmem_run_result vmem_engine_run_locked(struct vmem_engine *e)
{
	u64 target;
	int rc;

	lockdep_assert_held(&e->lock);
	if (READ_ONCE(e->broken))
		return VMEM_RUN_BROKEN;
	/* Set again by the budget check if it still stops the plugging. */
	vmem_engine_set_budget(e, false);
	if (e->unplug_all_pending) {
		rc = vmem_call(e, VIRTIO_MEM_REQ_UNPLUG_ALL, 0, 0, NULL);
		if (rc)
			return vmem_engine_fail(e, rc);
		spin_lock(&e->state_lock);
		e->unplug_all_pending = false;
		spin_unlock(&e->state_lock);
		/*
		 * The device may have shrunk its usable region, and the spec
		 * has it send no config notification for that: read it now,
		 * before a request could go beyond the new region.
		 */
		e->dev->reread_config(e->dev_priv);
	}
	for (;;) {
		/* A new target: a fresh backoff, and a fresh try everywhere. */
		if (vmem_books_adopt_config(e)) {
			e->retry_ms = 0;
			memset(e->mb_errors, 0, e->nr_mbs ?: 1);
		}
		vmem_books_settle(e);
		target = vmem_books_target(e, e->requested, e->usable);
		if (e->plugged < target)
			rc = vmem_plan_plug_step(e, target - e->plugged);
		else if (e->plugged > target)
			rc = vmem_plan_unplug_step(e, e->plugged - target);
		else
			rc = vmem_plan_remove_empty(e);
		if (READ_ONCE(e->broken))
			return VMEM_RUN_BROKEN;
		if (rc < 0)
			return vmem_engine_fail(e, rc);
		if (!rc)
			break;
	}
	e->retry_ms = 0;
	vmem_engine_set_budget(e, false);
	return VMEM_RUN_DONE;
}

/**
 * vmem_engine_run() - plug or unplug until the books match the target
 * @e: the engine; takes its run lock
 * @retry_ms: where the delay before the next run goes (for RETRY and
 *	WAIT_ONLINE; 0 otherwise)
 *
 * The target is re-read before every step, so a config change that lands
 * during a run restarts the planning from the new target.
 *
 * Return: what the caller does next, see enum vmem_run_result.
 */
enum vmem_run_result vmem_engine_run(struct vmem_engine *e,
				     unsigned int *retry_ms)
{
	enum vmem_run_result res;

	mutex_lock(&e->lock);
	res = vmem_engine_run_locked(e);
	*retry_ms = res == VMEM_RUN_RETRY || res == VMEM_RUN_WAIT_ONLINE ?
		    e->retry_ms : 0;
	spin_lock(&e->state_lock);
	e->result = res;
	spin_unlock(&e->state_lock);
	mutex_unlock(&e->lock);
	return res;
}

/**
 * vmem_engine_request_unplug_all() - start from a clean device
 * @e: the engine, nothing added yet
 *
 * For a device that has memory plugged at probe (e.g. after a reboot the
 * device did not see): the next run sends UNPLUG_ALL, retrying while it
 * fails, before it plugs anything.
 */
void vmem_engine_request_unplug_all(struct vmem_engine *e)
{
	mutex_lock(&e->lock);
	spin_lock(&e->state_lock);
	e->unplug_all_pending = true;
	spin_unlock(&e->state_lock);
	mutex_unlock(&e->lock);
}

/**
 * vmem_engine_begin_teardown() - the device goes away: unplug everything
 * @e: the engine; no run may be in progress or start but the caller's
 *
 * From now on Linux's own transitions of our memory are refused (only the
 * engine's own offlines go ahead), and one in progress is waited for; the
 * target becomes 0, with online memory unplugged too. The caller then
 * runs the engine for as long as it is willing to wait, and ends with
 * vmem_engine_end_teardown().
 */
void vmem_engine_begin_teardown(struct vmem_engine *e)
{
	spin_lock(&e->state_lock);
	e->removing = true;
	e->cfg_requested = 0;
	e->cfg_unplug_online = true;
	spin_unlock(&e->state_lock);
	wait_event(e->moving_wq, !vmem_books_any_moving(e));
}

/**
 * vmem_engine_end_teardown() - leave nothing behind that needs the device
 * @e: the engine, after vmem_engine_begin_teardown()
 *
 * Every offline block is removed, whatever the device says: remove needs
 * no request, and an offline block left added would hand its unplugged
 * subblocks to Linux once someone onlines it, with no driver left to keep
 * them fake-offline. Online blocks that could not be offlined stay; their
 * fake-offline pages keep their reference, so Linux can never offline
 * them, and so never online them again either.
 *
 * Return: the blocks still added (online ones).
 */
u64 vmem_engine_end_teardown(struct vmem_engine *e)
{
	u64 left;

	mutex_lock(&e->lock);
	vmem_plan_remove_offline(e);
	left = e->nr_mbs - vmem_books_count(e, VMEM_MB_UNUSED);
	mutex_unlock(&e->lock);
	return left;
}

/**
 * vmem_engine_params() - the engine's geometry and policy
 * @e: the engine
 *
 * Return: its parameters, constant after creation.
 */
const struct vmem_engine_params *vmem_engine_params(struct vmem_engine *e)
{
	return &e->p;
}

/**
 * vmem_engine_span() - the memory the engine may add
 * @e: the engine
 * @start: first byte of its first whole block
 * @end: end of its last whole block (exclusive); equal to @start if none
 */
void vmem_engine_span(struct vmem_engine *e, u64 *start, u64 *end)
{
	*start = e->first_mb;
	*end = e->first_mb + e->nr_mbs * e->p.mb_size;
}

static bool vmem_engine_geometry_ok(const struct vmem_engine_params *p)
{
	return p->block_size && p->sb_size && is_power_of_2(p->mb_size) &&
	       !(p->sb_size % p->block_size) && !(p->mb_size % p->sb_size) &&
	       p->sb_size / p->block_size <= VMEM_MAX_BLOCKS_PER_REQ &&
	       is_power_of_2(p->lmb_size) && !(p->mb_size % p->lmb_size) &&
	       (p->bbm ? p->sb_size == p->mb_size : p->mb_size == p->lmb_size);
}

/**
 * vmem_engine_create() - set up the books for a device region
 * @p: geometry and policy
 * @dev: device ops
 * @dev_priv: their argument
 * @mm: memory-hotplug ops
 * @mm_priv: their argument
 * @page: the kernel generation's page rules
 * @page_priv: their argument
 * @err: where the error goes on failure
 *
 * Only whole blocks inside the region are used. Nothing is plugged until
 * vmem_engine_set_config() and vmem_engine_run().
 *
 * Return: the engine, or NULL with *@err -EINVAL for an impossible
 * geometry or -ENOMEM.
 */
struct vmem_engine *vmem_engine_create(const struct vmem_engine_params *p,
				       const struct vmem_device_ops *dev,
				       void *dev_priv,
				       const struct vmem_mm_ops *mm,
				       void *mm_priv,
				       const struct vmem_page_ops *page,
				       void *page_priv, int *err)
{
	struct vmem_engine *e;
	u64 first, end;

	if (!vmem_engine_geometry_ok(p)) {
		*err = -EINVAL;
		return NULL;
	}
	e = kzalloc(sizeof(*e), GFP_KERNEL);
	if (!e) {
		*err = -ENOMEM;
		return NULL;
	}
	e->p = *p;
	first = round_up(p->addr, p->mb_size);
	end = round_down(p->addr + p->region_size, p->mb_size);
	e->first_mb = first;
	e->nr_mbs = end > first ? (end - first) / p->mb_size : 0;
	e->sbs_per_mb = p->mb_size / p->sb_size;
	e->lmbs_per_mb = p->mb_size / p->lmb_size;
	e->gran = min(p->sb_size, p->lmb_size);
	e->grans_per_sb = p->sb_size / e->gran;
	e->grans_per_lmb = p->lmb_size / e->gran;
	e->plugged_end = first;
	e->dev = dev;
	e->dev_priv = dev_priv;
	e->mm = mm;
	e->mm_priv = mm_priv;
	e->page = page;
	e->page_priv = page_priv;
	e->cfg_unplug_online = true;
	e->unplug_online = true;
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
	mutex_init(&e->lock);
	spin_lock_init(&e->state_lock);
	init_waitqueue_head(&e->moving_wq);
	*err = vmem_books_alloc(e);
	if (*err) {
		vmem_engine_destroy(e);
		return NULL;
	}
	return e;
}

/**
 * vmem_engine_destroy() - free the engine and its books
 * @e: the engine, or NULL
 */
void vmem_engine_destroy(struct vmem_engine *e)
{
	if (!e)
		return;
	vmem_books_free(e);
	mutex_destroy(&e->lock);
	kfree(e);
}
