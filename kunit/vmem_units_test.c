// SPDX-License-Identifier: GPL-2.0
/*
 * KUnit: size and unit helpers.
 */
#include <kunit/test.h>
#include <linux/prandom.h>
#include <linux/sizes.h>

#include "../include/vmem_units.h"

struct vmem_size_case {
	u64 bytes;
	const char *text;
};

static const struct vmem_size_case vmem_size_cases[] = {
	{ 0, "0 B" },
	{ 1, "1 B" },
	{ 1023, "1023 B" },
	{ SZ_1K, "1 KiB" },
	{ SZ_4K + 1, "4097 B" },
	{ SZ_2M, "2 MiB" },
	{ SZ_1G + SZ_512M, "1536 MiB" },
	{ SZ_128M, "128 MiB" },
	{ 8ULL * SZ_1G, "8 GiB" },
	{ 1ULL << 40, "1 TiB" },
	{ 1ULL << 50, "1 PiB" },
	{ 1ULL << 60, "1 EiB" },
	{ 1ULL << 63, "8 EiB" },
	{ ~0ULL, "18446744073709551615 B" },
};

static void vmem_size_case_desc(const struct vmem_size_case *c, char *desc)
{
	snprintf(desc, KUNIT_PARAM_DESC_SIZE, "%llu", c->bytes);
}

KUNIT_ARRAY_PARAM(vmem_size, vmem_size_cases, vmem_size_case_desc);

static void vmem_format_size_test(struct kunit *test)
{
	const struct vmem_size_case *c = test->param_value;
	char buf[VMEM_SIZE_STR_LEN];

	KUNIT_EXPECT_PTR_EQ(test, vmem_format_size(buf, sizeof(buf), c->bytes),
			    (const char *)buf);
	KUNIT_EXPECT_STREQ(test, buf, c->text);
}

/* A short buffer truncates but stays terminated. */
static void vmem_format_size_short_test(struct kunit *test)
{
	char buf[4];

	vmem_format_size(buf, sizeof(buf), SZ_2M);
	KUNIT_EXPECT_STREQ(test, buf, "2 M");
}

#define CHUNK_SEED	0xa11a11edULL
#define CHUNK_RUNS	20000
#define MAX_ORDER_X86	10

/*
 * A run of pages cut by vmem_chunk_order(), as the driver hands it to the
 * buddy: the chunks tile the run exactly, each is naturally aligned
 * (pfn % 2^order == 0), none is above the largest order, and each is as
 * large as alignment and what is left allow. Random runs, and the one
 * that showed the bug: subblocks 61-63 of a memory block.
 */
static void vmem_chunk_order_test(struct kunit *test)
{
	struct rnd_state rnd;
	u64 pfn, nr, end, p, left, bad = 0, n;
	unsigned int order, i;

	prandom_seed_state(&rnd, CHUNK_SEED);
	for (i = 0; i <= CHUNK_RUNS; i++) {
		if (i < CHUNK_RUNS) {
			pfn = prandom_u32_state(&rnd) % (1U << 22);
			nr = 1 + prandom_u32_state(&rnd) % (1U << 13);
		} else {
			pfn = 0x100000 + 61 * 512;	/* 4 GiB + subblock 61 */
			nr = 3 * 512;
		}
		end = pfn + nr;
		for (p = pfn, n = 0; p < end; p += 1ULL << order, n++) {
			left = end - p;
			order = vmem_chunk_order(p, left, MAX_ORDER_X86);
			if (p & ((1ULL << order) - 1) || (1ULL << order) > left ||
			    order > MAX_ORDER_X86 ||
			    (order < MAX_ORDER_X86 &&
			     !(p & ((2ULL << order) - 1)) &&
			     (2ULL << order) <= left))
				bad++;
		}
		if (bad) {
			KUNIT_FAIL(test,
				   "seed %#llx, run %u: pfn %#llx nr %llu: chunk %#llx order %u",
				   CHUNK_SEED, i, pfn, nr, p, order);
			return;
		}
		KUNIT_EXPECT_EQ(test, p, end);
	}
	kunit_info(test, "seed %#llx: %u runs cut", CHUNK_SEED, CHUNK_RUNS + 1);
}

static struct kunit_case vmem_units_test_cases[] = {
	KUNIT_CASE(vmem_chunk_order_test),
	KUNIT_CASE_PARAM(vmem_format_size_test, vmem_size_gen_params),
	KUNIT_CASE(vmem_format_size_short_test),
	{}
};

static struct kunit_suite vmem_units_test_suite = {
	.name = "virtio_mem_units",
	.test_cases = vmem_units_test_cases,
};

kunit_test_suite(vmem_units_test_suite);
