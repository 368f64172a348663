// SPDX-License-Identifier: GPL-2.0
/*
 * KUnit sim: the virtio-mem device behind the engine's struct
 * vmem_device_ops. See vmem_sim.h.
 *
 * Replies follow the host's dialect. QEMU 7.2
 * (virtio_mem_state_change_request()): a request outside the usable
 * region, misaligned or of zero blocks gets ERROR; a plug that would take
 * plugged_size beyond requested_size gets NACK (Firecracker: ERROR); a
 * plug of a plugged block or an unplug of an unplugged one gets ERROR;
 * every request gets BUSY while a migration runs (QEMU only). UNPLUG_ALL
 * empties the device and, in QEMU, sets the usable region to
 * requested_size + 256 MiB (0 if nothing is requested), or to exactly
 * requested_size with usable_exact; Cloud Hypervisor's usable region is
 * the whole region. No dialect tells the driver about what UNPLUG_ALL
 * changed: the spec says the device sends no config notification then.
 */
#include <kunit/test.h>
#include <linux/bitmap.h>
#include <linux/kernel.h>
#include <linux/minmax.h>
#include <linux/sizes.h>
#include <linux/virtio_mem.h>

#include "vmem_sim.h"

/* QEMU's VIRTIO_MEM_USABLE_EXTENT on x86-64. */
#define SIM_USABLE_EXTENT	SZ_256M

/* Check a request's range against the spec; record what the driver broke. */
static bool sim_dev_range_ok(struct vmem_sim *sim, const char *what,
			     u64 addr, u16 nb)
{
	u64 bs = sim->p.e.block_size, end = addr + (u64)nb * bs;
	const char *why = !nb ? "nb_blocks 0" : addr % bs ? "misaligned" :
			  addr < sim->p.e.addr || end < addr ||
			  end > sim->p.e.addr + sim->usable ?
			  "outside the usable region" : NULL;

	if (why)
		vmem_sim_violation(sim, "%s(%#llx, %u): %s", what, addr, nb, why);
	return !why;
}

/* Whether a page of [@addr, @addr + @size) is Linux's or fresh. */
static bool sim_in_use(const struct vmem_sim *sim, u64 addr, u64 size)
{
	u64 lo = max(addr, sim->first_mb), g;
	u64 hi = min(addr + size, vmem_sim_mb_addr(sim, sim->nr_mbs));

	for (g = vmem_sim_gran(sim, lo); lo < hi && g < sim->nr_grans &&
	     vmem_sim_gran_addr(sim, g) < hi; g++)
		if (sim->gst[g] == VMEM_G_LINUX ||
		    sim->gst[g] == VMEM_G_FRESH)
			return true;
	return false;
}

static bool sim_moving_at(const struct vmem_sim *sim, u64 addr)
{
	s64 mb = vmem_sim_mb_of(sim, addr);

	return mb >= 0 && test_bit((addr - sim->first_mb) /
				   sim->p.e.lmb_size, sim->moving);
}

static int sim_dev_request(struct vmem_sim *sim, enum vmem_sim_op op,
			   u64 addr, u16 nb, u16 *state)
{
	u64 idx = sim->calls[VMEM_SIM_REQ]++, opidx = sim->calls[op]++;
	const char *what = vmem_sim_op_name(op);
	u64 bs = sim->p.e.block_size, size = nb * bs;
	bool valid = sim_dev_range_ok(sim, what, addr, nb), any = false;
	bool all = false;
	s64 mb = vmem_sim_mb_of(sim, addr);
	int ret;

	if (sim->req_hook)
		sim->req_hook(sim, op, addr);

	if (valid && op != VMEM_SIM_STATE && sim_moving_at(sim, addr))
		vmem_sim_violation(sim, "%s(%#llx, %u): the block is in an online/offline move",
				   what, addr, nb);
	if (valid) {
		any = vmem_sim_dev_plugged(sim, addr, size, false);
		all = vmem_sim_dev_plugged(sim, addr, size, true);
		if (op == VMEM_SIM_PLUG && any)
			vmem_sim_violation(sim, "plug(%#llx, %u): plugged already",
					   addr, nb);
		if (op == VMEM_SIM_UNPLUG && !all)
			vmem_sim_violation(sim, "unplug(%#llx, %u): not plugged",
					   addr, nb);
		if (op == VMEM_SIM_UNPLUG && sim_in_use(sim, addr, size))
			vmem_sim_violation(sim, "unplug(%#llx, %u): memory in use",
					   addr, nb);
		if (op == VMEM_SIM_UNPLUG && mb >= 0 &&
		    test_bit(mb, sim->added) &&
		    addr < vmem_sim_mb_addr(sim, mb) +
		    vmem_sim_memmap_bytes(sim, mb))
			vmem_sim_violation(sim, "unplug(%#llx, %u): the memmap of an added block",
					   addr, nb);
	}
	if (vmem_sim_fault(sim, VMEM_SIM_REQ, idx, mb, &ret) ||
	    vmem_sim_fault(sim, op, opidx, mb, &ret)) {
		sim->invalid_replies += ret > VIRTIO_MEM_RESP_ERROR;
		sim->error_replies += ret == VIRTIO_MEM_RESP_ERROR;
		return ret;
	}
	if (sim->migrating && sim->p.dialect == VMEM_SIM_QEMU)
		return VIRTIO_MEM_RESP_BUSY;
	if (!valid) {
		sim->error_replies++;
		return VIRTIO_MEM_RESP_ERROR;
	}
	if (op == VMEM_SIM_STATE) {
		*state = !any ? VIRTIO_MEM_STATE_UNPLUGGED :
		       all ? VIRTIO_MEM_STATE_PLUGGED : VIRTIO_MEM_STATE_MIXED;
		return VIRTIO_MEM_RESP_ACK;
	}
	if (op == VMEM_SIM_PLUG && sim->plugged_size + size > sim->requested) {
		if (sim->p.dialect != VMEM_SIM_FIRECRACKER)
			return VIRTIO_MEM_RESP_NACK;
		sim->error_replies++;
		return VIRTIO_MEM_RESP_ERROR;
	}
	if (op == VMEM_SIM_PLUG ? any : !all) {
		sim->error_replies++;
		return VIRTIO_MEM_RESP_ERROR;
	}
	if (op == VMEM_SIM_PLUG)
		bitmap_set(sim->dev_plugged, vmem_sim_block(sim, addr), nb);
	else
		bitmap_clear(sim->dev_plugged, vmem_sim_block(sim, addr), nb);
	sim->plugged_size += op == VMEM_SIM_PLUG ? size : -size;
	sim->max_plugged = max(sim->max_plugged, sim->plugged_size);
	return VIRTIO_MEM_RESP_ACK;
}

static int sim_dev_plug(void *priv, u64 addr, u16 nb_blocks)
{
	return sim_dev_request(priv, VMEM_SIM_PLUG, addr, nb_blocks, NULL);
}

static int sim_dev_unplug(void *priv, u64 addr, u16 nb_blocks)
{
	return sim_dev_request(priv, VMEM_SIM_UNPLUG, addr, nb_blocks, NULL);
}

static int sim_dev_state(void *priv, u64 addr, u16 nb_blocks, u16 *state)
{
	return sim_dev_request(priv, VMEM_SIM_STATE, addr, nb_blocks, state);
}

static int sim_dev_unplug_all(void *priv)
{
	struct vmem_sim *sim = priv;
	u64 idx = sim->calls[VMEM_SIM_REQ]++;
	u64 opidx = sim->calls[VMEM_SIM_UNPLUG_ALL]++;
	u64 g, usable = 0;
	int ret;

	if (sim->req_hook)
		sim->req_hook(sim, VMEM_SIM_UNPLUG_ALL, 0);

	for (g = 0; g < sim->nr_grans; g++)
		if (sim->gst[g] == VMEM_G_LINUX ||
		    sim->gst[g] == VMEM_G_FRESH) {
			vmem_sim_violation(sim, "unplug_all with memory in the page allocator");
			break;
		}
	if (vmem_sim_fault(sim, VMEM_SIM_REQ, idx, VMEM_SIM_NO_MB, &ret) ||
	    vmem_sim_fault(sim, VMEM_SIM_UNPLUG_ALL, opidx, VMEM_SIM_NO_MB,
			   &ret)) {
		sim->invalid_replies += ret > VIRTIO_MEM_RESP_ERROR;
		return ret;
	}
	if (sim->migrating && sim->p.dialect == VMEM_SIM_QEMU)
		return VIRTIO_MEM_RESP_BUSY;
	bitmap_zero(sim->dev_plugged, sim->nr_blocks);
	sim->plugged_size = 0;
	if (sim->p.dialect == VMEM_SIM_CLOUD_HV)
		usable = sim->p.e.region_size;
	else if (sim->requested)
		usable = min(sim->p.e.region_size,
			     round_up(sim->requested +
				      (sim->p.usable_exact ? 0 :
				       SIM_USABLE_EXTENT),
				      sim->p.e.block_size));
	/* No notification: the driver must read the config itself. */
	sim->usable = usable;
	return VIRTIO_MEM_RESP_ACK;
}

/**
 * vmem_sim_pass_config() - hand the device's config to the engine
 * @sim: the sim
 *
 * As the glue does after a config notification, or when the engine asks
 * (reread_config). The device never adopts what the engine keeps: a
 * usable region that cuts plugged memory stays as the device set it.
 */
void vmem_sim_pass_config(struct vmem_sim *sim)
{
	if (vmem_engine_set_config(sim->e, sim->requested, sim->usable))
		sim->cfg_cut++;
	sim->cfg_requested = sim->requested;
	sim->cfg_usable = sim->usable;
}

static void sim_dev_reread_config(void *priv)
{
	vmem_sim_pass_config(priv);
}

const struct vmem_device_ops vmem_sim_dev_ops = {
	.plug = sim_dev_plug,
	.unplug = sim_dev_unplug,
	.unplug_all = sim_dev_unplug_all,
	.state = sim_dev_state,
	.reread_config = sim_dev_reread_config,
};
