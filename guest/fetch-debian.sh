#!/usr/bin/env bash
# Fetches Debian trixie's riscv64 kernel, busybox-static and OpenSBI with a private
# apt setup, and builds the rvisor guest: Image, initrd.img, opensbi/*, manifest.
# See guest/README.md. Runs as a normal user; the host's apt state is never touched.
#
# Trust: apt verifies the suite's InRelease against the Debian archive keyring
# (signed-by= in our own sources.list, so no other key is accepted) and every .deb
# against the SHA256 in that signed index; cached .debs are checked against the
# index again before reuse. Debian signs trixie's InRelease with its own archive
# and release keys and also with bookworm's archive key (sub 6ED0E7B82643E131), so
# the keyring of any bookworm host verifies it; bookworm's keyring 2023.3+deb12u2
# also carries the trixie keys. If a host's keyring cannot verify it, upgrade
# debian-archive-keyring through the host's own (already trusted) apt, or point
# RVISOR_DEBIAN_KEYRING at a keyring verified by other means; never fetch a
# keyring over the same unverified channel it is meant to check.
set -euo pipefail

PROG=fetch-debian.sh
SCRIPT_DIR=$(cd "$(dirname "$0")" && pwd)
INIT_SCRIPT=$SCRIPT_DIR/initramfs/init
# shellcheck source=guest/apt-private.sh
. "$SCRIPT_DIR/apt-private.sh"

CACHE=${RVISOR_CACHE:-$HOME/.cache/rvisor}
OUT=$CACHE/debian
APT_DIR=$CACHE/apt
DEB_DIR=$CACHE/debs
MIRROR=${RVISOR_DEBIAN_MIRROR:-http://deb.debian.org/debian}
SUITE=trixie
KEYRING=${RVISOR_DEBIAN_KEYRING:-/usr/share/keyrings/debian-archive-keyring.gpg}

# Modules copied into the initramfs, with their dependencies. crc32c_generic is not
# a link-time dependency of ext4, but ext4 and jbd2 request "crc32c" from the
# crypto API when they mount a filesystem with metadata checksums. nbd: the kernel's
# NBD client, for busybox's nbd-client (rvisor vol serve --nbd from inside a guest).
# virtio_input and evdev (no dependencies of their own) drive rvisor's power button,
# /dev/input/event*.
MODULES="virtio_mmio virtio_blk virtio_net virtio_console virtio_rng virtio_balloon
         virtio_input evdev ext4 crc32c_generic nbd"

# Command -> Debian package that provides it, for the error message.
TOOLS="apt-get:apt apt-cache:apt dpkg-deb:dpkg xz:xz-utils gzip:gzip cpio:cpio
       sha256sum:coreutils od:coreutils awk:mawk flock:util-linux"

usage() {
    cat <<EOF
Usage: guest/$PROG [--force | --check | --print-dir]

Fetches linux-image-riscv64, busybox-static and opensbi from Debian $SUITE (riscv64)
and builds the rvisor guest into $OUT:
  Image        the kernel, an uncompressed RISC-V Image (with EFI stub)
  initrd.img   gzip'd cpio (newc) busybox initramfs with virtio/ext4 modules
  config       the kernel's build configuration
  opensbi/     fw_dynamic.{bin,elf}, fw_jump.{bin,elf} (generic platform)
  manifest     package versions and sha256 of every output
A second run checks the outputs against the manifest and does nothing.

  --force      refresh the package index, download newer packages, rebuild
  --check      exit 0 if the outputs are up to date, 1 if not; changes nothing
  --print-dir  print the output directory and exit

Environment: RVISOR_CACHE (default ~/.cache/rvisor), RVISOR_DEBIAN_MIRROR,
RVISOR_DEBIAN_KEYRING, http_proxy.
EOF
}

log() { echo "$PROG: $*" >&2; }
die() { echo "$PROG: error: $*" >&2; exit 1; }

check_tools() {
    local missing="" entry
    for entry in $TOOLS; do
        command -v "${entry%%:*}" >/dev/null 2>&1 || missing="$missing ${entry#*:}"
    done
    [ -z "$missing" ] || die "missing host tools; install with: apt-get install$missing"
    [ -r "$KEYRING" ] || die "no keyring at $KEYRING; apt-get install debian-archive-keyring"
    [ -r "$INIT_SCRIPT" ] || die "missing $INIT_SCRIPT"
}

# A rebuild is due when the script or the init it packs changes.
recipe_hash() {
    cat "$0" "$SCRIPT_DIR/apt-private.sh" "$INIT_SCRIPT" | sha256sum | cut -d' ' -f1
}

# True when every output listed in the manifest is present with its checksum and
# the manifest was written by the current recipe.
outputs_valid() {
    local manifest=$OUT/manifest
    [ -f "$manifest" ] || return 1
    grep -qx "recipe $(recipe_hash)" "$manifest" || return 1
    for f in Image initrd.img opensbi/fw_dynamic.bin; do
        grep -q "^sha256 [0-9a-f]*  $f\$" "$manifest" || return 1
    done
    (cd "$OUT" && sed -n 's/^sha256 //p' manifest | sha256sum --check --quiet --strict) \
        >/dev/null 2>&1
}

# --- private apt -----------------------------------------------------------------

# guest/apt-private.sh: the private apt configuration, shared with the benchmarks.
setup_apt() {
    mkdir -p "$DEB_DIR"
    apt_private "$APT_DIR" riscv64 "$KEYRING" "$MIRROR" "$SUITE"
}

apt_update() {
    local log_file=$APT_DIR/update.log
    log "updating the $SUITE riscv64 package index from $MIRROR"
    if ! apt-get -q --error-on=any update >"$log_file" 2>&1; then
        cat "$log_file" >&2
        if grep -q -e NO_PUBKEY -e EXPKEYSIG -e 'not signed' "$log_file"; then
            die "cannot verify $SUITE's signature with $KEYRING; it needs the $SUITE" \
                "or bookworm archive keys (Debian's debian-archive-keyring package)"
        fi
        die "apt-get update failed (network or mirror problem?)"
    fi
    UPDATED=1
}

# Prints field $2 of the candidate version of package $1, as resolve_packages saw it.
pkg_field() {
    sed -n "s/^$2: //p" "$APT_DIR/info/$1" | head -n1
}

# Sets PKG_NAMES to the binary packages to fetch, resolving the kernel metapackage,
# and keeps each one's index entry in $APT_DIR/info/ (apt-cache takes a second a call).
resolve_packages() {
    local kernel pkg
    rm -rf "$APT_DIR/info"
    mkdir -p "$APT_DIR/info"
    kernel=$(apt-cache show --no-all-versions linux-image-riscv64 2>/dev/null |
             sed -n 's/^Depends: \([^ ,]*\).*/\1/p' | head -n1)
    [ -n "$kernel" ] || return 1
    PKG_NAMES="$kernel busybox-static opensbi"
    for pkg in $PKG_NAMES; do
        apt-cache show --no-all-versions "$pkg" >"$APT_DIR/info/$pkg" 2>/dev/null || return 1
    done
}

# Prints the path where apt-get download puts package $1 (epoch ':' -> '%3a').
deb_path() {
    local ver arch
    ver=$(pkg_field "$1" Version)
    arch=$(pkg_field "$1" Architecture)
    echo "$DEB_DIR/${1}_${ver//:/%3a}_$arch.deb"
}

deb_valid() {
    local path
    path=$(deb_path "$1")
    [ -f "$path" ] && [ "$(sha256sum <"$path" | cut -d' ' -f1)" = "$(pkg_field "$1" SHA256)" ]
}

# Prints the packages that have no verified .deb in $DEB_DIR yet.
missing_packages() {
    local pkg
    for pkg in $PKG_NAMES; do
        deb_valid "$pkg" || echo "$pkg"
    done
}

# Makes sure a verified .deb of every package is in $DEB_DIR. Uses the index of
# the last run when it has one, so that a rebuild from cached .debs needs no
# network; refreshes it before any download, so that its versions still exist.
fetch_packages() {
    local pkg missing
    if [ "$FORCE" = 1 ] || ! resolve_packages; then
        apt_update
        resolve_packages || die "linux-image-riscv64 not found in $SUITE/riscv64"
    fi
    missing=$(missing_packages)
    if [ -n "$missing" ] && [ "$UPDATED" = 0 ]; then
        apt_update
        resolve_packages || die "linux-image-riscv64 not found in $SUITE/riscv64"
        missing=$(missing_packages)
    fi
    for pkg in $missing; do
        log "downloading $pkg $(pkg_field "$pkg" Version)"
        rm -f "$DEB_DIR/${pkg}"_*.deb
        (cd "$DEB_DIR" && apt-get -q download "$pkg=$(pkg_field "$pkg" Version)") >&2 ||
            die "apt-get download $pkg failed"
        deb_valid "$pkg" || die "$pkg: downloaded file does not match the signed index"
    done
}

# --- build -----------------------------------------------------------------------

# Writes one newc cpio header and name to stdout: name mode rdevmajor rdevminor mtime.
newc_header() {
    printf '070701%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X' \
        0 "$2" 0 0 1 "$5" 0 0 0 "$3" "$4" $((${#1} + 1)) 0
    printf '%s\0' "$1"
    # Header (110 bytes) and name are padded together to a multiple of 4.
    head -c $(((4 - (110 + ${#1} + 1) % 4) % 4)) /dev/zero
}

# Writes a newc cpio holding the /dev/console node (and its trailer) to stdout.
# GNU cpio only archives files that exist, and making a device node needs root;
# without /dev/console the kernel starts /init with no stdin/stdout/stderr.
console_cpio() {
    newc_header dev/console $((0020600)) 5 1 "$1"
    newc_header 'TRAILER!!!' 0 0 0 "$1"
}

# Copies the modules in $MODULES and their dependencies from kernel tree $1 to
# $2 (both lib/modules/<release> folders), decompressed, and writes modules.dep,
# modules.alias, modules.order and modules.builtin for busybox modprobe.
# Debian's package has no modules.dep (its postinst runs depmod), so dependencies
# come from each module's own "depends=" modinfo field.
install_modules() {
    local src=$1 dst=$2 queue mod name path deps graph=$2/.graph
    local builtin="" seen=" "
    mkdir -p "$dst"
    : >"$graph"
    : >"$dst/modules.alias"
    queue=$(tr '\n' ' ' <<<"$MODULES")
    while [ -n "${queue// /}" ]; do
        read -r mod queue <<<"$queue" || true
        name=${mod//-/_}
        case $seen in *" $name "*) continue ;; esac
        seen="$seen$name "
        path=$(awk -v n="$name" '{ f = $0; sub(/.*\//, "", f); sub(/\.ko$/, "", f);
                                    gsub(/-/, "_", f); if (f == n) { print; exit } }' \
               "$src/modules.order")
        if [ -z "$path" ]; then
            if tr '-' '_' <"$src/modules.builtin" | grep -q "/$name\.ko\$"; then
                builtin="$builtin $name"
                continue
            fi
            die "module $mod is neither in modules.order nor builtin"
        fi
        [ -f "$src/$path.xz" ] || die "missing $src/$path.xz"
        mkdir -p "$dst/$(dirname "$path")"
        xz -dc "$src/$path.xz" >"$dst/$path"
        [ "$(tr '\0' '\n' <"$dst/$path" | grep -c '^depends=')" = 1 ] ||
            die "$path: no single depends= field in its modinfo"
        deps=$(tr '\0' '\n' <"$dst/$path" | sed -n 's/^depends=//p' | tr ',-' ' _')
        echo "$path $name $deps" >>"$graph"
        tr '\0' '\n' <"$dst/$path" | sed -n "s/^alias=\\(.*\\)/alias \\1 $name/p" \
            >>"$dst/modules.alias"
        queue="$queue $deps"
    done
    # modules.dep lists every module's full dependency closure in reverse load
    # order (modprobe loads from the end of the line), as depmod writes it.
    awk '
    function visit(m,   i) {
        if (m in seen) return
        seen[m] = 1
        for (i = 1; i <= ndeps[m]; i++) visit(dep[m, i])
        post[++count] = m
    }
    {
        path[$2] = $1; ndeps[$2] = NF - 2; order[++n] = $2
        for (i = 3; i <= NF; i++) dep[$2, i - 2] = $i
    }
    END {
        for (k = 1; k <= n; k++) {
            split("", seen); count = 0
            visit(order[k])
            line = path[order[k]] ":"
            for (i = count - 1; i >= 1; i--) line = line " " path[post[i]]
            print line
        }
    }' "$graph" >"$dst/modules.dep"
    awk 'NR == FNR { keep[$1] = 1; next } $0 in keep' "$graph" "$src/modules.order" \
        >"$dst/modules.order"
    cp "$src/modules.builtin" "$dst/modules.builtin"
    MODULES_LOADABLE=$(awk '{ print $2 }' "$graph" | LC_ALL=C sort | tr '\n' ' ')
    MODULES_BUILTIN=${builtin# }
    rm -f "$graph"
}

build_outputs() {
    local work=$1 stage=$1/out root=$1/initramfs kdir kver pkg mtime
    for pkg in $PKG_NAMES; do
        mkdir -p "$work/$pkg"
        dpkg-deb -x "$(deb_path "$pkg")" "$work/$pkg"
    done
    kdir=$work/$(echo "$PKG_NAMES" | awk '{print $1}')
    kver=$(ls "$kdir/usr/lib/modules")
    [ "$(echo "$kver" | wc -w)" = 1 ] || die "expected one kernel release, found: $kver"
    mkdir -p "$stage/opensbi"

    # Debian names it vmlinux, but it is arch/riscv/boot/Image: a flat image whose
    # header (Documentation/arch/riscv/boot-image-header.rst) doubles as a PE/COFF
    # EFI stub, with the magic "RSC\x05" at offset 0x38.
    [ "$(od -An -tx1 -j56 -N4 "$kdir/boot/vmlinux-$kver" | tr -d ' \n')" = 52534305 ] ||
        die "boot/vmlinux-$kver is not a RISC-V Image"
    cp "$kdir/boot/vmlinux-$kver" "$stage/Image"
    cp "$kdir/boot/config-$kver" "$stage/config"
    cp "$work/opensbi/usr/lib/riscv64-linux-gnu/opensbi/generic/"fw_* "$stage/opensbi/"

    mkdir -p "$root"/{bin,sbin,usr/bin,usr/sbin,dev,proc,sys,tmp,run,root,mnt,etc}
    cp "$work/busybox-static/usr/bin/busybox" "$root/bin/busybox"
    ln -s busybox "$root/bin/sh"
    cp "$INIT_SCRIPT" "$root/init"
    chmod 0755 "$root/init" "$root/bin/busybox"
    chmod 0700 "$root/root"
    chmod 1777 "$root/tmp"
    echo 'root:x:0:0:root:/root:/bin/sh' >"$root/etc/passwd"
    echo 'root:x:0:' >"$root/etc/group"
    install_modules "$kdir/usr/lib/modules/$kver" "$root/lib/modules/$kver"

    # Same inputs, same bytes: fixed mtimes, sorted names, root owner, gzip -n.
    mtime=$(stat -c %Y "$kdir/boot/vmlinux-$kver")
    find "$root" -exec touch -h -d "@$mtime" {} +
    (cd "$root" && find . -mindepth 1 | LC_ALL=C sort |
        cpio --quiet -o -H newc -R 0:0 --reproducible) >"$work/initrd.cpio"
    console_cpio "$mtime" >>"$work/initrd.cpio"
    gzip -n <"$work/initrd.cpio" >"$stage/initrd.img"

    write_manifest "$stage" "$kver"
}

write_manifest() {
    local stage=$1 kver=$2 pkg
    {
        echo "# rvisor guest, built by guest/$PROG; sha256 lines: sha256sum --check format"
        echo "recipe $(recipe_hash)"
        echo "source $MIRROR $SUITE main riscv64"
        for pkg in $PKG_NAMES; do
            echo "package $pkg $(pkg_field "$pkg" Version)" \
                 "$(sha256sum <"$(deb_path "$pkg")" | cut -d' ' -f1)"
        done
        echo "kernel-release $kver"
        echo "kernel-format RISC-V Image, uncompressed, with EFI stub"
        echo "initrd-format cpio newc, gzip"
        echo "modules $MODULES_LOADABLE"
        echo "modules-builtin $MODULES_BUILTIN"
        (cd "$stage" && find . -type f ! -name manifest | sed 's|^\./||' | LC_ALL=C sort |
            xargs sha256sum | sed 's/^/sha256 /')
    } >"$stage/manifest"
}

# --- main ------------------------------------------------------------------------

FORCE=0
CHECK=0
UPDATED=0
case "${1:-}" in
    "") ;;
    --force) FORCE=1 ;;
    --check) CHECK=1 ;;
    --print-dir) echo "$OUT"; exit 0 ;;
    -h|--help) usage; exit 0 ;;
    *) usage >&2; exit 2 ;;
esac
[ $# -le 1 ] || { usage >&2; exit 2; }

check_tools
mkdir -p "$CACHE"
# One run at a time per cache: a second one waits, then finds the work done.
exec 9>"$CACHE/.lock"
if ! flock -n 9; then
    log "waiting for another run to finish"
    flock 9
fi

if [ "$FORCE" = 0 ] && outputs_valid; then
    [ "$CHECK" = 1 ] || log "up to date: $OUT"
    exit 0
fi
[ "$CHECK" = 0 ] || exit 1

setup_apt
fetch_packages

WORK=$(mktemp -d "$CACHE/build.XXXXXX")
trap 'rm -rf "$WORK"' EXIT
log "building in $WORK"
build_outputs "$WORK"
rm -rf "$OUT.old"
[ ! -e "$OUT" ] || mv "$OUT" "$OUT.old"
mv "$WORK/out" "$OUT"
rm -rf "$OUT.old"

# Keep only the .debs this build used.
for deb in "$DEB_DIR"/*.deb; do
    keep=0
    for pkg in $PKG_NAMES; do
        [ "$deb" != "$(deb_path "$pkg")" ] || keep=1
    done
    [ "$keep" = 1 ] || rm -f "$deb"
done

log "done: $OUT"
sed -n 's/^\(package\|kernel-release\|modules\(-builtin\)\?\) /  \1 /p' "$OUT/manifest" >&2
