#!/usr/bin/env bash
# I/O benchmark: guest disk and network throughput on rvisor and on qemu-system-riscv64
# -M virt, same Debian kernel and initramfs, same images, in one run, with ratios.
#
# Disk: sequential 1 MiB direct I/O with busybox dd (oflag=direct / iflag=direct, so the
# guest's page cache is out of the way) on a raw and on a qcow2 image (both fresh and empty:
# the qcow2 write allocates its clusters), virtio-blk over virtio-mmio, default cache mode
# (writeback) on both. The data is random (64 MiB in the guest's tmpfs, made before the
# clock starts), so no zero detection helps either side.
# Network: user-mode networking (rvisor --net user, QEMU -netdev user; both libslirp), the
# guest fetches a random file from a python3 http.server on the host's 127.0.0.1 with busybox
# wget (to /dev/null), and sends the same amount to a host TCP sink with busybox nc.
# Times are measured in the guest (the "now at N nsecs" line of /proc/timer_list; busybox
# date has no %N), so boot time does not count.
# Both VMMs run Debian's OpenSBI as firmware. Never part of the tests.
#
# Usage: bench/io.sh [BUILD_DIR] [MIB]   (default build, 64 MiB per transfer)
set -eu
build=${1:-build}
mib=${2:-64}
root=$(cd "$(dirname "$0")/.." && pwd)
rvisor=$build/rvisor
[ -x "$rvisor" ] || { echo "io.sh: no $rvisor (build first)" >&2; exit 1; }
"$root/guest/fetch-debian.sh" >/dev/null
guest=$("$root/guest/fetch-debian.sh" --print-dir)
qemu=$(command -v qemu-system-riscv64 || true)
command -v qemu-img >/dev/null || { echo "io.sh: needs qemu-img (qemu-utils)" >&2; exit 1; }

tmp=$(mktemp -d)
server_pid=""
cleanup() { [ -z "$server_pid" ] || kill $server_pid 2>/dev/null; rm -rf "$tmp"; }
trap cleanup EXIT

# --- host side: a file to fetch and a sink to send to ------------------------------------------
head -c $((mib << 20)) /dev/urandom >"$tmp/blob"
python3 - "$tmp" $((mib << 20)) <<'EOF' &
import http.server, os, socket, sys, threading
d, size = sys.argv[1], int(sys.argv[2])
os.chdir(d)
class Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass
web = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Quiet)
sink = socket.socket()
sink.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
sink.bind(("127.0.0.1", 0))
sink.listen(4)
def drain():
    # One connection at a time: read `size` bytes (or to EOF), log the count, close.
    while True:
        c, _ = sink.accept()
        n = 0
        while n < size:
            b = c.recv(1 << 20)
            if not b:
                break
            n += len(b)
        c.close()
        with open(os.path.join(d, "sink.log"), "a") as f:
            f.write("%d\n" % n)
threading.Thread(target=drain, daemon=True).start()
with open(os.path.join(d, "ports.new"), "w") as f:
    f.write("%d %d\n" % (web.server_address[1], sink.getsockname()[1]))
os.rename(os.path.join(d, "ports.new"), os.path.join(d, "ports"))
web.serve_forever()
EOF
server_pid=$!
for _ in $(seq 100); do [ -s "$tmp/ports" ] && break; sleep 0.1; done
read -r http_port sink_port <"$tmp/ports"

# --- the guest's script --------------------------------------------------------------------------
# Disks are told apart by size (QEMU's virt board numbers virtio-mmio devices in reverse).
# The network is configured statically with slirp's default addresses (no DHCP).
cat >"$tmp/script" <<EOF
t(){ sed -n '3s/[^0-9]//gp;3q' /proc/timer_list;}
T(){ n=\$1;shift;a=\$(t);"\$@" >/dev/null 2>&1;s=\$?;echo "IO \$n \$a \$(t) \$s";}
head -c 8388608 /dev/urandom >/tmp/r;for i in \$(seq $((mib / 8)));do cat /tmp/r;done >/tmp/big;rm /tmp/r
for d in vda vdb;do [ \$(cat /sys/block/\$d/size) = 409600 ]&&R=/dev/\$d||Q=/dev/\$d;done
T wr-raw dd if=/tmp/big of=\$R bs=1M oflag=direct
T rd-raw dd if=\$R of=/dev/null bs=1M count=$mib iflag=direct
T wr-qcow2 dd if=/tmp/big of=\$Q bs=1M oflag=direct
T rd-qcow2 dd if=\$Q of=/dev/null bs=1M count=$mib iflag=direct
ifconfig eth0 10.0.2.15 netmask 255.255.255.0 up
T net-in wget -q -O /dev/null http://10.0.2.2:$http_port/blob
T net-out sh -c "nc 10.0.2.2 $sink_port </tmp/big"
EOF
append="console=ttyS0 quiet rvisor.modules=virtio_mmio,virtio_blk,virtio_net rvisor.cmd64=$(base64 -w0 "$tmp/script")"
[ ${#append} -lt 1024 ] || { echo "io.sh: guest script too long" >&2; exit 1; }

fresh_images() {
    rm -f "$tmp/raw.img" "$tmp/q.qcow2"
    truncate -s 200M "$tmp/raw.img"
    qemu-img create -q -f qcow2 "$tmp/q.qcow2" 256M
}

# run NAME CMD...: boots, keeps the "IO" lines in $tmp/NAME.
run() {
    local name=$1
    shift
    fresh_images
    if ! timeout 1200 "$@" </dev/null >"$tmp/$name.out" 2>&1; then
        echo "io.sh: $name failed; last lines:" >&2
        tail -n 15 "$tmp/$name.out" >&2
    fi
    tr -d '\r' <"$tmp/$name.out" | grep '^IO ' >"$tmp/$name" || true
}

echo "booting rvisor..." >&2
run rvisor "$rvisor" run --bios "$guest/opensbi/fw_dynamic.bin" --kernel "$guest/Image" \
    --initrd "$guest/initrd.img" --mem 512M --disk "$tmp/raw.img,format=raw" \
    --disk "$tmp/q.qcow2,format=qcow2" --net user --append "$append"
if [ -n "$qemu" ]; then
    echo "booting qemu-system-riscv64..." >&2
    run qemu "$qemu" -M virt -m 512M -smp 1 -nographic -bios "$guest/opensbi/fw_dynamic.bin" \
        -kernel "$guest/Image" -initrd "$guest/initrd.img" \
        -drive file="$tmp/raw.img",format=raw,if=none,id=d0 -device virtio-blk-device,drive=d0 \
        -drive file="$tmp/q.qcow2",format=qcow2,if=none,id=d1 -device virtio-blk-device,drive=d1 \
        -netdev user,id=n0 -device virtio-net-device,netdev=n0 -append "$append"
else
    : >"$tmp/qemu"
fi

# --- the table ---------------------------------------------------------------------------------
# MB/s (MiB/s) of test KEY in file F, or "-" (missing or failed).
rate() {
    awk -v k="$2" -v m="$mib" '$2 == k && $5 == 0 && $4 > $3 { printf "%.1f", m * 1e9 / ($4 - $3); found = 1 }
        END { if (!found) printf "-" }' "$1"
}
printf 'guest I/O throughput, MiB/s (%s MiB per transfer), Debian %s kernel, busybox\n' \
    "$mib" "$(sed -n 's/^kernel-release //p' "$guest/manifest")"
printf '%-36s %12s %12s %12s\n' test rvisor qemu rvisor/qemu
for t in "wr-raw:disk write, raw (dd oflag=direct)" "rd-raw:disk read, raw (dd iflag=direct)" \
         "wr-qcow2:disk write, qcow2 (allocating)" "rd-qcow2:disk read, qcow2" \
         "net-in:net host->guest (wget)" "net-out:net guest->host (nc)"; do
    k=${t%%:*}
    a=$(rate "$tmp/rvisor" "$k")
    b=$(rate "$tmp/qemu" "$k")
    if [ "$a" != - ] && [ "$b" != - ]; then
        r=$(awk -v a="$a" -v b="$b" 'BEGIN { printf "%.2fx", a / b }')
    else
        r=-
    fi
    printf '%-36s %12s %12s %12s\n' "${t#*:}" "$a" "$b" "$r"
done
[ -n "$qemu" ] || echo "qemu-system-riscv64 not installed (apt-get install qemu-system-misc)"
if [ -s "$tmp/sink.log" ]; then
    echo "(host sink received: $(tr '\n' ' ' <"$tmp/sink.log")bytes per run; expected $((mib << 20)))"
fi
