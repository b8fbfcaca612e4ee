#!/bin/bash
# DNS forwarding of a NAT-uplinked network (docs/networks.md), hermetic: as root in a private
# mount and network namespace, /etc/resolv.conf is bind-mounted over with one naming a tiny DNS
# responder this test starts on 127.53.0.1:53 (dns-responder.py: probe.rvisor.test has the A
# record 203.0.113.77, every other name is NXDOMAIN). libslirp forwards queries to its DNS
# address to the first nameserver of /etc/resolv.conf, read by the switch process, so neither
# the host's resolvers nor its network take part. A Debian guest on `--uplink nat` gets its
# lease from the switch with DNS server N+2, writes it to its resolv.conf and resolves the name
# with busybox nslookup; a name that does not exist fails with NXDOMAIN; the responder saw both
# queries. Skipped (SKIP line, success) when not root or without namespaces.
# Ends with "N passed, N failed". Usage: dns-test.sh RVISOR [FETCH_SCRIPT [GUEST_DIR]]
set -u
if [ -z "${VNET_DNS_NS:-}" ]; then
    if [ "$(id -u)" != 0 ] || ! command -v ip >/dev/null || ! unshare -m -n true 2>/dev/null ||
        [ ! -e /etc/resolv.conf ]; then
        echo "SKIP: the DNS forwarding test needs root, ip, mount/network namespaces and an" \
            "/etc/resolv.conf to mount over"
        echo "0 passed, 0 failed"
        exit 0
    fi
    VNET_DNS_NS=1 exec unshare -m -n --propagation private bash "$0" "$@"
fi
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"
testlib_init /tmp/rvdns.XXXXXX "$@"
export RVISOR_STATE_DIR=$tmp/state
networks=d
diag_files=$tmp/queries
testlib_fetch_guest

ns=127.53.0.1
printf '# the vnet DNS test (private mount namespace)\nnameserver %s\n' "$ns" >"$tmp/resolv.conf"
ip link set lo up && mount --bind "$tmp/resolv.conf" /etc/resolv.conf
rc=$?
check "a private resolv.conf naming $ns in a private namespace" \
    '[ $rc = 0 ] && grep -q "^nameserver $ns\$" /etc/resolv.conf'
python3 "$here/dns-responder.py" "$ns" 53 probe.rvisor.test 203.0.113.77 "$tmp/queries" "$tmp/ready" &
pids="$pids $!"
for _ in $(seq 100); do [ -e "$tmp/ready" ] && break; sleep 0.1; done
check "the test's DNS responder listens on $ns:53" '[ -e "$tmp/ready" ]'

"$rvisor" net create d --subnet 10.79.0.0/24 --uplink nat >"$tmp/err" 2>&1
rc=$?
check "net create d --subnet 10.79.0.0/24 --uplink nat" '[ $rc = 0 ]'

cat >"$tmp/G.sh" <<EOF
$DHCP_SNIPPET
echo "nameserver \$(sed -n 's/.*DNS=//p' /tmp/dl)" >/etc/resolv.conf
nslookup -type=a probe.rvisor.test;echo NS1=\$?
nslookup -type=a nosuch.rvisor.test;echo NS2=\$?
EOF
vm_start G 3 "$tmp/G.sh" switch:d
vm_load G || fail "the VM did not boot"
wait_line G '^IP=' 300
check "the guest's lease is on 10.79.0.0/24 with DNS server 10.79.0.2 (DHCP option 6)" \
    'case $(field G IP) in 10.79.0.*) true;; *) false;; esac && [ "$(field G DNS)" = 10.79.0.2 ]'
wait_line G '^NS2=' 120
tr -d '\r' <"$tmp/G.out" >"$tmp/G.txt"
check "nslookup probe.rvisor.test through the switch gives 203.0.113.77" \
    'grep -q "^NS1=0" "$tmp/G.txt" && grep -Eq "^Address:?[[:space:]]+203\.0\.113\.77\$" "$tmp/G.txt"'
check "nslookup of a name that does not exist fails with NXDOMAIN" \
    'grep -q "^NS2=1" "$tmp/G.txt" && grep -q "NXDOMAIN" "$tmp/G.txt"'
check "the test's responder (not the host's resolver) answered both queries" \
    'grep -q " probe.rvisor.test 1 0\$" "$tmp/queries" && grep -q " nosuch.rvisor.test 1 3\$" "$tmp/queries"'
leases=$RVISOR_STATE_DIR/net/d/leases.json
check "the switch saved the lease in leases.json" \
    'grep -q "\"mac\": *\"$(field G MAC)\", *\"ip\": *\"$(field G IP)\"" "$leases"'
vm_wait G
pid_G=
check "the guest powered off (status $st)" '[ "$st" = 0 ]'
finish
