// SPDX-License-Identifier: GPL-2.0
/*
 * KUnit: the crash-kernel answers and the power-management decisions
 * (vmem_lifecycle.c), against the simulated device of vmem_sim.c.
 */
#include <kunit/test.h>
#include <linux/atomic.h>
#include <linux/completion.h>
#include <linux/kthread.h>
#include <linux/prandom.h>
#include <linux/sizes.h>
#include <linux/virtio_mem.h>

#include "../include/vmem_lifecycle.h"
#include "vmem_sim.h"

#define BASE		0x100000000ULL	/* 4 GiB */
#define REGION		SZ_1G
#define SEED		0x6b64756dULL

/* A device with 384 MiB plugged by the engine, in 2 MiB blocks. */
static struct vmem_sim *lc_sim(struct kunit *test)
{
	struct vmem_sim_params p = {
		.e = { .addr = BASE, .region_size = REGION,
		       .block_size = SZ_2M, .mb_size = SZ_128M,
		       .lmb_size = SZ_128M, .sb_size = SZ_2M,
		       .offline_threshold = SZ_1G },
		.unplug_online = true,
		.usable = REGION,
		.auto_online = VMEM_ZONE_MOVABLE,
	};
	struct vmem_sim *sim;
	bool ok = true;
	int rc;

	sim = vmem_sim_create(test, &p, &rc);
	KUNIT_ASSERT_NOT_NULL_MSG(test, sim, "vmem_sim_create(): %d", rc);
	strscpy(sim->desc, "lifecycle", sizeof(sim->desc));
	vmem_sim_set_config(sim, SZ_256M + SZ_128M, REGION);
	KUNIT_ASSERT_EQ(test, vmem_sim_settle(test, sim, 50, &ok),
			VMEM_RUN_DONE);
	KUNIT_ASSERT_TRUE(test, ok);
	/* Punch holes: unplugged blocks between plugged ones. */
	vmem_sim_set_config(sim, SZ_256M, REGION);
	KUNIT_ASSERT_EQ(test, vmem_sim_settle(test, sim, 50, &ok),
			VMEM_RUN_DONE);
	KUNIT_ASSERT_EQ(test, sim->plugged_size, (u64)SZ_256M);
	return sim;
}

/* Plugged at the device, by the sim's own bitmap. */
static bool lc_plugged(struct vmem_sim *sim, u64 paddr)
{
	return vmem_sim_dev_plugged(sim, round_down(paddr, SZ_2M), SZ_2M,
				    true);
}

static void vmem_kdump_answers_test(struct kunit *test)
{
	struct vmem_sim *sim = lc_sim(test);
	u64 plug0 = sim->calls[VMEM_SIM_PLUG];
	u64 unplug0 = sim->calls[VMEM_SIM_UNPLUG];
	u64 reqs, paddr, mismatches = 0, i;
	struct vmem_kdump k;
	struct rnd_state rnd;

	vmem_kdump_init(&k, BASE, REGION, SZ_2M, sim->plugged_size,
			&vmem_sim_dev_ops, sim);

	/* Outside the region: not ours, RAM; no request. */
	KUNIT_EXPECT_TRUE(test, vmem_kdump_is_ram(&k, BASE - PAGE_SIZE));
	KUNIT_EXPECT_TRUE(test, vmem_kdump_is_ram(&k, BASE + REGION));
	KUNIT_EXPECT_EQ(test, k.nr_requests, 0);

	/* Every page in address order, as /proc/vmcore reads. */
	reqs = sim->calls[VMEM_SIM_STATE];
	for (paddr = BASE; paddr < BASE + REGION; paddr += 64 * PAGE_SIZE)
		mismatches += vmem_kdump_is_ram(&k, paddr) !=
			      lc_plugged(sim, paddr);
	KUNIT_EXPECT_EQ(test, mismatches, 0);
	/* One STATE request per device block, thanks to the cache. */
	KUNIT_EXPECT_EQ(test, sim->calls[VMEM_SIM_STATE] - reqs,
			(u64)(REGION / SZ_2M));

	/* Random order: still right. */
	prandom_seed_state(&rnd, SEED);
	for (i = 0; i < 4000; i++) {
		paddr = BASE + (prandom_u32_state(&rnd) % (REGION / PAGE_SIZE)) *
			PAGE_SIZE;
		mismatches += vmem_kdump_is_ram(&k, paddr) !=
			      lc_plugged(sim, paddr);
	}
	KUNIT_EXPECT_EQ(test, mismatches, 0);
	kunit_info(test, "seed %#llx: %llu state requests, %llu pages asked",
		   SEED, k.nr_requests, (u64)(REGION / (64 * PAGE_SIZE) + 4000));

	/* The crash kernel never plugs or unplugs. */
	KUNIT_EXPECT_EQ(test, sim->calls[VMEM_SIM_PLUG], plug0);
	KUNIT_EXPECT_EQ(test, sim->calls[VMEM_SIM_UNPLUG], unplug0);
	KUNIT_EXPECT_EQ(test, sim->calls[VMEM_SIM_UNPLUG_ALL], 0);
}

/* No clear answer: skip the page (false), and ask again next time. */
static void vmem_kdump_failures_test(struct kunit *test)
{
	static const int replies[] = {
		VIRTIO_MEM_RESP_NACK, VIRTIO_MEM_RESP_BUSY,
		VIRTIO_MEM_RESP_ERROR, -EIO, 9 /* unknown */,
	};
	struct vmem_sim *sim = lc_sim(test);
	u64 plugged = BASE;	/* the first block is plugged */
	struct vmem_kdump k;
	unsigned int i;

	KUNIT_ASSERT_TRUE(test, lc_plugged(sim, plugged));
	vmem_kdump_init(&k, BASE, REGION, SZ_2M, sim->plugged_size,
			&vmem_sim_dev_ops, sim);
	for (i = 0; i < ARRAY_SIZE(replies); i++) {
		vmem_sim_add_fault(sim, VMEM_SIM_STATE, VMEM_SIM_ANY,
				   VMEM_SIM_ANY, replies[i], false);
		KUNIT_EXPECT_FALSE_MSG(test, vmem_kdump_is_ram(&k, plugged),
				       "reply %d", replies[i]);
		KUNIT_EXPECT_EQ(test, k.nr_failed, (u64)i + 1);
	}
	/* The device answers again: the block is read. */
	KUNIT_EXPECT_TRUE(test, vmem_kdump_is_ram(&k, plugged));
	KUNIT_EXPECT_TRUE(test, vmem_kdump_is_ram(&k, plugged + PAGE_SIZE));
	KUNIT_EXPECT_EQ(test, k.nr_requests, (u64)ARRAY_SIZE(replies) + 1);
}

/* Nothing plugged at probe: nothing of the region is RAM, and no request. */
static void vmem_kdump_empty_test(struct kunit *test)
{
	struct vmem_sim *sim = lc_sim(test);
	u64 reqs = sim->calls[VMEM_SIM_REQ], paddr;
	struct vmem_kdump k;

	vmem_kdump_init(&k, BASE, REGION, SZ_2M, 0, &vmem_sim_dev_ops, sim);
	for (paddr = BASE; paddr < BASE + REGION; paddr += SZ_2M)
		KUNIT_EXPECT_FALSE(test, vmem_kdump_is_ram(&k, paddr));
	KUNIT_EXPECT_TRUE(test, vmem_kdump_is_ram(&k, BASE + REGION));
	KUNIT_EXPECT_EQ(test, sim->calls[VMEM_SIM_REQ], reqs);
	KUNIT_EXPECT_EQ(test, k.nr_requests, 0);
}

static int lc_range(void *arg, u64 addr, u64 size)
{
	u64 *sum = arg;

	*sum += size;
	return 0;
}

/* The plugged ranges up front (6.14's get_device_ram). */
static void vmem_kdump_ranges_test(struct kunit *test)
{
	struct vmem_sim *sim = lc_sim(test);
	struct vmem_kdump k;
	u64 sum = 0;

	vmem_kdump_init(&k, BASE, REGION, SZ_2M, sim->plugged_size,
			&vmem_sim_dev_ops, sim);
	KUNIT_EXPECT_EQ(test, vmem_kdump_plugged_ranges(&k, lc_range, &sum),
			0);
	KUNIT_EXPECT_EQ(test, sum, sim->plugged_size);
}

/*
 * Two /proc/vmcore readers at once (they hold only SRCU): the second must
 * not reach the device while the first waits for its answer. The device
 * holds the first reader's STATE request until the second one has run
 * into the view's lock (or, without one, into the device).
 */
struct lc_race {
	struct vmem_kdump k;
	struct vmem_sim *sim;
	struct completion in_device, release, done[2];
	atomic_t inside;
	int max_inside;
	bool answer[2];
};

static struct lc_race *lc_race_of;

static int lc_state(void *priv, u64 addr, u16 nb, u16 *state)
{
	struct lc_race *r = lc_race_of;
	int n = atomic_inc_return(&r->inside), rc;

	r->max_inside = max(r->max_inside, n);
	complete(&r->in_device);
	wait_for_completion_timeout(&r->release, HZ);
	rc = vmem_sim_dev_ops.state(priv, addr, nb, state);
	atomic_dec(&r->inside);
	return rc;
}

static const struct vmem_device_ops lc_race_ops = {
	.state = lc_state,
};

static int lc_reader(void *arg)
{
	struct lc_race *r = lc_race_of;
	long i = (long)arg;

	r->answer[i] = vmem_kdump_is_ram(&r->k, BASE + i * SZ_128M);
	complete(&r->done[i]);
	return 0;
}

static void vmem_kdump_readers_test(struct kunit *test)
{
	struct lc_race *r = kunit_kzalloc(test, sizeof(*r), GFP_KERNEL);
	struct task_struct *t[2];
	long i;

	KUNIT_ASSERT_NOT_NULL(test, r);
	r->sim = lc_sim(test);
	lc_race_of = r;
	init_completion(&r->in_device);
	init_completion(&r->release);
	for (i = 0; i < 2; i++)
		init_completion(&r->done[i]);
	vmem_kdump_init(&r->k, BASE, REGION, SZ_2M, r->sim->plugged_size,
			&lc_race_ops, r->sim);
	t[0] = kthread_run(lc_reader, (void *)0L, "vmem-kdump-0");
	KUNIT_ASSERT_FALSE(test, IS_ERR(t[0]));
	wait_for_completion(&r->in_device);
	t[1] = kthread_run(lc_reader, (void *)1L, "vmem-kdump-1");
	KUNIT_ASSERT_FALSE(test, IS_ERR(t[1]));
	/* Give the second reader the chance to get in the way. */
	wait_for_completion_timeout(&r->done[1], HZ / 10);
	complete_all(&r->release);
	for (i = 0; i < 2; i++)
		wait_for_completion(&r->done[i]);
	KUNIT_EXPECT_EQ(test, r->max_inside, 1);
	for (i = 0; i < 2; i++)
		KUNIT_EXPECT_EQ(test, r->answer[i],
				lc_plugged(r->sim, BASE + i * SZ_128M));
	lc_race_of = NULL;
}

/*
 * The power-management decisions: a suspend that resets the VM loses
 * plugged memory unless the device keeps it; suspend-to-idle resets
 * nothing; hibernation and restore boot a VM anew, with nothing plugged.
 */
static void vmem_pm_decide_test(struct kunit *test)
{
	static const struct {
		enum vmem_pm_event ev;
		bool persistent;
		u64 plugged;
		enum vmem_pm_decision want;
	} cases[] = {
		{ VMEM_PM_SUSPEND, false, 0, VMEM_PM_OK_EMPTY },
		{ VMEM_PM_SUSPEND, false, SZ_2M, VMEM_PM_REFUSE },
		{ VMEM_PM_SUSPEND, true, SZ_1G, VMEM_PM_OK_PERSISTENT },
		{ VMEM_PM_SUSPEND_TO_IDLE, false, SZ_1G, VMEM_PM_OK_NO_RESET },
		{ VMEM_PM_SUSPEND_TO_IDLE, true, 0, VMEM_PM_OK_EMPTY },
		{ VMEM_PM_HIBERNATE, false, 0, VMEM_PM_OK_EMPTY },
		{ VMEM_PM_HIBERNATE, false, SZ_2M, VMEM_PM_REFUSE },
		{ VMEM_PM_HIBERNATE, true, SZ_1G, VMEM_PM_REFUSE },
		{ VMEM_PM_RESTORE, true, SZ_2M, VMEM_PM_REFUSE },
		{ VMEM_PM_RESTORE, false, 0, VMEM_PM_OK_EMPTY },
	};
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(cases); i++)
		KUNIT_EXPECT_EQ_MSG(test, vmem_pm_decide(cases[i].ev,
							 cases[i].persistent,
							 cases[i].plugged),
				    cases[i].want, "case %u", i);
}

static struct kunit_case vmem_lifecycle_cases[] = {
	KUNIT_CASE(vmem_kdump_answers_test),
	KUNIT_CASE(vmem_kdump_failures_test),
	KUNIT_CASE(vmem_kdump_empty_test),
	KUNIT_CASE(vmem_kdump_ranges_test),
	KUNIT_CASE(vmem_kdump_readers_test),
	KUNIT_CASE(vmem_pm_decide_test),
	{}
};

static struct kunit_suite vmem_lifecycle_suite = {
	.name = "virtio_mem_lifecycle",
	.test_cases = vmem_lifecycle_cases,
};

kunit_test_suite(vmem_lifecycle_suite);
