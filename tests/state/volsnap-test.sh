#!/bin/bash
# VM snapshots of a guest whose writable disks are logical volumes (docs/state.md "Disks",
# docs/volumes.md "VM snapshots"): the disk part of the snapshot is a volume snapshot.
#  - the guest counts on two disks, a linear LV (classic snapshot in the VG's thin pool) and a
#    thin LV (thin snapshot), with a third disk, a linear LV of a VG without a thin pool;
#  - a snapshot then fails with a clear error, leaves no file and no volume snapshot, and the
#    guest goes on; once that VG has a pool, the snapshot succeeds;
#  - the guest goes on counting on its volumes; a restore (while the original still runs)
#    reads the snapshot-time counts from its disks, the same the original read right after
#    the snapshot, and counts on from there on its own overlays;
#  - a second snapshot (mappable) makes the volume snapshots .snap2, and a clone of it counts on
#    from its count;
#  - afterwards each origin LV holds the original's last count, each volume snapshot the
#    snapshot-time count (the restored guest's writes went to its overlay);
#  - with a volume snapshot removed, the VM snapshot no longer restores (a clear error).
# Every step reads the disks with the page cache dropped, so the counts come from the disks.
# A pause may catch the guest inside a step (between its read and its two writes): where that
# matters, the disks may hold the last count printed or the next one.
# usage: volsnap-test.sh RVISOR BLKCAT
. "$(dirname "$0")/../e2e/lib.sh"
e2e_init "$1"
blkcat=$(realpath "$2")
cd "$tmp" || exit 1
export RVISOR_VOL_DEVICES=$tmp/devices
vol() { "$rvisor" vol "$@"; }

truncate -s 64M pv0.img pv1.img
if vol pv-create pv0.img pv1.img >setup.log 2>&1 &&
    vol vg-create vg0 pv0.img --extent-size 1M >>setup.log 2>&1 &&
    vol vg-create vg1 pv1.img --extent-size 1M >>setup.log 2>&1 &&
    vol lv-create vg0/data --size 8M >>setup.log 2>&1 &&
    vol lv-create vg0/pool --thin-pool --size 16M >>setup.log 2>&1 &&
    vol lv-create vg0/tdata --thin --pool pool --size 8M >>setup.log 2>&1 &&
    vol lv-create vg1/lin --size 8M >>setup.log 2>&1; then
    pass "VGs: vg0 with a linear LV, a thin pool and a thin LV; vg1 with a linear LV only"
else
    fail "setting up the VGs"; cat setup.log; finish
fi

# Each step: read both counts (page cache dropped), write the next count to both, print it.
script='rd() { echo 3 >/proc/sys/vm/drop_caches; dd if=$1 bs=512 count=1 2>/dev/null | tr -dc 0-9; }
while true; do a=$(rd /dev/vda); b=$(rd /dev/vdb); echo "read ${a:-0} ${b:-0}"
n=$((${a:-0} + 1)); for d in /dev/vda /dev/vdb; do printf "%-511s\n" $n | dd of=$d bs=512 count=1 conv=fsync 2>/dev/null; done
echo "count $n"; sleep 0.3; done'
reads() { tr -d '\r' <"$1" 2>/dev/null | grep -a '^read [0-9]* [0-9]*$'; }
last_count() { tr -d '\r' <"$1" | grep -a '^count [0-9]*$' | tail -1 | cut -d' ' -f2; }
in_step() { [ "$1" = "$2" ] || [ "$1" = $(($2 + 1)) ]; } # in_step VALUE COUNT: COUNT or next
wait_reads() { # wait_reads FILE N PID: until the console shows N read lines (PID runs)
    local i=0
    while [ "$(reads "$1" | wc -l)" -lt "$2" ] && [ $i -lt 3000 ] && kill -0 "$3" 2>/dev/null; do
        sleep 0.2; i=$((i + 1)); done
    [ "$(reads "$1" | wc -l)" -ge "$2" ]
}
first_num() { sed -n 's/^[^0-9]*\([0-9]*\).*/\1/p' | head -1; } # the number at the start

bg_run a.out run ${RVISOR_RUN_ARGS:-} $bios --kernel "$guest/Image" --initrd "$guest/initrd.img" \
    --mem 192M --disk vol:vg0/data --disk vol:vg0/tdata --disk vol:vg1/lin \
    --append "$(e2e_append "$script")" --console file:a.con --api-socket a.sock
a_pid=$bg_pid
if wait_socket a.sock 600 && wait_reads a.con 3 $a_pid; then
    pass "the guest counts on vol:vg0/data and vol:vg0/tdata ($(reads a.con | tail -1))"
else
    fail "guest counting"; cat a.out; tail -5 a.con; finish
fi

# vg1 has no thin pool: the linear LV cannot be snapshotted.
"$rvisor" snapshot a.sock bad.rvs >bad.out 2>&1
st=$?
cat bad.out
check "snapshot refused (status $st): disk 2 needs a thin pool in vg1" \
    grep -q 'disk 2: volume snapshot of vg1/lin: .*needs a thin pool in vg1' bad.out
check "no snapshot file left" test ! -e bad.rvs -a ! -e bad.rvs.tmp
vol lvs >lvs0.out 2>&1
check "no volume snapshot left behind (the ones of disks 0 and 1 removed)" \
    test "$(grep -c 'snap' lvs0.out)" = 0
n0=$(reads a.con | wc -l)
check "the guest goes on after the failed snapshot" wait_reads a.con $((n0 + 2)) $a_pid

check "a thin pool for vg1 (created while the VM uses vg1/lin)" \
    vol lv-create vg1/pool --thin-pool --size 16M
# Paused around the snapshot: the console lines after $n1 are what the guest did after it.
"$rvisor" ctl a.sock pause >/dev/null
sleep 1
n1=$(reads a.con | wc -l)
c1=$(last_count a.con)
check "snapshot" "$rvisor" snapshot a.sock s.rvs
"$rvisor" ctl a.sock resume >/dev/null
vol lvs >lvs1.out 2>&1
for lv in vg0/data.snap1 vg0/tdata.snap1 vg1/lin.snap1; do
    check "volume snapshot $lv made" grep -q "${lv#*/}" lvs1.out
done
check "the running VM stays on its volumes (no overlay files)" test ! -e s.rvs.disk0.qcow2
wait_reads a.con $((n1 + 6)) $a_pid
after=$(reads a.con | sed -n "$((n1 + 1))p")
echo "the original's first step after the snapshot: $after"

# Restore while the original runs (its volumes are written meanwhile).
bg_run r.out restore s.rvs --console file:r.con --api-socket r.sock
r_pid=$bg_pid
if wait_reads r.con 4 $r_pid; then
    pass "the restored guest counts ($(reads r.con | head -1) ... $(reads r.con | tail -1))"
else
    fail "restored guest"; cat r.out; finish
fi
cat r.out
check "restore: the first step reads the snapshot-time counts, as the original did ($after)" \
    test "$(reads r.con | head -1)" = "$after"
snap_count=$(echo "$after" | first_num)
ok=1
k=0
while read -r _ x y; do
    [ "$x" = $((snap_count + k)) ] && [ "$y" = "$x" ] || ok=0
    k=$((k + 1))
done < <(reads r.con)
check "the restored guest's counts go on one by one from $snap_count" test $ok = 1
orig_now=$(reads a.con | tail -1 | first_num)
check "the original is further ($orig_now > $snap_count + 4): the restore did not see its writes" \
    test "$orig_now" -gt $((snap_count + 4))
check "disk 0 of the restore: an overlay backed by the volume snapshot" \
    grep -q 'vol:vg0/data.snap1' s.rvs.disk0.1.qcow2

"$rvisor" ctl a.sock pause >/dev/null
sleep 1
c2=$(last_count a.con)
check "a second snapshot of the same VM (mappable)" "$rvisor" snapshot a.sock s2.rvs --mappable
"$rvisor" ctl a.sock resume >/dev/null
check "its volume snapshots are .snap2" grep -q 'data.snap2' <(vol lvs 2>&1)
# A clone of it, while the original and the restore run.
bg_run c.out restore s2.rvs --clone --console file:c.con
c_pid=$bg_pid
check "a clone of the second snapshot counts" wait_reads c.con 3 $c_pid
c_first=$(reads c.con | head -1 | first_num)
ok=1
k=0
while read -r _ x y; do
    [ "$x" = $((c_first + k)) ] && [ "$y" = "$x" ] || ok=0
    k=$((k + 1))
done < <(reads c.con)
check "the clone starts at the second snapshot's count ($c_first; printed $c2) and goes on by one" \
    test $ok = 1 -a "$c_first" -ge "$c2" -a "$c_first" -le $((c2 + 1))
kill -9 $c_pid
wait $c_pid 2>/dev/null

"$rvisor" ctl r.sock pause >/dev/null 2>&1
"$rvisor" ctl a.sock pause >/dev/null 2>&1
sleep 1
last_a=$(last_count a.con)
last_r=$(last_count r.con)
"$rvisor" ctl r.sock kill >/dev/null 2>&1
"$rvisor" ctl a.sock kill >/dev/null 2>&1
wait $a_pid $r_pid 2>/dev/null
disk() { "$blkcat" "$1" 2>/dev/null | head -c 512 | tr -dc 0-9; }
for lv in vg0/data vg0/tdata; do
    v=$(disk vol:$lv)
    check "origin $lv holds the original's last count ($v; printed $last_a)" in_step "$v" "$last_a"
    v=$(disk vol:$lv.snap1)
    check "volume snapshot $lv.snap1 holds the snapshot-time count ($v; printed $c1)" \
        in_step "$v" "$c1"
done
v=$(disk s.rvs.disk0.1.qcow2)
check "the restore's overlay holds the restored guest's last count ($v; printed $last_r)" \
    in_step "$v" "$last_r"

# A snapshot whose volume snapshot was removed does not restore.
check "lv-remove vg0/data.snap1 (nobody uses it now)" vol lv-remove vg0/data.snap1
"$rvisor" restore s.rvs --console none >gone.out 2>&1
st=$?
cat gone.out
check "restore without its volume snapshot refused (status $st)" \
    grep -q 'backing file: .*vg0/data.snap1 not found' gone.out
check "vol check" vol check
finish
