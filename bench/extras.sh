#!/bin/sh
# Benchmark-only additions to the Debian guest, built into $RVISOR_CACHE/bench (default
# ~/.cache/rvisor/bench) and printed as that directory:
#   initrd.img   the guest's initramfs (guest/fetch-debian.sh) with an uncompressed cpio in
#                front holding /opt/debian (Debian trixie riscv64 xz-utils, liblzma5 and libc6:
#                busybox xz only decompresses) and /bench/input
#   input        the 32 MiB workload input (also /bench/input in the guest): a tar (GNU, sorted,
#                fixed owners and times) of the kernel config, the busybox initramfs tree
#                (busybox, kernel modules, /init), /opt/debian and the kernel Image, cut at
#                32 MiB -- text and machine code of the guest itself, no repeated blocks
#   manifest     package versions and sha256 of the outputs
# Packages come through the same private apt setup as the guest (guest/apt-private.sh):
# signatures and .deb hashes are checked against Debian's archive keyring.
# Usage: bench/extras.sh            env: RVISOR_CACHE, RVISOR_DEBIAN_MIRROR
set -eu
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../guest/apt-private.sh"
cache=${RVISOR_CACHE:-$HOME/.cache/rvisor}
mirror=${RVISOR_DEBIAN_MIRROR:-http://deb.debian.org/debian}
keyring=${RVISOR_DEBIAN_KEYRING:-/usr/share/keyrings/debian-archive-keyring.gpg}
guest=$("$here/../guest/fetch-debian.sh" --print-dir)
out=$cache/bench
pkgs="xz-utils liblzma5 libc6"
recipe=$(cat "$0" "$here/../guest/apt-private.sh" "$guest/manifest" | sha256sum | cut -d' ' -f1)

if [ -f "$out/manifest" ] && grep -qx "recipe $recipe" "$out/manifest" &&
    (cd "$out" && sed -n 's/^sha256 //p' manifest | sha256sum --check --quiet --strict) \
        >/dev/null 2>&1; then
    echo "$out"
    exit 0
fi
[ -f "$guest/initrd.img" ] || { echo "extras.sh: run guest/fetch-debian.sh first" >&2; exit 1; }

work=$(mktemp -d "$cache/bench-build.XXXXXX")
trap 'rm -rf "$work"' EXIT
apt_private "$cache/apt-bench-riscv64" riscv64 "$keyring" "$mirror" trixie
apt-get -qq update >"$work/apt.log" 2>&1 || { cat "$work/apt.log" >&2; exit 1; }
mkdir -p "$work/dl" "$work/x"
(cd "$work/dl" && apt-get -qq download $pkgs) >>"$work/apt.log" 2>&1 ||
    { cat "$work/apt.log" >&2; exit 1; }
for d in "$work"/dl/*.deb; do dpkg-deb -x "$d" "$work/x"; done

# /opt/debian: xz and the libraries it loads (run through the dynamic loader explicitly, so
# that nothing of the busybox root changes)
r=$work/root
mkdir -p "$r/opt/debian/bin" "$r/opt/debian/lib" "$r/bench"
cp "$work/x/usr/bin/xz" "$r/opt/debian/bin/xz"
for lib in ld-linux-riscv64-lp64d.so.1 libc.so.6 liblzma.so.5; do
    src=$(find "$work/x" -name "$lib" | head -n 1)
    [ -n "$src" ] || { echo "extras.sh: $lib not found in $pkgs" >&2; exit 1; }
    cp -L "$src" "$r/opt/debian/lib/$lib"
done

# the input
t=$work/tree
mkdir -p "$t/a-config" "$t/b-initramfs" "$t/c-debian" "$t/d-image"
cp "$guest/config" "$t/a-config/config"
(cd "$t/b-initramfs" && gzip -dc "$guest/initrd.img" | cpio -id --quiet 2>/dev/null) || true
rm -rf "$t/b-initramfs/dev"
cp -r "$r/opt/debian/." "$t/c-debian/"
cp "$guest/Image" "$t/d-image/Image"
tar -C "$t" --sort=name --mtime=@0 --owner=0 --group=0 --numeric-owner --format=gnu -cf - . |
    head -c 33554432 >"$work/input"
[ "$(stat -c %s "$work/input")" = 33554432 ] || { echo "extras.sh: input too short" >&2; exit 1; }
cp "$work/input" "$r/bench/input"

# the initramfs: the extra cpio (uncompressed, 4-byte aligned as the kernel wants) first
(cd "$r" && find . -mindepth 1 | LC_ALL=C sort |
    cpio --quiet -o -H newc -R 0:0 --reproducible) >"$work/extra.cpio"
cat "$work/extra.cpio" "$guest/initrd.img" >"$work/initrd.img"

mkdir -p "$work/out"
mv "$work/initrd.img" "$work/input" "$work/out/"
{
    echo "# rvisor benchmark extras, built by bench/extras.sh"
    echo "recipe $recipe"
    for d in "$work"/dl/*.deb; do
        echo "package $(dpkg-deb -f "$d" Package) $(dpkg-deb -f "$d" Version)"
    done
    (cd "$work/out" && sha256sum initrd.img input | sed 's/^/sha256 /')
} >"$work/out/manifest"
rm -rf "$out"
mv "$work/out" "$out"
echo "$out"
