/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The page rules of hot-plugged memory, one implementation per kernel
 * generation (struct vmem_page_ops, vmem_ops.h), and the helpers both
 * share. vmem_compat.h picks the generation (vmem_page_rules()).
 *
 * 6.1 rules (vmem_pages_6_1.c): hot-added pages reach the online_page
 * callback PageReserved, with refcount 1; the driver makes the ones it
 * keeps PageOffline itself. Offlining subtracts every page of the block
 * from the managed page count, PageOffline ones too, so the driver adds
 * its fake-offline pages back at MEM_GOING_OFFLINE.
 *
 * 6.11+ rules (vmem_pages_6_11.c): hot-added pages arrive PageOffline
 * with refcount 1, and generic_online_page() takes them as they are;
 * kept pages need nothing. Offlining subtracts only pages that are not
 * PageOffline with refcount 0: the driver leaves the managed count alone.
 * From 6.12, __SetPageOffline() on a page of another type is a VM_BUG_ON.
 *
 * Both: pages taken with alloc_contig_range() have refcount 1 each and
 * still count as managed: the driver marks them PageOffline and takes
 * them out of the count; it gives them back with free_contig_range() and
 * counts them again. Never-onlined pages go to the buddy through
 * generic_online_page(), in naturally aligned chunks
 * (vmem_chunk_order()).
 *
 * Each implementation checks that the pages it is given look as its
 * generation says (a kernel with backports may differ); if not, the
 * device stops resizing with a message that names what was seen, and the
 * pages stay away from the page allocator.
 */
#ifndef _VMEM_PAGES_H
#define _VMEM_PAGES_H

#include <linux/types.h>

#include "vmem_ops.h"

struct page;
struct vmem_dev;

extern const struct vmem_page_ops vmem_pages_6_1;
extern const struct vmem_page_ops vmem_pages_6_11;

void vmem_pages_online(unsigned long pfn, unsigned long nr);
void vmem_pages_set_offline(unsigned long pfn, unsigned long nr, bool set);
void vmem_pages_refs(unsigned long pfn, unsigned long nr, bool drop);
int vmem_pages_take(struct vmem_dev *vm, unsigned long pfn,
		    unsigned long nr);
void vmem_pages_give_taken(struct vmem_dev *vm, unsigned long pfn,
			   unsigned long nr);
bool vmem_pages_expect(struct vmem_dev *vm, unsigned long pfn, bool ok,
		       const char *what);
void vmem_pages_trace(struct vmem_dev *vm, const char *what,
		      unsigned long pfn, unsigned long nr, int rc);

#endif /* _VMEM_PAGES_H */
