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
# make qemu-test KERNEL=debian13
#                     the same on Debian 13's 6.12 kernel
# make soak           random resizes under a checksummed workload
#                     (KERNEL=debian|debug|debian13|both, SOAK_STEPS=,
#                     SOAK_SEED=)
# make bench          resize timings, ours against the stock driver
#                     (KERNEL=debian|debian13, BENCH_ARGS="--repeat 5" and
#                     more: see bench.py)
# make run            (KERNEL= as for qemu-test)
# make setup          fetch/install everything (the targets call it anyway)
#                     but the newest 7.x tree (scripts/setup.sh newest)
# make install        build, then install virtio_mem.ko into
#                     $(INSTALL_MOD_PATH)/lib/modules/<release>/updates/ with
#                     the kernel's modules_install and run depmod
#                     (KDIR=, INSTALL_MOD_PATH=; Documentation/install.rst)
# NO_SETUP=1          never run scripts/setup.sh: for DKMS and packagers,
#                     whose machine has its compiler and KDIR already

# The cache path has one home, scripts/lib.sh. (A DKMS copy has no scripts/:
# it needs no cache either, with NO_SETUP=1 and KDIR given.)
ifndef VMEM_CACHE
VMEM_CACHE := $(shell bash '$(CURDIR)/scripts/lib.sh' cache 2>/dev/null)
endif
export VMEM_CACHE

SETUP := $(if $(NO_SETUP),true,$(CURDIR)/scripts/setup.sh)
# Shell snippet: KDIR from the command line, else the cached Debian headers.
KDIR_SH = kdir='$(KDIR)'; if [ -z "$$kdir" ]; then $(SETUP) guest && \
	. $(VMEM_CACHE)/guest.env && kdir=$$GUEST_KDIR; \
	else $(SETUP) packages; fi
# Shell snippet, after KDIR_SH: kver, the release of the kernel in $kdir as
# its modules' vermagic and uname -r give it (UTS_RELEASE). Not `make
# kernelrelease` nor include/config/kernel.release: in Debian's headers both
# say 6.1.NNN, and only .kernelvariables (an override the kernel's Makefile
# includes) says 6.1.0-NN-amd64.
KVER_SH = kver=$$(sed -n 's/^\#define UTS_RELEASE "\(.*\)"$$/\1/p' \
	"$$kdir/include/generated/utsrelease.h" 2>/dev/null); \
	[ -n "$$kver" ] || kver=$$($(MAKE) -s --no-print-directory -C "$$kdir" \
	kernelrelease); [ -n "$$kver" ] || { echo "no kernel release in $$kdir" >&2; exit 1; }

.PHONY: all modules install clean setup check kunit qemu-test run test bench soak

all: modules

# make deb: virtio-mem-dkms_<version>_all.deb and virtio-mem-tools_<version>_
# <arch>.deb into DEB_OUT (debian/, dpkg-buildpackage -b -us -uc on a copy
# of the checkout); scripts/deb-check.sh checks them.
DEB_OUT ?= dist
.PHONY: deb
deb:
	@scripts/deb-check.sh build '$(DEB_OUT)'

modules:
	@$(KDIR_SH); $(MAKE) -C "$$kdir" M=$(CURDIR) CONFIG_VIRTIO_MEM=m modules

# INSTALL_MOD_DIR=updates: depmod prefers it to the in-tree driver in
# kernel/. modules_install signs and strips as the kernel is configured to
# (Debian's headers have no signing key: "sign-file: ... No such file" is
# expected there and harmless). Its own depmod runs only beside a
# System.map, so depmod runs here, for the release the module is for.
install: modules
	@$(KDIR_SH); $(KVER_SH); \
	$(MAKE) -C "$$kdir" M=$(CURDIR) CONFIG_VIRTIO_MEM=m INSTALL_MOD_DIR=updates \
		$(if $(INSTALL_MOD_PATH),INSTALL_MOD_PATH=$(abspath $(INSTALL_MOD_PATH))) \
		KERNELRELEASE="$$kver" modules_install && \
	echo "  DEPMOD  $(abspath $(INSTALL_MOD_PATH))/lib/modules/$$kver" && \
	depmod $(if $(INSTALL_MOD_PATH),-b "$(abspath $(INSTALL_MOD_PATH))") "$$kver"

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

# Static guest helper of the sysfs poll() test.
# Static guest workload: keeps pages pinned with vmsplice().
VMSPLICE_PIN := tools/vmsplice_pin
$(VMSPLICE_PIN): tools/vmsplice_pin.c
	@$(SETUP) packages
	$(CC) -static -O2 -Wall -Wextra -o $@ $<

POLLWAIT := tools/qemu/pollwait
$(POLLWAIT): tools/qemu/pollwait.c
	@$(SETUP) packages
	$(CC) -static -O2 -Wall -Wextra -o $@ $<

# The operators' tool (its own Makefile: it is also built alone).
VMEMCTL := tools/vmemctl/vmemctl
$(VMEMCTL): $(wildcard tools/vmemctl/*.c tools/vmemctl/*.h)
	@$(SETUP) packages
	$(MAKE) -C tools/vmemctl

qemu-test: modules $(MEMFILL) $(VMSPLICE_PIN) $(POLLWAIT) $(VMEMCTL)
	@KERNEL='$(KERNEL)' scripts/qemu-test.sh

soak: modules $(MEMFILL)
	@KERNEL='$(KERNEL)' SOAK_STEPS='$(SOAK_STEPS)' SOAK_SEED='$(SOAK_SEED)' \
		scripts/soak.sh

bench: modules
	@KERNEL='$(KERNEL)' BENCH_ARGS='$(BENCH_ARGS)' scripts/bench.sh

run: modules
	@KERNEL='$(KERNEL)' scripts/run.sh

test:
	@scripts/test.sh

clean:
	@$(KDIR_SH); $(MAKE) -C "$$kdir" M=$(CURDIR) CONFIG_VIRTIO_MEM=m clean
	rm -f $(MEMFILL) $(VMSPLICE_PIN) $(POLLWAIT)
	$(MAKE) -C tools/vmemctl clean
