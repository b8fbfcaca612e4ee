#!/bin/sh
# --trace and --stats on the bare-metal prog.elf (symbols from the ELF itself) and on Debian's
# kernel (symbols from its /proc/kallsyms): what each trace kind and the statistics show.
# Usage: trace-test.sh RVISOR PROG.ELF FETCH_SCRIPT
set -u
RVISOR=$1 PROG=$2 FETCH=$3
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
pass=0 fail=0
check() { # DESCRIPTION FILE EXTENDED-REGEX
    if grep -Eq -- "$3" "$2"; then pass=$((pass + 1)); else
        fail=$((fail + 1)); echo "FAIL: $1 (no line matching /$3/ in $(basename "$2"))"; fi
}

for accel in jit interp; do
    "$RVISOR" run --accel $accel --bios "$PROG" --trace=insn,exits,mmio,file="$work/t-$accel" \
        --stats 2>"$work/s-$accel"
    status=$?
    [ $status -eq 7 ] && pass=$((pass + 1)) || { fail=$((fail + 1)); echo "FAIL: status $status"; }
    t=$work/t-$accel
    check "$accel: first instruction, symbolized" "$t" '^hart0 insn 0x80000000 <_start\+0> [0-9a-f]{8} auipc$'
    check "$accel: compressed instruction" "$t" '^hart0 insn 0x80000088 <bp_here\+0> 0505 addi$'
    check "$accel: the watched store" "$t" '^hart0 insn 0x[0-9a-f]+ <store_insn\+0> 01c2b023 sd$'
    check "$accel: the HTIF write" "$t" '^mmio write htif-tohost\+0x0 \(0x[0-9a-f]+\) size 8 <- 0xf$'
    n=$(grep -c ' insn ' "$t")
    [ "$n" -gt 40 ] && [ "$n" -lt 200 ] && pass=$((pass + 1)) ||
        { fail=$((fail + 1)); echo "FAIL: $n instructions traced"; }
    s=$work/s-$accel
    check "$accel: stats header" "$s" '^rvisor: exit statistics$'
    check "$accel: instructions counted" "$s" "^  hart 0: $n instructions, [0-9]+ TLB misses$"
    check "$accel: MMIO by device" "$s" '^    htif-tohost +@0x[0-9a-f]+ +0 / 1$'
done

# The Debian kernel: SBI and exits traced with kallsyms symbols, statistics of a real boot.
if "$FETCH" >/dev/null; then
    D=${RVISOR_CACHE:-$HOME/.cache/rvisor}/debian
    K="--kernel $D/Image --initrd $D/initrd.img"
    "$RVISOR" run $K --console file:"$work/kallsyms" \
        --append "console=ttyS0 quiet rvisor.cmd=cat%20/proc/kallsyms" </dev/null >/dev/null 2>&1
    tr -d '\r' <"$work/kallsyms" | grep -E '^[0-9a-f]{16} [A-Za-z] ' >"$work/map"
    "$RVISOR" run $K --symbols "$work/map" --trace=sbi,exits,file="$work/kt" --stats \
        --append "console=ttyS0 quiet rvisor.cmd=true" </dev/null >/dev/null 2>"$work/ks"
    check "kernel: SBI calls traced" "$work/kt" '^hart0 sbi BASE\(0x10\) fid [0-9]+ '
    check "kernel: ecall exits symbolized" "$work/kt" '^hart0 exit ecall at 0xffffffff[0-9a-f]+ <[a-z_0-9.]+\+[0-9]+>'
    check "kernel: SBI statistics" "$work/ks" '^    base +[1-9][0-9]*$'
    check "kernel: page faults by cause" "$work/ks" '^    exception +load_page_fault +[1-9]'
    check "kernel: timer interrupts" "$work/ks" '^    interrupt +supervisor_timer +[1-9]'
    check "kernel: UART accesses" "$work/ks" '^    ns16550a +@0x10000000 +[1-9][0-9]* / [1-9]'
    check "kernel: TLB misses" "$work/ks" '^  hart 0: [1-9][0-9]* instructions, [1-9][0-9]* TLB misses$'
else
    fail=$((fail + 1)); echo "FAIL: fetching the Debian guest"
fi
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
