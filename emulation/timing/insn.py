"""What the classifiers return, and the capstone disassemblers they share."""
from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Callable

from ..errors import ToolMissing


@dataclass(frozen=True)
class Insn:
    address: int
    size: int
    name: str  # capstone's instruction name, e.g. "ldr", "smlad", "c.lw"
    kind: str  # timing class: a key of CoreTiming.costs
    nregs: int = 0  # 32-bit words a multiple load/store moves (LDM, PUSH, VPOP, ...)
    links: int = 0  # how many of those are LR or PC
    conditional: bool = False  # executes under a condition (B<cc>, CBZ, inside an IT block; RISC-V branches)
    transfer: bool = False  # writes the PC: a branch, call, return or jump
    dests: tuple[str, ...] = ()  # registers it writes (the ones the pipeline rules look at)
    addr: tuple[str, ...] = ()  # registers a load/store address is computed from
    reads: tuple[str, ...] = ()  # registers it reads (RISC-V scoreboard)


@lru_cache(maxsize=None)
def disassembler(isa: str):
    """A capstone Cs with operand details for "thumb" (M-profile) or "rv32" (RV32IMC)."""
    try:
        import capstone
    except ImportError:
        raise ToolMissing("the cycle estimate needs capstone: pip install capstone "
                          "(or count instructions only: timing=False, --no-timing)") from None
    if isa == "thumb":
        md = capstone.Cs(capstone.CS_ARCH_ARM, capstone.CS_MODE_THUMB | capstone.CS_MODE_MCLASS)
    elif isa == "rv32":
        md = capstone.Cs(capstone.CS_ARCH_RISCV, capstone.CS_MODE_RISCV32 | capstone.CS_MODE_RISCVC)
    else:
        raise ValueError(f"no disassembler for {isa!r}")
    md.detail = True
    return md


def decode_block(isa: str, code: bytes, address: int, classify_one: Callable[..., Insn],
                 length_at: Callable[[bytes, int], int], unknown: type[Insn] = Insn) -> list[Insn]:
    """Every instruction of a block, classified. Bytes capstone cannot decode become one
    instruction of class "unknown", as long as the ISA's length encoding says."""
    md = disassembler(isa)
    out: list[Insn] = []
    offset = 0
    while offset < len(code):
        for insn in md.disasm(code[offset:], address + offset):
            out.append(classify_one(insn))
            offset += insn.size
        if offset < len(code):
            size = length_at(code, offset)
            out.append(unknown(address + offset, size, "?", "unknown"))
            offset += size
    return out
