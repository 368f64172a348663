/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What the driver answers outside normal operation: in a crash kernel,
 * whether a page of the device region may be read for the dump; at
 * suspend, whether the system may go down. Pure code: KUnit runs it under
 * UML with the simulated device.
 */
#ifndef _VMEM_LIFECYCLE_H
#define _VMEM_LIFECYCLE_H

#include <linux/types.h>

#include "vmem_ops.h"

/**
 * struct vmem_kdump - the crash kernel's view of the device region
 * @addr: start of the device region
 * @size: its size
 * @block_size: the device block size
 * @dev: device requests (only STATE is sent)
 * @dev_priv: their argument
 * @cached: device block whose state is cached, U64_MAX for none
 * @cached_plugged: its state
 * @nr_requests: STATE requests sent
 * @nr_failed: requests without a usable answer (the page is skipped)
 *
 * Serialised by the caller: /proc/vmcore reads one page at a time under
 * its own lock.
 */
struct vmem_kdump {
	u64 addr;
	u64 size;
	u64 block_size;
	const struct vmem_device_ops *dev;
	void *dev_priv;
	u64 cached;
	bool cached_plugged;
	u64 nr_requests;
	u64 nr_failed;
};

void vmem_kdump_init(struct vmem_kdump *k, u64 addr, u64 size,
		     u64 block_size, const struct vmem_device_ops *dev,
		     void *dev_priv);
bool vmem_kdump_is_ram(struct vmem_kdump *k, u64 paddr);

/**
 * enum vmem_suspend - may the system suspend or hibernate?
 * @VMEM_SUSPEND_OK_PERSISTENT: yes: the device keeps plugged memory
 *	across the reset that comes with resume (PERSISTENT_SUSPEND)
 * @VMEM_SUSPEND_OK_EMPTY: yes: nothing is plugged, a reset loses nothing
 * @VMEM_SUSPEND_REFUSE: no: plugged memory would be gone after resume
 *	while Linux still uses it
 */
enum vmem_suspend {
	VMEM_SUSPEND_OK_PERSISTENT,
	VMEM_SUSPEND_OK_EMPTY,
	VMEM_SUSPEND_REFUSE,
};

enum vmem_suspend vmem_suspend_decide(bool persistent, u64 plugged);

#endif /* _VMEM_LIFECYCLE_H */
