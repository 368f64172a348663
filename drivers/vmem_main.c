// SPDX-License-Identifier: GPL-2.0
/*
 * virtio-mem guest driver: binding to the virtio device, reading and
 * validating its config, and following config changes. This file is the
 * thin kernel glue; decisions live in the pure files beside it.
 */
#include <linux/acpi.h>
#include <linux/delay.h>
#include <linux/ioport.h>
#include <linux/kasan.h>
#include <linux/memory.h>
#include <linux/memory_hotplug.h>
#include <linux/module.h>
#include <linux/pageblock-flags.h>
#include <linux/sizes.h>
#include <linux/numa.h>
#include <linux/slab.h>
#include <linux/virtio.h>
#include <linux/virtio_config.h>

#include "../include/vmem_budget.h"
#include "../include/vmem_compat.h"
#include "../include/vmem_config.h"
#include "../include/vmem_dev.h"
#include "../include/vmem_mode.h"
#include "../include/vmem_units.h"

#define VMEM_VERSION "0.2.0"

static bool unplug_online = true;

/* A write may end a retry that waits for unplug_online: run at once. */
static int vmem_set_unplug_online(const char *val,
				  const struct kernel_param *kp)
{
	int rc = param_set_bool(val, kp);

	if (!rc)
		vmem_hotplug_kick_all();
	return rc;
}

static const struct kernel_param_ops vmem_unplug_online_ops = {
	.set = vmem_set_unplug_online,
	.get = param_get_bool,
};

module_param_cb(unplug_online, &vmem_unplug_online_ops, &unplug_online,
		0644);
MODULE_PARM_DESC(unplug_online, "Try to unplug online memory");

static bool force_bbm;
module_param(force_bbm, bool, 0444);
MODULE_PARM_DESC(force_bbm, "Use Big-Block Mode even for device blocks smaller than a memory block");

static unsigned long bbm_block_size;
module_param(bbm_block_size, ulong, 0444);
MODULE_PARM_DESC(bbm_block_size, "Big block size in bytes in Big-Block Mode (0: the larger of device and memory block)");

static bool bbm_safe_unplug = true;
module_param(bbm_safe_unplug, bool, 0444);
MODULE_PARM_DESC(bbm_safe_unplug, "In Big-Block Mode, take used memory back with alloc_contig_range() before offlining, so an unplug cannot loop forever");

static bool memmap_on_memory = true;
module_param(memmap_on_memory, bool, 0444);
MODULE_PARM_DESC(memmap_on_memory, "Put the memmap of added memory blocks on the blocks themselves when Linux allows it (memory_hotplug.memmap_on_memory=1)");

/* Added-but-offline memory at which plugging waits for onlining. */
#define VMEM_OFFLINE_THRESHOLD SZ_1G

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

/*
 * With the engine lock held no request is in flight, so the device's
 * plugged_size must equal the books. If it does not, the device is buggy
 * (or lost a request in a reset): say so; the books stay the truth, as
 * they hold only what the device acknowledged.
 */
static void vmem_check_plugged(struct vmem_dev *vm)
{
	struct vmem_engine *e = &vm->engine;
	u64 plugged;

	lockdep_assert_held(&e->lock);
	if (e->unplug_all_pending || e->broken)
		return;
	virtio_cread_le(vm->vdev, struct virtio_mem_config, plugged_size,
			&plugged);
	if (plugged != e->plugged)
		dev_warn_ratelimited(&vm->vdev->dev, "device reports plugged_size %llu, the driver's books say %llu: keeping the books\n",
				     plugged, e->plugged);
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
	if (!vm->engine_ready)
		return;
	mutex_lock(&vm->engine.lock);
	vmem_check_plugged(vm);
	if (vmem_engine_set_config(&vm->engine, new.requested_size,
				   vmem_mode_usable(&vm->engine.p, new.addr,
						    new.usable_region_size)))
		dev_warn_ratelimited(dev, "usable_region_size %llu cuts off plugged memory: keeping the region up to the last plugged block\n",
				     new.usable_region_size);
	mutex_unlock(&vm->engine.lock);
	vmem_kick(vm, 0);
	vmem_sysfs_notify(vm);
}

/**
 * vmem_kick() - run the resize work now
 * @vm: the device
 * @delay_ms: 0 to run at once, else at the latest after this delay
 */
void vmem_kick(struct vmem_dev *vm, unsigned long delay_ms)
{
	if (READ_ONCE(vm->removing))
		return;
	if (delay_ms)
		queue_delayed_work(system_freezable_wq, &vm->resize_work,
				   msecs_to_jiffies(delay_ms));
	else
		mod_delayed_work(system_freezable_wq, &vm->resize_work, 0);
}

#define VMEM_BUDGET_FIX "give the guest more boot memory"
#define VMEM_BUDGET_FIX_MOM \
	"boot with memory_hotplug.memmap_on_memory=1 or " VMEM_BUDGET_FIX

/*
 * One line when plugging stops at the kernel-memory budget; the next one
 * only after a target was reached. (While kernel memory hovers around the
 * floor, blocks are added one at a time between checks that fail.)
 */
static void vmem_budget_log(struct vmem_dev *vm, enum vmem_run_result res)
{
	struct vmem_engine *e = &vm->engine;
	bool limited, memmap_off;
	struct vmem_kmem k;
	u64 plugged, target;

	if (res == VMEM_RUN_DONE)
		vm->budget_logged = false;
	mutex_lock(&e->lock);
	limited = e->budget_limited;
	plugged = e->plugged;
	target = vmem_engine_target(e);
	memmap_off = !e->memmap;
	mutex_unlock(&e->lock);
	if (!limited || vm->budget_logged)
		return;
	vm->budget_logged = true;
	vmem_hotplug_ops.kernel_mem(vm, &k);
	dev_warn(&vm->vdev->dev, "plugging stopped at %llu of %llu bytes: limited by kernel memory for the memmap (%llu MiB left, floor %llu MiB); %s\n",
		 plugged, target, k.avail >> 20,
		 vmem_budget_floor(k.managed) >> 20,
		 memmap_off ? VMEM_BUDGET_FIX_MOM : VMEM_BUDGET_FIX);
}

static void vmem_resize_work(struct work_struct *work)
{
	struct vmem_dev *vm = container_of(to_delayed_work(work),
					   struct vmem_dev, resize_work);
	struct vmem_engine *e = &vm->engine;
	enum vmem_run_result res, prev;
	unsigned int delay;

	mutex_lock(&e->lock);
	e->p.unplug_online = READ_ONCE(unplug_online);
	res = vmem_engine_run(e);
	vmem_stats_after_run(vm);
	delay = e->retry_ms;
	if (res == VMEM_RUN_BROKEN)
		dev_err_ratelimited(&vm->vdev->dev, "device broken: %s: %d; no further request\n",
				    e->last_what, e->last_err);
	mutex_unlock(&e->lock);

	mutex_lock(&vm->lock);
	prev = vm->last_result;
	vm->last_result = res;
	mutex_unlock(&vm->lock);

	if (res == VMEM_RUN_WAIT_ONLINE && prev != VMEM_RUN_WAIT_ONLINE)
		dev_info(&vm->vdev->dev, "added memory waits to be onlined (auto_online_blocks, memhp_default_state= or a udev rule)\n");
	vmem_budget_log(vm, res);
	if (res == VMEM_RUN_RETRY || res == VMEM_RUN_WAIT_ONLINE)
		vmem_kick(vm, delay);
	vmem_offline_watch(vm);
	vmem_sysfs_notify(vm);
}

static int vmem_engine_setup(struct vmem_dev *vm)
{
	struct device *dev = &vm->vdev->dev;
	struct range pluggable = mhp_get_pluggable_range(true);
	struct vmem_engine_params p = { };
	struct vmem_mode_input in = {
		.addr = vm->cfg.addr,
		.region_size = vm->cfg.region_size,
		.block_size = vm->cfg.block_size,
		.lmb_size = memory_block_size_bytes(),
		.pageblock_size = PAGE_SIZE << pageblock_order,
		.pluggable_start = pluggable.start,
		.pluggable_end = pluggable.end,
		.force_bbm = force_bbm,
		.bbm_block_size = bbm_block_size,
	};
	int rc;

	if (!vmem_compat_hotplug_supported()) {
		dev_warn(dev, "this kernel's PageOffline accounting is not supported yet: not resizing\n");
		return 0;
	}
	/*
	 * Memory of the region still added to Linux (a previous driver that
	 * could not remove it, e.g. the in-tree one with offline blocks left)
	 * must not be unplugged under it: UNPLUG_ALL would pull it away.
	 */
	if (region_intersects(vm->cfg.addr, vm->cfg.region_size,
			      IORESOURCE_SYSTEM_RAM, IORES_DESC_NONE) !=
	    REGION_DISJOINT) {
		dev_err(dev, "memory of the region [%#llx-%#llx] is still added to Linux by a previous driver: not taking the device\n",
			vm->cfg.addr, vm->cfg.addr + vm->cfg.region_size - 1);
		return -EBUSY;
	}
	if (vmem_mode_pick(&in, &p) & VMEM_MODE_BBM_SIZE_IGNORED)
		dev_warn(dev, "bbm_block_size %lu ignored: not a power of two of at least %llu\n",
			 bbm_block_size, max_t(u64, in.block_size, in.lmb_size));
	vm->bbm_safe_unplug = bbm_safe_unplug;
	p.offline_threshold = max_t(u64, VMEM_OFFLINE_THRESHOLD,
				    2 * p.mb_size);
	p.memmap_size = in.lmb_size / PAGE_SIZE * sizeof(struct page);
#ifdef KASAN_SHADOW_SCALE_SHIFT
	/* KASAN shadows online memory from kernel memory, too. */
	p.kmem_other_size = in.lmb_size >> KASAN_SHADOW_SCALE_SHIFT;
#endif
	/*
	 * On 6.1 Linux puts a memmap on the memory only for adds of one
	 * memory block: bigger big blocks keep theirs in kernel memory.
	 */
	p.memmap_on_memory = memmap_on_memory &&
			     (!p.bbm || p.mb_size == in.lmb_size);
	p.unplug_online = READ_ONCE(unplug_online);

	rc = vmem_engine_init(&vm->engine, &p, &vmem_virtio_ops, vm,
			      &vmem_hotplug_ops, vm);
	if (rc)
		return rc;
	rc = vmem_hotplug_init(vm);
	if (rc) {
		vmem_engine_destroy(&vm->engine);
		return rc;
	}
	mutex_lock(&vm->engine.lock);
	vmem_engine_set_config(&vm->engine, vm->cfg.requested_size,
			       vmem_mode_usable(&vm->engine.p, vm->cfg.addr,
						vm->cfg.usable_region_size));
	if (vm->cfg.plugged_size) {
		dev_info(dev, "%llu bytes still plugged (left by a previous driver): unplugging all first\n",
			 vm->cfg.plugged_size);
		vmem_engine_request_unplug_all(&vm->engine);
	}
	mutex_unlock(&vm->engine.lock);
	vm->engine_ready = true;
	return 0;
}

/*
 * At remove (unbind or rmmod): unplug and remove everything that can be.
 * Blocks that cannot be removed (online, with pages that do not migrate)
 * stay online for good; vmem_hotplug_exit() leaves them nothing that
 * points into this driver.
 */
static void vmem_engine_teardown(struct vmem_dev *vm)
{
	struct vmem_engine *e = &vm->engine;
	enum vmem_run_result res;
	unsigned int tries, delay;
	u64 added;

	mutex_lock(&e->lock);
	e->p.unplug_online = true;
	vmem_engine_set_config(e, 0, e->usable);
	for (tries = 0; tries < 5; tries++) {
		res = vmem_engine_run(e);
		if (res == VMEM_RUN_DONE || res == VMEM_RUN_BROKEN)
			break;
		delay = e->retry_ms;
		mutex_unlock(&e->lock);
		msleep(delay);
		mutex_lock(&e->lock);
	}
	added = e->nr_mbs - vmem_engine_mb_count(e, VMEM_MB_UNUSED);
	if (added) {
		/* The virtqueue goes away: no request from now on. */
		e->broken = true;
		dev_err(&vm->vdev->dev, "%llu memory blocks could not be removed (%s: %d): they stay online, their unplugged parts offline for good\n",
			added, e->last_what ?: "-", e->last_err);
	}
	mutex_unlock(&e->lock);
	vmem_hotplug_exit(vm, added);
	cancel_delayed_work_sync(&vm->resize_work);
	vmem_engine_destroy(e);
}

/* Runs in interrupt context: defer all work. */
static void vmem_config_changed(struct virtio_device *vdev)
{
	struct vmem_dev *vm = vdev->priv;

	queue_work(system_freezable_wq, &vm->config_work);
}

#ifdef CONFIG_PROC_VMCORE
static bool vmem_vmcore_pfn_is_ram(struct vmcore_cb *cb, unsigned long pfn)
{
	struct vmem_dev *vm = container_of(cb, struct vmem_dev, vmcore_cb);

	return vmem_kdump_is_ram(&vm->kdump_view, PFN_PHYS(pfn));
}
#endif

/*
 * In a crash kernel: no hotplug at all (the dump needs the crashed
 * kernel's memory as it was, so no UNPLUG_ALL either); tell /proc/vmcore
 * which pages of the region it may read.
 */
static void vmem_kdump_setup(struct vmem_dev *vm)
{
	vm->kdump = true;
#ifdef CONFIG_PROC_VMCORE
	vmem_kdump_init(&vm->kdump_view, vm->cfg.addr, vm->cfg.region_size,
			vm->cfg.block_size, &vmem_virtio_ops, vm);
	vm->vmcore_cb.pfn_is_ram = vmem_vmcore_pfn_is_ram;
	register_vmcore_cb(&vm->vmcore_cb);
#endif
	dev_info(&vm->vdev->dev, "crash kernel: no hot(un)plug; /proc/vmcore reads only plugged blocks\n");
}

static void vmem_kdump_teardown(struct vmem_dev *vm)
{
#ifdef CONFIG_PROC_VMCORE
	unregister_vmcore_cb(&vm->vmcore_cb);
	dev_info(&vm->vdev->dev, "crash kernel: %llu state requests, %llu without a clear answer\n",
		 vm->kdump_view.nr_requests, vm->kdump_view.nr_failed);
#endif
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
	mutex_init(&vm->req_lock);
	init_waitqueue_head(&vm->resp_wq);
	INIT_WORK(&vm->config_work, vmem_config_work);
	INIT_DELAYED_WORK(&vm->resize_work, vmem_resize_work);
	vmem_stats_init(vm);

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
	rc = is_kdump_kernel() ? 0 : vmem_engine_setup(vm);
	if (rc) {
		dev_err(&vdev->dev, "cannot set up memory hotplug: %d\n", rc);
		goto out_del_vqs;
	}
	rc = sysfs_create_group(&vdev->dev.kobj, &vmem_sysfs_group);
	if (rc) {
		dev_err(&vdev->dev, "cannot create sysfs files: %d\n", rc);
		goto out_engine;
	}

	vmem_log_config(vm);
	vmem_debugfs_init(vm);
	virtio_device_ready(vdev);
	if (is_kdump_kernel())
		vmem_kdump_setup(vm);
	if (vm->engine_ready)
		vmem_kick(vm, 0);
	return 0;

out_engine:
	if (vm->engine_ready) {
		vmem_hotplug_exit(vm, false);
		vmem_engine_destroy(&vm->engine);
	}
out_del_vqs:
	vdev->priv = NULL;
	vdev->config->del_vqs(vdev);
out_free:
	mutex_destroy(&vm->req_lock);
	mutex_destroy(&vm->lock);
	kfree(vm);
	return rc;
}

static void vmem_remove(struct virtio_device *vdev)
{
	struct vmem_dev *vm = vdev->priv;

	/* The virtio core has disabled config callbacks before this. */
	vmem_debugfs_exit(vm);	/* waits for a self-check in progress */
	sysfs_remove_group(&vdev->dev.kobj, &vmem_sysfs_group);
	WRITE_ONCE(vm->removing, true);
	cancel_work_sync(&vm->config_work);
	cancel_delayed_work_sync(&vm->resize_work);
	vmem_stats_exit(vm);
	if (vm->kdump)
		vmem_kdump_teardown(vm);
	if (vm->engine_ready)
		vmem_engine_teardown(vm);
	virtio_reset_device(vdev);
	vdev->config->del_vqs(vdev);
	vdev->priv = NULL;
	mutex_destroy(&vm->req_lock);
	mutex_destroy(&vm->lock);
	kfree(vm);
}

#ifdef CONFIG_PM_SLEEP
/*
 * Resume resets the device; a reset unplugs everything unless the device
 * negotiated PERSISTENT_SUSPEND. Memory Linux uses would be gone: refuse
 * then, unless nothing is plugged (vmem_suspend_decide()).
 */
static int vmem_freeze(struct virtio_device *vdev)
{
	struct vmem_dev *vm = vdev->priv;
	bool persistent = virtio_has_feature(vdev,
					     VIRTIO_MEM_F_PERSISTENT_SUSPEND);
	enum vmem_suspend d;
	u64 plugged = 0;

	if (vm->engine_ready) {
		mutex_lock(&vm->engine.lock);
		plugged = vm->engine.plugged;
		mutex_unlock(&vm->engine.lock);
	}
	d = vmem_suspend_decide(persistent, plugged);
	if (d == VMEM_SUSPEND_REFUSE) {
		dev_err(&vdev->dev, "suspend refused: %llu bytes plugged and the device does not keep them across suspend (no PERSISTENT_SUSPEND)\n",
			plugged);
		return -EPERM;
	}
	WRITE_ONCE(vm->removing, true);
	cancel_work_sync(&vm->config_work);
	cancel_delayed_work_sync(&vm->resize_work);
	vmem_stats_exit(vm);
	virtio_reset_device(vdev);
	vdev->config->del_vqs(vdev);
	vm->vq = NULL;
	return 0;
}

static int vmem_restore(struct virtio_device *vdev)
{
	struct vmem_dev *vm = vdev->priv;

	vm->vq = virtio_find_single_vq(vdev, vmem_vq_done, "guest-request");
	if (IS_ERR(vm->vq)) {
		dev_err(&vdev->dev, "resume: cannot set up the request queue: %ld\n",
			PTR_ERR(vm->vq));
		return PTR_ERR(vm->vq);
	}
	virtio_device_ready(vdev);
	WRITE_ONCE(vm->removing, false);
	dev_info(&vdev->dev, "resumed: request queue set up again\n");
	/* The host may have changed the config while we slept. */
	queue_work(system_freezable_wq, &vm->config_work);
	if (vm->engine_ready)
		vmem_kick(vm, 0);
	return 0;
}
#endif

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
	int rc = vmem_hotplug_register();

	if (rc)
		return rc;
	vmem_debugfs_register();
	rc = register_virtio_driver(&vmem_driver);
	if (rc) {
		vmem_debugfs_unregister();
		vmem_hotplug_unregister();
	}
	return rc;
}
module_init(vmem_init);

static void __exit vmem_exit(void)
{
	unregister_virtio_driver(&vmem_driver);
	vmem_debugfs_unregister();
	vmem_hotplug_unregister();
}
module_exit(vmem_exit);

MODULE_DEVICE_TABLE(virtio, vmem_id_table);
MODULE_DESCRIPTION("virtio-mem guest driver");
MODULE_LICENSE("GPL");
MODULE_VERSION(VMEM_VERSION);
