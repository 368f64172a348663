/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Size and unit helpers shared by the driver and its tests. Pure code.
 */
#ifndef _VMEM_UNITS_H
#define _VMEM_UNITS_H

#include <linux/types.h>

/* Long enough for "18446744073709551615 B" and a NUL. */
#define VMEM_SIZE_STR_LEN 24

const char *vmem_format_size(char *buf, size_t len, u64 bytes);
unsigned int vmem_chunk_order(u64 pfn, u64 nr, unsigned int max_order);

#endif /* _VMEM_UNITS_H */
