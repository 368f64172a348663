// SPDX-License-Identifier: GPL-2.0
/*
 * The memory notifier and the online_page callback: Linux's transitions
 * of our memory blocks, passed to the engine's books
 * (vmem_engine_event(), vmem_engine_online_pages()). Neither waits for
 * anything of ours but the engine's state lock, which is never held
 * across a device request: Linux holds its global hotplug locks here.
 *
 * The one veto of our own making: an offline the engine started must find
 * nothing to migrate. At MEM_GOING_OFFLINE the range is isolated, so the
 * look at its pages is exact; a page in use then (allocated after the
 * engine's first, racy look) vetoes the offline, which Linux cancels
 * cleanly, and the engine takes the block's pages back instead. An
 * offline can therefore never loop on a page that does not migrate.
 */
#include <linux/memory.h>
#include <linux/memory_hotplug.h>
#include <linux/mm.h>
#include <linux/sched.h>
#include <linux/virtio.h>

#include "../include/vmem_dev.h"
#include "../include/vmem_trace.h"

static int vmem_memory_notifier(struct notifier_block *nb,
				unsigned long action, void *arg)
{
	struct vmem_dev *vm = container_of(nb, struct vmem_dev, memory_nb);
	struct memory_notify *mhp = arg;
	u64 start = PFN_PHYS(mhp->start_pfn), size = PFN_PHYS(mhp->nr_pages);
	bool ours = READ_ONCE(vm->op_task) == current;
	enum vmem_mem_event ev;
	int rc;

	if (start >= vm->end || start + size <= vm->start)
		return NOTIFY_DONE;
	switch (action) {
	case MEM_GOING_ONLINE:
		ev = VMEM_MEM_GOING_ONLINE;
		break;
	case MEM_ONLINE:
		ev = VMEM_MEM_ONLINE;
		break;
	case MEM_CANCEL_ONLINE:
		ev = VMEM_MEM_CANCEL_ONLINE;
		break;
	case MEM_GOING_OFFLINE:
		if (ours && !vmem_pages_idle(vm, mhp->start_pfn,
					     mhp->nr_pages)) {
			trace_virtio_mem_block(dev_name(&vm->vdev->dev),
					       "offline_vetoed", start, size,
					       -EBUSY);
			return notifier_from_errno(-EBUSY);
		}
		ev = VMEM_MEM_GOING_OFFLINE;
		break;
	case MEM_OFFLINE:
		ev = VMEM_MEM_OFFLINE;
		break;
	case MEM_CANCEL_OFFLINE:
		ev = VMEM_MEM_CANCEL_OFFLINE;
		break;
	default:
		return NOTIFY_DONE;
	}
	rc = vmem_engine_event(vm->engine, ev, start, size, ours);
	if (rc) {
		dev_info_ratelimited(&vm->vdev->dev, "refusing to online or offline [%#llx-%#llx]: the driver is going away\n",
				     start, start + size - 1);
		return notifier_from_errno(rc);
	}
	if (ev == VMEM_MEM_ONLINE || ev == VMEM_MEM_OFFLINE) {
		trace_virtio_mem_block(dev_name(&vm->vdev->dev),
				       ev == VMEM_MEM_ONLINE ? "online" :
				       "offline", start, size, 0);
		/* Onlining may end WAIT_ONLINE; offline memory is cheap to
		 * unplug.
		 */
		vmem_kick(vm, 0);
	}
	return NOTIFY_OK;
}

/**
 * vmem_notifier_init() - follow Linux's transitions of our memory
 * @vm: the device, its engine set up
 *
 * Return: 0 or a negative errno.
 */
int vmem_notifier_init(struct vmem_dev *vm)
{
	vm->memory_nb.notifier_call = vmem_memory_notifier;
	return register_memory_notifier(&vm->memory_nb);
}

void vmem_notifier_exit(struct vmem_dev *vm)
{
	unregister_memory_notifier(&vm->memory_nb);
}

/*
 * The online_page callback, for every page range Linux onlines: the
 * engine hands pages of our memory that are plugged and not fake-offline
 * to the page allocator and keeps the others. See vmem_dev_find() for
 * why @vm stays alive here.
 */
static void vmem_online_page_cb(struct page *page, unsigned int order)
{
	u64 addr = page_to_phys(page);
	struct vmem_dev *vm = vmem_dev_find(addr);

	if (!vm) {
		generic_online_page(page, order);
		return;
	}
	vmem_engine_online_pages(vm->engine, addr, PAGE_SIZE << order);
}

/**
 * vmem_online_page_register() - install the online_page callback
 *
 * Only one driver can own it; the in-tree virtio_mem and hv_balloon do
 * too.
 *
 * Return: 0 or a negative errno.
 */
int vmem_online_page_register(void)
{
	int rc = set_online_page_callback(&vmem_online_page_cb);

	if (rc)
		pr_err("virtio_mem: another driver (in-tree virtio_mem? hv_balloon?) owns the online_page callback: %d\n",
		       rc);
	return rc;
}

void vmem_online_page_unregister(void)
{
	restore_online_page_callback(&vmem_online_page_cb);
}
