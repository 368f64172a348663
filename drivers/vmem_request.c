// SPDX-License-Identifier: GPL-2.0
/*
 * Device requests over the virtqueue: struct vmem_device_ops for the
 * engine. One request is in flight at a time (req_lock); the caller sleeps
 * until the device returns the buffer. Replies are returned unvalidated;
 * the engine maps them (vmem_call.c). A device that breaks the ring (a
 * used buffer that was never made available, say) gets the virtqueue
 * marked broken by the virtio core: the waiting request ends with
 * -EPROTO, and the engine stops using the device. A request the device
 * leaves unanswered for VMEM_STALL_MS is reported (retry_state, state,
 * last_error and the log) until the reply comes: a buffer the device
 * holds cannot be taken back.
 */
#include <linux/jiffies.h>
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

/* Wait for the reply to the request sent at @sent; req_lock held. */
static void *vmem_wait_reply(struct vmem_dev *vm, struct virtqueue *vq,
			     u16 type, unsigned long sent, unsigned int *len)
{
	bool stalled = false;
	void *buf = NULL;

	lockdep_assert_held(&vm->req_lock);
	while (!wait_event_timeout(vm->resp_wq,
				   (buf = virtqueue_get_buf(vq, len)) ||
				   virtqueue_is_broken(vq),
				   msecs_to_jiffies(VMEM_STALL_MS))) {
		if (stalled)
			continue;
		stalled = true;
		WRITE_ONCE(vm->stats.stall_type, type);
		WRITE_ONCE(vm->stats.stall_since, sent ?: 1);
		dev_warn(&vm->vdev->dev, "request type %u unanswered for %u s: waiting for the device\n",
			 type, (unsigned int)(VMEM_STALL_MS / MSEC_PER_SEC));
		vmem_notify_pollers(vm);
	}
	if (stalled) {
		WRITE_ONCE(vm->stats.stall_since, 0);
		dev_info(&vm->vdev->dev, "request type %u answered after %u s\n",
			 type, (unsigned int)(jiffies_to_msecs(jiffies - sent) /
					     MSEC_PER_SEC));
		vmem_notify_pollers(vm);
	}
	return buf;
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
	struct virtqueue *vq;
	unsigned int len = 0;
	void *buf;
	int rc;

	mutex_lock(&vm->req_lock);
	vq = READ_ONCE(vm->vq);
	if (!vq) {
		rc = -ENODEV;	/* suspended: the works are stopped */
		goto out;
	}
	memset(&vm->req, 0, sizeof(vm->req));
	vm->req.type = cpu_to_virtio16(vdev, type);
	/* plug, unplug and state share one layout */
	vm->req.u.plug.addr = cpu_to_virtio64(vdev, addr);
	vm->req.u.plug.nb_blocks = cpu_to_virtio16(vdev, nb_blocks);
	memset(&vm->resp, 0xff, sizeof(vm->resp));
	sg_init_one(&sg_req, &vm->req, sizeof(vm->req));
	sg_init_one(&sg_resp, &vm->resp, sizeof(vm->resp));

	trace_virtio_mem_request(dev_name(&vdev->dev), type, addr, nb_blocks);
	rc = virtqueue_add_sgs(vq, sgs, 1, 1, vm, GFP_KERNEL);
	if (rc) {
		/* -EIO: the core found the queue broken; it stays so. */
		if (rc == -EIO)
			rc = -EPROTO;
		dev_warn_ratelimited(&vdev->dev, "request type %u not queued: %d\n",
				     type, rc);
		goto out;
	}
	virtqueue_kick(vq);
	buf = vmem_wait_reply(vm, vq, type, jiffies, &len);
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
	return (u64)nb_blocks * vm->cfg.block_size;
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

/* The device announces no change an UNPLUG_ALL makes: read it now. */
static void vmem_reread_config(void *priv)
{
	vmem_config_update(priv);
}

const struct vmem_device_ops vmem_virtio_ops = {
	.plug = vmem_plug,
	.unplug = vmem_unplug,
	.unplug_all = vmem_unplug_all,
	.state = vmem_state,
	.reread_config = vmem_reread_config,
};
