#!/bin/bash
# Live migration with --copy-storage (docs/state.md "Disks copied along"): the source VM's disk
# (qcow2) is a file the destination does not see; the destination writes into a raw image of
# its own.
# The guest writes a new file (256 KiB of random data, synced, its MD5 printed) every step,
# before, during and after the migration, then unmounts the disk and exits:
#  - a migration cut midway (a proxy closes the connection after 4 MiB): the source keeps
#    running and writing, the destination exits with 125 and removes the image it created;
#  - the real one: the destination creates its image, the guest goes on there; every file the
#    guest reported, on either side, has the reported MD5 in the destination's image, which
#    passes e2fsck; the source's image holds what the guest wrote up to the hand-over.
# Usage: storage-test.sh RVISOR
set -u
. "$(dirname "$0")/../e2e/lib.sh"
e2e_init "$1"
port=$((20000 + ($$ * 3) % 20000))
for t in mkfs.ext4 e2fsck debugfs qemu-img; do
    command -v $t >/dev/null || { fail "$t is missing"; finish; }
done

wrote() { cat "$@" 2>/dev/null | tr -d '\r' | grep -E '^wrote [0-9]+ [0-9a-f]{32}$'; }
last_wrote() { wrote "$1" | tail -1 | cut -d' ' -f2 | grep . || echo 0; }
wait_wrote() { # wait_wrote FILE N: until the console reports file N
    local i=0
    while [ "$(last_wrote "$1")" -lt "$2" ] && [ $i -lt 1800 ]; do sleep 0.1; i=$((i + 1)); done
    [ "$(last_wrote "$1")" -ge "$2" ]
}
running() { "$rvisor" ctl "$1" status 2>/dev/null | grep -q '"running"'; }
# image_md5 IMAGE FILE: the MD5 of a file inside an ext4 image
image_md5() { debugfs -R "cat /$2" "$1" 2>/dev/null | md5sum | cut -c1-32; }

# The source disk is qcow2 (its metadata caches are what the copy's lock protects); the
# destination creates a raw one.
truncate -s 64M "$tmp/fs.img"
mkfs.ext4 -q -F "$tmp/fs.img" && qemu-img convert -O qcow2 "$tmp/fs.img" "$tmp/src.qcow2" ||
    { fail "mkfs.ext4, qemu-img"; finish; }
script='mount /dev/vda /mnt || exit 9; i=0; while [ $i -lt 90 ]; do i=$((i+1))
dd if=/dev/urandom of=/mnt/f$i bs=64k count=4 2>/dev/null; sync
echo "wrote $i $(md5sum < /mnt/f$i | cut -c1-32)"; sleep 0.2; done; umount /mnt; echo finished'
"$rvisor" run --kernel "$guest/Image" --initrd "$guest/initrd.img" --mem 256M $bios \
    --disk "$tmp/src.qcow2" --append "$(e2e_append "$script")" --console "file:$tmp/s.con" \
    --api-socket "$tmp/s.sock" </dev/null >"$tmp/s.out" 2>&1 &
s_pid=$!
e2e_pids="$e2e_pids $s_pid"
wait_wrote "$tmp/s.con" 3 || { fail "guest writing"; cat "$tmp/s.out" "$tmp/s.con"; finish; }

# A cut migration: the source survives, the destination cleans up.
timeout 120 "$rvisor" run --incoming "tcp:127.0.0.1:$((port + 2))" --disk "$tmp/cut.img" \
    --console none </dev/null >"$tmp/cut.out" 2>&1 &
c_pid=$!
e2e_pids="$e2e_pids $c_pid"
python3 "$src/tests/state/streamtool.py" proxy $((port + 1)) $((port + 2)) 4194304 >"$tmp/proxy.out" 2>&1 &
e2e_pids="$e2e_pids $!"
i=0; while ! grep -q ready "$tmp/proxy.out" && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
before=$(last_wrote "$tmp/s.con")
"$rvisor" migrate "$tmp/s.sock" --to "tcp:127.0.0.1:$((port + 1))" --copy-storage >"$tmp/m.out" 2>&1
check "cut copy-storage migration: migrate reports failure" test $? = 1
wait $c_pid
check "cut: the destination exits with 125" test $? = 125
tail -1 "$tmp/cut.out"
check "cut: the destination removed the image it created" test ! -e "$tmp/cut.img"
check "cut: the source is running" running "$tmp/s.sock"
wait_wrote "$tmp/s.con" $((before + 2))
check "cut: the source guest goes on writing" test "$(last_wrote "$tmp/s.con")" -gt "$before"

# The real one, into an image the destination creates.
"$rvisor" run --incoming "tcp:127.0.0.1:$port" --disk "$tmp/dst.img" --console "file:$tmp/d.con" \
    --api-socket "$tmp/d.sock" </dev/null >"$tmp/d.out" 2>&1 &
d_pid=$!
e2e_pids="$e2e_pids $d_pid"
sleep 0.5
"$rvisor" migrate "$tmp/s.sock" --to "tcp:127.0.0.1:$port" --copy-storage >"$tmp/m.out" 2>&1
check "migrate --copy-storage succeeds" test $? = 0
tail -1 "$tmp/m.out"
wait $s_pid
check "the source exits with status 0" test $? = 0
last_src=$(last_wrote "$tmp/s.con")
wait $d_pid
check "the guest finished on the destination (status 0)" test $? = 0
check "the destination console shows the end" grep -q finished "$tmp/d.con"
first_dst=$(wrote "$tmp/d.con" | head -1 | cut -d' ' -f2)
check "the guest wrote files on both sides (source up to $last_src, destination from ${first_dst:-none})" \
    test -n "$first_dst" -a "$last_src" -gt 3
check "the destination's image passes e2fsck" e2fsck -fn "$tmp/dst.img"
bad=0
while read -r _ n sum; do
    [ "$(image_md5 "$tmp/dst.img" f$n)" = "$sum" ] || { bad=$((bad + 1)); echo "f$n differs"; }
done < <(wrote "$tmp/s.con" "$tmp/d.con")
check "every file the guest reported has its MD5 in the destination's image ($(wrote "$tmp/s.con" "$tmp/d.con" | wc -l) files)" test $bad = 0
qemu-img convert -O raw "$tmp/src.qcow2" "$tmp/src.img"
check "the source's image holds the last file written there (f$last_src)" \
    test "$(image_md5 "$tmp/src.img" f$last_src)" = "$(wrote "$tmp/s.con" | tail -1 | cut -d' ' -f3)"
check "the source's image has none of the destination's files (f90)" \
    test "$(debugfs -R 'stat /f90' "$tmp/src.img" 2>&1 | grep -c 'File not found')" = 1
finish
