#!/bin/sh
# Guest workload benchmark: the same busybox commands inside the same Debian kernel + busybox
# initramfs on rvisor (--accel jit, --accel interp), qemu-system-riscv64 -M virt (TCG), and the
# same busybox version natively on the host (the physical limit), on 1 and 2 harts, in one run.
# Each command is timed inside the guest (/proc/uptime, 10 ms resolution) and, as a check that
# the guest clock follows host time, also on the host between the guest's marker lines.
# Input: text (seq 1 200000, first 1 MiB, repeated to 32 MiB; 16 MiB = its first half), made in
# the guest's tmpfs. busybox xz only decompresses; the row is skipped then and bzip2 -9 of the
# 16 MiB file is timed instead.
# Usage: bench/guest.sh [BUILD_DIR]    env: BENCH_INTERP=1 adds the (very slow) interpreter runs,
#        BENCH_SMP="1 2" hart counts.
set -eu
build=${1:-build}
interp=${BENCH_INTERP:-0}
smps=${BENCH_SMP:-1 2}
guest=$(guest/fetch-debian.sh --print-dir)
K="$guest/Image"
I="$guest/initrd.img"
cache=${RVISOR_CACHE:-$HOME/.cache/rvisor}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
now() { date +%s.%N; }
ops="sha256 gzip xz9 bzip2"

echo "host: $(nproc) CPUs; uptime:$(uptime)"

# The guest script; prints "BB name" before and "BE name t0 t1" (guest /proc/uptime) after.
script='t(){ read u x </proc/uptime;echo $u;}
r(){ n=$1;shift;echo BB $n;a=$(t);"$@" >/dev/null;b=$(t);echo BE $n $a $b;}
mount -t tmpfs -o size=128M tmpfs /tmp
seq 1 200000|head -c 1048576 >/tmp/c
for i in $(seq 32);do cat /tmp/c;done >/tmp/f
head -c 16777216 /tmp/f >/tmp/h
r sha256 sha256sum /tmp/f
r gzip gzip -c /tmp/f
if echo a|xz -9 -c >/dev/null 2>&1;then r xz9 xz -9 -c /tmp/h;else echo NOXZ;fi
r bzip2 bzip2 -9 -c /tmp/h'
A="console=ttyS0 quiet rvisor.cmd64=$(printf '%s' "$script" | base64 -w0)"

instret() { # sum of instret over harts, or empty
    "$build/rvisor" ctl "$1" stats 2>/dev/null |
        awk '/"instret"/ { gsub(/[^0-9]/, ""); s += $0; n++ } END { if (n) printf "%.0f\n", s }'
}

# vm TAG SOCK CMD...: runs the VM, writes $tmp/TAG.res lines "op guest_s host_s insns".
vm() {
    tag=$1; sock=$2; shift 2
    : >"$tmp/$tag.res"
    /usr/bin/time -f %M -o "$tmp/$tag.rss" timeout 1800 "$@" </dev/null 2>&1 |
    while IFS= read -r line; do
        line=$(printf '%s' "$line" | tr -d '\r')
        case "$line" in
        "BB "*) h0=$(now); i0=""; [ -z "$sock" ] || i0=$(instret "$sock") ;;
        "BE "*)
            h1=$(now); i1=""; [ -z "$sock" ] || i1=$(instret "$sock")
            set -- $line
            ins=-; [ -z "$i0" ] || [ -z "$i1" ] || ins=$((i1 - i0))
            echo "$2 $(echo "$4 - $3" | bc -l) $(echo "$h1 - $h0" | bc -l) $ins" >>"$tmp/$tag.res" ;;
        NOXZ) echo "xz9 - - -" >>"$tmp/$tag.res" ;;
        esac
    done
    rm -f "$sock"
}

for n in $smps; do
    s="$tmp/rv$n.sock"
    vm "jit$n" "$s" "$build/rvisor" run --accel jit --smp "$n" --mem 512M --kernel "$K" \
        --initrd "$I" --api-socket "$s" --append "$A"
    if [ "$interp" != 0 ]; then
        s="$tmp/ri$n.sock"
        vm "int$n" "$s" "$build/rvisor" run --accel interp --smp "$n" --mem 512M --kernel "$K" \
            --initrd "$I" --api-socket "$s" --append "$A"
    fi
    if command -v qemu-system-riscv64 >/dev/null; then
        vm "qemu$n" "" qemu-system-riscv64 -M virt -smp "$n" -m 512M -nographic -kernel "$K" \
            -initrd "$I" -append "$A"
    fi
done

# Native: Debian's amd64 busybox-static, the guest's version (trixie) if it can be fetched with a
# private apt (as guest/fetch-debian.sh does), else the host's suite's version.
gver=$(sed -n 's/^package busybox-static \([^ ]*\) .*/\1/p' "$guest/manifest")
bb=""; bbnote=""
if command -v busybox >/dev/null && busybox 2>&1 | head -1 | grep -q "Debian $gver)"; then
    bb=$(command -v busybox)
fi
nd="$cache/native-busybox"
if [ -z "$bb" ] && [ -x "$nd/bin/busybox" ]; then bb="$nd/bin/busybox"; fi
if [ -z "$bb" ]; then
    ad="$tmp/apt"
    mkdir -p "$ad/lists/partial" "$ad/cache/archives/partial" "$ad/empty" "$ad/dl"
    : >"$ad/status"
    echo "deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] http://deb.debian.org/debian trixie main" >"$ad/sources.list"
    cat >"$ad/apt.conf" <<EOF
Dir::Etc::Main "/dev/null";
Dir::Etc::Parts "$ad/empty";
Dir::Etc::SourceList "$ad/sources.list";
Dir::Etc::SourceParts "$ad/empty";
Dir::Etc::Preferences "/dev/null";
Dir::Etc::PreferencesParts "$ad/empty";
Dir::Etc::Trusted "/dev/null";
Dir::Etc::TrustedParts "$ad/empty";
Dir::State "$ad";
Dir::State::Lists "$ad/lists";
Dir::State::status "$ad/status";
Dir::Cache "$ad/cache";
APT::Architecture "amd64";
APT::Architectures { "amd64"; };
Acquire::Languages "none";
Dir::Cache::pkgcache "";
Dir::Cache::srcpkgcache "";
EOF
    [ "$(id -u)" != 0 ] || echo 'APT::Sandbox::User "root";' >>"$ad/apt.conf"
    if (export APT_CONFIG="$ad/apt.conf"; apt-get -qq update && cd "$ad/dl" &&
        apt-get -qq download "busybox-static=$gver") >"$tmp/apt.log" 2>&1; then
        mkdir -p "$nd" && dpkg-deb -x "$ad/dl"/busybox-static_*.deb "$tmp/bbx" &&
            cp "$(ls "$tmp"/bbx/usr/bin/busybox "$tmp"/bbx/bin/busybox 2>/dev/null | head -n 1)" "$nd/bin.tmp" && mkdir -p "$nd/bin" &&
            mv "$nd/bin.tmp" "$nd/bin/busybox" && bb="$nd/bin/busybox"
    fi
fi
if [ -z "$bb" ]; then
    bbnote="(host suite's version: trixie $gver could not be fetched)"
    if (mkdir -p "$tmp/dl2" && cd "$tmp/dl2" && apt-get -qq download busybox-static) \
        >>"$tmp/apt.log" 2>&1; then
        dpkg-deb -x "$tmp/dl2"/busybox-static_*.deb "$tmp/bbx2" && bb=$(ls "$tmp"/bbx2/usr/bin/busybox "$tmp"/bbx2/bin/busybox 2>/dev/null | head -n 1)
    fi
fi
: >"$tmp/native.res"
if [ -n "$bb" ]; then
    d="$tmp/nat"; mkdir -p "$d"
    "$bb" seq 1 200000 | "$bb" head -c 1048576 >"$d/c"
    for i in $("$bb" seq 32); do cat "$d/c"; done >"$d/f"
    "$bb" head -c 16777216 "$d/f" >"$d/h"
    nrun() { n=$1; shift; a=$(now); "$@" >/dev/null; b=$(now)
        echo "$n $(echo "$b - $a" | bc -l) - -" >>"$tmp/native.res"; }
    nrun sha256 "$bb" sha256sum "$d/f"
    nrun gzip "$bb" gzip -c "$d/f"
    if echo a | "$bb" xz -9 -c >/dev/null 2>&1; then nrun xz9 "$bb" xz -9 -c "$d/h"
    else echo "xz9 - - -" >>"$tmp/native.res"; fi
    nrun bzip2 "$bb" bzip2 -9 -c "$d/h"
    bbver=$("$bb" 2>&1 | head -1 | sed 's/ multi-call.*//')
else
    bbver="native busybox unavailable: apt-get download busybox-static failed (see below)"
fi

# --- report -------------------------------------------------------------------------------
get() { # get TAG OP FIELD(2 guest s, 3 host s, 4 insns)
    [ -f "$tmp/$1.res" ] || { echo -; return; }
    v=$(awk -v o="$2" -v f="$3" '$1 == o { print $f }' "$tmp/$1.res")
    echo "${v:--}"
}
fmt() { case "$1" in -|"") printf '%9s' -;; *) printf '%9.2f' "$1";; esac; }
ratio() { case "$1$2" in *-*|"") printf '%9s' -;; *) printf '%8.2fx' "$(echo "$1 / $2" | bc -l)";; esac; }
label() { case "$1" in sha256) echo "sha256sum 32M";; gzip) echo "gzip -c 32M";;
    xz9) echo "xz -9 16M";; bzip2) echo "bzip2 -9 16M";; esac; }

echo
echo "guest workload, Debian $(sed -n 's/^kernel-release //p' "$guest/manifest") kernel + busybox initramfs, 512M RAM, 1 run"
echo "input: text (seq 1 200000, first 1 MiB repeated to 32 MiB; 16 MiB = first half) in tmpfs"
echo "native: $bbver $bbnote"
echo "seconds as measured inside the guest (/proc/uptime, 10 ms); ratios are time ratios (<1: rvisor faster)"
printf '%-14s %4s %9s %9s %9s %9s %9s %9s %9s\n' workload harts rv-jit rv-interp qemu native \
    jit/qemu jit/native jit-MIPS
for op in $ops; do
    for n in $smps; do
        j=$(get "jit$n" "$op" 2); r=$(get "int$n" "$op" 2); q=$(get "qemu$n" "$op" 2)
        nt=$(get native "$op" 2); ins=$(get "jit$n" "$op" 4)
        if [ "$op" = xz9 ] && [ "$j" = - ]; then
            printf '%-14s %4s   skipped: busybox xz cannot compress (decompression only)\n' \
                "$(label "$op")" "$n"
            continue
        fi
        mips=-; case "$ins$j" in *-*) ;; *) mips=$(echo "$ins / $j / 1000000" | bc -l);; esac
        printf '%-14s %4s %s %s %s %s %s %s %s\n' "$(label "$op")" "$n" "$(fmt "$j")" \
            "$(fmt "$r")" "$(fmt "$q")" "$(fmt "$nt")" "$(ratio "$j" "$q")" "$(ratio "$j" "$nt")" \
            "$(case $mips in -) printf '%9s' -;; *) printf '%9.0f' "$mips";; esac)"
    done
done
echo
echo "guest clock check: guest-measured vs host-measured (between marker lines) seconds"
printf '%-14s %-8s %9s %9s\n' workload vm guest host
for f in "$tmp"/*.res; do
    t=$(basename "$f" .res); [ "$t" != native ] || continue
    while read -r op g h x; do
        [ "$g" != - ] || continue
        printf '%-14s %-8s %9.2f %9.2f\n' "$(label "$op")" "$t" "$g" "$h"
    done <"$f"
done
echo
echo "peak RSS of the VM process (/usr/bin/time %M)"
for f in "$tmp"/*.rss; do
    [ -f "$f" ] || continue
    printf '%-8s %8s MiB\n' "$(basename "$f" .rss)" \
        "$(tail -n 1 "$f" | awk '{ printf "%.0f", $NF / 1024 }')"
done
[ -n "$bb" ] || { echo; cat "$tmp/apt.log"; }
