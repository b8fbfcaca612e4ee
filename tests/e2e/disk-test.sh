#!/usr/bin/env bash
# End-to-end disk test: Debian's kernel on rvisor with its root filesystem on a virtio-blk
# disk (rvisor.root=), raw and qcow2 images, backing files and read-only disks, checked
# from the outside with e2fsprogs and qemu-img. Two boots with four disks each, one more:
#
#   raw.img      raw ext4 image from guest/mkdisk.sh
#   conv.qcow2   another mkdisk image, converted with `qemu-img convert -O qcow2`
#   over.qcow2   `rvisor img create -f qcow2 -b base.qcow2 -F qcow2`, base.qcow2 being a
#                third mkdisk image converted by qemu-img (must never change)
#   blank.qcow2  `rvisor img create -f qcow2 -o cluster_size=4096` 64M, no filesystem:
#                raw block writes
#
# Boot 1 (root = raw.img, /dev/vda; conv, over, blank = vdb, vdc, vdd): reads each
# filesystem's marker, writes 8 MiB of random data + its sha256 on each filesystem,
# copies the raw disk's file onto blank.qcow2 at 1 MiB with O_DIRECT (four concurrent
# writers), syncs, unmounts.
# Host: e2fsck -fn on every filesystem (qcow2 converted to raw), qemu-img check and
# rvisor img check on the qcow2s, the files' sha256 read back with debugfs, the expected
# contents of blank.qcow2 compared with `qemu-img compare`, base.qcow2 unchanged.
# Boot 2 (root = conv.qcow2; raw.img with ,readonly; over, blank): every file and the
# block copy read back with the same sha256, a new file on the qcow2 root; on the
# read-only disk: mounted ro, writes fail with EROFS, raw writes to /dev/vdb fail.
# Host: raw.img byte for byte unchanged by boot 2, the new file in conv.qcow2, checks again.
# Boot 3: rvisor.root names a missing disk: the guest reports status 1 without running the
# command.
#
# Usage: disk-test.sh RVISOR [RVIMG]   (RVIMG: `rvisor img`-compatible tool, see lib.sh)
# Ends with "N passed, N failed"; exit status 0 only if all passed.
set -u
. "$(dirname "$0")/lib.sh"
[ -n "${2:-}" ] && E2E_RVIMG=$2
e2e_init "${1:?usage: disk-test.sh RVISOR [RVIMG]}"
for tool in qemu-img e2fsck debugfs mke2fs; do
    PATH=$PATH:/sbin:/usr/sbin command -v "$tool" >/dev/null ||
        { fail "host tool $tool missing (qemu-utils, e2fsprogs)"; finish; }
done
export PATH=$PATH:/sbin:/usr/sbin
img=$(rvimg_cmd) || { fail "no rvisor img tool (rvisor img or tests/block/rvimg)"; finish; }

# --- the guest's scripts, on every disk (as /e2e/*.sh) -------------------------------------
mkdir -p "$tmp/add/e2e"
# "E2E KEY VALUE" lines are the results; the host parses them.
cat >"$tmp/add/e2e/boot1.sh" <<'EOF'
mkdir -p /mnt/b /mnt/c
mount -t ext4 /dev/vdb /mnt/b && mount -t ext4 /dev/vdc /mnt/c || echo "E2E mount failed"
for d in root:/ b:/mnt/b c:/mnt/c; do
    n=${d%%:*}; p=${d#*:}
    echo "E2E marker-$n $(cat $p/etc/rvisor-disk)"
    dd if=/dev/urandom of=$p/data.bin bs=64k count=128 2>/dev/null
    (cd $p && sha256sum data.bin >data.sha)
    echo "E2E sum-$n $(cut -d' ' -f1 $p/data.sha)"
done
# The root disk's file, raw onto the blank disk at 1 MiB, bypassing the page cache: four
# writers at once, 2 MiB each (concurrent requests allocating clusters).
pids=""
for j in 0 1 2 3; do
    dd if=/data.bin of=/dev/vdd bs=64k skip=$((j * 32)) seek=$((16 + j * 32)) count=32 \
        oflag=direct conv=notrunc 2>/dev/null &
    pids="$pids $!"
done
ok=ok
for p in $pids; do wait $p || ok=failed; done
echo "E2E blk-write $ok"
echo "E2E blk-sum $(dd if=/dev/vdd bs=64k skip=16 count=128 iflag=direct 2>/dev/null | sha256sum | cut -d' ' -f1)"
sync
umount /mnt/b && umount /mnt/c && echo "E2E umount ok"
EOF
cat >"$tmp/add/e2e/boot2.sh" <<'EOF'
mkdir -p /mnt/b /mnt/c
mount -t ext4 /dev/vdb /mnt/b 2>&1 | sed 's/^/E2E ro-mount-msg /'
mount -t ext4 /dev/vdc /mnt/c || echo "E2E mount failed"
grep -q '^/dev/vdb /mnt/b ext4 ro[,\ ]' /proc/mounts && echo "E2E ro-mounted yes"
echo "E2E ro-flag $(blockdev --getro /dev/vdb)"
for d in root:/ b:/mnt/b c:/mnt/c; do
    n=${d%%:*}; p=${d#*:}
    echo "E2E marker-$n $(cat $p/etc/rvisor-disk)"
    (cd $p && sha256sum -c data.sha >/dev/null 2>&1) && echo "E2E verify-$n ok"
done
echo "E2E blk-sum $(dd if=/dev/vdd bs=64k skip=16 count=128 iflag=direct 2>/dev/null | sha256sum | cut -d' ' -f1)"
# Read-only disk: a file write must fail with EROFS, and so must a raw write.
echo x 2>/tmp/err >/mnt/b/new.txt
echo "E2E ro-write $? $(cat /tmp/err)"
dd if=/dev/zero of=/dev/vdb bs=4k count=1 seek=200 conv=notrunc 2>/tmp/err
echo "E2E ro-dd $? $(head -n1 /tmp/err)"
dd if=/dev/zero of=/dev/vdb bs=4k count=1 seek=200 conv=notrunc oflag=direct 2>/tmp/err
echo "E2E ro-dd-direct $? $(head -n1 /tmp/err)"
# A second file on the qcow2 root.
dd if=/dev/urandom of=/data2.bin bs=64k count=32 2>/dev/null
echo "E2E sum2 $(sha256sum /data2.bin | cut -d' ' -f1)"
sync
umount /mnt/b && umount /mnt/c && echo "E2E umount ok"
EOF

# --- the images ------------------------------------------------------------------------------
cd "$tmp" || exit 1
mk() { "$src/guest/mkdisk.sh" --marker "$2" --add "$tmp/add" "$1" >"$tmp/mkdisk.log" 2>&1 ||
    { cat "$tmp/mkdisk.log"; return 1; }; }
if ! { mk raw.img marker-raw-$$ && mk conv.raw marker-conv-$$ && mk base.raw marker-base-$$ &&
       qemu-img convert -f raw -O qcow2 conv.raw conv.qcow2 &&
       qemu-img convert -f raw -O qcow2 base.raw base.qcow2 && rm -f conv.raw base.raw &&
       $img create -f qcow2 -b base.qcow2 -F qcow2 over.qcow2 >/dev/null &&
       $img create -f qcow2 -o cluster_size=4096 blank.qcow2 64M >/dev/null; }; then
    fail "building the images (guest/mkdisk.sh, qemu-img convert, rvisor img create)"
    finish
fi
pass "images built: mkdisk.sh ext4, qemu-img convert -O qcow2, rvisor img create (-b)"
check "fresh mkdisk image passes e2fsck -fn" fsck_clean raw.img
check "rvisor img create: blank and overlay pass qemu-img check" \
    eval 'qcow2_clean blank.qcow2 && qcow2_clean over.qcow2'
qemu-img info over.qcow2 2>&1 | grep -q '^backing file: base.qcow2' &&
    pass "qemu-img info sees over.qcow2's backing file" ||
    fail "qemu-img info over.qcow2: $(qemu-img info over.qcow2 2>&1 | tr '\n' ' ')"
base_sum=$(sha256sum <base.qcow2)

# --- boot 1: root on the raw disk ------------------------------------------------------------
e2e_run b1.out 900 --mem 256M --disk raw.img --disk conv.qcow2,format=qcow2 \
    --disk over.qcow2 --disk blank.qcow2,format=qcow2 \
    --append "$(e2e_append 'sh /e2e/boot1.sh' rvisor.root=/dev/vda)"
st=$?
grep -q 'rvisor-guest: exit 0' b1.out && [ "$st" = 0 ] &&
    pass "boot 1 (root on raw.img) ran and powered off" ||
    { fail "boot 1: rvisor status $st"; show b1.out; }
for n in root:raw b:conv c:base; do
    [ "$(value b1.out "marker-${n%%:*}")" = "marker-${n#*:}-$$" ] &&
        pass "boot 1: ${n#*:} disk's marker from mke2fs -d" ||
        fail "boot 1: marker-${n%%:*} '$(value b1.out "marker-${n%%:*}")'"
done
sum_root=$(value b1.out sum-root)
sum_b=$(value b1.out sum-b)
sum_c=$(value b1.out sum-c)
[ "$(value b1.out blk-write)" = ok ] && [ "$(value b1.out blk-sum)" = "$sum_root" ] &&
    [ -n "$sum_root" ] && pass "boot 1: concurrent O_DIRECT writes and read back on blank.qcow2" ||
    fail "boot 1: block copy '$(value b1.out blk-write)' sum '$(value b1.out blk-sum)'"
[ "$(value b1.out umount)" = ok ] && pass "boot 1: unmounted" || fail "boot 1: umount"

# --- host checks after boot 1 ------------------------------------------------------------------
check "after boot 1: raw.img passes e2fsck -fn" fsck_clean raw.img
check "after boot 1: conv.qcow2 passes e2fsck -fn" fsck_clean conv.qcow2 qcow2
check "after boot 1: over.qcow2 passes e2fsck -fn" fsck_clean over.qcow2 qcow2
for q in conv over blank; do
    check "after boot 1: qemu-img check $q.qcow2" qcow2_clean $q.qcow2
    $img check $q.qcow2 >"$tmp/rvcheck.log" 2>&1 &&
        pass "after boot 1: rvisor img check $q.qcow2" ||
        { fail "after boot 1: rvisor img check $q.qcow2"; cat "$tmp/rvcheck.log"; }
done
[ -n "$sum_root" ] && [ "$(sha_in_image raw.img /data.bin)" = "$sum_root" ] &&
    pass "raw.img: debugfs reads the guest's file with its sha256" ||
    fail "raw.img: debugfs sha256 of /data.bin != guest's '$sum_root'"
qemu-img convert -O raw conv.qcow2 conv.raw && qemu-img convert -O raw over.qcow2 over.raw
[ -n "$sum_b" ] && [ "$(sha_in_image conv.raw /data.bin)" = "$sum_b" ] &&
    pass "conv.qcow2: debugfs (via qemu-img convert) reads the guest's file" ||
    fail "conv.qcow2: sha256 of /data.bin != guest's '$sum_b'"
[ -n "$sum_c" ] && [ "$(sha_in_image over.raw /data.bin)" = "$sum_c" ] &&
    pass "over.qcow2: debugfs (via qemu-img convert) reads the guest's file" ||
    fail "over.qcow2: sha256 of /data.bin != guest's '$sum_c'"
rm -f conv.raw over.raw
# blank.qcow2 must now hold exactly raw.img's /data.bin at 1 MiB and zeros elsewhere.
truncate -s 64M expect.raw
debugfs -R "dump /data.bin data.bin" raw.img >/dev/null 2>&1
dd if=data.bin of=expect.raw bs=64k seek=16 conv=notrunc 2>/dev/null
qemu-img compare -f raw -F qcow2 expect.raw blank.qcow2 >"$tmp/cmp.log" 2>&1 &&
    pass "qemu-img compare: blank.qcow2 holds exactly the guest's block writes" ||
    { fail "qemu-img compare blank.qcow2: $(cat "$tmp/cmp.log")"; }
rm -f expect.raw data.bin
[ "$(sha256sum <base.qcow2)" = "$base_sum" ] && pass "base.qcow2 unchanged by writes to its overlay" ||
    fail "base.qcow2 changed"
qemu-img compare base.qcow2 over.qcow2 >/dev/null 2>&1
[ $? = 1 ] && pass "qemu-img compare: overlay differs from its base" || fail "overlay == base?"

# --- boot 2: root on the qcow2 disk, raw disk read-only ----------------------------------------
raw_sum=$(sha256sum <raw.img)
e2e_run b2.out 900 --mem 256M --disk conv.qcow2 --disk raw.img,readonly \
    --disk over.qcow2,format=qcow2 --disk blank.qcow2 \
    --append "$(e2e_append 'sh /e2e/boot2.sh' rvisor.root=/dev/vda)"
st=$?
grep -q 'rvisor-guest: exit 0' b2.out && [ "$st" = 0 ] &&
    pass "boot 2 (root on conv.qcow2) ran and powered off" ||
    { fail "boot 2: rvisor status $st"; show b2.out; }
for n in root:conv b:raw c:base; do
    [ "$(value b2.out "marker-${n%%:*}")" = "marker-${n#*:}-$$" ] &&
        [ "$(value b2.out "verify-${n%%:*}")" = ok ] &&
        pass "boot 2: ${n#*:} disk: marker and boot 1's file (sha256) read back" ||
        fail "boot 2: ${n#*:} disk: marker '$(value b2.out "marker-${n%%:*}")' verify '$(value b2.out "verify-${n%%:*}")'"
done
[ -n "$sum_root" ] && [ "$(value b2.out blk-sum)" = "$sum_root" ] &&
    pass "boot 2: blank.qcow2's block data read back" || fail "boot 2: blk-sum '$(value b2.out blk-sum)'"
[ "$(value b2.out ro-flag)" = 1 ] && [ "$(value b2.out ro-mounted)" = yes ] &&
    pass "read-only disk: BLKROGET = 1, ext4 mounted ro" ||
    fail "read-only disk: ro-flag '$(value b2.out ro-flag)' mounted ro '$(value b2.out ro-mounted)'"
case $(value b2.out ro-write) in
    [1-9]*"Read-only file system"*) pass "read-only disk: file write fails with EROFS" ;;
    *) fail "read-only disk: file write: '$(value b2.out ro-write)'" ;;
esac
for k in ro-dd ro-dd-direct; do
    case $(value b2.out $k) in
        [1-9]*) pass "read-only disk: raw write to /dev/vdb fails ($k: $(value b2.out $k | cut -d' ' -f2-))" ;;
        *) fail "read-only disk: $k succeeded: '$(value b2.out $k)'" ;;
    esac
done
[ "$(sha256sum <raw.img)" = "$raw_sum" ] && pass "read-only disk: raw.img unchanged by boot 2" ||
    fail "read-only disk: raw.img changed"
[ "$(value b2.out umount)" = ok ] && pass "boot 2: unmounted" || fail "boot 2: umount"

# --- host checks after boot 2 ------------------------------------------------------------------
check "after boot 2: conv.qcow2 passes e2fsck -fn" fsck_clean conv.qcow2 qcow2
check "after boot 2: over.qcow2 passes e2fsck -fn" fsck_clean over.qcow2 qcow2
for q in conv over blank; do
    check "after boot 2: qemu-img check $q.qcow2" qcow2_clean $q.qcow2
done
qemu-img convert -O raw conv.qcow2 conv.raw
sum2=$(value b2.out sum2)
[ -n "$sum2" ] && [ "$(sha_in_image conv.raw /data2.bin)" = "$sum2" ] &&
    pass "conv.qcow2: boot 2's file (written on the qcow2 root) read by debugfs" ||
    fail "conv.qcow2: /data2.bin sha256 != guest's '$sum2'"
rm -f conv.raw
[ "$(sha256sum <base.qcow2)" = "$base_sum" ] && pass "base.qcow2 still unchanged" ||
    fail "base.qcow2 changed"

# --- rvisor.root on a disk that is not there: status 1, the command does not run --------------
e2e_run bad.out 300 --mem 256M --disk blank.qcow2 \
    --append "$(e2e_append 'echo E2E ran-anyway' rvisor.root=/dev/vdz)"
st=$?
[ "$st" = 1 ] && grep -q 'cannot mount rvisor.root=/dev/vdz' bad.out && ! grep -q '^E2E ran' bad.out &&
    pass "rvisor.root=/dev/vdz (no such disk): status 1, command not run" ||
    { fail "rvisor.root on a missing disk: status $st"; show bad.out; }
finish
