#!/bin/sh
# gdb-multiarch against Debian's kernel under `rvisor run --gdb ... -S`: a breakpoint at
# start_kernel's address (read from /proc/kallsyms in a first boot: Debian's package ships no
# System.map, and its kernel has no KASLR), registers read there, then the breakpoint deleted
# and the guest continued to userspace, where the initramfs runs a command and powers off.
# Usage: kernel-session.sh RVISOR FETCH_SCRIPT ACCEL
set -u
RVISOR=$1 FETCH=$2 ACCEL=$3
guest=${RVISOR_CACHE:-$HOME/.cache/rvisor}/debian
GDB=$(command -v gdb-multiarch) || { echo "gdb-multiarch not found"; echo "0 passed, 1 failed"; exit 1; }
"$FETCH" >/dev/null || { echo "FAIL: fetching the Debian guest"; echo "0 passed, 1 failed"; exit 1; }
work=$(mktemp -d)
rv=
trap '[ -n "$rv" ] && kill $rv 2>/dev/null; rm -rf "$work"' EXIT
K="--kernel $guest/Image --initrd $guest/initrd.img --accel $ACCEL"

pass=0 fail=0
ok() { pass=$((pass + 1)); }
ko() { fail=$((fail + 1)); echo "FAIL: $*"; }

timeout 300 "$RVISOR" run $K --console file:"$work/kallsyms" \
    --append "console=ttyS0 quiet rvisor.cmd=grep%20-w%20start_kernel%20/proc/kallsyms" \
    </dev/null >/dev/null 2>&1
addr=$(sed -n 's/^\([0-9a-f]\{16\}\) [Tt] start_kernel\r*$/\1/p' "$work/kallsyms" | head -1)
[ -n "$addr" ] && ok || { ko "start_kernel not found in /proc/kallsyms"; cat "$work/kallsyms"; }
addr=0x${addr:-0}

"$RVISOR" run $K --gdb tcp:127.0.0.1:0 -S --console file:"$work/console" \
    --append "console=ttyS0 quiet rvisor.cmd=echo%20userspace-reached-%24((6*7))" \
    </dev/null >/dev/null 2>"$work/rvisor.err" &
rv=$!
port=
for _ in $(seq 100); do
    port=$(sed -n 's/^rvisor: gdb stub on port \([0-9]*\).*/\1/p' "$work/rvisor.err")
    [ -n "$port" ] && break
    sleep 0.1
done
[ -n "$port" ] || { ko "rvisor did not start its gdb stub"; cat "$work/rvisor.err"; }
cat >"$work/session.gdb" <<GDB
set pagination off
set confirm off
set architecture riscv:rv64
target remote 127.0.0.1:$port
printf "reset pc=%#lx priv=%d\n", \$pc, \$priv
break *$addr
continue
printf "bp pc=%#lx priv=%d satp_mode=%d\n", \$pc, \$priv, (\$satp >> 60) & 15
x/2xw \$pc
delete
continue
GDB
timeout 300 "$GDB" -batch -nx -x "$work/session.gdb" >"$work/gdb.out" 2>&1
gdb_status=$?
timeout 60 sh -c "while kill -0 $rv 2>/dev/null; do sleep 0.2; done"
wait $rv
rv_status=$?
rv=
cat "$work/gdb.out"

grep -q '^reset pc=0x80200000 priv=1$' "$work/gdb.out" && ok || ko "held at reset (the kernel entry, S-mode)"
grep -Eq "^Breakpoint 1, $addr in \?\? \(\)" "$work/gdb.out" && ok || ko "breakpoint at start_kernel hit"
grep -q "^bp pc=$addr priv=1 satp_mode=\(8\|9\|10\)\$" "$work/gdb.out" && ok ||
    ko "stopped at start_kernel in S-mode with paging on"
grep -Eq "^$addr:\s+0x[0-9a-f]{8}\s+0x[0-9a-f]{8}$" "$work/gdb.out" && ok ||
    ko "kernel code read through the kernel's page tables"
grep -q 'exited normally' "$work/gdb.out" && ok || ko "gdb saw the guest power off"
grep -q 'userspace-reached-42' "$work/console" && ok || { ko "userspace ran"; tail -5 "$work/console"; }
[ "$gdb_status" -eq 0 ] && ok || ko "gdb status $gdb_status"
[ "$rv_status" -eq 0 ] && ok || { ko "rvisor status $rv_status"; cat "$work/rvisor.err"; }
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
