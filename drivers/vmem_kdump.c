// SPDX-License-Identifier: GPL-2.0
/*
 * The crash kernel: no hotplug at all (the dump needs the crashed kernel's
 * memory as it was, so no UNPLUG_ALL either); /proc/vmcore learns which
 * pages of the region it may read (vmem_kdump_is_ram(), and from 6.14 the
 * plugged ranges up front).
 */
#include <linux/crash_dump.h>
#include <linux/virtio.h>

#include "../include/vmem_compat.h"
#include "../include/vmem_dev.h"

#ifdef CONFIG_PROC_VMCORE
static bool vmem_vmcore_pfn_is_ram(struct vmcore_cb *cb, unsigned long pfn)
{
	struct vmem_dev *vm = container_of(cb, struct vmem_dev, vmcore_cb);

	return vmem_kdump_is_ram(&vm->kdump_view, PFN_PHYS(pfn));
}

#ifdef VMEM_HAVE_VMCORE_DEVICE_RAM
static int vmem_vmcore_add_range(void *list, u64 addr, u64 size)
{
	return vmcore_alloc_add_range(list, addr, size);
}

static int vmem_vmcore_get_device_ram(struct vmcore_cb *cb,
				      struct list_head *list)
{
	struct vmem_dev *vm = container_of(cb, struct vmem_dev, vmcore_cb);

	int rc = vmem_kdump_plugged_ranges(&vm->kdump_view,
					     vmem_vmcore_add_range, list);

	/* On an error the core frees nothing of what we added. */
	if (rc)
		vmcore_free_ranges(list);
	return rc;
}
#endif
#endif

void vmem_kdump_setup(struct vmem_dev *vm)
{
#ifdef CONFIG_PROC_VMCORE
	vmem_kdump_init(&vm->kdump_view, vm->cfg.addr, vm->cfg.region_size,
			vm->cfg.block_size, vm->cfg.plugged_size,
			&vmem_virtio_ops, vm);
	vm->vmcore_cb.pfn_is_ram = vmem_vmcore_pfn_is_ram;
#ifdef VMEM_HAVE_VMCORE_DEVICE_RAM
	vm->vmcore_cb.get_device_ram = vmem_vmcore_get_device_ram;
#endif
	register_vmcore_cb(&vm->vmcore_cb);
#endif
	dev_info(&vm->vdev->dev, "crash kernel: no hot(un)plug; /proc/vmcore reads only plugged blocks\n");
}

void vmem_kdump_teardown(struct vmem_dev *vm)
{
#ifdef CONFIG_PROC_VMCORE
	unregister_vmcore_cb(&vm->vmcore_cb);
	dev_info(&vm->vdev->dev, "crash kernel: %llu state requests, %llu without a clear answer\n",
		 vm->kdump_view.nr_requests, vm->kdump_view.nr_failed);
	vmem_kdump_destroy(&vm->kdump_view);
#endif
}
