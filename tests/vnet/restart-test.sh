#!/bin/bash
# A virtual network's switch restarts under running VMs (docs/networks.md): two Debian guests
# A and B on network "r" get leases and ping each other; the switch process is killed (-9, as
# in a crash); both guests send while it is away (their NICs drop and count those frames); the
# switch is started again (`rvisor net start`), restores both leases from leases.json, both
# VMs' switch ports join again by themselves, and A and B ping each other again. Then each
# guest runs a fresh DHCP exchange (DISCOVER, no address asked for), the one not holding the
# pool's first address first: each gets its old address back (a switch that had forgotten the
# leases would offer the first one to whoever asks first). Last, the switch is killed again
# and its leases.json garbled: it starts anyway, says in its log why it ignored the file, and
# the VMs join again. Ends with "N passed, N failed".
# Usage: restart-test.sh RVISOR [FETCH_SCRIPT [GUEST_DIR]]
set -u
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"
testlib_init /tmp/rvrst.XXXXXX "$@"
export RVISOR_STATE_DIR=$tmp/state
networks=r
dir=$RVISOR_STATE_DIR/net/r
testlib_fetch_guest
[ -f "$guest/Image" ] && [ -f "$guest/initrd.img" ] || { fail "no Debian guest in $guest (guest/fetch-debian.sh)"; finish; }

# kill_switch: ends the switch process as a crash would (SIGKILL: no clean-up at all).
kill_switch() {
    sp=$(cat "$dir/switch.pid" 2>/dev/null)
    [ -n "$sp" ] && kill -9 "$sp" 2>/dev/null || return 1
    for _ in $(seq 100); do kill -0 "$sp" 2>/dev/null || return 0; sleep 0.1; done
    return 1
}
vm_ports() { # the number of VM ports the switch reports
    "$rvisor" net stats r --json 2>/dev/null | python3 -c 'import json, sys
print(sum(p["kind"] == "vm" for p in json.load(sys.stdin)["ports"]))' 2>/dev/null
}
both_rejoined() { # both_rejoined N: both VM logs show N rejoins
    [ "$(grep -c 'joined again as port' "$tmp/A.out")" -ge "$1" ] &&
        [ "$(grep -c 'joined again as port' "$tmp/B.out")" -ge "$1" ] && [ "$(vm_ports)" = 2 ]
}
wait_for() { # wait_for SECONDS COMMAND...: until COMMAND succeeds
    t=$1
    shift
    for _ in $(seq $((t * 4))); do "$@" && return 0; sleep 0.25; done
    return 1
}

"$rvisor" net create r --subnet 10.81.0.0/24 --uplink none >"$tmp/err" 2>&1
rc=$?
check "net create r" '[ $rc = 0 ]'

cat >"$tmp/G.sh" <<EOF
$DHCP_SNIPPET
read P;ping -c 2 -W 5 \$P>/dev/null&&echo PING1-OK
read g;ping -c 5 -W 1 \$P>/dev/null;echo SENT-DOWN
read g;i=0;while [ \$i -lt 60 ];do ping -c 1 -W 2 \$P>/dev/null&&break;i=\$((i+1));done;[ \$i -lt 60 ]&&echo PING2-OK
read g;udhcpc -i eth0 -n -q -f -t 10 -s /tmp/d 2>&1|sed -n 's/^IP=/RENEWED=/p'
read g
EOF
vm_start A 3 "$tmp/G.sh" switch:r
vm_start B 4 "$tmp/G.sh" switch:r
for v in A B; do vm_load $v || fail "VM $v did not boot"; done
for v in A B; do wait_line $v '^IP=' 400 || fail "VM $v got no lease"; done
ipA=$(field A IP) ipB=$(field B IP)
echo "A=$ipA B=$ipB"
vm_say A "$ipB"
vm_say B "$ipA"
wait_line A '^PING1-OK' 120
wait_line B '^PING1-OK' 120
check "A and B got leases and ping each other" \
    'grep -q "^PING1-OK" "$tmp/A.out" && grep -q "^PING1-OK" "$tmp/B.out" && [ "$ipA" != "$ipB" ]'
check "leases.json holds both leases" \
    'grep -q "\"$ipA\"" "$dir/leases.json" && grep -q "\"$ipB\"" "$dir/leases.json"'

# --- the switch crashes; the guests send while it is away ---
kill_switch
rc=$?
check "the switch process was killed (SIGKILL)" '[ $rc = 0 ]'
vm_say A go
vm_say B go
wait_line A '^SENT-DOWN' 120
wait_line B '^SENT-DOWN' 120
check "no VM port rejoined while the switch was away" '! grep -q "joined again" "$tmp/A.out" "$tmp/B.out"'
"$rvisor" net start r >"$tmp/err" 2>&1
rc=$?
check "net start r brings the switch back" '[ $rc = 0 ]'
check "the new switch restored both leases from leases.json" \
    'grep -q "2 leases restored" "$dir/switch.log"'
wait_for 60 both_rejoined 1
check "both VMs' switch ports joined again by themselves" 'both_rejoined 1'
dropped() { sed -n 's/.*joined again.*; \([0-9]*\) frames sent meanwhile were dropped.*/\1/p' "$tmp/$1.out" | head -1; }
dA=$(dropped A) dB=$(dropped B)
check "the frames sent while away were dropped and counted (A $dA, B $dB)" \
    '[ "${dA:-0}" -ge 1 ] && [ "${dB:-0}" -ge 1 ]'
vm_say A go
vm_say B go
wait_line A '^PING2-OK' 200
wait_line B '^PING2-OK' 200
check "A and B ping each other again after the restart" \
    'grep -q "^PING2-OK" "$tmp/A.out" && grep -q "^PING2-OK" "$tmp/B.out"'

# --- fresh DHCP exchanges: the holder of the higher address asks first ---
if [ "${ipA##*.}" -gt "${ipB##*.}" ]; then first=A second=B; else first=B second=A; fi
for v in $first $second; do
    vm_say $v go
    wait_line $v '^RENEWED=' 120
done
check "after the restart each VM's DISCOVER gets its old address ($(field A RENEWED), $(field B RENEWED))" \
    '[ "$(field A RENEWED)" = "$ipA" ] && [ "$(field B RENEWED)" = "$ipB" ]'

# --- a garbled lease table ---
kill_switch
printf '{"version":1,"leases":[{"mac":' >"$dir/leases.json"
"$rvisor" net start r >"$tmp/err" 2>&1
rc=$?
check "the switch starts with a garbled leases.json" '[ $rc = 0 ]'
check "its log says why the lease table was ignored" \
    'grep -q "lease table ignored, starting without leases: .*leases.json" "$dir/switch.log"'
wait_for 60 both_rejoined 2
check "both VMs joined the restarted switch again" 'both_rejoined 2'

vm_say A end
vm_say B end
for v in A B; do
    vm_wait $v
    eval "pid_$v="
    check "VM $v powered off (status $st)" '[ "$st" = 0 ]'
done
finish
