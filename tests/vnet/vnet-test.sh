#!/bin/bash
# Virtual networks end to end (docs/networks.md), with real Debian guests:
#   networks "red" (NAT uplink) and "blue" (no uplink, the same subnet), each its own switch
#   process; VMs A and B on red, C on blue, later D on red.
#   - A and B get DHCP leases from red's switch, ping each other, and B sends A a 3 MB file
#     with busybox nc (sha256 on both sides match); A fetches a file from the host's
#     127.0.0.1 through the NAT uplink (the gateway address).
#   - C gets a lease on blue but reaches neither A nor B; blue's switch delivered nothing to C
#     but its own DHCP answers, and neither capture holds a frame of the other network.
#   - blue's ports are limited to 100 frames/s: C's burst of 600 frames (four pings at once, so
#     that even a slow guest -- make asan -- sends faster than the limit) is shaped (the port
#     pauses, counted as throttled) and none is lost.
#   - D floods unknown-unicast frames on red while B sends A the file again: the flood is cut
#     by D's flood limit (counted), the transfer completes intact (the times are printed).
#   - A sends oversize frames and then frames with a forged source MAC: dropped and counted.
#   - A second VM asking for A's MAC is refused; --net switch:NOSUCH fails cleanly.
#   - A VM with two NICs, one on each network, gets a lease and a switch MAC on both.
#   - `rvisor net capture` files are valid pcap and show the DHCP exchange of A and B.
# Ends with "N passed, N failed". Usage: vnet-test.sh RVISOR [FETCH_SCRIPT [GUEST_DIR]]
set -u
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"
testlib_init /tmp/rvnet.XXXXXX "$@"
export RVISOR_STATE_DIR=$tmp/state
networks='red blue'
testlib_fetch_guest
[ -f "$guest/Image" ] && [ -f "$guest/initrd.img" ] || { fail "no Debian guest in $guest (guest/fetch-debian.sh)"; finish; }

# --- networks ---
"$rvisor" net create red --uplink nat --flood-pps 500 >"$tmp/create" 2>&1 &&
    "$rvisor" net create blue --uplink none --port-pps 100 >>"$tmp/create" 2>&1
rc=$?
check "net create red (nat) and blue (none)" '[ $rc = 0 ]'
"$rvisor" net list >"$tmp/list"
check "net list shows both running" 'grep -Eq "^red +10.77.0.0/24 +nat +running" "$tmp/list" && grep -Eq "^blue +10.77.0.0/24 +none +running" "$tmp/list"'
"$rvisor" net create red >"$tmp/err" 2>&1
rc=$?
check "net create of an existing network fails (125)" '[ $rc = 125 ] && grep -q "exists already" "$tmp/err"'
"$rvisor" net create bad --subnet 10.1.2.3/24 >"$tmp/err" 2>&1
rc=$?
check "net create with host bits in the subnet fails" '[ $rc = 125 ] && grep -q "host bits" "$tmp/err"'
"$rvisor" net create bad --uplink wifi >"$tmp/err" 2>&1
rc=$?
check "net create with a bad uplink fails" '[ $rc = 125 ] && grep -q "bad uplink" "$tmp/err"'
"$rvisor" net stats nosuch >"$tmp/err" 2>&1
rc=$?
check "net stats of a missing network fails" '[ $rc != 0 ] && grep -q "not running" "$tmp/err"'

"$rvisor" net capture red "$tmp/red.pcap" 2>/dev/null &
cap_red=$!
"$rvisor" net capture blue "$tmp/blue.pcap" 2>/dev/null &
cap_blue=$!
"$rvisor" net capture red "$tmp/five.pcap" --count 5 2>/dev/null &
cap_five=$!
pids="$cap_red $cap_blue $cap_five"

# --- a host service on 127.0.0.1 for the NAT uplink ---
mkdir "$tmp/www" && head -c 500000 /dev/urandom >"$tmp/www/blob"
host_sum=$(sha256sum "$tmp/www/blob" | cut -d' ' -f1)
serve_http "$tmp/www" 127.0.0.1

port() { # port NET MAC KEY: a counter of the port with that MAC
    python3 -c 'import json, sys
for p in json.load(open(sys.argv[1]))["ports"]:
    if p.get("mac") == sys.argv[2]:
        v = p
        for k in sys.argv[3].split("."): v = v[k]
        print(v)' "$tmp/$1.json" "$2" "$3"
}

# --- the guests ---
cat >"$tmp/A.sh" <<EOF
$DHCP_SNIPPET
read B;ping -c 3 -W 5 \$B>/dev/null&&echo PING-OK
wget -q -O /tmp/h http://10.77.0.1:$http_port/blob;sha256sum /tmp/h
mkfifo /tmp/f;exec 7<>/tmp/f
for i in 1 2;do read g;t=\$(cut -d' ' -f1 /proc/uptime);nc \$B 5000 <&7 >/tmp/y;e=\$(cut -d' ' -f1 /proc/uptime);sha256sum /tmp/y;echo GOT\$i=\$t-\$e;done
read g;ip link set eth0 mtu 4000;ping -c 2 -W 2 -s 3000 \$B>/dev/null||echo BIG-LOST;ip link set eth0 mtu 1500
ip link set eth0 address 02:00:00:00:00:99;ping -c 3 -W 3 \$B>/dev/null||echo SPOOF-LOST;read g
EOF
cat >"$tmp/B.sh" <<EOF
$DHCP_SNIPPET
head -c 3000000 /dev/urandom>/tmp/x;sha256sum /tmp/x
for i in 1 2;do echo LISTEN\$i;nc -l -p 5000 </tmp/x;done;read g
EOF
cat >"$tmp/C.sh" <<EOF
$DHCP_SNIPPET
ifconfig eth0 10.77.0.200 netmask 255.255.255.0
read AB;for ip in \$AB;do ping -c 2 -W 2 \$ip>/dev/null&&echo REACHED=\$ip||echo UNREACHED=\$ip;done;echo C-DONE
arp -s 10.77.0.250 02:00:00:00:00:01;for i in 1 2 3 4;do ping -q -c 150 -i 0.002 -s 100 10.77.0.250>/dev/null& done;wait;echo BURST-DONE;read g
EOF
cat >"$tmp/D.sh" <<EOF
$DHCP_SNIPPET
arp -s 10.77.0.250 02:00:00:00:00:01
for i in 1 2 3 4 5 6 7 8;do ping -q -i 0.002 -s 1000 -w 300 10.77.0.250>/dev/null& done;echo FLOODING;read g;killall ping;echo STOPPED
EOF
vm_start A 3 "$tmp/A.sh" switch:red
vm_start B 4 "$tmp/B.sh" switch:red
vm_start C 5 "$tmp/C.sh" switch:blue
for v in A B C; do vm_load $v || fail "VM $v did not boot"; done

for v in A B C; do wait_line $v '^MAC=' 400 || fail "VM $v got no DHCP lease"; done
ipA=$(field A IP) ipB=$(field B IP) ipC=$(field C IP)
macA=$(field A MAC) macB=$(field B MAC) macC=$(field C MAC)
echo "A=$ipA/$macA B=$ipB/$macB C=$ipC/$macC"
check "DHCP: A and B got distinct leases on red" '[ -n "$ipA" ] && [ -n "$ipB" ] && [ "$ipA" != "$ipB" ] && case $ipA$ipB in 10.77.0.*10.77.0.*) true;; *) false;; esac'
check "DHCP: red offers DNS 10.77.0.2 (NAT uplink), blue none" '[ "$(field A DNS)" = 10.77.0.2 ] && [ -z "$(field C DNS)" ]'
check "DHCP: C got a lease on blue" 'case $ipC in 10.77.0.*) true;; *) false;; esac'
check "switch-assigned MACs are distinct" '[ -n "$macA" ] && [ "$macA" != "$macB" ] && [ "$macA" != "$macC" ]'

vm_say A "$ipB"
vm_say C "$ipA $ipB"
wait_line A 'PING-OK|^[0-9a-f]{64}  /tmp/h' 120
check "A pings B" 'grep -q PING-OK "$tmp/A.out"'
wait_line A '/tmp/h' 120
check "A fetches a file from the host's 127.0.0.1 through the NAT uplink (sha256)" 'grep -q "^$host_sum  /tmp/h" "$tmp/A.out"'

wait_line B '^LISTEN1' 60 && sleep 0.5 && vm_say A go
wait_line A '^GOT1=' 300
sumB=$(sed -n 's|^\([0-9a-f]\{64\}\)  /tmp/x.*|\1|p' "$tmp/B.out")
sumA1=$(sed -n 's|^\([0-9a-f]\{64\}\)  /tmp/y.*|\1|p' "$tmp/A.out" | head -1)
check "B sends A 3 MB with nc: sha256 matches" '[ -n "$sumB" ] && [ "$sumB" = "$sumA1" ]'

wait_line C 'C-DONE' 120
check "C (blue) cannot reach A or B (red)" 'grep -q "UNREACHED=$ipA" "$tmp/C.out" && grep -q "UNREACHED=$ipB" "$tmp/C.out" && ! grep -q "^REACHED=" "$tmp/C.out"'

# --- blue's ports are limited to 100 frames/s: C's burst of 600 pings is shaped, not lost ---
wait_line C 'BURST-DONE' 120
for _ in $(seq 60); do
    "$rvisor" net stats blue --json >"$tmp/blue-burst.json"
    [ "$(port blue-burst "$macC" drops.no_route)" -ge 600 ] && break
    sleep 0.5
done
echo "C: $(port blue-burst "$macC" throttled) pauses for its rate limit, $(port blue-burst "$macC" drops.no_route) frames with nowhere to go (C is alone on blue)"
check "C's burst was throttled to its rate limit, and every frame still reached the switch" '[ "$(port blue-burst "$macC" throttled)" -gt 0 ] && [ "$(port blue-burst "$macC" drops.no_route)" -ge 600 ]'

# --- flood: D on red floods unknown unicast while A sends B the file again ---
vm_start D 6 "$tmp/D.sh" switch:red
vm_load D || fail "VM D did not boot"
wait_line D '^FLOODING' 400
wait_line B '^LISTEN2' 60 && sleep 0.5 && vm_say A go
wait_line A '^GOT2=' 400
sumA2=$(sed -n 's|^\([0-9a-f]\{64\}\)  /tmp/y.*|\1|p' "$tmp/A.out" | sed -n 2p)
check "the transfer during D's flood completes intact (sha256)" '[ -n "$sumB" ] && [ "$sumB" = "$sumA2" ]'
# A slow flooder (a sanitizer build) may stay under the limit while the transfer runs: the
# flood goes on until the switch has cut some of it (up to 30 s).
macD=$(field D MAC)
for i in $(seq 60); do
    "$rvisor" net stats red --json >"$tmp/red-flood.json"
    [ "$(port red-flood "$macD" drops.flood_limit)" -gt 0 ] 2>/dev/null && break
    sleep 0.5
done
vm_say D stop
t1=$(field A GOT1) t2=$(field A GOT2)
echo "transfer of 3 MB B->A: $(echo "$t1" | awk -F- '{printf "%.2f s", $2 - $1}') alone, $(echo "$t2" | awk -F- '{printf "%.2f s", $2 - $1}') during the flood"

# --- oversize and forged frames from A ---
wait_line D 'STOPPED' 60
vm_say A go
wait_line A 'SPOOF-LOST' 120
"$rvisor" net stats red --json >"$tmp/red.json"
"$rvisor" net stats blue --json >"$tmp/blue.json"
"$rvisor" net stats red >"$tmp/red.txt"
cat "$tmp/red.txt"
macD=$(field D MAC)
check "A's oversize frames were dropped and counted" 'grep -q BIG-LOST "$tmp/A.out" && [ "$(port red "$macA" drops.oversize)" -ge 2 ]'
check "A's frames with a forged source MAC were dropped and counted" 'grep -q SPOOF-LOST "$tmp/A.out" && [ "$(port red "$macA" drops.spoofed_mac)" -ge 3 ]'
echo "flooder D: $(port red-flood "$macD" in_frames) frames accepted, $(port red-flood "$macD" drops.flood_limit) dropped by its flood limit; A: $(port red-flood "$macA" drops.queue_full) dropped for A's full queue"
check "D's flood was cut by its flood limit (counted)" '[ "$(port red-flood "$macD" drops.flood_limit)" -gt 0 ]'
check "net stats shows the ports' leases" 'grep -q "$macA *$ipA" "$tmp/red.txt"'

# --- isolation: what blue's switch gave C, and what the captures hold ---
# (C is blue's only VM: every frame of the switch's own MAC there was an answer to C)
dhcp_to_C=$(python3 "$here/pcap-check.py" "$tmp/blue.pcap" summary | awk '$1 == "02:72:76:ff:ff:fe"' | wc -l)
check "C received nothing but its DHCP answers ($dhcp_to_C)" '[ "$(port blue "$macC" out_frames)" = "$dhcp_to_C" ] && [ "$dhcp_to_C" -ge 2 ]'

# Another VM with A's MAC is refused; a missing network is a clean error.
timeout 60 "$rvisor" run --kernel "$guest/Image" --net "switch:red,mac=$macA" </dev/null >"$tmp/err" 2>&1
rc=$?
check "a second port asking for A's MAC is refused (125)" '[ $rc = 125 ] && grep -q "in use" "$tmp/err"'
timeout 60 "$rvisor" run --kernel "$guest/Image" --net switch:nosuch </dev/null >"$tmp/err" 2>&1
rc=$?
check "--net switch:NOSUCH fails cleanly (125)" '[ $rc = 125 ] && grep -q "no switch" "$tmp/err"'

for v in A B C D; do vm_say $v end; done
for v in A B C D; do
    vm_wait $v
    eval "pid_$v="
    check "VM $v powered off (status $st)" '[ "$st" = 0 ]'
done

state5=$(ps -o stat= -p "$cap_five" 2>/dev/null) # ended: gone or a zombie
check "net capture --count 5 ended by itself with 5 frames" 'case $state5 in ""|Z*) true;; *) false;; esac && [ "$(python3 "$here/pcap-check.py" "$tmp/five.pcap" count)" = 5 ]'
kill -INT "$cap_red" "$cap_blue"
wait "$cap_red" "$cap_blue" 2>/dev/null
check "red's capture is a valid pcap with A's DHCP exchange" '[ "$(python3 "$here/pcap-check.py" "$tmp/red.pcap" dhcp "$macA")" = "DISCOVER OFFER REQUEST ACK" ]'
check "red's capture shows B's DHCP exchange" '[ "$(python3 "$here/pcap-check.py" "$tmp/red.pcap" dhcp "$macB")" = "DISCOVER OFFER REQUEST ACK" ]'
check "red's capture holds A-B traffic and no frame of C" '[ "$(python3 "$here/pcap-check.py" "$tmp/red.pcap" count-mac "$macB")" -gt 2000 ] && [ "$(python3 "$here/pcap-check.py" "$tmp/red.pcap" count-mac "$macC")" = 0 ]'
check "blue's capture holds no frame of A or B" '[ "$(python3 "$here/pcap-check.py" "$tmp/blue.pcap" count-mac "$macA")" = 0 ] && [ "$(python3 "$here/pcap-check.py" "$tmp/blue.pcap" count-mac "$macB")" = 0 ]'
if command -v tshark >/dev/null; then
    tshark -r "$tmp/red.pcap" -Y dhcp 2>/dev/null | head -4
fi

# Two NICs on two networks in one VM (after the captures: E's broadcasts reach C's network).
cat >"$tmp/E.sh" <<'ESCRIPT'
printf '#!/bin/sh\n[ "$1" = bound ]&&echo "$interface=$ip"\n'>/tmp/e;chmod +x /tmp/e
for i in eth0 eth1;do ifconfig $i up;udhcpc -i $i -n -q -f -t 10 -s /tmp/e 2>/dev/null|grep =;echo $i-MAC=$(cat /sys/class/net/$i/address);done
ESCRIPT
timeout 300 "$rvisor" run --kernel "$guest/Image" --initrd "$guest/initrd.img" --mem 144M \
    --net switch:red --net switch:blue --append "console=ttyS0 quiet rvisor.modules=virtio_mmio,virtio_net rvisor.cmd64=$(base64 -w0 "$tmp/E.sh")" </dev/null >"$tmp/E.out" 2>&1
rc=$?
check "a VM with NICs on red and blue gets a lease and a switch MAC on each (status $rc)" '[ $rc = 0 ] && grep -q "^eth0=10.77.0." "$tmp/E.out" && grep -q "^eth1=10.77.0." "$tmp/E.out" && grep -q "^eth0-MAC=02:72:76:${macA:9:2}:" "$tmp/E.out" && grep -q "^eth1-MAC=02:72:76:${macC:9:2}:" "$tmp/E.out"'

spid=$(cat "$RVISOR_STATE_DIR/net/red/switch.pid")
"$rvisor" net delete red && "$rvisor" net delete blue
check "net delete stops the switches and removes their state" '! kill -0 "$spid" 2>/dev/null && [ ! -e "$RVISOR_STATE_DIR/net/red" ] && [ "$("$rvisor" net list | wc -l)" = 1 ]'
finish
