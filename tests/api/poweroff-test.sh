#!/bin/bash
# The API's poweroff, the ACPI-like request: it presses the board's power button (virtio-input,
# KEY_POWER) and the Debian guest shuts down by itself.
#  1. The test initramfs's handler (the default rvisor.powerbutton=poweroff): `rvisor ctl
#     poweroff` answers at once with the VM running, the guest's console shows its shutdown
#     and the kernel's power-down, and rvisor exits 0 through the syscon power-off.
#  2. A guest with the driver but no handler: the key press reaches it as evdev events (its
#     command reads and prints them: press, SYN_REPORT, release, SYN_REPORT) and does nothing
#     else; the guest ends with its own status, 7.
#  3. A guest without the driver: poweroff is refused (unsupported), the VM runs on; poweroff
#     with force=true stops it at once (exit 0).
#  4. --no-power-button: no device-tree node, status "absent", poweroff unsupported.
#  5. A press while paused is part of a snapshot: poweroff on the paused VM, snapshot, kill;
#     the restored VM's guest shuts down by itself (exit 0).
#  6. The console monitor's powerdown (C-a c powerdown) presses the button too, here with the
#     guest's interactive shell in the foreground (which ignores SIGTERM, so the handler's
#     SIGKILL ends it).
# Usage: poweroff-test.sh RVISOR FETCH_SCRIPT [GUEST_DIR]. Ends with "N passed, N failed".
set -u
. "$(dirname "$0")/../lib/testlib.sh"
testlib_init "" "$@"
kill_signal=KILL

# Generous limits (the machine may be loaded): 10 minutes for a boot, 5 for a shutdown.
# boot VM APPEND [OPTIONS...]: starts a VM with its API at $tmp/VM.sock, console in
# $tmp/VM.console; sets $vm (ctl and the waits use it), $pid and $pids.
boot() {
    vm=$1 append=$2
    shift 2
    "$rvisor" run --kernel "$guest/Image" --initrd "$guest/initrd.img" --mem 256M \
        --append "console=ttyS0 quiet $append" --console "file:$tmp/$vm.console" \
        --api-socket "$tmp/$vm.sock" "$@" </dev/null >"$tmp/$vm.out" 2>&1 &
    pid=$!
    pids=$pid
    i=0
    while [ ! -S "$tmp/$vm.sock" ] && [ $i -lt 600 ]; do sleep 0.1; i=$((i + 1)); done
}
ctl() { "$rvisor" ctl "$tmp/$vm.sock" "$@"; }
# wait_button VALUE: until status says power_button VALUE
wait_button() {
    i=0
    while [ "$(ctl status 2>/dev/null | json_field power_button)" != "$1" ] && [ $i -lt 3000 ]; do
        sleep 0.2; i=$((i + 1))
    done
    test "$(ctl status 2>/dev/null | json_field power_button)" = "$1"
}
wait_console() {
    i=0
    while ! grep -q "$1" "$tmp/$vm.console" 2>/dev/null && [ $i -lt 3000 ]; do
        sleep 0.2; i=$((i + 1))
    done
    grep -q "$1" "$tmp/$vm.console"
}
# wait_exit: waits up to 5 minutes for the VM process; sets $rc (-1: still running, killed)
wait_exit() {
    i=0
    while kill -0 "$pid" 2>/dev/null && [ $i -lt 1500 ]; do sleep 0.2; i=$((i + 1)); done
    if kill -0 "$pid" 2>/dev/null; then
        kill -9 "$pid"; wait "$pid"; rc=-1
    else
        wait "$pid"; rc=$?
    fi
    pids=
}

testlib_fetch_guest

# --- 1. the guest's handler shuts it down ------------------------------------------------------
boot handler "rvisor.cmd=echo%20guest-up;sleep%20600"
check "status before the guest's driver is up: no-driver or ready" \
    sh -c "'$rvisor' ctl '$tmp/handler.sock' status | grep -q '\"power_button\": \"\\(no-driver\\|ready\\)\"'"
check "the guest binds the power button (status ready)" wait_button ready
check "the guest's command runs (its init reads the button)" wait_console guest-up
check "ctl poweroff: accepted, the VM still runs" test "$(ctl poweroff | json_field state)" = running
wait_exit
check "rvisor exits 0 through the guest's syscon power-off (got $rc)" test "$rc" = 0
check "console: the handler saw KEY_POWER" grep -q "rvisor-guest: power button pressed" "$tmp/handler.console"
check "console: init shut down" grep -q "rvisor-guest: powering off" "$tmp/handler.console"
check "console: the kernel powered down" grep -q "reboot: Power down" "$tmp/handler.console"
check "console: the command did not finish on its own" sh -c "! grep -q 'rvisor-guest: exit' '$tmp/handler.console'"
check "API socket removed" test ! -e "$tmp/handler.sock"

# --- 2. driver, no handler: the events arrive, nothing else happens --------------------------
reader='exec 3</dev/input/event0; echo reader-ready; for i in 1 2 3 4; do set -- $(dd bs=24 count=1 <&3 2>/dev/null | od -An -tu2 -j16 -N8); echo "event $*"; done; exit 7'
boot nohandler "rvisor.powerbutton=off rvisor.modules=virtio_mmio,virtio_input,evdev rvisor.cmd64=$(printf '%s' "$reader" | base64 -w0)"
check "no handler: driver bound" wait_button ready
check "no handler: the guest's reader is ready" wait_console reader-ready
check "no handler: poweroff accepted" test "$(ctl poweroff | json_field state)" = running
wait_exit
check "no handler: the guest ends with its own status 7 (got $rc)" test "$rc" = 7
grep '^event' "$tmp/nohandler.console" | tr -d '\r' >"$tmp/events"
printf 'event 1 116 1 0\nevent 0 0 0 0\nevent 1 116 0 0\nevent 0 0 0 0\n' >"$tmp/expected"
check "no handler: evdev got press, SYN_REPORT, release, SYN_REPORT" cmp -s "$tmp/events" "$tmp/expected"
cat "$tmp/events"
check "no handler: no shutdown" sh -c "! grep -q 'powering off' '$tmp/nohandler.console'"

# --- 3. no driver: refused, the VM runs on; force stops it ------------------------------------
boot nodriver "rvisor.powerbutton=off rvisor.cmd=echo%20guest-up;sleep%20600"
check "no driver: the guest is up" wait_console guest-up
check "no driver: status no-driver" test "$(ctl status | json_field power_button)" = no-driver
ctl poweroff >/dev/null 2>"$tmp/err"; crc=$?
check "no driver: poweroff refused (exit 1, unsupported)" sh -c "test $crc = 1 && grep -q unsupported '$tmp/err'"
check "no driver: still running" test "$(ctl status | json_field state)" = running
check "no driver: poweroff force=true stops it" test "$(ctl poweroff force=true | json_field state)" = stopped
wait_exit
check "no driver: exit 0 after the forced poweroff (got $rc)" test "$rc" = 0

# --- 4. --no-power-button ---------------------------------------------------------------------
"$rvisor" run --kernel "$guest/Image" --dump-dtb "$tmp/with.dtb" >/dev/null 2>&1
"$rvisor" run --kernel "$guest/Image" --no-power-button --dump-dtb "$tmp/without.dtb" >/dev/null 2>&1
check "device tree: virtio_mmio@10009000 with interrupt 9" \
    sh -c "dtc -I dtb -O dts '$tmp/with.dtb' 2>/dev/null | grep -A6 'virtio_mmio@10009000' | grep -q 'interrupts = <0x09>'"
check "device tree: no node with --no-power-button" \
    sh -c "dtc -I dtb -O dts '$tmp/without.dtb' 2>/dev/null | grep -q 'serial@10000000' && ! dtc -I dtb -O dts '$tmp/without.dtb' 2>/dev/null | grep -q 10009000"
boot absent "rvisor.cmd=sleep%20600" --no-power-button
check "no button: status absent" test "$(ctl status | json_field power_button)" = absent
ctl poweroff >/dev/null 2>"$tmp/err"
check "no button: poweroff unsupported" grep -q "unsupported.*no power button" "$tmp/err"
check "no button: kill" test "$(ctl kill | json_field state)" = stopped
wait_exit
check "no button: exit 127 after kill (got $rc)" test "$rc" = 127

# --- 5. a press while paused goes along with a snapshot -----------------------------------------
boot snap "rvisor.cmd=echo%20guest-up;sleep%20600"
check "snapshot: the guest binds the button" wait_button ready
check "snapshot: the guest's command runs" wait_console guest-up
check "snapshot: pause" test "$(ctl pause | json_field state)" = paused
check "snapshot: poweroff while paused is accepted" test "$(ctl poweroff | json_field state)" = paused
check "snapshot: written" sh -c "'$rvisor' snapshot '$tmp/snap.sock' '$tmp/snap.rvs' >/dev/null"
check "snapshot: kill the original" test "$(ctl kill | json_field state)" = stopped
wait_exit
check "snapshot: the original never shut down" sh -c "! grep -q 'power button pressed' '$tmp/snap.console'"
"$rvisor" restore "$tmp/snap.rvs" --console "file:$tmp/restored.console" </dev/null \
    >"$tmp/restored.out" 2>&1 &
pid=$!
pids=$pid
wait_exit
check "snapshot: the restored VM exits 0 through the guest's power-off (got $rc)" test "$rc" = 0
check "snapshot: the restored guest saw the press and shut down" \
    sh -c "grep -q 'power button pressed' '$tmp/restored.console' && grep -q 'powering off' '$tmp/restored.console'"

# --- 6. the console monitor -------------------------------------------------------------------
mkfifo "$tmp/in"
vm=mon
"$rvisor" run --kernel "$guest/Image" --initrd "$guest/initrd.img" --mem 256M --escapes \
    --append "console=ttyS0 quiet" <"$tmp/in" >"$tmp/mon.console" 2>&1 &
pid=$!
pids=$pid
exec 4>"$tmp/in"
check "monitor: the guest's shell prompts" wait_console 'rvisor-guest:~#'
printf 'echo shell-$((6*7))\r' >&4
check "monitor: the shell runs a command" wait_console shell-42
printf '\001cpowerdown\r' >&4
wait_exit
exec 4>&-
check "monitor: powerdown: exit 0 through the guest's power-off (got $rc)" test "$rc" = 0
check "monitor: the guest shut down by itself" grep -q 'rvisor-guest: powering off' "$tmp/mon.console"
finish
