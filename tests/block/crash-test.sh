#!/bin/sh
# Crash test: a writer (blkwrite crash) does random writes, write-zeroes, discards and flushes
# on qcow2 images and is killed with SIGKILL at random times, over and over on the same
# images. After every kill:
#   - `qemu-img check` and `rvisor img check` must find no corruption (leaked clusters are
#     allowed: exit status 0 or 3);
#   - every sector written and flushed before the kill, and not written since, must read back
#     (through qemu-img) as it was flushed.
# Three images (512-byte, 4 KiB and 64 KiB clusters; the small ones grow refcount blocks and
# the refcount table) take turns; each run uses a random cache mode. At the end the leaks are
# repaired and qemu-img must find the images clean.
# Usage: crash-test.sh BUILD_DIR [ITERATIONS]
set -u
B=${1:?usage: crash-test.sh BUILD_DIR [ITERATIONS]}
N=${2:-30}
T=$(mktemp -d /tmp/rvblk-crash.XXXXXX)
pid=
cleanup() { [ -n "$pid" ] && kill -9 "$pid" 2>/dev/null; rm -rf "$T"; }
trap cleanup EXIT
cd "$T" || exit 1
fail=0
leaky=0

"$B/rvimg" create -o cluster_size=512 c0.qcow2 12M >/dev/null &&
"$B/rvimg" create -o cluster_size=4096 c1.qcow2 32M >/dev/null &&
"$B/rvimg" create -o cluster_size=65536 c2.qcow2 48M >/dev/null || exit 1

rand() { # rand N: a number in [0, N)
    od -An -tu4 -N4 /dev/urandom | awk -v n="$1" '{print $1 % n}'
}

i=0
while [ "$i" -lt "$N" ]; do
    img=c$((i % 3)).qcow2
    case $(rand 3) in 0) cache=writeback ;; 1) cache=unsafe ;; *) cache=none ;; esac
    seed=$(rand 1000000)
    rm -f ready
    "$B/blkwrite" crash "$img" state "$seed" "$cache" > ready 2> writer.err &
    pid=$!
    # wait until it has read the image and saved the starting state, then let it run
    for _ in $(seq 200); do [ -s ready ] && break; sleep 0.01; done
    if ! [ -s ready ]; then
        echo "FAIL: iteration $i: the writer did not start: $(cat writer.err)" >&2
        fail=$((fail + 1)); kill -9 "$pid" 2>/dev/null; wait "$pid" 2>/dev/null; pid=
        i=$((i + 1)); continue
    fi
    sleep "0.$(printf %03d "$(rand 600)")"
    kill -9 "$pid" 2>/dev/null
    wait "$pid" 2>/dev/null
    pid=
    if [ -s writer.err ]; then
        echo "FAIL: iteration $i ($img, $cache): writer error: $(cat writer.err)" >&2
        fail=$((fail + 1))
    fi
    qemu-img check "$img" > check.txt 2>&1
    st=$?
    if [ "$st" -ne 0 ] && [ "$st" -ne 3 ]; then
        echo "FAIL: iteration $i ($img, $cache, seed $seed): qemu-img check exited $st" >&2
        grep -v "^Leaked" check.txt | head -20 >&2
        fail=$((fail + 1))
    fi
    [ "$st" -eq 3 ] && leaky=$((leaky + 1))
    "$B/rvimg" check "$img" > rcheck.txt 2>&1
    rst=$?
    if [ "$rst" -ne "$st" ]; then
        echo "FAIL: iteration $i ($img): rvisor img check exited $rst, qemu-img check $st" >&2
        tail -5 rcheck.txt >&2
        fail=$((fail + 1))
    fi
    if ! qemu-img convert -O raw "$img" now.raw 2> conv.err; then
        echo "FAIL: iteration $i ($img): qemu-img convert: $(cat conv.err)" >&2
        fail=$((fail + 1))
    elif ! "$B/blkwrite" verify now.raw state > verify.txt 2>&1; then
        echo "FAIL: iteration $i ($img, $cache, seed $seed): flushed data lost" >&2
        cat verify.txt >&2
        fail=$((fail + 1))
    fi
    i=$((i + 1))
done

for img in c0.qcow2 c1.qcow2 c2.qcow2; do
    "$B/rvimg" check -r leaks "$img" > /dev/null 2>&1
    if ! qemu-img check "$img" > check.txt 2>&1; then
        echo "FAIL: $img not clean after repairing leaks" >&2
        head -20 check.txt >&2
        fail=$((fail + 1))
    fi
done
echo "crash test: $N kills, $leaky left leaked clusters, $fail failures"
[ "$fail" -eq 0 ]
