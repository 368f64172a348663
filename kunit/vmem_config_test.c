// SPDX-License-Identifier: GPL-2.0
/*
 * KUnit: validation of the virtio-mem config space, table-driven.
 */
#include <kunit/test.h>
#include <linux/sizes.h>
#include <linux/string.h>

#include "../include/vmem_config.h"

#define TEST_PAGE_SIZE 4096ULL

/* A QEMU-like device: 8 GiB region at 4 GiB, 2 MiB blocks, 1 GiB plugged. */
static const struct vmem_config vmem_good_config = {
	.block_size = SZ_2M,
	.node_id = 0,
	.addr = 0x100000000ULL,
	.region_size = 8ULL * SZ_1G,
	.usable_region_size = 2ULL * SZ_1G,
	.plugged_size = SZ_1G,
	.requested_size = SZ_1G + SZ_512M,
};

/**
 * struct vmem_config_case - vmem_good_config with one field changed
 * @desc: what the case shows
 * @field: the field changed, by its spec name
 * @value: its new value
 * @bad: whether validation must refuse the result, naming @field and
 *	@value
 */
struct vmem_config_case {
	const char *desc;
	const char *field;
	u64 value;
	bool bad;
};

static const struct vmem_config_case vmem_config_cases[] = {
	{ "QEMU default", "node_id", 0, false },
	{ "node_id is not checked", "node_id", 0xffff, false },
	{ "block_size equal to the page size", "block_size", TEST_PAGE_SIZE,
	  false },
	{ "128 MiB blocks", "block_size", SZ_128M, false },
	{ "512 MiB blocks", "block_size", SZ_512M, false },
	{ "nothing plugged", "plugged_size", 0, false },
	{ "nothing requested", "requested_size", 0, false },
	{ "requested up to the usable end", "requested_size", 2ULL * SZ_1G,
	  false },
	{ "plugged up to the usable end", "plugged_size", 2ULL * SZ_1G,
	  false },
	{ "usable region is the whole region", "usable_region_size",
	  8ULL * SZ_1G, false },
	{ "region ends at the top of the address space", "addr",
	  0ULL - 8ULL * SZ_1G - SZ_2M, false },
	{ "address 0", "addr", 0, false },
	{ "block_size zero", "block_size", 0, true },
	{ "block_size not a power of two", "block_size", 3 * SZ_1M, true },
	{ "block_size below the page size", "block_size", 2048, true },
	{ "block_size of one byte", "block_size", 1, true },
	{ "addr not aligned", "addr", 0x100000000ULL + SZ_1M, true },
	{ "addr off by one page", "addr", 0x100000000ULL + TEST_PAGE_SIZE,
	  true },
	{ "empty region", "region_size", 0, true },
	{ "region_size not aligned", "region_size", 8ULL * SZ_1G + SZ_1M,
	  true },
	{ "region wraps", "region_size", 0ULL - SZ_2M, true },
	{ "region ends exactly at 2^64", "region_size", 0ULL - SZ_4G, true },
	{ "usable_region_size beyond region_size", "usable_region_size",
	  8ULL * SZ_1G + SZ_2M, true },
	{ "usable_region_size not aligned", "usable_region_size",
	  SZ_1G + SZ_4K, true },
	{ "plugged_size not aligned", "plugged_size", SZ_1M, true },
	{ "plugged_size beyond the usable region", "plugged_size",
	  2ULL * SZ_1G + SZ_2M, true },
	{ "requested_size not aligned", "requested_size", SZ_1G + SZ_4K,
	  true },
	{ "requested_size beyond the usable region", "requested_size",
	  2ULL * SZ_1G + SZ_2M, true },
	{ "requested_size beyond the region", "requested_size",
	  16ULL * SZ_1G, true },
};

/* Set a config field by its spec name; false if there is no such field. */
static bool vmem_config_set(struct vmem_config *cfg, const char *field,
			    u64 value)
{
	if (!strcmp(field, "block_size"))
		cfg->block_size = value;
	else if (!strcmp(field, "node_id"))
		cfg->node_id = value;
	else if (!strcmp(field, "addr"))
		cfg->addr = value;
	else if (!strcmp(field, "region_size"))
		cfg->region_size = value;
	else if (!strcmp(field, "usable_region_size"))
		cfg->usable_region_size = value;
	else if (!strcmp(field, "plugged_size"))
		cfg->plugged_size = value;
	else if (!strcmp(field, "requested_size"))
		cfg->requested_size = value;
	else
		return false;
	return true;
}

static void vmem_config_case_desc(const struct vmem_config_case *c,
				  char *desc)
{
	strscpy(desc, c->desc, KUNIT_PARAM_DESC_SIZE);
}

KUNIT_ARRAY_PARAM(vmem_config, vmem_config_cases, vmem_config_case_desc);

static void vmem_config_validate_test(struct kunit *test)
{
	const struct vmem_config_case *c = test->param_value;
	struct vmem_config cfg = vmem_good_config;
	struct vmem_config_error err = { };
	int rc;

	KUNIT_ASSERT_TRUE(test, vmem_config_set(&cfg, c->field, c->value));
	rc = vmem_config_validate(&cfg, TEST_PAGE_SIZE, &err);
	if (!c->bad) {
		KUNIT_EXPECT_EQ(test, rc, 0);
		KUNIT_EXPECT_PTR_EQ(test, err.field, NULL);
		return;
	}
	KUNIT_EXPECT_EQ(test, rc, -EINVAL);
	KUNIT_ASSERT_NOT_NULL(test, err.field);
	KUNIT_EXPECT_STREQ(test, err.field, c->field);
	KUNIT_EXPECT_EQ(test, err.value, c->value);
	KUNIT_EXPECT_NOT_NULL(test, err.reason);
}

/* Only the field that is wrong is named, even if another one changed. */
static void vmem_config_unaligned_request_test(struct kunit *test)
{
	struct vmem_config cfg = vmem_good_config;
	struct vmem_config_error err = { };

	cfg.block_size = SZ_1G;
	KUNIT_EXPECT_EQ(test, vmem_config_validate(&cfg, TEST_PAGE_SIZE, &err),
			-EINVAL);
	KUNIT_EXPECT_STREQ(test, err.field, "requested_size");
	KUNIT_EXPECT_EQ(test, err.value, SZ_1G + SZ_512M);
}

/*
 * Change @field of a copy of vmem_good_config and expect the update to be
 * refused naming it, or accepted if @field is NULL.
 */
static void vmem_expect_update(struct kunit *test, const char *field,
			       u64 value, bool bad)
{
	struct vmem_config new = vmem_good_config;
	struct vmem_config_error err = { };
	int rc;

	KUNIT_ASSERT_TRUE(test, vmem_config_set(&new, field, value));
	rc = vmem_config_validate_update(&vmem_good_config, &new,
					 TEST_PAGE_SIZE, &err);
	if (!bad) {
		KUNIT_EXPECT_EQ_MSG(test, rc, 0, "%s=%llu", field, value);
		return;
	}
	KUNIT_EXPECT_EQ_MSG(test, rc, -EINVAL, "%s=%llu", field, value);
	KUNIT_ASSERT_NOT_NULL(test, err.field);
	KUNIT_EXPECT_STREQ(test, err.field, field);
}

/* The constant fields may not change; the others must still validate. */
static void vmem_config_update_test(struct kunit *test)
{
	vmem_expect_update(test, "requested_size", 2ULL * SZ_1G, false);
	vmem_expect_update(test, "usable_region_size", 4ULL * SZ_1G, false);
	vmem_expect_update(test, "plugged_size", 0, false);
	vmem_expect_update(test, "block_size", SZ_4M, true);
	vmem_expect_update(test, "node_id", 1, true);
	vmem_expect_update(test, "addr", 0x100000000ULL + SZ_2M, true);
	vmem_expect_update(test, "region_size", 8ULL * SZ_1G - SZ_2M, true);
	/* A fresh value that is invalid on its own is refused too. */
	vmem_expect_update(test, "requested_size", 4ULL * SZ_1G, true);
}

static struct kunit_case vmem_config_test_cases[] = {
	KUNIT_CASE_PARAM(vmem_config_validate_test, vmem_config_gen_params),
	KUNIT_CASE(vmem_config_unaligned_request_test),
	KUNIT_CASE(vmem_config_update_test),
	{}
};

static struct kunit_suite vmem_config_test_suite = {
	.name = "virtio_mem_config",
	.test_cases = vmem_config_test_cases,
};

kunit_test_suite(vmem_config_test_suite);
