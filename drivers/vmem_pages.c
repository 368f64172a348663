// SPDX-License-Identifier: GPL-2.0
/*
 * What the page rules of both kernel generations share (vmem_pages.h).
 */
#include <linux/gfp.h>
#include <linux/memory_hotplug.h>
#include <linux/mm.h>
#include <linux/page_ref.h>
#include <linux/virtio.h>

#include "../include/vmem_compat.h"
#include "../include/vmem_dev.h"
#include "../include/vmem_pages.h"
#include "../include/vmem_trace.h"
#include "../include/vmem_units.h"

/**
 * vmem_pages_online() - hand never-onlined pages to the page allocator
 * @pfn: first page
 * @nr: pages
 *
 * generic_online_page() in chunks that are each naturally aligned: the
 * buddy allocator takes a chunk of order n only at a multiple of 2^n.
 */
void vmem_pages_online(unsigned long pfn, unsigned long nr)
{
	unsigned int order;

	while (nr) {
		order = vmem_chunk_order(pfn, nr, VMEM_MAX_PAGE_ORDER);
		generic_online_page(pfn_to_page(pfn), order);
		pfn += 1UL << order;
		nr -= 1UL << order;
	}
}

/* Mark (@set) or unmark [@pfn, @pfn + @nr) PageOffline. */
void vmem_pages_set_offline(unsigned long pfn, unsigned long nr, bool set)
{
	unsigned long i;

	page_offline_begin();
	for (i = 0; i < nr; i++) {
		if (set)
			__SetPageOffline(pfn_to_page(pfn + i));
		else
			__ClearPageOffline(pfn_to_page(pfn + i));
	}
	page_offline_end();
}

/*
 * Drop (@drop) or retake the driver's reference to each page. The driver
 * holds the only one: a count other than 1 before the drop, or 0 before
 * the retake, means someone else holds a page that must be ours alone.
 */
void vmem_pages_refs(unsigned long pfn, unsigned long nr, bool drop)
{
	struct page *page;
	unsigned long i;

	for (i = 0; i < nr; i++) {
		page = pfn_to_page(pfn + i);
		if (drop) {
			if (WARN_ON_ONCE(!page_ref_dec_and_test(page)))
				dump_page(page, "virtio_mem: fake-offline page held elsewhere");
		} else {
			if (WARN_ON_ONCE(page_ref_count(page)))
				dump_page(page, "virtio_mem: fake-offline page held elsewhere");
			page_ref_inc(page);
		}
	}
}

void vmem_pages_trace(struct vmem_dev *vm, const char *what,
		      unsigned long pfn, unsigned long nr, int rc)
{
	trace_virtio_mem_block(dev_name(&vm->vdev->dev), what, PFN_PHYS(pfn),
			       PFN_PHYS(nr), rc);
}

/**
 * vmem_pages_take() - take pages of an online block back, fake-offline
 * @vm: the device
 * @pfn: first page, pageblock aligned
 * @nr: pages, whole pageblocks
 *
 * alloc_contig_range() migrates what is in use and gives up (-EBUSY)
 * rather than loop; the pages come back with refcount 1 each, still in
 * the managed count: they leave it here.
 *
 * Return: 0, -EBUSY or -ENOMEM.
 */
int vmem_pages_take(struct vmem_dev *vm, unsigned long pfn, unsigned long nr)
{
	int rc = vmem_alloc_contig_range(pfn, pfn + nr);

	if (rc == -EINTR)
		rc = -EBUSY;
	if (!rc) {
		vmem_pages_set_offline(pfn, nr, true);
		adjust_managed_page_count(pfn_to_page(pfn), -(long)nr);
	} else {
		atomic64_inc(&vm->stats.fake_offline_failures);
	}
	vmem_pages_trace(vm, "fake_offline", pfn, nr, rc);
	return rc;
}

/**
 * vmem_pages_give_taken() - hand pages vmem_pages_take() took back
 * @vm: the device
 * @pfn: first page
 * @nr: pages, each PageOffline with refcount 1
 */
void vmem_pages_give_taken(struct vmem_dev *vm, unsigned long pfn,
			   unsigned long nr)
{
	vmem_pages_set_offline(pfn, nr, false);
	free_contig_range(pfn, nr);
	adjust_managed_page_count(pfn_to_page(pfn), nr);
	vmem_pages_trace(vm, "fake_online", pfn, nr, 0);
}

/**
 * vmem_pages_expect() - do the pages look as this generation says?
 * @vm: the device
 * @pfn: the page looked at
 * @ok: the result of the look
 * @what: what was expected, for the message
 *
 * On a mismatch the device stops resizing for good: the page rules the
 * driver follows are not this kernel's.
 *
 * Return: @ok.
 */
bool vmem_pages_expect(struct vmem_dev *vm, unsigned long pfn, bool ok,
		       const char *what)
{
	struct page *page = pfn_to_page(pfn);

	if (ok)
		return true;
	dev_err_once(&vm->vdev->dev, "page %#lx of hot-plugged memory is not %s (reserved %d, offline %d, refcount %d): this kernel's page rules are not the ones the driver follows; not resizing any more\n",
		     pfn, what, PageReserved(page), PageOffline(page),
		     page_ref_count(page));
	vmem_engine_mark_broken(vm->engine);
	return false;
}
