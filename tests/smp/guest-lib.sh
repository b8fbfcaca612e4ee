# Sourced by the smp tests: smp_initrd FETCH_SCRIPT ELF NAME DIR builds DIR/initrd.img, the Debian
# initramfs with a second cpio archive holding ELF as /NAME appended (the kernel unpacks both),
# and sets $guest to the guest's directory. Returns non-zero if the guest cannot be fetched.
smp_initrd() {
    "$1" >/dev/null || return 1
    guest=$("$1" --print-dir)
    mkdir -p "$4/root"
    cp "$2" "$4/root/$3"
    (cd "$4/root" && echo "$3" | cpio -o -H newc --quiet | gzip) >"$4/extra.cpio.gz"
    cat "$guest/initrd.img" "$4/extra.cpio.gz" >"$4/initrd.img"
}
