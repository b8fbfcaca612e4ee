# Helpers for the virtual-network tests and benchmarks: VMs whose console input comes from a
# FIFO we hold open (so the host can answer the guest's `read`), and waiting for console lines.
# Needs: $rvisor, $guest (kernel + initramfs directory), $tmp.

# Test results: counted in $passed and $failed; check NAME CONDITION evaluates CONDITION.
pass() { passed=$((passed + 1)); echo "PASS: $1"; }
fail() { failed=$((failed + 1)); echo "FAIL: $1"; }
check() { if eval "$2"; then pass "$1"; else fail "$1"; fi; }

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
