#!/bin/bash
# A virtual network with a tap uplink (rvisor net create NAME --uplink tap:IF), as root in a
# private network namespace: the host end of tap rvtap1 is 10.78.0.1/24; a Debian guest on the
# network gets its lease (router 10.78.0.1) from the switch, fetches a file from an HTTP server
# on the host side of the tap (sha256), and the host fetches a page from the guest's httpd; the
# uplink port's counters show the traffic. Skipped (SKIP line, success) when not root or
# without network namespaces. Ends with "N passed, N failed".
# Usage: tap-test.sh RVISOR [FETCH_SCRIPT [GUEST_DIR]]
set -u
if [ -z "${VNET_TAP_NS:-}" ]; then
    if [ "$(id -u)" != 0 ] || ! command -v ip >/dev/null || ! unshare -n true 2>/dev/null ||
        [ ! -c /dev/net/tun ]; then
        echo "SKIP: the tap uplink test needs root, ip, /dev/net/tun and network namespaces"
        echo "0 passed, 0 failed"
        exit 0
    fi
    VNET_TAP_NS=1 exec unshare -n bash "$0" "$@"
fi
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"
testlib_init /tmp/rvtap.XXXXXX "$@"
export RVISOR_STATE_DIR=$tmp/state
networks=t
testlib_fetch_guest

ip link set lo up && ip tuntap add dev rvtap1 mode tap && ip addr add 10.78.0.1/24 dev rvtap1 &&
    ip link set rvtap1 up
rc=$?
check "tap rvtap1 set up in a private namespace" '[ $rc = 0 ]'
"$rvisor" net create t --subnet 10.78.0.0/24 --uplink tap:rvtap1 >"$tmp/err" 2>&1
rc=$?
check "net create t --uplink tap:rvtap1" '[ $rc = 0 ]'
"$rvisor" net create u --uplink tap:nosuchtap0/x >"$tmp/err" 2>&1
rc=$?
check "a bad tap name is refused" '[ $rc = 125 ] && grep -q "bad tap" "$tmp/err"'

mkdir "$tmp/www" && head -c 400000 /dev/urandom >"$tmp/www/blob"
want=$(sha256sum "$tmp/www/blob" | cut -d' ' -f1)
serve_http "$tmp/www" 10.78.0.1

cat >"$tmp/T.sh" <<EOF
$DHCP_SNIPPET
route -n|grep -q '^0.0.0.0 *10.78.0.1 '&&echo ROUTER-OK
wget -q -O /tmp/b http://10.78.0.1:$http_port/blob;sha256sum /tmp/b
mkdir /w;echo hello-over-tap>/w/i;httpd -p 80 -h /w;echo FETCHED;read g
EOF
vm_start T 3 "$tmp/T.sh" switch:t
vm_load T || fail "the VM did not boot"
wait_line T '^IP=' 300
ipT=$(field T IP)
check "the guest got a lease on 10.78.0.0/24 with router 10.78.0.1" 'case $ipT in 10.78.0.*) true;; *) false;; esac && wait_line T ROUTER-OK 30'
wait_line T '^FETCHED' 120
check "the guest fetches 400 kB from the host over the tap uplink (sha256)" 'grep -q "^$want  /tmp/b" "$tmp/T.out"'
page=$(python3 -c 'import sys, urllib.request
print(urllib.request.urlopen("http://%s/i" % sys.argv[1], timeout=60).read().decode().strip())' "$ipT" 2>&1)
check "the host reaches the guest's web server through the tap" '[ "$page" = hello-over-tap ]'
"$rvisor" net stats t --json >"$tmp/t.json"
up_in=$(python3 -c 'import json, sys
print([p for p in json.load(open(sys.argv[1]))["ports"] if p["kind"] == "uplink"][0]["in_frames"])' "$tmp/t.json")
check "the uplink port counted the host's frames ($up_in)" '[ "$up_in" -gt 100 ]'
vm_say T end
vm_wait T
pid_T=
check "the guest powered off (status $st)" '[ "$st" = 0 ]'
finish
