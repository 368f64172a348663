// SPDX-License-Identifier: GPL-2.0
/*
 * The module parameters, and the calls the other glue files read them
 * with.
 */
#include <linux/moduleparam.h>
#include <linux/printk.h>

#include "../include/vmem_dev.h"

static bool unplug_online = true;

/* A write may end a retry that waits for unplug_online: run at once. */
static int vmem_set_unplug_online(const char *val,
				  const struct kernel_param *kp)
{
	int rc = param_set_bool(val, kp);

	if (!rc)
		vmem_kick_all();
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

/*
 * Kept so that "bbm_safe_unplug=0" on a command line still loads, and
 * ignored: an unplug that may migrate pages for ever (what 0 meant) no
 * longer exists. Every offline the driver starts has nothing to migrate;
 * the memory notifier vetoes one that would (vmem_notifier.c).
 */
static bool bbm_safe_unplug = true;
module_param(bbm_safe_unplug, bool, 0444);
MODULE_PARM_DESC(bbm_safe_unplug, "Ignored: unplug in Big-Block Mode is always safe (kept so that old command lines still load)");

static bool memmap_on_memory = true;
module_param(memmap_on_memory, bool, 0444);
MODULE_PARM_DESC(memmap_on_memory, "Put the memmap of added memory blocks on the blocks themselves when Linux allows it (memory_hotplug.memmap_on_memory=1)");

static unsigned int offline_warn_secs = 30;
module_param(offline_warn_secs, uint, 0644);
MODULE_PARM_DESC(offline_warn_secs, "Seconds added memory may stay offline before the driver says that nothing onlines it (0: never)");

bool vmem_param_unplug_online(void)
{
	return READ_ONCE(unplug_online);
}

bool vmem_param_force_bbm(void)
{
	return force_bbm;
}

unsigned long vmem_param_bbm_block_size(void)
{
	return bbm_block_size;
}

bool vmem_param_memmap_on_memory(void)
{
	return memmap_on_memory;
}

/* At load: say which parameters are ignored. */
void vmem_params_warn(void)
{
	if (!bbm_safe_unplug)
		pr_warn("virtio_mem: bbm_safe_unplug=0 is ignored: no unplug migrates pages for ever any more\n");
}

unsigned int vmem_param_offline_warn_secs(void)
{
	return READ_ONCE(offline_warn_secs);
}
