// SPDX-License-Identifier: GPL-2.0
/*
 * The kernel-memory budget: see include/vmem_budget.h for the formula.
 */
#include <linux/minmax.h>
#include <linux/sizes.h>

#include "../include/vmem_budget.h"

/**
 * vmem_budget_zone_avail() - what one kernel zone can still give
 * @free: its free bytes (NR_FREE_PAGES)
 * @file: bytes on its file LRU lists; half count as reclaimable
 * @high_wmark: its high watermark, in bytes
 *
 * Return: max(0, @free + @file / 2 - @high_wmark).
 */
u64 vmem_budget_zone_avail(u64 free, u64 file, u64 high_wmark)
{
	u64 have = free + file / 2;

	return have > high_wmark ? have - high_wmark : 0;
}

/**
 * vmem_budget_floor() - kernel memory an add must leave
 * @managed: managed bytes of the kernel zones
 *
 * Return: max(VMEM_BUDGET_FLOOR_MIN, @managed / VMEM_BUDGET_FLOOR_DIV).
 */
u64 vmem_budget_floor(u64 managed)
{
	return max(VMEM_BUDGET_FLOOR_MIN, managed / VMEM_BUDGET_FLOOR_DIV);
}

/**
 * vmem_budget_cost() - kernel memory that adding @size bytes takes
 * @size: bytes added, whole Linux memory blocks
 * @lmb_size: Linux memory block size
 * @memmap_per_lmb: memmap bytes of one Linux memory block
 * @other_per_lmb: other kernel memory of one Linux memory block (KASAN)
 * @memmap_on_memory: the memmap lives on the added memory itself
 *
 * Return: the cost in bytes, per the formula in vmem_budget.h.
 */
u64 vmem_budget_cost(u64 size, u64 lmb_size, u64 memmap_per_lmb,
		     u64 other_per_lmb, bool memmap_on_memory)
{
	u64 per_lmb = lmb_size / SZ_4K * VMEM_BUDGET_PTE_BYTES +
		      VMEM_BUDGET_LMB_OBJS + other_per_lmb;

	if (!memmap_on_memory)
		per_lmb += memmap_per_lmb;
	return lmb_size ? size / lmb_size * per_lmb : 0;
}

/**
 * vmem_budget_allows() - may an add of cost @cost go ahead?
 * @k: kernel memory now
 * @cost: from vmem_budget_cost()
 *
 * Return: true if @k->avail covers the floor and @cost.
 */
bool vmem_budget_allows(const struct vmem_kmem *k, u64 cost)
{
	u64 floor = vmem_budget_floor(k->managed);

	return k->avail >= floor && k->avail - floor >= cost;
}
