#!/bin/sh
# Seed corpus for tests/fuzz/fuzz_vol: the first 16 KiB of PVs written by `rvisor vol` (label and
# a small metadata area, with linear, striped and mirror LVs), each after the mode bytes 0 and 2,
# and their metadata payloads (JSON) after mode byte 1.
# Usage: make-fuzz-seeds.sh RVISOR OUT_DIR
set -eu
R=$1
OUT=$2
mkdir -p "$OUT"
T=$(mktemp -d /tmp/rvvol-seeds.XXXXXX)
trap 'rm -rf "$T"' EXIT
export RVISOR_VOL_DEVICES=$T/devices
for i in 0 1 2; do truncate -s 8M "$T/pv$i"; done
"$R" vol pv-create "$T/pv0" "$T/pv1" "$T/pv2" --mda-size 8K
"$R" vol vg-create vg "$T/pv0" "$T/pv1" --extent-size 64K
head -c 16384 "$T/pv0" > "$T/empty"
"$R" vol vg-extend vg "$T/pv2"
"$R" vol lv-create vg/lin --size 1M
"$R" vol lv-create vg/str --size 600K --stripes 3 --stripe-size 16K
"$R" vol lv-create vg/mir --size 256K --mirrors 1
"$R" vol lv-resize vg/lin --size 3M
"$R" vol lv-create vg/pool --thin-pool --size 1M --chunk-size 16K --metadata-size 128K
"$R" vol lv-create vg/thin --thin --pool pool --size 4M
"$R" vol lv-snapshot vg/thin --name snap
n=0
for f in "$T/empty" "$T/pv0" "$T/pv2"; do
    for m in 0 2; do
        { printf "\\$(printf %03o $m)"; head -c 16384 "$f"; } > "$OUT/pv-$n-$m"
    done
    # the newest payload: slot 1 (4 KiB each, payload after the 512-byte header) or slot 0
    for slot in 0 1; do
        { printf '\001'; dd if="$f" bs=1 skip=$((4096 + slot * 4096 + 512)) count=3584 \
            status=none | tr -d '\000'; } > "$OUT/json-$n-$slot"
    done
    n=$((n + 1))
done
# thin pool metadata slots (mode 4): the pool's metadata area, found through `lvs --json`
"$R" vol lvs --json | python3 -c '
import json, sys
pool = [r for r in json.load(sys.stdin) if r["lv"] == "pool"][0]
run = pool["areas"][1]["runs"][0]
print(run["pv"], run["pe"])' | while read -r pv pe; do
    start=$(( $(head -c 512 "$pv" | od -An -tu8 -j56 -N8) + pe * 65536 ))
    for slot in 0 1; do
        { printf '\004'; dd if="$pv" bs=1 skip=$((start + slot * 65536)) count=4096 status=none; } \
            > "$OUT/thin-$slot"
    done
done
