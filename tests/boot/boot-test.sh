#!/bin/bash
# Boot tests: Debian's riscv64 kernel with the busybox initramfs on rvisor, in both firmware
# modes, plus the command line's handling of bad input. Ends with "N passed, N failed".
# Usage: boot-test.sh RVISOR FETCH_SCRIPT [GUEST_DIR]
# RVISOR_RUN_ARGS: options added to every `rvisor run` (e.g. --accel interp).
set -u
. "$(dirname "$0")/../lib/testlib.sh"
testlib_init "" "$@"
# fail_run NAME: a failure, shown with the end of the last run's output
fail_run() { fail "$1"; [ -f "$tmp/out" ] && tail -20 "$tmp/out"; }

# expect NAME STATUS PATTERN... -- ARGS: runs rvisor with ARGS, checks the exit status and that
# every pattern (grep -E) appears in the output.
expect() {
    local name=$1 want=$2 pats="" got
    shift 2
    while [ "$1" != "--" ]; do pats="$pats
$1"; shift; done
    shift
    timeout 600 "$rvisor" run ${RVISOR_RUN_ARGS:-} "$@" </dev/null >"$tmp/out" 2>&1
    got=$?
    if [ "$got" != "$want" ]; then
        fail_run "$name: exit status $got, expected $want"
        return
    fi
    echo "$pats" | while IFS= read -r p; do
        [ -z "$p" ] && continue
        grep -Eq -- "$p" "$tmp/out" || { echo "missing: $p"; exit 1; }
    done || { fail_run "$name: output"; return; }
    pass "$name"
}

testlib_fetch_guest
K="--kernel $guest/Image --initrd $guest/initrd.img"
cmd() { printf 'console=ttyS0 quiet rvisor.cmd=%s' "$1"; }

# 1. Built-in SBI firmware: architecture, ISA extensions in /proc/cpuinfo, RTC = host time,
#    user-mode rdtime (a `read -t` timeout goes through the vDSO's clock_gettime).
host_now=$(date +%s)
expect "boot (built-in SBI)" 0 \
    '^riscv64' \
    '^isa[[:space:]]*: rv64imafdc_.*zicbom_zicboz.*zicond.*zba_zbb_zbc_zbs_sstc.*_svvptc' \
    'rvisor-guest: exit 0' '^timeout=1([^0-9]|$)' -- \
    $K --append "$(cmd 'uname%20-m;cat%20/proc/cpuinfo;echo%20now=$(date%20+%s);read%20-t%201%20x;echo%20timeout=$?')"
guest_now=$(sed -n 's/^now=\([0-9]*\).*/\1/p' "$tmp/out")
host_then=$(date +%s)
if [ -n "$guest_now" ] && [ "$guest_now" -ge $((host_now - 5)) ] && [ "$guest_now" -le $((host_then + 5)) ]; then
    pass "guest date follows the host clock ($guest_now in [$host_now, $host_then])"
else
    fail_run "guest date '$guest_now' not within [$host_now, $host_then] (+-5 s)"
fi

# 2. The guest's exit status reaches the host (syscon finisher).
expect "exit status" 7 'rvisor-guest: exit 7' -- $K --append "$(cmd 'exit%207')"

# 2b. virtio-console and virtio-rng: the guest writes to /dev/hvc0 and reads the host's entropy.
expect "virtio-console and virtio-rng" 0 '^hvc-ok' '^virtio_rng\.0' '^rng=16([^0-9]|$)' -- \
    --virtio-console --rng $K --append "console=ttyS0 quiet rvisor.modules=virtio_mmio,virtio_rng rvisor.cmd=echo%20hvc-ok>/dev/hvc0;cat%20/sys/class/misc/hw_random/rng_current;echo%20rng=\$(head%20-c%2016%20/dev/hwrng|wc%20-c)"

# 3. Firmware mode: Debian's OpenSBI (fw_dynamic) boots the same kernel.
expect "boot (OpenSBI fw_dynamic)" 0 'OpenSBI v' '^riscv64' -- \
    --bios "$guest/opensbi/fw_dynamic.bin" $K --append "$(cmd 'uname%20-m')"

# 4. Two harts: both online.
expect "boot --smp 2" 0 '^cpus=2' -- --smp 2 $K --append "$(cmd 'echo%20cpus=$(nproc)')"

# 5. A guest reboot under --no-reboot ends the run with 124.
expect "reboot --no-reboot" 124 -- --no-reboot $K --append "$(cmd 'reboot%20-f')"

# 5b. A guest reboot loads kernel and initrd again from their files (kept open, not copied in
#     memory): the guest boots a second time; then, with the kernel file cut short, the next
#     reboot fails with 125 and names the problem.
cp "$guest/Image" "$tmp/k"
cp "$guest/initrd.img" "$tmp/i"
timeout 600 "$rvisor" run ${RVISOR_RUN_ARGS:-} --kernel "$tmp/k" --initrd "$tmp/i" \
    --append "$(cmd 'echo%20boot-mark;reboot%20-f')" </dev/null >"$tmp/out" 2>&1 &
rb_pid=$!
marks() { grep -c '^boot-mark' "$tmp/out"; }
for _ in $(seq 600); do [ "$(marks)" -ge 2 ] && break; sleep 0.2; done
if [ "$(marks)" -ge 2 ]; then pass "reboot loads the images again"; else fail_run "reboot"; fi
truncate -s 100000 "$tmp/k"
wait $rb_pid
rb_status=$?
if [ $rb_status = 125 ] && grep -q 'reboot failed: .*k: file shorter than when it was opened' "$tmp/out"; then
    pass "a kernel file cut short before a reboot: status 125 and a message"
else
    fail_run "kernel cut short before a reboot: status $rb_status"
fi

# 6. A kernel panic ends the run with 126 and a message.
expect "kernel panic" 126 'Kernel panic' 'guest kernel panicked' -- \
    $K --append "$(cmd 'echo%20c>/proc/sysrq-trigger')"

# 7. Bad input: one line on stderr, exit status 125, no crash.
head -c 100000 "$guest/Image" >"$tmp/trunc"
truncate -s 300M "$tmp/huge"
expect "missing kernel" 125 'No such file' -- --kernel "$tmp/none"
expect "truncated kernel" 125 'truncated' -- --kernel "$tmp/trunc"
expect "x86-64 ELF kernel" 125 'not RISC-V' -- --kernel /bin/sh
expect "initrd larger than RAM" 125 'larger than RAM' -- --kernel "$guest/Image" --initrd "$tmp/huge"
expect "kernel larger than RAM" 125 'does not fit' -- --mem 16M --kernel "$guest/Image"
expect "nonsense memory size" 125 'bad memory size' -- --mem lots --kernel "$guest/Image"
expect "nonsense hart count" 125 'smp' -- --smp 0 --kernel "$guest/Image"
expect "unknown option" 125 'unknown' -- --frobnicate 1

# 8. The generated device tree is valid for dtc and describes the hart's ISA.
if "$rvisor" run $K --dump-dtb "$tmp/virt.dtb" && dtc -I dtb -O dts -o "$tmp/virt.dts" "$tmp/virt.dtb" 2>/dev/null &&
    grep -q 'riscv,isa-extensions = .*zicond' "$tmp/virt.dts" && grep -q 'ns16550a' "$tmp/virt.dts"; then
    pass "--dump-dtb output decompiles with dtc"
else
    fail_run "--dump-dtb"
fi
finish
