#!/usr/bin/env bash
# Builds an ext4 disk image holding a small busybox system, for the rvisor guest's
# rvisor.root= option (guest/README.md) and the end-to-end disk tests (tests/e2e/).
#
#   guest/mkdisk.sh [--size SIZE] [--marker TEXT] [--add DIR] [--label LABEL] IMAGE
#
# The tree: /bin/busybox (Debian's riscv64 busybox-static, from the .deb that
# guest/fetch-debian.sh caches) with symlinks for the usual applets in /bin,
# /sbin/init -> busybox, /etc (passwd, group, hostname, fstab), the empty mount points
# /proc /sys /dev /tmp /run /mnt /root, and /etc/rvisor-disk, a marker file that holds
# TEXT (default "rvisor-disk"). --add copies DIR's contents over the tree's root.
# The image is written by `mke2fs -t ext4 -d TREE IMAGE SIZE` (SIZE default 64M), so no
# root, loop device or mount is needed. IMAGE is replaced if it exists.
#
# Environment: RVISOR_CACHE (default ~/.cache/rvisor), as for guest/fetch-debian.sh.
set -euo pipefail

PROG=mkdisk.sh
SCRIPT_DIR=$(cd "$(dirname "$0")" && pwd)
CACHE=${RVISOR_CACHE:-$HOME/.cache/rvisor}

# Applets linked in /bin (any other one runs as `busybox NAME`). A fixed list: asking
# the riscv64 busybox for its own would need a riscv64 host or an emulator.
APPLETS="[ [[ ash awk base64 basename blkdiscard blockdev cat chmod chown chroot cmp cp
cut date dd df dirname dmesg du echo env expr false fallocate fdisk find free fsfreeze
fstrim grep gunzip gzip halt head hexdump hostname id ifconfig insmod ip kill killall ln
ls lsmod md5sum mdev mkdir mke2fs mkfifo mknod mktemp modprobe more mount mv nc od
pidof poweroff printf ps pwd readlink realpath reboot rm rmdir rmmod route sed seq
setsid sh sha1sum sha256sum sha512sum sleep sort stat stty sync sysctl tail tar tee test
time timeout top touch tr true truncate udhcpc umount uname uniq uptime usleep vi watch
wc wget which xargs yes zcat"

usage() {
    cat <<EOF
Usage: guest/$PROG [--size SIZE] [--marker TEXT] [--add DIR] [--label LABEL] IMAGE

Writes IMAGE, a raw ext4 image (default 64M) with Debian's riscv64 busybox-static,
applet symlinks, /etc, /tmp and the marker file /etc/rvisor-disk (contents TEXT).
--add DIR copies DIR's contents into the image's root as well.
EOF
}

die() { echo "$PROG: error: $*" >&2; exit 1; }

size=64M
marker=rvisor-disk
label=rvisor
add=""
while [ $# -gt 0 ]; do
    case $1 in
        --size) [ $# -ge 2 ] || die "--size needs a value"; size=$2; shift 2 ;;
        --marker) [ $# -ge 2 ] || die "--marker needs a value"; marker=$2; shift 2 ;;
        --add) [ $# -ge 2 ] || die "--add needs a folder"; add=$2; shift 2 ;;
        --label) [ $# -ge 2 ] || die "--label needs a value"; label=$2; shift 2 ;;
        -h|--help) usage; exit 0 ;;
        -*) usage >&2; exit 2 ;;
        *) break ;;
    esac
done
[ $# -eq 1 ] || { usage >&2; exit 2; }
image=$1
[ -z "$add" ] || [ -d "$add" ] || die "--add: $add is not a folder"

MKE2FS=$(PATH=$PATH:/sbin:/usr/sbin command -v mke2fs) ||
    die "mke2fs not found; apt-get install e2fsprogs"
command -v dpkg-deb >/dev/null || die "dpkg-deb not found; apt-get install dpkg"

find_deb() { ls "$CACHE"/debs/busybox-static_*_riscv64.deb 2>/dev/null | head -n1; }
deb=$(find_deb)
if [ -z "$deb" ]; then
    "$SCRIPT_DIR/fetch-debian.sh" >&2 || die "guest/fetch-debian.sh failed"
    deb=$(find_deb)
    [ -n "$deb" ] || die "no busybox-static .deb in $CACHE/debs"
fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
dpkg-deb -x "$deb" "$work/deb"
[ -f "$work/deb/usr/bin/busybox" ] || die "$deb has no usr/bin/busybox"

root=$work/root
mkdir -p "$root"/{bin,sbin,etc,dev,proc,sys,tmp,run,mnt,root,var/tmp}
cp "$work/deb/usr/bin/busybox" "$root/bin/busybox"
chmod 0755 "$root/bin/busybox"
for applet in $APPLETS; do
    ln -s busybox "$root/bin/$applet"
done
ln -s ../bin/busybox "$root/sbin/init"
chmod 1777 "$root/tmp" "$root/var/tmp"
chmod 0700 "$root/root"
echo 'root:x:0:0:root:/root:/bin/sh' >"$root/etc/passwd"
echo 'root:x:0:' >"$root/etc/group"
echo 'rvisor-disk' >"$root/etc/hostname"
echo '/dev/root / ext4 rw 0 1' >"$root/etc/fstab"
printf '%s\n' "$marker" >"$root/etc/rvisor-disk"
[ -z "$add" ] || cp -a "$add/." "$root/"

rm -f "$image"
# root_owner: the root folder belongs to root in the guest even when this runs as a
# normal user (other files keep the builder's uid; busybox as root does not mind).
"$MKE2FS" -q -F -t ext4 -L "$label" -E root_owner=0:0 -d "$root" "$image" "$size" \
    >/dev/null || die "mke2fs failed"
