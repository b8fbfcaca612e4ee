# Sourced by bench/guest.sh and bench/ab.sh: the guest side of the workload benchmarks.

# bench_kernel_args OPS: the kernel command line of a benchmark guest that runs the workloads
# OPS (sha256 gzip xz9 xz4 bzip2 dd) on the input of bench/extras.sh, each between a line
# "BB name" and a line "BE name t0 t1" (guest /proc/uptime before and after).
bench_kernel_args() {
    script='t(){ read u x </proc/uptime;echo $u;}
r(){ n=$1;shift;echo BB $n;a=$(t);"$@" >/dev/null;b=$(t);echo BE $n $a $b;}
mount -t tmpfs -o size=256M tmpfs /tmp
cat /bench/input >/tmp/f
head -c 16777216 /tmp/f >/tmp/h
X="/opt/debian/lib/ld-linux-riscv64-lp64d.so.1 --library-path /opt/debian/lib /opt/debian/bin/xz"
for op in '"$1"';do case $op in
sha256) r sha256 sha256sum /tmp/f;;
gzip) r gzip gzip -c /tmp/f;;
xz9) r xz9 $X -9 -c /tmp/h;;
xz4) head -c 4194304 /tmp/f >/tmp/q;r xz4 $X -9 -c /tmp/q;;
bzip2) r bzip2 bzip2 -9 -c /tmp/h;;
dd) r dd dd if=/dev/zero of=/tmp/z bs=1M count=32 2>/dev/null;rm /tmp/z;;
esac;done'
    echo "console=ttyS0 quiet rvisor.cmd64=$(printf '%s' "$script" | base64 -w0)"
}

bench_tck=$(getconf CLK_TCK)
cpu() { # CPU seconds (user + system, all threads) used so far by process $1
    awk -v t="$bench_tck" '{ printf "%.2f\n", ($14 + $15) / t }' "/proc/$1/stat" 2>/dev/null || echo -
}
