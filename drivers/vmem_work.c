// SPDX-License-Identifier: GPL-2.0
/*
 * The device's two works: the config work follows config changes (and
 * the engine asks for a read after an UNPLUG_ALL, which the device does
 * not announce); the resize work runs the engine and re-arms itself as
 * the retry timer. Decisions live in the engine; this file reads, logs
 * and schedules.
 */
#include <linux/printk.h>
#include <linux/virtio.h>
#include <linux/virtio_config.h>

#include "../include/vmem_budget.h"
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

void vmem_config_work(struct work_struct *work)
{
	struct vmem_dev *vm = container_of(work, struct vmem_dev, config_work);

	vmem_config_update(vm);
	vmem_kick(vm, 0);
	vmem_notify_pollers(vm);
}

/*
 * With no request in flight (the run is over) the device's plugged_size
 * must equal the books. If it does not, the device is buggy (or lost a
 * request in a reset): say so; the books stay the truth, as they hold
 * only what the device acknowledged.
 */
static void vmem_check_plugged(struct vmem_dev *vm,
			       const struct vmem_status *st)
{
	u64 plugged;

	if (st->unplug_all_pending || st->broken ||
	    st->result != VMEM_RUN_DONE)
		return;
	virtio_cread_le(vm->vdev, struct virtio_mem_config, plugged_size,
			&plugged);
	if (plugged != st->plugged)
		dev_warn_ratelimited(&vm->vdev->dev, "device reports plugged_size %llu, the driver's books say %llu: keeping the books\n",
				     plugged, st->plugged);
}

#define VMEM_BUDGET_FIX "give the guest more boot memory"
#define VMEM_BUDGET_FIX_MOM \
	"boot with memory_hotplug.memmap_on_memory=1 or " VMEM_BUDGET_FIX

/*
 * One line when plugging stops at the kernel-memory budget; the next one
 * only after a target was reached. (While kernel memory hovers around the
 * floor, blocks are added one at a time between checks that fail.)
 */
static void vmem_budget_log(struct vmem_dev *vm, const struct vmem_status *st)
{
	struct vmem_kmem k;

	if (st->result == VMEM_RUN_DONE)
		vm->budget_logged = false;
	if (!st->budget_limited || vm->budget_logged)
		return;
	vm->budget_logged = true;
	vmem_hotplug_ops.kernel_mem(vm, &k);
	dev_warn(&vm->vdev->dev, "plugging stopped at %llu of %llu bytes: limited by kernel memory for the memmap (%llu MiB left, floor %llu MiB); %s\n",
		 st->plugged, st->target, k.avail >> 20,
		 vmem_budget_floor(k.managed) >> 20,
		 st->memmap == VMEM_MEMMAP_OFF ? VMEM_BUDGET_FIX_MOM :
		 VMEM_BUDGET_FIX);
}

void vmem_resize_work(struct work_struct *work)
{
	struct vmem_dev *vm = container_of(to_delayed_work(work),
					   struct vmem_dev, resize_work);
	enum vmem_run_result res;
	struct vmem_status before, st;
	unsigned int delay;

	vmem_engine_status(vm->engine, &before);
	vmem_engine_set_unplug_online(vm->engine, vmem_param_unplug_online());
	res = vmem_engine_run(vm->engine, &delay);
	vmem_engine_status(vm->engine, &st);
	vmem_stats_error_time(vm, st.nr_errors);
	if (res == VMEM_RUN_BROKEN && !before.broken)
		dev_err(&vm->vdev->dev, "device broken: %s: %d; no further request\n",
			vmem_what_name(st.last_what), st.last_err);
	if (res == VMEM_RUN_WAIT_ONLINE && before.result != res)
		dev_info(&vm->vdev->dev, "added memory waits to be onlined (auto_online_blocks, memhp_default_state= or a udev rule)\n");
	if (res == VMEM_RUN_WAIT_CONFIG && before.result != res)
		dev_warn(&vm->vdev->dev, "plugged %llu of %llu bytes: %s; waiting for a config change\n",
			 st.plugged, st.target, vmem_what_name(st.last_what));
	vmem_check_plugged(vm, &st);
	vmem_budget_log(vm, &st);
	if (res == VMEM_RUN_RETRY || res == VMEM_RUN_WAIT_ONLINE)
		vmem_kick(vm, delay);
	vmem_offline_watch(vm);
	vmem_notify_pollers(vm);
}
