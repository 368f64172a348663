// SPDX-License-Identifier: GPL-2.0
/*
 * The list of devices that resize, the kick that runs a device's resize
 * work, and stopping a device's works. Below every other glue file: it
 * calls none of them but the stats' own stop.
 *
 * The list is what the online_page callback asks, under RCU, which device
 * owns the memory Linux is onlining. A device is listed once DRIVER_OK is
 * set and it may resize, and unlisted at remove; see vmem_dev_find() for
 * why the device stays alive while the callback uses it.
 */
#include <linux/jiffies.h>
#include <linux/mutex.h>
#include <linux/rculist.h>
#include <linux/workqueue.h>

#include "../include/vmem_dev.h"

static LIST_HEAD(vmem_devices);
static DEFINE_MUTEX(vmem_devices_lock); /* guards writers of vmem_devices */

/**
 * vmem_dev_list() - the device may resize from now on
 * @vm: the device, DRIVER_OK set, with an engine
 *
 * Return: 0.
 */
int vmem_dev_list(struct vmem_dev *vm)
{
	mutex_lock(&vmem_devices_lock);
	list_add_rcu(&vm->list, &vmem_devices);
	mutex_unlock(&vmem_devices_lock);
	WRITE_ONCE(vm->ready, true);
	return 0;
}

/**
 * vmem_dev_unlist() - the online_page callback no longer asks @vm
 * @vm: the device, its works stopped
 *
 * Waits until no callback can still see it in the list.
 */
void vmem_dev_unlist(struct vmem_dev *vm)
{
	mutex_lock(&vmem_devices_lock);
	list_del_rcu(&vm->list);
	mutex_unlock(&vmem_devices_lock);
	synchronize_rcu();
}

/**
 * vmem_dev_find() - the device whose memory blocks hold @addr
 * @addr: a physical address
 *
 * For the online_page callback. The device it returns stays alive while
 * the callback uses it: Linux calls the callback only between
 * MEM_GOING_ONLINE and MEM_ONLINE (or MEM_CANCEL_ONLINE) of the block,
 * our notifier accepted that GOING_ONLINE, and the teardown refuses new
 * transitions and waits for the ones in progress before it frees
 * anything (vmem_engine_begin_teardown()).
 *
 * Return: the device, or NULL if none of ours holds @addr.
 */
struct vmem_dev *vmem_dev_find(u64 addr)
{
	struct vmem_dev *vm, *found = NULL;

	rcu_read_lock();
	list_for_each_entry_rcu(vm, &vmem_devices, list) {
		if (addr >= vm->start && addr < vm->end) {
			found = vm;
			break;
		}
	}
	rcu_read_unlock();
	return found;
}

/**
 * vmem_kick() - run the resize work now, or by a deadline
 * @vm: the device
 * @delay_ms: 0 to run at once, else at the latest after this delay
 *
 * Does nothing before DRIVER_OK, while suspended, once removal began and
 * in a crash kernel (no engine).
 */
void vmem_kick(struct vmem_dev *vm, unsigned long delay_ms)
{
	if (!READ_ONCE(vm->ready) || !vm->engine)
		return;
	if (delay_ms)
		queue_delayed_work(system_freezable_wq, &vm->resize_work,
				   msecs_to_jiffies(delay_ms));
	else
		mod_delayed_work(system_freezable_wq, &vm->resize_work, 0);
}

/**
 * vmem_kick_all() - run every device's resize work now
 *
 * For a policy change (the unplug_online parameter) that may end a retry.
 */
void vmem_kick_all(void)
{
	struct vmem_dev *vm;

	rcu_read_lock();
	list_for_each_entry_rcu(vm, &vmem_devices, list)
		vmem_kick(vm, 0);
	rcu_read_unlock();
}

/**
 * vmem_dev_stop() - stop every work of @vm, for remove and suspend
 * @vm: the device
 *
 * Nothing queues a work again until @vm is ready again (resume).
 */
void vmem_dev_stop(struct vmem_dev *vm)
{
	WRITE_ONCE(vm->ready, false);
	cancel_work_sync(&vm->config_work);
	cancel_delayed_work_sync(&vm->resize_work);
	vmem_stats_stop(vm);
}
