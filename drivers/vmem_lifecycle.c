// SPDX-License-Identifier: GPL-2.0
/*
 * Crash-kernel answers and the suspend decision (see vmem_lifecycle.h).
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
#include <linux/virtio_mem.h>

#include "../include/vmem_lifecycle.h"

/**
 * vmem_kdump_init() - set up the crash kernel's view
 * @k: the view
 * @addr: start of the device region
 * @size: its size
 * @block_size: the device block size (a power of two)
 * @dev: device requests
 * @dev_priv: their argument
 */
void vmem_kdump_init(struct vmem_kdump *k, u64 addr, u64 size,
		     u64 block_size, const struct vmem_device_ops *dev,
		     void *dev_priv)
{
	*k = (struct vmem_kdump) {
		.addr = addr, .size = size, .block_size = block_size,
		.dev = dev, .dev_priv = dev_priv, .cached = U64_MAX,
	};
}

/**
 * vmem_kdump_is_ram() - may the dump read the page at @paddr?
 * @k: the view
 * @paddr: a physical address
 *
 * Return: true outside the device region and for plugged blocks; false
 * for unplugged blocks and when the device gave no clear answer.
 */
bool vmem_kdump_is_ram(struct vmem_kdump *k, u64 paddr)
{
	u16 state = VIRTIO_MEM_STATE_MIXED;
	u64 block;
	int rc;

	if (paddr < k->addr || paddr - k->addr >= k->size)
		return true;
	block = round_down(paddr, k->block_size);
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
 * vmem_suspend_decide() - may the system suspend or hibernate?
 * @persistent: VIRTIO_MEM_F_PERSISTENT_SUSPEND was negotiated
 * @plugged: bytes the books hold plugged
 *
 * Resume resets the device, and a reset unplugs everything unless the
 * device promised otherwise. Memory a previous driver left plugged (an
 * UNPLUG_ALL still pending) is not in use, so losing it is harmless.
 *
 * Return: see enum vmem_suspend.
 */
enum vmem_suspend vmem_suspend_decide(bool persistent, u64 plugged)
{
	if (persistent)
		return VMEM_SUSPEND_OK_PERSISTENT;
	if (!plugged)
		return VMEM_SUSPEND_OK_EMPTY;
	return VMEM_SUSPEND_REFUSE;
}
