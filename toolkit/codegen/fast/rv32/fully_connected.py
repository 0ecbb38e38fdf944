"""FULLY_CONNECTED, int8, on RV32IMC: eight rows per pass of the multiply-accumulate
kernel (mac.py) over the input in place, then per row the portable C's requantization
(MUL/MULH). Not taken: batches, bounds that fail the integer plan (fc_plan.py), inputs
that are not a multiple of mac.UNROLL (the kernel would read past the input), short
rows or fewer than 4 rows (the portable C is faster there), pruned layers the sparse
policy encodes.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from toolkit.codegen.fast import FAMILIES, FastPath, register
from toolkit.codegen.fast.rv32 import mac
from toolkit.codegen.fc_plan import Int8Plan, plan_int8
from toolkit.codegen.fc_portable import UNROLL_PORTABLE_MAX, portable_channel_arrays
from toolkit.codegen.requant_c import portable_requant
from toolkit.codegen.sparse import choose_portable
from toolkit.ops.conv2d import indent_c

if TYPE_CHECKING:
    from toolkit.codegen.context import CContext

GUARD = FAMILIES["rv32"]


def _plan(op: Any, sparse: str = "auto") -> Int8Plan | None:
    if op.kind != "FULLY_CONNECTED" or op.input.dtype != "int8":
        return None
    plan = plan_int8(op)
    # rows of up to UNROLL_PORTABLE_MAX inputs: the portable C writes them out; fewer than
    # half a block of rows: mostly padding; pruned weights the sparse policy encodes: its
    # sparse rows skip the zeros
    if not plan.fast or plan.in_n % mac.UNROLL or plan.in_n <= UNROLL_PORTABLE_MAX or 2 * plan.out_n < mac.ROWS:
        return None
    return plan if choose_portable(plan, sparse) == "dense" else None


def _applicable(op: Any, ctx: "CContext") -> bool:
    return _plan(op, ctx.sparse) is not None


def scratch_bytes(op: Any) -> int:
    plan = _plan(op)
    return 0 if plan is None else mac.scratch_accs(plan.out_n)


def _cost(op: Any, ctx: "CContext") -> float:
    plan = _plan(op)
    if plan is None:
        return float("inf")
    return float(mac.blocks(plan.out_n) * (plan.in_n // mac.UNROLL * 103 + 20) + 20 * plan.out_n)


def _emit(op: Any, ctx: "CContext", srcs: list[str], dst: str) -> None:
    plan = _plan(op, ctx.sparse)
    assert plan is not None, "emitted without being applicable"
    fn = ctx.function("dotrv", mac.dot_function(plan.in_n), GUARD)
    w = ctx.const_array("wrv", "int8_t", mac.stream(plan.weights), path="rv32")
    bias = ctx.const_array("brv", "int32_t", plan.bias, path="rv32")
    channel = portable_channel_arrays(plan, ctx, "rv32")
    row = [f"const int32_t acc = (int32_t)((uint32_t)accs[j] + (uint32_t){bias}[o]);",
           *portable_requant(plan, "acc", channel), "y[o] = (int8_t)v;"]
    lines = [f"int8_t *y = {dst};", f"int32_t *accs = (int32_t *){ctx.scratch};",
             *mac.calls_c(fn, srcs[0], w, plan.in_n, plan.out_n, row)]
    ctx.stmts(["{", *indent_c(lines), "}"])
    ctx.notes.append(f"RV32: {mac.ROWS} rows per pass, {fn}")


PATH = register(FastPath("FULLY_CONNECTED", "rv32", "8 rows per pass, LB/MUL", _applicable, _cost, _emit,
                         scratch_bytes))
