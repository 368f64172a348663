// SPDX-License-Identifier: GPL-2.0
/*
 * pollwait FILE TIMEOUT_MS: wait until the sysfs attribute FILE is
 * notified (sysfs_notify() wakes poll() with POLLPRI | POLLERR), then
 * print "woken after N ms: <new value>" and exit 0; print "timeout" and
 * exit 1 if TIMEOUT_MS pass first. A QEMU test helper, linked statically.
 */
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <fcntl.h>

static long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int main(int argc, char **argv)
{
	struct pollfd pfd = { .events = POLLPRI | POLLERR };
	char buf[256];
	long t0;
	ssize_t n;
	int rc;

	if (argc != 3) {
		fprintf(stderr, "usage: pollwait FILE TIMEOUT_MS\n");
		return 2;
	}
	pfd.fd = open(argv[1], O_RDONLY);
	if (pfd.fd < 0) {
		perror(argv[1]);
		return 2;
	}
	/* A sysfs file must be read once before poll() waits for news. */
	if (read(pfd.fd, buf, sizeof(buf) - 1) < 0) {
		perror("read");
		return 2;
	}
	printf("armed\n");
	fflush(stdout);
	t0 = now_ms();
	rc = poll(&pfd, 1, atoi(argv[2]));
	if (rc < 0) {
		perror("poll");
		return 2;
	}
	if (!rc) {
		printf("timeout\n");
		return 1;
	}
	lseek(pfd.fd, 0, SEEK_SET);
	n = read(pfd.fd, buf, sizeof(buf) - 1);
	if (n < 0)
		n = 0;
	buf[n] = '\0';
	printf("woken after %ld ms: %s", now_ms() - t0, buf);
	return 0;
}
