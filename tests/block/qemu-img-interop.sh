#!/bin/sh
# qcow2 interoperability between rvisor and qemu-img (Debian's qemu-utils):
#  - images written by qemu-img/qemu-io (cluster sizes, refcount widths, backing chains,
#    compressed clusters, version 2, internal snapshots, lazy refcounts left dirty) read in
#    rvisor exactly as `qemu-img convert -O raw` reads them;
#  - images written by rvisor (new ones, and qemu's, and overlays of both) pass
#    `qemu-img check` (no errors, no leaks) and `qemu-img compare` against a raw mirror of the
#    expected contents, and `rvisor img check` agrees;
#  - `rvisor img` create/info/check behave (exit statuses, leak repair).
# Usage: qemu-img-interop.sh BUILD_DIR   (the directory holding blkcat, blkwrite, rvimg)
set -u
B=${1:?usage: qemu-img-interop.sh BUILD_DIR}
T=$(mktemp -d /tmp/rvblk-interop.XXXXXX)
trap 'rm -rf "$T"' EXIT
cd "$T" || exit 1
pass=0
fail=0

ok() { pass=$((pass + 1)); }
bad() { fail=$((fail + 1)); echo "FAIL: $*" >&2; }
# expect CMD... : the command must succeed
expect() { if "$@" >/dev/null 2>err.txt; then ok; else bad "$* ($(head -c 300 err.txt))"; fi; }
# expect_status N CMD... : the command must exit with status N
expect_status() {
    want=$1; shift
    "$@" >out.txt 2>err.txt; got=$?
    if [ "$got" -eq "$want" ]; then ok; else bad "$* exited $got, expected $want ($(head -c 300 err.txt))"; fi
}

# rvisor reads IMAGE exactly as qemu-img does.
same_as_qemu() {
    img=$1
    if ! qemu-img convert -O raw "$img" ref.raw 2>err.txt; then bad "qemu-img convert $img"; return; fi
    if ! "$B/blkcat" "$img" > got.raw 2>err.txt; then bad "blkcat $img: $(cat err.txt)"; return; fi
    if cmp -s ref.raw got.raw; then ok; else bad "rvisor reads $img differently from qemu-img"; fi
}

# IMAGE (written by rvisor) is clean for qemu-img and for rvisor, and holds MIRROR's content.
clean_and_equal() {
    img=$1 mirror=$2
    expect_status 0 qemu-img check "$img"
    [ "$(cat out.txt | grep -c 'No errors')" = 1 ] || { cat out.txt >&2; bad "qemu-img check $img not clean"; }
    expect_status 0 "$B/rvimg" check "$img"
    expect qemu-img compare -F raw "$img" "$mirror"
}

# rvisor writes OPS random operations into IMAGE (whose contents qemu-img knows), then checks.
write_and_check() {
    img=$1 seed=$2 ops=$3 cache=${4:-writeback}
    qemu-img convert -O raw "$img" mirror.raw || { bad "convert $img"; return; }
    if "$B/blkwrite" mirror "$img" mirror.raw "$seed" "$ops" "$cache" 2>err.txt; then ok
    else bad "blkwrite mirror $img: $(cat err.txt)"; return; fi
    clean_and_equal "$img" mirror.raw
}

pattern() { # pattern IMAGE: qemu-io writes across cluster boundaries, zeroes, discards
    qemu-io -t unsafe -f qcow2 \
        -c "write -P 0x11 0 3M" -c "write -P 0x22 3100k 1500k" -c "write -P 0x33 9000k 4k" \
        -c "write -z 1M 512k" -c "discard 2M 128k" -c "write -P 0x44 12345k 70k" \
        -c "write -P 0x55 20M 64k" "$1" >/dev/null
}

echo "== qemu-img images read by rvisor"
for cs in 512 4096 65536 2M; do
    for rb in 1 16 64; do
        qemu-img create -q -f qcow2 -o cluster_size=$cs,refcount_bits=$rb q.qcow2 24M
        pattern q.qcow2
        same_as_qemu q.qcow2
        expect_status 0 "$B/rvimg" check q.qcow2
        write_and_check q.qcow2 "$cs$rb" 60 unsafe   # rvisor writes with these refcounts
    done
done
# version 2 (read-only in rvisor)
qemu-img create -q -f qcow2 -o compat=0.10 v2.qcow2 8M && pattern v2.qcow2 2>/dev/null
qemu-io -t unsafe -f qcow2 -c "write -P 0x66 0 1M" v2.qcow2 >/dev/null
same_as_qemu v2.qcow2
expect_status 0 "$B/rvimg" check v2.qcow2
expect_status 1 "$B/blkwrite" mirror v2.qcow2 ref.raw 1 1   # refused for writing
# compressed clusters (convert -c), several cluster sizes
head -c 8M /dev/urandom > rnd.raw
for cs in 4096 65536 1M; do
    qemu-img create -q -f qcow2 src.qcow2 24M && pattern src.qcow2
    qemu-io -t unsafe -f qcow2 -c "write -P 0x77 16M 2M" src.qcow2 >/dev/null
    qemu-img convert -c -O qcow2 -o cluster_size=$cs src.qcow2 comp.qcow2
    same_as_qemu comp.qcow2
    expect_status 0 "$B/rvimg" check comp.qcow2
    # rvisor writes over compressed clusters (copy-on-write out of them)
    write_and_check comp.qcow2 $cs 300
done
qemu-img convert -c -O qcow2 -f raw rnd.raw crnd.qcow2   # incompressible data
same_as_qemu crnd.qcow2
# backing chains: raw <- qcow2 <- qcow2, relative names, backing shorter than the overlay
head -c 5M /dev/urandom > base.raw
qemu-img create -q -f qcow2 -b base.raw -F raw mid.qcow2 24M
qemu-io -t unsafe -f qcow2 -c "write -P 0x88 4M 2M" -c "write -z 0 64k" mid.qcow2 >/dev/null
mkdir -p sub
qemu-img create -q -f qcow2 -b ../mid.qcow2 -F qcow2 sub/top.qcow2
qemu-io -t unsafe -f qcow2 -c "write -P 0x99 4500k 100k" -c "write -P 0xaa 23M 1M" sub/top.qcow2 >/dev/null
same_as_qemu sub/top.qcow2
same_as_qemu mid.qcow2
write_and_check sub/top.qcow2 7 400
expect qemu-img check mid.qcow2   # the lower images are untouched
# internal snapshots: readable, check counts snapshot references, writing refused
qemu-img create -q -f qcow2 snap.qcow2 8M && qemu-io -c "write -P 1 0 2M" snap.qcow2 >/dev/null
qemu-img snapshot -c s1 snap.qcow2 && qemu-io -c "write -P 2 1M 2M" snap.qcow2 >/dev/null
same_as_qemu snap.qcow2
expect_status 0 "$B/rvimg" check snap.qcow2
expect_status 1 "$B/blkwrite" mirror snap.qcow2 ref.raw 1 1
# lazy refcounts left dirty by a crashed qemu-io: rvisor repairs them when opening to write
qemu-img create -q -f qcow2 -o lazy_refcounts=on dirty.qcow2 8M
qemu-io -c "write -P 3 0 1M" -c "write -P 4 3M 200k" -c abort dirty.qcow2 >/dev/null 2>&1
expect_status 0 "$B/rvimg" info dirty.qcow2
grep -q "dirty: true" out.txt && ok || bad "dirty bit not reported"
same_as_qemu dirty.qcow2                       # read-only: fine while dirty
write_and_check dirty.qcow2 3 100              # repaired on open, then written
"$B/rvimg" info dirty.qcow2 | grep -q "dirty: false" && ok || bad "dirty bit not cleared"

echo "== rvisor images checked by qemu-img"
for cs in 512 4096 65536 2M; do
    expect "$B/rvimg" create -o cluster_size=$cs r.qcow2 20M
    expect_status 0 qemu-img check r.qcow2
    ops=250
    [ "$cs" = 512 ] && ops=100   # tiny clusters: lots of small metadata I/O (O_DIRECT)
    for cache in writeback unsafe none; do
        write_and_check r.qcow2 "$cs$cache" $ops $cache
    done
    same_as_qemu r.qcow2
done
# rvisor overlays on qemu and rvisor images, and qemu reading them
expect "$B/rvimg" create -b mid.qcow2 -F qcow2 rtop.qcow2
qemu-img info rtop.qcow2 | grep -q "backing file format: qcow2" && ok || bad "backing format"
same_as_qemu rtop.qcow2
write_and_check rtop.qcow2 11 400
expect "$B/rvimg" create -o cluster_size=4096 -b rtop.qcow2 rtop2.qcow2 30M
same_as_qemu rtop2.qcow2
write_and_check rtop2.qcow2 12 300
# big writes: refcount blocks and the refcount table grow (512-byte clusters: one table
# cluster covers 8 MiB of file)
expect "$B/rvimg" create -o cluster_size=512 grow.qcow2 40M
truncate -s 40M grow.raw
expect "$B/blkwrite" mirror grow.qcow2 grow.raw 99 1200 unsafe
clean_and_equal grow.qcow2 grow.raw
rtc=$(od -An -tu1 -j56 -N4 grow.qcow2 | awk '{print $1*16777216+$2*65536+$3*256+$4}')
[ "$rtc" -gt 1 ] && ok || bad "the refcount table did not grow ($rtc clusters)"

echo "== rvisor img"
expect_status 0 "$B/rvimg" info sub/top.qcow2
grep -q "backing file: ../mid.qcow2" out.txt && grep -q "image: sub/../mid.qcow2" out.txt \
    && grep -q "image: sub/../base.raw" out.txt && ok || bad "info does not show the chain"
expect_status 1 "$B/rvimg" info missing.qcow2
expect_status 1 "$B/rvimg" create x.qcow2 12Q
expect_status 1 "$B/rvimg" create -o cluster_size=1000 x.qcow2 1M
expect_status 1 "$B/rvimg" bogus
expect_status 63 "$B/rvimg" check base.raw
expect "$B/rvimg" create -f raw x.raw 3M
[ "$(stat -c %s x.raw)" = 3145728 ] && ok || bad "raw create size"
# leaks: made by hand (a refcount raised without a reference), found by both, repaired
expect "$B/rvimg" create leak.qcow2 4M
qemu-io -c "write -P 5 0 256k" leak.qcow2 >/dev/null
size=$(stat -c %s leak.qcow2)
truncate -s $((size + 65536)) leak.qcow2
# refcount block is the third cluster of an rvisor image; entry = cluster index * 2
cl=$((size / 65536))
printf '\000\001' | dd of=leak.qcow2 bs=1 seek=$((2 * 65536 + cl * 2)) conv=notrunc status=none
expect_status 3 qemu-img check leak.qcow2
expect_status 3 "$B/rvimg" check leak.qcow2
grep -q "Leaked cluster $cl refcount=1 reference=0" out.txt && ok || bad "leak not reported"
expect_status 0 "$B/rvimg" check -r leaks leak.qcow2
expect_status 0 qemu-img check leak.qcow2
# corruption: a refcount dropped to zero under a referenced cluster
printf '\000\000' | dd of=leak.qcow2 bs=1 seek=$((2 * 65536 + 4 * 2)) conv=notrunc status=none
expect_status 2 qemu-img check leak.qcow2
expect_status 2 "$B/rvimg" check leak.qcow2
expect_status 0 "$B/rvimg" check -r all leak.qcow2
expect_status 0 qemu-img check leak.qcow2

echo "qemu-img interop: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
