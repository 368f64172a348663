/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Every difference between the kernel versions the driver supports lives
 * here, and only here (6.1 is the baseline; see
 * Documentation/kernel-compat.rst for the list still to come).
 */
#ifndef _VMEM_COMPAT_H
#define _VMEM_COMPAT_H

#include <linux/virtio_mem.h>

/* Feature bit 2 reached the uapi header after 6.1. */
#ifndef VIRTIO_MEM_F_PERSISTENT_SUSPEND
#define VIRTIO_MEM_F_PERSISTENT_SUSPEND 2
#endif

#endif /* _VMEM_COMPAT_H */
