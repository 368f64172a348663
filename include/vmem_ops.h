/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The two ops tables through which the pure resize engine reaches the
 * world. The driver implements them with the virtqueue and the kernel's
 * memory-hotplug calls; KUnit implements them with a simulated device and
 * a simulated memory-hotplug layer.
 */
#ifndef _VMEM_OPS_H
#define _VMEM_OPS_H

#include <linux/types.h>

struct vmem_kmem;

/**
 * struct vmem_device_ops - requests to the device
 * @plug: plug @nb_blocks device blocks from @addr
 * @unplug: unplug @nb_blocks device blocks from @addr
 * @unplug_all: unplug everything and shrink the usable region
 * @state: ask the state of @nb_blocks blocks from @addr; the device's
 *	answer (VIRTIO_MEM_STATE_*) goes to *@state
 *
 * Each returns the device's reply type (VIRTIO_MEM_RESP_*, unvalidated:
 * the engine checks it) or a negative errno if no reply came.
 */
struct vmem_device_ops {
	int (*plug)(void *priv, u64 addr, u16 nb_blocks);
	int (*unplug)(void *priv, u64 addr, u16 nb_blocks);
	int (*unplug_all)(void *priv);
	int (*state)(void *priv, u64 addr, u16 nb_blocks, u16 *state);
};

/**
 * enum vmem_zone - where an added memory block is
 * @VMEM_ZONE_OFFLINE: added, not online
 * @VMEM_ZONE_KERNEL: online in a kernel zone (ZONE_NORMAL and below)
 * @VMEM_ZONE_MOVABLE: online in ZONE_MOVABLE
 */
enum vmem_zone {
	VMEM_ZONE_OFFLINE,
	VMEM_ZONE_KERNEL,
	VMEM_ZONE_MOVABLE,
};

/**
 * struct vmem_mm_ops - memory hotplug
 * @add: add the memory block [@addr, @addr + @size) to Linux
 *	(add_memory_driver_managed()); it may come online at once. With
 *	@memmap, its memmap goes on its first pages (MHP_MEMMAP_ON_MEMORY);
 *	-EOPNOTSUPP then means Linux would not do that
 * @remove: remove an offline memory block (remove_memory())
 * @offline_and_remove: offline and remove an online memory block; must
 *	give up, not loop, when it cannot make progress. Its first @memmap
 *	bytes hold its own memmap (0 if it has none), not pages to take
 *	back
 * @kernel_mem: read the kernel memory left (struct vmem_kmem), for the
 *	budget of vmem_budget.h
 * @fake_offline: take [@addr, @addr + @size) of an online block back from
 *	the page allocator (alloc_contig_range()) and keep it fake-offline
 * @fake_online: hand [@addr, @addr + @size) of an online block, kept
 *	fake-offline so far, to the page allocator
 * @zone: where the added memory block at @addr is now
 *
 * The int ops return 0 or a negative errno. -EBUSY, -ENOMEM, -EAGAIN and
 * -ENOSPC are transient: the engine retries, with backoff. -ENOSPC from
 * @fake_offline or @offline_and_remove means "Linux cannot spare this
 * memory now": the engine tries other blocks and polls again soon. Any other error of
 * @add is a hard failure of that block: the engine uses other blocks.
 * Other ops' errors are all retried with backoff.
 */
struct vmem_mm_ops {
	int (*add)(void *priv, u64 addr, u64 size, bool memmap);
	int (*remove)(void *priv, u64 addr, u64 size);
	int (*offline_and_remove)(void *priv, u64 addr, u64 size, u64 memmap);
	int (*fake_offline)(void *priv, u64 addr, u64 size);
	void (*fake_online)(void *priv, u64 addr, u64 size);
	enum vmem_zone (*zone)(void *priv, u64 addr);
	void (*kernel_mem)(void *priv, struct vmem_kmem *k);
};

#endif /* _VMEM_OPS_H */
