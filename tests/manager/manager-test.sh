#!/bin/bash
# The manager end to end (issue 6, "Many VMs"): three Debian guests started through
# `rvisor serve`, each printing a counter from its own clock (/proc/uptime, every 0.2 s);
# one is paused (its counter stops while the others go on) and resumed; one VM process gets
# SIGKILL (the manager reports it failed, the others keep running); the manager is killed
# and restarted (the running VMs are re-adopted: listed, paused, resumed, stopped); a table
# of bad requests changes nothing; the state-folder lock refuses a second manager.
# Ends with "N passed, N failed".
# Usage: manager-test.sh RVISOR FETCH_SCRIPT PYTHON [GUEST_DIR]
set -u
python=${3:-python3}
. "$(dirname "$0")/../lib/testlib.sh"
testlib_usage="RVISOR FETCH_SCRIPT PYTHON [GUEST_DIR]"
testlib_init /tmp/rvisor-mgr.XXXXXX "${@:1:2}" ${4:+"$4"}
kill_signal=KILL
here=$(cd "$(dirname "$0")" && pwd)
state=$tmp/state
export RVISOR_MANAGER=$state/manager.sock
cleanup_more() { kill_manager_vms "$state"; }

state_of() { "$rvisor" list | awk -v n="$1" '$1 == n {print $2}'; }
pid_of() { "$rvisor" info "$1" | json_field pid; }
log_of() { echo "$state/vms/$1/console.log"; }
ticks() { local n; n=$(grep -c '^tick ' "$(log_of "$1")" 2>/dev/null); echo "${n:-0}"; }
last_tick() { grep '^tick ' "$(log_of "$1")" 2>/dev/null | tail -1 | tr -d '\r' | cut -d' ' -f2; }
more_ticks() { [ "$(ticks "$1")" -ge "$2" ]; }
is_state() { [ "$(state_of "$1")" = "$2" ]; }
start_manager() {
    "$rvisor" serve --state-dir "$state" 2>>"$tmp/manager.log" &
    mgr_pid=$!
    pids=$mgr_pid
    wait_for 20 sh -c "'$rvisor' list >/dev/null 2>&1"
}
# gone PID: the process ended (a zombie counts: an orphaned VM's reaper may be slow or absent)
gone() { [ ! -e "/proc/$1" ] || [ "$(awk '{print $3}' "/proc/$1/stat" 2>/dev/null)" = Z ]; }

testlib_fetch_guest
start_manager
check "manager socket created with mode 0600" test "$(stat -c %a "$RVISOR_MANAGER" 2>/dev/null)" = 600

# The guest loop: a line "tick SECONDS" from the guest's own clock every 0.2 s.
script='while true; do read u x </proc/uptime; echo tick $u; sleep 0.2; done'
append="console=ttyS0 quiet rvisor.cmd=$(printf '%s' "$script" | sed 's/ /%20/g')"
cat >"$tmp/vm1.json" <<JSON
{"kernel": "$guest/Image", "initrd": "$guest/initrd.img", "mem": 128, "append": "$append"}
JSON
(cd "$guest" && "$rvisor" create vm1 --config "$tmp/vm1.json" >/dev/null)
check "create vm1 from a JSON file" is_state vm1 defined
(cd "$guest" && "$rvisor" create vm2 --kernel Image --initrd initrd.img --mem 128M \
    --append "$append" >/dev/null)
check "create vm2 from run-style options (relative paths made absolute)" \
    grep -q "\"$guest/Image\"" "$state/vms/vm2/config.json"
"$rvisor" create vm3 --config "$tmp/vm1.json" >/dev/null
"$rvisor" create vm2 --config "$tmp/vm1.json" 2>"$tmp/err" >/dev/null; rc=$?
check "duplicate name refused (exists, exit 1)" sh -c "[ $rc = 1 ] && grep -q exists '$tmp/err'"
check "definitions written to the state folder" test -f "$state/vms/vm3/config.json"

for vm in vm1 vm2 vm3; do "$rvisor" start "$vm" >/dev/null; done
for vm in vm1 vm2 vm3; do
    check "$vm boots and ticks" wait_for 300 more_ticks "$vm" 5
done
check "three VM processes, three different pids" \
    test "$( (pid_of vm1; pid_of vm2; pid_of vm3) | sort -u | grep -c .)" = 3
check "each VM is its own session (setsid)" \
    test "$(awk '{print $6}' "/proc/$(pid_of vm1)/stat")" = "$(pid_of vm1)"
check "list: three running" test "$("$rvisor" list | grep -c ' running ')" = 3

# Pause vm2: its counter stops, the others go on.
check "pause vm2 through the manager" test "$("$rvisor" vm vm2 pause | json_field state)" = paused
check "list shows vm2 paused" is_state vm2 paused
sleep 0.5
a1=$(ticks vm1); a2=$(ticks vm2); a3=$(ticks vm3); t2=$(last_tick vm2)
sleep 3
b1=$(ticks vm1); b2=$(ticks vm2); b3=$(ticks vm3)
check "paused vm2 prints nothing ($a2 -> $b2 ticks)" test "$a2" = "$b2"
check "vm1 keeps ticking while vm2 is paused ($a1 -> $b1)" test "$b1" -gt "$a1"
check "vm3 keeps ticking while vm2 is paused ($a3 -> $b3)" test "$b3" -gt "$a3"
check "resume vm2 directly on its own API socket" \
    test "$("$rvisor" ctl "$state/vms/vm2/api.sock" resume | json_field state)" = running
check "vm2 ticks again after resume" wait_for 30 more_ticks vm2 $((b2 + 3))
check "vm2's guest clock went on ($t2 -> $(last_tick vm2))" \
    awk -v a="$t2" -v b="$(last_tick vm2)" 'BEGIN { exit !(b > a) }'

# The console: attach (output replayed and live), a second attach is refused.
timeout 4 "$rvisor" console vm1 </dev/null >"$tmp/console1" 2>&1
check "console attach shows the guest's output" grep -q '^tick ' "$tmp/console1"
(timeout 3 "$rvisor" console vm1 </dev/null >/dev/null 2>&1 &)
sleep 1
timeout 2 "$rvisor" console vm1 </dev/null >"$tmp/console2" 2>&1
check "a second console client is refused" grep -q "attached elsewhere" "$tmp/console2"
sleep 2.5 # the first client is gone

(sleep 1; printf 'x\035') | timeout 10 "$rvisor" console vm1 >/dev/null 2>"$tmp/detach"; rc=$?
check "Ctrl-] detaches (exit $rc)" sh -c "[ $rc = 0 ] && grep -q detached '$tmp/detach'"
(sleep 1; printf '\001x') | timeout 10 "$rvisor" console vm1 >/dev/null 2>"$tmp/detach"; rc=$?
check "Ctrl-A X detaches (exit $rc)" sh -c "[ $rc = 0 ] && grep -q detached '$tmp/detach'"
check "vm1 runs on after the detaches" wait_for 20 more_ticks vm1 $(($(ticks vm1) + 3))

# A VM whose process fails at once (no such kernel) is reported failed with rvisor's message.
"$rvisor" create broken --kernel /nonexistent/Image --mem 64 >/dev/null
"$rvisor" start broken >/dev/null
check "a VM that cannot boot is reported failed" wait_for 20 is_state broken failed
check "its reason quotes rvisor's error" sh -c "'$rvisor' info broken | grep -q 'rvisor failed: .*nonexistent'"
"$rvisor" delete broken >/dev/null

# Bad requests on the manager socket while the three VMs run: each refused, nothing changes.
"$python" "$here/bad-requests.py" "$RVISOR_MANAGER" "$state" >"$tmp/bad" 2>&1; rc=$?
cat "$tmp/bad"
check "bad-request table" test $rc = 0
check "still three running after the bad requests" test "$("$rvisor" list | grep -c ' running ')" = 3

# SIGKILL one VM process: the manager reports it failed, the others keep running.
pid3=$(pid_of vm3)
kill -9 "$pid3"
check "SIGKILLed vm3 reported failed" wait_for 20 is_state vm3 failed
check "failure reason names the signal" sh -c "'$rvisor' info vm3 | grep -q 'killed by signal 9'"
c1=$(ticks vm1); c2=$(ticks vm2)
check "vm1 still ticks after vm3 died" wait_for 20 more_ticks vm1 $((c1 + 3))
check "vm2 still ticks after vm3 died" wait_for 20 more_ticks vm2 $((c2 + 3))

# A second manager on the same folder is refused by the lock.
"$rvisor" serve --state-dir "$state" --api-socket "$tmp/other.sock" 2>"$tmp/err"; rc=$?
check "second manager refused (exit $rc)" sh -c "[ $rc = 2 ] && grep -q 'another rvisor serve' '$tmp/err'"

# Kill the manager (no chance to clean up) and start a new one: VMs are re-adopted.
pid1=$(pid_of vm1); pid2=$(pid_of vm2)
kill -9 "$mgr_pid"; wait "$mgr_pid" 2>/dev/null
c1=$(ticks vm1)
check "VMs run on without a manager" wait_for 20 more_ticks vm1 $((c1 + 3))
start_manager
check "restarted manager lists vm1 running with the same pid" \
    sh -c "[ \"\$('$rvisor' info vm1 | sed -n 's/^ *\"pid\": \([0-9]*\).*/\1/p')\" = $pid1 ]"
check "vm2 re-adopted" is_state vm2 running
check "vm3 still failed after the restart" is_state vm3 failed
check "re-adoption logged" grep -q "vm1 re-adopted, pid $pid1" "$tmp/manager.log"
check "pause vm1 after the restart" test "$("$rvisor" vm vm1 pause | json_field state)" = paused
sleep 0.5; d1=$(ticks vm1); sleep 2
check "re-adopted vm1 stops ticking when paused" test "$(ticks vm1)" = "$d1"
check "resume vm1 after the restart" test "$("$rvisor" vm vm1 resume | json_field state)" = running
check "vm1 ticks again" wait_for 30 more_ticks vm1 $((d1 + 3))
check "stop vm1 (its power button, through its API)" test "$("$rvisor" stop vm1)" = "vm1: stopped"
check "vm1's process is gone" gone "$pid1"
check "vm1 exit recorded as a power-off" sh -c "'$rvisor' info vm1 | grep -q 'powered off'"
check "vm1's guest shut down by itself (console)" grep -q "rvisor-guest: powering off" "$(log_of vm1)"
check "kill vm2" test "$("$rvisor" kill vm2)" = "vm2: stopped"
check "vm2's process is gone" gone "$pid2"

# Restart a stopped VM, then delete: refused while running, forced, and for a stopped one.
"$rvisor" start vm1 >/dev/null
check "a stopped VM starts again" wait_for 300 sh -c "grep -c '^tick ' '$(log_of vm1)' | awk '{exit !(\$1 > $(ticks vm1))}'"
check "stop --timeout 0 kills at once" test "$("$rvisor" stop vm1 --timeout 0)" = "vm1: stopped"
check "a stop by kill is recorded as stopped, with the signal" \
    sh -c "'$rvisor' info vm1 | grep -q 'killed by signal 9'"
n1=$(ticks vm1)
"$rvisor" start vm1 >/dev/null
check "and starts again" wait_for 300 more_ticks vm1 $((n1 + 3))
"$rvisor" delete vm1 2>"$tmp/err" >/dev/null; rc=$?
check "delete of a running VM refused without --force" sh -c "[ $rc = 1 ] && grep -q invalid-state '$tmp/err'"
pid1=$(pid_of vm1)
check "delete --force" sh -c "'$rvisor' delete vm1 --force >/dev/null"
check "forced delete killed the process" gone "$pid1"
check "delete of a stopped VM" sh -c "'$rvisor' delete vm2 >/dev/null && '$rvisor' delete vm3 >/dev/null"

# A VM without a power button: stop cannot ask its guest, so it forces the poweroff at once
# instead of waiting for the kill (the timeout is far away).
(cd "$guest" && "$rvisor" create vm4 --kernel Image --initrd initrd.img --mem 128M \
    --append "$append" --no-power-button >/dev/null)
check "no-power-button in the saved configuration" grep -q '"no-power-button": true' "$state/vms/vm4/config.json"
"$rvisor" start vm4 >/dev/null
check "vm4 boots and ticks" wait_for 300 more_ticks vm4 3
pid4=$(pid_of vm4)
check "stop vm4 (forced poweroff, no power button)" test "$("$rvisor" stop vm4 --timeout 600)" = "vm4: stopped"
check "vm4's process is gone" gone "$pid4"
check "vm4 exit recorded as a power-off, not a kill" sh -c "'$rvisor' info vm4 | grep -q 'powered off'"
check "delete vm4" sh -c "'$rvisor' delete vm4 >/dev/null"
check "state folder has no VM left" test -z "$(ls "$state/vms")"
check "list is empty" test "$("$rvisor" list | wc -l)" = 1

kill -TERM "$mgr_pid"; wait "$mgr_pid"; rc=$?
pids=
check "manager ends on SIGTERM with status 0" test $rc = 0
check "manager socket removed" test ! -e "$RVISOR_MANAGER"
"$rvisor" list 2>/dev/null; rc=$?
check "client without a manager: exit 2" test $rc = 2
finish
