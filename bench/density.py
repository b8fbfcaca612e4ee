#!/usr/bin/env python3
"""VM density benchmark (issue 6): start latency and memory per VM, rvisor against
qemu-system-riscv64 -M virt with the same Debian kernel and initramfs. Never part of the tests.

Measures, for rvisor (VMs started through `rvisor serve`) and for QEMU (TCG):
  - start latency: from the start request (rvisor start / spawning qemu) to the VM's API
    answering (rvisor: the per-VM API's status; QEMU: the QMP greeting) and to the guest's
    first userspace line ("rvisor-guest: userspace up"), best and median of RUNS;
  - memory of idle VMs, 1 and COUNT at a time: per process RSS and PSS (smaps_rollup), the
    guest RAM actually touched (RSS of the anonymous mapping of exactly the guest RAM size),
    and the monitor overhead = RSS (or PSS) - guest RAM touched. PSS is the fairer figure:
    RSS counts rvisor's code cache twice (one memfd mapped writable and executable) and
    counts libraries shared with other VMs in full;
  - the density: how many such idle VMs fit in 8 GiB, from the measured PSS per VM.
The Debian kernel (31 MB Image) does not boot in 64 MiB (it runs out of memory while
unpacking the initramfs); MEM defaults to 96 MiB, the smallest size it boots in, and the
64 MiB figure is derived from the measured overhead.
Usage: bench/density.py [--build DIR] [--count N] [--mem MIB] [--runs N] [--no-qemu]"""
import argparse
import json
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time

MARK = b"rvisor-guest: userspace up"
IDLE = "console=ttyS0 quiet rvisor.cmd=sleep%20100000"


def poll(cond, timeout, step=0.005):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if cond():
            return time.monotonic()
        time.sleep(step)
    raise TimeoutError("timed out")


def has_mark(path):
    try:
        with open(path, "rb") as f:
            return MARK in f.read()
    except OSError:
        return False


def rvisor_api_ready(path):
    try:
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.settimeout(1)
        s.connect(path)
        s.sendall(b'{"request":"status"}\n')
        ok = b'"ok":true' in s.makefile("rb").readline()
        s.close()
        return ok
    except OSError:
        return False


def qmp_ready(path):
    try:
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.settimeout(1)
        s.connect(path)
        ok = b"QMP" in s.makefile("rb").readline()
        s.close()
        return ok
    except OSError:
        return False


def smaps(pid, ram_kb):
    """(rss_kb, pss_kb, guest_ram_rss_kb) of a process."""
    roll = {}
    with open(f"/proc/{pid}/smaps_rollup") as f:
        for line in f:
            parts = line.split()
            if parts and parts[0] in ("Rss:", "Pss:"):
                roll[parts[0]] = int(parts[1])
    guest = 0
    with open(f"/proc/{pid}/smaps") as f:
        anon = size = None
        for line in f:
            parts = line.split()
            if "-" in parts[0] and len(parts) >= 5 and ":" not in parts[0]:
                anon = len(parts) == 5
                size = None
            elif parts[0] == "Size:":
                size = int(parts[1])
            elif parts[0] == "Rss:" and anon and size == ram_kb:
                guest += int(parts[1])
    return roll["Rss:"], roll["Pss:"], guest


class Rvisor:
    name = "rvisor (rvisor serve, translator)"

    def __init__(self, build, guest, mem, tmp):
        self.bin = os.path.join(build, "rvisor")
        self.state = os.path.join(tmp, "state")
        self.env = dict(os.environ, RVISOR_MANAGER=os.path.join(self.state, "manager.sock"))
        self.mgr = subprocess.Popen([self.bin, "serve", "--state-dir", self.state],
                                    stderr=subprocess.DEVNULL)
        poll(lambda: self.cli("list") is not None, 20)
        self.config = {"kernel": f"{guest}/Image", "initrd": f"{guest}/initrd.img",
                       "mem": mem, "append": IDLE}
        self.n = 0

    def cli(self, *args):
        r = subprocess.run([self.bin, *args], env=self.env, capture_output=True, text=True)
        return r.stdout if r.returncode == 0 else None

    def vm_dir(self, name):
        return os.path.join(self.state, "vms", name)

    def start(self):
        """Starts one VM; returns (handle, t_start)."""
        self.n += 1
        name = f"vm{self.n}"
        cfg = os.path.join(self.state, f"{name}.json")
        with open(cfg, "w") as f:
            json.dump(self.config, f)
        self.cli("create", name, "--config", cfg)
        t0 = time.monotonic()
        self.cli("start", name)
        return name, t0

    def api_ready(self, name):
        return rvisor_api_ready(os.path.join(self.vm_dir(name), "api.sock"))

    def console(self, name):
        return os.path.join(self.vm_dir(name), "console.log")

    def pid(self, name):
        return json.loads(self.cli("info", name))["pid"]

    def stop(self, name):
        self.cli("delete", name, "--force")

    def close(self):
        self.mgr.send_signal(signal.SIGTERM)
        self.mgr.wait()

    def extra(self):
        return "manager process RSS %.1f MiB" % (smaps(self.mgr.pid, 0)[0] / 1024)


class Qemu:
    name = "qemu-system-riscv64 -M virt (TCG)"

    def __init__(self, guest, mem, tmp):
        self.guest, self.mem, self.tmp = guest, mem, tmp
        self.procs = {}
        self.n = 0

    def start(self):
        self.n += 1
        name = f"q{self.n}"
        t0 = time.monotonic()
        p = subprocess.Popen(
            ["qemu-system-riscv64", "-M", "virt", "-m", f"{self.mem}M", "-display", "none",
             "-monitor", "none", "-serial", f"file:{self.console(name)}",
             "-qmp", f"unix:{self.tmp}/{name}.qmp,server=on,wait=off",
             "-kernel", f"{self.guest}/Image", "-initrd", f"{self.guest}/initrd.img",
             "-append", IDLE], stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL)
        self.procs[name] = p
        return name, t0

    def api_ready(self, name):
        return qmp_ready(f"{self.tmp}/{name}.qmp")

    def console(self, name):
        return f"{self.tmp}/{name}.log"

    def pid(self, name):
        return self.procs[name].pid

    def stop(self, name):
        p = self.procs.pop(name)
        p.kill()
        p.wait()

    def close(self):
        for name in list(self.procs):
            self.stop(name)

    def extra(self):
        return ""


def latency(hv, runs):
    api, user = [], []
    for _ in range(runs):
        name, t0 = hv.start()
        api.append(poll(lambda: hv.api_ready(name), 60) - t0)
        user.append(poll(lambda: has_mark(hv.console(name)), 300) - t0)
        hv.stop(name)
    return api, user


def memory(hv, count, ram_kb, settle):
    names = [hv.start()[0] for _ in range(count)]
    for name in names:
        poll(lambda: has_mark(hv.console(name)), 600, 0.1)
    time.sleep(settle)
    rows = [smaps(hv.pid(name), ram_kb) for name in names]
    for name in names:
        hv.stop(name)
    return rows


def mib(kb):
    return kb / 1024


def report(hv, args, ram_kb):
    api, user = latency(hv, args.runs)
    print(f"\n== {hv.name}, {args.mem} MiB idle guests")
    print(f"start -> API ready:         best {min(api)*1000:7.1f} ms, "
          f"median {statistics.median(api)*1000:7.1f} ms ({args.runs} runs)")
    print(f"start -> guest userspace:   best {min(user):7.2f} s,  "
          f"median {statistics.median(user):7.2f} s")
    per_vm = None
    for count in (1, args.count):
        rows = memory(hv, count, ram_kb, args.settle)
        rss = statistics.mean(r[0] for r in rows)
        pss = statistics.mean(r[1] for r in rows)
        guest = statistics.mean(r[2] for r in rows)
        print(f"{count:2d} idle VM(s): per VM RSS {mib(rss):6.1f} MiB, PSS {mib(pss):6.1f} MiB, "
              f"guest RAM touched {mib(guest):5.1f} MiB; monitor overhead: RSS - guest "
              f"{mib(rss - guest):5.1f} MiB, PSS - guest {mib(pss - guest):5.1f} MiB")
        per_vm = (pss, guest)
    pss, guest = per_vm
    overhead = pss - guest
    print(f"density in 8 GiB: {int(8 * 1024 * 1024 // pss)} idle {args.mem} MiB VMs "
          f"(measured PSS per VM); a 64 MiB guest touching all its RAM: "
          f"{int(8 * 1024 * 1024 // (64 * 1024 + overhead))}; "
          f"touching as much as measured ({mib(min(guest, 64 * 1024)):.0f} MiB): "
          f"{int(8 * 1024 * 1024 // (min(guest, 64 * 1024) + overhead))}")
    if hv.extra():
        print(hv.extra())


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", default="build")
    ap.add_argument("--count", type=int, default=10)
    ap.add_argument("--mem", type=int, default=96)
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--settle", type=float, default=5.0)
    ap.add_argument("--no-qemu", action="store_true")
    args = ap.parse_args()
    src = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    guest = subprocess.run([os.path.join(src, "guest/fetch-debian.sh"), "--print-dir"],
                           capture_output=True, text=True, check=True).stdout.strip()
    ram_kb = args.mem * 1024
    print(f"VM density: Debian kernel + busybox initramfs, idle guests (sleep), "
          f"{os.cpu_count()} host CPUs")
    tmp = tempfile.mkdtemp(prefix="rvisor-density.")
    try:
        hv = Rvisor(args.build, guest, args.mem, tmp)
        try:
            report(hv, args, ram_kb)
        finally:
            hv.close()
        if not args.no_qemu and shutil.which("qemu-system-riscv64"):
            q = Qemu(guest, args.mem, tmp)
            try:
                report(q, args, ram_kb)
            finally:
                q.close()
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
