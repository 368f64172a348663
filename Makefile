# SPDX-License-Identifier: GPL-2.0
#
# Out-of-tree entry point. The README's two commands are the contract:
#   make run    boot a guest with a virtio-mem device and show both views
#   make test   static checks, KUnit under UML, QEMU tests; ends with
#               "N passed, N failed"
#
# make                build virtio_mem.ko against Debian 12's current kernel
# make KDIR=<dir>     build against any prepared kernel tree
# make check          W=1, sparse, checkpatch --strict, coccicheck
# make kunit          KUnit suites under UML
# make qemu-test      integration tests in QEMU guests (Debian's kernel)
# make qemu-test KERNEL=debug
#                     the same on the project's debug kernel (lockdep,
#                     KASAN, DEBUG_VM), built from linux-source-6.1
# make soak           random resizes under a checksummed workload
#                     (KERNEL=debian|debug, SOAK_STEPS=, SOAK_SEED=)
# make bench          resize timings, ours against the stock driver
#                     (BENCH_ARGS="--repeat 5" and more: see bench.py)
# make setup          fetch/install everything (the targets call it anyway)

export VMEM_CACHE ?= $(or $(XDG_CACHE_HOME),$(HOME)/.cache)/virtio-mem-driver

SETUP := $(CURDIR)/scripts/setup.sh
# Shell snippet: KDIR from the command line, else the cached Debian headers.
KDIR_SH = kdir='$(KDIR)'; if [ -z "$$kdir" ]; then $(SETUP) guest && \
	. $(VMEM_CACHE)/guest.env && kdir=$$GUEST_KDIR; \
	else $(SETUP) packages; fi

.PHONY: all modules clean setup check kunit qemu-test run test bench soak

all: modules

modules:
	@$(KDIR_SH); $(MAKE) -C "$$kdir" M=$(CURDIR) CONFIG_VIRTIO_MEM=m modules

setup:
	@$(SETUP) all

check:
	@scripts/check.sh

kunit:
	@scripts/kunit.sh

# Static guest workload: fills memory with a checksummed pattern.
MEMFILL := tools/memfill
$(MEMFILL): tools/memfill.c
	@$(SETUP) packages
	$(CC) -static -O2 -Wall -Wextra -o $@ $<

qemu-test: modules $(MEMFILL)
	@KERNEL='$(KERNEL)' scripts/qemu-test.sh

soak: modules $(MEMFILL)
	@KERNEL='$(KERNEL)' SOAK_STEPS='$(SOAK_STEPS)' SOAK_SEED='$(SOAK_SEED)' \
		scripts/soak.sh

bench: modules
	@BENCH_ARGS='$(BENCH_ARGS)' scripts/bench.sh

run: modules
	@scripts/run.sh

test:
	@scripts/test.sh

clean:
	@$(KDIR_SH); $(MAKE) -C "$$kdir" M=$(CURDIR) CONFIG_VIRTIO_MEM=m clean
	rm -f $(MEMFILL)
