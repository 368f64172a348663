// SPDX-License-Identifier: GPL-2.0
/*
 * vmemctl: the virtio-mem devices of this machine as the driver shows them
 * in sysfs (/sys/bus/virtio/devices/virtio<N>/virtio_mem/), and a live view
 * of a resize. See vmemctl(8).
 *
 *   vmemctl status [--json] [DEVICE...]
 *   vmemctl watch [--timeout SEC] [--interval MS] [--json] [--plain]
 *                 [DEVICE...]
 *   vmemctl metrics [--textfile DIR] [DEVICE...]
 *   vmemctl why [DEVICE...]
 *
 * --root DIR prefixes every path (tests run it on a fake tree). Libc only
 * and built static, so it can be copied into a busybox initramfs.
 *
 * Exit: 0 success (watch: every device reached its request; why: every
 * device is at its request and nothing is wrong), 1 no device, a device
 * not found or a file not written, 2 watch timed out, 3 why found a
 * cause, 64 usage error, 128 + signal when watch was interrupted (130 for
 * SIGINT).
 *
 * The files, in layers: each uses only those below it (test.sh checks
 * the #includes), so no two call each other.
 *   vmemctl.c             main(), the options, the help text
 *   vmemctl_cmd.h         struct opts and the commands main() calls:
 *   vmemctl_status.c      status
 *   vmemctl_watch.c       watch
 *   vmemctl_metrics.c     metrics
 *   vmemctl_why.c         why
 *   vmemctl_format.[ch]   sizes, terminal-safe text, JSON
 *   vmemctl_state.[ch]    the state, retry_state and last_error lines
 *   vmemctl_sysfs.[ch]    struct dev; finding devices, reading sysfs
 *   vmemctl_util.[ch]     die() and the allocators that cannot fail
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vmemctl_cmd.h"
#include "vmemctl_util.h"

#ifndef VMEMCTL_VERSION
#define VMEMCTL_VERSION "1.0"
#endif

#define EXIT_USAGE	64

static void print_usage(FILE *f)
{
	fputs("Usage: vmemctl [--root DIR] COMMAND [OPTION...] [DEVICE...]\n"
	      "\n"
	      "Show the virtio-mem devices (virtio<N>) from the driver's sysfs.\n"
	      "\n"
	      "Commands:\n"
	      "  status [--json] [DEVICE...]\n"
	      "      one line per device: node, block size, requested, plugged,\n"
	      "      usable region, mode, state, offline memory and request\n"
	      "      replies (ack/nack/busy/error); --json: every attribute\n"
	      "  watch [--timeout SEC] [--interval MS] [--plain] [--json]\n"
	      "        [DEVICE...]\n"
	      "      follow plugged_size toward requested_size until every\n"
	      "      device reached it and is idle; exit 0, or 2 on timeout\n"
	      "      (default 60 s; sampled every 200 ms)\n"
	      "  metrics [--textfile DIR] [DEVICE...]\n"
	      "      every value and counter in the Prometheus text format;\n"
	      "      --textfile: into DIR/virtio_mem.prom, replaced at once\n"
	      "      (node_exporter's textfile collector)\n"
	      "  why [DEVICE...]\n"
	      "      why a device is not at its requested size: one cause a\n"
	      "      line with its fix; exit 0 if all are and nothing is wrong\n"
	      "  help\n"
	      "      this text\n"
	      "\n"
	      "Options:\n"
	      "  --root DIR     prefix every sysfs path with DIR\n"
	      "  --json         JSON (watch: one object per line)\n"
	      "  --plain        watch: plain lines even on a terminal\n"
	      "  --textfile DIR metrics: write DIR/virtio_mem.prom\n"
	      "  -h, --help     this text\n"
	      "  --version      the version\n"
	      "\n"
	      "Exit: 0 ok, 1 no device, 2 watch timed out, 3 why found a\n"
	      "cause, 64 usage, 130 watch interrupted. See vmemctl(8).\n", f);
}

static void usage_error(const char *fmt, const char *arg)
{
	fputs("vmemctl: ", stderr);
	fprintf(stderr, fmt, arg);
	fputc('\n', stderr);
	print_usage(stderr);
	exit(EXIT_USAGE);
}

/* Is @a the option @name, as "--name" or "--name=VALUE"? */
static bool opt_is(const char *a, const char *name)
{
	size_t n = strlen(name);

	return !strncmp(a, name, n) && (!a[n] || a[n] == '=');
}

/* The value of the option at argv[*i]: after its '=', or the next one. */
static const char *opt_value(char **argv, int argc, int *i)
{
	char *eq = strchr(argv[*i], '=');

	if (eq)
		return eq + 1;
	if (*i + 1 >= argc)
		usage_error("%s needs a value", argv[*i]);
	return argv[++*i];
}

static void parse_args(int argc, char **argv, struct opts *o)
{
	const char *v;
	bool dashdash = false;
	char *end;
	int i;

	o->root = "";
	o->timeout = 60;
	o->interval = 200;
	o->names = xmalloc(argc * sizeof(*o->names));
	for (i = 1; i < argc; i++) {
		char *a = argv[i];

		if (dashdash || a[0] != '-' || !a[1]) {
			if (!o->cmd)
				o->cmd = a;
			else
				o->names[o->nr_names++] = a;
		} else if (!strcmp(a, "--")) {
			dashdash = true;
		} else if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
			print_usage(stdout);
			exit(0);
		} else if (!strcmp(a, "--version")) {
			printf("vmemctl %s\n", VMEMCTL_VERSION);
			exit(0);
		} else if (!strcmp(a, "--json")) {
			o->json = true;
			o->given |= OPT_JSON;
		} else if (!strcmp(a, "--plain")) {
			o->plain = true;
			o->given |= OPT_PLAIN;
		} else if (opt_is(a, "--textfile")) {
			o->textfile = opt_value(argv, argc, &i);
			if (!*o->textfile)
				usage_error("%s", "--textfile needs a directory");
			o->given |= OPT_TEXTFILE;
		} else if (opt_is(a, "--root")) {
			o->root = opt_value(argv, argc, &i);
		} else if (opt_is(a, "--timeout")) {
			v = opt_value(argv, argc, &i);
			errno = 0;
			o->timeout = strtod(v, &end);
			if (errno || end == v || *end || !(o->timeout >= 0) ||
			    o->timeout > 1e9)
				usage_error("bad --timeout '%s' (seconds)", v);
			o->given |= OPT_TIMEOUT;
		} else if (opt_is(a, "--interval")) {
			v = opt_value(argv, argc, &i);
			errno = 0;
			o->interval = strtol(v, &end, 10);
			if (errno || end == v || *end || o->interval < 1 ||
			    o->interval > 3600000)
				usage_error("bad --interval '%s' (milliseconds)",
					    v);
			o->given |= OPT_INTERVAL;
		} else {
			usage_error("unknown option '%s'", a);
		}
	}
}

static const struct {
	const char *name;
	int (*run)(const struct opts *o);
	unsigned int opts;	/* OPT_*: the options it takes */
} cmds[] = {
	{ "status", cmd_status, OPT_JSON },
	{ "watch", cmd_watch,
	  OPT_JSON | OPT_PLAIN | OPT_TIMEOUT | OPT_INTERVAL },
	{ "metrics", cmd_metrics, OPT_TEXTFILE },
	{ "why", cmd_why, 0 },
};

static const char * const opt_names[] = {
	"--json", "--plain", "--timeout", "--interval", "--textfile"
};

int main(int argc, char **argv)
{
	struct opts o = { 0 };
	unsigned int extra;
	size_t c, k;

	parse_args(argc, argv, &o);
	if (!o.cmd)
		usage_error("%s", "no command");
	if (!strcmp(o.cmd, "help")) {
		print_usage(stdout);
		return 0;
	}
	for (c = 0; c < ARRAY_LEN(cmds); c++) {
		if (strcmp(o.cmd, cmds[c].name))
			continue;
		extra = o.given & ~cmds[c].opts;
		for (k = 0; k < ARRAY_LEN(opt_names); k++) {
			if (!(extra & (1u << k)))
				continue;
			fprintf(stderr, "vmemctl: %s is not an option of %s\n",
				opt_names[k], o.cmd);
			print_usage(stderr);
			exit(EXIT_USAGE);
		}
		return cmds[c].run(&o);
	}
	usage_error("unknown command '%s'", o.cmd);
	return EXIT_USAGE;
}
