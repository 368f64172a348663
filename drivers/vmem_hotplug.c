// SPDX-License-Identifier: GPL-2.0
/*
 * Memory hotplug glue: struct vmem_mm_ops for the engine, the online_page
 * callback and the memory notifier.
 *
 * Page states inside an online memory block of ours (6.1 rules, see
 * vmem_compat.h):
 *  - a page of a plugged subblock is the kernel's: in use or free in the
 *    buddy;
 *  - every other page is "fake-offline": PageOffline, refcount 1, not
 *    counted in the zone's managed pages, never read or written. That
 *    covers unplugged subblocks and plugged ones the driver has taken back
 *    (alloc_contig_range()) on the way to unplugging them.
 * At MEM_GOING_OFFLINE the driver drops its reference to every
 * fake-offline page (so offlining skips them) and adds them to the
 * managed count (which offlining then subtracts with the rest of the
 * block); MEM_CANCEL_OFFLINE undoes both.
 */
#include <linux/bitmap.h>
#include <linux/memory.h>
#include <linux/memory_hotplug.h>
#include <linux/mm.h>
#include <linux/module.h>
#include <linux/page_ref.h>
#include <linux/rculist.h>
#include <linux/slab.h>
#include <linux/virtio.h>
#include <linux/vmstat.h>

#include "../include/vmem_budget.h"
#include "../include/vmem_compat.h"
#include "../include/vmem_dev.h"
#include "../include/vmem_trace.h"

#define VMEM_RESOURCE_NAME "System RAM (virtio_mem)"

/* Devices whose memory the online_page callback decides on; RCU. */
static LIST_HEAD(vmem_devices);
static DEFINE_MUTEX(vmem_devices_lock); /* guards writers of vmem_devices */

static struct vmem_dev *vmem_find_dev(u64 addr)
{
	struct vmem_dev *vm, *found = NULL;

	rcu_read_lock();
	list_for_each_entry_rcu(vm, &vmem_devices, list) {
		if (addr >= vm->start && addr < vm->end) {
			found = vm;
			break;
		}
	}
	rcu_read_unlock();
	/* A device is unlisted only once none of its memory is added. */
	return found;
}

static void vmem_set_fake_offline(unsigned long pfn, unsigned long nr,
				  bool fresh)
{
	unsigned long i;

	page_offline_begin();
	for (i = 0; i < nr; i++) {
		struct page *page = pfn_to_page(pfn + i);

		/* Freshly onlined pages start reserved: offlining refuses those. */
		if (fresh)
			__ClearPageReserved(page);
		__SetPageOffline(page);
	}
	page_offline_end();
}

/* Hand fake-offline pages [pfn, pfn + nr) to the page allocator. */
static void vmem_give_pages(unsigned long pfn, unsigned long nr)
{
	unsigned long i, chunk = 1UL << VMEM_MAX_PAGE_ORDER;

	page_offline_begin();
	for (i = 0; i < nr; i++)
		__ClearPageOffline(pfn_to_page(pfn + i));
	page_offline_end();
	/* Subblocks are power-of-two sized and aligned. */
	for (i = 0; i < nr; i += chunk) {
		chunk = min(chunk, nr - i);
		generic_online_page(pfn_to_page(pfn + i), ilog2(chunk));
	}
}

/*
 * The online_page callback, for every page range Linux onlines: pages of
 * plugged subblocks of our devices go to the buddy, the others stay
 * fake-offline. Runs between MEM_GOING_ONLINE and MEM_ONLINE, while the
 * engine keeps its hands off the block (see enum vmem_mem_event).
 */
static void vmem_online_page_cb(struct page *page, unsigned int order)
{
	u64 addr = page_to_phys(page), size = PAGE_SIZE << order, step, a;
	struct vmem_dev *vm = vmem_find_dev(addr);
	unsigned int step_order;

	if (!vm) {
		generic_online_page(page, order);
		return;
	}
	step = min(size, vm->engine.p.sb_size);
	step_order = ilog2(step >> PAGE_SHIFT);
	for (a = addr; a < addr + size; a += step) {
		if (vmem_engine_page_plugged(&vm->engine, a))
			generic_online_page(pfn_to_page(PHYS_PFN(a)), step_order);
		else
			vmem_set_fake_offline(PHYS_PFN(a), step >> PAGE_SHIFT,
					      true);
	}
}

/* Drop (@going) or retake our reference to every fake-offline page. */
static void vmem_fake_offline_refs(unsigned long pfn, unsigned long nr,
				   bool going)
{
	unsigned long i, n = 0;

	for (i = 0; i < nr; i++) {
		struct page *page = pfn_to_page(pfn + i);

		if (!PageOffline(page))
			continue;
		if (going)
			page_ref_dec(page);
		else
			page_ref_inc(page);
		n++;
	}
	if (n && VMEM_PAGEOFFLINE_6_1_RULES)
		adjust_managed_page_count(pfn_to_page(pfn),
					  going ? (long)n : -(long)n);
}

static void vmem_trace_block(struct vmem_dev *vm, const char *what, u64 addr,
			     u64 size, int rc)
{
	trace_virtio_mem_block(dev_name(&vm->vdev->dev), what, addr, size, rc);
}

static int vmem_memory_notifier(struct notifier_block *nb,
				unsigned long action, void *arg)
{
	struct vmem_dev *vm = container_of(nb, struct vmem_dev, memory_nb);
	struct memory_notify *mhp = arg;
	u64 start = PFN_PHYS(mhp->start_pfn), size = PFN_PHYS(mhp->nr_pages);
	struct vmem_engine *e = &vm->engine;

	if (start >= vm->end || start + size <= vm->start)
		return NOTIFY_DONE;

	switch (action) {
	case MEM_GOING_ONLINE:
		vmem_engine_notify(e, VMEM_MEM_GOING_ONLINE, start, size);
		break;
	case MEM_ONLINE:
		vmem_engine_notify(e, VMEM_MEM_ONLINE, start, size);
		vmem_trace_block(vm, "online", start, size, 0);
		vmem_kick(vm, 0);	/* may unblock WAIT_ONLINE */
		break;
	case MEM_CANCEL_ONLINE:
		vmem_engine_notify(e, VMEM_MEM_CANCEL_ONLINE, start, size);
		break;
	case MEM_GOING_OFFLINE:
		vmem_engine_notify(e, VMEM_MEM_GOING_OFFLINE, start, size);
		vmem_fake_offline_refs(mhp->start_pfn, mhp->nr_pages, true);
		break;
	case MEM_CANCEL_OFFLINE:
		vmem_fake_offline_refs(mhp->start_pfn, mhp->nr_pages, false);
		vmem_engine_notify(e, VMEM_MEM_CANCEL_OFFLINE, start, size);
		break;
	case MEM_OFFLINE:
		vmem_engine_notify(e, VMEM_MEM_OFFLINE, start, size);
		vmem_trace_block(vm, "offline", start, size, 0);
		vmem_kick(vm, 0);	/* offline memory is cheap to unplug */
		break;
	}
	return NOTIFY_OK;
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
	rc = add_memory_driver_managed(vm->mgid, addr, size, vm->res_name,
				       flags);
	/* See vmem_compat_memmap_on_memory(): how 6.1 says "not here". */
	if (memmap && rc == -EINVAL)
		rc = -EOPNOTSUPP;
	vmem_trace_block(vm, memmap ? "add_memmap_on_memory" : "add", addr,
			 size, rc);
	return rc;
}

static int vmem_mm_remove(void *priv, u64 addr, u64 size)
{
	int rc = remove_memory(addr, size);

	vmem_trace_block(priv, "remove", addr, size, rc);
	return rc;
}

/*
 * Memory taken back from Linux must leave it enough to live on: migrating
 * a workload's pages into the last free memory would wake the OOM killer.
 * The reserve is 1/32 of RAM, at least 128 MiB.
 */
#define VMEM_RESERVE_MIN_PAGES	(SZ_128M >> PAGE_SHIFT)

static unsigned long vmem_free_reserve(void)
{
	return max_t(unsigned long, VMEM_RESERVE_MIN_PAGES,
		     totalram_pages() / 32);
}

/*
 * Racy count of the pages of an online range that are free in the buddy
 * and of those in use (neither free nor fake-offline).
 */
static void vmem_range_usage(unsigned long pfn, unsigned long nr,
			     unsigned long *free, unsigned long *used)
{
	unsigned long end = pfn + nr, n;
	struct page *page;

	*free = 0;
	*used = 0;
	while (pfn < end) {
		page = pfn_to_online_page(pfn);
		if (page && PageBuddy(page)) {
			n = 1UL << min_t(unsigned long,
					 READ_ONCE(page->private),
					 VMEM_MAX_PAGE_ORDER);
			n = min(n, end - pfn);
			*free += n;
			pfn += n;
			continue;
		}
		if (page && !PageOffline(page))
			(*used)++;
		pfn++;
	}
}

/*
 * May the range leave Linux? Its free pages go, and its used pages move
 * into free memory elsewhere: what stays free must cover the reserve.
 * Returns 0 or -ENOSPC (the engine tries other blocks, and polls again).
 */
static int vmem_check_reserve(struct vmem_dev *vm, u64 addr, u64 size)
{
	unsigned long free, used, reserve = vmem_free_reserve();
	unsigned long sys_free = global_zone_page_state(NR_FREE_PAGES);

	vmem_range_usage(PHYS_PFN(addr), PHYS_PFN(size), &free, &used);
	if (sys_free >= free + used + reserve)
		return 0;
	dev_info_ratelimited(&vm->vdev->dev, "keeping %llu MiB at %#llx: %lu MiB in use there, %lu MiB free in all, %lu MiB reserve\n",
			     size >> 20, addr, used >> (20 - PAGE_SHIFT),
			     sys_free >> (20 - PAGE_SHIFT),
			     reserve >> (20 - PAGE_SHIFT));
	return -ENOSPC;
}

static int vmem_take_back(unsigned long pfn, unsigned long nr)
{
	int rc;

	rc = vmem_alloc_contig_range(pfn, pfn + nr);
	if (rc)
		return rc == -EINTR ? -EBUSY : rc;
	vmem_set_fake_offline(pfn, nr, false);
	adjust_managed_page_count(pfn_to_page(pfn), -(long)nr);
	return 0;
}

static int vmem_mm_fake_offline(void *priv, u64 addr, u64 size)
{
	struct vmem_dev *vm = priv;
	int rc = vmem_check_reserve(vm, addr, size);

	if (!rc)
		rc = vmem_take_back(PHYS_PFN(addr), PHYS_PFN(size));
	if (rc)
		atomic64_inc(&vm->stats.fake_offline_failures);
	vmem_trace_block(vm, "fake_offline", addr, size, rc);
	return rc;
}

static void vmem_mm_fake_online(void *priv, u64 addr, u64 size)
{
	vmem_give_pages(PHYS_PFN(addr), PHYS_PFN(size));
	vmem_trace_block(priv, "fake_online", addr, size, 0);
}

/*
 * Racy look at an online ZONE_MOVABLE range: is every pageblock either
 * fake-offline or inside one free buddy chunk? A wrong answer costs time,
 * never data: it only picks how vmem_mm_offline_and_remove() proceeds.
 */
static bool vmem_range_idle(unsigned long pfn, unsigned long nr)
{
	unsigned long end = pfn + nr, order;
	struct page *page;

	while (pfn < end) {
		page = pfn_to_online_page(pfn);
		if (!page || page_zonenum(page) != ZONE_MOVABLE)
			return false;
		if (PageOffline(page)) {
			pfn += pageblock_nr_pages;
			continue;
		}
		if (!PageBuddy(page))
			return false;
		order = min_t(unsigned long, READ_ONCE(page->private),
			      VMEM_MAX_PAGE_ORDER);
		if (order < pageblock_order)
			return false;
		pfn += 1UL << order;
	}
	return true;
}

/*
 * Take back with alloc_contig_range() every page of the @nr pageblocks
 * from @pfn that is not fake-offline yet, one call per run of such
 * pageblocks (a subblock is whole pageblocks, all fake-offline or none),
 * and note them in @taken. Stops at the first failure.
 */
static int vmem_take_runs(unsigned long pfn, unsigned int nr,
			  unsigned long *taken)
{
	unsigned int pb, end;
	int rc;

	for (pb = 0; pb < nr; pb = end) {
		if (PageOffline(pfn_to_page(pfn + pb * pageblock_nr_pages))) {
			end = pb + 1;
			continue;
		}
		for (end = pb + 1; end < nr; end++)
			if (PageOffline(pfn_to_page(pfn + end *
						    pageblock_nr_pages)))
				break;
		rc = vmem_take_back(pfn + pb * pageblock_nr_pages,
				    (end - pb) * pageblock_nr_pages);
		if (rc)
			return rc;
		bitmap_set(taken, pb, end - pb);
	}
	return 0;
}

/*
 * Offlining in 6.1 retries migration until it succeeds, so it could spin
 * forever on one page that never migrates. A ZONE_MOVABLE block that
 * looks idle has nothing to migrate and is offlined directly: that skips
 * allocating and marking each of its pages. Any other block first has
 * every page still in use taken back with alloc_contig_range(), which
 * gives up instead; the offline then has nothing left to migrate. In
 * Big-Block Mode, bbm_safe_unplug=0 offlines every block directly.
 * The first @memmap bytes of a block with its memmap on it are neither
 * checked nor taken back: the offline skips them.
 */
static int vmem_offline_and_remove(struct vmem_dev *vm, u64 addr, u64 size,
				   u64 memmap)
{
	unsigned long pfn = PHYS_PFN(addr + memmap);
	unsigned int i, nr = PHYS_PFN(size - memmap) / pageblock_nr_pages;
	unsigned long *taken;
	struct page *page;
	int rc;

	rc = vmem_check_reserve(vm, addr + memmap, size - memmap);
	if (rc)
		return rc;
	if ((vm->engine.p.bbm && !vm->bbm_safe_unplug) ||
	    vmem_range_idle(pfn, PHYS_PFN(size - memmap))) {
		rc = offline_and_remove_memory(addr, size);
		if (!rc)
			return 0;
	}
	taken = bitmap_zalloc(nr, GFP_KERNEL);
	if (!taken)
		return -ENOMEM;
	rc = vmem_take_runs(pfn, nr, taken);
	if (!rc)
		rc = offline_and_remove_memory(addr, size);
	if (rc) {
		/*
		 * Give back what we took if it is still ours: a removal that
		 * failed after the offline onlines the block again, which
		 * re-initialises its pages and hands plugged ones to the
		 * buddy through the online_page callback.
		 */
		for_each_set_bit(i, taken, nr) {
			page = pfn_to_online_page(pfn + i * pageblock_nr_pages);
			if (page && PageOffline(page))
				vmem_give_pages(page_to_pfn(page),
						pageblock_nr_pages);
		}
	}
	bitmap_free(taken);
	return rc;
}

static int vmem_mm_offline_and_remove(void *priv, u64 addr, u64 size,
				      u64 memmap)
{
	struct vmem_dev *vm = priv;
	int rc = vmem_offline_and_remove(vm, addr, size, memmap);

	if (rc)
		atomic64_inc(&vm->stats.offline_and_remove_failures);
	vmem_trace_block(vm, "offline_and_remove", addr, size, rc);
	return rc;
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
	.fake_offline = vmem_mm_fake_offline,
	.fake_online = vmem_mm_fake_online,
	.zone = vmem_mm_zone,
	.kernel_mem = vmem_mm_kernel_mem,
};

/**
 * vmem_hotplug_init() - memory group, notifier and callback listing
 * @vm: the device; engine initialised, vm->nid set
 *
 * Return: 0 or a negative errno, with nothing left registered.
 */
int vmem_hotplug_init(struct vmem_dev *vm)
{
	unsigned long unit_pages = PHYS_PFN(vm->engine.p.mb_size);
	int rc;

	/* The resource tree keeps the name while memory is added. */
	vm->res_name = kstrdup(VMEM_RESOURCE_NAME, GFP_KERNEL);
	if (!vm->res_name)
		return -ENOMEM;
	vm->mgid = memory_group_register_dynamic(vm->nid, unit_pages);
	if (vm->mgid < 0) {
		kfree(vm->res_name);
		return vm->mgid;
	}
	vm->start = vm->engine.first_mb;
	vm->end = vm->start + vm->engine.nr_mbs * vm->engine.p.mb_size;
	vm->memory_nb.notifier_call = vmem_memory_notifier;
	rc = register_memory_notifier(&vm->memory_nb);
	if (rc) {
		memory_group_unregister(vm->mgid);
		kfree(vm->res_name);
		return rc;
	}
	mutex_lock(&vmem_devices_lock);
	list_add_rcu(&vm->list, &vmem_devices);
	mutex_unlock(&vmem_devices_lock);
	return 0;
}

/**
 * vmem_hotplug_exit() - undo vmem_hotplug_init()
 * @vm: the device
 * @memory_left: some of its memory blocks could not be removed
 *
 * Nothing calls into @vm after this. Memory blocks left behind still
 * point at the memory group and the resource name: those two stay
 * allocated for good then. Such blocks are online (offline ones can
 * always be removed); their unplugged pages stay PageOffline with a
 * reference, so offlining them fails and nothing ever touches them.
 */
void vmem_hotplug_exit(struct vmem_dev *vm, bool memory_left)
{
	mutex_lock(&vmem_devices_lock);
	list_del_rcu(&vm->list);
	mutex_unlock(&vmem_devices_lock);
	synchronize_rcu();
	unregister_memory_notifier(&vm->memory_nb);
	if (memory_left)
		return;
	memory_group_unregister(vm->mgid);
	kfree(vm->res_name);
}

/**
 * vmem_hotplug_kick_all() - run every device's resize work now
 *
 * For a policy change (the unplug_online parameter) that may end a retry.
 */
void vmem_hotplug_kick_all(void)
{
	struct vmem_dev *vm;

	rcu_read_lock();
	list_for_each_entry_rcu(vm, &vmem_devices, list)
		vmem_kick(vm, 0);
	rcu_read_unlock();
}

/**
 * vmem_hotplug_register() - install the online_page callback
 *
 * Only one driver can own it; the in-tree virtio_mem and hv_balloon do
 * too.
 *
 * Return: 0 or a negative errno.
 */
int vmem_hotplug_register(void)
{
	int rc = set_online_page_callback(&vmem_online_page_cb);

	if (rc)
		pr_err("virtio_mem: another driver (in-tree virtio_mem? hv_balloon?) owns the online_page callback: %d\n",
		       rc);
	return rc;
}

void vmem_hotplug_unregister(void)
{
	restore_online_page_callback(&vmem_online_page_cb);
}
