/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Mode selection: from the device's config and the kernel's memory
 * geometry to the engine's parameters. Pure code, so that KUnit can throw
 * random (and hostile) configs at it under UML.
 */
#ifndef _VMEM_MODE_H
#define _VMEM_MODE_H

#include <linux/types.h>

struct vmem_engine_params;

/**
 * struct vmem_mode_input - what the mode depends on
 * @addr: the device region's start (config addr)
 * @region_size: the device region's size (config region_size)
 * @block_size: the device block size (config block_size)
 * @lmb_size: the Linux memory block size, memory_block_size_bytes()
 * @pageblock_size: PAGE_SIZE << pageblock_order: the smallest range
 *	alloc_contig_range() takes back
 * @pluggable_start: first byte Linux can hot-plug
 * @pluggable_end: last byte Linux can hot-plug
 * @force_bbm: the force_bbm module parameter
 * @bbm_block_size: the bbm_block_size module parameter (0: default)
 */
struct vmem_mode_input {
	u64 addr;
	u64 region_size;
	u64 block_size;
	u64 lmb_size;
	u64 pageblock_size;
	u64 pluggable_start;
	u64 pluggable_end;
	bool force_bbm;
	u64 bbm_block_size;
};

/* Bits of the vmem_mode_pick() result. */
#define VMEM_MODE_BBM_SIZE_IGNORED	BIT(0)	/* bbm_block_size unusable */
#define VMEM_MODE_CLIPPED		BIT(1)	/* part of the region is not
						 * pluggable
						 */

int vmem_mode_pick(const struct vmem_mode_input *in,
		   struct vmem_engine_params *p);
u64 vmem_mode_usable(const struct vmem_engine_params *p, u64 cfg_addr,
		     u64 usable_region_size);

#endif /* _VMEM_MODE_H */
