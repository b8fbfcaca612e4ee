#!/bin/sh
# Guest workload benchmark: the same busybox commands inside the same Debian kernel + busybox
# initramfs on rvisor (--accel jit, --accel interp), qemu-system-riscv64 -M virt (TCG), and the
# same busybox version natively on the host (the physical limit), on 1 and 2 harts, in one run,
# after the boot of each VM to its first userspace line (wall and CPU seconds).
# Each command is timed inside the guest (/proc/uptime, 10 ms resolution) and, as a check that
# the guest clock follows host time, also on the host between the guest's marker lines.
# Input (bench/extras.sh): 32 MiB of the guest's own files -- a tar of the kernel config, the
# busybox initramfs (busybox, modules), xz with its libraries and the kernel Image, cut at
# 32 MiB (gzip -9 makes 11 MiB of it); the 16 MiB file is its first half. Both are copied into
# a tmpfs first. busybox xz only decompresses: xz -9 is Debian trixie's xz-utils, in the guest
# (bench/extras.sh puts it into the initramfs) and natively (amd64, with its own libc).
# dd: 32 MiB from /dev/zero into a tmpfs file (bs=1M).
# The guests get 1 GiB of RAM (xz -9 needs 674 MiB).
# With BENCH_ROUNDS=N every VM runs N times, rvisor and QEMU alternately (rvisor first in odd
# rounds, QEMU first in even ones), and the table shows each figure's minimum over the rounds:
# other work on a shared host only adds time, so the minimum is the steadier figure.
# Usage: bench/guest.sh [BUILD_DIR]    env: BENCH_INTERP=1 adds the (very slow) interpreter runs,
#        BENCH_SMP="1 2" hart counts, BENCH_OPS="sha256 gzip xz9 bzip2 dd" workloads,
#        BENCH_QEMU=0 leaves QEMU out, BENCH_ROUNDS=1 runs of each VM.
set -eu
build=${1:-build}
interp=${BENCH_INTERP:-0}
smps=${BENCH_SMP:-1 2}
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../guest/apt-private.sh"
guest=$("$here/../guest/fetch-debian.sh" --print-dir)
extras=$("$here/extras.sh")
K="$guest/Image"
I="$extras/initrd.img"
cache=${RVISOR_CACHE:-$HOME/.cache/rvisor}
mirror=${RVISOR_DEBIAN_MIRROR:-http://deb.debian.org/debian}
keyring=${RVISOR_DEBIAN_KEYRING:-/usr/share/keyrings/debian-archive-keyring.gpg}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
now() { date +%s.%N; }
ops=${BENCH_OPS:-sha256 gzip xz9 bzip2 dd}
rounds=${BENCH_ROUNDS:-1}

echo "host: $(nproc) CPUs; uptime:$(uptime)"

. "$here/guest-workloads.sh"
A=$(bench_kernel_args "$ops")

instret() { # sum of instret over harts, or empty
    "$build/rvisor" ctl "$1" stats 2>/dev/null |
        awk '/"instret"/ { gsub(/[^0-9]/, ""); s += $0; n++ } END { if (n) printf "%.0f\n", s }'
}

tck=$bench_tck

# vm TAG SOCK CMD...: runs the VM, appends to $tmp/TAG.res lines "op guest_s host_s insns cpu_s":
# seconds in the guest, on the host between the marker lines, guest instructions (rvisor),
# CPU seconds the VM process used meanwhile (the fair measure on a loaded host).
vm() {
    tag=$1; sock=$2; shift 2
    pf="$tmp/$tag.pid"
    t0=$(now)
    /usr/bin/time -a -f %M -o "$tmp/$tag.rss" timeout 1800 \
        sh -c 'echo $$ >"$0"; exec "$@"' "$pf" "$@" </dev/null 2>&1 |
    while IFS= read -r line; do
        line=$(printf '%s' "$line" | tr -d '\r')
        case "$line" in
        "rvisor-guest: userspace up"*) # boot: wall seconds since the process started
            b=$(echo "$(now) - $t0" | bc -l)
            echo "boot $b $b - $(cpu "$(cat "$pf")")" >>"$tmp/$tag.res" ;;
        "BB "*) h0=$(now); i0=""; [ -z "$sock" ] || i0=$(instret "$sock"); c0=$(cpu "$(cat "$pf")") ;;
        "BE "*)
            h1=$(now); i1=""; [ -z "$sock" ] || i1=$(instret "$sock"); c1=$(cpu "$(cat "$pf")")
            set -- $line
            ins=-; [ -z "$i0" ] || [ -z "$i1" ] || ins=$((i1 - i0))
            c=-; [ "$c0" = - ] || [ "$c1" = - ] || c=$(echo "$c1 - $c0" | bc -l)
            echo "$2 $(echo "$4 - $3" | bc -l) $(echo "$h1 - $h0" | bc -l) $ins $c" >>"$tmp/$tag.res" ;;
        esac
    done
    rm -f "$sock"
}

rvisor_vms() { # N: the rvisor VMs of a round with N harts
    s="$tmp/rv$1.sock"
    vm "jit$1" "$s" "$build/rvisor" run --accel jit --smp "$1" --mem 1G --kernel "$K" \
        --initrd "$I" --api-socket "$s" --append "$A"
    if [ "$interp" != 0 ]; then
        s="$tmp/ri$1.sock"
        vm "int$1" "$s" "$build/rvisor" run --accel interp --smp "$1" --mem 1G --kernel "$K" \
            --initrd "$I" --api-socket "$s" --append "$A"
    fi
}
qemu_vm() { # N
    if [ "${BENCH_QEMU:-1}" != 0 ] && command -v qemu-system-riscv64 >/dev/null; then
        vm "qemu$1" "" qemu-system-riscv64 -M virt -smp "$1" -m 1G -nographic -kernel "$K" \
            -initrd "$I" -append "$A"
    fi
}
for round in $(seq "$rounds"); do
    for n in $smps; do
        if [ $((round % 2)) = 1 ]; then rvisor_vms "$n"; qemu_vm "$n"
        else qemu_vm "$n"; rvisor_vms "$n"; fi
    done
done

# Native: Debian trixie's amd64 busybox-static (the guest's version) and xz-utils (run through
# its own libc's loader), fetched with the same private apt setup as the guest; the host's
# busybox and xz if that fails.
gver=$(sed -n 's/^package busybox-static \([^ ]*\) .*/\1/p' "$guest/manifest")
nd="$cache/native-trixie"
if [ ! -x "$nd/busybox" ] || [ ! -x "$nd/xz" ]; then
    (apt_private "$cache/apt-bench-amd64" amd64 "$keyring" "$mirror" trixie
     mkdir -p "$tmp/ndl" "$tmp/nx" && apt-get -qq update && cd "$tmp/ndl" &&
     apt-get -qq download "busybox-static=$gver" xz-utils liblzma5 libc6 &&
     for d in ./*.deb; do dpkg-deb -x "$d" "$tmp/nx"; done && mkdir -p "$nd.new" &&
     cp "$tmp/nx/usr/bin/busybox" "$tmp/nx/usr/bin/xz" "$nd.new/" &&
     for lib in ld-linux-x86-64.so.2 libc.so.6 liblzma.so.5; do
         cp -L "$(find "$tmp/nx" -name "$lib" | head -n 1)" "$nd.new/$lib" || exit 1
     done && rm -rf "$nd" && mv "$nd.new" "$nd") >"$tmp/apt.log" 2>&1 || rm -rf "$nd.new"
fi
if [ -x "$nd/busybox" ] && [ -x "$nd/xz" ]; then
    bb="$nd/busybox"
    nxz() { "$nd/ld-linux-x86-64.so.2" --library-path "$nd" "$nd/xz" "$@"; }
    natnote="Debian trixie amd64 busybox-static $gver, xz-utils $(nxz --version | head -n 1 | sed 's/.* //')"
else
    bb=$(command -v busybox || true)
    nxz() { xz "$@"; }
    natnote="host's busybox and xz (trixie's amd64 packages could not be fetched: see below)"
fi
: >"$tmp/native.res"
if [ -n "$bb" ]; then
    d="$tmp/nat"; mkdir -p "$d"
    cp "$extras/input" "$d/f"
    head -c 16777216 "$d/f" >"$d/h"
    ccpu() { awk -v t="$tck" '{ printf "%.2f\n", ($16 + $17) / t }' "/proc/$$/stat"; }
    nrun() { n=$1; shift; c0=$(ccpu); a=$(now); "$@" >/dev/null; b=$(now); c1=$(ccpu)
        echo "$n $(echo "$b - $a" | bc -l) - - $(echo "$c1 - $c0" | bc -l)" >>"$tmp/native.res"; }
    for op in $ops; do case $op in
    sha256) nrun sha256 "$bb" sha256sum "$d/f" ;;
    gzip) nrun gzip "$bb" gzip -c "$d/f" ;;
    xz9) nrun xz9 nxz -9 -c "$d/h" ;;
    bzip2) nrun bzip2 "$bb" bzip2 -9 -c "$d/h" ;;
    dd) nrun dd "$bb" dd if=/dev/zero of=/dev/shm/rvisor-bench-dd bs=1M count=32 2>/dev/null
        rm -f /dev/shm/rvisor-bench-dd ;;
    esac; done
fi

# --- report -------------------------------------------------------------------------------
get() { # get TAG OP FIELD(2 guest s, 3 host s, 4 insns, 5 cpu s): the minimum over the
        # rounds (insns: of the round with the shortest guest time)
    [ -f "$tmp/$1.res" ] || { echo -; return; }
    v=$(awk -v o="$2" -v f="$3" '$1 == o && $f != "-" {
            k = f == 4 ? 2 : f
            if (best == "" || $k + 0 < best + 0) { best = $k; v = $f } }
        END { print v }' "$tmp/$1.res")
    echo "${v:--}"
}
fmt() { case "$1" in -|"") printf '%8s' -;; *) printf '%8.2f' "$1";; esac; }
ratio() { case "$1$2" in *-*|"") printf '%8s' -;; *) printf '%7.2fx' "$(echo "$1 / $2" | bc -l)";; esac; }
label() { case "$1" in boot) echo "boot to shell";; sha256) echo "sha256sum 32M";; gzip) echo "gzip -c 32M";;
    xz9) echo "xz -9 16M";; bzip2) echo "bzip2 -9 16M";; dd) echo "dd 32M tmpfs";; esac; }

echo
echo "guest workload, Debian $(sed -n 's/^kernel-release //p' "$guest/manifest") kernel + busybox initramfs, 1G RAM, $rounds run(s) of each VM (minimums)"
echo "input: 32 MiB tar of the guest's files (bench/extras.sh; 16 MiB = first half) in tmpfs"
echo "guest xz: $(sed -n 's/^package xz-utils //p' "$extras/manifest"); native: $natnote"
echo "s: seconds measured inside the guest (/proc/uptime, 10 ms; native: wall; boot: wall from the"
echo "VM process's start to the initramfs's first line); cpu: CPU seconds"
echo "the VM process used meanwhile; ratios are time ratios (<1: rvisor faster)"
printf '%-13s %2s %8s %8s %8s %8s %8s %8s %8s %8s %8s %8s %6s\n' workload n jit-s jit-cpu \
    interp-s qemu-s qemu-cpu nat-s nat-cpu jit/qemu cpu:j/q cpu:j/nat MIPS
for op in boot $ops; do
    for n in $smps; do
        j=$(get "jit$n" "$op" 2); jc=$(get "jit$n" "$op" 5); r=$(get "int$n" "$op" 2)
        q=$(get "qemu$n" "$op" 2); qc=$(get "qemu$n" "$op" 5)
        nt=$(get native "$op" 2); nc=$(get native "$op" 5); ins=$(get "jit$n" "$op" 4)
        mips=-; case "$ins$j" in *-*) ;; *) mips=$(echo "$ins / $j / 1000000" | bc -l);; esac
        printf '%-13s %2s %s %s %s %s %s %s %s %s %s %s %s\n' "$(label "$op")" "$n" \
            "$(fmt "$j")" "$(fmt "$jc")" "$(fmt "$r")" "$(fmt "$q")" "$(fmt "$qc")" "$(fmt "$nt")" \
            "$(fmt "$nc")" "$(ratio "$j" "$q")" "$(ratio "$jc" "$qc")" "$(ratio "$jc" "$nc")" \
            "$(case $mips in -) printf '%6s' -;; *) printf '%6.0f' "$mips";; esac)"
    done
done
echo
echo "guest clock check: guest-measured vs host-measured (between marker lines) seconds"
printf '%-14s %-8s %9s %9s\n' workload vm guest host
for f in "$tmp"/*.res; do
    t=$(basename "$f" .res); [ "$t" != native ] || continue
    while read -r op g h x c; do
        [ "$g" != - ] && [ "$op" != boot ] || continue
        printf '%-14s %-8s %9.2f %9.2f\n' "$(label "$op")" "$t" "$g" "$h"
    done <"$f"
done
echo
echo "peak RSS of the VM process (/usr/bin/time %M; the largest of the rounds)"
for f in "$tmp"/*.rss; do
    [ -f "$f" ] || continue
    printf '%-8s %8s MiB\n' "$(basename "$f" .rss)" \
        "$(awk '$NF ~ /^[0-9]+$/ && $NF > m { m = $NF } END { printf "%.0f", m / 1024 }' "$f")"
done
[ -x "$nd/busybox" ] || { echo; cat "$tmp/apt.log" 2>/dev/null || true; }
