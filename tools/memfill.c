// SPDX-License-Identifier: GPL-2.0
/*
 * memfill: a guest workload for the virtio-mem tests. It fills anonymous
 * (movable, migratable) memory with a checksummed pattern, keeps
 * re-verifying it and rewriting part of it, and reports every corrupted
 * byte. Built static: the test guests have no libc.
 *
 *   memfill [-m MIB | -p PERCENT] [-s SEED] [-i INTERVAL_MS]
 *           [-r REWRITE_PERCENT] [-F HOLE_MIB] [-X]
 *
 * -m fills MIB mebibytes, -p PERCENT of MemAvailable (default -p 70).
 * After the fill it prints "memfill: ready bytes=<n>". SIGUSR1 prints
 * "memfill: status passes=<n> verified=<bytes> corrupt=<bytes>";
 * SIGTERM or SIGINT ends it after one last full pass with
 * "memfill: done passes=<n> verified=<bytes> corrupt=<bytes>", exit 0 if
 * no byte was corrupted, else 1. Exit 2: it could not start. -X flips
 * one byte after the fill, to prove the check can fail. -F gives every
 * other HOLE_MIB back after the fill (madvise MADV_DONTNEED): what it
 * keeps is spread over all the memory it touched, so that every memory
 * block holds pages that must be migrated; "ready bytes=" then counts
 * the bytes kept.
 */
#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#define PAGE		4096UL
#define WORDS		(PAGE / sizeof(uint64_t))

/* Set by the signal handler: lock-free atomics are async-signal-safe. */
static int want_status, want_stop;
static uint64_t seed = 0x6d656d66696c6cULL;

static void on_signal(int sig)
{
	__atomic_store_n(sig == SIGUSR1 ? &want_status : &want_stop, 1,
			 __ATOMIC_SEQ_CST);
}

static int stopping(void)
{
	return __atomic_load_n(&want_stop, __ATOMIC_SEQ_CST);
}

/* splitmix64: the pattern word @i of page @pg in generation @gen. */
static uint64_t pattern(uint64_t pg, uint32_t gen, uint64_t i)
{
	uint64_t z = seed ^ (pg << 20) ^ ((uint64_t)gen << 52) ^ i;

	z += 0x9e3779b97f4a7c15ULL;
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static void fill_page(uint64_t *p, uint64_t pg, uint32_t gen)
{
	uint64_t i;

	for (i = 0; i < WORDS; i++)
		p[i] = pattern(pg, gen, i);
}

/* Returns the number of corrupted bytes of page @pg. */
static uint64_t check_page(const uint64_t *p, uint64_t pg, uint32_t gen)
{
	uint64_t i, want, got, bad = 0;
	int b;

	for (i = 0; i < WORDS; i++) {
		want = pattern(pg, gen, i);
		got = p[i];
		if (got == want)
			continue;
		for (b = 0; b < 8; b++)
			bad += ((got >> (8 * b)) & 0xff) !=
			       ((want >> (8 * b)) & 0xff);
	}
	return bad;
}

static unsigned long mem_available_kib(void)
{
	char line[256];
	unsigned long kib = 0;
	FILE *f = fopen("/proc/meminfo", "r");

	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "MemAvailable: %lu kB", &kib) == 1)
			break;
	fclose(f);
	return kib;
}

static void sleep_ms(unsigned long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) && errno == EINTR && !stopping())
		;
}

struct state {
	unsigned char *mem;
	uint32_t *gen;		/* expected generation per page */
	uint64_t pages;
	uint64_t hole;		/* -F: pages per chunk; odd chunks given back */
	uint64_t passes, verified, corrupt;
	int reported;		/* first corruption reported */
};

/* Whether page @pg is held (not in a chunk -F gave back). */
static int held(const struct state *s, uint64_t pg)
{
	return !s->hole || !((pg / s->hole) & 1);
}

static void verify_all(struct state *s)
{
	uint64_t pg, bad;

	for (pg = 0; pg < s->pages; pg++) {
		if (!held(s, pg))
			continue;
		bad = check_page((uint64_t *)(s->mem + pg * PAGE), pg,
				 s->gen[pg]);
		s->verified += PAGE;
		if (!bad)
			continue;
		if (!s->reported++)
			fprintf(stderr, "memfill: page %llu (%#llx): %llu bad bytes\n",
				(unsigned long long)pg,
				(unsigned long long)(pg * PAGE),
				(unsigned long long)bad);
		s->corrupt += bad;
		/* Rewrite it, so each corruption counts once. */
		fill_page((uint64_t *)(s->mem + pg * PAGE), pg, ++s->gen[pg]);
	}
	s->passes++;
}

static void report(const struct state *s, const char *what)
{
	printf("memfill: %s passes=%llu verified=%llu corrupt=%llu\n", what,
	       (unsigned long long)s->passes,
	       (unsigned long long)s->verified,
	       (unsigned long long)s->corrupt);
	fflush(stdout);
}

int main(int argc, char **argv)
{
	unsigned long mib = 0, percent = 70, interval = 1000, rewrite = 10;
	unsigned long hole_mib = 0;
	struct state s = { 0 };
	uint64_t pg, bytes, n, r;
	struct sigaction sa;
	int opt, flip = 0;

	while ((opt = getopt(argc, argv, "m:p:s:i:r:F:X")) != -1) {
		switch (opt) {
		case 'm':
			mib = strtoul(optarg, NULL, 0);
			break;
		case 'p':
			percent = strtoul(optarg, NULL, 0);
			break;
		case 's':
			seed = strtoull(optarg, NULL, 0);
			break;
		case 'i':
			interval = strtoul(optarg, NULL, 0);
			break;
		case 'r':
			rewrite = strtoul(optarg, NULL, 0);
			break;
		case 'F':
			hole_mib = strtoul(optarg, NULL, 0);
			break;
		case 'X':
			flip = 1;
			break;
		default:
			fprintf(stderr, "usage: %s [-m MIB | -p PCT] [-s SEED] %s\n",
				argv[0], "[-i MS] [-r PCT] [-F MIB] [-X]");
			return 2;
		}
	}
	if (mib)
		bytes = (uint64_t)mib << 20;
	else
		bytes = (uint64_t)mem_available_kib() * 1024 / 100 * percent;
	s.pages = bytes / PAGE;
	if (!s.pages || percent > 100 || rewrite > 100) {
		fprintf(stderr, "memfill: bad size (-m %lu -p %lu of %lu KiB, -r %lu)\n",
			mib, percent, mem_available_kib(), rewrite);
		return 2;
	}
	bytes = s.pages * PAGE;
	s.gen = calloc(s.pages, sizeof(*s.gen));
	s.mem = mmap(NULL, bytes, PROT_READ | PROT_WRITE,
		     MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (!s.gen || s.mem == MAP_FAILED) {
		fprintf(stderr, "memfill: cannot map %llu bytes: %s\n",
			(unsigned long long)bytes, strerror(errno));
		return 2;
	}

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigaction(SIGUSR1, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);

	for (pg = 0; pg < s.pages; pg++)
		fill_page((uint64_t *)(s.mem + pg * PAGE), pg, 0);
	if (flip)		/* page 0 is held, with or without -F */
		s.mem[hole_mib ? PAGE / 2 : bytes / 2] ^= 0x5a;
	if (hole_mib) {
		s.hole = (uint64_t)hole_mib << 20 >> 12;
		for (pg = s.hole; pg < s.pages; pg += 2 * s.hole) {
			n = s.hole;
			if (pg + n > s.pages)
				n = s.pages - pg;
			if (madvise(s.mem + pg * PAGE, n * PAGE, MADV_DONTNEED)) {
				fprintf(stderr, "memfill: madvise: %s\n",
					strerror(errno));
				return 2;
			}
		}
		for (pg = 0, bytes = 0; pg < s.pages; pg++)
			bytes += held(&s, pg) ? PAGE : 0;
	}
	printf("memfill: ready bytes=%llu\n", (unsigned long long)bytes);
	fflush(stdout);

	r = seed | 1;
	while (!stopping()) {
		verify_all(&s);
		if (__atomic_exchange_n(&want_status, 0, __ATOMIC_SEQ_CST))
			report(&s, "status");
		/* Rewrite a random REWRITE_PERCENT of the pages. */
		for (n = s.pages * rewrite / 100; n && !stopping(); n--) {
			r ^= r << 13;
			r ^= r >> 7;
			r ^= r << 17;
			pg = r % s.pages;
			if (!held(&s, pg))
				continue;
			fill_page((uint64_t *)(s.mem + pg * PAGE), pg,
				  ++s.gen[pg]);
		}
		sleep_ms(interval);
	}
	verify_all(&s);
	report(&s, "done");
	return s.corrupt ? 1 : 0;
}
