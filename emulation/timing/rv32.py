"""RV32IMC instruction classifier for the timing models.

Each instruction of a block is decoded once with capstone and given a timing
class (a key of CoreTiming.costs), the register it writes and every register it
names (the in-order scoreboard waits for all of them: the SiFive E31 interlocks
on read-after-write and write-after-write hazards).
"""
from __future__ import annotations

from .insn import Insn, decode_block

_CLASSES: dict[str, str] = {}
for _cls, _names in {
    "load_word": "lw c.lw c.lwsp",
    "load_sub": "lb lbu lh lhu",
    "store": "sb sh sw c.sw c.swsp",
    "mul": "mul mulh mulhu mulhsu",
    "div": "div divu rem remu",
    "branch": "beq bne blt bge bltu bgeu c.beqz c.bnez",
    "jump": "jal jalr c.j c.jal c.jr c.jalr",
    "csr": "csrrw csrrs csrrc csrrwi csrrsi csrrci",
    "system": "ecall ebreak c.ebreak fence fence.i fence.tso wfi mret",
}.items():
    for _name in _names.split():
        _CLASSES[_name] = _cls

_NO_DEST = {"store", "branch", "jump", "system"}


def classify(code: bytes, address: int) -> list[Insn]:
    """The block's instructions, classified; undecodable ones are class "unknown"."""
    from capstone import riscv

    return decode_block("rv32", code, address, lambda insn: _classify_one(insn, riscv),
                        lambda c, o: 4 if c[o] & 3 == 3 else 2)


def _classify_one(insn, riscv) -> Insn:
    name = insn.insn_name()
    kind = _CLASSES.get(name, "alu")
    regs: list[str] = []
    for o in insn.operands:
        if o.type == riscv.RISCV_OP_REG:
            regs.append(insn.reg_name(o.reg))
        elif o.type == riscv.RISCV_OP_MEM:
            regs.append(insn.reg_name(o.mem.base))
    regs = [r for r in regs if r not in ("zero", "x0")]
    dests = (regs[0],) if regs and kind not in _NO_DEST else ()
    return Insn(insn.address, insn.size, name, kind, conditional=kind == "branch",
                transfer=kind in ("branch", "jump"), dests=dests, reads=tuple(regs))
