// SPDX-License-Identifier: GPL-2.0
/*
 * The two lines that say what a device is doing: sysfs "state" (what, and
 * why it stopped short) and "retry_state" (idle, resizing, retrying in N
 * ms, stalled, broken). sysfs shows them, and the poll notifications
 * compare them. They read only snapshots (the engine's status, the stall
 * fields, the retry timer), so a reader never waits behind the device.
 */
#include <linux/jiffies.h>
#include <linux/string.h>
#include <linux/timer.h>
#include <linux/virtio.h>

#include "../include/vmem_dev.h"

static const char * const vmem_req_names[VMEM_STATS_TYPES] = {
	[VIRTIO_MEM_REQ_PLUG] = "plug",
	[VIRTIO_MEM_REQ_UNPLUG] = "unplug",
	[VIRTIO_MEM_REQ_UNPLUG_ALL] = "unplug_all",
	[VIRTIO_MEM_REQ_STATE] = "state",
};

/*
 * Milliseconds until the resize work's retry, 0 if none is due later. A
 * kick (mod_delayed_work() with no delay) deletes the timer but leaves
 * its old expiry: only an armed timer counts.
 */
static unsigned int vmem_retry_in_ms(struct vmem_dev *vm)
{
	long left;

	if (!timer_pending(&vm->resize_work.timer))
		return 0;
	left = (long)(READ_ONCE(vm->resize_work.timer.expires) - jiffies);
	return left > 0 ? jiffies_to_msecs(left) : 0;
}

/* Seconds the request in flight has gone unanswered, 0 if not stalled. */
static unsigned int vmem_stalled_secs(struct vmem_dev *vm, const char **type)
{
	unsigned long since = READ_ONCE(vm->stats.stall_since);
	u16 t = READ_ONCE(vm->stats.stall_type);

	if (!since)
		return 0;
	*type = t < VMEM_STATS_TYPES ? vmem_req_names[t] : "?";
	return jiffies_to_msecs(jiffies - since) / MSEC_PER_SEC ?: 1;
}

/**
 * vmem_state_line() - what the driver is doing, and why it stopped short
 * @vm: the device
 * @buf: the line, without a newline
 * @len: its size (VMEM_LINE_LEN)
 */
void vmem_state_line(struct vmem_dev *vm, char *buf, size_t len)
{
	struct vmem_status st;
	const char *type;
	unsigned int secs;

	if (!vm->engine) {
		strscpy(buf, "not resizing", len);
		return;
	}
	vmem_engine_status(vm->engine, &st);
	secs = vmem_stalled_secs(vm, &type);
	if (st.broken)
		snprintf(buf, len, "broken: %s: %d", vmem_what_name(st.last_what),
			 st.last_err);
	else if (secs)
		snprintf(buf, len, "waiting for the device: %s unanswered for %u s",
			 type, secs);
	else if (st.budget_limited)
		strscpy(buf, "limited by kernel memory for the memmap", len);
	else if (st.result == VMEM_RUN_WAIT_ONLINE)
		strscpy(buf, "waiting for onlining", len);
	else if (st.result == VMEM_RUN_WAIT_CONFIG && st.plugged != st.target)
		snprintf(buf, len, "short: %s", vmem_what_name(st.last_what));
	else if (vmem_retry_in_ms(vm) || st.result == VMEM_RUN_RETRY)
		snprintf(buf, len, "retrying: %s: %d",
			 vmem_what_name(st.last_what), st.last_err);
	else if (st.plugged != st.target)
		strscpy(buf, "resizing", len);
	else
		strscpy(buf, "idle", len);
}

/**
 * vmem_retry_line() - "idle", "resizing", "retrying in N ms",
 *	"waiting for a config change", "stalled: <request> unanswered for
 *	N s" or "broken"
 * @vm: the device
 * @buf: the line, without a newline
 * @len: its size (VMEM_LINE_LEN)
 *
 * Return: the kind of line, which the poll notifications compare.
 */
enum vmem_retry_kind vmem_retry_line(struct vmem_dev *vm, char *buf,
				     size_t len)
{
	enum vmem_retry_kind kind = VMEM_RETRY_KIND_IDLE;
	unsigned int left = 0, secs = 0;
	const char *type = "";
	struct vmem_status st;

	if (vm->engine) {
		vmem_engine_status(vm->engine, &st);
		left = vmem_retry_in_ms(vm);
		secs = vmem_stalled_secs(vm, &type);
		if (st.broken)
			kind = VMEM_RETRY_KIND_BROKEN;
		else if (secs)
			kind = VMEM_RETRY_KIND_STALLED;
		else if (left)
			kind = VMEM_RETRY_KIND_RETRYING;
		else if (st.result == VMEM_RUN_WAIT_CONFIG &&
			 st.plugged != st.target)
			kind = VMEM_RETRY_KIND_WAITING;
		else if (st.plugged != st.target)
			kind = VMEM_RETRY_KIND_RESIZING;
	}
	switch (kind) {
	case VMEM_RETRY_KIND_BROKEN:
		strscpy(buf, "broken", len);
		break;
	case VMEM_RETRY_KIND_STALLED:
		snprintf(buf, len, "stalled: %s unanswered for %u s", type,
			 secs);
		break;
	case VMEM_RETRY_KIND_RETRYING:
		snprintf(buf, len, "retrying in %u ms", left);
		break;
	case VMEM_RETRY_KIND_WAITING:
		strscpy(buf, "waiting for a config change", len);
		break;
	case VMEM_RETRY_KIND_RESIZING:
		strscpy(buf, "resizing", len);
		break;
	default:
		strscpy(buf, "idle", len);
	}
	return kind;
}
