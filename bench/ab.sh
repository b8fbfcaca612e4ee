#!/bin/bash
# A/B comparison of two rvisor builds on the guest workloads of bench/guest.sh, for judging a
# translator change on a busy host: the two builds run one after the other, ROUNDS times
# (A B, B A, A B ...), so that both see the same load; for each workload it prints every
# round's CPU seconds (user + system of the VM process between the guest's marker lines), the
# medians and B/A, and the minimums and their B/A (interference from other work only adds
# time, so the minimum is the steadier figure on a shared host). The JIT statistics of each
# run (RVISOR_JIT_STATS=1: slow-path loads and stores, dispatcher exits ...) are counts, not
# times, and do not depend on the load: they are kept in $AB_OUT (default /tmp/rvisor-ab) as
# A.N.log and B.N.log.
# Usage: bench/ab.sh BUILD_A BUILD_B [ROUNDS]
#   env: AB_OPS="gzip xz4" workloads (sha256 gzip xz9 xz4 bzip2 dd; xz4 = xz -9 of 4 MiB),
#        AB_SMP=1 harts, AB_OUT output directory
set -eu
a=$1; b=$2; rounds=${3:-3}
ops=${AB_OPS:-gzip xz4}
smp=${AB_SMP:-1}
out=${AB_OUT:-/tmp/rvisor-ab}
here=$(cd "$(dirname "$0")" && pwd)
guest=$("$here/../guest/fetch-debian.sh" --print-dir)
extras=$("$here/extras.sh")
mkdir -p "$out"
rm -f "$out"/*.log "$out"/*.res

. "$here/guest-workloads.sh"
args=$(bench_kernel_args "$ops")

# one BUILD TAG: runs the VM once, appends "op cpu_s" lines to $out/TAG.res
one() {
    local build=$1 tag=$2 log="$out/$2.$3.log" pidf="$out/pid"
    rm -f "$pidf"
    RVISOR_JIT_STATS=1 bash -c 'echo $$ >"$0"; exec "$@"' "$pidf" "$build/rvisor" run \
        --smp "$smp" --mem 1G --kernel "$guest/Image" --initrd "$extras/initrd.img" \
        --append "$args" </dev/null 2>&1 | tee "$log" | {
        local pid="" c0=0 line
        while IFS= read -r line; do
            line=${line%$'\r'}
            # the VM wrote its pid before its first line of output
            [ -n "$pid" ] || pid=$(cat "$pidf")
            case "$line" in
            "rvisor-guest: userspace up"*) echo "boot $(cpu "$pid")" >>"$out/$tag.res" ;;
            "BB "*) c0=$(cpu "$pid") ;;
            "BE "*) set -- $line; echo "$2 $(echo "$(cpu "$pid") - $c0" | bc)" >>"$out/$tag.res" ;;
            esac
        done
    }
}

# A B, then B A, ...: whichever runs second in a pair (a warmer host page cache, a load that
# changed in between) is not always the same build
for i in $(seq "$rounds"); do
    if [ $((i % 2)) = 1 ]; then
        one "$a" A "$i"
        one "$b" B "$i"
    else
        one "$b" B "$i"
        one "$a" A "$i"
    fi
done

median() { sort -n | awk '{ v[NR] = $1 } END { if (NR % 2) print v[(NR + 1) / 2];
    else printf "%.2f\n", (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
echo "A: $a"
echo "B: $b"
echo "CPU seconds per round (host load: $(cut -d' ' -f1-3 /proc/loadavg))"
printf '%-8s %-36s %-36s %6s %6s %6s %6s %6s %6s\n' op "A rounds" "B rounds" "A med" "B med" \
    "B/A" "A min" "B min" "B/A"
for op in boot $ops; do
    ra=$(awk -v o="$op" '$1 == o { printf "%s ", $2 }' "$out/A.res")
    rb=$(awk -v o="$op" '$1 == o { printf "%s ", $2 }' "$out/B.res")
    ma=$(echo $ra | tr ' ' '\n' | median); na=$(echo $ra | tr ' ' '\n' | sort -n | head -1)
    mb=$(echo $rb | tr ' ' '\n' | median); nb=$(echo $rb | tr ' ' '\n' | sort -n | head -1)
    printf '%-8s %-36s %-36s %6s %6s %6.3f %6s %6s %6.3f\n' "$op" "$ra" "$rb" "$ma" "$mb" \
        "$(echo "$mb / $ma" | bc -l)" "$na" "$nb" "$(echo "$nb / $na" | bc -l)"
done
echo "JIT statistics of each run: $out/{A,B}.N.log (last line)"
