#!/usr/bin/env bash
# The sandbox of a VM process, end to end, on Debian guests under `rvisor run` (sandbox on, the
# default). Boot 1 has everything the sandbox must let through: 2 harts, a qcow2 overlay on a
# backing file (writes, flush, discard), a rate-limited raw disk (iops=, bw=), a user NIC
# with DHCP, a fetch from a host HTTP server and a host forward into the guest, virtio-rng,
# balloon and console, the control API (status, stats, pause, resume, balloon, reset = a VM
# reboot, poweroff) and, as root, a CPU quota through cgroups. It checks from the outside:
# /proc/PID/status of every thread (Seccomp: 2, NoNewPrivs: 1, and as root no capabilities),
# the API's sandbox report, as root an empty root. Boot 2 has no NIC and no control API, so the strict profile: as
# root a private mount namespace with an empty root and a private network namespace; it
# panics: exit status 126 under the sandbox.
# Boot 3: --no-sandbox really turns it off; SIGTERM still ends a sandboxed VM cleanly.
# Ends with "N passed, N failed".
# Usage: sandbox-test.sh RVISOR FETCH_SCRIPT [GUEST_DIR]
set -u
. "$(dirname "$0")/../lib/testlib.sh"
testlib_init "" "$@"
kill_signal=KILL
wait_for() { # wait_for FILE PATTERN [COUNT]: up to 15 minutes (the machine may be loaded)
    local i=0
    while [ "$(cat "$1" 2>/dev/null | grep -c "$2")" -lt "${3:-1}" ] && [ $i -lt 4500 ]; do
        sleep 0.2; i=$((i + 1))
    done
}
port() { python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
# every thread of PID shows KEY:\tVALUE in its status
all_threads() {
    local t
    for t in /proc/$1/task/*; do grep -q "^$2:[[:space:]]*$3\$" "$t/status" || return 1; done
}

testlib_fetch_guest
root=no; [ "$(id -u)" = 0 ] && root=yes

# --- boot 1 --------------------------------------------------------------------------------
truncate -s 16M "$tmp/raw.img"
"$rvisor" img create -f qcow2 "$tmp/base.qcow2" 64M >/dev/null
"$rvisor" img create -f qcow2 -b "$tmp/base.qcow2" -F qcow2 "$tmp/over.qcow2" >/dev/null
mkdir "$tmp/www"; head -c 262144 /dev/urandom >"$tmp/www/blob"
sum=$(sha256sum "$tmp/www/blob" | cut -d' ' -f1)
http=$(port); fwd=$(port)
(cd "$tmp/www" && exec python3 -m http.server --bind 127.0.0.1 "$http" >/dev/null 2>&1) 2>/dev/null &
pids="$pids $!"
cat >"$tmp/script" <<GUEST
dd if=/dev/urandom of=/dev/vda bs=64k count=32 conv=fsync 2>/dev/null
blkdiscard -l 1048576 /dev/vda && echo DISCARD-OK
dd if=/dev/vda of=/dev/null bs=64k count=32 iflag=direct 2>/dev/null && echo VDA-OK
dd if=/dev/vdb of=/dev/null bs=4k count=40 iflag=direct 2>/dev/null && echo VDB-OK
printf '#!/bin/sh\n[ \$1 = bound ]&&ifconfig \$interface \$ip&&route add default gw \$router' >/tmp/d
chmod +x /tmp/d;ifconfig eth0 up;udhcpc -i eth0 -nqf -s /tmp/d >/dev/null 2>&1
wget -qO /tmp/b http://10.0.2.2:$http/blob && echo "SUM \$(sha256sum /tmp/b)"
echo hi >/tmp/index.html;httpd -p 80 -h /tmp
echo READY;sleep 600
GUEST
quota=""; [ $root = yes ] && quota="--cpu-quota 150"
"$rvisor" run --kernel "$guest/Image" --initrd "$guest/initrd.img" --smp 2 --mem 256M \
    --disk "$tmp/over.qcow2" --disk "$tmp/raw.img,iops=200,bw=4M" \
    --net "user,hostfwd=tcp::$fwd-:80,rate=2M" --rng --balloon --virtio-console $quota \
    --api-socket "$tmp/api.sock" --console "file:$tmp/console" \
    --append "console=ttyS0 quiet rvisor.modules=virtio_mmio,virtio_blk,virtio_net,virtio_rng,virtio_balloon rvisor.cmd64=$(base64 -w0 "$tmp/script")" \
    </dev/null >"$tmp/out" 2>&1 &
pid=$!; pids="$pids $pid"
wait_for "$tmp/console" READY
ctl() { "$rvisor" ctl "$tmp/api.sock" "$@"; }
st=$(ctl status)
check "Seccomp: 2 on every thread" all_threads $pid Seccomp 2
check "NoNewPrivs: 1 on every thread" all_threads $pid NoNewPrivs 1
check "status: seccomp allowlist reported" test "$(echo "$st" | json_field sandbox.seccomp)" = true
n=$(echo "$st" | json_field sandbox.syscalls)
check "status: $n system calls allowed (40..100)" test "$n" -ge 40 -a "$n" -le 100
check "status: monitor memory reported" test "$(echo "$st" | json_field memory.monitor_rss_kib)" -gt 0
check "status: io limits reported" sh -c "echo '$st' | grep -q 'disk1 iops=200, disk1 bw=4M, net0 rate=2M'"
if [ $root = yes ]; then
    check "no capabilities on any thread" all_threads $pid CapEff 0000000000000000
    check "empty bounding set on every thread" all_threads $pid CapBnd 0000000000000000
    # A control API can ask for snapshots: files are reached through directory descriptors
    # only (docs/sandbox.md), so the root is empty here too but for libslirp's resolv.conf.
    check "empty root with a control API (only etc/resolv.conf)" test "$(cd /proc/$pid/root && find . | sort | tr '\n' ' ')" = ". ./etc ./etc/resolv.conf "
    check "host network namespace kept (user networking)" test "$(readlink /proc/$pid/ns/net)" = "$(readlink /proc/self/ns/net)"
    cg=$(grep -o 'rvisor/vm-[0-9]*' /proc/$pid/cgroup | head -1)
    check "in its own cgroup ($cg)" test "$cg" = "rvisor/vm-$pid"
    cgdir=$(echo "$st" | json_field sandbox.cpu_limit | cut -d' ' -f3 | tr -d :)
    q=$(cat "$cgdir/cpu.cfs_quota_us" 2>/dev/null || cut -d' ' -f1 "$cgdir/cpu.max" 2>/dev/null)
    check "cpu quota 150% written ($q)" test "$q" = 150000
fi
check "guest: disk write, flush, discard on qcow2" grep -q DISCARD-OK "$tmp/console"
check "guest: reads on both disks (one rate-limited)" sh -c "grep -q VDA-OK '$tmp/console' && grep -q VDB-OK '$tmp/console'"
check "guest: fetched the host's file through slirp" grep -q "SUM $sum" "$tmp/console"
check "host reaches the guest through hostfwd" sh -c "python3 -c 'import urllib.request,sys; sys.exit(urllib.request.urlopen(\"http://127.0.0.1:$fwd/index.html\", timeout=60).read() != b\"hi\\n\")'"
check "pause" test "$(ctl pause | json_field state)" = paused
check "resume" test "$(ctl resume | json_field state)" = running
check "stats" sh -c "'$rvisor' ctl '$tmp/api.sock' stats | grep -q instret"
check "balloon" sh -c "'$rvisor' ctl '$tmp/api.sock' balloon target_mib=200 >/dev/null"
check "reset (VM reboot)" test "$(ctl reset | json_field state)" != stopped
wait_for "$tmp/console" READY 2
check "the guest boots again after reset, disks and net work" test "$(grep -c "SUM $sum" "$tmp/console")" = 2
check "poweroff presses the power button (the guest shuts down by itself)" \
    test "$(ctl poweroff | json_field state)" = running
wait $pid; rc=$?
check "exit status 0 after the guest's poweroff (got $rc)" test $rc = 0
check "the guest ran its shutdown" grep -q "rvisor-guest: powering off" "$tmp/console"
check "API socket removed from inside the sandbox" test ! -e "$tmp/api.sock"
[ $root = yes ] && check "cgroup removed" test ! -d "$cgdir"
check "no sandbox complaint on stderr" sh -c "! grep -qi 'sandbox\|bad system call' '$tmp/out'"

# --- boot 2: no NIC, no API socket: the strict profile; kernel panic -----------------------
"$rvisor" run --kernel "$guest/Image" --initrd "$guest/initrd.img" --console "file:$tmp/console2" \
    --append "console=ttyS0 quiet rvisor.cmd=sleep%2010;echo%20c%20>/proc/sysrq-trigger" \
    </dev/null >"$tmp/out2" 2>&1 &
pid=$!; pids="$pids $pid"
wait_for "$tmp/console2" "rvisor-guest"
check "boot 2: Seccomp: 2" all_threads $pid Seccomp 2
if [ $root = yes ]; then
    check "boot 2: private mount namespace" test "$(readlink /proc/$pid/ns/mnt)" != "$(readlink /proc/self/ns/mnt)"
    check "boot 2: private network namespace (no NIC)" test "$(readlink /proc/$pid/ns/net)" != "$(readlink /proc/self/ns/net)"
    check "boot 2: the VM's root is empty" test "$(cd /proc/$pid/root && find . | tr '\n' ' ')" = ". "
fi
wait $pid; rc=$?
check "kernel panic detected under the sandbox: exit 126 (got $rc)" test $rc = 126

# --- boot 3: --no-sandbox; SIGTERM ---------------------------------------------------------
"$rvisor" run --no-sandbox --kernel "$guest/Image" --initrd "$guest/initrd.img" --console none \
    --api-socket "$tmp/api3.sock" --append "console=ttyS0 quiet rvisor.cmd=sleep%20600" \
    </dev/null >/dev/null 2>&1 &
pid=$!; pids="$pids $pid"
i=0; while [ ! -S "$tmp/api3.sock" ] && [ $i -lt 600 ]; do sleep 0.2; i=$((i + 1)); done
check "--no-sandbox: Seccomp: 0" grep -q "^Seccomp:[[:space:]]*0" /proc/$pid/status
check "--no-sandbox: status says so" test "$("$rvisor" ctl "$tmp/api3.sock" status | json_field sandbox.seccomp)" = false
"$rvisor" ctl "$tmp/api3.sock" kill >/dev/null
wait $pid
"$rvisor" run --kernel "$guest/Image" --initrd "$guest/initrd.img" --console none \
    --api-socket "$tmp/api4.sock" --append "console=ttyS0 quiet rvisor.cmd=sleep%20600" \
    </dev/null >"$tmp/out4" 2>&1 &
pid=$!; pids="$pids $pid"
i=0; while [ ! -S "$tmp/api4.sock" ] && [ $i -lt 600 ]; do sleep 0.2; i=$((i + 1)); done
kill -TERM $pid
wait $pid; rc=$?
check "SIGTERM ends a sandboxed VM cleanly (status $rc, not 159)" test $rc = 0
check "SIGTERM: socket removed" test ! -e "$tmp/api4.sock"
finish
