// SPDX-License-Identifier: GPL-2.0
/*
 * Suspend, hibernation and resume. The decisions are pure
 * (vmem_pm_decide(), vmem_lifecycle.c); this file asks them at the right
 * moments:
 *  - hibernation and restore, through a PM notifier, before anything is
 *    frozen: a hibernated VM boots anew with nothing plugged, so both are
 *    refused while memory is plugged;
 *  - suspend, in the freeze callback: suspend-to-idle keeps the VM
 *    powered and goes ahead; suspend to RAM only with nothing plugged or
 *    with PERSISTENT_SUSPEND.
 */
#include <linux/suspend.h>
#include <linux/virtio.h>
#include <linux/virtio_config.h>

#include "../include/vmem_compat.h"
#include "../include/vmem_dev.h"

static const char * const vmem_pm_names[] = {
	[VMEM_PM_SUSPEND] = "suspend",
	[VMEM_PM_SUSPEND_TO_IDLE] = "suspend-to-idle",
	[VMEM_PM_HIBERNATE] = "hibernation",
	[VMEM_PM_RESTORE] = "restore from hibernation",
};

/* The books' plugged bytes; nothing when not resizing. */
static u64 vmem_pm_plugged(struct vmem_dev *vm)
{
	struct vmem_status st;

	if (!vm->engine)
		return 0;
	vmem_engine_status(vm->engine, &st);
	return st.plugged;
}

static bool vmem_pm_allowed(struct vmem_dev *vm, enum vmem_pm_event ev)
{
	bool persistent = virtio_has_feature(vm->vdev,
					     VIRTIO_MEM_F_PERSISTENT_SUSPEND);
	u64 plugged = vmem_pm_plugged(vm);

	if (vmem_pm_decide(ev, persistent, plugged) != VMEM_PM_REFUSE)
		return true;
	dev_err(&vm->vdev->dev, "%s refused: %llu bytes plugged, which %s\n",
		vmem_pm_names[ev], plugged,
		ev == VMEM_PM_SUSPEND ?
		"the device does not keep across suspend (no PERSISTENT_SUSPEND)" :
		"a VM booted anew does not have");
	return false;
}

static int vmem_pm_notifier(struct notifier_block *nb, unsigned long action,
			    void *unused)
{
	struct vmem_dev *vm = container_of(nb, struct vmem_dev, pm_nb);

	switch (action) {
	case PM_HIBERNATION_PREPARE:
		return vmem_pm_allowed(vm, VMEM_PM_HIBERNATE) ? NOTIFY_OK :
								NOTIFY_BAD;
	case PM_RESTORE_PREPARE:
		return vmem_pm_allowed(vm, VMEM_PM_RESTORE) ? NOTIFY_OK :
							      NOTIFY_BAD;
	default:
		return NOTIFY_DONE;
	}
}

int vmem_pm_init(struct vmem_dev *vm)
{
	vm->pm_nb.notifier_call = vmem_pm_notifier;
	return register_pm_notifier(&vm->pm_nb);
}

void vmem_pm_exit(struct vmem_dev *vm)
{
	unregister_pm_notifier(&vm->pm_nb);
}

#ifdef CONFIG_PM_SLEEP
/*
 * The freeze callback, for suspend (and for the freeze of a hibernation
 * the notifier let through: nothing plugged then). The works are frozen
 * already (system_freezable_wq); the device is reset and its queue goes.
 */
int vmem_freeze(struct virtio_device *vdev)
{
	struct vmem_dev *vm = vdev->priv;
	enum vmem_pm_event ev = pm_suspend_target_state == PM_SUSPEND_TO_IDLE ?
				VMEM_PM_SUSPEND_TO_IDLE : VMEM_PM_SUSPEND;

	if (!vmem_pm_allowed(vm, ev))
		return -EPERM;
	vmem_dev_stop(vm);
	virtio_reset_device(vdev);
	mutex_lock(&vm->req_lock);
	vdev->config->del_vqs(vdev);
	WRITE_ONCE(vm->vq, NULL);
	mutex_unlock(&vm->req_lock);
	return 0;
}

/*
 * The restore callback. A queue that cannot be set up again leaves the
 * device broken: no request is sent, and sysfs says so.
 */
int vmem_restore(struct virtio_device *vdev)
{
	struct vmem_dev *vm = vdev->priv;
	struct virtqueue *vq;

	vq = virtio_find_single_vq(vdev, vmem_vq_done, "guest-request");
	if (IS_ERR(vq)) {
		dev_err(&vdev->dev, "resume: cannot set up the request queue: %ld; the device stays unusable\n",
			PTR_ERR(vq));
		if (vm->engine)
			vmem_engine_mark_broken(vm->engine);
		return PTR_ERR(vq);
	}
	WRITE_ONCE(vm->vq, vq);
	virtio_device_ready(vdev);
	dev_info(&vdev->dev, "resumed: request queue set up again\n");
	if (!vm->engine)
		return 0;
	WRITE_ONCE(vm->ready, true);
	/* The host may have changed the config while we slept. */
	queue_work(system_freezable_wq, &vm->config_work);
	vmem_kick(vm, 0);
	return 0;
}
#endif
