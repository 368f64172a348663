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
#include <linux/workqueue.h>

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

/* The books once the engine runs (they equal the device after every
 * completed request), else the device's own value.
 */
static ssize_t plugged_size_show(struct device *dev,
				 struct device_attribute *attr, char *buf)
{
	struct vmem_dev *vm = dev_to_virtio(dev)->priv;
	u64 val;

	if (vm->engine_ready) {
		mutex_lock(&vm->engine.lock);
		val = vm->engine.plugged;
		mutex_unlock(&vm->engine.lock);
		return sysfs_emit(buf, "%llu\n", val);
	}
	return vmem_show_cfg_u64(dev, buf,
				 offsetof(struct vmem_config, plugged_size));
}
static DEVICE_ATTR_RO(plugged_size);

static ssize_t mode_show(struct device *dev, struct device_attribute *attr,
			 char *buf)
{
	struct vmem_dev *vm = dev_to_virtio(dev)->priv;

	if (!vm->engine_ready)
		return sysfs_emit(buf, "none\n");
	return sysfs_emit(buf, "%s\n", vm->engine.p.bbm ? "bbm" : "sbm");
}
static DEVICE_ATTR_RO(mode);

static ssize_t subblock_size_show(struct device *dev,
				  struct device_attribute *attr, char *buf)
{
	struct vmem_dev *vm = dev_to_virtio(dev)->priv;

	return sysfs_emit(buf, "%llu\n",
			  vm->engine_ready ? vm->engine.p.sb_size : 0);
}
static DEVICE_ATTR_RO(subblock_size);

/* What the driver is doing, and why it stopped short if it did. */
static ssize_t state_show(struct device *dev, struct device_attribute *attr,
			  char *buf)
{
	struct vmem_dev *vm = dev_to_virtio(dev)->priv;
	struct vmem_engine *e = &vm->engine;
	enum vmem_run_result res;
	ssize_t n;

	if (!vm->engine_ready)
		return sysfs_emit(buf, "not resizing\n");
	mutex_lock(&vm->lock);
	res = vm->last_result;
	mutex_unlock(&vm->lock);
	mutex_lock(&e->lock);
	if (e->broken)
		n = sysfs_emit(buf, "broken: %s: %d\n", e->last_what,
			       e->last_err);
	else if (e->budget_limited)
		n = sysfs_emit(buf, "limited by kernel memory for the memmap\n");
	else if (res == VMEM_RUN_WAIT_ONLINE)
		n = sysfs_emit(buf, "waiting for onlining\n");
	else if (delayed_work_pending(&vm->resize_work) ||
		 res == VMEM_RUN_RETRY)
		n = sysfs_emit(buf, "retrying: %s: %d\n",
			       e->last_what ?: "-", e->last_err);
	else if (e->plugged != vmem_engine_target(e))
		n = sysfs_emit(buf, "resizing\n");
	else
		n = sysfs_emit(buf, "idle\n");
	mutex_unlock(&e->lock);
	return n;
}
static DEVICE_ATTR_RO(state);

/* Memory blocks in, and plugged bytes of the blocks in, one state. */
static ssize_t vmem_show_mb(struct device *dev, char *buf,
			    enum vmem_mb_state state, bool bytes)
{
	struct vmem_dev *vm = dev_to_virtio(dev)->priv;
	u64 val = 0;

	if (vm->engine_ready) {
		mutex_lock(&vm->engine.lock);
		val = bytes ? vmem_engine_plugged_in(&vm->engine, state) :
			      vmem_engine_mb_count(&vm->engine, state);
		mutex_unlock(&vm->engine.lock);
	}
	return sysfs_emit(buf, "%llu\n", val);
}

#define VMEM_MB_SHOW(name, state, bytes)				\
static ssize_t name##_show(struct device *dev,				\
			   struct device_attribute *attr, char *buf)	\
{									\
	return vmem_show_mb(dev, buf, state, bytes);			\
}

VMEM_MB_SHOW(blocks_offline, VMEM_MB_OFFLINE, false)
static DEVICE_ATTR_RO(blocks_offline);
VMEM_MB_SHOW(blocks_online_kernel, VMEM_MB_KERNEL, false)
static DEVICE_ATTR_RO(blocks_online_kernel);
VMEM_MB_SHOW(blocks_online_movable, VMEM_MB_MOVABLE, false)
static DEVICE_ATTR_RO(blocks_online_movable);
VMEM_MB_SHOW(plugged_offline, VMEM_MB_OFFLINE, true)
static DEVICE_ATTR_RO(plugged_offline);
VMEM_MB_SHOW(plugged_online_kernel, VMEM_MB_KERNEL, true)
static DEVICE_ATTR_RO(plugged_online_kernel);
VMEM_MB_SHOW(plugged_online_movable, VMEM_MB_MOVABLE, true)
static DEVICE_ATTR_RO(plugged_online_movable);
VMEM_MB_SHOW(plugged_not_added, VMEM_MB_UNUSED, true)
static DEVICE_ATTR_RO(plugged_not_added);

/*
 * memmap_on_memory: "on" once a block carries its own memmap, "untried"
 * while the next add will ask Linux for it, "off" otherwise (the
 * parameter, the geometry, or Linux said no).
 */
static ssize_t memmap_on_memory_show(struct device *dev,
				     struct device_attribute *attr, char *buf)
{
	struct vmem_dev *vm = dev_to_virtio(dev)->priv;
	struct vmem_engine *e = &vm->engine;
	const char *s = "off";

	if (vm->engine_ready) {
		mutex_lock(&e->lock);
		if (e->memmap_used && !e->memmap_refused)
			s = "on";
		else if (e->memmap)
			s = "untried";
		mutex_unlock(&e->lock);
	}
	return sysfs_emit(buf, "%s\n", s);
}
static DEVICE_ATTR_RO(memmap_on_memory);

static ssize_t memmap_bytes_show(struct device *dev,
				 struct device_attribute *attr, char *buf)
{
	struct vmem_dev *vm = dev_to_virtio(dev)->priv;
	u64 val = 0;

	if (vm->engine_ready) {
		mutex_lock(&vm->engine.lock);
		val = vmem_engine_memmap_bytes(&vm->engine);
		mutex_unlock(&vm->engine.lock);
	}
	return sysfs_emit(buf, "%llu\n", val);
}
static DEVICE_ATTR_RO(memmap_bytes);

static struct attribute *vmem_sysfs_attrs[] = {
	&dev_attr_addr.attr,
	&dev_attr_region_size.attr,
	&dev_attr_usable_region_size.attr,
	&dev_attr_block_size.attr,
	&dev_attr_node_id.attr,
	&dev_attr_nid.attr,
	&dev_attr_plugged_size.attr,
	&dev_attr_requested_size.attr,
	&dev_attr_mode.attr,
	&dev_attr_subblock_size.attr,
	&dev_attr_state.attr,
	&dev_attr_blocks_offline.attr,
	&dev_attr_blocks_online_kernel.attr,
	&dev_attr_blocks_online_movable.attr,
	&dev_attr_plugged_offline.attr,
	&dev_attr_plugged_online_kernel.attr,
	&dev_attr_plugged_online_movable.attr,
	&dev_attr_plugged_not_added.attr,
	&dev_attr_memmap_on_memory.attr,
	&dev_attr_memmap_bytes.attr,
	NULL,
};

const struct attribute_group vmem_sysfs_group = {
	.name = "virtio_mem",
	.attrs = vmem_sysfs_attrs,
};
