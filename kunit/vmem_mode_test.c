// SPDX-License-Identifier: GPL-2.0
/*
 * KUnit: the mode and the set-up policy (vmem_mode_pick()), case by case:
 * what production passes for a device and a kernel, and the engine
 * parameters it must get.
 */
#include <kunit/test.h>
#include <linux/sizes.h>

#include "../include/vmem_engine.h"
#include "../include/vmem_mode.h"

#define BASE	0x100000000ULL

struct vmem_mode_case {
	const char *desc;
	/* input */
	u64 block, lmb, pageblock, bbm_size;
	bool force_bbm, memmap_param, unused;
	unsigned int kasan_shift;
	/* expected */
	bool bbm;
	u64 mb, sb, threshold, other;
	bool memmap_on;
	int ret;
};

static const struct vmem_mode_case vmem_mode_cases[] = {
	{ "SBM: QEMU's 2 MiB blocks, Debian's 2 MiB pageblocks", SZ_2M,
	  SZ_128M, SZ_2M, 0, false, true, false, 0,
	  false, SZ_128M, SZ_2M, SZ_1G, 0, true, 0 },
	{ "SBM: 4 KiB blocks take the pageblock", SZ_4K, SZ_128M, SZ_2M, 0,
	  false, true, false, 0, false, SZ_128M, SZ_2M, SZ_1G, 0, true, 0 },
	{ "SBM: a 4 MiB pageblock (no hugetlb)", SZ_2M, SZ_128M, SZ_4M, 0,
	  false, false, false, 0, false, SZ_128M, SZ_4M, SZ_1G, 0, false, 0 },
	{ "SBM with a KASAN shadow of 1/8 of a memory block", SZ_2M, SZ_128M,
	  SZ_2M, 0, false, true, false, 3,
	  false, SZ_128M, SZ_2M, SZ_1G, SZ_16M, true, 0 },
	{ "BBM: 128 MiB blocks, memmap on a one-block big block", SZ_128M,
	  SZ_128M, SZ_2M, 0, false, true, false, 0,
	  true, SZ_128M, SZ_128M, SZ_1G, 0, true, 0 },
	{ "BBM: 1 GiB blocks of several memory blocks: no memmap on them",
	  SZ_1G, SZ_128M, SZ_2M, 0, false, true, false, 0,
	  true, SZ_1G, SZ_1G, SZ_2G, 0, false, 0 },
	{ "memmap not whole pageblocks (4 MiB pageblock): no memmap on it",
	  SZ_4M, SZ_128M, SZ_4M, 0, false, true, false, 0,
	  false, SZ_128M, SZ_4M, SZ_1G, 0, false, 0 },
	{ "force_bbm with 2 MiB blocks", SZ_2M, SZ_128M, SZ_2M, 0, true,
	  true, false, 0, true, SZ_128M, SZ_128M, SZ_1G, 0, true, 0 },
	{ "force_bbm, bbm_block_size 512 MiB", SZ_2M, SZ_128M, SZ_2M, SZ_512M,
	  true, true, false, 0, true, SZ_512M, SZ_512M, SZ_1G, 0, false, 0 },
	{ "bbm_block_size not a power of two: ignored", SZ_2M, SZ_128M,
	  SZ_2M, 3 * SZ_128M, true, true, false, 0, true, SZ_128M, SZ_128M,
	  SZ_1G, 0, true, VMEM_MODE_BBM_SIZE_IGNORED },
	{ "bbm_block_size below the device block: ignored", SZ_1G, SZ_128M,
	  SZ_2M, SZ_512M, false, true, false, 0, true, SZ_1G, SZ_1G, SZ_2G,
	  0, false, VMEM_MODE_BBM_SIZE_IGNORED },
	{ "memmap_on_memory=0", SZ_2M, SZ_128M, SZ_2M, 0, false, false,
	  false, 0, false, SZ_128M, SZ_2M, SZ_1G, 0, false, 0 },
	{ "2 GiB memory blocks: the threshold is two blocks", SZ_2M, SZ_2G,
	  SZ_2M, 0, false, true, false, 0, false, SZ_2G, SZ_2M, 2ULL * SZ_2G,
	  0, true, 0 },
};

static void vmem_mode_desc(const struct vmem_mode_case *c, char *desc)
{
	strscpy(desc, c->desc, KUNIT_PARAM_DESC_SIZE);
}

KUNIT_ARRAY_PARAM(vmem_mode, vmem_mode_cases, vmem_mode_desc);

static void vmem_mode_rules_test(struct kunit *test)
{
	const struct vmem_mode_case *c = test->param_value;
	struct vmem_mode_input in = {
		.addr = BASE, .region_size = 16ULL * SZ_1G,
		.block_size = c->block, .lmb_size = c->lmb,
		.pageblock_size = c->pageblock, .page_size = SZ_4K,
		.struct_page_size = 64, .kasan_shadow_shift = c->kasan_shift,
		.pluggable_start = 0,
		.pluggable_end = U64_MAX, .force_bbm = c->force_bbm,
		.bbm_block_size = c->bbm_size,
		.memmap_on_memory = c->memmap_param,
	};
	struct vmem_engine_params p;

	KUNIT_EXPECT_EQ(test, vmem_mode_pick(&in, &p), c->ret);
	KUNIT_EXPECT_EQ(test, p.bbm, c->bbm);
	KUNIT_EXPECT_EQ(test, p.mb_size, c->mb);
	KUNIT_EXPECT_EQ(test, p.sb_size, c->sb);
	KUNIT_EXPECT_EQ(test, p.lmb_size, c->lmb);
	KUNIT_EXPECT_EQ(test, p.block_size, c->block);
	KUNIT_EXPECT_EQ(test, p.offline_threshold, c->threshold);
	/* 64 bytes of struct page per 4 KiB page. */
	KUNIT_EXPECT_EQ(test, p.memmap_size, c->lmb / 64);
	KUNIT_EXPECT_EQ(test, p.kmem_other_size, c->other);
	KUNIT_EXPECT_EQ(test, p.memmap_on_memory, c->memmap_on);
	KUNIT_EXPECT_EQ(test, p.addr, BASE);
	KUNIT_EXPECT_EQ(test, p.region_size, 16ULL * SZ_1G);
}

/* Only the pluggable part of the region; the usable size counted from it. */
static void vmem_mode_clip_test(struct kunit *test)
{
	struct vmem_mode_input in = {
		.addr = BASE, .region_size = SZ_4G, .block_size = SZ_2M,
		.lmb_size = SZ_128M, .pageblock_size = SZ_2M,
		.page_size = SZ_4K, .struct_page_size = 64,
		.pluggable_start = BASE + SZ_1G, .pluggable_end = BASE + SZ_2G - 1,
	};
	struct vmem_engine_params p;

	vmem_mode_pick(&in, &p);
	KUNIT_EXPECT_EQ(test, p.addr, BASE + SZ_1G);
	KUNIT_EXPECT_EQ(test, p.region_size, (u64)SZ_1G);
	KUNIT_EXPECT_EQ(test, vmem_mode_usable(&p, BASE, SZ_512M), 0ULL);
	KUNIT_EXPECT_EQ(test, vmem_mode_usable(&p, BASE, SZ_1G + SZ_256M),
			(u64)SZ_256M);
	KUNIT_EXPECT_EQ(test, vmem_mode_usable(&p, BASE, SZ_4G), (u64)SZ_1G);
}

static struct kunit_case vmem_mode_test_cases[] = {
	KUNIT_CASE_PARAM(vmem_mode_rules_test, vmem_mode_gen_params),
	KUNIT_CASE(vmem_mode_clip_test),
	{}
};

static struct kunit_suite vmem_mode_test_suite = {
	.name = "virtio_mem_mode",
	.test_cases = vmem_mode_test_cases,
};

kunit_test_suite(vmem_mode_test_suite);
