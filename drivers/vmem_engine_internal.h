/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Shared by the engine's two files: vmem_engine.c (the run loop, config,
 * events, set-up) and vmem_plan.c (what to plug and unplug next). Not for
 * the glue: it goes through include/vmem_engine.h.
 */
#ifndef _VMEM_ENGINE_INTERNAL_H
#define _VMEM_ENGINE_INTERNAL_H

#include <linux/bitmap.h>
#include <linux/errno.h>

#include "../include/vmem_engine.h"

/* nb_blocks is 16 bits wide. */
#define VMEM_MAX_BLOCKS_PER_REQ 65535

static inline u64 mb_addr(const struct vmem_engine *e, u64 mb)
{
	return e->first_mb + mb * e->p.mb_size;
}

static inline u64 sb_addr(const struct vmem_engine *e, u64 mb,
			  unsigned int sb)
{
	return mb_addr(e, mb) + (u64)sb * e->p.sb_size;
}

static inline unsigned long sb_bit(const struct vmem_engine *e, u64 mb,
				   unsigned int sb)
{
	return mb * e->sbs_per_mb + sb;
}

static inline bool sb_plugged(const struct vmem_engine *e, u64 mb,
			      unsigned int sb)
{
	return test_bit(sb_bit(e, mb, sb), e->sb_plugged);
}

/* Whether subblock @sb of @mb lies wholly inside the usable region. */
static inline bool sb_usable(const struct vmem_engine *e, u64 mb,
			     unsigned int sb)
{
	return sb_addr(e, mb, sb) + e->p.sb_size <= e->p.addr + e->usable;
}

/* Plugged subblocks of @mb: only its own bits are looked at. */
static inline unsigned int mb_plugged_sbs(const struct vmem_engine *e, u64 mb)
{
	unsigned long bit = sb_bit(e, mb, 0);
	unsigned long end = bit + e->sbs_per_mb;
	unsigned int n = 0;

	for_each_set_bit_from(bit, e->sb_plugged, end)
		n++;
	return n;
}

/*
 * Subblocks at the start of @mb that hold its memmap: plugged before the
 * block was added with memmap_on_memory, never unplugged while it is
 * added. 0 for every other block.
 */
static inline unsigned int mb_memmap_sbs(const struct vmem_engine *e, u64 mb)
{
	return test_bit(mb, e->mb_memmap) ? e->memmap_sbs : 0;
}

/* Is any Linux memory block of @mb in an online/offline transition? */
static inline bool mb_moving(const struct vmem_engine *e, u64 mb)
{
	unsigned long end = (mb + 1) * e->lmbs_per_mb;

	return find_next_bit(e->lmb_moving, end, mb * e->lmbs_per_mb) < end;
}

static inline bool mb_online(const struct vmem_engine *e, u64 mb)
{
	return e->mb_state[mb] == VMEM_MB_KERNEL ||
	       e->mb_state[mb] == VMEM_MB_MOVABLE;
}

static inline u64 count_mbs(const struct vmem_engine *e,
			    enum vmem_mb_state state)
{
	u64 mb, n = 0;

	for (mb = 0; mb < e->nr_mbs; mb++)
		n += e->mb_state[mb] == state;
	return n;
}

/* Failures worth retrying on the same block; others are hard. */
static inline bool vmem_transient(int err)
{
	return err == -EBUSY || err == -ENOMEM || err == -EAGAIN ||
	       err == -ENOSPC;
}

/* Record why a step stopped; returns @err for the caller to pass on. */
static inline int vmem_err(struct vmem_engine *e, int err, const char *what)
{
	e->last_err = err;
	e->last_what = what;
	e->nr_errors++;
	return err;
}

/*
 * The steps of vmem_engine_run(), e->lock held: each returns 1 on
 * progress, 0 if it had nothing to do, or a negative errno.
 */
int vmem_plan_plug_step(struct vmem_engine *e, u64 need);
int vmem_plan_unplug_step(struct vmem_engine *e, u64 excess);
int vmem_plan_remove_empty(struct vmem_engine *e);

#endif /* _VMEM_ENGINE_INTERNAL_H */
