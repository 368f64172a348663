// SPDX-License-Identifier: GPL-2.0
/*
 * KUnit: the resize engine against the simulated device and memory-hotplug
 * layer of vmem_sim.c. Geometry, sequences of targets, every single fault
 * at every device request and mm call of each sequence, config changes
 * mid-resize, retry backoff, and a random property test. The invariants
 * (vmem_sim_check()) are checked after every engine run.
 */
#include <kunit/test.h>
#include <linux/bitmap.h>
#include <linux/prandom.h>
#include <linux/sizes.h>
#include <linux/string.h>
#include <linux/virtio_mem.h>

#include "vmem_sim.h"
#include "vmem_test_util.h"

/* Totals over the suite. */
static u64 vmem_scenarios, vmem_runs;

/* What the admin does before a step's config change. */
enum vmem_act {
	ACT_END,		/* no step: the end of the sequence */
	ACT_NONE,
	ACT_OFFLINE_TOP,	/* offline the highest online block */
	ACT_OFFLINE_ALL,	/* offline every online block */
	ACT_PIN,		/* pin the lowest granule of a kernel block */
	ACT_UNPIN,		/* unpin everything */
	ACT_MOVE_ON,		/* another task starts onlining block 1 */
	ACT_MOVE_OFF,		/* ...starts offlining the online blocks */
	ACT_MOVE_END,		/* ...completes what it started */
};

/* A config change (sizes in MiB; usable 0: the whole region). */
struct vmem_step {
	u8 act;		/* enum vmem_act, before the change */
	u16 requested, usable;
	bool stuck;	/* the engine must stop short, with a reason */
};

/*
 * A device, a machine and a sequence of targets, sizes in MiB; device
 * blocks of @block bytes (0: 2 MiB), memory blocks of @mb MiB (0: 128).
 */
struct vmem_scenario {
	const char *name;
	u64 addr;
	u16 region, sb;
	enum vmem_zone auto_online;	/* NO_ONLINE: added blocks stay offline */
	u16 threshold;			/* offline_threshold */
	bool unplug_online;
	struct vmem_step steps[MAX_STEPS];	/* ended by ACT_END */
	u32 block;
	u16 mb;
	u16 lmb;	/* Linux memory block, MiB (0: @mb) */
	bool bbm;	/* Big-Block Mode: @sb == @mb */
};

static const struct vmem_scenario vmem_scenarios_table[] = {
	{ "movable: grow, shrink, regrow", BASE, 1024, 2, MOVABLE, 1024, true,
	  { { ACT_NONE, 300 }, { ACT_NONE, 700 }, { ACT_NONE, 1024 },
	    { ACT_NONE, 130 }, { ACT_NONE, 0 }, { ACT_NONE, 258 },
	    { ACT_NONE, 64 } } },
	{ "kernel: grow, shrink", BASE, 1024, 2, KERNEL, 1024, true,
	  { { ACT_NONE, 200 }, { ACT_NONE, 600 }, { ACT_NONE, 100 },
	    { ACT_NONE, 0 } } },
	{ "no auto-online: wait, admin onlines", BASE, 1024, 2, NO_ONLINE,
	  256, true, { { ACT_NONE, 700 }, { ACT_NONE, 100 },
		       { ACT_NONE, 400 }, { ACT_NONE, 0 } } },
	{ "no auto-online: offline memory only", BASE, 1024, 2, NO_ONLINE,
	  1024, false, { { ACT_NONE, 500 }, { ACT_NONE, 100 },
			 { ACT_NONE, 600 }, { ACT_NONE, 0 } } },
	{ "unplug_online off: online memory stays", BASE, 1024, 2, MOVABLE,
	  1024, false,
	  { { ACT_NONE, 400 }, { ACT_NONE, 100, 0, true },
	    { ACT_OFFLINE_TOP, 100, 0, true }, { ACT_OFFLINE_ALL, 100 },
	    { ACT_NONE, 300 } } },
	{ "unaligned region, usable region cuts blocks", BASE + MIB(64), 1024,
	  4, MOVABLE, 1024, true,
	  { { ACT_NONE, 256, 256 }, { ACT_NONE, 1024, 1024 },
	    { ACT_NONE, 102, 1024 }, { ACT_NONE, 0, 1024 } } },
	{ "kernel memory pinned", BASE, 1024, 2, KERNEL, 1024, true,
	  { { ACT_NONE, 256 }, { ACT_PIN, 0, 0, true }, { ACT_UNPIN, 0 } } },
	{ "4 MiB subblocks, kernel", BASE, 512, 4, KERNEL, 1024, true,
	  { { ACT_NONE, 130 }, { ACT_NONE, 30 }, { ACT_NONE, 300 },
	    { ACT_NONE, 0 } } },
	/* The engine keeps its hands off a block in transition. */
	{ "blocks onlined, offlined by another task", BASE, 1024, 2, NO_ONLINE,
	  1024, true, { { ACT_NONE, 200 }, { ACT_MOVE_ON, 400 },
			{ ACT_MOVE_END, 400 }, { ACT_MOVE_OFF, 0, 0, true },
			{ ACT_MOVE_END, 0 } } },
	/* A request covers at most 65535 blocks: 127 subblocks here. */
	{ "4 KiB blocks, 512 MiB memory blocks", BASE, 1024, 2, MOVABLE, 1024,
	  true, { { ACT_NONE, 2 }, { ACT_NONE, 512 }, { ACT_NONE, 300 },
		  { ACT_NONE, 0 } }, SZ_4K, 512 },
	/* Big-Block Mode: blocks plugged, added and removed whole. */
	{ "bbm: 128 MiB device blocks", BASE, 1024, 128, MOVABLE, 1024, true,
	  { { ACT_NONE, 256 }, { ACT_NONE, 1024 }, { ACT_NONE, 300 },
	    { ACT_NONE, 0 }, { ACT_NONE, 512 } }, SZ_128M, 128, 0, true },
	{ "bbm: 512 MiB big blocks of 128 MiB memory blocks, kernel", BASE,
	  2048, 512, KERNEL, 1024, true,
	  { { ACT_NONE, 512 }, { ACT_NONE, 2048 }, { ACT_NONE, 600 },
	    { ACT_NONE, 0 } }, SZ_2M, 512, 128, true },
	{ "bbm: no auto-online: wait, admin onlines", BASE, 2048, 256,
	  NO_ONLINE, 512, true,
	  { { ACT_NONE, 1536 }, { ACT_NONE, 256 }, { ACT_NONE, 0 } },
	  SZ_2M, 256, 128, true },
	{ "bbm: unplug_online off: online memory stays", BASE, 1024, 256,
	  KERNEL, 1024, false,
	  { { ACT_NONE, 512 }, { ACT_NONE, 256, 0, true },
	    { ACT_OFFLINE_ALL, 256 }, { ACT_NONE, 0 } },
	  SZ_128M, 256, 128, true },
	{ "bbm: kernel memory pinned", BASE, 1024, 256, KERNEL, 1024, true,
	  { { ACT_NONE, 256 }, { ACT_PIN, 0, 0, true }, { ACT_UNPIN, 0 } },
	  SZ_2M, 256, 128, true },
};

static const struct vmem_scenario vmem_base = {
	"base", BASE, 1024, 2, MOVABLE, 1024, true,
};

static struct vmem_sim_params vmem_params(const struct vmem_scenario *sc)
{
	struct vmem_sim_params p = {
		.e = { .addr = sc->addr, .region_size = MIB(sc->region),
		       .block_size = sc->block ?: SZ_2M,
		       .mb_size = MIB(sc->mb ?: 128),
		       .lmb_size = MIB(sc->lmb ?: sc->mb ?: 128),
		       .sb_size = MIB(sc->sb),
		       .bbm = sc->bbm,
		       .offline_threshold = MIB(sc->threshold) },
		.unplug_online = sc->unplug_online,
		.usable = MIB(sc->region),
		.auto_online = sc->auto_online,
	};

	return p;
}

static void vmem_free(struct vmem_sim *sim)
{
	vmem_scenarios++;
	vmem_runs += sim->nr_runs;
}

static void vmem_log(struct kunit *test, u64 scenarios, u64 runs)
{
	kunit_info(test, "engine: %llu scenarios, %llu runs",
		   vmem_scenarios - scenarios, vmem_runs - runs);
}

static void vmem_act(struct vmem_sim *sim, u8 act)
{
	u64 mb, g;

	switch (act) {
	case ACT_OFFLINE_TOP:
	case ACT_OFFLINE_ALL:
		for (mb = sim->nr_mbs; mb-- > 0;)
			if (vmem_sim_offline(sim, mb) != -EINVAL &&
			    act == ACT_OFFLINE_TOP)
				break;
		break;
	case ACT_PIN:
		for (g = 0; g < sim->nr_grans; g++)
			if (sim->zone[g / vmem_sim_grans_per_lmb(sim)] ==
			    KERNEL &&
			    !vmem_sim_pin(sim, vmem_sim_gran_addr(sim, g), true))
				break;
		break;
	case ACT_UNPIN:
		bitmap_zero(sim->pinned, sim->nr_grans);
		break;
	case ACT_MOVE_ON:
		vmem_sim_begin_move(sim, 1, MOVABLE);
		break;
	case ACT_MOVE_OFF:
	case ACT_MOVE_END:
		for (mb = 0; mb < sim->nr_mbs; mb++)
			if (act == ACT_MOVE_OFF)
				vmem_sim_begin_move(sim, mb, NO_ONLINE);
			else
				vmem_sim_end_move(sim, mb, false);
		break;
	}
}

/* Whether fault @f is an invalid reply type, which must break the engine. */
static bool vmem_fault_invalid(const struct vmem_sim_fault *f)
{
	return f && f->op <= VMEM_SIM_STATE && f->ret > VIRTIO_MEM_RESP_ERROR;
}

/*
 * The runs of one step, until DONE (STUCK_RUNS for a stuck step); false
 * if a check failed. With a fault @f, a stuck step may end DONE: a fault
 * can leave memory offline, which can be unplugged.
 */
static bool vmem_step_runs(struct kunit *test, struct vmem_sim *sim,
			   const struct vmem_step *s,
			   const struct vmem_sim_fault *f)
{
	unsigned int i, n = s->stuck ? STUCK_RUNS : MAX_RUNS;
	enum vmem_run_result res = VMEM_RUN_RETRY;

	for (i = 0; i < n && res != VMEM_RUN_DONE; i++) {
		res = vmem_sim_run(sim);
		if (!vmem_sim_check(test, sim))
			return false;
		if (res == VMEM_RUN_BROKEN)
			return true;
		if (vmem_fault_invalid(f) && vmem_sim_fault_hits(sim)) {
			KUNIT_FAIL(test, "%s: run %llu got the invalid reply, returned %d (%s: %d)",
				   sim->desc, sim->nr_runs, res,
				   vmem_sim_what(sim), sim->e->last_err);
			return false;
		}
		if (res == VMEM_RUN_WAIT_ONLINE)
			vmem_sim_online_all(sim, sim->admin_zone);
	}
	if (!s->stuck && res != VMEM_RUN_DONE) {
		KUNIT_FAIL(test, "%s: no DONE after %u runs: result %d, %s: %d",
			   sim->desc, n, res, vmem_sim_what(sim),
			   sim->e->last_err);
		return false;
	}
	if (s->stuck && !(f && res == VMEM_RUN_DONE) &&
	    (res != VMEM_RUN_RETRY || sim->plugged_size <= vmem_sim_target(sim))) {
		KUNIT_FAIL(test, "%s: should stop short: result %d, %llu plugged, target %llu",
			   sim->desc, res, sim->plugged_size,
			   vmem_sim_target(sim));
		return false;
	}
	return true;
}

/*
 * Every sequence runs against each host dialect, and under the page rules
 * of each kernel generation.
 */
struct vmem_variant {
	const char *name;
	enum vmem_sim_dialect dialect;
	enum vmem_sim_gen gen;
};

static const struct vmem_variant vmem_variants[] = {
	{ "QEMU, 6.1", VMEM_SIM_QEMU, VMEM_SIM_GEN_6_1 },
	{ "QEMU, 6.11+", VMEM_SIM_QEMU, VMEM_SIM_GEN_6_11 },
	{ "Cloud Hypervisor, 6.1", VMEM_SIM_CLOUD_HV, VMEM_SIM_GEN_6_1 },
	{ "Cloud Hypervisor, 6.11+", VMEM_SIM_CLOUD_HV, VMEM_SIM_GEN_6_11 },
	{ "Firecracker, 6.1", VMEM_SIM_FIRECRACKER, VMEM_SIM_GEN_6_1 },
	{ "Firecracker, 6.11+", VMEM_SIM_FIRECRACKER, VMEM_SIM_GEN_6_11 },
};

/*
 * A scenario on a fresh sim, with at most one fault @f (one-shot); an
 * invalid reply must break the engine. @calls, if not NULL, gets the call
 * counts. Returns whether all held.
 */
static bool vmem_scenario_run(struct kunit *test,
			      const struct vmem_scenario *sc,
			      const struct vmem_variant *v,
			      const struct vmem_sim_fault *f, u64 *calls)
{
	struct vmem_sim_params p = vmem_params(sc);
	const struct vmem_step *s;
	struct vmem_sim *sim;
	bool ok = true, broken;
	char desc[128];
	int n;

	p.dialect = v->dialect;
	p.gen = v->gen;
	n = scnprintf(desc, sizeof(desc), "%s (%s)", sc->name, v->name);
	if (f)
		n += scnprintf(desc + n, sizeof(desc) - n, "; %s #%lld gives %d",
			       vmem_sim_op_name(f->op), f->index, f->ret);
	sim = vmem_new(test, &p, desc);
	if (f)
		vmem_sim_add_fault(sim, f->op, f->index, f->mb, f->ret, false);
	for (s = sc->steps; s < sc->steps + MAX_STEPS && s->act != ACT_END &&
	     ok && sim->last != VMEM_RUN_BROKEN; s++) {
		scnprintf(desc + n, sizeof(desc) - n, "; step %td (%u MiB)",
			  s - sc->steps, s->requested);
		strscpy(sim->desc, desc, sizeof(sim->desc));
		vmem_act(sim, s->act);
		vmem_sim_set_config(sim, MIB(s->requested),
				    MIB(s->usable ?: sc->region));
		ok = vmem_step_runs(test, sim, s, f);
	}
	broken = sim->last == VMEM_RUN_BROKEN;
	if (ok && broken != vmem_fault_invalid(f)) {
		KUNIT_FAIL(test, "%s: %s", sim->desc, broken ? "BROKEN" :
			   "the invalid reply did not break the engine");
		ok = false;
	}
	if (ok && broken)
		ok = vmem_check_broken(test, sim);
	if (ok && f && !vmem_sim_fault_hits(sim)) {
		KUNIT_FAIL(test, "%s: the fault never hit", sim->desc);
		ok = false;
	}
	if (calls)
		memcpy(calls, sim->calls, sizeof(sim->calls));
	vmem_free(sim);
	return ok;
}

#define VMEM_NR_SEQUENCES \
	(ARRAY_SIZE(vmem_scenarios_table) * ARRAY_SIZE(vmem_variants))

/* Parameters: an index into scenarios x variants. */
static const void *vmem_sequence_gen_params(const void *prev, char *desc)
{
	static unsigned long idx[VMEM_NR_SEQUENCES];
	const unsigned long *p = prev;
	unsigned long i = p ? *p + 1 : 0;

	if (i >= VMEM_NR_SEQUENCES)
		return NULL;
	idx[i] = i;
	snprintf(desc, KUNIT_PARAM_DESC_SIZE, "%s (%s)",
		 vmem_scenarios_table[i / ARRAY_SIZE(vmem_variants)].name,
		 vmem_variants[i % ARRAY_SIZE(vmem_variants)].name);
	return &idx[i];
}

/*
 * The sequence without faults; then with each reply at each device request
 * index of the fault-free run, and each transient mm failure at each call
 * index. After a failure, only the other kinds of fault go on.
 */
static void vmem_sequence_test(struct kunit *test)
{
	static const struct {
		enum vmem_sim_op op;
		int ret;
	} faults[] = {
		{ VMEM_SIM_REQ, VIRTIO_MEM_RESP_NACK },
		{ VMEM_SIM_REQ, VIRTIO_MEM_RESP_BUSY },
		{ VMEM_SIM_REQ, VIRTIO_MEM_RESP_ERROR },
		{ VMEM_SIM_REQ, -EIO },		/* no reply */
		{ VMEM_SIM_REQ, INVALID_REPLY },
		{ VMEM_SIM_ADD, -ENOMEM },
		{ VMEM_SIM_ADD, -EBUSY },
		{ VMEM_SIM_FAKE_OFFLINE, -EBUSY },
		{ VMEM_SIM_FAKE_OFFLINE, -ENOMEM },
		{ VMEM_SIM_MAY_TAKE, -ENOSPC },
		{ VMEM_SIM_OFFLINE_AND_REMOVE, -ENOSPC },
		{ VMEM_SIM_OFFLINE_AND_REMOVE, -EBUSY },
		{ VMEM_SIM_REMOVE, -EBUSY },
		{ VMEM_SIM_ONLINE, -ENOMEM },	/* auto-online fails */
	};
	unsigned long idx = *(const unsigned long *)test->param_value;
	const struct vmem_scenario *sc =
		&vmem_scenarios_table[idx / ARRAY_SIZE(vmem_variants)];
	const struct vmem_variant *v =
		&vmem_variants[idx % ARRAY_SIZE(vmem_variants)];
	u64 calls[VMEM_SIM_NR_OPS], s0 = vmem_scenarios, r0 = vmem_runs;
	struct vmem_sim_fault f = { .mb = VMEM_SIM_ANY };
	unsigned int i;

	if (!vmem_scenario_run(test, sc, v, NULL, calls))
		return;
	for (i = 0; i < ARRAY_SIZE(faults); i++) {
		f.op = faults[i].op;
		f.ret = faults[i].ret;
		for (f.index = 0; f.index < calls[f.op]; f.index++)
			if (!vmem_scenario_run(test, sc, v, &f, NULL))
				break;
	}
	vmem_log(test, s0, r0);
}

/*
 * Engine geometry: region, device block, memory block and subblock size;
 * vmem_engine_create()'s result; the whole memory blocks; usable and
 * requested sizes and the target.
 */
struct vmem_geo_case {
	const char *desc;
	u64 addr, region, block, mb, sb;
	int rc;
	u64 first_mb, nr_mbs, usable, requested, target;
};

static const struct vmem_geo_case vmem_geo_cases[] = {
	{ "aligned region", BASE, SZ_1G, SZ_2M, SZ_128M, SZ_2M, 0,
	  BASE, 8, SZ_1G, SZ_1G, SZ_1G },
	{ "region not aligned to memory blocks", BASE + MIB(64), SZ_1G,
	  SZ_2M, SZ_128M, SZ_4M, 0, BASE + SZ_128M, 7, SZ_1G, SZ_1G,
	  MIB(896) },
	{ "region inside one memory block", BASE + SZ_2M, MIB(124), SZ_2M,
	  SZ_128M, SZ_2M, 0, BASE + SZ_128M, 0, MIB(124), MIB(124), 0 },
	{ "usable region cuts a memory block", BASE, SZ_1G, SZ_2M, SZ_128M,
	  SZ_2M, 0, BASE, 8, MIB(200), MIB(200), MIB(200) },
	{ "requested beyond the usable region", BASE, SZ_1G, SZ_2M, SZ_128M,
	  SZ_2M, 0, BASE, 8, MIB(200), SZ_1G, MIB(200) },
	{ "usable region cuts a subblock", BASE, SZ_1G, SZ_2M, SZ_128M,
	  SZ_8M, 0, BASE, 8, MIB(134), MIB(134), SZ_128M },
	{ "usable region ends before the first whole block", BASE + MIB(64),
	  SZ_1G, SZ_2M, SZ_128M, SZ_2M, 0, BASE + SZ_128M, 7, MIB(32),
	  MIB(32), 0 },
	{ "requested not a multiple of the subblock", BASE, SZ_1G, SZ_2M,
	  SZ_128M, SZ_4M, 0, BASE, 8, SZ_1G, MIB(102), MIB(100) },
	{ "one subblock per memory block", BASE, SZ_512M, SZ_2M, SZ_128M,
	  SZ_128M, 0, BASE, 4, SZ_512M, MIB(300), SZ_256M },
	{ "4 KiB device blocks", BASE, SZ_256M, SZ_4K, SZ_128M, SZ_4K, 0,
	  BASE, 2, SZ_256M, MIB(130) + SZ_4K, MIB(130) + SZ_4K },
	{ "sb_size 0", BASE, SZ_1G, SZ_2M, SZ_128M, 0, -EINVAL },
	{ "sb_size not a multiple of block_size", BASE, SZ_1G, SZ_2M, SZ_128M,
	  MIB(3), -EINVAL },
	{ "sb_size below block_size", BASE, SZ_1G, SZ_4M, SZ_128M, SZ_2M,
	  -EINVAL },
	{ "sb_size does not divide mb_size", BASE, SZ_1G, SZ_2M, SZ_128M,
	  MIB(6), -EINVAL },
	{ "sb_size above mb_size", BASE, SZ_1G, SZ_2M, SZ_128M, SZ_256M,
	  -EINVAL },
	{ "block_size 0", BASE, SZ_1G, 0, SZ_128M, SZ_2M, -EINVAL },
	{ "mb_size 0", BASE, SZ_1G, SZ_2M, 0, SZ_2M, -EINVAL },
	{ "memory block not a power of two", BASE, SZ_1G, SZ_2M, MIB(192),
	  MIB(6), -EINVAL },
};

static void vmem_geo_desc(const struct vmem_geo_case *c, char *desc)
{
	strscpy(desc, c->desc, KUNIT_PARAM_DESC_SIZE);
}

KUNIT_ARRAY_PARAM(vmem_geo, vmem_geo_cases, vmem_geo_desc);

/* Geometry and target, then grow to the target and shrink to 0. */
static void vmem_geometry_test(struct kunit *test)
{
	const struct vmem_geo_case *c = test->param_value;
	struct vmem_sim_params p = {
		.e = { .addr = c->addr, .region_size = c->region,
		       .block_size = c->block, .mb_size = c->mb,
		       .lmb_size = c->mb,
		       .sb_size = c->sb, .offline_threshold = SZ_1G },
		.unplug_online = true,
		.auto_online = MOVABLE,
	};
	struct vmem_sim *sim;
	bool ok = true;
	int rc;

	sim = vmem_sim_create(test, &p, &rc);
	KUNIT_EXPECT_EQ(test, sim ? 0 : rc, c->rc);
	if (!sim || c->rc)
		return;
	strscpy(sim->desc, c->desc, sizeof(sim->desc));
	KUNIT_EXPECT_EQ(test, sim->e->first_mb, c->first_mb);
	KUNIT_EXPECT_EQ(test, sim->e->nr_mbs, c->nr_mbs);
	KUNIT_EXPECT_EQ(test, sim->first_mb, c->first_mb);
	vmem_sim_set_config(sim, c->requested, c->usable);
	KUNIT_EXPECT_EQ(test, vmem_sim_target(sim), c->target);
	KUNIT_EXPECT_EQ(test, vmem_sim_settle(test, sim, MAX_RUNS, &ok),
			VMEM_RUN_DONE);
	KUNIT_EXPECT_EQ(test, sim->plugged_size, c->target);
	vmem_sim_set_config(sim, 0, c->usable);
	KUNIT_EXPECT_EQ(test, vmem_sim_settle(test, sim, MAX_RUNS, &ok),
			VMEM_RUN_DONE);
	KUNIT_EXPECT_EQ(test, sim->plugged_size, 0);
	KUNIT_EXPECT_TRUE(test, ok);
	vmem_free(sim);
}

/*
 * A change while the engine dropped its lock: with @before MiB plugged,
 * requested_size becomes @requested; inside the first call of mm op @op,
 * it becomes @new_requested, or the admin offlines memory block 0.
 */
struct vmem_race_case {
	const char *desc;
	enum vmem_zone auto_online;
	u16 before, requested;
	enum vmem_sim_op op;
	u16 new_requested;
	bool offline0;
};

static const struct vmem_race_case vmem_race_cases[] = {
	{ "lowered inside add", MOVABLE, 0, 1024, VMEM_SIM_ADD, 256 },
	{ "zeroed inside add", KERNEL, 0, 512, VMEM_SIM_ADD, 0 },
	{ "raised inside offline_and_remove", MOVABLE, 512, 0,
	  VMEM_SIM_OFFLINE_AND_REMOVE, 1024 },
	{ "lowered inside remove", NO_ONLINE, 512, 0, VMEM_SIM_REMOVE, 300 },
	{ "block 0 offlined inside add", MOVABLE, 128, 512, VMEM_SIM_ADD, 512,
	  true },
};

static void vmem_race_desc(const struct vmem_race_case *c, char *desc)
{
	strscpy(desc, c->desc, KUNIT_PARAM_DESC_SIZE);
}

KUNIT_ARRAY_PARAM(vmem_race, vmem_race_cases, vmem_race_desc);

struct vmem_race {
	const struct vmem_race_case *c;
	u64 plugged;	/* at the change */
};

static void vmem_race_hook(struct vmem_sim *sim, enum vmem_sim_op op,
			   u64 addr)
{
	struct vmem_race *r = sim->hook_priv;

	if (op != r->c->op)
		return;
	sim->hook = NULL;
	r->plugged = sim->plugged_size;
	sim->max_plugged = sim->plugged_size;
	if (r->c->offline0)
		vmem_sim_offline(sim, 0);
	else
		vmem_sim_set_config(sim, MIB(r->c->new_requested),
				    sim->usable);
}

/*
 * The next run plans from what changed, wherever it changed: nothing is
 * plugged beyond the new target after the change.
 */
static void vmem_config_race_test(struct kunit *test)
{
	struct vmem_race r = { .c = test->param_value };
	struct vmem_sim_params p = vmem_params(&vmem_base);
	struct vmem_sim *sim;
	bool ok = true;

	p.auto_online = r.c->auto_online;
	sim = vmem_new(test, &p, r.c->desc);
	vmem_sim_set_config(sim, MIB(r.c->before), SZ_1G);
	vmem_sim_settle(test, sim, MAX_RUNS, &ok);
	sim->hook = vmem_race_hook;
	sim->hook_priv = &r;
	vmem_sim_set_config(sim, MIB(r.c->requested), SZ_1G);
	KUNIT_EXPECT_EQ(test, vmem_sim_settle(test, sim, MAX_RUNS, &ok),
			VMEM_RUN_DONE);
	KUNIT_EXPECT_PTR_EQ(test, sim->hook, NULL);
	KUNIT_EXPECT_EQ(test, sim->plugged_size, MIB(r.c->new_requested));
	KUNIT_EXPECT_LE(test, sim->max_plugged,
			max(r.plugged, MIB(r.c->new_requested)));
	if (r.c->offline0)
		KUNIT_EXPECT_EQ(test, sim->zone[0], VMEM_ZONE_OFFLINE);
	KUNIT_EXPECT_TRUE(test, ok);
	vmem_free(sim);
}

/* A random property run: its seed, region start and subblock size. */
struct vmem_rand_case {
	const char *desc;
	u64 seed, addr, sb;
	bool unplug_online;
	u64 block, mb, lmb;	/* 0: 2 MiB, 128 MiB, @mb */
	bool bbm;
};

static const struct vmem_rand_case vmem_rand_cases[] = {
	{ "2 MiB subblocks", 0x5eed0001, BASE, SZ_2M, true },
	{ "4 MiB subblocks, unaligned region", 0x5eed0002, BASE + MIB(64),
	  SZ_4M, true },
	{ "unplug_online off", 0x5eed0003, BASE, SZ_2M, false },
	{ "8 MiB subblocks", 0x5eed0004, BASE, SZ_8M, true },
	{ "bbm: 128 MiB blocks", 0x5eed0005, BASE, SZ_128M, true, SZ_128M, 0,
	  0, true },
	{ "bbm: 256 MiB big blocks, 2 MiB device blocks", 0x5eed0006,
	  BASE + SZ_256M, SZ_256M, true, 0, SZ_256M, SZ_128M, true },
	{ "bbm: unplug_online off", 0x5eed0007, BASE, SZ_256M, false, 0,
	  SZ_256M, SZ_128M, true },
};

static void vmem_rand_desc(const struct vmem_rand_case *c, char *desc)
{
	strscpy(desc, c->desc, KUNIT_PARAM_DESC_SIZE);
}

KUNIT_ARRAY_PARAM(vmem_rand, vmem_rand_cases, vmem_rand_desc);

#define RAND_STEPS	1000
#define RAND_SETTLE	20	/* steps between two settles */

static u32 vmem_rnd(struct rnd_state *rnd, u32 n)
{
	return prandom_u32_state(rnd) % n;
}

/* One random change: config, fault, admin, pin, policy or transition. */
static void vmem_rnd_action(struct rnd_state *rnd, struct vmem_sim *sim)
{
	static const int replies[] = {
		VIRTIO_MEM_RESP_NACK, VIRTIO_MEM_RESP_BUSY,
		VIRTIO_MEM_RESP_ERROR, -EIO,
	};
	static const enum vmem_sim_op ops[] = {
		VMEM_SIM_ADD, VMEM_SIM_REMOVE, VMEM_SIM_OFFLINE_AND_REMOVE,
		VMEM_SIM_FAKE_OFFLINE, VMEM_SIM_ONLINE,
	};
	u64 bs = sim->p.e.block_size, usable = sim->usable;
	u64 mb = vmem_rnd(rnd, sim->nr_mbs), g;
	u32 r = vmem_rnd(rnd, 100);
	enum vmem_sim_op op;

	if (r < 30) {
		vmem_sim_set_config(sim, bs * vmem_rnd(rnd, usable / bs + 1),
				    usable);
	} else if (r < 35) {	/* the usable region only grows */
		usable += bs * vmem_rnd(rnd, (sim->p.e.region_size - usable) /
					bs + 1);
		vmem_sim_set_config(sim, sim->requested, usable);
	} else if (r < 50) {
		vmem_sim_add_fault(sim, VMEM_SIM_REQ, sim->calls[VMEM_SIM_REQ] +
				   vmem_rnd(rnd, 6), VMEM_SIM_ANY,
				   replies[vmem_rnd(rnd, ARRAY_SIZE(replies))],
				   false);
	} else if (r < 62) {
		op = ops[vmem_rnd(rnd, ARRAY_SIZE(ops))];
		vmem_sim_add_fault(sim, op, sim->calls[op] + vmem_rnd(rnd, 3),
				   VMEM_SIM_ANY,
				   vmem_rnd(rnd, 2) ? -EBUSY : -ENOMEM, false);
	} else if (r < 70) {
		vmem_sim_online(sim, mb, vmem_rnd(rnd, 2) ? KERNEL : MOVABLE);
	} else if (r < 78) {
		vmem_sim_offline(sim, mb);
	} else if (r < 84) {
		g = vmem_rnd(rnd, sim->nr_grans);
		vmem_sim_pin(sim, vmem_sim_gran_addr(sim, g), true);
	} else if (r < 88) {
		bitmap_zero(sim->pinned, sim->nr_grans);
	} else if (r < 92) {
		sim->auto_online = vmem_rnd(rnd, 3);
	} else if (r < 96) {	/* another task starts a transition */
		vmem_sim_begin_move(sim, mb, vmem_rnd(rnd, 3));
	} else {
		vmem_sim_end_move(sim, mb, vmem_rnd(rnd, 2));
	}
}

/*
 * End transitions, clear faults and pins, online what is offline, make
 * room for a shrink if online memory may not be unplugged: then the engine
 * must reach its target.
 */
static bool vmem_rnd_settle(struct kunit *test, struct vmem_sim *sim)
{
	bool ok = true;
	u64 mb;

	for (mb = 0; mb < sim->nr_mbs; mb++)
		vmem_sim_end_move(sim, mb, false);
	vmem_sim_clear_faults(sim);
	bitmap_zero(sim->pinned, sim->nr_grans);
	vmem_sim_online_all(sim, MOVABLE);
	if (!sim->p.unplug_online &&
	    sim->plugged_size > vmem_sim_target(sim))
		for (mb = 0; mb < sim->nr_mbs; mb++)
			vmem_sim_offline(sim, mb);
	KUNIT_EXPECT_EQ_MSG(test, vmem_sim_settle(test, sim, MAX_RUNS, &ok),
			    VMEM_RUN_DONE, "%s: %s: %d", sim->desc,
			    vmem_sim_what(sim), sim->e->last_err);
	return ok && sim->last == VMEM_RUN_DONE;
}

/* Random changes, 1 to 3 runs after each; invariants after every run. */
static void vmem_random_test(struct kunit *test)
{
	const struct vmem_rand_case *c = test->param_value;
	struct vmem_sim_params p = {
		.e = { .addr = c->addr, .region_size = SZ_1G,
		       .block_size = c->block ?: SZ_2M,
		       .mb_size = c->mb ?: SZ_128M,
		       .lmb_size = c->lmb ?: c->mb ?: SZ_128M,
		       .sb_size = c->sb, .offline_threshold = MIB(384),
		       .bbm = c->bbm },
		.unplug_online = c->unplug_online,
		.usable = MIB(300),	/* cuts a memory block */
		.auto_online = MOVABLE,
	};
	u64 s0 = vmem_scenarios, r0 = vmem_runs;
	unsigned int step, i, n, settles = 0;
	struct rnd_state rnd;
	struct vmem_sim *sim;
	bool ok = true;

	kunit_info(test, "seed %#llx", c->seed);
	prandom_seed_state(&rnd, c->seed);
	sim = vmem_new(test, &p, "random");
	for (step = 0; step < RAND_STEPS && ok; step++) {
		snprintf(sim->desc, sizeof(sim->desc), "seed %#llx, step %u",
			 c->seed, step);
		vmem_rnd_action(&rnd, sim);
		n = 1 + vmem_rnd(&rnd, 3);
		for (i = 0; i < n && ok; i++) {
			vmem_sim_run(sim);
			ok = vmem_sim_check(test, sim);
		}
		if (ok && step % RAND_SETTLE == RAND_SETTLE - 1) {
			ok = vmem_rnd_settle(test, sim);
			settles++;
		}
	}
	kunit_info(test, "%u settles; %llu requests, %llu adds, %llu onlines, %llu offlines, %llu fake_offlines",
		   settles, sim->calls[VMEM_SIM_REQ], sim->calls[VMEM_SIM_ADD],
		   sim->calls[VMEM_SIM_ONLINE], sim->calls[VMEM_SIM_OFFLINE],
		   sim->calls[VMEM_SIM_FAKE_OFFLINE]);
	vmem_free(sim);
	vmem_log(test, s0, r0);
}

static void vmem_engine_suite_exit(struct kunit_suite *suite)
{
	pr_info("virtio_mem_engine: %llu scenarios, %llu runs in all\n",
		vmem_scenarios, vmem_runs);
}

static struct kunit_case vmem_engine_test_cases[] = {
	KUNIT_CASE_PARAM(vmem_geometry_test, vmem_geo_gen_params),
	KUNIT_CASE_PARAM(vmem_sequence_test, vmem_sequence_gen_params),
	KUNIT_CASE_PARAM(vmem_config_race_test, vmem_race_gen_params),
	KUNIT_CASE_PARAM(vmem_random_test, vmem_rand_gen_params),
	{}
};

static struct kunit_suite vmem_engine_test_suite = {
	.name = "virtio_mem_engine",
	.suite_exit = vmem_engine_suite_exit,
	.test_cases = vmem_engine_test_cases,
};

kunit_test_suite(vmem_engine_test_suite);
