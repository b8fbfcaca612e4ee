#!/bin/bash
# Snapshots, restore, clones and live migration with the Debian guest (docs/state.md):
#  - a guest counting on the console (and writing its count to an ext4 disk) is snapshotted,
#    killed and restored: the count goes on from where it stopped, the file written before the
#    snapshot is on the restored disk, the frozen image is unchanged;
#  - the same paused state saved twice gives equal RAM records;
#  - corrupted, truncated and foreign snapshot files are rejected with a message (status 125);
#  - three clones from a mappable snapshot all continue the count; their RSS is reported;
#  - live migration on loopback between two rvisor processes while the guest rewrites 4 MiB of
#    memory per step: the count has no gap and no repeat across the two consoles;
#  - migrations cut by a proxy when the destination is ready and at 20 random offsets (seed
#    printed; STATE_CUT_SEED, STATE_CUTS): the source keeps running every time, the
#    destination exits with status 125; cut at the hand-over: never both running, and a
#    source that cannot know waits paused until `resume`.
# Usage: state-test.sh RVISOR
set -u
. "$(dirname "$0")/../e2e/lib.sh"
e2e_init "$1"
tool="python3 $src/tests/state/streamtool.py"
port=$((20000 + $$ % 20000))

# Last "count N" on a console file (0 if none).
last_count() { [ -f "$1" ] || { echo 0; return; }; tr -d '\r' <"$1" | sed -n 's/^count \([0-9]*\).*/\1/p' | tail -1 | grep . || echo 0; }
first_count() { tr -d '\r' <"$1" 2>/dev/null | sed -n 's/^count \([0-9]*\).*/\1/p' | head -1; }
# wait_count FILE N [SECONDS]: until the console shows count >= N
wait_count() {
    local i=0 lim=$((${3:-120} * 10))
    while [ "$(last_count "$1")" -lt "$2" ] && [ $i -lt $lim ]; do sleep 0.1; i=$((i + 1)); done
    [ "$(last_count "$1")" -ge "$2" ]
}
# The counts of the console files, in order, go up by exactly one each time.
no_gap() {
    cat "$@" | tr -d '\r' | sed -n 's/^count \([0-9]*\)$/\1/p' |
        awk 'NR > 1 && $1 != prev + 1 { bad = 1; print "gap after " prev ": " $1 } { prev = $1 } END { exit bad }'
}
running() { "$rvisor" ctl "$1" status 2>/dev/null | grep -q '"running"'; }
grep_file() { grep -q "$2" "$1"; }
ctl() { "$rvisor" ctl "$@"; }
boot_args() {
    echo --kernel "$guest/Image" --initrd "$guest/initrd.img" --mem 256M $bios
}

# --- snapshot and restore -------------------------------------------------------------------
truncate -s 64M "$tmp/disk.img"
mkfs.ext4 -q -F "$tmp/disk.img" || fail "mkfs.ext4"
counter='mount /dev/vda /mnt || exit 9; echo before-snapshot > /mnt/marker; sync
i=0; while true; do i=$((i+1)); echo "count $i"; echo $i > /mnt/last
[ $((i % 5)) = 0 ] && sync; sleep 0.2; done'
bg_run "$tmp/a.out" run $(boot_args) --disk "$tmp/disk.img" --append "$(e2e_append "$counter")" \
    --console "file:$tmp/a.con" --api-socket "$tmp/a.sock"
a_pid=$bg_pid
wait_socket "$tmp/a.sock" && wait_count "$tmp/a.con" 12 ||
    { fail "guest counting"; cat "$tmp/a.out" "$tmp/a.con"; finish; }
check "pause" ctl "$tmp/a.sock" pause >/dev/null
n=$(last_count "$tmp/a.con")
check "snapshot" "$rvisor" snapshot "$tmp/a.sock" "$tmp/snap.rvs"
check "snapshot again (still paused)" "$rvisor" snapshot "$tmp/a.sock" "$tmp/snap2.rvs"
check "snapshot --mappable" "$rvisor" snapshot "$tmp/a.sock" "$tmp/snapm.rvs" --mappable
r1=$($tool ram "$tmp/snap.rvs")
r2=$($tool ram "$tmp/snap2.rvs")
check "the same state saved twice: equal RAM ($r1)" test -n "$r1" -a "$r1" = "$r2"
check "the paused guest printed nothing meanwhile" test "$(last_count "$tmp/a.con")" = "$n"
check "a disk overlay for the running VM" test -f "$tmp/snap.rvs.disk0.qcow2"
ctl "$tmp/a.sock" kill >/dev/null
wait $a_pid
check "killed VM exits 127" test $? = 127
frozen_sum=$(md5sum <"$tmp/disk.img")

bg_run "$tmp/r.out" restore "$tmp/snap.rvs" --console "file:$tmp/r.con" --api-socket "$tmp/r.sock"
r_pid=$bg_pid
wait_count "$tmp/r.con" $((n + 12)) 60 || { cat "$tmp/r.out"; head "$tmp/r.con"; }
check "restored guest continues at count $((n + 1)) (first: $(first_count "$tmp/r.con"))" \
    test "$(first_count "$tmp/r.con")" = $((n + 1))
check "restored count has no gap" no_gap "$tmp/r.con"
ctl "$tmp/r.sock" kill >/dev/null
wait $r_pid
overlay=$(sed -n 's/^rvisor: disk 0 writes to //p' "$tmp/r.out")
check "restore made a disk overlay ($overlay)" test -f "$overlay"
check "the frozen image did not change" test "$(md5sum <"$tmp/disk.img")" = "$frozen_sum"
qemu-img convert -O raw "$overlay" "$tmp/after.img" && e2fsck -fy "$tmp/after.img" >/dev/null 2>&1
marker=$(debugfs -R 'cat /marker' "$tmp/after.img" 2>/dev/null)
check "file written before the snapshot is on the restored disk ($marker)" test "$marker" = before-snapshot
after=$(debugfs -R 'cat /last' "$tmp/after.img" 2>/dev/null | tr -d '\n')
check "restored guest wrote the disk after the snapshot (last=$after > $n)" test "${after:-0}" -gt "$n"

# A second restore of the same snapshot, then a reset: the guest boots again (a restored VM
# reads its boot images again for that).
bg_run "$tmp/r2.out" restore "$tmp/snap.rvs" --console "file:$tmp/r2.con" --api-socket "$tmp/r2.sock"
r_pid=$bg_pid
wait_count "$tmp/r2.con" $((n + 2)) 60
check "second restore continues at count $((n + 1))" test "$(first_count "$tmp/r2.con")" = $((n + 1))
ctl "$tmp/r2.sock" reset >/dev/null
i=0; while ! grep -q '^count 1.$' "$tmp/r2.con" && [ $i -lt 900 ]; do sleep 0.1; i=$((i + 1)); done
check "restored VM reboots on reset: the script starts over at count 1" grep_file "$tmp/r2.con" '^count 1.$'
ctl "$tmp/r2.sock" kill >/dev/null
wait $r_pid

# --- bad snapshot files ----------------------------------------------------------------------
size=$(stat -c %s "$tmp/snap.rvs")
head -c $((size / 2)) "$tmp/snap.rvs" >"$tmp/half.rvs"
cp "$tmp/snap.rvs" "$tmp/flip.rvs"
printf '\x55' | dd of="$tmp/flip.rvs" bs=1 seek=$((size / 3)) conv=notrunc 2>/dev/null
head -c 4096 /dev/urandom >"$tmp/junk.rvs"
for f in half:truncated flip:checksum junk:magic; do
    "$rvisor" restore "$tmp/${f%%:*}.rvs" --console none >"$tmp/bad.out" 2>&1
    st=$?
    check "${f%%:*} snapshot rejected with status 125" test $st = 125
    check "${f%%:*} snapshot: message names the problem (${f#*:})" grep_file "$tmp/bad.out" "${f#*:}"
done

# --- clones -----------------------------------------------------------------------------------
clone_pids=""
for k in 1 2 3; do
    bg_run "$tmp/c$k.out" restore "$tmp/snapm.rvs" --clone --console "file:$tmp/c$k.con"
    clone_pids="$clone_pids $bg_pid"
done
for k in 1 2 3; do
    wait_count "$tmp/c$k.con" $((n + 5)) 60
    check "clone $k continues at count $((n + 1))" test "$(first_count "$tmp/c$k.con")" = $((n + 1))
done
for p in $clone_pids; do
    awk '/^Rss:|^Shared_Clean:|^Shared_Dirty:|^Private_Dirty:/ { printf "%s %s kB  ", $1, $2 }
         END { print "" }' /proc/$p/smaps_rollup 2>/dev/null | sed "s/^/clone pid $p: /"
    kill -9 $p 2>/dev/null
    wait $p 2>/dev/null
done
grep -h '^rvisor: restored' "$tmp"/c?.out
# Restored at the same moment, each clone still has an overlay of its own (a name taken with
# O_EXCL; with stat-then-create all three wrote one file).
overlays=$(sed -n 's/^rvisor: disk 0 writes to //p' "$tmp"/c?.out | sort -u | wc -l)
check "three clones, three disk overlays ($overlays)" test "$overlays" = 3

# --- live migration ---------------------------------------------------------------------------
busy='i=0; while true; do i=$((i+1)); echo "count $i"; dd if=/dev/urandom of=/tmp/f bs=1M count=4 2>/dev/null; done'
bg_run "$tmp/s.out" run $(boot_args) --append "console=ttyS0 quiet rvisor.cmd64=$(printf '%s' "$busy" | base64 -w0)" \
    --console "file:$tmp/s.con" --api-socket "$tmp/s.sock"
s_pid=$bg_pid
wait_socket "$tmp/s.sock" && wait_count "$tmp/s.con" 5 || { fail "busy guest"; finish; }

# cut_migration SRC_SOCK CUT [DEST OPTIONS]: a destination behind a proxy that cuts the stream
# at CUT (streamtool.py proxy); sets mst (migrate's status), dst (the destination's, when it
# ended: 125 expected, "" if it runs), cut_how (the proxy's report), before (the count then).
cut_migration() {
    local sock=$1 cut=$2 p1=$((port + 1)) p2=$((port + 2)) i=0
    shift 2
    port=$((port + 2))
    local dest_opts=("$@")
    [ $# != 0 ] || dest_opts=(--console none)
    # (under timeout: a destination nobody reaches waits for ever)
    timeout 300 "$rvisor" run --incoming "tcp:127.0.0.1:$p2" "${dest_opts[@]}" </dev/null \
        >"$tmp/cut-d.out" 2>&1 &
    d_pid=$!
    e2e_pids="$e2e_pids $d_pid"
    rm -f "$tmp/proxy.out"
    python3 "$src/tests/state/streamtool.py" proxy $p1 $p2 "$cut" >"$tmp/proxy.out" 2>&1 &
    e2e_pids="$e2e_pids $!"
    while ! grep -q ready "$tmp/proxy.out" && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
    before=$(last_count "$tmp/s.con")
    "$rvisor" migrate "$sock" --to "tcp:127.0.0.1:$p1" >"$tmp/m.out" 2>&1
    mst=$?
    i=0
    while [ ! -s "$tmp/proxy.out" ] || ! grep -q forwarded "$tmp/proxy.out"; do
        [ $i -lt 100 ] || break; sleep 0.1; i=$((i + 1))
    done
    cut_how=$(sed -n 's/^forwarded //p' "$tmp/proxy.out")
    dst=""
    if [ $# = 0 ]; then wait $d_pid; dst=$?; fi
}
# The source after a cut: still running, its API answers, its guest goes on counting.
source_survives() {
    check "$1: migrate reports failure" test $mst = 1
    check "$1: destination exits with 125" test "$dst" = 125
    check "$1: source API answers, VM running" running "$tmp/s.sock"
    wait_count "$tmp/s.con" $((before + 2)) 60
    check "$1: source guest goes on counting" test "$(last_count "$tmp/s.con")" -gt "$before"
}

# Cuts first: the source must survive each one; the destination must exit with 125. The
# first cut comes when the destination answers 'K' (ready): that measures the stream's size;
# then cuts at random offsets of it (a seed per run, printed; STATE_CUT_SEED=N repeats one).
cut_migration "$tmp/s.sock" 999999999999
total=${cut_how%% bytes*}
source_survives "cut before the ready answer (at $cut_how)"
seed=${STATE_CUT_SEED:-$(( $(date +%s) % 1000000 ))}
ncuts=${STATE_CUTS:-20}
echo "random cuts: seed $seed, $ncuts cuts of a ${total:-?} byte stream (STATE_CUT_SEED=$seed to repeat)"
for cut in 0 100 $(python3 -c "import random; r = random.Random($seed); print(*sorted(r.randrange(${total:-1000000}) for _ in range($ncuts)))"); do
    cut_migration "$tmp/s.sock" $cut
    source_survives "${cut_how#*, }"
done
grep -h 'rvisor:' "$tmp/cut-d.out" | tail -1

# 'K' forwarded, 'G' lost: the destination cannot start. The source either saw its 'G' fail
# (it resumes) or cannot know (it waits paused: `resume` continues it).
cut_migration "$tmp/s.sock" G-
check "cut before G: destination exits with 125" test "$dst" = 125
if ! running "$tmp/s.sock"; then
    ctl "$tmp/s.sock" migrate-status | grep -q "hand-over unconfirmed" &&
        pass "cut before G: the source waits paused, the status says why" ||
        fail "cut before G: the source is neither running nor waiting"
    resume_quiet() { ctl "$1" resume >/dev/null; }
    check "cut before G: resume continues the source" resume_quiet "$tmp/s.sock"
fi
wait_count "$tmp/s.con" $((before + 2)) 60
check "cut before G: source guest goes on counting" test "$(last_count "$tmp/s.con")" -gt "$before"

p=$((port + 3))
bg_run "$tmp/d.out" run --incoming "tcp:127.0.0.1:$p" --console "file:$tmp/d.con" \
    --api-socket "$tmp/d.sock"
d_pid=$bg_pid
sleep 0.5
"$rvisor" migrate "$tmp/s.sock" --to "tcp:127.0.0.1:$p" >"$tmp/m.out" 2>&1
check "migrate succeeds" test $? = 0
cat "$tmp/m.out" | tail -1
wait $s_pid
check "source exits with status 0 after the hand-over" test $? = 0
last_src=$(last_count "$tmp/s.con")
wait_count "$tmp/d.con" $((last_src + 5)) 60
check "destination continues at $((last_src + 1)) (first: $(first_count "$tmp/d.con"))" \
    test "$(first_count "$tmp/d.con")" = $((last_src + 1))
check "counts across both consoles: no gap, no repeat" no_gap "$tmp/s.con" "$tmp/d.con"
check "destination status: running" running "$tmp/d.sock"

# Migrating that VM on, cut after the source's 'G' and before the destination's 'A'
# (started): the new destination runs, the old one cannot know and waits paused. Never both.
d2_pid=$d_pid
cut_migration "$tmp/d.sock" G+ --console "file:$tmp/e.con" --api-socket "$tmp/e.sock"
check "cut after G: migrate reports failure" test $mst = 1
check "cut after G: the new destination runs" running "$tmp/e.sock"
check "cut after G: the old one is not running" test "$(running "$tmp/d.sock" && echo yes)" = ""
check "cut after G: its status says the hand-over is unconfirmed" \
    grep -q "hand-over unconfirmed" "$tmp/m.out"
last_d=$(last_count "$tmp/d.con")
wait_count "$tmp/e.con" $((last_d + 3)) 60
check "cut after G: counts across the three consoles: no gap, no repeat" \
    no_gap "$tmp/s.con" "$tmp/d.con" "$tmp/e.con"
ctl "$tmp/e.sock" kill >/dev/null
ctl "$tmp/d.sock" kill >/dev/null
wait $d_pid
wait $d2_pid
finish
