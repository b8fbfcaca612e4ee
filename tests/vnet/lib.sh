# Helpers for the virtual-network tests and benchmarks: VMs whose console input comes from a
# FIFO we hold open (so the host can answer the guest's `read`), and waiting for console lines.
# Results, $tmp, $rvisor and $guest come from tests/lib/testlib.sh (testlib_init). The script
# lists the networks it creates in $networks: at exit the VMs vm_start started are killed and
# those networks deleted; when a check failed, `finish` shows the end of every console
# ($tmp/*.out), of the files in $diag_files and of the networks' switch logs.

. "$(dirname "${BASH_SOURCE[0]}")/../lib/testlib.sh"
vms=''
networks=''
diag_files=''

cleanup_more() {
    local v p n
    for v in $vms; do
        eval "p=\${pid_$v:-}"
        [ -n "$p" ] && kill "$p" 2>/dev/null
    done
    for n in $networks; do "$rvisor" net delete "$n" >/dev/null 2>&1; done
}

diagnose() {
    local f n
    for f in "$tmp"/*.out $diag_files; do
        [ -f "$f" ] && { echo "--- ${f##*/} ---"; tail -25 "$f"; }
    done
    for n in $networks; do
        f=$RVISOR_STATE_DIR/net/$n/switch.log
        [ -f "$f" ] && { echo "--- switch $n ---"; tail -20 "$f"; }
    done
}

# serve_http DIR ADDRESS: serves DIR over HTTP on ADDRESS, a free port (in $http_port), in the
# background until the test ends.
serve_http() {
    python3 -c 'import http.server, os, sys
os.chdir(sys.argv[1])
class Q(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *a): pass
s = http.server.ThreadingHTTPServer((sys.argv[2], 0), Q)
open(sys.argv[3] + ".n", "w").write(str(s.server_address[1])); os.rename(sys.argv[3] + ".n", sys.argv[3])
s.serve_forever()' "$1" "$2" "$tmp/port" &
    pids="$pids $!"
    for _ in $(seq 100); do [ -s "$tmp/port" ] && break; sleep 0.1; done
    http_port=$(cat "$tmp/port")
}

# The udhcpc script every guest uses: configures eth0, the default route, and prints
# "IP=... DNS=..." (rvisor.cmd64 scripts are short: the kernel command line holds 1023 bytes).
DHCP_SNIPPET='printf '"'"'#!/bin/sh\n[ "$1" = bound ]&&ifconfig $interface $ip netmask $subnet&&{ [ -n "$router" ]&&route add default gw $router;echo "IP=$ip DNS=$dns";:; }\n'"'"'>/tmp/d
chmod +x /tmp/d;ifconfig eth0 up;udhcpc -i eth0 -n -q -f -t 10 -s /tmp/d >/tmp/dl 2>&1;grep ^IP= /tmp/dl
echo MAC=$(cat /sys/class/net/eth0/address)'

# vm_start NAME FD SCRIPT_FILE NETSPEC...: boots a VM in the background; console in
# $tmp/NAME.out, input from the FIFO $tmp/NAME.in, which this shell keeps open as fd FD. The
# guest's script comes over the console (the kernel command line is too short for it): the
# guest turns echo off, says READY, and runs what it reads up to a line "EOF" (vm_load).
vm_start() {
    name=$1 fd=$2
    vms="$vms $name"
    eval "script_$name=\$3"
    shift 3
    nets=''
    for n in "$@"; do nets="$nets --net $n"; done
    loader='stty -echo;echo READY;while read -r l&&[ "$l" != EOF ];do echo "$l";done>/tmp/s;. /tmp/s'
    append="console=ttyS0 quiet rvisor.modules=virtio_mmio,virtio_net rvisor.cmd64=$(printf %s "$loader" | base64 -w0)"
    mkfifo "$tmp/$name.in"
    : >"$tmp/$name.out"
    # shellcheck disable=SC2086
    "$rvisor" run --kernel "$guest/Image" --initrd "$guest/initrd.img" --mem 144M $nets \
        --append "$append" <"$tmp/$name.in" >"$tmp/$name.out" 2>&1 &
    eval "pid_$name=$! fd_$name=$fd"
    eval "exec $fd<>\"\$tmp/\$name.in\""
}

# vm_load NAME: waits for the guest's READY and sends it its script.
vm_load() {
    wait_line "$1" '^READY' 400 || return 1
    eval "f=\$script_$1 fd=\$fd_$1"
    eval "{ cat \"\$f\"; echo EOF; } >&$fd"
}

# vm_say NAME LINE: a line for the guest's `read`.
vm_say() {
    eval "echo \"\$2\" >&\$fd_$1"
}

# wait_line NAME REGEX [SECONDS]: waits until the console shows a line matching REGEX (or the
# VM ended). Returns 0 when it appeared.
wait_line() {
    n=$1 re=$2 limit=${3:-300}
    i=0
    while [ "$i" -lt $((limit * 4)) ]; do
        grep -Eq "$re" "$tmp/$n.out" && return 0
        eval "p=\$pid_$n"
        kill -0 "$p" 2>/dev/null || { grep -Eq "$re" "$tmp/$n.out"; return $?; }
        sleep 0.25
        i=$((i + 1))
    done
    return 1
}

# field NAME KEY: the value of the last "KEY=value" on NAME's console.
field() {
    sed -n "s/.*$2=\([^ ]*\).*/\1/p" "$tmp/$1.out" | tr -d '\r' | tail -1
}

# vm_wait NAME: waits (bounded) for the VM to end; its exit status in $st ("timeout" if it
# had to be killed).
vm_wait() {
    eval "p=\$pid_$1"
    for _ in $(seq 240); do kill -0 "$p" 2>/dev/null || break; sleep 0.5; done
    if kill -0 "$p" 2>/dev/null; then
        kill "$p" 2>/dev/null
        st=timeout
        return
    fi
    wait "$p"
    st=$?
}
