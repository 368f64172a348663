// SPDX-License-Identifier: GPL-2.0
/*
 * Mode selection and set-up policy. Sub-Block Mode when the device block
 * is smaller than a Linux memory block: a subblock is the larger of
 * device block and pageblock, the unit in which alloc_contig_range()
 * takes memory back. Big-Block Mode when the device block is at least a
 * memory block, or with force_bbm: a big block is the larger of device
 * block and memory block, or bbm_block_size if that is a power of two at
 * least as large.
 *
 * The engine gets only the part of the region Linux can hot-plug; the
 * caller has made sure it is not empty.
 */
#include <linux/bits.h>
#include <linux/kernel.h>
#include <linux/log2.h>
#include <linux/minmax.h>

#include "../include/vmem_engine.h"
#include "../include/vmem_mode.h"

/**
 * vmem_mode_pick() - the engine's parameters for a device
 * @in: the validated config, the kernel's geometry and the parameters
 * @p: filled in whole: geometry, mode and policy
 *
 * Policy:
 *  - offline threshold: VMEM_OFFLINE_THRESHOLD, at least two blocks;
 *  - memmap of a Linux memory block: one struct page per page;
 *  - other kernel memory per Linux memory block: the KASAN shadow;
 *  - memmap_on_memory (if the parameter allows it): in BBM only for big
 *    blocks of one memory block, and only if the memmap fills whole
 *    pageblocks.
 *
 * Return: VMEM_MODE_* bits for the caller to warn about, 0 if none.
 */
int vmem_mode_pick(const struct vmem_mode_input *in,
		   struct vmem_engine_params *p)
{
	u64 start, end, bb;
	int ret = 0;

	*p = (struct vmem_engine_params) { };
	p->block_size = in->block_size;
	p->lmb_size = in->lmb_size;
	p->bbm = in->force_bbm || in->block_size >= in->lmb_size;
	if (p->bbm) {
		bb = max(in->block_size, in->lmb_size);
		if (in->bbm_block_size && is_power_of_2(in->bbm_block_size) &&
		    in->bbm_block_size >= bb)
			bb = in->bbm_block_size;
		else if (in->bbm_block_size)
			ret |= VMEM_MODE_BBM_SIZE_IGNORED;
		p->mb_size = bb;
		p->sb_size = bb;
	} else {
		p->mb_size = in->lmb_size;
		p->sb_size = max(in->block_size, in->pageblock_size);
	}

	start = max(in->addr, in->pluggable_start);
	end = min(in->addr + in->region_size - 1, in->pluggable_end);
	p->addr = start;
	p->region_size = end >= start ? end - start + 1 : 0;

	p->offline_threshold = max_t(u64, VMEM_OFFLINE_THRESHOLD,
				     2 * p->mb_size);
	p->memmap_size = in->page_size ?
			 in->lmb_size / in->page_size * in->struct_page_size :
			 0;
	p->kmem_other_size = in->kasan_shadow_shift ?
			     in->lmb_size >> in->kasan_shadow_shift : 0;
	/*
	 * The engine keeps a block's memmap at its start. Linux puts one at
	 * the start of each memory block (6.8+ splits a bigger add), so a
	 * big block of several memory blocks is added plainly. And Linux
	 * wants the memmap to fill whole pageblocks.
	 */
	p->memmap_on_memory = in->memmap_on_memory &&
			      (!p->bbm || p->mb_size == in->lmb_size) &&
			      in->pageblock_size &&
			      !(p->memmap_size % in->pageblock_size);
	return ret;
}

/**
 * vmem_mode_usable() - the usable region as the engine counts it
 * @p: the engine's parameters, from vmem_mode_pick()
 * @cfg_addr: the device's addr
 * @usable_region_size: the device's usable_region_size, from @cfg_addr
 *
 * The engine counts from its own start, which lies after @cfg_addr when
 * the start of the region is not pluggable.
 *
 * Return: the bytes of [@p->addr, @p->addr + @p->region_size) that are
 * usable.
 */
u64 vmem_mode_usable(const struct vmem_engine_params *p, u64 cfg_addr,
		     u64 usable_region_size)
{
	u64 end = cfg_addr + usable_region_size;

	if (end <= p->addr)
		return 0;
	return min(end - p->addr, p->region_size);
}
