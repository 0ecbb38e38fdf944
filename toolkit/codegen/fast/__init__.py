"""Fast paths: per core family, faster C for an op than its portable emitter.

The portable C of an op (its module's `emit_c`) is the one that runs everywhere. A fast
path is registered under (op kind, family) with
- `applicable(op, ctx)`: whether it can compute this op exactly (shapes, quantization,
  bounds) and is worth it under the generation's settings (ctx.sparse, ctx.handoff),
- `cost(op, ctx)`: estimated instructions per inference, to pick among applicable ones,
- `emit(op, ctx, srcs, dst)`: C statements, appended to `ctx` like `Op.emit_c`,
- `size(op, ctx)` (optional): estimated flash bytes, constants and code; by default a
  trial emission measures them (toolkit/codegen/flash.py). The speed/size choice under a
  flash budget weighs `cost` against it (toolkit/codegen/optimize.py; ctx.variants).
The generator emits, per op, the cheapest applicable path of each family under that
family's preprocessor condition, and the portable C under `#else`: one C file serves
every core. While a branch is emitted `ctx.branch` names it (the family, or "portable"),
so that each branch's constant arrays can go under it. Each fast path is tested bit for
bit against the op's numpy reference on the cores of its family. Fast paths live in
`toolkit/codegen/fast/<family>/<op>.py`.
"""

from __future__ import annotations

import importlib
import pkgutil
from dataclasses import dataclass
from typing import TYPE_CHECKING, Callable

if TYPE_CHECKING:
    from toolkit.codegen.context import CContext
    from toolkit.ops.base import Op

# family -> the preprocessor condition that selects it (first match wins, in this order)
FAMILIES: dict[str, str] = {
    "dsp": "TM_DSP",  # ARMv7E-M with the DSP extension: Cortex-M4/M7/M33 (kernels/dsp.c)
    "armv6m": "defined(__ARM_ARCH_6M__)",  # Cortex-M0/M0+ (RP2040): no 32x32->64 multiply
    "rv32": "defined(__riscv)",  # RV32IMC
    "avr": "defined(__AVR__)",  # 8-bit AVR: constants in program memory
}


@dataclass(frozen=True)
class FastPath:
    op: str  # TFLite builtin name
    family: str  # a key of FAMILIES
    name: str  # shown in model.h: what the path does
    applicable: Callable[["Op", "CContext"], bool]
    cost: Callable[["Op", "CContext"], float]
    emit: Callable[["Op", "CContext", list[str], str], None]
    # arena scratch the path needs beyond the op's own (Op.scratch_bytes); 0 when not applicable
    scratch: Callable[["Op"], int] | None = None
    # estimated flash bytes (constants + code) of the path's code for the op on its cores;
    # None: measured from a trial emission (toolkit/codegen/flash.py), which suits most paths
    size: Callable[["Op", "CContext"], float] | None = None


REGISTRY: dict[tuple[str, str], list[FastPath]] = {}


def register(path: FastPath) -> FastPath:
    if path.family not in FAMILIES:
        raise ValueError(f"unknown family {path.family}")
    REGISTRY.setdefault((path.op, path.family), []).append(path)
    return path


def candidates(op: "Op", family: str, ctx: "CContext") -> list[FastPath]:
    """The paths of `family` that can compute `op` under ctx's settings."""
    return [p for p in REGISTRY.get((op.kind, family), []) if p.applicable(op, ctx)]


def choose(op: "Op", family: str, ctx: "CContext") -> FastPath | None:
    """The cheapest applicable path, or the one the speed/size choice fixed for this
    layer (ctx.variants, toolkit/codegen/optimize.py; "portable": none)."""
    paths = candidates(op, family, ctx)
    forced = ctx.variants.get((ctx.layer, family))
    if forced is not None:
        return next((p for p in paths if p.name == forced), None)
    return min(paths, key=lambda p: p.cost(op, ctx), default=None)


def scratch_bytes(op: "Op") -> int:
    """The most arena scratch any fast path of `op` may use (the memory plan reserves it)."""
    return max((p.scratch(op) for paths in (REGISTRY.get((op.kind, f), []) for f in FAMILIES)
                for p in paths if p.scratch is not None), default=0)


def emit_op(op: "Op", ctx: "CContext", srcs: list[str], dst: str) -> list[str]:
    """Append the C of `op` to ctx: fast paths under their conditions, portable C under
    #else. Returns the names of the fast paths taken."""
    chosen = [(family, p) for family in FAMILIES if (p := choose(op, family, ctx)) is not None]
    if not chosen:
        op.emit_c(ctx, srcs, dst)
        return []
    branches = []
    for family, path in chosen:
        with ctx.capture(family) as lines:
            ctx.kernel("dsp")  # TM_DSP's definition
            path.emit(op, ctx, srcs, dst)
        branches.append((FAMILIES[family], lines))
    with ctx.capture("portable") as portable:
        ctx.branch_guard = f"!({' || '.join(cond for cond, _ in branches)})"
        ctx.branch_families = tuple(family for family, _ in chosen)
        try:
            op.emit_c(ctx, srcs, dst)
        finally:
            ctx.branch_guard, ctx.branch_families = None, ()
    for k, (cond, lines) in enumerate(branches):
        ctx.stmt(f"#{'if' if k == 0 else 'elif'} {cond}")
        ctx.stmts(lines)
    ctx.stmts(["#else", *portable, "#endif"])
    return [f"{family}: {path.name}" for family, path in chosen]


def _discover() -> None:
    """Import every fast-path module (toolkit/codegen/fast/<family>/<op>.py): each registers itself."""
    for family in FAMILIES:
        try:
            package = importlib.import_module(f"{__name__}.{family}")
        except ModuleNotFoundError:
            continue
        for info in pkgutil.iter_modules(package.__path__):
            importlib.import_module(f"{package.__name__}.{info.name}")


_discover()
