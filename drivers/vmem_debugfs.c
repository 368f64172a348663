// SPDX-License-Identifier: GPL-2.0
/*
 * debugfs: /sys/kernel/debug/virtio_mem/<device>/map. Reading it dumps the
 * books, one line per memory block with its subblock map, and the result
 * of the last self-check. Writing anything to it (debugfs is root's) asks
 * the device about every range of the usable region with STATE requests
 * and compares the answers with the books (vmem_engine_check_device());
 * each mismatch goes to the log, the totals to the log and to the file.
 * The check holds the engine's run lock throughout (a STATE request per
 * run of subblocks): resizing waits for it, sysfs and the memory notifier
 * do not. It is refused while the device is suspended or going away, and
 * before the UNPLUG_ALL of probe (vmem_check_device()).
 */
#include <linux/debugfs.h>
#include <linux/fs.h>
#include <linux/seq_file.h>
#include <linux/virtio.h>
#include <linux/virtio_mem.h>

#include "../include/vmem_dev.h"

static struct dentry *vmem_debugfs_root;

static const char * const vmem_mb_names[] = {
	[VMEM_MB_UNUSED] = "unused",
	[VMEM_MB_OFFLINE] = "offline",
	[VMEM_MB_KERNEL] = "kernel",
	[VMEM_MB_MOVABLE] = "movable",
};

static const char *vmem_state_name(u16 state)
{
	switch (state) {
	case VIRTIO_MEM_STATE_PLUGGED:
		return "plugged";
	case VIRTIO_MEM_STATE_UNPLUGGED:
		return "unplugged";
	case VIRTIO_MEM_STATE_MIXED:
		return "mixed";
	default:
		return "invalid";
	}
}

static void vmem_debugfs_books(struct seq_file *m, struct vmem_dev *vm)
{
	const struct vmem_engine_params *p = vmem_engine_params(vm->engine);
	u64 mb, first, end, n_mbs = vmem_check_nr_blocks(vm->engine);
	char map[VMEM_MAP_CHARS + 1];
	enum vmem_mb_state state;
	struct vmem_status st;
	unsigned int n;

	vmem_engine_status(vm->engine, &st);
	vmem_engine_span(vm->engine, &first, &end);
	seq_printf(m, "# %s: %s, block_size %llu, subblock_size %llu, %llu subblocks per block, plugged %llu\n",
		   dev_name(&vm->vdev->dev), p->bbm ? "bbm" : "sbm",
		   p->block_size, p->sb_size, p->mb_size / p->sb_size,
		   st.plugged);
	seq_puts(m, "# block address state plugged/subblocks map ('#' plugged)\n");
	for (mb = 0; mb < n_mbs; mb++) {
		n = vmem_check_mb_map(vm->engine, mb, map, sizeof(map), &state);
		if (state == VMEM_MB_UNUSED && !n)
			continue;	/* the rest of the region */
		seq_printf(m, "%llu %#llx %s %u/%llu %s\n", mb,
			   first + mb * p->mb_size, vmem_mb_names[state], n,
			   p->mb_size / p->sb_size, map);
	}
}

static int vmem_debugfs_show(struct seq_file *m, void *unused)
{
	struct vmem_dev *vm = m->private;
	const struct vmem_check_result *r = &vm->check;

	if (!vm->engine) {
		seq_puts(m, "# not resizing: no books\n");
		return 0;
	}
	vmem_debugfs_books(m, vm);
	mutex_lock(&vm->check_lock);
	if (!vm->check_done)
		seq_puts(m, "# check: none yet (write to this file to run one)\n");
	else if (vm->check_err)
		seq_printf(m, "# check: failed: %d\n", vm->check_err);
	else
		seq_printf(m, "# check: %llu ranges, %llu bytes, %llu mismatches, %llu failed requests\n",
			   r->ranges, r->bytes, r->mismatches, r->failed);
	mutex_unlock(&vm->check_lock);
	return 0;
}

static int vmem_debugfs_open(struct inode *inode, struct file *file)
{
	return single_open(file, vmem_debugfs_show, inode->i_private);
}

static void vmem_debugfs_report(void *arg, u64 addr, u64 size, u16 want,
				u16 got)
{
	struct vmem_dev *vm = arg;

	dev_warn_ratelimited(&vm->vdev->dev, "check: [%#llx-%#llx]: the driver's books say %s, the device says %s\n",
			     addr, addr + size - 1, vmem_state_name(want),
			     vmem_state_name(got));
}

static ssize_t vmem_debugfs_write(struct file *file, const char __user *ubuf,
				  size_t count, loff_t *ppos)
{
	struct vmem_dev *vm = file_inode(file)->i_private;
	struct vmem_check_result *r = &vm->check;
	struct vmem_status st;
	int rc;

	if (!vm->engine)
		return -ENODEV;
	mutex_lock(&vm->check_lock);
	/* Not while suspended or going away: the queue may be gone. */
	if (!READ_ONCE(vm->ready)) {
		mutex_unlock(&vm->check_lock);
		return -EBUSY;
	}
	rc = vmem_check_device(vm->engine, r, vmem_debugfs_report, vm);
	vmem_engine_status(vm->engine, &st);
	vmem_stats_error_time(vm, st.nr_errors);
	vm->check_done = true;
	vm->check_err = rc;
	if (rc)
		dev_warn(&vm->vdev->dev, "check: stopped: %d\n", rc);
	else
		dev_info(&vm->vdev->dev, "check: %llu ranges, %llu bytes, %llu mismatches, %llu failed requests\n",
			 r->ranges, r->bytes, r->mismatches, r->failed);
	mutex_unlock(&vm->check_lock);
	vmem_notify_pollers(vm);	/* an invalid reply breaks the device */
	return rc ? rc : count;
}

static const struct file_operations vmem_debugfs_fops = {
	.owner = THIS_MODULE,
	.open = vmem_debugfs_open,
	.read = seq_read,
	.llseek = seq_lseek,
	.release = single_release,
	.write = vmem_debugfs_write,
};

/* Nothing here can fail the probe: debugfs is for debugging. */
void vmem_debugfs_init(struct vmem_dev *vm)
{
	vm->debugfs = debugfs_create_dir(dev_name(&vm->vdev->dev),
					 vmem_debugfs_root);
	debugfs_create_file("map", 0600, vm->debugfs, vm, &vmem_debugfs_fops);
}

void vmem_debugfs_exit(struct vmem_dev *vm)
{
	debugfs_remove(vm->debugfs);
	vm->debugfs = NULL;
}

/* At module load, before any device. */
void vmem_debugfs_register(void)
{
	vmem_debugfs_root = debugfs_create_dir(KBUILD_MODNAME, NULL);
}

/* At module exit, after every device is gone. */
void vmem_debugfs_unregister(void)
{
	debugfs_remove(vmem_debugfs_root);
	vmem_debugfs_root = NULL;
}
