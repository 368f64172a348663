/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The three ops tables through which the pure resize engine reaches the
 * world. The driver implements them with the virtqueue, the kernel's
 * memory-hotplug calls and the page rules of the running kernel's
 * generation; KUnit implements them with a simulated device, memory
 * hotplug layer and page model.
 *
 * Addresses and sizes are bytes throughout.
 */
#ifndef _VMEM_OPS_H
#define _VMEM_OPS_H

#include <linux/types.h>

struct vmem_kmem;

/**
 * struct vmem_device_ops - requests to the device
 * @plug: plug @nb_blocks device blocks from @addr
 * @unplug: unplug @nb_blocks device blocks from @addr
 * @unplug_all: unplug everything; the device may shrink its usable
 *	region, without a config notification (the spec says so)
 * @state: ask the state of @nb_blocks blocks from @addr; the device's
 *	answer (VIRTIO_MEM_STATE_*) goes to *@state
 * @reread_config: read the config space now and hand it to the engine
 *	(vmem_engine_set_config()): after an UNPLUG_ALL, whose changes the
 *	device does not announce
 *
 * The request ops return the device's reply type (VIRTIO_MEM_RESP_*,
 * unvalidated: the engine checks it), -EPROTO if the queue broke (the
 * device is unusable from then on), or another negative errno if no reply
 * came.
 */
struct vmem_device_ops {
	int (*plug)(void *priv, u64 addr, u16 nb_blocks);
	int (*unplug)(void *priv, u64 addr, u16 nb_blocks);
	int (*unplug_all)(void *priv);
	int (*state)(void *priv, u64 addr, u16 nb_blocks, u16 *state);
	void (*reread_config)(void *priv);
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
 * @add: add the memory block(s) [@addr, @addr + @size) to Linux
 *	(add_memory_driver_managed()); they may come online at once. With
 *	@memmap, the memmap goes on their first pages
 *	(MHP_MEMMAP_ON_MEMORY); -EOPNOTSUPP then means Linux would not do
 *	that, and nothing changed
 * @remove: remove offline memory blocks (remove_memory())
 * @offline_and_remove: offline and remove online memory blocks. The
 *	engine calls it only when nothing in the range needs migrating:
 *	every page is free or fake-offline (taken back, or never handed
 *	over). The glue makes that exact: at MEM_GOING_OFFLINE, when the
 *	range is isolated, it vetoes the offline (-EBUSY here) if a page is
 *	in use, so the offline can never loop on a page that does not move
 * @range_idle: a racy look at an online range: is every page of it free
 *	in the page allocator or fake-offline (vmem_engine_page_ours())?
 *	Only picks a path: a wrong "yes" costs a vetoed offline, never data
 * @may_take: may [@addr, @addr + @size) of an online block leave Linux
 *	now: its free pages go, its used ones move elsewhere, and what
 *	stays free must cover the free-memory reserve. 0 or -ENOSPC
 * @zone: where the added memory block at @addr is now
 * @kernel_mem: read the kernel memory left (struct vmem_kmem), for the
 *	budget of vmem_budget.h
 *
 * The int ops return 0 or a negative errno. -EBUSY, -ENOMEM, -EAGAIN and
 * -ENOSPC are transient: the engine retries, with backoff. Any other
 * error of @add is a hard failure of that block: the engine uses other
 * blocks. Other ops' errors are all retried with backoff.
 *
 * @add, @remove and @offline_and_remove fire the memory notifier (and,
 * for onlining, the online_page callback) from inside: the glue passes
 * those on to vmem_engine_event() and vmem_engine_online_pages(), which
 * never wait for the engine's run lock.
 */
struct vmem_mm_ops {
	int (*add)(void *priv, u64 addr, u64 size, bool memmap);
	int (*remove)(void *priv, u64 addr, u64 size);
	int (*offline_and_remove)(void *priv, u64 addr, u64 size);
	bool (*range_idle)(void *priv, u64 addr, u64 size);
	int (*may_take)(void *priv, u64 addr, u64 size);
	enum vmem_zone (*zone)(void *priv, u64 addr);
	void (*kernel_mem)(void *priv, struct vmem_kmem *k);
};

/**
 * struct vmem_page_ops - the page rules of one kernel generation
 * @online: pages of a block going online that go to the page allocator
 *	(from the online_page callback)
 * @keep: pages of a block going online that stay fake-offline (from the
 *	online_page callback): they must stay PageOffline, with a
 *	reference, out of the managed page count
 * @give: hand fake-offline pages to the page allocator; @taken: they
 *	came from @take, otherwise they were kept at onlining (@keep)
 * @take: take pages of an online block back from the page allocator
 *	(alloc_contig_range()) and keep them fake-offline; gives up, never
 *	loops. 0 or a negative errno
 * @unref: at MEM_GOING_OFFLINE, for the driver's fake-offline pages of the
 *	block: drop the driver's reference, so that offlining skips them,
 *	and fix the managed page count as offlining will count them
 * @reref: at MEM_CANCEL_OFFLINE, undo @unref
 *
 * The driver has one implementation per kernel generation whose rules
 * differ (6.1 and 6.11+: vmem_pages.h); KUnit has a page model of each.
 * Ranges are whole pageblocks. The callers make sure every page of a
 * range is in the state the op expects; the implementations only apply
 * the generation's rules.
 */
struct vmem_page_ops {
	void (*online)(void *priv, u64 addr, u64 size);
	void (*keep)(void *priv, u64 addr, u64 size);
	void (*give)(void *priv, u64 addr, u64 size, bool taken);
	int (*take)(void *priv, u64 addr, u64 size);
	void (*unref)(void *priv, u64 addr, u64 size);
	void (*reref)(void *priv, u64 addr, u64 size);
};

#endif /* _VMEM_OPS_H */
