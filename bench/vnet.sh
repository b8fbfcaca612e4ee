#!/usr/bin/env bash
# VM-to-VM network benchmark: two Debian guests on one virtual network, on rvisor (a network
# made with `rvisor net create`, both VMs `--net switch:NAME`, i.e. two VM processes and the
# switch process) and on qemu-system-riscv64 (two guests joined by QEMU's socket netdev:
# -netdev socket,listen= / connect=), same kernel, initramfs, firmware (Debian's OpenSBI), one
# hart and 256 MiB each, in one run.
#   throughput: the server VM sends MIB MiB of random data (made in its tmpfs beforehand)
#               with busybox nc, the client counts it (nc | wc -c)
#   latency:    busybox ping, 30 echo requests 0.1 s apart, average round trip
# Times are measured in the client guest (/proc/timer_list), so boot time does not count.
# Never part of the tests. Usage: bench/vnet.sh [BUILD_DIR] [MIB]   (default build, 32)
set -eu
build=${1:-build}
mib=${2:-32}
root=$(cd "$(dirname "$0")/.." && pwd)
rvisor=$build/rvisor
[ -x "$rvisor" ] || { echo "vnet.sh: no $rvisor (build first)" >&2; exit 1; }
"$root/guest/fetch-debian.sh" >/dev/null
guest=$("$root/guest/fetch-debian.sh" --print-dir)
qemu=$(command -v qemu-system-riscv64 || true)
tmp=$(mktemp -d /tmp/rvbench.XXXXXX)
export RVISOR_STATE_DIR=$tmp/state
net=bench$$
pids=''
cleanup() {
    set +e # under set -e, a kill of a VM that already ended would end the clean-up
    for p in $pids; do kill "$p" 2>/dev/null; done
    "$rvisor" net delete "$net" >/dev/null 2>&1
    rm -rf "$tmp"
}
trap cleanup EXIT

srv=10.77.0.20 cli=10.77.0.21
cat >"$tmp/server" <<EOF
ifconfig eth0 $srv netmask 255.255.255.0 up
head -c $((mib << 20)) /dev/urandom >/tmp/big;echo READY
nc -l -p 5000 </tmp/big;sleep 600
EOF
cat >"$tmp/client" <<EOF
t(){ sed -n '3s/[^0-9]//gp;3q' /proc/timer_list;}
ifconfig eth0 $cli netmask 255.255.255.0 up
until ping -c 1 -W 1 $srv >/dev/null;do :;done
ping -c 30 -i 0.1 $srv|tail -1|sed 's/^/RTT /'
mkfifo /tmp/f;exec 7<>/tmp/f;n=0
while [ "\$n" = 0 ];do sleep 1;a=\$(t);n=\$(nc $srv 5000 <&7|wc -c);b=\$(t);done
echo "TP \$a \$b \$n"
EOF
app() { echo "console=ttyS0 quiet rvisor.modules=virtio_mmio,virtio_net rvisor.cmd64=$(base64 -w0 "$1")"; }

# pair NAME SERVER_CMD... -- CLIENT_CMD...: runs both, keeps the client's RTT/TP lines.
pair() {
    local name=$1 s=() c=()
    shift
    while [ "$1" != -- ]; do s+=("$1"); shift; done
    shift
    c=("$@")
    "${s[@]}" </dev/null >"$tmp/$name.srv" 2>&1 &
    local sp=$!
    pids="$pids $sp"
    sleep 1 # QEMU's listening side must be up before the connecting one
    timeout 900 "${c[@]}" </dev/null >"$tmp/$name.cli" 2>&1 || true
    [ "$name" != rvisor ] || "$rvisor" net stats "$net" >"$tmp/stats" 2>&1 || true
    kill "$sp" 2>/dev/null
    wait "$sp" 2>/dev/null || true
    tr -d '\r' <"$tmp/$name.cli" | grep -E '^(RTT|TP) ' >"$tmp/$name" ||
        { echo "vnet.sh: $name: no result; client's last lines:" >&2; tail -5 "$tmp/$name.cli" >&2; }
}

fw="$guest/opensbi/fw_dynamic.bin"
echo "rvisor: two VMs on a virtual network..." >&2
"$rvisor" net create "$net" >/dev/null
pair rvisor "$rvisor" run --bios "$fw" --kernel "$guest/Image" --initrd "$guest/initrd.img" \
    --mem 256M --net "switch:$net,mac=52:54:00:00:77:02" --append "$(app "$tmp/server")" -- \
    "$rvisor" run --bios "$fw" --kernel "$guest/Image" --initrd "$guest/initrd.img" \
    --mem 256M --net "switch:$net,mac=52:54:00:00:77:03" --append "$(app "$tmp/client")"
if [ -n "$qemu" ]; then
    echo "qemu-system-riscv64: two VMs joined by -netdev socket..." >&2
    port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
    q=("$qemu" -M virt -m 256M -smp 1 -nographic -bios "$fw" -kernel "$guest/Image"
       -initrd "$guest/initrd.img")
    pair qemu "${q[@]}" -netdev "socket,id=n0,listen=127.0.0.1:$port" \
        -device virtio-net-device,netdev=n0,mac=52:54:00:00:77:02 -append "$(app "$tmp/server")" -- \
        "${q[@]}" -netdev "socket,id=n0,connect=127.0.0.1:$port" \
        -device virtio-net-device,netdev=n0,mac=52:54:00:00:77:03 -append "$(app "$tmp/client")"
else
    : >"$tmp/qemu"
fi

tp() { awk -v m="$mib" '$1 == "TP" && $4 > 0 && $3 > $2 { printf "%.1f", $4 / 1048576 * 1e9 / ($3 - $2); f = 1 } END { if (!f) printf "-" }' "$1"; }
rtt() { awk -F'[/ ]+' '$1 == "RTT" { for (i = 1; i <= NF; i++) if ($i == "=") { printf "%s / %s", $(i + 1), $(i + 2); f = 1 } } END { if (!f) printf "-" }' "$1"; }
printf 'VM-to-VM on one virtual network (%s MiB, nc; ping x30), Debian %s, 1 hart each\n' \
    "$mib" "$(sed -n 's/^kernel-release //p' "$guest/manifest")"
printf '%-34s %16s %16s\n' "" "rvisor" "qemu socket"
printf '%-34s %16s %16s\n' "throughput, MiB/s" "$(tp "$tmp/rvisor")" "$(tp "$tmp/qemu")"
printf '%-34s %16s %16s\n' "ping round trip, min / avg ms" "$(rtt "$tmp/rvisor")" "$(rtt "$tmp/qemu")"
[ -n "$qemu" ] || echo "qemu-system-riscv64 not installed (apt-get install qemu-system-misc)"
echo "rvisor switch counters:"
cat "$tmp/stats"
