// SPDX-License-Identifier: GPL-2.0
/*
 * Read-only sysfs view of a virtio-mem device, under
 * /sys/bus/virtio/devices/virtio<N>/virtio_mem/. One value per file, sizes
 * in decimal bytes. Documented in Documentation/ABI/testing/.
 */
#include <linux/device.h>
#include <linux/stddef.h>
#include <linux/sysfs.h>
#include <linux/virtio.h>

#include "../include/vmem_dev.h"

static ssize_t vmem_show_cfg_u64(struct device *dev, char *buf, size_t off)
{
	struct vmem_dev *vm = dev_to_virtio(dev)->priv;
	u64 val;

	mutex_lock(&vm->lock);
	val = *(u64 *)((char *)&vm->cfg + off);
	mutex_unlock(&vm->lock);
	return sysfs_emit(buf, "%llu\n", val);
}

/* Defines <field>_show() for a u64 member of struct vmem_config. */
#define VMEM_CFG_SHOW(field)						\
static ssize_t field##_show(struct device *dev,				\
			    struct device_attribute *attr, char *buf)	\
{									\
	return vmem_show_cfg_u64(dev, buf,				\
				 offsetof(struct vmem_config, field));	\
}

VMEM_CFG_SHOW(addr)
static DEVICE_ATTR_RO(addr);
VMEM_CFG_SHOW(region_size)
static DEVICE_ATTR_RO(region_size);
VMEM_CFG_SHOW(usable_region_size)
static DEVICE_ATTR_RO(usable_region_size);
VMEM_CFG_SHOW(block_size)
static DEVICE_ATTR_RO(block_size);
VMEM_CFG_SHOW(plugged_size)
static DEVICE_ATTR_RO(plugged_size);
VMEM_CFG_SHOW(requested_size)
static DEVICE_ATTR_RO(requested_size);

static ssize_t node_id_show(struct device *dev,
			    struct device_attribute *attr, char *buf)
{
	struct vmem_dev *vm = dev_to_virtio(dev)->priv;
	u16 node_id;

	mutex_lock(&vm->lock);
	node_id = vm->cfg.node_id;
	mutex_unlock(&vm->lock);
	return sysfs_emit(buf, "%u\n", node_id);
}
static DEVICE_ATTR_RO(node_id);

static ssize_t nid_show(struct device *dev, struct device_attribute *attr,
			char *buf)
{
	struct vmem_dev *vm = dev_to_virtio(dev)->priv;
	int nid;

	mutex_lock(&vm->lock);
	nid = vm->nid;
	mutex_unlock(&vm->lock);
	return sysfs_emit(buf, "%d\n", nid);
}
static DEVICE_ATTR_RO(nid);

static struct attribute *vmem_sysfs_attrs[] = {
	&dev_attr_addr.attr,
	&dev_attr_region_size.attr,
	&dev_attr_usable_region_size.attr,
	&dev_attr_block_size.attr,
	&dev_attr_node_id.attr,
	&dev_attr_nid.attr,
	&dev_attr_plugged_size.attr,
	&dev_attr_requested_size.attr,
	NULL,
};

const struct attribute_group vmem_sysfs_group = {
	.name = "virtio_mem",
	.attrs = vmem_sysfs_attrs,
};
