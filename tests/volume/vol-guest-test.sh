#!/bin/bash
# The Debian guest on logical volumes: its root file system on a striped LV (3 PVs), a second VM
# at the same time on a linear LV of the same VG, a second writer of the busy LV refused, a
# pv-move of the root LV while the guest writes, an online lv-resize that the running guest
# sees (virtio-blk configuration change interrupt), a boot from a thin snapshot and a guest
# writing the snapshot's origin (copy-on-write into the snapshot), and two VMs at once on two
# thin volumes of one pool.
# Afterwards e2fsck finds both file systems clean and the guest's writes are there.
# usage: vol-guest-test.sh RVISOR BLKCAT
. "$(dirname "$0")/../e2e/lib.sh"
e2e_init "$1"
blkcat=$(realpath "$2")
cd "$tmp" || exit 1
export RVISOR_VOL_DEVICES=$tmp/devices
vol() { "$rvisor" vol "$@"; }

for i in 0 1 2; do truncate -s 96M pv$i.img; done
mk() { "$src/guest/mkdisk.sh" --size 48M --marker "$2" "$1" >mkdisk.log 2>&1 || cat mkdisk.log; }
if vol pv-create pv0.img pv1.img pv2.img && vol vg-create vg0 pv0.img pv1.img pv2.img \
    --extent-size 1M && vol lv-create vg0/root --size 48M --stripes 3 --stripe-size 64K &&
    vol lv-create vg0/data --size 48M && mk root.img striped-root && mk data.img linear-data; then
    pass "VG with a striped and a linear LV, two ext4 images"
else
    fail "setting up the VG"; finish
fi
# Copy the images in through the NBD server (qemu-img as the client).
port=$((20000 + RANDOM % 20000))
"$rvisor" vol serve --nbd 127.0.0.1:$port 2>serve.log &
server=$!
e2e_pids="$e2e_pids $server"
for _ in $(seq 50); do grep -q serving serve.log && break; sleep 0.1; done
qemu-img convert -n -f raw -O raw root.img "nbd://127.0.0.1:$port/vg0/root" &&
    qemu-img convert -n -f raw -O raw data.img "nbd://127.0.0.1:$port/vg0/data" &&
    pass "images written to the LVs over NBD" || fail "qemu-img convert to NBD"
kill "$server"; wait "$server" 2>/dev/null

# VM A: root on the striped LV; reports its disk size, then waits for it to change.
script_a='echo E2E marker $(cat /etc/rvisor-disk); s0=$(cat /sys/block/vda/size)
echo E2E size0 $s0; echo from-vm-a > /written-a; sync; echo E2E ready
i=0; while [ $i -lt 6000 ] && [ "$(cat /sys/block/vda/size)" = "$s0" ]; do
echo line $i >> /log; [ $((i % 10)) = 0 ] && sync; sleep 0.1; i=$((i+1)); done
sync; echo E2E size1 $(cat /sys/block/vda/size); echo E2E lines $(wc -l < /log)'
e2e_run a.out 1200 --mem 192M --disk vol:vg0/root \
    --append "$(e2e_append "$script_a" rvisor.root=/dev/vda)" &
vm_a=$!
for _ in $(seq 3000); do grep -q '^E2E ready' a.out.raw 2>/dev/null && break; sleep 0.2; done
if [ "$(value a.out.raw marker)" = striped-root ] && [ "$(value a.out.raw size0)" = 98304 ]; then
    pass "VM A booted with root on the striped LV (48M)"
else
    fail "VM A did not come up"; show a.out.raw
fi

# A second writer of vg0/root is refused while VM A runs.
"$rvisor" run --kernel "$guest/Image" --disk vol:vg0/root </dev/null >second.out 2>&1
st=$?
[ "$st" = 125 ] && grep -q 'in use' second.out && pass "second VM on the same LV refused (in use)" ||
    { fail "second writer: status $st"; cat second.out; }

# VM B on another LV of the same VG, while VM A runs.
script_b='echo E2E marker $(cat /etc/rvisor-disk); echo from-vm-b > /written-b; sync; echo E2E done'
e2e_run b.out 900 --mem 192M --disk vol:vg0/data \
    --append "$(e2e_append "$script_b" rvisor.root=/dev/vda)"
st=$?
[ "$st" = 0 ] && [ "$(value b.out marker)" = linear-data ] && grep -q '^E2E done' b.out &&
    pass "VM B on vg0/data ran beside VM A" || { fail "VM B: status $st"; show b.out; }

# pv-move of VM A's root LV off pv0 while the guest appends to a file (online: VM A writes
# both places during the copy).
truncate -s 96M pv3.img
vol pv-create pv3.img && vol vg-extend vg0 pv3.img && vol pv-move vg0 "$tmp/pv0.img" --lv root &&
    vol lvs --json | python3 -c "import json,sys; r=[x for x in json.load(sys.stdin) if x['lv']=='root'][0]
assert all(not run['pv'].endswith('pv0.img') for a in r['areas'] for run in a['runs'])" &&
    pass "pv-move of the running VM's striped root LV to a new PV" || fail "online pv-move"

# Online grow: VM A sees 66M (whole stripes) without a restart.
vol lv-resize vg0/root --size 66M && pass "lv-resize while VM A runs" || fail "lv-resize"
wait "$vm_a"
st=$?
[ "$st" = 0 ] && [ "$(value a.out size1)" = 135168 ] &&
    pass "VM A saw the new capacity (135168 sectors) through the config change interrupt" ||
    { fail "VM A: status $st, size1 '$(value a.out size1)'"; show a.out; }

# Both file systems clean, both writes there.
"$blkcat" vol:vg0/root | head -c 48M >root.back && "$blkcat" vol:vg0/data >data.back
check "e2fsck of the striped LV (moved while written)" fsck_clean root.back
lines=$(value a.out lines)
debugfs -R "dump /log $tmp/log.back" root.back >/dev/null 2>&1
[ -n "$lines" ] && [ "$(wc -l < log.back)" = "$lines" ] && [ "$(tail -n1 log.back)" = "line $((lines - 1))" ] &&
    pass "the guest's $lines log lines, written across the pv-move, are all there" ||
    fail "guest log after the pv-move: '$lines' lines expected, $(wc -l < log.back 2>/dev/null) found"
check "e2fsck of the linear LV" fsck_clean data.back
[ "$(sha_in_image root.back /written-a)" = "$(echo from-vm-a | sha256sum | cut -d' ' -f1)" ] &&
    [ "$(sha_in_image data.back /written-b)" = "$(echo from-vm-b | sha256sum | cut -d' ' -f1)" ] &&
    pass "the guests' writes are on the LVs" || fail "guest writes missing"
# A thin snapshot of the striped root LV: a guest boots from it, writes; the origin does not
# change; another guest writes the origin; merging makes the origin the snapshot again.
vol lv-create vg0/pool --thin-pool --size 48M &&
    vol lv-snapshot vg0/root --name rootsnap --pool pool &&
    pass "thin pool and a thin snapshot of the striped LV" || fail "lv-snapshot"
script_c='echo E2E marker $(cat /etc/rvisor-disk); echo E2E a $(cat /written-a);
echo from-vm-c > /written-c; sync; echo E2E done'
e2e_run c.out 900 --mem 192M --disk vol:vg0/rootsnap \
    --append "$(e2e_append "$script_c" rvisor.root=/dev/vda)"
st=$?
[ "$st" = 0 ] && [ "$(value c.out marker)" = striped-root ] && [ "$(value c.out a)" = from-vm-a ] &&
    grep -q '^E2E done' c.out && pass "VM C booted from the thin snapshot of the striped LV" ||
    { fail "VM C on the snapshot: status $st"; show c.out; }
sha_c=$(echo from-vm-c | sha256sum | cut -d' ' -f1)
"$blkcat" vol:vg0/root | head -c 48M >root.back
"$blkcat" vol:vg0/rootsnap | head -c 48M >snap.back
[ -z "$(sha_in_image root.back /written-c)" ] && [ "$(sha_in_image snap.back /written-c)" = "$sha_c" ] &&
    pass "the snapshot holds the guest's write, the origin does not" ||
    fail "snapshot isolation"
check "e2fsck of the snapshot" fsck_clean snap.back
# The origin stays writable (its old chunks go into the snapshot first): VM D writes to it;
# the snapshot does not change by a byte.
script_d='echo from-vm-d > /written-d; sync; echo E2E done'
e2e_run d.out 900 --mem 192M --disk vol:vg0/root \
    --append "$(e2e_append "$script_d" rvisor.root=/dev/vda)"
st=$?
[ "$st" = 0 ] && grep -q '^E2E done' d.out && pass "VM D wrote to the origin of the snapshot" ||
    { fail "VM D on the origin: status $st"; show d.out; }
"$blkcat" vol:vg0/root | head -c 48M >root.back
"$blkcat" vol:vg0/rootsnap | head -c 48M >snap2.back
[ "$(sha_in_image root.back /written-d)" = "$(echo from-vm-d | sha256sum | cut -d' ' -f1)" ] &&
    cmp -s snap.back snap2.back && pass "the origin has VM D's write, the snapshot is unchanged" ||
    fail "copy-on-write of the origin"
check "e2fsck of the written origin" fsck_clean root.back
vol lv-merge vg0/rootsnap && pass "lv-merge" || fail "lv-merge"
"$blkcat" vol:vg0/root | head -c 48M >root.back
[ "$(sha_in_image root.back /written-c)" = "$sha_c" ] && [ -z "$(sha_in_image root.back /written-d)" ] &&
    pass "merged: the origin is the snapshot again (VM C's write, not VM D's)" ||
    fail "merge lost the write"
check "e2fsck after the merge" fsck_clean root.back

# Two VMs at once, each on its own thin volume of the same pool (the pool is shared: commits
# merge under the pool lock, chunks come from per-VM reservations).
vol lv-create vg0/ta --thin --pool pool --size 48M && vol lv-create vg0/tb --thin --pool pool --size 48M &&
    mk ta.img thin-a && mk tb.img thin-b || fail "thin volumes for VMs E and F"
"$rvisor" vol serve --nbd 127.0.0.1:$port 2>serve2.log &
server=$!
e2e_pids="$e2e_pids $server"
for _ in $(seq 50); do grep -q serving serve2.log && break; sleep 0.1; done
qemu-img convert -n -f raw -O raw ta.img "nbd://127.0.0.1:$port/vg0/ta" &&
    qemu-img convert -n -f raw -O raw tb.img "nbd://127.0.0.1:$port/vg0/tb" ||
    fail "qemu-img convert to the thin volumes"
kill "$server"; wait "$server" 2>/dev/null
script_ef='echo E2E marker $(cat /etc/rvisor-disk); head -c 3145728 /dev/urandom > /data
echo E2E sha $(sha256sum < /data); sync; echo E2E done'
e2e_run e.out 900 --mem 160M --disk vol:vg0/ta \
    --append "$(e2e_append "$script_ef" rvisor.root=/dev/vda)" &
vm_e=$!
e2e_run f.out 900 --mem 160M --disk vol:vg0/tb \
    --append "$(e2e_append "$script_ef" rvisor.root=/dev/vda)"
st_f=$?
wait $vm_e; st_e=$?
[ "$st_e$st_f" = 00 ] && [ "$(value e.out marker)" = thin-a ] && [ "$(value f.out marker)" = thin-b ] &&
    pass "VMs E and F ran at once on two thin volumes of one pool" ||
    { fail "VMs E/F: status $st_e/$st_f"; show e.out; show f.out; }
"$blkcat" vol:vg0/ta >ta.back
"$blkcat" vol:vg0/tb >tb.back
check "e2fsck of thin volume a" fsck_clean ta.back
check "e2fsck of thin volume b" fsck_clean tb.back
[ "$(sha_in_image ta.back /data)" = "$(value e.out sha | cut -d' ' -f1)" ] &&
    [ "$(sha_in_image tb.back /data)" = "$(value f.out sha | cut -d' ' -f1)" ] &&
    [ -n "$(value e.out sha)" ] && pass "each VM's data is on its thin volume" ||
    fail "the VMs' data on the thin volumes"
check "vol check clean" vol check
finish
