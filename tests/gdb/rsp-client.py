#!/usr/bin/env python3
"""A GDB remote protocol client that checks rvisor's stub directly: good packets, malformed
packets, bad checksums, out-of-range memory, single step, Ctrl-C, and an abrupt disconnect
(after which the VM must run on, without breakpoints, to the program's exit status 7).
Usage: rsp-client.py RVISOR PROG.ELF"""
import re
import socket
import subprocess
import sys
import tempfile
import time

RVISOR, PROG = sys.argv[1], sys.argv[2]
passed = failed = 0


def check(what, ok, detail=""):
    global passed, failed
    if ok:
        passed += 1
    else:
        failed += 1
        print(f"FAIL: {what} {detail}")


def symbols():
    out = subprocess.run(["riscv64-linux-gnu-nm", PROG], capture_output=True, text=True).stdout
    return {f[2]: int(f[0], 16) for f in (l.split() for l in out.splitlines()) if len(f) == 3}


def frame(data: bytes) -> bytes:
    return b"$" + data + b"#%02x" % (sum(data) & 0xFF)


class Conn:
    def __init__(self, port):
        self.s = socket.create_connection(("127.0.0.1", port), timeout=20)
        self.buf = b""
        self.ack = True

    def recv_more(self):
        d = self.s.recv(65536)
        if not d:
            raise EOFError("connection closed")
        self.buf += d

    def byte(self):
        while not self.buf:
            self.recv_more()
        c, self.buf = self.buf[:1], self.buf[1:]
        return c

    def packet(self):
        """The next packet's payload (acknowledged when in ack mode)."""
        while True:
            c = self.byte()
            if c == b"$":
                break
            if c not in b"+-":
                raise ValueError(f"unexpected byte {c!r}")
        while b"#" not in self.buf or len(self.buf) < self.buf.index(b"#") + 3:
            self.recv_more()
        i = self.buf.index(b"#")
        data, cs, self.buf = self.buf[:i], self.buf[i + 1:i + 3], self.buf[i + 3:]
        assert int(cs, 16) == sum(data) & 0xFF, "stub sent a bad checksum"
        if self.ack:
            self.s.sendall(b"+")
        return data

    def cmd(self, data: bytes):
        """Sends a packet; returns (ack byte or None, reply payload)."""
        self.s.sendall(frame(data))
        a = self.byte() if self.ack else None
        return a, self.packet()

    def q(self, data: bytes) -> bytes:
        return self.cmd(data)[1]


def le(hexstr: bytes) -> int:
    return int.from_bytes(bytes.fromhex(hexstr.decode()), "little")


def start(extra):
    """Starts rvisor with its stub on a free port; returns (process, port or None)."""
    err = tempfile.TemporaryFile("w+")
    rv = subprocess.Popen([RVISOR, "run", "--gdb", "tcp:127.0.0.1:0", "--bios", PROG] + extra,
                          stdout=subprocess.DEVNULL, stderr=err)
    for _ in range(100):
        err.seek(0)
        m = re.search(r"gdb stub on port (\d+)", err.read())
        if m:
            return rv, int(m.group(1))
        time.sleep(0.1)
    print("rvisor did not start its stub")
    rv.kill()
    return rv, None


def smp(sym):
    """Two harts: vCont with thread ids runs or steps only the harts named."""
    rv, port = start(["-S", "--smp", "2"])
    if port is None:
        check("smp stub", False)
        return
    c = Conn(port)
    c.q(b"QStartNoAckMode")
    c.ack = False
    check("two threads", c.q(b"qfThreadInfo") == b"m1,2")
    pc = lambda t: (c.q(b"Hg%x" % t), le(c.q(b"p20")))[1]
    r = c.q(b"vCont;s:2")
    check("step of thread 2 only", r == b"T05thread:2;", repr(r))
    check("hart 1 stepped", pc(2) == 0x80000004)
    check("hart 0 did not move", pc(1) == 0x80000000)
    c.q(b"Z0,%x,2" % sym["bp_here"])
    r = c.q(b"vCont;c:1")
    check("continue of thread 1 only", r == b"T05thread:1;", repr(r))
    check("hart 0 at the breakpoint", pc(1) == sym["bp_here"])
    check("hart 1 held", pc(2) == 0x80000004)
    r = c.q(b"vCont;s:1;c")
    check("step one, hold the others", r == b"T05thread:1;" and pc(2) == 0x80000004, repr(r))
    c.s.close()
    try:
        status = rv.wait(timeout=30)
    except subprocess.TimeoutExpired:
        rv.kill()
        status = None
    check("smp VM ran on after the disconnect", status == 7, status)


def main():
    sym = symbols()
    smp(sym)
    rv, port = start(["-S"])
    if port is None:
        return 1
    c = Conn(port)

    a, r = c.cmd(b"?")
    check("ack for a good packet", a == b"+", repr(a))
    check("stop reply at attach", r == b"T05thread:1;", repr(r))
    r = c.q(b"qSupported:multiprocess+;swbreak+")
    check("qSupported", b"PacketSize=1000" in r and b"qXfer:features:read+" in r, repr(r))
    xml, off = b"", 0
    while True:
        r = c.q(b"qXfer:features:read:target.xml:%x,200" % off)
        xml += r[1:]
        off += len(r) - 1
        if r[:1] == b"l":
            break
        check("qXfer chunk", r[:1] == b"m", repr(r[:20]))
    check("target description", all(f in xml for f in
          [b"org.gnu.gdb.riscv.cpu", b"org.gnu.gdb.riscv.fpu", b"org.gnu.gdb.riscv.csr",
           b'name="mstatus"', b"</target>"]), xml[-80:])
    check("unknown annex", c.q(b"qXfer:features:read:nothing.xml:0,100").startswith(b"E"))

    # bad checksum: NAK, and nothing else
    c.s.sendall(b"$?#00")
    check("bad checksum gets '-'", c.byte() == b"-")
    # too long for PacketSize
    c.s.sendall(frame(b"m" + b"0" * 5000))
    check("overlong packet gets '-'", c.byte() == b"-")
    # unknown and malformed packets
    check("unknown packet: empty reply", c.q(b"qNoSuchThing") == b"")
    check("unknown letter: empty reply", c.q(b"y1234") == b"")
    for bad in [b"mzz,4", b"m80000000", b"m80000000,", b"m1,2,3", b"M80002000,4:0011",
                b"M80002000,2:zzzz", b"X80002000,4:ab", b"Z9,80000000,2", b"Z0,,2",
                b"Z2,80002000,0", b"p", b"pzz", b"p99999", b"P20=12", b"P20",
                b"G1234", b"Hg99", b"Hx1", b"T0", b"T99", b"vCont;x", b"vCont;s:99",
                b"c12zz", b"qThreadExtraInfo,zz", b"qRcmd,zz", b"m" + b"f" * 17 + b",4"]:
        r = c.q(bad)
        check(f"malformed {bad[:20]!r} gets an error", re.fullmatch(rb"E[0-9a-f]{2}", r), repr(r))
    # out-of-range memory
    for addr in [b"0", b"1000", b"7ffff000", b"ffffffffffffff00", b"%x" % (0x80000000 + (128 << 20))]:
        r = c.q(b"m" + addr + b",8")
        check(f"unmapped read at {addr.decode()} gets E14", r == b"E14", repr(r))
    check("unmapped write gets E14", c.q(b"M0,4:00000000") == b"E14")
    check("device registers are not read", c.q(b"m10000000,1") == b"E14")
    r = c.q(b"m80000000,100000")
    check("long read is cut to the packet size", len(r) == 4096 and re.fullmatch(rb"[0-9a-f]+", r))

    # memory and registers
    insn = le(c.q(b"m80000000,4"))
    check("first instruction read back (auipc sp)", insn & 0xFFF == 0x117, hex(insn))
    check("pc at reset", le(c.q(b"p20")) == 0x80000000)
    check("hex write", c.q(b"M80002000,4:deadbeef") == b"OK")
    check("hex read back", c.q(b"m80002000,4") == b"deadbeef")
    check("binary write with escapes", c.q(b"X80002004,4:}\x03}\x04}]}\x0a") == b"OK")
    check("binary read back", c.q(b"m80002004,4") == b"23247d2a", c.q(b"m80002004,4"))
    check("X probe", c.q(b"X80002000,0:") == b"OK")
    r = c.q(b"qRcmd," + b"phys on".hex().encode())
    check("monitor phys on", b"physical".hex().encode() in r, repr(r))
    check("physical read", c.q(b"m80002000,4") == b"deadbeef")
    c.q(b"qRcmd," + b"phys off".hex().encode())
    check("x0 reads 0", le(c.q(b"p0")) == 0)
    check("write a register", c.q(b"P5=" + (0x1234).to_bytes(8, "little").hex().encode()) == b"OK")
    check("read it back", le(c.q(b"p5")) == 0x1234)
    check("CSR misa", le(c.q(b"p%x" % (65 + 0x301))) >> 62 == 2)
    check("privilege M", le(c.q(b"p%x" % (65 + 4096))) == 3)
    g = c.q(b"g")
    check("g packet: 65 registers", len(g) == 65 * 16, len(g))
    check("G packet writes them back", c.q(b"G" + g) == b"OK")
    check("threads", c.q(b"qfThreadInfo") == b"m1" and c.q(b"qsThreadInfo") == b"l")
    check("thread alive", c.q(b"T1") == b"OK")
    check("Hg", c.q(b"Hg1") == b"OK" and c.q(b"Hc-1") == b"OK")

    # single step: one instruction, no matter what else is pending
    r = c.q(b"vCont;s:1")
    check("step stops", r.startswith(b"T05") and b"thread:1;" in r, repr(r))
    check("step executed one 4-byte instruction", le(c.q(b"p20")) == 0x80000004)
    r = c.q(b"s")
    check("'s' steps too", le(c.q(b"p20")) == 0x80000008, repr(r))

    # breakpoint
    bp = sym["bp_here"]
    check("Z0", c.q(b"Z0,%x,2" % bp) == b"OK")
    check("Z0 twice", c.q(b"Z0,%x,2" % bp) == b"OK")
    r = c.q(b"vCont;c")
    check("breakpoint stop", r == b"T05thread:1;", repr(r))
    check("at the breakpoint", le(c.q(b"p20")) == bp)
    check("z0", c.q(b"z0,%x,2" % bp) == b"OK")
    check("z0 of nothing", c.q(b"z0,%x,2" % bp).startswith(b"E"))

    # Ctrl-C: the hart spins in the program's final loop (pc set there by hand)
    loop = sym["spin"]
    check("pc write", c.q(b"P20=" + loop.to_bytes(8, "little").hex().encode()) == b"OK")
    c.s.sendall(frame(b"c"))
    check("ack for continue", c.byte() == b"+")
    time.sleep(0.3)
    c.s.sendall(b"\x03")
    r = c.packet()
    check("Ctrl-C stops with SIGINT", r.startswith(b"T02"), repr(r))
    check("stopped in the loop", le(c.q(b"p20")) == loop)
    c.q(b"P20=" + sym["store_insn"].to_bytes(8, "little").hex().encode())

    # no-ack mode
    check("QStartNoAckMode", c.q(b"QStartNoAckMode") == b"OK")
    c.ack = False
    c.s.sendall(frame(b"p20"))
    r = c.packet()
    check("no '+' in no-ack mode", le(r) == sym["store_insn"], repr(r))

    # abrupt disconnect with a breakpoint set: the VM runs on, without it, and exits with 7
    c.q(b"Z0,%x,4" % sym["after_store"])
    c.s.close()
    try:
        status = rv.wait(timeout=30)
    except subprocess.TimeoutExpired:
        rv.kill()
        status = None
    check("VM ran on after the disconnect, to exit status 7", status == 7, status)
    print(f"{passed} passed, {failed} failed")
    return 0 if failed == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
