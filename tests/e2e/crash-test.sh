#!/usr/bin/env bash
# End-to-end crash test: rvisor is killed with SIGKILL while the guest writes to its ext4
# root filesystem on a qcow2 disk, over and over on the same images.
#
# Two images take turns: A, an ext4 image from guest/mkdisk.sh converted by
# `qemu-img convert -O qcow2` (64 KiB clusters), and B, made by `rvisor img create -o
# cluster_size=4096` and filled by `qemu-img convert -n` (many small clusters: L2 tables and
# refcount blocks are allocated all the time). Cache modes writeback and none alternate.
#
# Each boot (root = the qcow2 disk) first checks the guest's own durability record: a file
# fK.sha exists only after fK was written and synced (fK.sha is removed, and that synced,
# before fK is touched again), so every fK.sha must match fK. Then it prints a marker and
# writes forever: files rewritten or overwritten in place with fsync, renames, deletes and
# unsynced data. The host kills rvisor a random 0.2-4 s after the marker, then:
#   - qemu-img check and rvisor img check: no corruption (leaked clusters allowed);
#   - the filesystem, converted to raw with qemu-img, its journal replayed by
#     `e2fsck -E journal_only`, passes `e2fsck -fn` (what a synced ext4 journal promises);
# and the next boot must mount it (journal recovery in the guest) and verify every fK.sha.
# At the end one more boot per image verifies and unmounts cleanly, after which e2fsck -fn
# passes on the image as it is, and qemu-img check -r leaks leaves it clean.
#
# Usage: crash-test.sh RVISOR [RVIMG]   CRASH_ITERATIONS (default 8) kills in all.
# Ends with "N passed, N failed"; exit status 0 only if all passed.
set -u
. "$(dirname "$0")/lib.sh"
[ -n "${2:-}" ] && E2E_RVIMG=$2
e2e_init "${1:?usage: crash-test.sh RVISOR [RVIMG]}"
export PATH=$PATH:/sbin:/usr/sbin
for tool in qemu-img e2fsck mke2fs; do
    command -v "$tool" >/dev/null || { fail "host tool $tool missing (qemu-utils, e2fsprogs)"; finish; }
done
img=$(rvimg_cmd) || { fail "no rvisor img tool (rvisor img or tests/block/rvimg)"; finish; }
iterations=${CRASH_ITERATIONS:-8}

mkdir -p "$tmp/add/e2e"
cat >"$tmp/add/e2e/crash.sh" <<'EOF'
mkdir -p /w && cd /w || exit 2
rm -f *.tmp
dmesg | grep -i 'EXT4-fs (vda)' | sed 's/^\[[ 0-9.]*\] /E2E dmesg /'
n=0 bad=0
for s in *.sha; do
    [ -e "$s" ] || continue
    n=$((n + 1))
    sha256sum -c -s "$s" 2>/dev/null ||
        { bad=$((bad + 1)); echo "E2E bad $s: $(cut -c1-16 "$s") now $(sha256sum "${s%.sha}" 2>&1 | cut -c1-16)"; }
done
echo "E2E verified $n bad $bad"
[ "${1:-}" = verify ] && exit 0
echo "E2E writing"
i=0
while :; do
    r=$RANDOM
    k=f$((r % 24))
    rm -f $k.sha && sync
    kb=$(((RANDOM % 32 + 1) * 64))
    if [ $((r % 3)) = 0 ] && [ -f $k ]; then
        dd if=/dev/urandom of=$k bs=1k count=$kb conv=notrunc,fsync 2>/dev/null
    else
        dd if=/dev/urandom of=$k bs=1k count=$kb conv=fsync 2>/dev/null
    fi
    sha256sum $k >$k.tmp && sync && mv $k.tmp $k.sha
    # Unsynced data, rewritten and deleted: the page cache is busy at the kill.
    dd if=/dev/urandom of=junk$((r % 4)) bs=64k count=$((RANDOM % 16 + 1)) 2>/dev/null
    [ $((r % 5)) = 0 ] && rm -f junk$((RANDOM % 4))
    i=$((i + 1))
done
EOF

cd "$tmp" || exit 1
"$src/guest/mkdisk.sh" --size 128M --marker crash --add "$tmp/add" fs.raw >mkdisk.log 2>&1 &&
    qemu-img convert -f raw -O qcow2 fs.raw a.qcow2 &&
    $img create -f qcow2 -o cluster_size=4096 b.qcow2 128M >/dev/null &&
    qemu-img convert -n -f raw -O qcow2 fs.raw b.qcow2 && rm -f fs.raw ||
    { cat mkdisk.log; fail "building the images"; finish; }
check "image A (qemu-img convert) and B (rvisor img create, 4 KiB clusters) pass qemu-img check" \
    eval 'qcow2_clean a.qcow2 && qcow2_clean b.qcow2'

rand() { od -An -tu4 -N4 /dev/urandom | awk -v n="$1" '{ print $1 % n }'; }

# boot NAME IMAGE CACHE ARG: starts rvisor in the background (pid in $vm), output in NAME.out.
boot() {
    : >"$1.out"
    "$rvisor" run ${RVISOR_RUN_ARGS:-} $bios --kernel "$guest/Image" --initrd "$guest/initrd.img" \
        --mem 256M --disk "$2,format=qcow2,cache=$3" \
        --append "$(e2e_append "sh /e2e/crash.sh $4" rvisor.root=/dev/vda)" \
        </dev/null >"$1.out" 2>&1 &
    vm=$!
    e2e_pids="$e2e_pids $vm"
}

# wait_for FILE PATTERN SECONDS: until PATTERN is in FILE, or $vm has ended (status 1).
wait_for() {
    local deadline=$((SECONDS + $3))
    while [ $SECONDS -lt $deadline ]; do
        grep -q "$2" "$1" && return 0
        kill -0 "$vm" 2>/dev/null || { grep -q "$2" "$1"; return; }
        sleep 0.1
    done
    return 1
}

# Checks a crashed image: qemu-img check, rvisor img check, the filesystem after replaying
# its journal. Prints the problems; returns 1 if any.
check_crashed() {
    local q=$1 ok=0 st
    qemu-img check "$q" >qcheck.log 2>&1
    st=$?
    [ "$st" = 0 ] || [ "$st" = 3 ] || { echo "qemu-img check exit $st:"; head -20 qcheck.log; ok=1; }
    grep -q '^Leaked' qcheck.log && leaks=$((leaks + 1))
    $img check "$q" >rvcheck.log 2>&1
    st=$?
    [ "$st" = 0 ] || [ "$st" = 3 ] || { echo "rvisor img check exit $st:"; head -20 rvcheck.log; ok=1; }
    if qemu-img convert -f qcow2 -O raw "$q" crash.raw 2>convert.log; then
        e2fsck -E journal_only -y crash.raw >replay.log 2>&1
        st=$?
        if [ "$st" -gt 1 ]; then
            echo "e2fsck -E journal_only exit $st:"; tail -10 replay.log; ok=1
        elif ! e2fsck -fn crash.raw >fsck.log 2>&1; then
            echo "e2fsck -fn after journal replay:"; tail -15 fsck.log; ok=1
        fi
    else
        echo "qemu-img convert failed: $(cat convert.log)"; ok=1
    fi
    rm -f crash.raw
    return $ok
}

leaks=0
verified_total=0
for i in $(seq 1 "$iterations"); do
    if [ $((i % 2)) = 1 ]; then q=a.qcow2; else q=b.qcow2; fi
    if [ $(((i + 1) / 2 % 2)) = 1 ]; then cache=writeback; else cache=none; fi
    name="kill $i ($q, cache=$cache)"
    boot run$i "$q" "$cache" write
    if ! wait_for run$i.out '^E2E writing' 300; then
        kill -9 "$vm" 2>/dev/null
        wait "$vm" 2>/dev/null
        fail "$name: the guest never started writing"
        show run$i.out
        continue
    fi
    delay=$(rand 3800)
    delay=$(printf '%d.%03d' $(((delay + 200) / 1000)) $(((delay + 200) % 1000)))
    sleep "$delay"
    if ! kill -0 "$vm" 2>/dev/null; then
        wait "$vm"
        fail "$name: rvisor ended by itself (status $?) while the guest was writing"
        show run$i.out
        continue
    fi
    kill -9 "$vm"
    wait "$vm" 2>/dev/null
    n=$(value run$i.out verified | cut -d' ' -f1)
    bad=$(value run$i.out verified | cut -d' ' -f3)
    verified_total=$((verified_total + ${n:-0}))
    if [ "${bad:-x}" = 0 ]; then
        pass "$name: the guest mounted its root and verified all $n synced files"
    else
        fail "$name: guest verification: '$(value run$i.out verified)'"
        grep '^E2E bad\|^E2E dmesg' run$i.out | head
    fi
    if check_crashed "$q" >problems.log; then
        pass "$name after ${delay}s: qemu-img check, rvisor img check, e2fsck after journal replay"
    else
        fail "$name after ${delay}s: image inconsistent"
        cat problems.log
        cp "$q" "$tmp/corrupt-$i-$q" 2>/dev/null
    fi
done
echo "($leaks of $iterations kills left leaked clusters; $verified_total synced files verified)"

# Clean boots: recovery, verification, clean unmount; then the images as they are.
for q in a.qcow2 b.qcow2; do
    e2e_run final-$q.out 600 --mem 256M --disk "$q,format=qcow2" \
        --append "$(e2e_append 'sh /e2e/crash.sh verify' rvisor.root=/dev/vda)"
    st=$?
    if [ "$st" = 0 ] && [ "$(value final-$q.out verified | cut -d' ' -f3)" = 0 ]; then
        pass "$q: final boot verified $(value final-$q.out verified | cut -d' ' -f1) synced files, powered off"
    else
        fail "$q: final boot: status $st, '$(value final-$q.out verified)'"
        show final-$q.out
    fi
    check "$q: after a clean unmount, e2fsck -fn passes" fsck_clean "$q" qcow2
    if qcow2_clean "$q" leaks-ok; then
        qemu-img check -r leaks "$q" >repair.log 2>&1
        check "$q: qemu-img check clean (after -r leaks)" qcow2_clean "$q"
    else
        fail "$q: qemu-img check"
    fi
done
finish
