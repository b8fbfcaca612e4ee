#!/bin/bash
# Live migration of a VM the manager started (docs/state.md, "The connection comes from the
# client"): such a VM runs sandboxed in a private network namespace with an empty root, so it
# cannot connect anywhere itself; `rvisor migrate` connects to the destination and hands the
# socket to the VM over its API socket (SCM_RIGHTS). The destination is `rvisor run
# --incoming` (sandboxed, host network); the guest's counter continues there without a gap.
# Before that, hostile descriptor passing against the same VM: a migrate request claiming a
# descriptor without one, or with a pipe instead of a socket, gets a clear error and the VM
# runs on; descriptors sent with requests that take none (1 or 3 at once) are closed: the
# VM's /proc/PID/fd count is the same before and after.
# Usage: migfd-test.sh RVISOR [FETCH_SCRIPT [GUEST_DIR]]
set -u
. "$(dirname "$0")/../lib/testlib.sh"
testlib_init "${TMPDIR:-/tmp}/rvisor-e2e.XXXXXX" "$@"
kill_signal=KILL
port=$((20000 + ($$ + 7000) % 20000))
state=$tmp/state
export RVISOR_MANAGER=$state/manager.sock
fdpass="python3 $(cd "$(dirname "$0")" && pwd)/fdpass.py"
cleanup_more() { kill_manager_vms "$state"; }

last_count() { tr -d '\r' <"$1" 2>/dev/null | sed -n 's/^count \([0-9]*\)$/\1/p' | tail -1 | grep . || echo 0; }
first_count() { tr -d '\r' <"$1" 2>/dev/null | sed -n 's/^count \([0-9]*\)$/\1/p' | head -1; }
at_least() { [ "$(last_count "$1")" -ge "$2" ]; }
nfds() { ls "/proc/$1/fd" 2>/dev/null | wc -l; }
# The VM's descriptor count once no API client is connected any more (the server closes a
# connection when it sees the client's end).
settled_fds() { sleep 0.5; nfds "$1"; }
status_state() { "$rvisor" ctl "$1" status 2>/dev/null | json_field state; }

testlib_fetch_guest
"$rvisor" serve --state-dir "$state" 2>>"$tmp/manager.log" &
pids="$pids $!"
wait_for 20 sh -c "'$rvisor' list >/dev/null 2>&1" || { fail "manager start"; finish; }
count='i=0; while true; do i=$((i+1)); echo "count $i"; sleep 0.2; done'
"$rvisor" create mig1 --kernel "$guest/Image" --initrd "$guest/initrd.img" --mem 128M \
    --append "console=ttyS0 quiet rvisor.cmd64=$(printf '%s' "$count" | base64 -w0)" >/dev/null &&
    "$rvisor" start mig1 >/dev/null || { fail "create and start a VM under the manager"; finish; }
d=$state/vms/mig1
sock=$d/api.sock
check "the manager's VM boots and counts" wait_for 900 at_least "$d/console.log" 5
pid=$("$rvisor" info mig1 | json_field pid)
st=$("$rvisor" ctl "$sock" status)
echo "VM pid $pid: seccomp $(echo "$st" | json_field sandbox.seccomp), net_ns $(echo "$st" | json_field sandbox.net_ns), $(echo "$st" | json_field sandbox.syscalls) system calls allowed"
if grep -aq __asan_init "$rvisor"; then
    echo "SKIP: the sandbox checks (a sanitizer build runs VMs without the sandbox)"
else
    check "the VM is sandboxed (seccomp)" test "$(echo "$st" | json_field sandbox.seccomp)" = true
    [ "$(id -u)" = 0 ] && check "the VM has a private network namespace" \
        test "$(readlink /proc/$pid/ns/net)" != "$(readlink /proc/self/ns/net)"
fi

# --- hostile descriptor passing ---------------------------------------------------------------
before=$(settled_fds "$pid")
r=$($fdpass "$sock" '{"id":1,"request":"migrate","arguments":{"to":"tcp:127.0.0.1:1","fd":true}}' none)
echo "claimed, none sent: $r"
check "fd:true without a descriptor: invalid-argument" sh -c "echo '$r' | grep -q '\"ok\":false' && echo '$r' | grep -q 'invalid-argument' && echo '$r' | grep -q 'no descriptor came with'"
r=$($fdpass "$sock" '{"id":2,"request":"migrate","arguments":{"to":"tcp:127.0.0.1:1","fd":true}}' pipe)
echo "claimed, a pipe sent: $r"
check "fd:true with a pipe: not a stream socket" sh -c "echo '$r' | grep -q 'not a stream socket'"
r=$($fdpass "$sock" '{"id":3,"request":"migrate","arguments":{"to":"tcp:127.0.0.1:1","fd":true}}' socket)
echo "claimed, a socketpair end (its peer closes when the sender exits): $r"
echo "$r" | grep -q '"ok":true' && echo "(a connected socket is accepted; its peer is gone: that migration fails)"
not_active() { [ "$("$rvisor" ctl "$sock" migrate-status | json_field migration)" != active ]; }
check "no migration left running after these" wait_for 60 not_active
r=$($fdpass "$sock" '{"id":4,"request":"status"}' pipe)
check "a stray descriptor with status: answered" sh -c "echo '$r' | grep -q '\"ok\":true'"
r=$($fdpass "$sock" '{"id":5,"request":"status"}' pipe 3)
check "three stray descriptors at once: answered" sh -c "echo '$r' | grep -q '\"ok\":true'"
after=$(settled_fds "$pid")
check "no descriptor left in the VM ($before before, $after after)" test "$before" = "$after"
check "the VM still runs" test "$(status_state "$sock")" = running
n=$(last_count "$d/console.log")
check "its guest goes on counting" wait_for 60 at_least "$d/console.log" $((n + 3))

# --- the migration: the CLI connects, the VM gets the socket ---------------------------------
"$rvisor" run --incoming "tcp:127.0.0.1:$port" --console "file:$tmp/d.con" \
    --api-socket "$tmp/d.sock" </dev/null >"$tmp/d.out" 2>&1 &
d_pid=$!
pids="$pids $d_pid"
wait_for 20 grep -q "waiting for a migration" "$tmp/d.out"
"$rvisor" migrate "$sock" --to "tcp:127.0.0.1:$port" >"$tmp/m.out" 2>&1
rc=$?
check "rvisor migrate succeeds: $(tail -1 "$tmp/m.out")" test $rc = 0
check "the source VM stopped (manager: stopped)" wait_for 60 sh -c "'$rvisor' list | grep -q 'mig1 *stopped'"
last=$(last_count "$d/console.log")
check "the destination counts on" wait_for 120 at_least "$tmp/d.con" $((last + 3))
check "the destination continues at $((last + 1)) (first: $(first_count "$tmp/d.con"))" \
    test "$(first_count "$tmp/d.con")" = $((last + 1))
check "destination status: running" test "$(status_state "$tmp/d.sock")" = running
check "the source's log has no sandbox refusal" sh -c "! grep -qi 'operation not permitted' '$d/run.log' 2>/dev/null"
"$rvisor" ctl "$tmp/d.sock" kill >/dev/null 2>&1
wait $d_pid 2>/dev/null
finish
