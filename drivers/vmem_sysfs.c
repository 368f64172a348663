// SPDX-License-Identifier: GPL-2.0
/*
 * Read-only sysfs view of a virtio-mem device, under
 * /sys/bus/virtio/devices/virtio<N>/virtio_mem/. One value per file, sizes
 * in decimal bytes. Documented in Documentation/ABI/testing/.
 * plugged_size, state and retry_state wake up poll() when they change
 * (vmem_notify_pollers()). Every file reads a snapshot: none waits behind
 * a device request.
 */
#include <linux/device.h>
#include <linux/err.h>
#include <linux/jiffies.h>
#include <linux/timekeeping.h>
#include <linux/stddef.h>
#include <linux/string.h>
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

/* A snapshot of the books; false when not resizing (no engine). */
static bool vmem_sysfs_status(struct device *dev, struct vmem_status *st)
{
	struct vmem_dev *vm = dev_to_virtio(dev)->priv;

	if (!vm->engine)
		return false;
	vmem_engine_status(vm->engine, st);
	return true;
}

/*
 * The books once the engine runs (they equal the device after every
 * completed request), else the device's own value.
 */
static ssize_t plugged_size_show(struct device *dev,
				 struct device_attribute *attr, char *buf)
{
	struct vmem_status st;

	if (vmem_sysfs_status(dev, &st))
		return sysfs_emit(buf, "%llu\n", st.plugged);
	return vmem_show_cfg_u64(dev, buf,
				 offsetof(struct vmem_config, plugged_size));
}
static DEVICE_ATTR_RO(plugged_size);

static ssize_t mode_show(struct device *dev, struct device_attribute *attr,
			 char *buf)
{
	struct vmem_dev *vm = dev_to_virtio(dev)->priv;

	if (!vm->engine)
		return sysfs_emit(buf, "none\n");
	return sysfs_emit(buf, "%s\n",
			  vmem_engine_params(vm->engine)->bbm ? "bbm" : "sbm");
}
static DEVICE_ATTR_RO(mode);

static ssize_t subblock_size_show(struct device *dev,
				  struct device_attribute *attr, char *buf)
{
	struct vmem_dev *vm = dev_to_virtio(dev)->priv;

	return sysfs_emit(buf, "%llu\n", vm->engine ?
			  vmem_engine_params(vm->engine)->sb_size : 0);
}
static DEVICE_ATTR_RO(subblock_size);

static ssize_t state_show(struct device *dev, struct device_attribute *attr,
			  char *buf)
{
	char line[VMEM_LINE_LEN];

	vmem_state_line(dev_to_virtio(dev)->priv, line, sizeof(line));
	return sysfs_emit(buf, "%s\n", line);
}
static DEVICE_ATTR_RO(state);

static ssize_t retry_state_show(struct device *dev,
				struct device_attribute *attr, char *buf)
{
	char line[VMEM_LINE_LEN];

	vmem_retry_line(dev_to_virtio(dev)->priv, line, sizeof(line));
	return sysfs_emit(buf, "%s\n", line);
}
static DEVICE_ATTR_RO(retry_state);

/* Request counters: one file per request type and reply. */
struct vmem_req_attr {
	struct device_attribute attr;
	u8 type;
	u8 resp;
};

static ssize_t vmem_req_show(struct device *dev, struct device_attribute *a,
			     char *buf)
{
	struct vmem_dev *vm = dev_to_virtio(dev)->priv;
	struct vmem_req_attr *ra = container_of(a, struct vmem_req_attr, attr);

	return sysfs_emit(buf, "%lld\n",
			  atomic64_read(&vm->stats.req[ra->type][ra->resp]));
}

#define VMEM_REQ_ATTR(tname, t, rname, r)				\
static struct vmem_req_attr dev_attr_requests_##tname##_##rname = {	\
	.attr = __ATTR(requests_##tname##_##rname, 0444, vmem_req_show,	\
		       NULL),						\
	.type = VIRTIO_MEM_REQ_##t,					\
	.resp = VIRTIO_MEM_RESP_##r,					\
}

VMEM_REQ_ATTR(plug, PLUG, ack, ACK);
VMEM_REQ_ATTR(plug, PLUG, nack, NACK);
VMEM_REQ_ATTR(plug, PLUG, busy, BUSY);
VMEM_REQ_ATTR(plug, PLUG, error, ERROR);
VMEM_REQ_ATTR(unplug, UNPLUG, ack, ACK);
VMEM_REQ_ATTR(unplug, UNPLUG, nack, NACK);
VMEM_REQ_ATTR(unplug, UNPLUG, busy, BUSY);
VMEM_REQ_ATTR(unplug, UNPLUG, error, ERROR);
VMEM_REQ_ATTR(unplug_all, UNPLUG_ALL, ack, ACK);
VMEM_REQ_ATTR(unplug_all, UNPLUG_ALL, nack, NACK);
VMEM_REQ_ATTR(unplug_all, UNPLUG_ALL, busy, BUSY);
VMEM_REQ_ATTR(unplug_all, UNPLUG_ALL, error, ERROR);
VMEM_REQ_ATTR(state, STATE, ack, ACK);
VMEM_REQ_ATTR(state, STATE, nack, NACK);
VMEM_REQ_ATTR(state, STATE, busy, BUSY);
VMEM_REQ_ATTR(state, STATE, error, ERROR);

/* Defines <name>_show() for an atomic64_t counter of struct vmem_stats. */
#define VMEM_STAT_SHOW(name, field)					\
static ssize_t name##_show(struct device *dev,				\
			   struct device_attribute *attr, char *buf)	\
{									\
	struct vmem_dev *vm = dev_to_virtio(dev)->priv;			\
									\
	return sysfs_emit(buf, "%lld\n",					\
			  atomic64_read(&vm->stats.field));		\
}

VMEM_STAT_SHOW(bytes_plugged_total, bytes_plugged)
static DEVICE_ATTR_RO(bytes_plugged_total);
VMEM_STAT_SHOW(bytes_unplugged_total, bytes_unplugged)
static DEVICE_ATTR_RO(bytes_unplugged_total);
VMEM_STAT_SHOW(fake_offline_failures, fake_offline_failures)
static DEVICE_ATTR_RO(fake_offline_failures);
VMEM_STAT_SHOW(offline_and_remove_failures, offline_and_remove_failures)
static DEVICE_ATTR_RO(offline_and_remove_failures);

/*
 * "none", or "<ERRNAME> <what> <YYYY-MM-DDTHH:MM:SS>" (UTC): the engine's
 * last failure, which may have been followed by successes; while the
 * device leaves a request unanswered, "ETIMEDOUT <request> <time sent>".
 */
static ssize_t last_error_show(struct device *dev,
			       struct device_attribute *attr, char *buf)
{
	static const char * const types[VMEM_STATS_TYPES] = {
		"plug", "unplug", "unplug_all", "state",
	};
	struct vmem_dev *vm = dev_to_virtio(dev)->priv;
	unsigned long since = READ_ONCE(vm->stats.stall_since);
	u16 type = READ_ONCE(vm->stats.stall_type);
	struct vmem_status st;
	char name[24];
	time64_t t;

	if (since && type < VMEM_STATS_TYPES) {
		t = ktime_get_real_seconds() -
		    jiffies_to_msecs(jiffies - since) / MSEC_PER_SEC;
		return sysfs_emit(buf, "ETIMEDOUT %s %ptT\n", types[type], &t);
	}
	if (!vmem_sysfs_status(dev, &st) || !st.last_err)
		return sysfs_emit(buf, "none\n");
	t = vmem_stats_error_time(vm, st.nr_errors);
	snprintf(name, sizeof(name), "%pe", ERR_PTR(st.last_err));
	return sysfs_emit(buf, "%s %s %ptT\n", name[0] == '-' ? name + 1 : name,
			  vmem_what_name(st.last_what), &t);
}
static DEVICE_ATTR_RO(last_error);

static ssize_t left_offline_show(struct device *dev,
				 struct device_attribute *attr, char *buf)
{
	struct vmem_dev *vm = dev_to_virtio(dev)->priv;

	return sysfs_emit(buf, "%llu\n", READ_ONCE(vm->stats.left_offline));
}
static DEVICE_ATTR_RO(left_offline);

/* Memory blocks in, and plugged bytes of the blocks in, one state. */
static ssize_t vmem_show_mb(struct device *dev, char *buf,
			    enum vmem_mb_state state, bool bytes)
{
	struct vmem_status st;
	u64 val = 0;

	if (vmem_sysfs_status(dev, &st))
		val = bytes ? st.plugged_in[state] : st.mb_count[state];
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
	static const char * const names[] = {
		[VMEM_MEMMAP_OFF] = "off",
		[VMEM_MEMMAP_UNTRIED] = "untried",
		[VMEM_MEMMAP_ON] = "on",
	};
	struct vmem_status st;

	if (!vmem_sysfs_status(dev, &st))
		st.memmap = VMEM_MEMMAP_OFF;
	return sysfs_emit(buf, "%s\n", names[st.memmap]);
}
static DEVICE_ATTR_RO(memmap_on_memory);

static ssize_t memmap_bytes_show(struct device *dev,
				 struct device_attribute *attr, char *buf)
{
	struct vmem_status st;

	return sysfs_emit(buf, "%llu\n", vmem_sysfs_status(dev, &st) ?
			  st.memmap_bytes : 0);
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
	&dev_attr_retry_state.attr,
	&dev_attr_requests_plug_ack.attr.attr,
	&dev_attr_requests_plug_nack.attr.attr,
	&dev_attr_requests_plug_busy.attr.attr,
	&dev_attr_requests_plug_error.attr.attr,
	&dev_attr_requests_unplug_ack.attr.attr,
	&dev_attr_requests_unplug_nack.attr.attr,
	&dev_attr_requests_unplug_busy.attr.attr,
	&dev_attr_requests_unplug_error.attr.attr,
	&dev_attr_requests_unplug_all_ack.attr.attr,
	&dev_attr_requests_unplug_all_nack.attr.attr,
	&dev_attr_requests_unplug_all_busy.attr.attr,
	&dev_attr_requests_unplug_all_error.attr.attr,
	&dev_attr_requests_state_ack.attr.attr,
	&dev_attr_requests_state_nack.attr.attr,
	&dev_attr_requests_state_busy.attr.attr,
	&dev_attr_requests_state_error.attr.attr,
	&dev_attr_bytes_plugged_total.attr,
	&dev_attr_bytes_unplugged_total.attr,
	&dev_attr_fake_offline_failures.attr,
	&dev_attr_offline_and_remove_failures.attr,
	&dev_attr_last_error.attr,
	&dev_attr_left_offline.attr,
	NULL,
};

static const struct attribute_group vmem_sysfs_group = {
	.name = VMEM_SYSFS_GROUP,
	.attrs = vmem_sysfs_attrs,
};

/* Created by the driver core at bind, before the uevent udev sees. */
const struct attribute_group *vmem_sysfs_groups[] = {
	&vmem_sysfs_group,
	NULL,
};
