// SPDX-License-Identifier: GPL-2.0
/*
 * virtio-mem guest driver: the virtio driver itself (probe, remove, the
 * config-change interrupt, the feature table) and the module. Set-up and
 * teardown of each concern live beside it; this file puts them in order.
 */
#include <linux/acpi.h>
#include <linux/crash_dump.h>
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

#define VMEM_VERSION "0.3.0"

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

/* Runs in interrupt context: defer all work, and none once stopped. */
static void vmem_config_changed(struct virtio_device *vdev)
{
	struct vmem_dev *vm = vdev->priv;

	if (READ_ONCE(vm->ready))
		queue_work(system_freezable_wq, &vm->config_work);
}

static struct vmem_dev *vmem_alloc(struct virtio_device *vdev)
{
	struct vmem_dev *vm = kzalloc(sizeof(*vm), GFP_KERNEL);

	if (!vm)
		return NULL;
	vm->vdev = vdev;
	mutex_init(&vm->lock);
	mutex_init(&vm->req_lock);
	mutex_init(&vm->check_lock);
	init_waitqueue_head(&vm->resp_wq);
	INIT_WORK(&vm->config_work, vmem_config_work);
	INIT_DELAYED_WORK(&vm->resize_work, vmem_resize_work);
	vmem_stats_init(vm);
	return vm;
}

static void vmem_free(struct vmem_dev *vm)
{
	mutex_destroy(&vm->check_lock);
	mutex_destroy(&vm->req_lock);
	mutex_destroy(&vm->lock);
	kfree(vm);
}

/*
 * Memory hotplug: the engine and its region, then the notifiers. Not in
 * a crash kernel, which never plugs.
 */
static int vmem_setup_resizing(struct vmem_dev *vm)
{
	int rc = vmem_hotplug_setup(vm);

	if (rc || !vm->engine)
		return rc;
	rc = vmem_notifier_init(vm);
	if (rc)
		goto out;
	rc = vmem_pm_init(vm);
	if (rc) {
		vmem_notifier_exit(vm);
		goto out;
	}
	return 0;
out:
	vmem_hotplug_release(vm, 0);	/* nothing added yet */
	return rc;
}

static int vmem_probe(struct virtio_device *vdev)
{
	struct vmem_config_error err;
	struct vmem_dev *vm;
	struct virtqueue *vq;
	int rc;

	BUILD_BUG_ON(sizeof(struct virtio_mem_req) != 24);
	BUILD_BUG_ON(sizeof(struct virtio_mem_resp) != 10);

	if (!vdev->config->get) {
		dev_err(&vdev->dev, "the transport offers no config space\n");
		return -EINVAL;
	}
	vm = vmem_alloc(vdev);
	if (!vm)
		return -ENOMEM;
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

	vq = virtio_find_single_vq(vdev, vmem_vq_done, "guest-request");
	if (IS_ERR(vq)) {
		rc = PTR_ERR(vq);
		dev_err(&vdev->dev, "cannot set up the request queue: %d\n",
			rc);
		goto out_free;
	}
	vm->vq = vq;
	vdev->priv = vm;
	if (!is_kdump_kernel()) {
		rc = vmem_setup_resizing(vm);
		if (rc) {
			dev_err(&vdev->dev, "cannot set up memory hotplug: %d\n",
				rc);
			goto out_del_vqs;
		}
	}
	vmem_log_config(vm);
	vmem_debugfs_init(vm);
	virtio_device_ready(vdev);
	if (is_kdump_kernel())
		vmem_kdump_setup(vm);
	if (vm->engine) {
		vmem_dev_list(vm);
		vmem_kick(vm, 0);
	} else {
		/* A crash kernel: config updates are logged, never acted on. */
		WRITE_ONCE(vm->ready, true);
	}
	return 0;

out_del_vqs:
	vdev->priv = NULL;
	vdev->config->del_vqs(vdev);
out_free:
	vmem_free(vm);
	return rc;
}

static void vmem_remove(struct virtio_device *vdev)
{
	struct vmem_dev *vm = vdev->priv;

	/* The virtio core has disabled config callbacks before this. */
	vmem_debugfs_exit(vm);	/* waits for a self-check in progress */
	vmem_dev_stop(vm);
	if (is_kdump_kernel())
		vmem_kdump_teardown(vm);
	if (vm->engine) {
		u64 left = vmem_hotplug_unplug_all(vm);

		vmem_dev_unlist(vm);
		vmem_notifier_exit(vm);
		vmem_pm_exit(vm);
		/* A kick may have raced with the first stop: nothing kicks now. */
		vmem_dev_stop(vm);
		vmem_hotplug_release(vm, left);
	}
	virtio_reset_device(vdev);
	vdev->config->del_vqs(vdev);
	vdev->priv = NULL;
	vmem_free(vm);
}

static unsigned int vmem_features[] = {
#if defined(CONFIG_ACPI_NUMA)
	VIRTIO_MEM_F_ACPI_PXM,
#endif
	VIRTIO_MEM_F_UNPLUGGED_INACCESSIBLE,
	VIRTIO_MEM_F_PERSISTENT_SUSPEND,
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
	.driver.dev_groups = vmem_sysfs_groups,
	.id_table = vmem_id_table,
	.probe = vmem_probe,
	.remove = vmem_remove,
	.config_changed = vmem_config_changed,
#ifdef CONFIG_PM_SLEEP
	.freeze = vmem_freeze,
	.restore = vmem_restore,
#endif
};

static int __init vmem_init(void)
{
	int rc = vmem_online_page_register();

	if (rc)
		return rc;
	vmem_params_warn();
	vmem_debugfs_register();
	rc = register_virtio_driver(&vmem_driver);
	if (rc) {
		vmem_debugfs_unregister();
		vmem_online_page_unregister();
	}
	return rc;
}
module_init(vmem_init);

static void __exit vmem_exit(void)
{
	unregister_virtio_driver(&vmem_driver);
	vmem_debugfs_unregister();
	vmem_online_page_unregister();
}
module_exit(vmem_exit);

MODULE_DEVICE_TABLE(virtio, vmem_id_table);
MODULE_DESCRIPTION("virtio-mem guest driver");
MODULE_LICENSE("GPL");
MODULE_VERSION(VMEM_VERSION);
