/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Mode selection and set-up policy: from the device's config, the
 * kernel's memory geometry and the module parameters to the engine's
 * parameters. Pure code, so that KUnit tests the very rules production
 * runs, with random (and hostile) configs, under UML.
 */
#ifndef _VMEM_MODE_H
#define _VMEM_MODE_H

#include <linux/bits.h>
#include <linux/sizes.h>
#include <linux/types.h>

struct vmem_engine_params;

/* Added-but-offline memory at which plugging waits for onlining: at
 * least this, and at least two blocks.
 */
#define VMEM_OFFLINE_THRESHOLD	SZ_1G

/**
 * struct vmem_mode_input - what the mode and the policy depend on
 * @addr: the device region's start (config addr)
 * @region_size: the device region's size (config region_size)
 * @block_size: the device block size (config block_size)
 * @lmb_size: the Linux memory block size, memory_block_size_bytes()
 * @pageblock_size: PAGE_SIZE << pageblock_order: the smallest range
 *	alloc_contig_range() takes back
 * @page_size: PAGE_SIZE
 * @struct_page_size: sizeof(struct page): the memmap of a page
 * @kasan_shadow_shift: KASAN_SHADOW_SCALE_SHIFT on a KASAN kernel (KASAN
 *	shadows online memory from kernel memory), 0 otherwise
 * @pluggable_start: first byte Linux can hot-plug
 * @pluggable_end: last byte Linux can hot-plug
 * @force_bbm: the force_bbm module parameter
 * @bbm_block_size: the bbm_block_size module parameter (0: default)
 * @memmap_on_memory: the memmap_on_memory module parameter
 */
struct vmem_mode_input {
	u64 addr;
	u64 region_size;
	u64 block_size;
	u64 lmb_size;
	u64 pageblock_size;
	u64 page_size;
	u64 struct_page_size;
	unsigned int kasan_shadow_shift;
	u64 pluggable_start;
	u64 pluggable_end;
	bool force_bbm;
	u64 bbm_block_size;
	bool memmap_on_memory;
};

/* Bits of the vmem_mode_pick() result: what the caller warns about. */
#define VMEM_MODE_BBM_SIZE_IGNORED	BIT(0)	/* bbm_block_size unusable */

int vmem_mode_pick(const struct vmem_mode_input *in,
		   struct vmem_engine_params *p);
u64 vmem_mode_usable(const struct vmem_engine_params *p, u64 cfg_addr,
		     u64 usable_region_size);

#endif /* _VMEM_MODE_H */
