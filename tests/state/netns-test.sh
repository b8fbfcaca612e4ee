#!/bin/bash
# Live migration between two network namespaces the test creates (ip netns + a veth pair with
# addresses of its own, 10.213.N.1 and .2): the source VM runs in one, the destination listens in
# the other. A guest rewriting 4 MiB of memory per step migrates with no gap in its count; a
# second migration, slowed by --bandwidth, loses its destination (killed) midway and the
# source keeps running. `rvisor migrate` runs in the source's namespace too: it makes the
# connection and passes it to the VM (docs/state.md). Needs root and `ip`; otherwise it says SKIP and passes nothing.
# Usage: netns-test.sh RVISOR
set -u
. "$(dirname "$0")/../e2e/lib.sh"
e2e_init "$1"
if [ "$(id -u)" != 0 ] || ! command -v ip >/dev/null || ! ip netns add "rvs-probe-$$" 2>/dev/null; then
    echo "SKIP: network namespaces need root and ip(8)"
    finish
fi
ip netns del "rvs-probe-$$"
ns1=rvs-src-$$
ns2=rvs-dst-$$
net=10.213.$(($$ % 250))
ns_cleanup() {
    ip netns del "$ns1" 2>/dev/null
    ip netns del "$ns2" 2>/dev/null
    e2e_cleanup
}
trap ns_cleanup EXIT
ip netns add "$ns1" && ip netns add "$ns2" &&
    ip link add "vs$$" type veth peer name "vd$$" &&
    ip link set "vs$$" netns "$ns1" && ip link set "vd$$" netns "$ns2" &&
    ip -n "$ns1" addr add "$net.1/24" dev "vs$$" && ip -n "$ns2" addr add "$net.2/24" dev "vd$$" &&
    ip -n "$ns1" link set "vs$$" up && ip -n "$ns2" link set "vd$$" up &&
    ip -n "$ns1" link set lo up && ip -n "$ns2" link set lo up ||
    { fail "setting up the namespaces"; finish; }

last_count() { [ -f "$1" ] || { echo 0; return; }; tr -d '\r' <"$1" | sed -n 's/^count \([0-9]*\).*/\1/p' | tail -1 | grep . || echo 0; }
first_count() { tr -d '\r' <"$1" 2>/dev/null | sed -n 's/^count \([0-9]*\).*/\1/p' | head -1; }
wait_count() {
    local i=0
    while [ "$(last_count "$1")" -lt "$2" ] && [ $i -lt 1200 ]; do sleep 0.1; i=$((i + 1)); done
    [ "$(last_count "$1")" -ge "$2" ]
}
no_gap() {
    cat "$@" | tr -d '\r' | sed -n 's/^count \([0-9]*\)$/\1/p' |
        awk 'NR > 1 && $1 != prev + 1 { bad = 1; print "gap after " prev ": " $1 } { prev = $1 } END { exit bad }'
}
running() { "$rvisor" ctl "$1" status 2>/dev/null | grep -q '"running"'; }

busy='i=0; while true; do i=$((i+1)); echo "count $i"; dd if=/dev/urandom of=/tmp/f bs=1M count=4 2>/dev/null; done'
ip netns exec "$ns1" "$rvisor" run --kernel "$guest/Image" --initrd "$guest/initrd.img" --mem 256M \
    --append "console=ttyS0 quiet rvisor.cmd64=$(printf '%s' "$busy" | base64 -w0)" \
    --console "file:$tmp/s.con" --api-socket "$tmp/s.sock" </dev/null >"$tmp/s.out" 2>&1 &
s_pid=$!
e2e_pids="$e2e_pids $s_pid"
wait_count "$tmp/s.con" 5 || { fail "busy guest"; cat "$tmp/s.out"; finish; }

# A slow migration whose destination dies midway.
# (ip netns exec execs rvisor: $! is rvisor's own pid)
ip netns exec "$ns2" "$rvisor" run --incoming "tcp:$net.2:4445" --console none \
    </dev/null >"$tmp/d1.out" 2>&1 &
d_pid=$!
e2e_pids="$e2e_pids $d_pid"
sleep 0.5
ip netns exec "$ns1" "$rvisor" migrate "$tmp/s.sock" --to "tcp:$net.2:4445" --bandwidth 8 >"$tmp/m1.out" 2>&1 &
m_pid=$!
sleep 2
kill -9 "$d_pid" 2>/dev/null
wait "$m_pid"
check "destination killed midway: migrate reports failure" test $? = 1
before=$(last_count "$tmp/s.con")
check "the source still runs" running "$tmp/s.sock"
wait_count "$tmp/s.con" $((before + 2))
check "the source guest goes on counting" test "$(last_count "$tmp/s.con")" -gt "$before"

ip netns exec "$ns2" "$rvisor" run --incoming "tcp:$net.2:4444" \
    --console "file:$tmp/d.con" --api-socket "$tmp/d.sock" </dev/null >"$tmp/d.out" 2>&1 &
d_pid=$!
e2e_pids="$e2e_pids $d_pid"
sleep 0.5
ip netns exec "$ns1" "$rvisor" migrate "$tmp/s.sock" --to "tcp:$net.2:4444" >"$tmp/m.out" 2>&1
check "migration between the namespaces succeeds" test $? = 0
tail -1 "$tmp/m.out"
wait "$s_pid"
check "the source exits with status 0" test $? = 0
last_src=$(last_count "$tmp/s.con")
wait_count "$tmp/d.con" $((last_src + 5))
check "the destination continues at $((last_src + 1)) (first: $(first_count "$tmp/d.con"))" \
    test "$(first_count "$tmp/d.con")" = $((last_src + 1))
check "counts across both consoles: no gap, no repeat" no_gap "$tmp/s.con" "$tmp/d.con"
check "the destination runs" running "$tmp/d.sock"
"$rvisor" ctl "$tmp/d.sock" kill >/dev/null
wait "$d_pid"
finish
