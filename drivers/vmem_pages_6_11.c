// SPDX-License-Identifier: GPL-2.0
/*
 * The page rules of hot-plugged memory from 6.11 on (vmem_pages.h).
 */
#include <linux/memory_hotplug.h>
#include <linux/mm.h>

#include "../include/vmem_dev.h"
#include "../include/vmem_pages.h"

/* A page onlining hands us: PageOffline, refcount 1, not reserved. */
static bool vmem_6_11_fresh(struct vmem_dev *vm, unsigned long pfn)
{
	struct page *page = pfn_to_page(pfn);

	return vmem_pages_expect(vm, pfn, PageOffline(page) &&
				 !PageReserved(page) &&
				 page_ref_count(page) == 1,
				 "PageOffline with refcount 1 (6.11 rules)");
}

static void vmem_6_11_online(void *priv, u64 addr, u64 size)
{
	vmem_6_11_fresh(priv, PHYS_PFN(addr));
	vmem_pages_online(PHYS_PFN(addr), PHYS_PFN(size));
}

/* Kept pages arrive as they must stay: nothing to do. */
static void vmem_6_11_keep(void *priv, u64 addr, u64 size)
{
	vmem_6_11_fresh(priv, PHYS_PFN(addr));
}

static void vmem_6_11_give(void *priv, u64 addr, u64 size, bool taken)
{
	unsigned long pfn = PHYS_PFN(addr), nr = PHYS_PFN(size);

	if (taken) {
		vmem_pages_give_taken(priv, pfn, nr);
		return;
	}
	/* generic_online_page() clears PageOffline and counts them. */
	vmem_pages_online(pfn, nr);
	vmem_pages_trace(priv, "fake_online", pfn, nr, 0);
}

static int vmem_6_11_take(void *priv, u64 addr, u64 size)
{
	return vmem_pages_take(priv, PHYS_PFN(addr), PHYS_PFN(size));
}

/* Offlining leaves PageOffline pages with refcount 0 out of the count. */
static void vmem_6_11_unref(void *priv, u64 addr, u64 size)
{
	vmem_pages_refs(PHYS_PFN(addr), PHYS_PFN(size), true);
}

static void vmem_6_11_reref(void *priv, u64 addr, u64 size)
{
	vmem_pages_refs(PHYS_PFN(addr), PHYS_PFN(size), false);
}

const struct vmem_page_ops vmem_pages_6_11 = {
	.online = vmem_6_11_online,
	.keep = vmem_6_11_keep,
	.give = vmem_6_11_give,
	.take = vmem_6_11_take,
	.unref = vmem_6_11_unref,
	.reref = vmem_6_11_reref,
};
