#!/bin/sh
# Boot benchmark: wall time from process start to the guest's first userspace line
# ("rvisor-guest: userspace up", printed first by the initramfs's /init), for rvisor and for
# qemu-system-riscv64 -M virt with the same Debian kernel and initramfs, in one run.
# Usage: bench/boot.sh [BUILD_DIR] [RUNS]
set -eu
build=${1:-build}
runs=${2:-3}
guest=$(guest/fetch-debian.sh --print-dir)
K="$guest/Image"
I="$guest/initrd.img"
A="console=ttyS0 quiet rvisor.cmd=true"

# time_to_line CMD...: prints seconds until the marker line appears on the command's output.
time_to_line() {
    start=$(date +%s.%N)
    "$@" </dev/null 2>&1 | while IFS= read -r line; do
        case "$line" in
        *"rvisor-guest: userspace up"*)
            echo "$(date +%s.%N) - $start" | bc -l
            ;;
        esac
    done | head -n 1
}

best() { sort -n | head -n 1; }

rv=$(for i in $(seq "$runs"); do
    time_to_line "$build/rvisor" run --mem 512M --kernel "$K" --initrd "$I" --append "$A"
done | best)
ri=$(for i in $(seq "$runs"); do
    time_to_line "$build/rvisor" run --accel interp --mem 512M --kernel "$K" --initrd "$I" \
        --append "$A"
done | best)
if command -v qemu-system-riscv64 >/dev/null; then
    q=$(for i in $(seq "$runs"); do
        time_to_line timeout 300 qemu-system-riscv64 -M virt -m 512M -nographic -kernel "$K" \
            -initrd "$I" -append "$A"
    done | best)
else
    q=""
fi
printf 'boot to first userspace line (best of %s), Debian %s kernel + busybox initramfs\n' \
    "$runs" "$(sed -n 's/^kernel-release //p' "$guest/manifest")"
printf '%-36s %8.2f s\n' "rvisor (translator, built-in SBI)" "$rv"
printf '%-36s %8.2f s\n' "rvisor --accel interp" "$ri"
if [ -n "$q" ]; then
    printf '%-36s %8.2f s\n' "qemu-system-riscv64 -M virt (TCG)" "$q"
    printf '%-36s %8.2fx\n' "rvisor / qemu" "$(echo "$rv / $q" | bc -l)"
else
    echo "qemu-system-riscv64 not installed (apt-get install qemu-system-misc)"
fi
