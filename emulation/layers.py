"""Layer markers: where the time of one inference goes, segment by segment.

A firmware may mark points inside the measured call (between tm_mark_begin and
tm_mark_end) with layer markers: one `nop` each, whose address and an index are
recorded in the non-allocated ELF section `.tm_layers` (pairs of little-endian
32-bit words: address, index; see firmware/harness/harness.h). The emulator
watches those addresses and reads its running counts there, before the nop runs.

A marker's segment runs from just past its nop to the next marker (or to
tm_mark_end); the part before the first marker is the segment with index None,
with the calibration pair subtracted from it, so that for every inference

    sum(segment instructions) + sum(marker instructions) == the inference's count

and likewise for cycles. A marker costs one instruction; its cycles are what the
engine (1 on avr8js and rp2040js) or the timing model charges for a nop.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Sequence

from .counter import count_instructions

if TYPE_CHECKING:
    from .timing import CoreTiming

LAYERS_SECTION = ".tm_layers"
MARKER_INSTRUCTIONS = 1  # a marker is one nop
NOP_CYCLES_EXACT = 1  # a nop on avr8js and rp2040js


@dataclass(frozen=True)
class LayerMark:
    """A layer marker as the emulator reached it: counts since tm_mark_begin, before its nop."""

    index: int
    instructions: int
    cycles: int | None = None  # exact (engine)
    cycles_est: int | None = None  # timing model
    nop_cycles: int | None = None  # what the nop itself costs, in the unit of `cycles`
    nop_cycles_est: int | None = None


@dataclass(frozen=True)
class LayerSegment:
    """One marker's share of an inference (index None: from the call to the first marker)."""

    index: int | None
    instructions: int
    cycles: int | None = None
    cycles_est: int | None = None
    marker_instructions: int = 0  # the marker's own cost, not in the segment
    marker_cycles: int | None = None
    marker_cycles_est: int | None = None


def _diff(a: int | None, b: int | None) -> int | None:
    return None if a is None or b is None else a - b


def segments(marks: Sequence[LayerMark], instructions: int, cycles: int | None = None,
             cycles_est: int | None = None, overhead: int = 0, cycle_overhead: int | None = None,
             cycles_est_overhead: int | None = None) -> list[LayerSegment]:
    """The segments of one marker pair: `instructions`, `cycles`, `cycles_est` are the pair's raw counts
    (tm_mark_begin to tm_mark_end) and the overheads those of the calibration pair. Empty without marks."""
    if not marks:
        return []
    first = marks[0]
    c0, e0 = _diff(first.cycles, cycle_overhead or 0), _diff(first.cycles_est, cycles_est_overhead or 0)
    out = [LayerSegment(None, first.instructions - overhead, c0, e0, 0, None if c0 is None else 0,
                        None if e0 is None else 0)]
    ends = [(m.instructions, m.cycles, m.cycles_est) for m in marks[1:]] + [(instructions, cycles, cycles_est)]
    for m, (n, c, e) in zip(marks, ends):
        after_c = None if m.cycles is None or m.nop_cycles is None else m.cycles + m.nop_cycles
        after_e = None if m.cycles_est is None or m.nop_cycles_est is None else m.cycles_est + m.nop_cycles_est
        out.append(LayerSegment(m.index, n - m.instructions - MARKER_INSTRUCTIONS, _diff(c, after_c), _diff(e, after_e),
                                MARKER_INSTRUCTIONS, m.nop_cycles, m.nop_cycles_est))
    return out


def parse_section(data: bytes, little: bool = True) -> list[tuple[int, int]]:
    """(address, index) pairs of a `.tm_layers` section; the Thumb bit is cleared."""
    order = "little" if little else "big"
    words = [int.from_bytes(data[i:i + 4], order) for i in range(0, len(data) - len(data) % 8, 4)]
    return [(words[i] & ~1, words[i + 1]) for i in range(0, len(words), 2)]


def block_rest(code: bytes, start: int, address: int, isa: int, timing: "CoreTiming | None") -> tuple[int, int, int] | None:
    """A marker at `address` inside the block `code` (at `start`), which the counter adds whole on entry:
    (instructions, estimated cycles) from the marker to the block's end, and the nop's estimated cycles
    (0 without a timing model). None when `address` is not an instruction of the block."""
    if not start <= address < start + len(code):
        return None
    n = count_instructions(isa, code[address - start:])
    if timing is None:
        return n, 0, 0
    from .timing import price_block

    price = price_block(timing, code, start)
    k = next((i for i, insn in enumerate(price.insns) if insn.address == address), None)
    return None if k is None else (n, sum(price.each[k:]), price.each[k])
