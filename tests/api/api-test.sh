#!/bin/bash
# Control API end to end: boots the Debian guest (2 harts, sleeping) with --api-socket, then
# checks status, pause/resume (a paused VM retires no instructions), stats, balloon errors,
# reset, the table of bad requests (bad-requests.py) and kill. Ends with "N passed, N failed".
# Usage: api-test.sh RVISOR FETCH_SCRIPT PYTHON [GUEST_DIR]
set -u
python=${3:-python3}
. "$(dirname "$0")/../lib/testlib.sh"
testlib_usage="RVISOR FETCH_SCRIPT PYTHON [GUEST_DIR]"
testlib_init "" "${@:1:2}" ${4:+"$4"}
here=$(cd "$(dirname "$0")" && pwd)
ctl() { "$rvisor" ctl "$tmp/api.sock" "$@"; }
instret_sum() { ctl stats | sed -n 's/^ *"instret": \([0-9]*\).*/\1/p' | awk '{s += $1} END {printf "%.0f\n", s}'; }

testlib_fetch_guest
"$rvisor" run --kernel "$guest/Image" --initrd "$guest/initrd.img" --smp 2 --mem 256M \
    --append "console=ttyS0 rvisor.cmd=sleep%20600" --console "file:$tmp/console" \
    --api-socket "$tmp/api.sock" </dev/null >"$tmp/out" 2>&1 &
pid=$!
pids=$pid
i=0
while [ ! -S "$tmp/api.sock" ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
check "socket created with mode 0600" test "$(stat -c %a "$tmp/api.sock" 2>/dev/null)" = 600

st=$(ctl status)
check "status: running" test "$(echo "$st" | json_field state)" = running
check "status: 2 vCPUs, 256 MiB" test "$(echo "$st" | json_field vcpus)/$(echo "$st" | json_field memory_mib)" = 2/256

# Wait until the guest is up (its init has started the sleep), so that reset is observable.
i=0
while ! grep -q "rvisor-guest" "$tmp/console" 2>/dev/null && [ $i -lt 600 ]; do sleep 0.5; i=$((i + 1)); done

check "pause" test "$(ctl pause | json_field state)" = paused
a=$(instret_sum); sleep 1; b=$(instret_sum)
check "paused harts retire nothing ($a = $b)" test "$a" = "$b" -a "$a" -gt 0
check "status: paused" test "$(ctl status | json_field state)" = paused
ctl pause 2>"$tmp/err"; rc=$?
check "pause while paused: invalid-state" grep -q "invalid-state" "$tmp/err"
check "pause while paused: exit status 1" test $rc = 1
check "resume" test "$(ctl resume | json_field state)" = running
sleep 0.5
c=$(instret_sum)
check "resumed harts run again ($c > $b)" test "$c" -gt "$b"
check "stats: exits by reason" sh -c "'$rvisor' ctl '$tmp/api.sock' stats | grep -q '\"wfi\"'"
ctl stats >"$tmp/stats"
check "stats: traps by cause" grep -q '"supervisor_timer": [1-9]' "$tmp/stats"
check "stats: TLB misses" grep -q '"tlb_misses": [1-9]' "$tmp/stats"
check "stats: SBI calls by extension" grep -q '"base": [1-9]' "$tmp/stats"
check "stats: MMIO by device" grep -q '"device": "ns16550a"' "$tmp/stats"
ctl balloon target_mib=64 2>"$tmp/err"
check "balloon without a device: unsupported" grep -q "unsupported" "$tmp/err"
ctl balloon target_mib=0 2>"$tmp/err"; rc=$?
check "ctl validates arguments locally (exit 2)" test $rc = 2

"$python" "$here/bad-requests.py" "$tmp/api.sock" >"$tmp/bad" 2>&1; rc=$?
cat "$tmp/bad"
check "bad-request table" test $rc = 0
check "still running after the bad requests" test "$(ctl status | json_field state)" = running

check "reset" test "$(ctl reset | json_field state)" != stopped
i=0
while [ "$(grep -c 'Linux version' "$tmp/console")" -lt 2 ] && [ $i -lt 300 ]; do sleep 0.2; i=$((i + 1)); done
check "the guest boots again after reset" test "$(grep -c 'Linux version' "$tmp/console")" = 2
check "running after reset" test "$(ctl status | json_field state)" = running

check "kill" test "$(ctl kill | json_field state)" = stopped
wait "$pid"; rc=$?
pids=
check "rvisor exits with 127 after kill (got $rc)" test $rc = 127
check "socket removed" test ! -e "$tmp/api.sock"
ctl status 2>/dev/null; rc=$?
check "ctl without a server: exit 2" test $rc = 2
finish
