// SPDX-License-Identifier: GPL-2.0
/*
 * The device's config space: one consistent read of it, and a new config
 * handed to the engine. The config work calls this on a config change,
 * the engine (through the device ops) after an UNPLUG_ALL, which the
 * device does not announce. Below the works and the ops: it calls only
 * the engine and the pure config and mode code.
 */
#include <linux/printk.h>
#include <linux/virtio.h>
#include <linux/virtio_config.h>

#include "../include/vmem_dev.h"
#include "../include/vmem_mode.h"

static u32 vmem_config_generation(struct virtio_device *vdev)
{
	return vdev->config->generation ? vdev->config->generation(vdev) : 0;
}

/**
 * vmem_read_config() - one consistent snapshot of the whole config space
 * @vdev: the device
 * @c: filled in
 *
 * The device may change the config between two field reads, which the
 * generation counter shows.
 */
void vmem_read_config(struct virtio_device *vdev, struct vmem_config *c)
{
	u32 gen;

	do {
		gen = vmem_config_generation(vdev);
		virtio_cread_le(vdev, struct virtio_mem_config, block_size,
				&c->block_size);
		virtio_cread_le(vdev, struct virtio_mem_config, node_id,
				&c->node_id);
		virtio_cread_le(vdev, struct virtio_mem_config, addr, &c->addr);
		virtio_cread_le(vdev, struct virtio_mem_config, region_size,
				&c->region_size);
		virtio_cread_le(vdev, struct virtio_mem_config,
				usable_region_size, &c->usable_region_size);
		virtio_cread_le(vdev, struct virtio_mem_config, plugged_size,
				&c->plugged_size);
		virtio_cread_le(vdev, struct virtio_mem_config, requested_size,
				&c->requested_size);
	} while (gen != vmem_config_generation(vdev));
}

/**
 * vmem_config_update() - read the config and hand it to the engine
 * @vm: the device
 *
 * A config that fails validation is ignored, with the field named. The
 * engine plans with the new sizes from its next step on.
 */
void vmem_config_update(struct vmem_dev *vm)
{
	struct device *dev = &vm->vdev->dev;
	struct vmem_config_error err;
	struct vmem_config new;
	u64 old_requested;
	int rc;

	vmem_read_config(vm->vdev, &new);
	mutex_lock(&vm->lock);
	old_requested = vm->cfg.requested_size;
	rc = vmem_config_validate_update(&vm->cfg, &new, PAGE_SIZE, &err);
	if (!rc)
		vm->cfg = new;
	mutex_unlock(&vm->lock);

	if (rc) {
		dev_warn_ratelimited(dev, "ignoring config update: %s=%llu (%#llx): %s\n",
				     err.field, err.value, err.value,
				     err.reason);
		return;
	}
	if (new.requested_size != old_requested)
		dev_info_ratelimited(dev, "requested size changed: %llu -> %llu\n",
				     old_requested, new.requested_size);
	if (!vm->engine)
		return;
	if (vmem_engine_set_config(vm->engine, new.requested_size,
				   vmem_mode_usable(vmem_engine_params(vm->engine),
						    new.addr,
						    new.usable_region_size)))
		dev_warn_ratelimited(dev, "usable_region_size %llu cuts off plugged memory: keeping the region up to the last plugged block\n",
				     new.usable_region_size);
}
