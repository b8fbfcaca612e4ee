#!/usr/bin/env bash
# The system calls a sandboxed VM of the run-time I/O profile makes *after* the lock-down
# (docs/sandbox.md): strace -f over `rvisor run` with a control API, a qcow2 disk and a vol:
# disk, then pause, snapshot, resume, an online volume grow, a reset (boot images read
# again), a live migration to a second rvisor, and a snapshot path that leaves the state
# directory. Prints the calls made after the seccomp filter was loaded, and every call the
# filter refused (EPERM) with its arguments: the allowlist should have every call of the first
# list and the second should show only the refused escape.
# (The volume is read-only: a snapshot of a VM with a writable vol: disk is not supported.)
# Usage: bench/sandbox-runtime-syscalls.sh RVISOR   (KEEP=1 keeps the trace, named at the end)
set -u
rvisor=$(realpath "$1")
guest=${RVISOR_CACHE:-$HOME/.cache/rvisor}/debian
tmp=$(mktemp -d)
trap 'kill -9 $(jobs -p) 2>/dev/null; [ -n "${KEEP:-}" ] || rm -rf "$tmp"' EXIT
export RVISOR_VOL_DEVICES=$tmp/devices
cd "$tmp" || exit 1
truncate -s 64M pv0.img
"$rvisor" vol pv-create pv0.img >/dev/null && "$rvisor" vol vg-create vg0 pv0.img >/dev/null &&
    "$rvisor" vol lv-create vg0/data --size 16M >/dev/null || exit 1
"$rvisor" img create -f qcow2 disk.qcow2 64M >/dev/null
loop='while true; do echo "size $(cat /sys/block/vdb/size)"; sleep 0.5; done'
strace -f -qq -o "$tmp/trace" "$rvisor" run --kernel "$guest/Image" --initrd "$guest/initrd.img" \
    --disk "$tmp/disk.qcow2" --disk vol:vg0/data,readonly --api-socket "$tmp/api.sock" \
    --console "file:$tmp/console" </dev/null >"$tmp/out" 2>&1 \
    --append "console=ttyS0 quiet rvisor.modules=virtio_mmio,virtio_blk rvisor.cmd64=$(printf '%s' "$loop" | base64 -w0)" &
for _ in $(seq 3000); do grep -q '^size' console 2>/dev/null && break; sleep 0.2; done
ctl() { "$rvisor" ctl "$tmp/api.sock" "$@" >/dev/null; }
ctl pause; ctl snapshot path=snap.rvs; ctl snapshot path=/etc/escape.rvs 2>/dev/null; ctl resume
"$rvisor" vol lv-resize vg0/data --size 24M >/dev/null
for _ in $(seq 600); do grep -q '^size 49152' console && break; sleep 0.2; done
ctl reset
for _ in $(seq 3000); do [ "$(grep -c '^size' console)" -gt 3 ] && break; sleep 0.2; done
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
"$rvisor" run --incoming "tcp:127.0.0.1:$port" --console none </dev/null >dst.out 2>&1 &
sleep 1
"$rvisor" migrate "$tmp/api.sock" --to "tcp:127.0.0.1:$port" >/dev/null 2>&1 ||
    echo "(the migration failed: $(cat dst.out))"
kill %2 2>/dev/null; wait %2 2>/dev/null; kill %1 2>/dev/null; wait %1 2>/dev/null
sleep 1
pid=$(head -1 trace | cut -d' ' -f1)
after=$(awk '/seccomp\(SECCOMP_SET_MODE_FILTER.* = 0$/ {on = 1; next} on' trace)
echo "calls after the lock-down:"
echo "$after" | sed -n 's/^[0-9]* *\([a-z0-9_]*\)(.*/\1/p' | sort -u | tr '\n' ' '
echo
echo "refused by the filter (EPERM):"
echo "$after" | grep 'EPERM' | sed "s/^$pid //" | sort | uniq -c | sort -rn | head -20
echo "trace: $tmp/trace"
