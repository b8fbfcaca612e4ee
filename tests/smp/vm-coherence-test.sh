#!/bin/sh
# SMP memory-coherence test: the Debian guest on N harts runs vm-coherence (vm_coherence.c:
# munmap, mprotect, remap and fork copy-on-write seen by threads on the other CPUs), which must
# print "vm-coherence: ok". Usage: vm-coherence-test.sh RVISOR FETCH_SCRIPT ELF N ITERATIONS
# [RVISOR OPTIONS...]; prints "N passed, N failed".
set -u
rvisor=$1 fetch=$2 elf=$3 n=$4 iters=$5
shift 5
passed=0 failed=0
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
. "$(dirname "$0")/guest-lib.sh"
smp_initrd "$fetch" "$elf" vm-coherence "$tmp" ||
    { echo "FAIL: fetching the guest"; echo "0 passed, 1 failed"; exit 1; }
smp_boot "$rvisor" "$n" 256M "$tmp" "/vm-coherence%20$iters" "$@"
grep "^vm-coherence" "$tmp/out"
for check in munmap mprotect remap "fork copy-on-write"; do
    if grep -q "^vm-coherence: $check x$iters.*: ok" "$tmp/out"; then
        passed=$((passed + 1)); echo "PASS: $check"
    else
        failed=$((failed + 1)); echo "FAIL: $check"
    fi
done
if [ "$rc" = 0 ] && grep -q "^vm-coherence: ok" "$tmp/out"; then
    passed=$((passed + 1)); echo "PASS: vm-coherence exits 0"
else
    failed=$((failed + 1)); echo "FAIL: vm-coherence (rvisor exit $rc)"; tail -5 "$tmp/out"
fi
echo "$passed passed, $failed failed"
[ "$failed" = 0 ]
