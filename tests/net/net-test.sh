#!/bin/sh
# End-to-end network tests: Debian's kernel and busybox on rvisor with a virtio-net NIC on the
# "user" (libslirp) backend. One boot: the guest gets its address by DHCP, fetches a file from
# a python3 http.server on the host's 127.0.0.1 (reachable from the guest as 10.0.2.2) and
# checks its sha256; then it serves files with busybox httpd, which the host fetches through
# a host forward (127.0.0.1 only). Plus the command line's handling of bad --net values.
# Ends with "N passed, N failed".
# As root (where `unshare -n` works) the whole test runs in a private network namespace and
# the guest gets a second NIC on the tap backend: a tap interface rvtap0 (10.1.0.1/24) on the
# host side, eth1 = 10.1.0.2 in the guest, which fetches the same file over it.
# Usage: net-test.sh RVISOR FETCH_SCRIPT [GUEST_DIR]
# The guest runs on rvisor's built-in SBI firmware; NET_TEST_BIOS=opensbi runs it on Debian's
# OpenSBI (fw_dynamic) instead.
set -u
if [ -z "${NET_TEST_NS:-}" ] && [ "$(id -u)" = 0 ] && command -v ip >/dev/null &&
    unshare -n true 2>/dev/null; then
    NET_TEST_NS=1 exec unshare -n sh "$0" "$@"
fi
rvisor=$1
fetch=$2
guest=${3:-${RVISOR_CACHE:-$HOME/.cache/rvisor}/debian}
if [ "${NET_TEST_BIOS:-builtin}" = builtin ]; then
    bios=''
else
    bios="--bios $guest/opensbi/fw_dynamic.bin"
fi
passed=0
failed=0
tmp=$(mktemp -d)
server_pid=''
rvisor_pid=''
cleanup() {
    [ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null
    [ -n "$rvisor_pid" ] && kill "$rvisor_pid" 2>/dev/null
    rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

pass() { passed=$((passed + 1)); echo "PASS: $1"; }
fail() { failed=$((failed + 1)); echo "FAIL: $1"; }
finish() { echo "$passed passed, $failed failed"; [ "$failed" = 0 ]; exit $?; }

if ! "$rvisor" run --help 2>&1 | grep -q -- '--net'; then
    echo "FAIL: this rvisor has no --net option"
    failed=1
    finish
fi
"$fetch" >/dev/null || { echo "FAIL: fetching the Debian guest"; failed=1; finish; }

# A free TCP port on 127.0.0.1 (the kernel picks it; there is a small window before we use it).
free_port() {
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

tap=no
bind=127.0.0.1
if [ "${NET_TEST_NS:-}" = 1 ]; then
    ip link set lo up && ip tuntap add dev rvtap0 mode tap && ip addr add 10.1.0.1/24 dev rvtap0 &&
        ip link set rvtap0 up && tap=yes
    bind=0.0.0.0 # reachable on 127.0.0.1 and 10.1.0.1, inside this private namespace only
fi

# --- the host side: a file to fetch, served on 127.0.0.1 ---
mkdir "$tmp/www"
head -c 1048576 /dev/urandom >"$tmp/www/blob"
host_sum=$(sha256sum "$tmp/www/blob" | cut -d' ' -f1)
python3 - "$tmp/www" "$tmp/port" "$bind" <<'EOF' &
import http.server, os, sys
os.chdir(sys.argv[1])
class Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass
server = http.server.ThreadingHTTPServer((sys.argv[3], 0), Quiet)
with open(sys.argv[2] + ".new", "w") as f:
    f.write(str(server.server_address[1]))
os.rename(sys.argv[2] + ".new", sys.argv[2])
server.serve_forever()
EOF
server_pid=$!
for _ in $(seq 100); do [ -s "$tmp/port" ] && break; sleep 0.1; done
http_port=$(cat "$tmp/port" 2>/dev/null)
[ -n "$http_port" ] || { fail "host http server did not start"; finish; }
fwd_port=$(free_port)

# --- the guest's script (rvisor.cmd64: the kernel command line holds at most 1023 bytes) ---
cat >"$tmp/script" <<EOF
printf '#!/bin/sh\n[ "\$1" = bound ]&&ifconfig \$interface \$ip netmask \$subnet&&route add default gw \$router\n'>/tmp/d
chmod +x /tmp/d;ifconfig eth0 up
udhcpc -i eth0 -n -q -f -t 10 -s /tmp/d >/dev/null 2>&1
echo "ip=\$(ifconfig eth0|sed -n 's/.*inet addr:\([0-9.]*\).*/\1/p')"
wget -q -O /tmp/b http://10.0.2.2:$http_port/blob;sha256sum /tmp/b
ping -qA -c2000 -w120 10.0.2.2|sed -n 's/^/P:/;/transm/p'
EOF
nics="--net user,hostfwd=tcp::$fwd_port-:80"
if [ "$tap" = yes ]; then
    echo "ifconfig eth1 10.1.0.2 netmask 255.255.255.0 up;wget -qO /tmp/t http://10.1.0.1:$http_port/blob;sha256sum /tmp/t" >>"$tmp/script"
    nics="$nics --net tap,ifname=rvtap0"
fi
cat >>"$tmp/script" <<EOF
mkdir /w;echo hello-from-\$(uname -m)>/w/i;head -c 300000 /dev/urandom>/w/b;sha256sum /w/b
httpd -p 80 -h /w;echo NET-READY;read -t 600 x;echo got=\$x
EOF
append="console=ttyS0 quiet rvisor.modules=virtio_mmio,virtio_net rvisor.cmd64=$(base64 -w0 "$tmp/script")"
[ ${#append} -lt 1024 ] || { fail "guest script too long for the kernel command line"; finish; }

# stdin through a FIFO, held open here, so that we can answer the guest's `read`.
mkfifo "$tmp/in"
: >"$tmp/out"
exec 3<>"$tmp/in"
"$rvisor" run $bios --kernel "$guest/Image" --initrd "$guest/initrd.img" --mem 512M \
    $nics --append "$append" <"$tmp/in" >"$tmp/out" 2>&1 &
rvisor_pid=$!

# Wait (bounded) for the guest's web server, or for rvisor to end.
ready=no
for _ in $(seq 1200); do
    if grep -q '^NET-READY' "$tmp/out"; then ready=yes; break; fi
    kill -0 "$rvisor_pid" 2>/dev/null || break
    sleep 0.5
done

ip=$(sed -n 's/^ip=\([0-9.]*\).*/\1/p' "$tmp/out" | tr -d '\r')
[ "$ip" = 10.0.2.15 ] && pass "DHCP: guest got 10.0.2.15" || fail "DHCP: guest address '$ip'"

guest_sum=$(sed -n 's|^\([0-9a-f]\{64\}\)  /tmp/b.*|\1|p' "$tmp/out")
if [ "$guest_sum" = "$host_sum" ]; then
    pass "guest wget from the host's 127.0.0.1 (1 MiB, sha256 matches)"
else
    fail "guest wget: sha256 '$guest_sum', expected $host_sum"
fi

# A flood ping (-A: the next request as soon as the reply is in, one in flight): a frame lost on
# the way, or a NIC that stalls (missed interrupts or queue notifications: then only ping's 1 s
# fallback timer sends, and -w120 ends it early) shows as less than 2000 sent or received.
# Not `-i 0`: busybox's ping then sends one request only (setitimer with a zero value
# disarms the timer) and waits for more replies forever, on QEMU as well.
flood=$(sed -n 's/^P:\([0-9]*\) packets transmitted, \([0-9]*\) packets received.*/\1 \2/p' "$tmp/out")
[ "$flood" = "2000 2000" ] && pass "flood ping (-A): 2000 of 2000 replies" ||
    fail "flood ping: transmitted/received '$flood'"

if [ "$tap" = yes ]; then
    tap_sum=$(sed -n 's|^\([0-9a-f]\{64\}\)  /tmp/t.*|\1|p' "$tmp/out")
    [ "$tap_sum" = "$host_sum" ] && pass "guest wget over the tap backend (sha256 matches)" ||
        fail "tap: sha256 '$tap_sum', expected $host_sum"
else
    echo "SKIP: tap backend end to end (needs root and network namespaces)"
fi

if [ "$ready" = yes ]; then
    # The forward listens on 127.0.0.1 only: /proc/net/tcp lists it as 0100007F:PORT.
    hex=$(printf '%04X' "$fwd_port")
    listeners=$(awk -v p=":$hex" '$2 ~ p"$" && $4 == "0A" { print $2 }' /proc/net/tcp /proc/net/tcp6)
    if [ "$listeners" = "0100007F:$hex" ]; then
        pass "hostfwd listens on 127.0.0.1:$fwd_port only"
    else
        fail "hostfwd listeners: '$listeners'"
    fi
    page=$(python3 -c 'import sys, urllib.request
print(urllib.request.urlopen("http://127.0.0.1:%s/i" % sys.argv[1], timeout=120).read().decode().strip())' \
        "$fwd_port" 2>"$tmp/err")
    [ "$page" = hello-from-riscv64 ] && pass "host fetches the guest's httpd page through hostfwd" ||
        { fail "hostfwd page '$page'"; cat "$tmp/err"; }
    big=$(python3 -c 'import hashlib, sys, urllib.request
print(hashlib.sha256(urllib.request.urlopen("http://127.0.0.1:%s/b" % sys.argv[1], timeout=300).read()).hexdigest())' \
        "$fwd_port" 2>"$tmp/err")
    want=$(sed -n 's|^\([0-9a-f]\{64\}\)  /w/b.*|\1|p' "$tmp/out")
    [ -n "$want" ] && [ "$big" = "$want" ] && pass "host fetches 300 kB from the guest (sha256 matches)" ||
        { fail "hostfwd file sha256 '$big', guest says '$want'"; cat "$tmp/err"; }
else
    fail "guest httpd never became ready"
    fail "hostfwd (skipped: guest not ready)"
    fail "hostfwd file (skipped: guest not ready)"
fi
echo done >&3
for _ in $(seq 240); do kill -0 "$rvisor_pid" 2>/dev/null || break; sleep 0.5; done
if kill -0 "$rvisor_pid" 2>/dev/null; then
    fail "guest did not power off"
else
    wait "$rvisor_pid"
    status=$?
    rvisor_pid=''
    grep -q '^got=done' "$tmp/out" && [ "$status" = 0 ] && pass "guest read the host's answer and powered off (status 0)" ||
        fail "guest end: status $status"
fi
[ "$failed" = 0 ] || { echo "--- guest output ---"; tail -40 "$tmp/out"; }
kill "$server_pid" 2>/dev/null
server_pid=''

# --- bad --net values: one message, status 125 ---
expect_125() {
    name=$1 pattern=$2
    shift 2
    timeout 60 "$rvisor" run --kernel "$guest/Image" "$@" </dev/null >"$tmp/bad" 2>&1
    st=$?
    if [ "$st" = 125 ] && grep -q -- "$pattern" "$tmp/bad"; then
        pass "$name"
    else
        fail "$name: status $st"
        cat "$tmp/bad"
    fi
}
expect_125 "--net with an unknown backend" "unknown backend" --net bogus
expect_125 "--net user with a bad option" "unknown option" --net user,colour=blue
expect_125 "--net user,hostfwd with a malformed rule" "bad hostfwd" --net user,hostfwd=tcp::80
python3 -c 'import socket, sys, time
s = socket.socket(); s.bind(("127.0.0.1", 0)); s.listen(1)
print(s.getsockname()[1], flush=True); time.sleep(120)' >"$tmp/busy" &
busy_pid=$!
for _ in $(seq 50); do [ -s "$tmp/busy" ] && break; sleep 0.1; done
expect_125 "--net user,hostfwd on a port in use" "cannot listen" \
    --net "user,hostfwd=tcp::$(cat "$tmp/busy")-:80"
kill "$busy_pid" 2>/dev/null
finish
