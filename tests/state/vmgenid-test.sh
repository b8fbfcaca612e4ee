#!/bin/bash
# The VM generation ID device (docs/state.md "Clones and the generation ID") with the Debian
# guest (Linux 6.12, CONFIG_VMGENID=y, the device-tree binding "microsoft,vmgenid"):
#  - the guest's vmgenid driver binds to the device;
#  - a live migration keeps the ID: the migrated guest logs no VM fork;
#  - two clones of a snapshot of it each log "crng reseeded due to virtual machine fork"
#    and read different /proc/sys/kernel/random/uuid values right after the restore (the
#    template's RNG state would otherwise give both the same numbers until a reseed; with this
#    young a guest Linux's own early reseeding also makes them differ, so the fork log is the
#    proof, docs/state.md).
# Usage: vmgenid-test.sh RVISOR
set -u
. "$(dirname "$0")/../e2e/lib.sh"
e2e_init "$1"
port=$((20000 + ($$ * 7) % 20000))

# ticks FILE: the "tick UUID FORKS" lines of a console, carriage returns removed
ticks() { tr -d '\r' 2>/dev/null <"$1" | grep '^tick [0-9a-f-]* [0-9]*$'; }
wait_ticks() { # wait_ticks FILE N: until the console shows N tick lines
    local i=0
    while [ "$(ticks "$1" | wc -l)" -lt "$2" ] && [ $i -lt 1200 ]; do sleep 0.1; i=$((i + 1)); done
    [ "$(ticks "$1" | wc -l)" -ge "$2" ]
}

# Every half second: a fresh random UUID and how many VM forks the kernel has logged.
script='d=/sys/bus/platform/drivers/vmgenid
ls $d | grep -q vmgenid && echo vmgenid-bound
while true; do echo "tick $(cat /proc/sys/kernel/random/uuid) $(dmesg | grep -c "virtual machine fork")"; sleep 0.5; done'
bg_run "$tmp/a.out" run --kernel "$guest/Image" --initrd "$guest/initrd.img" --mem 256M $bios \
    --append "console=ttyS0 quiet rvisor.cmd64=$(printf '%s' "$script" | base64 -w0)" \
    --console "file:$tmp/a.con" --api-socket "$tmp/a.sock"
a_pid=$bg_pid
wait_socket "$tmp/a.sock" && wait_ticks "$tmp/a.con" 2 || { fail "guest ticking"; cat "$tmp/a.out"; finish; }
check "the guest's vmgenid driver is bound to the device" grep -q vmgenid-bound "$tmp/a.con"
check "no VM fork at boot" test "$(ticks "$tmp/a.con" | tail -1 | cut -d' ' -f3)" = 0

# Migration: the same VM, the same ID.
bg_run "$tmp/b.out" run --incoming "tcp:127.0.0.1:$port" --console "file:$tmp/b.con" \
    --api-socket "$tmp/b.sock"
b_pid=$bg_pid
sleep 0.5
check "migrate" "$rvisor" migrate "$tmp/a.sock" --to "tcp:127.0.0.1:$port"
wait $a_pid
wait_ticks "$tmp/b.con" 3
check "after a migration: no VM fork logged ($(ticks "$tmp/b.con" | tail -1))" \
    test "$(ticks "$tmp/b.con" | tail -1 | cut -d' ' -f3)" = 0

# Clones: a new ID each, the kernel reseeds.
check "snapshot --mappable" "$rvisor" snapshot "$tmp/b.sock" "$tmp/t.rvs" --mappable
"$rvisor" ctl "$tmp/b.sock" kill >/dev/null
wait $b_pid
for k in 1 2; do
    bg_run "$tmp/c$k.out" restore "$tmp/t.rvs" --clone --console "file:$tmp/c$k.con"
done
# (the first tick line of a clone may have been computed before the snapshot: the second one
# is the first made entirely after the restore)
second() { ticks "$1" | sed -n 2p | cut -d' ' -f"$2"; }
for k in 1 2; do
    wait_ticks "$tmp/c$k.con" 2
    ticks "$tmp/c$k.con" | head -2 | sed "s/^/clone $k: /"
    check "clone $k: the kernel logged a VM fork (crng reseeded)" test "$(second "$tmp/c$k.con" 3)" = 1
done
u1=$(second "$tmp/c1.con" 2)
u2=$(second "$tmp/c2.con" 2)
check "the two clones' first random UUIDs differ ($u1, $u2)" test -n "$u1" -a "$u1" != "$u2"
finish
