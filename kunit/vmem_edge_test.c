// SPDX-License-Identifier: GPL-2.0
/*
 * KUnit: the engine at its edges, against the simulated device, memory
 * hotplug layer and page model of vmem_sim.h: retry backoff, invalid and
 * refusing replies, UNPLUG_ALL, the free-memory reserve, hard failures,
 * other drivers' PageOffline pages, transitions while a request is in
 * flight, the teardown, and the host dialects.
 */
#include <kunit/test.h>
#include <linux/bitmap.h>
#include <linux/sizes.h>
#include <linux/string.h>
#include <linux/virtio_mem.h>

#include "vmem_sim.h"
#include "vmem_test_util.h"

/*
 * Backoff doubles from MIN to MAX, and progress resets it; a config change
 * between runs, after a failure mid-way, is followed from the next run.
 */
static void vmem_retry_test(struct kunit *test)
{
	struct vmem_sim_params p = vmem_test_params();
	unsigned int want = VMEM_RETRY_MIN_MS, i;
	struct vmem_sim *sim;
	bool ok = true;

	sim = vmem_new(test, &p, "retry");
	vmem_sim_add_fault(sim, VMEM_SIM_PLUG, VMEM_SIM_ANY, VMEM_SIM_ANY,
			   VIRTIO_MEM_RESP_BUSY, true);
	vmem_sim_set_config(sim, SZ_1G, SZ_1G);
	for (i = 0; i < 12; i++) {
		KUNIT_EXPECT_EQ(test, vmem_sim_run(sim), VMEM_RUN_RETRY);
		KUNIT_EXPECT_EQ(test, sim->e->retry_ms, want);
		KUNIT_EXPECT_EQ(test, sim->e->last_err, -EBUSY);
		ok &= vmem_sim_check(test, sim);
		want = min(2 * want, VMEM_RETRY_MAX_MS);
	}
	KUNIT_EXPECT_EQ(test, want, VMEM_RETRY_MAX_MS);

	/* Blocks 0-2 get plugged, block 3 fails: one failure after progress. */
	vmem_sim_clear_faults(sim);
	vmem_sim_add_fault(sim, VMEM_SIM_PLUG, VMEM_SIM_ANY, 3,
			   VIRTIO_MEM_RESP_BUSY, true);
	KUNIT_EXPECT_EQ(test, vmem_sim_run(sim), VMEM_RUN_RETRY);
	KUNIT_EXPECT_EQ(test, sim->e->retry_ms, VMEM_RETRY_MIN_MS);
	KUNIT_EXPECT_EQ(test, sim->plugged_size, 3 * SZ_128M);
	KUNIT_EXPECT_EQ(test, vmem_sim_run(sim), VMEM_RUN_RETRY);
	KUNIT_EXPECT_EQ(test, sim->e->retry_ms, 2 * VMEM_RETRY_MIN_MS);
	ok &= vmem_sim_check(test, sim);

	vmem_sim_set_config(sim, MIB(100), SZ_1G);
	KUNIT_EXPECT_EQ(test, vmem_sim_run(sim), VMEM_RUN_DONE);
	KUNIT_EXPECT_EQ(test, sim->e->retry_ms, 0);
	KUNIT_EXPECT_EQ(test, sim->plugged_size, MIB(100));
	KUNIT_EXPECT_EQ(test, sim->calls[VMEM_SIM_PLUG], 12 + 4 + 1);
	ok &= vmem_sim_check(test, sim);
	KUNIT_EXPECT_TRUE(test, ok);
}

/*
 * With @before MiB plugged (kernel blocks), requested_size becomes
 * @requested, and call @index of @op gets an invalid reply; the first add
 * may fail, the engine may start with UNPLUG_ALL, and the workload may
 * use all plugged memory (@used: subblocks go back one at a time).
 */
struct vmem_invalid_case {
	const char *desc;
	u16 before, requested;
	enum vmem_sim_op op;
	u8 index;
	bool add_fails, unplug_all, used;
};

static const struct vmem_invalid_case vmem_invalid_cases[] = {
	{ "first plug", 0, 256, VMEM_SIM_PLUG, 0 },
	{ "first unplug", 256, 100, VMEM_SIM_UNPLUG, 0 },
	{ "unplug_all", 0, 256, VMEM_SIM_UNPLUG_ALL, 0, false, true },
	{ "2nd of 3 used subblock unplugs", 10, 4, VMEM_SIM_UNPLUG, 1,
	  false, false, true },
	{ "unplug of 3 free subblocks", 10, 4, VMEM_SIM_UNPLUG, 0 },
	{ "unplug after a failed add", 0, 256, VMEM_SIM_UNPLUG, 0, true },
};

/*
 * vmem_resp_to_errno(), and invalid reply types: the run that gets one
 * returns BROKEN, and the engine stays broken.
 */
static void vmem_invalid_reply_test(struct kunit *test)
{
	static const int invalid[] = { 4, INVALID_REPLY, 255, 0xffff,
				       0x7fffffff };
	struct vmem_sim_params p = vmem_test_params();
	const struct vmem_invalid_case *c;
	struct vmem_sim *sim;
	unsigned int i, j;
	bool ok = true;

	KUNIT_EXPECT_EQ(test, vmem_resp_to_errno(VIRTIO_MEM_RESP_ACK), 0);
	KUNIT_EXPECT_LT(test, vmem_resp_to_errno(VIRTIO_MEM_RESP_NACK), 0);
	KUNIT_EXPECT_LT(test, vmem_resp_to_errno(VIRTIO_MEM_RESP_BUSY), 0);
	KUNIT_EXPECT_LT(test, vmem_resp_to_errno(VIRTIO_MEM_RESP_ERROR), 0);
	KUNIT_EXPECT_EQ(test, vmem_resp_to_errno(-ETIMEDOUT), -ETIMEDOUT);
	for (i = 0; i < ARRAY_SIZE(invalid); i++)
		KUNIT_EXPECT_EQ(test, vmem_resp_to_errno(invalid[i]), -EPROTO);

	p.auto_online = KERNEL;
	for (i = 0; i < ARRAY_SIZE(vmem_invalid_cases); i++) {
		c = &vmem_invalid_cases[i];
		for (j = 0; j < ARRAY_SIZE(invalid); j++) {
			sim = vmem_new(test, &p, c->desc);
			vmem_sim_set_config(sim, MIB(c->before), SZ_1G);
			vmem_sim_settle(test, sim, MAX_RUNS, &ok);
			if (c->unplug_all)
				vmem_engine_request_unplug_all(sim->e);
			if (c->used)
				vmem_sim_use_range(sim, BASE, MIB(c->before));
			if (c->add_fails)
				vmem_sim_add_fault(sim, VMEM_SIM_ADD, 0,
						   VMEM_SIM_ANY, -ENOMEM, false);
			vmem_sim_add_fault(sim, c->op, c->index, VMEM_SIM_ANY,
					   invalid[j], false);
			vmem_sim_set_config(sim, MIB(c->requested), SZ_1G);
			snprintf(sim->desc, sizeof(sim->desc), "%s: reply %d",
				 c->desc, invalid[j]);
			if (vmem_sim_run(sim) == VMEM_RUN_BROKEN) {
				ok &= vmem_sim_check(test, sim) &&
				      vmem_check_broken(test, sim);
			} else {
				KUNIT_FAIL(test, "%s: no BROKEN: %s: %d",
					   sim->desc, vmem_sim_what(sim),
					   sim->e->last_err);
				j = ARRAY_SIZE(invalid); /* one is enough */
			}
		}
	}
	KUNIT_EXPECT_TRUE(test, ok);
}

/*
 * A reply of no known type to an unplug of an online subblock: whether
 * the device unplugged it is unknown, so its pages stay the driver's.
 * The workload uses them: they go back one at a time.
 */
static void vmem_broken_keeps_test(struct kunit *test)
{
	struct vmem_sim_params p = vmem_test_params();
	struct vmem_sim *sim;
	unsigned int taken = 0;
	bool ok = true;
	u64 g;

	p.auto_online = KERNEL;
	sim = vmem_new(test, &p, "invalid reply to an unplug");
	vmem_sim_set_config(sim, MIB(10), SZ_1G);
	KUNIT_ASSERT_EQ(test, vmem_sim_settle(test, sim, MAX_RUNS, &ok),
			VMEM_RUN_DONE);
	KUNIT_EXPECT_EQ(test, vmem_sim_use_range(sim, BASE, MIB(10)), 5U);
	vmem_sim_add_fault(sim, VMEM_SIM_UNPLUG, 1, VMEM_SIM_ANY,
			   INVALID_REPLY, false);
	vmem_sim_set_config(sim, MIB(4), SZ_1G);
	KUNIT_EXPECT_EQ(test, vmem_sim_run(sim), VMEM_RUN_BROKEN);
	ok &= vmem_sim_check(test, sim);
	for (g = 0; g < sim->nr_grans; g++)
		taken += sim->gst[g] == VMEM_G_TAKEN &&
			 vmem_sim_dev_plugged(sim, vmem_sim_gran_addr(sim, g),
					      sim->gran, true);
	KUNIT_EXPECT_EQ(test, taken, 1U);
	KUNIT_EXPECT_TRUE(test, ok);
}

/*
 * A fragmented guest: the workload uses every other 16 MiB of 512 MiB
 * plugged. A shrink that free memory covers migrates nothing, and it
 * takes free subblocks a run per request; one that free memory falls
 * short of by a subblock moves one; one below what is used moves only
 * what must go.
 */
static void vmem_free_first_test(struct kunit *test)
{
	struct vmem_sim_params p = vmem_test_params();
	struct vmem_sim *sim;
	u64 a, used = 0, unplugs;
	bool ok = true;

	sim = vmem_new(test, &p, "fragmented: every other 16 MiB used");
	vmem_sim_set_config(sim, MIB(512), SZ_1G);
	KUNIT_ASSERT_EQ(test, vmem_sim_settle(test, sim, MAX_RUNS, &ok),
			VMEM_RUN_DONE);
	for (a = 0; a < MIB(512); a += MIB(32))
		used += vmem_sim_use_range(sim, BASE + a, MIB(16));
	KUNIT_ASSERT_EQ(test, used * sim->gran, MIB(256));

	unplugs = sim->calls[VMEM_SIM_UNPLUG];
	vmem_sim_set_config(sim, MIB(320), SZ_1G);
	KUNIT_EXPECT_EQ(test, vmem_sim_settle(test, sim, MAX_RUNS, &ok),
			VMEM_RUN_DONE);
	KUNIT_EXPECT_EQ(test, sim->plugged_size, MIB(320));
	KUNIT_EXPECT_EQ(test, sim->migrated, 0ULL);
	/* 192 MiB in runs of 16 MiB: 12 requests. */
	KUNIT_EXPECT_EQ(test, sim->calls[VMEM_SIM_UNPLUG] - unplugs, 12ULL);

	/* Free memory 2 MiB short of the shrink: one granule moves. */
	vmem_sim_set_config(sim, MIB(320 - 66), SZ_1G);
	KUNIT_EXPECT_EQ(test, vmem_sim_settle(test, sim, MAX_RUNS, &ok),
			VMEM_RUN_DONE);
	KUNIT_EXPECT_EQ(test, sim->plugged_size, MIB(320 - 66));
	KUNIT_EXPECT_EQ(test, sim->migrated, 1ULL);

	vmem_sim_set_config(sim, MIB(128), SZ_1G);
	KUNIT_EXPECT_EQ(test, vmem_sim_settle(test, sim, MAX_RUNS, &ok),
			VMEM_RUN_DONE);
	KUNIT_EXPECT_EQ(test, sim->plugged_size, MIB(128));
	KUNIT_EXPECT_EQ(test, sim->migrated * sim->gran, MIB(256 - 128));
	ok &= vmem_sim_check(test, sim);
	KUNIT_EXPECT_TRUE(test, ok);
}

/*
 * Blocks the workload uses all but one subblock of: a shrink by two whole
 * blocks takes each in one page->take and one request, not its free
 * subblock apart first.
 */
static void vmem_mostly_used_test(struct kunit *test)
{
	struct vmem_sim_params p = vmem_test_params();
	struct vmem_sim *sim;
	u64 mb, takes, unplugs;
	bool ok = true;

	sim = vmem_new(test, &p, "every block used but one subblock");
	vmem_sim_set_config(sim, MIB(512), SZ_1G);
	KUNIT_ASSERT_EQ(test, vmem_sim_settle(test, sim, MAX_RUNS, &ok),
			VMEM_RUN_DONE);
	for (mb = 0; mb < 4; mb++) {
		vmem_sim_use_range(sim, BASE + mb * SZ_128M, MIB(20));
		vmem_sim_use_range(sim, BASE + mb * SZ_128M + MIB(22),
				   MIB(106));
	}
	takes = sim->calls[VMEM_SIM_FAKE_OFFLINE];
	unplugs = sim->calls[VMEM_SIM_UNPLUG];
	vmem_sim_set_config(sim, MIB(256), SZ_1G);
	KUNIT_EXPECT_EQ(test, vmem_sim_settle(test, sim, MAX_RUNS, &ok),
			VMEM_RUN_DONE);
	KUNIT_EXPECT_EQ(test, sim->plugged_size, MIB(256));
	KUNIT_EXPECT_EQ(test, sim->calls[VMEM_SIM_FAKE_OFFLINE] - takes, 2ULL);
	KUNIT_EXPECT_EQ(test, sim->calls[VMEM_SIM_UNPLUG] - unplugs, 2ULL);
	KUNIT_EXPECT_EQ(test, sim->migrated * sim->gran, 2 * MIB(126));
	ok &= vmem_sim_check(test, sim);
	KUNIT_EXPECT_TRUE(test, ok);
}

/* The simulated device itself: QEMU's replies, violations, faults. */
static void vmem_sim_device_test(struct kunit *test)
{
	static const struct {
		enum vmem_sim_op op;
		u64 off;
		u16 nb;
		int reply;
		u16 state;
	} reqs[] = {
		{ VMEM_SIM_PLUG, 0, 2, VIRTIO_MEM_RESP_ACK },
		{ VMEM_SIM_STATE, 0, 2, 0, VIRTIO_MEM_STATE_PLUGGED },
		{ VMEM_SIM_STATE, 0, 3, 0, VIRTIO_MEM_STATE_MIXED },
		{ VMEM_SIM_STATE, SZ_4M, 2, 0, VIRTIO_MEM_STATE_UNPLUGGED },
		{ VMEM_SIM_PLUG, SZ_4M, 3, VIRTIO_MEM_RESP_NACK },
		{ VMEM_SIM_PLUG, SZ_2M, 1, VIRTIO_MEM_RESP_ERROR },	/* 1 */
		{ VMEM_SIM_UNPLUG, SZ_4M, 1, VIRTIO_MEM_RESP_ERROR },	/* 2 */
		{ VMEM_SIM_PLUG, SZ_64M, 1, VIRTIO_MEM_RESP_ERROR },	/* 3 */
		{ VMEM_SIM_PLUG, SZ_1M, 1, VIRTIO_MEM_RESP_ERROR },	/* 4 */
		{ VMEM_SIM_UNPLUG, 0, 0, VIRTIO_MEM_RESP_ERROR },	/* 5 */
		{ VMEM_SIM_UNPLUG, 0, 2, VIRTIO_MEM_RESP_ACK },
	};
	struct vmem_sim_params p = vmem_test_params();
	const struct vmem_device_ops *d = &vmem_sim_dev_ops;
	struct vmem_sim *sim = vmem_new(test, &p, "device");
	unsigned int i;
	u16 state;
	int r;

	vmem_sim_set_config(sim, SZ_8M, SZ_64M);
	for (i = 0; i < ARRAY_SIZE(reqs); i++) {
		state = 0xff;
		if (reqs[i].op == VMEM_SIM_STATE)
			r = d->state(sim, BASE + reqs[i].off, reqs[i].nb, &state);
		else if (reqs[i].op == VMEM_SIM_PLUG)
			r = d->plug(sim, BASE + reqs[i].off, reqs[i].nb);
		else
			r = d->unplug(sim, BASE + reqs[i].off, reqs[i].nb);
		KUNIT_EXPECT_EQ_MSG(test, r, reqs[i].reply, "request %u", i);
		if (reqs[i].op == VMEM_SIM_STATE)
			KUNIT_EXPECT_EQ_MSG(test, state, reqs[i].state, "%u", i);
	}
	KUNIT_EXPECT_EQ(test, sim->violations, 5);
	KUNIT_EXPECT_STREQ(test, sim->violation,
			   "plug(0x100200000, 1): plugged already");
	KUNIT_EXPECT_EQ(test, sim->plugged_size, 0);
	vmem_sim_add_fault(sim, VMEM_SIM_REQ, sim->calls[VMEM_SIM_REQ],
			   VMEM_SIM_ANY, INVALID_REPLY, false);
	vmem_sim_add_fault(sim, VMEM_SIM_PLUG, VMEM_SIM_ANY, VMEM_SIM_ANY,
			   VIRTIO_MEM_RESP_BUSY, true);
	KUNIT_EXPECT_EQ(test, d->unplug_all(sim), INVALID_REPLY);
	KUNIT_EXPECT_EQ(test, d->plug(sim, BASE, 1), VIRTIO_MEM_RESP_BUSY);
	KUNIT_EXPECT_EQ(test, d->plug(sim, BASE, 1), VIRTIO_MEM_RESP_BUSY);
	KUNIT_EXPECT_EQ(test, d->unplug_all(sim), VIRTIO_MEM_RESP_ACK);
	KUNIT_EXPECT_EQ(test, sim->usable, SZ_8M + SZ_256M);
	KUNIT_EXPECT_EQ(test, sim->calls[VMEM_SIM_REQ], ARRAY_SIZE(reqs) + 4);
}

/* A device with memory plugged at probe: UNPLUG_ALL comes first. */
static void vmem_unplug_all_test(struct kunit *test)
{
	struct vmem_sim_params p = vmem_test_params();
	struct vmem_sim *sim;
	bool ok = true;

	sim = vmem_new(test, &p, "unplug_all");
	bitmap_set(sim->dev_plugged, 10, 100);
	sim->plugged_size = 100 * SZ_2M;
	vmem_sim_add_fault(sim, VMEM_SIM_UNPLUG_ALL, 0, VMEM_SIM_ANY,
			   VIRTIO_MEM_RESP_BUSY, false);
	vmem_engine_request_unplug_all(sim->e);
	vmem_sim_set_config(sim, SZ_256M, SZ_1G);
	/* Books and device disagree until UNPLUG_ALL succeeds: no check. */
	KUNIT_EXPECT_EQ(test, vmem_sim_run(sim), VMEM_RUN_RETRY);
	KUNIT_EXPECT_EQ(test, sim->calls[VMEM_SIM_PLUG], 0);
	KUNIT_EXPECT_STREQ(test, vmem_sim_what(sim), "unplug_all");
	KUNIT_EXPECT_EQ(test, vmem_sim_settle(test, sim, MAX_RUNS, &ok),
			VMEM_RUN_DONE);
	KUNIT_EXPECT_EQ(test, sim->calls[VMEM_SIM_UNPLUG_ALL], 2);
	KUNIT_EXPECT_EQ(test, sim->plugged_size, SZ_256M);
	/* QEMU shrank the usable region; the change comes to the engine. */
	KUNIT_EXPECT_EQ(test, sim->usable, SZ_512M);
	KUNIT_EXPECT_EQ(test, vmem_sim_settle(test, sim, MAX_RUNS, &ok),
			VMEM_RUN_DONE);
	KUNIT_EXPECT_EQ(test, sim->calls[VMEM_SIM_UNPLUG_ALL], 2);
	KUNIT_EXPECT_EQ(test, sim->e->usable, SZ_512M);
	KUNIT_EXPECT_TRUE(test, ok);
}

/*
 * -ENOSPC: Linux cannot spare a block now (the free-memory reserve). The
 * engine takes another block, and while none can go it polls at most
 * every VMEM_RETRY_POLL_MS instead of backing off to VMEM_RETRY_MAX_MS.
 */
static void vmem_reserve_poll_test(struct kunit *test)
{
	struct vmem_sim_params p = vmem_test_params();
	unsigned int want = VMEM_RETRY_MIN_MS, i;
	struct vmem_sim *sim;
	bool ok = true;

	sim = vmem_new(test, &p, "reserve");
	vmem_sim_set_config(sim, SZ_512M, SZ_1G);
	KUNIT_EXPECT_EQ(test, vmem_sim_settle(test, sim, MAX_RUNS, &ok),
			VMEM_RUN_DONE);
	KUNIT_EXPECT_TRUE(test, vmem_sim_mb_online(sim, 3));

	vmem_sim_add_fault(sim, VMEM_SIM_OFFLINE_AND_REMOVE, VMEM_SIM_ANY, 3,
			   -ENOSPC, true);
	vmem_sim_set_config(sim, SZ_512M - SZ_128M, SZ_1G);
	KUNIT_EXPECT_EQ(test, vmem_sim_run(sim), VMEM_RUN_DONE);
	KUNIT_EXPECT_EQ(test, sim->plugged_size, SZ_512M - SZ_128M);
	KUNIT_EXPECT_TRUE(test, vmem_sim_mb_online(sim, 3));
	KUNIT_EXPECT_FALSE(test, vmem_sim_mb_online(sim, 2));
	ok &= vmem_sim_check(test, sim);

	vmem_sim_add_fault(sim, VMEM_SIM_OFFLINE_AND_REMOVE, VMEM_SIM_ANY,
			   VMEM_SIM_ANY, -ENOSPC, true);
	vmem_sim_add_fault(sim, VMEM_SIM_MAY_TAKE, VMEM_SIM_ANY,
			   VMEM_SIM_ANY, -ENOSPC, true);
	vmem_sim_set_config(sim, 0, SZ_1G);
	for (i = 0; i < 6; i++) {
		KUNIT_EXPECT_EQ(test, vmem_sim_run(sim), VMEM_RUN_RETRY);
		KUNIT_EXPECT_EQ(test, sim->e->retry_ms, want);
		KUNIT_EXPECT_EQ(test, sim->e->last_err, -ENOSPC);
		ok &= vmem_sim_check(test, sim);
		want = min(2 * want, VMEM_RETRY_POLL_MS);
	}
	KUNIT_EXPECT_EQ(test, sim->plugged_size, SZ_512M - SZ_128M);

	vmem_sim_clear_faults(sim);
	KUNIT_EXPECT_EQ(test, vmem_sim_settle(test, sim, MAX_RUNS, &ok),
			VMEM_RUN_DONE);
	KUNIT_EXPECT_EQ(test, sim->plugged_size, 0);
	KUNIT_EXPECT_TRUE(test, ok);
}

/*
 * A hard (not -EBUSY/-ENOMEM) add failure "of that block" (vmem_ops.h):
 * the target is reached with the other blocks.
 */
static void vmem_hard_failure_test(struct kunit *test)
{
	struct vmem_sim_params p = vmem_test_params();
	struct vmem_sim *sim;
	bool ok = true;

	sim = vmem_new(test, &p, "add fails hard on block 0");
	vmem_sim_add_fault(sim, VMEM_SIM_ADD, VMEM_SIM_ANY, 0, -EINVAL, true);
	vmem_sim_set_config(sim, SZ_256M, SZ_1G);
	KUNIT_EXPECT_EQ(test, vmem_sim_settle(test, sim, MAX_RUNS, &ok),
			VMEM_RUN_DONE);
	KUNIT_EXPECT_EQ(test, sim->plugged_size, SZ_256M);
	KUNIT_EXPECT_TRUE(test, ok);
}

/*
 * Another driver's PageOffline pages (a virtio-balloon's) in our movable
 * blocks: they are movable and keep their own reference. The shrink takes
 * the blocks back (the balloon's pages move away) and never drops a
 * reference that is not the driver's; the sim records any such drop as a
 * violation, and an offline that would then loop for ever too.
 */
static void vmem_foreign_pages_test(struct kunit *test)
{
	struct vmem_sim_params p = vmem_test_params();
	struct vmem_sim *sim = vmem_new(test, &p, "balloon pages");
	bool ok = true;
	u64 g;

	vmem_sim_set_config(sim, SZ_512M, SZ_1G);
	KUNIT_ASSERT_EQ(test, vmem_sim_settle(test, sim, MAX_RUNS, &ok),
			VMEM_RUN_DONE);
	for (g = 0; g < sim->nr_grans; g += 7)
		vmem_sim_mark(sim, vmem_sim_gran_addr(sim, g), sim->foreign,
			      true);
	vmem_sim_set_config(sim, MIB(100), SZ_1G);
	KUNIT_EXPECT_EQ(test, vmem_sim_settle(test, sim, MAX_RUNS, &ok),
			VMEM_RUN_DONE);
	KUNIT_EXPECT_EQ(test, sim->plugged_size, MIB(100));
	/* The admin offlines a block with balloon pages: they move. */
	vmem_sim_mark(sim, vmem_sim_gran_addr(sim, 3), sim->foreign, true);
	KUNIT_EXPECT_EQ(test, vmem_sim_offline(sim, 0), 0);
	vmem_sim_set_config(sim, 0, SZ_1G);
	KUNIT_EXPECT_EQ(test, vmem_sim_settle(test, sim, MAX_RUNS, &ok),
			VMEM_RUN_DONE);
	KUNIT_EXPECT_TRUE(test, ok);
}

/* Inside offline_and_remove: the workload starts using the block. */
static void vmem_busy_hook(struct vmem_sim *sim, enum vmem_sim_op op,
			   u64 addr)
{
	if (op != VMEM_SIM_OFFLINE_AND_REMOVE || !sim->hook_priv)
		return;
	vmem_sim_mark(sim, addr + SZ_64M, sim->used, true);
	sim->hook_priv = NULL;
}

/*
 * The direct offline of a block that looked idle: a page allocated after
 * the look makes the glue veto the offline at MEM_GOING_OFFLINE, and the
 * engine then takes the block's pages back and offlines it again.
 */
static void vmem_direct_offline_veto_test(struct kunit *test)
{
	struct vmem_sim_params p = vmem_test_params();
	struct vmem_sim *sim = vmem_new(test, &p, "veto");
	bool ok = true;

	vmem_sim_set_config(sim, SZ_256M, SZ_1G);
	KUNIT_ASSERT_EQ(test, vmem_sim_settle(test, sim, MAX_RUNS, &ok),
			VMEM_RUN_DONE);
	sim->hook = vmem_busy_hook;
	sim->hook_priv = sim;
	vmem_sim_set_config(sim, SZ_128M, SZ_1G);
	KUNIT_EXPECT_EQ(test, vmem_sim_settle(test, sim, MAX_RUNS, &ok),
			VMEM_RUN_DONE);
	KUNIT_EXPECT_EQ(test, sim->vetoes, 1U);
	KUNIT_EXPECT_GT(test, sim->calls[VMEM_SIM_FAKE_OFFLINE], 0ULL);
	KUNIT_EXPECT_EQ(test, sim->plugged_size, SZ_128M);
	KUNIT_EXPECT_TRUE(test, ok);
}

/*
 * rmmod while the device answers BUSY to every unplug (QEMU during a
 * migration): what is offline is removed all the same, so that nobody can
 * online unplugged memory once the driver is gone; what is online and
 * cannot be offlined stays, its unplugged pages fake-offline.
 */
static void vmem_teardown_busy_test(struct kunit *test)
{
	struct vmem_sim_params p = vmem_test_params();
	enum vmem_run_result res;
	struct vmem_sim *sim;
	bool ok = true;
	unsigned int i;
	u64 left, mb;

	p.auto_online = VMEM_ZONE_OFFLINE;
	sim = vmem_new(test, &p, "teardown, BUSY");
	vmem_sim_set_config(sim, MIB(300), SZ_1G);	/* 2 full, 1 part */
	KUNIT_ASSERT_EQ(test, vmem_sim_settle(test, sim, 3, &ok),
			VMEM_RUN_DONE);
	KUNIT_ASSERT_EQ(test, vmem_sim_online_lmb(sim, 0, KERNEL), 0);
	KUNIT_ASSERT_EQ(test, vmem_sim_pin(sim, vmem_sim_mb_addr(sim, 0),
					   true), 0);
	vmem_sim_add_fault(sim, VMEM_SIM_UNPLUG, VMEM_SIM_ANY, VMEM_SIM_ANY,
			   VIRTIO_MEM_RESP_BUSY, true);
	vmem_engine_begin_teardown(sim->e);
	sim->cfg_requested = 0;		/* the teardown's target */
	for (i = 0; i < 5; i++) {
		res = vmem_sim_run(sim);
		ok &= vmem_sim_check(test, sim);
		KUNIT_EXPECT_EQ(test, res, VMEM_RUN_RETRY);
	}
	left = vmem_engine_end_teardown(sim->e);
	ok &= vmem_sim_check(test, sim);
	KUNIT_EXPECT_EQ(test, left, 1ULL);
	KUNIT_EXPECT_TRUE(test, vmem_sim_mb_online(sim, 0));
	for (mb = 1; mb < sim->nr_mbs; mb++)
		KUNIT_EXPECT_FALSE_MSG(test, test_bit(mb, sim->added),
				       "block %llu left added", mb);
	/* Linux's own transitions are refused from now on. */
	KUNIT_EXPECT_EQ(test, vmem_sim_offline_lmb(sim, 0), -EBUSY);
	KUNIT_EXPECT_TRUE(test, ok);
}

/* While a request is in flight, the admin onlines the block it is for. */
static void vmem_inflight_hook(struct vmem_sim *sim, enum vmem_sim_op op,
			       u64 addr)
{
	enum vmem_sim_op *want = sim->hook_priv;
	struct vmem_status st;
	s64 mb = vmem_sim_mb_of(sim, addr);

	if (!want || op != *want || mb < 0)
		return;
	sim->hook_priv = NULL;
	/* Status and events take no lock a request holds. */
	vmem_engine_status(sim->e, &st);
	vmem_sim_online(sim, mb, MOVABLE);
}

/*
 * Plug and unplug of subblocks of an offline block, while another task
 * onlines that block: onlining hands Linux only memory that is plugged
 * and not on its way out. A subblock plugged during the online is handed
 * over after the reply; one being unplugged is kept.
 */
static void vmem_inflight_online_test(struct kunit *test)
{
	static const enum vmem_sim_op ops[] = {
		VMEM_SIM_PLUG, VMEM_SIM_UNPLUG,
	};
	struct vmem_sim_params p = vmem_test_params();
	enum vmem_sim_op want;
	struct vmem_sim *sim;
	unsigned int i;
	bool ok = true;

	p.auto_online = VMEM_ZONE_OFFLINE;
	for (i = 0; i < ARRAY_SIZE(ops); i++) {
		sim = vmem_new(test, &p, vmem_sim_op_name(ops[i]));
		vmem_sim_set_config(sim, SZ_64M, SZ_1G);
		KUNIT_ASSERT_EQ(test, vmem_sim_settle(test, sim, 3, &ok),
				VMEM_RUN_DONE);
		want = ops[i];
		sim->req_hook = vmem_inflight_hook;
		sim->hook_priv = &want;
		vmem_sim_set_config(sim, ops[i] == VMEM_SIM_PLUG ? SZ_128M :
				    SZ_32M, SZ_1G);
		KUNIT_EXPECT_EQ(test, vmem_sim_settle(test, sim, MAX_RUNS, &ok),
				VMEM_RUN_DONE);
		KUNIT_EXPECT_PTR_EQ(test, sim->hook_priv, NULL);
		KUNIT_EXPECT_TRUE(test, vmem_sim_mb_online(sim, 0));
	}
	KUNIT_EXPECT_TRUE(test, ok);
}

/*
 * A device that answers ERROR to every unplug (Cloud Hypervisor's failed
 * discard): the engine gives each block up after VMEM_REFUSED_AFTER
 * tries, and waits for a new target instead of taking the same memory
 * back and handing it over again for ever.
 */
static void vmem_refused_test(struct kunit *test)
{
	struct vmem_sim_params p = vmem_test_params();
	enum vmem_run_result res = VMEM_RUN_RETRY;
	struct vmem_sim *sim;
	unsigned int i;
	bool ok = true;
	u64 takes;

	p.dialect = VMEM_SIM_CLOUD_HV;
	sim = vmem_new(test, &p, "ERROR, ERROR");
	vmem_sim_set_config(sim, SZ_512M, SZ_1G);
	KUNIT_ASSERT_EQ(test, vmem_sim_settle(test, sim, MAX_RUNS, &ok),
			VMEM_RUN_DONE);
	vmem_sim_add_fault(sim, VMEM_SIM_UNPLUG, VMEM_SIM_ANY, VMEM_SIM_ANY,
			   VIRTIO_MEM_RESP_ERROR, true);
	vmem_sim_set_config(sim, SZ_256M, SZ_1G);
	for (i = 0; i < 100 && res != VMEM_RUN_WAIT_CONFIG; i++) {
		res = vmem_sim_run(sim);
		ok &= vmem_sim_check(test, sim);
	}
	KUNIT_EXPECT_EQ(test, res, VMEM_RUN_WAIT_CONFIG);
	KUNIT_EXPECT_EQ(test, sim->e->last_what, VMEM_WHAT_REFUSED);
	takes = sim->calls[VMEM_SIM_FAKE_OFFLINE];
	KUNIT_EXPECT_LE(test, sim->calls[VMEM_SIM_UNPLUG],
			(u64)sim->nr_mbs * VMEM_REFUSED_AFTER);
	for (i = 0; i < 5; i++) {
		KUNIT_EXPECT_EQ(test, vmem_sim_run(sim), VMEM_RUN_WAIT_CONFIG);
		ok &= vmem_sim_check(test, sim);
	}
	KUNIT_EXPECT_EQ(test, sim->calls[VMEM_SIM_FAKE_OFFLINE], takes);
	/* The host fixes it and asks again: the engine tries anew. */
	vmem_sim_clear_faults(sim);
	vmem_sim_set_config(sim, SZ_128M, SZ_1G);
	KUNIT_EXPECT_EQ(test, vmem_sim_settle(test, sim, MAX_RUNS, &ok),
			VMEM_RUN_DONE);
	KUNIT_EXPECT_EQ(test, sim->plugged_size, SZ_128M);
	KUNIT_EXPECT_TRUE(test, ok);
}

/*
 * Every remaining block refused by Linux: the engine waits for a config
 * change (no timer), and says why.
 */
static void vmem_no_block_test(struct kunit *test)
{
	struct vmem_sim_params p = vmem_test_params();
	struct vmem_sim *sim = vmem_new(test, &p, "all blocks bad");
	bool ok = true;

	vmem_sim_add_fault(sim, VMEM_SIM_ADD, VMEM_SIM_ANY, VMEM_SIM_ANY,
			   -EINVAL, true);
	vmem_sim_set_config(sim, SZ_256M, SZ_1G);
	KUNIT_EXPECT_EQ(test, vmem_sim_settle(test, sim, MAX_RUNS, &ok),
			VMEM_RUN_WAIT_CONFIG);
	KUNIT_EXPECT_EQ(test, sim->e->last_what, VMEM_WHAT_NO_BLOCK);
	KUNIT_EXPECT_EQ(test, sim->e->retry_ms, 0U);
	KUNIT_EXPECT_EQ(test, sim->plugged_size, 0ULL);
	KUNIT_EXPECT_TRUE(test, ok);
}

/*
 * A device that shrinks its usable region to exactly requested_size at
 * UNPLUG_ALL, and says nothing: the engine reads the config itself and
 * plans within the new region at once.
 */
static void vmem_unplug_all_exact_test(struct kunit *test)
{
	struct vmem_sim_params p = vmem_test_params();
	struct vmem_sim *sim;
	bool ok = true;

	p.usable_exact = true;
	sim = vmem_new(test, &p, "unplug_all, exact usable region");
	bitmap_set(sim->dev_plugged, 100, 200);
	sim->plugged_size = 200 * SZ_2M;
	vmem_engine_request_unplug_all(sim->e);
	vmem_sim_set_config(sim, MIB(300), SZ_1G);
	KUNIT_EXPECT_EQ(test, vmem_sim_settle(test, sim, MAX_RUNS, &ok),
			VMEM_RUN_DONE);
	KUNIT_EXPECT_EQ(test, sim->usable, MIB(300));
	KUNIT_EXPECT_EQ(test, sim->e->cfg_usable, MIB(300));
	KUNIT_EXPECT_EQ(test, sim->plugged_size, MIB(300));
	KUNIT_EXPECT_TRUE(test, ok);
}

/*
 * A usable region that cuts plugged memory (a hostile device): no request
 * goes beyond it; the engine unplugs what it may and then waits.
 */
static void vmem_beyond_usable_test(struct kunit *test)
{
	struct vmem_sim_params p = vmem_test_params();
	struct vmem_sim *sim = vmem_new(test, &p, "usable region cut");
	bool ok = true;

	vmem_sim_set_config(sim, SZ_512M, SZ_1G);
	KUNIT_ASSERT_EQ(test, vmem_sim_settle(test, sim, MAX_RUNS, &ok),
			VMEM_RUN_DONE);
	vmem_sim_set_config(sim, 0, SZ_256M);
	KUNIT_EXPECT_EQ(test, sim->cfg_cut, 1U);
	KUNIT_EXPECT_EQ(test, vmem_sim_settle(test, sim, MAX_RUNS, &ok),
			VMEM_RUN_WAIT_CONFIG);
	KUNIT_EXPECT_EQ(test, sim->e->last_what, VMEM_WHAT_BEYOND_USABLE);
	KUNIT_EXPECT_EQ(test, sim->plugged_size, SZ_256M);
	KUNIT_EXPECT_TRUE(test, ok);
}

static struct kunit_case vmem_edge_test_cases[] = {
	KUNIT_CASE(vmem_retry_test),
	KUNIT_CASE(vmem_invalid_reply_test),
	KUNIT_CASE(vmem_broken_keeps_test),
	KUNIT_CASE(vmem_free_first_test),
	KUNIT_CASE(vmem_mostly_used_test),
	KUNIT_CASE(vmem_sim_device_test),
	KUNIT_CASE(vmem_unplug_all_test),
	KUNIT_CASE(vmem_reserve_poll_test),
	KUNIT_CASE(vmem_hard_failure_test),
	KUNIT_CASE(vmem_foreign_pages_test),
	KUNIT_CASE(vmem_direct_offline_veto_test),
	KUNIT_CASE(vmem_teardown_busy_test),
	KUNIT_CASE(vmem_inflight_online_test),
	KUNIT_CASE(vmem_refused_test),
	KUNIT_CASE(vmem_no_block_test),
	KUNIT_CASE(vmem_unplug_all_exact_test),
	KUNIT_CASE(vmem_beyond_usable_test),
	{}
};

static struct kunit_suite vmem_edge_test_suite = {
	.name = "virtio_mem_edges",
	.test_cases = vmem_edge_test_cases,
};

kunit_test_suite(vmem_edge_test_suite);
