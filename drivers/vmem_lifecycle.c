// SPDX-License-Identifier: GPL-2.0
/*
 * Crash-kernel answers and the power-management decisions (see
 * vmem_lifecycle.h).
 *
 * In a crash kernel the driver never plugs or unplugs: the dump needs the
 * crashed kernel's memory as it was. /proc/vmcore asks, page by page,
 * whether a page is RAM; inside the device region only plugged blocks
 * are, and reading an unplugged one may fault in the host
 * (UNPLUGGED_INACCESSIBLE). The answer comes from a STATE request per
 * device block, the last one cached, as the dump reads in address order.
 * A block the device does not clearly report as plugged is skipped: a
 * hole in the dump is better than a read of unplugged memory.
 */
#include <linux/kernel.h>
#include <linux/limits.h>
#include <linux/lockdep.h>
#include <linux/mutex.h>
#include <linux/virtio_mem.h>

#include "../include/vmem_lifecycle.h"

/**
 * vmem_kdump_init() - set up the crash kernel's view
 * @k: the view
 * @addr: start of the device region
 * @size: its size
 * @block_size: the device block size (a power of two)
 * @plugged: the device's plugged_size at probe
 * @dev: device requests
 * @dev_priv: their argument
 */
void vmem_kdump_init(struct vmem_kdump *k, u64 addr, u64 size,
		     u64 block_size, u64 plugged,
		     const struct vmem_device_ops *dev, void *dev_priv)
{
	*k = (struct vmem_kdump) {
		.addr = addr, .size = size, .block_size = block_size,
		.empty = !plugged, .dev = dev, .dev_priv = dev_priv,
		.cached = U64_MAX,
	};
	mutex_init(&k->lock);
}

void vmem_kdump_destroy(struct vmem_kdump *k)
{
	mutex_destroy(&k->lock);
}

/* The state of the device block at @block; k->lock held. */
static bool vmem_kdump_block(struct vmem_kdump *k, u64 block)
{
	u16 state = VIRTIO_MEM_STATE_MIXED;
	int rc;

	lockdep_assert_held(&k->lock);
	if (block == k->cached)
		return k->cached_plugged;
	k->nr_requests++;
	rc = k->dev->state(k->dev_priv, block, 1, &state);
	if (rc != VIRTIO_MEM_RESP_ACK ||
	    (state != VIRTIO_MEM_STATE_PLUGGED &&
	     state != VIRTIO_MEM_STATE_UNPLUGGED)) {
		k->nr_failed++;	/* not cached: the next page asks again */
		return false;
	}
	k->cached = block;
	k->cached_plugged = state == VIRTIO_MEM_STATE_PLUGGED;
	return k->cached_plugged;
}

/**
 * vmem_kdump_is_ram() - may the dump read the page at @paddr?
 * @k: the view; readers may ask at once (k->lock serialises them)
 * @paddr: a physical address
 *
 * Return: true outside the device region and for plugged blocks; false
 * for unplugged blocks, when the device gave no clear answer, and for the
 * whole region when nothing was plugged at probe.
 */
bool vmem_kdump_is_ram(struct vmem_kdump *k, u64 paddr)
{
	bool ram;

	if (paddr < k->addr || paddr - k->addr >= k->size)
		return true;
	if (k->empty)
		return false;
	mutex_lock(&k->lock);
	ram = vmem_kdump_block(k, round_down(paddr, k->block_size));
	mutex_unlock(&k->lock);
	return ram;
}

/**
 * vmem_kdump_plugged_ranges() - the plugged ranges of the region
 * @k: the view
 * @fn: called once per run of blocks the device clearly reports plugged
 * @arg: its argument
 *
 * For kernels that ask the driver for the device's RAM up front
 * (vmcore_cb.get_device_ram): one STATE request per device block.
 *
 * Return: 0, or the first non-zero return of @fn.
 */
int vmem_kdump_plugged_ranges(struct vmem_kdump *k,
			      int (*fn)(void *arg, u64 addr, u64 size),
			      void *arg)
{
	u64 a, run = 0, end = k->addr + k->size;
	int rc = 0;

	if (k->empty)
		return 0;
	mutex_lock(&k->lock);
	for (a = k->addr; a < end && !rc; a += k->block_size) {
		if (vmem_kdump_block(k, a)) {
			if (!run)
				run = a;
			continue;
		}
		if (run)
			rc = fn(arg, run, a - run);
		run = 0;
	}
	if (run && !rc)
		rc = fn(arg, run, end - run);
	mutex_unlock(&k->lock);
	return rc;
}

/**
 * vmem_pm_decide() - may the system suspend, hibernate or restore?
 * @ev: what it is about to do
 * @persistent: VIRTIO_MEM_F_PERSISTENT_SUSPEND was negotiated
 * @plugged: bytes plugged (the books, or the device's plugged_size
 *	before the UNPLUG_ALL of probe)
 *
 * Return: see enum vmem_pm_decision.
 */
enum vmem_pm_decision vmem_pm_decide(enum vmem_pm_event ev, bool persistent,
				     u64 plugged)
{
	if (!plugged)
		return VMEM_PM_OK_EMPTY;
	switch (ev) {
	case VMEM_PM_SUSPEND_TO_IDLE:
		return VMEM_PM_OK_NO_RESET;
	case VMEM_PM_SUSPEND:
		return persistent ? VMEM_PM_OK_PERSISTENT : VMEM_PM_REFUSE;
	default:
		/* A new boot has nothing plugged, PERSISTENT_SUSPEND or not. */
		return VMEM_PM_REFUSE;
	}
}
