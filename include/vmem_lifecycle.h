/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What the driver answers outside normal operation: in a crash kernel,
 * whether a page of the device region may be read for the dump, and
 * which ranges of it are plugged; at suspend, hibernation and restore,
 * whether the system may go on. Pure code: KUnit runs it under UML with
 * the simulated device.
 */
#ifndef _VMEM_LIFECYCLE_H
#define _VMEM_LIFECYCLE_H

#include <linux/mutex.h>
#include <linux/types.h>

#include "vmem_ops.h"

/**
 * struct vmem_kdump - the crash kernel's view of the device region
 * @addr: start of the device region
 * @size: its size
 * @block_size: the device block size
 * @empty: the device reported nothing plugged: nothing of the region is
 *	RAM, and no request is needed to say so
 * @dev: device requests (only STATE is sent)
 * @dev_priv: their argument
 * @lock: guards the fields below; /proc/vmcore readers hold only SRCU,
 *	so two readers may ask at once
 * @cached: device block whose state is cached, U64_MAX for none
 * @cached_plugged: its state
 * @nr_requests: STATE requests sent
 * @nr_failed: requests without a usable answer (the page is skipped)
 */
struct vmem_kdump {
	u64 addr;
	u64 size;
	u64 block_size;
	bool empty;
	const struct vmem_device_ops *dev;
	void *dev_priv;
	struct mutex lock; /* guards cached, cached_plugged, nr_* */
	u64 cached;
	bool cached_plugged;
	u64 nr_requests;
	u64 nr_failed;
};

void vmem_kdump_init(struct vmem_kdump *k, u64 addr, u64 size,
		     u64 block_size, u64 plugged,
		     const struct vmem_device_ops *dev, void *dev_priv);
void vmem_kdump_destroy(struct vmem_kdump *k);
bool vmem_kdump_is_ram(struct vmem_kdump *k, u64 paddr);

/* @fn is called for each plugged range [@addr, @addr + @size). */
int vmem_kdump_plugged_ranges(struct vmem_kdump *k,
			      int (*fn)(void *arg, u64 addr, u64 size),
			      void *arg);

/**
 * enum vmem_pm_event - what the system is about to do
 * @VMEM_PM_SUSPEND: suspend to RAM or standby: the host resets the VM on
 *	wake-up, and the reset unplugs everything unless the device offers
 *	PERSISTENT_SUSPEND
 * @VMEM_PM_SUSPEND_TO_IDLE: suspend-to-idle: nothing is powered off, no
 *	reset comes
 * @VMEM_PM_HIBERNATE: write an image and power off: the VM boots anew,
 *	with nothing plugged
 * @VMEM_PM_RESTORE: this (boot) kernel is about to restore an image
 */
enum vmem_pm_event {
	VMEM_PM_SUSPEND,
	VMEM_PM_SUSPEND_TO_IDLE,
	VMEM_PM_HIBERNATE,
	VMEM_PM_RESTORE,
};

/**
 * enum vmem_pm_decision - may the system go on?
 * @VMEM_PM_OK_EMPTY: yes: nothing is plugged, nothing can be lost
 * @VMEM_PM_OK_PERSISTENT: yes: the device keeps plugged memory across
 *	the reset of a suspend (PERSISTENT_SUSPEND)
 * @VMEM_PM_OK_NO_RESET: yes: suspend-to-idle keeps the VM powered
 * @VMEM_PM_REFUSE: no: plugged memory would be gone while Linux (or the
 *	restored image) still counts on it
 */
enum vmem_pm_decision {
	VMEM_PM_OK_EMPTY,
	VMEM_PM_OK_PERSISTENT,
	VMEM_PM_OK_NO_RESET,
	VMEM_PM_REFUSE,
};

enum vmem_pm_decision vmem_pm_decide(enum vmem_pm_event ev, bool persistent,
				     u64 plugged);

#endif /* _VMEM_LIFECYCLE_H */
