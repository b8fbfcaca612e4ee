#!/usr/bin/env bash
# The sandbox of VMs that open files at run time (docs/sandbox.md, "Run-time file access"):
# VMs started by `rvisor serve` always have a control API. VM 1 (a qcow2 disk) is snapshotted
# through the manager, restored with `rvisor restore`, reset, snapshotted again; VM 2 has a
# vol:VG/LV disk that the guest writes and that grows online (the VM reloads the volume
# metadata from inside the sandbox). Checked from the outside: Seccomp: 2 on every thread,
# and as root an empty root (/proc/PID/root holds nothing), private mount, network and PID
# namespaces (the VM process is PID 1 of its own), no capabilities. API paths that leave the
# VM's state directory (.., an absolute path elsewhere, a symbolic link out) are refused and
# create nothing. Ends with "N passed, N failed".
# Usage: sandbox-mgr-test.sh RVISOR FETCH_SCRIPT [GUEST_DIR]
set -u
. "$(dirname "$0")/../lib/testlib.sh"
testlib_init /tmp/rvisor-jail.XXXXXX "$@"
kill_signal=KILL
state=$tmp/state
export RVISOR_MANAGER=$state/manager.sock RVISOR_VOL_DEVICES=$tmp/vols/devices
cleanup_more() {
    kill_manager_vms "$state"
    rm -rf /tmp/rvisor-jail-escape-$$*
}
count() { local n; n=$(grep -c "$2" "$1" 2>/dev/null); echo "${n:-0}"; }
more() { [ "$(count "$1" "$2")" -ge "$3" ]; }
all_threads() { # every thread of PID shows KEY:\tVALUE in its status
    local t
    for t in /proc/$1/task/*; do grep -q "^$2:[[:space:]]*$3\$" "$t/status" || return 1; done
}
empty_root() { [ "$(cd "/proc/$1/root" && find . | tr '\n' ' ')" = ". " ]; }
own_ns() { [ "$(readlink "/proc/$1/ns/$2")" != "$(readlink "/proc/self/ns/$2")" ]; }
pid_of() { "$rvisor" info "$1" | json_field pid; }
cmd64() { printf '%s' "$1" | base64 -w0; }
root=no; [ "$(id -u)" = 0 ] && root=yes

# The sandbox as seen from outside; $1 names the VM, $2 its pid, $3 "pidns" if expected.
outside() {
    check "$1: Seccomp: 2 on every thread" all_threads "$2" Seccomp 2
    [ $root = yes ] || return 0
    check "$1: no capabilities on any thread" all_threads "$2" CapEff 0000000000000000
    check "$1: empty root (/proc/PID/root has no host file)" empty_root "$2"
    check "$1: private mount namespace" own_ns "$2" mnt
    check "$1: private network namespace" own_ns "$2" net
    if [ "${3:-}" = pidns ]; then
        check "$1: private PID namespace" own_ns "$2" pid
        check "$1: PID 1 of its namespace (NSpid)" grep -q "^NSpid:[[:space:]]*$2[[:space:]]*1\$" "/proc/$2/status"
    fi
}

testlib_fetch_guest
mkdir -p "$tmp/vols"
cd "$tmp/vols" && truncate -s 64M pv0.img && "$rvisor" vol pv-create pv0.img >/dev/null &&
    "$rvisor" vol vg-create vg0 pv0.img --extent-size 1M >/dev/null &&
    "$rvisor" vol lv-create vg0/data --size 16M >/dev/null || { fail "volume set-up"; finish; }
cd "$tmp" || exit 1
"$rvisor" img create -f qcow2 "$tmp/disk.qcow2" 64M >/dev/null
"$rvisor" serve --state-dir "$state" 2>>"$tmp/manager.log" &
pids="$pids $!"
wait_for 20 sh -c "'$rvisor' list >/dev/null 2>&1" || { fail "manager start"; finish; }

mods="rvisor.modules=virtio_mmio,virtio_blk"
tick='i=0; while true; do i=$((i+1)); echo "tick $i"; sleep 0.3; done'
"$rvisor" create jail1 --kernel "$guest/Image" --initrd "$guest/initrd.img" --mem 128M \
    --disk "$tmp/disk.qcow2" --append "console=ttyS0 quiet $mods rvisor.cmd64=$(cmd64 "$tick")" >/dev/null
vol='dd if=/dev/urandom of=/dev/vda bs=64k count=16 conv=fsync 2>/dev/null && echo VOL-WRITE-OK
while true; do echo "size $(cat /sys/block/vda/size)"; sleep 0.5; done'
"$rvisor" create jail2 --kernel "$guest/Image" --initrd "$guest/initrd.img" --mem 128M \
    --disk vol:vg0/data --append "console=ttyS0 quiet $mods rvisor.cmd64=$(cmd64 "$vol")" >/dev/null
"$rvisor" start jail1 >/dev/null && "$rvisor" start jail2 >/dev/null
d1=$state/vms/jail1
d2=$state/vms/jail2
check "jail1 boots under the manager" wait_for 900 more "$d1/console.log" '^tick ' 3
check "jail2 boots under the manager" wait_for 900 more "$d2/console.log" '^size ' 1
p1=$(pid_of jail1); p2=$(pid_of jail2)
outside jail1 "$p1" pidns
outside jail2 "$p2" pidns
st=$("$rvisor" vm jail1 status)
n=$(echo "$st" | json_field sandbox.syscalls)
echo "jail1: $n system calls on the allowlist"
check "status: seccomp on, $n system calls (40..90)" sh -c "[ '$(echo "$st" | json_field sandbox.seccomp)' = true ] && [ '$n' -ge 40 ] && [ '$n' -le 90 ]"
[ $root = yes ] && check "status: mount and network namespaces reported" sh -c "echo '$st' | grep -q '\"net_ns\": true' && echo '$st' | grep -q '\"mount_ns\": true'"

# --- volumes: writes, and an online grow (metadata reloaded through the directory fds) ---
check "jail2: the guest wrote its volume" grep -q VOL-WRITE-OK "$d2/console.log"
"$rvisor" vol lv-resize vg0/data --size 24M >/dev/null
check "jail2: the volume grew online (24M = 49152 sectors)" wait_for 120 grep -q '^size 49152' "$d2/console.log"
check "jail2: no sandbox complaint in its log" sh -c "! grep -qi 'cannot reload\|operation not permitted' '$d2/run.log'"

# --- snapshot through the manager, paths confined to the VM's folder ----------------------
check "pause jail1" test "$("$rvisor" vm jail1 pause | json_field state)" = paused
check "snapshot into the VM's folder (relative path)" sh -c "'$rvisor' vm jail1 snapshot path=snap.rvs >'$tmp/snap.json'"
check "snapshot file and disk overlay written" test -s "$d1/snap.rvs" -a -s "$d1/snap.rvs.disk0.qcow2"
check "the reply names the absolute path" test "$(json_field path <"$tmp/snap.json")" = "$d1/snap.rvs"
esc=/tmp/rvisor-jail-escape-$$
"$rvisor" vm jail1 snapshot path=../../../escape.rvs >/dev/null 2>"$tmp/e1"; rc=$?
check "'..' refused (status $rc): $(cat "$tmp/e1")" sh -c "[ $rc != 0 ] && grep -q \"'..' is not allowed\" '$tmp/e1'"
"$rvisor" vm jail1 snapshot path="$esc.rvs" >/dev/null 2>"$tmp/e2"; rc=$?
check "absolute path elsewhere refused (status $rc): $(cat "$tmp/e2")" sh -c "[ $rc != 0 ] && grep -q 'outside the VM' '$tmp/e2'"
mkdir -p "$esc.d"; ln -s "$esc.d" "$d1/out"
"$rvisor" vm jail1 snapshot path=out/escape.rvs >/dev/null 2>"$tmp/e3"; rc=$?
check "symbolic link out of the folder refused (status $rc): $(cat "$tmp/e3")" test $rc != 0
check "nothing written outside the folder" sh -c "[ -z \"\$(ls -A '$esc.d')\" ] && [ ! -e '$esc.rvs' ] && [ ! -e '$esc.rvs.tmp' ] && [ ! -e '$state/escape.rvs' ] && [ ! -e '$tmp/escape.rvs' ]"
check "resume jail1" test "$("$rvisor" vm jail1 resume | json_field state)" = running
t=$(count "$d1/console.log" '^tick ')
check "jail1 runs on after the snapshot" wait_for 60 more "$d1/console.log" '^tick ' $((t + 3))

# --- restore (its own process, --private-net as the manager's VMs), reset, snapshot again --
mkdir "$tmp/r"
"$rvisor" restore "$d1/snap.rvs" --private-net --api-socket "$tmp/r/api.sock" \
    --console "file:$tmp/r/console" </dev/null >"$tmp/r/out" 2>&1 &
rp=$!; pids="$pids $rp"
check "restored VM runs on (ticks continue)" wait_for 300 more "$tmp/r/console" '^tick ' 3
outside restored "$rp"
check "restored VM: snapshot into its state folder" sh -c "'$rvisor' ctl '$tmp/r/api.sock' pause >/dev/null && '$rvisor' ctl '$tmp/r/api.sock' snapshot path=again.rvs >/dev/null"
check "restored VM: snapshot written" test -s "$tmp/r/again.rvs"
"$rvisor" ctl "$tmp/r/api.sock" resume >/dev/null
"$rvisor" ctl "$tmp/r/api.sock" reset >/dev/null
check "restored VM: reset boots the guest again (images read through the sandbox)" \
    wait_for 300 more "$tmp/r/console" '^tick 1[[:space:]]*$' 1
"$rvisor" ctl "$tmp/r/api.sock" kill >/dev/null
wait $rp
check "restored VM: no sandbox complaint" sh -c "! grep -qi 'operation not permitted\|sandbox' '$tmp/r/out'"

"$rvisor" stop jail1 >/dev/null; "$rvisor" stop jail2 >/dev/null
check "jail1 stopped" wait_for 60 sh -c "'$rvisor' list | grep -q 'jail1 *stopped'"
check "jail1: API socket removed from inside the sandbox" test ! -e "$d1/api.sock"
finish
