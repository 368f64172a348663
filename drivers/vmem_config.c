// SPDX-License-Identifier: GPL-2.0
/*
 * Validation of the virtio-mem config space. The device is untrusted
 * input: every value the driver will compute with is checked here once,
 * so the rest of the driver may rely on these invariants:
 *
 *  - block_size is a power of two and at least a page;
 *  - addr, region_size, usable_region_size, plugged_size and
 *    requested_size are multiples of block_size;
 *  - the region is not empty and addr + region_size does not wrap;
 *  - usable_region_size <= region_size;
 *  - plugged_size and requested_size lie within the usable region.
 */
#include <linux/errno.h>
#include <linux/kernel.h>
#include <linux/log2.h>
#include <linux/overflow.h>

#include "../include/vmem_config.h"

static int vmem_config_reject(struct vmem_config_error *err,
			      const char *field, u64 value,
			      const char *reason)
{
	err->field = field;
	err->value = value;
	err->reason = reason;
	return -EINVAL;
}

/**
 * vmem_config_validate() - check a config snapshot against the spec
 * @cfg: the snapshot
 * @page_size: the guest page size
 * @err: filled in with the first violation found
 *
 * Return: 0 if @cfg is usable, -EINVAL otherwise.
 */
int vmem_config_validate(const struct vmem_config *cfg, u64 page_size,
			 struct vmem_config_error *err)
{
	u64 end;

	if (!is_power_of_2(cfg->block_size))
		return vmem_config_reject(err, "block_size", cfg->block_size,
					  "not a power of two");
	if (cfg->block_size < page_size)
		return vmem_config_reject(err, "block_size", cfg->block_size,
					  "smaller than the page size");
	if (!IS_ALIGNED(cfg->addr, cfg->block_size))
		return vmem_config_reject(err, "addr", cfg->addr,
					  "not aligned to block_size");
	if (!cfg->region_size)
		return vmem_config_reject(err, "region_size", 0,
					  "the region is empty");
	if (!IS_ALIGNED(cfg->region_size, cfg->block_size))
		return vmem_config_reject(err, "region_size", cfg->region_size,
					  "not a multiple of block_size");
	if (check_add_overflow(cfg->addr, cfg->region_size, &end))
		return vmem_config_reject(err, "region_size", cfg->region_size,
					  "addr + region_size wraps around");
	if (cfg->usable_region_size > cfg->region_size)
		return vmem_config_reject(err, "usable_region_size",
					  cfg->usable_region_size,
					  "larger than region_size");
	if (!IS_ALIGNED(cfg->usable_region_size, cfg->block_size))
		return vmem_config_reject(err, "usable_region_size",
					  cfg->usable_region_size,
					  "not a multiple of block_size");
	if (!IS_ALIGNED(cfg->plugged_size, cfg->block_size))
		return vmem_config_reject(err, "plugged_size",
					  cfg->plugged_size,
					  "not a multiple of block_size");
	if (cfg->plugged_size > cfg->usable_region_size)
		return vmem_config_reject(err, "plugged_size",
					  cfg->plugged_size,
					  "beyond the usable region");
	if (!IS_ALIGNED(cfg->requested_size, cfg->block_size))
		return vmem_config_reject(err, "requested_size",
					  cfg->requested_size,
					  "not a multiple of block_size");
	if (cfg->requested_size > cfg->usable_region_size)
		return vmem_config_reject(err, "requested_size",
					  cfg->requested_size,
					  "beyond the usable region");
	return 0;
}

/**
 * vmem_config_validate_update() - check a config re-read after a change
 * @old: the config the driver works with (already validated)
 * @new: the fresh snapshot
 * @page_size: the guest page size
 * @err: filled in with the first violation found
 *
 * The spec makes block_size, node_id, addr and region_size constant for
 * the life of the device; a change means a buggy or hostile device.
 *
 * Return: 0 if @new may replace @old, -EINVAL otherwise.
 */
int vmem_config_validate_update(const struct vmem_config *old,
				const struct vmem_config *new, u64 page_size,
				struct vmem_config_error *err)
{
	if (new->block_size != old->block_size)
		return vmem_config_reject(err, "block_size", new->block_size,
					  "changed after probe");
	if (new->node_id != old->node_id)
		return vmem_config_reject(err, "node_id", new->node_id,
					  "changed after probe");
	if (new->addr != old->addr)
		return vmem_config_reject(err, "addr", new->addr,
					  "changed after probe");
	if (new->region_size != old->region_size)
		return vmem_config_reject(err, "region_size", new->region_size,
					  "changed after probe");
	return vmem_config_validate(new, page_size, err);
}
