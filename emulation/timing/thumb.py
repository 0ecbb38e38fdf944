"""Thumb/Thumb-2 instruction classifier for the timing models (Cortex-M).

Each instruction of a block is decoded once with capstone and given a timing
class (a key of CoreTiming.costs), the number of registers a multiple load/store
moves, whether it executes under a condition, whether it writes the PC, and the
registers the load/store pipelining rule needs.
"""
from __future__ import annotations

from dataclasses import dataclass

from .insn import Insn, decode_block

# capstone's instruction names (insn_name()) -> timing class; anything not listed is "alu".
_CLASSES: dict[str, str] = {}
for _cls, _names in {
    "load": "ldr ldrb ldrh ldrsb ldrsh ldrt ldrbt ldrht ldrsbt ldrsht ldrex ldrexb ldrexh "
            "lda ldab ldah ldaex ldaexb ldaexh pld pli",
    "store": "str strb strh strt strbt strht strex strexb strexh stl stlb stlh stlex stlexb stlexh",
    "load_double": "ldrd ldaexd ldrexd",
    "store_double": "strd stlexd strexd",
    "load_multiple": "ldm ldmdb ldmia ldmda ldmib pop",
    "store_multiple": "stm stmdb stmia stmda stmib push",
    "mul": "mul",
    "mla": "mla mls",
    "mull": "smull umull",
    "mlal": "smlal umlal umaal",
    "div": "sdiv udiv",
    "branch": "b cbz cbnz",
    "call": "bl",
    "branch_reg": "bx blx bxns blxns",
    "table_branch": "tbb tbh",
    "barrier": "dmb dsb",
    "isb": "isb",
    "system": "mrs msr cps",
    "it": "it",
    "trap": "svc bkpt udf",
    # FPU (FPv4-SP, FPv5)
    "fp": "vabs vadd vsub vmul vnmul vneg vcmp vcmpe vcvt vcvta vcvtn vcvtp vcvtm vcvtr vcvtb vcvtt "
          "vmov fconsts fconstd vmrs vmsr fmstat vsel vseleq vselge vselgt vselvs vmaxnm vminnm "
          "vrinta vrintn vrintp vrintm vrintr vrintx vrintz",
    "fp_mac": "vmla vmls vnmla vnmls vfma vfms vfnma vfnms",
    "fp_div": "vdiv",
    "fp_sqrt": "vsqrt",
    "fp_load": "vldr",
    "fp_store": "vstr",
    "fp_multiple": "vldmia vldmdb vstmia vstmdb vpush vpop",
}.items():
    for _name in _names.split():
        _CLASSES[_name] = _cls

_AL = 15  # ARM_CC_AL
_TRANSFERS = {"branch", "call", "branch_reg", "table_branch"}  # control transfers, whatever regs_access says
_MULTIPLE_BASE = {"ldm", "ldmdb", "ldmia", "ldmda", "ldmib", "stm", "stmdb", "stmia", "stmda", "stmib",
                  "vldmia", "vldmdb", "vstmia", "vstmdb"}  # first operand is the base, not a transferred reg


@dataclass(frozen=True)
class ThumbInsn(Insn):
    reg_offset: bool = False  # a store with a register offset (nothing pipelines after it)


def _words(name: str) -> int:
    """32-bit words a register moves: d registers are two."""
    return 2 if name.startswith("d") and name[1:].isdigit() else 1


def classify(code: bytes, address: int) -> list[ThumbInsn]:
    """The block's instructions, classified. Bytes capstone cannot decode are one
    instruction per halfword-encoded length, class "unknown"."""
    from capstone import arm

    def length_at(c: bytes, o: int) -> int:  # 32-bit encodings start with 0b11101/11110/11111
        hw = int.from_bytes(c[o:o + 2].ljust(2, b"\0"), "little")
        return 4 if (hw & 0xF800) >= 0xE800 else 2

    return decode_block("thumb", code, address, lambda insn: _classify_one(insn, arm), length_at, ThumbInsn)


def _classify_one(insn, arm) -> ThumbInsn:
    name = insn.insn_name()
    kind = _CLASSES.get(name, "alu")
    regs = [insn.reg_name(o.reg) for o in insn.operands if o.type == arm.ARM_OP_REG]
    mems = [o.mem for o in insn.operands if o.type == arm.ARM_OP_MEM]
    written = {insn.reg_name(r) for r in insn.regs_access()[1]}
    conditional = (insn.cc not in (_AL, 0) and kind != "it") or name in ("cbz", "cbnz")
    transfer = kind in _TRANSFERS or "pc" in written
    nregs = links = 0
    if kind in ("load_multiple", "store_multiple", "fp_multiple"):
        listed = regs[1:] if name in _MULTIPLE_BASE else regs
        nregs = sum(_words(r) for r in listed)
        links = sum(r in ("lr", "pc") for r in listed)
    if kind in ("load_multiple",) and "pc" in regs:
        kind = "pop_pc"
    elif kind == "load" and regs and regs[0] == "pc":
        kind = "load_pc"
    elif kind == "alu" and transfer:
        kind = "pc_alu"  # mov pc, add pc
    elif kind in ("fp_load", "fp_store") and regs and _words(regs[0]) == 2:
        kind += "64"
    elif kind in ("fp_div", "fp_sqrt") and regs and _words(regs[0]) == 2:
        kind += "64"
    elif kind == "fp" and name == "vmov" and len(regs) >= 3:
        kind = "fp_move2"  # two core registers <-> one d or two s registers
    dests: tuple[str, ...] = ()
    addr: tuple[str, ...] = ()
    if kind in ("load", "store") and mems:
        addr = tuple(insn.reg_name(r) for r in (mems[0].base, mems[0].index) if r)
        if kind == "load" and regs:
            dests = (regs[0],)
    return ThumbInsn(insn.address, insn.size, name, kind, nregs=nregs, links=links, conditional=conditional,
                     transfer=transfer, dests=dests, addr=addr,
                     reg_offset=kind == "store" and bool(mems and mems[0].index))

