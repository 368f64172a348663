// SPDX-License-Identifier: GPL-2.0
/*
 * Memory hotplug for the engine: struct vmem_mm_ops, the looks at a range
 * of pages the driver's offlines rely on, and a device's hotplug set-up
 * and teardown (the engine, the region's exclusive resource, the memory
 * group).
 */
#include <linux/delay.h>
#include <linux/ioport.h>
#include <linux/jiffies.h>
#include <linux/kasan.h>
#include <linux/memory.h>
#include <linux/memory_hotplug.h>
#include <linux/mm.h>
#include <linux/pageblock-flags.h>
#include <linux/sched.h>
#include <linux/slab.h>
#include <linux/virtio.h>
#include <linux/vmstat.h>

#include "../include/vmem_budget.h"
#include "../include/vmem_compat.h"
#include "../include/vmem_dev.h"
#include "../include/vmem_mode.h"
#include "../include/vmem_trace.h"

#define VMEM_RESOURCE_NAME "System RAM (virtio_mem)"

/*
 * How long the teardown keeps asking a device that refuses (BUSY during a
 * migration, say) to unplug, before it leaves the rest plugged: the
 * engine's backoff from VMEM_RETRY_MIN_MS gives about four tries.
 */
#define VMEM_TEARDOWN_MS	3000

/* Memory taken back from Linux must leave it this much free, at least. */
#define VMEM_RESERVE_MIN_PAGES	(SZ_128M >> PAGE_SHIFT)
/* ... and at least this fraction (1/N) of RAM. */
#define VMEM_RESERVE_DIV	32

static void vmem_trace_block(struct vmem_dev *vm, const char *what, u64 addr,
			     u64 size, int rc)
{
	trace_virtio_mem_block(dev_name(&vm->vdev->dev), what, addr, size, rc);
}

/*
 * Around one of Linux's hotplug calls: the transitions it causes are the
 * engine's own (see vmem_dev.op_task).
 */
static void vmem_ours(struct vmem_dev *vm, bool begin)
{
	WRITE_ONCE(vm->op_task, begin ? current : NULL);
}

static int vmem_mm_add(void *priv, u64 addr, u64 size, bool memmap)
{
	struct vmem_dev *vm = priv;
	mhp_t flags = MHP_MERGE_RESOURCE | MHP_NID_IS_MGID;
	int rc;

	if (memmap && !vmem_compat_memmap_on_memory(size))
		return -EOPNOTSUPP;
	if (memmap)
		flags |= MHP_MEMMAP_ON_MEMORY;
	vmem_ours(vm, true);
	rc = add_memory_driver_managed(vm->mgid, addr, size, vm->res_name,
				       flags);
	vmem_ours(vm, false);
	/* See vmem_compat_memmap_on_memory(): how 6.1 says "not here". */
	if (memmap && rc == -EINVAL)
		rc = -EOPNOTSUPP;
	vmem_trace_block(vm, memmap ? "add_memmap_on_memory" : "add", addr,
			 size, rc);
	return rc;
}

static int vmem_mm_remove(void *priv, u64 addr, u64 size)
{
	struct vmem_dev *vm = priv;
	int rc;

	vmem_ours(vm, true);
	rc = remove_memory(addr, size);
	vmem_ours(vm, false);
	vmem_trace_block(vm, "remove", addr, size, rc);
	return rc;
}

static int vmem_mm_offline_and_remove(void *priv, u64 addr, u64 size)
{
	struct vmem_dev *vm = priv;
	int rc;

	vmem_ours(vm, true);
	rc = offline_and_remove_memory(addr, size);
	vmem_ours(vm, false);
	if (rc)
		atomic64_inc(&vm->stats.offline_and_remove_failures);
	vmem_trace_block(vm, "offline_and_remove", addr, size, rc);
	return rc;
}

/* The order of the free buddy chunk that starts at @page, capped. */
static unsigned int vmem_buddy_order(struct page *page)
{
	return min_t(unsigned long, READ_ONCE(page->private),
		     VMEM_MAX_PAGE_ORDER);
}

/**
 * vmem_pages_idle() - is every page of an online range free or ours?
 * @vm: the device
 * @pfn: first page, pageblock aligned
 * @nr: pages, whole pageblocks
 *
 * Free: the head of a free buddy chunk of a pageblock at least (skipped
 * whole). Ours: in a
 * granule the books hold fake-offline (skipped a pageblock at a time:
 * granules are whole pageblocks). Anything else is in use. Racy unless
 * the range is isolated, as it is at MEM_GOING_OFFLINE: no page can be
 * allocated from it then, and freed pages go straight to the buddy.
 *
 * Return: true if nothing in the range would need migrating.
 */
bool vmem_pages_idle(struct vmem_dev *vm, unsigned long pfn, unsigned long nr)
{
	unsigned long end = pfn + nr;
	struct page *page;

	while (pfn < end) {
		if (vmem_engine_page_ours(vm->engine, PFN_PHYS(pfn))) {
			pfn = ALIGN(pfn + 1, pageblock_nr_pages);
			continue;
		}
		page = pfn_to_online_page(pfn);
		/*
		 * A free chunk below a pageblock could become a compaction
		 * target in the offline (suitable_migration_target() takes
		 * those from any pageblock at the highest priority): not idle.
		 */
		if (!page || !PageBuddy(page) ||
		    vmem_buddy_order(page) < pageblock_order)
			return false;
		pfn += 1UL << vmem_buddy_order(page);
	}
	return true;
}

/*
 * Racy count of the pages of an online range that are free in the buddy
 * and of those in use (neither free nor ours).
 */
static void vmem_range_usage(struct vmem_dev *vm, unsigned long pfn,
			     unsigned long nr, unsigned long *free,
			     unsigned long *used)
{
	unsigned long end = pfn + nr, n;
	struct page *page;

	*free = 0;
	*used = 0;
	while (pfn < end) {
		if (vmem_engine_page_ours(vm->engine, PFN_PHYS(pfn))) {
			pfn = min(end, ALIGN(pfn + 1, pageblock_nr_pages));
			continue;
		}
		page = pfn_to_online_page(pfn);
		if (page && PageBuddy(page)) {
			n = min(1UL << vmem_buddy_order(page), end - pfn);
			*free += n;
			pfn += n;
			continue;
		}
		if (page)
			(*used)++;
		pfn++;
	}
}

static bool vmem_mm_range_idle(void *priv, u64 addr, u64 size)
{
	return vmem_pages_idle(priv, PHYS_PFN(addr), PHYS_PFN(size));
}

/*
 * Memory taken back from Linux must leave it enough to live on: migrating
 * a workload's pages into the last free memory would wake the OOM killer.
 * The range's free pages go, its used ones move into free memory
 * elsewhere: what stays free must cover the reserve, 1/VMEM_RESERVE_DIV
 * of RAM and at least VMEM_RESERVE_MIN_PAGES.
 */
static int vmem_mm_may_take(void *priv, u64 addr, u64 size)
{
	struct vmem_dev *vm = priv;
	unsigned long free, used, sys_free, reserve;

	reserve = max_t(unsigned long, VMEM_RESERVE_MIN_PAGES,
			totalram_pages() / VMEM_RESERVE_DIV);
	sys_free = global_zone_page_state(NR_FREE_PAGES);
	vmem_range_usage(vm, PHYS_PFN(addr), PHYS_PFN(size), &free, &used);
	if (sys_free >= free + used + reserve)
		return 0;
	atomic64_inc(&vm->stats.fake_offline_failures);
	dev_info_ratelimited(&vm->vdev->dev, "keeping %llu MiB at %#llx: %lu MiB in use there, %lu MiB free in all, %lu MiB reserve\n",
			     size >> 20, addr, used >> (20 - PAGE_SHIFT),
			     sys_free >> (20 - PAGE_SHIFT),
			     reserve >> (20 - PAGE_SHIFT));
	return -ENOSPC;
}

static enum vmem_zone vmem_mm_zone(void *priv, u64 addr)
{
	struct page *page = pfn_to_online_page(PHYS_PFN(addr));

	if (!page)
		return VMEM_ZONE_OFFLINE;
	return page_zonenum(page) == ZONE_MOVABLE ? VMEM_ZONE_MOVABLE :
						     VMEM_ZONE_KERNEL;
}

/*
 * What kernel allocations can still get, for the budget: every populated
 * zone below ZONE_MOVABLE of every online node, by the formula in
 * vmem_budget.h. A racy snapshot; the floor absorbs the error.
 */
static void vmem_mm_kernel_mem(void *priv, struct vmem_kmem *k)
{
	unsigned long file, free;
	struct zone *zone;
	int nid, zt;

	k->avail = 0;
	k->managed = 0;
	for_each_online_node(nid) {
		for (zt = 0; zt < ZONE_MOVABLE; zt++) {
			zone = &NODE_DATA(nid)->node_zones[zt];
			if (!populated_zone(zone))
				continue;
			file = zone_page_state(zone, NR_ZONE_INACTIVE_FILE) +
			       zone_page_state(zone, NR_ZONE_ACTIVE_FILE);
			free = zone_page_state(zone, NR_FREE_PAGES);
			k->avail += vmem_budget_zone_avail(PFN_PHYS(free),
							   PFN_PHYS(file),
							   PFN_PHYS(high_wmark_pages(zone)));
			k->managed += PFN_PHYS(zone_managed_pages(zone));
		}
	}
}

const struct vmem_mm_ops vmem_hotplug_ops = {
	.add = vmem_mm_add,
	.remove = vmem_mm_remove,
	.offline_and_remove = vmem_mm_offline_and_remove,
	.range_idle = vmem_mm_range_idle,
	.may_take = vmem_mm_may_take,
	.zone = vmem_mm_zone,
	.kernel_mem = vmem_mm_kernel_mem,
};

/*
 * Claim the whole region as System RAM that is exclusive to us: /dev/mem
 * then refuses it (the unplugged parts must never be read), /proc/iomem
 * names the device, and the memory blocks we add nest inside it (it is
 * not marked busy, so that add_memory_driver_managed() can nest there).
 */
static int vmem_claim_region(struct vmem_dev *vm)
{
	struct device *dev = &vm->vdev->dev;

	vm->parent_name = kstrdup(dev_name(dev), GFP_KERNEL);
	if (!vm->parent_name)
		return -ENOMEM;
	vm->parent = __request_mem_region(vm->cfg.addr, vm->cfg.region_size,
					  vm->parent_name,
					  IORESOURCE_SYSTEM_RAM |
					  IORESOURCE_EXCLUSIVE);
	if (!vm->parent) {
		dev_err(dev, "cannot claim the region [%#llx-%#llx]: part of it is someone else's (see /proc/iomem)\n",
			vm->cfg.addr, vm->cfg.addr + vm->cfg.region_size - 1);
		kfree(vm->parent_name);
		return -EBUSY;
	}
	vm->parent->flags &= ~IORESOURCE_BUSY;
	return 0;
}

static void vmem_release_region(struct vmem_dev *vm)
{
	release_resource(vm->parent);
	kfree(vm->parent);
	kfree(vm->parent_name);
}

/* The engine's parameters for this device and kernel. */
static void vmem_engine_params_for(struct vmem_dev *vm,
				   struct vmem_engine_params *p)
{
	struct range pluggable = mhp_get_pluggable_range(true);
	struct vmem_mode_input in = {
		.addr = vm->cfg.addr,
		.region_size = vm->cfg.region_size,
		.block_size = vm->cfg.block_size,
		.lmb_size = memory_block_size_bytes(),
		.pageblock_size = PAGE_SIZE << pageblock_order,
		.page_size = PAGE_SIZE,
		.struct_page_size = sizeof(struct page),
		.kasan_shadow_shift = VMEM_KASAN_SHADOW_SHIFT,
		.pluggable_start = pluggable.start,
		.pluggable_end = pluggable.end,
		.force_bbm = vmem_param_force_bbm(),
		.bbm_block_size = vmem_param_bbm_block_size(),
		.memmap_on_memory = vmem_param_memmap_on_memory(),
	};

	if (vmem_mode_pick(&in, p) & VMEM_MODE_BBM_SIZE_IGNORED)
		dev_warn(&vm->vdev->dev, "bbm_block_size %lu ignored: not a power of two of at least %llu\n",
			 vmem_param_bbm_block_size(),
			 max_t(u64, in.block_size, in.lmb_size));
}

/**
 * vmem_hotplug_setup() - the engine, the region and the memory group
 * @vm: the device, its config validated, vm->nid set
 *
 * Return: 0 or a negative errno, with nothing left behind.
 */
int vmem_hotplug_setup(struct vmem_dev *vm)
{
	struct device *dev = &vm->vdev->dev;
	const struct vmem_page_ops *rules = vmem_page_rules();
	struct vmem_engine_params p;
	int rc;

	if (!rules) {
		dev_err(dev, "this kernel's page rules for hot-plugged memory are unknown to the driver: not resizing\n");
		return 0;
	}
	/*
	 * Memory of the region still added to Linux (a previous driver that
	 * could not remove it, e.g. the in-tree one with offline blocks left)
	 * must not be unplugged under it: UNPLUG_ALL would pull it away.
	 */
	if (region_intersects(vm->cfg.addr, vm->cfg.region_size,
			      IORESOURCE_SYSTEM_RAM, IORES_DESC_NONE) !=
	    REGION_DISJOINT) {
		dev_err(dev, "memory of the region [%#llx-%#llx] is still added to Linux by a previous driver: not taking the device\n",
			vm->cfg.addr, vm->cfg.addr + vm->cfg.region_size - 1);
		return -EBUSY;
	}
	vmem_engine_params_for(vm, &p);
	vm->engine = vmem_engine_create(&p, &vmem_virtio_ops, vm,
					&vmem_hotplug_ops, vm, rules, vm, &rc);
	if (!vm->engine)
		return rc;
	vmem_engine_span(vm->engine, &vm->start, &vm->end);
	rc = vmem_claim_region(vm);
	if (rc)
		goto out_engine;
	rc = -ENOMEM;
	/* The resource tree keeps the name while memory is added. */
	vm->res_name = kstrdup(VMEM_RESOURCE_NAME, GFP_KERNEL);
	if (!vm->res_name)
		goto out_region;
	vm->mgid = memory_group_register_dynamic(vm->nid,
						 PHYS_PFN(p.mb_size));
	if (vm->mgid < 0) {
		rc = vm->mgid;
		goto out_name;
	}
	vmem_config_update(vm);
	if (vm->cfg.plugged_size) {
		dev_info(dev, "%llu bytes still plugged (left by a previous driver): unplugging all first\n",
			 vm->cfg.plugged_size);
		vmem_engine_request_unplug_all(vm->engine);
	}
	return 0;

out_name:
	kfree(vm->res_name);
out_region:
	vmem_release_region(vm);
out_engine:
	vmem_engine_destroy(vm->engine);
	vm->engine = NULL;
	return rc;
}

/* Unplug what the device lets us, for up to VMEM_TEARDOWN_MS. */
static void vmem_hotplug_drain(struct vmem_dev *vm)
{
	unsigned long deadline = jiffies + msecs_to_jiffies(VMEM_TEARDOWN_MS);
	enum vmem_run_result res;
	unsigned int delay;

	for (;;) {
		res = vmem_engine_run(vm->engine, &delay);
		if (res != VMEM_RUN_RETRY && res != VMEM_RUN_WAIT_ONLINE)
			return;
		if (!time_before(jiffies + msecs_to_jiffies(delay), deadline))
			return;
		msleep(delay);
	}
}

/**
 * vmem_hotplug_unplug_all() - unplug and remove what can be, at remove
 * @vm: the device, its works stopped
 *
 * Refuses Linux's own transitions of our memory from now on, unplugs what
 * the device lets us for up to VMEM_TEARDOWN_MS, and removes every
 * offline block whatever the device says (vmem_engine_end_teardown()).
 * No request is sent afterwards.
 *
 * Return: the blocks still added (online, with pages that do not move).
 */
u64 vmem_hotplug_unplug_all(struct vmem_dev *vm)
{
	struct vmem_status st;
	u64 left;

	vmem_engine_begin_teardown(vm->engine);
	vmem_hotplug_drain(vm);
	left = vmem_engine_end_teardown(vm->engine);
	if (left) {
		vmem_engine_status(vm->engine, &st);
		dev_err(&vm->vdev->dev, "%llu memory blocks could not be removed (%s: %d): they stay online, their unplugged parts offline for good\n",
			left, vmem_what_name(st.last_what), st.last_err);
	}
	/* The virtqueue goes away. */
	vmem_engine_mark_broken(vm->engine);
	return left;
}

/**
 * vmem_hotplug_release() - free what vmem_hotplug_setup() made
 * @vm: the device; no notifier or callback reaches it any more
 * @left: blocks still added (vmem_hotplug_unplug_all())
 *
 * Blocks left added stay online for good: their unplugged pages keep a
 * reference, so Linux can never offline them. They point at the memory
 * group, the resource names and the region's resource, which then stay.
 */
void vmem_hotplug_release(struct vmem_dev *vm, u64 left)
{
	vmem_engine_destroy(vm->engine);
	vm->engine = NULL;
	if (left)
		return;
	memory_group_unregister(vm->mgid);
	kfree(vm->res_name);
	vmem_release_region(vm);
}
