// SPDX-License-Identifier: GPL-2.0
/*
 * KUnit: the self-check of the books against the device
 * (vmem_check_device()), with the simulated device: a clean
 * resize history gives 0 mismatches over the whole usable region, every
 * kind of disagreement planted in the device is found at its address, and
 * failed or invalid STATE replies are handled.
 */
#include <kunit/test.h>
#include <linux/sizes.h>
#include <linux/virtio_mem.h>

#include "../include/vmem_check.h"
#include "vmem_sim.h"

#define MIB(x) ((u64)(x) << 20)
#define GIB(x) ((u64)(x) << 30)
/* Not aligned to a memory block: the region has edges outside them. */
#define CHECK_BASE (GIB(4) + MIB(64))

struct check_report {
	unsigned int calls;
	u64 addr;
	u16 want;
	u16 got;
};

static void check_report(void *arg, u64 addr, u64 size, u16 want, u16 got)
{
	struct check_report *r = arg;

	if (!r->calls++) {
		r->addr = addr;
		r->want = want;
		r->got = got;
	}
}

static struct vmem_sim *check_sim_mb(struct kunit *test, u64 block, u64 sb,
				     u64 mb, bool bbm, u64 usable)
{
	/* The region starts on a device block. */
	u64 base = ALIGN(CHECK_BASE, block);
	struct vmem_sim_params p = {
		.e = { .addr = base, .region_size = GIB(2),
		       .block_size = block, .mb_size = mb,
		       .lmb_size = mb, .sb_size = sb, .bbm = bbm,
		       .offline_threshold = GIB(2) },
		.unplug_online = true,
		.usable = usable,
		.auto_online = VMEM_ZONE_MOVABLE,
	};
	struct vmem_sim *sim;
	int rc;

	sim = vmem_sim_create(test, &p, &rc);
	KUNIT_ASSERT_NOT_NULL_MSG(test, sim, "vmem_sim_create(): %d", rc);
	snprintf(sim->desc, sizeof(sim->desc), "%s, %llu KiB blocks",
		 bbm ? "bbm" : "sbm", block >> 10);
	return sim;
}

static struct vmem_sim *check_sim(struct kunit *test, u64 block, u64 sb,
				  bool bbm, u64 usable)
{
	return check_sim_mb(test, block, sb, MIB(128), bbm, usable);
}

static void check_resize(struct kunit *test, struct vmem_sim *sim, u64 size)
{
	bool ok = true;

	vmem_sim_set_config(sim, size, sim->usable);
	KUNIT_ASSERT_EQ(test, vmem_sim_settle(test, sim, 50, &ok),
			VMEM_RUN_DONE);
	KUNIT_ASSERT_TRUE(test, ok);
}

static int check_run(struct vmem_sim *sim, struct vmem_check_result *r,
		     struct check_report *rep)
{
	memset(rep, 0, sizeof(*rep));
	return vmem_check_device(sim->e, r, check_report, rep);
}

/* Usable region that cuts a memory block: edges on both sides. */
static void vmem_check_clean_test(struct kunit *test)
{
	struct vmem_sim *sim = check_sim(test, SZ_2M, SZ_2M, false,
					 GIB(1) + MIB(96));
	struct vmem_check_result r;
	struct check_report rep;
	u64 reqs;

	check_resize(test, sim, GIB(1));
	check_resize(test, sim, MIB(350));	/* holes inside blocks */
	reqs = sim->calls[VMEM_SIM_STATE];
	KUNIT_ASSERT_EQ(test, check_run(sim, &r, &rep), 0);
	KUNIT_EXPECT_EQ(test, r.mismatches, 0ULL);
	KUNIT_EXPECT_EQ(test, r.failed, 0ULL);
	KUNIT_EXPECT_EQ(test, rep.calls, 0U);
	/* Every byte of the usable region was asked about, once. */
	KUNIT_EXPECT_EQ(test, r.bytes, sim->usable);
	KUNIT_EXPECT_EQ(test, sim->calls[VMEM_SIM_STATE] - reqs, r.ranges);
	KUNIT_EXPECT_GT(test, r.ranges, 2ULL);
	KUNIT_EXPECT_EQ(test, sim->violations, 0U);
}

/* Plant each kind of disagreement in the device; the check finds it. */
static void vmem_check_mismatch_test(struct kunit *test)
{
	struct vmem_sim *sim = check_sim(test, SZ_2M, MIB(4), false, GIB(2));
	struct vmem_check_result r;
	struct check_report rep;
	u64 plugged_addr, free_addr, head = CHECK_BASE;

	check_resize(test, sim, MIB(200));
	plugged_addr = sim->first_mb + MIB(8);
	free_addr = sim->first_mb + MIB(128) + MIB(100);
	KUNIT_ASSERT_TRUE(test, vmem_sim_dev_plugged(sim, plugged_addr, SZ_2M,
						     true));
	KUNIT_ASSERT_FALSE(test, vmem_sim_dev_plugged(sim, free_addr, SZ_2M,
						      false));

	/* A block the books hold plugged is unplugged at the device. */
	clear_bit(vmem_sim_block(sim, plugged_addr), sim->dev_plugged);
	KUNIT_ASSERT_EQ(test, check_run(sim, &r, &rep), 0);
	KUNIT_EXPECT_EQ(test, r.mismatches, 1ULL);
	KUNIT_EXPECT_EQ(test, rep.calls, 1U);
	KUNIT_EXPECT_LE(test, r.first_addr, plugged_addr);
	KUNIT_EXPECT_GT(test, r.first_addr + r.first_size, plugged_addr);
	KUNIT_EXPECT_EQ(test, r.first_want, (u16)VIRTIO_MEM_STATE_PLUGGED);
	KUNIT_EXPECT_EQ(test, r.first_got, (u16)VIRTIO_MEM_STATE_MIXED);
	set_bit(vmem_sim_block(sim, plugged_addr), sim->dev_plugged);

	/* A block the books hold unplugged is plugged at the device. */
	set_bit(vmem_sim_block(sim, free_addr), sim->dev_plugged);
	KUNIT_ASSERT_EQ(test, check_run(sim, &r, &rep), 0);
	KUNIT_EXPECT_EQ(test, r.mismatches, 1ULL);
	KUNIT_EXPECT_EQ(test, rep.want, (u16)VIRTIO_MEM_STATE_UNPLUGGED);
	KUNIT_EXPECT_LE(test, rep.addr, free_addr);
	clear_bit(vmem_sim_block(sim, free_addr), sim->dev_plugged);

	/* Plugged at the device before the first whole memory block. */
	set_bit(vmem_sim_block(sim, head), sim->dev_plugged);
	KUNIT_ASSERT_EQ(test, check_run(sim, &r, &rep), 0);
	KUNIT_EXPECT_EQ(test, r.mismatches, 1ULL);
	KUNIT_EXPECT_EQ(test, rep.addr, head);
	clear_bit(vmem_sim_block(sim, head), sim->dev_plugged);

	KUNIT_ASSERT_EQ(test, check_run(sim, &r, &rep), 0);
	KUNIT_EXPECT_EQ(test, r.mismatches, 0ULL);
}

/*
 * 4 KiB blocks in 512 MiB memory blocks: a request covers at most 65535
 * blocks, so the region's head (448 MiB) takes 2 requests, the plugged
 * first memory block 3, and the usable 64 MiB of the next one 1.
 */
static void vmem_check_split_test(struct kunit *test)
{
	struct vmem_sim *sim = check_sim_mb(test, SZ_4K, MIB(4), MIB(512),
					    false, GIB(1));
	struct vmem_check_result r;
	struct check_report rep;

	check_resize(test, sim, MIB(512));
	KUNIT_ASSERT_EQ(test, sim->first_mb, GIB(4) + MIB(512));
	KUNIT_ASSERT_TRUE(test, vmem_sim_dev_plugged(sim, sim->first_mb,
						     MIB(512), true));
	KUNIT_ASSERT_EQ(test, check_run(sim, &r, &rep), 0);
	KUNIT_EXPECT_EQ(test, r.mismatches, 0ULL);
	KUNIT_EXPECT_EQ(test, r.bytes, GIB(1));
	KUNIT_EXPECT_EQ(test, r.ranges, 6ULL);
	KUNIT_EXPECT_EQ(test, sim->violations, 0U);
}

/* Big-Block Mode, and replies that are not ACK. */
static void vmem_check_bbm_replies_test(struct kunit *test)
{
	struct vmem_sim *sim = check_sim(test, MIB(128), MIB(128), true,
					 GIB(2));
	struct vmem_check_result r;
	struct check_report rep;

	check_resize(test, sim, MIB(512));
	KUNIT_ASSERT_EQ(test, check_run(sim, &r, &rep), 0);
	KUNIT_EXPECT_EQ(test, r.mismatches, 0ULL);

	/* An ERROR reply: not compared, counted, the check goes on. */
	vmem_sim_add_fault(sim, VMEM_SIM_STATE, VMEM_SIM_ANY, VMEM_SIM_ANY,
			   VIRTIO_MEM_RESP_ERROR, false);
	KUNIT_ASSERT_EQ(test, check_run(sim, &r, &rep), 0);
	KUNIT_EXPECT_EQ(test, r.failed, 1ULL);
	KUNIT_EXPECT_EQ(test, r.mismatches, 0ULL);
	KUNIT_EXPECT_EQ(test, r.bytes + MIB(128), GIB(2));

	/* A reply of no known type: the device is broken. */
	vmem_sim_clear_faults(sim);
	vmem_sim_add_fault(sim, VMEM_SIM_STATE, VMEM_SIM_ANY, VMEM_SIM_ANY, 9,
			   false);
	KUNIT_EXPECT_EQ(test, check_run(sim, &r, &rep), -EPROTO);
	KUNIT_EXPECT_TRUE(test, sim->e->broken);
	KUNIT_EXPECT_EQ(test, check_run(sim, &r, &rep), -ENODEV);
}

static unsigned int map_of(struct vmem_sim *sim, u64 mb, char *buf,
			   size_t len)
{
	enum vmem_mb_state state;

	return vmem_check_mb_map(sim->e, mb, buf, len, &state);
}

/* The map as characters, as runs, and cut short in a small buffer. */
static void vmem_check_map_test(struct kunit *test)
{
	struct vmem_sim *sim = check_sim(test, SZ_2M, SZ_2M, false, GIB(2));
	char buf[300], want[80];

	check_resize(test, sim, MIB(200));
	KUNIT_EXPECT_EQ(test, map_of(sim, 0, buf, sizeof(buf)), 64U);
	memset(want, '#', 64);
	want[64] = '\0';
	KUNIT_EXPECT_STREQ(test, buf, want);
	KUNIT_EXPECT_EQ(test, map_of(sim, 1, buf, sizeof(buf)), 36U);
	memset(want + 36, '.', 28);
	KUNIT_EXPECT_STREQ(test, buf, want);
	KUNIT_EXPECT_EQ(test, map_of(sim, 2, buf, sizeof(buf)), 0U);
	KUNIT_EXPECT_EQ(test, strspn(buf, "."), (size_t)64);
	KUNIT_EXPECT_EQ(test, map_of(sim, 1, buf, 10), 36U);
	KUNIT_EXPECT_EQ(test, strlen(buf), (size_t)0);

	sim = check_sim_mb(test, SZ_2M, SZ_2M, MIB(512), false, GIB(2));
	check_resize(test, sim, MIB(300));
	KUNIT_EXPECT_EQ(test, map_of(sim, 0, buf, sizeof(buf)), 150U);
	KUNIT_EXPECT_STREQ(test, buf, "150# 106.");
	KUNIT_EXPECT_EQ(test, map_of(sim, 1, buf, sizeof(buf)), 0U);
	KUNIT_EXPECT_STREQ(test, buf, "256.");
}

static struct kunit_case vmem_check_cases[] = {
	KUNIT_CASE(vmem_check_map_test),
	KUNIT_CASE(vmem_check_clean_test),
	KUNIT_CASE(vmem_check_mismatch_test),
	KUNIT_CASE(vmem_check_split_test),
	KUNIT_CASE(vmem_check_bbm_replies_test),
	{}
};

static struct kunit_suite vmem_check_suite = {
	.name = "virtio_mem_check",
	.test_cases = vmem_check_cases,
};

kunit_test_suite(vmem_check_suite);
