#!/usr/bin/env python3
"""Generates tests/unit/decode_table.h, the oracle table for tests/unit/test_decode.c.

The oracle is GNU binutils: this script writes an assembly file, assembles and links it with
riscv64-linux-gnu-as/ld, disassembles it with `objdump -M no-aliases,numeric`, and turns every
disassembled line into the fields rv_decode() must produce (op, rd, rs1, rs2, rs3, imm, rm, len).

Three groups of entries:
  asm     every instruction form of RV64IMAFDC + Zicsr + Zifencei + Zba/Zbb/Zbc/Zbs + Zicbom/
          Zicboz/Zicbop + Zawrs + Zihintpause + privileged (ecall, ebreak, mret, sret, wfi,
          sfence.vma), each with boundary and random operands, written in assembly. The fields
          objdump shows must equal the fields this script meant to encode (checked here), so the
          assembler, the disassembler and this script agree before an entry is written.
  insn    Zicond (czero.eqz/nez), which binutils 2.40 does not know: encoded with `.insn r`,
          expected fields from the spec's encoding (objdump shows them as .4byte).
  random  random 32-bit words (biased towards the major opcodes), random 16-bit words of the
          three compressed quadrants, and valid encodings with 1-2 bits flipped. Expected fields
          come from objdump alone; a word objdump does not know is expected to be RV_OP_ILLEGAL,
          except for the spec rules listed in spec_override() (e.g. FENCE ignores reserved fields).

Compressed instructions are expected to decode to their 32-bit expansion (unprivileged spec,
"RVC Instruction Set Listings"), as src/cpu/decode.h documents.

Usage: gen_decode_table.py [output.h]   (default: decode_table.h beside this script)
Deterministic: a fixed seed, so regenerating with the same binutils gives the same file.
For a deeper, uncommitted search: gen_decode_table.py --explore N out.h writes N random and N
bit-flipped 32-bit words and every 16-bit word (build test_decode against it with -I).
"""
import os
import random
import re
import subprocess
import sys
import tempfile

SEED = 20240601
ARCH_ATTR = ("rv64i2p1_m2p0_a2p1_f2p2_d2p2_c2p0_zicsr2p0_zifencei2p0_zihintpause2p0_"
             "zba1p0_zbb1p0_zbc1p0_zbs1p0_zicbom1p0_zicbop1p0_zicboz1p0_zawrs1p0")
MARCH = "rv64gc_zba_zbb_zbc_zbs_zicbom_zicbop_zicboz_zawrs_zihintpause"
AS = "riscv64-linux-gnu-as"
LD = "riscv64-linux-gnu-ld"
OBJDUMP = "riscv64-linux-gnu-objdump"

F_RD, F_RS1, F_RS2, F_RS3, F_IMM, F_RM = 1, 2, 4, 8, 16, 32
FIELD_BITS = {"rd": F_RD, "rs1": F_RS1, "rs2": F_RS2, "rs3": F_RS3, "imm": F_IMM, "rm": F_RM}
RM_NAMES = {"rne": 0, "rtz": 1, "rdn": 2, "rup": 3, "rmm": 4, "dyn": 7}

rng = random.Random(SEED)


def sext(v, bits):
    v &= (1 << bits) - 1
    return v - (1 << bits) if v >> (bits - 1) else v


# ---------------------------------------------------------------------------------------------
# Operand formats: how the operands objdump prints map onto decoder fields.
# ---------------------------------------------------------------------------------------------
FMT = {}


def fmt(kind, names):
    for n in names.split():
        FMT[n] = kind


fmt("R", "add sub sll slt sltu xor srl sra or and addw subw sllw srlw sraw "
         "mul mulh mulhsu mulhu div divu rem remu mulw divw divuw remw remuw "
         "add.uw sh1add sh2add sh3add sh1add.uw sh2add.uw sh3add.uw andn orn xnor "
         "max maxu min minu rol rolw ror rorw clmul clmulh clmulr bclr bext binv bset "
         "czero.eqz czero.nez "
         "fsgnj.s fsgnjn.s fsgnjx.s fmin.s fmax.s feq.s flt.s fle.s "
         "fsgnj.d fsgnjn.d fsgnjx.d fmin.d fmax.d feq.d flt.d fle.d")
fmt("I", "addi slti sltiu xori ori andi addiw")
fmt("SH", "slli srli srai rori bclri bexti binvi bseti slli.uw slliw srliw sraiw roriw")
fmt("R1", "clz clzw ctz ctzw cpop cpopw sext.b sext.h zext.h orc.b rev8 "
          "fmv.x.w fmv.w.x fclass.s fmv.x.d fmv.d.x fclass.d fcvt.d.s fcvt.d.w fcvt.d.wu")
fmt("R1M", "fsqrt.s fsqrt.d fcvt.w.s fcvt.wu.s fcvt.l.s fcvt.lu.s fcvt.s.w fcvt.s.wu fcvt.s.l "
           "fcvt.s.lu fcvt.w.d fcvt.wu.d fcvt.l.d fcvt.lu.d fcvt.d.l fcvt.d.lu fcvt.s.d")
fmt("RRM", "fadd.s fsub.s fmul.s fdiv.s fadd.d fsub.d fmul.d fdiv.d")
fmt("R4M", "fmadd.s fmsub.s fnmsub.s fnmadd.s fmadd.d fmsub.d fnmsub.d fnmadd.d")
fmt("U", "lui auipc")
fmt("J", "jal")
fmt("B", "beq bne blt bge bltu bgeu")
fmt("L", "lb lh lw ld lbu lhu lwu flw fld jalr")
fmt("S", "sb sh sw sd fsw fsd")
fmt("CSR", "csrrw csrrs csrrc")
fmt("CSRI", "csrrwi csrrsi csrrci")
fmt("N", "ecall ebreak mret sret wfi wrs.nto wrs.sto fence.i")
# objdump knows these privileged instructions whatever the arch attribute says; rvisor has no N
# extension (uret), no debug mode (dret) and none of the priv-1.9 instructions (hret, sfence.vm).
NOT_IMPLEMENTED = {"uret", "dret", "hret", "sfence.vm"}
fmt("FENCE", "fence fence.tso pause")
fmt("SF", "sfence.vma")
fmt("CBO", "cbo.clean cbo.flush cbo.inval cbo.zero")
fmt("PF", "prefetch.i prefetch.r prefetch.w")
AMO_BASE = ("lr sc amoswap amoadd amoxor amoand amoor amomin amomax amominu amomaxu").split()
for b in AMO_BASE:
    for w in ("w", "d"):
        for sfx in ("", ".aq", ".rl", ".aqrl"):
            FMT[f"{b}.{w}{sfx}"] = "LR" if b == "lr" else "AMO"

# Compressed forms: (format, 32-bit expansion's mnemonic).
CFMT = {
    "c.addi4spn": ("CIW", "addi"), "c.fld": ("L", "fld"), "c.lw": ("L", "lw"),
    "c.ld": ("L", "ld"), "c.fsd": ("S", "fsd"), "c.sw": ("S", "sw"), "c.sd": ("S", "sd"),
    "c.nop": ("CNOP", "addi"), "c.addi": ("CI", "addi"), "c.addiw": ("CI", "addiw"),
    "c.li": ("CLI", "addi"), "c.addi16sp": ("CI", "addi"), "c.lui": ("CLUI", "lui"),
    "c.srli": ("CI", "srli"), "c.srai": ("CI", "srai"), "c.srli64": ("C64", "srli"),
    "c.srai64": ("C64", "srai"), "c.andi": ("CI", "andi"), "c.sub": ("CA", "sub"),
    "c.xor": ("CA", "xor"), "c.or": ("CA", "or"), "c.and": ("CA", "and"),
    "c.subw": ("CA", "subw"), "c.addw": ("CA", "addw"), "c.j": ("CJ", "jal"),
    "c.beqz": ("CB", "beq"), "c.bnez": ("CB", "bne"), "c.slli": ("CI", "slli"),
    "c.slli64": ("C64", "slli"), "c.fldsp": ("L", "fld"), "c.lwsp": ("L", "lw"),
    "c.ldsp": ("L", "ld"), "c.jr": ("CJR", "jalr"), "c.mv": ("CMV", "add"),
    "c.ebreak": ("N", "ebreak"), "c.jalr": ("CJALR", "jalr"), "c.add": ("CA", "add"),
    "c.fsdsp": ("S", "fsd"), "c.swsp": ("S", "sw"), "c.sdsp": ("S", "sd"),
    "c.unimp": ("ILL", None),
}


def op_enum(mnemonic):
    return "RV_OP_" + mnemonic.upper().replace(".", "_")


def parse_reg(tok):
    m = re.fullmatch(r"[xf](\d+)", tok)
    if not m:
        raise ValueError(f"not a register: {tok!r}")
    return int(m.group(1))


def parse_int(tok):
    return int(tok, 0)


def parse_mem(tok):
    m = re.fullmatch(r"(-?(?:0x)?[0-9a-f]*)\((x\d+)\)", tok)
    if not m:
        raise ValueError(f"not a memory operand: {tok!r}")
    return (int(m.group(1), 0) if m.group(1) else 0), parse_reg(m.group(2))


class Ctx:
    """How to read operands that depend on where they come from (objdump or our source)."""

    def __init__(self, pc, csr_names, target_is_relative):
        self.pc = pc
        self.csr_names = csr_names
        self.rel = target_is_relative

    def target(self, tok):
        if self.rel:  # our source: ".+N" / ".-N"
            m = re.fullmatch(r"\.([+-]\d+)", tok)
            return int(m.group(1))
        return sext(int(tok.split()[0], 16) - self.pc, 64)

    def csr(self, tok):
        if re.fullmatch(r"(0x[0-9a-f]+|\d+)", tok):
            return int(tok, 0)
        return self.csr_names[tok]


def fields_of(mnemonic, operands, raw, ctx):
    """Returns (op name, {field: value}) for one instruction; op None means illegal."""
    ops = [o.strip() for o in operands.split(",")] if operands else []
    f = {}
    if mnemonic in CFMT:
        kind, exp = CFMT[mnemonic]
        if kind == "ILL":
            return None, {}
        if kind == "CIW":
            f = dict(rd=parse_reg(ops[0]), rs1=parse_reg(ops[1]), imm=parse_int(ops[2]))
        elif kind == "CNOP":
            f = dict(rd=0, rs1=0, imm=0)
        elif kind == "CI":
            r = parse_reg(ops[0])
            f = dict(rd=r, rs1=r, imm=parse_int(ops[1]))
        elif kind == "CLI":
            f = dict(rd=parse_reg(ops[0]), rs1=0, imm=parse_int(ops[1]))
        elif kind == "CLUI":
            f = dict(rd=parse_reg(ops[0]), imm=sext(parse_int(ops[1]), 20) << 12)
        elif kind == "C64":
            r = parse_reg(ops[0])
            f = dict(rd=r, rs1=r, imm=0)
        elif kind == "CA":
            r = parse_reg(ops[0])
            f = dict(rd=r, rs1=r, rs2=parse_reg(ops[1]))
        elif kind == "CJ":
            f = dict(rd=0, imm=ctx.target(ops[0]))
        elif kind == "CB":
            f = dict(rs1=parse_reg(ops[0]), rs2=0, imm=ctx.target(ops[1]))
        elif kind == "CJR":
            f = dict(rd=0, rs1=parse_reg(ops[0]), imm=0)
        elif kind == "CJALR":
            f = dict(rd=1, rs1=parse_reg(ops[0]), imm=0)
        elif kind == "CMV":
            f = dict(rd=parse_reg(ops[0]), rs1=0, rs2=parse_reg(ops[1]))
        elif kind == "N":
            f = {}
        elif kind == "L":
            imm, rs1 = parse_mem(ops[1])
            f = dict(rd=parse_reg(ops[0]), rs1=rs1, imm=imm)
        elif kind == "S":
            imm, rs1 = parse_mem(ops[1])
            f = dict(rs2=parse_reg(ops[0]), rs1=rs1, imm=imm)
        else:
            raise ValueError(kind)
        return exp, f

    kind = FMT.get(mnemonic)
    if kind is None:
        raise ValueError(f"no format for mnemonic {mnemonic!r}")
    rm_of = lambda i: (RM_NAMES[ops[i]] if ops[i] != "unknown" else (raw >> 12) & 7) \
        if len(ops) > i else 7
    if kind == "R":
        f = dict(rd=parse_reg(ops[0]), rs1=parse_reg(ops[1]), rs2=parse_reg(ops[2]))
    elif kind in ("I", "SH"):
        f = dict(rd=parse_reg(ops[0]), rs1=parse_reg(ops[1]), imm=parse_int(ops[2]))
    elif kind == "R1":
        f = dict(rd=parse_reg(ops[0]), rs1=parse_reg(ops[1]))
    elif kind == "R1M":
        f = dict(rd=parse_reg(ops[0]), rs1=parse_reg(ops[1]), rm=rm_of(2))
    elif kind == "RRM":
        f = dict(rd=parse_reg(ops[0]), rs1=parse_reg(ops[1]), rs2=parse_reg(ops[2]), rm=rm_of(3))
    elif kind == "R4M":
        f = dict(rd=parse_reg(ops[0]), rs1=parse_reg(ops[1]), rs2=parse_reg(ops[2]),
                 rs3=parse_reg(ops[3]), rm=rm_of(4))
    elif kind == "U":
        f = dict(rd=parse_reg(ops[0]), imm=sext(parse_int(ops[1]) << 12, 32))
    elif kind == "J":
        f = dict(rd=parse_reg(ops[0]), imm=ctx.target(ops[1]))
    elif kind == "B":
        f = dict(rs1=parse_reg(ops[0]), rs2=parse_reg(ops[1]), imm=ctx.target(ops[2]))
    elif kind == "L":
        imm, rs1 = parse_mem(ops[1])
        f = dict(rd=parse_reg(ops[0]), rs1=rs1, imm=imm)
    elif kind == "S":
        imm, rs1 = parse_mem(ops[1])
        f = dict(rs2=parse_reg(ops[0]), rs1=rs1, imm=imm)
    elif kind == "CSR":
        f = dict(rd=parse_reg(ops[0]), imm=ctx.csr(ops[1]), rs1=parse_reg(ops[2]))
    elif kind == "CSRI":
        f = dict(rd=parse_reg(ops[0]), imm=ctx.csr(ops[1]), rs1=parse_int(ops[2]))
    elif kind == "N":
        f = {}
    elif kind == "FENCE":  # pred/succ/fm are hints to the memory model; the decoder keeps none
        return "fence", {}
    elif kind == "SF":
        f = dict(rs1=parse_reg(ops[0]), rs2=parse_reg(ops[1]))
    elif kind == "CBO":
        _, rs1 = parse_mem(ops[0])
        f = dict(rs1=rs1)
    elif kind == "PF":  # Zicbop prefetch.{i,r,w} are ORI x0 hints (imm[4:0] selects the kind)
        imm, rs1 = parse_mem(ops[0])
        kind_bits = {"prefetch.i": 0, "prefetch.r": 1, "prefetch.w": 3}[mnemonic]
        return "ori", dict(rd=0, rs1=rs1, imm=imm | kind_bits)
    elif kind in ("AMO", "LR"):
        base = mnemonic
        aqrl = 0
        for sfx, bits in ((".aqrl", 3), (".aq", 2), (".rl", 1)):
            if base.endswith(sfx):
                base, aqrl = base[: -len(sfx)], bits
                break
        if kind == "LR":
            f = dict(rd=parse_reg(ops[0]), rs1=parse_mem(ops[1])[1], rm=aqrl)
        else:
            f = dict(rd=parse_reg(ops[0]), rs2=parse_reg(ops[1]), rs1=parse_mem(ops[2])[1],
                     rm=aqrl)
        return base, f
    else:
        raise ValueError(kind)
    return mnemonic, f


# ---------------------------------------------------------------------------------------------
# The instruction list.
# ---------------------------------------------------------------------------------------------
# Operand choosers. Variant 0 of every form takes the lowest values (x0, the most negative
# immediate), variant 1 the highest (x31, the largest immediate), variant 2 the values next to
# them; later variants mix boundary values and uniformly random ones.
variant = 0


def boundary(lo, hi, step=1):
    return {0: lo, 1: hi, 2: lo + step, 3: hi - step}.get(variant)


def xr():
    b = boundary(0, 31)
    return b if b is not None else rng.choice([0, 1, 2, 31, rng.randrange(32), rng.randrange(32)])


def cr():
    b = boundary(8, 15)
    return b if b is not None else rng.randrange(8, 16)


def imm_s(bits):
    lo, hi = -(1 << (bits - 1)), (1 << (bits - 1)) - 1
    b = boundary(lo, hi)
    if b is not None:
        return b
    return rng.choice([0, -1, 1, rng.randint(lo, hi), rng.randint(lo, hi)])


def pick(lo, hi, step=1, nonzero=False):
    b = boundary(lo, hi, step)
    if b is not None and not (nonzero and b == 0):
        return b
    while True:
        v = rng.choice([lo, hi, 0, step, -step, rng.randrange(lo, hi + 1, step),
                        rng.randrange(lo, hi + 1, step)])
        if lo <= v <= hi and not (nonzero and v == 0):
            return v


RM_SUFFIXES = ["", ",rne", ",rtz", ",rdn", ",rup", ",rmm", ",dyn"]


def rm_suffix():
    """Every rounding mode in turn (variants 0..6), then random ones."""
    return RM_SUFFIXES[variant] if variant < len(RM_SUFFIXES) else rng.choice(RM_SUFFIXES)


N_PER = 8  # variants per form


def asm_forms():
    """Yields assembly lines (canonical no-aliases syntax, numeric registers)."""
    global variant
    out = []
    for m, k in FMT.items():
        if m.startswith(("czero",)):
            continue
        for variant in range(N_PER):
            fr = "f" if m.startswith("f") and not m.startswith("fence") else "x"
            if k == "R":
                dst, src = reg_classes(m)
                out.append(f"{m} {dst}{xr()},{src}{xr()},{src}{xr()}")
            elif k == "I":
                out.append(f"{m} x{xr()},x{xr()},{imm_s(12)}")
            elif k == "SH":
                w = 31 if m.endswith("w") and m != "slli.uw" else 63
                out.append(f"{m} x{xr()},x{xr()},{pick(0, w)}")
            elif k in ("R1", "R1M"):
                dst, src = reg_classes(m)
                sfx = rm_suffix() if k == "R1M" else ""
                out.append(f"{m} {dst}{xr()},{src}{xr()}{sfx}")
            elif k == "RRM":
                out.append(f"{m} f{xr()},f{xr()},f{xr()}{rm_suffix()}")
            elif k == "R4M":
                out.append(f"{m} f{xr()},f{xr()},f{xr()},f{xr()}{rm_suffix()}")
            elif k == "U":
                out.append(f"{m} x{xr()},{hex(pick(0, 0xfffff))}")
            elif k == "J":
                out.append(f"{m} x{xr()},.{pick(-(1 << 20), (1 << 20) - 2, 2):+d}")
            elif k == "B":
                out.append(f"{m} x{xr()},x{xr()},.{pick(-4096, 4094, 2):+d}")
            elif k == "L":
                out.append(f"{m} {fr}{xr()},{imm_s(12)}(x{xr()})")
            elif k == "S":
                out.append(f"{m} {fr}{xr()},{imm_s(12)}(x{xr()})")
            elif k == "CSR":
                out.append(f"{m} x{xr()},{hex(pick(0, 4095))},x{xr()}")
            elif k == "CSRI":
                out.append(f"{m} x{xr()},{hex(pick(0, 4095))},{pick(0, 31)}")
            elif k in ("N", "FENCE"):
                if m == "fence":
                    sets = ["i", "o", "r", "w", "iorw", "rw", "io", "ir", "ow"]
                    out.append(f"fence {rng.choice(sets)},{rng.choice(sets)}")
                else:
                    out.append(m)
                    break
            elif k == "SF":
                out.append(f"{m} x{xr()},x{xr()}")
            elif k == "CBO":
                out.append(f"{m} (x{xr()})")
            elif k == "PF":
                out.append(f"{m} {pick(-2048, 2016, 32)}(x{xr()})")
            elif k == "LR":
                out.append(f"{m} x{xr()},(x{xr()})")
            elif k == "AMO":
                out.append(f"{m} x{xr()},x{xr()},(x{xr()})")
    return out


def reg_classes(m):
    """Register files ("x" or "f") of rd and of the sources of a 32-bit mnemonic."""
    if not m.startswith("f") or m.startswith("fence"):
        return "x", "x"
    if m.startswith(("fmv.x.", "fclass.", "feq.", "flt.", "fle.")):
        return "x", "f"
    if m in ("fmv.w.x", "fmv.d.x"):
        return "f", "x"
    if m.startswith("fcvt."):
        _, dst, src = m.split(".")
        t = lambda s: "x" if s in ("w", "wu", "l", "lu") else "f"
        return t(dst), t(src)
    return "f", "f"


def rvc_forms():
    global variant
    out = []
    for variant in range(N_PER * 2):
        out += [
            f"c.addi4spn x{cr()},x2,{pick(4, 1020, 4)}",
            f"c.fld f{cr()},{pick(0, 248, 8)}(x{cr()})",
            f"c.lw x{cr()},{pick(0, 124, 4)}(x{cr()})",
            f"c.ld x{cr()},{pick(0, 248, 8)}(x{cr()})",
            f"c.fsd f{cr()},{pick(0, 248, 8)}(x{cr()})",
            f"c.sw x{cr()},{pick(0, 124, 4)}(x{cr()})",
            f"c.sd x{cr()},{pick(0, 248, 8)}(x{cr()})",
            f"c.addi x{pick(1, 31)},{pick(-32, 31, nonzero=True)}",
            f"c.addiw x{pick(1, 31)},{pick(-32, 31)}",
            f"c.li x{pick(1, 31)},{pick(-32, 31)}",
            f"c.addi16sp x2,{pick(-512, 496, 16, nonzero=True)}",
            f"c.lui x{rng.choice([1, 3, 31, rng.randrange(3, 32)])},"
            f"{hex(pick(-32, 31, nonzero=True) & 0xfffff)}",
            f"c.srli x{cr()},{pick(1, 63)}",
            f"c.srai x{cr()},{pick(1, 63)}",
            f"c.andi x{cr()},{pick(-32, 31)}",
            f"c.sub x{cr()},x{cr()}",
            f"c.xor x{cr()},x{cr()}",
            f"c.or x{cr()},x{cr()}",
            f"c.and x{cr()},x{cr()}",
            f"c.subw x{cr()},x{cr()}",
            f"c.addw x{cr()},x{cr()}",
            f"c.j .{pick(-2048, 2046, 2):+d}",
            f"c.beqz x{cr()},.{pick(-256, 254, 2):+d}",
            f"c.bnez x{cr()},.{pick(-256, 254, 2):+d}",
            f"c.slli x{pick(1, 31)},{pick(1, 63)}",
            f"c.fldsp f{pick(0, 31)},{pick(0, 504, 8)}(x2)",
            f"c.lwsp x{pick(1, 31)},{pick(0, 252, 4)}(x2)",
            f"c.ldsp x{pick(1, 31)},{pick(0, 504, 8)}(x2)",
            f"c.jr x{pick(1, 31)}",
            f"c.mv x{pick(1, 31)},x{pick(1, 31)}",
            f"c.jalr x{pick(1, 31)}",
            f"c.add x{pick(1, 31)},x{pick(1, 31)}",
            f"c.fsdsp f{pick(0, 31)},{pick(0, 504, 8)}(x2)",
            f"c.swsp x{pick(0, 31)},{pick(0, 252, 4)}(x2)",
            f"c.sdsp x{pick(0, 31)},{pick(0, 504, 8)}(x2)",
        ]
    out += ["c.nop", "c.ebreak"]
    return sorted(set(out), key=out.index)


def zicond_forms():
    """(source line, raw, fields) for Zicond, encoded by hand from the spec (OP, funct7=0000111,
    funct3 101 = czero.eqz, 111 = czero.nez)."""
    global variant
    out = []
    for name, f3 in (("czero.eqz", 5), ("czero.nez", 7)):
        for variant in range(N_PER * 2):
            rd, rs1, rs2 = xr(), xr(), xr()
            raw = (7 << 25) | (rs2 << 20) | (rs1 << 15) | (f3 << 12) | (rd << 7) | 0x33
            out.append((f".insn r 0x33, {f3}, 7, x{rd}, x{rs1}, x{rs2}", raw,
                        f"{name} x{rd},x{rs1},x{rs2}", dict(rd=rd, rs1=rs1, rs2=rs2)))
    return out


# Major opcodes for random 32-bit words, with weights (reserved ones included).
OPCODES = [(0x03, 3), (0x07, 2), (0x0f, 3), (0x13, 4), (0x17, 1), (0x1b, 3), (0x23, 2),
           (0x27, 2), (0x2f, 4), (0x33, 6), (0x37, 1), (0x3b, 4), (0x43, 1), (0x47, 1),
           (0x4b, 1), (0x4f, 1), (0x53, 8), (0x63, 2), (0x67, 2), (0x6f, 1), (0x73, 5),
           (0x0b, 1), (0x2b, 1), (0x57, 1), (0x5b, 1), (0x6b, 1), (0x77, 1), (0x7b, 1)]
FUNCT7 = [0x00, 0x01, 0x04, 0x05, 0x07, 0x10, 0x14, 0x20, 0x24, 0x30, 0x34, 0x09, 0x18, 0x08]


def random32():
    op = rng.choices([o for o, _ in OPCODES], [w for _, w in OPCODES])[0]
    w = (rng.getrandbits(25) << 7) | op
    r = rng.random()
    if r < 0.35 and op in (0x33, 0x3b, 0x13, 0x1b, 0x53, 0x73):
        f7 = rng.choice(FUNCT7) if op != 0x53 else rng.randrange(128) & ~3 | rng.choice([0, 1, 0, 1, 2, 3])
        w = (w & 0x01ffffff) | (f7 << 25)
    elif r < 0.5 and op in (0x53, 0x13, 0x1b, 0x2f, 0x73):
        w &= ~(0x1f << 20)  # rs2/shamt field 0: unary FP ops, clz..., lr, system
        if rng.random() < 0.5:
            w |= rng.randrange(6) << 20
    return w


def random16():
    while True:
        w = rng.getrandbits(16)
        if w & 3 != 3:
            return w


def is_long(w):
    return (w & 3) == 3 and (w & 0x1c) == 0x1c  # 48-bit and longer: not for objdump


# ---------------------------------------------------------------------------------------------
# Running binutils.
# ---------------------------------------------------------------------------------------------
def run(cmd, **kw):
    r = subprocess.run(cmd, capture_output=True, text=True, **kw)
    if r.returncode != 0:
        sys.exit(f"{' '.join(cmd)} failed:\n{r.stderr}")
    return r.stdout


LINE = re.compile(r"^\s*([0-9a-f]+):\s+([0-9a-f]{4,8})\s+(\S+)\s*(.*)$")


def disassemble(tmp, lines, name, prologue=""):
    src = os.path.join(tmp, name + ".s")
    obj = os.path.join(tmp, name + ".o")
    elf = os.path.join(tmp, name + ".elf")
    with open(src, "w") as fh:
        fh.write(f'.attribute arch, "{ARCH_ATTR}"\n.text\n.globl _start\n_start:\n{prologue}\n')
        fh.write("\n".join(lines) + "\n")
    run([AS, f"-march={MARCH}", "-mpriv-spec=1.12", "-mno-relax", "-o", obj, src])
    run([LD, "--no-relax", "-Ttext=0", "-o", elf, obj])
    out = []
    for ln in run([OBJDUMP, "-d", "-M", "no-aliases,numeric,priv-spec=1.12", elf]).splitlines():
        m = LINE.match(ln)
        if not m:
            continue
        pc, raw, mn, rest = int(m.group(1), 16), int(m.group(2), 16), m.group(3), m.group(4)
        rest = rest.split("#")[0].strip()
        out.append((pc, raw, len(m.group(2)) // 2, mn, rest))
    if len(out) != len(lines):
        sys.exit(f"{name}: {len(lines)} source lines but {len(out)} disassembled")
    return out


def csr_name_map(tmp):
    dis = disassemble(tmp, [f"csrrs x0,{n},x0" for n in range(4096)], "csr")
    names = {}
    for pc, raw, _, _, rest in dis:
        name = rest.split(",")[1]
        names[name] = raw >> 20
    return names


def spec_override(raw, length, op):
    """Where the spec, not objdump, decides. Returns (op, fields, why) or None."""
    if length == 4 and (raw & 0x7f) == 0x0f:
        f3 = (raw >> 12) & 7
        # Unpriv spec "Memory Ordering Instructions": rd, rs1 and reserved fm/pred/succ values
        # of FENCE are ignored ("treated as normal fences"); objdump shows such words as .4byte.
        if f3 == 0 and op is None:
            return "fence", {}, "FENCE with reserved fields: executes as a normal fence"
        # Zifencei: "base implementations shall ignore" imm, rs1 and rd of FENCE.I.
        if f3 == 1 and op is None:
            return "fence.i", {}, "FENCE.I with reserved fields: ignored by the spec"
    rd, rs1, rs2, f3, f7 = (raw >> 7) & 31, (raw >> 15) & 31, (raw >> 20) & 31, (raw >> 12) & 7, raw >> 25
    if length == 4 and (raw & 0x7f) == 0x33 and f7 == 0x07 and f3 in (5, 7) and op is None:
        # Zicond, which binutils 2.40 does not know: funct7 0000111, funct3 101/111 (Zicond spec).
        return ("czero.eqz" if f3 == 5 else "czero.nez"), dict(rd=rd, rs1=rs1, rs2=rs2), \
            "Zicond (spec encoding)"
    if length == 4 and (raw & 0x7f) == 0x53 and op is None and \
            ((f7 == 0x69 and rs2 in (0, 1)) or (f7 == 0x21 and rs2 == 0)):
        # binutils 2.40 only accepts rm = 000 for the exact conversions fcvt.d.w/wu and fcvt.d.s,
        # but the spec gives them an rm field like every other conversion ("D" chapter); rm is
        # checked (5, 6, or 7 with a bad frm) when the instruction executes.
        name = "fcvt.d.s" if f7 == 0x21 else ("fcvt.d.w", "fcvt.d.wu")[rs2]
        return name, dict(rd=rd, rs1=rs1, rm=f3), f"{name} with rm = {f3} (spec: an rm field)"
    # C.ADDI16SP "is only valid when nzimm != 0; the code point with nzimm = 0 is reserved"
    # (unpriv spec, RVC); objdump 2.40 shows it as c.addi16sp x2,0.
    if length == 2 and raw == 0x6101:
        return None, {}, "c.addi16sp with nzimm = 0 is reserved"
    return None


def c_string(s):
    return '"' + s.replace("\\", "\\\\").replace('"', '\\"') + '"'


def main():
    args = sys.argv[1:]
    explore = 0
    if args[:1] == ["--explore"]:
        explore, args = int(args[1]), args[2:]
    outpath = args[0] if args else os.path.join(
        os.path.dirname(os.path.abspath(__file__)), "decode_table.h")
    n_rand32, n_flip32, n_rand16, n_flip16 = (explore, explore, 0, 0) if explore else \
        (1800, 1800, 1200, 800)
    entries = []  # (raw, len, op, fields, text, group)
    with tempfile.TemporaryDirectory() as tmp:
        csr_names = csr_name_map(tmp)

        # 1. Assembled forms: objdump's fields must equal the source's.
        src32 = asm_forms()
        src16 = rvc_forms()
        srcs = src32 + src16
        dis = disassemble(tmp, src32, "asm32", ".option norvc") + \
            disassemble(tmp, src16, "asm16", ".option rvc")
        for s, (pc, raw, ln, mn, rest) in zip(srcs, dis):
            smn, _, sops = s.partition(" ")
            op, f = fields_of(mn, rest, raw, Ctx(pc, csr_names, False))
            sop, sf = fields_of(smn, sops, raw, Ctx(pc, csr_names, True))
            if (op, f) != (sop, sf) or (ln == 2) != smn.startswith("c."):
                sys.exit(f"source {s!r} disassembles as {mn} {rest} ({op} {f} vs {sop} {sf})")
            entries.append((raw, ln, op, f, f"{mn} {rest}".strip(), "asm"))

        # 2. Zicond through .insn.
        zc = zicond_forms()
        dis = disassemble(tmp, [z[0] for z in zc], "zicond")
        for (s, raw, text, f), (pc, draw, ln, mn, rest) in zip(zc, dis):
            if draw != raw or ln != 4:
                sys.exit(f"{s}: assembled {draw:#x}, expected {raw:#x}")
            entries.append((raw, 4, text.split()[0], f, text + " (.insn; spec encoding)", "insn"))

        # 3. Random and mutated words, judged by objdump alone.
        valid32 = [e[0] for e in entries if e[1] == 4]
        valid16 = [e[0] for e in entries if e[1] == 2]
        words = []
        seen = set(e[0] for e in entries)
        def add(w, ln):
            if w not in seen and not is_long(w):
                seen.add(w)
                words.append((w, ln))
        while len(words) < n_rand32:
            add(random32(), 4)
        while len(words) < n_rand32 + n_flip32:
            w = rng.choice(valid32)
            for _ in range(rng.choice([1, 1, 2])):
                w ^= 1 << rng.randrange(7, 32)
            add(w, 4)
        if explore:
            for w in range(0x10000):
                if w & 3 != 3:
                    add(w, 2)
        while len(words) < n_rand32 + n_flip32 + n_rand16:
            add(random16(), 2)
        while len(words) < n_rand32 + n_flip32 + n_rand16 + n_flip16:
            w = rng.choice(valid16)
            for _ in range(rng.choice([1, 1, 2])):
                w ^= 1 << rng.randrange(2, 16)
            add(w, 2)
        dis = disassemble(tmp, [f".insn {ln}, {w:#x}" for w, ln in words], "random")
        overrides = 0
        for (w, ln), (pc, raw, dln, mn, rest) in zip(words, dis):
            if raw != w or dln != ln:
                sys.exit(f"random word {w:#x}: objdump saw {raw:#x} len {dln}")
            text = f"{mn} {rest}".strip()
            if mn in (".4byte", ".2byte"):
                op, f = None, {}
            elif mn in NOT_IMPLEMENTED:
                op, f = None, {}
                text += " -> not implemented: illegal"
                overrides += 1
            else:
                op, f = fields_of(mn, rest, raw, Ctx(pc, csr_names, False))
            ov = spec_override(w, ln, op)
            if ov:
                op, f, why = ov
                text = f"{text} -> {why}"
                overrides += 1
            entries.append((w, ln, op, f, text, "random"))

    with open(outpath, "w") as fh:
        counts = {}
        for e in entries:
            counts[e[5]] = counts.get(e[5], 0) + 1
        ver = run([AS, "--version"]).splitlines()[0]
        fh.write("/* Generated by tests/unit/gen_decode_table.py -- do not edit.\n"
                 f" * Oracle: {ver} (as + ld + objdump -M no-aliases,numeric), seed {SEED}.\n"
                 f" * {len(entries)} entries: " +
                 ", ".join(f"{v} {k}" for k, v in counts.items()) +
                 f"; {overrides} spec overrides of objdump.\n"
                 " * mask says which fields the instruction defines; the others are not checked. */\n")
        fh.write("#ifndef RV_TEST_DECODE_TABLE_H\n#define RV_TEST_DECODE_TABLE_H\n\n"
                 "#include <stdint.h>\n\n#include \"cpu/decode.h\"\n\n")
        fh.write("enum { F_RD = 1, F_RS1 = 2, F_RS2 = 4, F_RS3 = 8, F_IMM = 16, F_RM = 32 };\n\n")
        fh.write("enum decode_source { SRC_ASM, SRC_INSN, SRC_RANDOM };\n\n")
        fh.write("struct decode_case {\n    uint32_t raw;\n    uint8_t len, src;\n    uint16_t op;\n"
                 "    uint8_t rd, rs1, rs2, rs3, rm, mask;\n    int64_t imm;\n"
                 "    const char *text; /* objdump's disassembly */\n};\n\n")
        fh.write("/* E(raw, len, source, op, rd, rs1, rs2, rs3, rm, mask, imm, text); U(raw, len, source):\n"
                 " * a word objdump does not know, which must decode to RV_OP_ILLEGAL. */\n"
                 "#define E(raw, len, src, op, rd, rs1, rs2, rs3, rm, mask, imm, text) \\\n"
                 "    {raw, len, SRC_##src, RV_OP_##op, rd, rs1, rs2, rs3, rm, mask, imm, text}\n"
                 "#define U(raw, len, src) {raw, len, SRC_##src, RV_OP_ILLEGAL, 0, 0, 0, 0, 0, 0, 0, "
                 "\"unknown to objdump\"}\n"
                 "#define RD F_RD\n#define R1 F_RS1\n#define R2 F_RS2\n#define R3 F_RS3\n"
                 "#define IM F_IMM\n#define RM F_RM\n\n")
        fh.write("static const struct decode_case decode_cases[] = {\n")
        for raw, ln, op, f, text, grp in entries:
            src = grp.upper()
            if op is None and text.split()[0] in (".4byte", ".2byte") and "->" not in text:
                fh.write(f"    U({raw:#x},{ln},{src}),\n")
                continue
            mask = 0
            for k in f:
                mask |= FIELD_BITS[k]
            mask_s = "|".join(n for n, b in (("RD", F_RD), ("R1", F_RS1), ("R2", F_RS2),
                                             ("R3", F_RS3), ("IM", F_IMM), ("RM", F_RM))
                              if mask & b) or "0"
            opname = op_enum(op)[6:] if op else "ILLEGAL"
            fh.write(f"    E({raw:#x},{ln},{src},{opname},{f.get('rd', 0)},{f.get('rs1', 0)},"
                     f"{f.get('rs2', 0)},{f.get('rs3', 0)},{f.get('rm', 0)},{mask_s},"
                     f"{f.get('imm', 0)},{c_string(text)}),\n")
        fh.write("};\n\n#undef E\n#undef U\n#undef RD\n#undef R1\n#undef R2\n#undef R3\n"
                 "#undef IM\n#undef RM\n\n#endif\n")
    print(f"wrote {outpath}: {len(entries)} entries {counts}, {overrides} overrides")


if __name__ == "__main__":
    main()
