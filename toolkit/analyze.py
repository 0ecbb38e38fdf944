"""The static analysis of a model, without building it: per op its shapes, MACs,
parameters, weight bytes and arena bytes, the memory plan and the totals.

Like `stedgeai analyze`. The ops are those the generator emits (`fold_units` first, as
`generate_c` does), so the op indices are the ones of the generated C, of `model.h` and
of the per-layer profile (toolkit/profile.py), which adds measured counts to these rows.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import Path

from toolkit.codegen.fold import fold_units
from toolkit.codegen.memplan import ALIGN, Buffer, MemoryPlan, plan_memory
from toolkit.ir import Model, Tensor
from toolkit.provenance import stamp


def _align(n: int) -> int:
    return (n + ALIGN - 1) // ALIGN * ALIGN


@dataclass(frozen=True)
class OpInfo:
    """One op as the generator sees it, and where its bytes live."""

    index: int
    op: str  # TFLite builtin name
    inputs: list[list[int]]  # shapes of the operands computed at run time
    output: list[int]
    dtype: str  # of the output
    macs: int
    params: int
    weight_bytes: int  # its constants (weights, biases) as stored in the .tflite
    output_bytes: int  # its output buffer in the arena (0: the caller's model output)
    output_offset: int | None  # where that buffer starts in the arena
    reuse: str  # "", "in place" (over its input), "alias" (the input's bytes), "model output"
    scratch_bytes: int  # kernel scratch (im2col) while it runs
    live_bytes: int  # arena bytes alive while it runs (their maximum is the plan's lower bound)

    @property
    def arena_bytes(self) -> int:
        """What the op adds to the arena: its own output buffer and its scratch."""
        return (self.output_bytes if self.reuse == "" else 0) + self.scratch_bytes


@dataclass
class Analysis:
    model: Model  # the model as generated (pruned units folded away)
    plan: MemoryPlan
    ops: list[OpInfo]
    source: str = ""
    notes: list[str] = field(default_factory=list)  # units folded away

    @property
    def totals(self) -> dict[str, int]:
        return {"ops": len(self.ops), "macs": self.model.macs, "params": self.model.params,
                "weight_bytes": sum(o.weight_bytes for o in self.ops), "arena_bytes": self.plan.arena_bytes,
                "arena_lower_bound": self.plan.lower_bound, "scratch_bytes": self.plan.scratch_bytes}

    def buffers(self) -> list[dict]:
        """The plan's buffers by offset: bytes, lifetime in op indices, the tensors sharing them."""
        writer = {id(op.output): i for i, op in enumerate(self.model.ops)}
        rows = []
        for b in sorted(self.plan.buffers, key=lambda b: (b.offset, b.first)):
            what = f"scratch of op {b.scratch_of}" if b.scratch_of is not None else \
                "output of op " + ", ".join(str(writer[id(t)]) for t in b.tensors)
            rows.append({"offset": b.offset, "bytes": b.nbytes, "first_op": b.first, "last_op": b.last,
                         "scratch_of": b.scratch_of, "tensors": [t.name for t in b.tensors], "holds": what})
        return rows

    def to_json(self) -> dict:
        return stamp({
            "model": self.source,
            "inputs": [_tensor(t) for t in self.model.inputs],
            "outputs": [_tensor(t) for t in self.model.outputs],
            "layers": [asdict(o) | {"arena_bytes": o.arena_bytes} for o in self.ops],
            "totals": self.totals,
            "memory_plan": {"arena_bytes": self.plan.arena_bytes, "lower_bound": self.plan.lower_bound,
                            "scratch_bytes": self.plan.scratch_bytes, "buffers": self.buffers(),
                            "reuse": list(self.plan.notes)},
            "folded": self.notes,
        })


def _tensor(t: Tensor) -> dict:
    q = {"scale": t.scale, "zero_point": t.zero_point} if t.quant is not None and t.dtype == "int8" else {}
    return {"name": t.name, "dtype": t.dtype, "shape": list(t.shape), **q}


def _buffer_of(plan: MemoryPlan, t: Tensor) -> Buffer | None:
    return next((b for b in plan.buffers if any(x is t for x in b.tensors)), None)


def op_infos(model: Model, plan: MemoryPlan) -> list[OpInfo]:
    """The rows of `model` (as generated) under `plan`."""
    live = [sum(_align(b.nbytes) for b in plan.buffers if b.first <= i <= b.last) for i in range(len(model.ops))]
    scratch = {b.scratch_of: b.nbytes for b in plan.buffers if b.scratch_of is not None}
    rows = []
    for i, op in enumerate(model.ops):
        buf = _buffer_of(plan, op.output)
        if buf is None:  # the caller's buffers: a model output, or an alias of a model input
            nbytes, offset = 0, None
            reuse = "model output" if plan.location(op.output).kind == "output" else "alias"
        else:
            nbytes, offset = buf.nbytes, buf.offset
            reuse = "" if buf.tensors[0] is op.output else ("alias" if op.aliases_input else "in place")
        rows.append(OpInfo(
            index=i, op=op.kind, inputs=[list(t.shape) for t in op.inputs if not t.is_constant],
            output=list(op.output.shape), dtype=op.output.dtype, macs=op.macs, params=op.params,
            weight_bytes=sum(t.nbytes for t in op.constants()), output_bytes=nbytes, output_offset=offset,
            reuse=reuse, scratch_bytes=scratch.get(i, 0), live_bytes=live[i]))
    return rows


def analyze(model_path: str | Path, fold: bool = True) -> Analysis:
    """Read `model_path` and analyse it as `generate_c` would generate it."""
    from toolkit.tflite.reader import read_tflite

    model = read_tflite(model_path)
    return analyze_model(model, fold, str(model_path))


def analyze_model(model: Model, fold: bool = True, source: str = "") -> Analysis:
    model, notes = fold_units(model) if fold else (model, [])
    plan = plan_memory(model)
    return Analysis(model, plan, op_infos(model, plan), source or model.source, notes)


def shapes(info: OpInfo) -> str:
    """"[1, 49, 10, 1] -> [1, 25, 5, 64]" for tables."""
    ins = " ".join(str(s).replace(" ", "") for s in info.inputs) or "-"
    return f"{ins} -> {str(info.output).replace(' ', '')}"
