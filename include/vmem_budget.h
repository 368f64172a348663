/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The kernel-memory budget for adding memory blocks. Pure arithmetic, so
 * KUnit checks the formula under UML; the glue reads the zone counters
 * and the engine decides with them before every add.
 *
 * Adding a memory block allocates from kernel memory: its memmap (one
 * struct page per 4 KiB page, unless the memmap lives on the block
 * itself: memmap_on_memory), page tables and the memory block's own
 * objects. Memory onlined to ZONE_MOVABLE cannot hold any of that, so a
 * small guest asked for a lot of memory would eat its kernel memory and
 * fail in add_pages() (a WARN; a panic with panic_on_warn).
 *
 * The formula (Documentation/design.rst, "Kernel-memory budget"):
 *
 *   avail(z)  = max(0, free(z) + file(z) / 2 - high_wmark(z))
 *               for each populated zone z below ZONE_MOVABLE, where
 *               free is NR_FREE_PAGES, file the pages on the zone's file
 *               LRU lists (half of them counted as reclaimable) and
 *               high_wmark the zone's high watermark (with boost);
 *   avail     = sum of avail(z)
 *   managed   = sum of managed pages of the same zones
 *   floor     = max(64 MiB, managed / 32)
 *   cost(add) = per Linux memory block added:
 *                 memmap (0 with memmap_on_memory)
 *               + one 8-byte page-table entry per 4 KiB page (an upper
 *                 bound for the direct map and the memmap mapping)
 *               + 64 KiB (memory block device, sysfs, section maps)
 *               + other (what the kernel's configuration adds: on a
 *                 KASAN kernel the shadow, 1/8 of the block, allocated
 *                 when it goes online)
 *   an add may go ahead only if avail >= floor + cost(add).
 */
#ifndef _VMEM_BUDGET_H
#define _VMEM_BUDGET_H

#include <linux/types.h>

/* The floor never drops below this, whatever the guest's size. */
#define VMEM_BUDGET_FLOOR_MIN		(64ULL << 20)
/* ... and is at least this fraction (1/N) of the kernel zones. */
#define VMEM_BUDGET_FLOOR_DIV		32
/* Kernel objects of one memory block, besides memmap and page tables. */
#define VMEM_BUDGET_LMB_OBJS		(64ULL << 10)
/* Bytes of page table per 4 KiB page, as an upper bound. */
#define VMEM_BUDGET_PTE_BYTES		8

/**
 * struct vmem_kmem - kernel memory, as the glue read it
 * @avail: what kernel allocations can still get, in bytes (see above)
 * @managed: managed bytes of the kernel zones
 */
struct vmem_kmem {
	u64 avail;
	u64 managed;
};

u64 vmem_budget_zone_avail(u64 free, u64 file, u64 high_wmark);
u64 vmem_budget_floor(u64 managed);
u64 vmem_budget_cost(u64 size, u64 lmb_size, u64 memmap_per_lmb,
		     u64 other_per_lmb, bool memmap_on_memory);
bool vmem_budget_allows(const struct vmem_kmem *k, u64 cost);

#endif /* _VMEM_BUDGET_H */
