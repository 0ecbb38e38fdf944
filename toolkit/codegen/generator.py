"""Turn the model IR into a dependency-free C99 pair: NAME.h and NAME.c.

Weights are `static const` arrays (flash). Intermediate tensors live in one static
arena at offsets fixed by the memory plan (memplan.py); the model's inputs and outputs
are the caller's buffers. Each op is emitted by its module (portable C) and, where a
fast path applies, by that path under its core family's condition (fast/__init__.py).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from toolkit.codegen.cfiles import C_TYPE, header_text, source_text
from toolkit.codegen.context import PATHS, CContext, family_of
from toolkit.codegen.fast import FAMILIES, emit_op
from toolkit.codegen.fold import fold_units
from toolkit.codegen.memplan import MemoryPlan, plan_memory
from toolkit.codegen.optimize import PORTABLE, Selection, select
from toolkit.errors import ToolkitError, UnsupportedModelError
from toolkit.fileio import atomic_write
from toolkit.ir import Model, Tensor

_IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*$")


@dataclass
class GeneratedC:
    name: str
    header: str
    source: str
    const_bytes: int  # bytes of constant arrays (weights, biases, multipliers) on cores with DSP
    arena_bytes: int  # bytes of static activation buffer
    model: Model
    const_bytes_by_path: dict[str, int] = field(default_factory=dict)  # "dsp", "portable"
    plan: MemoryPlan | None = None
    selection: Selection | None = None  # the speed/size choice per layer (optimize.py)
    # per fast-path family as built (fast.FAMILIES), and "" for the portable C alone
    const_bytes_by_family: dict[str, int] = field(default_factory=dict)

    def const_bytes_on(self, arch: str) -> int:
        """Constant bytes as a build for `arch` holds them (its fast paths' layouts)."""
        return self.const_bytes_by_family.get(family_of(arch) or "", self.const_bytes)


def _check(model: Model, name: str, sparse: str) -> None:
    from toolkit.codegen.sparse import MODES

    if sparse not in MODES:
        raise ToolkitError(f"sparse must be one of {', '.join(MODES)}, got '{sparse}'")
    if not _IDENT.match(name):
        raise ToolkitError(f"--name must be a C identifier, got '{name}'")
    if not model.ops:
        raise UnsupportedModelError(f"{model.source}: the model has no operators")
    for tensors, role in ((model.inputs, "input"), (model.outputs, "output")):
        for t in tensors:
            if t.dtype not in C_TYPE:
                raise UnsupportedModelError(f"{model.source}: model {role} '{t.name}' is {t.dtype}; supported: int8, float32")
        if len({t.dtype for t in tensors}) > 1:
            raise UnsupportedModelError(f"{model.source}: the model {role}s mix types "
                                        f"({', '.join(t.dtype for t in tensors)}); they are passed as one array")
    for op in model.ops:
        if op.output.dtype not in C_TYPE:
            raise UnsupportedModelError(f"{model.source}: tensor '{op.output.name}' ({op.kind}) is {op.output.dtype}; "
                                        "supported: int8, float32")


def offsets(tensors: list[Tensor]) -> list[int]:
    """Element offset of each model input (or output) in the concatenated array."""
    return [int(v) for v in np.cumsum([0] + [t.size for t in tensors])[:-1]]


class _Pointers:
    """The C expression of every tensor an op reads or writes."""

    def __init__(self, model: Model, plan: MemoryPlan, arena: str, ctx: CContext) -> None:
        self.model, self.plan, self.arena, self.ctx = model, plan, arena, ctx
        self.in_offsets, self.out_offsets = offsets(model.inputs), offsets(model.outputs)

    def __call__(self, t: Tensor, tag: str = "") -> str:
        ctype = C_TYPE[t.dtype] if t.dtype in C_TYPE else None
        if t.is_constant:
            if ctype is None:
                raise UnsupportedModelError(f"{self.model.source}: constant operand '{t.name}' is {t.dtype}")
            return self.ctx.const_array(tag or "operand", ctype, t.data)
        loc = self.plan.location(t)
        if loc.kind == "input":
            off = self.in_offsets[loc.index]
            return f"(in + {off})" if off else "in"
        if loc.kind == "output":
            off = self.out_offsets[loc.index]
            return f"(out + {off})" if off else "out"
        return f"(({ctype} *)&{self.arena}[{loc.offset // 4}])"

    def aligned(self, t: Tensor) -> bool:
        return not t.is_constant and self.plan.location(t).kind == "arena"


def generate_c(model: Model, name: str = "model", *, sparse: str = "auto", fold: bool = True,
               layer_markers: bool = False, optimize: str = "speed", flash_budget: int | None = None,
               arch: str = "cortex-m4", fixed_bytes: int = 0, explain: bool = False) -> GeneratedC:
    """C for `model`. sparse: "auto" (a sparse encoding where it is estimated to save both
    instructions and flash), "sparse" (wherever a layer has zero weights) or "dense".
    fold: remove units that pruning made constant or unused (exact; see fold.py).
    layer_markers: a TM_LAYER(i) marker before op i's code and TM_LAYER(number of ops) after
    the last, for per-layer profiles (cfiles.LAYER_MARKER); without them the C is unchanged.
    optimize: "speed" (each core family's fastest code) or "size" (per layer the variant
    with the fewest flash bytes); flash_budget: bytes of the whole firmware for `arch`, of
    which `fixed_bytes` are not the model's (toolkit/flashbudget.py measures them): per
    layer the fastest variant that keeps the estimate within it (optimize.py). The choice
    is in GeneratedC.selection and in model.h's operator notes; explain: estimate the
    layers' variants even when there is nothing to choose (speed, no budget)."""
    _check(model, name, sparse)
    model, fold_notes = fold_units(model) if fold else (model, [])  # pruned-away units, exactly
    plan = plan_memory(model)
    arena = f"{name}_arena"
    ctx = CContext(prefix=name, sparse=sparse)
    ctx.kernel("rom")  # TM_ROM: where constants live
    ptr = _Pointers(model, plan, arena, ctx)
    readers: dict[int, int] = {}
    for op in model.ops:
        for t in {id(t): t for t in op.inputs}.values():
            readers[id(t)] = readers.get(id(t), 0) + 1

    def prepare(i: int, ptr: _Pointers) -> tuple[list[str], str] | None:
        """Set ctx up for op i; its (sources, destination), None when it has no code."""
        op = model.ops[i]
        ctx.layer = i
        src_locs = [plan.location(t) for t in op.inputs if not t.is_constant]
        if op.aliases_input and src_locs and src_locs[0] == plan.location(op.output):
            return None
        srcs = [ptr(t, f"in{k}") for k, t in enumerate(op.inputs)]
        ctx.src_aligned = bool(op.inputs) and ptr.aligned(op.inputs[0])
        nxt = model.ops[i + 1] if i + 1 < len(model.ops) else None
        sole = readers.get(id(op.output), 0) == 1 and plan.location(op.output).kind == "arena"
        takes = nxt is not None and sole and nxt.inputs and nxt.inputs[0] is op.output and not nxt.aliases_input
        ctx.handoff.consumer = nxt if takes and same_path(i) else None
        ctx.scratch = f"((void *)&{arena}[{plan.scratch[i] // 4}])" if i in plan.scratch else ""
        return srcs, ptr(op.output)

    def same_path(i: int) -> bool:
        """Under a fixed choice a layer hands its outputs over in registers only to a layer
        that takes the same fast path (the hand-off is between two emissions of one path)."""
        return all(v == PORTABLE or ctx.variants.get((i + 1, f)) == v for (k, f), v in ctx.variants.items() if k == i)

    selection = select(model, ctx, lambda i: prepare(i, _Pointers(model, plan, arena, CContext(prefix=name))),
                       optimize, flash_budget, arch, fixed_bytes, explain)
    ctx.variants = selection.forced
    notes: list[str] = []
    for i, op in enumerate(model.ops):
        io = prepare(i, ptr)
        if io is None:
            notes.append("no code: the output shares the input's bytes")
            continue
        if layer_markers:
            ctx.stmt(f"TM_LAYER({i});")
        ctx.stmt(f"/* {i}: {op.describe()} */")
        ctx.notes = []
        taken = emit_op(op, ctx, *io)
        notes.append("; ".join(ctx.notes + taken + ([n] if (n := selection.note(i)) else [])))
    if layer_markers:
        ctx.stmt(f"TM_LAYER({len(model.ops)});")
    _copy_passthrough(model, ptr, ctx)
    ctx.notes = notes
    ctx.fold_notes = fold_notes

    header = header_text(model, name, ctx, plan)
    source = source_text(model, name, ctx, plan, layer_markers)
    by_path = {path: ctx.total_const_bytes(path) for path in PATHS}
    by_family = {family: ctx.const_bytes_for(family or None) for family in ("", *FAMILIES)}
    return GeneratedC(name, header, source, by_path["dsp"], plan.arena_bytes, model, by_path, plan, selection,
                      by_family)


def _copy_passthrough(model: Model, ptr: _Pointers, ctx: CContext) -> None:
    """A model output that is also a model input (an identity model) is copied."""
    for t in model.outputs:
        if any(t is x for x in model.inputs):
            k = model.outputs.index(t)
            dst = f"(out + {ptr.out_offsets[k]})"
            ctx.stmt(f"for (int i = 0; i < {t.size}; ++i) {dst}[i] = {ptr(t)}[i];")


def write_c(gen: GeneratedC, out_dir: str | Path) -> tuple[Path, Path]:
    out_dir = Path(out_dir)
    return (
        atomic_write(out_dir / f"{gen.name}.h", gen.header),
        atomic_write(out_dir / f"{gen.name}.c", gen.source),
    )
