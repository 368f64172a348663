// SPDX-License-Identifier: GPL-2.0
/*
 * KUnit sim: set-up and runs. The device is in vmem_sim_dev.c, the
 * memory-hotplug layer in vmem_sim_mm.c, the page model in
 * vmem_sim_pages.c, the invariants in vmem_sim_check.c; see vmem_sim.h.
 */
#include <kunit/resource.h>
#include <kunit/test.h>
#include <linux/bitmap.h>
#include <linux/sched.h>
#include <linux/kernel.h>
#include <linux/mutex.h>
#include <linux/slab.h>

#include "vmem_sim.h"

/* The sim's own memory: freed with the test, whatever way it ends. */
static void *sim_alloc(struct kunit *test, size_t n, size_t size)
{
	return kunit_kcalloc(test, n ?: 1, size, GFP_KERNEL);
}

static unsigned long *sim_bitmap(struct kunit *test, u64 bits)
{
	return sim_alloc(test, BITS_TO_LONGS(bits ?: 1), sizeof(long));
}

/* kunit resource: the engine goes with the test. */
static void sim_engine_free(struct kunit_resource *res)
{
	vmem_engine_destroy(res->data);
}

/**
 * vmem_sim_create() - a simulated device and machine, and an engine on them
 * @test: the test; everything is freed when it ends, even on a failed
 *	assertion
 * @p: the parameters
 * @rc: vmem_engine_create()'s error (or -ENOMEM) when NULL is returned
 *
 * Return: the sim, or NULL.
 */
struct vmem_sim *vmem_sim_create(struct kunit *test,
				 const struct vmem_sim_params *p, int *rc)
{
	u64 mbs = p->e.mb_size, end;
	struct vmem_sim *sim;

	sim = kunit_kzalloc(test, sizeof(*sim), GFP_KERNEL);
	if (!sim) {
		*rc = -ENOMEM;
		return NULL;
	}
	sim->p = *p;
	sim->e = vmem_engine_create(&p->e, &vmem_sim_dev_ops, sim,
				    &vmem_sim_mm_ops, sim, &vmem_sim_page_ops,
				    sim, rc);
	if (!sim->e)
		return NULL;
	if (!kunit_alloc_resource(test, NULL, sim_engine_free, GFP_KERNEL,
				  sim->e)) {
		vmem_engine_destroy(sim->e);
		*rc = -ENOMEM;
		return NULL;
	}
	/* By division: the sim assumes no power of two. */
	sim->first_mb = (p->e.addr + mbs - 1) / mbs * mbs;
	end = (p->e.addr + p->e.region_size) / mbs * mbs;
	sim->nr_mbs = end > sim->first_mb ? (end - sim->first_mb) / mbs : 0;
	sim->lmbs_per_mb = mbs / p->e.lmb_size;
	sim->nr_lmbs = sim->nr_mbs * sim->lmbs_per_mb;
	sim->gran = min(p->e.sb_size, p->e.lmb_size);
	sim->nr_blocks = p->e.region_size / p->e.block_size;
	sim->nr_grans = sim->nr_mbs * (mbs / sim->gran);
	sim->dev_plugged = sim_bitmap(test, sim->nr_blocks);
	sim->added = sim_bitmap(test, sim->nr_mbs);
	sim->mb_memmap = sim_bitmap(test, sim->nr_mbs);
	sim->zone = sim_alloc(test, sim->nr_lmbs, 1);
	sim->moving = sim_bitmap(test, sim->nr_lmbs);
	sim->moving_to = sim_alloc(test, sim->nr_lmbs, 1);
	sim->was_zone = sim_alloc(test, sim->nr_lmbs, 1);
	sim->ours_move = sim_bitmap(test, sim->nr_lmbs);
	sim->gst = sim_alloc(test, sim->nr_grans, 1);
	sim->noref = sim_bitmap(test, sim->nr_grans);
	sim->used = sim_bitmap(test, sim->nr_grans);
	sim->pinned = sim_bitmap(test, sim->nr_grans);
	sim->foreign = sim_bitmap(test, sim->nr_grans);
	if (!sim->dev_plugged || !sim->added || !sim->mb_memmap ||
	    !sim->zone || !sim->moving || !sim->moving_to || !sim->was_zone ||
	    !sim->ours_move || !sim->gst || !sim->noref || !sim->used ||
	    !sim->pinned || !sim->foreign) {
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
	vmem_sim_pass_config(sim);
	vmem_engine_set_unplug_online(sim->e, p->unplug_online);
	return sim;
}

/* A config change at the device, passed to the engine at once. */
void vmem_sim_set_config(struct vmem_sim *sim, u64 requested, u64 usable)
{
	sim->requested = requested;
	sim->usable = usable;
	vmem_sim_pass_config(sim);
}

void vmem_sim_set_unplug_online(struct vmem_sim *sim, bool on)
{
	sim->p.unplug_online = on;
	vmem_engine_set_unplug_online(sim->e, on);
}

/* One engine run, as the resize work does it. */
enum vmem_run_result vmem_sim_run(struct vmem_sim *sim)
{
	enum vmem_run_result res;
	unsigned int delay;

	/*
	 * The suites run for minutes under KASAN on TCG: let others run
	 * (a kernel without preemption reported RCU stalls otherwise).
	 */
	cond_resched();
	sim->errors_before = sim->e->nr_errors;
	res = vmem_engine_run(sim->e, &delay);
	if (mutex_is_locked(&sim->e->lock))
		vmem_sim_violation(sim, "vmem_engine_run() returned with the run lock held");
	if (delay != ((res == VMEM_RUN_RETRY || res == VMEM_RUN_WAIT_ONLINE) ?
		      sim->e->retry_ms : 0))
		vmem_sim_violation(sim, "run result %d with delay %u", res,
				   delay);
	sim->last = res;
	sim->nr_runs++;
	return res;
}

/*
 * Run and check until DONE, BROKEN or WAIT_CONFIG, as the retry timer
 * would, at most @max_runs times; *@ok becomes false if a check failed.
 * When the engine waits for onlining, the admin onlines the offline
 * blocks (admin_zone). Returns the last result.
 */
enum vmem_run_result vmem_sim_settle(struct kunit *test,
				     struct vmem_sim *sim,
				     unsigned int max_runs, bool *ok)
{
	enum vmem_run_result res = VMEM_RUN_RETRY;
	unsigned int i;

	for (i = 0; i < max_runs; i++) {
		res = vmem_sim_run(sim);
		if (!vmem_sim_check(test, sim)) {
			*ok = false;
			break;
		}
		if (res == VMEM_RUN_DONE || res == VMEM_RUN_BROKEN ||
		    res == VMEM_RUN_WAIT_CONFIG)
			break;
		if (res == VMEM_RUN_WAIT_ONLINE)
			vmem_sim_online_all(sim, sim->admin_zone);
	}
	return res;
}

/* What the engine failed at last, by name. */
const char *vmem_sim_what(const struct vmem_sim *sim)
{
	return vmem_what_name(sim->e->last_what);
}
