/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Self-check: compare the engine's books with the device's own answers
 * (STATE requests), range by range; and the books' subblock map, as text.
 * Pure code: KUnit runs it against the simulated device; debugfs runs it
 * against the real one.
 */
#ifndef _VMEM_CHECK_H
#define _VMEM_CHECK_H

#include <linux/types.h>

#include "vmem_engine.h"

/**
 * struct vmem_check_result - what one cross-check found
 * @ranges: ranges compared: runs of subblocks the books say are all
 *	plugged or all unplugged, split where one request cannot cover them
 * @bytes: bytes compared
 * @mismatches: ranges the device answers differently
 * @failed: STATE requests without an ACK (these ranges are not compared)
 * @first_addr: start of the first mismatching range
 * @first_size: its size
 * @first_want: what the books say there (VIRTIO_MEM_STATE_*)
 * @first_got: what the device said
 */
struct vmem_check_result {
	u64 ranges;
	u64 bytes;
	u64 mismatches;
	u64 failed;
	u64 first_addr;
	u64 first_size;
	u16 first_want;
	u16 first_got;
};

/*
 * Called for every mismatching range, the run lock held: @want is the books'
 * VIRTIO_MEM_STATE_*, @got the device's answer.
 */
typedef void (*vmem_check_report_t)(void *arg, u64 addr, u64 size, u16 want,
				    u16 got);

int vmem_check_device(struct vmem_engine *e, struct vmem_check_result *r,
		      vmem_check_report_t report, void *arg);

/* Longest subblock map one memory block gets as characters, else runs. */
#define VMEM_MAP_CHARS	128

unsigned int vmem_check_mb_map(struct vmem_engine *e, u64 mb, char *buf,
			       size_t len, enum vmem_mb_state *state);
u64 vmem_check_nr_blocks(struct vmem_engine *e);

#endif /* _VMEM_CHECK_H */
