"""FULLY_CONNECTED, int8, on ARMv7E-M with the DSP extension (Cortex-M4/M7/M33).

The weights are pre-scaled by 2^(1+L) and stored as int16 pairs in SXTB16 lane order
behind each row's bias (fc_layout.py), so one LDRD loads two words and one SMLAD does
two multiply-accumulates; the requantization is SMMULR, one add and SSAT (fc_requant.py).
Per layer one encoding (fc_sparse.py): dense (fc_dense.py), sparse rows written out, or
the portable sparse rows loop with its own arrays.

Not taken (the portable C of fc_portable.py then runs on these cores too, unless the
int8-weight path fc_int8.py takes the layer): a layer whose bounds fail the integer plan
(fc_plan.py: the general kernel), and a dense layer whose int16 layout would add more
than DSP_EXTRA_BYTES_MAX bytes of flash over the int8 one (unless a flash budget decides:
ctx.flash_guard, toolkit/codegen/optimize.py). Between the two DSP paths the
registry picks the lower estimate; this one's streamed-input and sparse-rows estimates
are the measured ones (the sparse policy's own are tuned to compare encodings).

Register hand-off (`ctx.handoff`): when this layer is cheap to unroll (one or two input
words, at most 16 rows) and the next int8 layer holds its whole input in registers
anyway, the int8 round trip through the arena (STRB, LDRD, SXTB16) is skipped at the
price of unrolled rows. This layer then decides the next one's encoding (a dense one
takes the registers) and passes it with the variables' names; the next layer's DSP code
reads them, its portable code still reads the arena.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from toolkit.codegen.fast import FastPath, register
from toolkit.codegen.fast.dsp.fc_dense import dsp_dense
from toolkit.codegen.fast.dsp.fc_layout import XR_MAX_WORDS, unroll
from toolkit.codegen.fast.dsp.fc_sparse import choose_dsp, dsp_rows_instructions, dsp_sparse
from toolkit.codegen.fc_plan import DSP_EXTRA_BYTES_MAX, Int8Plan, dsp_extra_bytes, plan_int8
from toolkit.codegen.fc_portable import portable_sparse
from toolkit.codegen.sparse import Cost, choose_portable

if TYPE_CHECKING:
    from toolkit.codegen.context import CContext


@dataclass(frozen=True)
class _Choice:
    plan: Int8Plan
    encoding: str  # "dense", "unrolled" or "rows" (fc_sparse.choose_dsp)
    cost: Cost
    fused_in: tuple[str, ...]  # the input words, handed over in these variables


def _choose(op: Any, ctx: "CContext") -> _Choice | None:
    if op.input.dtype != "int8":
        return None
    plan = plan_int8(op)
    if not plan.fast:
        return None
    passed = ctx.handoff.peek(op)  # the previous layer decided the encoding with the hand-off's cost
    encoding, cost = passed.decision if passed is not None else choose_dsp(plan, ctx.sparse)
    fused_in = passed.names if passed is not None else ()
    if (encoding == "dense" and not fused_in and choose_portable(plan, ctx.sparse) == "dense"
            and ctx.flash_guard and dsp_extra_bytes(plan) > DSP_EXTRA_BYTES_MAX):
        return None  # int16 weights would cost too much flash: the int8 layout on every core
    return _Choice(plan, encoding, cost, fused_in)


def _applicable(op: Any, ctx: "CContext") -> bool:
    return _choose(op, ctx) is not None


def _cost(op: Any, ctx: "CContext") -> float:
    choice = _choose(op, ctx)
    if choice is None:
        return float("inf")
    words = (choice.plan.in_n + 1) // 2
    if choice.encoding == "dense" and not choice.fused_in and not (words <= XR_MAX_WORDS and choice.plan.out_n > 1):
        # streamed input, as measured on the M4 (against the int8-weight path, fc_int8.py):
        # per word of two inputs about 4.2 instructions, per row 12
        return choice.plan.out_n * (4.2 * words + 12)
    if choice.encoding == "rows":
        return dsp_rows_instructions(choice.plan)
    return choice.cost.instructions


def _emit(op: Any, ctx: "CContext", srcs: list[str], dst: str) -> None:
    choice = _choose(op, ctx)
    assert choice is not None, "emitted without being applicable"
    ctx.handoff.take(op)
    plan, src = choice.plan, srcs[0]
    fuse_out = None
    nxt = _next_int8(plan, ctx) if choice.encoding == "dense" and dsp_extra_bytes(plan) <= DSP_EXTRA_BYTES_MAX else None
    if nxt is not None:
        # decide the next layer's encoding now: a dense one takes this layer's outputs in registers
        nplan, fusion = nxt
        decision = choose_dsp(nplan, ctx.sparse, fusion)
        names: list[str] = []
        if decision[0] == "dense":
            fuse_out = f"l{ctx.layer}_y"
            names = [f"{fuse_out}{k}" for k in range((plan.out_n + 1) // 2)]
        ctx.handoff.give(names, decision)
    fused_in = list(choice.fused_in) or None
    if choice.encoding == "dense":
        lines, note = dsp_dense(plan, ctx, src, dst, fused_in, fuse_out)
    elif choice.encoding == "rows":
        lines, note = portable_sparse(plan, ctx, src, dst, path="dsp")
    else:
        lines, note = dsp_sparse(plan, ctx, src, dst, fused_in)
    ctx.stmts(lines)
    ctx.notes.append(f"M4/M7/M33: {note}")


def _next_int8(plan: Int8Plan, ctx: "CContext") -> tuple[Int8Plan, Cost] | None:
    """(plan of the next layer, cost change of the hand-off) when this layer could keep its
    outputs in registers for it, else None."""
    nxt: Any = ctx.handoff.consumer
    if nxt is None or getattr(nxt, "kind", "") != "FULLY_CONNECTED" or nxt.input.dtype != "int8":
        return None
    words = (plan.in_n + 1) // 2
    if words > 2 or plan.out_n > 16 or nxt.in_features != plan.out_n:
        return None
    nplan = plan_int8(nxt)
    nwords = (nplan.in_n + 1) // 2
    if not (nplan.fast and nwords <= XR_MAX_WORDS and nplan.out_n > 1):
        return None
    loads = (1 + words + 1) // 2 + (0 if plan.per_tensor else 1)
    row_code = 4 * (loads + words + 3) + 2
    u = unroll(plan.out_n, loads + words + 5)
    instructions = -(plan.out_n * (1 + 2 / u)) + plan.out_n / 2 - (nwords + (nwords + 1) // 2)
    nbytes = (plan.out_n - u) * row_code + 2 * plan.out_n - 6 * nwords
    return nplan, Cost(instructions, nbytes)


PATH = register(FastPath("FULLY_CONNECTED", "dsp", "int16 weight pairs, SMLAD", _applicable, _cost, _emit))
