#!/bin/bash
# The kernel's NBD client against `rvisor vol serve --nbd`: a Debian guest (user networking:
# the host's 127.0.0.1 is 10.0.2.2 there) loads nbd.ko, connects busybox's nbd-client to an
# LV's export, checks that /dev/nbd0 holds exactly the LV's bytes (sha256), writes a MiB through
# it and disconnects; the LV then holds the guest's write and nothing else changed.
# usage: vol-nbd-guest-test.sh RVISOR BLKCAT
. "$(dirname "$0")/../e2e/lib.sh"
e2e_init "$1"
blkcat=$(realpath "$2")
cd "$tmp" || exit 1
export RVISOR_VOL_DEVICES=$tmp/devices
vol() { "$rvisor" vol "$@"; }

grep -q '^modules .*\bnbd\b' "$guest/manifest" || { fail "the guest has no nbd module"; finish; }
truncate -s 64M pv0.img pv1.img
head -c 16M /dev/urandom >orig.data
if vol pv-create pv0.img pv1.img >setup.log 2>&1 &&
    vol vg-create vg0 pv0.img pv1.img --extent-size 1M >>setup.log 2>&1 &&
    vol lv-create vg0/exp --size 16M --stripes 2 >>setup.log 2>&1; then
    pass "a striped LV of 16 MiB"
else
    fail "setting up the LV"; cat setup.log; finish
fi
port=$((20000 + RANDOM % 20000))
"$rvisor" vol serve --nbd 127.0.0.1:$port 2>serve.log &
server=$!
e2e_pids="$e2e_pids $server"
for _ in $(seq 50); do grep -q serving serve.log && break; sleep 0.1; done
qemu-img convert -n -f raw -O raw orig.data "nbd://127.0.0.1:$port/vg0/exp" &&
    pass "random bytes written to the LV (qemu-img over NBD)" || fail "qemu-img convert to NBD"

# In the guest: the user network's static address, nbd-client (it daemonizes; the device is
# ready when /sys/block/nbd0/size is not 0 -- Linux's nbd_start_device creates the pid file
# first and sets the capacity after it, so waiting for pid alone once read a size of 0), the
# checksum, a MiB written at 4 MiB (fsync), read back after dropping the page cache, disconnect.
script='ifconfig eth0 10.0.2.15 netmask 255.255.255.0 up
nbd-client -N vg0/exp 10.0.2.2 PORT /dev/nbd0 || echo E2E nbd-client failed
i=0; while [ "$(cat /sys/block/nbd0/size)" = 0 ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i+1)); done
echo E2E size $(cat /sys/block/nbd0/size)
echo E2E sha $(sha256sum </dev/nbd0)
yes rvisor-nbd-guest | head -c 1048576 >/w
dd if=/w of=/dev/nbd0 bs=65536 seek=64 conv=fsync 2>/dev/null && echo E2E wrote
echo 3 >/proc/sys/vm/drop_caches
echo E2E reread $(dd if=/dev/nbd0 bs=65536 skip=64 count=16 2>/dev/null | sha256sum)
nbd-client -d /dev/nbd0; echo E2E done'
script=${script//PORT/$port}
e2e_run g.out 900 --mem 192M --net user \
    --append "$(e2e_append "$script" rvisor.modules=virtio_mmio,virtio_net,nbd)"
st=$?
want=$(sha256sum <orig.data | cut -d' ' -f1)
[ "$st" = 0 ] && grep -q '^E2E done' g.out && pass "guest ran (status $st)" ||
    { fail "guest: status $st"; tail -30 g.out; }
[ "$(value g.out size)" = 32768 ] && pass "/dev/nbd0 has the LV's size (16 MiB)" ||
    fail "/dev/nbd0 size: $(value g.out size)"
[ "$(value g.out sha | cut -d' ' -f1)" = "$want" ] && pass "the guest reads the LV's exact bytes (sha256)" ||
    fail "sha256 in the guest $(value g.out sha), the LV's $want"
kill "$server"; wait "$server" 2>/dev/null
yes rvisor-nbd-guest | head -c 1048576 >w.data
cp orig.data want.data
dd if=w.data of=want.data bs=65536 seek=64 conv=notrunc status=none
[ "$(value g.out reread | cut -d' ' -f1)" = "$(sha256sum <w.data | cut -d' ' -f1)" ] &&
    pass "the guest reads its write back" || fail "guest reread: $(value g.out reread)"
"$blkcat" vol:vg0/exp | cmp - want.data && pass "the LV holds the guest's write, nothing else changed" ||
    fail "LV contents after the guest's write"
vol check >check.log 2>&1 && pass "vol check clean" || { fail "vol check"; cat check.log; }
finish
