// SPDX-License-Identifier: GPL-2.0
/*
 * KUnit sim: what every part of it uses: op names, the record of rule
 * violations, and fault injection. See vmem_sim.h.
 */
#include <kunit/test.h>
#include <linux/kernel.h>

#include "vmem_sim.h"

static const char * const sim_op_names[VMEM_SIM_NR_OPS] = {
	[VMEM_SIM_REQ] = "request",
	[VMEM_SIM_PLUG] = "plug",
	[VMEM_SIM_UNPLUG] = "unplug",
	[VMEM_SIM_UNPLUG_ALL] = "unplug_all",
	[VMEM_SIM_STATE] = "state",
	[VMEM_SIM_ADD] = "add",
	[VMEM_SIM_REMOVE] = "remove",
	[VMEM_SIM_OFFLINE_AND_REMOVE] = "offline_and_remove",
	[VMEM_SIM_FAKE_OFFLINE] = "fake_offline",
	[VMEM_SIM_FAKE_ONLINE] = "fake_online",
	[VMEM_SIM_ONLINE] = "online",
	[VMEM_SIM_OFFLINE] = "offline",
	[VMEM_SIM_KERNEL_MEM] = "kernel_mem",
	[VMEM_SIM_MAY_TAKE] = "may_take",
};

const char *vmem_sim_op_name(enum vmem_sim_op op)
{
	return op < VMEM_SIM_NR_OPS ? sim_op_names[op] : "?";
}

/* Record a rule the engine broke; the first one is kept for the report. */
__printf(2, 3) void vmem_sim_violation(struct vmem_sim *sim,
				       const char *fmt, ...)
{
	va_list args;

	if (sim->violations++)
		return;
	va_start(args, fmt);
	vsnprintf(sim->violation, sizeof(sim->violation), fmt, args);
	va_end(args);
}

/* Whether a fault hits call @idx of @op on block @mb. */
bool vmem_sim_fault(struct vmem_sim *sim, enum vmem_sim_op op, u64 idx,
		    s64 mb, int *ret)
{
	struct vmem_sim_fault *f;
	unsigned int i;

	for (i = 0; i < sim->nr_faults; i++) {
		f = &sim->faults[i];
		if (f->op != op || (f->hits && !f->sticky))
			continue;
		if (f->index != VMEM_SIM_ANY && (u64)f->index != idx)
			continue;
		if (f->mb != VMEM_SIM_ANY && f->mb != mb)
			continue;
		f->hits++;
		*ret = f->ret;
		return true;
	}
	return false;
}

int vmem_sim_add_fault(struct vmem_sim *sim, enum vmem_sim_op op, s64 index,
		       s64 mb, int ret, bool sticky)
{
	struct vmem_sim_fault *f = NULL;
	unsigned int i;

	/* Reuse the slot of a one-shot fault that hit already. */
	for (i = 0; i < sim->nr_faults && !f; i++)
		if (sim->faults[i].hits && !sim->faults[i].sticky)
			f = &sim->faults[i];
	if (!f) {
		if (sim->nr_faults == VMEM_SIM_MAX_FAULTS)
			return -ENOSPC;
		f = &sim->faults[sim->nr_faults++];
	}
	f->op = op;
	f->index = index;
	f->mb = mb;
	f->ret = ret;
	f->sticky = sticky;
	f->hits = 0;
	return 0;
}
