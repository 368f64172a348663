// SPDX-License-Identifier: GPL-2.0
/*
 * KUnit: a buggy or hostile device. Seeded random configs, good and bad,
 * go through the same pure path as at probe (vmem_config_validate(), then
 * vmem_mode_pick(), then the engine); each accepted one is followed by a
 * random sequence of config updates (vmem_config_validate_update(), as
 * the config-change work does) and replies (NACK, BUSY, ERROR, no reply,
 * unknown types), with the engine invariants of vmem_sim_check() after
 * every engine run.
 *
 * What must hold:
 *  - a config breaking a rule of the spec is refused at probe;
 *  - the mode's geometry lies inside the device region and the pluggable
 *    range, and the engine accepts every geometry built from a valid
 *    config (unless one subblock needs more device blocks than a request
 *    carries, which it refuses with -EINVAL);
 *  - an update changing block_size, addr, region_size or node_id, or
 *    putting requested_size or plugged_size outside the usable region, is
 *    refused and the engine keeps the last good config;
 *  - nothing is plugged outside the usable region (the sim records that
 *    as a violation), books and device agree after every run, and once
 *    faults stop the engine reaches the target or, after a reply of an
 *    unknown type, stays broken and sends nothing more.
 */
#include <kunit/test.h>
#include <linux/log2.h>
#include <linux/prandom.h>
#include <linux/sizes.h>
#include <linux/virtio_mem.h>

#include "../include/vmem_budget.h"
#include "../include/vmem_config.h"
#include "../include/vmem_mode.h"
#include "vmem_sim.h"

#define FUZZ_SEED	0xf022f00dULL
#define FUZZ_CASES	16000
#define FUZZ_STEPS	6	/* config updates per case */
#define FUZZ_MAX_MBS	12	/* memory blocks the pluggable window spans */
#define FUZZ_RUNS	50	/* runs to settle at the end of a case */
#define PAGE		4096ULL
#define UNKNOWN_REPLY	9	/* not a VIRTIO_MEM_RESP_* */

/*
 * Under KASAN (the debug x86 guest, on TCG) a config costs about 100
 * times more: fewer there. (A module parameter would come too late: the
 * suites run when the module is coming, before its parameters are set.)
 */
static const unsigned int fuzz_cases = IS_ENABLED(CONFIG_KASAN) ? 1500 :
								 FUZZ_CASES;

/* What one fuzz run saw, printed at the end. */
struct fuzz_stats {
	u64 cases;
	u64 refused;		/* configs refused at probe */
	u64 engine_refused;	/* valid configs the engine refused */
	u64 updates;		/* config updates tried */
	u64 updates_refused;
	u64 runs;
	u64 broken;		/* cases that ended with a broken device */
	u64 cuts;		/* usable regions cutting plugged memory */
	u64 limited;		/* cases the kernel-memory budget held short */
	u64 cut_short;		/* cases left short by plugged memory beyond
				 * the usable region
				 */
	u64 refused_short;	/* cases left short by ERROR replies */
};

static u64 fuzz_rnd(struct rnd_state *r, u64 n)
{
	u64 v = ((u64)prandom_u32_state(r) << 32) | prandom_u32_state(r);

	return n ? v % n : v;
}

static u64 fuzz_pow2(struct rnd_state *r, unsigned int lo, unsigned int hi)
{
	return 1ULL << (lo + fuzz_rnd(r, hi - lo + 1));
}

/* A multiple of @unit in [0, @max], @max a multiple of @unit. */
static u64 fuzz_mult(struct rnd_state *r, u64 unit, u64 max)
{
	return unit * fuzz_rnd(r, max / unit + 1);
}

/* Mostly good, sometimes broken: each field has a chance to be wrong. */
static void fuzz_config(struct rnd_state *r, struct vmem_config *c)
{
	u64 bs, nblocks;

	bs = fuzz_pow2(r, 12, 30);
	switch (fuzz_rnd(r, 40)) {
	case 0:
		bs = 0;
		break;
	case 1:
		bs = bs + PAGE;		/* not a power of two */
		break;
	case 2:
		bs = 2048;		/* below the page size */
		break;
	}
	c->block_size = bs;
	c->node_id = fuzz_rnd(r, 4);
	bs = bs && is_power_of_2(bs) ? bs : PAGE;
	c->addr = round_up(SZ_4G + fuzz_rnd(r, 1ULL << 40), max(bs, SZ_1G));
	nblocks = 1 + fuzz_rnd(r, max_t(u64, 1, SZ_16G / bs));
	c->region_size = nblocks * bs;
	c->usable_region_size = fuzz_mult(r, bs, c->region_size);
	c->plugged_size = fuzz_rnd(r, 2) ?
			  fuzz_mult(r, bs, c->usable_region_size) : 0;
	c->requested_size = fuzz_mult(r, bs, c->usable_region_size);
	switch (fuzz_rnd(r, 30)) {
	case 0:
		c->addr += PAGE;
		break;
	case 1:
		c->region_size = 0;
		break;
	case 2:
		c->region_size = ~0ULL - c->addr + 1 + bs;	/* wraps */
		break;
	case 3:
		c->usable_region_size = c->region_size + bs;
		break;
	case 4:
		c->plugged_size = c->usable_region_size + bs;
		break;
	case 5:
		c->requested_size = c->usable_region_size + bs;
		break;
	case 6:
		c->requested_size |= 1;
		break;
	case 7:
		c->plugged_size += PAGE / 2;
		break;
	}
}

/* Does @c break a rule of the spec? Computed apart from vmem_config.c. */
static bool fuzz_config_bad(const struct vmem_config *c)
{
	u64 bs = c->block_size;

	if (!bs || !is_power_of_2(bs) || bs < PAGE)
		return true;
	if (c->addr % bs || !c->region_size || c->region_size % bs ||
	    c->addr + c->region_size < c->addr)
		return true;
	if (c->usable_region_size > c->region_size ||
	    c->usable_region_size % bs)
		return true;
	return c->plugged_size % bs || c->requested_size % bs ||
	       c->plugged_size > c->usable_region_size ||
	       c->requested_size > c->usable_region_size;
}

enum fuzz_update {
	UPD_REQUESTED,		/* the good ones */
	UPD_USABLE_GROWS,
	UPD_PLUGGED_DISAGREES,	/* valid config; the books win */
	UPD_USABLE_CUTS,	/* valid sizes, but plugged blocks lie beyond */
	UPD_BAD,		/* from here on: must be refused */
	UPD_BLOCK_SIZE = UPD_BAD,
	UPD_ADDR,
	UPD_REGION_SIZE,
	UPD_NODE_ID,
	UPD_REQUESTED_BEYOND,
	UPD_REQUESTED_UNALIGNED,
	UPD_USABLE_BELOW_PLUGGED,
	UPD_USABLE_BEYOND_REGION,
	UPD_NR,
};

static enum fuzz_update fuzz_update(struct rnd_state *r,
				    const struct vmem_config *old,
				    struct vmem_config *c, u64 dev_plugged)
{
	enum fuzz_update u = fuzz_rnd(r, 2) ? UPD_REQUESTED :
			     fuzz_rnd(r, UPD_NR);
	u64 bs = old->block_size;

	*c = *old;
	c->plugged_size = dev_plugged;
	switch (u) {
	case UPD_REQUESTED:
		c->requested_size = fuzz_mult(r, bs, c->usable_region_size);
		break;
	case UPD_USABLE_GROWS:
		c->usable_region_size += fuzz_mult(r, bs, c->region_size -
						   c->usable_region_size);
		break;
	case UPD_PLUGGED_DISAGREES:
		c->plugged_size = fuzz_mult(r, bs, c->usable_region_size);
		break;
	case UPD_USABLE_CUTS:
		c->usable_region_size = max(dev_plugged, c->usable_region_size / 2);
		c->usable_region_size = round_up(c->usable_region_size, bs);
		c->requested_size = min(c->requested_size,
					c->usable_region_size);
		break;
	case UPD_BLOCK_SIZE:
		c->block_size <<= 1;
		break;
	case UPD_ADDR:
		c->addr += bs;
		break;
	case UPD_REGION_SIZE:
		c->region_size = fuzz_rnd(r, 2) ? c->region_size + bs :
						  c->region_size - bs;
		break;
	case UPD_NODE_ID:
		c->node_id ^= 1;
		break;
	case UPD_REQUESTED_BEYOND:
		c->requested_size = c->usable_region_size + bs;
		break;
	case UPD_REQUESTED_UNALIGNED:
		c->requested_size += PAGE / 2;
		break;
	case UPD_USABLE_BELOW_PLUGGED:
		if (!dev_plugged)
			return UPD_REQUESTED;	/* nothing to shrink below */
		c->usable_region_size = dev_plugged - bs;
		c->requested_size = min(c->requested_size,
					c->usable_region_size);
		break;
	case UPD_USABLE_BEYOND_REGION:
		c->usable_region_size = c->region_size + bs;
		break;
	default:
		break;
	}
	return u;
}

/* A random reply or mm fault for one of the next few calls. */
static void fuzz_fault(struct rnd_state *r, struct vmem_sim *sim)
{
	static const int replies[] = {
		VIRTIO_MEM_RESP_NACK, VIRTIO_MEM_RESP_BUSY,
		VIRTIO_MEM_RESP_ERROR, -EIO, UNKNOWN_REPLY,
	};
	static const enum vmem_sim_op ops[] = {
		VMEM_SIM_ADD, VMEM_SIM_REMOVE, VMEM_SIM_OFFLINE_AND_REMOVE,
		VMEM_SIM_FAKE_OFFLINE,
	};
	/* Transient only: a hard add failure may leave the target short. */
	static const int errs[] = { -EBUSY, -ENOMEM, -ENOSPC };
	enum vmem_sim_op op;
	u64 pick = fuzz_rnd(r, 100);

	if (pick < 30) {
		/* An unknown reply type is rare: it ends the case. */
		vmem_sim_add_fault(sim, VMEM_SIM_REQ,
				   sim->calls[VMEM_SIM_REQ] + fuzz_rnd(r, 4),
				   VMEM_SIM_ANY,
				   replies[fuzz_rnd(r, ARRAY_SIZE(replies) -
						   !!fuzz_rnd(r, 8))], false);
	} else if (pick < 45) {
		op = ops[fuzz_rnd(r, ARRAY_SIZE(ops))];
		vmem_sim_add_fault(sim, op, sim->calls[op] + fuzz_rnd(r, 3),
				   VMEM_SIM_ANY,
				   errs[fuzz_rnd(r, ARRAY_SIZE(errs))], false);
	}
}

/* The geometry vmem_mode_pick() chose, against the rules it documents. */
static bool fuzz_check_mode(struct kunit *test, const struct vmem_mode_input *in,
			    const struct vmem_engine_params *p)
{
	bool ok = true;

#define FUZZ_EXPECT(cond, fmt, ...) do {				\
	if (!(cond)) {							\
		KUNIT_FAIL(test, "mode: " fmt, ##__VA_ARGS__);		\
		ok = false;						\
	}								\
} while (0)
	FUZZ_EXPECT(p->bbm == (in->force_bbm ||
			       in->block_size >= in->lmb_size),
		    "bbm %d for block %llu, memory block %llu", p->bbm,
		    in->block_size, in->lmb_size);
	FUZZ_EXPECT(p->sb_size % in->block_size == 0 &&
		    p->mb_size % p->sb_size == 0 &&
		    p->mb_size % in->lmb_size == 0 &&
		    is_power_of_2(p->mb_size),
		    "sb %llu mb %llu for block %llu, memory block %llu",
		    p->sb_size, p->mb_size, in->block_size, in->lmb_size);
	FUZZ_EXPECT(p->bbm ? p->sb_size == p->mb_size :
		    p->sb_size >= in->pageblock_size,
		    "sb %llu in %s", p->sb_size, p->bbm ? "bbm" : "sbm");
	FUZZ_EXPECT(p->region_size && p->addr >= in->addr &&
		    p->addr >= in->pluggable_start &&
		    p->addr + p->region_size - 1 <= in->pluggable_end &&
		    p->addr + p->region_size <= in->addr + in->region_size,
		    "region %#llx+%#llx outside %#llx+%#llx or the pluggable [%#llx, %#llx]",
		    p->addr, p->region_size, in->addr, in->region_size,
		    in->pluggable_start, in->pluggable_end);
#undef FUZZ_EXPECT
	return ok;
}

/*
 * Does the next add cross the kernel-memory floor, by the sim's own
 * figures? The cheapest add counts: with its memmap on it, if Linux
 * allows that.
 */
static bool fuzz_budget_short(const struct vmem_sim *sim,
			      const struct vmem_sim_params *sp)
{
	struct vmem_kmem k = { sim->kmem_avail, sim->kmem_managed };
	u64 memmap_bytes = sp->e.memmap_size * (sp->e.mb_size / sp->e.lmb_size);
	u64 need = vmem_sim_target(sim) - sim->plugged_size;
	/* The memmap takes whole subblocks. */
	u64 memmap_sbs = roundup(memmap_bytes, sp->e.sb_size);
	/*
	 * The documented policy (design.rst): a new block carries its memmap
	 * only when more than the memmap is needed, and in SBM only when the
	 * memmap leaves the block room.
	 */
	bool memmap = sp->e.memmap_on_memory && sim->memmap_ok &&
		      (sp->e.bbm || (need > memmap_sbs &&
				     memmap_sbs < sp->e.mb_size));
	u64 mb, a;

	/*
	 * A block left plugged by a failed add goes first, with its memmap
	 * on it only if that part is plugged.
	 */
	for (mb = 0; mb < sim->nr_mbs; mb++) {
		a = vmem_sim_mb_addr(sim, mb);
		if (test_bit(mb, sim->added) ||
		    !vmem_sim_dev_plugged(sim, a, sp->e.mb_size, false))
			continue;
		memmap = sp->e.memmap_on_memory && sim->memmap_ok &&
			 (sp->e.bbm || memmap_sbs < sp->e.mb_size) &&
			 vmem_sim_dev_plugged(sim, a, memmap_sbs, true);
		break;
	}

	return !vmem_budget_allows(&k, vmem_budget_cost(sp->e.mb_size,
							sp->e.lmb_size,
							sp->e.memmap_size,
							sp->e.kmem_other_size,
							memmap));
}

/* Is a device block beyond the device's usable region plugged? */
static bool fuzz_beyond_usable(const struct vmem_sim *sim)
{
	u64 first = sim->usable / sim->p.e.block_size;

	return first < sim->nr_blocks &&
	       find_next_bit(sim->dev_plugged, sim->nr_blocks, first) <
	       sim->nr_blocks;
}

/*
 * The kernel's geometry and parameters for @cfg, and a pluggable window
 * in the region, into @in and @sp. Returns false on a failure.
 */
static bool fuzz_params(struct kunit *test, struct rnd_state *r,
			const struct vmem_config *cfg,
			struct vmem_mode_input *in, struct vmem_sim_params *sp)
{
	u64 span;

	in->addr = cfg->addr;
	in->region_size = cfg->region_size;
	in->block_size = cfg->block_size;
	in->lmb_size = fuzz_rnd(r, 4) ? SZ_128M : fuzz_pow2(r, 27, 31);
	in->pageblock_size = fuzz_rnd(r, 2) ? SZ_2M : SZ_4M;
	in->force_bbm = !fuzz_rnd(r, 5);
	in->bbm_block_size = fuzz_rnd(r, 4) ? 0 : fuzz_rnd(r, 2) ?
			     fuzz_pow2(r, 26, 32) : fuzz_rnd(r, SZ_1G);
	/* At most 2^16 device blocks: the sim's bitmaps stay small. */
	span = min(FUZZ_MAX_MBS * max3(in->lmb_size, cfg->block_size,
				       in->bbm_block_size),
		   cfg->block_size << 16);
	/*
	 * The window starts at or before the region (on x86 the pluggable
	 * range starts at 0), so device and engine count the usable region
	 * from the same address.
	 */
	in->pluggable_start = cfg->addr - PAGE * fuzz_rnd(r, 2);
	in->pluggable_end = cfg->addr + span - 1;
	/* The policy inputs production passes (vmem_hotplug.c). */
	in->page_size = PAGE;
	in->struct_page_size = 64;
	in->kasan_shadow_shift = fuzz_rnd(r, 4) ? 0 : 3;
	in->memmap_on_memory = fuzz_rnd(r, 2);
	vmem_mode_pick(in, &sp->e);
	if (!fuzz_check_mode(test, in, &sp->e))
		return false;
	sp->unplug_online = fuzz_rnd(r, 4);
	sp->usable = vmem_mode_usable(&sp->e, cfg->addr, cfg->usable_region_size);
	sp->auto_online = fuzz_rnd(r, 3);
	sp->gen = fuzz_rnd(r, 2);
	sp->dialect = fuzz_rnd(r, 3);
	/* memmap_on_memory offered or not; kernel memory. */
	sp->memmap_ok = fuzz_rnd(r, 2);
	if (!fuzz_rnd(r, 4)) {
		sp->kmem_avail = VMEM_BUDGET_FLOOR_MIN + fuzz_rnd(r, SZ_256M);
		sp->kmem_managed = SZ_1G;
	}
	return true;
}

/* FUZZ_STEPS config updates, each followed by runs under faults. */
static bool fuzz_updates(struct kunit *test, struct rnd_state *r,
			 struct vmem_sim *sim, struct vmem_config *cfg,
			 const struct vmem_sim_params *sp,
			 enum vmem_run_result *res, struct fuzz_stats *st)
{
	struct vmem_config_error err;
	struct vmem_config upd;
	enum fuzz_update u;
	unsigned int step, i;
	bool ok = true;
	int rc;

	for (step = 0; ok && step < FUZZ_STEPS && *res != VMEM_RUN_BROKEN;
	     step++) {
		/* UNPLUG_ALL may have shrunk the device's usable region. */
		cfg->usable_region_size = min(cfg->usable_region_size,
					      sim->usable);
		cfg->requested_size = min(cfg->requested_size,
					  cfg->usable_region_size);
		u = fuzz_update(r, cfg, &upd, sim->plugged_size);
		st->updates++;
		rc = vmem_config_validate_update(cfg, &upd, PAGE, &err);
		if (u >= UPD_BAD && !rc) {
			KUNIT_FAIL(test, "%s: hostile update %d accepted",
				   sim->desc, u);
			ok = false;
			break;
		}
		if (rc) {
			st->updates_refused++;
		} else {
			*cfg = upd;
			vmem_sim_set_config(sim, cfg->requested_size,
					    vmem_mode_usable(&sp->e, cfg->addr,
							     cfg->usable_region_size));
		}
		for (i = 0; i < 1 + fuzz_rnd(r, 3); i++) {
			fuzz_fault(r, sim);
			*res = vmem_sim_run(sim);
			ok &= vmem_sim_check(test, sim);
			if (!ok || *res == VMEM_RUN_BROKEN)
				break;
		}
	}
	return ok;
}

/*
 * How a case ended, with the faults cleared and everything settled: at
 * the target, or short for a reason the sim itself confirms.
 */
static bool fuzz_judge_end(struct kunit *test, struct vmem_sim *sim,
			   const struct vmem_sim_params *sp,
			   enum vmem_run_result res, struct fuzz_stats *st)
{
	bool ok = true;
	u64 b;

	if (res == VMEM_RUN_BROKEN) {
		b = sim->calls[VMEM_SIM_REQ];
		res = vmem_sim_run(sim);
		if (res != VMEM_RUN_BROKEN || sim->calls[VMEM_SIM_REQ] != b) {
			KUNIT_FAIL(test, "%s: a broken device got a request",
				   sim->desc);
			ok = false;
		}
		/* Broken only for a reply of no known type. */
		if (!sim->invalid_replies) {
			KUNIT_FAIL(test, "%s: broken without an invalid reply",
				   sim->desc);
			ok = false;
		}
		st->broken++;
	} else if (res == VMEM_RUN_RETRY && sim->e->budget_limited &&
		   sim->plugged_size < vmem_sim_target(sim)) {
		/* Held short by the budget: by the sim's own kernel memory. */
		if (!fuzz_budget_short(sim, sp)) {
			KUNIT_FAIL(test,
				   "%s: stopped at the budget with %llu kernel memory left (managed %llu, mb %#llx, lmb %#llx, memmap %llu, other %llu, memmap_on %d/%d)",
				   sim->desc, sim->kmem_avail, sim->kmem_managed,
				   sp->e.mb_size, sp->e.lmb_size, sp->e.memmap_size,
				   sp->e.kmem_other_size, sp->e.memmap_on_memory,
				   sim->memmap_ok);
			ok = false;
		}
		if (sim->kmem_min < VMEM_BUDGET_FLOOR_MIN) {
			KUNIT_FAIL(test, "%s: kernel memory went down to %llu",
				   sim->desc, sim->kmem_min);
			ok = false;
		}
		st->limited++;
	} else if (res == VMEM_RUN_WAIT_CONFIG && fuzz_beyond_usable(sim)) {
		/* A hostile region cut plugged memory: no request goes there. */
		st->cut_short++;
	} else if (res == VMEM_RUN_WAIT_CONFIG &&
		   sim->error_replies >= VMEM_REFUSED_AFTER) {
		/* ERROR after ERROR: left alone until the target changes. */
		st->refused_short++;
	} else if (res != VMEM_RUN_DONE ||
		   sim->plugged_size != vmem_sim_target(sim)) {
		KUNIT_FAIL(test, "%s: no end: run result %d, plugged %#llx, target %#llx, %s: %d",
			   sim->desc, res, sim->plugged_size,
			   vmem_sim_target(sim), vmem_sim_what(sim),
			   sim->e->last_err);
		ok = false;
	}
	return ok;
}

/* One config, then FUZZ_STEPS updates. Returns false on a failure. */
static bool fuzz_case(struct kunit *test, struct rnd_state *r,
		      struct fuzz_stats *st)
{
	struct vmem_config cfg;
	struct vmem_config_error err;
	struct vmem_mode_input in = { };
	struct vmem_sim_params sp = { };
	struct vmem_sim *sim;
	enum vmem_run_result res;
	bool ok = true, bad;
	u64 nb, b;
	int rc;

	fuzz_config(r, &cfg);
	bad = fuzz_config_bad(&cfg);
	rc = vmem_config_validate(&cfg, PAGE, &err);
	if (bad != !!rc) {
		KUNIT_FAIL(test, "config %s, although %s:", rc ? "refused" : "accepted",
			   bad ? "it breaks the spec" : "it is valid");
		KUNIT_FAIL(test, "bs %#llx addr %#llx region %#llx usable %#llx",
			   cfg.block_size, cfg.addr, cfg.region_size,
			   cfg.usable_region_size);
		KUNIT_FAIL(test, "plugged %#llx requested %#llx",
			   cfg.plugged_size, cfg.requested_size);
		return false;
	}
	if (rc) {
		st->refused++;
		return true;
	}

	if (!fuzz_params(test, r, &cfg, &in, &sp))
		return false;
	sim = vmem_sim_create(test, &sp, &rc);
	if (!sim) {
		if (rc == -EINVAL &&
		    sp.e.sb_size / sp.e.block_size > U16_MAX) {
			st->engine_refused++;
			return true;
		}
		KUNIT_FAIL(test, "engine refused a valid config: %d", rc);
		KUNIT_FAIL(test, "block %#llx sb %#llx mb %#llx lmb %#llx bbm %d",
			   sp.e.block_size, sp.e.sb_size, sp.e.mb_size,
			   sp.e.lmb_size, sp.e.bbm);
		KUNIT_FAIL(test, "region %#llx+%#llx", sp.e.addr,
			   sp.e.region_size);
		return false;
	}
	snprintf(sim->desc, sizeof(sim->desc), "fuzz case %llu", st->cases);
	st->cases++;

	/* Memory left plugged by a previous driver: UNPLUG_ALL first. */
	if (cfg.plugged_size && sim->nr_blocks) {
		nb = min(cfg.plugged_size / sp.e.block_size, sim->nr_blocks);
		for (b = 0; b < nb; b++)
			set_bit(fuzz_rnd(r, sim->nr_blocks), sim->dev_plugged);
		sim->plugged_size = sp.e.block_size *
			bitmap_weight(sim->dev_plugged, sim->nr_blocks);
		vmem_engine_request_unplug_all(sim->e);
	}
	vmem_sim_set_config(sim, cfg.requested_size, sim->usable);
	res = vmem_sim_run(sim);
	ok &= vmem_sim_check(test, sim);

	if (ok)
		ok = fuzz_updates(test, r, sim, &cfg, &sp, &res, st);
	st->cuts += sim->cfg_cut;
	if (ok) {
		vmem_sim_clear_faults(sim);
		vmem_sim_online_all(sim, VMEM_ZONE_MOVABLE);
		if (!sp.unplug_online)
			for (b = 0; b < sim->nr_mbs; b++)
				vmem_sim_offline(sim, b);
		res = vmem_sim_settle(test, sim, FUZZ_RUNS, &ok);
	}
	if (ok)
		ok = fuzz_judge_end(test, sim, &sp, res, st);
	st->runs += sim->nr_runs;
	return ok;
}

static void vmem_fuzz_test(struct kunit *test)
{
	struct fuzz_stats st = { };
	struct rnd_state r;
	unsigned int i;
	u64 want;

	prandom_seed_state(&r, FUZZ_SEED);
	for (i = 0; i < fuzz_cases; i++)
		if (!fuzz_case(test, &r, &st)) {
			kunit_info(test, "failed at config %u of seed %#llx",
				   i, FUZZ_SEED);
			break;
		}
	kunit_info(test,
		   "seed %#llx: %u configs: %llu refused at probe, %llu refused by the engine, %llu run: %llu updates (%llu refused), %llu engine runs, %llu ended broken, %llu held short by kernel memory, %llu usable regions cutting plugged memory, %llu cases left short by them, %llu by ERROR replies",
		   FUZZ_SEED, i, st.refused, st.engine_refused, st.cases,
		   st.updates, st.updates_refused, st.runs, st.broken,
		   st.limited, st.cuts, st.cut_short, st.refused_short);
	/* About two configs in three are valid and run. */
	want = fuzz_cases / 2;
	if (fuzz_cases >= FUZZ_CASES)
		want = 10000;
	KUNIT_EXPECT_GE(test, st.cases, want);
}

static struct kunit_case vmem_fuzz_cases[] = {
	KUNIT_CASE(vmem_fuzz_test),
	{}
};

static struct kunit_suite vmem_fuzz_suite = {
	.name = "virtio_mem_fuzz",
	.test_cases = vmem_fuzz_cases,
};

kunit_test_suite(vmem_fuzz_suite);
