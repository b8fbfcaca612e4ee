#!/bin/bash
# VM state benchmarks (docs/state.md), never part of the tests:
#  - snapshot time and file size, compressed and --mappable, and restore time, for a 256 MiB
#    and a 2 GiB Debian guest with a quarter of its RAM filled with random data;
#  - live migration on loopback (total time, downtime, bytes) for an idle and a busy guest;
#  - 10 clones from one mappable snapshot: restore time each, and their summed RSS and PSS
#    (PSS counts shared pages once across the clones).
# Usage: bench/state.sh [BUILD_DIR]
set -u
build=${1:-build}
rvisor=$(cd "$build" && pwd)/rvisor
guest=${RVISOR_CACHE:-$HOME/.cache/rvisor}/debian
tmp=$(mktemp -d)
pids=""
cleanup() { for p in $pids; do kill -9 "$p" 2>/dev/null; done; rm -rf "$tmp"; }
trap cleanup EXIT
port=$((30000 + $$ % 20000))

b64() { printf '%s' "$1" | base64 -w0; }
wait_for() { # FILE PATTERN SECONDS
    local i=0
    while ! grep -q "$2" "$1" 2>/dev/null && [ $i -lt $(($3 * 10)) ]; do sleep 0.1; i=$((i + 1)); done
    grep -q "$2" "$1" 2>/dev/null
}
start_guest() { # NAME MEM_MIB SCRIPT: a guest with an API socket $tmp/NAME.sock
    "$rvisor" run --kernel "$guest/Image" --initrd "$guest/initrd.img" --mem "$2M" \
        --append "console=ttyS0 quiet rvisor.cmd64=$(b64 "$3")" --console "file:$tmp/$1.con" \
        --api-socket "$tmp/$1.sock" </dev/null >"$tmp/$1.out" 2>&1 &
    pids="$pids $!"
    eval "${1}_pid=$!"
}
ms_of() { sed -n "s/.*$1 \([0-9.]*\) ms.*/\1/p" | head -1; }

echo "== snapshot and restore (guest RAM a quarter random data) =="
printf '%-8s %-10s %12s %12s %12s\n' RAM format snapshot_ms file_MiB restore_ms
for mem in 256 2048; do
    fill=$((mem / 4))
    start_guest g$mem $mem "mkdir -p /t; mount -t tmpfs -o size=${fill}M none /t
dd if=/dev/urandom of=/t/fill bs=1M count=$((fill - 8)) 2>/dev/null; echo filled; sleep 100000"
    eval pid=\$g${mem}_pid
    wait_for "$tmp/g$mem.con" filled 600 || { echo "guest $mem MiB did not fill its RAM"; continue; }
    for fmt in compressed mappable; do
        extra=""
        [ $fmt = mappable ] && extra=--mappable
        out=$("$rvisor" snapshot "$tmp/g$mem.sock" "$tmp/s$mem-$fmt.rvs" $extra 2>&1)
        snap_ms=$(echo "$out" | sed -n 's/.*, \([0-9]*\) ms$/\1/p')
        size=$(du -m --apparent-size "$tmp/s$mem-$fmt.rvs" | cut -f1)
        [ $fmt = mappable ] && size="$size ($(du -m "$tmp/s$mem-$fmt.rvs" | cut -f1) on disk)"
        "$rvisor" restore "$tmp/s$mem-$fmt.rvs" --console none --api-socket "$tmp/r.sock" \
            </dev/null >"$tmp/r.out" 2>&1 &
        rp=$!
        wait_for "$tmp/r.out" restored 120
        restore_ms=$(ms_of in <"$tmp/r.out")
        "$rvisor" ctl "$tmp/r.sock" kill >/dev/null 2>&1
        wait $rp 2>/dev/null
        printf '%-8s %-10s %12s %12s %12s\n' "${mem}M" $fmt "$snap_ms" "$size" "$restore_ms"
    done
    kill -9 $pid 2>/dev/null
    wait $pid 2>/dev/null
done

echo
echo "== live migration on loopback (256 MiB guest) =="
printf '%-6s %10s %12s %12s %8s\n' guest total_ms downtime_ms MiB_sent rounds
for kind in idle busy; do
    if [ $kind = idle ]; then
        script='echo ready; sleep 100000'
    else
        script='echo ready; while true; do dd if=/dev/urandom of=/tmp/f bs=1M count=16 2>/dev/null; done'
    fi
    start_guest m$kind 256 "$script"
    wait_for "$tmp/m$kind.con" ready 120
    port=$((port + 1))
    "$rvisor" run --incoming "tcp:127.0.0.1:$port" --console none --api-socket "$tmp/d.sock" \
        </dev/null >"$tmp/d.out" 2>&1 &
    dp=$!
    pids="$pids $dp"
    sleep 0.3
    line=$("$rvisor" migrate "$tmp/m$kind.sock" --to "tcp:127.0.0.1:$port" 2>&1 | tail -1)
    total=$(echo "$line" | sed -n 's/.*migrated in \([0-9]*\) ms.*/\1/p')
    down=$(echo "$line" | sed -n 's/.*downtime \([0-9]*\) ms.*/\1/p')
    bytes=$(echo "$line" | sed -n 's/.*, \([0-9]*\) bytes.*/\1/p')
    rounds=$(echo "$line" | sed -n 's/.* in \([0-9]*\) rounds.*/\1/p')
    printf '%-6s %10s %12s %12s %8s\n' $kind "$total" "$down" "$((${bytes:-0} / 1048576))" "$rounds"
    "$rvisor" ctl "$tmp/d.sock" kill >/dev/null 2>&1
    wait $dp 2>/dev/null
done

echo
echo "== 10 clones from one mappable snapshot (256 MiB guest, 64 MiB random data) =="
clone_pids=""
for k in $(seq 1 10); do
    "$rvisor" restore "$tmp/s256-mappable.rvs" --clone --console none </dev/null \
        >"$tmp/c$k.out" 2>&1 &
    clone_pids="$clone_pids $!"
    pids="$pids $!"
    wait_for "$tmp/c$k.out" restored 60
done
sleep 2
rss=0
pss=0
for p in $clone_pids; do
    r=$(awk '/^Rss:/ {print $2}' /proc/$p/smaps_rollup)
    s=$(awk '/^Pss:/ {print $2}' /proc/$p/smaps_rollup)
    rss=$((rss + r))
    pss=$((pss + s))
done
printf 'clone restore ms: %s\n' "$(for k in $(seq 1 10); do ms_of in <"$tmp/c$k.out"; done | tr '\n' ' ')"
printf 'summed RSS %d MiB, summed PSS %d MiB (RAM of each guest: 256 MiB)\n' $((rss / 1024)) $((pss / 1024))
for p in $clone_pids; do kill -9 $p; wait $p; done 2>/dev/null
