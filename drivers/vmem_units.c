// SPDX-License-Identifier: GPL-2.0
/*
 * Size and unit helpers. Pure code.
 */
#include <linux/kernel.h>

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
