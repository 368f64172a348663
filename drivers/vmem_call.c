// SPDX-License-Identifier: GPL-2.0
/*
 * Device requests, as the engine sends them: one helper that calls the
 * device, counts the request, maps the reply to an errno, records a
 * failure and marks the device broken when it broke the protocol. The
 * planning, the run loop and the self-check all go through it.
 *
 * Device reply -> errno -> what the engine does (the one table of it):
 *
 *  reply      errno      engine
 *  ACK        0          books updated; go on
 *  NACK       -EAGAIN    retry with backoff (host refuses for now, e.g. a
 *                        plug beyond requested_size; a config change
 *                        usually follows and restarts planning)
 *  BUSY       -EBUSY     retry with backoff (migration, preallocation)
 *  ERROR      -EREMOTEIO retry with backoff. Firecracker answers ERROR to
 *                        a plug beyond requested_size and Cloud Hypervisor
 *                        to a failed discard, so ERROR does not mean
 *                        "broken" here; the books are not changed. After
 *                        VMEM_REFUSED_AFTER in a row for one block, the
 *                        engine leaves that block until the target changes.
 *  any other  -EPROTO    the device is broken: no further request
 *  bad buffer -EPROTO    the same: a reply too short or not ours, or a
 *                        virtqueue the virtio core found broken
 *  no reply   -errno     retry with backoff (transport failure)
 */
#include <linux/errno.h>
#include <linux/lockdep.h>
#include <linux/virtio_mem.h>

#include "vmem_engine_internal.h"

/**
 * vmem_resp_to_errno() - map a device reply type to an errno
 * @resp: VIRTIO_MEM_RESP_*, or a negative errno if no reply came
 *
 * See the table at the top of this file.
 *
 * Return: 0 for ACK, a negative errno otherwise.
 */
int vmem_resp_to_errno(int resp)
{
	if (resp < 0)
		return resp;
	switch (resp) {
	case VIRTIO_MEM_RESP_ACK:
		return 0;
	case VIRTIO_MEM_RESP_NACK:
		return -EAGAIN;
	case VIRTIO_MEM_RESP_BUSY:
		return -EBUSY;
	case VIRTIO_MEM_RESP_ERROR:
		return -EREMOTEIO;
	default:
		return -EPROTO;
	}
}

static const enum vmem_what vmem_call_what[] = {
	[VIRTIO_MEM_REQ_PLUG] = VMEM_WHAT_PLUG,
	[VIRTIO_MEM_REQ_UNPLUG] = VMEM_WHAT_UNPLUG,
	[VIRTIO_MEM_REQ_UNPLUG_ALL] = VMEM_WHAT_UNPLUG_ALL,
	[VIRTIO_MEM_REQ_STATE] = VMEM_WHAT_STATE,
};

/**
 * vmem_call() - send one request to the device
 * @e: the engine, e->lock held (one request at a time, and the books
 *	follow the replies)
 * @type: VIRTIO_MEM_REQ_*
 * @addr: first byte (PLUG, UNPLUG, STATE)
 * @nb_blocks: device blocks (PLUG, UNPLUG, STATE)
 * @state: where a STATE reply's state goes (STATE only)
 *
 * Return: 0 for ACK, or the errno of the table above; a failure is
 * recorded as the last error, and -EPROTO marks the device broken.
 */
int vmem_call(struct vmem_engine *e, int type, u64 addr, u16 nb_blocks,
	      u16 *state)
{
	int resp;

	lockdep_assert_held(&e->lock);
	e->nr_requests++;
	switch (type) {
	case VIRTIO_MEM_REQ_PLUG:
		resp = e->dev->plug(e->dev_priv, addr, nb_blocks);
		break;
	case VIRTIO_MEM_REQ_UNPLUG:
		resp = e->dev->unplug(e->dev_priv, addr, nb_blocks);
		break;
	case VIRTIO_MEM_REQ_UNPLUG_ALL:
		resp = e->dev->unplug_all(e->dev_priv);
		break;
	default:
		resp = e->dev->state(e->dev_priv, addr, nb_blocks, state);
		break;
	}
	resp = vmem_resp_to_errno(resp);
	if (!resp)
		return 0;
	if (resp == -EPROTO)
		vmem_engine_mark_broken(e);
	return vmem_err(e, resp, vmem_call_what[type & 3]);
}
