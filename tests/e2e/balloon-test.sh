#!/usr/bin/env bash
# End-to-end balloon test: the Debian guest with --mem 512M --balloon gives memory back to
# the host when the monitor asks (C-a c "balloon 128"), and gets it back ("balloon 512").
#
# One boot, console input through a FIFO held by this script (--escapes: C-a c opens the
# monitor even though stdin is not a terminal). The guest fills 300 MB of tmpfs, deletes it
# and drops its caches, so the host has those pages resident but the guest no longer needs
# them. Then:
#   - rvisor's VmRSS after the fill is at least 330 MB;
#   - "balloon 128": "info balloon" reaches actual=128 MiB within a bounded wait, rvisor's
#     VmRSS drops by at least 150 MB, and the guest's MemFree shrinks by at least 300 MB;
#   - "balloon 512": actual=512 MiB again, MemFree up by at least 300 MB again, and the
#     guest fills 320 MB of tmpfs with copies of a random file that all read back with the
#     right sha256 (memory returned by the balloon is usable and holds what is written);
#   - the guest powers off normally (status 0).
# No timing assertions: every wait is bounded and only the end state is checked.
#
# Usage: balloon-test.sh RVISOR
# Ends with "N passed, N failed"; exit status 0 only if all passed.
set -u
. "$(dirname "$0")/lib.sh"
e2e_init "${1:?usage: balloon-test.sh RVISOR}"
cd "$tmp" || exit 1

# The guest: fill, report, then obey one-word commands read from the console. Terse: the
# kernel command line (base64 of this) must stay under 1024 bytes.
cat >script <<'EOF'
mount -o remount,size=450M /dev/shm
dd if=/dev/zero of=/dev/shm/f bs=1M count=300 2>/dev/null&&echo E2E filled ok
rm /dev/shm/f;sync;echo 3 >/proc/sys/vm/drop_caches
m(){ echo E2E memfree-$1 $(awk '/^MemFree/{print $2}' /proc/meminfo);}
m 0
while read -r c;do
case $c in
mem*)m ${c#mem};;
fill)cd /dev/shm;head -c 16777216 /dev/urandom>s;w=$(sha256sum<s);k=0
for i in $(seq 20);do cp s c$i;done
for i in $(seq 20);do [ "$(sha256sum<c$i)" = "$w" ]&&k=$((k+1));done
echo E2E fill-ok $k;rm s c*;cd /;echo 3 >/proc/sys/vm/drop_caches;;
quit)break;;
esac
echo "E2E done $c"
done
EOF
append="console=ttyS0 quiet rvisor.modules=virtio_mmio,virtio_balloon rvisor.cmd64=$(base64 -w0 script)"
[ ${#append} -lt 1024 ] || { fail "guest script too long for the kernel command line"; finish; }

mkfifo in
exec 3<>in
"$rvisor" run ${RVISOR_RUN_ARGS:-} $bios --kernel "$guest/Image" --initrd "$guest/initrd.img" \
    --mem 512M --balloon --escapes --append "$append" <in >out 2>err &
vm=$!
e2e_pids="$e2e_pids $vm"

rss_mb() { awk '/^VmRSS/ { print int($2 / 1024) }' "/proc/$vm/status" 2>/dev/null; }
# wait_for FILE PATTERN SECONDS
wait_for() {
    local deadline=$((SECONDS + $3))
    while [ $SECONDS -lt $deadline ]; do
        tr -d '\r' <"$1" | grep -q "$2" && return 0
        kill -0 "$vm" 2>/dev/null || return 1
        sleep 0.5
    done
    return 1
}
monitor() { printf '\001c%s\n' "$1" >&3; }
# The guest's size in MiB as "info balloon" reports it ("balloon: actual=N MiB ...").
actual() {
    local before
    before=$(grep -c '^balloon:' <(tr -d '\r' <err))
    monitor "info balloon"
    for _ in $(seq 20); do
        [ "$(grep -c '^balloon:' <(tr -d '\r' <err))" -gt "$before" ] && break
        sleep 0.1
    done
    tr -d '\r' <err | sed -n 's/^balloon: actual=\([0-9]*\) MiB.*/\1/p' | tail -n1
}
# wait_actual MIB SECONDS: polls "info balloon" until actual = MIB.
wait_actual() {
    local deadline=$((SECONDS + $2))
    while [ $SECONDS -lt $deadline ]; do
        [ "$(actual)" = "$1" ] && return 0
        kill -0 "$vm" 2>/dev/null || return 1
        sleep 1
    done
    return 1
}
# guest CMD KEY SECONDS: sends CMD to the guest's loop, waits for its "E2E done CMD".
guest_do() {
    local n
    n=$(tr -d '\r' <out | grep -c "^E2E done $1\$")
    echo "$1" >&3
    local deadline=$((SECONDS + $2))
    while [ $SECONDS -lt $deadline ]; do
        [ "$(tr -d '\r' <out | grep -c "^E2E done $1\$")" -gt "$n" ] && return 0
        kill -0 "$vm" 2>/dev/null || return 1
        sleep 0.5
    done
    return 1
}

if ! wait_for out '^E2E memfree-0 ' 600; then
    fail "the guest did not boot and fill its memory"
    show out; show err "rvisor stderr" 10
    finish
fi
[ "$(value out filled)" = ok ] && pass "guest filled 300 MB of tmpfs and freed it" ||
    fail "guest fill: '$(value out filled)'"
mem0=$(value out memfree-0)
sleep 2
rss_full=$(rss_mb)
echo "rvisor VmRSS after the fill: ${rss_full} MB; guest MemFree ${mem0} kB"
[ "${rss_full:-0}" -ge 330 ] && pass "rvisor's RSS holds the guest's filled pages (${rss_full} MB >= 330 MB)" ||
    fail "rvisor's RSS after the fill: ${rss_full:-?} MB, expected >= 330 MB"

a0=$(actual)
[ "$a0" = 512 ] && pass "info balloon before: actual=512 MiB" || fail "info balloon before: actual='$a0'"

monitor "balloon 128"
if wait_actual 128 240; then
    pass "balloon 128: info balloon reports actual=128 MiB"
else
    fail "balloon 128: actual='$(actual)' after 240 s"
    tail -5 err
fi
# Released pages leave the RSS when the device processes the inflate queue; allow a moment.
rss_small=$rss_full
for _ in $(seq 30); do
    rss_small=$(rss_mb)
    [ $((rss_full - ${rss_small:-rss_full})) -ge 150 ] && break
    sleep 1
done
echo "rvisor VmRSS after balloon 128: ${rss_small} MB"
[ $((rss_full - ${rss_small:-rss_full})) -ge 150 ] &&
    pass "rvisor's RSS dropped by $((rss_full - rss_small)) MB (>= 150 MB)" ||
    fail "rvisor's RSS went from ${rss_full} MB to ${rss_small:-?} MB (drop < 150 MB)"
tr -d '\r' <err | grep '^balloon:' | tail -n1 | grep -q 'released=[1-9]' &&
    pass "info balloon: $(tr -d '\r' <err | grep '^balloon:' | tail -n1)" ||
    fail "info balloon: '$(tr -d '\r' <err | grep '^balloon:' | tail -n1)'"

# rvisor offers VIRTIO_BALLOON_F_DEFLATE_ON_OOM, so Linux keeps MemTotal and counts the
# balloon's pages as allocated: MemFree shows them.
guest_do mem1 60
mem1=$(value out memfree-1)
[ -n "$mem0" ] && [ -n "$mem1" ] && [ $((mem0 - mem1)) -ge 300000 ] &&
    pass "guest MemFree went from $mem0 kB to $mem1 kB (the balloon holds the pages)" ||
    fail "guest MemFree: '$mem0' kB -> '$mem1' kB"

monitor "balloon 512"
wait_actual 512 240 && pass "balloon 512: info balloon reports actual=512 MiB again" ||
    fail "balloon 512: actual='$(actual)' after 240 s"
guest_do mem2 60
mem2=$(value out memfree-2)
[ -n "$mem2" ] && [ -n "$mem1" ] && [ $((mem2 - mem1)) -ge 300000 ] &&
    pass "guest MemFree back to $mem2 kB (was $mem0 kB before the balloon)" ||
    fail "guest MemFree after deflation '$mem2' kB, inflated '$mem1' kB, before '$mem0' kB"
guest_do fill 600
[ "$(value out fill-ok)" = 20 ] &&
    pass "after deflation the guest filled 320 MB, all 20 copies read back intact" ||
    fail "after deflation: $(value out fill-ok)/20 copies intact"

echo quit >&3
end=no
for _ in $(seq 240); do kill -0 "$vm" 2>/dev/null || { end=yes; break; }; sleep 0.5; done
if [ "$end" = yes ]; then
    wait "$vm"
    st=$?
    [ "$st" = 0 ] && pass "guest powered off (status 0)" || { fail "rvisor status $st"; show out; }
else
    fail "guest did not power off"
fi
[ "$failed" = 0 ] || { show out; show err "rvisor stderr" 10; }
finish
