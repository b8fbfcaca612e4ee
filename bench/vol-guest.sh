#!/usr/bin/env bash
# Guest-side volume throughput: one Debian guest on rvisor with four disks — a raw file, a linear,
# a striped (3 PVs) and a thin LV (fresh: its writes allocate) — all on the same file system;
# sequential 1 MiB direct I/O with busybox dd on each (random data from the guest's tmpfs),
# timed in the guest from /proc/timer_list like bench/io.sh. Never part of the tests.
# Usage: bench/vol-guest.sh [BUILD_DIR] [MIB]   (default build, 48 MiB per transfer)
set -eu
build=${1:-build}
mib=${2:-48}
root=$(cd "$(dirname "$0")/.." && pwd)
rvisor=$build/rvisor
[ -x "$rvisor" ] || { echo "vol-guest.sh: no $rvisor (build first)" >&2; exit 1; }
"$root/guest/fetch-debian.sh" >/dev/null
guest=$("$root/guest/fetch-debian.sh" --print-dir)
tmp=$(mktemp -d "${TMPDIR:-/var/tmp}/rvisor-volguest.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
export RVISOR_VOL_DEVICES=$tmp/devices
vol() { "$rvisor" vol "$@" >/dev/null; }

# Sizes tell the disks apart in the guest: 100, 104, 108 and 112 MiB.
truncate -s 100M "$tmp/raw.img"
for i in 0 1 2; do truncate -s 200M "$tmp/pv$i"; done
vol pv-create "$tmp/pv0" "$tmp/pv1" "$tmp/pv2"
vol vg-create vg "$tmp/pv0" "$tmp/pv1" "$tmp/pv2" --extent-size 4M
vol lv-create vg/linear --size 104M
vol lv-create vg/striped --size 108M --stripes 3 --stripe-size 64K
vol lv-create vg/pool --thin-pool --size 120M
vol lv-create vg/thin --thin --pool pool --size 112M

cat >"$tmp/script" <<EOF
t(){ sed -n '3s/[^0-9]//gp;3q' /proc/timer_list;}
T(){ n=\$1;shift;a=\$(t);"\$@" >/dev/null 2>&1;s=\$?;echo "IO \$n \$a \$(t) \$s";}
head -c 8388608 /dev/urandom >/tmp/r;for i in \$(seq $((mib / 8)));do cat /tmp/r;done >/tmp/big;rm /tmp/r
for d in vda vdb vdc vdd;do case \$(cat /sys/block/\$d/size) in
204800) R=/dev/\$d;; 212992) L=/dev/\$d;; 221184) S=/dev/\$d;; 229376) H=/dev/\$d;; esac;done
for x in raw:\$R linear:\$L striped:\$S thin:\$H;do k=\${x%%:*};d=\${x#*:}
T wr-\$k dd if=/tmp/big of=\$d bs=1M oflag=direct;T rd-\$k dd if=\$d of=/dev/null bs=1M count=$mib iflag=direct;done
EOF
append="console=ttyS0 quiet rvisor.modules=virtio_mmio,virtio_blk rvisor.cmd64=$(base64 -w0 "$tmp/script")"
echo "booting rvisor with four disks..." >&2
timeout 1200 "$rvisor" run --kernel "$guest/Image" --initrd "$guest/initrd.img" --mem 384M \
    --disk "$tmp/raw.img,format=raw" --disk vol:vg/linear --disk vol:vg/striped \
    --disk vol:vg/thin --append "$append" </dev/null >"$tmp/out" 2>&1 || true
tr -d '\r' <"$tmp/out" | grep '^IO ' >"$tmp/io" || { tail -n 20 "$tmp/out" >&2; exit 1; }
rate() {
    awk -v k="$1" -v m="$mib" '$2 == k && $5 == 0 && $4 > $3 { printf "%.1f", m * 1e9 / ($4 - $3); f = 1 }
        END { if (!f) printf "-" }' "$tmp/io"
}
[ -z "${VOLBENCH_DEBUG:-}" ] || cat "$tmp/io" >&2
printf 'guest disk throughput on rvisor, MiB/s (%s MiB, dd direct, 1 MiB blocks)\n' "$mib"
printf '%-10s %10s %10s\n' disk write read
for d in raw linear striped thin; do
    printf '%-10s %10s %10s\n' "$d" "$(rate wr-$d)" "$(rate rd-$d)"
done
