#!/bin/sh
# Seed corpus for tests/fuzz/fuzz_qcow2: small qcow2 images (different cluster sizes, data,
# zero and discarded clusters, a backing file name, and with qemu-img when available,
# compressed clusters, internal snapshots and lazy refcounts), each prefixed with the target's
# mode byte.
# Usage: make-fuzz-seeds.sh BUILD_DIR OUT_DIR   (BUILD_DIR holds rvimg and blkwrite)
set -eu
B=$1
OUT=$2
mkdir -p "$OUT"
T=$(mktemp -d /tmp/rvblk-seeds.XXXXXX)
trap 'rm -rf "$T"' EXIT
n=0
seed() { # seed IMAGE: writes it with a few mode bytes
    for m in 0 1 2 12; do
        printf "\\$(printf %03o "$m")" > "$OUT/seed-$n-$m"
        cat "$1" >> "$OUT/seed-$n-$m"
    done
    n=$((n + 1))
}
for cs in 512 1024 4096; do
    "$B/rvimg" create -o cluster_size=$cs "$T/a.qcow2" 256K >/dev/null
    seed "$T/a.qcow2"
    truncate -s 256K "$T/m.raw"
    "$B/blkwrite" mirror "$T/a.qcow2" "$T/m.raw" $cs 12 unsafe
    seed "$T/a.qcow2"
done
"$B/rvimg" create -o cluster_size=512 -f raw "$T/base.raw" 64K >/dev/null
"$B/rvimg" create -o cluster_size=512 -b base.raw -F raw "$T/b.qcow2" 128K >/dev/null
seed "$T/b.qcow2"
if command -v qemu-img >/dev/null 2>&1; then
    qemu-img create -q -f qcow2 -o cluster_size=512 "$T/q.qcow2" 128K
    qemu-io -c "write -P 7 0 20k" -c "write -z 30k 4k" "$T/q.qcow2" >/dev/null
    qemu-img convert -c -O qcow2 -o cluster_size=512 "$T/q.qcow2" "$T/c.qcow2"
    seed "$T/c.qcow2"
    qemu-img snapshot -c s "$T/q.qcow2"
    seed "$T/q.qcow2"
    qemu-img create -q -f qcow2 -o cluster_size=512,lazy_refcounts=on "$T/d.qcow2" 64K
    qemu-io -c "write -P 9 0 8k" -c abort "$T/d.qcow2" >/dev/null 2>&1 || true
    seed "$T/d.qcow2"
    qemu-img create -q -f qcow2 -o cluster_size=512,refcount_bits=1 "$T/r.qcow2" 64K
    qemu-io -c "write -P 9 0 8k" "$T/r.qcow2" >/dev/null
    seed "$T/r.qcow2"
fi
