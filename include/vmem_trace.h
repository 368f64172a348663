/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Tracepoints of the virtio-mem driver, system "virtio_mem" in tracefs:
 * every device request and its reply, and every change Linux makes to one
 * of our memory blocks (add, remove, online, offline) or subblocks (taken
 * back, handed over). Documentation/admin-guide.rst shows how to use them.
 */
#undef TRACE_SYSTEM
#define TRACE_SYSTEM virtio_mem

#if !defined(_VMEM_TRACE_H) || defined(TRACE_HEADER_MULTI_READ)
#define _VMEM_TRACE_H

#include <linux/tracepoint.h>

#include "vmem_compat.h"

/* Request types and replies by their spec names. */
#define vmem_show_type(t)						\
	__print_symbolic(t, { VIRTIO_MEM_REQ_PLUG, "plug" },		\
			 { VIRTIO_MEM_REQ_UNPLUG, "unplug" },		\
			 { VIRTIO_MEM_REQ_UNPLUG_ALL, "unplug_all" },	\
			 { VIRTIO_MEM_REQ_STATE, "state" })
#define vmem_show_resp(r)						\
	__print_symbolic(r, { VIRTIO_MEM_RESP_ACK, "ack" },		\
			 { VIRTIO_MEM_RESP_NACK, "nack" },		\
			 { VIRTIO_MEM_RESP_BUSY, "busy" },		\
			 { VIRTIO_MEM_RESP_ERROR, "error" })

TRACE_EVENT(virtio_mem_request,
	    TP_PROTO(const char *dev, u16 type, u64 addr, u16 nb_blocks),
	    TP_ARGS(dev, type, addr, nb_blocks),
	    TP_STRUCT__entry(__string(dev, dev)
			     __field(u16, type)
			     __field(u64, addr)
			     __field(u16, nb_blocks)),
	    TP_fast_assign(vmem_assign_str(dev, dev);
			   __entry->type = type;
			   __entry->addr = addr;
			   __entry->nb_blocks = nb_blocks;),
	    TP_printk("%s %s addr=%#llx nb_blocks=%u", __get_str(dev),
		      vmem_show_type(__entry->type), __entry->addr,
		      __entry->nb_blocks)
);

/* @resp: VIRTIO_MEM_RESP_*, or a negative errno when no reply came. */
TRACE_EVENT(virtio_mem_reply,
	    TP_PROTO(const char *dev, u16 type, u64 addr, u16 nb_blocks,
		     int resp, u16 state),
	    TP_ARGS(dev, type, addr, nb_blocks, resp, state),
	    TP_STRUCT__entry(__string(dev, dev)
			     __field(u16, type)
			     __field(u64, addr)
			     __field(u16, nb_blocks)
			     __field(int, resp)
			     __field(u16, state)),
	    TP_fast_assign(vmem_assign_str(dev, dev);
			   __entry->type = type;
			   __entry->addr = addr;
			   __entry->nb_blocks = nb_blocks;
			   __entry->resp = resp;
			   __entry->state = state;),
	    TP_printk("%s %s addr=%#llx nb_blocks=%u resp=%s state=%u",
		      __get_str(dev), vmem_show_type(__entry->type),
		      __entry->addr, __entry->nb_blocks,
		      __entry->resp < 0 ? "none" :
		      vmem_show_resp(__entry->resp), __entry->state)
);

/*
 * @what: "add", "add_memmap_on_memory", "remove", "offline_and_remove"
 * (the driver's calls), "fake_offline", "fake_online" (subblocks of an
 * online block), "online", "offline" (Linux's transitions); @rc: 0 or the
 * call's errno.
 */
TRACE_EVENT(virtio_mem_block,
	    TP_PROTO(const char *dev, const char *what, u64 addr, u64 size,
		     int rc),
	    TP_ARGS(dev, what, addr, size, rc),
	    TP_STRUCT__entry(__string(dev, dev)
			     __string(what, what)
			     __field(u64, addr)
			     __field(u64, size)
			     __field(int, rc)),
	    TP_fast_assign(vmem_assign_str(dev, dev);
			   vmem_assign_str(what, what);
			   __entry->addr = addr;
			   __entry->size = size;
			   __entry->rc = rc;),
	    TP_printk("%s %s addr=%#llx size=%#llx rc=%d", __get_str(dev),
		      __get_str(what), __entry->addr, __entry->size,
		      __entry->rc)
);

#endif /* _VMEM_TRACE_H */

/* Out of tree and in tree alike: Kbuild adds include/ to this file's path. */
#undef TRACE_INCLUDE_PATH
#define TRACE_INCLUDE_PATH .
#undef TRACE_INCLUDE_FILE
#define TRACE_INCLUDE_FILE vmem_trace
#include <trace/define_trace.h>
