#!/bin/sh
# Boot benchmark: wall time from process start to the guest's first userspace line
# ("rvisor-guest: userspace up", printed first by the initramfs's /init), and the CPU seconds the
# VM process used until then (the fairer measure on a busy host), for rvisor (translator and
# interpreter) and qemu-system-riscv64 -M virt with the same Debian kernel and initramfs, on 1
# and 2 harts, in one run.
# Usage: bench/boot.sh [BUILD_DIR] [RUNS]     env: BENCH_SMP="1 2" hart counts
set -eu
build=${1:-build}
runs=${2:-3}
smps=${BENCH_SMP:-1 2}
here=$(cd "$(dirname "$0")" && pwd)
guest=$("$here/../guest/fetch-debian.sh" --print-dir)
K="$guest/Image"
I="$guest/initrd.img"
A="console=ttyS0 quiet rvisor.cmd=sleep%2060" # killed at the marker line
tck=$(getconf CLK_TCK)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# time_to_line CMD...: prints "wall_s cpu_s" when the marker line appears on the command's
# output (the VM is stopped then).
time_to_line() {
    start=$(date +%s.%N)
    timeout 300 sh -c 'echo $$ >"$0"; exec "$@"' "$tmp/pid" "$@" </dev/null 2>&1 | while IFS= read -r line; do
        case "$line" in
        *"rvisor-guest: userspace up"*)
            t=$(date +%s.%N); p=$(cat "$tmp/pid")
            c=$(awk -v t="$tck" '{ printf "%.2f", ($14 + $15) / t }' "/proc/$p/stat" ||
                echo 0)
            kill "$p" 2>/dev/null || true
            echo "$(echo "$t - $start" | bc -l) $c"
            ;;
        esac
    done | head -n 1
}

# best CMD...: the best (lowest wall) of $runs boots, "wall cpu"
best() { for i in $(seq "$runs"); do time_to_line "$@"; done | sort -n | head -n 1; }

printf 'boot to first userspace line (best of %s), Debian %s kernel + busybox initramfs\n' \
    "$runs" "$(sed -n 's/^kernel-release //p' "$guest/manifest")"
printf '%-34s %5s %8s %8s\n' "" harts wall-s cpu-s
for n in $smps; do
    rv=$(best "$build/rvisor" run --smp "$n" --mem 512M --kernel "$K" --initrd "$I" --append "$A")
    printf '%-34s %5s %8.2f %8.2f\n' "rvisor (translator, built-in SBI)" "$n" $rv
    if [ "${BENCH_INTERP:-1}" != 0 ]; then
        ri=$(best "$build/rvisor" run --accel interp --smp "$n" --mem 512M --kernel "$K" \
            --initrd "$I" --append "$A")
        printf '%-34s %5s %8.2f %8.2f\n' "rvisor --accel interp" "$n" $ri
    fi
    if command -v qemu-system-riscv64 >/dev/null; then
        q=$(best qemu-system-riscv64 -M virt -smp "$n" -m 512M -nographic \
            -kernel "$K" -initrd "$I" -append "$A")
        printf '%-34s %5s %8.2f %8.2f\n' "qemu-system-riscv64 -M virt (TCG)" "$n" $q
        set -- $rv $q
        printf '%-34s %5s %7.2fx %7.2fx\n' "rvisor / qemu" "$n" "$(echo "$1 / $3" | bc -l)" \
            "$(echo "$2 / $4" | bc -l)"
    else
        echo "qemu-system-riscv64 not installed (apt-get install qemu-system-misc)"
    fi
done
