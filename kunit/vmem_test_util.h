/* SPDX-License-Identifier: GPL-2.0 */
/*
 * KUnit: what the engine suites share (vmem_engine_test.c,
 * vmem_edge_test.c).
 */
#ifndef _VMEM_TEST_UTIL_H
#define _VMEM_TEST_UTIL_H

#include <kunit/test.h>
#include <linux/sizes.h>
#include <linux/string.h>

#include "vmem_sim.h"

#define MIB(x)		((u64)(x) * SZ_1M)
#define BASE		0x100000000ULL	/* 4 GiB */
#define MAX_RUNS	50	/* a step must converge within this many runs */
#define STUCK_RUNS	3	/* runs of a step expected to stop short */
#define MAX_STEPS	8
#define INVALID_REPLY	7	/* not a VIRTIO_MEM_RESP_* */
#define MOVABLE		VMEM_ZONE_MOVABLE
#define KERNEL		VMEM_ZONE_KERNEL
#define NO_ONLINE	VMEM_ZONE_OFFLINE

/* 1 GiB at BASE in 2 MiB blocks, auto-online movable, 1 GiB threshold. */
static inline struct vmem_sim_params vmem_test_params(void)
{
	struct vmem_sim_params p = {
		.e = { .addr = BASE, .region_size = SZ_1G,
		       .block_size = SZ_2M, .mb_size = SZ_128M,
		       .lmb_size = SZ_128M, .sb_size = SZ_2M,
		       .offline_threshold = SZ_1G },
		.unplug_online = true,
		.usable = SZ_1G,
		.auto_online = VMEM_ZONE_MOVABLE,
	};

	return p;
}

static inline struct vmem_sim *vmem_new(struct kunit *test,
					const struct vmem_sim_params *p,
					const char *desc)
{
	struct vmem_sim *sim;
	int rc;

	sim = vmem_sim_create(test, p, &rc);
	KUNIT_ASSERT_NOT_NULL_MSG(test, sim, "%s: vmem_sim_create(): %d",
				  desc, rc);
	strscpy(sim->desc, desc, sizeof(sim->desc));
	return sim;
}

/* Once broken, the engine stays broken and sends or calls nothing. */
static inline bool vmem_check_broken(struct kunit *test, struct vmem_sim *sim)
{
	u64 calls[VMEM_SIM_NR_OPS];
	enum vmem_run_result res;
	unsigned int i;

	memcpy(calls, sim->calls, sizeof(calls));
	for (i = 0; i < 3; i++) {
		if (i == 1)
			vmem_sim_set_config(sim, 0, sim->usable);
		res = vmem_sim_run(sim);
		if (!vmem_sim_check(test, sim))
			return false;
		if (res != VMEM_RUN_BROKEN || sim->e->last_err != -EPROTO ||
		    memcmp(calls, sim->calls, sizeof(calls))) {
			KUNIT_FAIL(test, "%s: run %u after BROKEN: %d (%s: %d), %llu more requests",
				   sim->desc, i, res, vmem_sim_what(sim),
				   sim->e->last_err,
				   sim->calls[VMEM_SIM_REQ] - calls[VMEM_SIM_REQ]);
			return false;
		}
	}
	return true;
}

#endif /* _VMEM_TEST_UTIL_H */
