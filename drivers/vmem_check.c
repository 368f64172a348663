// SPDX-License-Identifier: GPL-2.0
/*
 * Self-check of the books against the device (include/vmem_check.h).
 *
 * Every range of the usable region is asked about once with a STATE
 * request: the runs of subblocks the books hold plugged must answer
 * PLUGGED, every other part of the usable region (unplugged subblocks,
 * the region's edges outside whole memory blocks) UNPLUGGED. A range
 * answered MIXED, or the other state, is a mismatch. Nothing changes: the
 * books stay as they are, and the caller reports.
 */
#include <linux/errno.h>
#include <linux/lockdep.h>
#include <linux/minmax.h>
#include <linux/kernel.h>
#include <linux/string.h>
#include <linux/virtio_mem.h>

#include "../include/vmem_check.h"
#include "vmem_engine_internal.h"

struct vmem_check_ctx {
	struct vmem_engine *e;
	struct vmem_check_result *r;
	vmem_check_report_t report;
	void *arg;
};

/* Ask about [@addr, @addr + @size), block aligned, in request-sized parts. */
static int vmem_check_range(struct vmem_check_ctx *c, u64 addr, u64 size,
			    bool plugged)
{
	struct vmem_engine *e = c->e;
	u64 max = (u64)VMEM_MAX_BLOCKS_PER_REQ * e->p.block_size, n;
	u16 want = plugged ? VIRTIO_MEM_STATE_PLUGGED :
			     VIRTIO_MEM_STATE_UNPLUGGED;
	u16 got;
	int rc;

	for (; size; addr += n, size -= n) {
		n = min(size, max);
		c->r->ranges++;
		got = U16_MAX;
		rc = vmem_call(e, VIRTIO_MEM_REQ_STATE, addr,
			       n / e->p.block_size, &got);
		if (rc == -EPROTO)
			return rc;
		if (rc) {
			c->r->failed++;
			continue;
		}
		c->r->bytes += n;
		if (got == want)
			continue;
		if (!c->r->mismatches++) {
			c->r->first_addr = addr;
			c->r->first_size = n;
			c->r->first_want = want;
			c->r->first_got = got;
		}
		if (c->report)
			c->report(c->arg, addr, n, want, got);
	}
	return 0;
}

static int vmem_check_locked(struct vmem_check_ctx *c)
{
	struct vmem_engine *e = c->e;
	u64 usable_end = e->p.addr + e->usable, end, mb, a;
	unsigned int sb, run;
	bool plugged;
	int rc;

	lockdep_assert_held(&e->lock);
	/* Before the first whole block: never plugged. */
	end = min(e->first_mb, usable_end);
	if (end > e->p.addr) {
		rc = vmem_check_range(c, e->p.addr, end - e->p.addr, false);
		if (rc)
			return rc;
	}
	for (mb = 0; mb < e->nr_mbs; mb++) {
		for (sb = 0; sb < e->sbs_per_mb; sb += run) {
			a = sb_addr(e, mb, sb);
			if (a >= usable_end)
				return 0;
			plugged = sb_plugged(e, mb, sb);
			for (run = 1; sb + run < e->sbs_per_mb &&
			     sb_plugged(e, mb, sb + run) == plugged &&
			     sb_usable(e, mb, sb + run); run++)
				;
			end = min(a + (u64)run * e->p.sb_size, usable_end);
			rc = vmem_check_range(c, a, end - a, plugged);
			if (rc)
				return rc;
		}
	}
	/* After the last whole block: never plugged either. */
	a = e->first_mb + e->nr_mbs * e->p.mb_size;
	if (a < usable_end)
		return vmem_check_range(c, a, usable_end - a, false);
	return 0;
}

/**
 * vmem_check_device() - compare the books with the device
 * @e: the engine; takes its run lock (a resize waits for the check)
 * @r: the result, filled in
 * @report: called for each mismatching range (run lock held), or NULL
 * @arg: its argument
 *
 * Return: 0 when the whole usable region was asked about (see @r for
 * what was found), -EPROTO if the device broke the protocol (the engine
 * stops using it), -ENODEV if it is broken already, -EBUSY before the
 * UNPLUG_ALL of probe succeeded (the books are empty until then).
 */
int vmem_check_device(struct vmem_engine *e, struct vmem_check_result *r,
		      vmem_check_report_t report, void *arg)
{
	struct vmem_check_ctx c = { e, r, report, arg };
	int rc;

	memset(r, 0, sizeof(*r));
	mutex_lock(&e->lock);
	if (READ_ONCE(e->broken))
		rc = -ENODEV;
	else if (e->unplug_all_pending)
		rc = -EBUSY;
	else
		rc = vmem_check_locked(&c);
	mutex_unlock(&e->lock);
	return rc;
}

/**
 * vmem_check_mb_map() - the subblock map of one block, as text
 * @e: the engine; only its state lock is taken
 * @mb: the block
 * @buf: where the map goes: one character per subblock ('#' plugged,
 *	'.' not) if there are at most VMEM_MAP_CHARS, else runs such as
 *	"64# 448." (count and character)
 * @len: size of @buf; the map is cut short if it does not fit
 * @state: where the block's enum vmem_mb_state goes
 *
 * Return: the number of plugged subblocks of @mb.
 */
unsigned int vmem_check_mb_map(struct vmem_engine *e, u64 mb, char *buf,
			       size_t len, enum vmem_mb_state *state)
{
	unsigned int sb, run, n = 0;
	size_t pos = 0;
	bool plugged;

	if (!len)
		return 0;
	buf[0] = '\0';
	spin_lock(&e->state_lock);
	*state = e->mb_state[mb];
	for (sb = 0; sb < e->sbs_per_mb; sb += run) {
		plugged = sb_plugged(e, mb, sb);
		for (run = 1; sb + run < e->sbs_per_mb &&
		     sb_plugged(e, mb, sb + run) == plugged; run++)
			;
		if (plugged)
			n += run;
		if (e->sbs_per_mb <= VMEM_MAP_CHARS) {
			if (pos + run < len) {
				memset(buf + pos, plugged ? '#' : '.', run);
				pos += run;
				buf[pos] = '\0';
			}
		} else if (pos < len) {
			pos += scnprintf(buf + pos, len - pos, "%s%u%c",
					 pos ? " " : "", run,
					 plugged ? '#' : '.');
		}
	}
	spin_unlock(&e->state_lock);
	return n;
}

/**
 * vmem_check_nr_blocks() - how many blocks vmem_check_mb_map() knows
 * @e: the engine
 *
 * Return: the number of whole blocks in the region.
 */
u64 vmem_check_nr_blocks(struct vmem_engine *e)
{
	return e->nr_mbs;
}
