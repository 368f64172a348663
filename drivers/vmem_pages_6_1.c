// SPDX-License-Identifier: GPL-2.0
/*
 * The page rules of hot-plugged memory up to 6.10 (vmem_pages.h).
 */
#include <linux/memory_hotplug.h>
#include <linux/mm.h>

#include "../include/vmem_dev.h"
#include "../include/vmem_pages.h"

/* A page onlining hands us: reserved, refcount 1, no type. */
static bool vmem_6_1_fresh(struct vmem_dev *vm, unsigned long pfn)
{
	struct page *page = pfn_to_page(pfn);

	return vmem_pages_expect(vm, pfn, PageReserved(page) &&
				 !PageOffline(page) && page_ref_count(page) == 1,
				 "reserved with refcount 1 (6.1 rules)");
}

static void vmem_6_1_online(void *priv, u64 addr, u64 size)
{
	vmem_6_1_fresh(priv, PHYS_PFN(addr));
	vmem_pages_online(PHYS_PFN(addr), PHYS_PFN(size));
}

/* Kept pages: PageOffline instead of reserved; the reference stays. */
static void vmem_6_1_keep(void *priv, u64 addr, u64 size)
{
	unsigned long pfn = PHYS_PFN(addr), i;

	if (!vmem_6_1_fresh(priv, pfn))
		return;		/* left alone: never freed either */
	page_offline_begin();
	for (i = 0; i < PHYS_PFN(size); i++) {
		__ClearPageReserved(pfn_to_page(pfn + i));
		__SetPageOffline(pfn_to_page(pfn + i));
	}
	page_offline_end();
}

static void vmem_6_1_give(void *priv, u64 addr, u64 size, bool taken)
{
	unsigned long pfn = PHYS_PFN(addr), nr = PHYS_PFN(size);

	if (taken) {
		vmem_pages_give_taken(priv, pfn, nr);
		return;
	}
	/* Kept at onlining: generic_online_page() counts them as managed. */
	vmem_pages_set_offline(pfn, nr, false);
	vmem_pages_online(pfn, nr);
	vmem_pages_trace(priv, "fake_online", pfn, nr, 0);
}

static int vmem_6_1_take(void *priv, u64 addr, u64 size)
{
	return vmem_pages_take(priv, PHYS_PFN(addr), PHYS_PFN(size));
}

/*
 * Offlining will subtract every page of the block from the managed count,
 * our fake-offline ones too, which are not in it: add them first.
 */
static void vmem_6_1_unref(void *priv, u64 addr, u64 size)
{
	unsigned long pfn = PHYS_PFN(addr), nr = PHYS_PFN(size);

	vmem_pages_refs(pfn, nr, true);
	adjust_managed_page_count(pfn_to_page(pfn), nr);
}

static void vmem_6_1_reref(void *priv, u64 addr, u64 size)
{
	unsigned long pfn = PHYS_PFN(addr), nr = PHYS_PFN(size);

	vmem_pages_refs(pfn, nr, false);
	adjust_managed_page_count(pfn_to_page(pfn), -(long)nr);
}

const struct vmem_page_ops vmem_pages_6_1 = {
	.online = vmem_6_1_online,
	.keep = vmem_6_1_keep,
	.give = vmem_6_1_give,
	.take = vmem_6_1_take,
	.unref = vmem_6_1_unref,
	.reref = vmem_6_1_reref,
};
