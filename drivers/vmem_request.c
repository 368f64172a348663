// SPDX-License-Identifier: GPL-2.0
/*
 * Device requests over the virtqueue: struct vmem_device_ops for the
 * engine. One request is in flight at a time (req_lock); the caller sleeps
 * until the device returns the buffer. Replies are returned unvalidated;
 * the engine maps them (vmem_resp_to_errno()). A device that breaks the
 * ring (a used buffer that was never made available, say) gets the
 * virtqueue marked broken by the virtio core: the waiting request ends
 * with -EPROTO, and the engine stops using the device.
 */
#include <linux/scatterlist.h>
#include <linux/virtio.h>
#include <linux/virtio_config.h>

#include "../include/vmem_dev.h"
#include "../include/vmem_trace.h"

void vmem_vq_done(struct virtqueue *vq)
{
	struct vmem_dev *vm = vq->vdev->priv;

	wake_up(&vm->resp_wq);
}

/*
 * Send one request and wait for its reply. @bytes: what an ACK plugs or
 * unplugs, for the counters. Returns the reply type, or a negative errno.
 */
static int vmem_send(struct vmem_dev *vm, u16 type, u64 addr, u16 nb_blocks,
		     u64 bytes, u16 *state)
{
	struct virtio_device *vdev = vm->vdev;
	struct scatterlist sg_req, sg_resp, *sgs[2] = { &sg_req, &sg_resp };
	unsigned int len = 0;
	void *buf;
	int rc;

	mutex_lock(&vm->req_lock);
	memset(&vm->req, 0, sizeof(vm->req));
	vm->req.type = cpu_to_virtio16(vdev, type);
	/* plug, unplug and state share one layout */
	vm->req.u.plug.addr = cpu_to_virtio64(vdev, addr);
	vm->req.u.plug.nb_blocks = cpu_to_virtio16(vdev, nb_blocks);
	memset(&vm->resp, 0xff, sizeof(vm->resp));
	sg_init_one(&sg_req, &vm->req, sizeof(vm->req));
	sg_init_one(&sg_resp, &vm->resp, sizeof(vm->resp));

	trace_virtio_mem_request(dev_name(&vdev->dev), type, addr, nb_blocks);
	rc = virtqueue_add_sgs(vm->vq, sgs, 1, 1, vm, GFP_KERNEL);
	if (rc)
		goto out;
	virtqueue_kick(vm->vq);
	wait_event(vm->resp_wq, (buf = virtqueue_get_buf(vm->vq, &len)) ||
		   virtqueue_is_broken(vm->vq));
	if (!buf) {
		dev_warn_ratelimited(&vdev->dev, "request queue broken, request type %u without reply\n",
				     type);
		rc = -EPROTO;
		goto out;
	}
	if (buf != vm || len < sizeof(vm->resp.type)) {
		dev_warn_ratelimited(&vdev->dev,
				     "bad reply: buffer %p, length %u\n",
				     buf, len);
		rc = -EPROTO;
		goto out;
	}
	rc = virtio16_to_cpu(vdev, vm->resp.type);
	if (state)
		*state = virtio16_to_cpu(vdev, vm->resp.u.state.state);
out:
	trace_virtio_mem_reply(dev_name(&vdev->dev), type, addr, nb_blocks, rc,
			       state && rc >= 0 ? *state : 0);
	mutex_unlock(&vm->req_lock);
	vmem_stats_reply(vm, type, bytes, rc);
	return rc;
}

static u64 vmem_bytes(struct vmem_dev *vm, u16 nb_blocks)
{
	return (u64)nb_blocks * vm->engine.p.block_size;
}

static int vmem_plug(void *priv, u64 addr, u16 nb_blocks)
{
	return vmem_send(priv, VIRTIO_MEM_REQ_PLUG, addr, nb_blocks,
			 vmem_bytes(priv, nb_blocks), NULL);
}

static int vmem_unplug(void *priv, u64 addr, u16 nb_blocks)
{
	return vmem_send(priv, VIRTIO_MEM_REQ_UNPLUG, addr, nb_blocks,
			 vmem_bytes(priv, nb_blocks), NULL);
}

/* Counts what the device had plugged just before as unplugged. */
static int vmem_unplug_all(void *priv)
{
	struct vmem_dev *vm = priv;
	u64 plugged;

	virtio_cread_le(vm->vdev, struct virtio_mem_config, plugged_size,
			&plugged);
	return vmem_send(vm, VIRTIO_MEM_REQ_UNPLUG_ALL, 0, 0, plugged, NULL);
}

static int vmem_state(void *priv, u64 addr, u16 nb_blocks, u16 *state)
{
	return vmem_send(priv, VIRTIO_MEM_REQ_STATE, addr, nb_blocks, 0,
			 state);
}

const struct vmem_device_ops vmem_virtio_ops = {
	.plug = vmem_plug,
	.unplug = vmem_unplug,
	.unplug_all = vmem_unplug_all,
	.state = vmem_state,
};
