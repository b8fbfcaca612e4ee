#!/usr/bin/env bash
# Measures the disk and network rate limits (--disk ...,iops=,bw=; --net ...,rate=) from
# inside a Debian guest: request counts and bytes divided by the guest's own elapsed time
# (/proc/uptime), against an unlimited run of the same work. Numbers only, no pass/fail.
# Usage: bench/rate-limit.sh RVISOR [IOPS BW NETRATE]   (defaults 200 2M 1M)
set -u
rvisor=$(realpath "$1")
iops=${2:-200}; bw=${3:-2M}; rate=${4:-1M}
guest=${RVISOR_CACHE:-$HOME/.cache/rvisor}/debian
tmp=$(mktemp -d)
trap 'kill $srv 2>/dev/null; rm -rf "$tmp"' EXIT
truncate -s 64M "$tmp/disk.img"
head -c 8388608 /dev/urandom >"$tmp/blob"
http=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
(cd "$tmp" && exec python3 -m http.server --bind 127.0.0.1 "$http" >/dev/null 2>&1) & srv=$!
cat >"$tmp/script" <<GUEST
t() { cut -d' ' -f1 /proc/uptime; }
a=\$(t); dd if=/dev/vda of=/dev/null bs=4k count=1000 iflag=direct 2>/dev/null; b=\$(t)
echo "RESULT 4k-reads 1000 \$a \$b"
a=\$(t); dd if=/dev/vda of=/dev/null bs=1M count=16 iflag=direct 2>/dev/null; b=\$(t)
echo "RESULT 1M-reads 16 \$a \$b"
printf '#!/bin/sh\n[ \$1 = bound ]&&ifconfig \$interface \$ip&&route add default gw \$router' >/tmp/d
chmod +x /tmp/d;ifconfig eth0 up;udhcpc -i eth0 -nqf -s /tmp/d >/dev/null 2>&1
a=\$(t); wget -qO /dev/null http://10.0.2.2:$http/blob; b=\$(t)
echo "RESULT net-8MiB 8388608 \$a \$b"
GUEST
run() { # run LABEL DISKOPTS NETOPTS
    "$rvisor" run --kernel "$guest/Image" --initrd "$guest/initrd.img" --mem 256M \
        --disk "$tmp/disk.img,cache=none$2" --net "user$3" --console "file:$tmp/console" \
        --append "console=ttyS0 quiet rvisor.modules=virtio_mmio,virtio_blk,virtio_net rvisor.cmd64=$(base64 -w0 "$tmp/script")" \
        </dev/null >/dev/null 2>&1
    awk -v l="$1" '/^RESULT/ { d = $5 - $4; if (d <= 0) d = 0.01;
        if ($2 == "4k-reads") printf "%-10s 4 KiB reads:  %6d requests in %6.2f s = %8.0f IOPS\n", l, $3, d, $3 / d;
        if ($2 == "1M-reads") printf "%-10s 1 MiB reads:  %6d MiB in %6.2f s = %8.2f MiB/s\n", l, $3, d, $3 / d;
        if ($2 == "net-8MiB") printf "%-10s net download: 8 MiB in %6.2f s = %8.2f MiB/s\n", l, d, 8 / d }' "$tmp/console"
}
run unlimited "" ""
run limited ",iops=$iops,bw=$bw" ",rate=$rate"
echo "limits: iops=$iops bw=$bw net rate=$rate (bytes per second, each direction)"
