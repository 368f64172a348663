// SPDX-License-Identifier: GPL-2.0
/*
 * KUnit: a shrink under load (vmem_span.c). Every block holds used pages;
 * the engine must take the whole blocks it removes back in one go, the
 * cheapest run first, so that each used page is migrated once. The sim's
 * migrate_inside puts migrated pages where a top-down shrink goes next:
 * an engine taking block after block migrates them again.
 */
#include <kunit/test.h>
#include <linux/bitmap.h>
#include <linux/sizes.h>
#include <linux/virtio_mem.h>

#include "vmem_sim.h"
#include "vmem_test_util.h"

/* 1 GiB plugged in eight 128 MiB blocks, online movable. */
static struct vmem_sim *span_sim(struct kunit *test, const char *desc)
{
	struct vmem_sim_params p = vmem_test_params();
	struct vmem_sim *sim;
	bool ok = true;

	p.migrate_inside = true;
	sim = vmem_new(test, &p, desc);
	vmem_sim_set_config(sim, SZ_1G, SZ_1G);
	KUNIT_ASSERT_EQ(test, vmem_sim_settle(test, sim, MAX_RUNS, &ok),
			VMEM_RUN_DONE);
	KUNIT_ASSERT_TRUE(test, ok);
	return sim;
}

/* Mark @n of every @every granules of block @mb used. */
static void span_use(struct vmem_sim *sim, u64 mb, unsigned int every,
		     unsigned int n)
{
	u64 g, first = mb * vmem_sim_grans_per_lmb(sim);

	for (g = 0; g < vmem_sim_grans_per_lmb(sim); g++)
		if (g % every < n)
			vmem_sim_mark(sim, vmem_sim_gran_addr(sim, first + g),
				      sim->used, true);
}

/* Used granules in blocks of the region, in bytes. */
static u64 span_used(struct vmem_sim *sim, u64 mb, u64 nr)
{
	u64 g, n = 0, per = vmem_sim_grans_per_lmb(sim);

	for (g = mb * per; g < (mb + nr) * per; g++)
		n += test_bit(g, sim->used);
	return n * sim->gran;
}

/*
 * Half of every block used; shrink by half. Each used page of the four
 * blocks that go is migrated exactly once, by one take of all four.
 */
static void vmem_span_migrates_once_test(struct kunit *test)
{
	struct vmem_sim *sim = span_sim(test, "span: half used");
	u64 mb, before, takes, gives;
	bool ok = true;

	for (mb = 0; mb < 8; mb++)
		span_use(sim, mb, 2, 1);
	before = span_used(sim, 4, 4);
	takes = sim->calls[VMEM_SIM_FAKE_OFFLINE];
	gives = sim->calls[VMEM_SIM_FAKE_ONLINE];
	vmem_sim_set_config(sim, SZ_512M, SZ_1G);
	KUNIT_EXPECT_EQ(test, vmem_sim_settle(test, sim, MAX_RUNS, &ok),
			VMEM_RUN_DONE);
	KUNIT_EXPECT_TRUE(test, ok);
	KUNIT_EXPECT_EQ(test, sim->plugged_size, SZ_512M);
	KUNIT_EXPECT_EQ_MSG(test, sim->migrated, before,
			    "migrated %llu MiB for %llu MiB in use",
			    sim->migrated >> 20, before >> 20);
	KUNIT_EXPECT_EQ(test, sim->take_max, SZ_512M);
	/*
	 * One take, and nothing handed back: the run stays taken while its
	 * blocks go one by one (the transitions do not settle it).
	 */
	KUNIT_EXPECT_EQ(test, sim->calls[VMEM_SIM_FAKE_OFFLINE] - takes, 1ULL);
	KUNIT_EXPECT_EQ(test, sim->calls[VMEM_SIM_FAKE_ONLINE] - gives, 0ULL);
	/* Nothing was lost: what moved is in the blocks that stay. */
	KUNIT_EXPECT_EQ(test, span_used(sim, 0, 4), SZ_512M);
}

/*
 * Blocks 1 and 2 hold the fewest used pages: a shrink by two blocks
 * takes exactly those, whatever their address.
 */
static void vmem_span_cheapest_test(struct kunit *test)
{
	struct vmem_sim *sim = span_sim(test, "span: cheapest");
	bool ok = true;
	u64 mb, cheap;

	for (mb = 0; mb < 8; mb++)
		span_use(sim, mb, 8, mb == 1 || mb == 2 ? 1 : 6);
	cheap = span_used(sim, 1, 2);
	vmem_sim_set_config(sim, SZ_1G - SZ_256M, SZ_1G);
	KUNIT_EXPECT_EQ(test, vmem_sim_settle(test, sim, MAX_RUNS, &ok),
			VMEM_RUN_DONE);
	KUNIT_EXPECT_TRUE(test, ok);
	KUNIT_EXPECT_EQ(test, sim->plugged_size, SZ_1G - SZ_256M);
	for (mb = 0; mb < 8; mb++)
		KUNIT_EXPECT_EQ_MSG(test, test_bit(mb, sim->added),
				    mb != 1 && mb != 2, "block %llu", mb);
	KUNIT_EXPECT_EQ(test, sim->migrated, cheap);
}

/*
 * A page that does not migrate in the cheapest run: the take fails once,
 * and the shrink goes on block by block, to the target.
 */
static void vmem_span_fallback_test(struct kunit *test)
{
	struct vmem_sim *sim = span_sim(test, "span: pinned");
	/* A used granule: block 6 costs what the others cost. */
	u64 mb, pinned = 6 * vmem_sim_grans_per_lmb(sim) + 4;
	bool ok = true;

	for (mb = 0; mb < 8; mb++)
		span_use(sim, mb, 4, 1);
	vmem_sim_pin(sim, vmem_sim_gran_addr(sim, pinned), true);
	vmem_sim_set_config(sim, SZ_512M, SZ_1G);
	KUNIT_EXPECT_EQ(test, vmem_sim_settle(test, sim, MAX_RUNS, &ok),
			VMEM_RUN_DONE);
	KUNIT_EXPECT_TRUE(test, ok);
	KUNIT_EXPECT_EQ(test, sim->plugged_size, SZ_512M);
	KUNIT_EXPECT_TRUE(test, test_bit(6, sim->added));
	KUNIT_EXPECT_TRUE(test, sim->e->span_failed);
	/* The run was tried once: no more migration for nothing. */
	KUNIT_EXPECT_EQ(test, sim->takes_multi, 1ULL);
}

/* The host asks for 896 MiB while the first block of the run goes. */
static void span_rise_hook(struct vmem_sim *sim, enum vmem_sim_op op,
			   u64 addr)
{
	if (op != VMEM_SIM_UNPLUG || !sim->hook_priv)
		return;
	sim->hook_priv = NULL;
	vmem_sim_set_config(sim, SZ_1G - SZ_128M, SZ_1G);
}

/*
 * A run of four blocks is taken; while the first goes, the target rises
 * to what is left: the other three go back to Linux, and none of their
 * pages stays fake-offline. (No transition follows that would have the
 * books settle them.)
 */
static void vmem_span_target_rises_test(struct kunit *test)
{
	struct vmem_sim *sim = span_sim(test, "span: target rises");
	u64 g, lmb, withheld = 0;
	bool ok = true;

	for (g = 0; g < 8; g++)
		span_use(sim, g, 2, 1);
	sim->req_hook = span_rise_hook;
	sim->hook_priv = sim;
	vmem_sim_set_config(sim, SZ_512M, SZ_1G);
	KUNIT_EXPECT_EQ(test, vmem_sim_settle(test, sim, MAX_RUNS, &ok),
			VMEM_RUN_DONE);
	KUNIT_EXPECT_TRUE(test, ok);
	KUNIT_EXPECT_EQ(test, sim->plugged_size, SZ_1G - SZ_128M);
	KUNIT_EXPECT_EQ(test, sim->takes_multi, 1ULL);
	KUNIT_EXPECT_EQ(test, sim->e->span_nr, 0ULL);
	for (g = 0; g < sim->nr_grans; g++) {
		lmb = g / vmem_sim_grans_per_lmb(sim);
		if (vmem_sim_lmb_online(sim, lmb))
			withheld += sim->gst[g] != VMEM_G_LINUX;
	}
	KUNIT_EXPECT_EQ(test, withheld, 0ULL);
}

/*
 * The device answers BUSY to the unplug of the run's first block: what
 * is left of the run goes back to Linux before the run ends, and the
 * retry reaches the target.
 */
static void vmem_span_busy_test(struct kunit *test)
{
	struct vmem_sim *sim = span_sim(test, "span: busy");
	bool ok = true;

	vmem_sim_add_fault(sim, VMEM_SIM_UNPLUG, 0, VMEM_SIM_ANY,
			   VIRTIO_MEM_RESP_BUSY, false);
	vmem_sim_set_config(sim, SZ_512M, SZ_1G);
	KUNIT_EXPECT_EQ(test, vmem_sim_run(sim), VMEM_RUN_RETRY);
	KUNIT_EXPECT_TRUE(test, vmem_sim_check(test, sim));
	KUNIT_EXPECT_EQ(test, sim->e->span_nr, 0ULL);
	KUNIT_EXPECT_EQ(test, vmem_sim_settle(test, sim, MAX_RUNS, &ok),
			VMEM_RUN_DONE);
	KUNIT_EXPECT_TRUE(test, ok);
	KUNIT_EXPECT_EQ(test, sim->plugged_size, SZ_512M);
}

static struct kunit_case vmem_span_test_cases[] = {
	KUNIT_CASE(vmem_span_migrates_once_test),
	KUNIT_CASE(vmem_span_cheapest_test),
	KUNIT_CASE(vmem_span_fallback_test),
	KUNIT_CASE(vmem_span_target_rises_test),
	KUNIT_CASE(vmem_span_busy_test),
	{}
};

static struct kunit_suite vmem_span_test_suite = {
	.name = "virtio_mem_span",
	.test_cases = vmem_span_test_cases,
};

kunit_test_suite(vmem_span_test_suite);
