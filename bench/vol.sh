#!/bin/sh
# Volume throughput on the host (bench/vol_bench.c through rvisor's block layer): a raw file,
# then linear, striped (3 PVs), thin (fresh: every write allocates) and a thin snapshot of it
# (every first write copies on write), and the linear LV again as the origin of a snapshot (every
# first write of a chunk copies its old contents into the snapshot and commits the pool before
# the write), all on the same file system (TMPDIR).
# Usage: bench/vol.sh [BUILD_DIR [SIZE_MIB]]
set -eu
build=${1:-build}
size=${2:-256}
cmake --build "$build" --target vol_bench rvisor >/dev/null
t=$(mktemp -d "${TMPDIR:-/var/tmp}/rvisor-volbench.XXXXXX")
trap 'rm -rf "$t"' EXIT
export RVISOR_VOL_DEVICES=$t/devices
r="$build/rvisor"
vb="$build/bench/vol_bench"
pv=$(( size * 3 + 64 ))
for i in 0 1 2; do truncate -s "${pv}M" "$t/pv$i"; done
truncate -s "${size}M" "$t/raw.img"
$r vol pv-create "$t/pv0" "$t/pv1" "$t/pv2" >/dev/null
$r vol vg-create vg "$t/pv0" "$t/pv1" "$t/pv2" --extent-size 4M
$r vol lv-create vg/linear --size "${size}M"
$r vol lv-create vg/striped --size "${size}M" --stripes 3 --stripe-size 64K
$r vol lv-create vg/pool --thin-pool --size "$(( size * 3 + 16 ))M"
$r vol lv-create vg/thin --thin --pool pool --size "${size}M"
"$vb" "$t/raw.img" "$size"
"$vb" vol:vg/linear "$size"
"$vb" vol:vg/striped "$size"
"$vb" vol:vg/thin "$size"
$r vol lv-snapshot vg/thin --name snap
"$vb" vol:vg/snap "$size"
$r vol lv-snapshot vg/linear --name lsnap --pool pool
"$vb" vol:vg/linear "$size"
# The NBD server, one request in flight (qemu-img bench, 4 KiB): per-request latency over TCP.
if command -v qemu-img >/dev/null; then
    port=$(( 20000 + $$ % 20000 ))
    $r vol serve --nbd "127.0.0.1:$port" 2>/dev/null &
    srv=$!
    sleep 1
    for mode in read write; do
        w=''; [ $mode = write ] && w=-w
        s=$(qemu-img bench $w -f raw -c 2000 -d 1 -s 4096 "nbd://127.0.0.1:$port/vg/linear" |
            sed -n 's/Run completed in \([0-9.]*\) seconds./\1/p')
        echo "nbd qd1 4k $mode: 2000 requests in $s s ($(echo "$s" | awk '{printf "%.0f", $1 / 2000 * 1e6}') us each)"
    done
    kill $srv
fi
