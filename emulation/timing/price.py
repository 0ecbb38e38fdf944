"""The static price of one block: its cycles, and the cost of its conditional exit.

Computed once per distinct block (the native counter caches it); the dynamic
part, whether that exit was taken or mispredicted, is settled by the counter.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Sequence

from . import rv32, thumb
from .cores import CoreTiming
from .insn import Insn, disassembler

_CLASSIFIERS = {"thumb": thumb.classify, "rv32": rv32.classify}


@dataclass(frozen=True)
class BlockPrice:
    cycles: int  # the block's cycles, its conditional exit (if any) falling through / predicted right
    penalty: int  # extra cycles when that exit is taken (branches="taken") or mispredicted ("predicted")
    conditional: bool  # the block ends in a conditional control transfer
    insns: tuple[Insn, ...] = ()
    each: tuple[int, ...] = ()  # cycles charged to each instruction (stalls go to the one that waits)


def classify(core: CoreTiming, code: bytes, address: int) -> list[Insn]:
    return _CLASSIFIERS[core.isa](code, address)


def price_block(core: CoreTiming, code: bytes, address: int = 0) -> BlockPrice:
    """Price the instructions in `code` (one basic block at `address`) on `core`."""
    insns = classify(core, code, address)
    return (_price_scoreboard if core.latencies else _price_table)(core, insns)


def weigher(core: CoreTiming) -> Callable[[int, bytes], tuple[int, int, bool]]:
    """The callback the native counter calls once per new block. Raises ToolMissing now, not in the
    middle of a run, when capstone is not installed."""
    disassembler(core.isa)

    def weigh(address: int, code: bytes) -> tuple[int, int, bool]:
        p = price_block(core, code, address)
        return p.cycles, p.penalty, p.conditional
    return weigh


def _pipelines(prev: Insn | None, insn: Insn) -> bool:
    """Cortex-M3/M4: neighbouring single loads/stores overlap their address and data phases, unless the
    address needs the previous load's result or the previous access was a register-offset store."""
    if prev is None or prev.kind not in ("load", "store"):
        return False
    if prev.kind == "store" and getattr(prev, "reg_offset", False):
        return False
    return not set(insn.addr) & set(prev.dests)


def _exit(core: CoreTiming, cost: int) -> tuple[int, int]:
    """(cycles, penalty) of a conditional transfer that ends a block."""
    if core.branches == "predicted":
        return cost, core.mispredict
    return core.not_taken, max(cost - core.not_taken, 0)


def _price_table(core: CoreTiming, insns: Sequence[Insn]) -> BlockPrice:
    each: list[int] = []
    penalty, conditional = 0, False
    prev = None
    for i, insn in enumerate(insns):
        fixed, per = core.cost(insn.kind)
        cost = fixed + per * (insn.nregs if core.count_lr_pc else insn.nregs - insn.links)
        if core.pipelined_loads and insn.kind in ("load", "store") and _pipelines(prev, insn):
            cost -= 1
        if insn.transfer and insn.conditional:
            if i == len(insns) - 1:
                cost, penalty = _exit(core, cost)
                conditional = True
            else:  # not reached: Unicorn ends a block at every branch
                cost = core.not_taken
        each.append(cost)
        prev = insn
    return BlockPrice(sum(each), penalty, conditional, tuple(insns), tuple(each))


def _price_scoreboard(core: CoreTiming, insns: Sequence[Insn]) -> BlockPrice:
    """Single-issue, in-order: an instruction issues when the registers it names are ready (RAW and WAW
    interlocks) and, for a blocking unit (multiply/divide), when the unit is free."""
    t = 0  # cycle at which the next instruction may issue
    ready: dict[str, int] = {}
    unit_free = 0
    each: list[int] = []
    penalty, conditional = 0, False
    for i, insn in enumerate(insns):
        issue = max([t, *(ready.get(r, 0) for r in insn.reads)])
        if insn.kind in core.blocking:
            issue = max(issue, unit_free)
        fixed, per = core.cost(insn.kind)
        cycles = fixed + per * insn.nregs
        latency = core.latencies.get(insn.kind, cycles)
        for d in insn.dests:
            ready[d] = issue + latency
        if insn.kind in core.blocking:
            unit_free = issue + latency
        each.append(issue + cycles - t)
        t = issue + cycles
        if insn.transfer and insn.conditional and i == len(insns) - 1:
            _, penalty = _exit(core, cycles)
            conditional = True
    return BlockPrice(t, penalty, conditional, tuple(insns), tuple(each))
