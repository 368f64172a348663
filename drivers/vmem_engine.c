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
 *  memory back would eat into the free-memory reserve, -EPERM when only
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

#include "../include/vmem_engine.h"

/* nb_blocks is 16 bits wide. */
#define VMEM_MAX_BLOCKS_PER_REQ 65535

static u64 mb_addr(const struct vmem_engine *e, u64 mb)
{
	return e->first_mb + mb * e->p.mb_size;
}

static u64 sb_addr(const struct vmem_engine *e, u64 mb, unsigned int sb)
{
	return mb_addr(e, mb) + (u64)sb * e->p.sb_size;
}

static unsigned long sb_bit(const struct vmem_engine *e, u64 mb,
			    unsigned int sb)
{
	return mb * e->sbs_per_mb + sb;
}

static bool sb_plugged(const struct vmem_engine *e, u64 mb, unsigned int sb)
{
	return test_bit(sb_bit(e, mb, sb), e->sb_plugged);
}

/* Whether subblock @sb of @mb lies wholly inside the usable region. */
static bool sb_usable(const struct vmem_engine *e, u64 mb, unsigned int sb)
{
	return sb_addr(e, mb, sb) + e->p.sb_size <= e->p.addr + e->usable;
}

static unsigned int mb_plugged_sbs(const struct vmem_engine *e, u64 mb)
{
	unsigned int sb, n = 0;

	for (sb = 0; sb < e->sbs_per_mb; sb++)
		n += sb_plugged(e, mb, sb);
	return n;
}

/* Whether @mb is in an online/offline transition: hands off. */
/* Is any Linux memory block of @mb in an online/offline transition? */
static bool mb_moving(const struct vmem_engine *e, u64 mb)
{
	unsigned long end = (mb + 1) * e->lmbs_per_mb;

	return find_next_bit(e->lmb_moving, end, mb * e->lmbs_per_mb) < end;
}

static bool mb_online(const struct vmem_engine *e, u64 mb)
{
	return e->mb_state[mb] == VMEM_MB_KERNEL ||
	       e->mb_state[mb] == VMEM_MB_MOVABLE;
}

/* Failures worth retrying on the same block; others are hard. */
static bool vmem_transient(int err)
{
	return err == -EBUSY || err == -ENOMEM || err == -EAGAIN ||
	       err == -ENOSPC;
}

/* Record why a step stopped; returns @err for the caller to pass on. */
static int vmem_err(struct vmem_engine *e, int err, const char *what)
{
	e->last_err = err;
	e->last_what = what;
	return err;
}

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
 * Call an mm op that may fire memory notifier events (which take
 * e->lock) with the lock dropped. The caller revalidates afterwards.
 */
static int sbm_mm_unlocked(struct vmem_engine *e,
			   int (*op)(void *priv, u64 addr, u64 size), u64 mb)
{
	int rc;

	lockdep_assert_held(&e->lock);
	mutex_unlock(&e->lock);
	rc = op(e->mm_priv, mb_addr(e, mb), e->p.mb_size);
	mutex_lock(&e->lock);
	return rc;
}

/* Remove an added memory block that has nothing plugged any more. */
static int sbm_remove_empty_mb(struct vmem_engine *e, u64 mb)
{
	int rc;

	if (e->mb_state[mb] == VMEM_MB_OFFLINE) {
		rc = sbm_mm_unlocked(e, e->mm->remove, mb);
		if (rc)
			return vmem_err(e, rc, "remove");
	} else {
		rc = sbm_mm_unlocked(e, e->mm->offline_and_remove, mb);
		if (rc)
			return vmem_err(e, rc, "offline_and_remove");
	}
	e->mb_state[mb] = VMEM_MB_UNUSED;
	return 0;
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

static u64 count_mbs(const struct vmem_engine *e, enum vmem_mb_state state)
{
	u64 mb, n = 0;

	for (mb = 0; mb < e->nr_mbs; mb++)
		n += e->mb_state[mb] == state;
	return n;
}

/*
 * Plug toward the target: first into added blocks that have room (online
 * ones first, where memory is usable at once), then plug and add a new
 * block. Returns 1 on progress or a negative errno.
 */
static int sbm_plug_step(struct vmem_engine *e, u64 need)
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

	if (!mb_plugged_sbs(e, mb)) {
		rc = sbm_plug_into(e, mb, nr);
		if (rc <= 0)
			return rc ?: vmem_err(e, -ENOSPC, "plug");
	}
	/* Offline until the notifier says otherwise, even during add. */
	e->mb_state[mb] = VMEM_MB_OFFLINE;
	rc = sbm_mm_unlocked(e, e->mm->add, mb);
	if (rc) {
		int undo;

		e->mb_state[mb] = VMEM_MB_UNUSED;
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
	return 1;
}

/*
 * Unplug up to @nr plugged subblocks of @mb from the top, where no page
 * of them is in use (not added, or offline). Removes the block once it is
 * empty.
 */
static int sbm_unplug_unused(struct vmem_engine *e, u64 mb, unsigned int nr)
{
	int sb, end, rc;

	for (sb = e->sbs_per_mb - 1; sb >= 0 && nr; sb = end - 1) {
		if (!sb_plugged(e, mb, sb)) {
			end = sb;
			continue;
		}
		for (end = sb; end > 0 && sb + 1 - end < nr; end--)
			if (!sb_plugged(e, mb, end - 1))
				break;
		rc = sbm_request(e, false, mb, end, sb + 1 - end);
		if (rc)
			return rc;
		nr -= sb + 1 - end;
	}
	if (e->mb_state[mb] != VMEM_MB_UNUSED && !mb_plugged_sbs(e, mb))
		return sbm_remove_empty_mb(e, mb);
	return 0;
}

/*
 * Take back up to @nr plugged subblocks of the online block @mb, from the
 * top, and unplug them. Returns the number unplugged, or a negative errno
 * if none could be.
 */
static int sbm_unplug_online_sbs(struct vmem_engine *e, u64 mb,
				 unsigned int nr)
{
	unsigned int done = 0;
	int sb, rc = -EBUSY;
	u64 addr;

	for (sb = e->sbs_per_mb - 1; sb >= 0 && done < nr; sb--) {
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
	if (done && !mb_plugged_sbs(e, mb))
		sbm_remove_empty_mb(e, mb);	/* retried later if it fails */
	return done ? done : rc;
}

/*
 * Unplug toward the target, cheapest first: subblocks of blocks Linux
 * does not have, then offline blocks, then (with unplug_online) whole
 * online blocks, ZONE_MOVABLE first, then subblocks of online blocks.
 * Highest addresses first throughout. Returns 1 on progress or a negative
 * errno.
 */
static int sbm_unplug_step(struct vmem_engine *e, u64 excess)
{
	unsigned int nr = min_t(u64, excess / e->p.sb_size, e->sbs_per_mb);
	static const u8 online[] = { VMEM_MB_MOVABLE, VMEM_MB_KERNEL };
	unsigned int i, n;
	int rc = 0;
	u64 mb;

	for (mb = e->nr_mbs; mb-- > 0;) {
		if ((e->mb_state[mb] == VMEM_MB_UNUSED ||
		     e->mb_state[mb] == VMEM_MB_OFFLINE) &&
		    !mb_moving(e, mb) && mb_plugged_sbs(e, mb)) {
			rc = sbm_unplug_unused(e, mb, nr);
			return rc ? rc : 1;
		}
	}
	if (!e->p.unplug_online)
		return vmem_err(e, -EPERM, "unplug_online is off");

	for (i = 0; i < ARRAY_SIZE(online); i++) {
		for (mb = e->nr_mbs; mb-- > 0;) {
			n = mb_plugged_sbs(e, mb);
			if (e->mb_state[mb] != online[i] || mb_moving(e, mb) ||
			    !n || n > nr)
				continue;
			rc = sbm_mm_unlocked(e, e->mm->offline_and_remove, mb);
			if (rc) {
				vmem_err(e, rc, "offline_and_remove");
				continue;
			}
			e->mb_state[mb] = VMEM_MB_UNUSED;
			rc = sbm_unplug_all_sbs(e, mb);
			return rc ? rc : 1;
		}
	}

	if (e->p.bbm)	/* gives up; the retry comes with backoff */
		return rc ? rc : vmem_err(e, -EBUSY, "offline_and_remove");
	for (i = 0; i < ARRAY_SIZE(online); i++) {
		for (mb = e->nr_mbs; mb-- > 0;) {
			if (e->mb_state[mb] != online[i] || mb_moving(e, mb) ||
			    !mb_plugged_sbs(e, mb))
				continue;
			rc = sbm_unplug_online_sbs(e, mb, nr);
			if (rc > 0)
				return 1;
			if (rc != -EBUSY && rc != -ENOMEM && rc != -ENOSPC)
				return rc;
		}
	}
	return rc ? rc : vmem_err(e, -EBUSY, "fake_offline");
}

/* Retry the removal of added blocks that are empty. */
static int sbm_remove_empty(struct vmem_engine *e)
{
	int rc, ret = 0;
	u64 mb;

	for (mb = 0; mb < e->nr_mbs; mb++) {
		if (e->mb_state[mb] == VMEM_MB_UNUSED || mb_moving(e, mb) ||
		    mb_plugged_sbs(e, mb))
			continue;
		rc = sbm_remove_empty_mb(e, mb);
		if (rc)
			ret = rc;
	}
	return ret;
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
			rc = sbm_plug_step(e, target - e->plugged);
		else if (e->plugged > target)
			rc = sbm_unplug_step(e, e->plugged - target);
		else
			rc = sbm_remove_empty(e);
		if (e->broken)
			return VMEM_RUN_BROKEN;
		if (rc < 0)
			return vmem_engine_fail(e, rc);
		if (!rc)
			break;
	}
	e->retry_ms = 0;
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

	e->mb_state = kcalloc(e->nr_mbs ?: 1, sizeof(*e->mb_state),
			      GFP_KERNEL);
	e->sb_plugged = bitmap_zalloc((e->nr_mbs ?: 1) * e->sbs_per_mb,
				      GFP_KERNEL);
	e->lmb_moving = bitmap_zalloc(nr_lmbs, GFP_KERNEL);
	e->lmb_online = bitmap_zalloc(nr_lmbs, GFP_KERNEL);
	e->lmb_kernel = bitmap_zalloc(nr_lmbs, GFP_KERNEL);
	e->mb_bad = bitmap_zalloc(e->nr_mbs ?: 1, GFP_KERNEL);
	if (!e->mb_state || !e->sb_plugged || !e->lmb_moving ||
	    !e->lmb_online || !e->lmb_kernel || !e->mb_bad) {
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
	e->mb_bad = NULL;
	e->mb_state = NULL;
	e->sb_plugged = NULL;
	e->lmb_moving = NULL;
	e->lmb_online = NULL;
	e->lmb_kernel = NULL;
}
