#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# scripts/setup.sh packages on a machine that never had any of the
# project's packages: dpkg-query knows none of them and exits 1, as on a
# fresh Debian 12. Stand-ins for dpkg-query and apt-get (first in PATH)
# record what setup.sh asks; the check passes if it asked apt-get to
# install every package and exited 0, and if, when apt-get install
# fails, it fails too and says where. Prints "PASS: check/setup-fresh"
# or "FAIL: check/setup-fresh: <why>".
set -uo pipefail

# shellcheck source=scripts/lib.sh
. "$(dirname "$0")/lib.sh"

tmp=$(mktemp -d /tmp/vmem-setup-selftest.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
mkdir "$tmp/bin"
cat > "$tmp/bin/dpkg-query" <<'SH'
#!/bin/sh
for p in "$@"; do
	case $p in -*) ;; *) echo "dpkg-query: no packages found matching $p" >&2 ;; esac
done
exit 1
SH
cat > "$tmp/bin/apt-get" <<'SH'
#!/bin/sh
echo "$*" >> "$APT_LOG"
case " $* " in *" install "*) [ -z "${APT_FAIL:-}" ] || exit 100 ;; esac
SH
chmod +x "$tmp/bin/dpkg-query" "$tmp/bin/apt-get"

fail() { echo "    $*"; echo "FAIL: check/setup-fresh: $1"; exit 1; }

# sudo is not there on every machine: run as root or not at all.
[ "$(id -u)" = 0 ] || { echo "SKIP: check/setup-fresh: not root"; exit 0; }
out=$(APT_LOG="$tmp/apt.log" VMEM_CACHE="$tmp/cache" PATH="$tmp/bin:$PATH" \
	"$top/scripts/setup.sh" packages 2>&1) ||
	fail "setup.sh packages exited with $?" "$out"
grep -q ' update' "$tmp/apt.log" 2>/dev/null || fail "no apt-get update" "$out"
asked=$(grep ' install ' "$tmp/apt.log" 2>/dev/null)
for p in build-essential qemu-system-x86 coccinelle gnuplot-nox; do
	case " $asked " in
	*" $p "*) ;;
	*) fail "apt-get was not asked for $p" "$out" ;;
	esac
done
# A failing step names itself (the ERR trap, in a function too).
out=$(APT_FAIL=1 APT_LOG="$tmp/apt.log" VMEM_CACHE="$tmp/cache" \
	PATH="$tmp/bin:$PATH" "$top/scripts/setup.sh" packages 2>&1) &&
	fail "setup.sh packages succeeded when apt-get install failed" "$out"
grep -q '^setup: failed (exit 100) at line [0-9]*: ' <<< "$out" ||
	fail "a failed apt-get install left no 'setup: failed' line" "$out"
echo "PASS: check/setup-fresh"
