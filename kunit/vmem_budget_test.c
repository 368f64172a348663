// SPDX-License-Identifier: GPL-2.0
/*
 * KUnit: the kernel-memory budget (vmem_budget.c) and memmap_on_memory in
 * the engine, against the simulated device and memory-hotplug layer.
 *
 * The sim charges a plain add the block's memmap from its kernel memory
 * and records a violation if that runs out (the real kernel WARNs in
 * add_pages()); it records one too if a memmap subblock is unplugged
 * while its block is added, or if a block is added with its memmap on
 * unplugged memory.
 */
#include <kunit/test.h>
#include <linux/sizes.h>

#include "../include/vmem_budget.h"
#include "vmem_sim.h"

#define MIB(x)	((u64)(x) << 20)
#define GIB(x)	((u64)(x) << 30)
#define BASE	GIB(4)

/* The memmap of a 128 MiB memory block: 32768 struct pages of 64 bytes. */
#define MEMMAP_128M	MIB(2)
/*
 * What the budget charges a plain add of 128 MiB, by hand: the memmap,
 * 32768 page-table entries of 8 bytes, and 64 KiB of objects.
 */
#define COST_128M	(MIB(2) + 256 * 1024 + 64 * 1024)
/* The same with the memmap on the block itself. */
#define COST_128M_MOM	(256 * 1024 + 64 * 1024)

static void vmem_budget_formula_test(struct kunit *test)
{
	struct vmem_kmem k = { .managed = GIB(1) };

	/* avail(z) = max(0, free + file / 2 - high) */
	KUNIT_EXPECT_EQ(test, vmem_budget_zone_avail(MIB(100), 0, MIB(4)),
			MIB(96));
	KUNIT_EXPECT_EQ(test, vmem_budget_zone_avail(MIB(2), MIB(10), MIB(4)),
			MIB(3));
	KUNIT_EXPECT_EQ(test, vmem_budget_zone_avail(MIB(2), MIB(2), MIB(4)),
			0ULL);
	KUNIT_EXPECT_EQ(test, vmem_budget_zone_avail(0, 0, 0), 0ULL);

	/* floor = max(64 MiB, managed / 32) */
	KUNIT_EXPECT_EQ(test, vmem_budget_floor(0), MIB(64));
	KUNIT_EXPECT_EQ(test, vmem_budget_floor(GIB(1)), MIB(64));
	KUNIT_EXPECT_EQ(test, vmem_budget_floor(GIB(2)), MIB(64));
	KUNIT_EXPECT_EQ(test, vmem_budget_floor(GIB(4)), MIB(128));
	KUNIT_EXPECT_EQ(test, vmem_budget_floor(GIB(64)), GIB(2));

	/* cost: per Linux memory block, memmap (unless on the block) + rest */
	KUNIT_EXPECT_EQ(test, vmem_budget_cost(MIB(128), MIB(128), MEMMAP_128M,
					       0, false), (u64)COST_128M);
	KUNIT_EXPECT_EQ(test, vmem_budget_cost(MIB(128), MIB(128), MEMMAP_128M,
					       0, true), (u64)COST_128M_MOM);
	KUNIT_EXPECT_EQ(test, vmem_budget_cost(GIB(1), MIB(128), MEMMAP_128M,
					       0, false), 8ULL * COST_128M);
	KUNIT_EXPECT_EQ(test, vmem_budget_cost(GIB(2), GIB(2), MIB(32), 0, false),
			MIB(32) + 4 * MIB(1) + 64 * 1024);
	KUNIT_EXPECT_EQ(test, vmem_budget_cost(GIB(1), 0, 0, 0, false), 0ULL);
	/* other: e.g. a KASAN shadow of 1/8, also with memmap_on_memory */
	KUNIT_EXPECT_EQ(test, vmem_budget_cost(MIB(256), MIB(128), MEMMAP_128M,
					       MIB(16), true),
			2 * (COST_128M_MOM + MIB(16)));

	/* allows: avail >= floor + cost, exactly at the edge, no underflow */
	k.avail = MIB(64) + COST_128M;
	KUNIT_EXPECT_TRUE(test, vmem_budget_allows(&k, COST_128M));
	k.avail--;
	KUNIT_EXPECT_FALSE(test, vmem_budget_allows(&k, COST_128M));
	k.avail = MIB(10);
	KUNIT_EXPECT_FALSE(test, vmem_budget_allows(&k, 0));
	k.avail = 0;
	KUNIT_EXPECT_FALSE(test, vmem_budget_allows(&k, COST_128M));
	k.avail = GIB(1);
	KUNIT_EXPECT_FALSE(test, vmem_budget_allows(&k, ~0ULL));
}

/* A small guest: @kmem of kernel memory, a 64 GiB region of 2 MiB blocks. */
static struct vmem_sim *vmem_small_guest(struct kunit *test, u64 kmem,
					 bool memmap_on_memory, bool memmap_ok,
					 bool bbm, enum vmem_zone zone)
{
	struct vmem_sim_params p = {
		.e = { .addr = BASE, .region_size = GIB(64),
		       .block_size = bbm ? MIB(128) : SZ_2M,
		       .mb_size = MIB(128), .lmb_size = MIB(128),
		       .sb_size = bbm ? MIB(128) : SZ_2M, .bbm = bbm,
		       .offline_threshold = GIB(64),
		       .memmap_size = MEMMAP_128M,
		       .memmap_on_memory = memmap_on_memory },
		.unplug_online = true,
		.usable = GIB(64),
		.auto_online = zone,
		.kmem_avail = kmem,
		.kmem_managed = GIB(1),
		.memmap_ok = memmap_ok,
	};
	struct vmem_sim *sim;
	int rc;

	sim = vmem_sim_create(test, &p, &rc);
	KUNIT_ASSERT_NOT_NULL_MSG(test, sim, "vmem_sim_create(): %d", rc);
	snprintf(sim->desc, sizeof(sim->desc),
		 "%s, %llu MiB kernel memory, memmap_on_memory %d/%d",
		 bbm ? "bbm" : "sbm", kmem >> 20, memmap_on_memory, memmap_ok);
	return sim;
}

static enum vmem_run_result vmem_resize(struct kunit *test,
					struct vmem_sim *sim, u64 size,
					bool *ok)
{
	vmem_sim_set_config(sim, size, sim->usable);
	return vmem_sim_settle(test, sim, 50, ok);
}

/*
 * 800 MiB of kernel memory, no memmap_on_memory, 60 GiB requested: the
 * engine stops at the floor, says why, and goes on when memory is freed;
 * back at 0 every byte of kernel memory is returned.
 */
static void vmem_budget_stops_test(struct kunit *test)
{
	struct vmem_sim *sim = vmem_small_guest(test, MIB(800), false, false,
						false, VMEM_ZONE_MOVABLE);
	enum vmem_run_result res;
	u64 plugged;
	bool ok = true;

	res = vmem_resize(test, sim, GIB(16), &ok);
	KUNIT_EXPECT_EQ(test, res, VMEM_RUN_DONE);
	KUNIT_EXPECT_EQ(test, sim->plugged_size, GIB(16));

	res = vmem_resize(test, sim, GIB(60), &ok);
	KUNIT_EXPECT_TRUE(test, ok);
	KUNIT_EXPECT_EQ(test, res, VMEM_RUN_RETRY);
	KUNIT_EXPECT_TRUE(test, sim->e->budget_limited);
	KUNIT_EXPECT_EQ(test, sim->e->last_err, -ENOSPC);
	KUNIT_EXPECT_STREQ(test, vmem_sim_what(sim),
			   "kernel memory for the memmap");
	KUNIT_EXPECT_LE(test, sim->e->retry_ms, (unsigned int)VMEM_RETRY_POLL_MS);
	/* Stopped at the floor: above it, and one more add would cross it. */
	KUNIT_EXPECT_GE(test, sim->kmem_min, MIB(64));
	KUNIT_EXPECT_LT(test, sim->kmem_avail, MIB(64) + COST_128M);
	plugged = sim->plugged_size;
	KUNIT_EXPECT_GE(test, plugged, GIB(32));
	KUNIT_EXPECT_LT(test, plugged, GIB(60));
	KUNIT_EXPECT_EQ(test, plugged % MIB(128), 0ULL);

	/* Kernel memory freed elsewhere: plugging goes on. */
	sim->kmem_avail += MIB(256);
	res = vmem_sim_settle(test, sim, 50, &ok);
	KUNIT_EXPECT_GT(test, sim->plugged_size, plugged);
	KUNIT_EXPECT_GE(test, sim->kmem_min, MIB(64));

	/* Lowered below the limit: DONE, and no longer limited. */
	res = vmem_resize(test, sim, GIB(20), &ok);
	KUNIT_EXPECT_EQ(test, res, VMEM_RUN_DONE);
	KUNIT_EXPECT_FALSE(test, sim->e->budget_limited);

	res = vmem_resize(test, sim, 0, &ok);
	KUNIT_EXPECT_EQ(test, res, VMEM_RUN_DONE);
	KUNIT_EXPECT_EQ(test, sim->plugged_size, 0ULL);
	KUNIT_EXPECT_EQ(test, sim->kmem_avail, MIB(800) + MIB(256));
	KUNIT_EXPECT_TRUE(test, ok);
}

/*
 * With memmap_on_memory the same guest reaches 60 GiB: each block holds
 * its own memmap in its first subblock, plugged before the add.
 */
static void vmem_memmap_reaches_test(struct kunit *test)
{
	struct vmem_sim *sim = vmem_small_guest(test, MIB(800), true, true,
						false, VMEM_ZONE_MOVABLE);
	enum vmem_run_result res;
	struct vmem_status st;
	bool ok = true;
	u64 mb, blocks;

	KUNIT_EXPECT_TRUE(test, sim->e->memmap);
	KUNIT_EXPECT_EQ(test, sim->e->memmap_sbs, 1U);
	res = vmem_resize(test, sim, GIB(60), &ok);
	KUNIT_EXPECT_TRUE(test, ok);
	KUNIT_EXPECT_EQ(test, res, VMEM_RUN_DONE);
	KUNIT_EXPECT_EQ(test, sim->plugged_size, GIB(60));
	KUNIT_EXPECT_FALSE(test, sim->e->budget_limited);
	KUNIT_EXPECT_EQ(test, sim->kmem_avail, MIB(800));
	blocks = GIB(60) / MIB(128);
	for (mb = 0; mb < blocks; mb++)
		KUNIT_EXPECT_TRUE_MSG(test, test_bit(mb, sim->mb_memmap),
				      "block %llu", mb);
	vmem_engine_status(sim->e, &st);
	KUNIT_EXPECT_EQ(test, st.memmap_bytes, blocks * MEMMAP_128M);

	res = vmem_resize(test, sim, 0, &ok);
	KUNIT_EXPECT_EQ(test, res, VMEM_RUN_DONE);
	KUNIT_EXPECT_EQ(test, sim->plugged_size, 0ULL);
	KUNIT_EXPECT_TRUE(test, ok);
}

/*
 * The memmap subblock stays while its block is added: a shrink that
 * leaves only it keeps the block; one that covers it removes the block,
 * then unplugs it. Online (offline_and_remove) and offline (remove).
 */
static void vmem_memmap_shrink_test(struct kunit *test)
{
	static const enum vmem_zone zones[] = { VMEM_ZONE_MOVABLE,
						VMEM_ZONE_KERNEL,
						VMEM_ZONE_OFFLINE };
	enum vmem_run_result res;
	struct vmem_sim *sim;
	unsigned int i;
	bool ok = true;

	for (i = 0; i < ARRAY_SIZE(zones); i++) {
		sim = vmem_small_guest(test, GIB(1), true, true, false,
				       zones[i]);
		res = vmem_resize(test, sim, MIB(256) + MIB(6), &ok);
		KUNIT_EXPECT_EQ(test, res, VMEM_RUN_DONE);
		KUNIT_EXPECT_TRUE(test, test_bit(2, sim->mb_memmap));

		/* Two of the three subblocks of block 2 go; the memmap stays. */
		res = vmem_resize(test, sim, MIB(256) + MIB(2), &ok);
		KUNIT_EXPECT_EQ(test, res, VMEM_RUN_DONE);
		KUNIT_EXPECT_TRUE(test, test_bit(2, sim->added));
		KUNIT_EXPECT_TRUE(test,
				  vmem_sim_dev_plugged(sim, vmem_sim_mb_addr(sim, 2),
						       MIB(2), true));

		/* Now the memmap too: the block goes first. */
		res = vmem_resize(test, sim, MIB(256), &ok);
		KUNIT_EXPECT_EQ(test, res, VMEM_RUN_DONE);
		KUNIT_EXPECT_FALSE(test, test_bit(2, sim->added));
		KUNIT_EXPECT_FALSE(test, test_bit(2, sim->mb_memmap));
		KUNIT_EXPECT_EQ(test, sim->plugged_size, MIB(256));

		/* A shrink in the middle of full blocks keeps every memmap. */
		res = vmem_resize(test, sim, MIB(130), &ok);
		KUNIT_EXPECT_EQ(test, res, VMEM_RUN_DONE);
		KUNIT_EXPECT_EQ(test, sim->plugged_size, MIB(130));
		res = vmem_resize(test, sim, 0, &ok);
		KUNIT_EXPECT_EQ(test, res, VMEM_RUN_DONE);
		KUNIT_EXPECT_EQ(test, sim->plugged_size, 0ULL);
		KUNIT_EXPECT_TRUE_MSG(test, ok, "zone %d", zones[i]);
	}
}

/*
 * Pinned pages keep both blocks from going whole: the shrink takes back
 * subblocks one by one and must stop at each memmap.
 */
static void vmem_memmap_pinned_test(struct kunit *test)
{
	struct vmem_sim *sim = vmem_small_guest(test, GIB(1), true, true,
						false, VMEM_ZONE_KERNEL);
	enum vmem_run_result res;
	bool ok = true;

	res = vmem_resize(test, sim, MIB(256), &ok);
	KUNIT_EXPECT_EQ(test, res, VMEM_RUN_DONE);
	KUNIT_EXPECT_EQ(test, vmem_sim_pin(sim, vmem_sim_mb_addr(sim, 0) +
					   MIB(10), true), 0);
	KUNIT_EXPECT_EQ(test, vmem_sim_pin(sim, vmem_sim_mb_addr(sim, 1) +
					   MIB(10), true), 0);
	res = vmem_resize(test, sim, MIB(128), &ok);
	KUNIT_EXPECT_EQ(test, res, VMEM_RUN_DONE);
	KUNIT_EXPECT_EQ(test, sim->plugged_size, MIB(128));
	KUNIT_EXPECT_TRUE(test, test_bit(0, sim->mb_memmap));
	KUNIT_EXPECT_TRUE(test, test_bit(1, sim->mb_memmap));
	KUNIT_EXPECT_TRUE(test, ok);
}

/*
 * A block left with only its memmap lies beyond a usable region the
 * device cut, and nothing else can shrink (every other subblock pinned):
 * the last resort must leave that block alone, as an unplug there would
 * be outside the usable region.
 */
static void vmem_memmap_beyond_usable_test(struct kunit *test)
{
	struct vmem_sim *sim = vmem_small_guest(test, GIB(1), true, true,
						false, VMEM_ZONE_MOVABLE);
	bool ok = true;
	u64 a;

	KUNIT_EXPECT_EQ(test, vmem_resize(test, sim, MIB(256) + MIB(6), &ok),
			VMEM_RUN_DONE);
	KUNIT_EXPECT_EQ(test, vmem_resize(test, sim, MIB(256) + MIB(2), &ok),
			VMEM_RUN_DONE);
	KUNIT_ASSERT_TRUE(test, test_bit(2, sim->mb_memmap));
	for (a = 0; a < MIB(256); a += SZ_2M)
		vmem_sim_pin(sim, vmem_sim_mb_addr(sim, 0) + a, true);
	vmem_sim_set_config(sim, MIB(256), MIB(256));
	KUNIT_EXPECT_NE(test, vmem_sim_settle(test, sim, 50, &ok),
			VMEM_RUN_DONE);
	KUNIT_EXPECT_TRUE(test, test_bit(2, sim->added));
	KUNIT_EXPECT_EQ(test, sim->plugged_size, MIB(258));
	ok &= vmem_sim_check(test, sim);
	KUNIT_EXPECT_TRUE(test, ok);
}

/*
 * Linux refuses memmap_on_memory (memory_hotplug.memmap_on_memory=0):
 * the first add says so, and plain adds follow, under the budget.
 */
static void vmem_memmap_refused_test(struct kunit *test)
{
	struct vmem_sim *sim = vmem_small_guest(test, MIB(800), true, false,
						false, VMEM_ZONE_MOVABLE);
	enum vmem_run_result res;
	bool ok = true;

	res = vmem_resize(test, sim, GIB(4), &ok);
	KUNIT_EXPECT_TRUE(test, ok);
	KUNIT_EXPECT_EQ(test, res, VMEM_RUN_DONE);
	KUNIT_EXPECT_EQ(test, sim->plugged_size, GIB(4));
	KUNIT_EXPECT_TRUE(test, sim->e->memmap_refused);
	KUNIT_EXPECT_FALSE(test, sim->e->memmap);
	/* The block plugged for the refused add was added plainly. */
	KUNIT_EXPECT_EQ(test, sim->calls[VMEM_SIM_UNPLUG], 0ULL);
	KUNIT_EXPECT_EQ(test, sim->calls[VMEM_SIM_ADD], 33ULL);
	KUNIT_EXPECT_TRUE(test, bitmap_empty(sim->mb_memmap, sim->nr_mbs));
	KUNIT_EXPECT_EQ(test, sim->kmem_avail, MIB(800) - 32 * MEMMAP_128M);

	res = vmem_resize(test, sim, GIB(60), &ok);
	KUNIT_EXPECT_EQ(test, res, VMEM_RUN_RETRY);
	KUNIT_EXPECT_TRUE(test, sim->e->budget_limited);
	KUNIT_EXPECT_GE(test, sim->kmem_min, MIB(64));
}

/*
 * A request smaller than a memmap and one more subblock gets a plain add:
 * a block holding only its memmap would be plugged memory nobody uses.
 */
static void vmem_memmap_small_request_test(struct kunit *test)
{
	struct vmem_sim *sim = vmem_small_guest(test, GIB(1), true, true,
						false, VMEM_ZONE_MOVABLE);
	enum vmem_run_result res;
	bool ok = true;

	res = vmem_resize(test, sim, MIB(2), &ok);
	KUNIT_EXPECT_EQ(test, res, VMEM_RUN_DONE);
	KUNIT_EXPECT_FALSE(test, test_bit(0, sim->mb_memmap));
	KUNIT_EXPECT_EQ(test, sim->kmem_avail, GIB(1) - MEMMAP_128M);
	res = vmem_resize(test, sim, MIB(128) + MIB(4), &ok);
	KUNIT_EXPECT_EQ(test, res, VMEM_RUN_DONE);
	KUNIT_EXPECT_TRUE(test, test_bit(1, sim->mb_memmap));
	KUNIT_EXPECT_TRUE(test, ok);
}

/* Big-Block Mode with big block = memory block: memmap on each block. */
static void vmem_memmap_bbm_test(struct kunit *test)
{
	struct vmem_sim *sim = vmem_small_guest(test, MIB(300), true, true,
						true, VMEM_ZONE_MOVABLE);
	enum vmem_run_result res;
	bool ok = true;

	KUNIT_EXPECT_EQ(test, sim->e->memmap_sbs, 1U);
	res = vmem_resize(test, sim, GIB(32), &ok);
	KUNIT_EXPECT_EQ(test, res, VMEM_RUN_DONE);
	KUNIT_EXPECT_EQ(test, sim->plugged_size, GIB(32));
	KUNIT_EXPECT_EQ(test, sim->kmem_avail, MIB(300));
	KUNIT_EXPECT_EQ(test, bitmap_weight(sim->mb_memmap, sim->nr_mbs),
			256U);
	res = vmem_resize(test, sim, 0, &ok);
	KUNIT_EXPECT_EQ(test, res, VMEM_RUN_DONE);
	KUNIT_EXPECT_TRUE(test, ok);
}

static struct kunit_case vmem_budget_cases[] = {
	KUNIT_CASE(vmem_budget_formula_test),
	KUNIT_CASE(vmem_budget_stops_test),
	KUNIT_CASE(vmem_memmap_reaches_test),
	KUNIT_CASE(vmem_memmap_shrink_test),
	KUNIT_CASE(vmem_memmap_pinned_test),
	KUNIT_CASE(vmem_memmap_beyond_usable_test),
	KUNIT_CASE(vmem_memmap_refused_test),
	KUNIT_CASE(vmem_memmap_small_request_test),
	KUNIT_CASE(vmem_memmap_bbm_test),
	{}
};

static struct kunit_suite vmem_budget_suite = {
	.name = "virtio_mem_budget",
	.test_cases = vmem_budget_cases,
};

kunit_test_suite(vmem_budget_suite);
