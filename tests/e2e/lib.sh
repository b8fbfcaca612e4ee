# Shared helpers of the end-to-end tests (sourced by tests/e2e/*-test.sh, bash).
#
# After `e2e_init RVISOR`:
#   $rvisor   the rvisor binary          $guest  the Debian guest folder (Image, initrd.img)
#   $tmp      a private temporary folder, removed at exit (with every process in $e2e_pids)
#   $bios     "--bios .../fw_dynamic.bin" (Debian's OpenSBI) or "" with E2E_BIOS=builtin
#   $src      the repository's root
# pass/fail/finish count and print results; finish prints "N passed, N failed" and exits
# with 0 only if nothing failed.
# Environment: RVISOR_CACHE (as guest/fetch-debian.sh), E2E_BIOS=builtin|opensbi,
# RVISOR_RUN_ARGS (added to every `rvisor run`, e.g. --accel=interp), E2E_KEEP=1 keeps $tmp.

e2e_init() {
    rvisor=$1
    src=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
    guest=${RVISOR_CACHE:-$HOME/.cache/rvisor}/debian
    passed=0
    failed=0
    e2e_pids=""
    tmp=$(mktemp -d "${TMPDIR:-/tmp}/rvisor-e2e.XXXXXX")
    trap e2e_cleanup EXIT
    trap 'exit 130' INT TERM
    [ -x "$rvisor" ] || { fail "no rvisor binary at $rvisor"; finish; }
    "$src/guest/fetch-debian.sh" >"$tmp/fetch.log" 2>&1 ||
        { cat "$tmp/fetch.log"; fail "guest/fetch-debian.sh"; finish; }
    # Debian's OpenSBI by default: with rvisor's built-in SBI, Linux leaves scounteren.TM
    # clear (it sets it in its SBI PMU driver), so user-mode rdtime (the vDSO's clock) traps.
    if [ "${E2E_BIOS:-builtin}" = builtin ]; then
        bios=""
    else
        bios="--bios $guest/opensbi/fw_dynamic.bin"
    fi
}

e2e_cleanup() {
    local pid
    for pid in $e2e_pids; do
        kill -9 "$pid" 2>/dev/null
    done
    if [ "${E2E_KEEP:-0}" = 1 ]; then
        echo "kept $tmp"
    else
        rm -rf "$tmp"
    fi
}

pass() { passed=$((passed + 1)); echo "PASS: $1"; }
fail() { failed=$((failed + 1)); echo "FAIL: $1"; }
check() { # check NAME COMMAND...: PASS if the command succeeds
    local name=$1
    shift
    if "$@"; then pass "$name"; else fail "$name"; fi
}
# wait_socket PATH [TENTHS]: until PATH is a socket (a VM's API is up), at most TENTHS tenths of
# a second (300)
wait_socket() {
    local i=0
    while [ ! -S "$1" ] && [ $i -lt "${2:-300}" ]; do sleep 0.1; i=$((i + 1)); done
    [ -S "$1" ]
}
# bg_run LOG ARGS...: rvisor in the background, its pid in $bg_pid and in e2e_pids (killed at exit)
bg_run() {
    local log=$1
    shift
    "$rvisor" "$@" </dev/null >"$log" 2>&1 &
    bg_pid=$!
    e2e_pids="$e2e_pids $bg_pid"
}
finish() {
    echo "$passed passed, $failed failed"
    [ "$failed" = 0 ]
    exit $?
}

# e2e_append SCRIPT [MORE KERNEL PARAMETERS]: prints a kernel command line that loads the
# disk modules and runs the shell script SCRIPT (base64, so any bytes are fine; the whole
# command line must stay under 1024 bytes).
e2e_append() {
    local script=$1 line
    shift
    line=$(printf 'console=ttyS0 quiet rvisor.modules=virtio_mmio,virtio_blk,ext4 %s rvisor.cmd64=%s' \
        "$*" "$(printf '%s' "$script" | base64 -w0)")
    [ ${#line} -lt 1024 ] || echo "e2e_append: kernel command line too long (${#line} bytes)" >&2
    printf '%s' "$line"
}

# e2e_run OUT TIMEOUT RVISOR-RUN-ARGS...: boots the guest with stdin from /dev/null, output
# (console and stderr, carriage returns removed) in OUT; returns rvisor's exit status
# (124 is also what timeout(1) returns: the guest is then reported as hung).
e2e_run() {
    local out=$1 limit=$2 st
    shift 2
    timeout -k 10 "$limit" "$rvisor" run ${RVISOR_RUN_ARGS:-} $bios --kernel "$guest/Image" \
        --initrd "$guest/initrd.img" "$@" </dev/null >"$out.raw" 2>&1
    st=$?
    tr -d '\r' <"$out.raw" >"$out"
    return $st
}

# value OUT KEY: the rest of the last line "KEY rest" in OUT (guest results are printed
# as "E2E KEY VALUE" lines; carriage returns from the serial console are dropped).
value() {
    tr -d '\r' <"$1" | sed -n "s/^E2E $2 //p" | tail -n1
}

# A file's sha256 as stored in an ext4 image (debugfs, no mount): sha_in_image IMAGE PATH
sha_in_image() {
    local out=$tmp/debugfs.out
    rm -f "$out"
    debugfs -R "dump $2 $out" "$1" >/dev/null 2>&1 && [ -f "$out" ] &&
        sha256sum <"$out" | cut -d' ' -f1
}

# e2fsck -fn on IMAGE (raw, or converted to raw first with qemu-img for qcow2): prints
# the tail of its output on failure.
fsck_clean() {
    local img=$1 fmt=${2:-raw} raw=$1 st
    if [ "$fmt" != raw ]; then
        raw=$tmp/fsck.raw
        qemu-img convert -f "$fmt" -O raw "$img" "$raw" || return 1
    fi
    e2fsck -fn "$raw" >"$tmp/fsck.log" 2>&1
    st=$?
    [ "$st" = 0 ] || { echo "e2fsck exit $st:"; tail -15 "$tmp/fsck.log"; }
    [ "$raw" = "$img" ] || rm -f "$raw"
    return $st
}

# qemu-img check IMAGE: 0 (clean) required, or 0/3 (leaks only) with "leaks-ok".
qcow2_clean() {
    local st
    qemu-img check "$1" >"$tmp/qcheck.log" 2>&1
    st=$?
    if [ "$st" = 0 ] || { [ "${2:-}" = leaks-ok ] && [ "$st" = 3 ]; }; then
        return 0
    fi
    echo "qemu-img check exit $st:"
    head -20 "$tmp/qcheck.log"
    return 1
}

# The `rvisor img` tool: `rvisor img` when the command line has it, else E2E_RVIMG (the
# test's second argument) or tests/block's rvimg in the build tree.
rvimg_cmd() {
    if "$rvisor" img create --help 2>&1 | grep -q 'img create'; then
        echo "$rvisor img"
    elif [ -n "${E2E_RVIMG:-}" ]; then
        echo "$E2E_RVIMG"
    elif [ -x "$(dirname "$rvisor")/tests/block/rvimg" ]; then
        echo "$(dirname "$rvisor")/tests/block/rvimg"
    else
        return 1
    fi
}

# Tail of a guest's output, to explain a failure.
show() {
    echo "--- ${2:-guest output} (last ${3:-30} lines of $1) ---"
    tail -n "${3:-30}" "$1"
    echo "---"
}
