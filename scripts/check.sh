#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Static checks, one "PASS: check/<name>" or "FAIL: check/<name>" line each:
#   w1          a W=1 build with no warning, against Debian 12's 6.1 headers
#   w1-debian13 the same against Debian 13's 6.12 (scripts/setup.sh debian13)
#   w1-newest   the same against the newest 7.x Debian serves (scripts/setup.sh
#               newest; no Module.symvers there: KBUILD_MODPOST_WARN=1)
#   sparse      C=2 with no sparse report
#   checkpatch  checkpatch.pl --strict on every C source and header
#   docs        Documentation/*.rst parses without a warning
#   coccicheck  every coccinelle script of the kernel, report mode
#   setup-fresh setup.sh packages asks apt-get for every package on a
#               machine whose dpkg knows none (scripts/setup-selftest.sh)
# and then scripts/debian13-abi.sh: the module built for Debian 13's
# kernel has that image's vermagic, struct module size and symbol CRCs
# ("PASS: debian13/abi/<check>" lines).
set -uo pipefail

# shellcheck source=scripts/lib.sh
. "$(dirname "$0")/lib.sh"
"$top/scripts/setup.sh" all >/dev/null || { echo "FAIL: check/setup"; exit 1; }
load_env guest
load_env source

failed=0
# report NAME LOGFILE: PASS if the log has no finding, else FAIL with it.
report() {
	if [ -s "$2" ]; then
		sed 's/^/    /' "$2"
		echo "FAIL: check/$1"
		failed=1
	else
		echo "PASS: check/$1"
	fi
}

log=$(mktemp -d)
trap 'rm -rf "$log"' EXIT

sources=$(cd "$top" && git ls-files -co --exclude-standard \
	'*.c' '*.h' | grep -v '\.mod\.c$')

# Coccinelle keeps about one core busy; it reads the sources only, so it
# runs beside the builds. spatch asks python3 its version for every
# semantic patch: Debian's own python3, not a pyenv shim (a bash script
# of its own each time) first in PATH: 111 s -> 45 s here.
PATH=/usr/bin:$PATH make -C "$LINUX_SRC" M="$top" coccicheck MODE=report \
	J="$(nproc)" > "$log/cocci.out" 2>&1 &
cocci=$!

# Sparse's reports (C=2) have the form of gcc's diagnostics, without the
# option gcc names at the end ("[-Wfoo]"); objtool's and modpost's have no
# line and column. A compiler error goes to both reports.
sparse_re='^[^ ]+:[0-9]+:[0-9]+: (warning|error): .*[^]]$'
sparse_warning_re='^[^ ]+:[0-9]+:[0-9]+: warning: .*[^]]$'

# w1_other NAME DIR KDIR [make arguments]: a W=1 build from scratch against
# a kernel tree, in the build directory DIR (build-copy.sh), never in the
# checkout, whose objects other stages of make test load in guests. Every
# warning and error fails it (with C=2, sparse's go to check/sparse
# instead), modpost's warnings too; with KBUILD_MODPOST_WARN=1 (no
# Module.symvers), unresolved symbols do not.
w1_other() {
	local name=$1 dir=$2 kdir=$3 out sparse=
	shift 3
	case " $* " in *" C=2 "*|*" C=1 "*) sparse=1 ;; esac
	out=$(build_dir "$dir")
	[ ! -d "$out" ] || make -s -C "$kdir" M="$out" clean >/dev/null 2>&1
	"$top/scripts/build-copy.sh" "$kdir" "$dir" -j"$(nproc)" "$@" \
		> "$log/$name.out" 2>&1 || echo "build failed" >> "$log/$name"
	grep -E 'warning:|error:|^(WARNING|ERROR): modpost: ' "$log/$name.out" |
		grep -vE "^WARNING: modpost: (.*: symbol '[^']*' undefined!|suppressed [0-9]+ unresolved)" |
		{ if [ -n "$sparse" ]; then grep -vE "$sparse_warning_re"; else cat; fi; } \
		>> "$log/$name"
	if [ -n "$sparse" ]; then
		grep -E "$sparse_re" "$log/$name.out" > "$log/sparse"
		grep -x "build failed" "$log/$name" >> "$log/sparse"
	fi
	report "$name" "$log/$name"
}

# Debian 12's 6.1: W=1 and C=2 (sparse on every file) in one build.
w1_other w1 w1 "$GUEST_KDIR" C=2
report sparse "$log/sparse"

if "$top/scripts/setup.sh" debian13 > "$log/setup-debian13" 2>&1; then
	load_env debian13
	echo "check: w1-debian13: $DEBIAN13_KVER"
	# The build the ABI check below and the Debian 13 guests load.
	w1_other w1-debian13 debian13 "$DEBIAN13_KDIR"
else
	echo "scripts/setup.sh debian13 failed" >> "$log/w1-debian13"
	tail -n 20 "$log/setup-debian13" >> "$log/w1-debian13"
	report w1-debian13 "$log/w1-debian13"
fi
if "$top/scripts/setup.sh" newest > "$log/setup-newest" 2>&1; then
	load_env newest
	echo "check: w1-newest: $NEWEST_PKG $NEWEST_PKGVER ($NEWEST_KVER)"
	w1_other w1-newest w1-newest "$NEWEST_KDIR" KBUILD_MODPOST_WARN=1
else
	echo "scripts/setup.sh newest failed" >> "$log/w1-newest"
	tail -n 20 "$log/setup-newest" >> "$log/w1-newest"
	report w1-newest "$log/w1-newest"
fi

# Three findings are known false positives, filtered by name, not by type:
# CamelCase on the kernel's macro-generated page-flag helpers
# (__SetPageOffline() ...), which checkpatch cannot see defined, and the
# version check that include/vmem_compat.h exists to hold; and the
# definitions of __printf and __noreturn for the userspace tool, which
# has no kernel header to take them from (its other files use them).
(cd "$top" && perl "$LINUX_SRC/scripts/checkpatch.pl" --no-tree --strict \
	--terse --no-summary --show-types -f $sources) 2>&1 |
	grep -vE 'CAMELCASE: Avoid CamelCase: <(__)?(Set|Clear)?Page[A-Z][A-Za-z]*>' |
	grep -vE '^include/vmem_compat\.h:[0-9]+: WARNING:(LINUX_VERSION_CODE|CONSTANT_COMPARISON):' |
	grep -vE '^tools/vmemctl/vmemctl_util\.h:[0-9]+: WARNING:PREFER_DEFINED_ATTRIBUTE_MACRO:' \
	> "$log/checkpatch"
report checkpatch "$log/checkpatch"

wait $cocci || echo "coccicheck failed" >> "$log/cocci"
# Findings name a file of ours with a line number.
grep -E "^$top/[^ ]+:[0-9]+" "$log/cocci.out" >> "$log/cocci"
report coccicheck "$log/cocci"

# The reStructuredText of Documentation/ parses without a warning
# (Debian's docutils: the python3 on PATH may be another one).
for f in "$top"/Documentation/*.rst; do
	/usr/bin/python3 -c 'import sys, docutils.core
docutils.core.publish_string(open(sys.argv[1]).read(),
    source_path=sys.argv[1], writer_name="null",
    settings_overrides={"report_level": 2, "halt_level": 5})' "$f" 2>&1
done > "$log/docs"
report docs "$log/docs"

# setup.sh on a machine that never had the project's packages.
"$top/scripts/setup-selftest.sh" || failed=1

"$top/scripts/debian13-abi.sh" || failed=1

exit $failed
