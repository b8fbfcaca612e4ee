# Shared preamble of the shell test scripts (bash; sourced): the arguments, a temporary
# directory, a clean-up at exit that kills what the script started, result counting and the
# closing "N passed, N failed" line.
#
#   . "$(dirname "$0")/../lib/testlib.sh"
#   testlib_init /tmp/rvxyz.XXXXXX "$@"     (or "" for mktemp's own template)
#
# sets rvisor (absolute), fetch and guest from the arguments RVISOR [FETCH_SCRIPT [GUEST_DIR]]
# (GUEST_DIR defaults to the cached Debian guest; a script with other arguments names them all
# in $testlib_usage, for the usage message, and passes just these three), makes $tmp, and at
# exit kills every process in $pids (with $kill_signal, TERM by default), runs the script's
# `cleanup_more` if it has one and removes $tmp. `finish` runs the script's `diagnose` (if
# any) when a check failed, prints the closing line and exits with the result.

passed=0
failed=0
pids=''

pass() { passed=$((passed + 1)); echo "PASS: $1"; }
fail() { failed=$((failed + 1)); echo "FAIL: $1"; }

# check NAME CONDITION: one CONDITION word is shell code, evaluated; more words are a command
# and its arguments, run as they are.
check() {
    local name=$1
    shift
    if [ $# = 1 ]; then
        if eval "$1"; then pass "$name"; else fail "$name"; fi
    elif "$@"; then
        pass "$name"
    else
        fail "$name"
    fi
}

finish() {
    if [ "$failed" != 0 ] && declare -F diagnose >/dev/null; then
        diagnose
    fi
    echo "$passed passed, $failed failed"
    [ "$failed" = 0 ]
    exit $?
}

testlib_cleanup() {
    local p
    for p in $pids; do kill "-${kill_signal:-TERM}" "$p" 2>/dev/null; done
    if declare -F cleanup_more >/dev/null; then
        cleanup_more
    fi
    rm -rf "$tmp"
}

testlib_init() {
    local template=$1
    shift
    [ $# -ge 1 ] || { echo "usage: $0 ${testlib_usage:-RVISOR [FETCH_SCRIPT [GUEST_DIR]]}" >&2; exit 2; }
    rvisor=$(realpath "$1")
    fetch=${2:-}
    guest=${3:-${RVISOR_CACHE:-$HOME/.cache/rvisor}/debian}
    tmp=$(mktemp -d ${template:+"$template"}) || exit 1
    trap testlib_cleanup EXIT
    trap 'exit 130' INT TERM
}

# testlib_fetch_guest: runs the fetch script, if one was given; a failure ends the test.
testlib_fetch_guest() {
    [ -z "$fetch" ] || "$fetch" >/dev/null || { fail "fetching the Debian guest"; finish; }
}

# json_field KEY[.KEY...]: the value at that path of the JSON document on standard input
# (booleans as true/false; empty when absent or not JSON).
json_field() {
    python3 -c 'import json,sys
try:
    d=json.load(sys.stdin)
    for k in sys.argv[1].split("."): d=d[k]
except Exception: d=""
print(str(d).lower() if isinstance(d, bool) else d)' "$1"
}

# wait_for SECONDS COMMAND...: runs COMMAND every 0.2 s until it succeeds, for at most about
# SECONDS; returns COMMAND's last status.
wait_for() {
    local n=$(($1 * 5))
    shift
    while ! "$@" && [ $n -gt 0 ]; do sleep 0.2; n=$((n - 1)); done
    "$@"
}

# kill_manager_vms STATE: SIGKILLs the VM processes an `rvisor serve --state-dir STATE` started
# (their STATE/vms/*/pid.json), for a clean-up that must not leave them behind the manager.
kill_manager_vms() {
    local f
    for f in "$1"/vms/*/pid.json; do
        [ -f "$f" ] && kill -9 "$(sed -n 's/.*"pid": \([0-9]*\).*/\1/p' "$f")" 2>/dev/null
    done
}
