#!/bin/bash
# Pause/resume while the harts fence each other: a 2-hart Debian guest forks processes in a
# loop (every exit shoots down TLBs on the other hart through SBI RFENCE) and the API pauses
# and resumes it 150 times. Every pause must come back paused (a hart waiting in a remote fence
# for a hart that had already parked once kept the pause waiting forever), and the guest must
# keep working afterwards. Ends with "N passed, N failed".
# Usage: pause-stress.sh RVISOR FETCH_SCRIPT [GUEST_DIR]
set -u
. "$(dirname "$0")/../lib/testlib.sh"
testlib_init "" "$@"
ctl() { timeout 60 "$rvisor" ctl "$tmp/api.sock" "$@"; }
state() { ctl "$@" | sed -n 's/^ *"state": "\([a-z]*\)".*/\1/p'; }

testlib_fetch_guest
cmd='n=0;while :;do /bin/true;n=$((n+1));[ $((n%200)) = 0 ]&&echo FORKS $n;done'
"$rvisor" run --kernel "$guest/Image" --initrd "$guest/initrd.img" --smp 2 --mem 192M \
    --append "console=ttyS0 quiet rvisor.cmd64=$(printf %s "$cmd" | base64 -w0)" \
    --console "file:$tmp/console" --api-socket "$tmp/api.sock" </dev/null >"$tmp/out" 2>&1 &
pid=$!
pids=$pid
i=0
while ! grep -q "FORKS 200" "$tmp/console" 2>/dev/null && [ $i -lt 1200 ]; do sleep 0.5; i=$((i + 1)); done
check "the guest forks" grep -q "FORKS 200" "$tmp/console"

bad=0
for k in $(seq 150); do
    [ "$(state pause)" = paused ] || { bad=$((bad + 1)); echo "pause $k did not come back paused"; }
    [ "$(state resume)" = running ] || { bad=$((bad + 1)); echo "resume $k failed"; }
done
if [ $bad = 0 ]; then pass "150 pauses and resumes under remote fences"; else fail "pause/resume ($bad failures)"; fi

before=$(grep -c FORKS "$tmp/console")
i=0
while [ "$(grep -c FORKS "$tmp/console")" -le $((before + 2)) ] && [ $i -lt 600 ]; do sleep 0.2; i=$((i + 1)); done
if [ "$(grep -c FORKS "$tmp/console")" -gt $((before + 2)) ]; then pass "the guest goes on forking"; else fail "the guest goes on forking"; fi
grep -E "pause:|Oops|BUG|panic" "$tmp/out" "$tmp/console" | head -5
if grep -qE "Oops|BUG:|panic" "$tmp/console"; then fail "no kernel error"; else pass "no kernel error"; fi
[ "$(state kill)" = stopped ] && pass "kill" || fail "kill"
wait "$pid"
pids=
finish
