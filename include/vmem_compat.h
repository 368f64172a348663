/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Every difference between the kernel versions the driver supports lives
 * here, and only here (6.1 is the oldest; Documentation/kernel-compat.rst
 * has the table). Where a header shows a change, the test is for the
 * feature, so that a distribution kernel with backports gets it right;
 * where only the version tells, the test is a version check. There are
 * two of those: the page rules of hot-plugged memory (6.11) and the
 * silent memmap_on_memory fallback of 6.6 and 6.7. The feature tests are
 * header greps in Kbuild (VMEM_HAVE_*), WireGuard style.
 */
#ifndef _VMEM_COMPAT_H
#define _VMEM_COMPAT_H

#include <linux/gfp.h>
#include <linux/kasan.h>
#include <linux/log2.h>
#include <linux/memory_hotplug.h>
#include <linux/mmzone.h>
#include <linux/version.h>
#include <linux/virtio_mem.h>

#include "vmem_pages.h"

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
 * The page rules of hot-plugged memory changed in 6.11 (vmem_pages.h).
 * No header shows this runtime change, so it is a version check; the
 * implementations also check the pages they get, and stop the device if
 * a kernel behaves otherwise.
 */
static inline const struct vmem_page_ops *vmem_page_rules(void)
{
	if (LINUX_VERSION_CODE >= KERNEL_VERSION(6, 11, 0))
		return &vmem_pages_6_11;
	return &vmem_pages_6_1;
}

/*
 * memmap_on_memory: would Linux put the memmap of @size bytes of added
 * memory on that memory? 6.8 made mhp_supports_memmap_on_memory() take
 * no size and exported it (VMEM_HAVE_MHP_SUPPORTS_VOID). On older kernels it is not
 * exported: the driver asks by trying, since add_memory_driver_managed()
 * with MHP_MEMMAP_ON_MEMORY
 * fails with -EINVAL, before it changes anything, when Linux would not
 * (memory_hotplug.memmap_on_memory=0, or on 6.1 a size other than one
 * memory block). 6.6 and 6.7 are the exception: the core falls back to a
 * plain add without a word, and the check is not exported, so the driver
 * would count memmap subblocks that hold none. It does not use
 * memmap_on_memory there.
 */
static inline bool vmem_compat_memmap_on_memory(u64 size)
{
#ifdef VMEM_HAVE_MHP_SUPPORTS_VOID
	return mhp_supports_memmap_on_memory();
#elif LINUX_VERSION_CODE >= KERNEL_VERSION(6, 6, 0)
	return false;	/* silent fallback; see above */
#else
	return true;	/* try; see above */
#endif
}

/* Tracepoints: __assign_str() lost its source argument in 6.10. */
#ifdef VMEM_HAVE_ASSIGN_STR_1
#define vmem_assign_str(dst, src)	__assign_str(dst)
#else
#define vmem_assign_str(dst, src)	__assign_str(dst, src)
#endif

/* KASAN shadows online memory from kernel memory: 1 / 2^shift of it. */
#ifdef KASAN_SHADOW_SCALE_SHIFT
#define VMEM_KASAN_SHADOW_SHIFT	KASAN_SHADOW_SCALE_SHIFT
#else
#define VMEM_KASAN_SHADOW_SHIFT	0
#endif

/*
 * A crash kernel may ask the driver for the device's RAM up front
 * (vmcore_cb.get_device_ram, 6.14): VMEM_HAVE_VMCORE_DEVICE_RAM.
 */

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
