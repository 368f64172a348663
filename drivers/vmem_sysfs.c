// SPDX-License-Identifier: GPL-2.0
/*
 * Read-only sysfs view of a virtio-mem device, under
 * /sys/bus/virtio/devices/virtio<N>/virtio_mem/. One value per file, sizes
 * in decimal bytes. Documented in Documentation/ABI/testing/.
 * plugged_size, state and retry_state wake up poll() when they change.
 */
#include <linux/device.h>
#include <linux/err.h>
#include <linux/jiffies.h>
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

/*
 * Milliseconds until the resize work's retry, 0 if none is due later. A
 * kick (mod_delayed_work() with no delay) deletes the timer but leaves
 * its old expiry: only an armed timer counts.
 */
static unsigned int vmem_retry_in_ms(struct vmem_dev *vm)
{
	long left;

	if (!timer_pending(&vm->resize_work.timer))
		return 0;
	left = (long)(READ_ONCE(vm->resize_work.timer.expires) - jiffies);
	return left > 0 ? jiffies_to_msecs(left) : 0;
}

/* What the driver is doing, and why it stopped short if it did. */
static void vmem_state_line(struct vmem_dev *vm, char *buf, size_t len)
{
	struct vmem_engine *e = &vm->engine;
	enum vmem_run_result res;

	if (!vm->engine_ready) {
		strscpy(buf, "not resizing", len);
		return;
	}
	mutex_lock(&vm->lock);
	res = vm->last_result;
	mutex_unlock(&vm->lock);
	mutex_lock(&e->lock);
	if (e->broken)
		snprintf(buf, len, "broken: %s: %d", e->last_what,
			 e->last_err);
	else if (e->budget_limited)
		strscpy(buf, "limited by kernel memory for the memmap", len);
	else if (res == VMEM_RUN_WAIT_ONLINE)
		strscpy(buf, "waiting for onlining", len);
	else if (vmem_retry_in_ms(vm) || res == VMEM_RUN_RETRY)
		snprintf(buf, len, "retrying: %s: %d", e->last_what ?: "-",
			 e->last_err);
	else if (e->plugged != vmem_engine_target(e))
		strscpy(buf, "resizing", len);
	else
		strscpy(buf, "idle", len);
	mutex_unlock(&e->lock);
}

static ssize_t state_show(struct device *dev, struct device_attribute *attr,
			  char *buf)
{
	char line[sizeof(((struct vmem_stats *)0)->state)];

	vmem_state_line(dev_to_virtio(dev)->priv, line, sizeof(line));
	return sysfs_emit(buf, "%s\n", line);
}
static DEVICE_ATTR_RO(state);

enum vmem_retry_kind {
	VMEM_RETRY_KIND_IDLE,
	VMEM_RETRY_KIND_RESIZING,
	VMEM_RETRY_KIND_RETRYING,
	VMEM_RETRY_KIND_BROKEN,
};

/* "idle", "resizing", "retrying in N ms" or "broken". */
static enum vmem_retry_kind vmem_retry_line(struct vmem_dev *vm, char *buf,
					    size_t len)
{
	struct vmem_engine *e = &vm->engine;
	enum vmem_retry_kind kind = VMEM_RETRY_KIND_IDLE;
	unsigned int left = 0;

	if (vm->engine_ready) {
		mutex_lock(&e->lock);
		left = vmem_retry_in_ms(vm);
		if (e->broken)
			kind = VMEM_RETRY_KIND_BROKEN;
		else if (left)
			kind = VMEM_RETRY_KIND_RETRYING;
		else if (e->plugged != vmem_engine_target(e))
			kind = VMEM_RETRY_KIND_RESIZING;
		mutex_unlock(&e->lock);
	}
	switch (kind) {
	case VMEM_RETRY_KIND_BROKEN:
		strscpy(buf, "broken", len);
		break;
	case VMEM_RETRY_KIND_RETRYING:
		snprintf(buf, len, "retrying in %u ms", left);
		break;
	case VMEM_RETRY_KIND_RESIZING:
		strscpy(buf, "resizing", len);
		break;
	default:
		strscpy(buf, "idle", len);
	}
	return kind;
}

static ssize_t retry_state_show(struct device *dev,
				struct device_attribute *attr, char *buf)
{
	char line[32];

	vmem_retry_line(dev_to_virtio(dev)->priv, line, sizeof(line));
	return sysfs_emit(buf, "%s\n", line);
}
static DEVICE_ATTR_RO(retry_state);

/**
 * vmem_sysfs_notify() - wake up pollers of state and retry_state
 * @vm: the device; no lock held
 *
 * After anything that may change them: an engine run, a config change,
 * the offline watch. Only a changed line (for retry_state, a changed
 * kind of line) is notified.
 */
void vmem_sysfs_notify(struct vmem_dev *vm)
{
	struct vmem_stats *s = &vm->stats;
	char state[sizeof(s->state)], retry[32];
	enum vmem_retry_kind kind;
	bool st, rt;

	/* Read and compare in one go: three works call this. */
	mutex_lock(&s->notify_lock);
	vmem_state_line(vm, state, sizeof(state));
	kind = vmem_retry_line(vm, retry, sizeof(retry));
	st = strcmp(state, s->state);
	if (st)
		strscpy(s->state, state, sizeof(s->state));
	rt = kind != s->retry;
	s->retry = kind;
	mutex_unlock(&s->notify_lock);
	if (st)
		sysfs_notify(&vm->vdev->dev.kobj, "virtio_mem", "state");
	if (rt)
		sysfs_notify(&vm->vdev->dev.kobj, "virtio_mem", "retry_state");
}

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
 * last failure, which may have been followed by successes.
 */
static ssize_t last_error_show(struct device *dev,
			       struct device_attribute *attr, char *buf)
{
	struct vmem_dev *vm = dev_to_virtio(dev)->priv;
	struct vmem_engine *e = &vm->engine;
	const char *what = NULL;
	char name[24];
	time64_t t;
	int err = 0;

	if (vm->engine_ready) {
		mutex_lock(&e->lock);
		err = e->last_err;
		what = e->last_what;
		t = vm->stats.last_err_time;
		/* Not seen by the end of a run yet: it is happening now. */
		if (e->nr_errors != vm->stats.seen_errors)
			t = ktime_get_real_seconds();
		mutex_unlock(&e->lock);
	}
	if (!err)
		return sysfs_emit(buf, "none\n");
	snprintf(name, sizeof(name), "%pe", ERR_PTR(err));
	return sysfs_emit(buf, "%s %s %ptT\n", name[0] == '-' ? name + 1 : name,
			  what ?: "-", &t);
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

const struct attribute_group vmem_sysfs_group = {
	.name = "virtio_mem",
	.attrs = vmem_sysfs_attrs,
};
