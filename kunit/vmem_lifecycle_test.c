// SPDX-License-Identifier: GPL-2.0
/*
 * KUnit: the crash-kernel answers and the suspend decision
 * (vmem_lifecycle.c), against the simulated device of vmem_sim.c.
 */
#include <kunit/test.h>
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
		       .offline_threshold = SZ_1G, .unplug_online = true },
		.usable = REGION,
		.auto_online = VMEM_ZONE_MOVABLE,
	};
	struct vmem_sim *sim;
	bool ok = true;
	int rc;

	sim = vmem_sim_create(&p, &rc);
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

	vmem_kdump_init(&k, BASE, REGION, SZ_2M, &vmem_sim_dev_ops, sim);

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
	vmem_sim_destroy(sim);
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
	vmem_kdump_init(&k, BASE, REGION, SZ_2M, &vmem_sim_dev_ops, sim);
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
	vmem_sim_destroy(sim);
}

static void vmem_suspend_decide_test(struct kunit *test)
{
	KUNIT_EXPECT_EQ(test, vmem_suspend_decide(true, SZ_1G),
			VMEM_SUSPEND_OK_PERSISTENT);
	KUNIT_EXPECT_EQ(test, vmem_suspend_decide(true, 0),
			VMEM_SUSPEND_OK_PERSISTENT);
	KUNIT_EXPECT_EQ(test, vmem_suspend_decide(false, 0),
			VMEM_SUSPEND_OK_EMPTY);
	KUNIT_EXPECT_EQ(test, vmem_suspend_decide(false, SZ_2M),
			VMEM_SUSPEND_REFUSE);
	KUNIT_EXPECT_EQ(test, vmem_suspend_decide(false, SZ_1G),
			VMEM_SUSPEND_REFUSE);
}

static struct kunit_case vmem_lifecycle_cases[] = {
	KUNIT_CASE(vmem_kdump_answers_test),
	KUNIT_CASE(vmem_kdump_failures_test),
	KUNIT_CASE(vmem_suspend_decide_test),
	{}
};

static struct kunit_suite vmem_lifecycle_suite = {
	.name = "virtio_mem_lifecycle",
	.test_cases = vmem_lifecycle_cases,
};

kunit_test_suite(vmem_lifecycle_suite);
