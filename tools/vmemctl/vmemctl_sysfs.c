// SPDX-License-Identifier: GPL-2.0
/*
 * vmemctl: the virtio-mem devices under <root>/sys/bus/virtio/devices,
 * and their attributes read into a struct dev.
 */
#define _GNU_SOURCE
#include <assert.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "vmemctl_sysfs.h"
#include "vmemctl_util.h"

#define DEVICES_DIR	"/sys/bus/virtio/devices"
#define ATTR_MAX	4096	/* a sysfs attribute is at most a page */

const struct field fields[NR_FIELDS] = {
	[F_NID] = { "nid", T_S64 },
	[F_NODE_ID] = { "node_id", T_U64 },
	[F_ADDR] = { "addr", T_U64 },
	[F_REGION_SIZE] = { "region_size", T_U64 },
	[F_USABLE_REGION_SIZE] = { "usable_region_size", T_U64 },
	[F_BLOCK_SIZE] = { "block_size", T_U64 },
	[F_SUBBLOCK_SIZE] = { "subblock_size", T_U64 },
	[F_REQUESTED_SIZE] = { "requested_size", T_U64 },
	[F_PLUGGED_SIZE] = { "plugged_size", T_U64 },
	[F_MODE] = { "mode", T_STR },
	[F_STATE] = { "state", T_STR },
	[F_BLOCKS_OFFLINE] = { "blocks_offline", T_U64 },
	[F_BLOCKS_ONLINE_KERNEL] = { "blocks_online_kernel", T_U64 },
	[F_BLOCKS_ONLINE_MOVABLE] = { "blocks_online_movable", T_U64 },
	[F_PLUGGED_OFFLINE] = { "plugged_offline", T_U64 },
	[F_PLUGGED_ONLINE_KERNEL] = { "plugged_online_kernel", T_U64 },
	[F_PLUGGED_ONLINE_MOVABLE] = { "plugged_online_movable", T_U64 },
	[F_PLUGGED_NOT_ADDED] = { "plugged_not_added", T_U64 },
	[F_MEMMAP_BYTES] = { "memmap_bytes", T_U64 },
	[F_MEMMAP_ON_MEMORY] = { "memmap_on_memory", T_STR },
	[F_BYTES_PLUGGED_TOTAL] = { "bytes_plugged_total", T_U64 },
	[F_BYTES_UNPLUGGED_TOTAL] = { "bytes_unplugged_total", T_U64 },
	[F_FAKE_OFFLINE_FAILURES] = { "fake_offline_failures", T_U64 },
	[F_OFFLINE_AND_REMOVE_FAILURES] = { "offline_and_remove_failures",
					    T_U64 },
	[F_LAST_ERROR] = { "last_error", T_STR },
	[F_RETRY_STATE] = { "retry_state", T_STR },
	[F_OFFLINE_BYTES] = { "offline_bytes", T_U64 },
	[F_LEFT_OFFLINE] = { "left_offline", T_U64 },
};

/* requests_<type>_<reply> */
const char * const req_types[] = {
	"plug", "unplug", "unplug_all", "state"
};

const char * const req_replies[] = { "ack", "nack", "busy", "error" };

static_assert(ARRAY_LEN(req_types) == NR_REQ_TYPES, "NR_REQ_TYPES");
static_assert(ARRAY_LEN(req_replies) == NR_REQ_REPLIES, "NR_REQ_REPLIES");

static char *path_join(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);
	char *p = xmalloc(la + lb + 2);

	memcpy(p, a, la);
	p[la] = '/';
	memcpy(p + la + 1, b, lb + 1);
	return p;
}

/* @root with @path (which starts with '/') appended; caller frees. */
static char *root_path(const char *root, const char *path)
{
	size_t n = strlen(root), l = strlen(path);
	char *p;

	while (n > 0 && root[n - 1] == '/')
		n--;
	p = xmalloc(n + l + 1);
	memcpy(p, root, n);
	memcpy(p + n, path, l + 1);
	return p;
}

/*
 * The contents of the file @path without trailing white space, or NULL if
 * it cannot be read. Caller frees.
 */
static char *read_file(const char *path)
{
	char buf[ATTR_MAX + 1];
	size_t len = 0;
	ssize_t n;
	int fd;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return NULL;
	while (len < ATTR_MAX) {
		n = read(fd, buf + len, ATTR_MAX - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			close(fd);
			return NULL;
		}
		if (n == 0)
			break;
		len += n;
	}
	close(fd);
	while (len > 0 && (buf[len - 1] == '\n' || buf[len - 1] == ' ' ||
			   buf[len - 1] == '\t' || buf[len - 1] == '\r'))
		len--;
	buf[len] = '\0';
	return xstrdup(buf);
}

/* @dir/@name as read_file() reads it. */
static char *read_attr(const char *dir, const char *name)
{
	char *path = path_join(dir, name), *s = read_file(path);

	free(path);
	return s;
}

char *read_sys(const char *root, const char *path)
{
	char *p = root_path(root, path), *s = read_file(p);

	free(p);
	return s;
}

static bool parse_u64(const char *s, unsigned long long *out)
{
	char *end;

	if (*s < '0' || *s > '9')
		return false;
	errno = 0;
	*out = strtoull(s, &end, 10);
	return !errno && !*end;
}

static bool parse_s64(const char *s, long long *out)
{
	const char *d = *s == '-' ? s + 1 : s;
	char *end;

	if (*d < '0' || *d > '9')
		return false;
	errno = 0;
	*out = strtoll(s, &end, 10);
	return !errno && !*end;
}

static void load_val(struct val *v, const char *dir, const char *name,
		     enum vtype type)
{
	char *s = read_attr(dir, name);

	free(v->str);
	v->str = NULL;
	v->ok = false;
	if (!s)
		return;
	switch (type) {
	case T_U64:
		v->ok = parse_u64(s, &v->u);
		free(s);
		break;
	case T_S64:
		v->ok = parse_s64(s, &v->s);
		free(s);
		break;
	case T_STR:
		v->ok = true;
		v->str = s;
		break;
	}
}

void load_field(struct dev *d, enum field_id id)
{
	load_val(&d->f[id], d->dir, fields[id].name, fields[id].type);
}

void dev_load(struct dev *d)
{
	char name[64];
	size_t t, r;
	int id;

	for (id = 0; id < NR_FIELDS; id++)
		load_field(d, id);
	for (t = 0; t < NR_REQ_TYPES; t++) {
		for (r = 0; r < NR_REQ_REPLIES; r++) {
			snprintf(name, sizeof(name), "requests_%s_%s",
				 req_types[t], req_replies[r]);
			load_val(&d->req[t][r], d->dir, name, T_U64);
		}
	}
}

/* virtio2 before virtio10: runs of digits compare as numbers. */
static int natural_cmp(const char *a, const char *b)
{
	size_t la, lb;
	int c;

	while (*a && *b) {
		if (*a >= '0' && *a <= '9' && *b >= '0' && *b <= '9') {
			while (*a == '0' && a[1] >= '0' && a[1] <= '9')
				a++;
			while (*b == '0' && b[1] >= '0' && b[1] <= '9')
				b++;
			la = strspn(a, "0123456789");
			lb = strspn(b, "0123456789");
			if (la != lb)
				return la < lb ? -1 : 1;
			c = strncmp(a, b, la);
			if (c)
				return c;
			a += la;
			b += lb;
			continue;
		}
		if (*a != *b)
			return (unsigned char)*a - (unsigned char)*b;
		a++;
		b++;
	}
	return (unsigned char)*a - (unsigned char)*b;
}

static int dev_cmp(const void *a, const void *b)
{
	const struct dev *da = a, *db = b;

	return natural_cmp(da->name, db->name);
}

char *devices_dir(const char *root)
{
	return root_path(root, DEVICES_DIR);
}

int find_devices(const char *top, char * const *names, int nr_names,
		 struct dev **out)
{
	struct dev *devs = NULL, *sel;
	struct dirent *de;
	struct stat st;
	int n = 0, cap = 0, i, j, k;
	char *dir, *sub;
	DIR *dp;

	dp = opendir(top);
	while (dp) {
		de = readdir(dp);
		if (!de)
			break;
		if (de->d_name[0] == '.')
			continue;
		sub = path_join(top, de->d_name);
		dir = path_join(sub, "virtio_mem");
		free(sub);
		if (stat(dir, &st) || !S_ISDIR(st.st_mode)) {
			free(dir);
			continue;
		}
		if (n == cap) {
			cap = cap ? 2 * cap : 8;
			devs = realloc(devs, cap * sizeof(*devs));
			if (!devs)
				die(1, "out of memory");
		}
		memset(&devs[n], 0, sizeof(devs[n]));
		devs[n].name = xstrdup(de->d_name);
		devs[n].dir = dir;
		n++;
	}
	if (dp)
		closedir(dp);
	if (!n)
		die(1, "no virtio-mem device found under %s", top);
	qsort(devs, n, sizeof(*devs), dev_cmp);
	if (!nr_names) {
		*out = devs;
		return n;
	}

	/* The named ones, in the machine's order, each once. */
	for (i = 0; i < nr_names; i++) {
		for (j = 0; j < n; j++)
			if (!strcmp(devs[j].name, names[i]))
				break;
		if (j == n)
			die(1, "%s: no such virtio-mem device under %s",
			    names[i], top);
	}
	sel = xmalloc(n * sizeof(*sel));
	for (j = 0, k = 0; j < n; j++) {
		for (i = 0; i < nr_names; i++)
			if (!strcmp(devs[j].name, names[i]))
				break;
		if (i < nr_names)
			sel[k++] = devs[j];
	}
	*out = sel;
	return k;
}
