#!/bin/bash
# `rvisor vol` end to end: PVs, VGs and LVs through the command line, reports (--json checked
# with python3), refusals with clear messages, an NBD export read and written by qemu-img and
# nbdinfo/nbdcopy (exact bytes), corrupted and truncated metadata areas, and a mirror whose
# second leg's backing file is deleted (still serves the right data, reported degraded), and a
# backup of a classic snapshot over a read-only NBD export while its origin is written.
# usage: vol-cli-test.sh RVISOR BLKCAT
rvisor=$(realpath "$1")
blkcat=$(realpath "$2")
tmp=$(mktemp -d "${TMPDIR:-/tmp}/rvisor-vol.XXXXXX")
passed=0
failed=0
server=""
cleanup() {
    [ -n "$server" ] && kill "$server" 2>/dev/null && wait "$server" 2>/dev/null
    rm -rf "$tmp"
}
trap cleanup EXIT
export RVISOR_VOL_DEVICES=$tmp/devices
pass() { passed=$((passed + 1)); echo "PASS: $1"; }
fail() { failed=$((failed + 1)); echo "FAIL: $1"; }
check() { local n=$1; shift; if "$@" >"$tmp/out" 2>&1; then pass "$n"; else fail "$n"; cat "$tmp/out"; fi; }
# refuse NAME PATTERN COMMAND...: the command fails and says PATTERN
refuse() {
    local n=$1 pat=$2
    shift 2
    if "$@" >"$tmp/out" 2>&1; then fail "$n (succeeded)"; cat "$tmp/out"; return; fi
    if grep -q -- "$pat" "$tmp/out"; then pass "$n"; else fail "$n: $(cat "$tmp/out")"; fi
}
vol() { "$rvisor" vol "$@"; }
json() { vol "$1" --json | python3 -c "import json,sys; rows=json.load(sys.stdin); $2"; }

cd "$tmp" || exit 1
for i in 0 1 2; do truncate -s 64M pv$i.img; done
check "pv-create" vol pv-create pv0.img pv1.img pv2.img
refuse "pv-create twice" "already a physical volume" vol pv-create pv0.img
truncate -s 100K small.img
refuse "pv-create too small" "too small" vol pv-create small.img
refuse "vg-create bad name" "bad volume group name" vol vg-create "a/b" pv0.img
refuse "vg-create bad extent size" "power of two" vol vg-create vg0 pv0.img --extent-size 3000
check "vg-create" vol vg-create vg0 pv0.img pv1.img --extent-size 1M
refuse "vg-create again" "already exists" vol vg-create vg0 pv2.img
refuse "vg-create on a used PV" "already in volume group" vol vg-create vg1 pv0.img
check "vg-extend" vol vg-extend vg0 pv2.img
check "vgs --json" json vgs "assert rows[0]['pvs']==3 and rows[0]['extents']==3*61, rows"
check "lv-create striped" vol lv-create vg0/str --size 24M --stripes 3 --stripe-size 64K
check "lv-create linear" vol lv-create vg0/lin --size 80M
check "lv-create mirror" vol lv-create vg0/mir --size 8M --mirrors 1
refuse "lv-create too big" "not enough free extents" vol lv-create vg0/big --size 1G
refuse "lv-create duplicate" "already exists" vol lv-create vg0/lin --size 1M
refuse "lv-create 4 stripes on 3 PVs" "needs 2 to 3" vol lv-create vg0/s4 --size 4M --stripes 4
refuse "lv-create no size" "--size is required" vol lv-create vg0/x
refuse "lv-resize shrink without --shrink" "needs --shrink" vol lv-resize vg0/lin --size 40M
refuse "unknown command" "unknown command" vol frobnicate
refuse "vg-reduce a used PV" "still in use" vol vg-reduce vg0 pv0.img
check "lvs --json" json lvs "
t={r['lv']:r for r in rows}
assert t['lin']['size']==80<<20 and t['lin']['type']=='linear'
assert t['str']['stripes']==3 and len(t['str']['areas'])==3
assert len({a['runs'][0]['pv'] for a in t['str']['areas']})==3
m=t['mir']['areas']; assert m[0]['runs'][0]['pv']!=m[1]['runs'][0]['pv']
assert all(r['status']=='ok' for r in rows)"
check "pvs" json pvs "assert len(rows)==3 and sum(1 for r in rows if r['vg']=='vg0')==3"
check "check clean" vol check

# --- NBD: qemu-img and libnbd clients against `rvisor vol serve` ---
port=$((20000 + RANDOM % 20000))
"$rvisor" vol serve --nbd 127.0.0.1:$port 2>"$tmp/serve.log" &
server=$!
for _ in $(seq 50); do grep -q serving "$tmp/serve.log" && break; sleep 0.1; done
head -c 24M /dev/urandom >str.data
head -c 8M /dev/urandom >mir.data
check "qemu-img writes the striped LV over NBD" \
    qemu-img convert -n -f raw -O raw str.data "nbd://127.0.0.1:$port/vg0/str"
check "qemu-img writes the mirror over NBD" \
    qemu-img convert -n -f raw -O raw mir.data "nbd://127.0.0.1:$port/vg0/mir"
check "qemu-img reads the exact bytes" \
    qemu-img convert -f raw -O raw "nbd://127.0.0.1:$port/vg0/str" back.data
check "same bytes" cmp str.data back.data
check "qemu-img info size" sh -c "qemu-img info --output=json nbd://127.0.0.1:$port/vg0/mir | grep -q '\"virtual-size\": 8388608'"
if command -v nbdinfo >/dev/null; then
    check "nbdinfo --list" sh -c "nbdinfo --list nbd://127.0.0.1:$port | grep -q 'vg0/str'"
    check "nbdinfo size" sh -c "[ \$(nbdinfo --size nbd://127.0.0.1:$port/vg0/lin) = 83886080 ]"
    check "nbdcopy out" nbdcopy "nbd://127.0.0.1:$port/vg0/mir" copy.data
    check "nbdcopy exact" cmp mir.data copy.data
    head -c 80M /dev/urandom >lin.data
    check "nbdcopy in" nbdcopy lin.data "nbd://127.0.0.1:$port/vg0/lin"
    check "nbdcopy round trip" sh -c "nbdcopy nbd://127.0.0.1:$port/vg0/lin - | cmp - lin.data"
else
    fail "nbdinfo/nbdcopy missing (apt-get install libnbd-bin)"
fi
refuse "unknown export" "" qemu-img info "nbd://127.0.0.1:$port/vg0/nope"
kill "$server"; wait "$server" 2>/dev/null; server=""
check "striped LV via the block backend" sh -c "'$blkcat' vol:vg0/str | cmp - str.data"

# --- pv-move, then the data is still the same ---
truncate -s 64M pv3.img
check "vg-extend for pv-move" sh -c "'$rvisor' vol pv-create pv3.img && '$rvisor' vol vg-extend vg0 pv3.img"
refuse "pv-move with no room" "not enough free extents" vol pv-move vg0 "$tmp/pv1.img" --lv str --to pv0.img
check "pv-move" vol pv-move vg0 "$tmp/pv1.img" --lv str
check "pv-move used pv3" json lvs "assert any(a['runs'][0]['pv'].endswith('pv3.img') for a in [r for r in rows if r['lv']=='str'][0]['areas'])"
check "striped LV after pv-move" sh -c "'$blkcat' vol:vg0/str | cmp - str.data"
check "lv-resize grow" vol lv-resize vg0/str --size 30M
check "grown part reads zeros" sh -c "'$blkcat' vol:vg0/str | tail -c 6291456 | cmp - /dev/zero 2>&1 | grep -q EOF"

# --- thin pool, thin volume, snapshots ---
check "thin pool" vol lv-create vg0/pool --thin-pool --size 8M --chunk-size 64K
check "thin volume, over-provisioned" vol lv-create vg0/thin --thin --pool pool --size 1G
refuse "thin needs a pool" "needs --pool" vol lv-create vg0/t2 --thin --size 1G
refuse "a pool is not a disk" "not a disk" "$blkcat" vol:vg0/pool
refuse "snapshot of a striped LV needs --pool" "needs --pool" vol lv-snapshot vg0/str --name s1
check "external snapshot" vol lv-snapshot vg0/str --name s1 --pool pool
refuse "the origin is frozen" "origin of snapshots" vol lv-remove vg0/str
refuse "the pool holds thin volumes" "still holds" vol lv-remove vg0/pool
check "snapshot reads the origin" sh -c "'$blkcat' vol:vg0/s1 | head -c 25165824 | cmp - str.data"
check "thin snapshot of a thin volume" vol lv-snapshot vg0/thin --name ts
refuse "no snapshot of a snapshot of a non-thin LV" "not supported" vol lv-snapshot vg0/s1 --name s2
check "lvs shows pool usage and origins" json lvs "
t={r['lv']:r for r in rows}
assert t['pool']['type']=='thin-pool' and t['pool']['usage_percent']==0.0, t['pool']
assert t['s1']['origin']=='str' and t['ts']['origin']=='thin' and t['str']['status']=='origin'"
check "two more thin volumes" sh -c "'$rvisor' vol lv-create vg0/ta --thin --pool pool --size 2M &&
    '$rvisor' vol lv-create vg0/tb --thin --pool pool --size 2M"
port=$((20000 + RANDOM % 20000))
"$rvisor" vol serve --nbd 127.0.0.1:$port 2>"$tmp/serve.log" &
server=$!
for _ in $(seq 50); do grep -q serving "$tmp/serve.log" && break; sleep 0.1; done
head -c 2M /dev/urandom >ta.data
head -c 2M /dev/urandom >tb.data
qemu-img convert -n -f raw -O raw ta.data "nbd://127.0.0.1:$port/vg0/ta" & ta_pid=$!
qemu-img convert -n -f raw -O raw tb.data "nbd://127.0.0.1:$port/vg0/tb"; tb_st=$?
wait $ta_pid; ta_st=$?
check "two thin volumes of one pool written at once (two NBD clients)" [ "$ta_st$tb_st" = 00 ]
head -c 1M /dev/urandom >small.data
check "the origin of a snapshot is writable (NBD)" \
    qemu-img convert -n -f raw -O raw small.data "nbd://127.0.0.1:$port/vg0/str"
head -c 12M /dev/urandom >big.data
refuse "writing more than the pool holds fails cleanly" "" \
    qemu-img convert -n -f raw -O raw big.data "nbd://127.0.0.1:$port/vg0/thin"
kill "$server"; wait "$server" 2>/dev/null; server=""
check "the out-of-space error is logged" grep -q "out of space" "$tmp/serve.log"
check "the origin has the write" sh -c "'$blkcat' vol:vg0/str | head -c 1048576 | cmp - small.data"
check "the snapshot still reads the old bytes" \
    sh -c "'$blkcat' vol:vg0/s1 | head -c 25165824 | cmp - str.data"
check "lvs: pool full" json lvs "assert [r for r in rows if r['lv']=='pool'][0]['usage_percent']==100.0"
check "both thin volumes hold their bytes" sh -c "'$blkcat' vol:vg0/ta | cmp - ta.data &&
    '$blkcat' vol:vg0/tb | cmp - tb.data"
check "check clean after the concurrent writers" vol check
check "remove them" sh -c "'$rvisor' vol lv-remove vg0/ta && '$rvisor' vol lv-remove vg0/tb"
refuse "thin shrink needs --shrink" "needs --shrink" vol lv-resize vg0/thin --size 4M
check "thin shrink" vol lv-resize vg0/thin --size 4M --shrink
check "lvs: the shrink gave chunks back (4M of thin + 1M copied for s1)" json lvs "
t={r['lv']:r for r in rows}
assert t['pool']['usage_percent']<=62.5 and t['thin']['size']==4194304, (t['pool'], t['thin'])"
check "remove the thin snapshot" vol lv-remove vg0/ts
check "merge the external snapshot" vol lv-merge vg0/s1
check "the merged origin has its old bytes back" \
    sh -c "'$blkcat' vol:vg0/str | head -c 25165824 | cmp - str.data"
check "the origin is writable again" json lvs "assert [r for r in rows if r['lv']=='str'][0]['status']=='ok'"
check "check clean with thin volumes" vol check

# --- a backup while the origin is written: a classic snapshot exported read-only over NBD ---
"$blkcat" vol:vg0/str >pre.data
check "snapshot for a backup" vol lv-snapshot vg0/str --name bk --pool pool
port=$((20000 + RANDOM % 20000)); port2=$((port + 1))
"$rvisor" vol serve --nbd 127.0.0.1:$port 2>"$tmp/serve.log" & server=$!
"$rvisor" vol serve --nbd 127.0.0.1:$port2 --readonly 2>"$tmp/serve2.log" & server2=$!
for _ in $(seq 50); do grep -q serving "$tmp/serve.log" && grep -q serving "$tmp/serve2.log" && break; sleep 0.1; done
mkfifo cmds
qemu-io -f raw "nbd://127.0.0.1:$port/vg0/str" <cmds >qemu-io.out 2>&1 & qio=$!
exec 3>cmds
echo "write -P 0x5a 8M 1M" >&3
qemu-img convert -f raw -O raw "nbd://127.0.0.1:$port2/vg0/bk" backup1.data; b1=$?
echo "write -P 0x6b 16M 1M" >&3
echo "read -P 0x5a 8M 1M" >&3
qemu-img convert -f raw -O raw "nbd://127.0.0.1:$port2/vg0/bk" backup2.data; b2=$?
refuse "a writable snapshot while its origin is written" "in use" \
    qemu-io -f raw -c "write 0 4k" "nbd://127.0.0.1:$port/vg0/bk"
echo "read -P 0x6b 16M 1M" >&3
echo quit >&3
exec 3>&-
wait $qio; qst=$?
kill "$server" "$server2"; wait "$server" "$server2" 2>/dev/null; server=""
check "backups over NBD while the origin was written" [ "$b1$b2$qst" = 000 ]
check "the origin took the writes" sh -c "! grep -q -i 'fail\|error' qemu-io.out &&
    [ \$(grep -c 'read 1048576/1048576' qemu-io.out) = 2 ]"
check "both backups are the snapshot-time bytes" sh -c "cmp pre.data backup1.data && cmp pre.data backup2.data"
check "remove the backup snapshot" vol lv-remove vg0/bk

# --- a mirror losing a leg: pv2 holds leg 1 of mir ---
leg1=$(vol lvs --json | python3 -c "import json,sys; print([r for r in json.load(sys.stdin) if r['lv']=='mir'][0]['areas'][1]['runs'][0]['pv'])")
rm -f "$leg1"
check "degraded mirror serves the same bytes" sh -c "'$blkcat' vol:vg0/mir | cmp - mir.data"
check "lvs reports it degraded" json lvs "assert [r for r in rows if r['lv']=='mir'][0]['status']=='degraded'"
check "vgs counts the missing PV" json vgs "assert rows[0]['missing_pvs']==1"
vol check >check.out; st=$?
check "check: warning, not an error" sh -c "[ $st = 0 ] && grep -q 'is missing' check.out"

# --- corrupted and truncated metadata areas ---
mkdir c && cd c || exit 1
export RVISOR_VOL_DEVICES=$tmp/c/devices
truncate -s 16M a.img
vol pv-create a.img --mda-size 64K && vol vg-create cvg a.img && vol lv-create cvg/l --size 4M
check "clean before corruption" vol check
printf 'garbage' | dd of=a.img bs=1 seek=$((4096 + 600)) conv=notrunc status=none
printf 'garbage' | dd of=a.img bs=1 seek=$((4096 + 32768 + 600)) conv=notrunc status=none
vol check >check.out; st=$?
check "check: corrupted metadata is an error (exit 2)" sh -c "[ $st = 2 ] && grep -q 'checksum mismatch' check.out"
refuse "the VG is not usable" "not found" vol lv-create cvg/x --size 1M
refuse "nor as a disk" "not found" "$blkcat" vol:cvg/l
printf 'XX' | dd of=a.img bs=1 seek=0 conv=notrunc status=none
refuse "damaged label" "no PV label" vol check
truncate -s 2000 a.img
vol check >check.out 2>&1; st=$?
check "truncated PV rejected" sh -c "[ $st = 2 ] && grep -q 'PV label\|truncated' check.out"

echo "$passed passed, $failed failed"
[ "$failed" = 0 ]
