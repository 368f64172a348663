// SPDX-License-Identifier: GPL-2.0
/*
 * The device's two works: the config work follows config changes
 * (vmem_cfgspace.c reads them); the resize work runs the engine and
 * re-arms itself as the retry timer. Decisions live in the engine; this
 * file logs and schedules.
 */
#include <linux/printk.h>
#include <linux/virtio.h>
#include <linux/virtio_config.h>

#include "../include/vmem_budget.h"
#include "../include/vmem_dev.h"

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
	vmem_offline_watch(vm, vmem_param_offline_warn_secs());
	vmem_notify_pollers(vm);
}
