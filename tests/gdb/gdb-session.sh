#!/bin/sh
# A scripted gdb-multiarch session (session.gdb) against the bare-metal prog.elf under
# `rvisor run --gdb ... -S --accel ACCEL`, then checks of what gdb printed and of rvisor's exit
# status. Usage: gdb-session.sh RVISOR PROG.ELF SESSION.GDB ACCEL
set -u
RVISOR=$1 PROG=$2 SESSION=$3 ACCEL=$4
GDB=$(command -v gdb-multiarch) || { echo "gdb-multiarch not found (apt-get install gdb-multiarch)"; exit 1; }
work=$(mktemp -d)
trap 'kill $rv 2>/dev/null; rm -rf "$work"' EXIT

"$RVISOR" run --accel "$ACCEL" --gdb tcp:127.0.0.1:0 -S --bios "$PROG" \
    >"$work/console" 2>"$work/rvisor.err" &
rv=$!
port=
for _ in $(seq 100); do
    port=$(sed -n 's/^rvisor: gdb stub on port \([0-9]*\).*/\1/p' "$work/rvisor.err")
    [ -n "$port" ] && break
    sleep 0.1
done
[ -n "$port" ] || { echo "rvisor did not start its gdb stub"; cat "$work/rvisor.err"; exit 1; }
sed "s/PORT/$port/" "$SESSION" >"$work/session.gdb"
timeout 60 "$GDB" -batch -nx "$PROG" -x "$work/session.gdb" >"$work/gdb.out" 2>&1
gdb_status=$?
wait $rv
rv_status=$?
rv=
cat "$work/gdb.out"

pass=0 fail=0
check() { # DESCRIPTION EXTENDED-REGEX
    if grep -Eq -- "$2" "$work/gdb.out"; then
        pass=$((pass + 1))
    else
        fail=$((fail + 1)); echo "FAIL: $1 (no line matching /$2/)"
    fi
}
sym() { riscv64-linux-gnu-nm "$PROG" 2>/dev/null | awk -v s="$1" '$3 == s { print $1 }' | sed 's/^0*//'; }
bp=$(sym bp_here)
[ -n "$bp" ] || bp=80000088
hex() { printf '%x' $((0x$bp + $1)); }

check "one thread per hart" '^\* 1 +Thread 1 \(hart 0, M-mode\)'
check "breakpoint at a symbol" "^Breakpoint 1, (0x0*$bp in )?bp_here"
check "stopped at the breakpoint's address" "^bp pc=0x$bp\$"
check "integer register" '^s1 +0x1122334455667788'
check "another register" '^s2=0xdeadbeefcafef00d$'
check "FP register" '^fa0 .*raw 0x1122334455667788'
check "CSRs and the privilege level" '^priv=3 mhartid=0$'
check "misa decoded" '^misa +0x800000000014112f'
check "memory buffer, first half" '0x01	0x04	0x07	0x0a	0x0d	0x10	0x13	0x16$'
check "memory buffer, second half" '0x19	0x1c	0x1f	0x22	0x25	0x28	0x2b	0x2e$'
check "step over c.addi (2 bytes)" "^step1 pc=0x$(hex 2)\$"
check "step over addi (4 bytes)" "^step2 pc=0x$(hex 6)\$"
check "step over c.mv (2 bytes)" "^step3 pc=0x$(hex 8)\$"
check "step over lui (4 bytes)" "^step4 pc=0x$(hex 12)\$"
check "step over c.nop (2 bytes)" "^step5 pc=0x$(hex 14)\$"
check "stepped instructions executed" '^a0=101 a1=202 a2=101 a3=0x12345000$'
check "watchpoint fires" '^Hardware watchpoint 2: \*\(long \*\)&watched'
check "old and new value" '^New value = 12345$'
check "stopped after the watched store" '^watch pc=(0x[0-9a-f]+) store_insn='
check "the unwatched store did not stop it" '^watched=12345 other=0x5555$'
check "the program exits with its code" 'exited with code 07'
set -- $(sed -n 's/^watch pc=\(0x[0-9a-f]*\) store_insn=\(0x[0-9a-f]*\)$/\1 \2/p' "$work/gdb.out")
if [ $# -eq 2 ] && [ $(($1)) -eq $(($2 + 4)) ]; then
    pass=$((pass + 1))
else
    fail=$((fail + 1)); echo "FAIL: the watchpoint stop is right after the store"
fi
if [ "$gdb_status" -eq 0 ]; then pass=$((pass + 1)); else fail=$((fail + 1)); echo "FAIL: gdb status $gdb_status"; fi
if [ "$rv_status" -eq 7 ]; then pass=$((pass + 1)); else fail=$((fail + 1)); echo "FAIL: rvisor status $rv_status, expected 7"; cat "$work/rvisor.err"; fi
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
