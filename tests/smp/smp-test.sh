#!/bin/sh
# SMP test: the Debian guest on N harts (default 4) sees N CPUs, and an atomic-counter stress
# program (N threads x 10^6 increments with AMOADD and with LR/SC) ends with exact totals, 20
# times in a row. The program reaches the guest as a second cpio archive appended to the
# initramfs (the kernel unpacks both). Usage: smp-test.sh RVISOR FETCH_SCRIPT STRESS_ELF [N]
# [RVISOR OPTIONS...]; prints "N passed, N failed".
set -u
rvisor=$1 fetch=$2 stress=$3 n=${4:-4}
shift 4 2>/dev/null || shift $#
passed=0 failed=0
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
. "$(dirname "$0")/guest-lib.sh"
smp_initrd "$fetch" "$stress" atomic-stress "$tmp" ||
    { echo "FAIL: fetching the guest"; echo "0 passed, 1 failed"; exit 1; }
script="i=0;while%20[%20\$i%20-lt%2020%20];do%20/atomic-stress%20$n||exit%201;i=\$((i+1));done"
smp_boot "$rvisor" "$n" 512M "$tmp" "$script" "$@"
oks=$(grep -c "^atomic-stress: ok $((n * 1000000))" "$tmp/out")
if [ "$rc" = 0 ] && [ "$oks" = 20 ]; then
    passed=$((passed + 1)); echo "PASS: 20 atomic stress runs with $n threads, exact totals"
else
    failed=$((failed + 1)); echo "FAIL: stress runs ok=$oks exit=$rc"; grep "atomic-stress" "$tmp/out" | tail -3
fi
echo "$passed passed, $failed failed"
[ "$failed" = 0 ]
