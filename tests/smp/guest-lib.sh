# Sourced by the smp tests. smp_initrd FETCH_SCRIPT ELF NAME DIR builds DIR/initrd.img, the Debian
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

# smp_boot RVISOR N MEM DIR SCRIPT [RVISOR OPTIONS...] boots that initramfs on N harts with
# MEM of RAM, running SCRIPT (kernel command-line encoded) after "echo cpus=$(nproc)"; the
# console goes to DIR/out, rvisor's exit status to $rc, and the nproc check to $passed/$failed.
smp_boot() {
    _rvisor=$1 _n=$2 _mem=$3 _dir=$4 _script=$5
    shift 5
    timeout 1500 "$_rvisor" run --smp "$_n" --mem "$_mem" "$@" --kernel "$guest/Image" \
        --initrd "$_dir/initrd.img" \
        --append "console=ttyS0 quiet rvisor.cmd=echo%20cpus=\$(nproc);$_script" \
        </dev/null >"$_dir/out" 2>&1
    rc=$?
    if grep -q "^cpus=$_n" "$_dir/out"; then
        passed=$((passed + 1)); echo "PASS: the guest sees $_n CPUs"
    else
        failed=$((failed + 1)); echo "FAIL: nproc"; tail -5 "$_dir/out"
    fi
}
