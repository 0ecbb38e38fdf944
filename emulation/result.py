"""The result of one firmware run and the console format of the harness."""
from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field, replace
from typing import Sequence

import numpy as np

from .layers import LayerMark, LayerSegment, segments

METRIC_NAMES = ("instructions", "instructions_min", "instructions_max", "cycles", "cycles_est", "timing_model",
                "flash_bytes", "ram_bytes", "stack_bytes")

EXACT_TIMING = "exact (engine)"  # timing_model where the engine counts cycles itself

_OUTPUT_LINE = re.compile(r"^O:([0-9a-f]*)$")


def _mean(values: Sequence[int]) -> int | None:
    """The mean, rounded half up; exact when all values are equal."""
    return (2 * sum(values) + len(values)) // (2 * len(values)) if values else None


@dataclass
class RunResult:
    elf: str
    arch: str
    outputs: list[bytes]  # output bytes per inference, copied at tm_mark_end
    inputs: list[bytes]  # input bytes per inference, as seen at tm_mark_begin
    console: str  # everything the guest printed
    instructions_per_inference: list[int]  # exact, marker overhead subtracted
    marker_overhead: int  # instructions of the calibration pair
    total_instructions: int  # the whole run, start-up to exit
    flash_bytes: int  # text + rodata + data, without the test vectors
    ram_bytes: int  # data + bss
    stack_bytes: int | None  # measured peak (None: ELF has no __stack_top/__stack_limit)
    sections: dict[str, int] = field(default_factory=dict)  # text, rodata, data, bss, vectors
    # Exact clock cycles, where the engine counts them (avr8js, rp2040js); else empty/None.
    cycles_per_inference: list[int] = field(default_factory=list)  # marker overhead subtracted
    cycle_overhead: int | None = None  # cycles of the calibration pair
    total_cycles: int | None = None
    engine: str = ""  # what ran it, e.g. "unicorn 2.1.4", "avr8js 0.21.1"
    # Estimated clock cycles from a per-core timing model (Unicorn), or the exact ones again where the
    # engine counts them; `timing_model` names which ("" when there is none).
    cycles_est_per_inference: list[int] = field(default_factory=list)  # marker overhead subtracted
    cycles_est_overhead: int | None = None  # estimated cycles of the calibration pair
    total_cycles_est: int | None = None
    timing_model: str = ""
    # Per inference, where the firmware has layer markers (emulation/layers.py): its segments, the part
    # before the first marker first. Empty lists without markers.
    layers: list[list[LayerSegment]] = field(default_factory=list)

    @property
    def instructions(self) -> int | None:
        """Instructions per inference: the mean, rounded; exact when all are equal."""
        return _mean(self.instructions_per_inference)

    @property
    def instructions_min(self) -> int | None:
        return min(self.instructions_per_inference, default=None)

    @property
    def instructions_max(self) -> int | None:
        return max(self.instructions_per_inference, default=None)

    @property
    def cycles(self) -> int | None:
        """Clock cycles per inference (mean, rounded), None where the engine does not count them."""
        return _mean(self.cycles_per_inference)

    @property
    def cycles_est(self) -> int | None:
        """Estimated clock cycles per inference (mean, rounded) under `timing_model`; on the engines that
        count cycles exactly (avr8js, rp2040js) the same as `cycles`. None without a timing model."""
        return _mean(self.cycles_est_per_inference)

    def metrics(self) -> dict[str, int | str | None]:
        """The metrics under their shared names; `timing_model` is the one string among them."""
        return {name: getattr(self, name) for name in METRIC_NAMES}

    def outputs_array(self, dtype: str | np.dtype) -> np.ndarray:
        """Outputs as an (n, MODEL_OUTPUT_SIZE) array of `dtype` (int8 or float32)."""
        dt = np.dtype(dtype).newbyteorder("<")
        return np.stack([np.frombuffer(o, dtype=dt) for o in self.outputs]) if self.outputs \
            else np.zeros((0, 0), dtype=dt)

    def to_dict(self) -> dict:
        data = asdict(self)
        data["outputs"] = [o.hex() for o in self.outputs]
        data["inputs"] = [i.hex() for i in self.inputs]
        data["metrics"] = self.metrics()
        return data


@dataclass(frozen=True)
class MarkerPair:
    """What the emulator saw between one tm_mark_begin and the next tm_mark_end."""

    instructions: int
    input: bytes
    output: bytes
    cycles: int | None = None  # exact (the engine's count)
    cycles_est: int | None = None  # from a timing model
    layers: tuple[LayerMark, ...] = ()  # layer markers reached in between


def _net(values: list[int | None], overhead: int | None) -> list[int]:
    """Per-pair values less the calibration pair's; empty unless every pair has one."""
    if not values or any(v is None for v in values):
        return []
    return [v - (overhead or 0) for v in values]  # type: ignore[operator]


def build_result(*, elf: str, arch: str, pairs: Sequence[MarkerPair], console: str, total_instructions: int,
                 sizes: dict[str, int], stack_bytes: int | None, total_cycles: int | None = None,
                 engine: str = "", total_cycles_est: int | None = None, timing_model: str = "") -> RunResult:
    """A RunResult from the marker pairs of a run; the first pair, if it is the harness's
    calibration pair (no input, no output), is subtracted from the others. Where the engine
    counts cycles exactly and no timing model estimated them, cycles_est repeats them."""
    overhead, cycle_overhead, est_overhead = 0, None, None
    pairs = list(pairs)
    if pairs and not pairs[0].input and not pairs[0].output:
        overhead, cycle_overhead, est_overhead = pairs[0].instructions, pairs[0].cycles, pairs[0].cycles_est
        pairs = pairs[1:]
    cycles = _net([p.cycles for p in pairs], cycle_overhead)
    cycles_est = _net([p.cycles_est for p in pairs], est_overhead)
    layers = [segments(p.layers, p.instructions, p.cycles, p.cycles_est, overhead, cycle_overhead, est_overhead)
              for p in pairs] if any(p.layers for p in pairs) else []
    if not timing_model and total_cycles_est is None and total_cycles is not None:
        cycles_est, est_overhead, total_cycles_est, timing_model = cycles, cycle_overhead, total_cycles, EXACT_TIMING
        layers = [[replace(s, cycles_est=s.cycles, marker_cycles_est=s.marker_cycles) for s in inference]
                  for inference in layers]
    return RunResult(
        elf=elf, arch=arch,
        outputs=[p.output for p in pairs], inputs=[p.input for p in pairs], console=console,
        instructions_per_inference=[p.instructions - overhead for p in pairs],
        marker_overhead=overhead, total_instructions=total_instructions,
        flash_bytes=sizes["flash_bytes"], ram_bytes=sizes["ram_bytes"], stack_bytes=stack_bytes,
        sections={k: sizes[k] for k in ("text", "rodata", "data", "bss", "vectors")},
        cycles_per_inference=cycles, cycle_overhead=cycle_overhead, total_cycles=total_cycles, engine=engine,
        cycles_est_per_inference=cycles_est, cycles_est_overhead=est_overhead, total_cycles_est=total_cycles_est,
        timing_model=timing_model,
        layers=layers,
    )


def parse_console(text: str) -> list[bytes]:
    """Outputs printed by the harness: one "O:<hex>" line per inference."""
    out = []
    for line in text.splitlines():
        m = _OUTPUT_LINE.match(line.strip())
        if m:
            out.append(bytes.fromhex(m.group(1)))
    return out


_ERROR_LINE = re.compile(r"^E:([0-9a-f]{8}):([0-9a-f]{2})$")  # harness: model_invoke failed


def exit_message(console: str, reason: int, code: int = 0) -> str:
    """Why an exit with `reason` (a TM_ADP_STOPPED_* code) other than a clean one is an error."""
    lines = console.strip().splitlines()
    m = _ERROR_LINE.match(lines[-1]) if lines else None
    if m:
        return f"model_invoke returned {int(m.group(2), 16)} for test vector {int(m.group(1), 16)}"
    return (f"the firmware exited with reason 0x{reason:x} code {code}"
            + (f"; last console line: {lines[-1]!r}" if lines else ""))
