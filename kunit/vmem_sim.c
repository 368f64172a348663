// SPDX-License-Identifier: GPL-2.0
/*
 * KUnit: the simulated virtio-mem device behind the resize engine, and
 * the sim's set-up and runs. The memory-hotplug layer is in
 * vmem_sim_mm.c, the invariant checker in vmem_sim_check.c; see
 * vmem_sim.h.
 *
 * Device replies follow QEMU 7.2 (virtio_mem_state_change_request()):
 * a request outside the usable region, misaligned or of zero blocks gets
 * ERROR; a plug that would take plugged_size beyond requested_size gets
 * NACK; a plug of a plugged block or an unplug of an unplugged one gets
 * ERROR; UNPLUG_ALL empties the device and sets the usable region to
 * requested_size + 256 MiB (0 if nothing is requested).
 */
#include <kunit/test.h>
#include <linux/bitmap.h>
#include <linux/sched.h>
#include <linux/kernel.h>
#include <linux/minmax.h>
#include <linux/mutex.h>
#include <linux/sizes.h>
#include <linux/slab.h>
#include <linux/virtio_mem.h>

#include "vmem_sim.h"

/* QEMU's VIRTIO_MEM_USABLE_EXTENT on x86-64. */
#define SIM_USABLE_EXTENT	SZ_256M

static const char * const sim_op_names[VMEM_SIM_NR_OPS] = {
	[VMEM_SIM_REQ] = "request",
	[VMEM_SIM_PLUG] = "plug",
	[VMEM_SIM_UNPLUG] = "unplug",
	[VMEM_SIM_UNPLUG_ALL] = "unplug_all",
	[VMEM_SIM_STATE] = "state",
	[VMEM_SIM_ADD] = "add",
	[VMEM_SIM_REMOVE] = "remove",
	[VMEM_SIM_OFFLINE_AND_REMOVE] = "offline_and_remove",
	[VMEM_SIM_FAKE_OFFLINE] = "fake_offline",
	[VMEM_SIM_FAKE_ONLINE] = "fake_online",
	[VMEM_SIM_ONLINE] = "online",
	[VMEM_SIM_OFFLINE] = "offline",
	[VMEM_SIM_KERNEL_MEM] = "kernel_mem",
};

const char *vmem_sim_op_name(enum vmem_sim_op op)
{
	return op < VMEM_SIM_NR_OPS ? sim_op_names[op] : "?";
}

__printf(2, 3) void vmem_sim_violation(struct vmem_sim *sim,
				       const char *fmt, ...)
{
	va_list args;

	if (sim->violations++)
		return;
	va_start(args, fmt);
	vsnprintf(sim->violation, sizeof(sim->violation), fmt, args);
	va_end(args);
}

/* Whether a fault hits call @idx of @op on memory block @mb. */
bool vmem_sim_fault(struct vmem_sim *sim, enum vmem_sim_op op, u64 idx,
		    s64 mb, int *ret)
{
	struct vmem_sim_fault *f;
	unsigned int i;

	for (i = 0; i < sim->nr_faults; i++) {
		f = &sim->faults[i];
		if (f->op != op || (f->hits && !f->sticky))
			continue;
		if (f->index != VMEM_SIM_ANY && (u64)f->index != idx)
			continue;
		if (f->mb != VMEM_SIM_ANY && f->mb != mb)
			continue;
		f->hits++;
		*ret = f->ret;
		return true;
	}
	return false;
}

int vmem_sim_add_fault(struct vmem_sim *sim, enum vmem_sim_op op, s64 index,
		       s64 mb, int ret, bool sticky)
{
	struct vmem_sim_fault *f = NULL;
	unsigned int i;

	/* Reuse the slot of a one-shot fault that hit already. */
	for (i = 0; i < sim->nr_faults && !f; i++)
		if (sim->faults[i].hits && !sim->faults[i].sticky)
			f = &sim->faults[i];
	if (!f) {
		if (sim->nr_faults == VMEM_SIM_MAX_FAULTS)
			return -ENOSPC;
		f = &sim->faults[sim->nr_faults++];
	}
	f->op = op;
	f->index = index;
	f->mb = mb;
	f->ret = ret;
	f->sticky = sticky;
	f->hits = 0;
	return 0;
}

/* The device. */

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

/* Whether memory of [@addr, @addr + @size) is in the buddy (in use). */
static bool sim_in_use(const struct vmem_sim *sim, u64 addr, u64 size)
{
	u64 lo = max(addr, sim->first_mb), g0, g1;
	u64 hi = min(addr + size, vmem_sim_mb_addr(sim, sim->nr_mbs));

	if (lo >= hi)
		return false;
	g0 = vmem_sim_gran(sim, lo);
	g1 = vmem_sim_gran(sim, hi - 1) + 1;
	return find_next_bit(sim->buddy, g1, g0) < g1;
}

static int sim_dev_request(struct vmem_sim *sim, enum vmem_sim_op op,
			   u64 addr, u16 nb, u16 *state)
{
	u64 idx = sim->calls[VMEM_SIM_REQ]++, opidx = sim->calls[op]++;
	const char *what = sim_op_names[op];
	u64 bs = sim->p.e.block_size, size = nb * bs;
	bool valid = sim_dev_range_ok(sim, what, addr, nb), any = false;
	bool all = false;
	s64 mb = vmem_sim_mb_of(sim, addr);
	int ret;

	if (valid && mb >= 0 && test_bit(mb, sim->moving))
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
	    vmem_sim_fault(sim, op, opidx, mb, &ret))
		return ret;
	if (!valid)
		return VIRTIO_MEM_RESP_ERROR;
	if (op == VMEM_SIM_STATE) {
		*state = !any ? VIRTIO_MEM_STATE_UNPLUGGED :
		       all ? VIRTIO_MEM_STATE_PLUGGED : VIRTIO_MEM_STATE_MIXED;
		return VIRTIO_MEM_RESP_ACK;
	}
	if (op == VMEM_SIM_PLUG && sim->plugged_size + nb * bs > sim->requested)
		return VIRTIO_MEM_RESP_NACK;
	if (op == VMEM_SIM_PLUG ? any : !all)
		return VIRTIO_MEM_RESP_ERROR;
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
	u64 usable = 0;
	int ret;

	if (!bitmap_empty(sim->buddy, sim->nr_grans))
		vmem_sim_violation(sim, "unplug_all with memory in the page allocator");
	if (vmem_sim_fault(sim, VMEM_SIM_REQ, idx, VMEM_SIM_NO_MB, &ret) ||
	    vmem_sim_fault(sim, VMEM_SIM_UNPLUG_ALL, opidx, VMEM_SIM_NO_MB, &ret))
		return ret;
	bitmap_zero(sim->dev_plugged, sim->nr_blocks);
	sim->plugged_size = 0;
	if (sim->requested)
		usable = min(sim->p.e.region_size,
			     round_up(sim->requested + SIM_USABLE_EXTENT,
				      sim->p.e.block_size));
	if (usable != sim->usable) {
		sim->usable = usable;
		sim->cfg_pending = true;
	}
	return VIRTIO_MEM_RESP_ACK;
}

const struct vmem_device_ops vmem_sim_dev_ops = {
	.plug = sim_dev_plug,
	.unplug = sim_dev_unplug,
	.unplug_all = sim_dev_unplug_all,
	.state = sim_dev_state,
};

/* Set-up, runs and checks. */

/* Pass the device's config to the engine, as the config-change work does. */
static void sim_pass_config(struct vmem_sim *sim)
{
	mutex_lock(&sim->e.lock);
	if (vmem_engine_set_config(&sim->e, sim->requested, sim->usable)) {
		/*
		 * The usable region cut plugged subblocks: the engine keeps
		 * them usable, and so does this device from now on.
		 */
		sim->usable = sim->e.usable;
		sim->cfg_cut++;
	}
	mutex_unlock(&sim->e.lock);
	sim->cfg_requested = sim->requested;
	sim->cfg_usable = sim->usable;
	sim->cfg_pending = false;
}

/*
 * A simulated device and machine and an engine on them: kzalloc'd, free
 * with vmem_sim_destroy(). NULL on failure, with vmem_engine_init()'s
 * error (or -ENOMEM) in *@rc.
 */
struct vmem_sim *vmem_sim_create(const struct vmem_sim_params *p, int *rc)
{
	u64 mbs = p->e.mb_size, end;
	struct vmem_sim *sim;

	sim = kzalloc(sizeof(*sim), GFP_KERNEL);
	if (!sim) {
		*rc = -ENOMEM;
		return NULL;
	}
	sim->p = *p;
	*rc = vmem_engine_init(&sim->e, &p->e, &vmem_sim_dev_ops, sim,
			       &vmem_sim_mm_ops, sim);
	if (*rc) {
		kfree(sim);
		return NULL;
	}
	/* By division: the sim assumes no power of two. */
	sim->first_mb = (p->e.addr + mbs - 1) / mbs * mbs;
	end = (p->e.addr + p->e.region_size) / mbs * mbs;
	sim->nr_mbs = end > sim->first_mb ? (end - sim->first_mb) / mbs : 0;
	sim->nr_blocks = p->e.region_size / p->e.block_size;
	sim->nr_grans = sim->nr_mbs * (mbs / p->e.sb_size);
	sim->dev_plugged = bitmap_zalloc(sim->nr_blocks ?: 1, GFP_KERNEL);
	sim->buddy = bitmap_zalloc(sim->nr_grans ?: 1, GFP_KERNEL);
	sim->pinned = bitmap_zalloc(sim->nr_grans ?: 1, GFP_KERNEL);
	sim->added = bitmap_zalloc(sim->nr_mbs ?: 1, GFP_KERNEL);
	sim->moving = bitmap_zalloc(sim->nr_mbs ?: 1, GFP_KERNEL);
	sim->zone = kcalloc(sim->nr_mbs ?: 1, sizeof(*sim->zone), GFP_KERNEL);
	sim->moving_to = kcalloc(sim->nr_mbs ?: 1, 1, GFP_KERNEL);
	sim->mb_memmap = bitmap_zalloc(sim->nr_mbs ?: 1, GFP_KERNEL);
	if (!sim->dev_plugged || !sim->buddy || !sim->pinned || !sim->added ||
	    !sim->moving || !sim->zone || !sim->moving_to || !sim->mb_memmap) {
		vmem_sim_destroy(sim);
		*rc = -ENOMEM;
		return NULL;
	}
	sim->auto_online = p->auto_online;
	sim->admin_zone = VMEM_ZONE_MOVABLE;
	sim->memmap_ok = p->memmap_ok;
	sim->kmem_avail = p->kmem_avail ?: VMEM_SIM_KMEM_PLENTY;
	sim->kmem_managed = p->kmem_managed ?: sim->kmem_avail;
	sim->kmem_min = sim->kmem_avail;
	sim->requested = p->requested;
	sim->usable = p->usable;
	sim_pass_config(sim);
	return sim;
}

void vmem_sim_destroy(struct vmem_sim *sim)
{
	if (!sim)
		return;
	vmem_engine_destroy(&sim->e);
	bitmap_free(sim->dev_plugged);
	bitmap_free(sim->buddy);
	bitmap_free(sim->pinned);
	bitmap_free(sim->added);
	bitmap_free(sim->moving);
	kfree(sim->zone);
	kfree(sim->moving_to);
	bitmap_free(sim->mb_memmap);
	kfree(sim);
}

/* A config change at the device, passed to the engine at once. */
void vmem_sim_set_config(struct vmem_sim *sim, u64 requested, u64 usable)
{
	sim->requested = requested;
	sim->usable = usable;
	sim_pass_config(sim);
}

/* One engine run, as the resize work does it. */
enum vmem_run_result vmem_sim_run(struct vmem_sim *sim)
{
	enum vmem_run_result res;

	/*
	 * The suites run for minutes under KASAN on TCG: let others run
	 * (a kernel without preemption reported RCU stalls otherwise).
	 */
	cond_resched();
	if (sim->cfg_pending)
		sim_pass_config(sim);
	mutex_lock(&sim->e.lock);
	res = vmem_engine_run(&sim->e);
	if (mutex_is_locked(&sim->e.lock))
		mutex_unlock(&sim->e.lock);
	else
		vmem_sim_violation(sim, "vmem_engine_run() returned without the engine lock");
	sim->last = res;
	sim->nr_runs++;
	return res;
}

/*
 * Run and check until DONE or BROKEN, as the retry timer would, at most
 * @max_runs times; *@ok becomes false if a check failed. When the engine
 * waits for onlining, the admin onlines the offline blocks (admin_zone).
 * Returns the last result.
 */
enum vmem_run_result vmem_sim_settle(struct kunit *test,
				     struct vmem_sim *sim,
				     unsigned int max_runs, bool *ok)
{
	enum vmem_run_result res = VMEM_RUN_RETRY;
	unsigned int i;

	for (i = 0; i < max_runs; i++) {
		res = vmem_sim_run(sim);
		if (!vmem_sim_check(test, &sim->e, sim)) {
			*ok = false;
			break;
		}
		if (res == VMEM_RUN_DONE || res == VMEM_RUN_BROKEN)
			break;
		if (res == VMEM_RUN_WAIT_ONLINE)
			vmem_sim_online_all(sim, sim->admin_zone);
	}
	return res;
}
