#!/bin/bash
# --mmu: the largest virtual-memory scheme of the harts (README "Options").
#  - Debian's kernel probes satp (Sv57, then Sv48, then Sv39) and runs in the largest mode the
#    harts implement: /proc/cpuinfo says so on every hart;
#  - the device tree's cpu nodes carry the matching mmu-type;
#  - bad values are refused with a message and status 125;
#  - a snapshot and a live migration keep the setting (the restored and the migrated VM's
#    status reports it and the guest goes on);
#    a snapshot whose configuration lacks the guest's satp mode is refused; a version 1
#    configuration record (from before --mmu) restores as Sv57.
# Usage: mmu-test.sh RVISOR FETCH_SCRIPT [GUEST_DIR]. Ends with "N passed, N failed".
set -u
. "$(dirname "$0")/../lib/testlib.sh"
testlib_init "" "$@"
tool="python3 $(dirname "$0")/../state/streamtool.py"
testlib_fetch_guest
K="--kernel $guest/Image --initrd $guest/initrd.img"
show() { echo "--- last lines of $1 ---"; tail -15 "$1" | tr -d '\r'; }

# 1. The guest's view, per setting (two harts for sv39: the secondary hart probes nothing but
#    must accept the boot hart's Sv39 satp).
for mmu in sv39 sv48 sv57; do
    smp=1
    [ $mmu = sv39 ] && smp=2
    timeout 600 "$rvisor" run --mmu $mmu --smp $smp $K \
        --append "console=ttyS0 quiet rvisor.cmd=grep%20^mmu%20/proc/cpuinfo" </dev/null \
        >"$tmp/$mmu.out" 2>&1
    st=$?
    n=$(tr -d '\r' <"$tmp/$mmu.out" | grep -Ec "^mmu[[:space:]]*: $mmu\$")
    others=$(tr -d '\r' <"$tmp/$mmu.out" | grep -E '^mmu[[:space:]]*:' | grep -vc ": $mmu\$")
    if [ $st = 0 ] && [ "$n" = $smp ] && [ "$others" = 0 ]; then
        pass "--mmu $mmu: /proc/cpuinfo shows mmu: $mmu on $smp hart(s)"
    else
        fail "--mmu $mmu: status $st, $n of $smp harts with mmu: $mmu, $others others"
        show "$tmp/$mmu.out"
    fi
done

# 2. The device tree.
for mmu in sv39 sv48 sv57; do
    "$rvisor" run --mmu $mmu --smp 2 $K --dump-dtb "$tmp/$mmu.dtb" 2>"$tmp/dtb.err"
    types="$(fdtget "$tmp/$mmu.dtb" /cpus/cpu@0 mmu-type)"
    types="$types $(fdtget "$tmp/$mmu.dtb" /cpus/cpu@1 mmu-type)"
    check "--mmu $mmu: cpu nodes have mmu-type riscv,$mmu ($types)" \
        '[ "$types" = "riscv,$mmu riscv,$mmu" ]'
done

# 3. Bad values.
for bad in sv32 sv64 foo SV39 ""; do
    "$rvisor" run --mmu "$bad" $K --dump-dtb "$tmp/bad.dtb" >"$tmp/bad.out" 2>&1
    st=$?
    check "--mmu '$bad' is refused (status $st)" \
        '[ $st = 125 ] && grep -q "mmu takes sv39, sv48 or sv57" "$tmp/bad.out" &&
         [ ! -e "$tmp/bad.dtb" ]'
done
"$rvisor" run $K --mmu >"$tmp/bad.out" 2>&1
st=$?
check "--mmu without a value is refused (status $st)" \
    '[ $st = 125 ] && grep -q "incomplete option" "$tmp/bad.out"'

# 4. Snapshot and restore keep the setting.
ticks='echo ready; i=0; while true; do i=$((i+1)); echo "tick $i"; sleep 0.2; done'
# ticks FILE: the last "tick N" on a console file (0 if none)
ticks() {
    tr -d '\r' <"$1" 2>/dev/null | sed -n 's/^tick \([0-9]*\)$/\1/p' | tail -1 | grep . || echo 0
}
# wait_ticks FILE N: until the console shows tick >= N (60 s at most)
wait_ticks() {
    local i=0
    while [ "$(ticks "$1")" -lt "$2" ] && [ $i -lt 600 ]; do sleep 0.1; i=$((i + 1)); done
    [ "$(ticks "$1")" -ge "$2" ]
}
wait_sock() {
    local i=0
    while [ ! -S "$1" ] && [ $i -lt 300 ]; do sleep 0.1; i=$((i + 1)); done
    [ -S "$1" ]
}
status_mmu() { "$rvisor" ctl "$1" status | json_field mmu; }
# restore_run NAME SNAPSHOT: restores in the background ($tmp/NAME.con, $tmp/NAME.sock)
restore_run() {
    "$rvisor" restore "$2" --console "file:$tmp/$1.con" --api-socket "$tmp/$1.sock" \
        </dev/null >"$tmp/$1.out" 2>&1 &
    rpid=$!
    pids="$pids $rpid"
}
# restored NAME MMU: the restored (or migrated) VM reports MMU and its guest goes on ticking
restored() {
    local n
    if wait_sock "$tmp/$1.sock" && [ "$(status_mmu "$tmp/$1.sock")" = "$2" ]; then
        pass "$1: the VM's status says mmu $2"
    else
        fail "$1: the VM's mmu"
        show "$tmp/$1.out"
    fi
    n=$(ticks "$tmp/$1.con")
    if wait_ticks "$tmp/$1.con" $((n + 3)); then
        pass "$1: the guest goes on (tick $n, then $(ticks "$tmp/$1.con"))"
    else
        fail "$1: the guest does not go on"
        show "$tmp/$1.con"
    fi
}
# stop NAME PID: kills a VM with an API socket $tmp/NAME.sock and waits for it
stop() {
    "$rvisor" ctl "$tmp/$1.sock" kill >/dev/null
    wait "$2"
}

"$rvisor" run --mmu sv48 $K \
    --append "console=ttyS0 quiet rvisor.cmd64=$(printf '%s' "$ticks" | base64 -w0)" \
    --console "file:$tmp/a.con" --api-socket "$tmp/a.sock" </dev/null >"$tmp/a.out" 2>&1 &
apid=$!
pids="$pids $apid"
if wait_sock "$tmp/a.sock" && wait_ticks "$tmp/a.con" 3; then
    check "the running VM's status says mmu sv48" '[ "$(status_mmu "$tmp/a.sock")" = sv48 ]'
    "$rvisor" ctl "$tmp/a.sock" pause >/dev/null
    check "snapshot" "$rvisor" snapshot "$tmp/a.sock" "$tmp/snap.rvs"
    "$rvisor" ctl "$tmp/a.sock" kill >/dev/null
    wait $apid

    restore_run r "$tmp/snap.rvs"
    restored r sv48

    # Live migration of the restored VM on loopback: the destination has no --mmu of its own.
    port=$((20000 + $$ % 20000))
    "$rvisor" run --incoming "tcp:127.0.0.1:$port" --console "file:$tmp/m.con" \
        --api-socket "$tmp/m.sock" </dev/null >"$tmp/m.out" 2>&1 &
    mpid=$!
    pids="$pids $mpid"
    for _ in $(seq 100); do # until it listens (10 s at most)
        ss -ltnH "sport = :$port" 2>/dev/null | grep -q . && break
        sleep 0.1
    done
    "$rvisor" migrate "$tmp/r.sock" --to "tcp:127.0.0.1:$port" >"$tmp/migrate.out" 2>&1
    st=$?
    check "migrate (status $st)" '[ $st = 0 ]'
    [ $st = 0 ] || show "$tmp/migrate.out"
    wait $rpid
    restored m sv48
    stop m $mpid

    # The configuration says sv39, the harts' satp is Sv48: refused, not run.
    $tool config-mmu "$tmp/snap.rvs" "$tmp/sv39.rvs" 8
    timeout 120 "$rvisor" restore "$tmp/sv39.rvs" --console none </dev/null >"$tmp/sv39.out" 2>&1
    st=$?
    check "a snapshot configured sv39 with a Sv48 satp is refused (status $st)" \
        '[ $st = 125 ] && grep -q "satp mode 9 is not implemented" "$tmp/sv39.out"'
    [ $st = 125 ] || show "$tmp/sv39.out"

    # Version 1 configuration (no MMU type): Sv57, which runs a Sv48 guest.
    $tool config-mmu "$tmp/snap.rvs" "$tmp/v1.rvs" v1
    restore_run v1 "$tmp/v1.rvs"
    restored v1 sv57
    stop v1 $rpid
else
    fail "the --mmu sv48 guest did not start ticking"
    show "$tmp/a.out"
    show "$tmp/a.con"
fi
finish
