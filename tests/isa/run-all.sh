#!/bin/sh
# Runs every ISA test program and prints one line per program and "N passed, N failed".
#   tests/isa/run-all.sh [RVISOR [ELF_DIR]]
# RVISOR defaults to ./build/rvisor, ELF_DIR to the tests/isa folder beside it
# (<build>/tests/isa). ISA_RUNNER replaces "RVISOR run --bios", e.g. to check the tests
# themselves on another simulator: ISA_RUNNER="qemu-system-riscv64 -M spike -nographic -bios"
# (QEMU lacks some extensions the suite covers: Zicond, Svadu).
rvisor=${1:-build/rvisor}
dir=${2:-$(dirname "$rvisor")/tests/isa}
src=$(cd "$(dirname "$0")" && pwd)
runner=${ISA_RUNNER:-"$rvisor run --bios"}
timeout_s=${ISA_TIMEOUT:-30}

passed=0
failed=0
found=0
for elf in "$dir"/*.elf; do
    [ -e "$elf" ] || continue
    found=1
    name=$(basename "$elf" .elf)
    # Per-program options and expected status, as the program's source asks for them
    # (comments "isa-options: ..." and "isa-exit-status: N", also read by CMakeLists.txt).
    opts=$(sed -n 's/.*isa-options:\([^*]*\).*/\1/p' "$src/$name.S" 2>/dev/null | head -n 1)
    want=$(sed -n 's/.*isa-exit-status: *\([0-9]*\).*/\1/p' "$src/$name.S" 2>/dev/null | head -n 1)
    want=${want:-0}
    if [ -n "$opts" ] && [ -z "${ISA_RUNNER:-}" ]; then
        out=$(timeout "$timeout_s" "$rvisor" run $opts --bios "$elf" 2>&1 </dev/null)
    else
        out=$(timeout "$timeout_s" $runner "$elf" 2>&1 </dev/null)
    fi
    rc=$?
    if [ "$rc" -eq "$want" ]; then
        passed=$((passed + 1))
        echo "PASS $name"
    else
        failed=$((failed + 1))
        if [ "$rc" -eq 124 ]; then
            echo "FAIL $name (timeout after ${timeout_s}s)"
        else
            echo "FAIL $name (exit status $rc)"
        fi
        [ -n "$out" ] && printf '%s\n' "$out" | sed 's/^/    /' | tail -n 20
    fi
done
[ "$found" -eq 1 ] || echo "no *.elf found in $dir" >&2
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ] && [ "$found" -eq 1 ]
