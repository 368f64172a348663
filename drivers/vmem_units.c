// SPDX-License-Identifier: GPL-2.0
/*
 * Size and unit helpers. Pure code.
 */
#include <linux/bitops.h>
#include <linux/kernel.h>
#include <linux/log2.h>
#include <linux/minmax.h>

#include "../include/vmem_units.h"

/**
 * vmem_format_size() - format a byte count exactly, in the largest binary
 *	unit that divides it
 * @buf: output buffer
 * @len: size of @buf; VMEM_SIZE_STR_LEN always suffices
 * @bytes: the size
 *
 * 2097152 gives "2 MiB", 1610612736 gives "1536 MiB" and 4097 gives
 * "4097 B": the text never rounds, so logs can be compared with the
 * host's byte values.
 *
 * Return: @buf.
 */
const char *vmem_format_size(char *buf, size_t len, u64 bytes)
{
	static const char * const units[] = {
		"B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"
	};
	unsigned int i = 0;

	while (bytes && !(bytes & 1023) && i < ARRAY_SIZE(units) - 1) {
		bytes >>= 10;
		i++;
	}
	snprintf(buf, len, "%llu %s", bytes, units[i]);
	return buf;
}

/**
 * vmem_chunk_order() - the order of the next chunk of a run of pages
 * @pfn: first page of what is left of the run
 * @nr: pages left, at least one
 * @max_order: the largest order the page allocator takes
 *
 * The buddy allocator takes a free chunk of order n only at a pfn that is
 * a multiple of 2^n: a misaligned head leaves part of the chunk covered
 * by no buddy of its order (and trips a VM_BUG_ON with DEBUG_VM). A run
 * is therefore cut into chunks that are each naturally aligned, as large
 * as the alignment of their first pfn, the pages left and @max_order all
 * allow.
 *
 * Return: the chunk's order.
 */
unsigned int vmem_chunk_order(u64 pfn, u64 nr, unsigned int max_order)
{
	unsigned int order = min_t(unsigned int, max_order, ilog2(nr));

	if (pfn)
		order = min_t(unsigned int, order, __ffs64(pfn));
	return order;
}
