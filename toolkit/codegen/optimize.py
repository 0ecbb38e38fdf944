"""Speed or size, within a flash budget: which code each layer gets on a core family.

Per layer and core family the variants are that family's applicable fast paths
(fast/__init__.py) and the op's portable C, each with an estimate of its instructions per
inference (FastPath.cost; for the portable C `portable_instructions`) and of its flash
bytes (FastPath.size, or the constants and code of a trial emission, flash.py).

- "speed" without a budget: each family's cheapest fast path (fast.choose); nothing is
  fixed and the C is the same as without this module.
- "size": per layer and family the variant with the fewest bytes (ties: fewer
  instructions). Every variant is bit-exact, so the outputs do not change.
- a budget (bytes of the whole firmware for one core, `arch`): start from the speed choice
  (with the int16-pair FULLY_CONNECTED layout allowed at any size, ctx.flash_guard off);
  while the estimated firmware (the fixed part, flashbudget.py, plus the model's
  constants and code) exceeds the budget, switch the layer with the fewest instructions
  lost per byte saved to its next smaller variant. If even the smallest variants do not
  fit, ToolkitError says by how much.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from toolkit.codegen.context import CContext, family_of  # noqa: F401 -- family_of: this module's API too
from toolkit.codegen.fast import FAMILIES, FastPath, candidates
from toolkit.codegen.flash import MODEL_BASE_BYTES, shared_bytes, trial
from toolkit.errors import ToolkitError

if TYPE_CHECKING:
    from toolkit.ir import Model

GOALS = ("speed", "size")  # also in toolkit/commands/flashopts.py
PORTABLE = "portable"


def portable_instructions(op: Any) -> float:
    """Instructions per inference of the portable C: the estimate of the sparse policy for
    int8 FULLY_CONNECTED, else about 8 per MAC (or per input value, for ops without MACs:
    pooling, elementwise) and 6 per output value (the portable kernels take 5-30 per MAC
    on the cores measured)."""
    if op.kind == "FULLY_CONNECTED" and op.input.dtype == "int8":
        from toolkit.codegen.fc_plan import plan_int8
        from toolkit.codegen.sparse import choose_portable, portable_costs

        plan = plan_int8(op)
        if plan.fast:
            dense, rows = portable_costs(plan)
            return (dense if choose_portable(plan, "auto") == "dense" else rows).instructions
    values = sum(t.size for t in op.inputs if not t.is_constant)
    return 8.0 * max(op.macs, values) + 6.0 * op.output.size


@dataclass
class Variant:
    name: str  # a FastPath's name, or PORTABLE
    instructions: float
    nbytes: float
    shared: dict[str, tuple[str, int]] = field(default_factory=dict)  # code layers may share (flash.Trial)
    const_bytes: int = 0
    stmt_lines: int = 0


@dataclass
class LayerChoice:
    layer: int
    op: Any
    family: str | None
    variants: list[Variant]
    chosen: int

    @property
    def variant(self) -> Variant:
        return self.variants[self.chosen]


@dataclass
class Selection:
    """What the generator chose per layer for the family of `arch` (the report)."""

    optimize: str
    arch: str
    family: str | None
    budget: int | None
    fixed_bytes: int
    layers: list[LayerChoice]
    forced: dict[tuple[int, str], str]  # ctx.variants

    @property
    def estimate(self) -> int:
        return self.fixed_bytes + model_bytes([c for c in self.layers if c.family == self.family])

    def note(self, layer: int) -> str:
        c = next((c for c in self.layers if c.layer == layer and c.family == self.family), None)
        if c is None or (self.optimize == "speed" and self.budget is None):
            return ""
        v = c.variant
        goal = self.optimize + (f", flash budget {self.budget:,} B" if self.budget is not None else "")
        return (f"{goal}: {v.name} on {self.arch} (est. {v.instructions:,.0f} instructions, "
                f"{v.nbytes:,.0f} B)")

    def rows(self) -> list[list]:
        return [[c.layer, c.op.kind, c.variant.name, round(c.variant.instructions), round(c.variant.nbytes)]
                for c in self.layers if c.family == self.family]


def model_bytes(layers: list[LayerChoice]) -> int:
    """The model's estimated flash: each layer's own bytes, the code layers share once."""
    shared: dict[str, tuple[str, int]] = {}
    for c in layers:
        shared.update(c.variant.shared)
    own = sum(c.variant.nbytes - sum(shared_bytes(*v) for v in c.variant.shared.values()) for c in layers)
    return round(MODEL_BASE_BYTES + own + sum(shared_bytes(*v) for v in shared.values()))


def _variants(op: Any, ctx: CContext, family: str | None, srcs: list[str], dst: str) -> tuple[list[Variant], int]:
    """The variants sorted by instructions, and the index of the speed choice."""
    out = []
    paths: list[FastPath] = candidates(op, family, ctx) if family is not None else []
    for p in paths:
        if p.size is not None:  # the path's own estimate, all of it this layer's
            out.append(Variant(p.name, float(p.cost(op, ctx)), float(p.size(op, ctx))))
            continue
        t = trial(op, ctx, family or PORTABLE, p, srcs, dst)
        out.append(Variant(p.name, float(p.cost(op, ctx)), t.nbytes, t.shared, t.const_bytes, t.stmt_lines))
    t = trial(op, ctx, family or PORTABLE, None, srcs, dst)
    out.append(Variant(PORTABLE, portable_instructions(op), t.nbytes, t.shared, t.const_bytes, t.stmt_lines))
    speed = min(range(len(paths)), key=lambda k: out[k].instructions) if paths else len(out) - 1
    order = sorted(range(len(out)), key=lambda k: (out[k].instructions, out[k].nbytes))
    return [out[k] for k in order], order.index(speed)


def select(model: "Model", ctx: CContext, prepare: Callable[[int], tuple[list[str], str] | None],
           optimize: str, budget: int | None, arch: str, fixed_bytes: int, explain: bool = False) -> Selection:
    """The variant of every layer on every family; `prepare(i)` sets ctx up for op i (as the
    generator does) and returns its (srcs, dst), None when op i has no code. Speed without
    a budget fixes nothing and, unless `explain`, estimates nothing."""
    if optimize not in GOALS:
        raise ToolkitError(f"optimize must be one of {', '.join(GOALS)}, got '{optimize}'")
    if budget is not None and budget <= 0:
        raise ToolkitError(f"the flash budget must be a positive number of bytes, got {budget}")
    if optimize == "speed" and budget is None and not explain:
        return Selection(optimize, arch, family_of(arch), budget, fixed_bytes, [], {})
    target = family_of(arch)
    ctx.flash_guard = not (budget is not None and target == "dsp")
    families: list[str | None] = list(FAMILIES)
    if target is None:
        families.append(None)
    layers: list[LayerChoice] = []
    for i, op in enumerate(model.ops):
        io = prepare(i)
        if io is None:
            continue
        for family in families:
            if family is not None and family != target and optimize == "speed":
                continue  # other families keep their speed choice
            variants, speed = _variants(op, ctx, family, *io)
            chosen = speed
            if optimize == "size":
                chosen = min(range(len(variants)), key=lambda k: (variants[k].nbytes, variants[k].instructions))
            layers.append(LayerChoice(i, op, family, variants, chosen))
    ctx.handoff.consumer = None
    sel = Selection(optimize, arch, target, budget, fixed_bytes, layers, {})
    if budget is not None:
        _fit(sel)
    sel.forced = {(c.layer, c.family): c.variant.name for c in layers
                  if c.family is not None and (optimize != "speed" or budget is not None)}
    return sel


def _fit(sel: Selection) -> None:
    """Switch layers to smaller variants, fewest instructions lost per byte saved first. The
    bytes saved are the model's (code shared with other layers stays until its last user
    switches); when no single switch saves any, a layer's own bytes decide."""
    assert sel.budget is not None
    mine = [c for c in sel.layers if c.family == sel.family]
    while (total := sel.estimate) > sel.budget:
        best: tuple[bool, float, LayerChoice, int] | None = None
        for c in mine:
            cur, was = c.variant, c.chosen
            smaller = [k for k, v in enumerate(c.variants) if v.nbytes < cur.nbytes]
            if not smaller:
                continue
            k = max(smaller, key=lambda k: (c.variants[k].nbytes, -c.variants[k].instructions))
            c.chosen = k
            saved = total - sel.estimate
            c.chosen = was
            own = cur.nbytes - c.variants[k].nbytes
            lost = c.variants[k].instructions - cur.instructions
            key = (saved <= 0, lost / (saved if saved > 0 else own))
            if best is None or key < best[:2]:
                best = (*key, c, k)
        if best is None:
            over = total - sel.budget
            raise ToolkitError(f"the model does not fit a flash budget of {sel.budget:,} B on {sel.arch}: even its "
                               f"smallest code is estimated at {total:,} B ({over:,} B over; the firmware's "
                               f"fixed part is {sel.fixed_bytes:,} B)")
        best[2].chosen = best[3]
    _regain(sel, mine)


def _regain(sel: Selection, mine: list[LayerChoice]) -> None:
    """After the switches, take back the faster variants that still fit (most instructions
    regained per byte added first): a switch that freed code shared with other layers may
    have made earlier ones unnecessary."""
    assert sel.budget is not None
    while True:
        total, best = sel.estimate, None
        for c in mine:
            was = c.chosen
            for k, v in enumerate(c.variants):
                if v.instructions >= c.variants[was].instructions:
                    continue
                c.chosen = k
                added, fits = sel.estimate - total, sel.estimate <= sel.budget
                c.chosen = was
                if fits:
                    key = (c.variants[was].instructions - v.instructions) / max(added, 1)
                    if best is None or key > best[0]:
                        best = (key, c, k)
        if best is None:
            return
        best[1].chosen = best[2]
