"""Per-layer profile: each op's exact instructions, measured in the emulator.

The profiled build is the same C with a layer marker before each op and one after the
last (`generate_c(layer_markers=True)`: one nop each, see emulation/layers.py). The
emulator reports, per inference, the instructions (and cycles) between consecutive
markers; the segment of marker i is op i, the part before the first marker and after
the last one is the call itself (argument set-up, prologue, epilogue: "overhead"). So

    sum(op instructions) + overhead + markers == the profiled inference, as measured,

and the profiled inference less its markers is compared with the normal build's. The
static columns (shapes, MACs, weight and arena bytes) come from toolkit/analyze.py;
weight bytes of the build are the sizes of each op's constant arrays in the ELF.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from toolkit.analyze import OpInfo, op_infos, shapes
from toolkit.table import render

if TYPE_CHECKING:
    import numpy as np

    from emulation import RunResult
    from toolkit.codegen.generator import GeneratedC
    from toolkit.ir import Model


def layer_weight_bytes(elf: str | Path, name: str = "model") -> dict[int, int]:
    """Bytes of each op's constant arrays (`{name}_l{i}_*`) as linked into `elf`, by op index;
    an array the linker merged with another counts once."""
    from elftools.elf.elffile import ELFFile

    pattern = re.compile(rf"{re.escape(name)}_l(\d+)_")
    out: dict[int, int] = {}
    seen: set[int] = set()
    with open(elf, "rb") as fh:
        symtab = ELFFile(fh).get_section_by_name(".symtab")
        for sym in symtab.iter_symbols() if symtab is not None else ():
            m = pattern.match(sym.name)
            if m and sym["st_info"]["type"] == "STT_OBJECT" and sym["st_value"] not in seen:
                seen.add(sym["st_value"])
                out[int(m.group(1))] = out.get(int(m.group(1)), 0) + sym["st_size"]
    return out


def _mean(values: list[int | None]) -> int | None:
    """The mean, rounded half up (exact when all are equal); None if any value is None."""
    if not values or any(v is None for v in values):
        return None
    return (2 * sum(values) + len(values)) // (2 * len(values))  # type: ignore[arg-type]


def _per_mac(n: int | None, macs: int) -> float | None:
    return round(n / macs, 3) if n is not None and macs else None


def _sub(a: int | None, b: int | None) -> int | None:
    return None if a is None or b is None else a - b


@dataclass(frozen=True)
class Counts:
    """Per inference (means over the inferences): exact instructions, exact cycles (avr8js,
    rp2040js; else None), estimated cycles (the timing model's, or the exact ones again)."""

    instructions: int
    cycles: int | None = None
    cycles_est: int | None = None

    def __sub__(self, other: "Counts") -> "Counts":
        return Counts(self.instructions - other.instructions, _sub(self.cycles, other.cycles),
                      _sub(self.cycles_est, other.cycles_est))

    def json(self, prefix: str = "", suffix: str = "") -> dict:
        return {f"{prefix}{k}{suffix}": getattr(self, k) for k in ("instructions", "cycles", "cycles_est")}


@dataclass
class LayerRow:
    info: OpInfo
    counts: Counts
    weight_bytes: int  # its constant arrays in the build

    def to_json(self) -> dict:
        i, c = self.info, self.counts
        return {"index": i.index, "op": i.op, "inputs": i.inputs, "output": i.output, "macs": i.macs,
                "params": i.params, **c.json(), "instructions_per_mac": _per_mac(c.instructions, i.macs),
                "weight_bytes": self.weight_bytes, "weight_bytes_file": i.weight_bytes, "arena_bytes": i.arena_bytes,
                "output_bytes": i.output_bytes, "scratch_bytes": i.scratch_bytes, "live_bytes": i.live_bytes,
                "reuse": i.reuse}


@dataclass
class LayerProfile:
    arch: str
    rows: list[LayerRow]
    overhead: Counts  # the call itself: argument set-up, prologue, epilogue
    markers: Counts  # the markers' nops
    measured: Counts  # the profiled build's inference as measured: rows + overhead + markers
    timing_model: str
    inferences: int
    exact: bool  # every inference has the same instruction counts, so the means add up exactly too
    normal: Counts | None = None  # the normal build on the same inputs
    arena_bytes: int = 0
    run: "RunResult | None" = field(default=None, repr=False)  # the profiled run: its segments per inference

    @property
    def whole(self) -> Counts:
        """The profiled inference without its markers: what the rows and the call add up to."""
        return self.measured - self.markers

    @property
    def change_pct(self) -> float | None:
        """How much profiling changed the instructions outside the markers, in % of the normal build."""
        if self.normal is None or not self.normal.instructions:
            return None
        return round(100 * (self.whole.instructions - self.normal.instructions) / self.normal.instructions, 4)

    def totals(self) -> dict:
        macs = sum(r.info.macs for r in self.rows)
        return {**self.whole.json(), "instructions_per_mac": _per_mac(self.whole.instructions, macs),
                "layers_instructions": sum(r.counts.instructions for r in self.rows),
                **self.overhead.json("overhead_"), **self.markers.json("marker_"), **self.measured.json(suffix="_profiled"),
                **(self.normal.json(suffix="_unprofiled") if self.normal else {}), "profile_change_pct": self.change_pct,
                "timing_model": self.timing_model, "macs": macs, "weight_bytes": sum(r.weight_bytes for r in self.rows),
                "arena_bytes": self.arena_bytes, "inferences": self.inferences, "exact": self.exact}

    def report_json(self) -> dict:
        """The keys `toolkit emulate --per-layer --json` adds: `layers` and `layers_total`."""
        return {"layers": [r.to_json() for r in self.rows], "layers_total": self.totals()}

    def table(self) -> str:
        exact_cycles = self.measured.cycles is not None
        cyc = (lambda c: c.cycles) if exact_cycles else (lambda c: c.cycles_est)
        head = ["#", "op", "shapes", "MACs", "instructions", "instr/MAC", "cycles" if exact_cycles else "cycles (est.)",
                "% instr", "weights B", "arena B"]
        whole = self.whole
        rows = []
        for r in self.rows:
            n = r.counts.instructions
            rows.append([r.info.index, r.info.op, shapes(r.info), r.info.macs, n, _per_mac(n, r.info.macs) or "-",
                         _dash(cyc(r.counts)), f"{100 * n / whole.instructions:.1f}" if whole.instructions else "-",
                         r.weight_bytes, r.info.arena_bytes])
        t = self.totals()
        rows.append(["", "call overhead", "", "", self.overhead.instructions, "", _dash(cyc(self.overhead)), "", "", ""])
        rows.append(["", "total", "", t["macs"], whole.instructions, t["instructions_per_mac"] or "-", _dash(cyc(whole)),
                     "100.0", t["weight_bytes"], self.arena_bytes])
        check = (f"{t['layers_instructions']:,} (ops) + {self.overhead.instructions:,} (call) + "
                 f"{self.markers.instructions} (markers) = {self.measured.instructions:,} measured in the profiled build")
        if not self.exact:
            check += f" (means of {self.inferences} inferences; exact per inference)"
        lines = [render(head, rows, left=(0, 1, 2)), check]
        if self.normal is not None:
            lines.append(f"normal build: {self.normal.instructions:,} instructions"
                         f"{f', {cyc(self.normal):,} cycles' if cyc(self.normal) is not None else ''}; profiled, "
                         f"markers taken off: {whole.instructions:,} ({self.change_pct:+.3f} %)"
                         f"{f', {cyc(whole):,} cycles' if cyc(whole) is not None else ''}")
        note = "exact, counted by the engine" if exact_cycles else (self.timing_model or "no timing model")
        lines.append(f"cycles: {note}; weights B: the op's constant arrays in this build; "
                     "arena B: its output buffer and scratch in the arena")
        return "\n".join(lines)


def _dash(v: int | None) -> int | str:
    return "-" if v is None else v


def _counts(values: list[list[int | None]]) -> Counts:
    """Counts from per-inference [instructions, cycles, cycles_est] lists."""
    return Counts(_mean([v[0] for v in values]) or 0, _mean([v[1] for v in values]), _mean([v[2] for v in values]))


def build_profile(gen: "GeneratedC", run: "RunResult", elf: str | Path,
                  normal: "RunResult | None" = None) -> LayerProfile:
    """The profile of a run of `gen` built with layer markers; `normal`: the normal build on the same inputs.
    Marker i is op i; the segment before the first marker and that of the last (index = number of ops)
    are the call's overhead."""
    from toolkit.errors import ToolkitError

    if not run.layers:
        raise ToolkitError(f"{Path(elf).name} reported no layer markers: build it from generate_c(layer_markers=True)")
    assert gen.plan is not None
    infos = op_infos(gen.model, gen.plan)
    n_ops = len(infos)
    ops: list[list[list[int | None]]] = [[] for _ in range(n_ops)]
    overhead, markers = [], []
    for inference in run.layers:
        sums = [[0, 0, 0] for _ in range(n_ops + 2)]  # ops, then overhead, then markers
        for s in inference:
            slot = s.index if s.index is not None and s.index < n_ops else n_ops
            for target, values in ((sums[slot], (s.instructions, s.cycles, s.cycles_est)),
                                   (sums[n_ops + 1], (s.marker_instructions, s.marker_cycles, s.marker_cycles_est))):
                for k, v in enumerate(values):
                    target[k] = None if v is None or target[k] is None else target[k] + v
        for i in range(n_ops):
            ops[i].append(sums[i])
        overhead.append(sums[n_ops])
        markers.append(sums[n_ops + 1])
    weights = layer_weight_bytes(elf, gen.name)
    counts = [[(s.index, s.instructions) for s in inference] for inference in run.layers]
    return LayerProfile(
        arch=run.arch, rows=[LayerRow(info, _counts(ops[i]), weights.get(i, 0)) for i, info in enumerate(infos)],
        overhead=_counts(overhead), markers=_counts(markers),
        measured=Counts(run.instructions or 0, run.cycles, run.cycles_est), timing_model=run.timing_model,
        inferences=len(run.layers), exact=all(c == counts[0] for c in counts),
        normal=Counts(normal.instructions or 0, normal.cycles, normal.cycles_est) if normal is not None else None,
        arena_bytes=gen.plan.arena_bytes, run=run)


def profile_layers(model: "Model", inputs: "np.ndarray", arch: str, out_dir: str | Path, limit: int,
                   normal: "RunResult", options: dict[str, Any] | None = None) -> LayerProfile:
    """Build `model` with layer markers into `out_dir`, run it on `inputs` (those `normal`, the normal
    build's run, had) and profile it. Emulation errors propagate as the emulation package raises them.
    `options`: generate_c's of the normal build (optimize, flash_budget, fixed_bytes)."""
    import emulation
    from toolkit.codegen import generate_c, write_c
    from toolkit.errors import ValidationFailed

    out_dir = Path(out_dir)
    gen = generate_c(model, layer_markers=True, **({"arch": arch, **options} if options else {}))
    write_c(gen, out_dir / "model")
    fw = emulation.build_firmware(out_dir / "model", inputs, arch, out_dir)
    run = emulation.run_elf(fw.elf, arch, instruction_limit=limit)
    if run.outputs != normal.outputs:
        raise ValidationFailed(f"the build with layer markers computes other outputs than the normal build on {arch}")
    return build_profile(gen, run, fw.elf, normal)
