#!/usr/bin/env bash
# Measures the system calls `rvisor run` really makes, per thread, with strace -f over one
# Debian boot that exercises everything the sandbox must allow: two harts, a raw and a qcow2
# disk (on a backing file) with writes, flush and discard, a user NIC with DHCP, DNS, a fetch
# from the host and a host forward, virtio-rng/balloon/console, the control API (status,
# stats, pause, resume, balloon, reset = a VM reboot) and a final poweroff. Prints, per
# thread (named by the first thread-specific call it makes), the sorted syscall names, and the
# union; the sandbox's allowlist (docs/sandbox.md) was built from this.
# Usage: bench/sandbox-syscalls.sh RVISOR [extra rvisor run options, e.g. --no-sandbox]
set -u
rvisor=$(realpath "$1"); shift
guest=${RVISOR_CACHE:-$HOME/.cache/rvisor}/debian
tmp=$(mktemp -d)
trap 'kill $srv 2>/dev/null; rm -rf "$tmp"' EXIT
truncate -s 64M "$tmp/raw.img"
"$rvisor" img create -f qcow2 "$tmp/base.qcow2" 64M >/dev/null
"$rvisor" img create -f qcow2 -b "$tmp/base.qcow2" -F qcow2 "$tmp/over.qcow2" >/dev/null
mkdir "$tmp/www"; head -c 262144 /dev/urandom >"$tmp/www/blob"
port() { python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
http=$(port); fwd=$(port)
(cd "$tmp/www" && exec python3 -m http.server --bind 127.0.0.1 "$http" >/dev/null 2>&1) & srv=$!
cat >"$tmp/script" <<'GUEST'
dd if=/dev/urandom of=/dev/vda bs=64k count=64 oflag=direct
dd if=/dev/vda of=/dev/null bs=64k count=64 iflag=direct
dd if=/dev/urandom of=/dev/vdb bs=64k count=64 conv=fsync
blkdiscard -l 1048576 /dev/vda;blkdiscard -l 1048576 /dev/vdb;sync
echo 3 >/proc/sys/vm/drop_caches
printf '#!/bin/sh\n[ $1 = bound ]&&ifconfig $interface $ip&&route add default gw $router' >/tmp/d
chmod +x /tmp/d;ifconfig eth0 up;udhcpc -i eth0 -nqf -s /tmp/d
nslookup debian.org 10.0.2.3
wget -qO /tmp/b http://10.0.2.2:HTTP/blob&&echo FETCH-OK
echo hi >/tmp/index.html;httpd -p 80 -h /tmp
echo hvc >/dev/hvc0;head -c 64 /dev/hwrng >/dev/null
echo READY;sleep 20
GUEST
sed -i "s/HTTP/$http/" "$tmp/script"
cmd=$(base64 -w0 "$tmp/script")
tracer="strace -f -qq -o $tmp/trace"
[ "${TRACE:-1}" = 0 ] && tracer=""; touch "$tmp/trace"
$tracer "$rvisor" run --kernel "$guest/Image" --initrd "$guest/initrd.img" \
    --smp 2 --mem 256M --disk "$tmp/raw.img,cache=none" --disk "$tmp/over.qcow2" \
    --net "user,hostfwd=tcp::$fwd-:80" --rng --balloon --virtio-console \
    --api-socket "$tmp/api.sock" --console "file:$tmp/console" "$@" \
    --append "console=ttyS0 quiet rvisor.modules=virtio_mmio,virtio_blk,virtio_net,virtio_rng,virtio_balloon rvisor.cmd64=$cmd" \
    </dev/null & pid=$!
start=$(date +%s)
for i in $(seq 1500); do grep -q READY "$tmp/console" 2>/dev/null && break; sleep 0.2; done
echo "ready after $(( $(date +%s) - start )) s"
curl -s "http://127.0.0.1:$fwd/index.html" >/dev/null && echo "hostfwd ok"
c() { "$rvisor" ctl "$tmp/api.sock" "$@" >/dev/null; }
c status; c stats; c pause; c resume; c balloon target_mib=200; c reset
for i in $(seq 1500); do [ "$(grep -c READY "$tmp/console")" -ge 2 ] && break; sleep 0.2; done
c poweroff; wait $pid; echo "exit status $?"
grep -c FETCH-OK "$tmp/console" | sed 's/^/fetches: /'
[ -n "${SHOW_CONSOLE:-}" ] && tail -40 "$tmp/console"
[ -n "${KEEP_TRACE:-}" ] && cp "$tmp/trace" "$KEEP_TRACE"
python3 - "$tmp/trace" <<'PY'
import re, sys, collections
calls = collections.defaultdict(set)
for line in open(sys.argv[1]):
    m = re.match(r'(\d+)\s+(?:<\.\.\. )?([a-z0-9_]+)[( ]', line)
    if m and not line.split(None, 1)[1].startswith(('+++', '---')):
        calls[int(m.group(1))].add(m.group(2))
union = set()
for tid, names in sorted(calls.items()):
    union |= names
    print(tid, len(names), ' '.join(sorted(names)))
print('union', len(union), ' '.join(sorted(union)))
PY
