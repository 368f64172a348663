// SPDX-License-Identifier: GPL-2.0
/*
 * virtio-mem guest driver: binding to the virtio device, reading and
 * validating its config, and following config changes. This file is the
 * thin kernel glue; decisions live in the pure files beside it.
 */
#include <linux/acpi.h>
#include <linux/memory_hotplug.h>
#include <linux/module.h>
#include <linux/numa.h>
#include <linux/slab.h>
#include <linux/virtio.h>
#include <linux/virtio_config.h>

#include "../include/vmem_compat.h"
#include "../include/vmem_config.h"
#include "../include/vmem_dev.h"
#include "../include/vmem_units.h"

#define VMEM_VERSION "0.1.0"

static u32 vmem_config_generation(struct virtio_device *vdev)
{
	return vdev->config->generation ? vdev->config->generation(vdev) : 0;
}

/*
 * Take one consistent snapshot of the whole config space: the device may
 * change it between two field reads, which the generation counter shows.
 */
static void vmem_read_config(struct virtio_device *vdev, struct vmem_config *c)
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

/*
 * The spec says node_id means something only with VIRTIO_MEM_F_ACPI_PXM.
 * Without it, or for an unknown proximity domain, the memory goes where
 * the platform puts that physical address.
 */
static int vmem_translate_node(struct virtio_device *vdev,
			       const struct vmem_config *cfg)
{
	int nid = NUMA_NO_NODE;

#if defined(CONFIG_ACPI_NUMA)
	if (virtio_has_feature(vdev, VIRTIO_MEM_F_ACPI_PXM)) {
		nid = pxm_to_node(cfg->node_id);
		if (nid == NUMA_NO_NODE)
			dev_warn(&vdev->dev,
				 "node_id %u is no known ACPI proximity domain\n",
				 cfg->node_id);
	}
#endif
	if (nid == NUMA_NO_NODE)
		nid = memory_add_physaddr_to_nid(cfg->addr);
	return nid;
}

/*
 * Memory the kernel cannot hot-add is useless to us: refuse a region that
 * lies wholly outside what Linux can plug, warn about one that straddles.
 */
static int vmem_check_pluggable(struct vmem_dev *vm)
{
	struct range pluggable = mhp_get_pluggable_range(true);
	struct device *dev = &vm->vdev->dev;
	u64 last = vm->cfg.addr + vm->cfg.region_size - 1;

	if (last < pluggable.start || vm->cfg.addr > pluggable.end) {
		dev_err(dev, "invalid config: addr=%#llx: region [%#llx-%#llx] is outside the pluggable range [%#llx-%#llx]\n",
			vm->cfg.addr, vm->cfg.addr, last, pluggable.start,
			pluggable.end);
		return -EINVAL;
	}
	if (vm->cfg.addr < pluggable.start || last > pluggable.end)
		dev_warn(dev, "region [%#llx-%#llx] exceeds the pluggable range [%#llx-%#llx]; memory outside it stays unused\n",
			 vm->cfg.addr, last, pluggable.start, pluggable.end);
	return 0;
}

/* The device config, in the words of QEMU's "info memory-devices". */
static void vmem_log_config(struct vmem_dev *vm)
{
	struct device *dev = &vm->vdev->dev;
	const struct vmem_config *c = &vm->cfg;
	char s[VMEM_SIZE_STR_LEN];

	dev_info(dev, "Memory device [virtio-mem]: driver " VMEM_VERSION "\n");
	dev_info(dev, "  memaddr: %#llx\n", c->addr);
	dev_info(dev, "  node: %u (nid %d%s)\n", c->node_id, vm->nid,
		 virtio_has_feature(vm->vdev, VIRTIO_MEM_F_ACPI_PXM) ?
		 ", ACPI PXM" : "");
	dev_info(dev, "  requested-size: %llu (%s)\n", c->requested_size,
		 vmem_format_size(s, sizeof(s), c->requested_size));
	dev_info(dev, "  size: %llu (%s)\n", c->plugged_size,
		 vmem_format_size(s, sizeof(s), c->plugged_size));
	dev_info(dev, "  max-size: %llu (%s)\n", c->region_size,
		 vmem_format_size(s, sizeof(s), c->region_size));
	dev_info(dev, "  usable-size: %llu (%s)\n", c->usable_region_size,
		 vmem_format_size(s, sizeof(s), c->usable_region_size));
	dev_info(dev, "  block-size: %llu (%s)\n", c->block_size,
		 vmem_format_size(s, sizeof(s), c->block_size));
	dev_info(dev, "  unplugged-inaccessible: %s\n",
		 virtio_has_feature(vm->vdev,
				    VIRTIO_MEM_F_UNPLUGGED_INACCESSIBLE) ?
		 "on" : "off");
}

static void vmem_config_work(struct work_struct *work)
{
	struct vmem_dev *vm = container_of(work, struct vmem_dev, config_work);
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
		dev_info(dev, "requested size changed: %llu -> %llu\n",
			 old_requested, new.requested_size);
}

/* Runs in interrupt context: defer all work. */
static void vmem_config_changed(struct virtio_device *vdev)
{
	struct vmem_dev *vm = vdev->priv;

	queue_work(system_freezable_wq, &vm->config_work);
}

static void vmem_vq_done(struct virtqueue *vq)
{
	/* No request is sent yet; the resize engine will wait here. */
}

static int vmem_probe(struct virtio_device *vdev)
{
	struct vmem_config_error err;
	struct vmem_dev *vm;
	int rc;

	BUILD_BUG_ON(sizeof(struct virtio_mem_req) != 24);
	BUILD_BUG_ON(sizeof(struct virtio_mem_resp) != 10);

	if (!vdev->config->get) {
		dev_err(&vdev->dev, "the transport offers no config space\n");
		return -EINVAL;
	}

	vm = kzalloc(sizeof(*vm), GFP_KERNEL);
	if (!vm)
		return -ENOMEM;
	vm->vdev = vdev;
	mutex_init(&vm->lock);
	INIT_WORK(&vm->config_work, vmem_config_work);

	vmem_read_config(vdev, &vm->cfg);
	rc = vmem_config_validate(&vm->cfg, PAGE_SIZE, &err);
	if (rc) {
		dev_err(&vdev->dev, "invalid config: %s=%llu (%#llx): %s\n",
			err.field, err.value, err.value, err.reason);
		goto out_free;
	}
	rc = vmem_check_pluggable(vm);
	if (rc)
		goto out_free;
	vm->nid = vmem_translate_node(vdev, &vm->cfg);

	vm->vq = virtio_find_single_vq(vdev, vmem_vq_done, "guest-request");
	if (IS_ERR(vm->vq)) {
		rc = PTR_ERR(vm->vq);
		dev_err(&vdev->dev, "cannot set up the request queue: %d\n",
			rc);
		goto out_free;
	}

	vdev->priv = vm;
	rc = sysfs_create_group(&vdev->dev.kobj, &vmem_sysfs_group);
	if (rc) {
		dev_err(&vdev->dev, "cannot create sysfs files: %d\n", rc);
		goto out_del_vqs;
	}

	vmem_log_config(vm);
	virtio_device_ready(vdev);
	return 0;

out_del_vqs:
	vdev->priv = NULL;
	vdev->config->del_vqs(vdev);
out_free:
	mutex_destroy(&vm->lock);
	kfree(vm);
	return rc;
}

static void vmem_remove(struct virtio_device *vdev)
{
	struct vmem_dev *vm = vdev->priv;

	/* The virtio core has disabled config callbacks before this. */
	sysfs_remove_group(&vdev->dev.kobj, &vmem_sysfs_group);
	cancel_work_sync(&vm->config_work);
	virtio_reset_device(vdev);
	vdev->config->del_vqs(vdev);
	vdev->priv = NULL;
	mutex_destroy(&vm->lock);
	kfree(vm);
}

static unsigned int vmem_features[] = {
#if defined(CONFIG_ACPI_NUMA)
	VIRTIO_MEM_F_ACPI_PXM,
#endif
	VIRTIO_MEM_F_UNPLUGGED_INACCESSIBLE,
};

static const struct virtio_device_id vmem_id_table[] = {
	{ VIRTIO_ID_MEM, VIRTIO_DEV_ANY_ID },
	{ 0 },
};

static struct virtio_driver vmem_driver = {
	.feature_table = vmem_features,
	.feature_table_size = ARRAY_SIZE(vmem_features),
	.driver.name = KBUILD_MODNAME,
	.driver.owner = THIS_MODULE,
	.id_table = vmem_id_table,
	.probe = vmem_probe,
	.remove = vmem_remove,
	.config_changed = vmem_config_changed,
};

module_virtio_driver(vmem_driver);
MODULE_DEVICE_TABLE(virtio, vmem_id_table);
MODULE_DESCRIPTION("virtio-mem guest driver");
MODULE_LICENSE("GPL");
MODULE_VERSION(VMEM_VERSION);
