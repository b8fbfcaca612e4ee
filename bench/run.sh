#!/bin/sh
# Benchmarks: (1) the same CPU workload on rvisor (bare metal; binary translator and
# interpreter), QEMU user-mode TCG (qemu-riscv64) and natively, side by side, with ratios.
# Usage: bench/run.sh [BUILD_DIR]
set -eu
build=${1:-build}
cmake --build "$build" --target bench >/dev/null
b="$build/bench"

now() { date +%s.%N; }

t0=$(now); rv_out=$("$build/rvisor" run --accel jit --bios "$b/bench-bare.elf"); t1=$(now)
rv_time=$(echo "$t1 - $t0" | bc -l)
insns=$(echo "$rv_out" | sed -n 's/.*instret \([0-9]*\).*/\1/p')
rv_sum=$(echo "$rv_out" | sed -n 's/checksum \([0-9]*\).*/\1/p')

t0=$(now); ri_out=$("$build/rvisor" run --accel interp --bios "$b/bench-bare.elf"); t1=$(now)
ri_time=$(echo "$t1 - $t0" | bc -l)
ri_sum=$(echo "$ri_out" | sed -n 's/checksum \([0-9]*\).*/\1/p')

t0=$(now); q_out=$(qemu-riscv64 "$b/bench-linux.elf"); t1=$(now)
q_time=$(echo "$t1 - $t0" | bc -l)
q_sum=$(echo "$q_out" | sed -n 's/checksum \([0-9]*\).*/\1/p')

t0=$(now); n_out=$("$b/bench-native"); t1=$(now)
n_time=$(echo "$t1 - $t0" | bc -l)
n_sum=$(echo "$n_out" | sed -n 's/checksum \([0-9]*\).*/\1/p')

[ "$rv_sum" = "$q_sum" ] && [ "$rv_sum" = "$n_sum" ] && [ "$rv_sum" = "$ri_sum" ] || {
    echo "checksums differ: rvisor $rv_sum (interpreter $ri_sum), qemu $q_sum, native $n_sum" >&2
    exit 1; }

printf 'workload: sha256 + sort + crc32, %s guest instructions (checksum %s)\n' "$insns" "$rv_sum"
printf '%-28s %9s %12s %14s\n' "runner" "seconds" "guest MIPS" "vs rvisor"
row() { printf '%-28s %9.3f %12.1f %13.2fx\n' "$1" "$2" "$(echo "$insns / $2 / 1000000" | bc -l)" \
        "$(echo "$rv_time / $2" | bc -l)"; }
row "rvisor (binary translator)" "$rv_time"
row "rvisor --accel interp" "$ri_time"
row "qemu-riscv64 7.2 (TCG)" "$q_time"
row "native x86-64 (gcc -O2)" "$n_time"

echo
# (2) boot time against qemu-system-riscv64 -M virt
"$(dirname "$0")/boot.sh" "$build"

echo
# (3) guest workloads (sha256sum, gzip, bzip2 in the Debian guest) vs qemu-system and native busybox
"$(dirname "$0")/guest.sh" "$build"
