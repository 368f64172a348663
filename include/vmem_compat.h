/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Every difference between the kernel versions the driver supports lives
 * here, and only here (6.1 is the baseline; see
 * Documentation/kernel-compat.rst for the list still to come).
 */
#ifndef _VMEM_COMPAT_H
#define _VMEM_COMPAT_H

#include <linux/gfp.h>
#include <linux/log2.h>
#include <linux/memory_hotplug.h>
#include <linux/mmzone.h>
#include <linux/version.h>
#include <linux/virtio_mem.h>

/* Feature bit 2 reached the uapi header after 6.1. */
#ifndef VIRTIO_MEM_F_PERSISTENT_SUSPEND
#define VIRTIO_MEM_F_PERSISTENT_SUSPEND 2
#endif

/*
 * The largest order generic_online_page() takes. MAX_ORDER became
 * inclusive in 6.4 and was renamed MAX_PAGE_ORDER in 6.8;
 * MAX_ORDER_NR_PAGES has meant "pages of the largest order" throughout.
 */
#define VMEM_MAX_PAGE_ORDER ilog2(MAX_ORDER_NR_PAGES)

/*
 * Hot-added pages: up to 6.10 they start PageReserved with refcount 1,
 * the driver marks the unplugged ones PageOffline itself, and offlining
 * subtracts every page of the block (PageOffline ones too) from the
 * managed page count, so the driver adds its fake-offline pages back at
 * MEM_GOING_OFFLINE. 6.11 changed all of this; that logic is not written
 * yet, and the driver refuses to resize on such kernels rather than
 * double-count (vmem_compat_hotplug_supported()). No header shows this
 * runtime change, so it is a version check, like the memmap_on_memory
 * one below: the only two of the driver.
 */
#define VMEM_PAGEOFFLINE_6_1_RULES \
	(LINUX_VERSION_CODE < KERNEL_VERSION(6, 11, 0))

static inline bool vmem_compat_hotplug_supported(void)
{
	return VMEM_PAGEOFFLINE_6_1_RULES;
}

/*
 * memmap_on_memory: would Linux put the memmap of @size bytes of added
 * memory on that memory? 6.8 made mhp_supports_memmap_on_memory() take
 * no size and exported it. On older kernels it is not exported: the
 * driver asks by trying, since add_memory_driver_managed() with
 * MHP_MEMMAP_ON_MEMORY fails with -EINVAL, before it changes anything,
 * when Linux would not (memory_hotplug.memmap_on_memory=0, or on 6.1 a
 * size other than one memory block). 6.6 and 6.7 are the exception: the
 * core falls back to a plain add without a word, and the check is not
 * exported, so the driver would count memmap subblocks that hold none.
 * It does not use memmap_on_memory there.
 */
static inline bool vmem_compat_memmap_on_memory(u64 size)
{
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 8, 0)
	return mhp_supports_memmap_on_memory();
#elif LINUX_VERSION_CODE >= KERNEL_VERSION(6, 6, 0)
	return false;	/* silent fallback; see above */
#else
	return true;	/* try; see above */
#endif
}

/* Tracepoints: __assign_str() lost its source argument in 6.10. */
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 10, 0)
#define vmem_assign_str(dst, src)	__assign_str(dst)
#else
#define vmem_assign_str(dst, src)	__assign_str(dst, src)
#endif

/* alloc_contig_range(): its migratetype became acr_flags_t in 6.16. */
static inline int vmem_alloc_contig_range(unsigned long start,
					  unsigned long end)
{
#ifdef ACR_FLAGS_NONE	/* 6.16 */
	return alloc_contig_range(start, end, ACR_FLAGS_NONE,
				  GFP_KERNEL | __GFP_NOWARN);
#else
	return alloc_contig_range(start, end, MIGRATE_MOVABLE,
				  GFP_KERNEL | __GFP_NOWARN);
#endif
}

#endif /* _VMEM_COMPAT_H */
