#!/bin/sh
# Differential tests: random RV64GC+B+Zicond programs run under rvisor (rvuser) and under
# qemu-riscv64 (the oracle); the integer, FP, fcsr and scratch-memory state after every
# sequence must be identical.
#
#   tests/diff/run-diff.sh [--build DIR | --bin DIR] [--seeds A-B] [-j N] [--keep DIR]
#                          [--no-minimize] [-- GEN_OPTIONS...]
#
#   --build DIR   CMake build tree (default: build); the tools are in DIR/tests/diff
#   --bin DIR     folder holding diff_gen, diff_cmp and rvuser directly
#   --seeds A-B   seeds to run, inclusive (or a single seed); one program per seed
#   -j N          parallel jobs (default: nproc)
#   --keep DIR    where the files of failing seeds are kept (default: BIN/failures)
#   --no-minimize do not bisect divergent sequences down to the first differing unit
#   --accel MODE  rvuser's execution engine: interp (default), jit, or lockstep (the
#                 translator, checked against the interpreter after every run as well)
#   GEN_OPTIONS   passed to diff_gen (--seqs N, --len MIN-MAX, --no-misaligned, ...)
#
# For every divergent sequence (the first 3 of each program) the driver bisects a
# one-sequence copy of the program, cut after fewer and fewer units, to the first unit after
# which the two states differ, and prints that unit with its input registers. Ends with the
# number of random instructions compared and "N passed, N failed" (sequences); exit status 0
# if all passed, 1 if any failed, 77 if the cross assembler or qemu-riscv64 is missing.
set -u

CROSS_CC=${CROSS_CC:-riscv64-linux-gnu-gcc}
QEMU=${QEMU:-qemu-riscv64}
ADDR2LINE=${ADDR2LINE:-riscv64-linux-gnu-addr2line}
TIMEOUT=${DIFF_TIMEOUT:-120}
ASFLAGS="-g -nostdlib -static -march=rv64gc_zba_zbb_zbc_zbs_zihintpause -mabi=lp64d
         -Wl,--build-id=none -Wl,--no-relax -Wl,--no-warn-rwx-segments"
here=$(cd "$(dirname "$0")" && pwd)

# ---- one program (run by xargs in parallel): writes $work/$seed.res and $work/$seed.log ----

build_and_run() { # prog.S dir -> dir/{qemu,rvisor}.{elf,out,err}; returns 0, 1 (oracle), 2 (rvisor)
    $CROSS_CC $ASFLAGS -Wa,--defsym,ORACLE=1 "$1" -o "$2/qemu.elf" 2>"$2/as.err" &&
        $CROSS_CC $ASFLAGS "$1" -o "$2/rvisor.elf" 2>>"$2/as.err" || return 1
    timeout "$TIMEOUT" $QEMU -cpu rv64 "$2/qemu.elf" >"$2/qemu.out" 2>"$2/qemu.err" </dev/null ||
        return 1
    timeout "$TIMEOUT" "$bin/rvuser" --accel "${RVUSER_ACCEL:-interp}" --stats "$2/rvisor.elf" \
        >"$2/rvisor.out" 2>"$2/rvisor.err" </dev/null || return 2
    return 0
}

# Bisects sequence $2 of program $1 to its first divergent unit and prints a reproducer.
minimize() {
    prog=$1 seq=$2 m=$3/min
    mkdir -p "$m"
    units=$(grep -c "^\.Ls${seq}_[0-9]*:$" "$prog")
    one() { awk -v seq="$seq" -v keep="$1" -v partial="${2:-0}" -f "$here/truncate.awk" "$prog" \
                >"$m/t$1.S" && build_and_run "$m/t$1.S" "$m" && cmp -s "$m/qemu.out" "$m/rvisor.out"; }
    if one "$units"; then
        echo "  (does not diverge when run alone; no minimization)"
        return
    fi
    if ! one 0; then
        echo "  diverges before any random instruction: loading or dumping the state is broken"
        return
    fi
    lo=0 hi=$units # invariant: prefix lo agrees, prefix hi differs
    while [ $((hi - lo)) -gt 1 ]; do
        mid=$(((lo + hi) / 2))
        if one $mid; then lo=$mid; else hi=$mid; fi
    done
    unit=$(awk -v l=".Ls${seq}_$lo:" '$0 == l { on = 1; next } on && /^\.Ls/ { exit } on' "$prog")
    echo "  first divergence: unit $lo of sequence $seq:"
    printf '%s\n' "$unit" | sed 's/^\t*/      /'
    n=$(printf '%s\n' "$unit" | grep -c "$(printf '^\t')")
    one $lo $((n - 1))
    echo "  inputs of its last instruction (both sides agree up to there):"
    "$bin/diff_cmp" --state "$m/qemu.out" "$(printf '%s\n' "$unit" | tail -n 1)"
    one $hi
    echo "  after it:"
    "$bin/diff_cmp" "$m/t$hi.S" "$m/qemu.out" "$m/rvisor.out" | sed -n '2,/initial state/p' |
        grep -v 'initial state'
    cp "$m/t$hi.S" "$3/seq$seq-min.S"
    echo "  reproducer: $keep/seed-$seed/seq$seq-min.S (its last unit diverges)"
    rm -rf "$m"
}

worker() {
    seed=$1 d=$work/$1
    mkdir -p "$d"
    log=$work/$seed.log
    : >"$log"
    "$bin/diff_gen" "$@" >"$d/prog.S" 2>>"$log" || {
        echo "ERROR 0 0 0 0" >"$work/$seed.res"; echo "generator failed" >>"$log"; return; }
    shift
    seqs=$(sed -n '1s/.*, \([0-9]*\) sequences$/\1/p' "$d/prog.S")
    insns=$(sed -n 's/^# diff-total-insns //p' "$d/prog.S")
    build_and_run "$d/prog.S" "$d"
    rc=$?
    instret=$(sed -n 's/^rvuser: instret //p' "$d/rvisor.err" 2>/dev/null)
    if [ $rc -eq 1 ]; then
        { echo "oracle side failed (assembler or qemu-riscv64): a generator bug"
          cat "$d/as.err" "$d/qemu.err" 2>/dev/null | head -20; } >>"$log"
        echo "FAIL $seqs $seqs $insns 0" >"$work/$seed.res"
    elif [ $rc -eq 2 ]; then
        { echo "rvuser failed:"; sed 's/^/  /' "$d/rvisor.err"
          pc=$(sed -n 's/.*, pc \(0x[0-9a-f]*\)$/\1/p' "$d/rvisor.err" | head -1)
          if [ -n "$pc" ]; then
              line=$($ADDR2LINE -e "$d/rvisor.elf" "$pc" 2>/dev/null | sed -n 's/.*:\([0-9]*\).*/\1/p')
              [ -n "$line" ] && awk -v n="$line" 'NR <= n && /^# seq [0-9]+ begin$/ { s = $3 }
                  NR == n { print "  at prog.S:" n " (sequence " s "):" $0 }' "$d/prog.S"
          fi; } >>"$log"
        echo "FAIL $seqs $seqs $insns ${instret:-0}" >"$work/$seed.res"
    else
        (cd "$d" && "$bin/diff_cmp" prog.S qemu.out rvisor.out >cmp.txt)
        differ=$(sed -n 's/^cmp: [0-9]* sequences, \([0-9]*\) differ$/\1/p' "$d/cmp.txt")
        if [ "${differ:-1}" -eq 0 ]; then
            echo "PASS $seqs 0 $insns ${instret:-0}" >"$work/$seed.res"
        else
            # the first three mismatch reports, each bisected to its first divergent unit
            for s in $(sed -n 's/^MISMATCH seq \([0-9]*\) .*/\1/p' "$d/cmp.txt" | head -3); do
                awk -v s="$s" '/^MISMATCH seq / { on = ($3 == s) } on' "$d/cmp.txt" |
                    sed '/^  initial state:/,$d' >>"$log"
                [ "$minimize" = 1 ] && minimize "$d/prog.S" "$s" "$d" >>"$log" 2>&1
            done
            echo "FAIL $seqs ${differ:-$seqs} $insns ${instret:-0}" >"$work/$seed.res"
        fi
    fi
    if grep -q '^PASS' "$work/$seed.res"; then
        rm -rf "$d"
    else
        mkdir -p "$keep" && rm -rf "$keep/seed-$seed" && mv "$d" "$keep/seed-$seed"
    fi
}

if [ "${1:-}" = "--worker" ]; then
    bin=$2 work=$3 keep=$4 minimize=$5
    shift 5
    worker "$@"
    exit 0
fi

# ---- driver ----

usage() { sed -n '2,/^set -u/p' "$0" | sed '$d; s/^# \{0,1\}//' >&2; exit 2; }
build=build bin="" seeds=1-8 jobs=$(nproc 2>/dev/null || echo 2) keep="" minimize=1
while [ $# -gt 0 ]; do
    case $1 in
    --build) build=$2; shift 2 ;;
    --bin) bin=$2; shift 2 ;;
    --seeds) seeds=$2; shift 2 ;;
    -j) jobs=$2; shift 2 ;;
    --keep) keep=$2; shift 2 ;;
    --no-minimize) minimize=0; shift ;;
    --accel) RVUSER_ACCEL=$2; export RVUSER_ACCEL; shift 2 ;;
    --) shift; break ;;
    *) usage ;;
    esac
done
[ -n "$bin" ] || bin=$build/tests/diff
bin=$(cd "$bin" 2>/dev/null && pwd) || { echo "run-diff: no such folder: $bin" >&2; exit 2; }
[ -n "$keep" ] || keep=$bin/failures
case $seeds in
*-*) first=${seeds%-*} last=${seeds#*-} ;;
*) first=$seeds last=$seeds ;;
esac
for tool in "$CROSS_CC" "$QEMU" timeout awk; do
    command -v "$tool" >/dev/null 2>&1 || {
        echo "run-diff: $tool not found (Debian: gcc-riscv64-linux-gnu, qemu-user); skipped"
        exit 77; }
done
for tool in diff_gen diff_cmp rvuser; do
    [ -x "$bin/$tool" ] || { echo "run-diff: $bin/$tool not built" >&2; exit 2; }
done

work=$(mktemp -d "${TMPDIR:-/tmp}/rvisor-diff.XXXXXX")
trap 'rm -rf "$work"' EXIT
trap 'exit 130' INT TERM
echo "differential test: seeds $first-$last, rvisor (--accel ${RVUSER_ACCEL:-interp}) vs" \
     "$($QEMU --version | head -1)"
seq "$first" "$last" |
    xargs -P "$jobs" -I @ sh "$0" --worker "$bin" "$work" "$keep" "$minimize" @ "$@"

passed=0 failed=0 insns=0 instret=0 programs=0 bad=""
for seed in $(seq "$first" "$last"); do
    res=$(cat "$work/$seed.res" 2>/dev/null || echo "ERROR 0 0 0 0")
    set -- $res
    programs=$((programs + 1))
    passed=$((passed + $2 - $3)) failed=$((failed + $3))
    insns=$((insns + $4)) instret=$((instret + $5))
    if [ "$1" = PASS ]; then
        echo "PASS seed $seed: $2 sequences, $4 random instructions"
    else
        [ "$1" = ERROR ] && failed=$((failed + 1))
        echo "FAIL seed $seed: $3 of $2 sequences differ (files: $keep/seed-$seed)"
        bad="$bad $seed"
    fi
done
shown=0
for seed in $bad; do
    shown=$((shown + 1))
    if [ $shown -gt 10 ]; then
        echo; echo "(details of the other failing seeds: $keep/seed-*)"
        break
    fi
    echo
    echo "=== seed $seed"
    head -c 20000 "$work/$seed.log"
done
echo
mi=$(awk -v n="$insns" 'BEGIN { printf "%.2f", n / 1e6 }')
echo "compared $insns random instructions ($mi million; rvisor retired $instret in total)" \
     "in $((passed + failed)) sequences of $programs programs"
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
