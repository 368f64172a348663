// SPDX-License-Identifier: GPL-2.0
/*
 * vmsplice_pin: a guest workload that keeps pinning fresh pages, the way
 * an unprivileged process can: it splices anonymous memory into pipes
 * nobody reads (vmsplice() takes a reference to each page for as long as
 * the data sits in the pipe), and keeps replacing the oldest pipe with a
 * new one, so that the pinned pages move through memory. An offline that
 * meets such a page retries migration for as long as the page stays
 * pinned: for ever, for a kworker.
 *
 *   vmsplice_pin MIB [MS]
 *
 * keeps MIB MiB pinned, in 1 MiB pipes, and replaces one pipe every MS
 * milliseconds (default 20). Prints "vmsplice_pin: pinned=<MiB>" every
 * 16 MiB on the way (a slow guest shows that it is still going), then
 * "vmsplice_pin: ready pinned=<MiB>" once MIB MiB are pinned, and runs
 * until killed.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#define CHUNK	(1024UL * 1024)	/* one MiB */

struct pin {
	int fd[2];
};

/* Pin one fresh 1 MiB chunk into a new pipe; returns 0 or -1. */
static int pin_chunk(struct pin *p)
{
	struct iovec iov;
	size_t done = 0;
	ssize_t n;
	char *mem;

	if (pipe(p->fd))
		return -1;
	/* Room for the whole chunk; root may go beyond pipe-max-size. */
	fcntl(p->fd[1], F_SETPIPE_SZ, (int)CHUNK);
	mem = mmap(NULL, CHUNK, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (mem == MAP_FAILED)
		return -1;
	memset(mem, 0x5a, CHUNK);	/* real pages, not the zero page */
	while (done < CHUNK) {
		iov.iov_base = mem + done;
		iov.iov_len = CHUNK - done;
		n = vmsplice(p->fd[1], &iov, 1, SPLICE_F_NONBLOCK);
		if (n <= 0)
			break;		/* pipe full: what is in is pinned */
		done += n;
	}
	/* The pipe keeps its references to the pages. */
	munmap(mem, CHUNK);
	return 0;
}

static void unpin(struct pin *p)
{
	close(p->fd[0]);
	close(p->fd[1]);
}

int main(int argc, char **argv)
{
	struct timespec ts;
	unsigned long n, i;
	struct pin *pins;
	long ms = 20;

	if (argc < 2) {
		fprintf(stderr, "usage: %s MIB [MS]\n", argv[0]);
		return 2;
	}
	n = strtoul(argv[1], NULL, 0);
	if (argc > 2)
		ms = strtol(argv[2], NULL, 0);
	pins = calloc(n ?: 1, sizeof(*pins));
	if (!pins)
		return 1;
	for (i = 0; i < n; i++) {
		if (pin_chunk(&pins[i])) {
			fprintf(stderr, "vmsplice_pin: %s\n", strerror(errno));
			return 1;
		}
		if ((i + 1) % 16 == 0 && i + 1 < n) {
			printf("vmsplice_pin: pinned=%lu\n", i + 1);
			fflush(stdout);
		}
	}
	printf("vmsplice_pin: ready pinned=%lu\n", n);
	fflush(stdout);
	ts.tv_sec = ms / 1000;
	ts.tv_nsec = (ms % 1000) * 1000000L;
	for (i = 0;; i = (i + 1) % (n ?: 1)) {
		nanosleep(&ts, NULL);
		if (!n)
			continue;
		unpin(&pins[i]);
		if (pin_chunk(&pins[i]))
			return 1;
	}
}
