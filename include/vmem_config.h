/* SPDX-License-Identifier: GPL-2.0 */
/*
 * virtio-mem device configuration: a host-endian snapshot of the config
 * space and its validation. Pure code: no virtio or mm calls, so KUnit can
 * run it under UML.
 */
#ifndef _VMEM_CONFIG_H
#define _VMEM_CONFIG_H

#include <linux/types.h>

/**
 * struct vmem_config - one consistent read of the device config space
 * @block_size: granularity of (un)plug requests; a power of two
 * @node_id: device node id; an ACPI PXM if VIRTIO_MEM_F_ACPI_PXM
 * @addr: start of the device-managed region of guest physical memory
 * @region_size: size of the device-managed region
 * @usable_region_size: size of the part of the region that may be
 *	(un)plugged, starting at @addr
 * @plugged_size: bytes the device currently has plugged
 * @requested_size: bytes the host wants plugged
 */
struct vmem_config {
	u64 block_size;
	u16 node_id;
	u64 addr;
	u64 region_size;
	u64 usable_region_size;
	u64 plugged_size;
	u64 requested_size;
};

/**
 * struct vmem_config_error - why a config was refused
 * @field: name of the offending config field, as in the virtio spec
 * @value: the offending value
 * @reason: short human-readable reason
 */
struct vmem_config_error {
	const char *field;
	u64 value;
	const char *reason;
};

int vmem_config_validate(const struct vmem_config *cfg, u64 page_size,
			 struct vmem_config_error *err);
int vmem_config_validate_update(const struct vmem_config *old,
				const struct vmem_config *new, u64 page_size,
				struct vmem_config_error *err);

#endif /* _VMEM_CONFIG_H */
